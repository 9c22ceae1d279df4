//! Telemetry: metrics, per-client aggregates (the client-behaviour dataset), the live
//! connection registry, recent errors and the per-request log line.
//!
//! One [`Telemetry`] per process, cheap to clone. It is the engine's
//! [`mcp_engine::observe::Observer`]: `Engine::dispatch` brackets every request of every
//! era and transport with `begin` / `end`, and the session driver and transports report
//! what only they see (sessions, streams, `DELETE`, resumption) through the other hooks.
//! Integrations record their upstream calls, caches and quotas here directly; the
//! binary serves [`http::routes`] (`/metrics`, `/api`, `/dashboard`) beside the endpoint.
//!
//! Hot-path rules: recording is a few relaxed atomic operations on preallocated arrays
//! (see [`metrics`]); the client's slot is found with one read lock on one shard; no lock
//! is held across an await; label sets are bounded (methods from a fixed list, tools and
//! clients capped, everything beyond → `other`). With metrics off, `begin` returns `None`
//! unless the request log is enabled, and nothing else is recorded.
//!
//! Privacy: no IP address, token or user name is recorded anywhere. The request log names
//! the caller only by a salted hash of its (already hashed) identity.

pub mod clients;
pub mod clock;
pub mod connections;
pub mod errors;
pub mod http;
pub mod metrics;

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use sha2::{Digest, Sha256};

use clients::{era_index, transport_index, version_bit, Clients, ERAS, TRANSPORTS};
pub use clients::{flag, ClientRecord};
use clock::clock;
use connections::{Connections, END_REASONS, STREAM_KINDS};
use errors::{truncate, ErrorRecord, ErrorRing, MAX_MESSAGE};
use mcp_engine::jsonrpc::McpError;
use mcp_engine::method::Method;
use mcp_engine::notify::ChangeEvent;
use mcp_engine::observe::{
    Behaviour, EndReason, Observer, Outcome, Probe, RequestEnd, Seen, StreamGuard, StreamKind, ToolNote,
};
use mcp_engine::protocol::{Era, RequestInfo, Transport};
use metrics::{counters, histograms, Encoder, HistSnapshot, Histogram, LabelSet};

/// Method label values, in [`Method`] table order (unknown methods are `other`).
pub const METHODS: [&str; Method::COUNT] = {
    let mut names = [""; Method::COUNT];
    let mut i = 0;
    while i < Method::COUNT {
        names[i] = mcp_engine::method::SPECS[i].name;
        i += 1;
    }
    names
};
const NM: usize = Method::COUNT;
const NE: usize = 2;
const NT: usize = 3;

pub const OUTCOMES: &[&str] = &["ok", "error", "input_required"];
const NO: usize = 3;

/// Outcomes of a tool call.
pub const TOOL_OUTCOMES: &[&str] = &["ok", "tool_error", "error", "input_required"];

/// `error`: a failure without a finer class (e.g. a proxied Space call that ended in an error).
pub const UPSTREAM_OUTCOMES: &[&str] =
    &["ok", "client_error", "rate_limited", "server_error", "timeout", "network", "error"];

const LIST_CHANGE_KINDS: &[&str] = &["tools", "prompts", "resources"];
/// A `*/list` this soon after a list-changed notification counts as a re-list.
const RELIST_WINDOW_MS: u64 = 120_000;

/// Writes the client dataset as Parquet (provided by the binary; the engine has no
/// Parquet dependency).
pub type Exporter = Arc<dyn Fn(&[ClientRecord]) -> Result<Vec<u8>, String> + Send + Sync>;

/// One finished request, as the log line and any extra sink see it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RequestRecord<'a> {
    pub method: &'static str,
    pub era: &'static str,
    pub transport: &'static str,
    pub client: &'a str,
    pub protocol_version: &'a str,
    pub duration_us: u64,
    pub outcome: &'static str,
    pub code: Option<i32>,
    pub tool: Option<&'a str>,
    /// Salted hash of the caller's identity; `anonymous` without one.
    pub user: &'a str,
}

/// Somewhere else request records go (a future external sink).
pub trait RequestSink: Send + Sync {
    fn record(&self, record: &RequestRecord<'_>);
}

/// Telemetry settings.
#[derive(Clone)]
pub struct TelemetryConfig {
    /// Record metrics, client aggregates, connections and errors. Off: only the request
    /// log (when its level is enabled).
    pub enabled: bool,
    /// Client implementations tracked individually; the rest are `other`.
    pub max_clients: usize,
    /// Tool names with their own label value; the rest are `other`.
    pub max_tools: usize,
    /// Cache names and quota reasons with their own label value.
    pub max_labels: usize,
    /// Recent errors kept for the dashboard.
    pub error_ring: usize,
    /// Salt of the user hash in request logs; random per process when `None`.
    pub log_salt: Option<Vec<u8>>,
    /// Protects the dashboard, the JSON API and `/metrics` (HTTP Basic, any user name, or
    /// `Authorization: Bearer`).
    pub password: Option<String>,
    /// Parquet writer for `/api/clients/export?format=parquet`.
    pub parquet: Option<Exporter>,
    pub sinks: Vec<Arc<dyn RequestSink>>,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        TelemetryConfig {
            enabled: true,
            max_clients: 1024,
            max_tools: 64,
            max_labels: 16,
            error_ring: 200,
            log_salt: None,
            password: None,
            parquet: None,
            sinks: Vec::new(),
        }
    }
}

impl std::fmt::Debug for TelemetryConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TelemetryConfig")
            .field("enabled", &self.enabled)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

/// The telemetry handle. Cheap to clone.
#[derive(Clone)]
pub struct Telemetry {
    inner: Arc<Inner>,
}

