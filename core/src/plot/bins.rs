//! Histograms and OHLC bars: the two plots whose points are made from groups of rows rather than
//! picked among them.
//!
//! Invariant: a histogram's counts add up to the values binned (every finite value falls in
//! exactly one bin, the range's top in the last); OHLC bars merged into a pixel column keep the
//! first bar's open, the last bar's close, and the extremes of high and low.

use super::decimate::{column, sort_by_x};

/// Counts of `values` in `bins` equal bins spanning `lo ..= hi`.
pub fn histogram(values: &[f64], bins: usize, lo: f64, hi: f64) -> Vec<f64> {
    let bins = bins.max(1);
    let mut counts = vec![0.0; bins];
    for &v in values {
        counts[column(v, bins, lo, hi)] += 1.0;
    }
    counts
}

/// OHLC bars (`x`, open, high, low, close; equal lengths, no NaN), at most one per pixel column of
/// `lo ..= hi` when there are more than `width`: each column's bars merged into one, at the
/// column's first x. Returns the bars sorted by x as (x, [open, high, low, close]).
pub fn ohlc(
    xs: &[f64],
    bars: [&[f64]; 4],
    width: usize,
    lo: f64,
    hi: f64,
) -> (Vec<f64>, [Vec<f64>; 4]) {
    let width = width.max(1);
    let mut order: Vec<u32> = (0..xs.len() as u32).collect();
    sort_by_x(xs, &mut order);
    let [open, high, low, close] = bars;
    let mut x = Vec::new();
    let mut out: [Vec<f64>; 4] = Default::default();
    let merge = xs.len() > width;
    let mut last_column = usize::MAX;
    for i in order.into_iter().map(|i| i as usize) {
        let c = if merge {
            column(xs[i], width, lo, hi)
        } else {
            i
        };
        if merge && c == last_column {
            let n = x.len() - 1;
            out[1][n] = out[1][n].max(high[i]);
            out[2][n] = out[2][n].min(low[i]);
            out[3][n] = close[i];
            continue;
        }
        last_column = c;
        x.push(xs[i]);
        out[0].push(open[i]);
        out[1].push(high[i]);
        out[2].push(low[i]);
        out[3].push(close[i]);
    }
    (x, out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn histogram_counts_every_value_once(values in prop::collection::vec(-1e3..1e3f64, 0..300), bins in 1..30usize) {
            let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let counts = histogram(&values, bins, lo, hi);
            prop_assert_eq!(counts.iter().sum::<f64>() as usize, values.len());
            // Reference: a value is in bin b when lo + b·w <= v < lo + (b+1)·w (the top in the last).
            if hi > lo {
                let w = (hi - lo) / bins as f64;
                for (b, &count) in counts.iter().enumerate() {
                    let expected = values.iter().filter(|&&v| {
                        let k = (((v - lo) / w).floor() as usize).min(bins - 1);
                        k == b
                    }).count();
                    prop_assert_eq!(count as usize, expected);
                }
            }
        }

        #[test]
        fn ohlc_merges_bars_per_column(bars in prop::collection::vec((0..100i32, 0..50i32, 0..50i32), 1..200), width in 1..30usize) {
            let xs: Vec<f64> = bars.iter().map(|b| b.0 as f64).collect();
            let open: Vec<f64> = bars.iter().map(|b| b.1 as f64).collect();
            let close: Vec<f64> = bars.iter().map(|b| b.2 as f64).collect();
            let high: Vec<f64> = open.iter().zip(&close).map(|(o, c)| o.max(*c) + 1.0).collect();
            let low: Vec<f64> = open.iter().zip(&close).map(|(o, c)| o.min(*c) - 1.0).collect();
            let lo = xs.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let (x, [o, h, l, c]) = ohlc(&xs, [&open, &high, &low, &close], width, lo, hi);
            prop_assert!(x.len() <= width);
            if bars.len() <= width {
                prop_assert_eq!(x.len(), bars.len());
            }
            // The extremes of every bar survive in the merged bars.
            let max_high = high.iter().copied().fold(f64::MIN, f64::max);
            let min_low = low.iter().copied().fold(f64::MAX, f64::min);
            prop_assert_eq!(h.iter().copied().fold(f64::MIN, f64::max), max_high);
            prop_assert_eq!(l.iter().copied().fold(f64::MAX, f64::min), min_low);
            prop_assert_eq!(o.len(), x.len());
            prop_assert_eq!(c.len(), x.len());
            for w in x.windows(2) {
                prop_assert!(w[0] <= w[1]);
            }
        }
    }
}
