//! Sealing of the stateless era's `requestState`.
//!
//! The client echoes `requestState` back verbatim, so it is attacker-controlled input.
//! The engine seals it with HMAC-SHA256 under a server key and binds it to the method,
//! the target (tool, prompt or resource), the caller's identity and an expiry. Any
//! instance holding the same key can open it, which keeps multi-round calls stateless.
//! The payload is signed, not encrypted: it holds only the handler's own state and the
//! answers this same client sent in earlier rounds.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::Sha256;

use crate::jsonrpc::{JsonObject, McpError};

type HmacSha256 = Hmac<Sha256>;

/// Seals and opens request state. Cheap to share.
#[derive(Clone)]
pub struct Sealer {
    key: [u8; 32],
    ttl: Duration,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealer").field("key", &"<redacted>").field("ttl", &self.ttl).finish()
    }
}

/// What a sealed state binds and carries.
#[derive(Debug, Serialize, Deserialize)]
struct Payload {
    v: u8,
    /// method
    m: String,
    /// target: tool or prompt name, or resource URI
    t: String,
    /// caller binding
    c: String,
    /// expiry, unix seconds
    e: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    s: Option<Value>,
    #[serde(default, skip_serializing_if = "JsonObject::is_empty")]
    a: JsonObject,
}

/// The opened contents of a valid state.
#[derive(Debug, Default)]
pub struct Opened {
    pub state: Option<Value>,
    pub answers: JsonObject,
}

impl Sealer {
    /// A sealer with a key derived from `secret` (any length; hashed to 32 bytes).
    pub fn new(secret: &[u8], ttl: Duration) -> Self {
        use sha2::Digest;
        let key: [u8; 32] = Sha256::digest(secret).into();
        Sealer { key, ttl }
    }

    /// A sealer with a random key: state survives only within this process.
    pub fn random(ttl: Duration) -> Self {
        let secret: [u8; 32] = rand::random();
        Self::new(&secret, ttl)
    }

    pub fn seal(&self, method: &str, target: &str, caller: &str, state: Option<Value>, answers: JsonObject) -> String {
        let expires = now_secs() + self.ttl.as_secs().max(1);
        self.seal_until(method, target, caller, state, answers, expires)
    }

    fn seal_until(
        &self,
        method: &str,
        target: &str,
        caller: &str,
        state: Option<Value>,
        answers: JsonObject,
        expires: u64,
    ) -> String {
        let payload = Payload {
            v: 1,
            m: method.to_owned(),
            t: target.to_owned(),
            c: caller.to_owned(),
            e: expires,
            s: state,
            a: answers,
        };
        self.seal_bytes(&serde_json::to_vec(&payload).expect("payload serializes"))
    }

    /// Seal arbitrary payload bytes (public for the fuzz targets only: they reach the
    /// checks behind the MAC with payloads no real seal would carry).
    #[doc(hidden)]
    pub fn seal_bytes(&self, payload: &[u8]) -> String {
        let body = URL_SAFE_NO_PAD.encode(payload);
        let tag = URL_SAFE_NO_PAD.encode(self.mac(body.as_bytes()).finalize().into_bytes());
        format!("{body}.{tag}")
    }

    /// Verify and open a state. Every failure is the same -32602 to the client (the
    /// message says which check failed, which reveals nothing secret).
    pub fn open(&self, sealed: &str, method: &str, target: &str, caller: &str) -> Result<Opened, McpError> {
        let reject = |why: &str| McpError::invalid_params(format!("Invalid requestState: {why}"));
        let (body, tag) = sealed.split_once('.').ok_or_else(|| reject("malformed"))?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| reject("malformed"))?;
        // Constant-time comparison.
        self.mac(body.as_bytes()).verify_slice(&tag).map_err(|_| reject("integrity check failed"))?;
        let bytes = URL_SAFE_NO_PAD.decode(body).map_err(|_| reject("malformed"))?;
        let payload: Payload = serde_json::from_slice(&bytes).map_err(|_| reject("malformed"))?;
        if payload.v != 1 {
            return Err(reject("unknown version"));
        }
        if payload.e < now_secs() {
            return Err(reject("expired; start the request again without requestState"));
        }
        if payload.m != method || payload.t != target {
            return Err(reject("issued for a different request"));
        }
        if payload.c != caller {
            return Err(reject("issued to a different caller"));
        }
        Ok(Opened { state: payload.s, answers: payload.a })
    }

    fn mac(&self, data: &[u8]) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("any key length");
        mac.update(data);
        mac
    }
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealer() -> Sealer {
        Sealer::new(b"test key", Duration::from_secs(60))
    }

    #[test]
    fn round_trip_carries_state_and_answers() {
        let mut answers = JsonObject::new();
        answers.insert("step1".into(), serde_json::json!({"action":"accept"}));
        let s = sealer().seal("tools/call", "t", "anonymous", Some(serde_json::json!({"round": 2})), answers);
        let o = sealer().open(&s, "tools/call", "t", "anonymous").unwrap();
        assert_eq!(o.state.unwrap()["round"], 2);
        assert!(o.answers.contains_key("step1"));
    }

    #[test]
    fn rejects_tampering_binding_and_expiry() {
        let s = sealer().seal("tools/call", "t", "anonymous", None, JsonObject::new());
        assert!(sealer().open(&format!("{s}-TAMPERED"), "tools/call", "t", "anonymous").is_err());
        let (body, tag) = s.split_once('.').unwrap();
        let mut forged = body.to_owned();
        forged.insert(3, 'A');
        assert!(sealer().open(&format!("{forged}.{tag}"), "tools/call", "t", "anonymous").is_err());
        assert!(sealer().open(&s, "prompts/get", "t", "anonymous").is_err());
        assert!(sealer().open(&s, "tools/call", "other", "anonymous").is_err());
        assert!(sealer().open(&s, "tools/call", "t", "user-2").is_err());
        assert!(Sealer::new(b"other key", Duration::from_secs(60)).open(&s, "tools/call", "t", "anonymous").is_err());
        let expired = sealer().seal_until("tools/call", "t", "anonymous", None, JsonObject::new(), 1);
        let err = sealer().open(&expired, "tools/call", "t", "anonymous").unwrap_err();
        assert!(err.message.contains("expired"));
        assert!(sealer().open("garbage", "tools/call", "t", "anonymous").is_err());
    }
}
