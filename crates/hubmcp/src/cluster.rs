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

/// Client implementations an instance publishes (the most active deployments see a few
/// dozen; the cap keeps one report small).
const MAX_PUBLISHED_CLIENTS: usize = 256;

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
                "clients": telemetry.client_records().into_iter().take(MAX_PUBLISHED_CLIENTS).collect::<Vec<_>>(),
            });
            let bytes = serde_json::to_vec(&figures).expect("figures serialize");
            if let Err(e) = mcp_redis::publish_instance(&client, &id, &bytes, FIGURES_TTL).await {
                tracing::debug!("cluster figures not published: {e}");
            }
        }
    })
}

/// `/api/cluster`: every instance's last figures, stale ones marked, and the totals of the
/// live ones.
pub fn view(client: RedisClient) -> mcp_telemetry::http::ClusterView {
    Arc::new(move || {
        let client = client.clone();
        Box::pin(async move {
            let reports = mcp_redis::instances(&client).await.ok()?;
            Some(summarize(&reports))
        })
    })
}

fn summarize(reports: &[(String, Vec<u8>, u64)]) -> serde_json::Value {
    let (mut requests, mut errors, mut sessions) = (0u64, 0u64, 0u64);
    let mut instances = Vec::with_capacity(reports.len());
    let mut clients: serde_json::Map<String, serde_json::Value> = serde_json::Map::new();
    for (id, bytes, age_ms) in reports {
        let figures: serde_json::Value = serde_json::from_slice(bytes).unwrap_or_default();
        let o = &figures["overview"];
        let stale = *age_ms > STALE_AFTER.as_millis() as u64;
        let (r, e, s) = (
            o["requests"].as_u64().unwrap_or(0),
            o["errors"].as_u64().unwrap_or(0),
            o["sessions"]["total"].as_u64().unwrap_or(0),
        );
        if !stale {
            requests += r;
            errors += e;
            sessions += s;
            for c in figures["clients"].as_array().into_iter().flatten() {
                let Some(key) = c["client"].as_str() else { continue };
                match clients.get_mut(key) {
                    Some(seen) => merge_record(seen, c),
                    None => {
                        clients.insert(key.to_owned(), c.clone());
                    }
                }
            }
        }
        instances.push(serde_json::json!({
            "instance": id, "age_ms": age_ms, "stale": stale,
            "requests": r, "errors": e, "sessions": s,
            "uptime_seconds": o["uptime_seconds"], "methods": figures["methods"], "tools": figures["tools"],
        }));
    }
    serde_json::json!({
        "instances": instances,
        "totals": { "requests": requests, "errors": errors, "sessions": sessions },
        "clients": clients.into_values().collect::<Vec<_>>(),
    })
}

/// One client implementation seen by two instances: counts add up, observed behaviours
/// combine (seen anywhere = seen), lists unite, the latest time wins.
fn merge_record(into: &mut serde_json::Value, other: &serde_json::Value) {
    use serde_json::Value;
    let (Value::Object(into), Value::Object(other)) = (into, other) else { return };
    for (k, v) in other {
        let cur = into.entry(k.clone()).or_insert(Value::Null);
        *cur = match (&*cur, v) {
            (Value::Number(a), Value::Number(b)) => match (a.as_u64(), b.as_u64()) {
                (Some(a), Some(b)) => Value::from(a + b),
                _ => cur.clone(),
            },
            (Value::Bool(a), Value::Bool(b)) => Value::Bool(*a || *b),
            (Value::Null, b) => b.clone(),
            (Value::Array(a), Value::Array(b)) => {
                let mut all = a.clone();
                for x in b {
                    if !all.contains(x) {
                        all.push(x.clone());
                    }
                }
                Value::Array(all)
            }
            (Value::String(a), Value::String(b)) if b > a => Value::String(b.clone()),
            _ => cur.clone(),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_count_live_instances_and_mark_stale_ones() {
        let figures = |r: u64, s: u64| {
            serde_json::to_vec(
                &serde_json::json!({ "overview": { "requests": r, "errors": 1, "sessions": { "total": s } } }),
            )
            .unwrap()
        };
        let reports = vec![("a".to_owned(), figures(10, 2), 1_000), ("b".to_owned(), figures(5, 1), 60_000)];
        let v = summarize(&reports);
        assert_eq!(v["totals"]["requests"], 10);
        assert_eq!(v["totals"]["sessions"], 2);
        assert_eq!(v["instances"][0]["stale"], false);
        assert_eq!(v["instances"][1]["stale"], true);
    }

    #[test]
    fn client_records_merge_across_instances() {
        let mut a = serde_json::json!({ "client": "x@1", "requests": 2, "resumes": false, "transports": ["stdio"], "last_seen": "2026-01-01" });
        let b = serde_json::json!({ "client": "x@1", "requests": 3, "resumes": true, "transports": ["streamable_http"], "last_seen": "2026-02-01" });
        merge_record(&mut a, &b);
        assert_eq!(a["requests"], 5);
        assert_eq!(a["resumes"], true);
        assert_eq!(a["transports"], serde_json::json!(["stdio", "streamable_http"]));
        assert_eq!(a["last_seen"], "2026-02-01");
    }
}
