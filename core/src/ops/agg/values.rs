//! The input values of the reducers: [`Values`] reads a block of a column as `u64` lane bits (an
//! `i64`, an `f64`'s bits, or a string's code in the reader's own dictionary), and [`OrderKey`]
//! places a value in Deephaven's sort order: null first, then numbers (NaN last, -0.0 equal to
//! 0.0) or strings.
//!
//! Invariant: a value's bits and its key round-trip: [`Values::push`] of the bits and
//! [`Values::push_key`] of the key append the same value; two values group together (are one
//! distinct value) exactly when their [`Values::canonical`] bits are equal.

use std::rc::Rc;

use super::super::keys::{Interner, read_f64, read_i64};
use crate::column::strings::NULL_CODE;
use crate::column::{Column, ColumnType, NULL_BOOL, NULL_F64, NULL_I32, NULL_I64, Value};

/// The sign bit: flipping it orders `i64`s as `u64`s.
const SIGN: u64 = 1 << 63;

/// A value's place in Deephaven's sort order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum OrderKey {
    Null,
    /// A number (or a boolean, date, time, timestamp), its order kept by the unsigned bits.
    Num(u64),
    Str(Rc<str>),
}

/// Which representation a column's values take.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Lane {
    Int,
    Float,
    Str,
}

/// Reads one column's values and keeps the dictionary their string codes refer to.
pub(super) struct Values {
    ty: ColumnType,
    lane: Lane,
    interner: Interner,
    /// Own code → the string, shared by the keys that hold it.
    strings: Vec<Rc<str>>,
    ints: Vec<i64>,
    floats: Vec<f64>,
    codes: Vec<u32>,
}

impl Values {
    pub(super) fn new(ty: ColumnType) -> Self {
        let lane = match ty {
            ColumnType::F64 => Lane::Float,
            ColumnType::String => Lane::Str,
            _ => Lane::Int,
        };
        Self {
            ty,
            lane,
            interner: Interner::default(),
            strings: Vec::new(),
            ints: Vec::new(),
            floats: Vec::new(),
            codes: Vec::new(),
        }
    }

    /// Forgets the strings read so far (the rows that held them are no longer covered).
    pub(super) fn clear(&mut self) {
        self.interner = Interner::default();
        self.strings.clear();
    }

    pub(super) fn ty(&self) -> ColumnType {
        self.ty
    }

    /// Rows `start .. start + count` of `column` as lane bits, into `out`.
    pub(super) fn read(&mut self, column: &Column, start: usize, count: usize, out: &mut Vec<u64>) {
        out.clear();
        match (self.lane, column) {
            (Lane::Str, Column::String(strings)) => {
                self.interner.codes(strings, start, count, &mut self.codes);
                let dict = &self.interner.dict;
                while self.strings.len() < dict.len() {
                    let code = self.strings.len() as u32;
                    self.strings.push(dict.get(code).unwrap_or_default().into());
                }
                out.extend(self.codes.iter().map(|&c| u64::from(c)));
            }
            (Lane::Float, _) => {
                read_f64(column, start, count, &mut self.floats);
                out.extend(self.floats.iter().map(|v| v.to_bits()));
            }
            _ => {
                read_i64(column, start, count, &mut self.ints);
                out.extend(self.ints.iter().map(|&v| v as u64));
            }
        }
        // A column of another shape (none today) reads as nulls.
        out.resize(count, self.null_bits());
    }

    fn null_bits(&self) -> u64 {
        match self.lane {
            Lane::Int => NULL_I64 as u64,
            Lane::Float => NULL_F64.to_bits(),
            Lane::Str => u64::from(NULL_CODE),
        }
    }

    pub(super) fn is_null(&self, bits: u64) -> bool {
        bits == self.null_bits()
    }

    /// The bits of one distinct value: -0.0 as 0.0, every NaN as one.
    pub(super) fn canonical(&self, bits: u64) -> u64 {
        match self.lane {
            Lane::Float => {
                let v = f64::from_bits(bits);
                if v == 0.0 {
                    0
                } else if v.is_nan() {
                    f64::NAN.to_bits()
                } else {
                    bits
                }
            }
            _ => bits,
        }
    }

    pub(super) fn key(&self, bits: u64) -> OrderKey {
        if self.is_null(bits) {
            return OrderKey::Null;
        }
        match self.lane {
            Lane::Str => OrderKey::Str(self.str_key(bits)),
            _ => OrderKey::Num(self.num_key(bits)),
        }
    }

