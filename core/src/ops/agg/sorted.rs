//! `SortedFirst` and `SortedLast` (Deephaven's `AggSortedFirst`, `AggSortedLast`): the value of
//! the group's first (last) row once its rows are sorted by a column, ascending and stable, as
//! `sort` orders them: nulls first, NaN last. Ties go to the earliest row for SortedFirst and to
//! the latest for SortedLast (the first and last rows of the stable sort). The output has the
//! input's type, and the input's value is taken as it is, null or not.
//!
//! Over an append or blink parent, rows never leave: a group keeps its best row only. Over a ring
//! it keeps an ordered multiset of its rows by (sort key, arrival sequence), so when the best row
//! leaves the next one is at hand.
//!
//! Invariant: without history, `best[g]` is group `g`'s first (last) row so far, as (sort key,
//! value bits); with history, `rows[g]` holds every covered row of group `g`, keyed by (sort
//! key, sequence), and `front_seq` is the sequence of the oldest covered row.

use std::collections::BTreeMap;

use super::reducer::{GroupReducer, input_column};
use super::values::{OrderKey, Values};
use super::{Agg, AggKind};
use crate::column::{Chunked, Column, ColumnType};
use crate::table::{Schema, TableData};
use crate::{Error, Result};

pub(super) struct Sorted {
    input: usize,
    sort_column: usize,
    values: Values,
    sort_values: Values,
    /// SortedLast (else SortedFirst).
    last: bool,
    best: Vec<Option<(OrderKey, u64)>>,
    /// Over a ring: per group, (sort key, sequence) → value bits.
    rows: Option<Vec<BTreeMap<(OrderKey, u64), u64>>>,
    /// Over a ring: every covered row's sort bits and value bits, oldest first.
    sort_history: Chunked<u64>,
    value_history: Chunked<u64>,
    front_seq: u64,
    scratch: Vec<u64>,
    scratch_sort: Vec<u64>,
}

pub(super) fn new(agg: &Agg, schema: &Schema) -> Result<Box<dyn GroupReducer>> {
    let (input, ty) = input_column(agg, schema)?;
    let what = format!(
        "{} = {:?}({})",
        agg.output,
        agg.kind,
        agg.input.as_deref().unwrap_or("")
    );
    let [sort_by] = agg.options.sort_by.as_slice() else {
        return Err(Error::Invalid(format!(
            "{what}: give one column to sort by (got {})",
            agg.options.sort_by.len()
        )));
    };
    let sort_column = schema.index_of(sort_by.trim())?;
    let sort_ty = schema.fields()[sort_column].ty;
    if sort_ty == ColumnType::Binary {
        return Err(Error::Invalid(format!(
            "{what}: cannot sort by the binary column {sort_by}"
        )));
    }
    if ty == ColumnType::Binary {
        return Err(Error::Invalid(format!(
            "{what}: binary columns are not supported"
        )));
    }
    Ok(Box::new(Sorted {
        input,
        sort_column,
        values: Values::new(ty),
        sort_values: Values::new(sort_ty),
        last: agg.kind == AggKind::SortedLast,
        best: Vec::new(),
        rows: None,
        sort_history: Chunked::new(),
        value_history: Chunked::new(),
        front_seq: 0,
        scratch: Vec::new(),
        scratch_sort: Vec::new(),
    }))
}

impl GroupReducer for Sorted {
    fn output_type(&self) -> ColumnType {
        self.values.ty()
    }

    fn keep_history(&mut self) {
        self.rows = Some(Vec::new());
    }

    fn grow(&mut self, groups: usize) {
        match &mut self.rows {
            Some(rows) => rows.resize_with(groups, BTreeMap::new),
            None => self.best.resize(groups, None),
        }
    }

    fn add(&mut self, parent: &TableData, start: usize, count: usize, gids: &[u32]) -> Result<()> {
        let (mut bits, mut sort_bits) = (
            std::mem::take(&mut self.scratch),
            std::mem::take(&mut self.scratch_sort),
        );
        self.values
            .read(&parent.columns[self.input], start, count, &mut bits);
        self.sort_values.read(
            &parent.columns[self.sort_column],
            start,
            count,
            &mut sort_bits,
        );
        match &mut self.rows {
            Some(rows) => {
                let first_seq = self.front_seq + self.value_history.len() as u64;
                for (i, ((&g, &b), &s)) in gids.iter().zip(&bits).zip(&sort_bits).enumerate() {
                    let key = (self.sort_values.key(s), first_seq + i as u64);
                    rows[g as usize].insert(key, b);
                }
                self.sort_history.extend_from_slice(&sort_bits);
                self.value_history.extend_from_slice(&bits);
            }
            None => {
                for ((&g, &b), &s) in gids.iter().zip(&bits).zip(&sort_bits) {
                    let key = self.sort_values.key(s);
                    let best = &mut self.best[g as usize];
                    let better = match best {
                        None => true,
                        Some((k, _)) if self.last => key >= *k,
                        Some((k, _)) => key < *k,
                    };
                    if better {
                        *best = Some((key, b));
                    }
                }
            }
        }
        self.scratch = bits;
        self.scratch_sort = sort_bits;
        Ok(())
    }

    fn take_back(&mut self, gids: &[u32]) {
        let Some(rows) = &mut self.rows else { return };
        let mut sort_bits = Vec::with_capacity(gids.len());
        self.sort_history.copy_range(0, gids.len(), &mut sort_bits);
        self.sort_history.pop_front(gids.len());
        self.value_history.pop_front(gids.len());
        for (i, (&g, &s)) in gids.iter().zip(&sort_bits).enumerate() {
            let key = (self.sort_values.key(s), self.front_seq + i as u64);
            rows[g as usize].remove(&key);
        }
        self.front_seq += gids.len() as u64;
    }

    fn clear(&mut self) {
        self.values.clear();
        self.sort_values.clear();
        self.best.clear();
        if let Some(rows) = &mut self.rows {
            rows.clear();
        }
        self.front_seq += self.value_history.len() as u64;
        self.sort_history.clear();
        self.value_history.clear();
    }

    fn emit(&self, g: usize, out: &mut Column) {
        let bits = match &self.rows {
            Some(rows) => {
                let group = &rows[g];
                if self.last {
                    group.last_key_value()
                } else {
                    group.first_key_value()
                }
                .map(|(_, &b)| b)
            }
            None => self.best[g].as_ref().map(|(_, b)| *b),
        };
        match bits {
            Some(b) => self.values.push(b, out),
            None => out.push_null(),
        }
    }

    fn bytes(&self) -> (usize, usize) {
        let entries: usize = self
            .rows
            .as_ref()
            .map_or(0, |rows| rows.iter().map(BTreeMap::len).sum());
        let (v_used, v_reserved) = self.values.bytes();
        let (s_used, s_reserved) = self.sort_values.bytes();
        let histories = self.sort_history.bytes_used() + self.value_history.bytes_used();
        let used = self.best.len() * 40 + entries * 60 + v_used + s_used + histories;
        let reserved = self.best.capacity() * 40
            + entries * 60
            + v_reserved
            + s_reserved
            + self.sort_history.bytes_reserved()
            + self.value_history.bytes_reserved()
            + (self.scratch.capacity() + self.scratch_sort.capacity()) * 8;
        (used, reserved)
    }
}
