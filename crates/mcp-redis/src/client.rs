//! One handle on Redis per process: a multiplexed, auto-reconnecting connection (redis-rs
//! `ConnectionManager`) shared by every store, plus what the bus needs to open its own
//! pub/sub connection. Every command goes through [`RedisClient::run`], which bounds it by
//! the command timeout and turns any failure into `StoreError::Unavailable` with a message
//! that names the operation and never the URL's secret.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use mcp_engine::store::StoreError;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncConnectionConfig, IntoConnectionInfo, ProtocolVersion, RedisResult};

use crate::config::{Redactor, RedisConfig};

/// A cheap-to-clone handle: all clones share one connection set.
#[derive(Clone)]
pub struct RedisClient {
    inner: Arc<Inner>,
}

struct Inner {
    config: RedisConfig,
    redactor: Redactor,
    client: redis::Client,
    conn: ConnectionManager,
}

impl std::fmt::Debug for RedisClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisClient").field("config", &self.inner.config).finish()
    }
}

impl RedisClient {
    /// Connect (bounded by `connect_timeout`). Fails with `Unavailable` when Redis cannot
    /// be reached now; once connected, lost connections are re-established in the
    /// background and commands fail fast meanwhile.
    pub async fn connect(config: RedisConfig) -> Result<RedisClient, StoreError> {
        let redactor = config.redactor();
        let redacted = config.redacted_url();
        if config.url.starts_with("rediss:") {
            // redis-rs builds its rustls config from the process default provider.
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        let invalid = |e: redis::RedisError| {
            StoreError::Unavailable(redactor.scrub(&format!("invalid redis URL {redacted}: {e}")))
        };
        let mut info = config.url.as_str().into_connection_info().map_err(invalid)?;
        if !names_protocol(&config.url) {
            // RESP3 lets the connection manager hear at once that a connection dropped and
            // reconnect before the next command needs it (RESP2 notices on a failed command).
            let settings = info.redis_settings().clone().set_protocol(ProtocolVersion::RESP3);
            info = info.set_redis_settings(settings);
        }
        let client = redis::Client::open(info).map_err(invalid)?;
        let cant = |why: String| {
            StoreError::Unavailable(redactor.scrub(&format!("cannot connect to redis at {redacted}: {why}")))
        };
        let timed_out = || cant(format!("timed out after {} ms", config.connect_timeout.as_millis()));

        // One plain attempt first, so a refusal or bad credentials are reported as such
        // (the manager below retries forever and would only time out).
        let probe_config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(config.connect_timeout))
            .set_response_timeout(Some(config.command_timeout));
        let probe = client.get_multiplexed_async_connection_with_config(&probe_config);
        match tokio::time::timeout(config.connect_timeout, probe).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return Err(cant(describe(&e))),
            Err(_) => return Err(timed_out()),
        }

        // Reconnects in the background without giving up (at most 1 s apart, jittered);
        // commands issued meanwhile fail at their own timeout.
        let manager_config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(config.connect_timeout))
            .set_response_timeout(Some(config.command_timeout))
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_secs(1))
            .set_number_of_retries(usize::MAX);
        let connecting = ConnectionManager::new_with_config(client.clone(), manager_config);
        let conn = match tokio::time::timeout(config.connect_timeout, connecting).await {
            Ok(Ok(conn)) => conn,
            Ok(Err(e)) => return Err(cant(describe(&e))),
            Err(_) => return Err(timed_out()),
        };
        tracing::info!(redis = %redacted, prefix = %config.prefix, "connected to redis");
        Ok(RedisClient { inner: Arc::new(Inner { config, redactor, client, conn }) })
    }

    pub fn config(&self) -> &RedisConfig {
        &self.inner.config
    }

    /// `{prefix}{rest}`.
    pub(crate) fn key(&self, rest: &str) -> String {
        let mut k = String::with_capacity(self.inner.config.prefix.len() + rest.len());
        k.push_str(&self.inner.config.prefix);
        k.push_str(rest);
        k
    }

    /// A handle on the shared multiplexed connection (cheap; commands from all clones are
    /// pipelined on one socket).
    pub(crate) fn conn(&self) -> ConnectionManager {
        self.inner.conn.clone()
    }

    /// Open a dedicated connection for pub/sub (bounded by the connect timeout).
    pub(crate) async fn pubsub(&self) -> Result<redis::aio::PubSub, StoreError> {
        let t = self.inner.config.connect_timeout;
        match tokio::time::timeout(t, self.inner.client.get_async_pubsub()).await {
            Ok(Ok(p)) => Ok(p),
            Ok(Err(e)) => Err(self.unavailable("subscribe", &e)),
            Err(_) => Err(StoreError::Unavailable(format!("redis subscribe: timed out after {} ms", t.as_millis()))),
        }
    }

    /// Run one command, script or pipeline, bounded by the command timeout.
    pub(crate) async fn run<T>(
        &self,
        what: &'static str,
        fut: impl Future<Output = RedisResult<T>>,
    ) -> Result<T, StoreError> {
        let t = self.inner.config.command_timeout;
        match tokio::time::timeout(t, fut).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(self.unavailable(what, &e)),
            Err(_) => Err(StoreError::Unavailable(format!("redis {what}: timed out after {} ms", t.as_millis()))),
        }
    }

    pub(crate) fn unavailable(&self, what: &str, e: &redis::RedisError) -> StoreError {
        StoreError::Unavailable(self.inner.redactor.scrub(&format!("redis {what}: {}", describe(e))))
    }

    /// `PING`, for readiness probes.
    pub async fn ping(&self) -> Result<(), StoreError> {
        let mut c = self.conn();
        let pong: String = self.run("ping", redis::cmd("PING").query_async(&mut c)).await?;
        if pong == "PONG" {
            Ok(())
        } else {
            Err(StoreError::Unavailable(format!("redis ping: unexpected reply {pong:?}")))
        }
    }
}

fn describe(e: &redis::RedisError) -> String {
    // The driver's text names the error and its detail; it does not carry the URL, but the
    // caller scrubs it anyway.
    e.to_string()
}

/// Whether the URL chooses its protocol itself (`?protocol=resp2`).
fn names_protocol(url: &str) -> bool {
    url::Url::parse(url).is_ok_and(|u| u.query_pairs().any(|(k, _)| k == "protocol"))
}
