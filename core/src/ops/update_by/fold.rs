//! [`Fold`]: what every operation of an `updateBy` is to its window: values folded in as rows
//! enter, out as they leave, and the value of the window now. The window kinds
//! (`cumulative.rs`, `ticks.rs`, `time.rs`) decide which rows enter and leave; a fold never
//! knows which window it is in.
//!
//! Invariant: a fold's value depends only on the rows pushed and not yet popped (and, for the
//! exponential ones, on the order they were pushed in).

use super::window::{Bounds, Emitter, Span};
use crate::column::chunked::MIN_CHUNK;
use crate::column::{Chunked, Column, ColumnType, NULL_F64, NULL_I32, NULL_I64, Value};
use crate::{Error, Result};
use std::ops::Range;

/// One row as the folds read it: its input as a double (`NULL_F64` for null) and, for integer
/// inputs, as a long (`NULL_I64` for null), or for `rollingWAvg` (which reads its input as a
/// double alone) its weight ([`Entry::w`]); its timestamp (`NULL_I64` when the operation has
/// none); and its key in the output table. 32 bytes: a window's rows are copied as they come
/// and as its front is dropped, so each field costs a copy a row.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry {
    pub x: f64,
    /// The input as a long, or the weight's bits (see [`Entry::weighted`]).
    pub i: i64,
    pub ts: i64,
    pub key: u64,
}

impl Entry {
    pub(crate) fn is_null(&self) -> bool {
        self.x == NULL_F64
    }

    /// The `i` of a row of weight `w` (`rollingWAvg`'s rows).
    #[inline(always)]
    pub(crate) fn weighted(w: f64) -> i64 {
        w.to_bits() as i64
    }

    /// The weight of a `rollingWAvg` row (`NULL_F64` for null).
    #[inline(always)]
    pub(crate) fn w(&self) -> f64 {
        f64::from_bits(self.i as u64)
    }

    /// Whether the input is a finite number (not null, NaN nor an infinity).
    #[inline(always)]
    pub(crate) fn is_finite(&self) -> bool {
        finite_input(self.x)
    }
}

/// Whether an input double is a finite number (not null, NaN nor an infinity).
#[inline(always)]
pub(crate) fn finite_input(x: f64) -> bool {
    x.is_finite() && x != NULL_F64
}

