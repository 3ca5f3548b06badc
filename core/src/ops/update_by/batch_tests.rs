//! The batch path of `updateBy` (a lane's cycle of many rows: rows grouped by key first, each
//! group's window run over its rows at once): large random cycles over append, stream and ring
//! tables, random keys, nulls, NaN and infinities, equal timestamps, against the same
//! from-scratch folds as `tests.rs` (each row's window taken whole, no sliding), and bit for bit
//! against the row-by-row path: fed the same cycles with the batch path off ([`ROW_PATH_ONLY`]),
//! and over an append table fed in cycles too small for the batch path.
//!
//! The reference here groups the rows first (the quadratic one of `tests.rs` is too slow for
//! thousands of rows); each window is still taken whole and folded the plain way.

use proptest::prelude::*;

use super::lane::ROW_PATH_ONLY;
use super::tests::{KEY_SETS, close, fold, in_time_order, ts};
use super::{DeltaControl, OperationControl, UpdateBy, UpdateByKind, UpdateByWindow};
use crate::column::Value;
use crate::ops::tests::{Row, arb_row, column, schema};
use crate::table::{Batch, Engine};

/// A row of the shared schema whose `Size` is sometimes NaN or an infinity.
fn arb_row_specials() -> impl Strategy<Value = Row> {
    (arb_row(), 0u8..40).prop_map(|(mut row, pick)| {
        let size = column("Size");
        match pick {
            0 => row[size] = Value::F64(f64::NAN),
            1 => row[size] = Value::F64(f64::INFINITY),
            2 => row[size] = Value::F64(f64::NEG_INFINITY),
            _ => {}
        }
        row
    })
}

/// Operations the batch path takes (every one but `fill` and `rollingGroup`, which keep their
/// values), over every window kind; outputs `O0`, `O1`, ...
fn batch_ops() -> Vec<UpdateBy> {
    let windows = [
        UpdateByWindow::ticks(100, 0),
        UpdateByWindow::ticks(3, 0),
        UpdateByWindow::ticks(2, 2),
        UpdateByWindow::ticks(-1, 3),
        UpdateByWindow::ticks(5, -2),
        UpdateByWindow::time("Ts", 5, 0),
        UpdateByWindow::time("Ts", 0, 4),
        UpdateByWindow::time("Ts", 10, -3),
        UpdateByWindow::time("Ts", -2, 6),
        UpdateByWindow::time("Ts", 300, 0),
    ];
    let mut ops = Vec::new();
    let mut n = 0;
    let mut add = |mut op: UpdateBy| {
        op.pairs = ["Size", "Qty"]
            .iter()
            .map(|input| {
                n += 1;
                format!("O{} = {input}", n - 1)
            })
            .collect();
        ops.push(op);
    };
    add(UpdateBy::cum_sum(&[]));
    add(UpdateBy::cum_min(&[]));
    add(UpdateBy::cum_prod(&[]));
    add(UpdateBy::delta(&[], DeltaControl::NullDominates));
    for w in &windows {
        for kind in [
            UpdateByKind::Sum,
            UpdateByKind::Avg,
            UpdateByKind::Min,
            UpdateByKind::Max,
            UpdateByKind::Count,
            UpdateByKind::Std,
        ] {
            add(UpdateBy::rolling(kind, w.clone(), &[]));
        }
    }
    for decay in [
        UpdateByWindow::DecayTicks { ticks: 2.5 },
        UpdateByWindow::DecayTime {
            column: "Ts".into(),
            time: 4,
        },
    ] {
        for kind in [UpdateByKind::Ema, UpdateByKind::EmMax, UpdateByKind::EmStd] {
            add(UpdateBy::exponential(
                kind,
                decay.clone(),
                &[],
                OperationControl::default(),
            ));
        }
    }
    ops
}

/// The positions `lo .. hi` of row `p`'s window in its group's rows `seq`.
fn window_range(seq: &[&Row], p: usize, w: &UpdateByWindow) -> (usize, usize) {
    match w {
        UpdateByWindow::Ticks { rev, fwd } => {
            let (p, n) = (p as i64, seq.len() as i64);
            let lo = (p - rev + 1).clamp(0, n);
            let hi = (p + fwd + 1).clamp(lo, n);
            (lo as usize, hi as usize)
        }
        UpdateByWindow::Time { rev, fwd, .. } => {
            let t = ts(seq[p]).unwrap_or(i64::MIN);
            let lo = seq.partition_point(|r| ts(r).unwrap_or(i64::MIN) < t - rev);
            let hi = seq.partition_point(|r| ts(r).unwrap_or(i64::MIN) <= t + fwd);
            (lo, hi.max(lo))
        }
        _ => (0, p + 1),
    }
}

