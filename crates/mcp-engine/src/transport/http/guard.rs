//! DNS-rebinding protection: the `Host` and `Origin` of every HTTP request must name an
//! allowed host. By default only loopback names are allowed, which is right for a server
//! on a developer machine; a public deployment configures its own host names.
//!
//! Browser origins are allowed by host name ([`GuardConfig::origins`]) or by full origin
//! ([`GuardConfig::cors_origins`], e.g. `https://app.example.com`, `https://*.example.com`).
//! [`GuardConfig::origin_allowed`] is the one predicate: the CORS layer answers exactly the
//! origins the guard lets through, so a page is either served and readable, or refused.

use axum::response::{IntoResponse, Response};
use http::{header, StatusCode};
use std::sync::Arc;

/// Which host names a request may name.
#[derive(Debug, Clone)]
pub enum HostPolicy {
    Any,
    /// Lower-case host names without port (`localhost`, `127.0.0.1`, `[::1]`); `*.example.com`
    /// names every subdomain of `example.com` (not `example.com` itself).
    List(Vec<String>),
}

impl HostPolicy {
    pub fn loopback() -> Self {
        HostPolicy::List(vec!["localhost".into(), "127.0.0.1".into(), "[::1]".into()])
    }

    /// Parse a comma-separated list; `*` allows any host.
    pub fn parse(list: &str) -> Self {
        let items: Vec<String> =
            list.split(',').map(|s| s.trim().to_ascii_lowercase()).filter(|s| !s.is_empty()).collect();
        if items.iter().any(|s| s == "*") {
            HostPolicy::Any
        } else {
            HostPolicy::List(items)
        }
    }

    pub fn allows(&self, host: &str) -> bool {
        match self {
            HostPolicy::Any => true,
            HostPolicy::List(list) => {
                let host = host.to_ascii_lowercase();
                let host = host.trim_end_matches('.');
                list.iter().any(|entry| host_matches(host, entry))
            }
        }
    }

    /// This policy plus the given host names (`Any` stays `Any`).
    pub fn with(self, more: &HostPolicy) -> Self {
        match (self, more) {
            (HostPolicy::List(mut a), HostPolicy::List(b)) => {
                a.extend(b.iter().filter(|h| !a.contains(h)).cloned().collect::<Vec<_>>());
                HostPolicy::List(a)
            }
            _ => HostPolicy::Any,
        }
    }
}

/// `host` (lower case) against one entry: exact, or `*.suffix` for strict subdomains.
fn host_matches(host: &str, entry: &str) -> bool {
    match entry.strip_prefix("*.") {
        Some(suffix) => {
            host.len() > suffix.len() + 1 && host.ends_with(suffix) && host[..host.len() - suffix.len()].ends_with('.')
        }
        None => host == entry,
    }
}

/// Full browser origins (scheme, host, port) allowed in addition to [`GuardConfig::origins`]:
/// `https://app.example.com`, `https://*.example.com` (any subdomain, any port, that
/// scheme), `*.example.com` (any scheme), or `*` (every origin).
#[derive(Debug, Clone, Default)]
pub struct OriginPatterns {
    any: bool,
    /// Lower-case, without trailing slash.
    exact: Vec<String>,
    /// (scheme if given, host suffix) of `*.` patterns.
    wildcards: Vec<(Option<String>, String)>,
}

impl OriginPatterns {
    /// Parse a comma-separated list (the syntax of hf-mcp-server's `CORS_ALLOWED_ORIGINS`).
    pub fn parse(list: &str) -> Self {
        let mut p = OriginPatterns::default();
        for item in list.split(',').map(|s| s.trim().trim_end_matches('/').to_ascii_lowercase()) {
            if item.is_empty() {
                continue;
            }
            if item == "*" {
                p.any = true;
                continue;
            }
            let (scheme, host) = match item.split_once("://") {
                Some((scheme, host)) => (Some(scheme.to_owned()), host.to_owned()),
                None => (None, item.clone()),
            };
            match host.strip_prefix("*.") {
                Some(suffix) if !suffix.is_empty() => p.wildcards.push((scheme, suffix.to_owned())),
                Some(_) => {}
                None => p.exact.push(item),
            }
        }
        p
    }

    pub fn is_empty(&self) -> bool {
        !self.any && self.exact.is_empty() && self.wildcards.is_empty()
    }

    pub fn allows(&self, origin: &str) -> bool {
        if self.any {
            return true;
        }
        let origin = origin.trim().trim_end_matches('/').to_ascii_lowercase();
        if self.exact.contains(&origin) {
            return true;
        }
        let Some((scheme, _)) = origin.split_once("://") else { return false };
        let Some(host) = origin_host(&origin) else { return false };
        self.wildcards
            .iter()
            .any(|(s, suffix)| s.as_deref().is_none_or(|s| s == scheme) && host_matches(host, &format!("*.{suffix}")))
    }
}

#[derive(Debug, Clone)]
pub struct GuardConfig {
    pub hosts: HostPolicy,
    /// Browser origins allowed by host name (any scheme and port).
    pub origins: HostPolicy,
    /// Browser origins allowed by full origin (CORS allow-list).
    pub cors_origins: OriginPatterns,
}

impl Default for GuardConfig {
    fn default() -> Self {
        GuardConfig {
            hosts: HostPolicy::loopback(),
            origins: HostPolicy::loopback(),
            cors_origins: OriginPatterns::default(),
        }
    }
}

/// Strip the port from a `Host` value (`[::1]:3000` → `[::1]`, `a.b:80` → `a.b`).
fn host_name(authority: &str) -> &str {
    if authority.starts_with('[') {
        return match authority.find(']') {
            Some(end) => &authority[..=end],
            None => authority,
        };
    }
    authority
        .rsplit_once(':')
        .map_or(authority, |(h, port)| if port.bytes().all(|b| b.is_ascii_digit()) { h } else { authority })
}

