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

#[test]
fn hostile_catalogue() {
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
    let server = serve_binary(cmd);
    let fx = Fx::new(&server.base);
    let secrets = [TOKEN_A, TOKEN_B, STATE_KEY];

    let http = http_cases::cases();
    let mut failures = harness::run_all(&fx, &http, &secrets, Fx::alive);

    let stdio = stdio_cases::cases();
    let io = stdio_cases::Stdio::start();
    failures.extend(harness::run_all(&io, &stdio, &secrets, stdio_cases::Stdio::alive));

    let total = http.len() + stdio.len();
    println!("hostile: {total} cases, {} passed", total - failures.len());
    // The server's own log must not carry the callers' tokens either.
    let log = server.log.lock().unwrap().join("\n");
    for s in secrets {
        assert!(!log.contains(s), "a secret appears in the server log");
    }
    assert!(total >= 80, "the catalogue shrank to {total} cases");
    assert!(failures.is_empty(), "{} hostile cases failed:\n{}", failures.len(), failures.join("\n"));
}
