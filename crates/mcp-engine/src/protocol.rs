//! Protocol revisions, eras, per-request metadata and the request description every
//! handler sees.

use std::borrow::Cow;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use crate::jsonrpc::{code, JsonObject, McpError};

/// The stateless revision: no handshake, metadata on every request.
pub const STATELESS_VERSION: &str = "2026-07-28";
/// Revisions the engine serves statelessly, newest first.
pub const STATELESS_VERSIONS: &[&str] = &[STATELESS_VERSION];
/// Session-based revisions (initialize handshake), newest first.
pub const SESSION_VERSIONS: &[&str] = &["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"];

pub const META_PROTOCOL_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
pub const META_CLIENT_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";
pub const META_CLIENT_INFO: &str = "io.modelcontextprotocol/clientInfo";
pub const META_LOG_LEVEL: &str = "io.modelcontextprotocol/logLevel";
pub const META_SERVER_INFO: &str = "io.modelcontextprotocol/serverInfo";
pub const META_SUBSCRIPTION_ID: &str = "io.modelcontextprotocol/subscriptionId";

/// Which generation of the protocol a request belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Era {
    /// 2026-07-28 and later: stateless, per-request `_meta`.
    Stateless,
    /// 2024-11-05 to 2025-11-25: `initialize` handshake and sessions.
    Session,
}

/// Log levels in increasing severity (RFC 5424 order, as MCP uses them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Debug,
    Info,
    Notice,
    Warning,
    Error,
    Critical,
    Alert,
    Emergency,
}

/// The `_meta` object of a request, as far as the engine reads it.
#[derive(Debug, Default, Deserialize)]
pub struct RequestMeta {
    #[serde(rename = "io.modelcontextprotocol/protocolVersion", default)]
    pub protocol_version: Option<String>,
    #[serde(rename = "io.modelcontextprotocol/clientCapabilities", default)]
    pub client_capabilities: Option<Value>,
    #[serde(rename = "io.modelcontextprotocol/clientInfo", default)]
    pub client_info: Option<Value>,
    #[serde(rename = "io.modelcontextprotocol/logLevel", default)]
    pub log_level: Option<Value>,
    #[serde(rename = "progressToken", default)]
    pub progress_token: Option<Value>,
}

/// The params fields the engine itself reads, parsed once per request. Method-specific
/// extras are read from `raw` by the method that needs them.
#[derive(Debug, Default, Deserialize)]
pub struct Params<'a> {
    #[serde(rename = "_meta", default)]
    pub meta: Option<RequestMeta>,
    #[serde(default, borrow)]
    pub name: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub uri: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub arguments: Option<&'a RawValue>,
    #[serde(rename = "inputResponses", default, borrow)]
    pub input_responses: Option<&'a RawValue>,
    #[serde(rename = "requestState", default)]
    pub request_state: Option<String>,
    #[serde(default)]
    pub cursor: Option<String>,
    /// The tasks extension's `tasks/get`, `tasks/update`, `tasks/cancel`.
    #[serde(rename = "taskId", default, borrow)]
    pub task_id: Option<Cow<'a, str>>,
    #[serde(skip)]
    pub raw: Option<&'a RawValue>,
}

impl<'a> Params<'a> {
    /// `params` must be an object (or absent): by-position params are refused.
    pub fn parse(raw: Option<&'a RawValue>) -> Result<Params<'a>, McpError> {
        let Some(raw) = raw else { return Ok(Params::default()) };
        if !raw.get().trim_start().starts_with('{') {
            return Err(McpError::invalid_params("Invalid params: params must be a JSON object"));
        }
        let mut p: Params<'a> = serde_json::from_str(raw.get()).map_err(|e| invalid_params(&e))?;
        p.raw = Some(raw);
        Ok(p)
    }

    /// Parse the params again into a method-specific shape.
    pub fn typed<T: Deserialize<'a>>(&self) -> Result<T, McpError> {
        let raw = self.raw.map(RawValue::get).unwrap_or("{}");
        serde_json::from_str(raw).map_err(|e| invalid_params(&e))
    }
}

/// -32602 for params that do not have the expected shape, in protocol terms: serde's
/// message names Rust types ("struct Foo"), which mean nothing to a client.
fn invalid_params(e: &serde_json::Error) -> McpError {
    McpError::invalid_params(format!("Invalid params: {}", crate::jsonrpc::protocol_terms(&e.to_string())))
}

