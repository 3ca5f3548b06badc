//! `aggBy` (and `countBy`, `firstBy`, `lastBy`): incremental grouped aggregation.
//!
//! The state is columnar, as in DataFusion's `GroupsAccumulator`: a group index maps each key
//! tuple to a dense group id, and each aggregation keeps one vector indexed by group id. A batch
//! of added rows is processed column by column: first the group id of every row, then each
//! accumulator over the whole batch.
//!
//! Which rows an aggregation covers follows Deephaven:
//! - over a blink table, every row ever seen: removals are ignored;
//! - otherwise, the rows the parent has now. When the parent removed everything (a `dropStream`
//!   of a stream, each cycle), the state restarts from that cycle's rows. When it removes rows from
//!   the front (a ring table), the operator keeps a [`History`] of each covered row's group and
//!   inputs and takes the leaving rows back: sums subtract (as exact double-double sums, so no
//!   drift), CountDistinct keeps a multiset, and Min, Max, First and Last keep per-group windows
//!   (monotonic for Min and Max), since rows leave each group in the order they came.
//!
//! A group's row exists while the group covers at least one row; so a keyless aggregation has a
//! row once a row was seen (blink), or while its parent has rows (otherwise).
//!
//! Output columns: the key columns, then one per aggregation, in the order given. Strings are
//! grouped by value (each string column is interned into the operator's own dictionary), numbers by
//! value, doubles by bit pattern.

use std::rc::Rc;

use rustc_hash::FxHashMap;

use super::Operator;
use super::code_pairs::{CodePairs, PairKey};
use super::groups::Groups;
use super::keys::{Interner, KeyCoder, read_f64, read_i64};
use crate::column::strings::NULL_CODE;
use crate::column::{Chunked, Column, ColumnType, NULL_BOOL, NULL_F64, NULL_I32, NULL_I64};
use crate::table::{Field, Node, Schema, Table, TableData, Update};
use crate::{Error, Result};

/// Rows aggregated at a time: codes, group ids and inputs of a block stay in cache.
const ROWS_PER_BLOCK: usize = 4_096;

/// An aggregation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggKind {
    /// Rows in the group (nulls included).
    Count,
    /// Sum of non-null values; null when there are none. Integers sum to long.
    Sum,
    Min,
    Max,
    /// Mean of non-null values, as a double.
    Avg,
    /// The value of the group's first row.
    First,
    /// The value of the group's last row.
    Last,
    /// Distinct non-null values.
    CountDistinct,
    /// Sample variance of non-null values (n - 1 in the denominator), as a double.
    Var,
    /// Sample standard deviation, as a double.
    Std,
    /// Mean weighted by another column, over rows where both are non-null.
    WAvg,
}

/// One aggregation: what to compute, from which column, into which.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agg {
    pub kind: AggKind,
    pub output: String,
    /// The input column (none for `Count`).
    pub input: Option<String>,
    /// The weight column (`WAvg` only).
    pub weight: Option<String>,
}

/// `"Out = In"` → (Out, In); `"Col"` → (Col, Col).
fn pair(spec: &str) -> (String, String) {
    match spec.split_once('=') {
        Some((out, input)) => (out.trim().to_owned(), input.trim().to_owned()),
        None => (spec.trim().to_owned(), spec.trim().to_owned()),
    }
}

impl Agg {
    /// `Count("Name")`.
    pub fn count(name: &str) -> Self {
        Self {
            kind: AggKind::Count,
            output: name.trim().to_owned(),
            input: None,
            weight: None,
        }
    }

    /// An aggregation of `kind` from a spec, `"Out = In"` or `"Col"`.
    pub fn of(kind: AggKind, spec: &str) -> Self {
        if kind == AggKind::Count {
            return Self::count(spec);
        }
        let (output, input) = pair(spec);
        Self {
            kind,
            output,
            input: Some(input),
            weight: None,
        }
    }

    pub fn count_distinct(spec: &str) -> Self {
        Self::of(AggKind::CountDistinct, spec)
    }
    pub fn var(spec: &str) -> Self {
        Self::of(AggKind::Var, spec)
    }
    pub fn std(spec: &str) -> Self {
        Self::of(AggKind::Std, spec)
    }
    /// `WAvg(weight, "Out = In")`.
    pub fn wavg(weight: &str, spec: &str) -> Self {
        Self {
            weight: Some(weight.trim().to_owned()),
            ..Self::of(AggKind::WAvg, spec)
        }
    }

    pub fn sum(spec: &str) -> Self {
        Self::of(AggKind::Sum, spec)
    }
    pub fn min(spec: &str) -> Self {
        Self::of(AggKind::Min, spec)
    }
    pub fn max(spec: &str) -> Self {
        Self::of(AggKind::Max, spec)
    }
    pub fn avg(spec: &str) -> Self {
        Self::of(AggKind::Avg, spec)
    }
    pub fn first(spec: &str) -> Self {
        Self::of(AggKind::First, spec)
    }
    pub fn last(spec: &str) -> Self {
        Self::of(AggKind::Last, spec)
    }
}

/// Which representation an input column's values take in the state.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Lane {
    Int,
    Float,
    Str,
}

fn lane(ty: ColumnType) -> Lane {
    match ty {
        ColumnType::F64 => Lane::Float,
        ColumnType::String => Lane::Str,
        _ => Lane::Int,
    }
}

