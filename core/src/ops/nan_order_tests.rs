//! Doubles are ordered one way everywhere (Deephaven's `DoubleComparisons`): null first, then
//! `-inf` … `inf`, -0.0 equal to 0.0, and every NaN last and equal, whatever its sign bit or
//! payload (x86 makes `0.0 / 0.0` a NaN with the sign bit set). Sorts (incremental, ascending,
//! descending, with a second key), Min and Max (append and ring), and percentiles are checked
//! against references written from the rule.

use std::cmp::Ordering;

use super::agg::Agg;
use crate::column::{ColumnType, NULL_F64, Value};
use crate::table::{Batch, Engine, Schema, Table};

const NEG_NAN: u64 = 0xFFF8_0000_0000_0000;
const NAN_PAYLOAD: u64 = 0xFFF0_0000_0000_0001;

/// Both NaN signs, a NaN payload, both zeros, both infinities, null and plain numbers.
fn values() -> Vec<f64> {
    vec![
        3.0,
        f64::from_bits(NEG_NAN),
        f64::NEG_INFINITY,
        -5.0,
        NULL_F64,
        f64::NAN,
        -0.0,
        7.0,
        0.0,
        f64::from_bits(NAN_PAYLOAD),
        f64::INFINITY,
        -0.0,
        f64::from_bits(NEG_NAN),
        NULL_F64,
        2.5,
    ]
}

/// The rule, from scratch: (class, value) with null < number < NaN, numbers by `<` (so the two
/// zeros tie).
fn reference(a: f64, b: f64) -> Ordering {
    let class = |x: f64| {
        if x == NULL_F64 {
            0
        } else if x.is_nan() {
            2
        } else {
            1
        }
    };
    class(a).cmp(&class(b)).then_with(|| match class(a) {
        1 => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
        _ => Ordering::Equal,
    })
}

fn schema() -> Schema {
    Schema::of(&[("K", ColumnType::String), ("P", ColumnType::F64)]).unwrap()
}

fn batch(rows: &[(&str, f64)]) -> Batch {
    let rows: Vec<Vec<Value>> = rows
        .iter()
        .map(|&(k, p)| vec![Value::String(k.into()), Value::F64(p)])
        .collect();
    Batch::from_rows(&schema(), &rows).unwrap()
}

/// Column `name` of `t`, as bits (so -0.0, 0.0 and each NaN stay apart).
fn bits(t: &Table, name: &str) -> Vec<u64> {
    (0..t.size())
        .map(|r| match t.get(name, r).unwrap() {
            Value::F64(x) => x.to_bits(),
            _ => NULL_F64.to_bits(),
        })
        .collect()
}

#[test]
fn the_reported_sort_puts_nan_last() {
    let engine = Engine::new();
    let t = engine.append_table(schema());
    let sorted = t
        .update(&["X = P == 0 ? (P - P) / (P - P) : P"])
        .unwrap()
        .sort(&["X"])
        .unwrap();
    let rows: Vec<(&str, f64)> = [3.0, 0.0, f64::NEG_INFINITY, -5.0, 7.0]
        .into_iter()
        .map(|p| ("a", p))
        .collect();
    t.add(batch(&rows)).unwrap();
    engine.run_cycle().unwrap();
    let x: Vec<f64> = bits(&sorted, "X").into_iter().map(f64::from_bits).collect();
    assert_eq!(x[..4], [f64::NEG_INFINITY, -5.0, 3.0, 7.0]);
    assert!(x[4].is_nan(), "{x:?}");
}

/// A row: (K, P).
type KeyAndP<'a> = (&'a str, f64);

