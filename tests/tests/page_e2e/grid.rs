//! The grid as a user works in it (issue 18, item 3), on the seed notebook's `agg_append` over a
//! finite recording (so the tables hold still once the consumers caught up): a header click
//! sorts, ascending then descending then off, and the rows shown equal the engine's own
//! `sort`/`sortDescending`; a text filter and a numeric range typed under the headers equal the
//! engine's `where`, alone and with a sort; a bad filter shows an inline error and the panel keeps
//! its rows; a rectangle of cells copies as tab-separated text; a click shows the row's cells;
//! the views replaced give their memory back; a dragged column width and the sort outlive a
//! redraw and a reopened panel; a time typed without a zone reads in the page's.
//!
//! Besides equalling the engine's answers, each is checked here independently of it: the order
//! by Total_Size, the rows kept against the text and range, each against the unsorted table.

use std::cmp::Ordering;

use replay_bridge::record;
use replay_bridge::source::Source;
use serde_json::Value;
use streamglass_tests::{browser_site, skip_or_fail, workspace_root};

use super::{common, run_script};

/// A table as the page read it (`{columns, rows}`).
struct Rows<'a> {
    columns: Vec<&'a str>,
    rows: &'a [Value],
}

impl<'a> Rows<'a> {
    fn of(table: &'a Value, what: &str) -> Self {
        let columns = table["columns"]
            .as_array()
            .unwrap_or_else(|| panic!("{what} has no columns: {table}"))
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        let rows = table["rows"]
            .as_array()
            .unwrap_or_else(|| panic!("{what} has no rows"));
        Rows { columns, rows }
    }

    fn at(&self, column: &str) -> usize {
        self.columns.iter().position(|c| *c == column).unwrap()
    }

    fn string(&self, row: usize, column: &str) -> &str {
        self.rows[row][self.at(column)].as_str().unwrap()
    }

    /// A long: a number, or a BigInt as a decimal string.
    fn long(&self, row: usize, column: &str) -> i64 {
        let v = &self.rows[row][self.at(column)];
        v.as_i64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            .unwrap_or_else(|| panic!("{column} is not a long: {v}"))
    }

    fn double(&self, row: usize, column: &str) -> f64 {
        self.rows[row][self.at(column)].as_f64().unwrap()
    }
}

/// Rows as comparable text, in their order.
fn keyed(rows: &Rows) -> Vec<String> {
    rows.rows.iter().map(Value::to_string).collect()
}

fn sorted(mut rows: Vec<String>) -> Vec<String> {
    rows.sort();
    rows
}

/// A number as the grid draws it ("1,234.5678"), read back.
fn drawn_number(text: &str) -> f64 {
    text.replace(',', "")
        .parse()
        .unwrap_or_else(|_| panic!("not a number: {text:?}"))
}

