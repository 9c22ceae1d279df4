//! A local stand-in for the Hugging Face Hub HTTP API, for tests and offline use.
//!
//! It serves a small, fixed catalogue of hand-written fixtures (see `fixtures/`) in the shapes of
//! the real Hub responses: repository listings with `Link` pagination, repository info, trees,
//! file downloads (`/resolve/`), `whoami-v2`, trending, Space semantic search, papers, docs,
//! collections and the datasets-server API (under a configurable path prefix) — and the write
//! API (repository creation and duplication, the NDJSON commit API with preupload and Git LFS,
//! branches and pull-request refs, storage buckets), kept in memory per instance. Tokens carry
//! their whoami roles: `read` tokens and fine-grained tokens without `repo.write` get 403.
//!
//! Errors mirror the Hub (`X-Error-Code` + `{"error": "..."}`), and tests can inject faults
//! (429 with `Retry-After`, 5xx, delays) and observe every request the stand-in received.
//!
//! ```no_run
//! # async fn demo() {
//! use hub_standin::{spawn, FaultRule, StandInConfig};
//! let hub = spawn(StandInConfig::default()).await;
//! hub.inject(FaultRule::rate_limited("/api/models", 1, 1));
//! // ... point a client at hub.base_url ...
//! let seen = hub.requests();
//! # }
//! ```

#![allow(clippy::result_large_err)]

mod catalogue;
mod ds_server;
pub mod extra_spaces;
mod hub_api;
pub mod outage;
pub mod spaces;
mod util;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

/// Fixed test tokens understood by `/api/whoami-v2` and the access checks.
pub mod tokens {
    /// User `alice`: role `write`, admin of org `standin-org`, accepted the gated repos' conditions.
    pub const ALICE_WRITE: &str = "hf_standin_alice_write";
    /// User `bob`: role `read`, no orgs, has NOT accepted any gated repo's conditions.
    pub const BOB_READ: &str = "hf_standin_bob_read";
    /// User `carol`: `fineGrained` token (scoped to herself and `standin-org`, `canReadGatedRepos`),
    /// member (read) of `standin-org`, accepted the gated repos' conditions.
    pub const CAROL_FINEGRAINED: &str = "hf_standin_carol_finegrained";
    /// User `bob` signed in with OAuth: an `hf_oauth_` JWT whose `scope` claim grants
    /// `openid profile inference-api manage-repos`.
    pub const BOB_OAUTH: &str = "hf_oauth_eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiI2N2ExYzBmZmVlMGRkYmExMWFkNWIwYjAiLCJzY29wZSI6Im9wZW5pZCBwcm9maWxlIGluZmVyZW5jZS1hcGkgbWFuYWdlLXJlcG9zIn0.c3RhbmRpbg";
    /// Not a known token: every Hub endpoint answers 401 when it is sent.
    pub const INVALID: &str = "hf_standin_invalid_0000000000000000";
}

/// Notable repository ids of the catalogue.
pub mod repos {
    /// Public model, many files incl. nested directories and LFS files; tag `v1.0` exists.
    pub const PUBLIC_MODEL: &str = "google-bert/bert-base-uncased";
    /// Old id of [`PUBLIC_MODEL`]: answers 307 to the canonical id (like the Hub's renamed repos).
    pub const RENAMED_MODEL: &str = "bert-base-uncased";
    /// Gated (`manual`) model: info and tree are public, files need `alice` or `carol`.
    pub const GATED_MODEL: &str = "meta-llama/Llama-3.2-1B";
    /// Private model of `standin-org`: visible to `alice` and `carol` only.
    pub const PRIVATE_MODEL: &str = "standin-org/private-model";
    /// Public dataset with datasets-server data.
    pub const PUBLIC_DATASET: &str = "stanfordnlp/imdb";
    /// Gated (`auto`) dataset.
    pub const GATED_DATASET: &str = "standin-org/clinical-notes";
    /// Private dataset of `standin-org`.
    pub const PRIVATE_DATASET: &str = "standin-org/private-dataset";
    /// Public dataset with one flat `train/` directory of 240 images (`train/00000.jpg` …),
    /// then `train/metadata.csv`, which sorts after them: more entries than a client follows
    /// pages for when pages are tiny.
    pub const LARGE_TREE_DATASET: &str = "standin-org/image-folder";
    /// Gradio Space tagged `mcp-server`, running.
    pub const MCP_SPACE: &str = "black-forest-labs/FLUX.1-Kontext-Dev";
    /// Private (paused) Space of `standin-org`.
    pub const PRIVATE_SPACE: &str = "standin-org/private-space";
    /// Public collection slug.
    pub const COLLECTION: &str = "standin-org/open-llm-starter-kit-66a1f0c2b3d4e5f60718293a";
}

