//! What the HTTP cases share: the server's address, two callers (tokens A and B), live,
//! foreign and deleted sessions, an HTTP+SSE session with its stream read in the
//! background, and a genuine sealed `requestState` issued to caller A. Plus the request
//! builders the table uses.

use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::harness::{liveness_bound, Outcome};
use super::wire::{self, exchange, request, Resp};

pub const TOKEN_A: &str = "hostile-token-aaaa-7f3e9c1d";
pub const TOKEN_B: &str = "hostile-token-bbbb-2a6b8e0f";
pub const STATE_KEY: &str = "hostile-state-key-5d1c0a9b";
pub const MAX_BODY: usize = 64 * 1024;
pub const MAX_SESSIONS: usize = 48;
pub const V_MODERN: &str = "2026-07-28";
pub const V_SESSION: &str = "2025-11-25";

pub type H = Vec<(String, String)>;

/// An HTTP+SSE stream: its session id, what it carried so far, and its socket (to close it).
pub type LegacyStream = (String, Arc<Mutex<Vec<u8>>>, std::net::TcpStream);

pub struct Fx {
    pub addr: String,
    /// A Streamable HTTP session of caller A.
    pub sid_a: String,
    /// A Streamable HTTP session of caller B.
    pub sid_b: String,
    /// A session that was deleted.
    pub sid_deleted: String,
    /// A request stream's event id in caller B's session.
    pub event_b: String,
    /// An HTTP+SSE session of caller A and what its stream carried so far.
    pub sse_a: String,
    pub sse_seen: Arc<Mutex<Vec<u8>>>,
    /// A `requestState` sealed for caller A's `test_input_required_result_elicitation`.
    pub state_a: String,
    /// A task (tasks extension) created by caller A.
    pub task_a: String,
}

/// `_meta` declaring the tasks extension.
pub fn tasks_meta() -> Value {
    json!({ "io.modelcontextprotocol/protocolVersion": V_MODERN,
            "io.modelcontextprotocol/clientCapabilities": { "extensions": { "io.modelcontextprotocol/tasks": {} } } })
}

pub fn meta() -> Value {
    json!({ "io.modelcontextprotocol/protocolVersion": V_MODERN, "io.modelcontextprotocol/clientCapabilities": {} })
}

/// `_meta` declaring the elicitation capability (the input-required tools need it).
pub fn elicit_meta() -> Value {
    json!({ "io.modelcontextprotocol/protocolVersion": V_MODERN, "io.modelcontextprotocol/clientCapabilities": { "elicitation": {} } })
}

/// A 2026-07-28 request body; `params` gets the standard `_meta` unless it has its own
/// (`"_meta": null` drops it).
pub fn body(id: Value, method: &str, mut params: Value) -> Vec<u8> {
    if let Some(p) = params.as_object_mut() {
        match p.get("_meta") {
            None => {
                p.insert("_meta".into(), meta());
            }
            Some(Value::Null) => {
                p.remove("_meta");
            }
            Some(_) => {}
        }
    }
    json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }).to_string().into_bytes()
}

/// The headers of a well-formed 2026-07-28 POST.
pub fn modern(method: &str, name: Option<&str>) -> H {
    let mut h = vec![
        ("Content-Type".into(), "application/json".into()),
        ("Accept".into(), "application/json, text/event-stream".into()),
        ("MCP-Protocol-Version".into(), V_MODERN.into()),
        ("Mcp-Method".into(), method.into()),
    ];
    if let Some(n) = name {
        h.push(("Mcp-Name".into(), n.into()));
    }
    h
}

/// Session-era headers for `sid`.
pub fn in_session(sid: &str, token: Option<&str>) -> H {
    let mut h = vec![
        ("Content-Type".into(), "application/json".into()),
        ("Accept".into(), "application/json, text/event-stream".into()),
        ("MCP-Protocol-Version".into(), V_SESSION.into()),
        ("Mcp-Session-Id".into(), sid.into()),
    ];
    if let Some(t) = token {
        h.push(("Authorization".into(), format!("Bearer {t}")));
    }
    h
}

pub fn bearer(mut h: H, token: &str) -> H {
    h.push(("Authorization".into(), format!("Bearer {token}")));
    h
}

