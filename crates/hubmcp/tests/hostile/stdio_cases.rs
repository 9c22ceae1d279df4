//! The stdio half of the hostile catalogue: `hubmcp stdio` (conformance toolset, a token
//! in `HF_TOKEN`) fed broken lines. JSON-RPC codes as for HTTP, without statuses; stdout
//! must carry only JSON-RPC messages; after each case a `server/discover` must be
//! answered within the liveness bound.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio as Pipe};
use std::sync::mpsc::{channel, Receiver};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::fixture::{meta, TOKEN_A};
use super::harness::{liveness_bound, maybe, one, Case, Codes, Outcome};

pub struct Stdio {
    child: Mutex<Child>,
    stdin: Mutex<ChildStdin>,
    lines: Mutex<Receiver<String>>,
}

impl Drop for Stdio {
    fn drop(&mut self) {
        let mut c = self.child.lock().unwrap();
        let _ = c.kill();
        let _ = c.wait();
    }
}

impl Stdio {
    pub fn start() -> Stdio {
        let mut child = Command::new(env!("CARGO_BIN_EXE_hubmcp"))
            .args(["stdio", "--toolset", "conformance"])
            .env("HF_TOKEN", TOKEN_A)
            .env("HUBMCP_LOG", "debug")
            .env_remove("HUBMCP_TOOLSET")
            .stdin(Pipe::piped())
            .stdout(Pipe::piped())
            .stderr(Pipe::null())
            .spawn()
            .expect("spawn hubmcp stdio");
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Stdio { child: Mutex::new(child), stdin: Mutex::new(stdin), lines: Mutex::new(rx) }
    }

    pub fn write(&self, bytes: &[u8]) {
        let mut w = self.stdin.lock().unwrap();
        let _ = w.write_all(bytes);
        let _ = w.flush();
    }

    /// Lines until one is a response (result or error), or `wait` passes.
    pub fn collect(&self, wait: Duration) -> Vec<String> {
        let rx = self.lines.lock().unwrap();
        let end = Instant::now() + wait;
        let mut out = Vec::new();
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            match rx.recv_timeout(left) {
                Ok(l) => {
                    let done = serde_json::from_str::<Value>(&l)
                        .is_ok_and(|v| v.get("result").is_some() || v.get("error").is_some());
                    out.push(l);
                    if done {
                        break;
                    }
                }
                Err(_) => break,
            }
        }
        out
    }

    pub fn alive(&self) -> Result<(), String> {
        let id = format!("alive-{}", rand_id());
        let msg = json!({ "jsonrpc": "2.0", "id": id, "method": "server/discover", "params": { "_meta": meta() } });
        self.write(format!("{msg}\n").as_bytes());
        let end = Instant::now() + liveness_bound();
        while Instant::now() < end {
            for l in self.collect(end.saturating_duration_since(Instant::now())) {
                if serde_json::from_str::<Value>(&l).is_ok_and(|v| v["id"] == id.as_str() && v.get("result").is_some())
                {
                    return Ok(());
                }
            }
        }
        Err("no server/discover answer on stdout".into())
    }
}

fn rand_id() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

/// Write `line` (a newline is added) and judge what comes back within `wait`.
fn line_case(name: &str, codes: Codes, line: Vec<u8>, wait: Duration) -> Case<Stdio> {
    Case {
        name: name.to_owned(),
        era: "stdio",
        statuses: vec![],
        codes,
        run: Box::new(move |io: &Stdio| {
            let mut l = line.clone();
            l.push(b'\n');
            io.write(&l);
            let lines = io.collect(wait);
            let mut out = Outcome::default();
            for l in &lines {
                out.bytes.extend_from_slice(l.as_bytes());
                match serde_json::from_str::<Value>(l) {
                    Ok(v) => out.codes.extend(v.pointer("/error/code").and_then(Value::as_i64)),
                    Err(_) => out.problem = Some(format!("non-JSON on stdout: {l:?}")),
                }
            }
            out
        }),
    }
}

fn modern(id: i64, method: &str, params: Value) -> Vec<u8> {
    let mut p = params;
    if p.get("_meta").is_none() {
        p["_meta"] = meta();
    }
    json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": p }).to_string().into_bytes()
}

