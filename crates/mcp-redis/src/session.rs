//! Sessions on Redis, shared by every instance: any instance can serve any session, and
//! the cap on live sessions holds for the deployment, not per process.
//!
//! Layout: the session's data (JSON of [`SessionData`]) at `{prefix}s:{id}` with a TTL of
//! the idle timeout, and an index `{prefix}sessions` (sorted set, id → last use in Redis
//! ms) that counts live sessions for the cap and lets [`SessionStore::sweep`] find the
//! idle ones to announce. `touch` and `update` refresh both together, in one script.
//!
//! `update` runs a Rust closure, which Redis cannot run, so it is optimistic: read, apply,
//! then a compare-and-set script writes only if the data is unchanged; on a conflict the
//! script hands back the current data and we retry (bounded). `WATCH`/`MULTI` would not do
//! here: they are per connection, and ours is one multiplexed connection for everyone.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use mcp_engine::store::session::Mutation;
use mcp_engine::store::{new_session_id, SessionData, SessionStore, StoreError};
use redis::Value;

use crate::client::RedisClient;
use crate::scripts::SCRIPTS;

/// Attempts of the compare-and-set loop before `update` gives up with `Unavailable`.
const MAX_CAS_ATTEMPTS: u32 = 100;
/// Ids removed per sweep script (keeps each script short; the sweep loops).
const SWEEP_BATCH: usize = 500;
/// How long the index outlives its last write beyond the idle timeout: time enough for a
/// sweeper to find and announce the last idle ids, yet no key lives forever.
const INDEX_GRACE_MS: u64 = 3_600_000;

/// [`SessionStore`] on Redis; see the module docs.
pub struct RedisSessionStore {
    client: RedisClient,
    max_sessions: usize,
    idle_ms: u64,
    index_ttl_ms: u64,
    index: String,
    data_prefix: String,
}

impl RedisSessionStore {
    /// At most `max_sessions` live sessions across all instances sharing this Redis and
    /// prefix; a session unused for `idle_timeout` expires.
    pub fn new(client: RedisClient, max_sessions: usize, idle_timeout: Duration) -> Self {
        let index = client.key("sessions");
        let data_prefix = client.key("s:");
        let idle_ms = (idle_timeout.as_millis() as u64).max(1);
        let index_ttl_ms = idle_ms.saturating_mul(2).saturating_add(INDEX_GRACE_MS);
        RedisSessionStore { client, max_sessions, idle_ms, index_ttl_ms, index, data_prefix }
    }

    fn data_key(&self, id: &str) -> String {
        format!("{}{id}", self.data_prefix)
    }

    /// Live sessions across all instances (idle ones not yet swept excluded).
    pub async fn live(&self) -> Result<usize, StoreError> {
        let mut c = self.client.conn();
        let mut inv = SCRIPTS.count_live.prepare_invoke();
        inv.key(&self.index).arg(self.idle_ms);
        self.client.run("count sessions", inv.invoke_async(&mut c)).await
    }

    async fn read(&self, id: &str, touch: bool) -> Result<Option<Arc<SessionData>>, StoreError> {
        let mut c = self.client.conn();
        let raw: Option<Vec<u8>> = if touch {
            let mut inv = SCRIPTS.touch.prepare_invoke();
            inv.key(&self.index).key(self.data_key(id)).arg(id).arg(self.idle_ms).arg(self.index_ttl_ms);
            self.client.run("touch session", inv.invoke_async(&mut c)).await?
        } else {
            let cmd = redis::cmd("GET").arg(self.data_key(id)).to_owned();
            self.client.run("get session", cmd.query_async(&mut c)).await?
        };
        Ok(raw.and_then(|r| decode(&r)).map(Arc::new))
    }
}

fn encode(data: &SessionData) -> Vec<u8> {
    serde_json::to_vec(data).expect("SessionData serializes")
}

/// Data another version wrote in a shape we cannot read is treated as a session that
/// ended (the client re-initializes), not as an outage.
fn decode(raw: &[u8]) -> Option<SessionData> {
    match serde_json::from_slice(raw) {
        Ok(d) => Some(d),
        Err(e) => {
            tracing::warn!(error = %e, "undecodable session data in redis; treating the session as ended");
            None
        }
    }
}

enum Cas {
    Gone,
    Conflict(Vec<u8>),
    Written,
}

fn parse_cas(v: Value) -> Result<Cas, StoreError> {
    let bad = || StoreError::Unavailable("redis update session: unexpected script reply".into());
    let Value::Array(items) = v else { return Err(bad()) };
    let mut it = items.into_iter();
    match it.next() {
        Some(Value::Int(0)) => Ok(Cas::Gone),
        Some(Value::Int(2)) => Ok(Cas::Written),
        Some(Value::Int(1)) => match it.next() {
            Some(Value::BulkString(cur)) => Ok(Cas::Conflict(cur)),
            _ => Err(bad()),
        },
        _ => Err(bad()),
    }
}

