//! The binary's side of telemetry: flags, log format, the client dataset's file and its
//! export (`hubmcp clients export`), and the Parquet writer.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Subcommand, ValueEnum};
use mcp_telemetry::{jsonl, ClientRecord, RequestLogConfig, Telemetry, TelemetryConfig};

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnOff {
    On,
    Off,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line (`mcp::request` events carry method, era, transport,
    /// client, duration, outcome and a salted user hash).
    Json,
}

/// Metrics, the dashboard, the client dataset and logs.
#[derive(Args, Clone)]
pub struct TelemetryArgs {
    /// Record metrics and serve /metrics, the JSON API and the dashboard.
    #[arg(long, env = "HUBMCP_METRICS", value_enum, default_value = "on")]
    pub metrics: OnOff,
    /// Password for the dashboard, the JSON API and /metrics (HTTP Basic, any user name).
    #[arg(long, env = "METRICS_PAGE_PASSWORD", hide_env_values = true)]
    pub metrics_password: Option<String>,
    /// Log format.
    #[arg(long, env = "HUBMCP_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// Request log lines waiting to be written; when the output falls behind, further
    /// lines are dropped (and counted: mcp_log_lines_dropped_total) rather than slow
    /// requests down.
    #[arg(long, env = "HUBMCP_LOG_QUEUE", default_value_t = mcp_telemetry::LOG_QUEUE_DEFAULT)]
    pub log_queue: usize,
    /// Salt of the user hash in request logs (random per process when unset; set it to
    /// correlate one user's requests across restarts and instances).
    #[arg(long, env = "HUBMCP_LOG_SALT", hide_env_values = true)]
    pub log_salt: Option<String>,
    /// File the client-behaviour dataset is kept in (JSON lines): loaded at start, written
    /// every --clients-save-seconds and at exit; `hubmcp clients export` reads it.
    #[arg(long, env = "HUBMCP_CLIENTS_FILE")]
    pub clients_file: Option<PathBuf>,
    /// Seconds between saves of --clients-file.
    #[arg(long, env = "HUBMCP_CLIENTS_SAVE_SECONDS", default_value_t = 60)]
    pub clients_save_seconds: u64,
}

impl TelemetryArgs {
    pub fn build(&self) -> Telemetry {
        let config = TelemetryConfig {
            enabled: self.metrics == OnOff::On,
            log_salt: self.log_salt.as_ref().map(|s| s.as_bytes().to_vec()),
            password: self.metrics_password.clone().filter(|p| !p.is_empty()),
            parquet: Some(Arc::new(|records: &[ClientRecord]| write_parquet(records).map_err(|e| e.to_string()))),
            // The `mcp::request` line, formatted and written by a background thread.
            request_log: Some(RequestLogConfig {
                queue: self.log_queue.max(1),
                ..RequestLogConfig::stderr(match self.log_format {
                    LogFormat::Text => mcp_telemetry::LogFormat::Text,
                    LogFormat::Json => mcp_telemetry::LogFormat::Json,
                })
            }),
            ..TelemetryConfig::default()
        };
        let telemetry = Telemetry::new(config);
        if let (true, Some(path)) = (telemetry.enabled(), &self.clients_file) {
            match telemetry.load_clients(path) {
                Ok(0) => {}
                Ok(n) => tracing::info!("client dataset: {n} implementations loaded from {}", path.display()),
                Err(e) => tracing::warn!("client dataset: cannot read {}: {e}", path.display()),
            }
        }
        telemetry
    }

    /// Save the dataset periodically (until the returned task is aborted).
    pub fn spawn_saver(&self, telemetry: &Telemetry) -> Option<tokio::task::JoinHandle<()>> {
        let path = self.clients_file.clone().filter(|_| telemetry.enabled())?;
        let every = Duration::from_secs(self.clients_save_seconds.max(1));
        let telemetry = telemetry.clone();
        Some(tokio::spawn(async move {
            let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
            loop {
                tick.tick().await;
                save(&telemetry, &path);
            }
        }))
    }

    /// The final save at exit.
    pub fn save_now(&self, telemetry: &Telemetry) {
        if let (true, Some(path)) = (telemetry.enabled(), &self.clients_file) {
            save(telemetry, path);
        }
    }
}

fn save(telemetry: &Telemetry, path: &Path) {
    if let Err(e) = telemetry.save_clients(path) {
        tracing::warn!("client dataset: cannot write {}: {e}", path.display());
    }
}

/// Upstream calls and circuit-breaker events of the Hub client → upstream metrics.
pub fn hub_hook(telemetry: &Telemetry) -> hubmcp_hub::client::UpstreamHook {
    use hubmcp_hub::client::BreakerEvent;
    if !telemetry.enabled() {
        return hubmcp_hub::client::UpstreamHook::default();
    }
    let (t, c) = (telemetry.clone(), telemetry.clone());
    hubmcp_hub::client::UpstreamHook::new(move |e| t.upstream(e.service, e.outcome, e.elapsed)).with_circuits(
        move |e| match *e {
            BreakerEvent::Moved { service, from, to } => c.circuit(service, from.as_str(), to.as_str()),
            BreakerEvent::FastFail { service } => c.circuit_fast_fail(service),
        },
    )
}

pub fn init_logging(filter: &str, format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter).unwrap_or_else(|_| "info".into());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(false).with_span_list(false).init(),
        LogFormat::Text => builder.with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())).init(),
    }
}

