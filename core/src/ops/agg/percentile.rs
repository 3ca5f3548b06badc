//! `Median` and `Pct`: a percentile of a group's non-null values (Deephaven's `AggMed`, `AggPct`).
//!
//! Deephaven's definition: of `n` sorted values, the percentile `p` is the value at 1-based rank
//! `round((n - 1) p) + 1` (Java's `Math.round`, half up). With `averageEvenlyDivided` (the
//! default of `Median`, an option of `Pct`) and an int, long or double input, the rank is
//! `floor((n - 1) p) + 1`, and when that splits the values into two halves of equal size the
//! result is the mean of the two middle values; the output is then a double (and NaN when a NaN
//! is present). Other inputs (booleans, strings, dates, times, timestamps) never average and keep
//! their type. Nulls are skipped; a group with no non-null value gives null.
//!
//! The state is an order statistic per group, as Deephaven keeps it: two ordered multisets, `lo`
//! with the `rank` smallest values and `hi` with the rest, so every value of `lo` is at most every
//! value of `hi`, and the percentile is `lo`'s maximum (and `hi`'s minimum). A value added or
//! taken back goes to the side its key falls in; at the end of each block the groups it touched
//! move values across (whole entries, a value with its count) to restore the rank: `O(log n)` per
//! row, with no re-sort when a ring takes rows back.

use std::collections::BTreeMap;

use super::reducer::{GroupReducer, input_column};
use super::values::{OrderKey, Values, orderable};
use super::{Agg, AggKind};
use crate::column::{Chunked, Column, ColumnType};
use crate::table::{Schema, TableData};
use crate::{Error, Result};

/// A value as a split holds it: numbers as their order bits (compact, compared as one `u64`),
/// strings as themselves.
trait Key: Ord + Clone {
    fn order_key(&self) -> OrderKey;
}

impl Key for u64 {
    fn order_key(&self) -> OrderKey {
        OrderKey::Num(*self)
    }
}

/// Strings as their `OrderKey`: the map type `Group`'s distinct values use too, so the page
/// compiles one B-tree for both (with `Group`'s `BTreeSet`, 8 KB of wasm more).
impl Key for OrderKey {
    fn order_key(&self) -> OrderKey {
        self.clone()
    }
}

/// One group's values, split at the rank.
struct Split<K> {
    lo: BTreeMap<K, u32>,
    hi: BTreeMap<K, u32>,
    lo_len: u64,
    hi_len: u64,
}

impl<K> Default for Split<K> {
    fn default() -> Self {
        Self {
            lo: BTreeMap::new(),
            hi: BTreeMap::new(),
            lo_len: 0,
            hi_len: 0,
        }
    }
}

fn insert<K: Key>(side: &mut BTreeMap<K, u32>, key: K, n: u32) {
    *side.entry(key).or_insert(0) += n;
}

/// Removes one of `key` from `side`; whether it was there.
fn remove<K: Key>(side: &mut BTreeMap<K, u32>, key: &K) -> bool {
    match side.get_mut(key) {
        Some(n) if *n > 1 => *n -= 1,
        Some(_) => {
            side.remove(key);
        }
        None => return false,
    }
    true
}

/// Moves up to `want` values from the entry, whole when it fits; returns the key and the count.
fn take_entry<K: Key>(
    mut entry: std::collections::btree_map::OccupiedEntry<'_, K, u32>,
    want: u64,
) -> (K, u32) {
    let n = (*entry.get()).min(u32::try_from(want).unwrap_or(u32::MAX));
    if n == *entry.get() {
        (entry.remove_entry().0, n)
    } else {
        *entry.get_mut() -= n;
        (entry.key().clone(), n)
    }
}

impl<K: Key> Split<K> {
    fn lo_max(&self) -> Option<&K> {
        self.lo.last_key_value().map(|(k, _)| k)
    }

    fn add(&mut self, key: K) {
        if self.lo_max().is_some_and(|max| key <= *max) {
            insert(&mut self.lo, key, 1);
            self.lo_len += 1;
        } else {
            insert(&mut self.hi, key, 1);
            self.hi_len += 1;
        }
    }

    fn take(&mut self, key: &K) {
        if self.lo_max().is_some_and(|max| key <= max) {
            if remove(&mut self.lo, key) {
                self.lo_len -= 1;
            }
        } else if remove(&mut self.hi, key) {
            self.hi_len -= 1;
        }
    }

