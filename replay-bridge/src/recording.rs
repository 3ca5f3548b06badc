//! Recordings: a Kafka topic captured to a file, replayable with no broker.
//!
//! A recording is a standard **Avro object container file** (readable by any Avro tool: fastavro,
//! `avro-tools tojson`, apache-avro), snappy-compressed, whose records are [`RECORD_SCHEMA`]:
//! `{partition, offset, timestamp, key, value, headers}` with key and value bytes exactly as the
//! broker stored them. The file metadata (the container header) holds:
//!
//! | key                        | value                                                        |
//! |----------------------------|--------------------------------------------------------------|
//! | `streamglass.format`       | `1`                                                          |
//! | `streamglass.topic`        | the topic name                                               |
//! | `streamglass.partitions`   | JSON `[{partition, low_watermark, high_watermark, records}]` (and `target_high_watermark` when stopped early) |
//! | `streamglass.schemas`      | JSON `[{id, subject, version, schema}]`, the value schemas   |
//! | `streamglass.source`       | where it came from, e.g. `generate --seed 7` or `kafka host:port` |
//! | `streamglass.stopped_early`| only in a recording stopped before its end: why, e.g. `interrupted (SIGINT) after 5 of 9 records` |
//!
//! A recording is whole or refused. [`RecordingWriter`] writes the blocks to `OUT.partial` and, at
//! [`RecordingWriter::finish`], the header computed from what was written, then the same blocks, to
//! `OUT.tmp`, renamed to `OUT`: the file at `OUT` is always complete, and its header is the truth
//! about it. Readers check the file against its header as they read it ([`HeaderCheck`]): a file cut
//! short, or whose header claims records it does not hold, is refused.
//!
//! Invariant: within a partition, records appear in strictly increasing offset order, every offset
//! lies in `[low_watermark, high_watermark)` of its partition, and the partition holds `records`
//! records (headers written before that count was kept: its records end at `high_watermark - 1`).
//! Across partitions the file is ordered by time, as the records were produced.

use std::collections::{BTreeMap, HashMap};
use std::fs::{File, OpenOptions};
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use apache_avro::types::Value;
use apache_avro::{Codec, Schema, Writer};
use serde::{Deserialize, Serialize};
use streamglass_core::protocol::{SchemaInfo, SchemaType};

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
const META_STOPPED_EARLY: &str = "streamglass.stopped_early";

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
    /// One past the last offset recorded: the broker's high watermark when the recording ran to it,
    /// one past the last record when it was stopped early.
    pub high_watermark: i64,
    /// How many records of the partition the file holds; `None` in files written before it was
    /// kept. [`RecordingWriter::finish`] sets it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub records: Option<u64>,
    /// In a recording stopped early: the high watermark it was heading for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_high_watermark: Option<i64>,
}

impl PartitionRange {
    /// The range `[low_watermark, high_watermark)`, its record count to be set by the writer.
    pub fn new(partition: i32, low_watermark: i64, high_watermark: i64) -> Self {
        Self {
            partition,
            low_watermark,
            high_watermark,
            records: None,
            target_high_watermark: None,
        }
    }
}

/// What a recording's header says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordingMeta {
    pub topic: String,
    pub partitions: Vec<PartitionRange>,
    pub schemas: Vec<SchemaInfo>,
    pub source: String,
    /// Why the recording stopped before each partition's end, if it did.
    pub stopped_early: Option<String>,
}

/// What a recording holds of one partition.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PartitionContents {
    pub records: u64,
    pub first_offset: Option<i64>,
    pub last_offset: Option<i64>,
}

/// A recording's records checked against its header, one by one as they are read or written: each
/// record's partition is in the header, its offsets rise and stay inside the partition's range; and,
/// at the end ([`HeaderCheck::finish`]), each partition holds what the header says.
#[derive(Debug, Clone)]
pub struct HeaderCheck {
    partitions: BTreeMap<i32, (PartitionRange, PartitionContents)>,
}

impl HeaderCheck {
    /// A check against `meta`, before the first record.
    pub fn new(meta: &RecordingMeta) -> Self {
        let partitions = meta
            .partitions
            .iter()
            .map(|r| (r.partition, (*r, PartitionContents::default())))
            .collect();
        Self { partitions }
    }

    /// Counts one record; the reason when the header does not allow it.
    pub fn add(&mut self, partition: i32, offset: i64) -> Result<(), String> {
        let Some((range, contents)) = self.partitions.get_mut(&partition) else {
            return Err(format!(
                "a record of partition {partition} (offset {offset}), which is not in the header"
            ));
        };
        if let Some(last) = contents.last_offset.filter(|&last| offset <= last) {
            return Err(format!(
                "partition {partition}: offset {offset} comes after offset {last}"
            ));
        }
        if offset < range.low_watermark || offset >= range.high_watermark {
            return Err(format!(
                "partition {partition}: offset {offset} is outside the header's range [{}, {})",
                range.low_watermark, range.high_watermark
            ));
        }
        contents.records += 1;
        contents.first_offset.get_or_insert(offset);
        contents.last_offset = Some(offset);
        Ok(())
    }

    /// What has been counted of `partition` so far.
    pub fn contents(&self, partition: i32) -> PartitionContents {
        self.partitions
            .get(&partition)
            .map_or_else(PartitionContents::default, |(_, c)| *c)
    }

    /// At the end of the file: the reason unless every partition holds what its header says.
    pub fn finish(&self) -> Result<(), String> {
        self.partitions
            .values()
            .try_for_each(|(range, contents)| range_holds(range, contents))
    }