/// How the stand-in misbehaves for a matching request.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FaultAction {
    /// Answer with this status (and optional `Retry-After`, `X-Error-Code`, message) instead of
    /// the normal response.
    Status {
        status: u16,
        #[serde(default)]
        retry_after: Option<String>,
        #[serde(default)]
        error_code: Option<String>,
        #[serde(default)]
        message: Option<String>,
    },
    /// Sleep this long, then answer normally.
    Delay { ms: u64 },
}

/// A fault-injection rule: applies to requests whose path starts with `path_prefix`
/// (and whose method matches, and whose raw query contains `query_contains`, if given), for the
/// next `times` matching requests (forever if `None`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FaultRule {
    pub path_prefix: String,
    #[serde(default)]
    pub method: Option<String>,
    /// Substring of the raw (still percent-encoded) query, e.g. `cursor=` to hit only the
    /// `Link` pages after the first of a listing, which share the first page's path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_contains: Option<String>,
    #[serde(default)]
    pub times: Option<u32>,
    pub action: FaultAction,
}

impl FaultRule {
    /// The next `times` requests under `path_prefix` get `429` with `Retry-After: retry_after_secs`.
    pub fn rate_limited(path_prefix: &str, times: u32, retry_after_secs: u64) -> Self {
        FaultRule {
            path_prefix: path_prefix.to_string(),
            method: None,
            query_contains: None,
            times: Some(times),
            action: FaultAction::Status {
                status: 429,
                retry_after: Some(retry_after_secs.to_string()),
                error_code: None,
                message: Some("You have been rate-limited. Please retry later.".into()),
            },
        }
    }
    /// The next `times` requests under `path_prefix` get a bare `status` (e.g. 500, 502, 503).
    pub fn server_error(path_prefix: &str, status: u16, times: u32) -> Self {
        FaultRule {
            path_prefix: path_prefix.to_string(),
            method: None,
            query_contains: None,
            times: Some(times),
            action: FaultAction::Status { status, retry_after: None, error_code: None, message: None },
        }
    }
    /// Requests under `path_prefix` are delayed by `delay` (`times = None`: every request).
    pub fn delay(path_prefix: &str, delay: Duration, times: Option<u32>) -> Self {
        FaultRule {
            path_prefix: path_prefix.to_string(),
            method: None,
            query_contains: None,
            times,
            action: FaultAction::Delay { ms: delay.as_millis() as u64 },
        }
    }
    /// Restrict the rule to one HTTP method.
    pub fn for_method(mut self, method: &str) -> Self {
        self.method = Some(method.to_ascii_uppercase());
        self
    }
    /// Restrict the rule to requests whose raw query contains `needle`
    /// (`"cursor="`: every listing page after the first).
    pub fn when_query_contains(mut self, needle: &str) -> Self {
        self.query_contains = Some(needle.to_string());
        self
    }
}

/// A request as seen by the stand-in.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RecordedRequest {
    pub method: String,
    /// Raw (still percent-encoded) path.
    pub path: String,
    pub query: Option<String>,
    /// `path?query` as received.
    pub path_and_query: String,
    /// Raw `Authorization` header value, if any.
    pub authorization: Option<String>,
    pub user_agent: Option<String>,
    pub range: Option<String>,
    pub accept: Option<String>,
    /// `If-None-Match`, for conditional requests.
    pub if_none_match: Option<String>,
    /// Milliseconds since the stand-in started.
    pub at_ms: u64,
}

