//! Typed columnar storage: what every table keeps its rows in.
//!
//! A [`Column`] holds one of the engine's types ([`ColumnType`]) in chunked FIFO storage
//! ([`Chunked`]), and strings as dictionary codes or offsets plus bytes ([`StringColumn`]).
//! Numbers use Deephaven's null sentinels, so results read the same as Deephaven's:
//!
//! | type        | storage | null                |
//! |-------------|---------|---------------------|
//! | `Bool`      | `i8`    | `-1` ([`NULL_BOOL`]) |
//! | `I32`       | `i32`   | `i32::MIN`          |
//! | `I64`       | `i64`   | `i64::MIN`          |
//! | `F64`       | `f64`   | `-f64::MAX`         |
//! | `Timestamp` | `i64` nanoseconds since the epoch | `i64::MIN` |
//! | `Date`      | `i32` days since the epoch | `i32::MIN` |
//! | `Time`      | `i64` nanoseconds since midnight | `i64::MIN` |
//! | `String`    | see [`StringColumn`] | code or offset flag |
//! | `Binary`    | see [`BinaryColumn`] | end-offset flag |
//! | `Array(T)`  | see [`ArrayColumn`]: end offsets plus a column of `T` | end-offset flag |
//!
//! Invariant: a value equal to its type's sentinel *is* null; NaN is an ordinary double.

pub mod array;
pub mod binary;
pub mod chunked;
pub mod lane;
pub(crate) mod row_ends;
pub mod strings;

use crate::float_text::Float;
use std::fmt;

pub use array::ArrayColumn;
pub use binary::BinaryColumn;
pub use chunked::Chunked;
pub use lane::ChunkLane;
pub use strings::{Dictionary, StrChunk, StrLane, StringColumn};

/// `i8` storage of a null boolean.
pub const NULL_BOOL: i8 = -1;
pub const NULL_I32: i32 = i32::MIN;
pub const NULL_I64: i64 = i64::MIN;
pub const NULL_F64: f64 = -f64::MAX;

/// A double's place in Deephaven's order of doubles (`DoubleComparisons.compare`), the one every
/// sort, percentile, `Min` and `Max` of doubles follows: `-inf < … < -0.0 = 0.0 < … < inf < NaN`,
/// every NaN one value whatever its sign and payload. Equal keys for equal values; the null
/// sentinel (`NULL_F64`, which would sit just above `-inf`) is the caller's to put first.
pub fn f64_order_key(v: f64) -> u64 {
    const SIGN: u64 = 1 << 63;
    if v.is_nan() {
        return u64::MAX;
    }
    let bits = (v + 0.0).to_bits(); // -0.0 as 0.0
    if bits & SIGN != 0 { !bits } else { bits | SIGN }
}

/// Compares two non-null doubles in Deephaven's order (see [`f64_order_key`]).
pub fn compare_f64(a: f64, b: f64) -> std::cmp::Ordering {
    f64_order_key(a).cmp(&f64_order_key(b))
}

/// The type of a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ColumnType {
    Bool,
    I32,
    I64,
    F64,
    /// Nanoseconds since the Unix epoch.
    Timestamp,
    String,
    /// Days since the Unix epoch (a calendar date, no time zone).
    Date,
    /// Nanoseconds since midnight (a time of day, no time zone).
    Time,
    /// Byte strings.
    Binary,
    /// Arrays of the element type (Deephaven's vectors: `double[]`, `String[]`, ...), which
    /// `groupBy` and `Agg.group` make.
    Array(&'static ColumnType),
}

impl fmt::Display for ColumnType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Bool => "bool",
            Self::I32 => "int",
            Self::I64 => "long",
            Self::F64 => "double",
            Self::Timestamp => "timestamp",
            Self::String => "string",
            Self::Date => "date",
            Self::Time => "time",
            Self::Binary => "binary",
            Self::Array(element) => return write!(f, "{element}[]"),
        })
    }
}

impl ColumnType {
    /// Whether values of this type are numbers (formulas may mix them).
    pub fn is_numeric(self) -> bool {
        matches!(self, Self::I32 | Self::I64 | Self::F64)
    }

    /// Bytes a value takes in storage (a dictionary code, for strings; an end offset, for
    /// binary and arrays).
    pub fn width(self) -> usize {
        match self {
            Self::Bool => 1,
            Self::I32 | Self::String | Self::Date => 4,
            Self::I64
            | Self::F64
            | Self::Timestamp
            | Self::Time
            | Self::Binary
            | Self::Array(_) => 8,
        }
    }

