//! A whole request — method, path, headers, body (see [`super::wire`]) — through the real
//! axum router in process (`tower::ServiceExt::oneshot`): guard, gate, era routing, both
//! eras, HTTP+SSE, the conformance toolset as provider (its sleeping tools replaced by
//! instant ones). A live session is opened once per router; `{sid}` in the input stands
//! for its id, so session-era paths (`Last-Event-ID`, DELETE, push streams) are reached.
//!
//! Invariants: no panic (also in spawned tasks: a session-era handler that panics shows as
//! a 500), a status from the expected set, no 5xx but a 503 with `Retry-After`, every JSON
//! body parses, every error status carries a JSON-RPC error object, every SSE event's data
//! is a JSON-RPC message.

use std::cell::{Cell, RefCell};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::Router;
use bytes::Bytes;
use http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use mcp_engine::auth::{AuthConfig, ProtectedResource};
use mcp_engine::dispatch::EngineConfig;
use mcp_engine::provider::{StaticProvider, Tool, ToolOutput};
use mcp_engine::store::MemoryTaskStore;
use mcp_engine::transport::http::{router, HttpConfig};
use mcp_engine::{Ctx, Engine, Sealer, ServerInfo, TaskConfig};
use serde_json::Value;
use tower::ServiceExt;

use super::wire;
use crate::Target;

pub const TARGET: Target = Target {
    name: "http_request",
    about: "a whole HTTP request (request line, headers, body) through the in-process router",
    run,
    dictionary: &[
        "POST /mcp",
        "GET /mcp",
        "DELETE /mcp",
        "GET /sse",
        "POST /message?sessionId=",
        "GET /.well-known/oauth-protected-resource/mcp",
        "/mcp?login",
        "\n\n",
        "\nContent-Type: application/json",
        "\nAccept: application/json, text/event-stream",
        "\nAccept: text/event-stream",
        "\nMcp-Session-Id: {sid}",
        "\nMCP-Protocol-Version: 2026-07-28",
        "\nMCP-Protocol-Version: 2025-11-25",
        "\nMCP-Protocol-Version: 2025-03-26",
        "\nMcp-Method: tools/call",
        "\nMcp-Name: test_custom_header",
        "\nMcp-Param-Region: =?base64?ZXU=?=",
        "\nLast-Event-ID: ",
        "\nAuthorization: Bearer x",
        "\nOrigin: http://evil.example",
        "\nHost: localhost:3000",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"test_custom_header\",\"arguments\":{\"region\":\"eu\"},\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\"}}}",
        "\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\",\"io.modelcontextprotocol/clientCapabilities\":{}}",
        "\"requestState\":\"",
        "\"inputResponses\":{",
        "\"cursor\":\"",
        "\"taskId\":\"",
        "tools/list",
        "resources/read",
        "prompts/get",
        "subscriptions/listen",
        "tasks/get",
        "initialize",
        "server/discover",
        "notifications/initialized",
        "test_input_required_result_elicitation",
        "slow_compute",
        "{sid}",
    ],
};

/// Sessions, tasks and event logs accumulate in a router; a fresh one every so often keeps
/// a long run's memory and the session cap out of the picture.
const REBUILD_EVERY: u32 = 500;
/// Longest wait for a response or an SSE event; only endless streams (listen, push) reach it.
const WAIT: Duration = Duration::from_millis(25);

const SLOW_TOOLS: &[&str] = &[
    "test_tool_with_logging",
    "test_tool_with_progress",
    "test_reconnection",
    "slow_compute",
    "failing_job",
    "protocol_error_job",
    "test_tool_with_task",
];

struct Harness {
    rt: tokio::runtime::Runtime,
    app: RefCell<Option<App>>,
    served: Cell<u32>,
    /// The input may have ended the live session: start afresh.
    rebuild: Cell<bool>,
}

struct App {
    router: Router,
    engine: Engine,
    sid: String,
}

thread_local! {
    static HARNESS: Harness = Harness {
        rt: tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime"),
        app: RefCell::new(None),
        served: Cell::new(0),
        rebuild: Cell::new(false),
    };
}

