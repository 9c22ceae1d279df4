//! The one table of MCP request methods the engine knows. Routing, the methods removed
//! in 2026-07-28, the session era's state-only operations, cacheability, capability
//! gates and telemetry labels all derive from [`SPECS`]: adding a method is one row.
//! Extension methods (the tasks extension's `tasks/*`) are gated on the extension's
//! identifier, which the engine advertises under `capabilities.extensions`.

use crate::protocol::Era;

/// A request method. Anything the table does not name is [`Method::Other`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Method {
    Initialize,
    Ping,
    ServerDiscover,
    ToolsList,
    ToolsCall,
    PromptsList,
    PromptsGet,
    ResourcesList,
    ResourcesTemplatesList,
    ResourcesRead,
    ResourcesSubscribe,
    ResourcesUnsubscribe,
    CompletionComplete,
    LoggingSetLevel,
    SubscriptionsListen,
    TasksGet,
    TasksUpdate,
    TasksCancel,
    Other,
}

/// Which eras serve a method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Eras {
    Both,
    /// Session era only: 2026-07-28 removed it (a stateless request for it gets -32601
    /// saying so).
    SessionOnly,
    /// Introduced by 2026-07-28; unknown to the session era.
    StatelessOnly,
}

/// One row of the method table.
#[derive(Debug)]
pub struct Spec {
    pub method: Method,
    /// The wire name; `other` for [`Method::Other`] (its telemetry label).
    pub name: &'static str,
    pub eras: Eras,
    /// The server capability a request needs (absent → -32601): a top-level key of the
    /// server's capabilities, or an extension identifier (contains `/`).
    pub capability: Option<&'static str>,
    /// Results carry `ttlMs`/`cacheScope` (2026-07-28).
    pub cacheable: bool,
    /// Session era: changes session state only (answered by the session driver, not a
    /// handler).
    pub session_op: bool,
}

const fn row(
    method: Method,
    name: &'static str,
    eras: Eras,
    capability: Option<&'static str>,
    cacheable: bool,
    session_op: bool,
) -> Spec {
    Spec { method, name, eras, capability, cacheable, session_op }
}

/// Indexed by `Method as usize`.
pub const SPECS: [Spec; 19] = [
    row(Method::Initialize, "initialize", Eras::SessionOnly, None, false, false),
    row(Method::Ping, "ping", Eras::SessionOnly, None, false, false),
    row(Method::ServerDiscover, "server/discover", Eras::StatelessOnly, None, true, false),
    row(Method::ToolsList, "tools/list", Eras::Both, Some("tools"), true, false),
    row(Method::ToolsCall, "tools/call", Eras::Both, Some("tools"), false, false),
    row(Method::PromptsList, "prompts/list", Eras::Both, Some("prompts"), true, false),
    row(Method::PromptsGet, "prompts/get", Eras::Both, Some("prompts"), false, false),
    row(Method::ResourcesList, "resources/list", Eras::Both, Some("resources"), true, false),
    row(Method::ResourcesTemplatesList, "resources/templates/list", Eras::Both, Some("resources"), true, false),
    row(Method::ResourcesRead, "resources/read", Eras::Both, Some("resources"), true, false),
    row(Method::ResourcesSubscribe, "resources/subscribe", Eras::SessionOnly, Some("resources"), false, true),
    row(Method::ResourcesUnsubscribe, "resources/unsubscribe", Eras::SessionOnly, Some("resources"), false, true),
    row(Method::CompletionComplete, "completion/complete", Eras::Both, Some("completions"), false, false),
    row(Method::LoggingSetLevel, "logging/setLevel", Eras::SessionOnly, Some("logging"), false, true),
    row(Method::SubscriptionsListen, "subscriptions/listen", Eras::StatelessOnly, None, false, false),
    row(Method::TasksGet, "tasks/get", Eras::StatelessOnly, Some(crate::tasks::TASKS_EXTENSION), false, false),
    row(Method::TasksUpdate, "tasks/update", Eras::StatelessOnly, Some(crate::tasks::TASKS_EXTENSION), false, false),
    row(Method::TasksCancel, "tasks/cancel", Eras::StatelessOnly, Some(crate::tasks::TASKS_EXTENSION), false, false),
    row(Method::Other, "other", Eras::Both, None, false, false),
];

