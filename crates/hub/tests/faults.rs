//! Upstream faults, tool by tool: the Hub stand-in and the Spaces stand-in misbehave for a
//! while (a hang, a reset mid-body, a 5xx storm, 429 with a long `Retry-After`, an endless or
//! a huge body, malformed JSON, a slow drip), and every Hub tool and a proxied Gradio tool
//! must answer within a bounded wait with an `isError` result that says whether retrying
//! helps, leave no task behind, and serve fully once the upstream recovers. Then the circuit
//! breaker: a Hub outage and a dead Space open their host's circuit (calls fail fast without
//! reaching the upstream, the metrics say so), a probe after the open period closes it.
//!
//! `fault_matrix` prints the matrix (tool × fault → outcome) as Markdown between
//! `BEGIN MATRIX` / `END MATRIX` lines; `bench/faults/matrix` turns it into
//! `bench/faults/matrix.md`.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{client_config, serve, server_info, text, Served};
use hub_standin::outage::{Misbehaviour, Outage};
use hub_standin::spaces::{spawn_spaces, SpacesConfig, SpacesStandIn};
use hub_standin::{repos, spawn, tokens, StandIn, StandInConfig};
use hubmcp_hub::client::{BreakerConfig, BreakerEvent, CircuitState, RetryPolicy, UpstreamHook};
use hubmcp_hub::gradio::net::{AllowedAddresses, SpaceNetwork};
use hubmcp_hub::gradio::GradioConfig;
use hubmcp_hub::{HubClient, HubOptions, HubProvider};
use mcp_engine::transport::http::HttpConfig;
use mcp_engine::Engine;
use mcp_telemetry::Telemetry;
use serde_json::{json, Value};

/// The Space whose tool is proxied (`evalstate/flux1_schnell`: public, schema cached after
/// the first listing).
const SPACE_SUB: &str = "evalstate-flux1-schnell";
const SPACE_TOOL: &str = "gr1_evalstate_flux1_schnellinfer";
/// The Hub client's per-attempt timeout and the Space call's idle timeout in these tests.
const HUB_TIMEOUT: Duration = Duration::from_millis(1500);
const SPACE_TIMEOUT: Duration = Duration::from_secs(1);
/// No call may take longer than this, whatever the fault (three attempts of the timeout,
/// backoff, plus generous slack for a loaded machine).
const BOUND: Duration = Duration::from_secs(30);

struct H {
    hub: StandIn,
    spaces: SpacesStandIn,
    client: HubClient,
    telemetry: Telemetry,
    events: Arc<Mutex<Vec<BreakerEvent>>>,
    server: Served,
}

impl H {
    async fn start(breaker: BreakerConfig) -> H {
        H::start_with(breaker, GradioConfig::default().schema_ttl).await
    }

    /// `cache_ttl`: how long Space metadata and schemas are fresh.
    async fn start_with(breaker: BreakerConfig, cache_ttl: Duration) -> H {
        let hub = spawn(StandInConfig::default()).await;
        let spaces = spawn_spaces(SpacesConfig::default()).await;
        let telemetry = Telemetry::default();
        let events: Arc<Mutex<Vec<BreakerEvent>>> = Arc::default();
        let (t, e) = (telemetry.clone(), events.clone());
        // Wired like the binary's hook (crates/hubmcp/src/telemetry.rs), plus a record.
        let hook = UpstreamHook::default().with_circuits(move |ev| {
            e.lock().unwrap().push(*ev);
            match *ev {
                BreakerEvent::Moved { service, from, to } => t.circuit(service, from.as_str(), to.as_str()),
                BreakerEvent::FastFail { service } => t.circuit_fast_fail(service),
            }
        });
        let retry = RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(50),
            max_delay: Duration::from_millis(200),
            max_retry_after: Duration::from_secs(2),
        };
        let config = client_config(&hub, HUB_TIMEOUT).with_retry(retry).with_hook(hook).with_breaker(breaker);
        let client = HubClient::new(config).unwrap();
        let mut gradio = GradioConfig {
            call_timeout: SPACE_TIMEOUT,
            max_call_duration: Duration::from_secs(5),
            schema_timeout: Duration::from_secs(2),
            space_info_timeout: Duration::from_secs(5),
            metadata_ttl: cache_ttl,
            schema_ttl: cache_ttl,
            ..GradioConfig::default()
        };
        gradio.network = SpaceNetwork {
            scheme: "http".into(),
            domain: "hf.space".into(),
            port: Some(spaces.port()),
            resolve: Some("127.0.0.1".parse().unwrap()),
            allow: AllowedAddresses { loopback: true, ..Default::default() },
            internal_hosts: Vec::new(),
        };
        let options = HubOptions { gradio, telemetry: Some(telemetry.clone()), ..HubOptions::default() };
        let provider = Arc::new(HubProvider::with_options(client.clone(), options));
        let engine = Engine::builder(provider, server_info()).build();
        let server = serve(engine, HttpConfig::default()).await;
        H { hub, spaces, client, telemetry, events, server }
    }

    /// Call `tool`; `None` if the call outlived [`BOUND`].
    async fn call(&self, tool: &Call) -> (Option<Value>, Duration) {
        let started = Instant::now();
        let r = tokio::time::timeout(BOUND, self.server.call_at(tool.query, tool.name, tool.args.clone(), tool.token))
            .await
            .ok();
        (r, started.elapsed())
    }

    fn hub_host(&self) -> String {
        self.hub.base_url.trim_start_matches("http://").to_owned()
    }

    fn space_host(&self) -> String {
        format!("{SPACE_SUB}.hf.space:{}", self.spaces.port())
    }

    async fn stop(self) {
        self.server.stop().await;
    }
}

