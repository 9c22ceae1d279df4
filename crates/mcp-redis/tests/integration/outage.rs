//! Redis goes away mid-test and comes back: operations fail with `Unavailable` within the
//! timeouts (never hang), the bus keeps delivering the instance's own change events, and
//! everything works again after the restart with the same objects (no new process).
//! Also: the URL's password never appears in errors or Debug output.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use mcp_engine::limits::{Budget, Rate, SharedLimits};
use mcp_engine::store::{EventLog, SessionData, SessionStore, StoreError};
use mcp_engine::{Audience, ChangeEvent, NotificationBus, SessionEvent};
use mcp_redis::{RedisBus, RedisClient, RedisConfig, RedisEventLog, RedisLimits, RedisSessionStore};

use crate::bus::{next, subscribed};
use crate::common::eventually;
use crate::start;

/// Far above the configured timeouts: a bound on the wait, not a timing assertion.
const BOUND: Duration = Duration::from_secs(10);

async fn bounded<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(BOUND, f).await.expect("returned within the bound")
}

fn unavailable<T: std::fmt::Debug>(r: Result<T, StoreError>) -> String {
    match r {
        Err(StoreError::Unavailable(msg)) => msg,
        other => panic!("expected Unavailable, got {other:?}"),
    }
}

#[tokio::test]
async fn operations_fail_fast_while_redis_is_down_and_recover_after_restart() {
    let Some(mut server) = start!() else { return };
    let fast = |c: RedisConfig| c.with_timeouts(Duration::from_millis(500), Duration::from_millis(500));
    let client = RedisClient::connect(fast(server.config())).await.unwrap();
    let other = RedisClient::connect(fast(server.config())).await.unwrap();
    let store = RedisSessionStore::new(client.clone(), 100, Duration::from_secs(60));
    let log = RedisEventLog::new(client.clone(), 10, 4, Duration::from_secs(60));
    let limits = RedisLimits::new(client.clone());
    let bus = RedisBus::new(&client, 64);
    let remote = RedisBus::new(&other, 64);
    subscribed(&[&bus, &remote]).await;
    let id = store.create(SessionData::default()).await.unwrap();
    let mut local = bus.subscribe();

    server.stop();

    unavailable(bounded(store.get(&id)).await);
    unavailable(bounded(store.touch(&id)).await);
    unavailable(bounded(store.create(SessionData::default())).await);
    unavailable(bounded(store.update(&id, &|_| true)).await);
    unavailable(bounded(store.delete(&id)).await);
    assert!(bounded(store.sweep()).await.is_empty());
    unavailable(bounded(log.append(&id, "g", Bytes::from_static(b"x"), false)).await);
    unavailable(bounded(log.replay_after(&id, "g", 0)).await);
    unavailable(bounded(log.head(&id, "g")).await);
    bounded(log.remove_session(&id)).await;
    unavailable(bounded(limits.take("c:u", Rate::new(60, 5))).await);
    unavailable(bounded(limits.spend("c:u", Budget { uses: 5, window: Duration::from_secs(60) })).await);
    unavailable(bounded(client.ping()).await);
    // Publishing never blocks, and local listeners still hear this instance's changes.
    let change = ChangeEvent::ToolsListChanged(Audience::Everyone);
    bounded(async { bus.publish(change.clone()) }).await;
    assert_eq!(*next(&mut local).await, change);
    bounded(async { bus.publish_session(SessionEvent::Ended { session: id.clone() }) }).await;
    assert!(
        eventually(BOUND, || async { bus.stats().dropped.load(std::sync::atomic::Ordering::Relaxed) >= 1 }).await,
        "undeliverable events are counted"
    );

    server.restart();

    // Same objects, no reconnect by hand: the connection manager and the bus recover.
    assert!(eventually(Duration::from_secs(20), || async { client.ping().await.is_ok() }).await);
    let id = bounded(store.create(SessionData::default())).await.unwrap();
    assert!(store.touch(&id).await.unwrap().is_some());
    assert_eq!(log.append(&id, "g", Bytes::from_static(b"x"), false).await.unwrap(), 1);
    assert!(limits.take("c:u", Rate::new(60, 5)).await.unwrap().is_allowed());
    subscribed(&[&bus, &remote]).await;
    let mut heard = remote.subscribe();
    let change = ChangeEvent::ResourceUpdated { uri: "after".into() };
    bus.publish(change.clone());
    assert_eq!(*next(&mut heard).await, change, "the bus resubscribed");
    let mut mine = bus.subscribe();
    let again = ChangeEvent::ResourceUpdated { uri: "again".into() };
    remote.publish(again.clone());
    assert_eq!(*next(&mut mine).await, again);
}

#[tokio::test]
async fn the_password_never_shows() {
    let Some(mut server) = start!("--requirepass", "s3cret-Pw") else { return };
    let port = server.port;
    let url = move |pw: &str| format!("redis://default:{pw}@127.0.0.1:{port}/0");
    let cfg =
        |pw: &str| RedisConfig::new(url(pw)).with_timeouts(Duration::from_millis(500), Duration::from_millis(500));

    let wrong = unavailable(RedisClient::connect(cfg("wr0ng-Pw")).await);
    assert!(!wrong.contains("wr0ng-Pw"), "{wrong}");
    assert!(wrong.contains(&format!("redis://default:***@127.0.0.1:{}/0", server.port)), "{wrong}");

    let client = RedisClient::connect(cfg("s3cret-Pw")).await.unwrap();
    client.ping().await.unwrap();
    for shown in [format!("{:?}", client), format!("{:?}", client.config()), format!("{}", client.config())] {
        assert!(!shown.contains("s3cret"), "{shown}");
    }
    assert_eq!(client.config().redacted_url(), format!("redis://default:***@127.0.0.1:{}/0", server.port));
    let store = Arc::new(RedisSessionStore::new(client.clone(), 10, Duration::from_secs(60)));
    let id = store.create(SessionData::default()).await.unwrap();

    server.stop();
    let errors = [
        unavailable(bounded(store.get(&id)).await),
        unavailable(bounded(client.ping()).await),
        unavailable(RedisClient::connect(cfg("s3cret-Pw")).await),
    ];
    for e in errors {
        assert!(!e.contains("s3cret"), "{e}");
        println!("while down: {e}");
    }
}
