//! Routes of written repositories (created or duplicated through the API): the write routes
//! (create, duplicate, preupload, commit, branch) and the reads the fixture routes serve for
//! fixture repositories — info, revision info, tree, refs and `/resolve/` — answered from a
//! [`Repo`](crate::catalogue::Repo) view of the requested revision, so their shapes are the
//! fixture routes' own.

use axum::body::Body;
use axum::http::{header, Method, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};

use super::access::{can_see, entry_not_found, repo_not_found, revision_not_found};
use super::files::{content_type_of, parse_range, serve_file};
use super::repo::repo_info;
use super::store::{StoredFile, WrittenRepo};
use super::tree::tree;
use super::write_access::check_write;
use super::{commit, repo_create, Answer};
use crate::catalogue::Kind;
use crate::util::{bad_request, hub_error, not_found_route, ok_json};
use crate::Ctx;

/// `/api/…` routes this module answers; `None` hands the request to the fixture routes.
pub(super) fn api(ctx: &Ctx<'_>, s: &[&str]) -> Option<Answer> {
    let post = ctx.method == Method::POST;
    match s {
        ["repos", "create"] if post => Some(repo_create::create(ctx)),
        // Clients check a README's YAML header before committing it; the stand-in accepts any.
        ["validate-yaml"] if post => Some(Ok(ok_json(&json!({ "errors": [], "warnings": [] })))),
        [kind, owner, name, rest @ ..] if !rest.is_empty() || !post => {
            let kind = Kind::from_plural(kind)?;
            let id = format!("{owner}/{name}");
            if post {
                return match rest {
                    ["duplicate"] => Some(repo_create::duplicate(ctx, kind, &id)),
                    ["preupload", rev] => Some(commit::preupload(ctx, kind, &id, rev)),
                    ["commit", rev] => Some(commit::commit(ctx, kind, &id, rev)),
                    ["branch", branch] => Some(create_branch(ctx, kind, &id, branch)),
                    _ => None,
                };
            }
            let repo = ctx.store.repo(kind, &id)?;
            Some(read(ctx, &repo, rest))
        }
        _ => None,
    }
}

fn visible(ctx: &Ctx<'_>, repo: &WrittenRepo) -> Result<(), Response> {
    if can_see(&repo.view(&repo.refs["main"]), &ctx.caller) {
        Ok(())
    } else {
        Err(repo_not_found(&ctx.caller))
    }
}

fn read(ctx: &Ctx<'_>, repo: &WrittenRepo, rest: &[&str]) -> Answer {
    visible(ctx, repo)?;
    let at = |rev: &str| repo.resolve(rev).map(|sha| repo.view(&sha)).ok_or_else(|| revision_not_found(rev));
    Ok(match rest {
        [] => repo_info(ctx, &at("main")?, None),
        ["revision", rev] => repo_info(ctx, &at(rev)?, Some(rev)),
        ["tree", rev, path @ ..] => tree(ctx, &at(rev)?, rev, &path.join("/")),
        ["refs"] => refs(ctx, repo),
        ["runtime"] if repo.kind == Kind::Space => ok_json(&at("main")?.info["runtime"]),
        _ => not_found_route(),
    })
}

/// `GET …/refs[?include_prs=1]`.
fn refs(ctx: &Ctx<'_>, repo: &WrittenRepo) -> Response {
    let entry = |name: &str, sha: &str, full: String| json!({ "name": name, "ref": full, "targetCommit": sha });
    let branches: Vec<Value> = repo
        .refs
        .iter()
        .filter(|(n, _)| !n.starts_with("refs/"))
        .map(|(n, sha)| entry(n, sha, format!("refs/heads/{n}")))
        .collect();
    let mut out = json!({ "branches": branches, "converts": [], "tags": [] });
    if ctx.query.flag("include_prs") {
        let prs: Vec<Value> = repo
            .refs
            .iter()
            .filter_map(|(n, sha)| n.strip_prefix("refs/pr/").map(|num| entry(num, sha, n.clone())))
            .collect();
        out["pullRequests"] = json!(prs);
    }
    ok_json(&out)
}

