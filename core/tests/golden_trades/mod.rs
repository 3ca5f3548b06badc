//! The trades and quotes of `tests/data/update_by/golden.json` (written by pandas with
//! `tests/python/update_by_golden.py`), as rows for the engine's tables. Shared by the `updateBy`
//! and as-of join golden tests.

use serde_json::Value as Json;
use streamglass_core::{ColumnType, Schema, Value};

/// The golden file.
pub fn golden() -> Json {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/data/update_by/golden.json"
    );
    let text = std::fs::read_to_string(path).expect("golden.json");
    serde_json::from_str(&text).expect("golden.json parses")
}

/// The trades' columns.
pub fn trade_schema() -> Schema {
    Schema::of(&[
        ("Instrument", ColumnType::String),
        ("Exchange", ColumnType::String),
        ("Ts", ColumnType::Timestamp),
        ("Price", ColumnType::F64),
        ("Size", ColumnType::F64),
    ])
    .unwrap()
}

/// The trades, a row each (a null price as null).
pub fn trade_rows(golden: &Json) -> Vec<Vec<Value>> {
    golden["trades"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            vec![
                Value::String(t["Instrument"].as_str().unwrap().into()),
                Value::String(t["Exchange"].as_str().unwrap().into()),
                Value::Timestamp(t["Ts"].as_i64().unwrap()),
                t["Price"].as_f64().map_or(Value::Null, Value::F64),
                Value::F64(t["Size"].as_f64().unwrap()),
            ]
        })
        .collect()
}
