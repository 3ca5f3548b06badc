//! [`Cursor`]: a position in one record's Avro body, and the reads of Avro's primitive encodings.
//!
//! Every read checks the input: lengths are refused when negative or longer than what is left,
//! strings when not UTF-8, booleans when not 0 or 1. Reads borrow from the input slice and never
//! allocate. Invariant: `pos <= buf.len()`.

use super::vlq;
use crate::DecodeReason;

/// [`DecodeReason::Truncated`], for `ok_or_else`: an `ok_or` builds (and drops) its error even
/// on the path that does not fail, which wasm32 builds do not always optimise away.
#[inline(always)]
pub(crate) fn truncated() -> DecodeReason {
    DecodeReason::Truncated
}

/// [`DecodeReason::PlanMismatch`], for `ok_or_else` (see [`truncated`]).
#[inline(always)]
pub(crate) fn mismatch() -> DecodeReason {
    DecodeReason::PlanMismatch
}

/// A read position in a byte slice.
#[derive(Debug, Clone)]
pub struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    /// Bytes not read yet.
    #[inline(always)]
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// A zig-zag `long`. In the page's build (opt-level "z") a call: the batch loop reads with
    /// [`Cursor::long_hot`], which inlines, and the rest (skipping, JSON rendering, rare
    /// leaves) stays small.
    #[inline]
    pub fn long(&mut self) -> Result<i64, DecodeReason> {
        self.long_hot()
    }

    /// [`Cursor::long`], always inlined: for the batch loop only.
    #[inline(always)]
    pub fn long_hot(&mut self) -> Result<i64, DecodeReason> {
        vlq::read_long(self.buf, &mut self.pos)
    }

    /// A zig-zag `int` (a call in the page's build, as [`Cursor::long`]).
    #[inline]
    pub fn int(&mut self) -> Result<i32, DecodeReason> {
        self.int_hot()
    }

    /// [`Cursor::int`], always inlined: for the batch loop only.
    #[inline(always)]
    pub fn int_hot(&mut self) -> Result<i32, DecodeReason> {
        vlq::read_int(self.buf, &mut self.pos)
    }

    #[inline(always)]
    pub fn boolean(&mut self) -> Result<bool, DecodeReason> {
        match self.buf.get(self.pos) {
            Some(&b) if b <= 1 => {
                self.pos += 1;
                Ok(b == 1)
            }
            Some(&b) => Err(DecodeReason::InvalidBool(b)),
            None => Err(DecodeReason::Truncated),
        }
    }

    /// `n` raw bytes.
    #[inline(always)]
    pub fn fixed(&mut self, n: usize) -> Result<&'a [u8], DecodeReason> {
        let bytes = self
            .buf
            .get(self.pos..self.pos.saturating_add(n))
            .ok_or_else(truncated)?;
        self.pos += n;
        Ok(bytes)
    }

    #[inline(always)]
    pub fn float(&mut self) -> Result<f32, DecodeReason> {
        let b = self.fixed(4)?.first_chunk::<4>().ok_or_else(truncated)?;
        Ok(f32::from_le_bytes(*b))
    }

    #[inline(always)]
    pub fn double(&mut self) -> Result<f64, DecodeReason> {
        let b = self.chunk::<8>()?;
        Ok(f64::from_le_bytes(*b))
    }

    /// Two doubles, with one bounds check.
    #[inline(always)]
    pub fn doubles(&mut self) -> Result<(f64, f64), DecodeReason> {
        let (a, b) = self.chunk::<16>()?.split_at(8);
        let word = |b: &[u8]| f64::from_le_bytes(b.try_into().unwrap_or_default());
        Ok((word(a), word(b)))
    }

    /// The next `N` bytes.
    #[inline(always)]
    fn chunk<const N: usize>(&mut self) -> Result<&'a [u8; N], DecodeReason> {
        let b = self
            .buf
            .get(self.pos..)
            .and_then(<[u8]>::first_chunk::<N>)
            .ok_or_else(truncated)?;
        self.pos += N;
        Ok(b)
    }

    /// A length prefix: not negative, not past the end.
    #[inline(always)]
    pub fn length(&mut self) -> Result<usize, DecodeReason> {
        let start = self.pos;
        let length = self.long()?;
        if length < 0 {
            self.pos = start;
            return Err(DecodeReason::NegativeLength(length));
        }
        if length as u64 > self.remaining() as u64 {
            let left = self.remaining();
            self.pos = start;
            return Err(DecodeReason::LengthPastEnd { length, left });
        }
        Ok(length as usize)
    }

    /// A length-prefixed byte string.
    #[inline(always)]
    pub fn bytes(&mut self) -> Result<&'a [u8], DecodeReason> {
        let n = self.length()?;
        self.fixed(n)
    }

    /// A length-prefixed byte string, and the 16 bytes from its start if the input has them
    /// (they may run past the string, into what follows it).
    #[inline(always)]
    pub fn bytes_window(&mut self) -> Result<(&'a [u8], Option<&'a [u8; 16]>), DecodeReason> {
        // Fast path: a one-byte length (0 to 63) that the input holds.
        if let Some([b, tail @ ..]) = self.buf.get(self.pos..)
            && *b & 0x81 == 0
            && let Some(bytes) = tail.get(..usize::from(*b >> 1))
        {
            self.pos += 1 + bytes.len();
            return Ok((bytes, tail.first_chunk::<16>()));
        }
        self.bytes_window_slow()
    }

    /// [`Cursor::bytes_window`] for longer strings and errors, out of line.
    #[inline(never)]
    fn bytes_window_slow(&mut self) -> Result<(&'a [u8], Option<&'a [u8; 16]>), DecodeReason> {
        let n = self.length()?;
        let window = self.buf.get(self.pos..).and_then(<[u8]>::first_chunk::<16>);
        Ok((self.fixed(n)?, window))
    }

    /// A length-prefixed UTF-8 string.
    #[inline(always)]
    pub fn string(&mut self) -> Result<&'a str, DecodeReason> {
        let bytes = self.bytes()?;
        std::str::from_utf8(bytes).map_err(|_| DecodeReason::InvalidUtf8)
    }

    /// Skips `n` bytes.
    #[inline(always)]
    pub fn skip(&mut self, n: usize) -> Result<(), DecodeReason> {
        self.fixed(n).map(|_| ())
    }

    /// The count of the next array or map block: 0 ends the sequence. A negative count is
    /// followed by the block's size in bytes, returned with the count made positive.
    #[inline(always)]
    pub fn block(&mut self) -> Result<(u64, Option<usize>), DecodeReason> {
        let count = self.long()?;
        if count >= 0 {
            return Ok((count as u64, None));
        }
        if count == i64::MIN {
            return Err(DecodeReason::BlockCount(count));
        }
        let size = self.length()?;
        Ok((count.unsigned_abs(), Some(size)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_are_checked_before_anything_is_read() {
        assert_eq!(
            Cursor::new(&[0x01]).bytes(),
            Err(DecodeReason::NegativeLength(-1))
        );
        assert_eq!(
            Cursor::new(&[0x08, b'a']).string(),
            Err(DecodeReason::LengthPastEnd { length: 4, left: 1 })
        );
        assert_eq!(
            Cursor::new(&[0x04, 0xff, 0xfe]).string(),
            Err(DecodeReason::InvalidUtf8)
        );
        assert_eq!(
            Cursor::new(&[0x02]).boolean(),
            Err(DecodeReason::InvalidBool(2))
        );
        assert_eq!(Cursor::new(&[0; 7]).double(), Err(DecodeReason::Truncated));
        let min = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
        assert_eq!(
            Cursor::new(&min).block(),
            Err(DecodeReason::BlockCount(i64::MIN))
        );
    }
}
