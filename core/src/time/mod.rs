//! Time: the calendar, time zones and the time literals of formulas.
//!
//! Representations, as Deephaven's columns hold them: an instant (`Timestamp`) is `i64`
//! nanoseconds since 1970-01-01T00:00:00Z, a duration is a plain `long` of nanoseconds (our
//! choice: Deephaven's `Duration` objects become longs, so `'PT1m'` and `MINUTE` are the same
//! value), a local date (`Date`) `i32` days since 1970-01-01, a local time (`Time`) `i64`
//! nanoseconds since midnight. Nulls are the columns' sentinels (`i64::MIN`, `i32::MIN`).
//!
//! [`calendar`] is exact integer arithmetic; [`zone`] takes only UTC offsets from a host (jiff's
//! bundled IANA database natively, the browser's `Intl` in the page); [`literal`] parses what a
//! formula writes in single quotes.

pub mod calendar;
pub mod literal;
pub mod zone;

pub const MICRO: i64 = 1_000;
pub const MILLI: i64 = 1_000_000;
pub const SECOND: i64 = 1_000_000_000;
pub const MINUTE: i64 = 60 * SECOND;
pub const HOUR: i64 = 60 * MINUTE;
pub const DAY: i64 = 24 * HOUR;
pub const WEEK: i64 = 7 * DAY;
/// 365 days of wall time, as Deephaven's `YEAR_365`.
pub const YEAR_365: i64 = 365 * DAY;
/// The average Gregorian year, 365.2425 days, as Deephaven's `YEAR_AVG`.
pub const YEAR_AVG: i64 = 31_556_952 * SECOND;

/// An exact instant as an instant column holds it: `None` beyond the range of an `i64` of
/// nanoseconds or at its null sentinel (`i64::MIN`), where Deephaven's `DateTimeUtils` throws an
/// overflow (so a formula gives null).
pub fn instant_in_range(nanos: i128) -> Option<i64> {
    i64::try_from(nanos).ok().filter(|&n| n != i64::MIN)
}

/// Deephaven's time constants, by the name a formula uses.
pub fn constant(name: &str) -> Option<i64> {
    Some(match name {
        "MICRO" => MICRO,
        "MILLI" => MILLI,
        "SECOND" => SECOND,
        "MINUTE" => MINUTE,
        "HOUR" => HOUR,
        "DAY" => DAY,
        "WEEK" => WEEK,
        "YEAR_365" => YEAR_365,
        "YEAR_AVG" => YEAR_AVG,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_are_deephavens() {
        // DateTimeUtils: YEAR_365 = 365 * DAY, YEAR_AVG = 31556952000000000L (365.2425 days).
        assert_eq!(constant("YEAR_365"), Some(31_536_000_000_000_000));
        assert_eq!(constant("YEAR_AVG"), Some(31_556_952_000_000_000));
        assert_eq!(
            YEAR_AVG / SECOND * 400,
            146_097 * 86_400,
            "400 Gregorian years, 146,097 days"
        );
        assert_eq!(constant("YEAR"), None, "Deephaven has no YEAR");
        assert_eq!(constant("WEEK"), Some(7 * 86_400 * SECOND));
    }
}
