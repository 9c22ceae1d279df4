//! Storage buckets under `hf://buckets`: an owner's buckets (`ls`), a bucket's files and
//! directories (`ls`, `find`), `stat`, text contents (`cat`) and images (`attach`). Buckets
//! have no revisions (`@` is refused) and no search.

use serde_json::{Map, Value};

use super::model::*;
use super::text::{self, Class};
use super::Fs;
use crate::client::{enc, enc_path, HubError, HubErrorKind};

/// Most entries read from one listing.
const SCAN_MAX: usize = 50_000;

/// `hf://buckets[/OWNER[/NAME[/PATH]]]`.
pub(super) struct BucketUri {
    owner: Option<String>,
    /// `owner/name`, when the URI names a bucket.
    id: Option<String>,
    path: String,
}

pub(super) fn parse(uri: &str) -> Result<BucketUri, FsError> {
    let rest = uri.trim_start_matches("hf://buckets").trim_matches('/');
    if rest.contains('@') {
        return Err(FsError::invalid("Bucket URIs do not support a revision marker ('@')."));
    }
    let mut parts = rest.splitn(3, '/').filter(|s| !s.is_empty());
    let owner = parts.next().map(str::to_owned);
    let name = parts.next();
    let path = parts.next().unwrap_or("").trim_matches('/').to_owned();
    if path.split('/').any(|s| s == "." || s == "..") {
        return Err(FsError::invalid("bucket paths must not contain '.' or '..' segments"));
    }
    let id = owner.as_ref().zip(name).map(|(o, n)| format!("{o}/{n}"));
    Ok(BucketUri { owner, id, path })
}

fn file_uri(id: &str, path: &str) -> String {
    if path.is_empty() {
        format!("hf://buckets/{id}")
    } else {
        format!("hf://buckets/{id}/{}", enc_path(path))
    }
}

fn upstream(e: &HubError, id: &str) -> FsError {
    FsError::upstream(e, &format!("bucket '{id}'"))
}

pub async fn run(fs: &Fs<'_>, p: &Params) -> FsResult {
    let u = parse(&p.uri)?;
    if p.op == Op::Search {
        return Err(FsError::unsupported(
            "ENOTSUP: bucket search is not supported; ls hf://buckets/OWNER lists buckets",
        ));
    }
    let Some(owner) = u.owner.as_deref() else {
        return Err(FsError::invalid("Listing buckets requires an explicit owner. Use hf://buckets/<owner>."));
    };
    let Some(id) = u.id.as_deref() else {
        return match p.op {
            Op::Ls | Op::Find => namespace(fs, p, owner).await,
            Op::Stat => Ok(stat_result(&p.uri, true, "namespace", "", vec![("namespace", owner.into())])),
            _ => Err(FsError::not_a_file(format!("{} is a namespace; ls it to see its buckets", p.uri))),
        };
    };
    match p.op {
        Op::Ls => list(fs, p, id, &u.path, p.recursive, false).await,
        Op::Find => list(fs, p, id, &u.path, true, true).await,
        Op::Stat => stat(fs, p, id, &u.path).await,
        Op::Cat => cat(fs, p, id, &u.path).await,
        Op::Attach => attach(fs, p, id, &u.path).await,
        Op::Search => unreachable!("handled above"),
    }
}

fn bucket_entry(item: &Value) -> Option<Value> {
    let id = item.get("id").and_then(Value::as_str)?;
    let mut e = Map::new();
    e.insert("type".into(), "bucket".into());
    e.insert("path".into(), id.into());
    e.insert("uri".into(), format!("hf://buckets/{id}").into());
    e.insert("repo_type".into(), "bucket".into());
    for (from, to) in [
        ("private", "private"),
        ("size", "size"),
        ("totalFiles", "total_files"),
        ("createdAt", "created_at"),
        ("updatedAt", "updated_at"),
    ] {
        if let Some(v) = item.get(from).filter(|v| !v.is_null()) {
            e.insert(to.into(), v.clone());
        }
    }
    Some(Value::Object(e))
}

