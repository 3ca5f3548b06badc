//! Sum and average of a window: [`ExactSum`], a sum that takes values back exactly (doubles as
//! the double-double sums of `aggBy`, shared with it; integers as an `i128`), and the folds
//! `Sum` and `Avg` over it.
//!
//! Invariant: the sum is of the non-null values in the window, whatever order they came and
//! went in: exactly while its bits span at most 106 (values of like scales); beyond, rows that
//! left can leave a residue near 2^-106 of the largest sum held, until the window driver
//! rebuilds the sum from the window's rows ([`Fold::clear`], once the tail has advanced by the
//! window's length): a residue never outlives two windows, nor grows with the rows rolled
//! through.

use super::fold::{Entry, Fold, Place, Sink};
use super::window::{Bounds, Emitter, Span};
use crate::Result;
use crate::column::{NULL_F64, NULL_I64, Value};
use crate::ops::agg::exact_sum;
use std::ops::Range;

/// An exact sum of doubles or of longs, with the count of values in it.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ExactSum {
    hi: f64,
    lo: f64,
    specials: [u32; 3],
    int: i128,
    pub count: u64,
}

impl ExactSum {
    #[inline(always)]
    pub(crate) fn add_f64(&mut self, x: f64) {
        exact_sum::add(&mut self.hi, &mut self.lo, &mut self.specials, x);
        self.count += 1;
    }

    #[inline(always)]
    pub(crate) fn sub_f64(&mut self, x: f64) {
        exact_sum::sub(&mut self.hi, &mut self.lo, &mut self.specials, x);
        self.count -= 1;
    }

    pub(crate) fn add_i64(&mut self, x: i64) {
        self.int += i128::from(x);
        self.count += 1;
    }

    pub(crate) fn sub_i64(&mut self, x: i64) {
        self.int -= i128::from(x);
        self.count -= 1;
    }

    /// Adds `x²`, exactly (its rounded square and the rounding error).
    pub(crate) fn add_square(&mut self, x: f64) {
        exact_sum::add_square(&mut self.hi, &mut self.lo, &mut self.specials, x);
        self.count += 1;
    }

    /// Takes back what [`ExactSum::add_square`] added.
    pub(crate) fn sub_square(&mut self, x: f64) {
        exact_sum::sub_square(&mut self.hi, &mut self.lo, &mut self.specials, x);
        self.count -= 1;
    }

    /// The sample variance of the values of `self` whose squares `squares` holds.
    pub(crate) fn sample_variance(&self, squares: &ExactSum) -> f64 {
        exact_sum::sample_variance(
            self.count,
            (self.hi, self.lo, self.specials),
            (squares.hi, squares.lo, squares.specials),
        )
    }

    /// The double sum, rounded once.
    pub(crate) fn f64(&self) -> f64 {
        exact_sum::finish(self.hi, self.lo, self.specials)
    }

    /// The long sum, wrapping as Java's `long` does.
    pub(crate) fn i64(&self) -> i64 {
        self.int as i64
    }

    /// The long sum as a double (summed exactly first, rounded once).
    pub(crate) fn int_as_f64(&self) -> f64 {
        self.int as f64
    }
}

/// `Sum` or `Avg` of the non-null values.
#[derive(Clone)]
pub(crate) struct SumFold {
    pub float: bool,
    pub average: bool,
    pub sum: ExactSum,
}

impl Fold for SumFold {
    fn push(&mut self, e: &Entry, _: u64, _: Option<&Value>) -> Result<()> {
        if !e.is_null() {
            if self.float {
                self.sum.add_f64(e.x);
            } else {
                self.sum.add_i64(e.i);
            }
        }
        Ok(())
    }

    fn pop(&mut self, e: &Entry, _: u64) {
        if !e.is_null() {
            if self.float {
                self.sum.sub_f64(e.x);
            } else {
                self.sum.sub_i64(e.i);
            }
        }
    }

    fn clear(&mut self) -> bool {
        // An integer sum (an `i128`) is exact: nothing to rebuild.
        if self.float {
            self.sum = ExactSum::default();
        }
        self.float
    }

    fn emit(&self, out: &mut Sink) {
        match out {
            Sink::F64(values) => values.push(self.f64_value()),
            Sink::I64(values) => values.push(self.i64_value()),
            Sink::Column(_) => {}
        }
    }
}

impl SumFold {
    /// The value of a double output (an average, a sum of doubles).
    #[inline(always)]
    fn f64_value(&self) -> f64 {
        if self.float {
            self.sum.value(self.average)
        } else {
            sum_value(self.sum.int_as_f64(), self.sum.count, self.average)
        }
    }

