//! JSON-RPC 2.0 framing: parsing an incoming message without copying its payloads, the
//! error codes MCP uses, and writing responses straight into a byte buffer.

use std::borrow::Cow;

use http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;

pub type JsonObject = serde_json::Map<String, Value>;

/// JSON-RPC error codes used by MCP.
pub mod code {
    pub const PARSE_ERROR: i32 = -32700;
    pub const INVALID_REQUEST: i32 = -32600;
    pub const METHOD_NOT_FOUND: i32 = -32601;
    pub const INVALID_PARAMS: i32 = -32602;
    pub const INTERNAL_ERROR: i32 = -32603;
    /// 2026-07-28: HTTP headers do not match the body, or required headers are missing.
    pub const HEADER_MISMATCH: i32 = -32020;
    /// 2026-07-28: the request needs a client capability the client did not declare.
    pub const MISSING_CLIENT_CAPABILITY: i32 = -32021;
    /// 2026-07-28: the requested protocol version is not served.
    pub const UNSUPPORTED_PROTOCOL_VERSION: i32 = -32022;
}

/// A request id: a string or an integer (never null on a valid request).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Id {
    Num(i64),
    Str(String),
}

impl std::fmt::Display for Id {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Id::Num(n) => write!(f, "{n}"),
            Id::Str(s) => f.write_str(s),
        }
    }
}

/// One incoming JSON-RPC message, borrowed from the request body. `params`, `result` and
/// `error` stay raw so that only the method that needs them parses them.
#[derive(Debug, Deserialize)]
pub struct Incoming<'a> {
    #[serde(default, borrow)]
    pub jsonrpc: Option<Cow<'a, str>>,
    /// `Some(None)` is an explicit `"id": null`, which MCP forbids on requests.
    #[serde(default, deserialize_with = "explicit_null")]
    pub id: Option<Option<Id>>,
    #[serde(default, borrow)]
    pub method: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub params: Option<&'a RawValue>,
    #[serde(default, borrow)]
    pub result: Option<&'a RawValue>,
    #[serde(default, borrow)]
    pub error: Option<&'a RawValue>,
}

fn explicit_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<Id>>, D::Error> {
    Option::<Id>::deserialize(d).map(Some)
}

/// What an incoming message turned out to be.
pub enum Message<'a> {
    Request {
        id: Id,
        method: Cow<'a, str>,
        params: Option<&'a RawValue>,
    },
    Notification {
        method: Cow<'a, str>,
        params: Option<&'a RawValue>,
    },
    /// A client's answer to a server-initiated request (session era only).
    Response {
        id: Id,
        result: Result<&'a RawValue, &'a RawValue>,
    },
}

/// Parse one JSON-RPC message. Errors come back as ready-to-send JSON-RPC errors.
pub fn parse(body: &[u8]) -> Result<Message<'_>, McpError> {
    let trimmed = body.trim_ascii_start();
    if trimmed.first() == Some(&b'[') {
        return Err(McpError::invalid_request(
            "Invalid request: JSON-RPC batches are accepted only in sessions of protocol revision 2025-03-26",
        ));
    }
    // JSON text is UTF-8 (RFC 8259); serde skips unknown fields without checking them.
    if std::str::from_utf8(body).is_err() {
        return Err(McpError::new(code::PARSE_ERROR, "Parse error: the message is not valid UTF-8"));
    }
    let msg: Incoming<'_> = match serde_json::from_slice(body) {
        Ok(m) => m,
        Err(e) if e.is_syntax() || e.is_eof() => {
            return Err(McpError::new(code::PARSE_ERROR, format!("Parse error: {}", protocol_terms(&e.to_string()))))
        }
        Err(e) => {
            return Err(McpError::invalid_request(format!("Invalid request: {}", protocol_terms(&e.to_string()))))
        }
    };
    if msg.jsonrpc.as_deref() != Some("2.0") {
        let mut err = McpError::invalid_request("Invalid request: jsonrpc must be \"2.0\"");
        err.id = msg.id.flatten();
        return Err(err);
    }
    match (msg.id, msg.method) {
        (Some(Some(id)), Some(method)) => Ok(Message::Request { id, method, params: msg.params }),
        (Some(None), Some(_)) => Err(McpError::invalid_request("Invalid request: id must not be null")),
        (None, Some(method)) => Ok(Message::Notification { method, params: msg.params }),
        (Some(Some(id)), None) => match (msg.result, msg.error) {
            (Some(r), None) => Ok(Message::Response { id, result: Ok(r) }),
            (None, Some(e)) => Ok(Message::Response { id, result: Err(e) }),
            _ => Err(McpError::invalid_request("Invalid response: exactly one of result or error")),
        },
        _ => Err(McpError::invalid_request("Invalid request: missing method")),
    }
}

