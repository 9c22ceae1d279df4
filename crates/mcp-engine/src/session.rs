//! The session era's lifecycle, written once and shared by every transport that has
//! sessions: stdio's implicit session, Streamable HTTP sessions and HTTP+SSE.
//!
//! Transports own framing and where a session's state lives (a local struct for stdio, a
//! [`crate::store::SessionStore`] for HTTP); this module owns what the methods mean:
//! `initialize` and version negotiation, `logging/setLevel`, `resources/(un)subscribe`,
//! the request description handlers see, which change notifications a session gets, and
//! the correlation of server-initiated requests with the client's answers.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::value::RawValue;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

use crate::context::ClientRequester;
use crate::dispatch::Engine;
use crate::jsonrpc::{write_notification, write_request, Id, JsonObject, McpError};
use crate::notify::{ChangeEvent, SubscriptionFilter};
use crate::protocol::{Caller, Era, HttpRequestParts, LogLevel, Params, RequestInfo, Transport};
use crate::provider::BoxFuture;
use crate::store::SessionData;

/// The result of `ping`, `logging/setLevel` and `resources/(un)subscribe`: exactly `{}`.
pub const EMPTY_RESULT: &[u8] = b"{}";

/// The revision a session-era HTTP request is assumed to speak when it carries no
/// `MCP-Protocol-Version` header.
pub const DEFAULT_HTTP_VERSION: &str = "2025-03-26";

/// Handle `initialize`: negotiate the version and describe the new session. Returns the
/// session's initial state and the serialized result.
pub fn initialize(engine: &Engine, params: &Params<'_>, caller: &Caller) -> Result<(SessionData, Vec<u8>), McpError> {
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
    let (version, result) = engine.initialize_result(init.protocol_version.as_deref());
    // A session hears every list change the server can announce; resource updates only
    // for the URIs it subscribes to.
    let subscriptions = SubscriptionFilter {
        tools_list_changed: true,
        prompts_list_changed: true,
        resources_list_changed: true,
        resource_subscriptions: Vec::new(),
    }
    .honored(engine.capabilities());
    let data = SessionData {
        protocol_version: Some(version),
        client_capabilities: init
            .capabilities
            .filter(Value::is_object)
            .unwrap_or_else(|| Value::Object(JsonObject::new())),
        client_info: init.client_info,
        subscriptions,
        caller: caller.id.as_deref().map(str::to_owned),
        ..SessionData::default()
    };
    Ok((data, result))
}

/// Apply what `initialize` decided to an existing session (HTTP+SSE creates the session
/// when the stream opens, before `initialize`).
pub fn adopt(target: &mut SessionData, init: &SessionData) {
    target.protocol_version = init.protocol_version.clone();
    target.client_capabilities = init.client_capabilities.clone();
    target.client_info = init.client_info.clone();
    let kept = std::mem::take(&mut target.subscriptions.resource_subscriptions);
    target.subscriptions = init.subscriptions.clone();
    target.subscriptions.resource_subscriptions = kept;
}

/// A session method that only changes session state.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionOp {
    SetLevel(LogLevel),
    Subscribe(String),
    Unsubscribe(String),
}

impl SessionOp {
    /// `Some` when `method` is a session method (its params checked), `None` otherwise.
    pub fn parse(engine: &Engine, method: &str, params: &Params<'_>) -> Option<Result<SessionOp, McpError>> {
        match method {
            "logging/setLevel" => {
                if engine.capabilities().get("logging").is_none() {
                    return Some(Err(McpError::method_not_found(method)));
                }
                #[derive(serde::Deserialize)]
                struct SetLevel {
                    level: LogLevel,
                }
                Some(params.typed::<SetLevel>().map(|p| SessionOp::SetLevel(p.level)))
            }
            "resources/subscribe" | "resources/unsubscribe" => {
                let can = engine.capabilities().pointer("/resources/subscribe").and_then(Value::as_bool) == Some(true);
                if !can {
                    return Some(Err(McpError::method_not_found(method)));
                }
                Some(match params.uri.as_deref() {
                    None => Err(McpError::invalid_params("Invalid params: uri is required")),
                    Some(uri) if method == "resources/subscribe" => Ok(SessionOp::Subscribe(uri.to_owned())),
                    Some(uri) => Ok(SessionOp::Unsubscribe(uri.to_owned())),
                })
            }
            _ => None,
        }
    }

