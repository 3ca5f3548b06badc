//! `exactJoin`: each left row with the columns of the one right row whose keys match; a left row
//! with no match, or a key with more than one right row, is an error (Deephaven's semantics: its
//! `naturalJoin` with the exact-match check, whose message it keeps).
//!
//! It is [`NaturalJoin`] plus that check, so it stays live at the same cost: when only left rows
//! were added, only they are checked; when the right table changed, every left row's key id is
//! (a scan of 4 bytes a row, as `naturalJoin`'s patch). An error at build time is returned; in a
//! later cycle it marks the table failed, which keeps its last good rows.
//!
//! Invariant: after every successful cycle, every output row has a right match.

use std::rc::Rc;

use super::Operator;
use super::join::NaturalJoin;
use crate::column::Value;
use crate::table::{Node, Table, TableData, Update};
use crate::{Error, Result};

/// No right row has this key (as in [`NaturalJoin`]).
const NO_ROW: u64 = u64::MAX;

struct ExactJoin {
    inner: NaturalJoin,
}

impl ExactJoin {
    /// Fails on the first of the output rows `from..` whose key has no right row.
    fn check(&self, left: &TableData, from: usize) -> Result<()> {
        let rows = self.inner.left_ids.len();
        let mut position = from;
        for slice in self
            .inner
            .left_ids
            .slices_range(from, rows.saturating_sub(from))
        {
            for &id in slice {
                if self
                    .inner
                    .right_of
                    .get(id as usize)
                    .is_none_or(|&r| r == NO_ROW)
                {
                    return Err(self.missing(left, position));
                }
                position += 1;
            }
        }
        Ok(())
    }

    fn missing(&self, left: &TableData, position: usize) -> Error {
        let shown: Vec<String> = self
            .inner
            .left_keys
            .iter()
            .map(|&c| {
                left.columns[c]
                    .get(position)
                    .unwrap_or(Value::Null)
                    .to_string()
            })
            .collect();
        let key = match shown.as_slice() {
            [one] => one.clone(),
            many => format!("[{}]", many.join(", ")),
        };
        Error::Invalid(format!(
            "exactJoin: Tables don't have one-to-one mapping - no mappings for key {key}."
        ))
    }
}

impl Operator for ExactJoin {
    fn initialize(&mut self, inputs: &[&Node], out: &mut TableData) -> Result<()> {
        self.inner.initialize(inputs, out)?;
        self.check(&inputs[0].data, 0)
    }

    fn process(&mut self, inputs: &[&Node], out: &mut TableData) -> Result<Option<Update>> {
        let update = self.inner.process(inputs, out)?;
        let from = match (&inputs[0].update, &inputs[1].update, &update) {
            // Only left rows added at the back: check those.
            (Some(Update::Fifo { added, .. }), None, Some(Update::Fifo { .. })) => {
                self.inner.left_ids.len().saturating_sub(*added)
            }
            (None, None, _) => return Ok(update),
            _ => 0,
        };
        self.check(&inputs[0].data, from)?;
        Ok(update)
    }

    fn state_bytes(&self) -> (usize, usize) {
        self.inner.state_bytes()
    }
}

impl Table {
    /// Deephaven's `exactJoin`: each row of this table with `columns` of the one `right` row
    /// whose `on` keys match (entries as [`Table::natural_join`] takes them). A row with no
    /// match or a key with two right rows is an error: at build time, or in a later cycle,
    /// where it marks this table failed.
    pub fn exact_join(&self, right: &Table, on: &[&str], columns: &[&str]) -> Result<Table> {
        let (schema, inner) = self.natural_join_op("exactJoin", right, on, columns)?;
        let parents = vec![Rc::clone(&self.node), Rc::clone(&right.node)];
        self.engine
            .derive(parents, schema, false, Box::new(ExactJoin { inner }))
    }
}
