//! A stand-in for Gradio MCP Spaces: every `{subdomain}.{domain}` host served by one
//! listener (point a client's resolver for the Space domain at it), each Space with
//!
//! * `GET /gradio_api/mcp/schema` — its tool schema, in the array form (current Gradio) or
//!   the object form (older Gradio 5.x), with an `ETag` and `304 Not Modified` on
//!   `If-None-Match`;
//! * `/gradio_api/mcp/` — a real MCP server over Streamable HTTP (built on hubmcp's own
//!   engine, session era), whose tools report progress and return text, image and audio
//!   content, answering with `X-Proxied-Replica`.
//!
//! The Spaces mirror the Hub stand-in's fixtures: `black-forest-labs/FLUX.1-Kontext-Dev`
//! (array form, ZeroGPU), `microsoft/OmniParser-v2` (array form), `evalstate/flux1_schnell`
//! (object form, simple schema), `standin-org/private-tts` (private: needs the
//! `X-HF-Authorization` token of a `standin-org` member) and
//! `standin-org/broken-mcp-demo` (its schema answers 503).
//!
//! Tests change a Space's behaviour with [`SpacesStandIn::set_mode`] (slow, slow with
//! progress, tool error, HTTP 500, dropped connection), change its schema with
//! [`SpacesStandIn::bump_schema`], and read every request with [`SpacesStandIn::requests`].

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use base64::Engine as _;
use futures_util::future::BoxFuture;
use mcp_engine::jsonrpc::McpError;
use mcp_engine::protocol::RequestInfo;
use mcp_engine::provider::{Catalog, Provider, Tool, ToolOutput};
use mcp_engine::transport::http::guard::{GuardConfig, HostPolicy};
use mcp_engine::transport::http::HttpConfig;
use mcp_engine::{Ctx, Engine, ServerInfo};
use serde::Serialize;
use serde_json::{json, Value};

use crate::catalogue;

/// How a Space behaves when its tool is called.
#[derive(Debug, Clone, PartialEq)]
pub enum SpaceMode {
    /// Report `steps` progress notifications `interval` apart, then answer.
    Normal { steps: u32, interval: Duration },
    /// Say nothing for `delay`, then answer.
    Silent { delay: Duration },
    /// The tool answers with `isError: true`.
    ToolError,
    /// `tools/call` is answered with this HTTP status.
    HttpError(u16),
    /// Send one progress event, then drop the connection.
    Disconnect,
    /// The schema endpoint answers with this status (the MCP endpoint still works).
    SchemaError(u16),
}

impl Default for SpaceMode {
    fn default() -> Self {
        SpaceMode::Normal { steps: 3, interval: Duration::from_millis(10) }
    }
}

/// One request as a Space saw it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SpaceRequest {
    pub subdomain: String,
    pub method: String,
    pub path: String,
    /// The JSON-RPC method of a POST, when it had one.
    pub rpc_method: Option<String>,
    /// Raw `X-HF-Authorization` header.
    pub x_hf_authorization: Option<String>,
    /// Raw `Authorization` header (must never be sent to Spaces by hubmcp).
    pub authorization: Option<String>,
    pub if_none_match: Option<String>,
    pub mcp_session_id: Option<String>,
    /// `X-Proxied-Replica` sent by the client.
    pub proxied_replica: Option<String>,
    pub status: u16,
    pub at_ms: u64,
}

impl SpaceRequest {
    /// The token in `X-HF-Authorization: Bearer <token>`, if any.
    pub fn forwarded_token(&self) -> Option<&str> {
        self.x_hf_authorization.as_deref().and_then(|v| v.strip_prefix("Bearer ")).map(str::trim)
    }
}

/// Where the Spaces stand-in listens and which domain its hosts are under.
#[derive(Debug, Clone)]
pub struct SpacesConfig {
    pub host: IpAddr,
    /// 0 = ephemeral.
    pub port: u16,
    /// Hosts are `{subdomain}.{domain}`.
    pub domain: String,
    /// The replica id sent in `X-Proxied-Replica` (`<space>-<replica>`).
    pub replica: String,
}

impl Default for SpacesConfig {
    fn default() -> Self {
        SpacesConfig {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            domain: "hf.space".into(),
            replica: "r7k2p".into(),
        }
    }
}

struct SpaceDef {
    subdomain: &'static str,
    private: bool,
    object_form: bool,
}

