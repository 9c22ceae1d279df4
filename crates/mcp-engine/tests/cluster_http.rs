//! Two instances of one service in one process: separate engines, routers and live
//! sessions, sharing the session store, the event log and the notification bus — what
//! several processes share through Redis. Each flow that must cross instances is started
//! on A and continued on B: the session itself, a client's answer, a cancellation,
//! DELETE, an HTTP+SSE message, a resume that follows a stream still running on A, and
//! list-changed fan-out.

use std::sync::Arc;
use std::time::Duration;

use mcp_engine::provider::{Catalog, StaticProvider};
use mcp_engine::store::{MemoryEventLog, MemorySessionStore};
use mcp_engine::transport::http::{router_with_stores, HttpConfig};
use mcp_engine::{Engine, InMemoryBus, NotificationBus};
use serde_json::{json, Value};
use tokio::sync::oneshot;

mod common;
use common::{session_get, session_post, test_server_info, tools, Sse};

const WAIT: Duration = Duration::from_secs(5);

fn catalog() -> Catalog {
    let mut c = Catalog::new();
    c.tool(tools::plain());
    c.tool(tools::ask());
    c.tool(tools::steps(3, Duration::from_millis(300)));
    c.tool(tools::change(false));
    c
}

struct Instance {
    base: String,
    url: String,
    _stop: oneshot::Sender<()>,
}

