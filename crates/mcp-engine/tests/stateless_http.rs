//! The 2026-07-28 era over a real TCP port, with providers written for the test:
//! what the conformance suite does not cover (cancellation on stream close, sealed-state
//! binding, pagination, graceful shutdown, HTTP hygiene limits).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use mcp_engine::provider::{Catalog, StaticProvider, Tool, ToolOutput};
use mcp_engine::transport::http::HttpConfig;
use mcp_engine::{Ctx, Engine, EngineConfig, InputRequests};
use serde_json::{json, Value};

mod common;
use common::{serve_on_local_port, stateless_meta, stateless_request, test_server_info, RunningServer};

async fn start(catalog: Catalog, config: EngineConfig, http: HttpConfig) -> RunningServer {
    let caps = json!({ "tools": { "listChanged": true }, "prompts": {} });
    let provider = Arc::new(StaticProvider::new(catalog, caps));
    let engine = Engine::builder(provider, test_server_info()).config(config).build();
    serve_on_local_port(engine, http, Duration::from_secs(5)).await
}

/// The `_meta` of a 2026-07-28 client that declares elicitation.
fn meta_with_elicitation() -> Value {
    stateless_meta(json!({ "elicitation": {} }))
}

/// A 2026-07-28 request whose `mcp-name` header is `params.name`, when there is one.
fn request(client: &reqwest::Client, url: &str, id: i64, method: &str, params: Value) -> reqwest::RequestBuilder {
    let name = params.get("name").and_then(Value::as_str).map(str::to_owned);
    stateless_request(client, url, id, method, name.as_deref(), params, meta_with_elicitation())
}

async fn call(client: &reqwest::Client, url: &str, id: i64, method: &str, params: Value) -> (u16, Value) {
    let res = request(client, url, id, method, params).send().await.unwrap();
    let status = res.status().as_u16();
    let ct = res.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    let text = res.text().await.unwrap();
    let body = if ct.starts_with("text/event-stream") {
        let last = text.lines().filter_map(|l| l.strip_prefix("data: ")).next_back().unwrap();
        serde_json::from_str(last).unwrap()
    } else {
        serde_json::from_str(&text).unwrap()
    };
    (status, body)
}

fn many_tools(n: usize) -> Catalog {
    let mut c = Catalog::new();
    for i in 0..n {
        c.tool(Tool::new(json!({ "name": format!("tool_{i:02}") }), |_, _| async { Ok(ToolOutput::text("ok")) }));
    }
    c
}

#[tokio::test]
async fn tools_list_paginates_deterministically() {
    let config = EngineConfig { page_size: 4, ..EngineConfig::default() };
    let server = start(many_tools(10), config, HttpConfig::default()).await;
    let client = reqwest::Client::new();
    let mut names = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let params = match &cursor {
            Some(c) => json!({ "cursor": c }),
            None => json!({}),
        };
        let (status, body) = call(&client, &server.url, 1, "tools/list", params).await;
        assert_eq!(status, 200);
        pages += 1;
        for t in body["result"]["tools"].as_array().unwrap() {
            names.push(t["name"].as_str().unwrap().to_owned());
        }
        match body["result"]["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let expected: Vec<String> = (0..10).map(|i| format!("tool_{i:02}")).collect();
    assert_eq!(names, expected);
    let (_, body) = call(&client, &server.url, 2, "tools/list", json!({ "cursor": "not-a-cursor" })).await;
    assert_eq!(body["error"]["code"], -32602);
    server.stop().await;
}

#[tokio::test]
async fn closing_the_stream_cancels_the_handler() {
    let started = Arc::new(AtomicUsize::new(0));
    let finished = Arc::new(AtomicBool::new(false));
    let cancelled = Arc::new(AtomicBool::new(false));
    let mut c = Catalog::new();
    let (s, f, x) = (started.clone(), finished.clone(), cancelled.clone());
    c.tool(Tool::new(json!({ "name": "slow" }), move |_, ctx: Ctx| {
        let (s, f, x) = (s.clone(), f.clone(), x.clone());
        async move {
            s.fetch_add(1, Ordering::SeqCst);
            // A spawned helper observes cancellation through the token.
            let token = ctx.cancelled();
            tokio::spawn(async move {
                token.cancelled().await;
                x.store(true, Ordering::SeqCst);
            });
            for i in 0..100 {
                ctx.progress(i as f64, Some(100.0), None).await;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            f.store(true, Ordering::SeqCst);
            Ok(ToolOutput::text("done"))
        }
    }));
    let server = start(c, EngineConfig::default(), HttpConfig::default()).await;
    let client = reqwest::Client::new();
    let mut meta = meta_with_elicitation();
    meta["progressToken"] = json!("t");
    let res = stateless_request(&client, &server.url, 1, "tools/call", Some("slow"), json!({ "name": "slow" }), meta)
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-type"], "text/event-stream");
    let mut res = res;
    let first = res.chunk().await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&first).contains("notifications/progress"));
    drop(res); // the client closes the stream
    for _ in 0..50 {
        if cancelled.load(Ordering::SeqCst) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(cancelled.load(Ordering::SeqCst), "handler was not cancelled");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!finished.load(Ordering::SeqCst), "handler ran to completion after the stream closed");
    assert_eq!(started.load(Ordering::SeqCst), 1);
    server.stop().await;
}

