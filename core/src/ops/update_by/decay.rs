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
//! The values and timestamps are read in stretches ([`Part`]) as the parent's chunks hold them
//! (`lane.rs` reads a double column in place), blocks within a stretch.
//!
//! A block of clean rows, the usual one, takes plainer loops ([`guess_every`], [`fold_plain`]):
//! pass 1 guesses that every row decays, with one flag for the block instead of a test a row
//! (a block with a timestamp before 1970 takes the checked passes: see [`guess_every`]),
//! and if that held and each group's guessed stamp was its fold's before the block (`synced`),
//! pass 3 folds each row in with its decay and checks nothing, the folds' stamps set once
//! ([`set_stamps`]) when a checked block comes or the cycle ends. A block where the guess fails
//! has its stamps put back ([`unguess`]) and takes the checked passes ([`guess_block`],
//! [`fold_checked`]). Each pass is a function of its own; pass 3's plain loop is compiled per
//! operation ([`Op`]; the checked one once, the operation matched a row: it is the rare
//! block's).
//!
//! Invariant: each group's fold takes its rows in their order, each with the decay the row path
//! would give it, so each value is the row path's, bit for bit (this module's property tests
//! and `batch_tests`, with the row path switched on for the other side); while `synced`, the
//! guessed stamps are the folds' (those the plain loop left behind included); each group then
//! counts its rows as if pushed one by one ([`GroupWindow::streamed`]).

use super::ema::EmFold;
use super::fold::{Entry, Fold, Place, Sink};
use super::spec::UpdateByKind;
use super::window::GroupWindow;
use crate::Result;
use crate::column::{NULL_F64, NULL_I64};
use crate::exp::exp_each;

/// Rows a pass takes at a time: its guesses, gaps and decays stay in the first-level cache.
/// (Measured over the 1M trades of `examples/update_by_cpu.rs`: 64 rows about 1 ms faster a run
/// than 256, pass 1's reads of the values and timestamps waiting less on memory, though the
/// blocks cost more instructions; 32 and 128 in between, 1,024 slower.)
const BLOCK: usize = 64;

/// Groups few enough that, after a block the checked loop folded, their folds' stamps are
/// looked at again (so that the next clean block can take the plain loop).
const RESYNC_GROUPS: usize = 64;

/// One group over a cycle: its fold, and the rows it took (counted by pass 3, beside the fold's
/// own chain of operations).
struct Stream<'a> {
    fold: &'a mut EmFold,
    rows: u64,
}

/// A stretch of a cycle's rows: their values and timestamps, as the parent's columns hold them
/// (read in place) or as a lane copied them.
pub(super) type Part<'a> = (&'a [f64], &'a [i64]);