/// Two instances sharing one store, one event log and one bus.
async fn pair() -> (Instance, Instance) {
    let store = Arc::new(MemorySessionStore::new(100, Duration::from_secs(600)));
    let log = Arc::new(MemoryEventLog::new(1024, 64));
    let bus: Arc<dyn NotificationBus> = Arc::new(InMemoryBus::default());
    let mut out = Vec::new();
    for _ in 0..2 {
        let caps = json!({ "tools": { "listChanged": true } });
        let provider = Arc::new(StaticProvider::new(catalog(), caps));
        let engine = Engine::builder(provider, test_server_info()).bus(bus.clone()).build();
        let config = HttpConfig { keep_alive: Duration::from_millis(200), ..HttpConfig::default() };
        let app = router_with_stores(engine.clone(), config, store.clone(), log.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(mcp_engine::server::serve_router(
            app,
            engine,
            listener,
            async move {
                let _ = rx.await;
            },
            Duration::from_secs(1),
        ));
        out.push(Instance { url: format!("{base}/mcp"), base, _stop: tx });
    }
    let b = out.pop().unwrap();
    (out.pop().unwrap(), b)
}

async fn open_session(client: &reqwest::Client, url: &str) -> String {
    let init = json!({ "jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": { "elicitation": {} },
        "clientInfo": { "name": "cluster-test", "version": "1" } } });
    let res = session_post(client, url, None, init).send().await.unwrap();
    assert_eq!(res.status(), 200);
    res.headers()["mcp-session-id"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_session_opened_on_one_instance_is_served_by_the_other() {
    let (a, b) = pair().await;
    let client = reqwest::Client::new();
    let sid = open_session(&client, &a.url).await;
    let call = json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": { "name": "plain" } });
    let res: Value = session_post(&client, &b.url, Some(&sid), call).send().await.unwrap().json().await.unwrap();
    assert_eq!(res["result"]["content"][0]["text"], "plain result");
}

#[tokio::test]
async fn a_client_answer_posted_to_the_other_instance_reaches_the_waiting_handler() {
    let (a, b) = pair().await;
    let client = reqwest::Client::new();
    let sid = open_session(&client, &a.url).await;
    let call = json!({ "jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": { "name": "ask" } });
    let mut sse = Sse::new(session_post(&client, &a.url, Some(&sid), call).send().await.unwrap());
    let (_, req) = sse.message(WAIT).await.unwrap();
    assert_eq!(req["method"], "elicitation/create");
    let answer =
        json!({ "jsonrpc": "2.0", "id": req["id"], "result": { "action": "accept", "content": { "name": "Ada" } } });
    assert_eq!(session_post(&client, &b.url, Some(&sid), answer).send().await.unwrap().status(), 202);
    let (_, res) = sse.message(WAIT).await.unwrap();
    assert_eq!(res["result"]["content"][0]["text"], "hello Ada");
}

#[tokio::test]
async fn a_cancellation_posted_to_the_other_instance_stops_the_handler() {
    let (a, b) = pair().await;
    let client = reqwest::Client::new();
    let sid = open_session(&client, &a.url).await;
    let call = json!({ "jsonrpc": "2.0", "id": 11, "method": "tools/call", "params": { "name": "ask" } });
    let mut sse = Sse::new(session_post(&client, &a.url, Some(&sid), call).send().await.unwrap());
    assert_eq!(sse.message(WAIT).await.unwrap().1["method"], "elicitation/create");
    let cancel = json!({ "jsonrpc": "2.0", "method": "notifications/cancelled", "params": { "requestId": 11 } });
    assert_eq!(session_post(&client, &b.url, Some(&sid), cancel).send().await.unwrap().status(), 202);
    assert!(sse.message(WAIT).await.is_none(), "no response after cancellation");
}

#[tokio::test]
async fn delete_on_the_other_instance_ends_the_push_stream() {
    let (a, b) = pair().await;
    let client = reqwest::Client::new();
    let sid = open_session(&client, &a.url).await;
    let mut push = Sse::new(session_get(&client, &a.url, &sid).send().await.unwrap());
    assert!(push.next(WAIT).await.unwrap().retry, "priming event");
    let res = client.delete(&b.url).header("mcp-session-id", &sid).header("mcp-protocol-version", "2025-11-25").send();
    assert_eq!(res.await.unwrap().status(), 200);
    assert!(push.next(WAIT).await.is_none(), "the push stream on A ends");
    let res = session_post(&client, &a.url, Some(&sid), json!({ "jsonrpc": "2.0", "id": 2, "method": "ping" }));
    assert_eq!(res.send().await.unwrap().status(), 404);
}

#[tokio::test]
async fn list_changes_made_on_one_instance_reach_push_streams_on_the_other() {
    let (a, b) = pair().await;
    let client = reqwest::Client::new();
    let sid = open_session(&client, &a.url).await;
    let initialized = json!({ "jsonrpc": "2.0", "method": "notifications/initialized" });
    session_post(&client, &a.url, Some(&sid), initialized).send().await.unwrap();
    let mut push = Sse::new(session_get(&client, &a.url, &sid).send().await.unwrap());
    assert!(push.next(WAIT).await.unwrap().retry);
    let other = open_session(&client, &b.url).await;
    let call = json!({ "jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": { "name": "change" } });
    session_post(&client, &b.url, Some(&other), call).send().await.unwrap();
    let (_, note) = push.message(WAIT).await.unwrap();
    assert_eq!(note["method"], "notifications/tools/list_changed");
}

#[tokio::test]
async fn a_resume_on_the_other_instance_replays_then_follows_the_live_stream() {
    let (a, b) = pair().await;
    let client = reqwest::Client::new();
    let sid = open_session(&client, &a.url).await;
    let call = json!({ "jsonrpc": "2.0", "id": 7, "method": "tools/call",
                       "params": { "name": "steps", "_meta": { "progressToken": "p" } } });
    let mut sse = Sse::new(session_post(&client, &a.url, Some(&sid), call).send().await.unwrap());
    assert!(sse.next(WAIT).await.unwrap().retry);
    let (first_id, first) = sse.message(WAIT).await.unwrap();
    assert_eq!(first["params"]["message"], "one");
    assert!(sse.message(WAIT).await.is_none(), "A closed the stream mid-call");
    // Resume on B before "two" is produced: B replays nothing, then follows A's stream.
    let res = session_get(&client, &b.url, &sid).header("last-event-id", first_id.unwrap()).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let mut resumed = Sse::new(res);
    let mut got = Vec::new();
    while let Some((_, m)) = resumed.message(WAIT).await {
        got.push(m);
    }
    assert_eq!(got.len(), 3, "no gap, no duplicate: {got:?}");
    assert_eq!(got[0]["params"]["message"], "two");
    assert_eq!(got[1]["params"]["message"], "three");
    assert_eq!(got[2]["result"]["content"][0]["text"], "steps done");
}

#[tokio::test]
async fn an_http_sse_message_posted_to_the_other_instance_is_answered_on_the_stream() {
    let (a, b) = pair().await;
    let client = reqwest::Client::new();
    let res = client.get(format!("{}/sse", a.base)).header("accept", "text/event-stream").send().await.unwrap();
    let mut sse = Sse::new(res);
    let endpoint = sse.next(WAIT).await.unwrap();
    assert_eq!(endpoint.event.as_deref(), Some("endpoint"));
    let on_b = format!("{}{}", b.base, endpoint.data);
    let send =
        |body: Value| client.post(&on_b).header("content-type", "application/json").body(body.to_string()).send();
    let init = json!({ "jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2024-11-05", "capabilities": { "elicitation": {} },
        "clientInfo": { "name": "cluster-test", "version": "1" } } });
    assert_eq!(send(init).await.unwrap().status(), 202);
    let (_, init) = sse.message(WAIT).await.unwrap();
    assert_eq!(init["result"]["protocolVersion"], "2024-11-05");
    // A call on B that asks the client: the request and the result both arrive on A's stream.
    send(json!({ "jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": { "name": "ask" } })).await.unwrap();
    let (_, req) = sse.message(WAIT).await.unwrap();
    assert_eq!(req["method"], "elicitation/create");
    let answer =
        json!({ "jsonrpc": "2.0", "id": req["id"], "result": { "action": "accept", "content": { "name": "Grace" } } });
    assert_eq!(send(answer).await.unwrap().status(), 202);
    let (_, res) = sse.message(WAIT).await.unwrap();
    assert_eq!(res["id"], 2);
    assert_eq!(res["result"]["content"][0]["text"], "hello Grace");
}
