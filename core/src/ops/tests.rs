//! Every derived table, after every cycle, equals the same operation computed from scratch over
//! exactly the rows the semantics say it covers. The reference below is deliberately plain.

use proptest::prelude::*;
use proptest::strategy::ValueTree;

use crate::column::{ColumnType, Value};
use crate::table::{Batch, Engine, Schema, Table};
use crate::{Agg, AggKind};

pub(crate) type Row = Vec<Value>;

/// A test-only thread-local switch (`update_by`'s `ROW_PATH_ONLY`, `aj`'s `SEARCH_ONLY`) on while
/// this lives; dropped, even by a panic, it is off again for the tests this thread runs next.
pub(crate) struct SwitchOn(&'static std::thread::LocalKey<std::cell::Cell<bool>>);

impl SwitchOn {
    pub(crate) fn new(switch: &'static std::thread::LocalKey<std::cell::Cell<bool>>) -> Self {
        switch.with(|on| on.set(true));
        SwitchOn(switch)
    }
}

impl Drop for SwitchOn {
    fn drop(&mut self) {
        self.0.with(|on| on.set(false));
    }
}

pub(crate) fn schema() -> Schema {
    Schema::of(&[
        ("Exchange", ColumnType::String),
        ("Instrument", ColumnType::String),
        ("Size", ColumnType::F64),
        ("Qty", ColumnType::I32),
        ("Flag", ColumnType::Bool),
        ("Ts", ColumnType::Timestamp),
    ])
    .unwrap()
}

/// A row of [`schema`] with only a `Size`.
fn size_only(size: f64) -> Row {
    vec![
        Value::Null,
        Value::Null,
        Value::F64(size),
        Value::Null,
        Value::Null,
        Value::Null,
    ]
}

pub(crate) fn arb_row() -> impl Strategy<Value = Row> {
    let string = |choices: &'static [&'static str]| {
        proptest::option::weighted(0.9, proptest::sample::select(choices))
            .prop_map(|s| s.map_or(Value::Null, |s| Value::String(s.into())))
    };
    (
        string(&["binance", "kraken", "gemini", "lgo"]),
        string(&["BTC/USD", "ETH/USD", "ETH/BTC"]),
        proptest::option::weighted(0.9, prop_oneof![Just(0.0), Just(-0.0), -1e6f64..1e6f64]),
        proptest::option::weighted(0.9, -3i32..4),
        proptest::option::weighted(0.9, any::<bool>()),
        proptest::option::weighted(0.9, 0i64..1_000),
    )
        .prop_map(|(e, i, s, q, f, t)| {
            vec![
                e,
                i,
                s.map_or(Value::Null, Value::F64),
                q.map_or(Value::Null, Value::I32),
                f.map_or(Value::Null, Value::Bool),
                t.map_or(Value::Null, Value::Timestamp),
            ]
        })
}

fn aggs() -> Vec<Agg> {
    vec![
        Agg::count("N"),
        Agg::sum("SumSize = Size"),
        Agg::sum("SumQty = Qty"),
        Agg::min("MinSize = Size"),
        Agg::max("MaxQty = Qty"),
        Agg::avg("AvgSize = Size"),
        Agg::avg("AvgQty = Qty"),
        Agg::first("FirstExchange = Exchange"),
        Agg::last("LastSize = Size"),
        Agg::min("MinExchange = Exchange"),
        Agg::max("MaxInstrument = Instrument"),
        Agg::last("LastFlag = Flag"),
        Agg::first("FirstTs = Ts"),
        Agg::count_distinct("DistinctInstruments = Instrument"),
        Agg::count_distinct("DistinctQty = Qty"),
        Agg::var("VarSize = Size"),
        Agg::std("StdQty = Qty"),
        Agg::wavg("Qty", "WAvgSize = Size"),
    ]
}

const KEY_SETS: &[&[&str]] = &[
    &[],
    &["Exchange"],
    &["Exchange", "Instrument"],
    &["Qty", "Flag", "Instrument"],
    &["Size"],
];

pub(crate) fn column(name: &str) -> usize {
    schema().index_of(name).unwrap()
}

fn cmp(a: &Value, b: &Value) -> std::cmp::Ordering {
    match (a, b) {
        // Deephaven's DoubleComparisons: every NaN equal and above +inf, -0.0 equal to 0.0.
        (Value::F64(x), Value::F64(y)) => match (x.is_nan(), y.is_nan()) {
            (true, true) => std::cmp::Ordering::Equal,
            (a, b) if a != b => a.cmp(&b),
            _ => x.partial_cmp(y).unwrap_or(std::cmp::Ordering::Equal),
        },
        (Value::I32(x), Value::I32(y)) => x.cmp(y),
        (Value::String(x), Value::String(y)) => x.cmp(y),
        _ => std::cmp::Ordering::Equal,
    }
}

