//! Regressions found by review, each once a failing test: an aggregation's updates over a trimming
//! parent, NaN and infinities leaving a ring, NaN in Var and Min, failure propagation, Java-style
//! doubles, bounded interning, ragged batches, and formula nesting.

use std::collections::BTreeSet;
use streamglass_core::column::{ColumnType, Value};
use streamglass_core::{Agg, Batch, Engine, Schema, Table, Update};

fn kx() -> Schema {
    Schema::of(&[("K", ColumnType::String), ("X", ColumnType::I32)]).unwrap()
}
fn kx_rows(rows: &[(&str, i32)]) -> Batch {
    let rows: Vec<Vec<Value>> = rows
        .iter()
        .map(|(k, x)| vec![Value::String((*k).into()), Value::I32(*x)])
        .collect();
    Batch::from_rows(&kx(), &rows).unwrap()
}
fn f64_schema() -> Schema {
    Schema::of(&[("X", ColumnType::F64)]).unwrap()
}
fn f64_rows(xs: &[f64]) -> Batch {
    let rows: Vec<Vec<Value>> = xs.iter().map(|&x| vec![Value::F64(x)]).collect();
    Batch::from_rows(&f64_schema(), &rows).unwrap()
}

/// Replays Keyed updates onto a key set.
fn apply(keys: &mut BTreeSet<u64>, update: Option<Update>) {
    if let Some(Update::Keyed { removed, added, .. }) = update {
        for k in removed {
            assert!(keys.remove(&k), "removed key {k} was not present");
        }
        for k in added {
            assert!(keys.insert(k), "added key {k} was already present");
        }
    }
}
fn assert_contiguous(keys: &BTreeSet<u64>, t: &Table) {
    let v: Vec<u64> = keys.iter().copied().collect();
    assert_eq!(
        v.len(),
        t.size(),
        "update-replayed keys {v:?} vs {} rows",
        t.size()
    );
    assert!(
        v.windows(2).all(|w| w[1] == w[0] + 1),
        "keys not contiguous: {v:?}"
    );
}

// BUG 1: agg over a `where` of a ring reports keys of group ids, but emits only live groups.
#[test]
fn an_aggregation_over_a_filtered_ring_reports_consistent_keys() {
    let engine = Engine::new();
    let ring = engine.ring_table(kx(), 3);
    let agg = ring
        .where_(&["X > 0"])
        .unwrap()
        .count_by("N", &["K"])
        .unwrap();
    let mut keys = BTreeSet::new();
    for batch in [
        kx_rows(&[("A", 1), ("Z", 0)]), // ring [A1 Z0]      where [A1]
        kx_rows(&[("B", 1)]),           // ring [A1 Z0 B1]   where [A1 B1]
        kx_rows(&[("Z", 0)]),           // ring [Z0 B1 Z0]   where [B1]  (A dead)
        kx_rows(&[("C", 1)]),           // ring [B1 Z0 C1]   where [B1 C1] removed 0, added 1
    ] {
        ring.add(batch).unwrap();
        engine.run_cycle().unwrap();
        apply(&mut keys, agg.last_update());
        assert_contiguous(&keys, &agg);
    }
    assert_eq!(
        agg.all_rows(),
        vec![
            vec![Value::String("B".into()), Value::I64(1)],
            vec![Value::String("C".into()), Value::I64(1)]
        ]
    );
}

fn ring_sum_after(xs: &[&[f64]]) -> (Value, Value) {
    let engine = Engine::new();
    let ring = engine.ring_table(f64_schema(), 2);
    let agg = ring
        .agg_by(&[Agg::sum("S = X"), Agg::avg("A = X")], &[])
        .unwrap();
    for b in xs {
        ring.add(f64_rows(b)).unwrap();
        engine.run_cycle().unwrap();
    }
    (agg.get("S", 0).unwrap(), agg.get("A", 0).unwrap())
}

// BUG 2: a NaN / infinity that left a ring poisons Sum/Avg forever.
#[test]
fn ring_sum_recovers_after_nan_leaves() {
    let (s, a) = ring_sum_after(&[&[f64::NAN], &[1.0], &[2.0]]);
    assert_eq!((s, a), (Value::F64(3.0), Value::F64(1.5)));
}
#[test]
fn ring_sum_recovers_after_infinity_leaves() {
    let (s, a) = ring_sum_after(&[&[f64::INFINITY], &[1.0], &[2.0]]);
    assert_eq!((s, a), (Value::F64(3.0), Value::F64(1.5)));
}

// BUG 3: Var/Std of values including NaN (or inf) is 0.0, not NaN.
#[test]
fn var_with_nan_is_nan() {
    let engine = Engine::new();
    let t = engine.append_table(f64_schema());
    let agg = t
        .agg_by(&[Agg::var("V = X"), Agg::std("S = X")], &[])
        .unwrap();
    t.add(f64_rows(&[1.0, f64::NAN, 3.0])).unwrap();
    engine.run_cycle().unwrap();
    let v = agg.get("V", 0).unwrap();
    assert!(matches!(v, Value::F64(x) if x.is_nan()), "Var = {v:?}");
}