pub fn with(mut h: H, k: &str, v: &str) -> H {
    h.push((k.into(), v.into()));
    h
}

pub fn without(h: H, k: &str) -> H {
    h.into_iter().filter(|(n, _)| !n.eq_ignore_ascii_case(k)).collect()
}

pub fn set(h: H, k: &str, v: &str) -> H {
    with(without(h, k), k, v)
}

pub fn outcome(r: Option<Resp>) -> Outcome {
    match r {
        None => Outcome::default(),
        Some(r) => Outcome { status: Some(r.status), codes: r.error_codes(), bytes: r.raw, problem: None },
    }
}

impl Fx {
    /// Send a request with these exact headers and body; 3 s to answer.
    pub fn send(&self, method: &str, path: &str, h: &H, body: &[u8]) -> Option<Resp> {
        let pairs: Vec<(&str, &str)> = h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        exchange(&self.addr, &request(method, path, &self.addr, &pairs, body), Duration::from_secs(3))
    }

    /// [`Fx::send`] for a client that writes its whole body before reading: a reset while
    /// writing is a problem of the outcome.
    pub fn send_all(&self, method: &str, path: &str, h: &H, body: &[u8]) -> Outcome {
        let pairs: Vec<(&str, &str)> = h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let raw = request(method, path, &self.addr, &pairs, body);
        let (r, problem) = wire::write_all_then_read(&self.addr, &raw, Duration::from_secs(10));
        outcome(r).problem(problem)
    }

    pub fn post(&self, h: &H, body: &[u8]) -> Outcome {
        outcome(self.send("POST", "/mcp", h, body))
    }

    /// A normal stateless request must be answered within the liveness bound.
    pub fn alive(&self) -> Result<(), String> {
        let h = modern("server/discover", None);
        let pairs: Vec<(&str, &str)> = h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let raw = request("POST", "/mcp", &self.addr, &pairs, &body(json!("alive"), "server/discover", json!({})));
        let started = Instant::now();
        match exchange(&self.addr, &raw, liveness_bound()) {
            Some(r) if r.status == 200 && r.messages().first().is_some_and(|m| m.get("result").is_some()) => Ok(()),
            Some(r) => Err(format!("status {} {}", r.status, String::from_utf8_lossy(&r.body))),
            None => Err(format!("no answer after {:?}", started.elapsed())),
        }
    }

