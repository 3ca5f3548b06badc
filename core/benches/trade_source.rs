//! The trades the decoding benches encode, one generator for the three formats (Avro in
//! `trade_frames.rs`, JSON in `json_trades.rs`, Protobuf in `proto_trades.rs`), so that their
//! figures are of the same records: unique ids, rising timestamps, skewed exchanges and
//! instruments, with the demo's fields.

// Each workload reads the part of it its format needs.
#![allow(dead_code)]

use streamglass_core::protocol::Record;

pub const EXCHANGES: &[&str] = &[
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
pub const INSTRUMENTS: &[&str] = &[
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
pub const TYPES: &[&str] = &["BID", "ASK", "EXIT_ASK", "EXIT_BID"];

/// One trade's fields, before a format encodes them.
pub struct Trade {
    pub id: usize,
    /// Microseconds since the epoch.
    pub micros: i64,
    pub exchange: &'static str,
    pub instrument: &'static str,
    /// The index of its `Type` in [`TYPES`] (the Avro and Protobuf enums' order).
    pub type_index: usize,
    pub price: f64,
    pub size: f64,
}

/// `count` trades, the same on every call.
pub fn trades(count: usize) -> impl Iterator<Item = Trade> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        // xorshift64*: deterministic and dependency-free.
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    };
    let mut micros = 1_767_623_400_000_000i64;
    (0..count).map(move |i| {
        let r = next();
        micros += 1 + (r % 5_000) as i64;
        // Squaring skews towards the first names, as real volumes are.
        let skew = |n: usize, bits: u64| {
            let x = bits % 1_000;
            (x * x * n as u64 / 1_000_000) as usize
        };
        Trade {
            id: 300_000_000 + i * 3,
            micros,
            exchange: EXCHANGES[skew(EXCHANGES.len(), r >> 8)],
            instrument: INSTRUMENTS[(r >> 32) as usize % INSTRUMENTS.len()],
            type_index: (r >> 20) as usize % TYPES.len(),
            price: 60_000.0 + (r % 100_000) as f64 / 100.0,
            size: (r >> 40) as f64 / 1e6,
        }
    })
}

/// Encoded values as Kafka records of one partition.
pub fn records(values: &[Vec<u8>]) -> Vec<Record<'_>> {
    values
        .iter()
        .enumerate()
        .map(|(i, v)| Record {
            offset: i as i64,
            timestamp_ms: 1_767_623_400_000 + i as i64,
            key: None,
            value: Some(v),
        })
        .collect()
}
