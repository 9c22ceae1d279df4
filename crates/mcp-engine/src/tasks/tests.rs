//! Where the extension does not apply: the session era, an engine that does not serve it,
//! and tools that never become tasks.

use std::sync::Arc;

use serde_json::value::RawValue;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use super::{TaskConfig, TASKS_EXTENSION};
use crate::dispatch::{Call, Engine, Reply};
use crate::jsonrpc::Id;
use crate::protocol::{Caller, Era, Params, RequestInfo, ServerInfo, Transport};
use crate::provider::{Catalog, StaticProvider, TaskSupport, Tool, ToolOutput};
use crate::store::MemoryTaskStore;

fn engine(tasks: bool) -> Engine {
    let mut c = Catalog::new();
    let def = json!({ "name": "job", "inputSchema": { "type": "object", "properties": {} } });
    c.tool(Tool::new(def, |_, _| async { Ok(ToolOutput::text("done")) }).with_task_support(TaskSupport::Required));
    let provider = Arc::new(StaticProvider::new(c, json!({ "tools": {} })));
    let info = ServerInfo { name: "t".into(), version: "1".into(), title: None, instructions: None };
    let b = Engine::builder(provider, info);
    let b = if tasks { b.tasks(Arc::new(MemoryTaskStore::new(10)), TaskConfig::default()) } else { b };
    b.build()
}

async fn dispatch(engine: &Engine, era: Era, method: &str, params: &str) -> Value {
    let raw = RawValue::from_string(params.to_owned()).unwrap();
    let info = Arc::new(RequestInfo {
        era,
        transport: Transport::Stdio,
        protocol_version: if era == Era::Session { "2025-11-25" } else { "2026-07-28" }.into(),
        method: method.into(),
        client_capabilities: json!({ "extensions": { TASKS_EXTENSION: {} } }),
        client_info: None,
        log_level: None,
        progress_token: None,
        caller: Caller::anonymous(),
        http: None,
    });
    let call = Call {
        id: Id::Num(1),
        method: method.to_owned().into(),
        params: Params::parse(Some(&raw)).unwrap(),
        info,
        events: None,
        requester: None,
        cancel: CancellationToken::new(),
        stream: None,
    };
    match engine.dispatch(call).await {
        Reply::Result(bytes) => serde_json::from_slice(&bytes).unwrap(),
        Reply::Error(e) => json!({ "error": e.code }),
        Reply::Listen(_) => panic!("unexpected stream"),
    }
}

#[tokio::test]
async fn sessions_never_see_the_extension() {
    let e = engine(true);
    let r = dispatch(&e, Era::Session, "tools/call", r#"{"name":"job"}"#).await;
    assert_eq!(r["content"][0]["text"], "done", "a required-task tool runs synchronously: {r}");
    let r = dispatch(&e, Era::Session, "tasks/get", r#"{"taskId":"x"}"#).await;
    assert_eq!(r["error"], -32601);
    let (_, init) = e.initialize_result(Some("2025-11-25"));
    let init: Value = serde_json::from_slice(&init).unwrap();
    assert!(init["capabilities"].get("extensions").is_none(), "{init}");
    let r = dispatch(&e, Era::Stateless, "tools/call", r#"{"name":"job"}"#).await;
    assert_eq!(r["resultType"], "task", "{r}");
}

#[tokio::test]
async fn an_engine_without_tasks_runs_everything_synchronously() {
    let e = engine(false);
    let r = dispatch(&e, Era::Stateless, "tools/call", r#"{"name":"job"}"#).await;
    assert_eq!(r["content"][0]["text"], "done", "{r}");
    let r = dispatch(&e, Era::Stateless, "tasks/get", r#"{"taskId":"x"}"#).await;
    assert_eq!(r["error"], -32601);
    let r = dispatch(&e, Era::Stateless, "server/discover", "{}").await;
    assert!(r["capabilities"].get("extensions").is_none(), "{r}");
    let r = dispatch(&engine(true), Era::Stateless, "server/discover", "{}").await;
    assert!(r["capabilities"]["extensions"][TASKS_EXTENSION].is_object(), "{r}");
}
