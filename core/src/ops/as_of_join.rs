//! `aj` and `raj`: each left row with the columns of one right row, exact on every match column
//! but the last (the stamp), and on the stamp the right row with the greatest stamp `<=` the
//! left's (`aj`; `>` in the spec, `<` strictly) or the least `>=` it (`raj`; `<` strictly), nulls
//! where none qualifies (Deephaven's semantics).
//!
//! Both sides' exact keys are numbered by one [`KeyIds`], so a key has one id whichever side it
//! came from. Per id, a *bucket* keeps its right rows sorted by (stamp, row key): a right table
//! that grows in time appends at the bucket's back, O(1), and a ring's oldest rows leave from its
//! front. Stamps are compared as order keys ([`stamp_keys`]): nulls first, then numbers, doubles
//! in Deephaven's order (NaN last, -0.0 equal to 0.0). Of right rows with equal stamps, the
//! latest is the match, for `raj` too (Deephaven sorts a key's right rows by stamp, stably, and
//! its duplicate compaction keeps the last row of each run of equal stamps, in either order).
//!
//! A build that merges ([`AsOfJoin::merges`]: an `aj` of left rows not far fewer than the
//! right's) indexes the right side as the merge reads it ([`AsOfJoin::unindexed`]): its keys
//! numbered, its order checked (a right row out of time order undoes the merge: every right row
//! is indexed and every left row searched) and each key's last row found, per bucket only that
//! back row ([`AsOfJoin::partial`]): the merge and the tails need no more, and a search by a
//! left row at or after that row (both sides growing in time) reads only it and the rows
//! appended since. The first search that would read before it (a left row before
//! its bucket's back row, even of a key whose every right row came after the build), a right
//! row out of time order (of any key) or a ring's removal index every right row then
//! ([`AsOfJoin::materialize`], once, linear in the right rows): work deferred from the build,
//! never done by a one-off join or by both sides growing in time.
//!
//! Each left row keeps its matched right row key ([`RowMatches`]: 32-bit offsets from a base
//! while they fit; its stamp is read from the left table when it is checked again), but for an
//! `aj` over a right side that neither blinks nor trims its front, until a right row comes out of
//! time order ([`AsOfJoin::unkept`]: only the tails' rows move until then); its key id
//! is read from the left's key columns a block at a time, and kept only once a scan of every
//! left row (below) needs it. Per bucket, a *tail* lists the left rows (keys, ascending but for
//! a few a removal added) whose match an append at the bucket's back could change: for `aj`
//! those at or after the bucket's last stamp, for `raj` those after the stamp before it
//! ([`AsOfJoin::in_tail`]). So a cycle costs its change:
//! - left rows added at the back are looked up (galloping from where their bucket's last search
//!   ended, [`partition_near`]), and rows removed from the front dropped; an `aj` of many left
//!   rows in time order against a right side in time order (a table built at once) merges the
//!   two sides instead ([`AsOfJoin::merge_rows`], a tight loop a block of right rows read; one
//!   dictionary-coded key read by its codes, no lookup pass), one pass as pandas' `merge_asof`;
//! - a right row appended at the back of its bucket (a right side growing in time) rechecks that
//!   bucket's tail only;
//! - right rows leaving (a ring's oldest) move only the left rows matched to them (a row that
//!   was not a left row's match leaves its match the best): one scan of the kept ids and
//!   matches, a range check a row, finds and rechecks them, unless a bucket's back row left.
//!   Only a right side that loses rows from its front alone (a ring) keeps its rows' stamps to
//!   find them in their buckets; from any other (a blink table's turnover) the right side is
//!   indexed again, the buckets of its rows changed (in time linear in the rows gone and new,
//!   not in the keys);
//! - any other right change (a row inserted earlier in time, a bucket's back row leaving) marks
//!   its bucket, and the scan rechecks every left row of marked buckets and rebuilds their
//!   tails.
//!
//! Rows whose match changed get their right columns rewritten in place (`Update::Keyed` with
//! `modified`); otherwise the update stays `Fifo`. A keyed side (an aggregation's result, small)
//! is joined again whole.
//!
//! The right rows' key ids are kept only for a right side that loses rows from its front (a
//! ring, whose leaving rows are found by them) or once it was indexed again (a blink table's
//! turnover clears the buckets of its rows gone by them); a right side that only appends has
//! them read again from its key columns when needed ([`AsOfJoin::materialize`]).
//!
//! Invariant: `left_match` (unless `unkept`, then empty) and `left_ids` (when kept) have one
//! entry per output row, in order, and the output row at a position is the left's at that
//! position; while `unkept`, every right change since the left rows were joined (or joined again)
//! was rows appended in time order, and each left row of a tail matched its bucket's back row at
//! the cycle's start; `right_ids` (when kept) and
//! `right_stamps` (when kept) one per right row indexed, and without kept ids the right rows
//! indexed are the right table's; `right_order` holds the last right stamp while the right
//! rows' stamps never decrease; while `unindexed` (a build's merge to run) no right row is
//! indexed; `marks` lists the buckets changed this cycle, none between cycles; each
//! bucket's `rows` are exactly the right rows of its id, sorted, but while `partial` (then
//! `right_order` holds) those from its back row at the build on; each left row whose match an
//! append could change is in its bucket's `tail` (which may also hold rows gone from the front,
//! skipped and dropped lazily).

mod merge;

use merge::Merged;

use std::cell::Cell;
use std::collections::VecDeque;
use std::rc::Rc;

use super::Operator;
use super::key_ids::{KeyIds, match_columns};
use super::name_pair;
use super::packed_sort;
use super::row_matches::{NO_ROW, RowMatches, narrow_key};
use crate::column::{Column, ColumnType, NULL_BOOL, NULL_F64, f64_order_key};
use crate::table::{Field, Node, Schema, Table, TableData, Update};
use crate::{Error, Result};

/// Inserts the late rows (see `AsOfJoin::add_right`; keys from `first`) into their buckets, and
/// empties `late`: merged in, one pass over a bucket's rows from its earliest late row on (not a
/// search and a shift a row).
fn merge_late(buckets: &mut [Bucket], late: &mut Vec<u128>, first: u64) {
    packed_sort::sort(late);
    let unpack = |v: &u128| ((v >> 32) as u64, first + u64::from(*v as u32));
    for group in late.chunk_by(|a, b| a >> 96 == b >> 96) {
        let Some(bucket) = buckets.get_mut((group[0] >> 96) as usize) else {
            continue;
        };
        let rows = &mut bucket.rows;
        let old = rows.split_off(partition_near(rows, rows.len(), unpack(&group[0])));
        let mut new = group.iter().map(unpack).peekable();
        rows.reserve(old.len() + group.len());
        for e in old {
            while let Some(n) = new.next_if(|&n| n < e) {
                rows.push_back(n);
            }
            rows.push_back(e);
        }
        rows.extend(new);
    }
    late.clear();
}

