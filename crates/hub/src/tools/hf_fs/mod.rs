//! `hf_fs`: a read-only virtual filesystem over `hf://` URIs. One call runs up to 30
//! `{cmd, args}` operations with bounded parallelism; results keep the input order, each
//! either a result or a recoverable error, and the whole output stays within the budget.

mod buckets;
mod collections;
mod docs;
pub mod grammar;
pub mod model;
mod papers;
pub mod repos;
mod text;

use std::sync::Mutex;

use base64::Engine as _;
use futures_util::stream::{self, StreamExt};
use mcp_engine::provider::{Tool, ToolOutput};
use mcp_engine::Ctx;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use self::model::*;
use super::args::{invalid_args, parse_args};
/// hf_fs's output budget in tokens: the hosted server's (larger than the other tools').
pub const TOKEN_BUDGET: usize = 20_000;
use super::format::{escape_md, format_bytes, inline_code};
use super::shell::{scrub, token_of};
use crate::client::HubClient;

pub const NAME: &str = "hf_fs";
/// This tool counts 4 characters per token (file contents are dense).
pub const MAX_CHARS: usize = TOKEN_BUDGET * 4;
pub const README: &str = include_str!("README.md");

pub const DESCRIPTION: &str = "Use hf_fs for Hugging Face Hub filesystem operations. Call it with operations, an \
array of {cmd, args} items; several operations may be submitted together (at most 30).

Usage:
  {\"operations\":[{\"cmd\":\"ls\",\"args\":[\"hf://models/org/repo\"]}]}

Grammar; each string below is one args array item:
  ls     URI [--recursive] [--glob GLOB] [--type TYPE] [--sort SORT] [--limit N]
  cat    URI [--offset N] [--max-bytes N]
  attach URI [--max-bytes N]
  stat   URI
  find   URI [--name GLOB] [--path GLOB] [--type TYPE] [--limit N]
  search URI [QUERY] [--type TYPE] [--sort SORT] [--tag TAG] [--kind mcp] [--limit N]

TYPE = file|dir|repo|bucket|collection|paper|link.
SORT = createdAt|downloads|likes|lastModified|likes30d|trendingScore|mainSize|id|trending|upvotes.
URI is a canonical hf:// URI (models|datasets|spaces/OWNER/NAME[@REV]/PATH, buckets/OWNER/NAME/PATH, collections, papers, \
docs). QUERY and GLOB \
are each one string.

Use search for discovery, ls for a known directory, find for recursive matching within a known scope, stat for \
metadata or an uncertain target type, cat for text contents, and attach for a complete JPEG, PNG, or WebP image. When \
the request gives an exact text-file URI, use cat directly; do not add ls or stat first.

Search scopes: hf://models|datasets|spaces[/OWNER], hf://collections[/OWNER], hf://papers, and hf://docs[/...]. Paper \
and documentation search require QUERY. --tag and --kind mcp apply to search hf://spaces only.
Use ls hf://models/trending, hf://datasets/trending, hf://spaces/trending, or hf://papers/trending for trending listings.
For a paper, cat hf://papers/ARXIV_ID/paper.md or metadata.json directly.
Omit --limit, --sort, and --type unless the request requires them. Limits and path-specific behavior are documented at \
hf://README.md. Issue one hf_fs call.";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Operation {
    cmd: String,
    args: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Args {
    operations: Vec<Operation>,
}

