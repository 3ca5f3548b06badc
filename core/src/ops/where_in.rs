//! `whereIn` and `whereNotIn`: the left rows whose key tuple is (or is not) among the right
//! table's, live on both sides.
//!
//! As in Deephaven, the right table stands for its distinct tuples (`selectDistinct`): over a blink
//! right table, every tuple ever seen. Nulls are values: a null key matches a null key. The right
//! side's tuples are numbered by a [`KeyIds`] (shared with `naturalJoin`), each id with a count of
//! right rows; the left side's are only looked up ([`KeyIds::find`]), never numbered, so left
//! tuples the right never had (a stream of unique ids) hold no memory once their rows are gone.
//! Each left row keeps its tuple's id (4 bytes), or [`KeyIds::NONE`]. A cycle then costs its
//! change:
//! - left rows added are looked up and filtered, rows removed from the front dropped
//!   (`Update::Fifo`, the result in the parent's order as `where`'s);
//! - when the right table changes, only the ids whose membership flipped (a first row added, a
//!   last row removed) matter, and, when the right gained tuples, the left rows without an id
//!   (looked up again: one of them may now have one). If no left row has a flipped or new id,
//!   the result is untouched; otherwise the kept ids are scanned (no hashing) and the result
//!   rewritten from the parent's rows.
//!
//! Invariant: `left_ids` has, in order, the id of every parent row's tuple, or `NONE` when the
//! right never had it; `unknown` counts the `NONE`s; `kept` the parent key of every result row, in
//! order; `right_count[id]` the right rows with tuple `id` (every one ever seen, over a blink right
//! table).

use std::rc::Rc;

use super::Operator;
use super::key_ids::{KeyIds, match_columns};
use crate::Result;
use crate::column::Chunked;
use crate::table::{Node, Table, TableData, Update};

struct WhereIn {
    /// Keep rows whose tuple is in the right table (`whereIn`), or those whose is not.
    inclusion: bool,
    left_keys: Vec<usize>,
    right_keys: Vec<usize>,
    ids: KeyIds,
    left_ids: Chunked<u32>,
    kept: Chunked<u64>,
    /// The id of every right row (none over a blink right table: rows are never taken back).
    right_ids: Chunked<u32>,
    right_count: Vec<u32>,
    /// Left rows whose tuple has no id (the right never had it when they were looked up).
    unknown: usize,
    /// Per id, whether its membership flipped this cycle (all `false` between cycles).
    marked: Vec<bool>,
    scratch: Vec<u32>,
}

impl WhereIn {
    fn passes(&self, id: u32) -> bool {
        let member = self.right_count.get(id as usize).is_some_and(|&n| n > 0);
        member == self.inclusion
    }

    /// Counts right rows `start .. start + count`; marks the ids that became members.
    fn count_right(&mut self, right: &Node, start: usize, count: usize, flipped: &mut Vec<u32>) {
        let keys = self.right_keys.clone();
        self.ids
            .ids(&right.data, &keys, start, count, &mut self.scratch);
        self.right_count.resize(self.ids.len(), 0);
        for &id in &self.scratch {
            let n = &mut self.right_count[id as usize];
            *n += 1;
            if *n == 1 {
                flipped.push(id);
            }
        }
        if !right.blink {
            self.right_ids.extend_from_slice(&self.scratch);
        }
    }

    /// Takes back the `count` oldest right rows; marks the ids that stopped being members.
    fn uncount_right(&mut self, count: usize, flipped: &mut Vec<u32>) {
        let mut leaving = Vec::with_capacity(count);
        self.right_ids.copy_range(0, count, &mut leaving);
        self.right_ids.pop_front(count);
        for id in leaving {
            let n = &mut self.right_count[id as usize];
            *n -= 1;
            if *n == 0 {
                flipped.push(id);
            }
        }
    }

    /// Applies the right table's change; returns the ids whose membership flipped.
    fn right_change(&mut self, right: &Node) -> Vec<u32> {
        let mut flipped = Vec::new();
        let len = right.data.len();
        match &right.update {
            None => {}
            Some(Update::Keyed { .. }) if right.blink => {
                self.count_right(right, 0, len, &mut flipped)
            }
            Some(Update::Fifo { added, .. }) if right.blink => {
                self.count_right(right, len - added, *added, &mut flipped)
            }
            Some(Update::Fifo { removed, added }) => {
                self.uncount_right(*removed, &mut flipped);
                self.count_right(right, len - added, *added, &mut flipped);
            }
            Some(Update::Keyed { .. }) => {
                let all = self.right_ids.len();
                self.uncount_right(all, &mut flipped);
                self.count_right(right, 0, len, &mut flipped);
            }
        }
        // An id that flipped twice (out and back in) did not change.
        flipped.sort_unstable();
        let mut changed = Vec::with_capacity(flipped.len());
        for run in flipped.chunk_by(|a, b| a == b) {
            if run.len() % 2 == 1 {
                changed.push(run[0]);
            }
        }
        changed
    }

