//! The xorb container: chunks in order, each an 8-byte header (version 0, compressed length
//! u24 LE, scheme, raw length u24 LE) and its bytes — raw, LZ4, or byte-grouped then LZ4
//! ("BG4"). Parsing takes untrusted bytes: every length is checked and no chunk may decode
//! past the 128 KiB chunk maximum.
//!
//! Decisions, from xet-core (`xorb_object/`) and checked against hf_xet 1.8.0:
//! - LZ4 is the LZ4 *frame* format (xet-core: `lz4_flex::frame` encoder/decoder, default
//!   settings), so we use the same `lz4_flex` API and our compressed chunks are byte-identical
//!   to hf_xet's (tests/vectors.rs compares whole xorbs).
//! - We choose schemes as hf_xet does (its default `auto` policy): BG4 or LZ4 by xet-core's
//!   byte-lane predictor, decided every 32 chunks, raw whenever compression does not make a
//!   chunk strictly smaller ([`serialize`], [`choose_scheme`]).
//! - No footer on upload: since xet-core 1.5 (`file_upload_session.rs`) clients POST the bare
//!   chunks. Older clients, and hf_xet's local CAS, append a footer (ident `XETBLOB`, hashes and
//!   boundaries, a trailing u32 length). A chunk header starts with version byte 0, and xet-core
//!   refuses a chunk header that begins with `XETBLOB`, so readers stop there and ignore the
//!   footer (tests/hf_xet_sample.rs parses such a xorb written by hf_xet).

use std::io::{Read, Write};

use crate::chunking::MAX_CHUNK;
use crate::hash::chunk_hash;
use crate::{FormatError, MerkleHash};

/// Largest xorb: xet-core cuts a xorb before its chunks' *raw* bytes exceed this (the spec
/// words it as the serialized size; hf_xet's serialized xorbs exceed it by their chunk headers
/// when data does not compress, and the CAS takes them).
pub const MAX_XORB_BYTES: usize = 64 * 1024 * 1024;
/// Largest xorb [`parse`] reads: [`MAX_XORB_BYTES`] of raw chunks, an 8-byte header per chunk
/// and a legacy footer (about 40 bytes per chunk), for the most chunks a xorb holds.
pub const MAX_SERIALIZED_XORB_BYTES: usize = MAX_XORB_BYTES + crate::upload::MAX_XORB_CHUNKS * (HEADER + 40) + 1024;
const HEADER: usize = 8;
const FOOTER_IDENT: &[u8] = b"XETBLOB";
const NONE: u8 = 0;
const LZ4: u8 = 1;
const BG4_LZ4: u8 = 2;

/// One chunk found in a serialized xorb.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XorbChunk {
    pub hash: MerkleHash,
    /// Offset of the chunk's header in the serialized xorb.
    pub byte_start: u32,
    /// Offset just past the chunk's compressed bytes.
    pub byte_end: u32,
    pub data: Vec<u8>,
}

fn err(msg: impl Into<String>) -> FormatError {
    FormatError(msg.into())
}

fn u24(b: &[u8]) -> usize {
    b[0] as usize | (b[1] as usize) << 8 | (b[2] as usize) << 16
}

fn put_u24(out: &mut Vec<u8>, v: usize) {
    out.extend_from_slice(&[(v & 0xff) as u8, (v >> 8 & 0xff) as u8, (v >> 16 & 0xff) as u8]);
}

fn lz4(data: &[u8]) -> Option<Vec<u8>> {
    let mut enc = lz4_flex::frame::FrameEncoder::new(Vec::with_capacity(data.len() / 2));
    enc.write_all(data).ok()?;
    enc.finish().ok()
}

/// How a chunk's bytes are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    None,
    Lz4,
    /// Bytes regrouped by position mod 4, then LZ4 (numeric arrays compress better).
    Bg4Lz4,
}

/// xet-core picks a scheme from one chunk and keeps it for this many (`compression_scheme_retest_interval`).
pub const SCHEME_RETEST_INTERVAL: usize = 32;

