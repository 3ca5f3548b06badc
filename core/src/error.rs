//! The crate's one error type. Every variant says what was wrong in words a user can act on.
//!
//! Avro decoding has two kinds of failure, kept apart as Materialize's `mz-avro` does: a schema
//! that cannot be parsed, mapped to columns or resolved against the reader ([`Error::Schema`]),
//! and one Kafka record whose bytes are wrong ([`Error::Decode`], with a [`DecodeReason`]). The
//! second is local to its record: the decoder skips and counts it and goes on.

use std::sync::Arc;

/// Everything that can go wrong inside streamglass-core.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A WebSocket message was empty: every message starts with the protocol version byte.
    #[error("empty protocol message")]
    EmptyMessage,
    /// The peer speaks another version of the protocol.
    #[error("protocol version {found} is not supported (this build speaks version {expected})")]
    UnsupportedVersion { found: u8, expected: u8 },
    /// The message body did not decode.
    #[error("malformed protocol message: {0}")]
    MalformedMessage(String),
    /// A message could not be encoded (only possible for absurd sizes).
    #[error("could not encode protocol message: {0}")]
    Encode(String),
    /// A table has no column of that name.
    #[error("no column named {name:?} (columns: {available})")]
    UnknownColumn { name: String, available: String },
    /// Two columns would share a name.
    #[error("column {0:?} appears twice")]
    DuplicateColumn(String),
    /// Rows that do not fit the table's schema.
    #[error("bad rows: {0}")]
    BadRow(String),
    /// An operation that cannot apply to these columns or this table.
    #[error("{0}")]
    Invalid(String),
    /// A formula that does not parse or does not type-check.
    #[error("formula error at position {position}: {message}")]
    Formula { position: usize, message: String },
    /// A seek spec that does not parse, or names a partition the topic lacks.
    #[error("seek: {0}")]
    Seek(String),
    /// A table whose update failed; it keeps the error and no longer changes.
    #[error("table failed: {0}")]
    Failed(String),
    /// An Avro schema that does not parse, does not map to columns, or cannot read another.
    #[error("Avro schema: {0}")]
    Schema(String),
    /// A Protobuf schema whose message is missing, not a Protobuf schema, or does not map to
    /// columns.
    #[error("Protobuf schema: {0}")]
    ProtobufSchema(String),
    /// A JSON column spec or JSON Schema that does not give columns.
    #[error("JSON columns: {0}")]
    JsonColumns(String),
    /// One Kafka record that could not be decoded. It was skipped; no partial row was kept.
    #[error("partition {partition} offset {offset}{}: {reason}", schema_id.map(|id| format!(" schema id {id}")).unwrap_or_default())]
    Decode {
        partition: i32,
        offset: i64,
        /// The schema id of the record's Confluent header, when it got that far.
        schema_id: Option<u32>,
        reason: DecodeReason,
    },
}

/// Why one record's key or value did not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeReason {
    #[error("magic byte {0}, expected 0 (Confluent wire format)")]
    WrongMagic(u8),
    #[error("{got} bytes, where the format takes {expected} (a big-endian number)")]
    WrongWidth { expected: usize, got: usize },
    #[error("{0} bytes, shorter than the 5-byte Confluent header")]
    ShortHeader(usize),
    #[error("the schema id is not in the schema store")]
    UnknownSchemaId,
    #[error("the writer schema could not be read: {0}")]
    UnreadableSchema(Arc<str>),
    #[error("the writer schema cannot be read as the reader schema: {0}")]
    Incompatible(Arc<str>),
    #[error("the body ends in the middle of a value")]
    Truncated,
    #[error("a varint runs past 10 bytes (or past 5 for an int) or overflows")]
    OverlongVarint,
    #[error("negative length {0}")]
    NegativeLength(i64),
    #[error("a length of {length} bytes runs past the {left} bytes left")]
    LengthPastEnd { length: i64, left: usize },
    #[error("union branch {index} out of range (the union has {branches})")]
    UnionIndex { index: i64, branches: usize },
    #[error("enum index {index} out of range (the enum has {symbols} symbols)")]
    EnumIndex { index: i64, symbols: usize },
    #[error("block count {0} is out of range")]
    BlockCount(i64),
    #[error("{0} trailing bytes after the value")]
    TrailingBytes(usize),
    #[error("a string is not valid UTF-8")]
    InvalidUtf8,
    #[error("a boolean byte is {0}, not 0 or 1")]
    InvalidBool(u8),
    #[error("enum symbol {0:?} is not in the reader schema, which has no default")]
    UnknownSymbol(Arc<str>),
    #[error("union branch {0} of the writer has no match in the reader schema")]
    UnmatchedBranch(usize),
    #[error("{0} is out of range")]
    OutOfRange(&'static str),
    #[error("values nest deeper than {0} levels")]
    TooDeep(usize),
    /// A JSON document that breaks JSON's grammar (or nests too deep), at a byte of the document.
    #[error("bad JSON at byte {at}: {what}")]
    BadJson { at: usize, what: &'static str },
    /// A JSON field whose value does not fit its column.
    #[error("JSON field {field:?} holds {found}, which does not fit its {expected} column")]
    JsonType {
        field: Arc<str>,
        found: &'static str,
        expected: &'static str,
    },
    /// A JSON object that repeats a member its columns read.
    #[error("JSON field {0:?} appears twice")]
    RepeatedField(Arc<str>),
    /// Protobuf bytes that break its wire format (a bad tag, a wire type the field cannot have).
    #[error("bad Protobuf: {0}")]
    BadProtobuf(&'static str),
    #[error("internal error: the decode plan does not fit its columns")]
    PlanMismatch,
}

/// The crate's result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;
