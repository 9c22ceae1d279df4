//! `hub_repo_details`: details of 1–10 repositories (type auto-detected unless given),
//! with dataset structure and row previews from the datasets-server. This module is the tool
//! itself — arguments, per-repository dispatch, the output budget; `overview.rs` renders one
//! repository's metadata and `dataset.rs` the datasets-server views.

mod dataset;
mod overview;

use futures_util::stream::{self, StreamExt};
use mcp_engine::provider::{Tool, ToolOutput};
use serde::Deserialize;
use serde_json::{json, Value};

use super::args::invalid_args;
use super::explain::explain;
use super::repo_search::RepoType;
use super::shell::hub_tool;
use crate::client::{HubClient, HubError};
use dataset::dataset;
use overview::{drill_down_hint, overview};

pub const NAME: &str = "hub_repo_details";
const OPERATIONS: &[&str] = &["overview", "dataset_structure", "dataset_preview"];
const DEFAULT_PREVIEW_LIMIT: u64 = 5;
const MAX_PREVIEW_LIMIT: u64 = 100;
/// The hosted server bounds only the row preview (below); this bound only stops a
/// pathological answer (ten large overviews) and sits far above what a preview can reach.
const MAX_CHARS: usize = 200_000;
/// The row-preview table's cap, as the hosted server's (no per-cell truncation below it).
pub(crate) const MAX_ROW_PREVIEW_CHARS: usize = 66_000;
/// Repositories inspected concurrently.
const CONCURRENCY: usize = 4;

#[derive(Debug, Deserialize)]
struct Args {
    repo_ids: Vec<String>,
    #[serde(default)]
    repo_type: Option<RepoType>,
    #[serde(default)]
    operations: Option<Vec<String>>,
    #[serde(default)]
    config: Option<String>,
    #[serde(default)]
    split: Option<String>,
    #[serde(default)]
    offset: Option<f64>,
    #[serde(default)]
    limit: Option<f64>,
}

pub fn definition() -> Value {
    json!({
        "name": NAME,
        "title": "Hub Repository Details",
        "description": "Get details for one or more Hugging Face repos (model, dataset, or space). Auto-detects type \
    unless specified. For datasets, use operations: overview, dataset_structure, dataset_preview. Use dataset_structure first \
    to discover configs, splits, sizes, and schema. Use dataset_preview only when config and split are known, unless the \
    dataset has a single config/split.",
        "inputSchema": {
            "type": "object",
            "properties": {
                "repo_ids": { "type": "array", "items": { "type": "string", "minLength": 1 }, "minItems": 1, "maxItems": 10,
                    "description": "Repo IDs for (models|dataset/space) - usually in author/name format (e.g. openai/gpt-oss-120b)" },
                "repo_type": { "type": "string", "enum": ["model", "dataset", "space"], "description": "Specify lookup type; otherwise auto-detects" },
                "operations": { "type": "array", "items": { "type": "string", "enum": OPERATIONS },
                    "description": "Details to return. Defaults to [\"overview\"]. For datasets, prefer [\"overview\", \"dataset_structure\"] first; then call [\"dataset_preview\"] with config and split." },
                "config": { "type": "string", "description": "Dataset Viewer config. Required for dataset_preview when the dataset has multiple config/split options. Discover via dataset_structure." },
                "split": { "type": "string", "description": "Dataset Viewer split. Required for dataset_preview when the dataset has multiple config/split options. Discover via dataset_structure." },
                "offset": { "type": "integer", "minimum": 0, "description": "Row offset for dataset_preview. Defaults to 0." },
                "limit": { "type": "integer", "description": "Row count for dataset_preview. Defaults to 5 and is clamped to 1-100." }
            },
            "required": ["repo_ids"]
        },
        "outputSchema": output_schema(),
        "annotations": { "title": "Hub Repository Details", "readOnlyHint": true, "destructiveHint": false, "idempotentHint": false, "openWorldHint": true }
    })
}

