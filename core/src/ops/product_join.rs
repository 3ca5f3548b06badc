//! `join` and `leftOuterJoin`: each left row once per right row whose keys match (the natural
//! product; with no match columns, the cross join), in Deephaven's order: left rows in order,
//! each followed by its right rows in right order. `leftOuterJoin` also keeps a left row with no
//! match, once, with nulls on the right.
//!
//! Both sides' key tuples are numbered by one [`KeyIds`]; per id the operator keeps its right
//! rows' keys in order (a ring's oldest leave from the front), and per left row the number of
//! output rows it made. So rows added to the left with the right unchanged are expanded and
//! appended, and rows leaving the left's front take their expansion with them (`Fifo`). A right
//! change to tuples no left row has (counted per tuple) only updates the index; one that reaches
//! a left row rebuilds the output from the kept index: a cycle then costs the output, not the
//! change (any left row may gain or lose rows in the middle, which the FIFO layout cannot
//! insert). A keyed left table is joined again whole.
//!
//! The output is limited to [`ROW_LIMIT`] rows; a join that would make more fails with an error
//! giving the count (at build time, or by marking the table failed in a later cycle).
//!
//! Invariant: `left_ids` and `made` have one entry per left row, and `made` sums to the output's
//! rows; `right_rows[id]` holds, ascending, the keys of the right rows of tuple `id`.

use std::collections::VecDeque;
use std::rc::Rc;

use super::Operator;
use super::as_of_join::{extend_matches, joined_schema};
use super::key_ids::{KeyIds, match_columns};
use crate::table::{Node, Table, TableData, Update};
use crate::{Error, Result};

/// The most rows a `join` or `leftOuterJoin` may make.
pub const ROW_LIMIT: usize = 10_000_000;

/// The right key standing for "no right row" (a left outer row's nulls).
const NO_ROW: u64 = u64::MAX;

struct ProductJoin {
    /// `leftOuterJoin` rather than `join`.
    outer: bool,
    left_keys: Vec<usize>,
    right_keys: Vec<usize>,
    added: Vec<usize>,
    ids: KeyIds,
    left_ids: VecDeque<u32>,
    /// Left rows per tuple id: a right change to tuples no left row has leaves the output.
    left_count: Vec<u32>,
    made: VecDeque<u32>,
    right_rows: Vec<VecDeque<u64>>,
    right_ids: VecDeque<u32>,
    scratch: Vec<u32>,
}

