//! The page's second built-in notebook ("Time on live trades", `?notebook=ohlc`) and its time
//! display, checked against references computed here, independently of the engine's operators.
//!
//! The notebook's tables are read from the page at one cycle (one turn of the worker) with the
//! session's clock just before that cycle and at the read, which bound what `now()` read in it;
//! its source table's rows are checked against the recording
//! (values decoded with apache-avro), and the derived tables are recomputed from those rows:
//! 1-minute OHLC bars of BTC per exchange, the trades of the 5 minutes before the clock (exactly:
//! every trade at or after one cutoff within the bounds, none before it), and the
//! 3 largest trades by Size per instrument (a stable sort, as Deephaven's). The rolling windows
//! (`updateBy`) and the cross-exchange as-of join are checked by pandas
//! (`tests/python/check_rolling_notebook.py`), from the same rows.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use chrono::{DateTime, Datelike, FixedOffset};
use streamglass_tests::{python, skip_or_fail, workspace_root};

use super::{live_demo_bridge, run_script};
use streamglass_tests::browser_site;

const MINUTE_NS: i64 = 60_000_000_000;
const WINDOW_NS: i64 = 5 * MINUTE_NS;
const BTC: [&str; 2] = ["BTC/USD", "BTC/USDT"];

/// A row of the notebook's `trades`, or of a table with its columns.
#[derive(Debug, Clone, PartialEq)]
struct Trade {
    partition: i64,
    offset: i64,
    /// KafkaTimestamp, nanoseconds.
    ts: i64,
    /// Timestamp (the trade's own time), nanoseconds.
    trade_ts: i64,
    exchange: String,
    instrument: String,
    price: f64,
    size: f64,
}

/// A table as the page read it: `{columns, types, rows}`, timestamps as decimal strings.
pub(super) struct Shown<'a> {
    pub(super) columns: Vec<&'a str>,
    pub(super) rows: &'a [serde_json::Value],
}

impl<'a> Shown<'a> {
    pub(super) fn of(table: &'a serde_json::Value, name: &str) -> Self {
        let columns = table["columns"]
            .as_array()
            .unwrap_or_else(|| panic!("{name} was not read: {table}"))
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        let rows = table["rows"].as_array().unwrap();
        Shown { columns, rows }
    }

    pub(super) fn at(&self, column: &str) -> usize {
        self.columns
            .iter()
            .position(|c| *c == column)
            .unwrap_or_else(|| panic!("no {column} in {:?}", self.columns))
    }

    /// A long, timestamp or int cell: a number, or a BigInt as a decimal string.
    pub(super) fn long(&self, row: usize, column: &str) -> i64 {
        let v = &self.rows[row][self.at(column)];
        v.as_i64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            .unwrap_or_else(|| panic!("{column} of row {row} is not a long: {v}"))
    }

    pub(super) fn double(&self, row: usize, column: &str) -> f64 {
        let v = &self.rows[row][self.at(column)];
        v.as_f64()
            .unwrap_or_else(|| panic!("{column} of row {row} is not a double: {v}"))
    }

    pub(super) fn string(&self, row: usize, column: &str) -> String {
        let v = &self.rows[row][self.at(column)];
        v.as_str()
            .unwrap_or_else(|| panic!("{column} of row {row} is not a string: {v}"))
            .to_owned()
    }

    fn trades(&self) -> Vec<Trade> {
        (0..self.rows.len())
            .map(|r| Trade {
                partition: self.long(r, "KafkaPartition"),
                offset: self.long(r, "KafkaOffset"),
                ts: self.long(r, "KafkaTimestamp"),
                trade_ts: self.long(r, "Timestamp"),
                exchange: self.string(r, "Exchange"),
                instrument: self.string(r, "Instrument"),
                price: self.double(r, "Price"),
                size: self.double(r, "Size"),
            })
            .collect()
    }
}

