//! Synthetic crypto trades that look like the real feed, for `replay-bridge generate`.
//!
//! The values are the Deephaven crypto example's `io.deephaven.crypto.Trade` ([`TRADE_SCHEMA`]),
//! Avro-encoded by apache-avro and framed the Confluent way (magic byte 0, the schema id as a
//! 4-byte big-endian integer, then the Avro body). Keys are null, as in the example's producer.
//!
//! What makes the data realistic: volumes are skewed across exchanges and instruments (each
//! exchange lists only some pairs); each instrument's price is a geometric random walk around a
//! plausible level, with a small persistent premium per exchange and a spread by side; sizes are
//! lognormal in notional terms; arrivals come in regimes (calm, active, burst); Ids are unique
//! exchange trade ids; timestamps strictly increase.
//!
//! Invariant: the same seed produces the same trades, byte for byte.

use apache_avro::Schema;
use apache_avro::types::Value;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp, LogNormal, Normal, weighted::WeightedIndex};

use crate::recording::StoredRecord;

/// The real producer's value schema (deephaven-examples crypto-application `trade.avsc`); the core's
/// Avro benches read the same file.
pub const TRADE_SCHEMA: &str = include_str!("trade.avsc");

/// The topic of the Deephaven example.
pub const TRADES_TOPIC: &str = "io.deephaven.crypto.kafka.TradesTopic";
/// Its value subject, by TopicRecordNameStrategy.
pub const TRADES_SUBJECT: &str = "io.deephaven.crypto.kafka.TradesTopic-io.deephaven.crypto.Trade";
/// The schema id generated recordings use.
pub const TRADES_SCHEMA_ID: u32 = 1;

/// Prefixes an Avro body with the Confluent wire-format header.
pub fn confluent_frame(schema_id: u32, body: &[u8]) -> Vec<u8> {
    let mut framed = Vec::with_capacity(5 + body.len());
    framed.push(0);
    framed.extend_from_slice(&schema_id.to_be_bytes());
    framed.extend_from_slice(body);
    framed
}

/// (name, relative volume, the instruments it lists)
const EXCHANGES: &[(&str, f64, &[&str])] = &[
    (
        "binance",
        30.0,
        &[
            "BTC/USDT",
            "ETH/USDT",
            "ETH/BTC",
            "LTC/USDT",
            "SOL/USDT",
            "XRP/USDT",
            "DOGE/USDT",
            "ADA/USDT",
        ],
    ),
    (
        "coinbase-pro",
        18.0,
        &[
            "BTC/USD", "ETH/USD", "ETH/BTC", "LTC/USD", "SOL/USD", "ADA/USD", "DOGE/USD",
        ],
    ),
    (
        "okex",
        12.0,
        &[
            "BTC/USDT",
            "ETH/USDT",
            "ETH/BTC",
            "LTC/USDT",
            "XRP/USDT",
            "DOGE/USDT",
        ],
    ),
    (
        "bitfinex",
        9.0,
        &[
            "BTC/USD", "ETH/USD", "ETH/BTC", "LTC/USD", "XRP/USD", "BTC/USDT",
        ],
    ),
    (
        "kraken",
        8.0,
        &[
            "BTC/USD", "ETH/USD", "ETH/BTC", "LTC/USD", "XRP/USD", "ADA/USD", "SOL/USD",
        ],
    ),
    (
        "bitstamp",
        6.0,
        &["BTC/USD", "ETH/USD", "ETH/BTC", "LTC/USD", "XRP/USD"],
    ),
    ("gemini", 5.0, &["BTC/USD", "ETH/USD", "ETH/BTC", "LTC/USD"]),
    ("bitflyer", 4.0, &["BTC/USD", "ETH/USD", "ETH/BTC"]),
    (
        "poloniex",
        3.0,
        &[
            "BTC/USDT",
            "ETH/USDT",
            "ETH/BTC",
            "LTC/USDT",
            "XRP/USDT",
            "DOGE/USDT",
        ],
    ),
    ("okcoin", 3.0, &["BTC/USD", "ETH/USD", "LTC/USD"]),
    ("lgo", 2.0, &["BTC/USD", "ETH/USD"]),
];

