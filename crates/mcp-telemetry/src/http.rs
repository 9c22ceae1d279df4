//! The operator's HTTP surfaces, served next to the MCP endpoint (behind the same
//! Host/Origin guard): `/metrics` (Prometheus text), the JSON API under `/api/`, and the
//! dashboard page at `/dashboard` (plain HTML + JS, embedded; it polls `/api/snapshot`).
//!
//! With a password configured every one of these answers 401 without it (HTTP Basic with
//! any user name, or `Authorization: Bearer <password>`).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use futures_util::future::BoxFuture;
use http::{header, HeaderValue, StatusCode};
use serde_json::{json, Value};

use super::{jsonl, Telemetry, OUTCOMES, TOOL_OUTCOMES};

const DASHBOARD: &str = include_str!("dashboard.html");

/// Paths these routes take.
pub const PATHS: &[&str] = &["/metrics", "/dashboard", "/api/"];

/// The routes, or an empty router when telemetry is off (or when the MCP endpoint itself
/// sits on one of [`PATHS`], which it keeps).
/// Figures of every instance of a cluster, as JSON (`None`: not available right now).
pub type ClusterView = Arc<dyn Fn() -> BoxFuture<'static, Option<Value>> + Send + Sync>;

pub fn routes(telemetry: Telemetry, mcp_path: &str) -> Router {
    routes_with_cluster(telemetry, mcp_path, None)
}

/// [`routes`], plus `/api/cluster` (and a `cluster` field in `/api/snapshot`) when this
/// instance is one of several sharing state.
pub fn routes_with_cluster(telemetry: Telemetry, mcp_path: &str, cluster: Option<ClusterView>) -> Router {
    if !telemetry.enabled() {
        return Router::new();
    }
    if PATHS.iter().any(|p| mcp_path == *p || (p.ends_with('/') && mcp_path.starts_with(p))) {
        tracing::warn!("the MCP endpoint {mcp_path} collides with the metrics paths: /metrics, /dashboard and /api/ are not served");
        return Router::new();
    }
    Router::new()
        .route("/metrics", get(metrics))
        .route("/dashboard", get(dashboard))
        .route("/api/snapshot", get(snapshot))
        .route("/api/overview", get(|State(t): State<Telemetry>| async move { api(overview(&t)) }))
        .route("/api/connections", get(|State(t): State<Telemetry>| async move { api(connections(&t)) }))
        .route(
            "/api/sessions",
            get(|State(t): State<Telemetry>| async move { api(connections(&t)["sessions"].take()) }),
        )
        .route("/api/clients", get(|State(t): State<Telemetry>| async move { api(json!(t.client_records())) }))
        .route("/api/methods", get(|State(t): State<Telemetry>| async move { api(methods(&t)) }))
        .route("/api/tools", get(|State(t): State<Telemetry>| async move { api(tools(&t)) }))
        .route("/api/errors", get(|State(t): State<Telemetry>| async move { api(json!(t.recent_errors(200))) }))
        .route("/api/clients/export", get(export))
        .route(
            "/api/cluster",
            get(move || {
                let cluster = cluster.clone();
                async move {
                    match &cluster {
                        Some(view) => api(view().await.unwrap_or(Value::Null)),
                        None => api(Value::Null),
                    }
                }
            }),
        )
        .layer(axum::middleware::from_fn_with_state(telemetry.clone(), auth))
        .with_state(telemetry)
}

async fn auth(State(t): State<Telemetry>, req: Request, next: Next) -> Response {
    let given = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    if t.authorized(given) {
        return next.run(req).await;
    }
    let mut r = (StatusCode::UNAUTHORIZED, "Unauthorized: this page needs the metrics password\n").into_response();
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"hubmcp metrics\", charset=\"UTF-8\""),
    );
    r
}

fn no_store(mut r: Response) -> Response {
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn api(v: Value) -> Response {
    no_store(([(header::CONTENT_TYPE, "application/json")], v.to_string()).into_response())
}

async fn metrics(State(t): State<Telemetry>) -> Response {
    no_store(([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], t.prometheus()).into_response())
}

async fn dashboard() -> Response {
    let mut r = no_store(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], DASHBOARD).into_response());
    // The page loads nothing from elsewhere and is never framed.
    r.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
        ),
    );
    r
}

async fn snapshot(State(t): State<Telemetry>) -> Response {
    api(json!({
        "overview": overview(&t),
        "methods": methods(&t),
        "tools": tools(&t),
        "clients": t.client_records(),
        "connections": connections(&t),
        "errors": t.recent_errors(50),
    }))
}