/// The host of an `Origin` value (`http://localhost:3000` → `localhost`).
fn origin_host(origin: &str) -> Option<&str> {
    let (_, rest) = origin.split_once("://")?;
    let authority = rest.split('/').next()?;
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    Some(host_name(authority))
}

impl GuardConfig {
    /// May a browser page of this origin (the `Origin` header's value) call us?
    pub fn origin_allowed(&self, origin: &str) -> bool {
        origin_host(origin).is_some_and(|h| self.origins.allows(h)) || self.cors_origins.allows(origin)
    }

    /// The rejection for a request naming a foreign host or origin, if it does.
    pub fn check(&self, headers: &http::HeaderMap, uri: &http::Uri) -> Option<Response> {
        self.check_host(headers, uri).or_else(|| {
            let origin = headers.get(header::ORIGIN)?;
            let ok = origin.to_str().ok().is_some_and(|o| self.origin_allowed(o));
            (!ok).then(|| forbidden("Forbidden: Origin not allowed"))
        })
    }

    /// The rejection for a request naming a foreign host, if it does (public documents
    /// any origin may read still check the host: DNS rebinding).
    pub fn check_host(&self, headers: &http::HeaderMap, uri: &http::Uri) -> Option<Response> {
        let host =
            headers.get(header::HOST).and_then(|v| v.to_str().ok()).or_else(|| uri.authority().map(|a| a.as_str()));
        match host {
            Some(host) if !self.hosts.allows(host_name(host)) => Some(forbidden("Forbidden: Host not allowed")),
            _ => None,
        }
    }
}

/// A tower layer applying [`GuardConfig::check`] in front of every route. Hand-written
/// rather than `middleware::from_fn` so the hot path allocates nothing for it.
#[derive(Clone)]
pub struct GuardLayer {
    config: Arc<GuardConfig>,
    any_origin: bool,
}

impl GuardLayer {
    pub fn new(config: GuardConfig) -> Self {
        GuardLayer { config: Arc::new(config), any_origin: false }
    }

    /// Checks `Host` only: for public read-only documents every origin may fetch.
    pub fn hosts_only(config: GuardConfig) -> Self {
        GuardLayer { config: Arc::new(config), any_origin: true }
    }
}

impl<S> tower::Layer<S> for GuardLayer {
    type Service = Guard<S>;
    fn layer(&self, inner: S) -> Guard<S> {
        Guard { inner, config: self.config.clone(), any_origin: self.any_origin }
    }
}

#[derive(Clone)]
pub struct Guard<S> {
    inner: S,
    config: Arc<GuardConfig>,
    any_origin: bool,
}

impl<S, B> tower::Service<http::Request<B>> for Guard<S>
where
    S: tower::Service<http::Request<B>, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = futures_util::future::Either<std::future::Ready<Result<Response, S::Error>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let rejection = if self.any_origin {
            self.config.check_host(req.headers(), req.uri())
        } else {
            self.config.check(req.headers(), req.uri())
        };
        match rejection {
            Some(rejection) => futures_util::future::Either::Left(std::future::ready(Ok(rejection))),
            None => futures_util::future::Either::Right(self.inner.call(req)),
        }
    }
}

/// A JSON-RPC error with `"id": null` (JSON-RPC 2.0 requires the member when the request
/// id is unknown), written by the same writer as every other error.
fn forbidden(message: &'static str) -> Response {
    let mut body = Vec::with_capacity(96);
    crate::jsonrpc::write_error(&mut body, None, &crate::jsonrpc::McpError::invalid_request(message));
    (StatusCode::FORBIDDEN, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_and_origin_parsing() {
        assert_eq!(host_name("127.0.0.1:3000"), "127.0.0.1");
        assert_eq!(host_name("[::1]:3000"), "[::1]");
        assert_eq!(host_name("localhost"), "localhost");
        assert_eq!(origin_host("http://localhost:5173"), Some("localhost"));
        assert_eq!(origin_host("https://evil.example.com"), Some("evil.example.com"));
        assert_eq!(origin_host("null"), None);
        let p = HostPolicy::loopback();
        assert!(p.allows("LOCALHOST") && p.allows("[::1]") && !p.allows("evil.example.com"));
        assert!(HostPolicy::parse("a.com, *").allows("x"));
        assert!(HostPolicy::parse("hf.co,example.org").allows("example.org"));
        let wild = HostPolicy::parse("*.example.com");
        assert!(wild.allows("a.example.com") && wild.allows("A.B.Example.com."));
        assert!(!wild.allows("example.com") && !wild.allows("badexample.com"));
    }

    #[test]
    fn origin_patterns() {
        let p = OriginPatterns::parse("https://huggingface.co/, https://*.use-mcp.dev, *.hf.space");
        assert!(p.allows("https://huggingface.co") && p.allows("HTTPS://HuggingFace.co/"));
        assert!(!p.allows("http://huggingface.co") && !p.allows("https://huggingface.co:8443"));
        assert!(p.allows("https://a.use-mcp.dev:444") && !p.allows("http://a.use-mcp.dev"));
        assert!(!p.allows("https://use-mcp.dev") && !p.allows("https://evil-use-mcp.dev"));
        assert!(p.allows("http://x.hf.space") && p.allows("https://x.hf.space"));
        assert!(!p.allows("null") && OriginPatterns::parse("*").allows("https://anything.example"));
        let guard = GuardConfig { cors_origins: p, ..GuardConfig::default() };
        assert!(guard.origin_allowed("http://localhost:5173") && guard.origin_allowed("https://huggingface.co"));
        assert!(!guard.origin_allowed("https://evil.example.com"));
    }
}
