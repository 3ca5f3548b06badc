//! Key codes: the values of key columns as `u64`s that compare equal exactly when the values
//! group together, for the group index of `aggBy` and the lookup of `naturalJoin`.
//!
//! Strings are interned into the operator's own dictionary, so codes from different tables (the
//! two sides of a join) and from rebuilt tables agree; a dictionary-coded column is translated
//! through a per-dictionary cache, one array lookup per row. Numbers are their value; doubles
//! their bits, with -0.0 as 0.0 and every NaN as one. Arrays have no key code: array columns are
//! refused as keys ([`refuse_array_keys`]).

use super::{Agg, AggKind};
use crate::column::strings::NULL_CODE;
use crate::column::{Column, ColumnType, Dictionary, NULL_BOOL, NULL_I32, NULL_I64, StringColumn};
use crate::table::Schema;
use crate::{Error, Result};

/// Translation caches kept per interner (one per source dictionary).
const CACHES: usize = 4;

/// The code [`Interner::find_codes`] gives a string the interner never saw (no own code reaches
/// it: a dictionary of four billion strings is far past any column's).
pub(crate) const UNKNOWN_CODE: u32 = NULL_CODE - 1;

/// Strings of one parent column, interned into the operator's own dictionary; parent dictionary
/// codes are translated through a cache, so a dictionary-coded column costs one lookup per row.
#[derive(Default)]
pub(crate) struct Interner {
    pub(crate) dict: Dictionary,
    /// Per source dictionary id: its code → own code (`NULL_CODE` = not seen yet).
    caches: Vec<(u64, Vec<u32>)>,
}

impl Interner {
    pub(crate) fn codes(
        &mut self,
        column: &StringColumn,
        start: usize,
        count: usize,
        out: &mut Vec<u32>,
    ) {
        out.clear();
        match (column.dictionary(), column.codes()) {
            (Some(parent), Some(codes)) => {
                // Codes are only stable within one dictionary (a rebuilt table has a new one).
                let slot = match self.caches.iter().position(|(id, _)| *id == parent.id()) {
                    Some(i) => i,
                    None => {
                        if self.caches.len() == CACHES {
                            self.caches.remove(0);
                        }
                        self.caches.push((parent.id(), Vec::new()));
                        self.caches.len() - 1
                    }
                };
                let remap = &mut self.caches[slot].1;
                if remap.len() < parent.len() {
                    remap.resize(parent.len(), NULL_CODE);
                }
                for slice in codes.slices_range(start, count) {
                    for &c in slice {
                        if c == NULL_CODE {
                            out.push(NULL_CODE);
                            continue;
                        }
                        let slot = &mut remap[c as usize];
                        if *slot == NULL_CODE {
                            *slot = self.dict.intern_or_null(parent.get(c));
                        }
                        out.push(*slot);
                    }
                }
            }
            _ => {
                for i in start..(start + count).min(column.len()) {
                    let code = self.dict.intern_or_null(column.get(i).flatten());
                    out.push(code);
                }
            }
        }
    }

    /// The own codes of rows `start .. start + count` of `column`, as [`Interner::codes`] gives
    /// them, but without interning: a string never interned reads as [`UNKNOWN_CODE`]. Only
    /// strings found are cached (an own code never changes until the interner is replaced).
    pub(crate) fn find_codes(
        &mut self,
        column: &StringColumn,
        start: usize,
        count: usize,
        out: &mut Vec<u32>,
    ) {
        out.clear();
        match (column.dictionary(), column.codes()) {
            (Some(parent), Some(codes)) => {
                let slot = match self.caches.iter().position(|(id, _)| *id == parent.id()) {
                    Some(i) => i,
                    None => {
                        if self.caches.len() == CACHES {
                            self.caches.remove(0);
                        }
                        self.caches.push((parent.id(), Vec::new()));
                        self.caches.len() - 1
                    }
                };
                let remap = &mut self.caches[slot].1;
                if remap.len() < parent.len() {
                    remap.resize(parent.len(), NULL_CODE);
                }
                for slice in codes.slices_range(start, count) {
                    for &c in slice {
                        if c == NULL_CODE {
                            out.push(NULL_CODE);
                            continue;
                        }
                        let slot = &mut remap[c as usize];
                        if *slot == NULL_CODE {
                            match parent.get(c).and_then(|v| self.dict.code(v)) {
                                Some(own) => *slot = own,
                                None => {
                                    out.push(UNKNOWN_CODE);
                                    continue;
                                }
                            }
                        }
                        out.push(*slot);
                    }
                }
            }
            _ => {
                for i in start..(start + count).min(column.len()) {
                    let code = match column.get(i).flatten() {
                        None => NULL_CODE,
                        Some(v) => self.dict.code(v).unwrap_or(UNKNOWN_CODE),
                    };
                    out.push(code);
                }
            }
        }
    }

    pub(crate) fn bytes(&self) -> usize {
        self.dict.bytes_reserved()
            + self
                .caches
                .iter()
                .map(|(_, c)| c.capacity() * 4)
                .sum::<usize>()
    }
}

