//! [`GroupWindow`]: one group's rows as one operation sees them, and the window that slides over
//! them: rows enter the fold as the window's front reaches them and leave as its back passes
//! them (the bounds are the window kind's: `cumulative.rs`, `ticks.rs`, `time.rs`). A row's
//! value is emitted once its window is complete (final); rows whose window still reaches past
//! the group's last row get a provisional value from a copy of the fold, and are emitted again
//! when more rows arrive.
//!
//! A fold that takes rows back by subtraction (the double sums, whose rounding can leave a
//! residue when values of very different scales pass through) is emptied and rebuilt from the
//! window's rows whenever the tail has advanced by the window's length since it was last built
//! (`built`): at most one push a row popped, and no residue outlives two windows.
//!
//! Invariant: the fold holds exactly rows `tail .. head` (a subtracting one built from row
//! `built <= tail` on, its rows since pushed in order); rows `next_out .. n` have no final
//! value yet; `rows` holds rows `base ..` with `base <= min(tail, next_out)`, and the rows before
//! that minimum are at most half of it (beyond 64).

use super::fold::{Entry, Place, Sink};
use super::lane::row_path_only;
use super::{cumulative, ticks, time};
use crate::Result;
use crate::column::{Column, Value};

/// Which rows of a group a row's window holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Window {
    Cumulative,
    Ticks { rev: i64, fwd: i64 },
    Time { rev: i64, fwd: i64 },
}

/// A window's bounds as the driver tests them (row `j` against row `r`'s window; `jn`, `rn` their
/// numbers in the group). [`Window`] is one, matched at each test (the driver's generic slide,
/// compiled once per fold); a fold's own loop ([`Place::slide_all`]) takes one type per rolling
/// kind instead ([`TickBounds`], [`TimeBounds`]), so it is compiled once per kind with its tests
/// inline and the kind is matched once a call, not twice a row.
pub(super) trait Bounds: Copy {
    fn cumulative(self) -> bool;
    /// A tick window's `(rev, fwd)` (a fold's own loop may then slide it by position).
    fn ticks(self) -> Option<(i64, i64)> {
        None
    }
    /// A time window's `(rev, fwd)` (a fold's own loop may then compare stamps as `i64`s).
    fn time(self) -> Option<(i64, i64)> {
        None
    }
    /// Row `j` is before row `r`'s window.
    fn before(self, j: &Entry, r: &Entry, jn: u64, rn: u64) -> bool;
    /// Row `j` is not after row `r`'s window.
    fn within(self, j: &Entry, r: &Entry, jn: u64, rn: u64) -> bool;
}

#[derive(Clone, Copy)]
struct TickBounds {
    rev: i64,
    fwd: i64,
}

#[derive(Clone, Copy)]
struct TimeBounds {
    rev: i64,
    fwd: i64,
}

impl Bounds for TickBounds {
    #[inline(always)]
    fn cumulative(self) -> bool {
        false
    }
    #[inline(always)]
    fn ticks(self) -> Option<(i64, i64)> {
        Some((self.rev, self.fwd))
    }
    #[inline(always)]
    fn before(self, _: &Entry, _: &Entry, jn: u64, rn: u64) -> bool {
        ticks::before(jn, rn, self.rev)
    }
    #[inline(always)]
    fn within(self, _: &Entry, _: &Entry, jn: u64, rn: u64) -> bool {
        ticks::within(jn, rn, self.fwd)
    }
}

impl Bounds for TimeBounds {
    #[inline(always)]
    fn cumulative(self) -> bool {
        false
    }
    #[inline(always)]
    fn time(self) -> Option<(i64, i64)> {
        Some((self.rev, self.fwd))
    }
    #[inline(always)]
    fn before(self, j: &Entry, r: &Entry, _: u64, _: u64) -> bool {
        time::before(j.ts, r.ts, self.rev)
    }
    #[inline(always)]
    fn within(self, j: &Entry, r: &Entry, _: u64, _: u64) -> bool {
        time::within(j.ts, r.ts, self.fwd)
    }
}

impl Bounds for Window {
    #[inline(always)]
    fn cumulative(self) -> bool {
        self == Self::Cumulative
    }

    #[inline(always)]
    fn before(self, j: &Entry, r: &Entry, jn: u64, rn: u64) -> bool {
        match self {
            Self::Cumulative => cumulative::before(jn, rn),
            Self::Ticks { rev, fwd } => TickBounds { rev, fwd }.before(j, r, jn, rn),
            Self::Time { rev, fwd } => TimeBounds { rev, fwd }.before(j, r, jn, rn),
        }
    }