fn run(data: &[u8]) {
    HARNESS.with(|h| {
        if h.served.get() % REBUILD_EVERY == 0 || h.rebuild.take() {
            let app = h.rt.block_on(App::new());
            if let Some(old) = h.app.replace(Some(app)) {
                old.engine.shutdown_token().cancel();
            }
        }
        h.served.set(h.served.get().wrapping_add(1));
        let app = h.app.borrow();
        let app = app.as_ref().expect("built above");
        let wire = wire::parse(data, &app.sid);
        let path = wire.path.clone();
        let mut req =
            Request::builder().method(wire.method).uri(&wire.path).body(Body::from(wire.body)).expect("valid");
        *req.headers_mut() = wire.headers;
        if !req.headers().contains_key(header::HOST) {
            req.headers_mut().insert(header::HOST, http::HeaderValue::from_static("localhost"));
        }
        let is_post = req.method() == http::Method::POST;
        h.rebuild.set(req.method() == http::Method::DELETE);
        h.rt.block_on(exchange(app.router.clone(), req, is_post && path.starts_with("/mcp")));
    })
}

fn provider() -> StaticProvider {
    let mut catalog = toolset_conformance::catalog();
    for name in SLOW_TOOLS {
        let Some(slow) = catalog.find_tool(name).cloned() else { continue };
        let quick = Tool::new(Value::Object(slow.definition.clone()), |_, ctx: Ctx| async move {
            ctx.progress(1.0, Some(2.0), Some("halfway")).await;
            Ok(ToolOutput::text("done"))
        });
        catalog.tool(quick.with_task_support(slow.task_support));
    }
    StaticProvider::new(catalog, toolset_conformance::capabilities())
}

impl App {
    async fn new() -> App {
        let engine = Engine::builder(
            Arc::new(provider()),
            ServerInfo { name: "fuzz".into(), version: "1".into(), title: None, instructions: None },
        )
        .config(EngineConfig { page_size: 4, ..EngineConfig::default() })
        .sealer(Sealer::new(b"hubmcp fuzz", Duration::from_secs(600)))
        .tasks(Arc::new(MemoryTaskStore::new(64)), TaskConfig::default())
        .build();
        let mut config = HttpConfig { max_body_bytes: 256 * 1024, ..HttpConfig::default() };
        config.sessions.max_sessions = 64;
        config.sessions.client_request_timeout = Duration::from_millis(100);
        config.auth = AuthConfig {
            authenticator: None,
            resource: Some(ProtectedResource {
                authorization_servers: vec!["https://auth.example".into()],
                scopes_supported: vec![],
                resource_name: None,
                resource_documentation: None,
                public_url: None,
            }),
            force_params: AuthConfig::default_force_params(),
        };
        let router = router(engine.clone(), config);
        let sid = open_session(&router).await;
        App { router, engine, sid }
    }
}

async fn open_session(router: &Router) -> String {
    let init = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{"elicitation":{},"sampling":{},"roots":{}},"clientInfo":{"name":"fuzz","version":"1"}}}"#;
    let resp = router.clone().oneshot(post(init, None)).await.expect("infallible");
    assert_eq!(resp.status(), StatusCode::OK, "the harness's initialize");
    let sid = resp.headers()["mcp-session-id"].to_str().expect("ascii").to_owned();
    let note = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;
    let resp = router.clone().oneshot(post(note, Some(&sid))).await.expect("infallible");
    assert_eq!(resp.status(), StatusCode::ACCEPTED, "the harness's notifications/initialized");
    sid
}

fn post(body: &'static str, sid: Option<&str>) -> Request<Body> {
    let mut b = Request::post("/mcp")
        .header("host", "localhost")
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream");
    if let Some(s) = sid {
        b = b.header("mcp-session-id", s).header("mcp-protocol-version", "2025-11-25");
    }
    b.body(Body::from(body)).expect("valid")
}