impl RecordedRequest {
    /// The bearer token sent, if the `Authorization` header was `Bearer <token>`.
    pub fn bearer_token(&self) -> Option<&str> {
        self.authorization.as_deref().and_then(|a| a.strip_prefix("Bearer ")).map(str::trim)
    }
}

/// Configuration of a stand-in instance.
#[derive(Debug, Clone)]
pub struct StandInConfig {
    pub host: IpAddr,
    /// 0 = ephemeral port.
    pub port: u16,
    /// Path prefix of the datasets-server API on the same listener (default `/datasets-server`).
    pub datasets_server_prefix: String,
    /// Latency added to every request (not to the control endpoints).
    pub latency: Duration,
    /// Fault rules active from the start.
    pub faults: Vec<FaultRule>,
    /// Cap on the request log (oldest entries are dropped).
    pub max_log_entries: usize,
    /// Largest page the `Link`-paginated list endpoints (`/api/models`, `/api/datasets`,
    /// `/api/spaces`, `/api/collections`, `/api/{type}s/{id}/tree/{rev}`) return, whatever
    /// `limit` asks for, like the Hub's own per-endpoint cap. The small catalogue fits one page
    /// otherwise; a small value makes ordinary calls span several pages. `None`: the endpoint's cap.
    pub max_page_size: Option<usize>,
    /// Spaces added to the catalogue (`--space`), e.g. a real Gradio app under test.
    pub extra_spaces: Vec<extra_spaces::ExtraSpace>,
}

impl Default for StandInConfig {
    fn default() -> Self {
        StandInConfig {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            datasets_server_prefix: "/datasets-server".to_string(),
            latency: Duration::ZERO,
            faults: Vec::new(),
            max_log_entries: 10_000,
            max_page_size: None,
            extra_spaces: Vec::new(),
        }
    }
}

pub(crate) struct Shared {
    pub config: StandInConfig,
    pub started: Instant,
    pub log: Mutex<Vec<RecordedRequest>>,
    pub faults: Mutex<Vec<FaultRule>>,
    /// Per-user MCP settings served at `/api/settings/mcp` (user name → settings).
    pub settings: Mutex<std::collections::HashMap<String, serde_json::Value>>,
    /// Jobs and scheduled jobs (`/api/jobs/…`, `/api/scheduled-jobs/…`).
    pub jobs: hub_api::jobs::Jobs,
    /// What callers wrote (repositories, commits, LFS objects, buckets).
    pub store: hub_api::store::Store,
}

impl Shared {
    fn record(&self, req: RecordedRequest) {
        let mut log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        if log.len() >= self.config.max_log_entries.max(1) {
            log.remove(0);
        }
        log.push(req);
    }

    /// Take the first matching fault rule (decrementing its counter).
    fn take_fault(&self, method: &Method, path: &str, query: Option<&str>) -> Option<FaultAction> {
        let mut faults = self.faults.lock().unwrap_or_else(|e| e.into_inner());
        let idx = faults.iter().position(|r| {
            path.starts_with(&r.path_prefix)
                && r.method.as_deref().is_none_or(|m| m.eq_ignore_ascii_case(method.as_str()))
                && r.query_contains.as_deref().is_none_or(|n| query.is_some_and(|q| q.contains(n)))
        })?;
        let action = faults[idx].action.clone();
        if let Some(times) = faults[idx].times.as_mut() {
            *times = times.saturating_sub(1);
            if *times == 0 {
                faults.remove(idx);
            }
        }
        Some(action)
    }
}

/// A running stand-in. Dropping it stops the server.
pub struct StandIn {
    /// `http://host:port` (no trailing slash): use as `HF_ENDPOINT`.
    pub base_url: String,
    /// `http://host:port/datasets-server` (no trailing slash).
    pub datasets_server_url: String,
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    outages: outage::Outages,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for StandIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StandIn")
            .field("base_url", &self.base_url)
            .field("datasets_server_url", &self.datasets_server_url)
            .finish()
    }
}

