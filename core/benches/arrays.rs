//! Array columns: `groupBy`, `ungroup`, `Agg.group` / `Agg.distinct` and array formulas, live over
//! the workload's trades (10,000 rows a cycle). A grouped table is rewritten every cycle, so a
//! cycle costs the rows it covers: a ring's 200k, or a `dropStream`'s 10k.
//!
//! cargo bench -p streamglass-core --bench arrays

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use streamglass_core::{Agg, Engine, Table};

// Shared with the aggregate bench, which uses all of it.
#[allow(dead_code)]
#[path = "workload.rs"]
mod workload;

use workload::{BATCH, batches, feed, source};

/// Cycles fed per measurement (each of `BATCH` rows).
const CYCLES: usize = 20;

type MakeTable = fn(&Table) -> Table;

fn grouping(c: &mut Criterion) {
    let batches: Vec<_> = batches().into_iter().take(CYCLES).collect();
    let mut group = c.benchmark_group("arrays");
    group.throughput(Throughput::Elements((BATCH * CYCLES) as u64));
    group.sample_size(10);
    let cases: [(&str, &str, MakeTable); 5] = [
        ("stream.dropStream", "groupBy(Exchange)", |t| {
            t.drop_stream().unwrap().group_by(&["Exchange"]).unwrap()
        }),
        ("stream.dropStream", "groupBy(Exchange).ungroup()", |t| {
            let grouped = t.drop_stream().unwrap().group_by(&["Exchange"]).unwrap();
            grouped.ungroup(&[], false).unwrap()
        }),
        ("ring(200k)", "groupBy(Exchange)", |t| {
            t.group_by(&["Exchange"]).unwrap()
        }),
        (
            "ring(200k)",
            "aggBy(group(Size), distinct(Exchange)) by Instrument",
            |t| {
                t.agg_by(
                    &[
                        Agg::group("Sizes = Size"),
                        Agg::distinct("Venues = Exchange"),
                    ],
                    &["Instrument"],
                )
                .unwrap()
            },
        ),
        (
            "ring(200k)",
            "groupBy(Exchange).view(len, sum, max, [0])",
            |t| {
                t.group_by(&["Exchange"])
                    .unwrap()
                    .view(&[
                        "Exchange",
                        "N = len(Size)",
                        "Total = sum(Size)",
                        "Top = max(Price)",
                        "First = KafkaOffset[0]",
                    ])
                    .unwrap()
            },
        ),
    ];
    for (kind, what, make) in cases {
        let source_kind = if kind.starts_with("ring") {
            "ring"
        } else {
            "stream"
        };
        group.bench_with_input(
            BenchmarkId::new(what, kind),
            &(source_kind, make),
            |b, (source_kind, make)| {
                b.iter_batched(
                    || batches.clone(),
                    |owned| {
                        let engine = Engine::new();
                        let table = source(&engine, source_kind);
                        let derived = make(&table);
                        feed(&engine, &table, owned);
                        derived.size()
                    },
                    BatchSize::LargeInput,
                )
            },
        );
    }
    group.finish();
}

criterion_group!(benches, grouping);
criterion_main!(benches);
