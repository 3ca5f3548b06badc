//! `groupBy`, `ungroup`, `Agg.group`, `Agg.distinct` and array formulas: after every cycle, each
//! derived table equals the same operation computed from scratch over exactly the rows the
//! semantics say it covers, over append, stream (blink), ring and dropStream sources.

use std::cmp::Ordering;

use proptest::prelude::*;

use super::tests::{Row, arb_row, assert_rows_close, assert_rows_eq, schema};
use crate::column::{ColumnType, Value};
use crate::table::{Batch, Engine, Schema, Table};
use crate::{Agg, Error};

/// Groups of `rows` by the columns `keys`, in order of first appearance, members in row order.
fn groups<'a>(rows: &'a [Row], keys: &[usize]) -> Vec<(Row, Vec<&'a Row>)> {
    let mut out: Vec<(Row, Vec<&Row>)> = Vec::new();
    for row in rows {
        let key: Row = keys.iter().map(|&k| row[k].clone()).collect();
        match out.iter_mut().find(|(k, _)| *k == key) {
            Some((_, members)) => members.push(row),
            None => out.push((key, vec![row])),
        }
    }
    out
}

/// `groupBy(keys)` from scratch: keys, then every other column as an array.
fn reference_group_by(rows: &[Row], keys: &[usize]) -> Vec<Row> {
    let width = rows.first().map_or(0, Vec::len).max(schema().len());
    groups(rows, keys)
        .into_iter()
        .map(|(mut key, members)| {
            for c in (0..width).filter(|c| !keys.contains(c)) {
                key.push(Value::Array(members.iter().map(|r| r[c].clone()).collect()));
            }
            key
        })
        .collect()
}

/// Nulls first, then by value.
fn order(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Less,
        (_, Value::Null) => Ordering::Greater,
        (Value::F64(x), Value::F64(y)) => x.partial_cmp(y).unwrap_or(Ordering::Equal),
        (Value::I32(x), Value::I32(y)) => x.cmp(y),
        (Value::String(x), Value::String(y)) => x.cmp(y),
        _ => Ordering::Equal,
    }
}

/// Distinct values (nulls only when asked), ascending, nulls first.
fn distinct(values: impl Iterator<Item = Value>, include_nulls: bool) -> Value {
    let mut seen: Vec<Value> = Vec::new();
    for v in values {
        if (include_nulls || !v.is_null()) && !seen.contains(&v) {
            seen.push(v);
        }
    }
    seen.sort_by(order);
    Value::Array(seen)
}

/// The array aggregations under test, and their reference.
fn array_aggs() -> Vec<Agg> {
    vec![
        Agg::group("Sizes = Size"),
        Agg::distinct("Qtys = Qty"),
        Agg::distinct_with_nulls("Instruments = Instrument"),
        Agg::distinct("Sizes2 = Size"),
    ]
}

fn reference_array_aggs(rows: &[Row]) -> Vec<Row> {
    groups(rows, &[0])
        .into_iter()
        .map(|(mut key, members)| {
            let column = |c: usize| members.iter().map(move |r| r[c].clone());
            key.push(Value::Array(column(2).collect()));
            key.push(distinct(column(3), false));
            key.push(distinct(column(1), true));
            key.push(distinct(column(2), false));
            key
        })
        .collect()
}

/// Formulas over a grouped table, and their reference over one group's arrays.
const FORMULAS: &[&str] = &[
    "Exchange",
    "N = len(Size)",
    "S = sum(Qty)",
    "SS = sum(Size)",
    "F = Size[0]",
    "L = Qty[len(Qty) - 1]",
    "Out = Qty[99]",
    "Neg = Qty[-1]",
    "M = max(Qty)",
    "Lo = min(Size)",
    "A = avg(Qty)",
    "T = max(Ts)",
    "First = Instrument[0]",
];

