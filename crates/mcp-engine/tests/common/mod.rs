//! Test support shared by the HTTP integration tests: an engine served on a real TCP port,
//! and requests in the 2026-07-28 and session eras with their standard headers.

#![allow(dead_code)]

use std::time::Duration;

use futures_util::StreamExt;

use mcp_engine::transport::http::HttpConfig;
use mcp_engine::{Engine, ServerInfo};
use serde_json::{json, Value};
use tokio::sync::oneshot;

/// The protocol version of the stateless era.
pub const STATELESS_VERSION: &str = "2026-07-28";

/// The server info every test engine announces.
pub fn test_server_info() -> ServerInfo {
    ServerInfo { name: "test".into(), version: "1".into(), title: None, instructions: None }
}

/// An engine served over HTTP on an ephemeral local port; dropping it signals shutdown.
pub struct RunningServer {
    /// `http://127.0.0.1:<port>`
    pub base: String,
    /// `{base}/mcp`
    pub url: String,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

/// Serve `engine` on 127.0.0.1 with an ephemeral port until stopped, draining in-flight
/// requests for at most `shutdown_grace` once stopped.
pub async fn serve_on_local_port(engine: Engine, http: HttpConfig, shutdown_grace: Duration) -> RunningServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(mcp_engine::server::serve_http(
        engine,
        http,
        listener,
        async move {
            let _ = rx.await;
        },
        shutdown_grace,
    ));
    RunningServer { url: format!("{base}/mcp"), base, stop: Some(tx), task: Some(task) }
}

impl RunningServer {
    /// Signal shutdown and wait (at most 10 s) for the server to finish.
    pub async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        let _ = tokio::time::timeout(Duration::from_secs(10), self.task.take().unwrap()).await;
    }

    /// Signal shutdown (the server must still be running) and hand back its task to await.
    pub fn signal_shutdown(mut self) -> tokio::task::JoinHandle<std::io::Result<()>> {
        self.stop.take().unwrap().send(()).unwrap();
        self.task.take().unwrap()
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

/// The `_meta` of a 2026-07-28 request: the protocol version and these client capabilities.
pub fn stateless_meta(client_capabilities: Value) -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": STATELESS_VERSION,
        "io.modelcontextprotocol/clientCapabilities": client_capabilities
    })
}

/// A 2026-07-28 JSON-RPC request: `meta` becomes `params._meta`, and the standard headers
/// (`mcp-protocol-version`, `mcp-method`, `mcp-name` when `name` is given) are set.
pub fn stateless_request(
    client: &reqwest::Client,
    url: &str,
    id: i64,
    method: &str,
    name: Option<&str>,
    mut params: Value,
    meta: Value,
) -> reqwest::RequestBuilder {
    params["_meta"] = meta;
    let mut r = client
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", STATELESS_VERSION)
        .header("mcp-method", method);
    if let Some(n) = name {
        r = r.header("mcp-name", n);
    }
    r.body(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }).to_string())
}

/// A session-era POST of `body`; with a session id, also the id and the 2025-11-25 version header.
pub fn session_post(
    client: &reqwest::Client,
    url: &str,
    session: Option<&str>,
    body: Value,
) -> reqwest::RequestBuilder {
    let mut r = client
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(body.to_string());
    if let Some(s) = session {
        r = r.header("mcp-session-id", s).header("mcp-protocol-version", "2025-11-25");
    }
    r
}

/// One server-sent event.
#[derive(Debug, Default, Clone)]
pub struct Event {
    pub id: Option<String>,
    pub event: Option<String>,
    pub data: String,
    pub retry: bool,
}

/// Incremental SSE reader over a response body.
pub struct Sse {
    body: std::pin::Pin<Box<dyn futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>,
    buf: String,
    pub comments: usize,
}

impl Sse {
    pub fn new(res: reqwest::Response) -> Sse {
        assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
        Sse { body: Box::pin(res.bytes_stream()), buf: String::new(), comments: 0 }
    }

