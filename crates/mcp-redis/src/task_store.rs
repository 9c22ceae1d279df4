//! [`TaskStore`] on Redis: any instance answers `tasks/get`, `tasks/update` and
//! `tasks/cancel` for a task another instance runs (the tasks extension, SEP-2663).
//!
//! Keys: `{prefix}t:{id}` holds the record (JSON) and expires when the record does
//! (`expires_at_ms`); `{prefix}tasks` is a sorted set of ids scored by their expiry, the
//! cluster-wide cap (expired ids are trimmed by the create script). Updates are optimistic
//! compare-and-set (the mutation is Rust, run again on a conflict), as for sessions.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::future::BoxFuture;
use mcp_engine::store::task::{TaskMutation, TaskRecord, TaskStore, TaskStoreError, Updated};
use mcp_engine::store::StoreError;
use redis::Value;

use crate::client::RedisClient;
use crate::scripts::SCRIPTS;

const MAX_CAS_ATTEMPTS: u32 = 50;
/// The index outlives its newest entry by this much (then it is gone with its last task).
const INDEX_GRACE_MS: u64 = 3_600_000;

pub struct RedisTaskStore {
    client: RedisClient,
    max_tasks: usize,
    index: String,
    prefix: String,
}

impl RedisTaskStore {
    /// At most `max_tasks` stored tasks across every instance sharing this Redis and prefix.
    pub fn new(client: RedisClient, max_tasks: usize) -> Self {
        let index = client.key("tasks");
        let prefix = client.key("t:");
        RedisTaskStore { client, max_tasks: max_tasks.max(1), index, prefix }
    }

    fn key(&self, id: &str) -> String {
        format!("{}{id}", self.prefix)
    }
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

fn unavailable(e: StoreError) -> TaskStoreError {
    TaskStoreError::Unavailable(e.to_string())
}

fn encode(r: &TaskRecord) -> Vec<u8> {
    serde_json::to_vec(r).expect("TaskRecord serializes")
}

/// A record another version wrote in a shape we cannot read is a task that is gone.
fn decode(raw: &[u8]) -> Option<TaskRecord> {
    serde_json::from_slice(raw).map_err(|e| tracing::warn!(error = %e, "undecodable task record in redis")).ok()
}

/// Milliseconds a record still lives (at least 1, so the key is written with a TTL).
fn ttl_of(r: &TaskRecord) -> u64 {
    r.expires_at_ms.saturating_sub(now_ms()).max(1)
}

impl TaskStore for RedisTaskStore {
    fn create(&self, record: TaskRecord) -> BoxFuture<'_, Result<(), TaskStoreError>> {
        Box::pin(async move {
            let mut c = self.client.conn();
            let mut inv = SCRIPTS.create_task.prepare_invoke();
            inv.key(&self.index)
                .key(self.key(&record.id))
                .arg(&record.id)
                .arg(encode(&record))
                .arg(ttl_of(&record))
                .arg(record.expires_at_ms)
                .arg(now_ms())
                .arg(self.max_tasks)
                .arg(INDEX_GRACE_MS);
            let r: i64 = self.client.run("create task", inv.invoke_async(&mut c)).await.map_err(unavailable)?;
            match r {
                1 => Ok(()),
                0 => Err(TaskStoreError::Full { max: self.max_tasks }),
                _ => Err(TaskStoreError::Unavailable("redis create task: id collision".into())),
            }
        })
    }

    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<TaskRecord>, TaskStoreError>> {
        Box::pin(async move {
            let mut c = self.client.conn();
            let cmd = redis::cmd("GET").arg(self.key(id)).to_owned();
            let raw: Option<Vec<u8>> =
                self.client.run("get task", cmd.query_async(&mut c)).await.map_err(unavailable)?;
            Ok(raw.and_then(|r| decode(&r)).filter(|r| r.expires_at_ms > now_ms()))
        })
    }

    fn update<'a>(
        &'a self,
        id: &'a str,
        f: TaskMutation<'a>,
    ) -> BoxFuture<'a, Result<Option<Updated>, TaskStoreError>> {
        Box::pin(async move {
            let key = self.key(id);
            let mut c = self.client.conn();
            let get = redis::cmd("GET").arg(&key).to_owned();
            let mut current: Option<Vec<u8>> =
                self.client.run("get task", get.query_async(&mut c)).await.map_err(unavailable)?;
            for attempt in 0..MAX_CAS_ATTEMPTS {
                let Some(old) = current.take() else { return Ok(None) };
                let Some(mut record) = decode(&old).filter(|r| r.expires_at_ms > now_ms()) else { return Ok(None) };
                if !f(&mut record) {
                    return Ok(Some(Updated { applied: false, record }));
                }
                let new = encode(&record);
                let mut inv = SCRIPTS.cas_task.prepare_invoke();
                inv.key(&self.index)
                    .key(&key)
                    .arg(id)
                    .arg(&old)
                    .arg(&new)
                    .arg(ttl_of(&record))
                    .arg(record.expires_at_ms)
                    .arg(INDEX_GRACE_MS);
                let reply: Value =
                    self.client.run("update task", inv.invoke_async(&mut c)).await.map_err(unavailable)?;
                match reply {
                    Value::Int(2) => return Ok(Some(Updated { applied: true, record })),
                    Value::Int(0) | Value::Nil => return Ok(None),
                    Value::BulkString(cur) => {
                        current = Some(cur);
                        if attempt >= 2 {
                            let us = rand::random::<u64>() % (200 * u64::from(attempt.min(20)));
                            tokio::time::sleep(Duration::from_micros(us)).await;
                        }
                    }
                    _ => return Err(TaskStoreError::Unavailable("redis update task: unexpected script reply".into())),
                }
            }
            Err(TaskStoreError::Unavailable(format!(
                "redis update task: still conflicting after {MAX_CAS_ATTEMPTS} attempts"
            )))
        })
    }
}
