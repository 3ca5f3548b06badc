//! The reducer kinds (AbsSum, Median, Pct, Unique, SortedFirst, SortedLast, CountWhere) and the
//! `…By` shortcuts, checked as the built-in kinds are (`ops/tests.rs`): after every cycle, over
//! append, stream, ring and dropStream sources, against a plain recomputation of the rows covered.

use std::cmp::Ordering;

use proptest::prelude::*;
use proptest::strategy::ValueTree;

use crate::column::{ColumnType, Value};
use crate::ops::tests::{Row, arb_row, check_aggregations_of, column, schema};
use crate::table::{Batch, Engine, Schema};
use crate::{Agg, AggKind};

fn reducer_aggs() -> Vec<Agg> {
    vec![
        Agg::abs_sum("AbsSumSize = Size"),
        Agg::abs_sum("AbsSumQty = Qty"),
        Agg::median("MedSize = Size"),
        Agg::median("MedQty = Qty"),
        Agg::median("MedInstrument = Instrument"),
        Agg::median("MedTs = Ts"),
        Agg::median("MedQtyLow = Qty").average_evenly_divided(false),
        Agg::pct(0.25, "P25Size = Size"),
        Agg::pct(0.9, "P90Qty = Qty").average_evenly_divided(true),
        Agg::pct(0.75, "P75Exchange = Exchange"),
        Agg::pct(1.0, "P100Flag = Flag"),
        Agg::unique("UniqueExchange = Exchange"),
        Agg::unique("UniqueQty = Qty")
            .include_nulls(true)
            .non_unique_sentinel(Value::I32(-99)),
        Agg::unique("UniqueFlag = Flag"),
        Agg::unique("UniqueSize = Size").non_unique_sentinel(Value::F64(-1.5)),
        Agg::sorted_first("Qty", "SortedFirstSize = Size"),
        Agg::sorted_last("Size", "SortedLastExchange = Exchange"),
        Agg::sorted_first("Exchange", "SortedFirstTs = Ts"),
        Agg::sorted_last("Flag", "SortedLastQty = Qty"),
        Agg::count_where("CountBig", &["Size > 0", "Qty >= 1"]),
        Agg::count_where("CountBtc", &["Instrument.startsWith(`BTC`)"]),
        Agg::count_where(
            "CountVenues",
            &["Exchange in `kraken`, `lgo`", "Flag = true"],
        ),
    ]
}

/// Deephaven's sort order of one column's values: nulls first, -0.0 equal to 0.0.
fn order(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Less,
        (_, Value::Null) => Ordering::Greater,
        (Value::F64(x), Value::F64(y)) => x.partial_cmp(y).unwrap_or(Ordering::Equal),
        (Value::I32(x), Value::I32(y)) => x.cmp(y),
        (Value::I64(x), Value::I64(y)) | (Value::Timestamp(x), Value::Timestamp(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::String(x), Value::String(y)) => x.cmp(y),
        _ => Ordering::Equal,
    }
}

fn as_f64(v: &Value) -> f64 {
    match v {
        Value::F64(x) => *x,
        Value::I32(x) => f64::from(*x),
        Value::I64(x) => *x as f64,
        _ => f64::NAN,
    }
}

/// The filters of [`reducer_aggs`], written out.
fn passes(filter: &str, r: &Row) -> bool {
    match filter {
        "Size > 0" => matches!(r[column("Size")], Value::F64(x) if x > 0.0),
        "Qty >= 1" => matches!(r[column("Qty")], Value::I32(q) if q >= 1),
        "Instrument.startsWith(`BTC`)" => {
            matches!(&r[column("Instrument")], Value::String(s) if s.starts_with("BTC"))
        }
        "Exchange in `kraken`, `lgo`" => {
            matches!(&r[column("Exchange")], Value::String(s) if s == "kraken" || s == "lgo")
        }
        "Flag = true" => r[column("Flag")] == Value::Bool(true),
        other => panic!("no reference for the filter {other}"),
    }
}

