//! `cumMin`, `cumMax`, `rollingMin`, `rollingMax`: a monotonic deque of the window's rows that can
//! still become its extremum, ordered as `aggBy`'s `Min`/`Max` order (nulls skipped, doubles in
//! Deephaven's order: every NaN above +inf, -0.0 equal to 0.0; of equal values the earliest row's).
//!
//! One fold for every input type: a value is kept as an order key (`u64`, unsigned order) and its
//! raw bits, so ints, longs, timestamps and doubles share the code.
//!
//! Invariant: the deque's keys are strictly monotonic (increasing for Min, decreasing for Max)
//! from front to back, except that equal keys keep only the earliest row; its front is the
//! extremum of the rows pushed and not popped.

use std::collections::VecDeque;

use super::fold::{Entry, Fold, Sink, push_f64, push_i64};
use crate::Result;
use crate::column::{NULL_F64, NULL_I64, Value, f64_order_key};

#[derive(Clone)]
pub(crate) struct ExtremumFold {
    pub float: bool,
    pub max: bool,
    /// (row number, order key, raw bits).
    deque: VecDeque<(u64, u64, u64)>,
}

impl ExtremumFold {
    pub(crate) fn new(float: bool, max: bool) -> Self {
        Self {
            float,
            max,
            deque: VecDeque::new(),
        }
    }

    fn key(&self, e: &Entry) -> (u64, u64) {
        if self.float {
            (f64_order_key(e.x), e.x.to_bits())
        } else {
            ((e.i as u64) ^ (1 << 63), e.i as u64)
        }
    }
}

impl Fold for ExtremumFold {
    fn push(&mut self, e: &Entry, seq: u64, _: Option<&Value>) -> Result<()> {
        if e.is_null() {
            return Ok(());
        }
        let (key, bits) = self.key(e);
        // A later row with an equal value never becomes the extremum before the earlier one.
        while let Some(&(_, back, _)) = self.deque.back() {
            let dominated = if self.max { back < key } else { back > key };
            if !dominated {
                break;
            }
            self.deque.pop_back();
        }
        // An equal back stays in front of this row: it is earlier, and leaves first.
        self.deque.push_back((seq, key, bits));
        Ok(())
    }

    fn pop(&mut self, _: &Entry, seq: u64) {
        if self.deque.front().is_some_and(|&(s, _, _)| s == seq) {
            self.deque.pop_front();
        }
    }

    fn emit(&self, out: &mut Sink) {
        match (self.deque.front(), self.float) {
            (Some(&(_, _, bits)), true) => push_f64(out, f64::from_bits(bits)),
            (Some(&(_, _, bits)), false) => push_i64(out, bits as i64),
            (None, true) => push_f64(out, NULL_F64),
            (None, false) => push_i64(out, NULL_I64),
        }
    }

    /// In a cumulative window (the only one that asks) the value is the running extremum.
    fn converges(&self) -> bool {
        true
    }

    fn bytes(&self) -> usize {
        self.deque.capacity() * 24
    }
}
