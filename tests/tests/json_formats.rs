//! JSON keys and values written by an independent producer (Python's `json.dumps` through
//! confluent-kafka, `tests/python/produce_json.py`) on a Tansu topic, printed by
//! `replay-bridge cat --key json --value json`: with columns inferred from the records, with a
//! user's spec, and (values written by confluent-kafka's `JSONSerializer`) with the registry's JSON
//! Schema. Every field of every record is compared with what the producer wrote.

mod common;

use std::process::Command;
use std::time::Duration;

use replay_bridge::cat::{CatOptions, SideFormat};
use replay_bridge::schemas::SchemaSource;
use serde_json::Value;
use streamglass_core::seek::{Position, SeekSpec};
use streamglass_tests::tansu::broker;

const COUNT: usize = 400;

/// Every column of a trade `produce_json.py` writes, keys included, as serde_json's map sorts
/// them: nested members as `Venue__Name`, the array one column.
const EVERY_COLUMN: [&str; 16] = [
    "Exchange",
    "Id",
    "Instrument",
    "KafkaOffset",
    "KafkaPartition",
    "KafkaTimestamp",
    "Key_K",
    "Ok",
    "Price",
    "Seq",
    "Size",
    "Tags",
    "Timestamp",
    "Type",
    "Venue__Lat",
    "Venue__Name",
];

/// `cat`'s lines, sorted by partition and offset.
async fn cat_lines(addr: &str, topic: &str, spec: Option<&str>, infer: usize) -> Vec<Value> {
    cat_lines_with(addr, topic, spec, infer, SchemaSource::None).await
}

/// [`cat_lines`] with the schemas of `schemas` (a registry).
async fn cat_lines_with(
    addr: &str,
    topic: &str,
    spec: Option<&str>,
    infer: usize,
    schemas: SchemaSource,
) -> Vec<Value> {
    let options = CatOptions {
        key: SideFormat::Json,
        value: SideFormat::Json,
        subject: None,
        schemas,
        follow: false,
        start: SeekSpec::All(Position::Beginning),
        count: None,
        json_key_spec: None,
        json_spec: spec.map(str::to_owned),
        json_infer: infer,
        output: replay_bridge::cat::OutputFormat::Jsonl,
        timeout: Duration::from_secs(10),
    };
    let (summary, mut lines) = common::cat_jsonl(addr, topic, &options).await;
    assert_eq!((summary.rows, summary.errors), (COUNT as u64, 0));
    common::sort_by_partition_offset(&mut lines);
    lines
}

