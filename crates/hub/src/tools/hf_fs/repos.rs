//! Repositories: discovery roots, trending, owner namespaces, file trees, file contents
//! and image attachments.

use serde_json::{json, Map, Value};

use super::grammar::is_repo_trending;
use super::model::*;
use super::text::{self, Class};
use super::Fs;
use crate::client::{enc, enc_path, HubError, HubErrorKind, Service};
use crate::tools::glob::glob_match;
use crate::tools::repo_search::RepoType;

pub enum RepoUri {
    Namespace { kind: RepoType, owner: Option<String> },
    Repo { kind: RepoType, id: String, revision: Option<String>, path: String },
}

fn kind_of(root: &str) -> Option<RepoType> {
    match root {
        "models" => Some(RepoType::Model),
        "datasets" => Some(RepoType::Dataset),
        "spaces" => Some(RepoType::Space),
        _ => None,
    }
}

fn decode(seg: &str) -> Result<String, FsError> {
    let bytes = seg.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = seg
                .get(i + 1..i + 3)
                .ok_or_else(|| FsError::invalid(format!("invalid percent-encoding in '{seg}'")))?;
            let b = u8::from_str_radix(hex, 16)
                .map_err(|_| FsError::invalid(format!("invalid percent-encoding in '{seg}'")))?;
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| FsError::invalid(format!("invalid percent-encoding in '{seg}'")))
}

pub fn parse_repo_uri(uri: &str) -> Result<RepoUri, FsError> {
    let location = uri.strip_prefix("hf://").unwrap_or(uri).trim_matches('/');
    if location.contains("//") {
        return Err(FsError::invalid("URI path must not contain empty segments"));
    }
    let (root, body) = location.split_once('/').unwrap_or((location, ""));
    let kind = kind_of(root).ok_or_else(|| {
        FsError::invalid(format!(
            "invalid URI type '{root}'; use models, datasets, spaces, collections, papers or docs"
        ))
    })?;
    if body.is_empty() {
        return Ok(RepoUri::Namespace { kind, owner: None });
    }
    if !body.contains('/') && !body.contains('@') {
        return Ok(RepoUri::Namespace { kind, owner: Some(decode(body)?) });
    }
    let at = body.find('@');
    let (id, revision, path) = match at {
        Some(i) if body[..i].split('/').count() == 2 => {
            let id = &body[..i];
            let rest = &body[i + 1..];
            // refs/pr/N and refs/convert/NAME may be written raw; other slashes must be encoded.
            let (rev, path) = if let Some(r) = special_ref(rest) {
                (r.to_owned(), rest[r.len()..].trim_start_matches('/').to_owned())
            } else if rest.starts_with("refs/heads/") || rest.starts_with("refs/tags/") {
                return Err(FsError::invalid(
                    "revision names containing '/' must be percent-encoded in hf:// URIs unless they are refs/pr/N or \
                     refs/convert/NAME (e.g. refs%2Fheads%2Ffeature)",
                ));
            } else {
                match rest.split_once('/') {
                    Some((r, p)) => (r.to_owned(), p.to_owned()),
                    None => (rest.to_owned(), String::new()),
                }
            };
            let rev = decode(&rev)?;
            if rev.is_empty() {
                return Err(FsError::invalid("revision after '@' must not be empty"));
            }
            (id.to_owned(), Some(rev), path)
        }
        _ => {
            let mut parts = body.splitn(3, '/');
            let owner = parts.next().unwrap_or("");
            let name = parts.next().unwrap_or("");
            if owner.is_empty() || name.is_empty() {
                return Err(FsError::invalid(format!("repository id must be 'owner/name', got '{body}'")));
            }
            (format!("{owner}/{name}"), None, parts.next().unwrap_or("").to_owned())
        }
    };
    let (owner, name) = id.split_once('/').expect("two segments");
    let id = format!("{}/{}", decode(owner)?, decode(name)?);
    let path = path.split('/').filter(|s| !s.is_empty()).map(decode).collect::<Result<Vec<_>, _>>()?.join("/");
    Ok(RepoUri::Repo { kind, id, revision, path })
}

