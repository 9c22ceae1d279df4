//! `hub_repo_search`: search models, datasets and Spaces with one shared query; the
//! selected repository types are queried in parallel and reported in the order given.

use futures_util::future::join_all;
use mcp_engine::provider::{Tool, ToolOutput};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::args::invalid_args;
use super::budget::{budget_chars, TOKEN_BUDGET};
use super::explain::explain;
use super::format::{format_date, format_number, num_of, str_of};
use super::shell::hub_tool;
use crate::client::{HubClient, HubError};

pub const NAME: &str = "hub_repo_search";
const TAGS_TO_RETURN: usize = 20;
/// This tool counts 3 characters per token, like the hosted server.
const MAX_CHARS: usize = budget_chars(3);
const SORTS: &[&str] = &["trendingScore", "downloads", "likes", "createdAt", "lastModified"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RepoType {
    Model,
    Dataset,
    Space,
}

impl RepoType {
    pub fn as_str(self) -> &'static str {
        match self {
            RepoType::Model => "model",
            RepoType::Dataset => "dataset",
            RepoType::Space => "space",
        }
    }
    fn label(self) -> &'static str {
        match self {
            RepoType::Model => "Models",
            RepoType::Dataset => "Datasets",
            RepoType::Space => "Spaces",
        }
    }
    pub fn plural(self) -> &'static str {
        match self {
            RepoType::Model => "models",
            RepoType::Dataset => "datasets",
            RepoType::Space => "spaces",
        }
    }
    pub fn client_kind(self) -> crate::client::RepoKind {
        match self {
            RepoType::Model => crate::client::RepoKind::Model,
            RepoType::Dataset => crate::client::RepoKind::Dataset,
            RepoType::Space => crate::client::RepoKind::Space,
        }
    }
    /// `https://hf.co/<prefix><id>`.
    pub fn link(self, id: &str) -> String {
        match self {
            RepoType::Model => format!("https://hf.co/{id}"),
            RepoType::Dataset => format!("https://hf.co/datasets/{id}"),
            RepoType::Space => format!("https://hf.co/spaces/{id}"),
        }
    }
}

#[derive(Debug, Deserialize)]
struct Args {
    #[serde(default)]
    query: Option<String>,
    #[serde(default)]
    repo_types: Option<Vec<RepoType>>,
    #[serde(default)]
    author: Option<String>,
    #[serde(default)]
    filters: Option<Vec<String>>,
    #[serde(default)]
    sort: Option<String>,
    #[serde(default)]
    limit: Option<f64>,
}

pub fn definition() -> Value {
    json!({
        "name": NAME,
        "title": "Repo Search",
        "description": "Search Hugging Face repositories with a shared query interface. You can target models, \
    datasets, spaces, or aggregate across multiple repo types in one call. Include links to repositories in your response.",
        "inputSchema": {
            "type": "object",
            "properties": {
                "query": { "type": "string", "description": "Search term. Leave blank and specify sort + limit to browse trending or recent repositories." },
                "repo_types": {
                    "type": "array", "items": { "type": "string", "enum": ["model", "dataset", "space"] },
                    "minItems": 1, "maxItems": 3, "default": ["model", "dataset"],
                    "description": "Repository types to search. Defaults to [\"model\", \"dataset\"]. space uses keyword search via /api/spaces."
                },
                "author": { "type": "string", "description": "Organization or user namespace to filter by (e.g. 'google', 'meta-llama', 'huggingface')." },
                "filters": { "type": "array", "items": { "type": "string" }, "description": "Optional hub filter tags. Applied to each selected repo type (e.g. [\"text-generation\"], [\"language:en\"], [\"mcp-server\"])." },
                "sort": { "type": "string", "enum": SORTS, "description": "Sort order (descending): trendingScore, downloads, likes, createdAt, lastModified" },
                "limit": { "type": "number", "minimum": 1, "maximum": 100, "default": 20, "description": "Maximum number of results to return per selected repo type" }
            }
        },
        "outputSchema": output_schema(),
        "annotations": { "title": "Repo Search", "readOnlyHint": true, "destructiveHint": false, "idempotentHint": false, "openWorldHint": true }
    })
}

