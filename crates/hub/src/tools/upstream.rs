//! The narrow HTTP surface the Hub tools need (JSON, paginated lists, text and byte
//! downloads), and the classification of Hub failures into kinds the tools can explain.
//!
//! One [`Upstream`] is built per provider and shared by every call (connection reuse).
//! The caller's token is passed per request and only ever placed in the `Authorization`
//! header: it is never formatted into a message, a log line or an error.

use std::time::Duration;

use reqwest::header::{HeaderMap, ACCEPT, AUTHORIZATION, CONTENT_TYPE, LINK, RANGE, RETRY_AFTER};
use reqwest::StatusCode;
use serde_json::Value;

/// Where the Hub and the datasets-server live, and how long to wait for them.
#[derive(Debug, Clone)]
pub struct HubConfig {
    /// Hub base URL (`HF_ENDPOINT`), without a trailing slash.
    pub endpoint: String,
    /// datasets-server base URL, without a trailing slash.
    pub datasets_server: String,
    /// Per-request timeout (`HF_API_TIMEOUT`).
    pub timeout: Duration,
    /// Automatic retries of a 429 / 5xx answer (honouring a short `Retry-After`).
    pub max_retries: u32,
    /// The longest `Retry-After` worth waiting for inside a call; longer waits are reported.
    pub max_retry_wait: Duration,
}

impl Default for HubConfig {
    fn default() -> Self {
        HubConfig {
            endpoint: "https://huggingface.co".into(),
            datasets_server: "https://datasets-server.huggingface.co".into(),
            timeout: Duration::from_millis(12_500),
            max_retries: 2,
            max_retry_wait: Duration::from_secs(3),
        }
    }
}

impl HubConfig {
    /// Defaults overridden by `HF_ENDPOINT`, `HF_DATASETS_SERVER` and `HF_API_TIMEOUT`
    /// (seconds, fractional allowed; the Hub libraries use seconds too).
    pub fn from_env() -> Self {
        let mut c = HubConfig::default();
        if let Ok(v) = std::env::var("HF_ENDPOINT") {
            if !v.trim().is_empty() {
                c.endpoint = v.trim().trim_end_matches('/').to_owned();
            }
        }
        if let Ok(v) = std::env::var("HF_DATASETS_SERVER") {
            if !v.trim().is_empty() {
                c.datasets_server = v.trim().trim_end_matches('/').to_owned();
            }
        }
        if let Some(t) = std::env::var("HF_API_TIMEOUT").ok().and_then(|v| parse_timeout(&v)) {
            c.timeout = t;
        }
        c
    }
}

/// Parse a timeout in seconds (`"12.5"`); `None` if not a positive number.
pub fn parse_timeout(v: &str) -> Option<Duration> {
    let secs: f64 = v.trim().parse().ok()?;
    (secs.is_finite() && secs > 0.0).then(|| Duration::from_secs_f64(secs))
}

/// Which service a path is relative to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Hub,
    DatasetsServer,
}

/// What went wrong talking to the Hub, classified for the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// The repository does not exist or is not visible to this caller.
    RepoNotFound,
    RevisionNotFound,
    EntryNotFound,
    /// Any other 404.
    NotFound,
    /// A gated repository whose conditions this caller has not accepted.
    Gated,
    /// 401 without a more specific code: no token, or a rejected one.
    Unauthorized,
    Forbidden,
    RateLimited,
    Timeout,
    /// 5xx from the Hub or a proxy.
    Unavailable,
    /// Connection failed, DNS, TLS, …
    Network,
    /// 400/422: the Hub rejected the request's parameters.
    BadRequest,
    /// The Hub answered 2xx with something unexpected.
    InvalidResponse,
    Other,
}

#[derive(Debug, Clone)]
pub struct UpstreamError {
    pub kind: ErrorKind,
    pub status: Option<u16>,
    /// `X-Error-Code`, when the Hub sent one.
    pub code: Option<String>,
    /// The Hub's own message (`X-Error-Message` or the body's `error`), bounded.
    pub message: String,
    pub retry_after: Option<Duration>,
    /// Whether the caller sent a token.
    pub authenticated: bool,
}

