//! The usage text `hf_jobs` answers when called without an operation, and the examples of
//! each operation's help (hf-mcp-server's wording, minus what does not apply here).

use super::args::{CPU_FLAVORS, GPU_FLAVORS, SPECIALIZED_FLAVORS};

pub fn example(op: &str) -> Option<&'static str> {
    Some(match op {
        "run" => {
            r#"{"operation": "run", "args": {"image": "python:3.12", "command": ["python", "-c", "print('Hello from HF Jobs!')"], "flavor": "cpu-basic"}}"#
        }
        "uv" => r#"{"operation": "uv", "args": {"script": "import random\nprint(42 + random.randint(1, 5))"}}"#,
        "ps" => r#"{"operation": "ps"}"#,
        "logs" => r#"{"operation": "logs", "args": {"job_id": "your-job-id"}}"#,
        "inspect" => r#"{"operation": "inspect", "args": {"job_id": "your-job-id"}}"#,
        "cancel" => r#"{"operation": "cancel", "args": {"job_id": "your-job-id"}}"#,
        "scheduled run" => {
            r#"{"operation": "scheduled run", "args": {"schedule": "@hourly", "image": "python:3.12", "command": ["python", "backup.py"]}}"#
        }
        "scheduled uv" => {
            r#"{"operation": "scheduled uv", "args": {"schedule": "0 9 * * 1-5", "script": "import datetime\nprint('daily check', datetime.datetime.utcnow())"}}"#
        }
        "scheduled ps" => r#"{"operation": "scheduled ps"}"#,
        "scheduled inspect" => {
            r#"{"operation": "scheduled inspect", "args": {"scheduled_job_id": "your-scheduled-job-id"}}"#
        }
        "scheduled delete" => {
            r#"{"operation": "scheduled delete", "args": {"scheduled_job_id": "your-scheduled-job-id"}}"#
        }
        "scheduled suspend" => {
            r#"{"operation": "scheduled suspend", "args": {"scheduled_job_id": "your-scheduled-job-id"}}"#
        }
        "scheduled resume" => {
            r#"{"operation": "scheduled resume", "args": {"scheduled_job_id": "your-scheduled-job-id"}}"#
        }
        _ => return None,
    })
}

pub fn usage(log_wait_secs: u64) -> String {
    format!(
        "# HuggingFace Jobs API

Manage compute jobs on Hugging Face infrastructure.

## Available Commands

### Job Management
- **run** - Run a job with a Docker image
- **uv** - Run a Python script with UV (inline dependencies)
- **ps** - List jobs
- **logs** - Fetch job logs
- **inspect** - Get detailed job information
- **cancel** - Cancel a running job

### Scheduled Jobs
- **scheduled run** - Create a scheduled job
- **scheduled uv** - Create a scheduled UV job
- **scheduled ps** - List scheduled jobs
- **scheduled inspect** - Get scheduled job details
- **scheduled delete** - Delete a scheduled job
- **scheduled suspend** - Pause a scheduled job
- **scheduled resume** - Resume a suspended job

## Examples

### Run a simple job
```json
{run}
```

### Run a Python script with UV
```json
{uv}
```

## Hardware Flavors

**CPU:** {cpu}
**GPU:** {gpu}
**Specialized:** {special}

## Command Format Guidelines

- Array format is recommended for every command: JSON keeps arguments intact (URLs with `&`, spaces, etc.).
- Use `[\"/bin/sh\", \"-lc\", \"...\"]` when you need shell operators like `&&`, `|` or redirections.
- A string command is split with POSIX shell quoting and may not contain shell operators.
- `$HF_TOKEN` stays literal in commands; pass your token with `secrets: {{\"HF_TOKEN\": \"$HF_TOKEN\"}}` (never in `env`,
  whose values anyone who can inspect the job sees).

## Volumes

Attach Hub repositories or buckets with `hf://` volume URLs:
`hf://[TYPE/]OWNER/NAME[/PATH]:/MOUNT_PATH[:ro|:rw]`, TYPE one of `models`, `datasets`, `spaces`, `buckets`
(default models), e.g. `\"volumes\": [\"hf://datasets/org/dataset:/data:ro\"]`.

## Show command-specific help
```json
{{\"operation\": \"<operation>\", \"args\": {{\"help\": true}}}}
```

## Tips

- Jobs default to non-detached mode: logs are followed for up to {log_wait_secs}s or until the job completes; \
set `detach: true` to return immediately. Clients that asked for progress receive each log line as it arrives.
- Secret and environment values never appear in results: only their names, and `<redacted>` in log lines.
- `cancel` and `scheduled delete` ask you to confirm first when your client supports it.
",
        run = example("run").unwrap_or_default(),
        uv = example("uv").unwrap_or_default(),
        cpu = CPU_FLAVORS.join(", "),
        gpu = GPU_FLAVORS.join(", "),
        special = SPECIALIZED_FLAVORS.join(", "),
    )
}