fn reference_formulas(grouped: &[Row]) -> Vec<Row> {
    let int = |v: &Value| match v {
        Value::I32(x) => Some(i64::from(*x)),
        _ => None,
    };
    let float = |v: &Value| match v {
        Value::F64(x) => Some(*x),
        _ => None,
    };
    grouped
        .iter()
        .map(|g| {
            // Columns of a groupBy by Exchange: Exchange, Instrument, Size, Qty, Flag, Ts.
            let array = |c: usize| match &g[c] {
                Value::Array(v) => v.clone(),
                _ => Vec::new(),
            };
            let (sizes, qtys, ts) = (array(2), array(3), array(5));
            let q: Vec<i64> = qtys.iter().filter_map(int).collect();
            let s: Vec<f64> = sizes.iter().filter_map(float).collect();
            let t: Vec<i64> = ts
                .iter()
                .filter_map(|v| match v {
                    Value::Timestamp(x) => Some(*x),
                    _ => None,
                })
                .collect();
            let or_null = |v: Option<Value>| v.unwrap_or(Value::Null);
            vec![
                g[0].clone(),
                Value::I64(sizes.len() as i64),
                or_null((!q.is_empty()).then(|| Value::I64(q.iter().sum()))),
                or_null((!s.is_empty()).then(|| Value::F64(s.iter().sum()))),
                sizes.first().cloned().unwrap_or(Value::Null),
                qtys.last().cloned().unwrap_or(Value::Null),
                qtys.get(99).cloned().unwrap_or(Value::Null),
                Value::Null,
                or_null(q.iter().max().map(|&m| Value::I32(m as i32))),
                or_null(s.iter().copied().reduce(f64::min).map(Value::F64)),
                Value::F64(q.iter().sum::<i64>() as f64 / q.len() as f64),
                or_null(t.iter().max().map(|&m| Value::Timestamp(m))),
                array(1).first().cloned().unwrap_or(Value::Null),
            ]
        })
        .collect()
}

/// Sorts rows by their first `keys` values (stable, so rows of one key keep their order).
fn by_key(rows: &[Row], keys: usize) -> Vec<Row> {
    let mut rows = rows.to_vec();
    rows.sort_by_key(|r| format!("{:?}", &r[..keys]));
    rows
}

struct Derived {
    source: &'static str,
    what: &'static str,
    table: Table,
}

