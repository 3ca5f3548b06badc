//! Exports read back by independent readers: a table of every column type, with nulls and the
//! values that trip writers up (longs past 2^53, NaN and the infinities, -0.0, quotes, commas and
//! line breaks in strings, empty strings, empty and null arrays), exported as Arrow IPC, CSV and
//! JSON lines, and read by pyarrow and pandas (`tests/python/export_check.py`), which compare
//! every value with the table's cells as the core's viewport reads them (not as the exporter
//! writes them).

use std::process::Command;

use serde_json::{Value as Json, json};
use streamglass_core::column::ColumnType;
use streamglass_core::{Batch, Engine, Schema, Table, Value};
use streamglass_tests::{python, skip_or_fail, workspace_root};

static F64: ColumnType = ColumnType::F64;
static STRING: ColumnType = ColumnType::String;
static TIMESTAMP: ColumnType = ColumnType::Timestamp;

/// xorshift64*: the same rows on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// No subnormal: pandas' exact JSON parsing (`precise_float=True`) refuses them, though Python's
/// json, pandas' CSV reader and pyarrow read them (the core's own tests cover their text).
const SPECIAL_DOUBLES: [f64; 8] = [
    f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
    -0.0,
    f64::MIN_POSITIVE,
    1e300,
    0.1,
    -1.7976931348623157e308,
];
const ODD_STRINGS: [&str; 7] = [
    "",
    "a,b",
    "say \"hi\"",
    "two\nlines",
    "crlf\r\nend",
    "naïve ☃ 東京",
    "  padded  ",
];

/// A table of every type, fed `rows` rows (an append table, or a ring table of the newest `ring`):
/// one value in seven null, the odd values often.
fn table_of_every_type(rows: usize, ring: Option<usize>) -> Table {
    let engine = Engine::new();
    let schema = Schema::of(&[
        ("B", ColumnType::Bool),
        ("I", ColumnType::I32),
        ("L", ColumnType::I64),
        ("D", ColumnType::F64),
        ("T", ColumnType::Timestamp),
        ("Sym", ColumnType::String),
        ("Text", ColumnType::String),
        ("Day", ColumnType::Date),
        ("Tod", ColumnType::Time),
        ("Bin", ColumnType::Binary),
        ("Prices", ColumnType::Array(&F64)),
        ("Names", ColumnType::Array(&STRING)),
        ("Times", ColumnType::Array(&TIMESTAMP)),
    ])
    .unwrap();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut data = Vec::with_capacity(rows);
    for r in 0..rows {
        let mut row = Vec::new();
        let cell = |rng: &mut Rng, make: &dyn Fn(&mut Rng) -> Value| {
            if rng.below(7) == 0 {
                Value::Null
            } else {
                make(rng)
            }
        };
        row.push(cell(&mut rng, &|g| Value::Bool(g.below(2) == 0)));
        row.push(cell(&mut rng, &|g| match g.below(4) {
            0 => Value::I32(i32::MAX),
            1 => Value::I32(i32::MIN + 1),
            _ => Value::I32(g.next() as i32 / 7),
        }));
        row.push(cell(&mut rng, &|g| match g.below(4) {
            0 => Value::I64((1 << 53) + 1 + g.below(1000) as i64),
            1 => Value::I64(i64::MAX),
            2 => Value::I64(i64::MIN + 1),
            _ => Value::I64(g.next() as i64 >> 3),
        }));
        row.push(cell(&mut rng, &|g| match g.below(3) {
            0 => Value::F64(SPECIAL_DOUBLES[g.below(8) as usize]),
            // Any normal double: a random fraction, an exponent from 1 to 2046, a sign.
            _ => Value::F64(f64::from_bits(
                (g.next() >> 12) | (1 + g.below(2046)) << 52 | (g.below(2) << 63),
            )),
        }));
        // Within pandas' nanosecond range (1677 to 2262), at every precision.
        row.push(cell(&mut rng, &|g| {
            let t = g.below(8_000_000_000_000_000_000) as i64 - 3_000_000_000_000_000_000;
            Value::Timestamp(match g.below(4) {
                0 => t - t.rem_euclid(1_000_000_000),
                1 => t - t.rem_euclid(1_000_000),
                2 => t - t.rem_euclid(1000),
                _ => t,
            })
        }));
        row.push(cell(&mut rng, &|g| {
            Value::String(["BTC/USD", "ETH/USD", "SOL,USD", ""][g.below(4) as usize].into())
        }));
        row.push(cell(&mut rng, &|g| match g.below(3) {
            0 => Value::String(ODD_STRINGS[g.below(7) as usize].into()),
            _ => Value::String(format!("row {r} · {}", g.next())),
        }));
        row.push(cell(&mut rng, &|g| {
            Value::Date(g.below(200_000) as i32 - 100_000)
        }));
        row.push(cell(&mut rng, &|g| {
            let t = g.below(86_400_000_000_000) as i64;
            Value::Time(if g.below(2) == 0 {
                t - t % 1_000_000_000
            } else {
                t
            })
        }));
        row.push(cell(&mut rng, &|g| {
            Value::Binary((0..g.below(6)).map(|_| g.next() as u8).collect())
        }));
        row.push(cell(&mut rng, &|g| {
            Value::Array(
                (0..g.below(4))
                    .map(|_| match g.below(5) {
                        0 => Value::Null,
                        1 => Value::F64(SPECIAL_DOUBLES[g.below(8) as usize]),
                        _ => Value::F64(g.below(1_000_000) as f64 / 64.0),
                    })
                    .collect(),
            )
        }));
        row.push(cell(&mut rng, &|g| {
            Value::Array(
                (0..g.below(3))
                    .map(|_| match g.below(4) {
                        0 => Value::Null,
                        _ => Value::String(ODD_STRINGS[g.below(7) as usize].into()),
                    })
                    .collect(),
            )
        }));
        row.push(cell(&mut rng, &|g| {
            Value::Array(
                (0..g.below(3))
                    .map(|_| Value::Timestamp(g.below(4_000_000_000_000_000_000) as i64))
                    .collect(),
            )
        }));
        data.push(row);
    }
    let table = match ring {
        Some(capacity) => engine.ring_table(schema.clone(), capacity),
        None => engine.append_table(schema.clone()),
    };
    // In several batches and cycles, as a feed adds them (a ring table drops rows from the front
    // of its storage as it goes).
    for chunk in data.chunks(977) {
        table
            .add(Batch::from_rows(&schema, chunk).unwrap())
            .unwrap();
        engine.run_cycle().unwrap();
    }
    table
}

