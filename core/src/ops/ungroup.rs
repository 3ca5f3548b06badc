//! `ungroup(columns, nullFill)`: each parent row becomes one row per element of its arrays
//! (Deephaven's `ungroup`, the inverse of `groupBy`).
//!
//! The named array columns (every array column when none is named) become columns of their
//! element type; the other columns repeat their value on each row made from a parent row. Within a
//! parent row the arrays must have one length, else the table fails with the row and the lengths,
//! unless `nullFill` pads the shorter ones with nulls to the longest. A null array counts as empty;
//! a row whose arrays are all empty makes no row.
//!
//! It is incremental over a FIFO parent: added rows are expanded and appended, and rows the parent
//! removes from the front take their expansion with them (so an ungroup of a ring or a stream
//! follows it, and keeps the blink attribute). A keyed parent (a `groupBy`, whose arrays change in
//! place) is expanded again whole.
//!
//! Invariant: `made` holds, for every parent row covered, oldest first, how many rows it made, and
//! they add up to the output's rows.

use std::rc::Rc;

use super::Operator;
use crate::column::{ArrayColumn, Chunked, Column};
use crate::table::{Field, Node, Schema, Table, TableData, Update};
use crate::{Error, Result};

struct Ungroup {
    /// Per parent column: whether it is ungrouped.
    ungrouped: Vec<bool>,
    null_fill: bool,
    /// Rows made from each covered parent row, oldest first.
    made: Chunked<u32>,
    ranges: Vec<Vec<Option<(usize, usize)>>>,
}

impl Ungroup {
    /// Expands parent rows `start .. start + count` onto `out`; the rows made, or the first row
    /// whose arrays differ in length (then nothing is written).
    fn append(
        &mut self,
        parent: &TableData,
        start: usize,
        count: usize,
        out: &mut TableData,
    ) -> Result<usize> {
        let arrays: Vec<(usize, &ArrayColumn)> = parent
            .columns
            .iter()
            .enumerate()
            .filter(|(c, _)| self.ungrouped[*c])
            .filter_map(|(c, column)| match column {
                Column::Array(a) => Some((c, a)),
                _ => None,
            })
            .collect();
        self.ranges.resize(arrays.len(), Vec::new());
        for ((_, a), ranges) in arrays.iter().zip(&mut self.ranges) {
            a.ranges(start, count, ranges);
        }
        let length = |ranges: &Vec<Option<(usize, usize)>>, row: usize| {
            ranges.get(row).copied().flatten().map_or(0, |(_, n)| n)
        };
        // Rows made per parent row, checked before anything is written.
        let mut made = Vec::with_capacity(count);
        for row in 0..count {
            let lengths = self.ranges.iter().map(|r| length(r, row));
            let longest = lengths.clone().max().unwrap_or(1);
            if !self.null_fill && lengths.clone().any(|n| n != longest) {
                let names = &parent.schema.fields();
                let shown: Vec<String> = arrays
                    .iter()
                    .zip(&self.ranges)
                    .map(|((c, _), r)| format!("{} has {}", names[*c].name, length(r, row)))
                    .collect();
                return Err(Error::Invalid(format!(
                    "ungroup: the arrays of row {} differ in length ({}); nullFill pads the \
                     shorter ones with nulls",
                    start + row,
                    shown.join(", ")
                )));
            }
            made.push(u32::try_from(longest).unwrap_or(u32::MAX));
        }
        let picks: Vec<u32> = made
            .iter()
            .enumerate()
            .flat_map(|(row, &n)| std::iter::repeat_n(row as u32, n as usize))
            .collect();
        let mut next_array = 0;
        for (c, (o, p)) in out.columns.iter_mut().zip(&parent.columns).enumerate() {
            if !self.ungrouped[c] {
                o.extend_gather(p, start, count, &picks);
                continue;
            }
            let Some((_, array)) = arrays.get(next_array) else {
                continue;
            };
            let ranges = &self.ranges[next_array];
            next_array += 1;
            for (row, &n) in made.iter().enumerate() {
                let (first, len) = ranges.get(row).copied().flatten().unwrap_or((0, 0));
                let len = len.min(n as usize);
                o.extend_from_range(array.values(), first, len);
                (len..n as usize).for_each(|_| o.push_null());
            }
        }
        self.made.extend_from_slice(&made);
        Ok(picks.len())
    }
}