/// A serde message with Rust type names replaced by JSON ones and the position dropped.
pub fn protocol_terms(message: &str) -> String {
    let message = message.split(" at line ").next().unwrap_or(message);
    let mut out = String::with_capacity(message.len());
    let mut words = message.split(' ').peekable();
    while let Some(word) = words.next() {
        let w = word.trim_end_matches([',', '.', ';', ':']);
        let mut tail = &word[w.len()..];
        // "struct Foo" / "tuple struct Foo" / "enum Foo": the type name follows; its
        // punctuation is kept.
        let mut skip_type_name = || {
            if let Some(name) = words.next() {
                tail = &name[name.trim_end_matches([',', '.', ';', ':']).len()..];
            }
        };
        let replaced = match w {
            "struct" => {
                skip_type_name();
                "a JSON object"
            }
            "map" => "a JSON object",
            "enum" => {
                skip_type_name();
                "one of the allowed values"
            }
            "sequence" => "a JSON array",
            _ => w,
        };
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(replaced);
        out.push_str(tail);
    }
    out.replace("a a JSON", "a JSON").replace("tuple a JSON object", "a JSON array")
}

/// A JSON-RPC error, plus the HTTP status it travels with on the HTTP transports.
#[derive(Debug, Clone)]
pub struct McpError {
    pub code: i32,
    pub message: Cow<'static, str>,
    pub data: Option<Value>,
    pub status: StatusCode,
    /// Set when the error is raised before the request id is known to the caller.
    pub id: Option<Id>,
}

impl McpError {
    pub fn new(code: i32, message: impl Into<Cow<'static, str>>) -> Self {
        let status = match code {
            code::PARSE_ERROR | code::INVALID_REQUEST => StatusCode::BAD_REQUEST,
            code::METHOD_NOT_FOUND => StatusCode::NOT_FOUND,
            code::HEADER_MISMATCH | code::MISSING_CLIENT_CAPABILITY | code::UNSUPPORTED_PROTOCOL_VERSION => {
                StatusCode::BAD_REQUEST
            }
            // Application-level errors (unknown tool, resource not found, handler failures)
            // are well-formed JSON-RPC exchanges: the HTTP exchange itself succeeded.
            _ => StatusCode::OK,
        };
        McpError { code, message: message.into(), data: None, status, id: None }
    }
    pub fn with_data(mut self, data: Value) -> Self {
        self.data = Some(data);
        self
    }
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }
    pub fn invalid_request(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(code::INVALID_REQUEST, message)
    }
    pub fn invalid_params(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(code::INVALID_PARAMS, message)
    }
    pub fn method_not_found(method: &str) -> Self {
        Self::new(code::METHOD_NOT_FOUND, format!("Method not found: {method}"))
    }
    pub fn internal(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(code::INTERNAL_ERROR, message)
    }
    pub fn header_mismatch(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(code::HEADER_MISMATCH, message)
    }
    /// `requiredCapabilities` is a ClientCapabilities object keyed by the missing capability.
    pub fn missing_capability(capability: &str) -> Self {
        let mut caps = JsonObject::new();
        caps.insert(capability.to_owned(), Value::Object(JsonObject::new()));
        Self::new(code::MISSING_CLIENT_CAPABILITY, format!("Missing required client capability: {capability}"))
            .with_data(serde_json::json!({ "requiredCapabilities": caps }))
    }
}

impl std::fmt::Display for McpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl std::error::Error for McpError {}

#[derive(Serialize)]
struct ErrorBody<'a> {
    code: i32,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a Value>,
}