struct Inner {
    enabled: bool,
    started: Instant,
    /// `clock()` tick at `started`.
    started_tick: u64,
    started_unix_ms: u64,
    requests: Box<[AtomicU64]>,
    latency: Box<[Histogram]>,
    tools: LabelSet,
    tool_calls: Box<[AtomicU64]>,
    tool_latency: Box<[Histogram]>,
    list_changed: [AtomicU64; 3],
    resource_updated: AtomicU64,
    /// Upstream services, named by the integration (bounded like caches).
    services: LabelSet,
    upstream: Box<[AtomicU64]>,
    upstream_latency: Box<[Histogram]>,
    caches: LabelSet,
    cache_lookups: Box<[AtomicU64]>,
    quotas: LabelSet,
    quota_rejections: Box<[AtomicU64]>,
    /// [era][sent, answered]
    input: [AtomicU64; 4],
    clients: Clients,
    connections: Connections,
    errors: ErrorRing,
    salt: Vec<u8>,
    password: Option<[u8; 32]>,
    parquet: Option<Exporter>,
    sinks: Vec<Arc<dyn RequestSink>>,
}

/// [`Probe::flags`] bits.
const RECORD: u8 = 1;
/// `begin` already recorded the client's request, version and capabilities.
const SEEN: u8 = 2;

impl Default for Telemetry {
    fn default() -> Self {
        Telemetry::new(TelemetryConfig::default())
    }
}

pub fn unix_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

impl Telemetry {
    pub fn new(config: TelemetryConfig) -> Self {
        let tools = LabelSet::new(config.max_tools.max(1));
        let caches = LabelSet::new(config.max_labels.max(1));
        let quotas = LabelSet::new(config.max_labels.max(1));
        let services = LabelSet::new(config.max_labels.max(1));
        let salt = config.log_salt.clone().unwrap_or_else(|| rand::random::<[u8; 32]>().to_vec());
        let inner = Inner {
            enabled: config.enabled,
            started: Instant::now(),
            started_tick: clock().now(),
            started_unix_ms: unix_ms(),
            requests: counters(NM * NE * NT * NO),
            latency: histograms(NM * NE * NT),
            tool_calls: counters(tools.slots() * TOOL_OUTCOMES.len()),
            tool_latency: histograms(tools.slots()),
            tools,
            list_changed: Default::default(),
            resource_updated: AtomicU64::new(0),
            upstream: counters(services.slots() * UPSTREAM_OUTCOMES.len()),
            upstream_latency: histograms(services.slots()),
            services,
            cache_lookups: counters(caches.slots() * 2),
            caches,
            quota_rejections: counters(quotas.slots()),
            quotas,
            input: Default::default(),
            clients: Clients::new(config.max_clients),
            connections: Connections::default(),
            errors: ErrorRing::new(config.error_ring),
            salt,
            password: config.password.as_deref().filter(|p| !p.is_empty()).map(|p| Sha256::digest(p.as_bytes()).into()),
            parquet: config.parquet.clone(),
            sinks: config.sinks.clone(),
        };
        Telemetry { inner: Arc::new(inner) }
    }

    /// Telemetry that records nothing (the request log still works).
    pub fn disabled() -> Self {
        Telemetry::new(TelemetryConfig { enabled: false, max_tools: 1, ..TelemetryConfig::default() })
    }

    pub fn enabled(&self) -> bool {
        self.inner.enabled
    }

    pub(crate) fn connections(&self) -> &Connections {
        &self.inner.connections
    }

    /// Unix milliseconds of a clock tick (no clock read beyond the tick itself).
    fn ms_at(&self, tick: u64) -> u64 {
        self.inner.started_unix_ms + clock().ns_between(self.inner.started_tick, tick) / 1_000_000
    }

    pub fn now_ms(&self) -> u64 {
        self.ms_at(clock().now())
    }

    pub fn uptime(&self) -> Duration {
        self.inner.started.elapsed()
    }

    pub fn started_unix_ms(&self) -> u64 {
        self.inner.started_unix_ms
    }

    fn log_enabled(&self) -> bool {
        tracing::enabled!(target: "mcp::request", tracing::Level::INFO) || !self.inner.sinks.is_empty()
    }

    // ----- requests ----------------------------------------------------------------------

    /// Start measuring a request that `Engine::dispatch` serves.
    #[inline]
    pub fn begin(&self, method: Method, info: &RequestInfo) -> Option<Probe> {
        let mut probe = self.begin_with(method, info.era, info.transport, info.client_info.as_ref())?;
        if probe.flags & RECORD != 0 {
            // The client's version and capabilities now, so that `end` needs no `RequestInfo`
            // unless the request log wants one.
            let now_ms = self.ms_at(probe.start);
            let client = self.inner.clients.entry(probe.client);
            client.seen(
                now_ms,
                info.era,
                info.transport,
                version_bit(&info.protocol_version),
                Some(&info.client_capabilities),
            );
            probe.flags |= SEEN;
        }
        Some(probe)
    }

    /// Does `end` want the request's `RequestInfo` (for the log line)?
    pub fn wants_info(&self, probe: &Probe) -> bool {
        probe.wants_info
    }

    /// Start measuring a request a transport answers itself (`initialize`, session ops,
    /// requests rejected before dispatch).
    #[inline]
    pub fn begin_with(
        &self,
        method: Method,
        era: Era,
        transport: Transport,
        client_info: Option<&Value>,
    ) -> Option<Probe> {
        let record = self.inner.enabled;
        let log = self.log_enabled();
        if !record && !log {
            return None;
        }
        Some(Probe {
            start: clock().now(),
            method,
            era,
            transport,
            client: self.inner.clients.slot_of(client_info),
            flags: if record { RECORD } else { 0 },
            wants_info: log,
        })
    }

    /// The client slot of a probe (for behaviour flags).
    pub fn probe_client(&self, probe: &Probe) -> u32 {
        probe.client
    }

    /// Finish a request: counters, latency, the client's aggregates, errors, the log line.
    pub fn end(
        &self,
        probe: Probe,
        info: Option<&RequestInfo>,
        outcome: Outcome,
        error: Option<&McpError>,
        tool: Option<&ToolNote<'_>>,
    ) {
        let seen = match info {
            Some(i) => Seen {
                protocol_version: &i.protocol_version,
                capabilities: Some(&i.client_capabilities),
                caller: i.caller.id.as_deref(),
            },
            None => Seen::default(),
        };
        self.end_with(probe, seen, outcome, error, tool)
    }

