//! The `replay-bridge` command line. Every failure ends in one line on stderr and a non-zero exit;
//! a reader that closes stdout early (`inspect FILE | head -1`) ends it quietly, with exit 0.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{ArgGroup, Parser, Subcommand};
use replay_bridge::cat::{self, CatOptions, OutputFormat, SideFormat};
use replay_bridge::kafka::{KafkaConfig, SaslMechanism};
use replay_bridge::live::LivePoint;
use replay_bridge::pace::Pace;
use replay_bridge::registry::SchemaRegistry;
use replay_bridge::schemas::SchemaSource;
use replay_bridge::source::Source;
use replay_bridge::{Error, Result, inspect, record, server, tls};
use streamglass_core::seek::SeekSpec;

#[derive(Parser)]
#[command(
    name = "replay-bridge",
    version,
    about = "Kafka or a recording → WebSocket, for Streamglass"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write a recording of synthetic crypto trades.
    Generate {
        /// The recording to write.
        #[arg(long)]
        out: PathBuf,
        /// How many trades (with --future-secs: of history).
        #[arg(long)]
        count: u64,
        /// Then the trades of this many seconds of record time: a recording to serve with
        /// `--live-from end-<SECS>s`, whose "now" falls at or just after the --count trades.
        #[arg(long, value_name = "SECS", default_value_t = 0)]
        future_secs: u64,
        #[arg(long, default_value_t = 3)]
        partitions: i32,
        /// The same seed gives the same file.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Capture a topic, from a seek spec to each partition's current end, into a recording. Ctrl-C
    /// stops it early and keeps what was recorded, in a file whose header says so.
    Record {
        #[command(flatten)]
        kafka: KafkaArgs,
        /// The recording to write.
        #[arg(long)]
        out: PathBuf,
        /// Where to start, in kcat syntax: beginning, end, N, -N (newest N in total),
        /// each:-N (per partition), s@<epoch ms>, {0: N, 2: -M}.
        #[arg(
            long,
            env = "STREAMGLASS_SEEK",
            default_value = "beginning",
            allow_hyphen_values = true
        )]
        seek: SeekSpec,
    },
    /// Print a recording's partitions, offsets, record count, time span and schemas.
    Inspect {
        file: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Decode a topic or a recording with the core and print one JSON object per record (like
    /// `kcat -J -s value=avro -e`): metadata, key and value columns; errors as {"error": ...}.
    #[command(group(ArgGroup::new("source").required(true).args(["recording", "broker"])))]
    #[command(group(ArgGroup::new("schemas").args(["schema_registry", "schema_dir"])))]
    Cat {
        /// Decode this recording (its header carries the schemas).
        #[arg(long, conflicts_with_all = ["topic", "follow"])]
        recording: Option<PathBuf>,
        /// Decode a topic of this Kafka broker (HOST:PORT).
        #[arg(long, env = "STREAMGLASS_BROKER", requires = "topic", value_parser = broker_list)]
        broker: Option<String>,
        #[arg(long, env = "STREAMGLASS_TOPIC", requires = "broker")]
        topic: Option<String>,
        /// A Confluent schema registry, http://HOST:PORT.
        #[arg(long)]
        schema_registry: Option<String>,
        /// Schemas as <id>.avsc files.
        #[arg(long, env = "STREAMGLASS_SCHEMA_DIR")]
        schema_dir: Option<PathBuf>,
        /// The value's reader schema: this subject's latest version (default: <topic>-value).
        #[arg(long)]
        subject: Option<String>,
        /// How keys are decoded.
        #[arg(long, value_enum, default_value = "ignore")]
        key: SideFormat,
        /// How values are decoded.
        #[arg(long, value_enum, default_value = "avro")]
        value: SideFormat,
        /// The columns of JSON values, Name=type,… with Deephaven's type names (double, long,
        /// int, String, Instant, boolean, …; a__b reads b inside a). Without it: the registry's
        /// JSON Schema of the first framed value, else inferred from the first records.
        #[arg(long)]
        json_spec: Option<String>,
        /// The columns of JSON keys, as --json-spec.
        #[arg(long)]
        json_key_spec: Option<String>,
        /// Records looked at to infer JSON columns (held, then printed, once they are known).
        #[arg(long, default_value_t = 1_000)]
        json_infer: usize,
        /// How rows are printed: JSON lines, or CSV with a header row (records that do not decode
        /// are then reported on stderr).
        #[arg(long, value_enum, default_value = "jsonl")]
        format: OutputFormat,
        /// Where each partition starts: beginning, end, an offset, -N (the newest N in total),
        /// each:-N (the newest N of every partition, kcat's -o -N), s@<epoch ms>, {0: 42, 1: -5}.
        #[arg(
            short = 'o',
            long = "offset",
            default_value = "beginning",
            allow_hyphen_values = true
        )]
        offset: SeekSpec,
        /// Stop after this many records.
        #[arg(short = 'c', long)]
        count: Option<u64>,
        /// Keep tailing the topic after reaching the end offsets seen at start.
        #[arg(long)]
        follow: bool,
        #[command(flatten)]
        security: SecurityArgs,
        /// Seconds any broker or registry call may take.
        #[arg(long, default_value_t = 10)]
        timeout_secs: u64,
    },
    /// Serve the page and stream a recording, a topic, or both (the page picks one) over the
    /// WebSocket /ws.
    #[command(group(ArgGroup::new("source").required(true).multiple(true).args(["recording", "broker"])))]
    Serve {
        /// Replay this recording (source `recording`; the default when --broker is given too).
        #[arg(long, env = "STREAMGLASS_RECORDING")]
        recording: Option<PathBuf>,
        /// Stream from this Kafka broker (HOST:PORT; several, comma-separated): every topic it
        /// lists but internal ones (`__*`, `_schemas`), unless --topic says which.
        #[arg(long, env = "STREAMGLASS_BROKER", value_parser = broker_list)]
        broker: Option<String>,
        /// The topics clients may subscribe to (with --broker): names, or glob patterns such as
        /// 'trades.*'; repeat or comma-separate for more. The first name is the default.
        #[arg(
            long,
            env = "STREAMGLASS_TOPIC",
            requires = "broker",
            value_delimiter = ','
        )]
        topic: Vec<String>,
        /// Value schemas as <id>.avsc files (with --broker).
        #[arg(
            long,
            env = "STREAMGLASS_SCHEMA_DIR",
            requires = "broker",
            conflicts_with = "schema_registry"
        )]
        schema_dir: Option<PathBuf>,
        /// Value schemas from a Confluent-compatible schema registry (with --broker).
        #[arg(long, env = "STREAMGLASS_SCHEMA_REGISTRY", requires = "broker")]
        schema_registry: Option<String>,
        #[command(flatten)]
        security: SecurityArgs,
        /// Replay pace of a recording: max, original (record timestamps) or xK (K times faster).
        #[arg(
            long,
            env = "STREAMGLASS_PACE",
            default_value = "max",
            requires = "recording"
        )]
        pace: Pace,
        /// Replay the recording as a live feed whose "now" is POINT: the records up to it are
        /// history, sent at once; the rest are released by the server's clock, as if produced now.
        /// POINT: a record time (RFC 3339, or epoch ms), a share of the records (90%), end-N (all but
        /// the last N records), or end-30m (the last 30 minutes of record time; ms, s, m, h).
        #[arg(
            long,
            env = "STREAMGLASS_LIVE_FROM",
            value_name = "POINT",
            requires = "recording",
            conflicts_with = "pace"
        )]
        live_from: Option<LivePoint>,
        /// With --live-from: how many times faster than recorded the live edge moves.
        #[arg(
            long,
            env = "STREAMGLASS_SPEED",
            value_name = "K",
            default_value_t = 1.0,
            requires = "live_from"
        )]
        speed: f64,
        /// Pages of this Origin may use /ws, /sources and /topics (repeat for more; '*': any page, which
        /// lets every site the user visits read the stream). Default: the page's own origin only.
        #[arg(long, env = "STREAMGLASS_ALLOW_ORIGIN", value_delimiter = ',')]
        allow_origin: Vec<String>,
        /// Connections at once; past it, new ones are refused (WebSocket close 1013, HTTP 503).
        #[arg(long, env = "STREAMGLASS_MAX_CONNECTIONS", default_value_t = server::Limits::default().max_connections)]
        max_connections: usize,
        /// Close a WebSocket whose socket takes no data for this many seconds while data waits.
        #[arg(long, env = "STREAMGLASS_STALL_SECS", default_value_t = server::Limits::default().stall_timeout.as_secs())]
        stall_secs: u64,
        /// Close a WebSocket that holds no subscription and sends nothing for this many seconds.
        #[arg(long, env = "STREAMGLASS_IDLE_SECS", default_value_t = server::Limits::default().idle_timeout.as_secs())]
        idle_secs: u64,
        /// Bytes fetched or encoded but not yet written to a socket, across all clients.
        #[arg(long, env = "STREAMGLASS_BUFFER_BYTES", default_value_t = server::DEFAULT_BUDGET)]
        buffer_bytes: u64,
        /// Seconds any broker or registry call may take.
        #[arg(long, env = "STREAMGLASS_TIMEOUT_SECS", default_value_t = 10)]
        timeout_secs: u64,
        /// Address to listen on.
        #[arg(long, env = "STREAMGLASS_LISTEN", default_value = "127.0.0.1:8080")]
        listen: String,
        /// Serve the page from this folder (a `cargo xtask site` build) instead of the one built
        /// into the binary: for working on the page.
        #[arg(long, env = "STREAMGLASS_WWW")]
        www: Option<PathBuf>,
        /// Open the page in the default browser once serving.
        #[arg(long)]
        open: bool,
    },
}