fn asking_tool() -> Tool {
    Tool::new(json!({ "name": "ask" }), |_, mut ctx: Ctx| async move {
        let schema = json!({ "type": "object", "properties": { "x": { "type": "string" } } });
        let a = ctx.request_input(InputRequests::new().elicit("q", "x?", schema)).await?;
        Ok(ToolOutput::text(a["q"]["content"]["x"].as_str().unwrap_or("").to_owned()))
    })
}

#[tokio::test]
async fn sealed_state_is_bound_to_tool_and_caller() {
    let mut c = Catalog::new();
    c.tool(asking_tool());
    let mut other = asking_tool();
    other.name = "ask2".into();
    c.tool(Tool::from_parts(json!({ "name": "ask2" }), other.handler.clone()));
    let server = start(c, EngineConfig::default(), HttpConfig::default()).await;
    let client = reqwest::Client::new();
    let with_token = |b: reqwest::RequestBuilder, t: &str| b.header("authorization", format!("Bearer {t}"));

    let res = with_token(request(&client, &server.url, 1, "tools/call", json!({ "name": "ask" })), "tok-a");
    let body: Value = res.send().await.unwrap().json().await.unwrap();
    assert_eq!(body["result"]["resultType"], "input_required");
    let state = body["result"]["requestState"].as_str().unwrap().to_owned();
    let answer = json!({ "q": { "action": "accept", "content": { "x": "42" } } });

    // Same caller, same tool: accepted.
    let ok = with_token(
        request(
            &client,
            &server.url,
            2,
            "tools/call",
            json!({ "name": "ask", "inputResponses": answer, "requestState": state }),
        ),
        "tok-a",
    );
    let body: Value = ok.send().await.unwrap().json().await.unwrap();
    assert_eq!(body["result"]["content"][0]["text"], "42");

    // Another caller replaying the state: rejected.
    let other_caller = with_token(
        request(
            &client,
            &server.url,
            3,
            "tools/call",
            json!({ "name": "ask", "inputResponses": answer, "requestState": state }),
        ),
        "tok-b",
    );
    let body: Value = other_caller.send().await.unwrap().json().await.unwrap();
    assert_eq!(body["error"]["code"], -32602, "{body}");

    // The same state presented to another tool: rejected.
    let other_tool = with_token(
        request(
            &client,
            &server.url,
            4,
            "tools/call",
            json!({ "name": "ask2", "inputResponses": answer, "requestState": state }),
        ),
        "tok-a",
    );
    let body: Value = other_tool.send().await.unwrap().json().await.unwrap();
    assert_eq!(body["error"]["code"], -32602, "{body}");

    // The token never appears in anything the server sends back.
    assert!(!body.to_string().contains("tok-a"));
    server.stop().await;
}

#[tokio::test]
async fn elicitation_needs_the_declared_capability() {
    let mut c = Catalog::new();
    c.tool(asking_tool());
    let server = start(c, EngineConfig::default(), HttpConfig::default()).await;
    let client = reqwest::Client::new();
    let mut params = json!({ "name": "ask" });
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {}
    });
    let res = client
        .post(&server.url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/call")
        .header("mcp-name", "ask")
        .body(json!({ "jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": params }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], -32021);
    assert_eq!(body["error"]["data"]["requiredCapabilities"], json!({ "elicitation": {} }));
    assert_eq!(body["id"], 9);
    server.stop().await;
}

