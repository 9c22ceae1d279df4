//! The `hub` toolset: a [`Provider`] serving the Hugging Face Hub tools, `dynamic_space`,
//! and the caller's Gradio Spaces as proxied tools — a catalog per request, computed from
//! who the caller is and what they asked for ([`crate::selection`]).
//!
//! Nothing here is per-session: the catalog of a request depends only on the request
//! (token, query parameters, headers) and on caches (user settings, Space metadata and
//! schemas, built catalogs), so any instance can serve any request. Built-in tools are
//! built once; catalogs are shared by every caller with the same selection (selections
//! with private Spaces are built per request, since their schemas are never cached).

use std::sync::Arc;

use futures_util::future::BoxFuture;
use mcp_engine::jsonrpc::McpError;
use mcp_engine::notify::{Audience, ChangeEvent, NotificationBus};
use mcp_engine::protocol::RequestInfo;
use mcp_engine::provider::{Catalog, Provider, Tool};
use mcp_engine::CacheHint;
use mcp_telemetry::Telemetry;
use serde_json::{json, Value};

use crate::cache::TtlCache;
use crate::client::{HubClient, HubClientConfig, HubError};
use crate::gradio::discovery::{SpaceMeta, SpaceSchema};
use crate::gradio::{Gradio, GradioConfig};
use crate::proxy_tools::ProxyTools;
use crate::selection::{Builtins, SelectionConfig, Selector, BUILTINS};
use crate::skills::{self, Skills};
use crate::tools::{create_repo, dynamic_space, hf_fs, hf_fs_write, hf_jobs, repo_details, repo_search, whoami};

/// How long clients may cache a tool list (private: it is per caller). Selection changes
/// are announced with list-changed notifications.
pub const LIST_TTL_MS: u64 = 60_000;

pub const INSTRUCTIONS: &str = "You have tools for using the Hugging Face Hub (models, datasets, Spaces, papers, \
collections and documentation).\n\
- hub_repo_search finds repositories by query, author, tags and sort; include the returned links in answers.\n\
- hub_repo_details gives an overview of up to 10 repositories; for datasets call it with operations \
[\"dataset_structure\"] to learn configs, splits and schema, then [\"dataset_preview\"] with config and split for rows.\n\
- hf_fs browses hf:// URIs in one batched call: search to discover, ls/find to list, stat for metadata, cat to read \
text files (README.md, config.json, paper.md, docs pages) and attach to show PNG/JPEG/WebP images. Read hf://README.md \
for its limits. Reuse the URIs results return; ls hf://papers/daily/latest and hf://models/trending show what is new.\n\
- hf_whoami tells which account and token permissions are in use.\n\
- hf_jobs (when listed) runs Docker/uv jobs on Hugging Face hardware, follows their logs, lists, inspects, cancels \
and schedules them; call it with no operation for usage.\n\
- create_repo and hf_fs_write (when listed, for authenticated users) create repositories and buckets, and put or remove files (one commit per call, --create-pr to propose); deleting or overwriting may ask the user to confirm first.\n\
- dynamic_space (when listed) finds, inspects and invokes MCP-enabled Gradio Spaces; tools named gr1_…, gr2_… \
(grp… for private Spaces) run the user's chosen Spaces. Files are passed to Spaces as public URLs.\n\
Errors come back as results that say whether a retry can help and what to do instead. Private and gated repositories \
need a Hugging Face token with access; anonymous use works for public content with lower rate limits. arXiv paper ids \
link datasets, models and papers. To open an hf:// file in a browser use \
https://huggingface.co[/datasets|/spaces]/OWNER/NAME/resolve/main/PATH.";

/// The hosted server's words for anonymous use, at the head of the instructions.
pub const ANONYMOUS_USER: &str = "The Hugging Face tools are being used anonymously and rate limits apply. Direct the \
User to set their HF_TOKEN (instructions at https://hf.co/settings/mcp/), or create an account at https://hf.co/join \
for higher limits.";

/// Settings of the toolset beyond the Hub client.
pub struct HubOptions {
    pub selection: SelectionConfig,
    pub gradio: GradioConfig,
    /// Where per-caller list changes are announced (the engine's bus).
    pub bus: Option<Arc<dyn NotificationBus>>,
    /// Where cache hits/misses and quota refusals are counted (the engine's telemetry).
    pub telemetry: Option<Telemetry>,
    /// `--confirm-destructive`: ask the user (elicitation) before an operation that deletes
    /// or overwrites, when the client can be asked. Default on.
    pub confirm_destructive: bool,
    /// `hf_jobs` limits (its `confirm_destructive` is taken from the field above).
    pub jobs: hf_jobs::JobsConfig,
    /// Skills served as `skill://` resources (`HF_SKILLS_DIR`); none when empty.
    pub skills: Option<Arc<Skills>>,
}

