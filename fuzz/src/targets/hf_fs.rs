//! The `hf_fs` command grammar: a tool call's raw arguments through everything the tool
//! does before its first Hub request — argument parsing, each operation's flags and
//! values, web URL normalization, the answers given locally (`hf://`, `hf://README.md`
//! with any offset) and the URI parser of every root. Invariants: no panic; the grammar is
//! deterministic; `normalize_uri` yields its trimmed input or an `hf://` URI, and is
//! idempotent up to surrounding whitespace.

use serde_json::value::RawValue;

use hubmcp_hub::tools::hf_fs::{grammar, parse_offline};

use crate::Target;

pub const TARGET: Target = Target {
    name: "hf_fs",
    about: "hf_fs arguments and command grammar, web URLs and hf:// URIs of every root",
    run,
    dictionary: &[
        "{\"operations\":[{\"cmd\":\"ls\",\"args\":[\"hf://models/o/r\"]}]}",
        "\"cmd\":\"",
        "\"args\":[",
        "ls",
        "cat",
        "attach",
        "stat",
        "find",
        "search",
        "hf://",
        "hf://README.md",
        "hf://models/",
        "hf://datasets/",
        "hf://spaces/",
        "hf://collections/",
        "hf://papers/",
        "hf://docs/",
        "https://huggingface.co/",
        "https://hf.co/",
        "/blob/",
        "/resolve/",
        "/tree/",
        "@",
        "@refs/pr/1",
        "@refs%2Fheads%2Fx",
        "%",
        "%2F",
        "%ff",
        "#",
        "daily/2024/02/29",
        "trending",
        "\"--limit\"",
        "\"--offset\"",
        "\"--max-bytes\"",
        "\"--glob\"",
        "\"--type\"",
        "\"--sort\"",
        "\"--tag\"",
        "\"--kind\"",
        "\"--query\"",
        "\"-R\"",
        "\"-name\"",
        "\"-path\"",
        "9223372036854775807",
        "-9223372036854775808",
        "\u{e9}",
        "\u{1f600}",
    ],
};

fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(args) = serde_json::from_str::<Box<RawValue>>(text) else { return };
    let Ok(results) = parse_offline(&args) else { return };
    let again = parse_offline(&args).expect("parsed once");
    assert_eq!(results.len(), again.len());
    for (a, b) in results.iter().zip(&again) {
        assert_eq!(a.as_ref().err().map(|e| &e.message), b.as_ref().err().map(|e| &e.message));
    }
    // The normalizer on its own, for every string in the input.
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(text) {
        for s in strings(&v) {
            let n = grammar::normalize_uri(s);
            assert!(n == s.trim() || n.starts_with("hf://"), "{s:?} became {n:?}");
            // Idempotent up to surrounding whitespace (a whitespace-only last segment of a
            // web URL survives the first pass; the grammar never normalizes twice).
            assert_eq!(grammar::normalize_uri(&n), n.trim(), "normalize_uri is not idempotent on {s:?}");
        }
    }
}

fn strings(v: &serde_json::Value) -> Vec<&str> {
    match v {
        serde_json::Value::String(s) => vec![s.as_str()],
        serde_json::Value::Array(a) => a.iter().flat_map(strings).collect(),
        serde_json::Value::Object(o) => o.values().flat_map(strings).collect(),
        _ => vec![],
    }
}
