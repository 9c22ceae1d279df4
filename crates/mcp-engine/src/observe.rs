//! What the engine tells an observer (metrics, logs, a dashboard) about its work, and
//! nothing more: the engine carries no telemetry of its own. An [`Observer`] gets a few
//! hook points — a request's begin and end in dispatch (and in the session driver for what
//! it answers itself), session and stream lifecycles, change notifications sent — and
//! every hook has a no-op default, so [`NoObserver`] costs one virtual call per hook.
//!
//! Hot-path contract: `begin` and `end` run on every request. An observer keeps them to a
//! few relaxed atomics and must not block or await; [`Probe`] carries its per-request
//! scratch as plain data so nothing is allocated to bracket a request.

use std::any::Any;
use std::borrow::Cow;
use std::sync::Arc;

use serde_json::Value;

use crate::jsonrpc::McpError;
use crate::method::Method;
use crate::notify::ChangeEvent;
use crate::protocol::{Era, RequestInfo, Transport};

/// One request being observed, from `begin` to `end`: plain data owned by the observer.
#[derive(Debug, Clone, Copy)]
pub struct Probe {
    /// The observer's clock reading at `begin`.
    pub start: u64,
    pub method: Method,
    pub era: Era,
    pub transport: Transport,
    /// The observer's slot for the client implementation.
    pub client: u32,
    /// Observer-defined bits.
    pub flags: u8,
    /// `end` wants the request's [`RequestInfo`] (e.g. for a log line).
    pub wants_info: bool,
}

/// How a request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok = 0,
    Error = 1,
    /// 2026-07-28: the result asks the client for input (`input_required`).
    InputRequired = 2,
}

/// What a transport or the session driver knows about a request it answers itself.
#[derive(Default, Clone, Copy)]
pub struct Seen<'a> {
    pub protocol_version: &'a str,
    pub capabilities: Option<&'a Value>,
    /// The caller's identity (already a hash).
    pub caller: Option<&'a str>,
}

/// What dispatch learned about a tool call.
#[derive(Default)]
pub struct ToolNote<'a> {
    /// The observer's label slot for the tool (only names the catalog knows).
    pub slot: Option<usize>,
    /// Borrowed from the request (no allocation per call).
    pub name: Option<Cow<'a, str>>,
    /// The result had `isError: true`; its first text, if any.
    pub tool_error: Option<String>,
}

/// The end of a request.
pub struct RequestEnd<'r, 'a> {
    /// Present when the probe asked for it (`wants_info`).
    pub info: Option<&'r RequestInfo>,
    /// For requests answered without a `RequestInfo` (initialize, session operations).
    pub seen: Seen<'r>,
    pub outcome: Outcome,
    pub error: Option<&'r McpError>,
    pub tool: Option<&'r ToolNote<'a>>,
}

/// Why a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// The client sent `DELETE`.
    Delete = 0,
    /// Idle expiry.
    Idle = 1,
    /// Its connection closed (HTTP+SSE stream, stdio).
    Closed = 2,
    /// Ended by another instance.
    Elsewhere = 3,
}

/// Kinds of long-lived streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamKind {
    /// A session-era POST answered with a (resumable) SSE stream.
    Request = 0,
    /// A session's server-push `GET` stream.
    Push = 1,
    /// A `GET` resuming a request stream with `Last-Event-ID`.
    Resume = 2,
    /// The one stream of an HTTP+SSE session.
    HttpSse = 3,
    /// A 2026-07-28 `subscriptions/listen` stream.
    Listen = 4,
}

/// Session behaviours only a transport sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// Opened the server-push `GET` stream.
    PushStream,
    /// Resumed a stream with `Last-Event-ID` (request or push stream).
    Resumed,
    /// Resumed the push stream (both of the above).
    PushResumed,
    /// Ended its session with `DELETE`.
    Delete,
}

/// Held while a stream is open; the observer learns of its end when this drops.
#[must_use]
pub struct StreamGuard(#[allow(dead_code)] Option<Box<dyn Any + Send + Sync>>);

impl StreamGuard {
    pub fn none() -> Self {
        StreamGuard(None)
    }
    /// `state` is dropped with the guard (its `Drop` is the observer's close hook).
    pub fn new(state: impl Any + Send + Sync) -> Self {
        StreamGuard(Some(Box::new(state)))
    }
}

/// The hooks. Every method has a no-op default.
#[allow(unused_variables)]
pub trait Observer: Send + Sync + 'static {
    // ----- requests ----------------------------------------------------------------------

    /// A request `Engine::dispatch` serves; `None` when nothing is to be recorded.
    fn begin(&self, method: Method, info: &RequestInfo) -> Option<Probe> {
        None
    }
    /// A request answered outside dispatch (initialize, session operations, refusals).
    fn begin_with(&self, method: Method, era: Era, transport: Transport, client: Option<&Value>) -> Option<Probe> {
        None
    }
    /// The client became known after `begin_with` (initialize).
    fn set_probe_client(&self, probe: &mut Probe, client: Option<&Value>) {}
    fn end(&self, probe: Probe, end: RequestEnd<'_, '_>) {}
    /// A request refused before dispatch (headers, `_meta`, version).
    fn rejected(&self, method: Method, era: Era, transport: Transport, error: &McpError) {}
    /// The label slot of a tool the catalog knows (never of user input alone).
    fn tool_slot(&self, name: &str) -> Option<usize> {
        None
    }
    /// A stateless request carried `inputResponses`.
    fn input_answered(&self, client: u32) {}
    /// A session-era input request (elicitation, sampling, roots) ended.
    fn input_request(&self, client: u32, answered: bool) {}
    /// Does this observer want `input_request` (the engine wraps requesters only then)?
    fn observes_input(&self) -> bool {
        false
    }

    // ----- sessions ----------------------------------------------------------------------

    fn session_opened(&self, sid: &Arc<str>, transport: Transport, client: Option<&Value>, version: Option<&str>) {}
    /// A session learned its client (HTTP+SSE and stdio sessions begin before `initialize`).
    fn session_initialized(&self, sid: &str, client: Option<&Value>, version: Option<&str>) {}
    /// A request within a session.
    fn session_request(&self, sid: &str, method: Method) {}
    /// A session first seen by this process mid-life (created by another instance).
    fn session_seen(&self, sid: &Arc<str>, transport: Transport, client: Option<&Value>, version: Option<&str>) {}
    fn session_ended(&self, sid: &str, reason: EndReason) {}
    fn session_unresponsive(&self, sid: &str) {}
    fn session_behaviour(&self, sid: &str, client: Option<&Value>, behaviour: Behaviour) {}

    // ----- streams, notifications, limits ------------------------------------------------

    /// A stream opened (of a session, or a listen stream of a client slot).
    fn stream_opened(&self, kind: StreamKind, sid: Option<&str>, client: Option<u32>) -> StreamGuard {
        StreamGuard::none()
    }
    /// A change notification went out, to a session or on a listen stream of `client`.
    fn change_sent(&self, event: &ChangeEvent, sid: Option<&str>, client: Option<u32>) {}
    /// A task (the tasks extension) was created (`None`), or reached a terminal status on
    /// this instance (`Some`: completed, failed, cancelled).
    fn task(&self, ended: Option<crate::store::TaskStatus>) {}
    /// A request refused by a rate limit or quota.
    fn quota_rejected(&self, reason: &'static str) {}
    /// Limits shared across instances could not be reached; this process's decided.
    fn limits_fallback(&self) {}
}

/// Observes nothing.
pub struct NoObserver;

impl Observer for NoObserver {}
