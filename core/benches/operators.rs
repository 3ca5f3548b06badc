//! The operators of issue 15 over 1M trades fed in cycles of 10k (the workload of
//! `aggregate.rs`): `selectDistinct(["Exchange","Instrument"])`, `headBy(3, ["Instrument"])` and
//! `sortDescending(["Size"]).headBy(3, ["Instrument"])`, each over an append, a stream and a ring
//! source. Rows through the operator per second (ingest included, as in `aggregate.rs`).
//!
//! cargo bench -p streamglass-core --bench operators

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use streamglass_core::{Engine, Table};

#[path = "workload.rs"]
#[allow(dead_code)]
mod workload;

use workload::{BATCH, BATCHES, batches, feed, source};

type MakeTable = fn(&Table) -> Table;

fn operators(c: &mut Criterion) {
    let batches = batches();
    let ops: [(&str, MakeTable); 4] = [
        ("none", |t| t.clone()),
        ("selectDistinct(Exchange, Instrument)", |t| {
            t.select_distinct(&["Exchange", "Instrument"])
                .expect("selectDistinct")
        }),
        ("headBy(3, Instrument)", |t| {
            t.head_by(3, &["Instrument"]).expect("headBy")
        }),
        ("sortDescending(Size).headBy(3, Instrument)", |t| {
            t.sort_descending(&["Size"])
                .and_then(|s| s.head_by(3, &["Instrument"]))
                .expect("sortDescending.headBy")
        }),
    ];
    for kind in ["append", "stream", "ring(200k)"] {
        let mut group = c.benchmark_group(format!("1M trades, {kind} source"));
        group.throughput(Throughput::Elements((BATCH * BATCHES) as u64));
        group.sample_size(10);
        for (name, make) in ops {
            // A sort of an append or ring table rewrites its output each cycle (new sizes land
            // anywhere): measured over the stream only.
            if name.starts_with("sortDescending") && kind != "stream" {
                continue;
            }
            group.bench_with_input(BenchmarkId::from_parameter(name), &make, |b, make| {
                b.iter_batched(
                    || batches.clone(),
                    |owned| {
                        let engine = Engine::new();
                        let table = source(&engine, kind);
                        let derived = make(&table);
                        feed(&engine, &table, owned);
                        derived.size()
                    },
                    BatchSize::LargeInput,
                )
            });
        }
        group.finish();
    }
}

criterion_group!(benches, operators);
criterion_main!(benches);
