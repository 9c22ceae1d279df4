//! Configuration of who may call and what they see: token validation and OAuth metadata,
//! request rate limits (`serve`), and the Hub toolset's tool selection, Gradio Spaces and
//! Space-call budgets (`serve` and `stdio`).

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;
use hubmcp_hub::auth::{WhoamiAuthenticator, WhoamiConfig};
use hubmcp_hub::gradio::net::{AllowedAddresses, SpaceNetwork};
use hubmcp_hub::gradio::GradioConfig;
use hubmcp_hub::selection::SelectionConfig;
use hubmcp_hub::HubClient;
use mcp_engine::auth::{AuthConfig, ProtectedResource};
use mcp_engine::limits::{Budget, Rate, RateLimitConfig};
use mcp_telemetry::Telemetry;

/// Tool selection and Gradio Spaces (the `hub` toolset).
#[derive(Args)]
pub struct SpaceArgs {
    /// Per-user settings API (`{builtInTools, spaceTools}`), fetched with the caller's token.
    #[arg(long, env = "USER_CONFIG_API")]
    user_config_api: Option<String>,
    /// Seconds a user's settings are cached (a refetch that differs announces list_changed).
    #[arg(long, env = "HUBMCP_SETTINGS_CACHE_SECONDS", default_value_t = 60)]
    settings_cache_seconds: u64,
    /// Tools hidden from everyone, and whose calls are rejected (comma-separated names,
    /// built-in or `gr…`).
    #[arg(long, env = "DISABLE_TOOLS", default_value = "")]
    disable_tools: String,
    /// Spaces (owner/name, comma-separated) authenticated callers get when no settings API
    /// is configured: by default the hosted server's image-generation Space; `none` for none.
    #[arg(long, env = "HUBMCP_DEFAULT_SPACES", default_value = "mcp-tools/Z-Image-Turbo")]
    default_spaces: String,
    /// Domain Spaces are served under: `{subdomain}.{domain}`.
    #[arg(long, env = "HUBMCP_SPACE_DOMAIN", default_value = "hf.space")]
    space_domain: String,
    /// Scheme of Space URLs (`http` only for local stand-ins).
    #[arg(long, env = "HUBMCP_SPACE_SCHEME", default_value = "https")]
    space_scheme: String,
    /// Port of Space URLs (default: the scheme's).
    #[arg(long, env = "HUBMCP_SPACE_PORT")]
    space_port: Option<u16>,
    /// Resolve every `*.{space domain}` name to this address instead of using DNS.
    #[arg(long, env = "HUBMCP_SPACE_RESOLVE")]
    space_resolve: Option<IpAddr>,
    /// Internal address classes Space connections may reach: `loopback`, `private`,
    /// `link-local` (comma-separated; none by default).
    #[arg(long, env = "HUBMCP_SPACE_ALLOW_ADDRESSES", default_value = "")]
    space_allow_addresses: String,
    /// Space host names (exact or `*.suffix`, comma-separated) that may resolve to any
    /// internal address (hf-mcp-server's name).
    #[arg(long, env = "ALLOW_INTERNAL_ADDRESS_HOSTS", default_value = "")]
    allow_internal_address_hosts: String,
    /// Call Spaces without the MCP `initialize` handshake (hf-mcp-server's name).
    #[arg(long, env = "GRADIO_SKIP_INITIALIZE", default_value = "false", default_missing_value = "true",
          num_args = 0..=1, value_parser = clap::builder::BoolishValueParser::new())]
    gradio_skip_initialize: bool,
    /// URL of a CSV of Spaces (`space_id,category,description`): `dynamic_space` then offers
    /// `discover` (this list) instead of `find` (hf-mcp-server's name).
    #[arg(long, env = "DYNAMIC_SPACE_DATA")]
    dynamic_space_data: Option<String>,
    /// Allow an `http` DYNAMIC_SPACE_DATA URL (hf-mcp-server's name).
    #[arg(long, env = "ALLOW_PERMISSIVE_URLS", default_value = "false", default_missing_value = "true",
          num_args = 0..=1, value_parser = clap::builder::BoolishValueParser::new())]
    allow_permissive_urls: bool,
    /// Milliseconds public Space metadata is cached before ETag revalidation.
    #[arg(long, env = "GRADIO_SPACE_CACHE_TTL", default_value_t = 300_000)]
    space_cache_ttl_ms: u64,
    /// Milliseconds public Space schemas are cached before ETag revalidation.
    #[arg(long, env = "GRADIO_SCHEMA_CACHE_TTL", default_value_t = 300_000)]
    schema_cache_ttl_ms: u64,
    /// Concurrent Space discovery requests.
    #[arg(long, env = "GRADIO_DISCOVERY_CONCURRENCY", default_value_t = 10)]
    discovery_concurrency: usize,
    /// Milliseconds to wait for Space metadata from the Hub.
    #[arg(long, env = "GRADIO_SPACE_INFO_TIMEOUT", default_value_t = 5_000)]
    space_info_timeout_ms: u64,
    /// Milliseconds to wait for a Space's schema.
    #[arg(long, env = "GRADIO_SCHEMA_TIMEOUT", default_value_t = 7_500)]
    schema_timeout_ms: u64,
    /// Spaces one selection may name (more are ignored).
    #[arg(long, env = "HUBMCP_MAX_SPACES", default_value_t = 20)]
    max_spaces: usize,
    /// Seconds a Space call may go without progress or result (each progress restarts it).
    #[arg(long, env = "HUBMCP_SPACE_CALL_TIMEOUT_SECONDS", default_value_t = 60)]
    space_call_timeout_seconds: u64,
    /// Seconds any Space call may last at most.
    #[arg(long, env = "HUBMCP_SPACE_MAX_CALL_SECONDS", default_value_t = 900)]
    space_max_call_seconds: u64,
    /// Largest Space answer in bytes.
    #[arg(long, env = "HUBMCP_SPACE_MAX_RESPONSE_BYTES", default_value_t = 16 * 1024 * 1024)]
    space_max_response_bytes: usize,
    /// Largest Space schema in bytes.
    #[arg(long, env = "HUBMCP_SPACE_MAX_SCHEMA_BYTES", default_value_t = 1024 * 1024)]
    space_max_schema_bytes: usize,
    /// Space calls per window for an anonymous client address (0: unlimited).
    #[arg(long, env = "HUBMCP_SPACE_CALLS_ANONYMOUS", default_value_t = 20)]
    space_calls_anonymous: u32,
    /// Space calls per window for an authenticated caller (0: unlimited).
    #[arg(long, env = "HUBMCP_SPACE_CALLS_AUTHENTICATED", default_value_t = 200)]
    space_calls_authenticated: u32,
    /// The Space-call budget window in seconds.
    #[arg(long, env = "HUBMCP_SPACE_CALL_WINDOW_SECONDS", default_value_t = 3600)]
    space_call_window_seconds: u64,
    /// Upstream Space sessions kept between a caller's calls (0: a fresh handshake per call).
    #[arg(long, env = "HUBMCP_SPACE_SESSION_POOL", default_value_t = 1024)]
    space_session_pool: usize,
    /// Seconds a kept Space session may sit unused.
    #[arg(long, env = "HUBMCP_SPACE_SESSION_IDLE_SECONDS", default_value_t = 60)]
    space_session_idle_seconds: u64,
}