/// One tool call of the matrix.
struct Call {
    label: &'static str,
    name: &'static str,
    args: Value,
    query: &'static str,
    token: Option<&'static str>,
    /// Served by the Spaces stand-in (else by the Hub stand-in).
    space: bool,
}

fn calls() -> Vec<Call> {
    let hub = |label, name, args| Call { label, name, args, query: "", token: None, space: false };
    let fs = |label, cmd: &str, uri: &str, rest: &[&str]| {
        let mut args = vec![uri.to_owned()];
        args.extend(rest.iter().map(|s| s.to_string()));
        hub(label, "hf_fs", json!({ "operations": [{ "cmd": cmd, "args": args }] }))
    };
    let model = repos::PUBLIC_MODEL;
    vec![
        hub("hub_repo_search", "hub_repo_search", json!({ "query": "bert", "repo_types": ["model"] })),
        hub("hub_repo_details", "hub_repo_details", json!({ "repo_ids": [model], "repo_type": "model" })),
        fs("hf_fs ls (tree)", "ls", &format!("hf://models/{model}"), &[]),
        fs("hf_fs cat (file)", "cat", &format!("hf://models/{model}/config.json"), &[]),
        fs("hf_fs stat (repo)", "stat", &format!("hf://datasets/{}", repos::PUBLIC_DATASET), &[]),
        fs("hf_fs search models", "search", "hf://models", &["bert"]),
        fs("hf_fs search papers", "search", "hf://papers", &["bert"]),
        fs("hf_fs search docs", "search", "hf://docs", &["token"]),
        fs("hf_fs ls collections", "ls", "hf://collections/standin-org", &[]),
        Call { token: Some(tokens::ALICE_WRITE), ..hub("hf_whoami", "hf_whoami", json!({})) },
        Call {
            query: "?mix=dynamic_space",
            token: Some(tokens::ALICE_WRITE),
            ..hub(
                "dynamic_space find",
                "dynamic_space",
                json!({ "operation": "find", "search_query": "image generation" }),
            )
        },
        Call {
            label: "Gradio Space tool (gr1_…)",
            name: SPACE_TOOL,
            args: json!({ "prompt": "a cat" }),
            query: "?gradio=evalstate/flux1_schnell",
            token: None,
            space: true,
        },
    ]
}

fn faults() -> Vec<Misbehaviour> {
    vec![
        Misbehaviour::Hang,
        Misbehaviour::Reset,
        Misbehaviour::ServerError { status: 503 },
        Misbehaviour::RateLimited { retry_after_secs: 60 },
        Misbehaviour::Endless,
        Misbehaviour::Huge { bytes: 1 << 30 },
        Misbehaviour::MalformedJson,
        Misbehaviour::SlowDrip { interval_ms: 100 },
    ]
}

