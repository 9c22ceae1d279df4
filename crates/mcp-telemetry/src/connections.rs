//! The live registry of this process's sessions and long-lived streams, for the
//! dashboard's connection view and the session/stream gauges.
//!
//! Sessions are keyed by their id (sharded); the dashboard only ever shows the first 8
//! characters. Streams are counted by kind with RAII guards ([`StreamGuard`]), so a
//! stream that ends any way at all (client gone, session ended, shutdown) is uncounted.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};

use serde::Serialize;

use super::{format_rfc3339, Telemetry};
use mcp_engine::observe::StreamKind;
use mcp_engine::protocol::Transport;

pub const STREAM_KINDS: &[&str] = &["request", "push", "resume", "http_sse", "listen"];

pub const END_REASONS: &[&str] = &["delete", "idle", "closed"];

/// One live session.
pub struct SessionEntry {
    pub short: String,
    pub transport: Transport,
    pub client: AtomicU32,
    pub protocol_version: Mutex<Option<String>>,
    pub created_ms: u64,
    pub last_seen_ms: AtomicU64,
    pub requests: AtomicU64,
    pub push_streams: AtomicI64,
    pub request_streams: AtomicI64,
    pub unresponsive: AtomicBool,
    /// When a list-changed notification last went to this session (unix ms, 0: never).
    pub list_changed_ms: AtomicU64,
}

#[derive(Serialize)]
pub struct SessionView {
    pub id: String,
    pub transport: &'static str,
    pub client: String,
    pub protocol_version: Option<String>,
    pub created: String,
    pub last_seen: String,
    pub idle_seconds: u64,
    pub requests: u64,
    pub push_stream: bool,
    pub request_streams: i64,
    /// `unresponsive`, `streaming`, `active` (a request in the last minute) or `idle`.
    pub state: &'static str,
}

struct ListenEntry {
    client: u32,
    opened_ms: u64,
}

#[derive(Serialize)]
pub struct ListenView {
    pub client: String,
    pub opened: String,
    pub open_seconds: u64,
}

const SHARDS: usize = 8;
type Shard = Mutex<HashMap<Arc<str>, Arc<SessionEntry>>>;

pub struct Connections {
    shards: Box<[Shard]>,
    listens: Mutex<HashMap<u64, ListenEntry>>,
    next_stream: AtomicU64,
    pub streams_open: [AtomicI64; 5],
    pub streams_opened: [AtomicU64; 5],
    pub sessions_created: [AtomicU64; 3],
    pub sessions_ended: [AtomicU64; 3],
}

fn shard_of(id: &str) -> usize {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    id.hash(&mut h);
    (h.finish() as usize) % SHARDS
}

pub fn transport_name(t: Transport) -> &'static str {
    super::clients::TRANSPORTS[super::clients::transport_index(t)]
}

impl Default for Connections {
    fn default() -> Self {
        Connections {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            listens: Mutex::new(HashMap::new()),
            next_stream: AtomicU64::new(1),
            streams_open: Default::default(),
            streams_opened: Default::default(),
            sessions_created: Default::default(),
            sessions_ended: Default::default(),
        }
    }
}

impl Connections {
    fn shard(&self, id: &str) -> std::sync::MutexGuard<'_, HashMap<Arc<str>, Arc<SessionEntry>>> {
        self.shards[shard_of(id)].lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn get(&self, id: &str) -> Option<Arc<SessionEntry>> {
        self.shard(id).get(id).cloned()
    }

    /// Register a session (a no-op when it is already known).
    pub fn open(&self, id: &Arc<str>, transport: Transport, client: u32, version: Option<&str>, now_ms: u64) -> bool {
        let mut shard = self.shard(id);
        if shard.contains_key(id) {
            return false;
        }
        shard.insert(
            id.clone(),
            Arc::new(SessionEntry {
                short: id.chars().take(8).collect(),
                transport,
                client: AtomicU32::new(client),
                protocol_version: Mutex::new(version.map(str::to_owned)),
                created_ms: now_ms,
                last_seen_ms: AtomicU64::new(now_ms),
                requests: AtomicU64::new(0),
                push_streams: AtomicI64::new(0),
                request_streams: AtomicI64::new(0),
                unresponsive: AtomicBool::new(false),
                list_changed_ms: AtomicU64::new(0),
            }),
        );
        true
    }

