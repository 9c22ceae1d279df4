//! Where the extension does not apply (the session era, an engine that does not serve
//! it), and a call abandoned while its task was being created.

use std::sync::Arc;

use serde_json::value::RawValue;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use super::{TaskConfig, TASKS_EXTENSION};
use crate::dispatch::{Call, Engine, Reply};
use crate::jsonrpc::Id;
use crate::protocol::{Caller, Era, Params, RequestInfo, ServerInfo, Transport};
use crate::provider::{Catalog, StaticProvider, TaskSupport, Tool, ToolOutput};
use crate::store::{MemoryTaskStore, TaskMutation, TaskRecord, TaskStatus, TaskStore, TaskStoreError, Updated};
use futures_util::future::BoxFuture;
use tokio::sync::{Notify, Semaphore};

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

fn call(era: Era, method: &str, params: &str) -> Call<'static> {
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
    let raw: &'static RawValue = Box::leak(raw);
    Call {
        id: Id::Num(1),
        method: method.to_owned().into(),
        params: Params::parse(Some(raw)).unwrap(),
        info,
        events: None,
        requester: None,
        cancel: CancellationToken::new(),
        stream: None,
    }
}

async fn dispatch(engine: &Engine, era: Era, method: &str, params: &str) -> Value {
    match engine.dispatch(call(era, method, params)).await {
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
    let (_, init) = e.initialize_result(Some("2025-11-25"), None);
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

/// A memory store whose `create` waits for the test (a remote store's latency).
struct SlowStore {
    inner: MemoryTaskStore,
    entered: Notify,
    gate: Semaphore,
}

impl TaskStore for SlowStore {
    fn create(&self, record: TaskRecord) -> BoxFuture<'_, Result<(), TaskStoreError>> {
        Box::pin(async move {
            self.entered.notify_one();
            self.gate.acquire().await.unwrap().forget();
            self.inner.create(record).await
        })
    }
    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<TaskRecord>, TaskStoreError>> {
        self.inner.get(id)
    }
    fn update<'a>(
        &'a self,
        id: &'a str,
        f: TaskMutation<'a>,
    ) -> BoxFuture<'a, Result<Option<Updated>, TaskStoreError>> {
        self.inner.update(id, f)
    }
}

#[tokio::test]
async fn a_call_abandoned_while_its_task_is_created_leaves_a_cancelled_task() {
    let store =
        Arc::new(SlowStore { inner: MemoryTaskStore::new(10), entered: Notify::new(), gate: Semaphore::new(0) });
    let mut c = Catalog::new();
    let def = json!({ "name": "later", "inputSchema": { "type": "object", "properties": {} } });
    c.tool(
        Tool::new(def, |_, mut ctx: crate::Ctx| async move {
            ctx.continue_as_task().await?;
            std::future::pending::<()>().await;
            Ok(ToolOutput::text("unreachable"))
        })
        .with_task_support(TaskSupport::Optional)
        .creating_task_on_request(),
    );
    let provider = Arc::new(StaticProvider::new(c, json!({ "tools": {} })));
    let info = ServerInfo { name: "t".into(), version: "1".into(), title: None, instructions: None };
    let engine = Engine::builder(provider, info).tasks(store.clone(), TaskConfig::default()).build();
    let e = engine.clone();
    let pending =
        tokio::spawn(async move { e.dispatch(call(Era::Stateless, "tools/call", r#"{"name":"later"}"#)).await });
    store.entered.notified().await;
    // The client goes away while the task is being created.
    pending.abort();
    let _ = pending.await;
    store.gate.add_permits(1);
    for _ in 0..500 {
        let records = store.inner.snapshot();
        let forgotten = engine.tasks().unwrap().runners().is_empty();
        if let [r] = &records[..] {
            if r.status == TaskStatus::Cancelled && forgotten {
                return;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("the abandoned task was never cancelled");
}
