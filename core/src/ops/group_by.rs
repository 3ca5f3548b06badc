//! `groupBy(keys)`: one row per group, every other column an array of the group's values in row
//! order (Deephaven's `groupBy`, which is `aggBy` of `AggGroup` over every non-key column), and the
//! array aggregations `Agg.group` and `Agg.distinct` that make it.
//!
//! Which rows a group covers follows `aggBy`: over a blink table every row ever seen; otherwise the
//! rows the parent has now (a ring's present rows, a `dropStream`'s cycle). The group index is
//! `aggBy`'s ([`Groups`] over [`KeyCoder`] codes, groups in order of first appearance); each array
//! column's values are a [`GroupArrays`]. Over a ring, the group of every covered row is kept so
//! the rows leaving the front are taken back; a group with no row left has no output row.
//!
//! Each cycle that changes the parent rewrites the output (every live group's arrays): a cycle
//! costs the rows covered, not only those added.
//!
//! Invariant: `gids` (over a ring) holds the group of every covered row, oldest first, and
//! `group_rows[g]` counts them per group.

use std::rc::Rc;

use super::{Agg, AggKind, Operator};
use super::group_arrays::{ArrayKind, GroupArrays};
use super::groups::Groups;
use super::keys::KeyCoder;
use crate::column::{Chunked, ColumnType};
use crate::table::{Field, Node, Schema, Table, TableData, Update};
use crate::{Error, Result};

/// An array aggregation: `Agg.group("Out = In")` or `Agg.distinct("Out = In")`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArrayAgg {
    pub kind: ArrayAggKind,
    pub output: String,
    pub input: String,
}

/// What an [`ArrayAgg`] collects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArrayAggKind {
    /// Every value, in row order.
    Group,
    /// The distinct values, ascending; null among them when `include_nulls`.
    Distinct { include_nulls: bool },
}

impl ArrayAgg {
    fn of(kind: ArrayAggKind, spec: &str) -> Self {
        let (output, input) = match spec.split_once('=') {
            Some((o, i)) => (o.trim(), i.trim()),
            None => (spec.trim(), spec.trim()),
        };
        Self {
            kind,
            output: output.to_owned(),
            input: input.to_owned(),
        }
    }

    /// `Agg.group("Prices = Price")`: each group's values as an array, in row order.
    pub fn group(spec: &str) -> Self {
        Self::of(ArrayAggKind::Group, spec)
    }

    /// `Agg.distinct("Venues = Exchange")`: each group's distinct non-null values, ascending.
    pub fn distinct(spec: &str) -> Self {
        Self::of(
            ArrayAggKind::Distinct {
                include_nulls: false,
            },
            spec,
        )
    }

    /// `Agg.distinct` with null counted as a value (it sorts first).
    pub fn distinct_with_nulls(spec: &str) -> Self {
        Self::of(
            ArrayAggKind::Distinct {
                include_nulls: true,
            },
            spec,
        )
    }
}

struct KeyColumn {
    input: usize,
    ty: ColumnType,
    coder: KeyCoder,
}

struct GroupBy {
    keys: Vec<KeyColumn>,
    arrays: Vec<GroupArrays>,
    groups: Groups,
    /// Parent rows the state covers.
    covered: usize,
    /// Whether rows are taken back from the front (the parent is a ring).
    history: bool,
    /// Over a ring: the group of every covered row, oldest first.
    gids: Chunked<u32>,
    /// Covered rows per group.
    group_rows: Vec<u64>,
    codes: Vec<Vec<u64>>,
    block: Vec<u32>,
}

impl GroupBy {
    fn clear(&mut self) {
        self.groups.clear();
        self.keys
            .iter_mut()
            .for_each(|k| k.coder = KeyCoder::default());
        self.arrays.iter_mut().for_each(GroupArrays::clear);
        self.covered = 0;
        self.gids.clear();
        self.group_rows.clear();
    }

