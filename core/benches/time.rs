//! Time in formulas, on 1M trades of 4 instruments whose timestamps rise about 1,000 a second:
//! a 1-minute OHLC (`updateView(["Minute = lowerBin(Ts, MINUTE)"])`, then `aggBy([First Open =
//! Price, Max High = Price, Min Low = Price, Last Close = Price], ["Instrument", "Minute"])`), and a
//! zone part (`hourOfDay(Ts, 'America/New_York')`), fed in batches of 16,384 rows to an append
//! table, one cycle per batch.
//!
//! cargo bench -p streamglass-core --bench time

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use streamglass_core::{Agg, Batch, ColumnType, Engine, Schema, Table, Value};

const ROWS: usize = 1 << 20;
const BATCH: usize = 16_384;

fn schema() -> Schema {
    Schema::of(&[
        ("Ts", ColumnType::Timestamp),
        ("Instrument", ColumnType::String),
        ("Price", ColumnType::F64),
    ])
    .expect("schema")
}

/// Trades from 2026-01-05T17:00:00Z, about a millisecond apart.
fn batches() -> Vec<Batch> {
    let instruments = ["BTC/USD", "ETH/USD", "BTC/USDT", "SOL/USD"];
    let schema = schema();
    let mut ts = 1_767_632_400_000_000_000i64;
    let mut state = 15u64;
    (0..ROWS / BATCH)
        .map(|_| {
            let mut batch = Batch::with_capacity(&schema, BATCH);
            for _ in 0..BATCH {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                let r = state >> 20;
                ts += 500_000 + (r % 1_000_000) as i64;
                batch
                    .push_row(&[
                        Value::Timestamp(ts),
                        Value::String(instruments[(r >> 24) as usize % 4].into()),
                        Value::F64(60_000.0 + ((r >> 30) % 10_000) as f64 / 10.0),
                    ])
                    .expect("row");
            }
            batch
        })
        .collect()
}

type Pipeline = fn(&Table) -> Table;

fn time(c: &mut Criterion) {
    let batches = batches();
    let mut group = c.benchmark_group("time over 1M trades (append, 16k-row cycles)");
    group.throughput(Throughput::Elements(ROWS as u64));
    group.sample_size(10);
    let pipelines: [(&str, Pipeline); 4] = [
        ("ingest only", |t| t.clone()),
        ("updateView(Minute = lowerBin(Ts, MINUTE))", |t| {
            t.update(&["Minute = lowerBin(Ts, MINUTE)"])
                .expect("update")
        }),
        ("1-minute OHLC: lowerBin + aggBy(First,Max,Min,Last)", |t| {
            t.update_view(&["Minute = lowerBin(Ts, MINUTE)"])
                .expect("updateView")
                .agg_by(
                    &[
                        Agg::first("Open = Price"),
                        Agg::max("High = Price"),
                        Agg::min("Low = Price"),
                        Agg::last("Close = Price"),
                    ],
                    &["Instrument", "Minute"],
                )
                .expect("aggBy")
        }),
        ("update(Hour = hourOfDay(Ts, 'America/New_York'))", |t| {
            t.update(&["Hour = hourOfDay(Ts, 'America/New_York')"])
                .expect("update")
        }),
    ];
    for (name, pipeline) in pipelines {
        group.bench_with_input(BenchmarkId::from_parameter(name), &pipeline, |b, pipeline| {
            b.iter_batched(
                || batches.clone(),
                |owned| {
                    let engine = Engine::new();
                    let source = engine.append_table(schema());
                    let out = pipeline(&source);
                    for batch in owned {
                        source.add(batch).expect("add");
                        engine.run_cycle().expect("cycle");
                    }
                    out.size()
                },
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, time);
criterion_main!(benches);