    /// The same contents checked against another header (the one a writer finishes with).
    fn against(&self, meta: &RecordingMeta) -> Result<Self, String> {
        let mut check = Self::new(meta);
        for (&partition, (_, contents)) in &self.partitions {
            match check.partitions.get_mut(&partition) {
                Some((_, c)) => *c = *contents,
                None if contents.records == 0 => {}
                None => {
                    return Err(format!(
                        "partition {partition} has {} records but is not in the header",
                        contents.records
                    ));
                }
            }
        }
        Ok(check)
    }
}

/// Whether `contents` are all of what `range` says the partition holds.
fn range_holds(range: &PartitionRange, contents: &PartitionContents) -> Result<(), String> {
    let p = range.partition;
    let (low, high) = (range.low_watermark, range.high_watermark);
    if let (Some(first), Some(last)) = (contents.first_offset, contents.last_offset)
        && (first < low || last >= high)
    {
        return Err(format!(
            "partition {p}: offsets {first}..={last} are outside the header's range [{low}, {high})"
        ));
    }
    match range.records {
        Some(n) if n != contents.records => Err(format!(
            "partition {p} holds {} records, but the header says {n}: the file was cut short or altered",
            contents.records
        )),
        Some(_) => Ok(()),
        // A header that counts no records: they must reach its high watermark.
        None => {
            let end = contents.last_offset.map_or(low, |last| last + 1);
            if end == high {
                Ok(())
            } else {
                Err(format!(
                    "partition {p}'s records end before offset {end}, but the header says {high}: the recording was cut short"
                ))
            }
        }
    }
}

/// Writes a recording, whole or not at all: the blocks go to `OUT.partial` ([`partial_path`]), and
/// only [`RecordingWriter::finish`] puts a file at `OUT`. Dropped unfinished (an error, a panic),
/// it removes what it wrote.
pub struct RecordingWriter {
    path: PathBuf,
    blocks: Writer<'static, BufWriter<File>>,
    marker: [u8; 16],
    check: HeaderCheck,
    partial: TempFile,
}

/// A file removed when this is dropped.
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Where a recording to `out` is written until it is finished: `OUT.partial`.
pub fn partial_path(out: &Path) -> PathBuf {
    with_suffix(out, ".partial")
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

impl RecordingWriter {
    /// Starts a recording to `path` of the partitions of `meta` (every record appended must lie in
    /// their ranges); its blocks go to `path`'s [`partial_path`] until [`RecordingWriter::finish`].
    pub fn create(path: &Path, meta: &RecordingMeta) -> Result<Self> {
        let err = |reason: String| Error::WriteRecording {
            path: path.to_owned(),
            reason,
        };
        let partial = TempFile(partial_path(path));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&partial.0)
            .map_err(|e| err(format!("{}: {e}", partial.0.display())))?;
        // Derived from the header rather than random, so the same content gives the same file.
        let marker = sync_marker(&header_entries(meta).map_err(err)?);
        let blocks = Writer::builder()
            .schema(&SCHEMA)
            .writer(BufWriter::new(file))
            .codec(Codec::Snappy)
            .block_size(BLOCK_BYTES)
            .marker(marker)
            // Blocks only: the header is written by `finish`, from what the blocks hold.
            .has_header(true)
            .build();
        Ok(Self {
            path: path.to_owned(),
            blocks,
            marker,
            check: HeaderCheck::new(meta),
            partial,
        })
    }

    /// Appends one record.
    pub fn append(&mut self, record: &StoredRecord) -> Result<()> {
        let err = |reason: String| Error::WriteRecording {
            path: self.path.clone(),
            reason,
        };
        self.check
            .add(record.partition, record.offset)
            .map_err(err)?;
        self.blocks
            .append(to_value(record))
            .map_err(|e| err(e.to_string()))?;
        Ok(())
    }

    /// What has been appended of `partition` so far.
    pub fn contents(&self, partition: i32) -> PartitionContents {
        self.check.contents(partition)
    }

    /// Writes the file at `path`: the header `meta` (its record counts set from what was
    /// appended), then the blocks. Refuses a header the records disagree with. Returns the header
    /// written.
    pub fn finish(self, meta: &RecordingMeta) -> Result<RecordingMeta> {
        let Self {
            path,
            blocks,
            marker,
            check,
            partial,
        } = self;
        let err = |reason: String| Error::WriteRecording {
            path: path.clone(),
            reason,
        };
        let mut meta = meta.clone();
        for range in &mut meta.partitions {
            range.records = Some(check.contents(range.partition).records);
        }
        check
            .against(&meta)
            .and_then(|check| check.finish())
            .map_err(|reason| err(format!("the header would not be true: {reason}")))?;
        let header = container_header(&header_entries(&meta).map_err(err)?, &marker);
        let mut blocks = blocks
            .into_inner()
            .map_err(|e| err(e.to_string()))?
            .into_inner()
            .map_err(|e| err(e.to_string()))?;
        blocks
            .seek(SeekFrom::Start(0))
            .map_err(|e| err(e.to_string()))?;
        let whole = TempFile(with_suffix(&path, ".tmp"));
        let io = |e: std::io::Error| err(format!("{}: {e}", whole.0.display()));
        let mut out = BufWriter::new(File::create(&whole.0).map_err(io)?);
        out.write_all(&header).map_err(io)?;
        std::io::copy(&mut blocks, &mut out).map_err(io)?;
        out.into_inner()
            .map_err(|e| io(e.into_error()))?
            .sync_all()
            .map_err(io)?;
        std::fs::rename(&whole.0, &path).map_err(io)?;
        drop(partial);
        Ok(meta)
    }
}

