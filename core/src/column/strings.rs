//! [`StringColumn`]: strings stored as dictionary codes while few are distinct, and as offsets plus
//! bytes once many are.
//!
//! A column starts as a dictionary ([`Dictionary`]: each distinct string once, rows hold `u32`
//! codes). When the dictionary passes [`DICT_LIMIT`] entries, or more than [`DICT_MIN`] entries
//! while holding more than half as many entries as the column has rows, the column converts itself
//! once to plain storage ([`PlainStrings`]): chunks of whole rows, each chunk holding its rows' end
//! offsets and bytes, so every string is one contiguous `&str`. A null is a code of [`NULL_CODE`],
//! or an end offset with [`NULL_BIT`] set.
//!
//! Invariant: codes in a dictionary column are `< dictionary.len()` or `NULL_CODE`. A dictionary
//! keeps strings of rows removed since (it is bounded by `DICT_LIMIT`); plain storage frees them.

use indexmap::IndexSet;
use rustc_hash::FxBuildHasher;

use std::sync::Arc;

use super::chunked::{Chunked, pop_chunks};
use super::lane::ChunkLane;

/// The code of a null string in a dictionary column.
pub const NULL_CODE: u32 = u32::MAX;
/// Set in an end offset: this row is null (and adds no bytes).
pub const NULL_BIT: u32 = 1 << 31;
/// Rows per plain chunk, at most.
const PLAIN_ROWS: usize = 4096;
/// Bytes per plain chunk before another starts (a longer string gets a chunk of its own size).
const PLAIN_BYTES: usize = 256 * 1024;
/// Entries after which a dictionary column always turns plain.
pub const DICT_LIMIT: usize = 1 << 16;
/// Entries below which a dictionary column stays one, whatever its row count.
pub const DICT_MIN: usize = 1 << 10;
/// Entries of a dictionary that [`StringColumn::empty_like`] copies into the next column: a
/// decoder's batches then extend one another's dictionaries, and a table adopts their codes as
/// they are (see [`StringColumn::append`]).
const SEED_ENTRIES: usize = DICT_MIN / 2;

/// `code` if it is one of a dictionary of `n` entries, else null (`NULL_CODE + 1` wraps to 0:
/// one compare per code, without a branch).
#[inline]
fn known_code(code: u32, n: u32) -> u32 {
    if code.wrapping_add(1) > n {
        NULL_CODE
    } else {
        code
    }
}

/// Whether any of `codes` is past a dictionary of `len` entries (and not [`NULL_CODE`]): one
/// compare per code, without a branch (`NULL_CODE + 1` wraps to 0).
fn any_past(codes: &[u32], len: usize) -> bool {
    let n = u32::try_from(len).unwrap_or(NULL_CODE);
    codes
        .iter()
        .fold(false, |any, &c| any | (c.wrapping_add(1) > n))
}

/// Distinct strings, each with a dense code in order of first appearance.
///
/// Every dictionary (clones included) has its own [`Dictionary::id`]: codes are only stable
/// within one id, so a cache of translated codes must be dropped when the id changes.
#[derive(Debug)]
pub struct Dictionary {
    values: IndexSet<Box<str>, FxBuildHasher>,
    bytes: usize,
    id: u64,
}

fn next_id() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

impl Default for Dictionary {
    fn default() -> Self {
        Self {
            values: IndexSet::default(),
            bytes: 0,
            id: next_id(),
        }
    }
}

impl Clone for Dictionary {
    fn clone(&self) -> Self {
        Self {
            values: self.values.clone(),
            bytes: self.bytes,
            id: next_id(),
        }
    }
}

impl Dictionary {
    pub fn new() -> Self {
        Self::default()
    }

    /// This dictionary's identity.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The code of `value`, adding it if new.
    pub fn intern(&mut self, value: &str) -> u32 {
        if let Some(code) = self.values.get_index_of(value) {
            return code as u32;
        }
        self.bytes += value.len();
        self.values.insert_full(value.into()).0 as u32
    }

    /// Whether `prefix`'s entries are this dictionary's first ones, with the same codes.
    pub fn extends(&self, prefix: &Dictionary) -> bool {
        prefix.len() <= self.len() && prefix.values.iter().zip(&self.values).all(|(a, b)| a == b)
    }

    /// The code of `value`, adding it if new; [`NULL_CODE`] for a null.
    pub fn intern_or_null(&mut self, value: Option<&str>) -> u32 {
        value.map_or(NULL_CODE, |v| self.intern(v))
    }

    /// Adds the entries of `longer` past this dictionary's, if `longer` extends it and has no
    /// more entries than `rows` (the rows that come with it: the comparison reads every entry,
    /// and a large dictionary with few rows is better translated, code by code). Then `longer`'s
    /// codes are this dictionary's too. `false`, and no change, otherwise.
    fn catch_up(&mut self, longer: &Dictionary, rows: usize) -> bool {
        if longer.len() > rows || !longer.extends(self) {
            return false;
        }
        for value in longer.values.iter().skip(self.len()) {
            self.intern(value);
        }
        true
    }

    /// Keeps the first `len` entries.
    fn truncate(&mut self, len: usize) {
        while self.values.len() > len {
            if let Some(value) = self.values.pop() {
                self.bytes -= value.len();
            }
        }
    }

    /// The code of `value`, if present.
    pub fn code(&self, value: &str) -> Option<u32> {
        self.values.get_index_of(value).map(|c| c as u32)
    }

    /// The string of `code`.
    pub fn get(&self, code: u32) -> Option<&str> {
        self.values.get_index(code as usize).map(|s| &**s)
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Bytes held: the strings, their boxes, and the index.
    pub fn bytes_reserved(&self) -> usize {
        // Each entry: the box (16) in the entry vector plus its hash (8), and an index slot (~8).
        self.bytes + self.values.capacity() * 32
    }
}

#[derive(Debug, Clone)]
enum Repr {
    Dict {
        codes: Chunked<u32>,
        dict: Dictionary,
    },
    Plain(PlainStrings),
}

/// One chunk of plain strings: whole rows only.
#[derive(Debug, Clone, Default)]
pub struct StrChunk {
    /// End offset of each row in `bytes`, [`NULL_BIT`] set for a null.
    ends: Vec<u32>,
    bytes: Vec<u8>,
}

impl StrChunk {
    /// Appends a row of bytes (the caller has checked that they are UTF-8) if the chunk has room
    /// for it as [`PlainStrings`] counts room; `false`, appending nothing, when it is full.
    #[inline(always)]
    pub fn try_push(&mut self, value: &[u8]) -> bool {
        if self.ends.len() < PLAIN_ROWS
            && (self.bytes.is_empty() || self.bytes.len() + value.len() <= PLAIN_BYTES)
        {
            self.bytes.extend_from_slice(value);
            self.ends.push(self.bytes.len() as u32);
            return true;
        }
        false
    }

    /// [`StrChunk::try_push`] of `value`, given `window`, the 16 bytes from its start (they may
    /// run past it): a string of up to 16 bytes is copied as one 16-byte move, and the bytes past
    /// it are dropped again.
    #[inline(always)]
    pub fn try_push_window(&mut self, value: &[u8], window: Option<&[u8; 16]>) -> bool {
        match window {
            Some(w) if value.len() <= w.len() => {
                if self.ends.len() < PLAIN_ROWS
                    && (self.bytes.is_empty() || self.bytes.len() + value.len() <= PLAIN_BYTES)
                {
                    let end = self.bytes.len() + value.len();
                    self.bytes.extend_from_slice(w);
                    self.bytes.truncate(end);
                    self.ends.push(end as u32);
                    return true;
                }
                false
            }
            _ => self.try_push(value),
        }
    }

