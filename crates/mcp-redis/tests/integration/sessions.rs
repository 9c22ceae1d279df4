//! RedisSessionStore: the in-memory store's tests, plus what sharing adds.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::{self, StreamExt};
use mcp_engine::store::{SessionData, SessionStore, StoreError};
use mcp_redis::RedisSessionStore;
use serde_json::json;

use crate::common::{all_keys, assert_all_keys_expire};
use crate::start;

#[tokio::test]
async fn sessions_expire_and_respect_the_cap() {
    let Some(server) = start!() else { return };
    let store = RedisSessionStore::new(server.client().await, 2, Duration::from_millis(400));
    let a = store.create(SessionData::default()).await.unwrap();
    let _b = store.create(SessionData::default()).await.unwrap();
    assert!(matches!(store.create(SessionData::default()).await, Err(StoreError::Full { max: 2 })));
    assert!(store.touch(&a).await.unwrap().is_some());
    assert!(store.delete(&a).await.unwrap());
    assert!(!store.delete(&a).await.unwrap(), "already gone");
    assert!(store.get(&a).await.unwrap().is_none());
    let c = store.create(SessionData::default()).await.unwrap();
    assert_all_keys_expire(&server).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(store.get(&c).await.unwrap().is_none(), "idle sessions expire");
    assert!(store.touch(&c).await.unwrap().is_none(), "touch does not revive");
    assert!(!store.delete(&c).await.unwrap(), "an expired session is not deleted");
    // The expired ones free their slots even before a sweep.
    store.create(SessionData::default()).await.unwrap();
    store.create(SessionData::default()).await.unwrap();
    assert_eq!(store.live().await.unwrap(), 2);
}

#[tokio::test]
async fn touch_restarts_the_idle_timer() {
    let Some(server) = start!() else { return };
    let store = RedisSessionStore::new(server.client().await, 10, Duration::from_millis(600));
    let id = store.create(SessionData { initialized: true, ..Default::default() }).await.unwrap();
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert!(store.touch(&id).await.unwrap().unwrap().initialized);
    }
    // 1 s after creation, kept alive by touches; an untouched get does not refresh.
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert!(store.get(&id).await.unwrap().is_none());
}

#[tokio::test]
async fn updates_apply_atomically() {
    let Some(server) = start!() else { return };
    let store = RedisSessionStore::new(server.client().await, 10, Duration::from_secs(60));
    let id = store.create(SessionData::default()).await.unwrap();
    assert_eq!(store.update(&id, &|d| d.claim_push("t", 0, u64::MAX)).await.unwrap(), Some(true));
    assert_eq!(store.update(&id, &|d| d.claim_push("u", 0, u64::MAX)).await.unwrap(), Some(false));
    assert_eq!(store.update("nope", &|_| true).await.unwrap(), None);
    assert_eq!(store.get(&id).await.unwrap().unwrap().push.as_ref().unwrap().token, "t");
    assert_all_keys_expire(&server).await;
}

fn counter(d: &SessionData) -> u64 {
    d.client_capabilities.get("n").and_then(|n| n.as_u64()).unwrap_or(0)
}

#[tokio::test]
async fn fifty_concurrent_updates_from_two_instances_lose_nothing() {
    let Some(server) = start!() else { return };
    let a = Arc::new(RedisSessionStore::new(server.client().await, 10, Duration::from_secs(60)));
    let b = Arc::new(RedisSessionStore::new(server.client().await, 10, Duration::from_secs(60)));
    let id = a.create(SessionData { client_capabilities: json!({"n": 0}), ..Default::default() }).await.unwrap();
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let store = if i % 2 == 0 { a.clone() } else { b.clone() };
            let id = id.clone();
            tokio::spawn(async move {
                store
                    .update(&id, &|d| {
                        d.client_capabilities = json!({ "n": counter(d) + 1 });
                        true
                    })
                    .await
            })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), Some(true));
    }
    assert_eq!(counter(&b.get(&id).await.unwrap().unwrap()), 50);
}

#[tokio::test]
async fn the_cap_holds_across_instances() {
    let Some(server) = start!() else { return };
    let a = RedisSessionStore::new(server.client().await, 3, Duration::from_secs(60));
    let b = RedisSessionStore::new(server.client().await, 3, Duration::from_secs(60));
    let first = a.create(SessionData::default()).await.unwrap();
    a.create(SessionData::default()).await.unwrap();
    let from_b = b.create(SessionData::default()).await.unwrap();
    assert!(a.get(&from_b).await.unwrap().is_some(), "any instance serves any session");
    assert!(matches!(a.create(SessionData::default()).await, Err(StoreError::Full { max: 3 })));
    assert!(matches!(b.create(SessionData::default()).await, Err(StoreError::Full { max: 3 })));
    assert!(b.delete(&first).await.unwrap(), "one instance deletes another's session");
    b.create(SessionData::default()).await.unwrap();
    assert_eq!(a.live().await.unwrap(), 3);

    // Concurrent creates from both instances admit exactly the free slots.
    let c = RedisSessionStore::new(server.client().await, 20, Duration::from_secs(60));
    let d = RedisSessionStore::new(server.client().await, 20, Duration::from_secs(60));
    let results = stream::iter(0..60)
        .map(|i| {
            let store = if i % 2 == 0 { &c } else { &d };
            store.create(SessionData::default())
        })
        .buffer_unordered(60)
        .collect::<Vec<_>>()
        .await;
    let ok = results.iter().filter(|r| r.is_ok()).count();
    let full = results.iter().filter(|r| matches!(r, Err(StoreError::Full { .. }))).count();
    assert_eq!((ok, full), (17, 43));
}