// BUG 4: Min/Max of doubles with NaN depend on arrival order.
#[test]
fn min_with_nan_is_order_independent() {
    let min_of = |xs: &[f64]| {
        let engine = Engine::new();
        let t = engine.append_table(f64_schema());
        let agg = t.agg_by(&[Agg::min("M = X")], &[]).unwrap();
        t.add(f64_rows(xs)).unwrap();
        engine.run_cycle().unwrap();
        agg.get("M", 0).unwrap()
    };
    let (a, b) = (min_of(&[f64::NAN, 1.0]), min_of(&[1.0, f64::NAN]));
    assert_eq!(format!("{a:?}"), format!("{b:?}"));
}

// BUG 5: a table downstream of a table that fails is never marked failed.
#[test]
fn failure_propagates_downstream() {
    let engine = Engine::new();
    let left = engine.append_table(kx());
    let right = engine.append_table(kx());
    right.add(kx_rows(&[("A", 1)])).unwrap();
    left.add(kx_rows(&[("A", 5)])).unwrap();
    engine.run_cycle().unwrap();
    let join = left.natural_join(&right, &["K"], &["Y = X"]).unwrap();
    let child = join.sort(&["K"]).unwrap();
    right.add(kx_rows(&[("A", 2)])).unwrap(); // duplicate right key
    engine.run_cycle().unwrap();
    assert!(join.error().is_some());
    engine.run_cycle().unwrap();
    assert!(
        child.error().is_some(),
        "child of a failed table reports no error"
    );
}

// BUG 6: string concatenation formats doubles unlike Java.
#[test]
fn concat_formats_doubles_like_java() {
    let engine = Engine::new();
    let t = engine.append_table(f64_schema());
    t.add(f64_rows(&[1.0])).unwrap();
    engine.run_cycle().unwrap();
    let v = t.view(&["S = `x` + X"]).unwrap();
    assert_eq!(v.get("S", 0).unwrap(), Value::String("x1.0".into()));
}

// BUG 7: a ring aggregation keyed by unique strings grows without bound (interner never shrinks).
#[test]
fn ring_agg_with_unique_keys_is_bounded() {
    let engine = Engine::new();
    let ring = engine.ring_table(kx(), 1_000);
    let agg = ring.count_by("N", &["K"]).unwrap();
    let mut at = Vec::new();
    for cycle in 0..300 {
        let rows: Vec<(String, i32)> = (0..1_000)
            .map(|i| (format!("order-{cycle}-{i}"), 1))
            .collect();
        let rows: Vec<(&str, i32)> = rows.iter().map(|(k, x)| (k.as_str(), *x)).collect();
        ring.add(kx_rows(&rows)).unwrap();
        engine.run_cycle().unwrap();
        at.push(agg.stats().bytes_reserved);
    }
    assert!(
        at[299] < 2 * at[50],
        "agg state grows: {} at 50 cycles, {} at 300",
        at[50],
        at[299]
    );
}

// Ragged batch through the public `columns_mut` → panic in formula evaluation.
#[test]
fn a_ragged_batch_cannot_be_built() {
    let columns = vec![streamglass_core::column::Column::new(ColumnType::String), {
        let mut c = streamglass_core::column::Column::new(ColumnType::I32);
        c.push(&Value::I32(1));
        c
    }];
    let e = Batch::from_columns(&kx(), columns).expect_err("columns of different lengths");
    assert!(e.to_string().contains("different lengths"), "{e}");
}

#[test]
fn formulas_nest_up_to_a_limit_then_say_so() {
    let engine = Engine::new();
    let t = engine.append_table(Schema::of(&[("X", ColumnType::I32)]).unwrap());
    let ok = format!("Y = {}X{}", "(".repeat(50), ")".repeat(50));
    assert!(t.view(&[ok.as_str()]).is_ok());
    let sum = format!("Y = X{}", " + 1".repeat(60));
    assert!(t.view(&[sum.as_str()]).is_ok(), "a long sum is fine");
    let deep = format!("Y = {}X{}", "(".repeat(1_000), ")".repeat(1_000));
    let e = t
        .view(&[deep.as_str()])
        .err()
        .expect("too deep")
        .to_string();
    assert!(e.contains("nests more than 64 levels"), "{e}");
    let long = format!("Y = X{}", " + 1".repeat(5_000));
    assert!(
        t.view(&[long.as_str()]).is_err(),
        "a 5,000-term chain is refused, not a stack overflow"
    );
    let negations = format!("Y = {}X", "-".repeat(5_000));
    assert!(t.view(&[negations.as_str()]).is_err());
}

#[test]
fn java_style_doubles_in_concatenation() {
    let engine = Engine::new();
    let t = engine.append_table(f64_schema());
    t.add(f64_rows(&[
        1.0,
        0.5,
        1e7,
        1.25e-5,
        f64::NAN,
        f64::NEG_INFINITY,
        -3.0,
    ]))
    .unwrap();
    engine.run_cycle().unwrap();
    let v = t.view(&["S = `x` + X"]).unwrap();
    let got: Vec<Value> = (0..7).map(|i| v.get("S", i).unwrap()).collect();
    let want = [
        "x1.0",
        "x0.5",
        "x1.0E7",
        "x1.25E-5",
        "xNaN",
        "x-Infinity",
        "x-3.0",
    ];
    assert_eq!(
        got,
        want.iter()
            .map(|s| Value::String((*s).into()))
            .collect::<Vec<_>>()
    );
}
