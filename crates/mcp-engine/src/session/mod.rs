//! The session era's lifecycle, written once and shared by every transport that has
//! sessions: stdio's implicit session, Streamable HTTP sessions and HTTP+SSE.
//!
//! - this file: what the methods mean — `initialize` and version negotiation,
//!   `logging/setLevel`, `resources/(un)subscribe`, the request description handlers
//!   see, which change notifications a session gets;
//! - [`driver`]: the one message loop (client answers, notifications, `initialize`,
//!   session operations, dispatch) every session transport feeds;
//! - [`live`]: the parts of sessions bound to this process (running handlers, open
//!   streams, waiters) and the session-era limits;
//! - [`correlator`]: server-initiated requests matched with the client's answers.
//!
//! Session state lives in a [`crate::store::SessionStore`] (stdio's implicit session too),
//! stream history in an [`crate::store::EventLog`]. Transports only frame bytes.

pub(crate) mod correlator;
pub(crate) mod driver;
pub mod live;

use serde_json::value::RawValue;
use serde_json::Value;

use crate::dispatch::Engine;
use crate::jsonrpc::{write_notification, Id, JsonObject, McpError};
use crate::method::Method;
use crate::notify::{ChangeEvent, SubscriptionFilter};
use crate::protocol::{Caller, Era, HttpRequestParts, LogLevel, Params, RequestInfo, Transport};
use crate::store::SessionData;

pub use correlator::{Correlator, LiveRequester};
pub use live::{LiveSessions, SessionConfig};

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
    let (version, result) = engine.initialize_result(init.protocol_version.as_deref(), Some(caller));
    // A session hears every list change the server can announce; resource updates only
    // for the URIs it subscribes to.
    let subscriptions = SubscriptionFilter {
        tools_list_changed: true,
        prompts_list_changed: true,
        resources_list_changed: true,
        resource_subscriptions: Vec::new(),
        task_ids: Vec::new(),
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
    /// `Some` for the methods the table marks as session operations.
    pub fn parse(engine: &Engine, method: Method, params: &Params<'_>) -> Option<Result<SessionOp, McpError>> {
        if !method.spec().session_op {
            return None;
        }
        let name = method.name();
        match method {
            Method::LoggingSetLevel => {
                if engine.capabilities().get("logging").is_none() {
                    return Some(Err(McpError::method_not_found(name)));
                }
                #[derive(serde::Deserialize)]
                struct SetLevel {
                    level: LogLevel,
                }
                Some(params.typed::<SetLevel>().map(|p| SessionOp::SetLevel(p.level)))
            }
            _ => {
                let can = engine.capabilities().pointer("/resources/subscribe").and_then(Value::as_bool) == Some(true);
                if !can {
                    return Some(Err(McpError::method_not_found(name)));
                }
                Some(match params.uri.as_deref() {
                    None => Err(McpError::invalid_params("Invalid params: uri is required")),
                    Some(uri) if method == Method::ResourcesSubscribe => Ok(SessionOp::Subscribe(uri.to_owned())),
                    Some(uri) => Ok(SessionOp::Unsubscribe(uri.to_owned())),
                })
            }
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
        era: Era::Session,
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
}
