//! Session-era lifecycles and long-lived streams: sessions opened, initialized, reused
//! and ended, streams open, change notifications sent — what only the session driver and
//! the transports see, recorded per session and per client implementation.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use serde_json::Value;

use crate::clients::{flag, transport_index};
use crate::connections;
use crate::{Telemetry, RELIST_WINDOW_MS};
use mcp_engine::method::Method;
use mcp_engine::notify::ChangeEvent;
use mcp_engine::observe::{Behaviour, EndReason, StreamGuard, StreamKind};
use mcp_engine::protocol::Transport;

impl Telemetry {
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
}
