//! The deprecated HTTP+SSE transport (protocol revision 2024-11-05), for clients that
//! still require it: `GET /sse` opens the session's one stream and sends an `endpoint`
//! event naming `/message?sessionId=…`; the client POSTs every message there and gets 202;
//! responses, notifications and server-initiated requests arrive on the stream as
//! `message` events. The session ends with the stream.
//!
//! Session state lives in the same store as Streamable HTTP sessions, and the method
//! semantics are the shared ones of [`crate::session`].

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{header, StatusCode};
use http_body_util::BodyExt;
use tokio::sync::{mpsc, oneshot};

use super::gate::admitted;
use super::http::{error_response, sse_response, App};
use super::http_session::{bad_request, final_message, session_not_found, store_error};
use super::push::{self, Flavor};
use super::sse::named_event;
use crate::context::ClientRequester;
use crate::dispatch::{Call, Reply};
use crate::jsonrpc::{self, McpError, Message};
use crate::protocol::Era;
use crate::protocol::{Caller, HttpRequestParts, Params, RequestInfo, Transport};
use crate::session::{self, ClientNotification, LiveRequester, SessionOp, EMPTY_RESULT};
use crate::store::SessionData;
use crate::telemetry::Seen;

/// `GET /sse`: a new session and its stream.
pub(super) async fn open(State(app): State<Arc<App>>, req: Request) -> Response {
    let (mut parts, _) = req.into_parts();
    if let Err(r) = app.gate.admit(&mut parts, app.engine.telemetry()).await {
        return r;
    }
    let caller = admitted(&parts).caller;
    let data = SessionData {
        caller: caller.id.as_deref().map(str::to_owned),
        client_capabilities: serde_json::json!({}),
        ..SessionData::default()
    };
    let sid = match app.hub.store.create(data).await {
        Ok(sid) => sid,
        Err(e) => return store_error(e),
    };
    app.engine.telemetry().session_opened(&sid, Transport::Sse, None, None);
    let (tx, rx) = mpsc::channel::<Vec<u8>>(256);
    app.hub.set_sse_sink(&sid, tx);
    let message_path = app.config.sessions.sse_paths.as_ref().map_or("/message", |(_, m)| m.as_str());
    let endpoint = named_event("endpoint", &format!("{message_path}?sessionId={sid}"));
    sse_response(push::body(app.hub.clone(), sid, Flavor::Sse { outbox: rx }, vec![endpoint]))
}

/// `POST /message?sessionId=…`: accept one message for the session's stream.
pub(super) async fn message(State(app): State<Arc<App>>, req: Request) -> Response {
    let (mut parts, body) = req.into_parts();
    if let Err(r) = app.gate.admit(&mut parts, app.engine.telemetry()).await {
        return r;
    }
    let sid =
        parts.uri.query().and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("sessionId=")).map(str::to_owned));
    let Some(sid) = sid.filter(|s| !s.is_empty()) else {
        return bad_request("Bad Request: the sessionId query parameter is required");
    };
    let session = match app.hub.store.touch(&sid).await {
        Ok(Some(s)) => s,
        Ok(None) => return session_not_found(),
        Err(e) => return store_error(e),
    };
    let admitted = admitted(&parts);
    let caller = admitted.caller;
    if session.caller.as_deref() != caller.id.as_deref() {
        return session_not_found();
    }
    let Some(sink) = app.hub.sse_sink(&sid) else { return session_not_found() };
    let json = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json")));
    if !json {
        return error_response(
            None,
            &McpError::invalid_request("Unsupported Media Type: Content-Type must be application/json")
                .with_status(StatusCode::UNSUPPORTED_MEDIA_TYPE),
        );
    }
    let limit = app.config.max_body_bytes;
    let body = match http_body_util::Limited::new(body, limit).collect().await {
        Ok(c) => c.to_bytes(),
        Err(_) => {
            return error_response(
                None,
                &McpError::invalid_request(format!("Payload Too Large: the request body exceeds {limit} bytes"))
                    .with_status(StatusCode::PAYLOAD_TOO_LARGE),
            )
        }
    };
    let (ack_tx, ack_rx) = oneshot::channel();
    let sid: Arc<str> = sid.into();
    let http = HttpRequestParts {
        query: parts.uri.query().map(str::to_owned),
        headers: parts.headers,
        remote: admitted.remote,
    };
    tokio::spawn(handle(app, sid, session, caller, http, body, sink, ack_tx));
    ack_rx.await.unwrap_or_else(|_| accepted())
}

fn accepted() -> Response {
    (StatusCode::ACCEPTED, "Accepted").into_response()
}