/// xet-core's choice for a run of chunks, made on its first (`CompressionScheme::choose_from_data`):
/// BG4 when the popcount histogram of some byte lane (position mod 4) diverges from the pooled
/// one by a Kullback-Leibler divergence above 0.02, LZ4 otherwise. Reproduced operation for
/// operation — including a lane with an empty bin yielding NaN, which `f64::max` then skips —
/// so that our xorbs are byte-identical to hf_xet's.
pub fn choose_scheme(chunk: &[u8]) -> Scheme {
    let mut hist = [[0u32; 9]; 4];
    for (i, b) in chunk.iter().enumerate() {
        hist[i % 4][b.count_ones() as usize] += 1;
    }
    let mut pooled = [1u32; 9];
    let mut totals = [0u32; 4];
    for (lane, total) in hist.iter().zip(totals.iter_mut()) {
        for (j, &c) in lane.iter().enumerate() {
            pooled[j] += c;
            *total += c;
        }
    }
    let pooled_total: u32 = totals.iter().sum();
    let mut max_kl = 0f64;
    for (lane, &total) in hist.iter().zip(&totals) {
        let mut kl = 0.0;
        for (&c, &b) in lane.iter().zip(&pooled) {
            let p = c as f64 / total as f64;
            let q = b as f64 / pooled_total as f64;
            kl += p * (p / q).ln();
        }
        max_kl = max_kl.max(kl);
    }
    if max_kl > 0.02 {
        Scheme::Bg4Lz4
    } else {
        Scheme::Lz4
    }
}

/// Group bytes by position mod 4: lane 0 (bytes 0, 4, 8, …), then lanes 1, 2, 3.
fn group4(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    for lane in 0..4 {
        out.extend(data.iter().skip(lane).step_by(4));
    }
    out
}

/// Append one chunk (header and bytes) to `out`, LZ4 where it is smaller, raw otherwise.
pub fn push_chunk(out: &mut Vec<u8>, chunk: &[u8]) {
    push_chunk_with(out, chunk, Scheme::Lz4);
}

/// Append one chunk compressed with `scheme`, or raw when that is not strictly smaller
/// (xet-core's rule).
pub fn push_chunk_with(out: &mut Vec<u8>, chunk: &[u8], scheme: Scheme) {
    let packed = match scheme {
        Scheme::None => None,
        Scheme::Lz4 => lz4(chunk),
        Scheme::Bg4Lz4 => lz4(&group4(chunk)),
    };
    let (code, body) = match &packed {
        Some(c) if c.len() < chunk.len() => (if scheme == Scheme::Bg4Lz4 { BG4_LZ4 } else { LZ4 }, c.as_slice()),
        _ => (NONE, chunk),
    };
    out.push(0);
    put_u24(out, body.len());
    out.push(code);
    put_u24(out, chunk.len());
    out.extend_from_slice(body);
}

/// Serialize chunks as hf_xet does for one file's chunks: a scheme chosen
/// ([`choose_scheme`]) on every 32nd chunk for the run it starts, each chunk stored raw when
/// that scheme does not make it smaller. Returns the bytes and each chunk's header offset.
pub fn serialize(chunks: &[&[u8]]) -> (Vec<u8>, Vec<u32>) {
    let mut out = Vec::with_capacity(chunks.iter().map(|c| c.len() + HEADER).sum());
    let mut starts = Vec::with_capacity(chunks.len());
    let mut scheme = Scheme::Lz4;
    for (i, c) in chunks.iter().enumerate() {
        if i % SCHEME_RETEST_INTERVAL == 0 {
            scheme = choose_scheme(c);
        }
        starts.push(out.len() as u32);
        push_chunk_with(&mut out, c, scheme);
    }
    (out, starts)
}

