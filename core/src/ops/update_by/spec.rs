//! [`UpdateBy`]: one operation of an `updateBy` (Deephaven's `UpdateByOperation`): what it folds
//! ([`UpdateByKind`]), over which window ([`UpdateByWindow`]), from which columns into which
//! (`"Out = In"` or `"Col"`, replacing `Col` in place), with its null rules ([`DeltaControl`],
//! [`OperationControl`]).
//!
//! Invariant: an `UpdateBy` is only a description; its columns and types are checked when
//! `updateBy` builds the operator.

/// What an operation folds over its window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateByKind {
    /// Sum of the non-null values; null when there are none. Integers sum to long.
    Sum,
    /// Product of the non-null values. Cumulative: integers multiply to long; rolling: a double.
    Product,
    Min,
    Max,
    /// Mean of the non-null values, as a double.
    Avg,
    /// Non-null values (NaN counts), as a long.
    Count,
    /// Sample standard deviation of the non-null values, as a double.
    Std,
    /// Mean weighted by [`UpdateBy::weight`], over rows where both are non-null.
    WAvg,
    /// The window's values (nulls included) as an array.
    Group,
    /// The row's value minus the previous row's, by [`DeltaControl`].
    Delta,
    /// The last non-null value so far.
    Fill,
    /// Exponential moving average: `a·prev + (1 − a)·x`.
    Ema,
    /// Exponential moving sum: `a·prev + x`.
    Ems,
    /// Exponential moving minimum: `min(a·prev, x)`.
    EmMin,
    /// Exponential moving maximum: `max(a·prev, x)`.
    EmMax,
    /// Exponential moving standard deviation (Deephaven's `emStd`).
    EmStd,
}

impl UpdateByKind {
    /// Deephaven's name of the operation, for messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sum => "Sum",
            Self::Product => "Product",
            Self::Min => "Min",
            Self::Max => "Max",
            Self::Avg => "Avg",
            Self::Count => "Count",
            Self::Std => "Std",
            Self::WAvg => "WAvg",
            Self::Group => "Group",
            Self::Delta => "delta",
            Self::Fill => "forwardFill",
            Self::Ema => "ema",
            Self::Ems => "ems",
            Self::EmMin => "emMin",
            Self::EmMax => "emMax",
            Self::EmStd => "emStd",
        }
    }

    pub(crate) fn is_exponential(self) -> bool {
        matches!(
            self,
            Self::Ema | Self::Ems | Self::EmMin | Self::EmMax | Self::EmStd
        )
    }
}

/// Which rows of a row's group fold into its value.
#[derive(Debug, Clone, PartialEq)]
pub enum UpdateByWindow {
    /// Every row of the group up to this one.
    Cumulative,
    /// Rows by position in the group: `rev` rows back counting this one (`rev = 1` is the row
    /// alone) through `fwd` rows ahead. Either may be negative (a window wholly ahead or behind).
    Ticks { rev: i64, fwd: i64 },
    /// Rows whose timestamp is within `[ts − rev, ts + fwd]` (nanoseconds, inclusive). A row of
    /// null timestamp belongs to no window, and its value is null.
    Time { column: String, rev: i64, fwd: i64 },
    /// Exponential decay by rows: `a = exp(−1 / ticks)`.
    DecayTicks { ticks: f64 },
    /// Exponential decay by time: `a = exp(−dt / time)` (nanoseconds).
    DecayTime { column: String, time: i64 },
}

impl UpdateByWindow {
    /// A tick window (`UpdateBy.rollingSum({revTicks, fwdTicks})`).
    pub fn ticks(rev: i64, fwd: i64) -> Self {
        Self::Ticks { rev, fwd }
    }

    /// A time window over `column` (`{timestampCol, revTime, fwdTime}`), in nanoseconds.
    pub fn time(column: &str, rev: i64, fwd: i64) -> Self {
        Self::Time {
            column: column.to_owned(),
            rev,
            fwd,
        }
    }

    /// The timestamp column the window reads, if any.
    pub fn timestamp_column(&self) -> Option<&str> {
        match self {
            Self::Time { column, .. } | Self::DecayTime { column, .. } => Some(column),
            _ => None,
        }
    }
}

/// Deephaven's `DeltaControl`: what `delta` gives when the previous row's value is null (or
/// there is no previous row). A null current value always gives null.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeltaControl {
    /// Null (the default).
    #[default]
    NullDominates,
    /// The current value.
    ValueDominates,
    /// Zero.
    ZeroDominates,
}

/// Deephaven's `BadDataBehavior`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadData {
    /// Fail the table.
    Throw,
    /// Reset the group's state to null (the row's value is null).
    Reset,
    /// Leave the state as it was (the row's value is the state's).
    Skip,
    /// Let a NaN through: the state becomes NaN (NaN values only).
    Poison,
}