/// The order key of a stamp: nulls (0) first, then values in order.
pub(crate) fn stamp_keys(column: &Column, start: usize, count: usize, out: &mut Vec<u64>) {
    const SIGN: u64 = 1 << 63;
    out.clear();
    out.reserve(count);
    let ints = |v: i64| (v as u64) ^ SIGN; // i64::MIN (null) is 0
    match column {
        Column::I32(c) | Column::Date(c) => {
            for s in c.slices_range(start, count) {
                out.extend(
                    s.iter()
                        .map(|&v| ints(i64::from(v)) - (ints(i64::from(i32::MIN)))),
                );
            }
        }
        Column::I64(c) | Column::Timestamp(c) | Column::Time(c) => {
            for s in c.slices_range(start, count) {
                out.extend(s.iter().map(|&v| ints(v)));
            }
        }
        Column::F64(c) => {
            for s in c.slices_range(start, count) {
                out.extend(
                    s.iter()
                        .map(|&v| if v == NULL_F64 { 0 } else { f64_order_key(v) }),
                );
            }
        }
        Column::Bool(c) => {
            for s in c.slices_range(start, count) {
                out.extend(s.iter().map(|&v| {
                    if v == NULL_BOOL {
                        0
                    } else {
                        1 + u64::from(v != 0)
                    }
                }));
            }
        }
        // Refused at build time.
        _ => out.extend(std::iter::repeat_n(0, count)),
    }
}

/// Whether a stamp column of `ty` can be ordered by [`stamp_keys`].
fn orderable(ty: ColumnType) -> bool {
    matches!(
        ty,
        ColumnType::I32
            | ColumnType::I64
            | ColumnType::F64
            | ColumnType::Timestamp
            | ColumnType::Date
            | ColumnType::Time
            | ColumnType::Bool
    )
}

/// One exact key's right rows, sorted by (stamp, right row key), and its tail of left rows.
#[derive(Default)]
struct Bucket {
    rows: VecDeque<(u64, u64)>,
    tail: VecDeque<u64>,
    /// Where the last search ended: left rows in time order search near it.
    hint: Cell<usize>,
}

impl Bucket {
    /// Adds left row `key` to the tail, dropping from its front the rows gone from the output
    /// (keys before `first_live`).
    fn add_to_tail(&mut self, key: u64, first_live: u64) {
        while self.tail.front().is_some_and(|&k| k < first_live) {
            self.tail.pop_front();
        }
        self.tail.push_back(key);
    }
}

/// The first position in `rows` (sorted) whose row is not below `bound`, found by galloping
/// from `hint` (each step doubling) and then bisecting: a search near the last one, as for left
/// rows in time order, costs a few comparisons, not a walk down the whole bucket. A bound of
/// `(t, 0)` parts the stamps below `t` from the rest, `(t, NO_ROW)` those up to `t` (row keys
/// never reach [`NO_ROW`]).
fn partition_near(rows: &VecDeque<(u64, u64)>, hint: usize, bound: (u64, u64)) -> usize {
    let pred = |e: &(u64, u64)| *e < bound;
    let n = rows.len();
    let h = hint.min(n);
    let (mut lo, mut hi);
    if h < n && pred(&rows[h]) {
        // The answer is after `h`.
        (lo, hi) = (h + 1, n);
        let mut step = 1;
        while h + step < n {
            if !pred(&rows[h + step]) {
                hi = h + step;
                break;
            }
            lo = h + step + 1;
            step *= 2;
        }
    } else {
        // At or before `h`.
        (lo, hi) = (0, h);
        let mut step = 1;
        while step <= h {
            if pred(&rows[h - step]) {
                lo = h - step + 1;
                break;
            }
            hi = h - step;
            step *= 2;
        }
    }
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if pred(&rows[mid]) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

/// How a bucket changed in this cycle, each kind covering those before it.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Change {
    None,
    /// Rows appended at its back only.
    Appended,
    /// Rows removed (none its back one), and maybe rows appended at its back after: only the
    /// left rows matched to a removed row, and its tail, may move.
    Removed,
    /// Anything else.
    Other,
}

/// How each bucket changed in this cycle, and the ids of those that did: a cycle walks the
/// buckets it changed, not every key's.
#[derive(Default)]
struct Marks {
    of: Vec<Change>,
    marked: Vec<u32>,
    /// Per marked bucket, its back row's key before the cycle ([`NO_ROW`]: none), when its
    /// first change was an append: the match of each row of its tail while the matches are not
    /// kept ([`AsOfJoin::unkept`]).
    backs: Vec<u64>,
}

impl Marks {
    /// Marks bucket `id` changed as `to`, unless it changed more already.
    fn mark(&mut self, id: u32, to: Change) {
        self.mark_back(id, to, NO_ROW);
    }

    /// As [`Marks::mark`], with the bucket's back row before the change, `back`.
    fn mark_back(&mut self, id: u32, to: Change, back: u64) {
        let change = &mut self.of[id as usize];
        if *change == Change::None {
            self.marked.push(id);
            self.backs.push(back);
        }
        *change = (*change).max(to);
    }

    fn clear(&mut self) {
        for id in self.marked.drain(..) {
            self.of[id as usize] = Change::None;
        }
        self.backs.clear();
    }
}

/// Rows whose stamps are read at a time.
const BLOCK: usize = 4_096;

#[cfg(test)]
thread_local! {
    /// Tests: `aj`'s merge is off on this thread (every left row searched).
    pub(crate) static SEARCH_ONLY: Cell<bool> = const { Cell::new(false) };
    /// Tests: the left rows `aj`'s merge matched on this thread.
    pub(crate) static MERGED: Cell<usize> = const { Cell::new(0) };
    /// Tests: the times partial buckets were indexed whole on this thread.
    pub(crate) static MATERIALIZED: Cell<usize> = const { Cell::new(0) };
    /// Tests: the times an `aj` started again (its keys numbered afresh) on this thread.
    pub(crate) static RESTARTED: Cell<usize> = const { Cell::new(0) };
    /// Tests: the times an `aj` started keeping its matches on this thread.
    pub(crate) static KEPT_MATCHES: Cell<usize> = const { Cell::new(0) };
}

/// Whether the merge is off (only ever in tests).
fn search_only() -> bool {
    #[cfg(test)]
    return SEARCH_ONLY.with(Cell::get);
    #[cfg(not(test))]
    false
}