impl Operator for Ungroup {
    fn initialize(&mut self, inputs: &[&Node], out: &mut TableData) -> Result<()> {
        let parent = &inputs[0].data;
        self.append(parent, 0, parent.len(), out)?;
        Ok(())
    }

    fn process(&mut self, inputs: &[&Node], out: &mut TableData) -> Result<Option<Update>> {
        let parent = inputs[0];
        match &parent.update {
            None => Ok(None),
            Some(Update::Fifo { removed, added }) => {
                let mut leaving = Vec::with_capacity(*removed);
                self.made.copy_range(0, *removed, &mut leaving);
                let gone: usize = leaving.iter().map(|&n| n as usize).sum();
                let start = parent.data.len() - added;
                // Checked (and so failed) before any row leaves, so a failed table keeps its rows.
                let mut fresh = TableData::new(out.schema.clone());
                let made = self.append(&parent.data, start, *added, &mut fresh)?;
                self.made.pop_front(leaving.len());
                // `made` gained the new rows' counts at its back; only the leaving ones go.
                out.pop_front(gone);
                for (o, f) in out.columns.iter_mut().zip(fresh.columns) {
                    o.append(f);
                }
                Ok((gone > 0 || made > 0).then_some(Update::Fifo {
                    removed: gone,
                    added: made,
                }))
            }
            Some(Update::Keyed { .. }) => {
                let old = out.first_key..out.end_key();
                let mut fresh = TableData::new(out.schema.clone());
                let mut made = Chunked::new();
                std::mem::swap(&mut made, &mut self.made);
                let result = self.append(&parent.data, 0, parent.data.len(), &mut fresh);
                if let Err(e) = result {
                    self.made = made;
                    return Err(e);
                }
                out.clear();
                for (o, f) in out.columns.iter_mut().zip(fresh.columns) {
                    o.append(f);
                }
                Ok(Some(Update::Keyed {
                    removed: old.collect(),
                    added: (out.first_key..out.end_key()).collect(),
                    modified: Vec::new(),
                }))
            }
        }
    }

    fn state_bytes(&self) -> (usize, usize) {
        (self.made.bytes_used(), self.made.bytes_reserved())
    }

    fn keeps_rows_in_parent_order(&self) -> bool {
        true
    }
}

impl Table {
    /// Each row becomes one row per element of its arrays (Deephaven's `ungroup`): the named
    /// array columns (every array column when `columns` is empty) become columns of their
    /// elements, the other columns repeat. Arrays of one row must have one length unless
    /// `null_fill`, which pads the shorter with nulls.
    pub fn ungroup(&self, columns: &[&str], null_fill: bool) -> Result<Table> {
        let schema = self.schema();
        let named = super::names(columns);
        for name in &named {
            let ty = schema.fields()[schema.index_of(name)?].ty;
            if ty.element().is_none() {
                return Err(Error::Invalid(format!(
                    "ungroup: {name} is a {ty} column, not an array column"
                )));
            }
        }
        let ungrouped: Vec<bool> = schema
            .fields()
            .iter()
            .map(|f| f.ty.element().is_some() && (named.is_empty() || named.contains(&f.name)))
            .collect();
        let fields = schema
            .fields()
            .iter()
            .zip(&ungrouped)
            .map(|(f, &u)| match (u, f.ty.element()) {
                (true, Some(element)) => Field::new(f.name.clone(), element),
                _ => f.clone(),
            })
            .collect();
        let op = Ungroup {
            ungrouped,
            null_fill,
            made: Chunked::new(),
            ranges: Vec::new(),
        };
        let blink = self.is_blink();
        self.engine.derive(
            vec![Rc::clone(&self.node)],
            Schema::new(fields)?,
            blink,
            Box::new(op),
        )
    }
}