    /// The order bits of a non-null number (of the int or float lane).
    pub(super) fn num_key(&self, bits: u64) -> u64 {
        match self.lane {
            Lane::Float => float_key(f64::from_bits(bits)),
            _ => bits ^ SIGN,
        }
    }

    /// The string of a non-null string code.
    pub(super) fn str_key(&self, bits: u64) -> Rc<str> {
        self.strings
            .get(bits as usize)
            .cloned()
            .unwrap_or_else(|| "".into())
    }

    /// A key's value as a double (numbers only; NaN otherwise).
    pub(super) fn key_f64(&self, key: &OrderKey) -> f64 {
        match (self.lane, key) {
            (Lane::Int, OrderKey::Num(k)) => ((k ^ SIGN) as i64) as f64,
            (Lane::Float, OrderKey::Num(k)) => float_of_key(*k),
            _ => f64::NAN,
        }
    }

    /// Appends the value of `bits` to `out`, a column of the input's type.
    pub(super) fn push(&self, bits: u64, out: &mut Column) {
        let key = self.key(bits);
        self.push_key(&key, out);
    }

    /// Appends the value of `key` to `out`, a column of the input's type.
    pub(super) fn push_key(&self, key: &OrderKey, out: &mut Column) {
        let int = |k: u64| (k ^ SIGN) as i64;
        match (key, out) {
            (OrderKey::Null, out) => out.push_null(),
            (OrderKey::Str(s), Column::String(c)) => c.push(Some(s)),
            (OrderKey::Num(k), Column::F64(c)) => c.push(float_of_key(*k)),
            (OrderKey::Num(k), Column::I64(c) | Column::Timestamp(c) | Column::Time(c)) => {
                c.push(int(*k))
            }
            (OrderKey::Num(k), Column::I32(c) | Column::Date(c)) => {
                c.push(i32::try_from(int(*k)).unwrap_or(NULL_I32))
            }
            (OrderKey::Num(k), Column::Bool(c)) => {
                c.push(i8::try_from(int(*k)).unwrap_or(NULL_BOOL))
            }
            (_, out) => out.push_null(),
        }
    }

    /// Whether `value` can be written to a column of the input's type.
    pub(super) fn accepts(&self, value: &Value) -> bool {
        Column::new(self.ty).accepts(value)
    }

    pub(super) fn bytes(&self) -> (usize, usize) {
        let used = self.interner.dict.len() * 8 + self.strings.len() * 16;
        let reserved = self.interner.bytes()
            + self.strings.capacity() * 16
            + self.strings.iter().map(|s| s.len()).sum::<usize>()
            + self.ints.capacity() * 8
            + self.floats.capacity() * 8
            + self.codes.capacity() * 4;
        (used, reserved)
    }
}

/// Whether a column type's values have an order (and one lane value each): every type but
/// binary and arrays.
pub(super) fn orderable(ty: ColumnType) -> bool {
    !matches!(ty, ColumnType::Binary | ColumnType::Array(_))
}

/// A double's place in the order: -inf < ... < -0.0 = 0.0 < ... < inf < NaN.
fn float_key(v: f64) -> u64 {
    if v.is_nan() {
        return u64::MAX;
    }
    let bits = (v + 0.0).to_bits();
    if bits & SIGN != 0 { !bits } else { bits | SIGN }
}

fn float_of_key(k: u64) -> f64 {
    if k == u64::MAX {
        f64::NAN
    } else if k & SIGN != 0 {
        f64::from_bits(k & !SIGN)
    } else {
        f64::from_bits(!k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_keys_order_as_deephaven_sorts_and_round_trip() {
        let xs = [
            f64::NEG_INFINITY,
            -1e300,
            -1.0,
            -f64::MIN_POSITIVE,
            0.0,
            1e-300,
            2.5,
            f64::INFINITY,
            f64::NAN,
        ];
        for w in xs.windows(2) {
            assert!(float_key(w[0]) < float_key(w[1]), "{} < {}", w[0], w[1]);
        }
        assert_eq!(float_key(-0.0), float_key(0.0));
        for &x in &xs[..8] {
            assert_eq!(float_of_key(float_key(x)), x);
        }
        assert!(float_of_key(float_key(f64::NAN)).is_nan());
        // Nulls come first, before -inf.
        let values = Values::new(ColumnType::F64);
        assert!(values.key(NULL_F64.to_bits()) < values.key(f64::NEG_INFINITY.to_bits()));
        let ints = Values::new(ColumnType::I64);
        assert!(ints.key(NULL_I64 as u64) < ints.key((i64::MIN + 1) as u64));
        assert!(ints.key((-5i64) as u64) < ints.key(3));
    }
}
