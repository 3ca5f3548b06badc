//! Seek specs: where a subscription starts, per partition or for all of them, in kcat's syntax
//! plus a total "newest N", and how a spec resolves to one start offset per partition.
//!
//! | spec | meaning |
//! |---|---|
//! | `beginning` | every partition from its low watermark |
//! | `end` | every partition from its high watermark: only records written from now on |
//! | `123` | every partition from offset 123 (clamped to its watermarks) |
//! | `-1000000` | the newest 1,000,000 records **in total**, spread over the partitions as Redpanda Console's "newest N" does (see [`newest_total`]) |
//! | `each:-1000` | the newest 1,000 records **of every partition** (kcat's `-o -1000`) |
//! | `s@1700000000000` | every partition from its first record at or after that time (epoch ms) |
//! | `{0: 123, 2: -50, 3: beginning}` | per partition; a partition not named starts at the end |
//!
//! Resolution is pure: [`SeekSpec::resolve`] takes each partition's watermarks, and the offsets a
//! timestamp lookup found (the caller asks the broker, or reads a recording), and returns start
//! offsets, each clamped to `low ..= high`.

use std::collections::BTreeMap;

use litemap::LiteMap;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Where one partition starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Position {
    Beginning,
    End,
    /// An absolute offset.
    Offset(i64),
    /// This many records before the partition's end.
    FromEnd(u64),
    /// The first record at or after this time (ms since the epoch).
    Timestamp(i64),
}

/// Where a subscription starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SeekSpec {
    /// The same position for every partition.
    All(Position),
    /// The newest N records in total across partitions.
    NewestTotal(u64),
    /// Per partition; partitions not named start at the end. (A sorted vector: a `BTreeMap`'s
    /// code would be compiled into the page for this one type.)
    PerPartition(LiteMap<i32, Position>),
}

/// A partition's offsets: the first still stored, and one past the last written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Watermarks {
    pub partition: i32,
    pub low: i64,
    pub high: i64,
}

impl Watermarks {
    fn records(&self) -> u64 {
        u64::try_from(self.high - self.low).unwrap_or(0)
    }

    fn clamp(&self, offset: i64) -> i64 {
        offset.clamp(self.low, self.high.max(self.low))
    }
}

impl Position {
    fn parse(text: &str) -> Result<Self> {
        let t = text.trim();
        let bad = || {
            Error::Seek(format!(
                "{t:?} is not a position: use beginning, end, an offset, -N or s@<epoch ms>"
            ))
        };
        match t {
            "beginning" | "earliest" | "oldest" => Ok(Self::Beginning),
            "end" | "latest" | "newest" => Ok(Self::End),
            _ => {
                if let Some(ms) = t.strip_prefix("s@") {
                    return ms.trim().parse().map(Self::Timestamp).map_err(|_| bad());
                }
                if let Some(n) = t.strip_prefix('-') {
                    return n.trim().parse().map(Self::FromEnd).map_err(|_| bad());
                }
                t.parse::<i64>()
                    .ok()
                    .filter(|o| *o >= 0)
                    .map(Self::Offset)
                    .ok_or_else(bad)
            }
        }
    }

    fn resolve(self, marks: &Watermarks, by_time: Option<i64>) -> i64 {
        match self {
            Self::Beginning => marks.low,
            Self::End => marks.high,
            Self::Offset(o) => marks.clamp(o),
            Self::FromEnd(n) => {
                marks.clamp(marks.high.saturating_sub(n.min(i64::MAX as u64) as i64))
            }
            // No record at or after that time: the end.
            Self::Timestamp(_) => marks.clamp(by_time.unwrap_or(marks.high)),
        }
    }
}

impl std::str::FromStr for SeekSpec {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        let t = text.trim();
        if let Some(body) = t.strip_prefix('{') {
            let body = body
                .strip_suffix('}')
                .ok_or_else(|| Error::Seek(format!("{t:?}: a partition map ends with }}")))?;
            let mut map = LiteMap::new();
            for entry in body.split(',').map(str::trim).filter(|e| !e.is_empty()) {
                let (partition, position) = entry.split_once(':').ok_or_else(|| {
                    Error::Seek(format!(
                        "{entry:?}: write a map entry as <partition>: <position>"
                    ))
                })?;
                let partition: i32 =
                    partition.trim().trim_matches('"').parse().map_err(|_| {
                        Error::Seek(format!("{partition:?} is not a partition number"))
                    })?;
                if map.insert(partition, Position::parse(position)?).is_some() {
                    return Err(Error::Seek(format!("partition {partition} is named twice")));
                }
            }
            return Ok(Self::PerPartition(map));
        }
        if let Some(each) = t.strip_prefix("each:") {
            return Ok(Self::All(Position::parse(each)?));
        }
        match Position::parse(t)? {
            Position::FromEnd(n) => Ok(Self::NewestTotal(n)),
            position => Ok(Self::All(position)),
        }
    }
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Beginning => write!(f, "beginning"),
            Self::End => write!(f, "end"),
            Self::Offset(o) => write!(f, "{o}"),
            Self::FromEnd(n) => write!(f, "-{n}"),
            Self::Timestamp(ms) => write!(f, "s@{ms}"),
        }
    }
}