fn output_schema() -> Value {
    let repo = json!({
        "type": "object",
        "properties": {
            "repo_type": { "type": "string", "enum": ["model", "dataset", "space"] },
            "id": { "type": "string" }, "url": { "type": "string" },
            "author": { "anyOf": [{ "type": "string" }, { "type": "null" }] }, "likes": { "type": "number" }, "downloads": { "type": "number" },
            "trending_score": { "type": "number" }, "private": { "type": "boolean" },
            "tags": { "type": "array", "items": { "type": "string" } },
            "created_at": { "type": "string" }, "last_modified": { "anyOf": [{ "type": "string" }, { "type": "null" }] },
            "pipeline_tag": { "type": "string" }, "library_name": { "type": "string" },
            "description": { "type": "string" }, "gated": { "anyOf": [{ "type": "boolean" }, { "type": "string" }] },
            "title": { "anyOf": [{ "type": "string" }, { "type": "null" }] }, "emoji": { "anyOf": [{ "type": "string" }, { "type": "null" }] }, "sdk": { "type": "string" },
            "short_description": { "type": "string" }, "ai_short_description": { "type": "string" },
            "disabled": { "anyOf": [{ "type": "boolean" }, { "type": "null" }] }
        },
        "required": ["repo_type", "id", "url"]
    });
    json!({
        "type": "object",
        "properties": {
            "criteria": { "type": "object", "properties": {
                "query": { "type": "string" }, "author": { "type": "string" },
                "filters": { "type": "array", "items": { "type": "string" } },
                "sort": { "type": "string" },
                "repo_types": { "type": "array", "items": { "type": "string" } },
                "limit_per_type": { "type": "integer" }
            }, "required": ["repo_types", "limit_per_type"] },
            "groups": { "type": "array", "items": { "type": "object", "properties": {
                "repo_type": { "type": "string", "enum": ["model", "dataset", "space"] },
                "total_results": { "type": "integer" },
                "results": { "type": "array", "items": repo },
                "error": { "type": "string" },
                "retryable": { "type": "boolean" }
            }, "required": ["repo_type", "total_results", "results"] } },
            "total_results": { "type": "integer" },
            "results_shared": { "type": "integer" },
            "truncated": { "type": "boolean" },
            "truncation_message": { "type": "string" }
        },
        "required": ["criteria", "groups", "total_results", "results_shared", "truncated"]
    })
}

pub fn tool(upstream: HubClient) -> Tool {
    hub_tool(
        definition(),
        upstream,
        |upstream, token, a: Args| async move { run(&upstream, token.as_deref(), a).await },
    )
}

struct Batch {
    repo_type: RepoType,
    result: Result<Vec<Value>, HubError>,
}

