//! Hugging Face Jobs, in memory: `/api/jobs/{namespace}` (run, list), `…/{id}` (inspect),
//! `…/{id}/logs` (SSE), `…/{id}/cancel`, and the scheduled jobs of [`scheduled`] — in the
//! shapes `huggingface_hub` and hf-mcp-server read (`JobInfo`, `ScheduledJobInfo`).
//!
//! A job's life is computed from the clock, not driven by a background task: its command
//! becomes a timeline ([`simulate`]) at creation, and every read derives the stage
//! (SCHEDULING → RUNNING → COMPLETED | ERROR, or CANCELED when cancelled first) and the log
//! lines so far from the time elapsed. Jobs vanish with the stand-in.
//!
//! Access: a known token is needed (401 otherwise), the namespace must be the caller's own
//! or one of their organisations (403), and anything that changes a job or a schedule needs
//! write scope — decided in one place, [`token_may_write`].

mod logs;
mod scheduled;
mod simulate;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{json, Map, Value};
use time::OffsetDateTime;

use crate::catalogue::{TokenRec, User};
use crate::util::{bad_request, hub_error, not_found_route, ok_json};
use crate::{Caller, Ctx};
use simulate::{Outcome, Plan, QUEUED};

/// Largest request body accepted (a job spec with an inline script).
const MAX_BODY: usize = 1024 * 1024;
/// Jobs kept per stand-in (oldest dropped first).
const MAX_JOBS: usize = 10_000;

/// Hardware flavours a job may ask for (huggingface_hub's `JobHardware`).
pub(crate) const FLAVORS: &[&str] = &[
    "cpu-basic",
    "cpu-upgrade",
    "cpu-performance",
    "cpu-xl",
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
    "inf2x6",
    "rtx-pro-6000",
    "rtx-pro-6000x2",
    "rtx-pro-6000x4",
    "rtx-pro-6000x8",
];

/// The jobs and schedules of one stand-in. Cheap to clone (log streams hold a clone).
#[derive(Clone, Default)]
pub(crate) struct Jobs {
    state: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    jobs: Vec<Job>,
    scheduled: Vec<scheduled::Scheduled>,
    counter: u64,
}

impl State {
    /// A fresh 24-hex-digit id, like the Hub's object ids.
    fn next_id(&mut self) -> String {
        self.counter += 1;
        let secs = OffsetDateTime::now_utc().unix_timestamp() as u32;
        format!("{secs:08x}{:016x}", self.counter)
    }
}

struct Job {
    id: String,
    namespace: String,
    owner: Value,
    initiator: Value,
    /// The spec as posted (secret values stay here; they are never rendered).
    spec: Map<String, Value>,
    created: Instant,
    created_at: OffsetDateTime,
    plan: Plan,
    /// Offset at which it was cancelled while still going.
    canceled: Option<Duration>,
}

/// A job's stage at `t` after its creation, with its message.
fn stage_at(job: &Job, t: Duration) -> (&'static str, Option<String>) {
    if job.canceled.is_some_and(|c| t >= c) {
        return ("CANCELED", None);
    }
    if t < QUEUED {
        ("SCHEDULING", None)
    } else if t < job.plan.end {
        ("RUNNING", None)
    } else {
        match &job.plan.outcome {
            Outcome::Completed => ("COMPLETED", None),
            Outcome::Error(m) => ("ERROR", Some(m.clone())),
        }
    }
}

/// The moment the job stopped (cancel or end), if it has.
fn finished_offset(job: &Job, t: Duration) -> Option<Duration> {
    match job.canceled {
        Some(c) if t >= c => Some(c),
        _ => (t >= job.plan.end).then_some(job.plan.end),
    }
}

fn is_terminal(stage: &str) -> bool {
    matches!(stage, "COMPLETED" | "ERROR" | "CANCELED" | "DELETED")
}