#[tokio::test]
async fn sweep_reports_expired_sessions() {
    let Some(server) = start!() else { return };
    let store = RedisSessionStore::new(server.client().await, 10, Duration::from_millis(10));
    let id = store.create(SessionData::default()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(30)).await;
    assert_eq!(store.sweep().await, vec![id]);
    assert!(store.sweep().await.is_empty());
    assert_eq!(store.live().await.unwrap(), 0);
    assert!(all_keys(&server).await.is_empty());
}

/// 10,000 sessions expire idle; two instances sweep at once: each id is announced by
/// exactly one of them, and nothing is left in Redis.
#[tokio::test]
async fn ten_thousand_idle_sessions_are_swept_once_and_leave_no_keys() {
    let Some(server) = start!() else { return };
    let idle = Duration::from_millis(800);
    let a = RedisSessionStore::new(server.client().await, 20_000, idle);
    let b = RedisSessionStore::new(server.client().await, 20_000, idle);
    let created: HashSet<Arc<str>> = stream::iter(0..10_000)
        .map(|_| a.create(SessionData::default()))
        .buffer_unordered(200)
        .map(|r| r.unwrap())
        .collect()
        .await;
    assert_eq!(created.len(), 10_000);
    tokio::time::sleep(idle + Duration::from_millis(300)).await;
    let (ga, gb) = tokio::join!(a.sweep(), b.sweep());
    let (sa, sb): (HashSet<_>, HashSet<_>) = (ga.iter().cloned().collect(), gb.iter().cloned().collect());
    assert_eq!(sa.len() + sb.len(), 10_000, "no id announced twice");
    assert!(sa.is_disjoint(&sb));
    assert_eq!(sa.union(&sb).cloned().collect::<HashSet<_>>(), created);
    assert!(all_keys(&server).await.is_empty(), "keys left: {:?}", &all_keys(&server).await[..3]);
}

/// What a real client's session costs in Redis memory while idle.
#[tokio::test]
async fn memory_per_idle_session() {
    let Some(server) = start!() else { return };
    let store = RedisSessionStore::new(server.client().await, 20_000, Duration::from_secs(3600));
    let data = SessionData {
        protocol_version: Some("2025-06-18".into()),
        client_capabilities: json!({
            "roots": { "listChanged": true },
            "sampling": {},
            "elicitation": {}
        }),
        client_info: Some(json!({ "name": "claude-ai", "title": "Claude", "version": "0.1.0" })),
        log_level: None,
        subscriptions: Default::default(),
        caller: Some("5d41402abc4b2a76b9719d911017c592a1b2c3d4e5f60718293a4b5c6d7e8f90".into()),
        initialized: true,
        push: None,
        unresponsive: false,
        http_sse: false,
    };
    let mut raw = server.raw().await;
    let used = |info: String| -> u64 {
        info.lines().find_map(|l| l.strip_prefix("used_memory:")).unwrap().trim().parse().unwrap()
    };
    let before = used(redis::cmd("INFO").arg("memory").query_async(&mut raw).await.unwrap());
    let ids: Vec<Arc<str>> = stream::iter(0..10_000)
        .map(|_| store.create(data.clone()))
        .buffer_unordered(200)
        .map(|r| r.unwrap())
        .collect()
        .await;
    let after = used(redis::cmd("INFO").arg("memory").query_async(&mut raw).await.unwrap());
    let per = (after - before) / 10_000;
    let value_len = serde_json::to_vec(&data).unwrap().len();
    println!("redis memory per idle session: {per} bytes (value {value_len} bytes)");
    assert!(per <= 2048, "{per} bytes per idle session");
    stream::iter(ids.iter()).for_each_concurrent(200, |id| async { assert!(store.delete(id).await.unwrap()) }).await;
    assert!(all_keys(&server).await.is_empty());
}

#[tokio::test]
async fn keys_live_under_the_prefix() {
    let Some(server) = start!() else { return };
    let client = mcp_redis::RedisClient::connect(server.config().with_prefix("tenant-a:")).await.unwrap();
    let store = RedisSessionStore::new(client, 10, Duration::from_secs(60));
    let id = store.create(SessionData::default()).await.unwrap();
    assert_eq!(all_keys(&server).await, vec![format!("tenant-a:s:{id}"), "tenant-a:sessions".to_owned()]);
    let other = RedisSessionStore::new(server.client().await, 10, Duration::from_secs(60));
    assert!(other.get(&id).await.unwrap().is_none(), "another prefix is another deployment");
}

/// Without any sweeper, idle ids do not pile up in the index without bound.
#[tokio::test]
async fn the_index_stays_bounded_without_a_sweeper() {
    let Some(server) = start!() else { return };
    let store = RedisSessionStore::new(server.client().await, 2, Duration::from_millis(20));
    for _ in 0..40 {
        store.create(SessionData::default()).await.unwrap();
        store.create(SessionData::default()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    let mut raw = server.raw().await;
    let n: usize = redis::cmd("ZCARD").arg("hubmcp:sessions").query_async(&mut raw).await.unwrap();
    assert!(n <= 2 * 2 + 16 + 2, "{n} ids in the index");
    assert!(n >= 2);
}