impl Default for HubOptions {
    fn default() -> Self {
        HubOptions {
            selection: SelectionConfig::default(),
            gradio: GradioConfig::default(),
            bus: None,
            telemetry: None,
            confirm_destructive: true,
            jobs: hf_jobs::JobsConfig::default(),
            skills: None,
        }
    }
}

/// A catalog cache key: the built-ins and, per Space, its position and schema identity.
#[derive(Clone, PartialEq, Eq, Hash)]
struct CatalogKey {
    builtins: Builtins,
    callable: Builtins,
    spaces: Vec<(usize, usize)>,
    proxy: Vec<String>,
}

type CachedCatalog = (Arc<Catalog>, Vec<Arc<SpaceSchema>>);

/// Serves the Hub tools.
pub struct HubProvider {
    client: HubClient,
    builtins: Vec<Arc<Tool>>,
    gradio: Arc<Gradio>,
    selector: Selector,
    catalogs: TtlCache<CatalogKey, CachedCatalog>,
    bus: Option<Arc<dyn NotificationBus>>,
    telemetry: Telemetry,
    skills: Option<Arc<Skills>>,
    proxy_tools: Option<Arc<ProxyTools>>,
}

impl HubProvider {
    /// Build the provider and its one Hub client, with default options.
    pub fn new(config: HubClientConfig) -> Result<Self, HubError> {
        Ok(Self::with_client(HubClient::new(config)?))
    }

    pub fn with_client(client: HubClient) -> Self {
        Self::with_options(client, HubOptions::default())
    }

    pub fn with_options(client: HubClient, options: HubOptions) -> Self {
        let telemetry = options.telemetry.unwrap_or_else(Telemetry::disabled);
        let gradio = Gradio::new(client.clone(), options.gradio, telemetry.clone());
        let jobs = hf_jobs::JobsConfig { confirm_destructive: options.confirm_destructive, ..options.jobs };
        let confirm = options.confirm_destructive;
        let builtins = BUILTINS
            .iter()
            .map(|name| {
                Arc::new(match *name {
                    hf_fs::NAME => hf_fs::tool(client.clone()),
                    repo_search::NAME => repo_search::tool(client.clone()),
                    repo_details::NAME => repo_details::tool(client.clone()),
                    whoami::NAME => whoami::tool(client.clone()),
                    dynamic_space::NAME => dynamic_space::tool(gradio.clone()),
                    hf_jobs::NAME => hf_jobs::tool(client.clone(), jobs),
                    create_repo::NAME => create_repo::tool(client.clone()),
                    hf_fs_write::NAME => hf_fs_write::tool(client.clone(), confirm),
                    other => unreachable!("unknown built-in {other}"),
                })
            })
            .collect();
        let catalogs = TtlCache::new(gradio.config.schema_ttl, 4096);
        HubProvider {
            client,
            builtins,
            gradio,
            selector: Selector::new(options.selection, telemetry.clone()),
            catalogs,
            bus: options.bus,
            telemetry,
            skills: options.skills.filter(|s| !s.is_empty()),
            proxy_tools: None,
        }
    }

    /// Configuration from `HF_ENDPOINT`, `HF_DATASETS_SERVER_ENDPOINT` and `HF_API_TIMEOUT`.
    pub fn from_env() -> Result<Self, HubError> {
        Ok(Self::with_client(HubClient::from_env()?))
    }

    /// Load the tools of the servers `PROXY_TOOLS_CSV` names (`source`: a file or an
    /// `https://` URL), listed with `token` (`PROXY_TOKEN`). Called once, before serving.
    pub async fn load_proxy_tools(&mut self, source: &str, token: Option<&str>) {
        let tools = crate::proxy_tools::load(source, token, &self.gradio).await;
        self.proxy_tools = (!tools.is_empty()).then(|| Arc::new(tools));
    }

    /// The provider's one Hub client (shared with the token check).
    pub fn client(&self) -> &HubClient {
        &self.client
    }

    pub fn gradio(&self) -> &Arc<Gradio> {
        &self.gradio
    }

    fn new_catalog(&self, builtins: Builtins, callable: Builtins, proxy: &[String]) -> Catalog {
        let mut c = Catalog::new();
        c.list_cache = CacheHint::private(LIST_TTL_MS);
        for (i, name) in BUILTINS.iter().enumerate() {
            if builtins.contains(name) {
                c.add_tool(self.builtins[i].clone());
            } else if callable.contains(name) {
                // Not selected, but not disabled: callable by name, as on the hosted server.
                c.add_unlisted_tool(self.builtins[i].clone());
            }
        }
        if let (Some(p), false) = (&self.proxy_tools, proxy.is_empty()) {
            p.add_to(&mut c, proxy, self.selector.disabled());
        }
        if let Some(s) = &self.skills {
            skills::serve::add_to(&mut c, s);
        }
        c
    }

