//! `hf_jobs` through the `hubmcp` binary as users run it (`serve`, debug logging, metrics
//! on): a job that echoes a secret and the caller's token leaves neither in the result, the
//! server's log nor `/metrics`; `--confirm-destructive` (env `HUBMCP_CONFIRM_DESTRUCTIVE`)
//! switches the cancel confirmation off, and a bad value is refused at startup.

use std::process::Command;
use std::time::Duration;

use hub_standin::{tokens, StandIn};
use serde_json::{json, Value};

mod common;
use common::{hub, serve_binary, ServedBinary, BIN};

const SECRET: &str = "binary-secret-9431";
const PASSWORD: &str = "metrics-pass-jobs";

fn serve(hub: &StandIn, extra_env: &[(&str, &str)]) -> ServedBinary {
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--port", "0"])
        .env("HF_ENDPOINT", &hub.base_url)
        .env("HF_DATASETS_SERVER_ENDPOINT", &hub.datasets_server_url)
        .env("HUBMCP_LOG", "debug")
        .env("METRICS_PAGE_PASSWORD", PASSWORD)
        .env("NO_COLOR", "1")
        .env_remove("HUBMCP_TOOLSET")
        .env_remove("HUBMCP_CONFIRM_DESTRUCTIVE")
        .env_remove("HF_TOKEN");
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    serve_binary(cmd)
}

/// A stateless `hf_jobs` call by alice with `caps`; the whole response text and its last message.
fn jobs(url: &str, op: &str, args: Value, caps: Value) -> (String, Value) {
    let body = json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
        "name": "hf_jobs", "arguments": { "operation": op, "args": args },
        "_meta": { "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": caps, "progressToken": "p" } } });
    let res = reqwest::blocking::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/call")
        .header("mcp-name", "hf_jobs")
        .header("authorization", format!("Bearer {}", tokens::ALICE_WRITE))
        .timeout(Duration::from_secs(60))
        .body(body.to_string())
        .send()
        .unwrap();
    assert_eq!(res.status(), 200);
    let text = res.text().unwrap();
    let last = text.lines().filter_map(|l| l.strip_prefix("data: ")).next_back().unwrap_or(&text).to_owned();
    (text, serde_json::from_str(&last).unwrap())
}

#[test]
fn no_secret_or_token_in_results_logs_or_metrics() {
    let hub = hub();
    let server = serve(&hub.standin, &[]);
    let args = json!({ "command": ["sh", "-c", "echo s=$S t=$T; echo bye"],
        "secrets": { "S": SECRET, "T": "$HF_TOKEN" } });
    let (whole, last) = jobs(&server.url, "run", args, json!({}));
    let outcome = &last["result"]["structuredContent"]["outcome"];
    assert_eq!(outcome["logs"], json!(["s=<redacted> t=<redacted>", "bye"]), "{last}");
    assert!(whole.contains("notifications/progress"), "lines relayed as progress: {whole}");
    let c = reqwest::blocking::Client::new();
    let metrics = c
        .get(format!("{}/metrics", server.base))
        .basic_auth("prometheus", Some(PASSWORD))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(metrics.contains("tools/call"), "metrics are on: {metrics}");
    std::thread::sleep(Duration::from_millis(200));
    let log = server.log.lock().unwrap().join("\n");
    assert!(log.contains("hub jobs request"), "debug logging is on");
    for (what, text) in [("result", &whole), ("log", &log), ("/metrics", &metrics)] {
        assert!(!text.contains(SECRET), "secret in the {what}");
        assert!(!text.contains(tokens::ALICE_WRITE), "token in the {what}");
    }
}

#[test]
fn confirm_destructive_flag() {
    let hub = hub();
    // Off: a client that could be asked is not.
    let server = serve(&hub.standin, &[("HUBMCP_CONFIRM_DESTRUCTIVE", "off")]);
    let (_, started) = jobs(&server.url, "run", json!({ "command": ["sleep", "60"], "detach": true }), json!({}));
    let id = started["result"]["structuredContent"]["outcome"]["job"]["id"].as_str().unwrap().to_owned();
    let (_, r) = jobs(&server.url, "cancel", json!({ "job_id": id }), json!({ "elicitation": {} }));
    assert_eq!(r["result"]["structuredContent"]["outcome"]["action"], "canceled", "{r}");
    drop(server);
    // On (the default): asked.
    let server = serve(&hub.standin, &[]);
    let (_, started) = jobs(&server.url, "run", json!({ "command": ["sleep", "60"], "detach": true }), json!({}));
    let id = started["result"]["structuredContent"]["outcome"]["job"]["id"].as_str().unwrap().to_owned();
    let (_, r) = jobs(&server.url, "cancel", json!({ "job_id": id }), json!({ "elicitation": {} }));
    assert_eq!(r["result"]["resultType"], "input_required", "{r}");
    drop(server);
    // A bad value stops the server with a message.
    let out = Command::new(BIN)
        .args(["serve", "--port", "0", "--confirm-destructive", "maybe"])
        .env("HF_ENDPOINT", &hub.standin.base_url)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("possible values: on, off"));
}
