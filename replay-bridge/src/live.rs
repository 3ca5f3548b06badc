//! A recording replayed as a live feed: `serve --recording FILE --live-from POINT [--speed K]`.
//!
//! A finite recording served at full speed has no "now". Here POINT marks one: it resolves, once,
//! to a record-time instant T0 ([`LivePoint`]), the same for every partition. The records at or
//! before T0 are history; the rest are released by one clock per server ([`LiveClock`]): `t` of
//! wall time after the bridge started, the records whose time is at most `T0 + t·K` are released.
//! That is the live edge: it is every partition's high watermark (what `end` and `-N` resolve
//! against), and a subscription at the edge gets each record when it is released, as if a producer
//! were writing it now.
//!
//! A record's *release time* is the largest timestamp of its partition up to and including it
//! ([`ReleaseSchedule`]): the timestamp itself when timestamps rise within a partition, as they do
//! in generated recordings and in most topics. So a partition is always released as a prefix of its
//! offsets, which stay the recording's. `90%` and `end-N` count records over all partitions in
//! release-time order: T0 is the release time of the k-th record in that order (k = 90 % of them,
//! or all but N), so with ties at T0 a few more records may be history.
//!
//! Invariants: every client sees the same live edge at the same moment; a partition's live high
//! watermark never decreases, never passes the recording's, and no record is released before its
//! release time.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use streamglass_core::seek::Watermarks;

use crate::pace::Pacer;
use crate::recording::{RecordingMeta, RecordingReader};
use crate::{Error, Result};

/// Where a recording's "now" is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LivePoint {
    /// A record time, in ms since the Unix epoch.
    Time(i64),
    /// This percentage (0 to 100) of all records is history.
    Percent(f64),
    /// All but the last N records are history.
    LastRecords(u64),
    /// The record time this many ms before the recording's last record.
    LastMillis(i64),
}

const POINT_SYNTAX: &str = "use a record time (RFC 3339 such as 2026-01-05T17:00:00Z, or epoch \
    milliseconds), a share of the records (90%), end-N (all but the last N records), or end-30m \
    (the last 30 minutes of record time; units ms, s, m, h)";

impl std::str::FromStr for LivePoint {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        let t = text.trim();
        let bad = |reason: &str| Error::LivePoint {
            point: t.to_owned(),
            reason: reason.to_owned(),
        };
        if let Some(number) = t.strip_suffix('%') {
            let percent: f64 = number
                .trim()
                .parse()
                .map_err(|_| bad(&format!("not a percentage: {POINT_SYNTAX}")))?;
            if !(0.0..=100.0).contains(&percent) {
                return Err(bad("a percentage is between 0% and 100%"));
            }
            return Ok(Self::Percent(percent));
        }
        if t == "end" {
            return Ok(Self::LastRecords(0));
        }
        if let Some(back) = t.strip_prefix("end-") {
            let back = back.trim();
            if let Ok(n) = back.parse::<u64>() {
                return Ok(Self::LastRecords(n));
            }
            let split = back
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(back.len());
            let (number, unit) = back.split_at(split);
            let scale: i64 = match unit.trim() {
                "ms" => 1,
                "s" => 1_000,
                "m" | "min" => 60_000,
                "h" => 3_600_000,
                _ => {
                    return Err(bad(&format!(
                        "end-{back} is neither records nor a duration: {POINT_SYNTAX}"
                    )));
                }
            };
            return number
                .parse::<i64>()
                .ok()
                .and_then(|n| n.checked_mul(scale))
                .map(Self::LastMillis)
                .ok_or_else(|| bad(&format!("end-{back}: not a duration: {POINT_SYNTAX}")));
        }
        if let Ok(ms) = t.parse::<i64>() {
            return Ok(Self::Time(ms));
        }
        chrono::DateTime::parse_from_rfc3339(t)
            .map(|time| Self::Time(time.timestamp_millis()))
            .map_err(|e| bad(&format!("not a point (as RFC 3339: {e}); {POINT_SYNTAX}")))
    }
}