/// `POST …/branch/{name}` with an optional `{startingPoint}` (default: `main`'s head).
fn create_branch(ctx: &Ctx<'_>, kind: Kind, id: &str, branch: &str) -> Answer {
    let Some(repo) = ctx.store.repo(kind, id) else {
        return Err(repo_not_found(&ctx.caller));
    };
    visible(ctx, &repo)?;
    check_write(&ctx.caller, repo.owner(), "repo.write")?;
    let body: Value = serde_json::from_slice(&ctx.body).unwrap_or(Value::Null);
    let from = body.get("startingPoint").and_then(Value::as_str).unwrap_or("main");
    let sha = repo.resolve(from).ok_or_else(|| revision_not_found(from))?;
    if branch.starts_with("refs/") || branch.is_empty() {
        return Err(bad_request("Invalid branch name"));
    }
    let mut store = ctx.store.lock();
    let live = store.repos.get_mut(&(kind, id.to_owned())).ok_or_else(|| repo_not_found(&ctx.caller))?;
    if live.refs.contains_key(branch) {
        return Err(hub_error(StatusCode::CONFLICT, None, &format!("Reference {branch} already exists")));
    }
    live.refs.insert(branch.to_owned(), sha);
    Ok(ok_json(&json!({})))
}

/// `GET|HEAD /{prefix}{owner}/{name}/resolve/{rev}/{path}` of a written repository; `None`
/// when the repository is not a written one.
pub(super) fn resolve(ctx: &Ctx<'_>, kind: Kind, segs: &[String]) -> Option<Response> {
    let [owner, name, resolve, rev, path @ ..] = segs else { return None };
    if resolve != "resolve" {
        return None;
    }
    let repo = ctx.store.repo(kind, &format!("{owner}/{name}"))?;
    if let Err(resp) = visible(ctx, &repo) {
        return Some(resp);
    }
    let Some(sha) = repo.resolve(rev) else { return Some(revision_not_found(rev)) };
    let Some(file) = repo.commits[&sha].files.get(&path.join("/")) else { return Some(entry_not_found()) };
    Some(serve(ctx, file, &sha))
}

fn serve(ctx: &Ctx<'_>, file: &StoredFile, sha: &str) -> Response {
    let Some(bytes) = &file.bytes else {
        // A fixture file copied by a duplication: served as the fixture serves it.
        return serve_file(ctx, &file.meta, Some(sha), &format!("\"{}\"", file.meta.oid));
    };
    let etag = match &file.meta.lfs {
        Some(lfs) => format!("\"{}\"", lfs.sha256),
        None => format!("\"{}\"", file.meta.oid),
    };
    serve_bytes(ctx, &file.meta.path, bytes, Some(sha), &etag)
}

/// Bytes with `Range` support, `ETag` and (for repositories) `X-Repo-Commit`.
pub(super) fn serve_bytes(ctx: &Ctx<'_>, path: &str, bytes: &[u8], commit: Option<&str>, etag: &str) -> Response {
    let size = bytes.len() as u64;
    let range = parse_range(ctx.headers.get(header::RANGE).and_then(|v| v.to_str().ok()), size);
    let (status, start, end) = match range {
        Err(()) => {
            return Response::builder()
                .status(StatusCode::RANGE_NOT_SATISFIABLE)
                .header(header::CONTENT_RANGE, format!("bytes */{size}"))
                .body(Body::empty())
                .expect("valid response")
        }
        Ok(Some((s, e))) => (StatusCode::PARTIAL_CONTENT, s as usize, e as usize + 1),
        Ok(None) => (StatusCode::OK, 0, bytes.len()),
    };
    let mut b = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, content_type_of(path))
        .header(header::CONTENT_LENGTH, end - start)
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::ETAG, etag);
    if let Some(c) = commit {
        b = b.header("x-repo-commit", c);
    }
    if status == StatusCode::PARTIAL_CONTENT {
        b = b.header(header::CONTENT_RANGE, format!("bytes {start}-{}/{size}", end - 1));
    }
    let body = if ctx.method == Method::HEAD { Body::empty() } else { Body::from(bytes[start..end].to_vec()) };
    b.body(body).expect("valid response")
}