    /// Point a probe at the client (when it is known only after the request is parsed).
    pub fn set_probe_client(&self, probe: &mut Option<Probe>, client_info: Option<&Value>) {
        if let Some(p) = probe {
            p.client = self.inner.clients.slot_of(client_info);
        }
    }

    /// Finish a request answered by a transport itself (`initialize`, session ops).
    pub fn finish(&self, probe: Option<Probe>, seen: Seen<'_>, error: Option<&McpError>) {
        if let Some(p) = probe {
            let outcome = if error.is_some() { Outcome::Error } else { Outcome::Ok };
            self.end_with(p, seen, outcome, error, None);
        }
    }

    fn end_with(
        &self,
        probe: Probe,
        seen: Seen<'_>,
        outcome: Outcome,
        error: Option<&McpError>,
        tool: Option<&ToolNote<'_>>,
    ) {
        let end = clock().now();
        let us = clock().ns_between(probe.start, end) / 1000;
        let m = probe.method.index();
        let (e, t) = (era_index(probe.era), transport_index(probe.transport));
        let client = self.inner.clients.entry(probe.client);
        let now_ms = self.ms_at(end);
        if probe.flags & RECORD != 0 {
            let series = (m * NE + e) * NT + t;
            // `ok` is not counted: it is the histogram's count minus the other outcomes
            // (one atomic operation less on the hot path).
            if outcome != Outcome::Ok {
                self.inner.requests[series * NO + outcome as usize].fetch_add(1, Relaxed);
            }
            self.inner.latency[series].observe_us(us);
            if probe.flags & SEEN == 0 {
                let version = if seen.protocol_version.is_empty() { 0 } else { version_bit(seen.protocol_version) };
                client.seen(now_ms, probe.era, probe.transport, version, seen.capabilities);
            }
            if outcome == Outcome::Error {
                client.errors.fetch_add(1, Relaxed);
            }
            if let Some(ToolNote { slot: Some(slot), tool_error, .. }) = tool {
                let o = match (outcome, tool_error) {
                    (Outcome::Ok, None) => 0,
                    (Outcome::Ok, Some(_)) => 1,
                    (Outcome::Error, _) => 2,
                    (Outcome::InputRequired, _) => 3,
                };
                if o != 0 {
                    self.inner.tool_calls[slot * TOOL_OUTCOMES.len() + o].fetch_add(1, Relaxed);
                }
                self.inner.tool_latency[*slot].observe_us(us);
            }
            match (probe.method, probe.era) {
                (Method::ServerDiscover, _) => client.set_flag(flag::DISCOVER),
                (Method::ToolsList | Method::PromptsList | Method::ResourcesList, Era::Stateless) => {
                    let sent = client.list_changed_ms.load(Relaxed);
                    if sent != 0 && now_ms.saturating_sub(sent) < RELIST_WINDOW_MS {
                        client.set_flag(flag::RELISTS);
                    }
                }
                (Method::SubscriptionsListen, _) => client.set_flag(flag::LISTENS),
                _ => {}
            }
            if outcome == Outcome::InputRequired {
                client.set_flag(flag::INPUT_ASKED);
                self.inner.input[0].fetch_add(1, Relaxed);
            }
            let tool_error = tool.and_then(|n| n.tool_error.as_deref());
            if error.is_some() || tool_error.is_some() {
                self.inner.errors.push(ErrorRecord {
                    time: format_rfc3339(now_ms),
                    method: METHODS[m].to_owned(),
                    era: ERAS[e],
                    transport: TRANSPORTS[t],
                    client: client.key().to_owned(),
                    code: error.map(|e| e.code),
                    tool: tool.and_then(|n| n.name.as_deref().map(str::to_owned)),
                    message: truncate(error.map_or(tool_error.unwrap_or(""), |e| &e.message), MAX_MESSAGE),
                });
            }
        }
        if probe.wants_info {
            let user = match seen.caller {
                Some(id) => self.user_hash(id),
                None => "anonymous".to_owned(),
            };
            let record = RequestRecord {
                method: METHODS[m],
                era: ERAS[e],
                transport: TRANSPORTS[t],
                client: client.key(),
                protocol_version: seen.protocol_version,
                duration_us: us,
                outcome: OUTCOMES[outcome as usize],
                code: error.map(|e| e.code),
                tool: tool.and_then(|n| n.name.as_deref()),
                user: &user,
            };
            tracing::info!(
                target: "mcp::request",
                method = record.method,
                era = record.era,
                transport = record.transport,
                client = record.client,
                protocol_version = record.protocol_version,
                duration_ms = us as f64 / 1000.0,
                outcome = record.outcome,
                code = record.code,
                tool = record.tool,
                user = record.user,
                "request"
            );
            for sink in &self.inner.sinks {
                sink.record(&record);
            }
        }
    }

    /// A salted hash standing for the caller in logs (never the identity itself).
    pub fn user_hash(&self, id: &str) -> String {
        let mut h = Sha256::new();
        h.update(&self.inner.salt);
        h.update(id.as_bytes());
        h.finalize()[..8].iter().map(|b| format!("{b:02x}")).collect()
    }

    /// A request refused before dispatch (malformed headers or metadata, unsupported
    /// version): an error of its method from an unknown client.
    pub fn rejected(&self, method: Method, era: Era, transport: Transport, error: &McpError) {
        if self.inner.enabled {
            let probe = self.begin_with(method, era, transport, None);
            self.finish(probe, Seen::default(), Some(error));
        }
    }

    /// The label slot of a tool that exists in the catalog (never of user input alone).
    pub fn tool_slot(&self, name: &str) -> Option<usize> {
        self.inner.enabled.then(|| self.inner.tools.slot(name))
    }

