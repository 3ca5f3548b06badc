//! streamglass-wasm: the browser side of Streamglass, a thin wasm-bindgen layer over
//! [`streamglass_core`].
//!
//! It exports two classes to JavaScript:
//!
//! - [`Feed`] — the core's per-partition bookkeeping with no I/O: WebSocket frames go in
//!   (`applyFrame`), a plain-object snapshot comes out (`snapshot`). Used by tests, and by any page
//!   that brings its own socket.
//! - [`FeedClient`] — opens a WebSocket to the bridge (`FeedClient.connect(url)`) and applies
//!   every binary message to its own feed as it arrives, so the page only has to poll `snapshot()`
//!   (typically once per animation frame). It lives in the `socket` module.
//!
//! - [`AvroTable`] — protocol frames in, decoded rows out: the hello's schemas fill a schema
//!   store, and record values (Confluent-framed Avro) are decoded by the core into table columns.
//!   A minimal entry point; the engine's full JS API comes later.
//! - [`Session`], [`Table`], [`Agg`] and [`SortColumn`] — the engine's table API with Deephaven's names (see the
//!   `api` module): build source tables, derive live tables, read viewports and watch updates.
//!
//! A snapshot is the core's [`FeedSnapshot`] as a plain JavaScript object with camelCase keys:
//! counts and offsets are ordinary `Number`s (never `BigInt`), and absent values (no topic yet, no
//! last offset) are `null`, so it can be handed to `JSON.stringify` as is.

mod api;
mod avro;
mod heap;
mod socket;
mod text;
#[cfg(not(feature = "tzdb"))]
mod time;

use streamglass_core::{FeedSnapshot, FeedStatus};
use wasm_bindgen::prelude::*;

pub use api::{Agg, ColumnHandle, Session, SortColumn, Table, UpdateBy};
pub use avro::AvroTable;
pub use socket::FeedClient;

/// One connection's worth of bookkeeping, fed frame by frame from JavaScript.
#[wasm_bindgen]
pub struct Feed {
    inner: streamglass_core::Feed,
}

impl Default for Feed {
    fn default() -> Self {
        Self::new()
    }
}

#[wasm_bindgen]
impl Feed {
    /// A feed that has received nothing: status `connecting`.
    #[wasm_bindgen(constructor)]
    pub fn new() -> Feed {
        Feed {
            inner: streamglass_core::Feed::new(),
        }
    }

    /// Applies one binary WebSocket message. A frame that does not decode becomes an entry in
    /// the snapshot's `errors` (and status `failed`); it never throws.
    #[wasm_bindgen(js_name = applyFrame)]
    pub fn apply_frame(&mut self, frame: &[u8]) {
        self.inner.apply_frame(frame);
    }

    /// The current state as a plain object (see the crate docs for its shape).
    ///
    /// Throws only if a number does not fit a JavaScript number exactly (beyond 2^53).
    pub fn snapshot(&self) -> Result<JsValue, JsError> {
        snapshot_to_js(&self.inner.snapshot())
    }

    /// Marks the feed closed, recording `reason` as an error when given.
    pub fn close(&mut self, reason: Option<String>) {
        self.inner.close(reason);
    }
}

/// Converts a snapshot to a plain JS object: `Number`s rather than `BigInt`s, `null` for `None`,
/// the status as its camelCase name (the shape `serde_wasm_bindgen`'s JSON-compatible serializer
/// gave, written by hand: 3 KB less served gzip).
pub(crate) fn snapshot_to_js(snapshot: &FeedSnapshot) -> Result<JsValue, JsError> {
    let object = js_sys::Object::new();
    let status = match snapshot.status {
        FeedStatus::Connecting => "connecting",
        FeedStatus::Streaming => "streaming",
        FeedStatus::CaughtUp => "caughtUp",
        FeedStatus::Failed => "failed",
        FeedStatus::Closed => "closed",
    };
    set(&object, "status", status.into());
    set(&object, "topic", optional_string(&snapshot.topic));
    set(&object, "source", optional_string(&snapshot.source));
    let partitions = js_sys::Array::new();
    for p in &snapshot.partitions {
        let part = js_sys::Object::new();
        set(&part, "partition", p.partition.into());
        set(&part, "records", safe_number(p.records as f64)?);
        set(&part, "bytes", safe_number(p.bytes as f64)?);
        let last = match p.last_offset {
            Some(offset) => safe_number(offset as f64)?,
            None => JsValue::NULL,
        };
        set(&part, "lastOffset", last);
        set(
            &part,
            "highWatermark",
            safe_number(p.high_watermark as f64)?,
        );
        set(&part, "caughtUp", p.caught_up.into());
        partitions.push(&part);
    }
    set(&object, "partitions", partitions.into());
    set(
        &object,
        "totalRecords",
        safe_number(snapshot.total_records as f64)?,
    );
    set(
        &object,
        "totalBytes",
        safe_number(snapshot.total_bytes as f64)?,
    );
    set(&object, "messages", safe_number(snapshot.messages as f64)?);
    let errors: js_sys::Array = snapshot
        .errors
        .iter()
        .map(|e| JsValue::from_str(e))
        .collect();
    set(&object, "errors", errors.into());
    Ok(object.into())
}

fn set(object: &js_sys::Object, key: &str, value: JsValue) {
    let _ = js_sys::Reflect::set(object, &key.into(), &value);
}

fn optional_string(value: &Option<String>) -> JsValue {
    value.as_deref().map_or(JsValue::NULL, JsValue::from_str)
}

/// A count or offset (converted with `as f64`) as a `Number`; an error beyond 2^53 - 1, where a
/// `Number` is no longer exact (2^53 + 1 rounds to 2^53, which is refused as well).
fn safe_number(value: f64) -> Result<JsValue, JsError> {
    const MAX_SAFE: f64 = 9_007_199_254_740_991.0;
    if value.abs() <= MAX_SAFE {
        Ok(JsValue::from_f64(value))
    } else {
        Err(JsError::new(
            "cannot convert the feed snapshot: a number is beyond 2^53",
        ))
    }
}
