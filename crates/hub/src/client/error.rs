//! `HubError`: the one error of the Hub access layer — the response (status, `X-Error-Code`,
//! the Hub's message) classified once into a kind, an actionable message and a retry verdict.

use std::fmt;
use std::time::Duration;

use serde_json::{json, Value};

use super::types::RepoKind;

/// What went wrong, coarsely. Stable: tools may branch on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HubErrorKind {
    /// `X-Error-Code: RepoNotFound` (404, or 401 for anonymous callers).
    RepoNotFound,
    /// `X-Error-Code: GatedRepo` (401 anonymous / 403 without access).
    GatedRepo,
    /// `X-Error-Code: RevisionNotFound`.
    RevisionNotFound,
    /// `X-Error-Code: EntryNotFound` (file or folder missing).
    EntryNotFound,
    /// 401 without a more specific code: missing or rejected token.
    Unauthorized,
    /// 403 without a more specific code: token lacks permission.
    Forbidden,
    /// 404 without a more specific code.
    NotFound,
    /// 429.
    RateLimited,
    /// 5xx.
    ServerError,
    /// The request did not complete within the configured timeout.
    Timeout,
    /// Could not connect / connection dropped.
    Connection,
    /// 400/422: the Hub rejected the parameters.
    BadRequest,
    /// The caller passed an invalid argument (detected before any request).
    InvalidInput,
    /// The response could not be understood (bad JSON, too large, unexpected status...).
    InvalidResponse,
    /// Any other HTTP status.
    Other,
    /// Not sent: the host's circuit breaker is open after consecutive failures.
    CircuitOpen,
}

impl HubErrorKind {
    /// Stable snake_case identifier (`"gated_repo"`, `"rate_limited"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            HubErrorKind::RepoNotFound => "repo_not_found",
            HubErrorKind::GatedRepo => "gated_repo",
            HubErrorKind::RevisionNotFound => "revision_not_found",
            HubErrorKind::EntryNotFound => "entry_not_found",
            HubErrorKind::Unauthorized => "unauthorized",
            HubErrorKind::Forbidden => "forbidden",
            HubErrorKind::NotFound => "not_found",
            HubErrorKind::RateLimited => "rate_limited",
            HubErrorKind::ServerError => "server_error",
            HubErrorKind::Timeout => "timeout",
            HubErrorKind::Connection => "connection",
            HubErrorKind::BadRequest => "bad_request",
            HubErrorKind::InvalidInput => "invalid_input",
            HubErrorKind::InvalidResponse => "invalid_response",
            HubErrorKind::Other => "other",
            HubErrorKind::CircuitOpen => "circuit_open",
        }
    }
}

impl fmt::Display for HubErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed Hub call. `Display` is the user-facing message (never contains the token).
#[derive(Debug, Clone)]
pub struct HubError {
    kind: HubErrorKind,
    message: String,
    status: Option<u16>,
    error_code: Option<String>,
    server_message: Option<String>,
    retry_after: Option<Duration>,
    request_id: Option<String>,
    retryable: bool,
    had_token: bool,
}

impl fmt::Display for HubError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for HubError {}

impl HubError {
    pub fn kind(&self) -> HubErrorKind {
        self.kind
    }
    /// Actionable message for end users (what happened and what to do).
    pub fn message(&self) -> &str {
        &self.message
    }
    /// HTTP status, if a response was received.
    pub fn status(&self) -> Option<u16> {
        self.status
    }
    /// Raw `X-Error-Code` from the Hub / datasets-server.
    pub fn error_code(&self) -> Option<&str> {
        self.error_code.as_deref()
    }
    /// The Hub's own message (`{"error": ...}` / `X-Error-Message`), if any.
    pub fn server_message(&self) -> Option<&str> {
        self.server_message.as_deref()
    }
    /// Server-provided `Retry-After`, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }
    /// Whether retrying the same call later may succeed (rate limits, 5xx, timeouts, network).
    pub fn is_retryable(&self) -> bool {
        self.retryable
    }
    /// Whether the failed call carried the caller's token.
    pub fn had_token(&self) -> bool {
        self.had_token
    }
    /// The repository, file or resource does not exist (or is not visible to this caller).
    pub fn is_not_found(&self) -> bool {
        matches!(self.kind, HubErrorKind::RepoNotFound | HubErrorKind::NotFound | HubErrorKind::EntryNotFound)
    }
    /// What the tools quote of a failure: the Hub's own words when it sent some, else the
    /// message, bounded.
    pub fn detail(&self) -> String {
        bounded(self.server_message().unwrap_or(&self.message), 300)
    }

