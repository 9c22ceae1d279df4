//! Telemetry over real transports: what `/metrics`, the JSON API and the client dataset
//! record for both eras (sessions, streams, list changes and re-lists, resumption, DELETE,
//! input requests, discover, listen streams), the password, bounded labels, metrics off,
//! and stdio.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use mcp_engine::provider::{Catalog, StaticProvider, Tool, ToolOutput};
use mcp_engine::session::SessionConfig;
use mcp_engine::transport::http::HttpConfig;
use mcp_engine::Engine;
use mcp_telemetry::{Telemetry, TelemetryConfig};
use serde_json::{json, Value};

#[path = "../../mcp-engine/tests/common/mod.rs"]
mod common;
use common::{
    serve_on_local_port, session_post, stateless_meta, stateless_request, test_server_info, tools, RunningServer,
};

/// The served engine, kept so tests can read its telemetry; dropping it stops the server.
struct Server {
    running: RunningServer,
    telemetry: Telemetry,
}

impl std::ops::Deref for Server {
    type Target = RunningServer;
    fn deref(&self) -> &RunningServer {
        &self.running
    }
}

fn catalog() -> Catalog {
    let mut c = Catalog::new();
    c.tool(tools::plain());
    c.tool(Tool::new(json!({ "name": "fails", "inputSchema": { "type": "object" } }), |_, _| async {
        let mut r = mcp_engine::JsonObject::new();
        r.insert("content".into(), json!([{ "type": "text", "text": "the upstream said no" }]));
        r.insert("isError".into(), true.into());
        Ok(ToolOutput::Result(r))
    }));
    c.tool(tools::ask());
    c.tool(tools::steps(2, Duration::from_millis(100)));
    c.tool(tools::change(false));
    c
}

async fn start(telemetry: Telemetry) -> Server {
    start_with(telemetry, SessionConfig::default()).await
}

async fn start_with(telemetry: Telemetry, sessions: SessionConfig) -> Server {
    let caps = json!({ "tools": { "listChanged": true }, "logging": {} });
    let provider = Arc::new(StaticProvider::new(catalog(), caps));
    let engine = Engine::builder(provider, test_server_info()).observer(Arc::new(telemetry.clone())).build();
    let routes = mcp_telemetry::http::routes(telemetry.clone(), "/mcp");
    let http = HttpConfig {
        keep_alive: Duration::from_millis(300),
        sessions,
        extra_routes: Some(routes),
        ..HttpConfig::default()
    };
    let running = serve_on_local_port(engine, http, Duration::from_secs(1)).await;
    Server { running, telemetry }
}

/// A 2026-07-28 request (id 1) from a client that declares elicitation and names itself.
fn stateless(
    client: &reqwest::Client,
    url: &str,
    method: &str,
    name: Option<&str>,
    params: Value,
) -> reqwest::RequestBuilder {
    let mut meta = stateless_meta(json!({ "elicitation": {} }));
    meta["io.modelcontextprotocol/clientInfo"] = json!({ "name": "modern-test", "version": "2.0" });
    stateless_request(client, url, 1, method, name, params, meta)
}

/// Read a streamed body until `pred` holds for what arrived so far (or time runs out).
async fn read_until(res: reqwest::Response, pred: impl Fn(&str) -> bool) -> String {
    let mut s = res.bytes_stream();
    let mut text = String::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(Ok(chunk)) = s.next().await {
            text.push_str(&String::from_utf8_lossy(&chunk));
            if pred(&text) {
                break;
            }
        }
    })
    .await;
    text
}

async fn api(client: &reqwest::Client, base: &str, path: &str) -> Value {
    client.get(format!("{base}{path}")).send().await.unwrap().json().await.unwrap()
}

async fn metrics(client: &reqwest::Client, base: &str) -> String {
    client.get(format!("{base}/metrics")).send().await.unwrap().text().await.unwrap()
}

fn client_record<'a>(clients: &'a Value, key: &str) -> &'a Value {
    clients.as_array().unwrap().iter().find(|c| c["client"] == key).unwrap_or_else(|| panic!("{key} in {clients}"))
}