/// Write `{"jsonrpc":"2.0","id":…,"error":{…}}`. A missing id is written as `null`, as
/// JSON-RPC requires when the request id could not be read.
pub fn write_error(out: &mut Vec<u8>, id: Option<&Id>, err: &McpError) {
    out.extend_from_slice(br#"{"jsonrpc":"2.0","id":"#);
    write_id(out, id.or(err.id.as_ref()));
    out.extend_from_slice(br#","error":"#);
    let body = ErrorBody { code: err.code, message: &err.message, data: err.data.as_ref() };
    serde_json::to_writer(&mut *out, &body).expect("serializing an error cannot fail");
    out.push(b'}');
}

/// Write `{"jsonrpc":"2.0","id":…,"result":<result>}` around an already-serialized result.
pub fn write_result_raw(out: &mut Vec<u8>, id: &Id, result: &[u8]) {
    out.extend_from_slice(br#"{"jsonrpc":"2.0","id":"#);
    write_id(out, Some(id));
    out.extend_from_slice(br#","result":"#);
    out.extend_from_slice(result);
    out.push(b'}');
}

/// Write `{"jsonrpc":"2.0","method":…,"params":…}`.
pub fn write_notification(out: &mut Vec<u8>, method: &str, params: &Value) {
    out.extend_from_slice(br#"{"jsonrpc":"2.0","method":"#);
    serde_json::to_writer(&mut *out, method).expect("string");
    out.extend_from_slice(br#","params":"#);
    serde_json::to_writer(&mut *out, params).expect("value");
    out.push(b'}');
}

/// Write a server-initiated request `{"jsonrpc":"2.0","id":…,"method":…,"params":…}`.
pub fn write_request(out: &mut Vec<u8>, id: &Id, method: &str, params: &Value) {
    out.extend_from_slice(br#"{"jsonrpc":"2.0","id":"#);
    write_id(out, Some(id));
    out.extend_from_slice(br#","method":"#);
    serde_json::to_writer(&mut *out, method).expect("string");
    out.extend_from_slice(br#","params":"#);
    serde_json::to_writer(&mut *out, params).expect("value");
    out.push(b'}');
}

fn write_id(out: &mut Vec<u8>, id: Option<&Id>) {
    match id {
        Some(Id::Num(n)) => {
            use std::io::Write as _;
            write!(out, "{n}").expect("writing to a Vec cannot fail")
        }
        Some(Id::Str(s)) => serde_json::to_writer(&mut *out, s).expect("string"),
        None => out.extend_from_slice(b"null"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_request_notification_and_response() {
        let m = parse(br#"{"jsonrpc":"2.0","id":7,"method":"tools/list","params":{"a":1}}"#).unwrap();
        assert!(
            matches!(m, Message::Request { id: Id::Num(7), ref method, params: Some(_) } if method == "tools/list")
        );
        let m = parse(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#).unwrap();
        assert!(matches!(m, Message::Notification { .. }));
        let m = parse(br#"{"jsonrpc":"2.0","id":"x","result":{}}"#).unwrap();
        assert!(matches!(m, Message::Response { result: Ok(_), .. }));
    }

    #[test]
    fn exact_error_codes() {
        assert_eq!(parse(b"{not json").err().unwrap().code, code::PARSE_ERROR);
        assert_eq!(parse(b"").err().unwrap().code, code::PARSE_ERROR);
        assert_eq!(parse(br#"[{"jsonrpc":"2.0","id":1,"method":"x"}]"#).err().unwrap().code, code::INVALID_REQUEST);
        assert_eq!(parse(br#"{"jsonrpc":"1.0","id":1,"method":"x"}"#).err().unwrap().code, code::INVALID_REQUEST);
        assert_eq!(parse(br#"{"jsonrpc":"2.0","id":null,"method":"x"}"#).err().unwrap().code, code::INVALID_REQUEST);
        assert_eq!(parse(br#"{"jsonrpc":"2.0","id":1}"#).err().unwrap().code, code::INVALID_REQUEST);
        assert_eq!(parse(br#"{"jsonrpc":"2.0","id":1,"method":5}"#).err().unwrap().code, code::INVALID_REQUEST);
        assert_eq!(McpError::method_not_found("x").status, StatusCode::NOT_FOUND);
    }

    #[test]
    fn escaped_method_names_parse() {
        let m = parse(br#"{"jsonrpc":"2.0","id":1,"method":"tools\/list"}"#).unwrap();
        assert!(matches!(m, Message::Request { ref method, .. } if method == "tools/list"));
    }

    #[test]
    fn writes_error_with_null_id() {
        let mut out = Vec::new();
        write_error(&mut out, None, &McpError::new(code::PARSE_ERROR, "Parse error"));
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["id"], Value::Null);
        assert_eq!(v["error"]["code"], -32700);
    }
}
