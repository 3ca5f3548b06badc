//! A recording is a standard Avro object container file: an independent implementation
//! (Python's fastavro) reads its header and every record.

mod common;

use replay_bridge::record;
use replay_bridge::recording::RecordingReader;

const READ_WITH_FASTAVRO: &str = r#"
import json, sys, fastavro
with open(sys.argv[1], "rb") as f:
    reader = fastavro.reader(f)
    meta = {k: v.decode() if isinstance(v, bytes) else v for k, v in reader.metadata.items()}
    records = list(reader)
print(json.dumps({
    "codec": meta["avro.codec"],
    "topic": meta["streamglass.topic"],
    "partitions": json.loads(meta["streamglass.partitions"]),
    "schema_ids": [s["id"] for s in json.loads(meta["streamglass.schemas"])],
    "count": len(records),
    "first": {"partition": records[0]["partition"], "offset": records[0]["offset"],
              "value_hex": records[0]["value"].hex()},
    "offsets_by_partition": {str(p): [r["offset"] for r in records if r["partition"] == p][-1]
                             for p in sorted({r["partition"] for r in records})},
}))
"#;

#[test]
fn fastavro_reads_a_recording() {
    let env = match streamglass_tests::python::env() {
        Ok(env) => env,
        Err(e) => return streamglass_tests::skip_or_fail("fastavro reads a recording", &e),
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.sgrec");
    let written = record::generate(&path, 3_000, 3, 5).unwrap();
    let out = std::process::Command::new(env.python())
        .args(["-c", READ_WITH_FASTAVRO])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();

    let first = RecordingReader::open(&path)
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    let hex: String = first
        .value
        .unwrap()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(seen["codec"], "snappy");
    assert_eq!(seen["topic"], replay_bridge::trades::TRADES_TOPIC);
    assert_eq!(seen["schema_ids"], serde_json::json!([1]));
    assert_eq!(seen["count"], 3_000);
    assert_eq!(seen["first"]["value_hex"], hex);
    for p in &written.partitions {
        assert_eq!(
            seen["partitions"][p.partition as usize]["high_watermark"],
            p.high_watermark
        );
        assert_eq!(
            seen["offsets_by_partition"][p.partition.to_string()],
            p.high_watermark - 1
        );
    }
}
