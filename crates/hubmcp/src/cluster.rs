//! Several instances, one service: with `--redis-url`, sessions, stream history, change
//! fan-out, cross-instance session routing and rate limits live on Redis, so any instance
//! behind a balancer serves any request of any session. Without it, everything stays in
//! this process (no Redis needed).
//!
//! Redis unreachable at start: hubmcp refuses to start, with one line naming the
//! (redacted) URL and the cause — an orchestrator restarts it, and a half-configured
//! instance never takes traffic. Unreachable later: stateless requests go on, session-era
//! requests get 503 + `Retry-After`, `/readyz` says not ready, and service resumes when
//! Redis is back (see `mcp-redis`).

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;
use mcp_engine::limits::SharedLimits;
use mcp_engine::session::SessionConfig;
use mcp_engine::store::{EventLog, SessionStore};
use mcp_engine::NotificationBus;
use mcp_redis::{RedisBus, RedisClient, RedisConfig, RedisEventLog, RedisLimits, RedisSessionStore};

#[derive(Args, Clone)]
pub struct RedisArgs {
    /// Share state with other instances on Redis: `redis://[user:password@]host:port[/db]`
    /// or `rediss://…` (TLS). The password is never logged.
    #[arg(long, env = "HUBMCP_REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<String>,
    /// Key and channel namespace on Redis (several deployments can share one Redis).
    #[arg(long, env = "HUBMCP_REDIS_PREFIX", default_value = RedisConfig::DEFAULT_PREFIX)]
    pub redis_prefix: String,
    /// Milliseconds to wait for a connection to Redis.
    #[arg(long, env = "HUBMCP_REDIS_CONNECT_TIMEOUT_MS", default_value_t = 2000)]
    pub redis_connect_timeout_ms: u64,
    /// Milliseconds to wait for one Redis command.
    #[arg(long, env = "HUBMCP_REDIS_COMMAND_TIMEOUT_MS", default_value_t = 1000)]
    pub redis_command_timeout_ms: u64,
}

/// The shared state of a cluster.
pub struct Shared {
    pub client: RedisClient,
    pub bus: Arc<dyn NotificationBus>,
    pub store: Arc<dyn SessionStore>,
    pub log: Arc<dyn EventLog>,
    pub limits: Arc<dyn SharedLimits>,
}

impl RedisArgs {
    /// Connect when `--redis-url` is given.
    pub async fn connect(&self, sessions: &SessionConfig) -> anyhow::Result<Option<Shared>> {
        let Some(url) = &self.redis_url else { return Ok(None) };
        let config = RedisConfig::new(url.clone()).with_prefix(self.redis_prefix.clone()).with_timeouts(
            Duration::from_millis(self.redis_connect_timeout_ms.max(1)),
            Duration::from_millis(self.redis_command_timeout_ms.max(1)),
        );
        let redacted = config.redacted_url();
        let client = RedisClient::connect(config).await.with_context(|| format!("cannot reach Redis at {redacted}"))?;
        tracing::info!("shared state on Redis at {redacted} (prefix {})", self.redis_prefix);
        let store = RedisSessionStore::new(client.clone(), sessions.max_sessions, sessions.idle_timeout);
        let log = RedisEventLog::new(
            client.clone(),
            sessions.max_events_per_stream,
            sessions.max_streams_per_session,
            sessions.idle_timeout,
        );
        Ok(Some(Shared {
            bus: Arc::new(RedisBus::new(&client, 1024)),
            store: Arc::new(store),
            log: Arc::new(log),
            limits: Arc::new(RedisLimits::new(client.clone())),
            client,
        }))
    }
}

/// How often an instance publishes its figures, how long they live, and when the
/// dashboard calls an instance stale.
pub const FIGURES_EVERY: Duration = Duration::from_secs(5);
pub const FIGURES_TTL: Duration = Duration::from_secs(120);
pub const STALE_AFTER: Duration = Duration::from_secs(15);

/// This process's name in the cluster view: host name and process id.
pub fn instance_id() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "host".to_owned());
    format!("{host}-{}", std::process::id())
}

/// Publish this instance's figures (overview, methods, tools) every [`FIGURES_EVERY`]
/// until the server stops, so every instance's `/api/cluster` shows the whole cluster.
pub fn spawn_figures(
    client: RedisClient,
    telemetry: mcp_telemetry::Telemetry,
    stop: tokio_util::sync::CancellationToken,
) -> tokio::task::JoinHandle<()> {
    let id = instance_id();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(FIGURES_EVERY);
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tick.tick() => {}
            }
            let figures = serde_json::json!({
                "instance": id,
                "overview": mcp_telemetry::http::overview(&telemetry),
                "methods": mcp_telemetry::http::methods(&telemetry),
                "tools": mcp_telemetry::http::tools(&telemetry),
            });
            let bytes = serde_json::to_vec(&figures).expect("figures serialize");
            if let Err(e) = mcp_redis::publish_instance(&client, &id, &bytes, FIGURES_TTL).await {
                tracing::debug!("cluster figures not published: {e}");
            }
        }
    })
}