fn list(s: &str) -> impl Iterator<Item = String> + '_ {
    s.split(',').map(str::trim).filter(|x| !x.is_empty()).map(str::to_owned)
}

impl SpaceArgs {
    pub fn selection(&self) -> anyhow::Result<SelectionConfig> {
        let user_config_api = match self.user_config_api.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(u) => {
                let url = url::Url::parse(u).context("invalid USER_CONFIG_API")?;
                let local = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
                anyhow::ensure!(
                    url.scheme() == "https" || (url.scheme() == "http" && local),
                    "USER_CONFIG_API must use https (http only for localhost)"
                );
                Some(url)
            }
        };
        Ok(SelectionConfig {
            user_config_api,
            settings_ttl: Duration::from_secs(self.settings_cache_seconds),
            disabled: list(&self.disable_tools).collect(),
            default_spaces: list(&self.default_spaces).filter(|s| !s.eq_ignore_ascii_case("none")).collect(),
            ..SelectionConfig::default()
        })
    }

    pub fn gradio(&self) -> anyhow::Result<GradioConfig> {
        anyhow::ensure!(matches!(self.space_scheme.as_str(), "http" | "https"), "--space-scheme must be http or https");
        let allow = AllowedAddresses::parse(&self.space_allow_addresses)
            .map_err(|e| anyhow::anyhow!("invalid HUBMCP_SPACE_ALLOW_ADDRESSES: {e}"))?;
        let ms = Duration::from_millis;
        Ok(GradioConfig {
            network: SpaceNetwork {
                scheme: self.space_scheme.clone(),
                domain: self.space_domain.clone(),
                port: self.space_port,
                resolve: self.space_resolve,
                allow,
                internal_hosts: self
                    .allow_internal_address_hosts
                    .split(',')
                    .map(|h| h.trim().trim_end_matches('.').to_ascii_lowercase())
                    .filter(|h| !h.is_empty())
                    .collect(),
            },
            skip_initialize: self.gradio_skip_initialize,
            space_list: match self.dynamic_space_data.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
                Some(url) => Some(
                    hubmcp_hub::gradio::space_list::SpaceListSource::parse(url, self.allow_permissive_urls)
                        .map_err(anyhow::Error::msg)?,
                ),
                None => None,
            },
            metadata_ttl: ms(self.space_cache_ttl_ms),
            schema_ttl: ms(self.schema_cache_ttl_ms),
            space_info_timeout: ms(self.space_info_timeout_ms.max(1)),
            schema_timeout: ms(self.schema_timeout_ms.max(1)),
            discovery_concurrency: self.discovery_concurrency.max(1),
            max_spaces: self.max_spaces,
            call_timeout: Duration::from_secs(self.space_call_timeout_seconds.max(1)),
            max_call_duration: Duration::from_secs(self.space_max_call_seconds.max(1)),
            max_response_bytes: self.space_max_response_bytes.max(1024),
            max_schema_bytes: self.space_max_schema_bytes.max(1024),
            budget_anonymous: Budget {
                uses: self.space_calls_anonymous,
                window: Duration::from_secs(self.space_call_window_seconds.max(1)),
            },
            budget_authenticated: Budget {
                uses: self.space_calls_authenticated,
                window: Duration::from_secs(self.space_call_window_seconds.max(1)),
            },
            session_pool_size: self.space_session_pool,
            session_idle: Duration::from_secs(self.space_session_idle_seconds),
            ..GradioConfig::default()
        })
    }
}

