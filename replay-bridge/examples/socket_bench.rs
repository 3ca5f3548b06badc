//! Throughput of the bridge to a WebSocket client on loopback.
//!
//! `cargo run --release -p replay-bridge --example socket_bench -- recording [COUNT]`: a generated
//! recording of COUNT trades (default 2M) replayed to one client, from the first byte of the
//! subscription to `End`.
//!
//! `cargo run --release -p replay-bridge --example socket_bench -- broker [COUNT]`: COUNT trades
//! (default 1M) on a 3-partition Tansu topic; first raw rskafka fetches of every partition (4 MiB
//! each, the bridge's fetch size), then the bridge to a client until every partition caught up.
//! Both figures come from the same run, against the same broker.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use replay_bridge::kafka::{KafkaConfig, KafkaTopic};
use replay_bridge::schemas::SchemaSource;
use replay_bridge::source::Source;
use replay_bridge::{record, server};
use streamglass_core::protocol::{self, ClientMessage, Compression, ServerMessage, Subscribe};
use tokio_tungstenite::tungstenite::Message;

const WINDOW: u64 = 32 << 20;

async fn start(source: Source) -> String {
    let app = server::router(Arc::new(source), None).expect("router");
    let listener = server::bind("127.0.0.1:0").await.expect("bind");
    let addr = server::local_addr(&listener).expect("addr");
    tokio::spawn(server::serve(listener, app));
    format!("ws://{addr}/ws")
}

