//! `hub_repo_details`: details of 1–10 repositories (type auto-detected unless given),
//! with dataset structure and row previews from the datasets-server.

use futures_util::stream::{self, StreamExt};
use mcp_engine::provider::{Tool, ToolOutput};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::args::invalid_args;
use super::budget::{budget_chars, TOKEN_BUDGET};
use super::explain::explain;
use super::format::{escape_md, format_bytes, format_date, format_number, num_of, str_of, str_or_list};
use super::repo_search::RepoType;
use super::shell::hub_tool;
use crate::client::{enc_path, HubClient, HubError, Service};

pub const NAME: &str = "hub_repo_details";
const OPERATIONS: &[&str] = &["overview", "dataset_structure", "dataset_preview"];
const SPACES_TO_INCLUDE: usize = 12;
const DEFAULT_PREVIEW_LIMIT: u64 = 5;
const MAX_PREVIEW_LIMIT: u64 = 100;
const MAX_TABLE_COLUMNS: usize = 30;
const MAX_CELL_CHARS: usize = 500;
const MAX_CHARS: usize = budget_chars(3);
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

struct Request {
    repo_type: Option<RepoType>,
    operations: Vec<&'static str>,
    config: Option<String>,
    split: Option<String>,
    offset: u64,
    limit: u64,
}

