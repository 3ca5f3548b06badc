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
/// 365 days, as Deephaven's `YEAR`.
pub const YEAR: i64 = 365 * DAY;

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
        "YEAR" => YEAR,
        _ => return None,
    })
}