const SPACES: &[SpaceDef] = &[
    SpaceDef { subdomain: "black-forest-labs-flux-1-kontext-dev", private: false, object_form: false },
    SpaceDef { subdomain: "microsoft-omniparser-v2", private: false, object_form: false },
    SpaceDef { subdomain: "evalstate-flux1-schnell", private: false, object_form: true },
    SpaceDef { subdomain: "standin-org-private-tts", private: true, object_form: false },
    SpaceDef { subdomain: "standin-org-broken-mcp-demo", private: false, object_form: false },
];

struct Shared {
    config: SpacesConfig,
    started: Instant,
    modes: Mutex<HashMap<String, SpaceMode>>,
    versions: Mutex<HashMap<String, u32>>,
    log: Mutex<Vec<SpaceRequest>>,
    catalogs: HashMap<String, Arc<Catalog>>,
}

impl Shared {
    fn mode(&self, sub: &str) -> SpaceMode {
        self.modes.lock().unwrap_or_else(|e| e.into_inner()).get(sub).cloned().unwrap_or_default()
    }
    fn version(&self, sub: &str) -> u32 {
        *self.versions.lock().unwrap_or_else(|e| e.into_inner()).get(sub).unwrap_or(&1)
    }
    fn subdomain_of(&self, headers: &HeaderMap) -> Option<String> {
        let host = headers.get(header::HOST)?.to_str().ok()?;
        let host =
            host.rsplit_once(':').map_or(host, |(h, p)| if p.bytes().all(|b| b.is_ascii_digit()) { h } else { host });
        let sub = host.strip_suffix(&self.config.domain)?.strip_suffix('.')?;
        Some(sub.to_owned())
    }
}

