//! In-memory stores: one process, no persistence. Sharded maps behind short, synchronous
//! critical sections (never held across an await).

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::event_log::{EventLog, Replay, StoredEvent};
use super::session::{new_session_id, Mutation, SessionData, SessionStore};
use super::StoreError;
use futures_util::future::BoxFuture;

const SHARDS: usize = 16;

type Shard<T> = Mutex<HashMap<Arc<str>, T>>;

struct Sharded<T> {
    shards: Box<[Shard<T>]>,
}

impl<T> Sharded<T> {
    fn new() -> Self {
        Sharded { shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect() }
    }
    fn shard(&self, key: &str) -> MutexGuard<'_, HashMap<Arc<str>, T>> {
        let mut h = DefaultHasher::new();
        key.hash(&mut h);
        self.shards[(h.finish() as usize) % SHARDS].lock().unwrap_or_else(|e| e.into_inner())
    }
}

struct Entry {
    data: Arc<SessionData>,
    last_seen: Instant,
}

/// Sessions in process memory, with idle expiry and a cap on live sessions.
pub struct MemorySessionStore {
    map: Sharded<Entry>,
    live: AtomicUsize,
    max_sessions: usize,
    idle_timeout: Duration,
}

impl MemorySessionStore {
    pub fn new(max_sessions: usize, idle_timeout: Duration) -> Self {
        MemorySessionStore { map: Sharded::new(), live: AtomicUsize::new(0), max_sessions, idle_timeout }
    }

    /// Live sessions (expired ones not yet swept included).
    pub fn len(&self) -> usize {
        self.live.load(Ordering::Relaxed)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn expired(&self, e: &Entry, now: Instant) -> bool {
        now.duration_since(e.last_seen) > self.idle_timeout
    }

    fn lookup(&self, id: &str, touch: bool) -> Option<Arc<SessionData>> {
        let now = Instant::now();
        let mut shard = self.map.shard(id);
        let entry = shard.get_mut(id)?;
        if self.expired(entry, now) {
            shard.remove(id);
            self.live.fetch_sub(1, Ordering::Relaxed);
            return None;
        }
        if touch {
            entry.last_seen = now;
        }
        Some(entry.data.clone())
    }

    fn sweep_now(&self) -> Vec<Arc<str>> {
        let now = Instant::now();
        let mut gone = Vec::new();
        for shard in self.map.shards.iter() {
            let mut shard = shard.lock().unwrap_or_else(|e| e.into_inner());
            shard.retain(|id, e| {
                let keep = !self.expired(e, now);
                if !keep {
                    gone.push(id.clone());
                }
                keep
            });
        }
        self.live.fetch_sub(gone.len(), Ordering::Relaxed);
        gone
    }
}

impl SessionStore for MemorySessionStore {
    fn create(&self, data: SessionData) -> BoxFuture<'_, Result<Arc<str>, StoreError>> {
        Box::pin(async move {
            let mut swept = false;
            let mut n = self.live.load(Ordering::Acquire);
            loop {
                if n >= self.max_sessions {
                    // Expired sessions may still be counted: reclaim them once, then decide.
                    if swept || self.sweep_now().is_empty() {
                        return Err(StoreError::Full { max: self.max_sessions });
                    }
                    swept = true;
                    n = self.live.load(Ordering::Acquire);
                    continue;
                }
                match self.live.compare_exchange(n, n + 1, Ordering::AcqRel, Ordering::Acquire) {
                    Ok(_) => break,
                    Err(actual) => n = actual,
                }
            }
            let id: Arc<str> = new_session_id().into();
            let entry = Entry { data: Arc::new(data), last_seen: Instant::now() };
            self.map.shard(&id).insert(id.clone(), entry);
            Ok(id)
        })
    }

    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Arc<SessionData>>, StoreError>> {
        Box::pin(async move { Ok(self.lookup(id, false)) })
    }

    fn touch<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Arc<SessionData>>, StoreError>> {
        Box::pin(async move { Ok(self.lookup(id, true)) })
    }

