//! The session era's message loop, written once. Streamable HTTP sessions, HTTP+SSE and
//! stdio hand every message of a session here as an [`Origin`] plus the parsed message;
//! the driver takes in the client's answers and notifications, answers `initialize` and
//! the session operations, and prepares every other request for dispatch. What comes back
//! is a [`Step`]: the transports only decide how its bytes leave (an HTTP status, an SSE
//! stream, a line on stdout).
//!
//! A [`Running`] request is registered as in flight (so `notifications/cancelled` reaches
//! it) before the driver returns it, which lets a transport that must keep message order
//! (stdio) wait only for the step, not for the handler.

use std::sync::Arc;

use futures_util::future::BoxFuture;
use serde_json::value::RawValue;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::live::{session_not_found, store_error, LiveSessions};
use super::{ClientNotification, LiveRequester, SessionOp, EMPTY_RESULT};
use crate::context::{ClientRequester, StreamControl};
use crate::dispatch::{Call, Reply};
use crate::jsonrpc::{write_error, write_result_raw, Id, McpError, Message};
use crate::method::Method;
use crate::observe::{Outcome, RequestEnd, Seen};
use crate::protocol::{Caller, Era, HttpRequestParts, Params, Transport};
use crate::store::SessionData;

/// Who sent a message, into which session.
pub(crate) struct Origin {
    pub sid: Arc<str>,
    /// The session's state when the message arrived.
    pub session: Arc<SessionData>,
    pub caller: Caller,
    pub transport: Transport,
    /// The revision the message says it speaks (Streamable HTTP's header); else the
    /// session's.
    pub version: Option<String>,
    pub http: Option<HttpRequestParts>,
}

/// What a message comes to.
// Moved once, right away: boxing the large variant would only add an allocation.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Step<'a> {
    /// Taken in (a client's answer, a notification); nothing to send back (HTTP: 202).
    Accepted,
    /// The request's complete JSON-RPC response (initialize, a session operation, an
    /// error the request earned).
    Answer(Vec<u8>),
    /// Refused outright, with an HTTP status in the error (unknown session, a second
    /// `initialize`).
    Refused(Option<Id>, McpError),
    /// A request for a handler, ready to run.
    Run(Running<'a>),
}

/// A request registered as in flight, waiting for its transport to start it.
pub(crate) struct Running<'a> {
    pub id: Id,
    live: Arc<LiveSessions>,
    sid: Arc<str>,
    call: Call<'a>,
}

/// A started request: its reply future and the token that fires when the client cancels
/// it or its session ends.
pub(crate) struct Started<'a> {
    pub id: Id,
    pub cancel: CancellationToken,
    pub reply: BoxFuture<'a, Reply>,
}

impl<'a> Running<'a> {
    /// Start the handler. `out` receives its request-scoped notifications and
    /// server-initiated requests (`None`: the client can be sent nothing before the result);
    /// `stream` lets it close its stream early.
    pub(crate) fn start(
        mut self,
        out: Option<mpsc::Sender<Vec<u8>>>,
        stream: Option<Arc<dyn StreamControl>>,
    ) -> Started<'a> {
        if let Some(out) = &out {
            self.call.requester = Some(Arc::new(LiveRequester {
                out: out.clone(),
                correlator: self.live.correlator.clone(),
                session: self.sid.clone(),
                timeout: self.live.config.client_request_timeout,
            }) as Arc<dyn ClientRequester>);
        }
        self.call.events = out;
        self.call.stream = stream;
        let cancel = self.call.cancel.clone();
        let Running { id, live, sid, call } = self;
        let request = id.clone();
        let reply = Box::pin(async move {
            let _in_flight = InFlight { live: &live, sid: &sid, id: &request };
            live.engine.dispatch(call).await
        });
        Started { id, cancel, reply }
    }
}

/// Removes a request from the in-flight table however it ends.
struct InFlight<'r> {
    live: &'r LiveSessions,
    sid: &'r Arc<str>,
    id: &'r Id,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.live.end_request(self.sid, self.id);
    }
}

/// The JSON-RPC response message for a reply.
pub(crate) fn response(id: &Id, reply: Reply) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    match reply {
        Reply::Result(r) => write_result_raw(&mut out, id, &r),
        Reply::Error(e) => write_error(&mut out, Some(id), &e),
        Reply::Listen(_) => write_error(&mut out, Some(id), &McpError::method_not_found("subscriptions/listen")),
    }
    out
}