pub fn definition() -> Value {
    json!({
        "name": NAME,
        "title": "Hugging Face Hub: find, use and view models, datasets, spaces, papers, documentation and collections. Get daily papers reports, and browse trending content.",
        "description": DESCRIPTION,
        "inputSchema": {
            "type": "object",
            "properties": {
                "operations": {
                    "type": "array", "minItems": 1, "maxItems": BATCH_MAX_OPERATIONS,
                    "items": {
                        "type": "object",
                        "properties": {
                            "cmd": { "type": "string", "enum": ["ls", "cat", "attach", "stat", "find", "search"], "description": "Command to execute." },
                            "args": { "type": "array", "items": { "type": "string" }, "description": "Command arguments; each array item is one grammar token." }
                        },
                        "required": ["cmd", "args"],
                        "additionalProperties": false
                    }
                }
            },
            "required": ["operations"],
            "additionalProperties": false
        },
        "outputSchema": output_schema(),
        "annotations": {
            "title": "Hugging Face Hub filesystem",
            "readOnlyHint": true, "destructiveHint": false, "idempotentHint": false, "openWorldHint": true
        }
    })
}

fn output_schema() -> Value {
    let entry = json!({
        "type": "object",
        "properties": {
            "type": { "type": "string", "enum": ENTRY_TYPES }, "path": { "type": "string" }, "uri": { "type": "string" },
            "name": { "type": "string" }, "target_uri": { "type": "string" }, "repo_type": { "type": "string" },
            "size": { "type": "number" }, "lfs": { "type": "boolean" }, "private": { "type": "boolean" },
            "gated": { "anyOf": [{ "type": "boolean" }, { "type": "string" }] }, "likes": { "type": "number" }, "downloads": { "type": "number" },
            "task": { "type": "string" }, "tags": { "type": "array", "items": { "type": "string" } },
            "trending_score": { "type": "number" }, "sdk": { "anyOf": [{ "type": "string" }, { "type": "null" }] }, "title": { "type": "string" },
            "description": { "type": "string" }, "upvotes": { "type": "number" }, "updated_at": { "type": "string" },
            "created_at": { "type": "string" }, "published_at": { "type": "string" }, "url": { "type": "string" },
            "content_type": { "type": "string" }
        },
        "required": ["type", "path"]
    });
    let result = json!({
        "type": "object",
        "properties": {
            "uri": { "type": "string" },
            "op": { "type": "string", "enum": ["ls", "cat", "attach", "stat", "find", "search"] },
            "entries": { "type": "array", "items": entry },
            "path": { "type": "string" }, "content": { "type": "string" }, "content_type": { "type": "string" },
            "mime_type": { "type": "string", "enum": ["image/jpeg", "image/png", "image/webp"] },
            "section": { "type": "string" }, "bytes": { "type": "number" }, "exists": { "type": "boolean" },
            "type": { "type": "string", "enum": ["namespace", "repo", "dir", "file", "collection", "paper", "link", "missing"] },
            "namespace": { "type": "string" }, "size": { "type": "number" }, "lfs": { "type": "boolean" },
            "target_uri": { "type": "string" }, "truncated": { "type": "boolean" },
            "truncation_reason": { "type": "string", "enum": ["entry_limit", "max_bytes", "limit", "provider_limit", "output_budget"] },
            "truncation_message": { "type": "string" }, "next_offset": { "type": "number" },
            "warnings": { "type": "array", "items": { "type": "string" } }
        },
        "required": ["uri", "op"]
    });
    json!({
        "type": "object",
        "properties": {
            "results": {
                "type": "array", "minItems": 1, "maxItems": BATCH_MAX_OPERATIONS,
                "items": {
                    "type": "object",
                    "properties": {
                        "index": { "type": "integer", "minimum": 0 },
                        "status": { "type": "string", "enum": ["success", "error"] },
                        "result": result,
                        "output_truncated": { "type": "boolean" },
                        "error": { "type": "object", "properties": {
                            "code": { "type": "string" }, "message": { "type": "string" }, "recovery": { "type": "string" },
                            "retryable": { "type": "boolean" },
                            "suggestedOperation": { "type": "string", "enum": ["ls", "cat", "attach", "stat", "search"] }
                        }, "required": ["code", "message", "recovery", "retryable"] }
                    },
                    "required": ["index", "status"]
                }
            },
            "truncated": { "type": "boolean" },
            "truncation_reason": { "type": "string", "enum": ["output_budget"] }
        },
        "required": ["results"]
    })
}

