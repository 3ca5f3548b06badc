//! Shared by the integration tests: an in-process bridge, a broker with its Python environment,
//! and trade values.
#![allow(dead_code)]

pub mod registry;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use replay_bridge::cat::{self, CatOptions, CatSummary};
use replay_bridge::kafka::KafkaConfig;
use replay_bridge::record::Written;
use replay_bridge::schemas::SchemaSource;
use replay_bridge::server::{self, ServeOptions};
use replay_bridge::source::Source;
use replay_bridge::trades::{TRADE_SCHEMA, TradeGenerator};
use streamglass_tests::ws::Received;

/// Serves `source` (and `www`, if given) on a free port in this runtime; returns `127.0.0.1:PORT`.
pub async fn start_bridge(source: Source, www: Option<PathBuf>) -> String {
    serve(source, www, ServeOptions::default()).await
}

/// Like [`start_bridge`], with `options`.
pub async fn serve(source: Source, www: Option<PathBuf>, options: ServeOptions) -> String {
    let app = server::router_with(Arc::new(source), www, options).expect("router");
    let listener = server::bind("127.0.0.1:0").await.expect("bind");
    let addr = server::local_addr(&listener).expect("addr");
    tokio::spawn(server::serve(listener, app));
    addr.to_string()
}

/// Serves `topic` of the broker at `broker` (`HOST:PORT`) on a free port, every broker call bounded
/// by `timeout`; returns `127.0.0.1:PORT`.
pub async fn start_kafka_bridge(
    broker: &str,
    topic: &str,
    schemas: SchemaSource,
    timeout: std::time::Duration,
) -> String {
    let config = KafkaConfig::new(broker, timeout);
    let source = Source::kafka(&config, &[topic.to_owned()], schemas)
        .await
        .expect("kafka source");
    start_bridge(source, None).await
}

/// A directory holding the Trade schema as `1-trade.avsc`.
pub fn schema_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("1-trade.avsc"), TRADE_SCHEMA).expect("write schema");
    dir
}

/// `n` Confluent-framed trade values with their timestamps, from the bridge's generator.
pub fn trade_values(n: usize, seed: u64) -> Vec<(i64, Vec<u8>)> {
    let mut generator = TradeGenerator::new(seed, 1).expect("generator");
    (0..n)
        .map(|_| {
            let r = generator.next_record().expect("trade");
            (r.timestamp_ms, r.value.unwrap_or_default())
        })
        .collect()
}

/// Per partition: (count, first offset, last offset) of a generated recording, which starts every
/// partition at offset 0.
pub fn generated_ranges(written: &Written) -> BTreeMap<i32, (u64, i64, i64)> {
    written
        .partitions
        .iter()
        .map(|p| {
            (
                p.partition,
                (p.high_watermark as u64, 0, p.high_watermark - 1),
            )
        })
        .collect()
}

/// Offsets of each partition rise by one, in the order received: nothing lost, nothing twice.
pub fn assert_dense(records: &[Received], what: &str) {
    let mut last: BTreeMap<i32, i64> = BTreeMap::new();
    for r in records {
        if let Some(prev) = last.insert(r.partition, r.offset) {
            assert_eq!(
                r.offset,
                prev + 1,
                "{what}: partition {} jumps from {prev} to {}",
                r.partition,
                r.offset
            );
        }
    }
}

/// Per partition: (count, first offset, last offset) of `(partition, offset)` pairs.
pub fn ranges(records: impl IntoIterator<Item = (i32, i64)>) -> BTreeMap<i32, (u64, i64, i64)> {
    let mut ranges = BTreeMap::new();
    for (partition, offset) in records {
        let e = ranges.entry(partition).or_insert((0, i64::MAX, i64::MIN));
        e.0 += 1;
        e.1 = e.1.min(offset);
        e.2 = e.2.max(offset);
    }
    ranges
}

/// `GET path` on `addr` over plain HTTP/1.1, with an `Origin` header if given: the status code and
/// the body.
pub async fn http_get(addr: &str, path: &str, origin: Option<&str>) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let origin = origin.map_or(String::new(), |o| format!("Origin: {o}\r\n"));
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{origin}Connection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_owned();
    (status, body)
}

/// `cat` of `topic` on the broker at `addr` with `options` (JSON lines out): its summary and its
/// lines, parsed, in the order printed.
pub async fn cat_jsonl(
    addr: &str,
    topic: &str,
    options: &CatOptions,
) -> (CatSummary, Vec<serde_json::Value>) {
    let config = KafkaConfig::new(addr, std::time::Duration::from_secs(10));
    let mut out = Vec::new();
    let summary = cat::cat_kafka(&config, topic, options, &mut out)
        .await
        .unwrap_or_else(|e| panic!("{topic}: {e}"));
    let lines = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{topic}: {l}: {e}")))
        .collect();
    (summary, lines)
}

/// `lines` of `cat` sorted by partition and offset.
pub fn sort_by_partition_offset(lines: &mut [serde_json::Value]) {
    lines.sort_by_key(|r| (r["KafkaPartition"].as_i64(), r["KafkaOffset"].as_i64()));
}
