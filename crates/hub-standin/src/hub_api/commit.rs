//! The commit API of a written repository:
//!
//! * `POST /api/{kind}s/{id}/preupload/{rev}` — `{files: [{path, size, sample}]}` →
//!   `{files: [{path, uploadMode: regular|lfs, shouldIgnore}], commitOid}`: files above
//!   [`REGULAR_MAX_BYTES`] or matching the repository's LFS patterns must go through LFS.
//! * `POST /api/{kind}s/{id}/commit/{rev}[?create_pr=1]` — an NDJSON body: a `header` line
//!   (`summary`, `description`, `parentCommit`), then `file` (base64 content), `lfsFile` (an
//!   uploaded object), `deletedFile` and `deletedFolder` lines. One commit on the branch, or on
//!   a new `refs/pr/N`; 409 when `parentCommit` is not the branch head; answers
//!   `{commitOid, commitUrl, pullRequestUrl?}`.

use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine as _;
use bytes::Bytes;
use serde_json::{json, Value};

use super::access::{can_see, entry_not_found, repo_not_found, revision_not_found};
use super::store::{StoredFile, WrittenRepo};
use super::write_access::check_write;
use crate::catalogue::Kind;
use crate::util::{bad_request, hub_error, ok_json};
use crate::Ctx;

/// Largest regular (non-LFS) file the commit API takes inline, as the Hub (10 MB).
pub(crate) const REGULAR_MAX_BYTES: u64 = 10 * 1000 * 1000;

/// Extensions the default `.gitattributes` of a new repository sends to LFS.
const LFS_EXTENSIONS: &[&str] = &[".bin", ".safetensors", ".parquet", ".pt", ".zip"];

fn upload_mode(path: &str, size: u64) -> &'static str {
    if size > REGULAR_MAX_BYTES || LFS_EXTENSIONS.iter().any(|e| path.ends_with(e)) {
        "lfs"
    } else {
        "regular"
    }
}

/// The written repository behind a write route, with the caller's write access checked.
fn writable(ctx: &Ctx<'_>, kind: Kind, id: &str) -> Result<WrittenRepo, Response> {
    let Some(repo) = ctx.store.repo(kind, id) else {
        // Fixture repositories are read-only; to a caller they may not even see, 404.
        return Err(match crate::catalogue::catalogue().repos(kind).get(id) {
            Some(r) if can_see(r, &ctx.caller) => {
                check_write(&ctx.caller, &r.owner, "repo.write")?;
                hub_error(StatusCode::FORBIDDEN, None, "This stand-in's fixture repositories are read-only.")
            }
            _ => repo_not_found(&ctx.caller),
        });
    };
    if !can_see(&repo.view(&repo.refs["main"]), &ctx.caller) {
        return Err(repo_not_found(&ctx.caller));
    }
    check_write(&ctx.caller, repo.owner(), "repo.write")?;
    Ok(repo)
}

/// `POST …/preupload/{rev}`.
pub(super) fn preupload(ctx: &Ctx<'_>, kind: Kind, id: &str, rev: &str) -> Result<Response, Response> {
    let repo = writable(ctx, kind, id)?;
    let head = repo.resolve(rev).ok_or_else(|| revision_not_found(rev))?;
    let body: Value = serde_json::from_slice(&ctx.body).map_err(|_| bad_request("Expected a JSON body"))?;
    let files = body.get("files").and_then(Value::as_array).ok_or_else(|| bad_request("files is required"))?;
    let out: Vec<Value> = files
        .iter()
        .map(|f| {
            let path = f.get("path").and_then(Value::as_str).unwrap_or_default();
            let size = f.get("size").and_then(Value::as_u64).unwrap_or(0);
            json!({ "path": path, "uploadMode": upload_mode(path, size), "shouldIgnore": false })
        })
        .collect();
    Ok(ok_json(&json!({ "files": out, "commitOid": head })))
}

