//! `create_repo`: create a model, dataset, Space (with an `sdk`) or storage bucket from an
//! `hf://` destination URI, or duplicate a repository server-side from `source_uri` — the
//! names, arguments and text of the hosted server's tool (hf-mcp-server 0.4.x), so a user
//! can switch without relearning. Nothing is deleted or overwritten (a taken name is a
//! conflict), so no confirmation is asked.

use std::sync::Arc;

use mcp_engine::provider::{Tool, ToolOutput};
use serde::Deserialize;
use serde_json::{json, Value};

use super::format::inline_code;
use super::shell::hub_tool;
use super::write_common::{no_token, parse_target, refused, Target};
use crate::client::{HubClient, WriteTarget};

pub const NAME: &str = "create_repo";

const SDKS: &[&str] = &["streamlit", "gradio", "docker", "static"];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Args {
    uri: String,
    #[serde(default)]
    source_uri: Option<String>,
    #[serde(default)]
    private: Option<bool>,
    #[serde(default)]
    sdk: Option<String>,
}

pub fn definition() -> Value {
    json!({
        "name": NAME,
        "title": "Create Hugging Face Repository",
        "description": "Create a Hugging Face model, dataset, Space, or bucket repository using an hf:// destination URI. \
    Set source_uri to duplicate an existing model, dataset, or Space server-side.",
        "inputSchema": {
            "type": "object",
            "properties": {
                "uri": { "type": "string", "minLength": 1,
                    "description": "Destination repo URI in the form hf://models|datasets|spaces|buckets/OWNER/NAME." },
                "source_uri": { "type": "string", "minLength": 1,
                    "description": "Optional source repo URI to duplicate, in the form hf://models|datasets|spaces/OWNER/NAME. Must use the same repo type as uri." },
                "private": { "type": "boolean",
                    "description": "Visibility for the new repo. For duplication, omit to preserve the source visibility; set true for private or false for public." },
                "sdk": { "type": "string", "enum": SDKS,
                    "description": "Space SDK for new empty Spaces. Not used when source_uri is set." }
            },
            "required": ["uri"],
            "additionalProperties": false
        },
        "outputSchema": {
            "type": "object",
            "properties": {
                "action": { "type": "string", "enum": ["created", "duplicated"] },
                "uri": { "type": "string" }, "url": { "type": "string" }, "repo": { "type": "string" },
                "repo_type": { "type": "string", "enum": ["model", "dataset", "space", "bucket"] },
                "id": { "type": "string" }, "source_uri": { "type": "string" }, "source_repo": { "type": "string" }
            },
            "required": ["action", "uri", "url", "repo", "repo_type"]
        },
        "annotations": {
            "title": "Create Hugging Face Repository",
            "readOnlyHint": false, "destructiveHint": false, "idempotentHint": false, "openWorldHint": true
        }
    })
}

pub fn tool(client: HubClient) -> Tool {
    hub_tool(definition(), client, |client, token: Option<Arc<str>>, args: Args| async move {
        match token {
            None => no_token(NAME),
            Some(token) => run(&client, &token, args).await.unwrap_or_else(|out| out),
        }
    })
}

/// A repository URI without path or revision.
fn repo_target(uri: &str, field: &str) -> Result<Target, ToolOutput> {
    let t = parse_target(uri, field).map_err(ToolOutput::error)?;
    if !t.path().is_empty() {
        return Err(ToolOutput::error(format!("{field} must point to a repository, not a file path.")));
    }
    if matches!(t, Target::Repo { revision: Some(_), .. }) {
        return Err(ToolOutput::error(format!("{field} must point to a repository and must not include a revision.")));
    }
    Ok(t)
}

