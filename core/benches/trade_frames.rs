//! The Avro bench's workload: 1M Deephaven `Trade` values in the Confluent wire format (schema id
//! 1), encoded by apache-avro, with the schema of `replay-bridge/src/trades.rs`. Shared by the
//! criterion bench (`avro_decode.rs`) and the wasm32 example (`examples/avro_bench.rs`).

use apache_avro::types::Value as Avro;

/// The schema the bridge generates trades with (a file of its source, read here so the two never
/// drift apart: the core cannot depend on the bridge).
pub const TRADE_SCHEMA: &str = include_str!("../../replay-bridge/src/trade.avsc");

pub const SUBJECT: &str = "io.deephaven.crypto.kafka.TradesTopic-io.deephaven.crypto.Trade";
pub const FRAMES: usize = 1_000_000;

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

/// `count` framed trades: unique ids, rising timestamps, skewed exchanges and instruments.
pub fn frames(count: usize) -> Vec<Vec<u8>> {
    let schema = apache_avro::Schema::parse_str(TRADE_SCHEMA).expect("schema");
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        // xorshift64*: deterministic and dependency-free.
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
            // Squaring skews towards the first names, as real volumes are.
            let skew = |n: usize, bits: u64| {
                let x = bits % 1_000;
                (x * x * n as u64 / 1_000_000) as usize
            };
            let t = (r >> 20) as usize % 100;
            let value = Avro::Record(vec![
                (
                    "Id".into(),
                    Avro::Union(
                        1,
                        Box::new(Avro::String(format!("{}", 300_000_000 + i * 3))),
                    ),
                ),
                (
                    "Timestamp".into(),
                    Avro::Union(1, Box::new(Avro::TimestampMicros(micros))),
                ),
                (
                    "Exchange".into(),
                    Avro::String(EXCHANGES[skew(EXCHANGES.len(), r >> 8)].into()),
                ),
                (
                    "Instrument".into(),
                    Avro::String(INSTRUMENTS[(r >> 32) as usize % INSTRUMENTS.len()].into()),
                ),
                (
                    "Type".into(),
                    Avro::Enum((t % 4) as u32, TYPES[t % 4].into()),
                ),
                (
                    "Price".into(),
                    Avro::Double(60_000.0 + (r % 100_000) as f64 / 100.0),
                ),
                ("Size".into(), Avro::Double((r >> 40) as f64 / 1e6)),
            ]);
            let mut framed = vec![0, 0, 0, 0, 1];
            framed.extend(apache_avro::to_avro_datum(&schema, value).expect("encode"));
            framed
        })
        .collect()
}

/// The frames as Kafka records of one partition (offsets from 0, a millisecond apart).
pub fn records(frames: &[Vec<u8>]) -> Vec<streamglass_core::protocol::Record<'_>> {
    frames
        .iter()
        .enumerate()
        .map(|(i, f)| streamglass_core::protocol::Record {
            offset: i as i64,
            timestamp_ms: 1_767_623_400_000 + i as i64,
            key: None,
            value: Some(f),
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
