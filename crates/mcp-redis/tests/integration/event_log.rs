//! RedisEventLog: the in-memory log's tests, plus ordering across writers and cleanup.

use std::collections::HashSet;
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::{self, StreamExt};
use mcp_engine::store::{EventLog, StoredEvent};
use mcp_redis::RedisEventLog;

use crate::common::{all_keys, assert_all_keys_expire};
use crate::start;

#[tokio::test]
async fn replay_is_exact_and_per_stream() {
    let Some(server) = start!() else { return };
    let log = RedisEventLog::new(server.client().await, 3, 2, Duration::from_secs(60));
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
    assert_eq!(r.events.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![1, 2, 3]);
    assert!(r.ended);
    assert_eq!(log.head("s", "a").await.unwrap(), 3);
    let r = log.replay_after("s", "a", 3).await.unwrap().unwrap();
    assert!(r.events.is_empty() && r.ended, "nothing after the head, but the stream is known");
    assert!(log.replay_after("s", "a", 4).await.unwrap().is_none(), "beyond the head");
    // Trimmed: with a cap of 3 events, seq 1 is gone after a fourth.
    log.append("s", "a", Bytes::from_static(b"a4"), true).await.unwrap();
    assert!(log.replay_after("s", "a", 0).await.unwrap().is_none());
    let r = log.replay_after("s", "a", 1).await.unwrap().unwrap();
    assert_eq!(
        r.events.iter().map(|e| (e.seq, e.data.clone())).collect::<Vec<_>>(),
        vec![(2, Bytes::from_static(b"a2")), (3, Bytes::from_static(b"a3")), (4, Bytes::from_static(b"a4"))]
    );
    assert!(log.replay_after("s", "zz", 0).await.unwrap().is_none());
    assert!(log.replay_after("other", "a", 0).await.unwrap().is_none(), "per session");
    assert_all_keys_expire(&server).await;
    // A third stream evicts the oldest.
    log.append("s", "c", Bytes::from_static(b"c1"), false).await.unwrap();
    assert!(log.replay_after("s", "a", 1).await.unwrap().is_none());
    assert_eq!(log.head("s", "a").await.unwrap(), 0);
    assert!(log.replay_after("s", "b", 0).await.unwrap().is_some());
    log.remove_session("s").await;
    assert!(log.replay_after("s", "b", 0).await.unwrap().is_none());
    assert!(all_keys(&server).await.is_empty(), "{:?}", all_keys(&server).await);
}

#[tokio::test]
async fn end_marks_a_stream_even_without_events() {
    let Some(server) = start!() else { return };
    let log = RedisEventLog::new(server.client().await, 10, 4, Duration::from_secs(60));
    assert_eq!(log.head("s", "q").await.unwrap(), 0);
    log.end("s", "q").await.unwrap();
    let r = log.replay_after("s", "q", 0).await.unwrap().unwrap();
    assert!(r.events.is_empty() && r.ended);
    log.append("s", "p", Bytes::from_static(b"p1"), false).await.unwrap();
    log.end("s", "p").await.unwrap();
    let r = log.replay_after("s", "p", 0).await.unwrap().unwrap();
    assert_eq!(r.events.len(), 1);
    assert!(r.ended);
    assert_all_keys_expire(&server).await;
}

/// Writers on several instances append to one stream: every event gets its own number,
/// and replay returns them in that order.
#[tokio::test]
async fn appends_from_several_instances_are_numbered_once() {
    let Some(server) = start!() else { return };
    let a = RedisEventLog::new(server.client().await, 1000, 4, Duration::from_secs(60));
    let b = RedisEventLog::new(server.client().await, 1000, 4, Duration::from_secs(60));
    let seqs: Vec<(u64, String)> = stream::iter(0..200)
        .map(|i| {
            let log = if i % 2 == 0 { &a } else { &b };
            async move {
                let data = format!("m{i}");
                (log.append("s", "g", Bytes::from(data.clone()), false).await.unwrap(), data)
            }
        })
        .buffer_unordered(50)
        .collect()
        .await;
    let distinct: HashSet<u64> = seqs.iter().map(|(s, _)| *s).collect();
    assert_eq!(distinct, (1..=200).collect());
    let replay = b.replay_after("s", "g", 0).await.unwrap().unwrap();
    for (seq, data) in seqs {
        assert_eq!(replay.events[(seq - 1) as usize], StoredEvent { seq, data: Bytes::from(data) });
    }
    assert_eq!(a.head("s", "g").await.unwrap(), 200);
}

#[tokio::test]
async fn an_abandoned_log_expires() {
    let Some(server) = start!() else { return };
    let log = RedisEventLog::new(server.client().await, 10, 4, Duration::from_millis(200));
    log.append("s", "a", Bytes::from_static(b"x"), false).await.unwrap();
    log.end("s", "b").await.unwrap();
    assert!(!all_keys(&server).await.is_empty());
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(log.replay_after("s", "a", 0).await.unwrap().is_none());
    assert!(all_keys(&server).await.is_empty());
}