/// One reducer aggregation over a group's rows, the obvious way (sorting, scanning).
pub(crate) fn reference_agg(agg: &Agg, rows: &[&Row]) -> Value {
    if agg.kind == AggKind::CountWhere {
        let n = rows
            .iter()
            .filter(|r| agg.options.filters.iter().all(|f| passes(f, r)))
            .count();
        return Value::I64(n as i64);
    }
    let c = column(agg.input.as_deref().unwrap());
    let present: Vec<&Value> = rows
        .iter()
        .map(|r| &r[c])
        .filter(|v| !v.is_null())
        .collect();
    match agg.kind {
        AggKind::AbsSum if present.is_empty() => Value::Null,
        AggKind::AbsSum => match present[0] {
            Value::F64(_) => Value::F64(present.iter().map(|v| as_f64(v).abs()).sum()),
            _ => Value::I64(present.iter().map(|v| as_f64(v).abs() as i64).sum()),
        },
        AggKind::Median | AggKind::Pct => {
            let mut sorted = present;
            sorted.sort_by(|a, b| order(a, b));
            let n = sorted.len();
            if n == 0 {
                return Value::Null;
            }
            let p = if agg.kind == AggKind::Median {
                0.5
            } else {
                agg.options.percentile
            };
            let numeric = matches!(sorted[0], Value::F64(_) | Value::I32(_) | Value::I64(_));
            if agg.options.average_evenly_divided && numeric {
                let rank = ((n - 1) as f64 * p).floor() as usize + 1;
                Value::F64(if 2 * rank == n {
                    (as_f64(sorted[rank - 1]) + as_f64(sorted[rank])) / 2.0
                } else {
                    as_f64(sorted[rank - 1])
                })
            } else {
                sorted[((n - 1) as f64 * p + 0.5).floor() as usize].clone()
            }
        }
        AggKind::Unique => {
            let mut distinct: Vec<Value> = Vec::new();
            for r in rows {
                let v = match &r[c] {
                    Value::F64(x) => Value::F64(x + 0.0),
                    other => other.clone(),
                };
                if (agg.options.include_nulls || !v.is_null()) && !distinct.contains(&v) {
                    distinct.push(v);
                }
            }
            match distinct.len() {
                0 => Value::Null,
                1 => distinct.remove(0),
                _ => agg
                    .options
                    .non_unique_sentinel
                    .clone()
                    .unwrap_or(Value::Null),
            }
        }
        AggKind::SortedFirst | AggKind::SortedLast => {
            let s = column(&agg.options.sort_by[0]);
            // `min_by` keeps the first of equal rows, `max_by` the last: a stable sort's ends.
            let row = if agg.kind == AggKind::SortedFirst {
                rows.iter().min_by(|a, b| order(&a[s], &b[s]))
            } else {
                rows.iter().max_by(|a, b| order(&a[s], &b[s]))
            };
            row.map_or(Value::Null, |r| r[c].clone())
        }
        other => panic!("no reference for {other:?}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn reducers_equal_a_recomputation_after_every_cycle(
        cycles in proptest::collection::vec(proptest::collection::vec(arb_row(), 0..25), 1..12),
        ring_capacity in 1usize..40,
    ) {
        check_aggregations_of(&reducer_aggs(), &cycles, ring_capacity)?;
    }
}

/// Cycles of several aggregation blocks (4,096 rows), a ring holding more than one cycle.
#[test]
fn reducers_over_cycles_of_several_blocks_equal_a_recomputation() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let rows = proptest::collection::vec(arb_row(), 5_000);
    let cycles: Vec<Vec<Row>> = (0..3)
        .map(|_| rows.new_tree(&mut runner).map(|t| t.current()))
        .collect::<Result<_, _>>()
        .unwrap();
    let aggs = [
        Agg::median("MedSize = Size"),
        Agg::pct(0.1, "P10Qty = Qty"),
        Agg::sorted_last("Ts", "SortedLastSize = Size"),
        Agg::unique("UniqueFlag = Flag"),
    ];
    check_aggregations_of(&aggs, &cycles, 7_000).unwrap();
}

