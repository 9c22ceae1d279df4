//! Live sessions: the parts of session-era sessions that are bound to this process —
//! open streams, running handlers, server-to-client requests waiting for an answer — and
//! the limits that govern sessions. Session *state* is not here: it lives in the
//! [`SessionStore`], stream history in the [`EventLog`].
//!
//! Routing rule (what makes a shared store enough for several instances): whatever a
//! request needs to reach a live part (a client's answer, a cancellation, a session's
//! end) is first tried against this process; a miss is published on the
//! [`NotificationBus`] as a [`SessionEvent`], and every instance's hub consumes those
//! events and applies them to its own live parts. With the in-memory bus and one process
//! a miss simply has no taker.
//!
//! Also here, because every session transport needs them: opening sessions (with or
//! without `initialize`) and validating that a message may use a session.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use bytes::Bytes;
use serde_json::value::RawValue;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::dispatch::Engine;
use crate::jsonrpc::{Id, McpError};
use crate::method::Method;
use crate::notify::SessionEvent;
use crate::observe::{EndReason, Outcome, RequestEnd, Seen};
use crate::protocol::{Caller, Era, Params, Transport};
use crate::session::Correlator;
use crate::store::{EventLog, SessionData, SessionStore, StoreError};

/// Limits and intervals of the session era, with production defaults.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// A session unused for this long ends.
    pub idle_timeout: Duration,
    /// The cap on live sessions; `initialize` beyond it gets 503.
    pub max_sessions: usize,
    /// How long a server-initiated request waits for the client's answer.
    pub client_request_timeout: Duration,
    /// The SSE `retry:` hint sent with priming events (how soon clients reconnect).
    pub retry: Duration,
    /// Send `ping` on server-push streams at this interval (off when `None`).
    pub ping_interval: Option<Duration>,
    /// Unanswered pings in a row that mark a session unresponsive and close its stream.
    pub ping_failures: u32,
    /// Serve the deprecated HTTP+SSE transport (2024-11-05) at these paths.
    pub sse_paths: Option<(String, String)>,
    /// Event-log retention (in-memory log): events per stream, streams per session.
    pub max_events_per_stream: usize,
    pub max_streams_per_session: usize,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            idle_timeout: Duration::from_secs(30 * 60),
            max_sessions: 10_000,
            client_request_timeout: Duration::from_secs(120),
            retry: Duration::from_millis(1000),
            ping_interval: None,
            ping_failures: 3,
            sse_paths: Some(("/sse".into(), "/message".into())),
            max_events_per_stream: 1024,
            max_streams_per_session: 64,
        }
    }
}

/// Where a running request stream currently writes: the POST response, a resuming GET,
/// or nowhere (the client disconnected; events only go to the log).
#[derive(Default)]
pub(crate) struct Attach {
    sink: Mutex<Option<mpsc::Sender<(u64, Bytes)>>>,
}

impl Attach {
    pub(crate) fn set(&self, sink: Option<mpsc::Sender<(u64, Bytes)>>) {
        *self.sink.lock().unwrap_or_else(|e| e.into_inner()) = sink;
    }
    pub(crate) fn get(&self) -> Option<mpsc::Sender<(u64, Bytes)>> {
        self.sink.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
    /// Detach `sink` if it is still the current one.
    pub(crate) fn detach(&self, sink: &mpsc::Sender<(u64, Bytes)>) {
        let mut cur = self.sink.lock().unwrap_or_else(|e| e.into_inner());
        if cur.as_ref().is_some_and(|c| c.same_channel(sink)) {
            *cur = None;
        }
    }
}

type Key = (Arc<str>, Id);
type StreamKey = (Arc<str>, Arc<str>);

pub struct LiveSessions {
    pub(crate) engine: Engine,
    pub(crate) store: Arc<dyn SessionStore>,
    pub(crate) log: Arc<dyn EventLog>,
    pub(crate) config: SessionConfig,
    pub(crate) keep_alive: Duration,
    pub(crate) correlator: Arc<Correlator>,
    in_flight: Mutex<HashMap<Key, CancellationToken>>,
    streams: Mutex<HashMap<StreamKey, Arc<Attach>>>,
    /// Fired when a session ends, for the live parts that outlast a request.
    ended: Mutex<HashMap<Arc<str>, CancellationToken>>,
    /// HTTP+SSE: each session's one outgoing stream.
    sse_sinks: Mutex<HashMap<Arc<str>, mpsc::Sender<Vec<u8>>>>,
    /// The push stream of each session served here, by lease token: a resuming GET that
    /// takes the lease over ends the old one at once.
    push: Mutex<HashMap<Arc<str>, (String, CancellationToken)>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl LiveSessions {
    pub fn new(
        engine: Engine,
        store: Arc<dyn SessionStore>,
        log: Arc<dyn EventLog>,
        config: SessionConfig,
        keep_alive: Duration,
    ) -> Arc<Self> {
        let hub = Arc::new(LiveSessions {
            engine,
            store,
            log,
            config,
            keep_alive,
            correlator: Arc::new(Correlator::random()),
            in_flight: Mutex::new(HashMap::new()),
            streams: Mutex::new(HashMap::new()),
            ended: Mutex::new(HashMap::new()),
            sse_sinks: Mutex::new(HashMap::new()),
            push: Mutex::new(HashMap::new()),
        });
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(background(Arc::downgrade(&hub)));
        } else {
            tracing::warn!("live sessions created outside a Tokio runtime: no idle sweeping or bus routing");
        }
        hub
    }

