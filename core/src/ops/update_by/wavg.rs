//! `rollingWAvg`: `Σ w·x / Σ w` over the window's rows where both the value and the weight are
//! non-null; null when there are none.
//!
//! Invariant: `weighted` and `weights` hold the rows in the window with both non-null (exactly
//! within 106 bits, and rebuilt from the window's rows as `sum.rs` says).

use super::fold::{Entry, Fold, Sink, push_f64};
use super::sum::ExactSum;
use crate::Result;
use crate::column::{NULL_F64, Value};

#[derive(Clone, Default)]
pub(crate) struct WAvgFold {
    weighted: ExactSum,
    weights: ExactSum,
}

impl Fold for WAvgFold {
    fn push(&mut self, e: &Entry, _: u64, _: Option<&Value>) -> Result<()> {
        if !e.is_null() && e.w() != NULL_F64 {
            self.weighted.add_f64(e.x * e.w());
            self.weights.add_f64(e.w());
        }
        Ok(())
    }

    fn pop(&mut self, e: &Entry, _: u64) {
        if !e.is_null() && e.w() != NULL_F64 {
            self.weighted.sub_f64(e.x * e.w());
            self.weights.sub_f64(e.w());
        }
    }

    fn clear(&mut self) -> bool {
        *self = Self::default();
        true
    }

    fn emit(&self, out: &mut Sink) {
        let v = if self.weights.count == 0 {
            NULL_F64
        } else {
            self.weighted.f64() / self.weights.f64()
        };
        push_f64(out, v);
    }
}
