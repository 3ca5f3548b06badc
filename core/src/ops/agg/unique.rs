//! `Unique`: a group's single distinct value (Deephaven's `AggUnique`): the value when the group
//! has exactly one, null when all its values are null, and the non-unique sentinel (null unless
//! given) when it has more than one. Nulls are skipped unless `includeNulls`, when null is one
//! more value (so a group of nulls and one value is not unique, but a group of nulls alone still
//! gives null). The output has the input's type, and so must the sentinel.
//!
//! Over an append or blink parent, rows never leave: a group keeps its first value and whether
//! another one came. Over a ring it keeps the multiset of its distinct values (value → rows), so a
//! group whose other values left becomes unique again.
//!
//! Invariant: without history, `first[g]` is the group's first value (null bits when none) and
//! `many[g]` whether a different one came since; with history, `counts[g]` holds every covered
//! value of group `g` (nulls too, when they count) with its number of rows.

use rustc_hash::FxHashMap;

use super::Agg;
use super::reducer::{GroupReducer, input_column};
use super::values::{Values, orderable};
use crate::column::{Chunked, Column, ColumnType, Value};
use crate::table::{Schema, TableData};
use crate::{Error, Result};

pub(super) struct Unique {
    input: usize,
    values: Values,
    include_nulls: bool,
    sentinel: Option<Value>,
    /// Append and blink parents.
    first: Vec<Option<u64>>,
    many: Vec<bool>,
    /// Over a ring: per group, canonical value bits → covered rows.
    counts: Option<Vec<FxHashMap<u64, u32>>>,
    history: Chunked<u64>,
    scratch: Vec<u64>,
}

pub(super) fn new(agg: &Agg, schema: &Schema) -> Result<Box<dyn GroupReducer>> {
    let (input, ty) = input_column(agg, schema)?;
    let values = Values::new(ty);
    let sentinel = agg.options.non_unique_sentinel.clone().map(|s| fit(s, ty));
    if let Some(s) = &sentinel
        && !s.is_null()
        && !values.accepts(s)
    {
        return Err(Error::Invalid(format!(
            "{} = Unique({}): the non-unique sentinel {s:?} is not a {ty} value",
            agg.output,
            agg.input.as_deref().unwrap_or("")
        )));
    }
    if !orderable(ty) {
        return Err(Error::Invalid(format!(
            "{} = Unique({}): {ty} columns are not supported",
            agg.output,
            agg.input.as_deref().unwrap_or("")
        )));
    }
    Ok(Box::new(Unique {
        input,
        values,
        include_nulls: agg.options.include_nulls,
        sentinel,
        first: Vec::new(),
        many: Vec::new(),
        counts: None,
        history: Chunked::new(),
        scratch: Vec::new(),
    }))
}

/// A sentinel given as another number type (a JS number is a long or a double), as the column's
/// type when it converts exactly.
fn fit(value: Value, ty: ColumnType) -> Value {
    let int = match value {
        Value::I64(v) => Some(v),
        Value::F64(v) if v.fract() == 0.0 && v.abs() < 9.2e18 => Some(v as i64),
        _ => None,
    };
    match (ty, int) {
        (ColumnType::I32, Some(v)) => i32::try_from(v).map_or(value, Value::I32),
        (ColumnType::I64, Some(v)) => Value::I64(v),
        _ => value,
    }
}

impl Unique {
    /// The bits a row counts as, `None` when it does not count (a null, unless nulls count).
    fn counted(&self, bits: u64) -> Option<u64> {
        if self.values.is_null(bits) && !self.include_nulls {
            None
        } else {
            Some(self.values.canonical(bits))
        }
    }
}

impl GroupReducer for Unique {
    fn output_type(&self) -> ColumnType {
        self.values.ty()
    }

    fn keep_history(&mut self) {
        self.counts = Some(Vec::new());
    }

    fn grow(&mut self, groups: usize) {
        match &mut self.counts {
            Some(counts) => counts.resize_with(groups, FxHashMap::default),
            None => {
                self.first.resize(groups, None);
                self.many.resize(groups, false);
            }
        }
    }

    fn add(&mut self, parent: &TableData, start: usize, count: usize, gids: &[u32]) -> Result<()> {
        let mut bits = std::mem::take(&mut self.scratch);
        self.values
            .read(&parent.columns[self.input], start, count, &mut bits);
        for (&g, &b) in gids.iter().zip(&bits) {
            let Some(v) = self.counted(b) else { continue };
            let g = g as usize;
            match &mut self.counts {
                Some(counts) => *counts[g].entry(v).or_insert(0) += 1,
                None => match self.first[g] {
                    None => self.first[g] = Some(v),
                    Some(first) if first != v => self.many[g] = true,
                    Some(_) => {}
                },
            }
        }
        if self.counts.is_some() {
            self.history.extend_from_slice(&bits);
        }
        self.scratch = bits;
        Ok(())
    }

    fn take_back(&mut self, gids: &[u32]) {
        let mut bits = Vec::with_capacity(gids.len());
        self.history.copy_range(0, gids.len(), &mut bits);
        self.history.pop_front(gids.len());
        for (&g, &b) in gids.iter().zip(&bits) {
            let Some(v) = self.counted(b) else { continue };
            let Some(counts) = &mut self.counts else {
                return;
            };
            let group = &mut counts[g as usize];
            if let Some(n) = group.get_mut(&v) {
                *n -= 1;
                if *n == 0 {
                    group.remove(&v);
                }
            }
        }
    }

    fn clear(&mut self) {
        self.values.clear();
        self.first.clear();
        self.many.clear();
        if let Some(counts) = &mut self.counts {
            counts.clear();
        }
        self.history.clear();
    }

    fn emit(&self, g: usize, out: &mut Column) {
        let (one, many) = match &self.counts {
            Some(counts) => {
                let group = &counts[g];
                (group.keys().next().copied(), group.len() > 1)
            }
            None => (self.first[g], self.many[g]),
        };
        match (one, many) {
            (_, true) => match &self.sentinel {
                Some(s) if out.push(s) => {}
                _ => out.push_null(),
            },
            (Some(v), false) => self.values.push(v, out),
            (None, false) => out.push_null(),
        }
    }

    fn bytes(&self) -> (usize, usize) {
        let (v_used, v_reserved) = self.values.bytes();
        let (map_used, map_reserved) = self.counts.as_ref().map_or((0, 0), |counts| {
            counts.iter().fold((0, 0), |(u, r), m| {
                (u + 48 + m.len() * 13, r + 48 + m.capacity() * 13)
            })
        });
        let used =
            self.first.len() * 16 + self.many.len() + map_used + v_used + self.history.bytes_used();
        let reserved = self.first.capacity() * 16
            + self.many.capacity()
            + map_reserved
            + v_reserved
            + self.history.bytes_reserved()
            + self.scratch.capacity() * 8;
        (used, reserved)
    }
}