    // ----- opening and using sessions -----------------------------------------------------

    /// A session opened before `initialize` (HTTP+SSE's stream, a stdio connection).
    pub(crate) async fn open_bare(&self, caller: &Caller, transport: Transport) -> Result<Arc<str>, StoreError> {
        let data = SessionData {
            caller: caller.id.as_deref().map(str::to_owned),
            http_sse: transport == Transport::Sse,
            client_capabilities: serde_json::Value::Object(Default::default()),
            ..SessionData::default()
        };
        let sid = self.store.create(data).await?;
        self.engine.observer().session_opened(&sid, transport, None, None);
        Ok(sid)
    }

    /// A session opened by `initialize` (Streamable HTTP): its id and the serialized result.
    pub(crate) async fn open_initialized(
        &self,
        params: &Params<'_>,
        caller: &Caller,
        transport: Transport,
    ) -> Result<(Arc<str>, Vec<u8>), McpError> {
        let observer = self.engine.observer();
        let (data, result) = crate::session::initialize(&self.engine, params, caller)?;
        let mut probe = observer.begin_with(Method::Initialize, Era::Session, transport, data.client_info.as_ref());
        let (client_info, version) = (data.client_info.clone(), data.protocol_version.clone());
        let (caps, owner) = (data.client_capabilities.clone(), data.caller.clone());
        let sid = self.store.create(data).await.map_err(store_error)?;
        observer.session_opened(&sid, transport, client_info.as_ref(), version.as_deref());
        if let Some(p) = probe.take() {
            let seen = Seen {
                protocol_version: version.as_deref().unwrap_or(""),
                capabilities: Some(&caps),
                caller: owner.as_deref(),
            };
            observer.end(p, RequestEnd { info: None, seen, outcome: Outcome::Ok, error: None, tool: None });
        }
        Ok((sid, result))
    }

    /// The live session `sid` if `caller` may use it (someone else's session is
    /// indistinguishable from an unknown one).
    pub(crate) async fn session_for(&self, sid: &str, caller: &Caller) -> Result<Arc<SessionData>, McpError> {
        match self.store.touch(sid).await {
            Ok(Some(s)) if s.caller.as_deref() == caller.id.as_deref() => Ok(s),
            Ok(_) => Err(session_not_found()),
            Err(e) => Err(store_error(e)),
        }
    }

    // ----- in-flight requests ------------------------------------------------------------

    pub(crate) fn begin_request(&self, session: &Arc<str>, id: &Id) -> CancellationToken {
        let token = CancellationToken::new();
        lock(&self.in_flight).insert((session.clone(), id.clone()), token.clone());
        token
    }

    pub(crate) fn end_request(&self, session: &Arc<str>, id: &Id) {
        lock(&self.in_flight).remove(&(session.clone(), id.clone()));
    }

    /// `notifications/cancelled`: stop the request here, or ask the other instances.
    pub(crate) fn cancel_request(&self, session: &Arc<str>, id: Id) {
        let token = lock(&self.in_flight).remove(&(session.clone(), id.clone()));
        match token {
            Some(t) => t.cancel(),
            None => {
                self.engine.bus().publish_session(SessionEvent::Cancelled { session: session.clone(), request: id })
            }
        }
    }