#[tokio::test]
async fn session_era_behaviours_are_recorded() {
    let server = start(Telemetry::default()).await;
    let c = reqwest::Client::new();
    let url = &server.url;
    let init = json!({ "jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": { "elicitation": { "form": {} }, "roots": { "listChanged": true } },
        "clientInfo": { "name": "session-test", "version": "1" } } });
    let res = session_post(&c, url, None, init).send().await.unwrap();
    let sid = res.headers()["mcp-session-id"].to_str().unwrap().to_owned();
    session_post(&c, url, Some(&sid), json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }))
        .send()
        .await
        .unwrap();

    // The push stream: opened, then a list change arrives on it and the client re-lists.
    let push = c
        .get(url)
        .header("accept", "text/event-stream")
        .header("mcp-session-id", &sid)
        .header("mcp-protocol-version", "2025-11-25")
        .send()
        .await
        .unwrap();
    assert_eq!(push.status(), 200);
    let m = metrics(&c, &server.base).await;
    assert!(m.contains("mcp_streams_open{kind=\"push\"} 1"), "{m}");
    assert!(m.contains("mcp_sessions_active{transport=\"streamable_http\"} 1"));
    let call = |name: &str, id: i64| {
        session_post(
            &c,
            url,
            Some(&sid),
            json!({ "jsonrpc": "2.0", "id": id, "method": "tools/call", "params": { "name": name } }),
        )
    };
    call("change", 1).send().await.unwrap().text().await.unwrap();
    let seen = read_until(push, |t| t.contains("notifications/tools/list_changed")).await;
    assert!(seen.contains("notifications/tools/list_changed"), "{seen}");
    session_post(&c, url, Some(&sid), json!({ "jsonrpc": "2.0", "id": 2, "method": "tools/list" }))
        .send()
        .await
        .unwrap();

    // A request stream closed early and resumed with Last-Event-ID.
    let res = call("steps", 3).send().await.unwrap();
    let first = read_until(res, |t| t.contains("\"one\"")).await;
    let last_id = first.lines().filter_map(|l| l.strip_prefix("id: ")).next_back().unwrap().trim().to_owned();
    let resumed = c
        .get(url)
        .header("accept", "text/event-stream")
        .header("mcp-session-id", &sid)
        .header("mcp-protocol-version", "2025-11-25")
        .header("last-event-id", &last_id)
        .send()
        .await
        .unwrap();
    assert_eq!(resumed.status(), 200);
    let rest = read_until(resumed, |t| t.contains("steps done")).await;
    assert!(rest.contains("steps done"), "{rest}");

    // An elicitation the client answers.
    let res = call("ask", 4).send().await.unwrap();
    let mut body = res.bytes_stream();
    let mut text = String::new();
    while !text.contains("elicitation/create") {
        text.push_str(&String::from_utf8_lossy(&body.next().await.unwrap().unwrap()));
    }
    let request: Value = serde_json::from_str(
        text.lines().filter_map(|l| l.strip_prefix("data: ")).find(|l| l.contains("elicitation/create")).unwrap(),
    )
    .unwrap();
    let answer = json!({ "jsonrpc": "2.0", "id": request["id"], "result": { "action": "accept", "content": { "name": "Ada" } } });
    assert_eq!(session_post(&c, url, Some(&sid), answer).send().await.unwrap().status(), 202);
    while !text.contains("hello Ada") {
        text.push_str(&String::from_utf8_lossy(&body.next().await.unwrap().unwrap()));
    }
    drop(body);

    let clients = api(&c, &server.base, "/api/clients").await;
    let r = client_record(&clients, "session-test@1");
    assert_eq!(r["protocol_versions"], json!(["2025-11-25"]));
    assert_eq!(r["eras"], json!(["session"]));
    assert_eq!(r["transports"], json!(["streamable_http"]));
    assert_eq!(r["capabilities"], json!(["roots", "roots.listChanged", "elicitation", "elicitation.form"]));
    assert_eq!(r["sessions"], 1);
    for flag in ["opens_get_streams", "reuses_sessions", "relists_after_list_changed", "resumes_with_last_event_id"] {
        assert_eq!(r[flag], true, "{flag}: {r}");
    }
    assert_eq!(r["answers_input_requests"], true);
    assert_eq!(r["sends_delete"], false);
    assert_eq!(r["uses_server_discover"], false);

    let conns = api(&c, &server.base, "/api/connections").await;
    assert_eq!(conns["sessions_total"], 1);
    let s = &conns["sessions"][0];
    assert_eq!(s["client"], "session-test@1");
    assert_eq!(s["protocol_version"], "2025-11-25");
    assert!(s["id"].as_str().unwrap().chars().count() <= 9, "only a prefix of the session id is shown");
    assert!(!conns.to_string().contains(&sid), "the full session id never appears");

    // DELETE ends it.
    let del = c.delete(url).header("mcp-session-id", &sid).header("mcp-protocol-version", "2025-11-25");
    assert_eq!(del.send().await.unwrap().status(), 200);
    let clients = api(&c, &server.base, "/api/clients").await;
    assert_eq!(client_record(&clients, "session-test@1")["sends_delete"], true);
    let m = metrics(&c, &server.base).await;
    assert!(m.contains("mcp_sessions_ended_total{reason=\"delete\"} 1"), "{m}");
    assert!(m.contains("mcp_sessions_active{transport=\"streamable_http\"} 0"));
    assert!(m.contains("mcp_list_changed_notifications_total{list=\"tools\"} 1"));
    assert!(m.contains("mcp_input_requests_total{era=\"session\",outcome=\"answered\"} 1"));
    assert!(m.contains(
        "mcp_requests_total{method=\"initialize\",era=\"session\",transport=\"streamable_http\",outcome=\"ok\"} 1"
    ));
    assert!(m.contains("mcp_tool_calls_total{tool=\"steps\",outcome=\"ok\"} 1"));
    assert!(m.contains("mcp_streams_opened_total{kind=\"resume\"} 1"));
}

