//! Xet as the Hub serves it to `hf_xet` and to hubmcp, on the stand-in:
//!
//! * Hub side: `GET /api/buckets/{ns}/{name}/xet-{read|write}-token` answers
//!   `{accessToken, exp, casUrl}` and the same in `X-Xet-*` headers (write needs write rights
//!   on the namespace); a bucket file's `resolve` carries `X-Xet-Hash` and a `Link … rel="xet-auth"`
//!   to the read token, which is how `huggingface_hub` downloads through `hf_xet`.
//! * CAS side, under `{origin}/xet-cas` (the `casUrl`), with `Authorization: Bearer <access token>`:
//!   `POST /v1/xorbs/default/{hash}` (the body is parsed, every chunk decoded and the xorb hash
//!   recomputed: 400 on any mismatch), `POST /v1/shards` (every referenced xorb must be stored,
//!   chunk ranges, verification hashes and the file hash must check out: 400 otherwise),
//!   `GET /v1/reconstructions/{file}` (terms and signed fetch URLs, `Range` honoured),
//!   `GET /v1/chunks/…` (404: no global deduplication). The fetch URLs
//!   (`/xet-cas/xorb-data/{hash}?sig=…`) serve xorb bytes by `Range` without a token, like the
//!   presigned URLs of the real service. Newer client paths (`/v2/reconstructions`,
//!   `/v1/xorb-grants`) answer 404, on which clients fall back to the ones above.

use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::Response;
use serde_json::{json, Map, Value};
use xet_format::hash::{file_hash, verification_hash, xorb_hash};
use xet_format::MerkleHash;

use super::write_access::check_write;
use super::written::serve_bytes;
use super::xet_store::{Grant, StoredXorb, XetStore};
use super::Answer;
use crate::util::{bad_request, hub_error, not_found_route, ok_json};
use crate::Ctx;

/// Path prefix of the CAS on the stand-in.
pub(crate) const CAS_PREFIX: &str = "/xet-cas";

fn cas_url(ctx: &Ctx<'_>) -> String {
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
    let link = format!("<{}/api/buckets/{bucket_id}/xet-read-token>; rel=\"xet-auth\"", ctx.origin);
    let h = resp.headers_mut();
    for (name, value) in [("x-xet-hash", xet_hash.to_owned()), ("link", link)] {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert(name, v);
        }
    }
}

fn cas_error(status: StatusCode, message: &str) -> Response {
    hub_error(status, None, message)
}

