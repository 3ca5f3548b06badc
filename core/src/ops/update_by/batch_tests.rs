//! The batch path of `updateBy` (a lane's cycle of many rows: rows grouped by key first, each
//! group's window run over its rows at once): large random cycles over append, stream and ring
//! tables, random keys, nulls, NaN and infinities, equal timestamps, against the same
//! from-scratch folds as `tests.rs` (each row's window taken whole, no sliding), and bit for bit
//! against the row-by-row path: fed the same cycles with the batch path off ([`ROW_PATH_ONLY`]),
//! and over an append table fed in cycles too small for the batch path.
//!
//! The reference is `tests.rs`'s (rows grouped first, each window found by position or by
//! binary search, then taken whole and folded the plain way).

use proptest::prelude::*;

use super::lane::{BATCH_CHUNK, BATCH_ROWS, IN_PLACE, ROW_PATH_ONLY};
use super::tests::{KEY_SETS, close, fold, in_time_order, reference};
use super::{BLOCK_ROWS, TEST_BLOCK_ROWS};
use super::{DeltaControl, OperationControl, UpdateBy, UpdateByKind, UpdateByWindow};
use crate::column::Value;
use crate::ops::tests::{Row, SwitchOn, arb_row, column, schema};
use crate::table::{Batch, Engine};

/// Sets this thread's block size for the guard's life (reset on drop, a panic too).
struct BlockRows;

impl BlockRows {
    fn new(rows: usize) -> Self {
        TEST_BLOCK_ROWS.with(|b| b.set(rows));
        BlockRows
    }
}

impl Drop for BlockRows {
    fn drop(&mut self) {
        TEST_BLOCK_ROWS.with(|b| b.set(BLOCK_ROWS));
    }
}

/// `engine.run_cycle()` with the batch path off.
fn row_path_only(engine: &Engine) -> crate::Result<()> {
    let _only = SwitchOn::new(&ROW_PATH_ONLY);
    engine.run_cycle()
}

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
        row_path_only(&row_engine).unwrap();
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
    /// path, over the same windows); the large ones in one block or split into blocks of 100
    /// to 700 rows (some under the batch path's least).
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
        block in prop_oneof![Just(BLOCK_ROWS), 100usize..700],
    ) {
        in_time_order(&mut cycles);
        let _block = BlockRows::new(block);
        check_batches(&cycles, ring_capacity)?;
    }
}

#[test]
fn the_row_path_switch_is_reset_when_a_cycle_panics() {
    let panicked = std::panic::catch_unwind(|| {
        let _only = SwitchOn::new(&ROW_PATH_ONLY);
        panic!("a cycle panics");
    });
    assert!(panicked.is_err());
    assert!(!ROW_PATH_ONLY.with(std::cell::Cell::get));
}

/// A row of the shared schema with an instrument, a size and a timestamp (`None`: null).
fn trade(instrument: &str, size: Option<f64>, ts: Option<i64>) -> Row {
    let mut row = vec![Value::Null; schema().len()];
    row[column("Instrument")] = Value::String(instrument.into());
    row[column("Size")] = size.map_or(Value::Null, Value::F64);
    row[column("Ts")] = ts.map_or(Value::Null, Value::Timestamp);
    row
}

