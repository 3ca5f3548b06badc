//! `aggBy` (and `countBy`, `firstBy`, `lastBy`): incremental grouped aggregation.
//!
//! The state is columnar, as in DataFusion's `GroupsAccumulator`: a group index maps each key
//! tuple to a dense group id, and each aggregation keeps one vector indexed by group id. A batch
//! of added rows is processed column by column: first the group id of every row, then each
//! accumulator over the whole batch.
//!
//! Which rows an aggregation covers follows Deephaven:
//! - over a blink table, every row ever seen: removals are ignored;
//! - otherwise, the rows the parent has now. When the parent removed everything (a `dropStream`
//!   of a stream, each cycle), the state restarts from that cycle's rows. When it removes rows from
//!   the front (a ring table), the operator keeps a [`History`] of each covered row's group and
//!   inputs and takes the leaving rows back: sums subtract (double-double sums, exact within
//!   106 bits), CountDistinct keeps a multiset, and Min, Max, First and Last keep per-group windows
//!   (monotonic for Min and Max), since rows leave each group in the order they came.
//!
//! A group's row exists while the group covers at least one row; so a keyless aggregation has a
//! row once a row was seen (blink), or while its parent has rows (otherwise).
//!
//! The built-in kinds are [`Accumulator`]s; kinds that keep their own per-group state (a median's
//! order statistics, ...) are [`GroupReducer`]s, one per file, fed the same blocks and group ids.
//!
//! Output columns: the key columns, then one per aggregation, in the order given. Strings are
//! grouped by value (each string column is interned into the operator's own dictionary), numbers by
//! value, doubles by bit pattern.

mod abs_sum;
mod accumulator;
mod by;
mod count_where;
mod group;
mod history;
mod percentile;
mod reducer;
mod sorted;
mod spec;
#[cfg(test)]
pub(super) mod tests;
mod unique;
mod values;

/// The exact double-double sums of `Sum`, `Avg`, `Var`, `Std` and `WAvg`, which `updateBy`'s
/// rolling sums share.
pub(crate) mod exact_sum {
    pub(crate) use super::accumulator::{
        add, add_finite, add_square, finish, sample_variance, sub, sub_square,
    };
}

use std::rc::Rc;

use super::Operator;
use super::code_pairs::{CodePairs, PairKey};
use super::groups::Groups;
use super::keys::KeyCoder;
use crate::column::{Column, ColumnType};
use crate::table::{Field, Node, Schema, Table, TableData, Update};
use crate::{Error, Result};
use accumulator::Accumulator;
use history::History;
use reducer::GroupReducer;
pub use spec::{Agg, AggKind, AggOptions};

/// Rows aggregated at a time: codes, group ids and inputs of a block stay in cache.
const ROWS_PER_BLOCK: usize = 4_096;

struct KeyColumn {
    input: usize,
    ty: ColumnType,
    coder: KeyCoder,
}

/// Where an output column's values come from.
#[derive(Clone, Copy)]
enum Part {
    Accumulator(usize),
    Reducer(usize),
}

struct AggBy {
    keys: Vec<KeyColumn>,
    accs: Vec<Accumulator>,
    reducers: Vec<Box<dyn GroupReducer>>,
    /// One per aggregation, in output order.
    parts: Vec<Part>,
    groups: Groups,
    /// Present when the parent trims its front.
    history: Option<History>,
    /// Parent rows the state covers (non-blink parents).
    covered: usize,
    gids: Vec<u32>,
    codes: Vec<Vec<u64>>,
    /// The group ids of two dictionary-coded string keys, by their parent codes.
    pairs: CodePairs,
}

impl AggBy {
    fn clear(&mut self) {
        self.groups.clear();
        self.pairs.clear();
        self.accs.iter_mut().for_each(Accumulator::clear);
        self.reducers.iter_mut().for_each(|r| r.clear());
        // Strings of rows no longer covered must not stay interned.
        self.keys
            .iter_mut()
            .for_each(|k| k.coder = KeyCoder::default());
        self.covered = 0;
        if self.history.is_some() {
            self.history = Some(History::new(self.accs.len()));
        }
    }

