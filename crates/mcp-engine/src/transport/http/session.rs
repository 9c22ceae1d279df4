//! Streamable HTTP, session era (2025-03-26 to 2025-11-25), as framing around the session
//! driver: `initialize` issues an `Mcp-Session-Id`; later POSTs carry it (missing → 400,
//! unknown or expired → 404); `GET` opens the session's server-push stream or resumes a
//! request stream with `Last-Event-ID`; `DELETE` ends the session.
//!
//! Every message runs in its own task, so a dropped connection does not cancel a handler.
//! A request's response is JSON when its handler finishes without sending anything first;
//! otherwise the POST becomes a resumable SSE stream ([`super::streams`]) carrying
//! progress, logs and server-initiated requests before the result.

use std::sync::Arc;

use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{HeaderValue, StatusCode};
use tokio::sync::{mpsc, oneshot, Notify};

use super::app::App;
use super::gate::admitted;
use super::push::{self, lease, now_ms, Flavor};
use super::reply::{accepted, accepts, bad_request, error_response, json_response, plain_error, sse_response};
use super::streams::{resume, supports_priming, StreamWriter};
use crate::context::StreamControl;
use crate::dispatch::Reply;
use crate::headers::header_text;
use crate::headers::names::{MCP_PROTOCOL_VERSION, MCP_SESSION_ID};
use crate::jsonrpc::{self, write_result_raw, McpError, Message};
use crate::observe::{Behaviour, EndReason};
use crate::protocol::{Caller, HttpRequestParts, Params, Transport, SESSION_VERSIONS};
use crate::session::driver::{is_batch, response, Origin, Started, Step, BATCH_REVISION};
use crate::session::live::{session_not_found, store_error};
use crate::session::DEFAULT_HTTP_VERSION;
use crate::store::event_log::{event_id, parse_event_id, PUSH_STREAM};
use crate::store::SessionData;

/// A request that names a live session it may use.
struct Valid {
    sid: Arc<str>,
    session: Arc<SessionData>,
    /// The request's `MCP-Protocol-Version` (absent → 2025-03-26).
    version: String,
    caller: Caller,
}

/// Check the session id and version header, and touch the session.
async fn validate(app: &App, parts: &http::request::Parts) -> Result<Valid, Response> {
    let headers = &parts.headers;
    // Repeated headers that disagree are refused: a proxy pinning sessions by one copy
    // must never see another session than the one served.
    let sid = match header_text(headers, &MCP_SESSION_ID) {
        Ok(Some(sid)) => sid,
        Ok(None) => return Err(bad_request("Bad Request: Mcp-Session-Id header is required")),
        Err(_) => return Err(bad_request("Bad Request: invalid or repeated Mcp-Session-Id")),
    };
    let version = match header_text(headers, &MCP_PROTOCOL_VERSION) {
        Err(e) => return Err(error_response(None, &e)),
        Ok(None) => DEFAULT_HTTP_VERSION.to_owned(),
        Ok(Some(v)) if SESSION_VERSIONS.contains(&v) => v.to_owned(),
        Ok(Some(v)) => {
            return Err(bad_request(format!(
                "Bad Request: Unsupported protocol version {v:?} (supported in sessions: {})",
                SESSION_VERSIONS.join(", ")
            )))
        }
    };
    let caller = admitted(parts).caller;
    let session = app.live.session_for(sid, &caller).await.map_err(|e| error_response(None, &e))?;
    Ok(Valid { sid: Arc::from(sid), session, version, caller })
}

/// A session-era POST without a session id: `initialize`, or a 400.
pub(super) async fn post_without_session(app: Arc<App>, parts: http::request::Parts, body: Bytes) -> Response {
    let (id, method, raw) = match jsonrpc::parse(&body) {
        Err(e) => return error_response(e.id.clone().as_ref(), &e.with_status(StatusCode::BAD_REQUEST)),
        Ok(Message::Request { id, method, params }) => (id, method, params),
        Ok(_) => return bad_request("Bad Request: Mcp-Session-Id header is required"),
    };
    if method != "initialize" {
        return bad_request(
            "Bad Request: Mcp-Session-Id header is required (send initialize first, or use protocol revision 2026-07-28 with params._meta)",
        );
    }
    let caller = admitted(&parts).caller;
    let opened = match Params::parse(raw) {
        Ok(params) => app.live.open_initialized(&params, &caller, Transport::StreamableHttp).await,
        Err(e) => Err(e),
    };
    let (sid, result) = match opened {
        Ok(x) => x,
        Err(e) if e.status == StatusCode::SERVICE_UNAVAILABLE => return error_response(None, &e),
        Err(e) => return error_response(Some(&id), &e.with_status(StatusCode::BAD_REQUEST)),
    };
    let mut out = Vec::with_capacity(result.len() + 40);
    write_result_raw(&mut out, &id, &result);
    let mut r = json_response(StatusCode::OK, out);
    r.headers_mut().insert(&MCP_SESSION_ID, HeaderValue::from_str(&sid).expect("session ids are visible ASCII"));
    r
}

