//! Tasks in process memory: one map behind a short synchronous critical section (never
//! held across an await), a cap on stored tasks, and expiry by each record's
//! `expires_at_ms` (checked on access; expired records are purged when the cap is hit, and
//! at most once a second by a `create`, so finished tasks do not sit in memory until the
//! cap — a soak showed the store growing by every task ever run).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use super::task::{TaskMutation, TaskRecord, TaskStore, TaskStoreError, Updated};
use futures_util::future::BoxFuture;

/// Tasks of this process only: `tasks/get` on another instance will not find them.
pub struct MemoryTaskStore {
    map: Mutex<HashMap<String, TaskRecord>>,
    max_tasks: usize,
    /// When expired records were last purged (unix ms), and how often they are.
    purged_at_ms: AtomicU64,
    purge_every_ms: u64,
}

impl MemoryTaskStore {
    pub fn new(max_tasks: usize) -> Self {
        MemoryTaskStore {
            map: Mutex::new(HashMap::new()),
            max_tasks: max_tasks.max(1),
            purged_at_ms: AtomicU64::new(0),
            purge_every_ms: 1000,
        }
    }

    /// Purge expired records at most this often (default 1 s).
    pub fn with_purge_interval(mut self, every: Duration) -> Self {
        self.purge_every_ms = every.as_millis() as u64;
        self
    }

    /// Stored tasks (expired ones not yet purged included).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every stored record (tests, diagnostics).
    pub fn snapshot(&self) -> Vec<TaskRecord> {
        self.lock().values().cloned().collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, TaskRecord>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn live<'a>(map: &'a mut HashMap<String, TaskRecord>, id: &str, now: u64) -> Option<&'a mut TaskRecord> {
        if map.get(id).is_some_and(|r| r.expires_at_ms <= now) {
            map.remove(id);
            return None;
        }
        map.get_mut(id)
    }
}

impl TaskStore for MemoryTaskStore {
    fn create(&self, record: TaskRecord) -> BoxFuture<'_, Result<(), TaskStoreError>> {
        let now = crate::tasks::now_ms();
        let outcome = {
            let mut map = self.lock();
            let due = now >= self.purged_at_ms.load(Ordering::Relaxed).saturating_add(self.purge_every_ms);
            if due || map.len() >= self.max_tasks {
                map.retain(|_, r| r.expires_at_ms > now);
                self.purged_at_ms.store(now, Ordering::Relaxed);
            }
            if map.len() >= self.max_tasks {
                Err(TaskStoreError::Full { max: self.max_tasks })
            } else {
                map.insert(record.id.clone(), record);
                Ok(())
            }
        };
        Box::pin(async move { outcome })
    }

    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<TaskRecord>, TaskStoreError>> {
        let now = crate::tasks::now_ms();
        let found = Self::live(&mut self.lock(), id, now).cloned();
        Box::pin(async move { Ok(found) })
    }

    fn update<'a>(
        &'a self,
        id: &'a str,
        f: TaskMutation<'a>,
    ) -> BoxFuture<'a, Result<Option<Updated>, TaskStoreError>> {
        let now = crate::tasks::now_ms();
        let out = {
            let mut map = self.lock();
            Self::live(&mut map, id, now).map(|record| {
                let applied = f(record);
                Updated { applied, record: record.clone() }
            })
        };
        Box::pin(async move { Ok(out) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::task::TaskStatus;

    fn record(id: &str, expires_at_ms: u64) -> TaskRecord {
        TaskRecord::sample(id, expires_at_ms)
    }

    #[tokio::test]
    async fn capped_expiring_and_atomic() {
        let store = MemoryTaskStore::new(2);
        store.create(record("a", u64::MAX)).await.unwrap();
        store.create(record("gone", 1)).await.unwrap();
        assert!(store.get("gone").await.unwrap().is_none(), "expired");
        // The expired record is purged when the cap is reached.
        store.create(record("b", u64::MAX)).await.unwrap();
        assert!(matches!(store.create(record("c", u64::MAX)).await, Err(TaskStoreError::Full { max: 2 })));
        let u = store
            .update("a", &|r| {
                r.status = TaskStatus::Completed;
                true
            })
            .await
            .unwrap()
            .unwrap();
        assert!(u.applied && u.record.status == TaskStatus::Completed);
        assert!(store.update("nope", &|_| true).await.unwrap().is_none());
        let json = serde_json::to_string(&u.record).unwrap();
        let back: TaskRecord = serde_json::from_str(&json).unwrap();
        assert_eq!(back.status, TaskStatus::Completed);
    }

    #[tokio::test]
    async fn expired_records_are_purged_before_the_cap() {
        let store = MemoryTaskStore::new(100).with_purge_interval(Duration::ZERO);
        store.create(record("gone", 1)).await.unwrap();
        store.create(record("kept", u64::MAX)).await.unwrap();
        assert_eq!(store.len(), 1, "the expired record went when the next task was created");
        // Purges are rate-limited: with a long interval, nothing goes until it passes.
        let slow = MemoryTaskStore::new(100).with_purge_interval(Duration::from_secs(3600));
        slow.create(record("first", u64::MAX)).await.unwrap(); // the first create purges
        slow.create(record("gone", 1)).await.unwrap();
        slow.create(record("b", u64::MAX)).await.unwrap();
        assert_eq!(slow.len(), 3);
    }
}