fn check_grouping(cycles: &[Vec<Row>], ring_capacity: usize) -> Result<(), TestCaseError> {
    let engine = Engine::new();
    let append = engine.append_table(schema());
    let stream = engine.stream_table(schema());
    let ring = engine.ring_table(schema(), ring_capacity);
    let dropped_stream = stream.drop_stream().unwrap();
    let dropped_ring = ring.drop_stream().unwrap();
    let mut derived = Vec::new();
    for (source, t) in [
        ("append", &append),
        ("stream", &stream),
        ("ring", &ring),
        ("stream.dropStream", &dropped_stream),
        ("ring.dropStream", &dropped_ring),
    ] {
        let mut add = |what, table| {
            derived.push(Derived {
                source,
                what,
                table,
            })
        };
        if source == "stream" {
            // A blink table's groups would hold every row ever seen: refused, as Deephaven does.
            // Its distinct values stay (they hold the distinct values only).
            for refused in [
                t.group_by(&["Exchange"]).err(),
                t.agg_by(&array_aggs(), &["Exchange"]).err(),
            ] {
                let e = refused.map(|e| e.to_string()).unwrap_or_default();
                prop_assert!(e.contains("dropStream()"), "{}", e);
            }
            add(
                "distinct by Exchange",
                t.agg_by(&array_aggs()[1..], &["Exchange"]).unwrap(),
            );
            continue;
        }
        let by_exchange = t.group_by(&["Exchange"]).unwrap();
        add("groupBy()", t.group_by(&[]).unwrap());
        add(
            "groupBy(Exchange, Instrument)",
            t.group_by(&["Exchange", "Instrument"]).unwrap(),
        );
        add(
            "arrays by Exchange",
            t.agg_by(&array_aggs(), &["Exchange"]).unwrap(),
        );
        add("formulas", by_exchange.view(FORMULAS).unwrap());
        add("ungroup", by_exchange.ungroup(&[], false).unwrap());
        add("groupBy(Exchange)", by_exchange);
    }
    let mut everything: Vec<Row> = Vec::new();
    for rows in cycles {
        let batch = Batch::from_rows(&schema(), rows).unwrap();
        for source in [&append, &stream, &ring] {
            source.add(batch.clone()).unwrap();
        }
        engine.run_cycle().unwrap();
        everything.extend(rows.iter().cloned());
        let ring_rows = everything[everything.len().saturating_sub(ring_capacity)..].to_vec();
        for d in &derived {
            let covered: &[Row] = match d.source {
                "append" | "stream" => &everything, // blink: every row ever seen
                "ring" | "ring.dropStream" => &ring_rows,
                _ => rows,
            };
            let name = format!("{}.{}", d.source, d.what);
            prop_assert!(d.table.error().is_none(), "{}: {:?}", name, d.table.error());
            let got = d.table.all_rows();
            // A group of a ring that left and came back keeps its first position, so groups
            // are compared as a set (rows of one group keep their order).
            match d.what {
                "groupBy()" => {
                    let want = if covered.is_empty() {
                        Vec::new()
                    } else {
                        reference_group_by(covered, &[])
                    };
                    assert_rows_eq(&got, &want, &name)?;
                }
                "groupBy(Exchange)" => {
                    let want = reference_group_by(covered, &[0]);
                    assert_rows_close(&got, &want, 1, &name)?;
                }
                "groupBy(Exchange, Instrument)" => {
                    let want = reference_group_by(covered, &[0, 1]);
                    assert_rows_close(&got, &want, 2, &name)?;
                }
                "arrays by Exchange" => {
                    assert_rows_close(&got, &reference_array_aggs(covered), 1, &name)?;
                }
                "distinct by Exchange" => {
                    let mut want = reference_array_aggs(covered);
                    want.iter_mut().for_each(|r| {
                        r.remove(1);
                    });
                    assert_rows_close(&got, &want, 1, &name)?;
                }
                "formulas" => {
                    let want = reference_formulas(&reference_group_by(covered, &[0]));
                    assert_rows_close(&got, &want, 1, &name)?;
                }
                _ => {
                    // groupBy then ungroup gives back the rows, group by group, keys first.
                    let want: Vec<Row> = groups(covered, &[0])
                        .into_iter()
                        .flat_map(|(_, members)| members)
                        .map(|r| {
                            let mut out = vec![r[0].clone()];
                            out.extend(r[1..].iter().cloned());
                            out
                        })
                        .collect();
                    assert_rows_eq(&by_key(&got, 1), &by_key(&want, 1), &name)?;
                }
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn grouping_equals_a_recomputation_after_every_cycle(
        cycles in proptest::collection::vec(proptest::collection::vec(arb_row(), 0..20), 1..10),
        ring_capacity in 1usize..30,
    ) {
        check_grouping(&cycles, ring_capacity)?;
    }
}

fn arrays_schema() -> Schema {
    Schema::of(&[
        ("K", ColumnType::String),
        ("A", ColumnType::I64.array_of().unwrap()),
        ("B", ColumnType::F64.array_of().unwrap()),
    ])
    .unwrap()
}

fn arb_array(element: fn(i64) -> Value) -> impl Strategy<Value = Value> {
    proptest::option::weighted(
        0.85,
        proptest::collection::vec(
            proptest::option::weighted(0.8, -9i64..9)
                .prop_map(move |v| v.map_or(Value::Null, element)),
            0..4,
        ),
    )
    .prop_map(|v| v.map_or(Value::Null, Value::Array))
}

fn arb_array_row() -> impl Strategy<Value = Row> {
    (
        proptest::sample::select(&["x", "y", "z"][..]),
        arb_array(Value::I64),
        arb_array(|v| Value::F64(v as f64 / 2.0)),
    )
        .prop_map(|(k, a, b)| vec![Value::String(k.into()), a, b])
}

/// `ungroup` from scratch: one row per element, the arrays padded with nulls to the longest
/// (`columns`: which are ungrouped).
fn reference_ungroup(rows: &[Row], columns: &[usize]) -> Vec<Row> {
    let len = |v: &Value| match v {
        Value::Array(a) => a.len(),
        _ => 0,
    };
    let mut out = Vec::new();
    for row in rows {
        let n = columns.iter().map(|&c| len(&row[c])).max().unwrap_or(1);
        for i in 0..n {
            out.push(
                row.iter()
                    .enumerate()
                    .map(|(c, v)| match v {
                        Value::Array(a) if columns.contains(&c) => {
                            a.get(i).cloned().unwrap_or(Value::Null)
                        }
                        _ if columns.contains(&c) => Value::Null,
                        other => other.clone(),
                    })
                    .collect(),
            );
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    /// Array columns of a source table (null, empty and null-holding arrays) ungrouped with
    /// nullFill, all of them or one, over append, stream and ring sources.
    #[test]
    fn ungroup_with_null_fill_equals_a_recomputation_after_every_cycle(
        cycles in proptest::collection::vec(proptest::collection::vec(arb_array_row(), 0..12), 1..10),
        ring_capacity in 1usize..20,
    ) {
        let engine = Engine::new();
        let append = engine.append_table(arrays_schema());
        let stream = engine.stream_table(arrays_schema());
        let ring = engine.ring_table(arrays_schema(), ring_capacity);
        let mut built = Vec::new();
        for (name, t) in [("append", &append), ("stream", &stream), ("ring", &ring)] {
            built.push((name, "all", t.ungroup(&[], true).unwrap()));
            built.push((name, "A", t.ungroup(&["A"], true).unwrap()));
            // Copies of array columns through row-wise operators keep them.
            built.push((name, "where", t.where_(&["len(A) > 0 || isNull(B)"]).unwrap()));
        }
        let mut everything: Vec<Row> = Vec::new();
        for rows in &cycles {
            let batch = Batch::from_rows(&arrays_schema(), rows).unwrap();
            for t in [&append, &stream, &ring] {
                t.add(batch.clone()).unwrap();
            }
            engine.run_cycle().unwrap();
            everything.extend(rows.iter().cloned());
            let ring_rows = everything[everything.len().saturating_sub(ring_capacity)..].to_vec();
            for (source, what, table) in &built {
                let input: &[Row] = match *source { "append" => &everything, "stream" => rows, _ => &ring_rows };
                let want = match *what {
                    "all" => reference_ungroup(input, &[1, 2]),
                    "A" => reference_ungroup(input, &[1]),
                    _ => input
                        .iter()
                        .filter(|r| matches!(&r[1], Value::Array(a) if !a.is_empty()) || r[2].is_null())
                        .cloned()
                        .collect(),
                };
                assert_rows_eq(&table.all_rows(), &want, &format!("{source}.{what}"))?;
            }
            prop_assert!(built[3].2.is_blink(), "an ungroup of a stream is blink");
        }
    }
}

#[test]
fn ungroup_without_null_fill_fails_on_arrays_of_different_lengths() {
    let engine = Engine::new();
    let t = engine.append_table(arrays_schema());
    let strict = t.ungroup(&[], false).unwrap();
    let arrays = |a: &[i64], b: &[f64]| {
        vec![
            Value::String("x".into()),
            Value::Array(a.iter().map(|&v| Value::I64(v)).collect()),
            Value::Array(b.iter().map(|&v| Value::F64(v)).collect()),
        ]
    };
    t.add(
        Batch::from_rows(
            &arrays_schema(),
            &[arrays(&[1, 2], &[0.5, 1.5]), arrays(&[], &[])],
        )
        .unwrap(),
    )
    .unwrap();
    engine.run_cycle().unwrap();
    assert_eq!(strict.size(), 2, "equal lengths; an empty row makes no row");
    assert_eq!(
        strict.all_rows()[1],
        vec![Value::String("x".into()), Value::I64(2), Value::F64(1.5)]
    );
    t.add(Batch::from_rows(&arrays_schema(), &[arrays(&[1, 2, 3], &[0.5])]).unwrap())
        .unwrap();
    engine.run_cycle().unwrap();
    let e = strict.error().expect("different lengths fail the table");
    assert!(
        e.contains("row 2") && e.contains("A has 3") && e.contains("B has 1"),
        "{e}"
    );
    assert_eq!(strict.size(), 2, "a failed table keeps its last rows");
    // Built over rows that already differ, it fails at once.
    let e = t.ungroup(&[], false).err().unwrap().to_string();
    assert!(e.contains("nullFill"), "{e}");
}

#[test]
fn arrays_are_refused_where_they_cannot_go() {
    let engine = Engine::new();
    let t = engine.append_table(arrays_schema());
    let message = |r: crate::Result<Table>| match r {
        Err(e) => e.to_string(),
        Ok(_) => panic!("expected an error"),
    };
    for (e, wants) in [
        (message(t.group_by(&["A"])), "arrays cannot be keys"),
        (message(t.count_by("N", &["B"])), "arrays cannot be keys"),
        (
            message(t.agg_by(&[Agg::sum("S = A")], &["K"])),
            "reduce it in a formula",
        ),
        (message(t.sort(&["A"])), "sort: A is an array column"),
        (message(t.ungroup(&["K"], false)), "not an array column"),
        (message(t.ungroup(&["Nope"], false)), "Nope"),
        (
            message(t.agg_by(&[Agg::group("A")], &["K"])),
            "arrays of arrays",
        ),
        (message(t.group_by(&["K"])), "arrays of arrays"),
        (message(t.view(&["X = A + 1"])), "needs numbers"),
        (message(t.view(&["X = A == B"])), "does not apply to arrays"),
        (message(t.view(&["X = K[0]"])), "indexes an array"),
        (
            message(t.view(&["X = A[`a`]"])),
            "an array index is an int or a long",
        ),
        (message(t.view(&["X = sum(K)"])), "takes an array"),
        (message(t.view(&["X = avg(A, B)"])), "unknown function avg"),
    ] {
        assert!(e.contains(wants), "{e:?} should say {wants:?}");
    }
    assert!(matches!(t.group_by(&["A"]), Err(Error::Invalid(_))));
}

#[test]
fn array_values_read_back_and_count_in_memory_stats() {
    let engine = Engine::new();
    let t = engine.append_table(arrays_schema());
    let empty = t.stats().bytes_used;
    let rows: Vec<Row> = (0..1_000)
        .map(|i| {
            vec![
                Value::String("k".into()),
                Value::Array((0..10).map(Value::I64).collect()),
                if i % 2 == 0 {
                    Value::Null
                } else {
                    Value::Array(vec![])
                },
            ]
        })
        .collect();
    t.add(Batch::from_rows(&arrays_schema(), &rows).unwrap())
        .unwrap();
    engine.run_cycle().unwrap();
    let stats = t.stats();
    // 10,000 longs of A, and an end offset per row and array column.
    assert!(
        stats.bytes_used >= empty + 10_000 * 8 + 2 * 1_000 * 8,
        "{stats:?}"
    );
    assert_eq!(t.get("B", 0).unwrap(), Value::Null);
    assert_eq!(t.get("B", 1).unwrap(), Value::Array(vec![]));
    assert_eq!(
        t.get("A", 999).unwrap().to_string(),
        "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]"
    );
    assert_eq!(ColumnType::F64.array_of().unwrap().to_string(), "double[]");
    assert_eq!(
        ColumnType::String.array_of().unwrap().to_string(),
        "string[]"
    );
    let grouped = t
        .view(&["K", "N = len(A)"])
        .unwrap()
        .group_by(&["K"])
        .unwrap();
    assert_eq!(grouped.size(), 1);
    // The grouped table's array (1,000 longs) and the operator's copy of the values.
    assert!(
        grouped.stats().bytes_used > 2 * 1_000 * 8,
        "{:?}",
        grouped.stats()
    );
}

/// The same over cycles of thousands of rows, a ring holding more than one cycle: arrays whose
/// values span several storage chunks, read from the middle of the first one.
#[test]
fn grouping_over_cycles_of_thousands_of_rows_equals_a_recomputation() {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let rows = proptest::collection::vec(arb_row(), 3_000);
    let cycles: Vec<Vec<Row>> = (0..3)
        .map(|_| rows.new_tree(&mut runner).map(|t| t.current()))
        .collect::<Result<_, _>>()
        .unwrap();
    check_grouping(&cycles, 4_500).unwrap();
}

/// Array columns travel through a join (rewritten, since an array cannot change in place), a
/// sort and a merge.
#[test]
fn arrays_travel_through_joins_sorts_and_merges() {
    let engine = Engine::new();
    let trades = engine.append_table(schema());
    // An append table: Group over a blink one is refused.
    let grouped_source = engine.append_table(schema());
    let sizes = grouped_source
        .agg_by(&[Agg::group("Sizes = Size")], &["Exchange"])
        .unwrap();
    let joined = trades
        .natural_join(&sizes, &["Exchange"], &["Sizes"])
        .unwrap();
    let sorted = sizes.sort(&["-Exchange"]).unwrap();
    let merged = sizes.merge(&[&sorted]).unwrap();
    let row = |exchange: &str, size: f64| {
        let mut r = vec![Value::Null; schema().len()];
        r[0] = Value::String(exchange.into());
        r[2] = Value::F64(size);
        r
    };
    let mut all = Vec::new();
    for (cycle, rows) in [
        vec![row("a", 1.0), row("b", 2.0)],
        vec![row("a", 3.0)],
        vec![row("c", 4.0), row("b", 5.0)],
    ]
    .into_iter()
    .enumerate()
    {
        let batch = Batch::from_rows(&schema(), &rows).unwrap();
        trades.add(batch.clone()).unwrap();
        grouped_source.add(batch).unwrap();
        engine.run_cycle().unwrap();
        all.extend(rows);
        let grouped = reference_group_by(&all, &[0]);
        let sizes_of = |exchange: &Value| {
            grouped
                .iter()
                .find(|g| g[0] == *exchange)
                .map_or(Value::Null, |g| g[2].clone())
        };
        let want: Vec<Row> = all
            .iter()
            .map(|r| {
                let mut out = r.clone();
                out.push(sizes_of(&r[0]));
                out
            })
            .collect();
        assert_eq!(joined.all_rows(), want, "cycle {cycle}");
        assert!(joined.error().is_none());
        let by_key: Vec<Row> = grouped
            .iter()
            .map(|g| vec![g[0].clone(), g[2].clone()])
            .collect();
        let mut descending = by_key.clone();
        descending.reverse();
        assert_eq!(sizes.all_rows(), by_key);
        assert_eq!(sorted.all_rows(), descending);
        assert_eq!(
            merged.all_rows(),
            [by_key.clone(), descending.clone()].concat()
        );
    }
}

/// A source table keeps every column of its batches: arrays and binary ones are copied, date and
/// time ones adopted (before arrays, date, time and binary batches were dropped by sources).
#[test]
fn source_tables_keep_array_binary_date_and_time_columns() {
    let schema = Schema::of(&[
        ("N", ColumnType::I64),
        ("A", ColumnType::I32.array_of().unwrap()),
        ("B", ColumnType::Binary),
        ("D", ColumnType::Date),
        ("T", ColumnType::Time),
    ])
    .unwrap();
    let row = |i: i64| {
        vec![
            Value::I64(i),
            Value::Array(vec![Value::I32(i as i32); i as usize % 3]),
            Value::Binary(vec![i as u8]),
            Value::Date(i as i32),
            Value::Time(i * 1_000),
        ]
    };
    let engine = Engine::new();
    let append = engine.append_table(schema.clone());
    let ring = engine.ring_table(schema.clone(), 3);
    let mut all = Vec::new();
    for cycle in 0..3 {
        let rows: Vec<Row> = (cycle * 2..cycle * 2 + 2).map(row).collect();
        let batch = Batch::from_rows(&schema, &rows).unwrap();
        append.add(batch.clone()).unwrap();
        ring.add(batch).unwrap();
        engine.run_cycle().unwrap();
        all.extend(rows);
        assert_eq!(append.all_rows(), all);
        assert_eq!(ring.all_rows(), all[all.len().saturating_sub(3)..]);
    }
}