struct AsOfJoin {
    /// `raj` (the least stamp at or after the left's) rather than `aj`.
    reverse: bool,
    /// `>` / `<`: an equal stamp does not match.
    strict: bool,
    left_keys: Vec<usize>,
    right_keys: Vec<usize>,
    left_stamp: usize,
    right_stamp: usize,
    /// Right columns to add, by index.
    added: Vec<usize>,
    ids: KeyIds,
    /// The left rows' key ids, kept once a scan of every left row needed them (see
    /// [`AsOfJoin::repatch`]; until then read again from the left's key columns, which give the
    /// same ids): `None` while no right change but appends at buckets' backs came.
    left_ids: Option<VecDeque<u32>>,
    /// Each output row's match, while they are kept (`unkept` is false).
    left_match: RowMatches,
    /// The left rows' matches are not kept (`left_match` is empty): an `aj` over a right side
    /// that neither blinks nor trims its front. Right rows appended in time order
    /// move only the tails' rows, each of which matched its bucket's back row as the cycle found
    /// it ([`Marks::backs`]); before any other `Fifo` change of the right side the matches are
    /// searched and kept from then on ([`AsOfJoin::keep_matches`]). (A keyed change joins every
    /// left row again, which needs no old match.)
    unkept: bool,
    /// The right rows' key ids, kept for a right side that loses rows from its front (a ring:
    /// [`AsOfJoin::remove_right`] takes them) or once it was indexed again (a blink table's
    /// turnover clears the buckets of its rows gone by them); `None` for a right side that only
    /// appended, whose rows' ids are read again from its key columns when needed.
    right_ids: Option<VecDeque<u32>>,
    /// The right rows' stamps, kept for a right side that loses rows from its front alone (a
    /// ring) to find them in their buckets; `None` otherwise, where rows leaving (a blink
    /// table's) index the right side again.
    right_stamps: Option<VecDeque<u64>>,
    /// The last right row's stamp while the right rows' stamps never decrease (`aj`'s merge).
    right_order: Option<u64>,
    /// The key of the first right row indexed.
    right_first: u64,
    /// The keys of the right rows removed this cycle.
    removed: std::ops::Range<u64>,
    buckets: Vec<Bucket>,
    /// The buckets hold only the right rows from each one's back at the build on (an `aj`
    /// built by the merge, which needs no more); the rest are indexed on the first search or
    /// change that needs them ([`AsOfJoin::materialize`]).
    partial: bool,
    /// The build's right rows are not indexed yet: the merge reads them (numbering their
    /// keys, checking their order and finding each key's last row) as it goes.
    unindexed: bool,
    marks: Marks,
    scratch: Vec<u32>,
    stamps: Vec<u64>,
}

impl AsOfJoin {
    /// Key ids of rows `start .. start + count` of `data`'s `columns`, into `self.scratch`.
    fn key_ids(&mut self, data: &TableData, columns: &[usize], start: usize, count: usize) {
        self.ids
            .ids_or_single(data, columns, start, count, &mut self.scratch);
        let len = self.ids.len().max(1);
        if self.buckets.len() < len {
            self.buckets.resize_with(len, Bucket::default);
            self.marks.of.resize(len, Change::None);
        }
    }

    /// The right row key matching stamp `t` in `bucket`, or [`NO_ROW`]; `None` when the match
    /// may be a row before the front of a partial bucket ([`AsOfJoin::partial`]).
    fn find(&self, bucket: &Bucket, t: u64) -> Option<u64> {
        let rows = &bucket.rows;
        let hint = bucket.hint.get();
        let at = |p: usize| {
            bucket.hint.set(p);
            rows.get(p).map_or(NO_ROW, |&(_, key)| key)
        };
        Some(match (self.reverse, self.strict) {
            (false, strict) => {
                match partition_near(rows, hint, (t, if strict { 0 } else { NO_ROW })) {
                    0 if self.partial && !rows.is_empty() => return None,
                    0 => NO_ROW,
                    p => at(p - 1),
                }
            }
            (true, strict) => {
                let p = partition_near(rows, hint, (t, if strict { NO_ROW } else { 0 }));
                // The latest of the rows with that stamp.
                match rows.get(p) {
                    // (`raj` never merges: its buckets are never partial.)
                    Some(&(s, _)) => at(partition_near(rows, p, (s, NO_ROW)) - 1),
                    None => NO_ROW,
                }
            }
        })
    }

    /// As [`AsOfJoin::find`] for bucket `id`, indexing every right row first when the partial
    /// bucket cannot tell.
    fn find_or_index(&mut self, id: usize, t: u64, right: &TableData) -> u64 {
        if let Some(found) = self.find(&self.buckets[id], t) {
            return found;
        }
        let first = self.indexed_right(right).0;
        self.materialize(right, first);
        self.find(&self.buckets[id], t).unwrap_or(NO_ROW)
    }

    /// The right rows indexed (or, at the build, to index): the first's key and their number;
    /// those of the kept ids, or every row of `right` (a side that only appended).
    fn indexed_right(&self, right: &TableData) -> (u64, usize) {
        match &self.right_ids {
            Some(kept) if !self.unindexed => (right.end_key() - kept.len() as u64, kept.len()),
            _ => (right.first_key, right.len()),
        }
    }

    /// Indexes every right row into its bucket when the buckets are partial: the right rows
    /// are those of the kept ids (keys from `first`) or, if none are kept, `right`'s from
    /// `first` on (their ids read again); their stamps the kept ones or, if none are kept,
    /// `right`'s. In time linear in the right rows (a bucket of rows out of time order, a late
    /// row's, sorted).
    fn materialize(&mut self, right: &TableData, first: u64) {
        self.materialize_to(right, first, right.len());
    }

    /// As [`AsOfJoin::materialize`], of the right rows before position `end` only (with no
    /// kept ids: those before this cycle's appends).
    fn materialize_to(&mut self, right: &TableData, first: u64, end: usize) {
        if !self.partial {
            return;
        }
        self.partial = false;
        #[cfg(test)]
        MATERIALIZED.with(|m| m.set(m.get() + 1));
        let offset = first.saturating_sub(right.first_key) as usize;
        let kept = self.right_ids.is_some();
        let ids = match self.right_ids.take() {
            Some(ids) => ids,
            None => {
                let keys = self.right_keys.clone();
                let n = end.min(right.len()).saturating_sub(offset);
                self.key_ids(right, &keys, offset, n);
                VecDeque::from(std::mem::take(&mut self.scratch))
            }
        };
        let mut counts = vec![0usize; self.buckets.len()];
        for &id in &ids {
            if let Some(c) = counts.get_mut(id as usize) {
                *c += 1;
            }
        }
        for (bucket, &n) in self.buckets.iter_mut().zip(&counts) {
            bucket.rows.clear();
            bucket.rows.reserve_exact(n);
        }
        let n = ids.len();
        let mut block = Vec::with_capacity(BLOCK);
        for start in (0..n).step_by(BLOCK) {
            let count = BLOCK.min(n - start);
            match &self.right_stamps {
                Some(kept) => {
                    block.clear();
                    block.extend(kept.range(start..start + count));
                }
                None => stamp_keys(
                    &right.columns[self.right_stamp],
                    offset + start,
                    count,
                    &mut block,
                ),
            }
            let ids = ids.range(start..start + count);
            for (i, (&id, &s)) in (start..).zip(ids.zip(&block)) {
                if let Some(bucket) = self.buckets.get_mut(id as usize) {
                    bucket.rows.push_back((s, first + i as u64));
                }
            }
        }
        for bucket in &mut self.buckets {
            let rows = bucket.rows.make_contiguous();
            if !rows.is_sorted() {
                rows.sort_unstable();
            }
        }
        if kept {
            self.right_ids = Some(ids);
        }
    }

