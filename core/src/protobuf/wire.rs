//! [`Reader`]: Protobuf's wire format read from a byte slice: varints, zigzag, fixed-width
//! numbers and length-delimited fields, and skipping a field of any wire type.
//!
//! Invariant: every read either advances within the slice or fails with a [`DecodeReason`]; no
//! read panics or allocates, whatever the bytes (a length past the end, a varint of more than ten
//! bytes, a group nested deeper than [`MAX_DEPTH`] are errors).

use crate::DecodeReason;

/// Protobuf's wire types.
pub const VARINT: u8 = 0;
pub const FIXED64: u8 = 1;
pub const LEN: u8 = 2;
pub const START_GROUP: u8 = 3;
pub const END_GROUP: u8 = 4;
pub const FIXED32: u8 = 5;

/// The deepest nesting of groups a skip follows (messages nest only as deep as a plan's levels).
pub const MAX_DEPTH: usize = 64;

/// A cursor over a message's bytes: `bytes[at..end]`. A nested message's reader keeps the
/// whole slice (so a varint near its end still reads a word at a time) and its own end.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    bytes: &'a [u8],
    pub at: usize,
    end: usize,
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Self {
            bytes,
            at: 0,
            end: bytes.len(),
        }
    }

    #[inline(always)]
    pub fn at_end(&self) -> bool {
        self.at >= self.end
    }

    /// The whole slice (for ranges of strings and bytes read from it).
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The reader of the length-delimited field here (a nested message, a packed run), which
    /// this one moves past.
    #[inline]
    pub fn sub(&mut self) -> Result<Self, DecodeReason> {
        let (start, end) = self.len_delimited()?;
        Ok(Self {
            bytes: self.bytes,
            at: start,
            end,
        })
    }

    /// Ends the reader at `end` (within its slice).
    #[inline]
    pub fn limit(&mut self, end: usize) {
        self.end = end.min(self.bytes.len());
    }

    /// A base-128 varint of at most ten bytes, whose tenth byte holds at most bit 63 (Avro's
    /// encoding without the zigzag: the same fast reader).
    #[inline(always)]
    pub fn varint(&mut self) -> Result<u64, DecodeReason> {
        // The common case: one byte.
        if let Some(&b) = self.bytes.get(self.at)
            && b < 0x80
            && self.at < self.end
        {
            self.at += 1;
            return Ok(u64::from(b));
        }
        self.varint_slow()
    }

    #[inline(never)]
    fn varint_slow(&mut self) -> Result<u64, DecodeReason> {
        let v = crate::avro::vlq::read_u64(self.bytes, &mut self.at)?;
        match self.at <= self.end {
            true => Ok(v),
            false => Err(DecodeReason::Truncated),
        }
    }

    /// `N` bytes.
    #[inline]
    fn fixed<const N: usize>(&mut self) -> Result<[u8; N], DecodeReason> {
        let b = self
            .bytes
            .get(self.at..self.end)
            .and_then(<[u8]>::first_chunk::<N>)
            .ok_or(DecodeReason::Truncated)?;
        self.at += N;
        Ok(*b)
    }

    #[inline]
    pub fn fixed32(&mut self) -> Result<u32, DecodeReason> {
        self.fixed().map(u32::from_le_bytes)
    }

    #[inline]
    pub fn fixed64(&mut self) -> Result<u64, DecodeReason> {
        self.fixed().map(u64::from_le_bytes)
    }

    /// A length-delimited field's bounds: `(start, end)` within the slice, past which it moves.
    #[inline]
    pub fn len_delimited(&mut self) -> Result<(usize, usize), DecodeReason> {
        let length = self.varint()?;
        let left = self.end.saturating_sub(self.at);
        if length > left as u64 {
            return Err(DecodeReason::LengthPastEnd {
                length: i64::try_from(length).unwrap_or(i64::MAX),
                left,
            });
        }
        let start = self.at;
        self.at += length as usize;
        Ok((start, self.at))
    }

    /// A length-delimited field's bytes.
    #[inline]
    pub fn bytes_field(&mut self) -> Result<&'a [u8], DecodeReason> {
        let (start, end) = self.len_delimited()?;
        self.bytes.get(start..end).ok_or(DecodeReason::Truncated)
    }

    /// A field's tag: its number and wire type. Number 0 is refused (no field has it).
    #[inline]
    pub fn tag(&mut self) -> Result<(u32, u8), DecodeReason> {
        let tag = self.varint()?;
        let number = tag >> 3;
        if number == 0 || number > u64::from(u32::MAX >> 3) {
            return Err(DecodeReason::BadProtobuf(
                "a field number of 0 or past 2^29",
            ));
        }
        Ok((number as u32, (tag & 7) as u8))
    }

    /// Skips the value of a field of wire type `wire` (a group up to its end tag, at `depth`).
    pub fn skip(&mut self, wire: u8, number: u32, depth: usize) -> Result<(), DecodeReason> {
        match wire {
            VARINT => self.varint().map(drop),
            FIXED64 => self.fixed64().map(drop),
            LEN => self.len_delimited().map(drop),
            FIXED32 => self.fixed32().map(drop),
            START_GROUP => {
                if depth >= MAX_DEPTH {
                    return Err(DecodeReason::TooDeep(MAX_DEPTH));
                }
                loop {
                    if self.at_end() {
                        return Err(DecodeReason::Truncated);
                    }
                    let (n, w) = self.tag()?;
                    if w == END_GROUP {
                        return if n == number {
                            Ok(())
                        } else {
                            Err(DecodeReason::BadProtobuf(
                                "a group ends with another's number",
                            ))
                        };
                    }
                    self.skip(w, n, depth + 1)?;
                }
            }
            END_GROUP => Err(DecodeReason::BadProtobuf("a group end with no group open")),
            _ => Err(DecodeReason::BadProtobuf("wire type 6 or 7")),
        }
    }
}

