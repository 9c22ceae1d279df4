//! Space discovery: metadata from the Hub (`/api/spaces/{id}`: subdomain, private, sdk,
//! hardware) and tool schemas from the Space (`/gradio_api/mcp/schema`), both cached for a
//! TTL and revalidated with `If-None-Match` when stale (and served stale while the Hub or the
//! Space fails to answer the revalidation). Private Spaces are never cached
//! (their metadata and schema are fetched with the caller's token every time). Fetches are
//! bounded in concurrency (one semaphore for the process), time and size.

use std::sync::Arc;

use serde_json::Value;
use tokio::sync::Semaphore;

use super::net::{valid_subdomain, SpaceNetwork};
use super::schema::{parse_schema, SchemaForm, SpaceTool};
use super::GradioConfig;
use mcp_telemetry::Telemetry;

use crate::cache::{Lookup, TtlCache};
use crate::client::{Conditional, HubClient, HubErrorKind, Token};

/// What the Hub says about a Space.
#[derive(Debug, Clone, PartialEq)]
pub struct SpaceMeta {
    /// `owner/name`.
    pub name: String,
    pub subdomain: String,
    pub private: bool,
    pub sdk: Option<String>,
    /// Current (else requested) hardware flavour, e.g. `zero-a10g`, `cpu-basic`.
    pub hardware: Option<String>,
    /// Runtime stage (`RUNNING`, `SLEEPING`, `RUNTIME_ERROR`, …).
    pub stage: Option<String>,
    pub title: Option<String>,
    pub emoji: Option<String>,
}

impl SpaceMeta {
    /// Does the Space run on a GPU (ZeroGPU included)? Calls then spend GPU quota.
    pub fn is_gpu(&self) -> bool {
        self.hardware.as_deref().is_some_and(|h| {
            let h = h.to_ascii_lowercase();
            !h.starts_with("cpu") && !h.is_empty()
        })
    }

    fn from_json(name: &str, v: &Value) -> Result<SpaceMeta, DiscoveryError> {
        let subdomain = v
            .get("subdomain")
            .and_then(Value::as_str)
            .ok_or_else(|| DiscoveryError::new(Failure::NotGradio, format!("the Space {name} has no subdomain")))?;
        if !valid_subdomain(subdomain) {
            return Err(DiscoveryError::new(Failure::Refused, format!("the Space {name} has an invalid subdomain")));
        }
        let runtime = v.get("runtime");
        let hw = runtime.and_then(|r| r.get("hardware"));
        let hardware = hw
            .and_then(|h| {
                h.get("current").and_then(Value::as_str).or_else(|| h.get("requested").and_then(Value::as_str))
            })
            .map(str::to_owned);
        let card = v.get("cardData");
        Ok(SpaceMeta {
            name: name.to_owned(),
            subdomain: subdomain.to_owned(),
            private: v.get("private").and_then(Value::as_bool).unwrap_or(false),
            sdk: v.get("sdk").and_then(Value::as_str).map(str::to_owned),
            hardware,
            stage: runtime.and_then(|r| r.get("stage")).and_then(Value::as_str).map(str::to_owned),
            title: card.and_then(|c| c.get("title")).and_then(Value::as_str).map(str::to_owned),
            emoji: card.and_then(|c| c.get("emoji")).and_then(Value::as_str).map(str::to_owned),
        })
    }
}