    /// Appends the rows of `ends` (end offsets into `text`, from `start`; `null` flags a null
    /// row) that [`StrChunk::try_push`] and [`StrChunk::try_push_null`] would take one by one,
    /// as one copy of their bytes: how many it took (0 when the chunk is full, or an end is out
    /// of order or past `text`).
    pub fn push_run(&mut self, text: &[u8], ends: &[usize], null: usize, start: usize) -> usize {
        let room = PLAIN_ROWS.saturating_sub(self.ends.len()).min(ends.len());
        let base = self.bytes.len();
        let mut bytes = base;
        let mut end = start;
        let mut taken = 0;
        self.ends.reserve(room);
        for &e in ends.iter().take(room) {
            let value_end = e & !null;
            let Some(len) = value_end.checked_sub(end) else {
                break;
            };
            if e & null != 0 {
                if bytes > PLAIN_BYTES || len != 0 {
                    break;
                }
                self.ends.push(bytes as u32 | NULL_BIT);
            } else {
                if bytes != 0 && bytes + len > PLAIN_BYTES {
                    break;
                }
                bytes += len;
                self.ends.push(bytes as u32);
            }
            end = value_end;
            taken += 1;
        }
        match text.get(start..end) {
            Some(run) => self.bytes.extend_from_slice(run),
            None => {
                self.ends.truncate(self.ends.len() - taken);
                return 0;
            }
        }
        taken
    }

    /// Appends a null row if the chunk has room for it; `false` when it is full.
    #[inline(always)]
    pub fn try_push_null(&mut self) -> bool {
        if self.ends.len() < PLAIN_ROWS && self.bytes.len() <= PLAIN_BYTES {
            let end = self.end(self.ends.len().wrapping_sub(1)) as u32;
            self.ends.push(end | NULL_BIT);
            return true;
        }
        false
    }

    /// Whether a row of `len` bytes goes into this chunk, as [`PlainStrings`] fills chunks: a
    /// chunk holds at most [`PLAIN_ROWS`] rows, and [`PLAIN_BYTES`] bytes unless one row alone
    /// is longer.
    #[inline(always)]
    fn fits(&self, len: usize) -> bool {
        self.ends.len() < PLAIN_ROWS
            && (self.bytes.is_empty() || self.bytes.len() + len <= PLAIN_BYTES)
    }

    /// Rows in the chunk.
    pub fn rows(&self) -> usize {
        self.ends.len()
    }

    /// Keeps the first `rows` rows.
    pub fn truncate(&mut self, rows: usize) {
        if rows < self.ends.len() {
            self.ends.truncate(rows);
            let end = self.end(rows.wrapping_sub(1));
            self.bytes.truncate(end);
        }
    }

    fn end(&self, row: usize) -> usize {
        self.ends.get(row).map_or(0, |e| (e & !NULL_BIT) as usize)
    }

    fn get(&self, row: usize) -> Option<Option<&str>> {
        let end = *self.ends.get(row)?;
        if end & NULL_BIT != 0 {
            return Some(None);
        }
        let start = if row == 0 { 0 } else { self.end(row - 1) };
        let bytes = self.bytes.get(start..end as usize)?;
        // Only `str`s are ever appended, at their boundaries, so this cannot fail.
        Some(std::str::from_utf8(bytes).ok())
    }
}

/// Strings as offsets plus bytes, in chunks of whole rows: a FIFO like [`Chunked`], whose chunks
/// are shared between clones in the same way (a shared chunk is never grown, and is copied
/// before its rows change).
#[derive(Debug, Default)]
pub struct PlainStrings {
    chunks: std::collections::VecDeque<Arc<StrChunk>>,
    /// Rows already removed from the first chunk.
    head: usize,
    len: usize,
    spare: Option<StrChunk>,
}

/// A clone shares the chunks (and has no spare of its own).
impl Clone for PlainStrings {
    fn clone(&self) -> Self {
        Self {
            chunks: self.chunks.clone(),
            head: self.head,
            len: self.len,
            spare: None,
        }
    }
}

impl PlainStrings {
    /// The last chunk, to write to, if it is not shared.
    fn last_mut(&mut self) -> Option<&mut StrChunk> {
        self.chunks.back_mut().and_then(Arc::get_mut)
    }

    /// The chunk a row of `len` bytes goes into: the last one if it is not shared and the row
    /// fits, else a new one.
    fn room_for(&mut self, len: usize) -> Option<&mut StrChunk> {
        if self.last_mut().is_none_or(|c| !c.fits(len)) {
            let chunk = self.fresh_chunk(len);
            self.chunks.push_back(Arc::new(chunk));
        }
        self.last_mut()
    }

    /// An empty chunk (the spare, if any) with room for a chunk's rows and for `len` bytes.
    fn fresh_chunk(&mut self, len: usize) -> StrChunk {
        let mut chunk = self.spare.take().unwrap_or_default();
        chunk.ends.reserve(PLAIN_ROWS);
        chunk.bytes.reserve(len.max(PLAIN_BYTES / 4));
        chunk
    }

    /// Rows `start .. start + count` (clamped), walking the chunks once.
    fn range(&self, start: usize, count: usize) -> impl Iterator<Item = Option<&str>> {
        self.spans(start, count)
            .flat_map(|(chunk, rows)| rows.map(move |row| chunk.get(row).flatten()))
    }

    /// Rows `start .. start + count` (clamped) as each chunk's range of rows, front to back.
    fn spans(
        &self,
        start: usize,
        count: usize,
    ) -> impl Iterator<Item = (&StrChunk, std::ops::Range<usize>)> {
        let end = start.saturating_add(count).min(self.len);
        let mut skip = start.min(end) + self.head;
        let mut left = end.saturating_sub(start);
        self.chunks.iter().filter_map(move |chunk| {
            let rows = chunk.ends.len();
            let from = skip.min(rows);
            skip -= from;
            let take = (rows - from).min(left);
            left -= take;
            (take > 0).then_some((&**chunk, from..from + take))
        })
    }

    /// Appends rows `start .. start + count` (clamped) of `other`, a run of rows at a time: a
    /// run's bytes are one copy and its end offsets one shifted copy, with no UTF-8 check (they
    /// were checked when they came in). Each row goes where [`PlainStrings::push_bytes`] would
    /// put it.
    fn extend_range(&mut self, other: &PlainStrings, start: usize, count: usize) {
        for (chunk, rows) in other.spans(start, count) {
            let mut row = rows.start;
            while row < rows.end {
                row += self.extend_run(chunk, row, rows.end);
            }
        }
    }

