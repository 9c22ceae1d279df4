//! Upstream MCP sessions kept between calls, so a caller's second call to a Space skips the
//! `initialize` → `notifications/initialized` handshake (two of the three round trips of a
//! proxied call).
//!
//! * Keyed by (Space subdomain, hash of the caller's token): the token travels in
//!   `X-HF-Authorization` and a Space may bind a session to it, so different tokens never
//!   share an entry. Anonymous callers (no token) only share *sessionless* entries.
//! * A Space that answers `initialize` without an `Mcp-Session-Id` (Gradio's MCP server is
//!   stateless) gets a sessionless entry: "this Space needs no handshake". Such an entry is
//!   shared by concurrent calls and stays in place when taken.
//! * An entry with a session id is taken out for exclusive use by one call and given back
//!   when the call succeeds; a call that fails or is cancelled closes its session instead.
//!   Concurrent calls of one caller thus use separate sessions, at most
//!   [`MAX_SESSIONS_PER_KEY`] of which are kept.
//! * Bounded: at most `capacity` entries in all, each idle at most `idle` (expired entries
//!   of every key are swept out at least every `idle / 2`, on the next give-back); what
//!   falls out is returned to the caller of [`SessionPool::give_back`] /
//!   [`SessionPool::take`] so it can close those sessions (`DELETE`) outside the lock. No
//!   lock is held across an await.
//! * A pooled session the Space has forgotten (404) is dropped by the proxy, which then
//!   runs a fresh handshake.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Sessions kept per (Space, caller) at most.
pub const MAX_SESSIONS_PER_KEY: usize = 4;

/// Who a pooled session belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PoolKey {
    pub subdomain: String,
    /// `token_hash` of the caller's token; `None` for anonymous callers.
    pub caller: Option<String>,
}

/// What a finished handshake established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamSession {
    /// `None`: the Space is stateless and needs no handshake.
    pub id: Option<String>,
    /// The negotiated protocol revision (sent as `MCP-Protocol-Version`).
    pub version: String,
    /// The replica named by `X-Proxied-Replica`, sent back for stickiness.
    pub replica: Option<String>,
}

struct Entry {
    session: UpstreamSession,
    last_used: Instant,
}

/// The pool; one per process.
pub struct SessionPool {
    capacity: usize,
    idle: Duration,
    entries: Mutex<Entries>,
}

struct Entries {
    by_key: HashMap<PoolKey, Vec<Entry>>,
    last_sweep: Instant,
}

/// Sessions that left the pool (expired or over capacity) and should be closed.
pub type Evicted = Vec<UpstreamSession>;

impl SessionPool {
    /// `capacity` 0 disables pooling (every call runs its own handshake).
    pub fn new(capacity: usize, idle: Duration) -> Self {
        let entries = Entries { by_key: HashMap::new(), last_sweep: Instant::now() };
        SessionPool { capacity, idle, entries: Mutex::new(entries) }
    }

    pub fn enabled(&self) -> bool {
        self.capacity > 0
    }

    /// A session for this key, if one is pooled and fresh; plus any expired ones to close.
    pub fn take(&self, key: &PoolKey) -> (Option<UpstreamSession>, Evicted) {
        if !self.enabled() {
            return (None, Vec::new());
        }
        let now = Instant::now();
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let map = &mut entries.by_key;
        let mut evicted = Vec::new();
        let Some(list) = map.get_mut(key) else { return (None, evicted) };
        list.retain_mut(|e| {
            let fresh = now.duration_since(e.last_used) < self.idle;
            if !fresh && e.session.id.is_some() {
                evicted.push(e.session.clone());
            }
            fresh
        });
        let found = match list.iter_mut().position(|e| e.session.id.is_none()) {
            Some(i) => {
                list[i].last_used = now;
                Some(list[i].session.clone())
            }
            None => list.pop().map(|e| e.session),
        };
        if list.is_empty() {
            map.remove(key);
        }
        (found, evicted)
    }

    /// Return a session after a successful call (or record a sessionless Space). Anonymous
    /// callers' sessions are not kept: they are handed back for closing.
    pub fn give_back(&self, key: PoolKey, session: UpstreamSession) -> Evicted {
        if !self.enabled() || (key.caller.is_none() && session.id.is_some()) {
            return if session.id.is_some() { vec![session] } else { Vec::new() };
        }
        let now = Instant::now();
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let mut evicted = Vec::new();
        if now.duration_since(entries.last_sweep) >= self.idle / 2 {
            entries.last_sweep = now;
            evicted.extend(Self::sweep(&mut entries.by_key, now, self.idle));
        }
        let map = &mut entries.by_key;
        let list = map.entry(key.clone()).or_default();
        if session.id.is_none() {
            // One sessionless entry per key says it all.
            if let Some(e) = list.iter_mut().find(|e| e.session.id.is_none()) {
                e.last_used = now;
                return evicted;
            }
        } else if list.len() >= MAX_SESSIONS_PER_KEY {
            evicted.push(session);
            return evicted;
        }
        list.push(Entry { session, last_used: now });
        let total: usize = map.values().map(Vec::len).sum();
        if total > self.capacity {
            evicted.extend(Self::evict_oldest(map, total - self.capacity));
        }
        evicted
    }

    /// Drop every expired entry; the sessions among them are returned for closing.
    fn sweep(map: &mut HashMap<PoolKey, Vec<Entry>>, now: Instant, idle: Duration) -> Evicted {
        let mut evicted = Vec::new();
        map.retain(|_, list| {
            list.retain(|e| {
                let fresh = now.duration_since(e.last_used) < idle;
                if !fresh && e.session.id.is_some() {
                    evicted.push(e.session.clone());
                }
                fresh
            });
            !list.is_empty()
        });
        evicted
    }