    /// Looks up and filters parent rows `start .. start + count`, appending the kept ones.
    fn add_left(
        &mut self,
        left: &TableData,
        start: usize,
        count: usize,
        out: &mut TableData,
    ) -> usize {
        self.look_up_left(left, start, count);
        let picks: Vec<u32> = (0..count as u32)
            .filter(|&i| self.passes(self.scratch[i as usize]))
            .collect();
        let first = left.first_key + start as u64;
        for &i in &picks {
            self.kept.push(first + u64::from(i));
        }
        for (o, c) in out.columns.iter_mut().zip(&left.columns) {
            o.extend_gather(c, start, count, &picks);
        }
        picks.len()
    }

    /// Looks up the ids of parent rows `start .. start + count` and appends them to `left_ids`.
    fn look_up_left(&mut self, left: &TableData, start: usize, count: usize) {
        let keys = self.left_keys.clone();
        self.ids.find(left, &keys, start, count, &mut self.scratch);
        self.unknown += self
            .scratch
            .iter()
            .filter(|&&id| id == KeyIds::NONE)
            .count();
        self.left_ids.extend_from_slice(&self.scratch);
    }

    /// Drops the `count` oldest entries of `left_ids` (rows that left the parent's front).
    fn forget_left(&mut self, count: usize) {
        let count = count.min(self.left_ids.len());
        let gone: usize = self
            .left_ids
            .slices_range(0, count)
            .map(|s| s.iter().filter(|&&id| id == KeyIds::NONE).count())
            .sum();
        self.unknown -= gone.min(self.unknown);
        self.left_ids.pop_front(count);
    }

    /// Looks up again the first `rows` parent rows that had no id, now that the right has new
    /// tuples; whether one of them got an id.
    fn resolve_unknown(&mut self, left: &TableData, rows: usize) -> bool {
        if self.unknown == 0 {
            return false;
        }
        let mut positions = Vec::new();
        let mut position = 0usize;
        for slice in self.left_ids.slices_range(0, rows) {
            for &id in slice {
                if id == KeyIds::NONE {
                    positions.push(position);
                }
                position += 1;
            }
        }
        let keys = self.left_keys.clone();
        let mut found = false;
        let mut id = Vec::with_capacity(1);
        for p in positions {
            self.ids.find(left, &keys, p, 1, &mut id);
            if let Some(&i) = id.first().filter(|&&i| i != KeyIds::NONE) {
                if let Some(slot) = self.left_ids.get_mut(p) {
                    *slot = i;
                }
                self.unknown -= 1;
                found = true;
            }
        }
        found
    }

    /// Filters every parent row again, from the kept ids, into a fresh result.
    fn refilter(&mut self, left: &TableData, out: &mut TableData) -> Result<Update> {
        let mut picks = Vec::new();
        let mut position = 0u32;
        for slice in self.left_ids.slices() {
            for &id in slice {
                if self.passes(id) {
                    picks.push(position);
                }
                position += 1;
            }
        }
        self.kept.clear();
        for &p in &picks {
            self.kept.push(left.first_key + u64::from(p));
        }
        out.rewrite(|fresh| {
            for (o, c) in fresh.columns.iter_mut().zip(&left.columns) {
                o.extend_gather(c, 0, left.len(), &picks);
            }
            Ok(())
        })
    }

    /// Whether ids of right tuples long gone outnumber the rows by far (a ring's keys): then
    /// both sides are looked up again, which costs the rows of both, so the left's count too
    /// (the restarts stay amortised over the right tuples numbered). Not over a blink right
    /// table, whose every tuple ever seen counts.
    fn holds_many_dead_keys(&self, left_rows: usize, right: &Node) -> bool {
        let live = 2 * right.data.len() + left_rows;
        !right.blink && self.ids.len() > 1_024 && self.ids.len() > live
    }

    fn restart(&mut self, left: &TableData, right: &Node, out: &mut TableData) -> Result<Update> {
        self.ids.clear();
        self.right_count.clear();
        self.right_ids.clear();
        self.marked.clear();
        self.count_right(right, 0, right.data.len(), &mut Vec::new());
        self.relook_left(left);
        self.refilter(left, out)
    }

