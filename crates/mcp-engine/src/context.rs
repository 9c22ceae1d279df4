//! The context a handler runs with: progress, logging, input requests, change
//! notifications and cancellation — the same API in both protocol eras.
//!
//! Input requests are where the eras differ most. On the stateless path a handler cannot
//! wait for the client, so the engine *replays* it: `request_input` returns the answers
//! when the client already sent them (this round or, via the sealed `requestState`, an
//! earlier one), and otherwise ends the call with an `input_required` result. Handlers
//! are therefore written as straight-line code and must be safe to re-run up to their
//! last `request_input`. In the session era the same call sends real server-initiated
//! requests and waits for the answers. A call running as a task (the tasks extension)
//! publishes its questions on the task (`status: input_required`) and waits for
//! `tasks/update` to answer them; the handler is the same straight-line code.

use std::sync::Arc;

use serde_json::Value;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::jsonrpc::{write_notification, JsonObject, McpError};
use crate::notify::{ChangeEvent, NotificationBus};
use crate::protocol::{LogLevel, RequestInfo};
use futures_util::future::BoxFuture;

/// Why a handler did not produce a result.
#[derive(Debug)]
pub enum CallError {
    /// The call needs input from the client first (stateless era).
    InputRequired(InputRequired),
    /// A JSON-RPC error for the caller.
    Protocol(McpError),
}

impl From<McpError> for CallError {
    fn from(e: McpError) -> Self {
        CallError::Protocol(e)
    }
}

/// The pending input requests of a call, with what must survive to the next round.
#[derive(Debug)]
pub struct InputRequired {
    /// key → `{method, params}` for the questions not answered yet.
    pub requests: JsonObject,
    pub(crate) answers: JsonObject,
    pub(crate) state: Option<Value>,
}

/// Questions a handler asks the client: elicitation, sampling or roots.
#[derive(Debug, Default, Clone)]
pub struct InputRequests {
    pub(crate) items: Vec<(String, &'static str, Value)>,
}

impl InputRequests {
    pub fn new() -> Self {
        Self::default()
    }
    /// A form elicitation (`elicitation/create`) with a message and a requested schema.
    pub fn elicit(mut self, key: impl Into<String>, message: impl Into<String>, schema: Value) -> Self {
        let params = serde_json::json!({ "message": message.into(), "requestedSchema": schema });
        self.items.push((key.into(), "elicitation/create", params));
        self
    }
    /// An elicitation with fully specified params (e.g. URL mode).
    pub fn elicit_with(mut self, key: impl Into<String>, params: Value) -> Self {
        self.items.push((key.into(), "elicitation/create", params));
        self
    }
    /// A sampling request (`sampling/createMessage`).
    pub fn sample(mut self, key: impl Into<String>, params: Value) -> Self {
        self.items.push((key.into(), "sampling/createMessage", params));
        self
    }
    /// A `roots/list` request.
    pub fn list_roots(mut self, key: impl Into<String>) -> Self {
        self.items.push((key.into(), "roots/list", Value::Object(JsonObject::new())));
        self
    }
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// The client capability a server-to-client method needs.
pub fn capability_for(method: &str) -> &'static str {
    match method {
        "elicitation/create" => "elicitation",
        "sampling/createMessage" => "sampling",
        "roots/list" => "roots",
        _ => "experimental",
    }
}

/// Sends server-initiated requests to the client and awaits the answers (session era).
pub trait ClientRequester: Send + Sync {
    fn request(&self, method: &'static str, params: Value) -> BoxFuture<'_, Result<Value, McpError>>;
}

/// Lets a handler end its response stream early (session era, Streamable HTTP): the call
/// goes on, its later messages are logged, and the client resumes with `GET` +
/// `Last-Event-ID` (SEP-1699 polling).
pub trait StreamControl: Send + Sync {
    fn close_stream(&self);
}

pub(crate) enum InputMode {
    /// Stateless era: answers gathered from `inputResponses` and the sealed state.
    Replay { answers: JsonObject },
    /// Session era: ask the client directly.
    Live(Arc<dyn ClientRequester>),
    /// A task: questions go on the task, answers come through `tasks/update`.
    Task(Arc<crate::tasks::TaskInput>),
    /// The transport cannot reach the client.
    Unavailable,
}

/// How a handler whose tool creates its task on request asks the engine to turn the call
/// into a task: the engine answers with the task's input channel once it is created.
pub(crate) type Escalation = tokio::sync::oneshot::Sender<EscalationAck>;
pub(crate) type EscalationAck = tokio::sync::oneshot::Sender<Result<Arc<crate::tasks::TaskInput>, McpError>>;

/// Per-call context handed to every handler.
pub struct Ctx {
    request: Arc<RequestInfo>,
    events: Option<mpsc::Sender<Vec<u8>>>,
    input: InputMode,
    state: Option<Value>,
    bus: Arc<dyn NotificationBus>,
    cancel: CancellationToken,
    stream: Option<Arc<dyn StreamControl>>,
    escalation: Option<Escalation>,
}

impl Ctx {
    pub(crate) fn new(
        request: Arc<RequestInfo>,
        events: Option<mpsc::Sender<Vec<u8>>>,
        input: InputMode,
        state: Option<Value>,
        bus: Arc<dyn NotificationBus>,
        cancel: CancellationToken,
        stream: Option<Arc<dyn StreamControl>>,
    ) -> Ctx {
        Ctx { request, events, input, state, bus, cancel, stream, escalation: None }
    }