    /// A client's answer to a server-initiated request (a JSON-RPC result or error).
    pub(crate) fn deliver(&self, session: &Arc<str>, id: Id, answer: Result<&RawValue, &RawValue>) {
        let answer = match answer {
            Ok(r) => serde_json::from_str::<serde_json::Value>(r.get()).map_err(|_| serde_json::Value::Null),
            Err(e) => Err(serde_json::from_str(e.get()).unwrap_or(serde_json::Value::Null)),
        };
        let local = match &answer {
            Ok(v) => Ok(v.clone()),
            Err(e) => Err(crate::session::client_error(e)),
        };
        if !self.correlator.resolve(session, &id, local) {
            let (ok, body) = match answer {
                Ok(v) => (true, v),
                Err(e) => (false, e),
            };
            self.engine.bus().publish_session(SessionEvent::ClientResponse { session: session.clone(), id, ok, body });
        }
    }

    // ----- request streams -----------------------------------------------------------

    pub(crate) fn register_stream(&self, session: &Arc<str>, stream: &Arc<str>, attach: Arc<Attach>) {
        lock(&self.streams).insert((session.clone(), stream.clone()), attach);
    }

    pub(crate) fn unregister_stream(&self, session: &Arc<str>, stream: &Arc<str>) {
        lock(&self.streams).remove(&(session.clone(), stream.clone()));
    }

    pub(crate) fn stream(&self, session: &Arc<str>, stream: &str) -> Option<Arc<Attach>> {
        lock(&self.streams).get(&(session.clone(), Arc::from(stream))).cloned()
    }

    // ----- HTTP+SSE ----------------------------------------------------------------------

    pub(crate) fn set_sse_sink(&self, session: &Arc<str>, sink: mpsc::Sender<Vec<u8>>) {
        lock(&self.sse_sinks).insert(session.clone(), sink);
    }

    pub(crate) fn sse_sink(&self, session: &str) -> Option<mpsc::Sender<Vec<u8>>> {
        lock(&self.sse_sinks).get(session).cloned()
    }

    /// Where messages for an HTTP+SSE session go from this instance: its stream if it is
    /// held here, else the bus, to the instance that holds it.
    pub(crate) fn sse_outbox(self: &Arc<Self>, session: &Arc<str>) -> mpsc::Sender<Vec<u8>> {
        if let Some(sink) = self.sse_sink(session) {
            return sink;
        }
        let (tx, mut rx) = mpsc::channel::<Vec<u8>>(64);
        let (bus, session) = (self.engine.bus().clone(), session.clone());
        tokio::spawn(async move {
            while let Some(message) = rx.recv().await {
                let message = bytes::Bytes::from(message);
                bus.publish_session(SessionEvent::Outbound { session: session.clone(), message });
            }
        });
        tx
    }

    // ----- push streams --------------------------------------------------------------

    /// Register this process's push stream of a session; ends the previous one, here and
    /// (when `moved`, a resuming GET took the lease over) on other instances.
    pub(crate) fn push_started(&self, session: &Arc<str>, token: &str, moved: bool) -> CancellationToken {
        let kick = CancellationToken::new();
        if let Some((_, old)) = lock(&self.push).insert(session.clone(), (token.to_owned(), kick.clone())) {
            old.cancel();
        }
        if moved {
            let event = SessionEvent::PushMoved { session: session.clone(), token: token.to_owned() };
            self.engine.bus().publish_session(event);
        }
        kick
    }

    pub(crate) fn push_ended(&self, session: &Arc<str>, token: &str) {
        let mut push = lock(&self.push);
        if push.get(session).is_some_and(|(t, _)| t == token) {
            push.remove(session);
        }
    }

    // ----- session end -------------------------------------------------------------------

    /// A token fired when the session ends (here or, via the bus, anywhere).
    pub(crate) fn ended_token(&self, session: &Arc<str>) -> CancellationToken {
        lock(&self.ended).entry(session.clone()).or_default().clone()
    }

