//! [`RecordDecoder`]: Kafka records (partition, offset, timestamp, key, value) into table columns.
//!
//! The columns are Deephaven's: `KafkaPartition` (int), `KafkaOffset` (long) and `KafkaTimestamp`
//! (timestamp) first, then the key's columns, then the value's, each side as its [`Format`] says
//! (ignored, Confluent-framed Avro, a string, or raw bytes). Avro bodies run through a
//! [`DecodePlan`] compiled on first sight of each writer schema id and cached.
//!
//! A record that fails (wrong magic byte, unknown schema id, a schema the reader cannot read, bad
//! bytes) is an [`Error::Decode`] with its partition, offset, schema id and reason: it is skipped
//! and counted, and decoding goes on with the next record.
//!
//! Invariant: every column always has [`RecordDecoder::rows`] rows. A record either adds one value
//! to every column, or the columns are truncated back to where the record started. (Inside
//! [`RecordDecoder::decode_records`], rows in checked-out lanes count once checked in, which
//! happens before it returns.)

use std::sync::Arc;

use super::mapping;
use super::plan::DecodePlan;
use super::schema_store::{SchemaStore, StoredSchema};
use super::shape::Names;
use crate::column::{ChunkLane, Column, ColumnType, NULL_I64};
use crate::json_format::{JsonColumns, JsonPlan, unframe};
use crate::protobuf::{ProtoSide, ProtoSpec, side as proto_side};
use crate::protocol::{Record, RecordBatch};
use crate::table::Field;
use crate::table::{Batch, Schema};
use crate::{DecodeReason, Error, Result};

/// The metadata columns, first in every decoded table.
pub const PARTITION_COLUMN: &str = "KafkaPartition";
pub const OFFSET_COLUMN: &str = "KafkaOffset";
pub const TIMESTAMP_COLUMN: &str = "KafkaTimestamp";

/// Which reader schema an Avro key or value is read with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReaderSchema {
    /// The subject's latest version in the store (Deephaven's `avro(subject)`).
    Latest(String),
    /// A given version of a subject.
    Version(String, i32),
    /// A schema by its id.
    Id(u32),
}

/// How a record's key or value becomes columns, as Deephaven's key and value specs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    /// No columns.
    Ignore,
    /// Confluent-framed Avro (magic byte 0, a 4-byte big-endian schema id, the body).
    Avro(ReaderSchema),
    /// UTF-8 text, in one string column (`Key` or `Value`).
    String,
    /// The bytes as they are, in one binary column (`Key` or `Value`).
    Bytes,
    /// Kafka's `LongSerializer`: 8 bytes, big-endian, in one long column. Deephaven's simple spec
    /// (as `Int` and `Double`); a value of another length fails its record, and one equal to the
    /// column's null sentinel (`i64::MIN`) reads as null, as in Deephaven.
    Long,
    /// Kafka's `IntegerSerializer`: 4 bytes, big-endian, in one int column.
    Int,
    /// Kafka's `DoubleSerializer`: 8 bytes, big-endian IEEE 754, in one double column.
    Double,
    /// A JSON document (Deephaven's `jsonSpec`), Confluent-framed or not, into the columns given
    /// (see [`crate::json_format`]).
    Json(JsonColumns),
    /// Confluent-framed Protobuf (see [`crate::protobuf`]): the columns are the reader message's
    /// fields, and each record is read with its own writer schema and message.
    Protobuf(ProtoSpec),
}

/// Counts of records decoded and skipped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DecodeStats {
    pub decoded: u64,
    pub skipped: u64,
}

type PlanResult = Result<DecodePlan, Arc<str>>;

/// One side (key or value): its format, columns and plans.
#[derive(Debug)]
struct Side {
    format: Format,
    reader: Option<Arc<StoredSchema>>,
    /// The side's columns: `base .. base + width` of the decoder's.
    base: usize,
    width: usize,
    /// Plans by writer schema id (a topic has few), the last one used first.
    plans: Vec<(u32, PlanResult)>,
    last: usize,
    /// The plan of a JSON side.
    json: Option<JsonPlan>,
    /// The plans of a Protobuf side.
    proto: Option<ProtoSide>,
}

impl Side {
    fn new(
        format: Format,
        store: &SchemaStore,
        name: &str,
        base: usize,
        fields: &mut Vec<Field>,
    ) -> Result<Self> {
        let mut json = None;
        let mut proto = None;
        let reader = match &format {
            Format::Ignore => None,
            Format::Protobuf(spec) => {
                let info = match &spec.schema {
                    ReaderSchema::Latest(subject) => {
                        store.latest_other(subject, crate::protocol::SchemaType::Protobuf)
                    }
                    ReaderSchema::Version(subject, version) => store
                        .version_other(subject, *version)
                        .filter(|i| i.schema_type == crate::protocol::SchemaType::Protobuf),
                    ReaderSchema::Id(id) => store.other(*id),
                }
                .ok_or_else(|| {
                    Error::Schema(format!("no Protobuf {name} schema for {:?}", spec.schema))
                })?;
                let descriptors = proto_side::descriptors_of(store, info.id)?;
                let message = proto_side::choose(&descriptors, &spec.message)?;
                let side = ProtoSide::new(&descriptors, message)?;
                fields.extend(side.fields());
                proto = Some(side);
                None
            }
            Format::Json(columns) => {
                fields.extend(columns.fields());
                json = Some(JsonPlan::new(columns));
                None
            }
            Format::String => {
                fields.push(Field::new(name, ColumnType::String));
                None
            }
            Format::Bytes => {
                fields.push(Field::new(name, ColumnType::Binary));
                None
            }
            Format::Long | Format::Int | Format::Double => {
                let ty = match format {
                    Format::Long => ColumnType::I64,
                    Format::Int => ColumnType::I32,
                    _ => ColumnType::F64,
                };
                fields.push(Field::new(name, ty));
                None
            }
            Format::Avro(which) => {
                let reader = match which {
                    ReaderSchema::Latest(subject) => store.latest(subject),
                    ReaderSchema::Version(subject, version) => store.version(subject, *version),
                    ReaderSchema::Id(id) => store.get(*id),
                }
                .ok_or_else(|| {
                    Error::Schema(format!(
                        "no {name} schema for {which:?} (subjects known: {})",
                        store.subjects().collect::<Vec<_>>().join(", ")
                    ))
                })?
                .clone();
                let names = Names::of(&reader.schema)?;
                mapping::columns(&reader.schema, &names, "", name, fields, &mut Vec::new())?;
                Some(reader)
            }
        };
        Ok(Self {
            format,
            reader,
            base,
            width: fields.len() - base,
            plans: Vec::new(),
            last: 0,
            json,
            proto,
        })
    }