/// Who is calling, as far as the engine needs to know: an opaque identity used to bind
/// sealed state and route per-caller notifications, and the bearer credential (if any)
/// that integrations may forward upstream. The credential never appears in Debug output.
#[derive(Clone, Default)]
pub struct Caller {
    /// Stable, non-secret identifier (e.g. a hash of the token); `None` for anonymous.
    pub id: Option<Arc<str>>,
    pub bearer: Option<Arc<str>>,
}

impl std::fmt::Debug for Caller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caller")
            .field("id", &self.id)
            .field("bearer", &self.bearer.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl Caller {
    pub fn anonymous() -> Self {
        Caller::default()
    }
    /// The identity sealed state is bound to.
    pub fn binding(&self) -> &str {
        self.id.as_deref().unwrap_or("anonymous")
    }
}

/// Which transport carried a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    StreamableHttp,
    Stdio,
    Sse,
}

/// Everything a handler may want to know about the request it serves. Built once per
/// request and shared by `Arc`.
#[derive(Debug)]
pub struct RequestInfo {
    pub era: Era,
    pub transport: Transport,
    pub protocol_version: String,
    pub method: String,
    /// The client's declared capabilities (an object; empty when none).
    pub client_capabilities: Value,
    pub client_info: Option<Value>,
    /// Stateless era: the level requested in `_meta`; `None` means "send no logs".
    /// Session era: the session's level set by `logging/setLevel`.
    pub log_level: Option<LogLevel>,
    pub progress_token: Option<Value>,
    pub caller: Caller,
    /// HTTP request headers and query string, when the request came over HTTP.
    pub http: Option<HttpRequestParts>,
}

#[derive(Debug, Clone, Default)]
pub struct HttpRequestParts {
    pub headers: http::HeaderMap,
    pub query: Option<String>,
    /// The client's address (the peer, or the first `X-Forwarded-For` entry when the
    /// server is configured to trust it).
    pub remote: Option<std::net::IpAddr>,
}

impl RequestInfo {
    /// True when the client declared `capability` (a top-level key of its capabilities).
    pub fn client_supports(&self, capability: &str) -> bool {
        self.client_capabilities.get(capability).is_some_and(|v| !v.is_null())
    }

    /// A query-string parameter of the HTTP request (percent-decoded), if any.
    pub fn query_param(&self, name: &str) -> Option<String> {
        let query = self.http.as_ref()?.query.as_deref()?;
        query.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k) == name).then(|| percent_decode(v))
        })
    }

    /// Every value of a repeated query-string parameter (`?a=1&a=2`), in order.
    pub fn query_params(&self, name: &str) -> Vec<String> {
        let Some(query) = self.http.as_ref().and_then(|h| h.query.as_deref()) else { return Vec::new() };
        query
            .split('&')
            .filter_map(|pair| {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                (percent_decode(k) == name).then(|| percent_decode(v))
            })
            .collect()
    }

    /// An HTTP request header, if present and valid text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.http.as_ref()?.headers.get(name)?.to_str().ok()
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Validated stateless-era metadata.
pub struct StatelessMeta {
    pub protocol_version: String,
    pub client_capabilities: Value,
    pub client_info: Option<Value>,
    pub log_level: Option<LogLevel>,
    pub progress_token: Option<Value>,
}

/// Check a stateless request's `_meta`: protocolVersion and clientCapabilities are required,
/// clientInfo is optional. Missing fields are malformed requests (-32602, HTTP 400).
pub fn validate_stateless_meta(meta: Option<RequestMeta>) -> Result<StatelessMeta, McpError> {
    let malformed = |what: &str| {
        McpError::new(code::INVALID_PARAMS, format!("Invalid params: _meta is missing {what}"))
            .with_status(http::StatusCode::BAD_REQUEST)
    };
    let Some(meta) = meta else {
        return Err(McpError::new(
            code::INVALID_PARAMS,
            "Invalid params: _meta with io.modelcontextprotocol/protocolVersion and clientCapabilities is required",
        )
        .with_status(http::StatusCode::BAD_REQUEST));
    };
    let protocol_version = meta.protocol_version.ok_or_else(|| malformed(META_PROTOCOL_VERSION))?;
    let client_capabilities = match meta.client_capabilities {
        Some(v @ Value::Object(_)) => v,
        Some(_) => {
            return Err(McpError::new(
                code::INVALID_PARAMS,
                "Invalid params: io.modelcontextprotocol/clientCapabilities must be an object",
            )
            .with_status(http::StatusCode::BAD_REQUEST))
        }
        None => return Err(malformed(META_CLIENT_CAPABILITIES)),
    };
    let log_level = match meta.log_level {
        None | Some(Value::Null) => None,
        Some(v) => Some(serde_json::from_value(v).map_err(|_| {
            McpError::invalid_params("Invalid params: unknown io.modelcontextprotocol/logLevel")
                .with_status(http::StatusCode::BAD_REQUEST)
        })?),
    };
    Ok(StatelessMeta {
        protocol_version,
        client_capabilities,
        client_info: meta.client_info,
        log_level,
        progress_token: meta.progress_token,
    })
}

