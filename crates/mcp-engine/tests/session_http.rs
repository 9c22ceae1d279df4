//! The session era (2024-11-05 … 2025-11-25) over a real TCP port: handshake and version
//! negotiation, session ids and their errors, DELETE, idle expiry, the session cap, the
//! one push stream per session, resumable streams, server-initiated requests, HTTP+SSE.

use std::sync::Arc;
use std::time::Duration;

use mcp_engine::provider::{Catalog, StaticProvider};
use mcp_engine::session::SessionConfig;
use mcp_engine::transport::http::HttpConfig;
use mcp_engine::{Engine, EngineConfig};
use serde_json::{json, Value};

mod common;
use common::{serve_on_local_port, session_get, session_post, test_server_info, tools, RunningServer, Sse};

fn catalog() -> Catalog {
    let mut c = Catalog::new();
    c.tool(tools::plain());
    c.tool(tools::ask());
    // Three progress steps; the stream is closed after the first (the client resumes).
    c.tool(tools::steps(3, Duration::from_millis(300)));
    c.tool(tools::change(true));
    c
}

async fn start(sessions: SessionConfig, keep_alive: Duration) -> RunningServer {
    let caps = json!({ "tools": { "listChanged": true }, "resources": { "subscribe": true }, "logging": {} });
    let provider = Arc::new(StaticProvider::new(catalog(), caps));
    let engine = Engine::builder(provider, test_server_info()).config(EngineConfig::default()).build();
    let http = HttpConfig { keep_alive, sessions, ..HttpConfig::default() };
    serve_on_local_port(engine, http, Duration::from_secs(2)).await
}

async fn default_server() -> RunningServer {
    start(SessionConfig::default(), Duration::from_secs(15)).await
}

fn init_body(version: &str) -> Value {
    json!({ "jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": version,
        "capabilities": { "elicitation": {}, "sampling": {} },
        "clientInfo": { "name": "session-test", "version": "1" } } })
}

