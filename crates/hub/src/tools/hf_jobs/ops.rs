//! The operations of `hf_jobs`, each a few Jobs API calls and a result in upstream's shape.
//! `cancel` and `scheduled delete` look the target up first (a missing one is an error
//! without a question) and then ask the user to confirm ([`confirm_destructive`]).

use mcp_engine::provider::ToolOutput;
use mcp_engine::{CallError, Ctx};
use reqwest::Method;
use serde_json::{json, Map, Value};

use super::args::{self, CancelArgs, InspectArgs, JobIds, LogsArgs, PsArgs, RunArgs, Schedule, ScheduledJobArgs};
use super::args::{ScheduledPsArgs, UvArgs};
use super::logs::{follow, Followed};
use super::output::{self, error, respond, Redactor};
use super::{spec, JobsConfig};
use crate::client::{HubClient, HubError, Service};
use crate::tools::confirm::{confirm_destructive, Confirmation};

/// Jobs listed in one result at most.
const MAX_LISTED: usize = 100;
/// Jobs one `inspect` looks up at most.
const MAX_INSPECT: usize = 20;
/// Log lines a `run` returns (upstream's figure).
const RUN_TAIL: usize = 20;

/// One call of the tool: the Hub client, the caller's token and the request context.
pub struct Call<'a> {
    pub client: &'a HubClient,
    pub config: &'a JobsConfig,
    pub token: &'a str,
    pub ctx: Ctx,
    pub op: &'static str,
}

