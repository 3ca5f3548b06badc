//! Time zones: a zone's UTC offset at an instant, from a host, cached per zone as transitions.
//!
//! As with `crate::text`, the one thing the engine does not compute itself comes from a host: "what
//! is zone Z's UTC offset at second t". The feature `tzdb` (on by default) answers it from jiff's
//! bundled IANA database; the page's wasm package builds without it and installs the browser's
//! `Intl.DateTimeFormat` with [`install`]. Everything else (the calendar, parts, formatting,
//! parsing) is ours, so both builds give the same answers where their databases agree.
//!
//! A host call may be slow (a few microseconds through `Intl`), so a zone caches its offsets in
//! blocks of 2^25 seconds (about 388 days): a block is filled once by probing the host every day
//! and bisecting to the second between two probes that differ. A lookup is then a hash of the
//! block (skipped while rows stay in one block) and a binary search among its few transitions.
//! Zones are compile-time constants of a formula; an unknown zone is refused when it compiles.
//! Fixed offsets (`UTC`, `Z`, `GMT`, `+01:00`) need no host.

use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use rustc_hash::FxHashMap;

use super::calendar::split_day;
use super::{DAY, SECOND};

/// The host's time zone database.
#[derive(Debug, Clone, Copy)]
pub struct ZoneHost {
    /// The UTC offset, in seconds, of the zone the host knows as `id` at `epoch_second`; `None`
    /// if it does not know the zone.
    pub offset: fn(id: &str, epoch_second: i64) -> Option<i32>,
}

static HOST: OnceLock<ZoneHost> = OnceLock::new();

/// Installs the host's zone database, once; `false` if one was installed already.
pub fn install(host: ZoneHost) -> bool {
    HOST.set(host).is_ok()
}

#[cfg(feature = "tzdb")]
fn tzdb_offset(id: &str, epoch_second: i64) -> Option<i32> {
    let tz = jiff::tz::db().get(id).ok()?;
    let ts = jiff::Timestamp::from_second(epoch_second).ok()?;
    Some(tz.to_offset(ts).seconds())
}

#[cfg(feature = "tzdb")]
static TZDB: ZoneHost = ZoneHost {
    offset: tzdb_offset,
};

fn host() -> Option<&'static ZoneHost> {
    #[cfg(feature = "tzdb")]
    return Some(HOST.get().unwrap_or(&TZDB));
    #[cfg(not(feature = "tzdb"))]
    return HOST.get();
}

/// Deephaven's default zone aliases (its `TimeZoneAliases`): the alias is what `formatDateTime`
/// prints for the zone. `NY` and `MN`, older aliases, are accepted as input only.
const ALIASES: &[(&str, &str)] = &[
    ("ET", "America/New_York"),
    ("CT", "America/Chicago"),
    ("MT", "America/Denver"),
    ("PT", "America/Los_Angeles"),
    ("HI", "Pacific/Honolulu"),
    ("BT", "America/Sao_Paulo"),
    ("KR", "Asia/Seoul"),
    ("HK", "Asia/Hong_Kong"),
    ("JP", "Asia/Tokyo"),
    ("AT", "Canada/Atlantic"),
    ("NF", "Canada/Newfoundland"),
    ("AL", "America/Anchorage"),
    ("IN", "Asia/Kolkata"),
    ("CE", "Europe/Berlin"),
    ("SG", "Asia/Singapore"),
    ("LON", "Europe/London"),
    ("MOS", "Europe/Moscow"),
    ("SHG", "Asia/Shanghai"),
    ("CH", "Europe/Zurich"),
    ("NL", "Europe/Amsterdam"),
    ("TW", "Asia/Taipei"),
    ("SYD", "Australia/Sydney"),
    ("NY", "America/New_York"),
    ("MN", "America/Chicago"),
];

/// Seconds per cache block (2^25 s, about 388 days), and between two probes of a block.
const BLOCK_SHIFT: u32 = 25;
const PROBE_STEP: i64 = 86_400;

/// The offsets of one block: the offset at its start, then each change (second, new offset).
#[derive(Debug)]
struct Block {
    first: i32,
    changes: Vec<(i64, i32)>,
}

impl Block {
    /// The offset at `second` (in this block), and the seconds `lo..hi` it holds over (within
    /// the block).
    fn offset(&self, block_start: i64, second: i64) -> (i32, i64, i64) {
        let n = self.changes.partition_point(|&(t, _)| t <= second);
        let lo = if n == 0 {
            block_start
        } else {
            self.changes[n - 1].0
        };
        let hi = self
            .changes
            .get(n)
            .map_or(block_start + (1 << BLOCK_SHIFT), |c| c.0);
        let offset = if n == 0 {
            self.first
        } else {
            self.changes[n - 1].1
        };
        (offset, lo, hi)
    }
}

