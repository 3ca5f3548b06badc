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

use serde::Serialize as _;
use streamglass_core::FeedSnapshot;
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

/// Converts a snapshot to a plain JS object: `Number`s rather than `BigInt`s, `null` for `None`.
pub(crate) fn snapshot_to_js(snapshot: &FeedSnapshot) -> Result<JsValue, JsError> {
    // `json_compatible` = missing values as `null`, maps as plain objects; large number types are
    // emitted as `Number` when they are safe integers and refused otherwise.
    const SERIALIZER: serde_wasm_bindgen::Serializer =
        serde_wasm_bindgen::Serializer::json_compatible();
    snapshot
        .serialize(&SERIALIZER)
        .map_err(|e| JsError::new(&format!("cannot convert the feed snapshot: {e}")))
}
