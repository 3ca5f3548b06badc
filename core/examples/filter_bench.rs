//! The filters bench's `in` filter (`where("Exchange in `binance`, `kraken`")` over 1M trades, 10k
//! a cycle), timed without criterion, so it runs as wasm32 under Node:
//!
//! ```sh
//! cargo build --release --target wasm32-unknown-unknown -p streamglass-core --example filter_bench
//! node core/benches/run-chromium.mjs target/wasm32-unknown-unknown/release/examples/filter_bench.wasm
//! node core/benches/run-wasi.mjs target/wasm32-unknown-unknown/release/examples/filter_bench.wasm
//! ```
//! (or `--target wasm32-wasip1` where installed, run by the same commands; see
//! `examples/host/mod.rs`)
//! (also natively: `cargo run --release -p streamglass-core --example filter_bench`).

// Not every example reads its arguments.
#[allow(dead_code)]
#[path = "host/mod.rs"]
mod host;
// The shared workload; its seed aggregation is not used here.
#[allow(dead_code)]
#[path = "../benches/workload.rs"]
mod workload;

use host::{Instant, outln};
use streamglass_core::Engine;
use workload::{BATCH, BATCHES, batches, feed, source};

fn main() {
    host::init();
    let batches = batches();
    let rows = (BATCH * BATCHES) as f64;
    let filters = [
        "Exchange in `binance`, `kraken`",
        "Size in 1.5, 2.0, 7.25",
        "inRange(Price, 60100, 60500)",
    ];
    for kind in ["stream", "append"] {
        for filter in filters {
            let mut best = f64::MAX;
            let mut kept = 0;
            for _ in 0..15 {
                let owned = batches.clone();
                let started = Instant::now();
                let engine = Engine::new();
                let table = source(&engine, kind);
                let result = table.where_(&[filter]).expect("where");
                feed(&engine, &table, owned);
                kept = result.size();
                best = best.min(started.elapsed().as_secs_f64());
            }
            outln!(
                "{kind}.where({filter:?}): {:.1}M rows/s (best of 15; {kept} rows in the last cycle's table)",
                rows / best / 1e6
            );
        }
    }
}