/// initialize + initialized; returns the session id.
async fn open_session(client: &reqwest::Client, url: &str) -> String {
    let res = session_post(client, url, None, init_body("2025-11-25")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let sid = res.headers()["mcp-session-id"].to_str().unwrap().to_owned();
    let res = session_post(client, url, Some(&sid), json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    sid
}

const WAIT: Duration = Duration::from_secs(5);

#[tokio::test]
async fn handshake_negotiates_versions_and_issues_session_ids() {
    let server = default_server().await;
    let client = reqwest::Client::new();
    for (asked, got) in [
        ("2024-11-05", "2024-11-05"),
        ("2025-03-26", "2025-03-26"),
        ("2025-06-18", "2025-06-18"),
        ("2025-11-25", "2025-11-25"),
        ("1999-01-01", "2025-11-25"),
    ] {
        let res = session_post(&client, &server.url, None, init_body(asked)).send().await.unwrap();
        assert_eq!(res.status(), 200);
        let sid = res.headers()["mcp-session-id"].to_str().unwrap().to_owned();
        assert!(sid.len() >= 32 && sid.bytes().all(|b| (0x21..=0x7e).contains(&b)), "{sid}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["result"]["protocolVersion"], got);
        assert!(body["result"].get("resultType").is_none());
        assert_eq!(body["result"]["serverInfo"]["name"], "test");
    }
    // Two sessions never share an id.
    let a = open_session(&client, &server.url).await;
    let b = open_session(&client, &server.url).await;
    assert_ne!(a, b);
    server.stop().await;
}

#[tokio::test]
async fn protocol_version_header_and_session_id_checks() {
    let server = default_server().await;
    let client = reqwest::Client::new();
    let sid = open_session(&client, &server.url).await;
    let ping = json!({ "jsonrpc": "2.0", "id": 1, "method": "ping" });
    // Absent header: assumed 2025-03-26, accepted.
    let res = client
        .post(&server.url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-session-id", &sid)
        .body(ping.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["result"], json!({}));
    // Unsupported version: 400.
    let res = client
        .post(&server.url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-session-id", &sid)
        .header("mcp-protocol-version", "2099-01-01")
        .body(ping.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    // Missing session id on a session-era request: 400. Unknown: 404.
    let res = client
        .post(&server.url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-11-25")
        .body(json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list" }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let res = session_post(&client, &server.url, Some("no-such-session"), ping.clone()).send().await.unwrap();
    assert_eq!(res.status(), 404);
    // A session belongs to the caller who created it.
    let res =
        session_post(&client, &server.url, Some(&sid), ping.clone()).bearer_auth("someone-else").send().await.unwrap();
    assert_eq!(res.status(), 404);
    // setLevel and subscribe answer exactly {}; initialize inside a session is refused.
    for (method, params) in [
        ("logging/setLevel", json!({ "level": "debug" })),
        ("resources/subscribe", json!({ "uri": "test://watched" })),
        ("resources/unsubscribe", json!({ "uri": "test://watched" })),
    ] {
        let body = json!({ "jsonrpc": "2.0", "id": 2, "method": method, "params": params });
        let res: Value =
            session_post(&client, &server.url, Some(&sid), body).send().await.unwrap().json().await.unwrap();
        assert_eq!(res["result"], json!({}), "{method}");
    }
    let res = session_post(&client, &server.url, Some(&sid), init_body("2025-11-25")).send().await.unwrap();
    assert_eq!(res.status(), 400);
    // Without a session id, GET and DELETE stay 405 (the stateless path).
    assert_eq!(client.get(&server.url).send().await.unwrap().status(), 405);
    assert_eq!(client.delete(&server.url).send().await.unwrap().status(), 405);
    server.stop().await;
}

#[tokio::test]
async fn delete_ends_the_session() {
    let server = default_server().await;
    let client = reqwest::Client::new();
    let sid = open_session(&client, &server.url).await;
    let list = json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list" });
    let res: Value =
        session_post(&client, &server.url, Some(&sid), list.clone()).send().await.unwrap().json().await.unwrap();
    assert!(res["result"]["tools"].as_array().unwrap().len() >= 4);
    let res = client.delete(&server.url).header("mcp-session-id", &sid).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(session_post(&client, &server.url, Some(&sid), list).send().await.unwrap().status(), 404);
    let res = client.delete(&server.url).header("mcp-session-id", &sid).send().await.unwrap();
    assert_eq!(res.status(), 404);
    server.stop().await;
}

#[tokio::test]
async fn idle_sessions_expire() {
    let sessions = SessionConfig { idle_timeout: Duration::from_millis(300), ..SessionConfig::default() };
    let server = start(sessions, Duration::from_secs(15)).await;
    let client = reqwest::Client::new();
    let sid = open_session(&client, &server.url).await;
    let ping = json!({ "jsonrpc": "2.0", "id": 1, "method": "ping" });
    // Use keeps it alive…
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(150)).await;
        assert_eq!(session_post(&client, &server.url, Some(&sid), ping.clone()).send().await.unwrap().status(), 200);
    }
    // …idleness ends it.
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(session_post(&client, &server.url, Some(&sid), ping).send().await.unwrap().status(), 404);
    server.stop().await;
}

#[tokio::test]
async fn the_session_cap_is_enforced_with_a_clear_error() {
    let sessions = SessionConfig { max_sessions: 2, ..SessionConfig::default() };
    let server = start(sessions, Duration::from_secs(15)).await;
    let client = reqwest::Client::new();
    let a = open_session(&client, &server.url).await;
    let _b = open_session(&client, &server.url).await;
    let res = session_post(&client, &server.url, None, init_body("2025-11-25")).send().await.unwrap();
    assert_eq!(res.status(), 503);
    assert!(res.headers().contains_key("retry-after"));
    let body: Value = res.json().await.unwrap();
    assert!(body["error"]["message"].as_str().unwrap().contains("maximum of 2 live sessions"), "{body}");
    // Ending one frees a slot.
    client.delete(&server.url).header("mcp-session-id", &a).send().await.unwrap();
    open_session(&client, &server.url).await;
    server.stop().await;
}

#[tokio::test]
async fn one_push_stream_per_session_with_keep_alive_and_notifications() {
    let server = start(SessionConfig::default(), Duration::from_millis(100)).await;
    let client = reqwest::Client::new();
    let sid = open_session(&client, &server.url).await;
    let subscribe =
        json!({ "jsonrpc": "2.0", "id": 1, "method": "resources/subscribe", "params": { "uri": "test://watched" } });
    session_post(&client, &server.url, Some(&sid), subscribe).send().await.unwrap();
    let res = session_get(&client, &server.url, &sid).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let mut push = Sse::new(res);
    let priming = push.next(WAIT).await.unwrap();
    assert!(priming.retry && priming.data.is_empty() && priming.id.as_deref() == Some("g-0"), "{priming:?}");
    // A second concurrent GET stream: 409.
    assert_eq!(session_get(&client, &server.url, &sid).send().await.unwrap().status(), 409);
    // Notifications that belong to no request arrive here.
    let call = json!({ "jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": { "name": "change" } });
    session_post(&client, &server.url, Some(&sid), call).send().await.unwrap();
    let (id1, n1) = push.message(WAIT).await.unwrap();
    let (_, n2) = push.message(WAIT).await.unwrap();
    assert_eq!(n1["method"], "notifications/tools/list_changed");
    assert_eq!(n2["method"], "notifications/resources/updated");
    assert_eq!(n2["params"]["uri"], "test://watched");
    assert_eq!(id1.as_deref(), Some("g-1"));
    // Keep-alive comments flow.
    tokio::time::sleep(Duration::from_millis(350)).await;
    let _ = tokio::time::timeout(Duration::from_millis(200), push.next(WAIT)).await;
    assert!(push.comments >= 2, "keep-alives: {}", push.comments);
    // Closing the stream frees the slot; resuming with Last-Event-ID replays what was missed.
    drop(push);
    let call = json!({ "jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": { "name": "change" } });
    tokio::time::sleep(Duration::from_millis(100)).await;
    session_post(&client, &server.url, Some(&sid), call).send().await.unwrap();
    let res = session_get(&client, &server.url, &sid).header("last-event-id", "g-1").send().await.unwrap();
    assert_eq!(res.status(), 200);
    let mut push = Sse::new(res);
    let (id, n) = push.message(WAIT).await.unwrap();
    assert_eq!((id.as_deref(), n["method"].as_str()), (Some("g-2"), Some("notifications/resources/updated")));
    // DELETE ends the push stream.
    client.delete(&server.url).header("mcp-session-id", &sid).send().await.unwrap();
    assert!(push.message(WAIT).await.is_none());
    server.stop().await;
}

#[tokio::test]
async fn last_event_id_replays_exactly_the_missed_events_of_that_stream() {
    let server = default_server().await;
    let client = reqwest::Client::new();
    let sid = open_session(&client, &server.url).await;
    let call = json!({ "jsonrpc": "2.0", "id": 7, "method": "tools/call",
                       "params": { "name": "steps", "_meta": { "progressToken": "p" } } });
    let mut sse = Sse::new(session_post(&client, &server.url, Some(&sid), call).send().await.unwrap());
    let priming = sse.next(WAIT).await.unwrap();
    assert!(priming.retry && priming.data.is_empty());
    let (first_id, first) = sse.message(WAIT).await.unwrap();
    assert_eq!(first["params"]["message"], "one");
    // The server closed the stream mid-call.
    assert!(sse.message(WAIT).await.is_none());
    let first_id = first_id.unwrap();
    let stream = first_id.rsplit_once('-').unwrap().0.to_owned();
    // Resume after the first event: "two" (already logged), then "three" and the result live.
    let res = session_get(&client, &server.url, &sid).header("last-event-id", &first_id).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let mut resumed = Sse::new(res);
    let mut got = Vec::new();
    while let Some((id, m)) = resumed.message(WAIT).await {
        assert!(id.as_deref().unwrap().starts_with(&format!("{stream}-")), "{id:?}");
        got.push(m);
    }
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(got[0]["params"]["message"], "two");
    assert_eq!(got[1]["params"]["message"], "three");
    assert_eq!(got[2]["id"], 7);
    assert_eq!(got[2]["result"]["content"][0]["text"], "steps done");
    // Replaying again from the priming event gives the whole stream, once.
    let res =
        session_get(&client, &server.url, &sid).header("last-event-id", format!("{stream}-0")).send().await.unwrap();
    let mut again = Sse::new(res);
    let mut n = 0;
    while again.message(WAIT).await.is_some() {
        n += 1;
    }
    assert_eq!(n, 4);
    // Another session cannot read this stream; unknown streams are refused.
    let other = open_session(&client, &server.url).await;
    let res = session_get(&client, &server.url, &other).header("last-event-id", &first_id).send().await.unwrap();
    assert_eq!(res.status(), 400);
    server.stop().await;
}

#[tokio::test]
async fn server_initiated_elicitation_round_trip() {
    let server = default_server().await;
    let client = reqwest::Client::new();
    let sid = open_session(&client, &server.url).await;
    let call = json!({ "jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": { "name": "ask" } });
    let mut sse = Sse::new(session_post(&client, &server.url, Some(&sid), call).send().await.unwrap());
    let (_, req) = sse.message(WAIT).await.unwrap();
    assert_eq!(req["method"], "elicitation/create");
    assert_eq!(req["params"]["message"], "Your name?");
    // An answer from another session is not taken.
    let other = open_session(&client, &server.url).await;
    let answer = json!({ "jsonrpc": "2.0", "id": req["id"], "result": { "action": "accept", "content": { "name": "Mallory" } } });
    assert_eq!(session_post(&client, &server.url, Some(&other), answer).send().await.unwrap().status(), 202);
    let answer =
        json!({ "jsonrpc": "2.0", "id": req["id"], "result": { "action": "accept", "content": { "name": "Ada" } } });
    assert_eq!(session_post(&client, &server.url, Some(&sid), answer).send().await.unwrap().status(), 202);
    let (_, res) = sse.message(WAIT).await.unwrap();
    assert_eq!(res["id"], 9);
    assert_eq!(res["result"]["content"][0]["text"], "hello Ada");
    // A client without the capability gets -32021 instead of a request.
    let res = client
        .post(&server.url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(
            json!({ "jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": { "name": "x", "version": "1" } } })
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    let bare = res.headers()["mcp-session-id"].to_str().unwrap().to_owned();
    let call = json!({ "jsonrpc": "2.0", "id": 10, "method": "tools/call", "params": { "name": "ask" } });
    let res: Value = session_post(&client, &server.url, Some(&bare), call).send().await.unwrap().json().await.unwrap();
    assert_eq!(res["error"]["code"], -32021);
    server.stop().await;
}

#[tokio::test]
async fn cancelled_requests_stop_without_a_response() {
    let server = default_server().await;
    let client = reqwest::Client::new();
    let sid = open_session(&client, &server.url).await;
    let call = json!({ "jsonrpc": "2.0", "id": 11, "method": "tools/call", "params": { "name": "ask" } });
    let mut sse = Sse::new(session_post(&client, &server.url, Some(&sid), call).send().await.unwrap());
    let (_, req) = sse.message(WAIT).await.unwrap();
    assert_eq!(req["method"], "elicitation/create");
    let cancel = json!({ "jsonrpc": "2.0", "method": "notifications/cancelled", "params": { "requestId": 11 } });
    assert_eq!(session_post(&client, &server.url, Some(&sid), cancel).send().await.unwrap().status(), 202);
    assert!(sse.message(WAIT).await.is_none(), "no response after cancellation");
    server.stop().await;
}

#[tokio::test]
async fn unanswered_pings_close_the_push_stream() {
    let sessions =
        SessionConfig { ping_interval: Some(Duration::from_millis(100)), ping_failures: 2, ..SessionConfig::default() };
    let server = start(sessions, Duration::from_secs(15)).await;
    let client = reqwest::Client::new();
    let sid = open_session(&client, &server.url).await;
    let mut push = Sse::new(session_get(&client, &server.url, &sid).send().await.unwrap());
    // Answer the first ping, ignore the rest.
    let (_, ping) = push.message(WAIT).await.unwrap();
    assert_eq!(ping["method"], "ping");
    let pong = json!({ "jsonrpc": "2.0", "id": ping["id"], "result": {} });
    session_post(&client, &server.url, Some(&sid), pong).send().await.unwrap();
    let mut pings = 1;
    while let Some((_, m)) = push.message(WAIT).await {
        assert_eq!(m["method"], "ping");
        pings += 1;
    }
    assert!(pings >= 3, "{pings}");
    // The session itself lives on; a new stream may be opened.
    let res = session_get(&client, &server.url, &sid).send().await.unwrap();
    assert_eq!(res.status(), 200);
    server.stop().await;
}

#[tokio::test]
async fn http_sse_transport_round_trip() {
    let server = start(SessionConfig::default(), Duration::from_millis(100)).await;
    let client = reqwest::Client::new();
    let res = client.get(format!("{}/sse", server.base)).header("accept", "text/event-stream").send().await.unwrap();
    assert_eq!(res.status(), 200);
    let mut sse = Sse::new(res);
    let endpoint = sse.next(WAIT).await.unwrap();
    assert_eq!(endpoint.event.as_deref(), Some("endpoint"));
    assert!(endpoint.data.starts_with("/message?sessionId="), "{}", endpoint.data);
    let message_url = format!("{}{}", server.base, endpoint.data);
    let send = |body: Value| {
        client.post(&message_url).header("content-type", "application/json").body(body.to_string()).send()
    };
    let res = send(init_body("2024-11-05")).await.unwrap();
    assert_eq!(res.status(), 202);
    let (_, init) = sse.message(WAIT).await.unwrap();
    assert_eq!(init["result"]["protocolVersion"], "2024-11-05");
    assert_eq!(send(json!({ "jsonrpc": "2.0", "method": "notifications/initialized" })).await.unwrap().status(), 202);
    send(json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list" })).await.unwrap();
    let (_, list) = sse.message(WAIT).await.unwrap();
    assert_eq!(list["id"], 1);
    assert!(list["result"]["tools"].as_array().unwrap().iter().any(|t| t["name"] == "plain"));
    // Server-initiated request and its answer over the same pair.
    send(json!({ "jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": { "name": "ask" } })).await.unwrap();
    let (_, req) = sse.message(WAIT).await.unwrap();
    assert_eq!(req["method"], "elicitation/create");
    let answer =
        json!({ "jsonrpc": "2.0", "id": req["id"], "result": { "action": "accept", "content": { "name": "Grace" } } });
    assert_eq!(send(answer).await.unwrap().status(), 202);
    let (_, res) = sse.message(WAIT).await.unwrap();
    assert_eq!(res["result"]["content"][0]["text"], "hello Grace");
    // Change notifications arrive as message events too; keep-alives flow.
    send(json!({ "jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": { "name": "change" } })).await.unwrap();
    let mut methods = Vec::new();
    for _ in 0..2 {
        let (_, m) = sse.message(WAIT).await.unwrap();
        methods.push(m.get("method").and_then(Value::as_str).unwrap_or("response").to_owned());
    }
    assert!(methods.contains(&"notifications/tools/list_changed".to_owned()), "{methods:?}");
    tokio::time::sleep(Duration::from_millis(250)).await;
    let _ = tokio::time::timeout(Duration::from_millis(150), sse.next(WAIT)).await;
    assert!(sse.comments >= 1);
    // Unknown session → 404; the session ends with its stream.
    let res = client
        .post(format!("{}/message?sessionId=nope", server.base))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    drop(sse);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(send(json!({ "jsonrpc": "2.0", "id": 4, "method": "ping" })).await.unwrap().status(), 404);
    server.stop().await;
}

#[tokio::test]
async fn a_resuming_get_takes_over_the_push_stream() {
    let server = default_server().await;
    let client = reqwest::Client::new();
    let sid = open_session(&client, &server.url).await;
    let mut first = Sse::new(session_get(&client, &server.url, &sid).send().await.unwrap());
    first.next(WAIT).await.unwrap();
    // A fresh GET is refused while the stream lives; a resuming one replaces it (the client
    // reconnected before the server noticed the old connection was gone).
    assert_eq!(session_get(&client, &server.url, &sid).send().await.unwrap().status(), 409);
    let res = session_get(&client, &server.url, &sid).header("last-event-id", "g-0").send().await.unwrap();
    assert_eq!(res.status(), 200);
    let mut second = Sse::new(res);
    assert!(first.message(WAIT).await.is_none(), "the old stream ends");
    let call = json!({ "jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": { "name": "change" } });
    session_post(&client, &server.url, Some(&sid), call).send().await.unwrap();
    let (id, n) = second.message(WAIT).await.unwrap();
    assert_eq!((id.as_deref(), n["method"].as_str()), (Some("g-1"), Some("notifications/tools/list_changed")));
    server.stop().await;
}

/// Regression: 2025-03-26 says servers MUST accept JSON-RPC batches (requests,
/// notifications, responses); sessions of that revision get them, other sessions a 400.
#[tokio::test]
async fn batches_are_served_in_2025_03_26_sessions_only() {
    let server = default_server().await;
    let client = reqwest::Client::new();
    let res = session_post(&client, &server.url, None, init_body("2025-03-26")).send().await.unwrap();
    let sid = res.headers()["mcp-session-id"].to_str().unwrap().to_owned();
    let post = |sid: &str, body: Value| {
        client
            .post(&server.url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("mcp-session-id", sid)
            .header("mcp-protocol-version", "2025-03-26")
            .body(body.to_string())
            .send()
    };
    let batch = json!([
        { "jsonrpc": "2.0", "method": "notifications/initialized" },
        { "jsonrpc": "2.0", "id": 1, "method": "tools/list" },
        { "jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": { "name": "plain" } },
        { "jsonrpc": "2.0", "id": 3, "method": "no/such" }
    ]);
    let res = post(&sid, batch).await.unwrap();
    assert_eq!(res.status(), 200);
    let out: Vec<Value> = res.json().await.unwrap();
    assert_eq!(out.len(), 3, "{out:?}");
    assert!(out[0]["result"]["tools"].is_array());
    assert_eq!(out[1]["result"]["content"][0]["text"], "plain result");
    assert_eq!(out[2]["error"]["code"], -32601);
    // Only notifications: accepted, nothing to answer; an empty batch is invalid.
    let res = post(&sid, json!([{ "jsonrpc": "2.0", "method": "notifications/initialized" }])).await.unwrap();
    assert_eq!(res.status(), 202);
    assert_eq!(post(&sid, json!([])).await.unwrap().status(), 400);
    // A 2025-11-25 session: refused.
    let newer = open_session(&client, &server.url).await;
    let res =
        session_post(&client, &server.url, Some(&newer), json!([{ "jsonrpc": "2.0", "id": 1, "method": "ping" }]));
    let res = res.send().await.unwrap();
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], -32600);
    server.stop().await;
}
