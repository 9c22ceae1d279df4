//! The Hub API proper: repositories, files, users, trending, search, papers, docs, collections.

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::{json, Map, Value};

use crate::catalogue::{anchor_of, catalogue, synthetic_bytes, CollectionRec, DailyRec, Kind, Repo, RepoFile};
use crate::util::{
    bad_request, decode_cursor, decode_segment, encode_cursor, encode_path, encode_segment, hub_error, match_score,
    not_found_route, ok_json, text_response, words,
};
use crate::{Caller, Ctx};

const REPO_ACTIONS: &[&str] = &["tree", "revision", "runtime", "host", "parquet", "paths-info", "refs", "commits"];

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

pub(crate) async fn handle(ctx: &Ctx<'_>) -> Response {
    let mut segs: Vec<String> = ctx.path.split('/').skip(1).map(decode_segment).collect();
    while segs.last().is_some_and(|s| s.is_empty()) && segs.len() > 1 {
        segs.pop();
    }
    match segs.first().map(String::as_str) {
        Some("api") => api(ctx, &segs[1..]),
        Some("docs") => docs_page(ctx, &segs[1..]),
        Some("__cdn") => cdn(ctx, &segs[1..]),
        Some("datasets") => resolve(ctx, Kind::Dataset, &segs[1..]),
        Some("spaces") => resolve(ctx, Kind::Space, &segs[1..]),
        Some("") | None => not_found_route(),
        Some(_) => resolve(ctx, Kind::Model, &segs),
    }
}

fn api(ctx: &Ctx<'_>, segs: &[String]) -> Response {
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    match s.as_slice() {
        ["whoami-v2"] => whoami(ctx),
        ["trending"] => trending(ctx),
        ["spaces", "semantic-search"] => semantic_search(ctx),
        [kind] if Kind::from_plural(kind).is_some() => list_repos(ctx, Kind::from_plural(kind).expect("checked")),
        [kind, rest @ ..] if Kind::from_plural(kind).is_some() && !rest.is_empty() => {
            repo_routes(ctx, Kind::from_plural(kind).expect("checked"), &segs[1..])
        }
        ["papers", "search"] => papers_search(ctx),
        ["papers", id] => paper_detail(id),
        ["daily_papers"] => daily_papers(ctx),
        ["docs", "search"] => docs_search(ctx),
        ["docs", "search", "full-text"] => docs_full_text(ctx),
        ["collections"] => collections_list(ctx),
        ["collections", ns, slug] => collection_detail(ctx, &format!("{ns}/{slug}")),
        _ => not_found_route(),
    }
}

// ---------------------------------------------------------------------------------------------
// Access control
// ---------------------------------------------------------------------------------------------

pub(crate) fn can_see(repo: &Repo, caller: &Caller) -> bool {
    if !repo.private {
        return true;
    }
    match caller.user() {
        Some(u) => u.name == repo.owner || u.orgs.contains(&repo.owner),
        None => false,
    }
}

pub(crate) fn has_gated_access(repo: &Repo, caller: &Caller) -> bool {
    if repo.gated.is_none() {
        return true;
    }
    match caller.user() {
        Some(u) => u.name == repo.owner || u.orgs.contains(&repo.owner) || repo.accepted_by.contains(&u.name),
        None => false,
    }
}

fn repo_not_found(caller: &Caller) -> Response {
    // Like the Hub: anonymous callers get 401 (the repo may exist but be private).
    let status = if caller.is_authenticated() { StatusCode::NOT_FOUND } else { StatusCode::UNAUTHORIZED };
    hub_error(status, Some("RepoNotFound"), "Repository not found")
}

fn gated_error(repo: &Repo, caller: &Caller) -> Response {
    let url = format!("https://huggingface.co/{}{}", repo.kind.url_prefix(), repo.id);
    if caller.is_authenticated() {
        hub_error(
            StatusCode::FORBIDDEN,
            Some("GatedRepo"),
            &format!(
                "Access to {} {} is restricted and you are not in the authorized list. Visit {url} to ask for access.",
                repo.kind.singular(),
                repo.id
            ),
        )
    } else {
        hub_error(
            StatusCode::UNAUTHORIZED,
            Some("GatedRepo"),
            &format!(
                "Access to {} {} is restricted. You must have access to it and be authenticated to access it. Please log in.",
                repo.kind.singular(),
                repo.id
            ),
        )
    }
}

fn revision_not_found(rev: &str) -> Response {
    hub_error(StatusCode::NOT_FOUND, Some("RevisionNotFound"), &format!("Invalid rev id: {rev}"))
}

fn entry_not_found() -> Response {
    hub_error(StatusCode::NOT_FOUND, Some("EntryNotFound"), "Entry not found")
}

fn redirect(status: StatusCode, location: &str) -> Response {
    Response::builder()
        .status(status)
        .header(header::LOCATION, location)
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(Body::from(format!("{}. Redirecting to {location}", status.canonical_reason().unwrap_or("Redirect"))))
        .expect("valid response")
}

fn with_query(path: String, ctx: &Ctx<'_>) -> String {
    let q = ctx.query.encode();
    if q.is_empty() {
        path
    } else {
        format!("{path}?{q}")
    }
}

