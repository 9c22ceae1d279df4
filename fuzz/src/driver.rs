//! The stable-toolchain fuzzing engine: blind mutation of a corpus (the committed seeds
//! and regression cases) with byte-level operators and the target's dictionary, every
//! execution under `catch_unwind`, panics in spawned tasks caught by a panic hook. No
//! coverage feedback (that needs nightly's instrumentation: libFuzzer does it), so a
//! small share of mutants is kept to let mutations stack. Deterministic for a given seed.

use std::collections::HashSet;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Once;
use std::time::{Duration, Instant};

use crate::Target;

/// Longest input the mutators make.
const MAX_LEN: usize = 8 * 1024;
/// Most entries kept in the in-memory corpus.
const MAX_CORPUS: usize = 1024;
/// An execution slower than this is reported (not failed: timing depends on the machine).
const SLOW: Duration = Duration::from_secs(1);

pub struct Options {
    pub duration: Duration,
    pub seed: u64,
    /// Where crashing and slow inputs are written.
    pub artifacts: PathBuf,
}

#[derive(Debug, Default)]
pub struct Report {
    pub execs: u64,
    pub elapsed: Duration,
    pub corpus: usize,
    /// One entry per distinct panic location: (message, saved input).
    pub crashes: Vec<(String, PathBuf)>,
    pub slow: u64,
    pub slowest: Duration,
}

thread_local! {
    /// The first panic of the target running on this thread (per thread: `cargo test` runs
    /// targets on several threads at once, and a shared slot let one clear another's).
    static LAST_PANIC: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
    /// Set while this thread runs a target (tasks it spawns run on it too: the targets use
    /// current-thread runtimes).
    static CAPTURING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Record panics of a target (or of a task it spawned) instead of printing each one;
/// other panics go to the previous hook.
fn install_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !CAPTURING.with(|c| c.get()) {
                return previous(info);
            }
            let location = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
            let payload = info
                .payload()
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| info.payload().downcast_ref::<String>().cloned())
                .unwrap_or_default();
            LAST_PANIC.with(|last| {
                let mut last = last.borrow_mut();
                if last.is_none() {
                    *last = Some(format!("{location}: {payload}"));
                }
            });
        }));
    });
}

/// Run `target` on one input; `Err` carries the panic's location and message.
pub fn execute(target: &Target, input: &[u8]) -> Result<(), String> {
    install_hook();
    LAST_PANIC.with(|l| l.borrow_mut().take());
    CAPTURING.with(|c| c.set(true));
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| (target.run)(input)));
    CAPTURING.with(|c| c.set(false));
    let recorded = LAST_PANIC.with(|l| l.borrow_mut().take());
    match (outcome, recorded) {
        (Ok(()), None) => Ok(()),
        (_, Some(message)) => Err(message),
        (Err(_), None) => Err("panic".into()),
    }
}

/// The files of a directory, sorted by name (missing directory: none).
pub fn read_dir_files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut files: Vec<PathBuf> = entries.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.is_file()).collect();
    files.sort();
    files.into_iter().filter_map(|p| std::fs::read(&p).ok().map(|b| (p, b))).collect()
}

