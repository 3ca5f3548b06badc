//! Cross-check against apache-avro: random schemas and random records, encoded by apache-avro's
//! `to_avro_datum`, decode to the columns the mapping says, value for value.

use apache_avro::types::Value as Avro;
use proptest::prelude::*;
use serde_json::{Value as Json, json};
use streamglass_core::avro::{Format, ReaderSchema, RecordDecoder, SchemaStore};
use streamglass_core::protocol::Record;
use streamglass_core::{Value, column::NULL_F64};

mod common;
use common::Rng;

/// A random type.
#[derive(Debug, Clone)]
enum Ty {
    Bool,
    Int,
    Long,
    Float,
    Double,
    Str,
    Bytes,
    Enum(usize),
    Fixed(usize),
    TsMicros,
    Date,
    Nullable(Box<Ty>),
    Multi,
    Array(Box<Ty>),
    Map,
    Record(Vec<Ty>),
}

fn leaf() -> impl Strategy<Value = Ty> {
    prop_oneof![
        Just(Ty::Bool),
        Just(Ty::Int),
        Just(Ty::Long),
        Just(Ty::Float),
        Just(Ty::Double),
        Just(Ty::Str),
        Just(Ty::Bytes),
        (1usize..5).prop_map(Ty::Enum),
        (0usize..6).prop_map(Ty::Fixed),
        Just(Ty::TsMicros),
        Just(Ty::Date),
        Just(Ty::Multi),
        Just(Ty::Map),
    ]
}

fn ty() -> impl Strategy<Value = Ty> {
    leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            // A union may not hold a union.
            inner.clone().prop_map(|t| match t {
                Ty::Nullable(_) | Ty::Multi => t,
                t => Ty::Nullable(Box::new(t)),
            }),
            leaf().prop_map(|t| Ty::Array(Box::new(t))),
            proptest::collection::vec(inner, 1..4).prop_map(Ty::Record),
        ]
    })
}

struct Namer(usize);

impl Namer {
    fn next(&mut self, kind: &str) -> String {
        self.0 += 1;
        format!("{kind}{}", self.0)
    }
}

fn schema(t: &Ty, n: &mut Namer) -> Json {
    match t {
        Ty::Bool => json!("boolean"),
        Ty::Int => json!("int"),
        Ty::Long => json!("long"),
        Ty::Float => json!("float"),
        Ty::Double => json!("double"),
        Ty::Str => json!("string"),
        Ty::Bytes => json!("bytes"),
        Ty::Enum(k) => json!({"type": "enum", "name": n.next("E"),
            "symbols": (0..*k).map(|i| format!("S{i}")).collect::<Vec<_>>()}),
        Ty::Fixed(k) => json!({"type": "fixed", "name": n.next("F"), "size": k}),
        Ty::TsMicros => json!({"type": "long", "logicalType": "timestamp-micros"}),
        Ty::Date => json!({"type": "int", "logicalType": "date"}),
        Ty::Nullable(inner) => json!(["null", schema(inner, n)]),
        Ty::Multi => json!(["null", "int", "string"]),
        Ty::Array(inner) => json!({"type": "array", "items": schema(inner, n)}),
        Ty::Map => json!({"type": "map", "values": "long"}),
        Ty::Record(fields) => json!({"type": "record", "name": n.next("R"), "fields":
            fields.iter().enumerate().map(|(i, f)| json!({"name": format!("f{i}"), "type": schema(f, n)})).collect::<Vec<_>>()}),
    }
}

/// Random strings and bytes for values.
trait Values {
    fn string(&mut self) -> String;
    fn bytes(&mut self, len: usize) -> Vec<u8>;
}

impl Values for Rng {
    fn string(&mut self) -> String {
        let len = self.below(6);
        (0..len)
            .map(|_| ['a', 'é', '€', '"', '\\', 'z', '日'][self.below(7) as usize])
            .collect()
    }
    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }
}

