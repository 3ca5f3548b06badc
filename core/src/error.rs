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
}

/// The crate's result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;