/// A running Spaces stand-in. Dropping it stops the server.
pub struct SpacesStandIn {
    pub addr: SocketAddr,
    pub domain: String,
    shared: Arc<Shared>,
    outages: crate::outage::Outages,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl SpacesStandIn {
    pub fn port(&self) -> u16 {
        self.addr.port()
    }
    /// `http://{subdomain}.{domain}:{port}` (resolve the domain to [`Self::addr`]).
    pub fn base_url(&self, subdomain: &str) -> String {
        format!("http://{subdomain}.{}:{}", self.domain, self.addr.port())
    }
    pub fn set_mode(&self, subdomain: &str, mode: SpaceMode) {
        self.shared.modes.lock().unwrap_or_else(|e| e.into_inner()).insert(subdomain.to_owned(), mode);
    }
    /// Periods of misbehaviour of some or all Spaces ([`crate::outage`]).
    pub fn outages(&self) -> &crate::outage::Outages {
        &self.outages
    }
    pub fn reset_modes(&self) {
        self.shared.modes.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
    /// Change a Space's schema (a new version, so a new `ETag`): its tool gains a
    /// `revision_{n}` parameter.
    pub fn bump_schema(&self, subdomain: &str) {
        *self.shared.versions.lock().unwrap_or_else(|e| e.into_inner()).entry(subdomain.to_owned()).or_insert(1) += 1;
    }
    pub fn requests(&self) -> Vec<SpaceRequest> {
        self.shared.log.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
    pub fn requests_to(&self, subdomain: &str) -> Vec<SpaceRequest> {
        self.requests().into_iter().filter(|r| r.subdomain == subdomain).collect()
    }
    pub fn clear_requests(&self) {
        self.shared.log.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

impl Drop for SpacesStandIn {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

/// Start the Spaces stand-in in the current Tokio runtime.
pub async fn spawn_spaces(config: SpacesConfig) -> SpacesStandIn {
    let listener =
        tokio::net::TcpListener::bind(SocketAddr::new(config.host, config.port)).await.expect("spaces stand-in binds");
    let addr = listener.local_addr().expect("local addr");
    let shared = Arc::new_cyclic(|weak: &std::sync::Weak<Shared>| Shared {
        catalogs: SPACES
            .iter()
            .map(|d| (d.subdomain.to_owned(), Arc::new(catalog_for(d.subdomain, weak.clone()))))
            .collect(),
        config: config.clone(),
        started: Instant::now(),
        modes: Mutex::new(HashMap::new()),
        versions: Mutex::new(HashMap::new()),
        log: Mutex::new(Vec::new()),
    });
    let provider = Arc::new(SpacesProvider { shared: shared.clone() });
    let info = ServerInfo { name: "gradio-standin".into(), version: "5.34.2".into(), title: None, instructions: None };
    let engine = Engine::builder(provider, info).build();
    let http = HttpConfig {
        path: "/gradio_api/mcp/".into(),
        guard: GuardConfig { hosts: HostPolicy::Any, origins: HostPolicy::Any, ..GuardConfig::default() },
        ..HttpConfig::default()
    };
    let mcp = mcp_engine::transport::http::router(engine, http);
    let app = Router::new()
        .route("/gradio_api/mcp/schema", axum::routing::get(schema))
        .with_state(shared.clone())
        .merge(mcp)
        .layer(axum::middleware::from_fn_with_state(shared.clone(), front));
    let outages = crate::outage::Outages::default();
    let app = app.layer(axum::middleware::from_fn_with_state(outages.clone(), crate::outage::layer));
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = rx.await;
            })
            .await;
    });
    SpacesStandIn { addr, domain: config.domain, shared, outages, shutdown: Some(tx), task: Some(task) }
}

fn header_string(h: &HeaderMap, name: &str) -> Option<String> {
    h.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

fn member_token(h: &HeaderMap) -> bool {
    let Some(token) = h.get("x-hf-authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    catalogue::catalogue().user_for_token(token.trim()).is_some_and(|(u, _)| u.orgs.iter().any(|o| o == "standin-org"))
}

/// Records requests, enforces private Spaces, injects HTTP faults, and names the replica.
async fn front(State(s): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let sub = s.subdomain_of(&parts.headers);
    let bytes = axum::body::to_bytes(body, 16 * 1024 * 1024).await.unwrap_or_default();
    let rpc_method = serde_json::from_slice::<Value>(&bytes)
        .ok()
        .and_then(|v| v.get("method").and_then(Value::as_str).map(str::to_owned));
    let mut record = SpaceRequest {
        subdomain: sub.clone().unwrap_or_default(),
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        rpc_method: rpc_method.clone(),
        x_hf_authorization: header_string(&parts.headers, "x-hf-authorization"),
        authorization: header_string(&parts.headers, "authorization"),
        if_none_match: header_string(&parts.headers, "if-none-match"),
        mcp_session_id: header_string(&parts.headers, "mcp-session-id"),
        proxied_replica: header_string(&parts.headers, "x-proxied-replica"),
        status: 0,
        at_ms: s.started.elapsed().as_millis() as u64,
    };
    let def = sub.as_deref().and_then(|sub| SPACES.iter().find(|d| d.subdomain == sub));
    let mode = sub.as_deref().map(|sub| s.mode(sub)).unwrap_or_default();
    let response = match def {
        None => (StatusCode::NOT_FOUND, "no such Space").into_response(),
        Some(d) if d.private && !member_token(&parts.headers) => {
            (StatusCode::UNAUTHORIZED, "this Space is private").into_response()
        }
        Some(_) if rpc_method.as_deref() == Some("tools/call") => match mode {
            SpaceMode::HttpError(code) => {
                (StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), "upstream failure")
                    .into_response()
            }
            SpaceMode::Disconnect => {
                let first = "data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progressToken\":\"hubmcp\",\"progress\":1}}\n\n";
                // The first event is flushed, then the connection breaks.
                let stream = futures_util::stream::unfold(0u8, move |n| async move {
                    match n {
                        0 => Some((Ok(bytes::Bytes::from_static(first.as_bytes())), 1)),
                        1 => {
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            Some((Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "dropped")), 2))
                        }
                        _ => None,
                    }
                });
                let mut r = Response::new(Body::from_stream(stream));
                r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
                r
            }
            _ => next.run(Request::from_parts(parts, Body::from(bytes))).await,
        },
        Some(_) => next.run(Request::from_parts(parts, Body::from(bytes))).await,
    };
    let mut response = response;
    if let Some(sub) = &sub {
        let replica = format!("{}-{}", sub.split('-').next().unwrap_or("space"), s.config.replica);
        if let Ok(v) = HeaderValue::from_str(&replica) {
            response.headers_mut().insert("x-proxied-replica", v);
        }
    }
    record.status = response.status().as_u16();
    s.log.lock().unwrap_or_else(|e| e.into_inner()).push(record);
    response
}

/// The tools of a Space (for the schema endpoint and the MCP server alike).
fn tools_of(sub: &str, version: u32) -> Vec<(String, String, Value)> {
    let mut tools: Vec<(String, String, Value)> = match sub {
        "black-forest-labs-flux-1-kontext-dev" => vec![
            (
                "FLUX_1_Kontext_Dev_infer".into(),
                "Perform image editing using the FLUX.1 Kontext pipeline.".into(),
                json!({ "type": "object", "properties": {
                    "input_image": { "title": "ImageData", "type": "string", "description": "The input image to be edited.",
                                     "format": "Gradio File Input - a http or https url to a file" },
                    "prompt": { "type": "string", "description": "Text description of the desired edit." },
                    "seed": { "type": "number", "description": "Random seed. Defaults to 42." },
                    "randomize_seed": { "type": "boolean", "default": true },
                    "guidance_scale": { "type": "number", "default": 2.5 },
                    "steps": { "type": "number", "default": 28 }
                } }),
            ),
            (
                "FLUX_1_Kontext_Dev__lambda_".into(),
                String::new(),
                json!({ "type": "object", "properties": { "image": { "title": "ImageData", "type": "string",
                        "format": "Gradio File Input - a http or https url to a file" } } }),
            ),
        ],
        "microsoft-omniparser-v2" => vec![(
            "OmniParser_v2_process".into(),
            "Parses a GUI screen and returns structured elements and a marked-up image.".into(),
            json!({ "type": "object", "properties": {
                "image_input": { "title": "ImageData", "type": "string", "format": "a http or https url to a file" },
                "box_threshold": { "type": "number", "description": "numeric value between 0.01 and 1.0", "default": 0.05 },
                "iou_threshold": { "type": "number", "description": "numeric value between 0.01 and 1.0", "default": 0.1 },
                "imgsz": { "type": "number", "description": "numeric value between 640 and 1920", "default": 640 }
            } }),
        )],
        "evalstate-flux1-schnell" => vec![(
            "evalstate_flux1_schnellinfer".into(),
            String::new(),
            json!({ "type": "object", "properties": {
                "prompt": { "type": "string" },
                "seed": { "type": "number", "description": "numeric value between 0 and 2147483647", "default": 0 },
                "randomize_seed": { "type": "boolean", "default": true },
                "width": { "type": "number", "description": "numeric value between 256 and 2048", "default": 1024 },
                "height": { "type": "number", "description": "numeric value between 256 and 2048", "default": 1024 },
                "num_inference_steps": { "type": "number", "description": "numeric value between 1 and 50", "default": 4 }
            }, "required": ["prompt"], "description": "" }),
        )],
        "standin-org-private-tts" => vec![(
            "private_tts_speak".into(),
            "Read text aloud.".into(),
            json!({ "type": "object", "properties": { "text": { "type": "string" } }, "required": ["text"] }),
        )],
        "standin-org-broken-mcp-demo" => vec![(
            "broken_mcp_demo_tts".into(),
            "Convert text to speech.".into(),
            json!({ "type": "object", "properties": { "text": { "type": "string" } } }),
        )],
        _ => Vec::new(),
    };
    if version > 1 {
        if let Some((_, _, schema)) = tools.first_mut() {
            schema["properties"][format!("revision_{version}")] = json!({ "type": "string" });
        }
    }
    tools
}

async fn schema(State(s): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let Some(sub) = s.subdomain_of(&headers) else { return (StatusCode::NOT_FOUND, "no such Space").into_response() };
    let Some(def) = SPACES.iter().find(|d| d.subdomain == sub) else {
        return (StatusCode::NOT_FOUND, "no such Space").into_response();
    };
    if def.subdomain == "standin-org-broken-mcp-demo" {
        return (StatusCode::SERVICE_UNAVAILABLE, "Space is in RUNTIME_ERROR").into_response();
    }
    if let SpaceMode::SchemaError(code) = s.mode(&sub) {
        return (StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), "schema failure")
            .into_response();
    }
    let version = s.version(&sub);
    let etag = format!("\"{sub}-v{version}\"");
    if headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
        let mut r = StatusCode::NOT_MODIFIED.into_response();
        r.headers_mut().insert(header::ETAG, HeaderValue::from_str(&etag).expect("ascii"));
        return r;
    }
    let tools = tools_of(&sub, version);
    let doc = if def.object_form {
        let mut o = serde_json::Map::new();
        for (name, _, schema) in tools {
            o.insert(name, schema);
        }
        Value::Object(o)
    } else {
        Value::Array(
            tools
                .into_iter()
                .map(|(name, description, schema)| {
                    let mut t = json!({ "name": name, "description": description, "inputSchema": schema,
                            "meta": { "file_data_present": false, "mcp_type": "tool", "endpoint_name": "infer" } });
                    if name == APP_TOOL {
                        t["_meta"] = json!({ "ui": { "resourceUri": APP_URI } });
                    }
                    t
                })
                .collect(),
        )
    };
    let mut r = axum::Json(doc).into_response();
    r.headers_mut().insert(header::ETAG, HeaderValue::from_str(&etag).expect("ascii"));
    r
}