/// A random value of `t`, with the columns it should become and its JSON (for arrays).
fn value(t: &Ty, rng: &mut Rng, cols: &mut Vec<Value>) -> (Avro, Json) {
    match t {
        Ty::Bool => {
            let v = rng.below(2) == 1;
            cols.push(Value::Bool(v));
            (Avro::Boolean(v), json!(v))
        }
        Ty::Int => {
            let v = rng.next() as i32 >> rng.below(31);
            cols.push(if v == i32::MIN {
                Value::Null
            } else {
                Value::I32(v)
            });
            (Avro::Int(v), json!(v))
        }
        Ty::Long => {
            let v = rng.next() as i64 >> rng.below(63);
            cols.push(if v == i64::MIN {
                Value::Null
            } else {
                Value::I64(v)
            });
            (Avro::Long(v), json!(v))
        }
        Ty::Float => {
            let v = (rng.next() as i32 as f32) / 1024.0;
            cols.push(Value::F64(f64::from(v)));
            (Avro::Float(v), json!(f64::from(v)))
        }
        Ty::Double => {
            let v = f64::from_bits(rng.next());
            let v = if v.is_finite() { v } else { 0.5 };
            cols.push(if v == NULL_F64 {
                Value::Null
            } else {
                Value::F64(v)
            });
            (Avro::Double(v), json!(v))
        }
        Ty::Str => {
            let s = rng.string();
            cols.push(Value::String(s.clone()));
            (Avro::String(s.clone()), json!(s))
        }
        Ty::Bytes => {
            let len = rng.below(5) as usize;
            let b = rng.bytes(len);
            cols.push(Value::Binary(b.clone()));
            let text: String = b.iter().map(|&c| char::from(c)).collect();
            (Avro::Bytes(b), json!(text))
        }
        Ty::Enum(k) => {
            let i = rng.below(*k as u64) as u32;
            cols.push(Value::String(format!("S{i}")));
            (Avro::Enum(i, format!("S{i}")), json!(format!("S{i}")))
        }
        Ty::Fixed(k) => {
            let b = rng.bytes(*k);
            cols.push(Value::Binary(b.clone()));
            let text: String = b.iter().map(|&c| char::from(c)).collect();
            (Avro::Fixed(*k, b), json!(text))
        }
        Ty::TsMicros => {
            let v = (rng.next() >> 12) as i64 - (1 << 51);
            cols.push(Value::Timestamp(v * 1_000));
            (Avro::TimestampMicros(v), json!(v))
        }
        Ty::Date => {
            let v = rng.below(100_000) as i32 - 50_000;
            cols.push(Value::Date(v));
            (Avro::Date(v), json!(v))
        }
        Ty::Nullable(inner) => {
            if rng.below(3) == 0 {
                let mut inner_cols = Vec::new();
                value(inner, rng, &mut inner_cols);
                cols.extend(inner_cols.iter().map(|_| Value::Null));
                (Avro::Union(0, Box::new(Avro::Null)), Json::Null)
            } else {
                let (v, j) = value(inner, rng, cols);
                (Avro::Union(1, Box::new(v)), j)
            }
        }
        Ty::Multi => match rng.below(3) {
            0 => {
                cols.extend([Value::Null, Value::Null]);
                (Avro::Union(0, Box::new(Avro::Null)), Json::Null)
            }
            1 => {
                let v = rng.next() as i32 >> 8;
                cols.extend([Value::I32(v), Value::Null]);
                (Avro::Union(1, Box::new(Avro::Int(v))), json!(v))
            }
            _ => {
                let s = rng.string();
                cols.extend([Value::Null, Value::String(s.clone())]);
                (Avro::Union(2, Box::new(Avro::String(s.clone()))), json!(s))
            }
        },
        Ty::Array(inner) => {
            let n = rng.below(4);
            let mut items = Vec::new();
            let mut json_items = Vec::new();
            for _ in 0..n {
                let (v, j) = value(inner, rng, &mut Vec::new());
                items.push(v);
                json_items.push(j);
            }
            let j = Json::Array(json_items);
            cols.push(Value::String(j.to_string()));
            (Avro::Array(items), j)
        }
        Ty::Map => {
            let n = rng.below(4);
            let mut map = std::collections::HashMap::new();
            for _ in 0..n {
                map.insert(rng.string(), rng.next() as i64 >> 20);
            }
            let j: serde_json::Map<String, Json> =
                map.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
            let j = Json::Object(j);
            cols.push(Value::String(j.to_string()));
            (
                Avro::Map(map.into_iter().map(|(k, v)| (k, Avro::Long(v))).collect()),
                j,
            )
        }
        Ty::Record(fields) => {
            let mut avro = Vec::new();
            let mut obj = serde_json::Map::new();
            for (i, f) in fields.iter().enumerate() {
                let (v, j) = value(f, rng, cols);
                avro.push((format!("f{i}"), v));
                obj.insert(format!("f{i}"), j);
            }
            (Avro::Record(avro), Json::Object(obj))
        }
    }
}

