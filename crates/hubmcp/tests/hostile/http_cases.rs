//! The HTTP half of the hostile catalogue: stateless-era (2026-07-28) POSTs, session-era
//! Streamable HTTP, HTTP+SSE, and the transport itself (framing, limits, slow and
//! vanishing clients, floods). Expected answers follow the spec revisions: 2026-07-28
//! Streamable HTTP (400 + -32020 header mismatch, 400 + -32022 unsupported version, 404 +
//! -32601 unknown method, 405 for GET/DELETE without a session), 2025-11-25 (400 without a
//! session id, 404 for an unknown session, 400 for a bad version header), JSON-RPC 2.0
//! (-32700 parse error, -32600 invalid request, -32602 invalid params) and HTTP itself
//! (413, 415, 406, 403 for a foreign Origin/Host, 431/400 for oversized heads).

use std::io::Write;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::fixture::*;
use super::harness::{maybe, one, st, st_or_none, Case, Codes, Outcome};
use super::wire::{self, exchange, half_close, read_response, request};

const PARSE: i64 = -32700;
const INVALID_REQUEST: i64 = -32600;
const NOT_FOUND: i64 = -32601;
const INVALID_PARAMS: i64 = -32602;
const HEADER_MISMATCH: i64 = -32020;
const UNSUPPORTED_VERSION: i64 = -32022;

type C = Case<Fx>;

fn case(
    name: &str,
    era: &'static str,
    statuses: Vec<Option<u16>>,
    codes: Codes,
    run: impl Fn(&Fx) -> Outcome + 'static,
) -> C {
    Case { name: name.to_owned(), era, run: Box::new(run), statuses, codes }
}

/// A stateless POST with these headers and this raw body.
fn raw(name: &str, statuses: &[u16], codes: Codes, h: H, body: Vec<u8>) -> C {
    case(name, "stateless", st(statuses), codes, move |fx| fx.post(&h, &body))
}

/// A stateless tools/call of `tool` with `params` (standard headers unless changed by
/// `edit`).
fn call(name: &str, statuses: &[u16], codes: Codes, tool: &str, params: Value, edit: fn(H) -> H) -> C {
    let h = edit(modern("tools/call", Some(tool)));
    let mut p = params;
    p["name"] = json!(tool);
    raw(name, statuses, codes, h, body(json!(1), "tools/call", p))
}

fn same(h: H) -> H {
    h
}

fn list_body() -> Vec<u8> {
    body(json!(1), "tools/list", json!({}))
}

