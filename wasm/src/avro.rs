//! [`AvroTable`]: the core's Avro decoder behind wasm-bindgen, fed with protocol frames.
//!
//! The hello's schemas fill a [`SchemaStore`]; the value reader schema is the subject given to
//! the constructor (or the subject of the newest schema the hello carries). Records frames are
//! decoded into columns (`KafkaPartition`, `KafkaOffset`, `KafkaTimestamp`, then the value's);
//! a record that does not decode is skipped and its error kept (the last 100). Rows read back as
//! plain objects; 64-bit integers, timestamps and times come as `BigInt`s, binary as `Uint8Array`.

use js_sys::{BigInt, Object, Reflect, Uint8Array};
use streamglass_core::avro::{self, Format, ReaderSchema, RecordDecoder, SchemaStore};
use streamglass_core::protocol::{self, ServerMessage};
use streamglass_core::{Batch, Value};
use wasm_bindgen::prelude::*;

/// Errors kept at most.
const MAX_ERRORS: usize = 100;

/// Decodes record values of protocol frames into table rows.
#[wasm_bindgen]
pub struct AvroTable {
    subject: Option<String>,
    decoder: Option<RecordDecoder>,
    /// Rows taken out of the decoder, batch by batch.
    batches: Vec<Batch>,
    errors: Vec<String>,
    skipped: u64,
}

#[wasm_bindgen]
impl AvroTable {
    /// A table whose values are read with `subject`'s latest schema (or the newest schema's
    /// subject when `undefined`).
    #[wasm_bindgen(constructor)]
    pub fn new(subject: Option<String>) -> AvroTable {
        AvroTable {
            subject,
            decoder: None,
            batches: Vec::new(),
            errors: Vec::new(),
            skipped: 0,
        }
    }

    /// Applies one protocol frame. Throws on a frame that does not decode, or a hello with no
    /// readable schema of a subject; a bad record (one written with an unreadable schema too)
    /// only adds to `errors()`.
    #[wasm_bindgen(js_name = applyFrame)]
    pub fn apply_frame(&mut self, frame: &[u8]) -> Result<(), JsError> {
        match protocol::decode(frame).map_err(|e| JsError::new(&e.to_string()))? {
            ServerMessage::Hello(hello) => {
                let store =
                    SchemaStore::from_hello(&hello).map_err(|e| JsError::new(&e.to_string()))?;
                let subject = self
                    .subject
                    .clone()
                    .or_else(|| store.newest_subject().map(str::to_owned))
                    .ok_or_else(|| JsError::new("the hello carries no schema with a subject"))?;
                let value = Format::Avro(ReaderSchema::Latest(subject));
                let decoder = RecordDecoder::new(store, Format::Ignore, value)
                    .map_err(|e| JsError::new(&e.to_string()))?;
                self.decoder = Some(decoder);
            }
            ServerMessage::Records(batch) => {
                let decoder = self
                    .decoder
                    .as_mut()
                    .ok_or_else(|| JsError::new("records before the hello"))?;
                let (errors, skipped) = (&mut self.errors, &mut self.skipped);
                avro::decode_batch(decoder, &batch, &mut |e| {
                    *skipped += 1;
                    if errors.len() == MAX_ERRORS {
                        errors.remove(0);
                    }
                    errors.push(e.to_string());
                });
                let taken = decoder
                    .take_batch()
                    .map_err(|e| JsError::new(&e.to_string()))?;
                self.batches.push(taken);
            }
            ServerMessage::Compressed {
                subscription,
                frame,
            } => {
                // A Records frame inside (`inflate` sees to it): applied once, never recursing.
                let mut inflated = Vec::new();
                protocol::inflate(
                    subscription,
                    frame,
                    protocol::MAX_INFLATED_FRAME,
                    &mut inflated,
                )
                .map_err(|e| JsError::new(&e.to_string()))?;
                self.apply_frame(&inflated)?;
            }
            ServerMessage::CaughtUp { .. }
            | ServerMessage::Error { .. }
            | ServerMessage::End { .. }
            | ServerMessage::Exhausted { .. } => {}
        }
        Ok(())
    }

    /// Column names, in order.
    #[wasm_bindgen(js_name = columnNames)]
    pub fn column_names(&self) -> Vec<String> {
        self.decoder.as_ref().map_or_else(Vec::new, |d| {
            d.schema().names().into_iter().map(str::to_owned).collect()
        })
    }

    /// Rows decoded so far.
    pub fn rows(&self) -> usize {
        self.batches.iter().map(Batch::len).sum()
    }

    /// Records skipped because they did not decode.
    pub fn skipped(&self) -> f64 {
        self.skipped as f64
    }

    /// The last errors, oldest first.
    pub fn errors(&self) -> Vec<String> {
        self.errors.clone()
    }

    /// Row `index` as a plain object keyed by column name, or `undefined` past the end.
    pub fn row(&self, mut index: usize) -> Result<JsValue, JsError> {
        for batch in &self.batches {
            if index < batch.len() {
                let object = Object::new();
                for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
                    let value = column.get(index).map_or(JsValue::NULL, to_js);
                    Reflect::set(&object, &JsValue::from_str(&field.name), &value)
                        .map_err(|_| JsError::new("cannot set a property"))?;
                }
                return Ok(object.into());
            }
            index -= batch.len();
        }
        Ok(JsValue::UNDEFINED)
    }
}

fn to_js(value: Value) -> JsValue {
    match value {
        Value::Null => JsValue::NULL,
        Value::Bool(v) => JsValue::from_bool(v),
        Value::I32(v) | Value::Date(v) => JsValue::from_f64(f64::from(v)),
        Value::I64(v) | Value::Timestamp(v) | Value::Time(v) => BigInt::from(v).into(),
        Value::F64(v) => JsValue::from_f64(v),
        Value::String(v) => JsValue::from_str(&v),
        Value::Binary(v) => Uint8Array::from(v.as_slice()).into(),
        Value::Array(v) => v.into_iter().map(to_js).collect::<js_sys::Array>().into(),
    }
}
