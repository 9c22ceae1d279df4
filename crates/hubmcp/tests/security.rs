//! Security review as tests (issue #15, item 6), on the real binary:
//! - no secret — a caller's bearer (valid or not), `HF_TOKEN`, `PROXY_TOKEN`, the Redis
//!   password, the state key, the metrics password — appears in any log line at trace
//!   level, any response (errors included), `/metrics` or `/api/*`, nor in the message of
//!   a refused start (wrong Redis password); over stdio, `HF_TOKEN` (the caller's token
//!   there) is in no trace log line and no answer;
//! - sealed `requestState` issued to one caller is refused for another;
//! - session ids are 256 random bits, unguessable, and bound to the caller who opened them.

use std::io::Read;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hub_standin::tokens;
use serde_json::{json, Value};

mod common;
use common::{serve_binary, upstreams, ServedBinary, Upstreams, BIN};

const REDIS_PASSWORD: &str = "redis-pw-Zq81xKf0secret";
const HF_TOKEN_SECRET: &str = "hf_env_token_Q7w2secret";
const PROXY_TOKEN_SECRET: &str = "proxy-token-M4v9secret";
const STATE_KEY_SECRET: &str = "state-key-R2d5secret";
const METRICS_PASSWORD: &str = "metrics-pw-T6y3secret";

/// A password-protected `redis-server` on a free port, stopped when dropped.
struct Redis {
    child: Child,
    port: u16,
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn redis_with_password() -> Option<Redis> {
    if std::env::var("HUBMCP_SKIP_REDIS").as_deref() == Ok("1") {
        eprintln!("SKIPPED the Redis part: HUBMCP_SKIP_REDIS=1");
        return None;
    }
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        .args(["--requirepass", REDIS_PASSWORD, "--loglevel", "warning", "--dir"])
        .arg(std::env::temp_dir())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("redis-server on PATH (apt-get install redis-server), or HUBMCP_SKIP_REDIS=1");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "redis-server did not come up");
        std::thread::sleep(Duration::from_millis(20));
    }
    Some(Redis { child, port })
}

fn hub_command(up: &Upstreams, redis: Option<&str>) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--port", "0"])
        .env("HF_ENDPOINT", &up.hub.base_url)
        .env("HF_DATASETS_SERVER_ENDPOINT", &up.hub.datasets_server_url)
        .env("USER_CONFIG_API", up.hub.url("/api/settings/mcp"))
        .env("HUBMCP_SPACE_SCHEME", "http")
        .env("HUBMCP_SPACE_PORT", up.spaces.port().to_string())
        .env("HUBMCP_SPACE_RESOLVE", "127.0.0.1")
        .env("HUBMCP_SPACE_ALLOW_ADDRESSES", "loopback")
        .env("HUBMCP_LOG", "trace")
        .env("NO_COLOR", "1")
        .env("HF_TOKEN", HF_TOKEN_SECRET)
        .env("PROXY_TOKEN", PROXY_TOKEN_SECRET)
        .env("HUBMCP_STATE_KEY", STATE_KEY_SECRET)
        .env("METRICS_PAGE_PASSWORD", METRICS_PASSWORD)
        .env_remove("HUBMCP_TOOLSET");
    if let Some(url) = redis {
        cmd.env("HUBMCP_REDIS_URL", url);
    }
    cmd
}

/// Everything a response carried: status line, headers and body.
fn everything(res: reqwest::blocking::Response) -> String {
    let mut out = format!("{}\n", res.status());
    for (k, v) in res.headers() {
        out.push_str(&format!("{k}: {}\n", v.to_str().unwrap_or("<bytes>")));
    }
    out.push_str(&res.text().unwrap_or_default());
    out
}

