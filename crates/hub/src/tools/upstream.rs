//! The narrow surface of the Hub client the tools use (JSON, paginated lists, file ranges,
//! text pages), and the classification of Hub failures into kinds the tools explain.
//!
//! [`Upstream`] wraps the production [`HubClient`] (one per provider, so connections are
//! reused across calls and callers). The caller's token is passed per request and only ever
//! reaches the client's `Authorization` header: it is never formatted into a message or log.

use std::time::Duration;

use serde_json::Value;

use crate::client::{FileContent, HubClient, HubError, HubErrorKind, RepoKind, Token};

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
    /// 400/422, or arguments the client refused before sending.
    BadRequest,
    /// The Hub answered 2xx with something unexpected (or too large).
    InvalidResponse,
    Other,
}

#[derive(Debug, Clone)]
pub struct UpstreamError {
    pub kind: ErrorKind,
    pub status: Option<u16>,
    /// `X-Error-Code`, when the Hub sent one.
    pub code: Option<String>,
    /// The Hub's own message when it sent one, else the client's explanation (bounded).
    pub message: String,
    pub retry_after: Option<Duration>,
    /// Whether the caller sent a token.
    pub authenticated: bool,
}

impl UpstreamError {
    pub fn invalid(message: impl Into<String>) -> Self {
        UpstreamError {
            kind: ErrorKind::InvalidResponse,
            status: None,
            code: None,
            message: message.into(),
            retry_after: None,
            authenticated: false,
        }
    }
    pub fn is_not_found(&self) -> bool {
        matches!(self.kind, ErrorKind::RepoNotFound | ErrorKind::NotFound | ErrorKind::EntryNotFound)
    }
    /// Whether trying the same request again later can succeed.
    pub fn retryable(&self) -> bool {
        matches!(self.kind, ErrorKind::RateLimited | ErrorKind::Timeout | ErrorKind::Unavailable | ErrorKind::Network)
    }
    fn from_hub(e: HubError, authenticated: bool) -> Self {
        let kind = match e.kind() {
            HubErrorKind::RepoNotFound => ErrorKind::RepoNotFound,
            HubErrorKind::GatedRepo => ErrorKind::Gated,
            HubErrorKind::RevisionNotFound => ErrorKind::RevisionNotFound,
            HubErrorKind::EntryNotFound => ErrorKind::EntryNotFound,
            HubErrorKind::Unauthorized => ErrorKind::Unauthorized,
            HubErrorKind::Forbidden => ErrorKind::Forbidden,
            HubErrorKind::NotFound => ErrorKind::NotFound,
            HubErrorKind::RateLimited => ErrorKind::RateLimited,
            HubErrorKind::ServerError => ErrorKind::Unavailable,
            HubErrorKind::Timeout => ErrorKind::Timeout,
            HubErrorKind::Connection => ErrorKind::Network,
            HubErrorKind::BadRequest | HubErrorKind::InvalidInput => ErrorKind::BadRequest,
            HubErrorKind::InvalidResponse => ErrorKind::InvalidResponse,
            _ => ErrorKind::Other,
        };
        let message = e.server_message().map(str::to_owned).unwrap_or_else(|| e.message().to_owned());
        UpstreamError {
            kind,
            status: e.status(),
            code: e.error_code().map(str::to_owned),
            message: bounded(&message, 300),
            retry_after: e.retry_after(),
            authenticated,
        }
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

/// A page-following list result.
pub struct Listing {
    pub items: Vec<Value>,
    /// More items exist upstream than were collected.
    pub more: bool,
}

/// The tools' handle on the Hub client.
pub struct Upstream {
    client: HubClient,
    /// Plain GETs of public pages the client has no call for (`/papers/{id}.md`).
    pages: reqwest::Client,
}

type Tok = Result<Option<Token>, UpstreamError>;

fn token(t: Option<&str>) -> Tok {
    match t {
        None => Ok(None),
        Some(t) => Token::new(t).map(Some).map_err(|e| UpstreamError {
            kind: ErrorKind::Unauthorized,
            status: None,
            code: None,
            message: format!("the Hugging Face token is not usable ({e})"),
            retry_after: None,
            authenticated: true,
        }),
    }
}

fn q<'a>(query: &'a [(&'a str, String)]) -> Vec<(&'a str, &'a str)> {
    query.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

impl Upstream {
    pub fn new(client: HubClient) -> Self {
        let pages = reqwest::Client::builder()
            .timeout(client.config().timeout)
            .user_agent(client.config().user_agent.clone())
            .build()
            .expect("reqwest client builds");
        Upstream { client, pages }
    }

    pub fn client(&self) -> &HubClient {
        &self.client
    }

    /// The Hub endpoint, without a trailing slash.
    pub fn endpoint(&self) -> String {
        self.client.endpoint().as_str().trim_end_matches('/').to_owned()
    }

    pub async fn get_json(
        &self,
        token_str: Option<&str>,
        service: Service,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Value, UpstreamError> {
        let t = token(token_str)?;
        let r = match service {
            Service::Hub => self.client.get_json(path, &q(query), t.as_ref()).await,
            Service::DatasetsServer => self.client.datasets_server_json(path, &q(query), t.as_ref()).await,
        };
        r.map_err(|e| UpstreamError::from_hub(e, token_str.is_some()))
    }

    /// A JSON array endpoint, following `Link` pages until `max` items are collected.
    pub async fn list(
        &self,
        token_str: Option<&str>,
        _service: Service,
        path: &str,
        query: &[(&str, String)],
        max: usize,
    ) -> Result<Listing, UpstreamError> {
        let t = token(token_str)?;
        let page = self
            .client
            .paginate_json(path, &q(query), max, t.as_ref())
            .await
            .map_err(|e| UpstreamError::from_hub(e, token_str.is_some()))?;
        Ok(Listing { items: page.items, more: page.truncated })
    }

    /// A documentation resource under `/docs/` as text; `Ok(None)` on 404.
    pub async fn doc_text(&self, path: &str, max: usize) -> Result<Option<(String, Option<String>)>, UpstreamError> {
        match self.client.doc_page(path, max).await {
            Ok(p) => Ok(Some((p.content, p.content_type))),
            Err(e) if e.status() == Some(404) => Ok(None),
            Err(e) => Err(UpstreamError::from_hub(e, false)),
        }
    }

    /// A public Markdown page outside `/docs/` (e.g. `/papers/{id}.md`); `None` if unavailable.
    pub async fn page_text(&self, path: &str) -> Option<String> {
        let url = format!("{}{path}", self.endpoint());
        let resp = self.pages.get(url).header("accept", "text/markdown").send().await.ok()?;
        let md = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|c| c.contains("markdown") || c.contains("text/plain"));
        if !resp.status().is_success() || !md {
            return None;
        }
        resp.text().await.ok()
    }

    /// Up to `max` bytes of a repository file from `offset`.
    #[allow(clippy::too_many_arguments)]
    pub async fn read_file(
        &self,
        token_str: Option<&str>,
        kind: RepoKind,
        id: &str,
        revision: Option<&str>,
        path: &str,
        offset: u64,
        max: u64,
    ) -> Result<FileContent, UpstreamError> {
        let t = token(token_str)?;
        self.client
            .read_file_range(kind, id, revision, path, offset, max, t.as_ref())
            .await
            .map_err(|e| UpstreamError::from_hub(e, token_str.is_some()))
    }
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
    fn segments_encode() {
        assert_eq!(enc_path("a b/c@d"), "a%20b/c%40d");
    }
}