    /// Apply to a session; `true` when something changed.
    pub fn apply(&self, session: &mut SessionData) -> bool {
        match self {
            SessionOp::SetLevel(level) => session.log_level.replace(*level) != Some(*level),
            SessionOp::Subscribe(uri) => {
                let subs = &mut session.subscriptions.resource_subscriptions;
                if subs.contains(uri) {
                    false
                } else {
                    subs.push(uri.clone());
                    true
                }
            }
            SessionOp::Unsubscribe(uri) => {
                let subs = &mut session.subscriptions.resource_subscriptions;
                let before = subs.len();
                subs.retain(|u| u != uri);
                subs.len() != before
            }
        }
    }
}

/// What handlers see of a session-era request.
pub fn request_info(
    session: &SessionData,
    method: &str,
    params: &Params<'_>,
    transport: Transport,
    protocol_version: Option<&str>,
    caller: Caller,
    http: Option<HttpRequestParts>,
) -> RequestInfo {
    let protocol_version = protocol_version
        .map(str::to_owned)
        .or_else(|| session.protocol_version.clone())
        .unwrap_or_else(|| DEFAULT_HTTP_VERSION.to_owned());
    RequestInfo {
        era: Era::Legacy,
        transport,
        protocol_version,
        method: method.to_owned(),
        client_capabilities: session.client_capabilities.clone(),
        client_info: session.client_info.clone(),
        log_level: session.log_level,
        progress_token: params.meta.as_ref().and_then(|m| m.progress_token.clone()),
        caller,
        http,
    }
}

/// The notification a session gets for a change, if it wants it.
pub fn change_notification(event: &ChangeEvent, session: &SessionData) -> Option<Vec<u8>> {
    if session.protocol_version.is_none() || !session.subscriptions.wants(event, session.caller.as_deref()) {
        return None;
    }
    let params = match event {
        ChangeEvent::ResourceUpdated { uri } => serde_json::json!({ "uri": uri }),
        _ => Value::Object(JsonObject::new()),
    };
    let mut out = Vec::with_capacity(64);
    write_notification(&mut out, event.method(), &params);
    Some(out)
}

/// The client notifications the server acts on.
pub enum ClientNotification {
    Initialized,
    Cancelled(Id),
    Other,
}

impl ClientNotification {
    pub fn parse(method: &str, params: Option<&RawValue>) -> ClientNotification {
        match method {
            "notifications/initialized" => ClientNotification::Initialized,
            "notifications/cancelled" => {
                #[derive(serde::Deserialize)]
                struct Cancelled {
                    #[serde(rename = "requestId")]
                    request_id: Id,
                }
                match params.and_then(|p| serde_json::from_str::<Cancelled>(p.get()).ok()) {
                    Some(c) => ClientNotification::Cancelled(c.request_id),
                    None => ClientNotification::Other,
                }
            }
            // notifications/roots/list_changed, notifications/progress, …: nothing to do.
            _ => ClientNotification::Other,
        }
    }
}

/// The client's answer to a server-initiated request, as handlers receive it.
pub fn client_answer(result: Result<&RawValue, &RawValue>) -> Result<Value, McpError> {
    match result {
        Ok(r) => serde_json::from_str(r.get()).map_err(|_| McpError::internal("unreadable answer from the client")),
        Err(e) => Err(client_error(&serde_json::from_str(e.get()).unwrap_or(Value::Null))),
    }
}

/// A JSON-RPC error object from the client, as an error for the handler.
pub fn client_error(error: &Value) -> McpError {
    match (error.get("code").and_then(Value::as_i64), error.get("message").and_then(Value::as_str)) {
        (Some(code), Some(message)) => McpError::new(code as i32, format!("client error: {message}")),
        _ => McpError::internal("the client answered with an error"),
    }
}

type Waiter = oneshot::Sender<Result<Value, McpError>>;

/// Server-initiated requests waiting for the client's answer, keyed by session and request
/// id (a client can only answer requests sent to its own session).
///
/// Ids are `<prefix>-<n>` with a per-process random prefix, so requests issued by
/// different instances into one session never collide. The map is per process: an answer
/// that arrives at an instance without the waiter is a miss, which an HTTP transport
/// forwards on the bus (`SessionEvent::ClientResponse`) to the instance that has it.
pub struct Correlator {
    prefix: String,
    next: AtomicU64,
    pending: Mutex<HashMap<(Arc<str>, Id), Waiter>>,
}

