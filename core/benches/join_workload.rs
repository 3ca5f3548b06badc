//! The as-of join benchmarks' workload: trades and quotes of 10 instruments, one every
//! microsecond, quotes half a microsecond after trades, both in time order. Shared by the
//! criterion bench (`benches/joins.rs`) and the wasm32 example (`examples/wasm_bench.rs`); the
//! pandas anchor (`tests/python/update_by_bench.py`) generates the same rows.

use streamglass_core::column::{Column, ColumnType, Value};
use streamglass_core::{Batch, Engine, Schema, Table};

pub const ROWS: usize = 1_000_000;
pub const BATCH: usize = 10_000;
const START: i64 = 1_767_632_400_000_000_000;

pub fn schema() -> Schema {
    Schema::of(&[
        ("KafkaTimestamp", ColumnType::Timestamp),
        ("Instrument", ColumnType::String),
        ("Price", ColumnType::F64),
    ])
    .expect("schema")
}

const INSTRUMENTS: [&str; 10] = [
    "BTC/USD", "BTC/USDT", "ETH/USD", "ETH/USDT", "ETH/BTC", "LTC/USD", "XRP/USD", "SOL/USD",
    "DOGE/USD", "ADA/USD",
];

/// `rows` rows from row `first` on, in batches of `batch`: one every microsecond, quotes (`odd`)
/// half a microsecond after trades, each of a pseudo-random instrument.
pub fn rows(first: usize, rows: usize, batch: usize, odd: bool) -> Vec<Batch> {
    let schema = schema();
    let mut x: u64 = 0x2545_f491_4f6c_dd1d ^ (first as u64) ^ u64::from(odd);
    (0..rows / batch)
        .map(|b| {
            let mut columns: Vec<Column> = schema
                .fields()
                .iter()
                .map(|f| Column::with_capacity(f.ty, batch))
                .collect();
            for i in 0..batch {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let n = (first + b * batch + i) as i64;
                let ts = START + n * 1_000 + if odd { 500 } else { 0 };
                columns[0].push(&Value::Timestamp(ts));
                columns[1].push(&Value::String(INSTRUMENTS[(x % 10) as usize].into()));
                columns[2].push(&Value::F64(60_000.0 + (x >> 20) as f64 % 1000.0));
            }
            Batch::from_columns(&schema, columns).expect("batch")
        })
        .collect()
}

pub fn feed(engine: &Engine, table: &Table, batches: Vec<Batch>) {
    for batch in batches {
        table.add(batch).expect("add");
    }
    engine.run_cycle().expect("cycle");
}

pub fn aj(left: &Table, right: &Table) -> Table {
    left.aj(right, &["Instrument", "KafkaTimestamp"], &["Quote = Price"])
        .expect("aj")
}