    /// Moves values across until `lo` holds the `rank` smallest: whole entries (a value and its
    /// count) where they fit, so a settle costs the distinct values that cross, not the rows.
    fn settle(&mut self, rank: u64) {
        while self.lo_len < rank {
            let Some(entry) = self.hi.first_entry() else {
                return;
            };
            let (key, n) = take_entry(entry, rank - self.lo_len);
            self.hi_len -= u64::from(n);
            insert(&mut self.lo, key, n);
            self.lo_len += u64::from(n);
        }
        while self.lo_len > rank {
            let Some(entry) = self.lo.last_entry() else {
                return;
            };
            let (key, n) = take_entry(entry, self.lo_len - rank);
            self.lo_len -= u64::from(n);
            insert(&mut self.hi, key, n);
            self.hi_len += u64::from(n);
        }
    }

    /// The two middle keys: `lo`'s maximum, and `hi`'s minimum when the halves are equal; and
    /// the greatest key (a NaN, if there is one).
    fn middle(&self) -> Option<(OrderKey, Option<OrderKey>, OrderKey)> {
        let lo = self.lo_max()?.order_key();
        let top = self
            .hi
            .last_key_value()
            .map_or(lo.clone(), |(k, _)| k.order_key());
        let hi = self
            .hi
            .first_key_value()
            .filter(|_| self.lo_len == self.hi_len)
            .map(|(k, _)| k.order_key());
        Some((lo, hi, top))
    }

    fn entries(&self) -> usize {
        self.lo.len() + self.hi.len()
    }
}

/// Every group's split: numbers (and booleans, dates, times, timestamps) or strings.
enum Splits {
    Num(Vec<Split<u64>>),
    Str(Vec<Split<OrderKey>>),
}

/// The groups a block touched (each once), to settle at its end.
#[derive(Default)]
struct Touched {
    list: Vec<u32>,
    flags: Vec<bool>,
}

impl Touched {
    fn mark(&mut self, g: u32) {
        if !self.flags[g as usize] {
            self.flags[g as usize] = true;
            self.list.push(g);
        }
    }
}

/// Adds (or takes back) the non-null values `bits` of groups `gids`, then settles the groups
/// touched. Between settles values only go to the side their key falls in, which keeps every
/// value of `lo` at most every value of `hi`.
fn fold<K: Key>(
    groups: &mut [Split<K>],
    gids: &[u32],
    bits: &[u64],
    key: impl Fn(u64) -> Option<K>,
    take: bool,
    touched: &mut Touched,
    rank: impl Fn(u64) -> u64,
) {
    for (&g, &b) in gids.iter().zip(bits) {
        let Some(k) = key(b) else { continue };
        let split = &mut groups[g as usize];
        if take {
            split.take(&k);
        } else {
            split.add(k);
        }
        touched.mark(g);
    }
    for &g in &touched.list {
        let split = &mut groups[g as usize];
        split.settle(rank(split.lo_len + split.hi_len));
        touched.flags[g as usize] = false;
    }
    touched.list.clear();
}

pub(super) struct Percentile {
    input: usize,
    values: Values,
    percentile: f64,
    /// Whether an even split averages the two middle values (numeric inputs only).
    average: bool,
    splits: Splits,
    /// Every covered row's value bits, oldest first, over a ring.
    history: Option<Chunked<u64>>,
    scratch: Vec<u64>,
    touched: Touched,
}

pub(super) fn new(agg: &Agg, schema: &Schema) -> Result<Box<dyn GroupReducer>> {
    let (input, ty) = input_column(agg, schema)?;
    let what = format!(
        "{} = {:?}({})",
        agg.output,
        agg.kind,
        agg.input.as_deref().unwrap_or("")
    );
    let percentile = match agg.kind {
        AggKind::Median => 0.5,
        _ => agg.options.percentile,
    };
    if !(0.0..=1.0).contains(&percentile) {
        return Err(Error::Invalid(format!(
            "{what}: the percentile must be between 0 and 1, not {}",
            crate::float_text::Float(percentile)
        )));
    }
    if !orderable(ty) {
        return Err(Error::Invalid(format!(
            "{what}: a {ty} column has no order"
        )));
    }
    let average = agg.options.average_evenly_divided
        && matches!(ty, ColumnType::I32 | ColumnType::I64 | ColumnType::F64);
    let splits = if ty == ColumnType::String {
        Splits::Str(Vec::new())
    } else {
        Splits::Num(Vec::new())
    };
    Ok(Box::new(Percentile {
        input,
        values: Values::new(ty),
        percentile,
        average,
        splits,
        history: None,
        scratch: Vec::new(),
        touched: Touched::default(),
    }))
}

