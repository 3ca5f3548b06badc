//! [`CodePairs`]: the group ids of an aggregation keyed by two dictionary-coded string columns
//! (the seed's `Exchange, Instrument`), cached by the parent's own dictionary codes.
//!
//! The general path codes each key column on its own (a parent code → the operator's interned
//! code, then a `u64` per row) and then looks the pair up in the group index: three passes and
//! two scratch vectors per key. Here a row costs one load: the pair of parent codes indexes a
//! small table of group ids. A miss (a pair not seen under these dictionaries) goes through the
//! interners and the group index once, so the ids are exactly the general path's.
//!
//! Invariant: a filled slot holds the id the group index gives the pair of strings behind its
//! parent codes, under the dictionaries `dicts`. Dictionaries only grow (a code keeps its string),
//! so a slot stays true until the group index is cleared ([`CodePairs::clear`]).

use super::groups::Groups;
use super::keys::Interner;
use crate::column::Dictionary;

/// No id cached in this slot.
const NONE: u32 = u32::MAX;

/// Slots the table may have (256 KiB of ids); beyond, the general path serves. Tests use a
/// small table, so that their dictionaries outgrow it.
const LIMIT: usize = if cfg!(test) { 1 << 10 } else { 1 << 16 };

#[derive(Debug, Default)]
pub(crate) struct CodePairs {
    /// The parent dictionaries the slots are for.
    dicts: Option<(u64, u64)>,
    /// Slots per first code (a power of two).
    stride: usize,
    ids: Vec<u32>,
    /// A block of each key's parent codes.
    firsts: Vec<u32>,
    seconds: Vec<u32>,
}

/// A parent code's row or column in the table: the null code first, then code `c` at `c + 1`.
fn slot(code: u32) -> usize {
    code.wrapping_add(1) as usize
}

/// One key column of the pair: its parent dictionary and codes, and the operator's interner.
pub(crate) struct PairKey<'a> {
    pub(crate) dict: &'a Dictionary,
    pub(crate) codes: &'a crate::column::Chunked<u32>,
    pub(crate) interner: &'a mut Interner,
}

impl CodePairs {
    /// Forgets every cached id (the group index was cleared).
    pub(crate) fn clear(&mut self) {
        self.dicts = None;
        self.ids = Vec::new();
    }