fn modern_post(s: &ServedBinary, method: &str, params: Value, token: Option<&str>) -> String {
    let mut params = params;
    params["_meta"] = json!({ "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                              "io.modelcontextprotocol/clientCapabilities": {}, "progressToken": "pt" });
    let mut r = reqwest::blocking::Client::new()
        .post(&s.url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", method)
        .timeout(Duration::from_secs(30));
    if let Some(name) = params.get("name").and_then(Value::as_str) {
        r = r.header("mcp-name", name);
    }
    if let Some(t) = token {
        r = r.header("authorization", format!("Bearer {t}"));
    }
    everything(
        r.body(json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params }).to_string()).send().unwrap(),
    )
}

#[test]
fn no_secret_in_logs_responses_metrics_or_api_at_trace_level() {
    let redis = redis_with_password();
    let up = upstreams();
    up.hub.set_user_settings(
        "alice",
        json!({ "builtInTools": ["hub_repo_search", "dynamic_space", "hf_whoami"],
                "spaceTools": [{ "name": "black-forest-labs/FLUX.1-Kontext-Dev" }] }),
    );
    let redis_url = redis.as_ref().map(|r| format!("redis://:{REDIS_PASSWORD}@127.0.0.1:{}", r.port));
    let s = serve_binary(hub_command(&up, redis_url.as_deref()));
    let mut seen = Vec::new();

    // Stateless requests: valid tokens, an invalid one, anonymous, a proxied Space call,
    // failing requests of every kind.
    seen.push(modern_post(&s, "tools/list", json!({}), Some(tokens::ALICE_WRITE)));
    seen.push(modern_post(&s, "tools/call", json!({ "name": "hf_whoami", "arguments": {} }), Some(tokens::BOB_READ)));
    let space = modern_post(
        &s,
        "tools/call",
        json!({ "name": "gr1_flux_1_kontext_dev_infer", "arguments": { "prompt": "p" } }),
        Some(tokens::ALICE_WRITE),
    );
    assert!(space.contains("\"result\""), "the proxied Space call ran: {space}");
    seen.push(space);
    seen.push(modern_post(&s, "tools/list", json!({}), Some(tokens::INVALID)));
    seen.push(modern_post(&s, "tools/call", json!({ "name": "nope" }), Some(tokens::ALICE_WRITE)));
    seen.push(modern_post(
        &s,
        "tools/call",
        json!({ "name": "hf_fs", "arguments": { "operations": 5 } }),
        Some(tokens::CAROL_FINEGRAINED),
    ));
    seen.push(modern_post(
        &s,
        "tools/call",
        json!({ "name": "hf_fs", "arguments": { "operations": [{ "cmd": "cat", "args": ["hf://models/standin-org/private-model/nope.txt"] }] } }),
        Some(tokens::BOB_READ),
    ));
    let client = reqwest::blocking::Client::new();
    for bad in ["{not json", "[]", r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#] {
        let res = client
            .post(&s.url)
            .header("content-type", "application/json")
            .header("authorization", format!("Bearer {}", tokens::ALICE_WRITE))
            .body(bad)
            .send()
            .unwrap();
        seen.push(everything(res));
    }
    // The session era with a token: initialize, a call, the push stream, DELETE.
    let init = client
        .post(&s.url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("authorization", format!("Bearer {}", tokens::CAROL_FINEGRAINED))
        .body(r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"sec","version":"1"}}}"#)
        .send()
        .unwrap();
    let sid = init.headers()["mcp-session-id"].to_str().unwrap().to_owned();
    seen.push(everything(init));
    let in_session = |body: &str| {
        everything(
            client
                .post(&s.url)
                .header("content-type", "application/json")
                .header("accept", "application/json, text/event-stream")
                .header("mcp-session-id", &sid)
                .header("mcp-protocol-version", "2025-11-25")
                .header("authorization", format!("Bearer {}", tokens::CAROL_FINEGRAINED))
                .body(body.to_owned())
                .send()
                .unwrap(),
        )
    };
    seen.push(in_session(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#));
    seen.push(in_session(
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"hf_whoami","arguments":{}}}"#,
    ));
    seen.push(in_session(
        r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"hf_whoami","arguments":[]}}"#,
    ));

    // The operator's surfaces, with the metrics password.
    for path in [
        "/metrics",
        "/api/snapshot",
        "/api/overview",
        "/api/connections",
        "/api/sessions",
        "/api/clients",
        "/api/methods",
        "/api/tools",
        "/api/errors",
        "/api/clients/export",
        "/api/cluster",
        "/readyz",
        "/healthz",
        "/.well-known/oauth-protected-resource/mcp",
    ] {
        let res = client.get(format!("{}{path}", s.base)).bearer_auth(METRICS_PASSWORD).send().unwrap();
        assert!(res.status().is_success(), "{path}: {}", res.status());
        seen.push(everything(res));
    }
    let metrics = seen.iter().find(|t| t.contains("mcp_requests_total")).expect("metrics were read");
    assert!(metrics.contains("mcp_"), "metrics are recorded");

    // Stop gracefully so every buffered log line is written, then look everywhere.
    let pid = s.child.id().to_string();
    let _ = Command::new("kill").args(["-TERM", &pid]).status();
    std::thread::sleep(Duration::from_millis(1500));
    let log = s.log.lock().unwrap().join("\n");
    assert!(log.contains("TRACE"), "trace logging is on");
    let secrets = [
        tokens::ALICE_WRITE,
        tokens::BOB_READ,
        tokens::CAROL_FINEGRAINED,
        tokens::INVALID,
        HF_TOKEN_SECRET,
        PROXY_TOKEN_SECRET,
        STATE_KEY_SECRET,
        METRICS_PASSWORD,
        REDIS_PASSWORD,
    ];
    for secret in secrets {
        if let Some(line) = log.lines().find(|l| l.contains(secret)) {
            panic!("{secret} in the trace log: {line}");
        }
        for text in &seen {
            assert!(!text.contains(secret), "{secret} in a response: {text}");
        }
    }
    if redis.is_some() {
        assert!(log.contains("shared state on Redis"), "the instance ran on Redis");
    }
}

