//! Test support shared by the Hub crate's integration tests: a client configuration aimed at
//! the Hub stand-in, an engine served on a real TCP port, and 2026-07-28 requests with their
//! standard headers (the answer read as JSON, or as the last event of an SSE stream), and the
//! session era: POSTs in a session, opening one, and reading an SSE response message by message.

#![allow(dead_code)]

use std::time::Duration;

use hub_standin::StandIn;
use hubmcp_hub::HubClientConfig;
use mcp_engine::transport::http::HttpConfig;
use mcp_engine::{Engine, ServerInfo};
use serde_json::{json, Value};
use tokio::sync::oneshot;

/// The protocol version of the stateless era.
pub const STATELESS_VERSION: &str = "2026-07-28";

/// A client configuration for the stand-in's Hub and datasets-server.
pub fn client_config(hub: &StandIn, timeout: Duration) -> HubClientConfig {
    HubClientConfig::default()
        .with_endpoint(&hub.base_url)
        .unwrap()
        .with_datasets_server(&hub.datasets_server_url)
        .unwrap()
        .with_timeout(timeout)
}

/// The server info every test engine announces.
pub fn server_info() -> ServerInfo {
    ServerInfo { name: "hubmcp".into(), version: "test".into(), title: None, instructions: None }
}

/// An engine served over HTTP on 127.0.0.1 with an ephemeral port, until [`Served::stop`].
pub struct Served {
    /// `http://127.0.0.1:<port>`
    pub base: String,
    /// `{base}/mcp`
    pub url: String,
    pub http: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

pub async fn serve(engine: Engine, config: HttpConfig) -> Served {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(mcp_engine::server::serve_http(
        engine,
        config,
        listener,
        async move {
            let _ = rx.await;
        },
        Duration::from_secs(2),
    ));
    Served { url: format!("{base}/mcp"), base, http: reqwest::Client::new(), stop: Some(tx), task }
}

impl Served {
    pub async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        let _ = tokio::time::timeout(Duration::from_secs(10), self.task).await;
    }

    /// A stateless request to `{url}{query}`: `_meta` (kept, plus version and `caps`), the
    /// `Mcp-*` headers, and the bearer token if any.
    pub fn request(
        &self,
        query: &str,
        method: &str,
        params: Value,
        token: Option<&str>,
        caps: Value,
    ) -> reqwest::RequestBuilder {
        let mut params = params;
        let meta = params.get("_meta").cloned().unwrap_or_else(|| json!({}));
        let mut meta = meta.as_object().cloned().unwrap_or_default();
        meta.insert("io.modelcontextprotocol/protocolVersion".into(), json!(STATELESS_VERSION));
        meta.insert("io.modelcontextprotocol/clientCapabilities".into(), caps);
        params["_meta"] = Value::Object(meta);
        let mut r = self
            .http
            .post(format!("{}{query}", self.url))
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", STATELESS_VERSION)
            .header("mcp-method", method);
        // Mcp-Name mirrors the tool name, or the task id of a tasks/* request.
        if let Some(name) = params.get("name").or_else(|| params.get("taskId")).and_then(Value::as_str) {
            r = r.header("mcp-name", name);
        }
        if let Some(t) = token {
            r = r.header("authorization", format!("Bearer {t}"));
        }
        r.body(json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params }).to_string())
    }

    /// A stateless request; returns (notifications before the response, the response).
    pub async fn rpc_full(
        &self,
        query: &str,
        method: &str,
        params: Value,
        token: Option<&str>,
        caps: Value,
    ) -> (Vec<Value>, Value) {
        let res = self.request(query, method, params, token, caps).send().await.unwrap();
        assert_eq!(res.status(), 200, "HTTP status of {method}{query}");
        let sse =
            res.headers().get("content-type").is_some_and(|v| v.to_str().unwrap().starts_with("text/event-stream"));
        let text = res.text().await.unwrap();
        if sse {
            let mut msgs: Vec<Value> = text
                .lines()
                .filter_map(|l| l.strip_prefix("data: "))
                .map(|d| serde_json::from_str(d).unwrap())
                .collect();
            let last = msgs.pop().unwrap();
            (msgs, last)
        } else {
            (Vec::new(), serde_json::from_str(&text).unwrap())
        }
    }

    /// `tools/call` at `{url}{query}`; returns the `CallToolResult` (panics on a protocol error).
    pub async fn call_at(&self, query: &str, tool: &str, args: Value, token: Option<&str>) -> Value {
        let params = json!({ "name": tool, "arguments": args });
        let (_, resp) = self.rpc_full(query, "tools/call", params, token, json!({})).await;
        assert!(resp.get("error").is_none(), "{tool} answered a protocol error: {resp}");
        resp["result"].clone()
    }
}