    /// The next event (`None` when the stream ends), failing after `wait`.
    pub async fn next(&mut self, wait: Duration) -> Option<Event> {
        tokio::time::timeout(wait, async {
            loop {
                if let Some(end) = self.buf.find("\n\n") {
                    let block: String = self.buf.drain(..end + 2).collect();
                    let mut e = Event::default();
                    let mut any = false;
                    for line in block.lines() {
                        if line.starts_with(':') {
                            self.comments += 1;
                        } else if let Some(v) = line.strip_prefix("id: ") {
                            e.id = Some(v.to_owned());
                            any = true;
                        } else if let Some(v) = line.strip_prefix("event: ") {
                            e.event = Some(v.to_owned());
                        } else if let Some(v) = line.strip_prefix("data:") {
                            e.data.push_str(v.trim_start());
                            any = true;
                        } else if line.starts_with("retry:") {
                            e.retry = true;
                        }
                    }
                    if any {
                        return Some(e);
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
        .expect("timed out waiting for an SSE event")
    }

    /// The next event that carries a JSON message.
    pub async fn message(&mut self, wait: Duration) -> Option<(Option<String>, Value)> {
        loop {
            let e = self.next(wait).await?;
            if !e.data.is_empty() {
                return Some((e.id, serde_json::from_str(&e.data).unwrap()));
            }
        }
    }
}

/// A session-era `GET` (the push stream, or a resume with `Last-Event-ID`).
pub fn session_get(client: &reqwest::Client, url: &str, sid: &str) -> reqwest::RequestBuilder {
    client
        .get(url)
        .header("accept", "text/event-stream")
        .header("mcp-session-id", sid)
        .header("mcp-protocol-version", "2025-11-25")
}

/// Tools the session-era tests share.
pub mod tools {
    use std::time::Duration;

    use mcp_engine::provider::{Tool, ToolOutput};
    use mcp_engine::{Audience, ChangeEvent, Ctx, InputRequests};
    use serde_json::json;

    fn definition(name: &str) -> serde_json::Value {
        json!({ "name": name, "inputSchema": { "type": "object" } })
    }

    /// Answers "plain result".
    pub fn plain() -> Tool {
        Tool::new(definition("plain"), |_, _| async { Ok(ToolOutput::text("plain result")) })
    }

    /// Asks the client for a name (elicitation) and greets it.
    pub fn ask() -> Tool {
        Tool::new(definition("ask"), |_, mut ctx: Ctx| async move {
            let schema = json!({ "type": "object", "properties": { "name": { "type": "string" } } });
            let a = ctx.request_input(InputRequests::new().elicit("who", "Your name?", schema)).await?;
            let name = mcp_engine::elicited_str(&a["who"], "name").unwrap_or("nobody").to_owned();
            Ok(ToolOutput::text(format!("hello {name}")))
        })
    }

    /// Progress "one" … "three" (or up to "two" when `steps` is 2), closing its stream after
    /// the first so the client must resume; `pause` between the later steps.
    pub fn steps(steps: u32, pause: Duration) -> Tool {
        Tool::new(definition("steps"), move |_, ctx: Ctx| async move {
            let total = Some(f64::from(steps));
            ctx.progress(1.0, total, Some("one")).await;
            tokio::time::sleep(Duration::from_millis(50)).await;
            ctx.close_stream();
            for (i, label) in ["two", "three"].iter().enumerate().take(steps as usize - 1) {
                tokio::time::sleep(pause).await;
                ctx.progress(2.0 + i as f64, total, Some(label)).await;
            }
            Ok(ToolOutput::text("steps done"))
        })
    }

    /// Announces a tools list change (and, with `resource`, an update of test://watched).
    pub fn change(resource: bool) -> Tool {
        Tool::new(definition("change"), move |_, ctx: Ctx| async move {
            ctx.notify(ChangeEvent::ToolsListChanged(Audience::Everyone));
            if resource {
                ctx.notify(ChangeEvent::ResourceUpdated { uri: "test://watched".into() });
            }
            Ok(ToolOutput::text("changed"))
        })
    }
}
