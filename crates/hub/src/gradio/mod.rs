//! Gradio Spaces as tools.
//!
//! A Space with Gradio's MCP server enabled publishes its tools at
//! `https://{subdomain}.hf.space/gradio_api/mcp/schema` and serves them over Streamable HTTP
//! at `/gradio_api/mcp/`. hubmcp lists them as its own tools — `gr{N}_{tool}` (`grp{N}_` for
//! private Spaces), titled with the Space name — and proxies calls to them as an MCP client.
//!
//! * [`net`]: where Spaces are (scheme, domain, port, address override) and what may be
//!   connected to (the outbound policy).
//! * [`schema`]: the two schema forms and tool naming.
//! * [`discovery`]: metadata and schema fetching with TTL/ETag caches and bounded
//!   concurrency.
//! * [`proxy`]: the upstream call with progress relay, timeouts, result pass-through.
//! * [`session_pool`]: upstream sessions (or the knowledge that a Space needs none) kept
//!   between calls of one caller, so a call is one round trip.
//!
//! [`Gradio`] ties them together with the per-caller budget of Space calls.

pub mod apps;
pub mod discovery;
pub mod frames;
pub mod net;
pub mod proxy;
pub mod schema;
pub mod session_pool;
pub mod space_list;

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;

use mcp_engine::limits::{Budget, LimitKey, SharedLimits, Spend, WindowBudget};
use mcp_engine::provider::{Catalog, TaskSupport, Tool, ToolOutput};
use mcp_engine::{Ctx, RequestInfo};
use mcp_telemetry::Telemetry;
use serde_json::json;

use crate::client::{Breakers, HubClient};
use discovery::{Discovery, SpaceMeta, SpaceSchema};
use net::SpaceNetwork;
use proxy::ResultOptions;
use session_pool::SessionPool;

/// Settings of the Gradio integration, with production defaults.
#[derive(Debug, Clone)]
pub struct GradioConfig {
    pub network: SpaceNetwork,
    /// How long public Space metadata and schemas are served from cache before
    /// revalidation (private Spaces are never cached).
    pub metadata_ttl: Duration,
    pub schema_ttl: Duration,
    /// Timeouts of discovery requests.
    pub space_info_timeout: Duration,
    pub schema_timeout: Duration,
    /// Concurrent discovery requests in this process.
    pub discovery_concurrency: usize,
    /// Spaces one caller's selection may name; further ones are ignored.
    pub max_spaces: usize,
    pub connect_timeout: Duration,
    /// A call with neither progress nor result for this long is abandoned; each progress
    /// notification restarts it.
    pub call_timeout: Duration,
    /// No call lasts longer, progress or not.
    pub max_call_duration: Duration,
    pub max_schema_bytes: usize,
    /// Largest upstream answer (a whole SSE stream or JSON body).
    pub max_response_bytes: usize,
    /// Space calls per window: per client address for anonymous callers, per token for
    /// authenticated ones (0 = unlimited).
    pub budget_anonymous: Budget,
    pub budget_authenticated: Budget,
    /// Upstream sessions kept between calls (0: a handshake for every call).
    pub session_pool_size: usize,
    /// How long a kept session may sit unused.
    pub session_idle: Duration,
    /// Count the budgets across every instance (e.g. on Redis); this process's counters are
    /// the fallback when they cannot be reached.
    pub shared_limits: Option<Arc<dyn SharedLimits>>,
    /// Call Spaces without the `initialize` handshake (hf-mcp-server's
    /// `GRADIO_SKIP_INITIALIZE`); by default the first call of a caller learns whether a
    /// Space needs one.
    pub skip_initialize: bool,
    /// `dynamic_space` lists these Spaces (`discover`) instead of searching the Hub
    /// (`find`): hf-mcp-server's `DYNAMIC_SPACE_DATA`.
    pub space_list: Option<space_list::SpaceListSource>,
}

