//! [`Accumulator`]: the per-group state of the built-in aggregations (Count, Sum, Min, Max, Avg,
//! First, Last, CountDistinct, Var, Std, WAvg), one vector per group id, updated a block of rows
//! at a time with no per-row dispatch beyond the kind.
//!
//! Invariant: every vector has one entry per group once [`Accumulator::grow`] ran; double sums are
//! double-double sums (see [`add`]): exact while a sum's bits span at most 106 (values of like
//! scales), otherwise rounded near 2^-106 of the sum, so rows taken back can leave a residue.

use rustc_hash::FxHashMap;

use super::super::keys::{Interner, read_f64, read_i64};
use super::AggKind;
use crate::column::strings::NULL_CODE;
use crate::column::{Column, ColumnType, NULL_BOOL, NULL_F64, NULL_I32, NULL_I64, compare_f64};
use crate::{Error, Result};

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
pub(super) struct Accumulator {
    pub(super) kind: AggKind,
    pub(super) input: usize,
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
    /// order while a sum spans at most 106 bits (0.0 after adding and removing 1e6 stays 0.0).
    low: Vec<f64>,
    low2: Vec<f64>,
    /// Per group, rows of `floats` / `second` that were NaN, +inf and -inf, kept out of the sums
    /// (so that they can leave again).
    specials: Vec<[u32; 3]>,
    specials2: Vec<[u32; 3]>,
    /// CountDistinct: how many covered rows have each (group, value code).
    distinct: FxHashMap<(u32, u64), u32>,
    /// CountDistinct: the last batch's value codes (`None` for null).
    pub(super) scratch_codes: Vec<Option<u64>>,
    /// WAvg: the weight column.
    pub(super) weight: Option<usize>,
    interner: Interner,
    scratch_i: Vec<i64>,
    scratch_f: Vec<f64>,
    scratch_s: Vec<u32>,
    pub(super) scratch_w: Vec<f64>,
}

/// Adds `x` to the double-double `(hi, lo)` exactly (Knuth's TwoSum), counting a NaN or an
/// infinity in `specials` instead.
///
/// Every double sum is kept this way, not as a plain `hi += x`: while the sum's bits span at most
/// 106 (values of like scales, as prices and sizes are), the result is the exact sum rounded
/// once, whatever order the rows came in. Two tables fed the same records in different
/// interleavings (an append and a stream consumer of a multi-partition topic, whose frames are
/// cut by each one's credit) then agree to the last bit, so the seed's differences are zero, and
/// rows taken back (a ring) leave nothing. Beyond 106 bits (squares of values of very different
/// scales) the low part rounds at each step, so a sum can keep a residue of about 2^-106 of the
/// largest it held after its rows left, one that depends on the order. (`updateBy`'s rolling
/// sums rebuild themselves from their window's rows to drop it; `aggBy` over a ring keeps it.)
#[inline(always)]
pub(crate) fn add(hi: &mut f64, lo: &mut f64, specials: &mut [u32; 3], x: f64) {
    if !x.is_finite() {
        specials[special(x)] += 1;
        return;
    }
    add_finite(hi, lo, x);
}

/// [`add`] of a finite `x` (Knuth's two-sum: the rounded sum in `hi`, its error into `lo`).
#[inline(always)]
pub(crate) fn add_finite(hi: &mut f64, lo: &mut f64, x: f64) {
    let s = *hi + x;
    let b = s - *hi;
    *lo += (*hi - (s - b)) + (x - b);
    *hi = s;
}

/// Takes back what [`add`] added.
#[inline(always)]
pub(crate) fn sub(hi: &mut f64, lo: &mut f64, specials: &mut [u32; 3], x: f64) {
    if x.is_finite() {
        add(hi, lo, specials, -x);
    } else {
        let slot = &mut specials[special(x)];
        *slot = slot.saturating_sub(1);
    }
}

/// `x · y` as the rounded product and its rounding error, exactly (Dekker's product, with
/// Veltkamp's split: no fused multiply-add, which wasm32 lacks), for |x|, |y| < 2^996.
fn two_product(x: f64, y: f64) -> (f64, f64) {
    const SPLIT: f64 = 134_217_729.0; // 2^27 + 1
    let split = |v: f64| {
        let c = SPLIT * v;
        let hi = c - (c - v);
        (hi, v - hi)
    };
    let p = x * y;
    let ((xh, xl), (yh, yl)) = (split(x), split(y));
    let e = ((xh * yh - p) + xh * yl + xl * yh) + xl * yl;
    (p, e)
}

