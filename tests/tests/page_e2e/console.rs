//! The page's console on the everyday queries of issue 15's "Why" (time literals and functions,
//! match filters, `selectDistinct`, `groupBy`) and on the README's console example, typed in as a
//! user would, on a finite recording generated as the demo's is. Every table is read from the
//! page at one cycle, once the consumers have received every record, and checked against a
//! reference computed here from the recording's records decoded with apache-avro, not by the
//! engine: static data, so every comparison is exact.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use chrono::{DateTime, Timelike};
use replay_bridge::record;
use replay_bridge::source::Source;
use streamglass_tests::workspace_root;

use super::time_notebook::Shown;
use super::{common, newest_starts, run_script};
use streamglass_tests::browser_site;

const MINUTE_NS: i64 = 60_000_000_000;
/// Trades in the recording: 14:30:00 to about 15:01 UTC, so the hour changes in it.
const RECORDED: u64 = 450_000;
/// The console's consumer starts here (`s@<ms>`): about 2 minutes of trades across 15:00.
const SEEK: &str = "2026-01-05T14:59:00Z";
/// The README's example consumes the newest this many.
const README_NEWEST: u64 = 100_000;
const BTC: [&str; 2] = ["BTC/USD", "BTC/USDT"];
/// The README's example keeps the BTC trades since this instant.
const README_SINCE: &str = "2026-01-05T17:00:00Z";

/// A trade as recorded, or as a row of a table with its columns.
#[derive(Debug, Clone, PartialEq)]
struct Trade {
    partition: i64,
    offset: i64,
    /// KafkaTimestamp, nanoseconds.
    ts: i64,
    id: String,
    /// Timestamp (the trade's own time), nanoseconds.
    trade_ts: i64,
    exchange: String,
    instrument: String,
    /// The Avro enum `Type` (BID, ASK, EXIT_ASK, EXIT_BID): a string column.
    kind: String,
    price: f64,
    size: f64,
}

type Key = (i64, i64);

impl Trade {
    fn key(&self) -> Key {
        (self.partition, self.offset)
    }
}

/// The trades of the recording that `keep(partition, offset, timestamp_ms)`, by (partition,
/// offset), each value decoded with apache-avro.
fn recorded_trades(path: &Path, keep: impl Fn(i64, i64, i64) -> bool) -> HashMap<Key, Trade> {
    use apache_avro::types::Value as Avro;
    use replay_bridge::recording::RecordingReader;

    let schema = apache_avro::Schema::parse_str(replay_bridge::trades::TRADE_SCHEMA).unwrap();
    let mut out = HashMap::new();
    for record in RecordingReader::open(path).unwrap() {
        let r = record.unwrap();
        let partition = i64::from(r.partition);
        if !keep(partition, r.offset, r.timestamp_ms) {
            continue;
        }
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
        let (Avro::Union(_, id), Avro::Union(_, micros)) = (field("Id"), field("Timestamp")) else {
            panic!("Id and Timestamp are unions");
        };
        let (
            Avro::String(id),
            Avro::TimestampMicros(micros),
            Avro::String(exchange),
            Avro::String(instrument),
            Avro::Enum(_, kind),
            Avro::Double(price),
            Avro::Double(size),
        ) = (
            *id,
            *micros,
            field("Exchange"),
            field("Instrument"),
            field("Type"),
            field("Price"),
            field("Size"),
        )
        else {
            panic!("unexpected field types");
        };
        let trade = Trade {
            partition,
            offset: r.offset,
            ts: r.timestamp_ms * 1_000_000,
            id,
            trade_ts: micros * 1_000,
            exchange,
            instrument,
            kind,
            price,
            size,
        };
        out.insert(trade.key(), trade);
    }
    out
}

fn epoch_ns(instant: &str) -> i64 {
    DateTime::parse_from_rfc3339(instant)
        .unwrap()
        .timestamp_nanos_opt()
        .unwrap()
}

