//! `hubmcp-fuzz`: the stable-toolchain fuzz driver.
//!
//!   hubmcp-fuzz list
//!   hubmcp-fuzz run [--seconds S] [--seed N] [--artifacts DIR] [TARGET...]
//!   hubmcp-fuzz replay TARGET FILE...
//!
//! `run` fuzzes each target (all by default) for S seconds (default 5) from its seeds
//! (`fuzz/corpus/<target>/`) and regression cases (`fuzz/regressions/<target>/`), prints
//! executions per target, saves crashing inputs under the artifacts directory (default
//! `$HUBMCP_CACHE/fuzz/artifacts`), and exits 1 if any target crashed.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use hubmcp_fuzz::driver::{self, Options};
use hubmcp_fuzz::{target, Target, TARGETS};

fn fuzz_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn usage() -> ExitCode {
    eprintln!(
        "usage: hubmcp-fuzz list | run [--seconds S] [--seed N] [--artifacts DIR] [TARGET...] | replay TARGET FILE..."
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("list") => {
            for t in TARGETS {
                println!("{:<16} {}", t.name, t.about);
            }
            ExitCode::SUCCESS
        }
        Some("run") => run(&args[1..]),
        Some("replay") if args.len() >= 3 => replay(&args[1], &args[2..]),
        _ => usage(),
    }
}

fn replay(name: &str, files: &[String]) -> ExitCode {
    let Some(t) = target(name) else { return usage() };
    let mut failed = false;
    for f in files {
        let bytes = std::fs::read(f).unwrap_or_else(|e| panic!("{f}: {e}"));
        match driver::execute(t, &bytes) {
            Ok(()) => println!("{f}: ok"),
            Err(m) => {
                println!("{f}: CRASH {m}");
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn run(args: &[String]) -> ExitCode {
    let mut seconds = 5.0f64;
    let mut seed =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64);
    let cache = std::env::var_os("HUBMCP_CACHE").map(PathBuf::from).unwrap_or_else(std::env::temp_dir);
    let mut artifacts = cache.join("fuzz").join("artifacts");
    let mut chosen: Vec<&'static Target> = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--seconds" => match it.next().and_then(|s| s.parse().ok()) {
                Some(s) => seconds = s,
                None => return usage(),
            },
            "--seed" => match it.next().and_then(|s| s.parse().ok()) {
                Some(s) => seed = s,
                None => return usage(),
            },
            "--artifacts" => match it.next() {
                Some(d) => artifacts = PathBuf::from(d),
                None => return usage(),
            },
            name => match target(name) {
                Some(t) => chosen.push(t),
                None => {
                    eprintln!("unknown target {name}; `hubmcp-fuzz list` lists them");
                    return ExitCode::from(2);
                }
            },
        }
    }
    if chosen.is_empty() {
        chosen = TARGETS.iter().collect();
    }
    println!("hubmcp-fuzz (stable driver): {seconds} s per target, seed {seed}, artifacts {}", artifacts.display());
    let opts = Options { duration: Duration::from_secs_f64(seconds), seed, artifacts };
    let mut crashed = 0;
    let mut total = 0u64;
    for t in chosen {
        let mut seeds: Vec<Vec<u8>> = Vec::new();
        for dir in ["corpus", "regressions"] {
            seeds.extend(driver::read_dir_files(&fuzz_dir().join(dir).join(t.name)).into_iter().map(|(_, b)| b));
        }
        let r = driver::fuzz(t, seeds, &opts);
        total += r.execs;
        crashed += r.crashes.len();
        println!(
            "fuzz {:<16} {:>9} execs in {:>5.1} s ({:>7.0}/s)  corpus {:>4}  crashes {}  slow {} (slowest {} ms)",
            t.name,
            r.execs,
            r.elapsed.as_secs_f64(),
            r.execs as f64 / r.elapsed.as_secs_f64().max(1e-9),
            r.corpus,
            r.crashes.len(),
            r.slow,
            r.slowest.as_millis()
        );
        for (message, path) in &r.crashes {
            println!("    crash: {message}\n           input: {}", path.display());
        }
    }
    println!("fuzz total: {total} execs, {crashed} distinct crashes");
    if crashed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