/// One aggregation over a group's rows, the obvious way.
fn reference_agg(agg: &Agg, rows: &[&Row]) -> Value {
    if agg.kind == AggKind::Count {
        return Value::I64(rows.len() as i64);
    }
    if agg.kind == AggKind::CountWhere {
        return super::agg::tests::reference_agg(agg, rows);
    }
    let c = column(agg.input.as_deref().unwrap());
    let values: Vec<&Value> = rows.iter().map(|r| &r[c]).collect();
    let present: Vec<&Value> = values.iter().copied().filter(|v| !v.is_null()).collect();
    let as_f64 = |v: &Value| match v {
        Value::F64(x) => *x,
        Value::I32(x) => f64::from(*x),
        _ => 0.0,
    };
    match agg.kind {
        AggKind::Count => unreachable!(),
        AggKind::Sum if present.is_empty() => Value::Null,
        AggKind::Sum => match present[0] {
            Value::F64(_) => Value::F64(present.iter().map(|v| as_f64(v)).fold(0.0, |a, b| a + b)),
            _ => Value::I64(present.iter().map(|v| as_f64(v) as i64).sum()),
        },
        AggKind::Avg if present.is_empty() => Value::Null,
        AggKind::Avg => Value::F64(
            present.iter().map(|v| as_f64(v)).fold(0.0, |a, b| a + b) / present.len() as f64,
        ),
        AggKind::Min => present
            .iter()
            .copied()
            .min_by(|a, b| cmp(a, b))
            .cloned()
            .unwrap_or(Value::Null),
        AggKind::Max => present
            .iter()
            .copied()
            .rev()
            .max_by(|a, b| cmp(a, b))
            .cloned()
            .unwrap_or(Value::Null),
        AggKind::First => values[0].clone(),
        AggKind::Last => values[values.len() - 1].clone(),
        AggKind::CountDistinct => {
            let mut seen: Vec<&Value> = Vec::new();
            for v in &present {
                if !seen.contains(v) {
                    seen.push(v);
                }
            }
            Value::I64(seen.len() as i64)
        }
        AggKind::Var | AggKind::Std if present.is_empty() => Value::Null,
        AggKind::Var | AggKind::Std => {
            // Two passes (the mean, then the squared deviations): no cancellation, so the
            // engine's double-double difference is checked against an accurate value.
            let n = present.len() as f64;
            let mean = present.iter().map(|v| as_f64(v)).sum::<f64>() / n;
            let ss: f64 = present
                .iter()
                .map(|v| (as_f64(v) - mean) * (as_f64(v) - mean))
                .sum();
            let var = if n == 1.0 { f64::NAN } else { ss / (n - 1.0) };
            Value::F64(if agg.kind == AggKind::Std {
                var.sqrt()
            } else {
                var
            })
        }
        AggKind::WAvg => {
            let w = column(agg.weight.as_deref().unwrap());
            let pairs: Vec<(f64, f64)> = rows
                .iter()
                .filter(|r| !r[c].is_null() && !r[w].is_null())
                .map(|r| (as_f64(&r[c]), as_f64(&r[w])))
                .collect();
            if pairs.is_empty() {
                Value::Null
            } else {
                let num = pairs.iter().map(|(x, w)| w * x).fold(0.0, |a, b| a + b);
                let den = pairs.iter().map(|(_, w)| *w).fold(0.0, |a, b| a + b);
                Value::F64(num / den)
            }
        }
        // The kinds with their own state have their reference next to them.
        _ => super::agg::tests::reference_agg(agg, rows),
    }
}

/// `aggBy` from scratch: groups in order of first appearance, keys then aggregations.
pub(super) fn reference(rows: &[Row], keys: &[&str], aggs: &[Agg]) -> Vec<Row> {
    let key_columns: Vec<usize> = keys.iter().map(|k| column(k)).collect();
    let mut groups: Vec<(Row, Vec<&Row>)> = Vec::new();
    for row in rows {
        let key: Row = key_columns.iter().map(|&c| row[c].clone()).collect();
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, members)) => members.push(row),
            None => groups.push((key, vec![row])),
        }
    }
    groups
        .into_iter()
        .map(|(mut key, members)| {
            key.extend(aggs.iter().map(|a| reference_agg(a, &members)));
            key
        })
        .collect()
}

/// Rows equal, treating -0.0 and 0.0 as equal (they group together).
pub(super) fn assert_rows_eq(got: &[Row], want: &[Row], what: &str) -> Result<(), TestCaseError> {
    prop_assert_eq!(got.len(), want.len(), "{}: row count", what);
    let same = |a: &Value, b: &Value| match (a, b) {
        (Value::F64(x), Value::F64(y)) => x == y || (x.is_nan() && y.is_nan()),
        _ => a == b,
    };
    for (g, w) in got.iter().zip(want) {
        prop_assert!(
            g.len() == w.len() && g.iter().zip(w).all(|(a, b)| same(a, b)),
            "{}: {:?} != {:?}",
            what,
            g,
            w
        );
    }
    Ok(())
}

