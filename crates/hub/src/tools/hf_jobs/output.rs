//! What `hf_jobs` returns: markdown for the model plus hf-mcp-server's structured output
//! (`{operation, outcome: {kind, …}, total_results, results_shared}`), with every secret
//! value, environment value and the caller's token replaced by `<redacted>` — in job
//! records (which carry only the names of environment variables and secrets), log lines,
//! progress messages and errors alike.

use mcp_engine::provider::ToolOutput;
use serde_json::{json, Map, Value};

use crate::tools::format::escape_md;

/// Values shorter than this are not redacted (a one-letter value would mangle every line).
const MIN_SECRET_LEN: usize = 3;
const REDACTED: &str = "<redacted>";

/// Replaces sensitive values in text.
#[derive(Debug, Default, Clone)]
pub struct Redactor {
    values: Vec<String>,
}

impl Redactor {
    pub fn new(token: &str) -> Self {
        let mut r = Redactor::default();
        r.add(token);
        r
    }

    pub fn add(&mut self, v: &str) {
        if v.len() >= MIN_SECRET_LEN && !self.values.iter().any(|x| x == v) {
            self.values.push(v.to_owned());
            // Longest first, so a value containing another is replaced whole.
            self.values.sort_by_key(|x| std::cmp::Reverse(x.len()));
        }
    }

    /// The string values of an `environment`/`secrets` object.
    pub fn add_map(&mut self, m: Option<&Value>) {
        for v in m.and_then(Value::as_object).into_iter().flat_map(|o| o.values()) {
            if let Some(s) = v.as_str() {
                self.add(s);
            }
        }
    }

    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for v in &self.values {
            if out.contains(v.as_str()) {
                out = out.replace(v.as_str(), REDACTED);
            }
        }
        out
    }

    fn strings(&self, v: Option<&Value>) -> Option<Value> {
        let a = v?.as_array()?;
        Some(a.iter().filter_map(Value::as_str).map(|s| self.redact(s)).collect())
    }
}

fn sorted_names(v: Option<&Value>) -> Value {
    let mut names: Vec<&String> = v.and_then(Value::as_object).map(|o| o.keys().collect()).unwrap_or_default();
    names.sort();
    json!(names)
}

fn owner(v: &Value) -> Value {
    let mut o = json!({ "id": v["id"].as_str().unwrap_or_default(), "name": v["name"].as_str().unwrap_or_default() });
    if let Some(t @ ("user" | "org")) = v["type"].as_str() {
        o["type"] = t.into();
    }
    o
}

/// A `JobInfo` as upstream's job output: names instead of values, everything redacted.
pub fn job(info: &Value, web_base: &str, r: &Redactor) -> Value {
    let mut r = r.clone();
    r.add_map(info.get("environment"));
    r.add_map(info.get("secrets"));
    let id = info["id"].as_str().unwrap_or_default();
    let owner_name = info["owner"]["name"].as_str().unwrap_or_default();
    let mut o = Map::new();
    o.insert("id".into(), id.into());
    o.insert("url".into(), format!("{web_base}/jobs/{owner_name}/{id}").into());
    o.insert("created_at".into(), info["createdAt"].as_str().unwrap_or_default().into());
    if let Some(f) = info["finishedAt"].as_str() {
        o.insert("finished_at".into(), f.into());
    }
    for (from, to) in [("dockerImage", "docker_image"), ("spaceId", "space_id")] {
        if let Some(s) = info[from].as_str() {
            o.insert(to.into(), r.redact(s).into());
        }
    }
    for key in ["command", "arguments"] {
        if let Some(v) = r.strings(info.get(key)) {
            o.insert(key.into(), v);
        }
    }
    o.insert("environment_variable_names".into(), sorted_names(info.get("environment")));
    o.insert("secret_names".into(), sorted_names(info.get("secrets")));
    o.insert("flavor".into(), info["flavor"].as_str().unwrap_or("cpu-basic").into());
    let mut status = json!({ "stage": info["status"]["stage"].as_str().unwrap_or("UNKNOWN") });
    match &info["status"]["message"] {
        Value::String(m) => status["message"] = r.redact(m).into(),
        Value::Null if info["status"].get("message").is_some() => status["message"] = Value::Null,
        _ => {}
    }
    o.insert("status".into(), status);
    o.insert("owner".into(), owner(&info["owner"]));
    if let Some(labels) = info["labels"].as_object() {
        let l: Map<String, Value> =
            labels.iter().map(|(k, v)| (k.clone(), r.redact(v.as_str().unwrap_or_default()).into())).collect();
        o.insert("labels".into(), Value::Object(l));
    }
    if let Some(t) = info["timeout"].as_f64().or_else(|| info["timeoutSeconds"].as_f64()) {
        o.insert("timeout_seconds".into(), t.into());
    }
    Value::Object(o)
}

