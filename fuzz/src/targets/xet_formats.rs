//! The Xet xorb and shard parsers (`xet-format`), which the Hub stand-in's CAS runs on
//! uploaded bytes. Input: one byte string, read as a xorb, a xorb range and a shard.
//! Invariants: no panic, no allocation beyond the input's announced sizes; a parsed xorb's
//! chunks hash to what their data hashes to; a parsed shard re-serializes to a shard that
//! parses to the same content.

use xet_format::hash::chunk_hash;
use xet_format::{shard, xorb};

use crate::Target;

pub const TARGET: Target = Target {
    name: "xet_formats",
    about: "Xet xorb and shard parsing",
    run,
    dictionary: &["XETBLOB", "HFRepoMetaData", "\u{0}\u{0}\u{0}\u{0}", "\u{ff}\u{ff}\u{ff}\u{ff}", "\u{1}", "\u{2}"],
};

fn run(data: &[u8]) {
    if let Ok(chunks) = xorb::parse(data) {
        for c in &chunks {
            assert_eq!(c.hash, chunk_hash(&c.data));
            assert!(c.byte_start < c.byte_end && c.byte_end as usize <= data.len());
        }
        let whole: Vec<u8> = chunks.iter().flat_map(|c| c.data.iter().copied()).collect();
        assert_eq!(xorb::decode_range(data).ok(), Some(whole));
    }
    let _ = xorb::decode_range(data);
    if let Ok(parsed) = shard::parse(data) {
        let again = shard::serialize(&parsed);
        assert_eq!(shard::parse(&again).ok(), Some(parsed));
    }
}
