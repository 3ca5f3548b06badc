//! [`Agg`]: what one aggregation of an `aggBy` computes, from which columns, into which; built
//! from Deephaven's spec strings (`"Out = In"` or `"Col"`).
//!
//! Invariant: an `Agg` is only a description; its columns and types are checked when `aggBy`
//! builds the operator.

#[cfg(doc)]
use super::reducer::GroupReducer;
use crate::column::Value;

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
    // The kinds below keep their own per-group state: each is a [`GroupReducer`] in its own file
    // (see `reducer.rs`).
    /// The median of non-null values.
    Median,
    /// A percentile of non-null values ([`AggOptions::percentile`]).
    Pct,
    /// Sum of absolute values.
    AbsSum,
    /// The group's one distinct value, else a sentinel.
    Unique,
    /// The value of the group's first row in the order of [`AggOptions::sort_by`].
    SortedFirst,
    /// The value of the group's last row in the order of [`AggOptions::sort_by`].
    SortedLast,
    /// Rows where every filter of [`AggOptions::filters`] holds.
    CountWhere,
    /// The group's values as an array.
    Group,
    /// The group's distinct values as an array.
    Distinct,
}

/// The parameters of the kinds that take some; the default for the others.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AggOptions {
    /// Pct: the percentile, in `[0, 1]`.
    pub percentile: f64,
    /// Median, Pct: whether an even count averages the two middle values.
    pub average_evenly_divided: bool,
    /// Unique, Distinct: whether null counts as a value.
    pub include_nulls: bool,
    /// Unique: the value of a group with more than one distinct value (null when unset).
    pub non_unique_sentinel: Option<Value>,
    /// SortedFirst, SortedLast: the columns that order a group's rows.
    pub sort_by: Vec<String>,
    /// CountWhere: the filters (formulas, as `where` takes them).
    pub filters: Vec<String>,
}

/// One aggregation: what to compute, from which column, into which.
#[derive(Debug, Clone, PartialEq)]
pub struct Agg {
    pub kind: AggKind,
    pub output: String,
    /// The input column (none for `Count`).
    pub input: Option<String>,
    /// The weight column (`WAvg` only).
    pub weight: Option<String>,
    pub options: AggOptions,
}

/// `"Out = In"` → (Out, In); `"Col"` → (Col, Col).
pub(super) fn pair(spec: &str) -> (String, String) {
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
            options: AggOptions::default(),
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
            options: AggOptions::default(),
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
    /// `AbsSum("Out = In")`: the sum of absolute values.
    pub fn abs_sum(spec: &str) -> Self {
        Self::of(AggKind::AbsSum, spec)
    }
    /// `Median("Out = In")`: averages the two middle values of an even count of numbers.
    pub fn median(spec: &str) -> Self {
        Self::of(AggKind::Median, spec).average_evenly_divided(true)
    }
    /// `Pct(percentile, "Out = In")`, `percentile` in `[0, 1]`; no averaging unless asked.
    pub fn pct(percentile: f64, spec: &str) -> Self {
        let mut agg = Self::of(AggKind::Pct, spec);
        agg.options.percentile = percentile;
        agg
    }
    /// `Unique("Out = In")`: the group's one distinct value; nulls skipped, null when not unique
    /// (see [`include_nulls`](Self::include_nulls), [`non_unique_sentinel`](Self::non_unique_sentinel)).
    pub fn unique(spec: &str) -> Self {
        Self::of(AggKind::Unique, spec)
    }
    /// `SortedFirst(sortBy, "Out = In")`: the value of the first row by `sort_by`.
    pub fn sorted_first(sort_by: &str, spec: &str) -> Self {
        let mut agg = Self::of(AggKind::SortedFirst, spec);
        agg.options.sort_by = vec![sort_by.trim().to_owned()];
        agg
    }
    /// `SortedLast(sortBy, "Out = In")`: the value of the last row by `sort_by`.
    pub fn sorted_last(sort_by: &str, spec: &str) -> Self {
        let mut agg = Self::of(AggKind::SortedLast, spec);
        agg.options.sort_by = vec![sort_by.trim().to_owned()];
        agg
    }
    /// `CountWhere("Name", filters)`: the rows where every filter holds.
    pub fn count_where(name: &str, filters: &[&str]) -> Self {
        let mut agg = Self::count(name);
        agg.kind = AggKind::CountWhere;
        agg.options.filters = filters.iter().map(|f| (*f).to_owned()).collect();
        agg
    }

    /// Median, Pct: whether an even split averages the two middle values.
    pub fn average_evenly_divided(mut self, on: bool) -> Self {
        self.options.average_evenly_divided = on;
        self
    }
    /// Unique: whether null counts as a value.
    pub fn include_nulls(mut self, on: bool) -> Self {
        self.options.include_nulls = on;
        self
    }
    /// Unique: the value of a group with more than one distinct value.
    pub fn non_unique_sentinel(mut self, value: Value) -> Self {
        self.options.non_unique_sentinel = Some(value);
        self
    }
}