/// `updateBy(ops, keys)` from scratch over `covered`: the values of its last `shown` rows, each
/// row followed by one value per (op, pair), with the tolerance of each.
fn reference(
    covered: &[Row],
    shown: usize,
    ops: &[UpdateBy],
    keys: &[&str],
) -> Vec<Vec<(Value, f64)>> {
    let key_columns: Vec<usize> = keys.iter().map(|k| column(k)).collect();
    let first_shown = covered.len() - shown;
    let mut out: Vec<Vec<(Value, f64)>> = covered[first_shown..]
        .iter()
        .map(|r| r.iter().map(|v| (v.clone(), 0.0)).collect())
        .collect();
    // The groups, in order of their first row: each group's row numbers.
    let mut tuples: Vec<Vec<&Value>> = Vec::new();
    let mut members: Vec<Vec<usize>> = Vec::new();
    for (i, row) in covered.iter().enumerate() {
        let key: Vec<&Value> = key_columns.iter().map(|&k| &row[k]).collect();
        match tuples.iter().position(|t| *t == key) {
            Some(g) => members[g].push(i),
            None => {
                tuples.push(key);
                members.push(vec![i]);
            }
        }
    }
    for op in ops {
        for pair in &op.pairs {
            let (_, input) = crate::ops::name_pair(pair);
            let input = column(&input);
            let float = schema().fields()[input].ty == crate::ColumnType::F64;
            let time = matches!(op.window, UpdateByWindow::Time { .. });
            let mut values: Vec<(Value, f64)> = vec![(Value::Null, 0.0); covered.len()];
            for rows in &members {
                let rows: Vec<usize> = rows
                    .iter()
                    .copied()
                    .filter(|&i| !time || ts(&covered[i]).is_some())
                    .collect();
                let seq: Vec<&Row> = rows.iter().map(|&i| &covered[i]).collect();
                for (p, &i) in rows.iter().enumerate() {
                    let (lo, hi) = window_range(&seq, p, &op.window);
                    values[i] = fold(op, input, &seq[lo..hi], float);
                }
            }
            for (i, value) in values.into_iter().enumerate().skip(first_shown) {
                out[i - first_shown].push(value);
            }
        }
    }
    out
}

/// A table's rows, values compared bit for bit (doubles by their bits).
fn bits(rows: &[Row]) -> Vec<Vec<Option<u64>>> {
    rows.iter()
        .map(|r| {
            r.iter()
                .map(|v| match v {
                    Value::F64(x) => Some(x.to_bits()),
                    Value::I64(x) => Some(*x as u64),
                    Value::Null => None,
                    other => Some(format!("{other:?}").len() as u64),
                })
                .collect()
        })
        .collect()
}