// ---------------------------------------------------------------------------------------------
// Representations
// ---------------------------------------------------------------------------------------------

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
fn full_repr(repo: &Repo, sha: &str, blobs: bool) -> Map<String, Value> {
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

fn expand_only(kind: Kind) -> &'static [&'static str] {
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

fn expand_keys(ctx: &Ctx<'_>, kind: Kind) -> Result<Vec<String>, Response> {
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

fn project_expand(full: &Map<String, Value>, keys: &[String], list: bool) -> Map<String, Value> {
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

fn list_item(ctx: &Ctx<'_>, repo: &Repo, expand: &[String]) -> Map<String, Value> {
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

// ---------------------------------------------------------------------------------------------
// Listing
// ---------------------------------------------------------------------------------------------

fn sort_value(repo: &Repo, key: &str) -> Value {
    match key {
        "id" => json!(repo.id),
        "likes30d" => repo.info.get("likes").cloned().unwrap_or(Value::Null),
        "usedStorage" | "mainSize" => json!(repo.used_storage()),
        other => repo.info.get(other).cloned().unwrap_or(Value::Null),
    }
}

fn cmp_values(a: &Value, b: &Value) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            x.as_f64().unwrap_or(0.0).partial_cmp(&y.as_f64().unwrap_or(0.0)).unwrap_or(Ordering::Equal)
        }
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Less,
        (_, Value::Null) => Ordering::Greater,
        _ => Ordering::Equal,
    }
}

/// Slice `items` per `limit` + `cursor`, adding a `Link: <...>; rel="next"` header if more remain.
/// The next link carries the request's own `limit`, so a capped page size stays capped.
fn paginate(ctx: &Ctx<'_>, items: Vec<Value>, default_limit: usize, max_limit: usize) -> Response {
    let max_limit = ctx.max_page_size.map_or(max_limit, |cap| cap.clamp(1, max_limit));
    let default_limit = default_limit.min(max_limit);
    let limit = match ctx.query.usize("limit") {
        Ok(Some(0)) => return bad_request("\"limit\" must be greater than or equal to 1"),
        Ok(Some(n)) => n.min(max_limit),
        Ok(None) => default_limit,
        Err(e) => return bad_request(&e),
    };
    let offset = match ctx.query.get("cursor") {
        None => 0,
        Some(c) => match decode_cursor(c) {
            Some(o) => o,
            None => return bad_request("Invalid cursor"),
        },
    };
    let total = items.len();
    let page: Vec<Value> = items.into_iter().skip(offset).take(limit).collect();
    let mut resp = ok_json(&Value::Array(page));
    if offset + limit < total {
        let next = format!(
            "<{}{}?{}>; rel=\"next\"",
            ctx.origin,
            ctx.path,
            ctx.query.with("cursor", &encode_cursor(offset + limit))
        );
        if let Ok(v) = HeaderValue::from_str(&next) {
            resp.headers_mut().insert(header::LINK, v);
        }
    }
    resp
}

fn list_repos(ctx: &Ctx<'_>, kind: Kind) -> Response {
    let cat = catalogue();
    let expand = match expand_keys(ctx, kind) {
        Ok(k) => k,
        Err(r) => return r,
    };
    if !expand.is_empty() && ctx.query.flag("full") {
        return bad_request("\"expand\" cannot be combined with \"full\"");
    }
    let searches: Vec<String> = ctx.query.all("search", false).into_iter().map(|s| s.to_lowercase()).collect();
    let author = ctx.query.get_ne("author").map(str::to_lowercase);
    let mut filters = ctx.query.all("filter", true);
    for key in ["pipeline_tag", "library", "language", "sdk"] {
        filters.extend(ctx.query.all(key, true));
    }
    let gated = ctx.query.get_ne("gated").map(|g| g == "true" || g == "1");
    let uses_model = ctx.query.get_ne("models");
    let uses_dataset = ctx.query.get_ne("datasets");

    let mut repos: Vec<&Repo> = cat
        .repos(kind)
        .repos
        .iter()
        .filter(|r| can_see(r, &ctx.caller))
        .filter(|r| searches.iter().all(|s| r.id.to_lowercase().contains(s)))
        .filter(|r| author.as_ref().is_none_or(|a| r.owner.to_lowercase() == *a))
        .filter(|r| {
            let tags = r.tags();
            filters.iter().all(|f| {
                tags.contains(&f.as_str())
                    || tags.iter().any(|t| t.split_once(':').is_some_and(|(_, v)| v == f))
                    || r.str("pipeline_tag") == Some(f)
                    || r.str("library_name") == Some(f)
                    || r.str("sdk") == Some(f)
            })
        })
        .filter(|r| gated.is_none_or(|g| r.gated.is_some() == g))
        .filter(|r| {
            let has = |key: &str, want: Option<&str>| {
                want.is_none_or(|w| {
                    r.info.get(key).and_then(Value::as_array).is_some_and(|a| a.iter().any(|v| v.as_str() == Some(w)))
                })
            };
            kind != Kind::Space || (has("models", uses_model) && has("datasets", uses_dataset))
        })
        .collect();

    let sort = ctx.query.get_ne("sort").unwrap_or("trendingScore");
    const SORTS: &[&str] = &[
        "trendingScore",
        "downloads",
        "downloadsAllTime",
        "likes",
        "likes30d",
        "createdAt",
        "lastModified",
        "id",
        "usedStorage",
        "mainSize",
    ];
    if !SORTS.contains(&sort) {
        return bad_request(&format!("\"sort\" must be one of [{}]", SORTS.join(", ")));
    }
    let ascending = ctx.query.get("direction") == Some("1");
    repos.sort_by(|a, b| {
        let o = cmp_values(&sort_value(a, sort), &sort_value(b, sort));
        let o = if ascending { o } else { o.reverse() };
        o.then_with(|| a.id.cmp(&b.id))
    });
    let items = repos.into_iter().map(|r| Value::Object(list_item(ctx, r, &expand))).collect();
    paginate(ctx, items, 1000, 1000)
}

// ---------------------------------------------------------------------------------------------
// Repo routes: info, revision info, tree, runtime
// ---------------------------------------------------------------------------------------------

/// Split `rest` (path after `/api/{kind}s/` or after the resolve prefix) into repo id and tail.
fn split_repo<'a>(kind: Kind, rest: &'a [String], actions: &[&str]) -> (String, &'a [String]) {
    let set = catalogue().repos(kind);
    let one_segment = rest.len() < 2
        || (actions.contains(&rest[1].as_str()) && set.aliases.contains_key(&rest[0]))
        || (actions.contains(&rest[1].as_str()) && set.get(&rest[0]).is_some());
    if one_segment {
        (rest[0].clone(), &rest[1..])
    } else {
        (format!("{}/{}", rest[0], rest[1]), &rest[2..])
    }
}

fn repo_routes(ctx: &Ctx<'_>, kind: Kind, rest: &[String]) -> Response {
    let (id, tail) = split_repo(kind, rest, REPO_ACTIONS);
    if let Some(extra) = ctx.extra_spaces.iter().find(|s| kind == Kind::Space && s.id == id) {
        if !extra.visible_to(&ctx.caller) {
            return repo_not_found(&ctx.caller);
        }
        return match tail {
            [] => ok_json(&extra.info()),
            [t] if t == "runtime" => ok_json(&extra.runtime()),
            [t] if t == "host" => ok_json(&json!({ "subdomain": extra.subdomain, "host": extra.info()["host"] })),
            _ => not_found_route(),
        };
    }
    let set = catalogue().repos(kind);
    if let Some(canonical) = set.aliases.get(&id) {
        let mut path = format!("/api/{}/{}", kind.plural(), encode_path(canonical));
        for t in tail {
            path.push('/');
            path.push_str(&encode_segment(t));
        }
        return redirect(StatusCode::TEMPORARY_REDIRECT, &with_query(path, ctx));
    }
    let Some(repo) = set.get(&id).filter(|r| can_see(r, &ctx.caller)) else {
        return repo_not_found(&ctx.caller);
    };
    let t: Vec<&str> = tail.iter().map(String::as_str).collect();
    match t.as_slice() {
        [] => repo_info(ctx, repo, None),
        ["revision", rev] => repo_info(ctx, repo, Some(rev)),
        ["tree", rev, path @ ..] => tree(ctx, repo, rev, &path.join("/")),
        ["runtime"] if kind == Kind::Space => ok_json(repo.info.get("runtime").unwrap_or(&Value::Null)),
        ["host"] if kind == Kind::Space => ok_json(&json!({
            "subdomain": repo.info.get("subdomain"),
            "host": repo.info.get("host"),
        })),
        _ => not_found_route(),
    }
}

