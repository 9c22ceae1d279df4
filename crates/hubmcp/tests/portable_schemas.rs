//! Every tool schema the binary serves, in every toolset and bouquet, is portable: it
//! passes the same checks as MCP Inspector's `--strict` schema lint (`tests/inspector/`
//! runs the Inspector CLI itself; this is the same rule set without Node, so `cargo test`
//! alone catches a regression): no `type` arrays (`["string","null"]`; single-type
//! dialects such as Gemini's reject them — use `anyOf`), no remote `$ref`, no schema that
//! constrains nothing, no bare boolean schema.

use std::process::Command;

use hub_standin::spaces::{spawn_spaces, SpacesConfig};
use hub_standin::{spawn, tokens, StandInConfig};
use serde_json::{json, Value};

mod common;
use common::{serve_binary, ServedBinary, BIN};

const BOOLEAN_VALUED: &[&str] =
    &["additionalProperties", "unevaluatedProperties", "additionalItems", "unevaluatedItems"];
const SUB: &[&str] = &[
    "items",
    "contains",
    "not",
    "propertyNames",
    "if",
    "then",
    "else",
    "additionalProperties",
    "unevaluatedProperties",
    "additionalItems",
    "unevaluatedItems",
    "contentSchema",
];
const SUB_ARRAYS: &[&str] = &["allOf", "anyOf", "oneOf", "prefixItems"];
const SUB_MAPS: &[&str] =
    &["properties", "patternProperties", "dependentSchemas", "dependencies", "$defs", "definitions"];
const CONSTRAINING: &[&str] = &[
    "type",
    "enum",
    "const",
    "multipleOf",
    "maximum",
    "exclusiveMaximum",
    "minimum",
    "exclusiveMinimum",
    "maxLength",
    "minLength",
    "pattern",
    "format",
    "contentMediaType",
    "contentEncoding",
    "contentSchema",
    "maxItems",
    "minItems",
    "uniqueItems",
    "maxContains",
    "minContains",
    "maxProperties",
    "minProperties",
    "required",
    "dependentRequired",
    "allOf",
    "anyOf",
    "oneOf",
    "not",
    "items",
    "prefixItems",
    "contains",
    "additionalItems",
    "unevaluatedItems",
    "properties",
    "patternProperties",
    "additionalProperties",
    "unevaluatedProperties",
    "propertyNames",
    "dependentSchemas",
    "dependencies",
    "$ref",
    "$dynamicRef",
    "$recursiveRef",
];

/// Findings for one schema, as `path: problem`.
fn lint(node: &Value, path: &str, keyword: Option<&str>, out: &mut Vec<String>) {
    let o = match node {
        Value::Bool(_) if keyword.is_some_and(|k| BOOLEAN_VALUED.contains(&k)) => return,
        Value::Bool(b) => return out.push(format!("{path}: bare `{b}` schema")),
        Value::Object(o) => o,
        _ => return,
    };
    if let Some(t @ Value::Array(_)) = o.get("type") {
        out.push(format!("{path}: `type` is an array {t}"));
    }
    if let Some(r) = o.get("$ref").and_then(Value::as_str).filter(|r| !r.is_empty() && !r.starts_with('#')) {
        out.push(format!("{path}: remote $ref {r}"));
    }
    let constrains = o.keys().any(|k| CONSTRAINING.contains(&k.as_str()))
        || (o.contains_key("if") && (o.contains_key("then") || o.contains_key("else")));
    if !constrains && keyword != Some("not") {
        out.push(format!("{path}: constrains nothing"));
    }
    for k in SUB_MAPS {
        if let Some(Value::Object(m)) = o.get(*k) {
            for (name, sub) in m {
                lint(sub, &format!("{path}.{k}.{name}"), Some(k), out);
            }
        }
    }
    for k in SUB_ARRAYS {
        if let Some(Value::Array(a)) = o.get(*k) {
            for (i, sub) in a.iter().enumerate() {
                lint(sub, &format!("{path}.{k}[{i}]"), Some(k), out);
            }
        }
    }
    for k in SUB {
        match o.get(*k) {
            Some(Value::Array(a)) if *k == "items" => {
                for (i, sub) in a.iter().enumerate() {
                    lint(sub, &format!("{path}.items[{i}]"), Some(k), out);
                }
            }
            Some(sub) => lint(sub, &format!("{path}.{k}"), Some(k), out),
            None => {}
        }
    }
}

