//! Parameters, results and recoverable errors of `hf_fs` operations.

use serde_json::{Map, Value};

use crate::client::{HubError, HubErrorKind};
use crate::tools::explain::explain;

pub const ATTACH_MAX_BYTES: u64 = 8 * 1024 * 1024;
pub const BATCH_MAX_OPERATIONS: usize = 30;
pub const BATCH_CONCURRENCY: usize = 4;
pub const DEFAULT_LS_LIMIT: usize = 1_000;
pub const MAX_LS_LIMIT: usize = 10_000;
pub const DEFAULT_SEARCH_LIMIT: usize = 100;
pub const MAX_SEARCH_LIMIT: usize = 1_000;
pub const DEFAULT_TRENDING_LIMIT: usize = 20;
pub const DEFAULT_CAT_MAX_BYTES: usize = 20_000;
pub const MAX_CAT_BYTES: usize = 80_000;
pub const ENTRY_TYPES: &[&str] = &["file", "dir", "repo", "bucket", "collection", "paper", "link"];
pub const SORTS: &[&str] = &[
    "createdAt",
    "downloads",
    "likes",
    "lastModified",
    "likes30d",
    "trendingScore",
    "mainSize",
    "id",
    "trending",
    "upvotes",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Ls,
    Cat,
    Attach,
    Stat,
    Find,
    Search,
}