#[derive(Debug)]
enum Rules {
    Fixed(i32),
    Region(Mutex<FxHashMap<i64, Block>>),
}

/// A time zone: a fixed offset, or a region whose offsets come from the host.
#[derive(Debug)]
pub struct Zone {
    /// What the host knows it by (`America/New_York`).
    id: String,
    /// What `formatDateTime` prints (`ET`, or the id when it has no alias).
    name: String,
    rules: Rules,
}

static ZONES: Mutex<Vec<Arc<Zone>>> = Mutex::new(Vec::new());

/// `+HH:MM` or `-HH:MM` (or `+HH`) in seconds.
fn fixed_offset(text: &str) -> Option<i32> {
    let sign = match text.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let rest = &text[1..];
    let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
    let digits = |s: &str| !s.is_empty() && s.len() <= 2 && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(h) || !digits(m) {
        return None;
    }
    let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 18 && m < 60 && h * 3600 + m * 60 <= 18 * 3600).then_some(sign * (h * 3600 + m * 60))
}

/// The zone called `name`: an alias (`ET`), a region the host knows (`Europe/London`), `UTC`,
/// `GMT`, `Z` or a fixed offset (`+01:00`). Zones are kept, so each is probed once.
pub fn zone(name: &str) -> Result<Arc<Zone>, String> {
    let id = ALIASES
        .iter()
        .find(|(alias, _)| *alias == name)
        .map_or(name, |(_, id)| id);
    let mut zones = ZONES.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(z) = zones.iter().find(|z| z.id == id) {
        return Ok(z.clone());
    }
    let display = ALIASES
        .iter()
        .find(|(_, zone)| *zone == id)
        .map_or(id, |(alias, _)| alias);
    let rules = match id {
        "UTC" | "GMT" | "Z" | "Etc/UTC" => Rules::Fixed(0),
        _ => match fixed_offset(id) {
            Some(offset) => Rules::Fixed(offset),
            None => {
                let known = !id.is_empty()
                    && id.len() <= 64
                    && id
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"/_+-".contains(&b));
                let host = host().ok_or_else(|| {
                    format!(
                        "time zone {name}: this build of the engine has no time zone database \
                         (build it with the feature tzdb, or install a host's with time::zone::install)"
                    )
                })?;
                if !known || (host.offset)(id, 0).is_none() {
                    return Err(format!("unknown time zone {name}"));
                }
                Rules::Region(Mutex::new(FxHashMap::default()))
            }
        },
    };
    let zone = Arc::new(Zone {
        id: id.to_owned(),
        name: display.to_owned(),
        rules,
    });
    zones.push(zone.clone());
    Ok(zone)
}

impl Zone {
    /// The name `formatDateTime` prints.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A reader of this zone's offsets, for a batch of lookups.
    pub fn offsets(&self) -> Offsets<'_> {
        Offsets {
            zone: self,
            cache: match &self.rules {
                Rules::Region(m) => Some(m.lock().unwrap_or_else(|e| e.into_inner())),
                Rules::Fixed(_) => None,
            },
            last: (0, 0, 0),
        }
    }

    fn probe(&self, second: i64, fallback: i32) -> i32 {
        host()
            .and_then(|h| (h.offset)(&self.id, second))
            .unwrap_or(fallback)
    }

    fn fill(&self, block: i64) -> Block {
        let start = block << BLOCK_SHIFT;
        let end = (block + 1) << BLOCK_SHIFT;
        let first = self.probe(start, 0);
        let mut changes = Vec::new();
        let (mut at, mut offset) = (start, first);
        while at < end {
            let next = (at + PROBE_STEP).min(end);
            let next_offset = self.probe(next, offset);
            // Bisect to the first second with another offset, as often as the step holds changes.
            while next_offset != offset {
                let (mut lo, mut hi) = (at, next);
                while hi - lo > 1 {
                    let mid = lo + (hi - lo) / 2;
                    if self.probe(mid, offset) == offset {
                        lo = mid;
                    } else {
                        hi = mid;
                    }
                }
                offset = self.probe(hi, next_offset);
                at = hi;
                if hi < end {
                    changes.push((hi, offset));
                }
            }
            at = next;
        }
        Block { first, changes }
    }
}