/// A Space's tools.
#[derive(Debug, Clone, PartialEq)]
pub struct SpaceSchema {
    pub form: SchemaForm,
    pub tools: Vec<SpaceTool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Unknown Space, or private and not visible to this caller.
    NotFound,
    /// Not a Gradio MCP Space (no subdomain, no schema).
    NotGradio,
    /// The Space or the Hub failed or is not running.
    Unavailable,
    Timeout,
    /// Outbound policy refused the connection.
    Refused,
    /// The answer could not be understood or was too large.
    Invalid,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DiscoveryError {
    pub failure: Failure,
    pub message: String,
}

impl DiscoveryError {
    pub fn new(failure: Failure, message: impl Into<String>) -> Self {
        DiscoveryError { failure, message: message.into() }
    }
}

impl std::fmt::Display for DiscoveryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// `owner/name`, each a non-empty segment of letters, digits, `-`, `_`, `.`.
pub fn valid_space_name(s: &str) -> bool {
    let mut parts = s.split('/');
    let ok = |p: Option<&str>| {
        p.is_some_and(|p| {
            !p.is_empty()
                && p.len() <= 96
                && p != "."
                && p != ".."
                && p.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        })
    };
    ok(parts.next()) && ok(parts.next()) && parts.next().is_none()
}

type MetaEntry = (Arc<SpaceMeta>, Option<String>);
type SchemaEntry = (Arc<SpaceSchema>, Option<String>);

/// Discovery with its caches; one per process.
pub struct Discovery {
    hub: HubClient,
    http: reqwest::Client,
    net: SpaceNetwork,
    config: GradioConfig,
    meta: TtlCache<String, MetaEntry>,
    schemas: TtlCache<String, SchemaEntry>,
    permits: Semaphore,
    telemetry: Telemetry,
}

impl Discovery {
    pub fn new(hub: HubClient, http: reqwest::Client, config: GradioConfig, telemetry: Telemetry) -> Self {
        Discovery {
            telemetry,
            hub,
            http,
            net: config.network.clone(),
            meta: TtlCache::new(config.metadata_ttl, 10_000),
            schemas: TtlCache::new(config.schema_ttl, 10_000),
            permits: Semaphore::new(config.discovery_concurrency.max(1)),
            config,
        }
    }

    pub fn network(&self) -> &SpaceNetwork {
        &self.net
    }

    pub fn hub(&self) -> &HubClient {
        &self.hub
    }

    /// Space metadata (cached for public Spaces).
    pub async fn meta(&self, name: &str, token: Option<&str>) -> Result<Arc<SpaceMeta>, DiscoveryError> {
        if !valid_space_name(name) {
            return Err(DiscoveryError::new(
                Failure::NotFound,
                format!("'{name}' is not a Space id (expected owner/space-name)"),
            ));
        }
        let stale = match self.meta.lookup(name) {
            Lookup::Fresh((m, _)) => {
                self.telemetry.cache("space_metadata", true);
                return Ok(m);
            }
            Lookup::Stale(e) => Some(e),
            Lookup::Missing => None,
        };
        let token = match token.map(Token::new) {
            Some(Ok(t)) => Some(t),
            _ => None,
        };
        self.telemetry.cache("space_metadata", false);
        let etag = stale.as_ref().and_then(|(_, e)| e.as_deref());
        let _permit = self.permits.acquire().await.expect("semaphore open");
        let fetched = tokio::time::timeout(
            self.config.space_info_timeout,
            self.hub.space_info_conditional(name, etag, token.as_ref()),
        )
        .await;
        let fetched = match fetched {
            Err(_) => {
                let e = DiscoveryError::new(
                    Failure::Timeout,
                    format!("the Hub did not describe the Space {name} within {:?}", self.config.space_info_timeout),
                );
                return stale_if_error(e, stale.map(|(m, _)| m));
            }
            Ok(r) => r,
        };
        match fetched {
            Ok(Conditional::NotModified) => match stale {
                Some((m, _)) => {
                    self.meta.touch(name);
                    Ok(m)
                }
                None => Err(DiscoveryError::new(Failure::Invalid, "the Hub answered 304 without a cached entry")),
            },
            Ok(Conditional::Fresh { value, etag }) => {
                let meta = Arc::new(SpaceMeta::from_json(name, &value)?);
                if meta.private {
                    self.meta.remove(name);
                } else {
                    self.meta.insert(name.to_owned(), (meta.clone(), etag));
                }
                Ok(meta)
            }
            Err(e) => {
                let failure = match e.kind() {
                    HubErrorKind::RepoNotFound | HubErrorKind::NotFound | HubErrorKind::Unauthorized => {
                        Failure::NotFound
                    }
                    HubErrorKind::Timeout => Failure::Timeout,
                    HubErrorKind::InvalidResponse | HubErrorKind::InvalidInput | HubErrorKind::BadRequest => {
                        Failure::Invalid
                    }
                    _ => Failure::Unavailable,
                };
                let message = match failure {
                    Failure::NotFound => {
                        format!("the Space {name} was not found (or is private and not visible with this token)")
                    }
                    _ => format!("the Hub could not describe the Space {name}: {}", e.message()),
                };
                stale_if_error(DiscoveryError::new(failure, message), stale.map(|(m, _)| m))
            }
        }
    }

