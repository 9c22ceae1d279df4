//! `Mcp-Param-*` and `=?base64?…?=` header decoding, and `Mcp-Method`/`Mcp-Name`
//! checks. Input: a tool's input schema (JSON), a blank line, the call's arguments (JSON),
//! a blank line, header lines (see [`super::wire`]). The schema's `x-mcp-header`
//! annotations are collected as the engine does for a tool, then every header is checked
//! against the arguments. Invariants: no panic; a sentinel value that decodes re-encodes
//! to itself (the decoding is strict).

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use mcp_engine::headers::{check_params, check_standard, decode_header_value, header_params_of, header_text};
use serde_json::Value;

use super::wire;
use crate::Target;

pub const TARGET: Target = Target {
    name: "mcp_headers",
    about: "Mcp-Param-* / =?base64?…?= decoding and Mcp-Method/Mcp-Name checks against a schema and arguments",
    run,
    dictionary: &[
        "\n\n",
        "\"x-mcp-header\":\"",
        "\"type\":\"integer\"",
        "\"type\":\"boolean\"",
        "\"type\":\"string\"",
        "\"properties\":{",
        "\nMcp-Param-",
        "\nMcp-Name: ",
        "\nMcp-Method: tools/call",
        "=?base64?",
        "?=",
        "==",
        "1e308",
        "-0",
        "NaN",
        "inf",
    ],
};

fn run(data: &[u8]) {
    let Some(a) = wire::find(data, b"\n\n") else { return };
    let Some(b) = wire::find(&data[a + 2..], b"\n\n").map(|b| a + 2 + b) else { return };
    let schema: Value = serde_json::from_slice(&data[..a]).unwrap_or(Value::Null);
    let arguments: Option<Value> = serde_json::from_slice(&data[a + 2..b]).ok();
    let mut head = data[b + 2..].to_vec();
    head.extend_from_slice(b"\n\n");
    let headers = wire::parse(&head, "").headers;

    let params = header_params_of(&schema);
    let _ = check_params(&headers, &params, arguments.as_ref());
    let method = header_text(&headers, "mcp-method").ok().flatten().unwrap_or("tools/call").to_owned();
    let name = arguments.as_ref().and_then(|a| a.get("name")).and_then(Value::as_str);
    let _ = check_standard(&headers, &method, name);
    for value in headers.values() {
        let Ok(text) = value.to_str() else { continue };
        if let Ok(decoded) = decode_header_value(text) {
            if let Some(encoded) = text.strip_prefix("=?base64?").and_then(|v| v.strip_suffix("?=")) {
                assert_eq!(STANDARD.encode(decoded.as_bytes()), encoded, "Base64 decoding is not strict");
            } else {
                assert_eq!(decoded, text);
            }
        }
    }
}