/// Reads a recording: the header at open, then records in file order.
///
/// The container is decoded here rather than by apache-avro's generic `Value` reader: blocks are
/// read whole, snappy-decompressed with their CRC checked, and records are decoded in place by a
/// hand-written reader of [`RECORD_SCHEMA`]'s fields, borrowing key and value bytes from the block
/// ([`RecordingReader::next_view`]). The file format is unchanged; any Avro tool still reads it.
pub struct RecordingReader {
    path: PathBuf,
    meta: RecordingMeta,
    input: BufReader<File>,
    codec: BlockCodec,
    marker: [u8; 16],
    compressed: Vec<u8>,
    block: Vec<u8>,
    /// Where the next record starts in `block`.
    pos: usize,
    /// Records left in `block`.
    left: u64,
    records: u64,
    failed: bool,
    snappy: snap::raw::Decoder,
    /// Where the current block starts in the file.
    block_position: u64,
}

/// Where each container block of a recording starts, and what of each partition it holds: a
/// replay that starts deep in the file seeks to the first block it needs instead of decoding its
/// way there ([`RecordingReader::seek_to`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlockIndex {
    blocks: Vec<IndexedBlock>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct IndexedBlock {
    position: u64,
    /// Per partition in the block: its largest offset there.
    last_offset: Vec<(i32, i64)>,
    /// Per partition: the largest timestamp in the blocks before this one.
    latest_before: Vec<(i32, i64)>,
}

/// Where a replay from given offsets starts reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadFrom {
    /// The file position of the first block holding a record at or past a start offset.
    pub position: u64,
    /// Per partition: the largest timestamp of the records before that block (what a live replay
    /// needs to know of the records it skips).
    pub latest_before: BTreeMap<i32, i64>,
}

impl BlockIndex {
    /// Reads every block of `path` once, checking the records against the header
    /// ([`HeaderCheck`]): a file cut short or that disagrees with its header is refused.
    pub fn build(path: &Path) -> Result<Self> {
        let mut reader = RecordingReader::open(path)?;
        let mismatch = |reason: String| Error::RecordingMismatch {
            path: path.to_owned(),
            reason,
        };
        let mut check = HeaderCheck::new(reader.meta());
        let mut blocks: Vec<IndexedBlock> = Vec::new();
        let mut latest: BTreeMap<i32, i64> = BTreeMap::new();
        while let Some(view) = reader.next_view() {
            let view = view?;
            let (partition, offset, timestamp) = (view.partition, view.offset, view.timestamp_ms);
            check.add(partition, offset).map_err(mismatch)?;
            let position = reader.block_position;
            if blocks.last().is_none_or(|b| b.position != position) {
                blocks.push(IndexedBlock {
                    position,
                    last_offset: Vec::new(),
                    latest_before: latest.iter().map(|(&p, &t)| (p, t)).collect(),
                });
            }
            if let Some(block) = blocks.last_mut() {
                match block.last_offset.iter_mut().find(|(p, _)| *p == partition) {
                    Some((_, last)) => *last = (*last).max(offset),
                    None => block.last_offset.push((partition, offset)),
                }
            }
            let t = latest.entry(partition).or_insert(timestamp);
            *t = (*t).max(timestamp);
        }
        check.finish().map_err(mismatch)?;
        Ok(Self { blocks })
    }

    /// Where to start reading to find, per partition, the first record at or after a time
    /// (`wanted`: partition → ms): the earliest, over the partitions, of the last block before
    /// which every record of the partition is earlier than its time. `None` with no blocks.
    pub fn time_from(&self, wanted: &BTreeMap<i32, i64>) -> Option<u64> {
        wanted
            .iter()
            .map(|(p, &ms)| {
                let mut from = self.blocks.first()?.position;
                for b in &self.blocks {
                    let before = b.latest_before.iter().find(|(q, _)| q == p);
                    if before.is_some_and(|&(_, t)| t >= ms) {
                        break;
                    }
                    from = b.position;
                }
                Some(from)
            })
            .min()
            .flatten()
    }

    /// Where to read from to see every record at or past `starts` (per partition; partitions not
    /// named are not wanted); `None` when no block holds one.
    pub fn read_from(&self, starts: &BTreeMap<i32, i64>) -> Option<ReadFrom> {
        let block = self.blocks.iter().find(|b| {
            b.last_offset
                .iter()
                .any(|(p, last)| starts.get(p).is_some_and(|start| last >= start))
        })?;
        Some(ReadFrom {
            position: block.position,
            latest_before: block.latest_before.iter().copied().collect(),
        })
    }
}

/// The block compressions a recording may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BlockCodec {
    Null,
    Snappy,
}

/// One record, borrowing its bytes from the reader's current block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordView<'a> {
    pub partition: i32,
    pub offset: i64,
    pub timestamp_ms: i64,
    pub key: Option<&'a [u8]>,
    pub value: Option<&'a [u8]>,
    /// The Avro encoding of the headers array, decoded on demand by [`RecordView::to_owned`].
    headers: &'a [u8],
}

/// A record's headers, owned.
type Headers = Vec<(String, Option<Vec<u8>>)>;
/// A container header's metadata.
type Metadata = HashMap<String, Vec<u8>>;