    /// The type of arrays of `self`: `Array(self)` for a scalar type, `None` for an array type
    /// (arrays do not nest).
    pub fn array_of(self) -> Option<ColumnType> {
        static ELEMENTS: [ColumnType; 9] = [
            ColumnType::Bool,
            ColumnType::I32,
            ColumnType::I64,
            ColumnType::F64,
            ColumnType::Timestamp,
            ColumnType::String,
            ColumnType::Date,
            ColumnType::Time,
            ColumnType::Binary,
        ];
        ELEMENTS.iter().find(|e| **e == self).map(ColumnType::Array)
    }

    /// The element type of an array type.
    pub fn element(self) -> Option<ColumnType> {
        match self {
            Self::Array(element) => Some(*element),
            _ => None,
        }
    }
}

/// One value of any type; `Null` for a null of any type.
#[derive(Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    I32(i32),
    I64(i64),
    F64(f64),
    Timestamp(i64),
    String(String),
    /// Days since the Unix epoch.
    Date(i32),
    /// Nanoseconds since midnight.
    Time(i64),
    Binary(Vec<u8>),
    /// An array (its elements may be `Null`; a null array is `Value::Null`).
    Array(Vec<Value>),
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Self::Null)
    }
}

/// As `#[derive(Debug)]` writes it, with the double through `float_text` (std's float formatting
/// stays out of the wasm bundle).
impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Null => f.write_str("Null"),
            Self::Bool(v) => f.debug_tuple("Bool").field(v).finish(),
            Self::I32(v) => f.debug_tuple("I32").field(v).finish(),
            Self::I64(v) => f.debug_tuple("I64").field(v).finish(),
            Self::F64(v) => f.debug_tuple("F64").field(&Float(*v)).finish(),
            Self::Timestamp(v) => f.debug_tuple("Timestamp").field(v).finish(),
            Self::String(v) => f.debug_tuple("String").field(v).finish(),
            Self::Date(v) => f.debug_tuple("Date").field(v).finish(),
            Self::Time(v) => f.debug_tuple("Time").field(v).finish(),
            Self::Binary(v) => f.debug_tuple("Binary").field(v).finish(),
            Self::Array(v) => f.debug_tuple("Array").field(v).finish(),
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Null => f.write_str("null"),
            Self::Bool(v) => write!(f, "{v}"),
            Self::I32(v) => write!(f, "{v}"),
            Self::I64(v) | Self::Timestamp(v) => write!(f, "{v}"),
            Self::F64(v) => f.write_str(&crate::float_text::display(*v)),
            Self::String(v) => f.write_str(v),
            Self::Date(v) => write!(f, "{v}"),
            Self::Time(v) => write!(f, "{v}"),
            Self::Binary(v) => v.iter().try_for_each(|b| write!(f, "{b:02x}")),
            Self::Array(values) => {
                f.write_str("[")?;
                for (i, v) in values.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
        }
    }
}

/// A column's storage.
#[derive(Debug, Clone)]
pub enum Column {
    Bool(Chunked<i8>),
    I32(Chunked<i32>),
    I64(Chunked<i64>),
    F64(Chunked<f64>),
    Timestamp(Chunked<i64>),
    String(StringColumn),
    Date(Chunked<i32>),
    Time(Chunked<i64>),
    Binary(BinaryColumn),
    Array(ArrayColumn),
}

impl Column {
    /// An empty column of `ty`.
    pub fn new(ty: ColumnType) -> Self {
        match ty {
            ColumnType::Bool => Self::Bool(Chunked::new()),
            ColumnType::I32 => Self::I32(Chunked::new()),
            ColumnType::I64 => Self::I64(Chunked::new()),
            ColumnType::F64 => Self::F64(Chunked::new()),
            ColumnType::Timestamp => Self::Timestamp(Chunked::new()),
            ColumnType::String => Self::String(StringColumn::new()),
            ColumnType::Date => Self::Date(Chunked::new()),
            ColumnType::Time => Self::Time(Chunked::new()),
            ColumnType::Binary => Self::Binary(BinaryColumn::new()),
            ColumnType::Array(element) => Self::Array(ArrayColumn::new(element)),
        }
    }