    // ----- clients -------------------------------------------------------------------------

    pub fn client_slot(&self, client_info: Option<&Value>) -> u32 {
        self.inner.clients.slot_of(client_info)
    }

    pub fn client_key(&self, slot: u32) -> String {
        self.inner.clients.entry(slot).key().to_owned()
    }

    /// Record a behaviour of the client implementation in `slot`.
    pub fn client_flag(&self, slot: u32, bits: u32) {
        if self.inner.enabled {
            self.inner.clients.entry(slot).set_flag(bits);
        }
    }

    /// Record a behaviour of the client described by `client_info`.
    pub fn flag(&self, client_info: Option<&Value>, bits: u32) {
        if self.inner.enabled {
            self.client_flag(self.client_slot(client_info), bits);
        }
    }

    /// A session-era server-to-client request (sampling, elicitation, roots) was sent, and
    /// whether the client answered it.
    pub fn input_request(&self, slot: u32, answered: bool) {
        if !self.inner.enabled {
            return;
        }
        let c = self.inner.clients.entry(slot);
        c.set_flag(flag::INPUT_ASKED);
        self.inner.input[2].fetch_add(1, Relaxed);
        if answered {
            c.set_flag(flag::INPUT_ANSWERED);
            self.inner.input[3].fetch_add(1, Relaxed);
        }
    }

    /// A 2026-07-28 request carried `inputResponses`.
    pub fn input_answered(&self, slot: u32) {
        if self.inner.enabled {
            self.inner.clients.entry(slot).set_flag(flag::INPUT_ANSWERED);
            self.inner.input[1].fetch_add(1, Relaxed);
        }
    }

    pub fn client_records(&self) -> Vec<ClientRecord> {
        self.inner.clients.records()
    }

    pub fn clients_known(&self) -> usize {
        self.inner.clients.known()
    }

