//! The session's clock: what formulas' `now()` read, set on the engine before every cycle.
//!
//! It is the time of the data the session consumes; wall time while nothing has been delivered.
//! Each partition of each subscription (a *lane*) tells the time it has reached: its newest record
//! time, advanced by wall time since that record was delivered (`wall + recordTime −
//! wallAtDelivery`). Honest lanes can only be behind the data's time (a record is delivered at or
//! after its time), so the clock is the most advanced lane, but one a wrong timestamp cannot move:
//! - a frame counts its newest record time but one, and a lane the older of its last two frames,
//!   so one record's time (from a producer with a wrong clock, micros for millis) is believed
//!   only when the frame holds nothing else and the partition's next frame agrees with it (or it
//!   is the partition's first frame, alone);
//! - a lane more than [`SPREAD_MS`] ahead of the lanes' (lower) median is ignored, so one
//!   partition whose producer runs ahead cannot pull the others along. The median is over the
//!   lanes that delivered in the last [`RECENT_MS`] (all of them if none did), so that a topic read
//!   once (reference data from last year) leaves it after a while.
//!
//! Invariant: once records came, the clock never goes back (it keeps its highest value and waits
//! for the data to pass it): a time window (`KafkaTimestamp >= now() - 'PT5m'`) only drops rows.
//! It does go back once, when the first records come and are older than wall time (a recording);
//! the engine then rebuilds its time-dependent tables. For a topic written now, record times are
//! wall times and so is the clock. For a recording replayed as live (`serve --live-from`), whose
//! live edge is in record time (`T0 + t·speed`), it is that edge, late by at most the bridge's
//! release tick (100 ms) at speed 1, or the quiet time since a lane's last record times
//! `speed − 1` at another speed. For a recording replayed as fast as it goes, it runs with the
//! data as it arrives. `session.setClock(nanos)` fixes it instead, at any time, earlier or not
//! (`null` hands it back to the data).

use std::cell::{Cell, RefCell};

use litemap::LiteMap;

/// Milliseconds to nanoseconds.
const NANOS_PER_MS: i64 = 1_000_000;

/// How far (ms) a lane may run ahead of the lanes' median and still count.
pub(crate) const SPREAD_MS: f64 = 60_000.0;

/// Lanes that delivered within this (ms) make the median.
pub(crate) const RECENT_MS: f64 = 60_000.0;

/// One partition of one subscription: `recordTime − wallAtDelivery` (ms) of its last two frames'
/// newest records, and when the last came.
#[derive(Clone, Copy)]
struct Lane {
    previous: f64,
    last: f64,
    delivered_ms: f64,
}

impl Lane {
    /// The offset the lane vouches for: the older of its last two frames.
    fn offset(&self) -> f64 {
        self.previous.min(self.last)
    }
}

#[derive(Default)]
pub(crate) struct StreamClock {
    /// By (subscription, partition).
    lanes: RefCell<LiteMap<(u32, i32), Lane>>,
    /// The data's clock at its highest so far (ms), once records came.
    high_ms: Cell<Option<f64>>,
    /// A clock the page fixed, in ns.
    fixed: Cell<Option<i64>>,
}

impl StreamClock {
    /// A frame of `partition` of `subscription` was delivered at wall time `wall_ms`, with
    /// records at `times` (Kafka's timestamps; a negative one means none).
    pub(crate) fn observe(
        &self,
        subscription: u32,
        partition: i32,
        times: impl IntoIterator<Item = i64>,
        wall_ms: f64,
    ) {
        let Some(record_ms) = frame_time(times) else {
            return;
        };
        let offset = record_ms as f64 - wall_ms;
        let mut lanes = self.lanes.borrow_mut();
        let previous = lanes
            .get(&(subscription, partition))
            .map_or(offset, |l| l.last);
        lanes.insert(
            (subscription, partition),
            Lane {
                previous,
                last: offset,
                delivered_ms: wall_ms,
            },
        );
    }

    /// Fixes the clock at `nanos`, or hands it back to the data (`None`).
    pub(crate) fn fix(&self, nanos: Option<i64>) {
        self.fixed.set(nanos);
    }

    /// The clock at wall time `wall_ms`, in ns since the epoch.
    pub(crate) fn now(&self, wall_ms: f64) -> i64 {
        let ms = match self.data_offset(wall_ms) {
            None => wall_ms,
            Some(offset) => {
                let ms = self
                    .high_ms
                    .get()
                    .map_or(wall_ms + offset, |h| h.max(wall_ms + offset));
                self.high_ms.set(Some(ms));
                ms
            }
        };
        self.fixed
            .get()
            .unwrap_or_else(|| (ms.round() as i64).saturating_mul(NANOS_PER_MS))
    }

