//! One request log line, byte for byte what `tracing-subscriber`'s `fmt` layer writes for
//! the `mcp::request` event (without colours), in its two formats: `text` (the default
//! full format) and `json` (flattened event, no spans). Only the writer thread runs this.

use std::io::Write as _;
use std::sync::Arc;

use sha2::{Digest, Sha256};
use time::macros::format_description;
use time::OffsetDateTime;

use super::LogEntry;
use crate::clients::Clients;

/// `--log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Formats entries into lines: resolves the client's name, hashes the caller, and keeps
/// the date and time of the current second so most lines format only their microseconds.
pub(super) struct LineWriter {
    format: LogFormat,
    clients: Arc<Clients>,
    salt: Vec<u8>,
    second: u64,
    second_text: String,
}

impl LineWriter {
    pub(super) fn new(format: LogFormat, clients: Arc<Clients>, salt: Vec<u8>) -> Self {
        LineWriter { format, clients, salt, second: u64::MAX, second_text: String::new() }
    }

    /// Append one line (with its newline) to `out`.
    pub(super) fn line(&mut self, e: &LogEntry, out: &mut Vec<u8>) {
        let mut user = [0u8; 16];
        let user = match &e.caller {
            Some(id) => user_hash(&self.salt, id, &mut user),
            None => "anonymous",
        };
        self.timestamp(e.end_unix_us);
        let client = self.clients.entry(e.client).key();
        let micros = e.end_unix_us % 1_000_000;
        // Hand-written rather than `write!`: this runs once per request, and the common
        // values (plain ASCII names, a duration in microseconds) need no general machinery.
        match self.format {
            LogFormat::Text => {
                out.extend_from_slice(self.second_text.as_bytes());
                push_micros(out, micros);
                out.extend_from_slice(b"Z  INFO mcp::request: request");
                text_field(out, "method", e.method);
                text_field(out, "era", e.era);
                text_field(out, "transport", e.transport);
                text_field(out, "client", client);
                text_field(out, "protocol_version", &e.protocol_version);
                out.extend_from_slice(b" duration_ms=");
                push_ms(out, e.duration_us);
                text_field(out, "outcome", e.outcome);
                if let Some(code) = e.code {
                    out.extend_from_slice(b" code=");
                    push_i64(out, code.into());
                }
                if let Some(tool) = &e.tool {
                    text_field(out, "tool", tool.as_str());
                }
                text_field(out, "user", user);
                out.push(b'\n');
            }
            LogFormat::Json => {
                out.extend_from_slice(b"{\"timestamp\":\"");
                out.extend_from_slice(self.second_text.as_bytes());
                push_micros(out, micros);
                out.extend_from_slice(b"Z\",\"level\":\"INFO\",\"message\":\"request\"");
                json_field(out, "method", e.method);
                json_field(out, "era", e.era);
                json_field(out, "transport", e.transport);
                json_field(out, "client", client);
                json_field(out, "protocol_version", &e.protocol_version);
                out.extend_from_slice(b",\"duration_ms\":");
                push_ms(out, e.duration_us);
                json_field(out, "outcome", e.outcome);
                if let Some(code) = e.code {
                    out.extend_from_slice(b",\"code\":");
                    push_i64(out, code.into());
                }
                if let Some(tool) = &e.tool {
                    json_field(out, "tool", tool.as_str());
                }
                json_field(out, "user", user);
                out.extend_from_slice(b",\"target\":\"mcp::request\"}\n");
            }
        }
    }

    /// `second_text` = `YYYY-MM-DDTHH:MM:SS` of the second `unix_us` falls in.
    fn timestamp(&mut self, unix_us: u64) {
        let second = unix_us / 1_000_000;
        if second == self.second {
            return;
        }
        let format = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
        self.second = second;
        self.second_text = i64::try_from(second)
            .ok()
            .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
            .and_then(|t| t.format(format).ok())
            .unwrap_or_default();
    }
}

/// Printable ASCII other than `"` and `\\`: what both `{:?}` and JSON write unescaped.
fn plain(s: &str) -> bool {
    s.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
}

/// ` name="value"`, quoted as `tracing`'s text format does (`{:?}`).
fn text_field(out: &mut Vec<u8>, name: &str, value: &str) {
    out.push(b' ');
    out.extend_from_slice(name.as_bytes());
    out.push(b'=');
    if plain(value) {
        out.push(b'"');
        out.extend_from_slice(value.as_bytes());
        out.push(b'"');
    } else {
        let _ = write!(out, "{value:?}");
    }
}

/// `,"name":"value"`, escaped as `serde_json` does.
fn json_field(out: &mut Vec<u8>, name: &str, value: &str) {
    out.extend_from_slice(b",\"");
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"\":");
    if plain(value) {
        out.push(b'"');
        out.extend_from_slice(value.as_bytes());
        out.push(b'"');
    } else {
        let _ = serde_json::to_writer(&mut *out, value);
    }
}

fn push_i64(out: &mut Vec<u8>, n: i64) {
    if n < 0 {
        out.push(b'-');
    }
    push_u64(out, n.unsigned_abs());
}

fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// `.` and six digits.
fn push_micros(out: &mut Vec<u8>, micros: u64) {
    out.push(b'.');
    for div in [100_000, 10_000, 1000, 100, 10, 1] {
        out.push(b'0' + (micros / div % 10) as u8);
    }
}