#[tokio::test]
async fn stateless_era_is_recorded_with_bounded_labels() {
    let server = start(Telemetry::default()).await;
    let c = reqwest::Client::new();
    let url = &server.url;
    let ok = stateless(&c, url, "tools/call", Some("plain"), json!({ "name": "plain" })).send().await.unwrap();
    assert_eq!(ok.status(), 200);
    stateless(&c, url, "tools/call", Some("fails"), json!({ "name": "fails" })).send().await.unwrap();
    for i in 0..20 {
        let name = format!("made_up_{i}");
        stateless(&c, url, "tools/call", Some(&name), json!({ "name": name })).send().await.unwrap();
    }
    stateless(&c, url, "server/discover", None, json!({})).send().await.unwrap();
    // A multi-round call: input_required, then the answer.
    let first: Value = stateless(&c, url, "tools/call", Some("ask"), json!({ "name": "ask" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(first["result"]["resultType"], "input_required");
    let second = json!({ "name": "ask", "requestState": first["result"]["requestState"],
        "inputResponses": { "who": { "action": "accept", "content": { "name": "Ada" } } } });
    let done: Value = stateless(&c, url, "tools/call", Some("ask"), second).send().await.unwrap().json().await.unwrap();
    assert_eq!(done["result"]["content"][0]["text"], "hello Ada");

    // A listen stream gets a list change; the client then re-lists.
    let listen =
        stateless(&c, url, "subscriptions/listen", None, json!({ "notifications": { "toolsListChanged": true } }))
            .send()
            .await
            .unwrap();
    let mut stream = listen.bytes_stream();
    let first_chunk = String::from_utf8_lossy(&stream.next().await.unwrap().unwrap()).into_owned();
    assert!(first_chunk.contains("acknowledged"), "{first_chunk}");
    assert!(metrics(&c, &server.base).await.contains("mcp_streams_open{kind=\"listen\"} 1"));
    let conns = api(&c, &server.base, "/api/connections").await;
    assert_eq!(conns["listen_streams"][0]["client"], "modern-test@2.0");
    stateless(&c, url, "tools/call", Some("change"), json!({ "name": "change" })).send().await.unwrap();
    let mut text = String::new();
    while !text.contains("list_changed") {
        text.push_str(&String::from_utf8_lossy(&stream.next().await.unwrap().unwrap()));
    }
    stateless(&c, url, "tools/list", None, json!({})).send().await.unwrap();
    drop(stream);

    let m = metrics(&c, &server.base).await;
    assert!(m.contains("mcp_tool_calls_total{tool=\"plain\",outcome=\"ok\"} 1"), "{m}");
    assert!(m.contains("mcp_tool_calls_total{tool=\"fails\",outcome=\"tool_error\"} 1"));
    assert!(m.contains("mcp_tool_calls_total{tool=\"ask\",outcome=\"input_required\"} 1"));
    assert!(m.contains(
        "mcp_requests_total{method=\"tools/call\",era=\"stateless\",transport=\"streamable_http\",outcome=\"error\"} 20"
    ));
    assert!(!m.contains("made_up"), "unknown tool names never become labels");
    assert!(m.contains("mcp_request_duration_seconds_bucket{method=\"tools/call\",era=\"stateless\",transport=\"streamable_http\",le=\"+Inf\"}"));
    let clients = api(&c, &server.base, "/api/clients").await;
    let r = client_record(&clients, "modern-test@2.0");
    assert_eq!(r["eras"], json!(["stateless"]));
    assert_eq!(r["protocol_versions"], json!(["2026-07-28"]));
    assert_eq!(r["uses_server_discover"], true);
    assert_eq!(r["answers_input_requests"], true);
    assert_eq!(r["relists_after_list_changed"], true);
    assert_eq!(r["listens_for_changes"], true);
    assert_eq!(r["reuses_sessions"], Value::Null, "no sessions in this era");
    let methods = api(&c, &server.base, "/api/methods").await;
    let call = methods.as_array().unwrap().iter().find(|m| m["method"] == "tools/call").unwrap();
    assert!(
        call["p50_ms"].as_f64().unwrap() > 0.0 && call["p99_ms"].as_f64().unwrap() >= call["p50_ms"].as_f64().unwrap()
    );
    let errors = api(&c, &server.base, "/api/errors").await;
    let errors = errors.as_array().unwrap();
    assert!(errors.iter().any(|e| e["message"] == "the upstream said no" && e["tool"] == "fails"));
    assert!(errors.iter().any(|e| e["code"] == -32602));
    let tools = api(&c, &server.base, "/api/tools").await;
    assert!(tools.as_array().unwrap().iter().all(|t| !t["tool"].as_str().unwrap().starts_with("made_up")));
    // The listen stream is uncounted once the server notices the client left.
    let mut closed = false;
    for _ in 0..100 {
        if metrics(&c, &server.base).await.contains("mcp_streams_open{kind=\"listen\"} 0") {
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(closed, "the listen stream is no longer counted");
}

#[tokio::test]
async fn the_password_protects_every_surface() {
    let config = TelemetryConfig { password: Some("hunter2".into()), ..TelemetryConfig::default() };
    let server = start(Telemetry::new(config)).await;
    let c = reqwest::Client::new();
    for path in ["/metrics", "/dashboard", "/api/snapshot", "/api/clients", "/api/clients/export?format=jsonl"] {
        let r = c.get(format!("{}{path}", server.base)).send().await.unwrap();
        assert_eq!(r.status(), 401, "{path}");
        assert!(r.headers()["www-authenticate"].to_str().unwrap().starts_with("Basic"));
        let r = c.get(format!("{}{path}", server.base)).basic_auth("x", Some("wrong")).send().await.unwrap();
        assert_eq!(r.status(), 401, "{path}");
        let r = c.get(format!("{}{path}", server.base)).basic_auth("ops", Some("hunter2")).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
    }
    let page = c.get(format!("{}/dashboard", server.base)).bearer_auth("hunter2").send().await.unwrap();
    assert!(page.text().await.unwrap().contains("<title>MCP server dashboard</title>"));
    // The MCP endpoint itself is not behind the metrics password.
    let r = stateless(&c, &server.url, "tools/call", Some("plain"), json!({ "name": "plain" })).send().await.unwrap();
    assert_eq!(r.status(), 200);
    // A foreign Host is refused before the password is even looked at.
    let r = c.get(format!("{}/metrics", server.base)).header("host", "evil.example").send().await.unwrap();
    assert_eq!(r.status(), 403);
}

#[tokio::test]
async fn metrics_off_records_and_serves_nothing() {
    let server = start(Telemetry::disabled()).await;
    let c = reqwest::Client::new();
    let r = stateless(&c, &server.url, "tools/call", Some("plain"), json!({ "name": "plain" })).send().await.unwrap();
    assert_eq!(r.status(), 200);
    for path in ["/metrics", "/dashboard", "/api/snapshot"] {
        assert_eq!(c.get(format!("{}{path}", server.base)).send().await.unwrap().status(), 404, "{path}");
    }
    assert_eq!(server.telemetry.totals(), (0, 0));
    assert!(server.telemetry.client_records().is_empty());
}

#[tokio::test]
async fn stdio_sessions_are_recorded() {
    let telemetry = Telemetry::default();
    let caps = json!({ "tools": { "listChanged": true }, "logging": {} });
    let provider = Arc::new(StaticProvider::new(catalog(), caps));
    let engine = Engine::builder(provider, test_server_info()).observer(Arc::new(telemetry.clone())).build();
    let (client, server_side) = tokio::io::duplex(64 * 1024);
    let (server_read, server_write) = tokio::io::split(server_side);
    let task = tokio::spawn(mcp_engine::transport::stdio::serve(
        engine,
        server_read,
        server_write,
        mcp_engine::protocol::Caller::anonymous(),
    ));
    let (read, mut write) = tokio::io::split(client);
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
    let mut lines = tokio::io::BufReader::new(read).lines();
    let send = |v: Value| format!("{v}\n");
    write
        .write_all(
            send(json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": { "name": "stdio-test", "version": "3" } } }))
            .as_bytes(),
        )
        .await
        .unwrap();
    lines.next_line().await.unwrap();
    for id in 2..4 {
        write.write_all(send(json!({ "jsonrpc": "2.0", "id": id, "method": "tools/list" })).as_bytes()).await.unwrap();
        lines.next_line().await.unwrap();
    }
    write
        .write_all(
            send(json!({ "jsonrpc": "2.0", "id": 5, "method": "logging/setLevel", "params": { "level": "info" } }))
                .as_bytes(),
        )
        .await
        .unwrap();
    lines.next_line().await.unwrap();
    let views = mcp_telemetry::http::connections(&telemetry);
    assert_eq!(views["sessions"][0]["transport"], "stdio");
    assert_eq!(views["sessions"][0]["client"], "stdio-test@3");
    drop(write);
    drop(lines);
    let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
    let r = telemetry.client_records().into_iter().find(|r| r.client == "stdio-test@3").unwrap();
    assert_eq!(r.transports, ["stdio"]);
    assert_eq!(r.reuses_sessions, Some(true));
    assert_eq!(r.requests, 4, "initialize, two lists, setLevel");
    let text = telemetry.prometheus();
    assert!(text.contains("mcp_sessions_ended_total{reason=\"closed\"} 1"), "{text}");
    assert!(text.contains(
        "mcp_requests_total{method=\"logging/setLevel\",era=\"session\",transport=\"stdio\",outcome=\"ok\"} 1"
    ));
}

#[tokio::test]
async fn requests_refused_before_dispatch_are_counted() {
    let server = start(Telemetry::default()).await;
    let c = reqwest::Client::new();
    // The header names another version than _meta: -32020, before dispatch.
    let body = json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": { "name": "plain", "_meta": {
        "io.modelcontextprotocol/protocolVersion": "2099-01-01",
        "io.modelcontextprotocol/clientCapabilities": {} } } });
    let r = c
        .post(&server.url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/call")
        .header("mcp-name", "plain")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let m = metrics(&c, &server.base).await;
    assert!(
        m.contains(
            "mcp_requests_total{method=\"tools/call\",era=\"stateless\",transport=\"streamable_http\",outcome=\"error\"} 1"
        ),
        "{m}"
    );
    let errors = api(&c, &server.base, "/api/errors").await;
    assert_eq!(errors[0]["code"], -32020);
}

#[tokio::test]
async fn unresponsive_sessions_and_http_sse_streams_are_shown() {
    let sessions =
        SessionConfig { ping_interval: Some(Duration::from_millis(100)), ping_failures: 1, ..SessionConfig::default() };
    let server = start_with(Telemetry::default(), sessions).await;
    let c = reqwest::Client::new();
    let init = json!({ "jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": { "name": "silent", "version": "1" } } });
    let res = session_post(&c, &server.url, None, init).send().await.unwrap();
    let sid = res.headers()["mcp-session-id"].to_str().unwrap().to_owned();
    // A push stream whose pings are never answered: the session turns unresponsive.
    let push = c
        .get(&server.url)
        .header("accept", "text/event-stream")
        .header("mcp-session-id", &sid)
        .header("mcp-protocol-version", "2025-11-25")
        .send()
        .await
        .unwrap();
    let text = read_until(push, |_| false).await;
    assert!(text.contains("\"ping\""), "{text}");
    let conns = api(&c, &server.base, "/api/connections").await;
    assert_eq!(conns["sessions"][0]["state"], "unresponsive", "{conns}");

    // HTTP+SSE: the session and its one stream.
    let sse = c.get(format!("{}/sse", server.base)).header("accept", "text/event-stream").send().await.unwrap();
    assert_eq!(sse.status(), 200);
    let mut stream = sse.bytes_stream();
    let first = String::from_utf8_lossy(&stream.next().await.unwrap().unwrap()).into_owned();
    assert!(first.contains("event: endpoint"), "{first}");
    let m = metrics(&c, &server.base).await;
    assert!(m.contains("mcp_sessions_active{transport=\"http_sse\"} 1"), "{m}");
    assert!(m.contains("mcp_streams_open{kind=\"http_sse\"} 1"), "{m}");
    drop(stream);
    let mut ended = false;
    for _ in 0..100 {
        let m = metrics(&c, &server.base).await;
        if m.contains("mcp_sessions_ended_total{reason=\"closed\"} 1")
            && m.contains("mcp_streams_open{kind=\"http_sse\"} 0")
        {
            ended = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(ended, "the HTTP+SSE session ends with its stream");
}
