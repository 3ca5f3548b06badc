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
//! to every column, or the columns are truncated back to where the record started.

use std::sync::Arc;

use super::mapping;
use super::plan::DecodePlan;
use super::schema_store::{SchemaStore, StoredSchema};
use super::shape::Names;
use crate::column::{Column, ColumnType, NULL_I64};
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
}

impl Side {
    fn new(
        format: Format,
        store: &SchemaStore,
        name: &str,
        base: usize,
        fields: &mut Vec<Field>,
    ) -> Result<Self> {
        let reader = match &format {
            Format::Ignore => None,
            Format::String => {
                fields.push(Field::new(name, ColumnType::String));
                None
            }
            Format::Bytes => {
                fields.push(Field::new(name, ColumnType::Binary));
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
                let writer = store.get(id).ok_or(DecodeReason::UnknownSchemaId)?;
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
}

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
        })
    }

    /// The columns' names and types.
    pub fn schema(&self) -> &Schema {
        &self.schema
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
    pub fn decode_batch(
        &mut self,
        batch: &RecordBatch<'_>,
        mut on_error: impl FnMut(Error),
    ) -> usize {
        let before = self.rows;
        for record in &batch.records {
            if let Err(e) = self.decode(batch.partition, record) {
                on_error(e);
            }
        }
        self.rows - before
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
        let timestamp = match record.timestamp_ms {
            // Kafka's "no timestamp".
            t if t < 0 => NULL_I64,
            t => t
                .checked_mul(1_000_000)
                .ok_or((None, DecodeReason::OutOfRange("the Kafka timestamp")))?,
        };
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
}