impl std::fmt::Display for LivePoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Time(ms) => write!(f, "{}", rfc3339(*ms)),
            Self::Percent(p) => write!(f, "{p}%"),
            Self::LastRecords(n) => write!(f, "end-{n}"),
            Self::LastMillis(ms) => {
                let unit = [(3_600_000, "h"), (60_000, "m"), (1_000, "s")]
                    .into_iter()
                    .find(|(scale, _)| *ms != 0 && ms % scale == 0);
                match unit {
                    Some((scale, unit)) => write!(f, "end-{}{unit}", ms / scale),
                    None => write!(f, "end-{ms}ms"),
                }
            }
        }
    }
}

/// A record time as RFC 3339 in UTC with milliseconds (the epoch ms if out of range).
pub fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map_or_else(
        || format!("{ms} ms"),
        |t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    )
}

/// One partition's records by release time.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Released {
    partition: i32,
    low: i64,
    /// The recording's high watermark of the partition.
    high: i64,
    /// `(offset, release time)` in offset order; release times never decrease.
    records: Vec<(i64, i64)>,
}

/// When each record of a recording is released, by partition: before [`ReleaseSchedule::split`],
/// every record; after it, only those after T0 (the history is then sent at once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseSchedule {
    partitions: Vec<Released>,
    history: u64,
    last_ms: Option<i64>,
}

impl ReleaseSchedule {
    /// From the header's partitions and the records `(partition, offset, timestamp)` in file
    /// order. Records of partitions the header lacks are ignored, as a replay ignores them.
    pub fn new(
        marks: &[Watermarks],
        records: impl IntoIterator<Item = Result<(i32, i64, i64)>>,
    ) -> Result<Self> {
        let mut partitions: Vec<Released> = marks
            .iter()
            .map(|m| Released {
                partition: m.partition,
                low: m.low,
                high: m.high,
                records: Vec::new(),
            })
            .collect();
        let index: HashMap<i32, usize> = marks
            .iter()
            .enumerate()
            .map(|(i, m)| (m.partition, i))
            .collect();
        let mut last_ms = None;
        for record in records {
            let (partition, offset, timestamp_ms) = record?;
            let Some(&i) = index.get(&partition) else {
                continue;
            };
            let records = &mut partitions[i].records;
            let release = records
                .last()
                .map_or(timestamp_ms, |&(_, r)| r.max(timestamp_ms));
            records.push((offset, release));
            last_ms = last_ms.max(Some(release));
        }
        Ok(Self {
            partitions,
            history: 0,
            last_ms,
        })
    }

    /// Reads a recording's release times (one pass over the file).
    pub fn read(path: &Path, meta: &RecordingMeta) -> Result<Self> {
        let marks = watermarks(meta);
        let mut reader = RecordingReader::open(path)?;
        let records = std::iter::from_fn(move || {
            reader
                .next_view()
                .map(|v| v.map(|v| (v.partition, v.offset, v.timestamp_ms)))
        });
        Self::new(&marks, records)
    }

    /// Records not yet split off as history.
    fn total(&self) -> u64 {
        self.partitions.iter().map(|p| p.records.len() as u64).sum()
    }

    /// How many records are released at or before `ms`.
    fn released_by(&self, ms: i64) -> u64 {
        self.partitions
            .iter()
            .map(|p| p.records.partition_point(|&(_, r)| r <= ms) as u64)
            .sum()
    }

