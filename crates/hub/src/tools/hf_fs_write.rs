//! `hf_fs_write`: write (`put`) or remove (`rm`) one file in a repository or bucket — one
//! commit per call through the Hub's commit API, to a branch (`--branch` or `URI@REV`), as a
//! pull request (`--create-pr`), or only if the branch is still at `--parent-commit`. Grammar,
//! arguments and text follow the hosted server's tool (hf-mcp-server 0.4.x).
//!
//! Beyond it:
//! * Deleting, or overwriting an existing file on `main`, asks the user first when the client
//!   can be asked and the operator left `--confirm-destructive` on ([`confirm`]); a declined or
//!   cancelled confirmation answers "not done" without `isError`. Pull requests change
//!   nothing on the branch and are not confirmed.
//! * Files the Hub wants in Git LFS (its preupload answer: larger than 10 MB, or matching the
//!   repository's LFS patterns) go through the LFS batch API, then the commit references them.
//! * Bucket files are stored through Xet: `put` cuts the bytes into chunks and xorbs
//!   (`xet_format::upload::prepare`), uploads them and the shard to the bucket's CAS
//!   ([`HubClient::upload_to_bucket_xet`]), then registers the file with a bucket batch `addFile`
//!   line; `rm` is a batch `deleteFile` line. Buckets keep no history, so overwriting an
//!   existing bucket file is confirmed like a delete.
//! * Content size is bounded by the request body limit (`--max-body-bytes`), for repositories
//!   and buckets alike.

use base64::Engine as _;
use bytes::Bytes;
use mcp_engine::provider::{Tool, ToolOutput};
use mcp_engine::{CallError, Ctx};
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::args::{invalid_args, parse_args};
use super::confirm::{confirm_destructive, will_ask, Confirmation};
use super::format::{escape_md, format_bytes, inline_code};
use super::shell::{scrub, token_of};
use super::write_common::{no_token, parse_target, refused, Target};
use crate::client::{HubClient, LfsObject, RepoKind, WriteTarget};

pub const NAME: &str = "hf_fs_write";

pub const DESCRIPTION: &str = "Write or remove files in Hugging Face repositories and buckets.

Grammar; each token below is one args array element:
  put URI [--base64] [(-m|--message) MESSAGE] [--description DESCRIPTION]
          [--branch BRANCH] [--create-pr] [--parent-commit SHA]
  rm  URI [(-m|--message) MESSAGE] [--description DESCRIPTION]
          [--branch BRANCH] [--create-pr] [--parent-commit SHA]

URI must be an hf://models|datasets|spaces|buckets/OWNER/NAME/PATH file URI.
For put, provide file data in the separate content field. Content is UTF-8 text unless --base64 is present.
Use --create-pr to propose a change when direct repository writes are unavailable or undesirable.
Branches, pull requests, descriptions, and parent commits are not supported for buckets.
A URI '@revision' and --branch are equivalent; do not specify conflicting values.
--parent-commit must be a 40-character Git commit SHA and prevents overwriting concurrent changes.
No pipes, redirects, shell expansion, or multiple commands.";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Args {
    cmd: String,
    args: Vec<String>,
    #[serde(default)]
    content: Option<String>,
}

/// A parsed request.
#[derive(Debug, Default, PartialEq)]
struct Params {
    put: bool,
    uri: String,
    content: Option<String>,
    base64: bool,
    message: Option<String>,
    description: Option<String>,
    branch: Option<String>,
    create_pr: bool,
    parent_commit: Option<String>,
}

pub fn definition() -> Value {
    json!({
        "name": NAME,
        "title": "Hugging Face File Writes",
        "description": DESCRIPTION,
        "inputSchema": {
            "type": "object",
            "properties": {
                "cmd": { "type": "string", "enum": ["put", "rm"], "description": "Command to execute." },
                "args": { "type": "array", "items": { "type": "string" },
                    "description": "Command arguments; each array item is one grammar token." },
                "content": { "type": "string",
                    "description": "File content for put. UTF-8 text by default; base64 when args includes --base64." }
            },
            "required": ["cmd", "args"],
            "additionalProperties": false
        },
        "outputSchema": {
            "type": "object",
            "properties": {
                "uri": { "type": "string" }, "op": { "type": "string", "enum": ["put", "rm"] },
                "repo": { "type": "string" },
                "repo_type": { "type": "string", "enum": ["model", "dataset", "space", "bucket"] },
                "path": { "type": "string" }, "bytes": { "type": "number" }, "branch": { "type": "string" },
                "message": { "type": "string" },
                "commit": { "type": "object", "properties": { "oid": { "type": "string" }, "url": { "type": "string" } },
                    "required": ["oid", "url"] },
                "pull_request_url": { "type": "string" },
                "lfs": { "type": "boolean" },
                "done": { "type": "boolean" },
                "confirmation": { "type": "string", "enum": ["accepted", "declined", "cancelled", "not_asked"] }
            },
            "required": ["uri", "op", "repo", "repo_type", "path", "message"]
        },
        "annotations": {
            "title": "Hugging Face File Writes",
            "readOnlyHint": false, "destructiveHint": true, "idempotentHint": false, "openWorldHint": true
        }
    })
}