/// A ring over many cycles: medians and percentiles of the rows present, the leaving rows taken
/// back from the order statistics cycle after cycle.
#[test]
fn medians_and_percentiles_of_a_ring_follow_many_cycles() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let engine = Engine::new();
    let capacity = 60;
    let ring = engine.ring_table(schema(), capacity);
    let aggs = [
        Agg::median("MedSize = Size"),
        Agg::median("MedQty = Qty"),
        Agg::pct(0.95, "P95Size = Size"),
        Agg::pct(0.05, "P5Qty = Qty").average_evenly_divided(true),
        Agg::pct(0.5, "P50Instrument = Instrument"),
    ];
    let by_exchange = ring.agg_by(&aggs, &["Exchange"]).unwrap();
    let keyless = ring.agg_by(&aggs, &[]).unwrap();
    let mut everything: Vec<Row> = Vec::new();
    for cycle in 0..400 {
        let size = proptest::collection::vec(arb_row(), 0..=(cycle % 45));
        let rows = size.new_tree(&mut runner).unwrap().current();
        ring.add(Batch::from_rows(&schema(), &rows).unwrap())
            .unwrap();
        engine.run_cycle().unwrap();
        everything.extend(rows);
        let present = &everything[everything.len().saturating_sub(capacity)..];
        let what = format!("cycle {cycle}");
        assert_groups(&by_exchange, &["Exchange"], &aggs, present, &what);
        assert_groups(&keyless, &[], &aggs, present, &what);
    }
}

/// `table` (an aggregation by `keys`) equals the reference over `present`, group by group.
fn assert_groups(table: &crate::Table, keys: &[&str], aggs: &[Agg], present: &[Row], what: &str) {
    let mut want: Vec<(Row, Vec<&Row>)> = Vec::new();
    for r in present {
        let key: Row = keys.iter().map(|k| r[column(k)].clone()).collect();
        match want.iter_mut().find(|(k, _)| *k == key) {
            Some((_, members)) => members.push(r),
            None => want.push((key, vec![r])),
        }
    }
    let mut want: Vec<Row> = want
        .into_iter()
        .map(|(mut key, members)| {
            key.extend(aggs.iter().map(|a| reference_agg(a, &members)));
            key
        })
        .collect();
    let mut got = table.all_rows();
    let by_key = |a: &Row, b: &Row| order(&a[0], &b[0]);
    want.sort_by(by_key);
    got.sort_by(by_key);
    assert_eq!(got.len(), want.len(), "{what}: groups");
    for (g, w) in got.iter().zip(&want) {
        let same = g.iter().zip(w).all(|(a, b)| match (a, b) {
            (Value::F64(x), Value::F64(y)) => x == y,
            _ => a == b,
        });
        assert!(same, "{what}: {g:?} != {w:?}");
    }
}

/// A ring whose keys keep changing: once the groups that left outnumber the live ones, the state
/// is rebuilt from the ring's rows, reducers included.
#[test]
fn reducers_follow_a_ring_rebuilt_when_dead_groups_dominate() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let engine = Engine::new();
    let capacity = 16;
    let ring = engine.ring_table(schema(), capacity);
    let aggs = [
        Agg::median("MedSize = Size"),
        Agg::sorted_first("Qty", "FirstSize = Size"),
        Agg::unique("UniqueExchange = Exchange"),
        Agg::count_where("Btc", &["Instrument.startsWith(`BTC`)"]),
        Agg::abs_sum("AbsQty = Qty"),
    ];
    let by_ts = ring.agg_by(&aggs, &["Ts"]).unwrap();
    let mut everything: Vec<Row> = Vec::new();
    for cycle in 0..300 {
        let mut rows = proptest::collection::vec(arb_row(), 10)
            .new_tree(&mut runner)
            .unwrap()
            .current();
        // A key of its own for every row (and a null now and then).
        for (i, r) in rows.iter_mut().enumerate() {
            r[column("Ts")] = match i {
                3 => Value::Null,
                _ => Value::Timestamp((everything.len() + i) as i64),
            };
        }
        ring.add(Batch::from_rows(&schema(), &rows).unwrap())
            .unwrap();
        engine.run_cycle().unwrap();
        everything.extend(rows);
        let present = &everything[everything.len().saturating_sub(capacity)..];
        assert_groups(&by_ts, &["Ts"], &aggs, present, &format!("cycle {cycle}"));
    }
}

