//! `bench-echo`: the floor of this stack for the `bench/run` load test.
//!
//! A bare axum server with one route, `POST /mcp`: it parses the request body
//! into a `serde_json::Value` (so the cost of JSON parsing is paid, as in any
//! real MCP server) and answers a fixed, realistic `tools/call` result that
//! echoes the request's JSON-RPC `id`. Nothing else: no header checks, no
//! session handling, no tool dispatch. hubmcp's throughput and latency are
//! compared against this in `bench/run`.
//!
//! Usage: `bench-echo [--host 127.0.0.1] [--port 8080]`
//!
//! For drop-in use where a `hubmcp` binary is expected (e.g. checking the
//! mechanics of `bench/run` or `tests/conformance/run.sh` before the real
//! server exists), a leading `serve` word and a `--toolset NAME` option are
//! accepted and ignored.

use std::net::SocketAddr;

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::post,
    Json, Router,
};
use serde_json::{json, Value};

const TEXT: &str = "This is a simple text response for testing.";

async fn mcp(body: axum::body::Bytes) -> Response {
    let request: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            let err = json!({
                "jsonrpc": "2.0",
                "id": null,
                "error": { "code": -32700, "message": format!("Parse error: {e}") }
            });
            return (StatusCode::BAD_REQUEST, Json(err)).into_response();
        }
    };
    let id = request.get("id").cloned().unwrap_or(Value::Null);
    Json(json!({
        "jsonrpc": "2.0",
        "id": id,
        "result": {
            "content": [ { "type": "text", "text": TEXT } ],
            "resultType": "complete"
        }
    }))
    .into_response()
}

struct Args {
    host: String,
    port: u16,
}

fn usage() -> ! {
    eprintln!("usage: bench-echo [serve] [--host HOST] [--port PORT] [--toolset IGNORED]");
    std::process::exit(2);
}

fn parse_args() -> Args {
    let mut args = Args { host: "127.0.0.1".into(), port: 8080 };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let (key, inline) = match a.split_once('=') {
            Some((k, v)) if k.starts_with("--") => (k.to_string(), Some(v.to_string())),
            _ => (a.clone(), None),
        };
        let value =
            |it: &mut dyn Iterator<Item = String>| inline.clone().or_else(|| it.next()).unwrap_or_else(|| usage());
        match key.as_str() {
            "serve" => {}
            "--host" => args.host = value(&mut it),
            "--port" => args.port = value(&mut it).parse().unwrap_or_else(|_| usage()),
            "--toolset" => {
                let _ = value(&mut it);
            }
            "-h" | "--help" => {
                eprintln!("bench-echo: bare axum JSON echo server (POST /mcp) used as the bench baseline");
                usage()
            }
            _ => {
                eprintln!("bench-echo: unknown argument {a:?}");
                usage()
            }
        }
    }
    args
}

fn main() -> std::io::Result<()> {
    let args = parse_args();
    // Multi-threaded runtime; the worker count follows the CPUs this process may
    // run on (std's available_parallelism honours `taskset`), as it would for hubmcp.
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async move {
        let addr: SocketAddr = format!("{}:{}", args.host, args.port)
            .parse()
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        let listener = tokio::net::TcpListener::bind(addr).await?;
        eprintln!("bench-echo listening on http://{}/mcp", listener.local_addr()?);
        let app = Router::new().route("/mcp", post(mcp));
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
    })
}