fn special_ref(rest: &str) -> Option<&str> {
    for prefix in ["refs/pr/", "refs/convert/"] {
        if let Some(tail) = rest.strip_prefix(prefix) {
            let end = tail.find('/').unwrap_or(tail.len());
            if end > 0 {
                return Some(&rest[..prefix.len() + end]);
            }
        }
    }
    None
}

pub fn repo_uri(kind: RepoType, id: &str, revision: Option<&str>, path: &str) -> String {
    let id_part = match revision {
        Some(r) => format!("{id}@{}", r.replace('/', "%2F")),
        None => id.to_owned(),
    };
    if path.is_empty() {
        format!("hf://{}/{id_part}", kind.plural())
    } else {
        format!("hf://{}/{id_part}/{}", kind.plural(), enc_path(path))
    }
}

pub async fn run(fs: &Fs<'_>, p: &Params) -> FsResult {
    if is_repo_trending(&p.uri) {
        return trending(fs, p).await;
    }
    if matches!(p.uri.as_str(), "hf://models" | "hf://datasets" | "hf://spaces") {
        return discovery_root(fs, p).await;
    }
    match parse_repo_uri(&p.uri)? {
        RepoUri::Namespace { kind, owner: Some(owner) } => namespace(fs, p, kind, &owner).await,
        RepoUri::Namespace { kind, owner: None } => discovery_root_of(fs, p, kind).await,
        RepoUri::Repo { kind, id, revision, path } => {
            let r = Repo { kind, id, revision, path };
            match p.op {
                Op::Ls => ls(fs, p, &r).await,
                Op::Find => find(fs, p, &r).await,
                Op::Stat => stat(fs, &p.uri, &r).await,
                Op::Cat => cat(fs, p, &r).await,
                Op::Attach => attach(fs, p, &r).await,
                Op::Search => Err(FsError::unsupported(
                    "search is supported on discovery roots or owner namespaces, not repository paths; use find to \
                     match names inside a repository",
                )),
            }
        }
    }
}

pub struct Repo {
    pub kind: RepoType,
    pub id: String,
    pub revision: Option<String>,
    pub path: String,
}

impl Repo {
    fn rev(&self) -> &str {
        self.revision.as_deref().unwrap_or("main")
    }
    fn subject(&self) -> String {
        if self.path.is_empty() {
            format!("{} '{}'", self.kind.as_str(), self.id)
        } else {
            format!("'{}' in {} '{}'", self.path, self.kind.as_str(), self.id)
        }
    }
    fn tree_path(&self, path: &str) -> String {
        let mut s = format!("/api/{}/{}/tree/{}", self.kind.plural(), enc_path(&self.id), enc(self.rev()));
        if !path.is_empty() {
            s.push('/');
            s.push_str(&enc_path(path));
        }
        s
    }
}

async fn discovery_root(fs: &Fs<'_>, p: &Params) -> FsResult {
    let kind = kind_of(p.uri.trim_start_matches("hf://")).expect("checked");
    discovery_root_of(fs, p, kind).await
}

async fn discovery_root_of(fs: &Fs<'_>, p: &Params, kind: RepoType) -> FsResult {
    let uri = format!("hf://{}", kind.plural());
    match p.op {
        Op::Ls => {
            if p.sort.is_some() {
                return Err(FsError::invalid(format!("sort is not supported on {uri}; list {uri}/trending instead")));
            }
            if p.recursive {
                return Err(FsError::unsupported(format!(
                    "recursive ls is not supported on {uri}; use search {uri} QUERY or ls {uri}/OWNER"
                )));
            }
            let entry = json!({
                "type": "dir", "path": "trending", "name": "trending", "uri": format!("{uri}/trending"),
                "description": format!("Browse the 20 currently trending {}.", kind.plural()),
            });
            let keep = p.type_matches(&entry) && p.glob.as_deref().is_none_or(|g| glob_match(g, "trending"));
            Ok(entries_result(&uri, Op::Ls, if keep { vec![entry] } else { vec![] }, None))
        }
        Op::Stat => Ok(stat_result(&uri, true, "dir", "", vec![])),
        Op::Search => search(fs, p, kind, None).await,
        Op::Find => Err(FsError::unsupported(format!(
            "find cannot crawl all {}; use search {uri} QUERY, or scope find to {uri}/OWNER",
            kind.plural()
        ))),
        Op::Cat | Op::Attach => Err(FsError::not_a_file(format!("{uri} is a directory"))),
    }
}