async fn run(upstream: &HubClient, token: Option<&str>, a: Args) -> ToolOutput {
    let limit = match a.limit {
        None => 20,
        Some(l) if l.fract() != 0.0 || !(1.0..=100.0).contains(&l) => {
            return invalid_args(format!("`limit` must be a whole number from 1 to 100 (got {l})."))
        }
        Some(l) => l as usize,
    };
    if let Some(s) = &a.sort {
        if !SORTS.contains(&s.as_str()) {
            return invalid_args(format!("`sort` must be one of {} (got \"{s}\").", SORTS.join(", ")));
        }
    }
    let mut types: Vec<RepoType> = Vec::new();
    match &a.repo_types {
        Some(t) if t.is_empty() || t.len() > 3 => {
            return invalid_args("`repo_types` must list 1 to 3 of \"model\", \"dataset\", \"space\".")
        }
        Some(t) => t.iter().for_each(|r| {
            if !types.contains(r) {
                types.push(*r)
            }
        }),
        None => types = vec![RepoType::Model, RepoType::Dataset],
    }
    let query = a.query.as_deref().map(str::trim).filter(|q| !q.is_empty());
    let author = a.author.as_deref().map(str::trim).filter(|q| !q.is_empty());
    let filters: Vec<&str> = a.filters.iter().flatten().map(|f| f.trim()).filter(|f| !f.is_empty()).collect();
    let mut params: Vec<(&str, String)> = Vec::new();
    if let Some(q) = query {
        params.push(("search", q.to_owned()));
    }
    if let Some(au) = author {
        params.push(("author", au.to_owned()));
    }
    if !filters.is_empty() {
        params.push(("filter", filters.join(",")));
    }
    if let Some(s) = &a.sort {
        params.push(("sort", s.clone()));
        params.push(("direction", "-1".into()));
    }
    params.push(("limit", limit.to_string()));

    let batches: Vec<Batch> = join_all(types.iter().map(|&t| {
        let params = &params;
        async move {
            let path = format!("/api/{}", t.plural());
            let result = upstream.list(token, &path, params, limit).await.map(|l| l.items);
            Batch { repo_type: t, result }
        }
    }))
    .await;

    if batches.iter().all(|b| b.result.is_err()) {
        let err = batches.iter().find_map(|b| b.result.as_ref().err()).expect("at least one type");
        return ToolOutput::error(format!("Failed to search repositories. {}", explain(err, "the repository search")));
    }

    let mut criteria = Map::new();
    if let Some(q) = query {
        criteria.insert("query".into(), q.into());
    }
    if let Some(au) = author {
        criteria.insert("author".into(), au.into());
    }
    if !filters.is_empty() {
        criteria.insert("filters".into(), json!(filters));
    }
    if let Some(s) = &a.sort {
        criteria.insert("sort".into(), s.clone().into());
    }
    criteria.insert("repo_types".into(), json!(types.iter().map(|t| t.as_str()).collect::<Vec<_>>()));
    criteria.insert("limit_per_type".into(), limit.into());

    render(Value::Object(criteria), &batches, query, author, &filters, a.sort.as_deref())
}

fn render(
    criteria: Value,
    batches: &[Batch],
    query: Option<&str>,
    author: Option<&str>,
    filters: &[&str],
    sort: Option<&str>,
) -> ToolOutput {
    let total: usize = batches.iter().map(|b| b.result.as_ref().map_or(0, Vec::len)).sum();
    let mut terms = Vec::new();
    if let Some(q) = query {
        terms.push(format!("query \"{q}\""));
    }
    if let Some(a) = author {
        terms.push(format!("author \"{a}\""));
    }
    if !filters.is_empty() {
        terms.push(format!("filters [{}]", filters.join(", ")));
    }
    if let Some(s) = sort {
        terms.push(format!("sorted by {s} (descending)"));
    }
    let types_text: Vec<String> = batches.iter().map(|b| b.repo_type.label().to_lowercase()).collect();
    let desc = if terms.is_empty() { String::new() } else { format!(" matching {}", terms.join(", ")) };

    let mut text = String::new();
    let mut shared = 0usize;
    let mut truncated = false;
    let mut groups = Vec::new();
    // Room kept for the truncation note.
    let room = MAX_CHARS - 400;
    let push = |text: &mut String, block: &str| -> bool {
        if text.len() + block.len() > room {
            false
        } else {
            text.push_str(block);
            true
        }
    };
    if total == 0 && batches.iter().all(|b| b.result.is_ok()) {
        text.push_str("No repositories found for the given criteria.");
    } else {
        push(&mut text, &format!("Found {total} repositories across {}{desc}.\n\n", types_text.join(", ")));
    }
    for b in batches {
        let mut group = Map::new();
        group.insert("repo_type".into(), b.repo_type.as_str().into());
        let mut results = Vec::new();
        match &b.result {
            Err(e) => {
                group.insert("total_results".into(), 0.into());
                let msg = explain(e, &format!("the {} search", b.repo_type.as_str()));
                if !truncated && total > 0 {
                    truncated |= !push(&mut text, &format!("## {} (unavailable)\n\n{msg}\n\n", b.repo_type.label()));
                }
                group.insert("error".into(), msg.into());
                group.insert("retryable".into(), e.is_retryable().into());
            }
            Ok(items) => {
                group.insert("total_results".into(), items.len().into());
                if total > 0 && !truncated {
                    truncated |= !push(&mut text, &format!("## {} ({})\n\n", b.repo_type.label(), items.len()));
                    if items.is_empty() && !truncated {
                        let block = format!("No {} matched this query.\n\n", b.repo_type.label().to_lowercase());
                        truncated |= !push(&mut text, &block);
                    }
                }
                for item in items {
                    if truncated {
                        break;
                    }
                    let Some(block) = repo_markdown(b.repo_type, item) else { continue };
                    if !push(&mut text, &block) {
                        truncated = true;
                        break;
                    }
                    results.push(repo_record(b.repo_type, item));
                    shared += 1;
                }
            }
        }
        group.insert("results".into(), Value::Array(results));
        groups.push(Value::Object(group));
    }
    let mut out = Map::new();
    out.insert("criteria".into(), criteria);
    out.insert("groups".into(), Value::Array(groups));
    out.insert("total_results".into(), total.into());
    out.insert("results_shared".into(), shared.into());
    out.insert("truncated".into(), truncated.into());
    if truncated {
        let note = format!(
            "⚠️ Results truncated at approximately {TOKEN_BUDGET} tokens ({MAX_CHARS} characters). Included {shared} of \
             {total} repositories. Narrow the query, reduce limit, or filter repo_types to see more."
        );
        text.push('\n');
        text.push_str(&note);
        out.insert("truncation_message".into(), note.into());
    }
    ToolOutput::structured(text.trim_end().to_owned(), Value::Object(out))
}