    /// Whether groups with no covered row outnumber the live ones (and are many): then the state
    /// is rebuilt from the parent's rows, so keys that left long ago stop holding memory.
    fn dead_groups_dominate(&self) -> bool {
        self.history.as_ref().is_some_and(|h| {
            let live = h.group_rows.iter().filter(|&&n| n > 0).count();
            let dead = h.group_rows.len() - live;
            dead > 1_024 && dead > live
        })
    }

    /// Takes back the `count` oldest covered rows.
    fn forget(&mut self, count: usize) {
        let Some(h) = &mut self.history else { return };
        let gids = h.forget(&mut self.accs, count);
        for r in &mut self.reducers {
            r.take_back(&gids);
        }
    }

    /// Aggregates parent rows `start .. start + count`; marks the groups touched. A block of rows
    /// at a time, so the scratch vectors (codes, group ids, inputs) stay in cache.
    fn add_rows(
        &mut self,
        parent: &TableData,
        start: usize,
        count: usize,
        touched: &mut Vec<bool>,
    ) -> Result<()> {
        let end = start + count;
        let mut at = start;
        while at < end {
            let n = ROWS_PER_BLOCK.min(end - at);
            self.add_block(parent, at, n, touched)?;
            at += n;
        }
        Ok(())
    }

    fn add_block(
        &mut self,
        parent: &TableData,
        start: usize,
        count: usize,
        touched: &mut Vec<bool>,
    ) -> Result<()> {
        if !self.pair_ids(parent, start, count) {
            // Key codes, column by column.
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
            // Group ids, row by row.
            let columns: Vec<&[u64]> = self.codes.iter().map(Vec::as_slice).collect();
            self.groups.ids(&columns, count, &mut self.gids);
        }
        let groups = self.groups.len;
        touched.resize(groups, false);
        let touched = touched.as_mut_slice();
        for &g in &self.gids {
            touched[g as usize] = true;
        }
        // Accumulators, column by column.
        for acc in &mut self.accs {
            acc.grow(groups);
            let column = &parent.columns[acc.input];
            let weight = acc.weight.map(|w| &parent.columns[w]);
            acc.update(column, weight, start, count, &self.gids);
        }
        for r in &mut self.reducers {
            r.grow(groups);
            r.add(parent, start, count, &self.gids)?;
        }
        self.covered += count;
        if let Some(h) = &mut self.history {
            h.remember(&self.accs, &self.gids, groups, count);
            h.refresh_windows(&mut self.accs, &self.gids);
        }
        Ok(())
    }

    /// The group ids of a block when the keys are two dictionary-coded string columns (the
    /// seed's), into `gids`; `false` otherwise.
    fn pair_ids(&mut self, parent: &TableData, start: usize, count: usize) -> bool {
        let [a, b] = &mut self.keys[..] else {
            return false;
        };
        let key = |k: &KeyColumn| match parent.columns.get(k.input) {
            Some(Column::String(s)) => s.dictionary().zip(s.codes()),
            _ => None,
        };
        let (Some((dict_a, codes_a)), Some((dict_b, codes_b))) = (key(a), key(b)) else {
            return false;
        };
        let keys = [
            PairKey {
                dict: dict_a,
                codes: codes_a,
                interner: &mut a.coder.interner,
            },
            PairKey {
                dict: dict_b,
                codes: codes_b,
                interner: &mut b.coder.interner,
            },
        ];
        self.pairs
            .ids(keys, start, count, &mut self.groups, &mut self.gids)
    }