/// Deephaven's `OperationControl` for the exponential operations; the defaults are Deephaven's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OperationControl {
    pub on_null_value: BadData,
    pub on_nan_value: BadData,
    pub on_null_time: BadData,
    pub on_negative_delta_time: BadData,
    pub on_zero_delta_time: BadData,
}

impl Default for OperationControl {
    fn default() -> Self {
        Self {
            on_null_value: BadData::Skip,
            on_nan_value: BadData::Skip,
            on_null_time: BadData::Skip,
            on_negative_delta_time: BadData::Throw,
            on_zero_delta_time: BadData::Skip,
        }
    }
}

/// One operation of an `updateBy`.
#[derive(Debug, Clone, PartialEq)]
pub struct UpdateBy {
    pub kind: UpdateByKind,
    pub window: UpdateByWindow,
    /// `"Out = In"` or `"Col"`; none means every column the operation applies to.
    pub pairs: Vec<String>,
    /// The weight column (`WAvg` only).
    pub weight: Option<String>,
    pub delta: DeltaControl,
    pub control: OperationControl,
}

impl UpdateBy {
    fn of(kind: UpdateByKind, window: UpdateByWindow, pairs: &[&str]) -> Self {
        Self {
            kind,
            window,
            pairs: super::super::names(pairs),
            weight: None,
            delta: DeltaControl::default(),
            control: OperationControl::default(),
        }
    }

    pub fn cum_sum(pairs: &[&str]) -> Self {
        Self::of(UpdateByKind::Sum, UpdateByWindow::Cumulative, pairs)
    }

    pub fn cum_prod(pairs: &[&str]) -> Self {
        Self::of(UpdateByKind::Product, UpdateByWindow::Cumulative, pairs)
    }

    pub fn cum_min(pairs: &[&str]) -> Self {
        Self::of(UpdateByKind::Min, UpdateByWindow::Cumulative, pairs)
    }

    pub fn cum_max(pairs: &[&str]) -> Self {
        Self::of(UpdateByKind::Max, UpdateByWindow::Cumulative, pairs)
    }

    pub fn delta(pairs: &[&str], control: DeltaControl) -> Self {
        let mut op = Self::of(UpdateByKind::Delta, UpdateByWindow::Cumulative, pairs);
        op.delta = control;
        op
    }

    pub fn forward_fill(pairs: &[&str]) -> Self {
        Self::of(UpdateByKind::Fill, UpdateByWindow::Cumulative, pairs)
    }

    /// A rolling operation (`kind` one of Sum, Product, Min, Max, Avg, Count, Std, Group) over a
    /// tick or time window.
    pub fn rolling(kind: UpdateByKind, window: UpdateByWindow, pairs: &[&str]) -> Self {
        Self::of(kind, window, pairs)
    }

    pub fn rolling_sum(window: UpdateByWindow, pairs: &[&str]) -> Self {
        Self::rolling(UpdateByKind::Sum, window, pairs)
    }

    pub fn rolling_avg(window: UpdateByWindow, pairs: &[&str]) -> Self {
        Self::rolling(UpdateByKind::Avg, window, pairs)
    }

    pub fn rolling_wavg(window: UpdateByWindow, weight: &str, pairs: &[&str]) -> Self {
        let mut op = Self::of(UpdateByKind::WAvg, window, pairs);
        op.weight = Some(weight.to_owned());
        op
    }

    /// An exponential operation (`kind` one of Ema, Ems, EmMin, EmMax, EmStd), decaying by
    /// ticks (`UpdateByWindow::DecayTicks`) or time (`UpdateByWindow::DecayTime`).
    pub fn exponential(
        kind: UpdateByKind,
        decay: UpdateByWindow,
        pairs: &[&str],
        control: OperationControl,
    ) -> Self {
        let mut op = Self::of(kind, decay, pairs);
        op.control = control;
        op
    }

    /// `ema` over `ticks` rows.
    pub fn ema_ticks(ticks: f64, pairs: &[&str]) -> Self {
        Self::exponential(
            UpdateByKind::Ema,
            UpdateByWindow::DecayTicks { ticks },
            pairs,
            OperationControl::default(),
        )
    }

    /// `ema` over the time `nanos` of `column`.
    pub fn ema_time(column: &str, nanos: i64, pairs: &[&str]) -> Self {
        Self::exponential(
            UpdateByKind::Ema,
            UpdateByWindow::DecayTime {
                column: column.to_owned(),
                time: nanos,
            },
            pairs,
            OperationControl::default(),
        )
    }
}