async fn namespace(fs: &Fs<'_>, p: &Params, owner: &str) -> FsResult {
    let page_of = fs
        .up
        .list(fs.token, &format!("/api/buckets/{}", enc(owner)), &[], SCAN_MAX)
        .await
        .map_err(|e| FsError::upstream(&e, &format!("buckets of '{owner}'")))?;
    let entries: Vec<Value> = page_of
        .items
        .iter()
        .filter_map(bucket_entry)
        .filter(|e| if p.op == Op::Find { find_matches(p, e, owner) } else { ls_matches(p, e, owner) })
        .collect();
    let (entries, truncated) = page(p, entries, DEFAULT_LS_LIMIT);
    Ok(entries_result(&p.uri, p.op, entries, truncated.then(|| ("entry_limit", Some(ENTRY_LIMIT_MESSAGE.to_owned())))))
}

fn tree_entry(id: &str, item: &Value) -> Option<Value> {
    let path = item.get("path").and_then(Value::as_str)?;
    let ty = match item.get("type").and_then(Value::as_str)? {
        "file" => "file",
        "directory" => "dir",
        _ => return None,
    };
    let mut e = Map::new();
    e.insert("type".into(), ty.into());
    e.insert("path".into(), path.into());
    e.insert("uri".into(), file_uri(id, path).into());
    if let Some(s) = item.get("size").and_then(Value::as_u64) {
        e.insert("size".into(), s.into());
    }
    if let Some(d) = item.get("mtime").or_else(|| item.get("uploadedAt")).and_then(Value::as_str) {
        e.insert("updated_at".into(), d.into());
    }
    Some(Value::Object(e))
}

/// The entries below `path` (`recursive`: all of them).
async fn tree(fs: &Fs<'_>, id: &str, path: &str, recursive: bool) -> Result<Vec<Value>, HubError> {
    let mut api = format!("/api/buckets/{}/tree", enc_path(id));
    if !path.is_empty() {
        api.push('/');
        api.push_str(&enc(path));
    }
    let query = if recursive { vec![("recursive", "true".to_owned())] } else { Vec::new() };
    let listed = fs.up.list(fs.token, &api, &query, SCAN_MAX).await?;
    Ok(listed.items.iter().filter_map(|i| tree_entry(id, i)).collect())
}

async fn list(fs: &Fs<'_>, p: &Params, id: &str, path: &str, recursive: bool, find: bool) -> FsResult {
    let entries = match tree(fs, id, path, recursive).await {
        Ok(e) => e,
        Err(e) if e.is_not_found() && !path.is_empty() => {
            return match file_info(fs, id, path).await {
                Ok(Some(_)) => Err(FsError::not_a_directory(format!("{} is a file; use cat to read it", p.uri))),
                _ => Err(FsError::not_found(format!("no such file or directory: {path}"))),
            }
        }
        Err(e) => return Err(upstream(&e, id)),
    };
    let entries: Vec<Value> =
        entries.into_iter().filter(|e| if find { find_matches(p, e, path) } else { ls_matches(p, e, path) }).collect();
    let (entries, truncated) = page(p, entries, DEFAULT_LS_LIMIT);
    Ok(entries_result(&p.uri, p.op, entries, truncated.then(|| ("entry_limit", Some(ENTRY_LIMIT_MESSAGE.to_owned())))))
}

