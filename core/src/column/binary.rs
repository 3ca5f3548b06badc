//! [`BinaryColumn`]: nullable byte strings (Avro `bytes` and `fixed`), as row ends plus bytes.
//!
//! Rows are a [`RowEnds`] (each row's end as an absolute byte position, null rows flagged) and a
//! [`Chunked`] FIFO of the rows' bytes back to back. Appending copies the bytes once and allocates
//! nothing once the chunks are warm.
//!
//! Invariant: `bytes` holds exactly the values `ends` counts.

use super::chunked::Chunked;
use super::row_ends::RowEnds;

/// A column of nullable byte strings.
#[derive(Debug, Clone, Default)]
pub struct BinaryColumn {
    ends: RowEnds,
    bytes: Chunked<u8>,
}

impl BinaryColumn {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Appends a value (`None` is null).
    pub fn push(&mut self, value: Option<&[u8]>) {
        match value {
            None => self.ends.push_null(),
            Some(v) => {
                self.bytes.extend_from_slice(v);
                self.ends.end_row(self.bytes.len());
            }
        }
    }

    /// The value at `index`: `None` past the end, `Some(None)` for null.
    pub fn get(&self, index: usize) -> Option<Option<Vec<u8>>> {
        Some(self.ends.range(index)?.map(|(first, count)| {
            let mut out = Vec::with_capacity(count);
            self.bytes.copy_range(first, count, &mut out);
            out
        }))
    }

    /// Every row's value in order, with its bytes: `(bytes, ranges)`, where row `i` is
    /// `bytes[first .. first + count]` for `ranges[i] == Some((first, count))`, and null for `None`.
    pub fn contiguous(&self) -> (Vec<u8>, Vec<Option<(usize, usize)>>) {
        self.contiguous_rows(0, self.len())
    }

    /// As [`BinaryColumn::contiguous`], for rows `start .. start + count` (clamped) alone: row
    /// `i` of the answer is row `start + i`, and `bytes` holds only the bytes they span.
    pub fn contiguous_rows(
        &self,
        start: usize,
        count: usize,
    ) -> (Vec<u8>, Vec<Option<(usize, usize)>>) {
        let mut ranges = Vec::with_capacity(count.min(self.len()));
        self.ends.ranges(start, count, &mut ranges);
        let (first, end) = super::row_ends::rebase(&mut ranges);
        let mut bytes = Vec::with_capacity(end - first);
        self.bytes.copy_range(first, end - first, &mut bytes);
        (bytes, ranges)
    }

    /// Removes `count` rows from the front.
    pub fn pop_front(&mut self, count: usize) {
        let bytes = self.ends.pop_front(count);
        self.bytes.pop_front(bytes);
    }

    /// Keeps the first `new_len` rows.
    pub fn truncate(&mut self, new_len: usize) {
        if let Some(kept) = self.ends.truncate(new_len) {
            self.bytes.truncate(kept);
        }
    }

    /// Removes every row, keeping storage for reuse.
    pub fn clear(&mut self) {
        self.ends.clear();
        self.bytes.clear();
    }

    pub fn bytes_used(&self) -> usize {
        self.ends.bytes_used() + self.bytes.bytes_used()
    }

    pub fn bytes_reserved(&self) -> usize {
        self.ends.bytes_reserved() + self.bytes.bytes_reserved()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::VecDeque;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        /// Pushes, front pops, back truncations and clears read back like a deque.
        #[test]
        fn behaves_like_a_deque(
            steps in proptest::collection::vec(
                (proptest::collection::vec(proptest::option::weighted(0.8, proptest::collection::vec(any::<u8>(), 0..40)), 0..300),
                 0usize..200, 0usize..50, any::<bool>()),
                1..8),
        ) {
            let mut column = BinaryColumn::new();
            let mut model: VecDeque<Option<Vec<u8>>> = VecDeque::new();
            for (values, pop, take_back, clear) in steps {
                for v in &values {
                    column.push(v.as_deref());
                    model.push_back(v.clone());
                }
                let keep = model.len().saturating_sub(take_back);
                column.truncate(keep);
                model.truncate(keep);
                column.pop_front(pop);
                for _ in 0..pop.min(model.len()) {
                    model.pop_front();
                }
                if clear {
                    column.clear();
                    model.clear();
                }
                prop_assert_eq!(column.len(), model.len());
                for (i, expected) in model.iter().enumerate() {
                    prop_assert_eq!(column.get(i), Some(expected.clone()));
                }
                prop_assert_eq!(column.get(model.len()), None);
            }
        }
    }
}