/// Rows equal as multisets, doubles within a relative 1e-9: the engine's sums are exact then
/// rounded once, the reference folds them in row order; and a group of a ring that left and came
/// back keeps its first position.
pub(super) fn assert_rows_close(
    got: &[Row],
    want: &[Row],
    keys: usize,
    what: &str,
) -> Result<(), TestCaseError> {
    prop_assert_eq!(got.len(), want.len(), "{}: row count", what);
    let close = |a: &Value, b: &Value| match (a, b) {
        (Value::F64(x), Value::F64(y)) => {
            x == y
                || (x.is_nan() && y.is_nan())
                || (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0)
        }
        _ => a == b,
    };
    // -0.0 and 0.0 are one group: normalise before ordering.
    let key = |r: &Row| {
        r[..keys]
            .iter()
            .map(|v| match v {
                Value::F64(x) => format!("F64({})", x + 0.0),
                other => format!("{other:?}"),
            })
            .collect::<Vec<_>>()
    };
    let mut got: Vec<&Row> = got.iter().collect();
    let mut want: Vec<&Row> = want.iter().collect();
    got.sort_by_key(|r| key(r));
    want.sort_by_key(|r| key(r));
    for (g, w) in got.iter().zip(&want) {
        prop_assert!(
            g.len() == w.len() && g.iter().zip(w.iter()).all(|(a, b)| close(a, b)),
            "{}: {:?} != {:?}",
            what,
            g,
            w
        );
    }
    Ok(())
}

struct Derived {
    name: String,
    table: Table,
    keys: &'static [&'static str],
}

/// Feeds `cycles` of rows to an append, a stream and a ring table (and a dropStream of the
/// last two), and checks every aggregation of them against [`reference`] after each cycle.
fn check_aggregations(cycles: &[Vec<Row>], ring_capacity: usize) -> Result<(), TestCaseError> {
    check_aggregations_of(&aggs(), cycles, ring_capacity)
}

/// [`check_aggregations`] of `aggs`.
pub(crate) fn check_aggregations_of(
    aggs: &[Agg],
    cycles: &[Vec<Row>],
    ring_capacity: usize,
) -> Result<(), TestCaseError> {
    let engine = Engine::new();
    let append = engine.append_table(schema());
    let stream = engine.stream_table(schema());
    let ring = engine.ring_table(schema(), ring_capacity);
    let dropped_stream = stream.drop_stream().unwrap();
    let dropped_ring = ring.drop_stream().unwrap();
    let mut derived = Vec::new();
    for keys in KEY_SETS {
        for (name, source) in [
            ("append", &append),
            ("stream", &stream),
            ("ring", &ring),
            ("stream.dropStream", &dropped_stream),
            ("ring.dropStream", &dropped_ring),
        ] {
            derived.push(Derived {
                name: format!("{name} by {keys:?}"),
                table: source.agg_by(aggs, keys).unwrap(),
                keys,
            });
        }
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
        // What each source holds now, and what an aggregation over it covers.
        prop_assert_eq!(append.all_rows(), everything.clone());
        prop_assert_eq!(stream.all_rows(), rows.clone());
        prop_assert_eq!(ring.all_rows(), ring_rows.clone());
        prop_assert_eq!(dropped_stream.all_rows(), rows.clone());
        for d in &derived {
            let covered: &[Row] = match d.name.split(' ').next().unwrap() {
                "append" => &everything,
                "stream" => &everything, // blink: every row ever seen
                "ring" | "ring.dropStream" => &ring_rows,
                "stream.dropStream" => rows,
                other => unreachable!("{other}"),
            };
            // The reference folds sums in row order; the engine's are exact then rounded
            // once (double-double), so they may differ in the last bits.
            let want = reference(covered, d.keys, aggs);
            assert_rows_close(&d.table.all_rows(), &want, d.keys.len(), &d.name)?;
            prop_assert!(d.table.error().is_none());
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    #[test]
    fn aggregations_equal_a_recomputation_after_every_cycle(
        cycles in proptest::collection::vec(proptest::collection::vec(arb_row(), 0..25), 1..12),
        ring_capacity in 1usize..40,
    ) {
        check_aggregations(&cycles, ring_capacity)?;
    }
}

/// The same over cycles of several aggregation blocks (4,096 rows) each, a ring holding more
/// than one cycle: the blocks, the code pairs and a ring's history across block boundaries.
#[test]
fn aggregations_over_cycles_of_several_blocks_equal_a_recomputation() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let rows = proptest::collection::vec(arb_row(), 9_000);
    let cycles: Vec<Vec<Row>> = (0..3)
        .map(|_| rows.new_tree(&mut runner).map(|t| t.current()))
        .collect::<Result<_, _>>()
        .unwrap();
    check_aggregations(&cycles, 12_000).unwrap();
}

#[test]
fn a_keyless_count_follows_deephavens_rules() {
    let engine = Engine::new();
    let stream = engine.stream_table(schema());
    let blink_count = stream.count_by("N", &[]).unwrap();
    let cycle_count = stream.drop_stream().unwrap().count_by("N", &[]).unwrap();
    assert_eq!(blink_count.size(), 0, "no row before any row was seen");
    let row = size_only(1.0);
    stream
        .add(Batch::from_rows(&schema(), &[row.clone(), row]).unwrap())
        .unwrap();
    engine.run_cycle().unwrap();
    assert_eq!(blink_count.all_rows(), vec![vec![Value::I64(2)]]);
    assert_eq!(cycle_count.all_rows(), vec![vec![Value::I64(2)]]);
    engine.run_cycle().unwrap();
    assert_eq!(
        blink_count.all_rows(),
        vec![vec![Value::I64(2)]],
        "blink keeps accumulating"
    );
    assert_eq!(
        cycle_count.size(),
        0,
        "after dropStream the row goes in a cycle with no rows"
    );
}

#[test]
fn bad_aggregations_are_errors_at_build_time() {
    let engine = Engine::new();
    let t = engine.append_table(schema());
    let e = t
        .agg_by(&[Agg::sum("S = Nope")], &[])
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("Nope") && e.contains("Exchange"), "{e}");
    let e = t
        .agg_by(&[Agg::sum("S = Exchange")], &[])
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("string"), "{e}");
    let e = t.count_by("N", &["Missing"]).err().unwrap().to_string();
    assert!(e.contains("Missing"), "{e}");
    let e = t
        .agg_by(&[Agg::count("Exchange")], &["Exchange"])
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("twice"), "{e}");
}