impl Method {
    /// Every method, in table order (telemetry label order).
    pub const ALL: [Method; SPECS.len()] = {
        let mut all = [Method::Other; SPECS.len()];
        let mut i = 0;
        while i < SPECS.len() {
            all[i] = SPECS[i].method;
            i += 1;
        }
        all
    };
    pub const COUNT: usize = SPECS.len();

    /// The method named `name` (hot path: the common names first).
    #[inline]
    pub fn parse(name: &str) -> Method {
        match name {
            "tools/call" => Method::ToolsCall,
            "tools/list" => Method::ToolsList,
            _ => SPECS.iter().find(|s| s.name == name && s.method != Method::Other).map_or(Method::Other, |s| s.method),
        }
    }

    #[inline]
    pub fn spec(self) -> &'static Spec {
        &SPECS[self as usize]
    }

    /// The wire name (`other` for unknown methods): also the telemetry label.
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    pub fn index(self) -> usize {
        self as usize
    }

    /// Does this era serve the method?
    pub fn served_in(self, era: Era) -> bool {
        matches!(
            (self.spec().eras, era),
            (Eras::Both, _) | (Eras::SessionOnly, Era::Session) | (Eras::StatelessOnly, Era::Stateless)
        )
    }

    /// Removed by 2026-07-28 (served only in sessions).
    pub fn removed_in_stateless(self) -> bool {
        self.spec().eras == Eras::SessionOnly
    }

    /// The tasks extension's methods (their `Mcp-Name` mirrors `params.taskId`).
    pub fn is_task_method(self) -> bool {
        matches!(self, Method::TasksGet | Method::TasksUpdate | Method::TasksCancel)
    }

    pub fn is_list(self) -> bool {
        matches!(self, Method::ToolsList | Method::PromptsList | Method::ResourcesList)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_indexed_by_the_enum() {
        for (i, spec) in SPECS.iter().enumerate() {
            assert_eq!(spec.method as usize, i, "{}", spec.name);
            assert_eq!(Method::ALL[i], spec.method);
            if spec.method != Method::Other {
                assert_eq!(Method::parse(spec.name), spec.method);
            }
        }
        assert_eq!(Method::parse("other"), Method::Other);
        assert_eq!(Method::parse("tools/unknown"), Method::Other);
    }

    #[test]
    fn eras() {
        assert!(Method::Initialize.removed_in_stateless());
        assert!(!Method::ServerDiscover.served_in(Era::Session));
        assert!(Method::ToolsCall.served_in(Era::Stateless) && Method::ToolsCall.served_in(Era::Session));
        let removed: Vec<_> = SPECS.iter().filter(|s| s.eras == Eras::SessionOnly).map(|s| s.name).collect();
        assert_eq!(removed, ["initialize", "ping", "resources/subscribe", "resources/unsubscribe", "logging/setLevel"]);
    }

    #[test]
    fn task_methods_are_stateless_and_gated_on_the_extension() {
        for m in [Method::TasksGet, Method::TasksUpdate, Method::TasksCancel] {
            assert!(m.is_task_method() && !m.served_in(Era::Session) && m.served_in(Era::Stateless));
            assert_eq!(m.spec().capability, Some(crate::tasks::TASKS_EXTENSION));
        }
        // Removed by SEP-2663: unknown methods (-32601).
        assert_eq!(Method::parse("tasks/result"), Method::Other);
        assert_eq!(Method::parse("tasks/list"), Method::Other);
    }
}
