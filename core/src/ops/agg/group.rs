//! `Group` and `Distinct` (Deephaven's `AggGroup` and `AggDistinct`): each group's values as an
//! array, and so `groupBy(keys)`, which is `aggBy` of `Group` over every non-key column.
//!
//! `Group` ([`GroupRows`]) keeps every covered row's input value in one FIFO [`Column`] of the
//! input's type, oldest first (the parent may forget its rows: a ring's leave from its front),
//! with its sequence number; each group holds the sequence numbers of its rows, oldest first. Rows
//! leave in the order they came, so taking the oldest rows back pops the front of the column and
//! of each group's list. A group's array is its values in row order. Over a blink parent it would
//! keep every row ever seen, so it is refused there, as Deephaven refuses `groupBy` on blink
//! tables ([`refuse_group_over_blink`]).
//!
//! `Distinct` ([`DistinctValues`]) keeps, per group, its distinct values with their counts of
//! covered rows (the counts matter only over a ring, where rows leave; the ring's rows' values
//! are kept to take them back), and the same values in sort order, updated only when a value
//! comes or goes. So over an append or blink parent it holds the distinct values only, not the
//! rows, and a row costs one hash lookup. A group's array is its distinct values ascending, nulls
//! first when they count (as Deephaven's sorted-multiset operator gives them; `includeNulls` is
//! off by default).
//!
//! `aggBy` rewrites its output every cycle, so a cycle costs each group's array once: every
//! covered row's value for `Group`, every distinct value (already in order) for `Distinct`.
//!
//! Invariant: `GroupRows::values` holds rows `front .. front + values.len()` by sequence number,
//! and every sequence number in `members` is among them; `DistinctValues::counts[g]` holds every
//! counted value of group `g`'s covered rows with its number of rows, and `sorted[g]` the keys
//! of the same values.

use std::collections::{BTreeMap, VecDeque};

use rustc_hash::FxHashMap;

use super::reducer::{GroupReducer, input_column};
use super::values::{OrderKey, Values};
use super::{Agg, AggKind};
use crate::column::{Chunked, Column, ColumnType};
use crate::table::{Schema, Table, TableData};
use crate::{Error, Result};

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
        if self.is_blink() {
            return Err(Error::Invalid(format!(
                "groupBy({}): a blink (stream) table forgets its rows every cycle, and grouping \
                 it would keep every row ever seen, so it is refused (as Deephaven refuses it); \
                 group this cycle's rows with dropStream().groupBy(...), or group an append or \
                 ring table",
                keys.join(", ")
            )));
        }
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

/// Refuses `Group` over a blink parent: it would keep every row ever seen (Deephaven refuses
/// `groupBy` and `AggGroup` on blink tables). `Distinct` stays: it keeps distinct values only.
pub(super) fn refuse_group_over_blink(aggs: &[Agg], blink: bool) -> Result<()> {
    match aggs.iter().find(|a| a.kind == AggKind::Group) {
        Some(agg) if blink => Err(Error::Invalid(format!(
            "{} = Group({}): a blink (stream) table forgets its rows every cycle, and Group would \
             keep every row ever seen, so it is refused (as Deephaven refuses it); aggregate \
             this cycle's rows with dropStream().aggBy(...), or an append or ring table",
            agg.output,
            agg.input.as_deref().unwrap_or("")
        ))),
        _ => Ok(()),
    }
}

/// The reducer of a `Group` or `Distinct` aggregation.
pub(super) fn new(agg: &Agg, schema: &Schema) -> Result<Box<dyn GroupReducer>> {
    let (input, ty) = input_column(agg, schema)?;
    let what = || {
        format!(
            "{} = {:?}({})",
            agg.output,
            agg.kind,
            agg.input.as_deref().unwrap_or("")
        )
    };
    let output_ty = ty.array_of().ok_or_else(|| {
        Error::Invalid(format!(
            "{}: the column is already an array ({ty}); arrays of arrays are not supported",
            what()
        ))
    })?;
    if agg.kind != AggKind::Distinct {
        return Ok(Box::new(GroupRows {
            input,
            output_ty,
            values: Column::new(ty),
            front: 0,
            members: Vec::new(),
        }));
    }
    if ty == ColumnType::Binary {
        // Byte strings have no order or code to tell them apart.
        return Err(Error::Invalid(format!(
            "{}: distinct values of a binary column are not supported",
            what()
        )));
    }
    Ok(Box::new(DistinctValues {
        input,
        output_ty,
        include_nulls: agg.options.include_nulls,
        values: Values::new(ty),
        counts: Vec::new(),
        sorted: Vec::new(),
        history: None,
        scratch: Vec::new(),
    }))
}

/// `Group`'s state over all groups: every covered row's value.
struct GroupRows {
    input: usize,
    output_ty: ColumnType,
    /// Every covered row's value, oldest first.
    values: Column,
    /// The sequence number of the oldest row in `values`.
    front: u64,
    /// Per group, the sequence numbers of its rows, oldest first.
    members: Vec<VecDeque<u64>>,
}

impl GroupReducer for GroupRows {
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
        self.front += n as u64;
    }

    fn clear(&mut self) {
        self.front += self.values.len() as u64;
        self.values.clear();
        self.members.clear();
    }

    fn emit(&self, g: usize, out: &mut Column) {
        let Column::Array(out) = out else {
            out.push_null();
            return;
        };
        let rows: Vec<usize> = self.members.get(g).map_or_else(Vec::new, |m| {
            m.iter().map(|&seq| (seq - self.front) as usize).collect()
        });
        out.values_mut().extend_positions(&self.values, &rows);
        out.end_row();
    }

    fn bytes(&self) -> (usize, usize) {
        let lists_used: usize = self.members.iter().map(|m| m.len() * 8).sum();
        let lists_reserved: usize = self.members.iter().map(|m| m.capacity() * 8 + 32).sum();
        (
            self.values.bytes_used() + lists_used,
            self.values.bytes_reserved() + lists_reserved + self.members.capacity() * 32,
        )
    }
}

