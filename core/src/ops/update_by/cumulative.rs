//! The cumulative window: every row of the group up to the current one. Nothing leaves the
//! window, so a row's value is final as soon as it arrives. Over an append or blink parent the
//! group's rows are let go in bulk (at most 64 kept); over a ring they are kept, as a row leaving
//! the ring's front changes every later value of its group, which is computed again.

/// Row `j` is never before the window.
pub(crate) fn before(_j: u64, _r: u64) -> bool {
    false
}

/// Row `j` is in reach of row `r`'s window when it is not after it.
pub(crate) fn within(j: u64, r: u64) -> bool {
    j <= r
}