impl StandIn {
    /// `base_url` + `path` (which should start with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }
    /// Snapshot of every request received so far (control endpoints excluded).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.log.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
    /// Requests whose raw path starts with `path_prefix`.
    pub fn requests_to(&self, path_prefix: &str) -> Vec<RecordedRequest> {
        self.requests().into_iter().filter(|r| r.path.starts_with(path_prefix)).collect()
    }
    pub fn clear_requests(&self) {
        self.shared.log.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
    /// Add a fault rule (rules are tried in insertion order).
    pub fn inject(&self, rule: FaultRule) {
        self.shared.faults.lock().unwrap_or_else(|e| e.into_inner()).push(rule);
    }
    pub fn clear_faults(&self) {
        self.shared.faults.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
    /// Periods of misbehaviour ([`outage`]); also `POST /__standin/outages`.
    pub fn outages(&self) -> &outage::Outages {
        &self.outages
    }
    /// Set the MCP settings `/api/settings/mcp` returns for `user` (e.g. `"alice"`):
    /// `{"builtInTools": [...], "spaceTools": [{"name", "subdomain", ...}]}`.
    pub fn set_user_settings(&self, user: &str, settings: serde_json::Value) {
        self.shared.settings.lock().unwrap_or_else(|e| e.into_inner()).insert(user.to_owned(), settings);
    }
    /// Stop the server and wait for it to finish.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Start a stand-in on `config.host:config.port` in the current Tokio runtime.
///
/// Panics if the address cannot be bound (use [`try_spawn`] to handle that).
pub async fn spawn(config: StandInConfig) -> StandIn {
    try_spawn(config).await.expect("hub-standin: failed to bind listener")
}

/// Like [`spawn`], returning bind errors.
pub async fn try_spawn(config: StandInConfig) -> std::io::Result<StandIn> {
    let listener = tokio::net::TcpListener::bind(SocketAddr::new(config.host, config.port)).await?;
    let addr = listener.local_addr()?;
    let prefix = normalize_prefix(&config.datasets_server_prefix);
    let base_url = format!("http://{addr}");
    let datasets_server_url = format!("{base_url}{prefix}");
    let shared = Arc::new(Shared {
        faults: Mutex::new(config.faults.clone()),
        config: StandInConfig { datasets_server_prefix: prefix, ..config },
        started: Instant::now(),
        log: Mutex::new(Vec::new()),
        settings: Mutex::new(std::collections::HashMap::new()),
        jobs: Default::default(),
        store: hub_api::store::Store::seeded(),
    });
    // Build the catalogue eagerly so fixture errors surface at startup.
    let _ = catalogue::catalogue();
    let outages = outage::Outages::default();
    let app = router(shared.clone()).layer(axum::middleware::from_fn_with_state(outages.clone(), outage::layer));
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = rx.await;
            })
            .await;
    });
    Ok(StandIn { base_url, datasets_server_url, addr, shared, outages, shutdown: Some(tx), task: Some(task) })
}

fn normalize_prefix(p: &str) -> String {
    let trimmed = p.trim().trim_end_matches('/');
    if trimmed.is_empty() {
        "/datasets-server".to_string()
    } else if trimmed.starts_with('/') {
        trimmed.to_string()
    } else {
        format!("/{trimmed}")
    }
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/__standin/requests", get(control_requests).delete(control_clear_requests))
        .route("/__standin/faults", get(control_faults).post(control_add_fault).delete(control_clear_faults))
        .route("/__standin/health", get(|| async { "ok" }))
        .route("/__standin/settings/{user}", axum::routing::put(control_set_settings))
        .fallback(dispatch)
        .with_state(shared)
}

async fn control_requests(State(s): State<Arc<Shared>>) -> Json<Vec<RecordedRequest>> {
    Json(s.log.lock().unwrap_or_else(|e| e.into_inner()).clone())
}

async fn control_clear_requests(State(s): State<Arc<Shared>>) -> StatusCode {
    s.log.lock().unwrap_or_else(|e| e.into_inner()).clear();
    StatusCode::NO_CONTENT
}

