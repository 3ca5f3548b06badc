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

use super::fold::{Entry, Fold, Sink};
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

impl Window {
    #[inline(always)]
    fn before(self, j: &Entry, r: &Entry, jn: u64, rn: u64) -> bool {
        match self {
            Self::Cumulative => cumulative::before(jn, rn),
            Self::Ticks { rev, .. } => ticks::before(jn, rn, rev),
            Self::Time { rev, .. } => time::before(j.ts, r.ts, rev),
        }
    }

    #[inline(always)]
    fn within(self, j: &Entry, r: &Entry, jn: u64, rn: u64) -> bool {
        match self {
            Self::Cumulative => cumulative::within(jn, rn),
            Self::Ticks { fwd, .. } => ticks::within(jn, rn, fwd),
            Self::Time { fwd, .. } => time::within(j.ts, r.ts, fwd),
        }
    }

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
    /// The window of the last row with a final value, over the rows `fold` holds.
    reach: Reach,
    next_out: u64,
    /// The timestamp of the last row added (`i64::MIN` before any).
    last_ts: i64,
    /// Over a parent that removes rows from its front (a ring): the first row still in it; every
    /// row from it on is kept, to recompute the rows whose windows lose rows.
    first: Option<u64>,
    fold: F,
}

/// Where a window stands in its group's rows: its fold holds rows `tail .. head`, and was last
/// built from its rows when the tail was at `built` (see the module's doc).
#[derive(Debug, Clone, Copy)]
struct Reach {
    head: u64,
    tail: u64,
    built: u64,
}

impl Reach {
    /// An empty window at row `r`.
    fn at(r: u64) -> Self {
        Self {
            head: r,
            tail: r,
            built: r,
        }
    }
}

/// A group's rows as the window driver reads them: its kept rows (the first is row `base`),
/// their values for the folds that keep values, and how many rows the group has had (`n`).
struct Span<'a> {
    rows: &'a [Entry],
    values: Option<&'a Vec<Value>>,
    base: u64,
    n: u64,
}

impl Span<'_> {
    #[inline(always)]
    fn at(&self, j: u64) -> &Entry {
        &self.rows[(j - self.base) as usize]
    }

    /// Moves the window (`head`, `tail`, and `fold` over the rows between) to row `r`'s: pops
    /// the rows before it, pushes the rows up to its front; then emits `r`'s value and key.
    #[inline]
    fn slide<F: Fold>(
        &self,
        window: Window,
        r: u64,
        reach: &mut Reach,
        fold: &mut F,
        (out, keys): (&mut Sink, &mut Vec<u64>),
    ) -> Result<()> {
        let row = self.at(r);
        while reach.tail < reach.head && window.before(self.at(reach.tail), row, reach.tail, r) {
            fold.pop(self.at(reach.tail), reach.tail);
            reach.tail += 1;
        }
        if reach.tail == reach.head {
            while reach.head < self.n && window.before(self.at(reach.head), row, reach.head, r) {
                reach.head += 1;
            }
            reach.tail = reach.head;
        }
        if window != Window::Cumulative
            && reach.tail > reach.built
            && reach.tail - reach.built >= reach.head - reach.tail
        {
            // The tail advanced by the window's length: the fold is rebuilt from its rows.
            reach.built = reach.tail;
            if fold.clear() {
                for j in reach.tail..reach.head {
                    fold.push(self.at(j), j, None)?;
                }
            }
        }
        while reach.head < self.n && window.within(self.at(reach.head), row, reach.head, r) {
            let value = self
                .values
                .and_then(|v| v.get((reach.head - self.base) as usize));
            fold.push(self.at(reach.head), reach.head, value)?;
            reach.head += 1;
        }
        fold.emit(out);
        keys.push(row.key);
        Ok(())
    }
}

impl<F: Fold> GroupWindow<F> {
    fn span(&self) -> Span<'_> {
        Span {
            rows: &self.rows,
            values: self.values.as_ref(),
            base: self.base,
            n: self.n,
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
            reach: Reach::at(0),
            next_out: 0,
            last_ts: i64::MIN,
            fold,
        }
    }

    /// The timestamp of the group's last row (`i64::MIN` before any).
    pub(crate) fn last_ts(&self) -> i64 {
        self.last_ts
    }

    /// Adds a row at the group's end; appends the value of every row that became final to `out`
    /// and its key to `keys`.
    #[inline]
    pub(crate) fn add(
        &mut self,
        window: Window,
        e: Entry,
        value: Option<Value>,
        out: &mut Sink,
        keys: &mut Vec<u64>,
    ) -> Result<()> {
        self.rows.push(e);
        self.last_ts = e.ts;
        if let Some(values) = &mut self.values {
            values.push(value.unwrap_or(Value::Null));
        }
        self.n += 1;
        while self.next_out < self.n {
            let r = self.next_out;
            let at = |j: u64| &self.rows[(j - self.base) as usize];
            if !window.is_final(at(r), at(self.n - 1), r, self.n) {
                break;
            }
            let span = Span {
                rows: &self.rows,
                values: self.values.as_ref(),
                base: self.base,
                n: self.n,
            };
            span.slide(window, r, &mut self.reach, &mut self.fold, (out, keys))?;
            self.next_out += 1;
        }
        // Rows before both the window and the first row without a final value go.
        if window == Window::Cumulative {
            // Nothing ever leaves a cumulative window: no row is kept to leave.
            self.reach.tail = self.reach.head;
        }
        self.trim();
        Ok(())
    }

    /// Drops the rows no window nor recomputation needs any more.
    fn trim(&mut self) {
        let keep = self
            .reach
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
            while self.reach.tail < self.reach.head && self.reach.tail < upto {
                let e = &self.rows[(self.reach.tail - self.base) as usize];
                self.fold.pop(e, self.reach.tail);
                self.reach.tail += 1;
            }
            if self.reach.head < upto {
                self.reach.head = upto;
                self.reach.tail = upto;
            }
            // The final rows whose window held the last removed row are computed again, from
            // the first row left.
            let gone = self.rows[(upto - 1 - self.base) as usize];
            let mut reach = Reach::at(upto);
            let mut fold = fresh.clone();
            for r in upto..self.next_out {
                let row = &self.rows[(r - self.base) as usize];
                if window.before(&gone, row, upto - 1, r) {
                    break;
                }
                self.span()
                    .slide(window, r, &mut reach, &mut fold, (out, keys))?;
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

    /// Appends a provisional value (over the rows there are) of every row without a final one,
    /// and its key.
    pub(crate) fn provisional(
        &self,
        window: Window,
        out: &mut Sink,
        keys: &mut Vec<u64>,
    ) -> Result<()> {
        let mut fold = self.fold.clone();
        let mut reach = self.reach;
        for r in self.next_out..self.n {
            self.span()
                .slide(window, r, &mut reach, &mut fold, (out, keys))?;
        }
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
