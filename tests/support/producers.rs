//! Putting records on a Tansu topic: with an independent producer (librdkafka through Python's
//! `confluent-kafka`, values encoded by `fastavro`), or with rskafka.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use rskafka::client::ClientBuilder;
use rskafka::client::partition::{Compression, UnknownTopicHandling};
use rskafka::record::Record;

use crate::python::PythonEnv;

/// What a producer says it wrote: per partition, the count and the offset range acknowledged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Produced {
    pub total: u64,
    /// partition → (count, first offset, last offset)
    pub partitions: BTreeMap<i32, (u64, i64, i64)>,
}

/// Runs `tests/python/produce_trades.py`: `count` Confluent-framed trades, schema id `schema_id`.
pub fn produce_with_confluent_kafka(
    env: &PythonEnv,
    bootstrap: &str,
    topic: &str,
    count: u64,
    schema: &Path,
    schema_id: u32,
) -> Result<Produced, String> {
    produce_with_confluent_kafka_configured(env, bootstrap, topic, count, schema, schema_id, &[])
}

/// Like [`produce_with_confluent_kafka`], with librdkafka settings added (`security.protocol`,
/// `ssl.ca.location`, `sasl.mechanism`, `sasl.username`, `sasl.password`, ...).
pub fn produce_with_confluent_kafka_configured(
    env: &PythonEnv,
    bootstrap: &str,
    topic: &str,
    count: u64,
    schema: &Path,
    schema_id: u32,
    config: &[(&str, &str)],
) -> Result<Produced, String> {
    let script = crate::workspace_root().join("tests/python/produce_trades.py");
    let mut command = Command::new(env.python());
    command.arg(&script);
    for (key, value) in config {
        command.arg("--config").arg(format!("{key}={value}"));
    }
    let out = command
        .args(["--bootstrap", bootstrap, "--topic", topic])
        .args([
            "--count",
            &count.to_string(),
            "--schema-id",
            &schema_id.to_string(),
        ])
        .arg("--schema")
        .arg(schema)
        .output()
        .map_err(|e| format!("{}: {e}", script.display()))?;
    if !out.status.success() {
        return Err(format!(
            "producer failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).map_err(|e| {
        format!(
            "producer printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })?;
    let mut partitions = BTreeMap::new();
    for (p, v) in report["partitions"]
        .as_object()
        .ok_or("no partitions in report")?
    {
        let p: i32 = p.parse().map_err(|_| format!("bad partition {p}"))?;
        let field = |name: &str| {
            v[name]
                .as_i64()
                .ok_or(format!("no {name} for partition {p}"))
        };
        partitions.insert(p, (field("count")? as u64, field("first")?, field("last")?));
    }
    Ok(Produced {
        total: report["total"].as_u64().ok_or("no total in report")?,
        partitions,
    })
}

/// Produces `values` with rskafka, `batch` records per request, round-robin over `partitions`.
pub async fn produce_with_rskafka(
    bootstrap: &str,
    topic: &str,
    partitions: i32,
    values: Vec<(i64, Vec<u8>)>,
    batch: usize,
) -> Result<Produced, String> {
    let client = ClientBuilder::new(vec![bootstrap.to_owned()])
        .build()
        .await
        .map_err(|e| e.to_string())?;
    let mut clients = Vec::new();
    for p in 0..partitions {
        clients.push(
            client
                .partition_client(topic, p, UnknownTopicHandling::Retry)
                .await
                .map_err(|e| e.to_string())?,
        );
    }
    let mut produced = Produced {
        total: 0,
        partitions: BTreeMap::new(),
    };
    for (i, chunk) in values.chunks(batch.max(1)).enumerate() {
        let p = (i % clients.len()) as i32;
        let records = chunk
            .iter()
            .map(|(timestamp_ms, value)| Record {
                key: None,
                value: Some(value.clone()),
                headers: BTreeMap::new(),
                timestamp: chrono::DateTime::from_timestamp_millis(*timestamp_ms)
                    .unwrap_or_default(),
            })
            .collect();
        let offsets = clients[p as usize]
            .produce(records, Compression::NoCompression)
            .await
            .map_err(|e| e.to_string())?;
        let entry = produced
            .partitions
            .entry(p)
            .or_insert((0, i64::MAX, i64::MIN));
        entry.0 += offsets.len() as u64;
        entry.1 = entry
            .1
            .min(offsets.iter().copied().min().unwrap_or(i64::MAX));
        entry.2 = entry
            .2
            .max(offsets.iter().copied().max().unwrap_or(i64::MIN));
        produced.total += offsets.len() as u64;
    }
    Ok(produced)
}
