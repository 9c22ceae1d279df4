//! Streamable HTTP, session era (2025-03-26 to 2025-11-25): `initialize` issues an
//! `Mcp-Session-Id`; later POSTs carry it (missing → 400, unknown or expired → 404);
//! `GET` opens the session's server-push stream or resumes a request stream with
//! `Last-Event-ID`; `DELETE` ends the session.
//!
//! Every request's handler runs in its own task. Its response is JSON when the handler
//! finishes without sending anything first; otherwise the POST becomes a resumable SSE
//! stream ([`super::streams`]) carrying progress, logs and server-initiated requests
//! (`sampling/createMessage`, `elicitation/create`, `roots/list`) before the result. The
//! client answers those requests with POSTs, correlated by session and request id.

use std::sync::Arc;

use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{header, HeaderValue, StatusCode};
use tokio::sync::{mpsc, oneshot, Notify};

use super::gate::admitted;
use super::http::{accepts, error_response, json_response, sse_response, App};
use super::push::{self, lease, now_ms, Flavor};
use super::sse::{priming, retry_hint};
use super::streams::{resume, supports_priming, StreamWriter};
use crate::context::{ClientRequester, StreamControl};
use crate::dispatch::{Call, Reply};
use crate::jsonrpc::{self, write_error, write_result_raw, Id, McpError, Message};
use crate::protocol::{Caller, HttpRequestParts, Params, Transport, LEGACY_VERSIONS};
use crate::session::{self, ClientNotification, LiveRequester, SessionOp, DEFAULT_HTTP_VERSION, EMPTY_RESULT};
use crate::store::event_log::{event_id, parse_event_id, PUSH_STREAM};
use crate::store::{SessionData, StoreError};

use crate::protocol::Era;
use crate::telemetry::{flag, EndReason, Seen};

pub(super) const SESSION_HEADER: &str = "mcp-session-id";

/// -32001, as the reference SDKs answer for an unknown session.
pub(super) fn session_not_found() -> Response {
    let err = McpError::new(-32001, "Session not found: it was terminated or expired; initialize a new session")
        .with_status(StatusCode::NOT_FOUND);
    error_response(None, &err)
}

pub(super) fn bad_request(message: impl Into<std::borrow::Cow<'static, str>>) -> Response {
    error_response(None, &McpError::invalid_request(message).with_status(StatusCode::BAD_REQUEST))
}

pub(super) fn store_error(e: StoreError) -> Response {
    let message = match &e {
        StoreError::Full { max } => format!(
            "Service Unavailable: the server holds its maximum of {max} live sessions; retry later or end unused sessions with DELETE"
        ),
        StoreError::Unavailable(why) => format!("Service Unavailable: session store unavailable ({why})"),
    };
    let mut r = error_response(None, &McpError::new(-32000, message).with_status(StatusCode::SERVICE_UNAVAILABLE));
    r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    r
}

/// A request that names a live session it may use.
pub(super) struct Valid {
    pub sid: Arc<str>,
    pub session: Arc<SessionData>,
    /// The request's `MCP-Protocol-Version` (absent → 2025-03-26).
    pub version: String,
    pub caller: Caller,
}

/// Check the session id and version header, and touch the session.
pub(super) async fn validate(app: &App, parts: &http::request::Parts) -> Result<Valid, Response> {
    let headers = &parts.headers;
    let Some(sid) = headers.get(SESSION_HEADER) else {
        return Err(bad_request("Bad Request: Mcp-Session-Id header is required"));
    };
    let Ok(sid) = sid.to_str() else { return Err(bad_request("Bad Request: invalid Mcp-Session-Id")) };
    let version = match headers.get(&crate::headers::names::MCP_PROTOCOL_VERSION).map(|v| v.to_str().map(str::trim)) {
        None => DEFAULT_HTTP_VERSION.to_owned(),
        Some(Ok(v)) if LEGACY_VERSIONS.contains(&v) => v.to_owned(),
        Some(v) => {
            return Err(bad_request(format!(
                "Bad Request: Unsupported protocol version {:?} (supported in sessions: {})",
                v.unwrap_or("?"),
                LEGACY_VERSIONS.join(", ")
            )))
        }
    };
    let session = match app.hub.store.touch(sid).await {
        Ok(Some(s)) => s,
        Ok(None) => return Err(session_not_found()),
        Err(e) => return Err(store_error(e)),
    };
    let caller = admitted(parts).caller;
    if session.caller.as_deref() != caller.id.as_deref() {
        // Someone else's session: indistinguishable from an unknown one.
        return Err(session_not_found());
    }
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
    let init = Params::parse(raw).and_then(|p| session::initialize(&app.engine, &p, &admitted(&parts).caller));
    let (data, result) = match init {
        Ok(x) => x,
        Err(e) => return error_response(Some(&id), &e.with_status(StatusCode::BAD_REQUEST)),
    };
    let telemetry = app.engine.telemetry();
    let probe = telemetry.begin_with("initialize", Era::Legacy, Transport::StreamableHttp, data.client_info.as_ref());
    let (client_info, version) = (data.client_info.clone(), data.protocol_version.clone());
    let (caps, caller) = (data.client_capabilities.clone(), data.caller.clone());
    let sid = match app.hub.store.create(data).await {
        Ok(sid) => sid,
        Err(e) => return store_error(e),
    };
    telemetry.session_opened(&sid, Transport::StreamableHttp, client_info.as_ref(), version.as_deref());
    let version = version.as_deref().unwrap_or("");
    telemetry.finish(
        probe,
        Seen { protocol_version: version, capabilities: Some(&caps), caller: caller.as_deref() },
        None,
    );
    let mut out = Vec::with_capacity(result.len() + 40);
    write_result_raw(&mut out, &id, &result);
    let mut r = json_response(StatusCode::OK, out);
    r.headers_mut().insert(SESSION_HEADER, HeaderValue::from_str(&sid).expect("session ids are visible ASCII"));
    r
}

