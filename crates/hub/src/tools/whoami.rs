//! `hf_whoami`: the caller's Hugging Face account, organisations and credential (role,
//! fine-grained scopes). Never returns the token itself.

use mcp_engine::provider::{Tool, ToolOutput};
use mcp_engine::Ctx;
use serde_json::{json, Map, Value};

use super::explain::explain;
use super::format::{escape_md, inline_code, str_of};
use super::shell::{scrub, token_of};
use crate::client::{HubClient, HubErrorKind, Service};

pub const NAME: &str = "hf_whoami";

pub const ANONYMOUS_GUIDANCE: &str = "No Hugging Face token was supplied. Set HF_TOKEN (stdio) or send \
`Authorization: Bearer <token>` (HTTP) with a token from https://huggingface.co/settings/tokens to access \
private and gated repositories and get higher rate limits. Create a free account at https://huggingface.co/join.";

pub fn definition() -> Value {
    json!({
        "name": NAME,
        "title": "Hugging Face User Info",
        "description": "Inspect the current Hugging Face authentication context, including the account, visible \
    organization memberships, and credential access details. Read-only and never returns credential values.",
        "inputSchema": { "type": "object", "properties": {}, "additionalProperties": false },
        "outputSchema": output_schema(),
        "annotations": {
            "title": "Hugging Face User Info",
            "readOnlyHint": true, "destructiveHint": false, "idempotentHint": false, "openWorldHint": false
        }
    })
}

fn output_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "status": { "type": "string", "enum": ["authenticated", "anonymous", "authentication_unverified"] },
            "account": {
                "anyOf": [
                    { "type": "null" },
                    { "type": "object", "properties": {
                        "id": { "type": "string" }, "type": { "type": "string", "enum": ["user", "org", "app"] },
                        "name": { "type": "string" }, "url": { "type": "string" }, "is_pro": { "type": "boolean" }
                    }, "required": ["id", "type", "name"] }
                ]
            },
            "organizations": { "type": "array", "items": { "type": "object", "properties": {
                "id": { "type": "string" }, "name": { "type": "string" }, "display_name": { "type": "string" },
                "url": { "type": "string" }, "role": { "type": "string" }, "plan": { "type": "string" },
                "security_restrictions": { "type": "array", "items": { "type": "string" } },
                "resource_groups": { "type": "array", "items": { "type": "object", "properties": {
                    "id": { "type": "string" }, "name": { "type": "string" }, "role": { "type": "string" }
                }, "required": ["id", "name", "role"] } }
            }, "required": ["id", "name", "display_name", "url"] } },
            "credential": {
                "anyOf": [
                    { "type": "null" },
                    { "type": "object", "properties": {
                        "type": { "type": "string", "enum": ["personal_access_token", "oauth", "app_token", "other"] },
                        "role": { "type": "string" },
                        "created_at": { "type": "string" },
                        "expires_at": { "type": "string" },
                        "scopes": { "type": "array", "items": { "type": "string" } },
                        "entities": { "type": "array", "items": { "type": "object" } },
                        "permissions": { "type": "object", "properties": {
                            "scoped": { "type": "array", "items": { "type": "object", "properties": {
                                "entity": { "type": "object", "properties": {
                                    "id": { "type": "string" }, "type": { "type": "string" }, "name": { "type": "string" }
                                }, "required": ["id", "type"] },
                                "permissions": { "type": "array", "items": { "type": "string" } },
                                "restrictions": { "type": "array", "items": { "type": "object", "properties": {
                                    "resource_type": { "type": "string" },
                                    "patterns": { "type": "array", "items": { "type": "string" } }
                                }, "required": ["resource_type", "patterns"] } }
                            }, "required": ["entity", "permissions"] } },
                            "global": { "type": "array", "items": { "type": "string" } },
                            "can_read_gated_repos": { "type": "boolean" }
                        }, "required": ["scoped"] }
                    }, "required": ["type"] }
                ]
            },
            "guidance": { "type": "string" }
        },
        "required": ["status", "account", "organizations", "credential"]
    })
}

