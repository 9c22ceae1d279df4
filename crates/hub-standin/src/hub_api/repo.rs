//! Routes under one repository (`/api/{kind}s/{id}/…`): info and revision info (with an `ETag`
//! and `304`), Space runtime and host, and the hand-off to trees; renamed ids redirect.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};

use super::access::{can_see, redirect, repo_not_found, revision_not_found, with_query};
use super::repr::{expand_keys, expand_only, full_repr, project_expand};
use super::tree::tree;
use crate::catalogue::{catalogue, Kind, Repo};
use crate::util::{encode_path, encode_segment, not_found_route, ok_json};
use crate::Ctx;

const REPO_ACTIONS: &[&str] = &["tree", "revision", "runtime", "host", "parquet", "paths-info", "refs", "commits"];

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

pub(super) fn repo_routes(ctx: &Ctx<'_>, kind: Kind, rest: &[String]) -> Response {
    let (id, tail) = split_repo(kind, rest, REPO_ACTIONS);
    // Spaces added at start (`--space`): real apps (e.g. Gradio) behind this stand-in.
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

pub(super) fn repo_info(ctx: &Ctx<'_>, repo: &Repo, rev: Option<&str>) -> Response {
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
