//! `replay-bridge cat`: a topic or a recording decoded by the core's decoders and printed as
//! JSON lines (`--format jsonl`, the default, as `kcat -J -s value=avro` does) or CSV
//! (`--format csv`).
//!
//! One line per record: the metadata columns (`KafkaPartition`, `KafkaOffset`,
//! `KafkaTimestamp`) first, then the key's and the value's columns, exactly the rows a table
//! would get, each value written as the page's export writes it (`streamglass_core::export`:
//! times as ISO-8601 UTC, binary as hex, arrays as JSON arrays). In JSON lines a record is an
//! object keyed by column name; in CSV a header row comes before the first row, and again before
//! the first row whose columns differ from the last header's (a record of another writer schema
//! that adds a field). A record that does not decode is reported with its partition, offset and
//! schema id (a line `{"error": …}` among the JSON lines; on stderr for CSV, whose rows have no
//! place for it), and the rest go on. By default `cat` stops at the end offsets
//! each partition had when it started (as `kcat -e`); `--follow` keeps tailing a topic.
//!
//! Schemas come from a Confluent schema registry (`GET /subjects/{subject}/versions/latest` for
//! the reader schema, `GET /schemas/ids/{id}` for each writer id on first sight), from a directory
//! of `.avsc` files, or from the recording's header. Where reading starts is a seek spec
//! (`-o`/`--offset`, the bridge's: `beginning`, `end`, `123`, `-1000` for the newest 1,000 in
//! total, `each:-1000` for kcat's newest 1,000 of every partition, `s@<ms>`, `{0: 42}`), and
//! `-c`/`--count N` stops after N records, as kcat's do.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;

use serde_json::{Value as Json, json};
use streamglass_core::avro::{Format, ReaderSchema, RecordDecoder, SchemaStore};
use streamglass_core::export;
use streamglass_core::json_format::infer::settle_columns;
use streamglass_core::json_format::{Inference, JsonColumns, json_schema};
use streamglass_core::protobuf::{MessageChoice, ProtoSpec};
use streamglass_core::protocol::{Record, SchemaInfo, SchemaType};
use streamglass_core::seek::{SeekSpec, Watermarks};
use streamglass_core::{DecodeReason, Error as CoreError};

use crate::Result;
use crate::kafka::{KafkaConfig, KafkaTopic};
use crate::recording::{RecordingReader, StoredRecord};
use crate::registry::SchemaRegistry;
use crate::schemas::{self, SchemaSource};
use crate::subscription::start_offsets;

/// Rows kept in the decoder before its columns are cleared (they are printed as they come).
const ROWS_PER_CLEAR: usize = 4_096;
/// Bytes asked of the broker per fetch.
const FETCH_BYTES: i32 = 4 << 20;
/// How long a fetch at the end of a partition waits, with `--follow`.
const TAIL_WAIT: Duration = Duration::from_millis(500);

/// How a side is decoded, as given on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SideFormat {
    Ignore,
    Avro,
    String,
    Bytes,
    /// Kafka's `LongSerializer`: 8 bytes, big-endian.
    Long,
    /// Kafka's `IntegerSerializer`: 4 bytes, big-endian.
    Int,
    /// Kafka's `DoubleSerializer`: 8 bytes, big-endian.
    Double,
    /// JSON documents (Confluent-framed or not): columns from `--json-spec`, else from the
    /// registry's JSON Schema of the first framed record, else inferred from the first records.
    Json,
    /// Confluent-framed Protobuf: without `--subject`, each value with its writer schema and
    /// message (by id and message indexes); keys with `<topic>-key`'s newest schema.
    Protobuf,
}

/// What `cat` decodes and how.
#[derive(Clone)]
pub struct CatOptions {
    pub key: SideFormat,
    pub value: SideFormat,
    /// The reader schema's subject for Avro values (default: `<topic>-value`, else the only
    /// subject known, else the subject of the highest schema id).
    pub subject: Option<String>,
    pub schemas: SchemaSource,
    pub follow: bool,
    /// Where each partition starts.
    pub start: SeekSpec,
    /// Stop after this many records (printed rows and errors).
    pub count: Option<u64>,
    pub timeout: Duration,
    /// The columns of JSON keys and values, `Name=type,…` (else a registry's JSON Schema, else
    /// inference).
    pub json_key_spec: Option<String>,
    pub json_spec: Option<String>,
    /// Records looked at to infer JSON columns.
    pub json_infer: usize,
    /// How rows are printed.
    pub output: OutputFormat,
}

