//! The operations of `hf_jobs` and their arguments, with hf-mcp-server's names, defaults
//! and help: parsed from `args` (or, as upstream still accepts, from top-level keys), a
//! validation failure explained field by field, and a per-operation help text.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value};

/// Operation names, in upstream's order.
pub const OPERATIONS: &[&str] = &[
    "run",
    "uv",
    "ps",
    "logs",
    "inspect",
    "cancel",
    "scheduled run",
    "scheduled uv",
    "scheduled ps",
    "scheduled inspect",
    "scheduled delete",
    "scheduled suspend",
    "scheduled resume",
];

pub const CPU_FLAVORS: &[&str] = &["cpu-basic", "cpu-upgrade", "cpu-performance", "cpu-xl"];
pub const GPU_FLAVORS: &[&str] = &[
    "sprx8",
    "zero-a10g",
    "t4-small",
    "t4-medium",
    "l4x1",
    "l4x4",
    "l40sx1",
    "l40sx4",
    "l40sx8",
    "a10g-small",
    "a10g-large",
    "a10g-largex2",
    "a10g-largex4",
    "a100-large",
    "a100x4",
    "a100x8",
    "h200",
    "h200x2",
    "h200x4",
    "h200x8",
    "rtx-pro-6000",
    "rtx-pro-6000x2",
    "rtx-pro-6000x4",
    "rtx-pro-6000x8",
];
pub const SPECIALIZED_FLAVORS: &[&str] = &["inf2x6"];

pub fn valid_flavor(f: &str) -> bool {
    CPU_FLAVORS.contains(&f) || GPU_FLAVORS.contains(&f) || SPECIALIZED_FLAVORS.contains(&f)
}

/// A command as an argv array (recommended) or a string split like a shell would.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Command {
    Argv(Vec<String>),
    Line(String),
}

fn default_image() -> String {
    "python:3.12".into()
}
fn default_flavor() -> String {
    "cpu-basic".into()
}
fn default_timeout() -> String {
    "30m".into()
}
fn default_tail() -> f64 {
    20.0
}

pub type StringMap = BTreeMap<String, String>;

