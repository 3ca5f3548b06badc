//! The time-decayed exponential operations (`ema`, `ems`, `emMin`, `emMax`, `emStd` over
//! `{timestampCol, time}`) over a large cycle of groups that stream (a cumulative window not
//! over a ring: `lane.rs`'s batch path), a block of rows at a time, in three passes:
//!
//! 1. each row's gap from its group's last stamp, on the guess that every valid row before it
//!    folds in (an integer pass: a stamp per group, no fold);
//! 2. every row's decay `exp(−gap / time)` at once (a loop of [`crate::exp::exp`] that LLVM
//!    vectorises: fdlibm's doubles, the row path's, bit for bit);
//! 3. the rows folded in, in arrival order: a row whose group's stamp is the one guessed takes
//!    its decay ([`EmFold::push_decayed`]); any other (a null or NaN value, a null timestamp, a
//!    gap not above 0 or past a long, a group's first row, a guess that a reset or a skipped row
//!    made wrong) goes through [`Fold::push`] as on the row path, its `OperationControl` and all.
//!
//! Invariant: each group's fold takes its rows in their order, each with the decay the row path
//! would give it, so each value is the row path's, bit for bit (`batch_tests`, with the row path
//! switched on for the other side); each group then counts its rows as if pushed one by one
//! ([`GroupWindow::streamed`]).

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
                stream.fold.push(&e, stream.rows, None)?;
            }
            out[r] = stream.fold.value();
            stream.rows += 1;
            stream.last_ts = t;
        }
    }
    Ok(())
}