/// Reads rows of a non-string column as `i64` (ints, longs, timestamps, bools; nulls as
/// `NULL_I64`) or as `f64` (doubles).
pub(crate) fn read_i64(column: &Column, start: usize, count: usize, out: &mut Vec<i64>) {
    out.clear();
    match column {
        Column::Bool(c) => c.slices_range(start, count).for_each(|s| {
            out.extend(s.iter().map(|&v| {
                if v == NULL_BOOL {
                    NULL_I64
                } else {
                    i64::from(v)
                }
            }))
        }),
        Column::I32(c) | Column::Date(c) => c.slices_range(start, count).for_each(|s| {
            out.extend(s.iter().map(|&v| {
                if v == NULL_I32 {
                    NULL_I64
                } else {
                    i64::from(v)
                }
            }))
        }),
        Column::I64(c) | Column::Timestamp(c) | Column::Time(c) => c.copy_range(start, count, out),
        // Binary values and arrays have no key code: they read as null (array keys are refused).
        Column::Binary(_) | Column::Array(_) => {
            out.resize(count.min(column.len().saturating_sub(start)), NULL_I64)
        }
        Column::F64(_) | Column::String(_) => {}
    }
}

pub(crate) fn read_f64(column: &Column, start: usize, count: usize, out: &mut Vec<f64>) {
    out.clear();
    if let Column::F64(c) = column {
        c.copy_range(start, count, out);
    }
}

/// Codes the values of one key column (of one type) from any table.
#[derive(Default)]
pub(crate) struct KeyCoder {
    pub(crate) interner: Interner,
    strings: Vec<u32>,
    ints: Vec<i64>,
    floats: Vec<f64>,
}

impl KeyCoder {
    /// The codes of rows `start .. start + count` of `column` (of type `ty`), into `out`.
    pub(crate) fn codes(
        &mut self,
        ty: ColumnType,
        column: &Column,
        start: usize,
        count: usize,
        out: &mut Vec<u64>,
    ) {
        out.clear();
        match (ty, column) {
            (ColumnType::String, Column::String(s)) => {
                self.interner.codes(s, start, count, &mut self.strings);
                out.extend(self.strings.iter().map(|&c| u64::from(c)));
            }
            (ColumnType::F64, _) => {
                read_f64(column, start, count, &mut self.floats);
                out.extend(self.floats.iter().map(|&v| {
                    if v == 0.0 {
                        0
                    } else if v.is_nan() {
                        f64::NAN.to_bits()
                    } else {
                        v.to_bits()
                    }
                }));
            }
            _ => {
                read_i64(column, start, count, &mut self.ints);
                out.extend(self.ints.iter().map(|&v| v as u64));
            }
        }
    }

    /// The codes of rows `start .. start + count`, as [`KeyCoder::codes`] gives them, but
    /// without interning a string: one never seen reads as [`UNKNOWN_CODE`] (as a `u64`), a code
    /// no tuple holds.
    pub(crate) fn find_codes(
        &mut self,
        ty: ColumnType,
        column: &Column,
        start: usize,
        count: usize,
        out: &mut Vec<u64>,
    ) {
        match (ty, column) {
            (ColumnType::String, Column::String(s)) => {
                out.clear();
                self.interner.find_codes(s, start, count, &mut self.strings);
                out.extend(self.strings.iter().map(|&c| u64::from(c)));
            }
            _ => self.codes(ty, column, start, count, out),
        }
    }

    /// Turns a code back into a value, appended to `out` (a column of the key's type).
    pub(crate) fn push_value(&self, code: u64, out: &mut Column) {
        match out {
            Column::String(c) => c.push(self.interner.dict.get(code as u32)),
            Column::F64(c) => c.push(f64::from_bits(code)),
            Column::I64(c) | Column::Timestamp(c) | Column::Time(c) => c.push(code as i64),
            Column::Binary(c) => c.push(None),
            Column::Array(c) => c.push_null(),
            Column::I32(c) | Column::Date(c) => c.push(match code as i64 {
                NULL_I64 => NULL_I32,
                v => v as i32,
            }),
            Column::Bool(c) => c.push(match code as i64 {
                NULL_I64 => NULL_BOOL,
                v => v as i8,
            }),
        }
    }
}

/// Refuses array columns as keys (of `what`: a grouping, a sort, a join), naming the column.
pub(crate) fn refuse_array_keys(schema: &Schema, keys: &[&str], what: &str) -> Result<()> {
    for name in keys {
        let ty = schema.fields()[schema.index_of(name)?].ty;
        if ty.element().is_some() {
            return Err(Error::Invalid(format!(
                "{what}: {name} is an array column ({ty}), and arrays cannot be keys (ungroup it, \
                 or key on a formula of it such as len({name}))"
            )));
        }
    }
    Ok(())
}

/// Refuses `aggBy` over array columns: as keys, and as the input of a (scalar) aggregation.
pub(crate) fn refuse_arrays_in_agg(schema: &Schema, aggs: &[Agg], keys: &[&str]) -> Result<()> {
    refuse_array_keys(schema, keys, "aggBy")?;
    // Count takes no value; Group and Distinct say that arrays do not nest.
    let scalar = |a: &&Agg| !matches!(a.kind, AggKind::Count | AggKind::Group | AggKind::Distinct);
    for agg in aggs.iter().filter(scalar) {
        let Some(input) = &agg.input else { continue };
        let ty = schema.fields()[schema.index_of(input)?].ty;
        if ty.element().is_some() {
            return Err(Error::Invalid(format!(
                "{} = {:?}({input}): {input} is an array column ({ty}); reduce it in a formula \
                 (sum({input}), len({input}), ...) or ungroup it first",
                agg.output, agg.kind
            )));
        }
    }
    Ok(())
}