    /// The value of a long output (a sum of integers).
    #[inline]
    fn i64_value(&self) -> i64 {
        if self.sum.count == 0 {
            NULL_I64
        } else {
            self.sum.i64()
        }
    }
}

impl Place for SumFold {
    #[inline(always)]
    fn emit_at(&self, out: &mut Sink, at: usize) {
        match out {
            Sink::F64(values) => values[at] = self.f64_value(),
            Sink::I64(values) => values[at] = self.i64_value(),
            Sink::Column(_) => {}
        }
    }

    /// A double sum's own loop, while every row its window holds or may take is a finite
    /// number (else `false`: the driver's generic slide counts the nulls and specials): the
    /// driver's pops, rebuilds and pushes in the same order, so the same values bit for bit,
    /// with the sum in locals, the sink matched once and the count the window's length, so the
    /// rows' two-sum additions are all the loop does; a tick window's steady stretches go by
    /// position.
    #[inline(always)]
    fn slide_all<B: Bounds>(
        &mut self,
        span: &Span<'_>,
        bounds: B,
        rows: Range<u64>,
        (head, tail, built): (&mut u64, &mut u64, &mut u64),
        emit: &mut Emitter<'_>,
    ) -> bool {
        let Sink::F64(out) = &mut *emit.out else {
            return false;
        };
        if !self.float {
            return false;
        }
        let (entries, base, n) = (span.rows, span.base, span.n);
        let at = |j: u64| &entries[(j - base) as usize];
        let (average, placed_from) = (self.average, emit.placed_from);
        let mut sum = self.sum;
        let (mut h, mut t, mut b) = (*head, *tail, *built);
        // Every row the window holds or may take is a finite value (no null, NaN or infinity:
        // none counted in, and every row from the head on finite), so the count is the
        // window's length and the loop is the additions alone.
        let all_finite = sum.specials == [0; 3] && sum.count == h - t && h >= span.finite_from;
        if !all_finite {
            // The driver's generic slide counts the nulls and specials.
            return false;
        }
        let (mut hi, mut lo) = (sum.hi, sum.lo);
        // A rebuild's sum begun ahead (see below): the rows `from .. upto` it holds, and it.
        let mut ready: Option<(u64, u64, f64, f64)> = None;
        let mut r = rows.start;
        while r < rows.end {
            if let Some((rev, fwd)) = bounds.ticks() {
                // A tick window in its steady state: row `r` pops row `r - rev` and pushes
                // row `r + fwd`, one each, until the group's last row or the next rebuild
                // (once `t` is `b` plus the `l` rows left after a pop): those rows by
                // position, the additions and the values alone.
                let steady = i128::from(t) == i128::from(r) - i128::from(rev)
                    && i128::from(h) == i128::from(r) + i128::from(fwd)
                    && t + 1 < h;
                let l = h.saturating_sub(t + 1);
                let to_rebuild = (b + l).saturating_sub(t + 1);
                let m = if steady {
                    (rows.end - r).min(n - h).min(to_rebuild)
                } else {
                    0
                };
                let span_of = |j: u64, len: u64| {
                    let j = (j - base) as usize;
                    entries.get(j..j + len as usize)
                };
                if m > 0
                    && let (Some(gone), Some(come), Some(now)) =
                        (span_of(t, m), span_of(h, m), span_of(r, m))
                {
                    let length = (h - t) as i64 as f64;
                    // When the stretch ends at the next rebuild, that rebuild's sum (rows
                    // `t + m + 1 .. h + m`, `l` of them, added from zero in order, as the
                    // rebuild would) is begun beside the stretch's last rows, its first
                    // `min(m, l)` rows: a chain of additions apart from the window's, which the
                    // processor overlaps; the rebuild adds the rest.
                    let ahead = if m == to_rebuild {
                        span_of(t + m + 1, m.min(l))
                    } else {
                        None
                    };
                    let split = (m - ahead.map_or(0, |a| a.len() as u64)) as usize;
                    macro_rules! slide {
                        ($g:expr, $c:expr, $row:expr) => {
                            exact_sum::add_finite(&mut hi, &mut lo, -$g.x);
                            exact_sum::add_finite(&mut hi, &mut lo, $c.x);
                            let value = if average { (hi + lo) / length } else { hi + lo };
                            place(out, emit.keys, placed_from, $row.key, value);
                        };
                    }
                    let ((gone, gone_late), (come, come_late), (now, now_late)) = (
                        gone.split_at(split),
                        come.split_at(split),
                        now.split_at(split),
                    );
                    for ((g, c), row) in gone.iter().zip(come).zip(now) {
                        slide!(g, c, row);
                    }
                    if let Some(ahead) = ahead {
                        let (mut hi2, mut lo2) = (0.0, 0.0);
                        let late = gone_late.iter().zip(come_late).zip(now_late);
                        for (((g, c), row), a) in late.zip(ahead) {
                            slide!(g, c, row);
                            exact_sum::add_finite(&mut hi2, &mut lo2, a.x);
                        }
                        ready = Some((t + m + 1, t + m + 1 + m.min(l), hi2, lo2));
                    }
                    (t, h, r) = (t + m, h + m, r + m);
                    continue;
                }
            }
            if let Some((rev, fwd)) = bounds.time()
                && let Some(stretch) = TimeStretch::new(entries, base, rev, fwd, r..rows.end)
            {
                let mut state = (hi, lo, t, h, b);
                stretch.run(&mut state, average, emit.keys, out, placed_from);
                (hi, lo, t, h, b) = state;
                r = rows.end;
                continue;
            }
            let row = at(r);
            while t < h && bounds.before(at(t), row, t, r) {
                exact_sum::add_finite(&mut hi, &mut lo, -at(t).x);
                t += 1;
            }
            if t == h {
                while h < n && bounds.before(at(h), row, h, r) {
                    h += 1;
                }
                t = h;
            }
            if !bounds.cumulative() && t > b && t - b >= h - t {
                b = t;
                let from = match ready.take() {
                    Some((from, upto, h2, l2)) if from == t && upto <= h => {
                        (hi, lo) = (h2, l2);
                        upto
                    }
                    _ => {
                        (hi, lo) = (0.0, 0.0);
                        t
                    }
                };
                for j in from..h {
                    exact_sum::add_finite(&mut hi, &mut lo, at(j).x);
                }
            }
            while h < n && bounds.within(at(h), row, h, r) {
                exact_sum::add_finite(&mut hi, &mut lo, at(h).x);
                h += 1;
            }
            // As `ExactSum::value` gives it with no special counted.
            let value = sum_value(hi + lo, h - t, average);
            place(out, emit.keys, placed_from, row.key, value);
            r += 1;
        }
        (sum.hi, sum.lo, sum.count) = (hi, lo, h - t);
        self.sum = sum;
        (*head, *tail, *built) = (h, t, b);
        true
    }
}

