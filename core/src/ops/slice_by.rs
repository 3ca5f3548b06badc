//! `headBy` and `tailBy`: the first or last `n` rows of each group, live.
//!
//! The result is Deephaven's (`groupBy(keys)`, each group cut to `n`, then `ungroup()`): the key
//! columns first, then the others in the parent's order; groups in order of first appearance, and
//! within a group, rows in the parent's order. Which rows a group holds follows Deephaven's
//! aggregations: over a blink table, every row ever seen (the first `n` ever, or the last `n`);
//! otherwise the rows the parent has now.
//!
//! Each group keeps its rows as references: parent row keys, or (over a blink parent, whose rows
//! are gone next cycle) positions in the result, which then holds the values. A cycle costs the
//! rows it adds and removes: their group ids, then a look at each one's group. The result is
//! extended in place when only new groups gained rows (`Update::Fifo`) and rewritten (a copy of
//! its rows, at most `n` per group) when an existing group changed. Over a parent that trims its
//! front (a ring), the group of every covered row is kept, and for `headBy` every row of each group
//! (the next ones take the place of rows that leave).
//!
//! Invariant: `members[g]` holds group `g`'s rows in parent order: at most `n` of them, or over a
//! trimming parent for `headBy` all of them; the result is, group by group in id order, the first
//! (head) or last (tail) `n` of each.

use std::collections::VecDeque;
use std::rc::Rc;

use super::Operator;
use super::key_ids::KeyIds;
use crate::column::Chunked;
use crate::table::{Field, Node, Schema, Table, TableData, Update};
use crate::{Error, Result};

/// A row of a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Row {
    /// The parent row with this key.
    Parent(u64),
    /// The result's row at this position (a blink parent's row, kept after it left).
    Kept(u32),
}

struct SliceBy {
    head: bool,
    n: usize,
    /// The parent's key columns.
    inputs: Vec<usize>,
    /// Result column `j` is parent column `order[j]`.
    order: Vec<usize>,
    ids: KeyIds,
    members: Vec<VecDeque<Row>>,
    /// The group of every covered row, oldest first (over a parent that trims its front).
    history: Option<Chunked<u32>>,
    /// The parent key of the oldest covered row (over a trimming parent).
    front_key: u64,
    /// Whether a group keeps all its rows (`headBy` over a trimming parent), not only `n`.
    all_rows: bool,
    blink: bool,
    scratch: Vec<u32>,
}

impl SliceBy {
    /// The rows a group shows.
    fn shown(&self, g: usize) -> impl Iterator<Item = &Row> {
        let rows = &self.members[g];
        let n = self.n.min(rows.len());
        let skip = if self.head { 0 } else { rows.len() - n };
        rows.iter().skip(skip).take(n)
    }

    /// Adds parent rows `start .. start + count` to their groups; marks the groups whose shown
    /// rows changed.
    fn add(&mut self, parent: &TableData, start: usize, count: usize, changed: &mut Vec<bool>) {
        self.ids
            .ids(parent, &self.inputs, start, count, &mut self.scratch);
        self.members.resize_with(self.ids.len(), VecDeque::new);
        changed.resize(self.ids.len(), false);
        let first = parent.first_key + start as u64;
        // Slices, not `Vec`s, in the loop: a `Vec` index is a call in the page's build ("z").
        let (members, changed) = (self.members.as_mut_slice(), changed.as_mut_slice());
        for (i, &g) in self.scratch.iter().enumerate() {
            let rows = &mut members[g as usize];
            let row = Row::Parent(first + i as u64);
            if self.head {
                if rows.len() < self.n || self.all_rows {
                    rows.push_back(row);
                    changed[g as usize] |= rows.len() <= self.n;
                }
            } else {
                rows.push_back(row);
                if rows.len() > self.n {
                    rows.pop_front();
                }
                changed[g as usize] = true;
            }
        }
        if let Some(history) = &mut self.history {
            history.extend_from_slice(&self.scratch);
        }
    }