/// RFC 3339 with milliseconds and `Z`, the Hub's timestamp format.
pub(crate) fn timestamp(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// The `JobInfo` document: environment values shown (as the Hub does), secret values never.
fn render(job: &Job) -> Value {
    let t = job.created.elapsed();
    let (stage, message) = stage_at(job, t);
    let mut o = Map::new();
    o.insert("id".into(), job.id.clone().into());
    o.insert("createdAt".into(), timestamp(job.created_at).into());
    if t >= QUEUED && job.canceled.is_none_or(|c| c >= QUEUED) {
        o.insert("startedAt".into(), timestamp(job.created_at + QUEUED).into());
    }
    if let Some(f) = finished_offset(job, t) {
        o.insert("finishedAt".into(), timestamp(job.created_at + f).into());
    }
    for key in ["dockerImage", "spaceId", "command", "arguments", "environment", "flavor", "labels", "volumes"] {
        if let Some(v) = job.spec.get(key) {
            o.insert(key.into(), v.clone());
        }
    }
    let secrets: Map<String, Value> = job
        .spec
        .get("secrets")
        .and_then(Value::as_object)
        .map(|s| s.keys().map(|k| (k.clone(), Value::Null)).collect())
        .unwrap_or_default();
    o.insert("secrets".into(), Value::Object(secrets));
    if let Some(timeout) = job.spec.get("timeoutSeconds") {
        o.insert("timeout".into(), timeout.clone());
    }
    o.insert("status".into(), json!({ "stage": stage, "message": message }));
    let running = finished_offset(job, t).unwrap_or(t).saturating_sub(QUEUED).as_secs();
    o.insert(
        "durations".into(),
        json!({ "schedulingSecs": QUEUED.as_secs(), "runningSecs": running, "totalSecs": t.as_secs() }),
    );
    o.insert("owner".into(), job.owner.clone());
    o.insert("initiator".into(), job.initiator.clone());
    Value::Object(o)
}

/// Whether a request path belongs here.
pub(crate) fn is_jobs_path(path: &str) -> bool {
    path.starts_with("/api/jobs/") || path.starts_with("/api/scheduled-jobs/")
}

/// Whether `token` may create, cancel or delete jobs and schedules in `namespace` — the one
/// place the stand-in decides write scope: classic `write` tokens may, `read` tokens may
/// not, fine-grained tokens need `job.write` globally or scoped to that namespace.
pub(crate) fn token_may_write(token: &TokenRec, namespace: &str) -> bool {
    let access = &token.auth["accessToken"];
    match access["role"].as_str() {
        Some("write") => true,
        Some("fineGrained") => {
            let grants = |perms: &Value| perms.as_array().is_some_and(|p| p.iter().any(|x| x == "job.write"));
            let fg = &access["fineGrained"];
            grants(&fg["global"])
                || fg["scoped"].as_array().is_some_and(|s| {
                    s.iter().any(|e| e["entity"]["name"].as_str() == Some(namespace) && grants(&e["permissions"]))
                })
        }
        _ => false,
    }
}

/// The owner document of `namespace` if the user may use it (themselves or an organisation).
fn namespace_owner(user: &User, namespace: &str) -> Option<Value> {
    let w = &user.whoami;
    if user.name == namespace {
        return Some(json!({ "id": w.get("id"), "name": user.name, "type": "user" }));
    }
    let orgs = w.get("orgs")?.as_array()?;
    let org = orgs.iter().find(|o| o["name"].as_str() == Some(namespace))?;
    Some(json!({ "id": org["id"], "name": namespace, "type": "org" }))
}

/// Who may touch `namespace`, and whether they may change things there.
struct Access {
    user: &'static User,
    owner: Value,
    may_write: bool,
}

fn access(ctx: &Ctx<'_>, namespace: &str) -> Result<Access, Response> {
    let (user, token) = match ctx.caller {
        Caller::User(u, t) => (u, t),
        _ => return Err(hub_error(StatusCode::UNAUTHORIZED, None, "Invalid credentials in Authorization header")),
    };
    let Some(owner) = namespace_owner(user, namespace) else {
        return Err(hub_error(
            StatusCode::FORBIDDEN,
            None,
            &format!("You don't have access to the jobs of namespace '{namespace}'"),
        ));
    };
    Ok(Access { user, owner, may_write: token_may_write(token, namespace) })
}

fn needs_write(a: &Access, namespace: &str) -> Result<(), Response> {
    if a.may_write {
        return Ok(());
    }
    Err(hub_error(
        StatusCode::FORBIDDEN,
        Some("InsufficientScope"),
        &format!(
            "This token is read-only: running or changing jobs in '{namespace}' needs a token with write access \
             (fine-grained: 'job.write')"
        ),
    ))
}

type Answer = Result<Response, Response>;

/// Route a jobs request (the path already matched [`is_jobs_path`]).
pub(crate) fn handle(jobs: &Jobs, ctx: &Ctx<'_>) -> Response {
    if ctx.body.len() > MAX_BODY {
        return hub_error(StatusCode::PAYLOAD_TOO_LARGE, None, "Request body too large");
    }
    let body = &ctx.body;
    let segs: Vec<String> =
        ctx.path.split('/').skip(3).filter(|s| !s.is_empty()).map(crate::util::decode_segment).collect();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    let answer = if ctx.path.starts_with("/api/jobs/") {
        jobs.route(ctx, &segs, body)
    } else {
        jobs.route_scheduled(ctx, &segs, body)
    };
    answer.unwrap_or_else(|e| e)
}

fn parse_body(body: &[u8]) -> Result<Map<String, Value>, Response> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(o)) => Ok(o),
        _ => Err(bad_request("Expected a JSON object body")),
    }
}

