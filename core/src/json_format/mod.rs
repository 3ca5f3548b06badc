//! JSON keys and values (Deephaven's `jsonSpec`), decoded straight into table columns.
//!
//! A JSON side's columns are a [`JsonColumns`]: each column's name, the path of object members
//! it reads, and its [`JsonType`]. They come from one of three places:
//!
//! - a column spec the user gives, with Deephaven's type names ([`JsonColumns::from_spec`]);
//! - inference from the first documents ([`infer::Inference`]);
//! - a JSON Schema from the registry ([`json_schema::columns`]).
//!
//! The mapping, the same whichever the source:
//!
//! | JSON | column |
//! |---|---|
//! | a member `a` of the top object | column `a` |
//! | a member `b` of the object in member `a` | column `a__b` (nested objects flatten as Avro records do) |
//! | an array, or an object where the columns take no members of it | in a `string` column: its compact JSON text (as Avro arrays and maps) |
//! | a number or `true`/`false` in a `string` column | its JSON text (as Jackson's `asText`) |
//! | `null`, or a member the document lacks | null |
//! | a member no column reads | skipped (checked for JSON's grammar, not kept) |
//!
//! A Confluent-framed document (byte 0 is 0x00, then a 4-byte schema id) is unframed first: JSON
//! text never starts with a NUL byte. A Kafka null (a tombstone) gives nulls in every column.
//!
//! [`JsonPlan`] is compiled once per column set: a trie of member names per object level. A
//! document is read once, left to right ([`scan`]), with no value tree; each value goes straight
//! into its column's stage. A plan whose columns are all members of the top object reads it first
//! in a one-pass form ([`flat`]: members matched on their raw bytes in the producer's order, the
//! position a local), and falls back to the general path for anything unusual.
//!
//! Invariant: a document either adds one value to each of its columns, or fails with a
//! [`crate::DecodeReason`] (bad JSON, a value that does not fit its column, a repeated member);
//! the caller ([`crate::avro::RecordDecoder`]) then truncates the columns back, so nothing of a
//! failed record is kept.

mod flat;
pub mod infer;
pub mod instant;
pub mod json_schema;
pub mod plan;
pub mod scan;
pub mod spec;
pub mod stage;

pub use infer::Inference;
pub use plan::JsonPlan;
pub use spec::{JsonColumn, JsonColumns, JsonType};

/// The document of a JSON key or value: the bytes after a Confluent header when there is one.
#[inline(always)]
pub fn unframe(bytes: &[u8]) -> &[u8] {
    match bytes {
        [0, _, _, _, _, body @ ..] => body,
        other => other,
    }
}
