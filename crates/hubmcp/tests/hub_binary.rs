//! The `hubmcp` binary with its default `hub` toolset, as users run it, pointed at the Hub
//! stand-in through `HF_ENDPOINT`: `serve` over a real TCP port (2026-07-28 `tools/call`
//! of every tool, an upstream timeout via `HF_API_TIMEOUT`, nothing secret in the logs) and
//! `stdio` with `HF_TOKEN` as the caller's token (session-era `initialize`).

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use hub_standin::{repos, tokens, FaultRule, StandIn};
use serde_json::{json, Value};

mod common;
use common::{hub, serve_binary, ServedBinary, BIN};

/// `hubmcp serve` (default toolset) on an ephemeral port, Hub at `hub`, debug logging.
fn serve(hub: &StandIn, extra_env: &[(&str, &str)]) -> ServedBinary {
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--port", "0"])
        .env("HF_ENDPOINT", &hub.base_url)
        .env("HF_DATASETS_SERVER_ENDPOINT", &hub.datasets_server_url)
        .env("HUBMCP_LOG", "debug")
        .env("NO_COLOR", "1")
        .env_remove("HUBMCP_TOOLSET")
        .env_remove("HF_TOKEN");
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    serve_binary(cmd)
}

fn call(url: &str, tool: &str, args: Value, token: Option<&str>) -> Value {
    let body = json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
        "name": tool, "arguments": args,
        "_meta": { "io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {} } } });
    let mut r = reqwest::blocking::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/call")
        .header("mcp-name", tool)
        .timeout(Duration::from_secs(60));
    if let Some(t) = token {
        r = r.header("authorization", format!("Bearer {t}"));
    }
    let res = r.body(body.to_string()).send().unwrap();
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

fn text(r: &Value) -> String {
    r["content"].as_array().unwrap().iter().filter_map(|c| c["text"].as_str()).collect::<Vec<_>>().join("\n")
}

#[test]
fn serve_defaults_to_the_hub_toolset_and_runs_every_tool() {
    let hub = hub();
    // HF_API_TIMEOUT in milliseconds, as hf-mcp-server reads it.
    let server = serve(&hub.standin, &[("HF_API_TIMEOUT", "1000")]);
    let url = server.url.clone();

    let who = call(&url, "hf_whoami", json!({}), Some(tokens::ALICE_WRITE));
    assert_eq!(who["structuredContent"]["account"]["name"], "alice");

    let search = call(&url, "hub_repo_search", json!({ "query": "bert", "limit": 5 }), None);
    assert!(text(&search).contains(repos::PUBLIC_MODEL));

    let details = call(
        &url,
        "hub_repo_details",
        json!({ "repo_ids": [repos::PUBLIC_DATASET], "operations": ["dataset_structure"] }),
        None,
    );
    assert!(text(&details).contains("Configs and Splits"), "{}", text(&details));

    let fs = call(
        &url,
        "hf_fs",
        json!({ "operations": [
            { "cmd": "cat", "args": [format!("hf://models/{}/config.json", repos::GATED_MODEL)] },
            { "cmd": "search", "args": ["hf://papers", "bert"] }
        ] }),
        Some(tokens::ALICE_WRITE),
    );
    let results = fs["structuredContent"]["results"].as_array().unwrap();
    assert_eq!(results[0]["status"], "success", "{}", results[0]);
    assert_eq!(results[1]["result"]["entries"][0]["uri"], "hf://papers/1810.04805");

    // HF_API_TIMEOUT bounds a slow Hub; the result says a retry may help; the next call works.
    // (Only the search: the default Space's metadata is also read under /api/spaces.)
    let mut slow_search = FaultRule::delay("/api/spaces", Duration::from_secs(4), Some(1));
    slow_search.query_contains = Some("limit=".into());
    hub.standin.inject(slow_search);
    let started = Instant::now();
    let slow = call(&url, "hub_repo_search", json!({ "repo_types": ["space"] }), None);
    assert!(started.elapsed() < Duration::from_secs(4));
    assert_eq!(slow["isError"], true);
    assert!(text(&slow).contains("Retry: yes"), "{}", text(&slow));
    let again = call(&url, "hub_repo_search", json!({ "repo_types": ["space"] }), None);
    assert!(again["isError"].is_null(), "{}", text(&again));

    // Every request went to HF_ENDPOINT, with the caller's token where one was sent.
    let seen = hub.standin.requests();
    assert!(seen.iter().any(|r| r.path == "/api/whoami-v2" && r.bearer_token() == Some(tokens::ALICE_WRITE)));
    assert!(seen.iter().any(|r| r.path.starts_with("/datasets-server/")));
    // Nothing secret in the server's own logs, even at debug level.
    std::thread::sleep(Duration::from_millis(200));
    let log = server.log.lock().unwrap().join("\n");
    assert!(log.contains("hub request"), "debug logging is on");
    assert!(!log.contains(tokens::ALICE_WRITE), "token in the server log");
}

#[test]
fn serve_rejects_an_invalid_endpoint() {
    let out = Command::new(BIN)
        .args(["serve", "--port", "0"])
        .env("HF_ENDPOINT", "not a url")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("HF_ENDPOINT"));
}

struct Stdio_ {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Stdio_ {
    fn send(&mut self, msg: Value) {
        writeln!(self.stdin, "{msg}").unwrap();
        self.stdin.flush().unwrap();
    }
    fn until_response(&mut self, id: i64) -> Value {
        loop {
            let mut line = String::new();
            assert!(self.stdout.read_line(&mut line).unwrap() > 0, "stdout closed");
            let v: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("non-JSON on stdout: {line:?} ({e})"));
            if v["id"] == id && (v.get("result").is_some() || v.get("error").is_some()) {
                return v;
            }
        }
    }
}

impl Drop for Stdio_ {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn stdio_uses_hf_token_as_the_caller() {
    let hub = hub();
    let mut child = Command::new(BIN)
        .arg("stdio")
        .env("HF_ENDPOINT", &hub.standin.base_url)
        .env("HF_DATASETS_SERVER_ENDPOINT", &hub.standin.datasets_server_url)
        .env("HF_TOKEN", tokens::CAROL_FINEGRAINED)
        .env("HUBMCP_LOG", "debug")
        .env_remove("HUBMCP_TOOLSET")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let log = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut BufReader::new(stderr), &mut s);
        s
    });
    let mut s =
        Stdio_ { stdin: child.stdin.take().unwrap(), stdout: BufReader::new(child.stdout.take().unwrap()), child };
    s.send(json!({ "jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": { "name": "t", "version": "1" } } }));
    let init = s.until_response(0);
    let instructions = init["result"]["instructions"].as_str().unwrap();
    assert!(instructions.contains("hub_repo_details"));
    // As the hosted server over stdio: the instructions name HF_TOKEN's user.
    assert!(
        instructions.starts_with("Hugging Face tools are being used by authenticated user 'carol'."),
        "{instructions}"
    );
    s.send(json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }));
    s.send(json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list" }));
    let list = s.until_response(1);
    // An authenticated caller gets every built-in tool (dynamic_space, create_repo and hf_jobs included)
    // by default, but hf_fs_write (enabled by the hf_files setting, as upstream).
    let names: Vec<&str> =
        list["result"]["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names.len(), 7, "{names:?}");
    assert!(names.contains(&"create_repo") && !names.contains(&"hf_fs_write"), "{names:?}");
    s.send(json!({ "jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": { "name": "hf_whoami", "arguments": {} } }));
    let who = s.until_response(2);
    assert_eq!(who["result"]["structuredContent"]["account"]["name"], "carol");
    assert!(!who.to_string().contains(tokens::CAROL_FINEGRAINED));
    s.send(json!({ "jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": { "name": "hf_fs",
        "arguments": { "operations": [{ "cmd": "ls", "args": [format!("hf://models/{}", repos::PRIVATE_MODEL)] }] } } }));
    let ls = s.until_response(3);
    assert_eq!(ls["result"]["structuredContent"]["results"][0]["status"], "success", "{ls}");
    assert!(hub
        .standin
        .requests()
        .iter()
        .filter(|r| !r.path.starts_with("/__"))
        .all(|r| r.bearer_token() == Some(tokens::CAROL_FINEGRAINED)));
    drop(s);
    assert!(!log.join().unwrap().contains(tokens::CAROL_FINEGRAINED), "token in the stdio server's log");
}
