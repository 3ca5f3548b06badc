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
use super::values::{OrderKey, Values};
use super::{Agg, AggKind};
use crate::column::{Chunked, Column, ColumnType};
use crate::table::{Schema, TableData};
use crate::{Error, Result};

/// One group's values, split at the rank.
#[derive(Default)]
struct Split {
    lo: BTreeMap<OrderKey, u32>,
    hi: BTreeMap<OrderKey, u32>,
    lo_len: u64,
    hi_len: u64,
}

fn insert(side: &mut BTreeMap<OrderKey, u32>, key: OrderKey, n: u32) {
    *side.entry(key).or_insert(0) += n;
}

/// Removes one of `key` from `side`; whether it was there.
fn remove(side: &mut BTreeMap<OrderKey, u32>, key: &OrderKey) -> bool {
    match side.get_mut(key) {
        Some(n) if *n > 1 => *n -= 1,
        Some(_) => {
            side.remove(key);
        }
        None => return false,
    }
    true
}

impl Split {
    fn lo_max(&self) -> Option<&OrderKey> {
        self.lo.last_key_value().map(|(k, _)| k)
    }

    fn add(&mut self, key: OrderKey) {
        if self.lo_max().is_some_and(|max| key <= *max) {
            insert(&mut self.lo, key, 1);
            self.lo_len += 1;
        } else {
            insert(&mut self.hi, key, 1);
            self.hi_len += 1;
        }
    }

    fn take(&mut self, key: &OrderKey) {
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
            let Some(mut entry) = self.hi.first_entry() else {
                return;
            };
            let n = (*entry.get()).min(u32::try_from(rank - self.lo_len).unwrap_or(u32::MAX));
            let key = if n == *entry.get() {
                entry.remove_entry().0
            } else {
                *entry.get_mut() -= n;
                entry.key().clone()
            };
            self.hi_len -= u64::from(n);
            insert(&mut self.lo, key, n);
            self.lo_len += u64::from(n);
        }
        while self.lo_len > rank {
            let Some(mut entry) = self.lo.last_entry() else {
                return;
            };
            let n = (*entry.get()).min(u32::try_from(self.lo_len - rank).unwrap_or(u32::MAX));
            let key = if n == *entry.get() {
                entry.remove_entry().0
            } else {
                *entry.get_mut() -= n;
                entry.key().clone()
            };
            self.lo_len -= u64::from(n);
            insert(&mut self.hi, key, n);
            self.hi_len += u64::from(n);
        }
    }
}

pub(super) struct Percentile {
    input: usize,
    values: Values,
    percentile: f64,
    /// Whether an even split averages the two middle values (numeric inputs only).
    average: bool,
    groups: Vec<Split>,
    /// Every covered row's value bits, oldest first, over a ring.
    history: Option<Chunked<u64>>,
    scratch: Vec<u64>,
    /// The groups a block touched (each once), to settle at its end.
    touched: Vec<u32>,
    is_touched: Vec<bool>,
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
            "{what}: the percentile must be between 0 and 1, not {percentile}"
        )));
    }
    if ty == ColumnType::Binary {
        return Err(Error::Invalid(format!(
            "{what}: a binary column has no order"
        )));
    }
    let average = agg.options.average_evenly_divided
        && matches!(ty, ColumnType::I32 | ColumnType::I64 | ColumnType::F64);
    Ok(Box::new(Percentile {
        input,
        values: Values::new(ty),
        percentile,
        average,
        groups: Vec::new(),
        history: None,
        scratch: Vec::new(),
        touched: Vec::new(),
        is_touched: Vec::new(),
    }))
}

impl Percentile {
    /// The size `lo` must have when a group holds `n` values.
    fn rank(&self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        let at = (n - 1) as f64 * self.percentile;
        let at = if self.average {
            at.floor()
        } else {
            (at + 0.5).floor()
        };
        at as u64 + 1
    }

    fn touch(&mut self, g: u32) {
        if !self.is_touched[g as usize] {
            self.is_touched[g as usize] = true;
            self.touched.push(g);
        }
    }

    /// Restores the rank of every group the block touched. Between settles values only go to
    /// the side their key falls in, which keeps every value of `lo` at most every value of `hi`.
    fn settle_touched(&mut self) {
        for i in 0..self.touched.len() {
            let g = self.touched[i] as usize;
            let split = &self.groups[g];
            let rank = self.rank(split.lo_len + split.hi_len);
            self.groups[g].settle(rank);
            self.is_touched[g] = false;
        }
        self.touched.clear();
    }
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
        self.groups.resize_with(groups, Split::default);
        self.is_touched.resize(groups, false);
    }

    fn add(&mut self, parent: &TableData, start: usize, count: usize, gids: &[u32]) -> Result<()> {
        let mut bits = std::mem::take(&mut self.scratch);
        self.values
            .read(&parent.columns[self.input], start, count, &mut bits);
        for (&g, &b) in gids.iter().zip(&bits) {
            if self.values.is_null(b) {
                continue;
            }
            let key = self.values.key(b);
            self.groups[g as usize].add(key);
            self.touch(g);
        }
        self.settle_touched();
        if let Some(h) = &mut self.history {
            h.extend_from_slice(&bits);
        }
        self.scratch = bits;
        Ok(())
    }

    fn take_back(&mut self, gids: &[u32]) {
        let Some(h) = &mut self.history else { return };
        let mut bits = Vec::with_capacity(gids.len());
        h.copy_range(0, gids.len(), &mut bits);
        h.pop_front(gids.len());
        for (&g, &b) in gids.iter().zip(&bits) {
            if self.values.is_null(b) {
                continue;
            }
            let key = self.values.key(b);
            self.groups[g as usize].take(&key);
            self.touch(g);
        }
        self.settle_touched();
    }

    fn clear(&mut self) {
        self.groups.clear();
        self.is_touched.clear();
        self.values.clear();
        if let Some(h) = &mut self.history {
            h.clear();
        }
    }

    fn emit(&self, g: usize, out: &mut Column) {
        let split = &self.groups[g];
        let Some(lo) = split.lo_max() else {
            out.push_null();
            return;
        };
        if !self.average {
            self.values.push_key(lo, out);
            return;
        }
        let hi_max = split.hi.last_key_value().map(|(k, _)| k);
        let value = if [Some(lo), hi_max]
            .into_iter()
            .flatten()
            .any(|k| self.values.key_f64(k).is_nan())
        {
            f64::NAN
        } else {
            match split.hi.first_key_value() {
                Some((hi, _)) if split.lo_len == split.hi_len => {
                    (self.values.key_f64(lo) + self.values.key_f64(hi)) / 2.0
                }
                _ => self.values.key_f64(lo),
            }
        };
        match out {
            Column::F64(c) => c.push(value),
            other => other.push_null(),
        }
    }

    fn bytes(&self) -> (usize, usize) {
        // A B-tree entry: the key (24 bytes), its count (4), and about half as much again of node.
        let entries: usize = self.groups.iter().map(|s| s.lo.len() + s.hi.len()).sum();
        let groups = self.groups.len() * std::mem::size_of::<Split>();
        let (h_used, h_reserved) = self
            .history
            .as_ref()
            .map_or((0, 0), |h| (h.bytes_used(), h.bytes_reserved()));
        let (v_used, v_reserved) = self.values.bytes();
        let used = groups + entries * 42 + h_used + v_used;
        let reserved = self.groups.capacity() * std::mem::size_of::<Split>()
            + entries * 42
            + h_reserved
            + v_reserved
            + self.scratch.capacity() * 8;
        (used, reserved)
    }
}
