//! The JSON bench's workload: 1M Deephaven trades as flat JSON objects with the demo's fields
//! (`replay-bridge/src/trade.avsc`: Id, Timestamp, Exchange, Instrument, Type, Price, Size), as
//! a JSON producer writes them: the timestamp as ISO-8601 text with microseconds (Java's
//! `Instant.toString()`), doubles in their shortest form. About 160 bytes a record. Shared by
//! the criterion bench (`json_decode.rs`) and the wasm32 example (`examples/json_bench.rs`).

use streamglass_core::column::Column;
use streamglass_core::json_format::JsonColumns;

pub const DOCS: usize = 1_000_000;

/// The columns, as a user's spec gives them.
pub const SPEC: &str = "Id=String,Timestamp=Instant,Exchange=String,Instrument=String,Type=String,Price=double,Size=double";

const EXCHANGES: &[&str] = &[
    "binance",
    "coinbase-pro",
    "okex",
    "bitfinex",
    "kraken",
    "bitstamp",
    "gemini",
    "bitflyer",
    "poloniex",
    "okcoin",
    "lgo",
];
const INSTRUMENTS: &[&str] = &[
    "BTC/USD",
    "BTC/USDT",
    "ETH/USD",
    "ETH/USDT",
    "ETH/BTC",
    "LTC/USD",
    "LTC/USDT",
    "XRP/USD",
    "XRP/USDT",
    "SOL/USD",
    "SOL/USDT",
    "DOGE/USD",
    "DOGE/USDT",
    "ADA/USD",
    "ADA/USDT",
];
const TYPES: &[&str] = &["BID", "ASK", "EXIT_ASK", "EXIT_BID"];

/// `count` JSON trades: unique ids, rising timestamps, skewed exchanges and instruments (the
/// Avro bench's generator).
pub fn documents(count: usize) -> Vec<Vec<u8>> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    };
    let mut micros = 1_767_623_400_000_000i64;
    (0..count)
        .map(|i| {
            let r = next();
            micros += 1 + (r % 5_000) as i64;
            let skew = |n: usize, bits: u64| {
                let x = bits % 1_000;
                (x * x * n as u64 / 1_000_000) as usize
            };
            let t = (r >> 20) as usize % 100;
            let mut ts = String::new();
            streamglass_core::time::calendar::format_instant(micros * 1_000, &mut ts);
            format!(
                r#"{{"Id":"{}","Timestamp":"{ts}","Exchange":"{}","Instrument":"{}","Type":"{}","Price":{},"Size":{}}}"#,
                300_000_000 + i * 3,
                EXCHANGES[skew(EXCHANGES.len(), r >> 8)],
                INSTRUMENTS[(r >> 32) as usize % INSTRUMENTS.len()],
                TYPES[t % 4],
                60_000.0 + (r % 100_000) as f64 / 100.0,
                (r >> 40) as f64 / 1e6,
            )
            .into_bytes()
        })
        .collect()
}

/// The documents as Kafka records of one partition.
pub fn records(docs: &[Vec<u8>]) -> Vec<streamglass_core::protocol::Record<'_>> {
    docs.iter()
        .enumerate()
        .map(|(i, d)| streamglass_core::protocol::Record {
            offset: i as i64,
            timestamp_ms: 1_767_623_400_000 + i as i64,
            key: None,
            value: Some(d),
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
