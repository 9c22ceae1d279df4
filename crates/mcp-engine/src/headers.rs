//! 2026-07-28 request headers mirrored from the body: `Mcp-Method`, `Mcp-Name` and the
//! `Mcp-Param-*` headers a tool declares with `x-mcp-header`. The server validates that
//! they match the body, so that intermediaries routing on headers and the server acting
//! on the body can never disagree.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use http::HeaderMap;
use serde_json::Value;

use crate::jsonrpc::McpError;

/// Header names, pre-parsed once (a `&str` lookup parses and lower-cases the name on
/// every call).
pub mod names {
    use http::HeaderName;
    pub const MCP_PROTOCOL_VERSION: HeaderName = HeaderName::from_static("mcp-protocol-version");
    pub const MCP_SESSION_ID: HeaderName = HeaderName::from_static("mcp-session-id");
    pub const MCP_METHOD: HeaderName = HeaderName::from_static("mcp-method");
    pub const MCP_NAME: HeaderName = HeaderName::from_static("mcp-name");
    pub const LAST_EVENT_ID: HeaderName = HeaderName::from_static("last-event-id");
}

/// A tool parameter mirrored into a `Mcp-Param-{header}` header.
#[derive(Debug, Clone, PartialEq)]
pub struct HeaderParam {
    /// The chain of `properties` keys from the schema root.
    pub path: Vec<String>,
    /// The header name suffix (`Region` for `Mcp-Param-Region`), lower-cased for lookup.
    pub header: String,
    pub kind: ParamKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    String,
    Integer,
    Boolean,
}

/// Collect `x-mcp-header` annotations reachable from the schema root through
/// `properties` chains only (the only places the annotation is valid).
pub fn header_params_of(schema: &Value) -> Vec<HeaderParam> {
    let mut out = Vec::new();
    collect(schema, &mut Vec::new(), &mut out);
    out
}

fn collect(schema: &Value, path: &mut Vec<String>, out: &mut Vec<HeaderParam>) {
    let Some(props) = schema.get("properties").and_then(Value::as_object) else { return };
    for (key, prop) in props {
        path.push(key.clone());
        if let Some(header) = prop.get("x-mcp-header").and_then(Value::as_str) {
            let kind = match prop.get("type").and_then(Value::as_str) {
                Some("integer") => Some(ParamKind::Integer),
                Some("boolean") => Some(ParamKind::Boolean),
                Some("string") => Some(ParamKind::String),
                _ => None,
            };
            if let Some(kind) = kind {
                out.push(HeaderParam { path: path.clone(), header: header.to_ascii_lowercase(), kind });
            }
        }
        collect(prop, path, out);
        path.pop();
    }
}

/// A header value with optional whitespace trimmed (RFC 9110 §5.5). Values that are not
/// visible ASCII are invalid, and so are repeated headers that disagree: a proxy routing
/// on one copy must never see another method, tool or version than the one served.
pub fn header_text<K: http::header::AsHeaderName + Copy + std::fmt::Display>(
    headers: &HeaderMap,
    name: K,
) -> Result<Option<&str>, McpError> {
    let mut found: Option<&str> = None;
    for v in headers.get_all(name) {
        let text = v
            .to_str()
            .map(|s| s.trim_matches([' ', '\t']))
            .map_err(|_| McpError::header_mismatch(format!("Header {name} contains invalid characters")))?;
        match found {
            Some(first) if first != text => {
                return Err(McpError::header_mismatch(format!(
                    "Header mismatch: conflicting values in repeated {name} headers"
                )))
            }
            _ => found = Some(text),
        }
    }
    Ok(found)
}

/// Decode the `=?base64?…?=` sentinel form strictly (standard alphabet, with padding);
/// anything else is a literal value.
pub fn decode_header_value(value: &str) -> Result<String, McpError> {
    match value.strip_prefix("=?base64?").and_then(|v| v.strip_suffix("?=")) {
        None => Ok(value.to_owned()),
        Some(encoded) => {
            let bytes =
                STANDARD.decode(encoded).map_err(|_| McpError::header_mismatch("Header value is not valid Base64"))?;
            String::from_utf8(bytes).map_err(|_| McpError::header_mismatch("Base64 header value is not UTF-8"))
        }
    }
}

/// Check `Mcp-Method` (every request) and `Mcp-Name` (tools/call, prompts/get,
/// resources/read; `params.taskId` of tasks/get, tasks/update, tasks/cancel) against the
/// body.
pub fn check_standard(headers: &HeaderMap, method: &str, name_in_body: Option<&str>) -> Result<(), McpError> {
    match header_text(headers, &names::MCP_METHOD)? {
        None => return Err(McpError::header_mismatch("Missing required header Mcp-Method")),
        Some(h) if h != method => {
            return Err(McpError::header_mismatch(format!(
                "Header mismatch: Mcp-Method header value '{h}' does not match body method '{method}'"
            )))
        }
        Some(_) => {}
    }
    let names_target = matches!(
        method,
        "tools/call" | "prompts/get" | "resources/read" | "tasks/get" | "tasks/update" | "tasks/cancel"
    );
    if let (true, Some(body_name)) = (names_target, name_in_body) {
        match header_text(headers, &names::MCP_NAME)? {
            None => return Err(McpError::header_mismatch("Missing required header Mcp-Name")),
            Some(h) => {
                let decoded = decode_header_value(h)?;
                if decoded != body_name {
                    return Err(McpError::header_mismatch(format!(
                        "Header mismatch: Mcp-Name header value '{decoded}' does not match body value '{body_name}'"
                    )));
                }
            }
        }
    }
    Ok(())
}

