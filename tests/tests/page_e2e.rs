//! The whole path in a real browser: a source → the bridge → WebSocket → WASM → the page, with
//! headless Chromium (Debian's, driven by playwright-core) reading the counts the page shows.
//!
//! Needs the built page (`cargo xtask site`, done by `cargo xtask test`), `npm ci`, and
//! `/usr/bin/chromium`; without them these tests skip, unless `STREAMGLASS_REQUIRE_ALL=1`.
//! Screenshots land in `target/e2e/`.

mod common;
// The second built-in notebook and the grid's times.
#[path = "page_e2e/time_notebook.rs"]
mod time_notebook;
// The console on everyday time and filter queries, and the README's console example.
#[path = "page_e2e/console.rs"]
mod console;
// The grid: header sort, column filters, copy and a row's cells, against the engine's own.
#[path = "page_e2e/grid.rs"]
mod grid;
// The topic browser: a broker's topics listed, and opened as tables with no code written.
#[path = "page_e2e/topic_browser.rs"]
mod topic_browser;
// Downloads from a panel's menu and the console, read by pyarrow and pandas.
#[path = "page_e2e/export.rs"]
mod export;
// Charts (`Plot`): series, decimation, bins and bars against references; panels.
#[path = "page_e2e/charts.rs"]
mod charts;
// Editable notebooks: edit, re-run, reload, export, import, share.
#[path = "page_e2e/notebook_edit.rs"]
mod notebook_edit;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use replay_bridge::kafka::KafkaConfig;
use replay_bridge::live::LivePoint;
use replay_bridge::record;
use replay_bridge::schemas::SchemaSource;
use replay_bridge::server;
use replay_bridge::source::Source;
use replay_bridge::trades::TRADES_TOPIC;
use streamglass_tests::producers::{self, Produced};
use streamglass_tests::tansu::{Tansu, broker};
use streamglass_tests::{browser_site, target_dir, workspace_root, ws};

/// Runs an end-to-end script (`tests/e2e/<script>`) on `url` with `arg`, which saves a screenshot
/// as `target/e2e/<name>.png` and prints one line of JSON; returns that JSON.
async fn run_script(script: &str, url: &str, arg: &str, name: &str) -> serde_json::Value {
    let screenshot = target_dir().join("e2e").join(format!("{name}.png"));
    let out = tokio::process::Command::new("node")
        .arg(workspace_root().join("tests/e2e").join(script))
        .arg(url)
        .arg(arg)
        .arg(&screenshot)
        .current_dir(workspace_root())
        .output()
        .await
        .expect("run node");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{script} failed ({}):\n{stderr}",
        out.status
    );
    assert!(
        screenshot.is_file(),
        "no screenshot at {}",
        screenshot.display()
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("bad JSON ({e}): {stderr}"))
}

/// Opens the feed page on `addr` until it shows `expected` records; returns what it showed.
async fn page_counts(addr: &str, expected: u64, name: &str) -> serde_json::Value {
    let url = format!("http://{addr}/feed.html");
    run_script("page-counts.mjs", &url, &expected.to_string(), name).await
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
    let Some(site) = browser_site("page: generated recording") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trades.sgrec");
    let written = record::generate(&path, 60_000, 3, 2).unwrap();
    // With no --www: the page built into the bridge (the same build as `site`, under xtask).
    let _ = site;
    let addr = common::start_bridge(Source::recording(&path).unwrap(), None).await;
    let expected = common::generated_ranges(&written);
    let shown = page_counts(&addr, 60_000, "generated-recording").await;
    assert_page_shows(&shown, &expected);
}

