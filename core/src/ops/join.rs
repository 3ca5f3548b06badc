//! `naturalJoin`: each left row with the columns of the right row whose keys match, or nulls where
//! none does; more than one right row for a key is an error (Deephaven's semantics).
//!
//! Both sides' key tuples are coded and numbered by one [`KeyIds`], so a key has one id whichever
//! side it came from. The operator keeps each left row's key id, each
//! right row's key id, and per id the right row that has it. A cycle then costs its change:
//! - left rows added at the back are looked up, and rows removed from the front dropped;
//! - when the right table changes, the ids whose right row changed (a row added, removed or
//!   modified) are marked, and only the left rows with a marked id have their right columns
//!   rewritten in place (a scan of the kept ids, 4 bytes a row, with no hashing).
//!
//! The update is `Fifo` when no existing row changed, so row-wise tables and aggregations below
//! stay incremental. A keyed left table (an aggregation's result, small) is joined again whole.
//!
//! Invariant: `left_ids` has one id per output row, in order; `right_ids` one per right row; and
//! `right_of[id]` is the key of the right row whose key tuple is `id`, or [`NO_ROW`].

use std::rc::Rc;

use super::Operator;
use super::key_ids::{KeyIds, match_columns};
use crate::column::{Chunked, Value};
use crate::table::{Node, Schema, Table, TableData, Update};
use crate::{Error, Result};

/// No right row has this key.
const NO_ROW: u64 = u64::MAX;

pub(super) struct NaturalJoin {
    /// The join's name in errors (`naturalJoin`, `exactJoin`).
    pub(super) op: &'static str,
    pub(super) left_keys: Vec<usize>,
    right_keys: Vec<usize>,
    /// Right columns to add, by index.
    added: Vec<usize>,
    /// One coder per key column for both sides, so equal values get equal ids.
    ids: KeyIds,
    pub(super) left_ids: Chunked<u32>,
    right_ids: Chunked<u32>,
    pub(super) right_of: Vec<u64>,
    scratch: Vec<u32>,
}

impl NaturalJoin {
    /// Key ids of rows `start .. start + count` of `data`'s `columns`, into `self.scratch`.
    fn key_ids(&mut self, data: &TableData, columns: &[usize], start: usize, count: usize) {
        self.ids.ids(data, columns, start, count, &mut self.scratch);
        self.right_of.resize(self.ids.len(), NO_ROW);
    }

    fn duplicate(&self, right: &TableData, position: usize) -> Error {
        let shown: Vec<String> = self
            .right_keys
            .iter()
            .map(|&c| {
                right.columns[c]
                    .get(position)
                    .unwrap_or(Value::Null)
                    .to_string()
            })
            .collect();
        Error::Invalid(format!(
            "{}: the right table has more than one row for key [{}]",
            self.op,
            shown.join(", ")
        ))
    }

    /// Indexes every right row again; returns the ids whose right row is not the one it was.
    fn index_right(&mut self, right: &TableData) -> Result<Vec<u32>> {
        let keys = self.right_keys.clone();
        self.key_ids(right, &keys, 0, right.len());
        let mut fresh = vec![NO_ROW; self.ids.len()];
        for (position, &id) in self.scratch.iter().enumerate() {
            let slot = &mut fresh[id as usize];
            if *slot != NO_ROW {
                return Err(self.duplicate(right, position));
            }
            *slot = right.first_key + position as u64;
        }
        self.right_ids.clear();
        self.right_ids.extend_from_slice(&self.scratch);
        let changed = (0..fresh.len())
            .filter(|&id| fresh[id] != self.right_of[id])
            .map(|id| id as u32)
            .collect();
        self.right_of = fresh;
        Ok(changed)
    }

    /// Applies right rows removed from the front and added at the back; returns the ids whose
    /// right row changed.
    fn index_right_fifo(
        &mut self,
        right: &TableData,
        removed: usize,
        added: usize,
    ) -> Result<Vec<u32>> {
        let mut changed = Vec::new();
        self.right_ids.copy_range(0, removed, &mut changed);
        self.right_ids.pop_front(removed);
        for &id in &changed {
            self.right_of[id as usize] = NO_ROW;
        }
        let start = right.len() - added;
        let keys = self.right_keys.clone();
        self.key_ids(right, &keys, start, added);
        for (i, &id) in self.scratch.iter().enumerate() {
            let slot = &mut self.right_of[id as usize];
            if *slot != NO_ROW {
                return Err(self.duplicate(right, start + i));
            }
            *slot = right.first_key + (start + i) as u64;
        }
        self.right_ids.extend_from_slice(&self.scratch);
        changed.extend_from_slice(&self.scratch);
        Ok(changed)
    }

    /// The position in `right` of the row matching key `id`, if any.
    fn matching(&self, right: &TableData, id: u32) -> Option<usize> {
        let key = self.right_of.get(id as usize).copied().unwrap_or(NO_ROW);
        (key != NO_ROW).then(|| (key - right.first_key) as usize)
    }

