//! The time window: row `r`'s window is the group's rows whose timestamp is within
//! `[ts − rev, ts + fwd]`, both ends inclusive (Deephaven's `revTime`/`fwdTime`; either may be
//! negative). Rows of equal timestamps are in each other's windows, so with `fwd = 0` a row's
//! value is final only once a later timestamp has arrived in its group, and rows of the group's
//! last timestamp are rewritten as rows of that timestamp keep arriving. Rows of null timestamp
//! are in no window and their value is null (they never enter the group's sequence). The
//! timestamps of a group must not decrease (the table fails, naming the column).

/// Row of timestamp `tj` is before the window of the row of timestamp `tr`.
pub(crate) fn before(tj: i64, tr: i64, rev: i64) -> bool {
    i128::from(tj) < i128::from(tr) - i128::from(rev)
}

/// Row of timestamp `tj` is not after the window of the row of timestamp `tr`.
pub(crate) fn within(tj: i64, tr: i64, fwd: i64) -> bool {
    i128::from(tj) <= i128::from(tr) + i128::from(fwd)
}

/// The window of the row of timestamp `tr` is complete when the group's last timestamp is
/// `last`.
pub(crate) fn is_final(tr: i64, last: i64, fwd: i64) -> bool {
    i128::from(last) > i128::from(tr) + i128::from(fwd)
}
