//! Storage buckets, in the shapes `huggingface_hub` reads (`BucketInfo`, `BucketFile`,
//! `BucketFolder`):
//!
//! * `POST /api/buckets/{ns}/{name}` (`{private}`) creates (409 when taken), answering `{url, id}`;
//! * `GET /api/buckets/{ns}` lists a namespace (`me` = the caller), `GET /api/buckets/{ns}/{name}`
//!   is one bucket's info, `DELETE` removes it;
//! * `GET /api/buckets/{id}/tree[/{prefix}][?recursive=true]` lists files and directories;
//! * `POST /api/buckets/{id}/paths-info` (`{paths}`) describes files;
//! * `POST /api/buckets/{id}/batch` takes NDJSON `addFile` (by the `xetHash` of a file
//!   uploaded to the stand-in's Xet storage, `xet.rs`) and `deleteFile` lines; lines that cannot
//!   apply are listed in `failed` (`[{path, error}]`, 200 when others applied, 422 when none did);
//! * `GET /api/buckets/{id}/xet-{read|write}-token` hands out Xet access tokens (`xet.rs`);
//! * `GET|HEAD /buckets/{id}/resolve/{path}` serves a file's bytes.
//!
//! Private buckets are visible to their owner and the owner's organization members only.

use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};

use super::store::{now, Bucket};
use super::write_access::{check_write, namespace_of};
use super::written::serve_bytes;
use super::Answer;
use crate::util::{bad_request, hub_error, not_found_route, ok_json};
use crate::{Caller, Ctx};

fn can_see(bucket: &Bucket, caller: &Caller) -> bool {
    !bucket.private
        || caller.user().is_some_and(|u| u.name == bucket.owner() || u.orgs.iter().any(|o| o == bucket.owner()))
}

fn not_found() -> Response {
    hub_error(StatusCode::NOT_FOUND, Some("RepoNotFound"), "Bucket not found")
}

/// The bucket `id`, if the caller may see it.
fn visible(ctx: &Ctx<'_>, id: &str) -> Result<Bucket, Response> {
    ctx.store.lock().buckets.get(id).filter(|b| can_see(b, &ctx.caller)).cloned().ok_or_else(not_found)
}

/// `/api/buckets/…`.
pub(super) fn api(ctx: &Ctx<'_>, s: &[&str]) -> Answer {
    match (ctx.method.clone(), s) {
        (Method::GET, [ns]) => list(ctx, namespace_of(&ctx.caller, ns)),
        (Method::POST, [ns, name]) => create(ctx, namespace_of(&ctx.caller, ns), name),
        (Method::GET, [ns, name]) => Ok(ok_json(&visible(ctx, &format!("{ns}/{name}"))?.info())),
        (Method::DELETE, [ns, name]) => delete(ctx, &format!("{ns}/{name}")),
        (Method::GET, [ns, name, "tree", prefix @ ..]) => tree(ctx, &format!("{ns}/{name}"), &prefix.join("/")),
        (Method::POST, [ns, name, "paths-info"]) => paths_info(ctx, &format!("{ns}/{name}")),
        (Method::POST, [ns, name, "batch"]) => batch(ctx, &format!("{ns}/{name}")),
        (Method::GET, [ns, name, kind @ ("xet-read-token" | "xet-write-token")]) => {
            let id = format!("{ns}/{name}");
            let bucket = visible(ctx, &id)?;
            super::xet::token(ctx, &id, bucket.owner(), *kind == "xet-write-token")
        }
        _ => Ok(not_found_route()),
    }
}

fn list(ctx: &Ctx<'_>, namespace: &str) -> Answer {
    let store = ctx.store.lock();
    let items: Vec<Value> = store
        .buckets
        .values()
        .filter(|b| b.owner() == namespace && can_see(b, &ctx.caller))
        .map(Bucket::info)
        .collect();
    Ok(ok_json(&json!(items)))
}

fn create(ctx: &Ctx<'_>, namespace: &str, name: &str) -> Answer {
    check_write(&ctx.caller, namespace, "repo.write")?;
    let body: Value = serde_json::from_slice(&ctx.body).unwrap_or(json!({}));
    let id = format!("{namespace}/{name}");
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')) {
        return Err(bad_request("Invalid bucket name"));
    }
    let mut store = ctx.store.lock();
    if store.buckets.contains_key(&id) {
        return Err(hub_error(StatusCode::CONFLICT, None, "You already created this bucket"));
    }
    let private = match body.get("visibility").and_then(Value::as_str) {
        Some(v) => v == "private",
        None => body.get("private").and_then(Value::as_bool).unwrap_or(false),
    };
    let at = now();
    let bucket = Bucket { id: id.clone(), private, created_at: at.clone(), updated_at: at, files: Default::default() };
    store.buckets.insert(id.clone(), bucket);
    Ok(ok_json(&json!({ "url": format!("{}/buckets/{id}", ctx.origin), "id": id })))
}

fn delete(ctx: &Ctx<'_>, id: &str) -> Answer {
    let bucket = visible(ctx, id)?;
    check_write(&ctx.caller, bucket.owner(), "repo.write")?;
    ctx.store.lock().buckets.remove(id);
    Ok(ok_json(&json!({})))
}

fn file_entry(path: &str, f: &super::store::BucketFile) -> Value {
    json!({ "type": "file", "path": path, "size": f.bytes.len(), "xetHash": f.xet_hash, "mtime": f.mtime, "uploadedAt": f.mtime })
}