#[derive(clap::Args)]
struct KafkaArgs {
    /// Kafka broker, HOST:PORT (several, comma-separated).
    #[arg(long, env = "STREAMGLASS_BROKER", value_parser = broker_list)]
    broker: String,
    #[arg(long, env = "STREAMGLASS_TOPIC")]
    topic: String,
    /// Value schemas as <id>.avsc files, stored in the recording's header.
    #[arg(
        long,
        env = "STREAMGLASS_SCHEMA_DIR",
        conflicts_with = "schema_registry"
    )]
    schema_dir: Option<PathBuf>,
    /// Value schemas from a Confluent-compatible schema registry, stored in the header.
    #[arg(long, env = "STREAMGLASS_SCHEMA_REGISTRY")]
    schema_registry: Option<String>,
    /// Seconds any broker call may take.
    #[arg(long, env = "STREAMGLASS_TIMEOUT_SECS", default_value_t = 10)]
    timeout_secs: u64,
    #[command(flatten)]
    security: SecurityArgs,
}

/// TLS and SASL, passed through to rskafka (and TLS to an https schema registry).
#[derive(clap::Args)]
struct SecurityArgs {
    /// Connect to the brokers over TLS.
    #[arg(long, env = "STREAMGLASS_TLS")]
    tls: bool,
    /// Also trust the CA certificates of this PEM file (implies --tls).
    #[arg(long, env = "STREAMGLASS_TLS_CA")]
    tls_ca: Option<PathBuf>,
    /// SASL mechanism: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512.
    #[arg(long, env = "STREAMGLASS_SASL_MECHANISM", requires = "sasl_username")]
    sasl_mechanism: Option<SaslMechanism>,
    #[arg(long, env = "STREAMGLASS_SASL_USERNAME", requires = "sasl_password")]
    sasl_username: Option<String>,
    #[arg(long, env = "STREAMGLASS_SASL_PASSWORD", hide_env_values = true)]
    sasl_password: Option<String>,
}

