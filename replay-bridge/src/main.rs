//! The `replay-bridge` command line. Every failure ends in one line on stderr and a non-zero exit.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{ArgGroup, Parser, Subcommand};
use replay_bridge::cat::{self, CatOptions, SchemaSource, SideFormat, StartAt};
use replay_bridge::source::Source;
use replay_bridge::{Error, Result, inspect, record, schemas, server};

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
        /// How many trades.
        #[arg(long)]
        count: u64,
        #[arg(long, default_value_t = 3)]
        partitions: i32,
        /// The same seed gives the same file.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Capture a topic, from each partition's start to its current end, into a recording.
    Record {
        #[command(flatten)]
        kafka: KafkaArgs,
        /// The recording to write.
        #[arg(long)]
        out: PathBuf,
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
        #[arg(long, env = "STREAMGLASS_BROKER", requires = "topic")]
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
        /// Keep tailing the topic after reaching the end offsets seen at start.
        #[arg(long)]
        follow: bool,
        /// Seconds any broker or registry call may take.
        #[arg(long, default_value_t = 10)]
        timeout_secs: u64,
    },
    /// Serve the page and stream a recording or a topic over the WebSocket /ws.
    #[command(group(ArgGroup::new("source").required(true).args(["recording", "broker"])))]
    Serve {
        /// Replay this recording.
        #[arg(long, env = "STREAMGLASS_RECORDING", conflicts_with_all = ["topic", "schema_dir"])]
        recording: Option<PathBuf>,
        /// Stream from this Kafka broker (HOST:PORT).
        #[arg(long, env = "STREAMGLASS_BROKER", requires = "topic")]
        broker: Option<String>,
        /// The topic to stream (with --broker).
        #[arg(long, env = "STREAMGLASS_TOPIC", requires = "broker")]
        topic: Option<String>,
        /// Value schemas as <id>.avsc files (with --broker).
        #[arg(long, env = "STREAMGLASS_SCHEMA_DIR", requires = "broker")]
        schema_dir: Option<PathBuf>,
        /// Seconds any broker call may take.
        #[arg(long, default_value_t = 10)]
        timeout_secs: u64,
        /// Address to listen on.
        #[arg(long, env = "STREAMGLASS_LISTEN", default_value = "127.0.0.1:8080")]
        listen: String,
        /// The built page to serve at /.
        #[arg(long, env = "STREAMGLASS_WWW")]
        www: Option<PathBuf>,
    },
}

#[derive(clap::Args)]
struct KafkaArgs {
    /// Kafka broker, HOST:PORT.
    #[arg(long, env = "STREAMGLASS_BROKER")]
    broker: String,
    #[arg(long, env = "STREAMGLASS_TOPIC")]
    topic: String,
    /// Value schemas as <id>.avsc files, stored in the recording's header.
    #[arg(long, env = "STREAMGLASS_SCHEMA_DIR")]
    schema_dir: Option<PathBuf>,
    /// Seconds any broker call may take.
    #[arg(long, default_value_t = 10)]
    timeout_secs: u64,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
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
        // `cat ... | head`: the reader has had enough.
        Err(Error::Io(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> Result<()> {
    match command {
        Command::Generate {
            out,
            count,
            partitions,
            seed,
        } => {
            let started = std::time::Instant::now();
            let written = tokio::task::spawn_blocking(move || {
                record::generate(&out, count, partitions, seed).map(|w| (w, out))
            })
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))??;
            println!(
                "wrote {} trades over {} partitions to {} in {:.1} s",
                written.0.records,
                written.0.partitions.len(),
                written.1.display(),
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Record { kafka, out } => {
            let schemas = match &kafka.schema_dir {
                Some(dir) => schemas::load_schema_dir(dir, &kafka.topic)?,
                None => {
                    tracing::warn!("no --schema-dir: the recording will carry no value schemas");
                    Vec::new()
                }
            };
            let written = record::record(
                &kafka.broker,
                &kafka.topic,
                &out,
                schemas,
                Duration::from_secs(kafka.timeout_secs.max(1)),
                |done, total| tracing::info!("recorded {done} of {total} records"),
            )
            .await?;
            println!("recorded {} records to {}", written.records, out.display());
            Ok(())
        }
        Command::Inspect { file, json } => {
            let summary = tokio::task::spawn_blocking(move || inspect::summarize(&file))
                .await
                .map_err(|e| std::io::Error::other(e.to_string()))??;
            if json {
                let text = serde_json::to_string_pretty(&summary)
                    .map_err(|e| Error::InvalidArgument(e.to_string()))?;
                println!("{text}");
            } else {
                print!("{}", inspect::render(&summary));
            }
            Ok(())
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
            follow,
            timeout_secs,
        } => {
            let options = CatOptions {
                key,
                value,
                subject,
                schemas: match (schema_registry, schema_dir) {
                    (Some(url), _) => SchemaSource::Registry(url),
                    (None, Some(dir)) => SchemaSource::Dir(dir),
                    (None, None) => SchemaSource::Recorded,
                },
                follow,
                start: StartAt::Beginning,
                timeout: Duration::from_secs(timeout_secs.max(1)),
            };
            let out = std::io::BufWriter::new(std::io::stdout().lock());
            let summary = match (recording, broker, topic) {
                (Some(path), _, _) => cat::cat_recording(&path, &options, out).await?,
                (None, Some(broker), Some(topic)) => {
                    cat::cat_kafka(&broker, &topic, &options, out).await?
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
            timeout_secs,
            listen,
            www,
        } => {
            let source = match (recording, broker, topic) {
                (Some(path), _, _) => Source::recording(&path)?,
                (None, Some(broker), Some(topic)) => {
                    let timeout = Duration::from_secs(timeout_secs.max(1));
                    Source::kafka(&broker, &topic, timeout, schema_dir.as_deref()).await?
                }
                _ => {
                    return Err(Error::InvalidArgument(
                        "give --recording FILE, or --broker HOST:PORT with --topic NAME".into(),
                    ));
                }
            };
            let description = source.describe();
            let app = server::router(Arc::new(source), www)?;
            let listener = server::bind(&listen).await?;
            let addr = server::local_addr(&listener)?;
            tracing::info!(source = %description, "serving");
            println!("Streamglass is serving {description} at http://{addr}/");
            server::serve(listener, app).await
        }
    }
}