// ----- hubmcp clients export ------------------------------------------------------------

#[derive(Subcommand)]
pub enum ClientsCommand {
    /// Write the client-behaviour dataset (one row per client implementation).
    Export(ExportArgs),
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Jsonl,
    Parquet,
}

#[derive(Args)]
pub struct ExportArgs {
    #[arg(long, value_enum, default_value = "jsonl")]
    format: ExportFormat,
    /// Read the dataset file a server keeps (--clients-file of `hubmcp serve`).
    #[arg(long, env = "HUBMCP_CLIENTS_FILE", conflicts_with = "url")]
    file: Option<PathBuf>,
    /// Or fetch it from a running server, e.g. http://127.0.0.1:3000.
    #[arg(long)]
    url: Option<String>,
    /// The server's metrics password, with --url.
    #[arg(long, env = "METRICS_PAGE_PASSWORD", hide_env_values = true)]
    password: Option<String>,
    /// Where to write (default: standard output).
    #[arg(long, short)]
    output: Option<PathBuf>,
}

pub async fn run_clients(command: ClientsCommand) -> anyhow::Result<()> {
    let ClientsCommand::Export(args) = command;
    let records = match (&args.file, &args.url) {
        (Some(path), _) => read_file(path)?,
        (None, Some(url)) => fetch(url, args.password.as_deref()).await?,
        (None, None) => anyhow::bail!("give --file (or HUBMCP_CLIENTS_FILE) or --url of a running server"),
    };
    let bytes = match args.format {
        ExportFormat::Jsonl => jsonl(&records).into_bytes(),
        ExportFormat::Parquet => write_parquet(&records)?,
    };
    match &args.output {
        Some(path) => std::fs::write(path, &bytes).with_context(|| format!("writing {}", path.display()))?,
        None => {
            anyhow::ensure!(
                args.format == ExportFormat::Jsonl || !std::io::IsTerminal::is_terminal(&std::io::stdout()),
                "Parquet is binary: give --output or redirect standard output"
            );
            std::io::stdout().write_all(&bytes)?;
        }
    }
    eprintln!("{} client implementation(s) exported", records.len());
    Ok(())
}

fn parse_jsonl(text: &str) -> anyhow::Result<Vec<ClientRecord>> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| serde_json::from_str(l).with_context(|| format!("line {} is not a client record", i + 1)))
        .collect()
}

fn read_file(path: &Path) -> anyhow::Result<Vec<ClientRecord>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    parse_jsonl(&text)
}

async fn fetch(url: &str, password: Option<&str>) -> anyhow::Result<Vec<ClientRecord>> {
    let url = format!("{}/api/clients/export?format=jsonl", url.trim_end_matches('/'));
    let mut req = reqwest::Client::new().get(&url).timeout(Duration::from_secs(30));
    if let Some(p) = password {
        req = req.basic_auth("metrics", Some(p));
    }
    let resp = req.send().await.with_context(|| format!("fetching {url}"))?;
    anyhow::ensure!(resp.status().is_success(), "{url} answered {}", resp.status());
    parse_jsonl(&resp.text().await?)
}

