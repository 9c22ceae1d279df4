//! The one way this crate speaks to the Hugging Face Hub: [`HubClient`], used by every tool,
//! the token check in `auth` and Space discovery. Response bodies stay raw JSON (the tools read
//! the fields they need); failures are one type, [`HubError`].
//!
//! * One [`reqwest::Client`] per [`HubClient`] (connection reuse); `HubClient` is an `Arc`
//!   inside, so clone it freely.
//! * Tokens are passed per call, sent as `Authorization: Bearer` and never appear in errors,
//!   `Debug` output or logs.
//! * Idempotent requests are retried on 429 / 5xx / connection failures with exponential
//!   backoff + jitter, honouring `Retry-After` (see [`RetryPolicy`]). Timeouts are not retried.
//! * Listings follow `Link: <...>; rel="next"` up to a caller-provided item count.
//! * Failures are [`HubError`]s with an actionable user-facing message and a retryable flag.
//! * Every host has a circuit breaker ([`Breakers`], shared with the Spaces client): after
//!   consecutive timeouts / connection failures / 5xx, calls fail fast for a while.

mod api;
mod breaker;
mod config;
mod error;
mod hook;
mod jobs_api;
mod link;
pub mod redirect;
mod retry;
mod token;
mod types;
mod write;
mod xet_upload;

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, ACCEPT, ACCEPT_ENCODING, AUTHORIZATION, IF_NONE_MATCH, LINK, RANGE};
use reqwest::Method;
use serde_json::Value;
use url::Url;

pub use api::{enc, enc_path};
pub use breaker::{BreakerConfig, BreakerEvent, Breakers, CircuitOpen, CircuitState};
pub use config::{
    default_user_agent, ConfigError, HubClientConfig, DEFAULT_DATASETS_SERVER, DEFAULT_ENDPOINT, DEFAULT_TIMEOUT_SECS,
    ENV_DATASETS_SERVER, ENV_ENDPOINT, ENV_TIMEOUT,
};
pub use error::{HubError, HubErrorKind, Service};
pub use hook::{UpstreamEvent, UpstreamHook};
pub use link::next_link;
pub use retry::{parse_retry_after, RetryPolicy};
pub use token::{InvalidToken, Token};
pub use types::*;
pub use write::{LfsObject, WriteTarget};

use error::{classify, from_transport, ErrorContext, ResponseParts};

/// Maximum number of pages followed in one listing call (guards against Link loops).
const MAX_PAGES: usize = 200;
/// Bytes of an error body read to extract the Hub's message.
const MAX_ERROR_BODY: usize = 16 * 1024;

/// Client for the Hugging Face Hub HTTP API and the datasets-server API. Cheap to clone.
#[derive(Clone)]
pub struct HubClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    config: HubClientConfig,
    breakers: Arc<Breakers>,
    /// Account names of validated tokens (by token hash), learnt by the token check and
    /// read for the server instructions, which name the signed-in user.
    names: crate::cache::TtlCache<Arc<str>, Arc<str>>,
}

impl fmt::Debug for HubClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HubClient")
            .field("endpoint", &self.inner.config.endpoint.as_str())
            .field("datasets_server", &self.inner.config.datasets_server.as_str())
            .field("timeout", &self.inner.config.timeout)
            .finish()
    }
}

/// One logical GET/HEAD request (retried as a whole).
pub(crate) struct Req<'a> {
    pub method: Method,
    pub url: Url,
    pub token: Option<&'a Token>,
    pub accept: Option<&'static str>,
    pub range: Option<String>,
    pub identity_encoding: bool,
    pub service: Service,
    pub ctx: ErrorContext,
    /// Non-2xx statuses handled by the caller (e.g. 416 for ranges).
    pub ok_statuses: &'static [u16],
    /// `If-None-Match` for conditional requests (304 must then be in `ok_statuses`).
    pub if_none_match: Option<&'a str>,
    /// A request body and its content type (writes; such requests are not retried…).
    pub body: Option<(&'static str, bytes::Bytes)>,
    /// …unless sending it twice does no harm (content-addressed uploads): retried like a GET.
    pub retry_safe: bool,
}

impl<'a> Req<'a> {
    /// A plain JSON GET; other requests override fields of it.
    pub(crate) fn get_json(url: Url, token: Option<&'a Token>, service: Service, ctx: ErrorContext) -> Self {
        Req {
            method: Method::GET,
            url,
            token,
            accept: Some("application/json"),
            range: None,
            identity_encoding: false,
            service,
            ctx,
            ok_statuses: &[],
            if_none_match: None,
            body: None,
            retry_safe: false,
        }
    }
}

