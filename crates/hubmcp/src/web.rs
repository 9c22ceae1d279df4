//! What browsers and discovery clients see of `serve`: which hosts and origins may call
//! (with hf-mcp-server's `MCP_ALLOWED_HOSTS` and `CORS_ALLOWED_ORIGINS`), the Server Card's
//! identity (Hub defaults, each a flag), the welcome page's introduction, and HSTS.

use clap::Args;
use mcp_engine::transport::http::discovery::{CardIcon, ServerCardConfig};
use mcp_engine::transport::http::guard::{GuardConfig, HostPolicy, OriginPatterns};
use mcp_engine::transport::http::welcome::WelcomeConfig;

/// hf-mcp-server's default CORS allow-list, kept so pages on the Hub work unchanged.
const HUB_CORS_ORIGINS: &str = "https://huggingface.co,https://hf.co";

const HUB_INTRO: &str = "<p>This server gives AI assistants the Hugging Face Hub: search and read models, \
datasets, Spaces, papers and documentation, and run Gradio Spaces as tools.</p>\
<p>Public content works without signing in. For private and gated repositories, your own Spaces \
and higher rate limits, give your client a Hugging Face token \
(<a href=\"https://huggingface.co/settings/tokens\">huggingface.co/settings/tokens</a>) as \
<code>Authorization: Bearer hf_…</code>, or add <code>?login</code> to the URL to sign in with OAuth.</p>";

#[derive(Args)]
pub struct WebArgs {
    /// Host names requests may address (comma-separated, `*` for any, `*.example.com` for
    /// subdomains). Default: loopback.
    #[arg(long, env = "HUBMCP_ALLOWED_HOSTS")]
    allowed_hosts: Option<String>,
    /// Host names added to the loopback names (hf-mcp-server's `MCP_ALLOWED_HOSTS`): as
    /// request hosts and as browser origins.
    #[arg(long, env = "MCP_ALLOWED_HOSTS")]
    mcp_allowed_hosts: Option<String>,
    /// Origins (host names) browsers may send requests from (comma-separated, `*` for any).
    #[arg(long, env = "HUBMCP_ALLOWED_ORIGINS")]
    allowed_origins: Option<String>,
    /// Full browser origins allowed to call (CORS): `https://app.example.com`,
    /// `https://*.example.com`, `*`; `none` for no others. Default (hub toolset):
    /// https://huggingface.co,https://hf.co.
    #[arg(long, env = "CORS_ALLOWED_ORIGINS")]
    cors_allowed_origins: Option<String>,
    /// Serve 405 to browsers opening the endpoint instead of the welcome page (and no `/`
    /// redirect).
    #[arg(long, env = "MCP_STRICT_COMPLIANCE", default_value = "false", default_missing_value = "true",
          num_args = 0..=1, value_parser = clap::builder::BoolishValueParser::new())]
    strict_compliance: bool,
    /// Send `Strict-Transport-Security: max-age=31536000; includeSubDomains` (behind HTTPS).
    #[arg(long, env = "HSTS", default_value = "false", default_missing_value = "true", num_args = 0..=1,
          value_parser = clap::builder::BoolishValueParser::new())]
    hsts: bool,
    /// Do not serve the Server Card and AI Catalog.
    #[arg(long, env = "HUBMCP_DISABLE_SERVER_CARD")]
    disable_server_card: bool,
    /// Server Card `name` (reverse-DNS `namespace/name`).
    #[arg(long, env = "HUBMCP_CARD_NAME", default_value = "huggingface.co/mcp")]
    card_name: String,
    /// Server Card `title`.
    #[arg(long, env = "HUBMCP_CARD_TITLE", default_value = "Hugging Face")]
    card_title: String,
    /// Server Card `description` (at most 100 characters).
    #[arg(long, env = "HUBMCP_CARD_DESCRIPTION", default_value = "MCP server for the Hugging Face Hub.")]
    card_description: String,
    /// Server Card `websiteUrl` (empty: none).
    #[arg(long, env = "HUBMCP_CARD_WEBSITE", default_value = "https://huggingface.co/mcp")]
    card_website: String,
    /// Server Card icon URLs (comma-separated; empty: none).
    #[arg(long, env = "HUBMCP_CARD_ICONS", default_value = "https://huggingface.co/favicon.ico")]
    card_icons: String,
}

impl WebArgs {
    /// Hosts and origins: `--allowed-hosts` (or loopback) plus `MCP_ALLOWED_HOSTS`;
    /// origins by host name likewise, plus the CORS allow-list.
    pub fn guard(&self, hub_toolset: bool) -> GuardConfig {
        let extra = self.mcp_allowed_hosts.as_deref().map(HostPolicy::parse);
        let with_extra = |p: HostPolicy| match &extra {
            Some(e) => p.with(e),
            None => p,
        };
        let hosts = self.allowed_hosts.as_deref().map_or_else(HostPolicy::loopback, HostPolicy::parse);
        let origins = self.allowed_origins.as_deref().map_or_else(HostPolicy::loopback, HostPolicy::parse);
        let cors = match self.cors_allowed_origins.as_deref().map(str::trim) {
            Some("none") => OriginPatterns::default(),
            Some(list) if !list.is_empty() => OriginPatterns::parse(list),
            _ if hub_toolset => OriginPatterns::parse(HUB_CORS_ORIGINS),
            _ => OriginPatterns::default(),
        };
        GuardConfig { hosts: with_extra(hosts), origins: with_extra(origins), cors_origins: cors }
    }

    pub fn welcome(&self, hub_toolset: bool) -> Option<WelcomeConfig> {
        (!self.strict_compliance).then(|| WelcomeConfig { intro_html: hub_toolset.then(|| HUB_INTRO.to_owned()) })
    }

    pub fn card(&self, public_url: Option<&str>) -> anyhow::Result<Option<ServerCardConfig>> {
        if self.disable_server_card {
            return Ok(None);
        }
        let mut card = ServerCardConfig::new(self.card_name.trim(), self.card_description.trim());
        card.title = Some(self.card_title.trim().to_owned()).filter(|t| !t.is_empty());
        card.website_url = Some(self.card_website.trim().to_owned()).filter(|w| !w.is_empty());
        card.icons = self
            .card_icons
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|src| CardIcon { src: src.to_owned(), mime_type: None, sizes: Vec::new() })
            .collect();
        card.public_url = public_url.map(str::to_owned);
        card.validate().map_err(anyhow::Error::msg)?;
        Ok(Some(card))
    }

    pub fn hsts(&self) -> bool {
        self.hsts
    }
}