/// (instrument, relative volume, starting price, price decimals, size decimals)
const INSTRUMENTS: &[(&str, f64, f64, i32, i32)] = &[
    ("BTC/USD", 30.0, 61_250.0, 2, 8),
    ("BTC/USDT", 25.0, 61_280.0, 2, 6),
    ("ETH/USD", 15.0, 4_120.0, 2, 6),
    ("ETH/USDT", 12.0, 4_121.5, 2, 5),
    ("ETH/BTC", 6.0, 0.06728, 6, 4),
    ("LTC/USD", 3.0, 212.4, 2, 4),
    ("LTC/USDT", 2.5, 212.5, 2, 3),
    ("XRP/USD", 3.0, 1.082, 5, 1),
    ("XRP/USDT", 3.0, 1.0823, 5, 1),
    ("SOL/USD", 2.5, 198.7, 3, 3),
    ("SOL/USDT", 2.5, 198.8, 3, 3),
    ("DOGE/USD", 1.5, 0.2461, 6, 0),
    ("DOGE/USDT", 2.0, 0.2462, 6, 0),
    ("ADA/USD", 1.0, 1.891, 4, 1),
    ("ADA/USDT", 1.0, 1.892, 4, 1),
];

/// Arrival regimes: (trades per second, mean seconds in the regime).
const REGIMES: &[(f64, f64)] = &[(60.0, 20.0), (220.0, 12.0), (1_500.0, 2.0)];

/// Records per sticky batch: with null keys, Kafka's producer fills a batch for one partition, then
/// moves on to the next; the generator does the same, round-robin.
pub const STICKY_BATCH: u64 = 200;

/// 2026-01-05T14:30:00Z, in microseconds: where generated time starts.
const START_MICROS: i64 = 1_767_623_400_000_000;

struct Listing {
    exchange: usize,
    instrument: usize,
    premium: f64,
    next_trade_id: u64,
}

/// One sampled trade and where it goes, before encoding.
struct Trade {
    listing: usize,
    trade_type: u32,
    price: f64,
    size: f64,
    id: u64,
    micros: i64,
    partition: i32,
    offset: i64,
    timestamp_ms: i64,
}

/// An endless, deterministic stream of synthetic trades spread over partitions.
pub struct TradeGenerator {
    rng: ChaCha8Rng,
    schema: Schema,
    listings: Vec<Listing>,
    pick_listing: WeightedIndex<f64>,
    prices: Vec<f64>,
    step: Normal<f64>,
    notional: LogNormal<f64>,
    partitions: i32,
    next_offsets: Vec<i64>,
    produced: u64,
    now_micros: i64,
    regime: usize,
    regime_ends_micros: i64,
}

/// Why a generator cannot be built.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct GeneratorError(String);

impl TradeGenerator {
    pub fn new(seed: u64, partitions: i32) -> Result<Self, GeneratorError> {
        if partitions < 1 {
            return Err(GeneratorError(format!(
                "partitions must be at least 1, not {partitions}"
            )));
        }
        let err = |e: &dyn std::fmt::Display| GeneratorError(e.to_string());
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let schema = Schema::parse_str(TRADE_SCHEMA).map_err(|e| err(&e))?;
        let mut listings = Vec::new();
        let mut weights = Vec::new();
        for (e, (_, exchange_volume, listed)) in EXCHANGES.iter().enumerate() {
            for name in listed.iter() {
                let Some(i) = INSTRUMENTS.iter().position(|(n, ..)| n == name) else {
                    continue;
                };
                listings.push(Listing {
                    exchange: e,
                    instrument: i,
                    premium: rng.random_range(-0.0008..0.0008),
                    next_trade_id: rng.random_range(100_000_000..900_000_000),
                });
                weights.push(exchange_volume * INSTRUMENTS[i].1);
            }
        }
        Ok(Self {
            pick_listing: WeightedIndex::new(&weights).map_err(|e| err(&e))?,
            listings,
            prices: INSTRUMENTS.iter().map(|i| i.2).collect(),
            // Per-trade log-return: about 0.02 %, which gives a realistic intraday wander.
            step: Normal::new(0.0, 0.0002).map_err(|e| err(&e))?,
            // Median trade about $400, with the long right tail of real order flow.
            notional: LogNormal::new(400f64.ln(), 1.6).map_err(|e| err(&e))?,
            rng,
            schema,
            partitions,
            next_offsets: vec![0; partitions as usize],
            produced: 0,
            now_micros: START_MICROS,
            regime: 0,
            regime_ends_micros: START_MICROS,
        })
    }

