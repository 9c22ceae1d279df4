//! The task store: where the tasks extension (SEP-2663) keeps what a `tasks/get` must
//! see — status, outstanding input requests, the answers delivered by `tasks/update`, and
//! the inlined result or error once the task is terminal.
//!
//! A record is plain serializable data, so a shared store (e.g. Redis) lets any instance
//! answer `tasks/get`, `tasks/update` and `tasks/cancel`. What cannot be stored — the
//! running handler future — stays in the process that runs it (the record names that
//! runner and carries a lease it renews). A task survives its requester disconnecting; it
//! does not survive the process running it: once the runner's lease lapses, the next
//! reader marks the task `failed`.
//!
//! Rules for implementations: [`TaskStore::update`] applies a mutation atomically (a
//! remote store may run it more than once, optimistic retries), a record whose
//! `expires_at_ms` has passed is gone, and `create` refuses beyond the configured cap.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;

use crate::jsonrpc::JsonObject;
use futures_util::future::BoxFuture;

/// A task's status, as on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    Working,
    InputRequired,
    Completed,
    Failed,
    Cancelled,
}

impl TaskStatus {
    /// `completed`, `failed` and `cancelled` never change again.
    pub fn is_terminal(self) -> bool {
        matches!(self, TaskStatus::Completed | TaskStatus::Failed | TaskStatus::Cancelled)
    }
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Working => "working",
            TaskStatus::InputRequired => "input_required",
            TaskStatus::Completed => "completed",
            TaskStatus::Failed => "failed",
            TaskStatus::Cancelled => "cancelled",
        }
    }
}

/// Everything known about one task. Serializable so a remote store can hold it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TaskRecord {
    /// 256 random bits, base64url: the handle is unguessable.
    pub id: String,
    /// The caller binding (a hash, never a token) of whoever created the task; anyone
    /// else is told the task does not exist.
    pub owner: String,
    pub status: TaskStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
    /// Unix milliseconds.
    pub created_at_ms: u64,
    pub updated_at_ms: u64,
    /// The `ttlMs` promised on the wire (from creation).
    pub ttl_ms: u64,
    pub poll_interval_ms: u64,
    /// When a store may drop the record (unix milliseconds).
    pub expires_at_ms: u64,
    /// The instance running the handler, and until when its lease holds.
    pub runner: String,
    pub lease_until_ms: u64,
    /// Outstanding input requests: key → `{method, params}`.
    #[serde(default, skip_serializing_if = "JsonObject::is_empty")]
    pub input_requests: JsonObject,
    /// Answers delivered by `tasks/update` for keys the handler asked (kept until the
    /// task ends: keys are unique over a task's lifetime).
    #[serde(default, skip_serializing_if = "JsonObject::is_empty")]
    pub answers: JsonObject,
    /// The inlined result (`completed`), as the original request would have returned it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Box<RawValue>>,
    /// The JSON-RPC error (`failed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Value>,
}

impl TaskRecord {
    /// A minimal working record (for store tests: ids, expiry and status are what stores
    /// act on).
    #[doc(hidden)]
    pub fn sample(id: &str, expires_at_ms: u64) -> TaskRecord {
        TaskRecord {
            id: id.into(),
            owner: "anonymous".into(),
            status: TaskStatus::Working,
            status_message: None,
            created_at_ms: 0,
            updated_at_ms: 0,
            ttl_ms: 1,
            poll_interval_ms: 1,
            expires_at_ms,
            runner: "me".into(),
            lease_until_ms: u64::MAX,
            input_requests: Default::default(),
            answers: Default::default(),
            result: None,
            error: None,
        }
    }
}

/// A mutation applied atomically by [`TaskStore::update`]; returns `false` to leave the
/// record unchanged.
pub type TaskMutation<'a> = &'a (dyn Fn(&mut TaskRecord) -> bool + Send + Sync);

/// What [`TaskStore::update`] did.
#[derive(Debug, Clone)]
pub struct Updated {
    pub applied: bool,
    /// The record as it is now.
    pub record: TaskRecord,
}

/// Why a task store operation failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TaskStoreError {
    /// The cap on stored tasks is reached.
    #[error("the server holds its maximum of {max} tasks; try again when one has ended")]
    Full { max: usize },
    /// The backing store could not be reached.
    #[error("task store unavailable: {0}")]
    Unavailable(String),
}

/// Task state behind an interface, so it can live outside this process.
pub trait TaskStore: Send + Sync + 'static {
    /// Store a new task. Resolves only once a `get` of its id would find it (tasks are
    /// created strongly consistent). Fails with [`TaskStoreError::Full`] at the cap.
    fn create(&self, record: TaskRecord) -> BoxFuture<'_, Result<(), TaskStoreError>>;

    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<TaskRecord>, TaskStoreError>>;

    /// Apply `f` atomically. `None`: no such task.
    fn update<'a>(&'a self, id: &'a str, f: TaskMutation<'a>)
        -> BoxFuture<'a, Result<Option<Updated>, TaskStoreError>>;
}