/// The README's console example, as written there.
fn readme_console_example() -> String {
    let readme = std::fs::read_to_string(workspace_root().join("README.md")).unwrap();
    let (_, after) = readme
        .split_once("the console takes JavaScript")
        .expect("the README's console section");
    let (_, block) = after.split_once("```js\n").expect("its example");
    block
        .split_once("```")
        .expect("the example's end")
        .0
        .to_owned()
}

/// Rows of a table the page read, by name.
fn table<'a>(shown: &'a serde_json::Value, name: &str) -> Shown<'a> {
    Shown::of(&shown["tables"][name], name)
}

fn row_keys(table: &Shown) -> Vec<Key> {
    (0..table.rows.len())
        .map(|r| {
            (
                table.long(r, "KafkaPartition"),
                table.long(r, "KafkaOffset"),
            )
        })
        .collect()
}

fn shown_trades(table: &Shown) -> Vec<Trade> {
    (0..table.rows.len())
        .map(|r| Trade {
            partition: table.long(r, "KafkaPartition"),
            offset: table.long(r, "KafkaOffset"),
            ts: table.long(r, "KafkaTimestamp"),
            id: table.string(r, "Id"),
            trade_ts: table.long(r, "Timestamp"),
            exchange: table.string(r, "Exchange"),
            instrument: table.string(r, "Instrument"),
            kind: table.string(r, "Type"),
            price: table.double(r, "Price"),
            size: table.double(r, "Size"),
        })
        .collect()
}

/// `got` and `want` are the same rows in the same order; else says where they first differ
/// (not the thousands of rows around).
fn assert_rows(got: &[Key], want: &[Key], what: &str) {
    if got == want {
        return;
    }
    let at = got.iter().zip(want).take_while(|(g, w)| g == w).count();
    panic!(
        "{what}: {} rows, {} expected; first difference at row {at}: {:?} instead of {:?}",
        got.len(),
        want.len(),
        got.get(at),
        want.get(at)
    );
}

/// Counts of `key` over `trades`.
fn count<K: Ord>(trades: impl Iterator<Item = K>) -> BTreeMap<K, u64> {
    let mut out = BTreeMap::new();
    for k in trades {
        *out.entry(k).or_insert(0) += 1;
    }
    out
}