    /// Before a build's join of `left_rows` (the first, or a restart's): the right side as yet
    /// unread (no kept ids or stamps, no order seen), left for the merge to index as it reads it
    /// ([`AsOfJoin::unindexed`]), or indexed whole when the join will search (searches need
    /// every row).
    fn prepare_build(&mut self, left_rows: usize, right: &TableData) {
        self.forget_kept_right();
        (self.right_order, self.right_first) = (Some(0), right.first_key);
        (self.unindexed, self.partial) = (true, false);
        if !self.merges(left_rows, right.len()) {
            self.index_all(right);
        }
    }

    /// Empties the right rows' kept ids and stamps (a side that keeps them keeps them again as
    /// its rows are read).
    fn forget_kept_right(&mut self) {
        if let Some(kept) = &mut self.right_ids {
            kept.clear();
        }
        if let Some(kept) = &mut self.right_stamps {
            kept.clear();
        }
    }

    /// Indexes every right row of the build, when the merge does not (a right side out of time
    /// order, or a join that searches).
    fn index_all(&mut self, right: &TableData) {
        (self.unindexed, self.partial) = (false, false);
        self.add_right(right, 0, right.len());
        self.marks.clear();
    }

    /// Whether an `aj` of `count` left rows takes them by the merge while they are in time
    /// order: against a right side (of `right_rows`) in time order (or, at the build, not known
    /// out of it yet), the left rows not far fewer than the
    /// right's, the keys not far more than both (the merge's table by key id costs its length).
    fn merges(&self, count: usize, right_rows: usize) -> bool {
        let rows = count + right_rows;
        !self.reverse
            && self.right_order.is_some()
            && right_rows > 0
            && count.saturating_mul(8) >= right_rows
            && self.buckets.len() <= rows.saturating_mul(2)
            && !search_only()
    }

    /// Whether a left row of stamp `t` may change match when a row is appended at the back of
    /// `bucket` (a stamp at or after its last).
    fn in_tail(&self, bucket: &Bucket, t: u64) -> bool {
        let rows = &bucket.rows;
        let Some(&(last, _)) = rows.back() else {
            return true;
        };
        if !self.reverse {
            // A row at `last` or later takes the appended row (the latest of equal stamps).
            return if self.strict { t > last } else { t >= last };
        }
        // `raj`: rows matching no row, or `last`'s rows (an appended row of that stamp is
        // the latest): those after the stamp below `last`.
        match partition_near(rows, rows.len() - 1, (last, 0)) {
            0 => true,
            p => {
                let below = rows[p - 1].0;
                if self.strict { t >= below } else { t > below }
            }
        }
    }

    /// Adds right rows `start .. start + count` to their buckets, marking how each changed.
    fn add_right(&mut self, right: &TableData, start: usize, count: usize) {
        let keys = self.right_keys.clone();
        self.key_ids(right, &keys, start, count);
        // A bucket with rows added was appended to, unless a row went in earlier (below). For
        // an update not far smaller than the buckets, each grows once (not by doubling, a copy
        // each time), from counts.
        if count.saturating_mul(8) >= self.buckets.len() {
            let mut counts = vec![0usize; self.buckets.len()];
            self.scratch.iter().for_each(|&id| counts[id as usize] += 1);
            for (bucket, &n) in self.buckets.iter_mut().zip(&counts) {
                bucket.rows.reserve(n);
            }
        }
        // Rows earlier than their bucket's back, as (bucket id, stamp, row from `base`) packed
        // in that order (`packed_sort`); merged in every 2^32 rows (never, in wasm32).
        let mut late: Vec<u128> = Vec::new();
        let mut base = 0;
        for block in (0..count).step_by(BLOCK) {
            let (column, n) = (&right.columns[self.right_stamp], BLOCK.min(count - block));
            stamp_keys(column, start + block, n, &mut self.stamps);
            if let Some(kept) = &mut self.right_stamps {
                kept.extend(self.stamps.iter().copied());
            }
            for (i, (&id, &s)) in (block..).zip(self.scratch[block..].iter().zip(&self.stamps)) {
                self.right_order = self.right_order.filter(|&last| last <= s).and(Some(s));
                let key = right.first_key + (start + i) as u64;
                let bucket = &mut self.buckets[id as usize];
                if bucket.rows.back().is_none_or(|&(last, _)| last <= s) {
                    let back = bucket.rows.back().map_or(NO_ROW, |&(_, k)| k);
                    bucket.rows.push_back((s, key));
                    self.marks.mark_back(id, Change::Appended, back);
                } else if self.partial {
                    // Indexed with every row below.
                    self.marks.mark(id, Change::Other);
                } else {
                    if i - base > u32::MAX as usize {
                        merge_late(&mut self.buckets, &mut late, key - (i - base) as u64);
                        base = i;
                    }
                    let row = (i - base) as u128;
                    late.push((u128::from(id) << 96) | (u128::from(s) << 32) | row);
                    self.marks.mark(id, Change::Other);
                }
            }
        }
        let first_late = right.first_key + (start + base) as u64;
        merge_late(&mut self.buckets, &mut late, first_late);
        if let Some(kept) = &mut self.right_ids {
            append(kept, &mut self.scratch);
        }
        if self.right_order.is_none() {
            // A late row in a partial bucket: it goes in among rows not indexed yet.
            let first = self.indexed_right(right).0;
            self.materialize(right, first);
        }
    }

