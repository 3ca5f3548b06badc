//! Instants in JSON: ISO-8601 text or an epoch number, as nanoseconds since the epoch.
//!
//! The common shape, `yyyy-mm-ddThh:mm:ss[.f…](Z|±hh:mm)` (what Java's `Instant.toString`,
//! Python's `isoformat()` and JavaScript's `toISOString` write), is read here digit by digit;
//! any other text goes to the formula language's instant literal ([`crate::time::literal`]),
//! which takes a zone name too (`2026-01-05T12:00 America/New_York`).
//!
//! Invariant: a result is an exact instant within an `i64` of nanoseconds (never the null
//! sentinel); anything else is `None`.

use super::scan::Number;
use super::spec::EpochUnit;
use crate::time::calendar::{days_from_civil, days_in_month};
use crate::time::literal::{Literal, parse};
use crate::time::{DAY, HOUR, MINUTE, SECOND};

/// The last date read (its 10 bytes `yyyy-mm-dd`, and its day number): consecutive records
/// mostly share it.
pub type LastDate = Option<([u8; 10], i64)>;

/// An instant from ISO-8601 text.
pub fn from_text(text: &str) -> Option<i64> {
    from_text_cached(text, &mut None)
}

/// [`from_text`], reusing `last` when the date is the same.
#[inline]
pub fn from_text_cached(text: &str, last: &mut LastDate) -> Option<i64> {
    match fast(text.as_bytes(), last) {
        Some(n) => Some(n),
        None => match parse(text) {
            Ok(Literal::Instant(n)) => Some(n),
            _ => None,
        },
    }
}

/// An instant from an epoch number in `unit`, its fraction kept to the nanosecond.
pub fn from_number(n: &Number, text: &str, unit: EpochUnit) -> Option<i64> {
    let nanos = match n.as_i64() {
        Some(i) => i.checked_mul(unit.nanos())?,
        None => {
            let f = n.as_f64(text.as_bytes())? * unit.nanos() as f64;
            // Beyond ±2^63 the cast would saturate: refused instead.
            if !(-9.223_372_036_854_775e18..9.223_372_036_854_775e18).contains(&f) {
                return None;
            }
            f.round() as i64
        }
    };
    (nanos != i64::MIN).then_some(nanos)
}

/// The decimal digits `b` (in the page's build, opt-level "z", only `#[inline(always)]` inlines).
#[inline(always)]
fn num(b: &[u8]) -> Option<i64> {
    let mut v = 0i64;
    for &d in b {
        if !d.is_ascii_digit() {
            return None;
        }
        v = v * 10 + i64::from(d - b'0');
    }
    Some(v)
}

/// Whether two dates' texts are equal, as two words (an array compare is a `memcmp` call in the
/// page's build).
#[inline(always)]
fn same_date(a: &[u8; 10], b: &[u8; 10]) -> bool {
    let words = |d: &[u8; 10]| {
        let [a0, a1, a2, a3, a4, a5, a6, a7, a8, a9] = *d;
        (
            u64::from_le_bytes([a0, a1, a2, a3, a4, a5, a6, a7]),
            u16::from_le_bytes([a8, a9]),
        )
    };
    words(a) == words(b)
}