/// Equal, comparing JSON text columns as parsed JSON.
fn same(got: &Value, want: &Value) -> bool {
    match (got, want) {
        (Value::String(a), Value::String(b)) if a != b => {
            match (
                serde_json::from_str::<Json>(a),
                serde_json::from_str::<Json>(b),
            ) {
                (Ok(x), Ok(y)) => x == y,
                _ => false,
            }
        }
        _ => got == want,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn random_schemas_and_records_decode_like_apache_avro(
        fields in proptest::collection::vec(ty(), 1..6),
        seed in 1u64..,
    ) {
        let top = Ty::Record(fields);
        let text = schema(&top, &mut Namer(0)).to_string();
        let parsed = apache_avro::Schema::parse_str(&text).expect("schema");
        let mut store = SchemaStore::new();
        store.add(1, Some("s"), Some(1), &text).expect("store");
        let mut decoder = RecordDecoder::new(store, Format::Ignore, Format::Avro(ReaderSchema::Latest("s".into())))
            .expect("decoder");
        let mut batched = RecordDecoder::new(store_of(&text), Format::Ignore, Format::Avro(ReaderSchema::Latest("s".into())))
            .expect("decoder");
        let mut rng = Rng(seed);
        let mut frames = Vec::new();
        for offset in 0..8 {
            let mut want = Vec::new();
            let (avro, _) = value(&top, &mut rng, &mut want);
            let mut frame = vec![0, 0, 0, 0, 1];
            frame.extend(apache_avro::to_avro_datum(&parsed, avro).expect("encodes"));
            decoder
                .decode(0, &Record { offset, timestamp_ms: 0, key: None, value: Some(&frame) })
                .map_err(|e| TestCaseError::fail(format!("{e} for {text}")))?;
            frames.push(frame);
            let row = decoder.rows() - 1;
            let got: Vec<Value> = decoder.columns()[3..].iter().map(|c| c.get(row).expect("row")).collect();
            prop_assert_eq!(got.len(), want.len(), "{}", text);
            for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                prop_assert!(same(g, w), "column {} ({}): got {:?}, want {:?}, schema {}",
                    i, decoder.schema().fields()[i + 3].name, g, w, text);
            }
        }
        // The same frames as one batch (through the plan's lanes where it has them): the same
        // rows.
        let records: Vec<Record> = frames
            .iter()
            .enumerate()
            .map(|(i, f)| Record { offset: i as i64, timestamp_ms: 0, key: None, value: Some(f) })
            .collect();
        let added = batched.decode_records(0, &records, |e| panic!("{e} for {text}"));
        prop_assert_eq!(added, records.len());
        for (c, (a, b)) in decoder.columns().iter().zip(batched.columns()).enumerate() {
            prop_assert_eq!(a.len(), b.len());
            for row in 0..a.len() {
                let (x, y) = (a.get(row).expect("row"), b.get(row).expect("row"));
                prop_assert!(same(&y, &x), "column {} row {}: batch {:?}, record by record {:?}, schema {}", c, row, y, x, text);
            }
        }
    }
}

fn store_of(text: &str) -> SchemaStore {
    let mut store = SchemaStore::new();
    store.add(1, Some("s"), Some(1), text).expect("store");
    store
}
