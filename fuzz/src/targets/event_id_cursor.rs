//! `Last-Event-ID` (`<stream>-<seq>`) and list cursor parsing. Input: one string, read
//! as both. Invariants: no panic; whatever parses is the parse of its own canonical
//! form (event id) or decodes to an offset whose cursor decodes to it again.

use mcp_engine::dispatch::{decode_cursor, encode_cursor};
use mcp_engine::store::event_log::{event_id, parse_event_id};

use crate::Target;

pub const TARGET: Target = Target {
    name: "event_id_cursor",
    about: "Last-Event-ID and list cursor parsing",
    run,
    dictionary: &["-", "_", "push-", "b zo", "-18446744073709551615", "-18446744073709551616", "+", "bzo", "==", " "],
};

fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Some((stream, seq)) = parse_event_id(&text) {
        assert!(!stream.is_empty() && stream.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_eq!(parse_event_id(&event_id(stream, seq)), Some((stream, seq)));
    }
    if let Some(offset) = decode_cursor(&text) {
        assert_eq!(decode_cursor(&encode_cursor(offset)), Some(offset));
    }
}