/// Per-call context shared by the operations of one batch.
pub struct Fs<'a> {
    pub up: &'a HubClient,
    pub token: Option<&'a str>,
    attach_used: Mutex<u64>,
}

impl Fs<'_> {
    fn reserve(&self, bytes: u64) -> Result<(), FsError> {
        let mut used = self.attach_used.lock().unwrap_or_else(|e| e.into_inner());
        if *used + bytes > ATTACH_MAX_BYTES {
            return Err(FsError::budget_exceeded(format!(
                "Attachment omitted because the batch exceeds the cumulative response limit of {ATTACH_MAX_BYTES} bytes."
            )));
        }
        *used += bytes;
        Ok(())
    }
    fn release(&self, bytes: u64) {
        let mut used = self.attach_used.lock().unwrap_or_else(|e| e.into_inner());
        *used = used.saturating_sub(bytes);
    }
}

pub fn tool(upstream: HubClient) -> Tool {
    Tool::new(definition(), move |args, ctx: Ctx| {
        let upstream = upstream.clone();
        async move {
            let token = token_of(&ctx);
            let out = match parse_args::<Args>(&args) {
                Err(e) => invalid_args(format!(
                    "{e} hf_fs takes {{\"operations\": [{{\"cmd\": \"ls\", \"args\": [\"hf://models/OWNER/NAME\"]}}]}}."
                )),
                Ok(a) if a.operations.is_empty() || a.operations.len() > BATCH_MAX_OPERATIONS => invalid_args(format!(
                    "Provide 1 to {BATCH_MAX_OPERATIONS} operations (got {}); split larger batches across calls.",
                    a.operations.len()
                )),
                Ok(a) => run_batch(&upstream, token.as_deref(), &ctx, a.operations).await,
            };
            Ok(scrub(out, token.as_deref()))
        }
    })
}

async fn run_batch(up: &HubClient, token: Option<&str>, ctx: &Ctx, ops: Vec<Operation>) -> ToolOutput {
    let fs = Fs { up, token, attach_used: Mutex::new(0) };
    let total = ops.len();
    let fs_ref = &fs;
    let no_images = crate::gradio::no_image_content(ctx.request());
    let mut stream = stream::iter(ops.into_iter().enumerate().map(|(i, op)| async move {
        let res = match grammar::parse(&op.cmd, &op.args) {
            // Refused before anything is read, as the hosted server does.
            _ if no_images && op.cmd == "attach" => Err(FsError::image_content_disabled()),
            Err(e) => Err(e),
            Ok(p) => {
                let warnings = p.warnings.clone();
                run_one(fs_ref, &p).await.map(|mut o| {
                    if !warnings.is_empty() {
                        o.result.insert("warnings".into(), json!(warnings));
                    }
                    o
                })
            }
        };
        (i, res)
    }))
    .buffered(BATCH_CONCURRENCY);
    let mut items: Vec<(usize, FsResult)> = Vec::with_capacity(total);
    while let Some(item) = stream.next().await {
        items.push(item);
        if total > 1 {
            ctx.progress(items.len() as f64, Some(total as f64), None).await;
        }
    }
    drop(stream);
    assemble(items)
}

/// Route one parsed operation.
pub async fn run_one(fs: &Fs<'_>, p: &Params) -> FsResult {
    if let Some(local) = local(p) {
        return local;
    }
    let uri = p.uri.as_str();
    let root_name = uri.trim_start_matches("hf://").split(['/', '#']).next().unwrap_or("");
    match root_name {
        "papers" => papers::run(fs, p).await,
        "docs" => docs::run(fs, p).await,
        "collections" => collections::run(fs, p).await,
        "models" | "datasets" | "spaces" => repos::run(fs, p).await,
        "buckets" => buckets::run(fs, p).await,
        other => Err(FsError::invalid(format!(
            "invalid URI type '{other}'; use hf://models, hf://datasets, hf://spaces, hf://buckets, hf://collections, hf://papers or hf://docs"
        ))),
    }
}