/// One aggregation's per-group state.
struct Accumulator {
    kind: AggKind,
    input: usize,
    input_ty: ColumnType,
    /// Non-null values seen (Count: rows seen).
    counts: Vec<u64>,
    ints: Vec<i64>,
    floats: Vec<f64>,
    /// Own-dictionary codes of strings (Min, Max, First, Last of a string column).
    strs: Vec<u32>,
    /// Var, Std: sums of squares; WAvg: sums of weights.
    second: Vec<f64>,
    /// The low parts of `floats` and `second` as double-double sums (see [`add`]): exact in any
    /// order, and taking rows back leaves no drift (0.0 after adding and removing 1e6 stays 0.0).
    low: Vec<f64>,
    low2: Vec<f64>,
    /// Per group, rows of `floats` / `second` that were NaN, +inf and -inf, kept out of the sums
    /// (so that they can leave again).
    specials: Vec<[u32; 3]>,
    specials2: Vec<[u32; 3]>,
    /// CountDistinct: how many covered rows have each (group, value code).
    distinct: FxHashMap<(u32, u64), u32>,
    /// CountDistinct: the last batch's value codes (`None` for null).
    scratch_codes: Vec<Option<u64>>,
    /// WAvg: the weight column.
    weight: Option<usize>,
    interner: Interner,
    scratch_i: Vec<i64>,
    scratch_f: Vec<f64>,
    scratch_s: Vec<u32>,
    scratch_w: Vec<f64>,
}

/// Adds `x` to the double-double `(hi, lo)` exactly (Knuth's TwoSum), counting a NaN or an
/// infinity in `specials` instead.
///
/// Every double sum is kept this way, not as a plain `hi += x`: the result is the exact sum
/// rounded once, whatever order the rows came in. Two tables fed the same records in different
/// interleavings (an append and a stream consumer of a multi-partition topic, whose frames are
/// cut by each one's credit) then agree to the last bit, so the seed's differences are zero; and
/// rows taken back (a ring) leave no drift.
fn add(hi: &mut f64, lo: &mut f64, specials: &mut [u32; 3], x: f64) {
    if !x.is_finite() {
        specials[special(x)] += 1;
        return;
    }
    let s = *hi + x;
    let b = s - *hi;
    *lo += (*hi - (s - b)) + (x - b);
    *hi = s;
}

/// Takes back what [`add`] added.
fn sub(hi: &mut f64, lo: &mut f64, specials: &mut [u32; 3], x: f64) {
    if x.is_finite() {
        add(hi, lo, specials, -x);
    } else {
        let slot = &mut specials[special(x)];
        *slot = slot.saturating_sub(1);
    }
}

fn special(x: f64) -> usize {
    if x.is_nan() {
        0
    } else if x > 0.0 {
        1
    } else {
        2
    }
}

/// A double-double sum with its NaN and infinity counts.
fn finish(hi: f64, lo: f64, specials: [u32; 3]) -> f64 {
    match specials {
        [n, _, _] if n > 0 => f64::NAN,
        [_, p, m] if p > 0 && m > 0 => f64::NAN,
        [_, p, _] if p > 0 => f64::INFINITY,
        [_, _, m] if m > 0 => f64::NEG_INFINITY,
        _ => hi + lo,
    }
}

/// Reads rows of a numeric column as `f64`, nulls as `NULL_F64`.
fn read_as_f64(
    column: &Column,
    start: usize,
    count: usize,
    ints: &mut Vec<i64>,
    out: &mut Vec<f64>,
) {
    if let Column::F64(_) = column {
        read_f64(column, start, count, out);
        return;
    }
    read_i64(column, start, count, ints);
    out.clear();
    out.extend(
        ints.iter()
            .map(|&v| if v == NULL_I64 { NULL_F64 } else { v as f64 }),
    );
}

impl Accumulator {
    fn output_type(kind: AggKind, input: ColumnType) -> Result<ColumnType> {
        Ok(match (kind, lane(input)) {
            (AggKind::Count | AggKind::CountDistinct, _) => ColumnType::I64,
            (AggKind::Var | AggKind::Std | AggKind::WAvg, Lane::Str) => {
                return Err(Error::Invalid(format!("cannot {kind:?} a string column")));
            }
            (AggKind::Var | AggKind::Std | AggKind::WAvg, _)
                if input == ColumnType::Timestamp || input == ColumnType::Bool =>
            {
                return Err(Error::Invalid(format!("cannot {kind:?} a {input} column")));
            }
            (AggKind::Var | AggKind::Std | AggKind::WAvg, _) => ColumnType::F64,
            (AggKind::Avg, Lane::Str) | (AggKind::Sum, Lane::Str) => {
                return Err(Error::Invalid(format!("cannot {kind:?} a string column")));
            }
            (AggKind::Avg, _) => ColumnType::F64,
            (AggKind::Sum, Lane::Float) => ColumnType::F64,
            (AggKind::Sum, Lane::Int) if input == ColumnType::Timestamp => {
                return Err(Error::Invalid("cannot Sum a timestamp column".into()));
            }
            (AggKind::Sum, Lane::Int) => ColumnType::I64,
            (_, _) => input,
        })
    }

    fn grow(&mut self, groups: usize) {
        let (int_init, float_init) = match self.kind {
            AggKind::Min => (i64::MAX, f64::INFINITY),
            AggKind::Max => (i64::MIN, f64::NEG_INFINITY),
            _ => (0, 0.0),
        };
        self.counts.resize(groups, 0);
        self.low.resize(groups, 0.0);
        self.low2.resize(groups, 0.0);
        self.specials.resize(groups, [0; 3]);
        self.specials2.resize(groups, [0; 3]);
        if self.is_statistic() {
            self.floats.resize(groups, 0.0);
            self.second.resize(groups, 0.0);
            return;
        }
        match lane(self.input_ty) {
            // An average of integers sums them as doubles.
            Lane::Int if self.kind == AggKind::Avg => self.floats.resize(groups, 0.0),
            Lane::Int => self.ints.resize(groups, int_init),
            Lane::Float => self.floats.resize(groups, float_init),
            Lane::Str => self.strs.resize(groups, NULL_CODE),
        }
    }