/// What `cat` prints for an ISO-8601 instant the producer wrote (`…T17:00:01.234567Z`): the same
/// instant, as chrono writes it.
fn instant(text: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(text)
        .unwrap()
        .to_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

/// Runs `produce_json.py` for `COUNT` records on `topic` with `extra` arguments; the records as
/// the broker acknowledged them, `[partition, offset, key, value]`.
fn produce(
    env: &streamglass_tests::python::PythonEnv,
    tansu: &streamglass_tests::tansu::Tansu,
    topic: &str,
    extra: &[&str],
) -> Vec<Value> {
    let out = Command::new(env.python())
        .arg(streamglass_tests::workspace_root().join("tests/python/produce_json.py"))
        .args(["--bootstrap", &tansu.addr, "--topic", topic])
        .args(["--count", &COUNT.to_string()])
        .args(extra)
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        tansu.log_tail()
    );
    let produced: Value = serde_json::from_slice(&out.stdout).unwrap();
    let produced = produced["records"].as_array().unwrap().clone();
    assert_eq!(produced.len(), COUNT);
    produced
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cat_reads_json_dumps_values_inferred_and_by_spec() {
    let Some((env, tansu)) = broker("cat of JSON values") else {
        return;
    };
    let topic = "json-trades";
    tansu.create_topic(topic, 3).unwrap();
    let produced = &produce(&env, &tansu, topic, &[]);

    // Inferred from the first 1,000 records (all of them), the time as the string it is.
    let inferred = cat_lines(&tansu.addr, topic, None, 1_000).await;
    // A spec: the demo's columns with Deephaven's type names, Timestamp as an Instant.
    let spec = "Id=String,Timestamp=Instant,Exchange=String,Instrument=String,Type=String,\
                Price=double,Size=double,Seq=long,Ok=boolean,Venue__Lat=double";
    let by_spec = cat_lines(&tansu.addr, topic, Some(spec), 1_000).await;
    assert_eq!(inferred.len(), COUNT);
    assert_eq!(by_spec.len(), COUNT);
    // Every column there (serde_json's map sorts them): the spec's, and the inferred ones: every
    // member, nested ones as Venue__Name, the array as its JSON text.
    let columns = |line: &Value| {
        line.as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(
        columns(&by_spec[0]),
        [
            "Exchange",
            "Id",
            "Instrument",
            "KafkaOffset",
            "KafkaPartition",
            "KafkaTimestamp",
            "Key_K",
            "Ok",
            "Price",
            "Seq",
            "Size",
            "Timestamp",
            "Type",
            "Venue__Lat"
        ]
    );
    assert_eq!(columns(&inferred[0]), EVERY_COLUMN);
    for ((i, s), want) in inferred.iter().zip(&by_spec).zip(produced) {
        // The time: text when inferred, an instant by the spec (which names no Tags or
        // Venue__Name).
        assert_trade(i, want, Time::Text, true);
        assert_trade(s, want, Time::Instant, false);
    }
}

/// How a trade's `Timestamp` is printed: the text written (inferred), or an instant.
#[derive(Clone, Copy, PartialEq)]
enum Time {
    Text,
    Instant,
}

/// `line` (a row `cat` printed) holds producer record `want` (`[partition, offset, key, value]`):
/// its metadata and key; for a tombstone, nulls in every value column; else every field, the
/// time as `time` says, and with `nested` the nested member and the array (as compact JSON text).
fn assert_trade(line: &Value, want: &Value, time: Time, nested: bool) {
    let what = format!("{want}: {line}");
    assert_eq!(line["KafkaPartition"], want[0], "{what}");
    assert_eq!(line["KafkaOffset"], want[1], "{what}");
    assert_eq!(line["Key_K"], want[2]["K"], "{what}");
    let v = &want[3];
    if v.is_null() {
        let mut values = line
            .as_object()
            .unwrap()
            .iter()
            .filter(|(k, _)| !k.starts_with("Kafka") && *k != "Key_K");
        assert!(values.all(|(_, v)| v.is_null()), "{what}");
        return;
    }
    for name in ["Id", "Exchange", "Instrument", "Type", "Seq", "Ok"] {
        assert_eq!(line[name], v[name], "{name}: {what}");
    }
    for name in ["Price", "Size"] {
        assert_eq!(line[name].as_f64(), v[name].as_f64(), "{name}: {what}");
    }
    assert_eq!(
        line["Venue__Lat"].as_f64(),
        v["Venue"]["Lat"].as_f64(),
        "{what}"
    );
    if nested {
        assert_eq!(line["Venue__Name"], v["Venue"]["Name"], "{what}");
        let tags: Value = serde_json::from_str(line["Tags"].as_str().unwrap()).unwrap();
        assert_eq!(tags, v["Tags"], "{what}");
    }
    let ts = v["Timestamp"].as_str().unwrap();
    match time {
        Time::Text => assert_eq!(line["Timestamp"], v["Timestamp"], "{what}"),
        Time::Instant => assert_eq!(
            line["Timestamp"].as_str(),
            Some(instant(ts).as_str()),
            "{what}"
        ),
    }
}

/// Values written by confluent-kafka's `JSONSerializer` (Confluent's framing, validated against
/// the registry's latest `<topic>-value`, `tests/python/trade.schema.json`), keys by `json.dumps`:
/// `cat` takes the value columns from the registry's JSON Schema (the time an instant, the
/// nested object flattened, the array its JSON text) and infers the key's; every field equals
/// what the producer wrote.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cat_reads_json_serializer_values_by_the_registrys_json_schema() {
    let Some((env, tansu)) = broker("cat of JSONSerializer values") else {
        return;
    };
    let topic = "json-registered";
    tansu.create_topic(topic, 2).unwrap();
    let url = common::registry::start(vec![common::registry::Registered {
        subject: format!("{topic}-value"),
        id: 7,
        schema_type: "JSON".into(),
        schema: include_str!("../python/trade.schema.json").into(),
    }])
    .await;
    let produced = produce(&env, &tansu, topic, &["--registry", &url]);
    let registry =
        replay_bridge::registry::SchemaRegistry::new(&url, None, Duration::from_secs(5)).unwrap();
    let lines = cat_lines_with(
        &tansu.addr,
        topic,
        None,
        1_000,
        SchemaSource::Registry(registry),
    )
    .await;
    let columns: Vec<&String> = lines[0].as_object().unwrap().keys().collect();
    assert_eq!(columns, EVERY_COLUMN);
    for (line, want) in lines.iter().zip(&produced) {
        assert_trade(line, want, Time::Instant, true);
    }
}

/// Columns inferred from fewer records than the topic holds: they are fixed after the first
/// `INFER` (one partition, so those are the first written); a member first seen later is ignored
/// and a value wider than its column fails its record alone, counted; every other record is read
/// whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cat_fixes_inferred_json_columns_after_the_first_records() {
    const INFER: usize = 50;
    let Some((env, tansu)) = broker("cat of JSON values inferred from the first records") else {
        return;
    };
    let topic = "json-late";
    tansu.create_topic(topic, 1).unwrap();
    let produced = &produce(&env, &tansu, topic, &["--vary-after", &INFER.to_string()]);
    let wider = produced
        .iter()
        .filter(|r| r[3]["Seq"].as_f64().is_some_and(|s| s.fract() != 0.0))
        .count();
    assert!(wider > 10, "the producer wrote {wider} wider values");
    let options = CatOptions {
        key: SideFormat::Json,
        value: SideFormat::Json,
        subject: None,
        schemas: SchemaSource::None,
        follow: false,
        start: SeekSpec::All(Position::Beginning),
        count: None,
        json_key_spec: None,
        json_spec: None,
        json_infer: INFER,
        output: replay_bridge::cat::OutputFormat::Jsonl,
        timeout: Duration::from_secs(10),
    };
    let (summary, lines) = common::cat_jsonl(&tansu.addr, topic, &options).await;
    assert_eq!(
        (summary.rows, summary.errors),
        ((COUNT - wider) as u64, wider as u64)
    );
    let (errors, rows): (Vec<&Value>, Vec<&Value>) =
        lines.iter().partition(|l| l.get("error").is_some());
    assert_eq!((rows.len(), errors.len()), (COUNT - wider, wider));
    for e in errors {
        assert!(e["error"].as_str().unwrap().contains("Seq"), "{e}");
    }
    for row in rows {
        assert!(row.get("Late").is_none(), "{row}");
        let offset = row["KafkaOffset"].as_i64().unwrap();
        let want = produced.iter().find(|r| r[1] == offset).unwrap();
        assert_eq!(row["Key_K"], want[2]["K"], "{row}");
        if !want[3].is_null() {
            assert_eq!(row["Seq"], want[3]["Seq"], "{row}");
            assert_eq!(row["Id"], want[3]["Id"], "{row}");
        }
    }
}
