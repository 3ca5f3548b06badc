//! The `updateBy` golden vectors of `tests/data/update_by/golden.json`, computed by pandas (an
//! independent implementation) with `tests/python/update_by_golden.py`: `ema` over ticks and
//! time, `rollingSum`/`rollingAvg` over ticks, `rollingSum`/`rollingAvg`/`rollingCount` over
//! time, by Instrument, on 3,000 seeded trades with null prices and tied timestamps. Each case is
//! checked on an append table fed in one cycle, in cycles of 7 rows (the windows carried across
//! cycles, rows of a tied timestamp rewritten in place), and on a stream table in cycles of 7
//! rows (blink: each row gets the value it gets in the append table, but for a time window's row
//! tied with a row of a later cycle, which is gone when that row comes). The as-of cases of the
//! same file are the joins'.

use serde_json::Value as Json;
use streamglass_core::{Batch, Engine, Table, UpdateBy, UpdateByWindow, Value};

mod golden_trades;
use golden_trades::{golden, trade_rows, trade_schema};

/// The operation a case names, into `Out`; `None` for the cases that are not `updateBy`'s.
fn operation(case: &Json) -> Option<UpdateBy> {
    let pair = format!("Out = {}", case["column"].as_str()?);
    let pairs = [pair.as_str()];
    let ts = case["timestampCol"].as_str();
    let window = match (ts, case["revTicks"].as_i64(), case["revTime"].as_i64()) {
        (_, Some(ticks), _) => UpdateByWindow::ticks(ticks, 0),
        (Some(column), _, Some(nanos)) => UpdateByWindow::time(column, nanos, 0),
        _ => UpdateByWindow::Cumulative,
    };
    Some(match case["op"].as_str()? {
        "ema" => match (ts, case["ticks"].as_f64(), case["timeScale"].as_i64()) {
            (_, Some(ticks), _) => UpdateBy::ema_ticks(ticks, &pairs),
            (Some(column), _, Some(nanos)) => UpdateBy::ema_time(column, nanos, &pairs),
            _ => panic!("an ema case without its decay: {case}"),
        },
        "rollingSum" => UpdateBy::rolling_sum(window, &pairs),
        "rollingAvg" => UpdateBy::rolling_avg(window, &pairs),
        "rollingCount" => UpdateBy::rolling(streamglass_core::UpdateByKind::Count, window, &pairs),
        _ => return None,
    })
}

/// `got` equals pandas' value: nulls alike, doubles within a relative 1e-9 (pandas sums in
/// order, the engine's sums are exact then rounded once).
fn close(got: &Value, want: &Json) -> bool {
    match (got, want.as_f64()) {
        (Value::Null, None) => want.is_null(),
        (Value::F64(x), Some(y)) => (x - y).abs() <= 1e-9 * y.abs().max(1.0),
        (Value::I64(x), Some(y)) => *x as f64 == y,
        _ => false,
    }
}

/// Checks `out` against the expected values of rows `offset ..`, but those `skip` says.
fn check(what: &str, case: &Json, out: &[Value], offset: usize, skip: impl Fn(usize) -> bool) {
    let expected = case["expected"].as_array().unwrap();
    for (i, got) in out.iter().enumerate() {
        if skip(offset + i) {
            continue;
        }
        let want = &expected[offset + i];
        assert!(
            close(got, want),
            "{what}, {} {}: row {}: {got:?}, pandas {want}",
            case["op"],
            case.as_object()
                .map(|o| o
                    .iter()
                    .filter(|(k, _)| !matches!(k.as_str(), "expected" | "op"))
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(" "))
                .unwrap_or_default(),
            offset + i
        );
    }
}

fn column(table: &Table) -> Vec<Value> {
    let reader = table.column("Out").unwrap();
    (0..reader.size()).map(|i| reader.get(i).unwrap()).collect()
}

#[test]
fn update_by_equals_pandas_on_the_golden_trades() {
    let golden = golden();
    let rows = trade_rows(&golden);
    let mut checked = 0;
    for case in golden["cases"].as_array().unwrap() {
        let Some(op) = operation(case) else {
            continue;
        };
        let keys: Vec<&str> = case["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k.as_str().unwrap())
            .collect();
        let engine = Engine::new();
        let whole = engine.append_table(trade_schema());
        let cycled = engine.append_table(trade_schema());
        let stream = engine.stream_table(trade_schema());
        let by = |t: &Table| t.update_by(std::slice::from_ref(&op), &keys).unwrap();
        let (whole_by, cycled_by, stream_by) = (by(&whole), by(&cycled), by(&stream));
        whole
            .add(Batch::from_rows(&trade_schema(), &rows).unwrap())
            .unwrap();
        // Over a stream, a time window's row tied with a row of a later cycle (of its
        // instrument) is gone when that row comes, so it keeps the value without it.
        let time = case["timestampCol"].is_string() && case["op"] != "ema";
        let tied_later = |i: usize, end: usize| {
            time && rows[end..]
                .iter()
                .any(|r| r[0] == rows[i][0] && r[2] == rows[i][2])
        };
        let mut seen = 0;
        for chunk in rows.chunks(7) {
            let batch = Batch::from_rows(&trade_schema(), chunk).unwrap();
            cycled.add(batch.clone()).unwrap();
            stream.add(batch).unwrap();
            engine.run_cycle().unwrap();
            let end = seen + chunk.len();
            let out = column(&stream_by);
            check("a stream in cycles of 7", case, &out, seen, |i| {
                tied_later(i, end)
            });
            seen = end;
        }
        check(
            "an append table in one cycle",
            case,
            &column(&whole_by),
            0,
            |_| false,
        );
        check(
            "an append table in cycles of 7",
            case,
            &column(&cycled_by),
            0,
            |_| false,
        );
        checked += 1;
    }
    assert_eq!(checked, 19, "every updateBy case of golden.json");
}
