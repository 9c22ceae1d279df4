//! `hub-standin --port N --host 127.0.0.1`: run the Hub stand-in until interrupted.
//!
//! The first line on stdout is `listening on http://HOST:PORT`.

use std::io::Write;
use std::net::IpAddr;
use std::time::Duration;

use clap::Parser;
use hub_standin::{FaultRule, StandInConfig};

#[derive(Debug, Parser)]
#[command(name = "hub-standin", about = "Local stand-in for the Hugging Face Hub HTTP API")]
struct Args {
    /// Port to listen on (0 = ephemeral).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// Path prefix of the datasets-server API.
    #[arg(long, default_value = "/datasets-server")]
    datasets_server_prefix: String,
    /// Latency added to every request, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Fault rules as JSON (repeatable), e.g.
    /// '{"path_prefix":"/api/models","times":2,"action":{"kind":"status","status":429,"retry_after":"1"}}'.
    #[arg(long = "fault")]
    faults: Vec<String>,
    /// Largest page of the `Link`-paginated list endpoints (models, datasets, spaces,
    /// collections, trees), whatever `limit` asks for.
    #[arg(long)]
    max_page_size: Option<usize>,
    /// Also serve the Gradio Spaces stand-in (`*.hf.space` hosts) on this port; point
    /// hubmcp at it with HUBMCP_SPACE_SCHEME=http HUBMCP_SPACE_PORT=<port>
    /// HUBMCP_SPACE_RESOLVE=127.0.0.1 HUBMCP_SPACE_ALLOW_ADDRESSES=loopback.
    #[arg(long)]
    spaces_port: Option<u16>,
    /// Describe one more Space (repeatable): `owner/name=subdomain[,private]`, a running
    /// Gradio MCP Space at `{subdomain}.hf.space` (e.g. a real Gradio app under test).
    #[arg(long = "space")]
    spaces: Vec<String>,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let mut faults = Vec::new();
    for f in &args.faults {
        match serde_json::from_str::<FaultRule>(f) {
            Ok(rule) => faults.push(rule),
            Err(e) => {
                eprintln!("hub-standin: invalid --fault {f:?}: {e}");
                std::process::exit(2);
            }
        }
    }
    let mut extra_spaces = Vec::new();
    for s in &args.spaces {
        match hub_standin::extra_spaces::ExtraSpace::parse(s) {
            Ok(space) => extra_spaces.push(space),
            Err(e) => {
                eprintln!("hub-standin: invalid --space: {e}");
                std::process::exit(2);
            }
        }
    }
    let config = StandInConfig {
        extra_spaces,
        host: args.host,
        port: args.port,
        datasets_server_prefix: args.datasets_server_prefix,
        latency: Duration::from_millis(args.latency_ms),
        faults,
        max_page_size: args.max_page_size,
        ..StandInConfig::default()
    };
    let standin = match hub_standin::try_spawn(config).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("hub-standin: cannot listen on {}:{}: {e}", args.host, args.port);
            std::process::exit(1);
        }
    };
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "listening on {}", standin.base_url);
        let _ = writeln!(out, "datasets-server at {}", standin.datasets_server_url);
        let _ = out.flush();
    }
    let _spaces = match args.spaces_port {
        Some(port) => {
            let config = hub_standin::spaces::SpacesConfig { host: args.host, port, ..Default::default() };
            let spaces = hub_standin::spaces::spawn_spaces(config).await;
            let mut out = std::io::stdout().lock();
            let _ =
                writeln!(out, "spaces at http://{{subdomain}}.hf.space:{} (resolve to {})", spaces.port(), args.host);
            let _ = out.flush();
            Some(spaces)
        }
        None => None,
    };
    let _ = tokio::signal::ctrl_c().await;
    standin.shutdown().await;
}