    fn update<'a>(&'a self, id: &'a str, f: Mutation<'a>) -> BoxFuture<'a, Result<Option<bool>, StoreError>> {
        Box::pin(async move {
            if self.lookup(id, false).is_none() {
                return Ok(None);
            }
            let mut shard = self.map.shard(id);
            let Some(entry) = shard.get_mut(id) else { return Ok(None) };
            let mut data = (*entry.data).clone();
            if !f(&mut data) {
                return Ok(Some(false));
            }
            entry.data = Arc::new(data);
            Ok(Some(true))
        })
    }

    fn delete<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let removed = self.map.shard(id).remove(id);
            if removed.is_some() {
                self.live.fetch_sub(1, Ordering::Relaxed);
            }
            Ok(removed.is_some_and(|e| !self.expired(&e, Instant::now())))
        })
    }

    fn sweep(&self) -> BoxFuture<'_, Vec<Arc<str>>> {
        Box::pin(async move { self.sweep_now() })
    }
}

struct StreamLog {
    next_seq: u64,
    events: VecDeque<StoredEvent>,
    ended: bool,
}

#[derive(Default)]
struct SessionLog {
    streams: HashMap<Arc<str>, StreamLog>,
    /// Stream ids, oldest first, for eviction.
    order: VecDeque<Arc<str>>,
}

/// Event logs in process memory: per stream at most `max_events_per_stream` events (the
/// oldest are dropped), per session at most `max_streams_per_session` streams (the oldest
/// stream is dropped whole).
pub struct MemoryEventLog {
    map: Sharded<SessionLog>,
    max_events_per_stream: usize,
    max_streams_per_session: usize,
}

impl Default for MemoryEventLog {
    fn default() -> Self {
        Self::new(1024, 64)
    }
}

impl MemoryEventLog {
    pub fn new(max_events_per_stream: usize, max_streams_per_session: usize) -> Self {
        MemoryEventLog {
            map: Sharded::new(),
            max_events_per_stream: max_events_per_stream.max(1),
            max_streams_per_session: max_streams_per_session.max(1),
        }
    }

    fn with_stream<R>(&self, session: &str, stream: &str, f: impl FnOnce(&mut StreamLog) -> R) -> R {
        let mut shard = self.map.shard(session);
        let log = shard.entry(Arc::from(session)).or_default();
        if !log.streams.contains_key(stream) {
            if log.order.len() >= self.max_streams_per_session {
                if let Some(old) = log.order.pop_front() {
                    log.streams.remove(&old);
                }
            }
            let key: Arc<str> = Arc::from(stream);
            log.order.push_back(key.clone());
            log.streams.insert(key, StreamLog { next_seq: 1, events: VecDeque::new(), ended: false });
        }
        f(log.streams.get_mut(stream).expect("inserted above"))
    }
}