fn repo_entry(kind: RepoType, item: &Value) -> Option<Value> {
    let id = item.get("id").and_then(Value::as_str)?;
    let mut e = Map::new();
    e.insert("type".into(), "repo".into());
    e.insert("path".into(), id.into());
    e.insert("uri".into(), repo_uri(kind, id, None, "").into());
    e.insert("repo_type".into(), kind.as_str().into());
    for (from, to) in [
        ("private", "private"),
        ("likes", "likes"),
        ("downloads", "downloads"),
        ("trendingScore", "trending_score"),
        ("sdk", "sdk"),
        ("title", "title"),
    ] {
        if let Some(v) = item.get(from).filter(|v| !v.is_null()) {
            e.insert(to.into(), v.clone());
        }
    }
    match item.get("gated") {
        Some(Value::String(s)) => {
            e.insert("gated".into(), s.clone().into());
        }
        Some(Value::Bool(false)) => {
            e.insert("gated".into(), false.into());
        }
        _ => {}
    }
    if let Some(t) = item.get("pipeline_tag").and_then(Value::as_str) {
        e.insert("task".into(), t.into());
    }
    if kind == RepoType::Space {
        if let Some(d) =
            item.get("shortDescription").or_else(|| item.get("ai_short_description")).and_then(Value::as_str)
        {
            e.insert("description".into(), d.into());
        }
    }
    if let Some(u) = item.get("lastModified").and_then(Value::as_str) {
        e.insert("updated_at".into(), u.into());
    }
    if let Some(c) = item.get("createdAt").and_then(Value::as_str) {
        e.insert("created_at".into(), c.into());
    }
    Some(Value::Object(e))
}

async fn trending(fs: &Fs<'_>, p: &Params) -> FsResult {
    let kind = kind_of(p.uri.trim_start_matches("hf://").trim_end_matches("/trending")).expect("checked");
    match p.op {
        Op::Ls => {}
        Op::Stat => return Ok(stat_result(&p.uri, true, "dir", "trending", vec![])),
        Op::Cat | Op::Attach => return Err(FsError::not_a_file(format!("{} is a directory", p.uri))),
        Op::Find => return Err(FsError::unsupported(format!("find is not supported on {}; use ls", p.uri))),
        Op::Search => {
            return Err(FsError::unsupported(format!(
                "search is not supported on {}; search its resource root with --sort trendingScore",
                p.uri
            )))
        }
    }
    if p.sort.is_some() {
        return Err(FsError::invalid(format!("{} does not accept another sort", p.uri)));
    }
    let limit = p.limit.unwrap_or(DEFAULT_TRENDING_LIMIT);
    let q = [("type", kind.as_str().to_owned()), ("limit", limit.to_string())];
    let body = fs
        .up
        .get_json(fs.token, Service::Hub, "/api/trending", &q)
        .await
        .map_err(|e| FsError::upstream(&e, &format!("the trending {}", kind.plural())))?;
    let items = body.get("recentlyTrending").and_then(Value::as_array).cloned().unwrap_or_default();
    let entries: Vec<Value> = items
        .iter()
        .filter(|i| i.get("repoType").and_then(Value::as_str) == Some(kind.as_str()))
        .filter_map(|i| repo_entry(kind, i.get("repoData")?))
        .filter(|e| p.type_matches(e))
        .take(limit)
        .collect();
    Ok(entries_result(&p.uri, Op::Ls, entries, None))
}

fn search_sort(sort: Option<&str>) -> Option<&str> {
    match sort {
        Some("trending" | "upvotes") => Some("trendingScore"),
        other => other,
    }
}

async fn list_repos(
    fs: &Fs<'_>,
    kind: RepoType,
    query: Option<&str>,
    owner: Option<&str>,
    sort: Option<&str>,
    max: usize,
) -> Result<(Vec<Value>, bool), HubError> {
    let mut q: Vec<(&str, String)> = Vec::new();
    if let Some(s) = query {
        q.push(("search", s.to_owned()));
    }
    if let Some(o) = owner {
        q.push(("author", o.to_owned()));
    }
    if let Some(s) = sort {
        q.push(("sort", s.to_owned()));
        q.push(("direction", "-1".into()));
    }
    q.push(("limit", max.min(1_000).to_string()));
    let path = format!("/api/{}", kind.plural());
    let listing = fs.up.list(fs.token, &path, &q, max).await?;
    Ok((listing.items.iter().filter_map(|i| repo_entry(kind, i)).collect(), listing.truncated))
}

