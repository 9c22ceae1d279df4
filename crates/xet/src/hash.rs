//! Hashes: chunk (keyed blake3, DATA_KEY), xorb (an aggregated Merkle tree whose inner nodes
//! hash `"{hex} : {len}\n"` lines with INTERNAL_NODE_KEY), file (the same root re-hashed with
//! a zero key), term verification (raw chunk hashes with VERIFICATION_KEY).
//! The string form is Xet's: each 8-byte word read as a little-endian u64 and printed as 16
//! hex digits — so it is not the plain hex of the bytes.

use crate::FormatError;

const DATA_KEY: [u8; 32] = [
    102, 151, 245, 119, 91, 149, 80, 222, 49, 53, 203, 172, 165, 151, 24, 28, 157, 228, 33, 16, 155, 235, 43, 88, 180,
    208, 176, 75, 147, 173, 242, 41,
];
const INTERNAL_NODE_KEY: [u8; 32] = [
    1, 126, 197, 199, 165, 71, 41, 150, 253, 148, 102, 102, 180, 138, 2, 230, 93, 221, 83, 111, 55, 199, 109, 210, 248,
    99, 82, 230, 74, 83, 113, 63,
];
const VERIFICATION_KEY: [u8; 32] = [
    127, 24, 87, 214, 206, 86, 237, 102, 18, 127, 249, 19, 231, 165, 195, 243, 164, 205, 38, 213, 181, 219, 73, 230,
    65, 36, 152, 127, 40, 251, 148, 195,
];
/// Mean branching factor of the aggregated tree: a node closes after a child whose hash is
/// `0 mod 4`, with 2 to 9 children.
const BRANCHING: u64 = 4;
const MAX_GROUP: usize = 2 * BRANCHING as usize + 1;

/// A 32-byte Xet hash, stored as the raw bytes blake3 produced (the shard's wire order).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct MerkleHash(pub [u8; 32]);

impl MerkleHash {
    /// Xet's string form (what APIs, `xetHash` and URLs carry).
    pub fn hex(&self) -> String {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut out = String::with_capacity(64);
        for word in self.0.chunks_exact(8) {
            for b in word.iter().rev() {
                out.push(DIGITS[(b >> 4) as usize] as char);
                out.push(DIGITS[(b & 15) as usize] as char);
            }
        }
        out
    }

    pub fn from_hex(s: &str) -> Result<Self, FormatError> {
        let bad = || FormatError(format!("not a Xet hash (64 hex digits): {:.80}", s));
        if s.len() != 64 || !s.bytes().all(|c| c.is_ascii_hexdigit()) {
            return Err(bad());
        }
        let mut out = [0u8; 32];
        for (w, word) in out.chunks_exact_mut(8).enumerate() {
            let v = u64::from_str_radix(&s[w * 16..w * 16 + 16], 16).map_err(|_| bad())?;
            word.copy_from_slice(&v.to_le_bytes());
        }
        Ok(MerkleHash(out))
    }

    /// The last word as a little-endian integer (what the tree's cut rule tests).
    fn last_word(&self) -> u64 {
        let mut w = [0u8; 8];
        w.copy_from_slice(&self.0[24..]);
        u64::from_le_bytes(w)
    }
}

impl std::fmt::Debug for MerkleHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.hex())
    }
}

impl std::fmt::Display for MerkleHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.hex())
    }
}

fn keyed(key: &[u8; 32], data: &[u8]) -> MerkleHash {
    MerkleHash(*blake3::keyed_hash(key, data).as_bytes())
}

/// The hash of one chunk's bytes.
pub fn chunk_hash(data: &[u8]) -> MerkleHash {
    keyed(&DATA_KEY, data)
}

/// Where the next group of nodes ends: after the first node from the third on whose hash is
/// `0 mod BRANCHING`, at most `MAX_GROUP` nodes, all of them if two or fewer are left.
fn next_cut(nodes: &[(MerkleHash, u64)]) -> usize {
    if nodes.len() <= 2 {
        return nodes.len();
    }
    let end = MAX_GROUP.min(nodes.len());
    (2..end).find(|&i| nodes[i].0.last_word() % BRANCHING == 0).map_or(end, |i| i + 1)
}

fn merge(group: &[(MerkleHash, u64)]) -> (MerkleHash, u64) {
    use std::fmt::Write;
    let mut text = String::with_capacity(group.len() * 88);
    let mut total = 0u64;
    for (h, len) in group {
        let _ = writeln!(text, "{} : {len}", h.hex());
        total += len;
    }
    (keyed(&INTERNAL_NODE_KEY, text.as_bytes()), total)
}

/// The xorb hash of `(chunk hash, chunk length)` in order: the root of the aggregated tree
/// (all zeros for no chunks).
pub fn xorb_hash(chunks: &[(MerkleHash, u64)]) -> MerkleHash {
    if chunks.is_empty() {
        return MerkleHash::default();
    }
    let mut level = chunks.to_vec();
    while level.len() > 1 {
        let mut next = Vec::with_capacity(level.len() / 2 + 1);
        let mut rest = &level[..];
        while !rest.is_empty() {
            let cut = next_cut(rest);
            next.push(merge(&rest[..cut]));
            rest = &rest[cut..];
        }
        level = next;
    }
    level[0].0
}

/// The file hash of a file's `(chunk hash, chunk length)` in order: the tree root re-hashed
/// with an all-zero key; an empty file's hash is all zeros (as hf_xet reports it).
pub fn file_hash(chunks: &[(MerkleHash, u64)]) -> MerkleHash {
    if chunks.is_empty() {
        return MerkleHash::default();
    }
    keyed(&[0u8; 32], &xorb_hash(chunks).0)
}

/// The verification hash of a term: the chunk hashes of `[start, end)` of one xorb.
pub fn verification_hash(chunk_hashes: &[MerkleHash]) -> MerkleHash {
    let mut h = blake3::Hasher::new_keyed(&VERIFICATION_KEY);
    for c in chunk_hashes {
        h.update(&c.0);
    }
    MerkleHash(*h.finalize().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_per_little_endian_word() {
        let mut raw = [0u8; 32];
        raw[0] = 0x01;
        raw[7] = 0xab;
        raw[31] = 0xff;
        let h = MerkleHash(raw);
        let s = h.hex();
        assert_eq!(&s[..16], "ab00000000000001");
        assert_eq!(&s[48..], "ff00000000000000");
        assert_eq!(MerkleHash::from_hex(&s).unwrap(), h);
        assert!(MerkleHash::from_hex("xyz").is_err());
        assert!(MerkleHash::from_hex(&"g".repeat(64)).is_err());
    }

    #[test]
    fn groups_have_two_to_nine_nodes() {
        let nodes: Vec<_> = (0..100u8).map(|i| (chunk_hash(&[i]), 1)).collect();
        let mut rest = &nodes[..];
        while !rest.is_empty() {
            let cut = next_cut(rest);
            assert!(cut <= MAX_GROUP && (cut >= 2 || rest.len() < 2));
            rest = &rest[cut..];
        }
    }
}