/// Authentication and request limits of `serve`.
#[derive(Args)]
pub struct AccessArgs {
    /// Validate bearer tokens with the Hub's whoami-v2 (hub toolset; invalid → 401).
    #[arg(long, env = "HUBMCP_VALIDATE_TOKENS", default_value_t = true, action = clap::ArgAction::Set)]
    validate_tokens: bool,
    /// Seconds a token's validation is cached (keyed by a hash of the token).
    #[arg(long, env = "HUBMCP_TOKEN_CACHE_SECONDS", default_value_t = 60)]
    token_cache_seconds: u64,
    /// Public base URL of this server (for OAuth metadata); default: from the Host header.
    #[arg(long, env = "HUBMCP_PUBLIC_URL")]
    public_url: Option<String>,
    /// The OAuth authorization server named in the protected-resource metadata
    /// (default: HF_ENDPOINT).
    #[arg(long, env = "HUBMCP_AUTHORIZATION_SERVER")]
    authorization_server: Option<String>,
    /// `scopes_supported` of the protected-resource metadata (space-separated).
    #[arg(long, env = "HUBMCP_OAUTH_SCOPES", default_value = "openid profile")]
    oauth_scopes: String,
    /// Requests per minute per anonymous client address (0: unlimited). Default: 300 for
    /// the hub toolset, unlimited for conformance.
    #[arg(long, env = "HUBMCP_RATE_ANONYMOUS_PER_MINUTE")]
    rate_anonymous_per_minute: Option<u32>,
    /// Burst of requests per anonymous client address.
    #[arg(long, env = "HUBMCP_RATE_ANONYMOUS_BURST", default_value_t = 60)]
    rate_anonymous_burst: u32,
    /// Requests per minute per authenticated caller (0: unlimited). Default: 1200 for the
    /// hub toolset, unlimited for conformance.
    #[arg(long, env = "HUBMCP_RATE_AUTHENTICATED_PER_MINUTE")]
    rate_authenticated_per_minute: Option<u32>,
    /// Burst of requests per authenticated caller.
    #[arg(long, env = "HUBMCP_RATE_AUTHENTICATED_BURST", default_value_t = 200)]
    rate_authenticated_burst: u32,
    /// Key anonymous limits by the first `X-Forwarded-For` address (only behind a proxy
    /// that sets it).
    #[arg(long, env = "HUBMCP_TRUST_FORWARDED_FOR")]
    trust_forwarded_for: bool,
}

