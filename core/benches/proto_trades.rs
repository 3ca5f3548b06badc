//! The Protobuf bench's workload: 1M Deephaven trades (the demo's fields, as
//! `replay-bridge/src/trade.avsc` has them) as a Protobuf message, `Timestamp` a
//! `google.protobuf.Timestamp` and `Type` an enum, encoded by prost from a derived struct and
//! Confluent-framed; the descriptor set is built with prost-types (as protox would give it), so
//! the workload builds for wasm32 too. About 70 bytes a record. Shared by the criterion bench
//! (`proto_decode.rs`) and the wasm32 example (`examples/proto_bench.rs`).

use prost::Message;
use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{
    DescriptorProto, EnumDescriptorProto, EnumValueDescriptorProto, FieldDescriptorProto,
    FileDescriptorProto, FileDescriptorSet,
};
use streamglass_core::avro::{Format, ReaderSchema, RecordDecoder, SchemaStore};
use streamglass_core::protobuf::{MessageChoice, ProtoSpec};
use streamglass_core::protocol::{Record, SchemaInfo, SchemaType};

pub const DOCS: usize = 1_000_000;

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

/// The producer's struct, and the anchor's: prost decodes into it.
#[derive(Clone, PartialEq, Message)]
pub struct Trade {
    #[prost(string, tag = "1")]
    pub id: String,
    #[prost(message, optional, tag = "2")]
    pub timestamp: Option<Timestamp>,
    #[prost(string, tag = "3")]
    pub exchange: String,
    #[prost(string, tag = "4")]
    pub instrument: String,
    #[prost(int32, tag = "5")]
    pub r#type: i32,
    #[prost(double, tag = "6")]
    pub price: f64,
    #[prost(double, tag = "7")]
    pub size: f64,
}

#[derive(Clone, PartialEq, Message)]
pub struct Timestamp {
    #[prost(int64, tag = "1")]
    pub seconds: i64,
    #[prost(int32, tag = "2")]
    pub nanos: i32,
}

/// `count` framed trades (schema id 1, message index `[0]`): unique ids, rising timestamps,
/// skewed exchanges (the Avro and JSON benches' generator).
pub fn values(count: usize) -> Vec<Vec<u8>> {
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
            let trade = Trade {
                id: (300_000_000 + i * 3).to_string(),
                timestamp: Some(Timestamp {
                    seconds: micros.div_euclid(1_000_000),
                    nanos: (micros.rem_euclid(1_000_000) * 1_000) as i32,
                }),
                exchange: EXCHANGES[skew(EXCHANGES.len(), r >> 8)].into(),
                instrument: INSTRUMENTS[(r >> 32) as usize % INSTRUMENTS.len()].into(),
                r#type: ((r >> 20) % 4) as i32,
                price: 60_000.0 + (r % 100_000) as f64 / 100.0,
                size: (r >> 40) as f64 / 1e6,
            };
            let mut out = vec![0, 0, 0, 0, 1, 0];
            trade.encode(&mut out).expect("encodes");
            out
        })
        .collect()
}

/// The values as Kafka records of one partition.
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

fn field(name: &str, number: i32, ty: Type, type_name: &str) -> FieldDescriptorProto {
    FieldDescriptorProto {
        name: Some(name.into()),
        number: Some(number),
        label: Some(Label::Optional as i32),
        r#type: Some(ty as i32),
        type_name: (!type_name.is_empty()).then(|| type_name.into()),
        ..Default::default()
    }
}

/// The descriptor set the bridge would send: `google/protobuf/timestamp.proto`, then the trade's.
pub fn descriptors() -> Vec<u8> {
    let timestamp = FileDescriptorProto {
        name: Some("google/protobuf/timestamp.proto".into()),
        package: Some("google.protobuf".into()),
        syntax: Some("proto3".into()),
        message_type: vec![DescriptorProto {
            name: Some("Timestamp".into()),
            field: vec![
                field("seconds", 1, Type::Int64, ""),
                field("nanos", 2, Type::Int32, ""),
            ],
            ..Default::default()
        }],
        ..Default::default()
    };
    let value = |name: &str, number| EnumValueDescriptorProto {
        name: Some(name.into()),
        number: Some(number),
        ..Default::default()
    };
    let trade = FileDescriptorProto {
        name: Some("trade.proto".into()),
        package: Some("io.deephaven.crypto".into()),
        dependency: vec!["google/protobuf/timestamp.proto".into()],
        syntax: Some("proto3".into()),
        message_type: vec![DescriptorProto {
            name: Some("Trade".into()),
            field: vec![
                field("Id", 1, Type::String, ""),
                field("Timestamp", 2, Type::Message, ".google.protobuf.Timestamp"),
                field("Exchange", 3, Type::String, ""),
                field("Instrument", 4, Type::String, ""),
                field("Type", 5, Type::Enum, ".io.deephaven.crypto.TradeType"),
                field("Price", 6, Type::Double, ""),
                field("Size", 7, Type::Double, ""),
            ],
            ..Default::default()
        }],
        enum_type: vec![EnumDescriptorProto {
            name: Some("TradeType".into()),
            value: vec![
                value("BID", 0),
                value("ASK", 1),
                value("EXIT_ASK", 2),
                value("EXIT_BID", 3),
            ],
            ..Default::default()
        }],
        ..Default::default()
    };
    FileDescriptorSet {
        file: vec![timestamp, trade],
    }
    .encode_to_vec()
}

/// A decoder of the trades' values (keys ignored).
pub fn decoder() -> RecordDecoder {
    let mut store = SchemaStore::new();
    store
        .insert_other(SchemaInfo {
            id: 1,
            subject: Some("trades-value".into()),
            version: Some(1),
            schema: String::new(),
            schema_type: SchemaType::Protobuf,
            descriptors: Some(descriptors()),
        })
        .expect("store");
    let spec = ProtoSpec {
        schema: ReaderSchema::Id(1),
        message: MessageChoice::First,
    };
    RecordDecoder::new(store, Format::Ignore, Format::Protobuf(spec)).expect("decoder")
}

/// The anchor: prost decodes each value (after its 6-byte header) into the struct.
pub fn prost_path(records: &[Record<'_>], out: &mut Vec<Trade>) {
    out.clear();
    for r in records {
        let body = r.value.and_then(|v| v.get(6..)).expect("framed");
        out.push(Trade::decode(body).expect("decodes"));
    }
}