/// Blocks larger than this are refused as corrupt rather than allocated.
pub(crate) const MAX_BLOCK_BYTES: u64 = 256 << 20;

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
        let mut input = BufReader::with_capacity(1 << 20, file);
        let (metadata, marker) = read_container_header(&mut input)
            .map_err(|e| not_a_recording(format!("not an Avro container file ({e})")))?;
        let schema_text = metadata
            .get("avro.schema")
            .ok_or_else(|| not_a_recording("the header has no avro.schema".into()))?;
        let schema = std::str::from_utf8(schema_text)
            .ok()
            .and_then(|t| Schema::parse_str(t).ok())
            .ok_or_else(|| not_a_recording("its avro.schema does not parse".into()))?;
        if schema.canonical_form() != SCHEMA.canonical_form() {
            return Err(not_a_recording(
                "its records are not io.streamglass.recording.KafkaRecord".into(),
            ));
        }
        let codec = match metadata.get("avro.codec").map(Vec::as_slice) {
            None | Some(b"null") => BlockCodec::Null,
            Some(b"snappy") => BlockCodec::Snappy,
            Some(other) => {
                return Err(not_a_recording(format!(
                    "codec {:?} is not supported (snappy or null)",
                    String::from_utf8_lossy(other)
                )));
            }
        };
        let mut meta = parse_meta(&metadata).map_err(not_a_recording)?;
        compile_missing(path, &mut meta.schemas);
        Ok(Self {
            path: path.to_owned(),
            meta,
            input,
            codec,
            marker,
            compressed: Vec::new(),
            block: Vec::new(),
            pos: 0,
            left: 0,
            records: 0,
            failed: false,
            snappy: snap::raw::Decoder::new(),
            block_position: 0,
        })
    }

    /// Goes to the block at `position` (from a [`BlockIndex`] of this file): the next record is
    /// its first.
    pub fn seek_to(&mut self, position: u64) -> Result<()> {
        self.input.seek(SeekFrom::Start(position))?;
        self.block.clear();
        self.pos = 0;
        self.left = 0;
        Ok(())
    }

    /// How its blocks are laid out, for [`crate::blocks::BlockStore`]: the codec, the sync
    /// marker, and where the reader is now (right after the header when just opened).
    pub(crate) fn layout(&mut self) -> Result<(BlockCodec, [u8; 16], u64)> {
        Ok((self.codec, self.marker, self.input.stream_position()?))
    }

    /// The header.
    pub fn meta(&self) -> &RecordingMeta {
        &self.meta
    }

    /// The path it reads.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The next record, borrowed from the current block; after the first error, nothing more.
    pub fn next_view(&mut self) -> Option<Result<RecordView<'_>>> {
        if self.failed {
            return None;
        }
        while self.left == 0 {
            match self.read_block() {
                Ok(true) => {}
                Ok(false) => return None,
                Err(reason) => return Some(Err(self.corrupt(reason))),
            }
        }
        let Self {
            block,
            pos,
            left,
            records,
            failed,
            path,
            ..
        } = self;
        let mut cursor = Cursor {
            bytes: block.as_slice(),
            pos: *pos,
        };
        match cursor.record() {
            Ok(view) => {
                *pos = cursor.pos;
                *left -= 1;
                *records += 1;
                Some(Ok(view))
            }
            Err(reason) => {
                *failed = true;
                Some(Err(Error::CorruptRecording {
                    path: path.clone(),
                    records: *records,
                    reason,
                }))
            }
        }
    }

    fn corrupt(&mut self, reason: String) -> Error {
        self.failed = true;
        Error::CorruptRecording {
            path: self.path.clone(),
            records: self.records,
            reason,
        }
    }

    /// Reads the next block; `false` at a clean end of file.
    fn read_block(&mut self) -> Result<bool, String> {
        if self.pos != self.block.len() && self.left == 0 && !self.block.is_empty() {
            return Err(format!(
                "{} bytes left over after the block's records",
                self.block.len() - self.pos
            ));
        }
        self.block_position = self
            .input
            .stream_position()
            .map_err(|e| format!("cannot tell the file position: {e}"))?;
        let Some(count) = read_long_or_eof(&mut self.input)? else {
            return Ok(false);
        };
        let size = read_long(&mut self.input)?;
        if count < 0 || size < 0 || size as u64 > MAX_BLOCK_BYTES {
            return Err(format!("bad block header: {count} records in {size} bytes"));
        }
        self.compressed.resize(size as usize, 0);
        self.input
            .read_exact(&mut self.compressed)
            .map_err(|e| format!("a block is cut short: {e}"))?;
        let mut marker = [0u8; 16];
        self.input
            .read_exact(&mut marker)
            .map_err(|e| format!("a block's sync marker is cut short: {e}"))?;
        if marker != self.marker {
            return Err("a block's sync marker does not match the header's".into());
        }
        match self.codec {
            BlockCodec::Null => std::mem::swap(&mut self.block, &mut self.compressed),
            BlockCodec::Snappy => {
                unpack_snappy(&mut self.snappy, &self.compressed, &mut self.block)?;
            }
        }
        self.pos = 0;
        self.left = count as u64;
        if self.left == 0 && !self.block.is_empty() {
            return Err("an empty block holds bytes".into());
        }
        Ok(true)
    }
}

impl RecordView<'_> {
    /// An owned copy, headers decoded.
    pub fn to_owned(&self) -> Result<StoredRecord, String> {
        let mut cursor = Cursor {
            bytes: self.headers,
            pos: 0,
        };
        let headers = cursor.headers()?;
        Ok(StoredRecord {
            partition: self.partition,
            offset: self.offset,
            timestamp_ms: self.timestamp_ms,
            key: self.key.map(<[u8]>::to_vec),
            value: self.value.map(<[u8]>::to_vec),
            headers,
        })
    }
}

impl Iterator for RecordingReader {
    type Item = Result<StoredRecord>;

