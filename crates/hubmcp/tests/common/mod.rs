//! Test support shared by the binary's integration tests: `hubmcp serve` as a child process
//! on an ephemeral port, found through its "listening on" line.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The `hubmcp` binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_hubmcp");

/// A running `hubmcp serve`; killed when dropped.
pub struct ServedBinary {
    pub child: Child,
    /// The endpoint URL it reported, `http://127.0.0.1:<port>/mcp`.
    pub url: String,
    /// The URL without the `/mcp` path.
    pub base: String,
    /// Every stderr line so far (stderr is drained for the life of the child).
    pub log: Arc<Mutex<Vec<String>>>,
}

impl Drop for ServedBinary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Spawn `cmd` (a `hubmcp serve` on port 0) with stdout discarded and stderr piped, and
/// wait (at most 30 s) for the "listening on <url>" line.
pub fn serve_binary(mut cmd: Command) -> ServedBinary {
    cmd.stdout(Stdio::null()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn hubmcp serve");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let deadline = Instant::now() + Duration::from_secs(30);
    let log = Arc::new(Mutex::new(Vec::new()));
    let url = loop {
        assert!(Instant::now() < deadline, "server did not report its address");
        let line = lines.next().expect("stderr open").unwrap();
        log.lock().unwrap().push(line.clone());
        if let Some(i) = line.find("listening on ") {
            break line[i + "listening on ".len()..].trim().to_owned();
        }
    };
    let sink = log.clone();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            sink.lock().unwrap().push(line);
        }
    });
    ServedBinary { child, base: url.trim_end_matches("/mcp").to_owned(), url, log }
}

/// A Hub stand-in on its own runtime for the life of the test.
pub struct Hub {
    pub standin: hub_standin::StandIn,
    _rt: tokio::runtime::Runtime,
}

pub fn hub() -> Hub {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let standin = rt.block_on(hub_standin::spawn(hub_standin::StandInConfig::default()));
    Hub { standin, _rt: rt }
}

/// A Hub stand-in and a Gradio Spaces stand-in on their own runtime for the life of the test.
pub struct Upstreams {
    pub hub: hub_standin::StandIn,
    pub spaces: hub_standin::spaces::SpacesStandIn,
    _rt: tokio::runtime::Runtime,
}

pub fn upstreams() -> Upstreams {
    use hub_standin::spaces::{spawn_spaces, SpacesConfig};
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let hub = rt.block_on(hub_standin::spawn(hub_standin::StandInConfig::default()));
    let spaces = rt.block_on(spawn_spaces(SpacesConfig::default()));
    Upstreams { hub, spaces, _rt: rt }
}