impl AccessArgs {
    /// The HTTP authentication settings; `hub` is the Hub client of the hub toolset.
    pub fn auth(&self, hub: Option<&HubClient>, telemetry: &Telemetry) -> AuthConfig {
        let Some(hub) = hub else { return AuthConfig::default() };
        let authorization_server = self
            .authorization_server
            .clone()
            .unwrap_or_else(|| hub.endpoint().as_str().trim_end_matches('/').to_owned());
        let authenticator = self.validate_tokens.then(|| {
            let ttl = Duration::from_secs(self.token_cache_seconds);
            let config = WhoamiConfig { ttl, invalid_ttl: ttl, ..WhoamiConfig::default() };
            Arc::new(WhoamiAuthenticator::new(hub.clone(), config).with_telemetry(telemetry.clone()))
                as Arc<dyn mcp_engine::auth::Authenticator>
        });
        AuthConfig {
            authenticator,
            resource: Some(ProtectedResource {
                authorization_servers: vec![authorization_server],
                scopes_supported: self.oauth_scopes.split_whitespace().map(str::to_owned).collect(),
                resource_name: Some("Hugging Face MCP Server (hubmcp)".into()),
                resource_documentation: Some("https://huggingface.co/docs/hub/hf-mcp-server".into()),
                public_url: self.public_url.clone(),
            }),
            force_params: AuthConfig::default_force_params(),
        }
    }

    /// Request limits: on by default for the hub toolset.
    pub fn limits(&self, hub_toolset: bool) -> Option<RateLimitConfig> {
        let defaults = RateLimitConfig::default();
        let anon =
            self.rate_anonymous_per_minute.unwrap_or(if hub_toolset { defaults.anonymous.per_minute } else { 0 });
        let auth = self.rate_authenticated_per_minute.unwrap_or(if hub_toolset {
            defaults.authenticated.per_minute
        } else {
            0
        });
        if anon == 0 && auth == 0 {
            return None;
        }
        let rate = |per_minute: u32, burst: u32| {
            if per_minute == 0 {
                Rate::UNLIMITED
            } else {
                Rate::new(per_minute, burst.max(1))
            }
        };
        Some(RateLimitConfig {
            anonymous: rate(anon, self.rate_anonymous_burst),
            authenticated: rate(auth, self.rate_authenticated_burst),
            trust_forwarded_for: self.trust_forwarded_for,
        })
    }
}
