//! The CAS's download side: a file's reconstruction (which chunk ranges of which xorbs, and
//! signed URLs to fetch their bytes) in both wire versions `hf_xet` speaks, and the signed
//! byte-range endpoint those URLs point at.
//!
//! * `GET /v1/reconstructions/{file}`: `{offset_into_first_range, terms, fetch_info}` with
//!   `fetch_info[xorb] = [{range, url, url_range}]`;
//! * `GET /v2/reconstructions/{file}`: `{offset_into_first_range, terms, xorbs}` with
//!   `xorbs[xorb] = [{url, ranges: [{chunks, bytes}]}]` (what `hf_xet` ≥ 1.4 asks first). The
//!   stand-in gives each byte range its own entry, so a client never needs a multi-range
//!   (`multipart/byteranges`) answer, which the byte endpoint does not produce.
//!
//! Both honour `Range: bytes=a-b` on the file. Byte ranges are inclusive, chunk ranges
//! half-open, as in `xet_client::cas_types`.

use axum::http::{header, StatusCode};
use axum::response::Response;
use serde_json::{json, Map, Value};
use xet_format::MerkleHash;

use super::files::parse_range;
use super::written::serve_bytes;
use super::xet::{cas_error, cas_url, parse_hash};
use super::xet_store::Grant;
use super::Answer;
use crate::util::not_found_route;
use crate::Ctx;

/// The file's `Range` (`bytes=a-b`, `a-`, `-n`) as `[start, end]`, the same reading as file
/// downloads (416 when it cannot be satisfied).
fn file_range(ctx: &Ctx<'_>, size: u64) -> Result<Option<(u64, u64)>, Response> {
    let header = ctx.headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    parse_range(header, size).map_err(|()| cas_error(StatusCode::RANGE_NOT_SATISFIABLE, "unsatisfiable range"))
}

/// One term of a reconstruction with the xorb bytes that hold it.
struct Piece {
    xorb: String,
    chunks: (u32, u32),
    unpacked: u32,
    /// Inclusive byte range in the serialized xorb.
    bytes: (usize, usize),
    url: String,
}

/// The terms covering the wanted part of `file`, for a token of a bucket that holds the file
/// (tokens are scoped to their bucket: one bucket's token does not read another's files).
fn pieces(ctx: &Ctx<'_>, grant: &Grant, file: &str) -> Result<(u64, Vec<Piece>), Response> {
    let file = parse_hash(file)?;
    let hex = file.hex();
    let store = ctx.store.lock();
    let in_bucket = store.buckets.get(&grant.bucket).is_some_and(|b| b.files.values().any(|f| f.xet_hash == hex));
    let xet = &store.xet;
    let recon =
        xet.files.get(&file).filter(|_| in_bucket).ok_or_else(|| cas_error(StatusCode::NOT_FOUND, "file not found"))?;
    let (want_start, want_end) = file_range(ctx, recon.size)?.unwrap_or((0, recon.size.saturating_sub(1)));
    let mut out = Vec::new();
    let mut offset_into_first = 0;
    let mut at = 0u64;
    for t in &recon.terms {
        let (t_start, t_end) = (at, at + t.unpacked_bytes as u64);
        at = t_end;
        if t_end <= want_start || t_start > want_end {
            continue;
        }
        if out.is_empty() {
            offset_into_first = want_start - t_start;
        }
        let x = xet.xorbs.get(&t.xorb).ok_or_else(|| cas_error(StatusCode::INTERNAL_SERVER_ERROR, "xorb lost"))?;
        let (b_start, b_end) = x.byte_range(t.chunk_start, t.chunk_end);
        let xorb = t.xorb.hex();
        let url = format!("{}/xorb-data/{xorb}?sig={}", cas_url(ctx), xet.url_signature(&t.xorb));
        out.push(Piece {
            xorb,
            chunks: (t.chunk_start, t.chunk_end),
            unpacked: t.unpacked_bytes,
            bytes: (b_start, b_end - 1),
            url,
        });
    }
    Ok((offset_into_first, out))
}

fn terms(pieces: &[Piece]) -> Vec<Value> {
    pieces
        .iter()
        .map(|p| {
            json!({ "hash": p.xorb, "unpacked_length": p.unpacked,
                "range": { "start": p.chunks.0, "end": p.chunks.1 } })
        })
        .collect()
}

/// Appends `entry` to `map[key]` unless an equal entry is there (a file repeating a range).
fn push_once(map: &mut Map<String, Value>, key: &str, entry: Value) {
    let list = map.entry(key.to_owned()).or_insert_with(|| json!([])).as_array_mut().expect("an array");
    if !list.contains(&entry) {
        list.push(entry);
    }
}

/// `GET /v1/reconstructions/{file}`.
pub(super) fn v1(ctx: &Ctx<'_>, grant: &Grant, file: &str) -> Answer {
    let (offset, pieces) = pieces(ctx, grant, file)?;
    let mut fetch = Map::new();
    for p in &pieces {
        let entry = json!({ "range": { "start": p.chunks.0, "end": p.chunks.1 }, "url": p.url,
            "url_range": { "start": p.bytes.0, "end": p.bytes.1 } });
        push_once(&mut fetch, &p.xorb, entry);
    }
    Ok(crate::util::ok_json(
        &json!({ "offset_into_first_range": offset, "terms": terms(&pieces), "fetch_info": fetch }),
    ))
}

/// `GET /v2/reconstructions/{file}`.
pub(super) fn v2(ctx: &Ctx<'_>, grant: &Grant, file: &str) -> Answer {
    let (offset, pieces) = pieces(ctx, grant, file)?;
    let mut xorbs = Map::new();
    for p in &pieces {
        let range = json!({ "chunks": { "start": p.chunks.0, "end": p.chunks.1 },
            "bytes": { "start": p.bytes.0, "end": p.bytes.1 } });
        push_once(&mut xorbs, &p.xorb, json!({ "url": p.url, "ranges": [range] }));
    }
    Ok(crate::util::ok_json(&json!({ "offset_into_first_range": offset, "terms": terms(&pieces), "xorbs": xorbs })))
}

/// Serialized xorb bytes by `Range`, for a URL a reconstruction signed (like the real
/// service's presigned URLs, it carries no token).
pub(super) fn xorb_data(ctx: &Ctx<'_>, hash: &str) -> Response {
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
