//! [`RowEnds`]: where each row of a variable-length column ends, for [`BinaryColumn`]'s bytes and
//! [`ArrayColumn`]'s elements alike.
//!
//! `ends` holds each row's end as an absolute position in the column's values (counted since the
//! column was created, so removing rows from the front renumbers nothing), with [`NULL_END`] set for
//! a null row (which adds no values). The values themselves are kept by the column, back to back.
//!
//! Invariant: `start` is the absolute position of the first value still held, `end` the position
//! just past the last row's values; the column holds `end - start` values.
//!
//! [`BinaryColumn`]: super::BinaryColumn
//! [`ArrayColumn`]: super::ArrayColumn

use super::chunked::Chunked;

/// Set in an end position: this row is null (and adds no values).
pub const NULL_END: u64 = 1 << 63;

/// The row ends of a column of variable-length values.
#[derive(Debug, Clone, Default)]
pub struct RowEnds {
    ends: Chunked<u64>,
    start: u64,
    end: u64,
}

impl RowEnds {
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Where row `row` ends (the start of the values held, before the first row).
    fn end_of(&self, row: usize) -> u64 {
        self.ends.get(row).map_or(self.start, |e| e & !NULL_END)
    }

    /// Where row `index`'s values start, relative to the first value held.
    fn first_of(&self, index: usize) -> u64 {
        if index == 0 {
            self.start
        } else {
            self.end_of(index - 1)
        }
    }

    /// Where row `index`'s values are among those held, as `(first, count)`: `None` past the
    /// end, `Some(None)` for a null row.
    pub fn range(&self, index: usize) -> Option<Option<(usize, usize)>> {
        let end = self.ends.get(index)?;
        if end & NULL_END != 0 {
            return Some(None);
        }
        let from = self.first_of(index);
        Some(Some(((from - self.start) as usize, (end - from) as usize)))
    }

    /// The ranges of rows `start .. start + count` (clamped), read in one pass over the ends.
    pub fn ranges(&self, start: usize, count: usize, out: &mut Vec<Option<(usize, usize)>>) {
        out.clear();
        let mut from = self.first_of(start);
        for slice in self.ends.slices_range(start, count) {
            for &e in slice {
                let end = e & !NULL_END;
                out.push(
                    (e & NULL_END == 0)
                        .then(|| ((from - self.start) as usize, (end - from) as usize)),
                );
                from = end;
            }
        }
    }

    /// Appends a null row.
    pub fn push_null(&mut self) {
        self.ends.push(self.end | NULL_END);
    }

    /// Appends a row made of the values the column added since the last row, now that it holds
    /// `held` values.
    pub fn end_row(&mut self, held: usize) {
        self.end = self.start + held as u64;
        self.ends.push(self.end);
    }

    /// Appends the ends of rows `start .. start + count` of `other` (clamped, at least one row),
    /// and returns where their values are among `other`'s, as `(first, count)`: the column copies
    /// those values to the back of its own.
    pub fn extend_from(&mut self, other: &RowEnds, start: usize, count: usize) -> (usize, usize) {
        let count = count.min(other.len().saturating_sub(start));
        if count == 0 {
            return (0, 0);
        }
        let base = other.first_of(start);
        let last = other.end_of(start + count - 1);
        let from = self.end;
        for slice in other.ends.slices_range(start, count) {
            for &e in slice {
                self.ends
                    .push((from + ((e & !NULL_END) - base)) | (e & NULL_END));
            }
        }
        self.end += last - base;
        ((base - other.start) as usize, (last - base) as usize)
    }

    /// Removes `count` rows from the front; returns how many values the column must remove from
    /// its front.
    pub fn pop_front(&mut self, count: usize) -> usize {
        let count = count.min(self.len());
        if count == 0 {
            return 0;
        }
        let new_start = self.end_of(count - 1);
        self.ends.pop_front(count);
        let values = (new_start - self.start) as usize;
        self.start = new_start;
        values
    }

    /// Keeps the first `new_len` rows; returns how many values the column keeps, or `None` when
    /// nothing changed.
    pub fn truncate(&mut self, new_len: usize) -> Option<usize> {
        if new_len >= self.len() {
            return None;
        }
        let end = self.first_of(new_len);
        self.ends.truncate(new_len);
        self.end = end;
        Some((end - self.start) as usize)
    }

    /// Removes every row, keeping storage for reuse.
    pub fn clear(&mut self) {
        self.ends.clear();
        self.start = self.end;
    }

    pub fn bytes_used(&self) -> usize {
        self.ends.bytes_used()
    }

    pub fn bytes_reserved(&self) -> usize {
        self.ends.bytes_reserved()
    }
}

/// Moves `ranges` (as [`RowEnds::ranges`] gives them) down by the first one's start, so they
/// index a copy of just the values they span; returns that span, `first .. end` of the values
/// before.
pub(crate) fn rebase(ranges: &mut [Option<(usize, usize)>]) -> (usize, usize) {
    let first = ranges.iter().flatten().map(|r| r.0).min().unwrap_or(0);
    let end = ranges
        .iter()
        .flatten()
        .map(|r| r.0 + r.1)
        .max()
        .unwrap_or(first);
    ranges.iter_mut().flatten().for_each(|r| r.0 -= first);
    (first, end)
}