/// A POST within a session: a request, notification or the client's answer.
pub(super) async fn post(app: Arc<App>, parts: http::request::Parts, body: Bytes, sse_ok: bool) -> Response {
    let valid = match validate(&app, &parts).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    // The handler gets its own task: a dropped connection must not cancel it.
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

/// Session-era results travel with HTTP 200, errors included: on this path a 404 means
/// "session not found" and nothing else.
fn json_reply(id: &Id, reply: Reply) -> Response {
    json_response(StatusCode::OK, final_message(id, reply))
}

pub(super) fn final_message(id: &Id, reply: Reply) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    match reply {
        Reply::Result(r) => write_result_raw(&mut out, id, &r),
        Reply::Error(e) => write_error(&mut out, Some(id), &e),
        Reply::Listen(_) => write_error(&mut out, Some(id), &McpError::method_not_found("subscriptions/listen")),
    }
    out
}

async fn run_message(
    app: Arc<App>,
    v: Valid,
    parts: http::request::Parts,
    body: Bytes,
    sse_ok: bool,
    reply: oneshot::Sender<Response>,
) {
    let (id, method, raw) = match jsonrpc::parse(&body) {
        Err(e) => {
            let _ = reply.send(error_response(e.id.clone().as_ref(), &e.with_status(StatusCode::BAD_REQUEST)));
            return;
        }
        Ok(Message::Response { id, result }) => {
            let answer = match result {
                Ok(r) => serde_json::from_str(r.get()).map_err(|_| serde_json::Value::Null),
                Err(e) => Err(serde_json::from_str(e.get()).unwrap_or(serde_json::Value::Null)),
            };
            app.hub.deliver(&v.sid, id, answer);
            let _ = reply.send(StatusCode::ACCEPTED.into_response());
            return;
        }
        Ok(Message::Notification { method, params }) => {
            match ClientNotification::parse(&method, params) {
                ClientNotification::Initialized if !v.session.initialized => {
                    let _ = app
                        .hub
                        .store
                        .update(&v.sid, &|d| {
                            !d.initialized && {
                                d.initialized = true;
                                true
                            }
                        })
                        .await;
                }
                ClientNotification::Cancelled(request) => app.hub.cancel_request(&v.sid, request),
                _ => {}
            }
            let _ = reply.send(StatusCode::ACCEPTED.into_response());
            return;
        }
        Ok(Message::Request { id, method, params }) => (id, method, params),
    };
    let telemetry = app.engine.telemetry();
    telemetry.session_seen(&v.sid, Transport::StreamableHttp, v.session.client_info.as_ref(), Some(&v.version));
    telemetry.session_request(&v.sid, &method);
    let params = match Params::parse(raw) {
        Ok(p) => p,
        Err(e) => {
            let _ = reply.send(json_reply(&id, Reply::Error(e)));
            return;
        }
    };
    if method == "initialize" {
        let e = McpError::invalid_request("Invalid request: this session is already initialized")
            .with_status(StatusCode::BAD_REQUEST);
        let _ = reply.send(error_response(Some(&id), &e));
        return;
    }
    if let Some(op) = SessionOp::parse(&app.engine, &method, &params) {
        let probe =
            telemetry.begin_with(&method, Era::Legacy, Transport::StreamableHttp, v.session.client_info.as_ref());
        let out = match op {
            Ok(op) => match app.hub.store.update(&v.sid, &|d| op.apply(d)).await {
                Ok(Some(_)) => Reply::Result(EMPTY_RESULT.to_vec()),
                Ok(None) => {
                    let _ = reply.send(session_not_found());
                    return;
                }
                Err(e) => Reply::Error(McpError::internal(e.to_string())),
            },
            Err(e) => Reply::Error(e),
        };
        let seen = Seen { protocol_version: &v.version, capabilities: None, caller: v.caller.id.as_deref() };
        telemetry.finish(probe, seen, if let Reply::Error(e) = &out { Some(e) } else { None });
        let _ = reply.send(json_reply(&id, out));
        return;
    }

    let hub = &app.hub;
    let cancel = hub.begin_request(&v.sid, &id);
    let _in_flight = InFlight { app: &app, sid: &v.sid, id: &id };
    let (ev_tx, mut ev_rx) = mpsc::channel::<Vec<u8>>(64);
    let close = Arc::new(CloseSignal(Notify::new()));
    let query = parts.uri.query().map(str::to_owned);
    let remote = admitted(&parts).remote;
    let info = session::request_info(
        &v.session,
        &method,
        &params,
        Transport::StreamableHttp,
        Some(&v.version),
        v.caller,
        Some(HttpRequestParts { headers: parts.headers, query, remote }),
    );
    let requester = sse_ok.then(|| {
        Arc::new(LiveRequester {
            out: ev_tx.clone(),
            correlator: hub.correlator.clone(),
            session: v.sid.clone(),
            timeout: hub.config.client_request_timeout,
        }) as Arc<dyn ClientRequester>
    });
    let call = Call {
        id: id.clone(),
        method: &method,
        params,
        info: Arc::new(info),
        events: sse_ok.then(|| ev_tx.clone()),
        requester,
        cancel: cancel.clone(),
        stream: sse_ok.then(|| close.clone() as Arc<dyn StreamControl>),
    };
    drop(ev_tx);
    let fut = app.engine.dispatch(call);
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
            let _ = reply.send(json_reply(&id, r));
            return;
        }
        done = Some(r);
    }

    let (writer, body) = StreamWriter::open(hub.clone(), v.sid.clone(), supports_priming(&v.version));
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
    writer.write(final_message(&id, result), true).await;
}

