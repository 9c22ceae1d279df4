//! Server-push streams: the one `GET` stream a Streamable HTTP session may hold, and the
//! stream of an HTTP+SSE session. They carry the notifications that belong to no request
//! (list changes, resource updates), keep-alive comments, and optional server pings.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use bytes::Bytes;
use futures_util::stream;
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::time::{Interval, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use crate::jsonrpc::{write_request, Id, McpError};
use crate::notify::ChangeEvent;
use crate::observe::{EndReason, StreamGuard, StreamKind};
use crate::session::change_notification;
use crate::session::live::LiveSessions;
use crate::store::event_log::{event_id, PUSH_STREAM};
use crate::transport::sse::{frame, frame_with_id, retry_hint, KEEP_ALIVE};

pub(crate) fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// How long a push-stream lease lives without renewal.
pub(crate) fn lease(keep_alive: Duration) -> u64 {
    (keep_alive * 3).max(Duration::from_secs(30)).as_millis() as u64
}

/// What a push stream writes to.
pub(crate) enum Flavor {
    /// Streamable HTTP GET stream: messages logged under [`PUSH_STREAM`] with event ids;
    /// `claim` is the lease token released when the stream ends.
    Resumable { claim: String, resumed: bool },
    /// HTTP+SSE: `event: message` frames, no ids; `outbox` carries responses and requests.
    Sse { outbox: mpsc::Receiver<Vec<u8>> },
}

struct Push {
    live: Arc<LiveSessions>,
    session: Arc<str>,
    flavor: Flavor,
    queue: VecDeque<Bytes>,
    changes: broadcast::Receiver<Arc<ChangeEvent>>,
    ended: CancellationToken,
    /// Fired when a resuming GET takes this stream over.
    kicked: CancellationToken,
    shutdown: CancellationToken,
    keep_alive: Interval,
    ping: Option<Interval>,
    ping_wait: Option<(Id, oneshot::Receiver<Result<serde_json::Value, McpError>>)>,
    ping_misses: u32,
    done: bool,
    /// Counts this stream as open (for observers) while it lives.
    _open: StreamGuard,
}

impl Drop for Push {
    fn drop(&mut self) {
        let live = self.live.clone();
        let session = self.session.clone();
        let Ok(rt) = tokio::runtime::Handle::try_current() else { return };
        match &self.flavor {
            Flavor::Resumable { claim, .. } => {
                let claim = claim.clone();
                live.push_ended(&session, &claim);
                rt.spawn(async move {
                    let _ = live.store.update(&session, &|d| d.release_push(&claim)).await;
                });
            }
            // An HTTP+SSE session lives exactly as long as its stream.
            Flavor::Sse { .. } => {
                rt.spawn(async move {
                    let _ = live.end_session(&session, EndReason::Closed).await;
                });
            }
        }
    }
}

fn interval(every: Duration) -> Interval {
    let mut i = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    i.set_missed_tick_behavior(MissedTickBehavior::Delay);
    i
}

/// The body of a push stream; `first` are frames to send before anything else (priming,
/// replayed events, the HTTP+SSE `endpoint` event).
pub(crate) fn body(live: Arc<LiveSessions>, session: Arc<str>, flavor: Flavor, first: Vec<Bytes>) -> Body {
    let kicked = match &flavor {
        Flavor::Resumable { claim, resumed } => live.push_started(&session, claim, *resumed),
        Flavor::Sse { .. } => CancellationToken::new(),
    };
    let kind = match &flavor {
        Flavor::Resumable { .. } => StreamKind::Push,
        Flavor::Sse { .. } => StreamKind::HttpSse,
    };
    let push = Push {
        _open: live.engine.observer().stream_opened(kind, Some(&session), None),
        kicked,
        changes: live.engine.bus().subscribe(),
        ended: live.ended_token(&session),
        shutdown: live.engine.shutdown_token().clone(),
        keep_alive: interval(live.keep_alive),
        ping: live.config.ping_interval.map(interval),
        ping_wait: None,
        ping_misses: 0,
        done: false,
        queue: first.into(),
        live,
        session,
        flavor,
    };
    Body::from_stream(stream::unfold(push, |mut p| async move {
        let item = p.next().await?;
        Some((Ok::<_, Infallible>(item), p))
    }))
}

enum Step {
    Out(Bytes),
    Change(Arc<ChangeEvent>),
    KeepAlive,
    Ping,
    Pong,
    PongLost,
    Skip,
    End,
    /// The server is stopping: tell the client to reconnect (to another instance) soon.
    Stopping,
}

impl Push {
    async fn next(&mut self) -> Option<Bytes> {
        loop {
            if let Some(b) = self.queue.pop_front() {
                return Some(b);
            }
            if self.done {
                return None;
            }
            let step = {
                let Push { flavor, ping_wait, ping, changes, keep_alive, shutdown, ended, kicked, .. } = self;
                let outbox = async {
                    match flavor {
                        Flavor::Sse { outbox } => outbox.recv().await,
                        Flavor::Resumable { .. } => std::future::pending().await,
                    }
                };
                let pong = async {
                    match ping_wait {
                        Some((_, rx)) => rx.await,
                        None => std::future::pending().await,
                    }
                };
                let ping = async {
                    match ping {
                        Some(i) => i.tick().await,
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    biased;
                    _ = shutdown.cancelled() => Step::Stopping,
                    _ = ended.cancelled() => Step::End,
                    _ = kicked.cancelled() => Step::End,
                    m = outbox => match m { Some(m) => Step::Out(frame(&m)), None => Step::End },
                    c = changes.recv() => match c {
                        Ok(c) => Step::Change(c),
                        Err(broadcast::error::RecvError::Lagged(_)) => Step::Skip,
                        Err(_) => Step::End,
                    },
                    r = pong => match r { Ok(Ok(_)) => Step::Pong, _ => Step::PongLost },
                    _ = keep_alive.tick() => Step::KeepAlive,
                    _ = ping => Step::Ping,
                }
            };
            match step {
                Step::Out(b) => return Some(b),
                Step::Skip => {}
                Step::End => self.done = true,
                Step::Stopping => {
                    self.done = true;
                    return Some(retry_hint(self.live.config.retry.as_millis() as u64));
                }
                Step::Pong => {
                    self.ping_wait = None;
                    self.ping_misses = 0;
                }
                Step::PongLost => {
                    self.ping_wait = None;
                    self.ping_misses += 1;
                }
                Step::Change(event) => {
                    let Ok(Some(session)) = self.live.store.get(&self.session).await else {
                        self.done = true;
                        continue;
                    };
                    if let Some(json) = change_notification(&event, &session) {
                        self.live.engine.observer().change_sent(&event, Some(&self.session), None);
                        return Some(self.emit(json).await);
                    }
                }
                Step::KeepAlive => {
                    if !self.renew().await {
                        self.done = true;
                        continue;
                    }
                    return Some(Bytes::from_static(KEEP_ALIVE));
                }
                Step::Ping => {
                    if let Some((id, _)) = self.ping_wait.take() {
                        self.live.correlator.forget(&self.session, &id);
                        self.ping_misses += 1;
                        if self.ping_misses >= self.live.config.ping_failures.max(1) {
                            tracing::info!(session = %short(&self.session), "session unresponsive: closing its push stream");
                            self.live.engine.observer().session_unresponsive(&self.session);
                            let _ = self
                                .live
                                .store
                                .update(&self.session, &|d| {
                                    !d.unresponsive && {
                                        d.unresponsive = true;
                                        true
                                    }
                                })
                                .await;
                            self.done = true;
                            continue;
                        }
                    }
                    let (id, rx) = self.live.correlator.register(&self.session);
                    let mut out = Vec::with_capacity(64);
                    write_request(&mut out, &id, "ping", &serde_json::json!({}));
                    self.ping_wait = Some((id, rx));
                    return Some(self.emit(out).await);
                }
            }
        }
    }

    /// Keep the session alive while its stream is open and renew the stream's lease.
    async fn renew(&self) -> bool {
        match &self.flavor {
            Flavor::Resumable { claim, .. } => {
                let now = now_ms();
                let until = now + lease(self.live.keep_alive);
                let ok = matches!(
                    self.live.store.update(&self.session, &|d| d.claim_push(claim, now, until)).await,
                    Ok(Some(true))
                );
                ok && matches!(self.live.store.touch(&self.session).await, Ok(Some(_)))
            }
            Flavor::Sse { .. } => matches!(self.live.store.touch(&self.session).await, Ok(Some(_))),
        }
    }

    async fn emit(&self, json: Vec<u8>) -> Bytes {
        match &self.flavor {
            Flavor::Sse { .. } => frame(&json),
            Flavor::Resumable { .. } => {
                match self.live.log.append(&self.session, PUSH_STREAM, Bytes::from(json.clone()), false).await {
                    Ok(seq) => frame_with_id(&event_id(PUSH_STREAM, seq), &json),
                    Err(_) => frame(&json),
                }
            }
        }
    }
}

/// A session id shortened for logs.
pub(crate) fn short(id: &str) -> &str {
    &id[..id.len().min(8)]
}
