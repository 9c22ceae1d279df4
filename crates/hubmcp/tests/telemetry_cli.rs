//! The binary's telemetry as an operator uses it: JSON request logs (salted user hash, no
//! token, no password), the metrics password, the client dataset file, and
//! `hubmcp clients export` (JSON lines and Parquet, from the file and from a running server).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_hubmcp");
const TOKEN: &str = "hf_secret_token_for_the_log_test";
const PASSWORD: &str = "metrics-pass-4711";

fn post(
    client: &reqwest::blocking::Client,
    url: &str,
    headers: &[(&str, &str)],
    body: Value,
) -> reqwest::blocking::Response {
    let mut r = client
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(body.to_string());
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    r.send().unwrap()
}

#[test]
fn json_logs_password_dataset_file_and_export() {
    let dir = std::env::temp_dir().join(format!("hubmcp-telemetry-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("clients.jsonl");
    let _ = std::fs::remove_file(&file);
    let mut child = Command::new(BIN)
        .args(["serve", "--toolset", "conformance", "--port", "0", "--log-format", "json"])
        .args(["--clients-file", file.to_str().unwrap(), "--clients-save-seconds", "1"])
        .env("METRICS_PAGE_PASSWORD", PASSWORD)
        .env("HUBMCP_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn hubmcp serve");
    let log = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let deadline = Instant::now() + Duration::from_secs(30);
    let base = loop {
        assert!(Instant::now() < deadline, "server did not report its address");
        let line = lines.next().expect("stderr open").unwrap();
        let v: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("not a JSON log line: {line} ({e})"));
        log.lock().unwrap().push(line.clone());
        if let Some(msg) = v["message"].as_str().and_then(|m| m.split("listening on ").nth(1)) {
            break msg.trim().trim_end_matches("/mcp").to_owned();
        }
    };
    let sink = log.clone();
    let drain = std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            sink.lock().unwrap().push(line);
        }
    });
    let url = format!("{base}/mcp");
    let c = reqwest::blocking::Client::new();

    // A stateless call with a token, and a session.
    let auth = format!("Bearer {TOKEN}");
    let meta = json!({ "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": { "name": "cli-test", "version": "7" } });
    let r = post(
        &c,
        &url,
        &[
            ("authorization", &auth),
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", "tools/call"),
            ("mcp-name", "test_simple_text"),
        ],
        json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": { "name": "test_simple_text", "arguments": {}, "_meta": meta } }),
    );
    assert_eq!(r.status(), 200);
    let r = post(
        &c,
        &url,
        &[],
        json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": { "protocolVersion": "2025-03-26",
            "capabilities": { "sampling": {} }, "clientInfo": { "name": "old-cli", "version": "0.1" } } }),
    );
    assert_eq!(r.status(), 200);
    let sid = r.headers()["mcp-session-id"].to_str().unwrap().to_owned();
    let del =
        c.delete(&url).header("mcp-session-id", &sid).header("mcp-protocol-version", "2025-03-26").send().unwrap();
    assert_eq!(del.status(), 200);

    // The metrics password guards /metrics; with it, the figures are there.
    assert_eq!(c.get(format!("{base}/metrics")).send().unwrap().status(), 401);
    let m = c.get(format!("{base}/metrics")).basic_auth("prometheus", Some(PASSWORD)).send().unwrap().text().unwrap();
    assert!(m.contains("mcp_sessions_ended_total{reason=\"delete\"} 1"), "{m}");

    // Export from the running server.
    let out = Command::new(BIN)
        .args(["clients", "export", "--format", "jsonl", "--url", &base])
        .env("METRICS_PAGE_PASSWORD", PASSWORD)
        .env_remove("HUBMCP_CLIENTS_FILE")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows: Vec<Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let old = rows.iter().find(|r| r["client"] == "old-cli@0.1").expect("the session client");
    assert_eq!(old["sends_delete"], true);
    assert_eq!(old["protocol_versions"], json!(["2025-03-26"]));
    let wrong = Command::new(BIN)
        .args(["clients", "export", "--url", &base, "--password", "nope"])
        .env_remove("HUBMCP_CLIENTS_FILE")
        .output()
        .unwrap();
    assert!(!wrong.status.success());

    // The server keeps the dataset file.
    let deadline = Instant::now() + Duration::from_secs(15);
    while !std::fs::read_to_string(&file).unwrap_or_default().contains("old-cli@0.1") {
        assert!(Instant::now() < deadline, "the dataset file was not written");
        std::thread::sleep(Duration::from_millis(100));
    }
    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        assert!(Instant::now() < deadline, "server did not stop");
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = drain.join();

    // Logs: one JSON line per request, a salted user hash, never the token or the password.
    let log = log.lock().unwrap().join("\n");
    assert!(!log.contains(TOKEN) && !log.contains("hf_secret"), "the token is in the log");
    assert!(!log.contains(PASSWORD), "the password is in the log");
    let requests: Vec<Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["target"] == "mcp::request")
        .collect();
    let call = requests.iter().find(|v| v["client"] == "cli-test@7").expect("a request line for the stateless call");
    assert_eq!(call["method"], "tools/call");
    assert_eq!(call["era"], "stateless");
    assert_eq!(call["transport"], "streamable_http");
    assert_eq!(call["outcome"], "ok");
    assert_eq!(call["tool"], "test_simple_text");
    assert!(call["duration_ms"].as_f64().is_some());
    let user = call["user"].as_str().unwrap();
    assert!(user.len() == 16 && user.chars().all(|c| c.is_ascii_hexdigit()), "{user}");
    let init = requests.iter().find(|v| v["method"] == "initialize").expect("initialize is logged");
    assert_eq!(init["user"], "anonymous");
    assert_eq!(init["era"], "session");

    // Export from the file, as JSON lines and as Parquet.
    let out = Command::new(BIN).args(["clients", "export", "--file", file.to_str().unwrap()]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("\"client\":\"cli-test@7\"") && text.contains("\"client\":\"old-cli@0.1\""), "{text}");
    assert!(!text.contains(TOKEN));
    let parquet = dir.join("clients.parquet");
    let out = Command::new(BIN)
        .args([
            "clients",
            "export",
            "--format",
            "parquet",
            "--file",
            file.to_str().unwrap(),
            "-o",
            parquet.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let reader = SerializedFileReader::new(std::fs::File::open(&parquet).unwrap()).unwrap();
    assert_eq!(reader.metadata().file_metadata().num_rows() as usize, text.lines().count());
    let columns: Vec<String> =
        reader.metadata().file_metadata().schema_descr().columns().iter().map(|c| c.path().string()).collect();
    assert!(columns.contains(&"protocol_versions.list.element".to_owned()), "{columns:?}");
    assert!(columns.contains(&"answers_input_requests".to_owned()));

    // A restart loads the file: the figures carry on.
    let out = Command::new(BIN)
        .args(["stdio", "--toolset", "conformance", "--clients-file", file.to_str().unwrap()])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success());
    let again = std::fs::read_to_string(&file).unwrap();
    assert!(again.contains("\"client\":\"old-cli@0.1\""), "{again}");
    let _ = std::fs::remove_dir_all(&dir);
}