/// Check every `Mcp-Param-*` header a tool declares against its arguments.
pub fn check_params(headers: &HeaderMap, params: &[HeaderParam], arguments: Option<&Value>) -> Result<(), McpError> {
    for p in params {
        let name = format!("mcp-param-{}", p.header);
        let body = arguments.and_then(|a| p.path.iter().try_fold(a, |v, k| v.get(k))).filter(|v| !v.is_null());
        let header = header_text(headers, name.as_str())?.map(decode_header_value).transpose()?;
        let matches = match (body, &header) {
            (None, None) => true,
            (Some(_), None) => {
                return Err(McpError::header_mismatch(format!(
                    "Missing required header Mcp-Param-{} for argument '{}'",
                    p.header,
                    p.path.join(".")
                )))
            }
            (None, Some(_)) => false,
            (Some(v), Some(h)) => match p.kind {
                ParamKind::String => v.as_str() == Some(h.as_str()),
                ParamKind::Boolean => v.as_bool().map(|b| if b { "true" } else { "false" }) == Some(h.as_str()),
                // Compare numerically: "42.0" and 42 are equal.
                ParamKind::Integer => match (v.as_f64(), h.trim().parse::<f64>()) {
                    (Some(a), Ok(b)) => a == b,
                    _ => false,
                },
            },
        };
        if !matches {
            return Err(McpError::header_mismatch(format!(
                "Header mismatch: Mcp-Param-{} does not match argument '{}'",
                p.header,
                p.path.join(".")
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(http::HeaderName::from_bytes(k.as_bytes()).unwrap(), v.parse().unwrap());
        }
        h
    }

    #[test]
    fn standard_headers() {
        assert!(check_standard(&headers(&[("Mcp-Method", "tools/list")]), "tools/list", None).is_ok());
        assert!(check_standard(&headers(&[("MCP-METHOD", " tools/list ")]), "tools/list", None).is_ok());
        assert!(check_standard(&headers(&[("Mcp-Method", "TOOLS/LIST")]), "tools/list", None).is_err());
        assert!(check_standard(&headers(&[]), "tools/list", None).is_err());
        let h = headers(&[("Mcp-Method", "tools/call"), ("Mcp-Name", "=?base64?dGVzdA==?=")]);
        assert!(check_standard(&h, "tools/call", Some("test")).is_ok());
        assert!(check_standard(&headers(&[("Mcp-Method", "tools/call")]), "tools/call", Some("x")).is_err());
        // The tasks extension: Mcp-Name mirrors params.taskId.
        let h = headers(&[("Mcp-Method", "tasks/get"), ("Mcp-Name", "t1")]);
        assert!(check_standard(&h, "tasks/get", Some("t1")).is_ok());
        assert!(check_standard(&h, "tasks/get", Some("t2")).is_err());
        assert!(check_standard(&headers(&[("Mcp-Method", "tasks/cancel")]), "tasks/cancel", Some("t1")).is_err());
    }

    #[test]
    fn base64_sentinel_is_strict() {
        assert_eq!(decode_header_value("=?base64?SGVsbG8=?=").unwrap(), "Hello");
        assert!(decode_header_value("=?base64?SGVsbG8?=").is_err());
        assert!(decode_header_value("=?base64?SGVs!!!bG8=?=").is_err());
        assert_eq!(decode_header_value("SGVsbG8=").unwrap(), "SGVsbG8=");
        assert_eq!(decode_header_value("=?base64?SGVsbG8=").unwrap(), "=?base64?SGVsbG8=");
    }

    #[test]
    fn param_headers() {
        let schema = json!({"type":"object","properties":{
            "region":{"type":"string","x-mcp-header":"Region"},
            "n":{"type":"integer","x-mcp-header":"N"},
            "nested":{"type":"object","properties":{"flag":{"type":"boolean","x-mcp-header":"Flag"}}},
            "list":{"type":"array","items":{"properties":{"x":{"type":"string","x-mcp-header":"X"}}}}
        }});
        let params = header_params_of(&schema);
        assert_eq!(params.len(), 3, "items are not statically reachable: {params:?}");
        let args = json!({"region":"us","n":42,"nested":{"flag":true}});
        let ok = headers(&[("Mcp-Param-Region", "us"), ("mcp-param-n", "42.0"), ("Mcp-Param-Flag", "true")]);
        assert!(check_params(&ok, &params, Some(&args)).is_ok());
        let missing = headers(&[("Mcp-Param-N", "42"), ("Mcp-Param-Flag", "true")]);
        assert!(check_params(&missing, &params, Some(&args)).is_err());
        let wrong = headers(&[("Mcp-Param-Region", "eu"), ("Mcp-Param-N", "42"), ("Mcp-Param-Flag", "true")]);
        assert!(check_params(&wrong, &params, Some(&args)).is_err());
        assert!(check_params(&headers(&[]), &params, Some(&json!({}))).is_ok());
        assert!(check_params(&headers(&[]), &params, Some(&json!({"region": null}))).is_ok());
    }
}