/// `GET path` with `Accept-Encoding: accept`: the `Content-Encoding` and the body's bytes.
async fn get_encoded(addr: &str, path: &str, accept: &str) -> (Option<String>, Vec<u8>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept-Encoding: {accept}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a header");
    let head = String::from_utf8_lossy(&response[..split]).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    let encoding = head
        .lines()
        .find_map(|l| l.strip_prefix("content-encoding:"))
        .map(|v| v.trim().to_owned());
    (encoding, response[split + 4..].to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_is_served_precompressed() {
    use std::io::Read;
    let Some(site) = browser_site("page: precompressed") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trades.sgrec");
    record::generate(&path, 10, 1, 2).unwrap();
    let wasm = std::fs::read(site.join("pkg/streamglass_wasm_bg.wasm")).unwrap();
    let addr = common::start_bridge(Source::recording(&path).unwrap(), Some(site)).await;
    let file = "/pkg/streamglass_wasm_bg.wasm";

    let (encoding, body) = get_encoded(&addr, file, "identity").await;
    assert_eq!((encoding, body.len()), (None, wasm.len()));

    let (encoding, body) = get_encoded(&addr, file, "gzip").await;
    assert_eq!(encoding.as_deref(), Some("gzip"));
    let mut inflated = Vec::new();
    flate2::read::GzDecoder::new(&body[..])
        .read_to_end(&mut inflated)
        .unwrap();
    assert!(inflated == wasm, "the gzip body inflates to the bundle");
    println!("wasm bundle: {} bytes, {} gzipped", wasm.len(), body.len());

    // What Chromium asks for: brotli, the smallest.
    let (encoding, body) = get_encoded(&addr, file, "gzip, deflate, br, zstd").await;
    assert_eq!(encoding.as_deref(), Some("br"));
    let mut inflated = Vec::new();
    brotli::BrotliDecompress(&mut &body[..], &mut inflated).unwrap();
    assert!(inflated == wasm, "the brotli body inflates to the bundle");

    let (encoding, _) = get_encoded(&addr, "/app.js", "gzip").await;
    assert_eq!(encoding.as_deref(), Some("gzip"));
}

/// The bridge's source for the trades topic of `tansu`, values read with `schemas`.
async fn tansu_trades(tansu: &Tansu, schemas: SchemaSource) -> Source {
    Source::kafka(
        &KafkaConfig::new(&tansu.addr, Duration::from_secs(10)),
        &[TRADES_TOPIC.to_owned()],
        schemas,
    )
    .await
    .unwrap()
}

/// `n` generated trades on the trades topic of `tansu` (3 partitions), produced with rskafka.
async fn produce_trades_with_rskafka(tansu: &Tansu, n: usize, seed: u64) -> Produced {
    producers::produce_with_rskafka(
        &tansu.addr,
        TRADES_TOPIC,
        3,
        common::trade_values(n, seed),
        300,
    )
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_counts_a_tansu_topic_written_by_confluent_kafka() {
    let Some(site) = browser_site("page: tansu confluent-kafka") else {
        return;
    };
    let Some((env, tansu)) = broker("page: tansu confluent-kafka") else {
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
    let source = tansu_trades(&tansu, SchemaSource::Dir(schemas.path().to_owned())).await;
    let addr = common::start_bridge(source, Some(site)).await;
    let shown = page_counts(&addr, produced.total, "tansu-confluent-kafka").await;
    assert_page_shows(&shown, &produced.partitions);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_counts_a_tansu_topic_written_by_rskafka() {
    let Some(site) = browser_site("page: tansu rskafka") else {
        return;
    };
    let Some((_env, tansu)) = broker("page: tansu rskafka") else {
        return;
    };
    tansu.create_topic(TRADES_TOPIC, 3).unwrap();
    let produced: Produced = produce_trades_with_rskafka(&tansu, 10_000, 9).await;
    let source = tansu_trades(&tansu, SchemaSource::None).await;
    let addr = common::start_bridge(source, Some(site)).await;
    let shown = page_counts(&addr, produced.total, "tansu-rskafka").await;
    assert_page_shows(&shown, &produced.partitions);
}

/// `(Exchange, Instrument) → (Trade_Count, Total_Size)` over the newest `n` records in total of a
/// recording, spread over partitions as the seek `-n` is: values decoded with apache-avro.
fn reference_aggregation(path: &Path, n: u64) -> BTreeMap<(String, String), (u64, f64)> {
    use replay_bridge::recording::RecordingReader;
    use streamglass_core::seek::Watermarks;

    let reader = RecordingReader::open(path).unwrap();
    let marks: Vec<Watermarks> = reader
        .meta()
        .partitions
        .iter()
        .map(|p| Watermarks {
            partition: p.partition,
            low: p.low_watermark,
            high: p.high_watermark,
        })
        .collect();
    let starts = newest_starts(&marks, n);
    aggregate(
        reader.map(|r| {
            let r = r.unwrap();
            (r.partition, r.offset, r.value.expect("a value"))
        }),
        &starts,
    )
}

/// Where each partition starts for the newest `n` records in total (the notebook's spread).
fn newest_starts(marks: &[streamglass_core::seek::Watermarks], n: u64) -> BTreeMap<i32, i64> {
    marks
        .iter()
        .zip(streamglass_core::seek::newest_total(marks, n))
        .map(|(m, count)| (m.partition, m.high - count as i64))
        .collect()
}

/// `(Exchange, Instrument) → (Trade_Count, Total_Size)` over the records at or past `starts`,
/// their Confluent-framed values decoded with apache-avro (not with the core's decoder).
fn aggregate(
    records: impl Iterator<Item = (i32, i64, Vec<u8>)>,
    starts: &BTreeMap<i32, i64>,
) -> BTreeMap<(String, String), (u64, f64)> {
    use apache_avro::types::Value as Avro;

    let schema = apache_avro::Schema::parse_str(replay_bridge::trades::TRADE_SCHEMA).unwrap();
    let mut out = BTreeMap::new();
    for (partition, offset, value) in records {
        if offset < starts[&partition] {
            continue;
        }
        let Avro::Record(fields) =
            apache_avro::from_avro_datum(&schema, &mut &value[5..], None).unwrap()
        else {
            panic!("not a record");
        };
        let field = |name: &str| {
            fields
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
                .unwrap()
        };
        let (Avro::String(exchange), Avro::String(instrument), Avro::Double(size)) =
            (field("Exchange"), field("Instrument"), field("Size"))
        else {
            panic!("unexpected field types");
        };
        let entry = out.entry((exchange, instrument)).or_insert((0u64, 0.0f64));
        entry.0 += 1;
        entry.1 += size;
    }
    out
}

/// Rows of a table the page read, as `(Exchange, Instrument) → (count, sum)`.
fn shown_aggregation(table: &serde_json::Value) -> BTreeMap<(String, String), (u64, f64)> {
    let columns: Vec<&str> = table["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let at = |name: &str| {
        columns
            .iter()
            .position(|c| *c == name)
            .unwrap_or_else(|| panic!("no {name} in {columns:?}"))
    };
    let (e, i, c, s) = (
        at("Exchange"),
        at("Instrument"),
        at("Trade_Count"),
        at("Total_Size"),
    );
    table["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                (
                    r[e].as_str().unwrap().to_owned(),
                    r[i].as_str().unwrap().to_owned(),
                ),
                (r[c].as_u64().unwrap(), r[s].as_f64().unwrap()),
            )
        })
        .collect()
}

fn assert_same_aggregation(
    got: &BTreeMap<(String, String), (u64, f64)>,
    want: &BTreeMap<(String, String), (u64, f64)>,
    what: &str,
) {
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>(),
        "{what}: groups"
    );
    for (key, (count, sum)) in want {
        let (got_count, got_sum) = got[key];
        assert_eq!(got_count, *count, "{what} {key:?}: Trade_Count");
        assert!(
            (got_sum - sum).abs() <= 1e-9 * sum.abs().max(1.0),
            "{what} {key:?}: Total_Size {got_sum} != {sum}"
        );
    }
}

/// The seed notebook, cell by cell, in the page: from a seek `size_offset` back, both
/// aggregations equal an independent reference, every difference is zero, the append count is
/// `size_offset`, the stream table holds little, and BTC rows are IVORY.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_notebook_runs_in_the_page_with_identical_aggregations() {
    let Some(site) = browser_site("page: the notebook") else {
        return;
    };
    const SIZE_OFFSET: u64 = 100_000;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trades.sgrec");
    record::generate(&path, 250_000, 3, 7).unwrap();
    let addr = common::start_bridge(Source::recording(&path).unwrap(), Some(site)).await;
    let url = format!("http://{addr}/");
    let shown = run_script("notebook.mjs", &url, &SIZE_OFFSET.to_string(), "notebook").await;
    let want = reference_aggregation(&path, SIZE_OFFSET);
    assert_notebook_shows(&shown, &want, SIZE_OFFSET, 0);
}