/// `confirm`: the operator's `--confirm-destructive`.
pub fn tool(client: HubClient, confirm: bool) -> Tool {
    Tool::new(definition(), move |args, mut ctx: Ctx| {
        let client = client.clone();
        async move {
            let token = token_of(&ctx);
            let out = match parse_args::<Args>(&args).map_err(invalid_args).and_then(parse) {
                Err(out) => out,
                Ok(_) if token.is_none() => no_token(NAME),
                Ok(p) => run(&client, token.as_deref().unwrap_or_default(), &mut ctx, confirm, p).await?,
            };
            Ok(scrub(out, token.as_deref()))
        }
    })
}

fn einval(message: impl AsRef<str>) -> ToolOutput {
    invalid_args(format!("EINVAL: {}", message.as_ref()))
}

fn parse(a: Args) -> Result<Params, ToolOutput> {
    let put = match a.cmd.as_str() {
        "put" => true,
        "rm" => false,
        other => return Err(einval(format!("unknown command '{other}'; use put or rm"))),
    };
    let mut p = Params { put, content: a.content, ..Params::default() };
    let mut positionals = Vec::new();
    let mut it = a.args.into_iter();
    while let Some(token) = it.next() {
        let mut value = |flag: &str| -> Result<String, ToolOutput> {
            it.next().filter(|v| !v.trim().is_empty()).ok_or_else(|| einval(format!("{flag} requires a value")))
        };
        match token.as_str() {
            "-m" | "--message" => p.message = Some(value(&token)?),
            "--description" => p.description = Some(value(&token)?),
            "--branch" => p.branch = Some(value(&token)?),
            "--parent-commit" => p.parent_commit = Some(value(&token)?),
            "--create-pr" => p.create_pr = true,
            "--base64" if put => p.base64 = true,
            flag if flag.starts_with('-') => return Err(einval(format!("unknown option for {}: {flag}", a.cmd))),
            _ => positionals.push(token),
        }
    }
    let mut positionals = positionals.into_iter();
    let Some(uri) = positionals.next() else {
        return Err(einval(format!("{} requires an hf:// file URI", a.cmd)));
    };
    if !uri.starts_with("hf://") {
        return Err(einval("URI must start with hf://"));
    }
    if let Some(extra) = positionals.next() {
        return Err(einval(format!("unexpected argument for {}: {extra}", a.cmd)));
    }
    if let Some(sha) = &p.parent_commit {
        if sha.len() != 40 || !sha.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(einval("--parent-commit requires a 40-character Git commit SHA"));
        }
    }
    if put && p.content.is_none() {
        return Err(einval("put requires content"));
    }
    if !put && p.content.is_some() {
        return Err(einval("content is only valid with put"));
    }
    p.uri = uri;
    Ok(p)
}

/// The result of a write that happened (or was declined).
struct Written {
    bytes: Option<usize>,
    branch: Option<String>,
    commit: Option<(String, String)>,
    pull_request_url: Option<String>,
    lfs: bool,
}

