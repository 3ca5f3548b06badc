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
use streamglass_core::{Engine, Table};

#[path = "join_workload.rs"]
mod join_workload;

use join_workload::{BATCH, ROWS, aj, feed, rows, schema};

const STEP: usize = 1_000;

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
