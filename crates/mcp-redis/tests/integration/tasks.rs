//! The task store on Redis, as the in-memory one: capped (across instances), expiring,
//! atomic updates under concurrency, and a record written by one instance readable and
//! updatable by another.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use futures_util::stream::{self, StreamExt};
use mcp_engine::store::task::{TaskRecord, TaskStatus, TaskStore, TaskStoreError};
use mcp_redis::RedisTaskStore;

use crate::start;

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64
}

fn record(id: &str, expires_at_ms: u64) -> TaskRecord {
    TaskRecord::sample(id, expires_at_ms)
}

#[tokio::test]
async fn capped_across_instances_expiring_and_shared() {
    let Some(server) = start!() else { return };
    let a = RedisTaskStore::new(server.client().await, 2);
    let b = RedisTaskStore::new(server.client().await, 2);
    let hour = now_ms() + 3_600_000;
    a.create(record("t1", hour)).await.unwrap();
    b.create(record("short", now_ms() + 150)).await.unwrap();
    assert!(matches!(b.create(record("t3", hour)).await, Err(TaskStoreError::Full { max: 2 })), "cap counts both");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(a.get("short").await.unwrap().is_none(), "expired");
    b.create(record("t3", hour)).await.unwrap();
    // Written by one instance, read and updated by the other.
    let u = b
        .update("t1", &|r| {
            r.status = TaskStatus::Completed;
            true
        })
        .await
        .unwrap()
        .unwrap();
    assert!(u.applied);
    assert_eq!(a.get("t1").await.unwrap().unwrap().status, TaskStatus::Completed);
    assert!(a.update("nope", &|_| true).await.unwrap().is_none());
    let unchanged = a.update("t1", &|_| false).await.unwrap().unwrap();
    assert!(!unchanged.applied);
}

#[tokio::test]
async fn concurrent_updates_lose_nothing() {
    let Some(server) = start!() else { return };
    let store = Arc::new(RedisTaskStore::new(server.client().await, 10));
    store.create(record("t", now_ms() + 3_600_000)).await.unwrap();
    stream::iter(0..50)
        .for_each_concurrent(16, |i| {
            let store = store.clone();
            async move {
                store
                    .update("t", &|r| {
                        r.answers.insert(format!("k{i}"), serde_json::json!(i));
                        true
                    })
                    .await
                    .unwrap();
            }
        })
        .await;
    assert_eq!(store.get("t").await.unwrap().unwrap().answers.len(), 50);
}
