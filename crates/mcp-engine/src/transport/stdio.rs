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
use tokio::sync::mpsc;
use tokio::task::AbortHandle;
use tokio_util::sync::CancellationToken;

use crate::context::ClientRequester;
use crate::dispatch::{Call, Engine, Reply};
use crate::jsonrpc::{self, write_error, write_result_raw, Id, JsonObject, McpError, Message};
use crate::protocol::{unsupported_version, validate_modern_meta, Caller, Era, Params, RequestInfo, Transport};
use crate::session::{self, ClientNotification, Correlator, LiveRequester, SessionOp, EMPTY_RESULT};
use crate::store::SessionData;
use crate::telemetry::{EndReason, Seen};

/// How long a server-initiated request waits for the client's answer.
const CLIENT_REQUEST_TIMEOUT: Duration = Duration::from_secs(300);

/// The key of the one implicit session in the correlator.
const SESSION: &str = "stdio";

struct Conn {
    engine: Engine,
    out: mpsc::Sender<Vec<u8>>,
    caller: Caller,
    /// The implicit session (session era only); its methods are the shared ones of
    /// [`crate::session`], its state a local struct instead of a store.
    session: Mutex<SessionData>,
    in_flight: Mutex<HashMap<Id, AbortHandle>>,
    correlator: Arc<Correlator>,
    session_key: Arc<str>,
    /// The implicit session's id in the telemetry's connection registry.
    telemetry_id: Arc<str>,
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
    let telemetry_id = engine.telemetry().stdio_session_id();
    let conn = Arc::new(Conn {
        engine,
        out: out_tx,
        caller,
        session: Mutex::new(SessionData {
            client_capabilities: Value::Object(JsonObject::new()),
            ..SessionData::default()
        }),
        in_flight: Mutex::new(HashMap::new()),
        correlator: Arc::new(Correlator::new("s")),
        session_key: Arc::from(SESSION),
        telemetry_id,
    });
    conn.engine.telemetry().session_opened(&conn.telemetry_id, Transport::Stdio, None, None);
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
    conn.engine.telemetry().session_ended(&conn.telemetry_id, EndReason::Closed);
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
            conn.correlator.resolve(SESSION, &id, session::client_answer(result));
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

fn on_notification(conn: &Arc<Conn>, method: &str, params: Option<&RawValue>) {
    match ClientNotification::parse(method, params) {
        ClientNotification::Cancelled(id) => {
            if let Some(task) = conn.in_flight.lock().expect("lock").remove(&id) {
                task.abort();
            }
        }
        ClientNotification::Initialized => conn.session.lock().expect("lock").initialized = true,
        ClientNotification::Other => {}
    }
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

fn build_call<'a>(
    conn: &Arc<Conn>,
    id: &Id,
    method: &'a str,
    raw: Option<&'a RawValue>,
) -> Result<Prepared<'a>, McpError> {
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
        let telemetry = conn.engine.telemetry();
        if method == "initialize" {
            let mut probe = telemetry.begin_with(method, Era::Legacy, Transport::Stdio, None);
            let (data, result) = match session::initialize(&conn.engine, &params, &conn.caller) {
                Ok(x) => x,
                Err(e) => {
                    telemetry.finish(probe, Seen::default(), Some(&e));
                    return Err(e);
                }
            };
            telemetry.set_probe_client(&mut probe, data.client_info.as_ref());
            let version = data.protocol_version.as_deref();
            telemetry.session_initialized(&conn.telemetry_id, data.client_info.as_ref(), version);
            let seen = Seen {
                protocol_version: version.unwrap_or(""),
                capabilities: Some(&data.client_capabilities),
                caller: conn.caller.id.as_deref(),
            };
            telemetry.finish(probe, seen, None);
            let mut s = conn.session.lock().expect("lock");
            let subscribed = std::mem::take(&mut s.subscriptions.resource_subscriptions);
            *s = data;
            s.subscriptions.resource_subscriptions = subscribed;
            return Ok(Prepared::Immediate(result));
        }
        telemetry.session_request(&conn.telemetry_id, method);
        if let Some(op) = SessionOp::parse(&conn.engine, method, &params) {
            let (client_info, version) = {
                let s = conn.session.lock().expect("lock");
                (s.client_info.clone(), s.protocol_version.clone())
            };
            let probe = telemetry.begin_with(method, Era::Legacy, Transport::Stdio, client_info.as_ref());
            let seen = Seen {
                protocol_version: version.as_deref().unwrap_or(""),
                capabilities: None,
                caller: conn.caller.id.as_deref(),
            };
            let op = match op {
                Ok(op) => op,
                Err(e) => {
                    telemetry.finish(probe, seen, Some(&e));
                    return Err(e);
                }
            };
            op.apply(&mut conn.session.lock().expect("lock"));
            telemetry.finish(probe, seen, None);
            return Ok(Prepared::Immediate(EMPTY_RESULT.to_vec()));
        }
        let s = conn.session.lock().expect("lock");
        session::request_info(&s, method, &params, Transport::Stdio, None, conn.caller.clone(), None)
    };
    let requester: Option<Arc<dyn ClientRequester>> = (info.era == Era::Legacy).then(|| {
        Arc::new(LiveRequester {
            out: conn.out.clone(),
            correlator: conn.correlator.clone(),
            session: conn.session_key.clone(),
            timeout: CLIENT_REQUEST_TIMEOUT,
        }) as Arc<dyn ClientRequester>
    });
    Ok(Prepared::Dispatch(Call {
        id: id.clone(),
        method,
        params,
        info: Arc::new(info),
        // Request-scoped notifications go straight to stdout.
        events: Some(conn.out.clone()),
        requester,
        cancel: CancellationToken::new(),
        stream: None,
    }))
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
        let notification = {
            let s = conn.session.lock().expect("lock");
            session::change_notification(&event, &s)
        };
        if let Some(out) = notification {
            conn.engine.telemetry().change_sent(&event, Some(&conn.telemetry_id), None);
            if conn.out.send(out).await.is_err() {
                return;
            }
        }
    }
}