/// A time window's stretch of rows in [`SumFold::slide_all`] whose bounds (each row's stamp
/// less `rev`, plus `fwd`) are all `i64`s (a group's stamps never decrease, so its first and
/// last rows' tell): the driver's pops, rebuilds and pushes in the same order, compared as
/// `i64`s. The rows leaving a row's window vary in number (none, one, two, ...: a loop's exit the
/// processor mispredicts about once a row), so the first pop is done by a mask, not a branch,
/// and a loop takes any more. (Two such pops measured slower than one, each adding to the sum's
/// chain of additions; a masked push slower than the loop.)
struct TimeStretch<'a> {
    entries: &'a [Entry],
    base: u64,
    rev: i64,
    fwd: i64,
    rows: Range<u64>,
}

/// A row past the group's end, for a conditional pop at the end (never popped: no row is
/// before its window's stamp).
const PAST_END: Entry = Entry {
    x: 0.0,
    i: 0,
    ts: i64::MAX,
    key: 0,
};

impl<'a> TimeStretch<'a> {
    #[inline(always)]
    fn new(entries: &'a [Entry], base: u64, rev: i64, fwd: i64, rows: Range<u64>) -> Option<Self> {
        let stamp = |j: u64| entries.get((j.checked_sub(base)?) as usize).map(|e| e.ts);
        let (first, last) = (stamp(rows.start)?, stamp(rows.end.checked_sub(1)?)?);
        for ts in [first, last] {
            ts.checked_sub(rev)?;
            ts.checked_add(fwd)?;
        }
        Some(Self {
            entries,
            base,
            rev,
            fwd,
            rows,
        })
    }

    /// Slides over the stretch's rows from `(hi, lo, tail, head, built)`, moving them on. Rows
    /// are found by their place in `entries` (the group's rows from `base` on, to its last).
    /// A window that holds its own row (neither `rev` nor `fwd` negative), from a state where
    /// every row before the stretch has its window (the tail at most its first row, the head at
    /// least), takes `run_as::<true>`: a row's pops stop at the row itself (its stamp is in its
    /// window), so they need no test against the head, the tail never meets the head (no row is
    /// skipped over), and every window holds a row; the same pops, rebuilds and pushes, with
    /// fewer tests a row.
    #[inline(always)]
    fn run(
        &self,
        (hi, lo, t, h, b): &mut (f64, f64, u64, u64, u64),
        average: bool,
        keys: &mut Vec<u64>,
        out: &mut Vec<f64>,
        placed_from: u64,
    ) {
        let own = self.rev >= 0 && self.fwd >= 0 && *t <= self.rows.start && *h >= self.rows.start;
        let state = (hi, lo, t, h, b);
        if own {
            self.run_as::<true>(state, average, keys, out, placed_from);
        } else {
            self.run_as::<false>(state, average, keys, out, placed_from);
        }
    }