impl SessionStore for RedisSessionStore {
    fn create(&self, data: SessionData) -> BoxFuture<'_, Result<Arc<str>, StoreError>> {
        Box::pin(async move {
            let bytes = encode(&data);
            let mut c = self.client.conn();
            // A collision of 256-bit ids is not going to happen; the loop is for form.
            for _ in 0..3 {
                let id = new_session_id();
                let mut inv = SCRIPTS.create.prepare_invoke();
                inv.key(&self.index)
                    .key(self.data_key(&id))
                    .arg(&id)
                    .arg(&bytes)
                    .arg(self.idle_ms)
                    .arg(self.max_sessions)
                    .arg(self.index_ttl_ms)
                    .arg(&self.data_prefix);
                let r: i64 = self.client.run("create session", inv.invoke_async(&mut c)).await?;
                match r {
                    1 => return Ok(Arc::from(id)),
                    0 => return Err(StoreError::Full { max: self.max_sessions }),
                    _ => continue,
                }
            }
            Err(StoreError::Unavailable("redis create session: id collisions".into()))
        })
    }

    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Arc<SessionData>>, StoreError>> {
        Box::pin(self.read(id, false))
    }

    fn touch<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Arc<SessionData>>, StoreError>> {
        Box::pin(self.read(id, true))
    }

    fn update<'a>(&'a self, id: &'a str, f: Mutation<'a>) -> BoxFuture<'a, Result<Option<bool>, StoreError>> {
        Box::pin(async move {
            let key = self.data_key(id);
            let mut c = self.client.conn();
            let get = redis::cmd("GET").arg(&key).to_owned();
            let mut current: Option<Vec<u8>> = self.client.run("get session", get.query_async(&mut c)).await?;
            for attempt in 0..MAX_CAS_ATTEMPTS {
                let Some(old) = current.take() else { return Ok(None) };
                let Some(mut data) = decode(&old) else { return Ok(None) };
                if !f(&mut data) {
                    return Ok(Some(false));
                }
                let new = encode(&data);
                let mut inv = SCRIPTS.cas.prepare_invoke();
                inv.key(&self.index).key(&key).arg(id).arg(&old).arg(&new).arg(self.idle_ms).arg(self.index_ttl_ms);
                let reply: Value = self.client.run("update session", inv.invoke_async(&mut c)).await?;
                match parse_cas(reply)? {
                    Cas::Written => return Ok(Some(true)),
                    Cas::Gone => return Ok(None),
                    Cas::Conflict(cur) => {
                        current = Some(cur);
                        if attempt >= 2 {
                            // Spread out writers that keep colliding.
                            let us = rand::random::<u64>() % (200 * u64::from(attempt.min(20)));
                            tokio::time::sleep(Duration::from_micros(us)).await;
                        }
                    }
                }
            }
            Err(StoreError::Unavailable(format!(
                "redis update session: still conflicting after {MAX_CAS_ATTEMPTS} attempts"
            )))
        })
    }

    fn delete<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let mut c = self.client.conn();
            let mut inv = SCRIPTS.delete.prepare_invoke();
            inv.key(&self.index).key(self.data_key(id)).arg(id);
            let n: i64 = self.client.run("delete session", inv.invoke_async(&mut c)).await?;
            Ok(n > 0)
        })
    }

    /// Ids this call removed (each expired id is returned to exactly one caller across all
    /// instances). On a Redis failure it logs and returns what it had removed so far; the
    /// rest stays in the index for the next sweep.
    /// Readiness: Redis answers a PING within the command timeout.
    fn health(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.client.ping())
    }

    fn sweep(&self) -> BoxFuture<'_, Vec<Arc<str>>> {
        Box::pin(async move {
            let mut gone: Vec<Arc<str>> = Vec::new();
            let mut c = self.client.conn();
            loop {
                let mut inv = SCRIPTS.sweep.prepare_invoke();
                inv.key(&self.index).arg(self.idle_ms).arg(&self.data_prefix).arg(SWEEP_BATCH);
                match self.client.run::<Vec<String>>("sweep sessions", inv.invoke_async(&mut c)).await {
                    Ok(ids) => {
                        let n = ids.len();
                        gone.extend(ids.into_iter().map(Arc::from));
                        if n < SWEEP_BATCH {
                            return gone;
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "session sweep interrupted");
                        return gone;
                    }
                }
            }
        })
    }
}