#[allow(clippy::too_many_arguments)]
async fn handle(
    app: Arc<App>,
    sid: Arc<str>,
    session: Arc<SessionData>,
    caller: Caller,
    http: HttpRequestParts,
    body: Bytes,
    sink: mpsc::Sender<Vec<u8>>,
    ack: oneshot::Sender<Response>,
) {
    let (id, method, raw) = match jsonrpc::parse(&body) {
        Err(e) => {
            let _ = ack.send(error_response(e.id.clone().as_ref(), &e.with_status(StatusCode::BAD_REQUEST)));
            return;
        }
        Ok(Message::Response { id, result }) => {
            let answer = match result {
                Ok(r) => serde_json::from_str(r.get()).map_err(|_| serde_json::Value::Null),
                Err(e) => Err(serde_json::from_str(e.get()).unwrap_or(serde_json::Value::Null)),
            };
            app.hub.deliver(&sid, id, answer);
            let _ = ack.send(accepted());
            return;
        }
        Ok(Message::Notification { method, params }) => {
            match ClientNotification::parse(&method, params) {
                ClientNotification::Initialized => {
                    let _ = app
                        .hub
                        .store
                        .update(&sid, &|d| {
                            !d.initialized && {
                                d.initialized = true;
                                true
                            }
                        })
                        .await;
                }
                ClientNotification::Cancelled(request) => app.hub.cancel_request(&sid, request),
                ClientNotification::Other => {}
            }
            let _ = ack.send(accepted());
            return;
        }
        Ok(Message::Request { id, method, params }) => (id, method, params),
    };
    let _ = ack.send(accepted());
    let telemetry = app.engine.telemetry();
    if method != "initialize" {
        telemetry.session_request(&sid, &method);
    }
    let params = match Params::parse(raw) {
        Ok(p) => p,
        Err(e) => {
            let _ = sink.send(final_message(&id, Reply::Error(e))).await;
            return;
        }
    };
    if method == "initialize" {
        let mut probe = telemetry.begin_with("initialize", Era::Legacy, Transport::Sse, None);
        let out = match session::initialize(&app.engine, &params, &caller) {
            Ok((init, result)) => match {
                telemetry.set_probe_client(&mut probe, init.client_info.as_ref());
                telemetry.session_initialized(&sid, init.client_info.as_ref(), init.protocol_version.as_deref());
                &app
            }
            .hub
            .store
            .update(&sid, &|d| {
                session::adopt(d, &init);
                true
            })
            .await
            {
                Ok(Some(_)) => Reply::Result(result),
                _ => Reply::Error(McpError::internal("the session ended")),
            },
            Err(e) => Reply::Error(e),
        };
        telemetry.finish(probe, Seen::default(), if let Reply::Error(e) = &out { Some(e) } else { None });
        let _ = sink.send(final_message(&id, out)).await;
        return;
    }
    if let Some(op) = SessionOp::parse(&app.engine, &method, &params) {
        let probe = telemetry.begin_with(&method, Era::Legacy, Transport::Sse, session.client_info.as_ref());
        let out = match op {
            Ok(op) => match app.hub.store.update(&sid, &|d| op.apply(d)).await {
                Ok(_) => Reply::Result(EMPTY_RESULT.to_vec()),
                Err(e) => Reply::Error(McpError::internal(e.to_string())),
            },
            Err(e) => Reply::Error(e),
        };
        let version = session.protocol_version.as_deref().unwrap_or("");
        let seen = Seen { protocol_version: version, capabilities: None, caller: caller.id.as_deref() };
        telemetry.finish(probe, seen, if let Reply::Error(e) = &out { Some(e) } else { None });
        let _ = sink.send(final_message(&id, out)).await;
        return;
    }
    let hub = &app.hub;
    let cancel = hub.begin_request(&sid, &id);
    let info: RequestInfo = session::request_info(&session, &method, &params, Transport::Sse, None, caller, Some(http));
    let requester = Arc::new(LiveRequester {
        out: sink.clone(),
        correlator: hub.correlator.clone(),
        session: sid.clone(),
        timeout: hub.config.client_request_timeout,
    }) as Arc<dyn ClientRequester>;
    let call = Call {
        id: id.clone(),
        method: &method,
        params,
        info: Arc::new(info),
        events: Some(sink.clone()),
        requester: Some(requester),
        cancel: cancel.clone(),
        stream: None,
    };
    let reply = tokio::select! {
        biased;
        _ = cancel.cancelled() => None,
        r = app.engine.dispatch(call) => Some(r),
    };
    hub.end_request(&sid, &id);
    if let Some(r) = reply {
        let _ = sink.send(final_message(&id, r)).await;
    }
}