/// A cycle larger than two chunks in one group (the table's only group with no keys, and by
/// `Instrument` one group taking most rows beside two small ones), then a cycle that continues
/// the groups' windows: every value bit for bit as the row path gives it, the windowed
/// operations against the reference on every row, the cumulative ones (whose reference is
/// quadratic) on rows spread over the cycles and on each side of the chunks' edges.
#[test]
fn cycles_over_several_chunks_equal_the_row_path_and_a_recomputation() {
    const BIG: usize = BATCH_CHUNK * 5 / 2;
    // 14 rows of 16 are BTC/USD: over two chunks in that group.
    const { assert!(BIG * 14 / 16 > 2 * BATCH_CHUNK) };
    let row = |i: usize| {
        let instrument = match i % 16 {
            0 => "ETH/USD",
            8 => "ETH/BTC",
            _ => "BTC/USD",
        };
        // Multiples of 1/4 (exact sums), a null now and then; eight rows per timestamp.
        let size = (i % 13 != 5).then(|| ((i * 7919) % 2001) as f64 / 4.0 - 250.0);
        let ts = (i % 50 != 7).then_some((i / 8) as i64);
        trade(instrument, size, ts)
    };
    let cycles: Vec<Vec<Row>> = vec![
        (0..BIG).map(row).collect(),
        (BIG..BIG + 300).map(row).collect(),
    ];
    let windowed = vec![
        UpdateBy::rolling(
            UpdateByKind::Sum,
            UpdateByWindow::ticks(5, 2),
            &["T = Size"],
        ),
        UpdateBy::rolling(
            UpdateByKind::Min,
            UpdateByWindow::ticks(40, 0),
            &["M = Size"],
        ),
        UpdateBy::rolling(
            UpdateByKind::Avg,
            UpdateByWindow::time("Ts", 3, 1),
            &["A = Size"],
        ),
        UpdateBy::rolling(
            UpdateByKind::Count,
            UpdateByWindow::time("Ts", 0, 0),
            &["N = Size"],
        ),
    ];
    let cumulative = vec![
        UpdateBy::cum_sum(&["C = Size"]),
        UpdateBy::exponential(
            UpdateByKind::Ema,
            UpdateByWindow::DecayTicks { ticks: 2.5 },
            &["E = Size"],
            OperationControl::default(),
        ),
    ];
    let ops: Vec<UpdateBy> = windowed.iter().chain(&cumulative).cloned().collect();
    let engine = Engine::new();
    let table = engine.append_table(schema());
    let row_engine = Engine::new();
    let row_table = row_engine.append_table(schema());
    let keyed: Vec<(&[&str], _, _)> = [&[][..], &["Instrument"][..]]
        .into_iter()
        .map(|keys| {
            let fast = table.update_by(&ops, keys).unwrap();
            let slow = row_table.update_by(&ops, keys).unwrap();
            (keys, fast, slow)
        })
        .collect();
    let width = schema().len();
    let mut everything: Vec<Row> = Vec::new();
    for rows in &cycles {
        let batch = Batch::from_rows(&schema(), rows).unwrap();
        table.add(batch.clone()).unwrap();
        row_table.add(batch).unwrap();
        engine.run_cycle().unwrap();
        row_path_only(&row_engine).unwrap();
        everything.extend(rows.iter().cloned());
        for (keys, fast, slow) in &keyed {
            assert!(fast.error().is_none() && slow.error().is_none(), "{keys:?}");
            let got = fast.all_rows();
            let row_path = slow.all_rows();
            assert_eq!(got.len(), row_path.len(), "by {keys:?}: rows");
            for (r, (g, w)) in bits(&got).iter().zip(&bits(&row_path)).enumerate() {
                assert!(
                    g == w,
                    "by {keys:?}, row {r}: the batch path gives {:?}, the row path {:?}",
                    got[r],
                    row_path[r]
                );
            }
            let want = reference(&everything, everything.len(), &windowed, keys);
            assert_eq!(got.len(), want.len());
            for (r, (g, w)) in got.iter().zip(&want).enumerate() {
                for (c, (gv, (wv, tol))) in g.iter().zip(w).enumerate().take(width + windowed.len())
                {
                    assert!(
                        close(gv, wv, *tol),
                        "by {keys:?}, row {r}, column {c}: {gv:?} != {wv:?}"
                    );
                }
            }
            // The cumulative operations' reference at a row: its group's rows up to it, folded.
            let key_columns: Vec<usize> = keys.iter().map(|k| column(k)).collect();
            let same_group = |a: &Row, b: &Row| key_columns.iter().all(|&k| a[k] == b[k]);
            let mut position = vec![0usize; everything.len()];
            let mut seen: Vec<(&Row, usize)> = Vec::new();
            for (i, r) in everything.iter().enumerate() {
                match seen.iter_mut().find(|(first, _)| same_group(first, r)) {
                    Some((_, n)) => {
                        position[i] = *n;
                        *n += 1;
                    }
                    None => seen.push((r, 1)),
                }
            }
            let near_edge = |p: usize| (p + 2) % BATCH_CHUNK < 5;
            for i in (0..everything.len())
                .filter(|&i| i % 257 == 0 || near_edge(position[i]) || i + 3 >= everything.len())
            {
                let seq: Vec<&Row> = everything[..=i]
                    .iter()
                    .filter(|r| same_group(r, &everything[i]))
                    .collect();
                for (n, op) in cumulative.iter().enumerate() {
                    let (want, tol) = fold(op, column("Size"), &seq, true);
                    let got = &got[i][width + windowed.len() + n];
                    assert!(
                        close(got, &want, tol),
                        "by {keys:?}, row {i}, {}: {got:?} != {want:?}",
                        op.pairs[0]
                    );
                }
            }
        }
    }
}

