//! The extension in the engine's request flow: whether a `tools/call` becomes a task,
//! starting it (at once, or when the handler asks after its synchronous input rounds),
//! and the `tasks/get`, `tasks/update` and `tasks/cancel` methods.

use std::sync::{Arc, OnceLock};

use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

use super::runner::{drive, RunOutcome};
use super::wire::{create_result, detailed};
use super::{client_negotiated, missing_extension};
use crate::context::{CallError, Ctx, InputMode};
use crate::dispatch::{Call, Engine, Reply};
use crate::jsonrpc::{JsonObject, McpError};
use crate::method::Method;
use crate::notify::TaskSignal;
use crate::protocol::{Era, RequestInfo};
use crate::provider::{Arguments, TaskSupport, Tool, ToolOutput};

/// How a `tools/call` runs.
pub(crate) enum CallMode {
    /// Answered with the tool's result.
    Sync,
    /// A task from the start.
    Task,
    /// Synchronous until the handler calls `ctx.continue_as_task()`.
    TaskOnRequest,
}

/// What a call that may become a task produced.
pub(crate) enum Started {
    /// The call became a task: the `CreateTaskResult`.
    Task(Reply),
    /// It ended before becoming one (input rounds, a quick result, an error).
    Ended(Result<ToolOutput, CallError>),
}

impl Engine {
    /// Sync, or a task: only on the stateless path, only when the engine serves the
    /// extension and the client put it in this request's capabilities. A tool that needs
    /// a task called without the extension gets -32021.
    pub(crate) fn call_mode(&self, tool: &Tool, info: &RequestInfo) -> Result<CallMode, McpError> {
        if tool.task_support == TaskSupport::Forbidden || info.era != Era::Stateless || self.tasks().is_none() {
            return Ok(CallMode::Sync);
        }
        match (tool.task_support, client_negotiated(info)) {
            (TaskSupport::Required, false) => Err(missing_extension()),
            (_, false) => Ok(CallMode::Sync),
            _ if tool.task_on_request => Ok(CallMode::TaskOnRequest),
            _ => Ok(CallMode::Task),
        }
    }

    /// Create the task now and run the handler in the background.
    pub(crate) async fn start_task(&self, tool: &Tool, arguments: Arguments, info: &Arc<RequestInfo>) -> Reply {
        let runtime = self.tasks().expect("checked by call_mode").clone();
        let cancel = CancellationToken::new();
        let (record, input) = match runtime.create(info.caller.binding(), cancel.clone()).await {
            Ok(created) => created,
            Err(e) => return Reply::Error(e),
        };
        self.observer().task(None);
        let ctx = Ctx::new(info.clone(), None, InputMode::Task(input), None, self.bus().clone(), cancel.clone(), None);
        let handler = (tool.handler)(arguments, ctx);
        let task = Arc::new(OnceLock::from(record.id.clone()));
        tokio::spawn(drive(self.clone(), runtime, task, handler, cancel, None));
        self.finish(Era::Stateless, "tools/call", create_result(&record), None)
    }

    /// Run the handler in the background with its synchronous context; it becomes a task
    /// if it calls `ctx.continue_as_task()`, else its outcome is the call's. Abandoning the
    /// call before the task exists stops the handler; once it exists, the task goes on.
    /// The task is created in a spawned task of its own, so an abandoned call cannot
    /// leave a half-made one behind.
    pub(crate) async fn start_task_on_request(&self, tool: &Tool, arguments: Arguments, ctx: Ctx) -> Started {
        let runtime = self.tasks().expect("checked by call_mode").clone();
        let owner = ctx.request().caller.binding().to_owned();
        let cancel = CancellationToken::new();
        let (escalate, mut asked) = oneshot::channel();
        let ctx = ctx.with_escalation(escalate, cancel.clone());
        let handler = (tool.handler)(arguments, ctx);
        let task = Arc::new(OnceLock::new());
        let (done, mut ended) = oneshot::channel();
        let _stop_unless_task = StopUnlessTask { cancel: cancel.clone(), task: task.clone() };
        tokio::spawn(drive(self.clone(), runtime.clone(), task.clone(), handler, cancel.clone(), Some(done)));
        let mut asking = true;
        loop {
            tokio::select! {
                ack = &mut asked, if asking => {
                    let Ok(ack) = ack else {
                        // The handler let its context go without asking: wait for its end.
                        asking = false;
                        continue;
                    };
                    let creating = become_task(self.clone(), owner.clone(), cancel.clone(), task.clone(), ack);
                    return match tokio::spawn(creating).await {
                        Ok(Ok(record)) => {
                            Started::Task(self.finish(Era::Stateless, "tools/call", create_result(&record), None))
                        }
                        Ok(Err(e)) => Started::Ended(Err(CallError::Protocol(e))),
                        Err(_) => Started::Ended(Err(McpError::internal("the task could not be created").into())),
                    };
                }
                outcome = &mut ended => {
                    return Started::Ended(match outcome {
                        Ok(RunOutcome::Done(r)) => r,
                        Ok(RunOutcome::Panicked) => Err(McpError::internal("the tool failed unexpectedly").into()),
                        _ => Err(McpError::internal("the call was stopped").into()),
                    });
                }
            }
        }
    }