    /// An empty column with room for `rows` rows in its first chunk (a batch of known size).
    pub fn with_capacity(ty: ColumnType, rows: usize) -> Self {
        match ty {
            ColumnType::Bool => Self::Bool(Chunked::with_capacity(rows)),
            ColumnType::I32 => Self::I32(Chunked::with_capacity(rows)),
            ColumnType::I64 => Self::I64(Chunked::with_capacity(rows)),
            ColumnType::F64 => Self::F64(Chunked::with_capacity(rows)),
            ColumnType::Timestamp => Self::Timestamp(Chunked::with_capacity(rows)),
            ColumnType::String => Self::String(StringColumn::with_capacity(rows)),
            ColumnType::Date => Self::Date(Chunked::with_capacity(rows)),
            ColumnType::Time => Self::Time(Chunked::with_capacity(rows)),
            ColumnType::Binary => Self::Binary(BinaryColumn::new()),
            ColumnType::Array(element) => Self::Array(ArrayColumn::new(element)),
        }
    }

    /// An empty column of the same type (and, for strings, the same storage), with room for
    /// `rows` rows.
    pub fn empty_like(&self, rows: usize) -> Self {
        match self {
            Self::String(s) => Self::String(s.empty_like(rows)),
            other => Self::with_capacity(other.column_type(), rows),
        }
    }

