//! The MDB shard: file reconstructions (terms, verification hashes, sha256) and the CAS info
//! of new xorbs. Uploads omit the footer; the parser accepts either.

use crate::{FormatError, MerkleHash};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    pub xorb: MerkleHash,
    /// Bytes of the term once decompressed.
    pub unpacked_bytes: u32,
    pub chunk_start: u32,
    /// Exclusive.
    pub chunk_end: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInfo {
    pub hash: MerkleHash,
    pub terms: Vec<Term>,
    /// One per term when present (required on upload).
    pub verification: Vec<MerkleHash>,
    /// SHA-256 of the file's bytes (required on upload).
    pub sha256: Option<[u8; 32]>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CasChunk {
    pub hash: MerkleHash,
    pub byte_start: u32,
    pub unpacked_bytes: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CasInfo {
    pub xorb: MerkleHash,
    pub chunks: Vec<CasChunk>,
    /// Sum of the chunks' raw lengths.
    pub unpacked_bytes: u32,
    /// Length of the serialized xorb.
    pub serialized_bytes: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shard {
    pub files: Vec<FileInfo>,
    pub xorbs: Vec<CasInfo>,
}

/// Serialize for the shard upload API (header, file info, CAS info, no footer).
pub fn serialize(shard: &Shard) -> Vec<u8> {
    todo!("{}", shard.files.len())
}

pub fn parse(bytes: &[u8]) -> Result<Shard, FormatError> {
    todo!("{}", bytes.len())
}
