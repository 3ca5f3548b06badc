//! The `aj` of `benches/joins.rs`'s `build` case run `N` times over one pair of tables already
//! holding the 1M trades and 1M quotes, for timing by CPU time rather than wall clock (as
//! `update_by_cpu.rs`):
//!
//!     cargo build --profile bench -p streamglass-core --example aj_cpu
//!     perf stat -e task-clock target/release/examples/aj_cpu N
//!
//! The CPU time of `N` runs less that of 0 runs (the tables' making), over `N`, is one run's.
//! With `best` for `N`, five runs are each timed alone and the best printed, as pandas' are timed
//! (`best/`).

#[path = "../benches/join_workload.rs"]
mod join_workload;

mod best;

use join_workload::{BATCH, ROWS, aj, feed, rows, schema};
use streamglass_core::Engine;

fn main() {
    // `None` runs: the best of five.
    let arg = std::env::args().nth(1);
    let runs: Option<usize> = match arg.as_deref().map(|a| (a, a.parse())) {
        Some(("best", _)) => None,
        Some((_, Ok(n))) => Some(n),
        _ => {
            eprintln!("usage: aj_cpu N|best");
            std::process::exit(2);
        }
    };
    let engine = Engine::new();
    let left = engine.append_table(schema());
    let right = engine.append_table(schema());
    feed(&engine, &left, rows(0, ROWS, BATCH, false));
    feed(&engine, &right, rows(0, ROWS, BATCH, true));
    let Some(runs) = runs else {
        best::best_of_5("aj 1M x 1M", || aj(&left, &right).size());
        // The memory the join holds: its output (the left columns shared, `Quote` its own) and
        // its state.
        let stats = aj(&left, &right).stats();
        println!("aj 1M x 1M holds {} bytes", stats.bytes_used);
        return;
    };
    let joined: usize = (0..runs).map(|_| aj(&left, &right).size()).sum();
    println!("{joined} rows");
}
