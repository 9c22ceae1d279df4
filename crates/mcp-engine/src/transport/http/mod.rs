//! HTTP transports on one router: Streamable HTTP for both eras at one endpoint, the
//! deprecated HTTP+SSE transport, `/healthz` and OAuth protected-resource metadata.
//!
//! Layout (imports point down this list, never up):
//! - [`mod@self`]: the router, and which module serves a request (by method, session id
//!   and era);
//! - [`stateless`]: 2026-07-28 POSTs; [`session`]: Streamable HTTP sessions (POST, GET,
//!   DELETE); [`legacy_sse`]: HTTP+SSE — the last two only frame what the session driver
//!   ([`crate::session::driver`]) decides;
//! - [`streams`], [`push`]: resumable request streams and server-push streams;
//! - [`guard`] (Host/Origin), [`cors`] (browsers), [`gate`] (authentication, rate limits):
//!   tower layers;
//! - [`discovery`] (Server Card, AI Catalog), [`welcome`] (the page browsers get): public
//!   documents;
//! - [`app`], [`reply`]: shared state and the leaf helpers every module uses.

pub(crate) mod app;
pub mod cors;
pub mod discovery;
pub(crate) mod gate;
pub mod guard;
pub(crate) mod legacy_sse;
pub(crate) mod push;
pub(crate) mod reply;
pub(crate) mod session;
pub(crate) mod stateless;
pub(crate) mod streams;
pub mod welcome;

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::response::Response;
use axum::routing::{any, get, post};
use axum::Router;
use http::{header, HeaderMap, HeaderValue, Method, StatusCode};

use crate::dispatch::Engine;
use crate::headers::names::{MCP_PROTOCOL_VERSION, MCP_SESSION_ID};
use crate::jsonrpc::{self, Message};
use crate::protocol::{Era, Params, SESSION_VERSIONS};
use crate::session::LiveSessions;
use crate::store::{EventLog, MemoryEventLog, MemorySessionStore, SessionStore};
use app::App;
pub use app::HttpConfig;
use gate::{Gate, GateLayer};
use guard::GuardLayer;
use reply::plain_error;

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
    mut config: HttpConfig,
    store: Arc<dyn SessionStore>,
    log: Arc<dyn EventLog>,
) -> Router {
    let guard = GuardLayer::new(config.guard.clone());
    let cors = cors::CorsLayer::new(config.guard.clone());
    let path = config.path.clone();
    let extra = config.extra_routes.take();
    let discovery = config.card.take().map(|card| {
        let endpoints = discovery::Endpoints {
            path: path.clone(),
            sse_path: config.sessions.sse_paths.as_ref().map(|(sse, _)| sse.clone()),
            stateless_versions: engine.stateless_versions(),
        };
        discovery::routes(card, endpoints, engine.server_info().version.clone(), config.guard.clone())
    });
    let live = LiveSessions::new(engine.clone(), store, log, config.sessions.clone(), config.keep_alive);
    let gate = Arc::new(Gate::new(
        config.auth.clone(),
        config.limits.clone(),
        config.shared_limits.clone(),
        &path,
        engine.clone(),
    ));
    let sse_paths = config.sessions.sse_paths.clone();
    let app = Arc::new(App { engine, config, live });

    let mut mcp = Router::new().route(&path, any(endpoint));
    if let Some((sse, message)) = sse_paths {
        mcp = mcp.route(&sse, get(legacy_sse::open)).route(&message, post(legacy_sse::message));
    }
    let mut open = Router::new().route("/healthz", get(|| async { "ok" })).route("/readyz", get(readyz));
    if app.config.welcome.is_some() && path != "/" {
        let to = HeaderValue::from_str(&path).unwrap_or(HeaderValue::from_static("/mcp"));
        open = open.route("/", get(move || async move { (StatusCode::FOUND, [(header::LOCATION, to)]) }));
    }
    if gate.auth().resource.is_some() {
        // RFC 9728: the metadata of the resource at `path`, and the host-level document.
        let metadata = {
            let gate = gate.clone();
            let path = path.clone();
            move |req: Request| {
                let (gate, path) = (gate.clone(), path.clone());
                async move { gate::metadata_response(gate.auth(), req.headers(), &path) }
            }
        };
        open = open
            .route(&format!("/.well-known/oauth-protected-resource{path}"), get(metadata.clone()))
            .route("/.well-known/oauth-protected-resource", get(metadata));
    }
    let mut r = mcp.layer(GateLayer::new(gate)).merge(open).with_state(app);
    if let Some(extra) = extra {
        r = r.merge(extra);
    }
    let r = r.layer(cors).layer(guard);
    // Public documents: their own Host-only guard and `*` CORS, outside the origin guard.
    match discovery {
        Some(d) => r.merge(d),
        None => r,
    }
}