/// How `cat` prints rows (`--format`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// One JSON object per line.
    #[default]
    Jsonl,
    /// RFC 4180 CSV with a header row.
    Csv,
}

/// Where each partition starts, from the seek spec: an offset, or for a partition sought by time
/// in a recording (which has no offset index by time here), the first record at or after it.
#[derive(Debug, Clone)]
struct Starts {
    offsets: BTreeMap<i32, i64>,
    by_time: BTreeMap<i32, i64>,
}

impl Starts {
    fn of(
        topic: &str,
        options: &CatOptions,
        marks: &[Watermarks],
        found: &BTreeMap<i32, i64>,
    ) -> Result<Self> {
        let partitions: Vec<i32> = marks.iter().map(|m| m.partition).collect();
        let mut by_time = options.start.timestamps(&partitions);
        by_time.retain(|p, _| !found.contains_key(p));
        let mut offsets = start_offsets(topic, &options.start, None, marks, found)?;
        for p in by_time.keys() {
            // Sought by time with no offset found: decided record by record.
            offsets.insert(*p, i64::MIN);
        }
        Ok(Self { offsets, by_time })
    }

    /// Whether a record of `partition` at `offset` and `timestamp_ms` is printed; a partition
    /// sought by time starts at its first record at or after that time.
    fn admits(&mut self, partition: i32, offset: i64, timestamp_ms: i64) -> bool {
        if let Some(&ms) = self.by_time.get(&partition) {
            if timestamp_ms < ms {
                return false;
            }
            self.by_time.remove(&partition);
            self.offsets.insert(partition, offset);
        }
        self.offsets
            .get(&partition)
            .is_some_and(|&start| offset >= start)
    }
}

/// What `cat` printed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CatSummary {
    pub rows: u64,
    pub errors: u64,
}

/// The decoder and its printing, shared by both sources.
struct Printer<W: Write> {
    decoder: RecordDecoder,
    registry: Option<SchemaRegistry>,
    missing: std::collections::HashSet<u32>,
    /// With a registry and no `--subject`: a decoder per writer schema id, each value read with
    /// the schema it was written with (as Confluent's deserializer does), so a topic whose
    /// subjects are not `<topic>-value` (TopicRecordNameStrategy) still reads.
    by_writer: Option<Vec<(u32, RecordDecoder)>>,
    out: W,
    summary: CatSummary,
    /// JSON sides whose columns are not known yet, and the records held until they are.
    pending: Option<PendingJson>,
    /// `--count`.
    count: Option<u64>,
    /// How values are decoded (for the writers' decoders).
    value_side: SideFormat,
    output: OutputFormat,
    /// The column names of the last CSV header printed.
    header: Option<Vec<String>>,
}

/// JSON columns still to be found: from the registry's JSON Schema of the first framed
/// document of a side, else by inference over the first records, which are held meanwhile and
/// decoded, in order, once the columns are known.
struct PendingJson {
    key: Option<Inference>,
    value: Option<Inference>,
    /// Columns a registry's JSON Schema gave.
    key_schema: Option<JsonColumns>,
    value_schema: Option<JsonColumns>,
    asked: bool,
    held: Vec<(i32, StoredRecord)>,
}

fn format_of(side: SideFormat, subject: Option<String>) -> Format {
    match side {
        SideFormat::Ignore => Format::Ignore,
        SideFormat::String => Format::String,
        SideFormat::Bytes => Format::Bytes,
        SideFormat::Long => Format::Long,
        SideFormat::Int => Format::Int,
        SideFormat::Double => Format::Double,
        SideFormat::Avro => Format::Avro(ReaderSchema::Latest(subject.unwrap_or_default())),
        SideFormat::Protobuf => Format::Protobuf(ProtoSpec {
            schema: ReaderSchema::Latest(subject.unwrap_or_default()),
            message: MessageChoice::First,
        }),
        // Replaced by the columns once known (see `PendingJson`).
        SideFormat::Json => Format::Ignore,
    }
}

/// The value subject when none is given.
fn default_subject(store: &SchemaStore, topic: &str, suffix: &str) -> Option<String> {
    let named = format!("{topic}-{suffix}");
    if store.latest(&named).is_some() {
        return Some(named);
    }
    let subjects: Vec<&str> = store.subjects().collect();
    if let [only] = subjects[..] {
        return Some(only.to_owned());
    }
    store.schemas().filter_map(|s| s.subject.clone()).last()
}

