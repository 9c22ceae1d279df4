//! The per-request log line, kept off the request path.
//!
//! Formatting a line and writing it per request cost the default configuration (`--log
//! info`) about a quarter of its throughput (bench/README.md). So the request path only
//! pushes a small fixed [`LogEntry`] into a bounded queue — no formatting, no allocation
//! for the common request, no lock, no system call — and one background thread drains the
//! queue every few milliseconds, formats the lines (text or JSON, the same content as the
//! `tracing` subscriber writes) and writes each batch with one `write_all`.
//!
//! When the sink is slow the writer thread blocks, the queue fills, and the request path
//! DROPS lines and counts them (`mcp_log_lines_dropped_total`) rather than wait. The
//! entry holds the caller's identity (already a hash) only until the writer salts and
//! hashes it again; tokens never reach this module.

mod format;

use std::borrow::Cow;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TryRecvError, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::clients::Clients;
pub(crate) use format::user_hash;
use format::LineWriter;
pub use format::LogFormat;

/// Opens the request log's output (called once, when the log starts).
pub type MakeSink = Arc<dyn Fn() -> Box<dyn Write + Send> + Send + Sync>;

/// How the request log is written.
#[derive(Clone)]
pub struct RequestLogConfig {
    pub format: LogFormat,
    /// Lines waiting for the writer; beyond this they are dropped (and counted).
    pub queue: usize,
    /// Where lines go (standard error in the binary).
    pub sink: MakeSink,
}

impl RequestLogConfig {
    /// The default queue, to standard error (whose lock keeps lines of other threads whole).
    pub fn stderr(format: LogFormat) -> Self {
        RequestLogConfig { format, queue: DEFAULT_QUEUE, sink: Arc::new(|| Box::new(std::io::stderr())) }
    }
}

impl std::fmt::Debug for RequestLogConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestLogConfig").field("format", &self.format).field("queue", &self.queue).finish()
    }
}

/// At 100 k requests/s, a few times what arrives between two drains.
pub const DEFAULT_QUEUE: usize = 16_384;
/// How often the writer drains the queue while requests arrive, and when idle.
const BUSY_INTERVAL: Duration = Duration::from_millis(10);
const IDLE_INTERVAL: Duration = Duration::from_millis(50);

/// One finished request, as the request path hands it over: plain values and shared
/// strings; the writer looks up the client's name and hashes the caller.
pub(crate) struct LogEntry {
    /// Microseconds since the Unix epoch when the request ended.
    pub end_unix_us: u64,
    pub method: &'static str,
    pub era: &'static str,
    pub transport: &'static str,
    /// The client's slot in the client table.
    pub client: u32,
    pub protocol_version: Cow<'static, str>,
    pub duration_us: u64,
    pub outcome: &'static str,
    pub code: Option<i32>,
    pub tool: Option<ToolName>,
    /// The caller's identity (a hash already); the line carries a salted hash of it.
    pub caller: Option<Arc<str>>,
}

/// A tool name, copied into the entry without allocating unless it is long.
pub(crate) enum ToolName {
    Inline { len: u8, bytes: [u8; INLINE_TOOL] },
    Long(Box<str>),
}

const INLINE_TOOL: usize = 48;

impl ToolName {
    pub(crate) fn new(name: &str) -> Self {
        if name.len() <= INLINE_TOOL {
            let mut bytes = [0; INLINE_TOOL];
            bytes[..name.len()].copy_from_slice(name.as_bytes());
            ToolName::Inline { len: name.len() as u8, bytes }
        } else {
            ToolName::Long(name.into())
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        match self {
            // A whole `str` was copied, so this is valid UTF-8.
            ToolName::Inline { len, bytes } => std::str::from_utf8(&bytes[..usize::from(*len)]).unwrap_or_default(),
            ToolName::Long(s) => s,
        }
    }
}

/// A protocol version as a static string when it is one we know (no allocation).
pub(crate) fn version_str(v: &str) -> Cow<'static, str> {
    use mcp_engine::protocol::{SESSION_VERSIONS, STATELESS_VERSIONS};
    match STATELESS_VERSIONS.iter().chain(SESSION_VERSIONS).find(|k| **k == v) {
        Some(k) => Cow::Borrowed(k),
        None => Cow::Owned(v.to_owned()),
    }
}

/// The request path's end of the log: a bounded queue and its drop counter.
pub(crate) struct RequestLog {
    queue: SyncSender<LogEntry>,
    dropped: AtomicU64,
    writer: Arc<Mutex<Drain>>,
}

