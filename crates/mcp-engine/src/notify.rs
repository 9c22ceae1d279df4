//! Change notifications that belong to no request (list changes, resource updates), and
//! the bus that fans them out to listening clients.
//!
//! The bus is a trait so that several instances can share one (a Redis-backed bus relays
//! into each instance's local fan-out); the in-memory bus serves a single instance.

use std::sync::Arc;

use serde::Deserialize;
use tokio::sync::broadcast;

/// Something changed that listening clients may want to hear about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeEvent {
    ToolsListChanged(Audience),
    PromptsListChanged(Audience),
    ResourcesListChanged(Audience),
    ResourceUpdated { uri: String },
}

/// Who a change concerns: everyone, or only the caller with this identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    Everyone,
    Caller(Arc<str>),
}

impl Audience {
    fn includes(&self, caller: Option<&str>) -> bool {
        match self {
            Audience::Everyone => true,
            Audience::Caller(id) => caller == Some(&**id),
        }
    }
}

impl ChangeEvent {
    pub fn method(&self) -> &'static str {
        match self {
            ChangeEvent::ToolsListChanged(_) => "notifications/tools/list_changed",
            ChangeEvent::PromptsListChanged(_) => "notifications/prompts/list_changed",
            ChangeEvent::ResourcesListChanged(_) => "notifications/resources/list_changed",
            ChangeEvent::ResourceUpdated { .. } => "notifications/resources/updated",
        }
    }
}

/// Messages about one session that must reach whichever instance holds its live parts
/// (open streams, running handlers, waiting server-to-client requests). A transport first
/// tries its own process; only a miss goes to the bus, and every instance's session hub
/// consumes these events.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionEvent {
    /// The session ended (DELETE, idle expiry, HTTP+SSE disconnect): drop its streams and
    /// abort its handlers.
    Ended { session: Arc<str> },
    /// The client answered a server-initiated request (`result` is the JSON-RPC `result`
    /// or, when `ok` is false, the `error` object).
    ClientResponse { session: Arc<str>, id: crate::jsonrpc::Id, ok: bool, body: serde_json::Value },
    /// The client sent `notifications/cancelled` for one of its requests.
    Cancelled { session: Arc<str>, request: crate::jsonrpc::Id },
    /// A message for the client of an HTTP+SSE session, produced on an instance that does
    /// not hold the session's stream (its `POST /message` landed there).
    Outbound { session: Arc<str>, message: bytes::Bytes },
    /// A resuming `GET` took over the session's push stream (lease `token`): other
    /// instances end theirs now rather than at their next lease renewal.
    PushMoved { session: Arc<str>, token: String },
}

/// A task changed in a way its runner must hear about (tasks extension): routed to
/// whichever instance runs the task when the request landed elsewhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskSignal {
    /// `tasks/update` delivered answers: the waiting handler reads them from the store.
    Answered { task: Arc<str> },
    /// `tasks/cancel`: stop the handler.
    Cancelled { task: Arc<str> },
    /// The task's status or pending input changed on instance `origin`: listeners that
    /// follow it send `notifications/tasks`.
    Changed { task: Arc<str>, origin: Arc<str> },
}

impl TaskSignal {
    pub fn task(&self) -> &str {
        match self {
            TaskSignal::Answered { task } | TaskSignal::Cancelled { task } | TaskSignal::Changed { task, .. } => task,
        }
    }
}

pub trait NotificationBus: Send + Sync + 'static {
    fn publish(&self, event: ChangeEvent);
    fn subscribe(&self) -> broadcast::Receiver<Arc<ChangeEvent>>;

    /// Route a session event to every instance. The default drops it: a bus without
    /// session routing serves a single instance, where the local path never misses.
    fn publish_session(&self, event: SessionEvent) {
        let _ = event;
    }
    /// Session events from every instance, if this bus routes them.
    fn subscribe_sessions(&self) -> Option<broadcast::Receiver<Arc<SessionEvent>>> {
        None
    }
    /// Does the bus reach the other instances now? (`/readyz`; a local bus always does.)
    fn healthy(&self) -> bool {
        true
    }

    /// Route a task signal to every instance (the default drops it: one instance only).
    fn publish_task(&self, signal: TaskSignal) {
        let _ = signal;
    }
    /// Task signals from every instance, if this bus routes them.
    fn subscribe_tasks(&self) -> Option<broadcast::Receiver<Arc<TaskSignal>>> {
        None
    }
}

/// Fan-out within one process.
pub struct InMemoryBus {
    tx: broadcast::Sender<Arc<ChangeEvent>>,
    sessions: broadcast::Sender<Arc<SessionEvent>>,
    tasks: broadcast::Sender<Arc<TaskSignal>>,
}

impl InMemoryBus {
    pub fn new(capacity: usize) -> Self {
        InMemoryBus {
            tx: broadcast::channel(capacity).0,
            sessions: broadcast::channel(capacity).0,
            tasks: broadcast::channel(capacity).0,
        }
    }
}

