//! The time literals of the formula language, in single quotes, recognised by their shape as
//! Deephaven's query language does:
//!
//! | literal | is | value |
//! |---|---|---|
//! | `'2026-01-05T17:00:00Z'`, `'…T12:00:00.5+01:00'`, `'…T12:00 America/New_York'`, `'2026-01-05 ET'` | an instant | `i64` nanoseconds since the epoch |
//! | `'PT1m'`, `'PT0.5s'`, `'-PT1s'`, `'P1DT2h'` (case-insensitive, Java's `Duration.parse`) | a duration | `i64` nanoseconds (a `long`) |
//! | `'2026-01-05'` | a local date | `i32` days since the epoch |
//! | `'12:30:00'`, `'12:30'`, `'L12:30:00.25'` | a local time | `i64` nanoseconds since midnight |
//! | `'America/New_York'`, `'ET'`, `'UTC'`, `'+01:00'` | a time zone | (a function's argument only) |
//!
//! A literal that is none of these is an error that says what it could not be.

use std::sync::Arc;

use super::calendar::{days_from_civil, days_in_month};
use super::zone::{Zone, zone};
use super::{DAY, HOUR, MINUTE, SECOND};

#[derive(Debug, Clone)]
pub enum Literal {
    Instant(i64),
    Duration(i64),
    Date(i32),
    Time(i64),
    Zone(Arc<Zone>),
}

/// Parses the text between the quotes.
pub fn parse(text: &str) -> Result<Literal, String> {
    let t = text.trim();
    if let Some(d) = local_date(t) {
        let days = d?;
        return i32::try_from(days)
            .map(Literal::Date)
            .map_err(|_| format!("date '{t}' is out of range"));
    }
    if let Some(time) = local_time(t.strip_prefix('L').unwrap_or(t)) {
        return time.map(Literal::Time);
    }
    if is_duration(t) {
        return duration(t).map(Literal::Duration);
    }
    if t.len() > 10 && t.as_bytes()[..4].iter().all(u8::is_ascii_digit) && t.as_bytes()[4] == b'-' {
        return instant(t).map(Literal::Instant);
    }
    match zone(t) {
        Ok(z) => Ok(Literal::Zone(z)),
        Err(e) if e.starts_with("unknown time zone") => Err(format!(
            "cannot read '{t}' as an instant, a duration, a date, a time or a time zone"
        )),
        Err(e) => Err(e),
    }
}

