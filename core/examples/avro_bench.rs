//! The Avro bench's workload (1M Confluent-framed Trade values into columns), timed without
//! criterion, so it also runs as wasm32 under Node:
//!
//! ```sh
//! cargo build --release --target wasm32-wasip1 -p streamglass-core --example avro_bench
//! node core/benches/run-wasi.mjs target/wasm32-wasip1/release/examples/avro_bench.wasm
//! ```
//! (also natively: `cargo run --release -p streamglass-core --example avro_bench`).

#[path = "../benches/trade_frames.rs"]
mod trade_frames;

use std::time::Instant;

use trade_frames::{FRAMES, TRADE_SCHEMA, decoder, frames, records};

fn main() {
    let frames = frames(FRAMES);
    let records = records(&frames);
    let mut decoder = decoder();
    for (label, batch) in [
        ("batches of 8192, columns reused", 8_192),
        ("1M rows into one set of columns", FRAMES),
    ] {
        let mut best = f64::MAX;
        for _ in 0..15 {
            let started = Instant::now();
            for chunk in records.chunks(batch) {
                decoder.clear();
                for r in chunk {
                    decoder.decode(0, r).expect("decodes");
                }
            }
            best = best.min(started.elapsed().as_secs_f64());
        }
        println!(
            "plan → columns ({label}): {:.1}M records/s (best of 15)",
            FRAMES as f64 / best / 1e6
        );
    }
    let schema = apache_avro::Schema::parse_str(TRADE_SCHEMA).expect("schema");
    let mut best = f64::MAX;
    for _ in 0..3 {
        let started = Instant::now();
        for f in &frames {
            let mut body = &f[5..];
            apache_avro::from_avro_datum(&schema, &mut body, None).expect("decodes");
        }
        best = best.min(started.elapsed().as_secs_f64());
    }
    println!(
        "apache-avro from_avro_datum: {:.2}M records/s (best of 3)",
        FRAMES as f64 / best / 1e6
    );
}
