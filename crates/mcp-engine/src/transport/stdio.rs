//! stdio: newline-delimited JSON-RPC on stdin/stdout, both eras on one connection.
//!
//! A request whose `_meta` names a protocol version is served statelessly (2026-07-28);
//! anything else follows the session-based lifecycle of the one implicit session a stdio
//! connection is. Only MCP messages are written to stdout; logs go to stderr.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::value::RawValue;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::{mpsc, oneshot};
use tokio::task::AbortHandle;
use tokio_util::sync::CancellationToken;

use crate::context::ClientRequester;
use crate::dispatch::{Call, Engine, Reply};
use crate::jsonrpc::{self, write_error, write_notification, write_request, write_result_raw, Id, JsonObject, McpError, Message};
use crate::notify::{ChangeEvent, SubscriptionFilter};
use crate::protocol::{
    unsupported_version, validate_modern_meta, Caller, Era, LogLevel, Params, RequestInfo, Transport,
};
use crate::provider::BoxFuture;

/// How long a server-initiated request waits for the client's answer.
const CLIENT_REQUEST_TIMEOUT: Duration = Duration::from_secs(300);

/// The implicit session of a stdio connection (session era only).
#[derive(Default)]
struct Session {
    protocol_version: Option<String>,
    client_capabilities: Value,
    client_info: Option<Value>,
    log_level: Option<LogLevel>,
    subscriptions: SubscriptionFilter,
}

struct Conn {
    engine: Engine,
    out: mpsc::Sender<Vec<u8>>,
    caller: Caller,
    session: Mutex<Session>,
    in_flight: Mutex<HashMap<Id, AbortHandle>>,
    pending: Mutex<HashMap<Id, oneshot::Sender<Result<Value, McpError>>>>,
    next_id: std::sync::atomic::AtomicI64,
}

/// Serve one stdio connection until stdin closes. `caller` is who the process acts for
/// (e.g. identified by a token from the environment).
pub async fn serve<R, W>(engine: Engine, input: R, output: W, caller: Caller) -> std::io::Result<()>
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (out_tx, mut out_rx) = mpsc::channel::<Vec<u8>>(256);
    let writer = tokio::spawn(async move {
        let mut output = output;
        while let Some(mut line) = out_rx.recv().await {
            line.push(b'\n');
            if output.write_all(&line).await.is_err() || output.flush().await.is_err() {
                break;
            }
        }
    });
    let conn = Arc::new(Conn {
        engine,
        out: out_tx,
        caller,
        session: Mutex::new(Session { client_capabilities: Value::Object(JsonObject::new()), ..Default::default() }),
        in_flight: Mutex::new(HashMap::new()),
        pending: Mutex::new(HashMap::new()),
        next_id: std::sync::atomic::AtomicI64::new(1),
    });
    let session_events = tokio::spawn(forward_session_events(conn.clone()));
    let mut lines = BufReader::new(input).lines();
    while let Some(line) = lines.next_line().await? {
        if line.trim().is_empty() {
            continue;
        }
        handle_line(&conn, line);
    }
    session_events.abort();
    for (_, task) in conn.in_flight.lock().expect("lock").drain() {
        task.abort();
    }
    drop(conn);
    let _ = writer.await;
    Ok(())
}

fn handle_line(conn: &Arc<Conn>, line: String) {
    let message = match jsonrpc::parse(line.as_bytes()) {
        Ok(m) => m,
        Err(e) => {
            let mut out = Vec::new();
            write_error(&mut out, None, &e);
            let _ = conn.out.try_send(out);
            return;
        }
    };
    match message {
        Message::Response { id, result } => {
            let waiter = conn.pending.lock().expect("lock").remove(&id);
            if let Some(waiter) = waiter {
                let answer = match result {
                    Ok(r) => serde_json::from_str(r.get()).map_err(|_| McpError::internal("unreadable answer")),
                    Err(e) => Err(client_error(e)),
                };
                let _ = waiter.send(answer);
            }
        }
        Message::Notification { method, params } => on_notification(conn, &method, params),
        Message::Request { id, .. } => {
            let conn2 = conn.clone();
            let id2 = id.clone();
            let task = tokio::spawn(async move {
                serve_request(&conn2, line).await;
                conn2.in_flight.lock().expect("lock").remove(&id2);
            });
            conn.in_flight.lock().expect("lock").insert(id, task.abort_handle());
        }
    }
}