#[test]
fn unique_over_a_ring_is_unique_again_once_the_other_values_leave() {
    let engine = Engine::new();
    let ring = engine.ring_table(schema(), 2);
    let unique = ring
        .agg_by(
            &[Agg::unique("U = Qty").non_unique_sentinel(Value::I32(-1))],
            &[],
        )
        .unwrap();
    let qty = |q: Option<i32>| {
        let mut row = vec![Value::Null; 6];
        row[column("Qty")] = q.map_or(Value::Null, Value::I32);
        row
    };
    let mut results = Vec::new();
    for q in [Some(1), Some(2), Some(2), None, Some(3)] {
        ring.add(Batch::from_rows(&schema(), &[qty(q)]).unwrap())
            .unwrap();
        engine.run_cycle().unwrap();
        results.push(unique.all_rows()[0][0].clone());
    }
    // [1], [1,2], [2,2], [2,null], [null,3]: nulls are skipped.
    let want = [1, -1, 2, 2, 3].map(Value::I32);
    assert_eq!(results, want);
}

#[test]
fn the_by_shortcuts_aggregate_every_other_column() {
    let engine = Engine::new();
    let source = engine.append_table(schema());
    let numbers = source.view(&["Exchange", "Size", "Qty"]).unwrap();
    type Shortcut = fn(&crate::Table, &[&str]) -> crate::Result<crate::Table>;
    type Spelled = fn(&str) -> Agg;
    let shortcuts: [(Shortcut, Spelled); 8] = [
        (|t, k| t.sum_by(k), Agg::sum),
        (|t, k| t.avg_by(k), Agg::avg),
        (|t, k| t.min_by(k), Agg::min),
        (|t, k| t.max_by(k), Agg::max),
        (|t, k| t.median_by(k), Agg::median),
        (|t, k| t.std_by(k), Agg::std),
        (|t, k| t.var_by(k), Agg::var),
        (|t, k| t.abs_sum_by(k), Agg::abs_sum),
    ];
    let built: Vec<_> = shortcuts
        .iter()
        .map(|(by, agg)| {
            let shortcut = by(&numbers, &["Exchange"]).unwrap();
            let spelled = numbers
                .agg_by(&[agg("Size"), agg("Qty")], &["Exchange"])
                .unwrap();
            (shortcut, spelled)
        })
        .collect();
    for (shortcut, _) in &built {
        assert_eq!(shortcut.schema().names(), ["Exchange", "Size", "Qty"]);
    }
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    for _ in 0..5 {
        let rows = proptest::collection::vec(arb_row(), 0..30)
            .new_tree(&mut runner)
            .unwrap()
            .current();
        source
            .add(Batch::from_rows(&schema(), &rows).unwrap())
            .unwrap();
        engine.run_cycle().unwrap();
        for (shortcut, spelled) in &built {
            let (got, want) = (shortcut.all_rows(), spelled.all_rows());
            assert_eq!(format!("{got:?}"), format!("{want:?}"));
        }
    }
    // As in Deephaven, a column the aggregation does not apply to is an error, not skipped.
    let e = source.sum_by(&["Exchange"]).err().unwrap().to_string();
    assert!(e.contains("Instrument") && e.contains("string"), "{e}");
    // A median of strings is their middle value (strings are comparable).
    assert!(source.median_by(&["Exchange"]).is_ok());
}

