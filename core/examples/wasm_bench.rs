//! The engine benches' workloads, timed without criterion so they also run as wasm32, in
//! Chromium's V8 (a Web Worker, as the page's engine runs) or Node's:
//!
//! - `benches/workload.rs`' 1M trades, 10,000 a cycle, into an append and a stream table, under
//!   the seed's `aggBy([Count, Sum], "Exchange", "Instrument")` (`benches/aggregate.rs`) and
//!   issue 15's `where("Exchange in `binance`, `kraken`")` (`benches/filters.rs`),
//!   `selectDistinct("Exchange", "Instrument")` and `headBy(3, "Instrument")`
//!   (`benches/operators.rs`): best of 15, rows through the source and the operator per second;
//! - `benches/time_workload.rs`' 1M trades, 16,384 a cycle, into an append table, under the
//!   1-minute OHLC (`lowerBin` + `aggBy([First, Max, Min, Last])`) and `hourOfDay` in New York
//!   (`benches/time.rs`), and `updateBy` by Instrument: `rollingAvg` over 100 ticks and over 1
//!   minute, `ema` over 10 s (`benches/update_by.rs`): best of 7; the same three `updateBy`s
//!   also done once over the 1M trades already loaded (`once`), as pandas does them
//!   (`examples/update_by_cpu.rs`): best of 7;
//! - `benches/join_workload.rs`' 1M trades `aj`'d against 1M quotes, built at once
//!   (`benches/joins.rs`): best of 7.
//!
//! ```sh
//! # wasm32 without WASI (the host's clock and output: examples/host/mod.rs)
//! cargo build --release --target wasm32-unknown-unknown -p streamglass-core --example wasm_bench
//! node core/benches/run-chromium.mjs target/wasm32-unknown-unknown/release/examples/wasm_bench.wasm
//! node core/benches/run-wasi.mjs target/wasm32-unknown-unknown/release/examples/wasm_bench.wasm
//! # or with WASI, where the target is installed
//! cargo build --release --target wasm32-wasip1 -p streamglass-core --example wasm_bench
//! node core/benches/run-wasi.mjs target/wasm32-wasip1/release/examples/wasm_bench.wasm
//! # natively
//! cargo run --release -p streamglass-core --example wasm_bench
//! ```
//! An argument runs only the lines whose name contains it (`wasm_bench.wasm headBy`).

// Not every example reads its arguments.
#[allow(dead_code)]
#[path = "host/mod.rs"]
mod host;
#[path = "../benches/join_workload.rs"]
mod join_workload;
#[path = "../benches/time_workload.rs"]
mod time_workload;
#[path = "../benches/workload.rs"]
mod workload;

use host::{Instant, outln};
use streamglass_core::{Engine, Table};
use workload::{BATCH, BATCHES, batches, feed, seed_aggregation, source};

/// A table made from the source table.
type Pipeline = fn(&Table) -> Table;

