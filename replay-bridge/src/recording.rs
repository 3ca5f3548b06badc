//! Recordings: a Kafka topic captured to a file, replayable with no broker.
//!
//! A recording is a standard **Avro object container file** (readable by any Avro tool: fastavro,
//! `avro-tools tojson`, apache-avro), snappy-compressed, whose records are [`RECORD_SCHEMA`]:
//! `{partition, offset, timestamp, key, value, headers}` with key and value bytes exactly as the
//! broker stored them. The file metadata (the container header) holds:
//!
//! | key                       | value                                                        |
//! |---------------------------|--------------------------------------------------------------|
//! | `streamglass.format`      | `1`                                                          |
//! | `streamglass.topic`       | the topic name                                               |
//! | `streamglass.partitions`  | JSON `[{partition, low_watermark, high_watermark}]`          |
//! | `streamglass.schemas`     | JSON `[{id, subject, version, schema}]`, the value schemas   |
//! | `streamglass.source`      | where it came from, e.g. `generate --seed 7` or `kafka host:port` |
//!
//! Invariant: within a partition, records appear in strictly increasing offset order, and every
//! offset lies in `[low_watermark, high_watermark)` of its partition. Across partitions the file is
//! ordered by time, as the records were produced.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use apache_avro::types::Value;
use apache_avro::{Codec, Reader, Schema, Writer};
use serde::{Deserialize, Serialize};
use streamglass_core::protocol::SchemaInfo;

use crate::{Error, Result};

/// The Avro schema of one record in a recording.
pub const RECORD_SCHEMA: &str = r#"{
  "type": "record",
  "name": "KafkaRecord",
  "namespace": "io.streamglass.recording",
  "fields": [
    {"name": "partition", "type": "int"},
    {"name": "offset", "type": "long"},
    {"name": "timestamp", "type": {"type": "long", "logicalType": "timestamp-millis"}},
    {"name": "key", "type": ["null", "bytes"]},
    {"name": "value", "type": ["null", "bytes"]},
    {"name": "headers", "type": {"type": "array", "items": {
      "type": "record", "name": "Header",
      "fields": [{"name": "key", "type": "string"}, {"name": "value", "type": ["null", "bytes"]}]
    }}}
  ]
}"#;

const FORMAT_VERSION: &str = "1";
const META_FORMAT: &str = "streamglass.format";
const META_TOPIC: &str = "streamglass.topic";
const META_PARTITIONS: &str = "streamglass.partitions";
const META_SCHEMAS: &str = "streamglass.schemas";
const META_SOURCE: &str = "streamglass.source";

/// Uncompressed bytes per container block.
const BLOCK_BYTES: usize = 64 * 1024;

static SCHEMA: LazyLock<Schema> = LazyLock::new(|| {
    // A constant of this crate, checked by the tests below: parsing cannot fail at run time.
    Schema::parse_str(RECORD_SCHEMA).expect("RECORD_SCHEMA is valid Avro")
});

/// One Kafka record as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRecord {
    pub partition: i32,
    pub offset: i64,
    /// Milliseconds since the Unix epoch.
    pub timestamp_ms: i64,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    pub headers: Vec<(String, Option<Vec<u8>>)>,
}

/// A partition's offset range in a recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionRange {
    pub partition: i32,
    /// The first offset recorded (or, for an empty partition, where recording started).
    pub low_watermark: i64,
    /// One past the last offset recorded.
    pub high_watermark: i64,
}

/// What a recording's header says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordingMeta {
    pub topic: String,
    pub partitions: Vec<PartitionRange>,
    pub schemas: Vec<SchemaInfo>,
    pub source: String,
}

/// Writes a recording. Call [`RecordingWriter::finish`] at the end, or the last block is lost.
pub struct RecordingWriter {
    path: PathBuf,
    writer: Writer<'static, BufWriter<File>>,
}

