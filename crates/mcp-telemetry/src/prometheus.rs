//! Everything the telemetry knows, in the Prometheus text exposition format (`/metrics`).

use std::sync::atomic::Ordering::Relaxed;

use crate::clients::{ERAS, TRANSPORTS};
use crate::connections::{END_REASONS, STREAM_KINDS};
use crate::metrics::Encoder;
use crate::{Telemetry, LIST_CHANGE_KINDS, METHODS, NE, NM, NO, NT, OUTCOMES, TOOL_OUTCOMES, UPSTREAM_OUTCOMES};

impl Telemetry {
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
        enc.header(
            "mcp_upstream_circuits",
            "gauge",
            "Upstream hosts whose circuit breaker is open or half-open (probing), by service.",
        );
        let circuits = self.circuits();
        for (service, open, half_open, _) in &circuits {
            enc.sample("mcp_upstream_circuits", &[("service", service), ("state", "open")], *open);
            enc.sample("mcp_upstream_circuits", &[("service", service), ("state", "half_open")], *half_open);
        }
        enc.header(
            "mcp_upstream_fast_failures_total",
            "counter",
            "Upstream calls refused at once because their host's circuit was open, by service.",
        );
        for (service, _, _, fast) in &circuits {
            enc.sample("mcp_upstream_fast_failures_total", &[("service", service)], *fast);
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
        enc.header(
            "mcp_tasks_total",
            "counter",
            "Tasks (tasks extension) by state: created, and ended on this instance as completed, failed or cancelled.",
        );
        for (state, n) in ["created", "completed", "failed", "cancelled"].iter().zip(self.tasks()) {
            enc.sample("mcp_tasks_total", &[("state", state)], n);
        }
        enc.header(
            "mcp_shared_limit_fallbacks_total",
            "counter",
            "Rate-limit and budget checks decided by this process because the shared (cluster) limits were unreachable.",
        );
        enc.sample("mcp_shared_limit_fallbacks_total", &[], self.limits_fallbacks());
        enc.header(
            "mcp_log_lines_dropped_total",
            "counter",
            "Request log lines dropped because the log writer fell behind (its queue was full).",
        );
        enc.sample("mcp_log_lines_dropped_total", &[], self.log_lines_dropped());
        enc.header("mcp_clients_known", "gauge", "Client implementations (name@version) seen.");
        enc.sample("mcp_clients_known", &[], self.clients_known());
        enc.header("process_start_time_seconds", "gauge", "Start time of the process since the Unix epoch in seconds.");
        enc.sample("process_start_time_seconds", &[], i.started_unix_ms / 1000);
        enc.out
    }
}
