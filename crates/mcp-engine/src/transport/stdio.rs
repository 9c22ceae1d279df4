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

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::{mpsc, oneshot};

use crate::dispatch::{Call, Engine, Reply};
use crate::jsonrpc::{self, write_error, write_result_raw, Id, McpError, Message};
use crate::observe::EndReason;
use crate::prepare::prepare_stateless;
use crate::protocol::{Caller, Params, Transport};
use crate::session::driver::{is_batch, response, run_on_channel, Origin, Step, BATCH_REVISION};
use crate::session::{change_notification, LiveSessions, SessionConfig};
use crate::store::{MemoryEventLog, MemorySessionStore};

/// A stdio session lives as long as its connection.
const NEVER_IDLE: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// The longest line (one message) read from stdin.
pub const MAX_LINE_BYTES: usize = 4 * 1024 * 1024;

/// Serve one stdio connection until stdin closes. `caller` is who the process acts for
/// (e.g. identified by a token from the environment).
pub async fn serve<R, W>(engine: Engine, input: R, output: W, caller: Caller) -> std::io::Result<()>
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    serve_with_limit(engine, input, output, caller, MAX_LINE_BYTES).await
}

/// [`serve`] with another limit on one message's size.
pub async fn serve_with_limit<R, W>(
    engine: Engine,
    input: R,
    output: W,
    caller: Caller,
    max_line: usize,
) -> std::io::Result<()>
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

    let mut input = BufReader::new(input);
    loop {
        let line = match read_line(&mut input, max_line).await? {
            Line::End => break,
            Line::TooLong => {
                let e = McpError::invalid_request(format!("Invalid request: a message exceeds {max_line} bytes"));
                let mut out = Vec::new();
                write_error(&mut out, None, &e);
                let _ = conn.out.send(out).await;
                continue;
            }
            Line::Text(line) => line,
        };
        if line.trim_ascii().is_empty() {
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

/// One line of input.
enum Line {
    Text(Vec<u8>),
    /// Longer than the limit (read to its end and dropped).
    TooLong,
    End,
}

/// Read up to the next newline as bytes: JSON that is not valid UTF-8 is the parser's
/// to refuse (-32700), not a reason to stop serving.
async fn read_line<R: AsyncBufRead + Unpin>(input: &mut R, max: usize) -> std::io::Result<Line> {
    let mut line = Vec::new();
    let mut too_long = false;
    loop {
        let buf = input.fill_buf().await?;
        if buf.is_empty() {
            return Ok(match (line.is_empty() && !too_long, too_long) {
                (true, _) => Line::End,
                (false, true) => Line::TooLong,
                (false, false) => Line::Text(line),
            });
        }
        let (chunk, found) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (&buf[..i], Some(i + 1)),
            None => (buf, None),
        };
        if !too_long {
            if line.len() + chunk.len() > max {
                too_long = true;
                line = Vec::new();
            } else {
                line.extend_from_slice(chunk);
            }
        }
        let used = found.unwrap_or(buf.len());
        input.consume(used);
        if found.is_some() {
            return Ok(if too_long { Line::TooLong } else { Line::Text(line) });
        }
    }
}

async fn handle_line(conn: Arc<Conn>, line: Vec<u8>, taken: oneshot::Sender<()>) {
    if is_batch(&line) {
        return batch(&conn, &line, taken).await;
    }
    let message = match jsonrpc::parse(&line) {
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

/// A JSON-RPC batch: served only once the session negotiated 2025-03-26, taken in as a
/// whole before the next line is read.
async fn batch(conn: &Conn, line: &[u8], taken: oneshot::Sender<()>) {
    let _ = taken.send(());
    let session = conn.live.store.get(&conn.sid).await.ok().flatten();
    let out = match session {
        Some(session) if session.protocol_version.as_deref() == Some(BATCH_REVISION) => {
            let origin = || Origin {
                sid: conn.sid.clone(),
                session: session.clone(),
                caller: conn.caller.clone(),
                transport: Transport::Stdio,
                version: None,
                http: None,
            };
            match conn.live.batch(origin, line).await {
                Ok(Some(out)) => out,
                Ok(None) => return,
                Err(e) => error_line(&e),
            }
        }
        // The single-message parser says why a batch is refused here.
        _ => match jsonrpc::parse(line) {
            Err(e) => error_line(&e),
            Ok(_) => return,
        },
    };
    let _ = conn.out.send(out).await;
}

fn error_line(e: &McpError) -> Vec<u8> {
    let mut out = Vec::new();
    write_error(&mut out, e.id.as_ref(), e);
    out
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::{Catalog, StaticProvider};
    use crate::ServerInfo;
    use tokio::io::AsyncReadExt;

    /// Regression: a line with invalid UTF-8 gets -32700 and the connection goes on; an
    /// over-long line gets -32600 and the connection goes on.
    #[tokio::test]
    async fn bad_lines_are_answered_and_serving_goes_on() {
        let provider = std::sync::Arc::new(StaticProvider::new(Catalog::new(), serde_json::json!({ "tools": {} })));
        let info = ServerInfo { name: "t".into(), version: "1".into(), title: None, instructions: None };
        let engine = Engine::builder(provider, info).build();
        let (mut client_w, server_r) = tokio::io::duplex(1 << 16);
        let (server_w, mut client_r) = tokio::io::duplex(1 << 16);
        let task = tokio::spawn(serve_with_limit(engine, server_r, server_w, Caller::anonymous(), 256));
        let mut input = Vec::new();
        input.extend_from_slice(b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"x\":\"\xff\xfe\"}\n");
        input.extend_from_slice(&[b'x'; 1000]);
        input.push(b'\n');
        input.extend_from_slice(b"{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}\n");
        client_w.write_all(&input).await.unwrap();
        drop(client_w);
        let mut out = String::new();
        client_r.read_to_string(&mut out).await.unwrap();
        task.await.unwrap().unwrap();
        let lines: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 3, "{out}");
        assert_eq!(lines[0]["error"]["code"], -32700);
        assert_eq!(lines[1]["error"]["code"], -32600);
        assert_eq!(lines[2]["id"], 2);
        assert_eq!(lines[2]["result"], serde_json::json!({}));
    }
}