    /// Adds parent rows `start .. start + count`.
    fn add(&mut self, parent: &TableData, start: usize, count: usize) {
        self.codes.resize(self.keys.len(), Vec::new());
        for (k, key) in self.keys.iter_mut().enumerate() {
            key.coder.codes(
                key.ty,
                &parent.columns[key.input],
                start,
                count,
                &mut self.codes[k],
            );
        }
        let columns: Vec<&[u64]> = self.codes.iter().map(Vec::as_slice).collect();
        self.groups.ids(&columns, count, &mut self.block);
        self.group_rows.resize(self.groups.len, 0);
        for &g in &self.block {
            self.group_rows[g as usize] += 1;
        }
        for a in &mut self.arrays {
            a.grow(self.groups.len);
            a.add(parent, start, count, &self.block);
        }
        if self.history {
            self.gids.extend_from_slice(&self.block);
        }
        self.covered += count;
    }

    /// Takes back the `count` oldest covered rows (a ring's).
    fn take_back(&mut self, count: usize) {
        let mut leaving = Vec::with_capacity(count);
        self.gids.copy_range(0, count, &mut leaving);
        self.gids.pop_front(leaving.len());
        for &g in &leaving {
            self.group_rows[g as usize] -= 1;
        }
        for a in &mut self.arrays {
            a.take_back(&leaving);
        }
        self.covered -= leaving.len();
    }

    /// Whether groups with no covered row outnumber the live ones (and are many): the state is
    /// then rebuilt, so that keys that left long ago stop holding memory.
    fn dead_groups_dominate(&self) -> bool {
        let live = self.group_rows.iter().filter(|&&n| n > 0).count();
        let dead = self.group_rows.len() - live;
        dead > 1_024 && dead > live
    }

    /// Writes every group with rows into `out` (keys first, then arrays).
    fn emit(&self, out: &mut TableData) {
        out.clear();
        let width = self.keys.len();
        for g in 0..self.groups.len {
            if self.group_rows.get(g).is_none_or(|&n| n == 0) {
                continue;
            }
            for (k, key) in self.keys.iter().enumerate() {
                let code = self.groups.keys[g * width + k];
                key.coder.push_value(code, &mut out.columns[k]);
            }
            for (a, arrays) in self.arrays.iter().enumerate() {
                arrays.emit(g, &mut out.columns[width + a]);
            }
        }
    }
}

impl Operator for GroupBy {
    fn initialize(&mut self, inputs: &[&Node], out: &mut TableData) -> Result<()> {
        let parent = inputs[0];
        self.history = parent.trims_front && !parent.blink;
        self.add(&parent.data, 0, parent.data.len());
        self.emit(out);
        Ok(())
    }

    fn process(&mut self, inputs: &[&Node], out: &mut TableData) -> Result<Option<Update>> {
        let parent = inputs[0];
        let (removed, added) = match &parent.update {
            None => return Ok(None),
            Some(Update::Fifo { removed, added }) => (*removed, *added),
            // A keyed parent (a join, a sort, an aggregation) is grouped again whole.
            Some(Update::Keyed { .. }) => (self.covered, parent.data.len()),
        };
        let len = parent.data.len();
        if removed > 0 && !parent.blink {
            if self.history && removed < self.covered {
                self.take_back(removed);
                if self.dead_groups_dominate() {
                    self.clear();
                    self.add(&parent.data, 0, len - added);
                }
            } else {
                self.clear();
                self.add(&parent.data, 0, len - added);
            }
        } else if added == 0 {
            return Ok(None);
        }
        self.add(&parent.data, len - added, added);
        let old = out.first_key..out.end_key();
        self.emit(out);
        Ok(Some(Update::Keyed {
            removed: old.collect(),
            added: (out.first_key..out.end_key()).collect(),
            modified: Vec::new(),
        }))
    }