/// Nesting `depth` arrays deep.
fn nested(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

pub fn cases() -> Vec<C> {
    let mut v = Vec::new();
    stateless_cases(&mut v);
    state_cases(&mut v);
    task_cases(&mut v);
    session_cases(&mut v);
    legacy_cases(&mut v);
    transport_cases(&mut v);
    resource_cases(&mut v);
    v
}

fn stateless_cases(v: &mut Vec<C>) {
    let list = || modern("tools/list", None);
    // --- malformed JSON and JSON-RPC ---
    v.push(raw("garbage body", &[400], one(&[PARSE]), list(), b"{not json".to_vec()));
    v.push(raw("truncated JSON", &[400], one(&[PARSE]), list(), br#"{"jsonrpc":"2.0","id":1,"#.to_vec()));
    v.push(raw("empty body", &[400], one(&[PARSE]), list(), Vec::new()));
    v.push(raw("JSON null", &[400], one(&[INVALID_REQUEST, PARSE]), list(), b"null".to_vec()));
    v.push(raw("JSON string", &[400], one(&[INVALID_REQUEST, PARSE]), list(), br#""tools/list""#.to_vec()));
    v.push(raw("trailing garbage", &[400], one(&[PARSE]), list(), [list_body(), b"}}".to_vec()].concat()));
    v.push(raw("two messages in one body", &[400], one(&[PARSE]), list(), [list_body(), list_body()].concat()));
    v.push(raw("invalid UTF-8", &[400], one(&[PARSE]), list(), {
        let mut b = body(json!(1), "tools/list", json!({ "cursor": "XX" }));
        let at = b.windows(2).position(|w| w == b"XX").unwrap();
        b[at] = 0xff;
        b[at + 1] = 0xfe;
        b
    }));
    v.push(raw("UTF-16LE body", &[400], one(&[PARSE]), list(), {
        let text = String::from_utf8(list_body()).unwrap();
        let mut b = vec![0xff, 0xfe];
        b.extend(text.encode_utf16().flat_map(|u| u.to_le_bytes()));
        b
    }));
    v.push(raw(
        "lone surrogate escape",
        &[400],
        one(&[PARSE, INVALID_PARAMS]),
        list(),
        br#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"cursor":"\ud800"}}"#.to_vec(),
    ));
    v.push(raw(
        "jsonrpc 1.0",
        &[400],
        one(&[INVALID_REQUEST]),
        list(),
        br#"{"jsonrpc":"1.0","id":1,"method":"tools/list"}"#.to_vec(),
    ));
    v.push(raw(
        "jsonrpc missing",
        &[400],
        one(&[INVALID_REQUEST]),
        list(),
        br#"{"id":1,"method":"tools/list"}"#.to_vec(),
    ));
    v.push(raw(
        "jsonrpc as number",
        &[400],
        one(&[INVALID_REQUEST]),
        list(),
        br#"{"jsonrpc":2.0,"id":1,"method":"tools/list"}"#.to_vec(),
    ));
    v.push(raw(
        "id null",
        &[400],
        one(&[INVALID_REQUEST]),
        list(),
        br#"{"jsonrpc":"2.0","id":null,"method":"tools/list"}"#.to_vec(),
    ));
    v.push(raw(
        "id object",
        &[400],
        one(&[INVALID_REQUEST]),
        list(),
        br#"{"jsonrpc":"2.0","id":{"x":1},"method":"tools/list"}"#.to_vec(),
    ));
    v.push(raw(
        "id fractional",
        &[400],
        one(&[INVALID_REQUEST]),
        list(),
        br#"{"jsonrpc":"2.0","id":1.5,"method":"tools/list"}"#.to_vec(),
    ));
    v.push(raw(
        "id beyond i64",
        &[400],
        one(&[INVALID_REQUEST]),
        list(),
        br#"{"jsonrpc":"2.0","id":99999999999999999999999,"method":"tools/list"}"#.to_vec(),
    ));
    v.push(raw(
        "method as number",
        &[400],
        one(&[INVALID_REQUEST]),
        list(),
        br#"{"jsonrpc":"2.0","id":1,"method":42}"#.to_vec(),
    ));
    v.push(raw(
        "neither method nor result",
        &[400],
        one(&[INVALID_REQUEST]),
        list(),
        br#"{"jsonrpc":"2.0","id":1}"#.to_vec(),
    ));
    v.push(raw(
        "duplicate method key",
        &[400],
        one(&[INVALID_REQUEST, PARSE]),
        list(),
        br#"{"jsonrpc":"2.0","id":1,"method":"tools/list","method":"prompts/list"}"#.to_vec(),
    ));
    v.push(raw("batch", &[400], one(&[INVALID_REQUEST]), list(), [b"[".to_vec(), list_body(), b"]".to_vec()].concat()));
    v.push(raw("empty batch", &[400], one(&[INVALID_REQUEST]), list(), b"[]".to_vec()));
    v.push(raw(
        "a JSON-RPC response without a session",
        &[400],
        one(&[INVALID_REQUEST]),
        modern("tools/list", None),
        br#"{"jsonrpc":"2.0","id":1,"result":{}}"#.to_vec(),
    ));
    v.push(raw("notification is accepted", &[202], Codes::NoError, modern("notifications/cancelled", None),
        json!({ "jsonrpc": "2.0", "method": "notifications/cancelled", "params": { "requestId": 99, "_meta": meta() } })
            .to_string().into_bytes()));
    v.push(raw("deep nesting (20 000 levels)", &[400], one(&[PARSE, INVALID_PARAMS]), modern("tools/call", Some("test_simple_text")),
        format!(r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"test_simple_text","arguments":{{"a":{}}}}}}}"#, nested(20_000)).into_bytes()));
    v.push(raw(
        "deep nesting in _meta",
        &[400],
        one(&[PARSE, INVALID_PARAMS]),
        list(),
        format!(r#"{{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{{"_meta":{}}}}}"#, nested(5_000))
            .into_bytes(),
    ));

    // --- wrong types everywhere a type is expected ---
    v.push(raw(
        "params is an array",
        &[400],
        one(&[INVALID_PARAMS]),
        list(),
        br#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":[1,2]}"#.to_vec(),
    ));
    v.push(raw(
        "params is a string",
        &[400],
        one(&[INVALID_PARAMS]),
        list(),
        br#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":"x"}"#.to_vec(),
    ));
    v.push(raw(
        "_meta missing",
        &[400],
        one(&[INVALID_PARAMS]),
        list(),
        body(json!(1), "tools/list", json!({ "_meta": null })),
    ));
    v.push(raw(
        "_meta is an array",
        &[400],
        one(&[INVALID_PARAMS]),
        list(),
        body(json!(1), "tools/list", json!({ "_meta": [1] })),
    ));
    v.push(raw("protocolVersion is a number", &[400], one(&[INVALID_PARAMS, HEADER_MISMATCH]), list(),
        body(json!(1), "tools/list", json!({ "_meta": { "io.modelcontextprotocol/protocolVersion": 20260728, "io.modelcontextprotocol/clientCapabilities": {} } }))));
    v.push(raw("clientCapabilities is a string", &[400], one(&[INVALID_PARAMS]), list(),
        body(json!(1), "tools/list", json!({ "_meta": { "io.modelcontextprotocol/protocolVersion": V_MODERN, "io.modelcontextprotocol/clientCapabilities": "all" } }))));
    v.push(raw("logLevel unknown", &[400], one(&[INVALID_PARAMS]), list(),
        body(json!(1), "tools/list", json!({ "_meta": { "io.modelcontextprotocol/protocolVersion": V_MODERN, "io.modelcontextprotocol/clientCapabilities": {}, "io.modelcontextprotocol/logLevel": "loud" } }))));
    v.push(raw("progressToken is an object", &[200, 400], maybe(&[INVALID_PARAMS]), list(),
        body(json!(1), "tools/list", json!({ "_meta": { "io.modelcontextprotocol/protocolVersion": V_MODERN, "io.modelcontextprotocol/clientCapabilities": {}, "progressToken": { "a": 1 } } }))));
    v.push(raw(
        "cursor is a number",
        &[200, 400],
        one(&[INVALID_PARAMS]),
        list(),
        body(json!(1), "tools/list", json!({ "cursor": 5 })),
    ));
    v.push(raw(
        "cursor is forged",
        &[200, 400],
        one(&[INVALID_PARAMS]),
        list(),
        body(json!(1), "tools/list", json!({ "cursor": "AAAA" })),
    ));
    v.push(raw(
        "tool name is a number",
        &[200, 400],
        one(&[INVALID_PARAMS, HEADER_MISMATCH]),
        modern("tools/call", Some("42")),
        body(json!(1), "tools/call", json!({ "name": 42 })),
    ));
    v.push(call(
        "arguments is a string",
        &[200, 400],
        one(&[INVALID_PARAMS]),
        "test_simple_text",
        json!({ "arguments": "x" }),
        same,
    ));
    v.push(call("unknown tool", &[200, 400, 404], one(&[INVALID_PARAMS]), "no_such_tool", json!({}), same));
    v.push(raw(
        "prompts/get name is an array",
        &[200, 400],
        one(&[INVALID_PARAMS, HEADER_MISMATCH]),
        modern("prompts/get", Some("x")),
        body(json!(1), "prompts/get", json!({ "name": ["x"] })),
    ));
    v.push(raw(
        "resources/read uri is a bool",
        &[200, 400],
        one(&[INVALID_PARAMS, HEADER_MISMATCH]),
        modern("resources/read", Some("true")),
        body(json!(1), "resources/read", json!({ "uri": true })),
    ));
    v.push(raw(
        "unknown method",
        &[404],
        one(&[NOT_FOUND]),
        modern("tools/destroy", None),
        body(json!(1), "tools/destroy", json!({})),
    ));
    v.push(raw(
        "50 KB method name",
        &[400, 404],
        one(&[NOT_FOUND, HEADER_MISMATCH]),
        modern("tools/list", None),
        body(json!(1), &"m".repeat(50_000), json!({})),
    ));
    v.push(raw(
        "session-era ping in the stateless era",
        &[404],
        one(&[NOT_FOUND]),
        modern("ping", None),
        body(json!(1), "ping", json!({})),
    ));

    // --- header/body disagreements (2026-07-28: 400 + -32020) ---
    v.push(raw(
        "MCP-Protocol-Version missing",
        &[400],
        one(&[HEADER_MISMATCH]),
        without(list(), "MCP-Protocol-Version"),
        list_body(),
    ));
    v.push(raw(
        "MCP-Protocol-Version differs from _meta",
        &[400],
        one(&[HEADER_MISMATCH]),
        set(list(), "MCP-Protocol-Version", "2099-01-01"),
        list_body(),
    ));
    v.push(raw("unsupported version in header and _meta", &[400], one(&[UNSUPPORTED_VERSION]),
        set(list(), "MCP-Protocol-Version", "2099-01-01"),
        body(json!(1), "tools/list", json!({ "_meta": { "io.modelcontextprotocol/protocolVersion": "2099-01-01", "io.modelcontextprotocol/clientCapabilities": {} } }))));
    v.push(raw(
        "repeated MCP-Protocol-Version disagreeing",
        &[400],
        one(&[HEADER_MISMATCH]),
        with(list(), "MCP-Protocol-Version", "2025-11-25"),
        list_body(),
    ));
    v.push(raw("Mcp-Method missing", &[400], one(&[HEADER_MISMATCH]), without(list(), "Mcp-Method"), list_body()));
    v.push(raw(
        "Mcp-Method differs from body",
        &[400],
        one(&[HEADER_MISMATCH]),
        set(list(), "Mcp-Method", "prompts/list"),
        list_body(),
    ));
    v.push(raw(
        "Mcp-Method differs in case",
        &[400],
        one(&[HEADER_MISMATCH]),
        set(list(), "Mcp-Method", "Tools/List"),
        list_body(),
    ));
    v.push(raw(
        "repeated Mcp-Method disagreeing",
        &[400],
        one(&[HEADER_MISMATCH]),
        with(list(), "Mcp-Method", "tools/call"),
        list_body(),
    ));
    v.push(raw(
        "repeated Mcp-Method agreeing is served",
        &[200],
        Codes::NoError,
        with(list(), "Mcp-Method", "tools/list"),
        list_body(),
    ));
    v.push(call("Mcp-Name missing", &[400], one(&[HEADER_MISMATCH]), "test_simple_text", json!({}), |h| {
        without(h, "Mcp-Name")
    }));
    v.push(call("Mcp-Name differs from body", &[400], one(&[HEADER_MISMATCH]), "test_simple_text", json!({}), |h| {
        set(h, "Mcp-Name", "test_error_handling")
    }));
    v.push(call(
        "repeated Mcp-Name disagreeing",
        &[400],
        one(&[HEADER_MISMATCH]),
        "test_simple_text",
        json!({}),
        |h| with(h, "Mcp-Name", "test_error_handling"),
    ));
    v.push(call(
        "Mcp-Name with non-ASCII bytes",
        &[400],
        one(&[HEADER_MISMATCH]),
        "test_simple_text",
        json!({}),
        |h| set(h, "Mcp-Name", "test_simple_text\u{e9}"),
    ));
    v.push(call(
        "Mcp-Param-Region differs from arguments",
        &[400],
        one(&[HEADER_MISMATCH]),
        "test_custom_header",
        json!({ "arguments": { "region": "us-west1" } }),
        |h| with(h, "Mcp-Param-Region", "eu-central1"),
    ));
    v.push(call(
        "Mcp-Param-Region missing",
        &[400],
        one(&[HEADER_MISMATCH]),
        "test_custom_header",
        json!({ "arguments": { "region": "us-west1" } }),
        same,
    ));
    v.push(call(
        "Mcp-Param-Region bad Base64",
        &[400],
        one(&[HEADER_MISMATCH]),
        "test_custom_header",
        json!({ "arguments": { "region": "us-west1" } }),
        |h| with(h, "Mcp-Param-Region", "=?base64?%%%?="),
    ));
    v.push(call(
        "Mcp-Param-Region Base64 of another value",
        &[400],
        one(&[HEADER_MISMATCH]),
        "test_custom_header",
        json!({ "arguments": { "region": "us-west1" } }),
        |h| with(h, "Mcp-Param-Region", "=?base64?ZXUtd2VzdDE=?="),
    ));
    v.push(call(
        "Mcp-Param-Region Base64 of the value is served",
        &[200],
        Codes::NoError,
        "test_custom_header",
        json!({ "arguments": { "region": "us-west1" } }),
        |h| with(h, "Mcp-Param-Region", "=?base64?dXMtd2VzdDE=?="),
    ));

    // --- content negotiation and media types ---
    v.push(raw(
        "Content-Type missing",
        &[415],
        maybe(&[INVALID_REQUEST]),
        without(list(), "Content-Type"),
        list_body(),
    ));
    v.push(raw(
        "Content-Type text/plain",
        &[415],
        maybe(&[INVALID_REQUEST]),
        set(list(), "Content-Type", "text/plain"),
        list_body(),
    ));
    v.push(raw(
        "Content-Type application/jsonx",
        &[415],
        maybe(&[INVALID_REQUEST]),
        set(list(), "Content-Type", "application/jsonx"),
        list_body(),
    ));
    v.push(raw(
        "Content-Type with charset is served",
        &[200],
        Codes::NoError,
        set(list(), "Content-Type", "application/json; charset=utf-8"),
        list_body(),
    ));
    v.push(raw("Accept text/html", &[406], maybe(&[INVALID_REQUEST]), set(list(), "Accept", "text/html"), list_body()));
    v.push(raw(
        "Content-Encoding gzip on a plain body",
        &[415],
        maybe(&[INVALID_REQUEST]),
        with(list(), "Content-Encoding", "gzip"),
        list_body(),
    ));
    // RFC 8259: JSON between systems is UTF-8; a charset parameter means nothing for
    // application/json, so ignoring it or refusing it are both within the rules.
    v.push(raw(
        "Content-Type claims UTF-16 on a UTF-8 body",
        &[200, 415],
        maybe(&[INVALID_REQUEST]),
        set(list(), "Content-Type", "application/json; charset=utf-16"),
        list_body(),
    ));
    v.push(raw(
        "UTF-8 byte-order mark",
        &[200, 400],
        maybe(&[PARSE]),
        list(),
        [b"\xef\xbb\xbf".to_vec(), list_body()].concat(),
    ));
    v.push(case(
        "Transfer-Encoding gzip, chunked",
        "transport",
        st_or_none(&[400, 501]),
        maybe(&[INVALID_REQUEST]),
        |fx| {
            let b = list_body();
            let chunked = [format!("{:x}\r\n", b.len()).into_bytes(), b, b"\r\n0\r\n\r\n".to_vec()].concat();
            outcome(fx.send("POST", "/mcp", &with(list_h(), "Transfer-Encoding", "gzip, chunked"), &chunked))
        },
    ));
}

fn state_cases(v: &mut Vec<C>) {
    const TOOL: &str = "test_input_required_result_elicitation";
    let answer = json!({ "user_name": { "action": "accept", "content": { "name": "Mallory" } } });
    let with_state = |name: &str, token: Option<&'static str>, tool: &'static str, state: fn(&Fx) -> Value| {
        let answer = answer.clone();
        case(name, "stateless", st(&[200, 400]), one(&[INVALID_PARAMS]), move |fx| {
            let mut h = modern("tools/call", Some(tool));
            if let Some(t) = token {
                h = bearer(h, t);
            }
            let p =
                json!({ "name": tool, "inputResponses": answer, "requestState": state(fx), "_meta": elicit_meta() });
            fx.post(&h, &body(json!(2), "tools/call", p))
        })
    };
    v.push(with_state("requestState: garbage", Some(TOKEN_A), TOOL, |_| json!("not-a-state")));
    v.push(with_state("requestState: tampered body", Some(TOKEN_A), TOOL, |fx| {
        let (b, tag) = fx.state_a.split_once('.').unwrap();
        let mut b = b.to_owned();
        let c = if b.ends_with('A') { 'B' } else { 'A' };
        b.pop();
        b.push(c);
        json!(format!("{b}.{tag}"))
    }));
    v.push(with_state("requestState: tag stripped", Some(TOKEN_A), TOOL, |fx| {
        json!(fx.state_a.split('.').next().unwrap())
    }));
    v.push(with_state("requestState: caller A's, replayed by caller B", Some(TOKEN_B), TOOL, |fx| json!(fx.state_a)));
    v.push(with_state("requestState: caller A's, replayed anonymously", None, TOOL, |fx| json!(fx.state_a)));
    v.push(with_state(
        "requestState: replayed for another tool",
        Some(TOKEN_A),
        "test_input_required_result_sampling",
        |fx| json!(fx.state_a),
    ));
    v.push(with_state("requestState: forged with another key", Some(TOKEN_A), TOOL, |_| {
        let s = mcp_engine::Sealer::new(b"not the server key", Duration::from_secs(60));
        json!(s.seal("tools/call", "test_input_required_result_elicitation", "anonymous", None, Default::default()))
    }));
    v.push(with_state("requestState: expired", None, TOOL, |_| {
        // Sealed with the server's own key, so only the expiry is wrong.
        let s = mcp_engine::Sealer::new(STATE_KEY.as_bytes(), Duration::from_secs(1));
        let sealed =
            s.seal("tools/call", "test_input_required_result_elicitation", "anonymous", None, Default::default());
        std::thread::sleep(Duration::from_millis(2100));
        json!(sealed)
    }));
    v.push(with_state("requestState: a number", Some(TOKEN_A), TOOL, |_| json!(12345)));
    v.push(case("inputResponses: a string", "stateless", st(&[200, 400]), one(&[INVALID_PARAMS]), |fx| {
        let h = bearer(modern("tools/call", Some(TOOL)), TOKEN_A);
        let p = json!({ "name": TOOL, "inputResponses": "yes", "requestState": fx.state_a, "_meta": elicit_meta() });
        fx.post(&h, &body(json!(2), "tools/call", p))
    }));
    v.push(case("requestState: genuine, same caller, is served", "stateless", st(&[200]), Codes::NoError, move |fx| {
        let h = bearer(modern("tools/call", Some(TOOL)), TOKEN_A);
        let p = json!({ "name": TOOL, "inputResponses": answer.clone(), "requestState": fx.state_a, "_meta": elicit_meta() });
        let out = fx.post(&h, &body(json!(2), "tools/call", p));
        let ok = String::from_utf8_lossy(&out.bytes).contains("Hello, Mallory!");
        out.problem((!ok).then(|| "the genuine state did not complete the call".into()))
    }));
}

fn task_cases(v: &mut Vec<C>) {
    let task = |name: &str, method: &'static str, token: &'static str, id: fn(&Fx) -> String, codes: Codes| {
        case(name, "stateless", st(&[200, 400, 404]), codes, move |fx| {
            let id = id(fx);
            let h = bearer(modern(method, Some(&id)), token);
            fx.post(&h, &body(json!(4), method, json!({ "taskId": id, "_meta": tasks_meta() })))
        })
    };
    v.push(task(
        "tasks/get of another caller's task",
        "tasks/get",
        TOKEN_B,
        |fx| fx.task_a.clone(),
        one(&[INVALID_PARAMS]),
    ));
    v.push(task(
        "tasks/cancel of another caller's task",
        "tasks/cancel",
        TOKEN_B,
        |fx| fx.task_a.clone(),
        one(&[INVALID_PARAMS]),
    ));
    v.push(task("tasks/get of a forged task id", "tasks/get", TOKEN_A, |_| "A".repeat(43), one(&[INVALID_PARAMS])));
    v.push(task(
        "tasks/get of the owner's task is served",
        "tasks/get",
        TOKEN_A,
        |fx| fx.task_a.clone(),
        Codes::NoError,
    ));
    v.push(case(
        "tasks/get with taskId of the wrong type",
        "stateless",
        st(&[200, 400]),
        one(&[INVALID_PARAMS, HEADER_MISMATCH]),
        |fx| {
            let h = bearer(modern("tasks/get", Some("7")), TOKEN_A);
            fx.post(&h, &body(json!(4), "tasks/get", json!({ "taskId": 7, "_meta": tasks_meta() })))
        },
    ));
    v.push(raw(
        "a stray Mcp-Session-Id on a 2026-07-28 request",
        &[200, 400, 404],
        maybe(&[INVALID_REQUEST, -32001]),
        with(modern("tools/list", None), "Mcp-Session-Id", "stray"),
        list_body(),
    ));
    v.push(raw(
        "Last-Event-ID on a 2026-07-28 POST is ignored",
        &[200],
        Codes::NoError,
        with(modern("tools/list", None), "Last-Event-ID", "g-999"),
        list_body(),
    ));
}

fn session_cases(v: &mut Vec<C>) {
    let list = json!({ "jsonrpc": "2.0", "id": 3, "method": "tools/list" }).to_string().into_bytes();
    let post = |name: &str, statuses: &[u16], codes: Codes, h: fn(&Fx) -> H, b: Vec<u8>| {
        case(name, "session", st(statuses), codes, move |fx| fx.post(&h(fx), &b))
    };
    v.push(post(
        "no session id",
        &[400],
        maybe(&[INVALID_REQUEST]),
        |_| without(in_session("x", Some(TOKEN_A)), "Mcp-Session-Id"),
        list.clone(),
    ));
    v.push(post(
        "forged session id",
        &[404],
        maybe(&[INVALID_REQUEST, -32001]),
        |_| in_session(&"f".repeat(64), Some(TOKEN_A)),
        list.clone(),
    ));
    v.push(post(
        "foreign session id (B's session, A's token)",
        &[404],
        maybe(&[INVALID_REQUEST, -32001]),
        |fx| in_session(&fx.sid_b, Some(TOKEN_A)),
        list.clone(),
    ));
    v.push(post(
        "foreign session id (A's session, no token)",
        &[404],
        maybe(&[INVALID_REQUEST, -32001]),
        |fx| in_session(&fx.sid_a, None),
        list.clone(),
    ));
    v.push(post(
        "deleted session id",
        &[404],
        maybe(&[INVALID_REQUEST, -32001]),
        |fx| in_session(&fx.sid_deleted, Some(TOKEN_A)),
        list.clone(),
    ));
    v.push(post(
        "session id with control characters",
        &[400, 404],
        maybe(&[INVALID_REQUEST, -32001]),
        |_| in_session("abc\u{1}def", Some(TOKEN_A)),
        list.clone(),
    ));
    v.push(post(
        "16 KB session id",
        &[400, 404, 431],
        maybe(&[INVALID_REQUEST, -32001]),
        |_| in_session(&"a".repeat(16 * 1024), Some(TOKEN_A)),
        list.clone(),
    ));
    v.push(post(
        "repeated Mcp-Session-Id (own, then foreign)",
        &[400, 404],
        maybe(&[INVALID_REQUEST, HEADER_MISMATCH, -32001]),
        |fx| with(in_session(&fx.sid_a, Some(TOKEN_A)), "Mcp-Session-Id", &fx.sid_b),
        list.clone(),
    ));
    v.push(post(
        "unsupported MCP-Protocol-Version in a session",
        &[400],
        maybe(&[INVALID_REQUEST, UNSUPPORTED_VERSION]),
        |fx| set(in_session(&fx.sid_a, Some(TOKEN_A)), "MCP-Protocol-Version", "1999-01-01"),
        list.clone(),
    ));
    v.push(post(
        "malformed JSON in a session",
        &[400],
        one(&[PARSE]),
        |fx| in_session(&fx.sid_a, Some(TOKEN_A)),
        b"{\"jsonrpc\":".to_vec(),
    ));
    v.push(post(
        "batch in a 2025-11-25 session",
        &[400],
        one(&[INVALID_REQUEST]),
        |fx| in_session(&fx.sid_a, Some(TOKEN_A)),
        [b"[".to_vec(), list.clone(), b"]".to_vec()].concat(),
    ));
    v.push(post(
        "unknown method in a session",
        &[200],
        one(&[NOT_FOUND]),
        |fx| in_session(&fx.sid_a, Some(TOKEN_A)),
        json!({ "jsonrpc": "2.0", "id": 4, "method": "tools/destroy" }).to_string().into_bytes(),
    ));
    v.push(post(
        "tool name of the wrong type in a session",
        &[200],
        one(&[INVALID_PARAMS]),
        |fx| in_session(&fx.sid_a, Some(TOKEN_A)),
        json!({ "jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": { "name": { "x": 1 } } })
            .to_string()
            .into_bytes(),
    ));
    v.push(post(
        "second initialize in a session",
        &[400],
        one(&[INVALID_REQUEST]),
        |fx| in_session(&fx.sid_a, Some(TOKEN_A)),
        json!({ "jsonrpc": "2.0", "id": 6, "method": "initialize", "params": { "protocolVersion": V_SESSION,
            "capabilities": {}, "clientInfo": { "name": "x", "version": "1" } } })
        .to_string()
        .into_bytes(),
    ));
    v.push(post("initialize with wrong types", &[400], one(&[INVALID_PARAMS, INVALID_REQUEST]), |_| {
        vec![("Content-Type".into(), "application/json".into()), ("Accept".into(), "application/json, text/event-stream".into())]
    }, json!({ "jsonrpc": "2.0", "id": 0, "method": "initialize", "params": { "protocolVersion": 20251125, "capabilities": "all" } })
        .to_string().into_bytes()));
    v.push(post(
        "answer to a request never sent",
        &[202, 400],
        maybe(&[INVALID_REQUEST]),
        |fx| in_session(&fx.sid_a, Some(TOKEN_A)),
        br#"{"jsonrpc":"2.0","id":"nope","result":{}}"#.to_vec(),
    ));
    v.push(post(
        "cancellation of a request never sent",
        &[202],
        Codes::NoError,
        |fx| in_session(&fx.sid_a, Some(TOKEN_A)),
        br#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":{"x":[1]}}}"#.to_vec(),
    ));
    v.push(case(
        "oversized body in a session, written before reading",
        "session",
        st(&[413]),
        one(&[INVALID_REQUEST]),
        |fx| fx.send_all("POST", "/mcp", &in_session(&fx.sid_a, Some(TOKEN_A)), &vec![b' '; 8 * 1024 * 1024]),
    ));

    let get = |name: &str, statuses: &[u16], h: fn(&Fx) -> H| {
        case(name, "session", st(statuses), maybe(&[INVALID_REQUEST, -32001]), move |fx| {
            outcome(fx.send("GET", "/mcp", &h(fx), b""))
        })
    };
    v.push(get("Last-Event-ID malformed", &[400], |fx| with(sse(fx), "Last-Event-ID", "not an id")));
    v.push(get("Last-Event-ID of an unknown stream", &[400, 404], |fx| {
        with(sse(fx), "Last-Event-ID", "zzzzzzzzzzzz-5")
    }));
    v.push(get("Last-Event-ID of another caller's stream", &[400, 404], |fx| {
        with(sse(fx), "Last-Event-ID", &fx.event_b)
    }));
    v.push(get("Last-Event-ID with a 30-digit sequence", &[400], |fx| {
        with(sse(fx), "Last-Event-ID", "abc-999999999999999999999999999999")
    }));
    v.push(get("GET stream of a foreign session", &[404], |fx| {
        set(in_session(&fx.sid_b, Some(TOKEN_A)), "Accept", "text/event-stream")
    }));
    v.push(get("GET stream without Accept: text/event-stream", &[405, 406], |fx| {
        set(in_session(&fx.sid_a, Some(TOKEN_A)), "Accept", "application/json")
    }));
    v.push(case("DELETE a foreign session", "session", st(&[404]), maybe(&[INVALID_REQUEST, -32001]), |fx| {
        outcome(fx.send("DELETE", "/mcp", &in_session(&fx.sid_b, Some(TOKEN_A)), b""))
    }));
    v.push(case("DELETE a deleted session", "session", st(&[404]), maybe(&[INVALID_REQUEST, -32001]), |fx| {
        outcome(fx.send("DELETE", "/mcp", &in_session(&fx.sid_deleted, Some(TOKEN_A)), b""))
    }));
    v.push(case("foreign session is still intact for its owner", "session", st(&[200]), Codes::NoError, move |fx| {
        fx.post(&in_session(&fx.sid_b, Some(TOKEN_B)), &list)
    }));
}

fn legacy_cases(v: &mut Vec<C>) {
    let json_h = |token: Option<&str>| {
        let h: H = vec![("Content-Type".into(), "application/json".into())];
        match token {
            Some(t) => bearer(h, t),
            None => h,
        }
    };
    let msg = |name: &str,
               statuses: &[u16],
               codes: Codes,
               path: fn(&Fx) -> String,
               token: Option<&'static str>,
               b: Vec<u8>| {
        case(name, "http+sse", st(statuses), codes, move |fx| outcome(fx.send("POST", &path(fx), &json_h(token), &b)))
    };
    let list = json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list" }).to_string().into_bytes();
    v.push(msg(
        "POST /message without sessionId",
        &[400],
        maybe(&[INVALID_REQUEST]),
        |_| "/message".into(),
        Some(TOKEN_A),
        list.clone(),
    ));
    v.push(msg(
        "POST /message with a forged sessionId",
        &[404],
        maybe(&[INVALID_REQUEST, -32001]),
        |_| format!("/message?sessionId={}", "0".repeat(64)),
        Some(TOKEN_A),
        list.clone(),
    ));
    v.push(msg(
        "POST /message with another caller's sessionId",
        &[404],
        maybe(&[INVALID_REQUEST, -32001]),
        |fx| format!("/message?sessionId={}", fx.sse_a),
        Some(TOKEN_B),
        list.clone(),
    ));
    v.push(msg(
        "POST /message to a Streamable HTTP session",
        &[404],
        maybe(&[INVALID_REQUEST, -32001]),
        |fx| format!("/message?sessionId={}", fx.sid_a),
        Some(TOKEN_A),
        list.clone(),
    ));
    v.push(msg(
        "POST /message with malformed JSON",
        &[400],
        one(&[PARSE]),
        |fx| format!("/message?sessionId={}", fx.sse_a),
        Some(TOKEN_A),
        b"{{{".to_vec(),
    ));
    v.push(case("POST /message with text/plain", "http+sse", st(&[415]), maybe(&[INVALID_REQUEST]), |fx| {
        let h = bearer(vec![("Content-Type".into(), "text/plain".into())], TOKEN_A);
        outcome(fx.send("POST", &format!("/message?sessionId={}", fx.sse_a), &h, b"{}"))
    }));
    v.push(case(
        "POST /message oversized, written before reading",
        "http+sse",
        st(&[413]),
        one(&[INVALID_REQUEST]),
        |fx| {
            let h = bearer(vec![("Content-Type".into(), "application/json".into())], TOKEN_A);
            fx.send_all("POST", &format!("/message?sessionId={}", fx.sse_a), &h, &vec![b' '; 8 * 1024 * 1024])
        },
    ));
    // Requests are answered on the stream: the POST gets 202, the stream the error.
    let on_stream = |name: &str, code: i64, id: Value, b: Value| {
        case(name, "http+sse", st(&[202]), one(&[code]), move |fx| {
            let h = bearer(vec![("Content-Type".into(), "application/json".into())], TOKEN_A);
            let mut out =
                outcome(fx.send("POST", &format!("/message?sessionId={}", fx.sse_a), &h, b.to_string().as_bytes()));
            match fx.legacy_answer(&id) {
                Some(m) => {
                    out.codes.extend(m.pointer("/error/code").and_then(Value::as_i64));
                    out.bytes.extend_from_slice(m.to_string().as_bytes());
                }
                None => out.problem = Some("no answer on the HTTP+SSE stream".into()),
            }
            out
        })
    };
    v.push(on_stream(
        "HTTP+SSE unknown method",
        NOT_FOUND,
        json!("u1"),
        json!({ "jsonrpc": "2.0", "id": "u1", "method": "nope/nope" }),
    ));
    v.push(on_stream("HTTP+SSE tools/call with arguments of the wrong type", INVALID_PARAMS, json!("u2"),
        json!({ "jsonrpc": "2.0", "id": "u2", "method": "tools/call", "params": { "name": "test_simple_text", "arguments": [1] } })));
    v.push(on_stream(
        "HTTP+SSE params as an array",
        INVALID_PARAMS,
        json!("u3"),
        json!({ "jsonrpc": "2.0", "id": "u3", "method": "tools/list", "params": [] }),
    ));
    v.push(on_stream(
        "HTTP+SSE second initialize",
        INVALID_REQUEST,
        json!("u4"),
        json!({ "jsonrpc": "2.0", "id": "u4", "method": "initialize", "params": { "protocolVersion": "2024-11-05",
            "capabilities": {}, "clientInfo": { "name": "x", "version": "1" } } }),
    ));
    v.push(case(
        "HTTP+SSE stream dropped, then its session is gone",
        "http+sse",
        st(&[202, 404]),
        maybe(&[INVALID_REQUEST, -32001]),
        |fx| {
            let Some((sid, _seen, sock)) = fx.open_legacy_sse(Some(TOKEN_A)) else {
                return Outcome { problem: Some("GET /sse refused".into()), ..Default::default() };
            };
            // The session ends once the server notices the closed connection: either answer
            // is within the transport's rules.
            let _ = sock.shutdown(std::net::Shutdown::Both);
            std::thread::sleep(Duration::from_millis(50));
            let h = bearer(vec![("Content-Type".into(), "application/json".into())], TOKEN_A);
            outcome(fx.send(
                "POST",
                &format!("/message?sessionId={sid}"),
                &h,
                br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
            ))
        },
    ));
}

fn sse(fx: &Fx) -> H {
    set(in_session(&fx.sid_a, Some(TOKEN_A)), "Accept", "text/event-stream")
}

fn list_h() -> H {
    modern("tools/list", None)
}

fn transport_cases(v: &mut Vec<C>) {
    let rawbytes = |name: &str, statuses: Vec<Option<u16>>, codes: Codes, build: fn(&Fx) -> Vec<u8>| {
        case(name, "transport", statuses, codes, move |fx| {
            outcome(exchange(&fx.addr, &build(fx), Duration::from_secs(3)))
        })
    };
    v.push(case("Host of another site", "transport", st(&[403]), maybe(&[INVALID_REQUEST]), |fx| {
        fx.post(&with(list_h(), "Host", "evil.example"), &list_body())
    }));
    v.push(case("Origin of another site", "transport", st(&[403]), maybe(&[INVALID_REQUEST]), |fx| {
        fx.post(&with(list_h(), "Origin", "https://evil.example"), &list_body())
    }));
    v.push(case("Origin null", "transport", st(&[403]), maybe(&[INVALID_REQUEST]), |fx| {
        fx.post(&with(list_h(), "Origin", "null"), &list_body())
    }));
    v.push(case("GET without a session", "transport", st(&[405]), maybe(&[INVALID_REQUEST]), |fx| {
        outcome(fx.send("GET", "/mcp", &vec![("Accept".into(), "text/event-stream".into())], b""))
    }));
    v.push(case("DELETE without a session", "transport", st(&[405]), maybe(&[INVALID_REQUEST]), |fx| {
        outcome(fx.send("DELETE", "/mcp", &vec![], b""))
    }));
    v.push(case("PUT", "transport", st(&[405]), maybe(&[INVALID_REQUEST]), fx_put));
    v.push(case("Authorization with an empty bearer is anonymous", "transport", st(&[200]), Codes::NoError, |fx| {
        fx.post(&with(list_h(), "Authorization", "Bearer "), &list_body())
    }));
    v.push(case(
        "Authorization with non-ASCII bytes",
        "transport",
        st(&[200, 400, 401]),
        maybe(&[INVALID_REQUEST]),
        |fx| fx.post(&with(list_h(), "Authorization", "Bearer \u{e9}\u{e9}"), &list_body()),
    ));
    // Issue #15, item 3: the whole body is written before the client reads; the server must
    // read (and drop) it and explain, not reset the connection mid-write.
    v.push(case(
        "413 explained to a client that writes the whole body first (Content-Length)",
        "transport",
        st(&[413]),
        one(&[INVALID_REQUEST]),
        |fx| fx.send_all("POST", "/mcp", &modern("tools/list", None), &vec![b' '; 8 * 1024 * 1024]),
    ));
    v.push(case(
        "413 for an oversized chunked body written whole",
        "transport",
        st(&[413]),
        one(&[INVALID_REQUEST]),
        |fx| {
            let h = with(modern("tools/list", None), "Transfer-Encoding", "chunked");
            let mut chunks = Vec::new();
            for _ in 0..512 {
                chunks.extend_from_slice(format!("{:x}\r\n", 16 * 1024).as_bytes());
                chunks.extend(std::iter::repeat_n(b' ', 16 * 1024));
                chunks.extend_from_slice(b"\r\n");
            }
            chunks.extend_from_slice(b"0\r\n\r\n");
            fx.send_all("POST", "/mcp", &h, &chunks)
        },
    ));
    v.push(rawbytes(
        "413 up front from Content-Length alone (body never sent)",
        st(&[413]),
        one(&[INVALID_REQUEST]),
        |fx| {
            let h = with(modern("tools/list", None), "Content-Length", "1000000000");
            let pairs: Vec<(&str, &str)> = h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            request("POST", "/mcp", &fx.addr, &pairs, b"")
        },
    ));
    v.push(rawbytes("Content-Length not a number", st_or_none(&[400]), maybe(&[INVALID_REQUEST]), |fx| {
        let h = with(modern("tools/list", None), "Content-Length", "ten");
        let pairs: Vec<(&str, &str)> = h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        request("POST", "/mcp", &fx.addr, &pairs, &list_body())
    }));
    v.push(rawbytes("two different Content-Lengths", st_or_none(&[400]), maybe(&[INVALID_REQUEST]), |fx| {
        let b = list_body();
        let h = with(with(modern("tools/list", None), "Content-Length", &b.len().to_string()), "Content-Length", "3");
        let pairs: Vec<(&str, &str)> = h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        request("POST", "/mcp", &fx.addr, &pairs, &b)
    }));
    v.push(rawbytes("Content-Length and chunked together", st_or_none(&[400, 200]), maybe(&[INVALID_REQUEST]), |fx| {
        let b = list_body();
        let h = with(with(modern("tools/list", None), "Content-Length", "5"), "Transfer-Encoding", "chunked");
        let pairs: Vec<(&str, &str)> = h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let chunked = [format!("{:x}\r\n", b.len()).into_bytes(), b, b"\r\n0\r\n\r\n".to_vec()].concat();
        request("POST", "/mcp", &fx.addr, &pairs, &chunked)
    }));
    v.push(rawbytes("512 KB header value", st_or_none(&[431, 400]), maybe(&[INVALID_REQUEST]), |fx| {
        let big = "x".repeat(512 * 1024);
        let h = with(modern("tools/list", None), "X-Big", &big);
        let pairs: Vec<(&str, &str)> = h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        request("POST", "/mcp", &fx.addr, &pairs, &list_body())
    }));
    v.push(rawbytes("500 headers", st_or_none(&[431, 400]), maybe(&[INVALID_REQUEST]), |fx| {
        let mut h = modern("tools/list", None);
        for i in 0..500 {
            h.push((format!("X-H{i}"), "1".into()));
        }
        let pairs: Vec<(&str, &str)> = h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        request("POST", "/mcp", &fx.addr, &pairs, &list_body())
    }));
    v.push(rawbytes("1 MB request target", st_or_none(&[414, 431, 400, 404]), maybe(&[INVALID_REQUEST]), |fx| {
        let path = format!("/mcp?{}", "a".repeat(1024 * 1024));
        let h = modern("tools/list", None);
        let pairs: Vec<(&str, &str)> = h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        request("POST", &path, &fx.addr, &pairs, &list_body())
    }));
    v.push(rawbytes("not HTTP at all", st_or_none(&[400]), maybe(&[INVALID_REQUEST]), |_| {
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n".to_vec()
    }));
    v.push(rawbytes("HTTP/1.0 without Host", st(&[200, 400, 403]), Codes::Any, |_| {
        let b = list_body();
        let mut r = format!("POST /mcp HTTP/1.0\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nMCP-Protocol-Version: {V_MODERN}\r\nMcp-Method: tools/list\r\nContent-Length: {}\r\n\r\n", b.len()).into_bytes();
        r.extend(b);
        r
    }));
    v.push(rawbytes("header with a bare LF and obs-fold", st_or_none(&[400, 200]), Codes::Any, |fx| {
        let b = list_body();
        let mut r = format!("POST /mcp HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\nMcp-Method: tools/list\r\n folded\r\nMCP-Protocol-Version: {V_MODERN}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", fx.addr, b.len()).into_bytes();
        r.extend(b);
        r
    }));
}

fn fx_put(fx: &Fx) -> Outcome {
    outcome(fx.send("PUT", "/mcp", &modern("tools/list", None), &list_body()))
}

fn resource_cases(v: &mut Vec<C>) {
    v.push(case(
        "body shorter than Content-Length, then half-close",
        "transport",
        st_or_none(&[400]),
        maybe(&[INVALID_REQUEST, PARSE]),
        |fx| {
            let h = with(modern("tools/list", None), "Content-Length", "500");
            let pairs: Vec<(&str, &str)> = h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let mut s = wire::connect(&fx.addr);
            let _ = s.write_all(&request("POST", "/mcp", &fx.addr, &pairs, b"{\"jsonrpc\":\"2.0\""));
            half_close(&s);
            outcome(read_response(&mut s, Duration::from_secs(3)))
        },
    ));
    v.push(case("slow sender: a valid request a few bytes at a time", "transport", st(&[200]), Codes::NoError, |fx| {
        let h = modern("tools/list", None);
        let pairs: Vec<(&str, &str)> = h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let raw = request("POST", "/mcp", &fx.addr, &pairs, &list_body());
        let mut s = wire::connect(&fx.addr);
        let _ = wire::write_slowly(&mut s, &raw, 8, Duration::from_millis(2));
        outcome(read_response(&mut s, Duration::from_secs(3)))
    }));
    v.push(case("slowloris: 64 connections with endless headers", "transport", vec![], Codes::Any, |fx| {
        let mut socks: Vec<_> = (0..64)
            .map(|_| {
                let mut s = wire::connect(&fx.addr);
                let _ = s.write_all(format!("POST /mcp HTTP/1.1\r\nHost: {}\r\n", fx.addr).as_bytes());
                s
            })
            .collect();
        for round in 0..10 {
            for s in &mut socks {
                let _ = s.write_all(format!("X-Slow-{round}: 1\r\n").as_bytes());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let out = Outcome::default();
        // Judged while the connections are still open.
        let alive = fx.alive();
        drop(socks);
        out.problem(alive.err().map(|e| format!("not serving during a slowloris: {e}")))
    }));
    v.push(case("disconnect mid-body", "transport", vec![], Codes::Any, |fx| {
        let h = with(modern("tools/list", None), "Content-Length", "100000");
        let pairs: Vec<(&str, &str)> = h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let mut s = wire::connect(&fx.addr);
        let _ = s.write_all(&request("POST", "/mcp", &fx.addr, &pairs, &[b' '; 1000]));
        drop(s);
        Outcome::default()
    }));
    v.push(case("disconnect mid-stream (stateless progress stream)", "stateless", st(&[200]), Codes::NoError, |fx| {
        let mut m = meta();
        m["progressToken"] = json!("p");
        let b = body(json!(9), "tools/call", json!({ "name": "test_tool_with_progress", "_meta": m }));
        let h = modern("tools/call", Some("test_tool_with_progress"));
        let pairs: Vec<(&str, &str)> = h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let mut s = wire::connect(&fx.addr);
        let _ = s.write_all(&request("POST", "/mcp", &fx.addr, &pairs, &b));
        // Read only the head and first event, then vanish.
        let mut buf = [0u8; 512];
        s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        let n = std::io::Read::read(&mut s, &mut buf).unwrap_or(0);
        drop(s);
        let head = String::from_utf8_lossy(&buf[..n]).into_owned();
        let status = head.split(' ').nth(1).and_then(|s| s.parse().ok());
        Outcome { status, codes: vec![], bytes: buf[..n].to_vec(), problem: None }
    }));
    v.push(case(
        "disconnect mid-stream (session), then resume with Last-Event-ID",
        "session",
        st(&[200]),
        Codes::NoError,
        |fx| {
            let call = json!({ "jsonrpc": "2.0", "id": 77, "method": "tools/call", "params": {
            "name": "test_tool_with_progress", "_meta": { "progressToken": "q" } } });
            let h = in_session(&fx.sid_a, Some(TOKEN_A));
            let pairs: Vec<(&str, &str)> = h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let mut s = wire::connect(&fx.addr);
            let _ = s.write_all(&request("POST", "/mcp", &fx.addr, &pairs, call.to_string().as_bytes()));
            let mut got = Vec::new();
            let mut buf = [0u8; 4096];
            let deadline = Instant::now() + Duration::from_secs(3);
            s.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
            let first_id = loop {
                if let Ok(n) = std::io::Read::read(&mut s, &mut buf) {
                    got.extend_from_slice(&buf[..n]);
                }
                let text = String::from_utf8_lossy(&got).into_owned();
                if let Some(id) = text.lines().filter_map(|l| l.strip_prefix("id:")).map(|s| s.trim().to_owned()).next()
                {
                    break Some(id);
                }
                if Instant::now() > deadline {
                    break None;
                }
            };
            drop(s);
            let Some(id) = first_id else {
                return Outcome { problem: Some("no event id on the session stream".into()), ..Default::default() };
            };
            let h =
                with(set(in_session(&fx.sid_a, Some(TOKEN_A)), "Accept", "text/event-stream"), "Last-Event-ID", &id);
            let r = fx.send("GET", "/mcp", &h, b"");
            let done =
                r.as_ref().is_some_and(|r| r.messages().iter().any(|m| m["id"] == 77 && m.get("result").is_some()));
            let mut out = outcome(r);
            out.bytes.extend(got);
            out.problem((!done).then(|| "the resumed stream did not deliver the result".into()))
        },
    ));
    v.push(case("flood: sessions up to the cap, then 503 + Retry-After", "session", st(&[503]), Codes::Any, |fx| {
        let mut made = Vec::new();
        let mut last = None;
        for _ in 0..MAX_SESSIONS + 8 {
            let h = vec![("Content-Type".to_owned(), "application/json".to_owned()), ("Accept".into(), "application/json, text/event-stream".into())];
            let init = json!({ "jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
                "protocolVersion": V_SESSION, "capabilities": {}, "clientInfo": { "name": "flood", "version": "1" } } });
            let r = fx.send("POST", "/mcp", &h, init.to_string().as_bytes());
            if let Some(sid) = r.as_ref().and_then(|r| r.header("mcp-session-id")) {
                made.push(sid.to_owned());
            }
            if r.as_ref().is_some_and(|r| r.status == 503) {
                last = r;
                break;
            }
            last = r;
        }
        let retry = last.as_ref().and_then(|r| r.header("retry-after")).is_some();
        let mut out = outcome(last);
        for sid in made {
            fx.delete_session(&sid, None);
        }
        let owners_ok = fx.post(&in_session(&fx.sid_a, Some(TOKEN_A)), br#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#);
        if owners_ok.status != Some(200) {
            out.problem = Some(format!("an existing session stopped working after the flood: {:?}", owners_ok.status));
        }
        out.problem((!retry).then(|| "503 without Retry-After".into()))
    }));
    v.push(case("flood: 200 subscriptions/listen streams at once", "stateless", vec![], Codes::Any, |fx| {
        let b = json!({ "jsonrpc": "2.0", "id": "l", "method": "subscriptions/listen", "params": {
            "_meta": meta(), "notifications": { "toolsListChanged": true } } })
        .to_string();
        let h = modern("subscriptions/listen", None);
        let pairs: Vec<(&str, &str)> = h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let raw = request("POST", "/mcp", &fx.addr, &pairs, b.as_bytes());
        let socks: Vec<_> = (0..200)
            .map(|_| {
                let mut s = wire::connect(&fx.addr);
                let _ = s.write_all(&raw);
                s
            })
            .collect();
        let alive = fx.alive();
        let mut first = socks.into_iter().next().unwrap();
        let r = read_response(&mut first, Duration::from_secs(3));
        let mut out = outcome(r);
        if out.status != Some(200) {
            out.problem = Some(format!("a listen stream was refused: {:?}", out.status));
        }
        out.problem(alive.err().map(|e| format!("not serving with 200 open streams: {e}")))
    }));
    v.push(case(
        "flood: two push streams on one session (second refused 409)",
        "session",
        st(&[409]),
        Codes::Any,
        |fx| {
            let h = set(in_session(&fx.sid_a, Some(TOKEN_A)), "Accept", "text/event-stream");
            let h = set(h, "Connection", "keep-alive");
            let pairs: Vec<(&str, &str)> = h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let raw = request("GET", "/mcp", &fx.addr, &pairs, b"");
            let mut first = wire::connect(&fx.addr);
            let _ = first.write_all(&raw);
            let _ = read_response(&mut first, Duration::from_millis(500));
            let out = outcome(exchange(&fx.addr, &raw, Duration::from_secs(3)));
            drop(first);
            out
        },
    ));
    v.push(case("flood: 64 HTTP+SSE streams (past the session cap)", "http+sse", vec![], Codes::Any, |fx| {
        let streams: Vec<_> = (0..64).filter_map(|_| fx.open_legacy_sse(None)).collect();
        let alive = fx.alive();
        let distinct: std::collections::HashSet<_> = streams.iter().map(|(s, _, _)| s.clone()).collect();
        let refused_past_cap = streams.len() < 64;
        for (_, _, sock) in &streams {
            let _ = sock.shutdown(std::net::Shutdown::Both);
        }
        Outcome::default()
            .problem(alive.err())
            .problem((distinct.len() != streams.len()).then(|| "HTTP+SSE session ids repeat".into()))
            .problem((!refused_past_cap).then(|| "64 HTTP+SSE sessions opened past a cap of 48".into()))
    }));
    v.push(case("pipelined: 100 requests on one connection", "transport", vec![], Codes::Any, |fx| {
        let h = set(modern("tools/list", None), "Connection", "keep-alive");
        let pairs: Vec<(&str, &str)> = h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let one = request("POST", "/mcp", &fx.addr, &pairs, &list_body());
        let mut s = wire::connect(&fx.addr);
        let _ = s.write_all(&one.repeat(100));
        let mut bytes = Vec::new();
        let mut buf = [0u8; 16 * 1024];
        let deadline = Instant::now() + Duration::from_secs(5);
        s.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
        let count = |b: &[u8]| String::from_utf8_lossy(b).matches("HTTP/1.1 200 ").count();
        while count(&bytes) < 100 && Instant::now() < deadline {
            match std::io::Read::read(&mut s, &mut buf) {
                Ok(0) => break,
                Ok(n) => bytes.extend_from_slice(&buf[..n]),
                Err(_) => {}
            }
        }
        let answered = count(&bytes);
        let problem = (answered < 100).then(|| format!("only {answered} of 100 pipelined requests answered"));
        Outcome { bytes, ..Default::default() }.problem(problem)
    }));
}
