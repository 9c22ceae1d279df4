//! The circuit breaker as the binary wires it: `--upstream-failure-threshold` and
//! `--upstream-open-seconds` (as env vars) reach the Hub client, a Hub outage opens the Hub's
//! circuit, `/metrics` shows it open and counts the calls failed fast, and the circuit
//! closes once the Hub answers again.

use std::process::Command;
use std::time::Duration;

use hub_standin::outage::{Misbehaviour, Outage};
use hub_standin::{spawn, StandIn, StandInConfig};
use serde_json::{json, Value};

mod common;
use common::{serve_binary, BIN};

fn call(url: &str) -> Value {
    let body = json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
        "name": "hub_repo_search", "arguments": { "query": "bert" },
        "_meta": { "io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {} } } });
    let res = reqwest::blocking::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/call")
        .header("mcp-name", "hub_repo_search")
        .timeout(Duration::from_secs(60))
        .body(body.to_string())
        .send()
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json::<Value>().unwrap()["result"].clone()
}

fn metrics(base: &str) -> String {
    reqwest::blocking::get(format!("{base}/metrics")).unwrap().text().unwrap()
}

fn text(r: &Value) -> String {
    r["content"][0]["text"].as_str().unwrap_or_default().to_owned()
}

#[test]
fn a_hub_outage_opens_the_circuit_and_metrics_show_it() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let hub: StandIn = rt.block_on(spawn(StandInConfig::default()));
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--port", "0"])
        .env("HF_ENDPOINT", &hub.base_url)
        .env("HF_DATASETS_SERVER_ENDPOINT", &hub.datasets_server_url)
        .env("HUBMCP_UPSTREAM_FAILURE_THRESHOLD", "2")
        .env("HUBMCP_UPSTREAM_OPEN_SECONDS", "1")
        .env_remove("HUBMCP_TOOLSET")
        .env_remove("HF_TOKEN");
    let server = serve_binary(cmd);
    assert!(call(&server.url).get("isError").is_none());

    hub.outages().start(Outage::everywhere(Misbehaviour::ServerError { status: 502 }));
    let r = call(&server.url);
    assert_eq!(r["isError"], true, "{r}");
    let before = hub.requests().len();
    let r = call(&server.url);
    assert!(text(&r).contains("is failing"), "{r}");
    assert_eq!(hub.requests().len(), before, "the open circuit sent nothing");
    let m = metrics(&server.base);
    assert!(m.contains(r#"mcp_upstream_circuits{service="hub",state="open"} 1"#), "{m}");
    // Refused: the first call's later attempts (its circuit opened after two) and every Hub
    // request of the next call (a search may ask for several repository types).
    let fast: u64 = m
        .lines()
        .find_map(|l| l.strip_prefix(r#"mcp_upstream_fast_failures_total{service="hub"} "#))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(fast >= 2, "{m}");

    hub.outages().clear();
    let mut recovered = false;
    for _ in 0..40 {
        std::thread::sleep(Duration::from_millis(250));
        if call(&server.url).get("isError").is_none() {
            recovered = true;
            break;
        }
    }
    assert!(recovered, "the circuit never closed");
    let m = metrics(&server.base);
    assert!(m.contains(r#"mcp_upstream_circuits{service="hub",state="open"} 0"#), "{m}");
    assert!(m.contains(r#"mcp_upstream_circuits{service="hub",state="half_open"} 0"#), "{m}");
    drop(server);
    rt.block_on(hub.shutdown());
}