/// A cell as the checker compares it (see `export_check.py`).
fn canonical(value: &Value) -> Json {
    match value {
        Value::Null => Json::Null,
        Value::Bool(b) => json!(b),
        Value::I32(n) => json!(n),
        Value::I64(n) | Value::Timestamp(n) | Value::Time(n) => json!(n),
        Value::Date(d) => json!(d),
        Value::F64(x) if x.is_nan() => json!("NaN"),
        Value::F64(x) if x.is_infinite() => json!(if *x > 0.0 { "Infinity" } else { "-Infinity" }),
        Value::F64(x) => json!(x),
        Value::String(s) => json!(s),
        Value::Binary(b) => json!(b.iter().map(|b| format!("{b:02x}")).collect::<String>()),
        Value::Array(values) => Json::Array(values.iter().map(canonical).collect()),
    }
}

/// What the table holds, as the core's viewport reads it.
fn expected(table: &Table, dictionary: Option<&[&str]>) -> Json {
    let view = table.viewport(0, table.size());
    json!({
        "columns": view.columns,
        "types": view.types.iter().map(|t| t.to_string()).collect::<Vec<_>>(),
        "rows": view.rows.iter().map(|r| r.iter().map(canonical).collect::<Vec<_>>()).collect::<Vec<_>>(),
        "dictionary": dictionary,
    })
}

/// Runs the checker on the exports of `table`; its report.
fn check(test: &str, table: &Table, dictionary: Option<&[&str]>) -> Option<Json> {
    let env = match python::env() {
        Ok(env) => env,
        Err(reason) => {
            skip_or_fail(test, &reason);
            return None;
        }
    };
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name);
    std::fs::write(
        path("expected.json"),
        expected(table, dictionary).to_string(),
    )
    .unwrap();
    std::fs::write(path("t.arrow"), table.to_arrow_ipc().unwrap()).unwrap();
    std::fs::write(path("t.csv"), table.to_csv()).unwrap();
    std::fs::write(path("t.jsonl"), table.to_json_lines()).unwrap();
    let out = Command::new(env.python())
        .arg(workspace_root().join("tests/python/export_check.py"))
        .arg(path("expected.json"))
        .arg("--arrow")
        .arg(path("t.arrow"))
        .arg("--csv")
        .arg(path("t.csv"))
        .arg("--jsonl")
        .arg(path("t.jsonl"))
        .output()
        .expect("run python");
    let report: Json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{test}: no report ({e}):\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert!(out.status.success(), "{test}: {report:#}");
    Some(report)
}

#[test]
fn pyarrow_and_pandas_read_every_export_equal_to_the_table() {
    let table = table_of_every_type(5000, None);
    let Some(report) = check("export of every type", &table, Some(&["Sym"])) else {
        return;
    };
    assert_eq!(
        report["checked"],
        json!({"arrow": true, "csv": true, "jsonl": true})
    );
    assert_eq!(report["rows"], 5000);
}

#[test]
fn a_ring_table_and_an_empty_table_export_too() {
    // Its storage starts mid-chunk, after the rows that left the front.
    let ring = table_of_every_type(3000, Some(1234));
    let empty = ring.head(0).unwrap();
    ring.engine().run_cycle().unwrap();
    for (what, t, rows) in [("ring", &ring, 1234), ("empty", &empty, 0)] {
        let Some(report) = check(what, t, None) else {
            return;
        };
        assert_eq!(report["rows"], rows, "{what}");
    }
}
