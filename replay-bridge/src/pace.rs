//! The pace at which a recording is replayed: as fast as the client takes it, at the speed the
//! records were produced (from their timestamps), or K times that speed.
//!
//! A [`Pacer`] maps a record's timestamp to the moment it is due: the first record paced is due
//! at once, and a record `d` ms of record time later is due `d / K` ms of wall time later. It is
//! pure: it is given the elapsed wall time and answers how long to wait. Invariant: the wait for a
//! record never exceeds its record-time distance from the first one divided by K, and is zero for
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

/// Paces one replay.
#[derive(Debug, Clone)]
pub struct Pacer {
    speed: Option<f64>,
    first_ms: Option<i64>,
}

impl Pacer {
    pub fn new(pace: Pace) -> Self {
        Self {
            speed: match pace {
                Pace::Max => None,
                Pace::Speed(k) => Some(k),
            },
            first_ms: None,
        }
    }

    /// How long to wait before sending a record of time `timestamp_ms`, `elapsed` after the
    /// first record was paced. Zero when it is due (always, at pace max).
    pub fn wait(&mut self, timestamp_ms: i64, elapsed: Duration) -> Duration {
        let Some(speed) = self.speed else {
            return Duration::ZERO;
        };
        let first = *self.first_ms.get_or_insert(timestamp_ms);
        let record_ms = timestamp_ms.saturating_sub(first).max(0) as f64;
        let due = Duration::from_secs_f64(record_ms / 1000.0 / speed);
        due.saturating_sub(elapsed)
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