impl<W: Write> Printer<W> {
    /// Whether `--count` records were printed.
    fn done(&self, options: &CatOptions) -> bool {
        options
            .count
            .is_some_and(|n| self.summary.rows + self.summary.errors >= n)
    }

    async fn new(
        topic: &str,
        options: &CatOptions,
        mut infos: Vec<SchemaInfo>,
        out: W,
    ) -> Result<Self> {
        let registry = match &options.schemas {
            SchemaSource::Registry(registry) => Some(registry.clone()),
            SchemaSource::Dir(dir) => {
                infos.extend(schemas::load_schema_dir(dir, topic)?);
                None
            }
            // A recording's header carries them (`infos`), or there are none.
            SchemaSource::None => None,
        };
        let key_subject = format!("{topic}-key");
        let value_subject = options
            .subject
            .clone()
            .unwrap_or_else(|| format!("{topic}-value"));
        let schematic = |side| matches!(side, SideFormat::Avro | SideFormat::Protobuf);
        let by_writer = registry.is_some() && schematic(options.value) && options.subject.is_none();
        if let Some(registry) = &registry {
            if schematic(options.key) {
                infos.push(registry.latest(&key_subject).await?);
            }
            if schematic(options.value) && !by_writer {
                infos.push(registry.latest(&value_subject).await?);
            }
        }
        let mut store = SchemaStore::new();
        for info in &infos {
            store.add_info(info)?;
        }
        // Without a subject given, fall back on what the store holds (a recording's or a
        // directory's schemas carry TopicRecordNameStrategy subjects).
        let pick = |subject: String, suffix: &str, given: bool| {
            if given
                || store.latest(&subject).is_some()
                || store.latest_other(&subject, SchemaType::Protobuf).is_some()
            {
                subject
            } else {
                default_subject(&store, topic, suffix).unwrap_or(subject)
            }
        };
        let key = format_of(options.key, Some(pick(key_subject, "key", false)));
        let value_subject = pick(value_subject, "value", options.subject.is_some());
        let value = match by_writer {
            // Values go to the decoder of their writer id; this one decodes keys of the others.
            true => Format::Ignore,
            false => format_of(options.value, Some(value_subject)),
        };
        // JSON sides: the spec's columns, or pending.
        let spec = |side: SideFormat, spec: &Option<String>| -> Result<Option<Option<Format>>> {
            Ok(match (side, spec) {
                (SideFormat::Json, Some(text)) => {
                    Some(Some(Format::Json(JsonColumns::from_spec_text(text)?)))
                }
                (SideFormat::Json, None) => Some(None),
                _ => None,
            })
        };
        let (key, key_pending) = match spec(options.key, &options.json_key_spec)? {
            Some(Some(format)) => (format, false),
            Some(None) => (key, true),
            None => (key, false),
        };
        let (value, value_pending) = match spec(options.value, &options.json_spec)? {
            Some(Some(format)) => (format, false),
            Some(None) => (value, true),
            None => (value, false),
        };
        let pending = (key_pending || value_pending).then(|| PendingJson {
            key: key_pending.then(|| Inference::new(options.json_infer)),
            value: value_pending.then(|| Inference::new(options.json_infer)),
            key_schema: None,
            value_schema: None,
            asked: registry.is_none(),
            held: Vec::new(),
        });
        let decoder = RecordDecoder::new(store, key, value)?;
        Ok(Self {
            decoder,
            registry,
            missing: Default::default(),
            by_writer: by_writer.then(Vec::new),
            out,
            summary: CatSummary::default(),
            pending,
            count: options.count,
            value_side: options.value,
            output: options.output,
            header: None,
        })
    }

