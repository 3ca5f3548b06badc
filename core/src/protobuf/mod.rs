//! Protobuf keys and values with a Confluent registry, decoded straight into table columns.
//!
//! The bridge compiles each registry schema (its `.proto` text and references) into a serialized
//! `FileDescriptorSet` (the schema's own file last) and sends it in the hello
//! ([`crate::protocol::SchemaInfo::descriptors`]). The core reads the few descriptor messages it
//! needs ([`descriptor`]), flattens the reader message into columns ([`columns`]), and compiles a
//! [`plan::Plan`] per (writer schema id, message index path) that reads a record's body with the
//! wire reader ([`wire`]) and writes its values into the side's stages ([`side`]); a plan of a
//! flat message reads records written in field order in one pass ([`flat`]).
//!
//! A record is Confluent-framed: byte 0 is 0, bytes 1..5 the schema id, then the message indexes
//! (a zigzag varint count then zigzag varints; a single 0 byte is `[0]`, the first message), then
//! the message. Each record is read with its own writer schema; the columns are the reader's (the
//! subject's newest version, or the schema named), and a writer field fills the column of its
//! name (a reader column the writer lacks is null; a writer field the reader lacks is skipped).
//!
//! The mapping:
//!
//! | Protobuf | column |
//! |---|---|
//! | `int32`, `sint32`, `sfixed32` | int |
//! | `int64`, `sint64`, `sfixed64`, `uint32`, `fixed32` | long |
//! | `uint64`, `fixed64` | long, the same 64 bits (a value past 2^63 − 1 reads negative, as in Java) |
//! | `double`, `float` | double |
//! | `bool`, `string`, `bytes` | bool, string, binary |
//! | an enum | string: the value's name (a number the enum lacks: the number as text) |
//! | a message field `a` with field `b` | column `a__b` (flattened, as Avro records) |
//! | `google.protobuf.Timestamp` | instant (timestamp) |
//! | `google.protobuf.DoubleValue`, `Int64Value`… (wrappers) | the wrapped scalar, null when absent |
//! | a repeated scalar or enum | an array column (`int[]`, `long[]`, `double[]`, `bool[]`, `String[]`) |
//! | repeated messages, maps, repeated `bytes`, groups, a recursive message type | no column (skipped) |
//! | a oneof | each member its own column, null unless it is the one set |
//!
//! Presence: a proto3 field with implicit presence reads as its default (0, "", false, the
//! enum's value 0) when absent and its message is present; a field with explicit presence
//! (proto2, proto3 `optional`, oneof members, messages and everything inside an absent message)
//! reads as null. An int of `i32::MIN` or a long of `i64::MIN` reads as null, as in Deephaven
//! (those are its nulls). Unknown fields are skipped. A record that breaks the wire format or does
//! not fit its schema is a per-record error ([`crate::DecodeReason`]) and adds nothing.

pub mod columns;
pub mod descriptor;
pub mod flat;
pub mod plan;
pub mod side;
pub mod wire;

pub use descriptor::Descriptors;
pub use side::{MessageChoice, ProtoSide};

use crate::avro::ReaderSchema;

/// A Protobuf side's reader: the schema (by subject or id) and the message whose fields are
/// the columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtoSpec {
    pub schema: ReaderSchema,
    pub message: MessageChoice,
}

#[cfg(test)]
mod flat_tests;
#[cfg(test)]
mod tests;