    /// The Space's tools (cached for public Spaces).
    pub async fn schema(&self, meta: &SpaceMeta, token: Option<&str>) -> Result<Arc<SpaceSchema>, DiscoveryError> {
        let key = meta.subdomain.as_str();
        let stale = if meta.private {
            None
        } else {
            match self.schemas.lookup(key) {
                Lookup::Fresh((s, _)) => {
                    self.telemetry.cache("space_schema", true);
                    return Ok(s);
                }
                Lookup::Stale(e) => Some(e),
                Lookup::Missing => None,
            }
        };
        self.telemetry.cache("space_schema", false);
        let fallback = stale.as_ref().map(|(s, _)| s.clone());
        match self.fetch_schema(meta, token, stale).await {
            Err(e) => stale_if_error(e, fallback),
            ok => ok,
        }
    }

    /// Fetch (or revalidate `stale`) a Space's schema, caching it for public Spaces.
    async fn fetch_schema(
        &self,
        meta: &SpaceMeta,
        token: Option<&str>,
        stale: Option<SchemaEntry>,
    ) -> Result<Arc<SpaceSchema>, DiscoveryError> {
        let key = meta.subdomain.as_str();
        let url = self
            .net
            .url(&meta.subdomain, "/gradio_api/mcp/schema")
            .map_err(|e| DiscoveryError::new(Failure::Refused, e.0))?;
        let mut req = self.http.get(url).header("accept", "application/json").timeout(self.config.schema_timeout);
        if meta.private {
            if let Some(t) = token {
                req = req.header("x-hf-authorization", sensitive_bearer(t));
            }
        }
        if let Some(etag) = stale.as_ref().and_then(|(_, e)| e.as_deref()) {
            req = req.header("if-none-match", etag);
        }
        let what = &meta.name;
        let host = super::space_host(&self.net, &meta.subdomain);
        let breakers = self.hub.breakers();
        breakers.admit("space", &host).map_err(|open| {
            DiscoveryError::new(Failure::Unavailable, format!("the Space {what} is failing: {open}"))
        })?;
        let _permit = self.permits.acquire().await.expect("semaphore open");
        let resp = req.send().await.map_err(|e| {
            let e = transport_error(&e, what, "its tool schema");
            if e.failure != Failure::Refused {
                breakers.record("space", &host, false);
            }
            e
        })?;
        let status = resp.status();
        breakers.record("space", &host, status.as_u16() < 500);
        if status.as_u16() == 304 {
            if let Some((s, _)) = stale {
                self.schemas.touch(key);
                return Ok(s);
            }
        }
        if !status.is_success() {
            let failure = match status.as_u16() {
                401 | 403 | 404 => Failure::NotFound,
                _ => Failure::Unavailable,
            };
            return Err(DiscoveryError::new(
                failure,
                format!("the Space {what} answered HTTP {} for its tool schema", status.as_u16()),
            ));
        }
        let etag = resp.headers().get("etag").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let body = read_capped(resp, self.config.max_schema_bytes)
            .await
            .map_err(|e| DiscoveryError::new(Failure::Invalid, format!("the tool schema of {what}: {e}")))?;
        let doc: Value = serde_json::from_slice(&body)
            .map_err(|_| DiscoveryError::new(Failure::Invalid, format!("the tool schema of {what} is not JSON")))?;
        let (form, tools) = parse_schema(&doc)
            .map_err(|e| DiscoveryError::new(Failure::NotGradio, format!("the tool schema of {what}: {e}")))?;
        let schema = Arc::new(SpaceSchema { form, tools });
        if !meta.private {
            self.schemas.insert(key.to_owned(), (schema.clone(), etag));
        }
        Ok(schema)
    }

    /// Metadata and schema of several Spaces concurrently (bounded by the semaphore), in
    /// the order given.
    pub async fn resolve_all(
        &self,
        names: &[String],
        token: Option<&str>,
    ) -> Vec<Result<(Arc<SpaceMeta>, Arc<SpaceSchema>), DiscoveryError>> {
        futures_util::future::join_all(names.iter().map(|name| self.resolve_one(name, token))).await
    }

