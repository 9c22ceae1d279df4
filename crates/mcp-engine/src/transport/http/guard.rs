//! DNS-rebinding protection: the `Host` and `Origin` of every HTTP request must name an
//! allowed host. By default only loopback names are allowed, which is right for a server
//! on a developer machine; a public deployment configures its own host names.

use axum::response::{IntoResponse, Response};
use http::{header, StatusCode};
use std::sync::Arc;

/// Which host names a request may name.
#[derive(Debug, Clone)]
pub enum HostPolicy {
    Any,
    /// Lower-case host names without port (`localhost`, `127.0.0.1`, `[::1]`).
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
                list.contains(&host)
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct GuardConfig {
    pub hosts: HostPolicy,
    pub origins: HostPolicy,
}

impl Default for GuardConfig {
    fn default() -> Self {
        GuardConfig { hosts: HostPolicy::loopback(), origins: HostPolicy::loopback() }
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
    /// The rejection for a request naming a foreign host or origin, if it does.
    pub fn check(&self, headers: &http::HeaderMap, uri: &http::Uri) -> Option<Response> {
        let host =
            headers.get(header::HOST).and_then(|v| v.to_str().ok()).or_else(|| uri.authority().map(|a| a.as_str()));
        if let Some(host) = host {
            if !self.hosts.allows(host_name(host)) {
                return Some(forbidden("Forbidden: Host not allowed"));
            }
        }
        if let Some(origin) = headers.get(header::ORIGIN) {
            let ok = origin.to_str().ok().and_then(origin_host).is_some_and(|h| self.origins.allows(h));
            if !ok {
                return Some(forbidden("Forbidden: Origin not allowed"));
            }
        }
        None
    }
}

/// A tower layer applying [`GuardConfig::check`] in front of every route. Hand-written
/// rather than `middleware::from_fn` so the hot path allocates nothing for it.
#[derive(Clone)]
pub struct GuardLayer {
    config: Arc<GuardConfig>,
}

impl GuardLayer {
    pub fn new(config: GuardConfig) -> Self {
        GuardLayer { config: Arc::new(config) }
    }
}

impl<S> tower::Layer<S> for GuardLayer {
    type Service = Guard<S>;
    fn layer(&self, inner: S) -> Guard<S> {
        Guard { inner, config: self.config.clone() }
    }
}

#[derive(Clone)]
pub struct Guard<S> {
    inner: S,
    config: Arc<GuardConfig>,
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
        match self.config.check(req.headers(), req.uri()) {
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
    }
}