fn output_schema() -> Value {
    let record = json!({ "type": "object" });
    json!({
        "type": "object",
        "properties": {
            "requested_operations": { "type": "array", "items": { "type": "string", "enum": OPERATIONS } },
            "repositories": { "type": "array", "items": { "type": "object", "properties": {
                "status": { "type": "string", "enum": ["ok", "operation_mismatch", "error"] },
                "repo_id": { "type": "string" },
                "matches": { "type": "array", "items": { "type": "object", "properties": {
                    "repo_type": { "type": "string", "enum": ["model", "dataset", "space"] },
                    "overview": record,
                    "structure": { "type": "object", "properties": {
                        "configs": { "type": "array", "items": record }, "splits": { "type": "array", "items": record },
                        "parquet_files": { "type": "array", "items": record }, "features": { "type": "array", "items": record },
                        "partial": { "type": "boolean" }, "warnings": { "type": "array", "items": { "type": "string" } }
                    } },
                    "preview": { "type": "object", "properties": {
                        "config": { "type": "string" }, "split": { "type": "string" }, "offset": { "type": "integer" },
                        "rows": { "type": "array", "items": { "type": "object", "properties": {
                            "row_index": { "type": "integer" }, "row": record,
                            "truncated_cells": { "type": "array", "items": { "type": "string" } }
                        }, "required": ["row_index", "row", "truncated_cells"] } },
                        "total_rows": { "type": "integer" }, "partial": { "type": "boolean" },
                        "warnings": { "type": "array", "items": { "type": "string" } }
                    } }
                }, "required": ["repo_type"] } },
                "requested_operations": { "type": "array", "items": { "type": "string" } },
                "message": { "type": "string" },
                "error": { "type": "string" },
                "retryable": { "type": "boolean" }
            }, "required": ["status", "repo_id"] } },
            "total_results": { "type": "integer" },
            "results_shared": { "type": "integer" },
            "truncated": { "type": "boolean" }
        },
        "required": ["requested_operations", "repositories", "total_results", "results_shared"]
    })
}

pub fn tool(upstream: HubClient) -> Tool {
    hub_tool(
        definition(),
        upstream,
        |upstream, token, a: Args| async move { run(&upstream, token.as_deref(), a).await },
    )
}

pub(super) struct Request {
    repo_type: Option<RepoType>,
    pub operations: Vec<&'static str>,
    pub config: Option<String>,
    pub split: Option<String>,
    pub offset: u64,
    pub limit: u64,
}

/// One repository's section: Markdown plus its structured record.
pub(super) struct Section {
    pub markdown: String,
    pub record: Value,
    pub ok: bool,
}

async fn run(upstream: &HubClient, token: Option<&str>, a: Args) -> ToolOutput {
    if a.repo_ids.is_empty() || a.repo_ids.len() > 10 {
        return invalid_args(format!("`repo_ids` must contain 1 to 10 ids (got {}).", a.repo_ids.len()));
    }
    if let Some(bad) = a.repo_ids.iter().find(|id| id.trim().is_empty()) {
        return invalid_args(format!("`repo_ids` must not contain empty ids (got \"{bad}\")."));
    }
    let mut operations: Vec<&'static str> = Vec::new();
    for op in a.operations.iter().flatten() {
        match OPERATIONS.iter().find(|o| **o == op.as_str()) {
            Some(o) if !operations.contains(o) => operations.push(o),
            Some(_) => {}
            None => return invalid_args(format!("Unknown operation \"{op}\"; use one of {}.", OPERATIONS.join(", "))),
        }
    }
    if operations.is_empty() {
        operations.push("overview");
    }
    let offset = match a.offset {
        None => 0,
        Some(o) if o < 0.0 || o.fract() != 0.0 => {
            return invalid_args(format!("`offset` must be a non-negative integer (got {o})."))
        }
        Some(o) => o as u64,
    };
    let limit = match a.limit {
        None => DEFAULT_PREVIEW_LIMIT,
        Some(l) if l.fract() != 0.0 => DEFAULT_PREVIEW_LIMIT,
        Some(l) => (l.max(1.0) as u64).min(MAX_PREVIEW_LIMIT),
    };
    let req = Request {
        repo_type: a.repo_type,
        operations,
        config: a.config.filter(|s| !s.is_empty()),
        split: a.split.filter(|s| !s.is_empty()),
        offset,
        limit,
    };
    let ids: Vec<String> = a.repo_ids.iter().map(|s| s.trim().to_owned()).collect();
    let req = &req;
    let futures: Vec<_> = ids.iter().map(|id| Box::pin(inspect(upstream, token, id.as_str(), req))).collect();
    let sections: Vec<Section> = stream::iter(futures).buffered(CONCURRENCY).collect().await;

    let ok = sections.iter().filter(|s| s.ok).count();
    let mut text = String::new();
    let mut truncated = false;
    for (i, s) in sections.iter().enumerate() {
        let sep = if i == 0 { "" } else { "\n\n---\n\n" };
        if text.len() + sep.len() + s.markdown.len() > MAX_CHARS - 300 {
            let room = (MAX_CHARS - 300).saturating_sub(text.len() + sep.len());
            text.push_str(sep);
            text.push_str(crate::tools::format::cut(&s.markdown, room));
            truncated = true;
            break;
        }
        text.push_str(sep);
        text.push_str(&s.markdown);
    }
    if truncated {
        text.push_str(&format!(
            "\n\n⚠️ Output truncated at approximately {} tokens. Request fewer repo_ids or operations, or a \
             lower preview `limit`; structuredContent holds every requested repository.",
            MAX_CHARS / 4
        ));
    }
    let out = json!({
        "requested_operations": req.operations,
        "repositories": sections.iter().map(|s| s.record.clone()).collect::<Vec<_>>(),
        "total_results": ids.len(),
        "results_shared": ok,
        "truncated": truncated,
    });
    if ok == 0 {
        // Every repository failed: report it as a tool error the model can act on.
        return ToolOutput::error(text);
    }
    ToolOutput::structured(text, out)
}

