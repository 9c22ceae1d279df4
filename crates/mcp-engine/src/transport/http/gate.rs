//! The gate in front of every MCP HTTP endpoint (Streamable HTTP in both eras, HTTP+SSE):
//! authentication ([`crate::auth`]) and request rate limits ([`crate::limits`]), before
//! the body is read. A tower layer ([`GateLayer`]), like [`super::guard`]: a request that
//! needs no token validation passes without an allocation; validating a bearer awaits the
//! authenticator in a boxed future.
//!
//! An admitted request carries an [`Admitted`] in its extensions: the validated caller
//! and the client address, which the transports put into `RequestInfo`. A rejected one is
//! answered here: 401 + `WWW-Authenticate` (invalid token, or an anonymous request that
//! asked for the challenge with `?login`), 429 + `Retry-After` (rate limit), or 503.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::ConnectInfo;
use axum::response::Response;
use futures_util::future::{BoxFuture, Either, Ready};
use http::{header, HeaderValue, StatusCode};

use super::reply::{error_response, json_response};
use crate::auth::{self, AuthConfig, AuthRejection};
use crate::dispatch::Engine;
use crate::jsonrpc::McpError;
use crate::limits::{retry_after_secs, Decision, LimitKey, RateLimitConfig, RateLimiter, SharedLimits};
use crate::protocol::Caller;

/// What the gate established about a request it let through.
#[derive(Clone, Debug)]
pub(crate) struct Admitted {
    pub caller: Caller,
    pub remote: Option<IpAddr>,
}

pub(crate) struct Gate {
    auth: AuthConfig,
    limiter: Option<RateLimiter>,
    trust_forwarded_for: bool,
    /// The MCP endpoint path (names the metadata document in challenges).
    path: String,
    engine: Engine,
    /// Limits counted across instances (the local limiter is the fallback).
    shared: Option<Arc<dyn SharedLimits>>,
}

impl Gate {
    pub(crate) fn new(
        auth: AuthConfig,
        limits: Option<RateLimitConfig>,
        shared: Option<Arc<dyn SharedLimits>>,
        path: &str,
        engine: Engine,
    ) -> Gate {
        let trust_forwarded_for = limits.as_ref().is_some_and(|l| l.trust_forwarded_for);
        let limiter = limits.map(RateLimiter::new);
        Gate { auth, limiter, trust_forwarded_for, path: path.to_owned(), engine, shared }
    }

    pub(crate) fn auth(&self) -> &AuthConfig {
        &self.auth
    }

    /// The caller, when it is known without awaiting the authenticator (`Ok(None)`: a
    /// bearer to validate).
    fn caller_now(&self, head: &http::request::Parts) -> Result<Option<Caller>, Response> {
        match (auth::bearer_of(&head.headers), &self.auth.authenticator) {
            (None, _) => {
                if self.auth.resource.is_some() && auth::forces_auth(head.uri.query(), &self.auth.force_params) {
                    return Err(self.challenge(&head.headers, &head.uri, None));
                }
                Ok(Some(Caller::anonymous()))
            }
            (Some(token), None) => Ok(Some(auth::unvalidated_caller(Some(token)))),
            (Some(_), Some(_)) => Ok(None),
        }
    }

    /// Who a rate limit counts: only a validated identity earns the authenticated limits;
    /// anything else is keyed by address (random bearers must not mint fresh buckets).
    fn limit_key(&self, caller: &Caller, remote: Option<IpAddr>) -> Option<LimitKey> {
        match (&caller.id, &self.auth.authenticator) {
            (Some(id), Some(_)) => Some(LimitKey::Caller(id.to_string())),
            _ => remote.map(LimitKey::Address),
        }
    }