impl Op {
    pub fn parse(s: &str) -> Option<Op> {
        Some(match s {
            "ls" => Op::Ls,
            "cat" => Op::Cat,
            "attach" => Op::Attach,
            "stat" => Op::Stat,
            "find" => Op::Find,
            "search" => Op::Search,
            _ => return None,
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Ls => "ls",
            Op::Cat => "cat",
            Op::Attach => "attach",
            Op::Stat => "stat",
            Op::Find => "find",
            Op::Search => "search",
        }
    }
}

/// One parsed operation.
#[derive(Debug, Clone)]
pub struct Params {
    pub op: Op,
    pub uri: String,
    pub glob: Option<String>,
    pub recursive: bool,
    pub entry_type: Option<String>,
    pub name: Option<String>,
    pub path: Option<String>,
    pub query: Option<String>,
    pub sort: Option<String>,
    pub tags: Vec<String>,
    pub space_kind: Option<String>,
    pub max_bytes: Option<u64>,
    pub offset: Option<u64>,
    pub limit: Option<usize>,
    pub warnings: Vec<String>,
}

impl Params {
    pub fn new(op: Op, uri: impl Into<String>) -> Params {
        Params {
            op,
            uri: uri.into(),
            glob: None,
            recursive: false,
            entry_type: None,
            name: None,
            path: None,
            query: None,
            sort: None,
            tags: Vec::new(),
            space_kind: None,
            max_bytes: None,
            offset: None,
            limit: None,
            warnings: Vec::new(),
        }
    }
    pub fn type_matches(&self, entry: &Value) -> bool {
        self.entry_type.as_deref().is_none_or(|t| entry.get("type").and_then(Value::as_str) == Some(t))
    }
    pub fn cat_max_bytes(&self) -> usize {
        match self.max_bytes {
            None => DEFAULT_CAT_MAX_BYTES,
            Some(0) => MAX_CAT_BYTES,
            Some(n) => n as usize,
        }
    }
}

/// A successful operation's result object (`uri`, `op`, …), plus image bytes for `attach`.
pub struct Outcome {
    pub result: Map<String, Value>,
    pub image: Option<(Vec<u8>, &'static str)>,
}

impl Outcome {
    pub fn of(result: Map<String, Value>) -> Self {
        Outcome { result, image: None }
    }
}

pub type FsResult = Result<Outcome, FsError>;

/// A recoverable per-operation error: what happened, what to do, whether retrying helps.
#[derive(Debug, Clone)]
pub struct FsError {
    pub code: &'static str,
    pub message: String,
    pub recovery: String,
    pub retryable: bool,
    pub suggested: Option<&'static str>,
}

impl FsError {
    fn new(code: &'static str, message: impl Into<String>, recovery: impl Into<String>) -> Self {
        FsError { code, message: message.into(), recovery: recovery.into(), retryable: false, suggested: None }
    }
    fn suggest(mut self, op: &'static str) -> Self {
        self.suggested = Some(op);
        self
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        FsError::new(
            "HF_FS_INVALID_ARGUMENT",
            format!("EINVAL: {}", message.into()),
            "Correct the URI or flags using the operation grammar and route-specific option guidance (cat hf://README.md).",
        )
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        FsError::new(
            "HF_FS_NOT_FOUND",
            format!("ENOENT: {}", message.into()),
            "Use stat to verify the target or ls/find to discover a returned URI before retrying.",
        )
        .suggest("stat")
    }
    pub fn not_a_directory(message: impl Into<String>) -> Self {
        FsError::new(
            "HF_FS_NOT_A_DIRECTORY",
            format!("ENOTDIR: {}", message.into()),
            "Use stat to inspect the target, then run ls or find only on a directory-like scope; use cat for files.",
        )
        .suggest("stat")
    }
    pub fn not_a_file(message: impl Into<String>) -> Self {
        FsError::new(
            "HF_FS_NOT_A_FILE",
            format!("EISDIR: {}", message.into()),
            "Use stat to confirm the target is a file, or ls/find to discover a returned file URI.",
        )
        .suggest("stat")
    }
    pub fn unsupported(message: impl Into<String>) -> Self {
        let message = message.into();
        let search = message.contains("search");
        let e = FsError::new(
            "HF_FS_UNSUPPORTED_OPERATION",
            format!("ENOTSUP: {message}"),
            "Follow the supported operation named in the error. Otherwise narrow the URI scope or remove the unsupported option.",
        );
        if search {
            e.suggest("search")
        } else {
            e
        }
    }
    pub fn text_only(message: impl Into<String>, image: bool) -> Self {
        if image {
            FsError::new(
                "HF_FS_TEXT_ONLY",
                message,
                "Use attach to return this image to the model, or stat for metadata.",
            )
            .suggest("attach")
        } else {
            FsError::new(
                "HF_FS_TEXT_ONLY",
                message,
                "Use stat for metadata or ls on the parent directory. Do not use cat for binary or non-UTF-8 content.",
            )
            .suggest("stat")
        }
    }
    pub fn image_only(message: impl Into<String>) -> Self {
        FsError::new("HF_FS_IMAGE_ONLY", message, "Use cat to read this text file, or stat for metadata.")
            .suggest("cat")
    }
    pub fn unsupported_media(message: impl Into<String>) -> Self {
        FsError::new(
            "HF_FS_UNSUPPORTED_MEDIA",
            message,
            "Attach supports only files ending in .jpg, .jpeg, .png, or .webp. Use stat for metadata.",
        )
        .suggest("stat")
    }
    pub fn too_large(message: impl Into<String>) -> Self {
        FsError::new(
            "HF_FS_IMAGE_TOO_LARGE",
            message,
            "Use stat for metadata. Attach cannot truncate images or exceed its complete-file limit of 8 MiB.",
        )
        .suggest("stat")
    }
    /// `attach` under `no_image_content` (the hosted server's code and wording).
    pub fn image_content_disabled() -> Self {
        FsError::new(
            "HF_FS_IMAGE_CONTENT_DISABLED",
            "Image content is disabled for this MCP request by x-mcp-no-image-content.",
            "Remove x-mcp-no-image-content: true to allow image content, or use stat for metadata.",
        )
        .suggest("stat")
    }
    pub fn budget_exceeded(message: impl Into<String>) -> Self {
        let mut e = FsError::new(
            "HF_FS_ATTACHMENT_BUDGET_EXCEEDED",
            message,
            "This attachment was omitted because other attachments already used the call's shared 8 MiB payload \
             budget. Retry it in a separate hf_fs call.",
        )
        .suggest("attach");
        e.retryable = true;
        e
    }
    /// A Hub failure while working on `subject`.
    pub fn upstream(err: &HubError, subject: &str) -> Self {
        let code = match err.kind() {
            HubErrorKind::RepoNotFound
            | HubErrorKind::NotFound
            | HubErrorKind::EntryNotFound
            | HubErrorKind::RevisionNotFound => "HF_FS_NOT_FOUND",
            HubErrorKind::GatedRepo | HubErrorKind::Unauthorized | HubErrorKind::Forbidden => "HF_FS_ACCESS_DENIED",
            HubErrorKind::RateLimited => "HF_FS_RATE_LIMITED",
            HubErrorKind::Timeout => "HF_FS_UPSTREAM_TIMEOUT",
            HubErrorKind::ServerError | HubErrorKind::Connection | HubErrorKind::CircuitOpen => {
                "HF_FS_UPSTREAM_UNAVAILABLE"
            }
            HubErrorKind::BadRequest | HubErrorKind::InvalidInput => "HF_FS_INVALID_ARGUMENT",
            HubErrorKind::InvalidResponse | HubErrorKind::Other => "HF_FS_UPSTREAM_ERROR",
        };
        let text = explain(err, subject);
        let mut lines = text.splitn(2, '\n');
        let message = lines.next().unwrap_or_default().to_owned();
        let recovery = lines.next().unwrap_or_default().replace('\n', " ");
        let mut e = FsError::new(code, message, recovery);
        e.retryable = err.is_retryable();
        if code == "HF_FS_NOT_FOUND" {
            e.suggested = Some("stat");
        }
        e
    }
    pub fn to_json(&self) -> Value {
        let mut o = Map::new();
        o.insert("code".into(), self.code.into());
        o.insert("message".into(), self.message.clone().into());
        o.insert("recovery".into(), self.recovery.clone().into());
        o.insert("retryable".into(), self.retryable.into());
        if let Some(s) = self.suggested {
            o.insert("suggestedOperation".into(), s.into());
        }
        Value::Object(o)
    }
    pub fn markdown(&self) -> String {
        format!(
            "[{}] {}\nRecovery: {}\nRetry helps: {}",
            self.code,
            self.message,
            self.recovery,
            if self.retryable { "yes" } else { "no" }
        )
    }
}

/// Build a result object from pairs, dropping nulls.
pub fn obj(pairs: Vec<(&str, Value)>) -> Map<String, Value> {
    pairs.into_iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.to_owned(), v)).collect()
}