async fn run(client: &HubClient, token: &str, args: Args) -> Result<ToolOutput, ToolOutput> {
    let target = repo_target(&args.uri, "uri")?;
    let (namespace, name) = target.id().split_once('/').expect("ids are owner/name");
    if let Some(sdk) = &args.sdk {
        if !SDKS.contains(&sdk.as_str()) {
            return Err(ToolOutput::error(format!("sdk must be one of {}.", SDKS.join(", "))));
        }
    }
    let visibility = args.private.map(|p| if p { "private" } else { "public" });

    let (action, answer, source) = if let Some(source_uri) = &args.source_uri {
        let source = repo_target(source_uri, "source_uri")?;
        if args.sdk.is_some() {
            return Err(ToolOutput::error("sdk is only valid when creating a new empty Space, not when duplicating."));
        }
        let (Target::Repo { kind, .. }, Target::Repo { kind: target_kind, .. }) = (&source, &target) else {
            return Err(ToolOutput::error(if matches!(source, Target::Bucket { .. }) {
                "Duplicating bucket repositories is not supported."
            } else {
                "A duplicated repo target must be a model, dataset, or Space URI."
            }));
        };
        if kind != target_kind {
            return Err(ToolOutput::error(format!(
                "source_uri type ({}) must match uri type ({}).",
                source.repo_type(),
                target.repo_type()
            )));
        }
        let (src_owner, src_name) = source.id().split_once('/').expect("ids are owner/name");
        let mut body = json!({ "repository": target.id() });
        if let Some(v) = visibility {
            body["visibility"] = json!(v);
        }
        let segments = ["api", kind.plural(), src_owner, src_name, "duplicate"];
        let answer = client
            .post_json(Some(token), &segments, &[], &body, WriteTarget::Repo(kind.client_kind(), source.id(), None))
            .await
            .map_err(|e| refused(&format!("duplicate {}", source.id()), namespace, &e))?;
        ("duplicated", answer, Some((source_uri.clone(), source.id().to_owned())))
    } else {
        let answer = match &target {
            Target::Bucket { .. } => {
                let mut body = json!({});
                if let Some(p) = args.private {
                    body["private"] = json!(p);
                }
                let segments = ["api", "buckets", namespace, name];
                client.post_json(Some(token), &segments, &[], &body, WriteTarget::Bucket(target.id())).await
            }
            Target::Repo { kind, .. } => {
                if args.sdk.is_some() && target.repo_type() != "space" {
                    return Err(ToolOutput::error("sdk is only valid when creating a Space repository."));
                }
                let mut body = json!({ "name": name, "organization": namespace, "type": target.repo_type() });
                if let Some(v) = visibility {
                    body["visibility"] = json!(v);
                    body["private"] = json!(v == "private");
                }
                if target.repo_type() == "space" {
                    // As the hosted server's client library: a new Space is `static` unless told.
                    body["sdk"] = json!(args.sdk.as_deref().unwrap_or("static"));
                }
                let what = WriteTarget::Repo(kind.client_kind(), target.id(), None);
                client.post_json(Some(token), &["api", "repos", "create"], &[], &body, what).await
            }
        }
        .map_err(|e| refused(&format!("create {}", target.id()), namespace, &e))?;
        ("created", answer, None)
    };

    let url = answer.get("url").and_then(Value::as_str).unwrap_or_default().to_owned();
    if url.is_empty() {
        return Err(ToolOutput::error("The Hub's answer did not include the new repository's url."));
    }
    let mut structured = json!({
        "action": action, "uri": args.uri, "url": url, "repo": target.id(), "repo_type": target.repo_type(),
    });
    let mut lines = vec![
        format!("# create_repo {action}"),
        String::new(),
        format!("URI: {}", inline_code(&args.uri)),
        format!("Repo: {}", inline_code(target.id())),
        format!("Type: {}", inline_code(target.repo_type())),
    ];
    if let Some((source_uri, source_repo)) = &source {
        lines.push(format!("Source: {}", inline_code(source_uri)));
        structured["source_uri"] = json!(source_uri);
        structured["source_repo"] = json!(source_repo);
    }
    lines.push(format!("URL: {url}"));
    if let Some(id) = answer.get("id").and_then(Value::as_str) {
        lines.push(format!("ID: {}", inline_code(id)));
        structured["id"] = json!(id);
    }
    Ok(ToolOutput::structured(lines.join("\n"), structured))
}
