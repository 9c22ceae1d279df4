//! The bus's wire format: private mirrors of the engine's [`ChangeEvent`], [`Audience`]
//! and [`SessionEvent`], serialized as JSON. The engine's types stay free of serde; the
//! conversions below match exhaustively in both directions, so a variant added to the
//! engine fails to compile here instead of being dropped silently.
//!
//! Field names are short: every message crosses Redis once per instance.

use std::sync::Arc;

use mcp_engine::jsonrpc::Id;
use mcp_engine::notify::TaskSignal;
use mcp_engine::{Audience, ChangeEvent, SessionEvent};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
#[serde(tag = "k")]
enum WireChange {
    #[serde(rename = "tools")]
    ToolsListChanged {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<String>,
    },
    #[serde(rename = "prompts")]
    PromptsListChanged {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<String>,
    },
    #[serde(rename = "resources")]
    ResourcesListChanged {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<String>,
    },
    #[serde(rename = "updated")]
    ResourceUpdated { uri: String },
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "k")]
enum WireSession {
    #[serde(rename = "ended")]
    Ended { s: String },
    #[serde(rename = "answer")]
    ClientResponse { s: String, id: Id, ok: bool, body: serde_json::Value },
    #[serde(rename = "cancel")]
    Cancelled { s: String, r: Id },
    /// `m`: a JSON-RPC message, as text (an internally tagged enum cannot hold raw JSON).
    #[serde(rename = "out")]
    Outbound { s: String, m: String },
    #[serde(rename = "push")]
    PushMoved { s: String, t: String },
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "k")]
enum WireTask {
    #[serde(rename = "answered")]
    Answered { t: String },
    #[serde(rename = "cancelled")]
    Cancelled { t: String },
    #[serde(rename = "changed")]
    Changed { t: String, o: String },
}

pub(crate) fn encode_task(s: &TaskSignal) -> Vec<u8> {
    let w = match s {
        TaskSignal::Answered { task } => WireTask::Answered { t: task.to_string() },
        TaskSignal::Cancelled { task } => WireTask::Cancelled { t: task.to_string() },
        TaskSignal::Changed { task, origin } => WireTask::Changed { t: task.to_string(), o: origin.to_string() },
    };
    serde_json::to_vec(&w).expect("wire task signal serializes")
}

pub(crate) fn decode_task(raw: &[u8]) -> Result<TaskSignal, serde_json::Error> {
    Ok(match serde_json::from_slice(raw)? {
        WireTask::Answered { t } => TaskSignal::Answered { task: Arc::from(t) },
        WireTask::Cancelled { t } => TaskSignal::Cancelled { task: Arc::from(t) },
        WireTask::Changed { t, o } => TaskSignal::Changed { task: Arc::from(t), origin: Arc::from(o) },
    })
}

/// `None` = everyone.
fn audience_out(a: &Audience) -> Option<String> {
    match a {
        Audience::Everyone => None,
        Audience::Caller(id) => Some(id.to_string()),
    }
}

fn audience_in(to: Option<String>) -> Audience {
    match to {
        None => Audience::Everyone,
        Some(id) => Audience::Caller(Arc::from(id)),
    }
}

pub(crate) fn encode_change(e: &ChangeEvent) -> Vec<u8> {
    let w = match e {
        ChangeEvent::ToolsListChanged(a) => WireChange::ToolsListChanged { to: audience_out(a) },
        ChangeEvent::PromptsListChanged(a) => WireChange::PromptsListChanged { to: audience_out(a) },
        ChangeEvent::ResourcesListChanged(a) => WireChange::ResourcesListChanged { to: audience_out(a) },
        ChangeEvent::ResourceUpdated { uri } => WireChange::ResourceUpdated { uri: uri.clone() },
    };
    serde_json::to_vec(&w).expect("wire change serializes")
}

