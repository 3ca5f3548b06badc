//! [`Groups`]: the group index of an aggregation, key tuples (as `u64` codes) → dense group ids
//! `0..len`, in order of first appearance.
//!
//! Keys of one or two interned-string columns (the seed's `Exchange, Instrument`) are small dense
//! codes, so they are looked up in a [`Direct`] table: one array load per row instead of a hash
//! probe. When the codes outgrow [`DIRECT_LIMIT`] slots, the index moves to hash maps for good.
//! Other two-column keys (a string and a time bin, as a 1-minute OHLC has) go through a small
//! direct-mapped memo of recent keys before the hash map, since rows mostly repeat recent keys.
//!
//! Invariant: `keys` holds every group's codes, `width` per group, in id order; each group is in
//! exactly one of the direct table or the hash maps.

use rustc_hash::FxHashMap;

use crate::column::strings::NULL_CODE;

/// No group in this slot of the direct table.
const NONE: u32 = u32::MAX;

/// Slots a direct table may have (4 MiB of ids).
const DIRECT_LIMIT: usize = 1 << 20;

/// A table of group ids indexed by key codes: `slot(a)` for one key, `slot(a) * stride +
/// slot(b)` for two, where `slot` maps the null code to 0 and code `c` to `c + 1`.
#[derive(Debug, Default)]
struct Direct {
    /// Slots per first code (a power of two), or 1 for a single key.
    stride: usize,
    ids: Vec<u32>,
}

fn slot(code: u64) -> usize {
    if code == u64::from(NULL_CODE) {
        0
    } else {
        code as usize + 1
    }
}

impl Direct {
    fn new(width: usize) -> Self {
        Self {
            stride: if width == 2 { 16 } else { 1 },
            ids: Vec::new(),
        }
    }

    /// The table index of a key, if it is inside the table.
    fn index(&self, key: &[u64]) -> Option<usize> {
        match *key {
            [a] => Some(slot(a)).filter(|&i| i < self.ids.len()),
            [a, b] => {
                let (a, b) = (slot(a), slot(b));
                (b < self.stride)
                    .then(|| a * self.stride + b)
                    .filter(|&i| i < self.ids.len())
            }
            _ => None,
        }
    }

    /// Grows the table to hold `key`, re-placing the `groups` (codes `width` apart) already in
    /// it; `false` (and no change) when that would pass [`DIRECT_LIMIT`].
    fn grow_for(&mut self, key: &[u64], groups: &[u64]) -> bool {
        let width = key.len();
        let (rows, stride) = match *key {
            [a] => (slot(a) + 1, 1),
            [a, b] => (
                slot(a) + 1,
                self.stride.max((slot(b) + 1).next_power_of_two()),
            ),
            _ => return false,
        };
        let rows = rows
            .max(self.ids.len() / self.stride)
            .next_power_of_two()
            .max(16);
        let Some(size) = rows.checked_mul(stride).filter(|&s| s <= DIRECT_LIMIT) else {
            return false;
        };
        self.stride = stride;
        self.ids = vec![NONE; size];
        for (id, codes) in groups.chunks_exact(width).enumerate() {
            if let Some(i) = self.index(codes) {
                self.ids[i] = id as u32;
            }
        }
        true
    }
}

#[derive(Debug, Default)]
pub(crate) struct Groups {
    /// Present while every key fits; the hash maps are empty meanwhile.
    direct: Option<Direct>,
    one: FxHashMap<u64, u32>,
    two: FxHashMap<(u64, u64), u32>,
    many: FxHashMap<Box<[u64]>, u32>,
    /// Every group's key codes, `width` per group.
    pub(crate) keys: Vec<u64>,
    width: usize,
    pub(crate) len: usize,
    /// Whether the keys are interned strings (small dense codes), so a direct table may serve.
    small_codes: bool,
    /// Recent two-column keys and their ids, for the hashed path (ids never change until
    /// `clear`, which empties it).
    memo: Vec<(u64, u64, u32)>,
}

/// Slots of the two-key memo (a power of two: the top 10 bits of a hash pick one).
const MEMO_SLOTS: usize = 1 << 10;

impl Groups {
    /// An index of `width` key columns; `small_codes` when every key is an interned string.
    pub(crate) fn new(width: usize, small_codes: bool) -> Self {
        let small_codes = small_codes && matches!(width, 1 | 2);
        Self {
            direct: small_codes.then(|| Direct::new(width)),
            width,
            small_codes,
            ..Self::default()
        }
    }