    /// Removes the first `count` right rows from their buckets; `false` (and nothing done) when
    /// their stamps were not kept.
    fn remove_right(&mut self, count: usize) -> bool {
        let (Some(stamps), Some(ids)) = (&mut self.right_stamps, &mut self.right_ids) else {
            return count == 0;
        };
        let first = self.right_first;
        self.removed = first..first + count as u64;
        for i in 0..count {
            let (Some(id), Some(s)) = (ids.pop_front(), stamps.pop_front()) else {
                break;
            };
            let key = first + i as u64;
            let bucket = &mut self.buckets[id as usize];
            // A ring's oldest row is usually its bucket's first.
            let p = partition_near(&bucket.rows, 0, (s, key));
            if bucket.rows.get(p) == Some(&(s, key)) && p + 1 < bucket.rows.len() {
                bucket.rows.remove(p);
                self.marks.mark(id, Change::Removed);
            } else {
                // The back row leaves: the tail's bound moves.
                if bucket.rows.get(p) == Some(&(s, key)) {
                    bucket.rows.remove(p);
                }
                self.marks.mark(id, Change::Other);
            }
        }
        true
    }

    /// Forgets the right side and indexes its rows again (every bucket it had marked changed),
    /// in time linear in its rows, gone and new (a blink table's turnover), not in the keys.
    fn index_right(&mut self, right: &TableData) {
        if let Some(kept) = &mut self.right_ids {
            for id in kept.drain(..) {
                self.buckets[id as usize].rows.clear();
                self.marks.mark(id, Change::Other);
            }
        } else {
            // A side that only appended so far: every bucket with rows (once: the ids are kept
            // from now on).
            for (id, bucket) in (0..).zip(&mut self.buckets) {
                if !bucket.rows.is_empty() {
                    bucket.rows.clear();
                    self.marks.mark(id, Change::Other);
                }
            }
            self.right_ids = Some(VecDeque::new());
        }
        if let Some(stamps) = &mut self.right_stamps {
            stamps.clear();
        }
        self.right_order = Some(0);
        self.right_first = right.first_key;
        // Every right row is indexed again below.
        (self.unindexed, self.partial) = (false, false);
        self.add_right(right, 0, right.len());
    }

    /// Appends left rows `start .. start + count`, each with its match, to `out` and the state.
    /// Stamps are read a block at a time. An `aj` of left rows in time order against a right
    /// side in time order ([`AsOfJoin::merges`]) takes its matches from one merge of the two
    /// ([`AsOfJoin::merge_rows`]) rather than a search a row, as `merge_asof` does; from the
    /// first left row out of order on, the search.
    fn join_rows(
        &mut self,
        left: &TableData,
        right: &TableData,
        start: usize,
        count: usize,
        out: &mut TableData,
    ) {
        let width = left.columns.len();
        for (o, c) in out.columns[..width].iter_mut().zip(&left.columns) {
            o.extend_shared(c, start, count);
        }
        let stamp = &left.columns[self.left_stamp];
        let first_out = out.end_key() - count as u64;
        let first_live = out.first_key;
        let added = &mut out.columns[width..];
        let mut merged = 0;
        // (Set, or moved up, before any row: the searched rows' matches are narrow too.)
        let base = (self.left_match).narrow_base(right.first_key, right.end_key());
        let keep = !self.unkept;
        if let Some(base) = base
            && self.merges(count, self.indexed_right(right).1)
        {
            // Matches as offsets from `base` (every right key fits), appended whole (when kept).
            let mut done = Merged {
                keep,
                matches: Vec::with_capacity(if keep { count } else { BLOCK.min(count) }),
                rows: 0,
                unmatched: Vec::new(),
            };
            let rows = (count, &mut *added);
            if self.merge_rows(left, right, start, (base, &mut done), rows) {
                merged = done.rows;
                self.merge_tails(left, start, &done, (first_out, first_live));
                let offsets = &mut done.matches;
                if keep && !self.left_match.append_narrow(base, offsets) {
                    // (Never: `base` is theirs.)
                    let keys: Vec<u64> = offsets.iter().map(|&o| narrow_key(o, base)).collect();
                    self.left_match.extend(&keys);
                }
            }
        }
        if self.unindexed {
            // The merge did not index the build's right rows (they were out of time order).
            self.index_all(right);
        }
        let keys = self.left_keys.clone();
        let mut stamps = std::mem::take(&mut self.stamps);
        let mut matches = Vec::with_capacity(BLOCK.min(count - merged));
        for block in (merged..count).step_by(BLOCK) {
            matches.clear();
            let n = BLOCK.min(count - block);
            stamp_keys(stamp, start + block, n, &mut stamps);
            self.key_ids(left, &keys, start + block, n);
            let ids = std::mem::take(&mut self.scratch);
            for (i, (&id, &t)) in (block..).zip(ids.iter().zip(&stamps)) {
                let found = self.find_or_index(id as usize, t, right);
                matches.push(found);
                if self.in_tail(&self.buckets[id as usize], t) {
                    self.buckets[id as usize].add_to_tail(first_out + i as u64, first_live);
                }
            }
            if let Some(kept) = &mut self.left_ids {
                kept.extend(ids.iter().copied());
            }
            self.scratch = ids;
            gather(
                added,
                &self.added,
                right,
                (right.first_key, NO_ROW),
                &matches,
            );
            if keep {
                self.left_match.extend(&matches);
            }
        }
        self.stamps = stamps;
    }

    /// Joins every left row again into a fresh table (the old rows reported removed).
    fn rejoin(
        &mut self,
        left: &TableData,
        right: &TableData,
        out: &mut TableData,
    ) -> Result<Update> {
        self.left_ids = None;
        self.left_match.clear();
        for bucket in &mut self.buckets {
            bucket.tail.clear();
        }
        self.marks.clear();
        out.rewrite(|fresh| {
            self.join_rows(left, right, 0, left.len(), fresh);
            Ok(())
        })
    }

    /// Forgets every key and joins everything again, so keys that left stop holding memory.
    fn restart(
        &mut self,
        left: &TableData,
        right: &TableData,
        out: &mut TableData,
    ) -> Result<Update> {
        #[cfg(test)]
        RESTARTED.with(|r| r.set(r.get() + 1));
        self.ids.clear();
        self.buckets.clear();
        self.marks = Marks::default();
        // The right side indexed again from nothing, as at the build (by the merge, or every
        // row): a side that keeps its rows' ids (a ring, or a side indexed again) and stamps (a
        // ring) keeps them again as they are read, and a side that only appended keeps neither.
        self.prepare_build(left.len(), right);
        self.rejoin(left, right, out)
    }