    /// Holds a record while JSON columns are pending; true if it was held. Once every pending
    /// side has its columns, the decoder is built and the held records are printed.
    async fn hold(&mut self, partition: i32, record: &StoredRecord) -> Result<bool> {
        let Some(pending) = &mut self.pending else {
            return Ok(false);
        };
        if !pending.asked
            && let Some(registry) = &self.registry
        {
            // The registry's JSON Schema of the first framed document of each pending side.
            let framed = |bytes: &Option<Vec<u8>>| match bytes.as_deref() {
                Some([0, a, b, c, d, ..]) => Some(u32::from_be_bytes([*a, *b, *c, *d])),
                _ => None,
            };
            for (side, bytes, schema) in [
                (&pending.key, &record.key, &mut pending.key_schema),
                (&pending.value, &record.value, &mut pending.value_schema),
            ] {
                if side.is_none() || schema.is_some() {
                    continue;
                }
                if let Some(id) = framed(bytes) {
                    match registry.json_schema_by_id(id).await {
                        // A JSON Schema we cannot map: its columns are inferred instead.
                        Ok(Some(text)) => match json_schema::columns(&text) {
                            Ok(columns) => *schema = Some(columns),
                            Err(e) => tracing::warn!(
                                "schema id {id}: {e}; inferring the columns from the records"
                            ),
                        },
                        Ok(None) => {}
                        Err(e) => tracing::warn!("schema id {id}: {e}"),
                    }
                }
            }
            // Only the first record's documents are asked about.
            pending.asked = true;
        }
        for (side, bytes) in [
            (&mut pending.key, &record.key),
            (&mut pending.value, &record.value),
        ] {
            if let Some(inference) = side {
                inference.add(bytes.as_deref());
            }
        }
        pending.held.push((partition, record.clone()));
        let done = |side: &Option<Inference>, schema: &Option<JsonColumns>| {
            side.as_ref().is_none_or(Inference::is_done) || schema.is_some()
        };
        if done(&pending.key, &pending.key_schema) && done(&pending.value, &pending.value_schema) {
            self.settle_json().await?;
        }
        Ok(true)
    }

    /// Fixes the pending JSON columns (a schema's, else those inferred so far), builds the
    /// decoder, and prints the held records.
    async fn settle_json(&mut self) -> Result<()> {
        let Some(pending) = self.pending.take() else {
            return Ok(());
        };
        // A side with a schema is fixed; the others are inferred (see `settle_columns`).
        let key_infer = pending.key.filter(|_| pending.key_schema.is_none());
        let value_infer = pending.value.filter(|_| pending.value_schema.is_none());
        let mut fixed: Vec<&str> = Vec::new();
        for format in [self.decoder.key_format(), self.decoder.value_format()] {
            if let Format::Json(c) = format {
                fixed.extend(c.columns().iter().map(|c| c.name.as_str()));
            }
        }
        for c in pending.key_schema.iter().chain(&pending.value_schema) {
            fixed.extend(c.columns().iter().map(|c| c.name.as_str()));
        }
        let (key_inferred, value_inferred) =
            settle_columns(key_infer.as_ref(), value_infer.as_ref(), &fixed)?;
        let key = match pending.key_schema.clone().or(key_inferred) {
            Some(c) => Format::Json(c),
            None => self.decoder.key_format().clone(),
        };
        let value = match pending.value_schema.clone().or(value_inferred) {
            Some(c) => Format::Json(c),
            None => self.decoder.value_format().clone(),
        };
        self.decoder = RecordDecoder::new(self.decoder.store().clone(), key, value)?;
        for (partition, record) in pending.held {
            if self
                .count
                .is_some_and(|n| self.summary.rows + self.summary.errors >= n)
            {
                break;
            }
            Box::pin(self.record(partition, &record)).await?;
        }
        Ok(())
    }

    /// Makes key schema `id` known to every writer's decoder, fetching it if need be.
    async fn learn_key_schema(&mut self, id: u32) {
        if self.decoder.store().get(id).is_none() && !self.fetch(id).await {
            return;
        }
        let Some(stored) = self.decoder.store().get(id).cloned() else {
            return;
        };
        let info = SchemaInfo {
            id,
            subject: stored.subject.clone(),
            version: stored.version,
            schema: stored.text.clone(),
            schema_type: Default::default(),
            descriptors: None,
        };
        for (_, decoder) in self.by_writer.iter_mut().flatten() {
            if decoder.store().get(id).is_none() {
                let _ = decoder.store_mut().insert(&info);
            }
        }
    }

    /// Asks the registry for schema `id` once (a failure is remembered, not asked again) and adds
    /// it to the main decoder's store; whether the store now has it.
    async fn fetch(&mut self, id: u32) -> bool {
        let Some(registry) = &self.registry else {
            return false;
        };
        if !self.missing.insert(id) {
            return self.decoder.store().has(id);
        }
        let fetched = match registry.by_id(id).await {
            Ok(info) => self.decoder.store_mut().add_info(&info),
            Err(e) => Err(e.into_core()),
        };
        if let Err(e) = &fetched {
            tracing::warn!("schema id {id}: {e}");
        }
        fetched.is_ok()
    }

