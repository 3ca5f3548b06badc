//! Match and range filters in `where` over 1M trades: `Exchange in `binance`, `kraken``
//! (dictionary-coded, once per distinct string), numeric `in` (a scanned small set and a hashed
//! large one), `=` and `inRange`.
//!
//! cargo bench -p streamglass-core --bench filters

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use streamglass_core::Engine;

// The shared workload; its seed aggregation is not used here.
#[allow(dead_code)]
#[path = "workload.rs"]
mod workload;

use workload::{BATCH, BATCHES, batches, feed, schema, source};

fn filters() -> Vec<(&'static str, String)> {
    let many: Vec<String> = (0..100).map(|i| format!("{}.0", i * 7)).collect();
    vec![
        ("Exchange in", "Exchange in `binance`, `kraken`".into()),
        (
            "Exchange icase in",
            "Exchange icase in `BINANCE`, `Kraken`".into(),
        ),
        ("Exchange = (as a match)", "Exchange = `okex`".into()),
        ("Size in (3 doubles)", "Size in 1.5, 2.0, 7.25".into()),
        (
            "Price in (100 doubles, hashed)",
            format!("Price in {}", many.join(", ")),
        ),
        (
            "KafkaOffset in (4 longs)",
            "KafkaOffset in 5, 17, 99999, 500000".into(),
        ),
        (
            "inRange(Price, 60100, 60500)",
            "inRange(Price, 60100, 60500)".into(),
        ),
        (
            "Exchange in && Size > 1",
            "Exchange in `binance`, `kraken` && Size > 1".into(),
        ),
    ]
}

/// The filter over a stream and an append source fed 1M trades, 10,000 a cycle: rows through
/// the operator per second, ingest included.
fn live(c: &mut Criterion) {
    let batches = batches();
    let mut group = c.benchmark_group("where over 1M trades, 10k a cycle");
    group.throughput(Throughput::Elements((BATCH * BATCHES) as u64));
    group.sample_size(20);
    for kind in ["stream", "append"] {
        for (name, filter) in filters() {
            group.bench_function(format!("{kind}: {name}"), |b| {
                b.iter_batched(
                    || batches.clone(),
                    |owned| {
                        let engine = Engine::new();
                        let table = source(&engine, kind);
                        let result = table.where_(&[filter.as_str()]).expect("where");
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

/// The filter built over an append table already holding 1M trades: one pass over every row.
fn whole(c: &mut Criterion) {
    let engine = Engine::new();
    let table = engine.append_table(schema());
    feed(&engine, &table, batches());
    let mut group = c.benchmark_group("where built over 1M rows");
    group.throughput(Throughput::Elements((BATCH * BATCHES) as u64));
    group.sample_size(20);
    for (name, filter) in filters() {
        group.bench_function(name, |b| {
            b.iter(|| table.where_(&[filter.as_str()]).expect("where").size())
        });
    }
    group.finish();
}

criterion_group!(benches, live, whole);
criterion_main!(benches);
