//! The bridge's one error type. Messages name the file, broker, topic or partition involved, so
//! that the one line printed on failure is enough to act on.

use std::path::PathBuf;

/// Everything that can go wrong in the bridge.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot open recording {path}: {source}")]
    OpenRecording {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a Streamglass recording: {reason}")]
    NotARecording { path: PathBuf, reason: String },
    #[error("recording {path} is corrupt after {records} records: {reason}")]
    CorruptRecording {
        path: PathBuf,
        records: u64,
        reason: String,
    },
    #[error("recording {path} disagrees with its header: {reason}")]
    RecordingMismatch { path: PathBuf, reason: String },
    #[error("cannot write recording {path}: {reason}")]
    WriteRecording { path: PathBuf, reason: String },
    #[error("cannot reach Kafka broker {broker} within {seconds} s: {reason}")]
    BrokerUnreachable {
        broker: String,
        seconds: u64,
        reason: String,
    },
    #[error("Kafka broker {broker} refused the SASL {mechanism} login: {reason}")]
    BrokerLogin {
        broker: String,
        mechanism: String,
        reason: String,
    },
    #[error(
        "TLS to Kafka broker {broker} failed (is --tls-ca the CA that signed its certificate?): {reason}"
    )]
    BrokerTls { broker: String, reason: String },
    #[error("topic {topic:?} does not exist on {broker} (topics there: {available})")]
    UnknownTopic {
        topic: String,
        broker: String,
        available: String,
    },
    #[error("Kafka {operation} on {topic}/{partition} failed: {reason}")]
    Kafka {
        operation: &'static str,
        topic: String,
        partition: i32,
        reason: String,
    },
    #[error("Kafka {operation} on {topic}/{partition} timed out after {seconds} s")]
    KafkaTimeout {
        operation: &'static str,
        topic: String,
        partition: i32,
        seconds: u64,
    },
    #[error(
        "offset {offset} is out of range for {topic}/{partition} (offsets {low}..{high} are stored)"
    )]
    OffsetOutOfRange {
        topic: String,
        partition: i32,
        offset: i64,
        low: i64,
        high: i64,
    },
    #[error("partition {partition} of {topic} does not exist (partitions: {available})")]
    UnknownPartition {
        topic: String,
        partition: i32,
        available: String,
    },
    #[error("topic {topic:?} is not served by this bridge (topics: {served})")]
    TopicNotServed { topic: String, served: String },
    #[error("subscription {subscription}: {reason}")]
    Subscription { subscription: u32, reason: String },
    #[error("schema registry {url}: {reason}")]
    Registry { url: String, reason: String },
    #[error("TLS: {0}")]
    Tls(String),
    #[error("schema {path}: {reason}")]
    Schema { path: PathBuf, reason: String },
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: String,
        source: std::io::Error,
    },
    #[error("static files directory {0} does not exist")]
    MissingWww(PathBuf),
    #[error("static files directory {0} is not a directory")]
    WwwNotADirectory(PathBuf),
    #[error("{0} before recording began: nothing written")]
    Interrupted(String),
    #[error("--live-from {point:?}: {reason}")]
    LivePoint { point: String, reason: String },
    #[error("describing the topics of {offered} took longer than {seconds} s")]
    TopicsTimeout { offered: String, seconds: u64 },
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// One failure handed to every caller that shared the attempt ([`crate::refreshed`]).
    #[error(transparent)]
    Shared(std::sync::Arc<Error>),
    #[error(transparent)]
    Protocol(#[from] streamglass_core::Error),
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

impl Error {
    /// This error as the core's, for code that reports through the core's type.
    pub fn into_core(self) -> streamglass_core::Error {
        match self {
            Self::Protocol(e) => e,
            other => streamglass_core::Error::Schema(other.to_string()),
        }
    }
}

/// The crate's result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;
