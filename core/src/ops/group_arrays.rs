//! [`GroupArrays`]: the state of `Agg.group` and `Agg.distinct` (and so of `groupBy`), each
//! group's values as an array.
//!
//! Every covered row's input value is kept in one FIFO [`Column`] of the input's type, oldest
//! first (the parent may forget its rows: a blink table's leave every cycle), with its sequence
//! number; each group holds the sequence numbers of its rows, oldest first. Rows leave in the order
//! they came (a ring), so taking the oldest rows back pops the front of the column and of each
//! group's list. A group's array is emitted by copying its values in row order (`Group`), or its
//! distinct values sorted ascending, nulls first when they count (`Distinct`, as Deephaven's
//! sorted-multiset operator gives them).
//!
//! Invariant: `values` holds rows `front .. front + values.len()` by sequence number, and every
//! sequence number in `members` is among them.

use std::collections::VecDeque;

use rustc_hash::FxHashSet;

use super::keys::KeyCoder;
use crate::column::{Column, ColumnType};
use crate::table::TableData;
use crate::{Error, Result};

/// What a group's array holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ArrayKind {
    /// Every value, in row order (Deephaven's `AggGroup`).
    Group,
    /// The distinct values, ascending; null among them only when `include_nulls` (Deephaven's
    /// `AggDistinct`).
    Distinct { include_nulls: bool },
}

/// One array aggregation's state over all groups.
pub(crate) struct GroupArrays {
    kind: ArrayKind,
    input: usize,
    input_ty: ColumnType,
    output_ty: ColumnType,
    /// Every covered row's value, oldest first.
    values: Column,
    /// Distinct: every covered row's value code (equal exactly when the values are).
    codes: VecDeque<u64>,
    coder: KeyCoder,
    scratch: Vec<u64>,
    /// The sequence number of the oldest row in `values`.
    front: u64,
    /// Per group, the sequence numbers of its rows, oldest first.
    members: Vec<VecDeque<u64>>,
}

impl GroupArrays {
    /// The state of an array aggregation of parent column `input` (of type `input_ty`).
    pub(crate) fn new(kind: ArrayKind, input: usize, input_ty: ColumnType) -> Result<Self> {
        let output_ty = input_ty.array_of().ok_or_else(|| {
            Error::Invalid(format!(
                "the column is already an array ({input_ty}); arrays of arrays are not supported"
            ))
        })?;
        Ok(Self {
            kind,
            input,
            input_ty,
            output_ty,
            values: Column::new(input_ty),
            codes: VecDeque::new(),
            coder: KeyCoder::default(),
            scratch: Vec::new(),
            front: 0,
            members: Vec::new(),
        })
    }

    /// The output column's type: an array of the input's.
    pub(crate) fn output_type(&self) -> ColumnType {
        self.output_ty
    }

    /// Makes room for groups `0..groups`.
    pub(crate) fn grow(&mut self, groups: usize) {
        if self.members.len() < groups {
            self.members.resize_with(groups, VecDeque::new);
        }
    }

    /// Adds parent rows `start .. start + count`, row `start + i` to group `gids[i]`.
    pub(crate) fn add(&mut self, parent: &TableData, start: usize, count: usize, gids: &[u32]) {
        let column = &parent.columns[self.input];
        let next = self.front + self.values.len() as u64;
        self.values.extend_from_range(column, start, count);
        if let ArrayKind::Distinct { .. } = self.kind {
            self.coder
                .codes(self.input_ty, column, start, count, &mut self.scratch);
            self.codes.extend(self.scratch.iter().copied());
        }
        if let Some(&max) = gids.iter().max() {
            self.grow(max as usize + 1);
        }
        for (i, &g) in gids.iter().enumerate() {
            self.members[g as usize].push_back(next + i as u64);
        }
    }

    /// Takes back the oldest covered rows, one per entry of `gids` (their groups, oldest first).
    pub(crate) fn take_back(&mut self, gids: &[u32]) {
        for &g in gids {
            if let Some(m) = self.members.get_mut(g as usize) {
                m.pop_front();
            }
        }
        let n = gids.len().min(self.values.len());
        self.values.pop_front(n);
        self.codes.drain(..n.min(self.codes.len()));
        self.front += n as u64;
    }

    /// Forgets every row and group.
    pub(crate) fn clear(&mut self) {
        self.front += self.values.len() as u64;
        self.values.clear();
        self.codes.clear();
        self.members.clear();
        // Strings of rows no longer covered must not stay interned.
        self.coder = KeyCoder::default();
    }

    /// Appends group `g`'s array to `out` (a column of [`GroupArrays::output_type`]).
    pub(crate) fn emit(&self, g: usize, out: &mut Column) {
        let Column::Array(out) = out else {
            out.push_null();
            return;
        };
        let rows = self.members.get(g).map(|m| {
            m.iter()
                .map(|&seq| (seq - self.front) as usize)
                .collect::<Vec<_>>()
        });
        let mut rows = rows.unwrap_or_default();
        if let ArrayKind::Distinct { include_nulls } = self.kind {
            let mut seen = FxHashSet::default();
            rows.retain(|&r| {
                (include_nulls || !self.values.get(r).is_none_or(|v| v.is_null()))
                    && seen.insert(self.codes.get(r).copied())
            });
            rows.sort_by(|&a, &b| self.values.compare_rows(a, &self.values, b));
        }
        let values = out.values_mut();
        for r in rows {
            values.push_from(&self.values, r);
        }
        out.end_row();
    }

    /// Bytes (used, reserved) of state.
    pub(crate) fn bytes(&self) -> (usize, usize) {
        let lists_used: usize = self.members.iter().map(|m| m.len() * 8).sum();
        let lists_reserved: usize = self.members.iter().map(|m| m.capacity() * 8 + 32).sum();
        let coder = self.coder.interner.bytes();
        (
            self.values.bytes_used() + self.codes.len() * 8 + lists_used + coder,
            self.values.bytes_reserved()
                + self.codes.capacity() * 8
                + lists_reserved
                + coder
                + self.scratch.capacity() * 8,
        )
    }
}
