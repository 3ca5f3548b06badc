//! [`ArrayColumn`]: nullable arrays of one element type (Deephaven's vectors, `double[]`), as end
//! offsets plus one flat column of elements.
//!
//! Rows are laid out as [`BinaryColumn`](super::BinaryColumn)'s are: a [`RowEnds`] holds each
//! row's end as an absolute element position (null arrays flagged), and `values` holds every row's
//! elements back to back, in a [`Column`] of the element type (so strings stay dictionary codes and
//! numbers keep their null sentinels). A row's array is therefore a slice of `values`, and appending
//! a row copies its elements once and allocates nothing per row once the chunks are warm.
//!
//! A null array, an empty array and an array holding null elements are three different values, as
//! in Deephaven: `Value::Null`, `Value::Array(vec![])` and `Value::Array(vec![Value::Null])`.
//!
//! Invariant: `values` holds exactly the elements `ends` counts.

use super::row_ends::RowEnds;
use super::{Column, ColumnType, Value};

/// A column of nullable arrays.
#[derive(Debug, Clone)]
pub struct ArrayColumn {
    element: &'static ColumnType,
    ends: RowEnds,
    values: Box<Column>,
}

impl ArrayColumn {
    /// An empty column of arrays of `element`.
    pub fn new(element: &'static ColumnType) -> Self {
        Self {
            element,
            ends: RowEnds::default(),
            values: Box::new(Column::new(*element)),
        }
    }

    /// The type of the elements.
    pub fn element_type(&self) -> ColumnType {
        *self.element
    }

