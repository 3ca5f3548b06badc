//! `replay-bridge inspect`: what a recording holds, read end to end.
//!
//! Reading every record (rather than trusting the header) is what makes `inspect` a check
//! ([`HeaderCheck`]): offsets rise within each partition, stay inside the header's ranges, and each
//! partition holds the records the header says. A file that fails it is refused, not summarised. A
//! recording stopped early is reported as such, with the high watermarks it was heading for.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use crate::recording::{HeaderCheck, RecordingReader};
use crate::{Error, Result};

/// One partition's contents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartitionSummary {
    pub partition: i32,
    pub records: u64,
    pub first_offset: Option<i64>,
    pub last_offset: Option<i64>,
    pub low_watermark: i64,
    pub high_watermark: i64,
    /// In a recording stopped early: the high watermark it was heading for.
    pub target_high_watermark: Option<i64>,
}

/// A schema, briefly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SchemaSummary {
    pub id: u32,
    pub subject: Option<String>,
    pub version: Option<i32>,
    pub name: String,
}

/// Everything `inspect` reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordingSummary {
    pub topic: String,
    pub source: String,
    /// Why the recording stopped before its end, if it did.
    pub stopped_early: Option<String>,
    pub records: u64,
    pub payload_bytes: u64,
    pub first_timestamp_ms: Option<i64>,
    pub last_timestamp_ms: Option<i64>,
    pub partitions: Vec<PartitionSummary>,
    pub schemas: Vec<SchemaSummary>,
}

/// Reads the whole recording, checks it against its header, and summarises it.
pub fn summarize(path: &Path) -> Result<RecordingSummary> {
    let reader = RecordingReader::open(path)?;
    let meta = reader.meta().clone();
    let mismatch = |reason: String| Error::RecordingMismatch {
        path: path.to_owned(),
        reason,
    };
    let mut check = HeaderCheck::new(&meta);
    let (mut records, mut payload_bytes) = (0u64, 0u64);
    let (mut first_ts, mut last_ts) = (None::<i64>, None::<i64>);
    for record in reader {
        let record = record?;
        check
            .add(record.partition, record.offset)
            .map_err(mismatch)?;
        records += 1;
        payload_bytes +=
            (record.key.map_or(0, |k| k.len()) + record.value.map_or(0, |v| v.len())) as u64;
        first_ts = Some(first_ts.map_or(record.timestamp_ms, |t| t.min(record.timestamp_ms)));
        last_ts = Some(last_ts.map_or(record.timestamp_ms, |t| t.max(record.timestamp_ms)));
    }
    check.finish().map_err(mismatch)?;
    let partitions: BTreeMap<i32, PartitionSummary> = meta
        .partitions
        .iter()
        .map(|p| {
            let contents = check.contents(p.partition);
            let summary = PartitionSummary {
                partition: p.partition,
                records: contents.records,
                first_offset: contents.first_offset,
                last_offset: contents.last_offset,
                low_watermark: p.low_watermark,
                high_watermark: p.high_watermark,
                target_high_watermark: p.target_high_watermark,
            };
            (p.partition, summary)
        })
        .collect();
    let schemas = meta
        .schemas
        .iter()
        .map(|s| SchemaSummary {
            id: s.id,
            subject: s.subject.clone(),
            version: s.version,
            name: schema_name(&s.schema),
        })
        .collect();
    Ok(RecordingSummary {
        topic: meta.topic,
        source: meta.source,
        stopped_early: meta.stopped_early,
        records,
        payload_bytes,
        first_timestamp_ms: first_ts,
        last_timestamp_ms: last_ts,
        partitions: partitions.into_values().collect(),
        schemas,
    })
}

fn schema_name(text: &str) -> String {
    match apache_avro::Schema::parse_str(text) {
        Ok(apache_avro::Schema::Record(r)) => r.name.fullname(None),
        Ok(other) => format!("{:?}", apache_avro::schema::SchemaKind::from(&other)),
        Err(e) => format!("(unparseable: {e})"),
    }
}

fn iso(ms: Option<i64>) -> String {
    ms.and_then(chrono::DateTime::from_timestamp_millis)
        .map_or_else(
            || "-".into(),
            |t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        )
}