impl Default for GradioConfig {
    fn default() -> Self {
        GradioConfig {
            network: SpaceNetwork::default(),
            metadata_ttl: Duration::from_secs(300),
            schema_ttl: Duration::from_secs(300),
            space_info_timeout: Duration::from_secs(5),
            schema_timeout: Duration::from_millis(7500),
            discovery_concurrency: 10,
            max_spaces: 20,
            connect_timeout: Duration::from_secs(10),
            call_timeout: Duration::from_secs(60),
            max_call_duration: Duration::from_secs(15 * 60),
            max_schema_bytes: 1024 * 1024,
            max_response_bytes: 16 * 1024 * 1024,
            budget_anonymous: Budget { uses: 20, window: Duration::from_secs(3600) },
            budget_authenticated: Budget { uses: 200, window: Duration::from_secs(3600) },
            session_pool_size: 1024,
            session_idle: Duration::from_secs(60),
            shared_limits: None,
            skip_initialize: false,
            space_list: None,
        }
    }
}

/// The Gradio integration: one per process.
pub struct Gradio {
    pub config: GradioConfig,
    pub http: reqwest::Client,
    pub discovery: Discovery,
    pub sessions: SessionPool,
    /// The client of `DYNAMIC_SPACE_DATA`, when configured.
    pub space_list_http: Option<reqwest::Client>,
    /// The circuit breakers of the Hub client, keyed by Space host here.
    pub breakers: Arc<Breakers>,
    budget: WindowBudget,
    telemetry: Telemetry,
}

impl Gradio {
    pub fn new(hub: HubClient, config: GradioConfig, telemetry: Telemetry) -> Arc<Gradio> {
        let http = net::space_client(&config.network, config.connect_timeout);
        let breakers = hub.breakers().clone();
        let discovery = Discovery::new(hub, http.clone(), config.clone(), telemetry.clone());
        let budget = WindowBudget::new(config.budget_anonymous, config.budget_authenticated);
        let sessions = SessionPool::new(config.session_pool_size, config.session_idle);
        let space_list_http = config.space_list.as_ref().map(|_| space_list::client(&config.network));
        Arc::new(Gradio { config, http, discovery, sessions, space_list_http, breakers, budget, telemetry })
    }

    /// Who a budget applies to: the caller's identity, else its address.
    pub fn budget_key(info: &RequestInfo) -> LimitKey {
        match &info.caller.id {
            Some(id) => LimitKey::Caller(id.to_string()),
            None => LimitKey::Address(
                info.http.as_ref().and_then(|h| h.remote).unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
            ),
        }
    }

    /// Take one Space call from the caller's budget — counted by every instance together
    /// when limits are shared — or explain when it resets.
    pub async fn spend(&self, info: &RequestInfo) -> Result<(), ToolOutput> {
        let key = Gradio::budget_key(info);
        let spent = match &self.config.shared_limits {
            Some(shared) => {
                let budget = self.budget.budget_for(&key);
                match shared.spend(&format!("space:{}", key.storage_key()), budget).await {
                    Ok(s) => s,
                    Err(_) => {
                        self.telemetry.limits_fallback();
                        self.budget.spend(&key)
                    }
                }
            }
            None => self.budget.spend(&key),
        };
        match spent {
            Spend::Allowed { .. } => Ok(()),
            Spend::Exhausted { limit, resets_in } => {
                self.telemetry.quota_rejected("space_calls");
                let secs = mcp_engine::limits::retry_after_secs(resets_in);
                let who = if key.is_authenticated() { "this account" } else { "anonymous use from this address" };
                let mut out = ToolOutput::error(format!(
                    "Space call budget exhausted: {who} may make {limit} Space calls per {} s, and the budget \
                     resets in {secs} s. Retry after that{}.",
                    self.budget.budget_for(&key).window.as_secs(),
                    if key.is_authenticated() {
                        ""
                    } else {
                        ", or sign in with a Hugging Face token for a larger budget"
                    }
                ));
                if let ToolOutput::Result(o) = &mut out {
                    o.insert(
                        "structuredContent".into(),
                        json!({ "error": "space_call_budget_exhausted", "limit": limit, "resetsInSeconds": secs }),
                    );
                }
                Err(out)
            }
        }
    }