    /// The column's type, `Array(element)`.
    pub fn column_type(&self) -> ColumnType {
        ColumnType::Array(self.element)
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Every row's elements, back to back: row `i`'s are [`ArrayColumn::range`]`(i)` of them.
    pub fn values(&self) -> &Column {
        &self.values
    }

    /// Where row `index`'s elements are in [`ArrayColumn::values`], as `(first, count)`: `None`
    /// past the end, `Some(None)` for a null array.
    pub fn range(&self, index: usize) -> Option<Option<(usize, usize)>> {
        self.ends.range(index)
    }

    /// The ranges of rows `start .. start + count` (clamped), read in one pass over the ends.
    pub fn ranges(&self, start: usize, count: usize, out: &mut Vec<Option<(usize, usize)>>) {
        self.ends.ranges(start, count, out)
    }

    /// The array at `index`: `None` past the end, `Some(None)` for null.
    pub fn get(&self, index: usize) -> Option<Option<Vec<Value>>> {
        self.get_prefix(index, usize::MAX)
    }

    /// The first `n` elements (at most) of the array at `index`, as [`ArrayColumn::get`].
    pub fn get_prefix(&self, index: usize, n: usize) -> Option<Option<Vec<Value>>> {
        Some(self.range(index)?.map(|(first, count)| {
            (first..first + count.min(n))
                .map(|i| self.values.get(i).unwrap_or(Value::Null))
                .collect()
        }))
    }

    /// Appends an array (`None` is null). Returns whether every element fitted the element type
    /// (one that does not is stored as a null element).
    pub fn push(&mut self, value: Option<&[Value]>) -> bool {
        match value {
            None => {
                self.push_null();
                true
            }
            Some(values) => {
                let mut fitted = true;
                for v in values {
                    fitted &= self.values.push(v);
                }
                self.end_row();
                fitted
            }
        }
    }

    /// Appends a null array.
    pub fn push_null(&mut self) {
        self.ends.push_null();
    }

    /// Whether every element of `values` fits the element type.
    pub fn accepts(&self, values: &[Value]) -> bool {
        values.iter().all(|v| self.values.accepts(v))
    }

    /// The element column, for a writer that appends a row's elements and then calls
    /// [`ArrayColumn::end_row`] (elements pushed without it belong to no row yet).
    pub fn values_mut(&mut self) -> &mut Column {
        &mut self.values
    }

    /// Ends a row made of the elements pushed onto [`ArrayColumn::values_mut`] since the last row.
    pub fn end_row(&mut self) {
        self.ends.end_row(self.values.len());
    }

    /// Appends row `index` of `other` (of the same element type; else a null array).
    pub fn push_from(&mut self, other: &ArrayColumn, index: usize) {
        match other.range(index).flatten() {
            Some((first, count))
                if other.element_type() == self.element_type()
                    && self.values.extend_from_range(&other.values, first, count) =>
            {
                self.end_row()
            }
            _ => self.push_null(),
        }
    }

    /// Appends rows `start .. start + count` (clamped) of `other`, of the same element type:
    /// the ends once, the elements as one range.
    pub fn extend_from_range(&mut self, other: &ArrayColumn, start: usize, count: usize) -> bool {
        if other.element_type() != self.element_type() {
            return false;
        }
        let (first, values) = self.ends.extend_from(&other.ends, start, count);
        self.values.extend_from_range(&other.values, first, values);
        true
    }

    /// Removes `count` rows from the front.
    pub fn pop_front(&mut self, count: usize) {
        let values = self.ends.pop_front(count);
        self.values.pop_front(values);
    }

    /// Keeps the first `new_len` rows.
    pub fn truncate(&mut self, new_len: usize) {
        if let Some(kept) = self.ends.truncate(new_len) {
            self.values.truncate(kept);
        }
    }

    /// Removes every row, keeping storage for reuse.
    pub fn clear(&mut self) {
        self.ends.clear();
        self.values.clear();
    }

    pub fn bytes_used(&self) -> usize {
        self.ends.bytes_used() + self.values.bytes_used()
    }

    pub fn bytes_reserved(&self) -> usize {
        self.ends.bytes_reserved() + self.values.bytes_reserved()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::VecDeque;

    fn arb_array() -> impl Strategy<Value = Option<Vec<Value>>> {
        proptest::option::weighted(
            0.8,
            proptest::collection::vec(
                proptest::option::weighted(0.8, -50i64..50)
                    .prop_map(|v| v.map_or(Value::Null, Value::I64)),
                0..6,
            ),
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        /// Pushes, copies of ranges, front pops, back truncations and clears read back like a
        /// deque of arrays.
        #[test]
        fn behaves_like_a_deque(
            steps in proptest::collection::vec(
                (proptest::collection::vec(arb_array(), 0..40), 0usize..30, 0usize..8,
                 0usize..10, 0usize..10, any::<bool>()),
                1..8),
        ) {
            let mut column = ArrayColumn::new(&ColumnType::I64);
            let mut model: VecDeque<Option<Vec<Value>>> = VecDeque::new();
            for (values, pop, take_back, copy_from, copy_count, clear) in steps {
                for v in &values {
                    prop_assert!(column.push(v.as_deref()));
                    model.push_back(v.clone());
                }
                // A copy of some of its own rows, through a second column.
                let mut other = ArrayColumn::new(&ColumnType::I64);
                prop_assert!(other.extend_from_range(&column, copy_from, copy_count));
                let copied: Vec<_> = model.iter().skip(copy_from).take(copy_count).cloned().collect();
                prop_assert_eq!(other.len(), copied.len());
                for (i, expected) in copied.iter().enumerate() {
                    prop_assert_eq!(other.get(i), Some(expected.clone()));
                }
                prop_assert!(column.extend_from_range(&other, 0, other.len()));
                model.extend(copied);
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
                let mut ranges = Vec::new();
                column.ranges(0, model.len(), &mut ranges);
                for (i, expected) in model.iter().enumerate() {
                    prop_assert_eq!(column.get(i), Some(expected.clone()));
                    prop_assert_eq!(ranges[i], column.range(i).flatten());
                }
                prop_assert_eq!(column.get(model.len()), None);
            }
        }
    }

    #[test]
    fn null_empty_and_null_elements_differ() {
        let mut column = ArrayColumn::new(&ColumnType::String);
        column.push(None);
        column.push(Some(&[]));
        column.push(Some(&[Value::Null, Value::String("a".into())]));
        assert_eq!(column.get(0), Some(None));
        assert_eq!(column.get(1), Some(Some(vec![])));
        assert_eq!(
            column.get(2),
            Some(Some(vec![Value::Null, Value::String("a".into())]))
        );
        assert!(!column.push(Some(&[Value::I32(1)])), "a wrong element type");
        assert_eq!(column.get(3), Some(Some(vec![Value::Null])));
    }
}