impl ProductJoin {
    fn name(&self) -> &'static str {
        if self.outer { "leftOuterJoin" } else { "join" }
    }

    /// Key ids of rows `start .. start + count` of `data`'s `columns`, into `self.scratch`.
    fn key_ids(&mut self, data: &TableData, columns: &[usize], start: usize, count: usize) {
        self.ids
            .ids_or_single(data, columns, start, count, &mut self.scratch);
        let len = self.ids.len().max(1);
        if self.right_rows.len() < len {
            self.right_rows.resize_with(len, VecDeque::new);
            self.left_count.resize(len, 0);
        }
    }

    /// Indexes right rows `start .. start + count` (appended at the back); whether a left row
    /// has the tuple of one.
    fn add_right(&mut self, right: &TableData, start: usize, count: usize) -> bool {
        let keys = self.right_keys.clone();
        self.key_ids(right, &keys, start, count);
        let mut touched = false;
        for (i, &id) in self.scratch.iter().enumerate() {
            self.right_rows[id as usize].push_back(right.first_key + (start + i) as u64);
            touched |= self.left_count[id as usize] > 0;
        }
        self.right_ids.extend(self.scratch.iter().copied());
        touched
    }

    /// Forgets the first `count` right rows (each the oldest of its tuple); whether a left row
    /// has the tuple of one.
    fn remove_right(&mut self, count: usize) -> bool {
        let mut touched = false;
        for _ in 0..count {
            let Some(id) = self.right_ids.pop_front() else {
                break;
            };
            self.right_rows[id as usize].pop_front();
            touched |= self.left_count[id as usize] > 0;
        }
        touched
    }

    fn index_right(&mut self, right: &TableData) {
        self.right_rows.iter_mut().for_each(VecDeque::clear);
        self.right_ids.clear();
        self.add_right(right, 0, right.len());
    }

    /// Output rows a left row of tuple `id` makes.
    fn rows_of(&self, id: u32) -> usize {
        let n = self.right_rows.get(id as usize).map_or(0, VecDeque::len);
        if self.outer { n.max(1) } else { n }
    }

    /// Appends the expansion of left rows `start .. start + count`, after checking the limit
    /// against the `kept` output rows; returns the rows made.
    fn join_rows(
        &mut self,
        left: &TableData,
        right: &TableData,
        (start, count): (usize, usize),
        kept: usize,
        out: &mut TableData,
    ) -> Result<usize> {
        let keys = self.left_keys.clone();
        self.key_ids(left, &keys, start, count);
        let total: usize = self.scratch.iter().map(|&id| self.rows_of(id)).sum();
        if kept + total > ROW_LIMIT {
            return Err(Error::Invalid(format!(
                "{}: the result would have {} rows, more than the limit of {ROW_LIMIT}; match \
                 on more columns, or filter either side first",
                self.name(),
                kept + total
            )));
        }
        let (mut lefts, mut rights) = (Vec::with_capacity(total), Vec::with_capacity(total));
        for (i, &id) in self.scratch.iter().enumerate() {
            let matches = &self.right_rows[id as usize];
            lefts.extend(std::iter::repeat_n(start + i, matches.len()));
            rights.extend(matches.iter().copied());
            if self.outer && matches.is_empty() {
                lefts.push(start + i);
                rights.push(NO_ROW);
            }
            self.made.push_back(self.rows_of(id) as u32);
            self.left_count[id as usize] += 1;
        }
        self.left_ids.extend(self.scratch.iter().copied());
        let width = left.columns.len();
        for (o, c) in out.columns[..width].iter_mut().zip(&left.columns) {
            o.extend_positions(c, &lefts);
        }
        for (o, &rc) in out.columns[width..].iter_mut().zip(&self.added) {
            let at = (right.first_key, NO_ROW);
            extend_matches(o, &right.columns[rc], at, &rights);
        }
        Ok(total)
    }

    /// Joins every left row again into a fresh table (the old rows reported removed).
    fn rejoin(
        &mut self,
        left: &TableData,
        right: &TableData,
        out: &mut TableData,
    ) -> Result<Update> {
        self.left_ids.clear();
        self.made.clear();
        self.left_count.iter_mut().for_each(|c| *c = 0);
        out.rewrite(|fresh| {
            self.join_rows(left, right, (0, left.len()), 0, fresh)
                .map(|_| ())
        })
    }

    /// Whether key ids of rows long gone (a ring's, say) outnumber the rows now by far.
    fn holds_many_dead_keys(&self, rows: usize) -> bool {
        self.ids.len() > 1_024 && self.ids.len() > 2 * rows
    }
}

impl Operator for ProductJoin {
    fn initialize(&mut self, inputs: &[&Node], out: &mut TableData) -> Result<()> {
        let (left, right) = (&inputs[0].data, &inputs[1].data);
        self.index_right(right);
        self.join_rows(left, right, (0, left.len()), 0, out)?;
        Ok(())
    }