fn lz4_decode(body: &[u8], raw_len: usize) -> Result<Vec<u8>, FormatError> {
    let mut out = Vec::with_capacity(raw_len);
    // One byte more than announced, to notice a chunk that inflates past its header.
    lz4_flex::frame::FrameDecoder::new(body)
        .take(raw_len as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| err(format!("bad LZ4 chunk: {e}")))?;
    Ok(out)
}

/// Undo byte grouping: group g holds byte g of every 4-byte word; the first `len % 4`
/// groups are one byte longer.
fn ungroup4(grouped: &[u8]) -> Vec<u8> {
    let n = grouped.len();
    let (base, extra) = (n / 4, n % 4);
    let mut starts = [0usize; 4];
    for g in 1..4 {
        starts[g] = starts[g - 1] + base + usize::from(g - 1 < extra);
    }
    let mut out = vec![0u8; n];
    for (i, b) in out.iter_mut().enumerate() {
        *b = grouped[starts[i % 4] + i / 4];
    }
    out
}

/// The chunk whose header starts at `at`: its raw bytes and where the next one starts.
fn decode_chunk(bytes: &[u8], at: usize) -> Result<(Vec<u8>, usize), FormatError> {
    let head = bytes.get(at..at + HEADER).ok_or_else(|| err(format!("truncated chunk header at byte {at}")))?;
    if head[0] != 0 {
        return Err(err(format!("unknown chunk version {} at byte {at}", head[0])));
    }
    let (packed_len, scheme, raw_len) = (u24(&head[1..4]), head[4], u24(&head[5..8]));
    if raw_len > MAX_CHUNK || raw_len == 0 {
        return Err(err(format!("chunk at byte {at} claims {raw_len} bytes (1 to {MAX_CHUNK} allowed)")));
    }
    let end = at + HEADER + packed_len;
    let body = bytes.get(at + HEADER..end).ok_or_else(|| err(format!("truncated chunk at byte {at}")))?;
    let data = match scheme {
        NONE => body.to_vec(),
        LZ4 => lz4_decode(body, raw_len)?,
        BG4_LZ4 => ungroup4(&lz4_decode(body, raw_len)?),
        other => return Err(err(format!("unknown compression scheme {other} at byte {at}"))),
    };
    if data.len() != raw_len {
        return Err(err(format!("chunk at byte {at} decodes to {} bytes, its header says {raw_len}", data.len())));
    }
    Ok((data, end))
}

fn at_footer(bytes: &[u8], at: usize) -> bool {
    bytes[at..].starts_with(FOOTER_IDENT)
}

/// Parse a serialized xorb (any compression scheme; a trailing footer is ignored), decompress
/// every chunk and hash it.
pub fn parse(bytes: &[u8]) -> Result<Vec<XorbChunk>, FormatError> {
    if bytes.len() > MAX_SERIALIZED_XORB_BYTES {
        return Err(err(format!("xorb of {} bytes exceeds {MAX_SERIALIZED_XORB_BYTES}", bytes.len())));
    }
    let mut chunks = Vec::new();
    let mut at = 0;
    while at < bytes.len() && !at_footer(bytes, at) {
        let (data, end) = decode_chunk(bytes, at)?;
        chunks.push(XorbChunk { hash: chunk_hash(&data), byte_start: at as u32, byte_end: end as u32, data });
        at = end;
    }
    if chunks.is_empty() {
        return Err(err("a xorb holds at least one chunk"));
    }
    Ok(chunks)
}

