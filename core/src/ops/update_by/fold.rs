//! [`Fold`]: what every operation of an `updateBy` is to its window: values folded in as rows
//! enter, out as they leave, and the value of the window now. The window kinds
//! (`cumulative.rs`, `ticks.rs`, `time.rs`) decide which rows enter and leave; a fold never
//! knows which window it is in.
//!
//! Invariant: a fold's value depends only on the rows pushed and not yet popped (and, for the
//! exponential ones, on the order they were pushed in).

use crate::Result;
use crate::column::{Column, NULL_F64, NULL_I64, Value};

/// One row as the folds read it: its input as a double (`NULL_F64` for null) and, for integer
/// inputs, as a long (`NULL_I64` for null); its weight and its timestamp (`NULL_I64` when the
/// operation has none); and its key in the output table.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry {
    pub x: f64,
    pub i: i64,
    pub w: f64,
    pub ts: i64,
    pub key: u64,
}

impl Entry {
    pub(crate) fn is_null(&self) -> bool {
        self.x == NULL_F64
    }
}

impl Default for Entry {
    fn default() -> Self {
        Self {
            x: NULL_F64,
            i: NULL_I64,
            w: NULL_F64,
            ts: NULL_I64,
            key: 0,
        }
    }
}

/// One operation's state for one group (cloned for the values of rows whose window is not
/// complete yet, and from a lane's prototype for each new group).
pub(crate) trait Fold: Clone {
    /// Row number `seq` of the group enters the window (`value`: its input, for the folds that
    /// keep values themselves: fill and group).
    fn push(&mut self, e: &Entry, seq: u64, value: Option<&Value>) -> Result<()>;

    /// Row number `seq` leaves the window (rows leave in the order they entered).
    fn pop(&mut self, e: &Entry, seq: u64);

    /// Appends the window's value to `out`.
    fn emit(&self, out: &mut Column);

    /// Bytes of state besides the struct.
    fn bytes(&self) -> usize {
        0
    }
}

/// Appends a double (`NULL_F64` for null) to a double column.
#[inline]
pub(crate) fn push_f64(out: &mut Column, v: f64) {
    if let Column::F64(c) = out {
        c.push(v);
    }
}

/// Appends a long-typed value (`NULL_I64` for null) to an integer-like column, narrowing to
/// int where the column is int (a null stays null).
#[inline]
pub(crate) fn push_i64(out: &mut Column, v: i64) {
    match out {
        Column::I64(c) | Column::Timestamp(c) | Column::Time(c) => c.push(v),
        Column::I32(c) | Column::Date(c) => c.push(if v == NULL_I64 {
            crate::column::NULL_I32
        } else {
            v as i32
        }),
        Column::F64(c) => c.push(if v == NULL_I64 { NULL_F64 } else { v as f64 }),
        Column::Bool(c) => c.push(if v == NULL_I64 {
            crate::column::NULL_BOOL
        } else {
            v as i8
        }),
        other => other.push_null(),
    }
}
