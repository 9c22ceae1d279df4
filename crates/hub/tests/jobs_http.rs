//! `hf_jobs` end to end: the full server over a real TCP port (whoami authentication,
//! selection, the engine in both eras) against the Hub stand-in's Jobs API — who sees the
//! tool, runs whose logs are relayed while they arrive, secrets and the token redacted,
//! failures (403 for a read-only token, 404, a failing job, a cancelled job), and the
//! confirmation of `cancel` / `scheduled delete` accepted, declined and cancelled.

mod common;

use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use common::{client_config, serve, server_info, session_post, text, Served, Sse};
use hub_standin::{spawn, tokens, StandIn, StandInConfig};
use hubmcp_hub::auth::{WhoamiAuthenticator, WhoamiConfig};
use hubmcp_hub::selection::SelectionConfig;
use hubmcp_hub::tools::hf_jobs::{self, JobsConfig};
use hubmcp_hub::{HubClient, HubOptions, HubProvider};
use mcp_engine::auth::AuthConfig;
use mcp_engine::provider::{Catalog, StaticProvider};
use mcp_engine::transport::http::HttpConfig;
use mcp_engine::Engine;
use serde_json::{json, Value};

const ALICE: Option<&str> = Some(tokens::ALICE_WRITE);
const SECRET: &str = "sekrit-value-4711";
const ENV_VALUE: &str = "env-value-0815";

struct H {
    hub: StandIn,
    server: Served,
}

impl Deref for H {
    type Target = Served;
    fn deref(&self) -> &Served {
        &self.server
    }
}

impl H {
    async fn start() -> H {
        H::with(HubOptions::default()).await
    }

    async fn with(options: HubOptions) -> H {
        let hub = spawn(StandInConfig::default()).await;
        let client = HubClient::new(client_config(&hub, Duration::from_secs(10))).unwrap();
        let provider = Arc::new(HubProvider::with_options(client.clone(), options));
        let tasks = Arc::new(mcp_engine::store::MemoryTaskStore::new(100));
        let engine = Engine::builder(provider, server_info()).tasks(tasks, Default::default()).build();
        let auth = AuthConfig {
            authenticator: Some(Arc::new(WhoamiAuthenticator::new(client, WhoamiConfig::default()))),
            ..AuthConfig::default()
        };
        let server = serve(engine, HttpConfig { auth, ..HttpConfig::default() }).await;
        H { hub, server }
    }

    async fn tools(&self, query: &str, token: Option<&str>) -> Vec<Value> {
        let (_, r) = self.rpc_full(query, "tools/list", json!({}), token, json!({})).await;
        r["result"]["tools"].as_array().unwrap_or_else(|| panic!("{r}")).clone()
    }

    /// `hf_jobs` with `operation` and `args`; the `CallToolResult`.
    async fn jobs(&self, op: &str, args: Value, token: Option<&str>) -> Value {
        self.call_at("", hf_jobs::NAME, json!({ "operation": op, "args": args }), token).await
    }

    /// A call with elicitation declared: (notifications, whole response).
    async fn jobs_asking(&self, params: Value) -> Value {
        let caps = json!({ "elicitation": {} });
        self.rpc_full("", "tools/call", params, ALICE, caps).await.1
    }

    /// Not stopped: queued or running.
    async fn assert_alive(&self, id: &str) {
        let stage = self.stage(id).await;
        assert!(stage == "SCHEDULING" || stage == "RUNNING", "job {id} is {stage}");
    }

    async fn stage(&self, id: &str) -> String {
        let r = self.jobs("inspect", json!({ "job_id": id }), ALICE).await;
        r["structuredContent"]["outcome"]["inspections"][0]["job"]["status"]["stage"].as_str().unwrap().to_owned()
    }

