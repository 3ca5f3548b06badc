//! [`Stage`]: a JSON plan's own buffer for one column, filled record by record and moved into
//! the table column in bulk.
//!
//! Pushing into a table column one value at a time goes through its shared chunk (an atomic
//! check per push); a stage is a buffer of its own ([`ChunkLane`], written by index), so a value
//! costs a store, and a failed record is undone by truncating the stages to the rows before it.
//! [`Stage::flush`] then appends all the
//! staged rows at once: numbers as a slice, strings through the column's lane (interned into its
//! dictionary, or copied into its plain chunk).
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
/// codes in one dictionary, so a repeated string is not hashed into the dictionary again.
#[derive(Debug, Clone)]
pub struct CodeCache {
    dictionary: u64,
    slots: [(u32, u64, u64, u32); 256],
}

impl Default for CodeCache {
    fn default() -> Self {
        Self {
            dictionary: u64::MAX,
            slots: [(u32::MAX, 0, 0, 0); 256],
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
    /// dictionary, interning them if new; `None` without one.
    #[inline(always)]
    fn code_of_bytes(
        &mut self,
        bytes: &[u8],
        window: Option<&[u8; 16]>,
        c: &mut StringColumn,
    ) -> Result<Option<u32>, DecodeReason> {
        let key = short_key(bytes, window);
        if let Some(key) = key {
            let slot = &self.slots[Self::slot(key)];
            if (slot.0, slot.1, slot.2) == key {
                return Ok(Some(slot.3));
            }
        }
        self.intern(bytes, c)
    }

    /// A miss: `bytes` checked, interned and cached. The key is found again here (taking it as
    /// an argument put it in wasm32's memory stack on every look-up, hit or miss).
    #[inline(never)]
    fn intern(&mut self, bytes: &[u8], c: &mut StringColumn) -> Result<Option<u32>, DecodeReason> {
        let key = short_key(bytes, None);
        let value = std::str::from_utf8(bytes).map_err(|_| DecodeReason::InvalidUtf8)?;
        let Some(code) = c.intern(value) else {
            return Ok(None);
        };
        if let Some(key) = key {
            self.slots[Self::slot(key)] = (key.0, key.1, key.2, code);
        }
        Ok(Some(code))
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
            let Some(code) = codes.code_of_bytes(bytes, window, c)? else {
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

    /// Appends the staged rows to `column` (of the stage's type) and empties the stage.
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

/// A coded stage's codes into a dictionary column's lanes (a column that would turn plain does at
/// the check-in).
fn flush_codes(
    ends: &[usize],
    cache: &CodeCache,
    c: &mut StringColumn,
) -> Result<(), DecodeReason> {
    if c.dictionary_id() != Some(cache.dictionary) {
        return Err(DecodeReason::PlanMismatch);
    }
    let mut lane = c.check_out();
    for &code in ends {
        let code = code as u32;
        let put = |lane: &mut StrLane| match lane {
            StrLane::Codes(codes) => codes.put(code),
            _ => false,
        };
        if !put(&mut lane) {
            c.renew(&mut lane);
            if !put(&mut lane) {
                c.check_in(lane);
                return Err(DecodeReason::PlanMismatch);
            }
        }
    }
    c.check_in(lane);
    Ok(())
}

/// Strings into a string column's lanes; a dictionary column that has met its limit of distinct
/// strings turns plain on the way (every 1,024 rows), as it would have row by row.
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
    for (i, &end) in ends.iter().enumerate() {
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
        if !push(&mut lane, value, cache, c) {
            c.renew(&mut lane);
            if !push(&mut lane, value, cache, c) {
                c.check_in(lane);
                return Err(DecodeReason::PlanMismatch);
            }
        }
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
                Some(v) => match cache.code_of_bytes(v, None, c) {
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