    /// Copies rows `row ..` (before `stop`) of `chunk` onto the last chunk, as many as fit there
    /// (starting a chunk if the first does not); returns how many, at least one.
    fn extend_run(&mut self, chunk: &StrChunk, row: usize, stop: usize) -> usize {
        let base = chunk.end(row.wrapping_sub(1));
        let first = chunk.end(row).saturating_sub(base);
        let Some(last) = self.room_for(first) else {
            return stop - row;
        };
        // Rows fit while the chunk has room for them (`push_bytes`'s rule, row by row).
        let held = last.bytes.len();
        let room = (PLAIN_ROWS - last.ends.len()).min(stop - row);
        let mut n = 0;
        while n < room {
            let before = held + chunk.end((row + n).wrapping_sub(1)).saturating_sub(base);
            let after = held + chunk.end(row + n).saturating_sub(base);
            if n > 0 && before != 0 && after > PLAIN_BYTES {
                break;
            }
            n += 1;
        }
        let end = chunk.end(row + n - 1);
        last.bytes
            .extend_from_slice(chunk.bytes.get(base..end).unwrap_or_default());
        let shift = |e: u32| {
            (((e & !NULL_BIT) as usize).saturating_sub(base) + held) as u32 | (e & NULL_BIT)
        };
        last.ends.extend(
            chunk
                .ends
                .get(row..row + n)
                .unwrap_or_default()
                .iter()
                .map(|&e| shift(e)),
        );
        self.len += n;
        n
    }

    /// Appends `other`'s rows: its large chunks are moved over, not copied; small ones and a
    /// partly removed first chunk are copied row by row.
    fn append(&mut self, mut other: PlainStrings) {
        if other.head > 0
            && let Some(first) = other.chunks.front()
        {
            let rows = first.ends.len() - other.head;
            for value in other.range(0, rows).collect::<Vec<_>>() {
                self.push(value);
            }
            other.pop_front(rows);
        }
        if self.chunks.is_empty() {
            self.head = 0;
        }
        for mut chunk in other.chunks.drain(..) {
            let rows = chunk.ends.len();
            // A small chunk (a live frame's few rows) is copied onto the last one, as
            // `Chunked::append` does: a table that adopted every small batch would hold a chunk,
            // and its reserved room, per frame.
            if rows < PLAIN_ROWS / 8 {
                for row in 0..rows {
                    self.push(chunk.get(row).flatten());
                }
                continue;
            }
            // Kept chunks hold no more than an eighth unused: shrunk in place, or, if shared (a
            // batch queued on two tables), copied to their length.
            let loose = |c: &StrChunk| {
                c.ends.capacity() - rows > rows / 8
                    || c.bytes.capacity() - c.bytes.len() > c.bytes.len() / 8
            };
            if loose(&chunk) {
                match Arc::get_mut(&mut chunk) {
                    Some(own) => {
                        own.ends.shrink_to_fit();
                        own.bytes.shrink_to_fit();
                    }
                    None => chunk = Arc::new(StrChunk::clone(&chunk)),
                }
            }
            self.len += rows;
            self.chunks.push_back(chunk);
        }
    }

    #[inline]
    fn push(&mut self, value: Option<&str>) {
        self.push_bytes(value.map(str::as_bytes));
    }

    /// The chunk that grows, taken out (see [`Chunked::check_out`]): the last one while it has
    /// room for a row and `reuse` holds, else a new one as [`PlainStrings::push`] would start.
    fn check_out(&mut self, reuse: bool) -> StrChunk {
        let room = |c: &mut StrChunk| c.ends.len() < PLAIN_ROWS && c.bytes.len() < PLAIN_BYTES;
        if reuse
            && self.last_mut().is_some_and(room)
            && (self.chunks.len() > 1 || self.head == 0)
            && let Some(chunk) = self.chunks.pop_back()
        {
            self.len -= chunk.ends.len();
            return Arc::unwrap_or_clone(chunk);
        }
        self.fresh_chunk(0)
    }

    /// Puts back a chunk from [`PlainStrings::check_out`].
    fn check_in(&mut self, chunk: StrChunk) {
        if chunk.ends.is_empty() {
            if chunk.ends.capacity() > 0 {
                self.recycle(chunk);
            }
        } else {
            if self.chunks.is_empty() {
                self.head = 0;
            }
            self.len += chunk.ends.len();
            self.chunks.push_back(Arc::new(chunk));
        }
    }

    /// Appends a row of bytes: the caller has checked that they are UTF-8.
    #[inline]
    fn push_bytes(&mut self, value: Option<&[u8]>) {
        // The common case: the last chunk has room for the row and its bytes.
        if let (Some(chunk), Some(v)) = (self.last_mut(), value)
            && chunk.fits(v.len())
        {
            chunk.bytes.extend_from_slice(v);
            chunk.ends.push(chunk.bytes.len() as u32);
            self.len += 1;
            return;
        }
        self.push_slow(value);
    }

    #[inline(never)]
    fn push_slow(&mut self, value: Option<&[u8]>) {
        let add = value.map_or(0, <[u8]>::len);
        if let Some(chunk) = self.room_for(add) {
            let end = chunk.end(chunk.ends.len().wrapping_sub(1)) as u32;
            match value {
                None => chunk.ends.push(end | NULL_BIT),
                Some(v) => {
                    chunk.bytes.extend_from_slice(v);
                    chunk.ends.push(chunk.bytes.len() as u32);
                }
            }
            self.len += 1;
        }
    }

    fn get(&self, index: usize) -> Option<Option<&str>> {
        if index >= self.len {
            return None;
        }
        let mut i = index + self.head;
        for chunk in &self.chunks {
            if i < chunk.ends.len() {
                return chunk.get(i);
            }
            i -= chunk.ends.len();
        }
        None
    }

    fn pop_front(&mut self, count: usize) {
        let count = count.min(self.len);
        self.len -= count;
        let mut emptied = Vec::new();
        pop_chunks(
            &mut self.chunks,
            &mut self.head,
            count,
            |c: &Arc<StrChunk>| c.ends.len(),
            |c| emptied.push(c),
        );
        emptied.into_iter().for_each(|c| self.release(c));
    }

    fn truncate(&mut self, new_len: usize) {
        while self.len > new_len {
            let single = self.chunks.len() == 1;
            let Some(last) = self.chunks.back_mut() else {
                break;
            };
            let head = if single { self.head } else { 0 };
            let drop = (self.len - new_len).min(last.ends.len() - head);
            let keep = last.ends.len() - drop;
            self.len -= drop;
            // A chunk that goes whole is released as it is (a shared one is not copied first).
            if keep > head {
                let last = Arc::make_mut(last);
                last.ends.truncate(keep);
                let end = last.end(keep.wrapping_sub(1));
                last.bytes.truncate(end);
            } else {
                if let Some(chunk) = self.chunks.pop_back() {
                    self.release(chunk);
                }
                if self.chunks.is_empty() {
                    self.head = 0;
                }
            }
        }
    }

    fn clear(&mut self) {
        while let Some(chunk) = self.chunks.pop_front() {
            self.release(chunk);
        }
        self.head = 0;
        self.len = 0;
    }
    /// Keeps a chunk this column no longer holds as the spare, unless another still shares it.
    fn release(&mut self, chunk: Arc<StrChunk>) {
        if let Ok(chunk) = Arc::try_unwrap(chunk) {
            self.recycle(chunk);
        }
    }

    fn recycle(&mut self, mut chunk: StrChunk) {
        chunk.ends.clear();
        chunk.bytes.clear();
        if self
            .spare
            .as_ref()
            .is_none_or(|s| s.bytes.capacity() < chunk.bytes.capacity())
        {
            self.spare = Some(chunk);
        }
    }