async fn search(fs: &Fs<'_>, p: &Params, kind: RepoType, owner: Option<&str>) -> FsResult {
    if p.entry_type.as_deref().is_some_and(|t| t != "repo") {
        return Ok(entries_result(&p.uri, Op::Search, vec![], None));
    }
    let query = p.query.as_deref().map(str::trim).filter(|q| !q.is_empty());
    let limit = p.limit.unwrap_or(DEFAULT_SEARCH_LIMIT).min(MAX_SEARCH_LIMIT);
    if kind == RepoType::Space && owner.is_none() && (query.is_some() || !p.tags.is_empty() || p.space_kind.is_some()) {
        return semantic_spaces(fs, p, limit).await;
    }
    let (mut entries, more) = list_repos(fs, kind, query, owner, search_sort(p.sort.as_deref()), limit + 1)
        .await
        .map_err(|e| FsError::upstream(&e, &format!("the {} search", kind.as_str())))?;
    let truncated = entries.len() > limit || more;
    entries.truncate(limit);
    Ok(entries_result(&p.uri, Op::Search, entries, truncated.then_some(("limit", None))))
}

async fn semantic_spaces(fs: &Fs<'_>, p: &Params, limit: usize) -> FsResult {
    let query = p.query.clone().unwrap_or_default();
    if query.chars().count() > 250 {
        return Err(FsError::invalid("Space semantic search query must not exceed 250 characters"));
    }
    let mut tags = p.tags.clone();
    if p.space_kind.as_deref() == Some("mcp") && !tags.iter().any(|t| t == "mcp-server") {
        tags.push("mcp-server".into());
    }
    let mut q: Vec<(&str, String)> = vec![("q", query)];
    for t in &tags {
        q.push(("filter", t.clone()));
    }
    let body = fs
        .up
        .get_json(fs.token, Service::Hub, "/api/spaces/semantic-search", &q)
        .await
        .map_err(|e| FsError::upstream(&e, "the Space search"))?;
    let mut hits: Vec<Value> = body
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|h| {
            let ht: Vec<&str> = h
                .get("tags")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            tags.iter().all(|t| ht.contains(&t.as_str()))
        })
        .collect();
    if let Some(sort) = p.sort.as_deref() {
        let key = |h: &Value| -> f64 {
            match sort {
                "likes" => h.get("likes").and_then(Value::as_f64).unwrap_or(0.0),
                "trending" | "trendingScore" => h.get("trendingScore").and_then(Value::as_f64).unwrap_or(0.0),
                _ => h.get("semanticRelevancyScore").and_then(Value::as_f64).unwrap_or(0.0),
            }
        };
        hits.sort_by(|a, b| key(b).partial_cmp(&key(a)).unwrap_or(std::cmp::Ordering::Equal));
    }
    let truncated = hits.len() > limit;
    let entries: Vec<Value> = hits
        .iter()
        .take(limit)
        .filter_map(|h| {
            let mut e = repo_entry(RepoType::Space, h)?;
            if let Some(c) = h.get("ai_category").and_then(Value::as_str) {
                e["category"] = c.into();
            }
            if let Some(s) = h.get("semanticRelevancyScore").and_then(Value::as_f64) {
                e["semantic_relevance"] = json!(s);
            }
            if let Some(t) = h.get("tags").filter(|t| t.is_array()) {
                e["tags"] = t.clone();
            }
            Some(e)
        })
        .collect();
    Ok(entries_result(&p.uri, Op::Search, entries, truncated.then_some(("limit", None))))
}

