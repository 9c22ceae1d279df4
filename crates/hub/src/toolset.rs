//! The `hub` toolset: a [`Provider`] serving the Hugging Face Hub tools.
//!
//! The provider owns the one Hub HTTP client (connection reuse across calls and callers)
//! and a catalog built once at start-up. Every caller sees the same tools today; per-user
//! tool selection belongs in [`HubProvider::catalog`] when it arrives.

use std::sync::Arc;

use mcp_engine::jsonrpc::McpError;
use mcp_engine::protocol::RequestInfo;
use mcp_engine::provider::{BoxFuture, Catalog, Provider};
use mcp_engine::CacheHint;
use serde_json::{json, Value};

use crate::client::{HubClient, HubClientConfig, HubError};
use crate::tools::upstream::Upstream;
use crate::tools::{hf_fs, repo_details, repo_search, whoami};

/// How long clients may cache the tool list. Private: selection will become per-user.
pub const LIST_TTL_MS: u64 = 300_000;

pub const INSTRUCTIONS: &str = "You have tools for using the Hugging Face Hub (models, datasets, Spaces, papers, \
collections and documentation).\n\
- hub_repo_search finds repositories by query, author, tags and sort; include the returned links in answers.\n\
- hub_repo_details gives an overview of up to 10 repositories; for datasets call it with operations \
[\"dataset_structure\"] to learn configs, splits and schema, then [\"dataset_preview\"] with config and split for rows.\n\
- hf_fs browses hf:// URIs in one batched call: search to discover, ls/find to list, stat for metadata, cat to read \
text files (README.md, config.json, paper.md, docs pages) and attach to show PNG/JPEG/WebP images. Read hf://README.md \
for its limits. Reuse the URIs results return; ls hf://papers/daily/latest and hf://models/trending show what is new.\n\
- hf_whoami tells which account and token permissions are in use.\n\
Errors come back as results that say whether a retry can help and what to do instead. Private and gated repositories \
need a Hugging Face token with access; anonymous use works for public content with lower rate limits. arXiv paper ids \
link datasets, models and papers. To open an hf:// file in a browser use \
https://huggingface.co[/datasets|/spaces]/OWNER/NAME/resolve/main/PATH.";

/// Serves the Hub tools.
pub struct HubProvider {
    upstream: Arc<Upstream>,
    catalog: Arc<Catalog>,
}

impl HubProvider {
    /// Build the provider and its one Hub client.
    pub fn new(config: HubClientConfig) -> Result<Self, HubError> {
        Ok(Self::with_client(HubClient::new(config)?))
    }

    pub fn with_client(client: HubClient) -> Self {
        let upstream = Arc::new(Upstream::new(client));
        let catalog = Arc::new(build_catalog(&upstream));
        HubProvider { upstream, catalog }
    }

    /// Configuration from `HF_ENDPOINT`, `HF_DATASETS_SERVER_ENDPOINT` and `HF_API_TIMEOUT`.
    pub fn from_env() -> Result<Self, HubError> {
        Ok(Self::with_client(HubClient::from_env()?))
    }

    pub fn upstream(&self) -> &Arc<Upstream> {
        &self.upstream
    }
}

pub fn build_catalog(upstream: &Arc<Upstream>) -> Catalog {
    let mut c = Catalog::new();
    c.list_cache = CacheHint::private(LIST_TTL_MS);
    c.tool(hf_fs::tool(upstream.clone()));
    c.tool(repo_search::tool(upstream.clone()));
    c.tool(repo_details::tool(upstream.clone()));
    c.tool(whoami::tool(upstream.clone()));
    c
}

pub fn capabilities() -> Value {
    json!({ "tools": { "listChanged": false } })
}

impl Provider for HubProvider {
    fn catalog<'a>(&'a self, _request: &'a RequestInfo) -> BoxFuture<'a, Result<Arc<Catalog>, McpError>> {
        let catalog = self.catalog.clone();
        Box::pin(async move { Ok(catalog) })
    }

    fn capabilities(&self) -> Value {
        capabilities()
    }

    fn instructions(&self) -> Option<String> {
        Some(INSTRUCTIONS.to_owned())
    }
}
