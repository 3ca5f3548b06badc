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
//! Invariant: every stage of a plan holds the same number of rows, the plan's staged rows.

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
    /// codes short strings had in the column's dictionary at the last flush.
    Str {
        text: String,
        ends: Vec<usize>,
        codes: Box<CodeCache>,
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

/// A short string's key: its length and its bytes as two words.
#[inline(always)]
fn short_key(v: &str) -> Option<(u32, u64, u64)> {
    let b = v.as_bytes();
    if b.len() > 16 {
        return None;
    }
    let mut w = [0u8; 16];
    w[..b.len()].copy_from_slice(b);
    let (lo, hi) = w.split_at(8);
    let word = |x: &[u8]| <[u8; 8]>::try_from(x).map_or(0, u64::from_le_bytes);
    Some((b.len() as u32, word(lo), word(hi)))
}

impl CodeCache {
    #[inline(always)]
    fn slot(key: (u32, u64, u64)) -> usize {
        let h =
            (key.1 ^ key.2.rotate_left(29) ^ u64::from(key.0)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        (h >> 56) as usize
    }

    /// The code of `value` in `c`'s dictionary, interning it if new; `None` without one.
    #[inline(always)]
    fn code(&mut self, value: &str, c: &mut StringColumn) -> Option<u32> {
        let Some(key) = short_key(value) else {
            return c.intern(value);
        };
        let slot = &mut self.slots[Self::slot(key)];
        if (slot.0, slot.1, slot.2) == key {
            return Some(slot.3);
        }
        let code = c.intern(value)?;
        *slot = (key.0, key.1, key.2, code);
        Some(code)
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
                text: String::new(),
                ends: Vec::new(),
                codes: Box::default(),
            },
        }
    }

    #[inline(always)]
    pub fn push_str(text: &mut String, ends: &mut Vec<usize>, value: &str) {
        text.push_str(value);
        ends.push(text.len());
    }

    pub fn push_null(&mut self) {
        match self {
            Self::Bool(v) => v.push(NULL_BOOL),
            Self::I32(v) => v.push(NULL_I32),
            Self::I64(v) | Self::Timestamp(v) => v.push(NULL_I64),
            Self::F64(v) => v.push(NULL_F64),
            Self::Str { text, ends, .. } => ends.push(text.len() | NULL),
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
            Self::Str { text, ends, .. } => {
                ends.truncate(rows);
                let end = ends.last().map_or(0, |e| e & !NULL);
                text.truncate(end);
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
            (Self::Str { text, ends, codes }, Column::String(c)) => {
                flush_strings(text, ends, codes, c)?
            }
            _ => return Err(DecodeReason::PlanMismatch),
        }
        self.truncate(0);
        Ok(())
    }
}

/// Strings into a string column's lanes; a dictionary column that has met its limit of distinct
/// strings turns plain on the way (every 1,024 rows), as it would have row by row.
fn flush_strings(
    text: &str,
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
    value: Option<&str>,
    cache: &mut CodeCache,
    c: &mut StringColumn,
) -> bool {
    match lane {
        StrLane::Codes(codes) => {
            let code = match value {
                Some(v) => match cache.code(v, c) {
                    Some(code) => code,
                    None => return false,
                },
                None => NULL_CODE,
            };
            // A full lane takes nothing: the caller renews it and comes back (the string is
            // interned already, and cached).
            codes.put(code)
        }
        StrLane::Plain(chunk) => match value {
            Some(v) => chunk.try_push(v.as_bytes()),
            None => chunk.try_push_null(),
        },
        _ => false,
    }
}
