//! `rollingStd`: the sample standard deviation (n − 1) of a window's non-null values, from
//! double-double sums of the values and of their exact squares, their difference taken in
//! double-double (`agg`'s `sample_variance`, shared with `aggBy`'s Std and Var), so values leaving
//! take nothing else with them and large values (epoch millis) keep their spread.
//! No value gives null, one gives NaN, as the aggregation `Std` does.
//!
//! Invariant: `sum` and `squares` hold the non-null values in the window, exactly while their
//! bits span at most 106 (see `sum.rs`: the squares of values of 1e6 and of 1e-3 do not); the
//! residue rows leave is dropped when the window rebuilds them ([`Fold::clear`]), so a window
//! of zeros two windows after values of 1e6 reads exactly 0.

use super::fold::{Entry, Fold, Sink, push_f64};
use super::sum::ExactSum;
use crate::Result;
use crate::column::{NULL_F64, Value};

#[derive(Clone, Default)]
pub(crate) struct StdFold {
    sum: ExactSum,
    squares: ExactSum,
}

impl Fold for StdFold {
    fn push(&mut self, e: &Entry, _: u64, _: Option<&Value>) -> Result<()> {
        if !e.is_null() {
            self.sum.add_f64(e.x);
            self.squares.add_square(e.x);
        }
        Ok(())
    }

    fn pop(&mut self, e: &Entry, _: u64) {
        if !e.is_null() {
            self.sum.sub_f64(e.x);
            self.squares.sub_square(e.x);
        }
    }

    fn clear(&mut self) -> bool {
        *self = Self::default();
        true
    }

    fn emit(&self, out: &mut Sink) {
        let v = match self.sum.count {
            0 => NULL_F64,
            _ => self.sum.sample_variance(&self.squares).sqrt(),
        };
        push_f64(out, v);
    }
}