/// Removes the request from the in-flight table however the task ends.
struct InFlight<'a> {
    app: &'a App,
    sid: &'a Arc<str>,
    id: &'a Id,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.app.hub.end_request(self.sid, self.id);
    }
}

/// `GET` with a session id: resume a stream (`Last-Event-ID`) or open the push stream.
pub(super) async fn get(app: Arc<App>, parts: http::request::Parts) -> Response {
    let v = match validate(&app, &parts).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    if !accepts(&parts.headers, "text/event-stream") {
        return error_response(
            None,
            &McpError::invalid_request("Not Acceptable: Accept must include text/event-stream")
                .with_status(StatusCode::NOT_ACCEPTABLE),
        );
    }
    let last = parts.headers.get("last-event-id").map(|h| h.to_str().ok().and_then(parse_event_id));
    match last {
        Some(None) => bad_request("Bad Request: malformed Last-Event-ID"),
        Some(Some((stream, after))) if stream != PUSH_STREAM => match resume(&app.hub, &v.sid, stream, after).await {
            Some(body) => {
                app.engine.telemetry().session_behaviour(&v.sid, v.session.client_info.as_ref(), flag::RESUMES);
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
    let hub = &app.hub;
    let claim = crate::store::event_log::new_stream_id();
    let now = now_ms();
    let until = now + lease(hub.keep_alive);
    // A fresh GET must not displace a live stream (409); a resuming one takes over.
    let claimed = match resume_after {
        None => hub.store.update(&v.sid, &|d| d.claim_push(&claim, now, until)).await,
        Some(_) => hub.store.update(&v.sid, &|d| d.take_push(&claim, until)).await,
    };
    match claimed {
        Ok(Some(true)) => {}
        Ok(Some(false)) => {
            return error_response(
                None,
                &McpError::invalid_request("Conflict: this session already has an open server-push stream")
                    .with_status(StatusCode::CONFLICT),
            )
        }
        Ok(None) => return session_not_found(),
        Err(e) => return store_error(e),
    }
    let retry = hub.config.retry.as_millis() as u64;
    let mut first = Vec::new();
    match resume_after {
        Some(after) => {
            first.push(retry_hint(retry));
            if let Ok(Some(r)) = hub.log.replay_after(&v.sid, PUSH_STREAM, after).await {
                for e in r.events {
                    first.push(super::sse::frame_with_id(&event_id(PUSH_STREAM, e.seq), &e.data));
                }
            }
        }
        None if supports_priming(&v.version) => {
            let head = hub.log.head(&v.sid, PUSH_STREAM).await.unwrap_or(0);
            first.push(priming(&event_id(PUSH_STREAM, head), retry));
        }
        None => {}
    }
    let seen = if resume_after.is_some() { flag::GET_STREAM | flag::RESUMES } else { flag::GET_STREAM };
    app.engine.telemetry().session_behaviour(&v.sid, v.session.client_info.as_ref(), seen);
    sse_response(push::body(hub.clone(), v.sid.clone(), Flavor::Resumable { claim }, first))
}

/// `DELETE` with a session id: end the session.
pub(super) async fn delete(app: Arc<App>, parts: http::request::Parts) -> Response {
    let v = match validate(&app, &parts).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    app.engine.telemetry().session_behaviour(&v.sid, v.session.client_info.as_ref(), flag::DELETE);
    match app.hub.end_session(&v.sid, EndReason::Delete).await {
        Ok(_) => StatusCode::OK.into_response(),
        Err(e) => error_response(None, &e.with_status(StatusCode::SERVICE_UNAVAILABLE)),
    }
}