    fn state_bytes(&self) -> (usize, usize) {
        let (mut used, mut reserved) = self.groups.bytes();
        used += self.gids.bytes_used() + self.group_rows.len() * 8;
        reserved += self.gids.bytes_reserved() + self.group_rows.capacity() * 8;
        for key in &self.keys {
            used += key.coder.interner.dict.len() * 8;
            reserved += key.coder.interner.bytes();
        }
        for a in &self.arrays {
            let (u, r) = a.bytes();
            used += u;
            reserved += r;
        }
        (used, reserved)
    }
}

/// Refuses array columns as keys (of `what`: a grouping, a sort, a join), naming the column.
pub(crate) fn refuse_array_keys(schema: &Schema, keys: &[&str], what: &str) -> Result<()> {
    for name in keys {
        let ty = schema.fields()[schema.index_of(name)?].ty;
        if ty.element().is_some() {
            return Err(Error::Invalid(format!(
                "{what}: {name} is an array column ({ty}), and arrays cannot be keys (ungroup it, \
                 or key on a formula of it such as len({name}))"
            )));
        }
    }
    Ok(())
}

/// Refuses `aggBy` over array columns: as keys, and as the input of a (scalar) aggregation.
pub(crate) fn refuse_arrays_in_agg(schema: &Schema, aggs: &[Agg], keys: &[&str]) -> Result<()> {
    refuse_array_keys(schema, keys, "aggBy")?;
    for agg in aggs.iter().filter(|a| a.kind != AggKind::Count) {
        let Some(input) = &agg.input else { continue };
        let ty = schema.fields()[schema.index_of(input)?].ty;
        if ty.element().is_some() {
            return Err(Error::Invalid(format!(
                "{} = {:?}({input}): {input} is an array column ({ty}); reduce it in a formula \
                 (sum({input}), len({input}), ...) or ungroup it first",
                agg.output, agg.kind
            )));
        }
    }
    Ok(())
}

impl Table {
    /// One row per group of `keys`, every other column an array of the group's values in row
    /// order (Deephaven's `groupBy`).
    pub fn group_by(&self, keys: &[&str]) -> Result<Table> {
        let aggs: Vec<ArrayAgg> = self
            .schema()
            .names()
            .into_iter()
            .filter(|n| !keys.contains(n))
            .map(ArrayAgg::group)
            .collect();
        self.agg_arrays(&aggs, keys)
    }

    /// Array aggregations (`Agg.group`, `Agg.distinct`) per group of `keys`.
    pub fn agg_arrays(&self, aggs: &[ArrayAgg], keys: &[&str]) -> Result<Table> {
        let schema = self.schema();
        refuse_array_keys(&schema, keys, "groupBy")?;
        let mut fields = Vec::new();
        let mut key_columns = Vec::new();
        for name in keys {
            let input = schema.index_of(name)?;
            let ty = schema.fields()[input].ty;
            fields.push(Field::new(*name, ty));
            key_columns.push(KeyColumn {
                input,
                ty,
                coder: KeyCoder::default(),
            });
        }
        let mut arrays = Vec::new();
        for agg in aggs {
            let input = schema.index_of(&agg.input)?;
            let kind = match agg.kind {
                ArrayAggKind::Group => ArrayKind::Group,
                ArrayAggKind::Distinct { include_nulls } => ArrayKind::Distinct { include_nulls },
            };
            let state = GroupArrays::new(kind, input, schema.fields()[input].ty)
                .map_err(|e| Error::Invalid(format!("{} = {}: {e}", agg.output, agg.input)))?;
            fields.push(Field::new(agg.output.clone(), state.output_type()));
            arrays.push(state);
        }
        let schema = Schema::new(fields)?;
        let op = GroupBy {
            groups: Groups::new(
                key_columns.len(),
                key_columns.iter().all(|k| k.ty == ColumnType::String),
            ),
            keys: key_columns,
            arrays,
            covered: 0,
            history: false,
            gids: Chunked::new(),
            group_rows: Vec::new(),
            codes: Vec::new(),
            block: Vec::new(),
        };
        self.engine
            .derive(vec![Rc::clone(&self.node)], schema, false, Box::new(op))
    }
}
