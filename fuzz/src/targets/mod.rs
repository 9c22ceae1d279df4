//! The targets, one module each; [`wire`] is the text form of an HTTP request that the
//! request-shaped targets share.

pub mod event_id_cursor;
pub mod gradio_schema;
pub mod gradio_sse;
pub mod hf_fs;
pub mod http_request;
pub mod jsonrpc;
pub mod mcp_headers;
pub mod request_state;
pub mod wire;
pub mod xet_formats;

/// Shared dictionary of JSON and JSON-RPC tokens.
pub const JSON_TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    "\"",
    "null",
    "true",
    "false",
    "0",
    "-1",
    "1e999",
    "9223372036854775808",
    "\\u0000",
    "\\ud800",
    "\"jsonrpc\":\"2.0\"",
    "\"id\":",
    "\"method\":",
    "\"params\":",
    "\"result\":",
    "\"error\":",
    "\"_meta\":",
];
