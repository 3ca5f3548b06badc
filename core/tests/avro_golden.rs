//! The golden vectors of `tests/data/avro/golden.json`, written by fastavro (an independent
//! encoder) with `tests/python/avro_golden.py`: every Avro type and every schema-evolution case,
//! decoded to the values fastavro reads with the same reader schema, column by column.

use serde_json::Value as Json;
use streamglass_core::avro::{Format, ReaderSchema, RecordDecoder, SchemaStore};
use streamglass_core::protocol::Record;
use streamglass_core::{ColumnType, Error, Value};

fn golden() -> Json {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/data/avro/golden.json"
    );
    let text = std::fs::read_to_string(path).expect("golden.json");
    serde_json::from_str(&text).expect("golden.json parses")
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

fn to_hex(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether a decoded value is what the golden file expects for a column of type `ty`.
fn matches(ty: ColumnType, got: &Value, want: &Json) -> bool {
    match (got, want) {
        (Value::Null, Json::Null) => true,
        (Value::Bool(a), Json::Bool(b)) => a == b,
        (Value::I32(a) | Value::Date(a), Json::Number(b)) => b.as_i64() == Some(i64::from(*a)),
        (Value::I64(a) | Value::Timestamp(a) | Value::Time(a), Json::Number(b)) => {
            b.as_i64() == Some(*a)
        }
        (Value::F64(a), Json::Number(b)) => b.as_f64() == Some(*a),
        (Value::F64(a), Json::String(s)) => match s.as_str() {
            "NaN" => a.is_nan(),
            "Infinity" => *a == f64::INFINITY,
            "-Infinity" => *a == f64::NEG_INFINITY,
            _ => false,
        },
        (Value::String(a), Json::String(b)) => a == b,
        (Value::String(a), Json::Object(o)) if o.contains_key("json") => {
            serde_json::from_str::<Json>(a).ok().as_ref() == o.get("json")
        }
        (Value::Binary(a), Json::String(b)) => &to_hex(a) == b,
        _ => {
            let _ = ty;
            false
        }
    }
}

#[test]
fn fastavro_golden_vectors_decode_to_what_fastavro_reads() {
    let golden = golden();
    let mut store = SchemaStore::new();
    for s in golden["schemas"].as_array().expect("schemas") {
        store
            .add(
                s["id"].as_u64().expect("id") as u32,
                s["subject"].as_str(),
                s["version"].as_i64().map(|v| v as i32),
                s["schema"].as_str().expect("schema"),
            )
            .expect("golden schema parses");
    }
    let mut checked = 0;
    for case in golden["cases"].as_array().expect("cases") {
        let name = case["name"].as_str().expect("name");
        let subject = case["reader"]["subject"]
            .as_str()
            .expect("subject")
            .to_owned();
        let reader = match case["reader"]["version"].as_i64() {
            Some(v) => ReaderSchema::Version(subject, v as i32),
            None => ReaderSchema::Latest(subject),
        };
        let mut decoder =
            RecordDecoder::new(store.clone(), Format::Ignore, Format::Avro(reader.clone()))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        let schema = decoder.schema().clone();
        let frames: Vec<Vec<u8>> = case["records"]
            .as_array()
            .expect("records")
            .iter()
            .map(|r| hex(r["hex"].as_str().expect("hex")))
            .collect();
        for (i, record) in case["records"]
            .as_array()
            .expect("records")
            .iter()
            .enumerate()
        {
            let bytes = frames[i].clone();
            let result = decoder.decode(
                1,
                &Record {
                    offset: i as i64,
                    timestamp_ms: 1_000,
                    key: None,
                    value: Some(&bytes),
                },
            );
            if let Some(kind) = record["error"].as_str() {
                match result {
                    Err(Error::Decode { reason, offset, .. }) => {
                        assert_eq!(offset, i as i64);
                        assert!(
                            format!("{reason:?}").starts_with(kind),
                            "{name} #{i}: expected {kind}, got {reason:?}"
                        );
                    }
                    other => panic!("{name} #{i}: expected {kind}, got {other:?}"),
                }
                continue;
            }
            result.unwrap_or_else(|e| panic!("{name} #{i}: {e}"));
            let row = decoder.rows() - 1;
            let want = record["columns"].as_object().expect("columns");
            let value_columns: Vec<&str> = schema.names()[3..].to_vec();
            let mut want_names: Vec<&str> = want.keys().map(String::as_str).collect();
            want_names.sort_unstable();
            let mut got_names = value_columns.clone();
            got_names.sort_unstable();
            assert_eq!(got_names, want_names, "{name}: column names");
            for (column, expected) in want {
                let index = schema.index_of(column).expect("column");
                let ty = schema.fields()[index].ty;
                let got = decoder.columns()[index].get(row).expect("row");
                assert!(
                    matches(ty, &got, expected),
                    "{name} #{i}: column {column} ({ty}) is {got:?}, fastavro reads {expected}"
                );
                checked += 1;
            }
        }
        assert!(decoder.columns().iter().all(|c| c.len() == decoder.rows()));
        // The case's records as one batch: the same rows and errors.
        let mut batched = RecordDecoder::new(store.clone(), Format::Ignore, Format::Avro(reader))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let records: Vec<Record> = frames
            .iter()
            .enumerate()
            .map(|(i, f)| Record {
                offset: i as i64,
                timestamp_ms: 1_000,
                key: None,
                value: Some(f),
            })
            .collect();
        let mut errors = 0u64;
        batched.decode_records(1, &records, |_| errors += 1);
        assert_eq!(batched.rows(), decoder.rows(), "{name}: batch rows");
        assert_eq!(errors, decoder.stats().skipped, "{name}: batch errors");
        for (c, (a, b)) in decoder.columns().iter().zip(batched.columns()).enumerate() {
            for row in 0..decoder.rows() {
                let (a, b) = (a.get(row), b.get(row));
                let same = match (&a, &b) {
                    (Some(Value::F64(x)), Some(Value::F64(y))) => x.to_bits() == y.to_bits(),
                    _ => a == b,
                };
                assert!(
                    same,
                    "{name}: column {c} row {row}: {a:?} one by one, {b:?} in a batch"
                );
            }
        }
    }
    assert!(checked > 150, "only {checked} values checked");
}