    /// Takes back the `removed` oldest covered rows.
    fn forget(&mut self, removed: usize, changed: &mut [bool]) {
        let first = self.front_key;
        let Some(history) = &mut self.history else {
            return;
        };
        let removed = removed.min(history.len());
        let mut leaving = Vec::with_capacity(removed);
        history.copy_range(0, removed, &mut leaving);
        history.pop_front(removed);
        for (i, &g) in leaving.iter().enumerate() {
            let rows = &mut self.members[g as usize];
            // Rows leave in the order they came, so a leaving row is its group's first, if the
            // group still holds it.
            if rows.front() == Some(&Row::Parent(first + i as u64)) {
                rows.pop_front();
                changed[g as usize] = true;
            }
        }
    }

    /// Appends group `g`'s shown rows to `out`, reading kept rows from `old`.
    fn emit(&self, g: usize, parent: &TableData, old: &TableData, out: &mut TableData) {
        for row in self.shown(g) {
            for (j, (o, &p)) in out.columns.iter_mut().zip(&self.order).enumerate() {
                match *row {
                    Row::Parent(key) => {
                        o.push_from(&parent.columns[p], (key - parent.first_key) as usize)
                    }
                    Row::Kept(position) => o.push_from(&old.columns[j], position as usize),
                }
            }
        }
    }

    /// Over a blink parent, the rows of the groups `from..` just written at `position` on are kept
    /// there: their parent rows leave next cycle.
    fn keep(&mut self, groups: std::ops::Range<usize>, mut position: u32) {
        if !self.blink {
            return;
        }
        for g in groups {
            let n = self.n.min(self.members[g].len());
            let skip = self.members[g].len() - n;
            self.members[g].drain(..skip);
            for row in &mut self.members[g] {
                *row = Row::Kept(position);
                position += 1;
            }
        }
    }

    /// Writes every group again into a fresh result.
    fn rewrite(&mut self, parent: &TableData, out: &mut TableData) -> Update {
        let mut fresh = TableData::new(out.schema.clone());
        fresh.first_key = out.end_key();
        for g in 0..self.members.len() {
            self.emit(g, parent, out, &mut fresh);
        }
        let old = std::mem::replace(out, fresh);
        self.keep(0..self.members.len(), 0);
        Update::Keyed {
            removed: (old.first_key..old.end_key()).collect(),
            added: (out.first_key..out.end_key()).collect(),
            modified: Vec::new(),
        }
    }

    /// Forgets every group and reads the parent's rows again.
    fn reread(&mut self, parent: &TableData, out: &mut TableData) -> Update {
        self.ids.clear();
        self.members.clear();
        if let Some(history) = &mut self.history {
            history.clear();
        }
        self.add(parent, 0, parent.len(), &mut Vec::new());
        self.front_key = parent.first_key;
        self.rewrite(parent, out)
    }

    /// Whether groups with no rows outnumber the live ones (and are many).
    fn dead_dominate(&self) -> bool {
        let dead = self.members.iter().filter(|m| m.is_empty()).count();
        dead > 1_024 && dead > self.members.len() - dead
    }
}

impl Operator for SliceBy {
    fn initialize(&mut self, inputs: &[&Node], out: &mut TableData) -> Result<()> {
        let parent = inputs[0];
        self.blink = parent.blink;
        if parent.trims_front && !parent.blink {
            self.history = Some(Chunked::new());
            self.all_rows = self.head;
        }
        let data = &parent.data;
        self.add(data, 0, data.len(), &mut Vec::new());
        self.front_key = data.first_key;
        let empty = TableData::new(out.schema.clone());
        for g in 0..self.members.len() {
            self.emit(g, data, &empty, out);
        }
        self.keep(0..self.members.len(), 0);
        Ok(())
    }

