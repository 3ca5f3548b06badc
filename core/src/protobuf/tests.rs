//! Tests of the Protobuf decoder against an independent implementation: protox compiles the test
//! schemas (as the bridge does), and prost-reflect's `DynamicMessage` encodes the messages.

use proptest::prelude::*;
use prost::Message as _;
use prost_reflect::{DescriptorPool, DynamicMessage, MapKey, Value as Pv};

use super::*;
use crate::avro::{Format, RecordDecoder, SchemaStore};
use crate::column::Value as V;
use crate::protocol::{Record, SchemaInfo, SchemaType};

const ALL: &str = r#"
syntax = "proto3";
package test;
import "google/protobuf/timestamp.proto";
import "google/protobuf/wrappers.proto";

enum Side { SIDE_UNKNOWN = 0; BUY = 1; SELL = 2; }

message Inner { string name = 1; sint64 delta = 2; Side side = 3; }

message All {
  double d = 1; float f = 2; int32 i32 = 3; int64 i64 = 4; uint32 u32 = 5; uint64 u64 = 6;
  sint32 s32 = 7; sint64 s64 = 8; fixed32 fx32 = 9; fixed64 fx64 = 10; sfixed32 sfx32 = 11;
  sfixed64 sfx64 = 12; bool b = 13; string s = 14; bytes by = 15; Side side = 16;
  Inner inner = 17;
  google.protobuf.Timestamp ts = 18;
  google.protobuf.DoubleValue wd = 19;
  google.protobuf.StringValue ws = 20;
  repeated double rd = 21; repeated int32 ri = 22; repeated string rs = 23; repeated Side rside = 24;
  optional int64 opt = 25;
  oneof choice { string c_text = 26; int32 c_num = 27; }
  repeated Inner many = 28;
  map<string, int32> counts = 29;
  int64 far = 100000;
}
"#;

/// The test schema compiled as the bridge compiles a registry's: a descriptor set, the schema's
/// own file last.
pub(super) fn compile(files: &[(&str, &str)]) -> (Vec<u8>, DescriptorPool) {
    let dir = tempdir();
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    let main = files.last().unwrap().0;
    let set = protox::compile([main], [&dir]).unwrap();
    let pool = DescriptorPool::from_file_descriptor_set(set.clone()).unwrap();
    (set.encode_to_vec(), pool)
}

fn tempdir() -> std::path::PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "sg-proto-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub(super) fn info(id: u32, version: i32, set: &[u8]) -> SchemaInfo {
    SchemaInfo {
        id,
        subject: Some("t-value".into()),
        version: Some(version),
        schema: String::new(),
        schema_type: SchemaType::Protobuf,
        descriptors: Some(set.to_vec()),
    }
}

pub(super) fn store_of(infos: Vec<SchemaInfo>) -> SchemaStore {
    let mut store = SchemaStore::new();
    for i in infos {
        store.insert_other(i).unwrap();
    }
    store
}

fn decoder(store: SchemaStore, choice: MessageChoice) -> RecordDecoder {
    let spec = ProtoSpec {
        schema: crate::avro::ReaderSchema::Latest("t-value".into()),
        message: choice,
    };
    RecordDecoder::new(store, Format::Ignore, Format::Protobuf(spec)).unwrap()
}

/// Confluent's framing: magic 0, the id, the message indexes (`[0]` as a single 0 byte).
pub(super) fn frame(id: u32, indexes: &[i64], body: &[u8]) -> Vec<u8> {
    let mut out = vec![0];
    out.extend(id.to_be_bytes());
    if indexes == [0] {
        out.push(0);
    } else {
        let zz = |v: i64| ((v << 1) ^ (v >> 63)) as u64;
        let mut varint = |mut v: u64| loop {
            if v < 0x80 {
                out.push(v as u8);
                break;
            }
            out.push((v as u8 & 0x7f) | 0x80);
            v >>= 7;
        };
        varint(zz(indexes.len() as i64));
        for i in indexes {
            varint(zz(*i));
        }
    }
    out.extend(body);
    out
}

/// Empty columns for a side's fields.
pub(super) fn columns_of(side: &ProtoSide) -> Vec<crate::column::Column> {
    side.fields()
        .map(|f| crate::column::Column::new(f.ty))
        .collect()
}

fn cell(d: &RecordDecoder, name: &str, row: usize) -> V {
    let i = d.schema().index_of(name).unwrap();
    d.columns()[i].get(row).unwrap()
}

