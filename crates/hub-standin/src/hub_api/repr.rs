//! What a repository looks like in the Hub's responses: the full representation behind info,
//! the `expand[]` projections (and the keys each repo type allows), and the default and `full`
//! shapes of a listing item.

use axum::response::Response;
use serde_json::{json, Map, Value};

use crate::catalogue::{Kind, Repo};
use crate::util::bad_request;
use crate::Ctx;

const MODEL_EXPAND: &[&str] = &[
    "author",
    "baseModels",
    "cardData",
    "childrenModelCount",
    "config",
    "createdAt",
    "disabled",
    "downloads",
    "downloadsAllTime",
    "evalResults",
    "gated",
    "gguf",
    "inference",
    "inferenceProviderMapping",
    "lastModified",
    "library_name",
    "likes",
    "mask_token",
    "model-index",
    "pipeline_tag",
    "private",
    "resourceGroup",
    "safetensors",
    "sha",
    "siblings",
    "spaces",
    "tags",
    "transformersInfo",
    "trendingScore",
    "widgetData",
    "usedStorage",
    "xetEnabled",
];

const DATASET_EXPAND: &[&str] = &[
    "author",
    "cardData",
    "citation",
    "createdAt",
    "disabled",
    "description",
    "downloads",
    "downloadsAllTime",
    "gated",
    "lastModified",
    "likes",
    "paperswithcode_id",
    "private",
    "siblings",
    "sha",
    "tags",
    "trendingScore",
    "usedStorage",
    "resourceGroup",
    "mainSize",
    "xetEnabled",
];

const SPACE_EXPAND: &[&str] = &[
    "author",
    "cardData",
    "createdAt",
    "datasets",
    "disabled",
    "lastModified",
    "likes",
    "models",
    "private",
    "runtime",
    "sdk",
    "siblings",
    "sha",
    "subdomain",
    "tags",
    "trendingScore",
    "usedStorage",
    "resourceGroup",
    "xetEnabled",
];

fn siblings(repo: &Repo, blobs: bool) -> Value {
    Value::Array(
        repo.files
            .iter()
            .map(|f| {
                let mut m = Map::new();
                m.insert("rfilename".into(), json!(f.path));
                if blobs {
                    m.insert("blobId".into(), json!(f.oid));
                    m.insert("size".into(), json!(f.size));
                    if let Some(lfs) = &f.lfs {
                        m.insert(
                            "lfs".into(),
                            json!({"sha256": lfs.sha256, "size": lfs.size, "pointerSize": lfs.pointer_size}),
                        );
                    }
                }
                Value::Object(m)
            })
            .collect(),
    )
}

/// Everything the stand-in knows about a repo (info fields, computed fields, expand-only fields).
pub(super) fn full_repr(repo: &Repo, sha: &str, blobs: bool) -> Map<String, Value> {
    let mut out = Map::new();
    let siblings_before = match repo.kind {
        Kind::Model => "spaces",
        Kind::Dataset | Kind::Space => "createdAt",
    };
    let mut inserted_siblings = false;
    for (k, v) in &repo.info {
        if k == siblings_before && !inserted_siblings {
            out.insert("siblings".into(), siblings(repo, blobs));
            inserted_siblings = true;
        }
        if k == "sha" {
            out.insert(k.clone(), json!(sha));
        } else {
            out.insert(k.clone(), v.clone());
        }
        if k == "likes" && repo.kind == Kind::Model {
            out.insert("modelId".into(), json!(repo.id));
        }
    }
    if !inserted_siblings {
        out.insert("siblings".into(), siblings(repo, blobs));
    }
    out.insert("usedStorage".into(), json!(repo.used_storage()));
    out.insert("xetEnabled".into(), json!(true));
    out
}

pub(super) fn expand_only(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Model => &["trendingScore", "downloadsAllTime", "xetEnabled"],
        Kind::Dataset => &["downloadsAllTime", "mainSize", "xetEnabled"],
        Kind::Space => &["xetEnabled"],
    }
}

fn allowed_expand(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Model => MODEL_EXPAND,
        Kind::Dataset => DATASET_EXPAND,
        Kind::Space => SPACE_EXPAND,
    }
}

