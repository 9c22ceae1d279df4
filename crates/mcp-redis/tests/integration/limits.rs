//! RedisLimits: the engine's RateLimiter / WindowBudget semantics, counted in Redis.

use std::time::Duration;

use futures_util::stream::{self, StreamExt};
use mcp_engine::limits::{Budget, Decision, Rate, SharedLimits, Spend};
use mcp_redis::RedisLimits;

use crate::common::assert_all_keys_expire;
use crate::start;

#[tokio::test]
async fn bucket_allows_burst_then_refills() {
    let Some(server) = start!() else { return };
    let l = RedisLimits::new(server.client().await);
    let rate = Rate::new(60, 3);
    for i in 0..3 {
        assert_eq!(l.take("a:1", rate).await.unwrap(), Decision::Allowed { limit: 3, remaining: 2 - i });
    }
    let Decision::Limited { retry_after, limit } = l.take("a:1", rate).await.unwrap() else { panic!("limited") };
    assert_eq!(limit, 3);
    assert!(retry_after <= Duration::from_secs(1) && retry_after > Duration::from_millis(500), "{retry_after:?}");
    // Another key is independent.
    assert!(l.take("a:2", rate).await.unwrap().is_allowed());
    // Ten per second refills one token within 100 ms.
    let fast = Rate::new(600, 1);
    assert!(l.take("c:u", fast).await.unwrap().is_allowed());
    assert!(!l.take("c:u", fast).await.unwrap().is_allowed());
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert!(l.take("c:u", fast).await.unwrap().is_allowed());
    assert_all_keys_expire(&server).await;
}

#[tokio::test]
async fn unlimited_rate_and_budget_never_limit() {
    let Some(server) = start!() else { return };
    let l = RedisLimits::new(server.client().await);
    for _ in 0..100 {
        assert!(l.take("a:1", Rate::UNLIMITED).await.unwrap().is_allowed());
        let b = Budget { uses: 0, window: Duration::from_secs(60) };
        assert!(matches!(l.spend("c:u", b).await.unwrap(), Spend::Allowed { remaining: u32::MAX, .. }));
    }
    assert!(crate::common::all_keys(&server).await.is_empty());
}

#[tokio::test]
async fn concurrent_takes_from_several_instances_share_one_bucket() {
    let Some(server) = start!() else { return };
    let clients = [server.client().await, server.client().await, server.client().await];
    let limits: Vec<RedisLimits> = clients.into_iter().map(RedisLimits::new).collect();
    let rate = Rate::new(1, 10);
    let allowed = stream::iter(0..60)
        .map(|i| limits[i % 3].take("c:u", rate))
        .buffer_unordered(60)
        .filter(|d| std::future::ready(d.as_ref().unwrap().is_allowed()))
        .count()
        .await;
    assert_eq!(allowed, 10);
}

#[tokio::test]
async fn window_budget_counts_refunds_and_resets() {
    let Some(server) = start!() else { return };
    let l = RedisLimits::new(server.client().await);
    let b = Budget { uses: 2, window: Duration::from_secs(60) };
    assert!(matches!(l.spend("c:u", b).await.unwrap(), Spend::Allowed { remaining: 1, .. }));
    assert!(matches!(l.spend("c:u", b).await.unwrap(), Spend::Allowed { remaining: 0, .. }));
    let Spend::Exhausted { limit, resets_in } = l.spend("c:u", b).await.unwrap() else { panic!("exhausted") };
    assert_eq!(limit, 2);
    assert!(resets_in <= Duration::from_secs(60) && resets_in > Duration::from_secs(30), "{resets_in:?}");
    l.refund("c:u", b).await.unwrap();
    assert!(matches!(l.spend("c:u", b).await.unwrap(), Spend::Allowed { remaining: 0, .. }));
    assert!(matches!(l.spend("c:u", b).await.unwrap(), Spend::Exhausted { .. }));
    // Refunds never go below zero.
    l.refund("c:v", b).await.unwrap();
    l.refund("c:v", b).await.unwrap();
    assert!(matches!(l.spend("c:v", b).await.unwrap(), Spend::Allowed { remaining: 1, .. }));
    assert_all_keys_expire(&server).await;
    // A short window resets.
    let short = Budget { uses: 1, window: Duration::from_millis(200) };
    assert!(matches!(l.spend("c:w", short).await.unwrap(), Spend::Allowed { remaining: 0, .. }));
    assert!(matches!(l.spend("c:w", short).await.unwrap(), Spend::Exhausted { .. }));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(matches!(l.spend("c:w", short).await.unwrap(), Spend::Allowed { remaining: 0, .. }));
}

/// N concurrent spends from several clients against a budget of K admit exactly min(N, K).
#[tokio::test]
async fn concurrent_spends_admit_exactly_the_budget() {
    let Some(server) = start!() else { return };
    let clients = [server.client().await, server.client().await, server.client().await, server.client().await];
    let limits: Vec<RedisLimits> = clients.into_iter().map(RedisLimits::new).collect();
    let b = Budget { uses: 37, window: Duration::from_secs(60) };
    for (key, n) in [("c:many", 200usize), ("c:few", 20)] {
        let allowed = stream::iter(0..n)
            .map(|i| limits[i % 4].spend(key, b))
            .buffer_unordered(n)
            .filter(|s| std::future::ready(matches!(s.as_ref().unwrap(), Spend::Allowed { .. })))
            .count()
            .await;
        assert_eq!(allowed, n.min(37), "{key}");
    }
}
