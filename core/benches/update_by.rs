//! `updateBy` on 1M trades of 4 instruments about a millisecond apart (the time benchmarks'
//! workload), by Instrument: `rollingAvg` over 100 ticks, over 1 minute of the `Ts` column, and
//! `ema` over 10 s of it. Each is fed to an append table in 16,384-row cycles (the live case: each
//! cycle costs what it adds) and in one cycle of every row (the batch case pandas is compared
//! with). Throughput is rows ingested and computed per second; "ingest only" is the table alone.
//!
//! cargo bench -p streamglass-core --bench update_by

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use streamglass_core::time::{MINUTE, SECOND};
use streamglass_core::{Batch, Engine, Table, UpdateBy, UpdateByWindow};

// The OHLC and zone pipelines of the time bench are not used here.
#[allow(dead_code)]
#[path = "time_workload.rs"]
mod time_workload;

use time_workload::{ROWS, schema, trades};

type Pipeline = fn(&Table) -> Table;

fn by_instrument(t: &Table, op: UpdateBy) -> Table {
    t.update_by(&[op], &["Instrument"]).expect("updateBy")
}

fn run(batches: Vec<Batch>, one_cycle: bool, pipeline: Pipeline) -> usize {
    let engine = Engine::new();
    let table = engine.append_table(schema());
    let result = pipeline(&table);
    for batch in batches {
        table.add(batch).expect("batch");
        if !one_cycle {
            engine.run_cycle().expect("cycle");
        }
    }
    engine.run_cycle().expect("cycle");
    result.size()
}

fn update_by(c: &mut Criterion) {
    let batches = trades();
    let mut group = c.benchmark_group("updateBy by Instrument over 1M trades (append)");
    group.throughput(Throughput::Elements(ROWS as u64));
    group.sample_size(10);
    let pipelines: [(&str, Pipeline); 4] = [
        ("ingest only", |t| t.clone()),
        ("rollingAvg(revTicks 100, Price)", |t| {
            by_instrument(
                t,
                UpdateBy::rolling_avg(UpdateByWindow::ticks(100, 0), &["Avg = Price"]),
            )
        }),
        ("rollingAvg(Ts, revTime 1 min, Price)", |t| {
            by_instrument(
                t,
                UpdateBy::rolling_avg(UpdateByWindow::time("Ts", MINUTE, 0), &["Avg = Price"]),
            )
        }),
        ("ema(Ts, 10 s, Price)", |t| {
            by_instrument(t, UpdateBy::ema_time("Ts", 10 * SECOND, &["Ema = Price"]))
        }),
    ];
    for (name, pipeline) in pipelines {
        for (cycles, one_cycle) in [("16k-row cycles", false), ("one cycle", true)] {
            group.bench_with_input(BenchmarkId::new(name, cycles), &pipeline, |b, pipeline| {
                b.iter_batched(
                    || batches.clone(),
                    |owned| run(owned, one_cycle, *pipeline),
                    BatchSize::LargeInput,
                )
            });
        }
    }
    group.finish();
}

criterion_group!(benches, update_by);
criterion_main!(benches);