/// A POST within a session: a request, notification or the client's answer.
pub(super) async fn post(app: Arc<App>, parts: http::request::Parts, body: Bytes, sse_ok: bool) -> Response {
    let valid = match validate(&app, &parts).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    // The message gets its own task: a dropped connection must not cancel its handler.
    let (reply_tx, reply_rx) = oneshot::channel();
    tokio::spawn(run_message(app, valid, parts, body, sse_ok, reply_tx));
    reply_rx.await.unwrap_or_else(|_| {
        let err = McpError::internal("Internal error: the request handler failed")
            .with_status(StatusCode::INTERNAL_SERVER_ERROR);
        error_response(None, &err)
    })
}

struct CloseSignal(Notify);

impl StreamControl for CloseSignal {
    fn close_stream(&self) {
        self.0.notify_one();
    }
}

async fn run_message(
    app: Arc<App>,
    v: Valid,
    parts: http::request::Parts,
    body: Bytes,
    sse_ok: bool,
    reply: oneshot::Sender<Response>,
) {
    let query = parts.uri.query().map(str::to_owned);
    let remote = admitted(&parts).remote;
    if is_batch(&body) && v.session.protocol_version.as_deref() == Some(BATCH_REVISION) {
        let http = HttpRequestParts { headers: parts.headers, query, remote };
        let origin = || Origin {
            sid: v.sid.clone(),
            session: v.session.clone(),
            caller: v.caller.clone(),
            transport: Transport::StreamableHttp,
            version: Some(v.version.clone()),
            http: Some(http.clone()),
        };
        let answer = match app.live.batch(origin, &body).await {
            Ok(Some(out)) => json_response(StatusCode::OK, out),
            Ok(None) => accepted(),
            Err(e) => error_response(None, &e.with_status(StatusCode::BAD_REQUEST)),
        };
        let _ = reply.send(answer);
        return;
    }
    let message = match jsonrpc::parse(&body) {
        Ok(m) => m,
        Err(e) => {
            let _ = reply.send(error_response(e.id.clone().as_ref(), &e.with_status(StatusCode::BAD_REQUEST)));
            return;
        }
    };
    let origin = Origin {
        sid: v.sid.clone(),
        session: v.session,
        caller: v.caller,
        transport: Transport::StreamableHttp,
        version: Some(v.version.clone()),
        http: Some(HttpRequestParts { headers: parts.headers, query, remote }),
    };
    let running = match app.live.step(origin, message).await {
        Step::Accepted => return drop(reply.send(accepted())),
        // Session-era results travel with HTTP 200, errors included: on this path a 404
        // means "session not found" and nothing else.
        Step::Answer(out) => return drop(reply.send(json_response(StatusCode::OK, out))),
        Step::Refused(id, e) => return drop(reply.send(error_response(id.as_ref(), &e))),
        Step::Run(running) => running,
    };

    let (ev_tx, mut ev_rx) = mpsc::channel::<Vec<u8>>(64);
    let close = Arc::new(CloseSignal(Notify::new()));
    let Started { id, cancel, reply: fut } =
        running.start(sse_ok.then(|| ev_tx.clone()), sse_ok.then(|| close.clone() as Arc<dyn StreamControl>));
    drop(ev_tx);
    tokio::pin!(fut);

    // Until the handler sends something, the answer may still be plain JSON.
    let mut pending = Vec::new();
    let mut closed = false;
    let mut done: Option<Reply> = tokio::select! {
        biased;
        _ = cancel.cancelled() => {
            let _ = reply.send(sse_response(axum::body::Body::empty()));
            return;
        }
        r = &mut fut => Some(r),
        Some(n) = ev_rx.recv() => { pending.push(n); None }
        _ = close.0.notified() => { closed = true; None }
    };
    if let Some(r) = done.take() {
        while let Ok(n) = ev_rx.try_recv() {
            pending.push(n);
        }
        if pending.is_empty() {
            let _ = reply.send(json_response(StatusCode::OK, response(&id, r)));
            return;
        }
        done = Some(r);
    }

    let live = &app.live;
    let (writer, body) = StreamWriter::open(live.clone(), v.sid.clone(), supports_priming(&v.version));
    let _ = reply.send(sse_response(body));
    if closed {
        writer.detach();
    }
    for n in pending {
        writer.write(n, false).await;
    }
    let result = match done {
        Some(r) => r,
        None => loop {
            tokio::select! {
                biased;
                _ = cancel.cancelled() => {
                    writer.abandon().await;
                    return;
                }
                r = &mut fut => break r,
                Some(n) = ev_rx.recv() => writer.write(n, false).await,
                _ = close.0.notified() => writer.detach(),
            }
        },
    };
    while let Ok(n) = ev_rx.try_recv() {
        writer.write(n, false).await;
    }
    writer.write(response(&id, result), true).await;
}

