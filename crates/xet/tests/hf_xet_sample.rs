//! Parsing what the real client wrote: `hf_xet_sample/` holds a xorb and a shard that hf_xet
//! 1.8.0 produced for three small files (see `make_sample.py` there), both *with* the footers
//! its local CAS stores — the layout older clients also uploaded. The xorb mixes all three chunk
//! schemes (LZ4, raw, byte-grouped LZ4). The inputs are regenerated here, so every check below
//! compares against the bytes that went in, not against recorded output of our own code.

use sha2::{Digest, Sha256};
use xet_format::hash::{chunk_hash, file_hash, verification_hash, xorb_hash};
use xet_format::{shard, xorb, MerkleHash};

const XORB_HASH: &str = "99e97e4245ecfa4b3737d8e419eb5dd761bb99773ef543c2d0c63c62d169fd61";
const XORB: &[u8] =
    include_bytes!("hf_xet_sample/99e97e4245ecfa4b3737d8e419eb5dd761bb99773ef543c2d0c63c62d169fd61.xorb");
const SHARD: &[u8] =
    include_bytes!("hf_xet_sample/927c1871a3a5827b36f8cc0ee6d42b2eba0d0403ac0666ab236aa1710c749197.shard");

fn xorshift(n: usize, mut x: u64) -> Vec<u8> {
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// The three inputs of `make_sample.py`, in the order hf_xet packed them into the xorb.
fn inputs() -> [Vec<u8>; 3] {
    let text: Vec<u8> = (0..300).flat_map(|i| format!("line {i} of a small text sample\n").into_bytes()).collect();
    let floats: Vec<u8> = (0..4000).flat_map(|i| ((1.0 + i as f64 * 1e-4) as f32).to_le_bytes()).collect();
    [text, xorshift(9000, 0x9E37_79B9_7F4A_7C15), floats]
}

#[test]
fn hf_xet_xorb_with_footer_and_every_scheme() {
    let want = inputs();
    let chunks = xorb::parse(XORB).unwrap();
    assert_eq!(chunks.len(), 3);
    // Schemes as hf_xet chose them: LZ4, raw, BG4+LZ4.
    let schemes: Vec<u8> = chunks.iter().map(|c| XORB[c.byte_start as usize + 4]).collect();
    assert_eq!(schemes, [1, 0, 2]);
    for (c, w) in chunks.iter().zip(&want) {
        assert_eq!(&c.data, w);
        assert_eq!(c.hash, chunk_hash(w));
    }
    let pairs: Vec<_> = chunks.iter().map(|c| (c.hash, c.data.len() as u64)).collect();
    assert_eq!(xorb_hash(&pairs).hex(), XORB_HASH);
    // The footer starts right after the last chunk and is not a chunk.
    let end = chunks[2].byte_end as usize;
    assert!(end < XORB.len() && XORB[end..].starts_with(b"XETBLOB"));
    assert_eq!(xorb::decode_range(&XORB[chunks[1].byte_start as usize..]).unwrap(), [&want[1][..], &want[2]].concat());
    // hf_xet chose each file's scheme on its first chunk (three files here), and so do we:
    // serialized file by file, our chunks are hf_xet's bytes, BG4 included.
    let ours: Vec<u8> = want.iter().flat_map(|w| xorb::serialize(&[w]).0).collect();
    assert_eq!(ours, XORB[..end]);
}

#[test]
fn hf_xet_shard_with_footer() {
    let want = inputs();
    let s = shard::parse(SHARD).unwrap();
    assert_eq!(u64::from_le_bytes(SHARD[40..48].try_into().unwrap()), 200, "the sample carries a footer");
    let xorb = MerkleHash::from_hex(XORB_HASH).unwrap();
    assert_eq!(s.xorbs.len(), 1);
    assert_eq!(s.xorbs[0].xorb, xorb);
    assert_eq!(s.xorbs[0].unpacked_bytes as usize, want.iter().map(Vec::len).sum::<usize>());
    let mut offset = 0;
    for (c, w) in s.xorbs[0].chunks.iter().zip(&want) {
        assert_eq!((c.hash, c.unpacked_bytes as usize, c.byte_start), (chunk_hash(w), w.len(), offset));
        offset += w.len() as u32;
    }
    assert_eq!(s.files.len(), 3);
    for w in &want {
        let h = chunk_hash(w);
        let f = s.files.iter().find(|f| f.hash == file_hash(&[(h, w.len() as u64)])).expect("a file per input");
        let i = s.xorbs[0].chunks.iter().position(|c| c.hash == h).unwrap() as u32;
        assert_eq!(f.terms.len(), 1);
        assert_eq!((f.terms[0].xorb, f.terms[0].chunk_start, f.terms[0].chunk_end), (xorb, i, i + 1));
        assert_eq!(f.verification, vec![verification_hash(&[h])]);
        assert_eq!(f.sha256, Some(Sha256::digest(w).into()));
    }
    // Re-serialized, it is hf_xet's shard minus footer and lookup tables.
    let ours = shard::serialize(&s);
    assert_eq!(ours[..40], SHARD[..40]);
    assert_eq!(ours[48..], SHARD[48..ours.len()]);
}

/// Untrusted bytes: every one-byte corruption and every truncation of the real files is either
/// parsed or refused with an error — never a panic (a panic fails this test).
#[test]
fn corrupted_real_files_never_panic() {
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for original in [XORB, SHARD] {
        for _ in 0..3000 {
            let mut bytes = original.to_vec();
            let at = (next() % bytes.len() as u64) as usize;
            bytes[at] = next() as u8;
            let _ = xorb::parse(&bytes);
            let _ = xorb::decode_range(&bytes);
            let _ = shard::parse(&bytes);
        }
        for cut in (0..original.len()).step_by(97) {
            let _ = xorb::parse(&original[..cut]);
            let _ = shard::parse(&original[..cut]);
        }
    }
    // A corrupted chunk body is caught (by LZ4 or by the length check), not silently accepted.
    let chunks = xorb::parse(XORB).unwrap();
    let mut bad = XORB.to_vec();
    bad[chunks[0].byte_start as usize + 20] ^= 0xff;
    assert!(xorb::parse(&bad).map_or(true, |c| c[0].data != chunks[0].data));
}