impl std::fmt::Display for SeekSpec {
    /// The spec in the syntax [`str::parse`] reads back.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::All(Position::FromEnd(n)) => write!(f, "each:-{n}"),
            Self::All(p) => write!(f, "{p}"),
            Self::NewestTotal(n) => write!(f, "-{n}"),
            Self::PerPartition(map) => {
                let entries: Vec<String> =
                    map.iter().map(|(p, pos)| format!("{p}: {pos}")).collect();
                write!(f, "{{{}}}", entries.join(", "))
            }
        }
    }
}

impl SeekSpec {
    /// The time each partition must be looked up at, if the spec seeks by time.
    pub fn timestamps(&self, partitions: &[i32]) -> BTreeMap<i32, i64> {
        partitions
            .iter()
            .filter_map(|&p| match self.position_of(p) {
                Some(Position::Timestamp(ms)) => Some((p, ms)),
                _ => None,
            })
            .collect()
    }

    fn position_of(&self, partition: i32) -> Option<Position> {
        match self {
            Self::All(p) => Some(*p),
            Self::NewestTotal(_) => None,
            Self::PerPartition(map) => Some(map.get(&partition).copied().unwrap_or(Position::End)),
        }
    }

    /// Start offsets, one per partition of `marks`, each within its watermarks. `by_time` holds,
    /// for each partition sought by time, the first offset at or after that time (none: the end).
    /// A partition named in a map but not in `marks` is an error.
    pub fn resolve(
        &self,
        marks: &[Watermarks],
        by_time: &BTreeMap<i32, i64>,
    ) -> Result<BTreeMap<i32, i64>> {
        if let Self::PerPartition(map) = self
            && let Some(unknown) = map
                .keys()
                .find(|p| !marks.iter().any(|m| m.partition == **p))
        {
            let known: Vec<String> = marks.iter().map(|m| m.partition.to_string()).collect();
            return Err(Error::Seek(format!(
                "partition {unknown} does not exist (partitions: {})",
                known.join(", ")
            )));
        }
        if let Self::NewestTotal(n) = self {
            let counts = newest_total(marks, *n);
            return Ok(marks
                .iter()
                .zip(counts)
                .map(|(m, c)| (m.partition, m.high - c as i64))
                .collect());
        }
        Ok(marks
            .iter()
            .map(|m| {
                let position = self.position_of(m.partition).unwrap_or(Position::End);
                let start = position.resolve(m, by_time.get(&m.partition).copied());
                (m.partition, start)
            })
            .collect())
    }
}

