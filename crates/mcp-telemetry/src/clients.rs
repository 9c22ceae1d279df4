//! Per-client-implementation aggregates and behaviour flags: the client-behaviour dataset.
//!
//! A client is its implementation, `name@version` from `clientInfo` (normalised and
//! capped) — never an address, token or user. Entries live in a slab allocated once
//! (`cap` slots plus one `other` slot for everything beyond the cap); a request finds its
//! slot through a sharded map keyed by a hash of the raw name and version (one read lock
//! on one shard), then updates atomics only.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};
use std::sync::{Mutex, OnceLock, RwLock};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{format_rfc3339, parse_rfc3339};
use mcp_engine::protocol::{Era, Transport, SESSION_VERSIONS, STATELESS_VERSIONS};

/// Protocol versions with their own bit; anything else sets the `other` bit.
fn known_versions() -> impl Iterator<Item = &'static str> {
    STATELESS_VERSIONS.iter().chain(SESSION_VERSIONS.iter()).copied()
}

pub fn version_bit(version: &str) -> u32 {
    known_versions().position(|v| v == version).map_or(1 << 31, |i| 1 << i)
}

fn version_names(bits: u32) -> Vec<String> {
    let mut out: Vec<String> =
        known_versions().enumerate().filter(|(i, _)| bits & (1 << i) != 0).map(|(_, v)| v.to_owned()).collect();
    out.sort();
    if bits & (1 << 31) != 0 {
        out.push("other".into());
    }
    out
}

/// Client capabilities recorded (top-level and the sub-features that change behaviour).
pub const CAPABILITIES: &[&str] = &[
    "roots",
    "roots.listChanged",
    "sampling",
    "sampling.context",
    "sampling.tools",
    "elicitation",
    "elicitation.form",
    "elicitation.url",
    "tasks",
    "experimental",
    "extensions",
    "other",
];

fn cap_bit(name: &str) -> u32 {
    let i = CAPABILITIES.iter().position(|c| *c == name).unwrap_or(CAPABILITIES.len() - 1);
    1 << i
}

/// The capability bits of a `capabilities` object.
pub fn capability_bits(caps: &Value) -> u32 {
    let Value::Object(map) = caps else { return 0 };
    let mut bits = 0;
    for (k, v) in map {
        if v.is_null() {
            continue;
        }
        bits |= cap_bit(k);
        if let (Some(sub), "roots" | "sampling" | "elicitation") = (v.as_object(), k.as_str()) {
            for (sk, sv) in sub {
                if !sv.is_null() && sv != &Value::Bool(false) {
                    let name = format!("{k}.{sk}");
                    if CAPABILITIES.contains(&name.as_str()) {
                        bits |= cap_bit(&name);
                    }
                }
            }
        }
    }
    bits
}

fn names_of(bits: u32, names: &[&str]) -> Vec<String> {
    names.iter().enumerate().filter(|(i, _)| bits & (1 << i) != 0).map(|(_, n)| (*n).to_owned()).collect()
}

pub const TRANSPORTS: &[&str] = &["streamable_http", "http_sse", "stdio"];
pub const ERAS: &[&str] = &["stateless", "session"];

pub fn transport_index(t: Transport) -> usize {
    match t {
        Transport::StreamableHttp => 0,
        Transport::Sse => 1,
        Transport::Stdio => 2,
    }
}

pub fn era_index(e: Era) -> usize {
    match e {
        Era::Stateless => 0,
        Era::Session => 1,
    }
}

/// Behaviours, as bits of [`ClientEntry::flags`].
pub mod flag {
    pub const GET_STREAM: u32 = 1 << 0;
    pub const DELETE: u32 = 1 << 1;
    pub const SESSION: u32 = 1 << 2;
    pub const REUSES_SESSION: u32 = 1 << 3;
    pub const LIST_CHANGED_SENT: u32 = 1 << 4;
    pub const RELISTS: u32 = 1 << 5;
    pub const RESUMES: u32 = 1 << 6;
    pub const DISCOVER: u32 = 1 << 7;
    pub const INPUT_ASKED: u32 = 1 << 8;
    pub const INPUT_ANSWERED: u32 = 1 << 9;
    pub const ABANDONS_SESSION: u32 = 1 << 10;
    pub const LISTENS: u32 = 1 << 11;
}

