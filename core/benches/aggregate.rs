//! The seed's hot path: batches of typed trades into append and stream tables, with
//! `aggBy([Count("Trade_Count"), Sum("Total_Size = Size")], "Exchange", "Instrument")` live.
//!
//! cargo bench -p streamglass-core --bench aggregate

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use streamglass_core::{Engine, Table};

#[path = "workload.rs"]
mod workload;

use workload::{BATCH, BATCHES, batches, feed, schema, seed_aggregation, source};

fn aggregate(c: &mut Criterion) {
    let batches = batches();
    let mut group = c.benchmark_group("ingest+aggBy(Count,Sum) by Exchange,Instrument");
    group.throughput(Throughput::Elements((BATCH * BATCHES) as u64));
    group.sample_size(20);
    for kind in ["append", "stream", "ring(200k)"] {
        group.bench_with_input(BenchmarkId::from_parameter(kind), &kind, |b, kind| {
            b.iter_batched(
                || batches.clone(),
                |owned| {
                    let engine = Engine::new();
                    let table = source(&engine, kind);
                    let agg = seed_aggregation(&table);
                    feed(&engine, &table, owned);
                    agg.size()
                },
                BatchSize::LargeInput,
            )
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
            b.iter_batched(
                || batches.clone(),
                |owned| {
                    let engine = Engine::new();
                    let table = source(&engine, kind);
                    feed(&engine, &table, owned);
                    table.size()
                },
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

/// Builds the operator under test from a source and a small lookup table.
type MakeTable = fn(&Table, &Table) -> Table;

/// `where`, `updateView` and `naturalJoin` over a stream source: rows through the operator per second.
fn operators(c: &mut Criterion) {
    let batches = batches();
    let mut group = c.benchmark_group("operator over a stream source");
    group.throughput(Throughput::Elements((BATCH * BATCHES) as u64));
    group.sample_size(20);
    let ops: [(&str, MakeTable); 4] = [
        ("none", |t, _| t.clone()),
        ("where(Instrument.startsWith(`BTC`) && Size > 1)", |t, _| {
            t.where_(&["Instrument.startsWith(`BTC`) && Size > 1"])
                .expect("where")
        }),
        ("updateView(Notional = Price * Size)", |t, _| {
            t.update_view(&["Notional = Price * Size"])
                .expect("updateView")
        }),
        (
            "naturalJoin(aggregation on Exchange, Instrument)",
            |t, agg| {
                t.natural_join(agg, &["Exchange", "Instrument"], &["Trade_Count"])
                    .expect("join")
            },
        ),
    ];
    for (name, op) in ops {
        group.bench_function(name, |b| {
            b.iter_batched(
                || batches.clone(),
                |owned| {
                    let engine = Engine::new();
                    let table = engine.stream_table(schema());
                    let lookup = engine.append_table(schema());
                    lookup.add(batches[0].clone()).expect("add");
                    engine.run_cycle().expect("cycle");
                    let agg = lookup
                        .count_by("Trade_Count", &["Exchange", "Instrument"])
                        .expect("countBy");
                    let result = op(&table, &agg);
                    feed(&engine, &table, owned);
                    result.size()
                },
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

/// `sort` and `merge` over an append table that grows to 1M rows, 10k rows a cycle.
fn large_parents(c: &mut Criterion) {
    let batches = batches();
    let mut group = c.benchmark_group("over an append table growing to 1M rows");
    group.throughput(Throughput::Elements((BATCH * BATCHES) as u64));
    group.sample_size(10);
    let ops: [(&str, MakeTable); 4] = [
        // The right table changes every cycle: only left rows whose match changed are rewritten.
        ("naturalJoin(its own live countBy)", |t, _| {
            let counts = t
                .count_by("Trades", &["Exchange", "Instrument"])
                .expect("countBy");
            t.natural_join(&counts, &["Exchange", "Instrument"], &["Trades"])
                .expect("join")
        }),
        // New rows sort after every old one: the output is appended to.
        ("sort(KafkaOffset)", |t, _| {
            t.sort(&["KafkaOffset"]).expect("sort")
        }),
        // New rows land anywhere: merged into the order, the output rewritten.
        ("sort(Price)", |t, _| t.sort(&["Price"]).expect("sort")),
        // A static table, then the live one: the output is appended to.
        ("static.merge(append)", |t, s| s.merge(&[t]).expect("merge")),
    ];
    for (name, op) in ops {
        group.bench_function(name, |b| {
            b.iter_batched(
                || batches.clone(),
                |owned| {
                    let engine = Engine::new();
                    let table = engine.append_table(schema());
                    let fixed = engine.append_table(schema());
                    fixed.add(batches[0].clone()).expect("add");
                    engine.run_cycle().expect("cycle");
                    let result = op(&table, &fixed);
                    feed(&engine, &table, owned);
                    result.size()
                },
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, aggregate, ingest, operators, large_parents);
criterion_main!(benches);