    /// Writes every group into `out` (keys first, then aggregations).
    fn emit(&self, out: &mut TableData) {
        let first_key = out.first_key;
        out.columns.iter_mut().for_each(Column::clear);
        out.first_key = first_key;
        let width = self.keys.len();
        for g in 0..self.groups.len {
            if self
                .history
                .as_ref()
                .is_some_and(|h| h.group_rows.get(g).is_none_or(|&n| n == 0))
            {
                continue;
            }
            for (k, key) in self.keys.iter().enumerate() {
                let code = self.groups.keys[g * width + k];
                key.coder.push_value(code, &mut out.columns[k]);
            }
            for (a, part) in self.parts.iter().enumerate() {
                let column = &mut out.columns[width + a];
                match *part {
                    Part::Accumulator(i) => self.accs[i].emit(g, column),
                    Part::Reducer(i) => self.reducers[i].emit(g, column),
                }
            }
        }
    }
}

impl Operator for AggBy {
    fn initialize(&mut self, inputs: &[&Node], out: &mut TableData) -> Result<()> {
        if inputs[0].trims_front && !inputs[0].blink {
            self.history = Some(History::new(self.accs.len()));
            self.reducers.iter_mut().for_each(|r| r.keep_history());
        }
        let parent = &inputs[0].data;
        let mut touched = Vec::new();
        self.add_rows(parent, 0, parent.len(), &mut touched)?;
        self.emit(out);
        Ok(())
    }

    fn process(&mut self, inputs: &[&Node], out: &mut TableData) -> Result<Option<Update>> {
        let parent = inputs[0];
        let (removed, added) = match &parent.update {
            None => return Ok(None),
            Some(Update::Fifo { removed, added }) => (*removed, *added),
            // A keyed parent (a join, a sort, another aggregation) is aggregated again whole.
            Some(Update::Keyed { .. }) => (self.covered, parent.data.len()),
        };
        let old_groups = self.groups.len;
        let old_keys: Vec<u64> = (out.first_key..out.end_key()).collect();
        let len = parent.data.len();
        let mut touched = Vec::new();
        let rebuilt = removed > 0 && !parent.blink;
        let everything = removed >= self.covered;
        if rebuilt && !everything && self.history.is_some() {
            // A ring: undo the rows that left, add the new ones, re-emit the live groups.
            self.forget(removed);
            self.covered -= removed;
            self.add_rows(&parent.data, len - added, added, &mut touched)?;
            if self.dead_groups_dominate() {
                self.clear();
                self.add_rows(&parent.data, 0, len, &mut touched)?;
            }
            out.clear();
            self.emit(out);
            return Ok(Some(Update::Keyed {
                removed: old_keys,
                added: (out.first_key..out.end_key()).collect(),
                modified: Vec::new(),
            }));
        }
        if rebuilt {
            self.clear();
            let (start, count) = if everything {
                (len - added, added)
            } else {
                (0, len)
            };
            self.add_rows(&parent.data, start, count, &mut touched)?;
            out.clear();
            self.emit(out);
            let added_keys = (out.first_key..out.end_key()).collect();
            return Ok(Some(Update::Keyed {
                removed: old_keys,
                added: added_keys,
                modified: Vec::new(),
            }));
        }
        if added == 0 {
            return Ok(None);
        }
        self.add_rows(&parent.data, len - added, added, &mut touched)?;
        if self.history.is_some() {
            // Groups with no rows are skipped, so positions are not group ids: report it all.
            out.clear();
            self.emit(out);
            return Ok(Some(Update::Keyed {
                removed: old_keys,
                added: (out.first_key..out.end_key()).collect(),
                modified: Vec::new(),
            }));
        }
        self.emit(out);
        let first = out.first_key;
        let modified = (0..old_groups)
            .filter(|&g| touched.get(g).copied().unwrap_or(false))
            .map(|g| first + g as u64)
            .collect();
        let added_keys = (old_groups..self.groups.len)
            .map(|g| first + g as u64)
            .collect();
        Ok(Some(Update::Keyed {
            removed: Vec::new(),
            added: added_keys,
            modified,
        }))
    }