/// The operations answered without the Hub: the `hf://` root and `hf://README.md`.
fn local(p: &Params) -> Option<FsResult> {
    let uri = p.uri.as_str();
    if uri == "hf://" || uri == "hf:///" {
        return Some(root(p));
    }
    if uri == "hf://README.md" {
        return Some(match p.op {
            Op::Cat => Ok(cat_text(
                "hf://README.md",
                "README.md",
                README,
                Some("text/markdown"),
                p.offset.unwrap_or(0),
                p.cat_max_bytes(),
            )),
            Op::Stat => Ok(stat_result(
                uri,
                true,
                "file",
                "README.md",
                vec![("content_type", "text/markdown".into()), ("size", README.len().into())],
            )),
            Op::Attach => Err(FsError::image_only("Refusing to attach known text file: README.md. Use cat.")),
            _ => Err(FsError::not_a_directory("hf://README.md is a file; use cat")),
        });
    }
    None
}

/// What a call does with its arguments before any Hub request — the arguments, each
/// operation's grammar, the answers given locally and the URI of every other root — for
/// the fuzz targets (public for them only).
#[doc(hidden)]
pub fn parse_offline(args: &mcp_engine::provider::Arguments) -> Result<Vec<Result<(), FsError>>, String> {
    let a = parse_args::<Args>(args)?;
    let one = |op: &Operation| -> Result<(), FsError> {
        let p = grammar::parse(&op.cmd, &op.args)?;
        if let Some(local) = local(&p) {
            return local.map(drop);
        }
        let uri = p.uri.as_str();
        match uri.trim_start_matches("hf://").split(['/', '#']).next().unwrap_or("") {
            "papers" => papers::parse(uri).map(drop),
            "docs" => docs::parse(uri).map(drop),
            "collections" => collections::parse(uri).map(drop),
            "models" | "datasets" | "spaces" => repos::parse_repo_uri(uri).map(drop),
            "buckets" => buckets::parse(uri).map(drop),
            _ => Ok(()),
        }
    };
    Ok(a.operations.iter().map(one).collect())
}

fn root(p: &Params) -> FsResult {
    match p.op {
        Op::Ls => {
            let mut entries = vec![json!({ "type": "file", "path": "README.md", "name": "README.md", "uri": "hf://README.md", "content_type": "text/markdown" })];
            for name in ["models", "datasets", "spaces", "buckets", "collections", "papers", "docs"] {
                entries.push(json!({ "type": "dir", "path": name, "name": name, "uri": format!("hf://{name}") }));
            }
            let entries = entries.into_iter().filter(|e| ls_matches(p, e, "")).collect();
            Ok(entries_result("hf://", Op::Ls, entries, None))
        }
        Op::Stat => Ok(stat_result("hf://", true, "dir", "", vec![])),
        Op::Find => Err(FsError::unsupported("find is not supported for the global hf:// root; use search on hf://models, hf://datasets, hf://spaces, hf://papers or hf://docs")),
        Op::Search => Err(FsError::unsupported("search requires a scoped discovery root such as hf://models, hf://datasets, hf://papers or hf://collections")),
        Op::Cat | Op::Attach => Err(FsError::not_a_file("hf:// is a directory; cat hf://README.md for guidance")),
    }
}

fn json_len(v: &Value) -> usize {
    serde_json::to_string(v).map(|s| s.len()).unwrap_or(0)
}

