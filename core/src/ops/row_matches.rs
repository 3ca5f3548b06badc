//! [`RowMatches`]: each left row's matched right row key (`aj`, `raj`), one per output row, in
//! order: 32-bit offsets from a base key while every match fits (half the memory of keys, and
//! half the bytes a build writes), 64-bit keys once one does not (a right side spanning 2^32 - 1
//! rows or more, never in wasm32).
//!
//! Invariant: while narrow, each offset is its key less `base`, and [`NARROW_NONE`] is no match
//! ([`NO_ROW`] as a key).

use std::collections::VecDeque;

/// No right row matches (as a key).
pub(crate) const NO_ROW: u64 = u64::MAX;
/// No right row matches (as a narrow offset).
pub(crate) const NARROW_NONE: u32 = u32::MAX;

pub(crate) enum RowMatches {
    Narrow { base: u64, offsets: VecDeque<u32> },
    Wide(VecDeque<u64>),
}

impl Default for RowMatches {
    fn default() -> Self {
        Self::Narrow {
            base: 0,
            offsets: VecDeque::new(),
        }
    }
}

/// The key of narrow offset `offset` from `base`.
pub(crate) fn narrow_key(offset: u32, base: u64) -> u64 {
    if offset == NARROW_NONE {
        NO_ROW
    } else {
        base + u64::from(offset)
    }
}

/// The narrow offset of `key` from `base`, if it has one.
fn narrow(key: u64, base: u64) -> Option<u32> {
    if key == NO_ROW {
        return Some(NARROW_NONE);
    }
    let offset = key.checked_sub(base)?;
    u32::try_from(offset).ok().filter(|&o| o != NARROW_NONE)
}

impl RowMatches {
    pub(crate) fn len(&self) -> usize {
        match self {
            Self::Narrow { offsets, .. } => offsets.len(),
            Self::Wide(keys) => keys.len(),
        }
    }

    /// The match of row `p`.
    pub(crate) fn get(&self, p: usize) -> Option<u64> {
        match self {
            Self::Narrow { base, offsets } => offsets.get(p).map(|&o| narrow_key(o, *base)),
            Self::Wide(keys) => keys.get(p).copied(),
        }
    }