/// A cycle of the batch path whose timestamps go back within one group fails a time window
/// with the row path's error, naming the column, and leaves the table as it was.
#[test]
fn timestamps_going_back_in_a_large_cycle_fail_as_on_the_row_path() {
    const ROWS: usize = 300;
    const { assert!(ROWS >= BATCH_ROWS) };
    let instrument = |i: usize| {
        if i.is_multiple_of(2) {
            "BTC/USD"
        } else {
            "ETH/USD"
        }
    };
    let first: Vec<Row> = (0..ROWS)
        .map(|i| trade(instrument(i), Some(i as f64), Some(i as i64)))
        .collect();
    // In the second cycle one BTC/USD row goes back to before the rows around it; ETH/USD's
    // timestamps stay in order.
    let second: Vec<Row> = (ROWS..2 * ROWS)
        .map(|i| {
            let ts = if i == ROWS + 150 {
                ROWS as i64 + 10
            } else {
                i as i64
            };
            trade(instrument(i), Some(i as f64), Some(ts))
        })
        .collect();
    let ops = [
        UpdateBy::rolling_avg(UpdateByWindow::time("Ts", 5, 0), &["A = Size"]),
        UpdateBy::rolling_sum(UpdateByWindow::ticks(3, 0), &["S = Size"]),
        UpdateBy::cum_sum(&["C = Size"]),
    ];
    let mut errors = Vec::new();
    for batch_path in [true, false] {
        let engine = Engine::new();
        let t = engine.append_table(schema());
        let avg = t.update_by(&ops, &["Instrument"]).unwrap();
        let run = || {
            if batch_path {
                engine.run_cycle()
            } else {
                row_path_only(&engine)
            }
        };
        t.add(Batch::from_rows(&schema(), &first).unwrap()).unwrap();
        run().unwrap();
        assert!(avg.error().is_none(), "{:?}", avg.error());
        let before = bits(&avg.all_rows());
        t.add(Batch::from_rows(&schema(), &second).unwrap())
            .unwrap();
        run().unwrap();
        let e = avg
            .error()
            .expect("timestamps going back fail a time window");
        assert!(e.contains("Ts") && e.contains("decrease"), "{e}");
        assert_eq!(
            bits(&avg.all_rows()),
            before,
            "batch path {batch_path}: half applied"
        );
        errors.push(e);
    }
    assert_eq!(
        errors[0], errors[1],
        "the batch path's error, then the row path's"
    );
}

/// `ops` by Instrument over a cycle of `first`, then of `second`, whose timestamps go back:
/// the second fails the table with the time window's error and leaves it as the first left it.
fn fails_and_leaves_the_table_as_it_was(ops: &[UpdateBy], first: &[Row], second: &[Row]) {
    let engine = Engine::new();
    let t = engine.append_table(schema());
    let out = t.update_by(ops, &["Instrument"]).unwrap();
    t.add(Batch::from_rows(&schema(), first).unwrap()).unwrap();
    engine.run_cycle().unwrap();
    let before = bits(&out.all_rows());
    t.add(Batch::from_rows(&schema(), second).unwrap()).unwrap();
    engine.run_cycle().unwrap();
    let e = out
        .error()
        .expect("timestamps going back fail a time window");
    assert!(e.contains("Ts") && e.contains("decrease"), "{e}");
    assert_eq!(bits(&out.all_rows()), before, "half applied");
}