async fn namespace(fs: &Fs<'_>, p: &Params, kind: RepoType, owner: &str) -> FsResult {
    let uri = format!("hf://{}/{}", kind.plural(), enc(owner));
    match p.op {
        Op::Stat => Ok(stat_result(&p.uri, true, "namespace", "", vec![("namespace", owner.into())])),
        Op::Search => search(fs, p, kind, Some(owner)).await,
        Op::Cat | Op::Attach => Err(FsError::not_a_file(format!(
            "{uri} is an owner namespace; cat and attach need a file URI such as {uri}/NAME/README.md"
        ))),
        Op::Ls | Op::Find => {
            let offset = p.offset.unwrap_or(0) as usize;
            let limit = p.limit.unwrap_or(DEFAULT_LS_LIMIT);
            let filtered = p.glob.is_some() || p.op == Op::Find || p.entry_type.is_some();
            let fetch = if filtered { MAX_LS_LIMIT } else { offset + limit + 1 };
            let sort = search_sort(p.sort.as_deref()).unwrap_or("lastModified");
            let (all, more) = list_repos(fs, kind, None, Some(owner), Some(sort), fetch)
                .await
                .map_err(|e| FsError::upstream(&e, &format!("the {} of '{owner}'", kind.plural())))?;
            let matching: Vec<Value> = all
                .into_iter()
                .filter(|e| if p.op == Op::Find { find_matches(p, e, owner) } else { ls_matches(p, e, owner) })
                .collect();
            let (entries, truncated) = page(p, matching, DEFAULT_LS_LIMIT);
            let truncated = truncated || (more && !filtered && entries.len() == limit);
            Ok(entries_result(
                &p.uri,
                p.op,
                entries,
                truncated.then(|| ("entry_limit", Some(ENTRY_LIMIT_MESSAGE.to_owned()))),
            ))
        }
    }
}

fn tree_entry(r: &Repo, item: &Value) -> Option<Value> {
    let path = item.get("path").and_then(Value::as_str)?;
    let ty = match item.get("type").and_then(Value::as_str)? {
        "file" => "file",
        "directory" => "dir",
        _ => return None,
    };
    let mut e = Map::new();
    e.insert("type".into(), ty.into());
    e.insert("path".into(), path.into());
    e.insert("uri".into(), repo_uri(r.kind, &r.id, r.revision.as_deref(), path).into());
    if ty == "file" {
        if let Some(s) = item.get("size").and_then(Value::as_u64) {
            e.insert("size".into(), s.into());
        }
        if item.get("lfs").is_some_and(|l| !l.is_null()) || item.get("xetHash").is_some_and(|x| !x.is_null()) {
            e.insert("lfs".into(), item.get("lfs").is_some_and(|l| !l.is_null()).into());
        }
        if let Some(d) = item.pointer("/lastCommit/date").and_then(Value::as_str) {
            e.insert("updated_at".into(), d.into());
        }
    }
    Some(Value::Object(e))
}

/// Most tree entries read for one operation (the client stops following pages there).
const SCAN_MAX: usize = 50_000;

const SCAN_LIMIT_MESSAGE: &str = "The Hub listing of this tree was read only in part (hf_fs reads a bounded number \
     of entries per operation), so entries past that point are missing. List or find within a subdirectory to see them.";

/// The truncation note of a tree walk: stopped at the entry limit, or by the scan bound before
/// the end of the tree (which must not pass for a complete listing).
fn walk_note(limit_reached: bool, complete: bool) -> Option<(&'static str, Option<String>)> {
    if limit_reached {
        Some(("entry_limit", Some(ENTRY_LIMIT_MESSAGE.to_owned())))
    } else if !complete {
        Some(("provider_limit", Some(SCAN_LIMIT_MESSAGE.to_owned())))
    } else {
        None
    }
}

/// Walk a tree listing (up to `max` raw entries); `visit` returns `false` to stop early.
/// `Ok(true)` when the whole tree was visited.
async fn scan_tree(
    fs: &Fs<'_>,
    r: &Repo,
    path: &str,
    recursive: bool,
    max: usize,
    mut visit: impl FnMut(Value) -> bool,
) -> Result<bool, HubError> {
    let mut q: Vec<(&str, String)> = Vec::new();
    if recursive {
        q.push(("recursive", "true".into()));
    }
    let listing = fs.up.list(fs.token, &r.tree_path(path), &q, max).await?;
    for item in listing.items {
        if let Some(e) = tree_entry(r, &item) {
            if !visit(e) {
                return Ok(false);
            }
        }
    }
    Ok(!listing.truncated)
}

