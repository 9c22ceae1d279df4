//! `GET /api/{kind}s/{id}/tree/{rev}/{path}`: a directory's entries (or all below it with
//! `recursive`), with `expand` adding last commits and security scans, paginated.

use axum::response::Response;
use serde_json::{json, Map, Value};

use super::access::{entry_not_found, revision_not_found};
use super::pagination::paginate;
use crate::catalogue::{Repo, RepoFile};
use crate::Ctx;

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

pub(super) fn tree(ctx: &Ctx<'_>, repo: &Repo, rev: &str, path: &str) -> Response {
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