fn repo_record(t: RepoType, r: &Value) -> Value {
    let id = str_of(r, "id").unwrap_or_default();
    let mut o = Map::new();
    o.insert("repo_type".into(), t.as_str().into());
    o.insert("id".into(), id.into());
    o.insert("url".into(), t.link(id).into());
    let copy = |o: &mut Map<String, Value>, from: &str, to: &str| {
        if let Some(v) = r.get(from).filter(|v| !v.is_null() || to == "author") {
            o.insert(to.into(), v.clone());
        }
    };
    for (from, to) in [
        ("author", "author"),
        ("likes", "likes"),
        ("downloads", "downloads"),
        ("trendingScore", "trending_score"),
        ("private", "private"),
        ("createdAt", "created_at"),
        ("lastModified", "last_modified"),
    ] {
        copy(&mut o, from, to);
    }
    if let Some(tags) = r.get("tags").and_then(Value::as_array) {
        o.insert("tags".into(), Value::Array(tags.iter().take(TAGS_TO_RETURN).cloned().collect()));
    }
    match t {
        RepoType::Model => {
            copy(&mut o, "pipeline_tag", "pipeline_tag");
            copy(&mut o, "library_name", "library_name");
        }
        RepoType::Dataset => {
            copy(&mut o, "description", "description");
            copy(&mut o, "gated", "gated");
        }
        RepoType::Space => {
            for (from, to) in [
                ("title", "title"),
                ("emoji", "emoji"),
                ("sdk", "sdk"),
                ("shortDescription", "short_description"),
                ("ai_short_description", "ai_short_description"),
                ("disabled", "disabled"),
            ] {
                copy(&mut o, from, to);
            }
        }
    }
    Value::Object(o)
}