    /// The decoder of the writer schema of `value` (fetched from the registry and built on first
    /// sight), or why the record cannot be read.
    async fn writer_decoder(
        &mut self,
        partition: i32,
        offset: i64,
        value: &[u8],
    ) -> std::result::Result<&mut RecordDecoder, CoreError> {
        let fail = |schema_id, reason| CoreError::Decode {
            partition,
            offset,
            schema_id,
            reason,
        };
        let id = match value {
            [0, a, b, c, d, ..] => u32::from_be_bytes([*a, *b, *c, *d]),
            [m, ..] if *m != 0 => return Err(fail(None, DecodeReason::WrongMagic(*m))),
            short => return Err(fail(None, DecodeReason::ShortHeader(short.len()))),
        };
        if let Some(at) = self
            .by_writer
            .as_ref()
            .and_then(|w| w.iter().position(|(w, _)| *w == id))
        {
            return Ok(&mut self.by_writer.get_or_insert_with(Vec::new)[at].1);
        }
        if !self.decoder.store().has(id) && !self.fetch(id).await {
            return Err(fail(Some(id), DecodeReason::UnknownSchemaId));
        }
        let store = self.decoder.store().clone();
        let key = self.decoder.key_format().clone();
        let format = match self.value_side {
            // The writer's message, by the record's message indexes.
            SideFormat::Protobuf => {
                let mut indexes = Vec::new();
                streamglass_core::protobuf::side::unframe(value, &mut indexes)
                    .map_err(|r| fail(Some(id), r))?;
                Format::Protobuf(ProtoSpec {
                    schema: ReaderSchema::Id(id),
                    message: MessageChoice::Indexes(indexes),
                })
            }
            _ => Format::Avro(ReaderSchema::Id(id)),
        };
        let decoder = RecordDecoder::new(store, key, format).map_err(|e| {
            fail(
                Some(id),
                DecodeReason::UnreadableSchema(e.to_string().into()),
            )
        })?;
        let writers = self.by_writer.get_or_insert_with(Vec::new);
        let at = writers.len();
        writers.push((id, decoder));
        Ok(&mut writers[at].1)
    }

    async fn record(&mut self, partition: i32, record: &StoredRecord) -> Result<()> {
        if self.hold(partition, record).await? {
            return Ok(());
        }
        let view = Record {
            offset: record.offset,
            timestamp_ms: record.timestamp_ms,
            key: record.key.as_deref(),
            value: record.value.as_deref(),
        };
        let output = self.output;
        let mut header = self.header.take();
        let decoded = match view.value {
            Some(value) if self.by_writer.is_some() => {
                // A framed Avro key of a schema not seen yet: fetch it, for every writer's
                // decoder.
                if let (Format::Avro(_), Some([0, a, b, c, d, ..])) =
                    (self.decoder.key_format(), view.key)
                {
                    self.learn_key_schema(u32::from_be_bytes([*a, *b, *c, *d]))
                        .await;
                }
                match self.writer_decoder(partition, view.offset, value).await {
                    Ok(decoder) => decoder
                        .decode(partition, &view)
                        .map(|()| take_row(decoder, output, &mut header)),
                    Err(e) => Err(e),
                }
            }
            _ => {
                let mut result = self.decoder.decode(partition, &view);
                // A writer schema id seen for the first time: ask the registry, then try again
                // (a registry that cannot give it leaves the record's error as it is).
                if let Err(CoreError::Decode {
                    schema_id: Some(id),
                    reason: DecodeReason::UnknownSchemaId,
                    ..
                }) = result
                    && self.fetch(id).await
                {
                    result = self.decoder.decode(partition, &view);
                }
                result.map(|()| take_row(&mut self.decoder, output, &mut header))
            }
        };
        self.header = header;
        match decoded {
            Ok(lines) => {
                self.summary.rows += 1;
                self.out.write_all(lines.as_bytes())?;
            }
            Err(e) => {
                self.summary.errors += 1;
                let error = error_json(&e);
                match self.output {
                    OutputFormat::Jsonl => writeln!(self.out, "{error}")?,
                    OutputFormat::Csv => eprintln!("{error}"),
                }
            }
        }
        Ok(())
    }
}