impl HubClient {
    /// Build a client (one connection pool for its whole life).
    pub fn new(config: HubClientConfig) -> Result<Self, HubError> {
        let http = reqwest::Client::builder()
            .user_agent(config.user_agent.clone())
            .timeout(config.timeout)
            .connect_timeout(config.connect_timeout.min(config.timeout))
            .pool_idle_timeout(Duration::from_secs(90))
            .redirect(redirect::policy())
            .build()
            .map_err(|e| HubError::invalid_input(format!("cannot build the HTTP client: {}", e.without_url())))?;
        let breakers = Arc::new(Breakers::new(config.breaker.clone(), config.hook.clone()));
        let names = crate::cache::TtlCache::new(Duration::from_secs(3600), 100_000);
        Ok(HubClient { inner: Arc::new(Inner { http, config, breakers, names }) })
    }

    /// Remember the account name of a validated token (by the token's hash).
    pub fn remember_name(&self, token_hash: Arc<str>, name: &str) {
        self.inner.names.insert(token_hash, name.into());
    }

    /// The account name of a token validated recently, if known.
    pub fn known_name(&self, token_hash: &str) -> Option<Arc<str>> {
        self.inner.names.get(token_hash)
    }

    /// Client configured from `HF_ENDPOINT`, `HF_API_TIMEOUT`, `HF_DATASETS_SERVER_ENDPOINT`.
    pub fn from_env() -> Result<Self, HubError> {
        let config = HubClientConfig::from_env().map_err(|e| HubError::invalid_input(e.to_string()))?;
        HubClient::new(config)
    }

    pub fn config(&self) -> &HubClientConfig {
        &self.inner.config
    }

    pub fn endpoint(&self) -> &Url {
        &self.inner.config.endpoint
    }

    /// The Hub endpoint without a trailing slash, the base of user-facing links.
    pub fn web_base(&self) -> String {
        self.inner.config.endpoint.as_str().trim_end_matches('/').to_owned()
    }

    /// The circuit breakers of every upstream host (the Spaces client uses them too).
    pub fn breakers(&self) -> &Arc<Breakers> {
        &self.inner.breakers
    }

