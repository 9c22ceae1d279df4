//! The tasks extension (SEP-2663) over real TCP ports: a task created on one connection
//! and polled from another, a task that outlives its requester, cancellation that stops
//! the handler, limits that refuse cleanly, a runner that is gone, and two instances
//! sharing one task store and bus (any instance answers; answers and cancellations reach
//! the runner). The suite's `tasks-*` scenarios cover the wire shapes.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use mcp_engine::provider::{Catalog, StaticProvider, TaskSupport, Tool, ToolOutput};
use mcp_engine::store::{MemoryTaskStore, TaskRecord, TaskStatus, TaskStore};
use mcp_engine::transport::http::HttpConfig;
use mcp_engine::{Ctx, Engine, InMemoryBus, InputRequests, NotificationBus, TaskConfig, TASKS_EXTENSION};
use serde_json::{json, Value};
use tokio::sync::Semaphore;

mod common;
use common::{serve_on_local_port, stateless_meta, stateless_request, test_server_info, RunningServer};

/// Sets its flag when dropped: shows that a handler future was dropped (stopped).
struct DropFlag(Arc<AtomicBool>);
impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Tools for the tests: `gated` finishes once the test adds a permit to `gate`;
/// `forever` never finishes (and flags its drop); `ask` asks for a confirmation;
/// `big` returns a large result; `panics` panics; `plain` never becomes a task.
fn catalog(gate: Arc<Semaphore>, dropped: Arc<AtomicBool>) -> Catalog {
    let mut c = Catalog::new();
    let no_args = |name: &str| json!({ "name": name, "inputSchema": { "type": "object", "properties": {} } });
    c.tool(
        Tool::new(no_args("gated"), move |_, _| {
            let gate = gate.clone();
            async move {
                gate.acquire().await.unwrap().forget();
                Ok(ToolOutput::text("gated done"))
            }
        })
        .with_task_support(TaskSupport::Optional),
    );
    c.tool(
        Tool::new(no_args("forever"), move |_, _| {
            let flag = DropFlag(dropped.clone());
            async move {
                let _flag = flag;
                std::future::pending::<()>().await;
                Ok(ToolOutput::text("unreachable"))
            }
        })
        .with_task_support(TaskSupport::Required),
    );
    c.tool(
        Tool::new(no_args("ask"), |_, mut ctx: Ctx| async move {
            let schema = json!({ "type": "object", "properties": { "ok": { "type": "boolean" } } });
            let a = ctx.request_input(InputRequests::new().elicit("go", "Go on?", schema)).await?;
            Ok(ToolOutput::text(format!("answer: {}", a["go"]["action"])))
        })
        .with_task_support(TaskSupport::Optional),
    );
    c.tool(
        Tool::new(no_args("big"), |_, _| async { Ok(ToolOutput::text("x".repeat(64 * 1024))) })
            .with_task_support(TaskSupport::Optional),
    );
    c.tool(
        Tool::new(no_args("panics"), |_, _| async {
            if true {
                panic!("a tool bug (on purpose)");
            }
            Ok(ToolOutput::text("unreachable"))
        })
        .with_task_support(TaskSupport::Optional),
    );
    c.tool(Tool::new(no_args("plain"), |_, _| async { Ok(ToolOutput::text("plain")) }));
    c
}

struct Fixture {
    gate: Arc<Semaphore>,
    dropped: Arc<AtomicBool>,
    store: Arc<MemoryTaskStore>,
    bus: Arc<dyn NotificationBus>,
}

impl Fixture {
    fn new(max_tasks: usize) -> Fixture {
        Fixture {
            gate: Arc::new(Semaphore::new(0)),
            dropped: Arc::new(AtomicBool::new(false)),
            store: Arc::new(MemoryTaskStore::new(max_tasks)),
            bus: Arc::new(InMemoryBus::default()),
        }
    }

    /// One instance; several share the store and the bus.
    async fn instance(&self, config: TaskConfig) -> RunningServer {
        let provider =
            Arc::new(StaticProvider::new(catalog(self.gate.clone(), self.dropped.clone()), json!({ "tools": {} })));
        let engine = Engine::builder(provider, test_server_info())
            .bus(self.bus.clone())
            .tasks(self.store.clone(), config)
            .build();
        serve_on_local_port(engine, HttpConfig::default(), Duration::from_secs(5)).await
    }
}