/// One random `All` message: each field set or not.
#[derive(Debug, Clone)]
struct AllValues {
    d: Option<f64>,
    f: Option<f32>,
    i32: Option<i32>,
    i64: Option<i64>,
    u32: Option<u32>,
    u64: Option<u64>,
    s32: Option<i32>,
    s64: Option<i64>,
    fx32: Option<u32>,
    fx64: Option<u64>,
    sfx32: Option<i32>,
    sfx64: Option<i64>,
    b: Option<bool>,
    s: Option<String>,
    by: Option<Vec<u8>>,
    side: Option<i32>,
    inner: Option<(Option<String>, Option<i64>, Option<i32>)>,
    ts: Option<(i64, i32)>,
    wd: Option<f64>,
    ws: Option<String>,
    rd: Vec<f64>,
    ri: Vec<i32>,
    rs: Vec<String>,
    rside: Vec<i32>,
    opt: Option<i64>,
    choice: Option<Result<String, i32>>,
    many: usize,
    far: Option<i64>,
}

/// Doubles (no -0.0: prost-reflect leaves it out of an implicit-presence field, as 0.0).
fn finite() -> impl Strategy<Value = f64> {
    prop_oneof![-1e300..1e300f64, Just(0.0), Just(f64::INFINITY)]
}

fn i32s() -> impl Strategy<Value = i32> {
    prop_oneof![(i32::MIN + 1)..=i32::MAX, Just(-1), Just(0), Just(i32::MAX)]
}

fn i64s() -> impl Strategy<Value = i64> {
    prop_oneof![(i64::MIN + 1)..=i64::MAX, Just(-1), Just(0), Just(i64::MAX)]
}

fn u64s() -> impl Strategy<Value = u64> {
    // 2^63 is i64::MIN's bits, the long column's null.
    any::<u64>().prop_filter("not the null's bits", |v| *v != 1 << 63)
}

prop_compose! {
    fn all_values()(
        (d, f, i32v, i64v, u32v, u64v, s32, s64) in (
            proptest::option::of(finite()),
            proptest::option::of(-1e30f32..1e30),
            proptest::option::of(i32s()),
            proptest::option::of(i64s()),
            proptest::option::of(any::<u32>()),
            proptest::option::of(u64s()),
            proptest::option::of(i32s()),
            proptest::option::of(i64s()),
        ),
        (fx32, fx64, sfx32, sfx64, b, s, by, side) in (
            proptest::option::of(any::<u32>()),
            proptest::option::of(u64s()),
            proptest::option::of(i32s()),
            proptest::option::of(i64s()),
            proptest::option::of(any::<bool>()),
            proptest::option::of("\\PC{0,12}"),
            proptest::option::of(proptest::collection::vec(any::<u8>(), 0..8)),
            proptest::option::of(0..4i32),
        ),
        (inner, ts, wd, ws) in (
            proptest::option::of((
                proptest::option::of("[a-z]{0,6}"),
                proptest::option::of(i64s()),
                proptest::option::of(0..3i32),
            )),
            // Instants are nanoseconds in a long: about 1678 to 2262.
            proptest::option::of((-9_000_000_000i64..9_000_000_000, 0..1_000_000_000i32)),
            proptest::option::of(finite()),
            proptest::option::of("\\PC{0,6}"),
        ),
        (rd, ri, rs, rside, opt, choice, many, far) in (
            proptest::collection::vec(finite(), 0..4),
            proptest::collection::vec(i32s(), 0..4),
            proptest::collection::vec("[a-z]{0,4}", 0..3),
            proptest::collection::vec(0..5i32, 0..3),
            proptest::option::of(i64s()),
            proptest::option::of(prop_oneof![
                "[a-z]{0,5}".prop_map(Ok),
                i32s().prop_map(Err),
            ]),
            0..3usize,
            proptest::option::of(i64s()),
        ),
    ) -> AllValues {
        AllValues {
            d, f, i32: i32v, i64: i64v, u32: u32v, u64: u64v, s32, s64, fx32, fx64, sfx32, sfx64,
            b, s, by, side, inner, ts, wd, ws, rd, ri, rs, rside, opt, choice, many, far,
        }
    }
}