impl EventLog for MemoryEventLog {
    fn append<'a>(
        &'a self,
        session: &'a str,
        stream: &'a str,
        data: Bytes,
        last: bool,
    ) -> BoxFuture<'a, Result<u64, StoreError>> {
        Box::pin(async move {
            let max = self.max_events_per_stream;
            Ok(self.with_stream(session, stream, |s| {
                let seq = s.next_seq;
                s.next_seq += 1;
                if s.events.len() >= max {
                    s.events.pop_front();
                }
                s.events.push_back(StoredEvent { seq, data });
                s.ended |= last;
                seq
            }))
        })
    }

    fn end<'a>(&'a self, session: &'a str, stream: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            self.with_stream(session, stream, |s| s.ended = true);
            Ok(())
        })
    }

    fn replay_after<'a>(
        &'a self,
        session: &'a str,
        stream: &'a str,
        after: u64,
    ) -> BoxFuture<'a, Result<Option<Replay>, StoreError>> {
        Box::pin(async move {
            let shard = self.map.shard(session);
            let Some(s) = shard.get(session).and_then(|l| l.streams.get(stream)) else { return Ok(None) };
            if after >= s.next_seq {
                return Ok(None);
            }
            // The event right after `after` must still be here (or nothing was logged since).
            let first = s.events.front().map_or(s.next_seq, |e| e.seq);
            if after + 1 < first {
                return Ok(None);
            }
            let events = s.events.iter().filter(|e| e.seq > after).cloned().collect();
            Ok(Some(Replay { events, ended: s.ended }))
        })
    }

    fn head<'a>(&'a self, session: &'a str, stream: &'a str) -> BoxFuture<'a, Result<u64, StoreError>> {
        Box::pin(async move {
            let shard = self.map.shard(session);
            Ok(shard.get(session).and_then(|l| l.streams.get(stream)).map_or(0, |s| s.next_seq - 1))
        })
    }

    fn remove_session<'a>(&'a self, session: &'a str) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            self.map.shard(session).remove(session);
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sessions_expire_and_respect_the_cap() {
        let store = MemorySessionStore::new(2, Duration::from_millis(50));
        let a = store.create(SessionData::default()).await.unwrap();
        let _b = store.create(SessionData::default()).await.unwrap();
        assert!(matches!(store.create(SessionData::default()).await, Err(StoreError::Full { max: 2 })));
        assert!(store.touch(&a).await.unwrap().is_some());
        assert!(store.delete(&a).await.unwrap());
        assert!(store.get(&a).await.unwrap().is_none());
        let c = store.create(SessionData::default()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(80)).await;
        assert!(store.get(&c).await.unwrap().is_none(), "idle sessions expire");
        // The expired one frees its slot even before a sweep.
        store.create(SessionData::default()).await.unwrap();
        store.create(SessionData::default()).await.unwrap();
        assert_eq!(store.len(), 2);
    }

    #[tokio::test]
    async fn updates_apply_atomically() {
        let store = MemorySessionStore::new(10, Duration::from_secs(60));
        let id = store.create(SessionData::default()).await.unwrap();
        assert_eq!(store.update(&id, &|d| d.claim_push("t", 0, u64::MAX)).await.unwrap(), Some(true));
        assert_eq!(store.update(&id, &|d| d.claim_push("u", 0, u64::MAX)).await.unwrap(), Some(false));
        assert_eq!(store.update("nope", &|_| true).await.unwrap(), None);
        assert_eq!(store.get(&id).await.unwrap().unwrap().push.as_ref().unwrap().token, "t");
    }

    #[tokio::test]
    async fn sweep_reports_expired_sessions() {
        let store = MemorySessionStore::new(10, Duration::from_millis(10));
        let id = store.create(SessionData::default()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(30)).await;
        assert_eq!(store.sweep().await, vec![id]);
        assert!(store.is_empty());
    }

    #[tokio::test]
    async fn replay_is_exact_and_per_stream() {
        let log = MemoryEventLog::new(3, 2);
        for i in 1..=2 {
            assert_eq!(log.append("s", "a", Bytes::from(format!("a{i}")), false).await.unwrap(), i);
        }
        log.append("s", "b", Bytes::from_static(b"b1"), false).await.unwrap();
        let r = log.replay_after("s", "a", 1).await.unwrap().unwrap();
        assert_eq!(r.events, vec![StoredEvent { seq: 2, data: Bytes::from_static(b"a2") }]);
        assert!(!r.ended);
        log.append("s", "a", Bytes::from_static(b"a3"), true).await.unwrap();
        let r = log.replay_after("s", "a", 0).await.unwrap().unwrap();
        assert_eq!(r.events.len(), 3);
        assert!(r.ended);
        assert_eq!(log.head("s", "a").await.unwrap(), 3);
        // Trimmed: with a cap of 3 events, seq 1 is gone after a fourth.
        log.append("s", "a", Bytes::from_static(b"a4"), true).await.unwrap();
        assert!(log.replay_after("s", "a", 0).await.unwrap().is_none());
        assert!(log.replay_after("s", "a", 1).await.unwrap().is_some());
        assert!(log.replay_after("s", "zz", 0).await.unwrap().is_none());
        // A third stream evicts the oldest.
        log.append("s", "c", Bytes::from_static(b"c1"), false).await.unwrap();
        assert!(log.replay_after("s", "a", 1).await.unwrap().is_none());
        log.remove_session("s").await;
        assert!(log.replay_after("s", "b", 0).await.unwrap().is_none());
    }
}
