//! `replay-bridge record` and `generate`: writing recordings.
//!
//! `record` captures a topic from where a seek spec says (the low watermarks by default) up to the
//! high watermark each partition has when recording starts (as `kcat -e` stops at the end),
//! merging partitions by timestamp so the file reads in the order the records were produced. The
//! header's watermarks are the recorded range, so a replay's offsets are the broker's. Memory stays
//! at one fetch per partition.
//!
//! A recording is whole or absent ([`RecordingWriter`]): a failure (the broker gone mid-way) leaves
//! no file. Stopped early (`record`'s `stop`, Ctrl-C on the command line), it keeps what it has: the
//! header then says so, and ends each partition one past its last record, with the high watermark
//! it was heading for beside it.

use std::future::Future;
use std::path::Path;
use std::time::Duration;

use std::collections::BTreeMap;
use std::sync::Arc;

use streamglass_core::protocol::SchemaInfo;
use streamglass_core::seek::{SeekSpec, Watermarks};

use crate::kafka::{Fetched, KafkaConfig, KafkaPartition, KafkaTopic};
use crate::recording::{PartitionRange, RecordingMeta, RecordingWriter};
use crate::trades::{self, TradeGenerator};
use crate::{Error, Result};

const FETCH_BYTES: i32 = 4 << 20;

/// What was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub records: u64,
    pub partitions: Vec<PartitionRange>,
    /// Why the recording stopped before its end, if it did (the header's `stopped_early`).
    pub stopped_early: Option<String>,
}

/// The most trades `generate` writes (some 80 GB of recording).
pub const MAX_TRADES: u64 = 1_000_000_000;
/// The most partitions `generate` spreads them over.
pub const MAX_PARTITIONS: i32 = 100_000;
/// The longest future `generate --future-secs` makes: ten years of record time.
pub const MAX_FUTURE_SECS: u64 = 10 * 365 * 24 * 3600;

/// Refuses sizes `generate` would spend hours, or all memory, on.
fn check_generate(count: u64, future_secs: u64, partitions: i32) -> Result<()> {
    let refuse = |what: String| Err(Error::InvalidArgument(what));
    if count > MAX_TRADES {
        return refuse(format!("--count {count}: at most {MAX_TRADES} trades"));
    }
    if future_secs > MAX_FUTURE_SECS {
        return refuse(format!(
            "--future-secs {future_secs}: at most {MAX_FUTURE_SECS} (ten years)"
        ));
    }
    if !(1..=MAX_PARTITIONS).contains(&partitions) {
        return refuse(format!(
            "--partitions {partitions}: give 1 to {MAX_PARTITIONS}"
        ));
    }
    Ok(())
}

/// Writes `count` synthetic trades over `partitions` partitions to `out`.
pub fn generate(out: &Path, count: u64, partitions: i32, seed: u64) -> Result<Written> {
    check_generate(count, 0, partitions)?;
    let source =
        format!("replay-bridge generate --count {count} --partitions {partitions} --seed {seed}");
    write_generated(out, count, partitions, seed, source)
}

/// Writes `history` synthetic trades, then those of the `future_secs` seconds of record time after
/// the last of them (and one more, so the future lasts at least that long): a recording to serve
/// with `--live-from end-<future_secs>s`. Its live point then falls at or just after the last of the
/// `history` trades: at least that many are history (a few more when the last gap is long).
pub fn generate_live(
    out: &Path,
    history: u64,
    future_secs: u64,
    partitions: i32,
    seed: u64,
) -> Result<Written> {
    if future_secs == 0 {
        return generate(out, history, partitions, seed);
    }
    let count = live_count(history, future_secs, partitions, seed)?;
    let source = format!(
        "replay-bridge generate --count {history} --future-secs {future_secs} --partitions {partitions} --seed {seed}"
    );
    write_generated(out, count, partitions, seed, source)
}