fn repo_info(ctx: &Ctx<'_>, repo: &Repo, rev: Option<&str>) -> Response {
    let sha = match rev {
        None => repo.sha.clone(),
        Some(r) => match repo.resolve_revision(r) {
            Some(s) => s,
            None => return revision_not_found(r),
        },
    };
    let expand = match expand_keys(ctx, repo.kind) {
        Ok(k) => k,
        Err(r) => return r,
    };
    let full = full_repr(repo, &sha, ctx.query.flag("blobs"));
    let body = if expand.is_empty() {
        let skip = expand_only(repo.kind);
        full.into_iter().filter(|(k, _)| !skip.contains(&k.as_str())).collect()
    } else {
        project_expand(&full, &expand, false)
    };
    // A validator over the whole representation, for conditional requests.
    let body = Value::Object(body);
    let etag = format!("W/\"{}\"", &crate::catalogue::hex_sha256(&[body.to_string().as_bytes()])[..16]);
    let matches = ctx
        .headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut resp = if matches {
        Response::builder().status(StatusCode::NOT_MODIFIED).body(axum::body::Body::empty()).expect("valid response")
    } else {
        ok_json(&body)
    };
    if let Ok(v) = HeaderValue::from_str(&etag) {
        resp.headers_mut().insert(header::ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(&sha) {
        resp.headers_mut().insert("x-repo-commit", v);
    }
    resp
}

fn tree_entry(repo: &Repo, file: Option<&RepoFile>, dir: Option<&str>, expand: bool) -> Value {
    let mut m = Map::new();
    match (file, dir) {
        (Some(f), _) => {
            m.insert("type".into(), json!("file"));
            m.insert("oid".into(), json!(f.oid));
            m.insert("size".into(), json!(f.size));
            m.insert("path".into(), json!(f.path));
            if let Some(lfs) = &f.lfs {
                m.insert("lfs".into(), json!({"oid": lfs.sha256, "size": lfs.size, "pointerSize": lfs.pointer_size}));
            }
            if let Some(x) = &f.xet_hash {
                m.insert("xetHash".into(), json!(x));
            }
            if expand {
                m.insert("lastCommit".into(), f.last_commit.clone());
                m.insert(
                    "securityFileStatus".into(),
                    json!({"status": "safe", "jFrogScan": {"status": "safe"}, "protectAiScan": {"status": "safe"}, "avScan": {"status": "safe"}, "pickleImportScan": {"status": "unscanned"}}),
                );
            }
        }
        (None, Some(d)) => {
            m.insert("type".into(), json!("directory"));
            m.insert(
                "oid".into(),
                json!(&crate::catalogue::hex_sha256(&[b"tree:", repo.id.as_bytes(), d.as_bytes()])[..40]),
            );
            m.insert("size".into(), json!(0));
            m.insert("path".into(), json!(d));
            if expand {
                m.insert(
                    "lastCommit".into(),
                    json!({"id": repo.sha, "title": "Upload folder using huggingface_hub", "date": repo.info.get("lastModified")}),
                );
            }
        }
        _ => {}
    }
    Value::Object(m)
}

fn tree(ctx: &Ctx<'_>, repo: &Repo, rev: &str, path: &str) -> Response {
    if repo.resolve_revision(rev).is_none() {
        return revision_not_found(rev);
    }
    let path = path.trim_matches('/');
    if !path.is_empty() && !repo.is_dir(path) {
        return entry_not_found();
    }
    let recursive = ctx.query.flag("recursive");
    let expand = ctx.query.flag("expand");
    let prefix = if path.is_empty() { String::new() } else { format!("{path}/") };
    let mut dirs: Vec<String> = Vec::new();
    let mut entries: Vec<(String, Value)> = Vec::new();
    for f in &repo.files {
        let Some(rel) = f.path.strip_prefix(&prefix) else {
            continue;
        };
        let parts: Vec<&str> = rel.split('/').collect();
        // Directories on the way to this file.
        let dir_levels = if recursive { parts.len() - 1 } else { parts.len().min(2) - 1 };
        for i in 0..dir_levels {
            let d = format!("{prefix}{}", parts[..=i].join("/"));
            if !dirs.contains(&d) {
                dirs.push(d);
            }
        }
        if recursive || parts.len() == 1 {
            entries.push((f.path.clone(), tree_entry(repo, Some(f), None, expand)));
        }
    }
    for d in &dirs {
        entries.push((d.clone(), tree_entry(repo, None, Some(d), expand)));
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let items = entries.into_iter().map(|(_, v)| v).collect();
    let default_limit = if expand { 50 } else { 1000 };
    paginate(ctx, items, default_limit, 1000)
}

// ---------------------------------------------------------------------------------------------
// File downloads
// ---------------------------------------------------------------------------------------------

fn resolve(ctx: &Ctx<'_>, kind: Kind, segs: &[String]) -> Response {
    let (id, tail) = if segs.len() >= 3 && segs[1] == "resolve" {
        (segs[0].clone(), &segs[2..])
    } else if segs.len() >= 4 && segs[2] == "resolve" {
        (format!("{}/{}", segs[0], segs[1]), &segs[3..])
    } else {
        return not_found_route();
    };
    let set = catalogue().repos(kind);
    let rev = &tail[0];
    let file_path = tail[1..].join("/");
    if let Some(canonical) = set.aliases.get(&id) {
        let path = format!(
            "/{}{}/resolve/{}/{}",
            kind.url_prefix(),
            encode_path(canonical),
            encode_segment(rev),
            encode_path(&file_path)
        );
        return redirect(StatusCode::TEMPORARY_REDIRECT, &with_query(path, ctx));
    }
    let Some(repo) = set.get(&id).filter(|r| can_see(r, &ctx.caller)) else {
        return repo_not_found(&ctx.caller);
    };
    if !has_gated_access(repo, &ctx.caller) {
        return gated_error(repo, &ctx.caller);
    }
    let Some(sha) = repo.resolve_revision(rev) else {
        return revision_not_found(rev);
    };
    let Some(file) = repo.file(&file_path) else {
        return entry_not_found();
    };
    if let Some(lfs) = &file.lfs {
        let location = format!("{}/__cdn/{}", ctx.origin, lfs.sha256);
        let mut resp = redirect(StatusCode::FOUND, &location);
        let h = resp.headers_mut();
        for (k, v) in [
            ("x-repo-commit", sha.clone()),
            ("x-linked-size", lfs.size.to_string()),
            ("x-linked-etag", format!("\"{}\"", lfs.sha256)),
            ("etag", format!("\"{}\"", file.oid)),
        ] {
            if let Ok(v) = HeaderValue::from_str(&v) {
                h.insert(k, v);
            }
        }
        return resp;
    }
    serve_file(ctx, file, Some(&sha), &format!("\"{}\"", file.oid))
}

fn cdn(ctx: &Ctx<'_>, segs: &[String]) -> Response {
    let cat = catalogue();
    let Some((kind, id, path)) = segs.first().and_then(|s| cat.lfs_index.get(s)) else {
        return text_response(StatusCode::NOT_FOUND, "text/plain", "Not Found".into());
    };
    let Some(file) = cat.repos(*kind).get(id).and_then(|r| r.file(path)) else {
        return text_response(StatusCode::NOT_FOUND, "text/plain", "Not Found".into());
    };
    let etag = format!("\"{}\"", file.lfs.as_ref().map(|l| l.sha256.as_str()).unwrap_or(""));
    serve_file(ctx, file, None, &etag)
}

fn content_type_of(path: &str) -> &'static str {
    let ext = path.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "json" => "application/json; charset=utf-8",
        "md" => "text/markdown; charset=utf-8",
        "txt" | "py" | "csv" | "jsonl" | "yaml" | "yml" | "toml" | "gitattributes" => "text/plain; charset=utf-8",
        "html" => "text/html; charset=utf-8",
        "png" => "image/png",
        _ => {
            if path.ends_with("LICENSE") || path.ends_with("Dockerfile") {
                "text/plain; charset=utf-8"
            } else {
                "application/octet-stream"
            }
        }
    }
}

/// Parse a single `Range: bytes=...` against `size`. `Ok(None)` = no (usable) range header.
fn parse_range(header: Option<&str>, size: u64) -> Result<Option<(u64, u64)>, ()> {
    let Some(h) = header else { return Ok(None) };
    let Some(spec) = h.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let (a, b) = spec.split_once('-').ok_or(())?;
    let (start, end) = match (a.trim(), b.trim()) {
        ("", "") => return Err(()),
        ("", n) => {
            let n: u64 = n.parse().map_err(|_| ())?;
            if n == 0 {
                return Err(());
            }
            (size.saturating_sub(n), size.saturating_sub(1))
        }
        (s, "") => (s.parse().map_err(|_| ())?, size.saturating_sub(1)),
        (s, e) => {
            let s: u64 = s.parse().map_err(|_| ())?;
            let e: u64 = e.parse().map_err(|_| ())?;
            if e < s {
                return Err(());
            }
            (s, e.min(size.saturating_sub(1)))
        }
    };
    if size == 0 || start >= size {
        return Err(());
    }
    Ok(Some((start, end)))
}

fn serve_file(ctx: &Ctx<'_>, file: &RepoFile, commit: Option<&str>, etag: &str) -> Response {
    let size = file.size;
    let range_header = ctx.headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    let range = match parse_range(range_header, size) {
        Ok(r) => r,
        Err(()) => {
            return Response::builder()
                .status(StatusCode::RANGE_NOT_SATISFIABLE)
                .header(header::CONTENT_RANGE, format!("bytes */{size}"))
                .body(Body::empty())
                .expect("valid response");
        }
    };
    let (status, start, end) = match range {
        Some((s, e)) => (StatusCode::PARTIAL_CONTENT, s, e),
        None => (StatusCode::OK, 0, size.saturating_sub(1)),
    };
    let len = if size == 0 { 0 } else { end - start + 1 };
    let mut b = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, content_type_of(&file.path))
        .header(header::CONTENT_LENGTH, len)
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::ETAG, etag);
    if let Some(c) = commit {
        b = b.header("x-repo-commit", c);
    }
    if status == StatusCode::PARTIAL_CONTENT {
        b = b.header(header::CONTENT_RANGE, format!("bytes {start}-{end}/{size}"));
    }
    let body = match &file.content {
        Some(c) => Body::from(c.as_bytes()[start as usize..(start + len) as usize].to_vec()),
        None => {
            let file = file.clone();
            const CHUNK: u64 = 64 * 1024;
            let stream = futures_util::stream::unfold(start, move |pos| {
                let file = file.clone();
                async move {
                    if pos >= start + len {
                        return None;
                    }
                    let n = CHUNK.min(start + len - pos);
                    let bytes = synthetic_bytes(&file, pos, n as usize);
                    Some((Ok::<_, std::io::Error>(bytes::Bytes::from(bytes)), pos + n))
                }
            });
            Body::from_stream(stream)
        }
    };
    b.body(body).expect("valid response")
}

