//! [`Stage`]: a JSON plan's own buffer for one column, filled record by record and moved into
//! the table column in bulk.
//!
//! Pushing into a table column one value at a time goes through its shared chunk (an atomic
//! check per push); a stage is a buffer of its own ([`ChunkLane`], written by index), so a value
//! costs a store, and a failed record is undone by cutting the stages to the rows before it
//! ([`Stage::cut`]: the rows, and the dictionary entries the failed row added).
//! [`Stage::flush`] then appends all the
//! staged rows at once: numbers as a slice, codes as blocks of codes
//! ([`StringColumn::extend_codes`]), strings through the column's lane (interned into its
//! dictionary, or copied into its plain chunk a run of rows at a time, as one copy of their
//! bytes: [`crate::column::StrChunk::push_run`]).
//!
//! A string stage of a writer that has its column at hand ([`Stage::push_bytes`], the Protobuf
//! side) stages dictionary codes instead, while the column is a dictionary column: a string
//! seen before is found by its bytes, with no UTF-8 check (it was checked when first seen) and
//! no copy.
//!
//! Invariant: every stage of a plan holds the same number of rows, the plan's staged rows; a
//! coded string stage's codes are in the dictionary its cache is for, the column's own until
//! the flush.

use crate::DecodeReason;
use crate::column::strings::NULL_CODE;
use crate::column::{
    ChunkLane, Column, ColumnType, NULL_BOOL, NULL_F64, NULL_I32, NULL_I64, StrLane, StringColumn,
};

/// The flag of a null in [`Stage::Str`]'s ends.
const NULL: usize = 1 << (usize::BITS - 1);

/// One column's staged rows.
#[derive(Debug, Clone)]
pub enum Stage {
    Bool(ChunkLane<i8>),
    I32(ChunkLane<i32>),
    I64(ChunkLane<i64>),
    F64(ChunkLane<f64>),
    Timestamp(ChunkLane<i64>),
    /// The strings back to back, and each row's end (with [`NULL`] set for a null); and the
    /// codes short strings had in the column's dictionary at the last flush. While `coded`,
    /// `ends` holds each row's code in the column's dictionary ([`NULL_CODE`] for a null) and
    /// `text` is empty. `text` is UTF-8 row by row (checked when staged).
    Str {
        text: Vec<u8>,
        ends: Vec<usize>,
        codes: Box<CodeCache>,
        coded: bool,
    },
}

/// Direct-mapped: strings of up to 16 bytes (as their length and two zero-padded words) and their
/// codes in one dictionary, so a repeated string is not hashed into the dictionary again. And
/// the last row that added entries to that dictionary since the last flush, with the
/// dictionary's length before them, so that a failed row's entries are taken out again
/// ([`Stage::cut`]; rows fail one at a time, the last staged).
#[derive(Debug, Clone)]
pub struct CodeCache {
    dictionary: u64,
    slots: [(u32, u64, u64, u32); 256],
    /// The last staged row that added entries ([`NO_ROW`] if none since the flush), and the
    /// dictionary's length before its first entry. One row is enough: rows fail one at a time,
    /// the last one staged (or being staged); and were an earlier row's entries left, they
    /// would only stay in the dictionary, unused, as before.
    fresh: (usize, u32),
}

/// No row, in [`CodeCache::fresh`].
const NO_ROW: usize = usize::MAX;

/// A slot that matches no string.
const EMPTY_SLOT: (u32, u64, u64, u32) = (u32::MAX, 0, 0, 0);

impl Default for CodeCache {
    fn default() -> Self {
        Self {
            dictionary: u64::MAX,
            slots: [EMPTY_SLOT; 256],
            fresh: (NO_ROW, 0),
        }
    }
}

/// Whether `bytes` are ASCII, from `window` (16 bytes that start with them) when they fit in it:
/// two masks, no loop.
#[inline(always)]
fn is_ascii(bytes: &[u8], window: Option<&[u8; 16]>) -> bool {
    match window {
        Some(w) if bytes.len() <= 16 => short_key(bytes, Some(w))
            .is_some_and(|(_, lo, hi)| (lo | hi) & 0x8080_8080_8080_8080 == 0),
        _ => bytes.is_ascii(),
    }
}