/// What a failure result says about retrying: `Some(true)` retry helps, `Some(false)` it
/// does not, `None` the result does not say.
fn retry_verdict(r: &Value) -> Option<&'static str> {
    let t = text(r).to_ascii_lowercase();
    let structured = r["structuredContent"].to_string().to_ascii_lowercase();
    let says = |needles: &[&str]| needles.iter().any(|n| t.contains(n) || structured.contains(n));
    if says(&["retry: no", "retry helps: no", "will not help", "unlikely to help", "retry: not "]) {
        Some("no")
    } else if says(&["retry: yes", "retry helps: yes", "retry after", "retry later", "retry shortly", "try again"]) {
        Some("yes")
    } else {
        None
    }
}

/// The hint of a `retry after N s` / `after about N s` in a result, if any.
fn retry_after_hint(r: &Value) -> Option<String> {
    let t = text(r);
    for key in ["retry after ", "after about "] {
        if let Some(i) = t.to_ascii_lowercase().find(key) {
            let rest = &t[i + key.len()..];
            let n: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
            if !n.is_empty() {
                return Some(format!("{n} s"));
            }
        }
    }
    None
}

/// A degraded answer that is not `isError`: whoami reports an unverifiable credential
/// ("Retry shortly") rather than failing the call.
fn soft_failure(r: &Value) -> bool {
    r["structuredContent"]["status"] == "authentication_unverified"
}

/// A fault that passes by itself: the result must say a retry helps.
fn transient(f: &Misbehaviour) -> bool {
    matches!(
        f,
        Misbehaviour::Hang
            | Misbehaviour::Reset
            | Misbehaviour::ServerError { .. }
            | Misbehaviour::RateLimited { .. }
            | Misbehaviour::SlowDrip { .. }
    )
}

fn alive_tasks() -> usize {
    tokio::runtime::Handle::current().metrics().num_alive_tasks()
}

