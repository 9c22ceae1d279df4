//! What is bound to this process: the registry of tasks it runs (each a cancellation
//! token and a wake-up channel), and the operations on task records — create, read
//! (failing tasks whose runner is gone), settle, answer — with the signals they send to
//! runners and listeners. The registry lock is held only for map operations, never
//! across an await. The spawned runner is in `runner.rs`, a task's input channel in
//! `input.rs`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, Weak};

use serde_json::value::RawValue;
use serde_json::Value;
use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;

use super::input::TaskInput;
use super::{now_ms, TaskConfig};
use crate::jsonrpc::{JsonObject, McpError};
use crate::notify::{NotificationBus, TaskSignal};
use crate::store::{new_session_id, TaskRecord, TaskStatus, TaskStore, TaskStoreError};

/// A task this process runs.
pub(super) struct Runner {
    cancel: CancellationToken,
    wake: watch::Sender<u64>,
}

/// The engine's task machinery (present when the engine serves the extension).
pub(crate) struct TaskRuntime {
    pub(crate) store: Arc<dyn TaskStore>,
    pub(crate) config: TaskConfig,
    /// This process, as named in the records it runs.
    instance: String,
    runners: Mutex<HashMap<String, Runner>>,
    bus: Arc<dyn NotificationBus>,
    listening: OnceLock<()>,
    /// Ids of tasks whose state changed (here or, through the bus, elsewhere): what
    /// `subscriptions/listen` streams following tasks hear.
    changes: broadcast::Sender<Arc<str>>,
}

impl TaskRuntime {
    pub(crate) fn new(store: Arc<dyn TaskStore>, config: TaskConfig, bus: Arc<dyn NotificationBus>) -> Self {
        TaskRuntime {
            store,
            config,
            instance: new_session_id(),
            runners: Mutex::new(HashMap::new()),
            bus,
            listening: OnceLock::new(),
            changes: broadcast::channel(1024).0,
        }
    }