    #[inline(always)]
    fn within(self, j: &Entry, r: &Entry, jn: u64, rn: u64) -> bool {
        match self {
            Self::Cumulative => cumulative::within(jn, rn),
            Self::Ticks { rev, fwd } => TickBounds { rev, fwd }.within(j, r, jn, rn),
            Self::Time { rev, fwd } => TimeBounds { rev, fwd }.within(j, r, jn, rn),
        }
    }
}

impl Window {
    #[inline(always)]
    fn is_final(self, r: &Entry, last: &Entry, rn: u64, n: u64) -> bool {
        match self {
            Self::Cumulative => true,
            Self::Ticks { fwd, .. } => ticks::is_final(rn, n, fwd),
            Self::Time { fwd, .. } => time::is_final(r.ts, last.ts, fwd),
        }
    }
}

/// One group's rows and fold, for one operation.
pub(crate) struct GroupWindow<F> {
    /// Rows `base ..`, in a vector whose front is dropped in bulk (indexing stays a slice's).
    rows: Vec<Entry>,
    /// The input values of `rows`, for the folds that keep values (fill, group).
    values: Option<Vec<Value>>,
    base: u64,
    n: u64,
    head: u64,
    tail: u64,
    /// The tail when the fold was last built from its rows (see the module's doc).
    built: u64,
    next_out: u64,
    /// The timestamp of the last row added (`i64::MIN` before any).
    last_ts: i64,
    /// Every row from this one on has a finite, non-null input (`x`): what a fold's own loop
    /// may rely on ([`Place::slide_all`]).
    finite_from: u64,
    /// Over a parent that removes rows from its front (a ring): the first row still in it; every
    /// row from it on is kept, to recompute the rows whose windows lose rows.
    first: Option<u64>,
    fold: F,
}

/// A group's rows as the window driver reads them: its kept rows (the first is row `base`),
/// their values for the folds that keep values, and how many rows the group has had (`n`).
pub(super) struct Span<'a> {
    pub rows: &'a [Entry],
    values: Option<&'a Vec<Value>>,
    pub base: u64,
    pub n: u64,
    /// Every row from this one on has a finite, non-null `x`.
    pub finite_from: u64,
}

impl Span<'_> {
    #[inline(always)]
    fn at(&self, j: u64) -> &Entry {
        &self.rows[(j - self.base) as usize]
    }

    /// Moves the window (`head`, `tail`, and `fold` over the rows between) to row `r`'s: pops
    /// the rows before it, pushes the rows up to its front; then gives the fold and `r`'s key to
    /// `emit`.
    #[inline(always)]
    fn slide<F: Place, B: Bounds>(
        &self,
        window: B,
        r: u64,
        (head, tail, built): (&mut u64, &mut u64, &mut u64),
        fold: &mut F,
        emit: &mut Emitter<'_>,
    ) -> Result<()> {
        let row = self.at(r);
        while *tail < *head && window.before(self.at(*tail), row, *tail, r) {
            fold.pop(self.at(*tail), *tail);
            *tail += 1;
        }
        if *tail == *head {
            while *head < self.n && window.before(self.at(*head), row, *head, r) {
                *head += 1;
            }
            *tail = *head;
        }
        if !window.cumulative() && *tail > *built && *tail - *built >= *head - *tail {
            // The tail advanced by the window's length: the fold is rebuilt from its rows.
            *built = *tail;
            if fold.clear() {
                for j in *tail..*head {
                    fold.push(self.at(j), j, None)?;
                }
            }
        }
        while *head < self.n && window.within(self.at(*head), row, *head, r) {
            let value = self
                .values
                .and_then(|v| v.get((*head - self.base) as usize));
            fold.push(self.at(*head), *head, value)?;
            *head += 1;
        }
        emit.emit(fold, row.key);
        Ok(())
    }
}

/// Where the window driver writes each row's value: the rows of keys from `placed_from` at
/// their position from it in `out` (the batch path's: `out` is already that long), the others
/// appended, their keys to `keys`. One type for both paths, so the driver is compiled once.
pub(crate) struct Emitter<'a> {
    pub out: &'a mut Sink,
    pub keys: &'a mut Vec<u64>,
    pub placed_from: u64,
}

impl Emitter<'_> {
    #[inline(always)]
    fn emit<F: Place>(&mut self, fold: &F, key: u64) {
        if key >= self.placed_from {
            fold.emit_at(self.out, (key - self.placed_from) as usize);
        } else {
            fold.emit(self.out);
            self.keys.push(key);
        }
    }
}