impl LiveSessions {
    /// One message of a session.
    pub(crate) async fn step<'a>(self: &Arc<Self>, origin: Origin, message: Message<'a>) -> Step<'a> {
        let (id, method, raw) = match message {
            Message::Response { id, result } => {
                self.deliver(&origin.sid, id, result);
                return Step::Accepted;
            }
            Message::Notification { method, params } => {
                self.notification(&origin, &method, params).await;
                return Step::Accepted;
            }
            Message::Request { id, method, params } => (id, method, params),
        };
        match Params::parse(raw) {
            Ok(params) => self.request(origin, id, method, params).await,
            Err(e) => {
                self.engine.observer().session_request(&origin.sid, Method::parse(&method));
                Step::Answer(response(&id, Reply::Error(e)))
            }
        }
    }

    /// One request of a session, its params already parsed.
    pub(crate) async fn request<'a>(
        self: &Arc<Self>,
        origin: Origin,
        id: Id,
        method: std::borrow::Cow<'a, str>,
        params: Params<'a>,
    ) -> Step<'a> {
        let observer = self.engine.observer();
        let m = Method::parse(&method);
        let client = origin.session.client_info.as_ref();
        observer.session_seen(&origin.sid, origin.transport, client, origin.version.as_deref());
        if m != Method::Initialize {
            observer.session_request(&origin.sid, m);
        }
        if m == Method::Initialize {
            return self.initialize(&origin, id, &params).await;
        }
        if let Some(op) = SessionOp::parse(&self.engine, m, &params) {
            return self.session_op(&origin, id, m, op).await;
        }
        let cancel = self.begin_request(&origin.sid, &id);
        let info = super::request_info(
            &origin.session,
            &method,
            &params,
            origin.transport,
            origin.version.as_deref(),
            origin.caller,
            origin.http,
        );
        let call = Call {
            id: id.clone(),
            method,
            params,
            info: Arc::new(info),
            events: None,
            requester: None,
            cancel,
            stream: None,
        };
        Step::Run(Running { id, live: self.clone(), sid: origin.sid, call })
    }

    async fn notification(&self, origin: &Origin, method: &str, params: Option<&RawValue>) {
        match ClientNotification::parse(method, params) {
            ClientNotification::Initialized if !origin.session.initialized => {
                let _ = self
                    .store
                    .update(&origin.sid, &|d| {
                        !d.initialized && {
                            d.initialized = true;
                            true
                        }
                    })
                    .await;
            }
            ClientNotification::Cancelled(request) => self.cancel_request(&origin.sid, request),
            _ => {}
        }
    }

    /// `initialize` within a session that began without it (HTTP+SSE, stdio); a session
    /// that is already initialized refuses a second one.
    async fn initialize<'a>(&self, origin: &Origin, id: Id, params: &Params<'_>) -> Step<'a> {
        if origin.session.protocol_version.is_some() {
            let e = McpError::invalid_request("Invalid request: this session is already initialized")
                .with_status(http::StatusCode::BAD_REQUEST);
            return Step::Refused(Some(id), e);
        }
        let observer = self.engine.observer();
        let mut probe = observer.begin_with(Method::Initialize, Era::Session, origin.transport, None);
        let (init, result) = match super::initialize(&self.engine, params, &origin.caller) {
            Ok(x) => x,
            Err(e) => {
                end(observer, probe, Seen::default(), Some(&e));
                return Step::Answer(response(&id, Reply::Error(e)));
            }
        };
        if let Some(p) = probe.as_mut() {
            observer.set_probe_client(p, init.client_info.as_ref());
        }
        let version = init.protocol_version.as_deref();
        observer.session_initialized(&origin.sid, init.client_info.as_ref(), version);
        let adopted = self
            .store
            .update(&origin.sid, &|d| {
                super::adopt(d, &init);
                true
            })
            .await;
        let reply = match adopted {
            Ok(Some(_)) => Reply::Result(result),
            Ok(None) => Reply::Error(McpError::internal("the session ended")),
            Err(e) => Reply::Error(store_error(e)),
        };
        let seen = Seen {
            protocol_version: version.unwrap_or(""),
            capabilities: Some(&init.client_capabilities),
            caller: origin.caller.id.as_deref(),
        };
        end(observer, probe, seen, if let Reply::Error(e) = &reply { Some(e) } else { None });
        Step::Answer(response(&id, reply))
    }

    async fn session_op<'a>(
        &self,
        origin: &Origin,
        id: Id,
        method: Method,
        op: Result<SessionOp, McpError>,
    ) -> Step<'a> {
        let observer = self.engine.observer();
        let client = origin.session.client_info.as_ref();
        let probe = observer.begin_with(method, Era::Session, origin.transport, client);
        let version = origin.version.as_deref().or(origin.session.protocol_version.as_deref()).unwrap_or("");
        let seen = Seen { protocol_version: version, capabilities: None, caller: origin.caller.id.as_deref() };
        let reply = match op {
            Ok(op) => match self.store.update(&origin.sid, &|d| op.apply(d)).await {
                Ok(Some(_)) => Reply::Result(EMPTY_RESULT.to_vec()),
                Ok(None) => {
                    let e = session_not_found();
                    end(observer, probe, seen, Some(&e));
                    return Step::Refused(None, e);
                }
                Err(e) => Reply::Error(store_error(e)),
            },
            Err(e) => Reply::Error(e),
        };
        end(observer, probe, seen, if let Reply::Error(e) = &reply { Some(e) } else { None });
        Step::Answer(response(&id, reply))
    }
}