    fn clear(&mut self) {
        self.counts.clear();
        self.ints.clear();
        self.floats.clear();
        self.strs.clear();
        self.second.clear();
        self.low.clear();
        self.low2.clear();
        self.specials.clear();
        self.specials2.clear();
        self.distinct.clear();
        self.interner = Interner::default();
    }

    /// The last batch's input values as lane bits: `i64` for the int lane, `f64` bits for the
    /// float lane and for statistics, dictionary codes for strings, codes for CountDistinct.
    fn batch_bits(&self, count: usize) -> Vec<u64> {
        match self.kind {
            AggKind::Count => Vec::new(),
            AggKind::CountDistinct => self.scratch_codes.iter().map(|c| c.unwrap_or(0)).collect(),
            _ if self.is_statistic() => self.scratch_f.iter().map(|v| v.to_bits()).collect(),
            _ => match lane(self.input_ty) {
                Lane::Int => self.scratch_i[..count].iter().map(|&v| v as u64).collect(),
                Lane::Float => self.scratch_f[..count]
                    .iter()
                    .map(|v| v.to_bits())
                    .collect(),
                Lane::Str => self.scratch_s[..count]
                    .iter()
                    .map(|&c| u64::from(c))
                    .collect(),
            },
        }
    }

    /// Whether lane bits hold a null.
    fn is_null_bits(&self, bits: u64) -> bool {
        if self.is_statistic() {
            return f64::from_bits(bits) == NULL_F64;
        }
        match lane(self.input_ty) {
            Lane::Int => bits as i64 == NULL_I64,
            Lane::Float => f64::from_bits(bits) == NULL_F64,
            Lane::Str => bits == u64::from(NULL_CODE),
        }
    }

    /// Orders lane bits the way Min and Max compare values.
    fn compare_bits(&self, a: u64, b: u64) -> std::cmp::Ordering {
        match lane(self.input_ty) {
            Lane::Int => (a as i64).cmp(&(b as i64)),
            Lane::Float => f64::from_bits(a).total_cmp(&f64::from_bits(b)),
            Lane::Str => self
                .interner
                .dict
                .get(a as u32)
                .cmp(&self.interner.dict.get(b as u32)),
        }
    }

    /// Takes back one row's contribution (sums and counts; windows are handled by the caller).
    fn undo(&mut self, g: usize, bits: u64, extra: f64) {
        let null = self.kind != AggKind::CountDistinct
            && self.kind != AggKind::Count
            && self.is_null_bits(bits);
        match self.kind {
            AggKind::Count => self.counts[g] -= 1,
            AggKind::CountDistinct => {
                // `extra` is 1.0 when the row had a value.
                if extra == 1.0
                    && let Some(seen) = self.distinct.get_mut(&(g as u32, bits))
                {
                    *seen -= 1;
                    if *seen == 0 {
                        self.distinct.remove(&(g as u32, bits));
                        self.counts[g] -= 1;
                    }
                }
            }
            _ if null && !matches!(self.kind, AggKind::First | AggKind::Last) => {}
            AggKind::First | AggKind::Last => self.counts[g] -= 1,
            AggKind::Min | AggKind::Max => self.counts[g] -= 1,
            AggKind::Sum if lane(self.input_ty) == Lane::Int => {
                self.ints[g] = self.ints[g].wrapping_sub(bits as i64);
                self.counts[g] -= 1;
            }
            AggKind::Sum | AggKind::Avg => {
                let x = match lane(self.input_ty) {
                    Lane::Int => bits as i64 as f64,
                    _ => f64::from_bits(bits),
                };
                self.take_back(g, x, None);
                self.counts[g] -= 1;
            }
            AggKind::Var | AggKind::Std => {
                let x = f64::from_bits(bits);
                self.take_back(g, x, Some(x * x));
                self.counts[g] -= 1;
            }
            AggKind::WAvg => {
                // `extra` is the row's weight; a null weight never counted.
                if extra != NULL_F64 {
                    self.take_back(g, extra * f64::from_bits(bits), Some(extra));
                    self.counts[g] -= 1;
                }
            }
        }
    }

    /// Subtracts a row's part of group `g`'s sum, and of its second sum when it has one.
    fn take_back(&mut self, g: usize, first: f64, second: Option<f64>) {
        sub(
            &mut self.floats[g],
            &mut self.low[g],
            &mut self.specials[g],
            first,
        );
        if let Some(x) = second {
            sub(
                &mut self.second[g],
                &mut self.low2[g],
                &mut self.specials2[g],
                x,
            );
        }
    }

    /// Sets group `g`'s value from its window (Min, Max, First, Last under removal).
    fn set_from_window(&mut self, g: usize, window: &std::collections::VecDeque<(u64, u64)>) {
        let bits = match self.kind {
            AggKind::Last => window.back(),
            _ => window.front(),
        }
        .map(|(_, b)| *b);
        let Some(bits) = bits else { return };
        match lane(self.input_ty) {
            Lane::Int => self.ints[g] = bits as i64,
            Lane::Float => self.floats[g] = f64::from_bits(bits),
            Lane::Str => self.strs[g] = bits as u32,
        }
    }

    /// A group's float sum, low part included.
    fn total(&self, g: usize) -> f64 {
        finish(self.floats[g], self.low[g], self.specials[g])
    }

    fn total2(&self, g: usize) -> f64 {
        finish(self.second[g], self.low2[g], self.specials2[g])
    }

    /// Var, Std, WAvg and CountDistinct keep sums (or a set) rather than one value per group.
    fn is_statistic(&self) -> bool {
        matches!(
            self.kind,
            AggKind::CountDistinct | AggKind::Var | AggKind::Std | AggKind::WAvg
        )
    }

