//! The MDB shard: file reconstructions (terms, verification hashes, sha256) and the CAS info
//! of new xorbs, as 48-byte little-endian records after a 48-byte header, each section closed
//! by a bookend (32 × 0xFF, 16 × 0). Uploads omit the footer; the parser accepts either and
//! ignores it. Parsing takes untrusted bytes: counts are checked against the bytes present
//! before anything is allocated.
//!
//! `serialize` writes the CAS info exactly as hf_xet 1.8.0 uploads it (xet-core
//! `RawXorbData::from_chunks`, `XorbChunkSequenceHeader::new`, `streaming_shard.rs`), which
//! the real CAS therefore accepts, rather than the spec's looser wording:
//! - a chunk's `chunk_byte_range_start` is its offset in the xorb's *unpacked* bytes (the sum
//!   of the previous chunks' lengths), not its header's offset in the serialized xorb;
//! - `num_bytes_on_disk` is 0;
//! - the chunk a file starts with carries the global-dedup flag (bit 31);
//! - a file with no terms still sets the verification flag (it has zero entries);
//! - files, and xorbs, are written in the order of their hashes' string forms.
//!
//! `tests/vectors.rs` compares our shards with hf_xet's byte for byte.
//!
//! `parse` returns a shard in that same canonical form, so that parse → serialize → parse is
//! stable (the stand-in re-serializes what clients send; the fuzz target checks it): files and
//! xorbs sorted as `serialize` writes them, each chunk's `byte_start` the unpacked offset
//! derived from the chunk lengths (what xet-core records), `serialized_bytes` 0 (what xet-core
//! records as `num_bytes_on_disk`). Per-entry flags are not returned (`serialize` derives
//! them). A shard recording other offsets or sizes is still read: nothing downstream uses them.

use crate::{FormatError, MerkleHash};

