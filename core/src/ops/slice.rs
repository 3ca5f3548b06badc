//! `head` and `tail`: the result is at most the rows asked for, and is rebuilt whenever the
//! parent changes. A rebuild reports every old row removed and every new row added.

use std::rc::Rc;

use super::Operator;
use crate::Result;
use crate::table::{Node, Schema, Table, TableData, Update};

/// How a result is computed from the parents' current rows.
trait Rebuild {
    fn rebuild(&mut self, inputs: &[&Node], out: &mut TableData) -> Result<()>;
}

struct Rebuilt<R>(R);

impl<R: Rebuild> Operator for Rebuilt<R> {
    fn initialize(&mut self, inputs: &[&Node], out: &mut TableData) -> Result<()> {
        self.0.rebuild(inputs, out)
    }

    /// Rebuilds into a fresh table, so a failure leaves the last good rows in place.
    fn process(&mut self, inputs: &[&Node], out: &mut TableData) -> Result<Option<Update>> {
        out.rewrite(|fresh| self.0.rebuild(inputs, fresh)).map(Some)
    }
}

struct Slice {
    head: bool,
    count: usize,
}

impl Rebuild for Slice {
    fn rebuild(&mut self, inputs: &[&Node], out: &mut TableData) -> Result<()> {
        let data = &inputs[0].data;
        let n = self.count.min(data.len());
        let start = if self.head { 0 } else { data.len() - n };
        for (o, c) in out.columns.iter_mut().zip(&data.columns) {
            o.extend_from_range(c, start, n);
        }
        Ok(())
    }
}

impl Table {
    /// A rebuilt table is blink when its parent is (the head of a stream table), so an
    /// aggregation over it still accumulates, as in Deephaven.
    fn rebuilt(&self, schema: Schema, op: impl Rebuild + 'static) -> Result<Table> {
        let blink = self.is_blink();
        self.engine.derive(
            vec![Rc::clone(&self.node)],
            schema,
            blink,
            Box::new(Rebuilt(op)),
        )
    }

    /// The first `count` rows.
    pub fn head(&self, count: usize) -> Result<Table> {
        self.rebuilt(self.schema(), Slice { head: true, count })
    }

    /// The last `count` rows.
    pub fn tail(&self, count: usize) -> Result<Table> {
        self.rebuilt(self.schema(), Slice { head: false, count })
    }
}