#[tokio::test]
async fn shutdown_drains_in_flight_requests_and_closes_subscriptions() {
    let mut c = Catalog::new();
    c.tool(Tool::new(json!({ "name": "slow" }), |_, _| async {
        tokio::time::sleep(Duration::from_millis(600)).await;
        Ok(ToolOutput::text("finished"))
    }));
    let server = start(c, EngineConfig::default(), HttpConfig::default()).await;
    let client = reqwest::Client::new();

    // An open subscription…
    let mut listen = request(
        &client,
        &server.url,
        7,
        "subscriptions/listen",
        json!({ "notifications": { "toolsListChanged": true } }),
    )
    .send()
    .await
    .unwrap();
    let ack = listen.chunk().await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&ack).contains("notifications/subscriptions/acknowledged"));

    // …and a request in flight when the signal arrives.
    let url = server.url.clone();
    let c2 = client.clone();
    let in_flight = tokio::spawn(async move { call(&c2, &url, 8, "tools/call", json!({ "name": "slow" })).await });
    tokio::time::sleep(Duration::from_millis(150)).await;
    let task = server.signal_shutdown();

    let (status, body) = in_flight.await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(body["result"]["content"][0]["text"], "finished");

    // The subscription ends with a graceful closing result.
    let mut rest = String::new();
    while let Ok(Some(chunk)) = listen.chunk().await {
        rest.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(rest.contains(r#""id":7"#) && rest.contains(r#""resultType":"complete""#), "{rest}");
    tokio::time::timeout(Duration::from_secs(5), task).await.unwrap().unwrap().unwrap();
}

#[tokio::test]
async fn http_hygiene() {
    let http = HttpConfig { max_body_bytes: 1024, ..HttpConfig::default() };
    let server = start(many_tools(1), EngineConfig::default(), http).await;
    let client = reqwest::Client::new();
    let post = |body: String| {
        client
            .post(&server.url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(body)
    };
    // Body limit → 413 with a JSON-RPC error.
    let res = post("x".repeat(4096)).send().await.unwrap();
    assert_eq!(res.status(), 413);
    assert_eq!(res.json::<Value>().await.unwrap()["error"]["code"], -32600);
    // Wrong content type → 415; unacceptable Accept → 406.
    let res = client.post(&server.url).header("content-type", "text/plain").body("{}").send().await.unwrap();
    assert_eq!(res.status(), 415);
    let res = client
        .post(&server.url)
        .header("content-type", "application/json")
        .header("accept", "image/png")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 406);
    // Parse error → 400, -32700, id null.
    let res = post("{oops".into()).send().await.unwrap();
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!((body["error"]["code"].as_i64(), &body["id"]), (Some(-32700), &Value::Null));
    // GET and DELETE → 405 on the stateless path.
    assert_eq!(client.get(&server.url).send().await.unwrap().status(), 405);
    assert_eq!(client.delete(&server.url).send().await.unwrap().status(), 405);
    // A foreign Origin → 403.
    let res = post("{}".into()).header("origin", "https://evil.example.com").send().await.unwrap();
    assert_eq!(res.status(), 403);
    // A loopback Origin is fine.
    let res = request(&client, &server.url, 1, "tools/list", json!({}))
        .header("origin", "http://localhost:5173")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // Notifications are accepted with 202 and no body.
    let res = post(json!({ "jsonrpc": "2.0", "method": "notifications/whatever" }).to_string()).send().await.unwrap();
    assert_eq!(res.status(), 202);
    server.stop().await;
}

#[tokio::test]
async fn logs_only_when_requested_and_at_level() {
    let mut c = Catalog::new();
    c.tool(Tool::new(json!({ "name": "chatty" }), |_, ctx: Ctx| async move {
        ctx.log(mcp_engine::LogLevel::Debug, None, json!("debug detail")).await;
        ctx.log(mcp_engine::LogLevel::Warning, None, json!("a warning")).await;
        Ok(ToolOutput::text("ok"))
    }));
    let server = start(c, EngineConfig::default(), HttpConfig::default()).await;
    let client = reqwest::Client::new();
    // No logLevel: plain JSON, no log messages.
    let res = request(&client, &server.url, 1, "tools/call", json!({ "name": "chatty" })).send().await.unwrap();
    assert_eq!(res.headers()["content-type"], "application/json");
    // logLevel warning: SSE with only the warning.
    let mut meta = meta_with_elicitation();
    meta["io.modelcontextprotocol/logLevel"] = json!("warning");
    let text =
        stateless_request(&client, &server.url, 2, "tools/call", Some("chatty"), json!({ "name": "chatty" }), meta)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
    assert!(text.contains("a warning") && !text.contains("debug detail"), "{text}");
    server.stop().await;
}

/// Regression: a repeated `Mcp-Method`, `Mcp-Name` or `MCP-Protocol-Version` header whose
/// copies disagree is refused (-32020) whichever copy comes first; identical copies pass.
#[tokio::test]
async fn conflicting_duplicate_headers_are_refused() {
    let server = start(many_tools(2), EngineConfig::default(), HttpConfig::default()).await;
    let client = reqwest::Client::new();
    let params = json!({ "name": "tool_00", "arguments": {} });
    let send = |header: &'static str, extra: &'static str| {
        request(&client, &server.url, 1, "tools/call", params.clone()).header(header, extra).send()
    };
    for (header, other) in
        [("mcp-method", "tools/list"), ("mcp-name", "tool_01"), ("mcp-protocol-version", "2025-11-25")]
    {
        let res = send(header, other).await.unwrap();
        assert_eq!(res.status(), 400, "{header}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], -32020, "{header}: {body}");
    }
    // The reverse order: the conflicting copy first.
    let mut h = reqwest::header::HeaderMap::new();
    h.append("mcp-method", "tools/list".parse().unwrap());
    h.append("mcp-method", "tools/call".parse().unwrap());
    let body = json!({ "jsonrpc": "2.0", "id": 2, "method": "tools/call",
                       "params": { "name": "tool_00", "_meta": stateless_meta(json!({})) } });
    let res = client
        .post(&server.url)
        .headers(h)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-name", "tool_00")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    // Identical copies are one value.
    let res = send("mcp-method", "tools/call").await.unwrap();
    assert_eq!(res.status(), 200);
    server.stop().await;
}

/// Regression: by-position `params` are refused with -32602, in protocol terms.
#[tokio::test]
async fn positional_params_are_refused() {
    let server = start(many_tools(1), EngineConfig::default(), HttpConfig::default()).await;
    let client = reqwest::Client::new();
    let body = json!({ "jsonrpc": "2.0", "id": 3, "method": "tools/list", "params": ["tool_00"] });
    let res = client
        .post(&server.url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/list")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], -32602, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("JSON object") && !message.contains("struct"), "{message}");
    server.stop().await;
}

/// Regression: a client that writes a whole oversized body before reading (as Python's
/// `http.client` does) gets the 413 and its JSON-RPC error, not a reset connection.
#[tokio::test]
async fn an_oversized_body_written_before_reading_still_gets_413() {
    use std::io::{Read, Write};
    let http = HttpConfig { max_body_bytes: 64 * 1024, ..HttpConfig::default() };
    let server = start(many_tools(1), EngineConfig::default(), http).await;
    let addr = server.base.trim_start_matches("http://").to_owned();
    let body = vec![b' '; 8 * 1024 * 1024];
    let response = tokio::task::spawn_blocking(move || {
        let mut s = std::net::TcpStream::connect(&addr).unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
        let head = format!(
            "POST /mcp HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nAccept: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        s.write_all(head.as_bytes()).unwrap();
        s.write_all(&body).expect("the server reads the body before answering");
        let mut out = String::new();
        let mut buf = [0u8; 4096];
        while !out.contains("Payload Too Large") {
            let n = s.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            out.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
        out
    })
    .await
    .unwrap();
    assert!(response.starts_with("HTTP/1.1 413"), "{response}");
    assert!(response.contains("\"code\":-32600"), "{response}");
    server.stop().await;
}

/// A handler that panics costs the client neither a reset connection nor the panic's
/// text: the answer is a 500 with a bare -32603, and the server keeps serving.
#[tokio::test]
async fn a_panicking_handler_gets_a_500_without_its_message() {
    let mut c = many_tools(1);
    c.tool(Tool::new(json!({ "name": "boom" }), |_, _| async {
        if std::hint::black_box(true) {
            panic!("secret-in-panic at /home/someone/src/lib.rs:1");
        }
        Ok(ToolOutput::text("never"))
    }));
    let server = start(c, EngineConfig::default(), HttpConfig::default()).await;
    let client = reqwest::Client::new();
    let res = request(&client, &server.url, 1, "tools/call", json!({ "name": "boom" })).send().await.unwrap();
    assert_eq!(res.status(), 500);
    let text = res.text().await.unwrap();
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["error"]["code"], -32603, "{text}");
    assert_eq!(body["id"], 1, "{text}");
    assert!(!text.contains("secret-in-panic") && !text.contains("src/"), "{text}");
    let (status, ok) = call(&client, &server.url, 2, "tools/call", json!({ "name": "tool_00" })).await;
    assert_eq!((status, &ok["result"]["content"][0]["text"]), (200, &json!("ok")));
    server.stop().await;
}