/// The error for a protocol version the server does not serve.
pub fn unsupported_version(requested: &str, supported: &[&str]) -> McpError {
    McpError::new(code::UNSUPPORTED_PROTOCOL_VERSION, format!("Unsupported protocol version: {requested}"))
        .with_data(serde_json::json!({ "supported": supported, "requested": requested }))
}

/// Server identity, as published in results and `initialize`.
#[derive(Debug, Clone)]
pub struct ServerInfo {
    pub name: String,
    pub version: String,
    pub title: Option<String>,
    pub instructions: Option<String>,
}

impl ServerInfo {
    pub fn to_json(&self) -> Value {
        let mut o = JsonObject::new();
        o.insert("name".into(), self.name.clone().into());
        o.insert("version".into(), self.version.clone().into());
        if let Some(t) = &self.title {
            o.insert("title".into(), t.clone().into());
        }
        Value::Object(o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_must_be_an_object_and_errors_speak_json() {
        let raw = serde_json::value::RawValue::from_string("[\"positional\"]".into()).unwrap();
        let e = Params::parse(Some(&raw)).unwrap_err();
        assert_eq!(e.code, -32602);
        assert!(e.message.contains("must be a JSON object"), "{}", e.message);
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Init {
            level: Vec<u8>,
        }
        let raw = serde_json::value::RawValue::from_string(r#"{"level": {"x": 1}}"#.into()).unwrap();
        let e = Params::parse(Some(&raw)).unwrap().typed::<Init>().unwrap_err();
        assert!(!e.message.contains("struct") && !e.message.contains("line"), "{}", e.message);
        assert_eq!(
            crate::jsonrpc::protocol_terms("invalid type: integer `5`, expected struct Init at line 1 column 2"),
            "invalid type: integer `5`, expected a JSON object"
        );
        assert_eq!(crate::jsonrpc::protocol_terms("expected struct A, found x"), "expected a JSON object, found x");
        assert_eq!(
            crate::jsonrpc::protocol_terms("invalid type: sequence, expected a map"),
            "invalid type: a JSON array, expected a JSON object"
        );
    }

    #[test]
    fn meta_validation() {
        assert_eq!(validate_stateless_meta(None).err().unwrap().code, code::INVALID_PARAMS);
        let m: RequestMeta = serde_json::from_value(serde_json::json!({
            "io.modelcontextprotocol/protocolVersion": "2026-07-28"
        }))
        .unwrap();
        let e = validate_stateless_meta(Some(m)).err().unwrap();
        assert_eq!((e.code, e.status.as_u16()), (code::INVALID_PARAMS, 400));
        let m: RequestMeta = serde_json::from_value(serde_json::json!({
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {},
            "io.modelcontextprotocol/logLevel": "warning"
        }))
        .unwrap();
        let ok = validate_stateless_meta(Some(m)).unwrap();
        assert_eq!(ok.log_level, Some(LogLevel::Warning));
        assert!(ok.client_info.is_none());
    }

    #[test]
    fn query_params_decode() {
        let info = RequestInfo {
            era: Era::Stateless,
            transport: Transport::StreamableHttp,
            protocol_version: STATELESS_VERSION.into(),
            method: "tools/list".into(),
            client_capabilities: serde_json::json!({}),
            client_info: None,
            log_level: None,
            progress_token: None,
            caller: Caller::anonymous(),
            http: Some(HttpRequestParts {
                headers: Default::default(),
                query: Some("a=1&gradio=x%2Fy,z&b".into()),
                remote: None,
            }),
        };
        assert_eq!(info.query_param("gradio").as_deref(), Some("x/y,z"));
        assert_eq!(info.query_param("b").as_deref(), Some(""));
        assert_eq!(info.query_param("c"), None);
        assert_eq!(info.query_params("gradio"), ["x/y,z"]);
        assert!(info.query_params("c").is_empty());
        assert!(format!("{:?}", Caller { id: None, bearer: Some("hf_secret".into()) }).contains("redacted"));
    }
}
