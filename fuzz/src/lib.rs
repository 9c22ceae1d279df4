//! Fuzz targets for everything hubmcp parses from untrusted bytes, each a plain
//! `fn(&[u8])` that calls the real parsing code and panics when an invariant breaks.
//!
//! Three runners share them: the stable-toolchain mutation driver ([`driver`], binary
//! `hubmcp-fuzz`, used by the test command's short run and by `bench/fuzz/run` without
//! nightly), cargo-fuzz/libFuzzer (`fuzz/libfuzzer/`, nightly, used by `bench/fuzz/run`
//! when present), and `cargo test` (`tests/regressions.rs` replays every committed seed
//! and regression case).

pub mod driver;
pub mod targets;

/// One fuzz target.
pub struct Target {
    pub name: &'static str,
    /// What it feeds, in one line.
    pub about: &'static str,
    pub run: fn(&[u8]),
    /// Tokens the stable driver splices into inputs (libFuzzer finds its own).
    pub dictionary: &'static [&'static str],
}

/// Every target, in the order `bench/fuzz/run` runs them.
pub const TARGETS: &[Target] = &[
    targets::http_request::TARGET,
    targets::jsonrpc::TARGET,
    targets::mcp_headers::TARGET,
    targets::request_state::TARGET,
    targets::event_id_cursor::TARGET,
    targets::hf_fs::TARGET,
    targets::gradio_schema::TARGET,
    targets::gradio_sse::TARGET,
    targets::xet_formats::TARGET,
];

pub fn target(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|t| t.name == name)
}
