//! Avro's variable-length zig-zag integers, decoded with overflow checks.
//!
//! A `long` is at most 10 bytes of 7 bits each, least significant group first; the 10th byte may
//! only hold the 64th bit (so it must be 0 or 1). An `int` is at most 5 bytes and must fit 32 bits.
//! Anything longer, or a value that does not fit, is [`DecodeReason::OverlongVarint`], and input
//! that ends inside a varint is [`DecodeReason::Truncated`]. Invariant: on error nothing is
//! consumed (`pos` is unchanged).

use super::cursor::truncated;
use crate::DecodeReason;

/// Decodes an unsigned varint of at most 10 bytes at `*pos`, advancing `*pos` past it.
#[inline(always)]
pub fn read_u64(buf: &[u8], pos: &mut usize) -> Result<u64, DecodeReason> {
    let start = *pos;
    // Fast path: one byte (small values, lengths, union and enum indexes).
    match buf.get(start) {
        Some(&b) if b < 0x80 => {
            *pos = start + 1;
            return Ok(u64::from(b));
        }
        None => return Err(DecodeReason::Truncated),
        _ => {}
    }
    // Up to 8 bytes with 8 bytes to look at (timestamps, large values): the bytes' stop bits
    // found in one word, their 7-bit groups gathered without a loop-carried branch.
    if let Some(word) = buf.get(start..).and_then(<[u8]>::first_chunk::<8>) {
        let word = u64::from_le_bytes(*word);
        let stops = !word & 0x8080_8080_8080_8080;
        if stops != 0 {
            // The last byte's stop bit is bit 8k + 7 of the k+1 bytes read (k <= 7).
            let last = stops.trailing_zeros();
            let groups = word & (u64::MAX >> (63 - last)) & 0x7f7f_7f7f_7f7f_7f7f;
            *pos = start + (last / 8) as usize + 1;
            return Ok(compact(groups));
        }
    }
    read_u64_slow(buf, pos)
}

/// The 7-bit groups in the low bits of each byte of `groups`, packed together (byte `i` at bit
/// `7i`): pairs, then quads, then the two halves, each step one shift and two masks.
#[inline(always)]
fn compact(groups: u64) -> u64 {
    let x = (groups & 0x007f_007f_007f_007f) | ((groups & 0x7f00_7f00_7f00_7f00) >> 1);
    let x = (x & 0x0000_3fff_0000_3fff) | ((x & 0x3fff_0000_3fff_0000) >> 2);
    (x & 0x0000_0000_0fff_ffff) | ((x & 0x0fff_ffff_0000_0000) >> 4)
}

/// [`read_u64`] byte by byte (9- and 10-byte varints, and varints near the end of the input):
/// kept out of line so the fast paths inline.
#[inline(never)]
fn read_u64_slow(buf: &[u8], pos: &mut usize) -> Result<u64, DecodeReason> {
    let start = *pos;
    let mut value = 0u64;
    for i in 0..10 {
        let b = *buf.get(start + i).ok_or_else(truncated)?;
        if i == 9 && b > 1 {
            return Err(DecodeReason::OverlongVarint);
        }
        value |= u64::from(b & 0x7f) << (7 * i);
        if b < 0x80 {
            *pos = start + i + 1;
            return Ok(value);
        }
    }
    Err(DecodeReason::OverlongVarint)
}

/// Decodes a zig-zag `long`.
#[inline(always)]
pub fn read_long(buf: &[u8], pos: &mut usize) -> Result<i64, DecodeReason> {
    let v = read_u64(buf, pos)?;
    Ok(((v >> 1) as i64) ^ -((v & 1) as i64))
}