    /// Let the engine turn this call into a task from [`Ctx::continue_as_task`] on.
    pub(crate) fn with_escalation(mut self, escalation: Escalation, cancel: CancellationToken) -> Ctx {
        self.escalation = Some(escalation);
        self.cancel = cancel;
        self
    }

    /// Continue this call as a task (the tasks extension): the client gets a
    /// `CreateTaskResult` now, and the rest of the handler runs in the background, its
    /// result inlined on `tasks/get`. Only tools built with
    /// [`crate::provider::Tool::creating_task_on_request`] called by a client that
    /// negotiated the extension can; elsewhere this returns `Ok(false)` and the call goes
    /// on as it was. Gather synchronous input (`request_input`) before calling this.
    pub async fn continue_as_task(&mut self) -> Result<bool, CallError> {
        let Some(escalation) = self.escalation.take() else { return Ok(false) };
        let (ack, answer) = tokio::sync::oneshot::channel();
        if escalation.send(ack).is_err() {
            return Err(CallError::Protocol(McpError::internal("the call ended before it could become a task")));
        }
        match answer.await {
            Ok(Ok(input)) => {
                self.input = InputMode::Task(input);
                // Request-scoped notifications have no stream to go to any more.
                self.events = None;
                Ok(true)
            }
            Ok(Err(e)) => Err(CallError::Protocol(e)),
            Err(_) => Err(CallError::Protocol(McpError::internal("the call ended before it could become a task"))),
        }
    }

    /// Close the response stream now while the call goes on; the client reconnects and
    /// gets the rest (including the result) by resuming the stream. Only resumable
    /// transports support it (session-era Streamable HTTP); elsewhere this returns `false`
    /// and does nothing.
    pub fn close_stream(&self) -> bool {
        match &self.stream {
            Some(s) => {
                s.close_stream();
                true
            }
            None => false,
        }
    }

    /// What is known about the request: era, client capabilities, caller, HTTP headers.
    pub fn request(&self) -> &Arc<RequestInfo> {
        &self.request
    }

    /// Fails with -32021 unless the client declared `capability`.
    pub fn require_capability(&self, capability: &str) -> Result<(), CallError> {
        if self.request.client_supports(capability) {
            Ok(())
        } else {
            Err(CallError::Protocol(McpError::missing_capability(capability)))
        }
    }

