//! Turning one file's bytes into what an upload sends: its xorbs and the shard registering it.
//! No deduplication against the CAS (an optional optimisation in the protocol); chunks
//! repeated inside the file are stored once. Xorbs close before 64 MiB of raw chunk bytes or
//! 8192 chunks, as xet-core's do.
//!
//! The result is what hf_xet 1.8.0 uploads for the same file alone, byte for byte — xorbs
//! (packing, compression choices), shard (terms, verification, CAS info) — on every input of
//! `tests/xet_upload_vectors.txt`, captured from hf_xet's local CAS. Known difference: for an
//! empty file hf_xet records an all-zero sha256, we the digest of no bytes. hf_xet may also
//! decline an in-file deduplication that would fragment a file (its defrag guard); we always
//! deduplicate, which is equally valid.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

use crate::chunking::chunk_ends;
use crate::hash::{chunk_hash, file_hash, verification_hash, xorb_hash};
use crate::shard::{CasChunk, CasInfo, FileInfo, Shard, Term};
use crate::xorb::{choose_scheme, push_chunk_with, Scheme, MAX_XORB_BYTES, SCHEME_RETEST_INTERVAL};
use crate::MerkleHash;

/// Most chunks in one xorb.
pub const MAX_XORB_CHUNKS: usize = 8 * 1024;

pub struct PreparedXorb {
    pub hash: MerkleHash,
    pub bytes: Vec<u8>,
}

pub struct PreparedFile {
    /// The `xetHash` the Hub's bucket batch API takes.
    pub file_hash: MerkleHash,
    pub size: u64,
    pub sha256: [u8; 32],
    /// Uploaded first, each under `POST /v1/xorbs/default/{hash}`.
    pub xorbs: Vec<PreparedXorb>,
    /// Uploaded after every xorb, to `POST /v1/shards`.
    pub shard: Shard,
}

pub fn prepare(data: &[u8]) -> PreparedFile {
    prepare_with_limit(data, MAX_XORB_BYTES)
}

/// A xorb being filled.
#[derive(Default)]
struct OpenXorb {
    bytes: Vec<u8>,
    chunks: Vec<CasChunk>,
    /// Sum of the chunks' raw lengths (what xet-core's cut rule counts).
    raw: usize,
    /// The compression scheme of the current run of chunks (see `xorb::serialize`).
    scheme: Option<Scheme>,
}