/// `POST …/commit/{rev}`.
pub(super) fn commit(ctx: &Ctx<'_>, kind: Kind, id: &str, rev: &str) -> Result<Response, Response> {
    let repo = writable(ctx, kind, id)?;
    let head = repo.resolve(rev).filter(|_| repo.refs.contains_key(rev)).ok_or_else(|| revision_not_found(rev))?;
    let mut lines = ctx.body.split(|b| *b == b'\n').filter(|l| !l.iter().all(u8::is_ascii_whitespace));
    let header: Value = lines
        .next()
        .and_then(|l| serde_json::from_slice(l).ok())
        .filter(|h: &Value| h.get("key").and_then(Value::as_str) == Some("header"))
        .ok_or_else(|| bad_request("The first NDJSON line must be the commit header"))?;
    let header = &header["value"];
    let title = header.get("summary").and_then(Value::as_str).unwrap_or_default().trim().to_owned();
    if title.is_empty() {
        return Err(bad_request("summary is required"));
    }
    if let Some(parent) = header.get("parentCommit").and_then(Value::as_str) {
        if parent != head {
            return Err(hub_error(
                StatusCode::CONFLICT,
                None,
                &format!("A commit has happened since: {rev} is at {head}, not at the parent commit {parent}."),
            ));
        }
    }
    let create_pr = ctx.query.get("create_pr").is_some_and(|v| v == "1" || v == "true");
    let mut files = repo.commits[&head].files.clone();
    let placeholder = Value::Null;
    for line in lines {
        let op: Value = serde_json::from_slice(line).map_err(|_| bad_request("Invalid NDJSON line"))?;
        let value = &op["value"];
        let path = value.get("path").and_then(Value::as_str).unwrap_or_default().trim_matches('/').to_owned();
        if path.is_empty() || path.split('/').any(|s| s.is_empty() || s == "." || s == "..") {
            return Err(bad_request(&format!("Invalid path '{path}'")));
        }
        match op.get("key").and_then(Value::as_str) {
            Some("file") => {
                let content = value.get("content").and_then(Value::as_str).unwrap_or_default();
                let bytes = match value.get("encoding").and_then(Value::as_str) {
                    Some("base64") => base64::engine::general_purpose::STANDARD
                        .decode(content)
                        .map_err(|_| bad_request(&format!("Invalid base64 content for {path}")))?,
                    _ => content.as_bytes().to_vec(),
                };
                if bytes.len() as u64 > REGULAR_MAX_BYTES {
                    return Err(bad_request(&format!(
                        "{path} is larger than 10 MB: upload it through LFS (preupload says uploadMode lfs)."
                    )));
                }
                files.insert(path.clone(), StoredFile::regular(&path, Bytes::from(bytes), &placeholder));
            }
            Some("lfsFile") => {
                let oid = value.get("oid").and_then(Value::as_str).unwrap_or_default();
                let Some(bytes) = ctx.store.lock().lfs.get(oid).cloned() else {
                    return Err(bad_request(&format!("LFS object {oid} for {path} was not uploaded")));
                };
                files.insert(path.clone(), StoredFile::lfs(&path, oid, bytes, &placeholder));
            }
            Some("deletedFile") => {
                if files.remove(&path).is_none() {
                    return Err(entry_not_found());
                }
            }
            Some("deletedFolder") => {
                let prefix = format!("{path}/");
                let before = files.len();
                files.retain(|p, _| !p.starts_with(&prefix));
                if files.len() == before {
                    return Err(entry_not_found());
                }
            }
            other => return Err(bad_request(&format!("Unknown commit operation {}", other.unwrap_or("(none)")))),
        }
    }

    let mut store = ctx.store.lock();
    let Some(live) = store.repos.get_mut(&(kind, id.to_owned())) else {
        return Err(repo_not_found(&ctx.caller));
    };
    // Another commit landed while this one was being read: the same answer as a stale parent.
    if live.refs.get(rev) != Some(&head) {
        return Err(hub_error(
            StatusCode::CONFLICT,
            None,
            "A commit has happened since. Please refresh and try again.",
        ));
    }
    let reference = if create_pr {
        live.pull_requests += 1;
        let r = format!("refs/pr/{}", live.pull_requests);
        live.refs.insert(r.clone(), head.clone());
        r
    } else {
        rev.to_owned()
    };
    let sha = live.commit(&reference, &title, files);
    let doc = WrittenRepo::commit_doc(&sha, &title);
    if let Some(c) = live.commits.get_mut(&sha) {
        c.files.values_mut().filter(|f| f.meta.last_commit.is_null()).for_each(|f| f.meta.last_commit = doc.clone());
    }
    let base = format!("{}/{}{}", ctx.origin, kind.url_prefix(), id);
    let mut out =
        json!({ "success": true, "commitOid": sha, "commitUrl": format!("{base}/commit/{sha}"), "hookOutput": "" });
    if create_pr {
        out["pullRequestUrl"] = json!(format!("{base}/discussions/{}", live.pull_requests));
    }
    Ok(ok_json(&out))
}
