//! Creating repositories: `POST /api/repos/create` (`{name, organization, type, visibility |
//! private, sdk}`, 409 when the id is taken) and `POST /api/{kind}s/{id}/duplicate`
//! (`{repository, private | visibility}`: a Space duplication or a repository copy, with the
//! source's files at its head). Answers `{url, name, id}` like the Hub.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use axum::response::Response;
use bytes::Bytes;
use serde_json::{json, Value};

use super::access::{can_see, repo_not_found};
use super::store::{now, StoredFile, WrittenRepo};
use super::write_access::check_write;
use crate::catalogue::{catalogue, Kind};
use crate::util::{bad_request, hub_error, ok_json};
use crate::Ctx;

const SDKS: &[&str] = &["gradio", "docker", "static", "streamlit"];

/// What `.gitattributes` a new repository starts with (the Hub's default LFS patterns, shortened).
const GITATTRIBUTES: &str = "*.bin filter=lfs diff=lfs merge=lfs -text\n*.safetensors filter=lfs diff=lfs merge=lfs -text\n\
*.parquet filter=lfs diff=lfs merge=lfs -text\n*.pt filter=lfs diff=lfs merge=lfs -text\n*.zip filter=lfs diff=lfs merge=lfs -text\n";

fn body_json(ctx: &Ctx<'_>) -> Result<Value, Response> {
    serde_json::from_slice(&ctx.body).map_err(|_| bad_request("Expected a JSON body"))
}

/// `visibility: "private"|"public"` (current clients) or `private: bool` (older ones).
fn private_of(body: &Value) -> Option<bool> {
    match body.get("visibility").and_then(Value::as_str) {
        Some(v) => Some(v == "private"),
        None => body.get("private").and_then(Value::as_bool),
    }
}