/// How many trades `history` of them plus `future_secs` of record time after them are: a dry run
/// of the generator, which samples without encoding. Refused past [`MAX_TRADES`], as soon as the
/// pace of the first million future trades says the future will pass it.
pub fn live_count(history: u64, future_secs: u64, partitions: i32, seed: u64) -> Result<u64> {
    check_generate(history, future_secs, partitions)?;
    let mut generator =
        TradeGenerator::new(seed, partitions).map_err(|e| Error::InvalidArgument(e.to_string()))?;
    if future_secs == 0 {
        return Ok(history);
    }
    let mut from = None;
    for _ in 0..history {
        from = Some(generator.next_timestamp_ms());
    }
    let future_ms = i64::try_from(future_secs.saturating_mul(1_000)).unwrap_or(i64::MAX);
    let too_many = |about: u64| {
        Error::InvalidArgument(format!(
            "--count {history} --future-secs {future_secs}: about {about} trades, more than {MAX_TRADES}; ask for a shorter future"
        ))
    };
    let mut count = history;
    loop {
        let t = generator.next_timestamp_ms();
        count += 1;
        let from = *from.get_or_insert(t);
        if t > from.saturating_add(future_ms) {
            return Ok(count);
        }
        if count > MAX_TRADES {
            return Err(too_many(count));
        }
        let future = count - history;
        if future.is_multiple_of(1 << 20) && t > from {
            let projected = future as f64 * future_ms as f64 / (t - from) as f64;
            if history as f64 + projected > 2.0 * MAX_TRADES as f64 {
                return Err(too_many(history + projected as u64));
            }
        }
    }
}

fn write_generated(
    out: &Path,
    count: u64,
    partitions: i32,
    seed: u64,
    source: String,
) -> Result<Written> {
    let mut generator =
        TradeGenerator::new(seed, partitions).map_err(|e| Error::InvalidArgument(e.to_string()))?;
    let ranges: Vec<PartitionRange> = TradeGenerator::partition_counts(count, partitions)
        .into_iter()
        .enumerate()
        .map(|(p, n)| PartitionRange::new(p as i32, 0, n))
        .collect();
    let meta = RecordingMeta {
        topic: trades::TRADES_TOPIC.into(),
        partitions: ranges.clone(),
        schemas: vec![SchemaInfo {
            id: trades::TRADES_SCHEMA_ID,
            subject: Some(trades::TRADES_SUBJECT.into()),
            version: Some(1),
            schema: trades::TRADE_SCHEMA.into(),
            schema_type: Default::default(),
            descriptors: None,
        }],
        source,
        stopped_early: None,
    };
    let mut writer = RecordingWriter::create(out, &meta)?;
    for _ in 0..count {
        let record = generator.next_record().map_err(|e| Error::WriteRecording {
            path: out.to_owned(),
            reason: e.to_string(),
        })?;
        writer.append(&record)?;
    }
    let meta = writer.finish(&meta)?;
    Ok(Written {
        records: count,
        partitions: meta.partitions,
        stopped_early: None,
    })
}

struct Cursor {
    partition: Arc<KafkaPartition>,
    next: i64,
    end: i64,
    buffer: std::collections::VecDeque<crate::recording::StoredRecord>,
}

impl Cursor {
    /// Whether the buffer is empty and the partition not done.
    fn needs_fetch(&self) -> bool {
        self.buffer.is_empty() && self.next < self.end
    }

    /// Whether every record up to the end has been taken from the buffer.
    fn done(&self) -> bool {
        self.buffer.is_empty() && self.next >= self.end
    }

    /// Makes sure the buffer holds the next record, unless the partition is done.
    async fn fill(&mut self) -> Result<()> {
        let mut empty_fetches = 0;
        while self.buffer.is_empty() && self.next < self.end {
            let Fetched { records, .. } = self
                .partition
                .fetch(self.next, FETCH_BYTES, Duration::from_millis(100))
                .await?;
            if records.is_empty() {
                // Offsets below the end that no fetch returns (transaction markers, compaction):
                // nothing more to record here. Bounded, so a broker's quirk cannot hang us.
                empty_fetches += 1;
                if empty_fetches == 3 {
                    tracing::warn!(
                        partition = self.partition.partition(),
                        next = self.next,
                        end = self.end,
                        "no records returned below the end offset; partition done"
                    );
                    self.next = self.end;
                }
                continue;
            }
            for record in records {
                if record.offset >= self.end {
                    break;
                }
                self.next = record.offset + 1;
                self.buffer.push_back(record);
            }
        }
        Ok(())
    }
}