impl RecordingWriter {
    /// Creates (or truncates) `path` and writes the header with `meta`.
    pub fn create(path: &Path, meta: &RecordingMeta) -> Result<Self> {
        let err = |reason: String| Error::WriteRecording {
            path: path.to_owned(),
            reason,
        };
        let file = File::create(path).map_err(|e| err(e.to_string()))?;
        let partitions = serde_json::to_string(&meta.partitions).map_err(|e| err(e.to_string()))?;
        let schemas = serde_json::to_string(&meta.schemas).map_err(|e| err(e.to_string()))?;
        let mut header: Vec<(&str, &[u8])> = vec![
            ("avro.codec", b"snappy"),
            ("avro.schema", RECORD_SCHEMA.as_bytes()),
            (META_FORMAT, FORMAT_VERSION.as_bytes()),
            (META_TOPIC, meta.topic.as_bytes()),
            (META_PARTITIONS, partitions.as_bytes()),
            (META_SCHEMAS, schemas.as_bytes()),
            (META_SOURCE, meta.source.as_bytes()),
        ];
        header.sort_unstable();
        // Derived from the header rather than random, so the same content gives the same file.
        let marker = sync_marker(&header);
        let mut out = BufWriter::new(file);
        out.write_all(&container_header(&header, &marker))
            .map_err(|e| err(e.to_string()))?;
        let writer = Writer::builder()
            .schema(&SCHEMA)
            .writer(out)
            .codec(Codec::Snappy)
            .block_size(BLOCK_BYTES)
            .marker(marker)
            // apache-avro would write the metadata in HashMap order; the header above is sorted.
            .has_header(true)
            .build();
        Ok(Self {
            path: path.to_owned(),
            writer,
        })
    }

    /// Appends one record.
    pub fn append(&mut self, record: &StoredRecord) -> Result<()> {
        self.writer
            .append(to_value(record))
            .map_err(|e| Error::WriteRecording {
                path: self.path.clone(),
                reason: e.to_string(),
            })?;
        Ok(())
    }

    /// Flushes the last block and the file.
    pub fn finish(self) -> Result<()> {
        let err = |reason: String| Error::WriteRecording {
            path: self.path.clone(),
            reason,
        };
        let mut inner = self.writer.into_inner().map_err(|e| err(e.to_string()))?;
        inner.flush().map_err(|e| err(e.to_string()))?;
        inner
            .into_inner()
            .map_err(|e| err(e.to_string()))?
            .sync_all()
            .map_err(|e| err(e.to_string()))?;
        Ok(())
    }
}

/// Reads a recording: the header at open, then records in file order.
pub struct RecordingReader {
    path: PathBuf,
    meta: RecordingMeta,
    reader: Reader<'static, BufReader<File>>,
    records: u64,
    failed: bool,
}

impl RecordingReader {
    /// Opens `path` and checks that it is a recording this build understands.
    pub fn open(path: &Path) -> Result<Self> {
        let file = File::open(path).map_err(|source| Error::OpenRecording {
            path: path.to_owned(),
            source,
        })?;
        let not_a_recording = |reason: String| Error::NotARecording {
            path: path.to_owned(),
            reason,
        };
        let reader = Reader::new(BufReader::with_capacity(1 << 20, file))
            .map_err(|e| not_a_recording(format!("not an Avro container file ({e})")))?;
        if reader.writer_schema().canonical_form() != SCHEMA.canonical_form() {
            return Err(not_a_recording(
                "its records are not io.streamglass.recording.KafkaRecord".into(),
            ));
        }
        let meta = parse_meta(reader.user_metadata()).map_err(not_a_recording)?;
        Ok(Self {
            path: path.to_owned(),
            meta,
            reader,
            records: 0,
            failed: false,
        })
    }

    /// The header.
    pub fn meta(&self) -> &RecordingMeta {
        &self.meta
    }

    /// The path it reads.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Iterator for RecordingReader {
    type Item = Result<StoredRecord>;

    /// The next record; after the first error, nothing more.
    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let item = self.reader.next()?;
        let record = item
            .map_err(|e| e.to_string())
            .and_then(from_value)
            .map_err(|reason| Error::CorruptRecording {
                path: self.path.clone(),
                records: self.records,
                reason,
            });
        match &record {
            Ok(_) => self.records += 1,
            Err(_) => self.failed = true,
        }
        Some(record)
    }
}