pub fn tool(upstream: HubClient) -> Tool {
    Tool::new(definition(), move |_args, ctx: Ctx| {
        let upstream = upstream.clone();
        async move {
            let token = token_of(&ctx);
            let out = run(&upstream, token.as_deref()).await;
            Ok(scrub(out, token.as_deref()))
        }
    })
}

async fn run(upstream: &HubClient, token: Option<&str>) -> ToolOutput {
    let Some(token) = token else {
        let out = json!({
            "status": "anonymous", "account": null, "organizations": [], "credential": null,
            "guidance": ANONYMOUS_GUIDANCE
        });
        return ToolOutput::structured(markdown(&out), out);
    };
    match upstream.get_json(Some(token), Service::Hub, "/api/whoami-v2", &[]).await {
        Ok(body) => match map_whoami_with(&body, Some(token)) {
            Some(out) => ToolOutput::structured(markdown(&out), out),
            None => unverified("the Hub's answer could not be understood"),
        },
        Err(e) if e.kind() == HubErrorKind::Unauthorized || e.status() == Some(401) => ToolOutput::error(
            "The Hub rejected the Hugging Face token in use (401: invalid, expired or revoked).\nRetry: not with \
             the same token.\nInstead: ask the user to create a new token at https://huggingface.co/settings/tokens \
             and set it (HF_TOKEN for stdio, Authorization: Bearer for HTTP). Public content works without a token.",
        ),
        Err(e) if e.is_retryable() => unverified(&explain(&e, "the account lookup")),
        Err(e) => ToolOutput::error(explain(&e, "the account lookup")),
    }
}

fn unverified(reason: &str) -> ToolOutput {
    let guidance = format!(
        "A Hugging Face credential was supplied, but its status could not be verified. Retry shortly. {reason}"
    );
    let out = json!({
        "status": "authentication_unverified", "account": null, "organizations": [], "credential": null,
        "guidance": guidance
    });
    ToolOutput::structured(markdown(&out), out)
}

/// Map `/api/whoami-v2` to the public shape, allow-listing every field.
pub fn map_whoami(body: &Value) -> Option<Value> {
    map_whoami_with(body, None)
}

/// [`map_whoami`], with the token the answer is about: an OAuth token's granted scopes
/// are read from its (already Hub-verified) JWT claim, as the hosted server shows them.
pub fn map_whoami_with(body: &Value, token: Option<&str>) -> Option<Value> {
    let id = str_of(body, "id")?;
    let name = str_of(body, "name")?;
    let kind = match str_of(body, "type")? {
        t @ ("user" | "org" | "app") => t,
        _ => return None,
    };
    let mut account = Map::new();
    account.insert("id".into(), id.into());
    account.insert("type".into(), kind.into());
    account.insert("name".into(), name.into());
    if kind != "app" {
        account.insert("url".into(), format!("https://huggingface.co/{}", crate::client::enc(name)).into());
    }
    if let Some(pro) = body.get("isPro").and_then(Value::as_bool) {
        account.insert("is_pro".into(), pro.into());
    }
    let organizations: Vec<Value> = body
        .get("orgs")
        .and_then(Value::as_array)
        .map(|orgs| orgs.iter().filter_map(map_org).collect())
        .unwrap_or_default();
    Some(json!({
        "status": "authenticated",
        "account": account,
        "organizations": organizations,
        "credential": credential(body, kind, token),
    }))
}

fn map_org(org: &Value) -> Option<Value> {
    let id = str_of(org, "id")?;
    let name = str_of(org, "name")?;
    let mut o = Map::new();
    o.insert("id".into(), id.into());
    o.insert("name".into(), name.into());
    o.insert("display_name".into(), str_of(org, "fullname").unwrap_or(name).into());
    o.insert("url".into(), format!("https://huggingface.co/{}", crate::client::enc(name)).into());
    if let Some(r) = str_of(org, "roleInOrg") {
        o.insert("role".into(), r.into());
    }
    if let Some(p) = str_of(org, "plan") {
        o.insert("plan".into(), p.into());
    }
    if let Some(r) = org.get("securityRestrictions").and_then(Value::as_array) {
        let r: Vec<&str> = r.iter().filter_map(Value::as_str).filter(|s| !s.is_empty()).collect();
        if !r.is_empty() {
            o.insert("security_restrictions".into(), json!(r));
        }
    }
    if let Some(groups) = org.get("resourceGroups").and_then(Value::as_array) {
        let groups: Vec<Value> = groups
            .iter()
            .filter_map(|g| {
                Some(json!({ "id": str_of(g, "id")?, "name": str_of(g, "name")?, "role": str_of(g, "role")? }))
            })
            .collect();
        if !groups.is_empty() {
            o.insert("resource_groups".into(), Value::Array(groups));
        }
    }
    Some(Value::Object(o))
}