/// Everything under [`CAS_PREFIX`].
pub(crate) fn cas(ctx: &Ctx<'_>) -> Response {
    let rest = ctx.path[CAS_PREFIX.len()..].trim_start_matches('/');
    let segs: Vec<&str> = rest.split('/').collect();
    if let (&Method::GET | &Method::HEAD, ["xorb-data", hash]) = (&ctx.method, segs.as_slice()) {
        return xorb_data(ctx, hash);
    }
    let Some(grant) = bearer(ctx) else {
        return cas_error(StatusCode::UNAUTHORIZED, "missing or expired Xet access token");
    };
    let answer = match (ctx.method.clone(), segs.as_slice()) {
        (Method::POST, ["v1", "xorbs", "default", hash]) => upload_xorb(ctx, &grant, hash),
        (Method::POST, ["v1", "shards"]) => upload_shard(ctx, &grant),
        (Method::GET, ["v1", "reconstructions", file]) => reconstruction(ctx, &grant, file),
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

fn parse_hash(s: &str) -> Result<MerkleHash, Response> {
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

fn upload_shard(ctx: &Ctx<'_>, grant: &Grant) -> Answer {
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
    let mut new_files = 0;
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
        if let std::collections::hash_map::Entry::Vacant(slot) = xet.files.entry(file.hash) {
            new_files += 1;
            slot.insert(super::xet_store::FileRecon { terms: file.terms.clone(), size });
        }
    }
    Ok(ok_json(&json!({ "result": if new_files > 0 || shard.files.is_empty() { 1 } else { 0 } })))
}

/// `bytes=a-b` (inclusive) against a file of `size` bytes.
fn byte_range(ctx: &Ctx<'_>, size: u64) -> Result<Option<(u64, u64)>, Response> {
    let Some(v) = ctx.headers.get(header::RANGE).and_then(|v| v.to_str().ok()) else { return Ok(None) };
    let bad = || cas_error(StatusCode::RANGE_NOT_SATISFIABLE, "unsatisfiable range");
    let spec = v.strip_prefix("bytes=").ok_or_else(bad)?;
    let (a, b) = spec.split_once('-').ok_or_else(bad)?;
    let start: u64 = a.trim().parse().map_err(|_| bad())?;
    let end: u64 = if b.trim().is_empty() { size.saturating_sub(1) } else { b.trim().parse().map_err(|_| bad())? };
    if start >= size || end < start {
        return Err(bad());
    }
    Ok(Some((start, end.min(size - 1))))
}

/// A file's reconstruction, for a token of a bucket that holds the file (tokens are scoped to
/// their bucket: one bucket's token does not read another's files).
fn reconstruction(ctx: &Ctx<'_>, grant: &Grant, file: &str) -> Answer {
    let hex = parse_hash(file)?.hex();
    let file = parse_hash(file)?;
    let store = ctx.store.lock();
    let in_bucket = store.buckets.get(&grant.bucket).is_some_and(|b| b.files.values().any(|f| f.xet_hash == hex));
    let xet = &store.xet;
    let recon =
        xet.files.get(&file).filter(|_| in_bucket).ok_or_else(|| cas_error(StatusCode::NOT_FOUND, "file not found"))?;
    let (want_start, want_end) = byte_range(ctx, recon.size)?.unwrap_or((0, recon.size.saturating_sub(1)));
    let mut terms = Vec::new();
    let mut fetch: Map<String, Value> = Map::new();
    let mut offset_into_first = 0;
    let mut at = 0u64;
    for t in &recon.terms {
        let (t_start, t_end) = (at, at + t.unpacked_bytes as u64);
        at = t_end;
        if t_end <= want_start || t_start > want_end {
            continue;
        }
        if terms.is_empty() {
            offset_into_first = want_start - t_start;
        }
        let hex = t.xorb.hex();
        terms.push(json!({ "hash": hex, "unpacked_length": t.unpacked_bytes,
            "range": { "start": t.chunk_start, "end": t.chunk_end } }));
        let x = xet.xorbs.get(&t.xorb).ok_or_else(|| cas_error(StatusCode::INTERNAL_SERVER_ERROR, "xorb lost"))?;
        let (b_start, b_end) = x.byte_range(t.chunk_start, t.chunk_end);
        let url = format!("{}/xorb-data/{hex}?sig={}", cas_url(ctx), xet.url_signature(&t.xorb));
        let entry = json!({ "range": { "start": t.chunk_start, "end": t.chunk_end }, "url": url,
            "url_range": { "start": b_start, "end": b_end - 1 } });
        fetch.entry(hex).or_insert_with(|| json!([])).as_array_mut().expect("an array").push(entry);
    }
    Ok(ok_json(&json!({ "offset_into_first_range": offset_into_first, "terms": terms, "fetch_info": fetch })))
}

/// Serialized xorb bytes by `Range`, for a URL a reconstruction signed.
fn xorb_data(ctx: &Ctx<'_>, hash: &str) -> Response {
    let Ok(hash) = MerkleHash::from_hex(hash) else { return not_found_route() };
    let store = ctx.store.lock();
    if ctx.query.get("sig") != Some(store.xet.url_signature(&hash).as_str()) {
        return cas_error(StatusCode::FORBIDDEN, "bad or missing URL signature");
    }
    match store.xet.xorbs.get(&hash) {
        Some(x) => serve_bytes(ctx, "xorb.bin", &x.bytes, None, &format!("\"{}\"", hash.hex())),
        None => not_found_route(),
    }
}