/// What the notebook must show after a seek `size_offset` back and `later` records produced
/// after it ran: both aggregations equal `want`, every difference is zero, the append count is
/// `size_offset + later`, the two consumers share one feed (each record received once), the
/// stream table holds little, and BTC rows are IVORY.
fn assert_notebook_shows(
    shown: &serde_json::Value,
    want: &BTreeMap<(String, String), (u64, f64)>,
    size_offset: u64,
    later: u64,
) {
    let (size_offset_plus_later, latest_records) = (size_offset + later, 3 + later);
    let tables = &shown["tables"];

    assert_same_aggregation(
        &shown_aggregation(&tables["agg_append"]),
        want,
        "agg_append",
    );
    assert_same_aggregation(
        &shown_aggregation(&tables["agg_stream"]),
        want,
        "agg_stream",
    );

    let diff = &tables["diff_table"];
    let columns: Vec<&str> = diff["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let diffs: Vec<usize> = ["Diff_Count", "Diff_Size"]
        .iter()
        .map(|d| columns.iter().position(|c| c == d).unwrap())
        .collect();
    let rows = diff["rows"].as_array().unwrap();
    assert_eq!(rows.len(), want.len(), "diff_table has every group");
    for row in rows {
        for &d in &diffs {
            assert_eq!(
                row[d].as_f64(),
                Some(0.0),
                "a difference is not zero: {row}"
            );
        }
    }

    // The append count is every record from the seek on (a recording at max pace has no later
    // ones); the stream count row is gone once cycles bring no rows, as Deephaven's is.
    let counts = tables["row_count_merge"]["rows"].as_array().unwrap();
    let append = counts
        .iter()
        .find(|r| r[1] == "append")
        .expect("an append row");
    assert_eq!(
        append[0].as_u64(),
        Some(size_offset_plus_later),
        "{counts:?}"
    );

    // The append and stream tables share one feed: the records from the seek cross the socket
    // and are decoded once. The other feed is `latest`'s (one record a partition).
    let feeds = shown["connection"]["consumers"].as_array().unwrap();
    assert_eq!(feeds.len(), 2, "two feeds: {feeds:?}");
    let shared = feeds
        .iter()
        .find(|f| f["tables"].as_array().map(Vec::len) == Some(2))
        .unwrap_or_else(|| panic!("the append and stream tables share a feed: {feeds:?}"));
    assert_eq!(
        shared["records"].as_u64(),
        Some(size_offset_plus_later),
        "{shared}"
    );
    assert_eq!(
        shown["connection"]["records"].as_u64(),
        Some(size_offset_plus_later + latest_records),
        "each record is received once"
    );

    // Memory: the append table holds every row; the stream table at most one cycle.
    let stats = &shown["stats"];
    let append_bytes = stats["trades_append"]["bytesUsed"].as_f64().unwrap();
    let stream_bytes = stats["trades_stream"]["bytesUsed"].as_f64().unwrap();
    assert!(
        append_bytes > 40.0 * size_offset as f64,
        "append holds its rows: {stats}"
    );
    assert!(
        stream_bytes < append_bytes / 4.0,
        "the stream table holds one cycle: {stats}"
    );

    // BTC instruments carry IVORY, the others nothing.
    let formats = shown["renderedFormats"].as_array().unwrap();
    assert!(!formats.is_empty(), "no rendered Instrument cells");
    for f in formats {
        let (instrument, format) = (f[0].as_str().unwrap(), f[1].as_str().unwrap());
        assert_eq!(
            format == "IVORY",
            instrument.starts_with("BTC"),
            "{instrument}: {format:?}"
        );
    }
    assert_eq!(
        shown["errors"].as_array().map(Vec::len),
        Some(0),
        "decode errors: {shown}"
    );

    // What the user reads: in diff_table, each side of a row reads the same and every
    // difference reads 0; no header or cell is cut off, and each grid fits its panel.
    let rendered = shown["rendered"].as_object().unwrap();
    let diff_rows = rendered["diff_table"]["rows"].as_array().unwrap();
    assert!(diff_rows.len() >= 5, "diff_table rows drawn: {diff_rows:?}");
    // A double column shows one number of decimals, so its digits line up.
    let decimals: BTreeSet<usize> = diff_rows
        .iter()
        .map(|row| {
            let text = row["Total_Size"].as_str().unwrap_or_default();
            text.find('.').map_or(0, |point| text.len() - point - 1)
        })
        .collect();
    assert_eq!(decimals.len(), 1, "Total_Size decimals vary: {diff_rows:?}");
    for row in diff_rows {
        assert!(
            !row["Total_Size"].as_str().unwrap_or_default().is_empty(),
            "{row}"
        );
        assert_eq!(row["Trade_Count"], row["Trade_Count_Stream"], "{row}");
        assert_eq!(row["Total_Size"], row["Total_Size_Stream"], "{row}");
        assert_eq!(
            (&row["Diff_Count"], &row["Diff_Size"]),
            (&"0".into(), &"0".into()),
            "{row}"
        );
    }
    for (name, grid) in rendered {
        assert_eq!(
            grid["overflowing"],
            serde_json::json!([]),
            "{name}: text cut off"
        );
        assert!(
            grid["tableWidth"].as_f64().unwrap() <= grid["panelWidth"].as_f64().unwrap() + 1.0,
            "{name} is wider than its panel: {grid}"
        );
    }
}

/// A recording of `history` trades plus `future_secs` seconds more, generated as the demo's is
/// (seeded bursts), served as live from the end of the history at speed 1.
async fn live_demo_bridge(dir: &Path, history: u64, future_secs: u64, site: PathBuf) -> String {
    let path = dir.join("live.sgrec");
    record::generate_live(&path, history, future_secs, 3, 1).unwrap();
    let point: LivePoint = format!("end-{future_secs}s").parse().unwrap();
    let source = Source::recording_live(&path, point, 1.0).unwrap();
    common::start_bridge(source, Some(site)).await
}

/// The notebook against a recording replayed as live, as `cargo xtask demo` serves it: during
/// the catch-up a cycle's stream count exceeds 100k; once caught up, live trades trickle in,
/// fewer than 1,000 a cycle, while the append count keeps growing. Then panels: a closed
/// panel's table stays live and reopens from the Panels menu; a consumer added later joins the
/// notebook's feed and starts from its rows; dropping tables from the console lowers the
/// session's bytes and removes them from the menu.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_notebook_runs_live_and_its_panels_close_reopen_and_drop() {
    let Some(site) = browser_site("page: the live notebook") else {
        return;
    };
    const SIZE_OFFSET: u64 = 250_000;
    let dir = tempfile::tempdir().unwrap();
    let addr = live_demo_bridge(dir.path(), 300_000, 900, site).await;
    let url = format!("http://{addr}/");

    let shown = run_script("live.mjs", &url, &SIZE_OFFSET.to_string(), "live").await;
    let catch_up: Vec<u64> = shown["catchUp"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_u64().unwrap())
        .collect();
    assert!(
        catch_up.iter().any(|&n| n > 100_000),
        "no cycle of the catch-up brought more than 100k rows: {catch_up:?}"
    );
    let live = shown["live"].as_array().unwrap();
    let count = |i: usize, kind: &str| live[i][kind].as_u64().unwrap();
    assert!(live.len() > 20, "{shown}");
    assert!(
        live.iter().all(|s| s["stream"].as_u64().unwrap() < 1_000),
        "after the catch-up a cycle brings fewer than 1,000 rows: {live:?}"
    );
    assert!(
        live.iter().any(|s| s["stream"].as_u64().unwrap() > 0),
        "live trades arrive: {live:?}"
    );
    assert!(
        count(live.len() - 1, "append") > count(0, "append"),
        "the append count grows: {live:?}"
    );
    assert!(count(0, "append") >= SIZE_OFFSET);

    let shown = run_script("panels.mjs", &url, &SIZE_OFFSET.to_string(), "panels").await;
    let (closed, joined, reopened, dropped) = (
        &shown["closed"],
        &shown["joined"],
        &shown["reopened"],
        &shown["dropped"],
    );
    assert_eq!(closed["panelShown"], false, "{closed}");
    assert_eq!(closed["menu"]["agg_stream"], false, "{closed}");
    assert_eq!(closed["menu"]["agg_append"], true, "{closed}");

    // The late consumer joined the shared feed and holds the rows the append table holds (the
    // two may differ by the live records of one frame).
    let rows = |name: &str| joined["stats"][name]["rows"].as_u64().unwrap();
    assert!(rows("trades_append") >= SIZE_OFFSET, "{joined}");
    assert!(
        rows("late").abs_diff(rows("trades_append")) < 1_000,
        "late starts from the append table's rows: {joined}"
    );
    let feeds = joined["connection"]["consumers"].as_array().unwrap();
    assert_eq!(feeds.len(), 2, "no new subscription for late: {feeds:?}");
    assert!(
        feeds
            .iter()
            .any(|f| f["tables"].as_array().map(Vec::len) == Some(3)),
        "append, stream and late share a feed: {feeds:?}"
    );

    // While its panel was closed, agg_stream kept counting; reopened, it agrees with agg_append.
    assert_eq!(reopened["menu"]["agg_stream"], true, "{reopened}");
    let trades = |v: &serde_json::Value| v["tradeCount"].as_u64().unwrap();
    assert!(
        trades(reopened) > trades(closed),
        "agg_stream stayed live: {closed} then {reopened}"
    );
    assert!(trades(reopened) >= SIZE_OFFSET);

    // Dropping late and big gives their bytes back, and the menu forgets them.
    let bytes = |v: &serde_json::Value| v["bytesUsed"].as_f64().unwrap();
    let held = bytes(&joined["stats"]["late"]) + bytes(&joined["stats"]["big"]);
    let freed = bytes(&joined["session"]) - bytes(&dropped["session"]);
    assert!(
        freed >= 0.9 * held,
        "dropping freed {freed} of the {held} bytes late and big held"
    );
    let menu: Vec<&str> = dropped["menu"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert!(
        !menu.contains(&"late") && !menu.contains(&"big") && menu.contains(&"agg_stream"),
        "{menu:?}"
    );

    // Bare tables from the console are named afresh: a dropped table frees no name, so the
    // third does not replace the second.
    let bare = &shown["bare"];
    assert_eq!(
        bare["names"],
        serde_json::json!(["table_1", "table_2", "table_3"]),
        "{bare}"
    );
    assert_eq!(bare["sizes"], serde_json::json!([6, 7]), "{bare}");
}

/// A bridge serving a recording and a Tansu topic at once: `/sources` lists both (the recording
/// first, the default), `/ws?source=NAME` streams the one named (an unknown name is a 404), and
/// the page's Source selector offers both and connects to the one in its URL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bridge_offers_a_recording_and_a_broker_and_the_page_picks_one() {
    let Some(site) = browser_site("page: two sources") else {
        return;
    };
    let Some((_env, tansu)) = broker("page: two sources") else {
        return;
    };
    tansu.create_topic(TRADES_TOPIC, 3).unwrap();
    let produced: Produced = produce_trades_with_rskafka(&tansu, 2_000, 4).await;
    let kafka = tansu_trades(&tansu, SchemaSource::None).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trades.sgrec");
    record::generate(&path, 500, 1, 3).unwrap();
    let recording = Source::recording(&path).unwrap();
    let app = server::router_offering(
        vec![
            server::Offered::named(Arc::new(recording)),
            server::Offered::named(Arc::new(kafka)),
        ],
        Some(site),
        server::ServeOptions::default(),
    )
    .unwrap();
    let listener = server::bind("127.0.0.1:0").await.unwrap();
    let addr = server::local_addr(&listener).unwrap().to_string();
    tokio::spawn(server::serve(listener, app));

    let (status, body) = common::http_get(&addr, "/sources", None).await;
    assert_eq!(status, 200, "{body}");
    let offered: serde_json::Value = serde_json::from_str(&body).unwrap();
    let names: Vec<&str> = offered
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["recording", "kafka"]);
    assert!(
        offered[1]["description"]
            .as_str()
            .unwrap()
            .contains(&tansu.addr)
    );

    let timeout = Duration::from_secs(60);
    let drained = |query: &'static str| {
        let url = format!("ws://{addr}/ws{query}");
        async move { ws::drain(&url, timeout).await.unwrap().records.len() }
    };
    assert_eq!(drained("").await, 500, "the default is the recording");
    assert_eq!(drained("?source=recording").await, 500);
    assert_eq!(drained("?source=kafka").await as u64, produced.total);
    let refused = tokio_tungstenite::connect_async(format!("ws://{addr}/ws?source=nope")).await;
    match refused {
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => assert_eq!(r.status(), 404),
        other => panic!("an unknown source is refused: {:?}", other.map(|_| ())),
    }

    let url = format!("http://{addr}/");
    let shown = run_script("sources.mjs", &url, "kafka", "sources").await;
    let values: Vec<&str> = shown["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["value"].as_str().unwrap())
        .collect();
    assert_eq!(values, ["recording", "kafka"], "{shown}");
    assert_eq!(shown["selected"], "kafka", "{shown}");
    assert!(
        shown["url"].as_str().unwrap().ends_with("/ws?source=kafka"),
        "{shown}"
    );
}