/// A 1×1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00, 0x00, 0x00, 0x0d, 0x49,
    0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0, 0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99, 0x3d,
    0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

/// An MCP App (SEP-1865) modelled on one Space: the pinned Gradio does not emit
/// `_meta.ui` yet, so this tool names a `ui://` page its MCP server serves.
pub const APP_TOOL: &str = "OmniParser_v2_process";
pub const APP_URI: &str = "ui://omniparser/viewer.html";
pub const APP_HTML: &str =
    "<!doctype html><html><body><div id=\"omniparser-viewer\">OmniParser viewer</div></body></html>";

fn catalog_for(sub: &'static str, shared: std::sync::Weak<Shared>) -> Catalog {
    let mut c = Catalog::new();
    if sub == "microsoft-omniparser-v2" {
        let def = json!({ "uri": APP_URI, "name": "viewer", "mimeType": "text/html;profile=mcp-app" });
        c.resource(def, |read, _| async move {
            let mut r = serde_json::Map::new();
            r.insert(
                "contents".into(),
                json!([{ "uri": read.uri, "mimeType": "text/html;profile=mcp-app", "text": APP_HTML }]),
            );
            Ok(r)
        });
    }
    for (name, description, schema) in tools_of(sub, 1) {
        let shared = shared.clone();
        let def = json!({ "name": name, "description": description, "inputSchema": schema });
        c.tool(Tool::new(def, move |args, ctx: Ctx| {
            let shared = shared.clone();
            async move {
                let Some(shared) = shared.upgrade() else { return Ok(ToolOutput::error("stand-in stopped")) };
                Ok(run_tool(&shared, sub, &args, &ctx).await)
            }
        }));
    }
    c
}

