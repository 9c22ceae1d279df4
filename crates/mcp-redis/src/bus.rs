//! The notification bus across instances, on Redis pub/sub.
//!
//! `publish`/`publish_session` never wait on Redis: they hand the event to a bounded
//! outbox drained by one publisher task (batches of `PUBLISH` in a pipeline, each batch
//! bounded by the command timeout). A subscriber task holds a dedicated pub/sub connection
//! to the two channels (`{prefix}bus:changes`, `{prefix}bus:sessions`), reconnects with
//! backoff when it drops, and relays what arrives into local `broadcast` channels — which
//! is what `subscribe`/`subscribe_sessions` hand out. Task signals (the tasks extension's
//! answers, cancellations and changes) travel the same way on `{prefix}bus:tasks`. An instance hears its own events
//! through Redis like everyone else's, so each listener gets each event exactly once.
//!
//! While Redis is unreachable (the choice, per kind of event):
//! - a change event published while this instance is not subscribed is delivered to the
//!   local listeners at once (and still sent to Redis if that works: the other instances
//!   may be reachable); one whose send fails, or that finds the outbox full, is delivered
//!   locally then. So the instance's own clients keep hearing its own changes.
//! - a session event is only for other instances (the transport tried its own process
//!   first), so it is dropped and counted.
//!
//! Pub/sub does not store messages: what is published while an instance is disconnected
//! never reaches it. An event can in rare races be delivered twice locally (a send that
//! timed out yet reached Redis); list-changed notifications tolerate that.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use mcp_engine::notify::TaskSignal;
use mcp_engine::{ChangeEvent, NotificationBus, SessionEvent};
use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinHandle;

use crate::client::RedisClient;
use crate::wire;

/// Events waiting to be published; beyond this, publishing drops (and counts).
const OUTBOX: usize = 4096;
/// PUBLISH commands per pipeline.
const BATCH: usize = 64;
/// How often the subscriber checks its connection is alive.
const PING_EVERY: Duration = Duration::from_secs(5);
const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);

/// Counters for telemetry.
#[derive(Debug, Default)]
pub struct BusStats {
    /// Events handed to Redis.
    pub published: AtomicU64,
    /// Events not published (Redis unreachable, or the outbox full).
    pub dropped: AtomicU64,
    /// Events received from Redis and relayed locally.
    pub received: AtomicU64,
    /// Messages on our channels we could not decode (e.g. from a newer version).
    pub undecodable: AtomicU64,
    /// Change events delivered locally because Redis could not echo them.
    pub local_fallback: AtomicU64,
    /// Times the subscription was (re-)established.
    pub subscriptions: AtomicU64,
}

struct Shared {
    changes: broadcast::Sender<Arc<ChangeEvent>>,
    sessions: broadcast::Sender<Arc<SessionEvent>>,
    tasks: broadcast::Sender<Arc<TaskSignal>>,
    subscribed: AtomicBool,
    stats: BusStats,
}

impl Shared {
    fn deliver_locally(&self, e: Arc<ChangeEvent>) {
        self.stats.local_fallback.fetch_add(1, Ordering::Relaxed);
        let _ = self.changes.send(e);
    }
}

enum Outgoing {
    /// `true` when it was already delivered locally.
    Change(Arc<ChangeEvent>, bool),
    Session(SessionEvent),
    Task(TaskSignal),
}

/// [`NotificationBus`] on Redis pub/sub; see the module docs. Must be created inside a
/// Tokio runtime; dropping it stops its tasks.
pub struct RedisBus {
    shared: Arc<Shared>,
    outbox: mpsc::Sender<Outgoing>,
    tasks: [JoinHandle<()>; 2],
}

impl RedisBus {
    /// Start relaying. `capacity` bounds each local broadcast channel (a slow local
    /// listener lags, as with the in-memory bus).
    pub fn new(client: &RedisClient, capacity: usize) -> RedisBus {
        let shared = Arc::new(Shared {
            changes: broadcast::channel(capacity.max(1)).0,
            sessions: broadcast::channel(capacity.max(1)).0,
            tasks: broadcast::channel(capacity.max(1)).0,
            subscribed: AtomicBool::new(false),
            stats: BusStats::default(),
        });
        let channels = Channels {
            changes: client.key("bus:changes"),
            sessions: client.key("bus:sessions"),
            tasks: client.key("bus:tasks"),
        };
        let (tx, rx) = mpsc::channel(OUTBOX);
        let publisher = tokio::spawn(publish_loop(client.clone(), channels.clone(), shared.clone(), rx));
        let subscriber = tokio::spawn(subscribe_loop(client.clone(), channels, shared.clone()));
        RedisBus { shared, outbox: tx, tasks: [publisher, subscriber] }
    }

    pub fn stats(&self) -> &BusStats {
        &self.shared.stats
    }

    /// Whether the subscription to Redis is up right now.
    pub fn is_subscribed(&self) -> bool {
        self.shared.subscribed.load(Ordering::Acquire)
    }

    fn enqueue(&self, out: Outgoing) {
        if let Err(e) = self.outbox.try_send(out) {
            self.shared.stats.dropped.fetch_add(1, Ordering::Relaxed);
            let out = match e {
                mpsc::error::TrySendError::Full(o) | mpsc::error::TrySendError::Closed(o) => o,
            };
            if let Outgoing::Change(e, false) = out {
                self.shared.deliver_locally(e);
            }
        }
    }
}