async fn run(
    client: &HubClient,
    token: &str,
    ctx: &mut Ctx,
    confirm: bool,
    p: Params,
) -> Result<ToolOutput, CallError> {
    let target = match parse_target(&p.uri, "URI") {
        Ok(t) if t.path().is_empty() => {
            return Ok(ToolOutput::error(format!(
                "{} requires a URI that points to a file path.",
                if p.put { "put" } else { "rm" }
            )))
        }
        Ok(t) => t,
        Err(e) => return Ok(ToolOutput::error(e)),
    };
    let content = match p.put {
        false => None,
        true => match decode_content(&p) {
            Ok(b) => Some(b),
            Err(e) => return Ok(ToolOutput::error(e)),
        },
    };
    let op = if p.put { "put" } else { "rm" };
    let message =
        p.message.clone().unwrap_or_else(|| format!("{} {}", if p.put { "Put" } else { "Remove" }, target.path()));
    let outcome = match &target {
        Target::Bucket { .. } => bucket(client, token, ctx, confirm, &p, &target, content, &message).await?,
        Target::Repo { revision, .. } => {
            let branch = match (&p.branch, revision) {
                (Some(b), Some(r)) if b != r => {
                    return Ok(ToolOutput::error(
                        "Specify the target branch either with uri '@revision' or with branch, not both.",
                    ))
                }
                (b, r) => b.clone().or_else(|| r.clone()),
            };
            repo(client, token, ctx, confirm, &p, &target, branch, content, &message).await?
        }
    };
    let written = match outcome {
        Ok(w) => w,
        Err(out) => return Ok(out),
    };
    let mut structured = json!({
        "uri": p.uri, "op": op, "repo": target.id(), "repo_type": target.repo_type(), "path": target.path(),
        "message": message, "done": true,
    });
    let mut lines = vec![
        format!("# hf_fs_write {op}"),
        String::new(),
        format!("Path: {}", inline_code(target.path())),
        format!("Repo: {}", inline_code(target.id())),
        format!("Type: {}", inline_code(target.repo_type())),
    ];
    if let Some(b) = &written.branch {
        lines.push(format!("Branch: {}", inline_code(b)));
        structured["branch"] = json!(b);
    }
    if let Some(n) = written.bytes {
        lines.push(format!("Bytes: {}", escape_md(&format_bytes(n as f64))));
        structured["bytes"] = json!(n);
    }
    if written.lfs {
        lines.push("Storage: Git LFS".into());
        structured["lfs"] = json!(true);
    }
    lines.push(format!("Message: {}", inline_code(&message)));
    if let Some((oid, url)) = &written.commit {
        lines.push(format!("Commit: [{}]({})", escape_md(oid), escape_md(url)));
        structured["commit"] = json!({ "oid": oid, "url": url });
    }
    if let Some(pr) = &written.pull_request_url {
        lines.push(format!("Pull request: {}", escape_md(pr)));
        structured["pull_request_url"] = json!(pr);
    }
    Ok(ToolOutput::structured(lines.join("\n"), structured))
}

fn decode_content(p: &Params) -> Result<Bytes, String> {
    let content = p.content.as_deref().unwrap_or_default();
    if !p.base64 {
        return Ok(Bytes::copy_from_slice(content.as_bytes()));
    }
    let compact: String = content.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map(Bytes::from)
        .map_err(|_| "base64 must be valid standard base64.".to_owned())
}

/// The "not done" answer to a declined or cancelled confirmation (not an error: the user chose).
fn not_done(p: &Params, target: &Target, message: &str, answer: Confirmation) -> ToolOutput {
    let op = if p.put { "put" } else { "rm" };
    let text = format!(
        "# hf_fs_write {op}\n\nNot done: the user {} the confirmation, so nothing was changed.\n\nPath: {}\nRepo: {}",
        answer.as_str(),
        inline_code(target.path()),
        inline_code(target.id())
    );
    ToolOutput::structured(
        text,
        json!({
            "uri": p.uri, "op": op, "repo": target.id(), "repo_type": target.repo_type(), "path": target.path(),
            "message": message, "done": false, "confirmation": answer.as_str(),
        }),
    )
}

type Outcome = Result<Written, ToolOutput>;