/// [`prepare`] with a smaller xorb limit (tests split small data into several xorbs).
///
/// The cut rule is xet-core's (`file_deduplication.rs`): a new xorb starts when the next new
/// chunk would take the open one past `max_xorb_bytes` *raw* bytes or past 8192 chunks. So a
/// serialized xorb can exceed the limit by its 8-byte chunk headers, exactly as hf_xet's do
/// (see [`crate::xorb::MAX_SERIALIZED_XORB_BYTES`]); the point is identical xorbs, hence
/// identical xorb hashes and deduplication, to the real client's.
pub fn prepare_with_limit(data: &[u8], max_xorb_bytes: usize) -> PreparedFile {
    let mut xorbs: Vec<OpenXorb> = vec![OpenXorb::default()];
    // Where each distinct chunk lives: (xorb index, chunk index).
    let mut seen: HashMap<MerkleHash, (usize, u32)> = HashMap::new();
    let mut file_chunks = Vec::new();
    // The file as (xorb index, chunk index, length) in order.
    let mut placed: Vec<(usize, u32, u32)> = Vec::new();
    let mut start = 0;
    for end in chunk_ends(data) {
        let chunk = &data[start..end];
        start = end;
        let hash = chunk_hash(chunk);
        file_chunks.push((hash, chunk.len() as u64));
        let (xi, ci) = *seen.entry(hash).or_insert_with(|| {
            let open = xorbs.last_mut().expect("one open xorb");
            let full = open.chunks.len() >= MAX_XORB_CHUNKS
                || (!open.chunks.is_empty() && open.raw + chunk.len() > max_xorb_bytes);
            if full {
                xorbs.push(OpenXorb::default());
            }
            let xi = xorbs.len() - 1;
            let open = &mut xorbs[xi];
            let byte_start = open.bytes.len() as u32;
            if open.chunks.len() % SCHEME_RETEST_INTERVAL == 0 {
                open.scheme = Some(choose_scheme(chunk));
            }
            push_chunk_with(&mut open.bytes, chunk, open.scheme.unwrap_or(Scheme::Lz4));
            open.raw += chunk.len();
            open.chunks.push(CasChunk { hash, byte_start, unpacked_bytes: chunk.len() as u32 });
            (xi, open.chunks.len() as u32 - 1)
        });
        placed.push((xi, ci, chunk.len() as u32));
    }
    xorbs.retain(|x| !x.chunks.is_empty());

    let infos: Vec<CasInfo> = xorbs
        .iter()
        .map(|x| {
            let pairs: Vec<_> = x.chunks.iter().map(|c| (c.hash, c.unpacked_bytes as u64)).collect();
            CasInfo {
                xorb: xorb_hash(&pairs),
                unpacked_bytes: x.chunks.iter().map(|c| c.unpacked_bytes).sum(),
                serialized_bytes: x.bytes.len() as u32,
                chunks: x.chunks.clone(),
            }
        })
        .collect();

    // Consecutive chunks of one xorb in order form one term.
    let mut terms: Vec<(usize, Term)> = Vec::new();
    for (xi, ci, len) in placed {
        match terms.last_mut() {
            Some((last_xi, t)) if *last_xi == xi && t.chunk_end == ci => {
                t.chunk_end += 1;
                t.unpacked_bytes += len;
            }
            _ => {
                terms.push((xi, Term { xorb: infos[xi].xorb, unpacked_bytes: len, chunk_start: ci, chunk_end: ci + 1 }))
            }
        }
    }
    let verification = terms
        .iter()
        .map(|(xi, t)| {
            let hashes: Vec<_> =
                infos[*xi].chunks[t.chunk_start as usize..t.chunk_end as usize].iter().map(|c| c.hash).collect();
            verification_hash(&hashes)
        })
        .collect();
    let sha256: [u8; 32] = Sha256::digest(data).into();
    let file_hash = file_hash(&file_chunks);
    let shard = Shard {
        files: vec![FileInfo {
            hash: file_hash,
            terms: terms.into_iter().map(|(_, t)| t).collect(),
            verification,
            sha256: Some(sha256),
        }],
        xorbs: infos.clone(),
    };
    let xorbs = xorbs.into_iter().zip(&infos).map(|(x, i)| PreparedXorb { hash: i.xorb, bytes: x.bytes }).collect();
    PreparedFile { file_hash, size: data.len() as u64, sha256, xorbs, shard }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xorb::{decode_range, parse};

    fn noise(n: usize, mut x: u64) -> Vec<u8> {
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }

    /// Rebuild the file from the prepared xorbs the way a download does: terms → chunk ranges.
    fn rebuild(p: &PreparedFile) -> Vec<u8> {
        let mut out = Vec::new();
        for t in &p.shard.files[0].terms {
            let x = p.xorbs.iter().find(|x| x.hash == t.xorb).unwrap();
            let info = p.shard.xorbs.iter().find(|i| i.xorb == t.xorb).unwrap();
            let from = info.chunks[t.chunk_start as usize].byte_start as usize;
            let to = info.chunks.get(t.chunk_end as usize).map_or(x.bytes.len(), |c| c.byte_start as usize);
            let part = decode_range(&x.bytes[from..to]).unwrap();
            assert_eq!(part.len() as u32, t.unpacked_bytes);
            out.extend_from_slice(&part);
        }
        out
    }

    #[test]
    fn one_xorb_round_trips() {
        let data = noise(500_000, 3);
        let p = prepare(&data);
        assert_eq!(p.xorbs.len(), 1);
        assert_eq!(p.size, 500_000);
        let chunks = parse(&p.xorbs[0].bytes).unwrap();
        let pairs: Vec<_> = chunks.iter().map(|c| (c.hash, c.data.len() as u64)).collect();
        assert_eq!(xorb_hash(&pairs), p.xorbs[0].hash, "the xorb hash is what a CAS recomputes");
        assert_eq!(rebuild(&p), data);
        let f = &p.shard.files[0];
        assert_eq!(f.verification.len(), f.terms.len());
        // On the wire the CAS info carries unpacked offsets and no serialized length (as xet-core).
        let wire = crate::shard::parse(&crate::shard::serialize(&p.shard)).unwrap();
        assert_eq!(wire.files, p.shard.files);
        let mut offset = 0;
        for (w, c) in wire.xorbs[0].chunks.iter().zip(&p.shard.xorbs[0].chunks) {
            assert_eq!((w.hash, w.unpacked_bytes, w.byte_start), (c.hash, c.unpacked_bytes, offset));
            offset += c.unpacked_bytes;
        }
    }

    #[test]
    fn small_limits_split_xorbs_and_repeats_are_stored_once() {
        let block = noise(300_000, 11);
        let data = [block.as_slice(), block.as_slice(), &noise(400_000, 5)].concat();
        let p = prepare_with_limit(&data, 200_000);
        assert!(p.xorbs.len() >= 3, "{} xorbs", p.xorbs.len());
        assert!(p.shard.xorbs.iter().all(|x| x.unpacked_bytes <= 200_000));
        assert!(p.xorbs.iter().zip(&p.shard.xorbs).all(|(x, i)| x.bytes.len() <= 200_000 + 8 * i.chunks.len()));
        let stored: usize = p.shard.xorbs.iter().map(|x| x.unpacked_bytes as usize).sum();
        // Chunks re-align a boundary or two into the copy; the rest of it is not stored again.
        assert!(stored < data.len() - 150_000, "the repeated block is stored once ({stored} bytes)");
        assert_eq!(rebuild(&p), data);
        let whole = prepare(&data);
        assert_eq!(whole.file_hash, p.file_hash, "the file hash does not depend on xorb packing");
    }

    #[test]
    fn empty_file_has_no_terms() {
        let p = prepare(b"");
        assert!(p.xorbs.is_empty());
        assert!(p.shard.files[0].terms.is_empty());
        assert_eq!(p.file_hash, MerkleHash::default());
    }
}
