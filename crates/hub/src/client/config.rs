//! Client configuration (endpoints, timeout, user agent, retry policy).

use std::time::Duration;

use url::Url;

use super::breaker::BreakerConfig;
use super::hook::UpstreamHook;
use super::retry::RetryPolicy;

/// Default Hub endpoint.
pub const DEFAULT_ENDPOINT: &str = "https://huggingface.co";
/// Default datasets-server (dataset viewer) endpoint.
pub const DEFAULT_DATASETS_SERVER: &str = "https://datasets-server.huggingface.co";
/// Default per-request timeout (seconds), as `HF_API_TIMEOUT`.
pub const DEFAULT_TIMEOUT_SECS: f64 = 12.5;

/// Environment variable with the Hub endpoint (as in `huggingface_hub`).
pub const ENV_ENDPOINT: &str = "HF_ENDPOINT";
/// Environment variable with the request timeout in whole milliseconds (hf-mcp-server's
/// name and unit).
pub const ENV_TIMEOUT: &str = "HF_API_TIMEOUT";
/// Environment variable with the datasets-server endpoint (hubmcp-specific).
pub const ENV_DATASETS_SERVER: &str = "HF_DATASETS_SERVER_ENDPOINT";

/// Invalid configuration value. Messages name the variable, never a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("{name} is not a valid http(s) URL: {value}")]
    InvalidUrl { name: &'static str, value: String },
    #[error("{name} must be a whole number of milliseconds (at least 100), got {value:?}")]
    InvalidTimeout { name: &'static str, value: String },
}

/// Configuration of a [`super::HubClient`].
#[derive(Debug, Clone)]
pub struct HubClientConfig {
    /// Hub base URL (no trailing slash needed; a path prefix is kept, e.g. for proxies).
    pub endpoint: Url,
    /// datasets-server base URL.
    pub datasets_server: Url,
    /// Whole-request timeout (connect + headers + body) per attempt.
    pub timeout: Duration,
    /// Connect timeout per attempt.
    pub connect_timeout: Duration,
    pub user_agent: String,
    pub retry: RetryPolicy,
    /// Largest JSON body accepted (protects memory against runaway responses).
    pub max_json_bytes: usize,
    /// Called on every HTTP attempt and circuit change (metrics).
    pub hook: UpstreamHook,
    /// The circuit breaker of every upstream host (Hub, datasets-server, Spaces).
    pub breaker: BreakerConfig,
}

impl Default for HubClientConfig {
    fn default() -> Self {
        HubClientConfig {
            endpoint: Url::parse(DEFAULT_ENDPOINT).expect("valid default"),
            datasets_server: Url::parse(DEFAULT_DATASETS_SERVER).expect("valid default"),
            timeout: Duration::from_secs_f64(DEFAULT_TIMEOUT_SECS),
            connect_timeout: Duration::from_secs(10),
            user_agent: default_user_agent(),
            retry: RetryPolicy::default(),
            max_json_bytes: 32 * 1024 * 1024,
            hook: UpstreamHook::default(),
            breaker: BreakerConfig::default(),
        }
    }
}

pub fn default_user_agent() -> String {
    format!("hubmcp/{}; rust/reqwest; (+https://huggingface.co/docs/hub/api)", env!("CARGO_PKG_VERSION"))
}

/// Parse and normalise an endpoint URL (http/https, no query/fragment, trailing `/` removed).
pub fn parse_endpoint(name: &'static str, value: &str) -> Result<Url, ConfigError> {
    let err = || ConfigError::InvalidUrl { name, value: value.to_string() };
    let mut url = Url::parse(value.trim()).map_err(|_| err())?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(err());
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(err());
    }
    let path = url.path().trim_end_matches('/').to_string();
    url.set_path(&path);
    Ok(url)
}

/// Whole milliseconds; values under 100 are refused (most likely meant as seconds).
fn parse_timeout(name: &'static str, value: &str) -> Result<Duration, ConfigError> {
    let ms: u64 = value.trim().parse().map_err(|_| ConfigError::InvalidTimeout { name, value: value.to_string() })?;
    if !(100..=86_400_000).contains(&ms) {
        return Err(ConfigError::InvalidTimeout { name, value: value.to_string() });
    }
    Ok(Duration::from_millis(ms))
}