impl SecurityArgs {
    fn tls_config(&self) -> Result<Option<Arc<rustls::ClientConfig>>> {
        if self.tls || self.tls_ca.is_some() {
            tls::client_config(self.tls_ca.as_deref()).map(Some)
        } else {
            Ok(None)
        }
    }

    fn kafka(&self, broker: &str, timeout_secs: u64) -> Result<KafkaConfig> {
        let mut config = KafkaConfig::new(broker, Duration::from_secs(timeout_secs.max(1)));
        config.tls = self.tls_config()?;
        if let (Some(user), Some(password)) = (&self.sasl_username, &self.sasl_password) {
            let mechanism = self.sasl_mechanism.unwrap_or(SaslMechanism::Plain);
            config.sasl = Some(mechanism.config(user.clone(), password.clone()));
        }
        Ok(config)
    }

    fn schemas(
        &self,
        dir: Option<PathBuf>,
        registry: Option<String>,
        timeout_secs: u64,
    ) -> Result<SchemaSource> {
        Ok(match (dir, registry) {
            (Some(dir), _) => SchemaSource::Dir(dir),
            (None, Some(url)) => SchemaSource::Registry(SchemaRegistry::new(
                &url,
                self.tls_config()?,
                Duration::from_secs(timeout_secs.max(1)),
            )?),
            (None, None) => SchemaSource::None,
        })
    }
}