    /// Rate-limit an identified caller in this process; on success the request's
    /// extensions hold [`Admitted`].
    fn admit(&self, head: &mut http::request::Parts, caller: Caller) -> Result<(), Response> {
        let remote = self.client_address(&head.headers, &head.extensions);
        if let (Some(limiter), Some(key)) = (&self.limiter, self.limit_key(&caller, remote)) {
            self.verdict(limiter.check(&key))?;
        }
        self.admitted(head, caller, remote);
        Ok(())
    }

    /// [`Gate::admit`] with the limits every instance shares; if they cannot be reached,
    /// this process's limiter decides (counted by the observer).
    async fn admit_shared(&self, head: &mut http::request::Parts, caller: Caller) -> Result<(), Response> {
        let remote = self.client_address(&head.headers, &head.extensions);
        if let (Some(limiter), Some(key)) = (&self.limiter, self.limit_key(&caller, remote)) {
            let shared = self.shared.as_ref().expect("admit_shared needs shared limits");
            let rate = limiter.rate_for(&key);
            let decision = match shared.take(&format!("rate:{}", key.storage_key()), rate).await {
                Ok(d) => d,
                Err(_) => {
                    self.engine.observer().limits_fallback();
                    limiter.check(&key)
                }
            };
            self.verdict(decision)?;
        }
        self.admitted(head, caller, remote);
        Ok(())
    }

    fn verdict(&self, decision: Decision) -> Result<(), Response> {
        match decision {
            Decision::Allowed { .. } => Ok(()),
            Decision::Limited { limit, retry_after } => {
                self.engine.observer().quota_rejected("rate_limit");
                Err(too_many(limit, retry_after_secs(retry_after)))
            }
        }
    }

    fn admitted(&self, head: &mut http::request::Parts, caller: Caller, remote: Option<IpAddr>) {
        // Without validation or a forwarded address, `admitted` derives the same values
        // from the request itself: skip the extension (an allocation on the hot path).
        if self.auth.authenticator.is_some() || self.trust_forwarded_for {
            head.extensions.insert(Admitted { caller, remote });
        }
    }

    /// Must the request wait for the authenticator or the shared limits?
    fn needs_await(&self, caller: &Option<Caller>) -> bool {
        caller.is_none() || (self.shared.is_some() && self.limiter.is_some())
    }

    fn client_address(&self, headers: &http::HeaderMap, extensions: &http::Extensions) -> Option<IpAddr> {
        if self.trust_forwarded_for {
            let forwarded = headers
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .and_then(|v| v.trim().parse::<IpAddr>().ok());
            if forwarded.is_some() {
                return forwarded;
            }
        }
        extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip())
    }

    fn challenge(&self, headers: &http::HeaderMap, uri: &http::Uri, rejection: Option<&AuthRejection>) -> Response {
        let status = rejection.map_or(StatusCode::UNAUTHORIZED, |r| r.status);
        let message = match rejection {
            Some(r) if r.status == StatusCode::SERVICE_UNAVAILABLE => {
                format!("Service Unavailable: {}", r.description)
            }
            Some(r) => format!("Unauthorized: {}", r.description),
            None => "Unauthorized: authentication required (the request asked to log in)".to_owned(),
        };
        let mut resp = error_response(None, &McpError::new(-32001, message).with_status(status));
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            let value = match &self.auth.resource {
                Some(resource) => {
                    let base = auth::public_base(resource, headers);
                    auth::challenge(&auth::metadata_url(&base, &self.path, uri.query()), rejection)
                }
                None => "Bearer".to_owned(),
            };
            if let Ok(v) = HeaderValue::from_str(&value) {
                resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
            }
        }
        if let Some(after) = rejection.and_then(|r| r.retry_after) {
            resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs(after)));
        }
        resp
    }
}