    /// The most advanced lane's offset (ms) among those within [`SPREAD_MS`] of the lanes'
    /// median, if any record came.
    fn data_offset(&self, wall_ms: f64) -> Option<f64> {
        let lanes = self.lanes.borrow();
        let recent = |l: &&Lane| wall_ms - l.delivered_ms <= RECENT_MS;
        let mut offsets: Vec<f64> = lanes.values().filter(recent).map(Lane::offset).collect();
        if offsets.is_empty() {
            offsets = lanes.values().map(Lane::offset).collect();
        }
        let median = lower_median(&offsets)?;
        lanes
            .values()
            .map(Lane::offset)
            .filter(|&o| o <= median + SPREAD_MS)
            .max_by(f64::total_cmp)
    }
}

/// The time a frame vouches for: its newest record time but one (one record's time alone is
/// not believed while others contradict it), or its one record's; `None` without timestamps.
fn frame_time(times: impl IntoIterator<Item = i64>) -> Option<i64> {
    let (mut newest, mut second) = (None, None);
    for t in times.into_iter().filter(|&t| t >= 0) {
        if newest.is_none_or(|n| t > n) {
            second = newest;
            newest = Some(t);
        } else if second.is_none_or(|s| t > s) {
            second = Some(t);
        }
    }
    second.or(newest)
}

/// The wall clock, in ms since the epoch.
pub(crate) fn wall_ms() -> f64 {
    js_sys::Date::now()
}