async fn run_tool(shared: &Shared, sub: &str, args: &serde_json::value::RawValue, ctx: &Ctx) -> ToolOutput {
    let args: Value = serde_json::from_str(args.get()).unwrap_or(Value::Null);
    match shared.mode(sub) {
        SpaceMode::ToolError => return ToolOutput::error("Error: CUDA out of memory (stand-in failure)"),
        SpaceMode::Silent { delay } => tokio::time::sleep(delay).await,
        SpaceMode::Normal { steps, interval } => {
            for i in 1..=steps {
                tokio::time::sleep(interval).await;
                ctx.progress(i as f64, Some(steps as f64), Some(&format!("step {i}/{steps}"))).await;
            }
        }
        _ => {}
    }
    let host = format!("https://{sub}.hf.space");
    let png = base64::engine::general_purpose::STANDARD.encode(PNG);
    let mut content = match sub {
        "standin-org-private-tts" => vec![
            json!({ "type": "audio", "data": base64::engine::general_purpose::STANDARD.encode(b"RIFF\0\0\0\0WAVEfmt "),
                    "mimeType": "audio/wav" }),
            json!({ "type": "text", "text": format!("Spoke {} characters", args["text"].as_str().map_or(0, str::len)) }),
        ],
        _ => vec![
            json!({ "type": "image", "data": png, "mimeType": "image/png" }),
            json!({ "type": "text", "text": format!("Image saved at {host}/gradio_api/file=/tmp/gradio/out.png") }),
        ],
    };
    content.push(json!({ "type": "text", "text": format!("arguments: {args}") }));
    let mut o = serde_json::Map::new();
    o.insert("content".into(), Value::Array(content));
    ToolOutput::Result(o)
}

struct SpacesProvider {
    shared: Arc<Shared>,
}

impl Provider for SpacesProvider {
    fn catalog<'a>(&'a self, request: &'a RequestInfo) -> BoxFuture<'a, Result<Arc<Catalog>, McpError>> {
        Box::pin(async move {
            let sub = request.http.as_ref().and_then(|h| self.shared.subdomain_of(&h.headers));
            Ok(sub.and_then(|s| self.shared.catalogs.get(&s).cloned()).unwrap_or_else(|| Arc::new(Catalog::new())))
        })
    }
    fn capabilities(&self) -> Value {
        json!({ "tools": { "listChanged": false }, "resources": {} })
    }
}