impl UpstreamError {
    fn new(kind: ErrorKind, message: impl Into<String>, authenticated: bool) -> Self {
        UpstreamError { kind, status: None, code: None, message: message.into(), retry_after: None, authenticated }
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        UpstreamError::new(ErrorKind::InvalidResponse, message, false)
    }
    pub fn is_not_found(&self) -> bool {
        matches!(self.kind, ErrorKind::RepoNotFound | ErrorKind::NotFound | ErrorKind::EntryNotFound)
    }
    /// Whether trying the same request again later can succeed.
    pub fn retryable(&self) -> bool {
        matches!(self.kind, ErrorKind::RateLimited | ErrorKind::Timeout | ErrorKind::Unavailable | ErrorKind::Network)
    }
}

impl std::fmt::Display for UpstreamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.status {
            Some(s) => write!(f, "{s}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// A downloaded body with what the Hub said about it.
pub struct Download {
    pub bytes: Vec<u8>,
    pub content_type: Option<String>,
    /// Total size of the file when the answer was a range (`Content-Range`), else the body size.
    pub total_size: u64,
}

/// A page-following list result.
pub struct Listing {
    pub items: Vec<Value>,
    /// More items exist upstream than were collected.
    pub more: bool,
}

/// The shared HTTP client for Hub calls.
pub struct Upstream {
    http: reqwest::Client,
    config: HubConfig,
}

impl Upstream {
    pub fn new(config: HubConfig) -> Self {
        let http = reqwest::Client::builder()
            .user_agent(concat!("hubmcp/", env!("CARGO_PKG_VERSION")))
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(10)))
            .pool_idle_timeout(Duration::from_secs(90))
            .build()
            .expect("reqwest client builds");
        Upstream { http, config }
    }

    pub fn config(&self) -> &HubConfig {
        &self.config
    }