    /// [`TimeStretch::run`], for a window that holds its own row (`OWN`) or any.
    #[inline(always)]
    fn run_as<const OWN: bool>(
        &self,
        (hi, lo, t, h, b): (&mut f64, &mut f64, &mut u64, &mut u64, &mut u64),
        average: bool,
        keys: &mut Vec<u64>,
        out: &mut Vec<f64>,
        placed_from: u64,
    ) {
        let (base, entries) = (self.base, self.entries);
        let at = |j: usize| entries.get(j).unwrap_or(&PAST_END);
        // Places from `base`: the built tail may be before it (its rows dropped).
        let (mut ti, mut hj) = ((*t - base) as usize, (*h - base) as usize);
        // The built tail from `base`, as an `i64`: places are below 2^62 (a slice's, of 32-byte
        // rows), and a built tail further than 2^62 before `base` compares as one 2^62 before
        // (the tail is past it, by more than the window's length, either way).
        let mut built = (i128::from(*b) - i128::from(base)).max(-(1 << 62)) as i64;
        let rows = &entries[(self.rows.start - base) as usize..(self.rows.end - base) as usize];
        for row in rows {
            let (from, upto) = (row.ts - self.rev, row.ts + self.fwd);
            // The first pop is chosen by a mask, not a branch: a value not taken is replaced
            // by -0.0, which adds nothing (`hi + -0.0` is `hi`, and the error it leaves, +0.0,
            // leaves `lo` as it is, since `lo` is never -0.0: it starts at +0.0 and a sum is
            // -0.0 only of two -0.0s). (For `OWN` the test of the head always holds, but is
            // written: without it the compiler makes the mask a branch, mispredicted about one
            // row in two.)
            let gone = at(ti);
            let take = ti < hj && gone.ts < from;
            let x = f64::from_bits(gone.x.to_bits() & u64::from(take).wrapping_neg());
            exact_sum::add_finite(hi, lo, -x);
            ti += usize::from(take);
            while (OWN || ti < hj) && at(ti).ts < from {
                exact_sum::add_finite(hi, lo, -at(ti).x);
                ti += 1;
            }
            if !OWN && ti == hj {
                while hj < entries.len() && at(hj).ts < from {
                    hj += 1;
                }
                ti = hj;
            }
            let tail = ti as i64;
            if tail > built && tail - built >= (hj - ti) as i64 {
                built = tail;
                (*hi, *lo) = (0.0, 0.0);
                for e in &entries[ti..hj] {
                    exact_sum::add_finite(hi, lo, e.x);
                }
            }
            while hj < entries.len() && at(hj).ts <= upto {
                exact_sum::add_finite(hi, lo, at(hj).x);
                hj += 1;
            }
            let total = *hi + *lo;
            let value = match (OWN, average) {
                // (`sum_value` of a window that is never empty.)
                (true, true) => total / (hj - ti) as i64 as f64,
                (true, false) => total,
                (false, _) => sum_value(total, (hj - ti) as u64, average),
            };
            place(out, keys, placed_from, row.key, value);
        }
        (*t, *h) = (base + ti as u64, base + hj as u64);
        *b = (i128::from(built) + i128::from(base)) as u64;
    }
}

impl ExactSum {
    /// A double sum's value, or its average's (null when empty), as [`SumFold`] emits it.
    #[inline(always)]
    fn value(&self, average: bool) -> f64 {
        sum_value(self.f64(), self.count, average)
    }
}

/// Writes the value of the row of `key` as [`Emitter`] does, its sink matched once by the
/// caller: at its position from `placed_from` (a row of this cycle), else appended with its key.
#[inline(always)]
fn place(out: &mut Vec<f64>, keys: &mut Vec<u64>, placed_from: u64, key: u64, value: f64) {
    if key >= placed_from {
        out[(key - placed_from) as usize] = value;
    } else {
        out.push(value);
        keys.push(key);
    }
}

/// What a `Sum` or `Avg` of `count` values totalling `total` emits: null when empty, the total,
/// or the total over the count.
#[inline(always)]
fn sum_value(total: f64, count: u64, average: bool) -> f64 {
    if count == 0 {
        NULL_F64
    } else if average {
        // The count as a long: the same double as from the unsigned (a count is below 2^63),
        // in one instruction where the unsigned takes several.
        total / count as i64 as f64
    } else {
        total
    }
}
