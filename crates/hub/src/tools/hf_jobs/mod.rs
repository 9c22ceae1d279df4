//! `hf_jobs`: Hugging Face Jobs from the model — `run` (image + command), `uv` (a Python
//! script), `ps`, `logs`, `inspect`, `cancel` and the `scheduled …` operations, with the
//! names, arguments, defaults and structured output of hf-mcp-server 0.4.x, so a user can
//! switch without relearning. Safer than upstream:
//!
//! * only authenticated callers see it (selection) and a call without a token is an
//!   `isError` result naming the scope needed; a Hub 403 becomes the same explanation;
//! * `cancel` and `scheduled delete` ask the user to confirm (elicitation) when the client
//!   can be asked and `--confirm-destructive` is on;
//! * the caller's token goes only into `secrets` (`$HF_TOKEN`), never `env`, and secret
//!   values, environment values and the token are redacted from every result, log line and
//!   relayed notification;
//! * log following is bounded (time, lines, line length) and relayed while it arrives.
//!
//! Modules: [`args`] (operations and arguments), [`spec`] (arguments → JobSpec), [`ops`]
//! (the operations), [`logs`] (following the SSE log stream), [`output`] (results and
//! redaction), [`usage`] (help texts).

mod args;
mod logs;
mod ops;
mod output;
mod spec;
mod usage;

use std::time::Duration;

use mcp_engine::provider::{TaskSupport, Tool, ToolOutput};
use mcp_engine::{CallError, Ctx};
use serde_json::{json, Map, Value};

use super::args::{invalid_args, parse_args};
use super::shell::{scrub, token_of};
use crate::client::HubClient;
use args::OPERATIONS;
use output::{error, respond};

pub const NAME: &str = "hf_jobs";

/// Settings of `hf_jobs`.
#[derive(Debug, Clone, Copy)]
pub struct JobsConfig {
    /// How long `run` and `logs` follow a job's log stream (upstream: 10 s).
    pub log_wait: Duration,
    /// Most log lines a `logs` result carries.
    pub max_tail: usize,
    /// Ask before `cancel` and `scheduled delete` (when the client can be asked).
    pub confirm_destructive: bool,
}

impl Default for JobsConfig {
    fn default() -> Self {
        JobsConfig { log_wait: Duration::from_secs(10), max_tail: 500, confirm_destructive: true }
    }
}

pub fn definition() -> Value {
    json!({
        "name": NAME,
        "title": "Hugging Face Jobs",
        "description": "Remote compute for Hugging Face workflows. Run Python/UV or Docker jobs to deeply analyze Hub \
            datasets, repos, traces, models, and large files; compute trends/statistics; run batch inference/evaluation; \
            or perform long-running work with installed libraries. Use for dataset/repo analysis prompts when local chat \
            inspection is insufficient. Includes submit, logs, inspect, cancel, schedule, and volume mounting. Call with \
            no operation for full usage instructions.",
        "inputSchema": {
            "type": "object",
            "properties": {
                "operation": { "type": "string", "enum": OPERATIONS,
                    "description": format!("Operation to execute. Valid values: {}",
                        OPERATIONS.iter().map(|o| format!("\"{o}\"")).collect::<Vec<_>>().join(", ")) },
                "args": { "type": "object",
                    "description": "Operation-specific arguments as a JSON object" }
            }
        },
        "outputSchema": {
            "type": "object",
            "properties": {
                "operation": { "type": "string", "enum": OPERATIONS },
                "outcome": { "type": "object", "properties": { "kind": { "type": "string" } }, "required": ["kind"] },
                "total_results": { "type": "integer", "minimum": 0 },
                "results_shared": { "type": "integer", "minimum": 0 }
            },
            "required": ["outcome", "total_results", "results_shared"]
        },
        "annotations": {
            "title": "Hugging Face Jobs",
            "readOnlyHint": false, "destructiveHint": true, "idempotentHint": false, "openWorldHint": true
        }
    })
}

/// `run` and `uv` follow logs for seconds, so clients may take a call as a task.
pub fn tool(client: HubClient, config: JobsConfig) -> Tool {
    Tool::new(definition(), move |args, ctx: Ctx| {
        let client = client.clone();
        async move {
            let token = token_of(&ctx);
            let out = match parse_args::<Map<String, Value>>(&args) {
                Err(e) => invalid_args(e),
                Ok(params) => match token.as_deref() {
                    None => unauthenticated(),
                    Some(t) => entry(&client, &config, params, ctx, t).await?,
                },
            };
            Ok(scrub(out, token.as_deref()))
        }
    })
    .with_task_support(TaskSupport::Optional)
}

