//! Date, Time and Timestamp columns through the operators: aggregation keys, `Min`, `Max`,
//! `First`, `Last` and `CountDistinct` of times, sorting, and `naturalJoin` on an instant key,
//! each checked after every cycle against a reference computed from the source's rows, over an
//! append and a ring source. A formula's time output (`lowerBin`) is a key like any column.

use std::collections::{BTreeMap, BTreeSet};

use streamglass_core::{Agg, Batch, ColumnType, Engine, Schema, Table, Value};

const MINUTE: i64 = 60_000_000_000;

/// A small deterministic generator (the tests need variety, not quality).
struct Rng(u64);

impl Rng {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

fn schema() -> Schema {
    Schema::of(&[
        ("Ts", ColumnType::Timestamp),
        ("D", ColumnType::Date),
        ("Tm", ColumnType::Time),
        ("Px", ColumnType::F64),
    ])
    .unwrap()
}

fn batch(rng: &mut Rng, clock: &mut i64, rows: usize) -> Batch {
    let rows: Vec<Vec<Value>> = (0..rows)
        .map(|_| {
            *clock += rng.next(20_000_000_000) as i64;
            let null = rng.next(13) == 0;
            vec![
                if null {
                    Value::Null
                } else {
                    Value::Timestamp(*clock)
                },
                if rng.next(11) == 0 {
                    Value::Null
                } else {
                    Value::Date(20_450 + rng.next(4) as i32 - 2)
                },
                if rng.next(9) == 0 {
                    Value::Null
                } else {
                    Value::Time(rng.next(5) as i64 * 3_600_000_000_000)
                },
                Value::F64(rng.next(1000) as f64),
            ]
        })
        .collect();
    Batch::from_rows(&schema(), &rows).unwrap()
}

/// Sorts by the natural order of a column's values, nulls first (Deephaven's order).
fn order_key(v: &Value) -> (bool, i64) {
    match v {
        Value::Null => (false, 0),
        Value::Timestamp(x) | Value::Time(x) | Value::I64(x) => (true, *x),
        Value::Date(x) | Value::I32(x) => (true, i64::from(*x)),
        other => panic!("{other:?}"),
    }
}

/// The reference: per date key, (min, max, first, last, distinct) of Ts and of Tm, where Min
/// and Max skip nulls and First and Last take the row's value, null or not.
fn reference(rows: &[Vec<Value>]) -> BTreeMap<(bool, i64), Vec<Value>> {
    let mut groups: BTreeMap<(bool, i64), Vec<&Vec<Value>>> = BTreeMap::new();
    for r in rows {
        groups.entry(order_key(&r[1])).or_default().push(r);
    }
    groups
        .into_iter()
        .map(|(k, rows)| {
            let mut out = Vec::new();
            for c in [0, 2] {
                let values: Vec<&Value> = rows.iter().map(|r| &r[c]).collect();
                let present: Vec<&Value> =
                    values.iter().copied().filter(|v| !v.is_null()).collect();
                let min = present
                    .iter()
                    .min_by_key(|v| order_key(v))
                    .map_or(Value::Null, |v| (*v).clone());
                let max = present
                    .iter()
                    .max_by_key(|v| order_key(v))
                    .map_or(Value::Null, |v| (*v).clone());
                let distinct: BTreeSet<(bool, i64)> =
                    present.iter().map(|v| order_key(v)).collect();
                out.extend([
                    min,
                    max,
                    values[0].clone(),
                    values[values.len() - 1].clone(),
                    Value::I64(distinct.len() as i64),
                ]);
            }
            (k, out)
        })
        .collect()
}

fn aggregated(table: &Table) -> BTreeMap<(bool, i64), Vec<Value>> {
    table
        .all_rows()
        .into_iter()
        .map(|mut r| {
            let key = order_key(&r[0]);
            r.remove(0);
            (key, r)
        })
        .collect()
}

fn aggs() -> Vec<Agg> {
    vec![
        Agg::min("MinTs = Ts"),
        Agg::max("MaxTs = Ts"),
        Agg::first("FirstTs = Ts"),
        Agg::last("LastTs = Ts"),
        Agg::count_distinct("NTs = Ts"),
        Agg::min("MinTm = Tm"),
        Agg::max("MaxTm = Tm"),
        Agg::first("FirstTm = Tm"),
        Agg::last("LastTm = Tm"),
        Agg::count_distinct("NTm = Tm"),
    ]
}

#[test]
fn times_as_keys_aggregations_and_sort_keys_stay_right() {
    for ring in [None, Some(300)] {
        let engine = Engine::new();
        let source = match ring {
            None => engine.append_table(schema()),
            Some(n) => engine.ring_table(schema(), n),
        };
        let by_date = source.agg_by(&aggs(), &["D"]).unwrap();
        let sorted = source.sort(&["D", "-Tm", "Ts"]).unwrap();
        let minutes = source
            .update_view(&["Minute = lowerBin(Ts, MINUTE)"])
            .unwrap()
            .agg_by(&[Agg::count("N"), Agg::max("Hi = Px")], &["Minute"])
            .unwrap();
        assert_eq!(
            by_date.schema().fields()[1].ty,
            ColumnType::Timestamp,
            "Min of an instant is an instant"
        );
        assert_eq!(by_date.schema().fields()[6].ty, ColumnType::Time);
        let (mut rng, mut clock) = (Rng(15), 1_767_632_400_000_000_000i64);
        for cycle in 0..12 {
            source
                .add(batch(&mut rng, &mut clock, 37 + cycle * 19))
                .unwrap();
            engine.run_cycle().unwrap();
            let rows = source.all_rows();
            assert_eq!(
                aggregated(&by_date),
                reference(&rows),
                "{ring:?} cycle {cycle}"
            );

            let mut want = rows.clone();
            want.sort_by(|a, b| {
                order_key(&a[1])
                    .cmp(&order_key(&b[1]))
                    .then(order_key(&b[2]).cmp(&order_key(&a[2])))
                    .then(order_key(&a[0]).cmp(&order_key(&b[0])))
            });
            assert_eq!(sorted.all_rows(), want, "{ring:?} cycle {cycle}");

            let mut bins: BTreeMap<(bool, i64), (i64, f64)> = BTreeMap::new();
            for r in &rows {
                let key = match r[0] {
                    Value::Timestamp(t) => (true, t - t.rem_euclid(MINUTE)),
                    _ => (false, 0),
                };
                let Value::F64(px) = r[3] else { unreachable!() };
                let e = bins.entry(key).or_insert((0, f64::MIN));
                *e = (e.0 + 1, e.1.max(px));
            }
            let got: BTreeMap<(bool, i64), (i64, f64)> = minutes
                .all_rows()
                .into_iter()
                .map(|r| match (&r[1], &r[2]) {
                    (Value::I64(n), Value::F64(hi)) => (order_key(&r[0]), (*n, *hi)),
                    other => panic!("{other:?}"),
                })
                .collect();
            assert_eq!(got, bins, "{ring:?} cycle {cycle}");
        }
    }
}

#[test]
fn natural_join_on_an_instant_key() {
    let engine = Engine::new();
    let left = engine.append_table(schema());
    let right_schema =
        Schema::of(&[("Ts", ColumnType::Timestamp), ("Label", ColumnType::String)]).unwrap();
    let right = engine.append_table(right_schema.clone());
    let joined = left.natural_join(&right, &["Ts"], &["Label"]).unwrap();
    let (mut rng, mut clock) = (Rng(7), 0i64);
    let mut labels: BTreeMap<i64, String> = BTreeMap::new();
    for cycle in 0..6 {
        let b = batch(&mut rng, &mut clock, 25);
        left.add(b).unwrap();
        engine.run_cycle().unwrap();
        // Label some of the instants seen so far, each once (the right side changes alone).
        let rows = left.all_rows();
        let new: Vec<Vec<Value>> = rows
            .iter()
            .filter_map(|r| match r[0] {
                Value::Timestamp(t) if rng.next(3) == 0 && !labels.contains_key(&t) => {
                    labels.insert(t, format!("c{cycle}"));
                    Some(vec![
                        Value::Timestamp(t),
                        Value::String(format!("c{cycle}")),
                    ])
                }
                _ => None,
            })
            .collect();
        right
            .add(Batch::from_rows(&right_schema, &new).unwrap())
            .unwrap();
        engine.run_cycle().unwrap();
        let want: Vec<Value> = left
            .all_rows()
            .iter()
            .map(|r| match &r[0] {
                Value::Timestamp(t) => labels
                    .get(t)
                    .map_or(Value::Null, |l| Value::String(l.clone())),
                _ => Value::Null,
            })
            .collect();
        let got: Vec<Value> = joined
            .all_rows()
            .into_iter()
            .map(|r| r[4].clone())
            .collect();
        assert_eq!(got, want, "cycle {cycle}");
        assert!(
            want.iter().any(|v| !v.is_null()),
            "some rows match in cycle {cycle}"
        );
    }
}