/// Captures `topic` into `out` from where `seek` says, with `schemas` in the header. `progress` is
/// called with the number of records written so far and the total to write. When `stop` completes
/// (with a reason) before the end, the records so far are kept in a recording whose header says it
/// was stopped early; before recording began, nothing is written ([`Error::Interrupted`]).
pub async fn record(
    config: &KafkaConfig,
    topic: &str,
    seek: &SeekSpec,
    out: &Path,
    schemas: Vec<SchemaInfo>,
    mut progress: impl FnMut(u64, u64),
    stop: impl Future<Output = String>,
) -> Result<Written> {
    let mut stop = std::pin::pin!(stop);
    let (mut cursors, ranges) = tokio::select! {
        biased;
        reason = &mut stop => return Err(Error::Interrupted(reason)),
        plan = plan(config, topic, seek) => plan?,
    };
    let total: u64 = ranges
        .iter()
        .map(|r| (r.high_watermark - r.low_watermark).max(0) as u64)
        .sum();
    let meta = RecordingMeta {
        topic: topic.to_owned(),
        partitions: ranges,
        schemas,
        source: format!(
            "replay-bridge record --broker {} --topic {topic} --seek '{seek}'",
            config.brokers.join(",")
        ),
        stopped_early: None,
    };
    let mut writer = RecordingWriter::create(out, &meta)?;
    let mut written = 0u64;
    let mut stopped = None;
    loop {
        if cursors.iter().any(Cursor::needs_fetch) {
            // A fetch cut off by `stop` leaves its cursor as it was: nothing is half taken.
            tokio::select! {
                biased;
                reason = &mut stop => {
                    stopped = Some(reason);
                    break;
                }
                filled = fill(&mut cursors) => filled?,
            }
        }
        // The oldest head record goes next: the file reads in production order.
        let Some(cursor) = cursors
            .iter_mut()
            .filter(|c| !c.buffer.is_empty())
            .min_by_key(|c| c.buffer.front().map(|r| (r.timestamp_ms, r.partition)))
        else {
            break;
        };
        if let Some(record) = cursor.buffer.pop_front() {
            writer.append(&record)?;
            written += 1;
            if written.is_multiple_of(10_000) {
                progress(written, total);
            }
        }
    }
    let meta = match stopped {
        None => meta,
        Some(reason) => {
            let mut meta = meta;
            for (range, cursor) in meta.partitions.iter_mut().zip(&cursors) {
                range.target_high_watermark = Some(range.high_watermark);
                if !cursor.done() {
                    let contents = writer.contents(range.partition);
                    range.high_watermark = contents
                        .last_offset
                        .map_or(range.low_watermark, |last| last + 1);
                }
            }
            meta.stopped_early = Some(format!("{reason} after {written} of {total} records"));
            meta
        }
    };
    let meta = writer.finish(&meta)?;
    progress(written, total);
    Ok(Written {
        records: written,
        partitions: meta.partitions,
        stopped_early: meta.stopped_early,
    })
}

/// Fills every cursor's buffer that needs it.
async fn fill(cursors: &mut [Cursor]) -> Result<()> {
    for cursor in cursors {
        cursor.fill().await?;
    }
    Ok(())
}