/// A short string's key: its length and its bytes as two words (zero-padded). From `window`
/// (16 bytes that start with the string's) when there is one: two loads and two masks, no copy.
#[inline(always)]
fn short_key(b: &[u8], window: Option<&[u8; 16]>) -> Option<(u32, u64, u64)> {
    if b.len() > 16 {
        return None;
    }
    let word = |x: &[u8]| <[u8; 8]>::try_from(x).map_or(0, u64::from_le_bytes);
    let (lo, hi) = match window {
        Some(w) => {
            let (lo, hi) = w.split_at(8);
            // A shift by 64 or more keeps everything.
            let keep = |n: usize| !u64::MAX.checked_shl(8 * n as u32).unwrap_or(0);
            (
                word(lo) & keep(b.len()),
                word(hi) & keep(b.len().saturating_sub(8)),
            )
        }
        None => {
            let mut w = [0u8; 16];
            w[..b.len()].copy_from_slice(b);
            let (lo, hi) = w.split_at(8);
            (word(lo), word(hi))
        }
    };
    Some((b.len() as u32, lo, hi))
}

impl CodeCache {
    #[inline(always)]
    fn slot(key: (u32, u64, u64)) -> usize {
        let h =
            (key.1 ^ key.2.rotate_left(29) ^ u64::from(key.0)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        (h >> 56) as usize
    }

    /// The code of `bytes` (UTF-8 checked only if they are not in the cache) in `c`'s
    /// dictionary, interning them if new (for staged row `row`); `None` without one.
    #[inline(always)]
    fn code_of_bytes(
        &mut self,
        bytes: &[u8],
        window: Option<&[u8; 16]>,
        c: &mut StringColumn,
        row: usize,
    ) -> Result<Option<u32>, DecodeReason> {
        let key = short_key(bytes, window);
        if let Some(key) = key {
            let slot = &self.slots[Self::slot(key)];
            if (slot.0, slot.1, slot.2) == key {
                return Ok(Some(slot.3));
            }
        }
        self.intern(bytes, c, row)
    }

    /// A miss: `bytes` checked, interned and cached, and `row` noted if it added the first
    /// entry of its row. The key is found again here (taking it as an argument put it in
    /// wasm32's memory stack on every look-up, hit or miss).
    #[inline(never)]
    fn intern(
        &mut self,
        bytes: &[u8],
        c: &mut StringColumn,
        row: usize,
    ) -> Result<Option<u32>, DecodeReason> {
        let key = short_key(bytes, None);
        let value = std::str::from_utf8(bytes).map_err(|_| DecodeReason::InvalidUtf8)?;
        let entries = c.dictionary().map_or(0, |d| d.len());
        let Some(code) = c.intern(value) else {
            return Ok(None);
        };
        if code as usize >= entries && self.fresh.0 != row {
            self.fresh = (row, code);
        }
        if let Some(key) = key {
            self.slots[Self::slot(key)] = (key.0, key.1, key.2, code);
        }
        Ok(Some(code))
    }

    /// Takes out of `c`'s dictionary (if this cache's) the entries rows from `rows` on added,
    /// and their codes out of the cache.
    #[cold]
    fn cut(&mut self, rows: usize, c: &mut StringColumn) {
        let (row, entries) = self.fresh;
        if row == NO_ROW || row < rows {
            return;
        }
        self.fresh = (NO_ROW, 0);
        if c.dictionary_id() == Some(self.dictionary) {
            c.cut_dictionary(entries as usize);
            for slot in self.slots.iter_mut().filter(|s| s.3 >= entries) {
                *slot = EMPTY_SLOT;
            }
        }
    }
}

impl Stage {
    pub fn new(ty: ColumnType) -> Self {
        match ty {
            ColumnType::Bool => Self::Bool(ChunkLane::default()),
            ColumnType::I32 => Self::I32(ChunkLane::default()),
            ColumnType::I64 => Self::I64(ChunkLane::default()),
            ColumnType::F64 => Self::F64(ChunkLane::default()),
            ColumnType::Timestamp => Self::Timestamp(ChunkLane::default()),
            _ => Self::Str {
                text: Vec::new(),
                ends: Vec::new(),
                codes: Box::default(),
                coded: false,
            },
        }
    }

