//! The time-decayed exponential operations (`ema`, `ems`, `emMin`, `emMax`, `emStd` over
//! `{timestampCol, time}`) over a large cycle of groups that stream (a cumulative window not
//! over a ring: `lane.rs`'s batch path), a block of rows at a time, in three passes:
//!
//! 1. each row's gap from its group's last stamp, on the guess that every valid row before it
//!    folds in (an integer pass: a stamp per group, no fold);
//! 2. every row's decay `exp(−gap / time)` at once ([`crate::exp::exp_each`], in loops that LLVM
//!    vectorises: fdlibm's doubles, the row path's, bit for bit);
//! 3. the rows folded in, in arrival order: a row whose group's stamp is the one guessed takes
//!    its decay ([`EmFold::push_decayed`]); any other (a null or NaN value, a null timestamp, a
//!    gap not above 0 or past a long, a group's first row, a guess that a reset or a skipped row
//!    made wrong) goes through [`Fold::push`] as on the row path, its `OperationControl` and all.
//!
//! Invariant: each group's fold takes its rows in their order, each with the decay the row path
//! would give it, so each value is the row path's, bit for bit (this module's property test and
//! `batch_tests`, with the row path switched on for the other side); each group then counts its
//! rows as if pushed one by one ([`GroupWindow::streamed`]).

use super::ema::EmFold;
use super::fold::{Entry, Fold, Place, Sink};
use super::window::GroupWindow;
use crate::Result;
use crate::column::{NULL_F64, NULL_I64};
use crate::exp::exp_each;

/// Rows a pass takes at a time: its guesses, gaps and decays stay in the first-level cache.
const BLOCK: usize = 256;

/// One group over a cycle: its fold, and its bookkeeping.
struct Stream<'a> {
    fold: &'a mut EmFold,
    /// The stamp its fold will have, if every valid row folds in.
    guess: i64,
    rows: u64,
    last_ts: i64,
}

/// Folds rows `0 .. ids.len()` of a cycle (group `ids[r]`, value `xs[r]`, timestamp `ts[r]`,
/// output key `first_key + r`) into `groups`, each group's fold a time-decayed exponential one
/// that streams, and writes each row's value at its position in `out`. `false` (nothing done)
/// for folds of any other kind, or a sink that is not a double one as long as the cycle.
pub(super) fn stream<F: Place>(
    groups: &mut [GroupWindow<F>],
    ids: &[u32],
    xs: &[f64],
    ts: &[i64],
    first_key: u64,
    out: &mut Sink,
) -> Result<bool> {
    let count = ids.len();
    let Sink::F64(out) = out else {
        return Ok(false);
    };
    let Some(time) = groups
        .first_mut()
        .and_then(|g| g.fold_mut().decayed())
        .and_then(|f| f.decay_time())
    else {
        return Ok(false);
    };
    if out.len() != count || xs.len() != count || ts.len() != count {
        return Ok(false);
    }
    let mut streams: Vec<Stream<'_>> = Vec::with_capacity(groups.len());
    for group in groups.iter_mut() {
        let Some(fold) = group.fold_mut().decayed() else {
            return Ok(false);
        };
        streams.push(Stream {
            guess: fold.stamp(),
            fold,
            rows: 0,
            last_ts: NULL_I64,
        });
    }
    let result = fold_blocks(&mut streams, (ids, xs, ts), first_key, time, out);
    let counts: Vec<(u64, i64)> = streams.iter().map(|s| (s.rows, s.last_ts)).collect();
    for (group, (rows, last_ts)) in groups.iter_mut().zip(counts) {
        group.streamed(rows, last_ts);
    }
    result.map(|()| true)
}