// ---------------------------------------------------------------------------------------------
// whoami, trending, semantic search
// ---------------------------------------------------------------------------------------------

fn whoami(ctx: &Ctx<'_>) -> Response {
    match ctx.caller {
        Caller::User(u, t) => {
            let mut body = u.whoami.clone();
            body.insert("auth".into(), t.auth.clone());
            ok_json(&Value::Object(body))
        }
        _ => hub_error(StatusCode::UNAUTHORIZED, None, "Invalid username or password."),
    }
}

fn card_str<'a>(repo: &'a Repo, key: &str) -> Option<&'a Value> {
    repo.info.get("cardData").and_then(|c| c.get(key))
}

fn space_runtime_stage(repo: &Repo) -> &str {
    repo.info.get("runtime").and_then(|r| r.get("stage")).and_then(Value::as_str).unwrap_or("NO_APP_FILE")
}

fn trending(ctx: &Ctx<'_>) -> Response {
    let kinds: Vec<Kind> = match ctx.query.get_ne("type") {
        None | Some("all") => vec![Kind::Model, Kind::Dataset, Kind::Space],
        Some(t) => match Kind::from_singular(t) {
            Some(k) => vec![k],
            None => return bad_request("\"type\" must be one of [all, model, dataset, space]"),
        },
    };
    let limit = match ctx.query.usize("limit") {
        Ok(l) => l.unwrap_or(10).clamp(1, 100),
        Err(e) => return bad_request(&e),
    };
    let cat = catalogue();
    let mut repos: Vec<&Repo> = kinds.iter().flat_map(|k| cat.repos(*k).repos.iter()).filter(|r| !r.private).collect();
    repos.sort_by(|a, b| b.num("trendingScore").cmp(&a.num("trendingScore")).then_with(|| a.id.cmp(&b.id)));
    let items: Vec<Value> = repos
        .into_iter()
        .take(limit)
        .map(|r| {
            let mut d = Map::new();
            d.insert("author".into(), json!(r.owner));
            if let Some(a) = r.semantic.get("authorData") {
                d.insert("authorData".into(), a.clone());
            }
            if r.kind != Kind::Space {
                d.insert("downloads".into(), json!(r.num("downloads")));
            }
            d.insert("gated".into(), r.info.get("gated").cloned().unwrap_or(json!(false)));
            d.insert("id".into(), json!(r.id));
            d.insert("lastModified".into(), r.info.get("lastModified").cloned().unwrap_or(Value::Null));
            d.insert("likes".into(), json!(r.num("likes")));
            if let Some(p) = r.info.get("pipeline_tag") {
                d.insert("pipeline_tag".into(), p.clone());
            }
            d.insert("private".into(), json!(false));
            d.insert("repoType".into(), json!(r.kind.singular()));
            d.insert("isLikedByUser".into(), json!(false));
            d.insert("trendingScore".into(), json!(r.num("trendingScore")));
            d.insert("tags".into(), r.info.get("tags").cloned().unwrap_or(json!([])));
            if r.kind == Kind::Dataset {
                if let Some(desc) = r.info.get("description") {
                    d.insert("description".into(), desc.clone());
                }
            }
            if r.kind == Kind::Space {
                for (k, ck) in [
                    ("title", "title"),
                    ("emoji", "emoji"),
                    ("colorFrom", "colorFrom"),
                    ("colorTo", "colorTo"),
                    ("shortDescription", "short_description"),
                ] {
                    if let Some(v) = card_str(r, ck) {
                        d.insert(k.into(), v.clone());
                    }
                }
                d.insert("sdk".into(), r.info.get("sdk").cloned().unwrap_or(Value::Null));
                d.insert("createdAt".into(), r.info.get("createdAt").cloned().unwrap_or(Value::Null));
                if let Some(rt) = r.info.get("runtime") {
                    d.insert("runtime".into(), json!({"stage": rt.get("stage"), "hardware": rt.get("hardware")}));
                }
                for k in ["ai_short_description", "ai_category"] {
                    if let Some(v) = r.semantic.get(k) {
                        d.insert(k.into(), v.clone());
                    }
                }
            }
            json!({"repoData": Value::Object(d), "repoType": r.kind.singular()})
        })
        .collect();
    ok_json(&json!({ "recentlyTrending": items }))
}

