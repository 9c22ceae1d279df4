//! Following a job's log stream for a bounded time: each line is redacted, relayed to the
//! client as it arrives — a progress notification when the request carried a progress token,
//! a log notification when the client set a log level — and kept in a bounded tail for the
//! result, for clients that want neither. Stops when the stream ends (the job stopped), the
//! time is up, or the client goes away.

use std::collections::VecDeque;
use std::time::Duration;

use mcp_engine::protocol::LogLevel;
use mcp_engine::Ctx;
use serde::Deserialize;
use serde_json::json;
use tokio::time::Instant;

use super::output::Redactor;
use crate::client::{HubClient, HubError};

/// Longest line kept or relayed (characters); the rest is cut with an ellipsis.
const MAX_LINE_CHARS: usize = 2_000;
/// Longest line relayed as a progress message.
const MAX_MESSAGE_CHARS: usize = 160;
/// Characters of log text one result carries at most (the oldest kept lines go first).
const MAX_TAIL_CHARS: usize = crate::tools::budget::budget_chars(3);
/// Bytes of an unterminated SSE line buffered before it is dropped.
const MAX_PENDING: usize = 64 * 1024;

/// What a follow collected.
#[derive(Debug, Default)]
pub struct Followed {
    /// The last lines (at most the tail asked for), redacted.
    pub lines: Vec<String>,
    /// The stream ended: the job has stopped.
    pub finished: bool,
    /// Time ran out while the job was still going.
    pub truncated: bool,
}

#[derive(Deserialize)]
struct Event {
    data: String,
}

fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    s.chars().take(max).collect::<String>() + "…"
}

/// Relays lines to the client; progress values increase by one per line.
struct Relay<'a> {
    ctx: &'a Ctx,
    job_id: &'a str,
    count: f64,
}

impl Relay<'_> {
    async fn say(&mut self, message: &str, line: Option<&str>) {
        self.count += 1.0;
        self.ctx.progress(self.count, None, Some(&cut(message, MAX_MESSAGE_CHARS))).await;
        if let Some(line) = line {
            self.ctx.log(LogLevel::Info, Some("hf_jobs"), json!({ "job_id": self.job_id, "line": line })).await;
        }
    }
}

/// Follow the logs of `job_id` for up to `wait`, keeping the last `tail` lines.
#[allow(clippy::too_many_arguments)]
pub async fn follow(
    client: &HubClient,
    token: &str,
    namespace: &str,
    job_id: &str,
    tail: usize,
    wait: Duration,
    redactor: &Redactor,
    ctx: &Ctx,
) -> Result<Followed, HubError> {
    let deadline = Instant::now() + wait;
    let mut relay = Relay { ctx, job_id, count: 0.0 };
    relay.say(&format!("Following logs for job {job_id}."), None).await;
    // A grace second over `wait` for the exchange itself; reading stops at the deadline.
    let mut resp = client.jobs_log_stream(token, namespace, job_id, None, wait + Duration::from_secs(1)).await?;
    let cancelled = ctx.cancelled();
    let mut kept: VecDeque<String> = VecDeque::with_capacity(tail.min(1024));
    let mut out = Followed::default();
    let mut pending: Vec<u8> = Vec::new();
    loop {
        let chunk = tokio::select! {
            c = tokio::time::timeout_at(deadline, resp.chunk()) => c,
            _ = cancelled.cancelled() => break,
        };
        let bytes = match chunk {
            Err(_) => {
                out.truncated = true;
                break;
            }
            Ok(Ok(Some(b))) => b,
            Ok(Ok(None)) => {
                out.finished = true;
                break;
            }
            // The reqwest deadline (wait + grace) ends the body with a timeout error.
            Ok(Err(e)) if e.is_timeout() => {
                out.truncated = true;
                break;
            }
            Ok(Err(_)) => break,
        };
        pending.extend_from_slice(&bytes);
        while let Some(nl) = pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = pending.drain(..=nl).collect();
            let line = String::from_utf8_lossy(&line);
            let Some(data) = line.trim_end().strip_prefix("data: ") else { continue };
            let Ok(event) = serde_json::from_str::<Event>(data) else { continue };
            if event.data.starts_with("===== Job started") {
                relay.say("Job started.", None).await;
                continue;
            }
            let text = cut(&redactor.redact(&event.data), MAX_LINE_CHARS);
            let last = text.trim_end().lines().rfind(|l| !l.is_empty()).unwrap_or("").to_owned();
            relay.say(&format!("job: {last}"), Some(&text)).await;
            if tail > 0 {
                if kept.len() == tail {
                    kept.pop_front();
                }
                kept.push_back(text);
            }
        }
        if pending.len() > MAX_PENDING {
            pending.clear();
        }
    }
    let mut chars: usize = kept.iter().map(|l| l.chars().count() + 1).sum();
    while chars > MAX_TAIL_CHARS {
        let Some(first) = kept.pop_front() else { break };
        chars -= first.chars().count() + 1;
    }
    out.lines = kept.into();
    Ok(out)
}