    pub(crate) fn clear(&mut self) {
        *self = Self::new(self.width, self.small_codes);
    }

    /// The group id of each of `rows` rows, whose key codes are `columns` (one slice per key
    /// column, each `rows` long), into `out`.
    pub(crate) fn ids(&mut self, columns: &[&[u64]], rows: usize, out: &mut Vec<u32>) {
        out.clear();
        match *columns {
            // No keys (a keyless `countBy`): one group, made by the first row.
            [] if rows > 0 => {
                let id = self.id(&[]);
                out.resize(rows, id);
            }
            [] => {}
            [a] => out.extend(a.iter().map(|&a| self.id(&[a]))),
            [a, b] if self.direct.is_some() => {
                // The hot path: one load per row; a miss (a new key) takes the slow path, which
                // may grow the table (so the stride is read again) or leave it.
                let mut stride = self.direct.as_ref().map_or(0, |d| d.stride);
                // Written by index, not pushed: a push is a call in the page's build ("z").
                out.resize(a.len().min(b.len()), NONE);
                for ((&a, &b), out) in a.iter().zip(b).zip(out.iter_mut()) {
                    let (sa, sb) = (slot(a), slot(b));
                    let hit = match &self.direct {
                        Some(d) if sb < stride => d.ids.get(sa * stride + sb).copied(),
                        _ => None,
                    };
                    let id = match hit {
                        Some(id) if id != NONE => id,
                        _ => {
                            let id = self.id(&[a, b]);
                            stride = self.direct.as_ref().map_or(0, |d| d.stride);
                            id
                        }
                    };
                    *out = id;
                }
            }
            [a, b] => {
                // Rows repeat recent keys (an instrument's current minute, say): a small
                // direct-mapped memo of (key, id), slotted by a hash of the first code, answers
                // most of them with one load and a comparison instead of a hash map probe.
                let mut memo = std::mem::take(&mut self.memo);
                if memo.is_empty() {
                    memo.resize(MEMO_SLOTS, (u64::MAX, u64::MAX, NONE));
                }
                // A slice and an output written by index: no calls per row in the page's build.
                let slots = memo.as_mut_slice();
                out.resize(a.len().min(b.len()), NONE);
                for ((&a, &b), out) in a.iter().zip(b).zip(out.iter_mut()) {
                    let slot = (a.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 54) as usize;
                    let (ka, kb, id) = slots[slot];
                    let id = if ka == a && kb == b && id != NONE {
                        id
                    } else {
                        let id = self.id2(a, b);
                        slots[slot] = (a, b, id);
                        id
                    };
                    *out = id;
                }
                self.memo = memo;
            }
            _ => {
                let mut key = Vec::with_capacity(columns.len());
                for row in 0..rows {
                    key.clear();
                    key.extend(columns.iter().map(|c| c[row]));
                    let id = self.id(&key);
                    out.push(id);
                }
            }
        }
    }

    fn id2(&mut self, a: u64, b: u64) -> u32 {
        let next = self.len as u32;
        let id = *self.two.entry((a, b)).or_insert(next);
        if id == next {
            self.keys.extend_from_slice(&[a, b]);
            self.len += 1;
        }
        id
    }

    /// The id of `key`'s group, made if new.
    pub(crate) fn id(&mut self, key: &[u64]) -> u32 {
        let next = self.len as u32;
        if let Some(direct) = &mut self.direct {
            let index = match direct.index(key) {
                Some(i) => Some(i),
                None if direct.grow_for(key, &self.keys) => direct.index(key),
                None => None,
            };
            match index {
                Some(i) => {
                    let id = direct.ids[i];
                    if id != NONE {
                        return id;
                    }
                    direct.ids[i] = next;
                    self.keys.extend_from_slice(key);
                    self.len += 1;
                    return next;
                }
                None => self.leave_direct(),
            }
        }
        let (id, new) = match key {
            [] => (0, self.len == 0),
            [a] => {
                let id = *self.one.entry(*a).or_insert(next);
                (id, id == next)
            }
            [a, b] => {
                let id = *self.two.entry((*a, *b)).or_insert(next);
                (id, id == next)
            }
            _ => match self.many.get(key) {
                Some(&id) => (id, false),
                None => {
                    self.many.insert(key.into(), next);
                    (next, true)
                }
            },
        };
        if new {
            self.keys.extend_from_slice(key);
            self.len += 1;
        }
        id
    }

