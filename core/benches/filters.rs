//! Match and range filters in `where` over 1M trades: `Exchange in `binance`, `kraken``
//! (dictionary-coded, once per distinct string), numeric `in` (a scanned small set and a hashed
//! large one), `=` and `inRange`; and a time-dependent `where` on `now()`: a window of ~300k
//! rows, in time order or in per-partition runs, the clock advancing every cycle.
//!
//! cargo bench -p streamglass-core --bench filters

use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use streamglass_core::column::{Column, ColumnType, Value};
use streamglass_core::{Batch, Engine, Schema};

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

/// Nanoseconds a row's time moves on: rows arrive one a millisecond.
const ROW_NANOS: i64 = 1_000_000;
/// Partitions whose runs make up a cycle's rows (the demo's trades arrive as per-partition runs).
const PARTITIONS: usize = 3;
/// How far each partition's clock lags the one before, in rows.
const LAG: i64 = 20_000;

fn window_schema() -> Schema {
    Schema::of(&[
        ("KafkaOffset", ColumnType::I64),
        ("Partition", ColumnType::I32),
        ("KafkaTimestamp", ColumnType::Timestamp),
    ])
    .expect("schema")
}

/// Cycle `cycle`'s 10k rows: in time order, or one run per partition, each run in order but
/// `LAG` rows behind the one before, so rows age out from the middle of the window.
fn window_batch(cycle: i64, ordered: bool) -> Batch {
    let schema = window_schema();
    let mut columns: Vec<Column> = schema
        .fields()
        .iter()
        .map(|f| Column::with_capacity(f.ty, BATCH))
        .collect();
    for i in 0..BATCH {
        let row = cycle * BATCH as i64 + i as i64;
        let partition = i * PARTITIONS / BATCH;
        let lag = if ordered { 0 } else { partition as i64 * LAG };
        columns[0].push(&Value::I64(row));
        columns[1].push(&Value::I32(partition as i32));
        columns[2].push(&Value::Timestamp((row - lag) * ROW_NANOS));
    }
    Batch::from_columns(&schema, columns).expect("batch")
}

/// `where("KafkaTimestamp >= now() - 'PT5m'")` with the clock at the newest row's time, over a
/// ring of 400k rows, 10k rows a cycle: a window of ~300k kept rows, re-checked every cycle.
/// Time per cycle (ingest included), once the window is full.
fn window(c: &mut Criterion) {
    let mut group =
        c.benchmark_group("where on now(), a 5-minute window of ~300k rows, 10k a cycle");
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(6));
    group.throughput(Throughput::Elements(1));
    for (name, ordered, count) in [
        ("in time order", true, false),
        ("in partition runs", false, false),
        ("in partition runs, countBy below", false, true),
    ] {
        let engine = Engine::new();
        let trades = engine.ring_table(window_schema(), 400_000);
        let recent = trades
            .where_(&["KafkaTimestamp >= now() - 'PT5m'"])
            .expect("where");
        let counts = count.then(|| recent.count_by("N", &["Partition"]).expect("countBy"));
        let mut cycle = 0i64;
        let mut step = |engine: &Engine| {
            let batch = window_batch(cycle, ordered);
            cycle += 1;
            let started = Instant::now();
            engine.set_clock(cycle * BATCH as i64 * ROW_NANOS);
            trades.add(batch).expect("add");
            engine.run_cycle().expect("cycle");
            started.elapsed()
        };
        for _ in 0..40 {
            step(&engine);
        }
        let kept = recent.size();
        assert!(
            (250_000..=320_000).contains(&kept),
            "{name}: {kept} rows kept"
        );
        group.bench_function(name, |b| {
            b.iter_custom(|iters| (0..iters).map(|_| step(&engine)).sum())
        });
        drop(counts);
    }
    group.finish();
}

criterion_group!(benches, live, whole, window);
criterion_main!(benches);
