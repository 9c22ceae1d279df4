//! Authentication against the Hub: an [`Authenticator`] that validates bearer tokens with
//! `GET /api/whoami-v2` and caches the verdict for a short TTL, keyed by a hash of the
//! token (the raw token is never stored as a key, logged or put in an error).
//!
//! * valid → the caller is identified by the token hash and keeps the bearer (forwarded to
//!   the Hub and to Spaces);
//! * rejected by the Hub (401) or not a well-formed token → `401` with the
//!   `WWW-Authenticate` challenge (the verdict is cached too, so a bad token cannot make
//!   every request cost a Hub call);
//! * the Hub unreachable, rate-limited or failing → the request proceeds (as the hosted
//!   server does: every Hub call still carries the token, and the Hub still checks it),
//!   with a shorter cache so validation is retried soon.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use mcp_engine::auth::{token_hash, AuthRejection, Authenticator};
use mcp_engine::protocol::Caller;
use mcp_telemetry::Telemetry;

use crate::cache::TtlCache;
use crate::client::{HubClient, HubErrorKind, Service};

/// How long verdicts are cached.
#[derive(Debug, Clone)]
pub struct WhoamiConfig {
    /// A valid token.
    pub ttl: Duration,
    /// A token the Hub rejected.
    pub invalid_ttl: Duration,
    /// A token that could not be checked (Hub unavailable).
    pub unverified_ttl: Duration,
    /// Tokens remembered at most.
    pub capacity: usize,
}

impl Default for WhoamiConfig {
    fn default() -> Self {
        WhoamiConfig {
            ttl: Duration::from_secs(60),
            invalid_ttl: Duration::from_secs(60),
            unverified_ttl: Duration::from_secs(10),
            capacity: 100_000,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    Valid,
    Invalid,
    Unverified,
}

/// Validates tokens with the Hub's `whoami-v2`.
pub struct WhoamiAuthenticator {
    client: HubClient,
    config: WhoamiConfig,
    verdicts: TtlCache<Arc<str>, Verdict>,
    telemetry: Telemetry,
}

impl WhoamiAuthenticator {
    pub fn new(client: HubClient, config: WhoamiConfig) -> Self {
        let verdicts = TtlCache::new(config.ttl, config.capacity);
        WhoamiAuthenticator { client, config, verdicts, telemetry: Telemetry::disabled() }
    }

    /// Count verdict cache hits and misses (cache `whoami`).
    pub fn with_telemetry(mut self, telemetry: Telemetry) -> Self {
        self.telemetry = telemetry;
        self
    }

    async fn verdict(&self, id: &Arc<str>, bearer: &str) -> Verdict {
        if let Some(v) = self.verdicts.get(id) {
            self.telemetry.cache("whoami", true);
            return v;
        }
        self.telemetry.cache("whoami", false);
        // A malformed token is refused before any request, as Unauthorized.
        let (verdict, ttl) = match self.client.get_json(Some(bearer), Service::Hub, "/api/whoami-v2", &[]).await {
            Ok(body) => {
                if let Some(name) = body.get("name").and_then(|n| n.as_str()) {
                    self.client.remember_name(id.clone(), name);
                }
                (Verdict::Valid, self.config.ttl)
            }
            Err(e) if e.kind() == HubErrorKind::Unauthorized || e.status() == Some(401) => {
                (Verdict::Invalid, self.config.invalid_ttl)
            }
            Err(e) => {
                tracing::debug!(kind = %e.kind(), status = e.status(), "token validation unavailable; proceeding");
                (Verdict::Unverified, self.config.unverified_ttl)
            }
        };
        self.verdicts.insert_with_ttl(id.clone(), verdict, ttl);
        verdict
    }
}

impl Authenticator for WhoamiAuthenticator {
    fn authenticate<'a>(&'a self, bearer: &'a str) -> BoxFuture<'a, Result<Caller, AuthRejection>> {
        Box::pin(async move {
            let id: Arc<str> = token_hash(bearer).into();
            match self.verdict(&id, bearer).await {
                Verdict::Valid | Verdict::Unverified => Ok(Caller { id: Some(id), bearer: Some(bearer.into()) }),
                Verdict::Invalid => Err(AuthRejection::invalid_token(
                    "the Hugging Face token is invalid, expired or revoked; sign in again or create a token at \
                     https://huggingface.co/settings/tokens",
                )),
            }
        })
    }
}