    /// Proxy a call, charging the caller's budget.
    pub async fn call(
        &self,
        meta: &SpaceMeta,
        tool: &str,
        arguments: &serde_json::value::RawValue,
        ctx: &Ctx,
    ) -> ToolOutput {
        if let Err(out) = self.spend(ctx.request()).await {
            return out;
        }
        let options = ResultOptions { strip_images: strip_images(ctx.request()) };
        let started = std::time::Instant::now();
        let out = proxy::call_tool(self, meta, tool, arguments, ctx, options).await;
        // Upstream metrics: a call that ends in an error result (the proxy's or the Space's) is an error.
        let failed = matches!(&out, ToolOutput::Result(r) if r.get("isError") == Some(&serde_json::Value::Bool(true)));
        self.telemetry.upstream("space", if failed { "error" } else { "ok" }, started.elapsed());
        out
    }

    /// Add the tools of the Space at 0-based `index` of a selection, minus disabled names,
    /// to `catalog`, with the `ui://` pages of those that are MCP Apps ([`apps`]).
    pub fn add_space(
        self: &Arc<Self>,
        catalog: &mut Catalog,
        index: usize,
        meta: &Arc<SpaceMeta>,
        schema: &SpaceSchema,
        disabled: &HashSet<String>,
    ) {
        for (i, t) in schema.tools.iter().enumerate() {
            let name = schema::tool_name(&t.name, index, meta.private, i);
            if disabled.contains(&name) {
                continue;
            }
            let mut title = format!("{} - {}", meta.name, t.name);
            if let Some(e) = &meta.emoji {
                title.push(' ');
                title.push_str(e);
            }
            // A remote tool may do anything: the conservative hints, as the hosted server.
            let mut definition = json!({
                "name": name,
                "title": title,
                "description": format!("{} (from {})", t.description.trim(), meta.name),
                "inputSchema": t.input_schema,
                "annotations": {
                    "title": title,
                    "readOnlyHint": false, "destructiveHint": true, "idempotentHint": false, "openWorldHint": true
                }
            });
            match t.meta.as_ref().map(|m| (m, apps::app_of(m, meta))) {
                Some((_, Some(app))) => {
                    definition["_meta"] = app.meta.clone();
                    apps::add_resource(catalog, self, meta, &name, &title, app);
                }
                Some((m, None)) => definition["_meta"] = m.clone(),
                None => {}
            }
            let gradio = self.clone();
            let meta = meta.clone();
            let upstream_name: Arc<str> = t.name.as_str().into();
            let gpu = meta.is_gpu();
            let tool = Tool::new(definition, move |args, ctx: Ctx| {
                let gradio = gradio.clone();
                let meta = meta.clone();
                let upstream_name = upstream_name.clone();
                async move { Ok(gradio.call(&meta, &upstream_name, &args, &ctx).await) }
            });
            // GPU (and ZeroGPU) Spaces queue and run for seconds to minutes: a client that
            // cannot hold a stream that long may take the call as a task.
            catalog.tool(if gpu { tool.with_task_support(TaskSupport::Optional) } else { tool });
        }
    }
}

/// The circuit breaker's key of a Space: `{subdomain}.{domain}[:port]`.
pub fn space_host(network: &SpaceNetwork, subdomain: &str) -> String {
    match network.port {
        Some(p) => format!("{subdomain}.{}:{p}", network.domain.trim_matches('.')),
        None => format!("{subdomain}.{}", network.domain.trim_matches('.')),
    }
}

/// `?no_image_content=true` or `x-mcp-no-image-content: true`: the caller wants no image
/// content at all (Space results, `hf_fs attach`).
pub fn no_image_content(info: &RequestInfo) -> bool {
    let truthy = |v: &str| matches!(v.trim().to_ascii_lowercase().as_str(), "" | "true" | "1" | "yes");
    info.query_param("no_image_content").is_some_and(|v| truthy(&v))
        || info.header("x-mcp-no-image-content").is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

/// `?no_image_content=true` (or `x-mcp-no-image-content: true`, or the `no_gradio_images`
/// bouquet in `bouquet`/`mix`): drop image content from Space results.
pub fn strip_images(info: &RequestInfo) -> bool {
    if no_image_content(info) {
        return true;
    }
    let names = |v: Option<String>| v.is_some_and(|v| v.split(',').any(|b| b.trim() == "no_gradio_images"));
    info.query_params("mix").into_iter().any(|m| names(Some(m)))
        || names(info.header("x-mcp-mix").map(str::to_owned))
        || names(info.query_param("bouquet"))
        || names(info.header("x-mcp-bouquet").map(str::to_owned))
}
