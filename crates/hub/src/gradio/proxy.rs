//! Calling a Space's tool: hubmcp acts as an MCP client of the Space's Streamable HTTP
//! endpoint (`/gradio_api/mcp/`).
//!
//! * One round trip per call in the steady state: the first call of a caller to a Space runs
//!   `initialize` → `notifications/initialized` → `tools/call`; the session it establishes
//!   (or, for a stateless Space such as Gradio's MCP server, the fact that none is needed)
//!   is kept in the [`SessionPool`] and later calls send only `tools/call`. A pooled session
//!   the Space refuses (400/404, before anything ran) is forgotten and the call retried
//!   once with a fresh handshake. Connections come from one keep-alive pool (the
//!   `reqwest::Client` of [`super::Gradio`]); every response body is read to its end, in the
//!   background when the result came before the end, so connections are reused.
//! * The caller's token is forwarded as `X-HF-Authorization: Bearer …` (the header Spaces
//!   read, so ZeroGPU quota is the caller's); it never appears in a message or log.
//! * Progress is asked for upstream (`_meta.progressToken`) only when the caller asked for
//!   it (Gradio runs a call with a token through its queue with status updates, which costs
//!   hundreds of milliseconds). Upstream progress notifications are relayed to the caller
//!   (`ctx.progress`) and each one extends the upstream timeout; a call with neither
//!   progress nor result for `call_timeout` is abandoned. Without progress any complete line
//!   from the Space (its SSE keep-alive comments) extends it. No call runs longer than
//!   `max_call_duration`.
//! * Calls go through the Space host's circuit breaker: while it is open they fail at once
//!   with "retry after N s"; timeouts, connection failures, broken streams and 5xx count
//!   against it, any other answer for it.
//! * The result is passed through verbatim (`ToolOutput::Raw`) unless it must change:
//!   images dropped (`?no_image_content=true`), file URLs pointed at the replica that made
//!   them (`X-Proxied-Replica`), or a token echoed back (scrubbed).
//! * Replica stickiness: the replica named by the Space's `X-Proxied-Replica` is sent back
//!   on the session's later requests.
//! * A call that fails or is cancelled `DELETE`s its session (not given back to the pool).
//! * Every failure (refused, unreachable, HTTP error, timeout, disconnect, oversized or
//!   malformed answer, JSON-RPC error) becomes a tool result with `isError: true`.

use std::time::Duration;

use mcp_engine::provider::ToolOutput;
use mcp_engine::Ctx;
use serde_json::value::RawValue;
use serde_json::Value;
use tokio::time::Instant;

use super::discovery::{read_capped, sensitive_bearer, transport_error, Failure, SpaceMeta};
use super::frames::{self, classify, EventDecoder};
use super::session_pool::{PoolKey, SessionPool, UpstreamSession};
use super::GradioConfig;

/// The protocol revision hubmcp speaks to Spaces.
const UPSTREAM_VERSION: &str = "2025-06-18";
const ACCEPT: &str = "application/json, text/event-stream";

/// What the caller wants done with the result.
#[derive(Debug, Clone, Copy, Default)]
pub struct ResultOptions {
    pub strip_images: bool,
}

/// Why an upstream call produced no result, and what that says of the Space's health.
#[derive(Debug)]
struct ProxyError(String, Health);

/// What a failure tells the circuit breaker about the Space's host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Health {
    /// The Space answered (an error status below 500, a JSON-RPC error, a bad answer).
    Answered,
    /// Timed out, unreachable, broke off, or 5xx.
    Failing,
    /// Nothing was learnt (refused by our own policy).
    Unknown,
}

/// What hubmcp asks of a Space: a tool call, or a read of one of its resources (an MCP
/// App's `ui://` page).
#[derive(Clone, Copy)]
pub enum UpstreamRequest<'a> {
    Call {
        tool: &'a str,
        arguments: &'a RawValue,
    },
    Read {
        uri: &'a str,
    },
    /// `tools/list`, one page.
    List {
        cursor: Option<&'a str>,
    },
}