    fn process(&mut self, inputs: &[&Node], out: &mut TableData) -> Result<Option<Update>> {
        let parent = inputs[0];
        let data = &parent.data;
        let (removed, added) = match &parent.update {
            None => return Ok(None),
            // Over a blink table every row counts once, when it arrives.
            Some(Update::Keyed { .. }) if parent.blink => (0, data.len()),
            Some(Update::Keyed { .. }) => return Ok(Some(self.reread(data, out))),
            Some(Update::Fifo { added, .. }) if parent.blink => (0, *added),
            Some(Update::Fifo { removed, added }) => (*removed, *added),
        };
        if removed > 0 && self.history.is_none() {
            // Everything left (a dropStream), or a parent that trims without history.
            return Ok(Some(self.reread(data, out)));
        }
        let before = self.members.len();
        let mut changed = vec![false; before];
        self.forget(removed, &mut changed);
        self.add(data, data.len() - added, added, &mut changed);
        self.front_key = data.first_key;
        if changed[..before].iter().any(|&c| c) {
            if self.dead_dominate() {
                return Ok(Some(self.reread(data, out)));
            }
            return Ok(Some(self.rewrite(data, out)));
        }
        // Only new groups: their rows go at the back.
        let position = out.len() as u32;
        let empty = TableData::new(Schema::default());
        for g in before..self.members.len() {
            self.emit(g, data, &empty, out);
        }
        self.keep(before..self.members.len(), position);
        let rows = out.len() - position as usize;
        Ok((rows > 0).then_some(Update::Fifo {
            removed: 0,
            added: rows,
        }))
    }

    fn state_bytes(&self) -> (usize, usize) {
        let (mut used, mut reserved) = self.ids.bytes();
        for m in &self.members {
            used += m.len() * 16 + 32;
            reserved += m.capacity() * 16 + 32;
        }
        if let Some(history) = &self.history {
            used += history.bytes_used();
            reserved += history.bytes_reserved();
        }
        (used, reserved)
    }
}

impl Table {
    fn slice_by(&self, head: bool, n: usize, keys: &[&str]) -> Result<Table> {
        let what = if head { "headBy" } else { "tailBy" };
        if n == 0 {
            return Err(Error::Invalid(format!(
                "{what}: the number of rows must be greater than zero"
            )));
        }
        let schema = self.schema();
        let names = super::names(keys);
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        super::keys::refuse_array_keys(&schema, &refs, what)?;
        let mut inputs = Vec::new();
        for name in names {
            let i = schema.index_of(&name)?;
            if inputs.contains(&i) {
                return Err(Error::DuplicateColumn(name));
            }
            inputs.push(i);
        }
        let order: Vec<usize> = inputs
            .iter()
            .copied()
            .chain((0..schema.len()).filter(|i| !inputs.contains(i)))
            .collect();
        let fields: Vec<Field> = order.iter().map(|&i| schema.fields()[i].clone()).collect();
        let types: Vec<_> = inputs.iter().map(|&i| schema.fields()[i].ty).collect();
        let op = SliceBy {
            head,
            n,
            ids: KeyIds::new(&types, true),
            inputs,
            order,
            members: Vec::new(),
            history: None,
            all_rows: false,
            front_key: 0,
            blink: false,
            scratch: Vec::new(),
        };
        self.engine.derive(
            vec![Rc::clone(&self.node)],
            Schema::new(fields)?,
            false,
            Box::new(op),
        )
    }

    /// The first `n` rows of each group of `keys` (Deephaven's `headBy`): key columns first, groups
    /// in order of first appearance, rows in the parent's order. Over a blink table, the first `n`
    /// rows ever seen.
    pub fn head_by(&self, n: usize, keys: &[&str]) -> Result<Table> {
        self.slice_by(true, n, keys)
    }

    /// The last `n` rows of each group of `keys` (Deephaven's `tailBy`); over a blink table, the
    /// last `n` rows ever seen.
    pub fn tail_by(&self, n: usize, keys: &[&str]) -> Result<Table> {
        self.slice_by(false, n, keys)
    }
}