    fn bytes_used(&self) -> usize {
        let mut used = 0;
        for (i, chunk) in self.chunks.iter().enumerate() {
            let skip = if i == 0 { self.head } else { 0 };
            let first = if skip == 0 { 0 } else { chunk.end(skip - 1) };
            used += (chunk.ends.len() - skip) * 4 + chunk.bytes.len() - first;
        }
        used
    }

    fn bytes_reserved(&self) -> usize {
        self.chunks
            .iter()
            .map(|c| &**c)
            .chain(self.spare.as_ref())
            .map(|c| c.ends.capacity() * 4 + c.bytes.capacity())
            .sum()
    }
}

/// A string column's growing storage, checked out by [`StringColumn::check_out`].
#[derive(Debug, Clone, Default)]
pub enum StrLane {
    /// Nothing checked out.
    #[default]
    Idle,
    /// Codes in the column's dictionary ([`NULL_CODE`] for null).
    Codes(ChunkLane<u32>),
    /// A chunk of plain strings.
    Plain(StrChunk),
}

impl StrLane {
    /// Rows in the lane.
    pub fn rows(&self) -> usize {
        match self {
            StrLane::Idle => 0,
            StrLane::Codes(c) => c.len(),
            StrLane::Plain(c) => c.rows(),
        }
    }
}

/// A column of nullable strings.
#[derive(Debug, Clone)]
pub struct StringColumn {
    repr: Repr,
}

impl Default for StringColumn {
    fn default() -> Self {
        Self::new()
    }
}

impl StringColumn {
    pub fn new() -> Self {
        Self {
            repr: Repr::Dict {
                codes: Chunked::new(),
                dict: Dictionary::new(),
            },
        }
    }

    /// An empty column stored as this one is (a dictionary, or plain strings), with room for
    /// `capacity` rows: a decoder's next batch of a column whose strings are mostly distinct
    /// starts plain instead of hashing its first thousand strings again. A small dictionary is
    /// copied (with a new id): the next batch's dictionary extends this one's, so a table fed
    /// both keeps their codes ([`StringColumn::append`]).
    pub fn empty_like(&self, capacity: usize) -> Self {
        match &self.repr {
            Repr::Dict { dict, .. } if dict.len() <= SEED_ENTRIES => Self {
                repr: Repr::Dict {
                    codes: Chunked::with_capacity(capacity),
                    dict: dict.clone(),
                },
            },
            Repr::Dict { .. } => Self::with_capacity(capacity),
            Repr::Plain(_) => Self {
                repr: Repr::Plain(PlainStrings::default()),
            },
        }
    }