    /// Rechecks the left rows whose bucket changed; rewrites the right columns of those whose
    /// match changed, and returns their keys (ascending), or `None` when a column cannot change
    /// in place.
    fn repatch(
        &mut self,
        left: &TableData,
        right: &TableData,
        out: &mut TableData,
    ) -> Option<Vec<u64>> {
        // The matches' base moved up to the right's first row if need be (as `join_rows` does),
        // so that the matches set below, up to the right's end, stay narrow.
        (self.left_match).narrow_base(right.first_key, right.end_key());
        let mut changed: Vec<u128> = Vec::new(); // (left key, new match), packed
        let first = out.first_key;
        // The stamp of output row `p`, the left's row `p` (rows added this cycle come after).
        let mut one = Vec::with_capacity(1);
        let left_stamp = &left.columns[self.left_stamp];
        let mut stamp_at = |p: usize| {
            stamp_keys(left_stamp, p, 1, &mut one);
            one.first().copied()
        };
        let mut scan = false;
        for i in 0..self.marks.marked.len() {
            let id = self.marks.marked[i] as usize;
            match self.marks.of[id] {
                Change::None => {}
                Change::Other => scan = true,
                Change::Appended | Change::Removed => {
                    scan |= self.marks.of[id] == Change::Removed;
                    // Matches not kept: only appends came, and a tail's rows matched the back.
                    let back = self.unkept.then(|| self.marks.backs[i]);
                    let mut tail = std::mem::take(&mut self.buckets[id].tail);
                    let mut kept = VecDeque::with_capacity(tail.len());
                    for key in tail.drain(..) {
                        let Some(p) = key.checked_sub(first).map(|p| p as usize) else {
                            continue;
                        };
                        let old = match back {
                            Some(back) => (p < out.len()).then_some(back),
                            None => self.left_match.get(p),
                        };
                        let (Some(old), Some(t)) = (old, stamp_at(p)) else {
                            continue;
                        };
                        // (A tail's rows are at or after its partial bucket's front.)
                        let found = self.find_or_index(id, t, right);
                        if found != old {
                            changed.push(packed_sort::pack(key, found));
                        }
                        if self.in_tail(&self.buckets[id], t) {
                            kept.push_back(key);
                        }
                    }
                    self.buckets[id].tail = kept;
                }
            }
        }
        if scan {
            // (Matches not kept see appends only: `process` keeps them before any other change.)
            debug_assert!(!self.unkept);
            for &id in &self.marks.marked {
                if self.marks.of[id as usize] == Change::Other {
                    self.buckets[id as usize].tail.clear();
                }
            }
            let left_ids = match self.left_ids.take() {
                Some(kept) => kept,
                None => {
                    let keys = self.left_keys.clone();
                    self.key_ids(left, &keys, 0, self.left_match.len());
                    VecDeque::from(std::mem::take(&mut self.scratch))
                }
            };
            let (changes, removed) = (&self.marks.of, &self.removed);
            let recheck: Vec<usize> = (left_ids.iter().zip(self.left_match.iter()).enumerate())
                .filter(|&(_, (&id, m))| match changes[id as usize] {
                    Change::Other => true,
                    // Only a row whose match left can move (and may join the tail: for `raj`,
                    // when the stamp below the last left); its match is never the back row,
                    // so it was not in the tail.
                    Change::Removed => removed.contains(&m),
                    _ => false,
                })
                .map(|(p, _)| p)
                .collect();
            for p in recheck {
                let id = left_ids[p] as usize;
                let Some(t) = stamp_at(p) else {
                    continue;
                };
                let found = self.find_or_index(id, t, right);
                let tail = self.in_tail(&self.buckets[id], t);
                let key = first + p as u64;
                if Some(found) != self.left_match.get(p) {
                    changed.push(packed_sort::pack(key, found));
                }
                if tail {
                    self.buckets[id].tail.push_back(key);
                }
            }
            self.left_ids = Some(left_ids);
        }
        self.marks.clear();
        self.removed = 0..0;
        packed_sort::sort(&mut changed);
        changed.dedup_by_key(|c| *c >> 64);
        let width = out.columns.len() - self.added.len();
        for (key, found) in changed.iter().map(|&c| packed_sort::unpack(c)) {
            let p = (key - first) as usize;
            if !self.unkept {
                self.left_match.set(p, found);
            }
            let from = (found != NO_ROW).then(|| (found - right.first_key) as usize);
            for (o, &rc) in out.columns[width..].iter_mut().zip(&self.added) {
                if !o.set_from(p, &right.columns[rc], from) {
                    return None;
                }
            }
        }
        Some(changed.iter().map(|&c| packed_sort::unpack(c).0).collect())
    }

    /// Whether key ids of rows long gone (a ring's, say) outnumber the rows now by far.
    fn holds_many_dead_keys(&self, rows: usize) -> bool {
        self.ids.len() > 1_024 && self.ids.len() > 2 * rows
    }

    /// Whether the right side's last `added` rows (appended this cycle) come in time order
    /// after every row before them: each goes at its bucket's back.
    fn appends_in_order(&mut self, right: &TableData, added: usize) -> bool {
        let Some(mut last) = self.right_order else {
            return added == 0;
        };
        let (column, start) = (&right.columns[self.right_stamp], right.len() - added);
        for block in (0..added).step_by(BLOCK) {
            stamp_keys(
                column,
                start + block,
                BLOCK.min(added - block),
                &mut self.stamps,
            );
            for &s in &self.stamps {
                if s < last {
                    return false;
                }
                last = s;
            }
        }
        true
    }

    /// Starts keeping every left row's match ([`AsOfJoin::unkept`]), before a right change
    /// other than appends in time order (of `right_added` rows this cycle, not indexed yet): each
    /// searched in the right side as indexed (a partial one first indexed whole, but for the
    /// rows added), once. Of the `rows` output rows, the first `left_removed` (gone from the left
    /// this cycle) get none.
    fn keep_matches(
        &mut self,
        left: &TableData,
        right: &TableData,
        (rows, left_removed, right_added): (usize, usize, usize),
    ) {
        if !std::mem::take(&mut self.unkept) {
            return;
        }
        #[cfg(test)]
        KEPT_MATCHES.with(|k| k.set(k.get() + 1));
        // (From the first row indexed: `indexed_right` would count this cycle's rows, which the
        // kept ids do not hold yet.)
        self.materialize_to(right, self.right_first, right.len() - right_added);
        self.left_match.clear();
        self.left_match
            .narrow_base(right.first_key, right.end_key());
        let gone = left_removed.min(rows);
        self.left_match.extend(&vec![NO_ROW; gone]);
        let (keys, mut stamps) = (self.left_keys.clone(), std::mem::take(&mut self.stamps));
        let (live, mut found) = (rows - gone, Vec::with_capacity(BLOCK));
        for block in (0..live).step_by(BLOCK) {
            let n = BLOCK.min(live - block);
            stamp_keys(&left.columns[self.left_stamp], block, n, &mut stamps);
            self.key_ids(left, &keys, block, n);
            found.clear();
            for (&id, &t) in self.scratch.iter().zip(&stamps) {
                let bucket = &self.buckets[id as usize];
                found.push(self.find(bucket, t).unwrap_or(NO_ROW));
            }
            self.left_match.extend(&found);
        }
        self.stamps = stamps;
    }
}