    /// The plan for writer schema `id`, compiled on first use.
    #[inline(always)]
    fn plan(&mut self, id: u32, store: &SchemaStore) -> Result<&mut DecodePlan, DecodeReason> {
        if !matches!(self.plans.get(self.last), Some((last, _)) if *last == id) {
            self.find_plan(id, store)?;
        }
        match self.plans.get_mut(self.last) {
            Some((_, Ok(plan))) => Ok(plan),
            Some((_, Err(e))) => Err(DecodeReason::Incompatible(e.clone())),
            None => Err(DecodeReason::PlanMismatch),
        }
    }

    /// Makes `last` the index of the plan for writer schema `id`, compiling it if new.
    #[cold]
    fn find_plan(&mut self, id: u32, store: &SchemaStore) -> Result<(), DecodeReason> {
        self.last = match self.plans.iter().position(|(i, _)| *i == id) {
            Some(index) => index,
            None => {
                let writer = store
                    .get(id)
                    .ok_or_else(|| match store.unreadable_reason(id) {
                        Some(why) => DecodeReason::UnreadableSchema(why.clone()),
                        None => DecodeReason::UnknownSchemaId,
                    })?;
                let reader = self.reader.as_ref().ok_or(DecodeReason::PlanMismatch)?;
                let plan = DecodePlan::compile(&writer.schema, &reader.schema)
                    .and_then(|plan| {
                        if plan.width() == self.width {
                            Ok(plan)
                        } else {
                            Err(Error::Schema("the plan does not fit the columns".into()))
                        }
                    })
                    .map_err(|e| Arc::<str>::from(format!("{e} (reader schema id {})", reader.id)));
                self.plans.push((id, plan));
                self.plans.len() - 1
            }
        };
        Ok(())
    }

    /// Decodes this side of a record into its columns; on error, the schema id if known.
    #[inline(always)]
    fn decode(
        &mut self,
        bytes: Option<&[u8]>,
        store: &SchemaStore,
        cols: &mut [Column],
    ) -> Result<Option<u32>, (Option<u32>, DecodeReason)> {
        let Some(cols) = cols.get_mut(self.base..self.base + self.width) else {
            return Err((None, DecodeReason::PlanMismatch));
        };
        match (&self.format, bytes) {
            (Format::Ignore, _) => Ok(None),
            (_, None) => {
                cols.iter_mut().for_each(Column::push_null);
                Ok(None)
            }
            (Format::String, Some(b)) => match (std::str::from_utf8(b), cols) {
                (Ok(s), [Column::String(c)]) => {
                    c.push(Some(s));
                    Ok(None)
                }
                (Err(_), _) => Err((None, DecodeReason::InvalidUtf8)),
                _ => Err((None, DecodeReason::PlanMismatch)),
            },
            (Format::Bytes, Some(b)) => match cols {
                [Column::Binary(c)] => {
                    c.push(Some(b));
                    Ok(None)
                }
                _ => Err((None, DecodeReason::PlanMismatch)),
            },
            (Format::Long | Format::Double, Some(b)) => {
                let bytes: [u8; 8] = b.try_into().map_err(|_| {
                    (
                        None,
                        DecodeReason::WrongWidth {
                            expected: 8,
                            got: b.len(),
                        },
                    )
                })?;
                match (&self.format, cols) {
                    (Format::Long, [Column::I64(c)]) => c.push(i64::from_be_bytes(bytes)),
                    (Format::Double, [Column::F64(c)]) => c.push(f64::from_be_bytes(bytes)),
                    _ => return Err((None, DecodeReason::PlanMismatch)),
                }
                Ok(None)
            }
            (Format::Int, Some(b)) => {
                let bytes: [u8; 4] = b.try_into().map_err(|_| {
                    (
                        None,
                        DecodeReason::WrongWidth {
                            expected: 4,
                            got: b.len(),
                        },
                    )
                })?;
                match cols {
                    [Column::I32(c)] => c.push(i32::from_be_bytes(bytes)),
                    _ => return Err((None, DecodeReason::PlanMismatch)),
                }
                Ok(None)
            }
            (Format::Protobuf(_), Some(b)) => match &mut self.proto {
                Some(side) => {
                    let id = side.stage(b, store, cols)?;
                    side.flush(cols).map_err(|r| (Some(id), r))?;
                    Ok(Some(id))
                }
                None => Err((None, DecodeReason::PlanMismatch)),
            },
            (Format::Json(_), Some(b)) => match &mut self.json {
                Some(plan) => {
                    let id = framed(Some(b)).map(|(id, _)| id);
                    plan.decode(unframe(b), cols).map_err(|r| (id, r))?;
                    Ok(id)
                }
                None => Err((None, DecodeReason::PlanMismatch)),
            },
            (Format::Avro(_), Some(b)) => {
                let (magic, id, body) = match b {
                    [0, a, b, c, d, body @ ..] => (0, u32::from_be_bytes([*a, *b, *c, *d]), body),
                    [m, ..] if *m != 0 => return Err((None, DecodeReason::WrongMagic(*m))),
                    short => return Err((None, DecodeReason::ShortHeader(short.len()))),
                };
                debug_assert_eq!(magic, 0);
                let plan = self.plan(id, store).map_err(|r| (Some(id), r))?;
                plan.decode(body, cols).map_err(|r| (Some(id), r))?;
                Ok(Some(id))
            }
        }
    }

    /// Stages a JSON or Protobuf side's bytes (`None`: a Kafka null) in its plan: the schema id
    /// of its Confluent header, or the error. A side of neither stages nothing.
    #[cfg_attr(streamglass_site, optimize(speed))]
    fn stage(&mut self, bytes: Option<&[u8]>, store: &SchemaStore, cols: &mut [Column]) -> Staged {
        if let Some(proto) = &mut self.proto {
            return match bytes {
                None => {
                    proto.stage_null();
                    Ok(None)
                }
                Some(b) => proto.stage(b, store, cols).map(Some),
            };
        }
        match (&mut self.json, bytes) {
            (None, _) => Ok(None),
            (Some(plan), None) => {
                plan.stage_null();
                Ok(None)
            }
            (Some(plan), Some(b)) => {
                let id = framed(Some(b)).map(|(id, _)| id);
                plan.stage(unframe(b), cols).map_err(|r| (id, r))?;
                Ok(id)
            }
        }
    }
}

/// A side's schema id (of its Confluent header), or the error and the schema id if known.
type Staged = Result<Option<u32>, (Option<u32>, DecodeReason)>;

/// Decodes Kafka records into the columns of one table.
#[derive(Debug)]
pub struct RecordDecoder {
    store: SchemaStore,
    key: Side,
    value: Side,
    schema: Schema,
    columns: Vec<Column>,
    rows: usize,
    stats: DecodeStats,
    /// The metadata columns' lanes during a batch (see [`RecordDecoder::decode_records`]).
    meta: MetaLanes,
}

/// The checked-out growing chunks of `KafkaOffset` and `KafkaTimestamp`, and the rows of
/// `KafkaPartition` (one partition for the run) not yet written: they are written at check-in.
#[derive(Debug, Default)]
struct MetaLanes {
    partition: i32,
    partitions: usize,
    offset: ChunkLane<i64>,
    timestamp: ChunkLane<i64>,
}

