//! The aggregation bench's workload, timed without criterion, so it runs as wasm32 under Node:
//!
//! ```sh
//! cargo build --release --target wasm32-wasip1 -p streamglass-core --example wasm_bench
//! node core/benches/run-wasi.mjs target/wasm32-wasip1/release/examples/wasm_bench.wasm
//! ```
//! (also natively: `cargo run --release -p streamglass-core --example wasm_bench`).

#[path = "../benches/workload.rs"]
mod workload;

use std::time::Instant;

use streamglass_core::Engine;
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
}