    fn update_statistic(
        &mut self,
        column: &Column,
        weight: Option<&Column>,
        start: usize,
        count: usize,
        gids: &[u32],
    ) {
        if self.kind == AggKind::CountDistinct {
            // `None` for null: no sentinel can collide with a value's code.
            let codes: Vec<Option<u64>> = match column {
                Column::String(strings) => {
                    self.interner
                        .codes(strings, start, count, &mut self.scratch_s);
                    self.scratch_s
                        .iter()
                        .map(|&c| (c != NULL_CODE).then_some(u64::from(c)))
                        .collect()
                }
                Column::F64(_) => {
                    read_f64(column, start, count, &mut self.scratch_f);
                    self.scratch_f
                        .iter()
                        .map(|&v| (v != NULL_F64).then_some(if v == 0.0 { 0 } else { v.to_bits() }))
                        .collect()
                }
                _ => {
                    read_i64(column, start, count, &mut self.scratch_i);
                    self.scratch_i
                        .iter()
                        .map(|&v| (v != NULL_I64).then_some(v as u64))
                        .collect()
                }
            };
            for (&g, code) in gids.iter().zip(&codes) {
                if let Some(code) = *code {
                    let seen = self.distinct.entry((g, code)).or_insert(0);
                    *seen += 1;
                    if *seen == 1 {
                        self.counts[g as usize] += 1;
                    }
                }
            }
            self.scratch_codes = codes;
            return;
        }
        read_as_f64(
            column,
            start,
            count,
            &mut self.scratch_i,
            &mut self.scratch_f,
        );
        // The inputs are taken out for the loop (which adds into `self`), then put back.
        let xs = std::mem::take(&mut self.scratch_f);
        if let (AggKind::WAvg, Some(weight)) = (self.kind, weight) {
            let mut ints = Vec::new();
            read_as_f64(weight, start, count, &mut ints, &mut self.scratch_w);
            let ws = std::mem::take(&mut self.scratch_w);
            for ((&g, &x), &w) in gids.iter().zip(&xs).zip(&ws) {
                if x != NULL_F64 && w != NULL_F64 {
                    self.add_both(g as usize, w * x, w);
                }
            }
            self.scratch_w = ws;
        } else {
            for (&g, &x) in gids.iter().zip(&xs) {
                if x != NULL_F64 {
                    self.add_both(g as usize, x, x * x);
                }
            }
        }
        self.scratch_f = xs;
    }

    /// One row of a statistic: `first` into the group's first sum, `second` into its second.
    fn add_both(&mut self, g: usize, first: f64, second: f64) {
        add(
            &mut self.floats[g],
            &mut self.low[g],
            &mut self.specials[g],
            first,
        );
        add(
            &mut self.second[g],
            &mut self.low2[g],
            &mut self.specials2[g],
            second,
        );
        self.counts[g] += 1;
    }

    fn update(
        &mut self,
        column: &Column,
        weight: Option<&Column>,
        start: usize,
        count: usize,
        gids: &[u32],
    ) {
        if self.is_statistic() {
            self.update_statistic(column, weight, start, count, gids);
            return;
        }
        if self.kind == AggKind::Count {
            for &g in gids {
                self.counts[g as usize] += 1;
            }
            return;
        }
        let kind = self.kind;
        match column {
            Column::F64(_) => {
                read_f64(column, start, count, &mut self.scratch_f);
                if matches!(kind, AggKind::Sum | AggKind::Avg) {
                    // The hot path of the seed: a sum, no branch on the kind per row.
                    for (&g, &v) in gids.iter().zip(&self.scratch_f) {
                        if v != NULL_F64 {
                            let g = g as usize;
                            add(
                                &mut self.floats[g],
                                &mut self.low[g],
                                &mut self.specials[g],
                                v,
                            );
                            self.counts[g] += 1;
                        }
                    }
                    return;
                }
                for (&g, &v) in gids.iter().zip(&self.scratch_f) {
                    let g = g as usize;
                    let first = self.counts[g] == 0;
                    let is_null = v == NULL_F64;
                    let slot = &mut self.floats[g];
                    // (Sum and Avg took the path above.)
                    match kind {
                        // One total order (NaN above everything), as windows under removal use.
                        AggKind::Min if !is_null && (first || v.total_cmp(slot).is_lt()) => {
                            *slot = v
                        }
                        AggKind::Max if !is_null && (first || v.total_cmp(slot).is_gt()) => {
                            *slot = v
                        }
                        AggKind::First if first => *slot = v,
                        AggKind::Last => *slot = v,
                        _ => {}
                    }
                    if !is_null || matches!(kind, AggKind::First | AggKind::Last) {
                        self.counts[g] += 1;
                    }
                }
            }
            Column::String(strings) => {
                self.interner
                    .codes(strings, start, count, &mut self.scratch_s);
                for (&g, &code) in gids.iter().zip(&self.scratch_s) {
                    let g = g as usize;
                    let first = self.counts[g] == 0;
                    let is_null = code == NULL_CODE;
                    let current = self.strs[g];
                    let dict = &self.interner.dict;
                    let less = || dict.get(code) < dict.get(current);
                    let take = match kind {
                        AggKind::Min => !is_null && (first || less()),
                        AggKind::Max => !is_null && (first || !less()),
                        AggKind::First => first,
                        AggKind::Last => true,
                        _ => false,
                    };
                    if take {
                        self.strs[g] = code;
                    }
                    if !is_null || matches!(kind, AggKind::First | AggKind::Last) {
                        self.counts[g] += 1;
                    }
                }
            }
            _ => {
                read_i64(column, start, count, &mut self.scratch_i);
                for (&g, &v) in gids.iter().zip(&self.scratch_i) {
                    let g = g as usize;
                    let first = self.counts[g] == 0;
                    let is_null = v == NULL_I64;
                    if kind == AggKind::Avg {
                        if !is_null {
                            let (hi, lo) = (&mut self.floats[g], &mut self.low[g]);
                            add(hi, lo, &mut self.specials[g], v as f64);
                        }
                    } else {
                        let slot = &mut self.ints[g];
                        match kind {
                            AggKind::Sum if !is_null => *slot = slot.wrapping_add(v),
                            AggKind::Min if !is_null && (v < *slot || first) => *slot = v,
                            AggKind::Max if !is_null && (v > *slot || first) => *slot = v,
                            AggKind::First if first => *slot = v,
                            AggKind::Last => *slot = v,
                            _ => {}
                        }
                    }
                    if !is_null || matches!(kind, AggKind::First | AggKind::Last) {
                        self.counts[g] += 1;
                    }
                }
            }
        }
    }

