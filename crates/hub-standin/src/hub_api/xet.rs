//! Xet as the Hub serves it to `hf_xet` and to hubmcp, on the stand-in:
//!
//! * Hub side: `GET /api/buckets/{ns}/{name}/xet-{read|write}-token` answers
//!   `{accessToken, exp, casUrl}` and the same in `X-Xet-*` headers (write needs write rights
//!   on the namespace); a bucket file's `resolve` carries `X-Xet-Hash` and a `Link … rel="xet-auth"`
//!   to the read token, which is how `huggingface_hub` downloads through `hf_xet`.
//! * CAS side, under `{origin}/xet-cas` (the `casUrl`), with `Authorization: Bearer <access token>`:
//!   `POST /v1/xorbs/default/{hash}` (the body is parsed, every chunk decoded and the xorb hash
//!   recomputed: 400 on any mismatch; answer `{"was_inserted": bool}`), `POST /v1/shards` and
//!   `POST /v2/shards` (every referenced xorb must be stored, chunk ranges, verification hashes
//!   and the file hash must check out: 400 otherwise; v1 answers `{"result": 0|1}`, v2 streams
//!   NDJSON progress frames ending in `{"type":"result"}`), `GET /v{1,2}/reconstructions/{file}`
//!   (`xet_recon.rs`), `GET /v1/chunks/…` (404: no global deduplication). `hf_xet` 1.8.0 also
//!   asks `POST /v1/xorb-grants/default/{hash}` (upload grants, undocumented): it answers 404,
//!   on which `hf_xet` falls back to the plain xorb upload.

use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::Response;
use serde_json::json;
use xet_format::hash::{file_hash, verification_hash, xorb_hash};
use xet_format::MerkleHash;

use super::write_access::check_write;
use super::xet_recon;
use super::xet_store::{Grant, StoredXorb, XetStore, MAX_FILES};
use super::Answer;
use crate::util::{bad_request, hub_error, not_found_route, ok_json};
use crate::Ctx;

/// Path prefix of the CAS on the stand-in.
pub(crate) const CAS_PREFIX: &str = "/xet-cas";
/// Largest xorb, in unpacked chunk bytes and in chunks.
const MAX_XORB_DATA_BYTES: usize = 64 * 1024 * 1024;
const MAX_XORB_CHUNKS: usize = 8 * 1024;

pub(super) fn cas_url(ctx: &Ctx<'_>) -> String {
    format!("{}{CAS_PREFIX}", ctx.origin)
}

/// `GET /api/buckets/{id}/xet-{read|write}-token`, for a bucket the caller can see.
pub(super) fn token(ctx: &Ctx<'_>, bucket_id: &str, owner: &str, write: bool) -> Answer {
    if write {
        check_write(&ctx.caller, owner, "repo.write")?;
    }
    let (token, exp) = ctx.store.lock().xet.issue(bucket_id, write);
    let cas = cas_url(ctx);
    let mut resp = ok_json(&json!({ "accessToken": token, "exp": exp, "casUrl": cas }));
    let h = resp.headers_mut();
    for (name, value) in
        [("x-xet-cas-url", cas), ("x-xet-access-token", token), ("x-xet-token-expiration", exp.to_string())]
    {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert(name, v);
        }
    }
    Ok(resp)
}

/// The headers a bucket file's `resolve` adds so clients download it through Xet.
pub(super) fn file_headers(resp: &mut Response, ctx: &Ctx<'_>, bucket_id: &str, xet_hash: &str) {
    // Both forms the Hub sends (huggingface_hub reads the Link first, then the header).
    let route = format!("{}/api/buckets/{bucket_id}/xet-read-token", ctx.origin);
    let link = format!("<{route}>; rel=\"xet-auth\"");
    let h = resp.headers_mut();
    for (name, value) in [("x-xet-hash", xet_hash.to_owned()), ("link", link), ("x-xet-refresh-route", route)] {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert(name, v);
        }
    }
}

pub(super) fn cas_error(status: StatusCode, message: &str) -> Response {
    hub_error(status, None, message)
}