/// `Distinct`'s state over all groups: each group's distinct values, counted.
struct DistinctValues {
    input: usize,
    output_ty: ColumnType,
    include_nulls: bool,
    values: Values,
    /// Per group, canonical value bits → covered rows (nulls only when they count).
    counts: Vec<FxHashMap<u64, u32>>,
    /// Per group, the keys of its values, in sort order (strings hold their text, so a
    /// dictionary rebuild leaves them be). A map whose values are unused: it is the type
    /// `Median`/`Pct` of strings keep, so the page compiles one B-tree for both, not two.
    sorted: Vec<BTreeMap<OrderKey, u32>>,
    /// Over a ring: every covered row's value bits, oldest first.
    history: Option<Chunked<u64>>,
    scratch: Vec<u64>,
}

impl DistinctValues {
    /// The bits a row counts as, `None` when it does not count (a null, unless nulls count).
    fn counted(&self, bits: u64) -> Option<u64> {
        if self.values.is_null(bits) && !self.include_nulls {
            None
        } else {
            Some(self.values.canonical(bits))
        }
    }

    /// Frees the strings no group holds any more (values of rows that left a ring), once they
    /// outnumber the kept ones.
    fn compact_strings(&mut self) {
        let live = match &self.history {
            Some(h) => h.len(),
            None => self.counts.iter().map(FxHashMap::len).sum(),
        };
        if !self.values.wants_compaction(live) {
            return;
        }
        let (counts, history) = (&mut self.counts, &mut self.history);
        self.values.compact(|map| {
            for group in counts.iter_mut() {
                *group = group.drain().map(|(v, n)| (map(v), n)).collect();
            }
            for slice in history.iter_mut().flat_map(Chunked::slices_mut) {
                for v in slice {
                    *v = map(*v);
                }
            }
        });
    }
}

impl GroupReducer for DistinctValues {
    /// An array of the input's type.
    fn output_type(&self) -> ColumnType {
        self.output_ty
    }

    fn keep_history(&mut self) {
        self.history = Some(Chunked::new());
    }

    fn grow(&mut self, groups: usize) {
        if self.counts.len() < groups {
            self.counts.resize_with(groups, FxHashMap::default);
            self.sorted.resize_with(groups, BTreeMap::new);
        }
    }

    fn add(&mut self, parent: &TableData, start: usize, count: usize, gids: &[u32]) -> Result<()> {
        let mut bits = std::mem::take(&mut self.scratch);
        self.values
            .read(&parent.columns[self.input], start, count, &mut bits);
        if let Some(&max) = gids.iter().max() {
            self.grow(max as usize + 1);
        }
        for (&g, &b) in gids.iter().zip(&bits) {
            let Some(v) = self.counted(b) else { continue };
            let n = self.counts[g as usize].entry(v).or_insert(0);
            if *n == 0 {
                self.sorted[g as usize].insert(self.values.key(v), 0);
            }
            *n = n.saturating_add(1);
        }
        if let Some(h) = &mut self.history {
            h.extend_from_slice(&bits);
        }
        self.scratch = bits;
        self.compact_strings();
        Ok(())
    }

    fn take_back(&mut self, gids: &[u32]) {
        let Some(h) = &mut self.history else { return };
        let mut bits = Vec::with_capacity(gids.len());
        h.copy_range(0, gids.len(), &mut bits);
        h.pop_front(gids.len());
        for (&g, &b) in gids.iter().zip(&bits) {
            let Some(v) = self.counted(b) else { continue };
            let Some(group) = self.counts.get_mut(g as usize) else {
                continue;
            };
            if let Some(n) = group.get_mut(&v) {
                *n -= 1;
                if *n == 0 {
                    group.remove(&v);
                    if let Some(sorted) = self.sorted.get_mut(g as usize) {
                        sorted.remove(&self.values.key(v));
                    }
                }
            }
        }
    }

    fn clear(&mut self) {
        self.values.clear();
        self.counts.clear();
        self.sorted.clear();
        if let Some(h) = &mut self.history {
            h.clear();
        }
    }

    fn emit(&self, g: usize, out: &mut Column) {
        let Column::Array(out) = out else {
            out.push_null();
            return;
        };
        let elements = out.values_mut();
        for key in self.sorted.get(g).into_iter().flat_map(BTreeMap::keys) {
            self.values.push_key(key, elements);
        }
        out.end_row();
    }

    fn bytes(&self) -> (usize, usize) {
        // Per value, a map entry (its bits, count and control byte: 13 bytes) and a sorted
        // entry (its key, 24 bytes, and about as much again of B-tree node); per group, the map
        // (48 bytes) and the set (24).
        let (map_used, map_reserved) = self.counts.iter().fold((0, 0), |(u, r), m| {
            (
                u + 72 + m.len() * 61,
                r + 72 + m.capacity() * 13 + m.len() * 48,
            )
        });
        let (h_used, h_reserved) = self
            .history
            .as_ref()
            .map_or((0, 0), |h| (h.bytes_used(), h.bytes_reserved()));
        let (v_used, v_reserved) = self.values.bytes();
        (
            map_used + h_used + v_used,
            map_reserved
                + (self.counts.capacity() - self.counts.len()) * 72
                + h_reserved
                + v_reserved
                + self.scratch.capacity() * 8,
        )
    }
}