/// The three passes of the module's doc over each block of the cycle.
fn fold_blocks(
    streams: &mut [Stream<'_>],
    (ids, xs, ts): (&[u32], &[f64], &[i64]),
    first_key: u64,
    time: f64,
    out: &mut [f64],
) -> Result<()> {
    let mut guesses = [NULL_I64; BLOCK];
    let mut decays = [0.0f64; BLOCK];
    for start in (0..ids.len()).step_by(BLOCK) {
        let end = ids.len().min(start + BLOCK);
        let (ids, xs, ts, out) = (
            &ids[start..end],
            &xs[start..end],
            &ts[start..end],
            &mut out[start..end],
        );
        let (guesses, decays) = (&mut guesses[..end - start], &mut decays[..end - start]);
        // 1. The gaps (in `decays`) and the stamps guessed.
        for (r, &g) in ids.iter().enumerate() {
            let Some(stream) = streams.get_mut(g as usize) else {
                continue;
            };
            let (x, t) = (xs[r], ts[r]);
            let last = stream.guess;
            let gap = t.wrapping_sub(last);
            let valid = x != NULL_F64 && !x.is_nan() && t != NULL_I64;
            let decays_now = valid && last != NULL_I64 && t > last && gap > 0;
            guesses[r] = if decays_now { last } else { NULL_I64 };
            decays[r] = gap as f64;
            if valid && (last == NULL_I64 || decays_now) {
                stream.guess = t;
            }
        }
        // 2. The decays, vectorised (a row that takes `push` gets a stand-in x ≤ 0 near 0).
        for (d, &guess) in decays.iter_mut().zip(guesses.iter()) {
            let x = -*d / time;
            *d = if guess != NULL_I64 { x } else { -0.25 };
        }
        exp_each(decays);
        // 3. The folds, in arrival order.
        for (r, &g) in ids.iter().enumerate() {
            let Some(stream) = streams.get_mut(g as usize) else {
                continue;
            };
            let (x, t) = (xs[r], ts[r]);
            if !stream.fold.push_decayed(x, t, guesses[r], decays[r]) {
                let e = Entry {
                    x,
                    ts: t,
                    key: first_key + (start + r) as u64,
                    ..Entry::default()
                };
                // (The exponential folds read no row number: the cycle's count stands in.)
                stream.fold.push(&e, stream.rows, None)?;
            }
            out[r] = stream.fold.value();
            stream.rows += 1;
            stream.last_ts = t;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    //! The batch path of the time-decayed exponential operations against the row path (fed the
    //! same cycles, [`ROW_PATH_ONLY`]) bit for bit, and against the from-scratch reference of
    //! `tests.rs`, over append, stream and ring tables: random `OperationControl`s, values null,
    //! NaN and infinite, timestamps null, equal, going back and jumping across the longs' range.

    use proptest::prelude::*;

    use super::super::lane::ROW_PATH_ONLY;
    use super::super::tests::{KEY_SETS, close, reference};
    use super::super::{BadData, OperationControl, UpdateBy, UpdateByKind, UpdateByWindow};
    use crate::column::Value;
    use crate::ops::tests::{Row, SwitchOn, column, schema};
    use crate::table::{Batch, Engine, Table};

    /// How a row's timestamp follows the last row's.
    #[derive(Debug, Clone, Copy)]
    enum Step {
        Null,
        /// Later by this much (0: the same).
        Ahead(i64),
        Back(i64),
        /// Up to one of [`LEVELS`] above the last (a gap past the longs' range from the lowest
        /// to the two highest).
        Jump(usize),
    }

    const LEVELS: [i64; 5] = [i64::MIN + 1, -(1 << 62), 0, 1 << 62, i64::MAX - (1 << 30)];

    fn arb_step() -> impl Strategy<Value = Step> {
        prop_oneof![
            2 => Just(Step::Null),
            24 => (0i64..4).prop_map(Step::Ahead),
            16 => (0i64..3_000_000).prop_map(Step::Ahead),
            1 => (1i64..4).prop_map(Step::Back),
            1 => (0..LEVELS.len()).prop_map(Step::Jump),
        ]
    }

    fn arb_size() -> impl Strategy<Value = Value> {
        prop_oneof![
            16 => (-1e6f64..1e6).prop_map(Value::F64),
            1 => Just(Value::Null),
            1 => Just(Value::F64(f64::NAN)),
            1 => prop::sample::select(vec![f64::INFINITY, f64::NEG_INFINITY, -0.0, 1e300])
                .prop_map(Value::F64),
        ]
    }

    /// A row of the shared schema: an instrument, a size, a quantity and a step of the clock.
    fn arb_row() -> impl Strategy<Value = (Row, Step)> {
        let text = |choices: &'static [&'static str]| {
            proptest::option::weighted(0.9, prop::sample::select(choices))
                .prop_map(|s| s.map_or(Value::Null, |s| Value::String(s.into())))
        };
        (
            text(&["binance", "kraken"]),
            text(&["BTC/USD", "ETH/USD", "ETH/BTC"]),
            arb_size(),
            proptest::option::weighted(0.9, -3i32..4),
            arb_step(),
        )
            .prop_map(|(e, i, s, q, step)| {
                let row = vec![
                    e,
                    i,
                    s,
                    q.map_or(Value::Null, Value::I32),
                    Value::Null,
                    Value::Null,
                ];
                (row, step)
            })
    }

    /// The rows with their timestamps, the clock walked from `start` through the cycles in
    /// order.
    fn stamped(cycles: Vec<Vec<(Row, Step)>>, start: i64) -> Vec<Vec<Row>> {
        let t = column("Ts");
        let mut now = start;
        cycles
            .into_iter()
            .map(|rows| {
                rows.into_iter()
                    .map(|(mut row, step)| {
                        now = match step {
                            Step::Null => now,
                            Step::Ahead(d) => now.saturating_add(d),
                            Step::Back(d) => now.saturating_sub(d).max(i64::MIN + 1),
                            Step::Jump(level) => now.max(LEVELS[level]),
                        };
                        row[t] = match step {
                            Step::Null => Value::Null,
                            _ => Value::Timestamp(now),
                        };
                        row
                    })
                    .collect()
            })
            .collect()
    }

    fn arb_control() -> impl Strategy<Value = OperationControl> {
        let any = || {
            prop::sample::select(vec![
                BadData::Throw,
                BadData::Reset,
                BadData::Poison,
                BadData::Skip,
            ])
        };
        (
            prop::sample::select(vec![BadData::Throw, BadData::Reset, BadData::Skip]),
            any(),
            any(),
            prop_oneof![1 => Just(BadData::Throw), 1 => any()],
            any(),
        )
            .prop_map(|(null, nan, null_time, negative, zero)| OperationControl {
                on_null_value: null,
                on_nan_value: nan,
                on_null_time: null_time,
                on_negative_delta_time: negative,
                on_zero_delta_time: zero,
            })
    }

    /// The five time-decayed operations over `Size` and `Qty` (outputs `E0` to `E9`).
    fn decay_ops(time: i64, control: OperationControl) -> Vec<UpdateBy> {
        [
            UpdateByKind::Ema,
            UpdateByKind::Ems,
            UpdateByKind::EmMin,
            UpdateByKind::EmMax,
            UpdateByKind::EmStd,
        ]
        .iter()
        .enumerate()
        .map(|(i, &kind)| {
            let pairs = [
                format!("E{} = Size", 2 * i),
                format!("E{} = Qty", 2 * i + 1),
            ];
            let pairs: Vec<&str> = pairs.iter().map(String::as_str).collect();
            let decay = UpdateByWindow::DecayTime {
                column: "Ts".into(),
                time,
            };
            UpdateBy::exponential(kind, decay, &pairs, control)
        })
        .collect()
    }

    /// Doubles by their bits (every NaN one).
    fn bits(rows: &[Row]) -> Vec<Vec<Value>> {
        rows.iter()
            .map(|r| {
                r.iter()
                    .map(|v| match v {
                        Value::F64(x) if x.is_nan() => Value::I64(1),
                        Value::F64(x) => Value::I64(x.to_bits() as i64),
                        other => other.clone(),
                    })
                    .collect()
            })
            .collect()
    }

    fn check(
        cycles: &[Vec<Row>],
        time: i64,
        control: OperationControl,
        ring_capacity: usize,
    ) -> Result<(), TestCaseError> {
        let ops = decay_ops(time, control);
        // Each source twice: on the engine whose large cycles take the batch path, and on the
        // one whose cycles all take the row path.
        let fast = Engine::new();
        let slow = Engine::new();
        let make = |engine: &Engine| {
            [
                engine.append_table(schema()),
                engine.stream_table(schema()),
                engine.ring_table(schema(), ring_capacity),
            ]
        };
        let (fast_sources, slow_sources) = (make(&fast), make(&slow));
        let mut derived: Vec<(&[&str], usize, Table, Table)> = Vec::new();
        for keys in KEY_SETS {
            for (s, (f, w)) in fast_sources.iter().zip(&slow_sources).enumerate() {
                derived.push((
                    keys,
                    s,
                    f.update_by(&ops, keys).unwrap(),
                    w.update_by(&ops, keys).unwrap(),
                ));
            }
        }
        let mut everything: Vec<Row> = Vec::new();
        for (cycle, rows) in cycles.iter().enumerate() {
            let batch = Batch::from_rows(&schema(), rows).unwrap();
            for (f, w) in fast_sources.iter().zip(&slow_sources) {
                f.add(batch.clone()).unwrap();
                w.add(batch.clone()).unwrap();
            }
            fast.run_cycle().unwrap();
            {
                let _only = SwitchOn::new(&ROW_PATH_ONLY);
                slow.run_cycle().unwrap();
            }
            everything.extend(rows.iter().cloned());
            for (keys, source, batch_path, row_path) in &derived {
                let name = ["append", "stream", "ring"][*source];
                // Both fail at the same cycle; over append and stream with the same error (the
                // first bad row in arrival order). Over a ring the batch path runs group by
                // group, and may name another group's bad row first.
                let (failed, row_failed) = (batch_path.error(), row_path.error());
                prop_assert_eq!(
                    failed.is_some(),
                    row_failed.is_some(),
                    "{} by {:?}",
                    name,
                    keys
                );
                if *source < 2 {
                    prop_assert_eq!(&failed, &row_failed, "{} by {:?}", name, keys);
                }
                if failed.is_some() {
                    continue;
                }
                let (got, want) = (batch_path.all_rows(), row_path.all_rows());
                prop_assert!(
                    bits(&got) == bits(&want),
                    "{} by {:?}: the batch path gives other values than the row path",
                    name,
                    keys
                );
                // The reference (quadratic: each row's value from its group's first row) after
                // the last cycle only.
                if cycle + 1 < cycles.len() {
                    continue;
                }
                let (covered, shown): (&[Row], usize) = match *source {
                    0 => (&everything, everything.len()),
                    1 => (&everything, rows.len()),
                    _ => {
                        let from = everything.len().saturating_sub(ring_capacity);
                        (&everything[from..], everything.len() - from)
                    }
                };
                let want = reference(covered, shown, &ops, keys);
                prop_assert_eq!(got.len(), want.len());
                for (r, (g, w)) in got.iter().zip(&want).enumerate() {
                    for (c, (gv, (wv, tol))) in g.iter().zip(w).enumerate() {
                        prop_assert!(
                            close(gv, wv, *tol),
                            "{} by {:?}, row {}, column {}: {:?}, the reference {:?}",
                            name,
                            keys,
                            r,
                            c,
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
        #![proptest_config(ProptestConfig::with_cases(8))]

        /// Large cycles (the batch path) and small ones (the row path, between).
        #[test]
        fn decays_of_large_cycles_equal_the_row_path_and_a_recomputation(
            cycles in proptest::collection::vec(
                prop_oneof![
                    3 => proptest::collection::vec(arb_row(), 256..600),
                    1 => proptest::collection::vec(arb_row(), 0..20),
                ],
                1..4,
            ),
            time in prop::sample::select(vec![1i64, 3, 1_000, 1_000_000_000, i64::MAX]),
            control in arb_control(),
            ring_capacity in 50usize..1500,
            start in prop::sample::select(vec![i64::MIN + 1, -1_000, 1_000]),
        ) {
            check(&stamped(cycles, start), time, control, ring_capacity)?;
        }
    }
}