/// `GET` with a session id: resume a stream (`Last-Event-ID`) or open the push stream.
pub(super) async fn get(app: Arc<App>, parts: http::request::Parts) -> Response {
    let v = match validate(&app, &parts).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    if !accepts(&parts.headers, "text/event-stream") {
        return plain_error(StatusCode::NOT_ACCEPTABLE, "Not Acceptable: Accept must include text/event-stream");
    }
    let last = parts.headers.get("last-event-id").map(|h| h.to_str().ok().and_then(parse_event_id));
    match last {
        Some(None) => bad_request("Bad Request: malformed Last-Event-ID"),
        Some(Some((stream, after))) if stream != PUSH_STREAM => match resume(&app.live, &v.sid, stream, after).await {
            Some(body) => {
                app.engine.observer().session_behaviour(&v.sid, v.session.client_info.as_ref(), Behaviour::Resumed);
                sse_response(body)
            }
            None => {
                bad_request("Bad Request: Last-Event-ID names no stream of this session, or events too old to replay")
            }
        },
        Some(Some((_, after))) => open_push(&app, &v, Some(after)).await,
        None => open_push(&app, &v, None).await,
    }
}

async fn open_push(app: &Arc<App>, v: &Valid, resume_after: Option<u64>) -> Response {
    let live = &app.live;
    let claim = crate::store::event_log::new_stream_id();
    let now = now_ms();
    let until = now + lease(live.keep_alive);
    // A fresh GET must not displace a live stream (409); a resuming one takes over.
    let claimed = match resume_after {
        None => live.store.update(&v.sid, &|d| d.claim_push(&claim, now, until)).await,
        Some(_) => live.store.update(&v.sid, &|d| d.take_push(&claim, until)).await,
    };
    match claimed {
        Ok(Some(true)) => {}
        Ok(Some(false)) => {
            return plain_error(StatusCode::CONFLICT, "Conflict: this session already has an open server-push stream")
        }
        Ok(None) => return error_response(None, &session_not_found()),
        Err(e) => return error_response(None, &store_error(e)),
    }
    let retry = live.config.retry.as_millis() as u64;
    let mut first = Vec::new();
    match resume_after {
        Some(after) => {
            first.push(crate::transport::sse::retry_hint(retry));
            if let Ok(Some(r)) = live.log.replay_after(&v.sid, PUSH_STREAM, after).await {
                for e in r.events {
                    first.push(crate::transport::sse::frame_with_id(&event_id(PUSH_STREAM, e.seq), &e.data));
                }
            }
        }
        None if supports_priming(&v.version) => {
            let head = live.log.head(&v.sid, PUSH_STREAM).await.unwrap_or(0);
            first.push(crate::transport::sse::priming(&event_id(PUSH_STREAM, head), retry));
        }
        None => {}
    }
    let behaviour = if resume_after.is_some() { Behaviour::PushResumed } else { Behaviour::PushStream };
    app.engine.observer().session_behaviour(&v.sid, v.session.client_info.as_ref(), behaviour);
    sse_response(push::body(
        live.clone(),
        v.sid.clone(),
        Flavor::Resumable { claim, resumed: resume_after.is_some() },
        first,
    ))
}

/// `DELETE` with a session id: end the session.
pub(super) async fn delete(app: Arc<App>, parts: http::request::Parts) -> Response {
    let v = match validate(&app, &parts).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    app.engine.observer().session_behaviour(&v.sid, v.session.client_info.as_ref(), Behaviour::Delete);
    match app.live.end_session(&v.sid, EndReason::Delete).await {
        Ok(_) => StatusCode::OK.into_response(),
        Err(e) => error_response(None, &e.with_status(StatusCode::SERVICE_UNAVAILABLE)),
    }
}