/// Zigzag-decodes a 64-bit value (sint64).
#[inline(always)]
pub fn zigzag64(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// Zigzag-decodes a 32-bit value (sint32: the varint's low 32 bits).
#[inline(always)]
pub fn zigzag32(v: u64) -> i32 {
    let v = v as u32;
    ((v >> 1) as i32) ^ -((v & 1) as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_fixed_and_lengths() {
        let mut r = Reader::new(&[0x96, 0x01, 0x7f, 1, 0, 0, 0, 3, b'a', b'b', b'c']);
        assert_eq!(r.varint(), Ok(150));
        assert_eq!(r.varint(), Ok(127));
        assert_eq!(r.fixed32(), Ok(1));
        assert_eq!(r.bytes_field(), Ok(&b"abc"[..]));
        assert!(r.at_end());
        assert_eq!(zigzag64(1), -1);
        assert_eq!(zigzag64(4), 2);
        assert_eq!(zigzag32(u64::from(u32::MAX)), i32::MIN);
        let max = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
        assert_eq!(Reader::new(&max).varint(), Ok(u64::MAX));
    }

    #[test]
    fn hostile_bytes_are_errors() {
        assert_eq!(
            Reader::new(&[0x80, 0x80]).varint(),
            Err(DecodeReason::Truncated)
        );
        assert_eq!(
            Reader::new(&[0xff; 11]).varint(),
            Err(DecodeReason::OverlongVarint)
        );
        let over = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02];
        assert_eq!(
            Reader::new(&over).varint(),
            Err(DecodeReason::OverlongVarint)
        );
        assert!(matches!(
            Reader::new(&[0xff, 0xff, 0xff, 0xff, 0x0f, 1]).len_delimited(),
            Err(DecodeReason::LengthPastEnd { left: 1, .. })
        ));
        assert_eq!(Reader::new(&[1, 2]).fixed32(), Err(DecodeReason::Truncated));
        assert!(Reader::new(&[0x00]).tag().is_err());
        // A group of groups deeper than MAX_DEPTH, and one never closed.
        let deep: Vec<u8> = std::iter::repeat_n(0x0b, 100).collect();
        assert_eq!(
            Reader::new(&deep).skip(START_GROUP, 1, 0),
            Err(DecodeReason::TooDeep(MAX_DEPTH))
        );
        assert_eq!(
            Reader::new(&[0x08, 0x01]).skip(START_GROUP, 1, 0),
            Err(DecodeReason::Truncated)
        );
        assert!(
            Reader::new(&[0x08, 0x01, 0x0c])
                .skip(START_GROUP, 1, 0)
                .is_ok()
        );
    }
}
