//! The Git LFS upload path a commit's `lfsFile` lines rely on:
//!
//! * `POST /{prefix}{id}.git/info/lfs/objects/batch` (`{operation: "upload", objects: [{oid,
//!   size}]}`) → per object an `upload` action (a pre-signed URL: no token is sent to it) and
//!   a `verify` action on the Hub's origin, or no actions when the object is already stored;
//! * `PUT /__lfs/{oid}` stores the bytes (400 unless their sha256 is `oid`);
//! * `POST /__lfs/{oid}/verify` answers 200 once stored.

use axum::http::{Method, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use serde_json::{json, Value};

use super::access::repo_not_found;
use super::write_access::check_write;
use crate::catalogue::{hex_sha256, Kind};
use crate::util::{bad_request, hub_error, json_response, not_found_route, ok_json};
use crate::Ctx;

/// `segs` are the path segments after the kind prefix, ending in `info/lfs/objects/batch`.
pub(super) fn batch(ctx: &Ctx<'_>, kind: Kind, segs: &[String]) -> Option<Response> {
    let [owner, name_git, info, lfs, objects, batch] = segs else { return None };
    if info != "info" || lfs != "lfs" || objects != "objects" || batch != "batch" || ctx.method != Method::POST {
        return None;
    }
    let name = name_git.strip_suffix(".git")?;
    let id = format!("{owner}/{name}");
    let Some(repo) = ctx.store.repo(kind, &id) else { return Some(repo_not_found(&ctx.caller)) };
    if let Err(r) = check_write(&ctx.caller, repo.owner(), "repo.write") {
        return Some(r);
    }
    let Ok(body) = serde_json::from_slice::<Value>(&ctx.body) else {
        return Some(bad_request("Expected a JSON body"));
    };
    // Uploads go to "object storage": another origin (localhost instead of 127.0.0.1, same
    // listener), so a client that sends its token only to the Hub's origin can be checked.
    let storage = ctx.origin.replacen("127.0.0.1", "localhost", 1);
    let stored = ctx.store.lock().lfs.keys().cloned().collect::<std::collections::HashSet<_>>();
    let objects: Vec<Value> = body
        .get("objects")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|o| {
            let oid = o.get("oid").and_then(Value::as_str).unwrap_or_default();
            let size = o.get("size").and_then(Value::as_u64).unwrap_or(0);
            if stored.contains(oid) {
                json!({ "oid": oid, "size": size })
            } else {
                json!({ "oid": oid, "size": size, "authenticated": true, "actions": {
                    "upload": { "href": format!("{storage}/__lfs/{oid}"), "header": {} },
                    "verify": { "href": format!("{}/__lfs/{oid}/verify", ctx.origin), "header": {} }
                } })
            }
        })
        .collect();
    let mut resp = json_response(StatusCode::OK, &json!({ "transfer": "basic", "objects": objects }));
    resp.headers_mut().insert("content-type", "application/vnd.git-lfs+json".parse().expect("valid header"));
    Some(resp)
}

/// `/__lfs/{oid}` (PUT) and `/__lfs/{oid}/verify` (POST).
pub(super) fn object(ctx: &Ctx<'_>, segs: &[String]) -> Response {
    match (ctx.method.clone(), segs) {
        (Method::PUT, [oid]) => {
            if hex_sha256(&[&ctx.body]) != *oid {
                return bad_request("The uploaded content does not match the object id (sha256)");
            }
            ctx.store.lock().lfs.insert(oid.clone(), Bytes::clone(&ctx.body));
            ok_json(&json!({}))
        }
        (Method::POST, [oid, verify]) if verify == "verify" => {
            if ctx.store.lock().lfs.contains_key(oid) {
                ok_json(&json!({}))
            } else {
                hub_error(StatusCode::NOT_FOUND, None, "Object not found")
            }
        }
        _ => not_found_route(),
    }
}
