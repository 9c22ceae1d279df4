//! `hubmcp`: wires configuration into the engine and a toolset, then runs a transport.

mod access;
mod cluster;
mod compat;
mod panic_log;
mod telemetry;
mod web;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand, ValueEnum};
use mcp_engine::protocol::Caller;
use mcp_engine::provider::Provider;
use mcp_engine::session::SessionConfig;
use mcp_engine::transport::http::HttpConfig;
use mcp_engine::{Engine, EngineConfig, Sealer, ServerInfo};
use mcp_telemetry::Telemetry;

#[derive(Parser)]
#[command(name = "hubmcp", version, about = "MCP server for the Hugging Face Hub")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once at start; boxing would only obscure clap's derive
enum Command {
    /// Serve Streamable HTTP (both protocol eras on one endpoint).
    Serve(ServeArgs),
    /// Speak newline-delimited JSON-RPC on stdin/stdout.
    Stdio(CommonArgs),
    /// The client-behaviour dataset.
    Clients {
        #[command(subcommand)]
        command: telemetry::ClientsCommand,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Toolset {
    /// The Hugging Face Hub tools: hf_fs, hub_repo_search, hub_repo_details, hf_whoami.
    Hub,
    /// The tools, resources and prompts the official MCP conformance suite expects.
    Conformance,
}

#[derive(Args)]
struct CommonArgs {
    /// What to serve.
    #[arg(long, env = "HUBMCP_TOOLSET", value_enum, default_value = "hub")]
    toolset: Toolset,
    /// Secret that seals multi-round request state; set the same value on every instance
    /// behind one load balancer. Random per process when unset.
    #[arg(long, env = "HUBMCP_STATE_KEY", hide_env_values = true)]
    state_key: Option<String>,
    /// Items per page of tools/list, prompts/list and resources/list.
    #[arg(long, env = "HUBMCP_PAGE_SIZE", default_value_t = 100)]
    page_size: usize,
    /// Log filter (tracing syntax), e.g. `info` or `hubmcp=debug`. Default: `LOG_LEVEL`
    /// (hf-mcp-server's name), else `info`.
    #[arg(long, env = "HUBMCP_LOG")]
    log: Option<String>,
    #[arg(long = "log-level", env = "LOG_LEVEL", hide = true)]
    log_level: Option<String>,
    #[command(flatten)]
    hub: HubArgs,
    #[command(flatten)]
    tasks: TaskArgs,
    #[command(flatten)]
    telemetry: telemetry::TelemetryArgs,
}

/// The tasks extension (io.modelcontextprotocol/tasks): long tool calls answered with a
/// task the client polls. Task records live in this process, or on Redis with --redis-url
/// (any instance answers tasks/get; the handler runs where the task was created and dies
/// with that process: such tasks are reported failed once its lease lapses).
#[derive(Args)]
struct TaskArgs {
    /// Do not serve the tasks extension.
    #[arg(long, env = "HUBMCP_DISABLE_TASKS")]
    disable_tasks: bool,
    /// Cap on stored tasks (running, or finished and still readable).
    #[arg(long, env = "HUBMCP_MAX_TASKS", default_value_t = 10_000)]
    max_tasks: usize,
    /// Largest result a task keeps, in bytes (a larger one fails the task).
    #[arg(long, env = "HUBMCP_TASK_MAX_RESULT_BYTES", default_value_t = 4 * 1024 * 1024)]
    task_max_result_bytes: usize,
    /// Seconds a tool call may run as a task before it is stopped and the task failed.
    #[arg(long, env = "HUBMCP_TASK_MAX_RUNTIME_SECONDS", default_value_t = 3600)]
    task_max_runtime_seconds: u64,
    /// Seconds a finished task stays readable by tasks/get.
    #[arg(long, env = "HUBMCP_TASK_RETENTION_SECONDS", default_value_t = 3600)]
    task_retention_seconds: u64,
}

impl TaskArgs {
    fn config(&self) -> mcp_engine::TaskConfig {
        mcp_engine::TaskConfig {
            max_tasks: self.max_tasks.max(1),
            max_result_bytes: self.task_max_result_bytes.max(1024),
            max_runtime: Duration::from_secs(self.task_max_runtime_seconds.max(1)),
            retention: Duration::from_secs(self.task_retention_seconds.max(1)),
            ..mcp_engine::TaskConfig::default()
        }
    }
}

/// Where the `hub` toolset finds the Hugging Face Hub.
#[derive(Args)]
struct HubArgs {
    /// Hub base URL: a private Hub deployment, a mirror, or a local stand-in.
    #[arg(long, env = "HF_ENDPOINT", default_value = "https://huggingface.co")]
    hf_endpoint: String,
    /// datasets-server (Dataset Viewer API) base URL.
    #[arg(long, env = "HF_DATASETS_SERVER_ENDPOINT", default_value = "https://datasets-server.huggingface.co")]
    datasets_server: String,
    /// Milliseconds to wait for one Hub request (the unit of hf-mcp-server's HF_API_TIMEOUT).
    #[arg(long, env = "HF_API_TIMEOUT", default_value_t = 12_500, value_parser = compat::parse_api_timeout_ms)]
    hf_api_timeout_ms: u64,
    /// Seconds to wait for one Hub request; when given, overrides --hf-api-timeout-ms.
    #[arg(long, env = "HUBMCP_HF_API_TIMEOUT_SECONDS")]
    hf_api_timeout: Option<f64>,
    /// Consecutive failures (timeouts, connection errors, 5xx) of one upstream host (the
    /// Hub, the datasets-server, a Space) that open its circuit breaker; 0 = no breaker.
    #[arg(long, env = "HUBMCP_UPSTREAM_FAILURE_THRESHOLD", default_value_t = 5)]
    upstream_failure_threshold: u32,
    /// Seconds an open circuit fails calls at once before letting one probe through.
    #[arg(long, env = "HUBMCP_UPSTREAM_OPEN_SECONDS", default_value_t = 30)]
    upstream_open_seconds: u64,
    /// Skills to serve as `skill://` resources (the MCP skills extension): a directory of
    /// folders, each with a `SKILL.md` and its files. Loaded at start.
    #[arg(long, env = "HF_SKILLS_DIR")]
    skills_dir: Option<std::path::PathBuf>,
    /// Tools of other MCP servers to serve (the `proxy` bouquet/mix): a CSV file or
    /// `https://` URL of `proxy_id,url,response_type` rows. Loaded at start.
    #[arg(long, env = "PROXY_TOOLS_CSV")]
    proxy_tools_csv: Option<String>,
    /// Token the proxied servers' tool lists are fetched with (calls use the caller's).
    #[arg(long, env = "PROXY_TOKEN", hide_env_values = true)]
    proxy_token: Option<String>,
    #[command(flatten)]
    spaces: access::SpaceArgs,
    /// Ask the user (elicitation, when the client can be asked) before a tool deletes or
    /// overwrites something on the Hub: hf_fs_write rm, put over an existing file on main,
    /// hf_jobs cancel, deleting a schedule.
    #[arg(long, env = "HUBMCP_CONFIRM_DESTRUCTIVE", value_enum, default_value = "on")]
    confirm_destructive: telemetry::OnOff,
    /// Seconds hf_jobs follows a job's logs in `run` and `logs` (relayed while they arrive).
    #[arg(long, env = "HUBMCP_JOBS_LOG_WAIT_SECONDS", default_value_t = 10)]
    jobs_log_wait_seconds: u64,
    /// Most log lines one hf_jobs `logs` result carries.
    #[arg(long, env = "HUBMCP_JOBS_MAX_LOG_LINES", default_value_t = 500)]
    jobs_max_log_lines: usize,
}

impl HubArgs {
    fn provider(
        &self,
        hook: hubmcp_hub::client::UpstreamHook,
        bus: Arc<dyn mcp_engine::NotificationBus>,
        telemetry: mcp_telemetry::Telemetry,
        shared_limits: Option<Arc<dyn mcp_engine::limits::SharedLimits>>,
    ) -> anyhow::Result<hubmcp_hub::HubProvider> {
        let timeout = match self.hf_api_timeout {
            Some(seconds) => {
                anyhow::ensure!(
                    seconds.is_finite() && seconds > 0.0,
                    "--hf-api-timeout must be a positive number of seconds"
                );
                Duration::from_secs_f64(seconds)
            }
            None => Duration::from_millis(self.hf_api_timeout_ms),
        };
        let config = hubmcp_hub::HubClientConfig::default()
            .with_endpoint(&self.hf_endpoint)
            .context("invalid HF_ENDPOINT")?
            .with_datasets_server(&self.datasets_server)
            .context("invalid HF_DATASETS_SERVER_ENDPOINT")?
            .with_timeout(timeout)
            .with_hook(hook)
            .with_breaker(hubmcp_hub::client::BreakerConfig {
                failure_threshold: self.upstream_failure_threshold,
                open_for: Duration::from_secs(self.upstream_open_seconds.max(1)),
                ..Default::default()
            });
        let options = hubmcp_hub::HubOptions {
            selection: self.spaces.selection()?,
            gradio: hubmcp_hub::gradio::GradioConfig { shared_limits, ..self.spaces.gradio()? },
            bus: Some(bus),
            telemetry: Some(telemetry),
            confirm_destructive: self.confirm_destructive == telemetry::OnOff::On,
            jobs: hubmcp_hub::tools::hf_jobs::JobsConfig {
                log_wait: Duration::from_secs(self.jobs_log_wait_seconds.clamp(1, 600)),
                max_tail: self.jobs_max_log_lines.max(1),
                ..Default::default()
            },
            skills: self.skills()?,
        };
        Ok(hubmcp_hub::HubProvider::with_options(hubmcp_hub::HubClient::new(config)?, options))
    }
}

impl HubArgs {
    fn skills(&self) -> anyhow::Result<Option<Arc<hubmcp_hub::skills::Skills>>> {
        let Some(dir) = &self.skills_dir else { return Ok(None) };
        let skills = hubmcp_hub::skills::load(dir, Default::default()).map_err(anyhow::Error::msg)?;
        tracing::info!(skills = skills.skills.len(), files = skills.files.len(), "skills loaded");
        Ok(Some(Arc::new(skills)))
    }
}

/// The stdio caller: hf-mcp-server's `DEFAULT_HF_TOKEN`, else `HF_TOKEN` (its order) from
/// the environment, identified by a hash of it.
fn stdio_caller() -> Caller {
    use sha2::Digest as _;
    let token = |name: &str| std::env::var(name).ok().map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
    match token("DEFAULT_HF_TOKEN").or_else(|| token("HF_TOKEN")) {
        None => Caller::anonymous(),
        Some(t) => {
            let digest = sha2::Sha256::digest(t.as_bytes());
            let id: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
            Caller { id: Some(id.into()), bearer: Some(t.into()) }
        }
    }
}

#[derive(Args)]
struct ServeArgs {
    #[command(flatten)]
    common: CommonArgs,
    #[arg(long, env = "HUBMCP_HOST", default_value = "127.0.0.1")]
    host: String,
    /// Port to listen on (default: `WEB_APP_PORT`, hf-mcp-server's name, else 3000).
    #[arg(long, env = "HUBMCP_PORT")]
    port: Option<u16>,
    #[arg(long = "web-app-port", env = "WEB_APP_PORT", hide = true)]
    web_app_port: Option<u16>,
    /// Path of the MCP endpoint.
    #[arg(long, env = "HUBMCP_PATH", default_value = "/mcp")]
    path: String,
    /// Largest accepted request body in bytes.
    #[arg(long, env = "HUBMCP_MAX_BODY_BYTES", default_value_t = 4 * 1024 * 1024)]
    max_body_bytes: usize,
    /// Seconds to let in-flight requests finish after SIGTERM/SIGINT.
    #[arg(long, env = "HUBMCP_DRAIN_SECONDS", default_value_t = 10)]
    drain_seconds: u64,
    /// Seconds a connection may take to send a request head (the first, or the next on an
    /// idle keep-alive connection) before it is closed; stops slowloris clients holding
    /// descriptors. Keep a proxy's upstream keep-alive timeout below it. 0 = no limit.
    #[arg(long, env = "HUBMCP_HEADER_READ_TIMEOUT_SECONDS", default_value_t = 60)]
    header_read_timeout_seconds: u64,
    /// Largest request head (request line and headers) in bytes; a larger one gets 431 and
    /// the connection is closed (minimum 8192).
    #[arg(long, env = "HUBMCP_MAX_REQUEST_HEAD_BYTES", default_value_t = mcp_engine::server::ServeOptions::MAX_HEAD_BYTES)]
    max_request_head_bytes: usize,
    #[command(flatten)]
    sessions: SessionArgs,
    #[command(flatten)]
    access: access::AccessArgs,
    #[command(flatten)]
    redis: cluster::RedisArgs,
    #[command(flatten)]
    web: web::WebArgs,
}

/// The session era (protocol revisions 2024-11-05 to 2025-11-25).
#[derive(Args)]
struct SessionArgs {
    /// Seconds after which an unused session ends.
    #[arg(long, env = "HUBMCP_SESSION_IDLE_SECONDS", default_value_t = 1800)]
    session_idle_seconds: u64,
    /// Cap on live sessions; `initialize` beyond it is answered 503.
    #[arg(long, env = "HUBMCP_MAX_SESSIONS", default_value_t = 10_000)]
    max_sessions: usize,
    /// Seconds between keep-alive comments on long-lived SSE streams.
    #[arg(long, env = "HUBMCP_KEEP_ALIVE_SECONDS", default_value_t = 15)]
    keep_alive_seconds: u64,
    /// Seconds between server pings on server-push streams (0: no pings).
    #[arg(long, env = "HUBMCP_PING_SECONDS", default_value_t = 0)]
    ping_seconds: u64,
    /// Unanswered pings in a row that mark a session unresponsive and close its stream.
    #[arg(long, env = "HUBMCP_PING_FAILURES", default_value_t = 3)]
    ping_failures: u32,
    /// Seconds a server-initiated request (sampling, elicitation, roots) waits for the client.
    #[arg(long, env = "HUBMCP_CLIENT_REQUEST_TIMEOUT_SECONDS", default_value_t = 120)]
    client_request_timeout_seconds: u64,
    /// Do not serve the deprecated HTTP+SSE transport (GET /sse, POST /message).
    #[arg(long, env = "HUBMCP_DISABLE_HTTP_SSE")]
    disable_http_sse: bool,
}

impl SessionArgs {
    fn config(&self) -> SessionConfig {
        let defaults = SessionConfig::default();
        SessionConfig {
            idle_timeout: Duration::from_secs(self.session_idle_seconds.max(1)),
            max_sessions: self.max_sessions.max(1),
            client_request_timeout: Duration::from_secs(self.client_request_timeout_seconds.max(1)),
            ping_interval: (self.ping_seconds > 0).then(|| Duration::from_secs(self.ping_seconds)),
            ping_failures: self.ping_failures.max(1),
            sse_paths: if self.disable_http_sse { None } else { defaults.sse_paths.clone() },
            ..defaults
        }
    }
}

fn init_logging(common: &CommonArgs, redis_url: Option<&str>) {
    let filter = common.log.clone().or_else(|| common.log_level.as_deref().map(compat::log_level));
    telemetry::init_logging(filter.as_deref().unwrap_or("info"), common.telemetry.log_format);
    // Panics are logged scrubbed of this process's secrets.
    let redis_password = redis_url.and_then(|u| url::Url::parse(u).ok()?.password().map(str::to_owned));
    let from_env = ["HF_TOKEN", "DEFAULT_HF_TOKEN", "PROXY_TOKEN"].map(|v| std::env::var(v).ok());
    let secrets = [common.state_key.clone(), common.telemetry.metrics_password.clone()];
    panic_log::install(from_env.into_iter().chain(secrets).chain([redis_password]).flatten().collect());
}

/// The engine, the Hub client of the hub toolset (for token validation), and the
/// telemetry observing both.
async fn build_engine(
    common: &CommonArgs,
    shared: Option<&cluster::Shared>,
) -> anyhow::Result<(Engine, Option<hubmcp_hub::HubClient>, Telemetry)> {
    let telemetry = common.telemetry.build();
    // One bus for the engine and the toolset (per-caller list changes): this process's, or
    // the cluster's.
    let bus = shared.map_or_else(|| Arc::new(mcp_engine::InMemoryBus::default()) as _, |s| s.bus.clone());
    let shared_limits = shared.map(|s| s.limits.clone());
    let (provider, hub): (Arc<dyn Provider>, _) = match common.toolset {
        Toolset::Hub => {
            let mut p =
                common.hub.provider(telemetry::hub_hook(&telemetry), bus.clone(), telemetry.clone(), shared_limits)?;
            if let Some(csv) = common.hub.proxy_tools_csv.as_deref().filter(|c| !c.trim().is_empty()) {
                p.load_proxy_tools(csv.trim(), common.hub.proxy_token.as_deref()).await;
            }
            let client = p.client().clone();
            (Arc::new(p), Some(client))
        }
        Toolset::Conformance => (Arc::new(toolset_conformance::provider()), None),
    };
    let info = ServerInfo {
        name: "hubmcp".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        title: Some("Hugging Face Hub MCP server".into()),
        instructions: None,
    };
    let config = EngineConfig { page_size: common.page_size.max(1), ..EngineConfig::default() };
    let sealer = match &common.state_key {
        Some(key) => Sealer::new(key.as_bytes(), config.request_state_ttl),
        None => Sealer::random(config.request_state_ttl),
    };
    let observer = Arc::new(telemetry.clone());
    let mut builder = Engine::builder(provider, info).config(config).sealer(sealer).observer(observer).bus(bus);
    if !common.tasks.disable_tasks {
        let tasks = common.tasks.config();
        // With a cluster, task records live on Redis so any instance answers tasks/get;
        // the handler itself runs on the instance that created the task.
        let store: Arc<dyn mcp_engine::store::task::TaskStore> = match shared {
            Some(s) => Arc::new(mcp_redis::RedisTaskStore::new(s.client.clone(), tasks.max_tasks)),
            None => Arc::new(mcp_engine::store::MemoryTaskStore::new(tasks.max_tasks)),
        };
        builder = builder.tasks(store, tasks);
    }
    let engine = builder.build();
    Ok((engine, hub, telemetry))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => {
            init_logging(&args.common, args.redis.redis_url.as_deref());
            let sessions = args.sessions.config();
            let shared = args.redis.connect(&sessions).await?;
            let (engine, hub, telemetry) = build_engine(&args.common, shared.as_ref()).await?;
            let saver = args.common.telemetry.spawn_saver(&telemetry);
            let hub_toolset = matches!(args.common.toolset, Toolset::Hub);
            let auth = args.access.auth(hub.as_ref(), &telemetry);
            let public_url = auth.resource.as_ref().and_then(|r| r.public_url.clone());
            let config = HttpConfig {
                path: args.path.clone(),
                max_body_bytes: args.max_body_bytes,
                guard: args.web.guard(hub_toolset),
                card: args.web.card(public_url.as_deref())?,
                welcome: args.web.welcome(hub_toolset),
                keep_alive: Duration::from_secs(args.sessions.keep_alive_seconds.max(1)),
                sessions: sessions.clone(),
                auth,
                limits: args.access.limits(matches!(args.common.toolset, Toolset::Hub)),
                // The operator's surfaces (metrics, JSON API, dashboard) sit behind the same
                // Host/Origin guard as the endpoint.
                extra_routes: Some(mcp_telemetry::http::routes_with_cluster(
                    telemetry.clone(),
                    &args.path,
                    shared.as_ref().map(|s| cluster::view(s.client.clone())),
                )),
                shared_limits: shared.as_ref().map(|s| s.limits.clone()),
            };
            let addr = format!("{}:{}", args.host, args.port.or(args.web_app_port).unwrap_or(3000));
            let listener = tokio::net::TcpListener::bind(&addr).await.with_context(|| format!("binding {addr}"))?;
            let local = listener.local_addr()?;
            tracing::info!("hubmcp listening on http://{local}{}", args.path);
            let figures = shared
                .as_ref()
                .map(|s| cluster::spawn_figures(s.client.clone(), telemetry.clone(), engine.shutdown_token().clone()));
            let app = match &shared {
                Some(s) => mcp_engine::transport::http::router_with_stores(
                    engine.clone(),
                    config,
                    s.store.clone(),
                    s.log.clone(),
                ),
                None => mcp_engine::transport::http::router(engine.clone(), config),
            };
            let app = if args.web.hsts() { compat::with_hsts(app) } else { app };
            mcp_engine::server::serve_router(
                app,
                engine,
                listener,
                mcp_engine::server::shutdown_signal(),
                mcp_engine::server::ServeOptions {
                    drain_timeout: Duration::from_secs(args.drain_seconds),
                    header_read_timeout: (args.header_read_timeout_seconds > 0)
                        .then(|| Duration::from_secs(args.header_read_timeout_seconds)),
                    max_head_bytes: args.max_request_head_bytes,
                },
            )
            .await?;
            if let Some(s) = saver {
                s.abort();
            }
            if let Some(f) = figures {
                f.abort();
            }
            args.common.telemetry.save_now(&telemetry);
            telemetry.flush_log();
            tracing::info!("hubmcp stopped");
        }
        Command::Stdio(common) => {
            init_logging(&common, None);
            let (engine, hub, telemetry) = build_engine(&common, None).await?;
            let saver = common.telemetry.spawn_saver(&telemetry);
            let caller = stdio_caller();
            // As the hosted server over stdio: learn who HF_TOKEN belongs to, so the
            // instructions name the user.
            if let (Some(hub), Some(id), Some(token)) = (&hub, &caller.id, &caller.bearer) {
                let whoami = hub.get_json(Some(token), hubmcp_hub::client::Service::Hub, "/api/whoami-v2", &[]).await;
                if let Some(name) = whoami.ok().as_ref().and_then(|b| b.get("name")).and_then(|n| n.as_str()) {
                    hub.remember_name(id.clone(), name);
                }
            }
            mcp_engine::transport::stdio::serve(engine, tokio::io::stdin(), tokio::io::stdout(), caller).await?;
            if let Some(s) = saver {
                s.abort();
            }
            common.telemetry.save_now(&telemetry);
            telemetry.flush_log();
        }
        Command::Clients { command } => telemetry::run_clients(command).await?,
    }
    Ok(())
}