/// Every example of issue 15's "Why", typed into the page's console one by one as a user would
/// (the textarea filled, Run pressed), after the README's console example, on a recording
/// generated as the demo's is (seed 1, 3 partitions), served whole. Read at one cycle once every
/// record arrived, each table equals a reference computed from the recording with apache-avro:
/// the per-minute counts of `lowerBin(KafkaTimestamp, 60 * SECOND)`, the rows after an instant
/// literal (one that a trade has exactly, which `>` leaves out), the UTC hours of `hourOfDay`
/// across 15:00, the rows of ``Type = `BID` `` and of ``Exchange in `binance`, `kraken` ``, the
/// distinct exchanges in order of first appearance and `groupBy`'s rows of each, in row order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_answers_everyday_time_and_filter_queries() {
    let Some(site) = browser_site("page: the console's everyday queries") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trades.sgrec");
    record::generate(&path, RECORDED, 3, 1).unwrap();

    // The reference: the trades at or after SEEK (the console's consumer), and the newest
    // README_NEWEST in total (the README's, spread over partitions as the seek `-N` is).
    let seek_ns = epoch_ns(SEEK);
    let seek_ms = seek_ns / 1_000_000;
    let marks: Vec<streamglass_core::seek::Watermarks> =
        replay_bridge::recording::RecordingReader::open(&path)
            .unwrap()
            .meta()
            .partitions
            .iter()
            .map(|p| streamglass_core::seek::Watermarks {
                partition: p.partition,
                low: p.low_watermark,
                high: p.high_watermark,
            })
            .collect();
    let starts = newest_starts(&marks, README_NEWEST);
    let in_readme = |partition: i64, offset: i64| offset >= starts[&(partition as i32)];
    let recorded = recorded_trades(&path, |partition, offset, ms| {
        ms >= seek_ms || in_readme(partition, offset)
    });
    let sought: BTreeSet<Key> = recorded
        .values()
        .filter(|t| t.ts >= seek_ns)
        .map(Trade::key)
        .collect();
    // The instant of the `where`: a trade's own KafkaTimestamp, halfway through the sought ones
    // (so `>` must leave that trade out).
    let mut times: Vec<i64> = sought.iter().map(|k| recorded[k].ts).collect();
    times.sort_unstable();
    let instant_ns = times[times.len() / 2];
    let instant = DateTime::from_timestamp_nanos(instant_ns)
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string();

    // The README's example runs first: it declares `const trades`, which a `trades` already in
    // the console's scope (as the next step makes) would turn into a SyntaxError.
    let readme = readme_console_example();
    let steps = vec![
        readme.clone(),
        format!(
            "const trades = await session.consumeToTable({{ offsets: \"s@{seek_ms}\", tableType: \"append\" }});\nreturn {{ trades }};"
        ),
        "const with_minute = trades.updateView([\"Minute = lowerBin(KafkaTimestamp, 60 * SECOND)\"]);\nreturn { with_minute, trades_per_minute: with_minute.countBy(\"Trades\", [\"Minute\"]) };".to_owned(),
        format!("return {{ since: trades.where(\"KafkaTimestamp > '{instant}'\") }};"),
        "return { with_hour: trades.updateView([\"Hour = hourOfDay(KafkaTimestamp, timeZone(`UTC`))\"]) };".to_owned(),
        "return { bids: trades.where(\"Type = `BID`\") };".to_owned(),
        "return { binance_kraken: trades.where(\"Exchange in `binance`, `kraken`\") };".to_owned(),
        "return { exchanges: trades.selectDistinct([\"Exchange\"]), by_exchange: trades.groupBy([\"Exchange\"]) };".to_owned(),
        // Issue 16: updateBy and an as-of join, typed as a user would.
        "return { cumulative: trades.updateBy([UpdateBy.cumSum([\"CumSize = Size\"]), UpdateBy.rollingCount({ revTicks: 3 }, [\"Last3 = Price\"])], [\"Instrument\"]) };".to_owned(),
        "return { kraken_before: trades.where(\"Exchange = `binance`\").aj(trades.where(\"Exchange = `kraken`\"), [\"Instrument\", \"KafkaTimestamp\"], [\"KrakenPrice = Price\"]) };".to_owned(),
    ];
    let keys = Some(vec!["KafkaPartition", "KafkaOffset"]);
    let with = |column: &'static str| Some(vec!["KafkaPartition", "KafkaOffset", column]);
    let read: BTreeMap<&str, Option<Vec<&str>>> = BTreeMap::from([
        ("per_minute", None),
        ("btc", keys.clone()),
        ("trades", None),
        ("with_minute", with("Minute")),
        ("trades_per_minute", None),
        ("since", keys.clone()),
        ("with_hour", with("Hour")),
        ("bids", with("Type")),
        ("binance_kraken", with("Exchange")),
        ("exchanges", None),
        (
            "by_exchange",
            Some(vec!["Exchange", "KafkaPartition", "KafkaOffset"]),
        ),
        (
            "cumulative",
            Some(vec!["KafkaPartition", "KafkaOffset", "CumSize", "Last3"]),
        ),
        ("kraken_before", with("KrakenPrice")),
    ]);
    let plan = serde_json::json!({
        "steps": steps,
        "records": README_NEWEST + sought.len() as u64,
        "read": read,
    });

    let addr = common::start_bridge(Source::recording(&path).unwrap(), Some(site)).await;
    let url = format!("http://{addr}/");
    let shown = run_script("console.mjs", &url, &plan.to_string(), "console").await;

    // Every example ran, each without an error.
    let ran = shown["ran"].as_array().unwrap();
    for (step, code) in ran.iter().zip(&steps) {
        assert_eq!(
            step["state"], "done",
            "the console failed on\n{code}\n→ {}",
            step["result"]
        );
    }
    assert_eq!(ran.len(), steps.len(), "{shown}");

    // The README's example: trades per minute and exchange over the newest README_NEWEST, and
    // the BTC trades since README_SINCE (none: the recording ends before).
    let newest: Vec<&Trade> = recorded
        .values()
        .filter(|t| in_readme(t.partition, t.offset))
        .collect();
    assert_eq!(newest.len() as u64, README_NEWEST);
    let want = count(
        newest
            .iter()
            .map(|t| (t.ts.div_euclid(MINUTE_NS) * MINUTE_NS, t.exchange.clone())),
    );
    let per_minute = table(&shown, "per_minute");
    let got: BTreeMap<(i64, String), u64> = (0..per_minute.rows.len())
        .map(|r| {
            (
                (
                    per_minute.long(r, "Minute"),
                    per_minute.string(r, "Exchange"),
                ),
                per_minute.long(r, "Trades") as u64,
            )
        })
        .collect();
    assert_eq!(
        got.len(),
        per_minute.rows.len(),
        "README per_minute: a group twice"
    );
    assert_eq!(got, want, "README per_minute");
    let since_17 = epoch_ns(README_SINCE);
    let want: BTreeSet<Key> = newest
        .iter()
        .filter(|t| BTC.contains(&t.instrument.as_str()) && t.ts >= since_17)
        .map(|t| t.key())
        .collect();
    let got: BTreeSet<Key> = row_keys(&table(&shown, "btc")).into_iter().collect();
    assert_eq!(got, want, "README btc");

    // The console's own trades: every record from SEEK on, once each, as recorded.
    let trades = shown_trades(&table(&shown, "trades"));
    let order: Vec<Key> = trades.iter().map(Trade::key).collect();
    let distinct: BTreeSet<Key> = order.iter().copied().collect();
    assert_eq!(distinct.len(), order.len(), "trades: a record twice");
    let missing: Vec<&Key> = sought.difference(&distinct).take(5).collect();
    let extra: Vec<&Key> = distinct.difference(&sought).take(5).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "trades: {} rows, {} records from {SEEK} on; missing {missing:?}, extra {extra:?} (first 5)",
        distinct.len(),
        sought.len()
    );
    for t in &trades {
        assert_eq!(
            t,
            &recorded[&t.key()],
            "trades: a row differs from the recording"
        );
    }
    // Each filter's rows: the trades' rows, in their order, whose recorded values pass it.
    let filtered = |pass: &dyn Fn(&Trade) -> bool| -> Vec<Key> {
        order
            .iter()
            .filter(|k| pass(&recorded[*k]))
            .copied()
            .collect()
    };

    // 1. Minute = lowerBin(KafkaTimestamp, 60 * SECOND), and its count per minute.
    let with_minute = table(&shown, "with_minute");
    assert_rows(&row_keys(&with_minute), &order, "with_minute: trades' rows");
    for (r, key) in order.iter().enumerate() {
        let ts = recorded[key].ts;
        assert_eq!(
            with_minute.long(r, "Minute"),
            ts.div_euclid(MINUTE_NS) * MINUTE_NS,
            "with_minute: the Minute of {key:?} at {ts}"
        );
    }
    let want = count(
        sought
            .iter()
            .map(|k| recorded[k].ts.div_euclid(MINUTE_NS) * MINUTE_NS),
    );
    assert!(want.len() >= 3, "minutes: {want:?}");
    let per_minute = table(&shown, "trades_per_minute");
    let got: BTreeMap<i64, u64> = (0..per_minute.rows.len())
        .map(|r| {
            (
                per_minute.long(r, "Minute"),
                per_minute.long(r, "Trades") as u64,
            )
        })
        .collect();
    assert_eq!(
        got.len(),
        per_minute.rows.len(),
        "trades_per_minute: a minute twice"
    );
    assert_eq!(got, want, "trades_per_minute");

    // 2. KafkaTimestamp > '<instant>': strictly after, so the trades at that instant are out.
    let want = filtered(&|t| t.ts > instant_ns);
    assert!(!want.is_empty() && want.len() < order.len());
    assert_rows(
        &row_keys(&table(&shown, "since")),
        &want,
        &format!("since: KafkaTimestamp > '{instant}'"),
    );

    // 3. Hour = hourOfDay(KafkaTimestamp, timeZone(`UTC`)).
    let with_hour = table(&shown, "with_hour");
    assert_rows(&row_keys(&with_hour), &order, "with_hour: trades' rows");
    let mut hours = BTreeSet::new();
    for (r, key) in order.iter().enumerate() {
        let hour = DateTime::from_timestamp_nanos(recorded[key].ts).hour();
        hours.insert(hour);
        assert_eq!(
            with_hour.long(r, "Hour"),
            i64::from(hour),
            "with_hour: the Hour of {key:?}"
        );
    }
    assert_eq!(
        hours,
        BTreeSet::from([14, 15]),
        "the trades cross 15:00 UTC"
    );

    // 4. Type = `BID` (the demo's trades have a Type: the Avro enum, a string column).
    let bids = table(&shown, "bids");
    let want = filtered(&|t| t.kind == "BID");
    assert!(!want.is_empty() && want.len() < order.len());
    assert_rows(&row_keys(&bids), &want, "bids: Type = `BID`");
    assert!((0..bids.rows.len()).all(|r| bids.string(r, "Type") == "BID"));

    // 5. Exchange in `binance`, `kraken`.
    let chosen = table(&shown, "binance_kraken");
    let want = filtered(&|t| t.exchange == "binance" || t.exchange == "kraken");
    let exchanges: BTreeSet<String> = want.iter().map(|k| recorded[k].exchange.clone()).collect();
    assert_eq!(exchanges.len(), 2, "trades of both exchanges");
    assert_rows(
        &row_keys(&chosen),
        &want,
        "binance_kraken: Exchange in `binance`, `kraken`",
    );

    // 6. selectDistinct(["Exchange"]): in order of first appearance; groupBy(["Exchange"]): each
    // exchange's rows, in row order.
    let mut first_seen: Vec<String> = Vec::new();
    for key in &order {
        let exchange = &recorded[key].exchange;
        if !first_seen.contains(exchange) {
            first_seen.push(exchange.clone());
        }
    }
    let distinct = table(&shown, "exchanges");
    assert_eq!(distinct.columns, ["Exchange"]);
    let got: Vec<String> = (0..distinct.rows.len())
        .map(|r| distinct.string(r, "Exchange"))
        .collect();
    assert_eq!(got, first_seen, "exchanges: selectDistinct");
    let sizes = count(sought.iter().map(|k| recorded[k].exchange.clone()));
    assert_eq!(
        sizes.keys().collect::<BTreeSet<_>>(),
        first_seen.iter().collect::<BTreeSet<_>>()
    );
    assert!(sizes.len() >= 10, "exchanges: {sizes:?}");
    let grouped = table(&shown, "by_exchange");
    let mut got: BTreeMap<String, Vec<Key>> = BTreeMap::new();
    for r in 0..grouped.rows.len() {
        let row = &grouped.rows[r];
        let array = |column: &str| -> Vec<i64> {
            row[grouped.at(column)]
                .as_array()
                .unwrap_or_else(|| panic!("by_exchange.{column} is not an array: {row}"))
                .iter()
                .map(|v| v.as_i64().unwrap())
                .collect()
        };
        let rows: Vec<Key> = array("KafkaPartition")
            .into_iter()
            .zip(array("KafkaOffset"))
            .collect();
        assert!(
            got.insert(grouped.string(r, "Exchange"), rows).is_none(),
            "by_exchange: a group twice"
        );
    }
    for (exchange, size) in &sizes {
        let want = filtered(&|t| &t.exchange == exchange);
        assert_eq!(want.len() as u64, *size);
        let rows = got
            .get(exchange)
            .unwrap_or_else(|| panic!("by_exchange: no {exchange}"));
        assert_rows(rows, &want, &format!("by_exchange: {exchange}'s rows"));
    }
    assert_eq!(got.len(), sizes.len(), "by_exchange: its groups");

    // 6. updateBy by Instrument, in trades' order: the running sum of Size, and the count of
    //    prices among the last 3 trades (all non-null here: min(3, trades so far)).
    let cumulative = table(&shown, "cumulative");
    assert_rows(&row_keys(&cumulative), &order, "cumulative: trades' rows");
    let mut sums: HashMap<&str, (f64, i64)> = HashMap::new();
    for (r, key) in order.iter().enumerate() {
        let t = &recorded[key];
        let (sum, n) = sums.entry(t.instrument.as_str()).or_default();
        *sum += t.size;
        *n += 1;
        let got = cumulative.double(r, "CumSize");
        assert!(
            (got - *sum).abs() <= 1e-9 * sum.abs().max(1.0),
            "cumulative: CumSize of {key:?} is {got}, the running sum {sum}"
        );
        assert_eq!(
            cumulative.long(r, "Last3"),
            (*n).min(3),
            "cumulative: Last3 of {key:?}"
        );
    }

    // 7. aj: each binance trade with the price of the latest kraken trade of its instrument at
    //    or before its KafkaTimestamp (of equal timestamps the last in trades' order), else null.
    let kraken_before = table(&shown, "kraken_before");
    let binance = filtered(&|t| t.exchange == "binance");
    assert_rows(
        &row_keys(&kraken_before),
        &binance,
        "kraken_before: binance's rows",
    );
    // Per instrument, kraken's (timestamp, price) in time order, ties in trades' order.
    let mut kraken: HashMap<&str, Vec<(i64, f64)>> = HashMap::new();
    for t in order
        .iter()
        .map(|k| &recorded[k])
        .filter(|t| t.exchange == "kraken")
    {
        kraken
            .entry(t.instrument.as_str())
            .or_default()
            .push((t.ts, t.price));
    }
    for quotes in kraken.values_mut() {
        quotes.sort_by_key(|&(ts, _)| ts); // stable: ties keep trades' order
    }
    let mut matched = 0;
    for (r, key) in binance.iter().enumerate() {
        let left = &recorded[key];
        let want = kraken.get(left.instrument.as_str()).and_then(|quotes| {
            let at = quotes.partition_point(|&(ts, _)| ts <= left.ts);
            at.checked_sub(1).map(|i| quotes[i].1)
        });
        let cell = &kraken_before.rows[r][kraken_before.at("KrakenPrice")];
        assert_eq!(cell.as_f64(), want, "kraken_before: KrakenPrice of {key:?}");
        matched += usize::from(want.is_some());
    }
    assert!(
        matched > 0,
        "kraken_before: no binance trade had a kraken trade before it"
    );
    println!(
        "console: {} trades from {SEEK}, {} after '{instant}', {} minutes, {} bids, {} on binance or kraken, {} exchanges; README: {} (minute, exchange) groups, {} BTC trades since {README_SINCE}",
        order.len(),
        row_keys(&table(&shown, "since")).len(),
        table(&shown, "trades_per_minute").rows.len(),
        bids.rows.len(),
        chosen.rows.len(),
        got.len(),
        table(&shown, "per_minute").rows.len(),
        table(&shown, "btc").rows.len(),
    );
}