    /// Stages a string's bytes (UTF-8 not yet checked; `window`, if any, is 16 bytes that start
    /// with them) into a string stage, `column` being the stage's column: as a code while that is
    /// a dictionary column (the stage then holds codes until the flush, or until the column would
    /// turn plain), else as text. A string seen before is not checked again. On error (not UTF-8)
    /// nothing is staged, though a string before it in the record may have been interned. Out
    /// of line (the page is built for size); [`Stage::push_bytes_inline`] for a hot loop.
    #[inline(never)]
    #[cfg_attr(streamglass_site, optimize(speed))]
    pub fn push_bytes(
        &mut self,
        bytes: &[u8],
        window: Option<&[u8; 16]>,
        column: &mut Column,
    ) -> Result<(), DecodeReason> {
        self.push_bytes_inline(bytes, window, column)
    }

    /// [`Stage::push_bytes`], inlined.
    #[inline(always)]
    pub fn push_bytes_inline(
        &mut self,
        bytes: &[u8],
        window: Option<&[u8; 16]>,
        column: &mut Column,
    ) -> Result<(), DecodeReason> {
        let (
            Self::Str {
                text,
                ends,
                codes,
                coded,
            },
            Column::String(c),
        ) = (self, column)
        else {
            return Err(DecodeReason::PlanMismatch);
        };
        if !*coded && text.is_empty() {
            code_stage(ends, codes, coded, c);
        }
        if *coded {
            let Some(code) = codes.code_of_bytes(bytes, window, c, ends.len())? else {
                return Err(DecodeReason::PlanMismatch);
            };
            ends.push(code as usize);
            if ends.len() % 1_024 == 0 && c.goes_plain_with(ends.len()) {
                uncode_stage(text, ends, coded, c);
            }
            return Ok(());
        }
        if !is_ascii(bytes, window) {
            std::str::from_utf8(bytes).map_err(|_| DecodeReason::InvalidUtf8)?;
        }
        match window {
            // One 16-byte move, and the bytes past the string dropped again.
            Some(w) if bytes.len() <= 16 => {
                let at = text.len();
                text.extend_from_slice(w);
                text.truncate(at + bytes.len());
            }
            _ => text.extend_from_slice(bytes),
        }
        ends.push(text.len());
        Ok(())
    }

