//! A request from `begin` to `end`: the counters and histograms of its series, the
//! client's aggregates, the error ring, and the request record for the log line and sinks.
//! This is the hot path: relaxed atomics on preallocated arrays; the log line is handed to
//! the request log (see [`crate::request_log`]) as a small record, formatted elsewhere.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use serde_json::Value;

use crate::clients::{era_index, flag, transport_index, version_bit, ERAS, TRANSPORTS};
use crate::clock::clock;
use crate::errors::{truncate, ErrorRecord, MAX_MESSAGE};
use crate::request_log::{user_hash, version_str, LogEntry, ToolName};
use crate::rfc3339::format_rfc3339;
use crate::{Telemetry, METHODS, NE, NO, NT, OUTCOMES, RECORD, RELIST_WINDOW_MS, SEEN, TOOL_OUTCOMES};
use mcp_engine::jsonrpc::McpError;
use mcp_engine::method::Method;
use mcp_engine::observe::{Outcome, Probe, Seen, ToolNote};
use mcp_engine::protocol::{Era, RequestInfo, Transport};

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

impl Telemetry {
    pub(crate) fn log_enabled(&self) -> bool {
        tracing::enabled!(target: "mcp::request", tracing::Level::INFO) || !self.inner.sinks.is_empty()
    }

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
        self.end_with(probe, seen, info.and_then(|i| i.caller.id.as_ref()), outcome, error, tool)
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
            self.end_with(p, seen, None, outcome, error, None);
        }
    }

    pub(crate) fn end_with(
        &self,
        probe: Probe,
        seen: Seen<'_>,
        caller: Option<&Arc<str>>,
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
            let line = tracing::enabled!(target: "mcp::request", tracing::Level::INFO);
            if let (Some(log), true) = (&self.inner.request_log, line) {
                // The common case: a small record to the writer thread, formatted there.
                log.push(LogEntry {
                    end_unix_us: self.us_at(end),
                    method: METHODS[m],
                    era: ERAS[e],
                    transport: TRANSPORTS[t],
                    client: probe.client,
                    protocol_version: version_str(seen.protocol_version),
                    duration_us: us,
                    outcome: OUTCOMES[outcome as usize],
                    code: error.map(|e| e.code),
                    tool: tool.and_then(|n| n.name.as_deref()).map(ToolName::new),
                    caller: caller.cloned().or_else(|| seen.caller.map(Arc::from)),
                });
            }
            let unqueued_line = line && self.inner.request_log.is_none();
            if unqueued_line || !self.inner.sinks.is_empty() {
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
                if unqueued_line {
                    // Without a request log (a library user's configuration): the event
                    // itself, formatted by whatever subscriber is installed.
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
                }
                for sink in &self.inner.sinks {
                    sink.record(&record);
                }
            }
        }
    }

    /// A salted hash standing for the caller in logs (never the identity itself).
    pub fn user_hash(&self, id: &str) -> String {
        let mut hex = [0u8; 16];
        user_hash(&self.inner.salt, id, &mut hex).to_owned()
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    /// What one stateless tools/call costs the telemetry (begin + tool label + end), in ns.
    /// `cargo test --release -p mcp-telemetry --lib hot_path_cost -- --ignored --nocapture`
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

    #[test]
    fn the_request_log_line_goes_through_the_queue() {
        use std::io::Write;
        use std::sync::Mutex;
        #[derive(Clone, Default)]
        struct Shared(Arc<Mutex<Vec<u8>>>);
        impl Write for Shared {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let out = Shared::default();
        let sink = out.clone();
        let t = Telemetry::new(crate::TelemetryConfig {
            log_salt: Some(b"pepper".to_vec()),
            request_log: Some(crate::RequestLogConfig {
                sink: Arc::new(move || Box::new(sink.clone())),
                ..crate::RequestLogConfig::stderr(crate::LogFormat::Json)
            }),
            ..crate::TelemetryConfig::default()
        });
        // The `tracing` filter still decides whether there is a line (`--log`).
        let subscriber = tracing_subscriber::fmt().with_writer(std::io::sink).finish();
        tracing::subscriber::with_default(subscriber, || {
            let info = RequestInfo {
                era: Era::Stateless,
                transport: Transport::StreamableHttp,
                protocol_version: mcp_engine::protocol::STATELESS_VERSION.into(),
                method: "tools/call".into(),
                client_capabilities: serde_json::json!({}),
                client_info: Some(serde_json::json!({ "name": "logged", "version": "2" })),
                log_level: None,
                progress_token: None,
                caller: mcp_engine::protocol::Caller::anonymous(),
                http: None,
            };
            let p = t.begin(Method::parse("tools/call"), &info).unwrap();
            assert!(t.wants_info(&p));
            let note = ToolNote { slot: t.tool_slot("echo"), name: Some("echo".into()), tool_error: None };
            t.end(p, Some(&info), Outcome::Ok, None, Some(&note));
            t.finish(
                t.begin_with(Method::parse("initialize"), Era::Session, Transport::StreamableHttp, None),
                Seen { protocol_version: "2025-06-18", capabilities: None, caller: Some("id-hash") },
                None,
            );
        });
        t.flush_log();
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert_eq!(lines[0]["client"], "logged@2");
        assert_eq!(lines[0]["tool"], "echo");
        assert_eq!(lines[0]["user"], "anonymous");
        assert_eq!(lines[0]["target"], "mcp::request");
        assert_eq!(lines[1]["method"], "initialize");
        assert_eq!(lines[1]["user"], t.user_hash("id-hash").as_str());
        assert!(!text.contains("id-hash"));
        assert!(t.prometheus().contains("mcp_log_lines_dropped_total 0"));
    }
}