async fn ls(fs: &Fs<'_>, p: &Params, r: &Repo) -> FsResult {
    if p.sort.is_some() {
        return Err(FsError::invalid(format!("sort is not supported for repository file listings: {}", p.uri)));
    }
    let offset = p.offset.unwrap_or(0) as usize;
    let limit = p.limit.unwrap_or(DEFAULT_LS_LIMIT);
    let mut entries = Vec::new();
    let mut matched = 0usize;
    let mut truncated = false;
    let unfiltered = p.glob.is_none() && p.entry_type.is_none();
    let max = if unfiltered { offset + limit + 1 } else { SCAN_MAX };
    let walk = scan_tree(fs, r, &r.path, p.recursive, max, |e| {
        if !ls_matches(p, &e, &r.path) {
            return true;
        }
        matched += 1;
        if matched <= offset {
            return true;
        }
        if entries.len() >= limit {
            truncated = true;
            return false;
        }
        entries.push(e);
        true
    })
    .await;
    let complete = match walk {
        Ok(complete) => complete,
        Err(e) if e.kind() == HubErrorKind::EntryNotFound && !r.path.is_empty() => {
            // Not a directory: say whether it is a file.
            return match stat_entry(fs, r).await {
                Ok(Some(s)) if s.get("type").and_then(Value::as_str) == Some("file") => Err(FsError::not_a_directory(
                    format!("{} is a file; use cat to read it or stat for metadata", p.uri),
                )),
                _ => Err(FsError::not_found(format!(
                    "no such file or directory: {}; list the parent directory to see what exists",
                    r.path
                ))),
            };
        }
        Err(e) => return Err(FsError::upstream(&e, &r.subject())),
    };
    Ok(entries_result(&p.uri, Op::Ls, entries, walk_note(truncated, complete)))
}

async fn find(fs: &Fs<'_>, p: &Params, r: &Repo) -> FsResult {
    if !r.path.is_empty() {
        if let Ok(Some(s)) = stat_entry(fs, r).await {
            if s.get("type").and_then(Value::as_str) == Some("file") {
                let keep = p.offset.unwrap_or(0) == 0 && find_matches(p, &s, parent(&r.path));
                return Ok(entries_result(&p.uri, Op::Find, if keep { vec![s] } else { vec![] }, None));
            }
        }
    }
    let offset = p.offset.unwrap_or(0) as usize;
    let limit = p.limit.unwrap_or(DEFAULT_LS_LIMIT);
    let mut entries = Vec::new();
    let mut matched = 0usize;
    let mut truncated = false;
    let max =
        if p.name.is_none() && p.path.is_none() && p.entry_type.is_none() { offset + limit + 1 } else { SCAN_MAX };
    let complete = scan_tree(fs, r, &r.path, true, max, |e| {
        if !find_matches(p, &e, &r.path) {
            return true;
        }
        matched += 1;
        if matched <= offset {
            return true;
        }
        if entries.len() >= limit {
            truncated = true;
            return false;
        }
        entries.push(e);
        true
    })
    .await
    .map_err(|e| FsError::upstream(&e, &r.subject()))?;
    let mut out = entries_result(&p.uri, Op::Find, entries, walk_note(truncated, complete));
    // The glob hint only helps when the whole tree was searched.
    if matched == 0 && complete && (p.name.is_some() || p.path.is_some()) {
        out.result.insert(
            "warnings".into(),
            json!(["--name matches a basename; --path matches the complete path relative to the find root. Try --name \"*term*\" or --path \"**/*term*\"."]),
        );
    }
    Ok(out)
}

