//! The spawned future that runs a task's handler: it races the handler against
//! cancellation and the run-time limit, renews the runner's lease meanwhile, catches a
//! panic, and writes the outcome — stamped like a plain result, bounded — to the store.

use std::panic::AssertUnwindSafe;
use std::sync::{Arc, OnceLock};

use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use serde_json::value::RawValue;
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

use super::runtime::{error_json, TaskRuntime};
use crate::context::CallError;
use crate::dispatch::{Engine, Reply};
use crate::jsonrpc::McpError;
use crate::protocol::Era;
use crate::provider::ToolOutput;
use crate::store::TaskStatus;

/// How a handler run ended.
// One per task, moved once: not worth a box.
#[allow(clippy::large_enum_variant)]
pub(crate) enum RunOutcome {
    Done(Result<ToolOutput, CallError>),
    Panicked,
    Cancelled,
    TimedOut,
}

impl TaskRuntime {
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
