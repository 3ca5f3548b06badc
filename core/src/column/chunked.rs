//! [`Chunked<T>`]: a growable FIFO sequence of plain values, stored in chunks.
//!
//! Growth adds a chunk and never copies existing ones, so appending never holds twice the data
//! even for a moment. Chunk capacities start small and double up to [`MAX_CHUNK`] elements, so a
//! small table stays small and a large one wastes at most one partly filled chunk.
//! Removing from the front ([`Chunked::pop_front`]) releases whole chunks, and [`Chunked::clear`]
//! keeps them on a free list for reuse: a stream table that refills every cycle allocates nothing
//! in the steady state.
//!
//! An owned `Chunked` can also be *adopted* ([`Chunked::append`]): its chunks move over without
//! copying a value, which is how a source table takes a batch the decoder just filled.
//!
//! Chunks are shared between clones (`Arc`): a batch queued on two tables (an append and a stream
//! table fed from one decode) is cloned by reference, and each table adopts the same chunks. A
//! shared chunk is never grown: a value that would go into it starts a new chunk instead. A change
//! to values already stored (rare: `get_mut`, `slices_mut`, `truncate`) copies a shared chunk
//! first (`Arc::make_mut`), so no sequence ever sees another's writes.
//!
//! Invariant: only the last chunk grows; `starts[i]` is the position of chunk `i`'s first value
//! counted from the first value ever stored (so a lookup is a binary search), and `len` is the sum
//! of the chunks' lengths minus `head` (the values already popped from the first chunk).

use std::collections::VecDeque;
use std::sync::Arc;

/// The largest chunk, in elements.
pub const MAX_CHUNK: usize = 1 << 16;
/// The first chunk, in elements.
pub const MIN_CHUNK: usize = 1 << 10;
/// The largest first chunk [`Chunked::with_capacity`] makes, in elements.
pub const MAX_FIRST: usize = 1 << 20;

/// Removes `count` elements from the front of a queue of chunks whose first `head` elements are
/// already gone, handing each emptied chunk to `emptied`. Shared by every chunked FIFO.
pub(crate) fn pop_chunks<C>(
    chunks: &mut VecDeque<C>,
    head: &mut usize,
    mut count: usize,
    len: impl Fn(&C) -> usize,
    mut emptied: impl FnMut(C),
) {
    while count > 0 {
        let Some(first) = chunks.front() else {
            break;
        };
        let available = len(first) - *head;
        if count < available {
            *head += count;
            break;
        }
        count -= available;
        *head = 0;
        if let Some(chunk) = chunks.pop_front() {
            emptied(chunk);
        }
    }
}

/// A FIFO sequence of `T` in chunks.
#[derive(Debug)]
pub struct Chunked<T> {
    /// A `Vec`, not a deque: appending looks at its last chunk with no wrap-around arithmetic,
    /// and removing whole chunks from the front moves a few pointers. Each chunk may be shared
    /// with clones of this sequence (see the module's notes).
    chunks: Vec<Arc<Vec<T>>>,
    /// Each chunk's first position (see the invariant).
    starts: Vec<usize>,
    /// Elements popped from the front of the first chunk.
    head: usize,
    len: usize,
    /// Emptied chunks kept for reuse (at most [`MAX_SPARE`]).
    spare: Vec<Vec<T>>,
}

/// Spare chunks kept at most.
const MAX_SPARE: usize = 4;

/// A clone shares the chunks (and has no spares of its own).
impl<T> Clone for Chunked<T> {
    fn clone(&self) -> Self {
        Self {
            chunks: self.chunks.clone(),
            starts: self.starts.clone(),
            head: self.head,
            len: self.len,
            spare: Vec::new(),
        }
    }
}

/// The chunk to write to, if it is not shared and has room for a value.
#[inline(always)]
fn writable<T>(chunk: &mut Arc<Vec<T>>) -> Option<&mut Vec<T>> {
    Arc::get_mut(chunk).filter(|c| c.len() < c.capacity())
}

impl<T> Default for Chunked<T> {
    fn default() -> Self {
        Self {
            chunks: Vec::new(),
            starts: Vec::new(),
            head: 0,
            len: 0,
            spare: Vec::new(),
        }
    }
}

