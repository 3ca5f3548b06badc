//! Plain keys and values, as Kafka's own serializers write them: confluent-kafka's
//! `StringSerializer` keys and `IntegerSerializer`, `DoubleSerializer` or big-endian long values
//! (`tests/python/produce_simple.py`), on a Tansu topic, printed by `replay-bridge cat --key
//! string --value int|double|long`: every record as the producer wrote it, tombstones as nulls.

use std::process::Command;
use std::time::Duration;

use replay_bridge::cat::{self, CatOptions, SideFormat};
use replay_bridge::kafka::KafkaConfig;
use replay_bridge::schemas::SchemaSource;
use streamglass_core::seek::{Position, SeekSpec};
use streamglass_tests::tansu::broker;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cat_reads_kafkas_plain_serializers() {
    let Some((env, tansu)) = broker("cat of plain keys and values") else {
        return;
    };
    for (topic, value, format) in [
        ("ints", "int", SideFormat::Int),
        ("doubles", "double", SideFormat::Double),
        ("longs", "long", SideFormat::Long),
    ] {
        tansu.create_topic(topic, 2).unwrap();
        let out = Command::new(env.python())
            .arg(streamglass_tests::workspace_root().join("tests/python/produce_simple.py"))
            .args([
                "--bootstrap",
                &tansu.addr,
                "--topic",
                topic,
                "--count",
                "300",
            ])
            .args(["--value", value])
            .output()
            .expect("run python");
        assert!(
            out.status.success(),
            "{}\n{}",
            String::from_utf8_lossy(&out.stderr),
            tansu.log_tail()
        );
        let produced: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let produced = produced["records"].as_array().unwrap();
        assert_eq!(produced.len(), 300);

        let options = CatOptions {
            key: SideFormat::String,
            value: format,
            subject: None,
            schemas: SchemaSource::None,
            follow: false,
            start: SeekSpec::All(Position::Beginning),
            count: None,
            json_key_spec: None,
            json_spec: None,
            json_infer: 1_000,
            output: replay_bridge::cat::OutputFormat::Jsonl,
            timeout: Duration::from_secs(10),
        };
        let config = KafkaConfig::new(&tansu.addr, Duration::from_secs(10));
        let mut out = Vec::new();
        let summary = cat::cat_kafka(&config, topic, &options, &mut out)
            .await
            .unwrap_or_else(|e| panic!("{topic}: {e}\n{}", tansu.log_tail()));
        assert_eq!((summary.rows, summary.errors), (300, 0), "{topic}");
        let mut printed: Vec<serde_json::Value> = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        printed.sort_by_key(|r| (r["KafkaPartition"].as_i64(), r["KafkaOffset"].as_i64()));
        assert_eq!(
            printed.len(),
            produced.len(),
            "{topic}: every record, no error"
        );
        for (got, want) in printed.iter().zip(produced) {
            let what = format!("{topic}: {got}");
            assert!(got.get("error").is_none(), "{what}");
            assert_eq!(got["KafkaPartition"], want[0], "{what}");
            assert_eq!(got["KafkaOffset"], want[1], "{what}");
            assert_eq!(got["Key"], want[2], "{what}");
            match value {
                "double" => assert_eq!(got["Value"].as_f64(), want[3].as_f64(), "{what}"),
                _ => assert_eq!(got["Value"].as_i64(), want[3].as_i64(), "{what}"),
            }
            assert_eq!(got["Value"].is_null(), want[3].is_null(), "{what}");
        }
    }
}