impl Default for Entry {
    fn default() -> Self {
        Self {
            x: NULL_F64,
            i: NULL_I64,
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
    fn emit(&self, out: &mut Sink);

    /// Bytes of state besides the struct.
    fn bytes(&self) -> usize {
        0
    }

    /// Empties a fold that takes rows back by subtraction (the double sums), so that its window
    /// driver can rebuild it from the window's rows and drop what rounding left behind, and says
    /// so; any other fold is left as it is (false).
    fn clear(&mut self) -> bool {
        false
    }

    /// Whether the fold's state is its emitted value, bit for bit (a running min, an EMA): then
    /// two runs that emit the same value at a row emit the same values from there on, and a
    /// cumulative window recomputed after rows left its front may stop at the first row whose
    /// value did not change.
    fn converges(&self) -> bool {
        false
    }

    /// The exponential fold this is, for `decay.rs`'s batch path (`None`: any other fold).
    #[inline]
    fn decayed(&mut self) -> Option<&mut super::ema::EmFold> {
        None
    }
}

/// A fold whose value can be written at a position of a double or long sink already that long
/// (what a lane's batch path writes a cycle's new rows with, by row position).
pub(crate) trait Place: Fold {
    /// Sets value `at` of `out` to the window's value (as [`Fold::emit`] would append it): by
    /// default appended, then moved there (a fold that appended nothing leaves it as it was).
    #[inline]
    fn emit_at(&self, out: &mut Sink, at: usize) {
        emit_moved(self, out, at);
    }

    /// Slides the window over rows `rows` of `span` itself, as the driver's row-by-row
    /// [`Span::slide`](super::window) would (the same fold operations in the same order, so the
    /// same values), from the window's `(head, tail, built)`, which it moves on: a fold with a
    /// loop of its own (the double `Sum`/`Avg`, `sum.rs`) says so (`true`); by default `false`,
    /// and the driver slides.
    #[inline(always)]
    fn slide_all<B: Bounds>(
        &mut self,
        _span: &Span<'_>,
        _bounds: B,
        _rows: Range<u64>,
        _cursor: (&mut u64, &mut u64, &mut u64),
        _emit: &mut Emitter<'_>,
    ) -> bool {
        false
    }
}

/// [`Place::emit_at`] by [`Fold::emit`]: the value appended, then moved to `at` (a fold that
/// appended nothing leaves it as it was).
#[inline]
pub(crate) fn emit_moved<F: Fold>(fold: &F, out: &mut Sink, at: usize) {
    let len = out.len();
    fold.emit(out);
    if out.len() > len {
        // The value appended replaces value `at`.
        match out {
            Sink::F64(v) => {
                v.swap_remove(at);
            }
            Sink::I64(v) => {
                v.swap_remove(at);
            }
            // Never: the batch path takes only double and long sinks.
            Sink::Column(_) => {}
        }
    }
}

/// Where a lane's folds emit a cycle's values: plain vectors for doubles and integers (one
/// store a value; the output column takes them a slice at a time), a column for the rest (fill,
/// group).
pub(crate) enum Sink {
    F64(Vec<f64>),
    /// Longs (`NULL_I64` for null), narrowed to the output column's type when written.
    I64(Vec<i64>),
    Column(Column),
}

impl Sink {
    /// A sink for an output column of `ty`.
    pub(crate) fn new(ty: ColumnType) -> Self {
        match ty {
            ColumnType::F64 => Self::F64(Vec::new()),
            ColumnType::I32
            | ColumnType::I64
            | ColumnType::Timestamp
            | ColumnType::Date
            | ColumnType::Time => Self::I64(Vec::new()),
            other => Self::Column(Column::new(other)),
        }
    }

    pub(crate) fn clear(&mut self) {
        match self {
            Self::F64(v) => v.clear(),
            Self::I64(v) => v.clear(),
            Self::Column(c) => c.clear(),
        }
    }

    pub(crate) fn push_null(&mut self) {
        match self {
            Self::F64(v) => v.push(NULL_F64),
            Self::I64(v) => v.push(NULL_I64),
            Self::Column(c) => c.push_null(),
        }
    }

    /// Appends the values to `out` (of the lane's output type): all of them, in order, or those
    /// at `positions`.
    pub(crate) fn write(&self, out: &mut Column, positions: Option<&[usize]>) {
        fn pick<T: Copy>(values: &[T], positions: Option<&[usize]>) -> Vec<T> {
            match positions {
                Some(p) => p.iter().map(|&i| values[i]).collect(),
                None => values.to_vec(),
            }
        }
        match (self, out) {
            (Self::F64(v), Column::F64(c)) => match positions {
                None => c.extend_from_slice(v),
                Some(_) => c.extend_from_slice(&pick(v, positions)),
            },
            (Self::I64(v), Column::I64(c) | Column::Timestamp(c) | Column::Time(c)) => {
                match positions {
                    None => c.extend_from_slice(v),
                    Some(_) => c.extend_from_slice(&pick(v, positions)),
                }
            }
            (Self::I64(v), Column::I32(c) | Column::Date(c)) => {
                let narrow: Vec<i32> = pick(v, positions).iter().map(|&x| narrow(x)).collect();
                c.extend_from_slice(&narrow);
            }
            (Self::Column(c), out) => match positions {
                None => {
                    out.extend_from(c);
                }
                Some(p) => out.extend_positions(c, p),
            },
            (_, out) => {
                // Never: a sink is made for its column's type.
                let n = positions.map_or(0, <[usize]>::len);
                (0..n).for_each(|_| out.push_null());
            }
        }
    }

    /// Appends the first `n` values to `out` (of the lane's output type); an error if the sink
    /// holds fewer (never: the batch path sized it).
    pub(crate) fn write_first(&self, out: &mut Column, n: usize) -> Result<()> {
        if self.len() < n {
            return Err(Error::Failed(format!(
                "updateBy: {} values for {n} rows",
                self.len()
            )));
        }
        match (self, &mut *out) {
            (Self::F64(v), Column::F64(c)) => c.extend_from_slice(&v[..n]),
            (Self::I64(v), Column::I64(c) | Column::Timestamp(c) | Column::Time(c)) => {
                c.extend_from_slice(&v[..n])
            }
            _ => {
                let positions: Vec<usize> = (0..n).collect();
                self.write(out, Some(&positions));
            }
        }
        Ok(())
    }

    /// Appends the first `n` values to `out` (of the lane's output type), as
    /// [`Sink::write_first`], moving them there when it can (a double or long column: the values'
    /// vector becomes the column's chunk, no copy) and keeping the values after them; where the
    /// values after them start now (0 if moved, `n` if copied).
    pub(crate) fn move_first(&mut self, out: &mut Column, n: usize) -> Result<usize> {
        fn adopt<T: Copy>(values: &mut Vec<T>, n: usize, out: &mut Chunked<T>) {
            let rest = values.split_off(n);
            let mut first = Chunked::new();
            first.check_in(std::mem::replace(values, rest));
            out.append(first);
        }
        // Fewer values than a chunk's least would be copied by the column anyway: the sink keeps
        // its vector for the next cycle.
        let adopts = n >= MIN_CHUNK && self.len() >= n;
        match (&mut *self, &mut *out) {
            (Self::F64(v), Column::F64(c)) if adopts => adopt(v, n, c),
            (Self::I64(v), Column::I64(c) | Column::Timestamp(c) | Column::Time(c)) if adopts => {
                adopt(v, n, c)
            }
            _ => {
                self.write_first(out, n)?;
                return Ok(n);
            }
        }
        Ok(0)
    }

    /// Whether the value at `i` is the one `out` holds at `at` (bit for bit).
    pub(crate) fn same_as(&self, out: &Column, at: usize, i: usize) -> bool {
        match (self, out) {
            (Self::F64(v), Column::F64(c)) => c
                .get(at)
                .zip(v.get(i))
                .is_some_and(|(a, b)| a.to_bits() == b.to_bits()),
            (Self::I64(v), Column::I64(c) | Column::Timestamp(c) | Column::Time(c)) => {
                c.get(at).zip(v.get(i)).is_some_and(|(a, b)| a == *b)
            }
            (Self::I64(v), Column::I32(c) | Column::Date(c)) => c
                .get(at)
                .zip(v.get(i))
                .is_some_and(|(a, b)| a == narrow(*b)),
            (Self::Column(c), out) => out.get(at).is_some_and(|a| Some(a) == c.get(i)),
            _ => false,
        }
    }

    /// How many values the sink holds.
    pub(crate) fn len(&self) -> usize {
        match self {
            Self::F64(v) => v.len(),
            Self::I64(v) => v.len(),
            Self::Column(c) => c.len(),
        }
    }

    /// Sets row `at` of `out` to value `i`: whether it changed (bit for bit), or `None` where a
    /// row cannot change in place (an array).
    pub(crate) fn set(&self, out: &mut Column, at: usize, i: usize) -> Option<bool> {
        fn put<T: Copy + PartialEq>(slot: Option<&mut T>, v: T, same: fn(T, T) -> bool) -> bool {
            slot.is_some_and(|s| {
                let changed = !same(*s, v);
                *s = v;
                changed
            })
        }
        Some(match (self, out) {
            (Self::F64(v), Column::F64(c)) => {
                put(c.get_mut(at), v[i], |a, b| a.to_bits() == b.to_bits())
            }
            (Self::I64(v), Column::I64(c) | Column::Timestamp(c) | Column::Time(c)) => {
                put(c.get_mut(at), v[i], |a, b| a == b)
            }
            (Self::I64(v), Column::I32(c) | Column::Date(c)) => {
                put(c.get_mut(at), narrow(v[i]), |a, b| a == b)
            }
            (Self::Column(c), out) => {
                let changed = out.get(at) != c.get(i);
                if changed && !out.set_from(at, c, Some(i)) {
                    return None;
                }
                changed
            }
            _ => return None,
        })
    }
}

/// A long narrowed to an int, null to null.
fn narrow(x: i64) -> i32 {
    if x == NULL_I64 { NULL_I32 } else { x as i32 }
}

/// Appends a double (`NULL_F64` for null) to a double sink.
#[inline]
pub(crate) fn push_f64(out: &mut Sink, v: f64) {
    if let Sink::F64(values) = out {
        values.push(v);
    }
}

/// Appends a long-typed value (`NULL_I64` for null) to an integer sink.
#[inline]
pub(crate) fn push_i64(out: &mut Sink, v: i64) {
    if let Sink::I64(values) = out {
        values.push(v);
    }
}

/// Appends any value (of the sink's type, else null) to a sink.
pub(crate) fn push_value(out: &mut Sink, v: &Value) {
    match (out, v) {
        (Sink::F64(values), Value::F64(x)) => values.push(*x),
        (Sink::I64(values), Value::I32(x) | Value::Date(x)) => values.push(i64::from(*x)),
        (Sink::I64(values), Value::I64(x) | Value::Timestamp(x) | Value::Time(x)) => {
            values.push(*x)
        }
        (Sink::Column(c), v) => {
            // A value of another type (never: the lane's type is the input's) pushes a null.
            c.push(v);
        }
        (out, _) => out.push_null(),
    }
}
