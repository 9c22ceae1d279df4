//! Streamable HTTP: one endpoint for both protocol eras.
//!
//! A POST is read (bounded), parsed once, and classified: a request carrying modern
//! `_meta` (or a modern `MCP-Protocol-Version` header) is served statelessly here; an
//! `initialize`, an `Mcp-Session-Id` or a legacy version header selects the session path.
//! A modern request is answered with JSON unless its handler emits a notification before
//! its result, in which case the response becomes an SSE stream scoped to the request.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use bytes::Bytes;
use futures_util::stream;
use http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use http_body_util::BodyExt;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::gate::{self, admitted, Admitted, Gate};
use super::guard::{GuardConfig, GuardLayer};
use super::hub::{SessionConfig, SessionHub};
use super::sse::{frame, BoxedOutcome, RequestStream, KEEP_ALIVE};
use super::{http_session, http_sse};
use crate::auth::AuthConfig;
use crate::dispatch::{Call, Engine, Listener, Reply};
use crate::headers::check_standard;
use crate::jsonrpc::{self, write_error, write_result_raw, Id, McpError, Message};
use crate::limits::RateLimitConfig;
use crate::protocol::{
    unsupported_version, validate_modern_meta, Era, HttpRequestParts, Params, RequestInfo, Transport, LEGACY_VERSIONS,
};
use crate::store::{EventLog, MemoryEventLog, MemorySessionStore, SessionStore};

/// HTTP transport settings with production defaults.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// The MCP endpoint path.
    pub path: String,
    /// Largest accepted request body; larger bodies get 413.
    pub max_body_bytes: usize,
    pub guard: GuardConfig,
    /// Interval of keep-alive comments on long-lived streams.
    pub keep_alive: Duration,
    /// The session era: limits, intervals, the HTTP+SSE paths.
    pub sessions: SessionConfig,
    /// Bearer validation, protected-resource metadata, forced challenges.
    pub auth: AuthConfig,
    /// Request rate limits per caller / client address (`None`: unlimited).
    pub limits: Option<RateLimitConfig>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            path: "/mcp".into(),
            max_body_bytes: 4 * 1024 * 1024,
            guard: GuardConfig::default(),
            keep_alive: Duration::from_secs(15),
            sessions: SessionConfig::default(),
            auth: AuthConfig::default(),
            limits: None,
        }
    }
}

pub(super) struct App {
    pub(super) engine: Engine,
    pub(super) config: HttpConfig,
    pub(super) hub: Arc<SessionHub>,
    pub(super) gate: Gate,
}

/// The MCP endpoint (plus `/healthz` and, unless disabled, the HTTP+SSE transport), with
/// Host/Origin validation in front. Session-era state lives in in-memory stores.
pub fn router(engine: Engine, config: HttpConfig) -> Router {
    let store = Arc::new(MemorySessionStore::new(config.sessions.max_sessions, config.sessions.idle_timeout));
    let log =
        Arc::new(MemoryEventLog::new(config.sessions.max_events_per_stream, config.sessions.max_streams_per_session));
    router_with_stores(engine, config, store, log)
}

/// [`router`] with session-era state in the given stores (e.g. shared by several instances).
pub fn router_with_stores(
    engine: Engine,
    config: HttpConfig,
    store: Arc<dyn SessionStore>,
    log: Arc<dyn EventLog>,
) -> Router {
    let guard = GuardLayer::new(config.guard.clone());
    let path = config.path.clone();
    let hub = SessionHub::new(engine.clone(), store, log, config.sessions.clone(), config.keep_alive);
    let sse_paths = config.sessions.sse_paths.clone();
    let gate = Gate::new(config.auth.clone(), config.limits.clone(), &path);
    let metadata = config.auth.resource.is_some();
    let app = Arc::new(App { engine, config, hub, gate });
    let mut r = Router::new().route(&path, any(endpoint)).route("/healthz", axum::routing::get(|| async { "ok" }));
    if metadata {
        // RFC 9728: the metadata of the resource at `path`, and the host-level document.
        let at_path = format!("/.well-known/oauth-protected-resource{path}");
        r = r
            .route(&at_path, axum::routing::get(protected_resource))
            .route("/.well-known/oauth-protected-resource", axum::routing::get(protected_resource));
    }
    if let Some((sse, message)) = sse_paths {
        r = r.route(&sse, axum::routing::get(http_sse::open)).route(&message, axum::routing::post(http_sse::message));
    }
    // The operator's surfaces (metrics, JSON API, dashboard) sit behind the same guard.
    let telemetry = crate::telemetry::http::routes(app.engine.telemetry().clone(), &app.config.path);
    r.with_state(app).merge(telemetry).layer(guard)
}

async fn protected_resource(State(app): State<Arc<App>>, req: Request) -> Response {
    gate::metadata_response(app.gate.auth(), req.headers(), &app.config.path)
}

