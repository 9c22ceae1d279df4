//! The hostile catalogue's runner: a case is a name, an era, a way to misbehave, and what
//! the spec lets the server answer (a set of HTTP statuses, a set of JSON-RPC error
//! codes). After every case the runner scans what came back for leaks and checks that the
//! server still answers a normal request within [`liveness_bound`].

use std::time::Duration;

/// What a case observed.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The HTTP status (`None`: no response — the connection was closed or nothing came;
    /// always `None` for stdio).
    pub status: Option<u16>,
    /// JSON-RPC error codes of the response(s) the misbehaviour earned.
    pub codes: Vec<i64>,
    /// Every byte the server sent back, for the leak scan.
    pub bytes: Vec<u8>,
    /// A case-specific check that failed (e.g. a missing `Retry-After`).
    pub problem: Option<String>,
}

impl Outcome {
    pub fn problem(mut self, p: Option<String>) -> Self {
        if self.problem.is_none() {
            self.problem = p;
        }
        self
    }
}

/// The JSON-RPC error a case must (or may) earn.
#[derive(Debug, Clone)]
pub enum Codes {
    /// No JSON-RPC error (a success, a 202, or a bare HTTP refusal).
    NoError,
    /// One of these codes.
    OneOf(Vec<i64>),
    /// One of these codes, or no JSON-RPC body at all (the spec says the body MAY carry
    /// an error, e.g. for HTTP-level refusals).
    MaybeOneOf(Vec<i64>),
    /// Whatever the body says (resource cases judged by their own checks).
    Any,
}

pub type Run<F> = Box<dyn Fn(&F) -> Outcome>;

pub struct Case<F> {
    pub name: String,
    pub era: &'static str,
    pub run: Run<F>,
    /// Allowed statuses; `None` in the set admits "no response".
    pub statuses: Vec<Option<u16>>,
    pub codes: Codes,
}

/// Patterns no response may contain: panics, backtraces, source paths, home directories.
const LEAKS: &[&str] =
    &["panicked at", "stack backtrace", "RUST_BACKTRACE", "src/", ".rs:", "/root", "/home/", "/work/", "/rustc/"];

/// How soon after a case a normal request must be answered (`HUBMCP_HOSTILE_LIVENESS_MS`).
pub fn liveness_bound() -> Duration {
    let ms = std::env::var("HUBMCP_HOSTILE_LIVENESS_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(1000);
    Duration::from_millis(ms)
}

/// Judge one outcome; `Err` says why the case failed.
pub fn judge<F>(case: &Case<F>, out: &Outcome, secrets: &[&str]) -> Result<(), String> {
    if !case.statuses.is_empty() && !case.statuses.contains(&out.status) {
        return Err(format!("status {:?}, expected one of {:?}", out.status, case.statuses));
    }
    match &case.codes {
        Codes::NoError if !out.codes.is_empty() => return Err(format!("unexpected JSON-RPC error {:?}", out.codes)),
        Codes::OneOf(set) if !out.codes.iter().any(|c| set.contains(c)) => {
            return Err(format!("JSON-RPC codes {:?}, expected one of {set:?}", out.codes))
        }
        Codes::MaybeOneOf(set) if !out.codes.iter().all(|c| set.contains(c)) => {
            return Err(format!("JSON-RPC codes {:?}, expected none or one of {set:?}", out.codes))
        }
        _ => {}
    }
    let text = String::from_utf8_lossy(&out.bytes);
    for leak in LEAKS.iter().chain(secrets) {
        if text.contains(leak) {
            let at = text.find(leak).unwrap_or(0);
            let excerpt: String = text[at.saturating_sub(80)..].chars().take(200).collect();
            return Err(format!("response leaks {leak:?}: …{excerpt}"));
        }
    }
    if let Some(p) = &out.problem {
        return Err(p.clone());
    }
    Ok(())
}

/// Run every case, each followed by the liveness check; print one line per failure and
/// the summary `hostile: N cases, N passed`. Returns the failures.
pub fn run_all<F>(
    fixture: &F,
    cases: &[Case<F>],
    secrets: &[&str],
    alive: impl Fn(&F) -> Result<(), String>,
) -> Vec<String> {
    let mut failures = Vec::new();
    for case in cases {
        let out = (case.run)(fixture);
        let verdict = judge(case, &out, secrets).and_then(|()| {
            alive(fixture).map_err(|e| format!("server not serving within {:?} afterwards: {e}", liveness_bound()))
        });
        match verdict {
            Ok(()) => println!("  ok   [{}] {}", case.era, case.name),
            Err(e) => {
                println!("  FAIL [{}] {}: {e}", case.era, case.name);
                failures.push(format!("[{}] {}: {e}", case.era, case.name));
            }
        }
    }
    failures
}

// ----- building a table ----------------------------------------------------------------

pub fn st(s: &[u16]) -> Vec<Option<u16>> {
    s.iter().map(|&x| Some(x)).collect()
}

pub fn st_or_none(s: &[u16]) -> Vec<Option<u16>> {
    let mut v = st(s);
    v.push(None);
    v
}

pub fn one(c: &[i64]) -> Codes {
    Codes::OneOf(c.to_vec())
}

pub fn maybe(c: &[i64]) -> Codes {
    Codes::MaybeOneOf(c.to_vec())
}