    /// The group ids of rows `start .. start + count` of the two keys (fewer if the columns end
    /// first), into `out`; `false` (and `out` untouched) when the dictionaries are too large for
    /// the table. The caller passes a block of rows: the parent codes are copied out first.
    pub(crate) fn ids(
        &mut self,
        [a, b]: [PairKey<'_>; 2],
        start: usize,
        count: usize,
        groups: &mut Groups,
        out: &mut Vec<u32>,
    ) -> bool {
        let stride = (b.dict.len() + 1).next_power_of_two();
        let rows = (a.dict.len() + 1).next_power_of_two();
        let Some(size) = rows.checked_mul(stride).filter(|&n| n <= LIMIT) else {
            return false;
        };
        let dicts = Some((a.dict.id(), b.dict.id()));
        // New dictionaries, or grown ones (codes only grow): start over, as a miss costs little.
        if self.dicts != dicts || stride != self.stride || size > self.ids.len() {
            self.dicts = dicts;
            self.stride = stride;
            self.ids = vec![NONE; size];
        }
        self.firsts.clear();
        self.seconds.clear();
        a.codes.copy_range(start, count, &mut self.firsts);
        b.codes.copy_range(start, count, &mut self.seconds);
        // Written by index, not pushed: a push is a call in the page's build (opt-level "z").
        out.clear();
        out.resize(self.firsts.len().min(self.seconds.len()), NONE);
        for ((&x, &y), out) in self.firsts.iter().zip(&self.seconds).zip(out.iter_mut()) {
            let i = slot(x) * stride + slot(y);
            let id = match self.ids.get(i) {
                Some(&id) if id != NONE => id,
                _ => {
                    let key = [
                        u64::from(a.interner.dict.intern_or_null(a.dict.get(x))),
                        u64::from(b.interner.dict.intern_or_null(b.dict.get(y))),
                    ];
                    let id = groups.id(&key);
                    if let Some(s) = self.ids.get_mut(i) {
                        *s = id;
                    }
                    id
                }
            };
            *out = id;
        }
        true
    }

    pub(crate) fn bytes(&self) -> usize {
        (self.ids.capacity() + self.firsts.capacity() + self.seconds.capacity()) * 4
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::column::{Column, ColumnType, StringColumn};
    use crate::ops::keys::KeyCoder;
    use proptest::prelude::*;

    /// The general path over rows `start .. start + count`: each key coded on its own, then the
    /// group index.
    fn general(
        coders: &mut [KeyCoder; 2],
        groups: &mut Groups,
        columns: &[Column; 2],
        start: usize,
        count: usize,
        out: &mut Vec<u32>,
    ) {
        let mut codes = [Vec::new(), Vec::new()];
        for ((coder, column), codes) in coders.iter_mut().zip(columns).zip(&mut codes) {
            coder.codes(ColumnType::String, column, start, count, codes);
        }
        groups.ids(&[&codes[0], &codes[1]], count, out);
    }

    fn strings() -> impl Strategy<Value = Vec<(Option<u16>, Option<u16>)>> {
        let first = prop::option::weighted(0.9, prop_oneof![8 => 0u16..12, 1 => 0u16..400]);
        let second = prop::option::weighted(0.9, prop_oneof![8 => 0u16..40, 1 => 0u16..300]);
        prop::collection::vec((first, second), 0..80)
    }

    proptest! {
        /// The cached ids are the general path's, block after block: under new dictionaries
        /// (`fresh`) and growing ones, with nulls, and with dictionaries too large for the table
        /// (where `AggBy` takes the general path, with the same interners and group index).
        #[test]
        fn ids_are_the_general_paths(blocks in prop::collection::vec((strings(), any::<bool>()), 1..8)) {
            let (mut pairs, mut groups) = (CodePairs::default(), Groups::new(2, true));
            let mut coders = [KeyCoder::default(), KeyCoder::default()];
            let (mut reference, mut reference_coders) =
                (Groups::new(2, true), [KeyCoder::default(), KeyCoder::default()]);
            let mut columns = [StringColumn::new(), StringColumn::new()];
            for (rows, fresh) in &blocks {
                if *fresh {
                    columns = [StringColumn::new(), StringColumn::new()];
                }
                let start = columns[0].len();
                for &(a, b) in rows {
                    columns[0].push(a.map(|n| format!("s{n}")).as_deref());
                    columns[1].push(b.map(|n| format!("s{n}")).as_deref());
                }
                let [ca, cb] = &columns;
                let (Some((da, xa)), Some((db, xb))) =
                    (ca.dictionary().zip(ca.codes()), cb.dictionary().zip(cb.codes()))
                else {
                    return Err(TestCaseError::fail("the columns turned plain"));
                };
                let size = (da.len() + 1).next_power_of_two() * (db.len() + 1).next_power_of_two();
                let [ka, kb] = &mut coders;
                let keys = [
                    PairKey { dict: da, codes: xa, interner: &mut ka.interner },
                    PairKey { dict: db, codes: xb, interner: &mut kb.interner },
                ];
                let mut got = Vec::new();
                let served = pairs.ids(keys, start, rows.len(), &mut groups, &mut got);
                prop_assert_eq!(served, size <= LIMIT);
                let as_columns = [Column::String(ca.clone()), Column::String(cb.clone())];
                if !served {
                    general(&mut coders, &mut groups, &as_columns, start, rows.len(), &mut got);
                }
                let mut want = Vec::new();
                general(&mut reference_coders, &mut reference, &as_columns, start, rows.len(), &mut want);
                prop_assert_eq!(got, want);
            }
            prop_assert_eq!(&groups.keys, &reference.keys);
        }
    }
}