    /// Drop this process's live parts of a session.
    fn end_local(&self, session: &str) {
        if let Some(t) = lock(&self.ended).remove(session) {
            t.cancel();
        }
        lock(&self.in_flight).retain(|(s, _), t| {
            let keep = &**s != session;
            if !keep {
                t.cancel();
            }
            keep
        });
        lock(&self.streams).retain(|(s, _), _| &**s != session);
        lock(&self.sse_sinks).remove(session);
        if let Some((_, kick)) = lock(&self.push).remove(session) {
            kick.cancel();
        }
        self.correlator.drop_session(session);
    }

    /// End a session everywhere: store, log, live parts here and on other instances.
    pub(crate) async fn end_session(&self, session: &Arc<str>, reason: EndReason) -> Result<bool, McpError> {
        let existed = self.store.delete(session).await.map_err(|e| McpError::internal(e.to_string()))?;
        self.log.remove_session(session).await;
        self.engine.observer().session_ended(session, reason);
        self.end_local(session);
        self.engine.bus().publish_session(SessionEvent::Ended { session: session.clone() });
        Ok(existed)
    }

    /// Sessions with a live part in this process (for tests and metrics).
    pub fn local_sessions(&self) -> usize {
        lock(&self.ended).len()
    }
}

/// -32001 with 404, as the reference SDKs answer for an unknown session: on the HTTP
/// session path a 404 means "no such session" and nothing else.
pub(crate) fn session_not_found() -> McpError {
    McpError::new(-32001, "Session not found: it was terminated or expired; initialize a new session")
        .with_status(http::StatusCode::NOT_FOUND)
}

/// A store failure as the client sees it: 503, retry later.
pub(crate) fn store_error(e: StoreError) -> McpError {
    let message = match &e {
        StoreError::Full { max } => format!(
            "Service Unavailable: the server holds its maximum of {max} live sessions; retry later or end unused sessions with DELETE"
        ),
        StoreError::Unavailable(why) => format!("Service Unavailable: session store unavailable ({why})"),
    };
    McpError::new(-32000, message).with_status(http::StatusCode::SERVICE_UNAVAILABLE)
}

/// Applies session events from the bus and sweeps idle sessions, until the hub is gone.
async fn background(hub: Weak<LiveSessions>) {
    let (mut events, shutdown, sweep_every) = {
        let Some(h) = hub.upgrade() else { return };
        let every = (h.config.idle_timeout / 4).clamp(Duration::from_millis(50), Duration::from_secs(30));
        (h.engine.bus().subscribe_sessions(), h.engine.shutdown_token().clone(), every)
    };
    let mut sweep = tokio::time::interval(sweep_every);
    sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let event = tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = sweep.tick() => {
                let Some(h) = hub.upgrade() else { return };
                for session in h.store.sweep().await {
                    h.log.remove_session(&session).await;
                    h.engine.observer().session_ended(&session, EndReason::Idle);
                    h.end_local(&session);
                    h.engine.bus().publish_session(SessionEvent::Ended { session });
                }
                continue;
            }
            e = async {
                match events.as_mut() {
                    Some(rx) => rx.recv().await,
                    None => std::future::pending().await,
                }
            } => e,
        };
        let Some(h) = hub.upgrade() else { return };
        let event = match event {
            Ok(e) => e,
            Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                tracing::warn!("session bus lagged; {n} session events lost");
                continue;
            }
            Err(_) => {
                events = None;
                continue;
            }
        };
        match &*event {
            SessionEvent::Ended { session } => {
                h.engine.observer().session_ended(session, EndReason::Elsewhere);
                h.end_local(session)
            }
            SessionEvent::ClientResponse { session, id, ok, body } => {
                let answer = if *ok { Ok(body.clone()) } else { Err(crate::session::client_error(body)) };
                h.correlator.resolve(session, id, answer);
            }
            SessionEvent::Cancelled { session, request } => {
                if let Some(t) = lock(&h.in_flight).remove(&(session.clone(), request.clone())) {
                    t.cancel();
                }
            }
            SessionEvent::Outbound { session, message } => {
                if let Some(sink) = h.sse_sink(session) {
                    let _ = sink.send(message.to_vec()).await;
                }
            }
            SessionEvent::PushMoved { session, token } => {
                let mut push = lock(&h.push);
                if push.get(session).is_some_and(|(t, _)| t != token) {
                    if let Some((_, kick)) = push.remove(session) {
                        kick.cancel();
                    }
                }
            }
        }
    }
}