    /// Absolute URL of `path` (starting with `/`) on `service`, with query pairs.
    pub fn url(&self, service: Service, path: &str, query: &[(&str, String)]) -> String {
        let base = match service {
            Service::Hub => &self.config.endpoint,
            Service::DatasetsServer => &self.config.datasets_server,
        };
        let mut url = format!("{base}{path}");
        if !query.is_empty() {
            let q: String = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())))
                .finish();
            url.push('?');
            url.push_str(&q);
        }
        url
    }

    /// GET with the caller's token, retrying 429/5xx briefly; non-2xx answers become errors.
    async fn send(
        &self,
        token: Option<&str>,
        url: &str,
        accept: &str,
        range: Option<(u64, u64)>,
    ) -> Result<reqwest::Response, UpstreamError> {
        let authenticated = token.is_some();
        let mut attempt = 0;
        loop {
            let mut req = self.http.get(url).header(ACCEPT, accept);
            if let Some(t) = token {
                req = req.header(AUTHORIZATION, format!("Bearer {t}"));
            }
            if let Some((start, end)) = range {
                req = req.header(RANGE, format!("bytes={start}-{end}"));
            }
            let err = match req.send().await {
                Ok(resp) if resp.status().is_success() => return Ok(resp),
                Ok(resp) => error_of(resp, authenticated).await,
                Err(e) => transport_error(&e, self.config.timeout, authenticated),
            };
            let wait = match err.kind {
                ErrorKind::RateLimited | ErrorKind::Unavailable => {
                    err.retry_after.unwrap_or(Duration::from_millis(250 * (1 << attempt)))
                }
                _ => return Err(err),
            };
            if attempt >= self.config.max_retries || wait > self.config.max_retry_wait {
                return Err(err);
            }
            attempt += 1;
            tracing::debug!(status = ?err.status, attempt, "retrying Hub request");
            tokio::time::sleep(wait).await;
        }
    }

    pub async fn get_json(
        &self,
        token: Option<&str>,
        service: Service,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Value, UpstreamError> {
        let url = self.url(service, path, query);
        self.json_at(token, &url).await.map(|(v, _)| v)
    }

    /// GET an absolute URL as JSON, also returning the `Link: rel="next"` URL.
    pub async fn json_at(&self, token: Option<&str>, url: &str) -> Result<(Value, Option<String>), UpstreamError> {
        let resp = self.send(token, url, "application/json", None).await?;
        let next = next_link(resp.headers());
        let body = resp.bytes().await.map_err(|e| transport_error(&e, self.config.timeout, token.is_some()))?;
        let value = serde_json::from_slice(&body)
            .map_err(|_| UpstreamError::invalid("the Hub returned a response that is not valid JSON"))?;
        Ok((value, next))
    }

    /// A JSON array endpoint, following `Link` pages until `max` items are collected.
    pub async fn list(
        &self,
        token: Option<&str>,
        service: Service,
        path: &str,
        query: &[(&str, String)],
        max: usize,
    ) -> Result<Listing, UpstreamError> {
        let mut url = self.url(service, path, query);
        let mut items = Vec::new();
        loop {
            let (page, next) = self.json_at(token, &url).await?;
            let Value::Array(page) = page else {
                return Err(UpstreamError::invalid("the Hub returned a listing that is not an array"));
            };
            let mut page = page.into_iter();
            for item in page.by_ref() {
                if items.len() >= max {
                    return Ok(Listing { items, more: true });
                }
                items.push(item);
            }
            match next {
                Some(n) if items.len() < max => url = n,
                Some(_) => return Ok(Listing { items, more: true }),
                None => return Ok(Listing { items, more: false }),
            }
        }
    }

    /// GET text (e.g. Markdown); `Ok(None)` on 404.
    pub async fn get_text(
        &self,
        token: Option<&str>,
        path: &str,
        accept: &str,
    ) -> Result<Option<(String, Option<String>)>, UpstreamError> {
        let url = self.url(Service::Hub, path, &[]);
        match self.send(token, &url, accept, None).await {
            Ok(resp) => {
                let ct = resp.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
                let text = resp.text().await.map_err(|e| transport_error(&e, self.config.timeout, token.is_some()))?;
                Ok(Some((text, ct)))
            }
            Err(e) if e.status == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Download a file (optionally a byte range), refusing bodies over `max` bytes.
    pub async fn download(
        &self,
        token: Option<&str>,
        path: &str,
        range: Option<(u64, u64)>,
        max: u64,
    ) -> Result<Download, UpstreamError> {
        let url = self.url(Service::Hub, path, &[]);
        let mut resp = self.send(token, &url, "*/*", range).await?;
        let content_type = resp.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let partial = resp.status() == StatusCode::PARTIAL_CONTENT;
        let total_from_range = resp
            .headers()
            .get(reqwest::header::CONTENT_RANGE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit('/').next())
            .and_then(|v| v.parse::<u64>().ok());
        if let Some(len) = resp.content_length() {
            if len > max {
                return Err(too_large(len, max));
            }
        }
        let mut bytes = Vec::new();
        while let Some(chunk) =
            resp.chunk().await.map_err(|e| transport_error(&e, self.config.timeout, token.is_some()))?
        {
            if bytes.len() as u64 + chunk.len() as u64 > max {
                return Err(too_large(bytes.len() as u64 + chunk.len() as u64, max));
            }
            bytes.extend_from_slice(&chunk);
        }
        let total_size = if partial { total_from_range.unwrap_or(bytes.len() as u64) } else { bytes.len() as u64 };
        Ok(Download { bytes, content_type, total_size })
    }
}

fn too_large(len: u64, max: u64) -> UpstreamError {
    let mut e = UpstreamError::invalid(format!("the file is {len} bytes, over the {max}-byte limit"));
    e.kind = ErrorKind::Other;
    e
}

/// The URL of `rel="next"` in a `Link` header.
pub fn next_link(headers: &HeaderMap) -> Option<String> {
    let link = headers.get(LINK)?.to_str().ok()?;
    link.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let is_next = params.split(';').any(|p| {
            let p = p.trim();
            p.eq_ignore_ascii_case("rel=\"next\"") || p.eq_ignore_ascii_case("rel=next")
        });
        let url = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        is_next.then(|| url.to_owned())
    })
}

