//! `selectDistinct`: the distinct tuples of some columns, in order of first appearance (an
//! aggregation with keys and nothing else, as Deephaven builds it).
//!
//! Which rows it covers follows Deephaven's aggregations: over a blink table, every row ever seen
//! (removals are ignored); otherwise the rows the parent has now. Tuples are numbered by
//! [`KeyIds`], so a cycle costs the rows it adds:
//! - new tuples go at the back of the result (`Update::Fifo`), nothing else changes;
//! - over a parent that trims its front (a ring), the tuple of every covered row is kept, and a
//!   count per tuple: a tuple leaves when its last row leaves, comes back where it first appeared,
//!   and the result is rewritten (a copy of its keys) only when a tuple left or came back in the
//!   middle;
//! - a parent that removes everything (a `dropStream`), or rewrites itself (a sort), is read again
//!   whole: the tuples in the order they appear in its rows.
//!
//! Invariant: the result holds, in id order, the tuples whose `counts` is non-zero (every tuple
//! seen, when there are no counts); `history` holds the id of every covered row, oldest first.

use std::rc::Rc;

use super::Operator;
use super::key_ids::KeyIds;
use crate::column::Chunked;
use crate::table::{Field, Node, Schema, Table, TableData, Update};
use crate::{Error, Result};

struct SelectDistinct {
    /// The parent's key columns.
    inputs: Vec<usize>,
    ids: KeyIds,
    /// Covered rows per id, over a parent whose rows leave (none over a blink or append one:
    /// every tuple seen is shown).
    counts: Option<Vec<u32>>,
    /// The id of every covered row, oldest first (over a parent that trims its front).
    history: Option<Chunked<u32>>,
    /// Ids shown, in order (a tuple with no rows left is not).
    shown: Vec<u32>,
    scratch: Vec<u32>,
}

impl SelectDistinct {
    /// Numbers parent rows `start .. start + count`; returns the ids that are new.
    fn add(&mut self, parent: &TableData, start: usize, count: usize) -> std::ops::Range<u32> {
        let before = self.ids.len() as u32;
        self.ids
            .ids(parent, &self.inputs, start, count, &mut self.scratch);
        if let Some(counts) = &mut self.counts {
            counts.resize(self.ids.len(), 0);
            for &id in &self.scratch {
                counts[id as usize] += 1;
            }
        }
        if let Some(history) = &mut self.history {
            history.extend_from_slice(&self.scratch);
        }
        before..self.ids.len() as u32
    }

    /// Forgets every tuple (the parent replaced its rows).
    fn clear(&mut self) {
        self.ids.clear();
        self.shown.clear();
        if let Some(counts) = &mut self.counts {
            counts.clear();
        }
        if let Some(history) = &mut self.history {
            history.clear();
        }
    }

    fn push_tuples(&self, ids: &[u32], out: &mut TableData) {
        if out.columns.is_empty() {
            out.bare_rows += ids.len();
        }
        for &id in ids {
            for (k, column) in out.columns.iter_mut().enumerate() {
                self.ids.push_key(id, k, column);
            }
        }
    }

    /// Reads every parent row again and rewrites the result.
    fn reread(&mut self, parent: &TableData, out: &mut TableData) -> Result<Update> {
        self.clear();
        let new = self.add(parent, 0, parent.len());
        self.shown = new.collect();
        out.rewrite(|fresh| {
            self.push_tuples(&self.shown, fresh);
            Ok(())
        })
    }

    /// Whether tuples with no rows left outnumber the live ones (and are many): then the state
    /// restarts from the parent's rows, so keys that left long ago stop holding memory.
    fn dead_dominate(&self) -> bool {
        let dead = self.ids.len() - self.shown.len();
        dead > 1_024 && dead > self.shown.len()
    }

