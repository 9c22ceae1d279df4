//! The `hubmcp` binary as users run it: a real child process over stdio, and over a real
//! TCP port with the conformance toolset.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_hubmcp");

struct StdioServer {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl StdioServer {
    fn start() -> Self {
        let mut child = Command::new(BIN)
            .args(["stdio", "--toolset", "conformance"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn hubmcp stdio");
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        StdioServer { child, stdin, stdout }
    }

    fn send(&mut self, msg: Value) {
        writeln!(self.stdin, "{msg}").unwrap();
        self.stdin.flush().unwrap();
    }

    /// Read one line; every line on stdout must be a JSON-RPC message.
    fn recv(&mut self) -> Value {
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        let v: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("non-JSON on stdout: {line:?} ({e})"));
        assert_eq!(v["jsonrpc"], "2.0", "{v}");
        v
    }

    /// Read until the response with `id`, returning it and the messages before it.
    fn until_response(&mut self, id: i64) -> (Value, Vec<Value>) {
        let mut before = Vec::new();
        loop {
            let v = self.recv();
            if v["id"] == id && (v.get("result").is_some() || v.get("error").is_some()) {
                return (v, before);
            }
            before.push(v);
        }
    }
}

impl Drop for StdioServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn meta() -> Value {
    json!({ "io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {} })
}

#[test]
fn stdio_modern_discover_progress_and_errors() {
    let mut s = StdioServer::start();
    s.send(json!({ "jsonrpc": "2.0", "id": 1, "method": "server/discover", "params": { "_meta": meta() } }));
    let (r, _) = s.until_response(1);
    assert_eq!(r["result"]["supportedVersions"], json!(["2026-07-28"]));
    assert_eq!(r["result"]["resultType"], "complete");
    assert_eq!(r["result"]["_meta"]["io.modelcontextprotocol/serverInfo"]["name"], "hubmcp");

    let mut m = meta();
    m["progressToken"] = json!("p");
    s.send(json!({ "jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": { "name": "test_tool_with_progress", "_meta": m } }));
    let (r, before) = s.until_response(2);
    let progress: Vec<f64> = before
        .iter()
        .filter(|n| n["method"] == "notifications/progress")
        .map(|n| n["params"]["progress"].as_f64().unwrap())
        .collect();
    assert_eq!(progress, vec![0.0, 50.0, 100.0]);
    assert_eq!(r["result"]["content"][0]["text"], "p");

    let mut bad = meta();
    bad["io.modelcontextprotocol/protocolVersion"] = json!("1999-01-01");
    s.send(json!({ "jsonrpc": "2.0", "id": 3, "method": "tools/list", "params": { "_meta": bad } }));
    let (r, _) = s.until_response(3);
    assert_eq!(r["error"]["code"], -32022);
    assert_eq!(r["error"]["data"]["requested"], "1999-01-01");

    s.send(json!({ "jsonrpc": "2.0", "id": 4, "method": "ping", "params": { "_meta": meta() } }));
    assert_eq!(s.until_response(4).0["error"]["code"], -32601);

    s.send(json!({ "jsonrpc": "2.0", "id": 5, "method": "tools/list", "params": { "_meta": { "io.modelcontextprotocol/protocolVersion": "2026-07-28" } } }));
    assert_eq!(s.until_response(5).0["error"]["code"], -32602);

    // Garbage gets a parse error with a null id, and the connection stays usable.
    writeln!(s.stdin, "{{not json").unwrap();
    let v = s.recv();
    assert_eq!((v["error"]["code"].as_i64(), &v["id"]), (Some(-32700), &Value::Null));
}

#[test]
fn stdio_subscription_and_cancellation() {
    let mut s = StdioServer::start();
    s.send(json!({ "jsonrpc": "2.0", "id": "sub", "method": "subscriptions/listen",
                   "params": { "_meta": meta(), "notifications": { "toolsListChanged": true } } }));
    let ack = s.recv();
    assert_eq!(ack["method"], "notifications/subscriptions/acknowledged");
    assert_eq!(ack["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"], "sub");
    s.send(json!({ "jsonrpc": "2.0", "id": 10, "method": "tools/call", "params": { "name": "test_trigger_tool_change", "_meta": meta() } }));
    // The change notification and the tool's response travel independently: take both.
    let (mut responded, mut changed) = (false, None);
    while !(responded && changed.is_some()) {
        let v = s.recv();
        if v["id"] == 10 {
            responded = true;
        } else if v["method"] == "notifications/tools/list_changed" {
            changed = Some(v);
        }
    }
    let changed = changed.unwrap();
    assert_eq!(changed["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"], "sub");
    // Cancel the subscription; later changes are no longer delivered to it.
    s.send(json!({ "jsonrpc": "2.0", "method": "notifications/cancelled", "params": { "requestId": "sub" } }));
    std::thread::sleep(Duration::from_millis(100));
    s.send(json!({ "jsonrpc": "2.0", "id": 11, "method": "tools/call", "params": { "name": "test_trigger_tool_change", "_meta": meta() } }));
    let (_, mut seen) = s.until_response(11);
    // A later round trip gives a late notification time to show up.
    s.send(json!({ "jsonrpc": "2.0", "id": 12, "method": "server/discover", "params": { "_meta": meta() } }));
    seen.extend(s.until_response(12).1);
    assert!(seen.iter().all(|n| n["method"] != "notifications/tools/list_changed"), "{seen:?}");
}

#[test]
fn stdio_session_era_handshake() {
    let mut s = StdioServer::start();
    s.send(json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": { "elicitation": {} },
        "clientInfo": { "name": "legacy-client", "version": "1.0" } } }));
    let (r, _) = s.until_response(1);
    assert_eq!(r["result"]["protocolVersion"], "2025-06-18");
    assert_eq!(r["result"]["serverInfo"]["name"], "hubmcp");
    assert!(r["result"].get("resultType").is_none(), "session-era results carry no resultType");
    s.send(json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }));
    s.send(json!({ "jsonrpc": "2.0", "id": 2, "method": "ping" }));
    assert_eq!(s.until_response(2).0["result"], json!({}));
    s.send(json!({ "jsonrpc": "2.0", "id": 3, "method": "tools/list" }));
    let (r, _) = s.until_response(3);
    assert!(r["result"]["tools"].as_array().unwrap().iter().any(|t| t["name"] == "test_simple_text"));

    // An input request becomes a real server-initiated request in this era.
    s.send(json!({ "jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": { "name": "test_input_required_result_elicitation" } }));
    let req = s.recv();
    assert_eq!(req["method"], "elicitation/create");
    s.send(
        json!({ "jsonrpc": "2.0", "id": req["id"], "result": { "action": "accept", "content": { "name": "Ada" } } }),
    );
    let (r, _) = s.until_response(4);
    assert_eq!(r["result"]["content"][0]["text"], "Hello, Ada!");
}

/// Start `hubmcp serve` on an ephemeral port and return the child and the endpoint URL.
fn serve() -> (Child, String) {
    let mut child = Command::new(BIN)
        .args(["serve", "--toolset", "conformance", "--port", "0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn hubmcp serve");
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let deadline = Instant::now() + Duration::from_secs(30);
    let url = loop {
        assert!(Instant::now() < deadline, "server did not report its address");
        let line = lines.next().expect("stderr open").unwrap();
        if let Some(i) = line.find("listening on ") {
            break line[i + "listening on ".len()..].trim().to_owned();
        }
    };
    // Keep draining stderr so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines.by_ref() {});
    (child, url)
}

#[test]
fn http_serve_and_sigterm() {
    let (mut child, url) = serve();
    let client = reqwest::blocking::Client::new();
    let res = client
        .post(&url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/call")
        .header("mcp-name", "test_simple_text")
        .body(json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": { "name": "test_simple_text", "_meta": meta() } }).to_string())
        .send()
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().unwrap();
    assert_eq!(body["result"]["content"][0]["text"], "This is a simple text response for testing.");

    // SIGTERM: the process drains and exits cleanly.
    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "exit status {status}");
            break;
        }
        assert!(Instant::now() < deadline, "server did not stop after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}
