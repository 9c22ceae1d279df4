//! The stand-in's Xet storage (CAS): xorbs by hash, file reconstructions registered by
//! shards, and the short-lived access tokens the Hub hands out for a bucket. Fixture bucket
//! files and files written by other routes are stored here too (through the same format code),
//! so every bucket file has a real Xet hash and downloads through `hf_xet` work.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use xet_format::shard::{CasChunk, Term};
use xet_format::MerkleHash;

/// Bounds: this is a test fixture, but a runaway client must not grow it without end.
const MAX_XORBS: usize = 10_000;
/// Total serialized xorb bytes the store keeps (each upload is already capped by the
/// stand-in's 64 MiB request body limit).
const MAX_XORB_BYTES_TOTAL: usize = 1024 * 1024 * 1024;
const MAX_TOKENS: usize = 10_000;
/// File reconstructions shards may register (each is small, but shards are unbounded in number).
pub(crate) const MAX_FILES: usize = 100_000;
/// Largest file the stand-in rebuilds from its xorbs (what a bucket batch may register).
pub(crate) const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;
/// How long an access token lives.
pub(crate) const TOKEN_SECONDS: u64 = 3600;

pub(crate) struct StoredXorb {
    pub bytes: Bytes,
    pub chunks: Vec<CasChunk>,
}

impl StoredXorb {
    /// Byte range `[start, end)` of chunks `[from, to)` in the serialized xorb.
    pub fn byte_range(&self, from: u32, to: u32) -> (usize, usize) {
        let start = self.chunks[from as usize].byte_start as usize;
        let end = self.chunks.get(to as usize).map_or(self.bytes.len(), |c| c.byte_start as usize);
        (start, end)
    }
}

pub(crate) struct FileRecon {
    pub terms: Vec<Term>,
    pub size: u64,
}

/// What an access token allows.
#[derive(Clone)]
pub(crate) struct Grant {
    pub bucket: String,
    pub write: bool,
    pub expires: u64,
}

pub(crate) struct XetStore {
    pub xorbs: HashMap<MerkleHash, StoredXorb>,
    pub files: HashMap<MerkleHash, FileRecon>,
    /// Sum of the stored xorbs' byte lengths, against [`MAX_XORB_BYTES_TOTAL`].
    xorb_bytes: usize,
    tokens: HashMap<String, Grant>,
    /// Signs the xorb download URLs a reconstruction hands out (like presigned URLs: the
    /// download carries no token).
    url_key: u128,
}

impl Default for XetStore {
    fn default() -> Self {
        XetStore {
            xorbs: HashMap::new(),
            files: HashMap::new(),
            xorb_bytes: 0,
            tokens: HashMap::new(),
            url_key: rand::random(),
        }
    }
}

pub(crate) fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl XetStore {
    /// Store `data` as an upload would and return its Xet file hash.
    pub fn store_bytes(&mut self, data: &[u8]) -> MerkleHash {
        let prepared = xet_format::upload::prepare(data);
        for (xorb, info) in prepared.xorbs.into_iter().zip(prepared.shard.xorbs) {
            // The stand-in's own (fixture) files: small, never refused.
            if !self.xorbs.contains_key(&xorb.hash) {
                self.xorb_bytes += xorb.bytes.len();
                self.xorbs.insert(xorb.hash, StoredXorb { bytes: xorb.bytes.into(), chunks: info.chunks });
            }
        }
        let file = prepared.shard.files.into_iter().next().expect("prepare describes one file");
        self.files.insert(prepared.file_hash, FileRecon { terms: file.terms, size: prepared.size });
        prepared.file_hash
    }

    pub fn insert_xorb(&mut self, hash: MerkleHash, xorb: StoredXorb) -> Result<bool, &'static str> {
        if self.xorbs.contains_key(&hash) {
            return Ok(false);
        }
        if self.xorbs.len() >= MAX_XORBS || self.xorb_bytes + xorb.bytes.len() > MAX_XORB_BYTES_TOTAL {
            return Err("the stand-in's xorb store is full");
        }
        self.xorb_bytes += xorb.bytes.len();
        self.xorbs.insert(hash, xorb);
        Ok(true)
    }

    /// The bytes of a registered file, rebuilt from its xorbs.
    pub fn rebuild(&self, file: &MerkleHash) -> Option<Bytes> {
        if *file == MerkleHash::default() {
            return Some(Bytes::new());
        }
        let recon = self.files.get(file)?;
        if recon.size > MAX_FILE_BYTES {
            return None;
        }
        let mut out = Vec::with_capacity(recon.size as usize);
        for t in &recon.terms {
            let x = self.xorbs.get(&t.xorb)?;
            let (start, end) = x.byte_range(t.chunk_start, t.chunk_end);
            out.extend_from_slice(&xet_format::xorb::decode_range(&x.bytes[start..end]).ok()?);
        }
        Some(out.into())
    }

    /// A new access token for `bucket`.
    pub fn issue(&mut self, bucket: &str, write: bool) -> (String, u64) {
        let now = unix_now();
        if self.tokens.len() >= MAX_TOKENS {
            self.tokens.retain(|_, g| g.expires > now);
            if self.tokens.len() >= MAX_TOKENS {
                self.tokens.clear();
            }
        }
        let token = format!("xet_standin_{:032x}", rand::random::<u128>());
        let expires = now + TOKEN_SECONDS;
        self.tokens.insert(token.clone(), Grant { bucket: bucket.to_owned(), write, expires });
        (token, expires)
    }

    /// The signature of a download URL for `xorb`.
    pub fn url_signature(&self, xorb: &MerkleHash) -> String {
        use sha2::{Digest, Sha256};
        let digest = Sha256::new().chain_update(self.url_key.to_le_bytes()).chain_update(xorb.0).finalize();
        digest[..16].iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The grant of a live token.
    pub fn grant(&self, token: &str) -> Option<Grant> {
        self.tokens.get(token).filter(|g| g.expires > unix_now()).cloned()
    }
}
