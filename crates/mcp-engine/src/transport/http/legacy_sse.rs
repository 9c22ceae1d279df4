//! The deprecated HTTP+SSE transport (protocol revision 2024-11-05), for clients that
//! still require it: `GET /sse` opens a session and its one stream, which begins with an
//! `endpoint` event naming `/message?sessionId=…`; the client POSTs every message there
//! and gets 202; responses, notifications and server-initiated requests arrive on the
//! stream as `message` events. The session ends with the stream.
//!
//! Framing only: the session driver ([`crate::session::driver`]) decides what each
//! message means.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::response::Response;
use tokio::sync::mpsc;

use super::app::App;
use super::gate::admitted;
use super::push::{self, Flavor};
use super::reply::{accepted, bad_request, error_response, read_body, require_json, sse_response};
use crate::jsonrpc::{self, Message};
use crate::protocol::{HttpRequestParts, Transport};
use crate::session::driver::{run_on_channel, Origin, Step};
use crate::session::live::{session_not_found, store_error};
use crate::transport::sse::named_event;

/// `GET /sse`: a new session and its stream.
pub(super) async fn open(State(app): State<Arc<App>>, req: Request) -> Response {
    let (parts, _) = req.into_parts();
    let caller = admitted(&parts).caller;
    let sid = match app.live.open_bare(&caller, Transport::Sse).await {
        Ok(sid) => sid,
        Err(e) => return error_response(None, &store_error(e)),
    };
    let (tx, rx) = mpsc::channel::<Vec<u8>>(256);
    app.live.set_sse_sink(&sid, tx);
    let message_path = app.config.sessions.sse_paths.as_ref().map_or("/message", |(_, m)| m.as_str());
    let endpoint = named_event("endpoint", &format!("{message_path}?sessionId={sid}"));
    sse_response(push::body(app.live.clone(), sid, Flavor::Sse { outbox: rx }, vec![endpoint]))
}

/// `POST /message?sessionId=…`: accept one message for the session's stream (202), and
/// answer it on the stream.
pub(super) async fn message(State(app): State<Arc<App>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let sid =
        parts.uri.query().and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("sessionId=")).map(str::to_owned));
    let Some(sid) = sid.filter(|s| !s.is_empty()) else {
        return bad_request("Bad Request: the sessionId query parameter is required");
    };
    let admitted = admitted(&parts);
    let session = match app.live.session_for(&sid, &admitted.caller).await {
        Ok(s) => s,
        Err(e) => return error_response(None, &e),
    };
    if !session.http_sse {
        return error_response(None, &session_not_found());
    }
    if let Err(r) = require_json(&parts.headers) {
        return r;
    }
    let body = match read_body(&parts.headers, body, app.config.max_body_bytes).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let http = HttpRequestParts {
        query: parts.uri.query().map(str::to_owned),
        headers: parts.headers,
        remote: admitted.remote,
    };
    let sid: Arc<str> = sid.into();
    // The stream may be held by another instance: then answers travel there on the bus.
    let sink = app.live.sse_outbox(&sid);
    let origin =
        Origin { sid, session, caller: admitted.caller, transport: Transport::Sse, version: None, http: Some(http) };
    // The message runs in its own task; the POST is answered once it is taken in.
    let (ack_tx, ack_rx) = tokio::sync::oneshot::channel::<Response>();
    tokio::spawn(async move {
        let message = match jsonrpc::parse(&body) {
            Ok(m) => m,
            Err(e) => {
                let _ =
                    ack_tx.send(error_response(e.id.clone().as_ref(), &e.with_status(http::StatusCode::BAD_REQUEST)));
                return;
            }
        };
        let is_request = matches!(message, Message::Request { .. });
        if is_request {
            let _ = ack_tx.send(accepted());
            match app.live.step(origin, message).await {
                Step::Run(running) => run_on_channel(running, sink).await,
                Step::Answer(out) => drop(sink.send(out).await),
                Step::Refused(id, e) => {
                    let mut out = Vec::new();
                    crate::jsonrpc::write_error(&mut out, id.as_ref(), &e);
                    let _ = sink.send(out).await;
                }
                Step::Accepted => {}
            }
        } else {
            app.live.step(origin, message).await;
            let _ = ack_tx.send(accepted());
        }
    });
    ack_rx.await.unwrap_or_else(|_| accepted())
}
