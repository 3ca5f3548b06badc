//! The Protobuf bench's workload (1M trades into columns, `benches/proto_trades.rs`), timed
//! without criterion so it also runs as wasm32, with prost decoding into a struct as the anchor
//! in the same run:
//!
//! ```sh
//! cargo build --release --target wasm32-unknown-unknown -p streamglass-core --example proto_bench
//! node core/benches/run-wasi.mjs target/wasm32-unknown-unknown/release/examples/proto_bench.wasm
//! node core/benches/run-chromium.mjs target/wasm32-unknown-unknown/release/examples/proto_bench.wasm
//! cargo run --release -p streamglass-core --example proto_bench   # natively
//! ```
//!
//! With the argument `plan`, only the plan runs (for a profiler).

// Not every example reads its arguments.
#[allow(dead_code)]
#[path = "host/mod.rs"]
mod host;
#[path = "../benches/proto_trades.rs"]
mod proto_trades;

use host::{Instant, outln};
use proto_trades::{DOCS, decoder, prost_path, records, values};

fn main() {
    host::init();
    let values = values(DOCS);
    let bytes: usize = values.iter().map(Vec::len).sum();
    let records = records(&values);
    let mut decoder = decoder();
    let mut structs = Vec::with_capacity(8_192);
    let plan_only = host::args().iter().any(|a| a == "plan");
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
            "round {round}: Protobuf plan → columns (batches of 8192): {:.2}M records/s, {:.0} MB/s (best of 5)",
            DOCS as f64 / best / 1e6,
            bytes as f64 / best / 1e6
        );
        if plan_only {
            continue;
        }
        let mut best = f64::MAX;
        for _ in 0..5 {
            let started = Instant::now();
            for chunk in records.chunks(8_192) {
                prost_path(chunk, &mut structs);
            }
            best = best.min(started.elapsed().as_secs_f64());
        }
        outln!(
            "round {round}: prost → structs (batches of 8192): {:.2}M records/s (best of 5)",
            DOCS as f64 / best / 1e6
        );
    }
}
