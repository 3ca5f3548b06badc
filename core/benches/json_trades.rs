//! The JSON bench's workload: 1M Deephaven trades as flat JSON objects with the demo's fields
//! (`replay-bridge/src/trade.avsc`: Id, Timestamp, Exchange, Instrument, Type, Price, Size), as
//! a JSON producer writes them: the timestamp as ISO-8601 text with microseconds (Java's
//! `Instant.toString()`), doubles in their shortest form. About 160 bytes a record. Shared by
//! the criterion bench (`json_decode.rs`) and the wasm32 example (`examples/json_bench.rs`).

use streamglass_core::column::Column;
use streamglass_core::json_format::JsonColumns;

#[path = "trade_source.rs"]
mod trade_source;

pub use trade_source::records;
use trade_source::{TYPES, trades};

pub const DOCS: usize = 1_000_000;

/// The columns, as a user's spec gives them.
pub const SPEC: &str = "Id=String,Timestamp=Instant,Exchange=String,Instrument=String,Type=String,Price=double,Size=double";

/// `count` JSON trades (`trade_source.rs`'s).
pub fn documents(count: usize) -> Vec<Vec<u8>> {
    documents_with(count, "")
}

/// `count` JSON trades with `extra` (members no column reads, each with its leading comma, as
/// `,"Venue":"x"`) before the price.
pub fn documents_with(count: usize, extra: &str) -> Vec<Vec<u8>> {
    trades(count)
        .map(|t| {
            let mut ts = String::new();
            streamglass_core::time::calendar::format_instant(t.micros * 1_000, &mut ts);
            format!(
                r#"{{"Id":"{}","Timestamp":"{ts}","Exchange":"{}","Instrument":"{}","Type":"{}"{extra},"Price":{},"Size":{}}}"#,
                t.id, t.exchange, t.instrument, TYPES[t.type_index], t.price, t.size,
            )
            .into_bytes()
        })
        .collect()
}

/// A decoder of the trades' values (keys ignored), with the spec's columns.
pub fn decoder() -> streamglass_core::avro::RecordDecoder {
    use streamglass_core::avro::{Format, RecordDecoder, SchemaStore};
    let columns = JsonColumns::from_spec_text(SPEC).expect("spec");
    RecordDecoder::new(SchemaStore::new(), Format::Ignore, Format::Json(columns)).expect("decoder")
}

/// The anchor: serde_json parses each document to a `Value`, whose fields are then pushed into
/// the same columns (the metadata columns and the value's), with the same instant parser.
pub fn serde_value_path(records: &[streamglass_core::protocol::Record<'_>], cols: &mut [Column]) {
    use serde_json::Value;
    for r in records {
        let Some(bytes) = r.value else { continue };
        let v: Value = serde_json::from_slice(bytes).expect("parses");
        let [
            Column::I32(p),
            Column::I64(o),
            Column::Timestamp(kt),
            Column::String(id),
            Column::Timestamp(ts),
            Column::String(ex),
            Column::String(ins),
            Column::String(ty),
            Column::F64(price),
            Column::F64(size),
        ] = cols
        else {
            panic!("columns")
        };
        p.push(0);
        o.push(r.offset);
        kt.push(r.timestamp_ms * 1_000_000);
        id.push(v["Id"].as_str());
        ts.push(
            v["Timestamp"]
                .as_str()
                .and_then(streamglass_core::json_format::instant::from_text)
                .unwrap_or(i64::MIN),
        );
        ex.push(v["Exchange"].as_str());
        ins.push(v["Instrument"].as_str());
        ty.push(v["Type"].as_str());
        price.push(v["Price"].as_f64().unwrap_or(f64::NAN));
        size.push(v["Size"].as_f64().unwrap_or(f64::NAN));
    }
}