fn credential(body: &Value, kind: &str, token: Option<&str>) -> Value {
    let auth = body.get("auth").cloned().unwrap_or(Value::Null);
    let auth_type = str_of(&auth, "type").unwrap_or("unknown");
    let access = auth.get("accessToken");
    let role = access.and_then(|a| str_of(a, "role"));
    if auth_type == "access_token" {
        if let (Some(access), Some(role @ ("read" | "write" | "fineGrained"))) = (access, role) {
            let mut c = Map::new();
            c.insert("type".into(), "personal_access_token".into());
            c.insert("role".into(), if role == "fineGrained" { "fine_grained" } else { role }.into());
            if let Some(at) = str_of(access, "createdAt") {
                c.insert("created_at".into(), at.into());
            }
            if role == "fineGrained" {
                if let Some(p) = access.get("fineGrained").and_then(fine_grained) {
                    c.insert("permissions".into(), p);
                }
            }
            return Value::Object(c);
        }
    }
    if auth_type == "oauth" {
        let mut c = Map::new();
        c.insert("type".into(), "oauth".into());
        if let Some(e) = str_of(&auth, "expiresAt") {
            c.insert("expires_at".into(), e.into());
        }
        if let Some(scopes) = token.and_then(oauth_scopes) {
            c.insert("scopes".into(), json!(scopes));
        }
        return Value::Object(c);
    }
    if kind == "app" {
        let scope = body.get("scope").cloned().unwrap_or(Value::Null);
        let entities: Vec<Value> = scope
            .get("entities")
            .and_then(Value::as_array)
            .map(|es| {
                es.iter()
                    .filter_map(|e| match e {
                        Value::String(s) if !s.is_empty() => Some(json!({ "name": s })),
                        Value::Object(_) => Some(json!({ "type": str_of(e, "type")?, "name": str_of(e, "name")? })),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut c = Map::new();
        c.insert("type".into(), "app_token".into());
        if let Some(r) = str_of(&scope, "role") {
            c.insert("role".into(), r.into());
        }
        c.insert("entities".into(), Value::Array(entities));
        return Value::Object(c);
    }
    let mut c = Map::new();
    c.insert("type".into(), "other".into());
    if let Some(e) = str_of(&auth, "expiresAt") {
        c.insert("expires_at".into(), e.into());
    }
    Value::Object(c)
}

/// The `scope` claim of an `hf_oauth_` access token (a JWT), without verifying it: the Hub
/// verified the token; this only reads what it grants, for display.
fn oauth_scopes(token: &str) -> Option<Vec<String>> {
    use base64::Engine as _;
    let jwt = token.strip_prefix("hf_oauth_").filter(|t| !t.starts_with("_refresh_"))?;
    let mut parts = jwt.split('.');
    let (_, payload, _, None) = (parts.next()?, parts.next()?, parts.next()?, parts.next()) else { return None };
    if payload.len() > 22_000 {
        return None;
    }
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    let raw: Vec<String> = match claims.get("scope")? {
        Value::String(s) => s.split_whitespace().map(str::to_owned).collect(),
        Value::Array(a) => a.iter().map(|v| v.as_str().map(|s| s.trim().to_owned())).collect::<Option<_>>()?,
        _ => return None,
    };
    let mut out: Vec<String> = Vec::new();
    for s in raw.into_iter().filter(|s| !s.is_empty()) {
        if !out.contains(&s) {
            out.push(s);
        }
    }
    Some(out)
}

fn fine_grained(fg: &Value) -> Option<Value> {
    let scoped = fg.get("scoped")?.as_array()?;
    let scoped: Vec<Value> = scoped
        .iter()
        .filter_map(|s| {
            let entity = s.get("entity")?;
            let id = str_of(entity, "_id").or_else(|| str_of(entity, "id"))?;
            let etype = str_of(entity, "type")?.replace('-', "_");
            let perms: Vec<&str> = s.get("permissions")?.as_array()?.iter().filter_map(Value::as_str).collect();
            let mut e = Map::new();
            e.insert("id".into(), id.into());
            e.insert("type".into(), etype.into());
            if let Some(n) = str_of(entity, "name") {
                e.insert("name".into(), n.into());
            }
            // Resource-name restrictions (inference endpoints by wildcard), as the hosted server.
            let restrictions: Vec<Value> = s
                .get("patterns")
                .and_then(Value::as_array)
                .map(|ps| {
                    ps.iter()
                        .filter(|p| str_of(p, "resourceType") == Some("inference-endpoint"))
                        .filter_map(|p| {
                            let w: Vec<&str> =
                                p.get("wildcardPatterns")?.as_array()?.iter().filter_map(Value::as_str).collect();
                            (!w.is_empty()).then(|| json!({ "resource_type": "inference_endpoint", "patterns": w }))
                        })
                        .collect()
                })
                .unwrap_or_default();
            let mut scope = json!({ "entity": e, "permissions": perms });
            if !restrictions.is_empty() {
                scope["restrictions"] = Value::Array(restrictions);
            }
            Some(scope)
        })
        .collect();
    let mut p = Map::new();
    p.insert("scoped".into(), Value::Array(scoped));
    if let Some(g) = fg.get("global").and_then(Value::as_array) {
        p.insert("global".into(), json!(g.iter().filter_map(Value::as_str).collect::<Vec<_>>()));
    }
    if let Some(b) = fg.get("canReadGatedRepos").and_then(Value::as_bool) {
        p.insert("can_read_gated_repos".into(), b.into());
    }
    Some(Value::Object(p))
}

/// Readable Markdown for the structured result.
pub fn markdown(out: &Value) -> String {
    let mut l = vec!["# Hugging Face authentication".to_owned(), String::new()];
    match out["status"].as_str() {
        Some("anonymous") => {
            l.push("The Hugging Face tools are being used anonymously and may be rate limited.".into());
            l.push(String::new());
            l.push(out["guidance"].as_str().unwrap_or_default().into());
            return l.join("\n");
        }
        Some("authentication_unverified") => {
            l.push(out["guidance"].as_str().unwrap_or_default().into());
            return l.join("\n");
        }
        _ => {}
    }
    let acc = &out["account"];
    let name = acc["name"].as_str().unwrap_or_default();
    match acc["url"].as_str() {
        Some(url) => l.push(format!("Authenticated as [@{}]({url}) ({}).", escape_md(name), inline_code(name))),
        None => l.push(format!("Authenticated as {}.", inline_code(name))),
    }
    l.push(String::new());
    l.push(format!("- **Account ID:** {}", inline_code(acc["id"].as_str().unwrap_or_default())));
    l.push(format!("- **Account type:** {}", inline_code(acc["type"].as_str().unwrap_or_default())));
    if let Some(pro) = acc["is_pro"].as_bool() {
        l.push(format!("- **Pro account:** {}", if pro { "yes" } else { "no" }));
    }
    l.push(String::new());
    l.push("## Current credential".into());
    l.push(String::new());
    let c = &out["credential"];
    match c["type"].as_str() {
        Some("personal_access_token") => {
            l.push("- **Type:** personal access token".into());
            l.push(format!("- **Role:** {}", inline_code(c["role"].as_str().unwrap_or_default())));
            if let Some(at) = c["created_at"].as_str() {
                l.push(format!("- **Created:** {at}"));
            }
            if c["role"] != "fine_grained" {
                l.push(String::new());
                l.push(
                    "The Hub reports this token's role but no expanded permission list for read/write tokens.".into(),
                );
            } else if let Some(p) = c.get("permissions") {
                if let Some(b) = p["can_read_gated_repos"].as_bool() {
                    l.push(format!("- **Can read accessible gated repositories:** {}", if b { "yes" } else { "no" }));
                }
                l.push(String::new());
                l.push("### Scoped permissions".into());
                l.push(String::new());
                let scoped = p["scoped"].as_array().cloned().unwrap_or_default();
                if scoped.is_empty() {
                    l.push("None.".into());
                }
                for s in scoped {
                    let e = &s["entity"];
                    let label = e["name"].as_str().or(e["id"].as_str()).unwrap_or_default();
                    let perms: Vec<String> = s["permissions"]
                        .as_array()
                        .map(|a| a.iter().filter_map(Value::as_str).map(inline_code).collect())
                        .unwrap_or_default();
                    l.push(format!(
                        "- **{}** {}: {}",
                        e["type"].as_str().unwrap_or("entity"),
                        inline_code(label),
                        if perms.is_empty() { "none".into() } else { perms.join(", ") }
                    ));
                    for r in s["restrictions"].as_array().into_iter().flatten() {
                        let patterns: Vec<String> = r["patterns"]
                            .as_array()
                            .map(|a| a.iter().filter_map(Value::as_str).map(inline_code).collect())
                            .unwrap_or_default();
                        l.push(format!(
                            "  - **Resource name restrictions (inference endpoints):** {}",
                            patterns.join(", ")
                        ));
                    }
                }
                if let Some(g) = p["global"].as_array() {
                    l.push(String::new());
                    l.push("### Global permissions".into());
                    l.push(String::new());
                    if g.is_empty() {
                        l.push("None.".into());
                    }
                    for x in g.iter().filter_map(Value::as_str) {
                        l.push(format!("- {}", inline_code(x)));
                    }
                }
            }
        }
        Some("oauth") => {
            l.push("- **Type:** OAuth access token".into());
            if let Some(e) = c["expires_at"].as_str() {
                l.push(format!("- **Expires:** {e}"));
            }
            l.push(String::new());
            l.push("### Granted OAuth scopes".into());
            l.push(String::new());
            match c["scopes"].as_array() {
                None => l.push("Unavailable: the authenticated OAuth token's scope claim could not be read.".into()),
                Some(s) if s.is_empty() => l.push("This OAuth token has no explicit scopes.".into()),
                Some(s) => l.extend(s.iter().filter_map(Value::as_str).map(|x| format!("- {}", inline_code(x)))),
            }
        }
        Some("app_token") => {
            l.push("- **Type:** application token".into());
            if let Some(r) = c["role"].as_str() {
                l.push(format!("- **Role:** {}", inline_code(r)));
            }
        }
        _ => l.push("- **Type:** other authenticated credential".into()),
    }
    l.push(String::new());
    l.push("## Organization memberships".into());
    l.push(String::new());
    let orgs = out["organizations"].as_array().cloned().unwrap_or_default();
    if orgs.is_empty() {
        l.push("No organization memberships are visible to the current authentication method.".into());
    }
    for o in orgs {
        l.push(format!(
            "- [{}]({}) ({}){}{}",
            escape_md(o["display_name"].as_str().unwrap_or_default()),
            o["url"].as_str().unwrap_or_default(),
            inline_code(o["name"].as_str().unwrap_or_default()),
            o["role"].as_str().map(|r| format!(", role {}", inline_code(r))).unwrap_or_default(),
            o["plan"].as_str().map(|p| format!(", plan {}", inline_code(p))).unwrap_or_default(),
        ));
    }
    l.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_fine_grained() {
        let body = json!({
            "type": "user", "id": "u1", "name": "carol", "isPro": false, "email": "c@x",
            "orgs": [{ "type": "org", "id": "o1", "name": "org", "roleInOrg": "read" }],
            "auth": { "type": "access_token", "accessToken": { "displayName": "x", "role": "fineGrained",
                "createdAt": "2025-01-15T10:00:00.000Z",
                "fineGrained": { "canReadGatedRepos": true, "global": ["discussion.write"],
                    "scoped": [{ "entity": { "_id": "u1", "type": "user", "name": "carol" }, "permissions": ["repo.content.read"] }] } } }
        });
        let out = map_whoami(&body).unwrap();
        assert_eq!(out["credential"]["role"], "fine_grained");
        assert_eq!(out["credential"]["permissions"]["can_read_gated_repos"], true);
        assert!(out.get("email").is_none() && !out.to_string().contains("c@x"));
        assert!(markdown(&out).contains("repo.content.read"));
    }
}