pub(crate) fn decode_change(raw: &[u8]) -> Result<ChangeEvent, serde_json::Error> {
    Ok(match serde_json::from_slice(raw)? {
        WireChange::ToolsListChanged { to } => ChangeEvent::ToolsListChanged(audience_in(to)),
        WireChange::PromptsListChanged { to } => ChangeEvent::PromptsListChanged(audience_in(to)),
        WireChange::ResourcesListChanged { to } => ChangeEvent::ResourcesListChanged(audience_in(to)),
        WireChange::ResourceUpdated { uri } => ChangeEvent::ResourceUpdated { uri },
    })
}

pub(crate) fn encode_session(e: &SessionEvent) -> Vec<u8> {
    let w = match e {
        SessionEvent::Ended { session } => WireSession::Ended { s: session.to_string() },
        SessionEvent::ClientResponse { session, id, ok, body } => {
            WireSession::ClientResponse { s: session.to_string(), id: id.clone(), ok: *ok, body: body.clone() }
        }
        SessionEvent::Cancelled { session, request } => {
            WireSession::Cancelled { s: session.to_string(), r: request.clone() }
        }
        SessionEvent::Outbound { session, message } => {
            // Messages are JSON the engine wrote, so UTF-8.
            WireSession::Outbound { s: session.to_string(), m: String::from_utf8_lossy(message).into_owned() }
        }
        SessionEvent::PushMoved { session, token } => {
            WireSession::PushMoved { s: session.to_string(), t: token.clone() }
        }
    };
    serde_json::to_vec(&w).expect("wire session event serializes")
}

pub(crate) fn decode_session(raw: &[u8]) -> Result<SessionEvent, serde_json::Error> {
    Ok(match serde_json::from_slice(raw)? {
        WireSession::Ended { s } => SessionEvent::Ended { session: Arc::from(s) },
        WireSession::ClientResponse { s, id, ok, body } => {
            SessionEvent::ClientResponse { session: Arc::from(s), id, ok, body }
        }
        WireSession::Cancelled { s, r } => SessionEvent::Cancelled { session: Arc::from(s), request: r },
        WireSession::Outbound { s, m } => {
            SessionEvent::Outbound { session: Arc::from(s), message: bytes::Bytes::from(m) }
        }
        WireSession::PushMoved { s, t } => SessionEvent::PushMoved { session: Arc::from(s), token: t },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_round_trips() {
        let changes = [
            ChangeEvent::ToolsListChanged(Audience::Everyone),
            ChangeEvent::ToolsListChanged(Audience::Caller("u1".into())),
            ChangeEvent::PromptsListChanged(Audience::Everyone),
            ChangeEvent::ResourcesListChanged(Audience::Caller("u2".into())),
            ChangeEvent::ResourceUpdated { uri: "hf://x".into() },
        ];
        for c in changes {
            assert_eq!(decode_change(&encode_change(&c)).unwrap(), c);
        }
        let sessions = [
            SessionEvent::Ended { session: "s1".into() },
            SessionEvent::ClientResponse {
                session: "s1".into(),
                id: Id::Num(7),
                ok: true,
                body: serde_json::json!({"action": "accept"}),
            },
            SessionEvent::ClientResponse {
                session: "s1".into(),
                id: Id::Str("x".into()),
                ok: false,
                body: serde_json::json!({"code": -1}),
            },
            SessionEvent::Cancelled { session: "s2".into(), request: Id::Str("r".into()) },
            SessionEvent::Outbound {
                session: "s3".into(),
                message: bytes::Bytes::from_static(br#"{"jsonrpc":"2.0","id":1,"result":{}}"#),
            },
            SessionEvent::PushMoved { session: "s3".into(), token: "t1".into() },
        ];
        for s in sessions {
            assert_eq!(decode_session(&encode_session(&s)).unwrap(), s);
        }
        assert!(decode_change(b"{\"k\":\"future\"}").is_err());
        for s in [
            TaskSignal::Answered { task: "t1".into() },
            TaskSignal::Cancelled { task: "t2".into() },
            TaskSignal::Changed { task: "t3".into(), origin: "i1".into() },
        ] {
            let back = decode_task(&encode_task(&s)).unwrap();
            assert_eq!(format!("{back:?}"), format!("{s:?}"));
        }
    }
}