/// The decoder's last row as `output` prints it, ended by its line break (in CSV after a header
/// row when the columns are not the last header's); the decoder's columns cleared once they hold
/// many rows (they are printed as they come).
fn take_row(
    decoder: &mut RecordDecoder,
    output: OutputFormat,
    header: &mut Option<Vec<String>>,
) -> String {
    let fields = decoder.schema().fields();
    let format = match output {
        OutputFormat::Jsonl => export::Format::JsonLines,
        OutputFormat::Csv => export::Format::Csv,
    };
    let with_header = output == OutputFormat::Csv
        && !header
            .as_ref()
            .is_some_and(|h| h.iter().eq(fields.iter().map(|f| &f.name)));
    if with_header {
        *header = Some(fields.iter().map(|f| f.name.clone()).collect());
    }
    let row = decoder.rows() - 1;
    let lines = export::rows_text(fields, decoder.columns(), row, 1, format, with_header)
        .unwrap_or_default();
    if decoder.rows() >= ROWS_PER_CLEAR {
        decoder.clear();
    }
    lines
}

fn error_json(e: &CoreError) -> Json {
    match e {
        CoreError::Decode {
            partition,
            offset,
            schema_id,
            reason,
        } => json!({
            "error": reason.to_string(),
            "KafkaPartition": partition,
            "KafkaOffset": offset,
            "schema_id": schema_id,
        }),
        other => json!({ "error": other.to_string() }),
    }
}

/// Prints a recording, in file order.
pub async fn cat_recording(
    path: &std::path::Path,
    options: &CatOptions,
    out: impl Write,
) -> Result<CatSummary> {
    let reader = RecordingReader::open(path)?;
    let meta = reader.meta().clone();
    let mut printer = Printer::new(&meta.topic, options, meta.schemas.clone(), out).await?;
    let marks = crate::live::watermarks(&meta);
    let mut starts = Starts::of(&meta.topic, options, &marks, &BTreeMap::new())?;
    for record in reader {
        let record = record?;
        if printer.done(options) {
            break;
        }
        if starts.admits(record.partition, record.offset, record.timestamp_ms) {
            printer.record(record.partition, &record).await?;
        }
    }
    printer.settle_json().await?;
    printer.out.flush()?;
    Ok(printer.summary)
}

