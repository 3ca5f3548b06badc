//! `updateBy` on 1M trades of 4 instruments about a millisecond apart (the time benchmarks'
//! workload), by Instrument: `rollingAvg` over 100 ticks, over 1 minute of the `Ts` column, and
//! `ema` over 10 s of it. Each is fed to an append table in 16,384-row cycles (the live case: each
//! cycle costs what it adds) and in one cycle of every row (the batch case pandas is compared
//! with), and to a ring of 100k rows in 16,384-row cycles (rows leaving the front are taken out
//! of their windows, and the rows whose windows held them computed again). Throughput is rows
//! ingested and computed per second; "ingest only" is the table alone. "built table" is the
//! `updateBy` alone over an append table already holding every row (what pandas is timed on: a
//! frame already built): its first pass, with no ingestion.
//!
//! cargo bench -p streamglass-core --bench update_by

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use streamglass_core::{Batch, Engine, Table};

// The OHLC and zone pipelines of the time bench are not used here.
#[allow(dead_code)]
#[path = "time_workload.rs"]
mod time_workload;

use time_workload::{ROWS, ema_10s, rolling_avg_minute, rolling_avg_ticks, schema, trades};

type Pipeline = fn(&Table) -> Table;

/// How the rows are fed: in cycles of a batch or in one cycle, to an append table or a ring.
#[derive(Clone, Copy)]
enum Feed {
    Cycles,
    OneCycle,
    Ring,
}

const RING: usize = 100_000;

fn run(batches: Vec<Batch>, feed: Feed, pipeline: Pipeline) -> usize {
    let engine = Engine::new();
    let table = match feed {
        Feed::Ring => engine.ring_table(schema(), RING),
        _ => engine.append_table(schema()),
    };
    let one_cycle = matches!(feed, Feed::OneCycle);
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
    let mut group = c.benchmark_group("updateBy by Instrument over 1M trades");
    group.throughput(Throughput::Elements(ROWS as u64));
    group.sample_size(10);
    let pipelines: [(&str, Pipeline); 4] = [
        ("ingest only", |t| t.clone()),
        ("rollingAvg(revTicks 100, Price)", rolling_avg_ticks),
        ("rollingAvg(Ts, revTime 1 min, Price)", rolling_avg_minute),
        ("ema(Ts, 10 s, Price)", ema_10s),
    ];
    for (name, pipeline) in pipelines {
        let feeds = [
            ("16k-row cycles", Feed::Cycles),
            ("one cycle", Feed::OneCycle),
            ("ring(100k), 16k-row cycles", Feed::Ring),
        ];
        if name != "ingest only" {
            let engine = Engine::new();
            let table = engine.append_table(schema());
            for batch in batches.clone() {
                table.add(batch).expect("batch");
            }
            engine.run_cycle().expect("cycle");
            group.bench_with_input(
                BenchmarkId::new(name, "built table"),
                &pipeline,
                |b, pipeline| b.iter(|| pipeline(&table).size()),
            );
        }
        for (cycles, feed) in feeds {
            group.bench_with_input(BenchmarkId::new(name, cycles), &pipeline, |b, pipeline| {
                b.iter_batched(
                    || batches.clone(),
                    |owned| run(owned, feed, *pipeline),
                    BatchSize::LargeInput,
                )
            });
        }
    }
    group.finish();
}

criterion_group!(benches, update_by);
criterion_main!(benches);