fn valid_namespace(ns: &str) -> bool {
    !ns.is_empty() && ns.len() <= 96 && ns.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn is_write(op: &str) -> bool {
    !matches!(op, "ps" | "logs" | "inspect" | "scheduled ps" | "scheduled inspect")
}

fn is_terminal(stage: &str) -> bool {
    matches!(stage, "COMPLETED" | "ERROR" | "CANCELED" | "DELETED")
}

impl Call<'_> {
    fn redactor(&self) -> Redactor {
        Redactor::new(self.token)
    }

    fn web_base(&self) -> String {
        self.client.web_base()
    }

    /// A failed Hub call as the model should see it: what went wrong and what to do.
    pub fn failure(&self, e: &HubError) -> ToolOutput {
        let r = self.redactor();
        let server = e.server_message().map(|m| format!(" (Hub: {})", r.redact(m))).unwrap_or_default();
        let message = match e.status() {
            Some(403) if is_write(self.op) => format!(
                "Error executing {}: your Hugging Face token lacks the write scope this needs — a classic token \
                 with the 'write' role, or a fine-grained token with 'job.write' on the namespace. Create one at \
                 https://huggingface.co/settings/tokens.{server}",
                self.op
            ),
            Some(403) => format!(
                "Error executing {}: your Hugging Face token has no access to this namespace's jobs (fine-grained \
                 tokens need 'job.read' or 'job.write' on it).{server}",
                self.op
            ),
            _ => format!("Error executing {}: {}", self.op, r.redact(e.message())),
        };
        error(Some(self.op), "execution", message)
    }

    async fn namespace(&self, given: Option<&str>) -> Result<String, ToolOutput> {
        if let Some(ns) = given.map(str::trim).filter(|n| !n.is_empty()) {
            if !valid_namespace(ns) {
                return Err(error(
                    Some(self.op),
                    "validation",
                    args::invalid(self.op, &format!("namespace: invalid name \"{ns}\"")),
                ));
            }
            return Ok(ns.to_owned());
        }
        match self.client.get_json(Some(self.token), Service::Hub, "/api/whoami-v2", &[]).await {
            Ok(v) => v["name"].as_str().map(str::to_owned).ok_or_else(|| {
                error(Some(self.op), "execution", "Could not determine your namespace from whoami.".into())
            }),
            Err(e) => Err(self.failure(&e)),
        }
    }

    async fn api(&self, method: Method, segs: &[&str], body: Option<&Value>, what: &str) -> Result<Value, HubError> {
        self.client.jobs_call(self.token, method, segs, &[], body, what).await
    }

    pub async fn run(&mut self, a: RunArgs) -> Result<ToolOutput, CallError> {
        Ok(self.run_inner(a).await.unwrap_or_else(|e| e))
    }

    async fn run_inner(&mut self, a: RunArgs) -> Result<ToolOutput, ToolOutput> {
        let spec = spec::job_spec(&a, self.token).map_err(|m| error(Some(self.op), "validation", m))?;
        let mut r = self.redactor();
        r.add_map(spec.get("environment"));
        r.add_map(spec.get("secrets"));
        self.ctx.progress(0.0, None, Some("Submitting job.")).await;
        let ns = self.namespace(a.namespace.as_deref()).await?;
        let body = Value::Object(spec);
        let info = self
            .api(Method::POST, &["jobs", &ns], Some(&body), &format!("jobs of namespace '{ns}'"))
            .await
            .map_err(|e| self.failure(&e))?;
        let id = info["id"].as_str().unwrap_or_default().to_owned();
        let owner = info["owner"]["name"].as_str().unwrap_or(&ns).to_owned();
        let mut job = output::job(&info, &self.web_base(), &r);
        let url = job["url"].as_str().unwrap_or_default().to_owned();
        let stage = job["status"]["stage"].as_str().unwrap_or_default().to_owned();
        if a.detach {
            let md = format!(
                "Job started successfully!\n\n**Job ID:** {id}\n**Status:** {stage}\n**View at:** {url}\n\nTo check \
                 logs, call this tool with `{{\"operation\": \"logs\", \"args\": {{\"job_id\": \"{id}\"}}}}`\nTo \
                 inspect, call this tool with `{{\"operation\": \"inspect\", \"args\": {{\"job_id\": \"{id}\"}}}}`"
            );
            return Ok(respond(Some(self.op), md, json!({ "kind": "job", "job": job }), 1, 1));
        }
        let wait = self.config.log_wait;
        let followed = match follow(self.client, self.token, &owner, &id, RUN_TAIL, wait, &r, &self.ctx).await {
            Ok(f) => f,
            Err(e) => {
                let logs_error = r.redact(e.message());
                let md =
                    format!("Job started: {id}\n\nCould not collect logs: {logs_error}\n\nView job details: {url}");
                return Ok(respond(
                    Some(self.op),
                    md,
                    json!({ "kind": "job", "job": job, "logs_error": logs_error }),
                    1,
                    1,
                ));
            }
        };
        let mut followed = followed;
        if followed.finished {
            // The stream ended: report the job's final state (a stream cut short is not an end).
            if let Ok(latest) = self.api(Method::GET, &["jobs", &owner, &id], None, &format!("job '{id}'")).await {
                job = output::job(&latest, &self.web_base(), &r);
                followed.finished = is_terminal(job["status"]["stage"].as_str().unwrap_or_default());
            }
        }
        let mut md = format!("Job started: {id}\n\n");
        if !followed.lines.is_empty() {
            md.push_str(&format!("**Logs (last {RUN_TAIL} lines):**\n```\n{}\n```\n\n", followed.lines.join("\n")));
        }
        let final_stage = job["status"]["stage"].as_str().unwrap_or_default();
        if followed.finished {
            md.push_str(&format!("Job finished with status {final_stage}. Full details: {url}"));
        } else if followed.truncated {
            md.push_str(&format!(
                "Log collection stopped after {}s. Job may still be running.\nView full logs: {url}",
                wait.as_secs()
            ));
        }
        let outcome = json!({ "kind": "job", "job": job, "logs": followed.lines, "logs_finished": followed.finished,
            "logs_truncated": followed.truncated });
        Ok(respond(Some(self.op), md, outcome, 1, 1))
    }

    pub async fn uv(&mut self, a: UvArgs) -> Result<ToolOutput, CallError> {
        let command = spec::uv_command(&a);
        self.run(a.into_run(command)).await
    }

    pub async fn ps(&mut self, a: PsArgs) -> ToolOutput {
        let ns = match self.namespace(a.namespace.as_deref()).await {
            Ok(ns) => ns,
            Err(out) => return out,
        };
        let all = match self.api(Method::GET, &["jobs", &ns], None, &format!("jobs of namespace '{ns}'")).await {
            Ok(Value::Array(a)) => a,
            Ok(_) => return self.failure(&HubError::invalid_response("expected a JSON array")),
            Err(e) => return self.failure(&e),
        };
        let status = a.status.as_deref().map(str::to_ascii_uppercase);
        let r = self.redactor();
        let jobs: Vec<Value> = all
            .iter()
            // Queued jobs count as running (upstream predates the SCHEDULING stage).
            .filter(|j| a.all || matches!(j["status"]["stage"].as_str(), Some("RUNNING" | "SCHEDULING")))
            .filter(|j| status.as_deref().is_none_or(|s| j["status"]["stage"].as_str().unwrap_or("").contains(s)))
            .take(MAX_LISTED)
            .map(|j| output::job(j, &self.web_base(), &r))
            .collect();
        let total = all.len();
        if jobs.is_empty() {
            let md = if a.all {
                "No jobs found.".to_owned()
            } else {
                "No running jobs found. Use `{\"args\": {\"all\": true}}` to show all jobs.".to_owned()
            };
            return respond(Some(self.op), md, json!({ "kind": "jobs", "jobs": [], "total_jobs": total }), total, 0);
        }
        let md = format!("**Jobs ({} of {total} total):**\n\n{}", jobs.len(), output::jobs_table(&jobs));
        let shared = jobs.len();
        respond(Some(self.op), md, json!({ "kind": "jobs", "jobs": jobs, "total_jobs": total }), total, shared)
    }

    pub async fn logs(&mut self, a: LogsArgs) -> ToolOutput {
        let ns = match self.namespace(a.namespace.as_deref()).await {
            Ok(ns) => ns,
            Err(out) => return out,
        };
        let id = a.job_id.trim();
        // The job's record first: a missing job is an error, and its environment values
        // are redacted from the lines.
        let info = match self.api(Method::GET, &["jobs", &ns, id], None, &format!("job '{id}'")).await {
            Ok(v) => v,
            Err(e) => return self.failure(&e),
        };
        let mut r = self.redactor();
        r.add_map(info.get("environment"));
        r.add_map(info.get("secrets"));
        let tail = (a.tail.max(1.0) as usize).min(self.config.max_tail);
        let mut f: Followed =
            match follow(self.client, self.token, &ns, id, tail, self.config.log_wait, &r, &self.ctx).await {
                Ok(f) => f,
                Err(e) => return self.failure(&e),
            };
        if f.finished && !is_terminal(info["status"]["stage"].as_str().unwrap_or_default()) {
            // It was going when we looked: a stream cut short is not an end.
            if let Ok(latest) = self.api(Method::GET, &["jobs", &ns, id], None, &format!("job '{id}'")).await {
                f.finished = is_terminal(latest["status"]["stage"].as_str().unwrap_or_default());
            }
        }
        let outcome = json!({ "kind": "logs", "job_id": id, "lines": f.lines, "finished": f.finished,
            "truncated": f.truncated });
        if f.lines.is_empty() {
            return respond(Some(self.op), format!("No logs available for job {id}"), outcome, 0, 0);
        }
        let mut md = format!("**Logs for job {id}** (last {tail} lines):\n\n```\n{}\n```", f.lines.join("\n"));
        if f.finished {
            md.push_str("\n\n✓ Job finished.");
        } else if f.truncated {
            md.push_str(&format!(
                "\n\n⚠ Log collection stopped after {} seconds. Job may still be running.",
                self.config.log_wait.as_secs()
            ));
        }
        let n = f.lines.len();
        respond(Some(self.op), md, outcome, n, n)
    }

    pub async fn inspect(&mut self, a: InspectArgs) -> ToolOutput {
        let ns = match self.namespace(a.namespace.as_deref()).await {
            Ok(ns) => ns,
            Err(out) => return out,
        };
        let ids: Vec<String> = match a.job_id {
            JobIds::One(id) => vec![id],
            JobIds::Many(ids) => ids,
        };
        if ids.is_empty() || ids.len() > MAX_INSPECT {
            let m = args::invalid(self.op, &format!("job_id: give 1 to {MAX_INSPECT} job IDs"));
            return error(Some(self.op), "validation", m);
        }
        let r = self.redactor();
        let (this, ns, r, web) = (&*self, ns.as_str(), &r, self.web_base());
        let web = web.as_str();
        let lookups = ids.iter().map(|id| async move {
            let id = id.trim();
            match this.api(Method::GET, &["jobs", ns, id], None, &format!("job '{id}'")).await {
                Ok(info) => json!({ "job_id": id, "status": "success", "job": output::job(&info, web, r) }),
                Err(e) => json!({ "job_id": id, "status": "error",
                    "message": format!("Failed to fetch job {id}: {}", r.redact(e.message())) }),
            }
        });
        let inspections = futures_util::future::join_all(lookups).await;
        let ok: Vec<&Value> = inspections.iter().filter(|i| i["status"] == "success").map(|i| &i["job"]).collect();
        let errors: Vec<String> =
            inspections.iter().filter_map(|i| i["message"].as_str().map(|m| format!("- {m}"))).collect();
        let mut sections = Vec::new();
        if !ok.is_empty() {
            let details: Vec<String> = ok.iter().map(|j| output::job_details(j)).collect();
            let plural = if ok.len() > 1 { "s" } else { "" };
            sections.push(format!("**Job Details** ({} job{plural}):\n\n{}", ok.len(), details.join("\n")));
        }
        if !errors.is_empty() {
            sections.push(format!("**Errors:**\n{}", errors.join("\n")));
        }
        let shared = ok.len();
        let outcome = json!({ "kind": "inspections", "requested_job_ids": ids, "inspections": inspections });
        let mut out = respond(Some(self.op), sections.join("\n\n"), outcome, ids.len(), shared);
        if shared == 0 {
            if let ToolOutput::Result(o) = &mut out {
                o.insert("isError".into(), Value::Bool(true));
            }
        }
        out
    }

    /// The answer when the user did not confirm.
    fn not_confirmed(&self, id: &str, answer: Confirmation, what: &str) -> ToolOutput {
        let reason = if answer == Confirmation::Declined { "declined" } else { "cancelled" };
        respond(
            Some(self.op),
            format!("The user {reason} the confirmation; {what} {id} was left as it was."),
            json!({ "kind": "not_confirmed", "resource_id": id, "reason": reason }),
            0,
            0,
        )
    }

    pub async fn cancel(&mut self, a: CancelArgs) -> Result<ToolOutput, CallError> {
        let ns = match self.namespace(a.namespace.as_deref()).await {
            Ok(ns) => ns,
            Err(out) => return Ok(out),
        };
        let id = a.job_id.trim();
        let info = match self.api(Method::GET, &["jobs", &ns, id], None, &format!("job '{id}'")).await {
            Ok(v) => v,
            Err(e) => return Ok(self.failure(&e)),
        };
        let stage = info["status"]["stage"].as_str().unwrap_or_default();
        if is_terminal(stage) {
            let job = output::job(&info, &self.web_base(), &self.redactor());
            let md = format!("Job {id} has already finished ({stage}); there is nothing to cancel.");
            return Ok(respond(Some(self.op), md, json!({ "kind": "job", "job": job }), 1, 1));
        }
        let action = format!("Cancel the job {id} in '{ns}' (status {stage})? It stops at once and its run is lost.");
        let answer = confirm_destructive(&mut self.ctx, self.config.confirm_destructive, &action).await?;
        if !matches!(answer, Confirmation::Accepted | Confirmation::NotAsked) {
            return Ok(self.not_confirmed(id, answer, "job"));
        }
        if let Err(e) = self.api(Method::POST, &["jobs", &ns, id, "cancel"], None, &format!("job '{id}'")).await {
            return Ok(self.failure(&e));
        }
        let md = format!(
            "✓ Job {id} has been cancelled.\n\nTo verify, call this tool with `{{\"operation\": \"inspect\", \"args\": \
             {{\"job_id\": \"{id}\"}}}}`"
        );
        let outcome = json!({ "kind": "acknowledgement", "resource_id": id, "action": "canceled", "message": md });
        Ok(respond(Some(self.op), md, outcome, 1, 1))
    }

    pub async fn scheduled_create(&mut self, run: RunArgs, schedule: Schedule) -> ToolOutput {
        let spec = match spec::job_spec(&run, self.token) {
            Ok(s) => s,
            Err(m) => return error(Some(self.op), "validation", m),
        };
        let mut r = self.redactor();
        r.add_map(spec.get("environment"));
        r.add_map(spec.get("secrets"));
        let ns = match self.namespace(run.namespace.as_deref()).await {
            Ok(ns) => ns,
            Err(out) => return out,
        };
        let body = json!({ "schedule": schedule.schedule.trim(), "suspend": schedule.suspend, "jobSpec": Value::Object(spec) });
        let info = match self
            .api(Method::POST, &["scheduled-jobs", &ns], Some(&body), &format!("scheduled jobs of '{ns}'"))
            .await
        {
            Ok(v) => v,
            Err(e) => return self.failure(&e),
        };
        let s = output::scheduled(&info, &r);
        let id = s["id"].as_str().unwrap_or_default();
        let md = format!(
            "✓ Scheduled job created successfully!\n\n**Scheduled Job ID:** {id}\n**Schedule:** {}\n**Suspended:** \
             {}\n**Next Run:** {}\n\nTo inspect, call this tool with `{{\"operation\": \"scheduled inspect\", \
             \"args\": {{\"scheduled_job_id\": \"{id}\"}}}}`\nTo list all, call this tool with `{{\"operation\": \
             \"scheduled ps\"}}`",
            s["schedule"].as_str().unwrap_or_default(),
            if s["suspended"] == true { "Yes" } else { "No" },
            s["next_run"].as_str().unwrap_or("N/A")
        );
        respond(Some(self.op), md, json!({ "kind": "scheduled_job", "scheduled_job": s }), 1, 1)
    }

    pub async fn scheduled_ps(&mut self, a: ScheduledPsArgs) -> ToolOutput {
        let ns = match self.namespace(a.namespace.as_deref()).await {
            Ok(ns) => ns,
            Err(out) => return out,
        };
        let all =
            match self.api(Method::GET, &["scheduled-jobs", &ns], None, &format!("scheduled jobs of '{ns}'")).await {
                Ok(Value::Array(a)) => a,
                Ok(_) => return self.failure(&HubError::invalid_response("expected a JSON array")),
                Err(e) => return self.failure(&e),
            };
        let r = self.redactor();
        let items: Vec<Value> = all
            .iter()
            .filter(|s| a.all || s["suspend"] != true)
            .take(MAX_LISTED)
            .map(|s| output::scheduled(s, &r))
            .collect();
        let total = all.len();
        let outcome = json!({ "kind": "scheduled_jobs", "scheduled_jobs": items, "total_scheduled_jobs": total });
        if items.is_empty() {
            let md = if a.all {
                "No scheduled jobs found.".to_owned()
            } else {
                "No active scheduled jobs found. Use `{\"args\": {\"all\": true}}` to show suspended jobs.".to_owned()
            };
            return respond(Some(self.op), md, outcome, total, 0);
        }
        let md =
            format!("**Scheduled Jobs ({} of {total} total):**\n\n{}", items.len(), output::scheduled_table(&items));
        let shared = items.len();
        respond(Some(self.op), md, outcome, total, shared)
    }

    async fn scheduled_get(&self, ns: &str, id: &str) -> Result<Value, HubError> {
        self.api(Method::GET, &["scheduled-jobs", ns, id], None, &format!("scheduled job '{id}'")).await
    }

    pub async fn scheduled_one(&mut self, a: ScheduledJobArgs) -> Result<ToolOutput, CallError> {
        let ns = match self.namespace(a.namespace.as_deref()).await {
            Ok(ns) => ns,
            Err(out) => return Ok(out),
        };
        let id = a.scheduled_job_id.trim();
        let r = self.redactor();
        let info = match self.scheduled_get(&ns, id).await {
            Ok(v) => v,
            Err(e) => return Ok(self.failure(&e)),
        };
        let ack = |action: &str, md: String| {
            let outcome = json!({ "kind": "acknowledgement", "resource_id": id, "action": action, "message": md });
            respond(Some(self.op), md, outcome, 1, 1)
        };
        match self.op {
            "scheduled inspect" => {
                let s = output::scheduled(&info, &r);
                let md = format!(
                    "**Scheduled Job Details:**\n\n- **ID:** {id}\n- **Schedule:** {}\n- **Suspended:** {}\n- **Next \
                     Run:** {}\n- **Last Run:** {}\n- **Image:** {}\n- **Flavor:** {}\n",
                    s["schedule"].as_str().unwrap_or_default(),
                    if s["suspended"] == true { "Yes" } else { "No" },
                    s["next_run"].as_str().unwrap_or("N/A"),
                    s["last_run"].as_str().unwrap_or("N/A"),
                    s["job_spec"]["docker_image"]
                        .as_str()
                        .or_else(|| s["job_spec"]["space_id"].as_str())
                        .unwrap_or("-"),
                    s["job_spec"]["flavor"].as_str().unwrap_or_default()
                );
                Ok(respond(Some(self.op), md, json!({ "kind": "scheduled_job", "scheduled_job": s }), 1, 1))
            }
            "scheduled delete" => {
                let schedule = info["schedule"].as_str().unwrap_or_default();
                let action =
                    format!("Delete the scheduled job {id} ({schedule}) in '{ns}'? Its future runs are removed.");
                let answer = confirm_destructive(&mut self.ctx, self.config.confirm_destructive, &action).await?;
                if !matches!(answer, Confirmation::Accepted | Confirmation::NotAsked) {
                    return Ok(self.not_confirmed(id, answer, "scheduled job"));
                }
                if let Err(e) =
                    self.api(Method::DELETE, &["scheduled-jobs", &ns, id], None, &format!("scheduled job '{id}'")).await
                {
                    return Ok(self.failure(&e));
                }
                Ok(ack("deleted", format!("✓ Scheduled job {id} has been deleted.")))
            }
            op => {
                let (verb, action) =
                    if op == "scheduled suspend" { ("suspend", "suspended") } else { ("resume", "resumed") };
                if let Err(e) = self
                    .api(Method::POST, &["scheduled-jobs", &ns, id, verb], None, &format!("scheduled job '{id}'"))
                    .await
                {
                    return Ok(self.failure(&e));
                }
                Ok(ack(action, format!("✓ Scheduled job {id} has been {action}.")))
            }
        }
    }
}

/// `scheduled run` / `scheduled uv` arguments: the run (or uv) fields plus the schedule.
pub fn split_schedule(mut raw: Map<String, Value>) -> (Map<String, Value>, Map<String, Value>) {
    let mut sched = Map::new();
    for k in ["schedule", "suspend"] {
        if let Some(v) = raw.remove(k) {
            sched.insert(k.into(), v);
        }
    }
    raw.remove("detach");
    (raw, sched)
}