    async fn wait_stage(&self, id: &str, want: &str) {
        for _ in 0..400 {
            if self.stage(id).await == want {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("job {id} never reached {want}");
    }

    /// Start a long job without following it; its id.
    async fn start_long_job(&self) -> String {
        let r = self.jobs("run", json!({ "command": ["sleep", "120"], "detach": true }), ALICE).await;
        assert!(r.get("isError").is_none(), "{r}");
        r["structuredContent"]["outcome"]["job"]["id"].as_str().unwrap().to_owned()
    }
}

fn outcome(r: &Value) -> &Value {
    &r["structuredContent"]["outcome"]
}

fn names(tools: &[Value]) -> Vec<&str> {
    tools.iter().map(|t| t["name"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn only_authenticated_callers_see_hf_jobs_and_selection_governs_it() {
    let h = H::start().await;
    assert!(!names(&h.tools("", None).await).contains(&"hf_jobs"), "anonymous callers do not see it");
    assert!(!names(&h.tools("?bouquet=jobs", None).await).contains(&"hf_jobs"));
    let all = h.tools("", ALICE).await;
    let jobs = all.iter().find(|t| t["name"] == "hf_jobs").expect("listed for an authenticated caller");
    let a = &jobs["annotations"];
    assert_eq!((a["readOnlyHint"].clone(), a["destructiveHint"].clone()), (json!(false), json!(true)));
    assert_eq!(a["idempotentHint"], false);
    assert_eq!(names(&h.tools("?bouquet=jobs", ALICE).await), ["hf_fs", "hf_whoami", "hf_jobs"]);
    assert!(names(&h.tools("?bouquet=all", ALICE).await).contains(&"hf_jobs"));
    assert!(!names(&h.tools("?bouquet=search", ALICE).await).contains(&"hf_jobs"));
    // Anonymous callers cannot call it either (it is not in their catalog).
    let (_, r) =
        h.rpc_full("?bouquet=jobs", "tools/call", json!({ "name": "hf_jobs", "arguments": {} }), None, json!({})).await;
    assert!(r.get("error").is_some() || r["result"]["isError"] == true, "{r}");
    // User settings choose it like any built-in.
    let options = HubOptions {
        selection: SelectionConfig { disabled: ["hf_jobs".to_owned()].into(), ..SelectionConfig::default() },
        ..HubOptions::default()
    };
    let disabled = H::with(options).await;
    assert!(!names(&disabled.tools("?bouquet=jobs", ALICE).await).contains(&"hf_jobs"), "DISABLE_TOOLS hides it");
}

#[tokio::test]
async fn a_call_without_a_token_says_which_scope_is_missing() {
    // Served without authentication, so an anonymous call reaches the tool itself.
    let hub = spawn(StandInConfig::default()).await;
    let client = HubClient::new(client_config(&hub, Duration::from_secs(10))).unwrap();
    let mut catalog = Catalog::new();
    catalog.tool(hf_jobs::tool(client, JobsConfig::default()));
    let engine = Engine::builder(Arc::new(StaticProvider::new(catalog, json!({ "tools": {} }))), server_info()).build();
    let server = serve(engine, HttpConfig::default()).await;
    let r = server.call_at("", "hf_jobs", json!({ "operation": "ps" }), None).await;
    assert_eq!(r["isError"], true);
    assert!(text(&r).contains("'write' role") && text(&r).contains("job.write"), "{r}");
    assert_eq!(outcome(&r)["kind"], "unavailable");
    assert!(hub.requests_to("/api/jobs").is_empty(), "nothing reached the Hub");
    server.stop().await;
}

#[tokio::test]
async fn run_relays_logs_while_they_arrive_and_never_shows_secrets_or_the_token() {
    let h = H::start().await;
    let args = json!({ "image": "python:3.12",
        "command": ["sh", "-c", "echo hello; echo secret=$S; echo token=$T; echo env=$E; sleep 0.3; echo done"],
        "secrets": { "S": SECRET, "T": "$HF_TOKEN" }, "env": { "E": ENV_VALUE }, "timeout": "5m" });
    let params = json!({ "name": "hf_jobs", "arguments": { "operation": "run", "args": args },
        "_meta": { "progressToken": "run-1" } });
    let (notes, resp) = h.rpc_full("", "tools/call", params, ALICE, json!({})).await;
    let r = &resp["result"];
    assert!(r.get("isError").is_none(), "{resp}");
    let o = outcome(r);
    assert_eq!(o["kind"], "job");
    assert_eq!(o["logs"], json!(["hello", "secret=<redacted>", "token=<redacted>", "env=<redacted>", "done"]));
    assert_eq!(o["logs_finished"], true);
    assert_eq!(o["job"]["status"]["stage"], "COMPLETED");
    assert_eq!(o["job"]["secret_names"], json!(["S", "T"]));
    assert_eq!(o["job"]["environment_variable_names"], json!(["E"]));
    // Every line was relayed as progress before the result, in order, with increasing values.
    let progress: Vec<&Value> = notes.iter().filter(|n| n["method"] == "notifications/progress").collect();
    let messages: Vec<&str> = progress.iter().filter_map(|n| n["params"]["message"].as_str()).collect();
    let lines: Vec<&str> = messages.iter().filter_map(|m| m.strip_prefix("job: ")).collect();
    assert_eq!(lines, ["hello", "secret=<redacted>", "token=<redacted>", "env=<redacted>", "done"], "{messages:?}");
    let values: Vec<f64> = progress.iter().map(|n| n["params"]["progress"].as_f64().unwrap()).collect();
    assert!(values.windows(2).all(|w| w[1] > w[0]), "{values:?}");
    let everything = format!("{notes:?}{resp}");
    for secret in [SECRET, tokens::ALICE_WRITE, ENV_VALUE] {
        assert!(!everything.contains(secret), "{secret} leaked: {everything}");
    }
    // The token went to the job as the secret asked for it (and only there), not as env.
    let posts: Vec<_> = h.hub.requests_to("/api/jobs/alice").into_iter().filter(|r| r.method == "POST").collect();
    assert_eq!(posts.len(), 1);
    // Without a progress token nothing is relayed, and the tail is in the result.
    let (notes, resp) = h
        .rpc_full(
            "",
            "tools/call",
            json!({ "name": "hf_jobs", "arguments": { "operation": "uv", "args": { "script": "print('one')\nprint('two')" } } }),
            ALICE,
            json!({}),
        )
        .await;
    assert!(notes.is_empty(), "{notes:?}");
    assert_eq!(outcome(&resp["result"])["logs"], json!(["one", "two"]), "{resp}");
    assert_eq!(outcome(&resp["result"])["job"]["docker_image"], "ghcr.io/astral-sh/uv:python3.12-bookworm");
    h.server.stop().await;
}

#[tokio::test]
async fn ps_logs_inspect_and_failures() {
    let h = H::start().await;
    // A failing job ends in ERROR; its logs are there with a bounded tail.
    let r = h.jobs("run", json!({ "command": ["sh", "-c", "echo a; echo b; echo c; exit 3"] }), ALICE).await;
    let failed = outcome(&r)["job"]["id"].as_str().unwrap().to_owned();
    assert_eq!(outcome(&r)["job"]["status"]["stage"], "ERROR", "{r}");
    assert!(outcome(&r)["job"]["status"]["message"].as_str().unwrap().contains("exit code 3"));
    let r = h.jobs("logs", json!({ "job_id": failed, "tail": 2 }), ALICE).await;
    assert_eq!(outcome(&r)["lines"], json!(["b", "c"]), "{r}");
    assert_eq!(outcome(&r)["finished"], true);
    // A flood of long lines: the tail is bounded in characters, lines cut, newest kept.
    let script: String = (0..40).map(|i| format!("echo {i:02}{};", "x".repeat(3000))).collect();
    let r = h.jobs("run", json!({ "command": ["sh", "-c", script], "detach": true }), ALICE).await;
    let flood = outcome(&r)["job"]["id"].as_str().unwrap().to_owned();
    let r = h.jobs("logs", json!({ "job_id": flood, "tail": 500 }), ALICE).await;
    let lines = outcome(&r)["lines"].as_array().unwrap();
    let chars: usize = lines.iter().map(|l| l.as_str().unwrap().chars().count()).sum();
    assert!(lines.len() < 40 && chars <= 37_500, "{} lines, {chars} chars", lines.len());
    assert!(lines.last().unwrap().as_str().unwrap().starts_with("39"));
    assert!(lines.iter().all(|l| l.as_str().unwrap().chars().count() <= 2_001));
    // ps: only running jobs by default, all with all: true, filtered by status.
    let running = h.start_long_job().await;
    let r = h.jobs("ps", json!({}), ALICE).await;
    let ids: Vec<&str> = outcome(&r)["jobs"].as_array().unwrap().iter().map(|j| j["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&running.as_str()) && !ids.contains(&failed.as_str()), "{r}");
    let r = h.jobs("ps", json!({ "all": true, "status": "error" }), ALICE).await;
    let ids: Vec<&str> = outcome(&r)["jobs"].as_array().unwrap().iter().map(|j| j["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [failed.as_str()]);
    // inspect several, one missing: the found one and an error entry.
    let r = h.jobs("inspect", json!({ "job_id": [running, "000000000000000000000000"] }), ALICE).await;
    assert!(r.get("isError").is_none());
    assert_eq!(outcome(&r)["inspections"][1]["status"], "error");
    // 404: a missing job is an error result.
    let r = h.jobs("logs", json!({ "job_id": "000000000000000000000000" }), ALICE).await;
    assert_eq!(r["isError"], true);
    assert!(text(&r).contains("not found"), "{r}");
    // 403: a read-only token may look but not run; the result says which scope is missing.
    let bob = Some(tokens::BOB_READ);
    let r = h.jobs("run", json!({ "command": ["echo", "hi"] }), bob).await;
    assert_eq!(r["isError"], true);
    assert!(text(&r).contains("write scope") && text(&r).contains("job.write"), "{r}");
    assert!(h.jobs("ps", json!({ "all": true }), bob).await.get("isError").is_none());
    // A fine-grained token without job.write is refused the same way.
    let r = h.jobs("run", json!({ "command": ["echo", "hi"] }), Some(tokens::CAROL_FINEGRAINED)).await;
    assert!(text(&r).contains("write scope"), "{r}");
    // Validation, before any request.
    let r = h.jobs("run", json!({ "command": ["echo"], "flavor": "warp-drive" }), ALICE).await;
    assert!(r["isError"] == true && text(&r).contains("flavor"), "{r}");
    let r = h.jobs("run", json!({ "command": "echo a && echo b" }), ALICE).await;
    assert!(r["isError"] == true && text(&r).contains("array format"), "{r}");
    let r = h.jobs("run", json!({ "command": ["echo"], "env": { "HF_TOKEN": "$HF_TOKEN" } }), ALICE).await;
    assert!(r["isError"] == true && text(&r).contains("secrets, not env"), "{r}");
    let r = h.jobs("run", json!({ "command": ["echo"], "volumes": ["hf://dataset/x/y:/d"] }), ALICE).await;
    assert!(r["isError"] == true && text(&r).contains("plural"), "{r}");
    // Usage, help and unknown operations, as upstream.
    let r = h.call_at("", "hf_jobs", json!({}), ALICE).await;
    assert_eq!(outcome(&r)["kind"], "usage");
    let r = h.jobs("logs", json!({}), ALICE).await;
    assert_eq!(
        (outcome(&r)["kind"].clone(), outcome(&r)["reason"].clone()),
        (json!("help"), json!("missing_arguments"))
    );
    let r = h.call_at("", "hf_jobs", json!({ "operation": "explode" }), ALICE).await;
    assert_eq!(outcome(&r)["code"], "unknown_operation");
    h.server.stop().await;
}

#[tokio::test]
async fn cancel_asks_first_and_honours_accept_decline_and_cancel() {
    let h = H::start().await;
    let id = h.start_long_job().await;
    let call = json!({ "name": "hf_jobs", "arguments": { "operation": "cancel", "args": { "job_id": id } } });
    let first = h.jobs_asking(call.clone()).await;
    let result = &first["result"];
    assert_eq!(result["resultType"], "input_required", "{first}");
    let (key, ask) = result["inputRequests"].as_object().unwrap().iter().next().unwrap();
    assert_eq!(ask["method"], "elicitation/create");
    assert!(ask["params"]["message"].as_str().unwrap().contains(&id));
    let answer = |a: Value| {
        let mut again = call.clone();
        again["requestState"] = result["requestState"].clone();
        again["inputResponses"] = json!({ key.clone(): a });
        again
    };
    // Declined: nothing happens.
    let r = h.jobs_asking(answer(json!({ "action": "decline" }))).await;
    assert_eq!(outcome(&r["result"])["reason"], "declined", "{r}");
    h.assert_alive(&id).await;
    // Accepted with confirm: false is a decline too; dismissed is a cancel.
    let r = h.jobs_asking(answer(json!({ "action": "accept", "content": { "confirm": false } }))).await;
    assert_eq!(outcome(&r["result"])["reason"], "declined");
    let r = h.jobs_asking(answer(json!({ "action": "cancel" }))).await;
    assert_eq!(outcome(&r["result"])["reason"], "cancelled", "{r}");
    h.assert_alive(&id).await;
    assert!(h.hub.requests_to(&format!("/api/jobs/alice/{id}/cancel")).is_empty());
    // Accepted: cancelled.
    let r = h.jobs_asking(answer(json!({ "action": "accept", "content": { "confirm": true } }))).await;
    assert_eq!(outcome(&r["result"])["action"], "canceled", "{r}");
    h.wait_stage(&id, "CANCELED").await;
    // A finished job is not cancelled again, and no question is asked.
    let r = h.jobs_asking(call).await;
    assert_eq!(r["result"]["resultType"], "complete");
    assert!(text(&r["result"]).contains("already finished"), "{r}");
    // A client without elicitation is not asked (as upstream).
    let other = h.start_long_job().await;
    let r = h.jobs("cancel", json!({ "job_id": other }), ALICE).await;
    assert_eq!(outcome(&r)["action"], "canceled", "{r}");
    h.wait_stage(&other, "CANCELED").await;
    // A missing job is an error, without a question.
    let r = h
        .jobs_asking(json!({ "name": "hf_jobs", "arguments": { "operation": "cancel",
        "args": { "job_id": "000000000000000000000000" } } }))
        .await;
    assert_eq!(r["result"]["isError"], true, "{r}");
    h.server.stop().await;
}

#[tokio::test]
async fn confirmation_can_be_switched_off() {
    let h = H::with(HubOptions { confirm_destructive: false, ..HubOptions::default() }).await;
    let id = h.start_long_job().await;
    let call = json!({ "name": "hf_jobs", "arguments": { "operation": "cancel", "args": { "job_id": id } } });
    let r = h.jobs_asking(call).await;
    assert_eq!(r["result"]["resultType"], "complete", "{r}");
    assert_eq!(outcome(&r["result"])["action"], "canceled");
    h.server.stop().await;
}

#[tokio::test]
async fn following_stops_at_the_log_wait_while_the_job_goes_on() {
    let jobs = JobsConfig { log_wait: Duration::from_secs(1), ..JobsConfig::default() };
    let h = H::with(HubOptions { jobs, ..HubOptions::default() }).await;
    let r = h.jobs("run", json!({ "command": ["sh", "-c", "echo early; sleep 60; echo late"] }), ALICE).await;
    let o = outcome(&r);
    assert_eq!(o["logs"], json!(["early"]), "{r}");
    assert_eq!((o["logs_finished"].clone(), o["logs_truncated"].clone()), (json!(false), json!(true)));
    assert!(text(&r).contains("may still be running"), "{r}");
    let id = o["job"]["id"].as_str().unwrap().to_owned();
    let r = h.jobs("logs", json!({ "job_id": id }), ALICE).await;
    assert_eq!((outcome(&r)["finished"].clone(), outcome(&r)["truncated"].clone()), (json!(false), json!(true)));
    h.assert_alive(&id).await;
    h.server.stop().await;
}

#[tokio::test]
async fn scheduled_jobs_create_list_suspend_resume_and_delete_after_confirmation() {
    let h = H::start().await;
    let r = h
        .jobs(
            "scheduled run",
            json!({ "schedule": "@daily", "command": ["python", "-c", "print('tick')"], "secrets": { "K": SECRET } }),
            ALICE,
        )
        .await;
    assert!(r.get("isError").is_none(), "{r}");
    let s = &outcome(&r)["scheduled_job"];
    assert_eq!((s["schedule"].clone(), s["suspended"].clone()), (json!("@daily"), json!(false)));
    assert_eq!(s["job_spec"]["secret_names"], json!(["K"]));
    assert!(!r.to_string().contains(SECRET));
    let id = s["id"].as_str().unwrap().to_owned();
    let uv = h
        .jobs(
            "scheduled uv",
            json!({ "schedule": "0 9 * * 1-5", "script": "print(1)\nprint(2)", "suspend": true }),
            ALICE,
        )
        .await;
    assert_eq!(outcome(&uv)["scheduled_job"]["suspended"], true, "{uv}");
    let r = h.jobs("scheduled ps", json!({}), ALICE).await;
    assert_eq!(outcome(&r)["scheduled_jobs"].as_array().unwrap().len(), 1, "suspended ones hidden: {r}");
    let r = h.jobs("scheduled ps", json!({ "all": true }), ALICE).await;
    assert_eq!(outcome(&r)["total_scheduled_jobs"], 2);
    let r = h.jobs("scheduled suspend", json!({ "scheduled_job_id": id }), ALICE).await;
    assert_eq!(outcome(&r)["action"], "suspended");
    let r = h.jobs("scheduled inspect", json!({ "scheduled_job_id": id }), ALICE).await;
    assert_eq!(outcome(&r)["scheduled_job"]["suspended"], true);
    let r = h.jobs("scheduled resume", json!({ "scheduled_job_id": id }), ALICE).await;
    assert_eq!(outcome(&r)["action"], "resumed");
    let r = h.jobs("scheduled run", json!({ "schedule": "whenever", "command": ["true"] }), ALICE).await;
    assert_eq!(r["isError"], true, "{r}");
    // Delete asks; accepted, the schedule is gone.
    let call = json!({ "name": "hf_jobs", "arguments": { "operation": "scheduled delete",
        "args": { "scheduled_job_id": id } } });
    let first = h.jobs_asking(call.clone()).await;
    assert_eq!(first["result"]["resultType"], "input_required", "{first}");
    let key = first["result"]["inputRequests"].as_object().unwrap().keys().next().unwrap().clone();
    let mut again = call;
    again["requestState"] = first["result"]["requestState"].clone();
    again["inputResponses"] = json!({ key: { "action": "accept", "content": { "confirm": true } } });
    let r = h.jobs_asking(again).await;
    assert_eq!(outcome(&r["result"])["action"], "deleted", "{r}");
    let r = h.jobs("scheduled inspect", json!({ "scheduled_job_id": id }), ALICE).await;
    assert_eq!(r["isError"], true);
    h.server.stop().await;
}

#[tokio::test]
async fn run_can_be_taken_as_a_task() {
    let h = H::start().await;
    let caps = json!({ "extensions": { mcp_engine::TASKS_EXTENSION: {} } });
    let params = json!({ "name": "hf_jobs", "arguments": { "operation": "run",
        "args": { "command": ["sh", "-c", "echo in a task; sleep 0.2; echo end"] } } });
    let (_, r) = h.rpc_full("", "tools/call", params, ALICE, caps.clone()).await;
    assert_eq!(r["result"]["resultType"], "task", "{r}");
    let task = r["result"]["taskId"].as_str().unwrap().to_owned();
    for _ in 0..500 {
        let (_, t) = h.rpc_full("", "tasks/get", json!({ "taskId": task }), ALICE, caps.clone()).await;
        if t["result"]["status"] == "completed" {
            assert_eq!(outcome(&t["result"]["result"])["logs"], json!(["in a task", "end"]), "{t}");
            return h.server.stop().await;
        }
        assert_eq!(t["result"]["status"], "working", "{t}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the task did not complete");
}

// ----- session era ---------------------------------------------------------------------------

fn post(h: &H, session: Option<&str>, body: Value) -> reqwest::RequestBuilder {
    session_post(&h.http, &h.url, tokens::ALICE_WRITE, session, &body)
}

async fn open_session(h: &H) -> String {
    common::open_session(&h.http, &h.url, tokens::ALICE_WRITE).await
}

#[tokio::test]
async fn session_era_logs_stream_as_progress_and_log_messages_and_cancel_elicits() {
    let h = H::start().await;
    let sid = open_session(&h).await;
    let set = json!({ "jsonrpc": "2.0", "id": 1, "method": "logging/setLevel", "params": { "level": "info" } });
    assert_eq!(post(&h, Some(&sid), set).send().await.unwrap().status(), 200);
    // A job whose lines are spaced out: each arrives as a notification before the result.
    let call = json!({ "jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": { "name": "hf_jobs",
        "arguments": { "operation": "run", "args": { "command": ["sh", "-c", "echo first; sleep 0.4; echo second $X"],
            "secrets": { "X": SECRET } } },
        "_meta": { "progressToken": 9 } } });
    let mut sse = Sse::new(post(&h, Some(&sid), call).send().await.unwrap());
    let (mut progress, mut logged) = (Vec::new(), Vec::new());
    let result = loop {
        let m = sse.message().await;
        match m["method"].as_str() {
            Some("notifications/progress") => {
                assert_eq!(m["params"]["progressToken"], 9);
                progress.push(m["params"]["message"].as_str().unwrap_or_default().to_owned());
            }
            Some("notifications/message") => logged.push(m["params"]["data"]["line"].as_str().unwrap().to_owned()),
            _ => break m,
        }
    };
    assert_eq!(result["id"], 2);
    assert_eq!(logged, ["first", "second <redacted>"]);
    assert!(progress.contains(&"job: first".to_owned()), "{progress:?}");
    assert_eq!(outcome(&result["result"])["logs"], json!(["first", "second <redacted>"]));
    assert!(!format!("{progress:?}{logged:?}{result}").contains(SECRET));

    // cancel becomes a server-initiated elicitation/create; declined, then accepted.
    let id = h.start_long_job().await;
    for (n, (action, confirm)) in [("decline", false), ("accept", true)].into_iter().enumerate() {
        let req_id = 10 + n as i64;
        let call = json!({ "jsonrpc": "2.0", "id": req_id, "method": "tools/call", "params": { "name": "hf_jobs",
            "arguments": { "operation": "cancel", "args": { "job_id": id } } } });
        let mut sse = Sse::new(post(&h, Some(&sid), call).send().await.unwrap());
        let ask = sse.message().await;
        assert_eq!(ask["method"], "elicitation/create", "{ask}");
        let content = if confirm { json!({ "confirm": true }) } else { json!({}) };
        let answer = json!({ "jsonrpc": "2.0", "id": ask["id"], "result": { "action": action, "content": content } });
        assert_eq!(post(&h, Some(&sid), answer).send().await.unwrap().status(), 202);
        let done = sse.message().await;
        assert_eq!(done["id"], req_id);
        let o = outcome(&done["result"]);
        if confirm {
            assert_eq!(o["action"], "canceled", "{done}");
        } else {
            assert_eq!(o["reason"], "declined", "{done}");
            h.assert_alive(&id).await;
        }
    }
    h.wait_stage(&id, "CANCELED").await;
    h.server.stop().await;
}