#[test]
fn dropped_tables_leave_the_graph() {
    let engine = Engine::new();
    let t = engine.append_table(schema());
    let agg = t.count_by("N", &["Exchange"]).unwrap();
    assert_eq!(engine.live_tables(), 2);
    drop(agg);
    engine.run_cycle().unwrap();
    assert_eq!(engine.live_tables(), 1);
}

fn size_positive(r: &Row) -> bool {
    matches!(r[2], Value::F64(x) if x > 0.0)
}

fn kraken_or_big_and_known(r: &Row) -> bool {
    let kraken = matches!(&r[0], Value::String(s) if s == "kraken");
    let big = matches!(r[3], Value::I32(q) if q > 1);
    (kraken || big) && !r[1].is_null()
}

fn view_row(r: &Row) -> Row {
    vec![
        r[0].clone(),
        match r[2] {
            Value::F64(x) => Value::F64(x * 2.0),
            _ => Value::Null,
        },
    ]
}

fn update_row(r: &Row) -> Row {
    let mut out = r.clone();
    let q2 = match r[3] {
        Value::I32(q) => Value::I32(q + 1),
        _ => Value::Null,
    };
    let q3 = match q2 {
        Value::I32(q) => Value::I32(q * 2),
        _ => Value::Null,
    };
    out.extend([q2, q3]);
    // Replacing a column in place: Size becomes its negation.
    out[2] = match r[2] {
        Value::F64(x) => Value::F64(-x),
        _ => Value::Null,
    };
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    #[test]
    fn row_wise_operators_equal_a_recomputation_after_every_cycle(
        cycles in proptest::collection::vec(proptest::collection::vec(arb_row(), 0..25), 1..12),
        ring_capacity in 1usize..40,
    ) {
        let engine = Engine::new();
        let append = engine.append_table(schema());
        let stream = engine.stream_table(schema());
        let ring = engine.ring_table(schema(), ring_capacity);
        let sources = [("append", &append), ("stream", &stream), ("ring", &ring)];
        let mut built = Vec::new();
        for (name, t) in sources {
            built.push((name, "where1", t.where_(&["Size > 0"]).unwrap()));
            built.push((name, "where2", t.where_(&["Exchange == `kraken` || Qty > 1", "!isNull(Instrument)"]).unwrap()));
            built.push((name, "view", t.view(&["Exchange", "Double = Size * 2"]).unwrap()));
            built.push((name, "update", t.update_view(&["Q2 = Qty + 1", "Q3 = Q2 * 2", "Size = -Size"]).unwrap()));
        }
        let filtered_stream_count = stream.where_(&["Size > 0"]).unwrap().count_by("N", &["Exchange"]).unwrap();
        prop_assert!(stream.where_(&["Size > 0"]).unwrap().is_blink());
        let mut everything: Vec<Row> = Vec::new();
        for rows in &cycles {
            let batch = Batch::from_rows(&schema(), rows).unwrap();
            for (_, source) in sources {
                source.add(batch.clone()).unwrap();
            }
            engine.run_cycle().unwrap();
            everything.extend(rows.iter().cloned());
            let ring_rows = everything[everything.len().saturating_sub(ring_capacity)..].to_vec();
            for (source, op, table) in &built {
                let input: &[Row] = match *source { "append" => &everything, "stream" => rows, _ => &ring_rows };
                let want: Vec<Row> = match *op {
                    "where1" => input.iter().filter(|r| size_positive(r)).cloned().collect(),
                    "where2" => input.iter().filter(|r| kraken_or_big_and_known(r)).cloned().collect(),
                    "view" => input.iter().map(view_row).collect(),
                    _ => input.iter().map(update_row).collect(),
                };
                assert_rows_eq(&table.all_rows(), &want, &format!("{source}.{op}"))?;
            }
            // An aggregation after a filter of a blink table still accumulates every row ever seen.
            let kept: Vec<Row> = everything.iter().filter(|r| size_positive(r)).cloned().collect();
            let want = reference(&kept, &["Exchange"], &[Agg::count("N")]);
            assert_rows_eq(&filtered_stream_count.all_rows(), &want, "stream.where.countBy")?;
        }
    }
}