    fn state_bytes(&self) -> (usize, usize) {
        let mut total = self.groups.bytes();
        total.0 += self.pairs.bytes();
        total.1 += self.pairs.bytes();
        for acc in &self.accs {
            let (u, r) = acc.bytes();
            total.0 += u;
            total.1 += r;
        }
        for reducer in &self.reducers {
            let (u, r) = reducer.bytes();
            total.0 += u;
            total.1 += r;
        }
        for key in &self.keys {
            total.0 += key.coder.interner.dict.len() * 8;
            total.1 += key.coder.interner.bytes();
        }
        if let Some(h) = &self.history {
            let (u, r) = h.bytes();
            total.0 += u;
            total.1 += r;
        }
        total
    }
}

impl Table {
    /// Groups rows by `keys` and computes `aggs` per group (Deephaven's `aggBy`).
    pub fn agg_by(&self, aggs: &[Agg], keys: &[&str]) -> Result<Table> {
        let parent_schema = self.schema();
        super::keys::refuse_arrays_in_agg(&parent_schema, aggs, keys)?;
        group::refuse_group_over_blink(aggs, self.is_blink())?;
        let mut fields = Vec::new();
        let mut key_columns = Vec::new();
        for name in keys {
            let input = parent_schema.index_of(name)?;
            let ty = parent_schema.fields()[input].ty;
            fields.push(Field::new(*name, ty));
            key_columns.push(KeyColumn {
                input,
                ty,
                coder: KeyCoder::default(),
            });
        }
        let (mut accs, mut reducers, mut parts) = (Vec::new(), Vec::new(), Vec::new());
        for agg in aggs {
            if let Some(r) = reducer::reducer(agg, &parent_schema)? {
                fields.push(Field::new(agg.output.clone(), r.output_type()));
                parts.push(Part::Reducer(reducers.len()));
                reducers.push(r);
                continue;
            }
            let (acc, ty) = accumulator(agg, &parent_schema)?;
            fields.push(Field::new(agg.output.clone(), ty));
            parts.push(Part::Accumulator(accs.len()));
            accs.push(acc);
        }
        let schema = Schema::new(fields)?;
        let op = AggBy {
            history: None,
            groups: Groups::new(
                key_columns.len(),
                key_columns.iter().all(|k| k.ty == ColumnType::String),
            ),
            keys: key_columns,
            accs,
            reducers,
            parts,
            covered: 0,
            gids: Vec::new(),
            codes: Vec::new(),
            pairs: CodePairs::default(),
        };
        self.engine
            .derive(vec![Rc::clone(&self.node)], schema, false, Box::new(op))
    }
}

/// The accumulator of a built-in `agg` over a parent of `schema`, and its output type.
fn accumulator(agg: &Agg, schema: &Schema) -> Result<(Accumulator, ColumnType)> {
    let (input, input_ty) = match &agg.input {
        Some(name) => {
            let i = schema.index_of(name)?;
            (i, schema.fields()[i].ty)
        }
        None => (0, ColumnType::I64),
    };
    let weight = match &agg.weight {
        Some(name) => {
            let w = schema.index_of(name)?;
            if !schema.fields()[w].ty.is_numeric() {
                return Err(Error::Invalid(format!(
                    "{}: the weight column {name} is not numeric",
                    agg.output
                )));
            }
            Some(w)
        }
        None if agg.kind == AggKind::WAvg => {
            return Err(Error::Invalid(format!(
                "{}: WAvg needs a weight column",
                agg.output
            )));
        }
        None => None,
    };
    let ty = Accumulator::output_type(agg.kind, input_ty).map_err(|e| {
        Error::Invalid(format!(
            "{} = {:?}({}): {e}",
            agg.output,
            agg.kind,
            agg.input.as_deref().unwrap_or("")
        ))
    })?;
    Ok((Accumulator::new(agg.kind, input, input_ty, weight), ty))
}