/// The message as prost-reflect encodes it.
fn encode(pool: &DescriptorPool, v: &AllValues) -> Vec<u8> {
    let desc = pool.get_message_by_name("test.All").unwrap();
    let mut m = DynamicMessage::new(desc);
    let mut set = |name: &str, value: Option<Pv>| {
        if let Some(value) = value {
            m.set_field_by_name(name, value);
        }
    };
    set("d", v.d.map(Pv::F64));
    set("f", v.f.map(Pv::F32));
    set("i32", v.i32.map(Pv::I32));
    set("i64", v.i64.map(Pv::I64));
    set("u32", v.u32.map(Pv::U32));
    set("u64", v.u64.map(Pv::U64));
    set("s32", v.s32.map(Pv::I32));
    set("s64", v.s64.map(Pv::I64));
    set("fx32", v.fx32.map(Pv::U32));
    set("fx64", v.fx64.map(Pv::U64));
    set("sfx32", v.sfx32.map(Pv::I32));
    set("sfx64", v.sfx64.map(Pv::I64));
    set("b", v.b.map(Pv::Bool));
    set("s", v.s.clone().map(Pv::String));
    set("by", v.by.clone().map(|b| Pv::Bytes(b.into())));
    set("side", v.side.map(Pv::EnumNumber));
    let inner_desc = pool.get_message_by_name("test.Inner").unwrap();
    let inner = |(name, delta, side): &(Option<String>, Option<i64>, Option<i32>)| {
        let mut i = DynamicMessage::new(inner_desc.clone());
        if let Some(n) = name {
            i.set_field_by_name("name", Pv::String(n.clone()));
        }
        if let Some(d) = delta {
            i.set_field_by_name("delta", Pv::I64(*d));
        }
        if let Some(s) = side {
            i.set_field_by_name("side", Pv::EnumNumber(*s));
        }
        Pv::Message(i)
    };
    set("inner", v.inner.as_ref().map(inner));
    set(
        "ts",
        v.ts.map(|(seconds, nanos)| {
            let mut t = DynamicMessage::new(
                pool.get_message_by_name("google.protobuf.Timestamp")
                    .unwrap(),
            );
            t.set_field_by_name("seconds", Pv::I64(seconds));
            t.set_field_by_name("nanos", Pv::I32(nanos));
            Pv::Message(t)
        }),
    );
    set(
        "wd",
        v.wd.map(|x| {
            let mut w = DynamicMessage::new(
                pool.get_message_by_name("google.protobuf.DoubleValue")
                    .unwrap(),
            );
            w.set_field_by_name("value", Pv::F64(x));
            Pv::Message(w)
        }),
    );
    set(
        "ws",
        v.ws.clone().map(|x| {
            let mut w = DynamicMessage::new(
                pool.get_message_by_name("google.protobuf.StringValue")
                    .unwrap(),
            );
            w.set_field_by_name("value", Pv::String(x));
            Pv::Message(w)
        }),
    );
    let list = |l: Vec<Pv>| (!l.is_empty()).then_some(Pv::List(l));
    set("rd", list(v.rd.iter().map(|x| Pv::F64(*x)).collect()));
    set("ri", list(v.ri.iter().map(|x| Pv::I32(*x)).collect()));
    set(
        "rs",
        list(v.rs.iter().map(|x| Pv::String(x.clone())).collect()),
    );
    set(
        "rside",
        list(v.rside.iter().map(|x| Pv::EnumNumber(*x)).collect()),
    );
    set("opt", v.opt.map(Pv::I64));
    match &v.choice {
        Some(Ok(t)) => set("c_text", Some(Pv::String(t.clone()))),
        Some(Err(n)) => set("c_num", Some(Pv::I32(*n))),
        None => {}
    }
    let sample = (Some("x".to_owned()), Some(1), Some(1));
    set("many", list((0..v.many).map(|_| inner(&sample)).collect()));
    if v.many > 0 {
        let mut map = std::collections::HashMap::new();
        map.insert(MapKey::String("k".into()), Pv::I32(1));
        set("counts", Some(Pv::Map(map)));
    }
    set("far", v.far.map(Pv::I64));
    m.encode_to_vec()
}

const SIDES: [&str; 3] = ["SIDE_UNKNOWN", "BUY", "SELL"];

fn side_name(n: i32) -> String {
    SIDES
        .get(n as usize)
        .map_or_else(|| n.to_string(), |s| (*s).to_owned())
}

