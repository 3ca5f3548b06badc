//! M4 decimation of one series to a pixel width: per pixel column of the x range, the points with
//! the first and last x and the lowest and highest y (Jugel et al., "M4: A Visualization-Oriented
//! Time Series Data Aggregation", VLDB 2014), so a line drawn through them has the same pixels as
//! one through every point, and a one-row spike survives.
//!
//! Invariant: the result is at most `4 × width` distinct row positions, sorted by (x, position);
//! it is every position when the series has at most `4 × width` points.

/// The positions of `xs`/`ys` (equal lengths, no NaN) to draw in `width` pixel columns spanning
/// `lo ..= hi` (the chart's x range, which holds every x).
pub fn m4(xs: &[f64], ys: &[f64], width: usize, lo: f64, hi: f64) -> Vec<u32> {
    let width = width.max(1);
    let n = xs.len().min(ys.len());
    let mut picked: Vec<u32> = if n <= 4 * width {
        (0..n as u32).collect()
    } else {
        // Per column: positions of the first x, last x, lowest y, highest y (ties: the earlier row).
        let mut cols: Vec<[u32; 4]> = vec![[u32::MAX; 4]; width];
        for i in 0..n {
            let (x, y) = (xs[i], ys[i]);
            let col = &mut cols[column(x, width, lo, hi)];
            if col[0] == u32::MAX {
                *col = [i as u32; 4];
                continue;
            }
            let [first, last, low, high] = col.map(|p| p as usize);
            if x < xs[first] {
                col[0] = i as u32;
            }
            if x > xs[last] {
                col[1] = i as u32;
            }
            if y < ys[low] {
                col[2] = i as u32;
            }
            if y > ys[high] {
                col[3] = i as u32;
            }
        }
        let mut out = Vec::with_capacity(4 * width);
        for mut col in cols.into_iter().filter(|c| c[0] != u32::MAX) {
            col.sort_unstable();
            let mut last = u32::MAX;
            for p in col {
                if p != last {
                    out.push(p);
                    last = p;
                }
            }
        }
        out
    };
    sort_by_x(xs, &mut picked);
    picked
}

/// Sorts positions by (x, position), x in Deephaven's order of doubles, through the operators'
/// one packed sort (no sort of our own in the bundle).
pub fn sort_by_x(xs: &[f64], positions: &mut Vec<u32>) {
    use crate::ops::packed_sort::{pack, sort, unpack};
    let mut packed: Vec<u128> = positions
        .iter()
        .map(|&p| pack(crate::column::f64_order_key(xs[p as usize]), u64::from(p)))
        .collect();
    sort(&mut packed);
    positions.clear();
    positions.extend(packed.iter().map(|&v| unpack(v).1 as u32));
}

/// The pixel column of `x` among `width` spanning `lo ..= hi` (`hi` in the last one).
pub fn column(x: f64, width: usize, lo: f64, hi: f64) -> usize {
    if hi <= lo || !x.is_finite() {
        return 0;
    }
    let c = ((x - lo) / (hi - lo) * width as f64) as usize;
    c.min(width - 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    /// From scratch: every column's points listed, then its four extremes chosen by sorting.
    fn reference(xs: &[f64], ys: &[f64], width: usize, lo: f64, hi: f64) -> BTreeSet<u32> {
        let n = xs.len();
        if n <= 4 * width {
            return (0..n as u32).collect();
        }
        let mut out = BTreeSet::new();
        for c in 0..width {
            let members: Vec<usize> = (0..n)
                .filter(|&i| {
                    let at = if hi <= lo {
                        0
                    } else {
                        (((xs[i] - lo) / (hi - lo)) * width as f64).floor() as usize
                    };
                    at.min(width - 1) == c
                })
                .collect();
            if members.is_empty() {
                continue;
            }
            let by = |key: &dyn Fn(usize) -> f64| {
                let mut m = members.clone();
                // Stable: among equal keys the earlier position stays first.
                m.sort_by(|&a, &b| key(a).total_cmp(&key(b)));
                m
            };
            let by_x = by(&|i| xs[i]);
            let by_y = by(&|i| ys[i]);
            let greatest = |key: &dyn Fn(usize) -> f64| {
                let best = members.iter().map(|&i| key(i)).fold(f64::MIN, f64::max);
                members.iter().copied().find(|&i| key(i) == best)
            };
            out.insert(by_x[0] as u32);
            out.insert(by_y[0] as u32);
            if let Some(i) = greatest(&|i| xs[i]) {
                out.insert(i as u32);
            }
            if let Some(i) = greatest(&|i| ys[i]) {
                out.insert(i as u32);
            }
        }
        out
    }

    fn series() -> impl Strategy<Value = (Vec<(i32, i32)>, usize)> {
        (
            prop::collection::vec((0..200i32, -50..50i32), 0..400),
            1..40usize,
        )
    }

    proptest! {
        #[test]
        fn m4_picks_each_columns_extremes((points, width) in series()) {
            let xs: Vec<f64> = points.iter().map(|p| p.0 as f64).collect();
            let ys: Vec<f64> = points.iter().map(|p| p.1 as f64).collect();
            let lo = xs.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let got = m4(&xs, &ys, width, lo, hi);
            prop_assert!(got.len() <= 4 * width);
            if points.len() <= 4 * width {
                prop_assert_eq!(got.len(), points.len());
            }
            // Sorted by x, then position.
            for w in got.windows(2) {
                let (a, b) = (w[0] as usize, w[1] as usize);
                prop_assert!(xs[a] < xs[b] || (xs[a] == xs[b] && a < b));
            }
            let set: BTreeSet<u32> = got.iter().copied().collect();
            prop_assert_eq!(set.len(), got.len());
            prop_assert_eq!(set, reference(&xs, &ys, width, lo, hi));
        }
    }

    #[test]
    fn a_spike_survives() {
        let xs: Vec<f64> = (0..10_000).map(f64::from).collect();
        let mut ys = vec![1.0; 10_000];
        ys[5_001] = 1e6;
        let got = m4(&xs, &ys, 100, 0.0, 9_999.0);
        assert!(got.len() <= 400);
        assert!(got.contains(&5_001));
        assert_eq!(got.first(), Some(&0));
        assert_eq!(got.last(), Some(&9_999));
    }
}