fn semantic_search(ctx: &Ctx<'_>) -> Response {
    let Some(q) = ctx.query.get_ne("q") else {
        return bad_request("\"q\" is required");
    };
    let qw = words(q);
    let include_non_running = ctx.query.flag("includeNonRunning");
    let sdk = ctx.query.get_ne("sdk");
    let filters = ctx.query.all("filter", true);
    let limit = match ctx.query.usize("limit") {
        Ok(l) => l.unwrap_or(10).clamp(1, 50),
        Err(e) => return bad_request(&e),
    };
    let mut hits: Vec<(f64, &Repo)> = catalogue()
        .spaces
        .repos
        .iter()
        .filter(|r| !r.private)
        .filter(|r| include_non_running || space_runtime_stage(r).starts_with("RUNNING"))
        .filter(|r| sdk.is_none_or(|s| r.str("sdk") == Some(s)))
        .filter(|r| {
            let tags = r.tags();
            filters.iter().all(|f| tags.contains(&f.as_str()))
        })
        .filter_map(|r| {
            let hay = format!(
                "{} {} {} {} {} {}",
                r.id,
                card_str(r, "title").and_then(Value::as_str).unwrap_or(""),
                card_str(r, "short_description").and_then(Value::as_str).unwrap_or(""),
                r.semantic.get("ai_short_description").and_then(Value::as_str).unwrap_or(""),
                r.semantic.get("ai_category").and_then(Value::as_str).unwrap_or(""),
                r.tags().join(" ")
            );
            let score = match_score(&qw, &hay);
            (score > 0.0).then_some((score, r))
        })
        .collect();
    hits.sort_by(|a, b| {
        b.0.partial_cmp(&a.0).unwrap_or(std::cmp::Ordering::Equal).then_with(|| b.1.num("likes").cmp(&a.1.num("likes")))
    });
    let items: Vec<Value> = hits
        .into_iter()
        .take(limit)
        .enumerate()
        .map(|(rank, (score, r))| {
            let mut d = Map::new();
            d.insert("author".into(), json!(r.owner));
            if let Some(a) = r.semantic.get("authorData") {
                d.insert("authorData".into(), a.clone());
            }
            for (k, ck) in [("colorFrom", "colorFrom"), ("colorTo", "colorTo")] {
                if let Some(v) = card_str(r, ck) {
                    d.insert(k.into(), v.clone());
                }
            }
            d.insert("createdAt".into(), r.info.get("createdAt").cloned().unwrap_or(Value::Null));
            if let Some(v) = card_str(r, "emoji") {
                d.insert("emoji".into(), v.clone());
            }
            d.insert("id".into(), json!(r.id));
            d.insert("lastModified".into(), r.info.get("lastModified").cloned().unwrap_or(Value::Null));
            d.insert("likes".into(), json!(r.num("likes")));
            d.insert("pinned".into(), card_str(r, "pinned").cloned().unwrap_or(json!(false)));
            d.insert("private".into(), json!(false));
            d.insert("sdk".into(), r.info.get("sdk").cloned().unwrap_or(Value::Null));
            d.insert("repoType".into(), json!("space"));
            if let Some(rt) = r.info.get("runtime") {
                d.insert("runtime".into(), rt.clone());
            }
            if let Some(v) = card_str(r, "short_description") {
                d.insert("shortDescription".into(), v.clone());
            }
            if let Some(v) = card_str(r, "title") {
                d.insert("title".into(), v.clone());
            }
            d.insert("isLikedByUser".into(), json!(false));
            if let Some(o) = r.semantic.get("originSpace") {
                d.insert("originSpace".into(), o.clone());
            }
            for k in ["ai_short_description", "ai_category"] {
                if let Some(v) = r.semantic.get(k) {
                    d.insert(k.into(), v.clone());
                }
            }
            d.insert("trendingScore".into(), json!(r.num("trendingScore")));
            d.insert("tags".into(), r.info.get("tags").cloned().unwrap_or(json!([])));
            // Deterministic, strictly decreasing relevancy in (0.5, 0.95].
            let rel = 0.55 + 0.4 * score - 0.001 * rank as f64;
            d.insert("semanticRelevancyScore".into(), json!(rel));
            Value::Object(d)
        })
        .collect();
    ok_json(&Value::Array(items))
}

// ---------------------------------------------------------------------------------------------
// Papers
// ---------------------------------------------------------------------------------------------

fn highlight(text: &str, qw: &[String]) -> Value {
    let lower = text.to_ascii_lowercase();
    let mut marks = vec![false; text.len()];
    for w in qw {
        let w = w.to_ascii_lowercase();
        if w.is_empty() {
            continue;
        }
        for (i, _) in lower.match_indices(&w) {
            for m in marks.iter_mut().skip(i).take(w.len()) {
                *m = true;
            }
        }
    }
    let mut segs: Vec<Value> = Vec::new();
    let mut cur = String::new();
    let mut cur_mark = None;
    for (i, c) in text.char_indices() {
        let m = marks[i];
        if cur_mark.is_some_and(|cm| cm != m) {
            segs.push(json!({"type": if cur_mark == Some(true) {"highlight"} else {"text"}, "text": cur}));
            cur = String::new();
        }
        cur_mark = Some(m);
        cur.push(c);
    }
    if !cur.is_empty() {
        segs.push(json!({"type": if cur_mark == Some(true) {"highlight"} else {"text"}, "text": cur}));
    }
    Value::Array(segs)
}