fn tree(ctx: &Ctx<'_>, id: &str, prefix: &str) -> Answer {
    let bucket = visible(ctx, id)?;
    let recursive = ctx.query.flag("recursive");
    let prefix = prefix.trim_matches('/');
    let base = if prefix.is_empty() { String::new() } else { format!("{prefix}/") };
    let mut dirs: Vec<String> = Vec::new();
    let mut out: Vec<(String, Value)> = Vec::new();
    for (path, f) in &bucket.files {
        let Some(rel) = path.strip_prefix(&base) else { continue };
        let parts: Vec<&str> = rel.split('/').collect();
        let levels = if recursive { parts.len() - 1 } else { parts.len().min(2) - 1 };
        for i in 0..levels {
            let d = format!("{base}{}", parts[..=i].join("/"));
            if !dirs.contains(&d) {
                dirs.push(d);
            }
        }
        if recursive || parts.len() == 1 {
            out.push((path.clone(), file_entry(path, f)));
        }
    }
    if out.is_empty() && dirs.is_empty() && !prefix.is_empty() {
        return Err(hub_error(StatusCode::NOT_FOUND, Some("EntryNotFound"), "Entry not found"));
    }
    out.extend(
        dirs.into_iter()
            .map(|d| (d.clone(), json!({ "type": "directory", "path": d, "uploadedAt": bucket.updated_at }))),
    );
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(ok_json(&Value::Array(out.into_iter().map(|(_, v)| v).collect())))
}

fn paths_info(ctx: &Ctx<'_>, id: &str) -> Answer {
    let bucket = visible(ctx, id)?;
    let body: Value = serde_json::from_slice(&ctx.body).map_err(|_| bad_request("Expected a JSON body"))?;
    let paths = body.get("paths").and_then(Value::as_array).ok_or_else(|| bad_request("paths is required"))?;
    let items: Vec<Value> =
        paths.iter().filter_map(Value::as_str).filter_map(|p| bucket.files.get(p).map(|f| file_entry(p, f))).collect();
    Ok(ok_json(&json!(items)))
}

fn batch(ctx: &Ctx<'_>, id: &str) -> Answer {
    let bucket = visible(ctx, id)?;
    check_write(&ctx.caller, bucket.owner(), "repo.write")?;
    let mut ops = Vec::new();
    for line in ctx.body.split(|b| *b == b'\n').filter(|l| !l.iter().all(u8::is_ascii_whitespace)) {
        ops.push(serde_json::from_slice::<Value>(line).map_err(|_| bad_request("Invalid NDJSON line"))?);
    }
    let mut store = ctx.store.lock();
    // Content is addressed by Xet hash: a file registered in the Xet store by a shard upload
    // (or stored there by the stand-in itself). As on the Hub, an operation that cannot apply
    // is listed in `failed` ({path, error}) and the others still apply: a 200 when some
    // failed, a 422 when all did.
    let mut adds = Vec::new();
    let mut failed = Vec::new();
    for op in &ops {
        let path = op.get("path").and_then(Value::as_str).unwrap_or_default().to_owned();
        match op.get("type").and_then(Value::as_str) {
            Some("addFile") | Some("copyFile") => {
                let hash = op.get("xetHash").and_then(Value::as_str).unwrap_or_default();
                match xet_format::MerkleHash::from_hex(hash).ok().and_then(|h| store.xet.rebuild(&h)) {
                    Some(bytes) => adds.push((path, Some((bytes, hash.to_owned())))),
                    None => failed.push(json!({ "path": path, "error": "Unknown xetHash: upload the content first" })),
                }
            }
            Some("deleteFile") => adds.push((path, None)),
            _ => return Err(bad_request("Unknown batch operation")),
        }
    }
    let live = store.buckets.get_mut(id).ok_or_else(not_found)?;
    for (path, bytes) in adds {
        match bytes {
            Some((b, hash)) => live.put(&path, b, hash),
            None => {
                if live.files.remove(&path).is_none() {
                    failed.push(json!({ "path": path, "error": "File not found" }));
                    continue;
                }
                live.updated_at = now();
            }
        }
    }
    if failed.is_empty() {
        Ok(ok_json(&json!({ "success": true })))
    } else if failed.len() == ops.len() {
        Ok(crate::util::json_response(StatusCode::UNPROCESSABLE_ENTITY, &json!({ "failed": failed })))
    } else {
        Ok(ok_json(&json!({ "success": true, "failed": failed })))
    }
}

/// `GET|HEAD /buckets/{ns}/{name}/resolve/{path}`.
pub(super) fn resolve(ctx: &Ctx<'_>, segs: &[String]) -> Response {
    let [ns, name, resolve, path @ ..] = segs else { return not_found_route() };
    if resolve != "resolve" || path.is_empty() {
        return not_found_route();
    }
    let bucket = match visible(ctx, &format!("{ns}/{name}")) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let path = path.join("/");
    match bucket.files.get(&path) {
        Some(f) => {
            let mut resp = serve_bytes(ctx, &path, &f.bytes, None, &format!("\"{}\"", f.xet_hash));
            super::xet::file_headers(&mut resp, ctx, &bucket.id, &f.xet_hash);
            resp
        }
        None => hub_error(StatusCode::NOT_FOUND, Some("EntryNotFound"), "Entry not found"),
    }
}
