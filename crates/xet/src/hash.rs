//! Hashes: chunk (keyed blake3, DATA_KEY), xorb (aggregated Merkle tree, INTERNAL_NODE_KEY),
//! file (xorb-style root re-hashed with a zero key), term verification (VERIFICATION_KEY).
//! The string form is Xet's: each 8-byte word printed as a little-endian u64 in hex.

use crate::FormatError;

/// A 32-byte Xet hash, stored as the raw bytes blake3 produced (the shard's wire order).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct MerkleHash(pub [u8; 32]);

impl MerkleHash {
    /// Xet's string form (what APIs, `xetHash` and URLs carry).
    pub fn hex(&self) -> String {
        todo!()
    }
    pub fn from_hex(s: &str) -> Result<Self, FormatError> {
        todo!("{s}")
    }
}

impl std::fmt::Debug for MerkleHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.hex())
    }
}

/// The hash of one chunk's bytes.
pub fn chunk_hash(data: &[u8]) -> MerkleHash {
    todo!("{}", data.len())
}

/// The xorb hash of `(chunk hash, chunk length)` in order.
pub fn xorb_hash(chunks: &[(MerkleHash, u64)]) -> MerkleHash {
    todo!("{}", chunks.len())
}

/// The file hash of a file's `(chunk hash, chunk length)` in order (empty file included).
pub fn file_hash(chunks: &[(MerkleHash, u64)]) -> MerkleHash {
    todo!("{}", chunks.len())
}

/// The verification hash of a term: the chunk hashes of `[start, end)` of one xorb.
pub fn verification_hash(chunk_hashes: &[MerkleHash]) -> MerkleHash {
    todo!("{}", chunk_hashes.len())
}
