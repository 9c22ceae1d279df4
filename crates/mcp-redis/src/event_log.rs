//! Stream history on Redis, so a client can resume a stream on any instance. Appends from
//! every instance go through one script that numbers the event (the head counter lives in
//! Redis), so a stream's sequence is one order whoever writes.
//!
//! Layout, per session `sid`:
//! - `{prefix}l:{sid}` hash: `h:{stream}` = newest sequence number, `e:{stream}` = 1 once
//!   the stream has ended;
//! - `{prefix}lo:{sid}` list: the session's stream ids, oldest first (for the cap on
//!   streams and for `remove_session`);
//! - `{prefix}l:{sid}:{stream}` list: the retained events, oldest first; the sequence of
//!   the last one is the head, so sequences need not be stored.
//!
//! Bounds as in memory: at most `max_events_per_stream` events per stream (oldest
//! trimmed), `max_streams_per_session` streams per session (oldest dropped whole). Every
//! write refreshes the TTL (`ttl`, tied to the session idle timeout by the caller) of the
//! keys it touched, so an abandoned log disappears on its own.

use std::time::Duration;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use mcp_engine::store::{EventLog, Replay, StoreError, StoredEvent};
use redis::Value;

use crate::client::RedisClient;
use crate::scripts::SCRIPTS;

/// [`EventLog`] on Redis; see the module docs.
pub struct RedisEventLog {
    client: RedisClient,
    max_events_per_stream: usize,
    max_streams_per_session: usize,
    ttl_ms: u64,
}

impl RedisEventLog {
    /// Bounds as [`mcp_engine::store::MemoryEventLog::new`]; a log not written for `ttl`
    /// expires (pass the session idle timeout).
    pub fn new(
        client: RedisClient,
        max_events_per_stream: usize,
        max_streams_per_session: usize,
        ttl: Duration,
    ) -> Self {
        RedisEventLog {
            client,
            max_events_per_stream: max_events_per_stream.max(1),
            max_streams_per_session: max_streams_per_session.max(1),
            ttl_ms: (ttl.as_millis() as u64).max(1),
        }
    }

    fn meta_key(&self, session: &str) -> String {
        self.client.key(&format!("l:{session}"))
    }
    fn order_key(&self, session: &str) -> String {
        self.client.key(&format!("lo:{session}"))
    }
    fn stream_prefix(&self, session: &str) -> String {
        self.client.key(&format!("l:{session}:"))
    }
    fn stream_key(&self, session: &str, stream: &str) -> String {
        self.client.key(&format!("l:{session}:{stream}"))
    }
}

fn parse_replay(v: Value, after: u64) -> Result<Option<Replay>, StoreError> {
    let bad = || StoreError::Unavailable("redis replay: unexpected script reply".into());
    let items = match v {
        Value::Nil => return Ok(None),
        Value::Array(items) => items,
        _ => return Err(bad()),
    };
    let mut it = items.into_iter();
    let ended = matches!(it.next(), Some(Value::Int(1)));
    let Some(Value::Array(raw)) = it.next() else { return Err(bad()) };
    let mut events = Vec::with_capacity(raw.len());
    for (i, e) in raw.into_iter().enumerate() {
        let Value::BulkString(data) = e else { return Err(bad()) };
        events.push(StoredEvent { seq: after + 1 + i as u64, data: Bytes::from(data) });
    }
    Ok(Some(Replay { events, ended }))
}

impl EventLog for RedisEventLog {
    fn append<'a>(
        &'a self,
        session: &'a str,
        stream: &'a str,
        data: Bytes,
        last: bool,
    ) -> BoxFuture<'a, Result<u64, StoreError>> {
        Box::pin(async move {
            let mut c = self.client.conn();
            let mut inv = SCRIPTS.append.prepare_invoke();
            inv.key(self.meta_key(session))
                .key(self.order_key(session))
                .key(self.stream_key(session, stream))
                .arg(stream)
                .arg(data.as_ref())
                .arg(if last { "1" } else { "0" })
                .arg(self.max_events_per_stream)
                .arg(self.max_streams_per_session)
                .arg(self.ttl_ms)
                .arg(self.stream_prefix(session));
            self.client.run("append event", inv.invoke_async(&mut c)).await
        })
    }

    fn end<'a>(&'a self, session: &'a str, stream: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let mut c = self.client.conn();
            let mut inv = SCRIPTS.end.prepare_invoke();
            inv.key(self.meta_key(session))
                .key(self.order_key(session))
                .key(self.stream_key(session, stream))
                .arg(stream)
                .arg(self.max_streams_per_session)
                .arg(self.ttl_ms)
                .arg(self.stream_prefix(session));
            self.client.run::<i64>("end stream", inv.invoke_async(&mut c)).await.map(|_| ())
        })
    }

    fn replay_after<'a>(
        &'a self,
        session: &'a str,
        stream: &'a str,
        after: u64,
    ) -> BoxFuture<'a, Result<Option<Replay>, StoreError>> {
        Box::pin(async move {
            // Sequences in Redis stay far below 2^53 (Lua numbers are doubles); an `after`
            // beyond any head is answered `None` without asking.
            if after >= (1 << 53) {
                return Ok(None);
            }
            let mut c = self.client.conn();
            let mut inv = SCRIPTS.replay.prepare_invoke();
            inv.key(self.meta_key(session)).key(self.stream_key(session, stream)).arg(stream).arg(after);
            let reply: Value = self.client.run("replay", inv.invoke_async(&mut c)).await?;
            parse_replay(reply, after)
        })
    }

    fn head<'a>(&'a self, session: &'a str, stream: &'a str) -> BoxFuture<'a, Result<u64, StoreError>> {
        Box::pin(async move {
            let mut c = self.client.conn();
            let cmd = redis::cmd("HGET").arg(self.meta_key(session)).arg(format!("h:{stream}")).to_owned();
            let head: Option<u64> = self.client.run("stream head", cmd.query_async(&mut c)).await?;
            Ok(head.unwrap_or(0))
        })
    }

    /// Best effort (the trait returns nothing): a failure is logged, and the keys expire
    /// by their TTL anyway.
    fn remove_session<'a>(&'a self, session: &'a str) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let mut c = self.client.conn();
            let mut inv = SCRIPTS.remove_log.prepare_invoke();
            inv.key(self.meta_key(session)).key(self.order_key(session)).arg(self.stream_prefix(session));
            if let Err(e) = self.client.run::<i64>("remove session log", inv.invoke_async(&mut c)).await {
                tracing::warn!(error = %e, "could not remove a session's event log; it will expire");
            }
        })
    }
}