    pub(super) fn runners(&self) -> std::sync::MutexGuard<'_, HashMap<String, Runner>> {
        self.runners.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Register a new task as running here, then store it (strongly consistent: once this
    /// returns, `tasks/get` finds it). Returns the record and the task's input channel.
    pub(crate) async fn create(
        self: &Arc<Self>,
        owner: &str,
        cancel: CancellationToken,
    ) -> Result<(TaskRecord, Arc<TaskInput>), McpError> {
        self.ensure_listening();
        let now = now_ms();
        let c = &self.config;
        let ttl_ms = (c.max_runtime + c.retention).as_millis() as u64;
        let record = TaskRecord {
            id: new_session_id(),
            owner: owner.to_owned(),
            status: TaskStatus::Working,
            status_message: None,
            created_at_ms: now,
            updated_at_ms: now,
            ttl_ms,
            poll_interval_ms: (c.poll_interval.as_millis() as u64).max(1),
            expires_at_ms: now + ttl_ms,
            runner: self.instance.clone(),
            lease_until_ms: now + c.lease.as_millis() as u64,
            input_requests: JsonObject::new(),
            answers: JsonObject::new(),
            result: None,
            error: None,
        };
        let (wake_tx, wake_rx) = watch::channel(0u64);
        self.runners().insert(record.id.clone(), Runner { cancel: cancel.clone(), wake: wake_tx });
        if let Err(e) = self.store.create(record.clone()).await {
            self.runners().remove(&record.id);
            return Err(store_error(e));
        }
        let input = Arc::new(TaskInput { id: record.id.clone(), runtime: self.clone(), wake: wake_rx, cancel });
        Ok((record, input))
    }

    /// Read a task for `owner`; anyone else is told it does not exist. A non-terminal task
    /// whose runner is gone is failed on the way.
    pub(crate) async fn lookup(&self, id: &str, owner: &str) -> Result<TaskRecord, McpError> {
        let unknown = || McpError::invalid_params(format!("Unknown task: {id}"));
        let record = self.store.get(id).await.map_err(store_error)?.filter(|r| r.owner == owner).ok_or_else(unknown)?;
        if record.status.is_terminal() || !self.runner_gone(&record) {
            return Ok(record);
        }
        let error = McpError::internal("the server process running this task ended before the task finished");
        Ok(self.settle(id, TaskStatus::Failed, None, Some(error_json(&error))).await?.unwrap_or(record))
    }

    /// The lease lapsed (its runner stopped renewing: another process died, or this one
    /// lost the runner), or — here — the runner is no longer registered.
    fn runner_gone(&self, r: &TaskRecord) -> bool {
        r.lease_until_ms < now_ms() || (r.runner == self.instance && !self.runners().contains_key(&r.id))
    }

    /// Move a task to a terminal status unless it already is terminal; returns the record
    /// as it is now (`None` when it is gone).
    pub(crate) async fn settle(
        &self,
        id: &str,
        status: TaskStatus,
        result: Option<Box<RawValue>>,
        error: Option<Value>,
    ) -> Result<Option<TaskRecord>, McpError> {
        Ok(self.settle_applied(id, status, result, error).await?.map(|(_, r)| r))
    }

    /// [`Self::settle`], also saying whether this call made the task terminal.
    pub(crate) async fn settle_applied(
        &self,
        id: &str,
        status: TaskStatus,
        result: Option<Box<RawValue>>,
        error: Option<Value>,
    ) -> Result<Option<(bool, TaskRecord)>, McpError> {
        let retention = self.config.retention.as_millis() as u64;
        let message = match (&status, &error) {
            (TaskStatus::Cancelled, _) => Some("Cancelled by the client".to_owned()),
            (_, Some(e)) => e.get("message").and_then(Value::as_str).map(str::to_owned),
            _ => None,
        };
        let mutation = move |r: &mut TaskRecord| {
            if r.status.is_terminal() {
                return false;
            }
            let now = now_ms();
            r.status = status;
            r.status_message = message.clone();
            r.updated_at_ms = now;
            r.expires_at_ms = now + retention;
            r.ttl_ms = r.expires_at_ms.saturating_sub(r.created_at_ms);
            r.input_requests.clear();
            r.answers.clear();
            r.result = result.clone();
            r.error = error.clone();
            true
        };
        let updated = self.store.update(id, &mutation).await.map_err(store_error)?;
        if updated.as_ref().is_some_and(|u| u.applied) {
            self.changed(id);
        }
        Ok(updated.map(|u| (u.applied, u.record)))
    }

    /// Tell listeners following the task, on every instance.
    pub(super) fn changed(&self, id: &str) {
        let task: Arc<str> = id.into();
        let _ = self.changes.send(task.clone());
        self.bus.publish_task(TaskSignal::Changed { task, origin: self.instance.as_str().into() });
    }

    /// Hear which tasks change (for a listen stream).
    pub(crate) fn watch(self: &Arc<Self>) -> broadcast::Receiver<Arc<str>> {
        self.ensure_listening();
        self.changes.subscribe()
    }

    /// The `notifications/tasks` params for `owner`'s task: the `DetailedTask` as
    /// `tasks/get` would return it. `None` when it is gone or someone else's.
    pub(crate) async fn notification(&self, id: &str, owner: &str) -> Option<JsonObject> {
        let record = self.store.get(id).await.ok()??;
        if record.owner != owner {
            return None;
        }
        let mut params = super::wire::detailed(&record);
        params.remove("resultType");
        Some(params)
    }

    /// Cancel a task whose runner stopped before it could own it, and forget the runner.
    pub(crate) async fn abandon(&self, id: &str) {
        let _ = self.settle(id, TaskStatus::Cancelled, None, None).await;
        self.runners().remove(id);
    }

    /// Record answers for outstanding keys (others are ignored); `true` when any counted.
    pub(crate) async fn answer(&self, id: &str, responses: JsonObject) -> Result<bool, McpError> {
        let mutation = |r: &mut TaskRecord| {
            if r.status.is_terminal() {
                return false;
            }
            let mut changed = false;
            for (key, answer) in &responses {
                if r.input_requests.remove(key).is_some() {
                    r.answers.insert(key.clone(), answer.clone());
                    changed = true;
                }
            }
            if changed {
                if r.input_requests.is_empty() && r.status == TaskStatus::InputRequired {
                    r.status = TaskStatus::Working;
                }
                r.updated_at_ms = now_ms();
            }
            changed
        };
        let updated = self.store.update(id, &mutation).await.map_err(store_error)?;
        let applied = updated.is_some_and(|u| u.applied);
        if applied {
            self.changed(id);
            self.signal(TaskSignal::Answered { task: id.into() });
        }
        Ok(applied)
    }

    /// Tell the task's runner: here if it runs here, else every instance through the bus.
    pub(crate) fn signal(&self, signal: TaskSignal) {
        if !self.signal_local(&signal) {
            self.bus.publish_task(signal);
        }
    }

    fn signal_local(&self, signal: &TaskSignal) -> bool {
        let runners = self.runners();
        let Some(runner) = runners.get(signal.task()) else { return false };
        match signal {
            TaskSignal::Answered { .. } => runner.wake.send_modify(|v| *v += 1),
            TaskSignal::Cancelled { .. } => runner.cancel.cancel(),
            TaskSignal::Changed { .. } => return false,
        }
        true
    }

    /// Hear signals from other instances (once, on the first task this process runs).
    fn ensure_listening(self: &Arc<Self>) {
        if self.listening.set(()).is_err() {
            return;
        }
        let Some(mut rx) = self.bus.subscribe_tasks() else { return };
        let weak: Weak<TaskRuntime> = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                let signal = match rx.recv().await {
                    Ok(s) => s,
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return,
                };
                let Some(rt) = weak.upgrade() else { return };
                match &*signal {
                    TaskSignal::Changed { task, origin } if **origin != *rt.instance => {
                        let _ = rt.changes.send(task.clone());
                    }
                    TaskSignal::Changed { .. } => {}
                    other => {
                        rt.signal_local(other);
                    }
                }
            }
        });
    }

    pub(super) async fn renew(&self, id: &str) {
        let until = now_ms() + self.config.lease.as_millis() as u64;
        let renew = move |r: &mut TaskRecord| {
            if r.status.is_terminal() {
                return false;
            }
            r.lease_until_ms = until;
            true
        };
        // A store that is briefly unreachable costs a renewal, not the task.
        let _ = self.store.update(id, &renew).await;
    }
}

/// A JSON-RPC error object, as a failed task inlines it.
pub(crate) fn error_json(e: &McpError) -> Value {
    let mut o = JsonObject::new();
    o.insert("code".into(), e.code.into());
    o.insert("message".into(), e.message.to_string().into());
    if let Some(d) = &e.data {
        o.insert("data".into(), d.clone());
    }
    Value::Object(o)
}

pub(crate) fn store_error(e: TaskStoreError) -> McpError {
    match e {
        TaskStoreError::Full { .. } => McpError::internal(format!("Server busy: {e}")),
        TaskStoreError::Unavailable(_) => {
            McpError::internal(e.to_string()).with_status(http::StatusCode::SERVICE_UNAVAILABLE)
        }
    }
}
