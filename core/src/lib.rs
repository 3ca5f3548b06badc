//! streamglass-core: the engine that runs in the browser (compiled to wasm32) and natively.
//!
//! It is pure Rust and does no I/O: bytes go in, tables and numbers come out. Today it holds the
//! bridge ↔ browser wire [`protocol`] and the per-partition bookkeeping of a [`feed`]; the columnar
//! tables, the Avro decoder and the operators build on these.

pub mod column;
mod error;
pub mod feed;
pub mod protocol;

pub use error::{Error, Result};
pub use feed::{Feed, FeedSnapshot, FeedStatus, PartitionProgress};