fn repo_markdown(t: RepoType, r: &Value) -> Option<String> {
    let id = str_of(r, "id")?;
    let mut l: Vec<String> = Vec::new();
    let heading = match (t, str_of(r, "title").map(str::trim).filter(|s| !s.is_empty())) {
        (RepoType::Space, Some(title)) => format!("{title} (`{id}`)"),
        _ => id.to_owned(),
    };
    l.push(format!("### {heading}"));
    l.push(String::new());
    if t == RepoType::Dataset {
        if let Some(d) = str_of(r, "description") {
            let short: String = d.chars().take(200).collect();
            l.push(format!("{short}{}", if d.chars().count() > 200 { "..." } else { "" }));
            l.push(String::new());
        }
    }
    if t == RepoType::Space {
        if let Some(d) = str_of(r, "shortDescription").or_else(|| str_of(r, "ai_short_description")) {
            l.push(d.to_owned());
            l.push(String::new());
        }
    }
    let mut info = Vec::new();
    if let Some(a) = str_of(r, "author") {
        info.push(format!("**Author:** {a}"));
    }
    if t == RepoType::Model {
        if let Some(p) = str_of(r, "pipeline_tag") {
            info.push(format!("**Task:** {p}"));
        }
        if let Some(p) = str_of(r, "library_name") {
            info.push(format!("**Library:** {p}"));
        }
    }
    if t == RepoType::Space {
        if let Some(s) = str_of(r, "sdk") {
            info.push(format!("**SDK:** {s}"));
        }
    }
    if let Some(d) = num_of(r, "downloads") {
        info.push(format!("**Downloads:** {}", format_number(d)));
    }
    if let Some(n) = num_of(r, "likes") {
        info.push(format!("**Likes:** {n}"));
    }
    if let Some(n) = num_of(r, "trendingScore") {
        info.push(format!("**Trending Score:** {n}"));
    }
    if !info.is_empty() {
        l.push(info.join(" | "));
        l.push(String::new());
    }
    if let Some(tags) = r.get("tags").and_then(Value::as_array).filter(|t| !t.is_empty()) {
        let shown: Vec<&str> = tags.iter().filter_map(Value::as_str).take(TAGS_TO_RETURN).collect();
        l.push(format!("**Tags:** {}", shown.join(", ")));
        if tags.len() > TAGS_TO_RETURN {
            l.push(format!("*and {} more...*", tags.len() - TAGS_TO_RETURN));
        }
        l.push(String::new());
    }
    let mut status = Vec::new();
    if r.get("private").and_then(Value::as_bool) == Some(true) {
        status.push("🔐 Private");
    }
    if t == RepoType::Dataset && r.get("gated").is_some_and(|g| g.as_bool() == Some(true) || g.is_string()) {
        status.push("🔒 Gated");
    }
    if t == RepoType::Space && r.get("disabled").and_then(Value::as_bool) == Some(true) {
        status.push("⛔ Disabled");
    }
    if !status.is_empty() {
        l.push(status.join(" | "));
        l.push(String::new());
    }
    let created = str_of(r, "createdAt");
    if let Some(c) = created {
        l.push(format!("**Created:** {}", format_date(c)));
    }
    if let Some(m) = str_of(r, "lastModified").filter(|m| Some(*m) != created) {
        l.push(format!("**Last Modified:** {}", format_date(m)));
    }
    let link = t.link(id);
    l.push(format!("**Link:** [{link}]({link})"));
    l.push(String::new());
    l.push("---".into());
    l.push(String::new());
    Some(l.join("\n") + "\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_is_bounded_with_a_note() {
        let items: Vec<Value> = (0..100)
            .map(|i| {
                json!({ "id": format!("org/dataset-{i}"), "description": "x".repeat(400), "downloads": i,
                        "tags": (0..40).map(|t| format!("tag-{t}-{}", "y".repeat(20))).collect::<Vec<_>>() })
            })
            .collect();
        let batches = vec![
            Batch { repo_type: RepoType::Dataset, result: Ok(items.clone()) },
            Batch { repo_type: RepoType::Model, result: Ok(items) },
        ];
        let ToolOutput::Result(out) = render(json!({}), &batches, Some("q"), None, &[], None) else { panic!() };
        let text = out["content"][0]["text"].as_str().unwrap();
        assert!(text.len() <= MAX_CHARS, "{}", text.len());
        assert!(text.contains("Results truncated at approximately 12500 tokens"));
        let s = &out["structuredContent"];
        assert_eq!(s["truncated"], true);
        assert_eq!(s["total_results"], 200);
        let shared = s["results_shared"].as_u64().unwrap();
        assert!(shared > 10 && shared < 200, "{shared}");
        let listed: usize =
            s["groups"].as_array().unwrap().iter().map(|g| g["results"].as_array().unwrap().len()).sum();
        assert_eq!(listed as u64, shared, "structured results match what the text shows");
    }
}
