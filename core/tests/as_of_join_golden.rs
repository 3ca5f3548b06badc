//! The as-of joins against pandas: the `aj`/`raj` cases of `tests/data/update_by/golden.json`,
//! written by `tests/python/update_by_golden.py` with pandas `merge_asof` (backward and forward,
//! with and without exact matches; right rows of equal stamps compacted to the last, as Deephaven
//! does). Trades and quotes arrive together in cycles of 250 rows, so right rows keep coming after
//! the left rows they match, and every left row must end with pandas' quote.

use serde_json::Value as Json;
use streamglass_core::{Batch, ColumnType, Engine, Schema, Table, Value};

mod golden_trades;
use golden_trades::{golden, trade_rows, trade_schema};

const CYCLE: usize = 250;

fn quote_schema() -> Schema {
    Schema::of(&[
        ("Instrument", ColumnType::String),
        ("Ts", ColumnType::Timestamp),
        ("Bid", ColumnType::F64),
    ])
    .unwrap()
}

fn float(v: &Json) -> Value {
    v.as_f64().map_or(Value::Null, Value::F64)
}

fn quote_rows(g: &Json) -> Vec<Vec<Value>> {
    g["quotes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| {
            vec![
                Value::String(q["Instrument"].as_str().unwrap().into()),
                Value::Timestamp(q["Ts"].as_i64().unwrap()),
                float(&q["Bid"]),
            ]
        })
        .collect()
}

/// Whether `got` is pandas' `want` (null as null), to 1e-9 relative: pandas sums windows by adding
/// and subtracting as they slide, the engine exactly.
fn close(got: &Value, want: &Json) -> bool {
    let got = match got {
        Value::F64(v) => Some(*v),
        Value::I64(v) => Some(*v as f64),
        Value::Null => None,
        other => panic!("unexpected {other:?}"),
    };
    match (got, want.as_f64()) {
        (None, None) => true,
        (Some(g), Some(w)) => (g - w).abs() <= 1e-9 * w.abs().max(1.0),
        _ => false,
    }
}

/// The `column` of every row `table` showed: all rows of an append table at the end, or each
/// cycle's rows of a blink table, in order.
fn feed_and_collect(
    engine: &Engine,
    sources: &[(&Table, Vec<Vec<Value>>)],
    out: &Table,
    column: &str,
) -> Vec<Value> {
    let blink = out.is_blink();
    let at = out.schema().index_of(column).unwrap();
    let mut seen = Vec::new();
    let cycles = sources
        .iter()
        .map(|(_, rows)| rows.len().div_ceil(CYCLE))
        .max()
        .unwrap_or(0);
    for c in 0..cycles {
        for (table, rows) in sources {
            let chunk = &rows[(c * CYCLE).min(rows.len())..((c + 1) * CYCLE).min(rows.len())];
            if !chunk.is_empty() {
                table
                    .add(Batch::from_rows(&table.schema(), chunk).unwrap())
                    .unwrap();
            }
        }
        engine.run_cycle().unwrap();
        if blink {
            seen.extend(out.all_rows().into_iter().map(|r| r[at].clone()));
        }
    }
    if !blink {
        seen = out.all_rows().into_iter().map(|r| r[at].clone()).collect();
    }
    seen
}

fn mismatches(got: &[Value], want: &[Json]) -> Vec<String> {
    assert_eq!(got.len(), want.len(), "row count");
    got.iter()
        .zip(want)
        .enumerate()
        .filter(|(_, (g, w))| !close(g, w))
        .take(5)
        .map(|(i, (g, w))| format!("row {i}: got {g:?}, pandas {w}"))
        .collect()
}

#[test]
fn as_of_joins_equal_pandas_merge_asof() {
    let g = golden();
    let (trades, quotes) = (trade_rows(&g), quote_rows(&g));
    let mut failures = Vec::new();
    let mut checked = 0;
    for case in g["cases"].as_array().unwrap() {
        let op = case["op"].as_str().unwrap();
        if !matches!(op, "aj" | "raj") {
            continue;
        }
        let strict = case["strict"].as_bool().unwrap();
        let stamp = match (op, strict) {
            ("aj", false) => "Ts",
            ("aj", true) => "Ts > Ts",
            (_, false) => "Ts",
            (_, true) => "Ts < Ts",
        };
        let engine = Engine::new();
        let left = engine.append_table(trade_schema());
        let right = engine.append_table(quote_schema());
        let on = ["Instrument", stamp];
        let joined = match op {
            "aj" => left.aj(&right, &on, &["Bid"]),
            _ => left.raj(&right, &on, &["Bid"]),
        }
        .unwrap();
        // Both sides tick together, so right rows keep arriving after the left rows they match.
        let got = feed_and_collect(
            &engine,
            &[(&left, trades.clone()), (&right, quotes.clone())],
            &joined,
            "Bid",
        );
        let bad = mismatches(&got, case["expected"].as_array().unwrap());
        if !bad.is_empty() {
            failures.push(format!("{op} strict={strict}: {}", bad.join("; ")));
        }
        checked += 1;
    }
    assert_eq!(checked, 4);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