/// A `ScheduledJobInfo` as upstream's scheduled-job output.
pub fn scheduled(info: &Value, r: &Redactor) -> Value {
    let spec = &info["jobSpec"];
    let mut r = r.clone();
    r.add_map(spec.get("environment"));
    r.add_map(spec.get("secrets"));
    let mut s = Map::new();
    for (from, to) in [("dockerImage", "docker_image"), ("spaceId", "space_id")] {
        if let Some(v) = spec[from].as_str() {
            s.insert(to.into(), r.redact(v).into());
        }
    }
    s.insert("command".into(), r.strings(spec.get("command")).unwrap_or_else(|| json!([])));
    if let Some(a) = r.strings(spec.get("arguments")) {
        s.insert("arguments".into(), a);
    }
    s.insert("environment_variable_names".into(), sorted_names(spec.get("environment")));
    s.insert("secret_names".into(), sorted_names(spec.get("secrets")));
    s.insert("flavor".into(), spec["flavor"].as_str().unwrap_or("cpu-basic").into());
    if let Some(t) = spec["timeoutSeconds"].as_f64() {
        s.insert("timeout_seconds".into(), t.into());
    }
    if let Some(vols) = spec["volumes"].as_array() {
        let v: Vec<Value> = vols
            .iter()
            .map(|v| {
                let mut o = json!({ "type": v["type"], "source": v["source"], "mount_path": v["mountPath"] });
                for (from, to) in [("revision", "revision"), ("readOnly", "read_only"), ("path", "path")] {
                    if !v[from].is_null() {
                        o[to] = v[from].clone();
                    }
                }
                o
            })
            .collect();
        s.insert("volumes".into(), Value::Array(v));
    }
    let mut o = json!({
        "id": info["id"].as_str().unwrap_or_default(),
        "schedule": info["schedule"].as_str().unwrap_or_default(),
        "suspended": info["suspend"].as_bool().unwrap_or(false),
        "owner": owner(&info["owner"]),
        "created_at": info["createdAt"].as_str().unwrap_or_default(),
        "job_spec": s,
    });
    if let Some(last) = info["status"]["lastJob"]["at"].as_str().or_else(|| info["lastRun"].as_str()) {
        o["last_run"] = last.into();
    }
    if let Some(next) = info["status"]["nextJobRunAt"].as_str().or_else(|| info["nextRun"].as_str()) {
        o["next_run"] = next.into();
    }
    o
}

fn command_line(job: &Value) -> String {
    let parts: Vec<&str> = ["command", "arguments"]
        .iter()
        .flat_map(|k| job[*k].as_array().into_iter().flatten())
        .filter_map(Value::as_str)
        .collect();
    let mut s = parts.join(" ").replace('\n', " ");
    if s.chars().count() > 60 {
        s = s.chars().take(57).collect::<String>() + "...";
    }
    s
}

/// Jobs (already converted by [`job`]) as a markdown table.
pub fn jobs_table(jobs: &[Value]) -> String {
    let mut t = String::from("| JOB ID | IMAGE/SPACE | COMMAND | CREATED | STATUS |\n|---|---|---|---|---|\n");
    for j in jobs {
        let image = j["docker_image"].as_str().or_else(|| j["space_id"].as_str()).unwrap_or("-");
        t.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            j["id"].as_str().unwrap_or_default(),
            escape_md(image),
            escape_md(&command_line(j)),
            j["created_at"].as_str().unwrap_or_default(),
            j["status"]["stage"].as_str().unwrap_or_default()
        ));
    }
    t
}