fn bounded(s: &str, max: usize) -> String {
    let s = s.trim();
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let cut: String = s.chars().take(max).collect();
        format!("{cut}…")
    }
}

async fn error_of(resp: reqwest::Response, authenticated: bool) -> UpstreamError {
    let status = resp.status();
    let headers = resp.headers().clone();
    let code = headers.get("x-error-code").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let header_message = headers.get("x-error-message").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let retry_after = headers
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let body = resp.text().await.unwrap_or_default();
    let body_message = serde_json::from_str::<Value>(&body).ok().and_then(|v| {
        ["error", "message", "cause_message"].iter().find_map(|k| v.get(*k).and_then(Value::as_str).map(str::to_owned))
    });
    let message = header_message.or(body_message).unwrap_or_else(|| {
        if body.trim().is_empty() || body.trim_start().starts_with('<') {
            status.canonical_reason().unwrap_or("error").to_owned()
        } else {
            body.clone()
        }
    });
    let kind = match (status.as_u16(), code.as_deref()) {
        (_, Some("RepoNotFound")) => ErrorKind::RepoNotFound,
        (_, Some("GatedRepo")) => ErrorKind::Gated,
        (_, Some("RevisionNotFound")) => ErrorKind::RevisionNotFound,
        (_, Some("EntryNotFound")) => ErrorKind::EntryNotFound,
        (429, _) => ErrorKind::RateLimited,
        (401, _) => ErrorKind::Unauthorized,
        (403, _) => ErrorKind::Forbidden,
        (404, _) => ErrorKind::NotFound,
        (408 | 504, _) => ErrorKind::Timeout,
        (400 | 422, _) => ErrorKind::BadRequest,
        (s, _) if s >= 500 => ErrorKind::Unavailable,
        _ => ErrorKind::Other,
    };
    UpstreamError {
        kind,
        status: Some(status.as_u16()),
        code,
        message: bounded(&message, 300),
        retry_after,
        authenticated,
    }
}

fn transport_error(e: &reqwest::Error, timeout: Duration, authenticated: bool) -> UpstreamError {
    if e.is_timeout() {
        UpstreamError::new(
            ErrorKind::Timeout,
            format!("the Hub did not answer within {:.1} s", timeout.as_secs_f64()),
            authenticated,
        )
    } else if e.is_connect() {
        UpstreamError::new(ErrorKind::Network, "could not connect to the Hub", authenticated)
    } else {
        // reqwest's Display includes the URL (never the token, which travels in a header).
        UpstreamError::new(ErrorKind::Network, "the connection to the Hub failed", authenticated)
    }
}

/// Percent-encode one path segment.
pub fn enc(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Percent-encode a `/`-separated path, keeping the separators.
pub fn enc_path(path: &str) -> String {
    path.split('/').map(enc).collect::<Vec<_>>().join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_header_next() {
        let mut h = HeaderMap::new();
        h.insert(LINK, r#"<https://x/api/models?cursor=abc%3D>; rel="next""#.parse().unwrap());
        assert_eq!(next_link(&h).as_deref(), Some("https://x/api/models?cursor=abc%3D"));
        h.insert(LINK, r#"<https://x/a>; rel="prev", <https://x/b>; rel="next""#.parse().unwrap());
        assert_eq!(next_link(&h).as_deref(), Some("https://x/b"));
        h.insert(LINK, r#"<https://x/a>; rel="prev""#.parse().unwrap());
        assert_eq!(next_link(&h), None);
    }

    #[test]
    fn timeouts_parse() {
        assert_eq!(parse_timeout("12.5"), Some(Duration::from_millis(12_500)));
        assert_eq!(parse_timeout("0"), None);
        assert_eq!(parse_timeout("x"), None);
    }

    #[test]
    fn segments_encode() {
        assert_eq!(enc_path("a b/c@d"), "a%20b/c%40d");
    }
}