/// The cells the grid drew for `view` (its first rows) read as `view`'s values in its order.
fn assert_drawn(shown: &Value, what: &str) {
    let view = Rows::of(shown, what);
    let drawn = shown["drawn"].as_array().unwrap();
    assert!(!drawn.is_empty(), "{what}: no row drawn");
    for (r, cells) in drawn.iter().enumerate().take(view.rows.len()) {
        // regular-table draws a row past the last it can show when it half fits.
        let Some(exchange) = cells["Exchange"].as_str() else {
            continue;
        };
        assert_eq!(exchange, view.string(r, "Exchange"), "{what}: row {r}");
        assert_eq!(
            cells["Instrument"].as_str().unwrap(),
            view.string(r, "Instrument"),
            "{what}: row {r}"
        );
        let size = drawn_number(cells["Total_Size"].as_str().unwrap());
        let want = view.double(r, "Total_Size");
        assert!(
            (size - want).abs() <= 1e-3 * want.abs().max(1.0),
            "{what}: row {r} draws Total_Size {size}, the view holds {want}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_header_sort_and_column_filters_equal_the_engines_sort_and_where() {
    let Some(site) = browser_site("page: the grid") else {
        return;
    };
    const SIZE_OFFSET: u64 = 60_000;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trades.sgrec");
    record::generate(&path, 100_000, 3, 7).unwrap();
    let addr = common::start_bridge(Source::recording(&path).unwrap(), Some(site)).await;
    let url = format!("http://{addr}/");
    let shown = run_script("grid.mjs", &url, &SIZE_OFFSET.to_string(), "grid").await;
    let refs = &shown["refs"];
    let table = Rows::of(&refs["agg_append"], "agg_append");
    assert!(table.rows.len() > 4, "agg_append has too few rows to sort");
    let all = keyed(&table);

    // 1. The header sort: the engine's sort, every row kept, in Total_Size's order.
    for (step, reference, order) in [
        ("ascending", "ref_asc", Ordering::Less),
        ("descending", "ref_desc", Ordering::Greater),
    ] {
        let view = Rows::of(&shown[step], step);
        let want = Rows::of(&refs[reference], reference);
        assert_eq!(
            keyed(&view),
            keyed(&want),
            "{step}: the engine sorts otherwise"
        );
        assert_eq!(
            sorted(keyed(&view)),
            sorted(all.clone()),
            "{step}: rows lost"
        );
        for r in 1..view.rows.len() {
            let (a, b) = (
                view.double(r - 1, "Total_Size"),
                view.double(r, "Total_Size"),
            );
            assert_ne!(
                a.total_cmp(&b),
                order.reverse(),
                "{step}: rows {r} and before"
            );
        }
        assert_drawn(&shown[step], step);
        let header = &shown[step]["headers"]["Total_Size"];
        let arrow = if step == "ascending" { "▲" } else { "▼" };
        assert_eq!(header["sort"], step, "{header}");
        assert!(header["text"].as_str().unwrap().contains(arrow), "{header}");
        assert!(
            header["title"].as_str().unwrap().contains("Shift-click"),
            "{header}"
        );
    }
    let unsorted = Rows::of(&shown["unsorted"], "unsorted");
    assert_eq!(
        keyed(&unsorted),
        all,
        "a third click shows the table as it is"
    );
    assert_drawn(&shown["unsorted"], "unsorted");

    // 2. Filters: the engine's where, and only (and every) row that the text or range keeps.
    let text = Rows::of(&shown["text"], "text");
    assert_eq!(
        keyed(&text),
        keyed(&Rows::of(&refs["ref_text"], "ref_text"))
    );
    let keeps_text =
        |rows: &Rows, r: usize| rows.string(r, "Instrument").to_lowercase().contains("btc");
    let want_text: Vec<String> = (0..table.rows.len())
        .filter(|&r| keeps_text(&table, r))
        .map(|r| table.rows[r].to_string())
        .collect();
    assert!(!want_text.is_empty(), "no BTC instrument to filter on");
    assert!(
        want_text.len() < table.rows.len(),
        "the text filter keeps everything"
    );
    assert_eq!(keyed(&text), want_text, "the text filter (BTC, any case)");
    // The stats line: the table's rows, and how many the view shows.
    let stats = shown["text"]["stats"].as_str().unwrap();
    assert!(
        stats.starts_with(&format!(
            "{} rows ({} shown)",
            table.rows.len(),
            want_text.len()
        )),
        "{stats}"
    );

    // `=BINANCE`: the whole value, ignoring case (Deephaven's `icase in`).
    let exchange = shown["exchange"].as_str().unwrap();
    let exact = Rows::of(&shown["exact"], "exact");
    let want_exact: Vec<String> = (0..table.rows.len())
        .filter(|&r| table.string(r, "Exchange") == exchange)
        .map(|r| table.rows[r].to_string())
        .collect();
    assert_eq!(keyed(&exact), want_exact, "={}", exchange.to_uppercase());

    let (low, high) = (
        shown["range"][0].as_i64().unwrap(),
        shown["range"][1].as_i64().unwrap(),
    );
    let ranged = Rows::of(&shown["ranged"], "ranged");
    assert_eq!(
        keyed(&ranged),
        keyed(&Rows::of(&refs["ref_range"], "ref_range"))
    );
    let want_range: Vec<String> = (0..table.rows.len())
        .filter(|&r| (low..=high).contains(&table.long(r, "Trade_Count")))
        .map(|r| table.rows[r].to_string())
        .collect();
    assert!(!want_range.is_empty() && want_range.len() < table.rows.len());
    assert_eq!(keyed(&ranged), want_range, "the range {low}..{high}");

    let both = Rows::of(&shown["both"], "both");
    assert_eq!(
        keyed(&both),
        keyed(&Rows::of(&refs["ref_both"], "ref_both"))
    );
    assert_eq!(sorted(keyed(&both)), sorted(want_range), "where, then sort");
    assert_drawn(&shown["both"], "both");

    // 3. A bad filter: the message says what is wrong, and the panel still shows its rows.
    let message = shown["bad"]["message"].as_str().unwrap();
    assert!(
        message.contains("Total_Size") && message.contains("not a number"),
        "{message}"
    );
    let after_bad = Rows::of(&shown["afterBad"], "afterBad");
    assert_eq!(
        keyed(&after_bad),
        keyed(&both),
        "a bad filter changes nothing"
    );
    let plain = Rows::of(&shown["plain"], "plain");
    assert_eq!(keyed(&plain), all, "filters and sort cleared");

    // 4. Copy: rows 0..=2 of Exchange, Instrument, Trade_Count, as tab-separated text.
    assert_eq!(shown["selected"], 9, "3 rows by 3 columns selected");
    let want_tsv: Vec<String> = (0..3)
        .map(|r| {
            format!(
                "{}\t{}\t{}",
                table.string(r, "Exchange"),
                table.string(r, "Instrument"),
                table.long(r, "Trade_Count")
            )
        })
        .collect();
    assert_eq!(shown["clipboard"].as_str().unwrap(), want_tsv.join("\n"));

    // 5. The row's panel: row 1's cells.
    let side = &shown["side"];
    assert_eq!(
        side["head"],
        format!("row 2 of {}", table.rows.len()),
        "{side}"
    );
    let cells = &side["cells"];
    assert_eq!(cells["Exchange"], table.string(1, "Exchange"));
    assert_eq!(cells["Instrument"], table.string(1, "Instrument"));
    assert_eq!(
        drawn_number(cells["Trade_Count"].as_str().unwrap()) as i64,
        table.long(1, "Trade_Count")
    );
    let size = drawn_number(cells["Total_Size"].as_str().unwrap());
    assert!((size - table.double(1, "Total_Size")).abs() <= 1e-3 * size.abs().max(1.0));

    // 6. A time typed without a zone reads in the page's (UTC): the rows at or after it, as the
    // engine's `where` on the same instant in Z; the side panel shows the row's time in UTC.
    let time = &shown["time"];
    let nanos = |v: &Value| -> i64 {
        v.as_i64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            .unwrap_or_else(|| panic!("not a timestamp: {v}"))
    };
    let stamps =
        |key: &str| -> Vec<i64> { time[key].as_array().unwrap().iter().map(nanos).collect() };
    let cutoff = time["cutoffMs"].as_i64().unwrap() * 1_000_000;
    let want: Vec<i64> = stamps("all").into_iter().filter(|&t| t >= cutoff).collect();
    assert!(!want.is_empty(), "{}", time["typed"]);
    assert_eq!(stamps("shown"), want, "typed {}", time["typed"]);
    assert_eq!(stamps("ref"), want, "the engine's where");
    // The zone picked on the page changes what the text means: 5 hours later in New York.
    let later: Vec<i64> = stamps("all")
        .into_iter()
        .filter(|&t| t >= cutoff + 5 * 3_600_000_000_000)
        .collect();
    assert_ne!(later.len(), want.len(), "the recording spans under 5 hours");
    assert_eq!(
        stamps("newYork"),
        later,
        "typed {} in New York",
        time["typed"]
    );
    // The row clicked (the first drawn): its time in UTC, at its own precision (milliseconds).
    let row = time["side"]["row"].as_u64().unwrap() as usize;
    let at = chrono::DateTime::from_timestamp_nanos(want[row]);
    let expected = if want[row] % 1_000_000_000 == 0 {
        at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
    } else {
        at.format("%Y-%m-%d %H:%M:%S%.3f UTC").to_string()
    };
    assert_eq!(time["side"]["text"], expected.as_str(), "row {row}");
}

/// The filter boxes' language (`www/column-filters.js`), its golden cases in Node: the formula
/// each text becomes by the column's type, the texts refused, and the sort keys header clicks
/// make.
#[test]
fn filter_texts_become_the_engines_where_formulas() {
    let script = workspace_root().join("tests/e2e/column-filters.mjs");
    let out = match std::process::Command::new("node").arg(&script).output() {
        Ok(out) => out,
        Err(e) => {
            skip_or_fail("page: filter texts", &format!("node: {e}"));
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

/// On a live replay, the grid's view (agg_append sorted by a header click, filtered on
/// Instrument) ticks with its table: read twice as trades arrive, it is each time in
/// Total_Size's order, holds exactly the table's rows whose Instrument contains "usd", and the
/// trades they count, which grow.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_grids_view_ticks_with_its_table() {
    let Some(site) = browser_site("page: the grid, live") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("live.sgrec");
    record::generate_live(&path, 30_000, 300, 3, 5).unwrap();
    let point: replay_bridge::live::LivePoint = "end-300s".parse().unwrap();
    let source = Source::recording_live(&path, point, 1.0).unwrap();
    let addr = common::start_bridge(source, Some(site)).await;
    let url = format!("http://{addr}/");
    let shown = run_script("grid-live.mjs", &url, "30000", "grid-live").await;
    for read in ["first", "later"] {
        let r = &shown[read];
        assert_eq!(r["sorted"], true, "{read}: {r}");
        assert_eq!(r["filtered"], true, "{read}: {r}");
        assert_eq!(r["rows"], r["tableRows"], "{read}: {r}");
        // (The script reads until the view's trades equal the table's: both at one cycle.)
    }
    assert!(
        shown["later"]["count"].as_u64() > shown["first"]["count"].as_u64(),
        "{shown}"
    );
}
