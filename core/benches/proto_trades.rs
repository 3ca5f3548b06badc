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

#[path = "trade_source.rs"]
mod trade_source;

pub use trade_source::records;
use trade_source::trades;

pub const DOCS: usize = 1_000_000;

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

/// `count` framed trades (`trade_source.rs`'s; schema id 1, message index `[0]`).
pub fn values(count: usize) -> Vec<Vec<u8>> {
    trades(count)
        .map(|t| {
            let trade = Trade {
                id: t.id.to_string(),
                timestamp: Some(Timestamp {
                    seconds: t.micros.div_euclid(1_000_000),
                    nanos: (t.micros.rem_euclid(1_000_000) * 1_000) as i32,
                }),
                exchange: t.exchange.into(),
                instrument: t.instrument.into(),
                r#type: t.type_index as i32,
                price: t.price,
                size: t.size,
            };
            let mut out = vec![0, 0, 0, 0, 1, 0];
            trade.encode(&mut out).expect("encodes");
            out
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