/// The tree entry of `r.path` (listing its parent directory), `None` if absent.
async fn stat_entry(fs: &Fs<'_>, r: &Repo) -> Result<Option<Value>, HubError> {
    let dir = parent(&r.path);
    let mut found = None;
    let res = scan_tree(fs, r, dir, false, SCAN_MAX, |e| {
        if e.get("path").and_then(Value::as_str) == Some(r.path.as_str()) {
            found = Some(e);
            false
        } else {
            true
        }
    })
    .await;
    match res {
        Ok(complete) if complete || found.is_some() => Ok(found),
        // The directory has more entries than one scan reads: "not seen" is not "missing".
        Ok(_) => probe_entry(fs, r).await,
        Err(e) if e.kind() == HubErrorKind::EntryNotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// `r.path` looked up by itself, for a directory too large to scan: a file answers a `HEAD`
/// of its download URL, a directory lists its first entry.
async fn probe_entry(fs: &Fs<'_>, r: &Repo) -> Result<Option<Value>, HubError> {
    let (kind, rev) = (r.kind.client_kind(), r.revision.as_deref());
    match fs.up.read_file(fs.token, kind, &r.id, rev, &r.path, 0, 0).await {
        Ok(head) => return Ok(tree_entry(r, &json!({ "type": "file", "path": r.path, "size": head.total_size }))),
        Err(e) if e.is_not_found() => {}
        Err(e) => return Err(e),
    }
    match scan_tree(fs, r, &r.path, false, 1, |_| false).await {
        Ok(_) => Ok(tree_entry(r, &json!({ "type": "directory", "path": r.path }))),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

async fn stat(fs: &Fs<'_>, uri: &str, r: &Repo) -> FsResult {
    if r.path.is_empty() {
        let path = match &r.revision {
            Some(rev) => format!("/api/{}/{}/revision/{}", r.kind.plural(), enc_path(&r.id), enc(rev)),
            None => format!("/api/{}/{}", r.kind.plural(), enc_path(&r.id)),
        };
        let q = [("expand[]", "private".to_owned()), ("expand[]", "gated".to_owned())];
        return match fs.up.get_json(fs.token, Service::Hub, &path, &q).await {
            Ok(info) => {
                let gated = info.get("gated").filter(|g| g.is_string()).cloned().unwrap_or(Value::Null);
                Ok(stat_result(uri, true, "repo", "", vec![("gated", gated)]))
            }
            Err(e) if e.is_not_found() || (e.kind() == HubErrorKind::RepoNotFound) => {
                Ok(stat_result(uri, false, "missing", "", vec![]))
            }
            Err(e) if e.kind() == HubErrorKind::RevisionNotFound => Ok(stat_result(uri, false, "missing", "", vec![])),
            Err(e) => Err(FsError::upstream(&e, &r.subject())),
        };
    }
    match stat_entry(fs, r).await {
        Ok(Some(e)) => {
            let ty = e.get("type").and_then(Value::as_str).unwrap_or("file").to_owned();
            Ok(stat_result(
                uri,
                true,
                &ty,
                &r.path,
                vec![
                    ("size", e.get("size").cloned().unwrap_or(Value::Null)),
                    ("lfs", e.get("lfs").cloned().unwrap_or(Value::Null)),
                ],
            ))
        }
        Ok(None) => Ok(stat_result(uri, false, "missing", &r.path, vec![])),
        Err(e) if e.kind() == HubErrorKind::RevisionNotFound => Ok(stat_result(uri, false, "missing", &r.path, vec![])),
        Err(e) => Err(FsError::upstream(&e, &r.subject())),
    }
}

async fn require_file(fs: &Fs<'_>, p: &Params, r: &Repo) -> Result<Value, FsError> {
    if r.path.is_empty() {
        return Err(FsError::not_a_file(format!(
            "{} is a repository; {} needs a file URI such as {}/README.md",
            p.uri,
            p.op.as_str(),
            p.uri
        )));
    }
    match stat_entry(fs, r).await {
        Ok(Some(e)) if e.get("type").and_then(Value::as_str) == Some("file") => Ok(e),
        Ok(Some(_)) => Err(FsError::not_a_file(format!("{} is a directory; use ls to list it", p.uri))),
        Ok(None) => Err(FsError::not_found(format!("file does not exist: {}", r.path))),
        Err(e) => Err(FsError::upstream(&e, &r.subject())),
    }
}

async fn cat(fs: &Fs<'_>, p: &Params, r: &Repo) -> FsResult {
    if !r.path.is_empty() && text::classify(&r.path) == Class::Binary {
        return Err(FsError::text_only(
            text::non_text(&r.path, "The file extension is known to be binary."),
            text::image_mime(&r.path).is_some(),
        ));
    }
    let entry = require_file(fs, p, r).await?;
    let size = entry.get("size").and_then(Value::as_u64).unwrap_or(0);
    let offset = p.offset.unwrap_or(0);
    let max = p.cat_max_bytes() as u64;
    let mut r_out = obj(vec![("uri", p.uri.clone().into()), ("op", "cat".into()), ("path", r.path.clone().into())]);
    if offset >= size || max == 0 {
        r_out.insert("content".into(), "".into());
        r_out.insert("bytes".into(), 0.into());
        r_out.insert("truncated".into(), (offset < size).into());
        if offset < size {
            r_out.insert("truncation_reason".into(), "max_bytes".into());
            r_out.insert("next_offset".into(), offset.into());
        }
        return Ok(Outcome::of(r_out));
    }
    let end = (offset + max).min(size);
    // Three extra bytes complete a character cut by the range end.
    let fetch_end = (end + 3).min(size) - 1;
    let dl = fs
        .up
        .read_file(
            fs.token,
            r.kind.client_kind(),
            &r.id,
            r.revision.as_deref(),
            &r.path,
            offset,
            fetch_end - offset + 1,
        )
        .await
        .map_err(|e| FsError::upstream(&e, &r.subject()))?;
    let bytes = &dl.bytes;
    let mut start = 0usize;
    while start < bytes.len() && start < 3 && (bytes[start] & 0xC0) == 0x80 {
        start += 1;
    }
    let mut stop = ((end - offset) as usize).min(bytes.len());
    while stop < bytes.len() && (bytes[stop] & 0xC0) == 0x80 {
        stop += 1;
    }
    let content = text::decode(&r.path, &bytes[start..stop]).map_err(|m| FsError::text_only(m, false))?;
    let real_end = offset + stop as u64;
    let truncated = real_end < size;
    r_out.insert("content".into(), content.into());
    r_out.insert("_start".into(), (offset + start as u64).into());
    r_out.insert("bytes".into(), (stop - start).into());
    r_out.insert("truncated".into(), truncated.into());
    if truncated {
        r_out.insert("truncation_reason".into(), "max_bytes".into());
        r_out.insert("next_offset".into(), real_end.into());
    }
    Ok(Outcome::of(r_out))
}

async fn attach(fs: &Fs<'_>, p: &Params, r: &Repo) -> FsResult {
    if r.path.is_empty() {
        return Err(FsError::not_a_file("attach requires a direct repository file URI"));
    }
    let Some(mime) = text::image_mime(&r.path) else {
        return Err(if text::classify(&r.path) == Class::Text {
            FsError::image_only(format!(
                "Refusing to attach known text file: {}. Attach returns supported image files only.",
                r.path
            ))
        } else {
            FsError::unsupported_media(format!(
                "Unsupported attachment media: {}. The file extension is not .jpg, .jpeg, .png, or .webp.",
                r.path
            ))
        });
    };
    let max = p.max_bytes.unwrap_or(ATTACH_MAX_BYTES);
    let entry = require_file(fs, p, r).await?;
    let size = entry.get("size").and_then(Value::as_u64).unwrap_or(max);
    if size > max {
        return Err(FsError::too_large(format!(
            "Image is too large to attach: {} is {size} bytes; complete-file limit is {max} bytes.",
            r.path
        )));
    }
    fs.reserve(size)?;
    let dl = match fs.up.read_file(fs.token, r.kind.client_kind(), &r.id, r.revision.as_deref(), &r.path, 0, max).await
    {
        Ok(d) if d.truncated => {
            fs.release(size);
            return Err(FsError::too_large(format!(
                "Image is too large to attach: {} is over the complete-file limit of {max} bytes.",
                r.path
            )));
        }
        Ok(d) => d,
        Err(e) => {
            fs.release(size);
            return Err(FsError::upstream(&e, &r.subject()));
        }
    };
    let got = dl.bytes.len() as u64;
    if got != size {
        fs.release(size);
        fs.reserve(got)?;
    }
    let meta = obj(vec![
        ("op", "attach".into()),
        ("uri", p.uri.clone().into()),
        ("path", r.path.clone().into()),
        ("mime_type", mime.into()),
        ("bytes", got.into()),
    ]);
    Ok(Outcome { result: meta, image: Some((dl.bytes, mime)) })
}