impl Percentile {
    /// Adds (or takes back) the values `bits` of groups `gids`.
    fn fold(&mut self, gids: &[u32], bits: &[u64], take: bool) {
        let (values, p, average) = (&self.values, self.percentile, self.average);
        let rank = |n| rank(n, p, average);
        let present = |b| (!values.is_null(b)).then_some(b);
        match &mut self.splits {
            Splits::Num(groups) => {
                let key = |b| present(b).map(|b| values.num_key(b));
                fold(groups, gids, bits, key, take, &mut self.touched, rank);
            }
            Splits::Str(groups) => {
                let key = |b| present(b).map(|b| values.key(b));
                fold(groups, gids, bits, key, take, &mut self.touched, rank);
            }
        }
    }
}

/// The size `lo` must have when a group holds `n` values.
fn rank(n: u64, percentile: f64, average: bool) -> u64 {
    if n == 0 {
        return 0;
    }
    let at = (n - 1) as f64 * percentile;
    let at = if average {
        at.floor()
    } else {
        (at + 0.5).floor()
    };
    at as u64 + 1
}

impl GroupReducer for Percentile {
    fn output_type(&self) -> ColumnType {
        if self.average {
            ColumnType::F64
        } else {
            self.values.ty()
        }
    }

    fn keep_history(&mut self) {
        self.history = Some(Chunked::new());
    }

    fn grow(&mut self, groups: usize) {
        match &mut self.splits {
            Splits::Num(s) => s.resize_with(groups, Split::default),
            Splits::Str(s) => s.resize_with(groups, Split::default),
        }
        self.touched.flags.resize(groups, false);
    }

    fn add(&mut self, parent: &TableData, start: usize, count: usize, gids: &[u32]) -> Result<()> {
        let mut bits = std::mem::take(&mut self.scratch);
        self.values
            .read(&parent.columns[self.input], start, count, &mut bits);
        self.fold(gids, &bits, false);
        if let Some(h) = &mut self.history {
            h.extend_from_slice(&bits);
        }
        self.scratch = bits;
        // The splits hold their strings themselves; only a ring's history holds codes. Strings
        // of the rows gone are freed once they outnumber the kept ones.
        let live = self.history.as_ref().map_or(0, Chunked::len);
        if self.values.wants_compaction(live) {
            let history = &mut self.history;
            self.values.compact(|map| {
                for slice in history.iter_mut().flat_map(Chunked::slices_mut) {
                    for v in slice {
                        *v = map(*v);
                    }
                }
            });
        }
        Ok(())
    }

    fn take_back(&mut self, gids: &[u32]) {
        let Some(h) = &mut self.history else { return };
        let mut bits = Vec::with_capacity(gids.len());
        h.copy_range(0, gids.len(), &mut bits);
        h.pop_front(gids.len());
        self.fold(gids, &bits, true);
    }

    fn clear(&mut self) {
        match &mut self.splits {
            Splits::Num(s) => s.clear(),
            Splits::Str(s) => s.clear(),
        }
        self.touched = Touched::default();
        self.values.clear();
        if let Some(h) = &mut self.history {
            h.clear();
        }
    }

    fn emit(&self, g: usize, out: &mut Column) {
        let middle = match &self.splits {
            Splits::Num(s) => s[g].middle(),
            Splits::Str(s) => s[g].middle(),
        };
        let Some((lo, hi, top)) = middle else {
            out.push_null();
            return;
        };
        if !self.average {
            self.values.push_key(&lo, out);
            return;
        }
        let value = match hi {
            _ if self.values.key_f64(&top).is_nan() => f64::NAN,
            Some(hi) => (self.values.key_f64(&lo) + self.values.key_f64(&hi)) / 2.0,
            None => self.values.key_f64(&lo),
        };
        match out {
            Column::F64(c) => c.push(value),
            other => other.push_null(),
        }
    }

    fn bytes(&self) -> (usize, usize) {
        // A B-tree entry: the key (24 bytes), its count (4), and about half as much again of node.
        // (Numbers take 8 bytes of key, strings 16: counted as 24 either way, an upper bound.)
        let (entries, groups, slots): (usize, usize, usize) = match &self.splits {
            Splits::Num(s) => (s.iter().map(Split::entries).sum(), s.len(), s.capacity()),
            Splits::Str(s) => (s.iter().map(Split::entries).sum(), s.len(), s.capacity()),
        };
        let split = std::mem::size_of::<Split<u64>>();
        let groups = groups * split;
        let (h_used, h_reserved) = self
            .history
            .as_ref()
            .map_or((0, 0), |h| (h.bytes_used(), h.bytes_reserved()));
        let (v_used, v_reserved) = self.values.bytes();
        let used = groups + entries * 42 + h_used + v_used;
        let reserved = slots * split
            + entries * 42
            + h_reserved
            + v_reserved
            + self.scratch.capacity() * 8
            + self.touched.flags.capacity();
        (used, reserved)
    }
}