/// Connects, and resolves `seek` to a cursor and a range per partition (the range's high watermark
/// is the partition's when recording starts).
async fn plan(
    config: &KafkaConfig,
    topic: &str,
    seek: &SeekSpec,
) -> Result<(Vec<Cursor>, Vec<PartitionRange>)> {
    let kafka = KafkaTopic::connect(config, topic).await?;
    let mut clients = Vec::new();
    let mut marks = Vec::new();
    for &p in kafka.partitions() {
        let partition = kafka.partition(p).await?;
        let (low, high) = partition.watermarks().await?;
        marks.push(Watermarks {
            partition: p,
            low,
            high,
        });
        clients.push(partition);
    }
    let mut by_time = BTreeMap::new();
    for (&p, &ms) in &seek.timestamps(kafka.partitions()) {
        if let Some(client) = clients.iter().find(|c| c.partition() == p)
            && let Some(offset) = client.offset_at_time(ms).await?
        {
            by_time.insert(p, offset);
        }
    }
    let starts = crate::subscription::start_offsets(topic, seek, None, &marks, &by_time)?;
    let mut cursors = Vec::new();
    let mut ranges = Vec::new();
    for (partition, m) in clients.into_iter().zip(&marks) {
        let start = starts.get(&m.partition).copied().unwrap_or(m.high);
        ranges.push(PartitionRange::new(m.partition, start, m.high));
        cursors.push(Cursor {
            partition,
            next: start,
            end: m.high,
            buffer: Default::default(),
        });
    }
    Ok((cursors, ranges))
}

/// A progress callback drawing an indicatif bar on stderr (hidden when stderr is not a terminal).
pub fn progress_bar() -> impl FnMut(u64, u64) {
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} records ({per_sec}, {eta} left)",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    move |done, total| {
        bar.set_length(total);
        bar.set_position(done);
        if done >= total {
            bar.finish();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::{LivePoint, ReleaseSchedule, watermarks};
    use crate::recording::RecordingReader;

    #[test]
    fn a_live_recording_has_its_history_then_at_least_the_future_asked_for() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("live.sgrec");
        let (history, future_secs) = (3_000, 20);
        let written = generate_live(&path, history, future_secs, 3, 5).unwrap();
        let reader = RecordingReader::open(&path).unwrap();
        let meta = reader.meta().clone();
        assert!(meta.source.contains("--future-secs 20"), "{}", meta.source);
        let times: Vec<i64> = reader.map(|r| r.unwrap().timestamp_ms).collect();
        assert_eq!(times.len() as u64, written.records);
        assert!(times.windows(2).all(|w| w[0] <= w[1]), "time order");
        let boundary = times[history as usize - 1];
        let last = times[times.len() - 1];
        assert!(last > boundary + 20_000);
        assert!(
            times[times.len() - 2] <= boundary + 20_000,
            "one record past the future, no more"
        );
        // Served with --live-from end-20s, the history is exactly the --count trades (and any
        // trade of the same millisecond as the last of them).
        let mut schedule = ReleaseSchedule::read(&path, &meta).unwrap();
        let origin = schedule.origin(&LivePoint::LastMillis(20_000)).unwrap();
        let expected = times.iter().filter(|&&t| t <= origin).count() as u64;
        assert!(origin >= boundary);
        assert!(
            expected >= history && expected < history + 50,
            "{expected} records of history"
        );
        assert_eq!(schedule.split(origin), expected);
        assert_eq!(
            watermarks(&meta).iter().map(|m| m.high).sum::<i64>() as u64,
            written.records
        );
    }

    #[test]
    fn generate_refuses_what_would_never_end_or_exhaust_memory() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("never.sgrec");
        let started = std::time::Instant::now();
        for (history, future_secs, partitions, why) in [
            (
                10,
                1_000_000_000_000_000,
                3,
                "--future-secs 1000000000000000: at most",
            ),
            // Within ten years, but billions of trades: refused from the pace of the first ones.
            (10, MAX_FUTURE_SECS, 3, "more than 1000000000"),
            (MAX_TRADES + 1, 0, 3, "--count 1000000001: at most"),
            (10, 0, i32::MAX, "--partitions 2147483647: give 1 to 100000"),
            (10, 0, 0, "--partitions 0"),
        ] {
            let err = generate_live(&path, history, future_secs, partitions, 1).unwrap_err();
            assert!(err.to_string().contains(why), "{why}: {err}");
            assert!(!path.exists());
        }
        // Bounded work, not a run of billions (a loose bound: this is no speed test).
        assert!(started.elapsed() < std::time::Duration::from_secs(120));
    }
}
