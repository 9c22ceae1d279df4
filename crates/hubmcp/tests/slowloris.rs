//! A connection that never finishes its request head (slowloris), or never speaks, is
//! closed after `--header-read-timeout-seconds`, so such clients cannot hold descriptors
//! forever; a connection streaming a response is not affected, and `0` turns the limit off.
//! A request head larger than `--max-request-head-bytes` (default 64 KiB) gets 431.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use common::{serve_binary, ServedBinary, BIN};
use serde_json::json;

fn serve(header_timeout: &str) -> ServedBinary {
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--toolset", "conformance", "--port", "0", "--header-read-timeout-seconds", header_timeout]);
    serve_binary(cmd)
}

fn connect(server: &ServedBinary) -> TcpStream {
    TcpStream::connect(server.base.trim_start_matches("http://")).unwrap()
}

/// Whether the server closed (EOF or reset) the connection within `limit`.
fn closed_within(s: &mut TcpStream, limit: Duration) -> bool {
    s.set_read_timeout(Some(limit)).unwrap();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                return false
            }
            Err(_) => return true,
        }
    }
}

fn list_tools(server: &ServedBinary) -> u16 {
    let body = json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list",
        "params": { "_meta": { "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {} } } });
    reqwest::blocking::Client::new()
        .post(&server.url)
        .header("Accept", "application/json, text/event-stream")
        .header("Mcp-Method", "tools/list")
        .header("MCP-Protocol-Version", "2026-07-28")
        .json(&body)
        .send()
        .unwrap()
        .status()
        .as_u16()
}

#[test]
fn unfinished_heads_and_silent_connections_are_closed() {
    let server = serve("1");
    let mut partial = connect(&server);
    partial.write_all(format!("POST /mcp HTTP/1.1\r\nHost: {}\r\nX-Slow: 1\r\n", server.base).as_bytes()).unwrap();
    let mut silent = connect(&server);
    // Generous bounds: the point is that they end, not when.
    assert!(closed_within(&mut partial, Duration::from_secs(20)), "an unfinished request head kept its connection");
    assert!(closed_within(&mut silent, Duration::from_secs(20)), "a silent connection was kept");
    assert_eq!(list_tools(&server), 200, "normal requests are served afterwards");
}

#[test]
fn a_streaming_response_outlives_the_head_timeout() {
    let server = serve("1");
    // A session-era GET push stream stays open while idle: the head timeout applies only
    // while a request head is awaited.
    let init = json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": { "name": "t", "version": "1" } } });
    let client = reqwest::blocking::Client::new();
    let resp =
        client.post(&server.url).header("Accept", "application/json, text/event-stream").json(&init).send().unwrap();
    let sid = resp.headers()["mcp-session-id"].to_str().unwrap().to_owned();
    let mut s = connect(&server);
    let head = format!(
        "GET /mcp HTTP/1.1\r\nHost: {}\r\nAccept: text/event-stream\r\nMcp-Session-Id: {sid}\r\nMCP-Protocol-Version: 2025-11-25\r\n\r\n",
        server.base.trim_start_matches("http://")
    );
    s.write_all(head.as_bytes()).unwrap();
    assert!(!closed_within(&mut s, Duration::from_secs(3)), "an open response stream was cut by the head timeout");
}

#[test]
fn zero_turns_the_limit_off() {
    let server = serve("0");
    let mut silent = connect(&server);
    assert!(!closed_within(&mut silent, Duration::from_secs(3)), "with no limit a silent connection stays open");
}

/// Send a `tools/list` whose head carries `pad` bytes in one header; the status line back.
fn status_with_padded_head(server: &ServedBinary, pad: usize) -> String {
    let mut s = connect(server);
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}"#;
    let head = format!(
        "POST /mcp HTTP/1.1\r\nHost: {}\r\nAccept: application/json, text/event-stream\r\nContent-Type: application/json\r\nMcp-Method: tools/list\r\nMCP-Protocol-Version: 2026-07-28\r\nX-Pad: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        server.base.trim_start_matches("http://"),
        "a".repeat(pad),
        body.len()
    );
    // The server may answer and close before reading everything: ignore write errors.
    let _ = s.write_all(head.as_bytes()).and_then(|_| s.write_all(body.as_bytes()));
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).lines().next().unwrap_or_default().to_owned()
}

#[test]
fn request_heads_are_bounded_with_a_knob() {
    let server = serve("60");
    assert!(status_with_padded_head(&server, 32 * 1024).contains(" 200"), "a 32 KB head is within the default");
    assert!(status_with_padded_head(&server, 200 * 1024).contains(" 431"), "a 200 KB head is refused by default");
    assert_eq!(list_tools(&server), 200, "normal requests are served afterwards");

    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--toolset", "conformance", "--port", "0", "--max-request-head-bytes", "16384"]);
    let small = serve_binary(cmd);
    assert!(status_with_padded_head(&small, 24 * 1024).contains(" 431"), "the knob lowers the limit");
    assert!(status_with_padded_head(&small, 4 * 1024).contains(" 200"));
}