/// Decompress the chunks of a byte range of a serialized xorb that starts at a chunk header
/// (what a reconstruction fetch URL serves), concatenated.
pub fn decode_range(bytes: &[u8]) -> Result<Vec<u8>, FormatError> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() && !at_footer(bytes, at) {
        let (data, end) = decode_chunk(bytes, at)?;
        out.extend_from_slice(&data);
        at = end;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grouped4(data: &[u8]) -> Vec<u8> {
        let mut groups: [Vec<u8>; 4] = Default::default();
        for (i, b) in data.iter().enumerate() {
            groups[i % 4].push(*b);
        }
        groups.concat()
    }

    #[test]
    fn round_trip_raw_and_lz4() {
        let text = b"abcdefgh".repeat(4000);
        let noise: Vec<u8> = (0..5000u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
        let (bytes, starts) = serialize(&[&text, &noise]);
        assert_eq!(choose_scheme(&text), Scheme::Lz4);
        assert_eq!(bytes[4], LZ4, "repetitive text is compressed");
        let parsed = parse(&bytes).unwrap();
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[0].data, text);
        assert_eq!(parsed[1].data, noise);
        assert_eq!(parsed[1].byte_start, starts[1]);
        assert_eq!(parsed[1].hash, chunk_hash(&noise));
        assert_eq!(decode_range(&bytes[starts[1] as usize..]).unwrap(), noise);
    }

    #[test]
    fn bg4_and_footer_are_read() {
        for n in [13usize, 16, 1001] {
            let data: Vec<u8> = (0..n).map(|i| (i * 7 % 251) as u8).collect();
            assert_eq!(ungroup4(&grouped4(&data)), data);
            assert_eq!(group4(&data), grouped4(&data));
            let body = lz4(&grouped4(&data)).unwrap();
            let mut bytes = vec![0];
            put_u24(&mut bytes, body.len());
            bytes.push(BG4_LZ4);
            put_u24(&mut bytes, n);
            bytes.extend_from_slice(&body);
            bytes.extend_from_slice(b"XETBLOB\x01 footer bytes the reader skips");
            let parsed = parse(&bytes).unwrap();
            assert_eq!(parsed.len(), 1);
            assert_eq!(parsed[0].data, data);
        }
    }

    #[test]
    fn numeric_runs_are_byte_grouped() {
        let floats: Vec<u8> = (0..20_000).flat_map(|i| (1.0f32 + i as f32 * 1e-4).to_le_bytes()).collect();
        assert_eq!(choose_scheme(&floats), Scheme::Bg4Lz4);
        let text = b"the same few words again and again ".repeat(1000);
        // One run of 32 chunks shares the first chunk's scheme; the 33rd chooses again.
        let mut chunks: Vec<&[u8]> = vec![&floats; 32];
        chunks.push(&text);
        let (bytes, starts) = serialize(&chunks);
        assert_eq!(bytes[starts[31] as usize + 4], BG4_LZ4);
        assert_eq!(bytes[starts[32] as usize + 4], LZ4);
        let mut text_first: Vec<&[u8]> = vec![&text];
        text_first.push(&floats);
        let (bytes, starts) = serialize(&text_first);
        // The run keeps the text's LZ4 (which does not shrink these floats: stored raw).
        assert_ne!(bytes[starts[1] as usize + 4], BG4_LZ4);
        assert_eq!(parse(&bytes).unwrap()[1].data, floats);
    }

    #[test]
    fn garbage_is_refused_without_panic() {
        let (good, _) = serialize(&[b"hello world".as_slice()]);
        for cut in 0..good.len() {
            assert!(parse(&good[..cut]).is_err(), "truncated at {cut}");
        }
        let mut bomb = vec![0, 0xff, 0xff, 0xff, NONE, 0xff, 0xff, 0xff];
        bomb.extend_from_slice(&[0; 64]);
        assert!(parse(&bomb).is_err());
        let mut bad_scheme = good.clone();
        bad_scheme[4] = 9;
        assert!(parse(&bad_scheme).is_err());
        let mut lying = good.clone();
        lying[5] = 3; // raw length 3, body 11 bytes raw
        assert!(parse(&lying).is_err());
        // An LZ4 body that inflates past its header's raw length.
        let zeros = vec![0u8; 100_000];
        let body = lz4(&zeros).unwrap();
        let mut inflating = vec![0];
        put_u24(&mut inflating, body.len());
        inflating.push(LZ4);
        put_u24(&mut inflating, 10);
        inflating.extend_from_slice(&body);
        assert!(parse(&inflating).is_err());
    }
}