    /// The next record, owned; after the first error, nothing more.
    fn next(&mut self) -> Option<Self::Item> {
        let owned = match self.next_view()? {
            Ok(view) => view.to_owned(),
            Err(e) => return Some(Err(e)),
        };
        Some(owned.map_err(|reason| self.corrupt(reason)))
    }
}

/// A position in a decoded block: Avro binary decoding of [`RECORD_SCHEMA`], by hand.
pub(crate) struct Cursor<'a> {
    pub(crate) bytes: &'a [u8],
    pub(crate) pos: usize,
}

impl<'a> Cursor<'a> {
    /// Decodes one record.
    pub(crate) fn record(&mut self) -> Result<RecordView<'a>, String> {
        let partition = i32::try_from(self.long()?).map_err(|_| "partition is not an int")?;
        let offset = self.long()?;
        let timestamp_ms = self.long()?;
        let key = self.nullable_bytes("key")?;
        let value = self.nullable_bytes("value")?;
        let headers_start = self.pos;
        self.skip_headers()?;
        Ok(RecordView {
            partition,
            offset,
            timestamp_ms,
            key,
            value,
            headers: &self.bytes[headers_start..self.pos],
        })
    }

    fn long(&mut self) -> Result<i64, String> {
        let mut value: u64 = 0;
        for i in 0..10 {
            let byte = *self.bytes.get(self.pos).ok_or("a record is cut short")?;
            self.pos += 1;
            if i == 9 && byte > 1 {
                return Err("a long overflows 64 bits".into());
            }
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                return Ok(((value >> 1) as i64) ^ -((value & 1) as i64));
            }
        }
        Err("a long overflows 64 bits".into())
    }

    fn bytes(&mut self) -> Result<&'a [u8], String> {
        let len = usize::try_from(self.long()?).map_err(|_| "a negative length")?;
        let end = self
            .pos
            .checked_add(len)
            .filter(|&e| e <= self.bytes.len())
            .ok_or("a byte string runs past its block")?;
        let out = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn nullable_bytes(&mut self, field: &str) -> Result<Option<&'a [u8]>, String> {
        match self.long()? {
            0 => Ok(None),
            1 => self.bytes().map(Some),
            n => Err(format!("{field}: union branch {n} does not exist")),
        }
    }

    /// Array blocks: a count (negative: followed by the block's byte size), items, a 0 count.
    fn skip_headers(&mut self) -> Result<(), String> {
        loop {
            let count = self.long()?;
            if count == 0 {
                return Ok(());
            }
            if count < 0 {
                self.long()?;
            }
            for _ in 0..count.unsigned_abs() {
                self.bytes()?;
                self.nullable_bytes("header value")?;
            }
        }
    }

    fn headers(&mut self) -> Result<Headers, String> {
        let mut headers = Vec::new();
        loop {
            let count = self.long()?;
            if count == 0 {
                return Ok(headers);
            }
            if count < 0 {
                self.long()?;
            }
            for _ in 0..count.unsigned_abs() {
                let key = std::str::from_utf8(self.bytes()?)
                    .map_err(|_| "a header key is not UTF-8")?
                    .to_owned();
                let value = self.nullable_bytes("header value")?.map(<[u8]>::to_vec);
                headers.push((key, value));
            }
        }
    }
}

/// Decompresses a snappy container block (its data, then the CRC32 of the uncompressed bytes,
/// big-endian) into `out`, checking the size bound and the CRC.
pub(crate) fn unpack_snappy(
    snappy: &mut snap::raw::Decoder,
    compressed: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), String> {
    let Some(split) = compressed.len().checked_sub(4) else {
        return Err("a snappy block has no CRC".into());
    };
    let (data, crc) = compressed.split_at(split);
    let len = snap::raw::decompress_len(data).map_err(|e| e.to_string())?;
    if len as u64 > MAX_BLOCK_BYTES {
        return Err(format!("a block claims {len} bytes uncompressed"));
    }
    out.resize(len, 0);
    let n = snappy
        .decompress(data, out)
        .map_err(|e| format!("snappy: {e}"))?;
    out.truncate(n);
    let want = u32::from_be_bytes([crc[0], crc[1], crc[2], crc[3]]);
    if crc32fast::hash(out) != want {
        return Err("a block's CRC does not match its contents".into());
    }
    Ok(())
}

pub(crate) fn read_long_or_eof(input: &mut (impl Read + ?Sized)) -> Result<Option<i64>, String> {
    let mut value: u64 = 0;
    for i in 0..10 {
        let mut byte = [0u8; 1];
        match input.read(&mut byte) {
            Ok(0) if i == 0 => return Ok(None),
            Ok(0) => return Err("the file ends inside a number".into()),
            Ok(_) => {}
            Err(e) => return Err(e.to_string()),
        }
        value |= u64::from(byte[0] & 0x7f) << (7 * i);
        if byte[0] & 0x80 == 0 {
            return Ok(Some(((value >> 1) as i64) ^ -((value & 1) as i64)));
        }
    }
    Err("a long overflows 64 bits".into())
}

fn read_long(input: &mut (impl Read + ?Sized)) -> Result<i64, String> {
    read_long_or_eof(input)?.ok_or_else(|| "the file ends inside a block header".to_string())
}