fn digits(s: &str) -> Option<i64> {
    if s.is_empty() || s.len() > 18 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `yyyy-M-d` (1 or 2 digits for month and day, 4 to 10 for the year): `None` if it is not that
/// shape, an error if it is but names no date.
fn local_date(t: &str) -> Option<Result<i64, String>> {
    let mut parts = t.splitn(3, '-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    let shaped =
        (4..=10).contains(&y.len()) && (1..=2).contains(&m.len()) && (1..=2).contains(&d.len());
    let (y, m, d) = (digits(y)?, digits(m)?, digits(d)?);
    if !shaped {
        return None;
    }
    let (m, d) = (m as u32, d as u32);
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return Some(Err(format!("'{t}' is not a date (no such day)")));
    }
    Some(Ok(days_from_civil(y, m, d)))
}

/// `H:mm[:ss[.fffffffff]]`: `None` if it is not that shape.
fn local_time(t: &str) -> Option<Result<i64, String>> {
    let (hms, fraction) = match t.split_once('.') {
        Some((a, f)) => (a, Some(f)),
        None => (t, None),
    };
    let mut parts = hms.split(':');
    let h = parts.next()?;
    let m = parts.next()?;
    let s = parts.next();
    if parts.next().is_some()
        || !(1..=2).contains(&h.len())
        || m.len() != 2
        || s.is_some_and(|s| s.len() != 2)
        || (fraction.is_some() && s.is_none())
    {
        return None;
    }
    let (h, m, s) = (digits(h)?, digits(m)?, s.map_or(Some(0), digits)?);
    let nanos = match fraction {
        Some(f) if (1..=9).contains(&f.len()) => digits(f)? * 10i64.pow(9 - f.len() as u32),
        Some(_) => {
            return Some(Err(format!(
                "'{t}': a fraction of a second has 1 to 9 digits"
            )));
        }
        None => 0,
    };
    if h > 23 || m > 59 || s > 59 {
        return Some(Err(format!("'{t}' is not a time of day")));
    }
    Some(Ok(h * HOUR + m * MINUTE + s * SECOND + nanos))
}

fn is_duration(t: &str) -> bool {
    let t = t.strip_prefix(['-', '+']).unwrap_or(t);
    t.starts_with(['P', 'p'])
        && t.bytes().any(|b| b.is_ascii_digit())
        && t.as_bytes()[1..]
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.,".contains(b))
}

/// Java's `Duration.parse`: `[-]PnDTnHnMn.nS`, each number signed, case-insensitive.
fn duration(t: &str) -> Result<i64, String> {
    let bad = |why: &str| format!("'{t}' is not a duration ({why})");
    let (negate, rest) = match t.as_bytes()[0] {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    let rest = &rest[1..]; // the P
    let upper = rest.to_ascii_uppercase();
    let (date, time) = match upper.split_once('T') {
        Some((_, "")) => return Err(bad("nothing after T")),
        Some((d, t)) => (d.to_owned(), Some(t.to_owned())),
        None => (upper.clone(), None),
    };
    if date.is_empty() && time.is_none() {
        return Err(bad("no amount"));
    }
    let mut total: i64 = 0;
    let mut read = |s: &str, units: &[(u8, i64)]| -> Result<(), String> {
        let mut s = s;
        let mut unit_at = 0;
        while !s.is_empty() {
            let end = s
                .find(|c: char| c.is_ascii_alphabetic())
                .ok_or_else(|| bad("a number without a unit"))?;
            let (number, unit) = (&s[..end], s.as_bytes()[end]);
            let Some(k) = units[unit_at..].iter().position(|(u, _)| *u == unit) else {
                return Err(
                    if unit == b'Y' || unit == b'W' || (unit == b'M' && units.len() == 1) {
                        bad("years, months and weeks are periods, not durations")
                    } else {
                        bad("units in the order D, then T H M S")
                    },
                );
            };
            let (_, scale) = units[unit_at + k];
            unit_at += k + 1;
            let (sign, number) = match number.as_bytes().first() {
                Some(b'-') => (-1i64, &number[1..]),
                Some(b'+') => (1, &number[1..]),
                _ => (1, number),
            };
            let (whole, fraction) = match number.split_once(['.', ',']) {
                Some((w, f)) if unit == b'S' => (w, f),
                Some(_) => return Err(bad("only seconds take a fraction")),
                None => (number, ""),
            };
            let whole = digits(whole).ok_or_else(|| bad("a number is not digits"))?;
            let nanos = match fraction.len() {
                0 => 0,
                1..=9 => {
                    digits(fraction).ok_or_else(|| bad("a fraction is not digits"))?
                        * 10i64.pow(9 - fraction.len() as u32)
                }
                _ => return Err(bad("a fraction of a second has at most 9 digits")),
            };
            let amount = whole
                .checked_mul(scale)
                .and_then(|n| n.checked_add(nanos))
                .and_then(|n| n.checked_mul(sign))
                .and_then(|n| total.checked_add(n))
                .ok_or_else(|| bad("too long for a long of nanoseconds"))?;
            total = amount;
            s = &s[end + 1..];
        }
        Ok(())
    };
    read(&date, &[(b'D', DAY)])?;
    if let Some(time) = &time {
        read(time, &[(b'H', HOUR), (b'M', MINUTE), (b'S', SECOND)])?;
    }
    let total = if negate {
        total.checked_neg()
    } else {
        Some(total)
    };
    total
        .filter(|&n| n != i64::MIN)
        .ok_or_else(|| bad("too long for a long of nanoseconds"))
}

/// An instant: a date, `T`, a time, then `Z`, an offset, or a space and a zone; or a date, a
/// space and a zone (midnight there).
fn instant(t: &str) -> Result<i64, String> {
    let bad = |why: String| format!("'{t}' is not an instant ({why})");
    let (date_time, zone_part) = match t.find(' ') {
        Some(i) => (&t[..i], Some(t[i + 1..].trim())),
        None => (t, None),
    };
    let (date, time) = match date_time.split_once(['T', 't']) {
        Some((d, time)) => (d, time),
        None => (date_time, ""),
    };
    let days = match local_date(date) {
        Some(Ok(days)) => days,
        Some(Err(e)) => return Err(bad(e)),
        None => return Err(bad("it does not start with a date yyyy-mm-dd".into())),
    };
    // The offset, if the time carries one: Z, +hh:mm, -hh:mm.
    let (time, offset) = match time.find(['Z', 'z', '+', '-']) {
        Some(i) => (&time[..i], Some(&time[i..])),
        None => (time, None),
    };
    let nanos_of_day = if time.is_empty() {
        0
    } else {
        match local_time(time) {
            Some(Ok(n)) => n,
            Some(Err(e)) => return Err(bad(e)),
            None => return Err(bad(format!("'{time}' is not a time hh:mm[:ss[.f]]"))),
        }
    };
    // Dates far outside the range of an instant (years 1677 to 2262) are refused before a zone
    // is asked about them; the rest is exact, so an instant within a day of either end is read.
    if !(-110_000..=110_000).contains(&days) {
        return Err(bad("out of range".into()));
    }
    let zone = match (offset, zone_part) {
        (Some(_), Some(_)) => return Err(bad("both an offset and a zone".into())),
        (Some(o), None) if o.eq_ignore_ascii_case("z") => "UTC",
        (Some(o), None) => o,
        (None, Some(z)) => z,
        (None, None) => {
            return Err(bad(
                "it needs a time zone: Z, an offset like +01:00, or a zone after a space".into(),
            ));
        }
    };
    let zone = super::zone::zone(zone).map_err(bad)?;
    let instant = zone.offsets().instant(days, nanos_of_day);
    super::instant_in_range(instant).ok_or_else(|| bad("out of range".into()))
}

#[cfg(all(test, feature = "tzdb"))]
mod tests {
    use super::*;

    fn value(t: &str) -> i64 {
        match parse(t).unwrap_or_else(|e| panic!("{t}: {e}")) {
            Literal::Instant(v) | Literal::Duration(v) | Literal::Time(v) => v,
            Literal::Date(d) => i64::from(d),
            Literal::Zone(_) => -1,
        }
    }

    #[test]
    fn shapes() {
        assert_eq!(value("2026-01-05T17:00:00Z"), 1_767_632_400 * SECOND);
        assert_eq!(
            value("2026-01-05T12:00:00 America/New_York"),
            1_767_632_400 * SECOND
        );
        assert_eq!(
            value("2026-01-05T18:00:00.5+01:00"),
            1_767_632_400 * SECOND + SECOND / 2
        );
        assert_eq!(value("PT1m"), MINUTE);
        assert_eq!(value("PT0.5s"), SECOND / 2);
        assert_eq!(value("PT2h30m"), 2 * HOUR + 30 * MINUTE);
        assert_eq!(value("-PT1s"), -SECOND);
        assert_eq!(value("P1DT2h"), DAY + 2 * HOUR);
        assert_eq!(value("PT-6H3M"), -6 * HOUR + 3 * MINUTE);
        assert_eq!(value("2026-01-05"), 20_458);
        assert_eq!(value("12:30:00"), 12 * HOUR + 30 * MINUTE);
        assert!(matches!(parse("ET"), Ok(Literal::Zone(_))));
        assert!(
            matches!(parse("PT"), Ok(Literal::Zone(_))),
            "PT alone is the Pacific zone"
        );
        for bad in [
            "2026-02-30",
            "25:00:00",
            "PT1X",
            "P1Y",
            "PT1.5H",
            "2026-01-05T17:00:00",
            "2026-01-05T17:00:00 Mars/Base",
            "hello",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    /// Instants within a day of either end of the range are read exactly; one past the end (or
    /// the null sentinel, i64::MIN) is an error, whatever the zone moves it by.
    #[test]
    fn instants_at_the_ends_of_the_range() {
        let exact = |days: i64, nanos: i64| -> i64 {
            let n = i128::from(days) * i128::from(DAY) + i128::from(nanos);
            i64::try_from(n).unwrap()
        };
        let first = days_from_civil(1677, 9, 21);
        assert_eq!(value("2262-04-11T23:47:16.854775807Z"), i64::MAX);
        assert_eq!(value("2262-04-11T18:47:16.854775807-05:00"), i64::MAX);
        assert_eq!(value("1677-09-21T00:12:43.145224193Z"), i64::MIN + 1);
        assert_eq!(value("1677-09-21T12:00:00Z"), exact(first, 12 * HOUR));
        // New York's local mean time then: -4:56:02.
        assert_eq!(
            value("1677-09-20T19:16:41.145224193 America/New_York"),
            i64::MIN + 1
        );
        for bad in [
            "2262-04-11T23:47:16.854775808Z",
            "2262-04-11T23:47:16.854775807-01:00",
            "2262-04-12T00:00:00Z",
            "1677-09-21T00:12:43.145224192Z",
            "1677-09-21T00:12:43.145224193+00:01",
            "1677-09-20T23:59:59Z",
            "1677-09-21 UTC",
            "9999-12-31T00:00:00Z",
            "0001-01-01T00:00:00Z",
        ] {
            let e = parse(bad).unwrap_err();
            assert!(e.contains("out of range"), "{bad}: {e}");
        }
    }
}