/// Everything under [`CAS_PREFIX`].
pub(crate) fn cas(ctx: &Ctx<'_>) -> Response {
    let rest = ctx.path[CAS_PREFIX.len()..].trim_start_matches('/');
    let segs: Vec<&str> = rest.split('/').collect();
    if let (&Method::GET | &Method::HEAD, ["xorb-data", hash]) = (&ctx.method, segs.as_slice()) {
        return xet_recon::xorb_data(ctx, hash);
    }
    let Some(grant) = bearer(ctx) else {
        return cas_error(StatusCode::UNAUTHORIZED, "missing or expired Xet access token");
    };
    let answer = match (ctx.method.clone(), segs.as_slice()) {
        (Method::POST, ["v1", "xorbs", "default", hash]) => upload_xorb(ctx, &grant, hash),
        (Method::POST, ["v1", "shards"]) => upload_shard(ctx, &grant).map(|r| ok_json(&json!({ "result": r }))),
        (Method::POST, ["v2", "shards"]) => upload_shard(ctx, &grant).map(|_| shard_v2_stream()),
        (Method::GET, ["v1", "reconstructions", file]) => xet_recon::v1(ctx, &grant, file),
        (Method::GET, ["v2", "reconstructions", file]) => xet_recon::v2(ctx, &grant, file),
        (Method::GET, ["v1", "chunks", ..]) => Err(cas_error(StatusCode::NOT_FOUND, "no global deduplication here")),
        _ => Ok(not_found_route()),
    };
    answer.unwrap_or_else(|e| e)
}

fn bearer(ctx: &Ctx<'_>) -> Option<Grant> {
    let token = ctx.headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ")?;
    ctx.store.lock().xet.grant(token.trim())
}

/// A 400 with `message`, also written to stderr: a client's refused upload is worth seeing.
fn refuse(message: &str) -> Response {
    eprintln!("xet-cas: refused: {message}");
    bad_request(message)
}

pub(super) fn parse_hash(s: &str) -> Result<MerkleHash, Response> {
    MerkleHash::from_hex(s).map_err(|e| bad_request(&e.to_string()))
}

fn need_write(grant: &Grant) -> Result<(), Response> {
    if grant.write {
        Ok(())
    } else {
        Err(cas_error(StatusCode::FORBIDDEN, "this Xet token is read-only"))
    }
}

fn upload_xorb(ctx: &Ctx<'_>, grant: &Grant, hash: &str) -> Answer {
    need_write(grant)?;
    let hash = parse_hash(hash)?;
    let chunks = xet_format::xorb::parse(&ctx.body).map_err(|e| refuse(&format!("invalid xorb: {e}")))?;
    // The format's bounds (xet-core's MAX_XORB_BYTES / MAX_XORB_CHUNKS).
    let unpacked: usize = chunks.iter().map(|c| c.data.len()).sum();
    if unpacked > MAX_XORB_DATA_BYTES || chunks.len() > MAX_XORB_CHUNKS {
        return Err(refuse("the xorb exceeds 64 MiB of chunk data or 8192 chunks"));
    }
    let pairs: Vec<_> = chunks.iter().map(|c| (c.hash, c.data.len() as u64)).collect();
    if xorb_hash(&pairs) != hash {
        return Err(refuse("the xorb's hash does not match its chunks"));
    }
    // Stored up to the last chunk: a client's trailing footer is not served back.
    let end = chunks.last().map_or(0, |c| c.byte_end as usize);
    let chunks = chunks
        .iter()
        .map(|c| xet_format::shard::CasChunk {
            hash: c.hash,
            byte_start: c.byte_start,
            unpacked_bytes: c.data.len() as u32,
        })
        .collect();
    let stored = StoredXorb { bytes: ctx.body.slice(..end), chunks };
    let inserted =
        ctx.store.lock().xet.insert_xorb(hash, stored).map_err(|e| cas_error(StatusCode::INSUFFICIENT_STORAGE, e))?;
    Ok(ok_json(&json!({ "was_inserted": inserted })))
}

