//! `bench-sessions`: load for the session era of hubmcp (or any MCP server).
//!
//! - `lifecycle`: workers run full sessions back to back — `initialize`,
//!   `notifications/initialized`, `tools/list`, `tools/call`, `DELETE` — and the client
//!   reports sessions per second and lifecycle latency.
//! - `idle-streams`: opens N sessions, then one server-push `GET` stream per session, and
//!   reports the server's resident memory (VmRSS of `--pid`) per stream and per session.
//!
//! - `calls`: per-request latency and rate of `tools/call` on long-lived sessions (each
//!   worker initializes once, then calls in a loop), or of stateless 2026-07-28 calls
//!   (`--stateless`); `--requests N` sends exactly N calls (for instruction counts).
//! - `open`: initializes N sessions (realistic client info and capabilities) and leaves
//!   them open, for store memory and idle-expiry checks.
//!
//! It prints figures and asserts nothing about them.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use futures_util::StreamExt;
use serde_json::{json, Value};

#[derive(Parser)]
#[command(name = "bench-sessions", about = "Session-era load for an MCP server")]
struct Cli {
    /// The MCP endpoint.
    #[arg(long, default_value = "http://127.0.0.1:3000/mcp")]
    url: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Full session lifecycles per second.
    Lifecycle {
        /// Concurrent workers.
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
        /// Seconds of measured load (after `--warmup`).
        #[arg(long, default_value_t = 10)]
        duration: u64,
        #[arg(long, default_value_t = 2)]
        warmup: u64,
        /// The tool to call.
        #[arg(long, default_value = "test_simple_text")]
        tool: String,
    },
    /// Server memory per idle server-push stream.
    IdleStreams {
        /// Streams (and sessions) to open.
        #[arg(long, default_value_t = 10_000)]
        streams: usize,
        /// The server's process id (its VmRSS is read from /proc).
        #[arg(long)]
        pid: u32,
        /// Connections opened at once.
        #[arg(long, default_value_t = 64)]
        parallel: usize,
        /// Seconds to hold the streams open after the last one is up (keep-alives flow).
        #[arg(long, default_value_t = 5)]
        hold: u64,
        /// Measure idle keep-alive connections (one `ping` each, no stream) instead: the
        /// floor that the HTTP stack itself costs per connection.
        #[arg(long)]
        connections_only: bool,
    },
    /// `tools/call` latency on open sessions (or stateless, `--stateless`).
    Calls {
        /// Concurrent workers, each with its own session and connection.
        #[arg(long, default_value_t = 1)]
        concurrency: usize,
        /// Seconds of measured load (after `--warmup`); ignored with `--requests`.
        #[arg(long, default_value_t = 10)]
        duration: u64,
        #[arg(long, default_value_t = 2)]
        warmup: u64,
        /// Send exactly this many calls in all (split across workers), no warm-up.
        #[arg(long)]
        requests: Option<u64>,
        /// Stateless 2026-07-28 calls (no session, no initialize) instead.
        #[arg(long)]
        stateless: bool,
        /// The tool to call.
        #[arg(long, default_value = "test_simple_text")]
        tool: String,
    },
    /// Open N sessions (initialize only, or with `--initialized`) and leave them open.
    Open {
        #[arg(long, default_value_t = 10_000)]
        count: usize,
        /// Sessions initialized at once.
        #[arg(long, default_value_t = 64)]
        parallel: usize,
        /// Also send `notifications/initialized` for each.
        #[arg(long)]
        initialized: bool,
    },
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().pool_max_idle_per_host(1024).tcp_nodelay(true).build().expect("client")
}

fn post(c: &reqwest::Client, url: &str, sid: Option<&str>, body: &Value) -> reqwest::RequestBuilder {
    let mut r = c
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(body.to_string());
    if let Some(sid) = sid {
        r = r.header("mcp-session-id", sid).header("mcp-protocol-version", "2025-11-25");
    }
    r
}

/// initialize + initialized; returns the session id.
async fn open_session(c: &reqwest::Client, url: &str) -> anyhow::Result<String> {
    let init = json!({ "jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": { "name": "bench-sessions", "version": "1" } } });
    let res = post(c, url, None, &init).send().await?;
    if res.status() != 200 {
        bail!("initialize: HTTP {} {}", res.status(), res.text().await.unwrap_or_default());
    }
    let sid = res.headers().get("mcp-session-id").context("no Mcp-Session-Id")?.to_str()?.to_owned();
    res.bytes().await?;
    let res =
        post(c, url, Some(&sid), &json!({ "jsonrpc": "2.0", "method": "notifications/initialized" })).send().await?;
    if res.status() != 202 {
        bail!("initialized: HTTP {}", res.status());
    }
    Ok(sid)
}

