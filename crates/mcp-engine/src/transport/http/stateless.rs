//! Streamable HTTP, stateless era (2026-07-28): a POST is parsed once, validated
//! ([`crate::prepare`]) and dispatched. It is answered with JSON unless its handler emits
//! a notification before its result, in which case the response becomes an SSE stream
//! scoped to the request; closing that stream drops the handler future (cancellation).
//! `subscriptions/listen` answers with a long-lived stream.

use std::sync::Arc;

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::stream;
use http::StatusCode;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::app::App;
use super::gate::admitted;
use super::reply::{error_response, json_response, sse_response};
use crate::dispatch::{Call, Listener, Reply};
use crate::jsonrpc::{self, write_error, write_result_raw, Id, McpError, Message};
use crate::prepare::prepare_stateless;
use crate::protocol::{HttpRequestParts, Params, Transport};
use crate::transport::sse::{frame, BoxedOutcome, RequestStream, KEEP_ALIVE};

/// A stateless POST: answered as JSON, or as an SSE stream once the handler sends first.
pub(super) async fn post(app: Arc<App>, parts: http::request::Parts, body: Bytes, sse_ok: bool) -> Response {
    let (tx, rx) = if sse_ok {
        let (tx, rx) = mpsc::channel::<Vec<u8>>(32);
        (Some(tx), Some(rx))
    } else {
        (None, None)
    };
    let mut fut: BoxedOutcome<Processed> = Box::pin(process(app.clone(), parts, body, tx));
    let Some(mut rx) = rx else { return render(fut.await, &app) };
    tokio::select! {
        biased;
        out = &mut fut => {
            let mut first = Vec::new();
            while let Ok(n) = rx.try_recv() {
                first.push(frame(&n));
            }
            match out {
                Processed::Reply { id, reply: reply @ (Reply::Result(_) | Reply::Error(_)) } if !first.is_empty() => {
                    let last = final_frame(Processed::Reply { id, reply });
                    sse_response(Body::from_stream(RequestStream::<Processed, fn(Processed) -> Bytes>::finished(rx, first, last)))
                }
                other => render(other, &app),
            }
        }
        Some(n) = rx.recv() => {
            let stream = RequestStream::new(fut, rx, vec![frame(&n)], final_frame);
            sse_response(Body::from_stream(stream))
        }
    }
}

/// What processing a POST produced.
enum Processed {
    Reply {
        id: Id,
        reply: Reply,
    },
    /// An error before a request id was known, or a pre-dispatch rejection.
    Rejected {
        id: Option<Id>,
        error: McpError,
    },
    /// A notification or response was accepted.
    Accepted,
}

fn render(out: Processed, app: &App) -> Response {
    match out {
        Processed::Accepted => StatusCode::ACCEPTED.into_response(),
        Processed::Rejected { id, error } => error_response(id.as_ref(), &error),
        Processed::Reply { id, reply } => match reply {
            Reply::Result(result) => {
                let mut out = Vec::with_capacity(result.len() + 40);
                write_result_raw(&mut out, &id, &result);
                json_response(StatusCode::OK, out)
            }
            Reply::Error(e) => error_response(Some(&id), &e),
            Reply::Listen(listener) => listen_stream(listener, app),
        },
    }
}

/// The final SSE frame of a request stream.
fn final_frame(out: Processed) -> Bytes {
    let mut buf = Vec::new();
    match out {
        Processed::Reply { id, reply: Reply::Result(r) } => write_result_raw(&mut buf, &id, &r),
        Processed::Reply { id, reply: Reply::Error(e) } => write_error(&mut buf, Some(&id), &e),
        Processed::Reply { id, reply: Reply::Listen(_) } => {
            write_error(&mut buf, Some(&id), &McpError::internal("unexpected subscription"))
        }
        Processed::Rejected { id, error } => write_error(&mut buf, id.as_ref(), &error),
        Processed::Accepted => return Bytes::new(),
    }
    frame(&buf)
}

/// A `subscriptions/listen` response: acknowledgement, notifications, keep-alives, and
/// a graceful closing result when the server shuts down.
fn listen_stream(listener: Listener, app: &App) -> Response {
    struct S {
        listener: Listener,
        acked: bool,
        done: bool,
        tick: tokio::time::Interval,
        shutdown: CancellationToken,
    }
    let mut tick = tokio::time::interval(app.config.keep_alive);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.reset(); // the first tick would fire immediately
    let state = S { listener, acked: false, done: false, tick, shutdown: app.engine.shutdown_token().clone() };
    let s = stream::unfold(state, |mut s| async move {
        if s.done {
            return None;
        }
        if !s.acked {
            s.acked = true;
            let ack = frame(&s.listener.acknowledgement());
            return Some((Ok::<_, std::convert::Infallible>(ack), s));
        }
        tokio::select! {
            _ = s.shutdown.cancelled() => {
                s.done = true;
                let mut out = Vec::new();
                write_result_raw(&mut out, s.listener.id(), &s.listener.closing_result());
                Some((Ok(frame(&out)), s))
            }
            n = s.listener.next() => n.map(|n| (Ok(frame(&n)), s)),
            _ = s.tick.tick() => Some((Ok(Bytes::from_static(KEEP_ALIVE)), s)),
        }
    });
    sse_response(Body::from_stream(s))
}

async fn process(
    app: Arc<App>,
    parts: http::request::Parts,
    body: Bytes,
    events: Option<mpsc::Sender<Vec<u8>>>,
) -> Processed {
    let (id, method, raw_params) = match jsonrpc::parse(&body) {
        Err(error) => return Processed::Rejected { id: error.id.clone(), error },
        Ok(Message::Notification { .. }) => return Processed::Accepted,
        Ok(Message::Response { .. }) => {
            return Processed::Rejected {
                id: None,
                error: McpError::invalid_request("Invalid request: responses are only accepted within a session"),
            }
        }
        Ok(Message::Request { id, method, params }) => (id, method, params),
    };
    let params = match Params::parse(raw_params) {
        Ok(p) => p,
        Err(error) => return Processed::Rejected { id: Some(id), error: error.with_status(StatusCode::BAD_REQUEST) },
    };
    let mut params = params;
    let query = parts.uri.query().map(str::to_owned);
    let admitted = admitted(&parts);
    let http = HttpRequestParts { headers: parts.headers, query, remote: admitted.remote };
    let info = match prepare_stateless(
        &app.engine,
        &method,
        &mut params,
        admitted.caller,
        Transport::StreamableHttp,
        Some(http),
    ) {
        Ok(info) => info,
        Err(error) => return Processed::Rejected { id: Some(id), error },
    };
    let cancel = CancellationToken::new();
    // Dropping this future (client gone) cancels the token for any spawned work.
    let _cancel_on_drop = cancel.clone().drop_guard();
    let call =
        Call { id: id.clone(), method: method.clone(), params, info, events, requester: None, cancel, stream: None };
    let reply = app.engine.dispatch(call).await;
    Processed::Reply { id, reply }
}