/// One client implementation's aggregates.
#[derive(Default)]
pub struct ClientEntry {
    ident: OnceLock<Ident>,
    pub requests: AtomicU64,
    pub errors: AtomicU64,
    pub sessions: AtomicU64,
    pub first_seen_ms: AtomicU64,
    pub last_seen_ms: AtomicU64,
    versions: AtomicU32,
    capabilities: AtomicU32,
    /// Bits 0..3 transports, 8..10 eras.
    transports: AtomicU32,
    flags: AtomicU32,
    /// When a list-changed notification last went to this implementation on a
    /// `subscriptions/listen` stream (stateless era).
    pub list_changed_ms: AtomicU64,
}

struct Ident {
    name: String,
    version: String,
    key: String,
}

#[inline]
fn set_bits(a: &AtomicU32, bits: u32) {
    if a.load(Relaxed) & bits != bits {
        a.fetch_or(bits, Relaxed);
    }
}

impl ClientEntry {
    /// `name@version` (or `name` alone when there is no version).
    pub fn key(&self) -> &str {
        self.ident.get().map_or("unknown", |i| i.key.as_str())
    }

    pub fn set_flag(&self, bits: u32) {
        set_bits(&self.flags, bits);
    }

    pub fn has_flag(&self, bits: u32) -> bool {
        self.flags.load(Relaxed) & bits == bits
    }

    /// One request (or request-like message) seen from this implementation.
    #[inline]
    pub fn seen(&self, now_ms: u64, era: Era, transport: Transport, version_bits: u32, caps: Option<&Value>) {
        self.requests.fetch_add(1, Relaxed);
        self.touch(now_ms);
        set_bits(&self.transports, (1 << transport_index(transport)) | (1 << (8 + era_index(era))));
        if version_bits != 0 {
            set_bits(&self.versions, version_bits);
        }
        if let Some(c) = caps {
            let bits = capability_bits(c);
            if bits != 0 {
                set_bits(&self.capabilities, bits);
            }
        }
    }

    pub fn touch(&self, now_ms: u64) {
        self.last_seen_ms.store(now_ms, Relaxed);
        if self.first_seen_ms.load(Relaxed) == 0 {
            let _ = self.first_seen_ms.compare_exchange(0, now_ms, Relaxed, Relaxed);
        }
    }

    pub fn record(&self) -> ClientRecord {
        let ident = self.ident.get();
        let flags = self.flags.load(Relaxed);
        let has = |b: u32| flags & b != 0;
        let transports = self.transports.load(Relaxed);
        let session = has(flag::SESSION);
        ClientRecord {
            client: self.key().to_owned(),
            name: ident.map_or("unknown".into(), |i| i.name.clone()),
            version: ident.map_or(String::new(), |i| i.version.clone()),
            protocol_versions: version_names(self.versions.load(Relaxed)),
            eras: names_of(transports >> 8, ERAS),
            capabilities: names_of(self.capabilities.load(Relaxed), CAPABILITIES),
            transports: names_of(transports & 0xff, TRANSPORTS),
            first_seen: format_rfc3339(self.first_seen_ms.load(Relaxed)),
            last_seen: format_rfc3339(self.last_seen_ms.load(Relaxed)),
            requests: self.requests.load(Relaxed),
            errors: self.errors.load(Relaxed),
            sessions: self.sessions.load(Relaxed),
            opens_get_streams: has(flag::GET_STREAM),
            sends_delete: has(flag::DELETE),
            reuses_sessions: session.then_some(has(flag::REUSES_SESSION)),
            abandons_sessions: session.then_some(has(flag::ABANDONS_SESSION)),
            relists_after_list_changed: has(flag::LIST_CHANGED_SENT).then_some(has(flag::RELISTS)),
            resumes_with_last_event_id: has(flag::RESUMES),
            uses_server_discover: has(flag::DISCOVER),
            listens_for_changes: has(flag::LISTENS),
            answers_input_requests: has(flag::INPUT_ASKED).then_some(has(flag::INPUT_ANSWERED)),
        }
    }