/// The seed notebook against a Tansu topic written by an independent producer (confluent-kafka,
/// values encoded by fastavro): from a seek `size_offset` back, both aggregations equal a
/// reference computed with apache-avro from the records on the topic, every difference is zero,
/// and once more records are produced the append count is `size_offset` plus those.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_notebook_runs_against_a_tansu_topic_and_counts_later_records() {
    use streamglass_core::seek::Watermarks;
    use tokio::io::{AsyncBufReadExt, BufReader};

    let Some(site) = browser_site("page: the notebook on tansu") else {
        return;
    };
    let Some((env, tansu)) = broker("page: the notebook on tansu") else {
        return;
    };
    const SIZE_OFFSET: u64 = 12_000;
    const LATER: u64 = 2_000;
    tansu.create_topic(TRADES_TOPIC, 3).unwrap();
    let schemas = common::schema_dir();
    let schema = schemas.path().join("1-trade.avsc");
    let first = producers::produce_with_confluent_kafka(
        &env,
        &tansu.addr,
        TRADES_TOPIC,
        20_000,
        &schema,
        1,
    )
    .unwrap();
    let source = tansu_trades(&tansu, SchemaSource::Dir(schemas.path().to_owned())).await;
    let addr = common::start_bridge(source, Some(site)).await;

    // The notebook runs; once it settles, more records are produced; it reports once the append
    // table holds them too.
    let screenshot = target_dir().join("e2e").join("notebook-tansu.png");
    let mut child = tokio::process::Command::new("node")
        .arg(workspace_root().join("tests/e2e/notebook.mjs"))
        .arg(format!("http://{addr}/"))
        .arg(SIZE_OFFSET.to_string())
        .arg(&screenshot)
        .env("E2E_APPEND_TARGET", (SIZE_OFFSET + LATER).to_string())
        // As from a bridge on another machine: the records come snappy-compressed (over
        // loopback the page asks for none).
        .env("E2E_QUERY", "&compression=snappy")
        .current_dir(workspace_root())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("run node");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let ready: serde_json::Value =
        serde_json::from_str(&lines.next_line().await.unwrap().expect("a ready line")).unwrap();
    assert_eq!(ready["append"].as_u64(), Some(SIZE_OFFSET), "{ready}");
    let (env_path, addr_tansu) = (schema.clone(), tansu.addr.clone());
    let later = tokio::task::spawn_blocking(move || {
        producers::produce_with_confluent_kafka(
            &env,
            &addr_tansu,
            TRADES_TOPIC,
            LATER,
            &env_path,
            1,
        )
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(later.total, LATER);
    let last = lines.next_line().await.unwrap().expect("the report");
    assert!(child.wait().await.unwrap().success(), "notebook.mjs failed");
    let shown: serde_json::Value = serde_json::from_str(&last).unwrap();

    // The reference: every record on the topic, from the starts the seek had before the later
    // records, decoded with apache-avro.
    // A partition the first records missed (confluent-kafka's sticky partitioner may leave one
    // empty) was empty when the notebook sought: it starts at 0.
    let marks: Vec<Watermarks> = (0..3)
        .map(|partition| match first.partitions.get(&partition) {
            Some(&(_, low, last)) => Watermarks {
                partition,
                low,
                high: last + 1,
            },
            None => Watermarks {
                partition,
                low: 0,
                high: 0,
            },
        })
        .collect();
    let starts = newest_starts(&marks, SIZE_OFFSET);
    let drained = ws::drain(&format!("ws://{addr}/ws"), Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(drained.records.len() as u64, first.total + LATER);
    let want = aggregate(
        drained
            .records
            .into_iter()
            .map(|r| (r.partition, r.offset, r.value.expect("a value"))),
        &starts,
    );
    assert_notebook_shows(&shown, &want, SIZE_OFFSET, LATER);
}

/// A bridge closes a connection that holds no subscription for its idle timeout: once the
/// notebook's feeds of a recording have ended, the page says the connection closed and why, and
/// a later `consumeToTable` in the console opens a new connection and fills its table.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_connection_closed_by_the_bridge_is_shown_and_reopened() {
    let Some(site) = browser_site("page: idle close") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trades.sgrec");
    record::generate(&path, 20_000, 3, 9).unwrap();
    let options = server::ServeOptions {
        limits: server::Limits {
            idle_timeout: std::time::Duration::from_secs(2),
            ..server::Limits::default()
        },
        ..server::ServeOptions::default()
    };
    let addr = common::serve(Source::recording(&path).unwrap(), Some(site), options).await;
    let shown = run_script("idle.mjs", &format!("http://{addr}/"), "10000", "idle").await;
    assert_eq!(shown["status"], "closed", "{shown}");
    let note = shown["note"].as_str().unwrap_or_default();
    assert!(
        note.contains("idle: no subscription and no message for 2 s"),
        "{shown}"
    );
    assert_eq!(shown["rows"].as_u64(), Some(20_000), "{shown}");
    assert!(shown["reconnected"]["closed"].is_null(), "{shown}");
}