// ----- Parquet ---------------------------------------------------------------------------

const SCHEMA: &str = "
message mcp_client {
  required binary client (STRING);
  required binary name (STRING);
  required binary version (STRING);
  required group protocol_versions (LIST) { repeated group list { required binary element (STRING); } }
  required group eras (LIST) { repeated group list { required binary element (STRING); } }
  required group capabilities (LIST) { repeated group list { required binary element (STRING); } }
  required group transports (LIST) { repeated group list { required binary element (STRING); } }
  optional int64 first_seen (TIMESTAMP(MILLIS,true));
  optional int64 last_seen (TIMESTAMP(MILLIS,true));
  required int64 requests;
  required int64 errors;
  required int64 sessions;
  required boolean opens_get_streams;
  required boolean sends_delete;
  optional boolean reuses_sessions;
  optional boolean abandons_sessions;
  optional boolean relists_after_list_changed;
  required boolean resumes_with_last_event_id;
  required boolean uses_server_discover;
  required boolean listens_for_changes;
  optional boolean answers_input_requests;
}
";

/// The dataset as one Parquet file (one row group, uncompressed, lists as LIST columns).
pub fn write_parquet(records: &[ClientRecord]) -> anyhow::Result<Vec<u8>> {
    use parquet::data_type::{BoolType, ByteArray, ByteArrayType, Int64Type};
    use parquet::file::properties::WriterProperties;
    use parquet::file::writer::SerializedFileWriter;

    let schema = Arc::new(parquet::schema::parser::parse_message_type(SCHEMA)?);
    let props =
        Arc::new(WriterProperties::builder().set_created_by(format!("hubmcp {}", env!("CARGO_PKG_VERSION"))).build());
    let mut out = Vec::new();
    let mut writer = SerializedFileWriter::new(&mut out, schema, props)?;
    let mut group = writer.next_row_group()?;
    let strings = |f: fn(&ClientRecord) -> &str| -> Vec<ByteArray> { records.iter().map(|r| f(r).into()).collect() };
    let ints = |f: fn(&ClientRecord) -> u64| -> Vec<i64> { records.iter().map(|r| f(r) as i64).collect() };
    let bools = |f: fn(&ClientRecord) -> bool| -> Vec<bool> { records.iter().map(f).collect() };
    let mut column = 0;
    while let Some(mut col) = group.next_column()? {
        match column {
            0..=2 => {
                let f: fn(&ClientRecord) -> &str = match column {
                    0 => |r| &r.client,
                    1 => |r| &r.name,
                    _ => |r| &r.version,
                };
                let v = strings(f);
                col.typed::<ByteArrayType>().write_batch(&v, None, None)?;
            }
            3..=6 => {
                let pick: fn(&ClientRecord) -> &Vec<String> = match column {
                    3 => |r| &r.protocol_versions,
                    4 => |r| &r.eras,
                    5 => |r| &r.capabilities,
                    _ => |r| &r.transports,
                };
                let (mut values, mut def, mut rep) = (Vec::new(), Vec::new(), Vec::new());
                for r in records {
                    let list = pick(r);
                    if list.is_empty() {
                        def.push(0);
                        rep.push(0);
                    }
                    for (i, s) in list.iter().enumerate() {
                        values.push(ByteArray::from(s.as_str()));
                        def.push(1);
                        rep.push(i16::from(i > 0));
                    }
                }
                col.typed::<ByteArrayType>().write_batch(&values, Some(&def), Some(&rep))?;
            }
            7 | 8 => {
                let ms: Vec<Option<u64>> = records
                    .iter()
                    .map(|r| mcp_telemetry::parse_rfc3339(if column == 7 { &r.first_seen } else { &r.last_seen }))
                    .collect();
                let values: Vec<i64> = ms.iter().flatten().map(|m| *m as i64).collect();
                let def: Vec<i16> = ms.iter().map(|m| i16::from(m.is_some())).collect();
                col.typed::<Int64Type>().write_batch(&values, Some(&def), None)?;
            }
            9..=11 => {
                let f: fn(&ClientRecord) -> u64 = match column {
                    9 => |r| r.requests,
                    10 => |r| r.errors,
                    _ => |r| r.sessions,
                };
                let v = ints(f);
                col.typed::<Int64Type>().write_batch(&v, None, None)?;
            }
            12 | 13 | 17..=19 => {
                let f: fn(&ClientRecord) -> bool = match column {
                    12 => |r| r.opens_get_streams,
                    13 => |r| r.sends_delete,
                    17 => |r| r.resumes_with_last_event_id,
                    18 => |r| r.uses_server_discover,
                    _ => |r| r.listens_for_changes,
                };
                col.typed::<BoolType>().write_batch(&bools(f), None, None)?;
            }
            14..=16 | 20 => {
                let f: fn(&ClientRecord) -> Option<bool> = match column {
                    14 => |r| r.reuses_sessions,
                    15 => |r| r.abandons_sessions,
                    16 => |r| r.relists_after_list_changed,
                    _ => |r| r.answers_input_requests,
                };
                let opt: Vec<Option<bool>> = records.iter().map(f).collect();
                let values: Vec<bool> = opt.iter().flatten().copied().collect();
                let def: Vec<i16> = opt.iter().map(|b| i16::from(b.is_some())).collect();
                col.typed::<BoolType>().write_batch(&values, Some(&def), None)?;
            }
            _ => anyhow::bail!("unexpected column {column}"),
        }
        col.close()?;
        column += 1;
    }
    group.close()?;
    writer.close()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use parquet::file::reader::{FileReader, SerializedFileReader};

    fn record(name: &str, relists: Option<bool>) -> ClientRecord {
        ClientRecord {
            client: format!("{name}@1.0"),
            name: name.into(),
            version: "1.0".into(),
            protocol_versions: vec!["2025-06-18".into(), "2025-11-25".into()],
            eras: vec!["session".into()],
            capabilities: vec![],
            transports: vec!["streamable_http".into()],
            first_seen: "2026-01-02T03:04:05.678Z".into(),
            last_seen: String::new(),
            requests: 12,
            errors: 1,
            sessions: 2,
            opens_get_streams: true,
            sends_delete: false,
            reuses_sessions: Some(true),
            abandons_sessions: None,
            relists_after_list_changed: relists,
            resumes_with_last_event_id: false,
            uses_server_discover: false,
            listens_for_changes: false,
            answers_input_requests: None,
        }
    }

    #[test]
    fn parquet_round_trips() {
        let records = vec![record("alpha", Some(false)), record("beta", None)];
        let bytes = write_parquet(&records).unwrap();
        assert_eq!(&bytes[..4], b"PAR1");
        let reader = SerializedFileReader::new(bytes::Bytes::from(bytes)).unwrap();
        assert_eq!(reader.metadata().file_metadata().num_rows(), 2);
        use parquet::record::Field;
        let rows: Vec<std::collections::HashMap<String, Field>> = reader
            .get_row_iter(None)
            .unwrap()
            .map(|r| r.unwrap().get_column_iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .collect();
        assert_eq!(rows[0]["client"], Field::Str("alpha@1.0".into()));
        let Field::ListInternal(versions) = &rows[0]["protocol_versions"] else { panic!("a list") };
        assert_eq!(versions.elements(), &[Field::Str("2025-06-18".into()), Field::Str("2025-11-25".into())]);
        let Field::ListInternal(caps) = &rows[0]["capabilities"] else { panic!("a list") };
        assert!(caps.elements().is_empty());
        assert_eq!(rows[0]["requests"], Field::Long(12));
        assert_eq!(rows[0]["relists_after_list_changed"], Field::Bool(false));
        assert_eq!(rows[1]["relists_after_list_changed"], Field::Null);
        assert_eq!(rows[1]["last_seen"], Field::Null);
        assert_eq!(rows[1]["first_seen"], Field::TimestampMillis(1_767_323_045_678));
        assert_eq!(write_parquet(&[]).map(|b| b.len() > 8).ok(), Some(true));
    }

    #[test]
    fn jsonl_parses_back() {
        let records = vec![record("alpha", None)];
        assert_eq!(parse_jsonl(&jsonl(&records)).unwrap(), records);
    }
}