    /// Merge a saved dataset (JSON lines) into the live table.
    pub fn load_clients(&self, path: &std::path::Path) -> std::io::Result<usize> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(e),
        };
        let records: Vec<ClientRecord> =
            text.lines().filter(|l| !l.trim().is_empty()).filter_map(|l| serde_json::from_str(l).ok()).collect();
        self.inner.clients.absorb(&records);
        Ok(records.len())
    }

    /// Write the dataset as JSON lines, atomically (temporary file, then rename).
    pub fn save_clients(&self, path: &std::path::Path) -> std::io::Result<usize> {
        let records = self.client_records();
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, jsonl(&records))?;
        std::fs::rename(&tmp, path)?;
        Ok(records.len())
    }

    pub fn parquet(&self) -> Option<&Exporter> {
        self.inner.parquet.as_ref()
    }

    // ----- sessions and streams ------------------------------------------------------------

    /// A session began (`initialize`, `GET /sse`, a stdio connection).
    pub fn session_opened(
        &self,
        sid: &Arc<str>,
        transport: Transport,
        client_info: Option<&Value>,
        version: Option<&str>,
    ) {
        if !self.inner.enabled {
            return;
        }
        let slot = self.client_slot(client_info);
        let now = self.now_ms();
        if self.inner.connections.open(sid, transport, slot, version, now) {
            self.inner.connections.sessions_created[transport_index(transport)].fetch_add(1, Relaxed);
            if client_info.is_some() {
                self.session_client(slot, now);
            }
        }
    }

    fn session_client(&self, slot: u32, now: u64) {
        let c = self.inner.clients.entry(slot);
        c.sessions.fetch_add(1, Relaxed);
        c.set_flag(flag::SESSION);
        c.touch(now);
    }

    /// A session learned its client (HTTP+SSE and stdio sessions begin before `initialize`).
    pub fn session_initialized(&self, sid: &str, client_info: Option<&Value>, version: Option<&str>) {
        if !self.inner.enabled {
            return;
        }
        let Some(s) = self.inner.connections.get(sid) else { return };
        let slot = self.client_slot(client_info);
        s.client.store(slot, Relaxed);
        *s.protocol_version.lock().unwrap_or_else(|e| e.into_inner()) = version.map(str::to_owned);
        self.session_client(slot, self.now_ms());
    }

    /// A request within a session (after `initialize`): reuse and re-list detection.
    pub fn session_request(&self, sid: &str, method: Method) {
        if !self.inner.enabled {
            return;
        }
        let Some(s) = self.inner.connections.get(sid) else { return };
        let now = self.now_ms();
        s.last_seen_ms.store(now, Relaxed);
        let n = s.requests.fetch_add(1, Relaxed) + 1;
        let client = self.inner.clients.entry(s.client.load(Relaxed));
        if n == 2 {
            client.set_flag(flag::REUSES_SESSION);
        }
        if method.is_list() {
            let sent = s.list_changed_ms.load(Relaxed);
            if sent != 0 && now.saturating_sub(sent) < RELIST_WINDOW_MS {
                client.set_flag(flag::RELISTS);
            }
        }
    }

    /// Register a session first seen by this process mid-life (created by another instance).
    pub fn session_seen(
        &self,
        sid: &Arc<str>,
        transport: Transport,
        client_info: Option<&Value>,
        version: Option<&str>,
    ) {
        if self.inner.enabled && self.inner.connections.get(sid).is_none() {
            let slot = self.client_slot(client_info);
            self.inner.connections.open(sid, transport, slot, version, self.now_ms());
        }
    }

    pub fn session_ended(&self, sid: &str, reason: EndReason) {
        if !self.inner.enabled {
            return;
        }
        let Some(s) = self.inner.connections.close(sid) else { return };
        if reason != EndReason::Elsewhere {
            self.inner.connections.sessions_ended[reason as usize].fetch_add(1, Relaxed);
        }
        if reason == EndReason::Idle {
            self.inner.clients.entry(s.client.load(Relaxed)).set_flag(flag::ABANDONS_SESSION);
        }
    }

    pub fn session_unresponsive(&self, sid: &str) {
        if let Some(s) = self.inner.enabled.then(|| self.inner.connections.get(sid)).flatten() {
            s.unresponsive.store(true, Relaxed);
        }
    }

    /// Count a stream as open until the guard drops (a listen stream by its client slot).
    pub fn stream(&self, kind: StreamKind, sid: Option<&str>, client: Option<u32>) -> StreamGuard {
        if !self.inner.enabled {
            return StreamGuard::none();
        }
        let session = sid.and_then(|s| self.inner.connections.get(s));
        let listener = client.filter(|_| kind == StreamKind::Listen).map(|c| (c, self.now_ms()));
        let id = self.inner.connections.stream_opened(kind, session.as_deref(), listener);
        StreamGuard::new(connections::OpenStream { tel: self.clone(), kind, session, id })
    }

    /// A change notification went out, to a session or on a listen stream of `client`.
    pub fn change_sent(&self, event: &ChangeEvent, sid: Option<&str>, client: Option<u32>) {
        if !self.inner.enabled {
            return;
        }
        let kind = match event {
            ChangeEvent::ToolsListChanged(_) => 0,
            ChangeEvent::PromptsListChanged(_) => 1,
            ChangeEvent::ResourcesListChanged(_) => 2,
            ChangeEvent::ResourceUpdated { .. } => {
                self.inner.resource_updated.fetch_add(1, Relaxed);
                return;
            }
        };
        self.inner.list_changed[kind].fetch_add(1, Relaxed);
        let now = self.now_ms();
        let session = sid.and_then(|s| self.inner.connections.get(s));
        if let Some(s) = &session {
            s.list_changed_ms.store(now, Relaxed);
        }
        let slot = client.or_else(|| session.map(|s| s.client.load(Relaxed)));
        if let Some(slot) = slot {
            let c = self.inner.clients.entry(slot);
            c.set_flag(flag::LIST_CHANGED_SENT);
            if client.is_some() {
                c.list_changed_ms.store(now, Relaxed);
            }
        }
    }

    /// A `GET` that resumed with `Last-Event-ID`, opened a push stream, or a `DELETE`.
    pub fn session_behaviour(&self, sid: &str, client_info: Option<&Value>, behaviour: Behaviour) {
        let bits = match behaviour {
            Behaviour::PushStream => flag::GET_STREAM,
            Behaviour::Resumed => flag::RESUMES,
            Behaviour::PushResumed => flag::GET_STREAM | flag::RESUMES,
            Behaviour::Delete => flag::DELETE,
        };
        if !self.inner.enabled {
            return;
        }
        let slot = match self.inner.connections.get(sid) {
            Some(s) => s.client.load(Relaxed),
            None => self.client_slot(client_info),
        };
        self.inner.clients.entry(slot).set_flag(bits);
    }

    // ----- upstream, caches, quotas ----------------------------------------------------

    /// One upstream HTTP request (an attempt): `service` is named by the integration
    /// (admitted up to the label cap, like cache names), `outcome` from
    /// [`UPSTREAM_OUTCOMES`] (others count as `error`).
    pub fn upstream(&self, service: &str, outcome: &str, elapsed: Duration) {
        if !self.inner.enabled {
            return;
        }
        let s = self.inner.services.slot(service);
        let o = UPSTREAM_OUTCOMES.iter().position(|x| *x == outcome).unwrap_or(UPSTREAM_OUTCOMES.len() - 1);
        self.inner.upstream[s * UPSTREAM_OUTCOMES.len() + o].fetch_add(1, Relaxed);
        self.inner.upstream_latency[s].observe_us(elapsed.as_micros() as u64);
    }

    /// A cache lookup (`cache` names are admitted up to the label cap).
    pub fn cache(&self, cache: &str, hit: bool) {
        if self.inner.enabled {
            let slot = self.inner.caches.slot(cache);
            self.inner.cache_lookups[slot * 2 + usize::from(!hit)].fetch_add(1, Relaxed);
        }
    }

    /// A request refused by a quota or rate limit.
    pub fn quota_rejected(&self, reason: &str) {
        if self.inner.enabled {
            self.inner.quota_rejections[self.inner.quotas.slot(reason)].fetch_add(1, Relaxed);
        }
    }

    // ----- reading -----------------------------------------------------------------------

    pub fn recent_errors(&self, limit: usize) -> Vec<ErrorRecord> {
        self.inner.errors.recent(limit)
    }

    /// Requests of one series by outcome: `ok` is the histogram's count minus the others.
    fn series_counts(&self, series: usize) -> ([u64; NO], HistSnapshot) {
        let h = self.inner.latency[series].snapshot();
        let mut counts = [0; NO];
        for (o, c) in counts.iter_mut().enumerate().skip(1) {
            *c = self.inner.requests[series * NO + o].load(Relaxed);
        }
        counts[0] = h.count().saturating_sub(counts[1..].iter().sum());
        (counts, h)
    }

    /// Per method: requests by outcome and the latency histogram, over eras and transports.
    pub fn methods(&self) -> Vec<(&'static str, [u64; NO], HistSnapshot)> {
        let mut out = Vec::new();
        for (m, name) in METHODS.iter().enumerate() {
            let mut counts = [0; NO];
            let mut h = HistSnapshot::default();
            for series in (m * NE * NT)..((m + 1) * NE * NT) {
                let (c, sh) = self.series_counts(series);
                for (a, b) in counts.iter_mut().zip(c) {
                    *a += b;
                }
                h.add(&sh);
            }
            if counts.iter().sum::<u64>() > 0 {
                out.push((*name, counts, h));
            }
        }
        out
    }

    /// Requests by (era, transport).
    #[allow(clippy::needless_range_loop)] // indices address the flattened series arrays
    pub fn by_era_transport(&self) -> Vec<(&'static str, &'static str, u64)> {
        let mut out = Vec::new();
        for e in 0..NE {
            for t in 0..NT {
                let mut n = 0;
                for m in 0..NM {
                    n += self.inner.latency[(m * NE + e) * NT + t].snapshot().count();
                }
                out.push((ERAS[e], TRANSPORTS[t], n));
            }
        }
        out
    }

    /// Per tool: calls by outcome and latency.
    pub fn tools(&self) -> Vec<(Arc<str>, Vec<u64>, HistSnapshot)> {
        let k = TOOL_OUTCOMES.len();
        self.inner
            .tools
            .names()
            .into_iter()
            .enumerate()
            .map(|(slot, name)| {
                let h = self.inner.tool_latency[slot].snapshot();
                let mut counts = (0..k).map(|o| self.inner.tool_calls[slot * k + o].load(Relaxed)).collect::<Vec<_>>();
                counts[0] = h.count().saturating_sub(counts[1..].iter().sum());
                (name, counts, h)
            })
            .filter(|(_, c, _)| c.iter().sum::<u64>() > 0)
            .collect()
    }

    pub fn totals(&self) -> (u64, u64) {
        let all = self.inner.latency.iter().map(|h| h.snapshot().count()).sum();
        let errors =
            (0..NM * NE * NT).map(|s| self.inner.requests[s * NO + Outcome::Error as usize].load(Relaxed)).sum();
        (all, errors)
    }

    pub fn streams_open(&self) -> Vec<(&'static str, i64)> {
        STREAM_KINDS
            .iter()
            .enumerate()
            .map(|(i, k)| (*k, self.inner.connections.streams_open[i].load(Relaxed).max(0)))
            .collect()
    }

    pub fn list_changed_sent(&self) -> u64 {
        self.inner.list_changed.iter().map(|c| c.load(Relaxed)).sum()
    }

    pub fn upstream_totals(&self) -> (u64, u64) {
        let k = UPSTREAM_OUTCOMES.len();
        let mut calls = 0;
        let mut failures = 0;
        for (i, c) in self.inner.upstream.iter().enumerate() {
            let n = c.load(Relaxed);
            calls += n;
            if i % k != 0 {
                failures += n;
            }
        }
        (calls, failures)
    }

    /// Everything in the Prometheus text format.
    #[allow(clippy::needless_range_loop)] // indices address the flattened series arrays
    pub fn prometheus(&self) -> String {
        let i = &*self.inner;
        let mut enc = Encoder::default();
        enc.header("mcp_requests_total", "counter", "MCP requests by method, protocol era, transport and outcome.");
        for m in 0..NM {
            for e in 0..NE {
                for t in 0..NT {
                    let (counts, _) = self.series_counts((m * NE + e) * NT + t);
                    for o in 0..NO {
                        let n = counts[o];
                        if n > 0 {
                            let labels = [
                                ("method", METHODS[m]),
                                ("era", ERAS[e]),
                                ("transport", TRANSPORTS[t]),
                                ("outcome", OUTCOMES[o]),
                            ];
                            enc.sample("mcp_requests_total", &labels, n);
                        }
                    }
                }
            }
        }
        enc.header(
            "mcp_request_duration_seconds",
            "histogram",
            "Time to serve an MCP request (to its final response).",
        );
        for m in 0..NM {
            for e in 0..NE {
                for t in 0..NT {
                    let h = i.latency[(m * NE + e) * NT + t].snapshot();
                    if h.count() > 0 {
                        let labels = [("method", METHODS[m]), ("era", ERAS[e]), ("transport", TRANSPORTS[t])];
                        enc.histogram("mcp_request_duration_seconds", &labels, &h);
                    }
                }
            }
        }
        enc.header(
            "mcp_tool_calls_total",
            "counter",
            "Tool calls by tool and outcome (tool_error: a result with isError).",
        );
        let tools = self.tools();
        for (name, counts, _) in &tools {
            for (o, n) in counts.iter().enumerate() {
                if *n > 0 {
                    enc.sample("mcp_tool_calls_total", &[("tool", name), ("outcome", TOOL_OUTCOMES[o])], n);
                }
            }
        }
        enc.header("mcp_tool_call_duration_seconds", "histogram", "Time to serve a tools/call, by tool.");
        for (name, _, h) in &tools {
            enc.histogram("mcp_tool_call_duration_seconds", &[("tool", name)], h);
        }
        enc.header("mcp_sessions_active", "gauge", "Live session-era sessions held by this process, by transport.");
        for (t, n) in i.connections.active_by_transport().iter().enumerate() {
            enc.sample("mcp_sessions_active", &[("transport", TRANSPORTS[t])], n);
        }
        enc.header("mcp_sessions_created_total", "counter", "Sessions created, by transport.");
        for (t, c) in i.connections.sessions_created.iter().enumerate() {
            enc.sample("mcp_sessions_created_total", &[("transport", TRANSPORTS[t])], c.load(Relaxed));
        }
        enc.header("mcp_sessions_ended_total", "counter", "Sessions ended, by reason.");
        for (r, c) in i.connections.sessions_ended.iter().enumerate() {
            enc.sample("mcp_sessions_ended_total", &[("reason", END_REASONS[r])], c.load(Relaxed));
        }
        enc.header("mcp_streams_open", "gauge", "Open long-lived streams, by kind.");
        for (k, n) in self.streams_open() {
            enc.sample("mcp_streams_open", &[("kind", k)], n);
        }
        enc.header("mcp_streams_opened_total", "counter", "Long-lived streams opened, by kind.");
        for (k, c) in i.connections.streams_opened.iter().enumerate() {
            enc.sample("mcp_streams_opened_total", &[("kind", STREAM_KINDS[k])], c.load(Relaxed));
        }
        enc.header("mcp_list_changed_notifications_total", "counter", "List-changed notifications sent, by list.");
        for (k, c) in i.list_changed.iter().enumerate() {
            enc.sample("mcp_list_changed_notifications_total", &[("list", LIST_CHANGE_KINDS[k])], c.load(Relaxed));
        }
        enc.header("mcp_resource_updated_notifications_total", "counter", "Resource-updated notifications sent.");
        enc.sample("mcp_resource_updated_notifications_total", &[], i.resource_updated.load(Relaxed));
        enc.header(
            "mcp_input_requests_total",
            "counter",
            "Requests for client input (elicitation, sampling, roots), sent and answered.",
        );
        for (idx, (era, what)) in
            [("stateless", "sent"), ("stateless", "answered"), ("session", "sent"), ("session", "answered")]
                .iter()
                .enumerate()
        {
            enc.sample("mcp_input_requests_total", &[("era", era), ("outcome", what)], i.input[idx].load(Relaxed));
        }
        enc.header(
            "mcp_upstream_requests_total",
            "counter",
            "Upstream HTTP requests (attempts) by service and outcome.",
        );
        let k = UPSTREAM_OUTCOMES.len();
        let services = i.services.names();
        for (s, service) in services.iter().enumerate() {
            for (o, outcome) in UPSTREAM_OUTCOMES.iter().enumerate() {
                let n = i.upstream[s * k + o].load(Relaxed);
                if n > 0 {
                    enc.sample("mcp_upstream_requests_total", &[("service", service), ("outcome", outcome)], n);
                }
            }
        }
        enc.header("mcp_upstream_request_duration_seconds", "histogram", "Upstream HTTP request latency, by service.");
        for (s, service) in services.iter().enumerate() {
            let h = i.upstream_latency[s].snapshot();
            if h.count() > 0 {
                enc.histogram("mcp_upstream_request_duration_seconds", &[("service", service)], &h);
            }
        }
        enc.header("mcp_cache_lookups_total", "counter", "Cache lookups by cache and result (hit, miss).");
        for (slot, name) in i.caches.names().iter().enumerate() {
            for (r, result) in ["hit", "miss"].iter().enumerate() {
                let n = i.cache_lookups[slot * 2 + r].load(Relaxed);
                if n > 0 {
                    enc.sample("mcp_cache_lookups_total", &[("cache", name), ("result", result)], n);
                }
            }
        }
        enc.header("mcp_quota_rejections_total", "counter", "Requests refused by a quota or rate limit, by reason.");
        for (slot, name) in i.quotas.names().iter().enumerate() {
            let n = i.quota_rejections[slot].load(Relaxed);
            if n > 0 {
                enc.sample("mcp_quota_rejections_total", &[("reason", name)], n);
            }
        }
        enc.header("mcp_clients_known", "gauge", "Client implementations (name@version) seen.");
        enc.sample("mcp_clients_known", &[], self.clients_known());
        enc.header("process_start_time_seconds", "gauge", "Start time of the process since the Unix epoch in seconds.");
        enc.sample("process_start_time_seconds", &[], i.started_unix_ms / 1000);
        enc.out
    }

    // ----- the dashboard password ------------------------------------------------------

    pub fn password_required(&self) -> bool {
        self.inner.password.is_some()
    }

    /// Does this `Authorization` header carry the password (Basic with any user name, or
    /// Bearer)? Compared in constant time, as digests.
    pub fn authorized(&self, authorization: Option<&str>) -> bool {
        let Some(expected) = &self.inner.password else { return true };
        let Some(value) = authorization.map(str::trim) else { return false };
        let candidate: Vec<u8> = if let Some(b) = value.strip_prefix("Basic ").or_else(|| value.strip_prefix("basic "))
        {
            use base64::Engine as _;
            let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(b.trim()) else { return false };
            match decoded.iter().position(|&c| c == b':') {
                Some(i) => decoded[i + 1..].to_vec(),
                None => return false,
            }
        } else if let Some(t) = value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")) {
            t.trim().as_bytes().to_vec()
        } else {
            return false;
        };
        let got: [u8; 32] = Sha256::digest(&candidate).into();
        got.iter().zip(expected.iter()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
    }
}

