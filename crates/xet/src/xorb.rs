//! The xorb container: chunks, each an 8-byte header and its (maybe LZ4 / byte-grouped LZ4)
//! compressed bytes; real clients may append a footer, which readers skip.

use crate::{FormatError, MerkleHash};

/// Largest serialized xorb the CAS accepts.
pub const MAX_XORB_BYTES: usize = 64 * 1024 * 1024;

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

/// Serialize chunks (LZ4 where it helps, stored raw otherwise). Returns the bytes and each
/// chunk's header offset (what a shard's CAS info records).
pub fn serialize(chunks: &[&[u8]]) -> (Vec<u8>, Vec<u32>) {
    todo!("{}", chunks.len())
}

/// Parse a serialized xorb (any compression scheme; a trailing footer is ignored), decompress
/// every chunk and hash it.
pub fn parse(bytes: &[u8]) -> Result<Vec<XorbChunk>, FormatError> {
    todo!("{}", bytes.len())
}

/// Decompress the chunks of a byte range of a serialized xorb that starts at a chunk header
/// (what a reconstruction fetch URL serves), concatenated.
pub fn decode_range(bytes: &[u8]) -> Result<Vec<u8>, FormatError> {
    todo!("{}", bytes.len())
}
