//! `GET /api/jobs/{namespace}/{id}/logs`: the job's log as Server-Sent Events, one
//! `data: {"data": line, "timestamp": …}` per line, sent as the lines appear and ended when
//! the job has stopped (what `huggingface_hub.fetch_job_logs` and hf-mcp-server read).
//! `?tail=N` starts from the last N lines available at connection time.

use std::time::Duration;

use axum::body::Body;
use axum::http::header;
use axum::response::Response;
use futures_util::stream;
use serde_json::json;

use super::{finished_offset, stage_at, timestamp, Jobs, QUEUED};

/// How often a stream looks for new lines.
const POLL: Duration = Duration::from_millis(10);
/// A stream ends after this long whatever the job does.
const MAX_STREAM: Duration = Duration::from_secs(15 * 60);

/// The lines available now (the start banner first) and whether the job has stopped.
fn snapshot(jobs: &Jobs, ns: &str, id: &str) -> Option<(Vec<String>, bool)> {
    let st = jobs.lock();
    let job = st.jobs.iter().find(|j| j.namespace == ns && j.id == id)?;
    let t = job.created.elapsed();
    let until = finished_offset(job, t).unwrap_or(t);
    let mut events = Vec::new();
    let event =
        |at: Duration, line: &str| json!({ "data": line, "timestamp": timestamp(job.created_at + at) }).to_string();
    if until >= QUEUED {
        let started = timestamp(job.created_at + QUEUED);
        events.push(event(QUEUED, &format!("===== Job started at {started} =====")));
    }
    for (at, line) in job.plan.lines.iter().filter(|(at, _)| *at <= until) {
        events.push(event(*at, line));
    }
    Some((events, super::is_terminal(stage_at(job, t).0)))
}

struct Cursor {
    jobs: Jobs,
    ns: String,
    id: String,
    sent: usize,
    started: tokio::time::Instant,
    done: bool,
}

pub(super) fn stream(jobs: Jobs, ns: String, id: String, tail: Option<usize>) -> Response {
    let sent = match (tail, snapshot(&jobs, &ns, &id)) {
        (Some(n), Some((lines, _))) => lines.len().saturating_sub(n),
        _ => 0,
    };
    let cursor = Cursor { jobs, ns, id, sent, started: tokio::time::Instant::now(), done: false };
    let body = stream::unfold(cursor, |mut c| async move {
        loop {
            if c.done {
                return None;
            }
            let (lines, stopped) = snapshot(&c.jobs, &c.ns, &c.id)?;
            if c.sent < lines.len() {
                let chunk: String = lines[c.sent..].iter().map(|l| format!("data: {l}\n\n")).collect();
                c.sent = lines.len();
                c.done = stopped;
                return Some((Ok::<_, std::io::Error>(chunk), c));
            }
            if stopped || c.started.elapsed() > MAX_STREAM {
                return None;
            }
            tokio::time::sleep(POLL).await;
        }
    });
    Response::builder()
        .header(header::CONTENT_TYPE, "text/event-stream")
        .header(header::CACHE_CONTROL, "no-cache")
        .body(Body::from_stream(body))
        .expect("valid response")
}
