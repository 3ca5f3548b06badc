//! A column's checked-out chunk written by index ([`ChunkLane`]): the batch decoders' lanes, and
//! (growing, [`ChunkLane::push`]) the JSON decoder's stages.
//!
//! The chunk's spare capacity is filled ahead (out of line, by copying the chunk's own first values
//! onto its end: a `memcpy`, up to [`FILL`] values at a time) and a value is a bounds-checked
//! store into it, where `Vec::push` would be a call in the page's size-optimised build (opt-level
//! "z", whose inliner ignores `#[inline]` hints). Invariant:
//! `written <= buf.len() <= buf.capacity()`, and the values past `written` are filler that
//! [`ChunkLane::take`] drops, so the chunk handed back holds exactly the values put.

/// The most values filled ahead at a time: few enough that a chunk checked out for a small batch
/// is not copied to its end, enough that the fill's call is rare.
const FILL: usize = 1_024;

/// A checked-out chunk and the number of values written into it.
#[derive(Debug, Clone, Default)]
pub struct ChunkLane<T> {
    buf: Vec<T>,
    written: usize,
}

impl<T: Copy + Default> ChunkLane<T> {
    /// A lane writing after the values `chunk` already holds.
    pub fn new(chunk: Vec<T>) -> Self {
        let written = chunk.len();
        Self {
            buf: chunk,
            written,
        }
    }

    /// Appends `v`; false, appending nothing, when the chunk is full (the caller puts it back
    /// and checks out another).
    #[inline(always)]
    pub fn put(&mut self, v: T) -> bool {
        match self.buf.get_mut(self.written) {
            Some(slot) => {
                *slot = v;
                self.written += 1;
                true
            }
            None => self.put_after_fill(v),
        }
    }

    #[cold]
    #[inline(never)]
    fn put_after_fill(&mut self, v: T) -> bool {
        if self.buf.len() == self.buf.capacity() {
            return false;
        }
        if self.buf.is_empty() {
            self.buf.push(T::default());
        }
        // Filler: whatever values, so a copy (which doubles the filled part) rather than a loop.
        let len = self.buf.len();
        let room = self.buf.capacity() - len;
        self.buf.extend_from_within(..len.min(room).min(FILL));
        match self.buf.get_mut(self.written) {
            Some(slot) => {
                *slot = v;
                self.written += 1;
                true
            }
            None => false,
        }
    }

    /// Appends `v`, growing the buffer if it is full: a buffer of its own (a stage), not a
    /// column's chunk.
    #[inline(always)]
    pub fn push(&mut self, v: T) {
        if !self.put(v) {
            self.grow_put(v);
        }
    }

    #[cold]
    #[inline(never)]
    fn grow_put(&mut self, v: T) {
        self.buf.truncate(self.written);
        self.buf.reserve(self.buf.capacity().max(FILL));
        let _ = self.put(v);
    }

    /// The values put.
    pub fn values(&self) -> &[T] {
        self.buf.get(..self.written).unwrap_or_default()
    }

    /// Keeps the first `n` values put.
    pub fn truncate(&mut self, n: usize) {
        self.written = self.written.min(n);
    }

    /// The values put (those the chunk held at check-out included).
    pub fn len(&self) -> usize {
        self.written
    }

    pub fn is_empty(&self) -> bool {
        self.written == 0
    }

    /// Takes back the value just put (a value [`ChunkLane::put`] returned true for).
    pub fn unput(&mut self) {
        self.written = self.written.saturating_sub(1);
    }

    /// The chunk with the values put, leaving the lane empty.
    pub fn take(&mut self) -> Vec<T> {
        let mut chunk = std::mem::take(&mut self.buf);
        chunk.truncate(std::mem::take(&mut self.written));
        chunk
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lane_hands_back_the_chunk_with_exactly_the_values_put() {
        let mut chunk = Vec::with_capacity(600);
        chunk.extend([7_i64, 8]);
        let capacity = chunk.capacity();
        let mut lane = ChunkLane::new(chunk);
        let mut put = 0;
        while lane.put(put) {
            put += 1;
        }
        // Full: the capacity, across several fills, and nothing more.
        assert_eq!(put as usize, capacity - 2);
        assert!(!lane.put(-1));
        let chunk = lane.take();
        assert_eq!(chunk.len(), capacity);
        assert_eq!(chunk[..3], [7, 8, 0]);
        assert_eq!(chunk[capacity - 1], put - 1);
        assert!(lane.take().is_empty());
    }

    #[test]
    fn a_lane_taken_early_drops_its_filler() {
        let mut lane = ChunkLane::new(Vec::with_capacity(1_024));
        assert!(lane.put(1.5_f64));
        assert!(lane.put(-2.0));
        assert_eq!(lane.take(), [1.5, -2.0]);
    }

    #[test]
    fn a_pushed_buffer_grows_and_truncates() {
        let mut lane = ChunkLane::default();
        for v in 0..3_000_u32 {
            lane.push(v);
        }
        assert_eq!(lane.len(), 3_000);
        assert_eq!(lane.values(), (0..3_000).collect::<Vec<_>>());
        lane.truncate(2);
        lane.push(9);
        assert_eq!(lane.values(), [0, 1, 9]);
        lane.truncate(0);
        assert!(lane.is_empty());
        assert_eq!(lane.take(), Vec::<u32>::new());
    }

    #[test]
    fn a_lane_without_capacity_takes_nothing() {
        let mut lane = ChunkLane::<i32>::new(Vec::new());
        assert!(!lane.put(3));
        assert!(lane.take().is_empty());
    }
}
