//! The hostile-input catalogue (issue #15, item 2): the real `hubmcp` binary, driven over
//! raw TCP and stdio with malformed and malicious input across the stateless era, the
//! session era, HTTP+SSE and stdio. Each case states what the spec lets the server answer
//! (HTTP statuses, JSON-RPC codes); every response is scanned for leaks (panics, source
//! paths, the callers' tokens, the state key), and after every case the server must
//! still answer a normal request within a second. Prints `hostile: N cases, N passed`.
//!
//! The table lives in `hostile/http_cases.rs` and `hostile/stdio_cases.rs`; the runner in
//! `hostile/harness.rs`; raw HTTP in `hostile/wire.rs`.

use std::process::Command;

mod common;
use common::{serve_binary, BIN};

#[path = "hostile/fixture.rs"]
mod fixture;
#[path = "hostile/harness.rs"]
mod harness;
#[path = "hostile/http_cases.rs"]
mod http_cases;
#[path = "hostile/stdio_cases.rs"]
mod stdio_cases;
#[path = "hostile/wire.rs"]
mod wire;

use fixture::{Fx, STATE_KEY, TOKEN_A, TOKEN_B};

/// The two runs share the machine one at a time (each checks liveness within a second).
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Run the catalogue against `hubmcp serve` with `extra` environment; with `stdio`, also
/// the stdio cases. Prints `hostile[ (label)]: N cases, N passed`.
fn run(label: &str, extra: &[(&str, String)], stdio: bool) {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--toolset", "conformance", "--port", "0"])
        .env("HUBMCP_MAX_BODY_BYTES", fixture::MAX_BODY.to_string())
        .env("HUBMCP_STATE_KEY", STATE_KEY)
        .env("HUBMCP_MAX_SESSIONS", fixture::MAX_SESSIONS.to_string())
        .env("HUBMCP_KEEP_ALIVE_SECONDS", "1")
        .env("HUBMCP_LOG", "debug")
        .env("NO_COLOR", "1")
        .env_remove("HUBMCP_TOOLSET")
        .env_remove("HF_TOKEN");
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let server = serve_binary(cmd);
    let fx = Fx::new(&server.base);
    let secrets = [TOKEN_A, TOKEN_B, STATE_KEY];

    let http = http_cases::cases();
    let mut failures = harness::run_all(&fx, &http, &secrets, Fx::alive);
    let mut total = http.len();
    if stdio {
        let cases = stdio_cases::cases();
        let io = stdio_cases::Stdio::start();
        failures.extend(harness::run_all(&io, &cases, &secrets, stdio_cases::Stdio::alive));
        total += cases.len();
    }
    println!("hostile{label}: {total} cases, {} passed", total - failures.len());
    // The server's own log must not carry the callers' tokens either.
    let log = server.log.lock().unwrap().join("\n");
    for s in secrets {
        assert!(!log.contains(s), "a secret appears in the server log");
    }
    assert!(total >= 80, "the catalogue shrank to {total} cases");
    assert!(failures.is_empty(), "{} hostile cases failed:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn hostile_catalogue() {
    run("", &[], true);
}

/// The same HTTP cases with sessions, event logs, tasks and limits on Redis (a private
/// `redis-server`; skipped loudly under `HUBMCP_SKIP_REDIS=1`).
#[test]
fn hostile_catalogue_on_redis() {
    if std::env::var("HUBMCP_SKIP_REDIS").as_deref() == Ok("1") {
        eprintln!("SKIPPED hostile_catalogue_on_redis: HUBMCP_SKIP_REDIS=1");
        return;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut redis = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        .args(["--loglevel", "warning", "--dir"])
        .arg(std::env::temp_dir())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("redis-server on PATH (apt-get install redis-server), or HUBMCP_SKIP_REDIS=1");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(std::time::Instant::now() < deadline, "redis-server did not come up");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let outcome = std::panic::catch_unwind(|| {
        run(
            " (redis)",
            &[
                ("HUBMCP_REDIS_URL", format!("redis://127.0.0.1:{port}")),
                ("HUBMCP_REDIS_PREFIX", format!("hostile{port}")),
            ],
            false,
        )
    });
    let _ = redis.kill();
    let _ = redis.wait();
    if let Err(p) = outcome {
        std::panic::resume_unwind(p);
    }
}