fn error_of(aggs: &[Agg]) -> String {
    let engine = Engine::new();
    let schema = Schema::of(&[
        ("Exchange", ColumnType::String),
        ("Size", ColumnType::F64),
        ("Qty", ColumnType::I32),
        ("Ts", ColumnType::Timestamp),
        ("Raw", ColumnType::Binary),
    ])
    .unwrap();
    let t = engine.append_table(schema);
    match t.agg_by(aggs, &["Exchange"]) {
        Ok(_) => panic!("{aggs:?} should be refused"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn bad_reducer_arguments_are_errors_at_build_time() {
    for p in [1.5, -0.1, f64::NAN] {
        let e = error_of(&[Agg::pct(p, "P = Size")]);
        assert!(
            e.contains("P = Pct(Size)") && e.contains("between 0 and 1"),
            "{e}"
        );
    }
    let e = error_of(&[Agg::median("M = Raw")]);
    assert!(e.contains("M = Median(Raw)") && e.contains("binary"), "{e}");
    let e = error_of(&[Agg::median("M = Nope")]);
    assert!(e.contains("Nope"), "{e}");
    for input in ["Exchange", "Ts"] {
        let e = error_of(&[Agg::abs_sum(&format!("A = {input}"))]);
        assert!(e.contains("cannot AbsSum"), "{e}");
    }
    let e = error_of(&[Agg::unique("U = Qty").non_unique_sentinel(Value::String("x".into()))]);
    assert!(e.contains("sentinel") && e.contains("int"), "{e}");
    let e = error_of(&[Agg::unique("U = Qty").non_unique_sentinel(Value::I64(1 << 40))]);
    assert!(e.contains("sentinel"), "{e}");
    let e = error_of(&[Agg::sorted_first("Missing", "F = Size")]);
    assert!(e.contains("Missing"), "{e}");
    let e = error_of(&[Agg::sorted_last("Raw", "F = Size")]);
    assert!(e.contains("binary"), "{e}");
    let mut no_sort = Agg::sorted_first("Qty", "F = Size");
    no_sort.options.sort_by.clear();
    let e = error_of(&[no_sort]);
    assert!(e.contains("one column to sort by"), "{e}");
    let e = error_of(&[Agg::count_where("N", &["Size + 1"])]);
    assert!(e.contains("must be boolean"), "{e}");
    let e = error_of(&[Agg::count_where("N", &["Nope > 1"])]);
    assert!(e.contains("Nope"), "{e}");
    let e = error_of(&[Agg::count_where("N", &["Ts > now() - 5 * MINUTE"])]);
    assert!(e.contains("clock"), "{e}");
    let e = error_of(&[Agg::count_where("N", &[])]);
    assert!(e.contains("at least one filter"), "{e}");
}

#[test]
fn a_sentinel_given_as_a_long_fits_an_int_column() {
    let engine = Engine::new();
    let t = engine.append_table(schema());
    let unique = t
        .agg_by(
            &[Agg::unique("U = Qty").non_unique_sentinel(Value::I64(-7))],
            &[],
        )
        .unwrap();
    let row = |q: i32| {
        let mut row = vec![Value::Null; 6];
        row[column("Qty")] = Value::I32(q);
        row
    };
    t.add(Batch::from_rows(&schema(), &[row(1), row(2)]).unwrap())
        .unwrap();
    engine.run_cycle().unwrap();
    assert_eq!(unique.all_rows(), vec![vec![Value::I32(-7)]]);
}

/// Deephaven's NaN rules: an averaging median of doubles with a NaN is NaN; without averaging,
/// NaN sorts above every number; the largest long is a number like any other.
#[test]
fn percentiles_follow_deephavens_nan_rule_and_take_any_long() {
    let engine = Engine::new();
    let schema = Schema::of(&[("X", ColumnType::F64), ("L", ColumnType::I64)]).unwrap();
    let t = engine.append_table(schema.clone());
    let result = t
        .agg_by(
            &[
                Agg::median("Med = X"),
                Agg::pct(0.0, "P0 = X"),
                Agg::pct(1.0, "P100 = X"),
                Agg::median("MedL = L"),
                Agg::pct(1.0, "MaxL = L"),
            ],
            &[],
        )
        .unwrap();
    let rows: Vec<Row> = [(1.0, i64::MAX), (f64::NAN, 1), (3.0, i64::MAX)]
        .iter()
        .map(|&(x, l)| vec![Value::F64(x), Value::I64(l)])
        .collect();
    t.add(Batch::from_rows(&schema, &rows).unwrap()).unwrap();
    engine.run_cycle().unwrap();
    let got = &result.all_rows()[0];
    assert!(matches!(got[0], Value::F64(x) if x.is_nan()), "{got:?}");
    assert_eq!(got[1], Value::F64(1.0));
    assert!(matches!(got[2], Value::F64(x) if x.is_nan()), "{got:?}");
    // Three longs: the middle one, as a double; the largest, as a long.
    assert_eq!(got[3], Value::F64(i64::MAX as f64));
    assert_eq!(got[4], Value::I64(i64::MAX));
}

/// A non-unique sentinel either fits the column (and is what a non-unique group gives) or the
/// aggregation is refused when it is built: it never becomes null silently.
#[test]
fn a_sentinel_is_given_as_it_is_or_refused_when_built() {
    let sentinels = [
        Value::Bool(true),
        Value::I32(-1),
        Value::I64(-7),
        Value::I64(1 << 40),
        Value::F64(-1.5),
        Value::F64(2.0),
        Value::String("x".into()),
        Value::Timestamp(5),
        Value::Date(3),
        Value::Time(4),
    ];
    let row = |i: i32| {
        vec![
            Value::String(format!("e{i}")),
            Value::Null,
            Value::F64(f64::from(i)),
            Value::I32(i),
            Value::Bool(i == 1),
            Value::Timestamp(i64::from(i)),
        ]
    };
    for input in ["Exchange", "Size", "Qty", "Flag", "Ts"] {
        for sentinel in &sentinels {
            let engine = Engine::new();
            let t = engine.append_table(schema());
            let agg = Agg::unique(&format!("U = {input}")).non_unique_sentinel(sentinel.clone());
            let unique = match t.agg_by(&[agg], &[]) {
                Ok(unique) => unique,
                Err(e) => {
                    let e = e.to_string();
                    assert!(e.contains("sentinel") && e.contains("U = Unique"), "{e}");
                    continue;
                }
            };
            t.add(Batch::from_rows(&schema(), &[row(1), row(2)]).unwrap())
                .unwrap();
            engine.run_cycle().unwrap();
            let got = unique.get("U", 0).unwrap();
            assert_ne!(got, Value::Null, "{input} with sentinel {sentinel:?}");
        }
    }
}

/// Strings read but no longer kept are freed by rebuilding the reducers' dictionary (past 4,096
/// strings and twice the kept ones): across many rebuilds, over a stream of unique strings (every
/// row ever seen counts) and over a ring (its rows count), every kept value still reads back as
/// the string it was, against a recomputation after every cycle.
#[test]
fn reducers_read_the_same_strings_across_dictionary_rebuilds() {
    let schema = Schema::of(&[
        ("G", ColumnType::String),
        ("Id", ColumnType::I64),
        ("K", ColumnType::String),
        ("U", ColumnType::String),
    ])
    .unwrap();
    let engine = Engine::new();
    let stream = engine.stream_table(schema.clone());
    let ring_size = 1_500;
    let ring = engine.ring_table(schema.clone(), ring_size);
    let stream_aggs = [
        Agg::unique("UniqueU = U"),
        Agg::sorted_first("Id", "FirstK = K"),
        Agg::sorted_last("K", "LastK = K"),
        Agg::sorted_first("K", "FirstU = U"),
    ];
    let ring_aggs = [
        Agg::unique("UniqueU = U"),
        Agg::sorted_first("Id", "FirstK = K"),
        Agg::median("MedK = K"),
        Agg::distinct("Ks = K"),
    ];
    let over_stream = stream.agg_by(&stream_aggs, &["G"]).unwrap();
    let over_ring = ring.agg_by(&ring_aggs, &["G"]).unwrap();
    let string = |s: &str| Value::String(s.into());
    let mut all: Vec<Row> = Vec::new();
    for cycle in 0..12i64 {
        let rows: Vec<Row> = (0..1_000)
            .map(|i| {
                let n = cycle * 1_000 + i;
                let g = ["a", "b", "c"][(n % 3) as usize];
                // Group a's U never changes, so it stays unique; b's and c's are new every row.
                let u = if g == "a" {
                    "always-a".to_owned()
                } else {
                    format!("u{n}")
                };
                // Keys not in arrival order, so the sorted ones move around.
                let k = format!("k{}", (n * 7_919) % 100_003);
                vec![string(g), Value::I64(n), string(&k), string(&u)]
            })
            .collect();
        let batch = Batch::from_rows(&schema, &rows).unwrap();
        stream.add(batch.clone()).unwrap();
        ring.add(batch).unwrap();
        engine.run_cycle().unwrap();
        all.extend(rows);
        let windowed = &all[all.len().saturating_sub(ring_size)..];
        for (table, covered, aggs) in [
            (&over_stream, &all[..], &stream_aggs[..]),
            (&over_ring, windowed, &ring_aggs[..]),
        ] {
            let want: Vec<Row> = ["a", "b", "c"]
                .iter()
                .map(|g| {
                    let members: Vec<&Row> = covered.iter().filter(|r| r[0] == string(g)).collect();
                    let text = |r: &Row, c: usize| match &r[c] {
                        Value::String(s) => s.to_string(),
                        _ => String::new(),
                    };
                    let mut out = vec![string(g)];
                    let mut ks: Vec<String> = members.iter().map(|r| text(r, 2)).collect();
                    ks.sort();
                    let by_k = |pick: usize| {
                        members
                            .iter()
                            .min_by(|x, y| text(x, 2).cmp(&text(y, 2)))
                            .map_or(Value::Null, |r| r[pick].clone())
                    };
                    for agg in aggs {
                        out.push(match agg.output.as_str() {
                            "UniqueU" => {
                                let mut us: Vec<String> =
                                    members.iter().map(|r| text(r, 3)).collect();
                                us.dedup();
                                match us.as_slice() {
                                    [one] => string(one),
                                    _ => Value::Null,
                                }
                            }
                            // Ids grow with arrival: the first row's.
                            "FirstK" => members[0][2].clone(),
                            // Keys are distinct: the greatest.
                            "LastK" => ks.last().map_or(Value::Null, |k| string(k)),
                            "FirstU" => by_k(3),
                            "MedK" => string(&ks[((ks.len() - 1) as f64 * 0.5 + 0.5) as usize]),
                            "Ks" => Value::Array(ks.iter().map(|k| string(k)).collect()),
                            other => panic!("no reference for {other}"),
                        });
                    }
                    out
                })
                .collect();
            assert_eq!(table.all_rows(), want, "cycle {cycle}");
        }
    }
    // Group a is unique throughout; the others are not.
    assert_eq!(over_stream.all_rows()[0][1], string("always-a"));
    assert_eq!(over_stream.all_rows()[1][1], Value::Null);
}

#[test]
fn std_and_var_of_large_values_keep_their_spread() {
    use crate::{Batch, ColumnType, Engine, Schema, Value};
    let schema = Schema::of(&[("K", ColumnType::I64), ("X", ColumnType::F64)]).unwrap();
    for base in [1e9, 1.7e12, -3.5e13] {
        let engine = Engine::new();
        let ring = engine.ring_table(schema.clone(), 4);
        let out = ring
            .agg_by(&[Agg::std("S = X"), Agg::var("V = X")], &["K"])
            .unwrap();
        let rows: Vec<Vec<Value>> = (0..6)
            .map(|k| vec![Value::I64(1), Value::F64(base + f64::from(k))])
            .collect();
        // Four values, then two more push the first two out of the ring: 2..=5 either way.
        ring.add(Batch::from_rows(&schema, &rows[..4]).unwrap())
            .unwrap();
        engine.run_cycle().unwrap();
        ring.add(Batch::from_rows(&schema, &rows[4..]).unwrap())
            .unwrap();
        engine.run_cycle().unwrap();
        let row = &out.all_rows()[0];
        let (Value::F64(s), Value::F64(v)) = (&row[1], &row[2]) else {
            panic!("{row:?}");
        };
        // 2, 3, 4, 5 around their mean: variance 5/3.
        assert!((v - 5.0 / 3.0).abs() < 1e-12, "{base}: var {v}");
        assert!((s - (5.0f64 / 3.0).sqrt()).abs() < 1e-12, "{base}: std {s}");
    }
}

#[test]
fn the_variance_of_huge_values_stays_finite() {
    use super::exact_sum::{add, add_square, sample_variance};
    // Past ~1e300 the exact products overflow: the plain difference takes over.
    for (xs, want) in [([1e150, 1e150], 0.0), ([1e150, 2e150], 5e299)] {
        let (mut s, mut q) = ((0.0, 0.0, [0; 3]), (0.0, 0.0, [0; 3]));
        for x in xs {
            add(&mut s.0, &mut s.1, &mut s.2, x);
            add_square(&mut q.0, &mut q.1, &mut q.2, x);
        }
        let v = sample_variance(2, s, q);
        assert!((v - want).abs() <= 1e-12 * want.max(1.0), "{xs:?}: {v}");
    }
}