#[test]
fn a_refused_start_does_not_print_the_redis_password() {
    let Some(redis) = redis_with_password() else { return };
    let up = upstreams();
    const WRONG: &str = "wrong-redis-pw-P0o9secret";
    for url in [
        format!("redis://:{WRONG}@127.0.0.1:{}", redis.port),
        format!("redis://user:{WRONG}@127.0.0.1:{}", redis.port),
        format!("redis://:{WRONG}@127.0.0.1:1"),
        format!("rediss://:{WRONG}@127.0.0.1:{}", redis.port),
        format!("redis://:{WRONG}@[not a host"),
    ] {
        let mut cmd = hub_command(&up, Some(&url));
        cmd.env("HUBMCP_REDIS_CONNECT_TIMEOUT_MS", "500").stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        let status = loop {
            if let Some(st) = child.try_wait().unwrap() {
                break Some(st);
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                break None;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let mut out = String::new();
        child.stderr.take().unwrap().read_to_string(&mut out).unwrap();
        child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
        assert!(status.is_some_and(|s| !s.success()), "{url}: the server started without Redis: {out}");
        assert!(out.contains("Redis") || out.contains("redis"), "{url}: the refusal says why: {out}");
        assert!(!out.contains(WRONG), "{url}: the password in the refusal: {out}");
    }
}

fn conformance() -> ServedBinary {
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--toolset", "conformance", "--port", "0"])
        .env("HUBMCP_LOG", "info")
        .env_remove("HUBMCP_TOOLSET");
    serve_binary(cmd)
}

fn post_json(url: &str, headers: &[(&str, &str)], body: Value) -> reqwest::blocking::Response {
    let mut r = reqwest::blocking::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream");
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    r.body(body.to_string()).send().unwrap()
}

#[test]
fn request_state_is_bound_to_its_caller() {
    let s = conformance();
    const TOOL: &str = "test_input_required_result_elicitation";
    let meta = json!({ "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                       "io.modelcontextprotocol/clientCapabilities": { "elicitation": {} } });
    let call = |token: Option<&str>, params: Value| {
        let auth = token.map(|t| format!("Bearer {t}"));
        let mut h = vec![("mcp-protocol-version", "2026-07-28"), ("mcp-method", "tools/call"), ("mcp-name", TOOL)];
        if let Some(a) = &auth {
            h.push(("authorization", a.as_str()));
        }
        let mut p = params;
        p["name"] = json!(TOOL);
        p["_meta"] = meta.clone();
        let v: Value = post_json(&s.url, &h, json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": p }))
            .json()
            .unwrap();
        v
    };
    let first = call(Some("caller-a-token"), json!({}));
    let state = first["result"]["requestState"].as_str().expect("requestState").to_owned();
    let answers = json!({ "user_name": { "action": "accept", "content": { "name": "Ada" } } });
    for other in [Some("caller-b-token"), None] {
        let r = call(other, json!({ "requestState": state, "inputResponses": answers }));
        assert_eq!(r["error"]["code"], -32602, "{r}");
        assert!(r["error"]["message"].as_str().unwrap().contains("different caller"), "{r}");
    }
    let r = call(Some("caller-a-token"), json!({ "requestState": state, "inputResponses": answers }));
    assert_eq!(r["result"]["content"][0]["text"], "Hello, Ada!", "{r}");
}

#[test]
fn session_ids_are_unguessable_and_bound_to_their_caller() {
    use base64::Engine as _;
    let s = conformance();
    let init = json!({ "jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": { "name": "sec", "version": "1" } } });
    let open = |token: Option<&str>| {
        let auth = token.map(|t| format!("Bearer {t}"));
        let h: Vec<(&str, &str)> = auth.iter().map(|a| ("authorization", a.as_str())).collect();
        post_json(&s.url, &h, init.clone()).headers()["mcp-session-id"].to_str().unwrap().to_owned()
    };
    // 256 random bits each: 200 ids, all distinct, bits balanced, no shared prefixes.
    let ids: Vec<String> = (0..200).map(|_| open(Some("owner-token"))).collect();
    let mut ones = 0u64;
    let mut bits = 0u64;
    for id in &ids {
        assert!(id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{id}");
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(id).expect("base64url");
        assert!(raw.len() * 8 >= 128, "{id}: {} bits", raw.len() * 8);
        ones += raw.iter().map(|b| u64::from(b.count_ones())).sum::<u64>();
        bits += raw.len() as u64 * 8;
    }
    let distinct: std::collections::HashSet<_> = ids.iter().collect();
    assert_eq!(distinct.len(), ids.len(), "session ids repeat");
    let share = ones as f64 / bits as f64;
    assert!((0.47..0.53).contains(&share), "bit balance {share}: not random-looking");
    for w in ids.windows(2) {
        let common = w[0].bytes().zip(w[1].bytes()).take_while(|(a, b)| a == b).count();
        assert!(common < 8, "consecutive ids share a {common}-character prefix: {} {}", w[0], w[1]);
    }

    // Bound to the caller: another token, or none, cannot use, stream or end it.
    let sid = &ids[0];
    let list = json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list" });
    let with = |token: Option<&str>| {
        let auth = token.map(|t| format!("Bearer {t}"));
        let mut h = vec![("mcp-session-id", sid.as_str()), ("mcp-protocol-version", "2025-11-25")];
        if let Some(a) = &auth {
            h.push(("authorization", a.as_str()));
        }
        post_json(&s.url, &h, list.clone()).status().as_u16()
    };
    assert_eq!(with(Some("someone-else")), 404);
    assert_eq!(with(None), 404);
    let client = reqwest::blocking::Client::new();
    let get = client
        .get(&s.url)
        .header("accept", "text/event-stream")
        .header("mcp-session-id", sid)
        .header("authorization", "Bearer someone-else")
        .send()
        .unwrap();
    assert_eq!(get.status(), 404);
    let del = client.delete(&s.url).header("mcp-session-id", sid).header("authorization", "Bearer someone-else").send();
    assert_eq!(del.unwrap().status(), 404);
    assert_eq!(with(Some("owner-token")), 200, "the owner's session survived the attempts");
    // An anonymous session is not usable with a token either.
    let anon = open(None);
    let auth_post = post_json(
        &s.url,
        &[("mcp-session-id", &anon), ("mcp-protocol-version", "2025-11-25"), ("authorization", "Bearer owner-token")],
        list.clone(),
    );
    assert_eq!(auth_post.status(), 404);
}

#[test]
fn stdio_keeps_hf_token_out_of_its_trace_log_and_its_answers() {
    use std::io::{BufRead, BufReader, Write};
    let up = upstreams();
    let mut child = Command::new(BIN)
        .arg("stdio")
        .env("HF_ENDPOINT", &up.hub.base_url)
        .env("HF_DATASETS_SERVER_ENDPOINT", &up.hub.datasets_server_url)
        .env("HF_TOKEN", tokens::CAROL_FINEGRAINED)
        .env("HUBMCP_STATE_KEY", STATE_KEY_SECRET)
        .env("HUBMCP_LOG", "trace")
        .env("NO_COLOR", "1")
        .env_remove("HUBMCP_TOOLSET")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let log = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = BufReader::new(stderr).read_to_string(&mut s);
        s
    });
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let meta = r#""_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}"#;
    let lines = [
        format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"hf_whoami","arguments":{{}},{meta}}}}}"#
        ),
        format!(
            r#"{{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{{"name":"hf_fs","arguments":{{"operations":[{{"cmd":"cat","args":["hf://models/standin-org/private-model/missing"]}}]}},{meta}}}}}"#
        ),
        format!(r#"{{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{{"name":"nope",{meta}}}}}"#),
        r#"{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"hf_whoami","arguments":[]}}"#.to_owned(),
        "{broken".to_owned(),
    ];
    let mut answers = String::new();
    for l in &lines {
        writeln!(stdin, "{l}").unwrap();
        stdin.flush().unwrap();
        let mut out = String::new();
        stdout.read_line(&mut out).unwrap();
        answers.push_str(&out);
    }
    assert!(answers.contains("carol"), "the token was used: {answers}");
    drop(stdin);
    let deadline = Instant::now() + Duration::from_secs(10);
    while child.try_wait().unwrap().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let log = log.join().unwrap();
    assert!(log.contains("TRACE"), "trace logging is on");
    for secret in [tokens::CAROL_FINEGRAINED, STATE_KEY_SECRET] {
        assert!(!answers.contains(secret), "{secret} in an answer: {answers}");
        if let Some(line) = log.lines().find(|l| l.contains(secret)) {
            panic!("{secret} in the stdio trace log: {line}");
        }
    }
}