fn client_error(raw: &RawValue) -> McpError {
    #[derive(serde::Deserialize)]
    struct E {
        code: i32,
        message: String,
    }
    match serde_json::from_str::<E>(raw.get()) {
        Ok(e) => McpError::new(e.code, format!("client error: {}", e.message)),
        Err(_) => McpError::internal("client answered with an error"),
    }
}

fn on_notification(conn: &Arc<Conn>, method: &str, params: Option<&RawValue>) {
    if method == "notifications/cancelled" {
        #[derive(serde::Deserialize)]
        struct Cancelled {
            #[serde(rename = "requestId")]
            request_id: Id,
        }
        if let Some(c) = params.and_then(|p| serde_json::from_str::<Cancelled>(p.get()).ok()) {
            if let Some(task) = conn.in_flight.lock().expect("lock").remove(&c.request_id) {
                task.abort();
            }
        }
    }
    // notifications/initialized, roots/list_changed, … need no action.
}

async fn serve_request(conn: &Arc<Conn>, line: String) {
    let Ok(Message::Request { id, method, params: raw }) = jsonrpc::parse(line.as_bytes()) else { return };
    let mut out = Vec::new();
    match build_call(conn, &id, &method, raw) {
        Err(e) => write_error(&mut out, Some(&id), &e),
        Ok(Prepared::Immediate(result)) => write_result_raw(&mut out, &id, &result),
        Ok(Prepared::Dispatch(call)) => match conn.engine.dispatch(call).await {
            Reply::Result(r) => write_result_raw(&mut out, &id, &r),
            Reply::Error(e) => write_error(&mut out, Some(&id), &e),
            Reply::Listen(mut listener) => {
                // Acknowledge, then relay until the client cancels this request id.
                let _ = conn.out.send(listener.acknowledgement()).await;
                let shutdown = conn.engine.shutdown_token().clone();
                loop {
                    tokio::select! {
                        _ = shutdown.cancelled() => {
                            write_result_raw(&mut out, &id, &listener.closing_result());
                            break;
                        }
                        n = listener.next() => match n {
                            Some(n) => { let _ = conn.out.send(n).await; }
                            None => return,
                        }
                    }
                }
            }
        },
    }
    let _ = conn.out.send(out).await;
}

enum Prepared<'a> {
    Immediate(Vec<u8>),
    Dispatch(Call<'a>),
}

fn build_call<'a>(conn: &Arc<Conn>, id: &Id, method: &'a str, raw: Option<&'a RawValue>) -> Result<Prepared<'a>, McpError> {
    let mut params = Params::parse(raw)?;
    let modern = params.meta.as_ref().is_some_and(|m| m.protocol_version.is_some());
    let info = if modern {
        let meta = validate_modern_meta(params.meta.take())?;
        let supported = conn.engine.modern_versions();
        if !supported.contains(&meta.protocol_version.as_str()) {
            return Err(unsupported_version(&meta.protocol_version, supported));
        }
        RequestInfo {
            era: Era::Modern,
            transport: Transport::Stdio,
            protocol_version: meta.protocol_version,
            method: method.to_owned(),
            client_capabilities: meta.client_capabilities,
            client_info: meta.client_info,
            log_level: meta.log_level,
            progress_token: meta.progress_token,
            caller: conn.caller.clone(),
            http: None,
        }
    } else {
        match method {
            "initialize" => return initialize(conn, &params).map(Prepared::Immediate),
            "logging/setLevel" => {
                #[derive(serde::Deserialize)]
                struct SetLevel {
                    level: LogLevel,
                }
                let p: SetLevel = params.typed()?;
                conn.session.lock().expect("lock").log_level = Some(p.level);
                return Ok(Prepared::Immediate(b"{}".to_vec()));
            }
            "resources/subscribe" | "resources/unsubscribe" => {
                let uri = params.uri.as_deref().ok_or_else(|| McpError::invalid_params("Invalid params: uri is required"))?;
                let mut s = conn.session.lock().expect("lock");
                let subs = &mut s.subscriptions.resource_subscriptions;
                subs.retain(|u| u != uri);
                if method == "resources/subscribe" {
                    subs.push(uri.to_owned());
                }
                return Ok(Prepared::Immediate(b"{}".to_vec()));
            }
            _ => {}
        }
        let s = conn.session.lock().expect("lock");
        let progress_token = params.meta.as_ref().and_then(|m| m.progress_token.clone());
        RequestInfo {
            era: Era::Legacy,
            transport: Transport::Stdio,
            protocol_version: s.protocol_version.clone().unwrap_or_else(|| "2025-03-26".into()),
            method: method.to_owned(),
            client_capabilities: s.client_capabilities.clone(),
            client_info: s.client_info.clone(),
            log_level: s.log_level,
            progress_token,
            caller: conn.caller.clone(),
            http: None,
        }
    };
    let requester: Option<Arc<dyn ClientRequester>> =
        (info.era == Era::Legacy).then(|| Arc::new(StdioRequester(conn.clone())) as Arc<dyn ClientRequester>);
    Ok(Prepared::Dispatch(Call {
        id: id.clone(),
        method,
        params,
        info: Arc::new(info),
        // Request-scoped notifications go straight to stdout.
        events: Some(conn.out.clone()),
        requester,
        cancel: CancellationToken::new(),
    }))
}

