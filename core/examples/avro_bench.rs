//! The Avro bench's workload (1M Confluent-framed Trade values into columns), timed without
//! criterion, so it also runs as wasm32 under Node:
//!
//! ```sh
//! cargo build --release --target wasm32-unknown-unknown -p streamglass-core --example avro_bench
//! node core/benches/run-chromium.mjs target/wasm32-unknown-unknown/release/examples/avro_bench.wasm
//! node core/benches/run-wasi.mjs target/wasm32-unknown-unknown/release/examples/avro_bench.wasm
//! ```
//! (or `--target wasm32-wasip1` where installed, run by the same commands; see
//! `examples/host/mod.rs`)
//! (also natively: `cargo run --release -p streamglass-core --example avro_bench`). Natively,
//! `AVRO_BENCH_REPS=n` times each decode `n` times (default 15), `AVRO_BENCH_PLAN_ONLY=1` skips
//! apache-avro and `AVRO_BENCH_BATCHES_ONLY=1` times only the first line: for A/B runs of two
//! builds on a busy machine.

// Not every example reads its arguments.
#[allow(dead_code)]
#[path = "host/mod.rs"]
mod host;
#[path = "../benches/trade_frames.rs"]
mod trade_frames;

use host::{Instant, outln};
use trade_frames::{FRAMES, TRADE_SCHEMA, decoder, frames, records};

fn main() {
    host::init();
    let frames = frames(FRAMES);
    let records = records(&frames);
    let reps: usize = std::env::var("AVRO_BENCH_REPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(15);
    let mut decoder = decoder();
    for (label, batch, per_record) in [
        ("batches of 8192, columns reused", 8_192, false),
        ("1M rows into one set of columns", FRAMES, false),
        ("batches of 8192, record by record", 8_192, true),
    ] {
        let mut best = f64::MAX;
        for _ in 0..reps {
            let started = Instant::now();
            for chunk in records.chunks(batch) {
                decoder.clear();
                if per_record {
                    for r in chunk {
                        decoder.decode(0, r).expect("decodes");
                    }
                } else {
                    decoder.decode_records(0, chunk, |e| panic!("{e}"));
                }
            }
            best = best.min(started.elapsed().as_secs_f64());
        }
        outln!(
            "plan → columns ({label}): {:.1}M records/s (best of {reps})",
            FRAMES as f64 / best / 1e6
        );
        if std::env::var_os("AVRO_BENCH_BATCHES_ONLY").is_some() {
            return;
        }
    }
    if std::env::var_os("AVRO_BENCH_PLAN_ONLY").is_some() {
        return;
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
    outln!(
        "apache-avro from_avro_datum: {:.2}M records/s (best of 3)",
        FRAMES as f64 / best / 1e6
    );
}