/// A cycle whose timestamps go back in a later chunk than its first (after the windows moved
/// over the chunks before) fails the table and leaves it as it was.
#[test]
fn a_later_chunk_that_fails_leaves_the_table_as_it_was() {
    const { assert!(12_000 > BATCH_CHUNK && 20_000 < 65_536) };
    let first: Vec<Row> = (0..50)
        .map(|i| trade("BTC/USD", Some(i as f64), Some(i as i64)))
        .collect();
    let second: Vec<Row> = (50..20_000)
        .map(|i| {
            let instrument = if i % 3 == 0 { "ETH/USD" } else { "BTC/USD" };
            let ts = if i == 12_000 { 10 } else { i as i64 };
            trade(instrument, Some(i as f64), Some(ts))
        })
        .collect();
    let ops = [UpdateBy::rolling_sum(
        UpdateByWindow::time("Ts", 2, 3),
        &["S = Size"],
    )];
    fails_and_leaves_the_table_as_it_was(&ops, &first, &second);
}

/// A cycle of several blocks whose timestamps go back in a later block fails the table and
/// leaves it as it was: the rows of the blocks before dropped, and the rows of the cycle before
/// whose values those blocks rewrote in place (a forward window's) put back.
#[test]
fn a_block_that_fails_leaves_the_table_as_it_was() {
    let _block = BlockRows::new(300);
    let first: Vec<Row> = (0..50)
        .map(|i| trade("BTC/USD", Some(i as f64), Some(i as i64)))
        .collect();
    // Row 700 of the second cycle (its third block) goes back in time.
    let second: Vec<Row> = (50..1000)
        .map(|i| {
            let ts = if i == 750 { 10 } else { i as i64 };
            trade("BTC/USD", Some(i as f64), Some(ts))
        })
        .collect();
    let ops = [
        UpdateBy::rolling_sum(UpdateByWindow::time("Ts", 2, 3), &["S = Size"]),
        UpdateBy::rolling_avg(UpdateByWindow::ticks(2, 4), &["A = Size"]),
    ];
    fails_and_leaves_the_table_as_it_was(&ops, &first, &second);
}

/// A cycle of several blocks gives every row the value one block gives it, and reports as
/// modified only rows of earlier cycles (the rows it adds and then rewrites from a later block
/// are added, not modified).
#[test]
fn a_cycle_in_blocks_equals_one_block_and_modifies_only_earlier_rows() {
    let rows = |range: std::ops::Range<usize>| -> Vec<Row> {
        range
            .map(|i| {
                let instrument = ["BTC/USD", "ETH/USD", "ETH/BTC"][i % 3];
                let size = (i % 11 != 4).then_some((i * 37 % 101) as f64 - 50.0);
                trade(instrument, size, Some((i / 3) as i64))
            })
            .collect()
    };
    let ops = [
        UpdateBy::rolling_sum(UpdateByWindow::time("Ts", 4, 2), &["S = Size"]),
        UpdateBy::rolling_avg(UpdateByWindow::ticks(3, 2), &["A = Size"]),
        UpdateBy::rolling(
            UpdateByKind::Max,
            UpdateByWindow::ticks(5, 0),
            &["M = Size"],
        ),
        UpdateBy::cum_sum(&["C = Size"]),
    ];
    let run = |block: usize| {
        let _block = BlockRows::new(block);
        let engine = Engine::new();
        let t = engine.append_table(schema());
        let out = t.update_by(&ops, &["Instrument"]).unwrap();
        t.add(Batch::from_rows(&schema(), &rows(0..40)).unwrap())
            .unwrap();
        engine.run_cycle().unwrap();
        t.add(Batch::from_rows(&schema(), &rows(40..1500)).unwrap())
            .unwrap();
        engine.run_cycle().unwrap();
        assert!(out.error().is_none(), "{:?}", out.error());
        (bits(&out.all_rows()), out.last_update())
    };
    let (one, one_update) = run(BLOCK_ROWS);
    let (split, split_update) = run(260);
    assert_eq!(split, one, "blocks of 260 rows");
    let modified = |u: Option<crate::table::Update>| match u {
        Some(crate::table::Update::Keyed { modified, .. }) => modified,
        other => panic!("a keyed update (forward windows rewrite rows): {other:?}"),
    };
    let (one_modified, split_modified) = (modified(one_update), modified(split_update));
    assert!(!one_modified.is_empty() && one_modified.iter().all(|&k| k < 40));
    assert_eq!(split_modified, one_modified);
}

