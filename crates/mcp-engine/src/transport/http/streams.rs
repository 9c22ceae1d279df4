//! Resumable SSE streams of the session era (Streamable HTTP).
//!
//! A request stream belongs to one POST: every message its handler sends (progress, logs,
//! server-initiated requests, finally the response) is appended to the [`EventLog`] and
//! then written to whatever is attached — the POST response, or later a `GET` that
//! resumed with `Last-Event-ID`. The handler runs in its own task, so a client that drops
//! the stream does not cancel the call (disconnection is not cancellation); it resumes and
//! gets exactly what it missed.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use bytes::Bytes;
use futures_util::stream::{self, StreamExt};
use tokio::sync::mpsc;

use crate::observe::StreamKind;
use crate::session::live::{Attach, LiveSessions};
use crate::store::event_log::{event_id, new_stream_id};
use crate::store::Replay;
use crate::transport::sse::{frame_with_id, priming, retry_hint};

/// Buffer between a stream writer and its socket. A client slower than this for longer
/// than [`SLOW_CLIENT`] is detached; it can resume from the log.
const SINK_CAPACITY: usize = 256;
const SLOW_CLIENT: Duration = Duration::from_secs(5);

/// Does this revision understand priming events (empty `data`) and `retry:` (SEP-1699)?
pub(crate) fn supports_priming(version: &str) -> bool {
    version >= "2025-11-25"
}

/// Writes one request stream: log first, then the attached sink.
pub(crate) struct StreamWriter {
    live: Arc<LiveSessions>,
    session: Arc<str>,
    stream: Arc<str>,
    attach: Arc<Attach>,
}

impl StreamWriter {
    /// Open a new stream attached to a fresh response body (which begins with a priming
    /// event when the client's revision supports it).
    pub(crate) fn open(live: Arc<LiveSessions>, session: Arc<str>, prime: bool) -> (StreamWriter, Body) {
        let stream: Arc<str> = new_stream_id().into();
        let (tx, rx) = mpsc::channel(SINK_CAPACITY);
        let attach = Arc::new(Attach::default());
        attach.set(Some(tx));
        live.register_stream(&session, &stream, attach.clone());
        let first = prime.then(|| priming(&event_id(&stream, 0), live.config.retry.as_millis() as u64));
        // The guard lives as long as the response body: the stream counts as open while the
        // client holds it.
        let open = live.engine.observer().stream_opened(StreamKind::Request, Some(&session), None);
        let body = Body::from_stream(stream::iter(first).chain(tokio_stream_rx(rx).map(|(_, b)| b)).map(move |b| {
            let _ = &open;
            Ok::<_, Infallible>(b)
        }));
        (StreamWriter { live, session, stream, attach }, body)
    }

    /// Append one message; `last` for the response that ends the stream.
    pub(crate) async fn write(&self, json: Vec<u8>, last: bool) {
        let seq = match self.live.log.append(&self.session, &self.stream, Bytes::from(json.clone()), last).await {
            Ok(seq) => seq,
            Err(e) => {
                tracing::warn!("event log append failed: {e}; the event is not resumable");
                0
            }
        };
        let frame = frame_with_id(&event_id(&self.stream, seq), &json);
        let Some(sink) = self.attach.get() else { return };
        match sink.try_send((seq, frame)) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(item)) => {
                if tokio::time::timeout(SLOW_CLIENT, sink.send(item)).await.map_or(true, |r| r.is_err()) {
                    self.attach.detach(&sink);
                }
            }
            Err(mpsc::error::TrySendError::Closed(_)) => self.attach.detach(&sink),
        }
    }

    /// Close the current connection (the stream itself goes on; the client resumes).
    pub(crate) fn detach(&self) {
        self.attach.set(None);
    }

    /// The stream ends without a response (its request was cancelled).
    pub(crate) async fn abandon(&self) {
        let _ = self.live.log.end(&self.session, &self.stream).await;
        self.detach();
    }
}

impl Drop for StreamWriter {
    fn drop(&mut self) {
        self.live.unregister_stream(&self.session, &self.stream);
        self.attach.set(None);
    }
}

fn tokio_stream_rx<T: Send + 'static>(rx: mpsc::Receiver<T>) -> impl futures_util::Stream<Item = T> + Send {
    stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|x| (x, rx)) })
}