/// Decodes a zig-zag `int`: at most 5 bytes, and the value must fit 32 bits.
#[inline(always)]
pub fn read_int(buf: &[u8], pos: &mut usize) -> Result<i32, DecodeReason> {
    let start = *pos;
    // Fast path: one byte (enum indexes, small values).
    if let Some(&b) = buf.get(start)
        && b < 0x80
    {
        *pos = start + 1;
        let v = u32::from(b);
        return Ok(((v >> 1) as i32) ^ -((v & 1) as i32));
    }
    let mut value = 0u32;
    for i in 0..5 {
        let b = *buf.get(start + i).ok_or_else(truncated)?;
        if i == 4 && b > 0x0f {
            return Err(DecodeReason::OverlongVarint);
        }
        value |= u32::from(b & 0x7f) << (7 * i);
        if b < 0x80 {
            *pos = start + i + 1;
            return Ok(((value >> 1) as i32) ^ -((value & 1) as i32));
        }
    }
    Err(DecodeReason::OverlongVarint)
}

/// Encodes a zig-zag `long` (for tests and for building frames).
pub fn write_long(out: &mut Vec<u8>, value: i64) {
    let mut v = ((value << 1) ^ (value >> 63)) as u64;
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_tenth_byte_may_only_hold_one_bit() {
        let mut max = vec![0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
        assert_eq!(read_long(&max, &mut 0), Ok(i64::MAX));
        max[9] = 0x02;
        assert_eq!(read_long(&max, &mut 0), Err(DecodeReason::OverlongVarint));
        let endless = [0x80u8; 10];
        assert_eq!(
            read_long(&endless, &mut 0),
            Err(DecodeReason::OverlongVarint)
        );
        let mut pos = 0;
        assert_eq!(
            read_long(&[0x80, 0x80], &mut pos),
            Err(DecodeReason::Truncated)
        );
        assert_eq!(pos, 0, "nothing consumed on error");
    }

    #[test]
    fn ints_are_five_bytes_and_32_bits_at_most() {
        assert_eq!(
            read_int(&[0xfe, 0xff, 0xff, 0xff, 0x0f], &mut 0),
            Ok(i32::MAX)
        );
        assert_eq!(
            read_int(&[0xff, 0xff, 0xff, 0xff, 0x0f], &mut 0),
            Ok(i32::MIN)
        );
        assert_eq!(
            read_int(&[0xfe, 0xff, 0xff, 0xff, 0x1f], &mut 0),
            Err(DecodeReason::OverlongVarint)
        );
        assert_eq!(
            read_int(&[0x80; 5], &mut 0),
            Err(DecodeReason::OverlongVarint)
        );
    }

    proptest! {
        #[test]
        fn longs_round_trip(v in any::<i64>(), tail in proptest::collection::vec(any::<u8>(), 0..4)) {
            let mut buf = Vec::new();
            write_long(&mut buf, v);
            let len = buf.len();
            buf.extend(tail);
            let mut pos = 0;
            prop_assert_eq!(read_long(&buf, &mut pos), Ok(v));
            prop_assert_eq!(pos, len);
        }

        #[test]
        fn ints_round_trip(v in any::<i32>()) {
            let mut buf = Vec::new();
            write_long(&mut buf, i64::from(v));
            let mut pos = 0;
            prop_assert_eq!(read_int(&buf, &mut pos), Ok(v));
            prop_assert_eq!(pos, buf.len());
        }

        /// The word-at-a-time fast path reads what the byte-by-byte path reads.
        #[test]
        fn fast_paths_equal_the_byte_loop(
            buf in proptest::collection::vec(prop_oneof![any::<u8>(), 0x80u8..=0xff], 0..16),
            start in 0usize..4,
        ) {
            let (mut fast, mut slow) = (start, start);
            let want = if start < buf.len() { read_u64_slow(&buf, &mut slow) } else { Err(DecodeReason::Truncated) };
            prop_assert_eq!(read_u64(&buf, &mut fast), want);
            prop_assert_eq!(fast, slow);
        }

        #[test]
        fn never_panics(buf in proptest::collection::vec(any::<u8>(), 0..12)) {
            let _ = read_long(&buf, &mut 0);
            let _ = read_int(&buf, &mut 0);
        }
    }
}