/// Offset lookups in one zone; holds the zone's cache for a batch of them.
pub struct Offsets<'a> {
    zone: &'a Zone,
    cache: Option<MutexGuard<'a, FxHashMap<i64, Block>>>,
    /// The last offset read and the seconds `lo..hi` it holds over: rows close in time (the
    /// usual batch) cost one comparison each.
    last: (i32, i64, i64),
}

impl Offsets<'_> {
    /// The zone's UTC offset, in seconds, at `second` since the epoch.
    pub fn at(&mut self, second: i64) -> i32 {
        let (offset, lo, hi) = self.last;
        if lo <= second && second < hi {
            return offset;
        }
        let Some(cache) = self.cache.as_mut() else {
            return match self.zone.rules {
                Rules::Fixed(offset) => offset,
                Rules::Region(_) => 0,
            };
        };
        let block = second >> BLOCK_SHIFT;
        let rules = cache.entry(block).or_insert_with(|| self.zone.fill(block));
        self.last = rules.offset(block << BLOCK_SHIFT, second);
        self.last.0
    }

    /// The local date-time of an instant: (days since the local epoch, nanoseconds into that
    /// day). Exact at every instant: an offset is up to 18 hours, so near the ends of the range
    /// the local date-time lies beyond an `i64` of nanoseconds; a day and a time of day do not.
    pub fn local(&mut self, nanos: i64) -> (i64, i64) {
        let offset = i64::from(self.at(nanos.div_euclid(SECOND))) * SECOND;
        let (days, nanos_of_day) = split_day(nanos);
        // |offset| < DAY, so one carry at most.
        let n = nanos_of_day + offset;
        if n < 0 {
            (days - 1, n + DAY)
        } else if n >= DAY {
            (days + 1, n - DAY)
        } else {
            (days, n)
        }
    }

    /// The instant of a local date-time (days since the local epoch, nanoseconds into that day),
    /// as `java.time` resolves it: in an overlap the earlier offset (the first time the clock
    /// shows it), in a gap the time shifted by the gap's length. Exact, as an `i128`: the
    /// instant of a local date-time near the ends of the range may lie beyond an `i64`.
    pub fn instant(&mut self, days: i64, nanos_of_day: i64) -> i128 {
        let local = days
            .saturating_mul(86_400)
            .saturating_add(nanos_of_day.div_euclid(SECOND));
        // Offsets are within ±18 h, so these two seconds are before and after the instant.
        let before = self.at(local.saturating_sub(86_400));
        let after = self.at(local.saturating_add(86_400));
        let offset = if before == after {
            before
        } else {
            let a = local.saturating_sub(i64::from(before));
            if self.at(a) == before {
                before
            } else {
                let b = local.saturating_sub(i64::from(after));
                if self.at(b) == after { after } else { before }
            }
        };
        i128::from(days) * i128::from(DAY) + i128::from(nanos_of_day)
            - i128::from(offset) * i128::from(SECOND)
    }
}

#[cfg(all(test, feature = "tzdb"))]
mod tests {
    use super::*;

    #[test]
    fn transitions_are_found_to_the_second() {
        let ny = zone("America/New_York").unwrap();
        let mut o = ny.offsets();
        // 2026-03-08 07:00:00Z is 02:00 EST → 03:00 EDT; 2026-11-01 06:00:00Z back.
        let spring = 1_772_953_200;
        assert_eq!(o.at(spring - 1), -5 * 3600);
        assert_eq!(o.at(spring), -4 * 3600);
        let fall = 1_793_512_800;
        assert_eq!(o.at(fall - 1), -4 * 3600);
        assert_eq!(o.at(fall), -5 * 3600);
        // Every second agrees with the database across a year of probes.
        for t in (1_767_225_600..1_798_761_600).step_by(3_607) {
            assert_eq!(
                o.at(t),
                tzdb_offset("America/New_York", t).unwrap(),
                "at {t}"
            );
        }
    }

    #[test]
    fn aliases_fixed_offsets_and_unknown_zones() {
        assert_eq!(zone("ET").unwrap().name(), "ET");
        assert_eq!(zone("America/New_York").unwrap().name(), "ET");
        assert_eq!(zone("NY").unwrap().name(), "ET");
        assert_eq!(zone("Europe/Paris").unwrap().name(), "Europe/Paris");
        assert_eq!(zone("+05:30").unwrap().offsets().at(0), 19_800);
        assert_eq!(zone("UTC").unwrap().offsets().at(123), 0);
        assert_eq!(
            zone("Mars/Olympus").unwrap_err(),
            "unknown time zone Mars/Olympus"
        );
        assert!(zone("../etc").is_err());
    }
}