#[allow(clippy::too_many_arguments)]
async fn repo(
    client: &HubClient,
    token: &str,
    ctx: &mut Ctx,
    confirm: bool,
    p: &Params,
    target: &Target,
    branch: Option<String>,
    content: Option<Bytes>,
    message: &str,
) -> Result<Outcome, CallError> {
    let kind: RepoKind = target.client_kind().expect("a repository target");
    let (id, path) = (target.id(), target.path());
    let namespace = target.namespace().to_owned();
    let rev = branch.clone().unwrap_or_else(|| "main".to_owned());
    let (owner, name) = id.split_once('/').expect("ids are owner/name");
    let what = |e: &crate::HubError| {
        if e.kind() == crate::HubErrorKind::RevisionNotFound {
            return ToolOutput::error(format!(
                "Branch `{rev}` does not exist in {} `{id}`. Commit to an existing branch, or use --create-pr to \
                 propose the change.",
                kind.as_str()
            ));
        }
        refused(&format!("{} {path} in {id}", if p.put { "write" } else { "remove" }), &namespace, e)
    };

    // Deleting, or overwriting on main, asks first. Everything before the question is
    // read-only: in the stateless era the call is replayed with the answer.
    if !p.create_pr && will_ask(ctx, confirm) {
        let destructive = if p.put {
            rev == "main"
                && match client.file_exists(Some(token), kind, id, Some(&rev), path).await {
                    Ok(exists) => exists,
                    Err(e) => return Ok(Err(what(&e))),
                }
        } else {
            true
        };
        if destructive {
            let action = if p.put {
                format!(
                    "Overwrite `{path}` in {} `{id}` on branch `{rev}`? The current file will be replaced.",
                    kind.as_str()
                )
            } else {
                format!("Delete `{path}` from {} `{id}` on branch `{rev}`?", kind.as_str())
            };
            let answer = confirm_destructive(ctx, confirm, &action).await?;
            if !answer.proceed() {
                return Ok(Err(not_done(p, target, message, answer)));
            }
        }
    }

    let mut lines = vec![json!({ "key": "header", "value": {
        "summary": message,
        "description": p.description.as_deref().unwrap_or(""),
    } })];
    if let Some(parent) = &p.parent_commit {
        lines[0]["value"]["parentCommit"] = json!(parent);
    }
    let plural = kind.api_segment();
    let repo_target = WriteTarget::Repo(kind, id, Some(&rev));
    let mut lfs = false;
    match &content {
        None => lines.push(json!({ "key": "deletedFile", "value": { "path": path } })),
        Some(bytes) => {
            // The Hub decides regular vs LFS (size, the repository's .gitattributes).
            let sample = base64::engine::general_purpose::STANDARD.encode(&bytes[..bytes.len().min(512)]);
            let body = json!({ "files": [{ "path": path, "size": bytes.len(), "sample": sample }] });
            let mode = match client
                .post_json(Some(token), &["api", plural, owner, name, "preupload", &rev], &[], &body, repo_target)
                .await
            {
                Ok(v) => v["files"][0]["uploadMode"].as_str().unwrap_or("regular").to_owned(),
                Err(e) => return Ok(Err(what(&e))),
            };
            if mode == "lfs" {
                let oid: String = Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect();
                let object = LfsObject { oid: oid.clone(), bytes: bytes.clone() };
                if let Err(e) = client.upload_lfs(Some(token), kind, id, &rev, &object).await {
                    return Ok(Err(what(&e)));
                }
                lfs = true;
                lines.push(json!({ "key": "lfsFile", "value": {
                    "path": path, "algo": "sha256", "oid": oid, "size": bytes.len() } }));
            } else {
                lines.push(json!({ "key": "file", "value": {
                    "content": base64::engine::general_purpose::STANDARD.encode(bytes), "path": path, "encoding": "base64" } }));
            }
        }
    }
    let query: Vec<(&str, String)> = if p.create_pr { vec![("create_pr", "1".to_owned())] } else { Vec::new() };
    let answer = match client
        .post_ndjson(Some(token), &["api", plural, owner, name, "commit", &rev], &query, &lines, repo_target)
        .await
    {
        Ok(a) => a,
        Err(e) if e.status() == Some(409) && p.parent_commit.is_some() => {
            return Ok(Err(ToolOutput::error(format!(
                "Not written: `{rev}` is no longer at the parent commit {} — someone committed since. Read the file \
                 again, then retry with the current head as --parent-commit.{}",
                p.parent_commit.as_deref().unwrap_or_default(),
                e.server_message().map(|s| format!(" (Hub said: {s})")).unwrap_or_default()
            ))))
        }
        Err(e) => return Ok(Err(what(&e))),
    };
    let commit = answer
        .get("commitOid")
        .and_then(Value::as_str)
        .map(|oid| (oid.to_owned(), answer.get("commitUrl").and_then(Value::as_str).unwrap_or_default().to_owned()));
    Ok(Ok(Written {
        bytes: content.as_ref().map(Bytes::len),
        branch,
        commit,
        pull_request_url: answer.get("pullRequestUrl").and_then(Value::as_str).map(str::to_owned),
        lfs,
    }))
}

