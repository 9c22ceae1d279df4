//! The write tools in the `hubmcp` binary as operators run it, against the Hub stand-in:
//! `--confirm-destructive` (flag and `HUBMCP_CONFIRM_DESTRUCTIVE`) decides whether a delete
//! is confirmed, and no token — the caller's HF token, or the Xet access token a bucket upload
//! uses — ever reaches a tool result, the debug or trace log or `/metrics`.

use std::process::Command;
use std::time::Duration;

use hub_standin::{tokens, StandIn};
use serde_json::{json, Value};

mod common;
use common::{hub, serve_binary, ServedBinary, BIN};

fn serve(hub: &StandIn, args: &[&str], env: &[(&str, &str)]) -> ServedBinary {
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--port", "0"])
        .args(args)
        .env("HF_ENDPOINT", &hub.base_url)
        .env("HF_DATASETS_SERVER_ENDPOINT", &hub.datasets_server_url)
        .env("HUBMCP_LOG", "debug")
        .env("NO_COLOR", "1")
        .env_remove("HUBMCP_TOOLSET")
        .env_remove("HUBMCP_CONFIRM_DESTRUCTIVE")
        .env_remove("HF_TOKEN");
    for (k, v) in env {
        cmd.env(k, v);
    }
    serve_binary(cmd)
}

/// A 2026-07-28 `tools/call` with both write tools selected; returns the JSON-RPC result.
fn call(url: &str, tool: &str, args: Value, token: &str, caps: Value) -> Value {
    let body = json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
        "name": tool, "arguments": args,
        "_meta": { "io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": caps } } });
    let res = reqwest::blocking::Client::new()
        .post(format!("{url}?bouquet=research"))
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/call")
        .header("mcp-name", tool)
        .header("authorization", format!("Bearer {token}"))
        .timeout(Duration::from_secs(60))
        .body(body.to_string())
        .send()
        .unwrap();
    assert_eq!(res.status(), 200);
    let ct = res.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    let text = res.text().unwrap();
    let v: Value = if ct.starts_with("text/event-stream") {
        serde_json::from_str(text.lines().filter_map(|l| l.strip_prefix("data: ")).next_back().unwrap()).unwrap()
    } else {
        serde_json::from_str(&text).unwrap()
    };
    assert!(v.get("error").is_none(), "protocol error: {v}");
    v["result"].clone()
}

const TOKENS: [&str; 3] = [tokens::ALICE_WRITE, tokens::BOB_READ, tokens::CAROL_FINEGRAINED];

#[test]
fn writes_are_confirmed_by_default_and_leak_no_token() {
    let hub = hub();
    let server = serve(&hub.standin, &[], &[]);
    let (url, alice) = (server.url.clone(), tokens::ALICE_WRITE);
    let mut results = Vec::new();
    results.push(call(&url, "create_repo", json!({ "uri": "hf://models/alice/bin" }), alice, json!({})));
    results.push(call(
        &url,
        "hf_fs_write",
        json!({ "cmd": "put", "args": ["hf://models/alice/bin/a.txt"], "content": "a" }),
        alice,
        json!({}),
    ));
    let rm = json!({ "cmd": "rm", "args": ["hf://models/alice/bin/a.txt"] });
    let asked = call(&url, "hf_fs_write", rm, alice, json!({ "elicitation": {} }));
    assert_eq!(asked["resultType"], "input_required", "{asked}");
    for token in [tokens::BOB_READ, tokens::CAROL_FINEGRAINED] {
        let refused = call(&url, "create_repo", json!({ "uri": "hf://models/x/y" }), token, json!({}));
        assert_eq!(refused["isError"], true, "{refused}");
        results.push(refused);
    }
    results.push(asked);
    assert!(results[0]["isError"].is_null() && results[1]["isError"].is_null(), "{results:?}");

    let metrics = reqwest::blocking::get(format!("{}/metrics", server.base)).unwrap().text().unwrap();
    assert!(metrics.contains("tool=\"create_repo\""), "tool calls are counted");
    std::thread::sleep(Duration::from_millis(200));
    let log = server.log.lock().unwrap().join("\n");
    assert!(log.contains("hub request"), "debug logging is on");
    let results = serde_json::to_string(&results).unwrap();
    for t in TOKENS {
        assert!(!results.contains(t), "token in a tool result");
        assert!(!log.contains(t), "token in the server log");
        assert!(!metrics.contains(t), "token in /metrics");
    }
}

#[test]
fn bucket_puts_leak_no_token_even_at_trace_level() {
    let hub = hub();
    let server = serve(&hub.standin, &[], &[("HUBMCP_LOG", "trace")]);
    let (url, alice) = (server.url.clone(), tokens::ALICE_WRITE);
    let put = |token| {
        let args = json!({ "cmd": "put", "args": ["hf://buckets/alice/scratch/bin/a.txt"], "content": "xet me" });
        call(&url, "hf_fs_write", args, token, json!({}))
    };
    let results = vec![put(alice), put(tokens::BOB_READ)];
    assert!(results[0]["isError"].is_null(), "{results:?}");
    assert_eq!(results[1]["isError"], true, "{results:?}");
    let xet_tokens: Vec<String> = hub
        .standin
        .requests()
        .iter()
        .filter(|r| r.path.contains("/v1/xorbs/") || r.path.ends_with("/v1/shards"))
        .filter_map(|r| r.bearer_token().map(str::to_owned))
        .collect();
    assert!(!xet_tokens.is_empty(), "the upload went through the CAS");

    let metrics = reqwest::blocking::get(format!("{}/metrics", server.base)).unwrap().text().unwrap();
    assert!(metrics.contains("tool=\"hf_fs_write\""), "tool calls are counted");
    std::thread::sleep(Duration::from_millis(200));
    let log = server.log.lock().unwrap().join("\n");
    assert!(log.contains("TRACE"), "trace logging is on");
    let results = serde_json::to_string(&results).unwrap();
    for t in TOKENS.iter().copied().chain(xet_tokens.iter().map(String::as_str)) {
        assert!(!results.contains(t), "token in a tool result");
        assert!(!log.contains(t), "token in the server log");
        assert!(!metrics.contains(t), "token in /metrics");
    }
}

#[test]
fn confirm_destructive_off_by_flag_or_env() {
    let hub = hub();
    for (args, env) in
        [(&["--confirm-destructive", "off"][..], &[][..]), (&[][..], &[("HUBMCP_CONFIRM_DESTRUCTIVE", "off")][..])]
    {
        let server = serve(&hub.standin, args, env);
        let (url, alice) = (server.url.clone(), tokens::ALICE_WRITE);
        let repo = format!("hf://models/alice/off-{}", if args.is_empty() { "env" } else { "flag" });
        let r = call(&url, "create_repo", json!({ "uri": repo }), alice, json!({}));
        assert!(r["isError"].is_null(), "{r}");
        let file = format!("{repo}/a.txt");
        call(&url, "hf_fs_write", json!({ "cmd": "put", "args": [file], "content": "a" }), alice, json!({}));
        let r = call(&url, "hf_fs_write", json!({ "cmd": "rm", "args": [file] }), alice, json!({ "elicitation": {} }));
        assert_eq!(r["structuredContent"]["done"], true, "{r}");
    }
    let help = Command::new(BIN).args(["serve", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("--confirm-destructive") && help.contains("HUBMCP_CONFIRM_DESTRUCTIVE"), "{help}");
}