    /// Report progress; a no-op unless the request carried a `progressToken`.
    pub async fn progress(&self, progress: f64, total: Option<f64>, message: Option<&str>) {
        let (Some(events), Some(token)) = (&self.events, &self.request.progress_token) else { return };
        let mut params = JsonObject::new();
        params.insert("progressToken".into(), token.clone());
        params.insert("progress".into(), progress.into());
        if let Some(total) = total {
            params.insert("total".into(), total.into());
        }
        if let Some(message) = message {
            params.insert("message".into(), message.into());
        }
        let mut out = Vec::with_capacity(128);
        write_notification(&mut out, "notifications/progress", &Value::Object(params));
        // A closed channel means the client went away; the call is being cancelled.
        let _ = events.send(out).await;
    }

    /// Send a log message to the client, if it asked for logs at this level or below.
    pub async fn log(&self, level: LogLevel, logger: Option<&str>, data: Value) {
        let Some(events) = &self.events else { return };
        match self.request.log_level {
            Some(min) if level >= min => {}
            _ => return,
        }
        let mut params = JsonObject::new();
        params.insert("level".into(), serde_json::to_value(level).expect("level"));
        if let Some(logger) = logger {
            params.insert("logger".into(), logger.into());
        }
        params.insert("data".into(), data);
        let mut out = Vec::with_capacity(128);
        write_notification(&mut out, "notifications/message", &Value::Object(params));
        let _ = events.send(out).await;
    }

    /// Ask the client for input and get every answer, keyed as asked.
    ///
    /// Stateless era: returns at once when all answers are known; otherwise the call ends
    /// here with an `input_required` result (propagate the error with `?`). Session era:
    /// sends the requests to the client and waits. Either way a request for a capability
    /// the client did not declare fails with -32021.
    pub async fn request_input(&mut self, requests: InputRequests) -> Result<JsonObject, CallError> {
        for (_, method, _) in &requests.items {
            self.require_capability(capability_for(method))?;
        }
        match &self.input {
            InputMode::Replay { answers } => {
                let missing: JsonObject = requests
                    .items
                    .iter()
                    .filter(|(key, _, _)| !answers.contains_key(key))
                    .map(|(key, method, params)| {
                        (key.clone(), serde_json::json!({ "method": method, "params": params }))
                    })
                    .collect();
                if missing.is_empty() {
                    Ok(requests.items.iter().map(|(k, _, _)| (k.clone(), answers[k].clone())).collect())
                } else {
                    Err(CallError::InputRequired(InputRequired {
                        requests: missing,
                        answers: answers.clone(),
                        state: self.state.clone(),
                    }))
                }
            }
            InputMode::Live(requester) => {
                let mut out = JsonObject::new();
                for (key, method, params) in requests.items {
                    let answer = requester.request(method, params).await?;
                    out.insert(key, answer);
                }
                Ok(out)
            }
            InputMode::Task(task) => task.request(requests.items).await,
            InputMode::Unavailable => {
                Err(CallError::Protocol(McpError::internal("this transport cannot send requests to the client")))
            }
        }
    }

    /// State carried across input rounds (stateless era: inside the sealed `requestState`).
    pub fn state(&self) -> Option<&Value> {
        self.state.as_ref()
    }
    pub fn set_state(&mut self, state: Value) {
        self.state = Some(state);
    }

    /// Announce a change (e.g. the tool list changed) to listening clients.
    pub fn notify(&self, event: ChangeEvent) {
        self.bus.publish(event);
    }

    /// Cancelled when the client abandons the request (stream closed, `notifications/cancelled`).
    pub fn cancelled(&self) -> CancellationToken {
        self.cancel.clone()
    }
}

/// The text of an accepted elicitation answer's field, if present.
pub fn elicited_str<'a>(answer: &'a Value, field: &str) -> Option<&'a str> {
    if answer.get("action").and_then(Value::as_str) != Some("accept") {
        return None;
    }
    answer.get("content")?.get(field)?.as_str()
}