/// The sums' own loop (every row finite: the loop of additions alone, a tick window's steady
/// stretches, the rebuild begun ahead) against the driver's generic slide, bit for bit (the
/// row-path switch turns the own loops off), and against the reference: tick windows behind,
/// around and ahead of the row, time windows with equal timestamps, over an append table and a
/// ring, cycles large and small, in one block and in blocks of 300 rows.
#[test]
fn the_sums_own_loop_equals_the_generic_slide_when_every_row_is_finite() {
    let rows = |range: std::ops::Range<usize>| -> Vec<Row> {
        range
            .map(|i| {
                let instrument = ["BTC/USD", "ETH/USD", "BTC/USD", "ETH/BTC"][i % 4];
                // Multiples of 1/8 of mixed scales: exact sums, and sums that round.
                let size = ((i * 7919) % 1601) as f64 / 8.0 - 100.0 + (i % 7) as f64 * 1e9;
                trade(instrument, Some(size), Some((i / 3) as i64))
            })
            .collect()
    };
    let ops = [
        UpdateBy::rolling_avg(UpdateByWindow::ticks(100, 0), &["A = Size"]),
        UpdateBy::rolling_sum(UpdateByWindow::ticks(7, 3), &["B = Size"]),
        UpdateBy::rolling_avg(UpdateByWindow::ticks(-2, 6), &["C = Size"]),
        UpdateBy::rolling_sum(UpdateByWindow::ticks(5, -2), &["D = Size"]),
        UpdateBy::rolling_avg(UpdateByWindow::time("Ts", 40, 0), &["E = Size"]),
        UpdateBy::rolling_sum(UpdateByWindow::time("Ts", 9, 4), &["F = Size"]),
    ];
    let cycles = [
        rows(0..40),
        rows(40..1700),
        rows(1700..1705),
        rows(1705..2400),
    ];
    own_loop_matches(&ops, &cycles);
}

/// A time window's own stretch compares stamps as `i64`s only where every bound fits one: stamps
/// near both ends of the `i64`s, with windows reaching past them, take the generic slide's `i128`
/// bounds (and give what it gives).
#[test]
fn the_sums_own_loop_takes_stamps_near_the_ends_of_the_longs() {
    let rows = |range: std::ops::Range<usize>, top: bool| -> Vec<Row> {
        range
            .map(|i| {
                let instrument = ["BTC/USD", "ETH/USD"][i % 2];
                let size = ((i * 7919) % 1601) as f64 / 8.0 - 100.0;
                let step = (i / 3) as i64;
                let ts = if top {
                    i64::MAX - 1_000 + step
                } else {
                    i64::MIN + 1 + step
                };
                trade(instrument, Some(size), Some(ts))
            })
            .collect()
    };
    let ops = [
        UpdateBy::rolling_avg(UpdateByWindow::time("Ts", i64::MAX, 0), &["A = Size"]),
        UpdateBy::rolling_sum(UpdateByWindow::time("Ts", 0, i64::MAX), &["B = Size"]),
        UpdateBy::rolling_avg(UpdateByWindow::time("Ts", 40, 0), &["C = Size"]),
        UpdateBy::rolling_sum(UpdateByWindow::time("Ts", -5, 60), &["D = Size"]),
        UpdateBy::rolling_sum(
            UpdateByWindow::time("Ts", i64::MIN + 1, i64::MAX),
            &["E = Size"],
        ),
    ];
    for top in [true, false] {
        own_loop_matches(
            &ops,
            &[rows(0..30, top), rows(30..1200, top), rows(1200..1500, top)],
        );
    }
}