/// `yyyy-mm-ddThh:mm:ss[.f{1,9}](Z|±hh:mm)`, or `None` for any other shape.
#[inline]
#[cfg_attr(streamglass_site, optimize(speed))]
pub(super) fn fast(b: &[u8], last: &mut LastDate) -> Option<i64> {
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let date = <[u8; 10]>::try_from(&b[..10]).ok()?;
    let days = match *last {
        Some((d, days)) if same_date(&d, &date) => days,
        _ => {
            let (y, m, d) = (num(&b[0..4])?, num(&b[5..7])?, num(&b[8..10])?);
            if !(1..=12).contains(&m) || d < 1 || d > i64::from(days_in_month(y, m as u32)) {
                return None;
            }
            let days = days_from_civil(y, m as u32, d as u32);
            *last = Some((date, days));
            days
        }
    };
    // `hh:mm:ss` as one word, each byte less its `0` (the colons, checked above, to zero): all
    // digits if no byte is 10 or more (or wrapped past zero).
    let w = u64::from_le_bytes(*b.get(11..19)?.first_chunk::<8>()?);
    let d = w.wrapping_sub(u64::from_le_bytes(*b"00:00:00"));
    if (d | d.wrapping_add(0x7676_7676_7676_7676)) & 0x8080_8080_8080_8080 != 0 {
        return None;
    }
    let [h1, h0, _, m1, m0, _, s1, s0] = d.to_le_bytes();
    let two = |a: u8, b: u8| i64::from(a) * 10 + i64::from(b);
    let (h, mi, s) = (two(h1, h0), two(m1, m0), two(s1, s0));
    if h > 23 || mi > 59 || s > 59 {
        return None;
    }
    let mut rest = &b[19..];
    let mut frac = 0i64;
    if let [b'.', tail @ ..] = rest {
        // Up to nine digits, in one pass.
        let mut n = 0;
        while let Some(&c @ b'0'..=b'9') = tail.get(n) {
            if n == 9 {
                return None;
            }
            frac = frac * 10 + i64::from(c - b'0');
            n += 1;
        }
        const SCALE: [i64; 9] = [
            100_000_000,
            10_000_000,
            1_000_000,
            100_000,
            10_000,
            1_000,
            100,
            10,
            1,
        ];
        frac *= SCALE.get(n.checked_sub(1)?)?;
        rest = &tail[n..];
    }
    let offset = match rest {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), oh @ .., b':', om1, om2] if oh.len() == 2 => {
            let (oh, om) = (num(oh)?, num(&[*om1, *om2])?);
            let o = oh * HOUR + om * MINUTE;
            // Offsets reach ±18:00, as java.time's (and the literal parser's) do.
            if om > 59 || o > 18 * HOUR {
                return None;
            }
            if *sign == b'-' { -o } else { o }
        }
        _ => return None,
    };
    let nanos = i128::from(days) * i128::from(DAY)
        + i128::from(h * HOUR + mi * MINUTE + s * SECOND + frac - offset);
    crate::time::instant_in_range(nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_text_fast_and_slow_agree_with_the_literal_parser() {
        for t in [
            "2026-01-05T17:00:00Z",
            "2026-01-05T17:00:00.123456789Z",
            "2026-01-05T17:00:00.5+01:30",
            "1970-01-01T00:00:00-05:00",
            "2262-04-11T23:47:16.854775807Z",
            "1677-09-21T00:12:43.145224193Z",
            "2262-04-12T00:47:16.854775807+01:00",
            "1677-09-20T23:12:43.145224193-01:00",
            "2024-02-29T23:59:59.9z",
            "2026-01-05T17:00:00+18:00",
            "2026-01-05T17:00:00-18:00",
        ] {
            let Ok(Literal::Instant(want)) = parse(t) else {
                panic!("{t}")
            };
            assert_eq!(fast(t.as_bytes(), &mut None), Some(want), "{t}");
            // Through a cache of another date and of the same.
            let mut last = None;
            from_text_cached("2026-01-05T00:00:00Z", &mut last);
            assert_eq!(from_text_cached(t, &mut last), Some(want), "{t}");
            assert_eq!(from_text_cached(t, &mut last), Some(want), "{t}");
            assert_eq!(from_text(t), Some(want), "{t}");
        }
        // Other shapes go to the literal parser.
        assert_eq!(
            from_text("2026-01-05T12:00 UTC"),
            from_text("2026-01-05T12:00:00Z")
        );
        for bad in [
            "2026-02-30T00:00:00Z",
            "2026-01-05T24:00:00Z",
            "2026-01-05T17:00:00.1234567891Z",
            "2262-04-11T23:47:16.854775808Z",
            "1677-09-21T00:12:43.145224192Z",
            "9999-12-31T00:00:00Z",
            "2026-01-05T17:00:00+18:01",
            "2026-01-05T17:00:00-23:59",
            "2026-01-05T17:00:00+19:00",
            "yesterday",
            "",
        ] {
            assert_eq!(from_text(bad), None, "{bad}");
        }
    }

    proptest::proptest! {
        /// The fast shape, its digits anything near a digit, read as the literal parser reads it
        /// (through a cache of the last date, and without), offsets beyond ±18:00 refused by both.
        #[test]
        fn the_fast_shape_reads_as_the_literal_parser_does(
            t in "[0-9]{4}-[0-1][0-9]-[0-3][0-9][Tt][0-2/:][0-9/:]:[0-6][0-9]:[0-6/][0-9:](\\.[0-9]{0,10})?([Zz]|[+-][0-2][0-9]:[0-6][0-9])",
            other in "20[0-9]{2}-0[1-9]-[0-2][0-9]T00:00:00Z",
        ) {
            let want = match parse(&t) {
                Ok(Literal::Instant(n)) => Some(n),
                _ => None,
            };
            let mut last = None;
            from_text_cached(&other, &mut last);
            proptest::prop_assert_eq!(from_text_cached(&t, &mut last), want);
            proptest::prop_assert_eq!(from_text_cached(&t, &mut last), want);
            proptest::prop_assert_eq!(from_text(&t), want);
        }
    }
}