/// Every trade of the recording by (partition, offset), its value decoded with apache-avro.
fn recorded_trades(path: &Path) -> HashMap<(i64, i64), Trade> {
    use apache_avro::types::Value as Avro;
    use replay_bridge::recording::RecordingReader;

    let schema = apache_avro::Schema::parse_str(replay_bridge::trades::TRADE_SCHEMA).unwrap();
    let mut out = HashMap::new();
    for record in RecordingReader::open(path).unwrap() {
        let r = record.unwrap();
        let value = r.value.expect("a value");
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
        let Avro::Union(_, micros) = field("Timestamp") else {
            panic!("Timestamp is a union");
        };
        let (
            Avro::TimestampMicros(micros),
            Avro::String(exchange),
            Avro::String(instrument),
            Avro::Double(price),
            Avro::Double(size),
        ) = (
            *micros,
            field("Exchange"),
            field("Instrument"),
            field("Price"),
            field("Size"),
        )
        else {
            panic!("unexpected field types");
        };
        let trade = Trade {
            partition: i64::from(r.partition),
            offset: r.offset,
            ts: r.timestamp_ms * 1_000_000,
            trade_ts: micros * 1_000,
            exchange,
            instrument,
            price,
            size,
        };
        out.insert((trade.partition, trade.offset), trade);
    }
    out
}

/// (Exchange, Instrument, Minute) → [Open, High, Low, Close, Volume].
type Bars = BTreeMap<(String, String, i64), [f64; 5]>;

/// The BTC bars from scratch: first and last by the table's row order.
fn reference_bars(trades: &[Trade]) -> Bars {
    let mut bars = Bars::new();
    for t in trades
        .iter()
        .filter(|t| BTC.contains(&t.instrument.as_str()))
    {
        let minute = t.ts.div_euclid(MINUTE_NS) * MINUTE_NS;
        let key = (t.exchange.clone(), t.instrument.clone(), minute);
        let bar = bars
            .entry(key)
            .or_insert([t.price, t.price, t.price, t.price, 0.0]);
        bar[1] = bar[1].max(t.price);
        bar[2] = bar[2].min(t.price);
        bar[3] = t.price;
        bar[4] += t.size;
    }
    bars
}

fn shown_bars(table: &Shown) -> Bars {
    (0..table.rows.len())
        .map(|r| {
            (
                (
                    table.string(r, "Exchange"),
                    table.string(r, "Instrument"),
                    table.long(r, "Minute"),
                ),
                ["Open", "High", "Low", "Close", "Volume"].map(|c| table.double(r, c)),
            )
        })
        .collect()
}

/// The 3 largest trades by Size of each instrument, as (partition, offset): a stable sort by
/// Size descending, then the first 3 rows of each instrument.
fn reference_top(trades: &[Trade]) -> BTreeMap<String, Vec<(i64, i64)>> {
    let mut order: Vec<&Trade> = trades.iter().collect();
    order.sort_by(|a, b| b.size.total_cmp(&a.size));
    let mut top: BTreeMap<String, Vec<(i64, i64)>> = BTreeMap::new();
    for t in order {
        let kept = top.entry(t.instrument.clone()).or_default();
        if kept.len() < 3 {
            kept.push((t.partition, t.offset));
        }
    }
    top
}

fn keys(trades: &[Trade]) -> Vec<(i64, i64)> {
    trades.iter().map(|t| (t.partition, t.offset)).collect()
}

/// The snapshot's clock bounds, nanoseconds: what `now()` read in the cycle its tables are at
/// lies between the session's clock just before that cycle ran and at the read (it never goes
/// back).
fn clock(snapshot: &serde_json::Value) -> (i64, i64) {
    let at = |name: &str| -> i64 {
        snapshot["clock"][name]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no session clock in the snapshot: {}", snapshot["clock"]))
    };
    let (before, read) = (at("atCycle"), at("atRead"));
    assert!(before <= read, "the clock went back: {}", snapshot["clock"]);
    (before, read)
}