    /// T0 for `point`: a time as given; otherwise the release time of the k-th record in release
    /// order, k counted over all partitions (before the first record for k = 0).
    pub fn origin(&self, point: &LivePoint) -> Result<i64> {
        let total = self.total();
        let empty = || Error::LivePoint {
            point: point.to_string(),
            reason: "the recording has no records; give a record time".into(),
        };
        let k = match *point {
            LivePoint::Time(ms) => return Ok(ms),
            LivePoint::LastMillis(back) => {
                return self
                    .last_ms
                    .map(|l| l.saturating_sub(back))
                    .ok_or_else(empty);
            }
            // Exact for any count below 2^53 records.
            LivePoint::Percent(p) => ((total as f64 * p / 100.0).floor() as u64).min(total),
            LivePoint::LastRecords(n) => total - n.min(total),
        };
        let first = self
            .partitions
            .iter()
            .filter_map(|p| p.records.first().map(|&(_, r)| r))
            .min()
            .ok_or_else(empty)?;
        if k == 0 {
            return Ok(first.saturating_sub(1));
        }
        // The least time by which k records are released.
        let (mut lo, mut hi) = (first, self.last_ms.unwrap_or(first));
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.released_by(mid) >= k {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        Ok(lo)
    }

    /// Drops the records released at or before `origin_ms` (the history); returns how many.
    pub fn split(&mut self, origin_ms: i64) -> u64 {
        for p in &mut self.partitions {
            let n = p.records.partition_point(|&(_, r)| r <= origin_ms);
            p.records.drain(..n);
            p.records.shrink_to_fit();
            self.history += n as u64;
        }
        self.history
    }

    /// A partition's high watermark once the records for which `released` holds are out: the
    /// offset of its first record not released, or its recording's high watermark.
    fn high(p: &Released, released: impl Fn(i64) -> bool) -> i64 {
        let n = p.records.partition_point(|&(_, r)| released(r));
        p.records.get(n).map_or(p.high, |&(offset, _)| offset)
    }
}

/// A recording's header watermarks.
pub fn watermarks(meta: &RecordingMeta) -> Vec<Watermarks> {
    meta.partitions
        .iter()
        .map(|p| Watermarks {
            partition: p.partition,
            low: p.low_watermark,
            high: p.high_watermark,
        })
        .collect()
}

/// The server's clock for a recording replayed as live: the release schedule after T0, and the
/// moment the bridge started.
#[derive(Debug)]
pub struct LiveClock {
    point: LivePoint,
    origin_ms: i64,
    speed: f64,
    pacer: Pacer,
    schedule: ReleaseSchedule,
    started: Instant,
}

impl LiveClock {
    /// Reads the recording's release times, resolves `point`, and starts the clock.
    pub fn start(path: &Path, meta: &RecordingMeta, point: LivePoint, speed: f64) -> Result<Self> {
        if !(speed.is_finite() && speed > 0.0) {
            return Err(Error::InvalidArgument(format!(
                "--speed {speed}: give a positive number (1 = the recorded pace, 10 = ten times faster)"
            )));
        }
        let mut schedule = ReleaseSchedule::read(path, meta)?;
        let origin_ms = schedule.origin(&point)?;
        schedule.split(origin_ms);
        Ok(Self::from_schedule(point, origin_ms, speed, schedule))
    }

    fn from_schedule(
        point: LivePoint,
        origin_ms: i64,
        speed: f64,
        schedule: ReleaseSchedule,
    ) -> Self {
        Self {
            point,
            origin_ms,
            speed,
            pacer: Pacer::anchored(speed, origin_ms),
            schedule,
            started: Instant::now(),
        }
    }

    /// Wall time since the clock started.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// T0, the record time where history ends.
    pub fn origin_ms(&self) -> i64 {
        self.origin_ms
    }

    /// Records of history (released at once).
    pub fn history(&self) -> u64 {
        self.schedule.history
    }

    /// Records released after T0.
    pub fn future(&self) -> u64 {
        self.schedule.total()
    }

    /// The release time of the recording's last record.
    pub fn last_ms(&self) -> Option<i64> {
        self.schedule.last_ms
    }

    /// How long after `elapsed` a record of release time `release_ms` is due (zero if it is).
    pub fn wait(&self, release_ms: i64, elapsed: Duration) -> Duration {
        self.pacer.due(release_ms).saturating_sub(elapsed)
    }

    /// Every partition's watermarks at the live edge, `elapsed` after the start.
    pub fn marks(&self, elapsed: Duration) -> Vec<Watermarks> {
        self.schedule
            .partitions
            .iter()
            .map(|p| Watermarks {
                partition: p.partition,
                low: p.low,
                high: ReleaseSchedule::high(p, |r| self.pacer.due(r) <= elapsed),
            })
            .collect()
    }

    /// One partition's high watermark at the live edge.
    pub fn high(&self, partition: i32, elapsed: Duration) -> Option<i64> {
        self.schedule
            .partitions
            .iter()
            .find(|p| p.partition == partition)
            .map(|p| ReleaseSchedule::high(p, |r| self.pacer.due(r) <= elapsed))
    }

    /// One line for the hello and the log.
    pub fn describe(&self) -> String {
        format!(
            "live from {} ({}) at x{}",
            rfc3339(self.origin_ms),
            self.point,
            self.speed
        )
    }