    /// The next trade as a stored Kafka record: null key, Confluent-framed Avro value.
    pub fn next_record(&mut self) -> Result<StoredRecord, apache_avro::Error> {
        let trade = self.next_trade();
        let listing = &self.listings[trade.listing];
        let (exchange, ..) = EXCHANGES[listing.exchange];
        let (instrument, ..) = INSTRUMENTS[listing.instrument];
        let value = Value::Record(vec![
            (
                "Id".into(),
                Value::Union(1, Box::new(Value::String(trade.id.to_string()))),
            ),
            (
                "Timestamp".into(),
                Value::Union(1, Box::new(Value::TimestampMicros(trade.micros))),
            ),
            ("Exchange".into(), Value::String(exchange.into())),
            ("Instrument".into(), Value::String(instrument.into())),
            (
                "Type".into(),
                Value::Enum(
                    trade.trade_type,
                    ["BID", "ASK", "EXIT_ASK", "EXIT_BID"][trade.trade_type as usize].into(),
                ),
            ),
            ("Price".into(), Value::Double(trade.price)),
            ("Size".into(), Value::Double(trade.size)),
        ]);
        let body = apache_avro::to_avro_datum(&self.schema, value)?;
        Ok(StoredRecord {
            partition: trade.partition,
            offset: trade.offset,
            timestamp_ms: trade.timestamp_ms,
            key: None,
            value: Some(confluent_frame(TRADES_SCHEMA_ID, &body)),
            headers: vec![],
        })
    }

    /// The next trade's record timestamp, skipping its encoding: the same draws as
    /// [`TradeGenerator::next_record`], so a dry run can measure a recording before writing it.
    pub fn next_timestamp_ms(&mut self) -> i64 {
        self.next_trade().timestamp_ms
    }

    /// Samples the next trade and moves the clock, prices, ids and offsets on.
    fn next_trade(&mut self) -> Trade {
        self.advance_clock();
        let listing_index = self.pick_listing.sample(&mut self.rng);
        let listing = &mut self.listings[listing_index];
        let (_, _, _, price_decimals, size_decimals) = INSTRUMENTS[listing.instrument];
        let mid = &mut self.prices[listing.instrument];
        *mid *= self.step.sample(&mut self.rng).exp();
        let side = self.rng.random_range(0..100u32);
        let trade_type = match side {
            0..=46 => 0,  // BID
            47..=93 => 1, // ASK
            94..=96 => 2, // EXIT_ASK
            _ => 3,       // EXIT_BID
        };
        let half_spread = 0.0001 * if trade_type % 2 == 0 { -1.0 } else { 1.0 };
        let price = round(*mid * (1.0 + listing.premium + half_spread), price_decimals);
        let size = round(self.notional.sample(&mut self.rng) / price, size_decimals)
            .max(10f64.powi(-size_decimals));
        let id = listing.next_trade_id;
        listing.next_trade_id += 1 + u64::from(self.rng.random_range(0..3u8));
        let partition = Self::partition_of(self.produced, self.partitions);
        self.produced += 1;
        let offset = &mut self.next_offsets[partition as usize];
        let trade = Trade {
            listing: listing_index,
            trade_type,
            price,
            size,
            id,
            micros: self.now_micros,
            partition,
            offset: *offset,
            // The broker stamps the record a little after the trade happened.
            timestamp_ms: (self.now_micros + 1_500) / 1_000,
        };
        *offset += 1;
        trade
    }

    /// The partition of the `index`-th record (counting from 0).
    fn partition_of(index: u64, partitions: i32) -> i32 {
        ((index / STICKY_BATCH) % partitions.max(1) as u64) as i32
    }

    /// How many of the first `count` records each partition gets: the high watermarks of a
    /// recording of `count` trades, known before the first is generated.
    pub fn partition_counts(count: u64, partitions: i32) -> Vec<i64> {
        let partitions = partitions.max(1) as u64;
        let full_rounds = count / (STICKY_BATCH * partitions);
        let rest = count % (STICKY_BATCH * partitions);
        (0..partitions)
            .map(|p| {
                let extra = rest.saturating_sub(p * STICKY_BATCH).min(STICKY_BATCH);
                (full_rounds * STICKY_BATCH + extra) as i64
            })
            .collect()
    }

    /// One past the last offset generated, per partition.
    pub fn next_offsets(&self) -> &[i64] {
        &self.next_offsets
    }

    fn advance_clock(&mut self) {
        if self.now_micros >= self.regime_ends_micros {
            self.regime = self.rng.random_range(0..REGIMES.len());
            let mean_s = REGIMES[self.regime].1;
            let length_s = Exp::new(1.0 / mean_s).map_or(mean_s, |d| d.sample(&mut self.rng));
            self.regime_ends_micros = self.now_micros + (length_s * 1e6) as i64;
        }
        let rate = REGIMES[self.regime].0;
        let gap_s = Exp::new(rate).map_or(1.0 / rate, |d| d.sample(&mut self.rng));
        self.now_micros += ((gap_s * 1e6) as i64).max(1);
    }
}

