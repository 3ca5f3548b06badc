//! The golden vectors of `tests/data/time/golden.json`, written by Python's `datetime` and
//! `zoneinfo` (an independent implementation) with `tests/python/time_golden.py`: every time
//! function and literal, over DST gaps and overlaps in three zones, leap years, negative epochs
//! and nulls, each checked through a formula (`updateView`) on a live table.

use serde_json::Value as Json;
use streamglass_core::{Batch, ColumnType, Engine, Schema, Table, Value};

fn golden() -> Json {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/data/time/golden.json"
    );
    let text = std::fs::read_to_string(path).expect("golden.json");
    serde_json::from_str(&text).expect("golden.json parses")
}

fn type_of(name: &str) -> ColumnType {
    match name {
        "Bool" => ColumnType::Bool,
        "I32" => ColumnType::I32,
        "I64" => ColumnType::I64,
        "F64" => ColumnType::F64,
        "Timestamp" => ColumnType::Timestamp,
        "Date" => ColumnType::Date,
        "Time" => ColumnType::Time,
        "String" => ColumnType::String,
        other => panic!("type {other}"),
    }
}

fn matches(got: &Value, want: &Json) -> bool {
    match (got, want) {
        (Value::Null, Json::Null) => true,
        (Value::Bool(a), Json::Bool(b)) => a == b,
        (Value::I32(a) | Value::Date(a), Json::Number(b)) => b.as_i64() == Some(i64::from(*a)),
        (Value::I64(a) | Value::Timestamp(a) | Value::Time(a), Json::Number(b)) => {
            b.as_i64() == Some(*a)
        }
        (Value::F64(a), Json::Number(b)) => b.as_f64() == Some(*a),
        (Value::String(a), Json::String(b)) => a == b,
        _ => false,
    }
}

fn source(engine: &Engine, golden: &Json) -> Table {
    let schema = Schema::of(&[
        ("T", ColumnType::Timestamp),
        ("U", ColumnType::Timestamp),
        ("N", ColumnType::I64),
    ])
    .unwrap();
    let value = |v: &Json, ty: fn(i64) -> Value| v.as_i64().map_or(Value::Null, ty);
    let rows: Vec<Vec<Value>> = golden["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            vec![
                value(&r["T"], Value::Timestamp),
                value(&r["U"], Value::Timestamp),
                value(&r["N"], Value::I64),
            ]
        })
        .collect();
    let table = engine.append_table(schema.clone());
    table
        .add(Batch::from_rows(&schema, &rows).unwrap())
        .unwrap();
    engine.run_cycle().unwrap();
    table
}

/// Checks every case; returns the failures, so one run lists them all.
fn check(table: &Table, cases: &Json, failures: &mut Vec<String>) {
    for case in cases.as_array().unwrap() {
        let formula = case["formula"].as_str().unwrap();
        let ty = type_of(case["type"].as_str().unwrap());
        let view = match table.update_view(&[&format!("X = {formula}")]) {
            Ok(view) => view,
            Err(e) => {
                failures.push(format!("{formula}: {e}"));
                continue;
            }
        };
        let x = view.schema().index_of("X").unwrap();
        if view.schema().fields()[x].ty != ty {
            failures.push(format!(
                "{formula}: type {} (want {ty})",
                view.schema().fields()[x].ty
            ));
            continue;
        }
        let want: Vec<&Json> = match &case["expect"] {
            Json::Array(values) => values.iter().collect(),
            single => vec![single; table.size()],
        };
        for (row, want) in want.iter().enumerate() {
            let got = view.get("X", row).unwrap();
            if !matches(&got, want) {
                failures.push(format!(
                    "{formula} at row {row} (T = {}): got {got:?}, want {want}",
                    table.get("T", row).unwrap()
                ));
            }
        }
    }
}

#[test]
fn every_time_function_and_literal_matches_python() {
    let golden = golden();
    let engine = Engine::new();
    let table = source(&engine, &golden);
    let mut failures = Vec::new();
    check(&table, &golden["cases"], &mut failures);
    check(&table, &golden["literals"], &mut failures);
    let cases =
        golden["cases"].as_array().unwrap().len() + golden["literals"].as_array().unwrap().len();
    assert!(cases > 140, "the golden file has {cases} cases");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures[..failures.len().min(40)].join("\n")
    );
}
