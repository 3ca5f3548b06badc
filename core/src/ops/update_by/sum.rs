//! Sum and average of a window: [`ExactSum`], a sum that takes values back exactly (doubles as
//! the double-double sums of `aggBy`, shared with it; integers as an `i128`), and the folds
//! `Sum` and `Avg` over it.
//!
//! Invariant: the sum is of the non-null values in the window, whatever order they came and
//! went in: exactly while its bits span at most 106 (values of like scales); beyond, rows that
//! left can leave a residue near 2^-106 of the largest sum held, until the window driver
//! rebuilds the sum from the window's rows ([`Fold::clear`], once the tail has advanced by the
//! window's length): a residue never outlives two windows, nor grows with the rows rolled
//! through.

use super::fold::{Entry, Fold, Place, Sink};
use crate::Result;
use crate::column::{NULL_F64, NULL_I64, Value};
use crate::ops::agg::exact_sum;

/// An exact sum of doubles or of longs, with the count of values in it.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ExactSum {
    hi: f64,
    lo: f64,
    specials: [u32; 3],
    int: i128,
    pub count: u64,
}

impl ExactSum {
    pub(crate) fn add_f64(&mut self, x: f64) {
        exact_sum::add(&mut self.hi, &mut self.lo, &mut self.specials, x);
        self.count += 1;
    }

    pub(crate) fn sub_f64(&mut self, x: f64) {
        exact_sum::sub(&mut self.hi, &mut self.lo, &mut self.specials, x);
        self.count -= 1;
    }

    pub(crate) fn add_i64(&mut self, x: i64) {
        self.int += i128::from(x);
        self.count += 1;
    }

    pub(crate) fn sub_i64(&mut self, x: i64) {
        self.int -= i128::from(x);
        self.count -= 1;
    }

    /// Adds `x²`, exactly (its rounded square and the rounding error).
    pub(crate) fn add_square(&mut self, x: f64) {
        exact_sum::add_square(&mut self.hi, &mut self.lo, &mut self.specials, x);
        self.count += 1;
    }

    /// Takes back what [`ExactSum::add_square`] added.
    pub(crate) fn sub_square(&mut self, x: f64) {
        exact_sum::sub_square(&mut self.hi, &mut self.lo, &mut self.specials, x);
        self.count -= 1;
    }

    /// The sample variance of the values of `self` whose squares `squares` holds.
    pub(crate) fn sample_variance(&self, squares: &ExactSum) -> f64 {
        exact_sum::sample_variance(
            self.count,
            (self.hi, self.lo, self.specials),
            (squares.hi, squares.lo, squares.specials),
        )
    }

    /// The double sum, rounded once.
    pub(crate) fn f64(&self) -> f64 {
        exact_sum::finish(self.hi, self.lo, self.specials)
    }

    /// The long sum, wrapping as Java's `long` does.
    pub(crate) fn i64(&self) -> i64 {
        self.int as i64
    }

    /// The sum as a double (integers summed exactly first).
    pub(crate) fn as_f64(&self, float: bool) -> f64 {
        if float { self.f64() } else { self.int as f64 }
    }
}

/// `Sum` or `Avg` of the non-null values.
#[derive(Clone)]
pub(crate) struct SumFold {
    pub float: bool,
    pub average: bool,
    pub sum: ExactSum,
}

impl Fold for SumFold {
    fn push(&mut self, e: &Entry, _: u64, _: Option<&Value>) -> Result<()> {
        if !e.is_null() {
            if self.float {
                self.sum.add_f64(e.x);
            } else {
                self.sum.add_i64(e.i);
            }
        }
        Ok(())
    }

    fn pop(&mut self, e: &Entry, _: u64) {
        if !e.is_null() {
            if self.float {
                self.sum.sub_f64(e.x);
            } else {
                self.sum.sub_i64(e.i);
            }
        }
    }

    fn clear(&mut self) -> bool {
        // An integer sum (an `i128`) is exact: nothing to rebuild.
        if self.float {
            self.sum = ExactSum::default();
        }
        self.float
    }

    fn emit(&self, out: &mut Sink) {
        match out {
            Sink::F64(values) => values.push(self.f64_value()),
            Sink::I64(values) => values.push(self.i64_value()),
            Sink::Column(_) => {}
        }
    }
}

impl SumFold {
    /// The value of a double output (an average, a sum of doubles).
    #[inline(always)]
    fn f64_value(&self) -> f64 {
        let empty = self.sum.count == 0;
        if empty {
            NULL_F64
        } else if self.average {
            self.sum.as_f64(self.float) / self.sum.count as f64
        } else {
            self.sum.f64()
        }
    }

    /// The value of a long output (a sum of integers).
    #[inline]
    fn i64_value(&self) -> i64 {
        if self.sum.count == 0 {
            NULL_I64
        } else {
            self.sum.i64()
        }
    }
}

impl Place for SumFold {
    #[inline(always)]
    fn emit_at(&self, out: &mut Sink, at: usize) {
        match out {
            Sink::F64(values) => values[at] = self.f64_value(),
            Sink::I64(values) => values[at] = self.i64_value(),
            Sink::Column(_) => {}
        }
    }
}