    pub fn close(&self, id: &str) -> Option<Arc<SessionEntry>> {
        self.shard(id).remove(id)
    }

    pub fn active_by_transport(&self) -> [u64; 3] {
        let mut out = [0; 3];
        for s in self.shards.iter() {
            for e in s.lock().unwrap_or_else(|e| e.into_inner()).values() {
                out[super::clients::transport_index(e.transport)] += 1;
            }
        }
        out
    }

    pub fn sessions(&self, tel: &Telemetry, now_ms: u64, limit: usize) -> (usize, Vec<SessionView>) {
        let mut all: Vec<Arc<SessionEntry>> = Vec::new();
        for s in self.shards.iter() {
            all.extend(s.lock().unwrap_or_else(|e| e.into_inner()).values().cloned());
        }
        let total = all.len();
        all.sort_by_key(|e| std::cmp::Reverse(e.last_seen_ms.load(Relaxed)));
        let views = all
            .into_iter()
            .take(limit)
            .map(|e| {
                let last = e.last_seen_ms.load(Relaxed);
                let idle = now_ms.saturating_sub(last) / 1000;
                let push = e.push_streams.load(Relaxed) > 0;
                let streams = e.request_streams.load(Relaxed).max(0);
                let state = if e.unresponsive.load(Relaxed) {
                    "unresponsive"
                } else if push || streams > 0 {
                    "streaming"
                } else if idle < 60 {
                    "active"
                } else {
                    "idle"
                };
                SessionView {
                    id: format!("{}…", e.short),
                    transport: transport_name(e.transport),
                    client: tel.client_key(e.client.load(Relaxed)),
                    protocol_version: e.protocol_version.lock().unwrap_or_else(|e| e.into_inner()).clone(),
                    created: format_rfc3339(e.created_ms),
                    last_seen: format_rfc3339(last),
                    idle_seconds: idle,
                    requests: e.requests.load(Relaxed),
                    push_stream: push,
                    request_streams: streams,
                    state,
                }
            })
            .collect();
        (total, views)
    }

    pub fn listens(&self, tel: &Telemetry, now_ms: u64, limit: usize) -> Vec<ListenView> {
        let l = self.listens.lock().unwrap_or_else(|e| e.into_inner());
        let mut v: Vec<&ListenEntry> = l.values().collect();
        v.sort_by_key(|e| e.opened_ms);
        v.into_iter()
            .take(limit)
            .map(|e| ListenView {
                client: tel.client_key(e.client),
                opened: format_rfc3339(e.opened_ms),
                open_seconds: now_ms.saturating_sub(e.opened_ms) / 1000,
            })
            .collect()
    }

    pub(super) fn stream_opened(
        &self,
        kind: StreamKind,
        session: Option<&SessionEntry>,
        listen: Option<(u32, u64)>,
    ) -> u64 {
        self.streams_open[kind as usize].fetch_add(1, Relaxed);
        self.streams_opened[kind as usize].fetch_add(1, Relaxed);
        if let Some(s) = session {
            match kind {
                StreamKind::Push => s.push_streams.fetch_add(1, Relaxed),
                _ => s.request_streams.fetch_add(1, Relaxed),
            };
        }
        let id = self.next_stream.fetch_add(1, Relaxed);
        if let Some((client, opened_ms)) = listen {
            self.listens.lock().unwrap_or_else(|e| e.into_inner()).insert(id, ListenEntry { client, opened_ms });
        }
        id
    }

    fn stream_closed(&self, kind: StreamKind, session: Option<&SessionEntry>, id: u64) {
        self.streams_open[kind as usize].fetch_sub(1, Relaxed);
        if let Some(s) = session {
            match kind {
                StreamKind::Push => s.push_streams.fetch_sub(1, Relaxed),
                _ => s.request_streams.fetch_sub(1, Relaxed),
            };
        }
        if kind == StreamKind::Listen {
            self.listens.lock().unwrap_or_else(|e| e.into_inner()).remove(&id);
        }
    }
}

/// Counts a stream as open until dropped (boxed into the engine's `StreamGuard`).
pub(super) struct OpenStream {
    pub(super) tel: Telemetry,
    pub(super) kind: StreamKind,
    pub(super) session: Option<Arc<SessionEntry>>,
    pub(super) id: u64,
}

impl Drop for OpenStream {
    fn drop(&mut self) {
        self.tel.connections().stream_closed(self.kind, self.session.as_deref(), self.id);
    }
}