fn main() {
    host::init();
    let only = host::args();
    let chosen = |name: &str| only.iter().all(|a| name.contains(a.as_str()));
    let batches = batches();
    let rows = (BATCH * BATCHES) as f64;
    let operators: [(&str, Pipeline); 4] = [
        (
            "aggBy(Count, Sum) by Exchange, Instrument",
            seed_aggregation,
        ),
        ("where(Exchange in `binance`, `kraken`)", |t| {
            t.where_(&["Exchange in `binance`, `kraken`"])
                .expect("where")
        }),
        ("selectDistinct(Exchange, Instrument)", |t| {
            t.select_distinct(&["Exchange", "Instrument"])
                .expect("selectDistinct")
        }),
        ("headBy(3, Instrument)", |t| {
            t.head_by(3, &["Instrument"]).expect("headBy")
        }),
    ];
    for (name, pipeline) in operators {
        for kind in ["append", "stream"] {
            let name = format!("{kind} + {name}");
            if !chosen(&name) {
                continue;
            }
            let mut best = f64::MAX;
            let mut size = 0;
            for _ in 0..15 {
                // The batches are given, as a decoder hands them over: the engine owns them.
                let owned = batches.clone();
                let started = Instant::now();
                let engine = Engine::new();
                let table = source(&engine, kind);
                let out = pipeline(&table);
                feed(&engine, &table, owned);
                size = out.size();
                best = best.min(started.elapsed().as_secs_f64());
            }
            assert!(size > 0, "{name}: an empty result");
            outln!(
                "{name}: {:.1}M rows/s over 1M trades, 10k a cycle (best of 15; {size} rows at the end)",
                rows / best / 1e6
            );
        }
    }
    // The time bench's pipelines (benches/time.rs), one cycle per 16k-row batch.
    let trades = time_workload::trades();
    let pipelines: [(&str, Pipeline); 5] = [
        (
            "append + 1-minute OHLC (lowerBin + aggBy First, Max, Min, Last)",
            time_workload::ohlc,
        ),
        (
            "append + update(hourOfDay(Ts, 'America/New_York'))",
            time_workload::hour_of_day,
        ),
        (
            "append + updateBy(rollingAvg 100 ticks) by Instrument",
            time_workload::rolling_avg_ticks,
        ),
        (
            "append + updateBy(rollingAvg 1 minute) by Instrument",
            time_workload::rolling_avg_minute,
        ),
        (
            "append + updateBy(ema 10 s) by Instrument",
            time_workload::ema_10s,
        ),
    ];
    for (name, pipeline) in pipelines {
        if !chosen(name) {
            continue;
        }
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
            assert!(out.size() > 0, "{name}: an empty result");
            best = best.min(started.elapsed().as_secs_f64());
        }
        outln!(
            "{name}: {:.1}M rows/s over 1M trades, 16k a cycle (best of 7)",
            time_workload::ROWS as f64 / best / 1e6
        );
    }
    // The `updateBy` workloads done once, as pandas does them (`examples/update_by_cpu.rs`): the
    // 1M trades loaded, then the operation built over them.
    let once: [(&str, Pipeline); 3] = [
        (
            "once: updateBy(rollingAvg 100 ticks)",
            time_workload::rolling_avg_ticks,
        ),
        (
            "once: updateBy(rollingAvg 1 minute)",
            time_workload::rolling_avg_minute,
        ),
        ("once: updateBy(ema 10 s)", time_workload::ema_10s),
    ];
    if once.iter().any(|(name, _)| chosen(name)) {
        let engine = Engine::new();
        let table = engine.append_table(time_workload::schema());
        for batch in trades.clone() {
            table.add(batch).expect("add");
        }
        engine.run_cycle().expect("cycle");
        for (name, pipeline) in once {
            if !chosen(name) {
                continue;
            }
            let mut best = f64::MAX;
            for _ in 0..7 {
                let started = Instant::now();
                let out = pipeline(&table);
                assert!(out.size() > 0, "{name}: an empty result");
                best = best.min(started.elapsed().as_secs_f64());
            }
            outln!(
                "{name}: {:.2} ms, {:.1}M rows/s over 1M trades (best of 7)",
                best * 1e3,
                time_workload::ROWS as f64 / best / 1e6
            );
        }
    }
    // The as-of join (benches/joins.rs): 1M trades and 1M quotes loaded, then the join built.
    let name = "aj 1M trades x 1M quotes on Instrument, KafkaTimestamp (build)";
    if chosen(name) {
        let engine = Engine::new();
        let (left, right) = (
            engine.append_table(join_workload::schema()),
            engine.append_table(join_workload::schema()),
        );
        let rows = join_workload::ROWS;
        join_workload::feed(
            &engine,
            &left,
            join_workload::rows(0, rows, join_workload::BATCH, false),
        );
        join_workload::feed(
            &engine,
            &right,
            join_workload::rows(0, rows, join_workload::BATCH, true),
        );
        let mut best = f64::MAX;
        for _ in 0..7 {
            let started = Instant::now();
            let joined = join_workload::aj(&left, &right);
            assert_eq!(joined.size(), rows, "{name}");
            best = best.min(started.elapsed().as_secs_f64());
        }
        outln!(
            "{name}: {:.1}M left rows/s (best of 7)",
            rows as f64 / best / 1e6
        );
    }
}
