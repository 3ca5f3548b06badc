//! [`SortKey`]: a sort's key column over a range of rows as `i64` ranks that order as the values
//! do (nulls first, NaN last; flipped when descending), so a sort compares integers in a vector
//! instead of reading values through the column's chunks. Strings and binaries are compared row by
//! row.
//!
//! Invariant: for rows `a` and `b` of the range, `ranks[a].cmp(&ranks[b])` is the column's
//! `compare_rows(a, b)` (reversed when descending).

use std::cmp::Ordering;

use crate::column::{Column, NULL_BOOL, NULL_F64, NULL_I32, NULL_I64, f64_order_key};
use crate::table::TableData;

pub(crate) enum SortKey {
    /// The rows' ranks, from the range's start.
    Ranks(Vec<i64>),
    /// Compared row by row.
    Rows { column: usize, descending: bool },
}

/// A double's rank: nulls first, then Deephaven's order (`-inf` .. `inf`, -0.0 equal to 0.0,
/// every NaN last and equal, whatever its sign), as [`Column::compare_rows`] has it. No double
/// ranks `i64::MIN` (the lowest key, `-inf`'s, flips to above it).
fn f64_rank(v: f64) -> i64 {
    if v == NULL_F64 {
        return i64::MIN;
    }
    (f64_order_key(v) ^ (1 << 63)) as i64
}

/// The keys of rows `start .. start + count`; `keys` are (column, descending).
pub(crate) fn sort_keys(
    data: &TableData,
    keys: &[(usize, bool)],
    start: usize,
    count: usize,
) -> Vec<SortKey> {
    keys.iter()
        .map(|&(c, descending)| {
            let mut ranks = Vec::with_capacity(count);
            let widen = |ranks: &mut Vec<i64>, s: &[i32]| {
                ranks.extend(s.iter().map(|&v| {
                    if v == NULL_I32 {
                        NULL_I64
                    } else {
                        i64::from(v)
                    }
                }))
            };
            match &data.columns[c] {
                Column::Bool(x) => x.slices_range(start, count).for_each(|s| {
                    ranks.extend(s.iter().map(|&v| {
                        if v == NULL_BOOL {
                            NULL_I64
                        } else {
                            i64::from(v)
                        }
                    }))
                }),
                Column::I32(x) | Column::Date(x) => x
                    .slices_range(start, count)
                    .for_each(|s| widen(&mut ranks, s)),
                Column::I64(x) | Column::Timestamp(x) | Column::Time(x) => {
                    x.copy_range(start, count, &mut ranks)
                }
                Column::F64(x) => x
                    .slices_range(start, count)
                    .for_each(|s| ranks.extend(s.iter().map(|&v| f64_rank(v)))),
                // Strings compare row by row (ranking a dictionary would cost a sort of its own,
                // in the bundle as well as in time).
                Column::String(_) | Column::Binary(_) | Column::Array(_) => {
                    return SortKey::Rows {
                        column: c,
                        descending,
                    };
                }
            }
            if descending {
                ranks.iter_mut().for_each(|r| *r = !*r);
            }
            SortKey::Ranks(ranks)
        })
        .collect()
}

/// Positions `start .. start + count` of `data`, sorted by `keys` (from [`sort_keys`] over that
/// range), ties by position.
pub(crate) fn sorted_positions(
    data: &TableData,
    keys: &[SortKey],
    start: usize,
    count: usize,
) -> Vec<usize> {
    if let [SortKey::Ranks(ranks)] = keys {
        return radix_sorted(ranks)
            .into_iter()
            .map(|i| start + i as usize)
            .collect();
    }
    let mut positions: Vec<usize> = (start..start + count).collect();
    positions.sort_by(|&a, &b| {
        for key in keys {
            let ordering = match key {
                SortKey::Ranks(r) => r[a - start].cmp(&r[b - start]),
                SortKey::Rows { column, descending } => {
                    let column = &data.columns[*column];
                    let o = column.compare_rows(a, column, b);
                    if *descending { o.reverse() } else { o }
                }
            };
            if ordering != Ordering::Equal {
                return ordering;
            }
        }
        a.cmp(&b)
    });
    positions
}

/// The indices of `ranks` in ascending order of rank, ties in index order: a stable LSD radix
/// sort 11 bits at a time (six passes; the counts of every digit taken in one read), skipping the
/// digits every rank shares.
fn radix_sorted(ranks: &[i64]) -> Vec<u32> {
    // Signed order as unsigned order.
    let mut items: Vec<(u64, u32)> = ranks
        .iter()
        .enumerate()
        .map(|(i, &r)| ((r as u64) ^ (1 << 63), i as u32))
        .collect();
    const BITS: usize = 11;
    const MASK: u64 = (1 << BITS) - 1;
    let mut counts = vec![[0u32; 1 << BITS]; 64usize.div_ceil(BITS)];
    for &(k, _) in &items {
        for (d, c) in counts.iter_mut().enumerate() {
            c[((k >> (BITS * d)) & MASK) as usize] += 1;
        }
    }
    let mut next = vec![(0u64, 0u32); items.len()];
    for (d, c) in counts.iter_mut().enumerate() {
        if c.iter().any(|&n| n as usize == items.len()) {
            continue;
        }
        let mut at = 0;
        for slot in c.iter_mut() {
            let n = *slot;
            *slot = at;
            at += n;
        }
        for &(k, i) in &items {
            let digit = ((k >> (BITS * d)) & MASK) as usize;
            next[c[digit] as usize] = (k, i);
            c[digit] += 1;
        }
        std::mem::swap(&mut items, &mut next);
    }
    items.into_iter().map(|(_, i)| i).collect()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn radix_order_is_a_stable_sort(ranks in proptest::collection::vec(
            prop_oneof![any::<i64>(), -3i64..3, Just(i64::MIN), Just(i64::MAX)], 0..300)) {
            let mut want: Vec<u32> = (0..ranks.len() as u32).collect();
            want.sort_by_key(|&i| ranks[i as usize]);
            prop_assert_eq!(super::radix_sorted(&ranks), want);
        }
    }
}
