//! Raw HTTP/1.1 over TCP for the hostile catalogue: the test writes exact bytes (duplicate
//! headers, lying lengths, slow or partial writes) and reads back just enough to judge the
//! answer — the status, the body, and for SSE the events up to the first JSON-RPC
//! response (a long-lived stream is cut off after a deadline).

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

/// One HTTP response as far as it was read.
#[derive(Debug, Default, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked.
    pub body: Vec<u8>,
    /// Everything read from the socket (head included), for leak scanning.
    pub raw: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn is_sse(&self) -> bool {
        self.header("content-type").is_some_and(|c| c.starts_with("text/event-stream"))
    }

    /// The JSON-RPC messages of the body: the JSON body itself, or each SSE `data:` line.
    pub fn messages(&self) -> Vec<serde_json::Value> {
        let text = String::from_utf8_lossy(&self.body);
        if self.is_sse() {
            sse_messages(&text)
        } else {
            serde_json::from_str(&text).map(|v| vec![v]).unwrap_or_default()
        }
    }

    /// The JSON-RPC error codes in the body.
    pub fn error_codes(&self) -> Vec<i64> {
        self.messages().iter().filter_map(|m| m.pointer("/error/code").and_then(|c| c.as_i64())).collect()
    }
}

/// The JSON-RPC messages carried by the `data:` lines of an SSE text.
pub fn sse_messages(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .filter_map(|d| serde_json::from_str(d.trim_start()).ok())
        .collect()
}

pub fn connect(addr: &str) -> TcpStream {
    let s = TcpStream::connect(addr).expect("connect to the server under test");
    s.set_nodelay(true).unwrap();
    s
}

/// Write `raw` (ignoring a reset: the server may refuse early) and read one response.
pub fn exchange(addr: &str, raw: &[u8], deadline: Duration) -> Option<Resp> {
    let mut s = connect(addr);
    let _ = s.write_all(raw);
    read_response(&mut s, deadline)
}

/// Write all of `raw` before reading anything, as clients that send their whole body first
/// do; a failed write (the server reset the connection) is reported, not ignored.
pub fn write_all_then_read(addr: &str, raw: &[u8], deadline: Duration) -> (Option<Resp>, Option<String>) {
    let mut s = connect(addr);
    let written =
        s.write_all(raw).err().map(|e| format!("the server broke the connection while the body was written: {e}"));
    (read_response(&mut s, deadline), written)
}

/// Read one response, until its body is complete, an SSE stream has carried a JSON-RPC
/// response (or an acknowledgement), the peer closes, or `deadline` passes. `None` when
/// not even a status line arrived.
pub fn read_response(s: &mut TcpStream, deadline: Duration) -> Option<Resp> {
    let end = Instant::now() + deadline;
    let mut raw = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        if let Some(r) = parse(&raw) {
            if r.1 {
                return Some(r.0);
            }
        }
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        s.set_read_timeout(Some(left.min(Duration::from_millis(100)))).unwrap();
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
            Err(_) => break,
        }
    }
    parse(&raw).map(|r| r.0)
}

/// Parse what has arrived; the flag says whether the response is complete enough.
fn parse(raw: &[u8]) -> Option<(Resp, bool)> {
    let head_end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..head_end]);
    let mut lines = head.split("\r\n");
    let status: u16 = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let rest = &raw[head_end + 4..];
    let get = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    let (body, complete) = if get("transfer-encoding").is_some_and(|t| t.contains("chunked")) {
        dechunk(rest)
    } else if let Some(len) = get("content-length").and_then(|l| l.parse::<usize>().ok()) {
        (rest[..rest.len().min(len)].to_vec(), rest.len() >= len)
    } else {
        (rest.to_vec(), false)
    };
    let mut r = Resp { status, headers, body, raw: raw.to_vec() };
    let done = complete
        || (r.is_sse()
            && r.messages().iter().any(|m| {
                m.get("result").is_some()
                    || m.get("error").is_some()
                    || m["method"] == "notifications/subscriptions/acknowledged"
            }));
    if status == 101 || (100..200).contains(&status) {
        r.body.clear();
    }
    Some((r, done))
}

fn dechunk(mut rest: &[u8]) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    loop {
        let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") else { return (out, false) };
        let size = std::str::from_utf8(&rest[..eol]).ok().and_then(|s| usize::from_str_radix(s.trim(), 16).ok());
        let Some(size) = size else { return (out, false) };
        if size == 0 {
            return (out, true);
        }
        let start = eol + 2;
        if rest.len() < start + size {
            out.extend_from_slice(&rest[start..]);
            return (out, false);
        }
        out.extend_from_slice(&rest[start..start + size]);
        rest = rest.get(start + size + 2..).unwrap_or(&[]);
    }
}

/// A request head plus body, with `Host` and (unless given) `Content-Length` and
/// `Connection: close` filled in.
pub fn request(method: &str, path: &str, addr: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("{method} {path} HTTP/1.1\r\n");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        out.push_str(&format!("Host: {addr}\r\n"));
    }
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    let has = |n: &str| headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(n));
    if !has("content-length") && !has("transfer-encoding") && (method == "POST" || !body.is_empty()) {
        out.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    if !has("connection") {
        out.push_str("Connection: close\r\n");
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// Write `raw` in pieces of `chunk` bytes, `gap` apart.
pub fn write_slowly(s: &mut TcpStream, raw: &[u8], chunk: usize, gap: Duration) -> std::io::Result<()> {
    for piece in raw.chunks(chunk.max(1)) {
        s.write_all(piece)?;
        s.flush()?;
        std::thread::sleep(gap);
    }
    Ok(())
}

/// Close the writing half (the server sees the body end early).
pub fn half_close(s: &TcpStream) {
    let _ = s.shutdown(Shutdown::Write);
}