    /// Forget what is pooled for a key (the Space answered 404 for one of its sessions, or
    /// the sessionless shortcut stopped working).
    pub fn forget(&self, key: &PoolKey) -> Evicted {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .by_key
            .remove(key)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|e| e.session.id.is_some().then_some(e.session))
            .collect()
    }

    /// Entries in the pool (for tests and diagnostics).
    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).by_key.values().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn evict_oldest(map: &mut HashMap<PoolKey, Vec<Entry>>, n: usize) -> Evicted {
        let mut all: Vec<(Instant, PoolKey, usize)> = map
            .iter()
            .flat_map(|(k, list)| list.iter().enumerate().map(move |(i, e)| (e.last_used, k.clone(), i)))
            .collect();
        all.sort_by_key(|(t, ..)| *t);
        let mut doomed: HashMap<PoolKey, Vec<usize>> = HashMap::new();
        for (_, k, i) in all.into_iter().take(n) {
            doomed.entry(k).or_default().push(i);
        }
        let mut evicted = Vec::new();
        for (k, mut idx) in doomed {
            idx.sort_unstable_by(|a, b| b.cmp(a));
            if let Some(list) = map.get_mut(&k) {
                for i in idx {
                    let e = list.remove(i);
                    if e.session.id.is_some() {
                        evicted.push(e.session);
                    }
                }
                if list.is_empty() {
                    map.remove(&k);
                }
            }
        }
        evicted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(sub: &str, caller: Option<&str>) -> PoolKey {
        PoolKey { subdomain: sub.into(), caller: caller.map(str::to_owned) }
    }
    fn session(id: Option<&str>) -> UpstreamSession {
        UpstreamSession { id: id.map(str::to_owned), version: "2025-06-18".into(), replica: None }
    }

    #[test]
    fn sessions_are_exclusive_and_per_caller() {
        let pool = SessionPool::new(16, Duration::from_secs(60));
        assert!(pool.give_back(key("s", Some("alice")), session(Some("a1"))).is_empty());
        assert_eq!(pool.take(&key("s", Some("bob"))).0, None, "another token never gets alice's session");
        assert_eq!(pool.take(&key("t", Some("alice"))).0, None, "another Space neither");
        assert_eq!(pool.take(&key("s", Some("alice"))).0, Some(session(Some("a1"))));
        assert_eq!(pool.take(&key("s", Some("alice"))).0, None, "taken out: one call at a time");
    }

    #[test]
    fn sessionless_entries_are_shared_and_stay() {
        let pool = SessionPool::new(16, Duration::from_secs(60));
        pool.give_back(key("s", None), session(None));
        assert_eq!(pool.take(&key("s", None)).0, Some(session(None)));
        assert_eq!(pool.take(&key("s", None)).0, Some(session(None)));
        pool.give_back(key("s", None), session(None));
        assert_eq!(pool.len(), 1);
    }

    #[test]
    fn anonymous_sessions_are_not_kept() {
        let pool = SessionPool::new(16, Duration::from_secs(60));
        assert_eq!(pool.give_back(key("s", None), session(Some("x"))), vec![session(Some("x"))]);
        assert!(pool.is_empty());
    }

    #[test]
    fn bounded_by_capacity_idle_time_and_per_key() {
        let pool = SessionPool::new(2, Duration::from_secs(60));
        pool.give_back(key("a", Some("c")), session(Some("1")));
        pool.give_back(key("b", Some("c")), session(Some("2")));
        let evicted = pool.give_back(key("c", Some("c")), session(Some("3")));
        assert_eq!(evicted, vec![session(Some("1"))], "the least recently used goes");
        assert_eq!(pool.len(), 2);

        let pool = SessionPool::new(100, Duration::from_secs(60));
        for i in 0..MAX_SESSIONS_PER_KEY + 1 {
            let out = pool.give_back(key("a", Some("c")), session(Some(&i.to_string())));
            assert_eq!(out.len(), usize::from(i == MAX_SESSIONS_PER_KEY));
        }

        let pool = SessionPool::new(100, Duration::ZERO);
        pool.give_back(key("a", Some("c")), session(Some("old")));
        let (found, evicted) = pool.take(&key("a", Some("c")));
        assert_eq!((found, evicted), (None, vec![session(Some("old"))]));

        let off = SessionPool::new(0, Duration::from_secs(60));
        assert_eq!(off.give_back(key("a", Some("c")), session(Some("1"))).len(), 1);
        assert_eq!(off.take(&key("a", Some("c"))).0, None);
    }

    #[test]
    fn expired_entries_of_other_keys_are_swept() {
        let pool = SessionPool::new(16, Duration::from_millis(40));
        pool.give_back(key("idle", Some("c")), session(Some("old")));
        std::thread::sleep(Duration::from_millis(60));
        let evicted = pool.give_back(key("busy", Some("c")), session(Some("new")));
        assert_eq!(evicted, vec![session(Some("old"))], "closed though its key was never taken again");
        assert_eq!(pool.len(), 1);
    }

    #[test]
    fn forget_drops_a_key() {
        let pool = SessionPool::new(16, Duration::from_secs(60));
        pool.give_back(key("s", Some("c")), session(Some("1")));
        pool.give_back(key("s", Some("c")), session(None));
        assert_eq!(pool.forget(&key("s", Some("c"))), vec![session(Some("1"))]);
        assert!(pool.is_empty());
    }
}
