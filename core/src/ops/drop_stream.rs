//! `dropStream`: the same rows as a blink table, without the blink attribute, so aggregations
//! downstream see only the current cycle's rows instead of accumulating.

use std::rc::Rc;

use super::Operator;
use crate::Result;
use crate::table::{Node, Table, TableData, Update};

struct DropStream;

/// Copies the parent's rows: the last `added` rows of the parent, after `removed` from the front.
fn mirror(parent: &Node, out: &mut TableData, removed: usize, added: usize) {
    out.pop_front(removed);
    let start = parent.data.len().saturating_sub(added);
    for (o, p) in out.columns.iter_mut().zip(&parent.data.columns) {
        o.extend_from_range(p, start, added);
    }
}

impl Operator for DropStream {
    fn initialize(&mut self, inputs: &[&Node], out: &mut TableData) -> Result<()> {
        let parent = inputs[0];
        mirror(parent, out, 0, parent.data.len());
        Ok(())
    }

    fn process(&mut self, inputs: &[&Node], out: &mut TableData) -> Result<Option<Update>> {
        match inputs[0].update.clone() {
            Some(Update::Fifo { removed, added }) => {
                mirror(inputs[0], out, removed, added);
                Ok(Some(Update::Fifo { removed, added }))
            }
            // A rewrite (a time-dependent `where` whose rows aged out from the middle): mirror
            // the parent's rows whole.
            Some(Update::Keyed { .. }) => {
                let parent = inputs[0];
                out.rewrite(|fresh| {
                    mirror(parent, fresh, 0, parent.data.len());
                    Ok(())
                })
                .map(Some)
            }
            None => Ok(None),
        }
    }

    fn keeps_rows_in_parent_order(&self) -> bool {
        true
    }
}

impl Table {
    /// The same rows, no longer blink: an aggregation over it covers only the current cycle.
    pub fn drop_stream(&self) -> Result<Table> {
        let schema = self.schema();
        self.engine.derive(
            vec![Rc::clone(&self.node)],
            schema,
            false,
            Box::new(DropStream),
        )
    }
}