/// Folds rows `0 .. ids.len()` of a cycle (group `ids[r]`, every id below `groups.len()`; value
/// and timestamp in `parts`, their stretches in order, row `r` of the cycle at `r` of them put
/// end to end; output key `first_key + r`) into `groups`, each group's fold a time-decayed
/// exponential one that streams, and appends each row's value, in order, to `out` (empty: the
/// values are written once, not over a fill of nulls). `false` (nothing done) for folds of any
/// other kind, a sink that is not an empty double one, or parts not as long as `ids`.
pub(super) fn stream<F: Place>(
    groups: &mut [GroupWindow<F>],
    ids: &[u32],
    parts: &[Part<'_>],
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
    let lengths = parts
        .iter()
        .map(|&(xs, ts)| (xs.len() == ts.len()).then_some(xs.len()));
    if !out.is_empty() || lengths.sum::<Option<usize>>() != Some(count) {
        return Ok(false);
    }
    let mut folds: Vec<Stream<'_>> = Vec::with_capacity(groups.len());
    for group in groups.iter_mut() {
        let Some(fold) = group.fold_mut().decayed() else {
            return Ok(false);
        };
        folds.push(Stream { fold, rows: 0 });
    }
    let mut done = 0;
    out.reserve(count);
    let result = fold_blocks(&mut folds, ids, parts, first_key, time, out, &mut done);
    // A failed cycle's rows not done read null, as the sink's length says.
    out.resize(count, NULL_F64);
    let rows: Vec<u64> = folds.iter().map(|s| s.rows).collect();
    let last_ts = last_stamps(&rows, &ids[..done], parts);
    for ((group, &n), &last) in groups.iter_mut().zip(&rows).zip(&last_ts) {
        group.streamed(n, last);
    }
    result.map(|()| true)
}

/// Each group's last row's timestamp (`NULL_I64` for a group of no row), among rows
/// `0 .. ids.len()` of `parts`, `rows[g]` of them group `g`'s: found once here rather than
/// kept a row at a time, the rows read from the end until every group that had rows is seen.
fn last_stamps(rows: &[u64], ids: &[u32], parts: &[Part<'_>]) -> Vec<i64> {
    let mut last_ts = vec![NULL_I64; rows.len()];
    let mut seen = vec![false; rows.len()];
    let mut left = rows.iter().filter(|&&n| n > 0).count();
    let mut end = parts.iter().map(|(_, ts)| ts.len()).sum::<usize>();
    for &(_, ts) in parts.iter().rev() {
        let start = end - ts.len();
        let upto = ids.len().min(end);
        end = start;
        let (Some(ids), Some(ts)) = (ids.get(start..upto), ts.get(..upto.saturating_sub(start)))
        else {
            continue;
        };
        for (&g, &t) in ids.iter().zip(ts).rev() {
            if left == 0 {
                return last_ts;
            }
            let g = g as usize;
            if let (Some(seen), Some(last)) = (seen.get_mut(g), last_ts.get_mut(g))
                && !*seen
            {
                *seen = true;
                *last = t;
                left -= 1;
            }
        }
    }
    last_ts
}

/// The three passes of the module's doc over each block of the cycle (blocks within a part);
/// `done` counts the rows folded in (all of them, or those before the row that failed).
fn fold_blocks(
    folds: &mut [Stream<'_>],
    ids: &[u32],
    parts: &[Part<'_>],
    first_key: u64,
    time: f64,
    out: &mut Vec<f64>,
    done: &mut usize,
) -> Result<()> {
    let Some(kind) = folds.first().map(|s| s.fold.kind()) else {
        return Ok(());
    };
    // Each group's stamp as guessed so far (its fold's, if every valid row folds in).
    let mut stamps: Vec<i64> = folds.iter().map(|s| s.fold.stamp()).collect();
    // Whether each group's guessed stamp was its fold's before this block (`synced`: so at
    // first, and again after a block the checked loop folded if the groups are few enough to
    // look at each then), and whether the folds' stamps were left behind (`stale`: the plain
    // loop does not write them; `stamps` holds them).
    let (mut synced, mut stale) = (true, false);
    let resyncs = stamps.len() <= RESYNC_GROUPS;
    // Pass 3's plain loop, compiled for the operation (called out of line, as the other
    // passes: each loop's registers its own); the checked one, for blocks with bad data, once.
    let plain: PlainBlock = match kind {
        UpdateByKind::Ema => fold_plain::<Ema>,
        UpdateByKind::Ems => fold_plain::<Ems>,
        UpdateByKind::EmMin => fold_plain::<EmMin>,
        UpdateByKind::EmMax => fold_plain::<EmMax>,
        _ => fold_plain::<EmStd>,
    };
    let mut guesses = [NULL_I64; BLOCK];
    let mut decays = [0.0f64; BLOCK];
    let mut result = Ok(());
    let mut offset = 0;
    let blocks = parts.iter().flat_map(|&(xs, ts)| {
        let at = offset;
        offset += xs.len();
        (0..xs.len()).step_by(BLOCK).map(move |start| {
            let end = xs.len().min(start + BLOCK);
            (at + start, &xs[start..end], &ts[start..end])
        })
    });
    for (start, xs, ts) in blocks {
        let n = xs.len();
        let Some(ids) = ids.get(start..start + n) else {
            break;
        };
        let (guesses, decays) = (&mut guesses[..n], &mut decays[..n]);
        let every = guess_every(&mut stamps, (ids, xs, ts), guesses, decays);
        if !every {
            unguess(&mut stamps, ids, guesses);
            if stale {
                set_stamps(folds, &stamps);
                stale = false;
            }
            guess_block(&mut stamps, (ids, xs, ts), guesses, decays);
        }
        decay_block((!every).then_some(&*guesses), decays, time);
        let block = Block {
            ids,
            xs,
            ts,
            guesses,
            decays,
            first_key: first_key + start as u64,
        };
        if every && synced {
            plain(folds, &block, out);
            *done += n;
            stale = true;
            continue;
        }
        result = fold_checked(kind, folds, &block, out, done);
        if result.is_err() {
            break;
        }
        synced = resyncs;
        if resyncs {
            for (stamp, s) in stamps.iter_mut().zip(folds.iter()) {
                *stamp = s.fold.stamp();
            }
        }
    }
    if stale {
        set_stamps(folds, &stamps);
    }
    result
}

/// Sets each fold's stamp to `stamps`' (after blocks the plain loop folded).
fn set_stamps(folds: &mut [Stream<'_>], stamps: &[i64]) {
    for (s, &stamp) in folds.iter_mut().zip(stamps) {
        s.fold.set_stamp(stamp);
    }
}

/// Pass 1 over a block on the guess that every row decays (a value neither null nor NaN, a
/// timestamp after its group's stamp by a gap that fits a long; and, to test that with fewer
/// operations a row, no timestamp of the block negative): each row's gap (in `decays`)
/// and its group's stamp before it (in `guesses`), each group's stamp moved to its last row's.
/// Whether the guess held: if not, [`unguess`] puts the stamps back, for [`guess_block`].
#[inline(never)]
fn guess_every(
    stamps: &mut [i64],
    (ids, xs, ts): (&[u32], &[f64], &[i64]),
    guesses: &mut [i64],
    gaps: &mut [f64],
) -> bool {
    // Whether every row's gap is above 0 and fits a long (`t − last` without overflow); if no
    // timestamp is negative (a null one, the least long, is), a group's null stamp (the least
    // long too) overflows any gap from it, so that is the guess (a block with a timestamp
    // before 1970 takes the checked passes).
    let mut every = true;
    let rows = ids
        .iter()
        .zip(ts)
        .zip(guesses.iter_mut().zip(gaps.iter_mut()));
    for ((&g, &t), (guess, gap_out)) in rows {
        let Some(stamp) = stamps.get_mut(g as usize) else {
            every = false;
            continue;
        };
        let last = *stamp;
        let (gap, overflow) = t.overflowing_sub(last);
        every &= !overflow & (gap > 0);
        *guess = last;
        *gap_out = gap as f64;
        *stamp = t;
    }
    // Not `all`, which stops at the first miss: loops that vectorise.
    every
        && ts.iter().fold(0, |bits, &t| bits | t) >= 0
        && xs
            .iter()
            .fold(true, |all, &x| all & !x.is_nan() & (x != NULL_F64))
}

/// Undoes [`guess_every`]: each group's stamp as before the block.
fn unguess(stamps: &mut [i64], ids: &[u32], guesses: &[i64]) {
    for (&g, &last) in ids.iter().zip(guesses).rev() {
        if let Some(stamp) = stamps.get_mut(g as usize) {
            *stamp = last;
        }
    }
}

/// Pass 1 over a block: each row's gap from its group's stamp (in `decays`), and the stamp it
/// decays from (in `guesses`; `NULL_I64` for a row that does not decay on the guess).
#[inline(never)]
fn guess_block(
    stamps: &mut [i64],
    (ids, xs, ts): (&[u32], &[f64], &[i64]),
    guesses: &mut [i64],
    gaps: &mut [f64],
) {
    let rows = ids.iter().zip(xs).zip(ts);
    for (((&g, &x), &t), (guess, gap_out)) in rows.zip(guesses.iter_mut().zip(gaps.iter_mut())) {
        let Some(stamp) = stamps.get_mut(g as usize) else {
            continue;
        };
        let last = *stamp;
        let gap = t.wrapping_sub(last);
        let valid = x != NULL_F64 && !x.is_nan() && t != NULL_I64;
        let decays_now = valid && last != NULL_I64 && t > last && gap > 0;
        *guess = if decays_now { last } else { NULL_I64 };
        *gap_out = gap as f64;
        if valid && (last == NULL_I64 || decays_now) {
            *stamp = t;
        }
    }
}

/// Pass 2 over a block: the decays `exp(−gap / time)`, vectorised (a row that does not decay
/// on its guess, `NULL_I64` in `guesses`, gets a stand-in x ≤ 0 near 0; `guesses` is `None`
/// when every row decays). (One loop of the quotients and their `exp` near 0 together measured
/// no faster: the two divisions a value bound it.)
#[inline(never)]
fn decay_block(guesses: Option<&[i64]>, decays: &mut [f64], time: f64) {
    match guesses {
        None => decays.iter_mut().for_each(|d| *d = -*d / time),
        Some(guesses) => {
            for (d, &guess) in decays.iter_mut().zip(guesses) {
                let x = -*d / time;
                *d = if guess != NULL_I64 { x } else { -0.25 };
            }
        }
    }
    exp_each(decays);
}

/// Pass 3 over a block whose every row decays on its guess, folds in sync, for one operation.
type PlainBlock = fn(&mut [Stream<'_>], &Block<'_>, &mut Vec<f64>);

/// A block's rows and what passes 1 and 2 made of them.
struct Block<'a> {
    ids: &'a [u32],
    xs: &'a [f64],
    ts: &'a [i64],
    guesses: &'a [i64],
    decays: &'a [f64],
    /// The output key of the block's first row.
    first_key: u64,
}

/// An operation as a type, for [`fold_plain`]'s loop to be compiled once per operation (a
/// kind passed as a value into the loop's closure made one loop for all, matching it a row).
trait Op {
    const KIND: UpdateByKind;
}

macro_rules! ops {
    ($($op:ident),*) => {
        $(
            struct $op;
            impl Op for $op {
                const KIND: UpdateByKind = UpdateByKind::$op;
            }
        )*
    };
}

ops!(Ema, Ems, EmMin, EmMax, EmStd);

/// Pass 3 over a block for folds of kind `K` (one loop per operation) when every row decays on
/// its guess and each group's guessed stamp was its fold's before the block: each row folded
/// in with its decay, nothing checked (the folds' stamps are left as they were: see
/// [`set_stamps`]), its value appended to `out`.
fn fold_plain<K: Op>(folds: &mut [Stream<'_>], block: &Block<'_>, out: &mut Vec<f64>) {
    let rows = block.ids.iter().zip(block.xs).zip(block.decays);
    out.extend(rows.map(|((&g, &x), &a)| match folds.get_mut(g as usize) {
        Some(s) => {
            s.rows += 1;
            s.fold.fold_as(K::KIND, x, a)
        }
        None => NULL_F64,
    }));
}

/// Pass 3 over any block, for folds of kind `kind` (compiled once: a block with bad data is
/// rare): the rows whose guess holds, in a loop of [`EmFold::push_decayed`] alone, each other
/// row through [`Fold::push`], each value appended to `out`. Adds to `done` the rows folded in.
#[inline(never)]
fn fold_checked(
    kind: UpdateByKind,
    folds: &mut [Stream<'_>],
    block: &Block<'_>,
    out: &mut Vec<f64>,
    done: &mut usize,
) -> Result<()> {
    let n = block.ids.len();
    let (ids, xs, ts, guesses, decays) = (
        &block.ids[..n],
        &block.xs[..n],
        &block.ts[..n],
        &block.guesses[..n],
        &block.decays[..n],
    );
    let mut r = 0;
    while r < n {
        while r < n {
            let Some(s) = folds.get_mut(ids[r] as usize) else {
                break;
            };
            if !s
                .fold
                .push_decayed(kind, xs[r], ts[r], guesses[r], decays[r])
            {
                break;
            }
            s.rows += 1;
            out.push(s.fold.value());
            r += 1;
        }
        if r == n {
            break;
        }
        let mut value = NULL_F64;
        if let Some(s) = folds.get_mut(ids[r] as usize) {
            let e = Entry {
                x: xs[r],
                ts: ts[r],
                key: block.first_key + r as u64,
                ..Entry::default()
            };
            // (The exponential folds read no row number.)
            let pushed = s.fold.push(&e, 0, None);
            if pushed.is_err() {
                *done += r;
                return pushed;
            }
            s.rows += 1;
            value = s.fold.value();
        }
        out.push(value);
        r += 1;
    }
    *done += n;
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

    /// A row as [`arb_row`] makes, but bad data rare (about one row in 300: a null or NaN
    /// value, a null, equal or earlier timestamp), so that whole blocks decay on their guesses
    /// and take the plain loops, between blocks that do not.
    fn arb_clean_row() -> impl Strategy<Value = (Row, Step)> {
        let step = prop_oneof![
            600 => (1i64..3_000_000).prop_map(Step::Ahead),
            1 => Just(Step::Null),
            1 => Just(Step::Ahead(0)),
            1 => (1i64..4).prop_map(Step::Back),
        ];
        let size = prop_oneof![
            600 => (-1e6f64..1e6).prop_map(Value::F64),
            1 => Just(Value::Null),
            1 => Just(Value::F64(f64::NAN)),
        ];
        let qty = prop_oneof![
            600 => (-3i32..4).prop_map(Value::I32),
            1 => Just(Value::Null),
        ];
        (arb_row(), step, size, qty).prop_map(|((mut row, _), step, size, qty)| {
            row[column("Size")] = size;
            row[column("Qty")] = qty;
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

    /// A cycle read in place over several of the parent's chunks (rows added in batches of
    /// other lengths than the blocks', a table made over them at once, then a cycle of
    /// several batches) gives the row path's values, bit for bit.
    #[test]
    fn values_read_in_place_across_chunks_are_the_row_paths() {
        let names = ["BTC/USD", "ETH/USD", "ETH/BTC"];
        let row = |i: i64| -> Row {
            let mut row = vec![Value::Null; schema().fields().len()];
            row[column("Instrument")] = Value::String(names[(i * 7 % 3) as usize].into());
            row[column("Size")] = Value::F64((i * 37 % 101) as f64 - 50.0);
            row[column("Ts")] = Value::Timestamp(1_000_000 * i + i * i % 977);
            row
        };
        let batches = |from: i64, lengths: &[i64]| -> Vec<Batch> {
            let mut at = from;
            lengths
                .iter()
                .map(|&n| {
                    let rows: Vec<Row> = (at..at + n).map(row).collect();
                    at += n;
                    Batch::from_rows(&schema(), &rows).unwrap()
                })
                .collect()
        };
        let decay = UpdateByWindow::DecayTime {
            column: "Ts".into(),
            time: 50_000_000,
        };
        let ops: Vec<UpdateBy> = [UpdateByKind::Ema, UpdateByKind::EmStd]
            .iter()
            .map(|&kind| {
                let pairs = [format!("{} = Size", kind.name())];
                let pairs: Vec<&str> = pairs.iter().map(String::as_str).collect();
                UpdateBy::exponential(kind, decay.clone(), &pairs, OperationControl::default())
            })
            .collect();
        let (fast, slow) = (Engine::new(), Engine::new());
        let (f, w) = (fast.append_table(schema()), slow.append_table(schema()));
        for batch in batches(0, &[300, 77, 1000, 5]) {
            f.add(batch.clone()).unwrap();
            w.add(batch).unwrap();
        }
        fast.run_cycle().unwrap();
        slow.run_cycle().unwrap();
        let got = f.update_by(&ops, &["Instrument"]).unwrap();
        let want = {
            let _only = SwitchOn::new(&ROW_PATH_ONLY);
            w.update_by(&ops, &["Instrument"]).unwrap()
        };
        for batch in batches(1382, &[700, 3, 400]) {
            f.add(batch.clone()).unwrap();
            w.add(batch).unwrap();
        }
        fast.run_cycle().unwrap();
        {
            let _only = SwitchOn::new(&ROW_PATH_ONLY);
            slow.run_cycle().unwrap();
        }
        let (got, want) = (got.all_rows(), want.all_rows());
        assert_eq!(got.len(), 2485);
        assert!(
            bits(&got) == bits(&want),
            "the batch path differs from the row path"
        );
    }

    /// A state that lands exactly on the null sentinel (-f64::MAX: an `ems` that never decays
    /// summing -MAX/2 twice) starts again from the next value on the plain loops as on the row
    /// path, not carrying -MAX on (which then reads null).
    #[test]
    fn a_state_landing_on_the_null_sentinel_starts_again_as_on_the_row_path() {
        let row = |x: f64, ts: i64| -> Row {
            let mut row = vec![Value::Null; schema().fields().len()];
            row[column("Instrument")] = Value::String("BTC/USD".into());
            row[column("Size")] = Value::F64(x);
            row[column("Ts")] = Value::Timestamp(ts);
            row
        };
        let half = -f64::MAX / 2.0;
        let cycles = [
            vec![row(5.0, 0)],
            (1..=600)
                .map(|i| match i {
                    100 => row(half - 1.0, i),
                    101 => row(half, i),
                    _ => row(5.0, i),
                })
                .collect::<Vec<_>>(),
        ];
        let decay = UpdateByWindow::DecayTime {
            column: "Ts".into(),
            time: i64::MAX,
        };
        let ops = [UpdateBy::exponential(
            UpdateByKind::Ems,
            decay,
            &["S = Size"],
            OperationControl::default(),
        )];
        let (fast, slow) = (Engine::new(), Engine::new());
        let (f, w) = (fast.append_table(schema()), slow.append_table(schema()));
        let (got, want) = (
            f.update_by(&ops, &["Instrument"]).unwrap(),
            w.update_by(&ops, &["Instrument"]).unwrap(),
        );
        for rows in &cycles {
            let batch = Batch::from_rows(&schema(), rows).unwrap();
            f.add(batch.clone()).unwrap();
            w.add(batch).unwrap();
            fast.run_cycle().unwrap();
            let _only = SwitchOn::new(&ROW_PATH_ONLY);
            slow.run_cycle().unwrap();
        }
        let (got, want) = (got.all_rows(), want.all_rows());
        let s = column("Ts") + 1;
        assert_eq!(want[102][s], Value::F64(5.0), "the row path starts again");
        assert!(
            bits(&got) == bits(&want),
            "the plain loops differ from the row path"
        );
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

        /// Large cycles of clean rows but a few: blocks of the plain loops and of the checked
        /// one, in any order.
        #[test]
        fn decays_of_clean_cycles_equal_the_row_path_and_a_recomputation(
            cycles in proptest::collection::vec(
                prop_oneof![
                    3 => proptest::collection::vec(arb_clean_row(), 256..1500),
                    1 => proptest::collection::vec(arb_clean_row(), 0..20),
                ],
                1..4,
            ),
            time in prop::sample::select(vec![3i64, 1_000_000, 10_000_000_000, i64::MAX]),
            control in arb_control(),
            ring_capacity in 50usize..3000,
            start in prop::sample::select(vec![-1_000, 1_000]),
        ) {
            check(&stamped(cycles, start), time, control, ring_capacity)?;
        }
    }
}