    /// Whether one of the first `rows` parent rows has an id in `flipped`. The marks are kept in
    /// one buffer across cycles and cleared after.
    fn holds_flipped(&mut self, flipped: &[u32], rows: usize) -> bool {
        self.marked.resize(self.ids.len(), false);
        for &id in flipped {
            self.marked[id as usize] = true;
        }
        let marked = &self.marked;
        let found = self.left_ids.slices_range(0, rows).any(|s| {
            s.iter()
                .any(|&id| marked.get(id as usize).copied().unwrap_or(false))
        });
        for &id in flipped {
            self.marked[id as usize] = false;
        }
        found
    }

    /// Looks up every parent row again.
    fn relook_left(&mut self, left: &TableData) {
        self.left_ids.clear();
        self.unknown = 0;
        self.look_up_left(left, 0, left.len());
    }
}

impl Operator for WhereIn {
    fn initialize(&mut self, inputs: &[&Node], out: &mut TableData) -> Result<()> {
        let (left, right) = (&inputs[0].data, inputs[1]);
        self.count_right(right, 0, right.data.len(), &mut Vec::new());
        self.add_left(left, 0, left.len(), out);
        Ok(())
    }

    fn process(&mut self, inputs: &[&Node], out: &mut TableData) -> Result<Option<Update>> {
        let (left, right) = (inputs[0], inputs[1]);
        let ids_before = self.ids.len();
        let flipped = self.right_change(right);
        let (removed, added) = match &left.update {
            None => (0, 0),
            Some(Update::Fifo { removed, added }) => (*removed, *added),
            Some(Update::Keyed { .. }) => {
                self.relook_left(&left.data);
                return self.refilter(&left.data, out).map(Some);
            }
        };
        // Rows that left the parent's front leave the result's.
        self.forget_left(removed);
        let new_first = left.data.first_key;
        let mut gone = 0;
        while self.kept.get(gone).is_some_and(|k| k < new_first) {
            gone += 1;
        }
        self.kept.pop_front(gone);
        out.pop_front(gone);
        if self.holds_many_dead_keys(left.data.len(), right) {
            return self.restart(&left.data, right, out).map(Some);
        }
        let old = self.left_ids.len();
        let start = left.data.len() - added;
        // Rows without an id may have one now (the right gained tuples); they are affected.
        let resolved = ids_before < self.ids.len() && self.resolve_unknown(&left.data, old);
        let affected = resolved || (!flipped.is_empty() && self.holds_flipped(&flipped, old));
        let kept = self.add_left(&left.data, start, added, out);
        if affected {
            return self.refilter(&left.data, out).map(Some);
        }
        Ok((gone > 0 || kept > 0).then_some(Update::Fifo {
            removed: gone,
            added: kept,
        }))
    }

    fn state_bytes(&self) -> (usize, usize) {
        let (mut used, mut reserved) = self.ids.bytes();
        for c in [&self.left_ids, &self.right_ids] {
            used += c.bytes_used();
            reserved += c.bytes_reserved();
        }
        used += self.kept.bytes_used() + self.right_count.len() * 4;
        reserved += self.kept.bytes_reserved()
            + self.right_count.capacity() * 4
            + self.marked.capacity()
            + self.scratch.capacity() * 4;
        (used, reserved)
    }

    fn keeps_rows_in_parent_order(&self) -> bool {
        true
    }
}

impl Table {
    fn where_in_table(&self, right: &Table, on: &[&str], inclusion: bool) -> Result<Table> {
        let what = if inclusion { "whereIn" } else { "whereNotIn" };
        let (left_keys, right_keys, types) =
            match_columns(what, &self.schema(), &right.schema(), on)?;
        if left_keys.is_empty() {
            return Err(crate::Error::Invalid(format!(
                "{what}: no column to match given"
            )));
        }
        let op = WhereIn {
            inclusion,
            ids: KeyIds::new(&types, false),
            left_keys,
            right_keys,
            left_ids: Chunked::new(),
            kept: Chunked::new(),
            right_ids: Chunked::new(),
            right_count: Vec::new(),
            unknown: 0,
            marked: Vec::new(),
            scratch: Vec::new(),
        };
        let parents = vec![Rc::clone(&self.node), Rc::clone(&right.node)];
        self.engine
            .derive(parents, self.schema(), self.is_blink(), Box::new(op))
    }

    /// The rows whose `on` tuple (`"Key"` or `"Key = RightKey"`) is among `right`'s (Deephaven's
    /// `whereIn`), live on both sides; over a blink `right`, among every tuple it ever had.
    pub fn where_in(&self, right: &Table, on: &[&str]) -> Result<Table> {
        self.where_in_table(right, on, true)
    }

    /// The rows whose `on` tuple is not among `right`'s (Deephaven's `whereNotIn`).
    pub fn where_not_in(&self, right: &Table, on: &[&str]) -> Result<Table> {
        self.where_in_table(right, on, false)
    }
}
