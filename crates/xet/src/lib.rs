//! The Xet storage format, as the Hub's CAS speaks it (spec: huggingface/xet-core `spec/`):
//! content-defined chunking, the keyed-blake3 Merkle hashes that name chunks, xorbs and files,
//! the xorb container, and the shard that registers files. Pure functions over bytes, no I/O,
//! so the Hub client (uploads) and the stand-in CAS (validation, reconstruction) share one
//! reading of the format — and both are checked against the real `hf_xet`.

pub mod chunking;
pub mod hash;
pub mod shard;
pub mod upload;
pub mod xorb;

pub use hash::MerkleHash;

/// Why bytes are not a valid xorb or shard, or a hash string is malformed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatError(pub String);

impl std::fmt::Display for FormatError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FormatError {}