fn end(
    observer: &dyn crate::observe::Observer,
    probe: Option<crate::observe::Probe>,
    seen: Seen<'_>,
    error: Option<&McpError>,
) {
    if let Some(p) = probe {
        let outcome = if error.is_some() { Outcome::Error } else { Outcome::Ok };
        observer.end(p, RequestEnd { info: None, seen, outcome, error, tool: None });
    }
}

/// The one revision whose sessions accept JSON-RPC batches.
pub(crate) const BATCH_REVISION: &str = "2025-03-26";

/// Is `body` a JSON-RPC batch (an array)?
pub(crate) fn is_batch(body: &[u8]) -> bool {
    body.trim_ascii_start().first() == Some(&b'[')
}

impl LiveSessions {
    /// A JSON-RPC batch in a session that negotiated 2025-03-26 (the only revision with
    /// batches; elsewhere the single-message parser refuses them): each message in turn,
    /// requests run to completion, the responses as one array. `Ok(None)`: nothing to
    /// answer (only notifications and client answers).
    pub(crate) async fn batch(
        self: &Arc<Self>,
        origin: impl Fn() -> Origin,
        body: &[u8],
    ) -> Result<Option<Vec<u8>>, McpError> {
        let items: Vec<&RawValue> = serde_json::from_slice(body).map_err(|e| {
            McpError::new(
                crate::jsonrpc::code::PARSE_ERROR,
                format!("Parse error: {}", crate::jsonrpc::protocol_terms(&e.to_string())),
            )
        })?;
        if items.is_empty() {
            return Err(McpError::invalid_request("Invalid request: an empty batch"));
        }
        let mut responses: Vec<Vec<u8>> = Vec::new();
        for item in items {
            let message = match crate::jsonrpc::parse(item.get().as_bytes()) {
                Ok(m) => m,
                Err(e) => {
                    let mut out = Vec::new();
                    write_error(&mut out, e.id.as_ref(), &e);
                    responses.push(out);
                    continue;
                }
            };
            match self.step(origin(), message).await {
                Step::Accepted => {}
                Step::Answer(out) => responses.push(out),
                Step::Refused(id, e) => {
                    let mut out = Vec::new();
                    write_error(&mut out, id.as_ref(), &e);
                    responses.push(out);
                }
                Step::Run(running) => {
                    let Started { id, cancel, reply } = running.start(None, None);
                    let reply = tokio::select! {
                        biased;
                        _ = cancel.cancelled() => None,
                        r = reply => Some(r),
                    };
                    if let Some(r) = reply {
                        responses.push(response(&id, r));
                    }
                }
            }
        }
        if responses.is_empty() {
            return Ok(None);
        }
        let mut out = Vec::with_capacity(responses.iter().map(|r| r.len() + 1).sum::<usize>() + 2);
        out.push(b'[');
        for (i, r) in responses.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(r);
        }
        out.push(b']');
        Ok(Some(out))
    }
}

/// How long a response waits after the notification just before it, on transports with
/// one outgoing channel: long enough for the notification to leave in its own write.
/// Clients that handle a read's messages in an order of their own (TypeScript SDK 1.32,
/// typescript-sdk#2580) otherwise drop the final progress notification of every call.
/// 15 ms rather than less: a proxy in between (nginx) must also have forwarded it alone.
const FLUSH_GAP: std::time::Duration = std::time::Duration::from_millis(15);

/// For transports with one outgoing channel (HTTP+SSE, stdio): run a request, its
/// messages and then its response going to `out`. A cancelled request sends nothing more.
pub(crate) async fn run_on_channel(running: Running<'_>, out: mpsc::Sender<Vec<u8>>) {
    let (events, mut handler_out) = mpsc::channel::<Vec<u8>>(64);
    let Started { id, cancel, reply } = running.start(Some(events), None);
    tokio::pin!(reply);
    let mut last_sent: Option<tokio::time::Instant> = None;
    let result = loop {
        tokio::select! {
            biased;
            _ = cancel.cancelled() => return,
            Some(m) = handler_out.recv() => {
                let _ = out.send(m).await;
                last_sent = Some(tokio::time::Instant::now());
            }
            r = &mut reply => break r,
        }
    };
    while let Ok(m) = handler_out.try_recv() {
        let _ = out.send(m).await;
        last_sent = Some(tokio::time::Instant::now());
    }
    if let Some(at) = last_sent {
        tokio::time::sleep_until(at + FLUSH_GAP).await;
    }
    let _ = out.send(response(&id, result)).await;
}