/// Subscribes from the beginning and counts records until `End` or every partition caught up.
/// Returns the records, the bytes that crossed the socket, and the time.
async fn consume(url: &str, compression: Compression) -> (u64, u64, Duration) {
    let (mut socket, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("connect");
    let subscribe = ClientMessage::Subscribe(Subscribe {
        subscription: 0,
        topic: None,
        seek: "beginning".parse().expect("seek"),
        resume: None,
        credit: WINDOW,
        compression,
    });
    let started = Instant::now();
    let frame = protocol::encode_client(&subscribe).expect("encode");
    socket
        .send(Message::Binary(frame.into()))
        .await
        .expect("send");
    let (mut records, mut bytes, mut pending, mut partitions, mut caught) =
        (0u64, 0u64, 0u64, 0, 0);
    let mut inflated = Vec::new();
    while let Some(Ok(message)) = socket.next().await {
        let Message::Binary(wire) = message else {
            continue;
        };
        bytes += wire.len() as u64;
        let frame = match protocol::decode(&wire).expect("decode") {
            ServerMessage::Compressed {
                subscription,
                frame,
            } => {
                protocol::inflate(subscription, frame, usize::MAX, &mut inflated).expect("inflate");
                &inflated[..]
            }
            _ => &wire[..],
        };
        match protocol::decode(frame).expect("decode") {
            ServerMessage::Records(batch) => {
                records += batch.records.len() as u64;
                pending += frame.len() as u64;
                if pending >= 1 << 20 {
                    let grant = ClientMessage::Credit {
                        subscription: 0,
                        bytes: pending,
                    };
                    let frame = protocol::encode_client(&grant).expect("encode");
                    socket
                        .send(Message::Binary(frame.into()))
                        .await
                        .expect("send");
                    pending = 0;
                }
            }
            ServerMessage::Hello(h) => {
                partitions = h
                    .partitions
                    .iter()
                    .filter(|p| p.start_offset < p.high_watermark)
                    .count()
            }
            ServerMessage::CaughtUp { .. } => {
                caught += 1;
                if caught == partitions {
                    break;
                }
            }
            ServerMessage::End { .. } | ServerMessage::Exhausted { .. } => break,
            ServerMessage::Error { message, .. } => panic!("{message}"),
            ServerMessage::Compressed { .. } => panic!("a compressed frame inside another"),
        }
    }
    (records, bytes, started.elapsed())
}

fn rate(records: u64, elapsed: Duration) -> f64 {
    records as f64 / elapsed.as_secs_f64() / 1e6
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mode = args.get(1).map(String::as_str).unwrap_or("recording");
    let count: Option<u64> = args.get(2).and_then(|c| c.parse().ok());
    match mode {
        "recording" => {
            let count = count.unwrap_or(2_000_000);
            let dir = tempfile::tempdir().expect("tempdir");
            let path = dir.path().join("bench.sgrec");
            record::generate(&path, count, 3, 1).expect("generate");
            let url = start(Source::recording(&path).expect("open")).await;
            for (run, compression) in [Compression::None, Compression::Snappy]
                .into_iter()
                .flat_map(|c| (1..=3).map(move |run| (run, c)))
            {
                let (records, bytes, elapsed) = consume(&url, compression).await;
                assert_eq!(records, count);
                println!(
                    "recording → socket ({compression:?}), run {run}: {records} records, {:.1} MB in {:.3} s: {:.2}M records/s, {:.0} MB/s",
                    bytes as f64 / 1e6,
                    elapsed.as_secs_f64(),
                    rate(records, elapsed),
                    bytes as f64 / 1e6 / elapsed.as_secs_f64()
                );
            }
        }
        "broker" => {
            let count = count.unwrap_or(1_000_000) as usize;
            let env = streamglass_tests::python::env().expect("python env");
            let tansu = streamglass_tests::tansu::Tansu::start(&env.tansu().expect("tansu"))
                .expect("start tansu");
            let topic = "bench";
            tansu.create_topic(topic, 3).expect("topic");
            let mut generator =
                replay_bridge::trades::TradeGenerator::new(1, 1).expect("generator");
            let values = (0..count)
                .map(|_| {
                    let r = generator.next_record().expect("trade");
                    (r.timestamp_ms, r.value.unwrap_or_default())
                })
                .collect();
            streamglass_tests::producers::produce_with_rskafka(
                &tansu.addr,
                topic,
                3,
                values,
                5_000,
            )
            .await
            .expect("produce");
            let config = KafkaConfig::new(&tansu.addr, Duration::from_secs(10));
            for run in 1..=3 {
                // Raw rskafka: every partition fetched concurrently, 4 MiB a fetch, to the end.
                let kafka = KafkaTopic::connect(&config, topic).await.expect("connect");
                let started = Instant::now();
                let mut tasks = Vec::new();
                for &p in kafka.partitions() {
                    let partition = kafka.partition(p).await.expect("partition");
                    tasks.push(tokio::spawn(async move {
                        let (mut next, high) = partition.watermarks().await.expect("marks");
                        let mut n = 0u64;
                        while next < high {
                            let f = partition
                                .fetch(next, 4 << 20, Duration::ZERO)
                                .await
                                .expect("fetch");
                            if let Some(last) = f.records.last() {
                                next = last.offset + 1;
                            }
                            n += f.records.len() as u64;
                        }
                        n
                    }));
                }
                let mut raw = 0;
                for t in tasks {
                    raw += t.await.expect("join");
                }
                let raw_elapsed = started.elapsed();
                let source = Source::kafka(&config, &[topic.to_owned()], SchemaSource::None)
                    .await
                    .expect("source");
                let url = start(source).await;
                let (records, _, elapsed) = consume(&url, Compression::None).await;
                assert_eq!((raw, records), (count as u64, count as u64));
                println!(
                    "run {run}: raw rskafka fetch {:.2}M records/s ({:.3} s); broker → bridge → socket {:.2}M records/s ({:.3} s): {:.2}×",
                    rate(raw, raw_elapsed),
                    raw_elapsed.as_secs_f64(),
                    rate(records, elapsed),
                    elapsed.as_secs_f64(),
                    raw_elapsed.as_secs_f64() / elapsed.as_secs_f64()
                );
            }
        }
        other => eprintln!("unknown mode {other}: use recording or broker"),
    }
}
