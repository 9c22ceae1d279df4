//! Repository overviews for `hub_repo_details`: one `GET /api/{type}s/{id}` with the fields
//! each type needs, rendered as Markdown plus a structured record.

use serde_json::{json, Map, Value};

use crate::client::{enc_path, HubClient, HubError, Service};
use crate::tools::format::{format_date, format_number, num_of, str_of, str_or_list};
use crate::tools::repo_search::RepoType;

const SPACES_TO_INCLUDE: usize = 12;

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

pub(super) async fn overview(
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
        l.push(crate::tools::format::ellipsize(d, 2_000));
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

pub(super) fn drill_down_hint() -> &'static str {
    "## Available deeper inspections\nCall `hub_repo_details` with:\n- `operations: [\"dataset_structure\"]` for \
configs, splits, sizes, parquet exports, and schema.\n- `operations: [\"dataset_preview\"]` with `config` and `split` \
for sample rows."
}