    /// Appends left rows `start .. start + count`, each with its right match.
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
            o.extend_from_range(c, start, count);
        }
        let keys = self.left_keys.clone();
        self.key_ids(left, &keys, start, count);
        self.left_ids.extend_from_slice(&self.scratch);
        let matches: Vec<Option<usize>> = self
            .scratch
            .iter()
            .map(|&id| self.matching(right, id))
            .collect();
        for (o, &rc) in out.columns[width..].iter_mut().zip(&self.added) {
            for m in &matches {
                match m {
                    Some(r) => o.push_from(&right.columns[rc], *r),
                    None => o.push_null(),
                }
            }
        }
    }

    /// Joins every left row again into a fresh table (the old rows reported removed).
    fn rejoin(
        &mut self,
        left: &TableData,
        right: &TableData,
        out: &mut TableData,
    ) -> Result<Update> {
        self.left_ids.clear();
        out.rewrite(|fresh| {
            self.join_rows(left, right, 0, left.len(), fresh);
            Ok(())
        })
    }

    /// Whether key ids of rows long gone (a ring's, say) outnumber the rows now by far.
    fn holds_many_dead_keys(&self, rows: usize) -> bool {
        self.ids.len() > 1_024 && self.ids.len() > 2 * rows
    }

    /// Forgets every key and joins everything again, so keys that left stop holding memory.
    fn restart(
        &mut self,
        left: &TableData,
        right: &TableData,
        out: &mut TableData,
    ) -> Result<Update> {
        self.ids.clear();
        self.right_of.clear();
        self.index_right(right)?;
        self.rejoin(left, right, out)
    }

    /// Rewrites the right columns of the first `rows` output rows whose key id is marked;
    /// returns their positions, or `None` when a column cannot change in place.
    fn patch(
        &self,
        marked: &[bool],
        right: &TableData,
        rows: usize,
        out: &mut TableData,
    ) -> Option<Vec<usize>> {
        let width = out.columns.len() - self.added.len();
        let mut patched = Vec::new();
        let mut position = 0;
        for slice in self.left_ids.slices_range(0, rows) {
            for &id in slice {
                if marked.get(id as usize).copied().unwrap_or(false) {
                    let from = self.matching(right, id);
                    for (o, &rc) in out.columns[width..].iter_mut().zip(&self.added) {
                        if !o.set_from(position, &right.columns[rc], from) {
                            return None;
                        }
                    }
                    patched.push(position);
                }
                position += 1;
            }
        }
        Some(patched)
    }
}

impl Operator for NaturalJoin {
    fn initialize(&mut self, inputs: &[&Node], out: &mut TableData) -> Result<()> {
        let (left, right) = (&inputs[0].data, &inputs[1].data);
        self.index_right(right)?;
        self.join_rows(left, right, 0, left.len(), out);
        Ok(())
    }

    fn process(&mut self, inputs: &[&Node], out: &mut TableData) -> Result<Option<Update>> {
        let (left, right) = (inputs[0], inputs[1]);
        let mut changed = match &right.update {
            None => Vec::new(),
            Some(Update::Fifo { removed, added }) => {
                self.index_right_fifo(&right.data, *removed, *added)?
            }
            Some(Update::Keyed {
                added, modified, ..
            }) => {
                let mut changed = self.index_right(&right.data)?;
                // Rows modified in place (an aggregation's) keep their keys, not their values.
                let first = right.data.first_key;
                for &key in modified.iter().chain(added) {
                    let position = key.checked_sub(first).map(|p| p as usize);
                    if let Some(id) = position.and_then(|p| self.right_ids.get(p)) {
                        changed.push(id);
                    }
                }
                changed
            }
        };
        let (removed, added) = match &left.update {
            None => (0, 0),
            Some(Update::Fifo { removed, added }) => (*removed, *added),
            Some(Update::Keyed { .. }) => {
                return self.rejoin(&left.data, &right.data, out).map(Some);
            }
        };
        let first_before = out.first_key;
        out.pop_front(removed);
        self.left_ids.pop_front(removed);
        let mut modified = Vec::new();
        if !changed.is_empty() {
            changed.sort_unstable();
            changed.dedup();
            let mut marked = vec![false; self.ids.len()];
            for &id in &changed {
                marked[id as usize] = true;
            }
            match self.patch(&marked, &right.data, out.len(), out) {
                Some(patched) => {
                    modified = patched
                        .into_iter()
                        .map(|p| out.first_key + p as u64)
                        .collect();
                }
                None => return self.rejoin(&left.data, &right.data, out).map(Some),
            }
        }
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
        for chunked in [&self.left_ids, &self.right_ids] {
            used += chunked.bytes_used();
            reserved += chunked.bytes_reserved();
        }
        used += self.right_of.len() * 8;
        reserved += self.right_of.capacity() * 8;
        (used, reserved)
    }
}

impl Table {
    /// Each row of this table with `columns` of the `right` row whose `on` keys match, or nulls
    /// where none does (Deephaven's `naturalJoin`). `on` entries are `Key` or `LeftKey = RightKey`;
    /// `columns` entries are `Col` or `NewName = RightCol` (none given: every non-key right
    /// column). More than one right row for a key is an error: at build time, or in a later
    /// cycle, where it marks this table failed.
    pub fn natural_join(&self, right: &Table, on: &[&str], columns: &[&str]) -> Result<Table> {
        let (schema, op) = self.natural_join_op("naturalJoin", right, on, columns)?;
        let parents = vec![Rc::clone(&self.node), Rc::clone(&right.node)];
        self.engine.derive(parents, schema, false, Box::new(op))
    }

    /// The schema and operator of a `naturalJoin` (named `op` in errors).
    pub(super) fn natural_join_op(
        &self,
        op: &'static str,
        right: &Table,
        on: &[&str],
        columns: &[&str],
    ) -> Result<(Schema, NaturalJoin)> {
        let (left_schema, right_schema) = (self.schema(), right.schema());
        let (left_keys, right_keys, types) = match_columns(op, &left_schema, &right_schema, on)?;
        let (schema, added) =
            super::as_of_join::joined_schema(&left_schema, &right_schema, &right_keys, columns)?;
        let op = NaturalJoin {
            op,
            ids: KeyIds::new(&types, false),
            left_keys,
            right_keys,
            added,
            left_ids: Chunked::new(),
            right_ids: Chunked::new(),
            right_of: Vec::new(),
            scratch: Vec::new(),
        };
        Ok((schema, op))
    }
}
