//! `aj`'s merge ([`AsOfJoin::merge_rows`]): left rows in time order against a right side in time
//! order, one pass over both as pandas' `merge_asof`, keeping per key id the latest right row
//! passed; at the build it is also what indexes the right side (its keys numbered, its order
//! checked, each key's last row found). Then the tails of the rows it matched
//! ([`AsOfJoin::merge_tails`]).

use std::borrow::Cow;
use std::collections::VecDeque;

use super::{AsOfJoin, BLOCK, Bucket, stamp_keys};
use crate::column::{Chunked, Column};
use crate::ops::key_ids::KeyIds;
use crate::ops::row_matches::NARROW_NONE;
use crate::table::TableData;

/// How the merge reads a side's keys.
enum Keys<'a> {
    /// One dictionary-coded string key: its codes, read in place of ids (no pass a block to
    /// look them up), and the id of each code at `code + 1` (every code numbered).
    Coded(&'a Chunked<u32>, Vec<u32>),
    /// The ids [`KeyIds`] gives.
    Ids,
}

impl<'a> Keys<'a> {
    /// Codes for a side of one dictionary-coded key (of at most `most` codes), else ids.
    fn of(ids: &mut KeyIds, data: &'a TableData, columns: &[usize], most: usize) -> Self {
        match ids.code_ids(data, columns, most) {
            Some((codes, table)) => Keys::Coded(codes, table),
            None => Keys::Ids,
        }
    }

    /// The keys of rows from `start`, at most `most` (rows that are there): a dictionary's
    /// codes in place, to the end of `start`'s chunk (fewer where it ends first); else the ids
    /// of all `most` into `buf`, which comes back as the run.
    fn run(
        &self,
        ids: &mut KeyIds,
        (data, columns): (&TableData, &[usize]),
        start: usize,
        most: usize,
        mut buf: Vec<u32>,
    ) -> Cow<'a, [u32]> {
        match self {
            Keys::Coded(codes, _) => {
                let codes: &'a Chunked<u32> = codes;
                Cow::Borrowed(codes.run_at(start, most))
            }
            Keys::Ids => {
                ids.ids_or_single(data, columns, start, most, &mut buf);
                Cow::Owned(buf)
            }
        }
    }

    /// The id of key `k`.
    fn id(&self, k: u32) -> u32 {
        match self {
            Keys::Coded(_, table) => code_id(table, k),
            Keys::Ids => k,
        }
    }
}

/// The slot of `code` in a table by code (each code's at `code + 1`; the null code's, `u32::MAX`,
/// at 0): [`Keys::Coded`]'s ids, and the merge's latest rows when both sides are coded.
#[inline(always)]
fn code_slot(code: u32) -> u32 {
    code.wrapping_add(1)
}

/// The id of `code` in `table` (at its [`code_slot`]).
#[inline(always)]
fn code_id(table: &[u32], code: u32) -> u32 {
    table
        .get(code_slot(code) as usize)
        .copied()
        .unwrap_or(u32::MAX)
}

/// A stamp's order key ([`stamp_keys`]) as the `i64` of the same order (its sign bit flipped):
/// what the merge compares, so that a column of 64-bit integers, whose values are already
/// those `i64`s, is read in place ([`stamp_run`]).
fn as_ordered(key: u64) -> i64 {
    (key ^ (1 << 63)) as i64
}

/// The order key ([`stamp_keys`]) of an [`as_ordered`] stamp.
fn order_key(stamp: i64) -> u64 {
    (stamp as u64) ^ (1 << 63)
}

/// The stamps of rows from `start`, at most `most`, as [`as_ordered`] values: a column of
/// 64-bit integers (times, timestamps) in place, to the end of `start`'s chunk; any other
/// converted into `buf` (through `keys`, their order keys), which comes back as the run.
fn stamp_run<'a>(
    column: &'a Column,
    (start, most): (usize, usize),
    mut buf: Vec<i64>,
    keys: &mut Vec<u64>,
) -> Cow<'a, [i64]> {
    match column {
        Column::I64(c) | Column::Timestamp(c) | Column::Time(c) => {
            Cow::Borrowed(c.run_at(start, most))
        }
        _ => {
            let count = most.min(column.len().saturating_sub(start));
            stamp_keys(column, start, count, keys);
            buf.clear();
            buf.extend(keys.iter().map(|&k| as_ordered(k)));
            Cow::Owned(buf)
        }
    }
}