    /// Appends group `g`'s value to `out`.
    fn emit(&self, g: usize, out: &mut Column) {
        let n = self.counts[g];
        match (self.kind, out) {
            (AggKind::Count | AggKind::CountDistinct, Column::I64(c)) => c.push(n as i64),
            (AggKind::Var | AggKind::Std, Column::F64(c)) => c.push(match n {
                0 => NULL_F64,
                _ => {
                    let (n, sum, sq) = (n as f64, self.total(g), self.total2(g));
                    // Sample variance; one value gives 0/0 = NaN, as in Deephaven.
                    let var = (sq - sum * sum / n) / (n - 1.0);
                    // Rounding can dip below zero; NaN (a NaN or infinite input) must stay NaN.
                    let var = if var < 0.0 { 0.0 } else { var };
                    let var = if n == 1.0 { f64::NAN } else { var };
                    if self.kind == AggKind::Std {
                        var.sqrt()
                    } else {
                        var
                    }
                }
            }),
            (AggKind::WAvg, Column::F64(c)) => c.push(if n == 0 {
                NULL_F64
            } else {
                self.total(g) / self.total2(g)
            }),
            (AggKind::Avg, Column::F64(c)) => c.push(if n == 0 {
                NULL_F64
            } else {
                self.total(g) / n as f64
            }),
            (AggKind::Sum, Column::F64(c)) => c.push(if n == 0 { NULL_F64 } else { self.total(g) }),
            (_, Column::F64(c)) => c.push(if n == 0 { NULL_F64 } else { self.floats[g] }),
            (_, Column::String(c)) => c.push(if n == 0 {
                None
            } else {
                self.interner.dict.get(self.strs[g])
            }),
            (_, Column::I64(c)) | (_, Column::Timestamp(c)) | (_, Column::Time(c)) => {
                c.push(if n == 0 { NULL_I64 } else { self.ints[g] })
            }
            // Binary columns have no lane (they read as null).
            (_, Column::Binary(c)) => c.push(None),
            // The int lane holds narrower types widened, with NULL_I64 for their null.
            (_, Column::I32(c)) | (_, Column::Date(c)) => c.push(match self.ints[g] {
                _ if n == 0 => NULL_I32,
                NULL_I64 => NULL_I32,
                v => v as i32,
            }),
            (_, Column::Bool(c)) => c.push(match self.ints[g] {
                _ if n == 0 => NULL_BOOL,
                NULL_I64 => NULL_BOOL,
                v => v as i8,
            }),
        }
    }

    fn bytes(&self) -> (usize, usize) {
        // Per group: counts, ints, floats, second, low, low2 (8 bytes each), strs (4), specials
        // and specials2 (12 each); per distinct pair: 16 bytes of key, 4 of count, 4 of control.
        let per_group = |f: fn(&Vec<u64>) -> usize, g: fn(&Vec<f64>) -> usize| {
            f(&self.counts) * 8
                + g(&self.floats) * 8
                + g(&self.second) * 8
                + g(&self.low) * 8
                + g(&self.low2) * 8
        };
        let used = per_group(Vec::len, Vec::len)
            + self.ints.len() * 8
            + self.strs.len() * 4
            + (self.specials.len() + self.specials2.len()) * 12
            + self.distinct.len() * 24
            + self.interner.dict.len() * 8;
        let scratch = self.scratch_i.capacity() * 8
            + self.scratch_f.capacity() * 8
            + self.scratch_s.capacity() * 4
            + self.scratch_w.capacity() * 8
            + self.scratch_codes.capacity() * 16;
        let reserved = per_group(Vec::capacity, Vec::capacity)
            + self.ints.capacity() * 8
            + self.strs.capacity() * 4
            + (self.specials.capacity() + self.specials2.capacity()) * 12
            + self.distinct.capacity() * 24
            + self.interner.bytes()
            + scratch;
        (used, reserved)
    }
}

struct KeyColumn {
    input: usize,
    ty: ColumnType,
    coder: KeyCoder,
}

/// What undoing a covered row needs, kept only over a parent that removes part of its rows from
/// the front (a ring table): rows leave in the order they came, group by group too.
#[derive(Default)]
struct History {
    /// The group of every covered row, oldest first.
    gids: Chunked<u32>,
    /// Per accumulator, every covered row's input as lane bits.
    bits: Vec<Chunked<u64>>,
    /// Per accumulator: WAvg, each row's weight; CountDistinct, 1.0 where the row had a value.
    extra: Vec<Chunked<f64>>,
    /// Per accumulator (Min, Max, First, Last): per group, `(sequence, bits)` of the rows that can
    /// still become its value, oldest first. Min and Max keep a monotonic window.
    windows: Vec<Vec<std::collections::VecDeque<(u64, u64)>>>,
    /// The sequence number of the oldest covered row.
    front_seq: u64,
    /// Covered rows per group; a group with none has no row in the result.
    group_rows: Vec<u64>,
}

