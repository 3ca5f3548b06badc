//! `SortedFirst` and `SortedLast` (Deephaven's `AggSortedFirst`, `AggSortedLast`): the value of
//! the group's first (last) row once its rows are sorted by a column, ascending and stable, as
//! `sort` orders them: nulls first, NaN last. Ties go to the earliest row for SortedFirst and to
//! the latest for SortedLast (the first and last rows of the stable sort). The output has the
//! input's type, and the input's value is taken as it is, null or not.
//!
//! Over an append or blink parent, rows never leave: a group keeps its best row only. Over a ring,
//! rows leave in the order they came, group by group too, so a group keeps the rows that can
//! still become its best, ordered by (sort key, arrival sequence): a monotonic window, as Min and
//! Max keep, in which a new row drops the rows behind it that it beats for good (for SortedFirst
//! those with a greater key, since it outlives them; for SortedLast those with a key at most its
//! own). The best row is the window's front, and the next one is at hand when it leaves: `O(1)`
//! amortised per row, rather than an ordered multiset of every row.
//!
//! Invariant: without history, `best[g]` is group `g`'s first (last) row so far, as (sort key,
//! value bits); with history, `windows[g]` holds, oldest first, group `g`'s covered rows that no
//! later covered row beats, as (sort key, sequence, value bits), and `front_seq` is the sequence
//! of the oldest covered row.

use std::collections::VecDeque;

use super::reducer::{GroupReducer, input_column};
use super::values::{OrderKey, Values, orderable};
use super::{Agg, AggKind};
use crate::column::{Column, ColumnType};
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
    /// Over a ring: per group, the rows that can still be its best.
    windows: Option<Vec<VecDeque<(OrderKey, u64, u64)>>>,
    /// Over a ring: the sequence of the oldest covered row, and the covered rows.
    front_seq: u64,
    covered: u64,
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
    if !orderable(sort_ty) {
        return Err(Error::Invalid(format!(
            "{what}: cannot sort by the {sort_ty} column {sort_by}"
        )));
    }
    if !orderable(ty) {
        return Err(Error::Invalid(format!(
            "{what}: {ty} columns are not supported"
        )));
    }
    Ok(Box::new(Sorted {
        input,
        sort_column,
        values: Values::new(ty),
        sort_values: Values::new(sort_ty),
        last: agg.kind == AggKind::SortedLast,
        best: Vec::new(),
        windows: None,
        front_seq: 0,
        covered: 0,
        scratch: Vec::new(),
        scratch_sort: Vec::new(),
    }))
}

impl GroupReducer for Sorted {
    fn output_type(&self) -> ColumnType {
        self.values.ty()
    }

    fn keep_history(&mut self) {
        self.windows = Some(Vec::new());
    }

    fn grow(&mut self, groups: usize) {
        match &mut self.windows {
            Some(windows) => windows.resize_with(groups, VecDeque::new),
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
        match &mut self.windows {
            Some(windows) => {
                let first_seq = self.front_seq + self.covered;
                let last = self.last;
                for (i, ((&g, &b), &s)) in gids.iter().zip(&bits).zip(&sort_bits).enumerate() {
                    let key = self.sort_values.key(s);
                    let window = &mut windows[g as usize];
                    while window
                        .back()
                        .is_some_and(|(k, _, _)| if last { *k <= key } else { *k > key })
                    {
                        window.pop_back();
                    }
                    window.push_back((key, first_seq + i as u64, b));
                }
                self.covered += count as u64;
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
        let Some(windows) = &mut self.windows else {
            return;
        };
        for (i, &g) in gids.iter().enumerate() {
            let window = &mut windows[g as usize];
            if window
                .front()
                .is_some_and(|(_, seq, _)| *seq == self.front_seq + i as u64)
            {
                window.pop_front();
            }
        }
        self.front_seq += gids.len() as u64;
        self.covered = self.covered.saturating_sub(gids.len() as u64);
    }

    fn clear(&mut self) {
        self.values.clear();
        self.sort_values.clear();
        self.best.clear();
        if let Some(windows) = &mut self.windows {
            windows.clear();
        }
        self.front_seq += self.covered;
        self.covered = 0;
    }

    fn emit(&self, g: usize, out: &mut Column) {
        let bits = match &self.windows {
            Some(windows) => windows[g].front().map(|(_, _, b)| *b),
            None => self.best[g].as_ref().map(|(_, b)| *b),
        };
        match bits {
            Some(b) => self.values.push(b, out),
            None => out.push_null(),
        }
    }

    fn bytes(&self) -> (usize, usize) {
        // A window entry: the key (24 bytes), its sequence and value bits (16).
        let (entries, slots) = self.windows.as_ref().map_or((0, 0), |windows| {
            windows
                .iter()
                .fold((0, 0), |(n, c), w| (n + w.len(), c + w.capacity()))
        });
        let windows = self.windows.as_ref().map_or(0, Vec::capacity) * 32;
        let (v_used, v_reserved) = self.values.bytes();
        let (s_used, s_reserved) = self.sort_values.bytes();
        let used = self.best.len() * 40 + windows + entries * 40 + v_used + s_used;
        let reserved = self.best.capacity() * 40
            + windows
            + slots * 40
            + v_reserved
            + s_reserved
            + (self.scratch.capacity() + self.scratch_sort.capacity()) * 8;
        (used, reserved)
    }
}