/// Adds `x²` to the double-double `(hi, lo)`: its rounded square and that rounding's error, so a
/// sum of squares keeps what a variance of large values needs (1e9 + k squared is 1e18 + …).
pub(crate) fn add_square(hi: &mut f64, lo: &mut f64, specials: &mut [u32; 3], x: f64) {
    let (p, e) = two_product(x, x);
    add(hi, lo, specials, p);
    if p.is_finite() {
        *lo += e;
    }
}

/// Takes back what [`add_square`] added.
pub(crate) fn sub_square(hi: &mut f64, lo: &mut f64, specials: &mut [u32; 3], x: f64) {
    let (p, e) = two_product(x, x);
    sub(hi, lo, specials, p);
    if p.is_finite() {
        *lo -= e;
    }
}

/// The sample variance (n − 1) of `n` values from their double-double sum and sum of squares
/// (each `(hi, lo, specials)`): `(n·Σx² − (Σx)²) / (n (n − 1))` with the difference taken in
/// double-double, as the two terms agree in most of their digits. Where the exact products
/// overflow (sums of squares past ~1e300) the plain formula is used. A NaN or an infinity gives
/// NaN; one value gives NaN (0/0), as in Deephaven; rounding never gives less than 0.
pub(crate) fn sample_variance(
    n: u64,
    (s_hi, s_lo, s_special): (f64, f64, [u32; 3]),
    (q_hi, q_lo, q_special): (f64, f64, [u32; 3]),
) -> f64 {
    if s_special.iter().chain(&q_special).any(|&c| c > 0) {
        return f64::NAN;
    }
    if n < 2 {
        return f64::NAN;
    }
    let n = n as f64;
    let (a, ae) = two_product(n, q_hi);
    let (p, pe) = two_product(s_hi, s_hi);
    let rest = (ae - pe) + (n * q_lo - (2.0 * s_hi * s_lo + s_lo * s_lo));
    let mut d = (a - p) + rest;
    if !d.is_finite() {
        // Dekker's split overflowed: the plain difference, which is finite where its terms are.
        d = n * (q_hi + q_lo) - (s_hi + s_lo) * (s_hi + s_lo);
    }
    if d > 0.0 {
        d / (n * (n - 1.0))
    } else if d.is_nan() {
        f64::NAN
    } else {
        0.0
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
pub(crate) fn finish(hi: f64, lo: f64, specials: [u32; 3]) -> f64 {
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
    /// The state of `kind` over the input column `input` (of type `input_ty`), weighted by the
    /// column `weight` (WAvg only).
    pub(super) fn new(
        kind: AggKind,
        input: usize,
        input_ty: ColumnType,
        weight: Option<usize>,
    ) -> Self {
        Self {
            kind,
            input,
            input_ty: if kind == AggKind::Count {
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
        }
    }

    pub(super) fn output_type(kind: AggKind, input: ColumnType) -> Result<ColumnType> {
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

    pub(super) fn grow(&mut self, groups: usize) {
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

    pub(super) fn clear(&mut self) {
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
    pub(super) fn batch_bits(&self, count: usize) -> Vec<u64> {
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
    pub(super) fn is_null_bits(&self, bits: u64) -> bool {
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
    pub(super) fn compare_bits(&self, a: u64, b: u64) -> std::cmp::Ordering {
        match lane(self.input_ty) {
            Lane::Int => (a as i64).cmp(&(b as i64)),
            Lane::Float => compare_f64(f64::from_bits(a), f64::from_bits(b)),
            Lane::Str => self
                .interner
                .dict
                .get(a as u32)
                .cmp(&self.interner.dict.get(b as u32)),
        }
    }

    /// Takes back one row's contribution (sums and counts; windows are handled by the caller).
    pub(super) fn undo(&mut self, g: usize, bits: u64, extra: f64) {
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
                self.take_back(g, x, None);
                sub_square(
                    &mut self.second[g],
                    &mut self.low2[g],
                    &mut self.specials2[g],
                    x,
                );
                self.counts[g] -= 1;
            }
            // `extra` is the row's weight; a null weight never counted.
            AggKind::WAvg if extra != NULL_F64 => {
                self.take_back(g, extra * f64::from_bits(bits), Some(extra));
                self.counts[g] -= 1;
            }
            // A null weight; the other kinds are reducers, never accumulators.
            _ => {}
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
    pub(super) fn set_from_window(
        &mut self,
        g: usize,
        window: &std::collections::VecDeque<(u64, u64)>,
    ) {
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
                    let g = g as usize;
                    add(
                        &mut self.floats[g],
                        &mut self.low[g],
                        &mut self.specials[g],
                        x,
                    );
                    add_square(
                        &mut self.second[g],
                        &mut self.low2[g],
                        &mut self.specials2[g],
                        x,
                    );
                    self.counts[g] += 1;
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

    pub(super) fn update(
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
        // The rows' loops index slices, not `Vec`s: a `Vec` index is a call in the page's
        // build (opt-level "z" does not inline `Index::index`).
        if self.kind == AggKind::Count {
            let counts = self.counts.as_mut_slice();
            for &g in gids {
                counts[g as usize] += 1;
            }
            return;
        }
        let kind = self.kind;
        match column {
            Column::F64(_) => {
                read_f64(column, start, count, &mut self.scratch_f);
                if matches!(kind, AggKind::Sum | AggKind::Avg) {
                    // The hot path of the seed: a sum, no branch on the kind per row.
                    let (floats, low, specials, counts) = (
                        self.floats.as_mut_slice(),
                        self.low.as_mut_slice(),
                        self.specials.as_mut_slice(),
                        self.counts.as_mut_slice(),
                    );
                    for (&g, &v) in gids.iter().zip(&self.scratch_f) {
                        if v != NULL_F64 {
                            let g = g as usize;
                            add(&mut floats[g], &mut low[g], &mut specials[g], v);
                            counts[g] += 1;
                        }
                    }
                    return;
                }
                let (floats, counts) = (self.floats.as_mut_slice(), self.counts.as_mut_slice());
                for (&g, &v) in gids.iter().zip(&self.scratch_f) {
                    let g = g as usize;
                    let first = counts[g] == 0;
                    let is_null = v == NULL_F64;
                    let slot = &mut floats[g];
                    // (Sum and Avg took the path above.)
                    match kind {
                        // Deephaven's order (every NaN above everything, -0.0 equal to 0.0), as
                        // windows under removal use; of equal values the earliest stays.
                        AggKind::Min if !is_null && (first || compare_f64(v, *slot).is_lt()) => {
                            *slot = v
                        }
                        AggKind::Max if !is_null && (first || compare_f64(v, *slot).is_gt()) => {
                            *slot = v
                        }
                        AggKind::First if first => *slot = v,
                        AggKind::Last => *slot = v,
                        _ => {}
                    }
                    if !is_null || matches!(kind, AggKind::First | AggKind::Last) {
                        counts[g] += 1;
                    }
                }
            }
            Column::String(strings) => {
                self.interner
                    .codes(strings, start, count, &mut self.scratch_s);
                let (strs, counts) = (self.strs.as_mut_slice(), self.counts.as_mut_slice());
                for (&g, &code) in gids.iter().zip(&self.scratch_s) {
                    let g = g as usize;
                    let first = counts[g] == 0;
                    let is_null = code == NULL_CODE;
                    let current = strs[g];
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
                        strs[g] = code;
                    }
                    if !is_null || matches!(kind, AggKind::First | AggKind::Last) {
                        counts[g] += 1;
                    }
                }
            }
            _ => {
                read_i64(column, start, count, &mut self.scratch_i);
                let (floats, low, specials, counts, ints) = (
                    self.floats.as_mut_slice(),
                    self.low.as_mut_slice(),
                    self.specials.as_mut_slice(),
                    self.counts.as_mut_slice(),
                    self.ints.as_mut_slice(),
                );
                for (&g, &v) in gids.iter().zip(&self.scratch_i) {
                    let g = g as usize;
                    let first = counts[g] == 0;
                    let is_null = v == NULL_I64;
                    if kind == AggKind::Avg {
                        if !is_null {
                            add(&mut floats[g], &mut low[g], &mut specials[g], v as f64);
                        }
                    } else {
                        let slot = &mut ints[g];
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
                        counts[g] += 1;
                    }
                }
            }
        }
    }

    /// Appends group `g`'s value to `out`.
    pub(super) fn emit(&self, g: usize, out: &mut Column) {
        let n = self.counts[g];
        match (self.kind, out) {
            (AggKind::Count | AggKind::CountDistinct, Column::I64(c)) => c.push(n as i64),
            (AggKind::Var | AggKind::Std, Column::F64(c)) => c.push(match n {
                0 => NULL_F64,
                _ => {
                    let var = sample_variance(
                        n,
                        (self.floats[g], self.low[g], self.specials[g]),
                        (self.second[g], self.low2[g], self.specials2[g]),
                    );
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
            // Binary and array columns have no lane (they read as null).
            (_, out @ (Column::Binary(_) | Column::Array(_))) => out.push_null(),
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

    pub(super) fn bytes(&self) -> (usize, usize) {
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