    pub fn column_type(&self) -> ColumnType {
        match self {
            Self::Bool(_) => ColumnType::Bool,
            Self::I32(_) => ColumnType::I32,
            Self::I64(_) => ColumnType::I64,
            Self::F64(_) => ColumnType::F64,
            Self::Timestamp(_) => ColumnType::Timestamp,
            Self::String(_) => ColumnType::String,
            Self::Date(_) => ColumnType::Date,
            Self::Time(_) => ColumnType::Time,
            Self::Binary(_) => ColumnType::Binary,
            Self::Array(c) => c.column_type(),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Self::Bool(c) => c.len(),
            Self::I32(c) => c.len(),
            Self::I64(c) | Self::Timestamp(c) => c.len(),
            Self::F64(c) => c.len(),
            Self::String(c) => c.len(),
            Self::Date(c) => c.len(),
            Self::Time(c) => c.len(),
            Self::Binary(c) => c.len(),
            Self::Array(c) => c.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value at `index`, or `None` past the end.
    pub fn get(&self, index: usize) -> Option<Value> {
        Some(match self {
            Self::Bool(c) => match c.get(index)? {
                NULL_BOOL => Value::Null,
                v => Value::Bool(v != 0),
            },
            Self::I32(c) => match c.get(index)? {
                NULL_I32 => Value::Null,
                v => Value::I32(v),
            },
            Self::I64(c) => match c.get(index)? {
                NULL_I64 => Value::Null,
                v => Value::I64(v),
            },
            Self::F64(c) => match c.get(index)? {
                v if v == NULL_F64 => Value::Null,
                v => Value::F64(v),
            },
            Self::Timestamp(c) => match c.get(index)? {
                NULL_I64 => Value::Null,
                v => Value::Timestamp(v),
            },
            Self::String(c) => c
                .get(index)?
                .map_or(Value::Null, |s| Value::String(s.into())),
            Self::Date(c) => match c.get(index)? {
                NULL_I32 => Value::Null,
                v => Value::Date(v),
            },
            Self::Time(c) => match c.get(index)? {
                NULL_I64 => Value::Null,
                v => Value::Time(v),
            },
            Self::Binary(c) => c.get(index)?.map_or(Value::Null, Value::Binary),
            Self::Array(c) => c.get(index)?.map_or(Value::Null, Value::Array),
        })
    }

    /// Whether `value` can be stored here: null, its own type, or a number that widens to it.
    pub fn accepts(&self, value: &Value) -> bool {
        if let (Self::Array(c), Value::Array(values)) = (self, value) {
            return c.accepts(values);
        }
        value.is_null()
            || matches!(
                (self, value),
                (Self::Bool(_), Value::Bool(_))
                    | (Self::I32(_), Value::I32(_))
                    | (Self::I64(_), Value::I64(_) | Value::I32(_))
                    | (Self::F64(_), Value::F64(_) | Value::I32(_) | Value::I64(_))
                    | (Self::Timestamp(_), Value::Timestamp(_) | Value::I64(_))
                    | (Self::String(_), Value::String(_))
                    | (Self::Date(_), Value::Date(_))
                    | (Self::Time(_), Value::Time(_))
                    | (Self::Binary(_), Value::Binary(_))
            )
    }

    /// Appends every row of `other`, which must be of the same type (else nothing happens and
    /// `false` comes back). Dictionary-coded strings are translated code by code.
    pub fn extend_from(&mut self, other: &Column) -> bool {
        self.extend_from_range(other, 0, other.len())
    }

    /// Appends rows `start .. start + count` of `other` (clamped), which must be of the same type.
    pub fn extend_from_range(&mut self, other: &Column, start: usize, count: usize) -> bool {
        match (self, other) {
            (Self::Bool(a), Self::Bool(b)) => b
                .slices_range(start, count)
                .for_each(|s| a.extend_from_slice(s)),
            (Self::I32(a), Self::I32(b)) => b
                .slices_range(start, count)
                .for_each(|s| a.extend_from_slice(s)),
            (Self::I64(a), Self::I64(b))
            | (Self::Timestamp(a), Self::Timestamp(b))
            | (Self::Time(a), Self::Time(b)) => b
                .slices_range(start, count)
                .for_each(|s| a.extend_from_slice(s)),
            (Self::Date(a), Self::Date(b)) => b
                .slices_range(start, count)
                .for_each(|s| a.extend_from_slice(s)),
            (Self::Binary(a), Self::Binary(b)) => (start..(start + count).min(b.len()))
                .for_each(|i| a.push(b.get(i).flatten().as_deref())),
            (Self::F64(a), Self::F64(b)) => b
                .slices_range(start, count)
                .for_each(|s| a.extend_from_slice(s)),
            (Self::String(a), Self::String(b)) => match (b.dictionary(), b.codes()) {
                (Some(dict), Some(codes)) => codes
                    .slices_range(start, count)
                    .for_each(|s| a.extend_from_codes(dict, s)),
                _ => b.extend_into(a, start, count),
            },
            (Self::Array(a), Self::Array(b)) => return a.extend_from_range(b, start, count),
            _ => return false,
        }
        true
    }

    /// Appends rows `start .. start + count` of `other` (of the same type, else nothing happens
    /// and `false` comes back), sharing its storage where it can ([`Chunked::extend_shared`]):
    /// what a table that mirrors another (`renameColumns`, `dropColumns`) costs per cycle.
    pub fn extend_shared(&mut self, other: &Column, start: usize, count: usize) -> bool {
        match (self, other) {
            (Self::Bool(a), Self::Bool(b)) => a.extend_shared(b, start, count),
            (Self::I32(a), Self::I32(b)) | (Self::Date(a), Self::Date(b)) => {
                a.extend_shared(b, start, count)
            }
            (Self::I64(a), Self::I64(b))
            | (Self::Timestamp(a), Self::Timestamp(b))
            | (Self::Time(a), Self::Time(b)) => a.extend_shared(b, start, count),
            (Self::F64(a), Self::F64(b)) => a.extend_shared(b, start, count),
            (Self::String(a), Self::String(b)) => a.extend_shared(b, start, count),
            (a, b) => return a.extend_from_range(b, start, count),
        }
        true
    }

    /// Moves every row of `other` (of the same type, else nothing happens and `false` comes
    /// back) to the back, adopting its storage rather than copying it where it can.
    pub fn append(&mut self, other: Column) -> bool {
        match (self, other) {
            (Self::Bool(a), Self::Bool(b)) => a.append(b),
            (Self::I32(a), Self::I32(b)) | (Self::Date(a), Self::Date(b)) => a.append(b),
            (Self::I64(a), Self::I64(b))
            | (Self::Timestamp(a), Self::Timestamp(b))
            | (Self::Time(a), Self::Time(b)) => a.append(b),
            (Self::F64(a), Self::F64(b)) => a.append(b),
            (Self::String(a), Self::String(b)) => a.append(b),
            // Binary and array rows are copied.
            (a, b) => return a.extend_from(&b),
        }
        true
    }

    /// Appends a value; `Value::Null`, or a value of another type, appends null. Returns whether
    /// the value fitted the column's type.
    pub fn push(&mut self, value: &Value) -> bool {
        match (self, value) {
            (Self::Bool(c), Value::Bool(v)) => c.push(i8::from(*v)),
            (Self::I32(c), Value::I32(v)) => c.push(*v),
            (Self::I64(c), Value::I64(v)) => c.push(*v),
            (Self::I64(c), Value::I32(v)) => c.push(i64::from(*v)),
            (Self::F64(c), Value::F64(v)) => c.push(*v),
            (Self::F64(c), Value::I32(v)) => c.push(f64::from(*v)),
            (Self::F64(c), Value::I64(v)) => c.push(*v as f64),
            (Self::Timestamp(c), Value::Timestamp(v) | Value::I64(v)) => c.push(*v),
            (Self::String(c), Value::String(v)) => c.push(Some(v)),
            (Self::Date(c), Value::Date(v)) => c.push(*v),
            (Self::Time(c), Value::Time(v)) => c.push(*v),
            (Self::Binary(c), Value::Binary(v)) => c.push(Some(v)),
            (Self::Array(c), Value::Array(v)) => return c.push(Some(v)),
            (column, value) => {
                column.push_null();
                return value.is_null();
            }
        }
        true
    }

    /// Appends rows `start + i` of `other` for each `i` of `picks` (in any order), reading rows
    /// `start .. start + count` once.
    pub fn extend_gather(&mut self, other: &Column, start: usize, count: usize, picks: &[u32]) {
        fn gather<T: Copy>(
            a: &mut Chunked<T>,
            b: &Chunked<T>,
            start: usize,
            count: usize,
            picks: &[u32],
        ) {
            a.extend_from_slice(&picked(b, start, count, picks));
        }
        /// The values at `picks`: ascending picks (a filter's) are read slice by slice, with no
        /// copy of the range; others through a copy of it.
        fn picked<T: Copy>(b: &Chunked<T>, start: usize, count: usize, picks: &[u32]) -> Vec<T> {
            if !picks.is_sorted() {
                let mut range = Vec::with_capacity(count);
                b.copy_range(start, count, &mut range);
                return picks
                    .iter()
                    .filter_map(|&i| range.get(i as usize).copied())
                    .collect();
            }
            let mut out = Vec::with_capacity(picks.len());
            let mut rest = picks;
            let mut base = 0usize;
            for slice in b.slices_range(start, count) {
                let end = base + slice.len();
                let n = rest.partition_point(|&i| (i as usize) < end);
                let (here, next) = rest.split_at(n);
                out.extend(here.iter().filter_map(|&i| slice.get(i as usize - base)));
                rest = next;
                base = end;
                if rest.is_empty() {
                    break;
                }
            }
            out
        }
        match (self, other) {
            (Self::Bool(a), Self::Bool(b)) => gather(a, b, start, count, picks),
            (Self::I32(a), Self::I32(b)) => gather(a, b, start, count, picks),
            (Self::I64(a), Self::I64(b))
            | (Self::Timestamp(a), Self::Timestamp(b))
            | (Self::Time(a), Self::Time(b)) => gather(a, b, start, count, picks),
            (Self::Date(a), Self::Date(b)) => gather(a, b, start, count, picks),
            (Self::Binary(a), Self::Binary(b)) => picks
                .iter()
                .for_each(|&i| a.push(b.get(start + i as usize).flatten().as_deref())),
            (Self::Array(a), Self::Array(b)) => picks
                .iter()
                .for_each(|&i| a.push_from(b, start + i as usize)),
            (Self::F64(a), Self::F64(b)) => gather(a, b, start, count, picks),
            (Self::String(a), Self::String(b)) => match (b.dictionary(), b.codes()) {
                (Some(dict), Some(codes)) => {
                    a.extend_from_codes(dict, &picked(codes, start, count, picks));
                }
                _ => picks
                    .iter()
                    .for_each(|&i| a.push(b.get(start + i as usize).flatten())),
            },
            (a, _) => picks.iter().for_each(|_| a.push_null()),
        }
    }

    /// Appends, per key of `keys`, `other`'s value at position `key - first`, or null for the
    /// key `none`; `false` (nothing done) for a type whose nulls are not a value (strings,
    /// binaries, arrays), which [`Column::extend_positions`] takes.
    pub(crate) fn extend_keys<K: Copy + Into<u64>>(
        &mut self,
        other: &Column,
        keys: &[K],
        at: (u64, u64),
    ) -> bool {
        fn gather<T: Copy, K: Copy + Into<u64>>(
            a: &mut Chunked<T>,
            b: &Chunked<T>,
            keys: &[K],
            at: (u64, u64),
            null: T,
        ) {
            a.extend_gathered(b, keys, at, null);
        }
        match (self, other) {
            (Self::Bool(a), Self::Bool(b)) => gather(a, b, keys, at, NULL_BOOL),
            (Self::I32(a), Self::I32(b)) | (Self::Date(a), Self::Date(b)) => {
                gather(a, b, keys, at, NULL_I32)
            }
            (Self::I64(a), Self::I64(b))
            | (Self::Timestamp(a), Self::Timestamp(b))
            | (Self::Time(a), Self::Time(b)) => gather(a, b, keys, at, NULL_I64),
            (Self::F64(a), Self::F64(b)) => gather(a, b, keys, at, NULL_F64),
            _ => return false,
        }
        true
    }

    /// Appends rows `positions` of `other` (of the same type; otherwise nulls), in that order.
    /// Ascending positions read numbers and dictionary codes without a search per row.
    pub fn extend_positions(&mut self, other: &Column, positions: &[usize]) {
        fn gather<T: Copy>(a: &mut Chunked<T>, b: &Chunked<T>, positions: &[usize]) {
            let mut picked = Vec::with_capacity(positions.len());
            b.gather(positions, &mut picked);
            a.extend_from_slice(&picked);
        }
        match (self, other) {
            (Self::Bool(a), Self::Bool(b)) => gather(a, b, positions),
            (Self::I32(a), Self::I32(b)) | (Self::Date(a), Self::Date(b)) => {
                gather(a, b, positions)
            }
            (Self::I64(a), Self::I64(b))
            | (Self::Timestamp(a), Self::Timestamp(b))
            | (Self::Time(a), Self::Time(b)) => gather(a, b, positions),
            (Self::F64(a), Self::F64(b)) => gather(a, b, positions),
            (Self::String(a), Self::String(b)) => match (b.dictionary(), b.codes()) {
                (Some(dict), Some(codes)) => {
                    let mut picked = Vec::with_capacity(positions.len());
                    codes.gather(positions, &mut picked);
                    a.extend_from_codes(dict, &picked);
                }
                _ => positions.iter().for_each(|&p| a.push(b.get(p).flatten())),
            },
            (a, b) => positions.iter().for_each(|&p| a.push_from(b, p)),
        }
    }

    /// Appends row `index` of `other` (of the same type; otherwise a null).
    pub fn push_from(&mut self, other: &Column, index: usize) {
        match (self, other) {
            (Self::Bool(a), Self::Bool(b)) => a.push(b.get(index).unwrap_or(NULL_BOOL)),
            (Self::I32(a), Self::I32(b)) => a.push(b.get(index).unwrap_or(NULL_I32)),
            (Self::I64(a), Self::I64(b))
            | (Self::Timestamp(a), Self::Timestamp(b))
            | (Self::Time(a), Self::Time(b)) => a.push(b.get(index).unwrap_or(NULL_I64)),
            (Self::F64(a), Self::F64(b)) => a.push(b.get(index).unwrap_or(NULL_F64)),
            (Self::String(a), Self::String(b)) => a.push(b.get(index).flatten()),
            (Self::Date(a), Self::Date(b)) => a.push(b.get(index).unwrap_or(NULL_I32)),
            (Self::Binary(a), Self::Binary(b)) => a.push(b.get(index).flatten().as_deref()),
            (Self::Array(a), Self::Array(b)) => a.push_from(b, index),
            (a, _) => a.push_null(),
        }
    }

    /// Sets row `index` to row `from` of `other` (of the same type, else null), or to null when
    /// `from` is `None`. `false` (and no change) where a row cannot change in place: past the
    /// end, or plain (non-dictionary) strings.
    pub fn set_from(&mut self, index: usize, other: &Column, from: Option<usize>) -> bool {
        fn set<T: Copy>(a: &mut Chunked<T>, index: usize, value: Option<T>, null: T) -> bool {
            a.get_mut(index)
                .map(|slot| *slot = value.unwrap_or(null))
                .is_some()
        }
        match (self, other) {
            (Self::Bool(a), Self::Bool(b)) => set(a, index, from.and_then(|f| b.get(f)), NULL_BOOL),
            (Self::I32(a), Self::I32(b)) => set(a, index, from.and_then(|f| b.get(f)), NULL_I32),
            (Self::I64(a), Self::I64(b))
            | (Self::Timestamp(a), Self::Timestamp(b))
            | (Self::Time(a), Self::Time(b)) => {
                set(a, index, from.and_then(|f| b.get(f)), NULL_I64)
            }
            (Self::Date(a), Self::Date(b)) => set(a, index, from.and_then(|f| b.get(f)), NULL_I32),
            (Self::F64(a), Self::F64(b)) => set(a, index, from.and_then(|f| b.get(f)), NULL_F64),
            (Self::String(a), Self::String(b)) => {
                a.set(index, from.and_then(|f| b.get(f)).flatten())
            }
            (Self::Bool(a), _) => set(a, index, None, NULL_BOOL),
            (Self::I32(a), _) => set(a, index, None, NULL_I32),
            (Self::I64(a), _) | (Self::Timestamp(a), _) | (Self::Time(a), _) => {
                set(a, index, None, NULL_I64)
            }
            (Self::Date(a), _) => set(a, index, None, NULL_I32),
            (Self::F64(a), _) => set(a, index, None, NULL_F64),
            (Self::String(a), _) => a.set(index, None),
            // Binary and array rows do not change in place.
            (Self::Binary(_) | Self::Array(_), _) => false,
        }
    }

    /// Orders rows `i` of `self` and `j` of `other` (same type): nulls first, doubles in
    /// Deephaven's order ([`compare_f64`]: every NaN last, -0.0 equal to 0.0).
    pub fn compare_rows(&self, i: usize, other: &Column, j: usize) -> std::cmp::Ordering {
        use std::cmp::Ordering;
        fn by<T: PartialOrd>(a: Option<T>, b: Option<T>, null: T) -> Ordering {
            match (a.filter(|v| *v != null), b.filter(|v| *v != null)) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Less,
                (Some(_), None) => Ordering::Greater,
                (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
            }
        }
        match (self, other) {
            (Self::Bool(a), Self::Bool(b)) => by(a.get(i), b.get(j), NULL_BOOL),
            (Self::I32(a), Self::I32(b)) => by(a.get(i), b.get(j), NULL_I32),
            (Self::I64(a), Self::I64(b))
            | (Self::Timestamp(a), Self::Timestamp(b))
            | (Self::Time(a), Self::Time(b)) => by(a.get(i), b.get(j), NULL_I64),
            (Self::Date(a), Self::Date(b)) => by(a.get(i), b.get(j), NULL_I32),
            (Self::Binary(a), Self::Binary(b)) => a.get(i).flatten().cmp(&b.get(j).flatten()),
            // Arrays do not sort (a sort by an array column is refused); equal here.
            (Self::Array(_), Self::Array(_)) => Ordering::Equal,
            (Self::F64(a), Self::F64(b)) => {
                let (x, y) = (
                    a.get(i).filter(|v| *v != NULL_F64),
                    b.get(j).filter(|v| *v != NULL_F64),
                );
                match (x, y) {
                    (Some(x), Some(y)) => compare_f64(x, y),
                    (x, y) => x.is_some().cmp(&y.is_some()),
                }
            }
            (Self::String(a), Self::String(b)) => a.get(i).flatten().cmp(&b.get(j).flatten()),
            _ => Ordering::Equal,
        }
    }

    /// Appends a null.
    pub fn push_null(&mut self) {
        match self {
            Self::Bool(c) => c.push(NULL_BOOL),
            Self::I32(c) => c.push(NULL_I32),
            Self::I64(c) | Self::Timestamp(c) | Self::Time(c) => c.push(NULL_I64),
            Self::F64(c) => c.push(NULL_F64),
            Self::String(c) => c.push(None),
            Self::Date(c) => c.push(NULL_I32),
            Self::Binary(c) => c.push(None),
            Self::Array(c) => c.push_null(),
        }
    }

    /// Removes `count` rows from the front.
    pub fn pop_front(&mut self, count: usize) {
        match self {
            Self::Bool(c) => c.pop_front(count),
            Self::I32(c) => c.pop_front(count),
            Self::I64(c) | Self::Timestamp(c) | Self::Time(c) => c.pop_front(count),
            Self::F64(c) => c.pop_front(count),
            Self::String(c) => c.pop_front(count),
            Self::Date(c) => c.pop_front(count),
            Self::Binary(c) => c.pop_front(count),
            Self::Array(c) => c.pop_front(count),
        }
    }

    /// Keeps the first `new_len` rows, dropping the rest from the back.
    pub fn truncate(&mut self, new_len: usize) {
        match self {
            Self::Bool(c) => c.truncate(new_len),
            Self::I32(c) | Self::Date(c) => c.truncate(new_len),
            Self::I64(c) | Self::Timestamp(c) | Self::Time(c) => c.truncate(new_len),
            Self::F64(c) => c.truncate(new_len),
            Self::String(c) => c.truncate(new_len),
            Self::Binary(c) => c.truncate(new_len),
            Self::Array(c) => c.truncate(new_len),
        }
    }

    /// Removes every row, keeping storage for reuse.
    pub fn clear(&mut self) {
        match self {
            Self::Bool(c) => c.clear(),
            Self::I32(c) => c.clear(),
            Self::I64(c) | Self::Timestamp(c) | Self::Time(c) => c.clear(),
            Self::F64(c) => c.clear(),
            Self::String(c) => c.clear(),
            Self::Date(c) => c.clear(),
            Self::Binary(c) => c.clear(),
            Self::Array(c) => c.clear(),
        }
    }

    pub fn bytes_used(&self) -> usize {
        match self {
            Self::Bool(c) => c.bytes_used(),
            Self::I32(c) => c.bytes_used(),
            Self::I64(c) | Self::Timestamp(c) | Self::Time(c) => c.bytes_used(),
            Self::F64(c) => c.bytes_used(),
            Self::String(c) => c.bytes_used(),
            Self::Date(c) => c.bytes_used(),
            Self::Binary(c) => c.bytes_used(),
            Self::Array(c) => c.bytes_used(),
        }
    }

    pub fn bytes_reserved(&self) -> usize {
        match self {
            Self::Bool(c) => c.bytes_reserved(),
            Self::I32(c) => c.bytes_reserved(),
            Self::I64(c) | Self::Timestamp(c) | Self::Time(c) => c.bytes_reserved(),
            Self::F64(c) => c.bytes_reserved(),
            Self::String(c) => c.bytes_reserved(),
            Self::Date(c) => c.bytes_reserved(),
            Self::Binary(c) => c.bytes_reserved(),
            Self::Array(c) => c.bytes_reserved(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Debug` spells values as `#[derive(Debug)]` did (test messages and error texts use it).
    #[test]
    fn values_debug_as_derived() {
        let row = Value::Array(vec![
            Value::F64(1e-7),
            Value::F64(2.0),
            Value::Null,
            Value::String("a\"b".into()),
            Value::I64(-3),
        ]);
        assert_eq!(
            format!("{row:?}"),
            r#"Array([F64(1e-7), F64(2.0), Null, String("a\"b"), I64(-3)])"#
        );
        assert_eq!(format!("{:#?}", Value::F64(0.5)), "F64(\n    0.5,\n)");
        assert_eq!(Value::F64(-0.0).to_string(), "-0");
        assert_eq!(Value::F64(1e21).to_string(), "1000000000000000000000");
    }

    #[test]
    fn values_and_sentinels_round_trip() {
        let cases: Vec<(ColumnType, Vec<Value>)> = vec![
            (
                ColumnType::Bool,
                vec![Value::Bool(true), Value::Null, Value::Bool(false)],
            ),
            (
                ColumnType::I32,
                vec![Value::I32(-5), Value::Null, Value::I32(i32::MAX)],
            ),
            (ColumnType::I64, vec![Value::I64(1 << 40), Value::Null]),
            (
                ColumnType::F64,
                vec![Value::F64(1.5), Value::Null, Value::F64(f64::MAX)],
            ),
            (
                ColumnType::Timestamp,
                vec![Value::Timestamp(1_700_000_000_000_000_000), Value::Null],
            ),
            (
                ColumnType::String,
                vec![Value::String("BTC/USD".into()), Value::Null],
            ),
            (ColumnType::Date, vec![Value::Date(20_458), Value::Null]),
            (
                ColumnType::Time,
                vec![Value::Time(52_200_000_000_000), Value::Null],
            ),
            (
                ColumnType::Binary,
                vec![
                    Value::Binary(vec![0, 255]),
                    Value::Null,
                    Value::Binary(vec![]),
                ],
            ),
        ];
        for (ty, values) in cases {
            let mut column = Column::new(ty);
            for v in &values {
                assert!(column.push(v));
            }
            let back: Vec<Value> = (0..values.len()).filter_map(|i| column.get(i)).collect();
            assert_eq!(back, values, "{ty}");
            assert_eq!(column.column_type(), ty);
            // A source table adopts a batch's columns with `append`: every type keeps its rows
            // (dates, times and binary values were once dropped there).
            let mut table = Column::new(ty);
            assert!(table.append(column.clone()) && table.append(column));
            let back: Vec<Value> = (0..2 * values.len()).filter_map(|i| table.get(i)).collect();
            assert_eq!(back, [values.clone(), values].concat(), "{ty} appended");
        }
    }

    #[test]
    fn nan_is_a_value_and_mismatched_types_push_null() {
        let mut column = Column::new(ColumnType::F64);
        column.push(&Value::F64(f64::NAN));
        assert!(matches!(column.get(0), Some(Value::F64(v)) if v.is_nan()));
        let mut ints = Column::new(ColumnType::I32);
        assert!(!ints.push(&Value::String("x".into())));
        assert_eq!(ints.get(0), Some(Value::Null));
    }
}
