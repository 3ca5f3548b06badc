//! `delta`: a row's value minus the previous row's in its group (Deephaven's `Delta`), of the
//! input's type (integers wrap as Java's do). A null current value gives null; a null previous
//! value (or none: the group's first row) gives what [`DeltaControl`] says.
//!
//! Invariant: `prev` is the input of the last row pushed, null included.

use super::fold::{Entry, Fold, Sink, push_f64, push_i64};
use super::spec::DeltaControl;
use crate::Result;
use crate::column::{NULL_F64, NULL_I64, Value};

#[derive(Clone)]
pub(crate) struct DeltaFold {
    pub float: bool,
    pub control: DeltaControl,
    prev: Entry,
    out: (f64, i64),
}

impl DeltaFold {
    pub(crate) fn new(float: bool, control: DeltaControl) -> Self {
        Self {
            float,
            control,
            prev: Entry::default(),
            out: (NULL_F64, NULL_I64),
        }
    }
}

impl Fold for DeltaFold {
    fn push(&mut self, e: &Entry, _: u64, _: Option<&Value>) -> Result<()> {
        self.out = if e.is_null() {
            (NULL_F64, NULL_I64)
        } else if self.prev.is_null() {
            match self.control {
                DeltaControl::NullDominates => (NULL_F64, NULL_I64),
                DeltaControl::ValueDominates => (e.x, e.i),
                DeltaControl::ZeroDominates => (0.0, 0),
            }
        } else {
            (e.x - self.prev.x, e.i.wrapping_sub(self.prev.i))
        };
        self.prev = *e;
        Ok(())
    }

    fn pop(&mut self, _: &Entry, _: u64) {}

    fn emit(&self, out: &mut Sink) {
        if self.float {
            push_f64(out, self.out.0);
        } else {
            push_i64(out, self.out.1);
        }
    }
}
