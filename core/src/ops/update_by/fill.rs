//! `forwardFill`: the last non-null value of the group so far (null before the first), of any
//! type.
//!
//! Invariant: `last` is the value of the last non-null row pushed, or null.

use super::fold::{Entry, Fold, Sink, push_value};
use crate::Result;
use crate::column::Value;

#[derive(Clone)]
pub(crate) struct FillFold {
    last: Value,
}

impl FillFold {
    pub(crate) fn new() -> Self {
        Self { last: Value::Null }
    }
}

impl Fold for FillFold {
    fn push(&mut self, _: &Entry, _: u64, value: Option<&Value>) -> Result<()> {
        if let Some(v) = value.filter(|v| !v.is_null()) {
            self.last = v.clone();
        }
        Ok(())
    }

    fn pop(&mut self, _: &Entry, _: u64) {}

    fn emit(&self, out: &mut Sink) {
        push_value(out, &self.last);
    }

    fn converges(&self) -> bool {
        true
    }
}
