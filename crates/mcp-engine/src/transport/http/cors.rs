//! CORS for web clients: a page on an allowed origin may call the endpoint with `fetch`
//! and read what it needs (`Mcp-Session-Id`, `Mcp-Protocol-Version`, `WWW-Authenticate`).
//!
//! Which origins are allowed is the guard's decision ([`GuardConfig::origin_allowed`]), so
//! the two never disagree: the guard refuses a foreign origin with 403 before this layer
//! runs, and every origin it lets through gets `Access-Control-Allow-Origin` here.
//! Credentials mode is not offered: MCP clients send their token in `Authorization`,
//! which a plain CORS request may carry once the preflight allows the header.
//! Requests without `Origin` (every non-browser client) pass through untouched, without
//! an allocation.

use std::sync::Arc;

use axum::response::{IntoResponse, Response};
use futures_util::future::{BoxFuture, Either};
use http::{header, HeaderMap, HeaderValue, Method, StatusCode};

use super::guard::GuardConfig;

/// Response headers a page's script may read.
pub const EXPOSED_HEADERS: &str = "Mcp-Session-Id, Mcp-Protocol-Version, WWW-Authenticate";
const ALLOWED_METHODS: &str = "GET, POST, DELETE, OPTIONS";
/// Request headers allowed when the preflight names none we can echo.
const DEFAULT_ALLOWED_HEADERS: &str =
    "Content-Type, Accept, Authorization, Mcp-Session-Id, Mcp-Protocol-Version, Last-Event-ID, Mcp-Method, Mcp-Name";

#[derive(Clone)]
pub struct CorsLayer {
    guard: Arc<GuardConfig>,
}

impl CorsLayer {
    pub fn new(guard: GuardConfig) -> Self {
        CorsLayer { guard: Arc::new(guard) }
    }
}

impl<S> tower::Layer<S> for CorsLayer {
    type Service = Cors<S>;
    fn layer(&self, inner: S) -> Cors<S> {
        Cors { inner, guard: self.guard.clone() }
    }
}

#[derive(Clone)]
pub struct Cors<S> {
    inner: S,
    guard: Arc<GuardConfig>,
}

type Ready<E> = std::future::Ready<Result<Response, E>>;

impl<S, B> tower::Service<http::Request<B>> for Cors<S>
where
    S: tower::Service<http::Request<B>, Response = Response>,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Either<Either<Ready<S::Error>, S::Future>, BoxFuture<'static, Result<Response, S::Error>>>;

    fn poll_ready(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let origin = req
            .headers()
            .get(header::ORIGIN)
            .filter(|o| o.to_str().is_ok_and(|o| self.guard.origin_allowed(o)))
            .cloned();
        let Some(origin) = origin else { return Either::Left(Either::Right(self.inner.call(req))) };
        if req.method() == Method::OPTIONS && req.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD) {
            return Either::Left(Either::Left(std::future::ready(Ok(preflight(origin, req.headers())))));
        }
        let fut = self.inner.call(req);
        Either::Right(Box::pin(async move {
            let mut r = fut.await?;
            allow(r.headers_mut(), origin);
            r.headers_mut().insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static(EXPOSED_HEADERS));
            Ok(r)
        }))
    }
}

/// The answer to a preflight from an allowed origin: any method the endpoint serves, the
/// request headers it asked for (the MCP headers include per-tool `Mcp-Param-*` names).
fn preflight(origin: HeaderValue, request: &HeaderMap) -> Response {
    let mut r = StatusCode::NO_CONTENT.into_response();
    let h = r.headers_mut();
    allow(h, origin);
    h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static(ALLOWED_METHODS));
    let asked = request.get(header::ACCESS_CONTROL_REQUEST_HEADERS).cloned();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        asked.unwrap_or_else(|| HeaderValue::from_static(DEFAULT_ALLOWED_HEADERS)),
    );
    h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("86400"));
    h.append(header::VARY, HeaderValue::from_static("Access-Control-Request-Method, Access-Control-Request-Headers"));
    r
}

fn allow(h: &mut HeaderMap, origin: HeaderValue) {
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    h.append(header::VARY, HeaderValue::from_static("Origin"));
}