/// A file's entry, from the bucket's `paths-info` (`None`: no such file).
async fn file_info(fs: &Fs<'_>, id: &str, path: &str) -> Result<Option<Value>, HubError> {
    match fs.up.read_bucket_file(fs.token, id, path, 0, 0).await {
        Ok(head) => Ok(tree_entry(id, &serde_json::json!({ "type": "file", "path": path, "size": head.total_size }))),
        Err(e)
            if e.kind() == HubErrorKind::EntryNotFound
                || e.status() == Some(404) && e.kind() != HubErrorKind::RepoNotFound =>
        {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

async fn stat(fs: &Fs<'_>, p: &Params, id: &str, path: &str) -> FsResult {
    if path.is_empty() {
        return match fs
            .up
            .get_json(fs.token, crate::client::Service::Hub, &format!("/api/buckets/{}", enc_path(id)), &[])
            .await
        {
            Ok(info) => Ok(stat_result(
                &p.uri,
                true,
                "repo",
                "",
                vec![
                    ("private", info.get("private").cloned().unwrap_or(Value::Null)),
                    ("size", info.get("size").cloned().unwrap_or(Value::Null)),
                ],
            )),
            Err(e) if e.is_not_found() => Ok(stat_result(&p.uri, false, "missing", "", vec![])),
            Err(e) => Err(upstream(&e, id)),
        };
    }
    match file_info(fs, id, path).await {
        Ok(Some(e)) => {
            Ok(stat_result(&p.uri, true, "file", path, vec![("size", e.get("size").cloned().unwrap_or(Value::Null))]))
        }
        Ok(None) => match tree(fs, id, path, false).await {
            Ok(entries) if !entries.is_empty() => Ok(stat_result(&p.uri, true, "dir", path, vec![])),
            Ok(_) => Ok(stat_result(&p.uri, false, "missing", path, vec![])),
            Err(e) if e.is_not_found() => Ok(stat_result(&p.uri, false, "missing", path, vec![])),
            Err(e) => Err(upstream(&e, id)),
        },
        Err(e) if e.kind() == HubErrorKind::RepoNotFound => Ok(stat_result(&p.uri, false, "missing", path, vec![])),
        Err(e) => Err(upstream(&e, id)),
    }
}

async fn require_file(fs: &Fs<'_>, p: &Params, id: &str, path: &str) -> Result<u64, FsError> {
    if path.is_empty() {
        return Err(FsError::not_a_file(format!("{} is a bucket; {} needs a file URI", p.uri, p.op.as_str())));
    }
    match file_info(fs, id, path).await {
        Ok(Some(e)) => Ok(e.get("size").and_then(Value::as_u64).unwrap_or(0)),
        Ok(None) => Err(FsError::not_found(format!("file does not exist: {path}"))),
        Err(e) => Err(upstream(&e, id)),
    }
}

async fn cat(fs: &Fs<'_>, p: &Params, id: &str, path: &str) -> FsResult {
    if !path.is_empty() && text::classify(path) == Class::Binary {
        return Err(FsError::text_only(
            text::non_text(path, "The file extension is known to be binary."),
            text::image_mime(path).is_some(),
        ));
    }
    let size = require_file(fs, p, id, path).await?;
    let offset = p.offset.unwrap_or(0);
    let max = p.cat_max_bytes() as u64;
    if offset >= size || max == 0 {
        return Ok(cat_text(&p.uri, path, "", None, 0, 0));
    }
    // Three extra bytes complete a character cut by the range end.
    let want = (max + 3).min(size - offset);
    let dl = fs.up.read_bucket_file(fs.token, id, path, offset, want).await.map_err(|e| upstream(&e, id))?;
    let mut start = 0usize;
    while start < dl.bytes.len() && start < 3 && (dl.bytes[start] & 0xC0) == 0x80 {
        start += 1;
    }
    let mut stop = (max as usize).min(dl.bytes.len());
    while stop < dl.bytes.len() && (dl.bytes[stop] & 0xC0) == 0x80 {
        stop += 1;
    }
    let content = text::decode(path, &dl.bytes[start..stop]).map_err(|m| FsError::text_only(m, false))?;
    let end = offset + stop as u64;
    let mut out = cat_text(&p.uri, path, &content, dl.content_type.as_deref(), 0, content.len());
    out.result.insert("_start".into(), (offset + start as u64).into());
    if end < size {
        out.result.insert("truncated".into(), true.into());
        out.result.insert("truncation_reason".into(), "max_bytes".into());
        out.result.insert("next_offset".into(), end.into());
    }
    Ok(out)
}

async fn attach(fs: &Fs<'_>, p: &Params, id: &str, path: &str) -> FsResult {
    let Some(mime) = text::image_mime(path) else {
        return Err(FsError::unsupported_media(format!(
            "Unsupported attachment media: {path}. The file extension is not .jpg, .jpeg, .png, or .webp."
        )));
    };
    let max = p.max_bytes.unwrap_or(ATTACH_MAX_BYTES);
    let size = require_file(fs, p, id, path).await?;
    if size > max {
        return Err(FsError::too_large(format!(
            "Image is too large to attach: {path} is {size} bytes; complete-file limit is {max} bytes."
        )));
    }
    fs.reserve(size)?;
    let dl = match fs.up.read_bucket_file(fs.token, id, path, 0, max).await {
        Ok(d) => d,
        Err(e) => {
            fs.release(size);
            return Err(upstream(&e, id));
        }
    };
    let meta = obj(vec![
        ("op", "attach".into()),
        ("uri", p.uri.clone().into()),
        ("path", path.into()),
        ("mime_type", mime.into()),
        ("bytes", dl.bytes.len().into()),
    ]);
    Ok(Outcome { result: meta, image: Some((dl.bytes, mime)) })
}