impl Default for InMemoryBus {
    fn default() -> Self {
        Self::new(1024)
    }
}

impl NotificationBus for InMemoryBus {
    fn publish(&self, event: ChangeEvent) {
        // No receivers is fine: nobody is listening right now.
        let _ = self.tx.send(Arc::new(event));
    }
    fn subscribe(&self) -> broadcast::Receiver<Arc<ChangeEvent>> {
        self.tx.subscribe()
    }
    fn publish_session(&self, event: SessionEvent) {
        let _ = self.sessions.send(Arc::new(event));
    }
    fn subscribe_sessions(&self) -> Option<broadcast::Receiver<Arc<SessionEvent>>> {
        Some(self.sessions.subscribe())
    }
    fn publish_task(&self, signal: TaskSignal) {
        let _ = self.tasks.send(Arc::new(signal));
    }
    fn subscribe_tasks(&self) -> Option<broadcast::Receiver<Arc<TaskSignal>>> {
        Some(self.tasks.subscribe())
    }
}

/// The `notifications` filter of `subscriptions/listen` (2026-07-28) — also used to say
/// what a session-era session listens to.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionFilter {
    #[serde(default, skip_serializing_if = "is_false")]
    pub tools_list_changed: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub prompts_list_changed: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub resources_list_changed: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resource_subscriptions: Vec<String>,
    /// Tasks whose status changes the listener hears (`notifications/tasks`, the tasks
    /// extension; stateless `subscriptions/listen` only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub task_ids: Vec<String>,
}

/// Task ids one listener may follow.
pub const MAX_TASK_IDS: usize = 100;

fn is_false(b: &bool) -> bool {
    !*b
}

impl SubscriptionFilter {
    /// Keep only what the server can deliver, given its capabilities.
    pub fn honored(&self, capabilities: &serde_json::Value) -> SubscriptionFilter {
        let flag = |cap: &str, key: &str| {
            capabilities.get(cap).and_then(|c| c.get(key)).and_then(|v| v.as_bool()) == Some(true)
        };
        SubscriptionFilter {
            tools_list_changed: self.tools_list_changed && flag("tools", "listChanged"),
            prompts_list_changed: self.prompts_list_changed && flag("prompts", "listChanged"),
            resources_list_changed: self.resources_list_changed && flag("resources", "listChanged"),
            resource_subscriptions: if flag("resources", "subscribe") {
                self.resource_subscriptions.clone()
            } else {
                Vec::new()
            },
            task_ids: match capabilities.get("extensions").and_then(|e| e.get(crate::tasks::TASKS_EXTENSION)) {
                Some(_) => self.task_ids.iter().take(MAX_TASK_IDS).cloned().collect(),
                None => Vec::new(),
            },
        }
    }

    /// Does this filter (for a caller with this identity) want the event?
    pub fn wants(&self, event: &ChangeEvent, caller: Option<&str>) -> bool {
        match event {
            ChangeEvent::ToolsListChanged(a) => self.tools_list_changed && a.includes(caller),
            ChangeEvent::PromptsListChanged(a) => self.prompts_list_changed && a.includes(caller),
            ChangeEvent::ResourcesListChanged(a) => self.resources_list_changed && a.includes(caller),
            ChangeEvent::ResourceUpdated { uri } => self.resource_subscriptions.iter().any(|u| u == uri),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_by_kind_and_audience() {
        let f = SubscriptionFilter { prompts_list_changed: true, ..Default::default() };
        assert!(!f.wants(&ChangeEvent::ToolsListChanged(Audience::Everyone), None));
        assert!(f.wants(&ChangeEvent::PromptsListChanged(Audience::Everyone), None));
        let mine = ChangeEvent::PromptsListChanged(Audience::Caller("u1".into()));
        assert!(f.wants(&mine, Some("u1")));
        assert!(!f.wants(&mine, Some("u2")));
        assert!(!f.wants(&mine, None));
    }

    #[test]
    fn honored_subset_follows_capabilities() {
        let f = SubscriptionFilter { tools_list_changed: true, resources_list_changed: true, ..Default::default() };
        let caps = serde_json::json!({ "tools": { "listChanged": true }, "resources": {} });
        assert_eq!(f.honored(&caps), SubscriptionFilter { tools_list_changed: true, ..Default::default() });
    }

    #[tokio::test]
    async fn bus_fans_out() {
        let bus = InMemoryBus::default();
        let mut a = bus.subscribe();
        let mut b = bus.subscribe();
        bus.publish(ChangeEvent::ResourceUpdated { uri: "x".into() });
        assert_eq!(*a.recv().await.unwrap(), ChangeEvent::ResourceUpdated { uri: "x".into() });
        assert_eq!(*b.recv().await.unwrap(), ChangeEvent::ResourceUpdated { uri: "x".into() });
    }
}