async fn control_faults(State(s): State<Arc<Shared>>) -> Json<Vec<FaultRule>> {
    Json(s.faults.lock().unwrap_or_else(|e| e.into_inner()).clone())
}

async fn control_add_fault(State(s): State<Arc<Shared>>, Json(rule): Json<FaultRule>) -> StatusCode {
    s.faults.lock().unwrap_or_else(|e| e.into_inner()).push(rule);
    StatusCode::NO_CONTENT
}

async fn control_set_settings(
    State(s): State<Arc<Shared>>,
    axum::extract::Path(user): axum::extract::Path<String>,
    Json(settings): Json<serde_json::Value>,
) -> StatusCode {
    s.settings.lock().unwrap_or_else(|e| e.into_inner()).insert(user, settings);
    StatusCode::NO_CONTENT
}

/// The default MCP settings of a user who saved none: every built-in tool, no Spaces.
pub fn default_user_settings() -> serde_json::Value {
    serde_json::json!({
        "builtInTools": ["hf_fs", "hub_repo_search", "hub_repo_details", "hf_whoami", "dynamic_space"],
        "spaceTools": []
    })
}

async fn control_clear_faults(State(s): State<Arc<Shared>>) -> StatusCode {
    s.faults.lock().unwrap_or_else(|e| e.into_inner()).clear();
    StatusCode::NO_CONTENT
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
}

/// Who is calling, from the `Authorization` header.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Caller {
    Anonymous,
    User(&'static catalogue::User, &'static catalogue::TokenRec),
    /// A token was sent but is unknown / malformed.
    Invalid,
}

impl Caller {
    pub fn user(&self) -> Option<&'static catalogue::User> {
        match self {
            Caller::User(u, _) => Some(u),
            _ => None,
        }
    }
    pub fn is_authenticated(&self) -> bool {
        matches!(self, Caller::User(..))
    }
}

fn caller_of(headers: &HeaderMap) -> Caller {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Caller::Anonymous;
    };
    let Some(token) = value.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")).map(str::trim) else {
        return Caller::Invalid;
    };
    match catalogue::catalogue().user_for_token(token) {
        Some((u, t)) => Caller::User(u, t),
        None => Caller::Invalid,
    }
}

pub(crate) struct Ctx<'a> {
    pub method: Method,
    pub path: String,
    pub query: util::Query,
    pub headers: &'a HeaderMap,
    pub caller: Caller,
    /// `http://host:port` as seen by the client.
    pub origin: String,
    /// [`StandInConfig::max_page_size`].
    pub max_page_size: Option<usize>,
    /// [`StandInConfig::extra_spaces`].
    pub extra_spaces: &'a [extra_spaces::ExtraSpace],
    /// The request body (empty for GET and HEAD), capped at [`MAX_BODY_BYTES`].
    pub body: bytes::Bytes,
    pub store: &'a hub_api::store::Store,
}

/// Largest request body the stand-in reads (commits, LFS uploads, xorbs — which may pass
/// 64 MiB by their chunk headers).
const MAX_BODY_BYTES: usize = xet_format::xorb::MAX_SERIALIZED_XORB_BYTES;