impl Drop for RedisBus {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl NotificationBus for RedisBus {
    fn healthy(&self) -> bool {
        self.is_subscribed()
    }
    fn publish(&self, event: ChangeEvent) {
        let event = Arc::new(event);
        let local = !self.is_subscribed();
        if local {
            self.shared.deliver_locally(event.clone());
        }
        self.enqueue(Outgoing::Change(event, local));
    }

    fn subscribe(&self) -> broadcast::Receiver<Arc<ChangeEvent>> {
        self.shared.changes.subscribe()
    }

    fn publish_session(&self, event: SessionEvent) {
        self.enqueue(Outgoing::Session(event));
    }

    fn subscribe_sessions(&self) -> Option<broadcast::Receiver<Arc<SessionEvent>>> {
        Some(self.shared.sessions.subscribe())
    }

    fn publish_task(&self, signal: TaskSignal) {
        self.enqueue(Outgoing::Task(signal));
    }

    fn subscribe_tasks(&self) -> Option<broadcast::Receiver<Arc<TaskSignal>>> {
        Some(self.shared.tasks.subscribe())
    }
}

#[derive(Clone)]
struct Channels {
    changes: String,
    sessions: String,
    tasks: String,
}

async fn publish_loop(client: RedisClient, ch: Channels, shared: Arc<Shared>, mut rx: mpsc::Receiver<Outgoing>) {
    let mut batch = Vec::with_capacity(BATCH);
    while rx.recv_many(&mut batch, BATCH).await > 0 {
        let mut pipe = redis::pipe();
        for out in &batch {
            match out {
                Outgoing::Change(e, _) => pipe.cmd("PUBLISH").arg(&ch.changes).arg(wire::encode_change(e)).ignore(),
                Outgoing::Session(e) => pipe.cmd("PUBLISH").arg(&ch.sessions).arg(wire::encode_session(e)).ignore(),
                Outgoing::Task(s) => pipe.cmd("PUBLISH").arg(&ch.tasks).arg(wire::encode_task(s)).ignore(),
            };
        }
        let mut c = client.conn();
        match client.run::<()>("publish", pipe.query_async(&mut c)).await {
            Ok(()) => {
                shared.stats.published.fetch_add(batch.len() as u64, Ordering::Relaxed);
                batch.clear();
            }
            Err(e) => {
                tracing::warn!(error = %e, events = batch.len(), "bus events not published");
                shared.stats.dropped.fetch_add(batch.len() as u64, Ordering::Relaxed);
                for out in batch.drain(..) {
                    if let Outgoing::Change(e, false) = out {
                        shared.deliver_locally(e);
                    }
                }
            }
        }
    }
}

async fn subscribe_loop(client: RedisClient, ch: Channels, shared: Arc<Shared>) {
    let mut backoff = BACKOFF_MIN;
    loop {
        match subscribe_once(&client, &ch, &shared).await {
            Ok(()) => {
                backoff = BACKOFF_MIN;
                tracing::warn!("bus subscription lost; reconnecting");
            }
            Err(e) => tracing::debug!(error = %e, "bus subscription failed; retrying"),
        }
        shared.subscribed.store(false, Ordering::Release);
        let jitter = Duration::from_millis(rand::random::<u64>() % (backoff.as_millis() as u64 / 2 + 1));
        tokio::time::sleep(backoff + jitter).await;
        backoff = (backoff * 2).min(BACKOFF_MAX);
    }
}

/// Subscribe and relay until the connection is lost (`Ok`) or cannot be set up (`Err`).
async fn subscribe_once(
    client: &RedisClient,
    ch: &Channels,
    shared: &Shared,
) -> Result<(), mcp_engine::store::StoreError> {
    let mut ps = client.pubsub().await?;
    client.run("subscribe", ps.subscribe(&[&ch.changes, &ch.sessions, &ch.tasks])).await?;
    shared.subscribed.store(true, Ordering::Release);
    shared.stats.subscriptions.fetch_add(1, Ordering::Relaxed);
    tracing::info!("bus subscribed");
    let (mut sink, mut stream) = ps.split();
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    loop {
        tokio::select! {
            msg = stream.next() => {
                let Some(msg) = msg else { return Ok(()) };
                relay(ch, shared, msg.get_channel_name(), msg.get_payload_bytes());
            }
            _ = ping.tick() => {
                if client.run::<redis::Value>("ping", sink.ping()).await.is_err() {
                    return Ok(());
                }
            }
        }
    }
}

fn relay(ch: &Channels, shared: &Shared, channel: &str, payload: &[u8]) {
    let ok = if channel == ch.changes {
        wire::decode_change(payload).map(|e| {
            let _ = shared.changes.send(Arc::new(e));
        })
    } else if channel == ch.sessions {
        wire::decode_session(payload).map(|e| {
            let _ = shared.sessions.send(Arc::new(e));
        })
    } else if channel == ch.tasks {
        wire::decode_task(payload).map(|s| {
            let _ = shared.tasks.send(Arc::new(s));
        })
    } else {
        return;
    };
    match ok {
        Ok(()) => shared.stats.received.fetch_add(1, Ordering::Relaxed),
        Err(e) => {
            tracing::warn!(error = %e, "undecodable bus message ignored");
            shared.stats.undecodable.fetch_add(1, Ordering::Relaxed)
        }
    };
}