async fn exchange(router: Router, req: Request<Body>, mcp_post: bool) {
    let resp = router.oneshot(req).await.expect("the router is infallible");
    let status = resp.status();
    match status.as_u16() {
        200 | 202 | 204 | 304 | 400 | 401 | 403 | 404 | 405 | 406 | 409 | 413 | 415 | 501 => {}
        // Browsers opening `/` go to the welcome page: a local path, never another site.
        302 => {
            let location = resp.headers().get(header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or("");
            assert!(location.starts_with('/') && !location.starts_with("//"), "302 to {location:?}");
        }
        503 => assert!(resp.headers().contains_key(header::RETRY_AFTER), "503 without Retry-After"),
        other => panic!("unexpected HTTP status {other}"),
    }
    let content_type = resp.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let mut body = resp.into_body();
    if content_type.starts_with("text/event-stream") {
        check_sse(&mut body, mcp_post).await;
        return;
    }
    let Ok(collected) = tokio::time::timeout(WAIT * 10, body.collect()).await else { return };
    let bytes = collected.expect("a response body does not fail").to_bytes();
    if content_type.starts_with("application/json") {
        let v: Value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("JSON body does not parse ({e}): {}", String::from_utf8_lossy(&bytes)));
        if status.as_u16() >= 400 {
            check_error_object(&v);
        } else if mcp_post {
            check_message(&v);
        }
    } else if status.as_u16() >= 400 && !bytes.is_empty() && content_type.is_empty() {
        panic!("error status {status} with a body of no declared type");
    }
}

/// Read events until a response arrives, the stream ends, or it goes quiet.
async fn check_sse(body: &mut Body, mcp_post: bool) {
    let mut buf: Vec<u8> = Vec::new();
    let mut events = 0;
    while events < 16 && buf.len() < 1 << 20 {
        let frame = match tokio::time::timeout(WAIT, body.frame()).await {
            Err(_) | Ok(None) => return,
            Ok(Some(f)) => f.expect("a response body does not fail"),
        };
        let Ok(chunk) = frame.into_data() else { continue };
        buf.extend_from_slice(&chunk);
        while let Some(end) = wire::find(&buf, b"\n\n") {
            let event: Bytes = Bytes::copy_from_slice(&buf[..end]);
            buf.drain(..end + 2);
            events += 1;
            let text = std::str::from_utf8(&event).expect("SSE is UTF-8");
            let data: Vec<&str> = text.lines().filter_map(|l| l.strip_prefix("data:")).map(str::trim_start).collect();
            let data = data.join("\n");
            // HTTP+SSE announces its message URL in an `endpoint` event: not JSON.
            if data.is_empty() || text.lines().any(|l| l.trim_end() == "event: endpoint") {
                continue;
            }
            let v: Value = serde_json::from_str(&data).unwrap_or_else(|e| panic!("SSE data is not JSON ({e}): {data}"));
            check_message(&v);
            if mcp_post && (v.get("result").is_some() || v.get("error").is_some()) {
                return;
            }
        }
    }
}

/// A JSON-RPC message: `jsonrpc: "2.0"`, and a response has exactly one of result/error.
fn check_message(v: &Value) {
    assert_eq!(v.get("jsonrpc").and_then(Value::as_str), Some("2.0"), "not a JSON-RPC message: {v}");
    match (v.get("result"), v.get("error")) {
        (Some(_), Some(_)) => panic!("both result and error: {v}"),
        (None, Some(_)) => check_error_object(v),
        (Some(_), None) => {
            assert!(v.get("id").is_some_and(|id| id.is_string() || id.is_i64()), "result without a valid id: {v}")
        }
        (None, None) => assert!(v.get("method").is_some_and(Value::is_string), "neither response nor message: {v}"),
    }
}

fn check_error_object(v: &Value) {
    assert_eq!(v.get("jsonrpc").and_then(Value::as_str), Some("2.0"), "error body is not JSON-RPC: {v}");
    assert!(v.get("id").is_some_and(|id| id.is_null() || id.is_string() || id.is_i64()), "error id: {v}");
    let e = v.get("error").unwrap_or_else(|| panic!("no error object: {v}"));
    assert!(e.get("code").is_some_and(Value::is_i64), "error code: {v}");
    assert!(e.get("message").is_some_and(Value::is_string), "error message: {v}");
}