fn valid_segment(s: &str) -> bool {
    !s.is_empty() && s.len() <= 96 && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn exists(ctx: &Ctx<'_>, kind: Kind, id: &str) -> bool {
    catalogue().repos(kind).get(id).is_some() || ctx.store.lock().repos.contains_key(&(kind, id.to_owned()))
}

fn repo_url(ctx: &Ctx<'_>, kind: Kind, id: &str) -> String {
    format!("{}/{}{}", ctx.origin, kind.url_prefix(), id)
}

fn conflict(ctx: &Ctx<'_>, kind: Kind, id: &str) -> Response {
    let mut resp = hub_error(StatusCode::CONFLICT, None, &format!("You already created this {} repo", kind.singular()));
    // The Hub's 409 carries the existing repo's url (clients with exist_ok read it).
    let body = json!({ "error": format!("You already created this {} repo", kind.singular()), "url": repo_url(ctx, kind, id) });
    *resp.body_mut() = axum::body::Body::from(body.to_string());
    resp
}

/// `POST /api/repos/create`.
pub(super) fn create(ctx: &Ctx<'_>) -> Result<Response, Response> {
    let body = body_json(ctx)?;
    let name = body.get("name").and_then(Value::as_str).unwrap_or_default();
    let kind = match body.get("type").and_then(Value::as_str) {
        None => Kind::Model,
        Some(t) => Kind::from_singular(t).ok_or_else(|| bad_request(&format!("Invalid repo type: {t}")))?,
    };
    let user = ctx.caller.user().map(|u| u.name.as_str()).unwrap_or_default();
    let namespace = body.get("organization").and_then(Value::as_str).unwrap_or(user).to_owned();
    check_write(&ctx.caller, &namespace, "repo.write")?;
    if !valid_segment(name) || !valid_segment(&namespace) {
        return Err(bad_request("Invalid repo name: use letters, digits, '-', '_' and '.' (at most 96)."));
    }
    let sdk = match (kind, body.get("sdk").and_then(Value::as_str)) {
        (Kind::Space, Some(s)) if SDKS.contains(&s) => Some(s.to_owned()),
        (Kind::Space, Some(s)) => return Err(bad_request(&format!("Invalid sdk '{s}': one of {}", SDKS.join(", ")))),
        (Kind::Space, None) => return Err(bad_request("A Space needs an sdk (gradio, docker, static or streamlit).")),
        _ => None,
    };
    let id = format!("{namespace}/{name}");
    if exists(ctx, kind, &id) {
        return Err(conflict(ctx, kind, &id));
    }
    let mut files = BTreeMap::new();
    let doc = WrittenRepo::commit_doc("", "initial commit");
    files.insert(
        ".gitattributes".to_owned(),
        StoredFile::regular(".gitattributes", Bytes::from_static(GITATTRIBUTES.as_bytes()), &doc),
    );
    if let Some(sdk) = &sdk {
        let readme = format!("---\ntitle: {name}\nsdk: {sdk}\n---\n");
        files.insert("README.md".to_owned(), StoredFile::regular("README.md", Bytes::from(readme), &doc));
    }
    let created = insert(ctx, kind, &id, private_of(&body).unwrap_or(false), sdk, "initial commit", files);
    Ok(ok_json(&json!({ "url": repo_url(ctx, kind, &id), "name": id, "id": created })))
}

/// Store a new repository with one commit on `main`; returns its `_id`.
fn insert(
    ctx: &Ctx<'_>,
    kind: Kind,
    id: &str,
    private: bool,
    sdk: Option<String>,
    title: &str,
    files: BTreeMap<String, StoredFile>,
) -> String {
    let mut repo = WrittenRepo {
        kind,
        id: id.to_owned(),
        private,
        sdk,
        created_at: now(),
        refs: BTreeMap::new(),
        commits: Default::default(),
        pull_requests: 0,
    };
    let sha = repo.commit("main", title, files);
    // The files' `lastCommit` names the commit that made them.
    let doc = WrittenRepo::commit_doc(&sha, title);
    if let Some(c) = repo.commits.get_mut(&sha) {
        c.files.values_mut().for_each(|f| f.meta.last_commit = doc.clone());
    }
    let object_id = crate::catalogue::hex_sha256(&[b"id:", id.as_bytes()])[..24].to_string();
    ctx.store.lock().repos.insert((kind, id.to_owned()), repo);
    object_id
}

/// `POST /api/{kind}s/{source}/duplicate`.
pub(super) fn duplicate(ctx: &Ctx<'_>, kind: Kind, source: &str) -> Result<Response, Response> {
    let body = body_json(ctx)?;
    let target = body.get("repository").and_then(Value::as_str).unwrap_or_default().to_owned();
    let Some((namespace, name)) = target.split_once('/') else {
        return Err(bad_request("repository must be 'owner/name'"));
    };
    if !valid_segment(namespace) || !valid_segment(name) {
        return Err(bad_request("Invalid repository name"));
    }
    check_write(&ctx.caller, namespace, "repo.write")?;
    // The source's head files, visibility and SDK: a fixture repository or a written one.
    let (files, source_private, sdk) = if let Some(r) = catalogue().repos(kind).get(source) {
        if !can_see(r, &ctx.caller) {
            return Err(repo_not_found(&ctx.caller));
        }
        let files = r.files.iter().map(|f| (f.path.clone(), StoredFile { meta: f.clone(), bytes: None })).collect();
        (files, r.private, r.str("sdk").map(str::to_owned))
    } else if let Some(w) = ctx.store.repo(kind, source) {
        if !can_see(&w.view(&w.refs["main"]), &ctx.caller) {
            return Err(repo_not_found(&ctx.caller));
        }
        (w.commits[&w.refs["main"]].files.clone(), w.private, w.sdk.clone())
    } else {
        return Err(repo_not_found(&ctx.caller));
    };
    if exists(ctx, kind, &target) {
        return Err(conflict(ctx, kind, &target));
    }
    let private = private_of(&body).unwrap_or(source_private);
    let title = format!("Duplicate from {source}");
    let created = insert(ctx, kind, &target, private, sdk, &title, files);
    Ok(ok_json(&json!({ "url": repo_url(ctx, kind, &target), "name": target, "id": created })))
}
