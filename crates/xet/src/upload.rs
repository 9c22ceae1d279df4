//! Turning one file's bytes into what an upload sends: its xorbs and the shard registering it.
//! No deduplication against the CAS (an optional optimisation in the protocol); chunks
//! repeated inside the file are stored once.

use crate::{shard::Shard, MerkleHash};

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
    todo!("{}", data.len())
}
