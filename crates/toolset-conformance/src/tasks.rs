//! The fixtures of the suite's `tasks-*` scenarios (the tasks extension, SEP-2663). They
//! are ordinary handlers: the tool's [`TaskSupport`] decides whether a call becomes a
//! task, and the engine runs the same future in the background when it does.

use std::time::Duration;

use mcp_engine::context::{elicited_str, InputRequests};
use mcp_engine::provider::{Catalog, TaskSupport, Tool, ToolOutput};
use mcp_engine::{Ctx, McpError};
use serde_json::{json, Value};

fn args(raw: &serde_json::value::RawValue) -> Value {
    serde_json::from_str(raw.get()).unwrap_or(Value::Null)
}

fn confirm_schema() -> Value {
    json!({ "type": "object", "properties": { "confirm": { "type": "boolean" } }, "required": ["confirm"] })
}

fn accepted(answer: &Value) -> bool {
    answer.get("action").and_then(Value::as_str) == Some("accept")
}

pub(crate) fn task_tools(c: &mut Catalog) {
    c.tool(Tool::new(
        json!({ "name": "greet", "description": "Greets someone (never a task)",
            "inputSchema": { "type": "object", "properties": { "name": { "type": "string" } } } }),
        |args_raw, _| async move {
            let a = args(&args_raw);
            Ok(ToolOutput::text(format!("Hello, {}!", a.get("name").and_then(Value::as_str).unwrap_or("World"))))
        },
    ));
    c.tool(
        Tool::new(
            json!({ "name": "slow_compute", "description": "Sleeps for `seconds` then answers; a task when the client supports tasks",
                "inputSchema": { "type": "object", "properties": {
                    "seconds": { "type": "number", "minimum": 0 }, "label": { "type": "string" } } } }),
            |args_raw, _| async move {
                let a = args(&args_raw);
                let seconds = a.get("seconds").and_then(Value::as_f64).unwrap_or(1.0).clamp(0.0, 3600.0);
                let label = a.get("label").and_then(Value::as_str).unwrap_or("compute").to_owned();
                tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
                Ok(ToolOutput::text(format!("Computed {label} after {seconds} s")))
            },
        )
        .with_task_support(TaskSupport::Optional),
    );
    c.tool(
        Tool::new(
            json!({ "name": "failing_job", "description": "A job (always a task) whose tool call reports an error",
                "inputSchema": { "type": "object", "properties": {} } }),
            |_, _| async move {
                tokio::time::sleep(Duration::from_millis(300)).await;
                Ok(ToolOutput::error("The job failed: this tool always reports an error"))
            },
        )
        .with_task_support(TaskSupport::Required),
    );
    c.tool(
        Tool::new(
            json!({ "name": "protocol_error_job", "description": "A job that ends in a protocol-level (JSON-RPC) error",
                "inputSchema": { "type": "object", "properties": {} } }),
            |_, _| async move {
                tokio::time::sleep(Duration::from_millis(100)).await;
                Err(McpError::internal("protocol_error_job: internal failure (on purpose)").into())
            },
        )
        .with_task_support(TaskSupport::Optional),
    );
    c.tool(
        Tool::new(
            json!({ "name": "confirm_delete", "description": "Asks for confirmation before deleting `filename`",
                "inputSchema": { "type": "object", "properties": { "filename": { "type": "string" } } } }),
            |args_raw, mut ctx: Ctx| async move {
                let file = args(&args_raw).get("filename").and_then(Value::as_str).unwrap_or("file").to_owned();
                let a = ctx
                    .request_input(InputRequests::new().elicit("confirm", format!("Delete {file}?"), confirm_schema()))
                    .await?;
                let yes = accepted(&a["confirm"]) && a["confirm"].pointer("/content/confirm") != Some(&json!(false));
                Ok(ToolOutput::text(if yes { format!("Deleted {file}") } else { format!("Kept {file}") }))
            },
        )
        .with_task_support(TaskSupport::Optional),
    );
    c.tool(
        Tool::new(
            json!({ "name": "multi_input", "description": "Asks two questions at once",
                "inputSchema": { "type": "object", "properties": {} } }),
            |_, mut ctx: Ctx| async move {
                let name_schema =
                    json!({ "type": "object", "properties": { "name": { "type": "string" } }, "required": ["name"] });
                let a = ctx
                    .request_input(InputRequests::new().elicit("name", "What is your name?", name_schema).elicit(
                        "confirm",
                        "Shall I go on?",
                        confirm_schema(),
                    ))
                    .await?;
                let name = elicited_str(&a["name"], "name").unwrap_or("unknown");
                Ok(ToolOutput::text(format!("Hello, {name}; confirmed: {}", accepted(&a["confirm"]))))
            },
        )
        .with_task_support(TaskSupport::Optional),
    );
    c.tool(
        Tool::new(
            json!({ "name": "test_tool_with_task", "description": "Asks for a name synchronously, then finishes as a task",
                "inputSchema": { "type": "object", "properties": {} } }),
            |_, mut ctx: Ctx| async move {
                let schema =
                    json!({ "type": "object", "properties": { "name": { "type": "string" } }, "required": ["name"] });
                let a = ctx.request_input(InputRequests::new().elicit("user_name", "What is your name?", schema)).await?;
                let name = elicited_str(&a["user_name"], "name").unwrap_or("unknown").to_owned();
                ctx.continue_as_task().await?;
                tokio::time::sleep(Duration::from_millis(100)).await;
                Ok(ToolOutput::text(format!("Hello, {name}! (finished as a task)")))
            },
        )
        .with_task_support(TaskSupport::Required)
        .creating_task_on_request(),
    );
}