pub(super) fn expand_keys(ctx: &Ctx<'_>, kind: Kind) -> Result<Vec<String>, Response> {
    let mut keys = ctx.query.all("expand[]", true);
    keys.extend(ctx.query.all("expand", true));
    let allowed = allowed_expand(kind);
    if let Some(bad) = keys.iter().find(|k| !allowed.contains(&k.as_str())) {
        return Err(bad_request(&format!(
            "\"expand\" contains an invalid value \"{bad}\"; it must be one of [{}]",
            allowed.join(", ")
        )));
    }
    Ok(keys)
}

/// `inferenceProviderMapping` is an object keyed by provider on info, an array on lists.
fn provider_mapping_as_list(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Array(
            m.iter()
                .map(|(provider, entry)| {
                    let mut e = Map::new();
                    e.insert("provider".into(), json!(provider));
                    if let Some(obj) = entry.as_object() {
                        for (k, v) in obj {
                            e.insert(k.clone(), v.clone());
                        }
                    }
                    Value::Object(e)
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

pub(super) fn project_expand(full: &Map<String, Value>, keys: &[String], list: bool) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("_id".into(), full.get("_id").cloned().unwrap_or(Value::Null));
    out.insert("id".into(), full.get("id").cloned().unwrap_or(Value::Null));
    for k in keys {
        if let Some(v) = full.get(k) {
            let v = if list && k == "inferenceProviderMapping" { provider_mapping_as_list(v) } else { v.clone() };
            out.insert(k.clone(), v);
        }
    }
    out
}

/// The short form of a repository that trending and collection items share (the Hub's
/// `repoData`). `id` goes after `gated`; a map that already has an `id` keeps it in its place.
pub(super) fn insert_repo_data(m: &mut Map<String, Value>, repo: &Repo) {
    m.insert("author".into(), json!(repo.owner));
    if let Some(a) = repo.semantic.get("authorData") {
        m.insert("authorData".into(), a.clone());
    }
    if repo.kind != Kind::Space {
        m.insert("downloads".into(), json!(repo.num("downloads")));
    }
    m.insert("gated".into(), repo.info.get("gated").cloned().unwrap_or(json!(false)));
    m.insert("id".into(), json!(repo.id));
    m.insert("lastModified".into(), repo.info.get("lastModified").cloned().unwrap_or(Value::Null));
    m.insert("likes".into(), json!(repo.num("likes")));
    if let Some(p) = repo.info.get("pipeline_tag") {
        m.insert("pipeline_tag".into(), p.clone());
    }
    m.insert("private".into(), json!(repo.private));
    m.insert("repoType".into(), json!(repo.kind.singular()));
    m.insert("isLikedByUser".into(), json!(false));
}

pub(super) fn list_item(ctx: &Ctx<'_>, repo: &Repo, expand: &[String]) -> Map<String, Value> {
    let full = full_repr(repo, &repo.sha, ctx.query.flag("blobs"));
    if !expand.is_empty() {
        return project_expand(&full, expand, true);
    }
    if ctx.query.flag("full") {
        let mut out = Map::new();
        for (k, v) in &full {
            if k == "config" && !ctx.query.flag("config") {
                continue;
            }
            let v = if k == "inferenceProviderMapping" { provider_mapping_as_list(v) } else { v.clone() };
            out.insert(k.clone(), v);
        }
        return out;
    }
    let keys: &[&str] = match repo.kind {
        Kind::Model => &[
            "_id",
            "id",
            "likes",
            "trendingScore",
            "private",
            "downloads",
            "tags",
            "pipeline_tag",
            "library_name",
            "createdAt",
            "modelId",
        ],
        Kind::Dataset => &[
            "_id",
            "id",
            "author",
            "disabled",
            "gated",
            "lastModified",
            "likes",
            "trendingScore",
            "private",
            "sha",
            "description",
            "downloads",
            "tags",
            "createdAt",
        ],
        Kind::Space => &["_id", "id", "likes", "trendingScore", "private", "sdk", "tags", "createdAt"],
    };
    let mut out = Map::new();
    for k in keys {
        if let Some(v) = full.get(*k) {
            out.insert((*k).to_string(), v.clone());
        }
    }
    if repo.kind == Kind::Dataset {
        out.insert("key".into(), json!(""));
    }
    if ctx.query.flag("cardData") {
        if let Some(v) = full.get("cardData") {
            out.insert("cardData".into(), v.clone());
        }
    }
    if ctx.query.flag("config") {
        if let Some(v) = full.get("config") {
            out.insert("config".into(), v.clone());
        }
    }
    out
}