/// An emitter that appends every value, and its key.
fn appending<'a>(out: &'a mut Sink, keys: &'a mut Vec<u64>) -> Emitter<'a> {
    Emitter {
        out,
        keys,
        placed_from: u64::MAX,
    }
}

impl<F: Place> GroupWindow<F> {
    fn span(&self) -> Span<'_> {
        Span {
            rows: &self.rows,
            values: self.values.as_ref(),
            base: self.base,
            n: self.n,
            finite_from: self.finite_from,
        }
    }

    /// A group's window; `keeps_rows` over a parent that removes rows from its front.
    pub(crate) fn new(fold: F, keeps_values: bool, keeps_rows: bool) -> Self {
        Self {
            first: keeps_rows.then_some(0),
            rows: Vec::new(),
            values: keeps_values.then(Vec::new),
            base: 0,
            n: 0,
            head: 0,
            tail: 0,
            built: 0,
            next_out: 0,
            last_ts: i64::MIN,
            finite_from: 0,
            fold,
        }
    }

    /// The timestamp of the group's last row (`i64::MIN` before any).
    pub(crate) fn last_ts(&self) -> i64 {
        self.last_ts
    }

    /// Adds a row at the group's end; appends the value of every row that became final to `out`
    /// and its key to `keys` (through [`GroupWindow::advance`], as the batch path's rows).
    #[inline]
    pub(crate) fn add(
        &mut self,
        window: Window,
        e: Entry,
        value: Option<Value>,
        out: &mut Sink,
        keys: &mut Vec<u64>,
    ) -> Result<()> {
        if let Some(values) = &mut self.values {
            values.push(value.unwrap_or(Value::Null));
        }
        if !e.is_finite() {
            self.finite_from = self.base + self.rows.len() as u64 + 1;
        }
        self.rows.push(e);
        self.advance(window, &mut appending(out, keys))
    }

    /// Drops the rows no window nor recomputation needs any more.
    fn trim(&mut self) {
        let keep = self
            .tail
            .min(self.next_out)
            .min(self.first.unwrap_or(u64::MAX));
        // Dropped in bulk once they are most of the vector: amortised O(1) a row, and at most
        // twice the rows kept (plus 64).
        let dead = (keep - self.base) as usize;
        if dead > 64 && dead * 2 > self.rows.len() {
            self.rows.drain(..dead);
            if let Some(values) = &mut self.values {
                values.drain(..dead);
            }
            self.base = keep;
        }
    }

    /// The group's first `count` rows left the parent (over a parent that removes rows from its
    /// front). Appends the new value of every remaining row whose window lost rows, and its key:
    /// every row of a cumulative window (replayed from `fresh`, as Deephaven recomputes a
    /// bucket from its first changed row), the first rows of a rolling one (the main fold only
    /// lets the rows go). Rows without a final value are left to [`GroupWindow::provisional`].
    ///
    /// `old`: the output column as it was, with the key of its first row. A cumulative window
    /// whose fold [converges](Fold::converges) stops at the first row whose new value is its old
    /// one (every later value is then unchanged, and so is the fold's end state), so a ring
    /// losing rows costs the rows whose values change, not the group.
    pub(crate) fn remove_front(
        &mut self,
        count: u64,
        window: Window,
        fresh: &F,
        out: &mut Sink,
        keys: &mut Vec<u64>,
        old: Option<(&Column, u64)>,
    ) -> Result<()> {
        let Some(first) = self.first else {
            return Ok(());
        };
        let upto = (first + count).min(self.n);
        self.first = Some(upto);
        if window == Window::Cumulative {
            let mut fold = fresh.clone();
            let old = old.filter(|_| fold.converges());
            let mut converged = false;
            for r in upto..self.n {
                let e = &self.rows[(r - self.base) as usize];
                let value = self
                    .values
                    .as_ref()
                    .and_then(|v| v.get((r - self.base) as usize));
                fold.push(e, r, value)?;
                fold.emit(out);
                keys.push(e.key);
                if let Some((column, first_key)) = old
                    && e.key >= first_key
                    && out.same_as(column, (e.key - first_key) as usize, out.len() - 1)
                {
                    converged = true;
                    break;
                }
            }
            if !converged {
                self.fold = fold;
            }
        } else if upto > first {
            // The main fold lets the removed rows go.
            while self.tail < self.head && self.tail < upto {
                let e = &self.rows[(self.tail - self.base) as usize];
                self.fold.pop(e, self.tail);
                self.tail += 1;
            }
            if self.head < upto {
                self.head = upto;
                self.tail = upto;
            }
            // The final rows whose window held the last removed row are computed again, from
            // the first row left.
            let gone = self.rows[(upto - 1 - self.base) as usize];
            let (mut head, mut tail, mut built) = (upto, upto, upto);
            let mut fold = fresh.clone();
            for r in upto..self.next_out {
                let row = &self.rows[(r - self.base) as usize];
                if window.before(&gone, row, upto - 1, r) {
                    break;
                }
                self.span().slide(
                    window,
                    r,
                    (&mut head, &mut tail, &mut built),
                    &mut fold,
                    &mut appending(out, keys),
                )?;
            }
        }
        self.next_out = self.next_out.max(upto);
        self.trim();
        Ok(())
    }

    /// Whether some rows have no final value yet.
    pub(crate) fn is_pending(&self) -> bool {
        self.next_out < self.n
    }

    /// How many rows have no final value yet.
    pub(crate) fn pending(&self) -> u64 {
        self.n - self.next_out
    }

    /// Appends a provisional value (over the rows there are) of every row without a final one,
    /// and its key.
    pub(crate) fn provisional(
        &self,
        window: Window,
        out: &mut Sink,
        keys: &mut Vec<u64>,
    ) -> Result<()> {
        self.provisional_with(window, &mut appending(out, keys))
    }

    /// [`GroupWindow::provisional`], each value given to `emit` with its row's key.
    pub(crate) fn provisional_with(&self, window: Window, emit: &mut Emitter<'_>) -> Result<()> {
        let mut fold = self.fold.clone();
        let (mut head, mut tail, mut built) = (self.head, self.tail, self.built);
        for r in self.next_out..self.n {
            self.span().slide(
                window,
                r,
                (&mut head, &mut tail, &mut built),
                &mut fold,
                emit,
            )?;
        }
        Ok(())
    }

    /// Adds a row at the group's end, to be taken in with the others of a batch by
    /// [`GroupWindow::take_pushed`] (the batch path: its rows in a large cycle).
    #[inline(always)]
    pub(crate) fn push_row(&mut self, e: Entry) {
        self.rows.push(e);
    }

    /// The group's rows, for a batch's rows to be pushed at its end (as by
    /// [`GroupWindow::push_row`], many groups' at once).
    pub(crate) fn pushing(&mut self) -> &mut Vec<Entry> {
        &mut self.rows
    }

    /// The rows the group holds: [`GroupWindow::take_pushed`]'s `first`, taken before a batch's
    /// [`GroupWindow::push_row`]s.
    pub(crate) fn held(&self) -> usize {
        self.rows.len()
    }

    /// Whether the rows pushed since the group held `first` keep its timestamps from
    /// decreasing (a time window's: the rows of a null timestamp are not pushed).
    pub(crate) fn pushed_in_order(&self, first: usize) -> bool {
        let pushed = self.rows.get(first..).unwrap_or_default();
        let starts_after = pushed.first().is_none_or(|e| e.ts >= self.last_ts);
        let pairs = pushed.windows(2);
        starts_after && pairs.fold(true, |ordered, w| ordered & (w[0].ts <= w[1].ts))
    }

    /// Drops the rows pushed since the group held `first` (a batch that failed).
    pub(crate) fn drop_pushed(&mut self, first: usize) {
        self.rows.truncate(first);
    }

    /// Takes in the rows pushed at once since the group held `first` (a batch), then gives every
    /// row that became final, in order, to `emit` with its key: the same fold operations in the
    /// same order as [`GroupWindow::add`] row by row (a final row's window holds only rows that
    /// had arrived when it became final), so the same values bit for bit, without the per-row
    /// bookkeeping. Only for folds that keep no values (fill and group go row by row); a group
    /// that streams takes its rows through [`GroupWindow::push_final`] instead. `finite`: every
    /// row's input is finite and not null (known to the caller; else the rows are looked at).
    pub(crate) fn take_pushed(
        &mut self,
        window: Window,
        first: usize,
        finite: bool,
        emit: &mut Emitter<'_>,
    ) -> Result<()> {
        let pushed = self.rows.get(first..).unwrap_or_default();
        if !finite && let Some(last) = pushed.iter().rposition(|e| !e.is_finite()) {
            self.finite_from = self.base + (first + last) as u64 + 1;
        }
        self.advance(window, emit)
    }

    /// Adds a row at the end of a group that streams (a cumulative window, no ring to
    /// recompute, no values kept: every row is final at once and none is read again): pushed
    /// and emitted, as `add` does, without being stored. The batch path gives such groups
    /// their rows one at a time, the groups' rows interleaved.
    #[inline(always)]
    pub(crate) fn push_final(&mut self, e: Entry, emit: &mut Emitter<'_>) -> Result<()> {
        self.fold.push(&e, self.n, None)?;
        emit.emit(&self.fold, e.key);
        self.streamed(1, e.ts);
        Ok(())
    }

    /// The fold of a group that streams, for rows its caller folds in itself (`decay.rs`) and
    /// then counts with [`GroupWindow::streamed`].
    pub(crate) fn fold_mut(&mut self) -> &mut F {
        &mut self.fold
    }

    /// `count` rows, the last of timestamp `last_ts`, were folded into [`GroupWindow::fold_mut`]
    /// of a group that streams, and emitted: counted as `count` [`GroupWindow::push_final`]s.
    #[inline(always)]
    pub(crate) fn streamed(&mut self, count: u64, last_ts: i64) {
        if count > 0 {
            self.n += count;
            self.last_ts = last_ts;
            (self.head, self.tail, self.next_out, self.base) = (self.n, self.n, self.n, self.n);
            self.rows.clear();
        }
    }

    /// Takes in the rows pushed to `rows` since the last call (the group's rows `n ..`): gives
    /// every row that became final, in order, to `emit` with its key; drops the rows no longer
    /// needed. The one window driver of both paths.
    fn advance(&mut self, window: Window, emit: &mut Emitter<'_>) -> Result<()> {
        let Some(last) = self.rows.last() else {
            return Ok(());
        };
        let n = self.base + self.rows.len() as u64;
        if n == self.n {
            return Ok(());
        }
        self.n = n;
        self.last_ts = last.ts;
        // The rows final among all `n`: the same as row by row, since rows never stop being
        // final.
        let end = match window {
            Window::Cumulative => self.n,
            Window::Ticks { fwd, .. } => {
                // The rows `r` with `r + fwd < n`.
                (i128::from(self.n) - i128::from(fwd)).clamp(0, i128::from(self.n)) as u64
            }
            Window::Time { .. } => {
                // A group's timestamps do not decrease, so its final rows are a prefix of those
                // without a final value: found by bisection.
                let last = self.rows[self.rows.len() - 1];
                let pending = &self.rows[(self.next_out - self.base) as usize..];
                let (n, next_out) = (self.n, self.next_out);
                let finals = pending.partition_point(|e| window.is_final(e, &last, 0, n));
                next_out + finals as u64
            }
        };
        if self.next_out < end {
            self.slide_to(window, end, emit)?;
            self.next_out = end;
        }
        if window == Window::Cumulative {
            self.tail = self.head;
        }
        self.trim();
        Ok(())
    }

    /// Slides the window over rows `next_out .. end`, giving each row's value to `emit`.
    /// A fold with a loop of its own ([`Place::slide_all`]) slides a rolling window in it,
    /// compiled per window kind (its bounds inline); any other window or fold goes through the
    /// driver's generic slide, compiled once per fold.
    fn slide_to(&mut self, window: Window, end: u64, emit: &mut Emitter<'_>) -> Result<()> {
        let span = Span {
            rows: &self.rows,
            values: self.values.as_ref(),
            base: self.base,
            n: self.n,
            finite_from: self.finite_from,
        };
        let (mut head, mut tail, mut built) = (self.head, self.tail, self.built);
        let cursor = (&mut head, &mut tail, &mut built);
        let rows = self.next_out..end;
        let own = !row_path_only()
            && match window {
                Window::Ticks { rev, fwd } => {
                    let bounds = TickBounds { rev, fwd };
                    self.fold.slide_all(&span, bounds, rows, cursor, emit)
                }
                Window::Time { rev, fwd } => {
                    let bounds = TimeBounds { rev, fwd };
                    self.fold.slide_all(&span, bounds, rows, cursor, emit)
                }
                Window::Cumulative => false,
            };
        if own {
            (self.head, self.tail, self.built) = (head, tail, built);
            return Ok(());
        }
        for r in self.next_out..end {
            span.slide(
                window,
                r,
                (&mut head, &mut tail, &mut built),
                &mut self.fold,
                emit,
            )?;
        }
        self.head = head;
        self.tail = tail;
        self.built = built;
        Ok(())
    }

    /// Bytes held (approximately).
    pub(crate) fn bytes(&self) -> usize {
        self.rows.capacity() * std::mem::size_of::<Entry>()
            + self
                .values
                .as_ref()
                .map_or(0, |v| v.capacity() * std::mem::size_of::<Value>())
            + self.fold.bytes()
            + std::mem::size_of::<Self>()
    }
}
