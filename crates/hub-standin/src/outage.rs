//! Upstream outages on demand: for a period, requests matching a host and/or path prefix
//! get a misbehaving answer — a hang, a reset mid-body, a 5xx storm, 429 with
//! `Retry-After`, an endless or huge body, malformed JSON, or a slow drip of bytes.
//!
//! One axum middleware layer ([`layer`]) in front of a router, so the routes behind it stay
//! untouched; both the Hub stand-in and the Spaces stand-in mount it. The layer also
//! serves its own control endpoint, `/__standin/outages` (`POST` an [`Outage`] as JSON,
//! `GET` the active ones, `DELETE` to end them all), which is never itself subject to an
//! outage. In process, use [`Outages::start`] / [`Outages::clear`].
//!
//! Unlike the older per-request fault rules (`FaultRule`, counted in requests), an outage
//! is a span of time: the upstream is down *for a while* and then recovers by itself,
//! which is what a circuit breaker and a "recovers after" test need.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

/// The control path served by the layer itself.
pub const CONTROL_PATH: &str = "/__standin/outages";
/// A hang never outlasts this, whatever the outage's duration (the stand-in's tasks end).
const MAX_HANG: Duration = Duration::from_secs(120);

/// How a matching request is answered during the outage.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Misbehaviour {
    /// No answer until the outage ends or is cleared (at most two minutes), then the normal answer:
    /// the client's own timeout is what ends its wait.
    Hang,
    /// The normal status and headers, about half of the body, then the connection is reset.
    Reset,
    /// A bare `status` (default 503) with a plain-text body, like a gateway error page.
    ServerError {
        #[serde(default = "default_5xx")]
        status: u16,
    },
    /// `429 Too Many Requests` with `Retry-After: retry_after_secs`.
    RateLimited {
        #[serde(default = "default_retry_after")]
        retry_after_secs: u64,
    },
    /// `200` JSON that never ends (chunks keep coming until the client gives up).
    Endless,
    /// `200` JSON announcing `bytes` in `Content-Length` (default 1 GiB) and streaming them.
    Huge {
        #[serde(default = "default_huge")]
        bytes: u64,
    },
    /// `200` with `application/json` (or an SSE event, for an SSE request) that is not JSON.
    MalformedJson,
    /// `200` (SSE for a POST, JSON otherwise) whose body trickles one byte every
    /// `interval_ms`, never completing a line.
    SlowDrip {
        #[serde(default = "default_drip")]
        interval_ms: u64,
    },
}

fn default_5xx() -> u16 {
    503
}
fn default_retry_after() -> u64 {
    2
}
fn default_huge() -> u64 {
    1 << 30
}
fn default_drip() -> u64 {
    200
}

impl Misbehaviour {
    /// A short stable name (`hang`, `reset`, `server_error`, …) for reports.
    pub fn name(&self) -> &'static str {
        match self {
            Misbehaviour::Hang => "hang",
            Misbehaviour::Reset => "reset",
            Misbehaviour::ServerError { .. } => "server_error",
            Misbehaviour::RateLimited { .. } => "rate_limited",
            Misbehaviour::Endless => "endless",
            Misbehaviour::Huge { .. } => "huge",
            Misbehaviour::MalformedJson => "malformed_json",
            Misbehaviour::SlowDrip { .. } => "slow_drip",
        }
    }
}

/// One outage: what, where, for how long.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Outage {
    #[serde(flatten)]
    pub misbehaviour: Misbehaviour,
    /// Only requests to this host (the `Host` header without its port: exactly it, or a
    /// name starting with `{host}.`, so a Space's subdomain alone names its host).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Only requests whose path starts with this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_prefix: Option<String>,
    /// How long the outage lasts from when it starts; `None`: until cleared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
}

impl Outage {
    /// `misbehaviour` for every request, until cleared.
    pub fn everywhere(misbehaviour: Misbehaviour) -> Self {
        Outage { misbehaviour, host: None, path_prefix: None, duration_ms: None }
    }
    pub fn host(mut self, host: &str) -> Self {
        self.host = Some(host.to_owned());
        self
    }
    pub fn path_prefix(mut self, prefix: &str) -> Self {
        self.path_prefix = Some(prefix.to_owned());
        self
    }
    pub fn lasting(mut self, d: Duration) -> Self {
        self.duration_ms = Some(d.as_millis() as u64);
        self
    }