/// `--broker`: a comma-separated list naming at least one HOST:PORT.
fn broker_list(text: &str) -> std::result::Result<String, String> {
    let brokers: Vec<&str> = text
        .split(',')
        .map(str::trim)
        .filter(|b| !b.is_empty())
        .collect();
    if brokers.is_empty() {
        return Err("no broker given: use HOST:PORT (several, comma-separated)".into());
    }
    for broker in brokers {
        let port = broker
            .rsplit_once(':')
            .map(|(host, port)| (host, port.parse::<u16>()));
        if !matches!(port, Some((host, Ok(_))) if !host.is_empty()) {
            return Err(format!("{broker:?} is not HOST:PORT"));
        }
    }
    Ok(text.to_owned())
}

/// Writes to stdout without the panic of `println!` on a closed pipe: that comes back as
/// `Error::Io(BrokenPipe)`, which [`main`] ends quietly with exit 0.
fn print(text: std::fmt::Arguments) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_fmt(text)?;
    out.flush()?;
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,rskafka=error")),
        )
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        // `inspect ... | head`: the reader has had enough.
        Err(Error::Io(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> Result<()> {
    match command {
        Command::Generate {
            out,
            count,
            future_secs,
            partitions,
            seed,
        } => {
            let started = std::time::Instant::now();
            let written = tokio::task::spawn_blocking(move || {
                record::generate_live(&out, count, future_secs, partitions, seed).map(|w| (w, out))
            })
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))??;
            print(format_args!(
                "wrote {} trades over {} partitions to {} in {:.1} s\n",
                written.0.records,
                written.0.partitions.len(),
                written.1.display(),
                started.elapsed().as_secs_f64()
            ))?;
            if future_secs > 0 {
                print(format_args!(
                    "{count} trades of history, then {} over {future_secs} s: serve it with --live-from end-{future_secs}s\n",
                    written.0.records - count
                ))?;
            }
            Ok(())
        }
        Command::Record { kafka, out, seek } => {
            let config = kafka.security.kafka(&kafka.broker, kafka.timeout_secs)?;
            let source = kafka.security.schemas(
                kafka.schema_dir,
                kafka.schema_registry,
                kafka.timeout_secs,
            )?;
            if let SchemaSource::None = source {
                tracing::warn!(
                    "no --schema-dir or --schema-registry: the recording will carry no value schemas"
                );
            }
            let schemas = source.for_topic(&kafka.topic).await?;
            let written = record::record(
                &config,
                &kafka.topic,
                &seek,
                &out,
                schemas,
                record::progress_bar(),
                interrupted(),
            )
            .await?;
            match &written.stopped_early {
                None => print(format_args!(
                    "recorded {} records to {}\n",
                    written.records,
                    out.display()
                )),
                Some(reason) => {
                    tracing::warn!(%reason, "recording stopped early");
                    print(format_args!(
                        "stopped early ({reason}): recorded {} records to {}, its header says so\n",
                        written.records,
                        out.display()
                    ))
                }
            }
        }
        Command::Inspect { file, json } => {
            let summary = tokio::task::spawn_blocking(move || inspect::summarize(&file))
                .await
                .map_err(|e| std::io::Error::other(e.to_string()))??;
            if json {
                let text = serde_json::to_string_pretty(&summary)
                    .map_err(|e| Error::InvalidArgument(e.to_string()))?;
                print(format_args!("{text}\n"))
            } else {
                print(format_args!("{}", inspect::render(&summary)))
            }
        }
        Command::Cat {
            recording,
            broker,
            topic,
            schema_registry,
            schema_dir,
            subject,
            key,
            value,
            json_spec,
            json_key_spec,
            json_infer,
            format,
            offset,
            count,
            follow,
            security,
            timeout_secs,
        } => {
            let options = CatOptions {
                json_spec,
                json_key_spec,
                json_infer,
                key,
                value,
                subject,
                schemas: security.schemas(schema_dir, schema_registry, timeout_secs)?,
                follow,
                start: offset,
                count,
                timeout: Duration::from_secs(timeout_secs.max(1)),
                output: format,
            };
            let out = std::io::BufWriter::new(std::io::stdout().lock());
            let summary = match (recording, broker, topic) {
                (Some(path), _, _) => cat::cat_recording(&path, &options, out).await?,
                (None, Some(broker), Some(topic)) => {
                    let config = security.kafka(&broker, timeout_secs)?;
                    cat::cat_kafka(&config, &topic, &options, out).await?
                }
                _ => {
                    return Err(Error::InvalidArgument(
                        "give --recording FILE, or --broker HOST:PORT with --topic NAME".into(),
                    ));
                }
            };
            tracing::info!(rows = summary.rows, errors = summary.errors, "cat done");
            Ok(())
        }
        Command::Serve {
            recording,
            broker,
            topic,
            schema_dir,
            schema_registry,
            security,
            pace,
            live_from,
            speed,
            allow_origin,
            max_connections,
            stall_secs,
            idle_secs,
            buffer_bytes,
            timeout_secs,
            listen,
            www,
            open,
        } => {
            if let Some(www) = &www {
                check_www(www)?;
            }
            let mut sources = Vec::new();
            if let Some(path) = recording {
                let started = std::time::Instant::now();
                let source = match live_from {
                    Some(point) => {
                        let source = tokio::task::spawn_blocking(move || {
                            Source::recording_live(&path, point, speed)
                        })
                        .await
                        .map_err(|e| std::io::Error::other(e.to_string()))??;
                        if let Source::Recording(r) = &source
                            && let Some(clock) = &r.live
                        {
                            tracing::info!(
                                history = clock.history(),
                                future = clock.future(),
                                "{}",
                                clock.describe()
                            );
                        }
                        source
                    }
                    None => tokio::task::spawn_blocking(move || Source::recording_at(&path, pace))
                        .await
                        .map_err(|e| std::io::Error::other(e.to_string()))??,
                };
                tracing::info!(elapsed = ?started.elapsed(), "recording checked and indexed");
                if let Source::Recording(r) = &source
                    && let Some(reason) = r.stopped_early()
                {
                    tracing::warn!(%reason, "the recording was stopped early: each partition ends at its last record");
                }
                sources.push(server::Offered::named(Arc::new(source)));
            }
            if let Some(broker) = broker {
                let config = security.kafka(&broker, timeout_secs)?;
                let schemas = security.schemas(schema_dir, schema_registry, timeout_secs)?;
                let source = Source::kafka(&config, &topic, schemas).await?;
                sources.push(server::Offered::named(Arc::new(source)));
            }
            let description = sources
                .iter()
                .map(|o| o.source.describe())
                .collect::<Vec<_>>()
                .join(" and ");
            let options = server::ServeOptions {
                allow_origins: allow_origin,
                budget_bytes: buffer_bytes,
                limits: server::Limits {
                    max_connections: server::within_file_limit(max_connections.max(1)),
                    stall_timeout: std::time::Duration::from_secs(stall_secs.max(1)),
                    idle_timeout: std::time::Duration::from_secs(idle_secs.max(1)),
                    ..server::Limits::default()
                },
            };
            let no_page = www.is_none() && !replay_bridge::embedded::has_page();
            let app = server::router_offering(sources, www, options)?;
            let listener = server::bind(&listen).await?;
            let addr = server::local_addr(&listener)?;
            tracing::info!(source = %description, "serving");
            let url = format!("http://{addr}/");
            // Serving goes on with stdout closed.
            let _ = print(format_args!(
                "Streamglass is serving {description} at {url}\n"
            ));
            if no_page {
                tracing::warn!("this build holds no page: pass --www DIR to serve one");
            }
            if open {
                // A browser reaches an unspecified address (0.0.0.0, ::) on loopback. The opener
                // may wait for its helper (wslview): off the runtime's threads.
                let mut local = addr;
                if local.ip().is_unspecified() {
                    local.set_ip(match local {
                        std::net::SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
                        std::net::SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
                    });
                }
                let url = format!("http://{local}/");
                tokio::task::spawn_blocking(move || {
                    if let Err(e) = opener::open_browser(&url) {
                        tracing::warn!(error = %e, %url, "cannot open a browser: open the URL yourself");
                    }
                });
            }
            server::serve(listener, app).await
        }
    }
}

/// Completes on Ctrl-C (SIGINT) or SIGTERM (`timeout`, systemd) with the reason, for `record` to
/// stop early; never, for a signal that cannot be listened for.
async fn interrupted() -> String {
    let int = async {
        match tokio::signal::ctrl_c().await {
            Ok(()) => "interrupted (SIGINT)".to_owned(),
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for Ctrl-C: it will end `record` with no file");
                std::future::pending().await
            }
        }
    };
    let term = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
                "terminated (SIGTERM)".to_owned()
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM: it will end `record` with no file");
                std::future::pending().await
            }
        }
    };
    tokio::select! {
        reason = int => reason,
        reason = term => reason,
    }
}

/// `--www`: an existing directory.
fn check_www(www: &Path) -> Result<()> {
    if !www.exists() {
        Err(Error::MissingWww(www.to_owned()))
    } else if !www.is_dir() {
        Err(Error::WwwNotADirectory(www.to_owned()))
    } else {
        Ok(())
    }
}
