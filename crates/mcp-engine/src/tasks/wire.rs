//! The extension's wire shapes, built from a stored record: `CreateTaskResult` (a flat
//! `Result & Task`, `resultType: "task"`) and the `DetailedTask` of `tasks/get`, which
//! inlines `inputRequests`, `result` or `error` by status. Neither carries `requestState`
//! (the MRTR phase's state never leaks into the task envelope).

use serde_json::Value;

use crate::jsonrpc::JsonObject;
use crate::store::{TaskRecord, TaskStatus};

/// The `Task` fields every shape shares.
fn task_fields(r: &TaskRecord) -> JsonObject {
    let mut o = JsonObject::new();
    o.insert("taskId".into(), r.id.clone().into());
    o.insert("status".into(), r.status.as_str().into());
    if let Some(m) = &r.status_message {
        o.insert("statusMessage".into(), m.clone().into());
    }
    o.insert("createdAt".into(), iso8601(r.created_at_ms).into());
    o.insert("lastUpdatedAt".into(), iso8601(r.updated_at_ms).into());
    o.insert("ttlMs".into(), r.ttl_ms.into());
    o.insert("pollIntervalMs".into(), r.poll_interval_ms.into());
    o
}

/// The answer to the call that created the task.
pub(crate) fn create_result(r: &TaskRecord) -> JsonObject {
    let mut o = JsonObject::new();
    o.insert("resultType".into(), "task".into());
    o.extend(task_fields(r));
    o
}

/// The `tasks/get` result.
pub(crate) fn detailed(r: &TaskRecord) -> JsonObject {
    let mut o = JsonObject::new();
    o.insert("resultType".into(), "complete".into());
    o.extend(task_fields(r));
    match r.status {
        TaskStatus::InputRequired => {
            o.insert("inputRequests".into(), Value::Object(r.input_requests.clone()));
        }
        TaskStatus::Completed => {
            let result = r.result.as_ref().and_then(|raw| serde_json::from_str(raw.get()).ok());
            o.insert("result".into(), result.unwrap_or_else(|| Value::Object(JsonObject::new())));
        }
        TaskStatus::Failed => {
            let error = r.error.clone().unwrap_or_else(|| serde_json::json!({ "code": -32603, "message": "failed" }));
            o.insert("error".into(), error);
        }
        TaskStatus::Working | TaskStatus::Cancelled => {}
    }
    o
}

/// An ISO 8601 UTC timestamp with milliseconds (`2026-07-28T10:30:00.000Z`).
pub fn iso8601(ms: u64) -> String {
    let secs = ms / 1000;
    let (h, mi, s) = (secs % 86_400 / 3600, secs % 3600 / 60, secs % 60);
    // Days since 1970-01-01 to a civil date (H. Hinnant's algorithm).
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{:03}Z", ms % 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(951_782_400_123), "2000-02-29T00:00:00.123Z");
        assert_eq!(iso8601(1_785_233_400_000), "2026-07-28T10:10:00.000Z");
    }
}
