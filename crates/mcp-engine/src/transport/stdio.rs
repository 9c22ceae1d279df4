//! stdio: newline-delimited JSON-RPC on stdin/stdout, both eras on one connection.
//!
//! Framing only. Each line is parsed once, in its own task: a request whose `_meta`
//! names a protocol version is served statelessly (2026-07-28, checked by
//! [`crate::prepare`]); every other message goes to the session driver as a message of
//! the connection's one implicit session (held in a private in-memory store). The reader
//! waits until a line is taken in — a request registered as in flight, a notification
//! applied — before it reads the next, so `notifications/cancelled` always finds the
//! request it names. Only MCP messages are written to stdout; logs go to stderr.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::{mpsc, oneshot};

use crate::dispatch::{Call, Engine, Reply};
use crate::jsonrpc::{self, write_error, write_result_raw, Id, Message};
use crate::observe::EndReason;
use crate::prepare::prepare_stateless;
use crate::protocol::{Caller, Params, Transport};
use crate::session::driver::{response, run_on_channel, Origin, Step};
use crate::session::{change_notification, LiveSessions, SessionConfig};
use crate::store::{MemoryEventLog, MemorySessionStore};

/// A stdio session lives as long as its connection.
const NEVER_IDLE: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// Serve one stdio connection until stdin closes. `caller` is who the process acts for
/// (e.g. identified by a token from the environment).
pub async fn serve<R, W>(engine: Engine, input: R, output: W, caller: Caller) -> std::io::Result<()>
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (out, mut out_rx) = mpsc::channel::<Vec<u8>>(256);
    let writer = tokio::spawn(async move {
        let mut output = output;
        while let Some(mut line) = out_rx.recv().await {
            line.push(b'\n');
            if output.write_all(&line).await.is_err() || output.flush().await.is_err() {
                break;
            }
        }
    });
    let config =
        SessionConfig { idle_timeout: NEVER_IDLE, max_sessions: 1, sse_paths: None, ..SessionConfig::default() };
    let store = Arc::new(MemorySessionStore::new(1, NEVER_IDLE));
    let log = Arc::new(MemoryEventLog::new(config.max_events_per_stream, 1));
    let live = LiveSessions::new(engine.clone(), store, log, config, Duration::from_secs(15));
    let sid = live.open_bare(&caller, Transport::Stdio).await.map_err(std::io::Error::other)?;
    let notifications = tokio::spawn(forward_changes(live.clone(), sid.clone(), out.clone()));
    let conn = Arc::new(Conn { live, sid, caller, out });

    let mut lines = BufReader::new(input).lines();
    while let Some(line) = lines.next_line().await? {
        if line.trim().is_empty() {
            continue;
        }
        let (taken, wait) = oneshot::channel();
        tokio::spawn(handle_line(conn.clone(), line, taken));
        let _ = wait.await;
    }
    notifications.abort();
    // Ends the session: cancels whatever still runs.
    let _ = conn.live.end_session(&conn.sid, EndReason::Closed).await;
    drop(conn);
    let _ = writer.await;
    Ok(())
}

struct Conn {
    live: Arc<LiveSessions>,
    sid: Arc<str>,
    caller: Caller,
    out: mpsc::Sender<Vec<u8>>,
}

async fn handle_line(conn: Arc<Conn>, line: String, taken: oneshot::Sender<()>) {
    let message = match jsonrpc::parse(line.as_bytes()) {
        Ok(m) => m,
        Err(e) => {
            let mut out = Vec::new();
            write_error(&mut out, None, &e);
            let _ = taken.send(());
            let _ = conn.out.send(out).await;
            return;
        }
    };
    let Ok(Some(session)) = conn.live.store.get(&conn.sid).await else {
        let _ = taken.send(());
        return;
    };
    let origin = Origin {
        sid: conn.sid.clone(),
        session,
        caller: conn.caller.clone(),
        transport: Transport::Stdio,
        version: None,
        http: None,
    };
    let step = match message {
        Message::Request { id, method, params: raw } => {
            let params = match Params::parse(raw) {
                Ok(p) => p,
                Err(e) => {
                    let _ = taken.send(());
                    let _ = conn.out.send(response(&id, Reply::Error(e))).await;
                    return;
                }
            };
            if params.meta.as_ref().is_some_and(|m| m.protocol_version.is_some()) {
                return stateless(&conn, id, method, params, taken).await;
            }
            conn.live.request(origin, id, method, params).await
        }
        other => conn.live.step(origin, other).await,
    };
    let _ = taken.send(());
    match step {
        Step::Accepted => {}
        Step::Answer(out) => drop(conn.out.send(out).await),
        Step::Refused(id, e) => {
            let mut out = Vec::new();
            write_error(&mut out, id.as_ref(), &e);
            let _ = conn.out.send(out).await;
        }
        Step::Run(running) => run_on_channel(running, conn.out.clone()).await,
    }
}

/// A 2026-07-28 request: prepared from its `_meta`, dispatched with its notifications on
/// stdout, cancellable by `notifications/cancelled`.
async fn stateless(
    conn: &Conn,
    id: Id,
    method: std::borrow::Cow<'_, str>,
    mut params: Params<'_>,
    taken: oneshot::Sender<()>,
) {
    let engine = &conn.live.engine;
    let prepared = prepare_stateless(engine, &method, &mut params, conn.caller.clone(), Transport::Stdio, None);
    let info = match prepared {
        Ok(info) => info,
        Err(e) => {
            let _ = taken.send(());
            let _ = conn.out.send(response(&id, Reply::Error(e))).await;
            return;
        }
    };
    let cancel = conn.live.begin_request(&conn.sid, &id);
    let _ = taken.send(());
    let call = Call {
        id: id.clone(),
        method,
        params,
        info,
        events: Some(conn.out.clone()),
        requester: None,
        cancel: cancel.clone(),
        stream: None,
    };
    let reply = tokio::select! {
        biased;
        _ = cancel.cancelled() => None,
        r = engine.dispatch(call) => Some(r),
    };
    let mut out = Vec::new();
    match reply {
        None => {}
        Some(Reply::Listen(mut listener)) => {
            // Acknowledge, then relay until the client cancels this request id.
            let _ = conn.out.send(listener.acknowledgement()).await;
            let shutdown = engine.shutdown_token().clone();
            loop {
                tokio::select! {
                    _ = cancel.cancelled() => break,
                    _ = shutdown.cancelled() => {
                        write_result_raw(&mut out, &id, &listener.closing_result());
                        break;
                    }
                    n = listener.next() => match n {
                        Some(n) => { let _ = conn.out.send(n).await; }
                        None => break,
                    }
                }
            }
        }
        Some(r) => out = response(&id, r),
    }
    conn.live.end_request(&conn.sid, &id);
    if !out.is_empty() {
        let _ = conn.out.send(out).await;
    }
}

/// Change notifications for the session, once it is initialized.
async fn forward_changes(live: Arc<LiveSessions>, sid: Arc<str>, out: mpsc::Sender<Vec<u8>>) {
    let mut rx = live.engine.bus().subscribe();
    loop {
        let event = match rx.recv().await {
            Ok(e) => e,
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
            Err(_) => return,
        };
        let Ok(Some(session)) = live.store.get(&sid).await else { return };
        if let Some(note) = change_notification(&event, &session) {
            live.engine.observer().change_sent(&event, Some(&sid), None);
            if out.send(note).await.is_err() {
                return;
            }
        }
    }
}