/// How many of the newest `n` records each partition gives, as Redpanda Console spreads them:
/// round after round, one record from every partition that still has one, in partition order,
/// until `n` are taken or every partition is drained. Computed by levels, not by rounds.
pub fn newest_total(marks: &[Watermarks], n: u64) -> Vec<u64> {
    let available: Vec<u64> = marks.iter().map(Watermarks::records).collect();
    let total: u64 = available.iter().sum();
    if n >= total {
        return available;
    }
    // The largest level L such that sum(min(available, L)) <= n.
    let taken_at = |level: u64| available.iter().map(|&a| a.min(level)).sum::<u64>();
    let (mut lo, mut hi) = (0u64, available.iter().copied().max().unwrap_or(0));
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if taken_at(mid) <= n {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    let mut counts: Vec<u64> = available.iter().map(|&a| a.min(lo)).collect();
    // The last, partial round: one more from each partition that has one, in partition order.
    let mut left = n - taken_at(lo);
    let mut order: Vec<usize> = (0..marks.len()).collect();
    order.sort_by_key(|&i| marks[i].partition);
    for i in order {
        if left == 0 {
            break;
        }
        if available[i] > counts[i] {
            counts[i] += 1;
            left -= 1;
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn marks(list: &[(i32, i64, i64)]) -> Vec<Watermarks> {
        list.iter()
            .map(|&(partition, low, high)| Watermarks {
                partition,
                low,
                high,
            })
            .collect()
    }

    #[test]
    fn parses_every_form() {
        let cases: [(&str, SeekSpec); 8] = [
            ("beginning", SeekSpec::All(Position::Beginning)),
            ("end", SeekSpec::All(Position::End)),
            ("123", SeekSpec::All(Position::Offset(123))),
            ("-1000000", SeekSpec::NewestTotal(1_000_000)),
            ("each:-1000", SeekSpec::All(Position::FromEnd(1000))),
            (
                "s@1700000000000",
                SeekSpec::All(Position::Timestamp(1_700_000_000_000)),
            ),
            (
                "{0: 123, 2: -50, 3: beginning}",
                SeekSpec::PerPartition(LiteMap::from_iter([
                    (0, Position::Offset(123)),
                    (2, Position::FromEnd(50)),
                    (3, Position::Beginning),
                ])),
            ),
            ("{}", SeekSpec::PerPartition(LiteMap::new())),
        ];
        for (text, want) in cases {
            let got: SeekSpec = text.parse().unwrap();
            assert_eq!(got, want, "{text}");
            assert_eq!(
                got.to_string().parse::<SeekSpec>().unwrap(),
                want,
                "{text} round trip"
            );
        }
    }

    #[test]
    fn bad_specs_say_why() {
        for (text, needle) in [
            ("soon", "is not a position"),
            ("-x", "is not a position"),
            ("{0: 1", "ends with }"),
            ("{0 1}", "<partition>: <position>"),
            ("{a: 1}", "is not a partition number"),
            ("{0: 1, 0: 2}", "named twice"),
            ("s@noon", "is not a position"),
        ] {
            let e = text.parse::<SeekSpec>().unwrap_err().to_string();
            assert!(e.contains(needle), "{text}: {e}");
        }
    }

    #[test]
    fn resolves_with_clamping_and_the_end_for_unnamed_partitions() {
        let m = marks(&[(0, 10, 100), (1, 0, 5), (2, 50, 50)]);
        let none = BTreeMap::new();
        let at = |spec: &str| -> Vec<i64> {
            spec.parse::<SeekSpec>()
                .unwrap()
                .resolve(&m, &none)
                .unwrap()
                .into_values()
                .collect()
        };
        assert_eq!(at("beginning"), [10, 0, 50]);
        assert_eq!(at("end"), [100, 5, 50]);
        assert_eq!(at("3"), [10, 3, 50]);
        assert_eq!(at("each:-20"), [80, 0, 50]);
        assert_eq!(at("{1: beginning}"), [100, 0, 50]);
        let e = "{7: 1}".parse::<SeekSpec>().unwrap().resolve(&m, &none);
        assert!(
            e.unwrap_err()
                .to_string()
                .contains("partition 7 does not exist")
        );
        let by_time = BTreeMap::from([(0, 42), (1, 9)]);
        let spec: SeekSpec = "s@1".parse().unwrap();
        assert_eq!(
            spec.timestamps(&[0, 1, 2]),
            BTreeMap::from([(0, 1), (1, 1), (2, 1)])
        );
        let got: Vec<i64> = spec.resolve(&m, &by_time).unwrap().into_values().collect();
        assert_eq!(got, [42, 5, 50], "clamped; no offset found is the end");
    }

    /// The cases Redpanda Console's own tests give.
    #[test]
    fn newest_total_spreads_as_redpanda_console_does() {
        let m = marks(&[
            (0, 0, 300),
            (1, 0, 10),
            (2, 10, 30),
            (3, 0, 300),
            (4, 0, 400),
            (5, 0, 500),
        ]);
        assert_eq!(newest_total(&m, 3), [1, 1, 1, 0, 0, 0]);
        let m = marks(&[(0, 0, 300), (1, 0, 10), (2, 10, 30)]);
        assert_eq!(newest_total(&m, 100), [70, 10, 20]);
        let m = marks(&[(14, 100, 300)]);
        assert_eq!(newest_total(&m, 100), [100]);
        assert_eq!(newest_total(&m, 500), [200]);
    }

    /// Round by round, as the definition says.
    fn by_rounds(marks: &[Watermarks], n: u64) -> Vec<u64> {
        let mut counts = vec![0u64; marks.len()];
        let mut order: Vec<usize> = (0..marks.len()).collect();
        order.sort_by_key(|&i| marks[i].partition);
        let mut left = n;
        loop {
            let mut took = false;
            for &i in &order {
                if left > 0 && counts[i] < marks[i].records() {
                    counts[i] += 1;
                    left -= 1;
                    took = true;
                }
            }
            if !took || left == 0 {
                return counts;
            }
        }
    }

    proptest! {
        #[test]
        fn newest_total_equals_the_round_by_round_definition(
            sizes in proptest::collection::vec((0i64..50, 0i64..60), 1..6),
            n in 0u64..400,
        ) {
            let m: Vec<Watermarks> = sizes
                .iter()
                .enumerate()
                .map(|(i, &(low, len))| Watermarks { partition: (i as i32 * 7) % 5 + i as i32 * 5, low, high: low + len })
                .collect();
            let counts = newest_total(&m, n);
            prop_assert_eq!(&counts, &by_rounds(&m, n));
            let starts = SeekSpec::NewestTotal(n).resolve(&m, &BTreeMap::new()).unwrap();
            let total: i64 = m.iter().map(|w| w.high - starts[&w.partition]).sum();
            prop_assert_eq!(total as u64, n.min(m.iter().map(Watermarks::records).sum()));
            for w in &m {
                prop_assert!(starts[&w.partition] >= w.low && starts[&w.partition] <= w.high);
            }
        }

        #[test]
        fn any_text_parses_or_errs_without_panicking(text in ".{0,40}") {
            let _ = text.parse::<SeekSpec>();
        }
    }
}
