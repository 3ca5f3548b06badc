//! `rollingCount`: the non-null values of a window (a NaN is a value), as a long.
//!
//! Invariant: `count` is the number of non-null rows pushed and not popped.

use super::fold::{Entry, Fold, Sink, push_i64};
use crate::Result;
use crate::column::Value;

#[derive(Clone, Default)]
pub(crate) struct CountFold {
    count: i64,
}

impl Fold for CountFold {
    fn push(&mut self, e: &Entry, _: u64, _: Option<&Value>) -> Result<()> {
        self.count += i64::from(!e.is_null());
        Ok(())
    }

    fn pop(&mut self, e: &Entry, _: u64) {
        self.count -= i64::from(!e.is_null());
    }

    fn emit(&self, out: &mut Sink) {
        push_i64(out, self.count);
    }
}
