//! The skills snapshot on a catalog: one resource per file (`resources/list` paginates like
//! any list), and the extension's methods — `skills/list` (cursor pagination, 100 skills a
//! page, list-caching attributes on 2026-07-28), `skills/get`, `resources/directory/read`
//! (500 children a page). Unknown URIs and bad cursors are -32602, as the extension says.

// The engine's method handlers return `McpError` by value; the helpers follow suit.
#![allow(clippy::result_large_err)]

use std::sync::Arc;

use base64::Engine as _;
use mcp_engine::jsonrpc::{JsonObject, McpError};
use mcp_engine::protocol::Era;
use mcp_engine::provider::Catalog;
use mcp_engine::RequestInfo;
use serde_json::{json, Value};

use super::{Skill, Skills, EXTENSION};

const SKILLS_PAGE: usize = 100;
const DIRECTORY_PAGE: usize = 500;
/// How long a `skills/list` may be cached (public: the same for every caller).
const LIST_TTL_MS: u64 = 60_000;

/// The capabilities a server with these skills adds: resources, and the extension.
pub fn capabilities(caps: &mut JsonObject) {
    caps.entry("resources").or_insert_with(|| json!({ "subscribe": false, "listChanged": false }));
    let ext = caps.entry("extensions").or_insert_with(|| json!({}));
    if let Value::Object(ext) = ext {
        ext.insert(EXTENSION.into(), json!({ "directoryRead": true }));
    }
}

/// Add the skills' resources and methods to a catalog.
pub fn add_to(catalog: &mut Catalog, skills: &Arc<Skills>) {
    for file in skills.files.values() {
        let mut def = json!({ "uri": file.uri, "name": file.name, "mimeType": file.mime_type });
        if let Some(d) = &file.description {
            def["description"] = d.clone().into();
        }
        let s = skills.clone();
        catalog.resource(def, move |read, _ctx| {
            let s = s.clone();
            async move {
                let f = s.files.get(&read.uri).expect("a registered resource is in the snapshot");
                let content = if f.is_text {
                    json!({ "uri": f.uri, "mimeType": f.mime_type,
                            "text": String::from_utf8_lossy(&f.bytes) })
                } else {
                    json!({ "uri": f.uri, "mimeType": f.mime_type,
                            "blob": base64::engine::general_purpose::STANDARD.encode(&f.bytes) })
                };
                let mut r = JsonObject::new();
                r.insert("contents".into(), json!([content]));
                Ok(r)
            }
        });
    }
    let s = skills.clone();
    catalog.method("skills/list", move |params, info| {
        let s = s.clone();
        async move { list(&s, &params, &info) }
    });
    let s = skills.clone();
    catalog.method("skills/get", move |params, _| {
        let s = s.clone();
        async move {
            let uri = str_param(&params, "uri")?;
            let skill = s
                .skills
                .iter()
                .find(|k| k.uri == uri)
                .ok_or_else(|| McpError::invalid_params(format!("Unknown skill URI: {uri}")))?;
            let mut r = JsonObject::new();
            r.insert("skill".into(), entry(skill));
            Ok(r)
        }
    });
    let s = skills.clone();
    catalog.method("resources/directory/read", move |params, _| {
        let s = s.clone();
        async move { directory(&s, &params) }
    });
}

fn str_param<'a>(params: &'a Value, key: &str) -> Result<&'a str, McpError> {
    params
        .get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| McpError::invalid_params(format!("Invalid params: {key} must be a string")))
}

fn entry(skill: &Skill) -> Value {
    let resources: Vec<Value> =
        skill.resources.iter().map(|(uri, digest)| json!({ "uri": uri, "digest": digest })).collect();
    json!({ "uri": skill.uri, "frontmatter": skill.frontmatter, "resources": resources })
}

/// A decimal offset cursor (as the hosted server) within `len`.
fn offset(params: &Value, len: usize, method: &str) -> Result<usize, McpError> {
    let Some(c) = params.get("cursor").filter(|c| !c.is_null()) else { return Ok(0) };
    c.as_str()
        .filter(|c| c == &"0" || (!c.starts_with('0') && c.bytes().all(|b| b.is_ascii_digit())))
        .and_then(|c| c.parse::<usize>().ok())
        .filter(|&o| o <= len)
        .ok_or_else(|| McpError::invalid_params(format!("Invalid {method} cursor")))
}

fn list(skills: &Skills, params: &Value, info: &RequestInfo) -> Result<JsonObject, McpError> {
    let start = offset(params, skills.skills.len(), "skills/list")?;
    let end = (start + SKILLS_PAGE).min(skills.skills.len());
    let mut r = JsonObject::new();
    r.insert("skills".into(), skills.skills[start..end].iter().map(entry).collect());
    if end < skills.skills.len() {
        r.insert("nextCursor".into(), end.to_string().into());
    }
    if info.era == Era::Stateless {
        r.insert("ttlMs".into(), LIST_TTL_MS.into());
        r.insert("cacheScope".into(), "public".into());
    }
    Ok(r)
}

fn directory(skills: &Skills, params: &Value) -> Result<JsonObject, McpError> {
    let uri = str_param(params, "uri")?;
    let children = skills
        .directories
        .get(uri.strip_suffix('/').unwrap_or(uri))
        .ok_or_else(|| McpError::invalid_params(format!("Not a directory resource: {uri}")))?;
    let start = offset(params, children.len(), "resources/directory/read")?;
    let end = (start + DIRECTORY_PAGE).min(children.len());
    let mut r = JsonObject::new();
    r.insert(
        "resources".into(),
        children[start..end].iter().map(|c| json!({ "uri": c.uri, "name": c.name, "mimeType": c.mime_type })).collect(),
    );
    if end < children.len() {
        r.insert("nextCursor".into(), end.to_string().into());
    }
    Ok(r)
}
