//! `Group` and `Distinct` (Deephaven's `AggGroup` and `AggDistinct`): each group's values as an
//! array, and so `groupBy(keys)`, which is `aggBy` of `Group` over every non-key column.
//!
//! Every covered row's input value is kept in one FIFO [`Column`] of the input's type, oldest
//! first (the parent may forget its rows: a blink table's leave every cycle), with its sequence
//! number; each group holds the sequence numbers of its rows, oldest first. Rows leave in the order
//! they came (a ring), so taking the oldest rows back pops the front of the column and of each
//! group's list. A group's array is emitted by copying its values in row order (`Group`), or its
//! distinct values sorted ascending, nulls first when they count (`Distinct`, as Deephaven's
//! sorted-multiset operator gives them; `includeNulls` is off by default).
//!
//! `aggBy` rewrites its output every cycle, so a cycle costs every covered row's value once (a
//! copy into the output's array column), not only the rows added.
//!
//! Invariant: `values` holds rows `front .. front + values.len()` by sequence number, and every
//! sequence number in `members` is among them.

use std::collections::VecDeque;

use rustc_hash::FxHashSet;

use super::super::keys::KeyCoder;
use super::reducer::{GroupReducer, input_column};
use super::{Agg, AggKind};
use crate::column::strings::NULL_CODE;
use crate::column::{Column, ColumnType, NULL_F64, NULL_I64};
use crate::table::{Schema, Table, TableData};
use crate::{Error, Result};

/// What a group's array holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ArrayKind {
    /// Every value, in row order.
    Group,
    /// The distinct values, ascending; null among them only when `include_nulls`.
    Distinct { include_nulls: bool },
}

impl Agg {
    /// `Agg.group("Prices = Price")`: each group's values as an array, in row order.
    pub fn group(spec: &str) -> Self {
        Self::of(AggKind::Group, spec)
    }

    /// `Agg.distinct("Venues = Exchange")`: each group's distinct non-null values as an array,
    /// ascending.
    pub fn distinct(spec: &str) -> Self {
        Self::of(AggKind::Distinct, spec)
    }

    /// `Agg.distinct` with null counted as a value (it sorts first).
    pub fn distinct_with_nulls(spec: &str) -> Self {
        let mut agg = Self::of(AggKind::Distinct, spec);
        agg.options.include_nulls = true;
        agg
    }
}

impl Table {
    /// One row per group of `keys`, every other column an array of the group's values in row
    /// order (Deephaven's `groupBy`).
    pub fn group_by(&self, keys: &[&str]) -> Result<Table> {
        let aggs: Vec<Agg> = self
            .schema()
            .names()
            .into_iter()
            .filter(|n| !keys.contains(n))
            .map(Agg::group)
            .collect();
        self.agg_by(&aggs, keys)
    }
}

/// The [`KeyCoder`] code of a null of `ty`.
fn null_code(ty: ColumnType) -> u64 {
    match ty {
        ColumnType::String => u64::from(NULL_CODE),
        ColumnType::F64 => NULL_F64.to_bits(),
        _ => NULL_I64 as u64,
    }
}

/// The reducer of a `Group` or `Distinct` aggregation.
pub(super) fn new(agg: &Agg, schema: &Schema) -> Result<Box<dyn GroupReducer>> {
    let (input, ty) = input_column(agg, schema)?;
    if agg.kind == AggKind::Distinct && ty == ColumnType::Binary {
        // Byte strings have no key code to tell them apart.
        return Err(Error::Invalid(format!(
            "{} = Distinct({}): distinct values of a binary column are not supported",
            agg.output,
            agg.input.as_deref().unwrap_or("")
        )));
    }
    let kind = match agg.kind {
        AggKind::Distinct => ArrayKind::Distinct {
            include_nulls: agg.options.include_nulls,
        },
        _ => ArrayKind::Group,
    };
    let state = GroupArrays::new(kind, input, ty).map_err(|e| {
        Error::Invalid(format!(
            "{} = {:?}({}): {e}",
            agg.output,
            agg.kind,
            agg.input.as_deref().unwrap_or("")
        ))
    })?;
    Ok(Box::new(state))
}

/// One array aggregation's state over all groups.
struct GroupArrays {
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
    fn new(kind: ArrayKind, input: usize, input_ty: ColumnType) -> Result<Self> {
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
}

impl GroupReducer for GroupArrays {
    /// An array of the input's type.
    fn output_type(&self) -> ColumnType {
        self.output_ty
    }

    /// Rows can always be taken back (each group's list is oldest first): nothing to start.
    fn keep_history(&mut self) {}

    fn grow(&mut self, groups: usize) {
        if self.members.len() < groups {
            self.members.resize_with(groups, VecDeque::new);
        }
    }

    fn add(&mut self, parent: &TableData, start: usize, count: usize, gids: &[u32]) -> Result<()> {
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
        Ok(())
    }

    fn take_back(&mut self, gids: &[u32]) {
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

    fn clear(&mut self) {
        self.front += self.values.len() as u64;
        self.values.clear();
        self.codes.clear();
        self.members.clear();
        // Strings of rows no longer covered must not stay interned.
        self.coder = KeyCoder::default();
    }

    fn emit(&self, g: usize, out: &mut Column) {
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
            let null = null_code(self.input_ty);
            let mut seen = FxHashSet::default();
            rows.retain(|&r| {
                let code = self.codes.get(r).copied().unwrap_or(null);
                (include_nulls || code != null) && seen.insert(code)
            });
            rows.sort_by(|&a, &b| self.values.compare_rows(a, &self.values, b));
        }
        out.values_mut().extend_positions(&self.values, &rows);
        out.end_row();
    }

    fn bytes(&self) -> (usize, usize) {
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