/// `GET` + `Last-Event-ID` for a request stream: the missed events from the log, then the
/// live ones until it ends — pushed by the writer when the stream runs in this process,
/// else followed in the log (the stream runs on another instance, which logs every event
/// before it sends it). `None` when the log cannot replay from that point.
pub(crate) async fn resume(live: &Arc<LiveSessions>, session: &Arc<str>, stream: &str, after: u64) -> Option<Body> {
    // Attach first, then read the log: nothing written in between is lost (duplicates are
    // dropped by sequence number).
    let attach = live.stream(session, stream);
    let following = attach.as_ref().map(|a| {
        let (tx, rx) = mpsc::channel(SINK_CAPACITY);
        a.set(Some(tx));
        rx
    });
    let mut unseen = false;
    let replay: Replay = match live.log.replay_after(session, stream, after).await {
        Ok(Some(r)) => r,
        // Resuming from the priming event of a stream that has logged nothing yet: here,
        // or (unseen in the log so far) on another instance.
        Ok(None) if after == 0 => {
            unseen = attach.is_none();
            Replay::default()
        }
        _ => return None,
    };
    let stream_id: Arc<str> = Arc::from(stream);
    let mut last = after;
    let mut frames = Vec::with_capacity(replay.events.len() + 1);
    frames.push(retry_hint(live.config.retry.as_millis() as u64));
    for e in &replay.events {
        frames.push(frame_with_id(&event_id(&stream_id, e.seq), &e.data));
        last = last.max(e.seq);
    }
    let replayed = stream::iter(frames);
    let open = live.engine.observer().stream_opened(StreamKind::Resume, Some(session), None);
    let counted = move |b: Bytes| {
        let _ = &open;
        Ok::<_, Infallible>(b)
    };
    let body = match following {
        _ if replay.ended => Body::from_stream(replayed.map(counted)),
        Some(rx) => {
            let live = tokio_stream_rx(rx).filter_map(move |(seq, b)| async move { (seq > last).then_some(b) });
            Body::from_stream(replayed.chain(live).map(counted))
        }
        None => {
            let followed = follow_log(live.clone(), session.clone(), stream_id, last, unseen);
            Body::from_stream(replayed.chain(followed).map(counted))
        }
    };
    Some(body)
}

/// How often a stream running on another instance is read from the log.
const FOLLOW_EVERY: Duration = Duration::from_millis(100);
/// A followed stream that logs nothing for this long is given up (its instance may have
/// died); the client can resume again.
const FOLLOW_QUIET_LIMIT: Duration = Duration::from_secs(300);
/// A stream resumed from its priming event that has not appeared in the log by then is
/// taken for one that does not exist.
const FOLLOW_UNSEEN_LIMIT: Duration = Duration::from_secs(10);

/// The events of a stream after `last`, read from the log as they are appended, until the
/// stream ends, its events are no longer retained, the session ends or the server stops.
fn follow_log(
    live: Arc<LiveSessions>,
    session: Arc<str>,
    stream: Arc<str>,
    last: u64,
    unseen: bool,
) -> impl futures_util::Stream<Item = Bytes> + Send {
    struct Follow {
        live: Arc<LiveSessions>,
        session: Arc<str>,
        stream: Arc<str>,
        last: u64,
        /// Not in the log yet (resumed from the priming event of a stream elsewhere).
        unseen: bool,
        done: bool,
    }
    let state = Follow { live, session, stream, last, unseen, done: false };
    stream::unfold(state, |mut f| async move {
        if f.done {
            return None;
        }
        let shutdown = f.live.engine.shutdown_token().clone();
        let ended = f.live.ended_token(&f.session);
        let quiet_since = tokio::time::Instant::now();
        loop {
            let replay = match f.live.log.replay_after(&f.session, &f.stream, f.last).await {
                Ok(Some(r)) => {
                    f.unseen = false;
                    r
                }
                Ok(None) if f.unseen && quiet_since.elapsed() < FOLLOW_UNSEEN_LIMIT => Replay::default(),
                // Trimmed past `last`, gone, or never there: nothing exact can follow.
                Ok(None) => return None,
                // The log is unreachable for now: keep trying until the quiet limit.
                Err(_) => Replay::default(),
            };
            if !replay.events.is_empty() || replay.ended {
                let mut out = Vec::new();
                for e in &replay.events {
                    out.extend_from_slice(&frame_with_id(&event_id(&f.stream, e.seq), &e.data));
                    f.last = e.seq;
                }
                f.done = replay.ended;
                if out.is_empty() {
                    return None;
                }
                return Some((Bytes::from(out), f));
            }
            if quiet_since.elapsed() >= FOLLOW_QUIET_LIMIT {
                return None;
            }
            tokio::select! {
                _ = shutdown.cancelled() => return None,
                _ = ended.cancelled() => return None,
                _ = tokio::time::sleep(FOLLOW_EVERY) => {}
            }
        }
    })
}