/// The `initialize` a real client sends: client info with a title, and the capabilities
/// of a client that offers roots, sampling and elicitation.
fn realistic_initialize() -> Value {
    json!({ "jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": { "roots": { "listChanged": true }, "sampling": {}, "elicitation": {} },
        "clientInfo": { "name": "claude-code", "title": "Claude Code", "version": "2.0.14" } } })
}

async fn open_realistic(c: &reqwest::Client, url: &str, initialized: bool) -> anyhow::Result<String> {
    let res = post(c, url, None, &realistic_initialize()).send().await?;
    if res.status() != 200 {
        bail!("initialize: HTTP {} {}", res.status(), res.text().await.unwrap_or_default());
    }
    let sid = res.headers().get("mcp-session-id").context("no Mcp-Session-Id")?.to_str()?.to_owned();
    res.bytes().await?;
    if initialized {
        let n = json!({ "jsonrpc": "2.0", "method": "notifications/initialized" });
        let res = post(c, url, Some(&sid), &n).send().await?;
        if res.status() != 202 {
            bail!("initialized: HTTP {}", res.status());
        }
    }
    Ok(sid)
}

async fn open(url: String, count: usize, parallel: usize, initialized: bool) -> anyhow::Result<()> {
    let c = client();
    let t = Instant::now();
    let results: Vec<anyhow::Result<String>> = futures_util::stream::iter(0..count)
        .map(|_| {
            let (c, url) = (c.clone(), url.clone());
            async move { open_realistic(&c, &url, initialized).await }
        })
        .buffer_unordered(parallel)
        .collect()
        .await;
    let secs = t.elapsed().as_secs_f64();
    let failed: Vec<&anyhow::Error> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    println!(
        "open: {} sessions initialized{} in {secs:.1} s ({} failed)",
        count - failed.len(),
        if initialized { " (+ notifications/initialized)" } else { "" },
        failed.len()
    );
    println!("BENCH_OPEN opened={} failed={} seconds={secs:.2}", count - failed.len(), failed.len());
    if let Some(e) = failed.first() {
        bail!("first failure: {e:#}");
    }
    Ok(())
}

/// One stateless 2026-07-28 `tools/call`, as bench/tools_call.lua sends it.
fn stateless_call(c: &reqwest::Client, url: &str, tool: &str, id: u64) -> reqwest::RequestBuilder {
    let body = json!({ "jsonrpc": "2.0", "id": id, "method": "tools/call", "params": { "name": tool, "arguments": {},
        "_meta": { "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                   "io.modelcontextprotocol/clientCapabilities": {},
                   "io.modelcontextprotocol/clientInfo": { "name": "bench", "version": "1" } } } });
    c.post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/call")
        .header("mcp-name", tool)
        .body(body.to_string())
}

async fn call_once(c: &reqwest::Client, url: &str, sid: Option<&str>, tool: &str, id: u64) -> anyhow::Result<()> {
    let req = match sid {
        Some(sid) => post(
            c,
            url,
            Some(sid),
            &json!({ "jsonrpc": "2.0", "id": id, "method": "tools/call", "params": { "name": tool, "arguments": {} } }),
        ),
        None => stateless_call(c, url, tool, id),
    };
    let res = req.send().await?;
    let status = res.status();
    let text = res.text().await?;
    if status != 200 || !text.contains("\"result\"") {
        bail!("tools/call: HTTP {status} {}", &text[..text.len().min(300)]);
    }
    Ok(())
}