/// Records as JSON lines.
pub fn jsonl(records: &[ClientRecord]) -> String {
    let mut out = String::new();
    for r in records {
        out.push_str(&serde_json::to_string(r).expect("records serialize"));
        out.push('\n');
    }
    out
}

/// `2026-01-02T03:04:05.678Z` from Unix milliseconds (no time-zone database needed).
pub fn format_rfc3339(ms: u64) -> String {
    if ms == 0 {
        return String::new();
    }
    let secs = ms / 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z", rem / 3600, rem % 3600 / 60, rem % 60, ms % 1000)
}

/// The inverse of [`format_rfc3339`] (that exact shape, or without milliseconds).
pub fn parse_rfc3339(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || !s.ends_with('Z') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let ms = if b[19] == b'.' { num(20..23).unwrap_or(0) } else { 0 };
    let days = days_from_civil(y, mo, d);
    let total = ((days * 86_400 + h * 3600 + mi * 60 + se) * 1000) + ms;
    u64::try_from(total).ok()
}

// Howard Hinnant's civil-date algorithms.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The engine's hooks, recorded here.
impl Observer for Telemetry {
    #[inline]
    fn begin(&self, method: Method, info: &RequestInfo) -> Option<Probe> {
        Telemetry::begin(self, method, info)
    }
    fn begin_with(&self, method: Method, era: Era, transport: Transport, client: Option<&Value>) -> Option<Probe> {
        Telemetry::begin_with(self, method, era, transport, client)
    }
    fn set_probe_client(&self, probe: &mut Probe, client: Option<&Value>) {
        probe.client = self.inner.clients.slot_of(client);
    }
    #[inline]
    fn end(&self, probe: Probe, end: RequestEnd<'_, '_>) {
        let seen = match end.info {
            Some(i) => Seen {
                protocol_version: &i.protocol_version,
                capabilities: Some(&i.client_capabilities),
                caller: i.caller.id.as_deref(),
            },
            None => end.seen,
        };
        self.end_with(probe, seen, end.outcome, end.error, end.tool)
    }
    fn rejected(&self, method: Method, era: Era, transport: Transport, error: &McpError) {
        Telemetry::rejected(self, method, era, transport, error)
    }
    fn tool_slot(&self, name: &str) -> Option<usize> {
        Telemetry::tool_slot(self, name)
    }
    fn input_answered(&self, client: u32) {
        Telemetry::input_answered(self, client)
    }
    fn input_request(&self, client: u32, answered: bool) {
        Telemetry::input_request(self, client, answered)
    }
    fn observes_input(&self) -> bool {
        self.inner.enabled
    }
    fn session_opened(&self, sid: &Arc<str>, transport: Transport, client: Option<&Value>, version: Option<&str>) {
        Telemetry::session_opened(self, sid, transport, client, version)
    }
    fn session_initialized(&self, sid: &str, client: Option<&Value>, version: Option<&str>) {
        Telemetry::session_initialized(self, sid, client, version)
    }
    fn session_request(&self, sid: &str, method: Method) {
        Telemetry::session_request(self, sid, method)
    }
    fn session_seen(&self, sid: &Arc<str>, transport: Transport, client: Option<&Value>, version: Option<&str>) {
        Telemetry::session_seen(self, sid, transport, client, version)
    }
    fn session_ended(&self, sid: &str, reason: EndReason) {
        Telemetry::session_ended(self, sid, reason)
    }
    fn session_unresponsive(&self, sid: &str) {
        Telemetry::session_unresponsive(self, sid)
    }
    fn session_behaviour(&self, sid: &str, client: Option<&Value>, behaviour: Behaviour) {
        Telemetry::session_behaviour(self, sid, client, behaviour)
    }
    fn stream_opened(&self, kind: StreamKind, sid: Option<&str>, client: Option<u32>) -> StreamGuard {
        self.stream(kind, sid, client)
    }
    fn change_sent(&self, event: &ChangeEvent, sid: Option<&str>, client: Option<u32>) {
        Telemetry::change_sent(self, event, sid, client)
    }
    fn quota_rejected(&self, reason: &'static str) {
        Telemetry::quota_rejected(self, reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What one stateless tools/call costs the telemetry (begin + tool label + end), in ns.
    /// `cargo test --release -p mcp-engine --lib hot_path_cost -- --ignored --nocapture`
    #[test]
    #[ignore = "a timing measurement, not a check"]
    fn hot_path_cost() {
        use mcp_engine::protocol::{Caller, STATELESS_VERSION};
        let info = RequestInfo {
            era: Era::Stateless,
            transport: Transport::StreamableHttp,
            protocol_version: STATELESS_VERSION.into(),
            method: "tools/call".into(),
            client_capabilities: serde_json::json!({}),
            client_info: Some(serde_json::json!({ "name": "bench", "version": "1" })),
            log_level: None,
            progress_token: None,
            caller: Caller::anonymous(),
            http: None,
        };
        for (label, t) in [("on", Telemetry::default()), ("off", Telemetry::disabled())] {
            let n = 2_000_000u32;
            let start = Instant::now();
            for _ in 0..n {
                let Some(p) = t.begin(std::hint::black_box(Method::parse("tools/call")), &info) else { continue };
                let note = ToolNote {
                    slot: t.tool_slot("test_simple_text"),
                    name: Some("test_simple_text".into()),
                    tool_error: None,
                };
                t.end(p, Some(&info), Outcome::Ok, None, Some(&note));
            }
            println!("telemetry {label}: {:.0} ns per request", start.elapsed().as_nanos() as f64 / f64::from(n));
        }
    }

    #[test]
    fn time_formatting_round_trips() {
        assert_eq!(format_rfc3339(0), "");
        assert_eq!(format_rfc3339(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
        assert_eq!(parse_rfc3339("2023-11-14T22:13:20.123Z"), Some(1_700_000_000_123));
        assert_eq!(parse_rfc3339("2024-02-29T00:00:00Z"), Some(1_709_164_800_000));
        assert_eq!(parse_rfc3339("garbage"), None);
    }

    #[test]
    fn password_is_checked_as_basic_or_bearer() {
        let t = Telemetry::new(TelemetryConfig { password: Some("s3cret".into()), ..TelemetryConfig::default() });
        use base64::Engine as _;
        let basic = |s: &str| format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(s));
        assert!(t.authorized(Some(&basic("admin:s3cret"))));
        assert!(t.authorized(Some(&basic(":s3cret"))));
        assert!(t.authorized(Some("Bearer s3cret")));
        assert!(!t.authorized(Some(&basic("admin:wrong"))));
        assert!(!t.authorized(Some("Bearer s3cre")));
        assert!(!t.authorized(None));
        assert!(Telemetry::default().authorized(None));
        assert!(!format!("{:?}", TelemetryConfig { password: Some("s3cret".into()), ..Default::default() })
            .contains("s3cret"));
    }

    #[test]
    fn requests_are_counted_with_bounded_labels() {
        let t = Telemetry::default();
        let p = t.begin_with(Method::parse("tools/call"), Era::Stateless, Transport::StreamableHttp, None).unwrap();
        let note = ToolNote { slot: t.tool_slot("echo"), name: Some("echo".into()), tool_error: None };
        t.end(p, None, Outcome::Ok, None, Some(&note));
        let p = t.begin_with(Method::parse("weird/method"), Era::Session, Transport::Stdio, None).unwrap();
        t.end(p, None, Outcome::Error, Some(&McpError::method_not_found("weird/method")), None);
        let text = t.prometheus();
        assert!(text.contains(
            "mcp_requests_total{method=\"tools/call\",era=\"stateless\",transport=\"streamable_http\",outcome=\"ok\"} 1"
        ));
        assert!(text
            .contains("mcp_requests_total{method=\"other\",era=\"session\",transport=\"stdio\",outcome=\"error\"} 1"));
        assert!(text.contains("mcp_tool_calls_total{tool=\"echo\",outcome=\"ok\"} 1"));
        assert!(!text.contains("weird"));
        assert_eq!(t.totals(), (2, 1));
        assert_eq!(t.recent_errors(5)[0].code, Some(-32601));
        let off = Telemetry::disabled();
        assert!(!off.enabled());
    }
}