    /// Structured form for tool results (`structuredContent` / logs). Contains no secrets.
    pub fn to_json(&self) -> Value {
        json!({
            "kind": self.kind.as_str(),
            "message": self.message,
            "status": self.status,
            "errorCode": self.error_code,
            "serverMessage": self.server_message,
            "retryable": self.retryable,
            "retryAfterSeconds": self.retry_after.map(|d| d.as_secs_f64().ceil() as u64),
            "requestId": self.request_id,
        })
    }

    /// An error for invalid caller input (no request was made).
    pub fn invalid_input(message: impl Into<String>) -> Self {
        HubError::bare(HubErrorKind::InvalidInput, message.into(), false)
    }

    /// The caller's token is malformed, so it was not sent.
    pub(crate) fn unusable_token(e: super::InvalidToken) -> Self {
        HubError {
            had_token: true,
            ..HubError::bare(HubErrorKind::Unauthorized, format!("the Hugging Face token is not usable ({e})"), false)
        }
    }

    pub(crate) fn invalid_response(detail: impl fmt::Display) -> Self {
        HubError::bare(
            HubErrorKind::InvalidResponse,
            format!("Unexpected response from the Hugging Face Hub: {detail}."),
            false,
        )
    }

    /// The call was not sent: `open.host` failed repeatedly and its circuit is open.
    pub(crate) fn circuit_open(open: &super::breaker::CircuitOpen) -> Self {
        let secs = open.retry_after_secs();
        HubError {
            retry_after: Some(Duration::from_secs(secs)),
            ..HubError::bare(
                HubErrorKind::CircuitOpen,
                format!(
                    "{} is failing (its last requests timed out, broke off or answered 5xx), so this request was not \
                     sent; retry after {secs} s.",
                    open.host
                ),
                true,
            )
        }
    }

    fn bare(kind: HubErrorKind, message: String, retryable: bool) -> Self {
        HubError {
            kind,
            message,
            status: None,
            error_code: None,
            server_message: None,
            retry_after: None,
            request_id: None,
            retryable,
            had_token: false,
        }
    }

    /// Replace any occurrence of the token (defence in depth).
    pub(crate) fn scrubbed(mut self, token: Option<&super::Token>) -> Self {
        if let Some(t) = token {
            self.message = t.scrub(&self.message);
            self.server_message = self.server_message.map(|m| t.scrub(&m));
        }
        self
    }
}

/// Which service a path is relative to (changes the meaning of some error codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Hub,
    DatasetsServer,
}

impl Service {
    /// The `service` label of upstream metrics.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Service::Hub => "hub",
            Service::DatasetsServer => "datasets_server",
        }
    }
}

/// What the request was about, to make messages specific.
#[derive(Debug, Clone, Default)]
pub(crate) struct ErrorContext {
    pub repo: Option<(RepoKind, String)>,
    pub revision: Option<String>,
    pub path: Option<String>,
    /// Free-form description when there is no repo ("paper 2407.21783", "collection x/y").
    pub what: Option<String>,
    pub had_token: bool,
    /// Hub web base (for "visit the repo page" links).
    pub web_base: String,
}

impl ErrorContext {
    fn subject(&self) -> String {
        match (&self.repo, &self.what) {
            (Some((kind, id)), _) => format!("{} '{}'", kind.as_str(), id),
            (None, Some(w)) => w.clone(),
            (None, None) => "the requested resource".to_string(),
        }
    }
    fn repo_page(&self) -> Option<String> {
        self.repo.as_ref().map(|(k, id)| format!("{}/{}{}", self.web_base.trim_end_matches('/'), k.url_prefix(), id))
    }
}

/// Parts of a non-success response needed to classify it.
pub(crate) struct ResponseParts {
    pub status: u16,
    pub error_code: Option<String>,
    pub server_message: Option<String>,
    pub retry_after: Option<Duration>,
    pub request_id: Option<String>,
}

fn with_server(msg: String, server: Option<&str>) -> String {
    match server {
        Some(s) if !s.is_empty() => format!("{msg} (Hub said: {s})"),
        _ => msg,
    }
}