impl HubClientConfig {
    /// Configuration from the process environment (`HF_ENDPOINT`, `HF_API_TIMEOUT`,
    /// `HF_DATASETS_SERVER_ENDPOINT`); unset or empty variables keep the defaults.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(|k| std::env::var(k).ok())
    }

    /// Like [`Self::from_env`] with a custom variable lookup (for tests and embedding).
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut cfg = HubClientConfig::default();
        let get = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        if let Some(v) = get(ENV_ENDPOINT) {
            cfg.endpoint = parse_endpoint(ENV_ENDPOINT, &v)?;
        }
        if let Some(v) = get(ENV_DATASETS_SERVER) {
            cfg.datasets_server = parse_endpoint(ENV_DATASETS_SERVER, &v)?;
        }
        if let Some(v) = get(ENV_TIMEOUT) {
            cfg.timeout = parse_timeout(ENV_TIMEOUT, &v)?;
            cfg.connect_timeout = cfg.connect_timeout.min(cfg.timeout);
        }
        Ok(cfg)
    }

    /// Point the client at another Hub (e.g. a stand-in).
    pub fn with_endpoint(mut self, endpoint: &str) -> Result<Self, ConfigError> {
        self.endpoint = parse_endpoint("endpoint", endpoint)?;
        Ok(self)
    }

    /// Point the client at another datasets-server.
    pub fn with_datasets_server(mut self, endpoint: &str) -> Result<Self, ConfigError> {
        self.datasets_server = parse_endpoint("datasets_server", endpoint)?;
        Ok(self)
    }

    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self.connect_timeout = self.connect_timeout.min(timeout);
        self
    }

    /// Report every upstream HTTP attempt to `hook` (metrics).
    pub fn with_hook(mut self, hook: UpstreamHook) -> Self {
        self.hook = hook;
        self
    }

    pub fn with_breaker(mut self, breaker: BreakerConfig) -> Self {
        self.breaker = breaker;
        self
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| m.get(k).cloned()
    }

    #[test]
    fn defaults() {
        let c = HubClientConfig::from_vars(vars(&[])).unwrap();
        assert_eq!(c.endpoint.as_str(), "https://huggingface.co/");
        assert_eq!(c.datasets_server.as_str(), "https://datasets-server.huggingface.co/");
        assert_eq!(c.timeout, Duration::from_millis(12_500));
    }

    #[test]
    fn env_overrides() {
        let c = HubClientConfig::from_vars(vars(&[
            ("HF_ENDPOINT", "http://127.0.0.1:9999/prefix/"),
            ("HF_API_TIMEOUT", "2500"),
            ("HF_DATASETS_SERVER_ENDPOINT", "http://127.0.0.1:9999/ds"),
        ]))
        .unwrap();
        assert_eq!(c.endpoint.as_str(), "http://127.0.0.1:9999/prefix");
        assert_eq!(c.timeout, Duration::from_millis(2500));
        assert_eq!(c.datasets_server.path(), "/ds");
    }

    #[test]
    fn rejects_bad_values() {
        assert!(HubClientConfig::from_vars(vars(&[("HF_ENDPOINT", "ftp://x")])).is_err());
        assert!(HubClientConfig::from_vars(vars(&[("HF_ENDPOINT", "not a url")])).is_err());
        assert!(HubClientConfig::from_vars(vars(&[("HF_API_TIMEOUT", "0")])).is_err());
        assert!(HubClientConfig::from_vars(vars(&[("HF_API_TIMEOUT", "abc")])).is_err());
        // Seconds, as hubmcp read this variable before: refused, not taken as milliseconds.
        assert!(HubClientConfig::from_vars(vars(&[("HF_API_TIMEOUT", "12.5")])).is_err());
        assert!(HubClientConfig::from_vars(vars(&[("HF_API_TIMEOUT", "30")])).is_err());
    }
}