fn tools(server: &ServedBinary, query: &str, token: Option<&str>) -> Vec<Value> {
    let body = json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": { "_meta": {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {} } } });
    let mut r = reqwest::blocking::Client::new()
        .post(format!("{}{query}", server.url))
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/list");
    if let Some(t) = token {
        r = r.header("authorization", format!("Bearer {t}"));
    }
    let v: Value = r.body(body.to_string()).send().unwrap().json().unwrap();
    v["result"]["tools"].as_array().unwrap_or_else(|| panic!("no tools: {v}")).clone()
}

fn findings(tools: &[Value]) -> Vec<String> {
    let mut out = Vec::new();
    for t in tools {
        for kind in ["inputSchema", "outputSchema"] {
            if let Some(s) = t.get(kind) {
                let mut f = Vec::new();
                lint(s, kind, None, &mut f);
                out.extend(f.into_iter().map(|f| format!("{}: {f}", t["name"].as_str().unwrap())));
            }
        }
    }
    out
}

#[test]
fn the_lint_finds_what_inspector_strict_finds() {
    let bad = json!([{ "name": "t", "inputSchema": { "type": "object", "properties": {
        "a": { "type": ["string", "null"] }, "b": {}, "c": { "$ref": "https://x/s.json" }, "d": true,
        "e": { "not": {} } }, "additionalProperties": false } }]);
    let f = findings(bad.as_array().unwrap());
    assert_eq!(f.len(), 4, "{f:#?}");
    assert!(findings(&[json!({ "name": "ok", "inputSchema": { "type": "object", "properties": {
        "a": { "anyOf": [{ "type": "string" }, { "type": "null" }] } } } })])
    .is_empty());
}

#[test]
fn every_toolset_and_bouquet_serves_portable_schemas() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let hub = rt.block_on(spawn(StandInConfig::default()));
    let spaces = rt.block_on(spawn_spaces(SpacesConfig::default()));
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--port", "0"])
        .env("HF_ENDPOINT", &hub.base_url)
        .env("HF_DATASETS_SERVER_ENDPOINT", &hub.datasets_server_url)
        .env("HUBMCP_SPACE_SCHEME", "http")
        .env("HUBMCP_SPACE_PORT", spaces.port().to_string())
        .env("HUBMCP_SPACE_RESOLVE", "127.0.0.1")
        .env("HUBMCP_SPACE_ALLOW_ADDRESSES", "loopback")
        .env_remove("HUBMCP_TOOLSET");
    let server = serve_binary(cmd);
    let mut all = Vec::new();
    let mut names = std::collections::BTreeSet::new();
    let token = Some(tokens::ALICE_WRITE);
    for bouquet in ["all", "hf_api", "search", "docs", "files", "spaces", "dynamic_space", "hub_repo_details"] {
        all.extend(tools(&server, &format!("?bouquet={bouquet}"), token));
    }
    all.extend(tools(&server, "", None));
    all.extend(tools(&server, "?gradio=evalstate/flux1_schnell,black-forest-labs/FLUX.1-Kontext-Dev", token));
    for t in &all {
        names.insert(t["name"].as_str().unwrap().to_owned());
    }
    for expected in ["hf_fs", "hub_repo_search", "hub_repo_details", "hf_whoami", "dynamic_space"] {
        assert!(names.contains(expected), "{expected} not listed: {names:?}");
    }
    assert!(names.iter().any(|n| n.starts_with("gr1_")), "no Space tools: {names:?}");
    let f = findings(&all);
    assert!(f.is_empty(), "non-portable schemas:\n{}", f.join("\n"));

    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--port", "0", "--toolset", "conformance"]);
    let conformance = serve_binary(cmd);
    let f = findings(&tools(&conformance, "", None));
    assert!(f.is_empty(), "non-portable schemas (conformance toolset):\n{}", f.join("\n"));
}
