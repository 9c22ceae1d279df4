//! JSON-RPC framing and what the engine reads of a POST before dispatch, without the
//! router: era routing from headers and body (`route_era`), `jsonrpc::parse`,
//! `Params::parse`, and `prepare_stateless` (version, `_meta`, `Mcp-Method`/`Mcp-Name`).
//! Input: the request text of [`super::wire`]. Invariants: no panic, and every refusal
//! writes a JSON-RPC error body that parses, keeps its code and has a 4xx status when it
//! is a framing error.

use std::sync::{Arc, OnceLock};

use mcp_engine::jsonrpc::{self, code, write_error, Id, McpError, Message};
use mcp_engine::prepare::prepare_stateless;
use mcp_engine::protocol::{Caller, HttpRequestParts, Params, Transport};
use mcp_engine::provider::{Catalog, StaticProvider};
use mcp_engine::transport::http::route_era;
use mcp_engine::{Engine, ServerInfo};
use serde_json::Value;

use super::wire;
use crate::Target;

pub const TARGET: Target = Target {
    name: "jsonrpc",
    about: "JSON-RPC framing, era routing and stateless preparation of a POST (headers + body)",
    run,
    dictionary: &[
        "\n\n",
        "\nMCP-Protocol-Version: 2026-07-28",
        "\nMCP-Protocol-Version: 2025-06-18",
        "\nMcp-Session-Id: x",
        "\nMcp-Method: tools/call",
        "\nMcp-Name: t",
        "\nMcp-Name: =?base64?dA==?=",
        "\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\"",
        "\"io.modelcontextprotocol/clientCapabilities\":{}",
        "\"io.modelcontextprotocol/clientInfo\":{\"name\":\"c\",\"version\":\"1\"}",
        "\"io.modelcontextprotocol/logLevel\":\"debug\"",
        "\"progressToken\":",
        "\"name\":\"t\"",
        "\"uri\":\"x://y\"",
        "\"taskId\":\"t\"",
        "tools/call",
        "initialize",
    ],
};

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let provider = StaticProvider::new(Catalog::new(), serde_json::json!({}));
        Engine::builder(
            Arc::new(provider),
            ServerInfo { name: "fuzz".into(), version: "1".into(), title: None, instructions: None },
        )
        .build()
    })
}

fn run(data: &[u8]) {
    let w = wire::parse(data, "sid");
    let _era = route_era(&w.headers, &w.body);
    let (id, method, raw) = match jsonrpc::parse(&w.body) {
        Err(e) => {
            assert!(e.status.is_client_error(), "a framing error is a 4xx: {e}");
            return check_error(&e, None);
        }
        Ok(Message::Request { id, method, params }) => (id, method, params),
        Ok(_) => return,
    };
    let mut params = match Params::parse(raw) {
        Ok(p) => p,
        Err(e) => return check_error(&e, Some(&id)),
    };
    let http = HttpRequestParts { headers: w.headers, query: None, remote: None };
    let prepared =
        prepare_stateless(engine(), &method, &mut params, Caller::default(), Transport::StreamableHttp, Some(http));
    match prepared {
        Err(e) => check_error(&e, Some(&id)),
        Ok(info) => assert_eq!(info.method, method),
    }
}

fn check_error(e: &McpError, id: Option<&Id>) {
    let mut out = Vec::new();
    write_error(&mut out, id, e);
    let v: Value = serde_json::from_slice(&out)
        .unwrap_or_else(|err| panic!("error body does not parse ({err}): {}", String::from_utf8_lossy(&out)));
    assert_eq!(v["error"]["code"], e.code, "{v}");
    assert!(v["error"]["message"].is_string(), "{v}");
    if matches!(e.code, code::PARSE_ERROR | code::INVALID_REQUEST) {
        assert!(e.status.is_client_error(), "{e} travels with {}", e.status);
    }
}