    /// Takes back the `removed` oldest covered rows, numbers parent rows from `start`, and
    /// updates the result: in place when tuples only left its front and joined its back.
    fn advance(
        &mut self,
        parent: &TableData,
        removed: usize,
        start: usize,
        out: &mut TableData,
    ) -> Result<Option<Update>> {
        let mut emptied = Vec::new();
        if removed > 0 {
            let (Some(history), Some(counts)) = (&mut self.history, &mut self.counts) else {
                return self.reread(parent, out).map(Some);
            };
            let removed = removed.min(history.len());
            let mut leaving = Vec::with_capacity(removed);
            history.copy_range(0, removed, &mut leaving);
            history.pop_front(removed);
            for &id in &leaving {
                counts[id as usize] -= 1;
                if counts[id as usize] == 0 {
                    emptied.push(id);
                }
            }
        }
        let before = self.ids.len() as u32;
        let new = self.add(parent, start, parent.len() - start);
        // A tuple whose rows had all left and that comes back goes where it first appeared.
        // (When every tuple seen is shown, none can come back: no lookups.)
        let all_shown = self.shown.len() == before as usize;
        let mut revived: Vec<u32> = self
            .scratch
            .iter()
            .copied()
            .filter(|&id| !all_shown && id < before && self.shown.binary_search(&id).is_err())
            .collect();
        revived.sort_unstable();
        revived.dedup();
        let counts = self.counts.as_deref().unwrap_or(&[]);
        let mut gone: Vec<u32> = emptied
            .into_iter()
            .filter(|&id| counts[id as usize] == 0)
            .collect();
        gone.sort_unstable();
        let new: Vec<u32> = new.collect();
        let at_front = self.shown.starts_with(&gone);
        if revived.is_empty() && at_front {
            self.shown.drain(..gone.len());
            out.pop_front(gone.len());
            self.push_tuples(&new, out);
            self.shown.extend_from_slice(&new);
            if self.dead_dominate() {
                return self.reread(parent, out).map(Some);
            }
            let (removed, added) = (gone.len(), new.len());
            return Ok((removed > 0 || added > 0).then_some(Update::Fifo { removed, added }));
        }
        let mut shown: Vec<u32> = self
            .shown
            .iter()
            .copied()
            .filter(|&id| counts[id as usize] > 0)
            .chain(revived)
            .collect();
        shown.sort_unstable();
        shown.extend_from_slice(&new);
        self.shown = shown;
        if self.dead_dominate() {
            return self.reread(parent, out).map(Some);
        }
        out.rewrite(|fresh| {
            self.push_tuples(&self.shown, fresh);
            Ok(())
        })
        .map(Some)
    }
}

impl Operator for SelectDistinct {
    fn initialize(&mut self, inputs: &[&Node], out: &mut TableData) -> Result<()> {
        let parent = inputs[0];
        if !parent.blink {
            self.counts = Some(Vec::new());
            if parent.trims_front {
                self.history = Some(Chunked::new());
            }
        }
        let new = self.add(&parent.data, 0, parent.data.len());
        self.shown = new.collect();
        self.push_tuples(&self.shown, out);
        Ok(())
    }

    fn process(&mut self, inputs: &[&Node], out: &mut TableData) -> Result<Option<Update>> {
        let parent = inputs[0];
        let data = &parent.data;
        let (removed, added) = match &parent.update {
            None => return Ok(None),
            // Over a blink table every row counts once, when it arrives.
            Some(Update::Keyed { .. }) if parent.blink => (0, data.len()),
            Some(Update::Keyed { .. }) => return self.reread(data, out).map(Some),
            Some(Update::Fifo { added, .. }) if parent.blink => (0, *added),
            Some(Update::Fifo { removed, added }) => (*removed, *added),
        };
        if removed > 0 && self.history.is_none() {
            // Everything left (a dropStream), or a parent that trims without history.
            return self.reread(data, out).map(Some);
        }
        self.advance(data, removed, data.len() - added, out)
    }

    fn state_bytes(&self) -> (usize, usize) {
        let (mut used, mut reserved) = self.ids.bytes();
        if let Some(counts) = &self.counts {
            used += counts.len() * 4;
            reserved += counts.capacity() * 4;
        }
        if let Some(history) = &self.history {
            used += history.bytes_used();
            reserved += history.bytes_reserved();
        }
        used += self.shown.len() * 4;
        reserved += self.shown.capacity() * 4 + self.scratch.capacity() * 4;
        (used, reserved)
    }
}

impl Table {
    /// The distinct tuples of `columns`, in order of first appearance (Deephaven's
    /// `selectDistinct`); over a blink table, every tuple ever seen. No column given: one empty
    /// tuple, once there is a row.
    pub fn select_distinct(&self, columns: &[&str]) -> Result<Table> {
        let schema = self.schema();
        let names = super::names(columns);
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        super::keys::refuse_array_keys(&schema, &refs, "selectDistinct")?;
        let mut inputs = Vec::new();
        let mut fields = Vec::new();
        for name in &names {
            let i = schema.index_of(name)?;
            if inputs.contains(&i) {
                return Err(Error::DuplicateColumn(name.clone()));
            }
            inputs.push(i);
            fields.push(Field::new(name.clone(), schema.fields()[i].ty));
        }
        let types: Vec<_> = fields.iter().map(|f| f.ty).collect();
        let op = SelectDistinct {
            ids: KeyIds::new(&types, true),
            inputs,
            counts: None,
            history: None,
            shown: Vec::new(),
            scratch: Vec::new(),
        };
        self.engine.derive(
            vec![Rc::clone(&self.node)],
            Schema::new(fields)?,
            false,
            Box::new(op),
        )
    }
}