/// Prints a topic: every partition from its start to the end it had when `cat` started, then,
/// with `--follow`, whatever arrives.
pub async fn cat_kafka(
    config: &KafkaConfig,
    topic: &str,
    options: &CatOptions,
    out: impl Write,
) -> Result<CatSummary> {
    let kafka = KafkaTopic::connect(config, topic).await?;
    let mut printer = Printer::new(topic, options, Vec::new(), out).await?;
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
    let mut found = BTreeMap::new();
    for (&p, &ms) in &options.start.timestamps(kafka.partitions()) {
        if let Some(client) = clients.iter().find(|c| c.partition() == p)
            && let Some(offset) = client.offset_at_time(ms).await?
        {
            found.insert(p, offset);
        }
    }
    let starts = Starts::of(topic, options, &marks, &found)?;
    let mut partitions = Vec::new();
    for (partition, mark) in clients.into_iter().zip(&marks) {
        // A partition sought by time with no record at or after it starts at its end.
        let start = match starts.offsets.get(&mark.partition) {
            Some(&o) if o != i64::MIN => o,
            _ => mark.high,
        };
        partitions.push((partition, start, mark.high));
    }
    for (partition, next, end) in partitions.iter_mut() {
        while *next < *end && !printer.done(options) {
            let fetched = partition.fetch(*next, FETCH_BYTES, Duration::ZERO).await?;
            if fetched.records.is_empty() {
                break;
            }
            for record in fetched.records.iter().filter(|r| r.offset < *end) {
                if printer.done(options) {
                    break;
                }
                printer.record(partition.partition(), record).await?;
                *next = record.offset + 1;
            }
        }
    }
    printer.settle_json().await?;
    printer.out.flush()?;
    if !options.follow || printer.done(options) {
        return Ok(printer.summary);
    }
    loop {
        for (partition, next, _) in partitions.iter_mut() {
            let fetched = partition.fetch(*next, FETCH_BYTES, TAIL_WAIT).await?;
            for record in &fetched.records {
                printer.record(partition.partition(), record).await?;
                *next = record.offset + 1;
                if printer.done(options) {
                    printer.out.flush()?;
                    return Ok(printer.summary);
                }
            }
            printer.out.flush()?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A stand-in registry on a free port, answering from canned bodies.
    async fn registry(answers: Vec<(&'static str, &'static str)>) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut buf = vec![0; 4096];
                let n = socket.read(&mut buf).await.unwrap_or(0);
                let request = String::from_utf8_lossy(&buf[..n]).to_string();
                let path = request
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or_default()
                    .to_owned();
                let response = match answers.iter().find(|(p, _)| *p == path) {
                    Some((_, body)) => format!("HTTP/1.0 200 OK\r\n\r\n{body}"),
                    None => "HTTP/1.0 404 Not Found\r\n\r\n{\"error_code\":40403}".into(),
                };
                let _ = socket.write_all(response.as_bytes()).await;
            }
        });
        format!("http://{addr}")
    }

    #[tokio::test]
    async fn without_a_subject_values_are_read_with_their_writer_schema() {
        // A registry with no `<topic>-value` subject (TopicRecordNameStrategy, as the seed's):
        // every subject lookup is a 404. The recording's header holds the writer schemas.
        let url = registry(vec![]).await;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sgrec");
        crate::record::generate(&path, 500, 2, 3).unwrap();
        let options = |schemas| CatOptions {
            key: SideFormat::Ignore,
            value: SideFormat::Avro,
            subject: None,
            schemas,
            follow: false,
            start: SeekSpec::All(streamglass_core::seek::Position::Beginning),
            count: None,
            timeout: Duration::from_secs(5),
            json_key_spec: None,
            json_spec: None,
            json_infer: 1_000,
            output: OutputFormat::Jsonl,
        };
        let registry = SchemaRegistry::new(&url, None, Duration::from_secs(5)).unwrap();
        let mut by_writer = Vec::new();
        let summary = cat_recording(
            &path,
            &options(SchemaSource::Registry(registry)),
            &mut by_writer,
        )
        .await
        .unwrap();
        assert_eq!((summary.rows, summary.errors), (500, 0));
        // The same lines as with the header's schemas alone.
        let mut plain = Vec::new();
        cat_recording(&path, &options(SchemaSource::None), &mut plain)
            .await
            .unwrap();
        assert_eq!(
            String::from_utf8(by_writer).unwrap(),
            String::from_utf8(plain).unwrap()
        );
    }

    /// A recording of JSON values, Confluent-framed with schema id 5.
    fn json_recording(dir: &std::path::Path, values: &[&str]) -> std::path::PathBuf {
        use crate::recording::{PartitionRange, RecordingMeta, RecordingWriter};
        let path = dir.join("json.sgrec");
        let meta = RecordingMeta {
            topic: "j".into(),
            partitions: vec![PartitionRange::new(0, 0, values.len() as i64)],
            schemas: Vec::new(),
            source: "test".into(),
            stopped_early: None,
        };
        let mut writer = RecordingWriter::create(&path, &meta).unwrap();
        for (i, v) in values.iter().enumerate() {
            let mut framed = vec![0, 0, 0, 0, 5];
            framed.extend_from_slice(v.as_bytes());
            writer
                .append(&StoredRecord {
                    partition: 0,
                    offset: i as i64,
                    timestamp_ms: 1_000 + i as i64,
                    key: None,
                    value: Some(framed),
                    headers: Vec::new(),
                })
                .unwrap();
        }
        writer.finish(&meta).unwrap();
        path
    }

    #[tokio::test]
    async fn json_values_take_the_registrys_json_schema_or_a_spec_or_inference() {
        let url = registry(vec![(
            "/schemas/ids/5",
            r#"{"schemaType":"JSON","schema":"{\"type\":\"object\",\"properties\":{\"P\":{\"type\":\"number\"},\"T\":{\"type\":\"string\",\"format\":\"date-time\"},\"V\":{\"type\":\"object\",\"properties\":{\"N\":{\"type\":\"integer\"}}}}}"}"#,
        )])
        .await;
        let dir = tempfile::tempdir().unwrap();
        let path = json_recording(
            dir.path(),
            &[
                r#"{"P":1,"T":"2026-01-05T17:00:00.5Z","V":{"N":7},"X":[1]}"#,
                r#"{"P":"bad"}"#,
                r#"{"T":null,"P":2.25}"#,
            ],
        );
        let options = |schemas, spec: Option<&str>| CatOptions {
            key: SideFormat::Ignore,
            value: SideFormat::Json,
            subject: None,
            schemas,
            follow: false,
            start: SeekSpec::All(streamglass_core::seek::Position::Beginning),
            count: None,
            timeout: Duration::from_secs(5),
            json_key_spec: None,
            json_spec: spec.map(str::to_owned),
            json_infer: 2,
            output: OutputFormat::Jsonl,
        };
        let path = &path;
        let run = |schemas, spec| {
            let options = options(schemas, spec);
            async move {
                let mut out = Vec::new();
                let summary = cat_recording(path, &options, &mut out).await.unwrap();
                (summary, String::from_utf8(out).unwrap())
            }
        };
        let registry = SchemaRegistry::new(&url, None, Duration::from_secs(5)).unwrap();
        let (summary, text) = run(SchemaSource::Registry(registry), None).await;
        assert_eq!((summary.rows, summary.errors), (2, 1), "{text}");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            r#"{"KafkaPartition":0,"KafkaOffset":0,"KafkaTimestamp":"1970-01-01T00:00:01Z","P":1.0,"T":"2026-01-05T17:00:00.500Z","V__N":7}"#
        );
        assert!(
            lines[1].contains(r#"JSON field \"P\" holds a string"#),
            "{}",
            lines[1]
        );
        assert!(lines[1].contains(r#""schema_id":5"#), "{}", lines[1]);
        assert!(
            lines[2].ends_with(r#""P":2.25,"T":null,"V__N":null}"#),
            "{}",
            lines[2]
        );
        // A spec.
        let (summary, text) = run(SchemaSource::None, Some("P=double,X=String")).await;
        assert_eq!((summary.rows, summary.errors), (2, 1), "{text}");
        assert!(
            text.lines()
                .next()
                .unwrap()
                .ends_with(r#""P":1.0,"X":"[1]"}"#),
            "{text}"
        );
        // Inferred from the first two records (P: int, then a string: a string column).
        let (summary, text) = run(SchemaSource::None, None).await;
        assert_eq!((summary.rows, summary.errors), (3, 0), "{text}");
        assert!(
            text.lines()
                .next()
                .unwrap()
                .ends_with(r#""P":"1","T":"2026-01-05T17:00:00.5Z","V__N":7,"X":"[1]"}"#),
            "{text}"
        );
        assert!(
            text.lines()
                .nth(2)
                .unwrap()
                .ends_with(r#""P":"2.25","T":null,"V__N":null,"X":null}"#),
            "{text}"
        );
    }

    #[tokio::test]
    async fn a_json_schema_we_cannot_map_falls_back_to_inference() {
        let url = registry(vec![(
            "/schemas/ids/5",
            r#"{"schemaType":"JSON","schema":"{\"type\":\"object\",\"properties\":{\"P\":{\"type\":\"frobnicate\"}}}"}"#,
        )])
        .await;
        let dir = tempfile::tempdir().unwrap();
        let path = json_recording(dir.path(), &[r#"{"P":1,"Q":"a"}"#, r#"{"P":2}"#]);
        let mut options = CatOptions {
            key: SideFormat::Ignore,
            value: SideFormat::Json,
            subject: None,
            schemas: SchemaSource::None,
            follow: false,
            start: SeekSpec::All(streamglass_core::seek::Position::Beginning),
            count: None,
            timeout: Duration::from_secs(5),
            json_key_spec: None,
            json_spec: None,
            json_infer: 2,
            output: OutputFormat::Jsonl,
        };
        let mut inferred = Vec::new();
        cat_recording(&path, &options, &mut inferred).await.unwrap();
        options.schemas = SchemaSource::Registry(
            SchemaRegistry::new(&url, None, Duration::from_secs(5)).unwrap(),
        );
        let mut out = Vec::new();
        let summary = cat_recording(&path, &options, &mut out).await.unwrap();
        assert_eq!((summary.rows, summary.errors), (2, 0));
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains(r#""P":1,"Q":"a"}"#), "{text}");
        assert_eq!(text, String::from_utf8(inferred).unwrap());
    }

    #[tokio::test]
    async fn registry_answers_by_subject_and_by_id() {
        let url = registry(vec![
            (
                "/subjects/t-value/versions/latest",
                r#"{"subject":"t-value","version":3,"id":12,"schema":"\"string\""}"#,
            ),
            ("/schemas/ids/5", r#"{"schema":"\"long\""}"#),
        ])
        .await;
        let registry = SchemaRegistry::new(&url, None, Duration::from_secs(5)).unwrap();
        let latest = registry.latest("t-value").await.unwrap();
        assert_eq!((latest.id, latest.version), (12, Some(3)));
        assert_eq!(latest.schema, r#""string""#);
        assert_eq!(registry.by_id(5).await.unwrap().schema, r#""long""#);
        let e = registry.by_id(6).await.unwrap_err().to_string();
        assert!(e.contains("/schemas/ids/6") && e.contains("404"), "{e}");
    }
}