impl Jobs {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn route(&self, ctx: &Ctx<'_>, segs: &[&str], body: &[u8]) -> Answer {
        let m = &ctx.method;
        match segs {
            ["hardware"] if m == Method::GET => Ok(ok_json(&hardware())),
            [ns] => {
                let a = access(ctx, ns)?;
                match *m {
                    Method::GET => Ok(self.list(ctx, ns)),
                    Method::POST => {
                        needs_write(&a, ns)?;
                        let spec = validate_spec(parse_body(body)?)?;
                        let initiator = json!({ "type": "user", "id": a.user.whoami.get("id"), "name": a.user.name });
                        let info = self.start(ns, a.owner, initiator, spec);
                        Ok(ok_json(&info))
                    }
                    _ => Ok(not_found_route()),
                }
            }
            [ns, id] if m == Method::GET => {
                access(ctx, ns)?;
                let st = self.lock();
                let job = find(&st, ns, id)?;
                Ok(ok_json(&render(job)))
            }
            [ns, id, "logs"] if m == Method::GET => {
                access(ctx, ns)?;
                let tail = ctx.query.count("tail")?;
                find(&self.lock(), ns, id)?;
                Ok(logs::stream(self.clone(), ns.to_string(), id.to_string(), tail))
            }
            [ns, id, "cancel"] if m == Method::POST => {
                let a = access(ctx, ns)?;
                needs_write(&a, ns)?;
                let mut st = self.lock();
                let job = find_mut(&mut st, ns, id)?;
                let t = job.created.elapsed();
                if !is_terminal(stage_at(job, t).0) {
                    job.canceled = Some(t);
                }
                Ok(ok_json(&json!({})))
            }
            _ => Ok(not_found_route()),
        }
    }

    fn list(&self, ctx: &Ctx<'_>, ns: &str) -> Response {
        let stages: Vec<String> = ctx.query.all("stage", true).into_iter().map(|s| s.to_ascii_uppercase()).collect();
        let labels: Vec<String> = ctx.query.all("label", false);
        let st = self.lock();
        let out: Vec<Value> = st
            .jobs
            .iter()
            .rev()
            .filter(|j| j.namespace == ns)
            .filter(|j| stages.is_empty() || stages.iter().any(|s| s == stage_at(j, j.created.elapsed()).0))
            .filter(|j| {
                labels.iter().all(|l| {
                    let (k, v) = l.split_once('=').unwrap_or((l, ""));
                    j.spec.get("labels").and_then(|ls| ls.get(k)).and_then(Value::as_str) == Some(v)
                })
            })
            .map(render)
            .collect();
        ok_json(&Value::Array(out))
    }

    /// Create and start a job; its `JobInfo`.
    fn start(&self, ns: &str, owner: Value, initiator: Value, spec: Map<String, Value>) -> Value {
        let mut vars = HashMap::new();
        for key in ["environment", "secrets"] {
            if let Some(o) = spec.get(key).and_then(Value::as_object) {
                for (k, v) in o {
                    vars.insert(k.clone(), v.as_str().unwrap_or_default().to_owned());
                }
            }
        }
        let mut argv: Vec<String> = strings(spec.get("command"));
        argv.extend(strings(spec.get("arguments")));
        let timeout =
            spec.get("timeoutSeconds").and_then(Value::as_f64).filter(|t| *t > 0.0).map(Duration::from_secs_f64);
        let plan = simulate::plan(&argv, &vars, timeout);
        let mut st = self.lock();
        let id = st.next_id();
        let job = Job {
            id,
            namespace: ns.to_owned(),
            owner,
            initiator,
            spec,
            created: Instant::now(),
            created_at: OffsetDateTime::now_utc(),
            plan,
            canceled: None,
        };
        let info = render(&job);
        if st.jobs.len() >= MAX_JOBS {
            st.jobs.remove(0);
        }
        st.jobs.push(job);
        info
    }
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default()
}