fn sorted(rows: &[Row]) -> Vec<Row> {
    // Exchange ascending (nulls first), then Size descending (nulls last), stable.
    let mut rows = rows.to_vec();
    let key = |v: &Value| match v {
        Value::Null => None,
        other => Some(other.clone()),
    };
    rows.sort_by(|a, b| {
        let by_exchange = match (key(&a[0]), key(&b[0])) {
            (None, None) => std::cmp::Ordering::Equal,
            (None, _) => std::cmp::Ordering::Less,
            (_, None) => std::cmp::Ordering::Greater,
            (Some(x), Some(y)) => cmp(&x, &y),
        };
        let by_size = match (key(&a[2]), key(&b[2])) {
            (None, None) => std::cmp::Ordering::Equal,
            (None, _) => std::cmp::Ordering::Greater,
            (_, None) => std::cmp::Ordering::Less,
            (Some(x), Some(y)) => cmp(&y, &x),
        };
        by_exchange.then(by_size)
    });
    rows
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    #[test]
    fn sort_merge_slices_and_joins_equal_a_recomputation_after_every_cycle(
        cycles in proptest::collection::vec(proptest::collection::vec(arb_row(), 0..25), 1..10),
        ring_capacity in 1usize..40,
        n in 0usize..8,
    ) {
        let engine = Engine::new();
        let append = engine.append_table(schema());
        let stream = engine.stream_table(schema());
        let ring = engine.ring_table(schema(), ring_capacity);
        let counts = append.count_by("N", &["Exchange"]).unwrap();
        // A lookup that never changes: joins against it only look up the rows added.
        let lookup_schema = Schema::of(&[("Venue", ColumnType::String), ("Label", ColumnType::String)]).unwrap();
        let lookup = engine.append_table(lookup_schema.clone());
        let venue = |v: &str, l: &str| vec![Value::String(v.into()), Value::String(l.into())];
        lookup.add(Batch::from_rows(&lookup_schema, &[venue("binance", "B"), venue("kraken", "K")]).unwrap()).unwrap();
        engine.run_cycle().unwrap();
        let label = |r: &Row| match &r[0] {
            Value::String(s) if s == "binance" => Value::String("B".into()),
            Value::String(s) if s == "kraken" => Value::String("K".into()),
            _ => Value::Null,
        };
        let sources = [("append", &append), ("stream", &stream), ("ring", &ring)];
        let mut built = Vec::new();
        for (name, t) in sources {
            built.push((name, "lookup", t.natural_join(&lookup, &["Exchange = Venue"], &["Label"]).unwrap()));
            built.push((name, "sorted-count", t.sort(&["Exchange", "-Size"]).unwrap().count_by("N", &["Instrument"]).unwrap()));
            built.push((name, "sort", t.sort(&["Exchange", "-Size"]).unwrap()));
            built.push((name, "head", t.head(n).unwrap()));
            built.push((name, "tail", t.tail(n).unwrap()));
            built.push((name, "join", t.natural_join(&counts, &["Exchange"], &["ExchangeTrades = N"]).unwrap()));
        }
        let merged = append.merge(&[&ring, &stream]).unwrap();
        let mut stream_sorted_so_far: Vec<Row> = Vec::new();
        let mut everything: Vec<Row> = Vec::new();
        for rows in &cycles {
            let batch = Batch::from_rows(&schema(), rows).unwrap();
            for (_, source) in sources {
                source.add(batch.clone()).unwrap();
            }
            engine.run_cycle().unwrap();
            everything.extend(rows.iter().cloned());
            stream_sorted_so_far.extend(sorted(rows));
            let ring_rows = everything[everything.len().saturating_sub(ring_capacity)..].to_vec();
            let per_exchange = reference(&everything, &["Exchange"], &[Agg::count("N")]);
            for (source, op, table) in &built {
                let input: &[Row] = match *source { "append" => &everything, "stream" => rows, _ => &ring_rows };
                let want: Vec<Row> = match *op {
                    "lookup" => input.iter().map(|r| { let mut o = r.clone(); o.push(label(r)); o }).collect(),
                    // A sort of a stream is blink, so the count accumulates every row ever seen.
                    "sorted-count" if *source == "stream" => {
                        reference(&stream_sorted_so_far, &["Instrument"], &[Agg::count("N")])
                    }
                    "sorted-count" => reference(&sorted(input), &["Instrument"], &[Agg::count("N")]),
                    "sort" => sorted(input),
                    "head" => input[..n.min(input.len())].to_vec(),
                    "tail" => input[input.len() - n.min(input.len())..].to_vec(),
                    _ => input
                        .iter()
                        .map(|r| {
                            let mut out = r.clone();
                            let n = per_exchange.iter().find(|g| g[0] == r[0]).map_or(Value::Null, |g| g[1].clone());
                            out.push(n);
                            out
                        })
                        .collect(),
                };
                assert_rows_eq(&table.all_rows(), &want, &format!("{source}.{op}"))?;
            }
            let want: Vec<Row> = everything.iter().chain(&ring_rows).chain(rows).cloned().collect();
            assert_rows_eq(&merged.all_rows(), &want, "merge")?;
        }
    }
}

