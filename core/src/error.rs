//! The crate's one error type. Every variant says what was wrong in words a user can act on.

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
}

/// The crate's result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;
