//! The whole path in a real browser: a source → the bridge → WebSocket → WASM → the page, with
//! headless Chromium (Debian's, driven by playwright-core) reading the counts the page shows.
//!
//! Needs the built page (`cargo xtask site`, done by `cargo xtask test`), `npm ci`, and
//! `/usr/bin/chromium`; without them these tests skip, unless `STREAMGLASS_REQUIRE_ALL=1`.
//! Screenshots land in `target/e2e/`.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use replay_bridge::kafka::KafkaConfig;
use replay_bridge::record;
use replay_bridge::schemas::SchemaSource;
use replay_bridge::source::Source;
use replay_bridge::trades::TRADES_TOPIC;
use streamglass_tests::producers::{self, Produced};
use streamglass_tests::{skip_or_fail, target_dir, workspace_root};

/// The built page, when everything the browser test needs is present.
fn prerequisites(test: &str) -> Option<PathBuf> {
    let site = std::env::var_os("STREAMGLASS_SITE")
        .map(PathBuf::from)
        .unwrap_or_else(|| target_dir().join("site"));
    let missing = if !site.join("pkg/streamglass_wasm_bg.wasm").is_file() {
        Some(format!(
            "no built page at {} (run cargo xtask site)",
            site.display()
        ))
    } else if !workspace_root()
        .join("node_modules/playwright-core")
        .is_dir()
    {
        Some("playwright-core is not installed (run npm ci)".into())
    } else if !Path::new("/usr/bin/chromium").is_file() {
        Some("/usr/bin/chromium is not installed".into())
    } else {
        None
    };
    match missing {
        Some(reason) => {
            skip_or_fail(test, &reason);
            None
        }
        None => Some(site),
    }
}

/// Opens the page on `addr` until it shows `expected` records; returns what it showed.
async fn page_counts(addr: &str, expected: u64, name: &str) -> serde_json::Value {
    let screenshot = target_dir().join("e2e").join(format!("{name}.png"));
    let out = tokio::process::Command::new("node")
        .arg(workspace_root().join("tests/e2e/page-counts.mjs"))
        .arg(format!("http://{addr}/"))
        .arg(expected.to_string())
        .arg(&screenshot)
        .current_dir(workspace_root())
        .output()
        .await
        .expect("run node");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "page-counts failed ({}):\n{stderr}",
        out.status
    );
    assert!(
        screenshot.is_file(),
        "no screenshot at {}",
        screenshot.display()
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("bad JSON ({e}): {stderr}"))
}

/// The page's per-partition (records, last offset) must equal what the source holds.
fn assert_page_shows(shown: &serde_json::Value, expected: &BTreeMap<i32, (u64, i64, i64)>) {
    let total: u64 = expected.values().map(|e| e.0).sum();
    assert_eq!(shown["status"], "caughtUp", "{shown}");
    assert_eq!(shown["totalRecords"].as_u64(), Some(total), "{shown}");
    assert_eq!(shown["errors"].as_array().map(Vec::len), Some(0), "{shown}");
    let mut seen = BTreeMap::new();
    for p in shown["partitions"].as_array().expect("partitions") {
        let partition = p["partition"].as_i64().expect("partition") as i32;
        seen.insert(
            partition,
            (
                p["records"].as_u64().expect("records"),
                p["lastOffset"].as_i64(),
            ),
        );
    }
    let wanted: BTreeMap<i32, (u64, Option<i64>)> = expected
        .iter()
        .map(|(p, (count, _, last))| (*p, (*count, Some(*last))))
        .collect();
    for (p, v) in &seen {
        if !wanted.contains_key(p) {
            assert_eq!(*v, (0, None), "partition {p} should be empty");
        }
    }
    for (p, v) in &wanted {
        assert_eq!(seen.get(p), Some(v), "partition {p}: {shown}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_counts_every_record_of_a_generated_recording() {
    let Some(site) = prerequisites("page: generated recording") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trades.sgrec");
    let written = record::generate(&path, 60_000, 3, 2).unwrap();
    let addr = common::start_bridge(Source::recording(&path).unwrap(), Some(site)).await;
    let expected = common::generated_ranges(&written);
    let shown = page_counts(&addr, 60_000, "generated-recording").await;
    assert_page_shows(&shown, &expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_counts_a_tansu_topic_written_by_confluent_kafka() {
    let Some(site) = prerequisites("page: tansu confluent-kafka") else {
        return;
    };
    let Some((env, tansu)) = common::broker("page: tansu confluent-kafka") else {
        return;
    };
    tansu.create_topic(TRADES_TOPIC, 3).unwrap();
    let schemas = common::schema_dir();
    let produced = producers::produce_with_confluent_kafka(
        &env,
        &tansu.addr,
        TRADES_TOPIC,
        15_000,
        &schemas.path().join("1-trade.avsc"),
        1,
    )
    .unwrap();
    let source = Source::kafka(
        &KafkaConfig::new(&tansu.addr, Duration::from_secs(10)),
        &[TRADES_TOPIC.to_owned()],
        SchemaSource::Dir(schemas.path().to_owned()),
    )
    .await
    .unwrap();
    let addr = common::start_bridge(source, Some(site)).await;
    let shown = page_counts(&addr, produced.total, "tansu-confluent-kafka").await;
    assert_page_shows(&shown, &produced.partitions);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_counts_a_tansu_topic_written_by_rskafka() {
    let Some(site) = prerequisites("page: tansu rskafka") else {
        return;
    };
    let Some((_env, tansu)) = common::broker("page: tansu rskafka") else {
        return;
    };
    tansu.create_topic(TRADES_TOPIC, 3).unwrap();
    let produced: Produced = producers::produce_with_rskafka(
        &tansu.addr,
        TRADES_TOPIC,
        3,
        common::trade_values(10_000, 9),
        300,
    )
    .await
    .unwrap();
    let source = Source::kafka(
        &KafkaConfig::new(&tansu.addr, Duration::from_secs(10)),
        &[TRADES_TOPIC.to_owned()],
        SchemaSource::None,
    )
    .await
    .unwrap();
    let addr = common::start_bridge(source, Some(site)).await;
    let shown = page_counts(&addr, produced.total, "tansu-rskafka").await;
    assert_page_shows(&shown, &produced.partitions);
}