    /// Every match, in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        (0..self.len()).map(|p| self.get(p).unwrap_or(NO_ROW))
    }

    /// Sets row `p`'s match (widening when `key` has no narrow offset).
    pub(crate) fn set(&mut self, p: usize, key: u64) {
        if let Self::Narrow { base, offsets } = self {
            match narrow(key, *base) {
                Some(o) => {
                    if let Some(slot) = offsets.get_mut(p) {
                        *slot = o;
                    }
                    return;
                }
                None => self.widen(),
            }
        }
        if let Self::Wide(keys) = self
            && let Some(slot) = keys.get_mut(p)
        {
            *slot = key;
        }
    }

    /// Appends matches (widening when one has no narrow offset).
    pub(crate) fn extend(&mut self, keys: &[u64]) {
        if let Self::Narrow { base, offsets } = self {
            let fits = keys.iter().all(|&k| narrow(k, *base).is_some());
            if fits {
                offsets.extend(
                    keys.iter()
                        .map(|&k| narrow(k, *base).unwrap_or(NARROW_NONE)),
                );
                return;
            }
            self.widen();
        }
        if let Self::Wide(all) = self {
            all.extend(keys.iter().copied());
        }
    }

    /// Appends narrow offsets from `base` (taking the vector whole when there are no matches
    /// yet): `false` (nothing done) when the matches are not narrow from `base`.
    pub(crate) fn append_narrow(&mut self, from: u64, values: &mut Vec<u32>) -> bool {
        match self {
            Self::Narrow { base, offsets } if *base == from => {
                if offsets.is_empty() {
                    *offsets = VecDeque::from(std::mem::take(values));
                } else {
                    offsets.extend(values.iter().copied());
                }
                true
            }
            _ => false,
        }
    }

    /// The base key of narrow offsets from which keys up to `end` (exclusive) fit, moved up
    /// to `first` if need be (every match is at or after `first`); `None` when they cannot be
    /// narrow (wide, or `first .. end` spans too many rows).
    pub(crate) fn narrow_base(&mut self, first: u64, end: u64) -> Option<u64> {
        if self.len() == 0 {
            *self = Self::Narrow {
                base: first,
                offsets: std::mem::take(self).into_empty(),
            };
        }
        let Self::Narrow { base, offsets } = self else {
            return None;
        };
        let fits = |base: u64| {
            end.checked_sub(base)
                .is_some_and(|span| span < u64::from(NARROW_NONE))
        };
        if fits(*base) {
            return Some(*base);
        }
        if first < *base || !fits(first) {
            return None;
        }
        let shift = first - *base;
        if offsets
            .iter()
            .any(|&o| o != NARROW_NONE && u64::from(o) < shift)
        {
            return None;
        }
        for o in offsets.iter_mut().filter(|o| **o != NARROW_NONE) {
            *o = u32::try_from(u64::from(*o).saturating_sub(shift)).unwrap_or(NARROW_NONE);
        }
        *base = first;
        Some(first)
    }

    /// The storage, emptied, for reuse.
    fn into_empty(self) -> VecDeque<u32> {
        match self {
            Self::Narrow { mut offsets, .. } => {
                offsets.clear();
                offsets
            }
            Self::Wide(_) => VecDeque::new(),
        }
    }

    /// Switches to 64-bit keys.
    fn widen(&mut self) {
        if let Self::Narrow { base, offsets } = self {
            let base = *base;
            let keys = offsets.iter().map(|&o| narrow_key(o, base)).collect();
            *self = Self::Wide(keys);
        }
    }

    /// Drops the first `count` matches.
    pub(crate) fn pop_front(&mut self, count: usize) {
        match self {
            Self::Narrow { offsets, .. } => {
                offsets.drain(..count.min(offsets.len()));
            }
            Self::Wide(keys) => {
                keys.drain(..count.min(keys.len()));
            }
        }
    }

    pub(crate) fn clear(&mut self) {
        self.pop_front(self.len());
    }

    /// Bytes (used, reserved).
    pub(crate) fn bytes(&self) -> (usize, usize) {
        match self {
            Self::Narrow { offsets, .. } => (offsets.len() * 4, offsets.capacity() * 4),
            Self::Wide(keys) => (keys.len() * 8, keys.capacity() * 8),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{NO_ROW, RowMatches};

    #[test]
    fn matches_read_back_as_set_narrow_rebased_or_wide() {
        let mut m = RowMatches::default();
        assert_eq!(m.narrow_base(100, 200), Some(100));
        m.extend(&[100, NO_ROW, 150]);
        assert!(matches!(m, RowMatches::Narrow { .. }));
        let mut more = vec![60, u32::MAX];
        assert!(m.append_narrow(100, &mut more));
        assert_eq!(
            m.iter().collect::<Vec<_>>(),
            [100, NO_ROW, 150, 160, NO_ROW]
        );
        // Rebased when the keys outgrow the offsets, every match at or after the new base.
        m.pop_front(1);
        assert_eq!(m.narrow_base(150, 150 + u64::from(u32::MAX) - 1), Some(150));
        assert_eq!(m.iter().collect::<Vec<_>>(), [NO_ROW, 150, 160, NO_ROW]);
        assert!(!m.append_narrow(100, &mut vec![1]));
        // Past what any base fits: wide.
        assert_eq!(m.narrow_base(150, 150 + (1 << 33)), None);
        m.set(1, 150 + (1 << 33));
        m.extend(&[7]);
        assert!(matches!(m, RowMatches::Wide(_)));
        assert_eq!(
            m.iter().collect::<Vec<_>>(),
            [NO_ROW, 150 + (1 << 33), 160, NO_ROW, 7]
        );
        assert_eq!(m.narrow_base(0, 10), None);
        // Emptied, narrow again.
        m.clear();
        assert_eq!(m.narrow_base(5, 10), Some(5));
        assert!(matches!(m, RowMatches::Narrow { .. }));
        assert_eq!(m.bytes().0, 0);
    }
}
