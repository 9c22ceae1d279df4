//! The session store: what the server remembers about a session-era client between
//! requests. Sessions are created on `initialize` (or on `GET /sse`), touched by every
//! request, updated by `logging/setLevel` and `resources/(un)subscribe`, and removed by
//! `DELETE`, idle expiry or the end of an HTTP+SSE connection.

use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::StoreError;
use crate::notify::SubscriptionFilter;
use crate::protocol::LogLevel;
use futures_util::future::BoxFuture;

/// Everything known about a session. Serializable so a remote store can hold it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionData {
    /// The negotiated revision; `None` until `initialize` (HTTP+SSE creates the session first).
    pub protocol_version: Option<String>,
    /// The client's declared capabilities (an object).
    pub client_capabilities: Value,
    pub client_info: Option<Value>,
    /// Set by `logging/setLevel`; `None` sends no log messages.
    pub log_level: Option<LogLevel>,
    /// What the session listens to: list changes and subscribed resource URIs.
    pub subscriptions: SubscriptionFilter,
    /// The identity (a hash, never a token) of the caller who created the session; requests
    /// from anyone else are answered as if the session did not exist.
    pub caller: Option<String>,
    /// `notifications/initialized` arrived.
    pub initialized: bool,
    /// The open server-push GET stream, if any (one per session).
    pub push: Option<PushClaim>,
    /// Server pings on the push stream went unanswered too often.
    pub unresponsive: bool,
    /// An HTTP+SSE session: its one stream is held by some instance, which answers every
    /// message on it.
    #[serde(default)]
    pub http_sse: bool,
}

/// A lease on the session's server-push stream: held while the stream is open, renewed on
/// every keep-alive, and free again once released or expired (an instance that died
/// cannot block the session forever).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushClaim {
    pub token: String,
    /// Unix milliseconds.
    pub until_ms: u64,
}

impl SessionData {
    /// Take the push-stream lease unless someone else holds a live one.
    pub fn claim_push(&mut self, token: &str, now_ms: u64, until_ms: u64) -> bool {
        match &self.push {
            Some(c) if c.token != token && c.until_ms > now_ms => false,
            _ => {
                self.push = Some(PushClaim { token: token.to_owned(), until_ms });
                true
            }
        }
    }

    /// Take the lease whoever holds it (a client resuming its own push stream with
    /// `Last-Event-ID` replaces a connection the server has not yet noticed is dead).
    pub fn take_push(&mut self, token: &str, until_ms: u64) -> bool {
        self.push = Some(PushClaim { token: token.to_owned(), until_ms });
        true
    }

    /// Give the lease back if it is still ours.
    pub fn release_push(&mut self, token: &str) -> bool {
        if self.push.as_ref().is_some_and(|c| c.token == token) {
            self.push = None;
            true
        } else {
            false
        }
    }
}

/// A mutation applied atomically by [`SessionStore::update`]; returns `false` to leave the
/// session unchanged. A remote store may call it more than once (optimistic retries).
pub type Mutation<'a> = &'a (dyn Fn(&mut SessionData) -> bool + Send + Sync);

/// Session state behind an interface, so it can live outside this process.
pub trait SessionStore: Send + Sync + 'static {
    /// Store a new session and return its id. Fails with [`StoreError::Full`] at the cap.
    fn create(&self, data: SessionData) -> BoxFuture<'_, Result<Arc<str>, StoreError>>;

    /// Read a session without refreshing its idle timer.
    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Arc<SessionData>>, StoreError>>;

    /// Mark the session used now (restarting its idle timer) and return it.
    fn touch<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Arc<SessionData>>, StoreError>>;

    /// Apply `f` atomically. `None`: no such session; `Some(applied)` otherwise.
    fn update<'a>(&'a self, id: &'a str, f: Mutation<'a>) -> BoxFuture<'a, Result<Option<bool>, StoreError>>;

    /// Remove a session; `false` when it did not exist.
    fn delete<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<bool, StoreError>>;

    /// Can the store serve requests now? (`/readyz`; the in-memory store always can.)
    fn health(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async { Ok(()) })
    }

    /// Remove sessions idle for too long and return their ids, so the caller can announce
    /// their end. Stores that expire entries themselves return nothing.
    fn sweep(&self) -> BoxFuture<'_, Vec<Arc<str>>> {
        Box::pin(async { Vec::new() })
    }
}

/// A fresh session id: 256 bits from a cryptographically secure generator, base64url
/// (visible ASCII only, as the transport requires).
pub fn new_session_id() -> String {
    let bytes: [u8; 32] = rand::random();
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_visible_ascii_and_distinct() {
        let a = new_session_id();
        assert!(a.bytes().all(|b| (0x21..=0x7e).contains(&b)));
        assert_eq!(a.len(), 43);
        assert_ne!(a, new_session_id());
    }

    #[test]
    fn push_claim_is_exclusive_until_released_or_expired() {
        let mut d = SessionData::default();
        assert!(d.claim_push("a", 0, 100));
        assert!(!d.claim_push("b", 50, 150));
        assert!(d.claim_push("a", 50, 150), "renewal by the holder");
        assert!(d.claim_push("b", 200, 300), "an expired lease is free");
        assert!(!d.release_push("a"));
        assert!(d.release_push("b"));
        assert!(d.push.is_none());
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(serde_json::from_str::<SessionData>(&json).unwrap(), d);
    }
}
