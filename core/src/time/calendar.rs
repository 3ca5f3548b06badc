//! The proleptic Gregorian calendar: days since the epoch ↔ (year, month, day), with Howard
//! Hinnant's branch-free algorithms (`days_from_civil`, `civil_from_days`), and the text forms
//! Java gives dates and times (`LocalDate`, `LocalTime` and `Instant`'s `toString`).
//!
//! Everything here is exact integer arithmetic on `i64`, valid for every instant an `i64` of
//! nanoseconds holds (years 1677 to 2262), and far beyond for days.

use super::{DAY, SECOND};

/// Days since 1970-01-01 of a civil date (`month` 1..=12, `day` 1..=31).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400; // [0, 399]
    let m = i64::from(month);
    let mp = if m > 2 { m - 3 } else { m + 9 }; // March = 0
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1; // [0, 365]
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // [0, 146096]
    era * 146_097 + doe - 719_468
}

/// The civil date (year, month, day) of a day since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097; // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11]
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

pub fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

pub fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// ISO day of the week: 1 is Monday, 7 is Sunday (1970-01-01 was a Thursday).
pub fn day_of_week(days: i64) -> u32 {
    ((days + 3).rem_euclid(7) + 1) as u32
}

/// 1 for January 1st.
pub fn day_of_year(days: i64) -> u32 {
    let (year, _, _) = civil_from_days(days);
    (days - days_from_civil(year, 1, 1) + 1) as u32
}

/// Splits nanoseconds since an epoch into (days, nanoseconds into that day).
pub fn split_day(nanos: i64) -> (i64, i64) {
    (nanos.div_euclid(DAY), nanos.rem_euclid(DAY))
}

/// `yyyy-MM-dd`, as Java's `ISO_LOCAL_DATE` (a sign and more digits outside 0000..=9999).
pub fn format_date(days: i64, out: &mut String) {
    use std::fmt::Write;
    let (y, m, d) = civil_from_days(days);
    let _ = match y {
        0..=9999 => write!(out, "{y:04}-{m:02}-{d:02}"),
        10_000.. => write!(out, "+{y}-{m:02}-{d:02}"),
        _ => write!(out, "-{:04}-{m:02}-{d:02}", -y),
    };
}

/// `HH:mm:ss` and then the fraction Java's `ISO_LOCAL_TIME` prints (as many digits as it needs).
fn format_hms_fraction(nanos_of_day: i64, out: &mut String) {
    use std::fmt::Write;
    let (h, m, s, f) = hms(nanos_of_day);
    let _ = write!(out, "{h:02}:{m:02}:{s:02}");
    if f != 0 {
        let digits = format!("{f:09}");
        let _ = write!(out, ".{}", digits.trim_end_matches('0'));
    }
}

/// (hour, minute, second, nanosecond) of nanoseconds into a day.
pub fn hms(nanos_of_day: i64) -> (i64, i64, i64, i64) {
    let secs = nanos_of_day / SECOND;
    (
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        nanos_of_day % SECOND,
    )
}

/// Deephaven's `formatDateTime` of a local date-time (days since the local epoch, nanoseconds
/// into that day): `yyyy-MM-ddTHH:mm:ss.nnnnnnnnn ZONE` (always nine digits).
pub fn format_date_time(days: i64, nod: i64, zone: &str, out: &mut String) {
    format_date(days, out);
    out.push('T');
    let start = out.len();
    format_hms_fraction(nod, out);
    if out.len() - start == 8 {
        out.push('.');
    }
    while out.len() - start < 18 {
        out.push('0');
    }
    out.push(' ');
    out.push_str(zone);
}

/// The fraction as Java's `toString` of `Instant` and `LocalTime` writes it: 3, 6 or 9 digits.
fn java_fraction(f: i64, out: &mut String) {
    use std::fmt::Write;
    let _ = if f == 0 {
        Ok(())
    } else if f % 1_000_000 == 0 {
        write!(out, ".{:03}", f / 1_000_000)
    } else if f % 1000 == 0 {
        write!(out, ".{:06}", f / 1000)
    } else {
        write!(out, ".{f:09}")
    };
}

/// Java's `Instant.toString()`: `2026-01-05T17:00:00Z`, `2026-01-05T17:00:00.500Z`.
pub fn format_instant(nanos: i64, out: &mut String) {
    use std::fmt::Write;
    let (days, nod) = split_day(nanos);
    format_date(days, out);
    let (h, m, s, f) = hms(nod);
    let _ = write!(out, "T{h:02}:{m:02}:{s:02}");
    java_fraction(f, out);
    out.push('Z');
}

/// Java's `LocalTime.toString()`: `12:30`, `12:30:05`, `12:30:05.250`.
pub fn format_time(nanos_of_day: i64, out: &mut String) {
    use std::fmt::Write;
    let (h, m, s, f) = hms(nanos_of_day);
    let _ = write!(out, "{h:02}:{m:02}");
    if s != 0 || f != 0 {
        let _ = write!(out, ":{s:02}");
        java_fraction(f, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(days_from_civil(2024, 2, 29)), (2024, 2, 29));
        assert_eq!(day_of_week(0), 4);
        assert_eq!(day_of_year(days_from_civil(2024, 12, 31)), 366);
        assert!(is_leap(2000) && !is_leap(1900) && !is_leap(2100) && is_leap(2024));
        let mut s = String::new();
        format_date_time(0, 0, "UTC", &mut s);
        assert_eq!(s, "1970-01-01T00:00:00.000000000 UTC");
        s.clear();
        format_instant(1_500_000_000, &mut s);
        assert_eq!(s, "1970-01-01T00:00:01.500Z");
        s.clear();
        format_time(12 * 3600 * SECOND + 30 * 60 * SECOND, &mut s);
        assert_eq!(s, "12:30");
    }

    proptest! {
        /// The two directions invert each other, and consecutive days are consecutive dates.
        #[test]
        fn civil_round_trips(days in -1_000_000i64..1_000_000) {
            let (y, m, d) = civil_from_days(days);
            prop_assert_eq!(days_from_civil(y, m, d), days);
            prop_assert!((1..=days_in_month(y, m)).contains(&d));
            let (y2, m2, d2) = civil_from_days(days + 1);
            let next = if d < days_in_month(y, m) { (y, m, d + 1) }
                else if m < 12 { (y, m + 1, 1) } else { (y + 1, 1, 1) };
            prop_assert_eq!((y2, m2, d2), next);
        }
    }
}