    fn absorb(&self, r: &ClientRecord) {
        self.requests.fetch_add(r.requests, Relaxed);
        self.errors.fetch_add(r.errors, Relaxed);
        self.sessions.fetch_add(r.sessions, Relaxed);
        if let Some(first) = parse_rfc3339(&r.first_seen) {
            let cur = self.first_seen_ms.load(Relaxed);
            if cur == 0 || first < cur {
                self.first_seen_ms.store(first, Relaxed);
            }
        }
        if let Some(last) = parse_rfc3339(&r.last_seen) {
            self.last_seen_ms.fetch_max(last, Relaxed);
        }
        let vbits = r.protocol_versions.iter().fold(0, |b, v| b | version_bit(v));
        set_bits(&self.versions, vbits);
        let cbits = r.capabilities.iter().fold(0, |b, c| b | cap_bit(c));
        set_bits(&self.capabilities, cbits);
        let mut t = 0;
        for (i, n) in TRANSPORTS.iter().enumerate() {
            if r.transports.iter().any(|x| x == n) {
                t |= 1 << i;
            }
        }
        for (i, n) in ERAS.iter().enumerate() {
            if r.eras.iter().any(|x| x == n) {
                t |= 1 << (8 + i);
            }
        }
        set_bits(&self.transports, t);
        let mut f = 0;
        let mut on = |cond: bool, b: u32| {
            if cond {
                f |= b;
            }
        };
        on(r.opens_get_streams, flag::GET_STREAM);
        on(r.sends_delete, flag::DELETE);
        on(r.reuses_sessions.is_some() || r.abandons_sessions.is_some(), flag::SESSION);
        on(r.reuses_sessions == Some(true), flag::REUSES_SESSION);
        on(r.abandons_sessions == Some(true), flag::ABANDONS_SESSION);
        on(r.relists_after_list_changed.is_some(), flag::LIST_CHANGED_SENT);
        on(r.relists_after_list_changed == Some(true), flag::RELISTS);
        on(r.resumes_with_last_event_id, flag::RESUMES);
        on(r.uses_server_discover, flag::DISCOVER);
        on(r.listens_for_changes, flag::LISTENS);
        on(r.answers_input_requests.is_some(), flag::INPUT_ASKED);
        on(r.answers_input_requests == Some(true), flag::INPUT_ANSWERED);
        set_bits(&self.flags, f);
    }
}

/// One row of the client-behaviour dataset (`hubmcp clients export`, `/api/clients`).
/// Tri-state fields are `null` when the behaviour could not be observed (e.g. no
/// list-changed notification was ever sent to the client).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientRecord {
    /// `name@version`.
    pub client: String,
    pub name: String,
    pub version: String,
    pub protocol_versions: Vec<String>,
    /// `stateless` (2026-07-28) and/or `session` (2024-11-05 … 2025-11-25).
    pub eras: Vec<String>,
    pub capabilities: Vec<String>,
    pub transports: Vec<String>,
    pub first_seen: String,
    pub last_seen: String,
    pub requests: u64,
    pub errors: u64,
    pub sessions: u64,
    pub opens_get_streams: bool,
    pub sends_delete: bool,
    pub reuses_sessions: Option<bool>,
    pub abandons_sessions: Option<bool>,
    pub relists_after_list_changed: Option<bool>,
    pub resumes_with_last_event_id: bool,
    pub uses_server_discover: bool,
    #[serde(default)]
    pub listens_for_changes: bool,
    pub answers_input_requests: Option<bool>,
}