/// A run's buffer back (empty) to be filled again, if it was one.
fn reuse<T: Clone>(run: &mut Cow<'_, [T]>) -> Vec<T> {
    match std::mem::take(run) {
        Cow::Owned(mut buf) => {
            buf.clear();
            buf
        }
        Cow::Borrowed(_) => Vec::new(),
    }
}

/// Why [`merge_block`] stopped.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// Every left row given is matched.
    Done,
    /// The next left row may pass right rows not read yet.
    Read,
    /// The next left row is before the one before it.
    OutOfOrder,
}

/// The right rows the merge has read and not yet passed: the stamps ([`as_ordered`]) and
/// keys ([`Keys`]) of rows `next - stamps.len() .. next`, in place where the columns hold them
/// so, passed up to `at`, the first's offset from the base `from`.
struct Read<'a> {
    stamps: Cow<'a, [i64]>,
    keys: Cow<'a, [u32]>,
    at: usize,
    next: usize,
    from: u32,
    /// The last stamp read (the build's order check).
    last: i64,
}

/// `run` cut to its first `n` values.
fn cut<T: Clone>(run: &mut Cow<'_, [T]>, n: usize) {
    match run {
        Cow::Borrowed(values) => *values = values.get(..n).unwrap_or(values),
        Cow::Owned(values) => values.truncate(n),
    }
}

/// Merges left rows (`stamps`, `keys`) against the rows `read`: per left row, the right rows up
/// to its stamp (`STRICT`: below it) each become the latest of their key (`best`, by id: `left`
/// and `right` give a side's key's), and its match (into `out`) is its key's latest. Stops at a
/// left row below `prev` (the last stamp merged), or at one that may pass rows not read yet
/// (unless `last_read`); returns the rows matched.
fn merge_block<const STRICT: bool>(
    (stamps, ids, out): (&[i64], &[u32], &mut [u32]),
    read: &mut Read<'_>,
    (last_read, prev): (bool, &mut i64),
    best: &mut [u32],
    (left, right_id): (impl Fn(u32) -> u32, impl Fn(u32) -> u32),
) -> (usize, Stop) {
    // (Cut to one length: no bounds checks in the loop.)
    let n = stamps.len().min(ids.len()).min(out.len());
    let (stamps, ids, out) = (&stamps[..n], &ids[..n], &mut out[..n]);
    let m = read.stamps.len().min(read.keys.len());
    let (right, right_ids) = (&read.stamps[..m], &read.keys[..m]);
    let (mut a, mut p, from) = (read.at, *prev, read.from);
    let mut stop = (n, Stop::Done);
    for i in 0..n {
        let t = stamps[i];
        if t < p {
            stop = (i, Stop::OutOfOrder);
            break;
        }
        p = t;
        while a < m && if STRICT { right[a] < t } else { right[a] <= t } {
            if let Some(b) = best.get_mut(right_id(right_ids[a]) as usize) {
                *b = from.wrapping_add(a as u32);
            }
            a += 1;
        }
        if a == m && !last_read {
            stop = (i, Stop::Read);
            break;
        }
        out[i] = best
            .get(left(ids[i]) as usize)
            .copied()
            .unwrap_or(NARROW_NONE);
    }
    (read.at, *prev) = (a, p);
    stop
}

/// Grows `best` to one entry per key id (at least one: with no key columns every row's id is
/// 0, and none is numbered).
fn grow(best: &mut Vec<u32>, keys: usize) {
    if best.len() < keys.max(1) {
        best.resize(keys.max(1), NARROW_NONE);
    }
}

/// What [`AsOfJoin::merge_rows`] matched: the left rows merged (`rows`), their matches as
/// offsets (every row's when `keep`; otherwise a block's while it is gathered, then cleared: the
/// matches are not kept, [`AsOfJoin::unkept`]), and the runs of rows (from the first merged) of
/// the blocks that hold a row matched by none, for [`AsOfJoin::merge_tails`].
pub(super) struct Merged {
    pub(super) keep: bool,
    pub(super) matches: Vec<u32>,
    pub(super) rows: usize,
    pub(super) unmatched: Vec<std::ops::Range<usize>>,
}