#[test]
fn sorts_order_doubles_as_deephaven_does() {
    let engine = Engine::new();
    let t = engine.append_table(schema());
    let keys = ["b", "a"];
    let rows: Vec<(&str, f64)> = values()
        .into_iter()
        .enumerate()
        .map(|(i, p)| (keys[i % 2], p))
        .collect();
    let ascending = t.sort(&["P"]).unwrap();
    let descending = t.sort(&["-P"]).unwrap();
    let by_key = t.sort(&["K", "P"]).unwrap();
    // Two cycles: the second's rows are placed among the first's by comparison.
    let (first, second) = rows.split_at(7);
    for part in [first, second] {
        t.add(batch(part)).unwrap();
        engine.run_cycle().unwrap();
    }
    // A stable sort by the rule (ties in arrival order).
    let sorted = |cmp: &dyn Fn(&KeyAndP, &KeyAndP) -> Ordering| {
        let mut want = rows.clone();
        want.sort_by(|a, b| cmp(a, b));
        want.iter().map(|r| r.1.to_bits()).collect::<Vec<_>>()
    };
    assert_eq!(bits(&ascending, "P"), sorted(&|a, b| reference(a.1, b.1)));
    assert_eq!(bits(&descending, "P"), sorted(&|a, b| reference(b.1, a.1)));
    assert_eq!(
        bits(&by_key, "P"),
        sorted(&|a, b| a.0.cmp(b.0).then(reference(a.1, b.1)))
    );
}

/// Min and Max of each group over `rows`, as the rule has them: of equal values (the two zeros,
/// NaNs), the earliest row's.
fn extremes(rows: &[(&str, f64)], key: &str) -> (u64, u64) {
    let present: Vec<f64> = rows
        .iter()
        .filter(|r| r.0 == key && r.1 != NULL_F64)
        .map(|r| r.1)
        .collect();
    let pick = |better: Ordering| {
        present
            .iter()
            .copied()
            .reduce(|best, v| {
                if reference(v, best) == better {
                    v
                } else {
                    best
                }
            })
            .map_or(NULL_F64.to_bits(), f64::to_bits)
    };
    (pick(Ordering::Less), pick(Ordering::Greater))
}

#[test]
fn min_and_max_follow_the_sort_order_with_and_without_removal() {
    let aggs = [
        Agg::min("Lo = P"),
        Agg::max("Hi = P"),
        Agg::pct(0.0, "P0 = P"),
        Agg::pct(1.0, "P1 = P"),
    ];
    let rows: Vec<(&str, f64)> = values()
        .into_iter()
        .chain([-0.0, 0.0, 1.0, f64::from_bits(NEG_NAN), 0.0, -0.0, 4.0])
        .enumerate()
        .map(|(i, p)| (if i % 3 == 0 { "a" } else { "b" }, p))
        .collect();
    for capacity in [None, Some(3), Some(5)] {
        let engine = Engine::new();
        let t = match capacity {
            None => engine.append_table(schema()),
            Some(n) => engine.ring_table(schema(), n),
        };
        let agg = t.agg_by(&aggs, &["K"]).unwrap().sort(&["K"]).unwrap();
        for (i, row) in rows.iter().enumerate() {
            t.add(batch(&[*row])).unwrap();
            engine.run_cycle().unwrap();
            let covered = &rows[capacity.map_or(0, |n| (i + 1).saturating_sub(n))..=i];
            let keys: Vec<Value> = (0..agg.size()).map(|r| agg.get("K", r).unwrap()).collect();
            let (lo, hi, p0, p1) = (
                bits(&agg, "Lo"),
                bits(&agg, "Hi"),
                bits(&agg, "P0"),
                bits(&agg, "P1"),
            );
            for (r, key) in keys.iter().enumerate() {
                let Value::String(key) = key else { continue };
                let (want_lo, want_hi) = extremes(covered, key);
                let at = format!("{capacity:?} after row {i}, group {key}");
                assert_eq!(lo[r], want_lo, "Min {at}");
                assert_eq!(hi[r], want_hi, "Max {at}");
                // A percentile gives a value equal to the extreme (a zero may lose its sign).
                let same = |a: u64, b: u64| {
                    let (a, b) = (f64::from_bits(a), f64::from_bits(b));
                    a == b || (a.is_nan() && b.is_nan())
                };
                assert!(same(p0[r], want_lo), "Pct(0) {at}");
                assert!(same(p1[r], want_hi), "Pct(1) {at}");
            }
        }
    }
}