    /// What `Exhausted` says.
    pub fn exhausted_message(&self) -> String {
        match self.schedule.last_ms {
            Some(ms) => format!(
                "the recording ran out: its last record ({}) was replayed; restart the bridge to replay it again",
                rfc3339(ms)
            ),
            None => "the recording has no records".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(text: &str) -> Result<LivePoint> {
        text.parse()
    }

    #[test]
    fn points_parse() {
        assert_eq!(parse("90%").unwrap(), LivePoint::Percent(90.0));
        assert_eq!(parse("12.5%").unwrap(), LivePoint::Percent(12.5));
        assert_eq!(parse("end").unwrap(), LivePoint::LastRecords(0));
        assert_eq!(parse("end-500").unwrap(), LivePoint::LastRecords(500));
        assert_eq!(parse("end-30m").unwrap(), LivePoint::LastMillis(1_800_000));
        assert_eq!(parse("end-90s").unwrap(), LivePoint::LastMillis(90_000));
        assert_eq!(parse("end-2h").unwrap(), LivePoint::LastMillis(7_200_000));
        assert_eq!(parse("end-250ms").unwrap(), LivePoint::LastMillis(250));
        assert_eq!(
            parse("1767623400000").unwrap(),
            LivePoint::Time(1_767_623_400_000)
        );
        assert_eq!(
            parse("2026-01-05T14:30:00Z").unwrap(),
            LivePoint::Time(1_767_623_400_000)
        );
        assert_eq!(
            parse("2026-01-05T15:30:00.250+01:00").unwrap(),
            LivePoint::Time(1_767_623_400_250)
        );
        for point in [
            LivePoint::Percent(12.5),
            LivePoint::LastRecords(7),
            LivePoint::LastMillis(90_000),
            LivePoint::LastMillis(2_700_000),
            LivePoint::LastMillis(1_250),
            LivePoint::Time(1_767_623_400_250),
        ] {
            assert_eq!(parse(&point.to_string()).unwrap(), point);
        }
        assert_eq!(LivePoint::LastMillis(2_700_000).to_string(), "end-45m");
    }

    #[test]
    fn bad_points_say_what_is_accepted() {
        for bad in [
            "",
            "101%",
            "-1%",
            "x%",
            "end-",
            "end-5y",
            "end--3",
            "soon",
            "2026-01-05",
        ] {
            let e = parse(bad).unwrap_err();
            assert!(
                matches!(&e, Error::LivePoint { .. }) && e.to_string().contains("--live-from"),
                "{bad}: {e}"
            );
        }
        assert!(parse("soon").unwrap_err().to_string().contains("RFC 3339"));
    }

    fn marks(n: i32) -> Vec<Watermarks> {
        (0..n)
            .map(|p| Watermarks {
                partition: p,
                low: 0,
                high: 0,
            })
            .collect()
    }

    /// A schedule from `(partition, timestamp)` in file order, offsets dense from 0.
    fn schedule(partitions: i32, records: &[(i32, i64)]) -> ReleaseSchedule {
        let mut next = vec![0i64; partitions as usize];
        let mut marks = marks(partitions);
        let rows: Vec<Result<(i32, i64, i64)>> = records
            .iter()
            .map(|&(p, ts)| {
                let offset = next[p as usize];
                next[p as usize] += 1;
                Ok((p, offset, ts))
            })
            .collect();
        for m in &mut marks {
            m.high = next[m.partition as usize];
        }
        ReleaseSchedule::new(&marks, rows).unwrap()
    }

    #[test]
    fn a_record_is_released_with_the_latest_time_before_it_in_its_partition() {
        let s = schedule(2, &[(0, 10), (1, 5), (0, 8), (0, 12), (1, 3)]);
        assert_eq!(s.partitions[0].records, [(0, 10), (1, 10), (2, 12)]);
        assert_eq!(s.partitions[1].records, [(0, 5), (1, 5)]);
        assert_eq!(s.last_ms, Some(12));
    }

    #[test]
    fn shares_and_counts_resolve_over_all_partitions_in_time_order() {
        // Times 1..=10, alternating partitions.
        let records: Vec<(i32, i64)> = (1..=10).map(|t| ((t % 2) as i32, t)).collect();
        let s = schedule(2, &records);
        assert_eq!(s.origin(&LivePoint::Percent(90.0)).unwrap(), 9);
        assert_eq!(s.origin(&LivePoint::Percent(100.0)).unwrap(), 10);
        assert_eq!(s.origin(&LivePoint::Percent(0.0)).unwrap(), 0);
        assert_eq!(s.origin(&LivePoint::LastRecords(3)).unwrap(), 7);
        assert_eq!(s.origin(&LivePoint::LastRecords(0)).unwrap(), 10);
        assert_eq!(s.origin(&LivePoint::LastRecords(99)).unwrap(), 0);
        assert_eq!(s.origin(&LivePoint::LastMillis(4)).unwrap(), 6);
        assert_eq!(s.origin(&LivePoint::Time(-5)).unwrap(), -5);
        let empty = schedule(1, &[]);
        assert!(empty.origin(&LivePoint::Percent(50.0)).is_err());
        assert!(empty.origin(&LivePoint::LastMillis(5)).is_err());
        assert_eq!(empty.origin(&LivePoint::Time(5)).unwrap(), 5);
    }

    #[test]
    fn the_live_edge_moves_with_the_shared_clock() {
        // Partition 0 at 0, 1000, 2000, ... ms; partition 1 at 500, 1500, ...
        let records: Vec<(i32, i64)> = (0..10)
            .flat_map(|i| [(0, i * 1000), (1, i * 1000 + 500)])
            .collect();
        let mut s = schedule(2, &records);
        assert_eq!(s.split(4_000), 9);
        let clock = LiveClock::from_schedule(LivePoint::Time(4_000), 4_000, 2.0, s);
        let highs = |elapsed_ms: u64| -> Vec<i64> {
            clock
                .marks(Duration::from_millis(elapsed_ms))
                .iter()
                .map(|m| m.high)
                .collect()
        };
        assert_eq!(highs(0), [5, 4]);
        // 250 ms at x2: record time 4500 is out.
        assert_eq!(highs(249), [5, 4]);
        assert_eq!(highs(250), [5, 5]);
        assert_eq!(highs(10_000), [10, 10]);
        assert_eq!(clock.high(1, Duration::from_millis(750)), Some(6));
        assert_eq!(
            clock.wait(4_500, Duration::from_millis(100)),
            Duration::from_millis(150)
        );
        assert_eq!(clock.wait(3_000, Duration::ZERO), Duration::ZERO);
        assert_eq!(clock.future(), 11);
        assert_eq!(clock.last_ms(), Some(9_500));
    }

    proptest! {
        /// History is the k records released first, whichever way T0 is given, and the live edge
        /// only rises, to the recording's end.
        #[test]
        fn history_counts_and_the_edge_only_rises(
            records in proptest::collection::vec((0i32..3, 0i64..1_000), 0..200),
            percent in 0.0f64..=100.0,
            speed in 0.5f64..50.0,
        ) {
            let s = schedule(3, &records);
            let total = records.len() as u64;
            let highs: Vec<i64> = s.partitions.iter().map(|p| p.high).collect();
            if total > 0 {
                let t0 = s.origin(&LivePoint::Percent(percent)).unwrap();
                let k = ((total as f64 * percent / 100.0).floor() as u64).min(total);
                prop_assert!(s.released_by(t0) >= k);
                prop_assert!(k == 0 || s.released_by(t0 - 1) < k);
                let n = total / 3;
                let t0 = s.origin(&LivePoint::LastRecords(n)).unwrap();
                prop_assert!(s.released_by(t0) >= total - n);
                prop_assert!(total == n || s.released_by(t0 - 1) < total - n);
            }
            let mut split = s.clone();
            let history = split.split(500);
            prop_assert_eq!(history, s.released_by(500));
            let clock = LiveClock::from_schedule(LivePoint::Time(500), 500, speed, split);
            let mut last = clock.marks(Duration::ZERO);
            for step in 1..40u64 {
                let now = clock.marks(Duration::from_millis(step * 25));
                for (a, b) in last.iter().zip(&now) {
                    prop_assert!(a.high <= b.high);
                }
                last = now;
            }
            let end = clock.marks(Duration::from_secs(3_600));
            prop_assert_eq!(end.iter().map(|m| m.high).collect::<Vec<_>>(), highs);
        }
    }
}
