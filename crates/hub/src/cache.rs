//! A small bounded TTL cache shared by the caches of this crate (token validation, user
//! settings, Space metadata and schemas, per-selection catalogs).
//!
//! Entries past their TTL are not served as fresh but stay available for revalidation
//! (ETag) and change detection until evicted. The map is sharded behind short-lived
//! mutexes that are never held across an await.

use std::borrow::Borrow;
use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hash};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

const SHARDS: usize = 16;

struct Entry<V> {
    value: V,
    stored: Instant,
    ttl: Duration,
}

/// What a lookup found.
pub enum Lookup<V> {
    Fresh(V),
    /// Past its TTL: revalidate or refetch, then [`TtlCache::insert`] or [`TtlCache::touch`].
    Stale(V),
    Missing,
}

pub struct TtlCache<K, V> {
    shards: Vec<Mutex<HashMap<K, Entry<V>>>>,
    hasher: RandomState,
    ttl: Duration,
    /// Entries per shard; beyond it expired entries, then the oldest, are evicted.
    per_shard: usize,
}

impl<K: Hash + Eq + Clone, V: Clone> TtlCache<K, V> {
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        TtlCache {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            hasher: RandomState::new(),
            ttl,
            per_shard: capacity.div_ceil(SHARDS).max(1),
        }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    fn shard<Q: Hash + ?Sized>(&self, key: &Q) -> MutexGuard<'_, HashMap<K, Entry<V>>> {
        let i = (self.hasher.hash_one(key) as usize) % SHARDS;
        self.shards[i].lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn lookup<Q>(&self, key: &Q) -> Lookup<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let shard = self.shard(key);
        match shard.get(key) {
            Some(e) if e.stored.elapsed() < e.ttl => Lookup::Fresh(e.value.clone()),
            Some(e) => Lookup::Stale(e.value.clone()),
            None => Lookup::Missing,
        }
    }

    /// The value if fresh.
    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        match self.lookup(key) {
            Lookup::Fresh(v) => Some(v),
            _ => None,
        }
    }

    pub fn insert(&self, key: K, value: V) {
        self.insert_with_ttl(key, value, self.ttl);
    }

    pub fn insert_with_ttl(&self, key: K, value: V, ttl: Duration) {
        let mut shard = self.shard(&key);
        if shard.len() >= self.per_shard && !shard.contains_key(&key) {
            shard.retain(|_, e| e.stored.elapsed() < e.ttl);
            if shard.len() >= self.per_shard {
                if let Some(oldest) = shard.iter().min_by_key(|(_, e)| e.stored).map(|(k, _)| k.clone()) {
                    shard.remove(&oldest);
                }
            }
        }
        shard.insert(key, Entry { value, stored: Instant::now(), ttl });
    }

    /// Mark an entry fresh again (e.g. after a `304 Not Modified`).
    pub fn touch<Q>(&self, key: &Q)
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        if let Some(e) = self.shard(key).get_mut(key) {
            e.stored = Instant::now();
        }
    }

    pub fn remove<Q>(&self, key: &Q)
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.shard(key).remove(key);
    }

    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_stale_and_bounded() {
        let c: TtlCache<String, u32> = TtlCache::new(Duration::from_millis(30), 32);
        c.insert("a".into(), 1);
        assert!(matches!(c.lookup("a"), Lookup::Fresh(1)));
        std::thread::sleep(Duration::from_millis(40));
        assert!(matches!(c.lookup("a"), Lookup::Stale(1)));
        assert_eq!(c.get("a"), None);
        c.touch("a");
        assert_eq!(c.get("a"), Some(1));
        for i in 0..1000 {
            c.insert(format!("k{i}"), i);
        }
        assert!(c.len() <= 32 + SHARDS, "{}", c.len());
    }
}