    async fn resolve_one(
        &self,
        name: &str,
        token: Option<&str>,
    ) -> Result<(Arc<SpaceMeta>, Arc<SpaceSchema>), DiscoveryError> {
        let meta = self.meta(name, token).await?;
        let schema = self.schema(&meta, token).await?;
        Ok((meta, schema))
    }
}

/// Stale-if-error: when the Hub or the Space is failing (down, timing out, circuit open),
/// keep serving what was known, so a flapping Space keeps its tools listed and its calls get
/// the breaker's "retry after" instead of an unknown tool.
fn stale_if_error<T>(e: DiscoveryError, stale: Option<T>) -> Result<T, DiscoveryError> {
    match stale {
        Some(known) if matches!(e.failure, Failure::Unavailable | Failure::Timeout) => {
            tracing::debug!("serving a stale Space entry: {}", e.message);
            Ok(known)
        }
        _ => Err(e),
    }
}

/// `Bearer <token>` as a header value marked sensitive (kept out of HTTP debug output).
pub(crate) fn sensitive_bearer(token: &str) -> reqwest::header::HeaderValue {
    let mut v = reqwest::header::HeaderValue::from_str(&format!("Bearer {token}"))
        .unwrap_or_else(|_| reqwest::header::HeaderValue::from_static("Bearer invalid"));
    v.set_sensitive(true);
    v
}

/// A transport failure described without the URL's secrets (there are none in Space URLs,
/// but the message stays generic and short).
pub(crate) fn transport_error(e: &reqwest::Error, space: &str, what: &str) -> DiscoveryError {
    let policy = std::error::Error::source(e).and_then(find_refusal).map(|r| r.to_owned());
    if let Some(r) = policy {
        return DiscoveryError::new(Failure::Refused, format!("the connection to the Space {space} was refused: {r}"));
    }
    if e.is_timeout() {
        DiscoveryError::new(Failure::Timeout, format!("the Space {space} did not answer in time ({what})"))
    } else {
        DiscoveryError::new(Failure::Unavailable, format!("the Space {space} could not be reached ({what})"))
    }
}

fn find_refusal(mut e: &(dyn std::error::Error + 'static)) -> Option<String> {
    loop {
        if let Some(r) = e.downcast_ref::<super::net::Refused>() {
            return Some(r.0.clone());
        }
        e = e.source()?;
    }
}

/// Read a response body up to `cap` bytes.
pub(crate) async fn read_capped(mut resp: reqwest::Response, cap: usize) -> Result<Vec<u8>, String> {
    if resp.content_length().is_some_and(|n| n as usize > cap) {
        return Err(format!("the answer is larger than {cap} bytes"));
    }
    let mut buf = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|_| "the connection broke while reading".to_owned())? {
        if buf.len() + chunk.len() > cap {
            return Err(format!("the answer is larger than {cap} bytes"));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn space_names_and_meta() {
        assert!(valid_space_name("evalstate/flux1_schnell"));
        for bad in ["", "a", "a/b/c", "/b", "a/", "a/..", "a b/c", "a/b?x"] {
            assert!(!valid_space_name(bad), "{bad}");
        }
        let m = SpaceMeta::from_json(
            "a/b",
            &json!({"subdomain": "a-b", "private": false, "sdk": "gradio",
                    "runtime": {"stage": "RUNNING", "hardware": {"current": "zero-a10g", "requested": "zero-a10g"}},
                    "cardData": {"title": "B", "emoji": "⚡"}}),
        )
        .unwrap();
        assert!(m.is_gpu());
        assert_eq!((m.title.as_deref(), m.stage.as_deref()), (Some("B"), Some("RUNNING")));
        let cpu = SpaceMeta::from_json(
            "a/b",
            &json!({"subdomain": "a-b", "runtime": {"hardware": {"current": null, "requested": "cpu-basic"}}}),
        )
        .unwrap();
        assert!(!cpu.is_gpu());
        assert_eq!(
            SpaceMeta::from_json("a/b", &json!({"subdomain": "evil.com"})).unwrap_err().failure,
            Failure::Refused
        );
    }
}