/// Fuzz `target` for `opts.duration`, starting from `seeds`.
pub fn fuzz(target: &Target, seeds: Vec<Vec<u8>>, opts: &Options) -> Report {
    let mut rng = Rng(opts.seed ^ fnv(target.name.as_bytes()) | 1);
    let mut corpus: Vec<Vec<u8>> = if seeds.is_empty() { vec![Vec::new()] } else { seeds };
    let fixed = corpus.len();
    let mut report = Report::default();
    let mut seen_crashes: HashSet<String> = HashSet::new();
    let start = Instant::now();
    // Every seed once, as is, first.
    let mut pending: Vec<Vec<u8>> = corpus.clone();
    while start.elapsed() < opts.duration {
        // Half the mutants start from a seed: without coverage feedback, kept mutants
        // drift towards inputs the parsers refuse at the first byte.
        let parents = if rng.below(2) == 0 { &corpus[..fixed] } else { &corpus[..] };
        let input = pending.pop().unwrap_or_else(|| mutate(&mut rng, parents, &corpus, target.dictionary));
        let t0 = Instant::now();
        let outcome = execute(target, &input);
        let took = t0.elapsed();
        report.execs += 1;
        if took > report.slowest {
            report.slowest = took;
        }
        if took > SLOW {
            report.slow += 1;
            if report.slow <= 3 {
                let path = save(&opts.artifacts, target.name, "slow", &input);
                eprintln!("fuzz {}: slow input ({} ms) saved to {}", target.name, took.as_millis(), path.display());
            }
        }
        match outcome {
            Err(message) => {
                let location = message.split(": ").next().unwrap_or("").to_owned();
                if seen_crashes.insert(location) {
                    let path = save(&opts.artifacts, target.name, "crash", &input);
                    eprintln!("fuzz {}: CRASH {message}\n  input saved to {}", target.name, path.display());
                    report.crashes.push((message, path));
                }
            }
            Ok(()) if rng.below(32) == 0 => {
                if corpus.len() < MAX_CORPUS {
                    corpus.push(input);
                } else {
                    let i = fixed + rng.below(corpus.len() - fixed);
                    corpus[i] = input;
                }
            }
            Ok(()) => {}
        }
    }
    report.elapsed = start.elapsed();
    report.corpus = corpus.len();
    report
}

fn save(dir: &Path, target: &str, kind: &str, input: &[u8]) -> PathBuf {
    let dir = dir.join(target);
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join(format!("{kind}-{:016x}", fnv(input)));
    let _ = std::fs::write(&path, input);
    path
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325u64, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x100000001b3))
}

/// xorshift64*: small, fast, reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545F4914F6CDD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

const INTERESTING_BYTES: &[u8] = b"\x00\xff\x7f\x80\"\\{}[]:,\n\r \t-=?%@/.0";
const INTERESTING_NUMBERS: &[&str] = &[
    "0",
    "-1",
    "1",
    "255",
    "65536",
    "2147483648",
    "-2147483649",
    "4294967296",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775809",
    "18446744073709551615",
    "18446744073709551616",
    "1e308",
    "-1e309",
    "0.5",
    "1.0",
    "1e-400",
];

fn mutate(rng: &mut Rng, parents: &[Vec<u8>], corpus: &[Vec<u8>], dictionary: &[&str]) -> Vec<u8> {
    let mut data = parents[rng.below(parents.len())].clone();
    for _ in 0..1 + rng.below(4) {
        let len = data.len();
        let at = rng.below(len + 1);
        match rng.below(11) {
            0 if len > 0 => data[at.min(len - 1)] ^= 1 << rng.below(8),
            1 if len > 0 => data[at.min(len - 1)] = INTERESTING_BYTES[rng.below(INTERESTING_BYTES.len())],
            2 => data.insert(at, rng.next() as u8),
            3 if len > 0 => {
                let n = (1 + rng.below(8)).min(len - at.min(len - 1));
                let from = at.min(len - 1);
                data.drain(from..from + n);
            }
            4 if len > 0 => {
                let from = rng.below(len);
                let n = 1 + rng.below((len - from).min(64));
                let chunk = data[from..from + n].to_vec();
                data.splice(at..at, chunk);
            }
            5 | 6 if !dictionary.is_empty() => {
                let token = dictionary[rng.below(dictionary.len())].as_bytes();
                if rng.below(2) == 0 || len == 0 {
                    data.splice(at..at, token.iter().copied());
                } else {
                    let from = at.min(len - 1);
                    let n = (1 + rng.below(8)).min(len - from);
                    data.splice(from..from + n, token.iter().copied());
                }
            }
            7 => {
                let other = &corpus[rng.below(corpus.len())];
                let cut = rng.below(other.len() + 1);
                data.truncate(at);
                data.extend_from_slice(&other[cut..]);
            }
            8 => {
                let n = INTERESTING_NUMBERS[rng.below(INTERESTING_NUMBERS.len())].as_bytes();
                data.splice(at..at, n.iter().copied());
            }
            9 if len > 1 => data.truncate(at),
            10 if len > 1 => {
                let (a, b) = (rng.below(len), rng.below(len));
                data.swap(a, b);
            }
            _ => data.push(INTERESTING_BYTES[rng.below(INTERESTING_BYTES.len())]),
        }
    }
    data.truncate(MAX_LEN);
    data
}
