//! The session's clock: what formulas' `now()` read, set on the engine before every cycle.
//!
//! It is the time of the data the session consumes: the newest record time delivered so far,
//! advanced by wall time since it was delivered; wall time while nothing has been delivered. In
//! numbers: `now = wall + max(recordTime − wallAtDelivery)` over every `Records` frame received,
//! so it never goes back. For a topic written now, record times are wall times and this is wall
//! time. For a recording replayed as live (`serve --live-from`), whose live edge is in record
//! time (`T0 + t·speed`), it is that edge, late by at most the bridge's release tick (100 ms)
//! or the quiet time since the last record at another speed than 1, so a filter such as
//! `KafkaTimestamp >= now() - 'PT5m'` shows the last five minutes of the replay rather than
//! nothing. For a recording replayed as fast as it goes, it runs with the data as it arrives.
//! `session.setClock(nanos)` fixes it instead (`null` hands it back to the data).

use std::cell::Cell;

/// Milliseconds to nanoseconds.
const NANOS_PER_MS: i64 = 1_000_000;

#[derive(Default)]
pub(crate) struct StreamClock {
    /// `max(recordTime − wallAtDelivery)` in ms, once a record was delivered.
    offset_ms: Cell<Option<f64>>,
    /// A clock the page fixed, in ns.
    fixed: Cell<Option<i64>>,
}

impl StreamClock {
    /// Records delivered at wall time `wall_ms`, the newest of them at `record_ms` (Kafka's
    /// timestamp; a negative one means none).
    pub(crate) fn observe(&self, record_ms: i64, wall_ms: f64) {
        if record_ms < 0 {
            return;
        }
        let offset = record_ms as f64 - wall_ms;
        if self.offset_ms.get().is_none_or(|o| offset > o) {
            self.offset_ms.set(Some(offset));
        }
    }

    /// Fixes the clock at `nanos`, or hands it back to the data (`None`).
    pub(crate) fn fix(&self, nanos: Option<i64>) {
        self.fixed.set(nanos);
    }

    /// The clock at wall time `wall_ms`, in ns since the epoch.
    pub(crate) fn now(&self, wall_ms: f64) -> i64 {
        self.fixed.get().unwrap_or_else(|| {
            let ms = (wall_ms + self.offset_ms.get().unwrap_or(0.0)).round() as i64;
            ms.saturating_mul(NANOS_PER_MS)
        })
    }
}

/// The wall clock, in ms since the epoch.
pub(crate) fn wall_ms() -> f64 {
    js_sys::Date::now()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_is_wall_time_until_data_comes_then_follows_it_and_never_goes_back() {
        const HOUR: i64 = 3_600_000;
        // Wall time, in ms; the replay's records are an hour behind it.
        let wall: i64 = 1_767_632_400_000;
        let ns = |ms: i64| ms * 1_000_000;
        let clock = StreamClock::default();
        assert_eq!(clock.now(wall as f64), ns(wall));
        clock.observe(wall - HOUR, wall as f64);
        assert_eq!(clock.now((wall + 500) as f64), ns(wall + 500 - HOUR));
        // An older record does not move it back; a newer one moves it on.
        clock.observe(wall - 2 * HOUR, (wall + 1_000) as f64);
        assert_eq!(clock.now((wall + 1_000) as f64), ns(wall + 1_000 - HOUR));
        clock.observe(wall + 1_100 - HOUR, (wall + 1_000) as f64);
        assert_eq!(clock.now((wall + 1_000) as f64), ns(wall + 1_100 - HOUR));
        // Kafka's "no timestamp" is ignored.
        clock.observe(-1, (wall + 1_000) as f64);
        assert_eq!(clock.now((wall + 1_000) as f64), ns(wall + 1_100 - HOUR));
        clock.fix(Some(42));
        assert_eq!(clock.now(wall as f64), 42);
        clock.fix(None);
        assert_eq!(clock.now((wall + 1_000) as f64), ns(wall + 1_100 - HOUR));
    }
}