fn find<'a>(st: &'a State, ns: &str, id: &str) -> Result<&'a Job, Response> {
    st.jobs.iter().find(|j| j.namespace == ns && j.id == id).ok_or_else(job_not_found)
}

fn find_mut<'a>(st: &'a mut State, ns: &str, id: &str) -> Result<&'a mut Job, Response> {
    st.jobs.iter_mut().find(|j| j.namespace == ns && j.id == id).ok_or_else(job_not_found)
}

fn job_not_found() -> Response {
    hub_error(StatusCode::NOT_FOUND, None, "Job not found")
}

/// The Hub's checks of a `JobSpec`: a command, one image source, a known flavour, string
/// maps for environment and secrets, well-formed volumes.
fn validate_spec(spec: Map<String, Value>) -> Result<Map<String, Value>, Response> {
    let cmd = spec.get("command").and_then(Value::as_array);
    if cmd.is_none_or(|c| c.is_empty() || !c.iter().all(Value::is_string)) {
        return Err(bad_request("\"command\" must be a non-empty array of strings"));
    }
    let image = spec.get("dockerImage").or_else(|| spec.get("spaceId")).and_then(Value::as_str);
    if image.is_none_or(str::is_empty) {
        return Err(bad_request("One of \"dockerImage\" or \"spaceId\" is required"));
    }
    let flavor = spec.get("flavor").and_then(Value::as_str).unwrap_or("cpu-basic");
    if !FLAVORS.contains(&flavor) {
        return Err(bad_request(&format!("Invalid flavor '{flavor}'")));
    }
    for key in ["environment", "secrets", "labels"] {
        match spec.get(key) {
            None | Some(Value::Null) => {}
            Some(Value::Object(o)) if o.values().all(Value::is_string) => {}
            Some(_) => return Err(bad_request(&format!("\"{key}\" must be an object of strings"))),
        }
    }
    if let Some(t) = spec.get("timeoutSeconds").filter(|t| !t.is_null()) {
        if t.as_f64().is_none_or(|t| t <= 0.0) {
            return Err(bad_request("\"timeoutSeconds\" must be a positive number"));
        }
    }
    for v in spec.get("volumes").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default() {
        let ty = v["type"].as_str().unwrap_or("");
        let source = v["source"].as_str().unwrap_or("");
        let mount = v["mountPath"].as_str().unwrap_or("");
        if !matches!(ty, "bucket" | "model" | "dataset" | "space")
            || source.split('/').filter(|s| !s.is_empty()).count() != 2
            || !mount.starts_with('/')
            || mount == "/"
        {
            return Err(bad_request(&format!("Invalid volume {v}")));
        }
    }
    Ok(spec)
}

/// `/api/jobs/hardware`: a few flavours in the Hub's shape.
fn hardware() -> Value {
    let cpu = |name: &str, pretty: &str, cpu: &str, ram: &str, cost: u64| {
        json!({ "name": name, "prettyName": pretty, "cpu": cpu, "ram": ram, "ephemeralStorage": "20 GB",
                "accelerator": null, "unitCostMicroUSD": cost, "unitCostUSD": cost as f64 / 1e6, "unitLabel": "minute" })
    };
    let mut t4 = cpu("t4-small", "Nvidia T4 - small", "4 vCPU", "15 GB", 667);
    t4["accelerator"] =
        json!({ "type": "gpu", "model": "T4", "quantity": "1", "vram": "16 GB", "manufacturer": "Nvidia" });
    json!([
        cpu("cpu-basic", "CPU Basic", "2 vCPU", "16 GB", 167),
        cpu("cpu-upgrade", "CPU Upgrade", "8 vCPU", "32 GB", 500),
        t4
    ])
}