impl MetaLanes {
    fn check_out(&mut self, columns: &mut [Column]) -> bool {
        match columns {
            [Column::I32(_), Column::I64(o), Column::Timestamp(t), ..] => {
                self.partitions = 0;
                self.offset = ChunkLane::new(o.check_out());
                self.timestamp = ChunkLane::new(t.check_out());
                true
            }
            _ => false,
        }
    }

    fn check_in(&mut self, columns: &mut [Column]) {
        if let [Column::I32(p), Column::I64(o), Column::Timestamp(t), ..] = columns {
            p.extend_fill(self.partition, std::mem::take(&mut self.partitions));
            o.check_in(self.offset.take());
            t.check_in(self.timestamp.take());
        }
    }

    /// Appends a record's metadata.
    #[inline(always)]
    fn push(&mut self, partition: i32, offset: i64, timestamp: i64, columns: &mut [Column]) {
        let offset_in = self.offset.put(offset);
        if !(offset_in && self.timestamp.put(timestamp)) {
            self.renew_push(offset_in, offset, timestamp, columns);
        }
        self.partition = partition;
        self.partitions += 1;
    }

    /// [`MetaLanes::push`] with a full lane: the offset, if it went in, comes back out, both
    /// lanes are checked in and out again, and the record's metadata goes into the new chunks.
    #[cold]
    #[inline(never)]
    fn renew_push(&mut self, offset_in: bool, offset: i64, timestamp: i64, columns: &mut [Column]) {
        if offset_in {
            self.offset.unput();
        }
        self.check_in(columns);
        self.check_out(columns);
        // A fresh chunk has room; lanes that could not go out (columns of other types) take
        // nothing, as neither does their check-in.
        let _ = self.offset.put(offset) && self.timestamp.put(timestamp);
    }
}

/// Checks a run's lanes in (truncating the columns to `rows` if given) and out again, between
/// records; false, with everything checked in, if they could not go out again. Out of line: the
/// record loop stays small.
#[cold]
#[inline(never)]
fn recheck(
    plan: &mut DecodePlan,
    meta: &mut MetaLanes,
    meta_cols: &mut [Column],
    value_cols: &mut [Column],
    rows: Option<usize>,
) -> bool {
    plan.check_in(value_cols);
    meta.check_in(meta_cols);
    if let Some(n) = rows {
        meta_cols.iter_mut().for_each(|c| c.truncate(n));
        value_cols.iter_mut().for_each(|c| c.truncate(n));
    }
    if plan.check_out(value_cols) && meta.check_out(meta_cols) {
        return true;
    }
    plan.check_in(value_cols);
    meta.check_in(meta_cols);
    false
}

/// Hands a record's error to `on_error`.
#[cold]
#[inline(never)]
fn report(
    on_error: &mut impl FnMut(Error),
    partition: i32,
    offset: i64,
    schema_id: Option<u32>,
    reason: DecodeReason,
) {
    on_error(Error::Decode {
        partition,
        offset,
        schema_id,
        reason,
    });
}

/// The schema id and body of a Confluent-framed value.
#[inline(always)]
fn framed(value: Option<&[u8]>) -> Option<(u32, &[u8])> {
    match value? {
        [0, a, b, c, d, body @ ..] => Some((u32::from_be_bytes([*a, *b, *c, *d]), body)),
        _ => None,
    }
}

/// A Kafka timestamp in milliseconds as nanoseconds (negative: Kafka's "no timestamp", null).
#[inline(always)]
fn kafka_timestamp(ms: i64) -> Result<i64, DecodeReason> {
    // A bound rather than `checked_mul`, which is a 128-bit multiply on wasm32.
    match ms {
        t if t < 0 => Ok(NULL_I64),
        t if t <= i64::MAX / 1_000_000 => Ok(t * 1_000_000),
        _ => Err(DecodeReason::OutOfRange("the Kafka timestamp")),
    }
}

impl RecordDecoder {
    /// A decoder of keys as `key` and values as `value`, with reader schemas from `store`.
    pub fn new(store: SchemaStore, key: Format, value: Format) -> Result<Self> {
        let mut fields = vec![
            Field::new(PARTITION_COLUMN, ColumnType::I32),
            Field::new(OFFSET_COLUMN, ColumnType::I64),
            Field::new(TIMESTAMP_COLUMN, ColumnType::Timestamp),
        ];
        let key = Side::new(key, &store, "Key", fields.len(), &mut fields)?;
        let value = Side::new(value, &store, "Value", fields.len(), &mut fields)?;
        let schema = Schema::new(fields)?;
        Ok(Self {
            columns: schema.fields().iter().map(|f| Column::new(f.ty)).collect(),
            schema,
            store,
            key,
            value,
            rows: 0,
            stats: DecodeStats::default(),
            meta: MetaLanes::default(),
        })
    }

    /// The columns' names and types.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// How keys are decoded.
    pub fn key_format(&self) -> &Format {
        &self.key.format
    }

    /// How values are decoded.
    pub fn value_format(&self) -> &Format {
        &self.value.format
    }

    /// The schema store, to add writer schemas that arrive later.
    pub fn store_mut(&mut self) -> &mut SchemaStore {
        &mut self.store
    }

    pub fn store(&self) -> &SchemaStore {
        &self.store
    }

    /// Rows decoded and not yet taken.
    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn stats(&self) -> DecodeStats {
        self.stats
    }

    /// The columns of the rows not yet taken.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// Decodes one record of `partition`. On error nothing is added, the record is counted as
    /// skipped, and the error says which record and why.
    #[inline]
    pub fn decode(&mut self, partition: i32, record: &Record<'_>) -> Result<()> {
        match self.decode_row(partition, record) {
            Ok(()) => {
                self.rows += 1;
                self.stats.decoded += 1;
                Ok(())
            }
            Err((schema_id, reason)) => {
                let rows = self.rows;
                self.columns.iter_mut().for_each(|c| c.truncate(rows));
                self.stats.skipped += 1;
                Err(Error::Decode {
                    partition,
                    offset: record.offset,
                    schema_id,
                    reason,
                })
            }
        }
    }

    /// Decodes every record of a batch, handing each error to `on_error`. Returns the rows added.
    pub fn decode_batch(&mut self, batch: &RecordBatch<'_>, on_error: impl FnMut(Error)) -> usize {
        self.decode_records(batch.partition, &batch.records, on_error)
    }

