//! The aggregation bench's workload, timed without criterion, so it runs as wasm32 under Node:
//!
//! ```sh
//! cargo build --release --target wasm32-wasip1 -p streamglass-core --example wasm_bench
//! node core/benches/run-wasi.mjs target/wasm32-wasip1/release/examples/wasm_bench.wasm
//! ```
//! (also natively: `cargo run --release -p streamglass-core --example wasm_bench`).

#[path = "../benches/time_workload.rs"]
mod time_workload;
#[path = "../benches/workload.rs"]
mod workload;

use std::time::Instant;

use streamglass_core::{Engine, Table};

/// A table made from the source table.
type Pipeline = fn(&Table) -> Table;
use workload::{BATCH, BATCHES, batches, feed, seed_aggregation, source};

fn main() {
    let batches = batches();
    let rows = (BATCH * BATCHES) as f64;
    for kind in ["append", "stream"] {
        let mut best = f64::MAX;
        for _ in 0..15 {
            // The batches are given, as a decoder hands them over: the engine owns them.
            let owned = batches.clone();
            let started = Instant::now();
            let engine = Engine::new();
            let table = source(&engine, kind);
            let agg = seed_aggregation(&table);
            feed(&engine, &table, owned);
            assert_eq!(agg.size(), 110);
            best = best.min(started.elapsed().as_secs_f64());
        }
        println!(
            "{kind}+aggBy(Count,Sum) by Exchange,Instrument: {:.1}M rows/s (best of 15)",
            rows / best / 1e6
        );
    }
    // The time bench's pipelines (benches/time.rs), one cycle per 16k-row batch.
    let trades = time_workload::trades();
    let pipelines: [(&str, Pipeline); 2] = [
        (
            "1-minute OHLC (lowerBin + aggBy First,Max,Min,Last)",
            time_workload::ohlc,
        ),
        (
            "update(hourOfDay(Ts, 'America/New_York'))",
            time_workload::hour_of_day,
        ),
    ];
    for (name, pipeline) in pipelines {
        let mut best = f64::MAX;
        for _ in 0..7 {
            let owned = trades.clone();
            let started = Instant::now();
            let engine = Engine::new();
            let table = engine.append_table(time_workload::schema());
            let out = pipeline(&table);
            for batch in owned {
                table.add(batch).expect("add");
                engine.run_cycle().expect("cycle");
            }
            assert!(out.size() > 0);
            best = best.min(started.elapsed().as_secs_f64());
        }
        println!(
            "{name}: {:.1}M rows/s over 1M trades (best of 7)",
            time_workload::ROWS as f64 / best / 1e6
        );
    }
}
