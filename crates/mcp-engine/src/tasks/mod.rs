//! The tasks extension (`io.modelcontextprotocol/tasks`, SEP-2663): a `tools/call` the
//! client cannot wait for is answered with a task handle (`resultType: "task"`), and the
//! client polls `tasks/get` until the result is inlined there; `tasks/update` answers
//! the task's input requests and `tasks/cancel` stops it.
//!
//! Why it is built this way:
//! - Tools opt in through the provider API ([`crate::provider::TaskSupport`] on
//!   [`crate::provider::Tool`]); the handler is unchanged — a task runs the same handler
//!   future in a spawned task (`runner.rs`), and its `ctx.request_input` publishes the
//!   questions on the task instead of ending the call (`input.rs`).
//! - Everything a `tasks/get` needs is in a [`crate::store::TaskStore`] record, so a shared
//!   store lets any instance answer; answers and cancellations reach the runner through
//!   its local registry or, from another instance, the bus ([`crate::notify::TaskSignal`]).
//!   `subscriptions/listen` streams that follow `taskIds` hear `notifications/tasks` the
//!   same way.
//! - The extension exists only on the stateless path (2026-07-28): session-era requests
//!   run every tool synchronously, as the SEP says for `2025-11-25`.
//! - A task survives its requester; it does not survive the process running it. Its
//!   runner renews a lease on the record; a reader that finds the lease lapsed (or, on the
//!   runner's own instance, no runner) reports the task `failed`.
//! - Everything is bounded ([`TaskConfig`]): stored tasks, result bytes, run time, and how
//!   long a finished task stays readable.

mod input;
pub(crate) mod methods;
mod runner;
pub(crate) mod runtime;
mod wire;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub(crate) use input::TaskInput;
pub(crate) use runtime::TaskRuntime;
pub use wire::iso8601;

use crate::jsonrpc::{code, JsonObject, McpError};
use crate::protocol::RequestInfo;

/// The extension identifier, advertised under `capabilities.extensions`.
pub const TASKS_EXTENSION: &str = "io.modelcontextprotocol/tasks";

/// Limits and timings of tasks, with production defaults.
#[derive(Debug, Clone)]
pub struct TaskConfig {
    /// Tasks stored at once (running or finished and still readable); beyond it a call
    /// that would become a task gets an error.
    pub max_tasks: usize,
    /// The largest result (or `tasks/update` payload) a task keeps, in bytes; a larger
    /// result fails the task.
    pub max_result_bytes: usize,
    /// How long a handler may run as a task before it is stopped and the task failed.
    pub max_runtime: Duration,
    /// How long a finished task stays readable by `tasks/get`.
    pub retention: Duration,
    /// The polling interval suggested to clients (`pollIntervalMs`).
    pub poll_interval: Duration,
    /// The runner's lease on a task, renewed every third of it; a lapsed lease means the
    /// process running the task is gone.
    pub lease: Duration,
}

impl Default for TaskConfig {
    fn default() -> Self {
        TaskConfig {
            max_tasks: 10_000,
            max_result_bytes: 4 * 1024 * 1024,
            max_runtime: Duration::from_secs(60 * 60),
            retention: Duration::from_secs(60 * 60),
            poll_interval: Duration::from_millis(500),
            lease: Duration::from_secs(30),
        }
    }
}

/// Did the client put the extension in this request's capabilities?
pub fn client_negotiated(info: &RequestInfo) -> bool {
    info.client_capabilities.get("extensions").and_then(|e| e.get(TASKS_EXTENSION)).is_some_and(|v| !v.is_null())
}

/// -32021 naming the extension in `requiredCapabilities`, as SEP-2663 shows it.
pub fn missing_extension() -> McpError {
    let mut ext = JsonObject::new();
    ext.insert(TASKS_EXTENSION.into(), serde_json::Value::Object(JsonObject::new()));
    McpError::new(
        code::MISSING_CLIENT_CAPABILITY,
        format!("Missing required client capability: extension {TASKS_EXTENSION}"),
    )
    .with_data(serde_json::json!({ "requiredCapabilities": { "extensions": ext } }))
}

/// Unix milliseconds now.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

#[cfg(test)]
mod tests;