impl UpstreamRequest<'_> {
    /// The request (id 1); a call carries `_meta.progressToken` only when asked.
    fn body(&self, progress: bool) -> String {
        match *self {
            UpstreamRequest::Call { tool, arguments } => tools_call_body(tool, arguments, progress),
            UpstreamRequest::Read { uri } => serde_json::json!({
                "jsonrpc": "2.0", "id": 1, "method": "resources/read", "params": { "uri": uri }
            })
            .to_string(),
            UpstreamRequest::List { cursor } => {
                let params = cursor.map_or_else(|| serde_json::json!({}), |c| serde_json::json!({ "cursor": c }));
                serde_json::json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": params }).to_string()
            }
        }
    }
}

/// The MCP server a request goes to: a Space's, or a proxied server's (`PROXY_TOOLS_CSV`).
pub struct Target<'a> {
    pub url: url::Url,
    /// Upstream sessions are pooled per (this, caller).
    pub pool_key: String,
    /// Names the server in messages.
    pub label: &'a str,
    /// Also send the token as `Authorization` (a proxied MCP server; Spaces read only
    /// `X-HF-Authorization`).
    pub bearer: bool,
}

impl<'a> Target<'a> {
    fn space(config: &GradioConfig, meta: &'a SpaceMeta) -> Result<Target<'a>, ProxyError> {
        let url = config
            .network
            .url(&meta.subdomain, "/gradio_api/mcp/")
            .map_err(|e| ProxyError(format!("The Space {} cannot be called: {e}.", meta.name), Health::Unknown))?;
        Ok(Target { url, pool_key: meta.subdomain.clone(), label: &meta.name, bearer: false })
    }
}

/// Send `request` to `target` with `token` (as `X-HF-Authorization`), through the session
/// pool; the raw result, or why there is none. `ctx` relays progress of a call.
pub async fn send(
    http: &reqwest::Client,
    gradio: &super::Gradio,
    target: Target<'_>,
    request: UpstreamRequest<'_>,
    ctx: Option<&Ctx>,
    token: Option<&str>,
) -> Result<Box<RawValue>, String> {
    run(http, &gradio.sessions, &gradio.config, target, request, ctx, token)
        .await
        .map(|(r, _)| r)
        .map_err(|ProxyError(m, _)| m)
}

/// Call `tool` on the Space with the raw `arguments`.
pub async fn call_tool(
    gradio: &super::Gradio,
    meta: &SpaceMeta,
    tool: &str,
    arguments: &RawValue,
    ctx: &Ctx,
    options: ResultOptions,
) -> ToolOutput {
    let token = ctx.request().caller.bearer.clone();
    let started = Instant::now();
    let (http, pool, config) = (&gradio.http, &gradio.sessions, &gradio.config);
    let request = UpstreamRequest::Call { tool, arguments };
    let target = match Target::space(config, meta) {
        Ok(t) => t,
        Err(ProxyError(m, _)) => return ToolOutput::error(m),
    };
    let host = super::space_host(&config.network, &meta.subdomain);
    if let Err(open) = gradio.breakers.admit("space", &host) {
        return ToolOutput::error(format!(
            "The Space {} is failing (its last calls timed out, broke off or answered 5xx), so the call was not \
             sent: {open}. Retrying before then will fail the same way.",
            meta.name
        ));
    }
    let outcome = run(http, pool, config, target, request, Some(ctx), token.as_deref()).await;
    match &outcome {
        Ok(_) => gradio.breakers.record("space", &host, true),
        Err(ProxyError(_, Health::Unknown)) => {}
        Err(ProxyError(_, health)) => gradio.breakers.record("space", &host, *health == Health::Answered),
    }
    match outcome {
        Ok((result, replica)) => {
            tracing::debug!(space = %meta.name, tool, elapsed_ms = started.elapsed().as_millis() as u64, "space call done");
            post_process(result, replica.as_deref(), options, token.as_deref())
        }
        Err(ProxyError(message, _)) => {
            tracing::debug!(space = %meta.name, tool, elapsed_ms = started.elapsed().as_millis() as u64, "space call failed");
            ToolOutput::error(message)
        }
    }
}

/// Read the resource `uri` of the Space (through the same sessions and limits as calls);
/// the upstream `ReadResourceResult`, or why there is none.
pub async fn read_resource(gradio: &super::Gradio, meta: &SpaceMeta, uri: &str, ctx: &Ctx) -> Result<Value, String> {
    let token = ctx.request().caller.bearer.clone();
    let (http, pool, config) = (&gradio.http, &gradio.sessions, &gradio.config);
    let target = Target::space(config, meta).map_err(|ProxyError(m, _)| m)?;
    let (raw, _) = run(http, pool, config, target, UpstreamRequest::Read { uri }, Some(ctx), token.as_deref())
        .await
        .map_err(|ProxyError(m, _)| m)?;
    let text = raw.get();
    if token.as_deref().is_some_and(|t| t.len() >= 4 && text.contains(t)) {
        return Err(format!("The Space {} echoed the caller's token; the resource is withheld.", meta.name));
    }
    serde_json::from_str(text).map_err(|_| format!("The Space {} answered a malformed resource.", meta.name))
}

struct Upstream<'a> {
    http: &'a reqwest::Client,
    url: url::Url,
    token: Option<&'a str>,
    session: Option<String>,
    version: String,
    replica: Option<String>,
    /// The handshake is done (now or by a pooled session): send `MCP-Protocol-Version`.
    handshaken: bool,
    space: &'a str,
    bearer: bool,
    max_bytes: usize,
}