    /// The id of `key`'s group, if it has one (nothing is made).
    pub(crate) fn find(&self, key: &[u64]) -> Option<u32> {
        if let Some(direct) = &self.direct {
            // While the direct table serves, the hash maps are empty.
            return direct
                .index(key)
                .map(|i| direct.ids[i])
                .filter(|&id| id != NONE);
        }
        match key {
            [] => (self.len > 0).then_some(0),
            [a] => self.one.get(a).copied(),
            [a, b] => self.two.get(&(*a, *b)).copied(),
            _ => self.many.get(key).copied(),
        }
    }

    /// Moves every group from the direct table into the hash maps.
    fn leave_direct(&mut self) {
        self.direct = None;
        for (id, key) in self.keys.chunks_exact(self.width).enumerate() {
            match *key {
                [a] => {
                    self.one.insert(a, id as u32);
                }
                [a, b] => {
                    self.two.insert((a, b), id as u32);
                }
                _ => {}
            }
        }
    }

    /// Bytes (used, reserved).
    pub(crate) fn bytes(&self) -> (usize, usize) {
        let entry = |n: usize, size: usize| n * (size + 4 + 8);
        let direct = self.direct.as_ref().map_or(0, |d| d.ids.capacity() * 4);
        let used = self.keys.len() * 8
            + direct
            + entry(self.one.len(), 8)
            + entry(self.two.len(), 16)
            + entry(self.many.len(), 16 + 8 * self.width);
        let reserved = self.keys.capacity() * 8
            + self.memo.capacity() * 24
            + direct
            + entry(self.one.capacity(), 8)
            + entry(self.two.capacity(), 16)
            + entry(self.many.capacity(), 16 + 8 * self.width);
        (used, reserved)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A plain reference: ids in order of first appearance.
    fn reference(keys: &[Vec<u64>]) -> Vec<u32> {
        let mut seen: Vec<&Vec<u64>> = Vec::new();
        keys.iter()
            .map(|k| match seen.iter().position(|s| *s == k) {
                Some(i) => i as u32,
                None => {
                    seen.push(k);
                    (seen.len() - 1) as u32
                }
            })
            .collect()
    }

    fn code() -> impl Strategy<Value = u64> {
        prop_oneof![
            8 => 0u64..40,
            1 => Just(u64::from(NULL_CODE)),
            // Large codes force the direct table to grow, then to give way to hashing.
            1 => 0u64..3_000,
        ]
    }

    proptest! {
        #[test]
        fn ids_follow_first_appearance(
            width in 0usize..4,
            batches in prop::collection::vec(
                prop::collection::vec(prop::collection::vec(code(), 3), 0..60), 1..5),
            small in any::<bool>(),
        ) {
            let mut groups = Groups::new(width, small);
            let mut all = Vec::new();
            let mut got = Vec::new();
            for batch in &batches {
                let rows: Vec<Vec<u64>> = batch.iter().map(|r| r[..width].to_vec()).collect();
                let columns: Vec<Vec<u64>> =
                    (0..width).map(|k| rows.iter().map(|r| r[k]).collect()).collect();
                let slices: Vec<&[u64]> = columns.iter().map(Vec::as_slice).collect();
                let mut out = Vec::new();
                groups.ids(&slices, rows.len(), &mut out);
                got.extend(out);
                all.extend(rows);
            }
            prop_assert_eq!(&got, &reference(&all));
            prop_assert_eq!(groups.len, reference(&all).iter().max().map_or(0, |m| *m as usize + 1));
            let width_keys: Vec<u64> = {
                let mut firsts: Vec<&Vec<u64>> = Vec::new();
                for k in &all {
                    if !firsts.contains(&k) {
                        firsts.push(k);
                    }
                }
                firsts.into_iter().flatten().copied().collect()
            };
            prop_assert_eq!(&groups.keys, &width_keys);
        }
    }

    #[test]
    fn wide_codes_leave_the_direct_table_and_keep_their_ids() {
        let mut groups = Groups::new(2, true);
        assert_eq!(groups.id(&[1, 2]), 0);
        assert_eq!(groups.id(&[u64::from(NULL_CODE), 0]), 1);
        assert!(groups.direct.is_some());
        assert_eq!(groups.id(&[5_000_000, 7]), 2);
        assert!(groups.direct.is_none());
        assert_eq!(groups.id(&[1, 2]), 0);
        assert_eq!(groups.id(&[u64::from(NULL_CODE), 0]), 1);
        assert_eq!(groups.id(&[5_000_000, 7]), 2);
    }
}
