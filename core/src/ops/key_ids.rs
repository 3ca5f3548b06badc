//! [`KeyIds`]: key tuples of rows numbered by dense ids, in order of first appearance: what
//! `selectDistinct`, `headBy`/`tailBy`, `naturalJoin` and `whereIn` look rows up by.
//!
//! Each key column has one [`KeyCoder`] (strings interned into the operator's own dictionary), and
//! the tuples of codes are numbered by one [`Groups`] index. The same `KeyIds` may code the rows of
//! two tables (the two sides of a join), since codes do not depend on the table they came from.
//! One dictionary-coded string key is looked up by its parent's codes, one load per row (for the
//! two dictionaries last seen: a join's two sides each keep theirs); two such keys of one table by
//! [`CodePairs`]. The ids are the general path's. [`KeyIds::code_ids`] numbers every code of such
//! a key's dictionary at once and hands the table over, for a caller that reads codes in place of
//! ids (`aj`'s merge).
//!
//! Invariant: a tuple's id never changes until [`KeyIds::clear`], and ids are `0..len()` in order
//! of first appearance (in a row, or in a dictionary numbered whole).

use super::code_pairs::{CodePairs, PairKey};
use super::groups::Groups;
use super::keys::{KeyCoder, UNKNOWN_CODE};
use crate::column::{Chunked, Column, ColumnType, Dictionary};
use crate::table::{Schema, TableData};
use crate::{Error, Result};

/// No id cached in this slot.
const NONE: u32 = u32::MAX;

impl KeyIds {
    /// The id [`KeyIds::find`] gives a tuple never numbered.
    pub(crate) const NONE: u32 = NONE;
}

/// The id of each code of one parent dictionary (valid while that dictionary is the parent's:
/// codes only grow, and keep their strings).
#[derive(Default)]
struct CodeIds {
    dict: Option<u64>,
    ids: Vec<u32>,
}

pub(crate) struct KeyIds {
    coders: Vec<(ColumnType, KeyCoder)>,
    groups: Groups,
    /// The code-pair cache, for a `KeyIds` that codes one table's rows.
    pairs: Option<CodePairs>,
    /// For one dictionary-coded string key: the id of each parent code, for the two parent
    /// dictionaries last seen (the one last used first).
    single: Option<[CodeIds; 2]>,
    codes: Vec<Vec<u64>>,
}

impl KeyIds {
    /// Ids for tuples of columns of `types`; `one_table` when every row comes from one parent
    /// (then two dictionary-coded string keys take the code-pair cache; one takes its code
    /// cache either way).
    pub(crate) fn new(types: &[ColumnType], one_table: bool) -> Self {
        let strings = types.iter().all(|&t| t == ColumnType::String);
        Self {
            coders: types.iter().map(|&t| (t, KeyCoder::default())).collect(),
            groups: Groups::new(types.len(), strings),
            pairs: (one_table && strings && types.len() == 2).then(CodePairs::default),
            single: (strings && types.len() == 1).then(Default::default),
            codes: Vec::new(),
        }
    }

    /// Tuples numbered so far.
    pub(crate) fn len(&self) -> usize {
        self.groups.len
    }

    /// Forgets every tuple and interned string.
    pub(crate) fn clear(&mut self) {
        self.groups.clear();
        if let Some(pairs) = &mut self.pairs {
            pairs.clear();
        }
        if let Some(single) = &mut self.single {
            *single = Default::default();
        }
        self.coders
            .iter_mut()
            .for_each(|(_, coder)| *coder = KeyCoder::default());
    }

    /// The id of each of rows `start .. start + count` of `data`, whose key columns are
    /// `columns` (in the order of the types given to [`KeyIds::new`]), into `out`.
    pub(crate) fn ids(
        &mut self,
        data: &TableData,
        columns: &[usize],
        start: usize,
        count: usize,
        out: &mut Vec<u32>,
    ) {
        if self.pair_ids(data, columns, start, count, out)
            || self.single_ids(data, columns, start, count, out)
        {
            return;
        }
        self.codes.resize(columns.len(), Vec::new());
        for ((&c, (ty, coder)), codes) in columns.iter().zip(&mut self.coders).zip(&mut self.codes)
        {
            coder.codes(*ty, &data.columns[c], start, count, codes);
        }
        let slices: Vec<&[u64]> = self.codes.iter().map(Vec::as_slice).collect();
        self.groups.ids(&slices, count, out);
    }