fn ms(us: Option<f64>) -> Value {
    us.map_or(Value::Null, |u| json!((u / 10.0).round() / 100.0))
}

pub fn overview(t: &Telemetry) -> Value {
    let (requests, errors) = t.totals();
    let (upstream, upstream_failures) = t.upstream_totals();
    let active = t.connections().active_by_transport();
    let by: Vec<Value> = t
        .by_era_transport()
        .into_iter()
        .map(|(era, transport, n)| json!({"era": era, "transport": transport, "requests": n}))
        .collect();
    let streams: serde_json::Map<String, Value> =
        t.streams_open().into_iter().map(|(k, n)| (k.to_owned(), json!(n))).collect();
    json!({
        "uptime_seconds": t.uptime().as_secs(),
        "started": super::format_rfc3339(t.started_unix_ms()),
        "now": super::format_rfc3339(t.now_ms()),
        "requests": requests,
        "errors": errors,
        "sessions": {"streamable_http": active[0], "http_sse": active[1], "stdio": active[2], "total": active.iter().sum::<u64>()},
        "streams": streams,
        "clients_known": t.clients_known(),
        "list_changed_sent": t.list_changed_sent(),
        "upstream": {"requests": upstream, "failures": upstream_failures},
        "by_era_transport": by,
    })
}

pub fn methods(t: &Telemetry) -> Value {
    Value::Array(
        t.methods()
            .into_iter()
            .map(|(method, counts, h)| {
                let mut o = json!({
                    "method": method,
                    "requests": counts.iter().sum::<u64>(),
                    "p50_ms": ms(h.quantile_us(0.5)),
                    "p99_ms": ms(h.quantile_us(0.99)),
                    "mean_ms": ms(h.mean_us()),
                });
                for (i, name) in OUTCOMES.iter().enumerate() {
                    o[*name] = json!(counts[i]);
                }
                o
            })
            .collect(),
    )
}

pub fn tools(t: &Telemetry) -> Value {
    Value::Array(
        t.tools()
            .into_iter()
            .map(|(tool, counts, h)| {
                let mut o = json!({
                    "tool": &*tool,
                    "calls": counts.iter().sum::<u64>(),
                    "p50_ms": ms(h.quantile_us(0.5)),
                    "p99_ms": ms(h.quantile_us(0.99)),
                });
                for (i, name) in TOOL_OUTCOMES.iter().enumerate() {
                    o[*name] = json!(counts[i]);
                }
                o
            })
            .collect(),
    )
}

pub fn connections(t: &Telemetry) -> Value {
    let now = t.now_ms();
    let (total, sessions) = t.connections().sessions(t, now, 500);
    json!({
        "sessions_total": total,
        "sessions": sessions,
        "listen_streams": t.connections().listens(t, now, 200),
        "streams": t.streams_open().into_iter().map(|(k, n)| (k.to_owned(), json!(n))).collect::<serde_json::Map<_, _>>(),
    })
}

/// `/api/clients/export?format=jsonl|parquet`: the client-behaviour dataset as a download.
async fn export(State(t): State<Telemetry>, req: Request) -> Response {
    let format = req
        .uri()
        .query()
        .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("format=")))
        .unwrap_or("jsonl")
        .to_owned();
    let records = t.client_records();
    let (body, ctype, ext) = match format.as_str() {
        "jsonl" | "json" => (jsonl(&records).into_bytes(), "application/x-ndjson", "jsonl"),
        "parquet" => match t.parquet() {
            Some(write) => match write(&records) {
                Ok(b) => (b, "application/vnd.apache.parquet", "parquet"),
                Err(e) => {
                    return (StatusCode::INTERNAL_SERVER_ERROR, format!("parquet export failed: {e}\n")).into_response()
                }
            },
            None => {
                return (StatusCode::NOT_IMPLEMENTED, "parquet export is not available in this build\n").into_response()
            }
        },
        _ => return (StatusCode::BAD_REQUEST, "format must be jsonl or parquet\n").into_response(),
    };
    let mut r = no_store(([(header::CONTENT_TYPE, ctype)], body).into_response());
    let disposition = format!("attachment; filename=\"mcp-clients.{ext}\"");
    r.headers_mut().insert(header::CONTENT_DISPOSITION, HeaderValue::from_str(&disposition).expect("ascii"));
    r
}