impl History {
    fn bytes(&self) -> (usize, usize) {
        let mut used = self.gids.bytes_used() + self.group_rows.len() * 8;
        let mut reserved = self.gids.bytes_reserved() + self.group_rows.capacity() * 8;
        for c in &self.bits {
            used += c.bytes_used();
            reserved += c.bytes_reserved();
        }
        for c in &self.extra {
            used += c.bytes_used();
            reserved += c.bytes_reserved();
        }
        for w in self.windows.iter().flatten() {
            used += w.len() * 16;
            reserved += w.capacity() * 16;
        }
        (used, reserved)
    }
}

struct AggBy {
    keys: Vec<KeyColumn>,
    accs: Vec<Accumulator>,
    groups: Groups,
    /// Present when the parent trims its front.
    history: Option<History>,
    /// Parent rows the state covers (non-blink parents).
    covered: usize,
    gids: Vec<u32>,
    codes: Vec<Vec<u64>>,
    /// The group ids of two dictionary-coded string keys, by their parent codes.
    pairs: CodePairs,
}

impl AggBy {
    fn clear(&mut self) {
        self.groups.clear();
        self.pairs.clear();
        self.accs.iter_mut().for_each(Accumulator::clear);
        // Strings of rows no longer covered must not stay interned.
        self.keys
            .iter_mut()
            .for_each(|k| k.coder = KeyCoder::default());
        self.covered = 0;
        if self.history.is_some() {
            self.history = Some(self.new_history());
        }
    }

    /// Whether groups with no covered row outnumber the live ones (and are many): then the state
    /// is rebuilt from the parent's rows, so keys that left long ago stop holding memory.
    fn dead_groups_dominate(&self) -> bool {
        self.history.as_ref().is_some_and(|h| {
            let live = h.group_rows.iter().filter(|&&n| n > 0).count();
            let dead = h.group_rows.len() - live;
            dead > 1_024 && dead > live
        })
    }

    fn new_history(&self) -> History {
        let n = self.accs.len();
        History {
            bits: (0..n).map(|_| Chunked::new()).collect(),
            extra: (0..n).map(|_| Chunked::new()).collect(),
            windows: vec![Vec::new(); n],
            ..History::default()
        }
    }

