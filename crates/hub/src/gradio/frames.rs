//! Reading a Space's answer: the Server-Sent Events framing of its body (bytes as they
//! arrive → the `data` of each event), and which JSON-RPC message each event carries.
//! Pure functions of the bytes, so the proxy's reading loop only moves bytes and
//! deadlines, and the fuzz targets reach the same code the proxy runs.

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

/// The Space sent something that is not UTF-8 SSE or not a JSON-RPC message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Malformed;

/// Splits an SSE body into events: `data:` lines joined by `\n`, dispatched at a blank
/// line; other fields and comments are ignored, events without data skipped. Linear in
/// the bytes pushed: consumed lines are dropped in bulk and no byte is searched twice.
#[derive(Debug, Default)]
pub struct EventDecoder {
    buf: Vec<u8>,
    /// Start of the unconsumed part of `buf`.
    pos: usize,
    /// `buf[pos..scanned]` holds no newline.
    scanned: usize,
    data: String,
}

impl EventDecoder {
    pub fn push(&mut self, chunk: &[u8]) {
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.scanned -= self.pos;
            self.pos = 0;
        }
        self.buf.extend_from_slice(chunk);
    }

    /// The data of the next complete event, if the bytes pushed so far complete one.
    pub fn next_event(&mut self) -> Result<Option<String>, Malformed> {
        loop {
            let Some(offset) = self.buf[self.scanned..].iter().position(|&b| b == b'\n') else {
                self.scanned = self.buf.len();
                return Ok(None);
            };
            let newline = self.scanned + offset;
            let mut line = &self.buf[self.pos..newline];
            self.pos = newline + 1;
            self.scanned = self.pos;
            if let Some(stripped) = line.strip_suffix(b"\r") {
                line = stripped;
            }
            if line.is_empty() {
                if !self.data.is_empty() {
                    return Ok(Some(std::mem::take(&mut self.data)));
                }
                continue;
            }
            let line = std::str::from_utf8(line).map_err(|_| Malformed)?;
            if let Some(d) = line.strip_prefix("data:") {
                if !self.data.is_empty() {
                    self.data.push('\n');
                }
                self.data.push_str(d.strip_prefix(' ').unwrap_or(d));
            }
        }
    }
}

/// What one message from the Space is, for a call waiting on request `id`.
#[derive(Debug)]
pub enum Message {
    /// The result of request `id`.
    Reply(Box<RawValue>),
    /// The JSON-RPC error answering request `id` (its message, at most 500 characters).
    Error(String),
    /// `notifications/progress` with its params.
    Progress(Value),
    /// Anything else: other notifications, requests from the Space, other ids.
    Other,
}

#[derive(Deserialize)]
struct Incoming<'a> {
    #[serde(borrow, default)]
    id: Option<&'a RawValue>,
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    params: Option<Value>,
    #[serde(borrow, default)]
    result: Option<&'a RawValue>,
    #[serde(default)]
    error: Option<Value>,
}

/// Classify one message (a JSON body or an event's data). `id` is the request id as
/// sent (a number's digits, or a string's text).
pub fn classify(text: &str, id: &str) -> Result<Message, Malformed> {
    let msg: Incoming<'_> = serde_json::from_str(text).map_err(|_| Malformed)?;
    Ok(match (msg.method, msg.id) {
        (Some(method), None) => match msg.params {
            Some(params) if method == "notifications/progress" => Message::Progress(params),
            _ => Message::Other,
        },
        // A request from the Space (ping, sampling, …): hubmcp does not serve them.
        (Some(_), Some(_)) => Message::Other,
        (None, Some(rid)) if same_id(rid.get().trim(), id) => match msg.result {
            Some(r) => Message::Reply(r.to_owned()),
            None => Message::Error(
                msg.error
                    .as_ref()
                    .and_then(|e| e.get("message"))
                    .and_then(Value::as_str)
                    .unwrap_or("unknown error")
                    .chars()
                    .take(500)
                    .collect(),
            ),
        },
        _ => Message::Other,
    })
}

fn same_id(raw: &str, id: &str) -> bool {
    raw == id || raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) == Some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(chunks: &[&[u8]]) -> Result<Vec<String>, Malformed> {
        let mut d = EventDecoder::default();
        let mut out = Vec::new();
        for c in chunks {
            d.push(c);
            while let Some(e) = d.next_event()? {
                out.push(e);
            }
        }
        Ok(out)
    }

    #[test]
    fn frames_split_anywhere() {
        let body: &[u8] = b": ping\r\n\r\nevent: message\r\ndata: {\"a\":1}\r\ndata:x\r\n\r\nid: 3\n\ndata: last\n\n";
        let whole = events(&[body]).unwrap();
        assert_eq!(whole, vec!["{\"a\":1}\nx".to_owned(), "last".to_owned()]);
        for cut in 0..body.len() {
            assert_eq!(events(&[&body[..cut], &body[cut..]]).unwrap(), whole, "cut at {cut}");
        }
        assert_eq!(events(&[b"data: \xff\n\n"]), Err(Malformed));
        assert_eq!(events(&[b"data: incomplete\n"]).unwrap(), Vec::<String>::new());
    }

    #[test]
    fn classifies_messages() {
        assert!(matches!(classify(r#"{"jsonrpc":"2.0","id":1,"result":{"x":1}}"#, "1"), Ok(Message::Reply(_))));
        assert!(matches!(classify(r#"{"jsonrpc":"2.0","id":"1","result":{}}"#, "1"), Ok(Message::Reply(_))));
        assert!(matches!(classify(r#"{"jsonrpc":"2.0","id":2,"result":{}}"#, "1"), Ok(Message::Other)));
        let e = classify(r#"{"id":1,"error":{"code":-1,"message":"boom"}}"#, "1").unwrap();
        assert!(matches!(e, Message::Error(ref m) if m == "boom"));
        let p = classify(r#"{"method":"notifications/progress","params":{"progress":1}}"#, "1").unwrap();
        assert!(matches!(p, Message::Progress(_)));
        assert!(matches!(classify(r#"{"id":5,"method":"ping"}"#, "1"), Ok(Message::Other)));
        assert!(classify("not json", "1").is_err());
    }
}