/// Runs `cycles` through `ops` with the own loops on and with the driver's generic slide alone
/// (the row path), over an append table and a ring, in one block and in blocks of 300 rows:
/// the two bit for bit, and each close to the reference.
fn own_loop_matches(ops: &[UpdateBy], cycles: &[Vec<Row>]) {
    for (block, ring) in [
        (BLOCK_ROWS, None),
        (300, None),
        (300, Some(700)),
        (BLOCK_ROWS, Some(900)),
    ] {
        let _block = BlockRows::new(block);
        let make = |engine: &Engine| match ring {
            Some(capacity) => engine.ring_table(schema(), capacity),
            None => engine.append_table(schema()),
        };
        let (engine, generic_engine) = (Engine::new(), Engine::new());
        let (t, generic_t) = (make(&engine), make(&generic_engine));
        let out = t.update_by(ops, &["Instrument"]).unwrap();
        let generic = generic_t.update_by(ops, &["Instrument"]).unwrap();
        let mut everything: Vec<Row> = Vec::new();
        for cycle in cycles {
            let batch = Batch::from_rows(&schema(), cycle).unwrap();
            t.add(batch.clone()).unwrap();
            generic_t.add(batch).unwrap();
            engine.run_cycle().unwrap();
            row_path_only(&generic_engine).unwrap();
            everything.extend(cycle.iter().cloned());
            let (got, want) = (out.all_rows(), generic.all_rows());
            assert_eq!(bits(&got), bits(&want), "blocks of {block}, ring {ring:?}");
            let covered = match ring {
                Some(capacity) => &everything[everything.len().saturating_sub(capacity)..],
                None => &everything[..],
            };
            let reference = reference(covered, covered.len(), ops, &["Instrument"]);
            assert_eq!(got.len(), reference.len());
            for (r, (g, w)) in got.iter().zip(&reference).enumerate() {
                for (c, (gv, (wv, tol))) in g.iter().zip(w).enumerate() {
                    assert!(close(gv, wv, *tol), "row {r}, column {c}: {gv:?} != {wv:?}");
                }
            }
        }
    }
}

/// `rollingGroup` over a forward window (rows rewritten as later rows arrive, arrays that cannot
/// change in place) keeps every row of a cycle larger than a block, with the arrays one block
/// gives them: such an append stays one block.
#[test]
fn a_rolling_group_with_a_forward_window_keeps_every_row_of_a_large_cycle() {
    let rows: Vec<Row> = (0..1000)
        .map(|i| {
            trade(
                ["BTC/USD", "ETH/USD"][i % 2],
                Some(i as f64),
                Some((i / 4) as i64),
            )
        })
        .collect();
    let ops = [
        UpdateBy::rolling(
            UpdateByKind::Group,
            UpdateByWindow::ticks(2, 3),
            &["G = Size"],
        ),
        UpdateBy::rolling(
            UpdateByKind::Group,
            UpdateByWindow::time("Ts", 0, 2),
            &["H = Size"],
        ),
        UpdateBy::rolling_sum(UpdateByWindow::ticks(3, 2), &["S = Size"]),
    ];
    // Each cycle's table, then a table built over all the rows (its first pass).
    let run = |block: usize| {
        let _block = BlockRows::new(block);
        let engine = Engine::new();
        let t = engine.append_table(schema());
        let out = t.update_by(&ops, &["Instrument"]).unwrap();
        let mut seen = Vec::new();
        for piece in [&rows[..20], &rows[20..]] {
            t.add(Batch::from_rows(&schema(), piece).unwrap()).unwrap();
            engine.run_cycle().unwrap();
            assert!(out.error().is_none(), "{:?}", out.error());
            assert_eq!(out.size(), t.size(), "blocks of {block}: rows");
            seen.push(out.all_rows());
        }
        seen.push(t.update_by(&ops, &["Instrument"]).unwrap().all_rows());
        seen
    };
    assert_eq!(run(300), run(BLOCK_ROWS));
}