    /// `initialize` a Streamable HTTP session as `token`; the session id.
    pub fn open_session(&self, token: Option<&str>) -> Option<String> {
        let mut h = vec![
            ("Content-Type".to_owned(), "application/json".to_owned()),
            ("Accept".to_owned(), "application/json, text/event-stream".to_owned()),
        ];
        if let Some(t) = token {
            h = bearer(h, t);
        }
        let init = json!({ "jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": V_SESSION, "capabilities": {}, "clientInfo": { "name": "hostile", "version": "1" } } });
        let r = self.send("POST", "/mcp", &h, init.to_string().as_bytes())?;
        let sid = r.header("mcp-session-id")?.to_owned();
        let note = json!({ "jsonrpc": "2.0", "method": "notifications/initialized" });
        self.send("POST", "/mcp", &in_session(&sid, token), note.to_string().as_bytes());
        Some(sid)
    }

    pub fn delete_session(&self, sid: &str, token: Option<&str>) -> Option<u16> {
        self.send("DELETE", "/mcp", &in_session(sid, token), b"").map(|r| r.status)
    }

    pub fn new(base: &str) -> Fx {
        let addr = base.trim_start_matches("http://").to_owned();
        let mut fx = Fx {
            addr,
            sid_a: String::new(),
            sid_b: String::new(),
            sid_deleted: String::new(),
            event_b: String::new(),
            sse_a: String::new(),
            sse_seen: Arc::new(Mutex::new(Vec::new())),
            state_a: String::new(),
            task_a: String::new(),
        };
        fx.sid_a = fx.open_session(Some(TOKEN_A)).expect("session A");
        fx.sid_b = fx.open_session(Some(TOKEN_B)).expect("session B");
        fx.sid_deleted = fx.open_session(Some(TOKEN_A)).expect("a session to delete");
        assert_eq!(fx.delete_session(&fx.sid_deleted, Some(TOKEN_A)), Some(200));

        // A request stream in session B: a tool with progress answers as SSE with ids.
        let call = json!({ "jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {
            "name": "test_tool_with_progress", "_meta": { "progressToken": "p" } } });
        let r = fx.send("POST", "/mcp", &in_session(&fx.sid_b, Some(TOKEN_B)), call.to_string().as_bytes()).unwrap();
        let text = String::from_utf8_lossy(&r.body).into_owned();
        fx.event_b = text
            .lines()
            .filter_map(|l| l.strip_prefix("id:"))
            .map(|s| s.trim().to_owned())
            .find(|id| !id.ends_with("-0"))
            .unwrap_or_else(|| panic!("no event id on session B's stream: {text}"));

        // A sealed requestState for caller A.
        let h = bearer(modern("tools/call", Some("test_input_required_result_elicitation")), TOKEN_A);
        let r = fx.send(
            "POST",
            "/mcp",
            &h,
            &body(
                json!(1),
                "tools/call",
                json!({ "name": "test_input_required_result_elicitation", "_meta": elicit_meta() }),
            ),
        );
        let msgs = r.map(|r| r.messages()).unwrap_or_default();
        fx.state_a = msgs
            .iter()
            .find_map(|m| m.pointer("/result/requestState").and_then(Value::as_str))
            .expect("an input_required result with requestState")
            .to_owned();

        // A task of caller A.
        let h = bearer(modern("tools/call", Some("slow_compute")), TOKEN_A);
        let p = json!({ "name": "slow_compute", "arguments": { "seconds": 30 }, "_meta": tasks_meta() });
        let r = fx.send("POST", "/mcp", &h, &body(json!(3), "tools/call", p));
        fx.task_a = r
            .and_then(|r| r.messages().first()?.pointer("/result/taskId")?.as_str().map(str::to_owned))
            .expect("a task");

        let (sid, seen, _) = fx.open_legacy_sse(Some(TOKEN_A)).expect("an HTTP+SSE session");
        fx.sse_a = sid;
        fx.sse_seen = seen;
        let init = json!({ "jsonrpc": "2.0", "id": "init", "method": "initialize", "params": {
            "protocolVersion": "2024-11-05", "capabilities": {}, "clientInfo": { "name": "hostile", "version": "1" } } });
        let h = bearer(vec![("Content-Type".into(), "application/json".into())], TOKEN_A);
        let path = format!("/message?sessionId={}", fx.sse_a);
        assert_eq!(fx.send("POST", &path, &h, init.to_string().as_bytes()).map(|r| r.status), Some(202));
        fx.legacy_answer(&json!("init")).expect("HTTP+SSE initialize answered on the stream");
        fx
    }

    /// `GET /sse`: the session id from the `endpoint` event, the stream's bytes as they
    /// arrive (read by a thread until the connection closes) and a handle to close it.
    /// `None` when the server refused the stream.
    pub fn open_legacy_sse(&self, token: Option<&str>) -> Option<LegacyStream> {
        let mut h =
            vec![("Accept".to_owned(), "text/event-stream".to_owned()), ("Connection".into(), "keep-alive".into())];
        if let Some(t) = token {
            h = bearer(h, t);
        }
        let pairs: Vec<(&str, &str)> = h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let mut s = wire::connect(&self.addr);
        std::io::Write::write_all(&mut s, &request("GET", "/sse", &self.addr, &pairs, b"")).unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        let handle = s.try_clone().unwrap();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = s.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let text = String::from_utf8_lossy(&seen.lock().unwrap()).into_owned();
            if let Some(i) = text.find("sessionId=") {
                let sid: String = text[i + "sessionId=".len()..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                    .collect();
                return Some((sid, seen, handle));
            }
            if text.starts_with("HTTP/1.1 ") && !text.starts_with("HTTP/1.1 200") || Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The response with `id` on the HTTP+SSE stream (waits up to 3 s).
    pub fn legacy_answer(&self, id: &Value) -> Option<Value> {
        let deadline = Instant::now() + Duration::from_secs(3);
        loop {
            let text = String::from_utf8_lossy(&self.sse_seen.lock().unwrap()).into_owned();
            if let Some(m) = wire::sse_messages(&text)
                .into_iter()
                .find(|m| &m["id"] == id && (m.get("result").is_some() || m.get("error").is_some()))
            {
                return Some(m);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}