/// Shrink a result to at most `room` serialized characters: cut `content`, drop trailing
/// entries. `None` when not even the skeleton fits.
fn shrink(result: &mut Map<String, Value>, room: usize) -> bool {
    let size = json_len(&Value::Object(result.clone()));
    if size <= room {
        return true;
    }
    let over = size - room + 200;
    if let Some(Value::String(content)) = result.get("content").cloned() {
        if content.len() > over {
            let keep = super::format::cut(&content, content.len() - over).to_owned();
            let start = result
                .get("next_offset")
                .and_then(Value::as_u64)
                .zip(result.get("bytes").and_then(Value::as_u64))
                .map(|(next, bytes)| next - bytes);
            let start = start.or_else(|| result.get("_start").and_then(Value::as_u64)).unwrap_or(0);
            result.insert("bytes".into(), keep.len().into());
            result.insert("next_offset".into(), (start + keep.len() as u64).into());
            result.insert("content".into(), keep.into());
            result.insert("truncated".into(), true.into());
            result.insert("truncation_reason".into(), "output_budget".into());
            result.insert(
                "truncation_message".into(),
                format!(
                    "Content cut to fit the ~{TOKEN_BUDGET}-token output budget. Continue with cat --offset {}.",
                    result["next_offset"]
                )
                .into(),
            );
            return true;
        }
    }
    if let Some(Value::Array(entries)) = result.get("entries").cloned() {
        let total = entries.len();
        let mut kept = Vec::new();
        let base = {
            let mut r = result.clone();
            r.insert("entries".into(), json!([]));
            json_len(&Value::Object(r)) + 400
        };
        let mut used = base;
        for e in entries {
            let n = json_len(&e) + 1;
            if used + n > room {
                break;
            }
            used += n;
            kept.push(e);
        }
        if base <= room {
            let shown = kept.len();
            result.insert("entries".into(), Value::Array(kept));
            result.insert("truncated".into(), true.into());
            result.insert("truncation_reason".into(), "output_budget".into());
            result.insert("truncation_message".into(), format!(
                "Output truncated to fit the ~{TOKEN_BUDGET}-token budget: showing {shown} of {total} entries. Use --limit \
                 with --offset, --glob/--type filters, or a narrower URI to see the rest."
            ).into());
            return true;
        }
    }
    false
}

fn assemble(items: Vec<(usize, FsResult)>) -> ToolOutput {
    let mut results = Vec::new();
    let mut images = Vec::new();
    let mut room = MAX_CHARS.saturating_sub(500);
    let mut budget_truncated = false;
    let ok = items.iter().filter(|(_, r)| r.is_ok()).count();
    let mut sections = Vec::new();
    for (i, res) in items {
        match res {
            Err(e) => {
                let v = json!({ "index": i, "status": "error", "error": e.to_json() });
                room = room.saturating_sub(json_len(&v));
                sections.push(format!("## Operation {}\n\n{}", i + 1, e.markdown()));
                results.push(v);
            }
            Ok(Outcome { mut result, image }) => {
                let mut item = json!({ "index": i, "status": "success" });
                if !shrink(&mut result, room) {
                    budget_truncated = true;
                    result.remove("entries");
                    result.remove("content");
                    item["output_truncated"] = true.into();
                } else if result.get("truncation_reason").and_then(Value::as_str) == Some("output_budget") {
                    budget_truncated = true;
                }
                result.remove("_start");
                if let Some((bytes, mime)) = image {
                    images.push(json!({
                        "type": "image",
                        "data": base64::engine::general_purpose::STANDARD.encode(&bytes),
                        "mimeType": mime,
                    }));
                }
                let md = render(&result);
                item["result"] = Value::Object(result);
                room = room.saturating_sub(json_len(&item));
                sections.push(format!("## Operation {}\n\n{md}", i + 1));
                results.push(item);
            }
        }
    }
    let mut structured = json!({ "results": results });
    if budget_truncated {
        structured["truncated"] = true.into();
        structured["truncation_reason"] = "output_budget".into();
    }
    let mut text = sections.join("\n\n---\n\n");
    if text.len() > MAX_CHARS {
        let note = format!(
            "\n\n_Output truncated to fit the hf_fs budget of about {TOKEN_BUDGET} tokens. Re-run omitted operations or use narrower limits._"
        );
        text = format!("{}{note}", super::format::cut(&text, MAX_CHARS - note.len()).trim_end());
    } else if budget_truncated {
        text.push_str(&format!(
            "\n\n_Some results were cut to fit the hf_fs budget of about {TOKEN_BUDGET} tokens; see each operation's truncation note._"
        ));
    }
    let mut content = vec![json!({ "type": "text", "text": text })];
    content.extend(images);
    let mut o = Map::new();
    o.insert("content".into(), Value::Array(content));
    o.insert("structuredContent".into(), structured);
    if ok == 0 {
        o.insert("isError".into(), true.into());
    }
    ToolOutput::Result(o)
}