    /// The metrics label of the service at `url`'s host.
    fn service_of(&self, url: &Url) -> &'static str {
        if url.host_str() == self.inner.config.datasets_server.host_str()
            && url.port_or_known_default() == self.inner.config.datasets_server.port_or_known_default()
            && url.path().starts_with(self.inner.config.datasets_server.path().trim_end_matches('/'))
        {
            Service::DatasetsServer.label()
        } else {
            Service::Hub.label()
        }
    }

    /// The breaker's key of a URL: `host[:port]`.
    fn host_key(url: &Url) -> String {
        match (url.host_str(), url.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_owned(),
            _ => String::new(),
        }
    }

    /// Tell the breaker how a response body ended (a body that broke off or stalled is a
    /// failure of its host, like a timeout before the headers).
    pub(crate) fn settle(&self, url: &Url, healthy: bool) {
        self.inner.breakers.record(self.service_of(url), &Self::host_key(url), healthy);
    }

    /// The pooled HTTP client, for plain requests outside [`Self::send`].
    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.inner.http
    }

    fn base(&self, service: Service) -> &Url {
        match service {
            Service::Hub => &self.inner.config.endpoint,
            Service::DatasetsServer => &self.inner.config.datasets_server,
        }
    }

    /// `base` + already-split path segments (each percent-encoded).
    pub(crate) fn url(&self, service: Service, segments: &[&str]) -> Url {
        let mut u = self.base(service).clone();
        {
            let mut s = u.path_segments_mut().expect("http(s) endpoints can have paths");
            s.pop_if_empty();
            for seg in segments {
                s.push(seg);
            }
        }
        u
    }

    pub(crate) fn what(&self, what: String, token: Option<&Token>) -> ErrorContext {
        ErrorContext { what: Some(what), ..self.ctx(token) }
    }

    pub(crate) fn ctx(&self, token: Option<&Token>) -> ErrorContext {
        ErrorContext { had_token: token.is_some(), web_base: self.web_base(), ..ErrorContext::default() }
    }

    /// Send with retries. Returns the first successful (or `ok_statuses`) response.
    pub(crate) async fn send(&self, req: &Req<'_>) -> Result<reqwest::Response, HubError> {
        let policy = &self.inner.config.retry;
        let max_attempts = policy.max_attempts.max(1);
        let idempotent = req.method == Method::GET || req.method == Method::HEAD || req.retry_safe;
        let host = req.url.host_str().unwrap_or("the Hub").to_string();
        let host_key = Self::host_key(&req.url);
        let service = req.service.label();
        let breakers = &self.inner.breakers;
        let mut attempt = 0u32;
        // The failure being retried: what to report if the circuit opens meanwhile.
        let mut previous: Option<HubError> = None;
        loop {
            attempt += 1;
            if let Err(open) = breakers.admit(service, &host_key) {
                return Err(previous.unwrap_or_else(|| HubError::circuit_open(&open)));
            }
            let mut rb = self.inner.http.request(req.method.clone(), req.url.clone());
            if let Some(t) = req.token {
                rb = rb.header(AUTHORIZATION, t.authorization_header());
            }
            if let Some(a) = req.accept {
                rb = rb.header(ACCEPT, a);
            }
            if let Some(r) = &req.range {
                rb = rb.header(RANGE, r.as_str());
            }
            if req.identity_encoding {
                rb = rb.header(ACCEPT_ENCODING, "identity");
            }
            if let Some(etag) = req.if_none_match {
                rb = rb.header(IF_NONE_MATCH, etag);
            }
            if let Some((content_type, body)) = &req.body {
                rb = rb.header(reqwest::header::CONTENT_TYPE, *content_type).body(body.clone());
            }
            let started = Instant::now();
            let err = match rb.send().await {
                Ok(resp) => {
                    let status = resp.status();
                    if status.is_success() || req.ok_statuses.contains(&status.as_u16()) {
                        // A 2xx is judged when its body is read (`settle`); other kept
                        // statuses are complete answers.
                        if !status.is_success() {
                            breakers.record(service, &host_key, true);
                        }
                        tracing::debug!(
                            method = %req.method, url = %req.url, status = status.as_u16(), attempt,
                            elapsed_ms = started.elapsed().as_millis() as u64, "hub request"
                        );
                        self.inner.config.hook.emit(UpstreamEvent {
                            service: req.service.label(),
                            outcome: "ok",
                            status: Some(status.as_u16()),
                            elapsed: started.elapsed(),
                        });
                        return Ok(resp);
                    }
                    let parts = error_parts(resp).await;
                    classify(parts, req.service, &req.ctx)
                }
                Err(e) => from_transport(&e, self.inner.config.timeout, &host),
            }
            .scrubbed(req.token);
            let answered = err.status().is_some_and(|s| s < 500);
            if answered
                || matches!(err.kind(), HubErrorKind::Timeout | HubErrorKind::Connection | HubErrorKind::ServerError)
            {
                breakers.record(service, &host_key, answered);
            }
            let will_retry =
                idempotent && attempt < max_attempts && err.is_retryable() && err.kind() != HubErrorKind::Timeout;
            let delay = if will_retry { policy.delay_for(attempt, err.retry_after()) } else { None };
            tracing::debug!(
                method = %req.method, url = %req.url, status = err.status(), kind = %err.kind(),
                attempt, retry_in_ms = delay.map(|d| d.as_millis() as u64),
                elapsed_ms = started.elapsed().as_millis() as u64, "hub request failed"
            );
            self.inner.config.hook.emit(UpstreamEvent {
                service: req.service.label(),
                outcome: UpstreamEvent::outcome_of(err.status(), err.kind() == HubErrorKind::Timeout),
                status: err.status(),
                elapsed: started.elapsed(),
            });
            match delay {
                Some(d) => {
                    tokio::time::sleep(d).await;
                    previous = Some(err);
                }
                None => return Err(err),
            }
        }
    }

    /// Read a body with a size cap.
    pub(crate) async fn read_capped(
        &self,
        mut resp: reqwest::Response,
        cap: usize,
        token: Option<&Token>,
    ) -> Result<Vec<u8>, HubError> {
        let url = resp.url().clone();
        if let Some(len) = resp.content_length() {
            if len as usize > cap {
                self.settle(&url, true);
                return Err(HubError::invalid_response(format!(
                    "the response is too large ({len} bytes, limit {cap})"
                )));
            }
        }
        let mut buf = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| {
            self.settle(&url, false);
            from_transport(&e, self.inner.config.timeout, "the Hub").scrubbed(token)
        })? {
            if buf.len() + chunk.len() > cap {
                self.settle(&url, true);
                return Err(HubError::invalid_response(format!(
                    "the response is larger than the limit of {cap} bytes"
                )));
            }
            buf.extend_from_slice(&chunk);
        }
        self.settle(&url, true);
        Ok(buf)
    }

    /// GET JSON; returns the value, response headers and final URL (after redirects).
    pub(crate) async fn fetch_json(
        &self,
        url: Url,
        token: Option<&Token>,
        service: Service,
        ctx: ErrorContext,
    ) -> Result<(Value, HeaderMap, Url), HubError> {
        let resp = self.send(&Req::get_json(url, token, service, ctx)).await?;
        let headers = resp.headers().clone();
        let final_url = resp.url().clone();
        Ok((self.read_json(resp, token).await?, headers, final_url))
    }

    /// A JSON body, size-capped.
    pub(crate) async fn read_json(&self, resp: reqwest::Response, token: Option<&Token>) -> Result<Value, HubError> {
        let body = self.read_capped(resp, self.inner.config.max_json_bytes, token).await?;
        serde_json::from_slice(&body).map_err(|e| HubError::invalid_response(format!("invalid JSON ({e})")))
    }

    /// Follow `Link: rel="next"` pages until `max_items` items are collected.
    pub(crate) async fn paginate(
        &self,
        first: Url,
        max_items: usize,
        token: Option<&Token>,
        service: Service,
        ctx: ErrorContext,
    ) -> Result<Page, HubError> {
        let mut page = Page { items: Vec::new(), truncated: false, next_url: None };
        if max_items == 0 {
            return Ok(page);
        }
        let origin = self.base(service).origin();
        let mut url = first;
        let mut seen = HashSet::new();
        for pages in 1.. {
            seen.insert(url.to_string());
            let (value, headers, final_url) = self.fetch_json(url, token, service, ctx.clone()).await?;
            let Value::Array(batch) = value else {
                return Err(HubError::invalid_response("expected a JSON array"));
            };
            let next = headers
                .get(LINK)
                .and_then(|v| v.to_str().ok())
                .and_then(next_link)
                .map(|n| final_url.join(&n))
                .transpose()
                .map_err(|_| HubError::invalid_response("invalid pagination link"))?;
            let remaining = max_items - page.items.len();
            if batch.len() > remaining {
                page.items.extend(batch.into_iter().take(remaining));
                page.truncated = true;
                // The rest of this page is lost; the next link (if any) skips it.
                return Ok(page);
            }
            page.items.extend(batch);
            let Some(next) = next else {
                return Ok(page);
            };
            if page.items.len() >= max_items || pages >= MAX_PAGES {
                page.truncated = true;
                page.next_url = Some(next.to_string());
                return Ok(page);
            }
            if next.origin() != origin {
                return Err(HubError::invalid_response(
                    "a pagination link points to another host; refusing to follow it",
                ));
            }
            if seen.contains(next.as_str()) {
                return Err(HubError::invalid_response("the pagination links loop"));
            }
            url = next;
        }
        unreachable!("loop returns")
    }
}