/// Microseconds as the milliseconds `{:?}` and `serde_json` write for `us as f64 / 1000.0`:
/// the shortest decimal, `1.0` for whole numbers (exact below 2^53 µs, about 285 years).
fn push_ms(out: &mut Vec<u8>, us: u64) {
    push_u64(out, us / 1000);
    out.push(b'.');
    let frac = us % 1000;
    if frac == 0 {
        out.push(b'0');
        return;
    }
    let digits = [frac / 100, frac / 10 % 10, frac % 10];
    let keep = if digits[2] != 0 {
        3
    } else if digits[1] != 0 {
        2
    } else {
        1
    };
    for d in &digits[..keep] {
        out.push(b'0' + *d as u8);
    }
}

/// A salted hash standing for the caller (16 hex digits), as `Telemetry::user_hash`.
pub(crate) fn user_hash<'a>(salt: &[u8], id: &str, out: &'a mut [u8; 16]) -> &'a str {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut h = Sha256::new();
    h.update(salt);
    h.update(id.as_bytes());
    for (i, b) in h.finalize()[..8].iter().enumerate() {
        out[2 * i] = HEX[usize::from(b >> 4)];
        out[2 * i + 1] = HEX[usize::from(b & 15)];
    }
    std::str::from_utf8(out).expect("hex digits")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request_log::ToolName;
    use std::borrow::Cow;
    use std::sync::Mutex;

    /// A `MakeWriter` into a shared buffer, for the reference subscriber.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Captured {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
        type Writer = Captured;
        fn make_writer(&'a self) -> Captured {
            self.clone()
        }
    }

    fn entry(code: Option<i32>, tool: Option<&str>, caller: Option<&str>) -> LogEntry {
        LogEntry {
            end_unix_us: 1_709_208_000_250_042,
            method: "tools/call",
            era: "stateless",
            transport: "streamable_http",
            client: 0,
            protocol_version: Cow::Borrowed("2026-07-28"),
            duration_us: 1234,
            outcome: if code.is_some() { "error" } else { "ok" },
            code,
            tool: tool.map(ToolName::new),
            caller: caller.map(Arc::from),
        }
    }

    /// What the `tracing` subscriber of the binary writes for the same request.
    fn reference(format: LogFormat, e: &LogEntry, client: &str, user: &str) -> String {
        let out = Captured::default();
        let builder = tracing_subscriber::fmt().with_writer(out.clone()).with_ansi(false);
        let emit = || {
            tracing::info!(
                target: "mcp::request",
                method = e.method,
                era = e.era,
                transport = e.transport,
                client = client,
                protocol_version = &*e.protocol_version,
                duration_ms = e.duration_us as f64 / 1000.0,
                outcome = e.outcome,
                code = e.code,
                tool = e.tool.as_ref().map(ToolName::as_str),
                user = user,
                "request"
            )
        };
        match format {
            LogFormat::Text => tracing::subscriber::with_default(builder.finish(), emit),
            LogFormat::Json => tracing::subscriber::with_default(
                builder.json().flatten_event(true).with_current_span(false).with_span_list(false).finish(),
                emit,
            ),
        }
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        text
    }

    /// The timestamp is the one part allowed to differ (the reference takes the clock).
    fn without_timestamp(format: LogFormat, line: &str) -> String {
        match format {
            LogFormat::Text => line.split_once(' ').unwrap().1.to_owned(),
            LogFormat::Json => {
                let (head, rest) = line.split_once("\"timestamp\":\"").unwrap();
                format!("{head}{}", rest.split_once('"').unwrap().1)
            }
        }
    }

    #[test]
    fn lines_match_the_tracing_subscriber() {
        let clients = Arc::new(Clients::new(8));
        let slot = clients.slot("cli \"quoted\"", "1.0");
        let client = clients.entry(slot).key().to_owned();
        let salt = b"salt".to_vec();
        for format in [LogFormat::Text, LogFormat::Json] {
            let mut writer = LineWriter::new(format, clients.clone(), salt.clone());
            for (code, tool, caller, duration_us) in [
                (None, Some("test_simple_text"), None, 1234),
                (Some(-32601), None, Some("caller-identity-hash"), 0),
                (None, Some("weird\ttool\u{e9}\"\\'"), Some("another"), 1000),
                (Some(7), Some("x"), None, 1200),
                (None, None, None, 2),
                (None, Some("del\u{7f}"), None, 123_456_789),
                (None, None, None, 10),
            ] {
                let mut e = entry(code, tool, caller);
                e.client = slot;
                e.duration_us = duration_us;
                let mut out = Vec::new();
                writer.line(&e, &mut out);
                let ours = String::from_utf8(out).unwrap();
                let mut hex = [0u8; 16];
                let user = caller.map_or("anonymous", |c| user_hash(&salt, c, &mut hex));
                let theirs = reference(format, &e, &client, user);
                assert_eq!(without_timestamp(format, &ours), without_timestamp(format, &theirs), "{format:?}");
                if let Some(c) = caller {
                    assert!(!ours.contains(c), "the caller's identity is in the line: {ours}");
                }
            }
        }
    }

    #[test]
    fn timestamps_have_microseconds_in_utc() {
        let mut writer = LineWriter::new(LogFormat::Json, Arc::new(Clients::new(1)), Vec::new());
        let mut out = Vec::new();
        writer.line(&entry(None, None, None), &mut out);
        let line: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(line["timestamp"], "2024-02-29T12:00:00.250042Z");
        out.clear();
        let mut text = LineWriter::new(LogFormat::Text, Arc::new(Clients::new(1)), Vec::new());
        text.line(&entry(None, None, None), &mut out);
        assert!(String::from_utf8(out).unwrap().starts_with("2024-02-29T12:00:00.250042Z  INFO mcp::request: "));
    }
}