    fn matches(&self, host: &str, path: &str) -> bool {
        let host_ok = self.host.as_deref().is_none_or(|h| {
            let h = h.to_ascii_lowercase();
            host == h || host.strip_prefix(h.as_str()).is_some_and(|rest| rest.starts_with('.'))
        });
        host_ok && self.path_prefix.as_deref().is_none_or(|p| path.starts_with(p))
    }
}

struct Active {
    outage: Outage,
    until: Option<Instant>,
}

/// The outages of one stand-in listener. Cheap to clone.
#[derive(Clone, Default)]
pub struct Outages {
    active: Arc<Mutex<Vec<Active>>>,
    /// Wakes the requests held by a hang when the outages are cleared.
    cleared: Arc<tokio::sync::Notify>,
}

impl Outages {
    /// Start an outage now (outages are tried in the order they were started).
    pub fn start(&self, outage: Outage) {
        let until = outage.duration_ms.map(|ms| Instant::now() + Duration::from_millis(ms));
        self.lock().push(Active { outage, until });
    }
    /// End every outage.
    pub fn clear(&self) {
        self.lock().clear();
        self.cleared.notify_waiters();
    }
    /// The outages still in effect.
    pub fn active(&self) -> Vec<Outage> {
        let now = Instant::now();
        self.lock().iter().filter(|a| a.until.is_none_or(|u| u > now)).map(|a| a.outage.clone()).collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Active>> {
        self.active.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The first outage in effect for this request, and when it ends; expired ones go.
    fn find(&self, host: &str, path: &str) -> Option<(Misbehaviour, Option<Instant>)> {
        let now = Instant::now();
        let mut active = self.lock();
        active.retain(|a| a.until.is_none_or(|u| u > now));
        active.iter().find(|a| a.outage.matches(host, path)).map(|a| (a.outage.misbehaviour.clone(), a.until))
    }
}

/// The middleware: `router.layer(axum::middleware::from_fn_with_state(outages, outage::layer))`.
pub async fn layer(State(outages): State<Outages>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    if path == CONTROL_PATH {
        return control(&outages, req).await;
    }
    if path.starts_with("/__standin/") {
        return next.run(req).await;
    }
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(|h| h.rsplit_once(':').map_or(h, |(name, _)| name).to_ascii_lowercase())
        .unwrap_or_default();
    let Some((misbehaviour, until)) = outages.find(&host, &path) else {
        return next.run(req).await;
    };
    let sse = req.method() == Method::POST;
    match misbehaviour {
        Misbehaviour::Hang => {
            let wake = Instant::now() + MAX_HANG;
            let cleared = outages.cleared.notified();
            tokio::select! {
                _ = tokio::time::sleep_until(until.map_or(wake, |u| u.min(wake))) => {}
                _ = cleared => {}
            }
            next.run(req).await
        }
        Misbehaviour::Reset => reset_mid_body(next.run(req).await).await,
        Misbehaviour::ServerError { status } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], "upstream outage (stand-in)")
                .into_response()
        }
        Misbehaviour::RateLimited { retry_after_secs } => {
            let mut r = (
                StatusCode::TOO_MANY_REQUESTS,
                [(header::CONTENT_TYPE, "application/json")],
                r#"{"error":"You have been rate-limited. Please retry later."}"#,
            )
                .into_response();
            r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            r
        }
        Misbehaviour::Endless => {
            let chunk = Bytes::from(r#"{"id":"endless/endless","likes":0},"#.repeat(2048));
            let body = futures_util::stream::once(async { Ok::<_, std::io::Error>(Bytes::from_static(b"[")) }).chain(
                futures_util::stream::unfold(chunk, |chunk| async move {
                    tokio::time::sleep(Duration::from_millis(2)).await;
                    Some((Ok(chunk.clone()), chunk))
                }),
            );
            json_response(Body::from_stream(body))
        }
        Misbehaviour::Huge { bytes } => {
            const CHUNK: usize = 256 * 1024;
            let body = futures_util::stream::unfold(bytes, |left| async move {
                if left == 0 {
                    return None;
                }
                let n = left.min(CHUNK as u64);
                Some((Ok::<_, std::io::Error>(Bytes::from(vec![b' '; n as usize])), left - n))
            });
            let mut r = json_response(Body::from_stream(body));
            r.headers_mut().insert(header::CONTENT_LENGTH, HeaderValue::from(bytes));
            r
        }
        Misbehaviour::MalformedJson => {
            let (ct, body) = if sse {
                ("text/event-stream", "data: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"content\":[{\"type\"\n\n")
            } else {
                ("application/json", "{\"id\": \"broken\", \"siblings\": [1, 2,")
            };
            (StatusCode::OK, [(header::CONTENT_TYPE, ct)], body).into_response()
        }
        Misbehaviour::SlowDrip { interval_ms } => {
            let every = Duration::from_millis(interval_ms.max(1));
            let opening: &'static [u8] =
                if sse { b"data: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"x\":\"" } else { b"[" };
            let body = futures_util::stream::once(async move { Ok::<_, std::io::Error>(Bytes::from_static(opening)) })
                .chain(futures_util::stream::unfold((), move |()| async move {
                    tokio::time::sleep(every).await;
                    Some((Ok(Bytes::from_static(b" ")), ()))
                }));
            let ct = if sse { "text/event-stream" } else { "application/json" };
            let mut r = Response::new(Body::from_stream(body));
            r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
            r
        }
    }
}

