//! What is bound to this process: the registry of tasks it runs (each a cancellation
//! token and a wake-up channel), the spawned future that drives a handler to its end and
//! writes the outcome, and the input channel a task's `ctx.request_input` uses. The
//! registry lock is held only for map operations, never across an await.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, OnceLock, Weak};

use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use serde_json::value::RawValue;
use serde_json::Value;
use tokio::sync::{broadcast, oneshot, watch};
use tokio_util::sync::CancellationToken;

use super::{now_ms, TaskConfig};
use crate::context::CallError;
use crate::dispatch::{Engine, Reply};
use crate::jsonrpc::{JsonObject, McpError};
use crate::notify::{NotificationBus, TaskSignal};
use crate::protocol::Era;
use crate::provider::ToolOutput;
use crate::store::{new_session_id, TaskRecord, TaskStatus, TaskStore, TaskStoreError};

/// A task this process runs.
struct Runner {
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

/// How a handler run ended.
// One per task, moved once: not worth a box.
#[allow(clippy::large_enum_variant)]
pub(crate) enum RunOutcome {
    Done(Result<ToolOutput, CallError>),
    Panicked,
    Cancelled,
    TimedOut,
}

/// A running task's side of `ctx.request_input`.
pub struct TaskInput {
    id: String,
    runtime: Arc<TaskRuntime>,
    wake: watch::Receiver<u64>,
    cancel: CancellationToken,
}

impl std::fmt::Debug for TaskInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskInput").field("id", &self.id).finish()
    }
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

    fn runners(&self) -> std::sync::MutexGuard<'_, HashMap<String, Runner>> {
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
    fn changed(&self, id: &str) {
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

    async fn renew(&self, id: &str) {
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

    /// Write how the handler ended and forget the runner.
    async fn finish(&self, engine: &Engine, id: &str, outcome: RunOutcome) {
        let (status, result, error) = match outcome {
            RunOutcome::Done(Ok(output)) => match stamp(engine, output, self.config.max_result_bytes) {
                Ok(raw) => (TaskStatus::Completed, Some(raw), None),
                Err(e) => (TaskStatus::Failed, None, Some(error_json(&e))),
            },
            RunOutcome::Done(Err(CallError::Protocol(e))) => (TaskStatus::Failed, None, Some(error_json(&e))),
            RunOutcome::Done(Err(CallError::InputRequired(_))) => {
                let e = McpError::internal("the tool asked for input in a way a task cannot answer");
                (TaskStatus::Failed, None, Some(error_json(&e)))
            }
            RunOutcome::Panicked => {
                (TaskStatus::Failed, None, Some(error_json(&McpError::internal("the tool failed unexpectedly"))))
            }
            RunOutcome::Cancelled => (TaskStatus::Cancelled, None, None),
            RunOutcome::TimedOut => {
                let secs = self.config.max_runtime.as_secs();
                let e = McpError::internal(format!("the task ran longer than its limit of {secs} s"));
                (TaskStatus::Failed, None, Some(error_json(&e)))
            }
        };
        match self.settle_applied(id, status, result, error).await {
            Ok(Some((true, _))) => engine.observer().task(Some(status)),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e.message, "could not record a task's outcome"),
        }
        self.runners().remove(id);
    }
}

/// The result as the call would have returned it (stamped for the stateless era), bounded.
fn stamp(engine: &Engine, output: ToolOutput, max: usize) -> Result<Box<RawValue>, McpError> {
    let reply = match output {
        ToolOutput::Result(r) => engine.finish(Era::Stateless, "tools/call", r, None),
        ToolOutput::Raw(raw) => engine.finish_raw(Era::Stateless, &raw),
    };
    let bytes = match reply {
        Reply::Result(bytes) => bytes,
        Reply::Error(e) => return Err(e),
        Reply::Listen(_) => return Err(McpError::internal("unexpected stream")),
    };
    if bytes.len() > max {
        return Err(McpError::internal(format!(
            "the tool's result ({} bytes) exceeds the task result limit of {max} bytes",
            bytes.len()
        )));
    }
    let text = String::from_utf8(bytes).map_err(|_| McpError::internal("result is not UTF-8"))?;
    RawValue::from_string(text).map_err(|_| McpError::internal("result is not JSON"))
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

/// Drive a handler to its end: cancellation, the run-time limit and lease renewal around
/// it. Once the call is a task (`task` set) the outcome goes to the store; before that
/// (a tool that creates its task on request) it goes back to the waiting call.
pub(crate) async fn drive(
    engine: Engine,
    runtime: Arc<TaskRuntime>,
    task: Arc<OnceLock<String>>,
    handler: BoxFuture<'static, Result<ToolOutput, CallError>>,
    cancel: CancellationToken,
    done: Option<oneshot::Sender<RunOutcome>>,
) {
    let mut handler = AssertUnwindSafe(handler).catch_unwind();
    let deadline = tokio::time::sleep(runtime.config.max_runtime);
    tokio::pin!(deadline);
    let every = (runtime.config.lease / 3).max(std::time::Duration::from_millis(10));
    let mut renewals = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    let outcome = loop {
        tokio::select! {
            biased;
            _ = cancel.cancelled() => break RunOutcome::Cancelled,
            r = &mut handler => break r.map_or(RunOutcome::Panicked, RunOutcome::Done),
            _ = &mut deadline => break RunOutcome::TimedOut,
            _ = renewals.tick() => {
                if let Some(id) = task.get() {
                    runtime.renew(id).await;
                }
            }
        }
    };
    match task.get() {
        Some(id) => runtime.finish(&engine, id, outcome).await,
        None => {
            if let Some(done) = done {
                let _ = done.send(outcome);
            }
        }
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
