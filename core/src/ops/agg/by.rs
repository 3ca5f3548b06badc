//! The `…By` shortcuts of `aggBy` (Deephaven's `countBy`, `firstBy`, `lastBy`, `sumBy`, `avgBy`,
//! `minBy`, `maxBy`, `medianBy`, `stdBy`, `varBy`, `absSumBy`): one aggregation of every column
//! but the keys, each into a column of its own name, so the result has the parent's columns, keys
//! first.

use super::{Agg, AggKind};
use crate::Result;
use crate::table::Table;

impl Table {
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

    /// Sums of every other column (Deephaven's `sumBy`).
    pub fn sum_by(&self, keys: &[&str]) -> Result<Table> {
        self.by_every_column(AggKind::Sum, keys)
    }

    /// Means of every other column (Deephaven's `avgBy`).
    pub fn avg_by(&self, keys: &[&str]) -> Result<Table> {
        self.by_every_column(AggKind::Avg, keys)
    }

    /// Minimums of every other column (Deephaven's `minBy`).
    pub fn min_by(&self, keys: &[&str]) -> Result<Table> {
        self.by_every_column(AggKind::Min, keys)
    }

    /// Maximums of every other column (Deephaven's `maxBy`).
    pub fn max_by(&self, keys: &[&str]) -> Result<Table> {
        self.by_every_column(AggKind::Max, keys)
    }

    /// Medians of every other column (Deephaven's `medianBy`; an even count of numbers averages
    /// the two middle values).
    pub fn median_by(&self, keys: &[&str]) -> Result<Table> {
        self.by_every_column(AggKind::Median, keys)
    }

    /// Sample standard deviations of every other column (Deephaven's `stdBy`).
    pub fn std_by(&self, keys: &[&str]) -> Result<Table> {
        self.by_every_column(AggKind::Std, keys)
    }

    /// Sample variances of every other column (Deephaven's `varBy`).
    pub fn var_by(&self, keys: &[&str]) -> Result<Table> {
        self.by_every_column(AggKind::Var, keys)
    }

    /// Sums of the absolute values of every other column (Deephaven's `absSumBy`).
    pub fn abs_sum_by(&self, keys: &[&str]) -> Result<Table> {
        self.by_every_column(AggKind::AbsSum, keys)
    }

    /// `kind` of every column but the keys, each into a column of its own name.
    fn by_every_column(&self, kind: AggKind, keys: &[&str]) -> Result<Table> {
        let aggs: Vec<Agg> = self
            .schema()
            .names()
            .into_iter()
            .filter(|n| !keys.contains(n))
            .map(|n| match kind {
                AggKind::Median => Agg::median(n),
                _ => Agg::of(kind, n),
            })
            .collect();
        self.agg_by(&aggs, keys)
    }
}