async fn endpoint(State(app): State<Arc<App>>, req: Request) -> Response {
    let (mut parts, body) = req.into_parts();
    if let Err(r) = app.gate.admit(&mut parts, app.engine.telemetry()).await {
        return r;
    }
    let req = Request::from_parts(parts, body);
    let session = req.headers().contains_key(&crate::headers::names::MCP_SESSION_ID);
    match *req.method() {
        Method::POST => post(app, req).await,
        Method::GET if session => http_session::get(app, req.into_parts().0).await,
        Method::DELETE if session => http_session::delete(app, req.into_parts().0).await,
        // Without a session, GET streams and DELETE have no meaning (the modern era has no
        // sessions).
        _ => {
            let mut r = plain_error(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed: use POST");
            r.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST"));
            r
        }
    }
}

fn plain_error(status: StatusCode, message: &str) -> Response {
    let err = McpError::invalid_request(message.to_owned()).with_status(status);
    error_response(None, &err)
}

pub(super) fn error_response(id: Option<&Id>, err: &McpError) -> Response {
    let mut out = Vec::with_capacity(128);
    write_error(&mut out, id, err);
    json_response(err.status, out)
}

pub(super) fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
    (status, [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response()
}

pub(super) fn sse_response(body: Body) -> Response {
    let mut r = Response::new(body);
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    r
}

/// Does `Accept` admit JSON, and SSE? One pass over the header; a missing header admits
/// both.
pub(super) fn accept_flags(headers: &HeaderMap) -> (bool, bool) {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else { return (true, true) };
    let (mut json, mut sse) = (false, false);
    for range in accept.split(',') {
        let range = range.split(';').next().unwrap_or("").trim();
        match range {
            "application/json" | "application/*" => json = true,
            "text/event-stream" | "text/*" => sse = true,
            "*/*" => return (true, true),
            _ => {}
        }
    }
    (json, sse)
}

/// Does the `Accept` header admit `media`? A missing header admits everything.
pub(super) fn accepts(headers: &HeaderMap, media: &str) -> bool {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else { return true };
    let (kind, _) = media.split_once('/').unwrap_or((media, ""));
    accept
        .split(',')
        .map(|r| r.split(';').next().unwrap_or("").trim())
        .any(|r| r == media || r == "*/*" || r.strip_suffix("/*").is_some_and(|k| k == kind))
}

async fn post(app: Arc<App>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let content_type_ok = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json")));
    if !content_type_ok {
        return plain_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported Media Type: Content-Type must be application/json",
        );
    }
    let (json_ok, sse_ok) = accept_flags(&parts.headers);
    if !json_ok && !sse_ok {
        return plain_error(
            StatusCode::NOT_ACCEPTABLE,
            "Not Acceptable: Accept must include application/json and text/event-stream",
        );
    }
    let limit = app.config.max_body_bytes;
    let declared = parts.headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return too_large(limit);
    }
    let body = match http_body_util::Limited::new(body, limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => return too_large(limit),
        Err(_) => return plain_error(StatusCode::BAD_REQUEST, "Bad Request: could not read the body"),
    };

    if route_era(&parts.headers, &body) == Era::Legacy {
        return if parts.headers.contains_key(&crate::headers::names::MCP_SESSION_ID) {
            http_session::post(app, parts, body, sse_ok).await
        } else {
            http_session::post_without_session(app, parts, body).await
        };
    }

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

fn too_large(limit: usize) -> Response {
    plain_error(StatusCode::PAYLOAD_TOO_LARGE, &format!("Payload Too Large: the request body exceeds {limit} bytes"))
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

/// Which era a request belongs to (see the module docs).
fn detect_era(headers: &HeaderMap, params: &Params<'_>) -> Era {
    if headers.contains_key(&crate::headers::names::MCP_SESSION_ID) {
        return Era::Legacy;
    }
    let modern_meta = params.meta.as_ref().is_some_and(|m| m.protocol_version.is_some());
    match headers.get(&crate::headers::names::MCP_PROTOCOL_VERSION).and_then(|v| v.to_str().ok()).map(str::trim) {
        Some(v) if LEGACY_VERSIONS.contains(&v) && !modern_meta => Era::Legacy,
        Some(_) => Era::Modern,
        None if modern_meta => Era::Modern,
        None => Era::Legacy,
    }
}

/// The era of a POST, from the headers when they decide it (the hot paths: a session id,
/// or a modern version header), else from the body (`initialize`, or a modern `_meta`
/// without the header) — parsed here only on that cold path.
fn route_era(headers: &HeaderMap, body: &[u8]) -> Era {
    if headers.contains_key(&crate::headers::names::MCP_SESSION_ID) {
        return Era::Legacy;
    }
    match headers.get(&crate::headers::names::MCP_PROTOCOL_VERSION).and_then(|v| v.to_str().ok()).map(str::trim) {
        Some(v) if !LEGACY_VERSIONS.contains(&v) => Era::Modern,
        _ => match jsonrpc::parse(body) {
            // Malformed bodies get the modern path's exact errors.
            Err(_) => Era::Modern,
            Ok(Message::Request { params, .. }) => match Params::parse(params) {
                Ok(p) => detect_era(headers, &p),
                Err(_) => Era::Modern,
            },
            // A notification or response without a session: only a legacy version header
            // makes it session-era (and then a 400 for the missing session id).
            Ok(_) if headers.contains_key(&crate::headers::names::MCP_PROTOCOL_VERSION) => Era::Legacy,
            Ok(_) => Era::Modern,
        },
    }
}

/// The caller behind a request: anonymous, or identified by a hash of its bearer token
/// (unvalidated; an admitted request's caller comes from the gate).
#[cfg(test)]
pub(super) fn caller_of(headers: &HeaderMap) -> crate::protocol::Caller {
    crate::auth::unvalidated_caller(crate::auth::bearer_of(headers))
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
    let headers = &parts.headers;

    // Modern era: validate transport headers against the body, then metadata.
    let Some(header_version) = headers.get(&crate::headers::names::MCP_PROTOCOL_VERSION) else {
        return reject(&app, &method, id, McpError::header_mismatch("Missing required header MCP-Protocol-Version"));
    };
    let header_version = match header_version.to_str() {
        Ok(v) => v.trim(),
        Err(_) => {
            return reject(
                &app,
                &method,
                id,
                McpError::header_mismatch("MCP-Protocol-Version contains invalid characters"),
            )
        }
    };
    let mut params = params;
    let meta = match validate_modern_meta(params.meta.take()) {
        Ok(m) => m,
        Err(e) => return reject(&app, &method, id, e),
    };
    if header_version != meta.protocol_version {
        return reject(
            &app,
            &method,
            id,
            McpError::header_mismatch(format!(
                "Header mismatch: MCP-Protocol-Version '{header_version}' does not match _meta protocolVersion '{}'",
                meta.protocol_version
            )),
        );
    }
    let supported = app.engine.modern_versions();
    if !supported.contains(&meta.protocol_version.as_str()) {
        return reject(&app, &method, id, unsupported_version(&meta.protocol_version, supported));
    }
    let target = params.name.as_deref().or(params.uri.as_deref());
    if let Err(e) = check_standard(headers, &method, target) {
        return reject(&app, &method, id, e);
    }

    let query = parts.uri.query().map(str::to_owned);
    let Admitted { caller, remote } = admitted(&parts);
    let info = Arc::new(RequestInfo {
        era: Era::Modern,
        transport: Transport::StreamableHttp,
        protocol_version: meta.protocol_version,
        method: method.to_string(),
        client_capabilities: meta.client_capabilities,
        client_info: meta.client_info,
        log_level: meta.log_level,
        progress_token: meta.progress_token,
        caller,
        http: Some(HttpRequestParts { headers: parts.headers, query, remote }),
    });
    let cancel = CancellationToken::new();
    // Dropping this future (client gone) cancels the token for any spawned work.
    let _cancel_on_drop = cancel.clone().drop_guard();
    let call = Call { id: id.clone(), method: &method, params, info, events, requester: None, cancel, stream: None };
    let reply = app.engine.dispatch(call).await;
    Processed::Reply { id, reply }
}

/// A request refused before dispatch (headers, `_meta`, version): counted as an error of
/// its method, for the dashboard's view of misbehaving clients.
fn reject(app: &App, method: &str, id: Id, error: McpError) -> Processed {
    app.engine.telemetry().rejected(method, Era::Modern, Transport::StreamableHttp, &error);
    Processed::Rejected { id: Some(id), error }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_header_matching() {
        let mut h = HeaderMap::new();
        assert!(accepts(&h, "text/event-stream"));
        h.insert(header::ACCEPT, "application/json, text/event-stream".parse().unwrap());
        assert!(accepts(&h, "application/json") && accepts(&h, "text/event-stream"));
        h.insert(header::ACCEPT, "application/json".parse().unwrap());
        assert!(!accepts(&h, "text/event-stream"));
        h.insert(header::ACCEPT, "text/*;q=0.5".parse().unwrap());
        assert!(accepts(&h, "text/event-stream") && !accepts(&h, "application/json"));
        h.insert(header::ACCEPT, "image/png".parse().unwrap());
        assert!(!accepts(&h, "application/json"));
        assert_eq!(accept_flags(&h), (false, false));
        h.insert(header::ACCEPT, "application/json, text/event-stream".parse().unwrap());
        assert_eq!(accept_flags(&h), (true, true));
        h.insert(header::ACCEPT, "text/*;q=0.5, application/json".parse().unwrap());
        assert_eq!(accept_flags(&h), (true, true));
        h.insert(header::ACCEPT, "*/*".parse().unwrap());
        assert_eq!(accept_flags(&h), (true, true));
        assert_eq!(accept_flags(&HeaderMap::new()), (true, true));
    }

    #[test]
    fn caller_is_a_hash_never_the_token() {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, "Bearer hf_secret_token".parse().unwrap());
        let c = caller_of(&h);
        assert!(!c.id.as_deref().unwrap().contains("hf_secret"));
        assert_eq!(c.bearer.as_deref(), Some("hf_secret_token"));
        assert!(caller_of(&HeaderMap::new()).id.is_none());
    }
}