fn render(r: &Map<String, Value>) -> String {
    let s = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or("");
    let op = s("op");
    let mut l: Vec<String> = Vec::new();
    match op {
        "ls" | "find" | "search" => {
            l.push(format!("# hf_fs {op}"));
            l.push(String::new());
            l.push(format!("URI: {}", inline_code(s("uri"))));
            if let Some(order) = r.get("order").and_then(Value::as_str) {
                l.push(String::new());
                l.push(format!("Order: {order}"));
            }
            let entries = r.get("entries").and_then(Value::as_array).cloned().unwrap_or_default();
            l.push(String::new());
            if entries.is_empty() {
                l.push("No entries.".into());
            } else {
                l.push("| Type | Path | URI | Target | Details |".into());
                l.push("|---|---|---|---|---|".into());
                for e in &entries {
                    let g = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or("");
                    l.push(format!(
                        "| {} | {} | {} | {} | {} |",
                        escape_md(g("type")),
                        escape_md(g("path")),
                        escape_md(g("uri")),
                        escape_md(g("target_uri")),
                        escape_md(&details(e))
                    ));
                }
                if entries.iter().any(|e| e.get("type").and_then(Value::as_str) == Some("link")) {
                    l.push(String::new());
                    l.push("Links resolve when addressed directly but are not followed by recursive ls or find; the Target column is the canonical URI.".into());
                }
            }
            if r.get("truncated").and_then(Value::as_bool) == Some(true) {
                l.push(String::new());
                l.push(r.get("truncation_message").and_then(Value::as_str).map(str::to_owned).unwrap_or_else(|| {
                    format!(
                        "Result truncated ({}). Use --limit or a narrower scope to see more.",
                        s("truncation_reason")
                    )
                }));
            }
        }
        "cat" => {
            l.push("# hf_fs cat".into());
            l.push(String::new());
            l.push(format!("URI: {}", inline_code(s("uri"))));
            l.push(format!("Path: {}", inline_code(s("path"))));
            if let Some(sec) = r.get("section").and_then(Value::as_str) {
                l.push(format!("Section: {}", inline_code(sec)));
            }
            if let Some(ct) = r.get("content_type").and_then(Value::as_str) {
                l.push(format!("Content-Type: {}", inline_code(ct)));
            }
            l.push(format!("Bytes: {}", r.get("bytes").and_then(Value::as_u64).unwrap_or(0)));
            l.push(String::new());
            l.push(s("content").to_owned());
            if r.get("truncated").and_then(Value::as_bool) == Some(true) {
                l.push(String::new());
                l.push(r.get("truncation_message").and_then(Value::as_str).map(str::to_owned).unwrap_or_else(|| {
                    format!(
                        "Content truncated. Resume with --offset {}.",
                        r.get("next_offset").and_then(Value::as_u64).unwrap_or(0)
                    )
                }));
            }
        }
        "attach" => {
            l.push("# hf_fs attach".into());
            l.push(String::new());
            l.push(format!("- URI: {}", inline_code(s("uri"))));
            l.push(format!("- Path: {}", inline_code(s("path"))));
            l.push(format!("- MIME type: {}", inline_code(s("mime_type"))));
            l.push(format!("- Bytes: {}", r.get("bytes").and_then(Value::as_u64).unwrap_or(0)));
            l.push("- The image follows as image content.".into());
        }
        _ => {
            l.push("# hf_fs stat".into());
            l.push(String::new());
            l.push(format!("- URI: {}", inline_code(s("uri"))));
            l.push(format!(
                "- Exists: {}",
                if r.get("exists").and_then(Value::as_bool) == Some(true) { "yes" } else { "no" }
            ));
            l.push(format!("- Type: {}", inline_code(s("type"))));
            l.push(format!("- Path: {}", inline_code(s("path"))));
            if let Some(n) = r.get("namespace").and_then(Value::as_str) {
                l.push(format!("- Namespace: {}", inline_code(n)));
            }
            if let Some(n) = r.get("size").and_then(Value::as_f64) {
                l.push(format!("- Size: {}", format_bytes(n)));
            }
            if let Some(b) = r.get("lfs").and_then(Value::as_bool) {
                l.push(format!("- LFS: {}", if b { "yes" } else { "no" }));
            }
            if let Some(g) = r.get("gated").and_then(Value::as_str) {
                l.push(format!("- Gated: {g} (files need accepted access conditions)"));
            }
            for (k, label) in [
                ("target_uri", "Target"),
                ("content_type", "Content-Type"),
                ("published_at", "Published"),
                ("daily_papers_date", "Daily Papers date"),
                ("daily_papers_uri", "Daily Papers cohort"),
                ("url", "Web"),
                ("arxiv_url", "arXiv"),
            ] {
                if let Some(v) = r.get(k).and_then(Value::as_str) {
                    l.push(format!("- {label}: {v}"));
                }
            }
        }
    }
    if let Some(w) = r.get("warnings").and_then(Value::as_array).filter(|w| !w.is_empty()) {
        l.push(String::new());
        l.push("Warnings:".into());
        for x in w.iter().filter_map(Value::as_str) {
            l.push(format!("- {x}"));
        }
    }
    l.join("\n")
}