    pub fn push_null(&mut self) {
        match self {
            Self::Bool(v) => v.push(NULL_BOOL),
            Self::I32(v) => v.push(NULL_I32),
            Self::I64(v) | Self::Timestamp(v) => v.push(NULL_I64),
            Self::F64(v) => v.push(NULL_F64),
            Self::Str {
                text, ends, coded, ..
            } => ends.push(if *coded {
                NULL_CODE as usize
            } else {
                text.len() | NULL
            }),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Self::Bool(v) => v.len(),
            Self::I32(v) => v.len(),
            Self::I64(v) | Self::Timestamp(v) => v.len(),
            Self::F64(v) => v.len(),
            Self::Str { ends, .. } => ends.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Keeps the first `rows` rows.
    pub fn truncate(&mut self, rows: usize) {
        match self {
            Self::Bool(v) => v.truncate(rows),
            Self::I32(v) => v.truncate(rows),
            Self::I64(v) | Self::Timestamp(v) => v.truncate(rows),
            Self::F64(v) => v.truncate(rows),
            Self::Str {
                text, ends, coded, ..
            } => {
                ends.truncate(rows);
                if rows == 0 {
                    // Codes are for the column's dictionary of the moment: an empty stage
                    // decides again (the column may have another by its next row).
                    *coded = false;
                }
                if !*coded {
                    let end = ends.last().map_or(0, |e| e & !NULL);
                    text.truncate(end);
                }
            }
        }
    }

    /// Keeps the first `rows` rows, the others having failed: the entries they added to
    /// `column`'s dictionary (the stage's column) are taken out again, as no row holds them.
    pub fn cut(&mut self, rows: usize, column: &mut Column) {
        self.truncate(rows);
        if let (Self::Str { codes, .. }, Column::String(c)) = (self, column) {
            codes.cut(rows, c);
        }
    }

    /// Appends the staged rows to `column` (of the stage's type) and empties the stage.
    #[cfg_attr(streamglass_site, optimize(speed))]
    pub fn flush(&mut self, column: &mut Column) -> Result<(), DecodeReason> {
        match (&mut *self, column) {
            (Self::Bool(v), Column::Bool(c)) => c.extend_from_slice(v.values()),
            (Self::I32(v), Column::I32(c)) => c.extend_from_slice(v.values()),
            (Self::I64(v), Column::I64(c)) | (Self::Timestamp(v), Column::Timestamp(c)) => {
                c.extend_from_slice(v.values())
            }
            (Self::F64(v), Column::F64(c)) => c.extend_from_slice(v.values()),
            (
                Self::Str {
                    text,
                    ends,
                    codes,
                    coded,
                },
                Column::String(c),
            ) => {
                let flushed = match *coded {
                    true => flush_codes(ends, codes, c),
                    false => flush_strings(text, ends, codes, c),
                };
                *coded = false;
                ends.clear();
                text.clear();
                codes.fresh = (NO_ROW, 0);
                flushed?
            }
            _ => return Err(DecodeReason::PlanMismatch),
        }
        self.truncate(0);
        Ok(())
    }
}

/// Turns a text stage that holds no text (no rows, or only nulls and empty strings) into a coded
/// one, if its column is a dictionary column: its cache made that dictionary's.
#[inline(never)]
fn code_stage(ends: &mut [usize], cache: &mut CodeCache, coded: &mut bool, c: &mut StringColumn) {
    let Some(id) = c.dictionary_id() else {
        return;
    };
    if cache.dictionary != id {
        *cache = CodeCache::default();
        cache.dictionary = id;
    }
    for end in ends.iter_mut() {
        *end = match *end & NULL {
            0 => c.intern("").map_or(NULL_CODE, |code| code) as usize,
            _ => NULL_CODE as usize,
        };
    }
    *coded = true;
}

/// Turns a coded stage back into text (its column would turn plain with the rows staged).
#[cold]
#[inline(never)]
fn uncode_stage(text: &mut Vec<u8>, ends: &mut [usize], coded: &mut bool, c: &StringColumn) {
    text.clear();
    for end in ends.iter_mut() {
        *end = match c.dictionary().and_then(|d| d.get(*end as u32)) {
            Some(s) => {
                text.extend_from_slice(s.as_bytes());
                text.len()
            }
            None => text.len() | NULL,
        };
    }
    *coded = false;
}

/// A coded stage's codes into a dictionary column, in bulk (a column that would turn plain does
/// at the end).
#[cfg_attr(streamglass_site, optimize(speed))]
fn flush_codes(
    ends: &[usize],
    cache: &CodeCache,
    c: &mut StringColumn,
) -> Result<(), DecodeReason> {
    if c.dictionary_id() != Some(cache.dictionary) {
        return Err(DecodeReason::PlanMismatch);
    }
    match c.extend_codes(ends.iter().map(|&code| code as u32)) {
        true => Ok(()),
        false => Err(DecodeReason::PlanMismatch),
    }
}

/// One row into `lane` by `put` (false if the lane has no room), the lane renewed once when
/// full; an error if it still has none. One call site of `put`, which is inlined.
#[inline(always)]
fn put_renewing(
    lane: &mut StrLane,
    c: &mut StringColumn,
    mut put: impl FnMut(&mut StrLane, &mut StringColumn) -> bool,
) -> Result<(), DecodeReason> {
    let mut renewed = false;
    while !put(lane, c) {
        if std::mem::replace(&mut renewed, true) {
            return Err(DecodeReason::PlanMismatch);
        }
        c.renew(lane);
    }
    Ok(())
}

/// Strings into a string column's lanes; a dictionary column that has met its limit of distinct
/// strings turns plain on the way (every 1,024 rows), as it would have row by row.
#[cfg_attr(streamglass_site, optimize(speed))]
fn flush_strings(
    text: &[u8],
    ends: &[usize],
    cache: &mut CodeCache,
    c: &mut StringColumn,
) -> Result<(), DecodeReason> {
    let mut lane = c.check_out();
    // Codes are for one dictionary: a new one (the column's next batch, or none) starts over.
    if c.dictionary_id() != Some(cache.dictionary) {
        *cache = CodeCache::default();
        cache.dictionary = c.dictionary_id().unwrap_or(u64::MAX);
    }
    let mut start = 0;
    let mut i = 0;
    while let Some(&end) = ends.get(i) {
        // Plain strings in runs: one copy of their bytes per chunk.
        if let StrLane::Plain(chunk) = &mut lane {
            let taken = chunk.push_run(text, ends.get(i..).unwrap_or_default(), NULL, start);
            if taken > 0 {
                i += taken;
                start = ends.get(i - 1).map_or(start, |e| e & !NULL);
                continue;
            }
        }
        let value = match end & NULL {
            0 => Some(text.get(start..end).ok_or(DecodeReason::PlanMismatch)?),
            _ => None,
        };
        start = end & !NULL;
        if i % 1_024 == 1_023
            && let StrLane::Codes(codes) = &lane
            && c.goes_plain_with(codes.len())
        {
            c.check_in(std::mem::take(&mut lane));
            lane = c.check_out();
        }
        let put = |lane: &mut StrLane, c: &mut StringColumn| push(lane, value, cache, c);
        if let Err(e) = put_renewing(&mut lane, c, put) {
            c.check_in(lane);
            return Err(e);
        }
        i += 1;
    }
    c.check_in(lane);
    Ok(())
}

/// One string into a lane with room; false if it has none.
#[inline(always)]
fn push(
    lane: &mut StrLane,
    value: Option<&[u8]>,
    cache: &mut CodeCache,
    c: &mut StringColumn,
) -> bool {
    match lane {
        StrLane::Codes(codes) => {
            let code = match value {
                Some(v) => match cache.code_of_bytes(v, None, c, 0) {
                    Ok(Some(code)) => code,
                    _ => return false,
                },
                None => NULL_CODE,
            };
            // A full lane takes nothing: the caller renews it and comes back (the string is
            // interned already, and cached).
            codes.put(code)
        }
        StrLane::Plain(chunk) => match value {
            Some(v) => chunk.try_push(v),
            None => chunk.try_push_null(),
        },
        _ => false,
    }
}

/// The entries of `column`'s dictionary, if it has one.
#[cfg(test)]
pub(crate) fn dictionary_entries(column: &Column) -> Option<usize> {
    match column {
        Column::String(c) => c.dictionary().map(|d| d.len()),
        _ => None,
    }
}

/// Whether `column`'s dictionary, if it has one, holds exactly the column's distinct strings:
/// failed documents left no entry.
#[cfg(test)]
pub(crate) fn dictionary_is_its_rows(column: &Column) -> bool {
    let Column::String(c) = column else {
        return true;
    };
    let Some(d) = c.dictionary() else {
        return true;
    };
    let strings = (0..column.len()).filter_map(|r| match column.get(r) {
        Some(crate::column::Value::String(s)) => Some(s),
        _ => None,
    });
    strings.collect::<std::collections::HashSet<_>>().len() == d.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A string's kind, padded length (0 to 40 bytes: within a window and past it) and tail.
    fn value() -> impl Strategy<Value = Option<(u32, usize, String)>> {
        proptest::option::weighted(0.9, (0..5_000u32, 0..40usize, "[a-zé]{0,3}"))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Staged strings (coded or text, as the column goes) flushed in batches read back as the
        /// same strings pushed into a column one by one.
        #[test]
        fn flushed_strings_read_back_as_pushed(
            values in proptest::collection::vec(value(), 0..6_000),
            modulo in 1..3_000u32,
            flushes in proptest::collection::vec(0..6_000usize, 0..6),
            cut in 0..4usize,
        ) {
            let mut column = Column::String(StringColumn::new());
            let mut reference = StringColumn::new();
            let mut stage = Stage::new(ColumnType::String);
            for (i, v) in values.iter().enumerate() {
                // Few distinct strings or many: the column stays a dictionary or goes plain.
                let v = v.as_ref().map(|(k, len, tail)| {
                    let k = k % modulo;
                    format!("{k:0>len$}{tail}")
                });
                match &v {
                    Some(s) => {
                        let mut padded = s.as_bytes().to_vec();
                        padded.resize(s.len().max(16) + cut, b'~');
                        let window = padded.first_chunk::<16>();
                        stage.push_bytes(s.as_bytes(), window, &mut column).unwrap();
                    }
                    None => stage.push_null(),
                }
                reference.push(v.as_deref());
                if flushes.contains(&i) {
                    stage.flush(&mut column).unwrap();
                }
            }
            stage.flush(&mut column).unwrap();
            let Column::String(column) = column else { unreachable!() };
            prop_assert_eq!(column.len(), reference.len());
            for row in 0..reference.len() {
                prop_assert_eq!(column.get(row), reference.get(row), "row {}", row);
            }
        }
    }
}