/// The snapshot's `rolling` and `spread` against pandas computing them from its `trades`.
fn check_with_pandas(snapshot: &serde_json::Value, what: &str) {
    let env = match python::env() {
        Ok(env) => env,
        Err(reason) => return skip_or_fail("the time notebook against pandas", &reason),
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("snapshot.json");
    std::fs::write(&path, snapshot.to_string()).unwrap();
    let out = std::process::Command::new(env.python())
        .arg(workspace_root().join("tests/python/check_rolling_notebook.py"))
        .arg(&path)
        .output()
        .expect("run python");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{what}: pandas disagrees: {said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_str(said.trim()).expect("the checker's JSON");
    for table in ["rolling", "spread"] {
        assert!(
            report["checked"][table].as_u64().unwrap_or(0) > 0,
            "{what}: pandas checked no row of {table}: {said}"
        );
    }
}

/// Checks one snapshot's tables against the references; returns its trades and its window.
fn check_snapshot(
    snapshot: &serde_json::Value,
    recorded: &HashMap<(i64, i64), Trade>,
    history: u64,
    what: &str,
) -> (Vec<Trade>, Vec<(i64, i64)>) {
    let tables = &snapshot["tables"];
    let trades = Shown::of(&tables["trades"], "trades").trades();
    assert!(
        trades.len() as u64 > history,
        "{what}: trades holds the history and live trades: {}",
        trades.len()
    );
    // The source table holds each record once, as recorded.
    let distinct: BTreeSet<(i64, i64)> = keys(&trades).into_iter().collect();
    assert_eq!(distinct.len(), trades.len(), "{what}: a record twice");
    for t in &trades {
        assert_eq!(
            Some(t),
            recorded.get(&(t.partition, t.offset)),
            "{what}: a row of trades differs from the recording"
        );
    }

    let want = reference_bars(&trades);
    let got = shown_bars(&Shown::of(&tables["btc_bars"], "btc_bars"));
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>(),
        "{what}: btc_bars' (Exchange, Instrument, Minute)"
    );
    assert!(
        want.keys().any(|k| k.1 == BTC[0]) && want.keys().any(|k| k.1 == BTC[1]),
        "{what}: bars of both BTC instruments"
    );
    let minutes: BTreeSet<i64> = want.keys().map(|k| k.2).collect();
    assert!(minutes.len() > 5, "{what}: bars of several minutes");
    for (key, bar) in &want {
        let shown = got[key];
        assert_eq!(
            shown[..4],
            bar[..4],
            "{what} {key:?}: Open, High, Low, Close"
        );
        assert!(
            (shown[4] - bar[4]).abs() <= 1e-9 * bar[4].abs().max(1.0),
            "{what} {key:?}: Volume {} != {}",
            shown[4],
            bar[4]
        );
    }

    // The window is the trades at or after now() - 5 min in the cycle, in the table's order:
    // {t : t.ts >= c} for one cutoff c between the clock's bounds less 5 minutes.
    let (before, read) = clock(snapshot);
    let newest = trades.iter().map(|t| t.ts).max().unwrap();
    // The session's clock follows the data (wasm/src/api/clock.rs): a frame vouches for its newest
    // record time but one, and a partition for the older of its last two frames, so the clock may
    // trail the newest trade by a frame's span of record time (well under a second in this replay).
    const LAG_NS: i64 = 2_000_000_000;
    assert!(
        before >= newest - LAG_NS,
        "{what}: the clock ({before}) follows the live edge, within {LAG_NS} ns of the newest trade ({newest})"
    );
    let (low, high) = (before - WINDOW_NS, read - WINDOW_NS);
    let window = Shown::of(&tables["last_5_minutes"], "last_5_minutes").trades();
    let inside: BTreeSet<(i64, i64)> = keys(&window).into_iter().collect();
    let in_order: Vec<&Trade> = trades
        .iter()
        .filter(|t| inside.contains(&(t.partition, t.offset)))
        .collect();
    assert_eq!(
        window.iter().collect::<Vec<_>>(),
        in_order,
        "{what}: last_5_minutes holds rows of trades, once each, in its order"
    );
    for t in &trades {
        let kept = inside.contains(&(t.partition, t.offset));
        assert!(
            kept || t.ts < high,
            "{what}: a trade of the last 5 minutes (cutoff {low}..={high}) is not in the window: {t:?}"
        );
        assert!(
            !kept || t.ts >= low,
            "{what}: a trade older than 5 minutes (cutoff {low}..={high}) is in the window: {t:?}"
        );
    }
    let oldest_in = window.iter().map(|t| t.ts).min();
    let newest_out = trades
        .iter()
        .filter(|t| !inside.contains(&(t.partition, t.offset)))
        .map(|t| t.ts)
        .max();
    let (Some(oldest_in), Some(newest_out)) = (oldest_in, newest_out) else {
        panic!(
            "{what}: the window holds some trades, not all ({} of {})",
            window.len(),
            trades.len()
        );
    };
    assert!(
        newest_out < oldest_in,
        "{what}: a trade at {newest_out} is out of the window, one at {oldest_in} in it"
    );

    let want = reference_top(&trades);
    let shown = Shown::of(&tables["top_trades"], "top_trades");
    let mut got: BTreeMap<String, Vec<(i64, i64)>> = BTreeMap::new();
    for t in shown.trades() {
        got.entry(t.instrument.clone())
            .or_default()
            .push((t.partition, t.offset));
    }
    assert_eq!(got, want, "{what}: top_trades");
    let window = keys(&window);
    (trades, window)
}

/// The fewest digits of the second (0, 3, 6, 9) that show every value of `nanos` exactly.
fn digits(nanos: impl Iterator<Item = i64>) -> u32 {
    nanos
        .map(|n| match n.rem_euclid(1_000_000_000) {
            0 => 0,
            r if r % 1_000_000 == 0 => 3,
            r if r % 1_000 == 0 => 6,
            _ => 9,
        })
        .max()
        .unwrap_or(0)
}

/// `nanos` as the grid must show it at `digits`, at `offset` from UTC named `zone`.
fn expected_time(nanos: i64, digits: u32, offset: &FixedOffset, zone: &str) -> String {
    let utc = DateTime::from_timestamp_nanos(nanos);
    let local = utc.with_timezone(offset);
    let fraction = match digits {
        0 => String::new(),
        d => format!(
            ".{}",
            &format!("{:09}", nanos.rem_euclid(1_000_000_000))[..d as usize]
        ),
    };
    format!("{}{fraction} {zone}", local.format("%Y-%m-%d %H:%M:%S"))
}

/// The grid's visible rows of `panel` show `column` as the table's rows (by index) do in `zone`.
fn assert_grid_times(
    rendered: &serde_json::Value,
    panel: &str,
    column: &str,
    values: &[i64],
    offset: &FixedOffset,
    zone: &str,
) {
    let rows = rendered[panel].as_array().unwrap();
    assert!(rows.len() >= 3, "{panel}: rows drawn: {rows:?}");
    let shown = &values[..rows.len()];
    let d = digits(shown.iter().copied());
    for (row, &value) in rows.iter().zip(shown) {
        // The demo's trades are of January 2026: New York is on EST (UTC-5) then.
        assert_eq!(DateTime::from_timestamp_nanos(value).month(), 1);
        assert_eq!(
            row[column].as_str(),
            Some(expected_time(value, d, offset, zone).as_str()),
            "{panel}.{column}: {row}"
        );
    }
}

/// The second built-in notebook, picked in the Notebook selector as a user would, against a
/// recording replayed as live as `cargo xtask demo` serves it: its tables equal references
/// computed here from its source table's rows (themselves checked against the recording), at
/// one cycle, twice; between the two the window of the last 5 minutes moved with the live edge.
/// Its grids show timestamps in UTC at their precision, then in the zone picked on the page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_time_notebook_matches_a_reference_on_a_live_replay() {
    let Some(site) = browser_site("page: the time notebook") else {
        return;
    };
    // 100k trades of history span about 7 minutes of record time: more than the window.
    const HISTORY: u64 = 100_000;
    let dir = tempfile::tempdir().unwrap();
    let addr = live_demo_bridge(dir.path(), HISTORY, 600, site).await;
    let url = format!("http://{addr}/");
    let shown = run_script("ohlc.mjs", &url, &HISTORY.to_string(), "ohlc").await;

    // The selector ran the notebook, and the URL remembers it.
    assert!(
        shown["url"].as_str().unwrap().contains("notebook=ohlc"),
        "{}",
        shown["url"]
    );
    assert_eq!(shown["selected"], "ohlc");
    assert!(
        shown["expects"]
            .as_str()
            .unwrap()
            .contains(replay_bridge::trades::TRADES_TOPIC),
        "{}",
        shown["expects"]
    );

    let recorded = recorded_trades(&dir.path().join("live.sgrec"));
    let (_, first) = check_snapshot(&shown["first"], &recorded, HISTORY, "first");
    let (trades, second) = check_snapshot(&shown["second"], &recorded, HISTORY, "second");
    check_with_pandas(&shown["first"], "first");
    check_with_pandas(&shown["second"], "second");

    // The window moved with the live edge: trades aged out of it, live ones came in.
    let later = clock(&shown["second"]).0 - WINDOW_NS;
    let by_key: HashMap<(i64, i64), i64> = trades
        .iter()
        .map(|t| ((t.partition, t.offset), t.ts))
        .collect();
    let aged: Vec<&(i64, i64)> = first.iter().filter(|k| by_key[*k] < later).collect();
    assert!(!aged.is_empty(), "no trade aged out of the window");
    let kept: BTreeSet<&(i64, i64)> = second.iter().collect();
    assert!(aged.iter().all(|k| !kept.contains(k)));
    let before: BTreeSet<&(i64, i64)> = first.iter().collect();
    assert!(
        second.iter().any(|k| !before.contains(k)),
        "no live trade came into the window"
    );

    // The grids: Minute at whole minutes, KafkaTimestamp at ms, Timestamp at µs, in UTC, then
    // in New York; the URL remembers the zone.
    let bars = Shown::of(&shown["second"]["tables"]["btc_bars"], "btc_bars");
    let minutes: Vec<i64> = (0..bars.rows.len())
        .map(|r| bars.long(r, "Minute"))
        .collect();
    let kafka: Vec<i64> = trades.iter().map(|t| t.ts).collect();
    let traded: Vec<i64> = trades.iter().map(|t| t.trade_ts).collect();
    let utc = FixedOffset::east_opt(0).unwrap();
    let est = FixedOffset::west_opt(5 * 3600).unwrap();
    for (rendered, offset, zone) in [("utc", &utc, "UTC"), ("zoned", &est, "EST")] {
        let r = &shown["rendered"][rendered];
        assert_grid_times(r, "btc_bars", "Minute", &minutes, offset, zone);
        assert_grid_times(r, "trades", "KafkaTimestamp", &kafka, offset, zone);
        assert_grid_times(r, "trades", "Timestamp", &traded, offset, zone);
    }
    assert_eq!(digits(minutes.iter().copied()), 0);
    assert!(
        shown["zoneUrl"]
            .as_str()
            .unwrap()
            .contains("zone=America%2FNew_York"),
        "{}",
        shown["zoneUrl"]
    );
}

/// The grid's time formatting (`www/format.js`), its golden cases in Node: timestamps in UTC
/// and in New York and Berlin across their daylight-saving changes, each column's precision,
/// dates (leap days, before 1970, past 9999), times of day, the 64-bit extremes, nulls.
#[test]
fn the_grid_formats_times_in_utc_and_zones_across_daylight_saving() {
    let script = workspace_root().join("tests/e2e/format-times.mjs");
    let out = match std::process::Command::new("node").arg(&script).output() {
        Ok(out) => out,
        Err(e) => {
            skip_or_fail("page: time formatting", &format!("node: {e}"));
            return;
        }
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}: {}\n{stdout}",
        script.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(" passed, 0 failed"), "{stdout}");
}