/// The writer's end: everything needed to turn entries into lines.
struct Drain {
    queue: Receiver<LogEntry>,
    lines: LineWriter,
    sink: Box<dyn Write + Send>,
    buf: Vec<u8>,
}

impl Drain {
    /// Format and write everything queued, in one write. `None` once every sender is gone.
    fn drain(&mut self) -> Option<usize> {
        self.buf.clear();
        let mut n = 0;
        let open = loop {
            match self.queue.try_recv() {
                Ok(entry) => {
                    self.lines.line(&entry, &mut self.buf);
                    n += 1;
                    // Bound the batch (memory, and how long a flush holds the lock).
                    if self.buf.len() >= 1 << 20 {
                        break true;
                    }
                }
                Err(TryRecvError::Empty) => break true,
                Err(TryRecvError::Disconnected) => break false,
            }
        };
        if !self.buf.is_empty() {
            // A failing sink (closed stderr) loses these lines; nothing to report them to.
            let _ = self.sink.write_all(&self.buf).and_then(|_| self.sink.flush());
        }
        open.then_some(n)
    }
}

impl RequestLog {
    /// The queue and its writer thread (which ends when the log is dropped).
    pub(crate) fn start(config: RequestLogConfig, clients: Arc<Clients>, salt: Vec<u8>) -> RequestLog {
        let (tx, rx) = sync_channel(config.queue.max(1));
        let drain = Drain {
            queue: rx,
            lines: LineWriter::new(config.format, clients, salt),
            sink: (config.sink)(),
            buf: Vec::new(),
        };
        let writer = Arc::new(Mutex::new(drain));
        let background = writer.clone();
        let spawned = std::thread::Builder::new().name("request-log".into()).spawn(move || loop {
            // The lock is taken per batch; `flush` may take it in between.
            let drained = background.lock().unwrap_or_else(|e| e.into_inner()).drain();
            match drained {
                None => return,
                Some(0) => std::thread::sleep(IDLE_INTERVAL),
                Some(_) => std::thread::sleep(BUSY_INTERVAL),
            }
        });
        if let Err(e) = spawned {
            tracing::warn!("request log: cannot start its writer thread ({e}); lines are written on flush only");
        }
        RequestLog { queue: tx, dropped: AtomicU64::new(0), writer }
    }

    /// Hand a finished request to the writer; drop it (counted) if the queue is full.
    #[inline]
    pub(crate) fn push(&self, entry: LogEntry) {
        if let Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) = self.queue.try_send(entry) {
            self.dropped.fetch_add(1, Relaxed);
        }
    }

    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.load(Relaxed)
    }

    /// Write everything queued so far (at exit, and in tests).
    pub(crate) fn flush(&self) {
        self.writer.lock().unwrap_or_else(|e| e.into_inner()).drain();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn entry() -> LogEntry {
        LogEntry {
            end_unix_us: 1_700_000_000_000_000,
            method: "tools/call",
            era: "stateless",
            transport: "streamable_http",
            client: 0,
            protocol_version: version_str("2026-07-28"),
            duration_us: 10,
            outcome: "ok",
            code: None,
            tool: None,
            caller: None,
        }
    }

    #[test]
    fn a_full_queue_drops_and_counts_instead_of_waiting() {
        let out = Shared::default();
        let sink = out.clone();
        let config =
            RequestLogConfig { format: LogFormat::Json, queue: 2, sink: Arc::new(move || Box::new(sink.clone())) };
        let log = RequestLog::start(config, Arc::new(Clients::new(4)), Vec::new());
        {
            // A writer that cannot drain (here: its lock is held) stands for a slow sink.
            let _stuck = log.writer.lock().unwrap();
            for _ in 0..5 {
                log.push(entry());
            }
            assert_eq!(log.dropped(), 3);
        }
        log.flush();
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        assert_eq!(text.lines().count(), 2, "{text}");
        assert!(text.lines().all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()));
    }

    #[test]
    fn tool_names_short_inline_and_long_boxed() {
        let long = "t".repeat(INLINE_TOOL + 1);
        for name in ["", "echo", "é_ünïcode", &long[1..], &long] {
            assert_eq!(ToolName::new(name).as_str(), name);
        }
        assert!(matches!(ToolName::new(&long[1..]), ToolName::Inline { .. }));
        assert!(matches!(ToolName::new(&long), ToolName::Long(_)));
    }

    #[test]
    fn known_versions_are_not_copied() {
        assert!(matches!(version_str("2025-06-18"), Cow::Borrowed(_)));
        assert_eq!(version_str("1999-01-01"), "1999-01-01");
    }
}