/// Reads the container header: magic, the metadata map, the sync marker.
fn read_container_header(input: &mut impl Read) -> Result<(Metadata, [u8; 16]), String> {
    let mut magic = [0u8; 4];
    input
        .read_exact(&mut magic)
        .map_err(|_| "too short for a header")?;
    if &magic != b"Obj\x01" {
        return Err("no Avro magic".into());
    }
    let mut metadata = HashMap::new();
    let read_bytes = |input: &mut dyn Read| -> Result<Vec<u8>, String> {
        let len = read_long(input)?;
        if !(0..=(64 << 20)).contains(&len) {
            return Err(format!("a metadata entry of {len} bytes"));
        }
        let mut out = vec![0u8; len as usize];
        input.read_exact(&mut out).map_err(|e| e.to_string())?;
        Ok(out)
    };
    loop {
        let count = read_long(input)?;
        if count == 0 {
            break;
        }
        if count < 0 {
            read_long(input)?;
        }
        for _ in 0..count.unsigned_abs() {
            let key =
                String::from_utf8(read_bytes(input)?).map_err(|_| "a metadata key is not UTF-8")?;
            let value = read_bytes(input)?;
            metadata.insert(key, value);
        }
    }
    let mut marker = [0u8; 16];
    input
        .read_exact(&mut marker)
        .map_err(|_| "the header's sync marker is cut short")?;
    Ok((metadata, marker))
}

/// A header's metadata entries, sorted by key: apache-avro would write them in HashMap order.
fn header_entries(meta: &RecordingMeta) -> Result<Vec<(&'static str, Vec<u8>)>, String> {
    fn json(value: &impl Serialize) -> Result<Vec<u8>, String> {
        serde_json::to_vec(value).map_err(|e| e.to_string())
    }
    let mut header: Vec<(&'static str, Vec<u8>)> = vec![
        ("avro.codec", b"snappy".to_vec()),
        ("avro.schema", RECORD_SCHEMA.as_bytes().to_vec()),
        (META_FORMAT, FORMAT_VERSION.as_bytes().to_vec()),
        (META_TOPIC, meta.topic.as_bytes().to_vec()),
        (META_PARTITIONS, json(&meta.partitions)?),
        (META_SCHEMAS, json(&meta.schemas)?),
        (META_SOURCE, meta.source.as_bytes().to_vec()),
    ];
    if let Some(reason) = &meta.stopped_early {
        header.push((META_STOPPED_EARLY, reason.as_bytes().to_vec()));
    }
    header.sort_unstable();
    Ok(header)
}