impl AsOfJoin {
    /// `aj`'s merge: the matches of left rows `start .. start + count` (offsets from `base`)
    /// into `merged`, up to the first row out of time order, from one pass over the right rows
    /// in time order keeping, per key id, the latest right row passed. At the build
    /// ([`AsOfJoin::unindexed`]) it reads every right row, numbering their keys, checking their
    /// order and indexing each key's last row (partial buckets); `false` (nothing matched, nothing
    /// indexed) when one is out of time order. The matched rows' right columns are appended to
    /// `added`.
    pub(super) fn merge_rows(
        &mut self,
        left: &TableData,
        right: &TableData,
        start: usize,
        (base, merged): (u64, &mut Merged),
        (count, added): (usize, &mut [Column]),
    ) -> bool {
        let build = self.unindexed;
        // Each block's right columns are gathered while its matches are in cache (offset `o`
        // is the right's position `o - (first - base)`), and cut back if the merge is undone.
        let gather_at = (right.first_key.wrapping_sub(base), u64::from(NARROW_NONE));
        let added_len: Vec<usize> = added.iter().map(Column::len).collect();
        // (The right side first: the left's dictionary is numbered only if the right's is, so
        // no key of a dictionary read by ids gets an id it is not in a row for.)
        let mut right_keys = Keys::of(&mut self.ids, right, &self.right_keys, right.len());
        let mut left_keys = match right_keys {
            Keys::Coded(..) => Keys::of(&mut self.ids, left, &self.left_keys, count),
            Keys::Ids => Keys::Ids,
        };
        if matches!(left_keys, Keys::Ids) || matches!(right_keys, Keys::Ids) {
            (left_keys, right_keys) = (Keys::Ids, Keys::Ids);
        }
        // Per key, the latest right row passed (an offset from `base`): by id, or, both sides
        // coded, by the right's code slot (`code + 1`; one past the last: none), the left's
        // codes mapped to those slots.
        let slots = match (&left_keys, &right_keys) {
            (Keys::Coded(_, left), Keys::Coded(_, right)) => {
                let mut slot_of = vec![u32::MAX; self.ids.len()];
                for (s, &id) in (0..).zip(right) {
                    if let Some(slot) = slot_of.get_mut(id as usize) {
                        *slot = s;
                    }
                }
                let none = u32::try_from(right.len()).unwrap_or(u32::MAX);
                let of = |&id: &u32| slot_of.get(id as usize).copied().filter(|&s| s != u32::MAX);
                Some(
                    left.iter()
                        .map(|id| of(id).unwrap_or(none))
                        .collect::<Vec<u32>>(),
                )
            }
            _ => None,
        };
        let mut best = match &right_keys {
            Keys::Coded(_, right) if slots.is_some() => vec![NARROW_NONE; right.len() + 1],
            _ => vec![NARROW_NONE; self.ids.len().max(1)],
        };
        let right_slot = |k: u32| if slots.is_some() { code_slot(k) } else { k };
        let mut read = Read {
            stamps: Cow::Borrowed(&[]),
            keys: Cow::Borrowed(&[]),
            at: 0,
            next: 0,
            from: 0,
            last: i64::MIN,
        };
        let (mut stamps, mut keys) = (Cow::Borrowed(&[][..]), Cow::Borrowed(&[][..]));
        let (left_stamp, mut prev) = (&left.columns[self.left_stamp], i64::MIN);
        let kept_left = self.left_ids.as_ref().map(VecDeque::len);
        let mut ordered = true;
        // A block is the left rows from `block` in one chunk of both the stamps and the keys
        // (read in place), at most `BLOCK`; its matches are written in place too.
        let mut block = 0;
        'blocks: while block < count {
            let most = BLOCK.min(count - block);
            let run = (start + block, most);
            stamps = stamp_run(left_stamp, run, reuse(&mut stamps), &mut self.stamps);
            let side = (left, &self.left_keys[..]);
            let (at, most) = (start + block, stamps.len());
            keys = left_keys.run(&mut self.ids, side, at, most, reuse(&mut keys));
            let n = stamps.len().min(keys.len());
            if n == 0 {
                // (Never: the rows are there.) The rest are searched.
                break;
            }
            if slots.is_none() {
                grow(&mut best, self.ids.len());
            }
            let matches = &mut merged.matches;
            let old = matches.len();
            matches.resize(old + n, NARROW_NONE);
            let out = &mut matches[old..];
            let mut i = 0;
            let stop = loop {
                let last_read = (read.next == right.len(), &mut prev);
                let rows = (&stamps[i..n], &keys[i..n], &mut out[i..n]);
                let (done, stop) = match (&slots, self.strict) {
                    (Some(l), true) => {
                        let by = (|k| code_id(l, k), code_slot);
                        merge_block::<true>(rows, &mut read, last_read, &mut best, by)
                    }
                    (Some(l), false) => {
                        let by = (|k| code_id(l, k), code_slot);
                        merge_block::<false>(rows, &mut read, last_read, &mut best, by)
                    }
                    (.., true) => {
                        let by = (|k| k, |k| k);
                        merge_block::<true>(rows, &mut read, last_read, &mut best, by)
                    }
                    (.., false) => {
                        let by = (|k| k, |k| k);
                        merge_block::<false>(rows, &mut read, last_read, &mut best, by)
                    }
                };
                i += done;
                if stop != Stop::Read {
                    break stop;
                }
                if !self.read_right(right, (base, &right_keys), &mut read, build) {
                    ordered = false;
                    break 'blocks;
                }
                if slots.is_none() {
                    grow(&mut best, self.ids.len());
                }
            };
            matches.truncate(old + i);
            super::gather(added, &self.added, right, gather_at, &matches[old..]);
            if matches[old..].contains(&NARROW_NONE) {
                merged.unmatched.push(merged.rows..merged.rows + i);
            }
            merged.rows += i;
            if !merged.keep {
                matches.clear();
            }
            if let Some(kept) = &mut self.left_ids {
                kept.extend(keys[..i].iter().map(|&k| left_keys.id(k)));
            }
            if stop == Stop::OutOfOrder {
                break;
            }
            block += n;
        }
        // The build reads the right rows after the last left row too: their keys' latest.
        while build && ordered {
            let from = read.from;
            for (a, &k) in read.keys.iter().enumerate().skip(read.at) {
                if let Some(b) = best.get_mut(right_slot(k) as usize) {
                    *b = from.wrapping_add(a as u32);
                }
            }
            if read.next == right.len() {
                break;
            }
            ordered = self.read_right(right, (base, &right_keys), &mut read, build);
            if slots.is_none() {
                grow(&mut best, self.ids.len());
            }
        }
        let keys = self.ids.len().max(1);
        if self.buckets.len() < keys {
            self.buckets.resize_with(keys, Bucket::default);
            self.marks.of.resize(keys, super::Change::None);
        }
        if !ordered {
            // Undone: the right side is indexed whole and every left row searched.
            merged.matches.clear();
            merged.unmatched.clear();
            merged.rows = 0;
            for (column, &len) in added.iter_mut().zip(&added_len) {
                column.truncate(len);
            }
            if let (Some(kept), Some(len)) = (&mut self.left_ids, kept_left) {
                kept.truncate(len);
            }
            if build {
                // (The build's reads kept them; after it, they are the index's.)
                self.forget_kept_right();
            }
            return false;
        }
        if build {
            // Each key's latest right row is its bucket's back (partial).
            let backs: Vec<(usize, u32)> = match &right_keys {
                Keys::Coded(_, ids) if slots.is_some() => ids
                    .iter()
                    .zip(&best)
                    .map(|(&id, &o)| (id as usize, o))
                    .collect(),
                _ => best.iter().copied().enumerate().collect(),
            };
            let (column, mut one) = (&right.columns[self.right_stamp], Vec::with_capacity(1));
            for (id, o) in backs {
                if let Some(bucket) = self.buckets.get_mut(id)
                    && o != NARROW_NONE
                {
                    let key = base + u64::from(o);
                    stamp_keys(column, (key - right.first_key) as usize, 1, &mut one);
                    bucket
                        .rows
                        .push_back((one.first().copied().unwrap_or(0), key));
                }
            }
            self.right_order = Some(order_key(read.last));
            (self.unindexed, self.partial) = (false, true);
        }
        #[cfg(test)]
        super::MERGED.with(|m| m.set(m.get() + merged.rows));
        true
    }

    /// Reads the next block of right rows into `read`: their stamps and keys (at the build their
    /// ids and stamps also kept, when the side keeps them); `false` when the build finds one out
    /// of time order.
    fn read_right<'a>(
        &mut self,
        right: &'a TableData,
        (base, keys): (u64, &Keys<'a>),
        read: &mut Read<'a>,
        build: bool,
    ) -> bool {
        // In place, to the end of a chunk of both the stamps and the keys, at most `BLOCK`.
        let most = BLOCK.min(right.len() - read.next);
        let column = &right.columns[self.right_stamp];
        let run = (read.next, most);
        read.stamps = stamp_run(column, run, reuse(&mut read.stamps), &mut self.stamps);
        let side = (right, &self.right_keys[..]);
        let most = read.stamps.len();
        read.keys = keys.run(&mut self.ids, side, read.next, most, reuse(&mut read.keys));
        let count = read.stamps.len().min(read.keys.len());
        if count == 0 {
            // (Never: the rows are there.) Undone, as for rows out of order.
            return false;
        }
        cut(&mut read.stamps, count);
        let from = (right.first_key + read.next as u64).saturating_sub(base);
        read.from = u32::try_from(from).unwrap_or(NARROW_NONE);
        (read.at, read.next) = (0, read.next + count);
        if !build {
            return true;
        }
        let stamps = &read.stamps;
        let sorted = stamps.first().is_none_or(|&f| f >= read.last)
            && (stamps.iter().zip(stamps.iter().skip(1))).fold(true, |s, (a, b)| s & (a <= b));
        read.last = stamps.last().copied().unwrap_or(read.last);
        if let Some(kept) = &mut self.right_ids {
            kept.extend(read.keys.iter().map(|&k| keys.id(k)));
        }
        if let Some(kept) = &mut self.right_stamps {
            kept.extend(stamps.iter().map(|&s| order_key(s)));
        }
        sorted
    }

    /// Adds the left rows the merge matched (`merged`: rows from `start`, output keys from
    /// `first_out`) whose match an append could change to their buckets' tails (`aj`'s
    /// [`AsOfJoin::in_tail`]): the rows of keys with no right row (unmatched, in the runs
    /// the merge marked), and those at or after their bucket's back row (a suffix of the rows,
    /// which are in time order).
    pub(super) fn merge_tails(
        &mut self,
        left: &TableData,
        start: usize,
        merged: &Merged,
        (first_out, first_live): (u64, u64),
    ) {
        let strict = self.strict;
        let tail_from = |b: &Bucket| {
            let &(last, _) = b.rows.back()?;
            if strict {
                last.checked_add(1)
            } else {
                Some(last)
            }
        };
        let (mut ids, mut stamps) = (Vec::new(), std::mem::take(&mut self.stamps));
        let rows = merged.rows;
        if self.buckets.iter().any(|b| b.rows.is_empty()) {
            // (A key with no right row matches none: its rows are in the runs marked.)
            for run in &merged.unmatched {
                let (block, n) = (run.start, run.len());
                (self.ids).ids_or_single(left, &self.left_keys, start + block, n, &mut ids);
                for (p, &id) in (block..).zip(&ids) {
                    if let Some(bucket) = self.buckets.get_mut(id as usize)
                        && bucket.rows.is_empty()
                    {
                        bucket.add_to_tail(first_out + p as u64, first_live);
                    }
                }
            }
        }
        // Rows before the least stamp a tail starts at are in none: walked back to it.
        let left_stamp = &left.columns[self.left_stamp];
        let mut from = rows;
        if let Some(least) = self.buckets.iter().filter_map(tail_from).min() {
            while from > 0 {
                let n = BLOCK.min(from);
                stamp_keys(left_stamp, start + from - n, n, &mut stamps);
                let below = stamps.partition_point(|&t| t < least);
                from -= n - below;
                if below > 0 {
                    break;
                }
            }
        }
        for block in (from..rows).step_by(BLOCK) {
            let n = BLOCK.min(rows - block);
            stamp_keys(left_stamp, start + block, n, &mut stamps);
            (self.ids).ids_or_single(left, &self.left_keys, start + block, n, &mut ids);
            for (p, (&t, &id)) in (block..).zip(stamps.iter().zip(&ids)) {
                if let Some(bucket) = self.buckets.get_mut(id as usize)
                    && tail_from(bucket).is_some_and(|f| t >= f)
                {
                    bucket.add_to_tail(first_out + p as u64, first_live);
                }
            }
        }
        self.stamps = stamps;
    }
}