/// Ends the upstream session however the call ends (including cancellation), unless the
/// call succeeded and gave it back to the pool.
struct Closer {
    http: reqwest::Client,
    url: url::Url,
    session: Option<String>,
    token: Option<String>,
    replica: Option<String>,
}

impl Drop for Closer {
    fn drop(&mut self) {
        let Some(session) = self.session.take() else { return };
        close_session(&self.http, &self.url, self.token.as_deref(), session, self.replica.as_deref());
    }
}

/// `DELETE` an upstream session in the background (best effort).
fn close_session(http: &reqwest::Client, url: &url::Url, token: Option<&str>, id: String, replica: Option<&str>) {
    let Ok(rt) = tokio::runtime::Handle::try_current() else { return };
    let mut req = http.delete(url.clone()).header("mcp-session-id", id).timeout(Duration::from_secs(5));
    if let Some(t) = token {
        req = req.header("x-hf-authorization", sensitive_bearer(t));
    }
    if let Some(r) = replica {
        req = req.header("x-proxied-replica", r);
    }
    rt.spawn(async move {
        let _ = req.send().await;
    });
}

fn close_all(http: &reqwest::Client, url: &url::Url, token: Option<&str>, sessions: Vec<UpstreamSession>) {
    for s in sessions {
        if let Some(id) = s.id {
            close_session(http, url, token, id, s.replica.as_deref());
        }
    }
}

/// How one attempt on a session ended.
enum Attempt {
    Done(Box<RawValue>),
    /// A pooled session (or the sessionless shortcut) was refused with 400/404 before the
    /// tool ran: run a fresh handshake and try once more.
    SessionGone,
    Failed(ProxyError),
}

#[allow(clippy::too_many_arguments)]
async fn run(
    http: &reqwest::Client,
    pool: &SessionPool,
    config: &GradioConfig,
    target: Target<'_>,
    request: UpstreamRequest<'_>,
    ctx: Option<&Ctx>,
    token: Option<&str>,
) -> Result<(Box<RawValue>, Option<String>), ProxyError> {
    let mut up = Upstream {
        http,
        url: target.url,
        token,
        session: None,
        version: UPSTREAM_VERSION.into(),
        replica: None,
        handshaken: false,
        space: target.label,
        bearer: target.bearer,
        max_bytes: config.max_response_bytes,
    };
    let overall = Instant::now() + config.max_call_duration;
    let mut deadline =
        Deadline { idle: config.call_timeout, next: overall.min(Instant::now() + config.call_timeout), overall };
    let key = PoolKey { subdomain: target.pool_key, caller: token.map(mcp_engine::auth::token_hash) };

    let (pooled, expired) = pool.take(&key);
    close_all(http, &up.url, token, expired);
    if let Some(session) = pooled {
        up.adopt(&session);
        match call_on_session(&mut up, request, ctx, &mut deadline, true).await {
            Attempt::Done(result) => return Ok(finish(&up, pool, key, result)),
            Attempt::Failed(e) => return Err(e),
            Attempt::SessionGone => {
                tracing::debug!(space = %target.label, "pooled upstream session refused; new handshake");
                close_all(http, &up.url, token, pool.forget(&key));
                deadline.extend();
            }
        }
    }
    // GRADIO_SKIP_INITIALIZE (as in hf-mcp-server): `tools/call` straight away, as
    // Gradio's stateless MCP server accepts; otherwise the handshake tells.
    let session = if config.skip_initialize {
        UpstreamSession { id: None, version: UPSTREAM_VERSION.into(), replica: None }
    } else {
        handshake(&mut up, &mut deadline).await?
    };
    up.adopt(&session);
    match call_on_session(&mut up, request, ctx, &mut deadline, false).await {
        Attempt::Done(result) => Ok(finish(&up, pool, key, result)),
        Attempt::Failed(e) => Err(e),
        Attempt::SessionGone => Err(up.status_error(404)),
    }
}