    async fn build(&self, info: &RequestInfo) -> Arc<Catalog> {
        let selected = self.selector.select(info).await;
        if selected.settings_changed {
            if let (Some(bus), Some(id)) = (&self.bus, &info.caller.id) {
                tracing::debug!("user settings changed: announcing a tool list change to the caller");
                bus.publish(ChangeEvent::ToolsListChanged(Audience::Caller(id.clone())));
            }
        }
        let selection = selected.selection;
        // Only picks that can name a proxied tool shape the catalog (and its cache key).
        let proxy: Vec<String> = if self.proxy_tools.is_some() { selection.proxy } else { Vec::new() };
        let callable = self.selector.callable(info.caller.bearer.is_some());
        let mut names = selection.spaces;
        names.truncate(self.gradio.config.max_spaces);
        if names.is_empty() {
            let key = CatalogKey { builtins: selection.builtins, callable, spaces: Vec::new(), proxy };
            if let Some((c, _)) = self.catalogs.get(&key) {
                self.telemetry.cache("catalog", true);
                return c;
            }
            self.telemetry.cache("catalog", false);
            let c = Arc::new(self.new_catalog(selection.builtins, callable, &key.proxy));
            self.catalogs.insert(key, (c.clone(), Vec::new()));
            return c;
        }

        let token = info.caller.bearer.as_deref();
        let resolved = self.gradio.discovery.resolve_all(&names, token).await;
        let mut found: Vec<(usize, Arc<SpaceMeta>, Arc<SpaceSchema>)> = Vec::new();
        for (i, r) in resolved.into_iter().enumerate() {
            match r {
                Ok((meta, schema)) => found.push((i, meta, schema)),
                Err(e) => tracing::debug!(space = %names[i], failure = ?e.failure, "space skipped: {}", e.message),
            }
        }
        let cacheable = found.iter().all(|(_, m, _)| !m.private);
        let key = CatalogKey {
            builtins: selection.builtins,
            callable,
            spaces: found.iter().map(|(i, _, s)| (*i, Arc::as_ptr(s) as usize)).collect(),
            proxy,
        };
        if cacheable {
            let cached = self.catalogs.get(&key);
            self.telemetry.cache("catalog", cached.is_some());
            if let Some((c, _)) = cached {
                return c;
            }
        }
        let mut catalog = self.new_catalog(selection.builtins, callable, &key.proxy);
        for (i, meta, schema) in &found {
            self.gradio.add_space(&mut catalog, *i, meta, schema, self.selector.disabled());
        }
        let catalog = Arc::new(catalog);
        if cacheable {
            let schemas = found.into_iter().map(|(_, _, s)| s).collect();
            self.catalogs.insert(key, (catalog.clone(), schemas));
        }
        catalog
    }
}

/// Tools; `logging`: hf_jobs relays job log lines as log messages to clients that set a
/// level; resources: MCP App pages of the caller's Spaces, and skills. Resources come and go
/// with the selection (announced as tool list changes); there are no subscriptions.
pub fn capabilities() -> Value {
    json!({ "tools": { "listChanged": true }, "logging": {}, "resources": { "subscribe": false, "listChanged": false } })
}

impl Provider for HubProvider {
    fn catalog<'a>(&'a self, request: &'a RequestInfo) -> BoxFuture<'a, Result<Arc<Catalog>, McpError>> {
        Box::pin(async move { Ok(self.build(request).await) })
    }

    fn capabilities(&self) -> Value {
        let mut caps = capabilities();
        if let (Some(_), Value::Object(c)) = (&self.skills, &mut caps) {
            skills::serve::capabilities(c);
        }
        caps
    }

    fn instructions(&self) -> Option<String> {
        Some(INSTRUCTIONS.to_owned())
    }

    /// As the hosted server: the instructions say who is signed in, or that use is anonymous.
    fn instructions_for(&self, caller: &mcp_engine::protocol::Caller) -> Option<String> {
        let who = match (&caller.id, &caller.bearer) {
            (_, None) => ANONYMOUS_USER.to_owned(),
            (Some(id), Some(_)) => match self.client.known_name(id) {
                Some(name) => format!("Hugging Face tools are being used by authenticated user '{name}'."),
                None => return None,
            },
            (None, Some(_)) => return None,
        };
        Some(format!("{who}\n{INSTRUCTIONS}"))
    }
}
