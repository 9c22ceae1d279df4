//! The engine's [`Observer`] hooks, each forwarded to the [`Telemetry`] method that
//! records it: the engine knows the trait, the rest of the process knows the methods.

use std::sync::Arc;

use serde_json::Value;

use crate::Telemetry;
use mcp_engine::jsonrpc::McpError;
use mcp_engine::method::Method;
use mcp_engine::notify::ChangeEvent;
use mcp_engine::observe::{Behaviour, EndReason, Observer, Probe, RequestEnd, Seen, StreamGuard, StreamKind};
use mcp_engine::protocol::{Era, RequestInfo, Transport};

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
        let caller = end.info.and_then(|i| i.caller.id.as_ref());
        self.end_with(probe, seen, caller, end.outcome, end.error, end.tool)
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
    fn task(&self, ended: Option<mcp_engine::store::TaskStatus>) {
        Telemetry::task(self, ended)
    }
    fn limits_fallback(&self) {
        Telemetry::limits_fallback(self)
    }
    fn quota_rejected(&self, reason: &'static str) {
        Telemetry::quota_rejected(self, reason)
    }
}
