//! What every HTTP handler shares: the transport's settings and the state built from them
//! once per router (the engine, live sessions, the gate).

use std::sync::Arc;
use std::time::Duration;

use super::guard::GuardConfig;
use crate::auth::AuthConfig;
use crate::dispatch::Engine;
use crate::limits::RateLimitConfig;
use crate::session::{LiveSessions, SessionConfig};

/// HTTP transport settings with production defaults.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// The MCP endpoint path.
    pub path: String,
    /// Largest accepted request body; larger bodies get 413.
    pub max_body_bytes: usize,
    pub guard: GuardConfig,
    /// Interval of keep-alive comments on long-lived streams.
    pub keep_alive: Duration,
    /// The session era: limits, intervals, the HTTP+SSE paths.
    pub sessions: SessionConfig,
    /// Bearer validation, protected-resource metadata, forced challenges.
    pub auth: AuthConfig,
    /// Request rate limits per caller / client address (`None`: unlimited).
    pub limits: Option<RateLimitConfig>,
    /// Count those limits across every instance (e.g. on Redis); `None`: per process.
    pub shared_limits: Option<std::sync::Arc<dyn crate::limits::SharedLimits>>,
    /// More routes served behind the same Host/Origin guard (e.g. an operator's
    /// `/metrics`); they are not gated by authentication.
    pub extra_routes: Option<axum::Router>,
    /// The Server Card and AI Catalog (`None`: not served).
    pub card: Option<super::discovery::ServerCardConfig>,
    /// The page a browser gets from `GET <path>` (and `/` redirecting there); `None`: 405.
    pub welcome: Option<super::welcome::WelcomeConfig>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            path: "/mcp".into(),
            max_body_bytes: 4 * 1024 * 1024,
            guard: GuardConfig::default(),
            keep_alive: Duration::from_secs(15),
            sessions: SessionConfig::default(),
            auth: AuthConfig::default(),
            limits: None,
            shared_limits: None,
            extra_routes: None,
            card: None,
            welcome: Some(super::welcome::WelcomeConfig::default()),
        }
    }
}

/// The state behind every route of one router.
pub(crate) struct App {
    pub engine: Engine,
    pub config: HttpConfig,
    pub live: Arc<LiveSessions>,
}