async fn calls(
    url: String,
    concurrency: usize,
    duration: u64,
    warmup: u64,
    requests: Option<u64>,
    stateless: bool,
    tool: String,
) -> anyhow::Result<()> {
    let measuring = Arc::new(AtomicBool::new(requests.is_some()));
    let stop = Arc::new(AtomicBool::new(false));
    let errors = Arc::new(AtomicU64::new(0));
    let mut workers = Vec::new();
    for w in 0..concurrency {
        // One client (one keep-alive connection) per worker, like wrk's connections.
        let c = client();
        let (url, tool) = (url.clone(), tool.clone());
        let (measuring, stop, errors) = (measuring.clone(), stop.clone(), errors.clone());
        let quota = requests.map(|n| n / concurrency as u64 + u64::from((w as u64) < n % concurrency as u64));
        workers.push(tokio::spawn(async move {
            let sid = if stateless { None } else { Some(open_session(&c, &url).await?) };
            let mut lat = Vec::new();
            let mut id = 1u64;
            while !stop.load(Ordering::Relaxed) && quota.is_none_or(|q| id <= q) {
                let t = Instant::now();
                let ok = call_once(&c, &url, sid.as_deref(), &tool, id).await;
                id += 1;
                if measuring.load(Ordering::Relaxed) && !stop.load(Ordering::Relaxed) {
                    match ok {
                        Ok(()) => lat.push(t.elapsed().as_micros() as u64),
                        Err(e) => {
                            if errors.fetch_add(1, Ordering::Relaxed) == 0 {
                                eprintln!("first error: {e:#}");
                            }
                        }
                    }
                }
            }
            if let Some(sid) = sid {
                let del = c.delete(&url).header("mcp-session-id", &sid).header("mcp-protocol-version", "2025-11-25");
                del.send().await?;
            }
            anyhow::Ok(lat)
        }));
    }
    let t0;
    if requests.is_none() {
        tokio::time::sleep(Duration::from_secs(warmup)).await;
        measuring.store(true, Ordering::Relaxed);
        t0 = Instant::now();
        tokio::time::sleep(Duration::from_secs(duration)).await;
        stop.store(true, Ordering::Relaxed);
    } else {
        t0 = Instant::now();
    }
    let mut lat = Vec::new();
    for w in workers {
        lat.extend(w.await??);
    }
    let elapsed = t0.elapsed().as_secs_f64();
    lat.sort_unstable();
    let n = lat.len();
    let kind = if stateless { "stateless 2026-07-28" } else { "session-era (2025-11-25, one session per worker)" };
    let errs = errors.load(Ordering::Relaxed);
    println!("calls: tools/call {tool}, {kind}");
    println!("  concurrency      {concurrency}");
    println!("  calls            {n} in {elapsed:.1} s ({errs} errors)");
    println!("  calls/s          {:.0}", n as f64 / elapsed);
    println!("  latency p50      {:.3} ms", percentile(&lat, 0.50));
    println!("  latency p99      {:.3} ms", percentile(&lat, 0.99));
    println!(
        "BENCH_CALLS requests={n} rps={:.1} p50_us={:.0} p99_us={:.0} errors={errs}",
        n as f64 / elapsed,
        percentile(&lat, 0.50) * 1000.0,
        percentile(&lat, 0.99) * 1000.0
    );
    Ok(())
}

async fn lifecycle_once(c: &reqwest::Client, url: &str, tool: &str) -> anyhow::Result<()> {
    let sid = open_session(c, url).await?;
    let list = post(c, url, Some(&sid), &json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list" })).send().await?;
    let list: Value = list.json().await?;
    if list["result"]["tools"].as_array().is_none_or(|t| t.is_empty()) {
        bail!("tools/list: {list}");
    }
    let call =
        json!({ "jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": { "name": tool, "arguments": {} } });
    let res = post(c, url, Some(&sid), &call).send().await?;
    let text = res.text().await?;
    if !text.contains("\"result\"") {
        bail!("tools/call: {text}");
    }
    let res = c.delete(url).header("mcp-session-id", &sid).header("mcp-protocol-version", "2025-11-25").send().await?;
    if res.status() != 200 {
        bail!("DELETE: HTTP {} {}", res.status(), res.text().await.unwrap_or_default());
    }
    Ok(())
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

async fn lifecycle(url: String, concurrency: usize, duration: u64, warmup: u64, tool: String) -> anyhow::Result<()> {
    let c = client();
    lifecycle_once(&c, &url, &tool).await.context("first lifecycle")?;
    let measuring = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let errors = Arc::new(AtomicU64::new(0));
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (c, url, tool) = (c.clone(), url.clone(), tool.clone());
        let (measuring, stop, errors) = (measuring.clone(), stop.clone(), errors.clone());
        workers.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                let ok = lifecycle_once(&c, &url, &tool).await;
                if measuring.load(Ordering::Relaxed) && !stop.load(Ordering::Relaxed) {
                    match ok {
                        Ok(()) => lat.push(t.elapsed().as_micros() as u64),
                        Err(e) => {
                            if errors.fetch_add(1, Ordering::Relaxed) == 0 {
                                eprintln!("first error: {e:#}");
                            }
                        }
                    }
                }
            }
            lat
        }));
    }
    tokio::time::sleep(Duration::from_secs(warmup)).await;
    measuring.store(true, Ordering::Relaxed);
    let t0 = Instant::now();
    tokio::time::sleep(Duration::from_secs(duration)).await;
    stop.store(true, Ordering::Relaxed);
    let elapsed = t0.elapsed().as_secs_f64();
    let mut lat = Vec::new();
    for w in workers {
        lat.extend(w.await?);
    }
    lat.sort_unstable();
    let n = lat.len();
    println!("lifecycle: initialize, initialized, tools/list, tools/call {tool}, DELETE");
    println!("  concurrency      {concurrency}");
    println!("  sessions         {n} in {elapsed:.1} s ({} errors)", errors.load(Ordering::Relaxed));
    println!("  sessions/s       {:.0}", n as f64 / elapsed);
    println!("  HTTP requests/s  {:.0}", 5.0 * n as f64 / elapsed);
    println!("  lifecycle p50    {:.2} ms", percentile(&lat, 0.50));
    println!("  lifecycle p99    {:.2} ms", percentile(&lat, 0.99));
    println!(
        "BENCH_LIFECYCLE sessions={n} sessions_per_s={:.1} p50_us={:.0} p99_us={:.0} errors={}",
        n as f64 / elapsed,
        percentile(&lat, 0.50) * 1000.0,
        percentile(&lat, 0.99) * 1000.0,
        errors.load(Ordering::Relaxed)
    );
    Ok(())
}

fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).context("reading /proc/<pid>/status")?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).context("no VmRSS")?;
    Ok(line.split_whitespace().nth(1).context("VmRSS value")?.parse()?)
}

/// What keeps a connection open: a streaming response, or a client with a pooled connection.
#[allow(dead_code)]
enum Conn {
    Stream(reqwest::Response),
    Idle(reqwest::Client),
}

async fn idle_streams(
    url: String,
    streams: usize,
    pid: u32,
    parallel: usize,
    hold: u64,
    connections_only: bool,
) -> anyhow::Result<()> {
    let c = client();
    // Warm the server (allocator arenas, first connections) before the baseline.
    for _ in 0..32 {
        lifecycle_once(&c, &url, "test_simple_text").await?;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let base = rss_kib(pid)?;
    let t = Instant::now();
    let sids: Vec<String> = futures_util::stream::iter(0..streams)
        .map(|_| {
            let c = c.clone();
            let url = url.clone();
            async move { open_session(&c, &url).await }
        })
        .buffer_unordered(parallel)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<_>>()?;
    let sessions_s = t.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let with_sessions = rss_kib(pid)?;
    // One connection per stream: each GET gets its own client (no pooled connection to share).
    let t = Instant::now();
    let opened: Vec<Conn> = futures_util::stream::iter(sids.iter().cloned())
        .map(|sid| {
            let url = url.clone();
            async move {
                let c = reqwest::Client::builder().pool_max_idle_per_host(1).build()?;
                if connections_only {
                    let ping = json!({ "jsonrpc": "2.0", "id": 1, "method": "ping" });
                    let res = post(&c, &url, Some(&sid), &ping).send().await?;
                    res.bytes().await?;
                    return Ok(Conn::Idle(c));
                }
                let mut res = c
                    .get(&url)
                    .header("accept", "text/event-stream")
                    .header("mcp-session-id", &sid)
                    .header("mcp-protocol-version", "2025-11-25")
                    .send()
                    .await?;
                if res.status() != 200 {
                    bail!("GET: HTTP {}", res.status());
                }
                // The priming event proves the stream is live.
                res.chunk().await?.context("stream ended")?;
                Ok(Conn::Stream(res))
            }
        })
        .buffer_unordered(parallel)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<_>>()?;
    let streams_s = t.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(hold)).await;
    let with_streams = rss_kib(pid)?;
    let n = opened.len() as f64;
    let what = if connections_only { "idle keep-alive connection (one ping each, no stream)" } else { "idle stream" };
    println!("idle server-push streams: {} sessions, then one {what} each", opened.len());
    println!("  opened sessions in {sessions_s:.1} s, streams in {streams_s:.1} s; held {hold} s");
    println!("  server RSS: baseline {base} KiB, with sessions {with_sessions} KiB, with streams {with_streams} KiB");
    println!("  per session (state only)     {:.2} KiB", (with_sessions as f64 - base as f64) / n);
    println!(
        "  per {what:<25}{:.2} KiB   (target for streams <= 16 KiB)",
        (with_streams as f64 - with_sessions as f64) / n
    );
    println!("  per session with its stream  {:.2} KiB", (with_streams as f64 - base as f64) / n);
    drop(opened);
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Lifecycle { concurrency, duration, warmup, tool } => {
            lifecycle(cli.url, concurrency.max(1), duration.max(1), warmup, tool).await
        }
        Command::IdleStreams { streams, pid, parallel, hold, connections_only } => {
            idle_streams(cli.url, streams, pid, parallel.max(1), hold, connections_only).await
        }
        Command::Calls { concurrency, duration, warmup, requests, stateless, tool } => {
            calls(cli.url, concurrency.max(1), duration.max(1), warmup, requests, stateless, tool).await
        }
        Command::Open { count, parallel, initialized } => open(cli.url, count, parallel.max(1), initialized).await,
    }
}