    /// Decodes records of `partition` in order, handing each error to `on_error`; returns the
    /// rows added. The rows, errors and counts are those of [`RecordDecoder::decode`] on each
    /// record in turn, but a run of Avro values of one writer schema (keys ignored) goes through
    /// the plan's lanes: each column's growing chunk checked out for the run, so a value costs a
    /// `Vec` push ([`DecodePlan::decode_lanes`]).
    pub fn decode_records(
        &mut self,
        partition: i32,
        records: &[Record<'_>],
        mut on_error: impl FnMut(Error),
    ) -> usize {
        let before = self.rows;
        let mut rest = records;
        if matches!(self.value.format, Format::Json(_) | Format::Protobuf(_))
            && matches!(
                self.key.format,
                Format::Ignore | Format::Json(_) | Format::Protobuf(_)
            )
            && self.decode_json_run(partition, records, &mut on_error)
        {
            return self.rows - before;
        }
        while let Some((first, tail)) = rest.split_first() {
            match self.decode_run(partition, rest, &mut on_error) {
                0 => {
                    if let Err(e) = self.decode(partition, first) {
                        on_error(e);
                    }
                    rest = tail;
                }
                n => rest = rest.get(n..).unwrap_or_default(),
            }
        }
        self.rows - before
    }

    /// Decodes records whose value is JSON or Protobuf and whose key is ignored or either: the sides' values
    /// are staged in their plans and the metadata in its lanes, then moved into the columns at
    /// the end, in bulk. Rows, errors and counts are those of [`RecordDecoder::decode`] on each
    /// record in turn. False, with nothing done, if the metadata columns cannot be checked out
    /// (a bug, not data): the caller then decodes the records one by one. Out of line, so that
    /// in the page's build the loop keeps its own optimisation (inlined, it would take its
    /// caller's, for size).
    #[inline(never)]
    #[cfg_attr(streamglass_site, optimize(speed))]
    fn decode_json_run(
        &mut self,
        partition: i32,
        records: &[Record<'_>],
        on_error: &mut impl FnMut(Error),
    ) -> bool {
        let Self {
            store,
            key,
            value,
            columns,
            rows,
            stats,
            meta,
            ..
        } = self;
        // The metadata's columns, the key's and the value's.
        let Some((meta_cols, key_cols, value_cols)) = columns
            .split_at_mut_checked(key.base)
            .and_then(|(m, rest)| Some((m, rest.split_at_mut_checked(value.base - key.base)?)))
            .and_then(|(m, (k, v))| Some((m, k.get_mut(..key.width)?, v.get_mut(..value.width)?)))
        else {
            return false;
        };
        if !meta.check_out(meta_cols) {
            return false;
        }
        for record in records {
            let failed = match (
                kafka_timestamp(record.timestamp_ms),
                &key.format,
                &mut value.proto,
            ) {
                (Err(reason), ..) => Some((None, reason)),
                // Protobuf values with the keys ignored (the common case), in short.
                (Ok(timestamp), Format::Ignore, Some(proto)) => {
                    let staged = match record.value {
                        None => {
                            proto.stage_null();
                            Ok(0)
                        }
                        Some(b) => proto.stage(b, store, value_cols),
                    };
                    match staged {
                        Ok(_) => {
                            meta.push(partition, record.offset, timestamp, meta_cols);
                            None
                        }
                        Err(e) => Some(e),
                    }
                }
                (Ok(timestamp), ..) => match key.stage(record.key, store, key_cols) {
                    Err(e) => Some(e),
                    Ok(key_id) => match value.stage(record.value, store, value_cols) {
                        Err((id, reason)) => {
                            if let Some(plan) = &mut key.json {
                                plan.unstage_last(key_cols);
                            }
                            if let Some(side) = &mut key.proto {
                                side.unstage_last(key_cols);
                            }
                            Some((id.or(key_id), reason))
                        }
                        Ok(_) => {
                            meta.push(partition, record.offset, timestamp, meta_cols);
                            None
                        }
                    },
                },
            };
            match failed {
                Some((schema_id, reason)) => {
                    stats.skipped += 1;
                    report(on_error, partition, record.offset, schema_id, reason);
                }
                None => {
                    *rows += 1;
                    stats.decoded += 1;
                }
            }
        }
        meta.check_in(meta_cols);
        for side in [key, value] {
            let Some(cols) = columns.get_mut(side.base..side.base + side.width) else {
                continue;
            };
            let flushed = match (&mut side.json, &mut side.proto) {
                (Some(plan), _) => plan.flush(cols),
                (_, Some(proto)) => proto.flush(cols),
                _ => Ok(()),
            };
            if flushed.is_err() {
                // Only a plan that does not fit its columns fails here (a bug, not data): the
                // columns are cut back to a common length so the invariant holds.
                let shortest = columns.iter().map(Column::len).min().unwrap_or(0);
                columns.iter_mut().for_each(|c| c.truncate(shortest));
                *rows = shortest;
            }
        }
        true
    }

    /// Decodes the records at the front of `records` whose values are framed with the schema id
    /// of the first, through the plan's lanes. Returns how many it took (0 if the first cannot go
    /// this way: keys not ignored, not a framed value, a plan without lanes).
    fn decode_run(
        &mut self,
        partition: i32,
        records: &[Record<'_>],
        on_error: &mut impl FnMut(Error),
    ) -> usize {
        let Self {
            store,
            key,
            value,
            columns,
            rows,
            stats,
            meta,
            ..
        } = self;
        if !matches!(key.format, Format::Ignore) || !matches!(value.format, Format::Avro(_)) {
            return 0;
        }
        let Some((id, _)) = records.first().and_then(|r| framed(r.value)) else {
            return 0;
        };
        let (base, width) = (value.base, value.width);
        let Ok(plan) = value.plan(id, store) else {
            return 0;
        };
        if !plan.has_lanes() {
            return 0;
        }
        let Some((meta_cols, value_cols)) = columns
            .split_at_mut_checked(base)
            .and_then(|(m, v)| Some((m, v.get_mut(..width)?)))
        else {
            return 0;
        };
        if !plan.check_out(value_cols) {
            return 0;
        }
        if !meta.check_out(meta_cols) {
            plan.check_in(value_cols);
            return 0;
        }
        let mut taken = 0;
        for record in records {
            let body = match framed(record.value) {
                Some((i, body)) if i == id => body,
                _ => break,
            };
            taken += 1;
            let failed = match kafka_timestamp(record.timestamp_ms) {
                Ok(timestamp) => {
                    meta.push(partition, record.offset, timestamp, meta_cols);
                    match plan.decode_lanes(body, value_cols) {
                        Ok(()) => None,
                        Err(reason) => Some((Some(id), reason)),
                    }
                }
                Err(reason) => Some((None, Box::new(reason))),
            };
            if let Some((schema_id, reason)) = failed {
                // As `decode` does: back to the row start, in the columns themselves.
                let out = recheck(plan, meta, meta_cols, value_cols, Some(*rows));
                stats.skipped += 1;
                report(on_error, partition, record.offset, schema_id, *reason);
                if !out {
                    return taken;
                }
                continue;
            }
            *rows += 1;
            stats.decoded += 1;
            // A dictionary column turns plain at check-in, as it would have on its push.
            if plan.plain_due() && !recheck(plan, meta, meta_cols, value_cols, None) {
                return taken;
            }
        }
        plan.check_in(value_cols);
        meta.check_in(meta_cols);
        taken
    }

    /// The rows decoded so far as a batch; the decoder starts over with empty columns.
    pub fn take_batch(&mut self) -> Result<Batch> {
        // The next batch is sized like this one and stores strings as this one ended up doing.
        let fresh = self
            .columns
            .iter()
            .map(|c| c.empty_like(self.rows.max(1_024)))
            .collect();
        let columns = std::mem::replace(&mut self.columns, fresh);
        self.rows = 0;
        Batch::from_columns(&self.schema, columns)
    }

    /// Drops the rows decoded so far, keeping the columns' storage.
    pub fn clear(&mut self) {
        self.columns.iter_mut().for_each(Column::clear);
        self.rows = 0;
    }

    #[inline]
    fn decode_row(
        &mut self,
        partition: i32,
        record: &Record<'_>,
    ) -> Result<(), (Option<u32>, DecodeReason)> {
        let timestamp = kafka_timestamp(record.timestamp_ms).map_err(|r| (None, r))?;
        match &mut self.columns[..] {
            [Column::I32(p), Column::I64(o), Column::Timestamp(t), ..] => {
                p.push(partition);
                o.push(record.offset);
                t.push(timestamp);
            }
            _ => return Err((None, DecodeReason::PlanMismatch)),
        }
        let key_id = self
            .key
            .decode(record.key, &self.store, &mut self.columns)?;
        self.value
            .decode(record.value, &self.store, &mut self.columns)
            .map_err(|(id, reason)| (id.or(key_id), reason))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::column::Value as V;
    use apache_avro::types::Value as Avro;

    const TRADE: &str = r#"{"type":"record","name":"Trade","namespace":"io.deephaven.crypto","fields":[
        {"name":"Id","type":["null","string"],"default":null},
        {"name":"Timestamp","type":["null",{"type":"long","logicalType":"timestamp-micros"}],"default":null},
        {"name":"Exchange","type":"string"},
        {"name":"Instrument","type":"string"},
        {"name":"Type","type":{"type":"enum","name":"TradeType","symbols":["BID","ASK","EXIT_ASK","EXIT_BID"]}},
        {"name":"Price","type":"double"},
        {"name":"Size","type":"double"}]}"#;

    fn trade(id: &str, micros: i64, price: f64) -> Vec<u8> {
        let schema = apache_avro::Schema::parse_str(TRADE).unwrap();
        let value = Avro::Record(vec![
            (
                "Id".into(),
                Avro::Union(1, Box::new(Avro::String(id.into()))),
            ),
            (
                "Timestamp".into(),
                Avro::Union(1, Box::new(Avro::TimestampMicros(micros))),
            ),
            ("Exchange".into(), Avro::String("kraken".into())),
            ("Instrument".into(), Avro::String("BTC/USD".into())),
            ("Type".into(), Avro::Enum(1, "ASK".into())),
            ("Price".into(), Avro::Double(price)),
            ("Size".into(), Avro::Double(0.5)),
        ]);
        let mut framed = vec![0, 0, 0, 0, 7];
        framed.extend(apache_avro::to_avro_datum(&schema, value).unwrap());
        framed
    }

    fn decoder() -> RecordDecoder {
        let mut store = SchemaStore::new();
        store.add(7, Some("trades-value"), Some(1), TRADE).unwrap();
        RecordDecoder::new(
            store,
            Format::Ignore,
            Format::Avro(ReaderSchema::Latest("trades-value".into())),
        )
        .unwrap()
    }

    fn record(offset: i64, value: Option<&[u8]>) -> Record<'_> {
        Record {
            offset,
            timestamp_ms: 1_700_000_000_123,
            key: None,
            value,
        }
    }

    fn row(d: &RecordDecoder, i: usize) -> Vec<V> {
        d.columns().iter().map(|c| c.get(i).unwrap()).collect()
    }

    #[test]
    fn an_unreadable_schema_version_fails_only_its_own_records() {
        use crate::protocol::{Hello, SchemaInfo};
        let info = |id: u32, version: i32, schema: &str| SchemaInfo {
            id,
            subject: Some("trades-value".into()),
            version: Some(version),
            schema: schema.into(),
            schema_type: Default::default(),
            descriptors: None,
        };
        let hello = Hello {
            subscription: Default::default(),
            topic: "trades".into(),
            source: "test".into(),
            partitions: Vec::new(),
            schemas: vec![
                // Version 1 names a type that does not exist: unreadable.
                info(
                    5,
                    1,
                    r#"{"type":"record","name":"T","fields":[{"name":"a","type":"Nope"}]}"#,
                ),
                info(7, 2, TRADE),
            ],
        };
        let store = SchemaStore::from_hello(&hello).unwrap();
        let unreadable: Vec<(u32, Option<i32>)> =
            store.unreadable().map(|(i, _)| (i.id, i.version)).collect();
        assert_eq!(unreadable, [(5, Some(1))]);
        assert!(
            store
                .unreadable()
                .all(|(_, why)| why.contains("unknown type"))
        );
        let mut d = RecordDecoder::new(
            store,
            Format::Ignore,
            Format::Avro(ReaderSchema::Latest("trades-value".into())),
        )
        .unwrap();
        let mut old = trade("a", 1, 1.0);
        old[4] = 5;
        match d.decode(0, &record(1, Some(&old))) {
            Err(Error::Decode {
                schema_id: Some(5),
                reason: DecodeReason::UnreadableSchema(why),
                ..
            }) => assert!(why.contains("unknown type"), "{why}"),
            other => panic!("{other:?}"),
        }
        let new = trade("b", 2, 2.0);
        d.decode(0, &record(2, Some(&new))).unwrap();
        assert_eq!(d.stats().decoded, 1);
    }

    #[test]
    fn trades_land_in_deephaven_columns() {
        let mut d = decoder();
        assert_eq!(
            d.schema().names(),
            [
                "KafkaPartition",
                "KafkaOffset",
                "KafkaTimestamp",
                "Id",
                "Timestamp",
                "Exchange",
                "Instrument",
                "Type",
                "Price",
                "Size"
            ]
        );
        let bytes = trade("42", 1_767_623_400_000_001, 61_250.5);
        d.decode(2, &record(9, Some(&bytes))).unwrap();
        assert_eq!(
            row(&d, 0),
            [
                V::I32(2),
                V::I64(9),
                V::Timestamp(1_700_000_000_123_000_000),
                V::String("42".into()),
                V::Timestamp(1_767_623_400_000_001_000),
                V::String("kraken".into()),
                V::String("BTC/USD".into()),
                V::String("ASK".into()),
                V::F64(61_250.5),
                V::F64(0.5)
            ]
        );
        d.decode(0, &record(10, None)).unwrap();
        assert!(
            row(&d, 1)[3..].iter().all(V::is_null),
            "a null value: null columns"
        );
        let batch = d.take_batch().unwrap();
        assert_eq!(batch.len(), 2);
        assert_eq!(d.rows(), 0);
    }

    #[test]
    fn a_bad_record_is_skipped_whole_and_the_batch_goes_on() {
        let mut d = decoder();
        let good = trade("1", 5, 1.0);
        let cases: Vec<(Vec<u8>, DecodeReason)> = vec![
            (vec![1, 0, 0, 0, 7, 0], DecodeReason::WrongMagic(1)),
            (vec![0, 0, 0], DecodeReason::ShortHeader(3)),
            (
                {
                    let mut b = good.clone();
                    b[4] = 8;
                    b
                },
                DecodeReason::UnknownSchemaId,
            ),
            (good[..good.len() - 3].to_vec(), DecodeReason::Truncated),
            (
                {
                    let mut b = good.clone();
                    b.push(0);
                    b
                },
                DecodeReason::TrailingBytes(1),
            ),
        ];
        for (i, (bytes, reason)) in cases.iter().enumerate() {
            d.decode(0, &record(0, Some(&good))).unwrap();
            let e = d
                .decode(3, &record(100 + i as i64, Some(bytes)))
                .unwrap_err();
            match e {
                Error::Decode {
                    partition: 3,
                    offset,
                    reason: got,
                    ..
                } => {
                    assert_eq!(offset, 100 + i as i64);
                    assert_eq!(&got, reason);
                }
                other => panic!("{other}"),
            }
            assert!(
                d.columns().iter().all(|c| c.len() == d.rows()),
                "no partial row"
            );
        }
        assert_eq!(
            d.stats(),
            DecodeStats {
                decoded: 5,
                skipped: 5
            }
        );
        let e = d
            .decode(0, &record(7, Some(&[0, 0, 0, 0, 9, 1])))
            .unwrap_err();
        assert!(
            e.to_string().contains("partition 0 offset 7 schema id 9"),
            "{e}"
        );
    }

    #[test]
    fn enum_codes_follow_the_column_dictionary() {
        let mut d = decoder();
        let bytes = trade("1", 5, 1.0);
        for round in 0..3 {
            for i in 0..3 {
                d.decode(0, &record(i, Some(&bytes))).unwrap();
            }
            // A new batch has a new dictionary: cached codes must not leak into it.
            let batch = d.take_batch().unwrap();
            let column = &batch.columns()[7];
            for i in 0..3 {
                assert_eq!(
                    column.get(i),
                    Some(V::String("ASK".into())),
                    "round {round}"
                );
            }
        }
    }

    /// A Trade in the Avro binary encoding, by hand (so tests can also write what apache-avro
    /// would refuse): `id` and `micros` null when `None`, strings as raw bytes.
    fn trade_body(
        id: Option<&[u8]>,
        micros: Option<i64>,
        exchange: &[u8],
        instrument: &[u8],
        ty: i64,
        price: f64,
    ) -> Vec<u8> {
        use super::super::vlq::write_long;
        let mut b = Vec::new();
        let string = |b: &mut Vec<u8>, s: &[u8]| {
            write_long(b, s.len() as i64);
            b.extend_from_slice(s);
        };
        match id {
            None => write_long(&mut b, 0),
            Some(id) => {
                write_long(&mut b, 1);
                string(&mut b, id);
            }
        }
        match micros {
            None => write_long(&mut b, 0),
            Some(m) => {
                write_long(&mut b, 1);
                write_long(&mut b, m);
            }
        }
        string(&mut b, exchange);
        string(&mut b, instrument);
        write_long(&mut b, ty);
        b.extend_from_slice(&price.to_le_bytes());
        b.extend_from_slice(&(price / 2.0).to_le_bytes());
        b
    }

    /// What one generated record is.
    #[derive(Debug, Clone)]
    enum Kind {
        Good,
        /// Cut this many bytes from the end.
        Truncated(usize),
        Trailing,
        WrongMagic,
        UnknownId,
        NullValue,
        /// A Kafka timestamp out of range.
        BadTimestamp,
        /// Written with a schema that has no lanes (an extra array field, skipped by the reader).
        Evolved,
        /// Written with a schema with promotions (bytes, float and int into the reader's string
        /// and doubles).
        Promoted,
    }

    fn kind() -> impl proptest::strategy::Strategy<Value = Kind> {
        use proptest::prelude::*;
        prop_oneof![
            20 => Just(Kind::Good),
            1 => (1usize..12).prop_map(Kind::Truncated),
            1 => Just(Kind::Trailing),
            1 => Just(Kind::WrongMagic),
            1 => Just(Kind::UnknownId),
            1 => Just(Kind::NullValue),
            1 => Just(Kind::BadTimestamp),
            2 => Just(Kind::Evolved),
            2 => Just(Kind::Promoted),
        ]
    }

    /// Writer schemas besides the reader's own (id 7): 8 has an extra array, 9 promotions.
    const EVOLVED: &str = r#"{"type":"record","name":"Trade","namespace":"io.deephaven.crypto","fields":[
        {"name":"Id","type":["null","string"],"default":null},
        {"name":"Timestamp","type":["null",{"type":"long","logicalType":"timestamp-micros"}],"default":null},
        {"name":"Exchange","type":"string"},
        {"name":"Tags","type":{"type":"array","items":"int"}},
        {"name":"Instrument","type":"string"},
        {"name":"Type","type":{"type":"enum","name":"TradeType","symbols":["BID","ASK","EXIT_ASK","EXIT_BID"]}},
        {"name":"Price","type":"double"},
        {"name":"Size","type":"double"}]}"#;
    const PROMOTED: &str = r#"{"type":"record","name":"Trade","namespace":"io.deephaven.crypto","fields":[
        {"name":"Id","type":["null","string"],"default":null},
        {"name":"Timestamp","type":["null",{"type":"long","logicalType":"timestamp-micros"}],"default":null},
        {"name":"Exchange","type":"bytes"},
        {"name":"Instrument","type":"string"},
        {"name":"Type","type":{"type":"enum","name":"TradeType","symbols":["BID","ASK","EXIT_ASK","EXIT_BID"]}},
        {"name":"Price","type":"float"},
        {"name":"Size","type":"int"}]}"#;

    fn decoders() -> (RecordDecoder, RecordDecoder) {
        let make = || {
            let mut d = decoder();
            d.store_mut().add(8, None, None, EVOLVED).unwrap();
            d.store_mut().add(9, None, None, PROMOTED).unwrap();
            d
        };
        (make(), make())
    }

    /// One generated record's value bytes and Kafka timestamp.
    fn frame(i: usize, kind: &Kind, pick: u32, wide: bool) -> (Option<Vec<u8>>, i64) {
        use super::super::vlq::write_long;
        let names: [&[u8]; 5] = [
            b"kraken",
            b"binance",
            b"\xc3\xa9x",
            b"",
            b"coinbase-pro-long-name",
        ];
        // Wide: many distinct strings (the dictionary turns plain); else a few.
        let id = format!("{}", if wide { i } else { i % 7 });
        let exchange: Vec<u8> = match pick % 11 {
            10 => vec![b'x', 0xff],
            n if wide && n > 5 => format!("ex-{i}").into_bytes(),
            n => names[n as usize % names.len()].to_vec(),
        };
        let instrument = names[(pick / 11) as usize % names.len()];
        let micros = (!pick.is_multiple_of(5)).then_some(i as i64 * 1_000 + 17);
        let id = (!pick.is_multiple_of(3)).then_some(id.as_bytes());
        let ty = i64::from(pick % 4);
        let price = f64::from(pick) / 8.0;
        let ts = 1_700_000_000_000 + i as i64;
        let framed = |id: u8, body: Vec<u8>| {
            let mut f = vec![0, 0, 0, 0, id];
            f.extend(body);
            f
        };
        let good = framed(7, trade_body(id, micros, &exchange, instrument, ty, price));
        let value = match kind {
            Kind::Good => good,
            Kind::Truncated(n) => good[..good.len().saturating_sub(*n).max(5)].to_vec(),
            Kind::Trailing => [&good[..], &[0]].concat(),
            Kind::WrongMagic => [&[1], &good[1..]].concat(),
            Kind::UnknownId => framed(99, good[5..].to_vec()),
            Kind::NullValue => return (None, ts),
            Kind::BadTimestamp => return (Some(good), i64::MAX),
            Kind::Evolved => {
                let mut b = Vec::new();
                let s = |b: &mut Vec<u8>, s: &[u8]| {
                    write_long(b, s.len() as i64);
                    b.extend_from_slice(s);
                };
                write_long(&mut b, 1);
                s(&mut b, b"evolved");
                write_long(&mut b, 0);
                s(&mut b, &exchange);
                write_long(&mut b, 2);
                write_long(&mut b, 5);
                write_long(&mut b, -6);
                write_long(&mut b, 0);
                s(&mut b, instrument);
                write_long(&mut b, ty);
                b.extend_from_slice(&price.to_le_bytes());
                b.extend_from_slice(&1.5f64.to_le_bytes());
                framed(8, b)
            }
            Kind::Promoted => {
                let mut b = Vec::new();
                write_long(&mut b, 0);
                write_long(&mut b, 1);
                write_long(&mut b, i as i64);
                for s in [&exchange[..], instrument] {
                    write_long(&mut b, s.len() as i64);
                    b.extend_from_slice(s);
                }
                write_long(&mut b, ty);
                b.extend_from_slice(&(price as f32).to_le_bytes());
                write_long(&mut b, -(i as i64));
                framed(9, b)
            }
        };
        (Some(value), ts)
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]
        /// A batch decoded at once (through the plan's lanes) gives exactly what decoding its
        /// records one by one gives: the rows, the errors, the counts, with bad records, other
        /// writer schemas, dictionaries that turn plain, and batches taken in between.
        #[test]
        fn a_batch_decodes_as_its_records_one_by_one(
            records in proptest::collection::vec((kind(), proptest::prelude::any::<u32>()), 0..300),
            wide in proptest::prelude::any::<bool>(),
            repeat in 1usize..12,
            cuts in proptest::collection::vec(0usize..3_600, 0..4),
        ) {
            // Repeated, so a wide batch has enough distinct strings to turn its columns plain.
            let records: Vec<(Kind, u32)> = (0..repeat).flat_map(|_| records.iter().cloned()).collect();
            let frames: Vec<(Option<Vec<u8>>, i64)> = records
                .iter()
                .enumerate()
                .map(|(i, (k, pick))| frame(i, k, *pick, wide))
                .collect();
            let records: Vec<Record> = frames
                .iter()
                .enumerate()
                .map(|(i, (value, ts))| Record {
                    offset: i as i64,
                    timestamp_ms: *ts,
                    key: None,
                    value: value.as_deref(),
                })
                .collect();
            let (mut one, mut batch) = decoders();
            let (mut one_rows, mut batch_rows) = (Vec::new(), Vec::new());
            let (mut one_errors, mut batch_errors) = (Vec::new(), Vec::new());
            let mut cuts = cuts;
            cuts.push(records.len());
            cuts.sort_unstable();
            let mut start = 0;
            for cut in cuts {
                let part = &records[start.min(cut).min(records.len())..cut.min(records.len())];
                start = cut;
                for r in part {
                    if let Err(e) = one.decode(3, r) {
                        one_errors.push(e.to_string());
                    }
                }
                let added = batch.decode_records(3, part, |e| batch_errors.push(e.to_string()));
                proptest::prop_assert_eq!(batch.rows(), one.rows());
                proptest::prop_assert!(added <= part.len());
                proptest::prop_assert!(batch.columns().iter().all(|c| c.len() == batch.rows()));
                // Dictionaries turn plain where they would have, record by record.
                let dictionaries = |d: &RecordDecoder| {
                    d.columns()
                        .iter()
                        .map(|c| matches!(c, Column::String(s) if s.is_dictionary()))
                        .collect::<Vec<_>>()
                };
                proptest::prop_assert_eq!(dictionaries(&batch), dictionaries(&one));
                for (d, out) in [(&mut one, &mut one_rows), (&mut batch, &mut batch_rows)] {
                    let b = d.take_batch().unwrap();
                    out.extend((0..b.len()).map(|i| {
                        b.columns().iter().map(|c| c.get(i).unwrap()).collect::<Vec<_>>()
                    }));
                }
            }
            proptest::prop_assert_eq!(batch_errors, one_errors);
            proptest::prop_assert_eq!(batch.stats(), one.stats());
            proptest::prop_assert_eq!(batch_rows.len(), one_rows.len());
            for (i, (b, o)) in batch_rows.iter().zip(&one_rows).enumerate() {
                proptest::prop_assert_eq!(b, o, "row {}", i);
            }
        }
    }

    #[test]
    fn json_keys_and_values_framed_or_not_with_per_record_errors() {
        let key = JsonColumns::from_spec_text("K=long").unwrap();
        let value = JsonColumns::from_spec_text("Price=double,Exchange=string").unwrap();
        let mut d =
            RecordDecoder::new(SchemaStore::new(), Format::Json(key), Format::Json(value)).unwrap();
        assert_eq!(
            d.schema().names(),
            [
                "KafkaPartition",
                "KafkaOffset",
                "KafkaTimestamp",
                "K",
                "Price",
                "Exchange"
            ]
        );
        let framed = b"\0\0\0\0\x09{\"Exchange\":\"kraken\",\"Price\":2.5}";
        let docs: [(&[u8], Option<&[u8]>); 5] = [
            (br#"{"K":1}"#, Some(br#"{"Price":1,"Exchange":"binance"}"#)),
            (br#"{"K":2}"#, Some(framed)),
            (br#"{"K":3}"#, None),
            (br#"{"K":4}"#, Some(br#"{"Price":"x"}"#)),
            (br#"{"K":"5"}"#, Some(br#"{"Price":1}"#)),
        ];
        let mut errors = Vec::new();
        for (i, (k, v)) in docs.iter().enumerate() {
            let r = Record {
                offset: 10 + i as i64,
                timestamp_ms: 0,
                key: Some(k),
                value: *v,
            };
            if let Err(e) = d.decode(2, &r) {
                errors.push(e.to_string());
            }
        }
        assert_eq!(d.rows(), 3);
        assert_eq!(
            row(&d, 0)[3..],
            [V::I64(1), V::F64(1.0), V::String("binance".into())]
        );
        assert_eq!(
            row(&d, 1)[3..],
            [V::I64(2), V::F64(2.5), V::String("kraken".into())]
        );
        assert_eq!(row(&d, 2)[3..], [V::I64(3), V::Null, V::Null]);
        assert_eq!(
            errors,
            [
                r#"partition 2 offset 13: JSON field "Price" holds a string, which does not fit its double column"#,
                r#"partition 2 offset 14: JSON field "K" holds a string, which does not fit its long column"#,
            ]
        );
        assert_eq!(
            d.stats(),
            DecodeStats {
                decoded: 3,
                skipped: 2
            }
        );
        assert!(d.columns().iter().all(|c| c.len() == 3), "no partial row");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        /// JSON records decoded as a batch (staged, then moved in bulk) give exactly what
        /// decoding them one by one gives: rows, errors and counts, with bad documents on
        /// either side, Kafka nulls, bad timestamps, and dictionaries that turn plain.
        #[test]
        fn json_batches_decode_as_their_records_one_by_one(
            picks in proptest::collection::vec((0u8..12, 0u8..12, proptest::prelude::any::<u16>()), 0..400),
            json_key in proptest::prelude::any::<bool>(),
            cuts in proptest::collection::vec(0usize..400, 0..3),
        ) {
            let doc = |pick: u8, n: u16| -> Option<Vec<u8>> {
                Some(match pick {
                    0 => return None,
                    1 => b"{\"S\":".to_vec(),
                    2 => br#"{"P":"x"}"#.to_vec(),
                    3 => format!(r#"{{"S":"wide-{n}","P":{n}.5}}"#).into_bytes(),
                    4 => format!("\0\0\0\0\x02{{\"S\":\"f{}\"}}", n % 3).into_bytes(),
                    5 => br#"{"S":"a","S":"b"}"#.to_vec(),
                    6 => br#"{"O":{"X":[1,2]},"S":null}"#.to_vec(),
                    _ => format!(r#"{{"P":{},"S":"s{}","O":{{"X":{}}}}}"#, n, n % 5, n % 7).into_bytes(),
                })
            };
            type Doc = Option<Vec<u8>>;
            let docs: Vec<(Doc, Doc, i64)> = picks
                .iter()
                .map(|&(k, v, n)| (doc(k, n), doc(v, n), if n % 97 == 0 { i64::MAX } else { 5 }))
                .collect();
            let records: Vec<Record> = docs
                .iter()
                .enumerate()
                .map(|(i, (k, v, ts))| Record {
                    offset: i as i64,
                    timestamp_ms: *ts,
                    key: k.as_deref(),
                    value: v.as_deref(),
                })
                .collect();
            let make = || {
                let value = JsonColumns::from_spec_text("P=double,S=string,O__X=string").unwrap();
                let key = if json_key {
                    Format::Json(JsonColumns::from_spec_text("KP=long,KS=string").unwrap())
                } else {
                    Format::Ignore
                };
                RecordDecoder::new(SchemaStore::new(), key, Format::Json(value)).unwrap()
            };
            let (mut one, mut batch) = (make(), make());
            let (mut one_rows, mut batch_rows) = (Vec::new(), Vec::new());
            let (mut one_errors, mut batch_errors) = (Vec::new(), Vec::new());
            let mut cuts = cuts;
            cuts.push(records.len());
            cuts.sort_unstable();
            let mut start = 0;
            for cut in cuts {
                let part = &records[start.min(cut).min(records.len())..cut.min(records.len())];
                start = cut;
                for r in part {
                    if let Err(e) = one.decode(1, r) {
                        one_errors.push(e.to_string());
                    }
                }
                batch.decode_records(1, part, |e| batch_errors.push(e.to_string()));
                proptest::prop_assert_eq!(batch.rows(), one.rows());
                proptest::prop_assert!(batch.columns().iter().all(|c| c.len() == batch.rows()));
                for (d, out) in [(&mut one, &mut one_rows), (&mut batch, &mut batch_rows)] {
                    let b = d.take_batch().unwrap();
                    out.extend((0..b.len()).map(|i| {
                        b.columns().iter().map(|c| c.get(i).unwrap()).collect::<Vec<_>>()
                    }));
                }
            }
            proptest::prop_assert_eq!(batch_errors, one_errors);
            proptest::prop_assert_eq!(batch.stats(), one.stats());
            proptest::prop_assert_eq!(batch_rows, one_rows);
        }
    }

    #[test]
    fn key_formats() {
        let store = SchemaStore::new();
        let mut d = RecordDecoder::new(store, Format::String, Format::Bytes).unwrap();
        assert_eq!(
            d.schema().names(),
            [
                "KafkaPartition",
                "KafkaOffset",
                "KafkaTimestamp",
                "Key",
                "Value"
            ]
        );
        let r = Record {
            offset: 1,
            timestamp_ms: -1,
            key: Some(b"k"),
            value: Some(&[0xff, 0]),
        };
        d.decode(0, &r).unwrap();
        assert_eq!(
            row(&d, 0)[2..],
            [V::Null, V::String("k".into()), V::Binary(vec![0xff, 0])]
        );
        let bad = Record {
            key: Some(&[0xff]),
            ..r
        };
        assert!(d.decode(0, &bad).is_err());
        assert_eq!(d.rows(), 1);
    }

    #[test]
    fn big_endian_numbers_as_kafkas_serializers_write_them() {
        for (key, value, ty, want) in [
            (
                Format::Long,
                (-5i64).to_be_bytes().to_vec(),
                ColumnType::I64,
                V::I64(-5),
            ),
            (
                Format::Int,
                70_000i32.to_be_bytes().to_vec(),
                ColumnType::I32,
                V::I32(70_000),
            ),
            (
                Format::Double,
                2.5f64.to_be_bytes().to_vec(),
                ColumnType::F64,
                V::F64(2.5),
            ),
        ] {
            let mut d =
                RecordDecoder::new(SchemaStore::new(), key.clone(), Format::Ignore).unwrap();
            assert_eq!(d.schema().fields()[3].ty, ty);
            let r = Record {
                offset: 1,
                timestamp_ms: 0,
                key: Some(&value),
                value: None,
            };
            d.decode(0, &r).unwrap();
            // A null key, then one of the wrong width: a null, then a per-record error.
            d.decode(0, &Record { key: None, ..r }).unwrap();
            let short = &value[1..];
            match d.decode(
                0,
                &Record {
                    key: Some(short),
                    ..r
                },
            ) {
                Err(Error::Decode {
                    reason: DecodeReason::WrongWidth { expected, got },
                    ..
                }) => assert_eq!((expected, got), (value.len(), value.len() - 1)),
                other => panic!("{key:?}: {other:?}"),
            }
            assert_eq!(d.rows(), 2);
            assert_eq!(row(&d, 0)[3], want);
            assert_eq!(row(&d, 1)[3], V::Null);
        }
    }
}