#[derive(Debug, Clone, Deserialize)]
pub struct RunArgs {
    pub namespace: Option<String>,
    #[serde(default = "default_image")]
    pub image: String,
    pub command: Command,
    #[serde(default = "default_flavor")]
    pub flavor: String,
    pub env: Option<StringMap>,
    pub secrets: Option<StringMap>,
    #[serde(default = "default_timeout")]
    pub timeout: String,
    pub volumes: Option<Vec<String>>,
    #[serde(default)]
    pub detach: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct UvArgs {
    pub namespace: Option<String>,
    pub script: String,
    pub with_deps: Option<Vec<String>>,
    pub script_args: Option<Vec<String>>,
    pub python: Option<String>,
    #[serde(default = "default_flavor")]
    pub flavor: String,
    pub env: Option<StringMap>,
    pub secrets: Option<StringMap>,
    #[serde(default = "default_timeout")]
    pub timeout: String,
    pub volumes: Option<Vec<String>>,
    #[serde(default)]
    pub detach: bool,
}

impl UvArgs {
    /// The equivalent `run` arguments.
    pub fn into_run(self, command: Vec<String>) -> RunArgs {
        RunArgs {
            namespace: self.namespace,
            image: super::spec::UV_IMAGE.into(),
            command: Command::Argv(command),
            flavor: self.flavor,
            env: self.env,
            secrets: self.secrets,
            timeout: self.timeout,
            volumes: self.volumes,
            detach: self.detach,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct PsArgs {
    pub namespace: Option<String>,
    #[serde(default)]
    pub all: bool,
    pub status: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LogsArgs {
    pub namespace: Option<String>,
    pub job_id: String,
    #[serde(default = "default_tail")]
    pub tail: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum JobIds {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Clone, Deserialize)]
pub struct InspectArgs {
    pub namespace: Option<String>,
    pub job_id: JobIds,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CancelArgs {
    pub namespace: Option<String>,
    pub job_id: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Schedule {
    pub schedule: String,
    #[serde(default)]
    pub suspend: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ScheduledPsArgs {
    pub namespace: Option<String>,
    #[serde(default)]
    pub all: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ScheduledJobArgs {
    pub namespace: Option<String>,
    pub scheduled_job_id: String,
}

/// One argument in the help text: name, required, description.
type Field = (&'static str, bool, &'static str);

const NAMESPACE: Field = ("namespace", false, "Target namespace (username or organization). Defaults to current user.");
const RUN_FIELDS: &[Field] = &[
    ("image", false, "Docker image or HF Space URL (e.g. \"python:3.12\" or \"hf.co/spaces/user/space\"). Default: python:3.12"),
    ("command", true, "Command to execute. Array format recommended (e.g. [\"python\", \"script.py\"]); a string is split with POSIX shell quoting and may not contain shell operators."),
    ("flavor", false, "Hardware flavor (default: cpu-basic)."),
    ("env", false, "Environment variables as key-value pairs (visible to anyone who can inspect the job)."),
    ("secrets", false, "Secrets as key-value pairs. Use {\"HF_TOKEN\": \"$HF_TOKEN\"} to pass your token."),
    ("timeout", false, "Max duration (e.g. \"5m\", \"2h\", \"30s\"). Default: 30m"),
    ("volumes", false, "Volume mounts: hf://[TYPE/]OWNER/NAME[/PATH]:/MOUNT_PATH[:ro|:rw], TYPE one of models, datasets, spaces, buckets."),
    ("detach", false, "If true, return at once with the job ID; otherwise follow the logs for a few seconds."),
    NAMESPACE,
];
const UV_FIELDS: &[Field] = &[
    ("script", true, "Python script: URL, command, or inline code (multi-line scripts are sent base64-encoded)."),
    ("with_deps", false, "Additional package dependencies (e.g. [\"polars\", \"pyarrow\"])."),
    ("script_args", false, "Arguments to pass to the script."),
    ("python", false, "Python interpreter version (e.g. \"3.12\")."),
    ("flavor", false, "Hardware flavor (default: cpu-basic)."),
    ("env", false, "Environment variables as key-value pairs."),
    ("secrets", false, "Secrets as key-value pairs. Use {\"HF_TOKEN\": \"$HF_TOKEN\"} to pass your token."),
    ("timeout", false, "Max duration. Default: 30m"),
    ("volumes", false, "Volume mounts using hf:// URLs."),
    ("detach", false, "If true, return at once with the job ID."),
    NAMESPACE,
];
const SCHEDULE_FIELDS: &[Field] = &[
    ("schedule", true, "Cron expression or shorthand (@hourly, @daily, @weekly, @monthly, @yearly)."),
    ("suspend", false, "Create in suspended state (default: false)."),
];

/// The fields of an operation, for help and for the missing-arguments check.
pub fn fields(op: &str) -> Vec<Field> {
    let mut f: Vec<Field> = match op {
        "run" => RUN_FIELDS.to_vec(),
        "uv" => UV_FIELDS.to_vec(),
        "ps" => vec![
            ("all", false, "Show all jobs (default: only running)."),
            ("status", false, "Filter by status (\"RUNNING\", \"COMPLETED\", \"CANCELED\", \"ERROR\", \"DELETED\")."),
            NAMESPACE,
        ],
        "logs" => vec![
            ("job_id", true, "Job ID to fetch logs from."),
            ("tail", false, "Number of lines to return (default: 20)."),
            NAMESPACE,
        ],
        "inspect" => vec![("job_id", true, "Job ID(s) to inspect (a string or an array)."), NAMESPACE],
        "cancel" => vec![("job_id", true, "Job ID to cancel."), NAMESPACE],
        "scheduled run" => [SCHEDULE_FIELDS, RUN_FIELDS].concat(),
        "scheduled uv" => [SCHEDULE_FIELDS, UV_FIELDS].concat(),
        "scheduled ps" => vec![("all", false, "Show all scheduled jobs (default: hide suspended)."), NAMESPACE],
        _ => vec![("scheduled_job_id", true, "Scheduled job ID."), NAMESPACE],
    };
    f.retain(|(n, _, _)| !(op.starts_with("scheduled") && *n == "detach"));
    f
}

pub fn requires_args(op: &str) -> bool {
    fields(op).iter().any(|(_, required, _)| *required)
}

/// The help text of an operation, with an example.
pub fn help(op: &str) -> String {
    let mut out = format!("# {op}\n\n## Arguments\n\n");
    for (name, required, desc) in fields(op) {
        out.push_str(&format!("- **{name}**{}: {desc}\n", if required { " (required)" } else { "" }));
    }
    if let Some(example) = super::usage::example(op) {
        out.push_str(&format!("\n### Example\nCall this tool with:\n```json\n{example}\n```\n"));
    }
    out
}

/// Arguments of a call: `args`, or the top-level keys besides `operation` (legacy form).
pub fn raw_args(params: &Map<String, Value>) -> Map<String, Value> {
    match params.get("args") {
        Some(Value::Object(o)) => o.clone(),
        _ => params
            .iter()
            .filter(|(k, _)| *k != "operation" && *k != "args")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    }
}

pub fn help_requested(args: &Map<String, Value>) -> bool {
    matches!(args.get("help"), Some(Value::Bool(true))) || args.get("help").and_then(Value::as_str) == Some("true")
}

/// Parse an operation's arguments; the error is the message the model sees.
pub fn parse<T: for<'de> Deserialize<'de>>(op: &str, mut args: Map<String, Value>) -> Result<T, String> {
    args.remove("help");
    let flavor = args.get("flavor").and_then(Value::as_str).map(str::to_owned);
    let parsed = serde_json::from_value::<T>(Value::Object(args)).map_err(|e| {
        let msg = e.to_string();
        let msg = msg.split(" at line ").next().unwrap_or(&msg).to_owned();
        invalid(op, &msg)
    })?;
    if let Some(f) = flavor.filter(|f| !valid_flavor(f)) {
        return Err(invalid(
            op,
            &format!(
                "flavor: invalid value \"{f}\"; options: {}",
                [CPU_FLAVORS, GPU_FLAVORS, SPECIALIZED_FLAVORS].concat().join(", ")
            ),
        ));
    }
    Ok(parsed)
}

pub fn invalid(op: &str, why: &str) -> String {
    format!(
        "Error: Invalid parameters for '{op}'\n\n  • {why}\n\nCall this tool with {{\"operation\": \"{op}\", \"args\": \
         {{\"help\": true}}}} to see valid arguments."
    )
}
