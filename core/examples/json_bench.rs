//! The JSON bench's workload (1M flat JSON trades into columns, `benches/json_trades.rs`),
//! timed without criterion so it also runs as wasm32, with serde_json's `Value` path as the
//! anchor in the same run:
//!
//! ```sh
//! cargo build --release --target wasm32-unknown-unknown -p streamglass-core --example json_bench
//! node core/benches/run-chromium.mjs target/wasm32-unknown-unknown/release/examples/json_bench.wasm
//! node core/benches/run-wasi.mjs target/wasm32-unknown-unknown/release/examples/json_bench.wasm
//! cargo run --release -p streamglass-core --example json_bench   # natively
//! ```
//! With the argument `plan` (or natively `JSON_BENCH_PLAN_ONLY=1`), only the plan runs (for A/B
//! runs of two builds, and a profiler). With `extra` (or natively `JSON_BENCH_EXTRA=1`), each
//! trade carries a member no column reads (`"Venue":"x"`), as a spec naming only some members
//! meets.

// Not every example reads its arguments.
#[allow(dead_code)]
#[path = "host/mod.rs"]
mod host;
#[path = "../benches/json_trades.rs"]
mod json_trades;

use host::{Instant, outln};
use json_trades::{DOCS, decoder, documents, documents_with, records, serde_value_path};
use streamglass_core::column::Column;

fn main() {
    host::init();
    let extra =
        std::env::var_os("JSON_BENCH_EXTRA").is_some() || host::args().iter().any(|a| a == "extra");
    let docs = match extra {
        true => documents_with(DOCS, r#","Venue":"x""#),
        false => documents(DOCS),
    };
    let bytes: usize = docs.iter().map(Vec::len).sum();
    let records = records(&docs);
    let mut decoder = decoder();
    let types: Vec<_> = decoder.schema().fields().iter().map(|f| f.ty).collect();
    let mut cols: Vec<Column> = types.iter().map(|t| Column::new(*t)).collect();
    let plan_only = std::env::var_os("JSON_BENCH_PLAN_ONLY").is_some()
        || host::args().iter().any(|a| a == "plan");
    for round in 0..3 {
        let mut best = f64::MAX;
        for _ in 0..5 {
            let started = Instant::now();
            for chunk in records.chunks(8_192) {
                decoder.clear();
                decoder.decode_records(0, chunk, |e| panic!("{e}"));
            }
            best = best.min(started.elapsed().as_secs_f64());
        }
        outln!(
            "round {round}: JSON plan → columns (batches of 8192): {:.2}M records/s, {:.0} MB/s (best of 5)",
            DOCS as f64 / best / 1e6,
            bytes as f64 / best / 1e6
        );
        if plan_only {
            continue;
        }
        let mut best = f64::MAX;
        for _ in 0..3 {
            let started = Instant::now();
            for chunk in records.chunks(8_192) {
                cols.iter_mut().for_each(Column::clear);
                serde_value_path(chunk, &mut cols);
            }
            best = best.min(started.elapsed().as_secs_f64());
        }
        outln!(
            "round {round}: serde_json Value → columns (batches of 8192): {:.2}M records/s (best of 3)",
            DOCS as f64 / best / 1e6
        );
    }
}