/// A cycle of several batches (so the parent's chunks split it where the batch path's chunks do
/// not): the batch path reads the values and timestamps of its rolling
/// windows in place, from the parent's chunks, and gives every value bit for bit as the row
/// path does: first with no null value (the sums' own loops), then with null values and
/// timestamps (a row of a null timestamp in no group of a time window).
#[test]
fn a_cycle_read_in_place_over_the_parents_chunks_equals_the_row_path() {
    let row = |i: usize, nulls: bool| {
        let instrument = ["BTC/USD", "ETH/USD", "ETH/BTC"][(i * 7) % 11 % 3];
        let size = match i {
            // A NaN and an infinity in the middle chunk of the second round.
            30_000 => Some(f64::NAN),
            30_100 => Some(f64::INFINITY),
            _ => (!nulls || i % 17 != 3).then(|| ((i * 7919) % 2001) as f64 / 4.0 - 250.0),
        };
        trade(
            instrument,
            size,
            (!nulls || i % 23 != 5).then_some((i / 3) as i64),
        )
    };
    let batches = |from: usize, nulls: bool| -> Vec<Vec<Row>> {
        [5_000, 7_001, 9_000, 300]
            .iter()
            .scan(from, |at, &n| {
                let rows = (*at..*at + n).map(|i| row(i, nulls)).collect();
                *at += n;
                Some(rows)
            })
            .collect()
    };
    let mut ops = vec![UpdateBy::rolling(
        UpdateByKind::Sum,
        UpdateByWindow::ticks(30, 3),
        &["T = Size"],
    )];
    for (n, (rev, fwd)) in [(40, 0), (3, 1), (0, 4), (10, -3), (-2, 6), (0, 0)]
        .into_iter()
        .enumerate()
    {
        let kind = [UpdateByKind::Avg, UpdateByKind::Sum][n % 2];
        let pair = format!("W{n} = Size");
        let window = UpdateByWindow::time("Ts", rev, fwd);
        ops.push(UpdateBy::rolling(kind, window, &[pair.as_str()]));
    }
    let cycles = [batches(0, false), batches(21_301, true)];
    read_in_place_as_the_row_path(&ops, &cycles);
}

/// Feeds `cycles` (each its batches) to `ops` by Instrument, on the batch path and on the row
/// path: every rolling lane reads each cycle in place, and every value is the row path's, bit
/// for bit.
fn read_in_place_as_the_row_path(ops: &[UpdateBy], cycles: &[Vec<Vec<Row>>]) {
    let engine = Engine::new();
    let table = engine.append_table(schema());
    let row_engine = Engine::new();
    let row_table = row_engine.append_table(schema());
    let fast = table.update_by(ops, &["Instrument"]).unwrap();
    let slow = row_table.update_by(ops, &["Instrument"]).unwrap();
    let mut rows = 0;
    for (c, batches) in cycles.iter().enumerate() {
        for batch in batches {
            rows += batch.len();
            let batch = Batch::from_rows(&schema(), batch).unwrap();
            table.add(batch.clone()).unwrap();
            row_table.add(batch).unwrap();
        }
        let read_in_place = IN_PLACE.with(std::cell::Cell::get);
        engine.run_cycle().unwrap();
        let lanes = IN_PLACE.with(std::cell::Cell::get) - read_in_place;
        assert_eq!(lanes, ops.len(), "cycle {c}: lanes read in place");
        row_path_only(&row_engine).unwrap();
        assert!(fast.error().is_none() && slow.error().is_none());
        let (got, want) = (fast.all_rows(), slow.all_rows());
        assert_eq!(got.len(), rows);
        assert_eq!(bits(&got), bits(&want), "cycle {c}");
    }
}

/// A cycle read in place that the batch path declines (its greatest group id over twice its
/// rows: a few rows of the last of many groups) goes row by row from copies, as the row path.
#[test]
fn a_cycle_read_in_place_then_declined_equals_the_row_path() {
    let ops = [
        UpdateBy::rolling(
            UpdateByKind::Sum,
            UpdateByWindow::ticks(3, 0),
            &["T = Size"],
        ),
        UpdateBy::rolling(
            UpdateByKind::Avg,
            UpdateByWindow::time("Ts", 4, 0),
            &["A = Size"],
        ),
    ];
    let cycles = [
        vec![
            (0..1_000)
                .map(|i| trade(&format!("I{i}"), Some(i as f64), Some(i as i64)))
                .collect(),
        ],
        vec![
            (1_000..1_300)
                .map(|i| trade("I999", Some((i % 7) as f64), Some(i as i64)))
                .collect(),
        ],
    ];
    read_in_place_as_the_row_path(&ops, &cycles);
}