/// What the decoder must give for `v`, column by column.
fn expected(v: &AllValues) -> Vec<(&'static str, V)> {
    let s = |x: &str| V::String(x.to_owned());
    let (inner_name, inner_delta, inner_side) = match &v.inner {
        Some((n, d, sd)) => (
            s(n.as_deref().unwrap_or("")),
            V::I64(d.unwrap_or(0)),
            V::String(side_name(sd.unwrap_or(0))),
        ),
        None => (V::Null, V::Null, V::Null),
    };
    vec![
        ("d", V::F64(v.d.unwrap_or(0.0))),
        ("f", V::F64(f64::from(v.f.unwrap_or(0.0)))),
        ("i32", V::I32(v.i32.unwrap_or(0))),
        ("i64", V::I64(v.i64.unwrap_or(0))),
        ("u32", V::I64(i64::from(v.u32.unwrap_or(0)))),
        ("u64", V::I64(v.u64.unwrap_or(0) as i64)),
        ("s32", V::I32(v.s32.unwrap_or(0))),
        ("s64", V::I64(v.s64.unwrap_or(0))),
        ("fx32", V::I64(i64::from(v.fx32.unwrap_or(0)))),
        ("fx64", V::I64(v.fx64.unwrap_or(0) as i64)),
        ("sfx32", V::I32(v.sfx32.unwrap_or(0))),
        ("sfx64", V::I64(v.sfx64.unwrap_or(0))),
        ("b", V::Bool(v.b.unwrap_or(false))),
        ("s", s(v.s.as_deref().unwrap_or(""))),
        ("by", V::Binary(v.by.clone().unwrap_or_default())),
        ("side", V::String(side_name(v.side.unwrap_or(0)))),
        ("inner__name", inner_name),
        ("inner__delta", inner_delta),
        ("inner__side", inner_side),
        (
            "ts",
            v.ts.map_or(V::Null, |(sec, n)| {
                V::Timestamp(sec * 1_000_000_000 + i64::from(n))
            }),
        ),
        ("wd", v.wd.map_or(V::Null, V::F64)),
        ("ws", v.ws.as_deref().map_or(V::Null, s)),
        ("rd", V::Array(v.rd.iter().map(|x| V::F64(*x)).collect())),
        ("ri", V::Array(v.ri.iter().map(|x| V::I32(*x)).collect())),
        ("rs", V::Array(v.rs.iter().map(|x| s(x)).collect())),
        (
            "rside",
            V::Array(v.rside.iter().map(|x| V::String(side_name(*x))).collect()),
        ),
        ("opt", v.opt.map_or(V::Null, V::I64)),
        (
            "c_text",
            match &v.choice {
                Some(Ok(t)) => s(t),
                _ => V::Null,
            },
        ),
        (
            "c_num",
            match &v.choice {
                Some(Err(n)) => V::I32(*n),
                _ => V::Null,
            },
        ),
        ("far", V::I64(v.far.unwrap_or(0))),
    ]
}

