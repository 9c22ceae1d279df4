//! Every committed seed (`fuzz/corpus/<target>/`) and regression case
//! (`fuzz/regressions/<target>/`, each a crash the fuzzers once found) runs through its
//! target on every `cargo test`: a fixed bug stays fixed.

use std::path::Path;

use hubmcp_fuzz::driver::{execute, read_dir_files};
use hubmcp_fuzz::TARGETS;

fn replay(kind: &str) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(kind);
    let mut count = 0;
    let mut failures = Vec::new();
    for t in TARGETS {
        for (path, bytes) in read_dir_files(&root.join(t.name)) {
            count += 1;
            if let Err(m) = execute(t, &bytes) {
                failures.push(format!("{}: {m}", path.display()));
            }
        }
    }
    assert!(failures.is_empty(), "{} of {count} {kind} inputs fail:\n{}", failures.len(), failures.join("\n"));
    count
}

#[test]
fn seeds_pass_every_target() {
    let n = replay("corpus");
    for t in TARGETS {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus").join(t.name);
        assert!(!read_dir_files(&dir).is_empty(), "target {} has no seeds", t.name);
    }
    assert!(n >= TARGETS.len());
}

#[test]
fn regression_cases_stay_fixed() {
    replay("regressions");
}

/// The invariants can fail: a target refuses what it must refuse.
#[test]
fn a_broken_invariant_is_reported() {
    let t = hubmcp_fuzz::target("request_state").unwrap();
    // Mode 2 (a seal/open round trip) passes; the driver turns a panic into an error.
    assert!(execute(t, b"\x02t\nanonymous\n{\"a\":1}").is_ok());
    let panicking = hubmcp_fuzz::Target { name: "p", about: "", run: |_| panic!("boom"), dictionary: &[] };
    let err = execute(&panicking, b"").unwrap_err();
    assert!(err.contains("boom"), "{err}");
}