#[allow(clippy::too_many_arguments)]
async fn bucket(
    client: &HubClient,
    token: &str,
    ctx: &mut Ctx,
    confirm: bool,
    p: &Params,
    target: &Target,
    content: Option<Bytes>,
    message: &str,
) -> Result<Outcome, CallError> {
    if p.branch.is_some() {
        return Ok(Err(ToolOutput::error("branch is not supported for bucket writes.")));
    }
    if p.create_pr || p.description.is_some() || p.parent_commit.is_some() {
        return Ok(Err(ToolOutput::error(
            "pull requests, descriptions, and parent commits are not supported for bucket writes.",
        )));
    }
    let (id, path) = (target.id(), target.path());
    let what = |e: &crate::HubError| {
        let action =
            if p.put { format!("write {path} to bucket {id}") } else { format!("remove {path} from bucket {id}") };
        refused(&action, target.namespace(), e)
    };

    // Deleting, or overwriting an existing file, asks first; everything before the question
    // is read-only (the stateless era replays the call with the answer).
    let destructive = match &content {
        None => true,
        Some(_) if will_ask(ctx, confirm) => match client.bucket_file_exists(Some(token), id, path).await {
            Ok(exists) => exists,
            Err(e) => return Ok(Err(what(&e))),
        },
        Some(_) => false,
    };
    if destructive {
        let action = if p.put {
            format!(
                "Overwrite `{path}` in bucket `{id}`? Buckets keep no history: the current file will be replaced and \
                 cannot be recovered."
            )
        } else {
            format!("Delete `{path}` from bucket `{id}`? Buckets keep no history: this cannot be undone.")
        };
        let answer = confirm_destructive(ctx, confirm, &action).await?;
        if !answer.proceed() {
            return Ok(Err(not_done(p, target, message, answer)));
        }
    }

    let line = match &content {
        None => json!({ "type": "deleteFile", "path": path }),
        Some(bytes) => {
            // Chunking and hashing is CPU work (up to the body limit): off the async workers.
            let data = bytes.clone();
            let Ok(prepared) = tokio::task::spawn_blocking(move || xet_format::upload::prepare(&data)).await else {
                return Ok(Err(ToolOutput::error(format!(
                    "Cannot write {path} to bucket {id}: preparing the Xet upload failed."
                ))));
            };
            if let Err(e) = client.upload_to_bucket_xet(Some(token), id, prepared.xorbs, &prepared.shard).await {
                return Ok(Err(what(&e)));
            }
            let mut line = json!({ "type": "addFile", "path": path, "xetHash": prepared.file_hash.hex(),
                "mtime": now_millis() });
            if let Some(ct) = content_type(path) {
                line["contentType"] = json!(ct);
            }
            line
        }
    };
    match client.bucket_batch(Some(token), id, &[line]).await {
        Ok(()) => Ok(Ok(Written {
            bytes: content.as_ref().map(Bytes::len),
            branch: None,
            commit: None,
            pull_request_url: None,
            lfs: false,
        })),
        Err(e) => Ok(Err(what(&e))),
    }
}

fn now_millis() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// The `contentType` of an added bucket file, guessed from its name as `huggingface_hub` does
/// (none when the extension says nothing).
fn content_type(path: &str) -> Option<&'static str> {
    let name = path.rsplit('/').next().unwrap_or(path);
    match crate::skills::mime_for(name).0 {
        "application/octet-stream" => None,
        ct => Some(ct),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(cmd: &str, args: &[&str], content: Option<&str>) -> Result<Params, ToolOutput> {
        parse(Args {
            cmd: cmd.into(),
            args: args.iter().map(|s| s.to_string()).collect(),
            content: content.map(Into::into),
        })
    }

    #[test]
    fn grammar() {
        let p = parsed("put", &["hf://models/a/b/x.txt", "-m", "msg", "--create-pr"], Some("hi")).ok().expect("parses");
        assert!(p.put && p.create_pr && p.message.as_deref() == Some("msg"));
        assert!(parsed("put", &["hf://models/a/b/x.txt"], None).is_err());
        assert!(parsed("rm", &["hf://models/a/b/x.txt"], Some("x")).is_err());
        assert!(parsed("rm", &["hf://models/a/b/x.txt", "--base64"], None).is_err());
        assert!(parsed("rm", &["hf://models/a/b/x.txt", "--parent-commit", "abc"], None).is_err());
        assert!(parsed("rm", &["models/a/b/x.txt"], None).is_err());
        assert!(parsed("rm", &["hf://models/a/b/x", "extra"], None).is_err());
        assert!(parsed("mv", &["hf://models/a/b/x"], None).is_err());
        let sha = "a".repeat(40);
        assert_eq!(
            parsed("rm", &["hf://models/a/b/x", "--parent-commit", &sha], None).ok().expect("parses").parent_commit,
            Some(sha)
        );
    }
}