fn thumbnail(id: &str) -> String {
    format!("https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/{id}.png")
}

fn papers_search(ctx: &Ctx<'_>) -> Response {
    let Some(q) = ctx.query.get_ne("q") else {
        return bad_request("\"q\" is required");
    };
    let limit = match ctx.query.usize("limit") {
        Ok(l) => l.unwrap_or(50).clamp(1, 120),
        Err(e) => return bad_request(&e),
    };
    let qw = words(q);
    let cat = catalogue();
    let mut hits: Vec<(f64, &Map<String, Value>)> = cat
        .papers
        .iter()
        .filter_map(|p| {
            let id = p.get("id").and_then(Value::as_str).unwrap_or("");
            if id == q.trim() {
                return Some((2.0, p));
            }
            let authors = p
                .get("authors")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(|x| x.get("name").and_then(Value::as_str)).collect::<Vec<_>>().join(" "))
                .unwrap_or_default();
            let hay = format!(
                "{} {} {} {} {}",
                id,
                p.get("title").and_then(Value::as_str).unwrap_or(""),
                p.get("summary").and_then(Value::as_str).unwrap_or(""),
                p.get("ai_keywords").map(|k| k.to_string()).unwrap_or_default(),
                authors
            );
            let s = match_score(&qw, &hay);
            (s > 0.0).then_some((s, p))
        })
        .collect();
    hits.sort_by(|a, b| {
        b.0.partial_cmp(&a.0)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| b.1.get("upvotes").and_then(Value::as_i64).cmp(&a.1.get("upvotes").and_then(Value::as_i64)))
    });
    let items: Vec<Value> = hits
        .into_iter()
        .take(limit)
        .map(|(_, p)| {
            let id = p.get("id").and_then(Value::as_str).unwrap_or("");
            let mut paper = Map::new();
            for k in [
                "id",
                "authors",
                "publishedAt",
                "title",
                "summary",
                "upvotes",
                "discussionId",
                "ai_summary",
                "ai_keywords",
                "githubRepo",
            ] {
                if let Some(v) = p.get(k) {
                    paper.insert(k.into(), v.clone());
                }
            }
            let daily = cat.daily.iter().find(|d| d.paper == id);
            let title = p.get("title").and_then(Value::as_str).unwrap_or("");
            let summary = p.get("summary").and_then(Value::as_str).unwrap_or("");
            json!({
                "paper": Value::Object(paper),
                "publishedAt": daily.map(|d| json!(d.published_at)).unwrap_or_else(|| p.get("publishedAt").cloned().unwrap_or(Value::Null)),
                "title": title,
                "summary": summary,
                "thumbnail": thumbnail(id),
                "numComments": daily.map(|d| d.num_comments).unwrap_or(0),
                "upvoted": false,
                "isAuthorParticipating": false,
                "highlightedTitle": highlight(title, &qw),
                "highlightedSummary": highlight(summary, &qw),
            })
        })
        .collect();
    ok_json(&Value::Array(items))
}

fn paper_detail(id: &str) -> Response {
    match catalogue().paper(id) {
        Some(p) => ok_json(&Value::Object(p.clone())),
        None => hub_error(StatusCode::NOT_FOUND, None, "Paper not found"),
    }
}

/// Days since 1970-01-01 for a civil date (proleptic Gregorian).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// ISO week string `YYYY-Www` of an ISO date string.
fn iso_week(date: &str) -> Option<String> {
    let y: i64 = date.get(0..4)?.parse().ok()?;
    let m: i64 = date.get(5..7)?.parse().ok()?;
    let d: i64 = date.get(8..10)?.parse().ok()?;
    let days = days_from_civil(y, m, d);
    let weekday = (days + 3).rem_euclid(7) + 1; // 1 = Monday
    let thursday = days - weekday + 4;
    // Year of that Thursday.
    let mut ty = y;
    if thursday < days_from_civil(y, 1, 1) {
        ty = y - 1;
    } else if thursday >= days_from_civil(y + 1, 1, 1) {
        ty = y + 1;
    }
    let week = (thursday - days_from_civil(ty, 1, 1)) / 7 + 1;
    Some(format!("{ty}-W{week:02}"))
}

fn daily_item(d: &DailyRec) -> Option<Value> {
    let p = catalogue().paper(&d.paper)?;
    let mut item = Map::new();
    item.insert("paper".into(), Value::Object(p.clone()));
    item.insert("publishedAt".into(), json!(d.published_at));
    item.insert("title".into(), p.get("title").cloned().unwrap_or(Value::Null));
    item.insert("summary".into(), p.get("summary").cloned().unwrap_or(Value::Null));
    item.insert("thumbnail".into(), json!(thumbnail(&d.paper)));
    item.insert("numComments".into(), json!(d.num_comments));
    if let Some(s) = p.get("submittedOnDailyBy") {
        item.insert("submittedBy".into(), s.clone());
    }
    if let Some(o) = p.get("organization") {
        item.insert("organization".into(), o.clone());
    }
    item.insert("isAuthorParticipating".into(), json!(false));
    Some(Value::Object(item))
}

fn daily_papers(ctx: &Ctx<'_>) -> Response {
    let cat = catalogue();
    let page = match ctx.query.usize("p") {
        Ok(p) => p.unwrap_or(0),
        Err(e) => return bad_request(&e),
    };
    let limit = match ctx.query.usize("limit") {
        Ok(l) => l.unwrap_or(50).clamp(1, 100),
        Err(e) => return bad_request(&e),
    };
    let date = ctx.query.get_ne("date");
    let week = ctx.query.get_ne("week");
    let month = ctx.query.get_ne("month");
    let submitter = ctx.query.get_ne("submitter");
    let mut recs: Vec<&DailyRec> = cat
        .daily
        .iter()
        .filter(|d| date.is_none_or(|x| d.published_at.starts_with(x)))
        .filter(|d| month.is_none_or(|x| d.published_at.starts_with(x)))
        .filter(|d| week.is_none_or(|w| iso_week(&d.published_at).as_deref() == Some(w)))
        .filter(|d| {
            submitter.is_none_or(|s| {
                cat.paper(&d.paper)
                    .and_then(|p| p.get("submittedOnDailyBy"))
                    .and_then(|u| u.get("user"))
                    .and_then(Value::as_str)
                    == Some(s)
            })
        })
        .collect();
    match ctx.query.get_ne("sort").unwrap_or("publishedAt") {
        "publishedAt" => recs.sort_by(|a, b| b.published_at.cmp(&a.published_at)),
        "trending" => recs.sort_by(|a, b| {
            let up =
                |d: &DailyRec| cat.paper(&d.paper).and_then(|p| p.get("upvotes")).and_then(Value::as_i64).unwrap_or(0);
            up(b).cmp(&up(a))
        }),
        other => return bad_request(&format!("\"sort\" must be one of [publishedAt, trending], got \"{other}\"")),
    }
    let total = recs.len();
    let items: Vec<Value> = recs.into_iter().skip(page * limit).take(limit).filter_map(daily_item).collect();
    let mut resp = ok_json(&Value::Array(items));
    if (page + 1) * limit < total {
        // Relative link, as modelled by hf-mcp-server's tests of this endpoint.
        let next = format!("<{}?{}>; rel=\"next\"", ctx.path, ctx.query.with("p", &(page + 1).to_string()));
        if let Ok(v) = HeaderValue::from_str(&next) {
            resp.headers_mut().insert(header::LINK, v);
        }
    }
    resp
}