async fn error_parts(resp: reqwest::Response) -> ResponseParts {
    let status = resp.status();
    let headers = resp.headers().clone();
    let header = |name: &str| {
        headers.get(name).and_then(|v| v.to_str().ok()).map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
    };
    let retry_after = header("retry-after").and_then(|v| parse_retry_after(&v));
    let mut body = Vec::new();
    let mut resp = resp;
    while body.len() < MAX_ERROR_BODY {
        match resp.chunk().await {
            Ok(Some(c)) => body.extend_from_slice(&c),
            _ => break,
        }
    }
    body.truncate(MAX_ERROR_BODY);
    let from_json = serde_json::from_slice::<Value>(&body).ok().and_then(|v| match v.get("error") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Object(o)) => o.get("message").and_then(Value::as_str).map(str::to_string),
        _ => v.get("message").and_then(Value::as_str).map(str::to_string),
    });
    let from_text = || {
        let text = String::from_utf8_lossy(&body).trim().to_string();
        let looks_html = text.starts_with('<');
        (!text.is_empty() && !looks_html).then(|| {
            let mut t: String = text.chars().take(300).collect();
            if t.len() < text.len() {
                t.push('…');
            }
            t
        })
    };
    let server_message = from_json.or_else(|| header("x-error-message")).or_else(from_text).filter(|m| {
        // A bare reason phrase adds nothing.
        status.canonical_reason() != Some(m.as_str())
    });
    ResponseParts {
        status: status.as_u16(),
        error_code: header("x-error-code"),
        server_message,
        retry_after,
        request_id: header("x-request-id"),
    }
}
