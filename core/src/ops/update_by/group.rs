//! `rollingGroup`: the window's values, nulls included, as an array of the input's type
//! (Deephaven's vectors; `column/array.rs`).
//!
//! Invariant: `values` are the inputs of the rows pushed and not popped, oldest first.

use std::collections::VecDeque;

use super::fold::{Entry, Fold, Sink, push_value};
use crate::Result;
use crate::column::Value;

#[derive(Clone, Default)]
pub(crate) struct GroupFold {
    values: VecDeque<Value>,
}

impl Fold for GroupFold {
    fn push(&mut self, _: &Entry, _: u64, value: Option<&Value>) -> Result<()> {
        self.values.push_back(value.cloned().unwrap_or(Value::Null));
        Ok(())
    }

    fn pop(&mut self, _: &Entry, _: u64) {
        self.values.pop_front();
    }

    fn emit(&self, out: &mut Sink) {
        let array = Value::Array(self.values.iter().cloned().collect());
        push_value(out, &array);
    }

    fn bytes(&self) -> usize {
        self.values.capacity() * std::mem::size_of::<Value>()
    }
}
