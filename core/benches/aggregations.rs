//! The aggregations with their own per-group state (`GroupReducer`s): median and percentile
//! (order statistics), absSum, sortedFirst and unique, by Instrument over the workload's 1M
//! trades, 10k rows a cycle, over an append table and a ring of 100k rows (whose leaving rows are
//! taken back every cycle). Throughput is rows ingested and aggregated per second.
//!
//! cargo bench -p streamglass-core --bench aggregations

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use streamglass_core::{Agg, Engine, Table};

// The seed's own sources and aggregation are not used here.
#[allow(dead_code)]
#[path = "workload.rs"]
mod workload;

use workload::{BATCH, BATCHES, batches, feed, schema};

const RING: usize = 100_000;

fn source(engine: &Engine, kind: &str) -> Table {
    match kind {
        "append" => engine.append_table(schema()),
        _ => engine.ring_table(schema(), RING),
    }
}

fn reducers(c: &mut Criterion) {
    let batches = batches();
    let mut group = c.benchmark_group("ingest+aggBy by Instrument");
    group.throughput(Throughput::Elements((BATCH * BATCHES) as u64));
    group.sample_size(10);
    type MakeAgg = fn() -> Agg;
    let aggs: [(&str, MakeAgg); 5] = [
        ("Median(Price)", || Agg::median("Price")),
        ("Pct(0.95, Price)", || Agg::pct(0.95, "Price")),
        ("AbsSum(Size)", || Agg::abs_sum("Size")),
        ("SortedFirst(Price, Size)", || {
            Agg::sorted_first("Price", "Size")
        }),
        ("Unique(Exchange)", || Agg::unique("Exchange")),
    ];
    for (name, agg) in aggs {
        for kind in ["append", "ring(100k)"] {
            let id = BenchmarkId::new(name, kind);
            group.bench_with_input(id, &kind, |b, kind| {
                b.iter_batched(
                    || batches.clone(),
                    |owned| {
                        let engine = Engine::new();
                        let table = source(&engine, kind);
                        let result = table.agg_by(&[agg()], &["Instrument"]).expect("aggBy");
                        feed(&engine, &table, owned);
                        result.size()
                    },
                    BatchSize::LargeInput,
                )
            });
        }
    }
    group.finish();
}

criterion_group!(benches, reducers);
criterion_main!(benches);
