//! `merge`: the rows of every parent, parent after parent (Deephaven's `merge`).
//!
//! The output is updated in place when the change stays at its ends: rows leaving the front of the
//! first non-empty parent, and rows added at the back of the last one (a ring or append table
//! merged after static ones, or a single live parent). Any other change (an append to a parent
//! that has rows after it, a keyed parent) rewrites the output, a copy of whole chunks with no
//! per-row work; for blink parents that is exactly this cycle's rows.
//!
//! Invariant: `lens[i]` is the number of rows of parent `i` in the output, and the output is the
//! parents' rows in order.

use std::rc::Rc;

use super::Operator;
use crate::table::{Node, Table, TableData, Update};
use crate::{Error, Result};

struct Merge {
    lens: Vec<usize>,
}

/// A parent and a number of its rows.
type Rows = Option<(usize, usize)>;

impl Merge {
    fn rewrite(&mut self, inputs: &[&Node], out: &mut TableData) -> Result<Update> {
        out.rewrite(|fresh| {
            self.fill(inputs, fresh);
            Ok(())
        })
    }

    fn fill(&mut self, inputs: &[&Node], out: &mut TableData) {
        self.lens.clear();
        for input in inputs {
            for (o, c) in out.columns.iter_mut().zip(&input.data.columns) {
                o.extend_from(c);
            }
            self.lens.push(input.data.len());
        }
    }

    /// The change, when it is rows off the output's front and rows onto its back: (the parent
    /// that removes, and how many), (the parent that adds, and how many).
    fn at_the_ends(&self, inputs: &[&Node]) -> Option<(Rows, Rows)> {
        let quiet = |j: usize| self.lens[j] == 0 && inputs[j].update.is_none();
        let (mut front, mut back) = (None, None);
        for (i, input) in inputs.iter().enumerate() {
            match &input.update {
                None => {}
                Some(Update::Fifo { removed, added }) => {
                    if *removed > 0 {
                        if front.is_some() || !(0..i).all(quiet) {
                            return None;
                        }
                        front = Some((i, *removed));
                    }
                    if *added > 0 {
                        if back.is_some() || !(i + 1..inputs.len()).all(quiet) {
                            return None;
                        }
                        back = Some((i, *added));
                    }
                }
                Some(Update::Keyed { .. }) => return None,
            }
        }
        Some((front, back))
    }
}

impl Operator for Merge {
    fn initialize(&mut self, inputs: &[&Node], out: &mut TableData) -> Result<()> {
        self.fill(inputs, out);
        Ok(())
    }

    fn process(&mut self, inputs: &[&Node], out: &mut TableData) -> Result<Option<Update>> {
        let Some((front, back)) = self.at_the_ends(inputs) else {
            return self.rewrite(inputs, out).map(Some);
        };
        let mut update = (0, 0);
        if let Some((i, removed)) = front {
            out.pop_front(removed);
            self.lens[i] -= removed.min(self.lens[i]);
            update.0 = removed;
        }
        if let Some((i, added)) = back {
            let data = &inputs[i].data;
            for (o, c) in out.columns.iter_mut().zip(&data.columns) {
                o.extend_from_range(c, data.len() - added, added);
            }
            self.lens[i] += added;
            update.1 = added;
        }
        Ok((update != (0, 0)).then_some(Update::Fifo {
            removed: update.0,
            added: update.1,
        }))
    }
}

impl Table {
    /// This table's rows, then each of `others`' (Deephaven's `merge`); all need the same
    /// columns. A merge of blink tables is blink.
    pub fn merge(&self, others: &[&Table]) -> Result<Table> {
        let schema = self.schema();
        for other in others {
            if other.schema() != schema {
                return Err(Error::Invalid(format!(
                    "merge: columns [{}] do not match [{}]",
                    other.schema().names().join(", "),
                    schema.names().join(", ")
                )));
            }
        }
        let mut parents = vec![Rc::clone(&self.node)];
        parents.extend(others.iter().map(|t| Rc::clone(&t.node)));
        let blink = self.is_blink() && others.iter().all(|t| t.is_blink());
        self.engine
            .derive(parents, schema, blink, Box::new(Merge { lens: Vec::new() }))
    }
}