    fn process(&mut self, inputs: &[&Node], out: &mut TableData) -> Result<Option<Update>> {
        let (left, right) = (inputs[0], inputs[1]);
        // Whether the right change reaches a left row's tuple.
        let reaches = match &right.update {
            None => false,
            Some(Update::Fifo { removed, added }) => {
                let gone = self.remove_right(*removed);
                self.add_right(&right.data, right.data.len() - added, *added) || gone
            }
            Some(Update::Keyed { .. }) => {
                self.index_right(&right.data);
                true
            }
        };
        let restart = self.holds_many_dead_keys(left.data.len() + right.data.len());
        if restart {
            self.ids.clear();
            self.right_rows.clear();
            self.left_count.clear();
            self.index_right(&right.data);
        }
        let (removed, added) = match &left.update {
            Some(Update::Fifo { removed, added }) if !reaches && !restart => (*removed, *added),
            None if !reaches && !restart => return Ok(None),
            _ => return self.rejoin(&left.data, &right.data, out).map(Some),
        };
        let gone = removed.min(self.made.len());
        let rows_gone: usize = self.made.drain(..gone).map(|n| n as usize).sum();
        for id in self.left_ids.drain(..gone) {
            self.left_count[id as usize] -= 1;
        }
        out.pop_front(rows_gone);
        let start = left.data.len() - added;
        let kept = out.len();
        let made = self.join_rows(&left.data, &right.data, (start, added), kept, out)?;
        Ok((rows_gone > 0 || made > 0).then_some(Update::Fifo {
            removed: rows_gone,
            added: made,
        }))
    }

    fn state_bytes(&self) -> (usize, usize) {
        let (mut used, mut reserved) = self.ids.bytes();
        used += (self.left_ids.len() + self.made.len() + self.right_ids.len()) * 4;
        used += self.left_count.len() * 4;
        reserved +=
            (self.left_ids.capacity() + self.made.capacity() + self.right_ids.capacity()) * 4;
        reserved += self.left_count.capacity() * 4;
        for rows in &self.right_rows {
            used += rows.len() * 8;
            reserved += rows.capacity() * 8;
        }
        let deque = std::mem::size_of::<VecDeque<u64>>();
        used += self.right_rows.len() * deque;
        reserved += self.right_rows.capacity() * deque;
        (used, reserved)
    }
}

impl Table {
    /// Deephaven's `join`: each row of this table once per `right` row whose `on` keys match
    /// (`Key` or `Left = Right`; none: every right row, the cross join), with `columns` of it
    /// (`Col` or `New = RightCol`; none given: every right column not matched). At most
    /// [`ROW_LIMIT`] rows.
    pub fn join(&self, right: &Table, on: &[&str], columns: &[&str]) -> Result<Table> {
        self.product_join(false, right, on, columns)
    }

    /// Deephaven's `leftOuterJoin`: as [`Table::join`], and a row with no match once, with
    /// nulls for the right columns. With no `columns`, it adds every right column not named as
    /// a left match column (Deephaven's `OuterJoinTools`: `Key = RKey` adds `RKey` too).
    pub fn left_outer_join(&self, right: &Table, on: &[&str], columns: &[&str]) -> Result<Table> {
        self.product_join(true, right, on, columns)
    }

    fn product_join(
        &self,
        outer: bool,
        right: &Table,
        on: &[&str],
        columns: &[&str],
    ) -> Result<Table> {
        let name = if outer { "leftOuterJoin" } else { "join" };
        let (left_schema, right_schema) = (self.schema(), right.schema());
        let (left_keys, right_keys, types) = match_columns(name, &left_schema, &right_schema, on)?;
        // Deephaven's defaults: `join` adds the right columns not matched; `leftOuterJoin`
        // (`OuterJoinTools`) those not named as a left match column.
        let matched: Vec<usize> = if outer {
            let left_names: Vec<&str> = left_keys
                .iter()
                .map(|&i| left_schema.fields()[i].name.as_str())
                .collect();
            (right_schema.names().iter().enumerate())
                .filter(|(_, n)| left_names.contains(n))
                .map(|(i, _)| i)
                .collect()
        } else {
            right_keys.clone()
        };
        let (schema, added) = joined_schema(&left_schema, &right_schema, &matched, columns)?;
        let op = ProductJoin {
            outer,
            ids: KeyIds::new(&types, false),
            left_keys,
            right_keys,
            added,
            left_ids: VecDeque::new(),
            left_count: Vec::new(),
            made: VecDeque::new(),
            right_rows: Vec::new(),
            right_ids: VecDeque::new(),
            scratch: Vec::new(),
        };
        let parents = vec![Rc::clone(&self.node), Rc::clone(&right.node)];
        self.engine.derive(parents, schema, false, Box::new(op))
    }
}