// ---------------------------------------------------------------------------------------------
// Docs
// ---------------------------------------------------------------------------------------------

fn docs_hits(q: &str, product: Option<&str>) -> Vec<(f64, &'static crate::catalogue::DocChunk)> {
    let qw = words(q);
    let mut hits: Vec<_> = catalogue()
        .doc_chunks
        .iter()
        .filter(|c| product.is_none_or(|p| c.product == p))
        .filter_map(|c| {
            let hay = format!("{} {} {}", c.page_title, c.heading.as_deref().unwrap_or(""), c.text);
            let s = match_score(&qw, &hay);
            (s > 0.0).then_some((s, c))
        })
        .collect();
    hits.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap_or(std::cmp::Ordering::Equal));
    hits
}

fn excerpt(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        text.to_string()
    } else {
        let mut s: String = text.chars().take(max_chars).collect();
        s.push('…');
        s
    }
}

fn docs_search(ctx: &Ctx<'_>) -> Response {
    let Some(q) = ctx.query.get_ne("q") else {
        return bad_request("\"q\" is required");
    };
    let limit = match ctx.query.usize("limit") {
        Ok(l) => l.unwrap_or(10).clamp(1, 50),
        Err(e) => return bad_request(&e),
    };
    let product = ctx.query.get_ne("product");
    let items: Vec<Value> = docs_hits(q, product)
        .into_iter()
        .take(limit)
        .map(|(_, c)| {
            let mut m = Map::new();
            m.insert("text".into(), json!(excerpt(&c.text, 400)));
            m.insert("product".into(), json!(c.product));
            m.insert("heading1".into(), json!(c.page_title));
            if let Some(h) = &c.heading {
                m.insert("heading2".into(), json!(h));
            }
            m.insert(
                "source_page_url".into(),
                json!(format!(
                    "https://huggingface.co/docs/{}/{}#{}",
                    c.product,
                    c.page_path,
                    c.anchor.as_deref().unwrap_or("")
                )),
            );
            m.insert("source_page_title".into(), json!(c.page_title));
            Value::Object(m)
        })
        .collect();
    ok_json(&Value::Array(items))
}

fn docs_full_text(ctx: &Ctx<'_>) -> Response {
    let Some(q) = ctx.query.get_ne("q") else {
        return bad_request("\"q\" is required");
    };
    let limit = match ctx.query.usize("limit") {
        Ok(l) => l.unwrap_or(10).clamp(1, 50),
        Err(e) => return bad_request(&e),
    };
    let hits: Vec<Value> = docs_hits(q, ctx.query.get_ne("domain"))
        .into_iter()
        .take(limit)
        .map(|(_, c)| {
            json!({
                "url": format!("/docs/{}/main/en/{}#{}", c.product, c.page_path, c.anchor.as_deref().unwrap_or("")),
                "hierarchy_lvl0": c.product,
                "hierarchy_lvl1": c.page_title,
                "hierarchy_lvl2": c.heading,
                "content": excerpt(&c.text, 300),
            })
        })
        .collect();
    ok_json(&json!({ "hits": hits }))
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Crude Markdown → HTML so that non-markdown clients get a page shaped like the docs site.
fn markdown_to_html(title: &str, md: &str) -> String {
    let mut out = format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{}</title></head><body><nav>Hugging Face docs</nav><main>\n",
        html_escape(title)
    );
    let mut in_code = false;
    for line in md.lines() {
        if line.starts_with("```") {
            out.push_str(if in_code { "</code></pre>\n" } else { "<pre><code>" });
            in_code = !in_code;
            continue;
        }
        if in_code {
            out.push_str(&html_escape(line));
            out.push('\n');
        } else if let Some(h) = line.strip_prefix("## ") {
            out.push_str(&format!("<h2 id=\"{}\">{}</h2>\n", anchor_of(h), html_escape(h)));
        } else if let Some(h) = line.strip_prefix("# ") {
            out.push_str(&format!("<h1>{}</h1>\n", html_escape(h)));
        } else if !line.trim().is_empty() {
            out.push_str(&format!("<p>{}</p>\n", html_escape(line)));
        }
    }
    out.push_str("</main><footer>footer</footer></body></html>\n");
    out
}

fn docs_page(ctx: &Ctx<'_>, segs: &[String]) -> Response {
    let Some(product) = segs.first() else {
        return not_found_route();
    };
    let mut rest: Vec<&str> = segs[1..].iter().map(String::as_str).collect();
    // Versioned URLs: /docs/{product}/{main|vX.Y.Z}/{lang}/{page}
    if rest.len() >= 2
        && (rest[0] == "main" || rest[0].starts_with('v'))
        && rest[1].len() == 2
        && rest[1].chars().all(|c| c.is_ascii_lowercase())
    {
        rest.drain(..2);
    }
    let mut page_path = rest.join("/");
    let mut want_md = ctx
        .headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/markdown") || a.contains("text/plain"));
    if let Some(stripped) = page_path.strip_suffix(".md") {
        page_path = stripped.to_string();
        want_md = true;
    }
    if page_path.is_empty() {
        page_path = "index".into();
    }
    let Some(page) = catalogue().docs.iter().find(|d| d.product == *product && d.path == page_path) else {
        return text_response(StatusCode::NOT_FOUND, "text/plain; charset=utf-8", "Not Found".into());
    };
    if want_md {
        text_response(StatusCode::OK, "text/markdown; charset=utf-8", page.markdown.clone())
    } else {
        text_response(StatusCode::OK, "text/html; charset=utf-8", markdown_to_html(&page.title, &page.markdown))
    }
}

// ---------------------------------------------------------------------------------------------
// Collections
// ---------------------------------------------------------------------------------------------

fn can_see_collection(c: &CollectionRec, caller: &Caller) -> bool {
    !c.private || caller.user().is_some_and(|u| u.name == c.owner || u.orgs.contains(&c.owner))
}