    /// `tasks/get`, `tasks/update`, `tasks/cancel`.
    pub(crate) async fn task_method(&self, method: Method, call: &Call<'_>) -> Result<Reply, McpError> {
        let runtime = self.tasks().ok_or_else(|| McpError::method_not_found(method.name()))?;
        if !client_negotiated(&call.info) {
            return Err(missing_extension());
        }
        let name = method.name();
        let id = call
            .params
            .task_id
            .as_deref()
            .ok_or_else(|| McpError::invalid_params(format!("Invalid params: {name} needs a taskId")))?;
        let owner = call.info.caller.binding();
        let record = runtime.lookup(id, owner).await?;
        let ack = || self.finish(Era::Stateless, name, JsonObject::new(), None);
        match method {
            Method::TasksGet => Ok(self.finish(Era::Stateless, name, detailed(&record), None)),
            Method::TasksUpdate => {
                let raw = call
                    .params
                    .input_responses
                    .ok_or_else(|| McpError::invalid_params("Invalid params: tasks/update needs inputResponses"))?;
                if raw.get().len() > runtime.config.max_result_bytes {
                    return Err(McpError::invalid_params(format!(
                        "Invalid params: inputResponses exceed the limit of {} bytes",
                        runtime.config.max_result_bytes
                    )));
                }
                let responses: JsonObject = serde_json::from_str(raw.get())
                    .map_err(|_| McpError::invalid_params("Invalid params: inputResponses must be an object"))?;
                if let Some((key, _)) = responses.iter().find(|(_, v)| !v.is_object()) {
                    return Err(McpError::invalid_params(format!(
                        "Invalid params: inputResponses.{key} must be a result object"
                    )));
                }
                runtime.answer(id, responses).await?;
                Ok(ack())
            }
            Method::TasksCancel => {
                if !record.status.is_terminal() {
                    let cancelled = crate::store::TaskStatus::Cancelled;
                    if let Some((true, _)) = runtime.settle_applied(id, cancelled, None, None).await? {
                        self.observer().task(Some(cancelled));
                    }
                    runtime.signal(TaskSignal::Cancelled { task: id.into() });
                }
                Ok(ack())
            }
            _ => Err(McpError::method_not_found(name)),
        }
    }
}

/// Stops a handler whose call is abandoned before it became a task.
struct StopUnlessTask {
    cancel: CancellationToken,
    task: Arc<OnceLock<String>>,
}

impl Drop for StopUnlessTask {
    fn drop(&mut self) {
        if self.task.get().is_none() {
            self.cancel.cancel();
        }
    }
}

/// Create the task a handler asked for and hand it the task's input channel. If the call
/// was abandoned meanwhile (the handler is being stopped), the new task is cancelled.
async fn become_task(
    engine: Engine,
    owner: String,
    cancel: CancellationToken,
    task: Arc<OnceLock<String>>,
    ack: crate::context::EscalationAck,
) -> Result<crate::store::TaskRecord, McpError> {
    let runtime = engine.tasks().expect("checked by call_mode").clone();
    match runtime.create(&owner, cancel.clone()).await {
        Ok((record, input)) => {
            let _ = task.set(record.id.clone());
            engine.observer().task(None);
            if cancel.is_cancelled() {
                runtime.abandon(&record.id).await;
            }
            let _ = ack.send(Ok(input));
            Ok(record)
        }
        Err(e) => {
            let _ = ack.send(Err(e.clone()));
            Err(e)
        }
    }
}