fn with_tasks() -> Value {
    stateless_meta(json!({ "elicitation": {}, "extensions": { TASKS_EXTENSION: {} } }))
}

fn without_tasks() -> Value {
    stateless_meta(json!({ "elicitation": {} }))
}

/// One request on a fresh connection (a new client each time), `Mcp-Name` set from the
/// tool name or the task id. Returns the JSON-RPC response.
async fn rpc(url: &str, method: &str, params: Value, meta: Value) -> Value {
    let client = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
    let name = params.get("name").or_else(|| params.get("taskId")).and_then(Value::as_str).map(str::to_owned);
    let res = stateless_request(&client, url, 1, method, name.as_deref(), params, meta).send().await.unwrap();
    serde_json::from_str(&res.text().await.unwrap()).unwrap()
}

async fn create(url: &str, tool: &str) -> String {
    let r = rpc(url, "tools/call", json!({ "name": tool, "arguments": {} }), with_tasks()).await;
    assert_eq!(r["result"]["resultType"], "task", "{r}");
    assert_eq!(r["result"]["status"], "working", "{r}");
    r["result"]["taskId"].as_str().unwrap().to_owned()
}

async fn get(url: &str, task: &str) -> Value {
    let r = rpc(url, "tasks/get", json!({ "taskId": task }), with_tasks()).await;
    assert_eq!(r["result"]["resultType"], "complete", "{r}");
    r["result"].clone()
}