#[test]
fn an_aggregation_of_a_sorted_stream_follows_each_cycle() {
    let engine = Engine::new();
    let stream = engine.stream_table(schema());
    let sorted = stream.sort(&["Exchange"]).unwrap();
    let counted = sorted.count_by("N", &["Instrument"]).unwrap();
    let row = |i: &str| {
        vec![
            Value::Null,
            Value::String(i.into()),
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
        ]
    };
    stream
        .add(Batch::from_rows(&schema(), &[row("ETH/USD")]).unwrap())
        .unwrap();
    engine.run_cycle().unwrap();
    assert_eq!(
        counted.all_rows(),
        vec![vec![Value::String("ETH/USD".into()), Value::I64(1)]]
    );
    stream
        .add(Batch::from_rows(&schema(), &[row("BTC/USD")]).unwrap())
        .unwrap();
    engine.run_cycle().unwrap();
    assert_eq!(counted.error(), None);
    assert_eq!(sorted.size(), 1);
    assert_eq!(
        sorted.get("Instrument", 0).unwrap(),
        Value::String("BTC/USD".into())
    );
    assert!(sorted.last_update().is_some());
    assert!(
        counted.last_update().is_some(),
        "the count saw the sort change"
    );
    // The sort of a stream is blink, so the count accumulates; with a stale code cache (the
    // sort's dictionary is new every cycle) ETH/USD would be counted twice instead.
    assert!(sorted.is_blink());
    assert_eq!(
        counted.all_rows(),
        vec![
            vec![Value::String("ETH/USD".into()), Value::I64(1)],
            vec![Value::String("BTC/USD".into()), Value::I64(1)]
        ]
    );
}