async fn inspect(upstream: &HubClient, token: Option<&str>, id: &str, req: &Request) -> Section {
    let has_dataset_op = req.operations.iter().any(|o| o.starts_with("dataset_"));
    match req.repo_type {
        Some(t @ (RepoType::Model | RepoType::Space)) if has_dataset_op => {
            let requested: Vec<&str> = req.operations.iter().copied().filter(|o| o.starts_with("dataset_")).collect();
            let message = format!(
                "Requested dataset operation(s) `{}`, but this repo was requested as a {}. Dataset Viewer operations \
                 only apply to dataset repos.",
                requested.join(", "),
                t.as_str()
            );
            Section {
                markdown: format!("# {id}\n\n{message}"),
                record: json!({ "status": "operation_mismatch", "repo_id": id, "requested_operations": req.operations, "message": message }),
                ok: false,
            }
        }
        Some(RepoType::Model) => single(id, overview(upstream, token, RepoType::Model, id).await, RepoType::Model),
        Some(RepoType::Space) => single(id, overview(upstream, token, RepoType::Space, id).await, RepoType::Space),
        Some(RepoType::Dataset) => dataset(upstream, token, id, req).await,
        None if has_dataset_op => dataset(upstream, token, id, req).await,
        None => auto_detect(upstream, token, id).await,
    }
}

pub(super) fn error_section(id: &str, err: &HubError, what: &str) -> Section {
    let msg = explain(err, &format!("{what} '{id}'"));
    Section {
        markdown: format!("# {id}\n\n- Error: {msg}"),
        record: json!({ "status": "error", "repo_id": id, "error": msg, "retryable": err.is_retryable() }),
        ok: false,
    }
}

fn single(id: &str, r: Result<(String, Value), HubError>, t: RepoType) -> Section {
    match r {
        Ok((md, ov)) => Section {
            markdown: md,
            record: json!({ "status": "ok", "repo_id": id, "matches": [{ "repo_type": t.as_str(), "overview": ov }] }),
            ok: true,
        },
        Err(e) => error_section(id, &e, t.as_str()),
    }
}

async fn auto_detect(upstream: &HubClient, token: Option<&str>, id: &str) -> Section {
    let (m, d, s) = tokio::join!(
        overview(upstream, token, RepoType::Model, id),
        overview(upstream, token, RepoType::Dataset, id),
        overview(upstream, token, RepoType::Space, id),
    );
    let mut parts = Vec::new();
    let mut matches = Vec::new();
    let mut failure: Option<HubError> = None;
    for (t, r, label) in
        [(RepoType::Model, m, "Model"), (RepoType::Dataset, d, "Dataset"), (RepoType::Space, s, "Space")]
    {
        match r {
            Ok((md, ov)) => {
                let md = if t == RepoType::Dataset { format!("{md}\n\n{}", drill_down_hint()) } else { md };
                parts.push(format!("**Type: {label}**\n\n{md}"));
                matches.push(json!({ "repo_type": t.as_str(), "overview": ov }));
            }
            Err(e) if e.is_not_found() || e.status() == Some(401) => {}
            Err(e) => failure = failure.or(Some(e)),
        }
    }
    if !matches.is_empty() {
        return Section {
            markdown: parts.join("\n\n---\n\n"),
            record: json!({ "status": "ok", "repo_id": id, "matches": matches }),
            ok: true,
        };
    }
    if let Some(e) = failure {
        return error_section(id, &e, "repository");
    }
    let msg = format!(
        "Could not find repo '{id}' as model, dataset, or space. Check the id (owner/name) or search with \
         hub_repo_search; private repositories need a token with access."
    );
    Section {
        markdown: format!("# {id}\n\n- Error: {msg}"),
        record: json!({ "status": "error", "repo_id": id, "error": msg, "retryable": false }),
        ok: false,
    }
}
