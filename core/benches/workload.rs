//! The benchmarks' workload: pre-typed batches of trades, strings dictionary-coded as the decoder
//! produces them. Shared by the criterion bench and the wasm32 example.

use streamglass_core::column::{Column, ColumnType, Value};
use streamglass_core::{Agg, Batch, Engine, Schema, Table};

// The decoding benches' exchanges (`trade_source.rs`), so the workloads name the same ones.
#[path = "trade_source.rs"]
mod trade_source;

pub const BATCH: usize = 10_000;
pub const BATCHES: usize = 100;

pub fn schema() -> Schema {
    Schema::of(&[
        ("KafkaOffset", ColumnType::I64),
        ("Exchange", ColumnType::String),
        ("Instrument", ColumnType::String),
        ("Price", ColumnType::F64),
        ("Size", ColumnType::F64),
    ])
    .expect("schema")
}

/// Pre-typed batches.
pub fn batches() -> Vec<Batch> {
    let instruments = [
        "BTC/USD", "BTC/USDT", "ETH/USD", "ETH/USDT", "ETH/BTC", "LTC/USD", "XRP/USD", "SOL/USD",
        "DOGE/USD", "ADA/USD",
    ];
    let schema = schema();
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    (0..BATCHES)
        .map(|b| {
            let mut columns: Vec<Column> = schema
                .fields()
                .iter()
                .map(|f| Column::with_capacity(f.ty, BATCH))
                .collect();
            for i in 0..BATCH {
                let r = next();
                columns[0].push(&Value::I64((b * BATCH + i) as i64));
                columns[1].push(&Value::String(
                    trade_source::EXCHANGES[(r % 11) as usize].into(),
                ));
                columns[2].push(&Value::String(instruments[((r >> 8) % 10) as usize].into()));
                columns[3].push(&Value::F64(60_000.0 + (r >> 20) as f64 % 1000.0));
                columns[4].push(&Value::F64(((r >> 40) % 1000) as f64 / 100.0));
            }
            Batch::from_columns(&schema, columns).expect("batch")
        })
        .collect()
}

/// A source table of the workload's schema: `append`, `stream` or a ring of 200k rows.
pub fn source(engine: &Engine, kind: &str) -> Table {
    match kind {
        "append" => engine.append_table(schema()),
        "stream" => engine.stream_table(schema()),
        _ => engine.ring_table(schema(), 200_000),
    }
}

/// The seed's aggregation: `aggBy([Count("Trade_Count"), Sum("Total_Size = Size")], "Exchange",
/// "Instrument")`.
pub fn seed_aggregation(table: &Table) -> Table {
    table
        .agg_by(
            &[Agg::count("Trade_Count"), Agg::sum("Total_Size = Size")],
            &["Exchange", "Instrument"],
        )
        .expect("aggBy")
}

/// Gives the table one batch per cycle.
pub fn feed(engine: &Engine, table: &Table, batches: Vec<Batch>) {
    for batch in batches {
        table.add(batch).expect("add");
        engine.run_cycle().expect("cycle");
    }
}