/// Scheduled jobs (already converted by [`scheduled`]) as a markdown table.
pub fn scheduled_table(items: &[Value]) -> String {
    let mut t =
        String::from("| ID | SCHEDULE | IMAGE/SPACE | COMMAND | SUSPENDED | NEXT RUN |\n|---|---|---|---|---|---|\n");
    for s in items {
        let spec = &s["job_spec"];
        let image = spec["docker_image"].as_str().or_else(|| spec["space_id"].as_str()).unwrap_or("-");
        t.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            s["id"].as_str().unwrap_or_default(),
            escape_md(s["schedule"].as_str().unwrap_or_default()),
            escape_md(image),
            escape_md(&command_line(spec)),
            if s["suspended"] == true { "Yes" } else { "No" },
            s["next_run"].as_str().unwrap_or("-")
        ));
    }
    t
}

/// One job's details as markdown.
pub fn job_details(j: &Value) -> String {
    let mut md = format!(
        "### Job {}\n- **Status:** {}",
        j["id"].as_str().unwrap_or_default(),
        j["status"]["stage"].as_str().unwrap_or_default()
    );
    if let Some(m) = j["status"]["message"].as_str() {
        md.push_str(&format!(" ({})", m));
    }
    let image = j["docker_image"].as_str().or_else(|| j["space_id"].as_str()).unwrap_or("-");
    md.push_str(&format!(
        "\n- **Image:** {image}\n- **Command:** `{}`\n- **Flavor:** {}\n- **Created:** {}\n",
        command_line(j),
        j["flavor"].as_str().unwrap_or_default(),
        j["created_at"].as_str().unwrap_or_default()
    ));
    if let Some(f) = j["finished_at"].as_str() {
        md.push_str(&format!("- **Finished:** {f}\n"));
    }
    for (key, label) in [("environment_variable_names", "Environment"), ("secret_names", "Secrets")] {
        let names: Vec<&str> = j[key].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        if !names.is_empty() {
            md.push_str(&format!("- **{label}:** {}\n", names.join(", ")));
        }
    }
    md.push_str(&format!("- **URL:** {}\n", j["url"].as_str().unwrap_or_default()));
    md
}

/// The tool result: markdown plus the structured output.
pub fn respond(op: Option<&str>, formatted: String, outcome: Value, total: usize, shared: usize) -> ToolOutput {
    let mut structured = json!({ "outcome": outcome, "total_results": total, "results_shared": shared });
    if let Some(op) = op {
        structured["operation"] = op.into();
    }
    ToolOutput::structured(formatted, structured)
}

/// An `isError` result with `outcome.kind = error`.
pub fn error(op: Option<&str>, code: &str, message: String) -> ToolOutput {
    let outcome = json!({ "kind": "error", "code": code, "message": message });
    let mut out = respond(op, message, outcome, 0, 0);
    if let ToolOutput::Result(o) = &mut out {
        o.insert("isError".into(), Value::Bool(true));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_and_names_only() {
        let mut r = Redactor::new("hf_token_value");
        r.add("ab");
        let info = json!({ "id": "j1", "createdAt": "t", "command": ["echo", "s3cret-1", "hf_token_value"],
            "environment": { "B": "visible-env" }, "secrets": { "A": "s3cret-1" }, "flavor": "cpu-basic",
            "status": { "stage": "ERROR", "message": "failed with s3cret-1" }, "owner": { "id": "1", "name": "alice" } });
        let j = job(&info, "https://hf.co", &r);
        let text = j.to_string();
        assert!(!text.contains("s3cret-1") && !text.contains("hf_token_value") && !text.contains("visible-env"));
        assert_eq!(j["command"], json!(["echo", "<redacted>", "<redacted>"]));
        assert_eq!(j["secret_names"], json!(["A"]));
        assert_eq!(j["environment_variable_names"], json!(["B"]));
        assert_eq!(j["url"], "https://hf.co/jobs/alice/j1");
        assert_eq!(r.redact("ab stays"), "ab stays", "too short to redact");
    }
}