fn collection_item(item: &Map<String, Value>, position: usize, caller: &Caller) -> Option<Value> {
    let cat = catalogue();
    let ty = item.get("type").and_then(Value::as_str)?;
    let id = item.get("id").and_then(Value::as_str)?;
    let mut m = Map::new();
    m.insert("_id".into(), item.get("_id").cloned().unwrap_or(Value::Null));
    m.insert("id".into(), json!(id));
    m.insert("type".into(), json!(ty));
    m.insert("position".into(), json!(position));
    if let Some(n) = item.get("note") {
        m.insert("note".into(), n.clone());
    }
    match ty {
        "paper" => {
            let p = cat.paper(id)?;
            for k in ["title", "publishedAt", "upvotes"] {
                if let Some(v) = p.get(k) {
                    m.insert(k.into(), v.clone());
                }
            }
            m.insert("thumbnailUrl".into(), json!(thumbnail(id)));
        }
        _ => {
            let kind = Kind::from_singular(ty)?;
            let repo = cat.repos(kind).get(id)?;
            if !can_see(repo, caller) {
                return None;
            }
            m.insert("author".into(), json!(repo.owner));
            if let Some(a) = repo.semantic.get("authorData") {
                m.insert("authorData".into(), a.clone());
            }
            if kind != Kind::Space {
                m.insert("downloads".into(), json!(repo.num("downloads")));
            }
            m.insert("gated".into(), repo.info.get("gated").cloned().unwrap_or(json!(false)));
            m.insert("lastModified".into(), repo.info.get("lastModified").cloned().unwrap_or(Value::Null));
            m.insert("likes".into(), json!(repo.num("likes")));
            if let Some(p) = repo.info.get("pipeline_tag") {
                m.insert("pipeline_tag".into(), p.clone());
            }
            m.insert("private".into(), json!(repo.private));
            m.insert("repoType".into(), json!(ty));
            m.insert("isLikedByUser".into(), json!(false));
            if kind == Kind::Space {
                for (k, ck) in
                    [("title", "title"), ("emoji", "emoji"), ("colorFrom", "colorFrom"), ("colorTo", "colorTo")]
                {
                    if let Some(v) = card_str(repo, ck) {
                        m.insert(k.into(), v.clone());
                    }
                }
                m.insert("sdk".into(), repo.info.get("sdk").cloned().unwrap_or(Value::Null));
                m.insert("runtime".into(), json!({"stage": space_runtime_stage(repo)}));
            }
        }
    }
    Some(Value::Object(m))
}

fn render_collection(c: &CollectionRec, caller: &Caller, max_items: Option<usize>) -> Value {
    let cat = catalogue();
    let mut out = Map::new();
    for (k, v) in &c.raw {
        if k == "owner" {
            out.insert(
                "owner".into(),
                cat.collection_owners.get(&c.owner).cloned().unwrap_or_else(|| json!({"name": c.owner})),
            );
            let items: Vec<Value> = c
                .items
                .iter()
                .enumerate()
                .filter_map(|(i, it)| collection_item(it, i, caller))
                .take(max_items.unwrap_or(usize::MAX))
                .collect();
            out.insert("items".into(), Value::Array(items));
        } else {
            out.insert(k.clone(), v.clone());
        }
    }
    out.insert("isUpvotedByUser".into(), json!(false));
    out.insert("shareUrl".into(), json!(format!("https://huggingface.co/collections/{}", c.slug)));
    Value::Object(out)
}

fn collections_list(ctx: &Ctx<'_>) -> Response {
    let cat = catalogue();
    let owner = ctx.query.get_ne("owner");
    let q = ctx.query.get_ne("q").map(str::to_lowercase);
    let items_filter = ctx.query.all("item", false);
    let mut cols: Vec<&CollectionRec> = cat
        .collections
        .iter()
        .filter(|c| can_see_collection(c, &ctx.caller))
        .filter(|c| owner.is_none_or(|o| c.owner == o))
        .filter(|c| {
            q.as_ref().is_none_or(|q| {
                c.raw.get("title").and_then(Value::as_str).is_some_and(|t| t.to_lowercase().contains(q.as_str()))
            })
        })
        .filter(|c| {
            items_filter.iter().all(|want| {
                let (ty, id) = want.split_once('/').unwrap_or(("", want.as_str()));
                let ty = ty.trim_end_matches('s');
                c.items.iter().any(|it| {
                    it.get("type").and_then(Value::as_str) == Some(ty)
                        && it.get("id").and_then(Value::as_str) == Some(id)
                })
            })
        })
        .collect();
    match ctx.query.get_ne("sort").unwrap_or("lastModified") {
        "lastModified" => cols.sort_by(|a, b| {
            b.raw.get("lastUpdated").and_then(Value::as_str).cmp(&a.raw.get("lastUpdated").and_then(Value::as_str))
        }),
        "trending" | "upvotes" => cols.sort_by(|a, b| {
            b.raw.get("upvotes").and_then(Value::as_i64).cmp(&a.raw.get("upvotes").and_then(Value::as_i64))
        }),
        other => {
            return bad_request(&format!("\"sort\" must be one of [lastModified, trending, upvotes], got \"{other}\""))
        }
    }
    let items = cols.into_iter().map(|c| render_collection(c, &ctx.caller, Some(4))).collect();
    paginate(ctx, items, 10, 100)
}

fn collection_detail(ctx: &Ctx<'_>, slug: &str) -> Response {
    match catalogue().collections.iter().find(|c| c.slug == slug && can_see_collection(c, &ctx.caller)) {
        Some(c) => ok_json(&render_collection(c, &ctx.caller, None)),
        None => hub_error(StatusCode::NOT_FOUND, None, "Collection not found"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_weeks() {
        assert_eq!(iso_week("2024-08-01T00:45:31.000Z").as_deref(), Some("2024-W31"));
        assert_eq!(iso_week("2021-01-03").as_deref(), Some("2020-W53"));
        assert_eq!(iso_week("2024-12-30").as_deref(), Some("2025-W01"));
    }

    #[test]
    fn ranges() {
        assert_eq!(parse_range(Some("bytes=0-9"), 100), Ok(Some((0, 9))));
        assert_eq!(parse_range(Some("bytes=90-"), 100), Ok(Some((90, 99))));
        assert_eq!(parse_range(Some("bytes=-10"), 100), Ok(Some((90, 99))));
        assert_eq!(parse_range(Some("bytes=0-1000"), 100), Ok(Some((0, 99))));
        assert_eq!(parse_range(Some("bytes=100-"), 100), Err(()));
        assert_eq!(parse_range(None, 100), Ok(None));
    }

    #[test]
    fn highlights() {
        let h = highlight("KazQAD: Kazakh Open-Domain", &["kazakh".to_string()]);
        assert_eq!(
            h,
            json!([{"type":"text","text":"KazQAD: "},{"type":"highlight","text":"Kazakh"},{"type":"text","text":" Open-Domain"}])
        );
    }
}