/// A hasher for keys that already are hashes.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type Aliases = HashMap<u64, u32, BuildHasherDefault<IdHasher>>;

const SHARDS: usize = 16;

/// FNV-1a over the raw name and version (no allocation; not DoS-relevant: the table is
/// bounded and collisions only merge two implementations' figures).
pub(super) fn raw_hash(name: &str, version: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes().chain(std::iter::once(0xff)).chain(version.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Keep printable ASCII that names software; cap the length.
pub fn normalise(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max));
    let mut space = false;
    for c in s.trim().chars() {
        if out.len() >= max {
            break;
        }
        if c.is_whitespace() {
            space = true;
            continue;
        }
        if space && !out.is_empty() {
            out.push(' ');
        }
        space = false;
        if c.is_ascii_alphanumeric() || "-_.@/:+()#~".contains(c) {
            out.push(c);
        } else {
            out.push('_');
        }
    }
    out
}

thread_local! {
    /// (table id, raw hash, slot) of the last lookup on this thread.
    static LAST_CLIENT: std::cell::Cell<(usize, u64, u32)> = const { std::cell::Cell::new((0, 0, 0)) };
}

/// Distinct ids for tables (so a thread-local cache never answers for another table).
pub(super) fn next_table_id() -> usize {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(1);
    NEXT.fetch_add(1, Relaxed)
}

/// The client table.
pub struct Clients {
    id: usize,
    slab: Box<[ClientEntry]>,
    shards: Box<[RwLock<Aliases>]>,
    /// Normalised key → slot; the allocation path (first sight of an implementation).
    by_key: Mutex<HashMap<String, u32>>,
    aliases_cap: usize,
}

impl Clients {
    pub fn new(cap: usize) -> Self {
        let cap = cap.max(1);
        let slab: Box<[ClientEntry]> = (0..=cap).map(|_| ClientEntry::default()).collect();
        let _ = slab[cap].ident.set(Ident { name: "other".into(), version: String::new(), key: "other".into() });
        Clients {
            id: next_table_id(),
            slab,
            shards: (0..SHARDS).map(|_| RwLock::new(Aliases::default())).collect(),
            by_key: Mutex::new(HashMap::new()),
            aliases_cap: cap * 4,
        }
    }

    fn other(&self) -> u32 {
        (self.slab.len() - 1) as u32
    }

    pub fn entry(&self, slot: u32) -> &ClientEntry {
        &self.slab[(slot as usize).min(self.slab.len() - 1)]
    }

    /// The slot of the implementation named by a `clientInfo` object (`None`: unknown).
    #[inline]
    pub fn slot_of(&self, client_info: Option<&Value>) -> u32 {
        let (mut name, mut version) = ("", "");
        if let Some(Value::Object(o)) = client_info {
            for (k, v) in o {
                match (k.as_str(), v) {
                    ("name", Value::String(s)) => name = s,
                    ("version", Value::String(s)) => version = s,
                    _ => {}
                }
            }
        }
        self.slot(name, version)
    }

    pub fn slot(&self, name: &str, version: &str) -> u32 {
        let h = raw_hash(name, version);
        // A connection's requests come from one client: a per-thread one-entry cache spares
        // the shard's lock and map on the hot path.
        if let Some(s) = LAST_CLIENT.with(|c| {
            let (table, hash, slot) = c.get();
            (table == self.id && hash == h).then_some(slot)
        }) {
            return s;
        }
        let shard = &self.shards[(h as usize) % SHARDS];
        let found = shard.read().unwrap_or_else(|e| e.into_inner()).get(&h).copied();
        let slot = match found {
            Some(s) => s,
            None => self.allocate(h, name, version),
        };
        LAST_CLIENT.with(|c| c.set((self.id, h, slot)));
        slot
    }

