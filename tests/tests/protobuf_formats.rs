//! Protobuf values written by an independent producer (a `.proto` compiled by grpcio-tools,
//! framed and registered by confluent-kafka's `ProtobufSerializer`, `tests/python/produce_protobuf.py`)
//! on a Tansu topic, two schema versions on one subject, printed by
//! `replay-bridge cat --value protobuf`: each value with its writer schema (no `--subject`), and
//! with the subject's newest version as the reader (`--subject`). Every field of every record is
//! compared with what the producer wrote.

mod common;

use std::process::Command;
use std::time::Duration;

use common::registry;
use replay_bridge::cat::{CatOptions, SideFormat};
use replay_bridge::registry::SchemaRegistry;
use replay_bridge::schemas::SchemaSource;
use serde_json::Value;
use streamglass_core::seek::{Position, SeekSpec};
use streamglass_tests::tansu::broker;

/// Records of each version.
const EACH: usize = 120;

async fn cat_lines(addr: &str, registry: &str, topic: &str, subject: Option<&str>) -> Vec<Value> {
    let options = CatOptions {
        key: SideFormat::Ignore,
        value: SideFormat::Protobuf,
        subject: subject.map(str::to_owned),
        schemas: SchemaSource::Registry(
            SchemaRegistry::new(registry, None, Duration::from_secs(10)).unwrap(),
        ),
        follow: false,
        start: SeekSpec::All(Position::Beginning),
        count: None,
        json_key_spec: None,
        json_spec: None,
        json_infer: 1_000,
        output: replay_bridge::cat::OutputFormat::Jsonl,
        timeout: Duration::from_secs(10),
    };
    let (summary, mut lines) = common::cat_jsonl(addr, topic, &options).await;
    assert_eq!(
        (summary.rows, summary.errors),
        (2 * EACH as u64, 0),
        "{lines:?}"
    );
    common::sort_by_partition_offset(&mut lines);
    lines
}

/// Produces `EACH` records with version `v` of the trade, numbered from `first`.
fn produce(
    env: &streamglass_tests::python::PythonEnv,
    addr: &str,
    url: &str,
    topic: &str,
    v: u32,
    first: usize,
) -> Vec<Value> {
    let root = streamglass_tests::workspace_root();
    let out = Command::new(env.python())
        .arg(root.join("tests/python/produce_protobuf.py"))
        .args(["--bootstrap", addr, "--registry", url, "--topic", topic])
        .arg("--proto")
        .arg(root.join(format!("tests/proto/trade_v{v}.proto")))
        .args(["--count", &EACH.to_string(), "--first", &first.to_string()])
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let produced: Value = serde_json::from_slice(&out.stdout).unwrap();
    produced["records"].as_array().unwrap().clone()
}

/// The instant `cat` prints for nanoseconds since the epoch.
fn instant(ns: i64) -> String {
    chrono::DateTime::from_timestamp_nanos(ns).to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

/// Checks a `cat` line against what the producer wrote; `trader`: whether the line has the
/// column (its reader schema is version 2).
fn check(line: &Value, want: &Value, trader: bool) {
    let what = format!("{want} → {line}");
    let v = &want[2];
    assert_eq!(line["KafkaPartition"], want[0], "{what}");
    assert_eq!(line["KafkaOffset"], want[1], "{what}");
    // Implicit presence: an unset string reads as "", as protobuf reads it.
    assert_eq!(
        line["id"],
        v.get("id").cloned().unwrap_or(Value::from("")),
        "{what}"
    );
    match v.get("timestamp") {
        Some(ns) => assert_eq!(line["timestamp"], instant(ns.as_i64().unwrap()), "{what}"),
        None => assert!(line["timestamp"].is_null(), "{what}"),
    }
    match v.get("venue") {
        Some(venue) => {
            assert_eq!(line["venue__exchange"], venue["exchange"], "{what}");
            assert_eq!(line["venue__lat"].as_f64(), venue["lat"].as_f64(), "{what}");
        }
        None => {
            assert!(line["venue__exchange"].is_null(), "{what}");
            assert!(line["venue__lat"].is_null(), "{what}");
        }
    }
    for name in ["instrument", "type", "seq", "ok", "delta", "tags"] {
        assert_eq!(line[name], v[name], "{name}: {what}");
    }
    for name in ["price", "size"] {
        assert_eq!(line[name].as_f64(), v[name].as_f64(), "{name}: {what}");
    }
    let floats = |x: &Value| -> Vec<f64> {
        x.as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_f64().unwrap())
            .collect()
    };
    assert_eq!(floats(&line["fills"]), floats(&v["fills"]), "{what}");
    if trader {
        assert_eq!(
            line["trader"],
            v.get("trader").cloned().unwrap_or(Value::Null),
            "{what}"
        );
    } else {
        assert!(line.get("trader").is_none(), "{what}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cat_reads_protobuf_values_of_two_schema_versions() {
    let Some((env, tansu)) = broker("cat of Protobuf values") else {
        return;
    };
    let topic = "proto-trades";
    tansu.create_topic(topic, 2).unwrap();
    let url = registry::start(Vec::new()).await;
    let mut produced = produce(&env, &tansu.addr, &url, topic, 1, 0);
    produced.extend(produce(&env, &tansu.addr, &url, topic, 2, EACH));
    produced.sort_by_key(|r| (r[0].as_i64(), r[1].as_i64()));
    assert_eq!(produced.len(), 2 * EACH);
    // The serializer registered two versions of the subject, with two ids.
    let client = SchemaRegistry::new(&url, None, Duration::from_secs(10)).unwrap();
    let ids: Vec<u32> = client
        .schemas_for(topic)
        .await
        .unwrap()
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(ids, [1, 2]);

    // Each value with its writer schema: version 1's records have no `trader` column.
    let by_writer = cat_lines(&tansu.addr, &url, topic, None).await;
    // The subject's newest version as the reader: every record has it (null for version 1's).
    let by_subject = cat_lines(&tansu.addr, &url, topic, Some(&format!("{topic}-value"))).await;
    let mut set_traders = 0;
    for ((w, s), want) in by_writer.iter().zip(&by_subject).zip(&produced) {
        // Record n (seq 2^40 + n) was written with version 2 from n = EACH on.
        let v2 = want[2]["seq"].as_i64().unwrap() - (1 << 40) >= EACH as i64;
        check(w, want, v2);
        check(s, want, true);
        set_traders += usize::from(s["trader"].is_string());
    }
    assert_eq!(set_traders, EACH / 2);
}