/// The summary as text for a terminal.
pub fn render(summary: &RecordingSummary) -> String {
    let mut out = String::new();
    let span_s = match (summary.first_timestamp_ms, summary.last_timestamp_ms) {
        (Some(a), Some(b)) => (b - a) as f64 / 1000.0,
        _ => 0.0,
    };
    let _ = writeln!(out, "topic      {}", summary.topic);
    let _ = writeln!(out, "source     {}", summary.source);
    if let Some(reason) = &summary.stopped_early {
        let _ = writeln!(
            out,
            "STOPPED EARLY: {reason}; each partition ends at its last record (target: the high watermark it was heading for)"
        );
    }
    let _ = writeln!(
        out,
        "records    {} ({} payload bytes)",
        summary.records, summary.payload_bytes
    );
    let _ = writeln!(
        out,
        "time span  {} .. {} ({span_s:.1} s)",
        iso(summary.first_timestamp_ms),
        iso(summary.last_timestamp_ms)
    );
    let _ = writeln!(out, "partitions {}", summary.partitions.len());
    let _ = write!(
        out,
        "  {:>9} {:>12} {:>14} {:>14}",
        "partition", "records", "low watermark", "high watermark"
    );
    let stopped = summary.stopped_early.is_some();
    let _ = writeln!(out, "{}", if stopped { "         target" } else { "" });
    for p in &summary.partitions {
        let _ = write!(
            out,
            "  {:>9} {:>12} {:>14} {:>14}",
            p.partition, p.records, p.low_watermark, p.high_watermark
        );
        let target = p.target_high_watermark.filter(|_| stopped);
        let _ = writeln!(
            out,
            "{}",
            target.map_or(String::new(), |t| format!(" {t:>14}"))
        );
    }
    let _ = writeln!(out, "schemas    {}", summary.schemas.len());
    for s in &summary.schemas {
        let _ = writeln!(
            out,
            "  id {:<6} {} (subject {}, version {})",
            s.id,
            s.name,
            s.subject.as_deref().unwrap_or("-"),
            s.version.map_or_else(|| "-".into(), |v| v.to_string())
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recording::{StoredRecord, meta_of, write_unchecked};
    use crate::source::Source;

    fn records(partition: i32, offsets: std::ops::Range<i64>) -> Vec<StoredRecord> {
        offsets
            .map(|offset| StoredRecord {
                partition,
                offset,
                timestamp_ms: offset,
                key: None,
                value: Some(vec![1; 10]),
                headers: vec![],
            })
            .collect()
    }

    /// As `record` wrote it before: the header's high watermark taken before recording, the file
    /// stopped at 1,000 records by Ctrl-C. `inspect` said nothing and exited 0.
    #[test]
    fn a_recording_cut_short_is_refused_not_summarised() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("short.sgrec");
        write_unchecked(&path, &meta_of(&[(0, 0, 10_000)]), &records(0, 0..1_000));
        let err = summarize(&path).unwrap_err();
        assert!(matches!(err, Error::RecordingMismatch { .. }), "{err}");
        assert!(err.to_string().contains("cut short"), "{err}");
        assert_eq!(err.to_string().lines().count(), 1);
    }

    #[test]
    fn a_recording_stopped_early_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stopped.sgrec");
        let mut header = meta_of(&[(0, 0, 1_000), (1, 5, 5)]);
        header.stopped_early = Some("interrupted (SIGINT) after 1000 of 3000 records".into());
        header.partitions[0].records = Some(1_000);
        header.partitions[0].target_high_watermark = Some(2_000);
        header.partitions[1].records = Some(0);
        header.partitions[1].target_high_watermark = Some(1_005);
        write_unchecked(&path, &header, &records(0, 0..1_000));
        let summary = summarize(&path).unwrap();
        assert_eq!(
            summary.stopped_early.as_deref(),
            Some("interrupted (SIGINT) after 1000 of 3000 records")
        );
        assert_eq!(summary.partitions[0].target_high_watermark, Some(2_000));
        assert_eq!(summary.partitions[0].last_offset, Some(999));
        let text = render(&summary);
        assert!(
            text.contains("STOPPED EARLY: interrupted (SIGINT)"),
            "{text}"
        );
        assert!(text.contains("2000"), "{text}");
        let json = serde_json::to_value(&summary).unwrap();
        assert_eq!(json["partitions"][1]["target_high_watermark"], 1_005);

        // Served, it says so too, and each partition ends at its last record.
        let Source::Recording(source) = Source::recording(&path).unwrap() else {
            unreachable!("a recording source")
        };
        assert!(source.stopped_early().is_some_and(|r| r.contains("SIGINT")));
        let served = Source::Recording(source);
        assert!(
            served.describe().contains("stopped early"),
            "{}",
            served.describe()
        );
    }
}
