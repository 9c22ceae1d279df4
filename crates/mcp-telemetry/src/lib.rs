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
//!
//! Where things are: this file holds the handle, its configuration and construction;
//! `requests` the hot path (begin/end), `request_log` the log line's queue and writer
//! thread, `sessions` session and stream hooks, `observer` the engine's hook trait,
//! `dataset` the client dataset's API, `upstream` upstream/cache/quota recording,
//! `readings` and `prometheus` the read side, `password` the dashboard password,
//! `rfc3339` timestamps.

pub mod clients;
pub mod clock;
pub mod connections;
mod dataset;
pub mod errors;
pub mod http;
pub mod metrics;
mod observer;
mod password;
mod prometheus;
mod readings;
mod request_log;
mod requests;
mod rfc3339;
mod sessions;
mod upstream;

use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

use clients::Clients;
pub use clients::{flag, ClientRecord};
use clock::clock;
use connections::Connections;
pub use dataset::jsonl;
use errors::ErrorRing;
use mcp_engine::method::Method;
use metrics::{counters, histograms, Histogram, LabelSet};
use request_log::RequestLog;
pub use request_log::{LogFormat, MakeSink, RequestLogConfig, DEFAULT_QUEUE as LOG_QUEUE_DEFAULT};
pub use requests::{RequestRecord, RequestSink};
pub use rfc3339::{format_rfc3339, parse_rfc3339};

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
    /// Write the request log line (`mcp::request`, when `tracing` enables it at `info`) off
    /// the request path, through a bounded queue. `None`: emit it as a `tracing` event.
    pub request_log: Option<RequestLogConfig>,
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
            request_log: None,
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
    started_unix_us: u64,
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
    /// Per service: circuits open, circuits half-open (gauges), calls failed fast (counter).
    circuits: Box<[AtomicU64]>,
    /// Shared (cluster-wide) limits were unreachable and this process's decided.
    limits_fallbacks: AtomicU64,
    /// Tasks (the tasks extension): created, then ended by status (completed, failed,
    /// cancelled).
    tasks: [AtomicU64; 4],
    /// [era][sent, answered]
    input: [AtomicU64; 4],
    /// Shared with the request log's writer, which names clients by slot.
    clients: Arc<Clients>,
    connections: Connections,
    errors: ErrorRing,
    salt: Vec<u8>,
    password: Option<[u8; 32]>,
    parquet: Option<Exporter>,
    sinks: Vec<Arc<dyn RequestSink>>,
    request_log: Option<RequestLog>,
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
    unix_us() / 1000
}

fn unix_us() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_micros() as u64).unwrap_or(0)
}

impl Telemetry {
    pub fn new(config: TelemetryConfig) -> Self {
        let tools = LabelSet::new(config.max_tools.max(1));
        let caches = LabelSet::new(config.max_labels.max(1));
        let quotas = LabelSet::new(config.max_labels.max(1));
        let services = LabelSet::new(config.max_labels.max(1));
        let salt = config.log_salt.clone().unwrap_or_else(|| rand::random::<[u8; 32]>().to_vec());
        let clients = Arc::new(Clients::new(config.max_clients));
        let request_log = config.request_log.clone().map(|c| RequestLog::start(c, clients.clone(), salt.clone()));
        let started_unix_us = unix_us();
        let inner = Inner {
            enabled: config.enabled,
            started: Instant::now(),
            started_tick: clock().now(),
            started_unix_ms: started_unix_us / 1000,
            started_unix_us,
            requests: counters(NM * NE * NT * NO),
            latency: histograms(NM * NE * NT),
            tool_calls: counters(tools.slots() * TOOL_OUTCOMES.len()),
            tool_latency: histograms(tools.slots()),
            tools,
            list_changed: Default::default(),
            resource_updated: AtomicU64::new(0),
            upstream: counters(services.slots() * UPSTREAM_OUTCOMES.len()),
            upstream_latency: histograms(services.slots()),
            circuits: counters(services.slots() * 3),
            services,
            cache_lookups: counters(caches.slots() * 2),
            caches,
            quota_rejections: counters(quotas.slots()),
            quotas,
            limits_fallbacks: AtomicU64::new(0),
            tasks: Default::default(),
            input: Default::default(),
            clients,
            connections: Connections::default(),
            errors: ErrorRing::new(config.error_ring),
            salt,
            password: config.password.as_deref().filter(|p| !p.is_empty()).map(|p| Sha256::digest(p.as_bytes()).into()),
            parquet: config.parquet.clone(),
            sinks: config.sinks.clone(),
            request_log,
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

    /// Unix microseconds of a clock tick.
    fn us_at(&self, tick: u64) -> u64 {
        self.inner.started_unix_us + clock().ns_between(self.inner.started_tick, tick) / 1000
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

    /// Write the request log lines still queued (call before exit).
    pub fn flush_log(&self) {
        if let Some(log) = &self.inner.request_log {
            log.flush();
        }
    }

    /// Request log lines dropped because the writer fell behind.
    pub fn log_lines_dropped(&self) -> u64 {
        self.inner.request_log.as_ref().map_or(0, RequestLog::dropped)
    }
}
