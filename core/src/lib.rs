//! streamglass-core: the engine that runs in the browser (compiled to wasm32) and natively.
//!
//! It is pure Rust and does no I/O: bytes go in, tables and numbers come out. It holds the
//! bridge ↔ browser wire [`protocol`], the per-partition bookkeeping of a [`feed`], typed
//! [`column`] storage, and [`table`]s: append, stream (blink) and ring sources, and the update
//! graph that keeps derived tables (`dropStream`, `aggBy`, `countBy`, `firstBy`, `lastBy`) live.

// No unsafe code in the engine (the crate's lint only denies it, for the benchmark examples' host).
#![forbid(unsafe_code)]
// The page's build (`cargo xtask site`, under RUSTC_BOOTSTRAP) sets `streamglass_site`: the
// decoders' hot loops are then optimised for speed inside its opt-level "z" (`optimize(speed)`,
// unstable). Every other build is stable Rust and never sees the attribute.
#![cfg_attr(streamglass_site, feature(optimize_attribute))]

pub mod avro;
pub mod column;
mod error;
mod exp;
pub mod export;
pub mod feed;
pub mod float_text;
pub mod formula;
pub mod json;
pub mod json_format;
mod ops;
pub mod plot;
pub mod protobuf;
pub mod protocol;
pub mod seek;
pub mod table;
pub mod text;
pub mod time;

pub use column::{ColumnType, Value};
pub use error::{DecodeReason, Error, Result};
pub use feed::{Feed, FeedSnapshot, FeedStatus, PartitionProgress};
pub use ops::format::{ROW_FORMAT, format_column, formatted_column};
pub use ops::{Agg, AggKind, AggOptions, JOIN_ROW_LIMIT};
pub use ops::{BadData, DeltaControl, OperationControl, UpdateBy, UpdateByKind, UpdateByWindow};
pub use table::{Batch, Engine, Schema, Table, TableStats, Update, Viewport, WeakTable};