/// A 16-byte container sync marker from the header's contents (two FNV-1a hashes).
fn sync_marker(header: &[(&str, &[u8])]) -> [u8; 16] {
    let bytes = || {
        header.iter().flat_map(|(k, v)| {
            k.bytes()
                .chain([0xff])
                .chain(v.iter().copied())
                .chain([0xff])
        })
    };
    let hash = |seed: u64| {
        bytes().fold(seed, |h, byte| {
            (h ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        })
    };
    let mut marker = [0; 16];
    marker[..8].copy_from_slice(&hash(0xcbf2_9ce4_8422_2325).to_le_bytes());
    marker[8..].copy_from_slice(&hash(0x6c62_272e_07bb_0142).to_le_bytes());
    marker
}

/// An Avro object container header: magic, the metadata as an Avro `map<bytes>` (one block, in
/// the given order), and the sync marker.
fn container_header(metadata: &[(&str, &[u8])], marker: &[u8; 16]) -> Vec<u8> {
    fn long(out: &mut Vec<u8>, n: i64) {
        let mut z = ((n << 1) ^ (n >> 63)) as u64;
        while z >= 0x80 {
            out.push((z as u8) | 0x80);
            z >>= 7;
        }
        out.push(z as u8);
    }
    let mut out = b"Obj\x01".to_vec();
    long(&mut out, metadata.len() as i64);
    for (key, value) in metadata {
        long(&mut out, key.len() as i64);
        out.extend_from_slice(key.as_bytes());
        long(&mut out, value.len() as i64);
        out.extend_from_slice(value);
    }
    long(&mut out, 0);
    out.extend_from_slice(marker);
    out
}

fn parse_meta(meta: &HashMap<String, Vec<u8>>) -> Result<RecordingMeta, String> {
    let text = |key: &str| -> Result<&str, String> {
        let bytes = meta
            .get(key)
            .ok_or_else(|| format!("the header has no {key}"))?;
        std::str::from_utf8(bytes).map_err(|_| format!("the header's {key} is not UTF-8"))
    };
    let format = text(META_FORMAT)?;
    if format != FORMAT_VERSION {
        return Err(format!(
            "format version {format} is not supported (this build reads version {FORMAT_VERSION})"
        ));
    }
    let partitions: Vec<PartitionRange> = serde_json::from_str(text(META_PARTITIONS)?)
        .map_err(|e| format!("the header's {META_PARTITIONS} is invalid: {e}"))?;
    let schemas: Vec<SchemaInfo> = serde_json::from_str(text(META_SCHEMAS)?)
        .map_err(|e| format!("the header's {META_SCHEMAS} is invalid: {e}"))?;
    Ok(RecordingMeta {
        topic: text(META_TOPIC)?.to_owned(),
        partitions,
        schemas,
        source: text(META_SOURCE)?.to_owned(),
    })
}

fn nullable_bytes(bytes: Option<&Vec<u8>>) -> Value {
    match bytes {
        None => Value::Union(0, Box::new(Value::Null)),
        Some(b) => Value::Union(1, Box::new(Value::Bytes(b.clone()))),
    }
}

fn to_value(r: &StoredRecord) -> Value {
    let headers = r
        .headers
        .iter()
        .map(|(k, v)| {
            Value::Record(vec![
                ("key".into(), Value::String(k.clone())),
                ("value".into(), nullable_bytes(v.as_ref())),
            ])
        })
        .collect();
    Value::Record(vec![
        ("partition".into(), Value::Int(r.partition)),
        ("offset".into(), Value::Long(r.offset)),
        ("timestamp".into(), Value::TimestampMillis(r.timestamp_ms)),
        ("key".into(), nullable_bytes(r.key.as_ref())),
        ("value".into(), nullable_bytes(r.value.as_ref())),
        ("headers".into(), Value::Array(headers)),
    ])
}

fn take_bytes(v: Value) -> Result<Option<Vec<u8>>, String> {
    match v {
        Value::Union(_, inner) => take_bytes(*inner),
        Value::Null => Ok(None),
        Value::Bytes(b) => Ok(Some(b)),
        other => Err(format!("expected bytes or null, found {other:?}")),
    }
}

fn from_value(v: Value) -> Result<StoredRecord, String> {
    let Value::Record(fields) = v else {
        return Err("a record is not an Avro record".into());
    };
    let mut fields = fields.into_iter().map(|(_, v)| v);
    let mut next = || {
        fields
            .next()
            .ok_or_else(|| "a record has too few fields".to_string())
    };
    let partition = match next()? {
        Value::Int(p) => p,
        other => return Err(format!("partition is not an int: {other:?}")),
    };
    let offset = match next()? {
        Value::Long(o) => o,
        other => return Err(format!("offset is not a long: {other:?}")),
    };
    let timestamp_ms = match next()? {
        Value::TimestampMillis(t) | Value::Long(t) => t,
        other => return Err(format!("timestamp is not a long: {other:?}")),
    };
    let key = take_bytes(next()?)?;
    let value = take_bytes(next()?)?;
    let headers = match next()? {
        Value::Array(items) => items
            .into_iter()
            .map(|item| match item {
                Value::Record(kv) => {
                    let mut kv = kv.into_iter().map(|(_, v)| v);
                    let key = match kv.next() {
                        Some(Value::String(k)) => k,
                        other => return Err(format!("header key is not a string: {other:?}")),
                    };
                    let value = take_bytes(kv.next().unwrap_or(Value::Null))?;
                    Ok((key, value))
                }
                other => Err(format!("header is not a record: {other:?}")),
            })
            .collect::<Result<Vec<_>, String>>()?,
        other => return Err(format!("headers is not an array: {other:?}")),
    };
    Ok(StoredRecord {
        partition,
        offset,
        timestamp_ms,
        key,
        value,
        headers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn meta() -> RecordingMeta {
        RecordingMeta {
            topic: "t".into(),
            partitions: vec![PartitionRange {
                partition: 0,
                low_watermark: 0,
                high_watermark: 100,
            }],
            schemas: vec![SchemaInfo {
                id: 1,
                subject: Some("t-value".into()),
                version: Some(1),
                schema: "\"string\"".into(),
            }],
            source: "test".into(),
        }
    }

    fn arb_record() -> impl Strategy<Value = StoredRecord> {
        let bytes = || proptest::option::of(proptest::collection::vec(any::<u8>(), 0..40));
        (
            0i32..8,
            any::<i64>(),
            any::<i64>(),
            bytes(),
            bytes(),
            proptest::collection::vec((".{0,8}", bytes()), 0..3),
        )
            .prop_map(|(partition, offset, timestamp_ms, key, value, headers)| {
                StoredRecord {
                    partition,
                    offset,
                    timestamp_ms,
                    key,
                    value,
                    headers,
                }
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        #[test]
        fn records_and_meta_round_trip(records in proptest::collection::vec(arb_record(), 0..200)) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("r.sgrec");
            let mut w = RecordingWriter::create(&path, &meta()).unwrap();
            for r in &records {
                w.append(r).unwrap();
            }
            w.finish().unwrap();
            let reader = RecordingReader::open(&path).unwrap();
            prop_assert_eq!(reader.meta(), &meta());
            let back: Vec<StoredRecord> = reader.collect::<Result<_>>().unwrap();
            prop_assert_eq!(back, records);
        }
    }

    #[test]
    fn missing_file_is_a_clear_error() {
        let err = RecordingReader::open(Path::new("/nonexistent/x.sgrec"))
            .err()
            .unwrap();
        assert!(
            err.to_string()
                .starts_with("cannot open recording /nonexistent/x.sgrec"),
            "{err}"
        );
    }

    #[test]
    fn garbage_is_not_a_recording() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("junk");
        std::fs::write(&path, b"this is not avro at all").unwrap();
        let err = RecordingReader::open(&path).err().unwrap();
        assert!(matches!(err, Error::NotARecording { .. }), "{err}");
    }

    #[test]
    fn an_avro_file_of_another_schema_is_not_a_recording() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("other.avro");
        let schema = Schema::parse_str(r#""string""#).unwrap();
        let mut w = Writer::new(&schema, Vec::new());
        w.append(Value::String("x".into())).unwrap();
        std::fs::write(&path, w.into_inner().unwrap()).unwrap();
        let err = RecordingReader::open(&path).err().unwrap();
        assert!(err.to_string().contains("KafkaRecord"), "{err}");
    }

    #[test]
    fn truncation_is_reported_with_the_count_so_far_and_never_panics() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.sgrec");
        let mut w = RecordingWriter::create(&path, &meta()).unwrap();
        for offset in 0..20_000 {
            w.append(&StoredRecord {
                partition: 0,
                offset,
                timestamp_ms: offset,
                key: None,
                value: Some(vec![7; 50]),
                headers: vec![],
            })
            .unwrap();
        }
        w.finish().unwrap();
        let bytes = std::fs::read(&path).unwrap();
        for cut in [bytes.len() / 2, bytes.len() - 3] {
            std::fs::write(&path, &bytes[..cut]).unwrap();
            let reader = RecordingReader::open(&path).unwrap();
            let results: Vec<_> = reader.collect();
            let ok = results.iter().filter(|r| r.is_ok()).count();
            assert!(ok < 20_000);
            let last = results.last().unwrap();
            assert!(
                matches!(last, Err(Error::CorruptRecording { records, .. }) if *records == ok as u64),
                "{last:?}"
            );
        }
    }
}