pub(crate) fn classify(parts: ResponseParts, service: Service, ctx: &ErrorContext) -> HubError {
    use HubErrorKind as K;
    let subject = ctx.subject();
    let code = parts.error_code.as_deref();
    let server = parts.server_message.as_deref();
    let status = parts.status;
    let rev = ctx.revision.as_deref().unwrap_or("main");

    let (kind, message, retryable): (K, String, bool) = match (service, code, status) {
        (Service::Hub, Some("RepoNotFound"), _) => (
            K::RepoNotFound,
            if ctx.had_token {
                format!("The {subject} was not found, or your HF token has no access to it. Check the repo id ('owner/name') and the repo type.")
            } else {
                format!("The {subject} was not found. Check the repo id ('owner/name') and the repo type; if it is private, set a valid HF token with access to it.")
            },
            false,
        ),
        (Service::Hub, Some("GatedRepo"), _) => {
            let page = ctx
                .repo_page()
                .map(|p| format!(" ({p})"))
                .unwrap_or_default();
            (
                K::GatedRepo,
                if ctx.had_token {
                    format!("The {subject} is gated and your HF token has no access: accept the conditions on the repo page{page} and use a token with access to gated repositories.")
                } else {
                    format!("The {subject} is gated: accept the conditions on the repo page{page} and set an HF token (HF_TOKEN) of the account that accepted them.")
                },
                false,
            )
        }
        (Service::Hub, Some("RevisionNotFound"), _) => (
            K::RevisionNotFound,
            format!("Revision '{rev}' does not exist in the {subject}. Use an existing branch, tag or commit sha (default: 'main')."),
            false,
        ),
        (Service::Hub, Some("EntryNotFound"), _) => (
            K::EntryNotFound,
            match &ctx.path {
                Some(p) if !p.is_empty() => format!("'{p}' does not exist in the {subject} at revision '{rev}'. List the repository files to find the right path."),
                _ => format!("The requested file or folder does not exist in the {subject} at revision '{rev}'."),
            },
            false,
        ),
        (Service::DatasetsServer, Some("ExternalUnauthenticatedError"), _) => (
            K::RepoNotFound,
            format!("The dataset viewer cannot access the {subject}: it does not exist, or it is private or gated. Check the dataset id; if it is gated, accept its conditions and set an HF token with access."),
            false,
        ),
        (Service::DatasetsServer, Some("ExternalAuthenticatedError"), _) => (
            K::RepoNotFound,
            format!("The dataset viewer cannot access the {subject} with your HF token: it does not exist, is private (private datasets are not supported by the viewer), or is gated without access for this token."),
            false,
        ),
        (Service::DatasetsServer, Some("ResponseNotFound"), _) => (
            K::NotFound,
            format!("The dataset viewer has no data for this subset/split of the {subject}. Check the config and split names (list them with the splits call)."),
            false,
        ),
        (Service::DatasetsServer, Some("ResponseNotReady"), _) => (
            K::ServerError,
            format!("The dataset viewer is still processing the {subject}. Retry in a little while."),
            true,
        ),
        (Service::DatasetsServer, Some("MissingRequiredParameter" | "InvalidParameter"), _) => (
            K::BadRequest,
            with_server("The dataset viewer rejected the request parameters".into(), server),
            false,
        ),
        (_, _, 401) => (
            K::Unauthorized,
            if ctx.had_token {
                "The Hugging Face Hub rejected the HF token (invalid or expired). Set a valid HF token (HF_TOKEN).".to_string()
            } else {
                "Authentication required: set a valid HF token (HF_TOKEN).".to_string()
            },
            false,
        ),
        (_, _, 403) => (
            K::Forbidden,
            with_server(
                format!("Your HF token is not allowed to access the {subject}. Use a token with the required permissions (for fine-grained tokens, grant read access to this repository or organization)."),
                server,
            ),
            false,
        ),
        (_, _, 404) => (
            K::NotFound,
            format!("The {subject} was not found."),
            false,
        ),
        (_, _, 429) => (
            K::RateLimited,
            {
                let mut m = match parts.retry_after {
                    Some(d) => format!(
                        "Rate limited by the Hugging Face Hub: retry after {} s.",
                        d.as_secs_f64().ceil() as u64
                    ),
                    None => "Rate limited by the Hugging Face Hub: retry in a little while.".to_string(),
                };
                if !ctx.had_token {
                    m.push_str(" Authenticated requests (HF_TOKEN) get higher limits.");
                }
                m
            },
            true,
        ),
        (_, _, 400 | 422) => (
            K::BadRequest,
            with_server("The Hugging Face Hub rejected the request parameters".into(), server),
            false,
        ),
        (_, _, s) if s >= 500 => (
            K::ServerError,
            format!("The Hugging Face Hub returned a server error (HTTP {s}). This is usually temporary; try again shortly."),
            s != 501 && s != 505,
        ),
        (_, _, s) => (
            K::Other,
            with_server(format!("The Hugging Face Hub answered with HTTP {s}"), server),
            false,
        ),
    };
    HubError {
        kind,
        message,
        status: Some(parts.status),
        error_code: parts.error_code,
        server_message: parts.server_message,
        retry_after: parts.retry_after,
        request_id: parts.request_id,
        retryable,
        had_token: ctx.had_token,
    }
}

