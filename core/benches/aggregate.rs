//! The seed's hot path: batches of typed trades into append and stream tables, with
//! `aggBy([Count("Trade_Count"), Sum("Total_Size = Size")], "Exchange", "Instrument")` live.
//!
//! cargo bench -p streamglass-core --bench aggregate

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use streamglass_core::column::{Column, ColumnType, Value};
use streamglass_core::{Agg, Batch, Engine, Schema};

const BATCH: usize = 10_000;
const BATCHES: usize = 100;

fn schema() -> Schema {
    Schema::of(&[
        ("KafkaOffset", ColumnType::I64),
        ("Exchange", ColumnType::String),
        ("Instrument", ColumnType::String),
        ("Price", ColumnType::F64),
        ("Size", ColumnType::F64),
    ])
    .expect("schema")
}

/// Pre-typed batches: strings dictionary-coded, as the decoder produces them.
fn batches() -> Vec<Batch> {
    let exchanges = [
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
            let mut columns: Vec<Column> =
                schema.fields().iter().map(|f| Column::new(f.ty)).collect();
            for i in 0..BATCH {
                let r = next();
                columns[0].push(&Value::I64((b * BATCH + i) as i64));
                columns[1].push(&Value::String(exchanges[(r % 11) as usize].into()));
                columns[2].push(&Value::String(instruments[((r >> 8) % 10) as usize].into()));
                columns[3].push(&Value::F64(60_000.0 + (r >> 20) as f64 % 1000.0));
                columns[4].push(&Value::F64(((r >> 40) % 1000) as f64 / 100.0));
            }
            Batch::from_columns(&schema, columns).expect("batch")
        })
        .collect()
}

fn aggregate(c: &mut Criterion) {
    let batches = batches();
    let mut group = c.benchmark_group("ingest+aggBy(Count,Sum) by Exchange,Instrument");
    group.throughput(Throughput::Elements((BATCH * BATCHES) as u64));
    group.sample_size(20);
    for kind in ["append", "stream"] {
        group.bench_with_input(BenchmarkId::from_parameter(kind), &kind, |b, kind| {
            b.iter(|| {
                let engine = Engine::new();
                let table = match *kind {
                    "append" => engine.append_table(schema()),
                    _ => engine.stream_table(schema()),
                };
                let agg = table
                    .agg_by(
                        &[Agg::count("Trade_Count"), Agg::sum("Total_Size = Size")],
                        &["Exchange", "Instrument"],
                    )
                    .expect("aggBy");
                for batch in &batches {
                    table.add(batch.clone()).expect("add");
                    engine.run_cycle().expect("cycle");
                }
                agg.size()
            })
        });
    }
    group.finish();
}

fn ingest(c: &mut Criterion) {
    let batches = batches();
    let mut group = c.benchmark_group("ingest only");
    group.throughput(Throughput::Elements((BATCH * BATCHES) as u64));
    group.sample_size(20);
    for kind in ["append", "stream"] {
        group.bench_with_input(BenchmarkId::from_parameter(kind), &kind, |b, kind| {
            b.iter(|| {
                let engine = Engine::new();
                let table = match *kind {
                    "append" => engine.append_table(schema()),
                    _ => engine.stream_table(schema()),
                };
                for batch in &batches {
                    table.add(batch.clone()).expect("add");
                    engine.run_cycle().expect("cycle");
                }
                table.size()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, aggregate, ingest);
criterion_main!(benches);