/// Moves `values` to the back of `to` (taking the vector whole when `to` is empty, no copy).
fn append<T: Copy>(to: &mut VecDeque<T>, values: &mut Vec<T>) {
    if to.is_empty() {
        *to = VecDeque::from(std::mem::take(values));
    } else {
        to.extend(values.iter().copied());
    }
}

/// Appends to each of `out` (the added columns) the values of its right column (`added`) at
/// `matches` (keys, or offsets: as [`extend_matches`]).
fn gather<K: Copy + Into<u64>>(
    out: &mut [Column],
    added: &[usize],
    right: &TableData,
    at: (u64, u64),
    matches: &[K],
) {
    for (o, &rc) in out.iter_mut().zip(added) {
        extend_matches(o, &right.columns[rc], at, matches);
    }
}

/// Appends, per match (`u64` keys or `u32` offsets), the right row's value of `column` at
/// position `match - first`, or null for the match `none`: numbers, bools and times in one
/// pass ([`Column::extend_keys`]), others by positions in runs of at most 4,096 rows, so the
/// positions stay in cache.
pub(crate) fn extend_matches<K: Copy + Into<u64>>(
    out: &mut Column,
    column: &Column,
    (first, none): (u64, u64),
    matches: &[K],
) {
    if out.extend_keys(column, matches, (first, none)) {
        return;
    }
    let mut run: Vec<usize> = Vec::with_capacity(4_096);
    for &m in matches {
        let m: u64 = m.into();
        if m == none || run.len() == run.capacity() {
            out.extend_positions(column, &run);
            run.clear();
        }
        if m == none {
            out.push_null();
        } else {
            run.push(m.wrapping_sub(first) as usize);
        }
    }
    out.extend_positions(column, &run);
}

impl Operator for AsOfJoin {
    fn initialize(&mut self, inputs: &[&Node], out: &mut TableData) -> Result<()> {
        let (left, right) = (&inputs[0].data, &inputs[1].data);
        self.prepare_build(left.len(), right);
        self.join_rows(left, right, 0, left.len(), out);
        Ok(())
    }

    fn process(&mut self, inputs: &[&Node], out: &mut TableData) -> Result<Option<Update>> {
        let (left, right) = (inputs[0], inputs[1]);
        let keyed_right = matches!(right.update, Some(Update::Keyed { .. }));
        let keyed_left = matches!(left.update, Some(Update::Keyed { .. }));
        if keyed_right || keyed_left {
            if right.update.is_some() {
                self.index_right(&right.data);
            }
            return self.rejoin(&left.data, &right.data, out).map(Some);
        }
        let (left_removed, left_added) = match left.update {
            Some(Update::Fifo { removed, added }) => (removed, added),
            _ => (0, 0),
        };
        if let Some(Update::Fifo { removed, added }) = right.update {
            if self.unkept && removed > 0 {
                // (Never from a source: the right side neither blinks nor trims its front.)
                // Every left row joined again, and its match kept from now on.
                self.unkept = false;
                self.index_right(&right.data);
                return self.rejoin(&left.data, &right.data, out).map(Some);
            }
            if self.unkept && !self.appends_in_order(&right.data, added) {
                let rows = (out.len(), left_removed, added);
                self.keep_matches(&left.data, &right.data, rows);
            }
            if removed > 0 && self.right_stamps.is_some() {
                // The rows leaving are found in their buckets (from their kept stamps).
                self.materialize(&right.data, self.right_first);
            }
            if self.remove_right(removed) {
                self.add_right(&right.data, right.data.len() - added, added);
            } else {
                self.index_right(&right.data);
            }
            // Rows that came and went within the cycle (a ring's) were never indexed.
            self.right_first = right.data.first_key;
        }
        let (removed, added) = (left_removed, left_added);
        let first_before = out.first_key;
        out.pop_front(removed);
        let gone = removed.min(self.left_match.len());
        if let Some(kept) = &mut self.left_ids {
            kept.drain(..gone.min(kept.len()));
        }
        self.left_match.pop_front(gone);
        let Some(modified) = self.repatch(&left.data, &right.data, out) else {
            return self.rejoin(&left.data, &right.data, out).map(Some);
        };
        let start = left.data.len() - added;
        self.join_rows(&left.data, &right.data, start, added, out);
        if self.holds_many_dead_keys(left.data.len() + right.data.len()) {
            return self.restart(&left.data, &right.data, out).map(Some);
        }
        Ok(super::join_update(
            first_before,
            removed,
            added,
            out.end_key(),
            modified,
        ))
    }

    fn state_bytes(&self) -> (usize, usize) {
        let (mut used, mut reserved) = self.ids.bytes();
        for ids in [&self.left_ids, &self.right_ids].into_iter().flatten() {
            used += ids.len() * 4;
            reserved += ids.capacity() * 4;
        }
        let (u, r) = self.left_match.bytes();
        (used, reserved) = (used + u, reserved + r);
        if let Some(d) = &self.right_stamps {
            used += d.len() * 8;
            reserved += d.capacity() * 8;
        }
        for b in &self.buckets {
            used += b.rows.len() * 16 + b.tail.len() * 8;
            reserved += b.rows.capacity() * 16 + b.tail.capacity() * 8;
        }
        let bucket = std::mem::size_of::<Bucket>();
        used += self.buckets.len() * bucket + self.marks.of.len() + self.marks.marked.len() * 12;
        reserved += self.buckets.capacity() * bucket;
        reserved += self.marks.of.capacity() + self.marks.marked.capacity() * 4;
        reserved += self.marks.backs.capacity() * 8;
        (used, reserved)
    }
}

/// The stamp match of `aj` (`L >= R`, `L > R`, or `Col`) or `raj` (`L <= R`, `L < R`, `Col`):
/// (left, right, strict).
fn stamp_match(op: &str, spec: &str) -> Result<(String, String, bool)> {
    let (ok, wrong) = if op == "aj" { ('>', '<') } else { ('<', '>') };
    let bad = || {
        Error::Invalid(format!(
            "{op}: the last match column must be `Col`, `Left{ok}=Right` or `Left{ok}Right`, \
             not `{spec}`"
        ))
    };
    if spec.contains(wrong) {
        return Err(bad());
    }
    let (left, right, strict) = match spec.split_once(ok) {
        Some((l, r)) => match r.strip_prefix('=') {
            Some(r) => (l, r, false),
            None => (l, r, true),
        },
        None if spec.contains('=') => return Err(bad()),
        None => (spec, spec, false),
    };
    let (left, right) = (left.trim(), right.trim());
    if left.is_empty() || right.is_empty() || right.contains(['=', ok]) {
        return Err(bad());
    }
    Ok((left.to_owned(), right.to_owned(), strict))
}

