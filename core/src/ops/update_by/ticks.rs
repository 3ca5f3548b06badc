//! The tick window: row `r`'s window is the group's rows `r − rev + 1 ..= r + fwd` by position
//! (Deephaven's `revTicks` counts the current row: `rev = 1` is the row alone; either bound may
//! be negative, for a window wholly behind or ahead). A row's value is final once the row
//! `r + fwd` has arrived; until then it is computed over the rows there are, and rewritten as
//! more arrive.

/// Row `j` is before row `r`'s window.
pub(crate) fn before(j: u64, r: u64, rev: i64) -> bool {
    i128::from(j) < i128::from(r) - i128::from(rev) + 1
}

/// Row `j` is not after row `r`'s window.
pub(crate) fn within(j: u64, r: u64, fwd: i64) -> bool {
    i128::from(j) <= i128::from(r) + i128::from(fwd)
}

/// Row `r`'s window is complete among `n` rows.
pub(crate) fn is_final(r: u64, n: u64, fwd: i64) -> bool {
    i128::from(r) + i128::from(fwd) < i128::from(n)
}