    /// As [`KeyIds::ids`], but with no key columns every row has id 0: a join with no exact
    /// match columns (an `aj` on its stamp alone, a cross join) is one group.
    pub(crate) fn ids_or_single(
        &mut self,
        data: &TableData,
        columns: &[usize],
        start: usize,
        count: usize,
        out: &mut Vec<u32>,
    ) {
        if columns.is_empty() {
            out.clear();
            out.resize(count, 0);
        } else {
            self.ids(data, columns, start, count, out);
        }
    }

    /// The id of each of rows `start .. start + count` of `data`, as [`KeyIds::ids`] gives it,
    /// but for tuples numbered already only: nothing is interned or numbered, and a tuple never
    /// seen reads as [`KeyIds::NONE`]. A side that only looks up (`whereIn`'s left) then costs
    /// no memory per tuple.
    pub(crate) fn find(
        &mut self,
        data: &TableData,
        columns: &[usize],
        start: usize,
        count: usize,
        out: &mut Vec<u32>,
    ) {
        out.clear();
        self.codes.resize(columns.len(), Vec::new());
        for ((&c, (ty, coder)), codes) in columns.iter().zip(&mut self.coders).zip(&mut self.codes)
        {
            coder.find_codes(*ty, &data.columns[c], start, count, codes);
        }
        let unknown = u64::from(UNKNOWN_CODE);
        let strings: Vec<bool> = self
            .coders
            .iter()
            .map(|(ty, _)| *ty == ColumnType::String)
            .collect();
        let rows = self.codes.first().map_or(count, Vec::len);
        let mut key = Vec::with_capacity(columns.len());
        for row in 0..rows {
            key.clear();
            key.extend(self.codes.iter().map(|c| c[row]));
            let seen = key
                .iter()
                .zip(&strings)
                .all(|(&code, &string)| !string || code != unknown);
            let id = if seen { self.groups.find(&key) } else { None };
            out.push(id.unwrap_or(NONE));
        }
    }

    /// The ids of two dictionary-coded string keys, by their parent codes; `false` (and `out`
    /// untouched) when the keys are not that or the dictionaries outgrow the cache.
    fn pair_ids(
        &mut self,
        data: &TableData,
        columns: &[usize],
        start: usize,
        count: usize,
        out: &mut Vec<u32>,
    ) -> bool {
        let (Some(pairs), [ca, cb], [(_, a), (_, b)]) =
            (&mut self.pairs, columns, &mut self.coders[..])
        else {
            return false;
        };
        let key = |c: usize| match data.columns.get(c) {
            Some(Column::String(s)) => s.dictionary().zip(s.codes()),
            _ => None,
        };
        let (Some((dict_a, codes_a)), Some((dict_b, codes_b))) = (key(*ca), key(*cb)) else {
            return false;
        };
        let keys = [
            PairKey {
                dict: dict_a,
                codes: codes_a,
                interner: &mut a.interner,
            },
            PairKey {
                dict: dict_b,
                codes: codes_b,
                interner: &mut b.interner,
            },
        ];
        pairs.ids(keys, start, count, &mut self.groups, out)
    }

    /// The ids of one dictionary-coded string key, by its parent codes: one load per row, a miss
    /// (a code not seen under this dictionary) through the interner and the index.
    fn single_ids(
        &mut self,
        data: &TableData,
        columns: &[usize],
        start: usize,
        count: usize,
        out: &mut Vec<u32>,
    ) -> bool {
        let (Some(caches), [c], [(_, coder)]) = (&mut self.single, columns, &mut self.coders[..])
        else {
            return false;
        };
        let Some(Column::String(s)) = data.columns.get(*c) else {
            return false;
        };
        let (Some(dict), Some(codes)) = (s.dictionary(), s.codes()) else {
            return false;
        };
        let cache = cache_for(caches, dict);
        out.clear();
        out.reserve(count);
        // A lookup a row, in one tight pass; then the codes not seen yet under this dictionary
        // (their first rows, rare) are numbered on the spot, in row order.
        let (ids, groups, dict_of) = (&mut cache.ids, &mut self.groups, &mut coder.interner.dict);
        for slice in codes.slices_range(start, count) {
            let (at, table) = (out.len(), ids.as_slice());
            out.extend(slice.iter().map(|&code| {
                let slot = code.wrapping_add(1) as usize;
                table.get(slot).copied().unwrap_or(NONE)
            }));
            let new = &mut out[at..];
            if !new.iter().fold(false, |any, &id| any | (id == NONE)) {
                continue;
            }
            for (id, &code) in new.iter_mut().zip(slice) {
                let slot = code.wrapping_add(1) as usize;
                *id = match ids.get(slot) {
                    Some(&known) if known != NONE => known,
                    _ => {
                        let own = dict_of.intern_or_null(dict.get(code));
                        let new = groups.id(&[u64::from(own)]);
                        if let Some(s) = ids.get_mut(slot) {
                            *s = new;
                        }
                        new
                    }
                };
            }
        }
        true
    }