/// Checks and registers a shard; `1` when it added a file (`SyncPerformed`), `0` when all were
/// known (`Exists`), the v1 answer's `result`.
fn upload_shard(ctx: &Ctx<'_>, grant: &Grant) -> Result<u8, Response> {
    need_write(grant)?;
    let shard = xet_format::shard::parse(&ctx.body).map_err(|e| refuse(&format!("invalid shard: {e}")))?;
    let mut store = ctx.store.lock();
    let xet: &mut XetStore = &mut store.xet;
    for info in &shard.xorbs {
        let stored =
            xet.xorbs.get(&info.xorb).ok_or_else(|| refuse(&format!("xorb {} was not uploaded", info.xorb)))?;
        if stored.chunks.len() != info.chunks.len()
            || stored
                .chunks
                .iter()
                .zip(&info.chunks)
                .any(|(a, b)| a.hash != b.hash || a.unpacked_bytes != b.unpacked_bytes)
        {
            return Err(refuse(&format!("the CAS info of xorb {} does not match its chunks", info.xorb)));
        }
    }
    // Every file is checked before any is registered: a refused shard leaves no trace.
    let mut checked = Vec::with_capacity(shard.files.len());
    for file in &shard.files {
        if file.verification.len() != file.terms.len() {
            return Err(refuse("every term needs a verification entry"));
        }
        // The spec asks for the sha256 extension, but hf_xet leaves it out for bucket uploads
        // (`SKIP_SHA256`): the CAS accepts both.
        let mut chunks = Vec::new();
        let mut size = 0u64;
        for (term, verification) in file.terms.iter().zip(&file.verification) {
            let x = xet.xorbs.get(&term.xorb).ok_or_else(|| refuse(&format!("xorb {} was not uploaded", term.xorb)))?;
            let range = x
                .chunks
                .get(term.chunk_start as usize..term.chunk_end as usize)
                .ok_or_else(|| refuse("a term's chunk range is outside its xorb"))?;
            let hashes: Vec<_> = range.iter().map(|c| c.hash).collect();
            if verification_hash(&hashes) != *verification {
                return Err(refuse("a term's verification hash does not match"));
            }
            let bytes: u64 = range.iter().map(|c| c.unpacked_bytes as u64).sum();
            if bytes != term.unpacked_bytes as u64 {
                return Err(refuse("a term's unpacked size does not match its chunks"));
            }
            size += bytes;
            chunks.extend(range.iter().map(|c| (c.hash, c.unpacked_bytes as u64)));
        }
        if file_hash(&chunks) != file.hash {
            return Err(refuse("the file hash does not match its chunks"));
        }
        checked.push((file.hash, size));
    }
    let new: usize = checked.iter().filter(|(hash, _)| !xet.files.contains_key(hash)).count();
    if xet.files.len() + new > MAX_FILES {
        return Err(cas_error(StatusCode::INSUFFICIENT_STORAGE, "the stand-in's file registry is full"));
    }
    for (file, (hash, size)) in shard.files.iter().zip(checked) {
        xet.files.entry(hash).or_insert_with(|| super::xet_store::FileRecon { terms: file.terms.clone(), size });
    }
    Ok(if new > 0 || shard.files.is_empty() { 1 } else { 0 })
}

/// The `/v2/shards` answer to a shard already checked and registered: the NDJSON progress
/// frames the real CAS streams, ending in the terminal `result` frame. (A refused shard is a
/// plain 400 before any frame, which `hf_xet` reports without falling back to v1.)
fn shard_v2_stream() -> Response {
    let frames = [
        json!({ "type": "validating", "verified": 0, "total": 1 }),
        json!({ "type": "validating", "verified": 1, "total": 1 }),
        json!({ "type": "committing", "stage": "uploading" }),
        json!({ "type": "committing", "stage": "syncing" }),
        json!({ "type": "result" }),
    ];
    let body: String = frames.iter().map(|f| format!("{f}\n")).collect();
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/x-ndjson")
        .body(axum::body::Body::from(body))
        .expect("valid response")
}