/// One repository's section: Markdown plus its structured record.
struct Section {
    markdown: String,
    record: Value,
    ok: bool,
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
            text.push_str(super::format::cut(&s.markdown, room));
            truncated = true;
            break;
        }
        text.push_str(sep);
        text.push_str(&s.markdown);
    }
    if truncated {
        text.push_str(&format!(
            "\n\n⚠️ Output truncated at approximately {TOKEN_BUDGET} tokens. Request fewer repo_ids or operations, or a \
             lower preview `limit`; structuredContent holds every requested repository."
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

fn error_section(id: &str, err: &HubError, what: &str) -> Section {
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

fn expand_params(t: RepoType) -> Vec<(&'static str, String)> {
    let keys: &[&str] = match t {
        RepoType::Model => &[
            "pipeline_tag",
            "private",
            "gated",
            "downloads",
            "likes",
            "lastModified",
            "author",
            "downloadsAllTime",
            "library_name",
            "tags",
            "config",
            "transformersInfo",
            "safetensors",
            "cardData",
            "spaces",
            "inferenceProviderMapping",
            "createdAt",
        ],
        RepoType::Dataset => &[
            "private",
            "downloads",
            "gated",
            "likes",
            "lastModified",
            "author",
            "downloadsAllTime",
            "tags",
            "description",
            "cardData",
            "createdAt",
            "sha",
        ],
        RepoType::Space => {
            &["sdk", "likes", "private", "lastModified", "author", "tags", "runtime", "subdomain", "sha"]
        }
    };
    keys.iter().map(|k| ("expand[]", (*k).to_owned())).collect()
}

async fn info(upstream: &HubClient, token: Option<&str>, t: RepoType, id: &str) -> Result<Value, HubError> {
    let path = format!("/api/{}/{}", t.plural(), enc_path(id));
    upstream.get_json(token, Service::Hub, &path, &expand_params(t)).await
}

async fn overview(
    upstream: &HubClient,
    token: Option<&str>,
    t: RepoType,
    id: &str,
) -> Result<(String, Value), HubError> {
    let v = info(upstream, token, t, id).await?;
    Ok(match t {
        RepoType::Model => model_overview(&v, id),
        RepoType::Dataset => dataset_overview(&v, id),
        RepoType::Space => space_overview(&v, id),
    })
}

fn gated_of(v: &Value) -> Value {
    match v.get("gated") {
        Some(Value::String(s)) => Value::String(s.clone()),
        _ => Value::Bool(false),
    }
}

/// The downloads/likes, updated and status lines of a model or dataset overview.
fn push_stats(v: &Value, l: &mut Vec<String>) {
    let mut stats = Vec::new();
    if let Some(d) = num_of(v, "downloadsAllTime").or_else(|| num_of(v, "downloads")).filter(|d| *d > 0.0) {
        stats.push(format!("**Downloads:** {}", format_number(d)));
    }
    if let Some(n) = num_of(v, "likes").filter(|n| *n > 0.0) {
        stats.push(format!("**Likes:** {n}"));
    }
    if !stats.is_empty() {
        l.push(format!("- {}", stats.join(" | ")));
    }
    l.push(format!("- **Updated:** {}", format_date(str_of(v, "lastModified").unwrap_or(""))));
    if let Some(s) = status_line(v) {
        l.push(s);
    }
    l.push(String::new());
}

fn status_line(v: &Value) -> Option<String> {
    let mut s = Vec::new();
    if v.get("gated").is_some_and(|g| g.is_string() || g.as_bool() == Some(true)) {
        s.push("🔒 Gated");
    }
    if v.get("private").and_then(Value::as_bool) == Some(true) {
        s.push("🔐 Private");
    }
    (!s.is_empty()).then(|| format!("- **Status:** {}", s.join(" | ")))
}

/// What model and dataset overviews share: the repo's name, author, card data, and the
/// structured overview with `id`, `url`, `author`, the copied `fields` (info key → output
/// key, nulls skipped) and `gated`.
struct OverviewBase<'a> {
    name: &'a str,
    author: Option<String>,
    card: Value,
    ov: Map<String, Value>,
}

fn overview_base<'a>(v: &'a Value, requested: &'a str, kind: RepoType, fields: &[(&str, &str)]) -> OverviewBase<'a> {
    let name = str_of(v, "id").unwrap_or(requested);
    let author = str_of(v, "author").map(str::to_owned).or_else(|| name.split_once('/').map(|(a, _)| a.to_owned()));
    let card = v.get("cardData").cloned().unwrap_or(Value::Null);
    let mut ov = Map::new();
    ov.insert("id".into(), name.into());
    ov.insert("url".into(), kind.link(name).into());
    if let Some(a) = &author {
        ov.insert("author".into(), a.clone().into());
    }
    for &(from, to) in fields {
        if let Some(x) = v.get(from).filter(|x| !x.is_null()) {
            ov.insert(to.into(), x.clone());
        }
    }
    ov.insert("gated".into(), gated_of(v));
    OverviewBase { name, author, card, ov }
}

fn model_overview(v: &Value, requested: &str) -> (String, Value) {
    let OverviewBase { name, author, card, mut ov } = overview_base(
        v,
        requested,
        RepoType::Model,
        &[
            ("pipeline_tag", "pipeline_tag"),
            ("library_name", "library_name"),
            ("downloads", "downloads"),
            ("downloadsAllTime", "downloads_all_time"),
            ("likes", "likes"),
            ("private", "private"),
            ("lastModified", "last_modified"),
            ("createdAt", "created_at"),
            ("tags", "tags"),
        ],
    );

    let mut l = vec![format!("# {name}"), String::new(), "## Overview".into()];
    if let Some(a) = &author {
        l.push(format!("- **Author:** {a}"));
    }
    if let Some(p) = str_of(v, "pipeline_tag") {
        l.push(format!("- **Task:** {p}"));
    }
    if let Some(p) = str_of(v, "library_name") {
        l.push(format!("- **Library:** {p}"));
    }
    push_stats(v, &mut l);

    let mut tech = Map::new();
    let mut tl = Vec::new();
    if let Some(c) = v.pointer("/transformersInfo/auto_model").and_then(Value::as_str) {
        tl.push(format!("- **Model Class:** {c}"));
        tech.insert("model_class".into(), c.into());
    }
    if let Some(p) = v.pointer("/safetensors/total").and_then(Value::as_f64) {
        tl.push(format!("- **Parameters:** {}", format_number(p)));
        tech.insert("parameters".into(), json!(p));
    }
    if let Some(m) = v.pointer("/config/model_type").and_then(Value::as_str) {
        tl.push(format!("- **Architecture:** {m}"));
        tech.insert("model_type".into(), m.into());
    }
    if let Some(vs) = v.pointer("/config/vocab_size").and_then(Value::as_f64) {
        tl.push(format!("- **Vocab Size:** {}", format_number(vs)));
        tech.insert("vocab_size".into(), json!(vs));
    }
    if !tl.is_empty() {
        l.push("## Technical Details".into());
        l.extend(tl);
        l.push(String::new());
        ov.insert("technical".into(), Value::Object(tech));
    }
    if let Some(tags) = v.get("tags").and_then(Value::as_array).filter(|t| !t.is_empty()) {
        l.push("## Tags".into());
        l.push(tags.iter().filter_map(Value::as_str).map(|t| format!("`{t}`")).collect::<Vec<_>>().join(" "));
        l.push(String::new());
    }
    let mut meta = Vec::new();
    let mut meta_obj = Map::new();
    for (key, label) in
        [("language", "Language"), ("license", "License"), ("datasets", "Datasets"), ("base_model", "Base model")]
    {
        if let Some(s) = str_or_list(card.get(key)) {
            meta.push(format!("- **{label}:** {s}"));
            meta_obj.insert(key.into(), card[key].clone());
        }
    }
    if !meta.is_empty() {
        l.push("## Metadata".into());
        l.extend(meta);
        l.push(String::new());
        ov.insert("metadata".into(), Value::Object(meta_obj));
    }
    if let Some(spaces) = v.get("spaces").and_then(Value::as_array).filter(|s| !s.is_empty()) {
        l.push("## Demo Spaces".into());
        for s in spaces.iter().filter_map(Value::as_str).take(SPACES_TO_INCLUDE) {
            let title = s.split_once('/').map_or(s, |(_, n)| n);
            l.push(format!("- [{title}](https://hf.co/spaces/{s})"));
        }
        if spaces.len() > SPACES_TO_INCLUDE {
            l.push(format!("- *... and {} more spaces*", spaces.len() - SPACES_TO_INCLUDE));
        }
        l.push(String::new());
        ov.insert("spaces".into(), json!(spaces.iter().take(SPACES_TO_INCLUDE).collect::<Vec<_>>()));
    }
    let providers = providers_of(v.get("inferenceProviderMapping"));
    if !providers.is_empty() {
        l.push("## Inference Providers".into());
        for (p, status) in &providers {
            l.push(match status {
                Some(s) => format!("- **{p}** ({s})"),
                None => format!("- **{p}**"),
            });
        }
        l.push(String::new());
        l.push(format!("Try this model in the [playground](https://hf.co/playground?modelId={name})"));
        l.push(String::new());
        ov.insert(
            "inference_providers".into(),
            json!(providers.iter().map(|(p, s)| json!({ "provider": p, "status": s })).collect::<Vec<_>>()),
        );
    }
    l.push(format!("**Link:** [https://hf.co/{name}](https://hf.co/{name})"));
    (l.join("\n"), Value::Object(ov))
}

/// `inferenceProviderMapping` is an object keyed by provider on info, an array on lists.
fn providers_of(v: Option<&Value>) -> Vec<(String, Option<String>)> {
    match v {
        Some(Value::Object(m)) => {
            m.iter().map(|(k, x)| (k.clone(), x.get("status").and_then(Value::as_str).map(str::to_owned))).collect()
        }
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| {
                Some((str_of(x, "provider")?.to_owned(), x.get("status").and_then(Value::as_str).map(str::to_owned)))
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn dataset_overview(v: &Value, requested: &str) -> (String, Value) {
    let OverviewBase { name, author, card, mut ov } = overview_base(
        v,
        requested,
        RepoType::Dataset,
        &[
            ("description", "description"),
            ("downloads", "downloads"),
            ("downloadsAllTime", "downloads_all_time"),
            ("likes", "likes"),
            ("private", "private"),
            ("lastModified", "last_modified"),
            ("createdAt", "created_at"),
            ("tags", "tags"),
        ],
    );
    let mut l = vec![format!("# {name}"), String::new()];
    if let Some(d) = str_of(v, "description") {
        l.push("## Description".into());
        l.push(super::format::ellipsize(d, 2_000));
        l.push(String::new());
    }
    l.push("## Overview".into());
    if let Some(a) = &author {
        l.push(format!("- **Author:** {a}"));
    }
    push_stats(v, &mut l);
    if let Some(tags) = v.get("tags").and_then(Value::as_array).filter(|t| !t.is_empty()) {
        l.push("## Tags".into());
        l.push(tags.iter().filter_map(Value::as_str).map(|t| format!("`{t}`")).collect::<Vec<_>>().join(" "));
        l.push(String::new());
    }
    let mut meta = Vec::new();
    let mut meta_obj = Map::new();
    for (key, label) in [
        ("language", "Language"),
        ("license", "License"),
        ("task_categories", "Task Categories"),
        ("size_categories", "Size Category"),
    ] {
        if let Some(s) = str_or_list(card.get(key)) {
            meta.push(format!("- **{label}:** {s}"));
            meta_obj.insert(key.into(), card[key].clone());
        }
    }
    if !meta.is_empty() {
        l.push("## Metadata".into());
        l.extend(meta);
        l.push(String::new());
        ov.insert("metadata".into(), Value::Object(meta_obj));
    }
    l.push(format!("**Link:** [https://hf.co/datasets/{name}](https://hf.co/datasets/{name})"));
    (l.join("\n"), Value::Object(ov))
}

fn space_overview(v: &Value, requested: &str) -> (String, Value) {
    let name = str_of(v, "id").unwrap_or(requested);
    let mut ov = Map::new();
    ov.insert("name".into(), name.into());
    ov.insert("url".into(), RepoType::Space.link(name).into());
    for (from, to) in [("author", "author"), ("sdk", "sdk"), ("subdomain", "subdomain"), ("sha", "sha")] {
        if let Some(x) = str_of(v, from) {
            ov.insert(to.into(), x.into());
        }
    }
    ov.insert("likes".into(), json!(num_of(v, "likes").unwrap_or(0.0)));
    ov.insert("updated_at".into(), str_of(v, "lastModified").unwrap_or("").into());
    if let Some(t) = v.get("tags").filter(|t| t.is_array()) {
        ov.insert("tags".into(), t.clone());
    }
    if let Some(r) = v.get("runtime").filter(|r| !r.is_null()) {
        ov.insert("runtime".into(), r.clone());
    }
    let mut l = vec![format!("# {name}"), String::new(), "## Overview".into()];
    if let Some(a) = str_of(v, "author") {
        l.push(format!("- **Author:** {a}"));
    }
    if let Some(s) = str_of(v, "sdk") {
        l.push(format!("- **SDK:** {s}"));
    }
    if let Some(stage) = v.pointer("/runtime/stage").and_then(Value::as_str) {
        l.push(format!("- **Status:** {stage}"));
    }
    l.push(format!("- **Likes:** {}", num_of(v, "likes").unwrap_or(0.0)));
    l.push(format!("- **Updated:** {}", format_date(str_of(v, "lastModified").unwrap_or(""))));
    if let Some(tags) = v.get("tags").and_then(Value::as_array).filter(|t| !t.is_empty()) {
        l.push(format!("- **Tags:** {}", tags.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", ")));
    }
    if v.get("private").and_then(Value::as_bool) == Some(true) {
        l.push("- **Status:** 🔐 Private".into());
    }
    l.push(String::new());
    l.push(format!("**Link:** [https://hf.co/spaces/{name}](https://hf.co/spaces/{name})"));
    (l.join("\n"), Value::Object(ov))
}

fn drill_down_hint() -> &'static str {
    "## Available deeper inspections\nCall `hub_repo_details` with:\n- `operations: [\"dataset_structure\"]` for \
configs, splits, sizes, parquet exports, and schema.\n- `operations: [\"dataset_preview\"]` with `config` and `split` \
for sample rows."
}

// ----- datasets -----------------------------------------------------------------------

async fn dataset(upstream: &HubClient, token: Option<&str>, id: &str, req: &Request) -> Section {
    let mut md = Vec::new();
    let mut m = Map::new();
    m.insert("repo_type".into(), "dataset".into());
    if req.operations.contains(&"overview") {
        match overview(upstream, token, RepoType::Dataset, id).await {
            Ok((text, ov)) => {
                md.push(format!("{text}\n\n{}", drill_down_hint()));
                m.insert("overview".into(), ov);
            }
            Err(e) => return error_section(id, &e, "dataset"),
        }
    }
    if req.operations.contains(&"dataset_structure") {
        let (text, st) = structure(upstream, token, id, req).await;
        md.push(text);
        m.insert("structure".into(), st);
    }
    if req.operations.contains(&"dataset_preview") {
        let (text, pv) = preview(upstream, token, id, req).await;
        md.push(text);
        if let Some(pv) = pv {
            m.insert("preview".into(), pv);
        }
    }
    Section {
        markdown: md.join("\n\n"),
        record: json!({ "status": "ok", "repo_id": id, "matches": [Value::Object(m)] }),
        ok: true,
    }
}

async fn ds(upstream: &HubClient, token: Option<&str>, path: &str, q: &[(&str, String)]) -> Result<Value, String> {
    upstream.get_json(token, Service::DatasetsServer, path, q).await.map_err(|e| ds_warning(&e, path))
}

fn ds_warning(e: &HubError, path: &str) -> String {
    let what = match path {
        "/splits" => "splits",
        "/size" => "size information",
        "/parquet" => "parquet export information",
        _ => "rows",
    };
    let retry = if e.is_retryable() { " A retry may help." } else { "" };
    format!("Could not fetch {what} from Dataset Viewer: {e}.{retry}")
}

fn splits_of(v: &Value) -> Vec<(String, String)> {
    let mut s: Vec<(String, String)> = v
        .get("splits")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter().filter_map(|x| Some((str_of(x, "config")?.to_owned(), str_of(x, "split")?.to_owned()))).collect()
        })
        .unwrap_or_default();
    s.sort();
    s
}

async fn structure(upstream: &HubClient, token: Option<&str>, id: &str, req: &Request) -> (String, Value) {
    let q = [("dataset", id.to_owned())];
    let (splits_r, size_r, parquet_r) = tokio::join!(
        ds(upstream, token, "/splits", &q),
        ds(upstream, token, "/size", &q),
        ds(upstream, token, "/parquet", &q),
    );
    let mut warnings = Vec::new();
    let mut l = vec!["## Dataset Structure".to_owned(), String::new()];
    let splits = match &splits_r {
        Ok(v) => splits_of(v),
        Err(w) => {
            warnings.push(w.clone());
            Vec::new()
        }
    };
    let size = size_r.as_ref().map_err(|w| warnings.push(w.clone())).ok().cloned();
    let parquet = parquet_r.as_ref().map_err(|w| warnings.push(w.clone())).ok().cloned();
    for w in &warnings {
        l.push(format!("> {w}"));
        l.push(String::new());
    }
    let size_splits: Vec<Value> =
        size.as_ref().and_then(|s| s.pointer("/size/splits")).and_then(Value::as_array).cloned().unwrap_or_default();
    let configs: Vec<Value> =
        size.as_ref().and_then(|s| s.pointer("/size/configs")).and_then(Value::as_array).cloned().unwrap_or_default();
    let partial = size.as_ref().and_then(|s| s.get("partial")).and_then(Value::as_bool).unwrap_or(false);
    let mut split_records = Vec::new();
    if !splits.is_empty() || !size_splits.is_empty() {
        l.push("### Configs and Splits".into());
        l.push("| Config | Split | Rows | Estimated Rows | Columns | Parquet Size |".into());
        l.push("|---|---|---:|---:|---:|---:|".into());
        let rows: Vec<(String, String)> = if splits.is_empty() {
            size_splits
                .iter()
                .filter_map(|s| Some((str_of(s, "config")?.to_owned(), str_of(s, "split")?.to_owned())))
                .collect()
        } else {
            splits.clone()
        };
        for (c, s) in &rows {
            let e = size_splits.iter().find(|x| str_of(x, "config") == Some(c) && str_of(x, "split") == Some(s));
            let n = |k: &str| e.and_then(|e| num_of(e, k)).map(format_number).unwrap_or_else(|| "—".into());
            let b =
                e.and_then(|e| num_of(e, "num_bytes_parquet_files")).map(format_bytes).unwrap_or_else(|| "—".into());
            l.push(format!(
                "| {} | {} | {} | {} | {} | {b} |",
                escape_md(c),
                escape_md(s),
                n("num_rows"),
                n("estimated_num_rows"),
                n("num_columns")
            ));
            let mut rec = Map::new();
            rec.insert("config".into(), c.clone().into());
            rec.insert("split".into(), s.clone().into());
            if let Some(e) = e {
                for k in
                    ["num_rows", "estimated_num_rows", "num_columns", "num_bytes_parquet_files", "num_bytes_memory"]
                {
                    if let Some(x) = e.get(k).filter(|x| !x.is_null()) {
                        rec.insert(k.into(), x.clone());
                    }
                }
            }
            split_records.push(Value::Object(rec));
        }
        if let Some(total) = size.as_ref().and_then(|s| s.pointer("/size/dataset")).and_then(|d| num_of(d, "num_rows"))
        {
            l.push(String::new());
            l.push(format!("Total rows: {}.", format_number(total)));
        }
        if partial {
            l.push(String::new());
            l.push(
                "> Size information is partial; estimated rows may be shown where exact counts are unavailable.".into(),
            );
        }
        l.push(String::new());
    }
    let files: Vec<Value> =
        parquet.as_ref().and_then(|p| p.get("parquet_files")).and_then(Value::as_array).cloned().unwrap_or_default();
    if parquet.is_some() {
        l.push("### Parquet Exports".into());
        if files.is_empty() {
            l.push(String::new());
            l.push("> No parquet export files were listed.".into());
        } else {
            let mut groups: Vec<(String, String, usize, f64)> = Vec::new();
            for f in &files {
                let (c, s) =
                    (str_of(f, "config").unwrap_or("").to_owned(), str_of(f, "split").unwrap_or("").to_owned());
                let size = num_of(f, "size").unwrap_or(0.0);
                match groups.iter_mut().find(|g| g.0 == c && g.1 == s) {
                    Some(g) => {
                        g.2 += 1;
                        g.3 += size;
                    }
                    None => groups.push((c, s, 1, size)),
                }
            }
            groups.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
            l.push("| Config | Split | Files | Total Size |".into());
            l.push("|---|---|---:|---:|".into());
            for (c, s, n, size) in &groups {
                l.push(format!("| {} | {} | {n} | {} |", escape_md(c), escape_md(s), format_bytes(*size)));
            }
            if files.len() <= 5 {
                l.push(String::new());
                l.push("Parquet URLs:".into());
                for f in &files {
                    l.push(format!(
                        "- `{}/{}/{}`: {}",
                        str_of(f, "config").unwrap_or(""),
                        str_of(f, "split").unwrap_or(""),
                        str_of(f, "filename").unwrap_or("file"),
                        str_of(f, "url").unwrap_or("")
                    ));
                }
            } else {
                l.push(String::new());
                l.push(format!("Parquet file URLs omitted for brevity ({} files).", files.len()));
            }
        }
        l.push(String::new());
    }
    // Schema from the first row of the requested (or first) config/split.
    let target = match (&req.config, &req.split) {
        (Some(c), Some(s)) => Some((c.clone(), s.clone())),
        _ => splits.first().cloned(),
    };
    let mut features = Vec::new();
    if let Some((c, s)) = &target {
        let q = [
            ("dataset", id.to_owned()),
            ("config", c.clone()),
            ("split", s.clone()),
            ("offset", "0".to_owned()),
            ("length", "1".to_owned()),
        ];
        l.push("### Schema Preview".into());
        l.push(String::new());
        match ds(upstream, token, "/rows", &q).await {
            Ok(rows) => {
                l.push(format!("Using `{c}/{s}`."));
                l.push(String::new());
                features = rows.get("features").and_then(Value::as_array).cloned().unwrap_or_default();
                l.extend(features_table(&features));
            }
            Err(w) => {
                l.push(format!("> {w}"));
                warnings.push(w);
            }
        }
    } else if splits.is_empty() {
        l.push("### Schema Preview".into());
        l.push(String::new());
        l.push("> No config/split target was available for schema preview.".into());
    }
    let st = json!({
        "configs": configs,
        "splits": split_records,
        "parquet_files": files,
        "features": features,
        "partial": partial,
        "warnings": warnings,
    });
    (l.join("\n").trim_end().to_owned(), st)
}

fn features_table(features: &[Value]) -> Vec<String> {
    let mut l = vec!["| # | Column | Type |".to_owned(), "|---:|---|---|".to_owned()];
    for (i, f) in features.iter().enumerate() {
        let ty = f.get("type").map(|t| t.to_string()).unwrap_or_default();
        l.push(format!("| {} | {} | {} |", i + 1, escape_md(str_of(f, "name").unwrap_or("")), escape_md(&ty)));
    }
    if features.is_empty() {
        l.push("| — | — | — |".into());
    }
    l.push(String::new());
    l
}

async fn preview(upstream: &HubClient, token: Option<&str>, id: &str, req: &Request) -> (String, Option<Value>) {
    let head = "## Dataset Preview\n\n".to_owned();
    let splits = match ds(upstream, token, "/splits", &[("dataset", id.to_owned())]).await {
        Ok(v) => splits_of(&v),
        Err(w) => return (format!("{head}- Error: {w}"), None),
    };
    let options = |splits: &[(String, String)]| {
        let mut l = vec!["Available options:".to_owned()];
        l.extend(splits.iter().take(50).map(|(c, s)| format!("- `{c}` / `{s}`")));
        l.join("\n")
    };
    if splits.is_empty() {
        return (format!("{head}No Dataset Viewer config/split options are available for this dataset."), None);
    }
    let (config, split) = match (&req.config, &req.split) {
        (Some(c), Some(s)) => {
            if !splits.iter().any(|(a, b)| a == c && b == s) {
                return (format!("{head}Config/split `{c}` / `{s}` was not found.\n\n{}", options(&splits)), None);
            }
            (c.clone(), s.clone())
        }
        _ if splits.len() == 1 => {
            let (c, s) = splits[0].clone();
            if req.config.as_ref().is_some_and(|x| *x != c) || req.split.as_ref().is_some_and(|x| *x != s) {
                return (
                    format!(
                        "{head}Config/split `{}` / `{}` was not found.\n\n{}",
                        req.config.as_deref().unwrap_or(&c),
                        req.split.as_deref().unwrap_or(&s),
                        options(&splits)
                    ),
                    None,
                );
            }
            (c, s)
        }
        _ => {
            return (
                format!(
                    "{head}`dataset_preview` requires `config` and `split` because this dataset has multiple choices.\n\n{}",
                    options(&splits)
                ),
                None,
            )
        }
    };
    let q = [
        ("dataset", id.to_owned()),
        ("config", config.clone()),
        ("split", split.clone()),
        ("offset", req.offset.to_string()),
        ("length", req.limit.to_string()),
    ];
    let rows = match ds(upstream, token, "/rows", &q).await {
        Ok(r) => r,
        Err(w) => {
            return (
                format!("{head}- Dataset: `{id}`\n- Config: `{config}`\n- Split: `{split}`\n\n> {w}"),
                Some(
                    json!({ "config": config, "split": split, "offset": req.offset, "rows": [], "partial": false, "warnings": [w] }),
                ),
            )
        }
    };
    let features = rows.get("features").and_then(Value::as_array).cloned().unwrap_or_default();
    let row_list = rows.get("rows").and_then(Value::as_array).cloned().unwrap_or_default();
    let total = rows.get("num_rows_total").and_then(Value::as_u64);
    let partial = rows.get("partial").and_then(Value::as_bool).unwrap_or(false);
    let end = if row_list.is_empty() { req.offset } else { req.offset + row_list.len() as u64 - 1 };
    let mut l = vec![
        "## Dataset Preview".to_owned(),
        String::new(),
        format!("- Dataset: `{id}`"),
        format!("- Config: `{config}`"),
        format!("- Split: `{split}`"),
        format!("- Rows: `{}-{end}`", req.offset),
        format!("- Requested limit: `{}`", req.limit),
    ];
    if let Some(t) = total {
        l.push(format!("- Total rows: `{}`", format_number(t as f64)));
    }
    l.push(String::new());
    l.push("### Features".into());
    l.push(String::new());
    l.extend(features_table(&features));
    l.push("### Rows".into());
    l.push(String::new());
    let columns: Vec<String> = features.iter().filter_map(|f| str_of(f, "name").map(str::to_owned)).collect();
    let visible: Vec<&String> = columns.iter().take(MAX_TABLE_COLUMNS).collect();
    let mut records = Vec::new();
    let mut budget_hit = false;
    let mut dv_truncated = false;
    if row_list.is_empty() {
        l.push("No rows returned.".into());
    } else {
        l.push(format!("| # | {} |", visible.iter().map(|c| escape_md(c)).collect::<Vec<_>>().join(" | ")));
        l.push(format!("|---:|{}|", visible.iter().map(|_| "---").collect::<Vec<_>>().join("|")));
        let mut used: usize = l.iter().map(String::len).sum();
        let room = MAX_CHARS - 2_000;
        for r in &row_list {
            let idx = r.get("row_idx").and_then(Value::as_u64).unwrap_or(0);
            let row = r.get("row").cloned().unwrap_or(Value::Null);
            let truncated_cells: Vec<Value> =
                r.get("truncated_cells").and_then(Value::as_array).cloned().unwrap_or_default();
            dv_truncated |= !truncated_cells.is_empty();
            let cells: Vec<String> = visible
                .iter()
                .map(|c| {
                    let v = row.get(c.as_str()).cloned().unwrap_or(Value::Null);
                    let s = match v {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    escape_md(&super::format::ellipsize(&s, MAX_CELL_CHARS))
                })
                .collect();
            let line = format!("| {idx} | {} |", cells.join(" | "));
            if used + line.len() > room {
                budget_hit = true;
                break;
            }
            used += line.len() + 1;
            l.push(line);
            records.push(json!({ "row_index": idx, "row": row, "truncated_cells": truncated_cells }));
        }
        if columns.len() > visible.len() {
            l.push(String::new());
            l.push(format!(
                "Showing first {} columns; omitted {} wider columns.",
                visible.len(),
                columns.len() - visible.len()
            ));
        }
        if budget_hit {
            l.push(String::new());
            l.push(format!(
                "Row preview output was truncated at about {TOKEN_BUDGET} tokens after {} rows. Use a lower `limit`, or a \
                 later `offset` to inspect more.",
                records.len()
            ));
        }
        if dv_truncated {
            l.push(String::new());
            l.push("Dataset Viewer reported truncated cells in the returned rows.".into());
        }
    }
    if partial {
        l.push(String::new());
        l.push("> Row response is partial.".into());
    }
    let mut pv = json!({
        "config": config, "split": split, "offset": req.offset, "rows": records, "partial": partial,
    });
    if let Some(t) = total {
        pv["total_rows"] = t.into();
    }
    if budget_hit {
        pv["warnings"] = json!(["row preview truncated to fit the output budget"]);
    }
    (l.join("\n").trim_end().to_owned(), Some(pv))
}
