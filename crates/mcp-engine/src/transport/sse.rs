//! Server-Sent Events framing and the response stream of one request.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::Stream;
use tokio::sync::mpsc;

/// `event: message` + `data:` + blank line, around one JSON message (which never
/// contains a newline: serde_json writes compact JSON).
pub fn frame(json: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(json.len() + 24);
    out.extend_from_slice(b"event: message\ndata: ");
    out.extend_from_slice(json);
    out.extend_from_slice(b"\n\n");
    Bytes::from(out)
}

/// A frame with an event id, for resumable streams.
pub fn frame_with_id(id: &str, json: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(json.len() + 32 + id.len());
    out.extend_from_slice(b"id: ");
    out.extend_from_slice(id.as_bytes());
    out.extend_from_slice(b"\nevent: message\ndata: ");
    out.extend_from_slice(json);
    out.extend_from_slice(b"\n\n");
    Bytes::from(out)
}

pub const KEEP_ALIVE: &[u8] = b": keep-alive\n\n";

pub type BoxedOutcome<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// The SSE body of a request whose handler emitted notifications: it keeps driving the
/// handler future, forwards each notification as it arrives, then sends the final
/// response and ends. Dropping it (the client closed the stream) drops the handler
/// future, which cancels the call.
pub struct RequestStream<T, F> {
    fut: Option<BoxedOutcome<T>>,
    events: mpsc::Receiver<Vec<u8>>,
    queue: VecDeque<Bytes>,
    finish: Option<F>,
}

impl<T, F> RequestStream<T, F>
where
    F: FnOnce(T) -> Bytes,
{
    /// `first` are notifications already received; `finish` renders the final response.
    pub fn new(fut: BoxedOutcome<T>, events: mpsc::Receiver<Vec<u8>>, first: Vec<Bytes>, finish: F) -> Self {
        RequestStream { fut: Some(fut), events, queue: first.into(), finish: Some(finish) }
    }

    /// A stream for an already-finished call: queued notifications, then the response.
    pub fn finished(mut events: mpsc::Receiver<Vec<u8>>, first: Vec<Bytes>, last: Bytes) -> Self {
        let mut queue: VecDeque<Bytes> = first.into();
        while let Ok(n) = events.try_recv() {
            queue.push_back(frame(&n));
        }
        queue.push_back(last);
        RequestStream { fut: None, events, queue, finish: None }
    }
}

impl<T, F> Stream for RequestStream<T, F>
where
    F: FnOnce(T) -> Bytes + Unpin,
{
    type Item = Result<Bytes, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if let Some(b) = this.queue.pop_front() {
            return Poll::Ready(Some(Ok(b)));
        }
        let Some(fut) = this.fut.as_mut() else { return Poll::Ready(None) };
        if let Poll::Ready(Some(n)) = this.events.poll_recv(cx) {
            return Poll::Ready(Some(Ok(frame(&n))));
        }
        match fut.as_mut().poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(out) => {
                this.fut = None;
                // Notifications sent just before the result still go out first.
                while let Ok(n) = this.events.try_recv() {
                    this.queue.push_back(frame(&n));
                }
                let finish = this.finish.take().expect("finish runs once");
                this.queue.push_back(finish(out));
                Poll::Ready(this.queue.pop_front().map(Ok))
            }
        }
    }
}

/// The priming event that opens a resumable stream: a `retry:` hint, an event id and
/// empty data, so the client can reconnect with `Last-Event-ID` even before any message.
pub fn priming(id: &str, retry_ms: u64) -> Bytes {
    Bytes::from(format!("retry: {retry_ms}\nid: {id}\ndata: \n\n"))
}

/// Only a `retry:` hint (opens a resumed stream).
pub fn retry_hint(retry_ms: u64) -> Bytes {
    Bytes::from(format!("retry: {retry_ms}\n\n"))
}

/// A named event (HTTP+SSE's `endpoint`).
pub fn named_event(event: &str, data: &str) -> Bytes {
    Bytes::from(format!("event: {event}\ndata: {data}\n\n"))
}