    /// Records the batch just aggregated, for undoing it later.
    fn remember(&mut self, count: usize) {
        let Some(h) = &mut self.history else { return };
        let groups = self.groups.len;
        h.group_rows.resize(groups, 0);
        let first_seq = h.front_seq + h.gids.len() as u64;
        h.gids.extend_from_slice(&self.gids);
        for &g in &self.gids {
            h.group_rows[g as usize] += 1;
        }
        for (a, acc) in self.accs.iter().enumerate() {
            let bits = acc.batch_bits(count);
            h.bits[a].extend_from_slice(&bits);
            match acc.kind {
                AggKind::WAvg => h.extra[a].extend_from_slice(&acc.scratch_w),
                AggKind::CountDistinct => {
                    let present: Vec<f64> = acc
                        .scratch_codes
                        .iter()
                        .map(|c| if c.is_some() { 1.0 } else { 0.0 })
                        .collect();
                    h.extra[a].extend_from_slice(&present);
                }
                AggKind::Min | AggKind::Max | AggKind::First | AggKind::Last => {
                    let windows = &mut h.windows[a];
                    windows.resize_with(groups, Default::default);
                    for (i, (&g, &b)) in self.gids.iter().zip(&bits).enumerate() {
                        let seq = first_seq + i as u64;
                        let window = &mut windows[g as usize];
                        match acc.kind {
                            AggKind::First | AggKind::Last => window.push_back((seq, b)),
                            _ if acc.is_null_bits(b) => {}
                            kind => {
                                // Drop values that can never be the extreme again.
                                let min = kind == AggKind::Min;
                                while window.back().is_some_and(|&(_, last)| {
                                    let ordering = acc.compare_bits(last, b);
                                    if min {
                                        ordering.is_ge()
                                    } else {
                                        ordering.is_le()
                                    }
                                }) {
                                    window.pop_back();
                                }
                                window.push_back((seq, b));
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        self.refresh_windows(&self.gids.clone());
    }

    /// Takes back the `count` oldest covered rows.
    fn forget(&mut self, count: usize) {
        let Some(h) = &mut self.history else { return };
        let count = count.min(h.gids.len());
        let mut gids = Vec::with_capacity(count);
        h.gids.copy_range(0, count, &mut gids);
        h.gids.pop_front(count);
        let first_seq = h.front_seq;
        h.front_seq += count as u64;
        for &g in &gids {
            h.group_rows[g as usize] -= 1;
        }
        for (a, acc) in self.accs.iter_mut().enumerate() {
            let (mut bits, mut extra) = (Vec::with_capacity(count), Vec::with_capacity(count));
            h.bits[a].copy_range(0, count, &mut bits);
            h.bits[a].pop_front(count);
            h.extra[a].copy_range(0, count, &mut extra);
            h.extra[a].pop_front(count);
            for (i, &g) in gids.iter().enumerate() {
                let b = bits.get(i).copied().unwrap_or(0);
                acc.undo(g as usize, b, extra.get(i).copied().unwrap_or(NULL_F64));
                if let Some(window) = h.windows[a].get_mut(g as usize)
                    && window
                        .front()
                        .is_some_and(|&(seq, _)| seq == first_seq + i as u64)
                {
                    window.pop_front();
                }
            }
        }
        self.refresh_windows(&gids);
    }

    /// Sets Min, Max, First and Last of `groups` from their windows.
    fn refresh_windows(&mut self, groups: &[u32]) {
        let Some(h) = &self.history else { return };
        for (a, acc) in self.accs.iter_mut().enumerate() {
            if !matches!(
                acc.kind,
                AggKind::Min | AggKind::Max | AggKind::First | AggKind::Last
            ) {
                continue;
            }
            for &g in groups {
                if let Some(window) = h.windows[a].get(g as usize) {
                    acc.set_from_window(g as usize, window);
                }
            }
        }
    }

    /// Aggregates parent rows `start .. start + count`; marks the groups touched. A block of rows
    /// at a time, so the scratch vectors (codes, group ids, inputs) stay in cache.
    fn add_rows(
        &mut self,
        parent: &TableData,
        start: usize,
        count: usize,
        touched: &mut Vec<bool>,
    ) {
        let end = start + count;
        let mut at = start;
        while at < end {
            let n = ROWS_PER_BLOCK.min(end - at);
            self.add_block(parent, at, n, touched);
            at += n;
        }
    }

    fn add_block(
        &mut self,
        parent: &TableData,
        start: usize,
        count: usize,
        touched: &mut Vec<bool>,
    ) {
        if !self.pair_ids(parent, start, count) {
            // Key codes, column by column.
            self.codes.resize(self.keys.len(), Vec::new());
            for (k, key) in self.keys.iter_mut().enumerate() {
                key.coder.codes(
                    key.ty,
                    &parent.columns[key.input],
                    start,
                    count,
                    &mut self.codes[k],
                );
            }
            // Group ids, row by row.
            let columns: Vec<&[u64]> = self.codes.iter().map(Vec::as_slice).collect();
            self.groups.ids(&columns, count, &mut self.gids);
        }
        let groups = self.groups.len;
        touched.resize(groups, false);
        for &g in &self.gids {
            touched[g as usize] = true;
        }
        // Accumulators, column by column.
        for acc in &mut self.accs {
            acc.grow(groups);
            let column = &parent.columns[acc.input];
            let weight = acc.weight.map(|w| &parent.columns[w]);
            acc.update(column, weight, start, count, &self.gids);
        }
        self.covered += count;
        self.remember(count);
    }

    /// The group ids of a block when the keys are two dictionary-coded string columns (the
    /// seed's), into `gids`; `false` otherwise.
    fn pair_ids(&mut self, parent: &TableData, start: usize, count: usize) -> bool {
        let [a, b] = &mut self.keys[..] else {
            return false;
        };
        let key = |k: &KeyColumn| match parent.columns.get(k.input) {
            Some(Column::String(s)) => s.dictionary().zip(s.codes()),
            _ => None,
        };
        let (Some((dict_a, codes_a)), Some((dict_b, codes_b))) = (key(a), key(b)) else {
            return false;
        };
        let keys = [
            PairKey {
                dict: dict_a,
                codes: codes_a,
                interner: &mut a.coder.interner,
            },
            PairKey {
                dict: dict_b,
                codes: codes_b,
                interner: &mut b.coder.interner,
            },
        ];
        self.pairs
            .ids(keys, start, count, &mut self.groups, &mut self.gids)
    }

    /// Writes every group into `out` (keys first, then aggregations).
    fn emit(&self, out: &mut TableData) {
        let first_key = out.first_key;
        out.columns.iter_mut().for_each(Column::clear);
        out.first_key = first_key;
        let width = self.keys.len();
        for g in 0..self.groups.len {
            if self
                .history
                .as_ref()
                .is_some_and(|h| h.group_rows.get(g).is_none_or(|&n| n == 0))
            {
                continue;
            }
            for (k, key) in self.keys.iter().enumerate() {
                let code = self.groups.keys[g * width + k];
                key.coder.push_value(code, &mut out.columns[k]);
            }
            for (a, acc) in self.accs.iter().enumerate() {
                acc.emit(g, &mut out.columns[width + a]);
            }
        }
    }
}

impl Operator for AggBy {
    fn initialize(&mut self, inputs: &[&Node], out: &mut TableData) -> Result<()> {
        if inputs[0].trims_front && !inputs[0].blink {
            self.history = Some(self.new_history());
        }
        let parent = &inputs[0].data;
        let mut touched = Vec::new();
        self.add_rows(parent, 0, parent.len(), &mut touched);
        self.emit(out);
        Ok(())
    }

    fn process(&mut self, inputs: &[&Node], out: &mut TableData) -> Result<Option<Update>> {
        let parent = inputs[0];
        let (removed, added) = match &parent.update {
            None => return Ok(None),
            Some(Update::Fifo { removed, added }) => (*removed, *added),
            // A keyed parent (a join, a sort, another aggregation) is aggregated again whole.
            Some(Update::Keyed { .. }) => (self.covered, parent.data.len()),
        };
        let old_groups = self.groups.len;
        let old_keys: Vec<u64> = (out.first_key..out.end_key()).collect();
        let len = parent.data.len();
        let mut touched = Vec::new();
        let rebuilt = removed > 0 && !parent.blink;
        let everything = removed >= self.covered;
        if rebuilt && !everything && self.history.is_some() {
            // A ring: undo the rows that left, add the new ones, re-emit the live groups.
            self.forget(removed);
            self.covered -= removed;
            self.add_rows(&parent.data, len - added, added, &mut touched);
            if self.dead_groups_dominate() {
                self.clear();
                self.add_rows(&parent.data, 0, len, &mut touched);
            }
            out.clear();
            self.emit(out);
            return Ok(Some(Update::Keyed {
                removed: old_keys,
                added: (out.first_key..out.end_key()).collect(),
                modified: Vec::new(),
            }));
        }
        if rebuilt {
            self.clear();
            let (start, count) = if everything {
                (len - added, added)
            } else {
                (0, len)
            };
            self.add_rows(&parent.data, start, count, &mut touched);
            out.clear();
            self.emit(out);
            let added_keys = (out.first_key..out.end_key()).collect();
            return Ok(Some(Update::Keyed {
                removed: old_keys,
                added: added_keys,
                modified: Vec::new(),
            }));
        }
        if added == 0 {
            return Ok(None);
        }
        self.add_rows(&parent.data, len - added, added, &mut touched);
        if self.history.is_some() {
            // Groups with no rows are skipped, so positions are not group ids: report it all.
            out.clear();
            self.emit(out);
            return Ok(Some(Update::Keyed {
                removed: old_keys,
                added: (out.first_key..out.end_key()).collect(),
                modified: Vec::new(),
            }));
        }
        self.emit(out);
        let first = out.first_key;
        let modified = (0..old_groups)
            .filter(|&g| touched.get(g).copied().unwrap_or(false))
            .map(|g| first + g as u64)
            .collect();
        let added_keys = (old_groups..self.groups.len)
            .map(|g| first + g as u64)
            .collect();
        Ok(Some(Update::Keyed {
            removed: Vec::new(),
            added: added_keys,
            modified,
        }))
    }

    fn state_bytes(&self) -> (usize, usize) {
        let mut total = self.groups.bytes();
        total.0 += self.pairs.bytes();
        total.1 += self.pairs.bytes();
        for acc in &self.accs {
            let (u, r) = acc.bytes();
            total.0 += u;
            total.1 += r;
        }
        for key in &self.keys {
            total.0 += key.coder.interner.dict.len() * 8;
            total.1 += key.coder.interner.bytes();
        }
        if let Some(h) = &self.history {
            let (u, r) = h.bytes();
            total.0 += u;
            total.1 += r;
        }
        total
    }
}

impl Table {
    /// Groups rows by `keys` and computes `aggs` per group (Deephaven's `aggBy`).
    pub fn agg_by(&self, aggs: &[Agg], keys: &[&str]) -> Result<Table> {
        let parent_schema = self.schema();
        let mut fields = Vec::new();
        let mut key_columns = Vec::new();
        for name in keys {
            let input = parent_schema.index_of(name)?;
            let ty = parent_schema.fields()[input].ty;
            fields.push(Field::new(*name, ty));
            key_columns.push(KeyColumn {
                input,
                ty,
                coder: KeyCoder::default(),
            });
        }
        let mut accs = Vec::new();
        for agg in aggs {
            let (input, input_ty) = match &agg.input {
                Some(name) => {
                    let i = parent_schema.index_of(name)?;
                    (i, parent_schema.fields()[i].ty)
                }
                None => (0, ColumnType::I64),
            };
            let weight = match &agg.weight {
                Some(name) => {
                    let w = parent_schema.index_of(name)?;
                    if !parent_schema.fields()[w].ty.is_numeric() {
                        return Err(Error::Invalid(format!(
                            "{}: the weight column {name} is not numeric",
                            agg.output
                        )));
                    }
                    Some(w)
                }
                None if agg.kind == AggKind::WAvg => {
                    return Err(Error::Invalid(format!(
                        "{}: WAvg needs a weight column",
                        agg.output
                    )));
                }
                None => None,
            };
            let ty = Accumulator::output_type(agg.kind, input_ty).map_err(|e| {
                Error::Invalid(format!(
                    "{} = {:?}({}): {e}",
                    agg.output,
                    agg.kind,
                    agg.input.as_deref().unwrap_or("")
                ))
            })?;
            fields.push(Field::new(agg.output.clone(), ty));
            accs.push(Accumulator {
                kind: agg.kind,
                input,
                input_ty: if agg.kind == AggKind::Count {
                    ColumnType::I64
                } else {
                    input_ty
                },
                counts: Vec::new(),
                ints: Vec::new(),
                floats: Vec::new(),
                strs: Vec::new(),
                second: Vec::new(),
                distinct: Default::default(),
                scratch_codes: Vec::new(),
                low: Vec::new(),
                low2: Vec::new(),
                specials: Vec::new(),
                specials2: Vec::new(),
                weight,
                interner: Interner::default(),
                scratch_i: Vec::new(),
                scratch_f: Vec::new(),
                scratch_s: Vec::new(),
                scratch_w: Vec::new(),
            });
        }
        let schema = Schema::new(fields)?;
        let op = AggBy {
            history: None,
            groups: Groups::new(
                key_columns.len(),
                key_columns.iter().all(|k| k.ty == ColumnType::String),
            ),
            keys: key_columns,
            accs,
            covered: 0,
            gids: Vec::new(),
            codes: Vec::new(),
            pairs: CodePairs::default(),
        };
        self.engine
            .derive(vec![Rc::clone(&self.node)], schema, false, Box::new(op))
    }

    /// The number of rows per group, in a column `name` (Deephaven's `countBy`).
    pub fn count_by(&self, name: &str, keys: &[&str]) -> Result<Table> {
        self.agg_by(&[Agg::count(name)], keys)
    }

    /// Each group's last row (Deephaven's `lastBy`).
    pub fn last_by(&self, keys: &[&str]) -> Result<Table> {
        self.by_every_column(AggKind::Last, keys)
    }

    /// Each group's first row (Deephaven's `firstBy`).
    pub fn first_by(&self, keys: &[&str]) -> Result<Table> {
        self.by_every_column(AggKind::First, keys)
    }

    fn by_every_column(&self, kind: AggKind, keys: &[&str]) -> Result<Table> {
        let aggs: Vec<Agg> = self
            .schema()
            .names()
            .into_iter()
            .filter(|n| !keys.contains(n))
            .map(|n| Agg::of(kind, n))
            .collect();
        self.agg_by(&aggs, keys)
    }
}