/// An `ls`/`find`/`search` result.
pub fn entries_result(uri: &str, op: Op, entries: Vec<Value>, truncated: Option<(&str, Option<String>)>) -> Outcome {
    let mut r = obj(vec![("uri", uri.into()), ("op", op.as_str().into()), ("entries", Value::Array(entries))]);
    if let Some((reason, message)) = truncated {
        r.insert("truncated".into(), true.into());
        r.insert("truncation_reason".into(), reason.into());
        if let Some(m) = message {
            r.insert("truncation_message".into(), m.into());
        }
    }
    Outcome::of(r)
}

pub fn stat_result(uri: &str, exists: bool, ty: &str, path: &str, extra: Vec<(&str, Value)>) -> Outcome {
    let mut r = obj(vec![
        ("uri", uri.into()),
        ("op", "stat".into()),
        ("exists", exists.into()),
        ("type", ty.into()),
        ("path", path.into()),
    ]);
    for (k, v) in extra {
        if !v.is_null() {
            r.insert(k.into(), v);
        }
    }
    Outcome::of(r)
}

/// Slice text by UTF-8 bytes from `offset`, never splitting a character.
pub fn cat_text(uri: &str, path: &str, content: &str, content_type: Option<&str>, offset: u64, max: usize) -> Outcome {
    let bytes = content.as_bytes();
    let total = bytes.len();
    let mut start = (offset as usize).min(total);
    while start > 0 && !content.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = (start + max).min(total);
    while end < total && !content.is_char_boundary(end) {
        end += 1;
    }
    let slice = &content[start..end];
    let truncated = end < total;
    let mut r = obj(vec![
        ("uri", uri.into()),
        ("op", "cat".into()),
        ("path", path.into()),
        ("content", slice.into()),
        ("content_type", content_type.map(Value::from).unwrap_or(Value::Null)),
        ("bytes", (end - start).into()),
        ("truncated", truncated.into()),
        ("_start", start.into()),
    ]);
    if truncated {
        r.insert("truncation_reason".into(), "max_bytes".into());
        r.insert("next_offset".into(), end.into());
    }
    Outcome::of(r)
}

pub fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

pub fn parent(path: &str) -> &str {
    path.rfind('/').map_or("", |i| &path[..i])
}

/// `path` relative to `base` (a directory path, `""` for the root).
pub fn relative<'a>(base: &str, path: &'a str) -> &'a str {
    if base.is_empty() {
        return path;
    }
    path.strip_prefix(base).and_then(|r| r.strip_prefix('/')).unwrap_or(path)
}

/// Apply `find` filters (`--type`, `--name` basename glob, `--path` relative glob).
pub fn find_matches(p: &Params, entry: &Value, base: &str) -> bool {
    if !p.type_matches(entry) {
        return false;
    }
    let path = entry.get("path").and_then(Value::as_str).unwrap_or("");
    if let Some(n) = &p.name {
        let name = entry.get("name").and_then(Value::as_str).unwrap_or_else(|| basename(path));
        if !crate::tools::glob::glob_match(n, name) {
            return false;
        }
    }
    if let Some(g) = &p.path {
        if !crate::tools::glob::glob_match(g, relative(base, path)) {
            return false;
        }
    }
    true
}

pub fn ls_matches(p: &Params, entry: &Value, base: &str) -> bool {
    if !p.type_matches(entry) {
        return false;
    }
    match &p.glob {
        None => true,
        Some(g) => {
            let path = entry.get("path").and_then(Value::as_str).unwrap_or("");
            crate::tools::glob::glob_match(g, relative(base, path))
        }
    }
}

/// Apply offset/limit to filtered entries.
pub fn page(p: &Params, entries: Vec<Value>, default_limit: usize) -> (Vec<Value>, bool) {
    let offset = p.offset.unwrap_or(0) as usize;
    let limit = p.limit.unwrap_or(default_limit);
    let total = entries.len();
    let out: Vec<Value> = entries.into_iter().skip(offset).take(limit).collect();
    let truncated = offset + out.len() < total;
    (out, truncated)
}

pub const ENTRY_LIMIT_MESSAGE: &str =
    "Result truncated after reaching the entry limit. Rerun with a larger --limit, up to 10000, or narrow the scope.";