fn unauthenticated() -> ToolOutput {
    let message = "hf_jobs needs a Hugging Face token: running, cancelling and scheduling jobs need write access (a \
        classic token with the 'write' role, or a fine-grained token with 'job.write' on the namespace); ps, logs \
        and inspect need read access to it. Sign in or send a token (https://huggingface.co/settings/tokens)."
        .to_owned();
    let mut out = respond(None, message.clone(), json!({ "kind": "unavailable", "message": message }), 0, 0);
    if let ToolOutput::Result(o) = &mut out {
        o.insert("isError".into(), Value::Bool(true));
    }
    out
}

async fn entry(
    client: &HubClient,
    config: &JobsConfig,
    params: Map<String, Value>,
    ctx: Ctx,
    token: &str,
) -> Result<ToolOutput, CallError> {
    let Some(requested) = params.get("operation").and_then(Value::as_str) else {
        let text = usage::usage(config.log_wait.as_secs());
        let outcome = json!({ "kind": "usage", "available_operations": OPERATIONS, "instructions": text });
        return Ok(respond(None, text, outcome, 0, 0));
    };
    let lowered = requested.trim().to_ascii_lowercase();
    let Some(op) = OPERATIONS.iter().copied().find(|o| *o == lowered) else {
        let message = format!(
            "Unknown operation: \"{requested}\"\nAvailable operations:\n- run, uv, ps, logs, inspect, cancel\n- \
             scheduled run, scheduled uv, scheduled ps, scheduled inspect, scheduled delete, scheduled suspend, \
             scheduled resume\n\nCall this tool with no operation for full usage instructions."
        );
        return Ok(error(None, "unknown_operation", message));
    };
    let raw = args::raw_args(&params);
    if raw.is_empty() && args::requires_args(op) {
        let help = args::help(op);
        let text = format!("No arguments provided for \"{op}\".\n\n{help}");
        let outcome = json!({ "kind": "help", "operation": op, "reason": "missing_arguments", "instructions": help });
        return Ok(respond(Some(op), text, outcome, 0, 0));
    }
    if args::help_requested(&raw) {
        let help = args::help(op);
        let outcome = json!({ "kind": "help", "operation": op, "reason": "requested", "instructions": help });
        return Ok(respond(Some(op), help, outcome, 0, 0));
    }
    let mut call = ops::Call { client, config, token, ctx, op };
    let invalid = |m: String| error(Some(op), "validation", m);
    match op {
        "run" => match args::parse(op, raw) {
            Ok(a) => call.run(a).await,
            Err(m) => Ok(invalid(m)),
        },
        "uv" => match args::parse(op, raw) {
            Ok(a) => call.uv(a).await,
            Err(m) => Ok(invalid(m)),
        },
        "ps" => match args::parse(op, raw) {
            Ok(a) => Ok(call.ps(a).await),
            Err(m) => Ok(invalid(m)),
        },
        "logs" => match args::parse(op, raw) {
            Ok(a) => Ok(call.logs(a).await),
            Err(m) => Ok(invalid(m)),
        },
        "inspect" => match args::parse(op, raw) {
            Ok(a) => Ok(call.inspect(a).await),
            Err(m) => Ok(invalid(m)),
        },
        "cancel" => match args::parse(op, raw) {
            Ok(a) => call.cancel(a).await,
            Err(m) => Ok(invalid(m)),
        },
        "scheduled run" | "scheduled uv" => {
            let (rest, sched) = ops::split_schedule(raw);
            let schedule = match args::parse::<args::Schedule>(op, sched) {
                Ok(s) => s,
                Err(m) => return Ok(invalid(m)),
            };
            let run = if op == "scheduled run" {
                args::parse::<args::RunArgs>(op, rest)
            } else {
                args::parse::<args::UvArgs>(op, rest).map(|u| {
                    let command = spec::uv_command(&u);
                    u.into_run(command)
                })
            };
            match run {
                Ok(r) => Ok(call.scheduled_create(r, schedule).await),
                Err(m) => Ok(invalid(m)),
            }
        }
        "scheduled ps" => match args::parse(op, raw) {
            Ok(a) => Ok(call.scheduled_ps(a).await),
            Err(m) => Ok(invalid(m)),
        },
        _ => match args::parse(op, raw) {
            Ok(a) => call.scheduled_one(a).await,
            Err(m) => Ok(invalid(m)),
        },
    }
}