/// Map a transport-level failure (no HTTP response).
pub(crate) fn from_transport(e: &reqwest::Error, timeout: Duration, host: &str) -> HubError {
    if e.is_timeout() {
        HubError::bare(
            HubErrorKind::Timeout,
            format!(
                "The request to the Hugging Face Hub timed out after {} s. Try again, or raise HF_API_TIMEOUT (milliseconds).",
                trim_secs(timeout)
            ),
            true,
        )
    } else if e.is_connect() {
        HubError::bare(
            HubErrorKind::Connection,
            format!("Could not connect to {host}. Check network access and HF_ENDPOINT."),
            true,
        )
    } else if e.is_decode() && !broke_off(e) {
        HubError::invalid_response("the body could not be decoded")
    } else if e.is_redirect() {
        // The policy's own reason: too many hops, or a hop to an internal address.
        let why = std::error::Error::source(e).map_or("too many redirects".to_owned(), |s| s.to_string());
        HubError::invalid_response(why)
    } else {
        HubError::bare(
            HubErrorKind::Connection,
            format!("The connection to {host} failed before a complete response was received. Try again."),
            true,
        )
    }
}

/// Did the body stop because the connection did (reset, closed early), rather than because
/// its bytes could not be decoded? reqwest reports both as decode errors.
fn broke_off(e: &reqwest::Error) -> bool {
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if s.downcast_ref::<std::io::Error>().is_some() {
            return true;
        }
        source = s.source();
    }
    false
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

fn trim_secs(d: Duration) -> String {
    let s = format!("{:.1}", d.as_secs_f64());
    s.trim_end_matches(".0").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(status: u16, code: Option<&str>) -> ResponseParts {
        ResponseParts {
            status,
            error_code: code.map(str::to_string),
            server_message: Some("srv".into()),
            retry_after: None,
            request_id: None,
        }
    }

    fn ctx(had_token: bool) -> ErrorContext {
        ErrorContext {
            repo: Some((RepoKind::Model, "meta-llama/Llama-3.2-1B".into())),
            revision: Some("v2".into()),
            path: Some("config.json".into()),
            what: None,
            had_token,
            web_base: "https://huggingface.co".into(),
        }
    }

    #[test]
    fn messages_are_actionable() {
        let e = classify(parts(403, Some("GatedRepo")), Service::Hub, &ctx(true));
        assert_eq!(e.kind(), HubErrorKind::GatedRepo);
        assert!(e.message().contains("accept the conditions"));
        assert!(e.message().contains("https://huggingface.co/meta-llama/Llama-3.2-1B"));
        assert!(!e.is_retryable());

        let e = classify(parts(401, None), Service::Hub, &ctx(false));
        assert_eq!(e.kind(), HubErrorKind::Unauthorized);
        assert!(e.message().contains("set a valid HF token"));

        let mut p = parts(429, None);
        p.retry_after = Some(Duration::from_secs(7));
        let e = classify(p, Service::Hub, &ctx(true));
        assert_eq!(e.kind(), HubErrorKind::RateLimited);
        assert!(e.message().contains("retry after 7 s"));
        assert!(e.is_retryable());

        let e = classify(parts(404, Some("RevisionNotFound")), Service::Hub, &ctx(true));
        assert!(e.message().contains("'v2'"));
        let e = classify(parts(503, None), Service::Hub, &ctx(true));
        assert!(e.is_retryable());
        assert_eq!(e.to_json()["kind"], "server_error");
    }
}
