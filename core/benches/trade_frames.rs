//! The Avro bench's workload: 1M Deephaven `Trade` values in the Confluent wire format (schema id
//! 1), encoded by apache-avro, with the schema of `replay-bridge/src/trades.rs`. Shared by the
//! criterion bench (`avro_decode.rs`) and the wasm32 example (`examples/avro_bench.rs`).

use apache_avro::types::Value as Avro;

#[path = "trade_source.rs"]
mod trade_source;

pub use trade_source::records;
use trade_source::{TYPES, trades};

/// The schema the bridge generates trades with (a file of its source, read here so the two never
/// drift apart: the core cannot depend on the bridge).
pub const TRADE_SCHEMA: &str = include_str!("../../replay-bridge/src/trade.avsc");

pub const SUBJECT: &str = "io.deephaven.crypto.kafka.TradesTopic-io.deephaven.crypto.Trade";
pub const FRAMES: usize = 1_000_000;

/// `count` framed trades (`trade_source.rs`'s).
pub fn frames(count: usize) -> Vec<Vec<u8>> {
    let schema = apache_avro::Schema::parse_str(TRADE_SCHEMA).expect("schema");
    trades(count)
        .map(|t| {
            let value = Avro::Record(vec![
                (
                    "Id".into(),
                    Avro::Union(1, Box::new(Avro::String(t.id.to_string()))),
                ),
                (
                    "Timestamp".into(),
                    Avro::Union(1, Box::new(Avro::TimestampMicros(t.micros))),
                ),
                ("Exchange".into(), Avro::String(t.exchange.into())),
                ("Instrument".into(), Avro::String(t.instrument.into())),
                (
                    "Type".into(),
                    Avro::Enum(t.type_index as u32, TYPES[t.type_index].into()),
                ),
                ("Price".into(), Avro::Double(t.price)),
                ("Size".into(), Avro::Double(t.size)),
            ]);
            let mut framed = vec![0, 0, 0, 0, 1];
            framed.extend(apache_avro::to_avro_datum(&schema, value).expect("encode"));
            framed
        })
        .collect()
}

/// A decoder of the Trade values (keys ignored), as a feed builds one.
pub fn decoder() -> streamglass_core::avro::RecordDecoder {
    use streamglass_core::avro::{Format, ReaderSchema, RecordDecoder, SchemaStore};
    let mut store = SchemaStore::new();
    store
        .add(1, Some(SUBJECT), Some(1), TRADE_SCHEMA)
        .expect("schema");
    RecordDecoder::new(
        store,
        Format::Ignore,
        Format::Avro(ReaderSchema::Latest(SUBJECT.into())),
    )
    .expect("decoder")
}
