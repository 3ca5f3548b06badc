//! Operators: how a derived table turns its parents' updates into its own.
//!
//! Each operator implements [`Operator`]: `initialize` once over the parents' current rows, then
//! `process` in every cycle where a parent changed. The public entry points are methods on
//! [`Table`](crate::Table) (`drop_stream`, `agg_by`, `count_by`, ...).

mod agg;
#[cfg(test)]
mod array_tests;
mod as_of_join;
mod code_pairs;
mod columns;
mod drop_stream;
mod exact_join;
pub mod format;
mod groups;
mod join;
#[cfg(test)]
mod join_tests;
pub(crate) mod key_ids;
pub(crate) mod keys;
mod merge;
#[cfg(test)]
mod nan_order_tests;
#[cfg(test)]
mod operator_tests;
pub(crate) mod packed_sort;
mod product_join;
mod row_matches;
mod rowwise;
mod select_distinct;
mod slice;
mod slice_by;
mod sort;
mod sort_keys;
#[cfg(test)]
mod tests;
mod ungroup;
mod update_by;
mod where_in;
#[cfg(test)]
mod where_tests;

pub use agg::{Agg, AggKind, AggOptions};
pub use product_join::ROW_LIMIT as JOIN_ROW_LIMIT;
pub use update_by::{
    BadData, DeltaControl, OperationControl, UpdateBy, UpdateByKind, UpdateByWindow,
};

use crate::Result;
use crate::table::{Node, TableData, Update};

/// A derived table's logic.
pub(crate) trait Operator {
    /// Fills `out` from the parents' current rows.
    fn initialize(&mut self, inputs: &[&Node], out: &mut TableData) -> Result<()>;

    /// Applies this cycle's parent updates to `out`; returns `out`'s update, if it changed.
    fn process(&mut self, inputs: &[&Node], out: &mut TableData) -> Result<Option<Update>>;

    /// Bytes (used, reserved) of state kept besides `out`.
    fn state_bytes(&self) -> (usize, usize) {
        (0, 0)
    }

    /// Whether `out` holds (a subset of) the parent's rows in the parent's order, removed when
    /// the parent removes them: true for row-wise operators.
    fn keeps_rows_in_parent_order(&self) -> bool {
        false
    }

    /// Gives the operator the engine's clock before a cycle (and before `initialize`); `true`
    /// if its table depends on it, and so must be processed every cycle, its parents changed
    /// or not, and may remove rows when none of its parents did: from its front (a FIFO
    /// update), or from anywhere (a keyed rewrite: every old key removed, the new ones added).
    fn advance_clock(&mut self, _now: i64) -> bool {
        false
    }
}

/// `"Out = In"` or `"Col"` → (Out, In).
/// The update of a join that dropped `removed` rows from its front (its first key was
/// `first_before`), appended `added` rows (its keys now end at `end_key`) and rewrote `modified`
/// in place: `Fifo` when nothing was rewritten (none when nothing changed), else as keys.
pub(crate) fn join_update(
    first_before: u64,
    removed: usize,
    added: usize,
    end_key: u64,
    modified: Vec<u64>,
) -> Option<Update> {
    if modified.is_empty() {
        return (removed > 0 || added > 0).then_some(Update::Fifo { removed, added });
    }
    Some(Update::Keyed {
        removed: (first_before..first_before + removed as u64).collect(),
        added: (end_key - added as u64..end_key).collect(),
        modified,
    })
}

pub(crate) fn name_pair(spec: &str) -> (String, String) {
    match spec.split_once('=') {
        Some((a, b)) => (a.trim().to_owned(), b.trim().to_owned()),
        None => (spec.trim().to_owned(), spec.trim().to_owned()),
    }
}

/// Splits `"A, B = C"` or a list into trimmed, non-empty names.
pub(crate) fn names(specs: &[&str]) -> Vec<String> {
    specs
        .iter()
        .flat_map(|s| s.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}