impl<T: Copy> Chunked<T> {
    pub fn new() -> Self {
        Self::default()
    }

    /// A sequence whose first chunk holds `capacity` values (at most [`MAX_FIRST`]): a batch
    /// of known size fills one chunk, which a table then adopts whole.
    pub fn with_capacity(capacity: usize) -> Self {
        let mut c = Self::new();
        if capacity > 0 {
            c.push_chunk(Vec::with_capacity(capacity.min(MAX_FIRST)));
        }
        c
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn next_capacity(&self) -> usize {
        self.chunks.last().map_or(MIN_CHUNK, |c| {
            (c.capacity() * 2).clamp(MIN_CHUNK, MAX_CHUNK)
        })
    }

    /// A spare chunk (the largest) if there is one, else a new one of the next capacity.
    fn new_chunk(&mut self) -> Vec<T> {
        let largest = (0..self.spare.len()).max_by_key(|&i| self.spare[i].capacity());
        match largest {
            Some(i) => self.spare.swap_remove(i),
            None => Vec::with_capacity(self.next_capacity()),
        }
    }

    /// Position one past the last value.
    fn end(&self) -> usize {
        match (self.starts.last(), self.chunks.last()) {
            (Some(start), Some(last)) => start + last.len(),
            _ => 0,
        }
    }

    /// Adds `chunk` at the back: from now on, the one that grows.
    fn push_chunk(&mut self, chunk: Vec<T>) {
        self.push_shared(Arc::new(chunk));
    }

    fn push_shared(&mut self, chunk: Arc<Vec<T>>) {
        self.starts.push(self.end());
        self.len += chunk.len();
        self.chunks.push(chunk);
    }

    /// Appends one value.
    #[inline(always)]
    pub fn push(&mut self, value: T) {
        // The common case: room in the last chunk (one look at the deque's back).
        if let Some(last) = self.chunks.last_mut().and_then(writable) {
            last.push(value);
            self.len += 1;
            return;
        }
        self.push_to_new_chunk(value);
    }

    #[cold]
    fn push_to_new_chunk(&mut self, value: T) {
        let mut chunk = self.new_chunk();
        chunk.push(value);
        self.push_chunk(chunk);
    }

    /// Takes out the chunk that grows, for a writer that pushes many values (a decoder's batch):
    /// the last chunk while it has room (with its values, which stop counting here until
    /// [`Chunked::check_in`]), else the chunk [`Chunked::push`] would start. Pushing into it up
    /// to its capacity and checking it in leaves the sequence as the same pushes would have;
    /// a full one is checked in and another checked out.
    pub fn check_out(&mut self) -> Vec<T> {
        // A first chunk with popped values keeps them: it stays. A shared one is not written.
        if self.chunks.last_mut().and_then(writable).is_some()
            && (self.chunks.len() > 1 || self.head == 0)
            && let (Some(chunk), Some(_)) = (self.chunks.pop(), self.starts.pop())
        {
            self.len -= chunk.len();
            return Arc::unwrap_or_clone(chunk);
        }
        self.new_chunk()
    }

    /// Puts back a chunk from [`Chunked::check_out`] (an empty one is kept as a spare).
    pub fn check_in(&mut self, chunk: Vec<T>) {
        if chunk.is_empty() {
            if chunk.capacity() > 0 {
                self.recycle(chunk);
            }
        } else {
            self.push_chunk(chunk);
        }
    }

    /// Appends values, filling the last chunk before starting another.
    pub fn extend_from_slice(&mut self, mut values: &[T]) {
        while !values.is_empty() {
            if self.chunks.last_mut().and_then(writable).is_none() {
                let chunk = self.new_chunk();
                self.push_chunk(chunk);
            }
            let Some(last) = self.chunks.last_mut().and_then(writable) else {
                return;
            };
            let room = last.capacity() - last.len();
            let (now, rest) = values.split_at(room.min(values.len()));
            last.extend_from_slice(now);
            self.len += now.len();
            values = rest;
        }
    }

    /// Appends `count` copies of `value`.
    pub fn extend_fill(&mut self, value: T, mut count: usize) {
        let block = [value; 256];
        while count > 0 {
            let n = count.min(block.len());
            self.extend_from_slice(&block[..n]);
            count -= n;
        }
    }

    /// The chunk and offset in it of the value at `index`, if any.
    fn locate(&self, index: usize) -> Option<(usize, usize)> {
        if index >= self.len {
            return None;
        }
        let position = self.starts.first()? + self.head + index;
        let chunk = self.starts.partition_point(|&s| s <= position) - 1;
        Some((chunk, position - self.starts[chunk]))
    }

    /// The chunk holding `index`: its first logical position and its values from there (the
    /// front chunk's without the values popped from it), for a walk of ascending positions.
    fn chunk_at(&self, index: usize) -> Option<(usize, &[T])> {
        let (c, _) = self.locate(index)?;
        let base = self.starts.first()? + self.head;
        let skip = if c == 0 { self.head } else { 0 };
        Some((self.starts[c] + skip - base, &self.chunks[c][skip..]))
    }

    /// The values from `index` to the end of its chunk, at most `most` of them (none past the
    /// end): a run read in place.
    pub fn run_at(&self, index: usize, most: usize) -> &[T] {
        let Some((first, values)) = self.chunk_at(index) else {
            return &[];
        };
        let run = values.get(index - first..).unwrap_or_default();
        run.get(..most).unwrap_or(run)
    }

    /// The value at `index` (0 is the front), if any.
    pub fn get(&self, index: usize) -> Option<T> {
        let (chunk, offset) = self.locate(index)?;
        self.chunks.get(chunk)?.get(offset).copied()
    }

    /// The values as slices, front to back.
    pub fn slices(&self) -> impl Iterator<Item = &[T]> {
        self.chunks
            .iter()
            .enumerate()
            .map(|(i, c)| if i == 0 { &c[self.head..] } else { &c[..] })
            .filter(|s| !s.is_empty())
    }

    /// The values `start..start + count` (clamped to the end) as slices, front to back.
    pub fn slices_range(&self, start: usize, count: usize) -> impl Iterator<Item = &[T]> {
        let end = start.saturating_add(count).min(self.len);
        let mut skip = start;
        let mut left = end.saturating_sub(start);
        self.slices().filter_map(move |slice| {
            if left == 0 {
                return None;
            }
            if skip >= slice.len() {
                skip -= slice.len();
                return None;
            }
            let take = (slice.len() - skip).min(left);
            let part = &slice[skip..skip + take];
            left -= take;
            skip = 0;
            Some(part)
        })
    }

    /// Appends, per key of `keys` (`u64` or `u32` row keys), `from`'s value at position
    /// `key - first`, or `null` for the key `none` (and a position past the end): a join's
    /// gather of its matches, in one pass, written straight into the growing chunk's room (no
    /// buffer copied in after). Ascending keys walk `from`'s chunks as [`Chunked::gather`]'s
    /// positions do: a search only when one crosses into another chunk.
    pub fn extend_gathered<K: Copy + Into<u64>>(
        &mut self,
        from: &Chunked<T>,
        keys: &[K],
        (first, none): (u64, u64),
        null: T,
    ) {
        // The chunk last read: the key of its first value, and its values.
        let (mut at, mut current): (u64, &[T]) = (0, &[]);
        let mut keys = keys;
        while !keys.is_empty() {
            let mut chunk = self.check_out();
            if chunk.len() == chunk.capacity() {
                // (Never: `check_out` hands a chunk with room.)
                chunk.reserve(keys.len().min(MAX_CHUNK));
            }
            let room = chunk.capacity() - chunk.len();
            let (now, rest) = keys.split_at(room.min(keys.len()));
            // Filled with nulls first (a memset, in cache), then each slot written in a plain
            // loop: no test of the room a value, and the walk's state stays in registers. A
            // key in the chunk last read costs a subtraction and a comparison, in 64 bits (so
            // `none`, tested on a miss, is never taken for a position there, even in wasm32).
            let filled = chunk.len();
            chunk.resize(filled + now.len(), null);
            for (slot, &key) in chunk[filled..].iter_mut().zip(now) {
                let key: u64 = key.into();
                let d = key.wrapping_sub(at);
                if d < current.len() as u64 {
                    if let Some(&v) = current.get(d as usize) {
                        *slot = v;
                    }
                    continue;
                }
                if key == none {
                    continue;
                }
                let Ok(p) = usize::try_from(key.wrapping_sub(first)) else {
                    continue;
                };
                if let Some((s, values)) = from.chunk_at(p) {
                    (at, current) = (first.wrapping_add(s as u64), values);
                    if let Some(&v) = values.get(p - s) {
                        *slot = v;
                    }
                }
            }
            self.check_in(chunk);
            keys = rest;
        }
    }

    /// Appends the values at `positions` to `out`, skipping positions past the end. Ascending
    /// positions walk the chunks: a search only when one crosses into another chunk.
    pub fn gather(&self, positions: &[usize], out: &mut Vec<T>) {
        // The chunk last read: its first logical position and its values.
        let mut current: (usize, &[T]) = (0, &[]);
        for &p in positions {
            if p < current.0 || p - current.0 >= current.1.len() {
                let Some(chunk) = self.chunk_at(p) else {
                    continue;
                };
                current = chunk;
            }
            if let Some(&v) = current.1.get(p - current.0) {
                out.push(v);
            }
        }
    }

    /// Copies `count` values from `start` into `out`.
    pub fn copy_range(&self, start: usize, count: usize, out: &mut Vec<T>) {
        for slice in self.slices_range(start, count) {
            out.extend_from_slice(slice);
        }
    }

    /// The value at `index`, mutably (its chunk is copied first if it is shared).
    pub fn get_mut(&mut self, index: usize) -> Option<&mut T> {
        let (chunk, offset) = self.locate(index)?;
        Arc::make_mut(self.chunks.get_mut(chunk)?).get_mut(offset)
    }

    /// Moves every value of `other` to the back. Its chunks are adopted without copying a value,
    /// except small ones, which are copied into the room this sequence has; a chunk with much
    /// unused capacity is shrunk first, so adopting keeps the memory close to the data.
    pub fn append(&mut self, mut other: Chunked<T>) {
        if other.head > 0
            && let Some(first) = other.chunks.first_mut()
        {
            match Arc::get_mut(first) {
                Some(first) => {
                    first.drain(..other.head);
                }
                None => *first = Arc::new(first.get(other.head..).unwrap_or_default().to_vec()),
            }
        }
        for mut chunk in other.chunks.drain(..) {
            let room = self
                .chunks
                .last_mut()
                .and_then(writable)
                .map_or(0, |c| c.capacity() - c.len());
            if chunk.len() <= room || chunk.len() < MIN_CHUNK {
                self.extend_from_slice(&chunk);
                continue;
            }
            // The chunk that stops growing here keeps no more than an eighth unused.
            if let Some(last) = self.chunks.last_mut().and_then(Arc::get_mut)
                && last.capacity() - last.len() > last.len() / 8
            {
                last.shrink_to_fit();
            }
            // So does an adopted one: shrunk in place, or, if it is shared (a batch queued on two
            // tables), copied to its length (a batch that filled its chunk is not copied).
            if chunk.capacity() - chunk.len() > chunk.len() / 8 {
                match Arc::get_mut(&mut chunk) {
                    Some(own) => own.shrink_to_fit(),
                    None => chunk = Arc::new(chunk.to_vec()),
                }
            }
            self.push_shared(chunk);
            // An adopted chunk takes the place a spare would have filled: a stream table that
            // adopts every cycle's batch holds that cycle, not spares besides.
            self.spare.pop();
        }
    }

    /// Appends values `start .. start + count` (clamped) of `other`, sharing each of its chunks
    /// that the range covers whole and that will not grow again (every chunk but a last one with
    /// room), and copying the rest: a mirror of a table (`renameColumns`) holds an adopted batch
    /// without copying a value.
    pub fn extend_shared(&mut self, other: &Chunked<T>, start: usize, count: usize) {
        let end = start.saturating_add(count).min(other.len);
        let last = other.chunks.len().saturating_sub(1);
        let mut at = 0;
        for (i, chunk) in other.chunks.iter().enumerate() {
            let skip = if i == 0 { other.head } else { 0 };
            let (lo, hi) = (at, at + chunk.len() - skip);
            at = hi;
            if hi <= start {
                continue;
            }
            if lo >= end {
                break;
            }
            let (a, b) = (start.max(lo) - lo + skip, end.min(hi) - lo + skip);
            let sealed = i < last || chunk.len() == chunk.capacity();
            if a == 0 && b == chunk.len() && sealed {
                // The chunk that stops growing here keeps no more than an eighth unused.
                if let Some(own) = self.chunks.last_mut().and_then(Arc::get_mut)
                    && own.capacity() - own.len() > own.len() / 8
                {
                    own.shrink_to_fit();
                }
                self.push_shared(Arc::clone(chunk));
            } else if let Some(part) = chunk.get(a..b) {
                self.extend_from_slice(part);
            }
        }
    }

    /// The values as mutable slices, front to back (shared chunks are copied first).
    pub fn slices_mut(&mut self) -> impl Iterator<Item = &mut [T]> {
        let head = self.head;
        self.chunks.iter_mut().enumerate().map(move |(i, c)| {
            let c = Arc::make_mut(c);
            if i == 0 { &mut c[head..] } else { &mut c[..] }
        })
    }

    /// Removes `count` values from the front (all of them if fewer).
    pub fn pop_front(&mut self, count: usize) {
        let count = count.min(self.len);
        self.len -= count;
        // Whole chunks that the count empties go, then the first one left loses its head.
        let mut left = count;
        let mut emptied = 0;
        for chunk in &self.chunks {
            let available = chunk.len() - if emptied == 0 { self.head } else { 0 };
            if left == 0 || left < available {
                break;
            }
            left -= available;
            emptied += 1;
        }
        self.head = if emptied == 0 { self.head + left } else { left };
        self.starts.drain(..emptied);
        let mut chunks = std::mem::take(&mut self.chunks);
        chunks.drain(..emptied).for_each(|c| self.release(c));
        self.chunks = chunks;
        if self.len == 0 {
            self.clear();
        }
    }

    /// Keeps the first `new_len` values, dropping the rest from the back (nothing happens if there
    /// are no more than `new_len`): how a decoder takes back a row it could not finish.
    pub fn truncate(&mut self, new_len: usize) {
        while self.len > new_len {
            let single = self.chunks.len() == 1;
            let Some(last) = self.chunks.last_mut() else {
                break;
            };
            let head = if single { self.head } else { 0 };
            let drop = (self.len - new_len).min(last.len() - head);
            self.len -= drop;
            // A chunk that goes whole is released as it is (a shared one is not copied first).
            if drop < last.len() - head {
                let last = Arc::make_mut(last);
                last.truncate(last.len() - drop);
            } else {
                if let Some(chunk) = self.chunks.pop() {
                    self.starts.pop();
                    self.release(chunk);
                }
                if self.chunks.is_empty() {
                    self.head = 0;
                }
            }
        }
    }

    /// Removes everything, keeping chunks for reuse.
    pub fn clear(&mut self) {
        let mut chunks = std::mem::take(&mut self.chunks);
        chunks.drain(..).for_each(|c| self.release(c));
        self.chunks = chunks;
        self.starts.clear();
        self.head = 0;
        self.len = 0;
    }

    /// Keeps a chunk this sequence no longer holds as a spare, unless another still shares it.
    fn release(&mut self, chunk: Arc<Vec<T>>) {
        if let Ok(chunk) = Arc::try_unwrap(chunk) {
            self.recycle(chunk);
        }
    }

    fn recycle(&mut self, mut chunk: Vec<T>) {
        chunk.clear();
        if self.spare.len() < MAX_SPARE {
            self.spare.push(chunk);
        } else if let Some(smallest) = self
            .spare
            .iter_mut()
            .min_by_key(|c| c.capacity())
            .filter(|c| c.capacity() < chunk.capacity())
        {
            *smallest = chunk;
        }
    }

    /// Bytes the values take.
    pub fn bytes_used(&self) -> usize {
        self.len * size_of::<T>()
    }

    /// Bytes allocated, spare chunks included.
    pub fn bytes_reserved(&self) -> usize {
        let held: usize = self.chunks.iter().map(|c| c.capacity()).sum::<usize>()
            + self.spare.iter().map(Vec::capacity).sum::<usize>();
        held * size_of::<T>() + self.starts.capacity() * size_of::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Op {
        Push(u32),
        Extend(Vec<u32>),
        Pop(usize),
        Truncate(usize),
        Clear,
        /// Adopt a sequence built from these values, with this many popped from its front.
        Adopt(Vec<u32>, usize),
        Double,
        /// Push these through a checked-out chunk, as a decoder's batch does.
        CheckedOut(Vec<u32>),
        Fill(u32, usize),
        /// Clone the sequence (sharing its chunks) and go on with the clone (`true`) or the
        /// original; the other one is kept, and must not change.
        Fork(bool),
        /// Add one to the value at this index (`get_mut`).
        Bump(usize),
        /// As `Adopt`, but the sequence adopted is also kept by another (a batch queued on two
        /// tables), which must not change.
        AdoptShared(Vec<u32>, usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            any::<u32>().prop_map(Op::Push),
            proptest::collection::vec(any::<u32>(), 0..5_000).prop_map(Op::Extend),
            (0usize..6_000).prop_map(Op::Pop),
            (0usize..8_000).prop_map(Op::Truncate),
            Just(Op::Clear),
            (
                proptest::collection::vec(any::<u32>(), 0..9_000),
                0usize..3_000
            )
                .prop_map(|(v, p)| Op::Adopt(v, p)),
            Just(Op::Double),
            proptest::collection::vec(any::<u32>(), 0..5_000).prop_map(Op::CheckedOut),
            (any::<u32>(), 0usize..3_000).prop_map(|(v, n)| Op::Fill(v, n)),
            any::<bool>().prop_map(Op::Fork),
            (0usize..10_000).prop_map(Op::Bump),
            (
                proptest::collection::vec(any::<u32>(), 0..9_000),
                0usize..3_000
            )
                .prop_map(|(v, p)| Op::AdoptShared(v, p)),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Chunked behaves exactly like a VecDeque.
        #[test]
        fn behaves_like_a_deque(ops in proptest::collection::vec(op(), 0..40)) {
            let mut c = Chunked::new();
            let mut model = VecDeque::new();
            // Sequences forked off along the way, with their values then.
            let mut forks: Vec<(Chunked<u32>, Vec<u32>)> = Vec::new();
            for op in ops {
                match op {
                    Op::Fork(go_on_with_clone) => {
                        let clone = c.clone();
                        let kept = if go_on_with_clone { std::mem::replace(&mut c, clone) } else { clone };
                        forks.push((kept, model.iter().copied().collect()));
                    }
                    Op::AdoptShared(vs, popped) => {
                        let mut other = Chunked::with_capacity(vs.len() + vs.len() / 2);
                        other.extend_from_slice(&vs);
                        other.pop_front(popped);
                        let kept = other.clone();
                        c.append(other);
                        model.extend(vs.iter().skip(popped));
                        forks.push((kept, vs.iter().skip(popped).copied().collect()));
                    }
                    Op::Bump(i) => {
                        if let Some(v) = c.get_mut(i) { *v = v.wrapping_add(1); }
                        if let Some(v) = model.get_mut(i) { *v = v.wrapping_add(1); }
                    }
                    Op::Push(v) => { c.push(v); model.push_back(v); }
                    Op::Extend(vs) => { c.extend_from_slice(&vs); model.extend(vs); }
                    Op::Pop(n) => { c.pop_front(n); for _ in 0..n.min(model.len()) { model.pop_front(); } }
                    Op::Truncate(n) => { c.truncate(n); model.truncate(n); }
                    Op::Clear => { c.clear(); model.clear(); }
                    Op::Adopt(vs, popped) => {
                        let mut other = Chunked::new();
                        other.extend_from_slice(&vs);
                        other.pop_front(popped);
                        c.append(other);
                        model.extend(vs.iter().skip(popped));
                    }
                    Op::Fill(v, n) => {
                        c.extend_fill(v, n);
                        model.extend(std::iter::repeat_n(v, n));
                    }
                    Op::CheckedOut(vs) => {
                        let mut chunk = c.check_out();
                        for &v in &vs {
                            if chunk.len() == chunk.capacity() {
                                c.check_in(std::mem::take(&mut chunk));
                                chunk = c.check_out();
                            }
                            chunk.push(v);
                        }
                        c.check_in(chunk);
                        model.extend(vs);
                    }
                    Op::Double => {
                        c.slices_mut().flatten().for_each(|v| *v = v.wrapping_mul(2));
                        model.iter_mut().for_each(|v| *v = v.wrapping_mul(2));
                    }
                }
                prop_assert_eq!(c.len(), model.len());
                let flat: Vec<u32> = c.slices().flatten().copied().collect();
                prop_assert_eq!(&flat, &model.iter().copied().collect::<Vec<_>>());
                // A run read in place is the values from its index to its chunk's end, or to
                // `most` (none past the end).
                let ends: Vec<usize> = c.slices().scan(0, |end, s| { *end += s.len(); Some(*end) }).collect();
                let len = model.len();
                for (i, most) in [(0, 1), (0, usize::MAX), (len / 3, 700), (len.saturating_sub(1), 9), (len, 5)] {
                    let run = c.run_at(i, most);
                    let want: Vec<u32> = model.iter().skip(i).take(run.len()).copied().collect();
                    prop_assert_eq!(run, &want[..]);
                    let whole = i + run.len() == (i + most.min(len.saturating_sub(i))) || ends.contains(&(i + run.len()));
                    prop_assert!(whole && (i >= len || !run.is_empty()), "run at {} of {} ({:?})", i, most, ends);
                }
                if !model.is_empty() {
                    let mid = model.len() / 2;
                    prop_assert_eq!(c.get(mid), Some(model[mid]));
                    let mut out = Vec::new();
                    c.copy_range(mid, 7, &mut out);
                    prop_assert_eq!(out, model.iter().skip(mid).take(7).copied().collect::<Vec<_>>());
                }
                prop_assert_eq!(c.get(model.len()), None);
                // Gathers: every third position ascending, then some backwards and one past the end.
                let mut picks: Vec<usize> = (0..model.len()).step_by(3).collect();
                picks.extend([model.len().saturating_sub(1), 0, model.len() / 2, model.len()]);
                let mut gathered = Vec::new();
                c.gather(&picks, &mut gathered);
                let want: Vec<u32> = picks.iter().filter_map(|&p| model.get(p).copied()).collect();
                prop_assert_eq!(gathered, want);
                for i in [0, model.len() / 3, model.len().saturating_sub(1)] {
                    prop_assert_eq!(c.get(i), model.get(i).copied());
                }
            }
            // What was written after a fork, on either side, never reached the other.
            for (fork, values) in &forks {
                let flat: Vec<u32> = fork.slices().flatten().copied().collect();
                prop_assert_eq!(&flat, values);
            }
        }
    }

    /// An append table and a stream table adopting the same batches (shared chunks), some of
    /// them far from full: the append table still holds no more than an eighth unused.
    #[test]
    fn shared_batches_are_kept_within_an_eighth_of_their_length() {
        let (mut append, mut stream) = (Chunked::<i64>::new(), Chunked::<i64>::new());
        for i in 0..100 {
            let rows = if i % 2 == 0 { 20_000 } else { 2_000 };
            let mut batch = Chunked::with_capacity(20_000);
            batch.extend_fill(i, rows);
            // The append table first: the stream still shares its last batch.
            append.append(batch.clone());
            stream.clear();
            stream.append(batch);
        }
        let (used, reserved) = (append.bytes_used(), append.bytes_reserved());
        assert!(
            reserved as f64 <= used as f64 * 1.15,
            "{reserved} bytes reserved for {used} used"
        );
    }

    #[test]
    fn growth_never_holds_much_more_than_the_data() {
        let mut c = Chunked::<i64>::new();
        for i in 0..1_000_000 {
            c.push(i);
        }
        let used = c.bytes_used() as f64;
        let reserved = c.bytes_reserved() as f64;
        // At most one partly filled chunk of MAX_CHUNK elements beyond the data.
        assert!(
            reserved <= used + (MAX_CHUNK * 8) as f64,
            "{used} {reserved}"
        );
        assert!(reserved / used < 1.07, "{}", reserved / used);
    }

    #[test]
    fn adopting_batches_keeps_memory_close_to_the_data() {
        let mut c = Chunked::<i64>::new();
        for b in 0..100 {
            // As a decoder fills a batch: chunks that double, the last one partly used.
            let mut batch = Chunked::new();
            (0..10_000).for_each(|i| batch.push(b * 10_000 + i));
            c.append(batch);
        }
        assert_eq!(c.len(), 1_000_000);
        assert_eq!(c.get(123_456), Some(123_456));
        let ratio = c.bytes_reserved() as f64 / c.bytes_used() as f64;
        assert!(ratio < 1.13, "{ratio}");
    }

    #[test]
    fn a_refilled_stream_allocates_nothing_new() {
        let mut c = Chunked::<f64>::new();
        let batch = vec![1.0; 10_000];
        c.extend_from_slice(&batch);
        c.clear();
        c.extend_from_slice(&batch);
        let warm = c.bytes_reserved();
        for _ in 0..100 {
            c.clear();
            c.extend_from_slice(&batch);
        }
        assert_eq!(c.bytes_reserved(), warm);
        assert!(warm <= 2 * c.bytes_used() + MAX_CHUNK * 8);
    }

    proptest! {
        /// `extend_shared` of any range of a sequence built by pushes, adoptions and pops holds
        /// that range's values, after values of its own.
        #[test]
        fn extend_shared_holds_the_range(
            pushes in 0usize..3000,
            adopted in proptest::collection::vec(0usize..3000, 0..4),
            popped in 0usize..2000,
            own in 0usize..50,
            start in 0usize..6000,
            count in 0usize..6000,
        ) {
            let mut other = Chunked::new();
            let mut all: Vec<u32> = Vec::new();
            for i in 0..pushes {
                other.push(i as u32);
                all.push(i as u32);
            }
            for n in adopted {
                let mut batch = Chunked::with_capacity(n);
                for i in 0..n {
                    batch.push(i as u32 + 10_000);
                    all.push(i as u32 + 10_000);
                }
                other.append(batch);
            }
            other.pop_front(popped);
            all.drain(..popped.min(all.len()));
            let mut mirror = Chunked::new();
            let mut want: Vec<u32> = (0..own as u32).collect();
            mirror.extend_from_slice(&want);
            mirror.extend_shared(&other, start, count);
            let end = start.saturating_add(count).min(all.len());
            want.extend_from_slice(all.get(start..end).unwrap_or(&[]));
            let got: Vec<u32> = mirror.slices().flatten().copied().collect();
            prop_assert_eq!(got, want);
            prop_assert_eq!(mirror.len(), mirror.slices().map(<[u32]>::len).sum::<usize>());
            // Pushing after a shared chunk never writes into it.
            mirror.push(7);
            let back: Vec<u32> = other.slices().flatten().copied().collect();
            prop_assert_eq!(back, all);
        }
    }

    #[test]
    fn extend_shared_shares_a_sealed_chunk_and_copies_a_growing_one() {
        let mut other = Chunked::new();
        let mut batch = Chunked::with_capacity(2_000);
        (0..2_000u32).for_each(|i| batch.push(i));
        other.append(batch);
        // A last chunk with room: its rows are copied, so the source keeps growing it.
        (0..10u32).for_each(|i| other.push(i));
        let mut mirror = Chunked::new();
        mirror.extend_shared(&other, 0, other.len());
        assert!(
            Arc::ptr_eq(&mirror.chunks[0], &other.chunks[0]),
            "the adopted batch is shared"
        );
        assert_eq!(
            Arc::strong_count(&other.chunks[1]),
            1,
            "the growing chunk is copied"
        );
        assert_eq!(mirror.len(), 2_010);
    }
}
