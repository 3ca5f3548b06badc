//! `AbsSum`: the sum of the absolute values of a group's non-null values (Deephaven's
//! `AggAbsSum`): a long for integer inputs (booleans count their trues, as `Sum` does), a double
//! for doubles; null for a group with no non-null value.
//!
//! Invariant: `counts[g]` is the number of non-null values group `g` covers; double sums are
//! double-double sums (as `Sum`'s: exact while a sum spans at most 106 bits). Over a ring,
//! `history` holds every covered row's absolute value, oldest first.

use super::super::keys::{read_f64, read_i64};
use super::Agg;
use super::accumulator::{add, finish, sub};
use super::reducer::{GroupReducer, input_column};
use crate::column::{Chunked, Column, ColumnType, NULL_F64, NULL_I64};
use crate::table::{Schema, TableData};
use crate::{Error, Result};

pub(super) struct AbsSum {
    input: usize,
    /// Whether the input is a double column (else an integer one).
    float: bool,
    counts: Vec<u64>,
    ints: Vec<i64>,
    /// Double sums: high and low parts, and NaN / +inf / -inf counts.
    hi: Vec<f64>,
    lo: Vec<f64>,
    specials: Vec<[u32; 3]>,
    /// Every covered row's absolute value (`i64` or `f64` bits; a null as itself), over a ring.
    history: Option<Chunked<u64>>,
    scratch_i: Vec<i64>,
    scratch_f: Vec<f64>,
}

pub(super) fn new(agg: &Agg, schema: &Schema) -> Result<Box<dyn GroupReducer>> {
    let (input, ty) = input_column(agg, schema)?;
    match ty {
        ColumnType::String
        | ColumnType::Binary
        | ColumnType::Timestamp
        | ColumnType::Date
        | ColumnType::Time
        | ColumnType::Array(_) => {
            return Err(Error::Invalid(format!(
                "{} = AbsSum({}): cannot AbsSum a {ty} column",
                agg.output,
                agg.input.as_deref().unwrap_or("")
            )));
        }
        _ => {}
    }
    Ok(Box::new(AbsSum {
        input,
        float: ty == ColumnType::F64,
        counts: Vec::new(),
        ints: Vec::new(),
        hi: Vec::new(),
        lo: Vec::new(),
        specials: Vec::new(),
        history: None,
        scratch_i: Vec::new(),
        scratch_f: Vec::new(),
    }))
}

impl GroupReducer for AbsSum {
    fn output_type(&self) -> ColumnType {
        if self.float {
            ColumnType::F64
        } else {
            ColumnType::I64
        }
    }

    fn keep_history(&mut self) {
        self.history = Some(Chunked::new());
    }

    fn grow(&mut self, groups: usize) {
        self.counts.resize(groups, 0);
        if self.float {
            self.hi.resize(groups, 0.0);
            self.lo.resize(groups, 0.0);
            self.specials.resize(groups, [0; 3]);
        } else {
            self.ints.resize(groups, 0);
        }
    }

    fn add(&mut self, parent: &TableData, start: usize, count: usize, gids: &[u32]) -> Result<()> {
        let column = &parent.columns[self.input];
        if self.float {
            read_f64(column, start, count, &mut self.scratch_f);
            for (&g, v) in gids.iter().zip(&mut self.scratch_f) {
                if *v != NULL_F64 {
                    *v = v.abs();
                    let g = g as usize;
                    add(&mut self.hi[g], &mut self.lo[g], &mut self.specials[g], *v);
                    self.counts[g] += 1;
                }
            }
            if let Some(h) = &mut self.history {
                let bits: Vec<u64> = self.scratch_f.iter().map(|v| v.to_bits()).collect();
                h.extend_from_slice(&bits);
            }
        } else {
            read_i64(column, start, count, &mut self.scratch_i);
            for (&g, v) in gids.iter().zip(&mut self.scratch_i) {
                if *v != NULL_I64 {
                    *v = v.wrapping_abs();
                    let g = g as usize;
                    self.ints[g] = self.ints[g].wrapping_add(*v);
                    self.counts[g] += 1;
                }
            }
            if let Some(h) = &mut self.history {
                let bits: Vec<u64> = self.scratch_i.iter().map(|&v| v as u64).collect();
                h.extend_from_slice(&bits);
            }
        }
        Ok(())
    }

    fn take_back(&mut self, gids: &[u32]) {
        let Some(h) = &mut self.history else { return };
        let mut bits = Vec::with_capacity(gids.len());
        h.copy_range(0, gids.len(), &mut bits);
        h.pop_front(gids.len());
        for (&g, &b) in gids.iter().zip(&bits) {
            let g = g as usize;
            if self.float {
                let v = f64::from_bits(b);
                if v != NULL_F64 {
                    sub(&mut self.hi[g], &mut self.lo[g], &mut self.specials[g], v);
                    self.counts[g] -= 1;
                }
            } else if b as i64 != NULL_I64 {
                self.ints[g] = self.ints[g].wrapping_sub(b as i64);
                self.counts[g] -= 1;
            }
        }
    }

    fn clear(&mut self) {
        self.counts.clear();
        self.ints.clear();
        self.hi.clear();
        self.lo.clear();
        self.specials.clear();
        if let Some(h) = &mut self.history {
            h.clear();
        }
    }

    fn emit(&self, g: usize, out: &mut Column) {
        let none = self.counts[g] == 0;
        match out {
            Column::F64(c) => c.push(if none {
                NULL_F64
            } else {
                finish(self.hi[g], self.lo[g], self.specials[g])
            }),
            Column::I64(c) => c.push(if none { NULL_I64 } else { self.ints[g] }),
            _ => out.push_null(),
        }
    }

    fn bytes(&self) -> (usize, usize) {
        let (h_used, h_reserved) = self
            .history
            .as_ref()
            .map_or((0, 0), |h| (h.bytes_used(), h.bytes_reserved()));
        let used = (self.counts.len() + self.ints.len() + self.hi.len() + self.lo.len()) * 8
            + self.specials.len() * 12
            + h_used;
        let reserved = (self.counts.capacity()
            + self.ints.capacity()
            + self.hi.capacity()
            + self.lo.capacity()
            + self.scratch_i.capacity()
            + self.scratch_f.capacity())
            * 8
            + self.specials.capacity() * 12
            + h_reserved;
        (used, reserved)
    }
}