/// The text content of a tool result, joined by newlines.
pub fn text(result: &Value) -> String {
    result["content"].as_array().unwrap().iter().filter_map(|c| c["text"].as_str()).collect::<Vec<_>>().join("\n")
}

pub fn is_error(result: &Value) -> bool {
    result["isError"] == true
}

// ----- session era -----------------------------------------------------------------------------

/// The session-era version the tests open sessions with.
pub const SESSION_VERSION: &str = "2025-11-25";

/// A JSON-RPC POST to `url` (query included) as `token`, inside `session` when given.
pub fn session_post(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    session: Option<&str>,
    body: &Value,
) -> reqwest::RequestBuilder {
    let mut r = http
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("authorization", format!("Bearer {token}"))
        .body(body.to_string());
    if let Some(s) = session {
        r = r.header("mcp-session-id", s).header("mcp-protocol-version", SESSION_VERSION);
    }
    r
}

/// Open a session whose client declares elicitation (initialize + initialized); its id.
pub async fn open_session(http: &reqwest::Client, url: &str, token: &str) -> String {
    let init = json!({ "jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": SESSION_VERSION, "capabilities": { "elicitation": {} },
        "clientInfo": { "name": "legacy", "version": "1" } } });
    let res = session_post(http, url, token, None, &init).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let sid = res.headers()["mcp-session-id"].to_str().unwrap().to_owned();
    let initialized = json!({ "jsonrpc": "2.0", "method": "notifications/initialized" });
    let res = session_post(http, url, token, Some(&sid), &initialized).send().await.unwrap();
    assert_eq!(res.status(), 202);
    sid
}

/// The JSON messages of an SSE response, one at a time.
pub struct Sse {
    body: std::pin::Pin<Box<dyn futures_util::Stream<Item = reqwest::Result<Vec<u8>>> + Send>>,
    buf: String,
}

impl Sse {
    pub fn new(res: reqwest::Response) -> Sse {
        use futures_util::StreamExt;
        assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
        Sse { body: Box::pin(res.bytes_stream().map(|r| r.map(|b| b.to_vec()))), buf: String::new() }
    }

    /// The next message within `wait` (panics on timeout); `None` once the stream ended.
    pub async fn message_within(&mut self, wait: Duration) -> Option<Value> {
        use futures_util::StreamExt;
        tokio::time::timeout(wait, async {
            loop {
                if let Some(end) = self.buf.find("\n\n") {
                    let block: String = self.buf.drain(..end + 2).collect();
                    let data: String =
                        block.lines().filter_map(|l| l.strip_prefix("data:")).map(str::trim_start).collect();
                    if !data.is_empty() {
                        return Some(serde_json::from_str(&data).unwrap());
                    }
                    continue;
                }
                match self.body.next().await {
                    Some(Ok(b)) => self.buf.push_str(std::str::from_utf8(&b).unwrap()),
                    _ => return None,
                }
            }
        })
        .await
        .expect("timed out waiting for an SSE message")
    }

    /// The next message (within 15 s); the stream must not end first.
    pub async fn message(&mut self) -> Value {
        self.message_within(Duration::from_secs(15)).await.expect("stream ended before the message")
    }
}

/// A session-era answer: the JSON body, or the first message of its SSE stream.
pub async fn json_or_first_event(res: reqwest::Response) -> Value {
    let sse = res.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream");
    if sse {
        Sse::new(res).message().await
    } else {
        res.json().await.unwrap()
    }
}
