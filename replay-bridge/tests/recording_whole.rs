//! A recording is whole or refused, as a user meets it: `record` interrupted by Ctrl-C keeps a
//! complete file that says it stopped early, a broker lost mid-way leaves no file, and `inspect`
//! and `serve` refuse a file cut short or whose header disagrees with its records.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use replay_bridge::recording::partial_path;
use replay_bridge::server;
use replay_bridge::source::Source;
use streamglass_tests::tansu::{Tansu, broker};

const BIN: &str = env!("CARGO_BIN_EXE_replay-bridge");

/// Runs the bridge with `args`, killing it after `limit` (then `None`: it did not end by itself).
fn run_within(args: &[&str], limit: Duration) -> Option<Output> {
    let child = Command::new(BIN)
        .args(args)
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run replay-bridge");
    wait_within(child, limit)
}

fn wait_within(mut child: Child, limit: Duration) -> Option<Output> {
    let deadline = Instant::now() + limit;
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Some(child.wait_with_output().expect("output"))
}

/// Exits 1 with one line on stderr, `error: ...` containing every one of `needles`.
fn assert_refused(out: Option<Output>, what: &str, needles: &[&str]) {
    let out = out.unwrap_or_else(|| panic!("{what}: still running; it should have refused"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{what}: {stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{what}: one line expected: {stderr}");
    assert!(lines[0].starts_with("error: "), "{what}: {stderr}");
    for needle in needles {
        assert!(lines[0].contains(needle), "{what}: {needle:?} in {stderr}");
    }
}

/// `inspect` and `serve` both refuse `path` at once, naming why.
fn assert_inspect_and_serve_refuse(path: &Path, needles: &[&str]) {
    let p = path.to_str().unwrap();
    let limit = Duration::from_secs(60);
    assert_refused(run_within(&["inspect", p], limit), "inspect", needles);
    assert_refused(
        run_within(&["inspect", "--json", p], limit),
        "inspect --json",
        needles,
    );
    let serve = ["serve", "--recording", p, "--listen", "127.0.0.1:0"];
    assert_refused(run_within(&serve, limit), "serve", needles);
}

fn generate(path: &Path, count: u64, partitions: i32) {
    replay_bridge::record::generate(path, count, partitions, 3).unwrap();
}

#[test]
fn a_truncated_recording_is_refused_by_inspect_and_by_serve_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.sgrec");
    generate(&good, 50_000, 2);
    let bytes = std::fs::read(&good).unwrap();
    let cut = dir.path().join("cut.sgrec");
    std::fs::write(&cut, &bytes[..bytes.len() * 2 / 3]).unwrap();
    assert_inspect_and_serve_refuse(&cut, &["cut.sgrec is corrupt after"]);
}

/// Replaces the first `from` in the header of `path` by `to` (of the same length, so the header's
/// lengths still hold) and writes the result to `out`.
fn edit_header(path: &Path, out: &Path, from: &str, to: &str) {
    assert_eq!(from.len(), to.len());
    let mut bytes = std::fs::read(path).unwrap();
    let at = bytes
        .windows(from.len())
        .position(|w| w == from.as_bytes())
        .unwrap_or_else(|| panic!("{from} not in the header"));
    bytes[at..at + to.len()].copy_from_slice(to.as_bytes());
    std::fs::write(out, bytes).unwrap();
}

#[test]
fn a_header_that_disagrees_with_the_records_is_refused_by_inspect_and_serve() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.sgrec");
    generate(&good, 3_000, 2);
    let p = good.to_str().unwrap();
    let summary = run_within(&["inspect", "--json", p], Duration::from_secs(60)).unwrap();
    assert!(summary.status.success());
    let summary: serde_json::Value = serde_json::from_slice(&summary.stdout).unwrap();
    let count = summary["partitions"][0]["records"].as_u64().unwrap();
    let high = summary["partitions"][0]["high_watermark"].as_i64().unwrap();
    assert_eq!(count as i64, high, "a generated partition is dense from 0");
    let bad = dir.path().join("bad.sgrec");
    let more = format!("{}", count + 1);
    let less = format!("{}", high - 1);
    assert_eq!(more.len(), count.to_string().len());
    let cases = [
        // The header counts more records than the file holds.
        (
            format!("\"records\":{count}"),
            format!("\"records\":{more}"),
            format!("holds {count} records, but the header says {more}"),
        ),
        // The partition's range ends before its last record.
        (
            format!("\"high_watermark\":{high}"),
            format!("\"high_watermark\":{less}"),
            format!("offset {less} is outside the header's range [0, {less})"),
        ),
        // Records of a partition the header does not have.
        (
            "\"partition\":1".into(),
            "\"partition\":7".into(),
            "a record of partition 1".into(),
        ),
    ];
    for (from, to, why) in cases {
        edit_header(&good, &bad, &from, &to);
        assert_inspect_and_serve_refuse(&bad, &["disagrees with its header", &why]);
    }
}

const PARTITIONS: i32 = 3;

/// A topic of `records` values over [`PARTITIONS`] partitions, densely from offset 0; its per
/// partition counts.
async fn dense_topic(tansu: &Tansu, topic: &str, records: usize) -> BTreeMap<i32, u64> {
    tansu.create_topic(topic, PARTITIONS).unwrap();
    let values: Vec<(i64, Vec<u8>)> = (0..records)
        .map(|i| (1_700_000_000_000 + i as i64, vec![(i % 251) as u8; 100]))
        .collect();
    let produced = streamglass_tests::producers::produce_with_rskafka(
        &tansu.addr,
        topic,
        PARTITIONS,
        values,
        5_000,
    )
    .await
    .unwrap();
    assert_eq!(produced.total, records as u64);
    produced
        .partitions
        .iter()
        .map(|(&p, &(count, first, last))| {
            assert_eq!((first, last), (0, count as i64 - 1), "dense from 0");
            (p, count)
        })
        .collect()
}

/// `record` of `topic` into `out`, started; returns once its partial file holds a block or more.
fn start_record(tansu: &Tansu, topic: &str, out: &Path) -> Child {
    let child = Command::new(BIN)
        .args(["record", "--broker", &tansu.addr, "--topic", topic])
        .args(["--timeout-secs", "3", "--out", out.to_str().unwrap()])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start record");
    let partial = partial_path(out);
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::fs::metadata(&partial).map_or(0, |m| m.len()) < 64 << 10 {
        assert!(Instant::now() < deadline, "record wrote nothing in 60 s");
        std::thread::sleep(Duration::from_millis(5));
    }
    child
}

fn leftovers(out: &Path) -> Vec<PathBuf> {
    [
        partial_path(out),
        PathBuf::from(format!("{}.tmp", out.display())),
    ]
    .into_iter()
    .filter(|p| p.exists())
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_keeps_a_whole_recording_that_says_it_stopped_early() {
    let test = "record stopped by Ctrl-C";
    let Some((env, tansu)) = broker(test) else {
        return;
    };
    let topic = "interrupted";
    let produced = dense_topic(&tansu, topic, 600_000).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("stopped.sgrec");
    let child = start_record(&tansu, topic, &out);
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let done = wait_within(child, Duration::from_secs(60)).expect("record ends after Ctrl-C");
    let stderr = String::from_utf8_lossy(&done.stderr);
    let stdout = String::from_utf8_lossy(&done.stdout);
    assert_eq!(done.status.code(), Some(0), "{stderr}");
    assert!(stdout.contains("stopped early"), "{stdout}");
    assert!(leftovers(&out).is_empty(), "{:?}", leftovers(&out));

    // inspect accepts it, and says it stopped early.
    let o = out.to_str().unwrap();
    let inspect = run_within(&["inspect", "--json", o], Duration::from_secs(60)).unwrap();
    assert!(
        inspect.status.success(),
        "{}",
        String::from_utf8_lossy(&inspect.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&inspect.stdout).unwrap();
    assert!(
        summary["stopped_early"]
            .as_str()
            .is_some_and(|r| r.contains("SIGINT")),
        "{summary}"
    );
    let records = summary["records"].as_u64().unwrap();
    let total: u64 = produced.values().sum();
    assert!(records > 0 && records < total, "{records} of {total}");
    let mut sum = 0;
    let mut highs = BTreeMap::new();
    for p in summary["partitions"].as_array().unwrap() {
        let partition = p["partition"].as_i64().unwrap() as i32;
        let (low, high) = (
            p["low_watermark"].as_i64().unwrap(),
            p["high_watermark"].as_i64().unwrap(),
        );
        assert_eq!(low, 0);
        assert_eq!(
            p["target_high_watermark"].as_u64(),
            Some(produced[&partition])
        );
        assert_eq!(p["records"].as_i64(), Some(high - low), "dense: {p}");
        sum += (high - low) as u64;
        highs.insert(partition, high);
    }
    assert_eq!(records, sum);
    let text = run_within(&["inspect", o], Duration::from_secs(60)).unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("STOPPED EARLY: interrupted (SIGINT)"),
        "{text}"
    );

    // Any Avro reader reads it whole.
    let count = Command::new(env.python())
        .args([
            "-c",
            "import sys, fastavro; print(sum(1 for _ in fastavro.reader(open(sys.argv[1], 'rb'))))",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        count.status.success(),
        "{}",
        String::from_utf8_lossy(&count.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&count.stdout).trim(),
        records.to_string()
    );

    // Served: the hello says it stopped early, and `-1000` delivers the newest records that exist,
    // each partition ending at its last record.
    let source = Source::recording(&out).unwrap();
    assert!(
        source.describe().contains("stopped early"),
        "{}",
        source.describe()
    );
    let app = server::router(Arc::new(source), None).unwrap();
    let listener = server::bind("127.0.0.1:0").await.unwrap();
    let addr = server::local_addr(&listener).unwrap();
    tokio::spawn(server::serve(listener, app));
    let drained = streamglass_tests::ws::drain_from(
        &format!("ws://{addr}/ws"),
        "-1000",
        Duration::from_secs(60),
    )
    .await
    .unwrap();
    assert_eq!(drained.records.len() as u64, records.min(1_000));
    let mut last: BTreeMap<i32, i64> = BTreeMap::new();
    for r in &drained.records {
        if let Some(prev) = last.insert(r.partition, r.offset) {
            assert_eq!(r.offset, prev + 1, "partition {} skips", r.partition);
        }
    }
    for (p, offset) in &last {
        assert_eq!(
            offset + 1,
            highs[p],
            "partition {p} ends at its last record"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_lost_mid_way_fails_record_and_leaves_no_file() {
    let test = "record loses its broker";
    let Some((_env, tansu)) = broker(test) else {
        return;
    };
    let topic = "lost";
    dense_topic(&tansu, topic, 600_000).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("lost.sgrec");
    let child = start_record(&tansu, topic, &out);
    drop(tansu);
    let done =
        wait_within(child, Duration::from_secs(120)).expect("record ends without its broker");
    let stderr = String::from_utf8_lossy(&done.stderr);
    assert_eq!(done.status.code(), Some(1), "{stderr}");
    let error = stderr.lines().last().unwrap_or_default();
    assert!(error.starts_with("error: "), "{stderr}");
    assert!(
        error.contains("Kafka") || error.contains("broker"),
        "{stderr}"
    );
    assert!(!out.exists(), "no file at OUT");
    assert!(leftovers(&out).is_empty(), "{:?}", leftovers(&out));
}