pub(super) fn same(a: &V, b: &V) -> bool {
    match (a, b) {
        (V::F64(x), V::F64(y)) => x.to_bits() == y.to_bits(),
        (V::Array(x), V::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        _ => a == b,
    }
}

fn all_decoder() -> (RecordDecoder, DescriptorPool) {
    let (set, pool) = compile(&[("all.proto", ALL)]);
    let store = store_of(vec![info(7, 1, &set)]);
    (
        decoder(store, MessageChoice::Named("test.All".into())),
        pool,
    )
}

#[test]
fn the_columns_follow_the_documented_mapping() {
    let (d, _) = all_decoder();
    let got: Vec<String> = d
        .schema()
        .fields()
        .iter()
        .skip(3)
        .map(|f| format!("{}:{}", f.name, f.ty))
        .collect();
    assert_eq!(
        got.join(" "),
        "d:double f:double i32:int i64:long u32:long u64:long s32:int s64:long fx32:long \
         fx64:long sfx32:int sfx64:long b:bool s:string by:binary side:string \
         inner__name:string inner__delta:long inner__side:string ts:timestamp wd:double \
         ws:string rd:double[] ri:int[] rs:string[] rside:string[] opt:long c_text:string \
         c_num:int far:long"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn decodes_what_prost_reflect_encodes(values in proptest::collection::vec(all_values(), 1..6)) {
        let (mut d, pool) = all_decoder();
        let bodies: Vec<Vec<u8>> = values.iter().map(|v| frame(7, &[1], &encode(&pool, v))).collect();
        let records: Vec<Record<'_>> = bodies
            .iter()
            .enumerate()
            .map(|(i, b)| Record { offset: i as i64, timestamp_ms: 1, key: None, value: Some(b) })
            .collect();
        let mut errors = Vec::new();
        d.decode_records(0, &records, |e| errors.push(e.to_string()));
        prop_assert!(errors.is_empty(), "{errors:?}");
        prop_assert_eq!(d.rows(), values.len());
        for (row, v) in values.iter().enumerate() {
            for (name, want) in expected(v) {
                let got = cell(&d, name, row);
                prop_assert!(same(&got, &want), "row {} column {}: {:?} != {:?}", row, name, got, want);
            }
        }
    }

    #[test]
    fn hostile_bodies_are_errors_never_panics(body in proptest::collection::vec(any::<u8>(), 0..64),
                                              prefix in proptest::collection::vec(any::<u8>(), 0..4)) {
        let (mut d, pool) = all_decoder();
        let good = frame(7, &[1], &encode(&pool, &AllValues {
            d: Some(1.5), f: None, i32: Some(3), i64: None, u32: None, u64: None, s32: None,
            s64: None, fx32: None, fx64: None, sfx32: None, sfx64: None, b: None,
            s: Some("x".into()), by: None, side: None, inner: None, ts: None, wd: None, ws: None,
            rd: vec![], ri: vec![], rs: vec![], rside: vec![], opt: None, choice: None, many: 0,
            far: None,
        }));
        let mut hostile = frame(7, &[1], &body);
        hostile.splice(5..5, prefix);
        let records = [
            Record { offset: 0, timestamp_ms: 1, key: None, value: Some(&good) },
            Record { offset: 1, timestamp_ms: 1, key: None, value: Some(&hostile) },
            Record { offset: 2, timestamp_ms: 1, key: None, value: Some(&good[..good.len() - 1]) },
            Record { offset: 3, timestamp_ms: 1, key: None, value: Some(&good) },
        ];
        let mut errors = 0;
        let rows = d.decode_records(0, &records, |_| errors += 1);
        prop_assert_eq!(rows + errors, 4);
        // Every column has every row that decoded, and the good records are intact.
        prop_assert!(d.columns().iter().all(|c| c.len() == rows));
        prop_assert_eq!(cell(&d, "d", 0), V::F64(1.5));
        prop_assert_eq!(cell(&d, "d", rows - 1), V::F64(1.5));
    }
}

#[test]
fn hostile_bytes_are_per_record_errors() {
    let (mut d, _) = all_decoder();
    let cases: [(&[u8], &str); 6] = [
        (&[0x18, 0x80], "ends in the middle"), // i32: a truncated varint
        (&[0x0d, 1, 2], "wire type"),          // d (double) as fixed32
        (&[0x72, 0xff, 0xff, 0xff, 0xff, 0x0f], "runs past"), // s: a 4 GiB length
        (&[0x72, 0x02, 0xff, 0xfe], "UTF-8"),  // s: not UTF-8
        (&[0x00], "field number"),             // field 0
        (&[0xf7, 0x01], "wire type 6 or 7"),   // field 30: wire type 7
    ];
    for (body, why) in cases {
        let bytes = frame(7, &[1], body);
        let e = d
            .decode(
                0,
                &Record {
                    offset: 9,
                    timestamp_ms: 1,
                    key: None,
                    value: Some(&bytes),
                },
            )
            .unwrap_err()
            .to_string();
        assert!(e.contains(why) && e.contains("offset 9"), "{e}");
    }
    assert_eq!(d.rows(), 0);
    assert_eq!(d.stats().skipped, 6);
    // Another schema id, and an index path that names no message.
    for bytes in [frame(8, &[0], &[]), frame(7, &[5], &[])] {
        assert!(
            d.decode(
                0,
                &Record {
                    offset: 1,
                    timestamp_ms: 1,
                    key: None,
                    value: Some(&bytes)
                }
            )
            .is_err()
        );
    }
}

const V1: &str = r#"
syntax = "proto3";
package demo;
import "google/protobuf/timestamp.proto";
message Trade {
  enum Type { BID = 0; ASK = 1; }
  message Venue { string exchange = 1; string region = 2; }
  google.protobuf.Timestamp timestamp = 1;
  Venue venue = 2;
  string instrument = 3;
  Type type = 4;
  double price = 5;
  repeated double sizes = 6;
}
message Other { int32 x = 1; }
"#;

fn v2() -> String {
    V1.replace(
        "repeated double sizes = 6;",
        "repeated double sizes = 6;\n  optional string trader = 7;",
    )
}

#[test]
fn two_versions_decode_each_with_its_writer_schema_into_the_newest_columns() {
    let (set1, pool1) = compile(&[("trade.proto", V1)]);
    let v2 = v2();
    let (set2, pool2) = compile(&[("trade.proto", &v2)]);
    let store = store_of(vec![info(1, 1, &set1), info(2, 2, &set2)]);
    let mut d = decoder(store, MessageChoice::First);
    let names: Vec<&str> = d.schema().fields().iter().map(|f| &*f.name).collect();
    assert_eq!(
        names,
        [
            "KafkaPartition",
            "KafkaOffset",
            "KafkaTimestamp",
            "timestamp",
            "venue__exchange",
            "venue__region",
            "instrument",
            "type",
            "price",
            "sizes",
            "trader"
        ]
    );
    let trade = |pool: &DescriptorPool, trader: Option<&str>, price: f64| {
        let mut m = DynamicMessage::new(pool.get_message_by_name("demo.Trade").unwrap());
        let mut t = DynamicMessage::new(
            pool.get_message_by_name("google.protobuf.Timestamp")
                .unwrap(),
        );
        t.set_field_by_name("seconds", Pv::I64(1_700_000_000));
        t.set_field_by_name("nanos", Pv::I32(5));
        m.set_field_by_name("timestamp", Pv::Message(t));
        let mut venue = DynamicMessage::new(pool.get_message_by_name("demo.Trade.Venue").unwrap());
        venue.set_field_by_name("exchange", Pv::String("kraken".into()));
        m.set_field_by_name("venue", Pv::Message(venue));
        m.set_field_by_name("instrument", Pv::String("BTC/USD".into()));
        m.set_field_by_name("type", Pv::EnumNumber(1));
        m.set_field_by_name("price", Pv::F64(price));
        m.set_field_by_name("sizes", Pv::List(vec![Pv::F64(1.0), Pv::F64(2.5)]));
        if let Some(who) = trader {
            m.set_field_by_name("trader", Pv::String(who.into()));
        }
        m.encode_to_vec()
    };
    let mut other = DynamicMessage::new(pool1.get_message_by_name("demo.Other").unwrap());
    other.set_field_by_name("x", Pv::I32(3));
    let bodies = [
        frame(1, &[0], &trade(&pool1, None, 1.5)),
        frame(2, &[0], &trade(&pool2, Some("ann"), 2.5)),
        frame(2, &[0], &trade(&pool2, None, 3.5)),
        // Another message of the file: none of its fields is a column.
        frame(1, &[1], &other.encode_to_vec()),
    ];
    let records: Vec<Record<'_>> = bodies
        .iter()
        .enumerate()
        .map(|(i, b)| Record {
            offset: i as i64,
            timestamp_ms: 1,
            key: None,
            value: Some(b),
        })
        .collect();
    d.decode_records(0, &records, |e| panic!("{e}"));
    assert_eq!(d.rows(), 4);
    assert_eq!(
        cell(&d, "timestamp", 0),
        V::Timestamp(1_700_000_000_000_000_005)
    );
    assert_eq!(cell(&d, "venue__exchange", 1), V::String("kraken".into()));
    assert_eq!(cell(&d, "venue__region", 1), V::String(String::new()));
    assert_eq!(cell(&d, "type", 0), V::String("ASK".into()));
    assert_eq!(cell(&d, "price", 2), V::F64(3.5));
    assert_eq!(
        cell(&d, "sizes", 1),
        V::Array(vec![V::F64(1.0), V::F64(2.5)])
    );
    assert_eq!(cell(&d, "trader", 0), V::Null); // v1 has no such field
    assert_eq!(cell(&d, "trader", 1), V::String("ann".into()));
    assert_eq!(cell(&d, "trader", 2), V::Null); // optional, unset
    assert_eq!(cell(&d, "price", 3), V::Null);
    assert_eq!(cell(&d, "venue__exchange", 3), V::Null);

    // Read with v1 as the reader: v2's extra field is an unknown field, skipped.
    let store = store_of(vec![info(1, 1, &set1), info(2, 2, &set2)]);
    let spec = ProtoSpec {
        schema: crate::avro::ReaderSchema::Id(1),
        message: MessageChoice::First,
    };
    let mut d = RecordDecoder::new(store, Format::Ignore, Format::Protobuf(spec)).unwrap();
    d.decode_records(0, &records[1..2], |e| panic!("{e}"));
    assert_eq!(d.schema().fields().len(), 10);
    assert_eq!(cell(&d, "price", 0), V::F64(2.5));
}

#[test]
fn a_field_seen_twice_takes_the_last_and_a_type_change_fails_its_records() {
    let (mut d, _) = all_decoder();
    // i32 = 1, then i32 = 2; ri as one packed run and one loose element.
    let body = [0x18, 1, 0x18, 2, 0xb2, 0x01, 2, 5, 6, 0xb0, 0x01, 7];
    let bytes = frame(7, &[1], &body);
    d.decode(
        0,
        &Record {
            offset: 0,
            timestamp_ms: 1,
            key: None,
            value: Some(&bytes),
        },
    )
    .unwrap();
    assert_eq!(cell(&d, "i32", 0), V::I32(2));
    assert_eq!(
        cell(&d, "ri", 0),
        V::Array(vec![V::I32(5), V::I32(6), V::I32(7)])
    );

    let changed = V1.replace("double price = 5;", "string price = 5;");
    let (set1, _) = compile(&[("trade.proto", V1)]);
    let (set2, _) = compile(&[("trade.proto", &changed)]);
    let store = store_of(vec![info(1, 1, &set1), info(2, 2, &set2)]);
    let spec = ProtoSpec {
        schema: crate::avro::ReaderSchema::Id(1),
        message: MessageChoice::First,
    };
    let mut d = RecordDecoder::new(store, Format::Ignore, Format::Protobuf(spec)).unwrap();
    let bytes = frame(2, &[0], &[]);
    let e = d
        .decode(
            0,
            &Record {
                offset: 0,
                timestamp_ms: 1,
                key: None,
                value: Some(&bytes),
            },
        )
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("price is string in the writer schema and double"),
        "{e}"
    );
}

#[test]
fn keys_and_tombstones() {
    let (set, _) = compile(&[("all.proto", ALL)]);
    let (key_set, key_pool) = compile(&[("trade.proto", V1)]);
    let store = store_of(vec![info(7, 1, &set), info(9, 1, &key_set)]);
    let key = Format::Protobuf(ProtoSpec {
        schema: crate::avro::ReaderSchema::Id(9),
        message: MessageChoice::Indexes(vec![1]),
    });
    let value = Format::Protobuf(ProtoSpec {
        schema: crate::avro::ReaderSchema::Id(7),
        message: MessageChoice::Named("test.All".into()),
    });
    let mut d = RecordDecoder::new(store, key, value).unwrap();
    let mut other = DynamicMessage::new(key_pool.get_message_by_name("demo.Other").unwrap());
    other.set_field_by_name("x", Pv::I32(42));
    let key = frame(9, &[1], &other.encode_to_vec());
    d.decode(
        0,
        &Record {
            offset: 0,
            timestamp_ms: 1,
            key: Some(&key),
            value: None,
        },
    )
    .unwrap();
    let names: Vec<&str> = d.schema().fields().iter().map(|f| &*f.name).collect();
    assert_eq!(names[3..5], ["x", "d"]);
    assert_eq!(cell(&d, "x", 0), V::I32(42));
    // A tombstone: every value column null.
    assert!(d.columns()[4..].iter().all(|c| c.get(0) == Some(V::Null)));
    // A key written with the file's first message has none of the key's columns: null.
    let key = frame(9, &[0], &[]);
    d.decode(
        0,
        &Record {
            offset: 1,
            timestamp_ms: 1,
            key: Some(&key),
            value: None,
        },
    )
    .unwrap();
    assert_eq!(cell(&d, "x", 1), V::Null);
}

/// A topic of many writer ids and hostile message indexes keeps at most `MAX_PLANS` plans; a
/// failed pair is not kept and is an error at every record.
#[test]
fn the_plan_cache_is_bounded_and_keeps_no_failures() {
    let (set, _) = compile(&[("all.proto", ALL)]);
    let store = store_of((1..=100).map(|id| info(id, id as i32, &set)).collect());
    let reader = side::descriptors_of(&store, 1).unwrap();
    let message = side::choose(&reader, &MessageChoice::Named("test.All".into())).unwrap();
    let mut s = ProtoSide::new(&reader, message).unwrap();
    let mut cols = columns_of(&s);
    let cols = &mut cols[..];
    for round in 0..2 {
        for id in 1..=100 {
            assert_eq!(
                s.stage(&frame(id, &[0], &[]), &store, cols),
                Ok(id),
                "round {round}"
            );
        }
    }
    assert_eq!(s.staged(), 200);
    assert_eq!(s.plans_kept(), side::MAX_PLANS);
    for k in 1_000..6_000 {
        let err = s.stage(&frame(1, &[0, k], &[]), &store, cols).unwrap_err();
        assert_eq!(err.0, Some(1));
        assert!(
            matches!(&err.1, crate::DecodeReason::Incompatible(e) if e.contains(&format!("no message at indexes [0, {k}]"))),
            "{err:?}"
        );
    }
    let again = s
        .stage(&frame(1, &[0, 1_000], &[]), &store, cols)
        .unwrap_err();
    assert!(
        matches!(again.1, crate::DecodeReason::Incompatible(_)),
        "{again:?}"
    );
    assert_eq!(s.plans_kept(), side::MAX_PLANS);
    assert_eq!(s.staged(), 200);
    // The kept plans still decode.
    assert_eq!(s.stage(&frame(7, &[0], &[]), &store, cols), Ok(7));
}

/// A schema whose message `L{l}` holds two `L{l+1}` fields, `depth` levels: 2^depth leaves.
fn dag(depth: usize, leaf: &str) -> Vec<u8> {
    let mut text = String::from("syntax = \"proto3\"; package dag;\n");
    text.push_str(&format!("message L{depth} {{ {leaf} }}\n"));
    for l in (0..depth).rev() {
        text.push_str(&format!(
            "message L{l} {{ L{n} a = 1; L{n} b = 2; }}\n",
            n = l + 1
        ));
    }
    compile(&[("dag.proto", &text)]).0
}

/// A DAG schema (a type used by two fields at each level) is refused with a clear error past
/// `MAX_COLUMNS` columns or `MAX_MESSAGES` nested messages, rather than flattened to 2^depth.
#[test]
fn a_dag_schema_is_refused_past_the_caps() {
    // 2^11 = 2048 columns: fine.
    let d = Descriptors::read(&dag(11, "int32 v = 1;")).unwrap();
    let leaves = columns::leaves(&d, d.by_name("dag.L0").unwrap()).unwrap();
    assert_eq!(leaves.len(), 1 << 11);
    assert_eq!(leaves[0].name, "a__a__a__a__a__a__a__a__a__a__a__v");
    // 2^16 columns: refused, saying why.
    let set = dag(16, "int32 v = 1;");
    let d = Descriptors::read(&set).unwrap();
    let err = columns::leaves(&d, d.by_name("dag.L0").unwrap()).unwrap_err();
    assert!(
        err.contains("dag.L0") && err.contains("more than 4096 columns"),
        "{err}"
    );
    // The decoder says so too.
    let store = store_of(vec![info(1, 1, &set)]);
    let spec = ProtoSpec {
        schema: crate::avro::ReaderSchema::Latest("t-value".into()),
        message: MessageChoice::Named("dag.L0".into()),
    };
    let err = RecordDecoder::new(store, Format::Ignore, Format::Protobuf(spec)).unwrap_err();
    assert!(err.to_string().contains("more than 4096 columns"), "{err}");
    // Leaves that give no column (repeated bytes) at 2^40: refused by the nested-message cap.
    let d = Descriptors::read(&dag(30, "repeated bytes v = 1;")).unwrap();
    let err = columns::leaves(&d, d.by_name("dag.L0").unwrap()).unwrap_err();
    assert!(err.contains("more than 16384 nested messages"), "{err}");
}

/// A chain of nested messages deeper than `MAX_DEPTH` is refused, saying so.
#[test]
fn a_schema_nested_past_the_depth_cap_is_refused() {
    let chain = |depth: usize| {
        let mut text =
            format!("syntax = \"proto3\"; package deep;\nmessage N{depth} {{ int32 v = 1; }}\n");
        for l in (0..depth).rev() {
            text.push_str(&format!("message N{l} {{ N{n} in = 1; }}\n", n = l + 1));
        }
        Descriptors::read(&compile(&[("deep.proto", &text)]).0).unwrap()
    };
    let d = chain(columns::MAX_DEPTH - 1);
    let leaves = columns::leaves(&d, d.by_name("deep.N0").unwrap()).unwrap();
    assert_eq!(leaves.len(), 1);
    assert_eq!(leaves[0].numbers.len(), columns::MAX_DEPTH);
    let d = chain(columns::MAX_DEPTH);
    let err = columns::leaves(&d, d.by_name("deep.N0").unwrap()).unwrap_err();
    assert!(err.contains("deeper than 32 levels"), "{err}");
}

/// A top-level `venue__name` beside a nested `venue.name` is refused, naming both fields.
#[test]
fn a_flattened_name_collision_names_both_fields() {
    let text = "syntax = \"proto3\"; package c; message Venue { string name = 1; } \
                message M { Venue venue = 1; string venue__name = 2; }";
    let (set, _) = compile(&[("c.proto", text)]);
    let store = store_of(vec![info(1, 1, &set)]);
    let spec = ProtoSpec {
        schema: crate::avro::ReaderSchema::Latest("t-value".into()),
        message: MessageChoice::Named("c.M".into()),
    };
    let err = RecordDecoder::new(store, Format::Ignore, Format::Protobuf(spec)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Protobuf schema: message c.M: fields `venue.name` and `venue__name` both flatten to column `venue__name`"
    );
}
