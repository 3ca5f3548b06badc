//! The pace at which a recording is replayed: as fast as the client takes it, at the speed the
//! records were produced (from their timestamps), or K times that speed.
//!
//! A [`Pacer`] maps a record's timestamp to the moment it is due, counted from an origin: a record
//! `d` ms of record time after the origin is due `d / K` ms of wall time after the origin's moment.
//! For `--pace` the origin is each replay's first record, due at once; for `--live-from` it is the
//! live point T0, fixed for the whole server ([`Pacer::anchored`], used by [`crate::live`]). It is
//! pure: it is given the elapsed wall time and answers how long to wait. Invariant: the wait for a
//! record never exceeds its record-time distance from the origin divided by K, and is zero for
//! records that are already due (a late replay catches up rather than drifting).

use std::time::Duration;

use crate::{Error, Result};

/// How fast a recording is replayed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pace {
    /// As fast as credit allows.
    Max,
    /// Record time × this factor (1.0 = the original pace).
    Speed(f64),
}

impl std::str::FromStr for Pace {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        let t = text.trim();
        let bad = || {
            Error::InvalidArgument(format!(
                "pace {t:?}: use max, original, or xK with K a positive number (x10, x0.5)"
            ))
        };
        match t {
            "max" => Ok(Self::Max),
            "original" => Ok(Self::Speed(1.0)),
            _ => {
                let k: f64 = t
                    .strip_prefix('x')
                    .ok_or_else(bad)?
                    .parse()
                    .map_err(|_| bad())?;
                if k.is_finite() && k > 0.0 {
                    Ok(Self::Speed(k))
                } else {
                    Err(bad())
                }
            }
        }
    }
}

impl std::fmt::Display for Pace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Max => write!(f, "max"),
            Self::Speed(k) if *k == 1.0 => write!(f, "original"),
            Self::Speed(k) => write!(f, "x{k}"),
        }
    }
}

/// Paces one replay, or the live clock.
#[derive(Debug, Clone)]
pub struct Pacer {
    speed: Option<f64>,
    origin_ms: Option<i64>,
}

impl Pacer {
    /// A pacer whose origin is the first record it paces.
    pub fn new(pace: Pace) -> Self {
        Self {
            speed: match pace {
                Pace::Max => None,
                Pace::Speed(k) => Some(k),
            },
            origin_ms: None,
        }
    }

    /// A pacer at `speed` whose origin is the record time `origin_ms`.
    pub fn anchored(speed: f64, origin_ms: i64) -> Self {
        Self {
            speed: Some(speed),
            origin_ms: Some(origin_ms),
        }
    }

    /// How long after the origin's moment a record of time `timestamp_ms` is due: zero at pace
    /// max, before an origin is set, and for records at or before the origin.
    pub fn due(&self, timestamp_ms: i64) -> Duration {
        let (Some(speed), Some(origin)) = (self.speed, self.origin_ms) else {
            return Duration::ZERO;
        };
        let record_ms = timestamp_ms.saturating_sub(origin).max(0) as f64;
        Duration::from_secs_f64(record_ms / 1000.0 / speed)
    }

    /// How long to wait before sending a record of time `timestamp_ms`, `elapsed` after the
    /// origin's moment (the first record paced, unless anchored). Zero when it is due (always, at
    /// pace max).
    pub fn wait(&mut self, timestamp_ms: i64, elapsed: Duration) -> Duration {
        if self.speed.is_some() {
            self.origin_ms.get_or_insert(timestamp_ms);
        }
        self.due(timestamp_ms).saturating_sub(elapsed)
    }

    /// Whether this pacer ever waits.
    pub fn is_max(&self) -> bool {
        self.speed.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_and_prints() {
        for (text, pace) in [
            ("max", Pace::Max),
            ("original", Pace::Speed(1.0)),
            ("x10", Pace::Speed(10.0)),
            ("x0.5", Pace::Speed(0.5)),
        ] {
            let parsed: Pace = text.parse().unwrap();
            assert_eq!(parsed, pace);
            assert_eq!(parsed.to_string().parse::<Pace>().unwrap(), pace);
        }
        for bad in ["", "fast", "x0", "x-1", "xnan", "10"] {
            assert!(bad.parse::<Pace>().is_err(), "{bad}");
        }
    }

    #[test]
    fn waits_follow_record_time_divided_by_the_speed() {
        let mut p = Pacer::new(Pace::Speed(2.0));
        assert_eq!(p.wait(1_000, Duration::ZERO), Duration::ZERO);
        assert_eq!(p.wait(3_000, Duration::ZERO), Duration::from_secs(1));
        assert_eq!(
            p.wait(3_000, Duration::from_millis(400)),
            Duration::from_millis(600)
        );
        assert_eq!(p.wait(2_000, Duration::from_secs(5)), Duration::ZERO);
        let mut max = Pacer::new(Pace::Max);
        assert_eq!(max.wait(i64::MAX, Duration::ZERO), Duration::ZERO);
    }

    #[test]
    fn an_anchored_pacer_counts_from_its_origin_not_its_first_record() {
        let mut p = Pacer::anchored(4.0, 10_000);
        assert_eq!(p.wait(18_000, Duration::ZERO), Duration::from_secs(2));
        assert_eq!(p.due(18_000), Duration::from_secs(2));
        assert_eq!(p.wait(9_000, Duration::ZERO), Duration::ZERO);
        assert_eq!(
            p.wait(14_000, Duration::from_millis(250)),
            Duration::from_millis(750)
        );
    }

    proptest! {
        #[test]
        fn a_wait_never_exceeds_the_record_distance(
            speed in 0.01f64..100.0,
            first in -1_000_000i64..1_000_000,
            later in proptest::collection::vec(0i64..10_000_000, 1..20),
            elapsed_ms in 0u64..100_000,
        ) {
            let mut p = Pacer::new(Pace::Speed(speed));
            p.wait(first, Duration::ZERO);
            for d in later {
                let wait = p.wait(first + d, Duration::from_millis(elapsed_ms));
                prop_assert!(wait.as_secs_f64() <= d as f64 / 1000.0 / speed + 1e-6);
            }
        }
    }
}