/// The lower median of `values` in `f64::total_cmp`'s order (`None` if empty). Sorted as
/// order-preserving `u128` keys: a sort the bundle has already (the core's packed sorts), where
/// `sort_by(f64::total_cmp)` brought in std's stable sort for `f64` (4.7 KB of wasm, 1.6 KB
/// served gzip).
fn lower_median(values: &[f64]) -> Option<f64> {
    const SIGN: u64 = 1 << 63;
    let mut keys: Vec<u128> = values
        .iter()
        .map(|v| {
            let bits = v.to_bits();
            u128::from(if bits & SIGN == 0 { bits | SIGN } else { !bits })
        })
        .collect();
    keys.sort_unstable();
    let key = *keys.get(keys.len().checked_sub(1)? / 2)? as u64;
    Some(f64::from_bits(if key & SIGN != 0 {
        key & !SIGN
    } else {
        !key
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000;
    /// Wall time at the start, in ms.
    const WALL: i64 = 1_767_632_400_000;

    fn ns(ms: i64) -> i64 {
        ms * NANOS_PER_MS
    }

    #[test]
    fn the_clock_is_wall_time_until_data_comes_then_follows_it_and_never_goes_back() {
        // The replay's records are an hour behind wall time.
        let clock = StreamClock::default();
        assert_eq!(clock.now(WALL as f64), ns(WALL));
        clock.observe(1, 0, [WALL - HOUR], WALL as f64);
        assert_eq!(clock.now((WALL + 500) as f64), ns(WALL + 500 - HOUR));
        // An older frame does not move it back: it waits for the data to pass it.
        clock.observe(1, 0, [WALL - 2 * HOUR], (WALL + 1_000) as f64);
        assert_eq!(clock.now((WALL + 1_000) as f64), ns(WALL + 500 - HOUR));
        // Newer ones move it on, once two frames agree.
        clock.observe(1, 0, [WALL + 1_100 - HOUR], (WALL + 1_000) as f64);
        assert_eq!(clock.now((WALL + 1_000) as f64), ns(WALL + 500 - HOUR));
        clock.observe(1, 0, [WALL + 1_100 - HOUR], (WALL + 1_000) as f64);
        assert_eq!(clock.now((WALL + 1_000) as f64), ns(WALL + 1_100 - HOUR));
        // Kafka's "no timestamp" is ignored.
        clock.observe(1, 0, [-1], (WALL + 1_000) as f64);
        assert_eq!(clock.now((WALL + 1_000) as f64), ns(WALL + 1_100 - HOUR));
        clock.fix(Some(42));
        assert_eq!(clock.now(WALL as f64), 42);
        clock.fix(None);
        assert_eq!(clock.now((WALL + 1_000) as f64), ns(WALL + 1_100 - HOUR));
    }

    /// The reviewer's case: a live topic of three partitions, one record from a producer writing
    /// micros for millis, then one partition whose producer runs a day ahead. Neither moves the
    /// clock off the other partitions' time.
    #[test]
    fn a_future_record_or_partition_does_not_move_the_clock() {
        let clock = StreamClock::default();
        let mut wall = WALL;
        for p in 0..3 {
            clock.observe(7, p, [wall - 20, wall - 10], wall as f64);
        }
        // A frame vouches for its newest record time but one.
        assert_eq!(clock.now(wall as f64), ns(wall - 20));
        // In a frame of its own, and in a frame with others.
        wall += 100;
        clock.observe(7, 1, [wall * 1_000], wall as f64);
        assert_eq!(clock.now(wall as f64), ns(wall - 20));
        clock.observe(7, 2, [wall - 5, wall * 1_000, wall - 8], wall as f64);
        assert_eq!(clock.now(wall as f64), ns(wall - 20));
        // The partition's next frame contradicts it: it never counted.
        wall += 100;
        clock.observe(7, 1, [wall - 3], wall as f64);
        assert_eq!(clock.now(wall as f64), ns(wall - 3));
        // Partition 0 a day ahead, frame after frame: more than SPREAD_MS ahead of the median.
        for _ in 0..5 {
            wall += 100;
            clock.observe(7, 0, [wall + 24 * HOUR], wall as f64);
            clock.observe(7, 1, [wall - 2], wall as f64);
            clock.observe(7, 2, [wall - 1], wall as f64);
        }
        assert_eq!(clock.now(wall as f64), ns(wall - 1));
    }

    /// A topic read once, a year old, beside a live one: while it counts as recent the clock stays
    /// behind (rows are let in and age out later, nothing is lost); then it follows the live one.
    #[test]
    fn a_partition_that_went_quiet_leaves_the_median() {
        let clock = StreamClock::default();
        let year = 365 * 24 * HOUR;
        let mut wall = WALL;
        clock.observe(1, 0, [wall - year], wall as f64);
        clock.observe(2, 0, [wall - 1], wall as f64);
        assert_eq!(clock.now(wall as f64), ns(wall - year));
        wall += RECENT_MS as i64 + 1;
        clock.observe(2, 0, [wall - 1], wall as f64);
        assert_eq!(clock.now(wall as f64), ns(wall - 1));
    }

    #[test]
    fn a_frame_vouches_for_its_newest_time_but_one() {
        assert_eq!(frame_time([]), None);
        assert_eq!(frame_time([-1, -1]), None);
        assert_eq!(frame_time([5]), Some(5));
        assert_eq!(frame_time([3, 9, -1, 7]), Some(7));
        assert_eq!(frame_time([9, 9]), Some(9));
    }

    #[cfg(not(target_arch = "wasm32"))]
    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// A frame: its lane, the wall time since the last frame, each record's lag behind the
        /// data's time, and whether it brings a record from the future (one of its own, or
        /// among the others).
        fn frame() -> impl Strategy<Value = (usize, i64, Vec<i64>, Option<bool>)> {
            (
                0usize..5,
                0i64..3_000,
                proptest::collection::vec(0i64..5_000, 1..4),
                proptest::option::of(any::<bool>()),
            )
        }

        proptest! {
            /// The median is the one of std's `total_cmp` sort, for every double (NaNs, signed
            /// zeros and infinities included), bit for bit.
            #[test]
            fn lower_median_is_the_sorted_middle(
                mut values in proptest::collection::vec(
                    prop_oneof![
                        any::<f64>(),
                        Just(0.0), Just(-0.0), Just(f64::NAN), Just(-f64::NAN),
                        Just(f64::INFINITY), Just(f64::NEG_INFINITY), -5.0f64..5.0,
                    ],
                    0..20,
                ),
            ) {
                let ours = lower_median(&values).map(f64::to_bits);
                values.sort_by(f64::total_cmp);
                let reference = values.len().checked_sub(1).map(|i| values[i / 2].to_bits());
                prop_assert_eq!(ours, reference);
            }

            /// Partitions delivering the data's time `D(wall) = wall + c` (speed 1: a live topic,
            /// or a recording replayed as live), each record up to 5 s late, with future records
            /// (micros for millis, or a day ahead) in single frames. After every frame the
            /// clock is within 5 s behind the data's time, never ahead, and never goes back.
            #[test]
            fn the_clock_follows_the_data_and_no_single_record_moves_it_ahead(
                lanes in 1usize..6,
                behind in prop_oneof![Just(0i64), 0i64..400 * 24 * HOUR],
                frames in proptest::collection::vec(frame(), 1..80),
                micros in any::<bool>(),
            ) {
                let clock = StreamClock::default();
                let mut wall = WALL;
                // Per lane: whether it delivered, and whether its last frame was from the future.
                let mut seen = vec![(false, false); lanes];
                let mut last = i64::MIN;
                for (lane, step, lags, future) in frames {
                    let lane = lane % lanes;
                    wall += step;
                    let data = wall - behind;
                    let mut times: Vec<i64> = lags.iter().map(|l| data - l).collect();
                    let (delivered, was_future) = seen[lane];
                    let wrong = if micros { data * 1_000 } else { data + 24 * HOUR };
                    let mut from_future = false;
                    match future {
                        // Among other records, any frame may bring one.
                        Some(true) if times.len() > 1 => times.insert(1, wrong),
                        // Alone, not twice in a row in a lane, nor as its first frame.
                        Some(_) if delivered && !was_future => {
                            times = vec![wrong];
                            from_future = true;
                        }
                        _ => {}
                    }
                    seen[lane] = (true, from_future);
                    clock.observe(3, lane as i32, times, wall as f64);
                    let now = clock.now(wall as f64);
                    prop_assert!(now <= ns(data), "{} ahead of the data's {}", now, ns(data));
                    prop_assert!(now >= ns(data - 5_000), "{} over 5 s behind {}", now, ns(data));
                    prop_assert!(now >= last, "went back from {} to {}", last, now);
                    last = now;
                }
            }
        }
    }
}
