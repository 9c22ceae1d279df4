//! A running task's side of `ctx.request_input`: the questions go on the task record
//! (`status: input_required`), and the handler waits until `tasks/update` has answered
//! every one (woken through the runner's channel), or the task ends.

use std::sync::Arc;

use serde_json::Value;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::now_ms;
use super::runtime::{store_error, TaskRuntime};
use crate::context::CallError;
use crate::jsonrpc::{JsonObject, McpError};
use crate::store::{TaskRecord, TaskStatus};

/// A running task's side of `ctx.request_input`.
pub struct TaskInput {
    pub(super) id: String,
    pub(super) runtime: Arc<TaskRuntime>,
    pub(super) wake: watch::Receiver<u64>,
    pub(super) cancel: CancellationToken,
}

impl std::fmt::Debug for TaskInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskInput").field("id", &self.id).finish()
    }
}

impl TaskInput {
    /// Publish the questions not answered yet on the task and wait until every one is.
    pub(crate) async fn request(&self, items: Vec<(String, &'static str, Value)>) -> Result<JsonObject, CallError> {
        let gone = || CallError::Protocol(McpError::internal("the task ended while waiting for input"));
        let keys: Vec<String> = items.iter().map(|(k, _, _)| k.clone()).collect();
        let asks: JsonObject =
            items.into_iter().map(|(k, m, p)| (k, serde_json::json!({ "method": m, "params": p }))).collect();
        let mut wake = self.wake.clone();
        wake.borrow_and_update();
        let publish = |r: &mut TaskRecord| {
            if r.status.is_terminal() {
                return false;
            }
            let mut changed = false;
            for (key, ask) in &asks {
                if !r.answers.contains_key(key) && !r.input_requests.contains_key(key) {
                    r.input_requests.insert(key.clone(), ask.clone());
                    changed = true;
                }
            }
            if !r.input_requests.is_empty() && r.status == TaskStatus::Working {
                r.status = TaskStatus::InputRequired;
                changed = true;
            }
            if changed {
                r.updated_at_ms = now_ms();
            }
            changed
        };
        let store = &self.runtime.store;
        let published = store.update(&self.id, &publish).await.map_err(|e| CallError::Protocol(store_error(e)))?;
        if published.as_ref().is_some_and(|u| u.applied) {
            self.runtime.changed(&self.id);
        }
        let mut record = published.map(|u| u.record);
        loop {
            let r = record.ok_or_else(gone)?;
            if r.status.is_terminal() {
                return Err(gone());
            }
            if keys.iter().all(|k| r.answers.contains_key(k)) {
                return Ok(keys.iter().map(|k| (k.clone(), r.answers[k].clone())).collect());
            }
            tokio::select! {
                changed = wake.changed() => changed.map_err(|_| gone())?,
                _ = self.cancel.cancelled() => return Err(gone()),
            }
            record = store.get(&self.id).await.map_err(|e| CallError::Protocol(store_error(e)))?;
        }
    }
}
