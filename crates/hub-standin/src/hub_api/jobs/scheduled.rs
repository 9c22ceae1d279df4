//! Scheduled jobs: `/api/scheduled-jobs/{namespace}` (create, list), `…/{id}` (inspect,
//! delete), `…/{id}/suspend`, `…/{id}/resume` and `…/{id}/run` (start one run now). The
//! stand-in keeps schedules but never fires them on its own; `nextJobRunAt` is computed from
//! the shorthand (`@hourly` …) or, for a cron expression, the next whole minute.

use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{json, Map, Value};
use time::{Duration as TimeDelta, OffsetDateTime};

use super::{access, find, needs_write, parse_body, render, timestamp, validate_spec, Answer, Jobs};
use crate::util::{bad_request, hub_error, not_found_route, ok_json};
use crate::Ctx;

pub(super) struct Scheduled {
    id: String,
    namespace: String,
    owner: Value,
    spec: Map<String, Value>,
    schedule: String,
    suspend: bool,
    concurrency: bool,
    created_at: OffsetDateTime,
    last_job: Option<(String, OffsetDateTime)>,
}

/// The period of a shorthand schedule; `None` for a cron expression.
fn period(schedule: &str) -> Option<TimeDelta> {
    Some(match schedule {
        "@hourly" => TimeDelta::hours(1),
        "@daily" => TimeDelta::days(1),
        "@weekly" => TimeDelta::weeks(1),
        "@monthly" => TimeDelta::days(30),
        "@yearly" | "@annually" => TimeDelta::days(365),
        _ => return None,
    })
}

fn valid_schedule(s: &str) -> bool {
    if period(s).is_some() {
        return true;
    }
    let fields: Vec<&str> = s.split_whitespace().collect();
    fields.len() == 5
        && fields.iter().all(|f| f.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '*' | '/' | ',' | '-')))
}

fn render_scheduled(s: &Scheduled) -> Value {
    let mut spec = s.spec.clone();
    if let Some(Value::Object(secrets)) = spec.get_mut("secrets") {
        secrets.values_mut().for_each(|v| *v = Value::Null);
    }
    let now = OffsetDateTime::now_utc();
    let next = (!s.suspend).then(|| match period(&s.schedule) {
        Some(p) => timestamp(now + p),
        None => timestamp(now + TimeDelta::seconds(60 - now.second() as i64)),
    });
    json!({
        "id": s.id, "createdAt": timestamp(s.created_at), "jobSpec": spec, "schedule": s.schedule,
        "suspend": s.suspend, "concurrency": s.concurrency,
        "status": {
            "lastJob": s.last_job.as_ref().map(|(id, at)| json!({ "id": id, "at": timestamp(*at) })),
            "nextJobRunAt": next
        },
        "owner": s.owner
    })
}

fn not_found() -> Response {
    hub_error(StatusCode::NOT_FOUND, None, "Scheduled job not found")
}

impl Jobs {
    pub(super) fn route_scheduled(&self, ctx: &Ctx<'_>, segs: &[&str], body: &[u8]) -> Answer {
        let m = &ctx.method;
        let Some(ns) = segs.first().copied() else { return Ok(not_found_route()) };
        let a = access(ctx, ns)?;
        if *m != Method::GET {
            needs_write(&a, ns)?;
        }
        match (segs, m.clone()) {
            ([_], Method::GET) => {
                let st = self.lock();
                let list: Vec<Value> =
                    st.scheduled.iter().filter(|s| s.namespace == ns).map(render_scheduled).collect();
                Ok(ok_json(&Value::Array(list)))
            }
            ([_], Method::POST) => {
                let mut input = parse_body(body)?;
                let schedule = input.get("schedule").and_then(Value::as_str).unwrap_or("").trim().to_owned();
                if !valid_schedule(&schedule) {
                    return Err(bad_request(&format!(
                        "Invalid schedule '{schedule}': use @hourly, @daily, @weekly, @monthly, @yearly or a 5-field \
                         cron expression"
                    )));
                }
                let spec = match input.remove("jobSpec") {
                    Some(Value::Object(o)) => validate_spec(o)?,
                    _ => return Err(bad_request("\"jobSpec\" is required")),
                };
                let mut st = self.lock();
                let s = Scheduled {
                    id: st.next_id(),
                    namespace: ns.to_owned(),
                    owner: a.owner,
                    spec,
                    schedule,
                    suspend: input.get("suspend").and_then(Value::as_bool).unwrap_or(false),
                    concurrency: input.get("concurrency").and_then(Value::as_bool).unwrap_or(false),
                    created_at: OffsetDateTime::now_utc(),
                    last_job: None,
                };
                let out = render_scheduled(&s);
                st.scheduled.push(s);
                Ok(ok_json(&out))
            }
            ([_, id], Method::GET) => {
                let st = self.lock();
                let s = st.scheduled.iter().find(|s| s.namespace == ns && s.id == *id).ok_or_else(not_found)?;
                Ok(ok_json(&render_scheduled(s)))
            }
            ([_, id], Method::DELETE) => {
                let mut st = self.lock();
                let before = st.scheduled.len();
                st.scheduled.retain(|s| !(s.namespace == ns && s.id == *id));
                if st.scheduled.len() == before {
                    return Err(not_found());
                }
                Ok(ok_json(&json!({})))
            }
            ([_, id, action @ ("suspend" | "resume")], Method::POST) => {
                let mut st = self.lock();
                let s = st.scheduled.iter_mut().find(|s| s.namespace == ns && s.id == *id).ok_or_else(not_found)?;
                s.suspend = *action == "suspend";
                Ok(ok_json(&render_scheduled(s)))
            }
            ([_, id, "run"], Method::POST) => {
                let (spec, owner) = {
                    let st = self.lock();
                    let s = st.scheduled.iter().find(|s| s.namespace == ns && s.id == *id).ok_or_else(not_found)?;
                    (s.spec.clone(), s.owner.clone())
                };
                let initiator = json!({ "type": "scheduled-job", "id": id });
                let info = self.start(ns, owner, initiator, spec);
                let job_id = info["id"].as_str().unwrap_or_default().to_owned();
                let mut st = self.lock();
                if let Some(s) = st.scheduled.iter_mut().find(|s| s.namespace == ns && s.id == *id) {
                    s.last_job = Some((job_id.clone(), OffsetDateTime::now_utc()));
                }
                let job = find(&st, ns, &job_id)?;
                Ok(ok_json(&render(job)))
            }
            _ => Ok(not_found_route()),
        }
    }
}
