//! [`BinaryColumn`]: nullable byte strings (Avro `bytes` and `fixed`), as end offsets plus bytes.
//!
//! Rows are two [`Chunked`] FIFOs: `ends` holds each row's end as an absolute byte position (counted
//! since the column was created, so removing rows from the front renumbers nothing), with
//! [`NULL_END`] set for a null; `bytes` holds the rows' bytes back to back. Appending copies the
//! bytes once and allocates nothing once the chunks are warm.
//!
//! Invariant: `start` is the absolute position of the first byte still held, `end` the position
//! just past the last row's bytes, and `bytes.len() == end - start`.

use super::chunked::Chunked;

/// Set in an end position: this row is null (and adds no bytes).
pub const NULL_END: u64 = 1 << 63;

/// A column of nullable byte strings.
#[derive(Debug, Clone, Default)]
pub struct BinaryColumn {
    ends: Chunked<u64>,
    bytes: Chunked<u8>,
    start: u64,
    end: u64,
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
            None => self.ends.push(self.end | NULL_END),
            Some(v) => {
                self.bytes.extend_from_slice(v);
                self.end += v.len() as u64;
                self.ends.push(self.end);
            }
        }
    }

    fn end_of(&self, row: usize) -> u64 {
        self.ends.get(row).map_or(self.start, |e| e & !NULL_END)
    }

    /// The value at `index`: `None` past the end, `Some(None)` for null.
    pub fn get(&self, index: usize) -> Option<Option<Vec<u8>>> {
        let end = self.ends.get(index)?;
        if end & NULL_END != 0 {
            return Some(None);
        }
        let from = if index == 0 {
            self.start
        } else {
            self.end_of(index - 1)
        };
        let mut out = Vec::with_capacity((end - from) as usize);
        self.bytes.copy_range(
            (from - self.start) as usize,
            (end - from) as usize,
            &mut out,
        );
        Some(Some(out))
    }

    /// Removes `count` rows from the front.
    pub fn pop_front(&mut self, count: usize) {
        let count = count.min(self.len());
        if count == 0 {
            return;
        }
        let new_start = self.end_of(count - 1);
        self.bytes.pop_front((new_start - self.start) as usize);
        self.ends.pop_front(count);
        self.start = new_start;
    }

    /// Keeps the first `new_len` rows.
    pub fn truncate(&mut self, new_len: usize) {
        if new_len >= self.len() {
            return;
        }
        let end = if new_len == 0 {
            self.start
        } else {
            self.end_of(new_len - 1)
        };
        self.ends.truncate(new_len);
        self.bytes.truncate((end - self.start) as usize);
        self.end = end;
    }

    /// Removes every row, keeping storage for reuse.
    pub fn clear(&mut self) {
        self.ends.clear();
        self.bytes.clear();
        self.start = self.end;
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
