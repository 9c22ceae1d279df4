//! The text form of an HTTP request read by the request-shaped targets: an optional
//! request line (`GET /mcp`), header lines (`Name: value`), a blank line, then the body.
//! Header lines that are not valid HTTP are skipped: hyper refuses them before hubmcp
//! sees them. Input without a blank line is all body, sent with JSON content headers.

use http::{HeaderMap, HeaderName, HeaderValue, Method};

pub struct Wire {
    pub method: Method,
    /// Path and query.
    pub path: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// Parse `data`; `{sid}` in header values and the body is replaced by `sid`.
pub fn parse(data: &[u8], sid: &str) -> Wire {
    let mut wire = Wire { method: Method::POST, path: "/mcp".into(), headers: HeaderMap::new(), body: Vec::new() };
    let Some(split) = find(data, b"\n\n") else {
        wire.headers.insert("content-type", HeaderValue::from_static("application/json"));
        wire.headers.insert("accept", HeaderValue::from_static("application/json, text/event-stream"));
        wire.body = substitute(data, sid);
        return wire;
    };
    let (head, body) = (&data[..split], &data[split + 2..]);
    wire.body = substitute(body, sid);
    for (i, line) in head.split(|&b| b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            if i == 0 {
                request_line(&mut wire, line);
            }
            continue;
        };
        let name = HeaderName::from_bytes(line[..colon].trim_ascii());
        let value = HeaderValue::from_bytes(&substitute(line[colon + 1..].trim_ascii(), sid));
        if let (Ok(name), Ok(value)) = (name, value) {
            wire.headers.append(name, value);
        }
    }
    wire
}

fn request_line(wire: &mut Wire, line: &[u8]) {
    let mut parts = line.splitn(2, |&b| b == b' ');
    if let Ok(m) = Method::from_bytes(parts.next().unwrap_or_default()) {
        wire.method = m;
    }
    if let Some(path) = parts.next().and_then(|p| std::str::from_utf8(p).ok()) {
        if path.starts_with('/') && path.parse::<http::Uri>().is_ok() {
            wire.path = path.to_owned();
        }
    }
}

pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn substitute(bytes: &[u8], sid: &str) -> Vec<u8> {
    const MARK: &[u8] = b"{sid}";
    let mut out = Vec::with_capacity(bytes.len());
    let mut rest = bytes;
    while let Some(i) = find(rest, MARK) {
        out.extend_from_slice(&rest[..i]);
        out.extend_from_slice(sid.as_bytes());
        rest = &rest[i + MARK.len()..];
    }
    out.extend_from_slice(rest);
    out
}