pub fn cases() -> Vec<Case<Stdio>> {
    let s = Duration::from_secs(2);
    let quiet = Duration::from_millis(300);
    vec![
        line_case("garbage line", one(&[-32700]), b"{not json".to_vec(), s),
        line_case("truncated JSON", one(&[-32700]), br#"{"jsonrpc":"2.0","id":1,"method""#.to_vec(), s),
        line_case("invalid UTF-8", one(&[-32700]), b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\xff\xfe\"}".to_vec(), s),
        line_case("jsonrpc 1.0", one(&[-32600]), br#"{"jsonrpc":"1.0","id":1,"method":"tools/list"}"#.to_vec(), s),
        line_case("id null", one(&[-32600]), br#"{"jsonrpc":"2.0","id":null,"method":"tools/list"}"#.to_vec(), s),
        line_case("id is an array", one(&[-32600]), br#"{"jsonrpc":"2.0","id":[1],"method":"tools/list"}"#.to_vec(), s),
        line_case("batch", one(&[-32600]), br#"[{"jsonrpc":"2.0","id":1,"method":"tools/list"}]"#.to_vec(), s),
        line_case("JSON number", one(&[-32600, -32700]), b"42".to_vec(), s),
        line_case("deep nesting (50 000 levels)", maybe(&[-32700, -32602]), format!("{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":{{\"x\":{}{}}}}}", "[".repeat(50_000), "]".repeat(50_000)).into_bytes(), s),
        line_case("line over 4 MiB", one(&[-32600]), {
            let mut v = br#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"x":""#.to_vec();
            v.extend(std::iter::repeat_n(b'a', 4 * 1024 * 1024 + 10));
            v.extend_from_slice(br#""}}"#);
            v
        }, Duration::from_secs(5)),
        line_case("unknown method", one(&[-32601]), modern(2, "tools/destroy", json!({})), s),
        line_case("_meta without clientCapabilities", one(&[-32602]), modern(3, "tools/list", json!({ "_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28" } })), s),
        line_case("deep nesting in the tool arguments", maybe(&[-32700, -32602]), format!("{{\"jsonrpc\":\"2.0\",\"id\":10,\"method\":\"tools/call\",\"params\":{{\"name\":\"test_simple_text\",\"arguments\":{{\"a\":{}{}}}}}}}", "[".repeat(50_000), "]".repeat(50_000)).into_bytes(), s),
        line_case("tools/call before initialize names no tool", one(&[-32602]), br#"{"jsonrpc":"2.0","id":11,"method":"tools/call","params":{"name":"nope"}}"#.to_vec(), s),
        line_case("initialize is served", Codes::NoError, br#"{"jsonrpc":"2.0","id":13,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"x","version":"1"}}}"#.to_vec(), s),
        line_case("second initialize", one(&[-32600]), br#"{"jsonrpc":"2.0","id":12,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"x","version":"1"}}}"#.to_vec(), s),
        line_case("unsupported version", one(&[-32022]), modern(4, "tools/list", json!({ "_meta": {
            "io.modelcontextprotocol/protocolVersion": "1999-01-01", "io.modelcontextprotocol/clientCapabilities": {} } })), s),
        line_case("params is an array", one(&[-32602]), br#"{"jsonrpc":"2.0","id":5,"method":"tools/list","params":[]}"#.to_vec(), s),
        line_case("arguments of the wrong type", one(&[-32602]), modern(6, "tools/call", json!({ "name": "test_simple_text", "arguments": 7 })), s),
        line_case("forged requestState", one(&[-32602]), modern(7, "tools/call", json!({
            "name": "test_input_required_result_elicitation", "requestState": "abc.def",
            "inputResponses": { "user_name": { "action": "accept", "content": { "name": "x" } } } })), s),
        line_case("blank lines are ignored", Codes::NoError, b"\n\n   \r".to_vec(), quiet),
        line_case("notification is silent", Codes::NoError, br#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"nope"}}"#.to_vec(), quiet),
        line_case("answer to nothing is silent", Codes::NoError, br#"{"jsonrpc":"2.0","id":"zz","result":{}}"#.to_vec(), quiet),
        line_case("NUL bytes in a string", Codes::Any, b"{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"tools/list\",\"params\":{\"cursor\":\"\\u0000\\u0000\"}}".to_vec(), s),
    ]
}
