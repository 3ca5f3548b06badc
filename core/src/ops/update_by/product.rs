//! `cumProd` and `rollingProduct`: the product of the non-null values. Cumulative products of
//! integers are longs (wrapping as Java's `long`), of doubles doubles; a rolling product is a
//! double, kept in a two-stack queue (the back stack's running product, the front stack's suffix
//! products), so a row leaving costs O(1) amortised and no division (a zero or a NaN leaves
//! cleanly).
//!
//! Invariant: `front` and `back` hold the window's non-null values, oldest at the top of
//! `front`; each front entry holds the product of itself and the entries below it (the newer
//! ones), so the window's product is `front`'s top product times `back_product`.

use super::fold::{Entry, Fold, Sink, push_f64, push_i64};
use crate::Result;
use crate::column::{NULL_F64, NULL_I64, Value};

/// A running product (cumulative windows: nothing leaves).
#[derive(Clone)]
pub(crate) struct CumProductFold {
    pub float: bool,
    product: f64,
    int: i64,
    count: u64,
}

impl CumProductFold {
    pub(crate) fn new(float: bool) -> Self {
        Self {
            float,
            product: 1.0,
            int: 1,
            count: 0,
        }
    }
}

impl Fold for CumProductFold {
    fn push(&mut self, e: &Entry, _: u64, _: Option<&Value>) -> Result<()> {
        if !e.is_null() {
            self.product *= e.x;
            self.int = self.int.wrapping_mul(e.i);
            self.count += 1;
        }
        Ok(())
    }

    fn pop(&mut self, _: &Entry, _: u64) {}

    fn emit(&self, out: &mut Sink) {
        match (self.count, self.float) {
            (0, true) => push_f64(out, NULL_F64),
            (0, false) => push_i64(out, NULL_I64),
            (_, true) => push_f64(out, self.product),
            (_, false) => push_i64(out, self.int),
        }
    }
}

/// A product over a sliding window, as a double.
#[derive(Clone, Default)]
pub(crate) struct RollingProductFold {
    /// Oldest last: (value, product of it and every newer value of `front`).
    front: Vec<(f64, f64)>,
    back: Vec<f64>,
    back_product: f64,
}

impl Fold for RollingProductFold {
    fn push(&mut self, e: &Entry, _: u64, _: Option<&Value>) -> Result<()> {
        if !e.is_null() {
            if self.back.is_empty() {
                self.back_product = 1.0;
            }
            self.back.push(e.x);
            self.back_product *= e.x;
        }
        Ok(())
    }

    fn pop(&mut self, e: &Entry, _: u64) {
        if e.is_null() {
            return;
        }
        if self.front.is_empty() {
            let mut product = 1.0;
            while let Some(v) = self.back.pop() {
                product *= v;
                self.front.push((v, product));
            }
            self.back_product = 1.0;
        }
        self.front.pop();
    }

    fn emit(&self, out: &mut Sink) {
        let v = match (self.front.last(), self.back.is_empty()) {
            (None, true) => NULL_F64,
            (None, false) => self.back_product,
            (Some(&(_, p)), true) => p,
            (Some(&(_, p)), false) => p * self.back_product,
        };
        push_f64(out, v);
    }

    fn bytes(&self) -> usize {
        self.front.capacity() * 16 + self.back.capacity() * 8
    }
}