/// A join's output schema: the left's columns, then the `addCols` entries (`Col` or
/// `New = RightCol`; none: every right column not matched); and those right columns' indices.
pub(crate) fn joined_schema(
    left_schema: &Schema,
    right_schema: &Schema,
    matched: &[usize],
    columns: &[&str],
) -> Result<(Schema, Vec<usize>)> {
    let additions: Vec<(String, String)> = if columns.is_empty() {
        right_schema
            .names()
            .into_iter()
            .enumerate()
            .filter(|(i, _)| !matched.contains(i))
            .map(|(_, n)| (n.to_owned(), n.to_owned()))
            .collect()
    } else {
        super::names(columns).iter().map(|s| name_pair(s)).collect()
    };
    let mut fields = left_schema.fields().to_vec();
    let mut added = Vec::new();
    for (new_name, right_name) in additions {
        let i = right_schema.index_of(&right_name)?;
        fields.push(Field::new(new_name, right_schema.fields()[i].ty));
        added.push(i);
    }
    Ok((Schema::new(fields)?, added))
}

impl Table {
    /// Deephaven's `aj`: each row of this table with `columns` of the `right` row whose `on`
    /// keys match exactly, all but the last, and whose last (the stamp) is the greatest at or
    /// before this row's (`"Ts"`, `"Ts >= RightTs"`; `"Ts > RightTs"` strictly before), or
    /// nulls where none is. `columns` entries are `Col` or `New = RightCol` (none given: every
    /// right column not matched).
    pub fn aj(&self, right: &Table, on: &[&str], columns: &[&str]) -> Result<Table> {
        self.as_of_join("aj", right, on, columns)
    }

    /// Deephaven's `raj`: as [`Table::aj`], with the right row whose stamp is the least at or
    /// after this row's (`"Ts"`, `"Ts <= RightTs"`; `"Ts < RightTs"` strictly after).
    pub fn raj(&self, right: &Table, on: &[&str], columns: &[&str]) -> Result<Table> {
        self.as_of_join("raj", right, on, columns)
    }

    fn as_of_join(&self, op: &str, right: &Table, on: &[&str], columns: &[&str]) -> Result<Table> {
        let (left_schema, right_schema) = (self.schema(), right.schema());
        let specs = super::names(on);
        let Some((stamp, exact)) = specs.split_last() else {
            return Err(Error::Invalid(format!(
                "{op}: at least one match column (the stamp) is required"
            )));
        };
        let exact: Vec<&str> = exact.iter().map(String::as_str).collect();
        let (left_keys, right_keys, types) =
            match_columns(op, &left_schema, &right_schema, &exact)?;
        let (l, r, strict) = stamp_match(op, stamp)?;
        let (left_stamp, right_stamp) = (left_schema.index_of(&l)?, right_schema.index_of(&r)?);
        let (lt, rt) = (
            left_schema.fields()[left_stamp].ty,
            right_schema.fields()[right_stamp].ty,
        );
        if lt != rt || !orderable(lt) {
            return Err(Error::Invalid(format!(
                "{op}: stamp {l} is {lt} on the left and {r} is {rt} on the right; a stamp must \
                 be one type on both, a number, bool, date, time or timestamp"
            )));
        }
        let mut matched = right_keys.clone();
        matched.push(right_stamp);
        let (schema, added) = joined_schema(&left_schema, &right_schema, &matched, columns)?;
        let op = AsOfJoin {
            reverse: op == "raj",
            strict,
            ids: KeyIds::new(&types, false),
            left_keys,
            right_keys,
            left_stamp,
            right_stamp,
            added,
            left_ids: None,
            left_match: RowMatches::default(),
            unkept: op == "aj" && !right.node.borrow().blink && !right.node.borrow().trims_front,
            right_ids: right.node.borrow().trims_front.then(VecDeque::new),
            right_stamps: right.node.borrow().trims_front.then(VecDeque::new),
            unindexed: true,
            right_order: Some(0),
            right_first: 0,
            removed: 0..0,
            buckets: Vec::new(),
            partial: false,
            marks: Marks::default(),
            scratch: Vec::new(),
            stamps: Vec::new(),
        };
        let parents = vec![Rc::clone(&self.node), Rc::clone(&right.node)];
        self.engine.derive(parents, schema, false, Box::new(op))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use proptest::prelude::*;

    use super::{NO_ROW, partition_near, stamp_match};

    proptest! {
        /// A search from any hint finds what a bisection of the whole bucket finds.
        #[test]
        fn searches_near_a_hint_find_the_partition_point(
            mut stamps in proptest::collection::vec(0u64..20, 0..40),
            hint in 0usize..50,
            t in 0u64..21,
        ) {
            stamps.sort_unstable();
            let rows: VecDeque<(u64, u64)> = stamps.iter().map(|&s| (s, 0)).collect();
            // `(t, NO_ROW)` parts the stamps up to `t`, `(t, 0)` those below it.
            for (key, up_to) in [(NO_ROW, true), (0, false)] {
                prop_assert_eq!(
                    partition_near(&rows, hint, (t, key)),
                    rows.partition_point(|&(s, _)| s < t || (up_to && s == t))
                );
            }
        }
    }

    #[test]
    fn stamp_matches_parse_as_deephaven_writes_them() {
        let ok = |op, s: &str| stamp_match(op, s).unwrap();
        assert_eq!(ok("aj", "Ts"), ("Ts".into(), "Ts".into(), false));
        assert_eq!(ok("aj", "Ts >= RTs"), ("Ts".into(), "RTs".into(), false));
        assert_eq!(ok("aj", "Ts>RTs"), ("Ts".into(), "RTs".into(), true));
        assert_eq!(ok("raj", "Ts <= RTs"), ("Ts".into(), "RTs".into(), false));
        assert_eq!(ok("raj", "Ts<RTs"), ("Ts".into(), "RTs".into(), true));
        for (op, bad) in [
            ("aj", "Ts <= RTs"),
            ("aj", "Ts < RTs"),
            ("aj", "Ts = RTs"),
            ("raj", "Ts >= RTs"),
            ("aj", ">= RTs"),
            ("aj", "Ts >="),
            ("aj", "Ts >== RTs"),
        ] {
            let e = stamp_match(op, bad).unwrap_err().to_string();
            assert!(e.contains(op) && e.contains(bad), "{bad}: {e}");
        }
    }
}