/// Wait (bounded) for the runtime's task count to come back near `baseline`.
async fn settled_tasks(baseline: usize) -> usize {
    let mut n = alive_tasks();
    for _ in 0..100 {
        if n <= baseline + TASK_SLACK {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        n = alive_tasks();
    }
    n
}

/// Connection tasks of the servers in this process come and go with the client's pool.
const TASK_SLACK: usize = 12;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_matrix() {
    // The breaker stays out of the way here (each cell shows the fault itself); it has its
    // own tests below.
    let no_breaker = BreakerConfig { failure_threshold: 0, ..BreakerConfig::default() };
    let calls = calls();
    let faults = faults();
    let mut rows: Vec<Vec<String>> = calls.iter().map(|c| vec![c.label.to_owned()]).collect();
    let mut problems = Vec::new();
    for fault in &faults {
        let h = H::start(no_breaker.clone()).await;
        // Healthy first: the Space's schema gets cached, every tool works.
        for c in &calls {
            let (r, _) = h.call(c).await;
            let r = r.unwrap_or_else(|| panic!("{} did not answer while healthy", c.label));
            assert!(r.get("isError").is_none() || r["isError"] == false, "{} failed while healthy: {r}", c.label);
        }
        let baseline = alive_tasks();
        for (i, c) in calls.iter().enumerate() {
            let outage = Outage::everywhere(fault.clone());
            if c.space {
                h.spaces.outages().start(outage.host(SPACE_SUB));
            } else {
                h.hub.outages().start(outage);
            }
            let (r, took) = h.call(c).await;
            h.hub.outages().clear();
            h.spaces.outages().clear();
            let cell = match &r {
                None => {
                    problems.push(format!("{} × {}: no answer within {BOUND:?}", c.label, fault.name()));
                    "NO ANSWER".to_owned()
                }
                Some(r) => {
                    let is_error = r["isError"] == true;
                    let verdict = retry_verdict(r);
                    if !is_error && !soft_failure(r) {
                        problems.push(format!("{} × {}: not an error: {}", c.label, fault.name(), text(r)));
                    }
                    if verdict.is_none() {
                        problems.push(format!("{} × {}: no retry verdict: {}", c.label, fault.name(), text(r)));
                    }
                    if transient(fault) && verdict != Some("yes") {
                        problems.push(format!("{} × {}: retry must help: {}", c.label, fault.name(), text(r)));
                    }
                    if matches!(fault, Misbehaviour::RateLimited { .. })
                        && retry_after_hint(r).as_deref() != Some("60 s")
                    {
                        problems.push(format!("{} × {}: no 'retry after 60 s': {}", c.label, fault.name(), text(r)));
                    }
                    let kind = if is_error { "isError" } else { "degraded" };
                    let after = retry_after_hint(r).map(|s| format!(", after {s}")).unwrap_or_default();
                    format!("{kind}, retry: {}{after} ({:.1} s)", verdict.unwrap_or("?"), took.as_secs_f64())
                }
            };
            rows[i].push(cell);
            // Full service once the upstream is back (a hang's stand-in side ends by itself).
            let (r, _) = h.call(c).await;
            match r {
                Some(r) if r["isError"] != true && !soft_failure(&r) => {}
                other => problems.push(format!("{} after {}: not recovered: {other:?}", c.label, fault.name())),
            }
        }
        let left = settled_tasks(baseline).await;
        if left > baseline + TASK_SLACK {
            problems.push(format!("{}: {left} tasks alive after the faults, {baseline} before", fault.name()));
        }
        h.stop().await;
    }
    let mut md = String::new();
    md.push_str("| tool \\ fault |");
    for f in &faults {
        md.push_str(&format!(" {} |", f.name()));
    }
    md.push_str("\n|---|");
    md.push_str(&"---|".repeat(faults.len()));
    md.push('\n');
    for row in &rows {
        md.push_str(&format!("| {} |\n", row.join(" | ")));
    }
    println!("BEGIN MATRIX\n{md}END MATRIX");
    assert!(problems.is_empty(), "{} problems:\n{}\n\n{md}", problems.len(), problems.join("\n"));
}

fn moved(events: &[BreakerEvent], service: &str) -> Vec<(CircuitState, CircuitState)> {
    events
        .iter()
        .filter_map(|e| match e {
            BreakerEvent::Moved { service: s, from, to } if *s == service => Some((*from, *to)),
            _ => None,
        })
        .collect()
}

/// Retry `call` until it succeeds (bounded): the open period passing is the only wait.
async fn until_recovered(h: &H, c: &Call) -> Value {
    for _ in 0..60 {
        let (r, _) = h.call(c).await;
        let r = r.expect("bounded");
        if r["isError"] != true {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("{} never recovered", c.label);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hub_outage_opens_the_hub_circuit_and_a_probe_closes_it() {
    let breaker = BreakerConfig { failure_threshold: 3, open_for: Duration::from_secs(2), ..BreakerConfig::default() };
    let h = H::start(breaker).await;
    let calls = calls();
    let search = &calls[0];
    let details = &calls[1];
    h.hub.outages().start(Outage::everywhere(Misbehaviour::ServerError { status: 503 }));
    // One call's three attempts are three consecutive failures: the circuit opens.
    let (r, _) = h.call(search).await;
    let r = r.unwrap();
    assert_eq!(r["isError"], true, "{r}");
    assert!(text(&r).contains("HTTP 503"), "{r}");
    assert_eq!(h.client.breakers().state(&h.hub_host()), CircuitState::Open);
    // Now every Hub tool fails at once, without reaching the Hub, and says when to retry.
    let before = h.hub.requests().len();
    for c in [search, details] {
        let (r, _) = h.call(c).await;
        let r = r.unwrap();
        assert_eq!(r["isError"], true, "{r}");
        let t = text(&r);
        assert!(t.contains("is failing") && t.contains("Retry: yes, after about"), "{t}");
    }
    let (r, _) = h.call(&calls[3]).await; // hf_fs cat
    let r = r.unwrap();
    assert_eq!(r["structuredContent"]["results"][0]["error"]["code"], "HF_FS_UPSTREAM_UNAVAILABLE", "{r}");
    assert!(text(&r).contains("is failing"), "{r}");
    assert_eq!(h.hub.requests().len(), before, "an open circuit sends nothing");
    let metrics = h.telemetry.prometheus();
    assert!(metrics.contains(r#"mcp_upstream_circuits{service="hub",state="open"} 1"#), "{metrics}");
    assert!(metrics.contains(r#"mcp_upstream_fast_failures_total{service="hub"} 3"#), "{metrics}");
    // The Hub comes back: after the open period one probe goes through and closes it.
    h.hub.outages().clear();
    let r = until_recovered(&h, search).await;
    assert!(r.get("isError").is_none(), "{r}");
    assert_eq!(h.client.breakers().state(&h.hub_host()), CircuitState::Closed);
    use CircuitState::*;
    assert_eq!(moved(&h.events.lock().unwrap(), "hub"), vec![(Closed, Open), (Open, HalfOpen), (HalfOpen, Closed)]);
    let metrics = h.telemetry.prometheus();
    assert!(metrics.contains(r#"mcp_upstream_circuits{service="hub",state="open"} 0"#), "{metrics}");
    // Full service.
    for c in &calls {
        let (r, _) = h.call(c).await;
        let r = r.unwrap();
        assert!(r["isError"] != true, "{} after recovery: {r}", c.label);
    }
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_space_opens_its_circuit_without_touching_the_hub_or_other_spaces() {
    let breaker = BreakerConfig { failure_threshold: 2, open_for: Duration::from_secs(2), ..BreakerConfig::default() };
    let h = H::start(breaker).await;
    let calls = calls();
    let space = calls.iter().find(|c| c.space).unwrap();
    let (r, _) = h.call(space).await;
    assert!(r.unwrap().get("isError").is_none());
    // The Space hangs: two timed-out calls open its circuit.
    h.spaces.outages().start(Outage::everywhere(Misbehaviour::Hang).host(SPACE_SUB).lasting(Duration::from_secs(60)));
    for _ in 0..2 {
        let (r, _) = h.call(space).await;
        let r = r.unwrap();
        assert_eq!(r["isError"], true);
        assert!(text(&r).contains("neither a result nor progress"), "{r}");
    }
    assert_eq!(h.client.breakers().state(&h.space_host()), CircuitState::Open);
    let seen = h.spaces.requests_to(SPACE_SUB).len();
    let (r, _) = h.call(space).await;
    let r = r.unwrap();
    assert_eq!(r["isError"], true);
    let t = text(&r);
    assert!(t.contains("is failing") && t.contains("retry after"), "{t}");
    assert_eq!(h.spaces.requests_to(SPACE_SUB).len(), seen, "the dead Space was not called");
    // The Hub's circuit is unaffected.
    let (r, _) = h.call(&calls[0]).await;
    assert!(r.unwrap().get("isError").is_none());
    assert_eq!(h.client.breakers().state(&h.hub_host()), CircuitState::Closed);
    let metrics = h.telemetry.prometheus();
    assert!(metrics.contains(r#"mcp_upstream_circuits{service="space",state="open"} 1"#), "{metrics}");
    assert!(metrics.contains(r#"mcp_upstream_fast_failures_total{service="space"} 1"#), "{metrics}");
    // Back up: a probe after the open period closes the circuit.
    h.spaces.outages().clear();
    let r = until_recovered(&h, space).await;
    assert!(r.get("isError").is_none(), "{r}");
    assert_eq!(h.client.breakers().state(&h.space_host()), CircuitState::Closed);
    use CircuitState::*;
    assert_eq!(moved(&h.events.lock().unwrap(), "space"), vec![(Closed, Open), (Open, HalfOpen), (HalfOpen, Closed)]);
    h.stop().await;
}

/// A failing Space keeps its tools listed (its stale schema is served while revalidation
/// fails), so a call gets the Space's failure as an `isError` result, not "unknown tool".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_space_keeps_its_tools_from_a_stale_schema() {
    let h = H::start_with(BreakerConfig::default(), Duration::from_millis(1)).await;
    let calls = calls();
    let space = calls.iter().find(|c| c.space).unwrap();
    let (r, _) = h.call(space).await;
    assert!(r.unwrap().get("isError").is_none());
    h.spaces.outages().start(Outage::everywhere(Misbehaviour::ServerError { status: 503 }).host(SPACE_SUB));
    let (_, listed) = h.server.rpc_full(space.query, "tools/list", json!({}), None, json!({})).await;
    let names: Vec<&str> =
        listed["result"]["tools"].as_array().unwrap().iter().filter_map(|t| t["name"].as_str()).collect();
    assert!(names.contains(&SPACE_TOOL), "{names:?}");
    let (r, _) = h.call(space).await;
    let r = r.unwrap();
    assert_eq!(r["isError"], true, "{r}");
    assert!(text(&r).contains("HTTP 503"), "{r}");
    h.spaces.outages().clear();
    let (r, _) = h.call(space).await;
    assert!(r.unwrap().get("isError").is_none());
    h.stop().await;
}