    /// A dictionary column whose first chunk of codes holds `capacity` rows.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            repr: Repr::Dict {
                codes: Chunked::with_capacity(capacity),
                dict: Dictionary::new(),
            },
        }
    }

    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Dict { codes, .. } => codes.len(),
            Repr::Plain(plain) => plain.len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether rows hold dictionary codes.
    pub fn is_dictionary(&self) -> bool {
        matches!(self.repr, Repr::Dict { .. })
    }

    /// The dictionary, while the column has one.
    pub fn dictionary(&self) -> Option<&Dictionary> {
        match &self.repr {
            Repr::Dict { dict, .. } => Some(dict),
            Repr::Plain(_) => None,
        }
    }

    /// The codes, while the column is a dictionary column.
    pub fn codes(&self) -> Option<&Chunked<u32>> {
        match &self.repr {
            Repr::Dict { codes, .. } => Some(codes),
            Repr::Plain(_) => None,
        }
    }

    /// Appends a value (`None` is null).
    #[inline]
    pub fn push(&mut self, value: Option<&str>) {
        match &mut self.repr {
            Repr::Dict { codes, dict } => {
                let code = dict.intern_or_null(value);
                codes.push(code);
                self.maybe_go_plain();
            }
            Repr::Plain(plain) => plain.push(value),
        }
    }

    /// Appends `bytes` as a string if they are UTF-8 (returns false, appending nothing, if not).
    /// Plain storage takes ASCII bytes as they are, without building a `&str`.
    #[inline]
    pub fn push_utf8(&mut self, bytes: &[u8]) -> bool {
        match &mut self.repr {
            // ASCII is UTF-8.
            Repr::Plain(plain) if bytes.is_ascii() => {
                plain.push_bytes(Some(bytes));
                true
            }
            _ => match std::str::from_utf8(bytes) {
                Ok(s) => {
                    self.push(Some(s));
                    true
                }
                Err(_) => false,
            },
        }
    }

    /// The identity of this column's dictionary while it has one: codes from
    /// [`StringColumn::push_interned`] stay valid for [`StringColumn::push_code`] while it is the same.
    pub fn dictionary_id(&self) -> Option<u64> {
        match &self.repr {
            Repr::Dict { dict, .. } => Some(dict.id()),
            Repr::Plain(_) => None,
        }
    }

    /// Appends a value and returns its code, while the column is a dictionary column (a decoder
    /// can then append the same string again by code, without hashing it).
    pub fn push_interned(&mut self, value: &str) -> Option<u32> {
        let code = match &mut self.repr {
            Repr::Dict { codes, dict } => {
                let code = dict.intern(value);
                codes.push(code);
                Some(code)
            }
            Repr::Plain(plain) => {
                plain.push(Some(value));
                None
            }
        };
        self.maybe_go_plain();
        code.filter(|_| self.is_dictionary())
    }

    /// Appends the string of `code` in this column's own dictionary. Returns false, appending
    /// nothing, if the column has no dictionary or no such code.
    #[inline(always)]
    pub fn push_code(&mut self, code: u32) -> bool {
        match &mut self.repr {
            Repr::Dict { codes, dict } if (code as usize) < dict.len() => {
                codes.push(code);
                self.maybe_go_plain();
                true
            }
            _ => false,
        }
    }

    /// Appends rows by their codes in this column's own dictionary (a code it lacks is a null),
    /// then turns the column plain if it has grown past its dictionary's limits; false, with
    /// nothing appended, if the column has no dictionary.
    #[cfg_attr(streamglass_site, optimize(speed))]
    pub fn extend_codes(&mut self, source: impl Iterator<Item = u32>) -> bool {
        let Repr::Dict { codes, dict } = &mut self.repr else {
            return false;
        };
        let n = u32::try_from(dict.len()).unwrap_or(NULL_CODE);
        let mut block = [0u32; 256];
        let mut filled = 0;
        for code in source {
            block[filled] = known_code(code, n);
            filled += 1;
            if filled == block.len() {
                codes.extend_from_slice(&block);
                filled = 0;
            }
        }
        codes.extend_from_slice(&block[..filled]);
        self.maybe_go_plain();
        true
    }

    /// Adds `value` to the dictionary without appending a row, while the column has one: its
    /// code, for a [`StrLane::Codes`].
    pub fn intern(&mut self, value: &str) -> Option<u32> {
        match &mut self.repr {
            Repr::Dict { dict, .. } => Some(dict.intern(value)),
            Repr::Plain(_) => None,
        }
    }

    /// Drops the dictionary's entries from `len` on, while the column has one: the entries a
    /// writer interned for a record that then failed ([`StringColumn::intern`]), which no row
    /// holds. Codes from `len` on are free again.
    pub(crate) fn cut_dictionary(&mut self, len: usize) {
        if let Repr::Dict { dict, codes } = &mut self.repr {
            debug_assert!(!codes.slices().any(|c| any_past(c, len)));
            dict.truncate(len);
        }
    }

    /// Whether the column would turn plain with `extra` more rows than it has (the rows of a
    /// checked-out [`StrLane`]): a writer checks its lane in when this becomes true.
    pub fn goes_plain_with(&self, extra: usize) -> bool {
        let Repr::Dict { codes, dict } = &self.repr else {
            return false;
        };
        let distinct = dict.len();
        distinct > DICT_LIMIT || (distinct > DICT_MIN && distinct * 2 > codes.len() + extra)
    }

    /// Takes out the storage that grows, for a writer of many rows (a decoder's batch): codes
    /// while the column is a dictionary column, else a chunk of plain strings. The rows pushed
    /// into it count once it is checked in ([`StringColumn::check_in`]); until then the column
    /// may only intern ([`StringColumn::intern`]).
    pub fn check_out(&mut self) -> StrLane {
        match &mut self.repr {
            Repr::Dict { codes, .. } => StrLane::Codes(ChunkLane::new(codes.check_out())),
            Repr::Plain(plain) => StrLane::Plain(plain.check_out(true)),
        }
    }

    /// Checks in a full lane and checks out a new one of the same storage: a dictionary column
    /// does not turn plain here (the writer holds codes for it), but at the next
    /// [`StringColumn::check_in`] (see [`StringColumn::goes_plain_with`]).
    pub fn renew(&mut self, lane: &mut StrLane) {
        let old = std::mem::take(lane);
        let plain = matches!(old, StrLane::Plain(_));
        self.check_in_as(old, false);
        *lane = match &mut self.repr {
            Repr::Plain(p) if plain => StrLane::Plain(p.check_out(false)),
            _ => self.check_out(),
        };
    }

    /// Puts back a lane from [`StringColumn::check_out`], its rows now the column's last.
    pub fn check_in(&mut self, lane: StrLane) {
        self.check_in_as(lane, true);
    }

    fn check_in_as(&mut self, lane: StrLane, may_turn_plain: bool) {
        match (&mut self.repr, lane) {
            (_, StrLane::Idle) => {}
            (Repr::Dict { codes, dict }, StrLane::Codes(mut lane)) => {
                let mut lane = lane.take();
                // Codes come from this dictionary: keep the invariant whatever the writer did.
                let n = u32::try_from(dict.len()).unwrap_or(NULL_CODE);
                if any_past(&lane, dict.len()) {
                    lane.iter_mut().for_each(|c| *c = known_code(*c, n));
                }
                codes.check_in(lane);
                if may_turn_plain {
                    self.maybe_go_plain();
                }
            }
            (Repr::Plain(plain), StrLane::Plain(chunk)) => plain.check_in(chunk),
            // The column changed storage with the lane out (a writer's mistake): the rows keep
            // their count.
            (_, StrLane::Plain(chunk)) => {
                (0..chunk.rows()).for_each(|row| self.push(chunk.get(row).flatten()));
            }
            (_, StrLane::Codes(lane)) => (0..lane.len()).for_each(|_| self.push(None)),
        }
    }

    /// Appends codes of `source` (a dictionary that is not this column's), translating them
    /// through a small table built once per call: the fast path for dictionary-coded batches.
    pub fn extend_from_codes(&mut self, source: &Dictionary, source_codes: &[u32]) {
        if let Repr::Dict { codes, dict } = &mut self.repr {
            // A source dictionary that extends this one (a dropStream's copy of its parent, each
            // cycle): the same codes, as in `append`. (Codes past the source dictionary would
            // break this column's invariant: those take the translation, which makes them null.)
            if !any_past(source_codes, source.len()) && dict.catch_up(source, source_codes.len()) {
                codes.extend_from_slice(source_codes);
                self.maybe_go_plain();
                return;
            }
            // Translate only the codes this batch uses: a large source dictionary costs nothing
            // beyond them, and unused strings are not copied in.
            let mut remap = vec![NULL_CODE; source.len()];
            let mut block = [0u32; 1024];
            for chunk in source_codes.chunks(block.len()) {
                for (out, &c) in block.iter_mut().zip(chunk) {
                    *out = match remap.get_mut(c as usize) {
                        Some(slot) if *slot == NULL_CODE => {
                            *slot = dict.intern_or_null(source.get(c));
                            *slot
                        }
                        Some(slot) => *slot,
                        None => NULL_CODE,
                    };
                }
                codes.extend_from_slice(&block[..chunk.len()]);
            }
            self.maybe_go_plain();
        } else {
            for &c in source_codes {
                self.push(source.get(c));
            }
        }
    }

    /// Moves every row of `other` to the back. Between dictionary columns the codes are
    /// translated in place and their chunks adopted ([`Chunked::append`]), so no row is copied;
    /// otherwise rows are copied.
    pub fn append(&mut self, other: StringColumn) {
        match (&mut self.repr, other.repr) {
            (
                Repr::Dict { codes, dict },
                Repr::Dict {
                    codes: mut source_codes,
                    dict: source,
                },
            ) => {
                // A source dictionary that extends this one (a decoder's batches, see
                // `empty_like`) has the same codes: its new strings are added in order, and the
                // codes move over as they are.
                if dict.catch_up(&source, source_codes.len()) {
                    codes.append(source_codes);
                    self.maybe_go_plain();
                    return;
                }
                // Every source string is interned up front when the source dictionary is no
                // larger than the rows (a batch's own); else only those the rows use.
                let mut remap = vec![NULL_CODE; source.len()];
                if source.len() <= source_codes.len() {
                    for (code, slot) in remap.iter_mut().enumerate() {
                        *slot = dict.intern_or_null(source.get(code as u32));
                    }
                    for slice in source_codes.slices_mut() {
                        for c in slice {
                            *c = remap.get(*c as usize).copied().unwrap_or(NULL_CODE);
                        }
                    }
                } else {
                    for c in source_codes.slices_mut().flatten() {
                        *c = match remap.get_mut(*c as usize) {
                            Some(slot) if *slot == NULL_CODE => {
                                *slot = dict.intern_or_null(source.get(*c));
                                *slot
                            }
                            Some(slot) => *slot,
                            None => NULL_CODE,
                        }
                    }
                }
                codes.append(source_codes);
                self.maybe_go_plain();
            }
            (Repr::Plain(plain), Repr::Plain(other)) => plain.append(other),
            (_, repr) => {
                let other = StringColumn { repr };
                other.extend_into(self, 0, other.len());
            }
        }
    }

    /// Appends rows `start .. start + count` (clamped) of `other`. Between dictionary columns
    /// whose dictionaries agree (this one catches up with `other`'s, as a mirror's does each
    /// cycle), the code chunks are shared ([`Chunked::extend_shared`]); otherwise rows are copied.
    pub fn extend_shared(&mut self, other: &StringColumn, start: usize, count: usize) {
        if let (
            Repr::Dict { codes, dict },
            Repr::Dict {
                codes: from,
                dict: source,
            },
        ) = (&mut self.repr, &other.repr)
            && dict.catch_up(source, usize::MAX)
        {
            codes.extend_shared(from, start, count);
            self.maybe_go_plain();
            return;
        }
        match (&other.dictionary(), other.codes()) {
            (Some(dict), Some(codes)) => codes
                .slices_range(start, count)
                .for_each(|s| self.extend_from_codes(dict, s)),
            _ => other.extend_into(self, start, count),
        }
    }

    /// Pushes rows `start .. start + count` (clamped) of this column onto `to`.
    pub fn extend_into(&self, to: &mut StringColumn, start: usize, count: usize) {
        match &self.repr {
            Repr::Plain(plain) => match &mut to.repr {
                Repr::Plain(into) => into.extend_range(plain, start, count),
                Repr::Dict { .. } => plain.range(start, count).for_each(|v| to.push(v)),
            },
            Repr::Dict { .. } => {
                let end = start.saturating_add(count).min(self.len());
                (start..end).for_each(|i| to.push(self.get(i).flatten()));
            }
        }
    }

    /// Replaces the value at `index` (`None` is null). Only a dictionary column can change a
    /// row in place: `false` (and no change) for plain storage or an index past the end.
    pub fn set(&mut self, index: usize, value: Option<&str>) -> bool {
        let Repr::Dict { codes, dict } = &mut self.repr else {
            return false;
        };
        if index >= codes.len() {
            return false;
        }
        let code = dict.intern_or_null(value);
        if let Some(slot) = codes.get_mut(index) {
            *slot = code;
        }
        self.maybe_go_plain();
        true
    }

    /// Calls `f` with every row's value in order (`None` for null), in one pass over the
    /// storage: what an export reads (plain strings found one by one take a chunk search each).
    pub fn for_each<'a>(&'a self, mut f: impl FnMut(Option<&'a str>)) {
        match &self.repr {
            Repr::Dict { codes, dict } => codes
                .slices()
                .for_each(|s| s.iter().for_each(|&c| f(dict.get(c)))),
            Repr::Plain(plain) => {
                let mut skip = plain.head;
                for chunk in &plain.chunks {
                    for row in skip..chunk.rows() {
                        f(chunk.get(row).flatten());
                    }
                    skip = 0;
                }
            }
        }
    }

    /// The value at `index`: `None` past the end, `Some(None)` for null.
    pub fn get(&self, index: usize) -> Option<Option<&str>> {
        match &self.repr {
            Repr::Dict { codes, dict } => {
                let code = codes.get(index)?;
                Some(dict.get(code))
            }
            Repr::Plain(plain) => plain.get(index),
        }
    }

    /// Removes `count` rows from the front.
    pub fn pop_front(&mut self, count: usize) {
        match &mut self.repr {
            Repr::Dict { codes, .. } => codes.pop_front(count),
            Repr::Plain(plain) => plain.pop_front(count),
        }
    }

    /// Keeps the first `new_len` rows, dropping the rest from the back. Strings that only the
    /// dropped rows used stay in the dictionary (it is bounded, see [`DICT_LIMIT`]).
    pub fn truncate(&mut self, new_len: usize) {
        match &mut self.repr {
            Repr::Dict { codes, .. } => codes.truncate(new_len),
            Repr::Plain(plain) => plain.truncate(new_len),
        }
    }

    /// Removes every row, keeping storage (and the dictionary) for reuse.
    pub fn clear(&mut self) {
        match &mut self.repr {
            Repr::Dict { codes, .. } => codes.clear(),
            Repr::Plain(plain) => plain.clear(),
        }
    }

    pub fn bytes_used(&self) -> usize {
        match &self.repr {
            Repr::Dict { codes, dict } => codes.bytes_used() + dict.bytes,
            Repr::Plain(plain) => plain.bytes_used(),
        }
    }

    pub fn bytes_reserved(&self) -> usize {
        match &self.repr {
            Repr::Dict { codes, dict } => codes.bytes_reserved() + dict.bytes_reserved(),
            Repr::Plain(plain) => plain.bytes_reserved(),
        }
    }

    #[inline]
    fn maybe_go_plain(&mut self) {
        let Repr::Dict { codes, dict } = &self.repr else {
            return;
        };
        let distinct = dict.len();
        let high = distinct > DICT_LIMIT || (distinct > DICT_MIN && distinct * 2 > codes.len());
        if high {
            self.go_plain();
        }
    }

    #[cold]
    fn go_plain(&mut self) {
        let Repr::Dict { codes, dict } = &self.repr else {
            return;
        };
        let mut plain = PlainStrings::default();
        for slice in codes.slices() {
            for &code in slice {
                plain.push(dict.get(code));
            }
        }
        self.repr = Repr::Plain(plain);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::column::Column;
    use proptest::prelude::*;

    fn arb_value() -> impl Strategy<Value = Option<String>> {
        proptest::option::weighted(0.9, "[a-zé€]{0,12}")
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// A run of rows takes what the rows pushed one by one would, into the same chunk.
        #[test]
        fn a_run_takes_what_row_by_row_pushes_take(
            before in proptest::collection::vec(proptest::option::of(0..70_000usize), 0..8),
            rows in proptest::collection::vec(
                proptest::option::of(prop_oneof![20 => 0..100usize, 1 => 0..300_000usize]),
                0..6_000,
            ),
            start in 0..3usize,
        ) {
            const NULL: usize = 1 << (usize::BITS - 1);
            let fill = |chunk: &mut StrChunk, rows: &[Option<usize>]| {
                for r in rows {
                    let _ = match r {
                        Some(n) => chunk.try_push(&vec![b'b'; *n]),
                        None => chunk.try_push_null(),
                    };
                }
            };
            let mut text = vec![b'x'; start];
            let mut ends = Vec::new();
            for (i, r) in rows.iter().enumerate() {
                match r {
                    Some(n) => {
                        text.extend((0..*n).map(|j| b'a' + ((i + j) % 26) as u8));
                        ends.push(text.len());
                    }
                    None => ends.push(text.len() | NULL),
                }
            }
            let (mut run, mut one) = (StrChunk::default(), StrChunk::default());
            fill(&mut run, &before);
            fill(&mut one, &before);
            let taken = run.push_run(&text, &ends, NULL, start);
            let mut at = start;
            let mut expected = 0;
            for &e in &ends {
                let pushed = match e & NULL {
                    0 => one.try_push(&text[at..e]),
                    _ => one.try_push_null(),
                };
                if !pushed {
                    break;
                }
                at = e & !NULL;
                expected += 1;
            }
            prop_assert_eq!(taken, expected);
            prop_assert_eq!(&run.ends, &one.ends);
            prop_assert!(run.bytes == one.bytes);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        /// Whatever the representation, the column reads back what was written, in FIFO order.
        #[test]
        fn reads_back_like_a_deque(
            batches in proptest::collection::vec(
                (proptest::collection::vec(arb_value(), 0..3_000), 0usize..2_500, 0u8..5, 0usize..400), 1..6),
            distinct in 1usize..5_000,
        ) {
            let mut column = StringColumn::new();
            let mut model = std::collections::VecDeque::new();
            // A decoder's column: each batch starts as `empty_like` the one before.
            let mut decoder = StringColumn::new();
            for (values, pop, how, take_back) in batches {
                // Row by row, or as a batch column that is copied in or adopted.
                let mut batch = if how == 4 {
                    decoder.empty_like(values.len())
                } else {
                    StringColumn::new()
                };
                for v in &values {
                    // Bound the cardinality so both representations are exercised.
                    let v = v.as_ref().map(|s| format!("{s}{}", s.len() % distinct));
                    if how == 0 {
                        column.push(v.as_deref());
                    } else {
                        batch.push(v.as_deref());
                    }
                    model.push_back(v);
                }
                match how {
                    1 => column.append(batch),
                    4 => {
                        decoder = batch.empty_like(0);
                        column.append(batch);
                    }
                    // A batch whose first rows were removed before it is adopted.
                    3 => {
                        let removed = values.len() / 3;
                        batch.pop_front(removed);
                        let first = model.len() - values.len();
                        model.drain(first..first + removed);
                        column.append(batch);
                    }
                    2 => {
                        let mut whole = Column::String(StringColumn::new());
                        whole.extend_from(&Column::String(batch));
                        if let Column::String(copied) = whole {
                            column.append(copied);
                        }
                    }
                    _ => {}
                }
                let keep = model.len().saturating_sub(take_back);
                column.truncate(keep);
                model.truncate(keep);
                column.pop_front(pop);
                for _ in 0..pop.min(model.len()) {
                    model.pop_front();
                }
                prop_assert_eq!(column.len(), model.len());
                for (i, expected) in model.iter().enumerate().step_by(97) {
                    prop_assert_eq!(column.get(i), Some(expected.as_deref()));
                }
                // A range copy reads the same rows.
                let (from, count) = (pop % (model.len() + 1), take_back * 7);
                let mut copy = StringColumn::new();
                column.extend_into(&mut copy, from, count);
                let want: Vec<_> = model.iter().skip(from).take(count).cloned().collect();
                prop_assert_eq!(copy.len(), want.len());
                for (i, expected) in want.iter().enumerate() {
                    prop_assert_eq!(copy.get(i), Some(expected.as_deref()));
                }
                prop_assert_eq!(column.get(model.len()), None);
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        /// A range copy between plain columns puts every row where pushing it would: the same
        /// chunks, offsets and bytes, across full chunks (by rows and by bytes), nulls, long
        /// strings and a source whose first rows were removed.
        #[test]
        fn plain_range_copies_place_rows_as_pushes_do(
            rows in proptest::collection::vec(proptest::option::weighted(0.9, prop_oneof![
                8 => "[a-z]{0,8}",
                1 => (60_000usize..140_000).prop_map(|n| "y".repeat(n)),
            ]), 0..60),
            repeat in 1usize..80,
            prefill in proptest::collection::vec(proptest::option::of("[a-z]{0,5}"), 0..50),
            popped in 0usize..500,
            target_popped in 0usize..30,
            start in 0usize..3_000,
            count in 0usize..6_000,
        ) {
            let mut source = PlainStrings::default();
            for _ in 0..repeat {
                rows.iter().for_each(|v| source.push(v.as_deref()));
            }
            source.pop_front(popped);
            let (mut copied, mut pushed) = (PlainStrings::default(), PlainStrings::default());
            for v in &prefill {
                copied.push(v.as_deref());
                pushed.push(v.as_deref());
            }
            copied.pop_front(target_popped);
            pushed.pop_front(target_popped);
            copied.extend_range(&source, start, count);
            source.range(start, count).for_each(|v| pushed.push(v));
            // Both read back the rows themselves.
            let all: Vec<Option<String>> = (0..repeat).flat_map(|_| rows.iter().cloned()).collect();
            let want: Vec<Option<&str>> =
                all.iter().skip(popped).skip(start).take(count).map(Option::as_deref).collect();
            let kept = prefill.len().saturating_sub(target_popped);
            let got: Vec<Option<&str>> =
                (kept..copied.len).map(|i| copied.get(i).flatten()).collect();
            prop_assert_eq!(got, want);
            prop_assert_eq!(copied.len, pushed.len);
            prop_assert_eq!(copied.head, pushed.head);
            prop_assert_eq!(copied.chunks.len(), pushed.chunks.len());
            for (a, b) in copied.chunks.iter().zip(&pushed.chunks) {
                prop_assert_eq!(&a.ends, &b.ends);
                prop_assert!(a.bytes == b.bytes);
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        /// `push_utf8` (ASCII straight into plain storage) appends what `from_utf8` and `push`
        /// would, in both representations, and nothing for bytes that are not UTF-8.
        #[test]
        fn push_utf8_is_from_utf8_then_push(
            rows in proptest::collection::vec(
                prop_oneof![
                    "[a-z0-9]{0,12}".prop_map(String::into_bytes),
                    "[a-zé€]{0,6}".prop_map(String::into_bytes),
                    proptest::collection::vec(any::<u8>(), 0..8),
                ],
                0..200,
            ),
            plain in any::<bool>(),
        ) {
            let (mut fast, mut model) = (StringColumn::new(), StringColumn::new());
            if plain {
                for i in 0..3_000 {
                    let v = format!("warm-{i}");
                    fast.push(Some(&v));
                    model.push(Some(&v));
                }
                prop_assert!(!fast.is_dictionary());
            }
            for bytes in &rows {
                let pushed = fast.push_utf8(bytes);
                match std::str::from_utf8(bytes) {
                    Ok(s) => {
                        prop_assert!(pushed);
                        model.push(Some(s));
                    }
                    Err(_) => prop_assert!(!pushed),
                }
                prop_assert_eq!(fast.len(), model.len());
            }
            for i in 0..model.len() {
                prop_assert_eq!(fast.get(i), model.get(i));
            }
        }
    }

    #[test]
    fn low_cardinality_stays_a_dictionary_high_goes_plain() {
        let mut low = StringColumn::new();
        for i in 0..100_000 {
            low.push(Some(["binance", "kraken", "gemini"][i % 3]));
        }
        assert!(low.is_dictionary());
        assert_eq!(low.dictionary().map(Dictionary::len), Some(3));
        assert!(low.bytes_used() < 100_000 * 4 + 100);

        let mut high = StringColumn::new();
        for i in 0..100_000 {
            high.push(Some(&format!("trade-{i}")));
        }
        assert!(!high.is_dictionary());
        assert_eq!(high.get(99_999), Some(Some("trade-99999")));
        let used = high.bytes_used();
        high.pop_front(90_000);
        assert!(
            high.bytes_used() < used / 5,
            "removed rows' bytes are released"
        );
        assert_eq!(high.get(0), Some(Some("trade-90000")));
    }

    #[test]
    fn a_decoders_batches_extend_one_dictionary_and_keep_their_codes() {
        let (mut column, mut decoder) = (StringColumn::new(), StringColumn::new());
        for batch in [
            ["kraken", "binance"],
            ["binance", "gemini"],
            ["lgo", "kraken"],
        ] {
            let mut next = decoder.empty_like(2);
            batch.iter().for_each(|v| next.push(Some(v)));
            decoder = next.empty_like(0);
            let codes: Vec<u32> = next
                .codes()
                .into_iter()
                .flat_map(Chunked::slices)
                .flatten()
                .copied()
                .collect();
            let start = column.len();
            column.append(next);
            // The codes moved over as they were, into the same dictionary.
            let moved: Vec<u32> = column
                .codes()
                .into_iter()
                .flat_map(|c| c.slices())
                .flatten()
                .skip(start)
                .copied()
                .collect();
            assert_eq!(moved, codes);
            assert!(
                column
                    .dictionary()
                    .is_some_and(|d| d.extends(decoder.dictionary().unwrap_or(&Dictionary::new())))
            );
        }
        let got: Vec<_> = (0..6).map(|i| column.get(i).flatten()).collect();
        assert_eq!(got.iter().flatten().count(), 6);
        assert_eq!(
            got,
            [
                Some("kraken"),
                Some("binance"),
                Some("binance"),
                Some("gemini"),
                Some("lgo"),
                Some("kraken")
            ]
        );
        assert_eq!(column.dictionary().map(Dictionary::len), Some(4));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Copying a range of a dictionary column (as dropStream and row-wise operators do) reads
        /// back the source's rows, whether the target's dictionary is a prefix of the source's
        /// (the codes are kept) or not (they are translated).
        #[test]
        fn dictionary_range_copies_read_back_the_rows(
            source_rows in proptest::collection::vec(proptest::option::weighted(0.9, 0u8..12), 0..300),
            prefill in proptest::collection::vec(proptest::option::weighted(0.9, 0u8..12), 0..20),
            copies in proptest::collection::vec((0usize..300, 0usize..300), 1..4),
            same_start in any::<bool>(),
        ) {
            let name = |v: &Option<u8>| v.map(|n| format!("v{n}"));
            let mut source = StringColumn::new();
            let mut target = StringColumn::new();
            let mut model: Vec<Option<String>> = Vec::new();
            // A target fed from the source from the start has a prefix of its dictionary.
            let first: Vec<_> = if same_start { source_rows.iter().take(prefill.len()).collect() } else { prefill.iter().collect() };
            for v in &first {
                target.push(name(v).as_deref());
                model.push(name(v));
            }
            source_rows.iter().for_each(|v| source.push(name(v).as_deref()));
            let source = Column::String(source);
            let mut target = Column::String(target);
            for (start, count) in copies {
                prop_assert!(target.extend_from_range(&source, start, count));
                model.extend(source_rows.iter().skip(start).take(count).map(name));
            }
            let Column::String(target) = target else { unreachable!() };
            prop_assert_eq!(target.len(), model.len());
            for (i, want) in model.iter().enumerate() {
                prop_assert_eq!(target.get(i), Some(want.as_deref()));
            }
        }
    }

    #[test]
    fn plain_range_copies_start_and_end_anywhere() {
        // Chunks end by bytes (every fifth row is long) and by rows; the first rows are popped.
        let rows: Vec<Option<String>> = (0..9_000)
            .map(|i| match i % 5 {
                _ if i % 7 == 3 => None,
                0 if i < 60 => Some("y".repeat(100_000 + i)),
                _ => Some(format!("r{i}")),
            })
            .collect();
        let mut source = PlainStrings::default();
        rows.iter().for_each(|v| source.push(v.as_deref()));
        source.pop_front(2);
        let rows = &rows[2..];
        let starts = (0..80).chain([4_090, 4_094, 4_095, 4_096, 8_180, 8_190]);
        for start in starts {
            for count in [0, 1, 5, 4_100] {
                let mut copied = PlainStrings::default();
                copied.push(Some("before"));
                copied.extend_range(&source, start, count);
                let want: Vec<Option<&str>> = rows
                    .iter()
                    .skip(start)
                    .take(count)
                    .map(Option::as_deref)
                    .collect();
                let got: Vec<Option<&str>> =
                    (1..copied.len).map(|i| copied.get(i).flatten()).collect();
                assert_eq!(got, want, "rows {start}, {count}");
            }
        }
    }

    #[test]
    fn clones_share_chunks_but_never_each_others_writes() {
        // Plain strings, and dictionary codes, each as a batch cloned onto two columns.
        let values: Vec<String> = (0..5_000).map(|i| format!("trade-{i}")).collect();
        let few: Vec<&str> = (0..5_000)
            .map(|i| ["BTC/USD", "ETH/USD", "SOL/USD"][i % 3])
            .collect();
        for strings in [values.iter().map(String::as_str).collect::<Vec<_>>(), few] {
            let mut batch = StringColumn::new();
            strings.iter().for_each(|v| batch.push(Some(v)));
            let read = |c: &StringColumn| -> Vec<Option<String>> {
                (0..c.len())
                    .map(|i| c.get(i).flatten().map(str::to_owned))
                    .collect()
            };
            let want = read(&batch);
            // Columns stored as the batch is (plain strings adopt its chunks); of the dictionary
            // ones, `second`'s dictionary differs, so it translates (rewrites) the codes.
            let (mut first, mut second) = (batch.empty_like(0), batch.empty_like(0));
            second.push(Some("LTC/USD"));
            first.append(batch.clone());
            second.append(batch.clone());
            first.push(Some("after"));
            first.truncate(want.len());
            let mut clone = batch.clone();
            clone.push(Some("pushed"));
            clone.truncate(10);
            clone.pop_front(3);
            assert_eq!(read(&batch), want);
            assert_eq!(read(&first), want);
            assert_eq!(read(&second)[1..], want[..]);
            assert_eq!(read(&clone), want[3..10]);
        }
    }

    /// A plain column adopting batches it shares with another (far from full ones among them)
    /// holds no more than an eighth unused.
    #[test]
    fn shared_plain_batches_are_kept_within_an_eighth_of_their_length() {
        let (mut append, mut stream) = (PlainStrings::default(), PlainStrings::default());
        for batch in 0..100 {
            let mut rows = PlainStrings::default();
            (0..600).for_each(|i| rows.push(Some(&format!("trade-{batch}-{i}"))));
            append.append(rows.clone());
            stream.clear();
            stream.append(rows);
        }
        let (used, reserved) = (append.bytes_used(), append.bytes_reserved());
        assert!(
            reserved as f64 <= used as f64 * 1.15,
            "{reserved} bytes reserved for {used} used"
        );
    }

    #[test]
    fn a_batch_with_a_dictionary_larger_than_its_rows_brings_only_the_strings_they_use() {
        let mut batch = StringColumn::new();
        (0..100).for_each(|i| batch.push(Some(&format!("s{i}"))));
        batch.pop_front(98);
        let mut column = StringColumn::new();
        column.append(batch);
        assert_eq!(column.dictionary().map(Dictionary::len), Some(2));
        assert_eq!(
            (column.get(0), column.get(1)),
            (Some(Some("s98")), Some(Some("s99")))
        );
        // An empty batch brings none.
        let mut empty = StringColumn::new();
        empty.push(Some("unused"));
        empty.pop_front(1);
        column.append(empty);
        assert_eq!(column.dictionary().map(Dictionary::len), Some(2));
    }

    #[test]
    fn codes_past_the_source_dictionary_copy_as_nulls() {
        let mut source = Dictionary::new();
        let a = source.intern("BTC/USD");
        let mut column = StringColumn::new();
        column.extend_from_codes(&source, &[a, 7, a, NULL_CODE]);
        let got: Vec<_> = (0..4).map(|i| column.get(i).flatten()).collect();
        assert_eq!(got, [Some("BTC/USD"), None, Some("BTC/USD"), None]);
    }

    #[test]
    fn codes_from_another_dictionary_are_translated() {
        let mut source = Dictionary::new();
        let (a, b) = (source.intern("BTC/USD"), source.intern("ETH/USD"));
        let mut column = StringColumn::new();
        column.push(Some("ETH/USD"));
        column.extend_from_codes(&source, &[a, b, NULL_CODE, a]);
        let got: Vec<_> = (0..5).map(|i| column.get(i).flatten()).collect();
        assert_eq!(
            got,
            [
                Some("ETH/USD"),
                Some("BTC/USD"),
                Some("ETH/USD"),
                None,
                Some("BTC/USD")
            ]
        );
        assert_eq!(column.dictionary().map(Dictionary::len), Some(2));
    }
}