impl Correlator {
    pub fn new(prefix: impl Into<String>) -> Self {
        Correlator { prefix: prefix.into(), next: AtomicU64::new(1), pending: Mutex::new(HashMap::new()) }
    }

    /// A correlator with a random id prefix (one per process).
    pub fn random() -> Self {
        let tag: u32 = rand::random();
        Self::new(format!("s{tag:08x}"))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(Arc<str>, Id), Waiter>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Allocate an id and wait for its answer.
    pub fn register(&self, session: &Arc<str>) -> (Id, oneshot::Receiver<Result<Value, McpError>>) {
        let id = Id::Str(format!("{}-{}", self.prefix, self.next.fetch_add(1, Ordering::Relaxed)));
        let (tx, rx) = oneshot::channel();
        self.lock().insert((session.clone(), id.clone()), tx);
        (id, rx)
    }

    /// Deliver an answer; `false` when nobody here waits for it.
    pub fn resolve(&self, session: &str, id: &Id, answer: Result<Value, McpError>) -> bool {
        let waiter = self.lock().remove(&(Arc::from(session), id.clone()));
        match waiter {
            Some(w) => {
                let _ = w.send(answer);
                true
            }
            None => false,
        }
    }

    pub fn forget(&self, session: &Arc<str>, id: &Id) {
        self.lock().remove(&(session.clone(), id.clone()));
    }

    /// Fail everything a session still waits for (the session ended).
    pub fn drop_session(&self, session: &str) {
        self.lock().retain(|(s, _), _| &**s != session);
    }

    pub fn pending(&self) -> usize {
        self.lock().len()
    }
}

/// Sends server-initiated requests on a channel the transport writes to the client (the
/// stream of the POST that caused them, an HTTP+SSE stream, stdout) and waits for the
/// answer, with a timeout after which the request is cancelled.
pub struct LiveRequester {
    pub out: mpsc::Sender<Vec<u8>>,
    pub correlator: Arc<Correlator>,
    pub session: Arc<str>,
    pub timeout: Duration,
}

impl ClientRequester for LiveRequester {
    fn request(&self, method: &'static str, params: Value) -> BoxFuture<'_, Result<Value, McpError>> {
        Box::pin(async move {
            let (id, rx) = self.correlator.register(&self.session);
            let mut out = Vec::with_capacity(128);
            write_request(&mut out, &id, method, &params);
            if self.out.send(out).await.is_err() {
                self.correlator.forget(&self.session, &id);
                return Err(McpError::internal("the client is gone"));
            }
            match tokio::time::timeout(self.timeout, rx).await {
                Ok(Ok(answer)) => answer,
                Ok(Err(_)) => Err(McpError::internal("the session ended before the client answered")),
                Err(_) => {
                    self.correlator.forget(&self.session, &id);
                    let mut note = Vec::with_capacity(96);
                    let params = serde_json::json!({ "requestId": id, "reason": "timed out" });
                    write_notification(&mut note, "notifications/cancelled", &params);
                    let _ = self.out.try_send(note);
                    Err(McpError::internal(format!(
                        "the client did not answer {method} within {} s",
                        self.timeout.as_secs()
                    )))
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_ops_apply() {
        let mut s = SessionData::default();
        assert!(SessionOp::SetLevel(LogLevel::Debug).apply(&mut s));
        assert_eq!(s.log_level, Some(LogLevel::Debug));
        assert!(SessionOp::Subscribe("a".into()).apply(&mut s));
        assert!(!SessionOp::Subscribe("a".into()).apply(&mut s));
        assert!(SessionOp::Unsubscribe("a".into()).apply(&mut s));
        assert!(s.subscriptions.resource_subscriptions.is_empty());
    }

    #[tokio::test]
    async fn correlator_matches_session_and_id() {
        let c = Correlator::new("t");
        let a: Arc<str> = "A".into();
        let (id, rx) = c.register(&a);
        assert!(!c.resolve("B", &id, Ok(Value::Null)), "another session cannot answer");
        assert!(c.resolve("A", &id, Ok(serde_json::json!({"ok": true}))));
        assert_eq!(rx.await.unwrap().unwrap()["ok"], true);
        let (_id, rx) = c.register(&a);
        c.drop_session("A");
        assert!(rx.await.is_err());
        assert_eq!(c.pending(), 0);
    }
}
