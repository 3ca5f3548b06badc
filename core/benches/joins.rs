//! The as-of join: 1M trades `aj`'d against 1M quotes by Instrument on KafkaTimestamp (10
//! instruments, both sides in time order, interleaved), and its incremental steps.
//!
//! - `aj 1M × 1M (build)`: both sides loaded, then the join built (its first pass). Throughput
//!   is left rows joined per second.
//! - `aj 1M × 1M (live, 10k + 10k a cycle)`: both sides fed 100 cycles of 10k rows each, the
//!   join following; throughput is left rows per second, ingestion included.
//! - `aj step`: a join of 1M × 1M given 1k more right rows (later in time) or 1k more left rows,
//!   one cycle each; a step should cost what it adds, not the 2M rows held. Every 500 steps the
//!   tables are built again (untimed), so the sides stay near 1M rows. Over a right ring of 1M,
//!   the 1k oldest quotes leave as 1k come: rows leaving a bucket's front are not an append, so
//!   the step rechecks the left rows of every key whose quotes left (a scan of the left's ids).
//!
//! cargo bench -p streamglass-core --bench joins

use std::time::{Duration, Instant};

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use streamglass_core::column::{Column, ColumnType, Value};
use streamglass_core::{Batch, Engine, Schema, Table};

const ROWS: usize = 1_000_000;
const BATCH: usize = 10_000;
const STEP: usize = 1_000;
const START: i64 = 1_767_632_400_000_000_000;

fn schema() -> Schema {
    Schema::of(&[
        ("KafkaTimestamp", ColumnType::Timestamp),
        ("Instrument", ColumnType::String),
        ("Price", ColumnType::F64),
    ])
    .expect("schema")
}

const INSTRUMENTS: [&str; 10] = [
    "BTC/USD", "BTC/USDT", "ETH/USD", "ETH/USDT", "ETH/BTC", "LTC/USD", "XRP/USD", "SOL/USD",
    "DOGE/USD", "ADA/USD",
];

/// `rows` rows from row `first` on, in batches of `batch`: one every microsecond, quotes (`odd`)
/// half a microsecond after trades, each of a pseudo-random instrument.
fn rows(first: usize, rows: usize, batch: usize, odd: bool) -> Vec<Batch> {
    let schema = schema();
    let mut x: u64 = 0x2545_f491_4f6c_dd1d ^ (first as u64) ^ u64::from(odd);
    (0..rows / batch)
        .map(|b| {
            let mut columns: Vec<Column> = schema
                .fields()
                .iter()
                .map(|f| Column::with_capacity(f.ty, batch))
                .collect();
            for i in 0..batch {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let n = (first + b * batch + i) as i64;
                let ts = START + n * 1_000 + if odd { 500 } else { 0 };
                columns[0].push(&Value::Timestamp(ts));
                columns[1].push(&Value::String(INSTRUMENTS[(x % 10) as usize].into()));
                columns[2].push(&Value::F64(60_000.0 + (x >> 20) as f64 % 1000.0));
            }
            Batch::from_columns(&schema, columns).expect("batch")
        })
        .collect()
}

fn feed(engine: &Engine, table: &Table, batches: Vec<Batch>) {
    for batch in batches {
        table.add(batch).expect("add");
    }
    engine.run_cycle().expect("cycle");
}

fn aj(left: &Table, right: &Table) -> Table {
    left.aj(right, &["Instrument", "KafkaTimestamp"], &["Quote = Price"])
        .expect("aj")
}

fn build(c: &mut Criterion) {
    let (trades, quotes) = (rows(0, ROWS, BATCH, false), rows(0, ROWS, BATCH, true));
    let mut group = c.benchmark_group("aj 1M trades x 1M quotes");
    group.throughput(Throughput::Elements(ROWS as u64));
    group.sample_size(10);
    let engine = Engine::new();
    let (left, right) = (engine.append_table(schema()), engine.append_table(schema()));
    feed(&engine, &left, trades.clone());
    feed(&engine, &right, quotes.clone());
    group.bench_function("build", |b| b.iter(|| aj(&left, &right).size()));
    group.bench_function(BenchmarkId::new("live", "10k + 10k a cycle"), |b| {
        b.iter_batched(
            || (trades.clone(), quotes.clone()),
            |(trades, quotes)| {
                let engine = Engine::new();
                let (left, right) = (engine.append_table(schema()), engine.append_table(schema()));
                let joined = aj(&left, &right);
                for (t, q) in trades.into_iter().zip(quotes) {
                    left.add(t).expect("add");
                    right.add(q).expect("add");
                    engine.run_cycle().expect("cycle");
                }
                joined.size()
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

/// A 1M × 1M join, and the row the next step starts from.
struct Joined {
    engine: Engine,
    left: Table,
    right: Table,
    _joined: Table,
    next: usize,
}

/// A 1M × 1M join; the right side a ring of 1M rows when `ring`.
fn joined(ring: bool) -> Joined {
    let engine = Engine::new();
    let left = engine.append_table(schema());
    let right = if ring {
        engine.ring_table(schema(), ROWS)
    } else {
        engine.append_table(schema())
    };
    feed(&engine, &left, rows(0, ROWS, BATCH, false));
    feed(&engine, &right, rows(0, ROWS, BATCH, true));
    let _joined = aj(&left, &right);
    Joined {
        engine,
        left,
        right,
        _joined,
        next: ROWS,
    }
}

fn steps(c: &mut Criterion) {
    let mut group = c.benchmark_group("aj 1M x 1M step");
    group.throughput(Throughput::Elements(STEP as u64));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(3));
    for side in [
        "1k right rows",
        "1k left rows",
        "1k right rows, right a ring of 1M",
    ] {
        let ring = side.contains("ring");
        group.bench_function(side, |b| {
            b.iter_custom(|iters| {
                let mut state = joined(ring);
                let mut spent = Duration::ZERO;
                for i in 0..iters {
                    if i > 0 && i % 500 == 0 {
                        state = joined(ring);
                    }
                    let odd = side.contains("right");
                    let batch = rows(state.next, STEP, STEP, odd);
                    state.next += STEP;
                    let table = if odd { &state.right } else { &state.left };
                    let start = Instant::now();
                    feed(&state.engine, table, batch);
                    spent += start.elapsed();
                }
                spent
            })
        });
    }
    group.finish();
}

criterion_group!(benches, build, steps);
criterion_main!(benches);