fn too_many(limit: u32, retry_after: u64) -> Response {
    let err = McpError::new(
        -32000,
        format!("Too Many Requests: the request rate limit is exceeded; retry in {retry_after} s"),
    )
    .with_data(serde_json::json!({ "retryAfterSeconds": retry_after }))
    .with_status(StatusCode::TOO_MANY_REQUESTS);
    let mut resp = error_response(None, &err);
    let h = resp.headers_mut();
    h.insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
    h.insert("ratelimit-limit", HeaderValue::from(limit));
    h.insert("ratelimit-remaining", HeaderValue::from(0u32));
    h.insert("ratelimit-reset", HeaderValue::from(retry_after));
    resp
}

/// The caller and client address of an admitted request (requests that did not pass a
/// gate — e.g. built in tests — are identified by their bearer's hash).
pub(crate) fn admitted(parts: &http::request::Parts) -> Admitted {
    match parts.extensions.get::<Admitted>() {
        Some(a) => a.clone(),
        None => Admitted {
            caller: auth::unvalidated_caller(auth::bearer_of(&parts.headers)),
            remote: parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip()),
        },
    }
}

/// `GET /.well-known/oauth-protected-resource[/<path>]`.
pub(crate) fn metadata_response(auth: &AuthConfig, headers: &http::HeaderMap, path: &str) -> Response {
    let Some(resource) = &auth.resource else {
        return error_response(None, &McpError::invalid_request("Not Found").with_status(StatusCode::NOT_FOUND));
    };
    let base = auth::public_base(resource, headers);
    let body = serde_json::to_vec(&auth::metadata_document(resource, &base, path)).expect("serializes");
    let mut r = json_response(StatusCode::OK, body);
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    r.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    r
}

/// Puts a [`Gate`] in front of a service.
#[derive(Clone)]
pub(crate) struct GateLayer {
    gate: Arc<Gate>,
}

impl GateLayer {
    pub(crate) fn new(gate: Arc<Gate>) -> Self {
        GateLayer { gate }
    }
}

impl<S> tower::Layer<S> for GateLayer {
    type Service = GateService<S>;
    fn layer(&self, inner: S) -> GateService<S> {
        GateService { inner, gate: self.gate.clone() }
    }
}

#[derive(Clone)]
pub(crate) struct GateService<S> {
    inner: S,
    gate: Arc<Gate>,
}

type GateFuture<F, E> = Either<Either<Ready<Result<Response, E>>, F>, BoxFuture<'static, Result<Response, E>>>;

impl<S, B> tower::Service<http::Request<B>> for GateService<S>
where
    S: tower::Service<http::Request<B>, Response = Response> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    B: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = GateFuture<S::Future, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let ready = |r: Response| Either::Left(Either::Left(futures_util::future::ready(Ok(r))));
        let (mut parts, body) = req.into_parts();
        let caller = match self.gate.caller_now(&parts) {
            Err(rejection) => return ready(rejection),
            Ok(c) => c,
        };
        if !self.gate.needs_await(&caller) {
            let caller = caller.expect("known without awaiting");
            return match self.gate.admit(&mut parts, caller) {
                Ok(()) => Either::Left(Either::Right(self.inner.call(http::Request::from_parts(parts, body)))),
                Err(r) => ready(r),
            };
        }
        // A bearer to validate (a cached verdict is quick) or shared limits to consult.
        let gate = self.gate.clone();
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Either::Right(Box::pin(async move {
            let caller = match caller {
                Some(c) => c,
                None => {
                    let authenticator = gate.auth.authenticator.as_ref().expect("checked by caller_now");
                    let token = auth::bearer_of(&parts.headers).unwrap_or_default().to_owned();
                    match authenticator.authenticate(&token).await {
                        Ok(c) => c,
                        Err(rejection) => return Ok(gate.challenge(&parts.headers, &parts.uri, Some(&rejection))),
                    }
                }
            };
            let admitted = if gate.shared.is_some() {
                gate.admit_shared(&mut parts, caller).await
            } else {
                gate.admit(&mut parts, caller)
            };
            match admitted {
                Ok(()) => inner.call(http::Request::from_parts(parts, body)).await,
                Err(r) => Ok(r),
            }
        }))
    }
}
