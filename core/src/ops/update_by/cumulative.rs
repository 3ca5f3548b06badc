//! The cumulative window: every row of the group up to the current one. Nothing leaves, so a
//! row's value is final as soon as it arrives and no row is kept.

/// Row `j` is never before the window.
pub(crate) fn before(_j: u64, _r: u64) -> bool {
    false
}

/// Row `j` is in reach of row `r`'s window when it is not after it.
pub(crate) fn within(j: u64, r: u64) -> bool {
    j <= r
}