fn details(e: &Value) -> String {
    let mut d: Vec<String> = Vec::new();
    let s = |k: &str| e.get(k).and_then(Value::as_str);
    let n = |k: &str| e.get(k).and_then(Value::as_f64);
    if let Some(r) = s("repo_type") {
        d.push(format!("repo={r}"));
    }
    if let Some(p) = e.get("private").and_then(Value::as_bool) {
        d.push(if p { "private".into() } else { "public".into() });
    }
    if let Some(g) = s("gated") {
        d.push(format!("gated={g}"));
    }
    if let Some(b) = e.get("lfs").and_then(Value::as_bool) {
        d.push(if b { "lfs".into() } else { "non-lfs".into() });
    }
    for (k, label) in [("likes", "likes"), ("downloads", "downloads"), ("upvotes", "upvotes")] {
        if let Some(v) = n(k) {
            d.push(format!("{label}={v}"));
        }
    }
    if let Some(v) = n("size") {
        d.push(format!("size={}", format_bytes(v)));
    }
    for (k, label) in [("task", "task"), ("sdk", "sdk"), ("title", "title"), ("category", "category")] {
        if let Some(v) = s(k) {
            d.push(format!("{label}={v}"));
        }
    }
    if let Some(v) = n("trending_score") {
        d.push(format!("trending score={v}"));
    }
    if let Some(v) = n("semantic_relevance") {
        d.push(format!("semantic relevance={:.1}%", v * 100.0));
    }
    if let Some(v) = s("description") {
        d.push(super::format::ellipsize(&v.split_whitespace().collect::<Vec<_>>().join(" "), 240));
    }
    for (k, label) in [
        ("updated_at", "updated"),
        ("published_at", "published"),
        ("daily_papers_date", "daily papers"),
        ("url", "web"),
        ("content_type", "content type"),
    ] {
        if let Some(v) = s(k) {
            d.push(format!("{label}={v}"));
        }
    }
    d.join(", ")
}