/// Readiness (for a balancer): ready while the session store answers and the bus reaches
/// the other instances (client answers and cancellations travel on it). Liveness is
/// `/healthz`, which never depends on either.
async fn readyz(State(app): State<Arc<App>>) -> Response {
    let store = app.live.store.health().await;
    let bus = app.engine.bus().healthy();
    match (store, bus) {
        (Ok(()), true) => reply::json_response(StatusCode::OK, br#"{"status":"ready"}"#.to_vec()),
        (store, bus) => {
            let body = serde_json::json!({
                "status": "not ready",
                "sessionStore": store.err().map_or("ok".to_owned(), |e| e.to_string()),
                "bus": if bus { "ok" } else { "not subscribed" },
            });
            reply::json_response(StatusCode::SERVICE_UNAVAILABLE, body.to_string().into_bytes())
        }
    }
}

/// The MCP endpoint: which era and transport module serves the request.
async fn endpoint(State(app): State<Arc<App>>, req: Request) -> Response {
    let has_session = req.headers().contains_key(&MCP_SESSION_ID);
    match *req.method() {
        Method::POST => {
            let (parts, body) = req.into_parts();
            let (_, sse_ok) = match reply::check_post(&parts.headers) {
                Ok(flags) => flags,
                Err(r) => return r,
            };
            let body = match reply::read_body(&parts.headers, body, app.config.max_body_bytes).await {
                Ok(b) => b,
                Err(r) => return r,
            };
            if is_session_era(&parts.headers, &body) {
                return if has_session {
                    session::post(app, parts, body, sse_ok).await
                } else {
                    session::post_without_session(app, parts, body).await
                };
            }
            stateless::post(app, parts, body, sse_ok).await
        }
        Method::GET if has_session => session::get(app, req.into_parts().0).await,
        Method::DELETE if has_session => session::delete(app, req.into_parts().0).await,
        Method::GET if app.config.welcome.is_some() && welcome::is_browser(req.headers()) => {
            let public = app.config.auth.resource.as_ref().and_then(|r| r.public_url.as_deref());
            let url = format!("{}{}", crate::auth::base_url(public, req.headers()), app.config.path);
            let info = app.engine.server_info();
            let title = info.title.as_deref().unwrap_or(&info.name);
            welcome::page(app.config.welcome.as_ref().expect("checked"), title, &url)
        }
        // Without a session, GET streams and DELETE have no meaning (the stateless era has
        // no sessions).
        _ => {
            let mut r = plain_error(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed: use POST");
            r.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST"));
            r
        }
    }
}

/// Which era a request belongs to: a session id or a session-era version header
/// (without stateless `_meta`) mean the session era.
fn detect_era(headers: &HeaderMap, params: &Params<'_>) -> Era {
    if headers.contains_key(&MCP_SESSION_ID) {
        return Era::Session;
    }
    let stateless_meta = params.meta.as_ref().is_some_and(|m| m.protocol_version.is_some());
    match headers.get(&MCP_PROTOCOL_VERSION).and_then(|v| v.to_str().ok()).map(str::trim) {
        Some(v) if SESSION_VERSIONS.contains(&v) && !stateless_meta => Era::Session,
        Some(_) => Era::Stateless,
        None if stateless_meta => Era::Stateless,
        None => Era::Session,
    }
}

/// Is this POST for the session era? Decided from the headers when they can (the hot
/// paths: a session id, or a stateless version header), else from the body
/// (`initialize`, or stateless `_meta` without the header) — parsed here only on that
/// cold path.
fn is_session_era(headers: &HeaderMap, body: &[u8]) -> bool {
    route_era(headers, body) == Era::Session
}

/// Era routing of a POST from its headers and body (public for the fuzz targets only).
#[doc(hidden)]
pub fn route_era(headers: &HeaderMap, body: &[u8]) -> Era {
    if headers.contains_key(&MCP_SESSION_ID) {
        return Era::Session;
    }
    match headers.get(&MCP_PROTOCOL_VERSION).and_then(|v| v.to_str().ok()).map(str::trim) {
        Some(v) if !SESSION_VERSIONS.contains(&v) => Era::Stateless,
        _ => match jsonrpc::parse(body) {
            // Malformed bodies get the stateless path's exact errors.
            Err(_) => Era::Stateless,
            Ok(Message::Request { params, .. }) => match Params::parse(params) {
                Ok(p) => detect_era(headers, &p),
                Err(_) => Era::Stateless,
            },
            // A notification or response without a session: only a session-era version header
            // makes it session-era (and then a 400 for the missing session id).
            Ok(_) if headers.contains_key(&MCP_PROTOCOL_VERSION) => Era::Session,
            Ok(_) => Era::Stateless,
        },
    }
}
