//! Avro in the Confluent wire format, decoded straight into table columns.
//!
//! - [`SchemaStore`]: schemas by registry id and by subject and version, parsed once
//!   by [`schema`] (canonical form, Rabin fingerprint).
//! - [`DecodePlan`]: a flat program compiled once per (writer schema, reader schema) pair, which
//!   resolves schema evolution by Avro's rules and appends each value to its column.
//! - [`RecordDecoder`]: Kafka records into Deephaven's columns (`KafkaPartition`, `KafkaOffset`,
//!   `KafkaTimestamp`, then the key's and the value's), per the key and value [`Format`]s, with
//!   per-record errors that skip the record and leave no partial row. Batches
//!   ([`RecordDecoder::decode_records`]) run through the plan's lanes: each column's growing chunk
//!   checked out for the batch, so a value is a `Vec` push.
//!
//! The column mapping is documented in [`mapping`]. Below the plan sit [`cursor`] (checked
//! primitive reads) and [`vlq`] (varints), and [`shape`] (skipping and JSON for data that does not
//! get typed columns). Nothing here does I/O, and it builds for wasm32.

pub mod cursor;
pub mod decoder;
pub mod mapping;
pub mod plan;
pub mod schema;
pub mod schema_store;
pub mod shape;
pub mod vlq;

pub use decoder::{
    DecodeStats, Format, OFFSET_COLUMN, PARTITION_COLUMN, ReaderSchema, RecordDecoder,
    TIMESTAMP_COLUMN,
};
pub use plan::DecodePlan;
pub use schema_store::{SchemaStore, StoredSchema};

/// [`RecordDecoder::decode_batch`], compiled once in this crate. A generic call from another
/// crate would compile the per-record loop there, at that crate's optimisation level: the wasm
/// package is built for size (`opt-level = "z"`), the core for speed.
#[inline(never)]
pub fn decode_batch(
    decoder: &mut RecordDecoder,
    batch: &crate::protocol::RecordBatch<'_>,
    on_error: &mut dyn FnMut(crate::Error),
) -> usize {
    decoder.decode_batch(batch, on_error)
}