const TAG: [u8; 32] = [
    b'H', b'F', b'R', b'e', b'p', b'o', b'M', b'e', b't', b'a', b'D', b'a', b't', b'a', 0, 85, 105, 103, 69, 106, 123,
    129, 87, 131, 165, 189, 217, 92, 205, 209, 74, 169,
];
const VERSION: u64 = 2;
const RECORD: usize = 48;
const WITH_VERIFICATION: u32 = 1 << 31;
const WITH_METADATA_EXT: u32 = 1 << 30;
/// Chunk flag: index this chunk for global deduplication (xet-core sets it on file starts).
const CHUNK_GLOBAL_DEDUP: u32 = 1 << 31;

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
    /// SHA-256 of the file's bytes, as the digest's bytes (required on upload).
    pub sha256: Option<[u8; 32]>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CasChunk {
    pub hash: MerkleHash,
    /// Where the chunk's header starts in the serialized xorb (what `upload::prepare` and
    /// `xorb::parse` report). Not sent: on the wire xet-core records the chunk's unpacked
    /// offset, which `serialize` derives from `unpacked_bytes` and `parse` returns here.
    pub byte_start: u32,
    pub unpacked_bytes: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CasInfo {
    pub xorb: MerkleHash,
    pub chunks: Vec<CasChunk>,
    /// Sum of the chunks' raw lengths.
    pub unpacked_bytes: u32,
    /// Length of the serialized xorb. Not sent: xet-core writes 0 (`parse` returns the wire
    /// value).
    pub serialized_bytes: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shard {
    pub files: Vec<FileInfo>,
    pub xorbs: Vec<CasInfo>,
}

/// xet-core keeps a sha256 as a hash whose string form is the digest's hex, so each 8-byte
/// word is stored reversed (the same transform both ways).
fn swap_words(b: [u8; 32]) -> [u8; 32] {
    let mut out = b;
    for w in out.chunks_exact_mut(8) {
        w.reverse();
    }
    out
}

/// xet-core's order of hashes: its four 8-byte words as little-endian integers, compared in
/// turn (the order of their string forms).
fn xet_order(h: &MerkleHash) -> [u64; 4] {
    let mut words = [0u64; 4];
    for (w, b) in words.iter_mut().zip(h.0.chunks_exact(8)) {
        *w = u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
    }
    words
}

struct Writer(Vec<u8>);

impl Writer {
    fn hash(&mut self, h: &[u8; 32]) {
        self.0.extend_from_slice(h);
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn zeros(&mut self, n: usize) {
        self.0.resize(self.0.len() + n, 0);
    }
    fn bookend(&mut self) {
        self.hash(&[0xff; 32]);
        self.zeros(16);
    }
}

/// Serialize for the shard upload API (header, file info, CAS info, no footer).
pub fn serialize(shard: &Shard) -> Vec<u8> {
    let records: usize = shard.files.iter().map(|f| 1 + f.terms.len() * 2 + 1).sum::<usize>()
        + shard.xorbs.iter().map(|x| 1 + x.chunks.len()).sum::<usize>()
        + 3;
    let mut w = Writer(Vec::with_capacity(records * RECORD));
    w.hash(&TAG);
    w.u64(VERSION);
    w.u64(0); // footer size: none on upload
              // xet-core serializes from maps keyed by hash: files and xorbs in hash order.
    let mut files: Vec<&FileInfo> = shard.files.iter().collect();
    files.sort_by_key(|f| xet_order(&f.hash));
    let mut xorbs: Vec<&CasInfo> = shard.xorbs.iter().collect();
    xorbs.sort_by_key(|x| xet_order(&x.xorb));
    for f in files {
        let mut flags = 0;
        // hf_xet flags even a file without terms (zero entries follow).
        if !f.verification.is_empty() || f.terms.is_empty() {
            flags |= WITH_VERIFICATION;
        }
        if f.sha256.is_some() {
            flags |= WITH_METADATA_EXT;
        }
        w.hash(&f.hash.0);
        w.u32(flags);
        w.u32(f.terms.len() as u32);
        w.zeros(8);
        for t in &f.terms {
            w.hash(&t.xorb.0);
            w.u32(0);
            w.u32(t.unpacked_bytes);
            w.u32(t.chunk_start);
            w.u32(t.chunk_end);
        }
        for v in &f.verification {
            w.hash(&v.0);
            w.zeros(16);
        }
        if let Some(sha) = f.sha256 {
            w.hash(&swap_words(sha));
            w.zeros(16);
        }
    }
    w.bookend();
    // The chunks files start with: (xorb, chunk index).
    let file_starts: Vec<(MerkleHash, u32)> =
        shard.files.iter().filter_map(|f| f.terms.first()).map(|t| (t.xorb, t.chunk_start)).collect();
    for x in xorbs {
        w.hash(&x.xorb.0);
        w.u32(0);
        w.u32(x.chunks.len() as u32);
        w.u32(x.unpacked_bytes);
        w.u32(0); // num_bytes_on_disk, as xet-core writes it
        let mut unpacked_offset = 0u32;
        for (i, c) in x.chunks.iter().enumerate() {
            w.hash(&c.hash.0);
            w.u32(unpacked_offset);
            w.u32(c.unpacked_bytes);
            let starts_a_file = file_starts.contains(&(x.xorb, i as u32));
            w.u32(if starts_a_file { CHUNK_GLOBAL_DEDUP } else { 0 });
            w.u32(0);
            unpacked_offset = unpacked_offset.wrapping_add(c.unpacked_bytes);
        }
    }
    w.bookend();
    w.0
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn record(&mut self, what: &str) -> Result<&'a [u8], FormatError> {
        let r = self
            .bytes
            .get(self.at..self.at + RECORD)
            .ok_or_else(|| FormatError(format!("shard truncated in {what} at byte {}", self.at)))?;
        self.at += RECORD;
        Ok(r)
    }
    /// Fail early when `n` more records cannot be there.
    fn room_for(&self, n: usize, what: &str) -> Result<(), FormatError> {
        let left = self.bytes.len().saturating_sub(self.at) / RECORD;
        if n > left {
            return Err(FormatError(format!("shard announces {n} {what} but holds at most {left}")));
        }
        Ok(())
    }
}

fn hash_at(r: &[u8]) -> [u8; 32] {
    let mut h = [0u8; 32];
    h.copy_from_slice(&r[..32]);
    h
}

fn u32_at(r: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([r[at], r[at + 1], r[at + 2], r[at + 3]])
}

fn is_bookend(r: &[u8]) -> bool {
    r[..32].iter().all(|&b| b == 0xff)
}

pub fn parse(bytes: &[u8]) -> Result<Shard, FormatError> {
    let mut r = Reader { bytes, at: 0 };
    let head = r.record("the header")?;
    if head[..32] != TAG {
        return Err(FormatError("not a shard (bad header tag)".into()));
    }
    let version = u64::from_le_bytes(head[32..40].try_into().unwrap_or_default());
    if version != VERSION {
        return Err(FormatError(format!("unsupported shard version {version}")));
    }
    let mut shard = Shard::default();
    loop {
        let h = r.record("the file info section")?;
        if is_bookend(h) {
            break;
        }
        let (flags, n) = (u32_at(h, 32), u32_at(h, 36) as usize);
        r.room_for(n, "terms")?;
        let mut terms = Vec::with_capacity(n);
        for _ in 0..n {
            let t = r.record("a term")?;
            let term = Term {
                xorb: MerkleHash(hash_at(t)),
                unpacked_bytes: u32_at(t, 36),
                chunk_start: u32_at(t, 40),
                chunk_end: u32_at(t, 44),
            };
            if term.chunk_start >= term.chunk_end {
                return Err(FormatError(format!("empty chunk range {}..{}", term.chunk_start, term.chunk_end)));
            }
            terms.push(term);
        }
        let mut verification = Vec::new();
        if flags & WITH_VERIFICATION != 0 {
            r.room_for(n, "verification entries")?;
            for _ in 0..n {
                verification.push(MerkleHash(hash_at(r.record("a verification entry")?)));
            }
        }
        let sha256 = if flags & WITH_METADATA_EXT != 0 {
            Some(swap_words(hash_at(r.record("the metadata extension")?)))
        } else {
            None
        };
        shard.files.push(FileInfo { hash: MerkleHash(hash_at(h)), terms, verification, sha256 });
    }
    loop {
        let h = r.record("the CAS info section")?;
        if is_bookend(h) {
            break;
        }
        let n = u32_at(h, 36) as usize;
        r.room_for(n, "chunks")?;
        let mut chunks = Vec::with_capacity(n);
        let mut unpacked_offset = 0u32;
        for _ in 0..n {
            let c = r.record("a chunk entry")?;
            let unpacked_bytes = u32_at(c, 36);
            chunks.push(CasChunk { hash: MerkleHash(hash_at(c)), byte_start: unpacked_offset, unpacked_bytes });
            unpacked_offset = unpacked_offset.wrapping_add(unpacked_bytes);
        }
        shard.xorbs.push(CasInfo {
            xorb: MerkleHash(hash_at(h)),
            chunks,
            unpacked_bytes: u32_at(h, 40),
            serialized_bytes: 0,
        });
    }
    // Stable sorts: the order `serialize` writes, entries with equal hashes kept in turn.
    shard.files.sort_by_key(|f| xet_order(&f.hash));
    shard.xorbs.sort_by_key(|x| xet_order(&x.xorb));
    Ok(shard)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::chunk_hash;

    fn sample() -> Shard {
        let x = chunk_hash(b"xorb");
        Shard {
            files: vec![FileInfo {
                hash: chunk_hash(b"file"),
                terms: vec![Term { xorb: x, unpacked_bytes: 10, chunk_start: 0, chunk_end: 2 }],
                verification: vec![chunk_hash(b"v")],
                sha256: Some([7; 32]),
            }],
            xorbs: vec![CasInfo {
                xorb: x,
                chunks: vec![
                    CasChunk { hash: chunk_hash(b"a"), byte_start: 0, unpacked_bytes: 4 },
                    CasChunk { hash: chunk_hash(b"b"), byte_start: 4, unpacked_bytes: 6 },
                ],
                unpacked_bytes: 10,
                serialized_bytes: 0,
            }],
        }
    }

    #[test]
    fn round_trip() {
        let s = sample();
        let bytes = serialize(&s);
        assert_eq!(bytes.len(), RECORD * (1 + 4 + 1 + 3 + 1));
        assert_eq!(parse(&bytes).unwrap(), s);
        // A footer after the sections is ignored.
        let mut with_footer = bytes.clone();
        with_footer.extend_from_slice(&[1; 200]);
        assert_eq!(parse(&with_footer).unwrap(), s);
    }

    #[test]
    fn cas_info_is_written_as_xet_core_writes_it() {
        let mut s = sample();
        // In memory: serialized offsets and length (what prepare reports).
        s.xorbs[0].chunks[1].byte_start = 12;
        s.xorbs[0].serialized_bytes = 26;
        let bytes = serialize(&s);
        let cas = RECORD * 6; // header, file header, term, verification, sha256, bookend
        assert_eq!(u32_at(&bytes[cas..], 44), 0, "num_bytes_on_disk");
        let (a, b) = (&bytes[cas + RECORD..], &bytes[cas + 2 * RECORD..]);
        assert_eq!((u32_at(a, 32), u32_at(b, 32)), (0, 4), "unpacked offsets");
        assert_eq!((u32_at(a, 40), u32_at(b, 40)), (CHUNK_GLOBAL_DEDUP, 0), "the file starts at chunk 0");
        assert_eq!(parse(&bytes).unwrap(), sample());
        // A file without terms still announces (zero) verification entries.
        let empty = Shard {
            files: vec![FileInfo { hash: MerkleHash::default(), terms: vec![], verification: vec![], sha256: None }],
            xorbs: vec![],
        };
        let bytes = serialize(&empty);
        assert_eq!(u32_at(&bytes[RECORD..], 32), WITH_VERIFICATION);
        assert_eq!(parse(&bytes).unwrap(), empty);
    }

    /// The records of `shard`'s one file (file info section minus header and bookend).
    fn file_records(f: FileInfo) -> Vec<u8> {
        let bytes = serialize(&Shard { files: vec![f], xorbs: vec![] });
        bytes[RECORD..bytes.len() - 2 * RECORD].to_vec()
    }

    #[test]
    fn parse_serialize_parse_is_stable() {
        let file = |name: &[u8]| FileInfo { hash: chunk_hash(name), ..sample().files[0].clone() };
        let (a, b) = (file(b"a"), file(b"b"));
        let (first, second) = if xet_order(&a.hash) < xet_order(&b.hash) { (a, b) } else { (b, a) };
        // Files out of order, and CAS info with a serialized size and an offset that are not
        // what xet-core records (an older writer's): read, canonicalized, stable.
        let mut bytes = serialize(&Shard::default())[..RECORD].to_vec();
        bytes.extend(file_records(second.clone()));
        bytes.extend(file_records(first.clone()));
        let cas = serialize(&sample());
        bytes.extend_from_slice(&cas[RECORD * 5..]); // bookend, CAS info, bookend
        let at = bytes.len() - 4 * RECORD;
        bytes[at + 44..at + 48].copy_from_slice(&122u32.to_le_bytes());
        bytes[at + 2 * RECORD + 32..at + 2 * RECORD + 36].copy_from_slice(&999u32.to_le_bytes());
        let parsed = parse(&bytes).unwrap();
        assert_eq!(parsed.files, [first, second]);
        assert_eq!(parsed.xorbs, sample().xorbs);
        assert_eq!(parse(&serialize(&parsed)).unwrap(), parsed);
    }

    #[test]
    fn sha256_words_are_stored_reversed() {
        let mut digest = [0u8; 32];
        digest[0] = 0xaa;
        let mut s = sample();
        s.files[0].sha256 = Some(digest);
        let bytes = serialize(&s);
        let ext = &bytes[RECORD * 4..RECORD * 4 + 32];
        assert_eq!(ext[7], 0xaa);
        assert_eq!(MerkleHash(hash_at(ext)).hex()[..2], *"aa");
    }

    #[test]
    fn garbage_is_refused_without_panic() {
        let bytes = serialize(&sample());
        for cut in 0..bytes.len() {
            assert!(parse(&bytes[..cut]).is_err(), "truncated at {cut}");
        }
        let mut huge = bytes.clone();
        huge[RECORD + 36..RECORD + 40].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(parse(&huge).is_err());
        let mut tag = bytes.clone();
        tag[0] = b'X';
        assert!(parse(&tag).is_err());
    }
}
