//! [`GroupReducer`]: the extension point for aggregations that keep their own per-group state
//! (a median's order statistics, a sorted-first's ordered rows, ...), beside the built-in
//! [`Accumulator`](super::accumulator::Accumulator) kinds whose hot paths stay as they are.
//!
//! A reducer is columnar, as the accumulators are: it holds the state of every group, indexed by
//! the dense group id, and is fed a block of rows with their group ids. Over a parent that trims
//! its front (a ring table) the operator calls [`GroupReducer::keep_history`] first; from then on
//! the reducer keeps what it needs to take rows back (its own per-row values, in a
//! [`Chunked`](crate::column::Chunked), since the parent no longer holds rows that left), and
//! [`GroupReducer::take_back`] receives the group ids of the oldest rows, which leave first.
//!
//! Adding an aggregation: an [`AggKind`] variant, a file holding its reducer with a
//! `new(agg, schema)` constructor, and one arm in [`reducer`].

use super::{Agg, AggKind, abs_sum, count_where, group, percentile, sorted, unique};
use crate::column::{Column, ColumnType};
use crate::table::{Schema, TableData};
use crate::{Error, Result};

/// One aggregation's state over all groups.
pub(crate) trait GroupReducer {
    /// The output column's type (fixed when the reducer is built from its input types).
    fn output_type(&self) -> ColumnType;

    /// Called once, before any row, when the parent removes rows from its front but not all of
    /// them (a ring): from then on, [`add`](Self::add) keeps what [`take_back`](Self::take_back)
    /// needs.
    fn keep_history(&mut self);

    /// Makes room for groups `0..groups` (new groups cover no row).
    fn grow(&mut self, groups: usize);

    /// Adds parent rows `start .. start + count`, row `start + i` to group `gids[i]`.
    fn add(&mut self, parent: &TableData, start: usize, count: usize, gids: &[u32]) -> Result<()>;

    /// Takes back the oldest covered rows, one per entry of `gids` (their groups, oldest first).
    /// Only called after [`keep_history`](Self::keep_history).
    fn take_back(&mut self, gids: &[u32]);

    /// Forgets every row and group (the history mode stays).
    fn clear(&mut self);

    /// Appends group `g`'s value to `out` (a column of [`output_type`](Self::output_type)). Only
    /// called for groups that cover at least one row.
    fn emit(&self, g: usize, out: &mut Column);

    /// Bytes (used, reserved) of state.
    fn bytes(&self) -> (usize, usize);
}

/// The reducer of `agg` over a parent of `schema`; `None` for the built-in accumulator kinds.
pub(super) fn reducer(agg: &Agg, schema: &Schema) -> Result<Option<Box<dyn GroupReducer>>> {
    let reducer = match agg.kind {
        AggKind::Count
        | AggKind::Sum
        | AggKind::Min
        | AggKind::Max
        | AggKind::Avg
        | AggKind::First
        | AggKind::Last
        | AggKind::CountDistinct
        | AggKind::Var
        | AggKind::Std
        | AggKind::WAvg => return Ok(None),
        AggKind::AbsSum => abs_sum::new(agg, schema)?,
        AggKind::Median | AggKind::Pct => percentile::new(agg, schema)?,
        AggKind::Unique => unique::new(agg, schema)?,
        AggKind::SortedFirst | AggKind::SortedLast => sorted::new(agg, schema)?,
        AggKind::CountWhere => count_where::new(agg, schema)?,
        AggKind::Group | AggKind::Distinct => group::new(agg, schema)?,
    };
    Ok(Some(reducer))
}

/// The index and type of `agg`'s input column in `schema`.
pub(super) fn input_column(agg: &Agg, schema: &Schema) -> Result<(usize, ColumnType)> {
    let name = agg
        .input
        .as_deref()
        .ok_or_else(|| Error::Invalid(format!("{}: no input column", agg.output)))?;
    let i = schema.index_of(name)?;
    Ok((i, schema.fields()[i].ty))
}