async fn dispatch(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let method = req.method().clone();
    let uri = req.uri().clone();
    let headers = req.headers().clone();
    let path = uri.path().to_string();
    let raw_query = uri.query().map(str::to_string);
    shared.record(RecordedRequest {
        method: method.to_string(),
        path: path.clone(),
        query: raw_query.clone(),
        path_and_query: uri.path_and_query().map(|p| p.to_string()).unwrap_or_else(|| path.clone()),
        authorization: header_str(&headers, header::AUTHORIZATION),
        user_agent: header_str(&headers, header::USER_AGENT),
        range: header_str(&headers, header::RANGE),
        accept: header_str(&headers, header::ACCEPT),
        if_none_match: header_str(&headers, header::IF_NONE_MATCH),
        at_ms: shared.started.elapsed().as_millis() as u64,
    });

    if !shared.config.latency.is_zero() {
        tokio::time::sleep(shared.config.latency).await;
    }

    let query = util::Query::parse(raw_query.as_deref());

    // Programmatic fault rules.
    if let Some(action) = shared.take_fault(&method, &path, raw_query.as_deref()) {
        if let Some(resp) = apply_fault(action).await {
            return resp;
        }
    }
    // Stateless query triggers (handy with curl / out-of-process tests).
    if let Some(ms) = query.get("__standin_delay_ms").and_then(|v| v.parse::<u64>().ok()) {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    if let Some(status) = query.get("__standin_status").and_then(|v| v.parse::<u16>().ok()) {
        let action = FaultAction::Status {
            status,
            retry_after: query.get("__standin_retry_after").map(str::to_string),
            error_code: query.get("__standin_error_code").map(str::to_string),
            message: None,
        };
        if let Some(resp) = apply_fault(action).await {
            return resp;
        }
    }

    let caller = caller_of(&headers);
    let origin = format!("http://{}", header_str(&headers, header::HOST).unwrap_or_else(|| "127.0.0.1".to_string()));
    let max_page_size = shared.config.max_page_size;
    let extra_spaces = shared.config.extra_spaces.as_slice();
    let body = if method == Method::GET || method == Method::HEAD {
        bytes::Bytes::new()
    } else {
        match axum::body::to_bytes(req.into_body(), MAX_BODY_BYTES).await {
            Ok(b) => b,
            Err(_) => return util::hub_error(StatusCode::PAYLOAD_TOO_LARGE, None, "Request body too large"),
        }
    };
    let store = &shared.store;
    let ctx = Ctx {
        method: method.clone(),
        path,
        query,
        headers: &headers,
        caller,
        origin,
        max_page_size,
        extra_spaces,
        body,
        store,
    };

    if hub_api::jobs::is_jobs_path(&ctx.path) {
        return hub_api::jobs::handle(&shared.jobs, &ctx);
    }
    // The CAS authenticates with Xet access tokens, not Hub tokens.
    if ctx.path.starts_with(hub_api::xet::CAS_PREFIX) {
        return hub_api::xet::cas(&ctx);
    }
    if matches!(ctx.caller, Caller::Invalid) {
        return util::hub_error(StatusCode::UNAUTHORIZED, None, "Invalid credentials in Authorization header");
    }

    if ctx.path == "/api/settings/mcp" {
        let Some(user) = ctx.caller.user() else {
            return util::hub_error(StatusCode::UNAUTHORIZED, None, "Authentication required");
        };
        let settings = shared.settings.lock().unwrap_or_else(|e| e.into_inner()).get(&user.name).cloned();
        return util::ok_json(&settings.unwrap_or_else(default_user_settings));
    }
    let prefix = &shared.config.datasets_server_prefix;
    let is_ds = ctx.path == *prefix || ctx.path.starts_with(&format!("{prefix}/"));
    if is_ds && ctx.method != Method::GET && ctx.method != Method::HEAD {
        util::hub_error(StatusCode::METHOD_NOT_ALLOWED, None, "Method not allowed")
    } else if is_ds {
        let sub = ctx.path[prefix.len()..].to_string();
        ds_server::handle(&ctx, &sub)
    } else {
        hub_api::handle(&ctx).await
    }
}

async fn apply_fault(action: FaultAction) -> Option<Response> {
    match action {
        FaultAction::Delay { ms } => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            None
        }
        FaultAction::Status { status, retry_after, error_code, message } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let message = message.unwrap_or_else(|| status.canonical_reason().unwrap_or("Injected fault").to_string());
            let mut resp = if status.is_server_error() && error_code.is_none() {
                // Like a proxy/gateway error page: not JSON.
                Response::builder()
                    .status(status)
                    .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
                    .body(Body::from(message))
                    .expect("valid response")
            } else {
                util::hub_error(status, error_code.as_deref(), &message)
            };
            if let Some(ra) = retry_after {
                if let Ok(v) = ra.parse() {
                    resp.headers_mut().insert(header::RETRY_AFTER, v);
                }
            }
            Some(resp.into_response())
        }
    }
}