/// A 16-byte container sync marker from the header's contents (two FNV-1a hashes).
fn sync_marker(header: &[(&str, Vec<u8>)]) -> [u8; 16] {
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
fn container_header(metadata: &[(&str, Vec<u8>)], marker: &[u8; 16]) -> Vec<u8> {
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

/// Compiles the Protobuf schemas that came without descriptors: a recording made before protocol 5
/// keeps only their text. A schema that imports files of its own (its registry references were not
/// recorded) does not compile alone: it keeps `None`, logged, and its records fail in the page.
fn compile_missing(path: &Path, schemas: &mut [SchemaInfo]) {
    for info in schemas
        .iter_mut()
        .filter(|i| i.schema_type == SchemaType::Protobuf && i.descriptors.is_none())
    {
        match crate::protobuf::compile(&info.schema, &[]) {
            Ok(set) => info.descriptors = Some(set),
            Err(e) => tracing::warn!(
                schema_id = info.id,
                "recording {}: Protobuf schema {} does not compile alone (recorded without its descriptors): {e}",
                path.display(),
                info.id
            ),
        }
    }
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
        stopped_early: if meta.contains_key(META_STOPPED_EARLY) {
            Some(text(META_STOPPED_EARLY)?.to_owned())
        } else {
            None
        },
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

/// Writes `records` under the header `meta` as it is, unchecked: the files a test needs that
/// [`RecordingWriter`] refuses to make (cut short, lying headers, the headers of older builds).
#[cfg(test)]
pub(crate) fn write_unchecked(path: &Path, meta: &RecordingMeta, records: &[StoredRecord]) {
    let entries = header_entries(meta).unwrap();
    let marker = sync_marker(&entries);
    let mut bytes = container_header(&entries, &marker);
    let mut blocks = Writer::builder()
        .schema(&SCHEMA)
        .writer(Vec::new())
        .codec(Codec::Snappy)
        .marker(marker)
        .has_header(true)
        .build();
    for r in records {
        blocks.append(to_value(r)).unwrap();
    }
    bytes.extend(blocks.into_inner().unwrap());
    std::fs::write(path, bytes).unwrap();
}

/// A header for `partitions` as (partition, low, high), with one schema: the tests' recordings.
#[cfg(test)]
pub(crate) fn meta_of(partitions: &[(i32, i64, i64)]) -> RecordingMeta {
    RecordingMeta {
        topic: "t".into(),
        partitions: partitions
            .iter()
            .map(|&(p, low, high)| PartitionRange::new(p, low, high))
            .collect(),
        schemas: vec![SchemaInfo {
            id: 1,
            subject: Some("t-value".into()),
            version: Some(1),
            schema: "\"string\"".into(),
            schema_type: Default::default(),
            descriptors: None,
        }],
        source: "test".into(),
        stopped_early: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use prost::Message as _;

    /// A generated recording of 30,000 trades over 3 partitions (about 40 blocks), made once.
    fn indexed() -> &'static (tempfile::TempDir, PathBuf, BlockIndex) {
        static RECORDING: std::sync::OnceLock<(tempfile::TempDir, PathBuf, BlockIndex)> =
            std::sync::OnceLock::new();
        RECORDING.get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("indexed.sgrec");
            crate::record::generate(&path, 30_000, 3, 5).unwrap();
            let index = BlockIndex::build(&path).unwrap();
            (dir, path, index)
        })
    }

    /// (partition, offset, timestamp) of every record read from `reader` at or past `starts`.
    fn wanted(reader: &mut RecordingReader, starts: &BTreeMap<i32, i64>) -> Vec<(i32, i64)> {
        let mut out = Vec::new();
        while let Some(view) = reader.next_view() {
            let view = view.unwrap();
            if starts
                .get(&view.partition)
                .is_some_and(|s| view.offset >= *s)
            {
                out.push((view.partition, view.offset));
            }
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Reading from where the index says gives exactly the records at or past the starts
        /// that reading the whole file gives, and the timestamps skipped are accounted for.
        #[test]
        fn the_index_skips_only_blocks_with_nothing_wanted(
            starts in proptest::collection::btree_map(0i32..3, 0i64..11_000, 1..=3)
        ) {
            let (_dir, path, index) = indexed();
            prop_assert!(index.blocks.len() > 10);
            let mut whole = RecordingReader::open(path).unwrap();
            let expected = wanted(&mut whole, &starts);
            let mut reader = RecordingReader::open(path).unwrap();
            match index.read_from(&starts) {
                Some(from) => {
                    reader.seek_to(from.position).unwrap();
                    // Nothing before the block is wanted, and its timestamps are the maxima.
                    let mut before = RecordingReader::open(path).unwrap();
                    let mut latest: BTreeMap<i32, i64> = BTreeMap::new();
                    while let Some(view) = before.next_view() {
                        let view = view.unwrap();
                        let (p, offset, timestamp) = (view.partition, view.offset, view.timestamp_ms);
                        if before.block_position >= from.position {
                            break;
                        }
                        prop_assert!(starts.get(&p).is_none_or(|s| offset < *s));
                        let t = latest.entry(p).or_insert(timestamp);
                        *t = (*t).max(timestamp);
                    }
                    prop_assert_eq!(&latest, &from.latest_before);
                    prop_assert_eq!(wanted(&mut reader, &starts), expected);
                }
                None => prop_assert!(expected.is_empty()),
            }
        }
    }

    fn record(partition: i32, offset: i64) -> StoredRecord {
        StoredRecord {
            partition,
            offset,
            timestamp_ms: offset,
            key: None,
            value: Some(vec![7; 50]),
            headers: vec![],
        }
    }

    /// Records of up to 8 partitions, each partition's offsets rising from its own start, and the
    /// header that holds them.
    fn arb_recording() -> impl Strategy<Value = (RecordingMeta, Vec<StoredRecord>)> {
        let bytes = || proptest::option::of(proptest::collection::vec(any::<u8>(), 0..40));
        let record = (
            0i32..8,
            1i64..1_000,
            any::<i64>(),
            bytes(),
            bytes(),
            proptest::collection::vec((".{0,8}", bytes()), 0..3),
        );
        (
            proptest::collection::vec(-(1i64 << 50)..(1i64 << 50), 8),
            proptest::collection::vec(record, 0..200),
        )
            .prop_map(|(starts, records)| {
                let mut next = starts.clone();
                let records: Vec<StoredRecord> = records
                    .into_iter()
                    .map(|(partition, gap, timestamp_ms, key, value, headers)| {
                        let offset = next[partition as usize];
                        next[partition as usize] += gap;
                        StoredRecord {
                            partition,
                            offset,
                            timestamp_ms,
                            key,
                            value,
                            headers,
                        }
                    })
                    .collect();
                let ranges: Vec<(i32, i64, i64)> = (0..8)
                    .map(|p| {
                        let last = records.iter().rev().find(|r| r.partition == p);
                        (
                            p,
                            starts[p as usize],
                            last.map_or(starts[p as usize], |r| r.offset + 1),
                        )
                    })
                    .collect();
                (meta_of(&ranges), records)
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        #[test]
        fn records_and_meta_round_trip((meta, records) in arb_recording()) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("r.sgrec");
            let mut w = RecordingWriter::create(&path, &meta).unwrap();
            for r in &records {
                w.append(r).unwrap();
            }
            let written = w.finish(&meta).unwrap();
            let reader = RecordingReader::open(&path).unwrap();
            prop_assert_eq!(reader.meta(), &written);
            for range in &written.partitions {
                let n = records.iter().filter(|r| r.partition == range.partition).count();
                prop_assert_eq!(range.records, Some(n as u64));
            }
            let back: Vec<StoredRecord> = reader.collect::<Result<_>>().unwrap();
            prop_assert_eq!(back, records);
            BlockIndex::build(&path).unwrap();
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
        let meta = meta_of(&[(0, 0, 20_000)]);
        let mut w = RecordingWriter::create(&path, &meta).unwrap();
        for offset in 0..20_000 {
            w.append(&record(0, offset)).unwrap();
        }
        w.finish(&meta).unwrap();
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

    #[test]
    fn a_recording_appears_whole_at_finish_and_an_abandoned_one_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.sgrec");
        let meta = meta_of(&[(0, 0, 30_000)]);
        let files = || {
            let mut names: Vec<String> = std::fs::read_dir(dir.path())
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            names
        };
        let mut w = RecordingWriter::create(&path, &meta).unwrap();
        for offset in 0..20_000 {
            w.append(&record(0, offset)).unwrap();
        }
        assert_eq!(files(), ["r.sgrec.partial"]);
        assert!(std::fs::metadata(partial_path(&path)).unwrap().len() > 0);
        drop(w);
        assert!(files().is_empty(), "{:?}", files());

        let mut w = RecordingWriter::create(&path, &meta).unwrap();
        for offset in 0..30_000 {
            w.append(&record(0, offset)).unwrap();
        }
        let written = w.finish(&meta).unwrap();
        assert_eq!(files(), ["r.sgrec"]);
        assert_eq!(written.partitions[0].records, Some(30_000));
        assert_eq!(RecordingReader::open(&path).unwrap().count(), 30_000);
        BlockIndex::build(&path).unwrap();
    }

    #[test]
    fn the_writer_refuses_records_or_a_header_that_disagree() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.sgrec");
        let meta = meta_of(&[(0, 10, 20)]);
        let mut w = RecordingWriter::create(&path, &meta).unwrap();
        for (partition, offset, why) in [
            (1, 10, "not in the header"),
            (0, 9, "outside the header's range [10, 20)"),
            (0, 20, "outside the header's range [10, 20)"),
        ] {
            let err = w.append(&record(partition, offset)).unwrap_err();
            assert!(err.to_string().contains(why), "{err}");
        }
        w.append(&record(0, 12)).unwrap();
        let err = w.append(&record(0, 12)).unwrap_err();
        assert!(err.to_string().contains("comes after offset 12"), "{err}");
        w.append(&record(0, 15)).unwrap();
        // A header that ends the partition before its last record is not written.
        let err = w.finish(&meta_of(&[(0, 10, 15)])).unwrap_err();
        assert!(err.to_string().contains("would not be true"), "{err}");
        assert!(!path.exists() && !partial_path(&path).exists());
    }

    #[test]
    fn a_stopped_early_header_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.sgrec");
        let target = meta_of(&[(0, 0, 1_000), (1, 0, 1_000)]);
        let mut w = RecordingWriter::create(&path, &target).unwrap();
        for offset in 0..300 {
            w.append(&record(0, offset)).unwrap();
        }
        let mut stopped = target.clone();
        stopped.stopped_early = Some("interrupted (SIGINT) after 300 of 2000 records".into());
        for range in &mut stopped.partitions {
            range.target_high_watermark = Some(range.high_watermark);
            range.high_watermark = w
                .contents(range.partition)
                .last_offset
                .map_or(range.low_watermark, |last| last + 1);
        }
        let written = w.finish(&stopped).unwrap();
        let meta = RecordingReader::open(&path).unwrap().meta().clone();
        assert_eq!(meta, written);
        assert_eq!(
            meta.stopped_early.as_deref(),
            Some("interrupted (SIGINT) after 300 of 2000 records")
        );
        let ends: Vec<_> = meta
            .partitions
            .iter()
            .map(|r| (r.high_watermark, r.records, r.target_high_watermark))
            .collect();
        assert_eq!(
            ends,
            [(300, Some(300), Some(1_000)), (0, Some(0), Some(1_000))]
        );
        BlockIndex::build(&path).unwrap();
    }

    /// Files whose headers claim what they do not hold, as `record` wrote them before (the
    /// watermarks taken before recording, the file cut short by Ctrl-C), or altered.
    #[test]
    fn a_file_that_disagrees_with_its_header_is_refused_while_indexing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.sgrec");
        let records: Vec<StoredRecord> = (0..5_000).map(|o| record(0, o)).collect();
        let counted = |n| {
            let mut meta = meta_of(&[(0, 0, 5_000)]);
            meta.partitions[0].records = Some(n);
            meta
        };
        let cases = [
            (
                meta_of(&[(0, 0, 50_000)]),
                &records[..],
                "the recording was cut short",
            ),
            (
                counted(6_000),
                &records[..],
                "holds 5000 records, but the header says 6000",
            ),
            (
                meta_of(&[(0, 0, 4_000)]),
                &records[..],
                "offset 4000 is outside",
            ),
            (
                meta_of(&[(1, 0, 5_000)]),
                &records[..],
                "partition 0 (offset 0), which is not in the header",
            ),
        ];
        for (meta, records, why) in cases {
            write_unchecked(&path, &meta, records);
            let err = BlockIndex::build(&path).unwrap_err();
            assert!(matches!(err, Error::RecordingMismatch { .. }), "{err}");
            assert!(err.to_string().contains(why), "{why}: {err}");
        }
        // A header of an older build, with no counts, whose records reach its high watermark.
        write_unchecked(&path, &meta_of(&[(0, 0, 5_000)]), &records);
        BlockIndex::build(&path).unwrap();
    }

    /// A recording made before protocol 5 keeps a Protobuf schema's text without descriptors: the
    /// reader compiles it at open; one that imports a file it lacks stays `None`.
    #[test]
    fn protobuf_schemas_recorded_without_descriptors_are_compiled_at_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.sgrec");
        let mut meta = meta_of(&[(0, 0, 0)]);
        let proto = |id: u32, text: &str| SchemaInfo {
            id,
            subject: Some("t-value".into()),
            version: Some(1),
            schema: text.into(),
            schema_type: SchemaType::Protobuf,
            descriptors: None,
        };
        meta.schemas = vec![
            proto(
                1,
                "syntax = \"proto3\"; import \"google/protobuf/timestamp.proto\"; \
                 message M { int32 a = 1; google.protobuf.Timestamp at = 2; }",
            ),
            proto(
                2,
                "syntax = \"proto3\"; import \"dep.proto\"; message N { D d = 1; }",
            ),
        ];
        write_unchecked(&path, &meta, &[]);
        let reader = RecordingReader::open(&path).unwrap();
        let schemas = &reader.meta().schemas;
        let set = schemas[0].descriptors.as_deref().expect("compiled at open");
        let set = prost_types::FileDescriptorSet::decode(set).unwrap();
        let main = set.file.last().unwrap();
        assert_eq!(main.name(), crate::protobuf::MAIN_FILE);
        assert_eq!(main.message_type[0].name(), "M");
        assert_eq!(schemas[1].descriptors, None, "dep.proto was not recorded");
    }
}
