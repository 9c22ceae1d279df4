//! RedisBus: events published on one instance reach every instance, each exactly once.

use std::time::Duration;

use mcp_engine::jsonrpc::Id;
use mcp_engine::{Audience, ChangeEvent, NotificationBus, SessionEvent};
use mcp_redis::RedisBus;
use tokio::sync::broadcast;

use crate::common::eventually;
use crate::start;

pub async fn next<T: Clone>(rx: &mut broadcast::Receiver<T>) -> T {
    tokio::time::timeout(Duration::from_secs(5), rx.recv()).await.expect("an event within 5 s").unwrap()
}

pub async fn subscribed(buses: &[&RedisBus]) {
    assert!(
        eventually(Duration::from_secs(10), || async { buses.iter().all(|b| b.is_subscribed()) }).await,
        "buses subscribed"
    );
}

#[tokio::test]
async fn events_cross_instances_exactly_once() {
    let Some(server) = start!() else { return };
    let a = RedisBus::new(&server.client().await, 64);
    let b = RedisBus::new(&server.client().await, 64);
    subscribed(&[&a, &b]).await;
    let (mut ra, mut rb) = (a.subscribe(), b.subscribe());
    let (mut sa, mut sb) = (a.subscribe_sessions().unwrap(), b.subscribe_sessions().unwrap());

    let change = ChangeEvent::ToolsListChanged(Audience::Caller("u1".into()));
    a.publish(change.clone());
    assert_eq!(*next(&mut ra).await, change, "the publisher hears its own event");
    assert_eq!(*next(&mut rb).await, change);
    let marker = ChangeEvent::ResourceUpdated { uri: "mark".into() };
    b.publish(marker.clone());
    assert_eq!(*next(&mut ra).await, marker, "no duplicate before the marker");
    assert_eq!(*next(&mut rb).await, marker);

    let answer = SessionEvent::ClientResponse {
        session: "s1".into(),
        id: Id::Num(3),
        ok: true,
        body: serde_json::json!({"action": "accept", "content": {"x": 1}}),
    };
    b.publish_session(answer.clone());
    assert_eq!(*next(&mut sa).await, answer);
    assert_eq!(*next(&mut sb).await, answer);
    let ended = SessionEvent::Ended { session: "s1".into() };
    a.publish_session(ended.clone());
    assert_eq!(*next(&mut sa).await, ended);
    assert_eq!(*next(&mut sb).await, ended);
    assert!(ra.try_recv().is_err() && rb.try_recv().is_err(), "session events stay off the change channel");

    assert_eq!(a.stats().dropped.load(std::sync::atomic::Ordering::Relaxed), 0);
    assert_eq!(a.stats().local_fallback.load(std::sync::atomic::Ordering::Relaxed), 0);
}

#[tokio::test]
async fn another_prefix_is_another_bus() {
    let Some(server) = start!() else { return };
    let a = RedisBus::new(&server.client().await, 64);
    let other = mcp_redis::RedisClient::connect(server.config().with_prefix("other:")).await.unwrap();
    let b = RedisBus::new(&other, 64);
    subscribed(&[&a, &b]).await;
    let mut rb = b.subscribe();
    a.publish(ChangeEvent::PromptsListChanged(Audience::Everyone));
    let mark = ChangeEvent::ResourceUpdated { uri: "mark".into() };
    b.publish(mark.clone());
    assert_eq!(*next(&mut rb).await, mark);
}