/// Poll `tasks/get` until the task has one of `statuses` (bounded; not a timing check).
async fn wait_for(url: &str, task: &str, statuses: &[&str]) -> Value {
    for _ in 0..500 {
        let t = get(url, task).await;
        if statuses.contains(&t["status"].as_str().unwrap()) {
            return t;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("task {task} never reached {statuses:?}");
}

async fn wait_until(flag: &AtomicBool) {
    for _ in 0..500 {
        if flag.load(Ordering::SeqCst) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the handler was never stopped");
}

#[tokio::test]
async fn a_task_created_on_one_connection_is_polled_from_another_and_outlives_its_requester() {
    let f = Fixture::new(100);
    let server = f.instance(TaskConfig::default()).await;
    // The requester's connection is gone once `create` returns (a client per request).
    let task = create(&server.url, "gated").await;
    let t = get(&server.url, &task).await;
    assert_eq!(t["status"], "working");
    assert!(t.get("result").is_none() && t.get("requestState").is_none(), "{t}");
    f.gate.add_permits(1);
    let t = wait_for(&server.url, &task, &["completed", "failed", "cancelled"]).await;
    assert_eq!(t["status"], "completed", "{t}");
    assert_eq!(t["result"]["content"][0]["text"], "gated done");
    assert_eq!(t["result"]["resultType"], "complete");
    // Without the extension the same tool answers synchronously, and tasks/* are refused.
    f.gate.add_permits(1);
    let r = rpc(&server.url, "tools/call", json!({ "name": "gated", "arguments": {} }), without_tasks()).await;
    assert_eq!(r["result"]["content"][0]["text"], "gated done", "{r}");
    let r = rpc(&server.url, "tasks/get", json!({ "taskId": task }), without_tasks()).await;
    assert_eq!(r["error"]["code"], -32021, "{r}");
    assert!(r["error"]["data"]["requiredCapabilities"]["extensions"][TASKS_EXTENSION].is_object(), "{r}");
    // A required-task tool without the extension: -32021 before the handler runs.
    let r = rpc(&server.url, "tools/call", json!({ "name": "forever", "arguments": {} }), without_tasks()).await;
    assert_eq!(r["error"]["code"], -32021, "{r}");
    assert!(!f.dropped.load(Ordering::SeqCst), "the handler never ran");
    // An unknown id.
    let r = rpc(&server.url, "tasks/get", json!({ "taskId": "nope" }), with_tasks()).await;
    assert_eq!(r["error"]["code"], -32602, "{r}");
    server.stop().await;
}

#[tokio::test]
async fn cancellation_stops_the_handler_and_is_idempotent() {
    let f = Fixture::new(100);
    let server = f.instance(TaskConfig::default()).await;
    let task = create(&server.url, "forever").await;
    let ack = rpc(&server.url, "tasks/cancel", json!({ "taskId": task }), with_tasks()).await;
    assert_eq!(ack["result"]["resultType"], "complete", "{ack}");
    assert!(ack["result"].get("taskId").is_none() && ack["result"].get("status").is_none());
    wait_until(&f.dropped).await;
    let t = get(&server.url, &task).await;
    assert_eq!(t["status"], "cancelled", "{t}");
    let again = rpc(&server.url, "tasks/cancel", json!({ "taskId": task }), with_tasks()).await;
    assert_eq!(again["result"]["resultType"], "complete", "{again}");
    assert_eq!(get(&server.url, &task).await["status"], "cancelled");
    server.stop().await;
}

#[tokio::test]
async fn input_required_tasks_take_partial_and_unknown_answers() {
    let f = Fixture::new(100);
    let server = f.instance(TaskConfig::default()).await;
    let task = create(&server.url, "ask").await;
    let t = wait_for(&server.url, &task, &["input_required"]).await;
    assert_eq!(t["inputRequests"]["go"]["method"], "elicitation/create", "{t}");
    let ack = rpc(
        &server.url,
        "tasks/update",
        json!({ "taskId": task, "inputResponses": { "other": { "action": "accept" } } }),
        with_tasks(),
    )
    .await;
    assert_eq!(ack["result"]["resultType"], "complete", "{ack}");
    assert_eq!(get(&server.url, &task).await["status"], "input_required", "an unknown key is ignored");
    let bad = rpc(&server.url, "tasks/update", json!({ "taskId": task, "inputResponses": 5 }), with_tasks()).await;
    assert_eq!(bad["error"]["code"], -32602, "{bad}");
    rpc(
        &server.url,
        "tasks/update",
        json!({ "taskId": task, "inputResponses": { "go": { "action": "accept", "content": { "ok": true } } } }),
        with_tasks(),
    )
    .await;
    let t = wait_for(&server.url, &task, &["completed", "failed", "cancelled"]).await;
    assert_eq!(t["result"]["content"][0]["text"], "answer: \"accept\"", "{t}");
    server.stop().await;
}

#[tokio::test]
async fn limits_refuse_clearly_and_disturb_nothing_else() {
    let f = Fixture::new(2);
    let config = TaskConfig { max_result_bytes: 16 * 1024, ..TaskConfig::default() };
    let server = f.instance(config).await;
    // A result beyond the limit fails its task, with the reason.
    let big = create(&server.url, "big").await;
    let t = wait_for(&server.url, &big, &["completed", "failed", "cancelled"]).await;
    assert_eq!(t["status"], "failed", "{t}");
    assert!(t.get("result").is_none());
    assert!(t["error"]["message"].as_str().unwrap().contains("exceeds the task result limit"), "{t}");
    // The store holds two tasks at most: the third call is refused with a clear error.
    let running = create(&server.url, "gated").await;
    let r = rpc(&server.url, "tools/call", json!({ "name": "gated", "arguments": {} }), with_tasks()).await;
    assert_eq!(r["error"]["code"], -32603, "{r}");
    assert!(r["error"]["message"].as_str().unwrap().contains("maximum of 2 tasks"), "{r}");
    // Everything else goes on: the running task, reading the failed one, plain calls.
    let r = rpc(&server.url, "tools/call", json!({ "name": "plain", "arguments": {} }), with_tasks()).await;
    assert_eq!(r["result"]["content"][0]["text"], "plain", "{r}");
    assert_eq!(get(&server.url, &big).await["status"], "failed");
    f.gate.add_permits(1);
    let t = wait_for(&server.url, &running, &["completed", "failed", "cancelled"]).await;
    assert_eq!(t["status"], "completed", "{t}");
    server.stop().await;
}

#[tokio::test]
async fn a_panicking_tool_fails_its_task() {
    let f = Fixture::new(100);
    let server = f.instance(TaskConfig::default()).await;
    let task = create(&server.url, "panics").await;
    let t = wait_for(&server.url, &task, &["completed", "failed", "cancelled"]).await;
    assert_eq!(t["status"], "failed", "{t}");
    assert_eq!(t["error"]["code"], -32603, "{t}");
    server.stop().await;
}

#[tokio::test]
async fn a_task_whose_runner_is_gone_is_reported_failed() {
    let f = Fixture::new(100);
    let server = f.instance(TaskConfig::default()).await;
    // A task another process was running: its lease lapsed long ago.
    let record = TaskRecord {
        id: "orphan".into(),
        owner: "anonymous".into(),
        status: TaskStatus::Working,
        status_message: None,
        created_at_ms: 1,
        updated_at_ms: 1,
        ttl_ms: u64::MAX / 4,
        poll_interval_ms: 500,
        expires_at_ms: u64::MAX / 2,
        runner: "a-process-that-is-gone".into(),
        lease_until_ms: 1,
        input_requests: Default::default(),
        answers: Default::default(),
        result: None,
        error: None,
    };
    f.store.create(record).await.unwrap();
    let t = get(&server.url, "orphan").await;
    assert_eq!(t["status"], "failed", "{t}");
    assert!(t["error"]["message"].as_str().unwrap().contains("ended before the task finished"), "{t}");
    server.stop().await;
}

#[tokio::test]
async fn any_instance_answers_and_signals_reach_the_runner() {
    let f = Fixture::new(100);
    let a = f.instance(TaskConfig::default()).await;
    let b = f.instance(TaskConfig::default()).await;
    // Created on A, answered and polled on B.
    let task = create(&a.url, "ask").await;
    wait_for(&b.url, &task, &["input_required"]).await;
    rpc(
        &b.url,
        "tasks/update",
        json!({ "taskId": task, "inputResponses": { "go": { "action": "decline" } } }),
        with_tasks(),
    )
    .await;
    let t = wait_for(&b.url, &task, &["completed", "failed", "cancelled"]).await;
    assert_eq!(t["result"]["content"][0]["text"], "answer: \"decline\"", "{t}");
    // Cancelled on B: A's handler stops.
    let task = create(&a.url, "forever").await;
    rpc(&b.url, "tasks/cancel", json!({ "taskId": task }), with_tasks()).await;
    wait_until(&f.dropped).await;
    assert_eq!(get(&a.url, &task).await["status"], "cancelled");
    a.stop().await;
    b.stop().await;
}

#[tokio::test]
async fn listeners_following_a_task_hear_its_changes_from_any_instance() {
    let f = Fixture::new(100);
    let a = f.instance(TaskConfig::default()).await;
    let b = f.instance(TaskConfig::default()).await;
    let task = create(&a.url, "ask").await;
    // Following a task needs the extension.
    let listen = json!({ "notifications": { "taskIds": [task] } });
    let r = rpc(&b.url, "subscriptions/listen", listen.clone(), without_tasks()).await;
    assert_eq!(r["error"]["code"], -32021, "{r}");
    // A listener on B hears the task A runs.
    let client = reqwest::Client::new();
    let res =
        stateless_request(&client, &b.url, 7, "subscriptions/listen", None, listen, with_tasks()).send().await.unwrap();
    let mut sse = common::Sse::new(res);
    let wait = Duration::from_secs(10);
    let (_, ack) = sse.message(wait).await.unwrap();
    assert_eq!(ack["method"], "notifications/subscriptions/acknowledged", "{ack}");
    assert_eq!(ack["params"]["notifications"]["taskIds"][0], task.as_str(), "{ack}");
    // Whatever the listener heard before the question, the task now waits for it.
    wait_for(&b.url, &task, &["input_required"]).await;
    rpc(
        &b.url,
        "tasks/update",
        json!({ "taskId": task, "inputResponses": { "go": { "action": "accept" } } }),
        with_tasks(),
    )
    .await;
    loop {
        let (_, n) = sse.message(wait).await.expect("a notification for every change");
        assert_eq!(n["method"], "notifications/tasks", "{n}");
        assert_eq!(n["params"]["taskId"], task.as_str());
        assert_eq!(n["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"], 7);
        if n["params"]["status"] == "completed" {
            assert_eq!(n["params"]["result"]["content"][0]["text"], "answer: \"accept\"", "{n}");
            break;
        }
    }
    a.stop().await;
    b.stop().await;
}