fn check_batches(cycles: &[Vec<Row>], ring_capacity: usize) -> Result<(), TestCaseError> {
    let ops = batch_ops();
    let stds: Vec<String> = ops
        .iter()
        .filter(|op| op.kind == UpdateByKind::Std)
        .flat_map(|op| op.pairs.iter().map(|p| crate::ops::name_pair(p).0))
        .collect();
    // A double-double sum is exact until its low part rounds (the exact squares of values of
    // 1e6 and 1e3 span more than its 106 bits), so a rolling std drifts by about 1e-16 of the
    // largest values its window ever held (the test's are 1e6), not of those in it now: over a
    // ring (whose windows' histories depend on the cycles) it is checked to 1e-6, and bit for
    // bit only where both paths fold the same rows in the same order (append).
    // Over a ring fed in other cycles, the sums' rounding differs: only those columns are
    // compared within a tolerance; every other one bit for bit.
    let sums: Vec<String> = ops
        .iter()
        .filter(|op| {
            use UpdateByKind::*;
            matches!(op.kind, Sum | Avg | Std | Product)
        })
        .flat_map(|op| op.pairs.iter().map(|p| crate::ops::name_pair(p).0))
        .collect();
    let tolerance = |table: &crate::table::Table, c: usize, tol: f64| {
        if stds.contains(&table.schema().fields()[c].name) {
            tol.max(1e-6)
        } else {
            tol
        }
    };
    let engine = Engine::new();
    let append = engine.append_table(schema());
    let stream = engine.stream_table(schema());
    let ring = engine.ring_table(schema(), ring_capacity);
    // The same rows, in cycles of at most 100 rows (the row-by-row path).
    let slow_engine = Engine::new();
    let slow_append = slow_engine.append_table(schema());
    let slow_ring = slow_engine.ring_table(schema(), ring_capacity);
    // The same rows in the same cycles, with the batch path off.
    let row_engine = Engine::new();
    let row_ring = row_engine.ring_table(schema(), ring_capacity);
    let row_append = row_engine.append_table(schema());
    let mut derived = Vec::new();
    for keys in KEY_SETS {
        let fast = [
            ("append", append.update_by(&ops, keys).unwrap()),
            ("stream", stream.update_by(&ops, keys).unwrap()),
            ("ring", ring.update_by(&ops, keys).unwrap()),
        ];
        let slow = [
            slow_append.update_by(&ops, keys).unwrap(),
            slow_ring.update_by(&ops, keys).unwrap(),
            row_append.update_by(&ops, keys).unwrap(),
            row_ring.update_by(&ops, keys).unwrap(),
        ];
        derived.push((*keys, fast, slow));
    }
    let mut everything: Vec<Row> = Vec::new();
    for rows in cycles {
        let batch = Batch::from_rows(&schema(), rows).unwrap();
        for source in [&append, &stream, &ring] {
            source.add(batch.clone()).unwrap();
        }
        engine.run_cycle().unwrap();
        for source in [&row_append, &row_ring] {
            source.add(batch.clone()).unwrap();
        }
        ROW_PATH_ONLY.with(|only| only.set(true));
        let ran = row_engine.run_cycle();
        ROW_PATH_ONLY.with(|only| only.set(false));
        ran.unwrap();
        for piece in rows.chunks(100) {
            let batch = Batch::from_rows(&schema(), piece).unwrap();
            slow_append.add(batch.clone()).unwrap();
            slow_ring.add(batch).unwrap();
            slow_engine.run_cycle().unwrap();
        }
        everything.extend(rows.iter().cloned());
        let ring_rows = &everything[everything.len().saturating_sub(ring_capacity)..];
        for (keys, fast, slow) in &derived {
            for (name, table) in fast {
                prop_assert!(
                    table.error().is_none(),
                    "{} by {:?}: {:?}",
                    name,
                    keys,
                    table.error()
                );
                let (covered, shown): (&[Row], usize) = match *name {
                    "append" => (&everything, everything.len()),
                    "stream" => (&everything, rows.len()),
                    _ => (ring_rows, ring_rows.len()),
                };
                let want = reference(covered, shown, &ops, keys);
                let got = table.all_rows();
                prop_assert_eq!(got.len(), want.len(), "{} by {:?}: rows", name, keys);
                for (r, (g, w)) in got.iter().zip(&want).enumerate() {
                    for (c, (gv, (wv, tol))) in g.iter().zip(w).enumerate() {
                        prop_assert!(
                            close(gv, wv, tolerance(table, c, *tol)),
                            "{} by {:?}, row {}, column {}: {:?} != {:?}",
                            name,
                            keys,
                            r,
                            table.schema().fields()[c].name,
                            gv,
                            wv
                        );
                    }
                }
            }
            // The batch path folds the same rows in the same order as the row-by-row path: the
            // same values, bit for bit, over an append table in any cycles, and over a ring fed
            // the same cycles.
            for (name, fast, slow) in [
                ("append", &fast[0].1, &slow[0]),
                ("append, same cycles", &fast[0].1, &slow[2]),
                ("ring, same cycles", &fast[2].1, &slow[3]),
            ] {
                let (got, want) = (fast.all_rows(), slow.all_rows());
                prop_assert_eq!(got.len(), want.len(), "{} by {:?}: rows", name, keys);
                for (r, (g, w)) in bits(&got).iter().zip(&bits(&want)).enumerate() {
                    for (c, (gv, wv)) in g.iter().zip(w).enumerate() {
                        prop_assert!(
                            gv == wv,
                            "{} by {:?}, row {}, column {}: the batch path gives {:?}, the \
                             row-by-row path {:?}",
                            name,
                            keys,
                            r,
                            fast.schema().fields()[c].name,
                            got[r][c],
                            want[r][c]
                        );
                    }
                }
            }
            // Over a ring in other cycles the rows a window held before depend on the cycles (a
            // large cycle's rows already gone from the ring never enter a window): the same
            // values up to the sums' rounding in the sums' columns, bit for bit in the others.
            let (got, want) = (fast[2].1.all_rows(), slow[1].all_rows());
            prop_assert_eq!(got.len(), want.len(), "ring by {:?}: rows", keys);
            for (r, (g, w)) in got.iter().zip(&want).enumerate() {
                for (c, (gv, wv)) in g.iter().zip(w).enumerate() {
                    prop_assert!(
                        if sums.contains(&fast[2].1.schema().fields()[c].name) {
                            close(gv, wv, tolerance(&fast[2].1, c, 1e-9))
                        } else {
                            bits(&[vec![gv.clone()]]) == bits(&[vec![wv.clone()]])
                        },
                        "ring by {:?}, row {}, column {}: the batch path gives {:?}, the \
                         row-by-row path {:?}",
                        keys,
                        r,
                        fast[2].1.schema().fields()[c].name,
                        gv,
                        wv
                    );
                }
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3))]

    /// Cycles of 256 rows and more (the batch path), with a few small ones between (the row
    /// path, over the same windows).
    #[test]
    fn large_cycles_equal_a_recomputation_and_the_row_by_row_path(
        mut cycles in proptest::collection::vec(
            prop_oneof![
                3 => proptest::collection::vec(arb_row_specials(), 256..600),
                1 => proptest::collection::vec(arb_row_specials(), 0..20),
            ],
            1..4,
        ),
        ring_capacity in 50usize..1500,
    ) {
        in_time_order(&mut cycles);
        check_batches(&cycles, ring_capacity)?;
    }
}