fn json_response(body: Body) -> Response {
    let mut r = Response::new(body);
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

/// The response's status and headers, roughly half its body (at least one byte), then an
/// I/O error, which makes the server abort the connection.
async fn reset_mid_body(resp: Response) -> Response {
    let (parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, 64 * 1024 * 1024).await.unwrap_or_default();
    let half = bytes.slice(..(bytes.len() / 2).max(1).min(bytes.len()));
    let first = futures_util::stream::once(async move { Ok(half) });
    // A pause, so the headers and the first half are on the wire before the reset.
    let reset = futures_util::stream::once(async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "outage: connection reset"))
    });
    let stream = first.chain(reset);
    let mut parts = parts;
    parts.headers.insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len().max(2)));
    Response::from_parts(parts, Body::from_stream(stream))
}

async fn control(outages: &Outages, req: Request) -> Response {
    match *req.method() {
        Method::GET => axum::Json(outages.active()).into_response(),
        Method::DELETE => {
            outages.clear();
            StatusCode::NO_CONTENT.into_response()
        }
        Method::POST => {
            let body = axum::body::to_bytes(req.into_body(), 64 * 1024).await.unwrap_or_default();
            match serde_json::from_slice::<Outage>(&body) {
                Ok(o) => {
                    outages.start(o);
                    StatusCode::NO_CONTENT.into_response()
                }
                Err(e) => (StatusCode::BAD_REQUEST, format!("invalid outage: {e}")).into_response(),
            }
        }
        _ => StatusCode::METHOD_NOT_ALLOWED.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outages_parse_and_match() {
        let o: Outage = serde_json::from_str(r#"{"kind":"rate_limited","retry_after_secs":7,"host":"abc"}"#).unwrap();
        assert_eq!(o.misbehaviour, Misbehaviour::RateLimited { retry_after_secs: 7 });
        assert!(o.matches("abc.hf.space", "/x"));
        assert!(o.matches("abc", "/x"));
        assert!(!o.matches("abcd.hf.space", "/x"));
        let o: Outage = serde_json::from_str(r#"{"kind":"server_error","path_prefix":"/api/models"}"#).unwrap();
        assert_eq!(o.misbehaviour, Misbehaviour::ServerError { status: 503 });
        assert!(o.matches("127.0.0.1", "/api/models/x"));
        assert!(!o.matches("127.0.0.1", "/api/datasets"));
        assert!(serde_json::from_str::<Outage>(r#"{"kind":"nonsense"}"#).is_err());
    }

    #[tokio::test]
    async fn outages_expire() {
        let o = Outages::default();
        o.start(Outage::everywhere(Misbehaviour::Reset).lasting(Duration::ZERO));
        o.start(Outage::everywhere(Misbehaviour::Endless).host("x"));
        assert_eq!(o.find("x", "/").map(|f| f.0), Some(Misbehaviour::Endless));
        assert_eq!(o.active().len(), 1);
        o.clear();
        assert!(o.find("x", "/").is_none());
    }
}
