//! The `updateBy` of `benches/update_by.rs`'s `built table` case run `N` times over one append
//! table already holding the 1M trades, for timing by CPU time rather than wall clock: on a
//! shared machine the wall clock of a run moves 2x with the load, its CPU time a few percent.
//!
//!     cargo build --profile bench -p streamglass-core --example update_by_cpu
//!     perf stat -e task-clock target/release/examples/update_by_cpu WORKLOAD N
//!
//! `WORKLOAD`: 0 `rollingAvg` over 100 ticks, 1 over 1 minute, 2 `ema` over 10 s. The CPU time
//! of `N` runs less that of 0 runs (the table's making), over `N`, is one run's. With `best` for
//! `N`, five runs are each timed alone and the best printed, as pandas' are timed (`best/`).

// The OHLC and zone pipelines of the time bench are not used here.
#[allow(dead_code)]
#[path = "../benches/time_workload.rs"]
mod time_workload;

mod best;

use streamglass_core::Engine;
use time_workload::{ema_10s, rolling_avg_minute, rolling_avg_ticks, schema, trades};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `None` runs: the best of five.
    let parsed = match &args[..] {
        [w, n] => w.parse::<usize>().ok().zip(match n.as_str() {
            "best" => Some(None),
            n => n.parse().ok().map(Some),
        }),
        _ => None,
    };
    let Some((workload, runs)) = parsed.filter(|&(w, _)| w < 3) else {
        eprintln!("usage: update_by_cpu WORKLOAD(0|1|2) N|best");
        std::process::exit(2);
    };
    let engine = Engine::new();
    let table = engine.append_table(schema());
    for batch in trades() {
        table.add(batch).expect("batch");
    }
    engine.run_cycle().expect("cycle");
    let pipeline = [rolling_avg_ticks, rolling_avg_minute, ema_10s][workload];
    let Some(runs) = runs else {
        let name = ["rollingAvg 100 ticks", "rollingAvg 1 minute", "ema 10 s"][workload];
        best::best_of_5(name, || pipeline(&table).size());
        return;
    };
    let rows: usize = (0..runs).map(|_| pipeline(&table).size()).sum();
    println!("{rows} rows");
}