fn initialize(conn: &Arc<Conn>, params: &Params<'_>) -> Result<Vec<u8>, McpError> {
    #[derive(serde::Deserialize)]
    struct Init {
        #[serde(rename = "protocolVersion")]
        protocol_version: Option<String>,
        #[serde(default)]
        capabilities: Option<Value>,
        #[serde(rename = "clientInfo", default)]
        client_info: Option<Value>,
    }
    let init: Init = params.typed()?;
    let (version, result) = conn.engine.initialize_result(init.protocol_version.as_deref());
    let mut s = conn.session.lock().expect("lock");
    s.protocol_version = Some(version);
    s.client_capabilities = init.capabilities.filter(Value::is_object).unwrap_or_else(|| Value::Object(JsonObject::new()));
    s.client_info = init.client_info;
    // A session listens to every list change the server can announce.
    s.subscriptions = SubscriptionFilter {
        tools_list_changed: true,
        prompts_list_changed: true,
        resources_list_changed: true,
        resource_subscriptions: std::mem::take(&mut s.subscriptions.resource_subscriptions),
    }
    .honored(conn.engine.capabilities());
    Ok(result)
}

/// Session era: change notifications go to the session once it is initialized.
async fn forward_session_events(conn: Arc<Conn>) {
    let mut rx = conn.engine.bus().subscribe();
    loop {
        let event = match rx.recv().await {
            Ok(e) => e,
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
            Err(_) => return,
        };
        let wanted = {
            let s = conn.session.lock().expect("lock");
            s.protocol_version.is_some() && s.subscriptions.wants(&event, conn.caller.id.as_deref())
        };
        if wanted {
            let params = match &*event {
                ChangeEvent::ResourceUpdated { uri } => serde_json::json!({ "uri": uri }),
                _ => Value::Object(JsonObject::new()),
            };
            let mut out = Vec::new();
            write_notification(&mut out, event.method(), &params);
            if conn.out.send(out).await.is_err() {
                return;
            }
        }
    }
}

struct StdioRequester(Arc<Conn>);

impl ClientRequester for StdioRequester {
    fn request(&self, method: &'static str, params: Value) -> BoxFuture<'_, Result<Value, McpError>> {
        Box::pin(async move {
            let conn = &self.0;
            let id = Id::Str(format!("s-{}", conn.next_id.fetch_add(1, std::sync::atomic::Ordering::Relaxed)));
            let (tx, rx) = oneshot::channel();
            conn.pending.lock().expect("lock").insert(id.clone(), tx);
            let mut out = Vec::new();
            write_request(&mut out, &id, method, &params);
            conn.out.send(out).await.map_err(|_| McpError::internal("client disconnected"))?;
            match tokio::time::timeout(CLIENT_REQUEST_TIMEOUT, rx).await {
                Ok(Ok(answer)) => answer,
                Ok(Err(_)) => Err(McpError::internal("client disconnected")),
                Err(_) => {
                    conn.pending.lock().expect("lock").remove(&id);
                    Err(McpError::internal(format!("the client did not answer {method} in time")))
                }
            }
        })
    }
}