/// Give the session back to the pool (closing whatever the pool lets go), and return the
/// result with the replica that produced it.
fn finish(
    up: &Upstream<'_>,
    pool: &SessionPool,
    key: PoolKey,
    result: Box<RawValue>,
) -> (Box<RawValue>, Option<String>) {
    let session = UpstreamSession { id: up.session.clone(), version: up.version.clone(), replica: up.replica.clone() };
    close_all(up.http, &up.url, up.token, pool.give_back(key, session));
    (result, up.replica.clone())
}

/// `initialize` → `notifications/initialized`; what the Space established.
async fn handshake(up: &mut Upstream<'_>, deadline: &mut Deadline) -> Result<UpstreamSession, ProxyError> {
    let init = format!(
        r#"{{"jsonrpc":"2.0","id":0,"method":"initialize","params":{{"protocolVersion":"{UPSTREAM_VERSION}","capabilities":{{}},"clientInfo":{{"name":"hubmcp","version":"{}"}}}}}}"#,
        env!("CARGO_PKG_VERSION")
    );
    up.session = None;
    up.version = UPSTREAM_VERSION.into();
    up.handshaken = false;
    let resp = up.post(init, deadline.next).await?;
    up.session = resp.headers().get("mcp-session-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
    up.replica = resp.headers().get("x-proxied-replica").and_then(|v| v.to_str().ok()).map(str::to_owned);
    // From here on, a failure closes the new session.
    let mut closer = up.closer();
    let init_result = up.read_reply(resp, "0", deadline, None).await?;
    if let Ok(v) = serde_json::from_str::<Value>(init_result.get()) {
        if let Some(version) = v.get("protocolVersion").and_then(Value::as_str) {
            up.version = version.to_owned();
        }
    }
    up.handshaken = true;
    let note = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#.to_owned();
    let resp = up.post(note, deadline.next).await?;
    if !resp.status().is_success() {
        return Err(up.status_error_of(&resp));
    }
    drain_in_background(resp, 64 * 1024);
    closer.session = None;
    Ok(UpstreamSession { id: up.session.clone(), version: up.version.clone(), replica: up.replica.clone() })
}

/// `tools/call` on the session `up` holds. A failure or cancellation closes that session.
async fn call_on_session(
    up: &mut Upstream<'_>,
    request: UpstreamRequest<'_>,
    ctx: Option<&Ctx>,
    deadline: &mut Deadline,
    pooled: bool,
) -> Attempt {
    let mut closer = up.closer();
    // Ask the Space for progress only when the caller asked for it: Gradio serves a call
    // that carries a progress token through its queue with status updates, which costs
    // hundreds of milliseconds even for a trivial function.
    let wants_progress =
        ctx.is_some_and(|c| c.request().progress_token.is_some()) && matches!(request, UpstreamRequest::Call { .. });
    let body = request.body(wants_progress);
    deadline.extend();
    let resp = match up.post(body, deadline.next).await {
        Ok(r) => r,
        Err(e) => return Attempt::Failed(e),
    };
    if pooled && matches!(resp.status().as_u16(), 400 | 404) {
        // The Space forgot the session (or wants one after all); nothing ran.
        closer.session = None;
        return Attempt::SessionGone;
    }
    up.replica =
        resp.headers().get("x-proxied-replica").and_then(|v| v.to_str().ok()).map(str::to_owned).or(up.replica.take());
    let mut relay = ctx.filter(|_| wants_progress).map(|ctx| Relay { ctx, last: None });
    let relay = relay.as_mut();
    match up.read_reply(resp, "1", deadline, relay).await {
        Ok(result) => {
            closer.session = None;
            Attempt::Done(result)
        }
        Err(e) => {
            closer.replica = up.replica.clone();
            Attempt::Failed(e)
        }
    }
}

/// The upstream `tools/call` request (id 1), with `_meta.progressToken` only when asked.
fn tools_call_body(tool: &str, arguments: &RawValue, progress: bool) -> String {
    let mut body = String::with_capacity(arguments.get().len() + 160);
    body.push_str(r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"#);
    body.push_str(&serde_json::to_string(tool).expect("string"));
    body.push_str(r#","arguments":"#);
    body.push_str(arguments.get());
    body.push_str(if progress { r#","_meta":{"progressToken":"hubmcp"}}}"# } else { "}}" });
    body
}

struct Deadline {
    idle: Duration,
    next: Instant,
    overall: Instant,
}

impl Deadline {
    /// Progress arrived: the Space is alive, give it another idle period.
    fn extend(&mut self) {
        self.next = self.overall.min(Instant::now() + self.idle);
    }
    fn expired_overall(&self) -> bool {
        Instant::now() >= self.overall
    }
}

/// Relays upstream progress to the caller, keeping the values increasing.
struct Relay<'a> {
    ctx: &'a Ctx,
    last: Option<f64>,
}

impl Relay<'_> {
    async fn progress(&mut self, params: &Value) {
        let value = params.get("progress").and_then(Value::as_f64);
        let total = params.get("total").and_then(Value::as_f64);
        let message = params.get("message").and_then(Value::as_str);
        let next = match (value, self.last) {
            (Some(v), Some(last)) if v > last => v,
            (Some(v), None) => v,
            (_, Some(last)) => last + 1.0,
            (None, None) => 1.0,
        };
        // A value that had to be invented cannot be measured against the upstream total.
        let total = if value == Some(next) { total } else { None };
        self.last = Some(next);
        self.ctx.progress(next, total, message).await;
    }
}

enum Step {
    Reply(Box<RawValue>),
    Progress,
    Other,
}

impl Upstream<'_> {
    fn adopt(&mut self, s: &UpstreamSession) {
        self.session = s.id.clone();
        self.version = s.version.clone();
        self.replica = s.replica.clone();
        self.handshaken = true;
    }

    fn closer(&self) -> Closer {
        Closer {
            http: self.http.clone(),
            url: self.url.clone(),
            session: self.session.clone(),
            token: self.token.map(str::to_owned),
            replica: self.replica.clone(),
        }
    }

    async fn post(&self, body: String, deadline: Instant) -> Result<reqwest::Response, ProxyError> {
        let mut req = self
            .http
            .post(self.url.clone())
            .header("content-type", "application/json")
            .header("accept", ACCEPT)
            .body(body);
        if let Some(t) = self.token {
            req = req.header("x-hf-authorization", sensitive_bearer(t));
            if self.bearer {
                req = req.header("authorization", sensitive_bearer(t));
            }
        }
        if let Some(s) = &self.session {
            req = req.header("mcp-session-id", s.as_str());
        }
        if self.handshaken {
            req = req.header("mcp-protocol-version", self.version.as_str());
        }
        if let Some(r) = &self.replica {
            req = req.header("x-proxied-replica", r.as_str());
        }
        let wait = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(wait, req.send()).await {
            Err(_) => Err(self.timeout_error()),
            Ok(Err(e)) => {
                let d = transport_error(&e, self.space, "the tool call");
                Err(match d.failure {
                    Failure::Refused => ProxyError(format!("{}.", capitalize(&d.message)), Health::Unknown),
                    Failure::Timeout => self.timeout_error(),
                    _ => ProxyError(
                        format!(
                            "Could not reach the Space {}: the connection failed. It may be sleeping, restarting \
                             or down; retry later, or check its page at https://huggingface.co/spaces/{}.",
                            self.space, self.space
                        ),
                        Health::Failing,
                    ),
                })
            }
            Ok(Ok(resp)) => Ok(resp),
        }
    }

    fn timeout_error(&self) -> ProxyError {
        ProxyError(
            format!(
                "The Space {} sent neither a result nor progress in time, so the call was abandoned. GPU Spaces \
                 may be queued or waking up; retry later.",
                self.space
            ),
            Health::Failing,
        )
    }

    /// [`Self::status_error`] of a response, with the wait its `Retry-After` asks for.
    fn status_error_of(&self, resp: &reqwest::Response) -> ProxyError {
        let status = resp.status().as_u16();
        let wait = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(crate::client::parse_retry_after)
            .map(|d| d.as_secs_f64().ceil().max(1.0) as u64);
        match (status, wait) {
            (429, Some(secs)) => ProxyError(
                format!("The Space {} is rate-limiting calls (HTTP 429); retry after {secs} s.", self.space),
                Health::Answered,
            ),
            _ => self.status_error(status),
        }
    }

    fn status_error(&self, status: u16) -> ProxyError {
        let space = self.space;
        let health = if status >= 500 { Health::Failing } else { Health::Answered };
        let message = match status {
            401 | 403 => format!(
                "The Space {space} refused the call (HTTP {status}): it is private or needs a Hugging Face token \
                 with access to it. Retrying will not help without such a token."
            ),
            404 => format!(
                "The Space {space} has no MCP endpoint (HTTP 404); it may not be an MCP-enabled Gradio app. \
                 Retrying will not help."
            ),
            429 => format!("The Space {space} is rate-limiting calls (HTTP 429); retry later."),
            s if s >= 500 => format!(
                "The Space {space} failed (HTTP {s}); it may be starting, sleeping or broken. Retry later, or check \
                 https://huggingface.co/spaces/{space}."
            ),
            s => format!("The Space {space} answered HTTP {s} to the tool call."),
        };
        ProxyError(message, health)
    }

    /// Read the response to request `id` from a JSON or SSE body, relaying progress.
    async fn read_reply(
        &self,
        resp: reqwest::Response,
        id: &str,
        deadline: &mut Deadline,
        mut relay: Option<&mut Relay<'_>>,
    ) -> Result<Box<RawValue>, ProxyError> {
        let status = resp.status();
        if !status.is_success() {
            return Err(self.status_error_of(&resp));
        }
        let sse = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|c| c.starts_with("text/event-stream"));
        if !sse {
            let wait = deadline.next.saturating_duration_since(Instant::now());
            let body = match tokio::time::timeout(wait, read_capped(resp, self.max_bytes)).await {
                Err(_) => return Err(self.timeout_error()),
                Ok(Err(e)) => return Err(self.broken(&e)),
                Ok(Ok(b)) => b,
            };
            let text = std::str::from_utf8(&body).map_err(|_| self.malformed())?;
            return match self.message(text, id, &mut relay).await? {
                Step::Reply(r) => Ok(r),
                _ => Err(self.malformed()),
            };
        }
        let mut resp = resp;
        let mut events = EventDecoder::default();
        let mut total = 0usize;
        loop {
            while let Some(event) = events.next_event().map_err(|_| self.malformed())? {
                match self.message(&event, id, &mut relay).await? {
                    Step::Reply(r) => {
                        // Read the stream to its end elsewhere, so the connection goes
                        // back to the keep-alive pool instead of being closed.
                        drain_in_background(resp, self.max_bytes);
                        return Ok(r);
                    }
                    Step::Progress => deadline.extend(),
                    Step::Other => {}
                }
            }
            if deadline.expired_overall() {
                return Err(self.timeout_error());
            }
            let wait = deadline.next.saturating_duration_since(Instant::now());
            match tokio::time::timeout(wait, resp.chunk()).await {
                Err(_) => return Err(self.timeout_error()),
                Ok(Err(_)) | Ok(Ok(None)) => {
                    return Err(ProxyError(
                        format!(
                            "The connection to the Space {} closed before it returned a result; the Space may have \
                             restarted or crashed. Retry later.",
                            self.space
                        ),
                        Health::Failing,
                    ))
                }
                Ok(Ok(Some(chunk))) => {
                    if relay.is_none() && chunk.contains(&b'\n') {
                        // No progress to watch: any complete line (the Space's SSE
                        // keep-alive comments included) shows the Space is still working on
                        // the call; a drip of bytes that never ends a line does not.
                        deadline.extend();
                    }
                    total += chunk.len();
                    if total > self.max_bytes {
                        return Err(self.too_large());
                    }
                    events.push(&chunk);
                }
            }
        }
    }

    /// Handle one JSON-RPC message.
    async fn message(&self, text: &str, id: &str, relay: &mut Option<&mut Relay<'_>>) -> Result<Step, ProxyError> {
        match classify(text, id).map_err(|_| self.malformed())? {
            frames::Message::Progress(params) => match relay.as_deref_mut() {
                Some(relay) => {
                    relay.progress(&params).await;
                    Ok(Step::Progress)
                }
                None => Ok(Step::Other),
            },
            frames::Message::Reply(r) => Ok(Step::Reply(r)),
            frames::Message::Error(message) => {
                Err(ProxyError(format!("The Space {} returned an error: {message}", self.space), Health::Answered))
            }
            frames::Message::Other => Ok(Step::Other),
        }
    }

    fn malformed(&self) -> ProxyError {
        ProxyError(
            format!(
                "The Space {} sent an answer that is not valid MCP; retrying is unlikely to help until the Space \
                 is fixed.",
                self.space
            ),
            Health::Answered,
        )
    }

    fn too_large(&self) -> ProxyError {
        ProxyError(
            format!(
                "The answer of the Space {} exceeded the limit of {} bytes; retrying with the same arguments will \
                 not help.",
                self.space, self.max_bytes
            ),
            Health::Answered,
        )
    }

    fn broken(&self, e: &str) -> ProxyError {
        if e.contains("larger than") {
            self.too_large()
        } else {
            ProxyError(
                format!("The connection to the Space {} closed before it returned a result; retry later.", self.space),
                Health::Failing,
            )
        }
    }
}

/// Read what is left of a response (bounded in bytes and time) and drop it, in a task of
/// its own: a body read to its end lets the connection be reused.
fn drain_in_background(mut resp: reqwest::Response, max_bytes: usize) {
    let Ok(rt) = tokio::runtime::Handle::try_current() else { return };
    rt.spawn(async move {
        let mut seen = 0usize;
        let drain = async {
            while let Ok(Some(chunk)) = resp.chunk().await {
                seen += chunk.len();
                if seen > max_bytes {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(Duration::from_secs(5), drain).await;
    });
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// The replica id of an `X-Proxied-Replica` value (`"oyerizs4-dspr4"` → `"dspr4"`).
pub fn replica_id(header: &str) -> Option<&str> {
    let (_, id) = header.rsplit_once('-')?;
    let id = id.trim();
    (!id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric())).then_some(id)
}

/// Point `https://host/gradio_api…` URLs at the replica: `https://host/--replicas/{id}/gradio_api…`.
fn rewrite_replica_urls(text: &str, replica: &str) -> Option<String> {
    if !text.contains("/gradio_api") {
        return None;
    }
    let mut out = String::with_capacity(text.len() + 32);
    let mut rest = text;
    let mut changed = false;
    while let Some(pos) = rest.find("/gradio_api") {
        let (before, after) = rest.split_at(pos);
        // Only URLs: the text since the last whitespace must look like scheme://host.
        let start = before.rfind(|c: char| c.is_whitespace() || c == '"' || c == '\'' || c == '(').map_or(0, |i| i + 1);
        let candidate = &before[start..];
        let is_url = (candidate.starts_with("https://") || candidate.starts_with("http://"))
            && !candidate[candidate.find("://").unwrap() + 3..].contains('/');
        out.push_str(before);
        if is_url {
            out.push_str("/--replicas/");
            out.push_str(replica);
            changed = true;
        }
        out.push_str("/gradio_api");
        rest = &after["/gradio_api".len()..];
    }
    out.push_str(rest);
    changed.then_some(out)
}

/// Apply the result options; untouched results pass through verbatim.
pub(crate) fn post_process(
    raw: Box<RawValue>,
    replica: Option<&str>,
    options: ResultOptions,
    token: Option<&str>,
) -> ToolOutput {
    let replica = replica.and_then(replica_id);
    let text = raw.get();
    let leaks = token.is_some_and(|t| t.len() >= 4 && text.contains(t));
    let needs_replica = replica.is_some() && text.contains("/gradio_api");
    let needs_strip = options.strip_images && text.contains("\"image\"");
    if !leaks && !needs_replica && !needs_strip {
        if text.trim_start().starts_with('{') {
            return ToolOutput::Raw(raw);
        }
        return ToolOutput::error("The Space returned a result that is not a JSON object.");
    }
    let Ok(Value::Object(mut result)) = serde_json::from_str::<Value>(text) else {
        return ToolOutput::error("The Space returned a result that is not a JSON object.");
    };
    if let Some(Value::Array(content)) = result.get_mut("content") {
        if needs_strip {
            let before = content.len();
            content.retain(|c| {
                c.get("type").and_then(Value::as_str).map(str::to_ascii_lowercase).as_deref() != Some("image")
            });
            if content.is_empty() && before > 0 {
                content.push(serde_json::json!({
                    "type": "text",
                    "text": "Image content omitted due to client configuration (no_image_content=true)."
                }));
            }
        }
        if let Some(id) = replica {
            for c in content.iter_mut() {
                if let Some(Value::String(t)) = c.get_mut("text") {
                    if let Some(new) = rewrite_replica_urls(t, id) {
                        *t = new;
                    }
                }
            }
        }
    }
    let out = ToolOutput::Result(result);
    crate::tools::shell::scrub(out, token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replica_ids_and_rewrites() {
        assert_eq!(replica_id("oyerizs4-dspr4"), Some("dspr4"));
        assert_eq!(replica_id("nodash"), None);
        assert_eq!(replica_id("x-"), None);
        let t = "Image at https://a-b.hf.space/gradio_api/file=/tmp/x.png and /gradio_api/other";
        assert_eq!(
            rewrite_replica_urls(t, "r1").unwrap(),
            "Image at https://a-b.hf.space/--replicas/r1/gradio_api/file=/tmp/x.png and /gradio_api/other"
        );
        assert_eq!(rewrite_replica_urls("no urls", "r1"), None);
    }

    #[test]
    fn progress_is_requested_only_when_asked() {
        let args = RawValue::from_string(r#"{"a":1}"#.to_owned()).unwrap();
        let plain: Value = serde_json::from_str(&tools_call_body("t", &args, false)).unwrap();
        assert_eq!(plain["params"], serde_json::json!({"name": "t", "arguments": {"a": 1}}));
        let asked: Value = serde_json::from_str(&tools_call_body("t", &args, true)).unwrap();
        assert_eq!(asked["params"]["_meta"]["progressToken"], "hubmcp");
    }

    #[test]
    fn post_processing() {
        let raw = |s: &str| RawValue::from_string(s.to_owned()).unwrap();
        let body = r#"{"content":[{"type":"image","data":"AA==","mimeType":"image/png"},{"type":"text","text":"ok"}]}"#;
        assert!(matches!(post_process(raw(body), None, ResultOptions::default(), None), ToolOutput::Raw(_)));
        let ToolOutput::Result(r) = post_process(raw(body), None, ResultOptions { strip_images: true }, None) else {
            panic!()
        };
        assert_eq!(r["content"].as_array().unwrap().len(), 1);
        let only = r#"{"content":[{"type":"image","data":"AA==","mimeType":"image/png"}]}"#;
        let ToolOutput::Result(r) = post_process(raw(only), None, ResultOptions { strip_images: true }, None) else {
            panic!()
        };
        assert!(r["content"][0]["text"].as_str().unwrap().contains("no_image_content"));
        let leak = r#"{"content":[{"type":"text","text":"echo hf_secret_token"}]}"#;
        let ToolOutput::Result(r) = post_process(raw(leak), None, ResultOptions::default(), Some("hf_secret_token"))
        else {
            panic!()
        };
        assert!(!r["content"][0]["text"].as_str().unwrap().contains("hf_secret"));
    }
}