    /// For one dictionary-coded string key (as [`KeyIds::ids`] reads it by its codes): its
    /// codes, and the id of each code of `data`'s dictionary, at `code + 1` (the null code's at
    /// 0), every code numbered now if no row had it yet (so a lookup never misses); `None` for
    /// other keys or a dictionary of more than `most` codes.
    pub(crate) fn code_ids<'d>(
        &mut self,
        data: &'d TableData,
        columns: &[usize],
        most: usize,
    ) -> Option<(&'d Chunked<u32>, Vec<u32>)> {
        let (Some(caches), [c], [(_, coder)]) = (&mut self.single, columns, &mut self.coders[..])
        else {
            return None;
        };
        let Some(Column::String(s)) = data.columns.get(*c) else {
            return None;
        };
        let codes = s.codes()?;
        let dict = s.dictionary().filter(|d| d.len() <= most)?;
        let cache = cache_for(caches, dict);
        for (slot, id) in (0u32..).zip(&mut cache.ids) {
            if *id == NONE {
                let own = (coder.interner.dict).intern_or_null(dict.get(slot.wrapping_sub(1)));
                *id = self.groups.id(&[u64::from(own)]);
            }
        }
        Some((codes, cache.ids.clone()))
    }

    /// Appends key column `k` of tuple `id` to `out` (a column of that key's type).
    pub(crate) fn push_key(&self, id: u32, k: usize, out: &mut Column) {
        let width = self.coders.len();
        if let (Some(&code), Some((_, coder))) = (
            self.groups.keys.get(id as usize * width + k),
            self.coders.get(k),
        ) {
            coder.push_value(code, out);
        }
    }

    /// Bytes (used, reserved).
    pub(crate) fn bytes(&self) -> (usize, usize) {
        let (mut used, mut reserved) = self.groups.bytes();
        for (_, coder) in &self.coders {
            used += coder.interner.dict.len() * 8;
            reserved += coder.interner.bytes();
        }
        if let Some(pairs) = &self.pairs {
            used += pairs.bytes();
            reserved += pairs.bytes();
        }
        for cache in self.single.iter().flatten() {
            used += cache.ids.len() * 4;
            reserved += cache.ids.capacity() * 4;
        }
        (used, reserved)
    }
}

/// The code cache of `dict` (made the first of `caches`, the one last used), as long as the
/// dictionary: slot 0 is the null code, code `c` is at `c + 1`.
fn cache_for<'a>(caches: &'a mut [CodeIds; 2], dict: &Dictionary) -> &'a mut CodeIds {
    if caches[0].dict != Some(dict.id()) {
        if caches[1].dict != Some(dict.id()) {
            caches[1] = CodeIds {
                dict: Some(dict.id()),
                ids: Vec::new(),
            };
        }
        caches.swap(0, 1);
    }
    let cache = &mut caches[0];
    if cache.ids.len() < dict.len() + 1 {
        cache.ids.resize(dict.len() + 1, NONE);
    }
    cache
}

/// Key columns matched across two tables: (left indices, right indices, types), from specs
/// `"Key"` or `"LeftKey = RightKey"`. The two sides of a pair must have one type.
pub(crate) fn match_columns(
    op: &str,
    left: &Schema,
    right: &Schema,
    on: &[&str],
) -> Result<(Vec<usize>, Vec<usize>, Vec<ColumnType>)> {
    let (mut left_keys, mut right_keys, mut types) = (Vec::new(), Vec::new(), Vec::new());
    for spec in super::names(on) {
        let (l, r) = super::name_pair(&spec);
        let (li, ri) = (left.index_of(&l)?, right.index_of(&r)?);
        let (lt, rt) = (left.fields()[li].ty, right.fields()[ri].ty);
        super::keys::refuse_array_keys(left, &[&l], op)?;
        if lt != rt {
            return Err(Error::Invalid(format!(
                "{op}: key {l} is {lt} on the left but {r} is {rt} on the right"
            )));
        }
        left_keys.push(li);
        right_keys.push(ri);
        types.push(lt);
    }
    Ok((left_keys, right_keys, types))
}