/// A stable sort of `rows` by the values `key` gives (nulls first).
fn sorted_by(rows: &[Row], key: impl Fn(&Row) -> Option<i64>) -> Vec<Row> {
    let mut rows = rows.to_vec();
    rows.sort_by_key(|r| key(r));
    rows
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    /// Sorts whose new rows land after every old one, or anywhere, and merges whose change is
    /// at the ends or in the middle, against a recomputation; the in-place paths say so in
    /// their updates.
    #[test]
    fn incremental_sorts_and_merges_equal_a_recomputation(
        cycles in proptest::collection::vec(proptest::collection::vec(arb_row(), 0..30), 1..10),
        ring_capacity in 1usize..50,
    ) {
        let engine = Engine::new();
        let append = engine.append_table(schema());
        let ring = engine.ring_table(schema(), ring_capacity);
        let fixed = append.snapshot();
        let ts = |r: &Row| match r[5] { Value::Timestamp(t) => Some(t), _ => None };
        let qty = |r: &Row| match r[3] { Value::I32(q) => Some(i64::from(q)), _ => None };
        let mut built = Vec::new();
        for (name, t) in [("append", &append), ("ring", &ring)] {
            built.push((name, "by time", t.sort(&["Ts"]).unwrap()));
            built.push((name, "by time, newest first", t.sort(&["-Ts"]).unwrap()));
            built.push((name, "by quantity", t.sort(&["Qty"]).unwrap()));
        }
        let ring_after_fixed = fixed.merge(&[&ring]).unwrap();
        let append_after_ring = ring.merge(&[&append]).unwrap();
        let mut everything: Vec<Row> = Vec::new();
        let mut next_ts = 0i64;
        for rows in &cycles {
            // Times that only grow (a null now and then), as a topic's timestamps do.
            let rows: Vec<Row> = rows
                .iter()
                .map(|r| {
                    let mut r = r.clone();
                    next_ts += i64::from(r[3] != Value::I32(0));
                    if r[5] != Value::Null {
                        r[5] = Value::Timestamp(next_ts);
                    }
                    r
                })
                .collect();
            let batch = Batch::from_rows(&schema(), &rows).unwrap();
            append.add(batch.clone()).unwrap();
            ring.add(batch).unwrap();
            engine.run_cycle().unwrap();
            everything.extend(rows.iter().cloned());
            let ring_rows = everything[everything.len().saturating_sub(ring_capacity)..].to_vec();
            for (source, op, table) in &built {
                let input: &[Row] = if *source == "append" { &everything } else { &ring_rows };
                let want = match *op {
                    "by time" => sorted_by(input, ts),
                    // Descending puts nulls last.
                    "by time, newest first" => sorted_by(input, |r| Some(ts(r).map_or(i64::MAX, |t| -t))),
                    _ => sorted_by(input, qty),
                };
                assert_rows_eq(&table.all_rows(), &want, &format!("{source} sorted {op}"))?;
            }
            assert_rows_eq(&ring_after_fixed.all_rows(), &ring_rows, "snapshot then ring")?;
            let want: Vec<Row> = ring_rows.iter().chain(&everything).cloned().collect();
            assert_rows_eq(&append_after_ring.all_rows(), &want, "ring then append")?;
            // A change at the ends is applied in place.
            if !rows.is_empty() {
                let in_place = matches!(ring_after_fixed.last_update(), Some(crate::table::Update::Fifo { .. }));
                prop_assert!(in_place, "the merge's change is at its end");
            }
            if rows.iter().all(|r| r[5] != Value::Null) && !rows.is_empty() {
                let in_place = matches!(built[0].2.last_update(), Some(crate::table::Update::Fifo { removed: 0, .. }));
                prop_assert!(in_place, "new times sort after the old ones");
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// A join whose right table is a live source (rows added at the back, and for a ring removed
    /// from the front) equals a recomputation after every cycle, and says `Fifo` when no existing
    /// row changed.
    #[test]
    fn joins_against_a_live_right_table_equal_a_recomputation(
        cycles in proptest::collection::vec(
            (proptest::collection::vec(0i64..30, 0..20), 0usize..4), 1..12),
        right_capacity in 1usize..12,
        right_ring in any::<bool>(),
    ) {
        let engine = Engine::new();
        let left_schema = Schema::of(&[("Key", ColumnType::I64), ("Row", ColumnType::I64)]).unwrap();
        let right_schema = Schema::of(&[("Id", ColumnType::I64), ("Label", ColumnType::String)]).unwrap();
        let left = engine.append_table(left_schema.clone());
        let right = if right_ring {
            engine.ring_table(right_schema.clone(), right_capacity)
        } else {
            engine.append_table(right_schema.clone())
        };
        let joined = left.natural_join(&right, &["Key = Id"], &["Label"]).unwrap();
        let mut left_rows: Vec<Row> = Vec::new();
        let mut right_rows: Vec<Row> = Vec::new();
        let mut next_id = 0i64;
        for (keys, new_right) in &cycles {
            let base = left_rows.len();
            let rows: Vec<Row> = keys
                .iter()
                .enumerate()
                .map(|(i, &k)| vec![Value::I64(k), Value::I64((base + i) as i64)])
                .collect();
            left_rows.extend(rows.iter().cloned());
            let rights: Vec<Row> = (0..*new_right)
                .map(|_| {
                    next_id += 1;
                    vec![Value::I64(next_id), Value::String(format!("r{next_id}"))]
                })
                .collect();
            right_rows.extend(rights.iter().cloned());
            left.add(Batch::from_rows(&left_schema, &rows).unwrap()).unwrap();
            right.add(Batch::from_rows(&right_schema, &rights).unwrap()).unwrap();
            engine.run_cycle().unwrap();
            let live: &[Row] = if right_ring {
                &right_rows[right_rows.len().saturating_sub(right_capacity)..]
            } else {
                &right_rows
            };
            let want: Vec<Row> = left_rows
                .iter()
                .map(|l| {
                    let label = live.iter().find(|r| r[0] == l[0]).map_or(Value::Null, |r| r[1].clone());
                    vec![l[0].clone(), l[1].clone(), label]
                })
                .collect();
            assert_rows_eq(&joined.all_rows(), &want, "join")?;
            prop_assert!(joined.error().is_none());
            // With the right table unchanged, no existing row changes.
            if *new_right == 0 && !rows.is_empty() {
                let fifo = matches!(joined.last_update(), Some(crate::table::Update::Fifo { .. }));
                prop_assert!(fifo, "only rows added: {:?}", joined.last_update());
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The same rows in another order and other batches give bit-identical sums: what makes the
    /// seed's append and stream aggregations agree exactly when their consumers interleave
    /// partitions differently.
    #[test]
    fn sums_do_not_depend_on_row_order_or_batching(
        values in proptest::collection::vec(
            prop_oneof![-1e9f64..1e9, -1.0f64..1.0, (-1e6f64..1e6).prop_map(|x| x * 1e-7)], 1..400),
        seed in any::<u64>(),
        cut_a in 1usize..50,
        cut_b in 1usize..50,
    ) {
        let schema = Schema::of(&[("K", ColumnType::String), ("X", ColumnType::F64)]).unwrap();
        let mut shuffled = values.clone();
        // A deterministic shuffle from the seed.
        let mut x = seed | 1;
        for i in (1..shuffled.len()).rev() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            shuffled.swap(i, (x % (i as u64 + 1)) as usize);
        }
        let sum_of = |rows: &[f64], cut: usize| -> (f64, f64) {
            let engine = Engine::new();
            let t = engine.append_table(schema.clone());
            let agg = t.agg_by(&[Agg::sum("S = X"), Agg::avg("A = X")], &["K"]).unwrap();
            for chunk in rows.chunks(cut) {
                let batch: Vec<Row> = chunk.iter().map(|v| vec![Value::String("k".into()), Value::F64(*v)]).collect();
                t.add(Batch::from_rows(&schema, &batch).unwrap()).unwrap();
                engine.run_cycle().unwrap();
            }
            match (agg.get("S", 0).unwrap(), agg.get("A", 0).unwrap()) {
                (Value::F64(s), Value::F64(a)) => (s, a),
                other => panic!("{other:?}"),
            }
        };
        let (a, b) = (sum_of(&values, cut_a), sum_of(&shuffled, cut_b));
        prop_assert_eq!(a.0.to_bits(), b.0.to_bits(), "sums {} and {}", a.0, b.0);
        prop_assert_eq!(a.1.to_bits(), b.1.to_bits(), "means {} and {}", a.1, b.1);
    }
}

/// `emptyTable(n)`: n rows and no columns, given columns by `update` (constants, `i` and `ii`,
/// and columns made from earlier ones), filtered by `where`.
#[test]
fn an_empty_table_takes_columns_from_formulas() {
    let engine = Engine::new();
    let empty = engine.empty_table(4);
    assert_eq!(empty.size(), 4);
    assert!(empty.all_rows().iter().all(Vec::is_empty));
    let made = empty
        .update(&["X = i", "Y = ii * 10", "Z = X + 1", "S = `row`"])
        .unwrap();
    assert_eq!(
        made.all_rows(),
        (0..4)
            .map(|i| vec![
                Value::I32(i),
                Value::I64(i64::from(i) * 10),
                Value::I32(i + 1),
                Value::String("row".into()),
            ])
            .collect::<Vec<_>>()
    );
    assert_eq!(engine.empty_table(0).size(), 0);
    assert_eq!(engine.empty_table(5).where_(&["true"]).unwrap().size(), 5);
    assert_eq!(engine.empty_table(5).where_(&["false"]).unwrap().size(), 0);
}

/// `i` and `ii` are each row's position, also for rows added to a live table later and for
/// formulas that read a column made before them (evaluated over a copy of the new rows).
#[test]
fn i_and_ii_are_positions_as_rows_arrive() {
    let engine = Engine::new();
    let table = engine.append_table(schema());
    let numbered = table.update(&["P = ii", "Q = P + i"]).unwrap();
    let row = size_only(1.0);
    for _ in 0..3 {
        table
            .add(Batch::from_rows(&schema(), &[row.clone(), row.clone()]).unwrap())
            .unwrap();
        engine.run_cycle().unwrap();
    }
    let p = schema().len();
    let got: Vec<(Value, Value)> = numbered
        .all_rows()
        .into_iter()
        .map(|r| (r[p].clone(), r[p + 1].clone()))
        .collect();
    let want: Vec<(Value, Value)> = (0..6).map(|i| (Value::I64(i), Value::I64(2 * i))).collect();
    assert_eq!(got, want);
}