    #[cold]
    fn allocate(&self, h: u64, name: &str, version: &str) -> u32 {
        let mut name = normalise(name, 64);
        if name.is_empty() {
            name = "unknown".into();
        }
        let version = normalise(version, 32);
        let key = if version.is_empty() { name.clone() } else { format!("{name}@{version}") };
        let slot = {
            let mut by_key = self.by_key.lock().unwrap_or_else(|e| e.into_inner());
            match by_key.get(&key) {
                Some(&s) => s,
                None if by_key.len() < self.slab.len() - 1 => {
                    let s = by_key.len() as u32;
                    let _ = self.slab[s as usize].ident.set(Ident { name, version, key: key.clone() });
                    by_key.insert(key, s);
                    s
                }
                None => self.other(),
            }
        };
        let shard = &self.shards[(h as usize) % SHARDS];
        let mut aliases = shard.write().unwrap_or_else(|e| e.into_inner());
        if aliases.len() < self.aliases_cap / SHARDS + 1 {
            aliases.insert(h, slot);
        }
        slot
    }

    /// Every implementation seen, busiest first.
    pub fn records(&self) -> Vec<ClientRecord> {
        let used = self.by_key.lock().unwrap_or_else(|e| e.into_inner()).len();
        let mut out: Vec<ClientRecord> = self.slab[..used]
            .iter()
            .chain(std::iter::once(&self.slab[self.slab.len() - 1]))
            .filter(|e| e.requests.load(Relaxed) > 0 || e.sessions.load(Relaxed) > 0)
            .map(ClientEntry::record)
            .collect();
        out.sort_by(|a, b| b.requests.cmp(&a.requests).then_with(|| a.client.cmp(&b.client)));
        out
    }

    pub fn known(&self) -> usize {
        self.by_key.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Merge records saved earlier (a snapshot file) into the table.
    pub fn absorb(&self, records: &[ClientRecord]) {
        for r in records {
            let slot = if r.client == "other" { self.other() } else { self.slot(&r.name, &r.version) };
            self.entry(slot).absorb(r);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_normalised_and_the_table_is_bounded() {
        let c = Clients::new(2);
        let a = c.slot_of(Some(&serde_json::json!({"name": "  Claude\tCode ", "version": "1.0"})));
        assert_eq!(c.entry(a).key(), "Claude Code@1.0");
        assert_eq!(c.slot("Claude Code", "1.0"), a, "the same key after normalisation");
        let b = c.slot("x\"<script>", "");
        assert_eq!(c.entry(b).key(), "x__script_");
        assert_eq!(c.slot("third", "1"), 2, "beyond the cap: other");
        assert_eq!(c.entry(2).key(), "other");
        assert_eq!(c.entry(c.slot_of(None)).key(), "other");
        assert_eq!(normalise(&"a".repeat(100), 64).len(), 64);
    }

    #[test]
    fn records_round_trip_through_absorb() {
        let c = Clients::new(8);
        let s = c.slot("cli", "2");
        let e = c.entry(s);
        e.seen(
            1_700_000_000_000,
            Era::Session,
            Transport::StreamableHttp,
            version_bit("2025-06-18"),
            Some(&serde_json::json!({"roots": {"listChanged": true}, "sampling": {}, "weird": {}})),
        );
        e.set_flag(flag::SESSION | flag::GET_STREAM | flag::INPUT_ASKED);
        e.sessions.fetch_add(1, Relaxed);
        let r = e.record();
        assert_eq!(r.capabilities, ["roots", "roots.listChanged", "sampling", "other"]);
        assert_eq!(r.protocol_versions, ["2025-06-18"]);
        assert_eq!((r.eras.clone(), r.transports.clone()), (vec!["session".into()], vec!["streamable_http".into()]));
        assert_eq!(
            (r.reuses_sessions, r.answers_input_requests, r.relists_after_list_changed),
            (Some(false), Some(false), None)
        );
        let d = Clients::new(8);
        d.absorb(std::slice::from_ref(&r));
        assert_eq!(d.records(), vec![r]);
    }
}