fn round(x: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (x * scale).round() / scale
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{HashMap, HashSet};

    fn decode(record: &StoredRecord, schema: &Schema) -> Vec<(String, Value)> {
        let value = record.value.as_ref().unwrap();
        assert_eq!(value[0], 0, "magic byte");
        assert_eq!(
            u32::from_be_bytes(value[1..5].try_into().unwrap()),
            TRADES_SCHEMA_ID
        );
        let mut body = &value[5..];
        match apache_avro::from_avro_datum(schema, &mut body, None).unwrap() {
            Value::Record(fields) => {
                assert!(body.is_empty(), "no trailing bytes");
                fields
            }
            other => panic!("not a record: {other:?}"),
        }
    }

    #[test]
    fn same_seed_same_trades_other_seed_other_trades() {
        let take = |seed| {
            let mut g = TradeGenerator::new(seed, 3).unwrap();
            (0..500)
                .map(|_| g.next_record().unwrap())
                .collect::<Vec<_>>()
        };
        assert_eq!(take(7), take(7));
        assert_ne!(take(7), take(8));
    }

    #[test]
    fn trades_look_real() {
        let schema = Schema::parse_str(TRADE_SCHEMA).unwrap();
        let mut g = TradeGenerator::new(42, 4).unwrap();
        let n = 50_000;
        let mut ids = HashSet::new();
        let mut by_exchange: HashMap<String, usize> = HashMap::new();
        let mut last_micros = i64::MIN;
        let mut last_ms = i64::MIN;
        let mut next_offset = [0i64; 4];
        let mut btc = Vec::new();
        for _ in 0..n {
            let r = g.next_record().unwrap();
            assert_eq!(r.key, None);
            assert_eq!(r.offset, next_offset[r.partition as usize], "dense offsets");
            next_offset[r.partition as usize] += 1;
            assert!(r.timestamp_ms >= last_ms);
            last_ms = r.timestamp_ms;
            let fields: HashMap<String, Value> = decode(&r, &schema).into_iter().collect();
            let Value::Union(1, id) = &fields["Id"] else {
                panic!()
            };
            assert!(
                ids.insert(format!("{:?}{:?}", fields["Exchange"], id)),
                "unique ids"
            );
            let Value::Union(1, ts) = &fields["Timestamp"] else {
                panic!()
            };
            let Value::TimestampMicros(micros) = **ts else {
                panic!()
            };
            assert!(micros > last_micros, "strictly increasing timestamps");
            last_micros = micros;
            let Value::String(exchange) = &fields["Exchange"] else {
                panic!()
            };
            *by_exchange.entry(exchange.clone()).or_default() += 1;
            let (Value::String(instrument), Value::Double(price), Value::Double(size)) =
                (&fields["Instrument"], &fields["Price"], &fields["Size"])
            else {
                panic!()
            };
            assert!(*price > 0.0 && *size > 0.0);
            if instrument == "BTC/USD" {
                btc.push(*price);
            }
        }
        assert_eq!(by_exchange.len(), EXCHANGES.len(), "every exchange trades");
        assert!(
            by_exchange["binance"] > 5 * by_exchange["lgo"],
            "skewed volume: {by_exchange:?}"
        );
        let (lo, hi) = btc
            .iter()
            .fold((f64::MAX, f64::MIN), |(l, h), p| (l.min(*p), h.max(*p)));
        assert!(
            lo > 30_000.0 && hi < 120_000.0,
            "BTC wanders plausibly: {lo}..{hi}"
        );
        assert!(hi > lo, "prices move");
        assert_eq!(g.next_offsets().iter().sum::<i64>(), n);
    }

    proptest::proptest! {
        #[test]
        fn partition_counts_match_what_is_generated(count in 0u64..3_000, partitions in 1i32..6) {
            let mut g = TradeGenerator::new(3, partitions).unwrap();
            for _ in 0..count {
                g.next_record().unwrap();
            }
            let expected = TradeGenerator::partition_counts(count, partitions);
            proptest::prop_assert_eq!(g.next_offsets(), expected.as_slice());
        }
    }

    #[test]
    fn zero_partitions_is_an_error() {
        assert!(TradeGenerator::new(1, 0).is_err());
    }
}
