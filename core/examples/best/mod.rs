//! The `best` mode of `update_by_cpu` and `aj_cpu`: a workload run five times in one process, each
//! run timed alone, and the best printed, as `tests/python/update_by_cpu.py` times pandas (its
//! best of 5). Each run is timed by the wall clock, which counts all of the run's CPU time and
//! any time it waited besides (pandas' are by CPU time): a comparison never in our favour.
//!
//! Also printed: the minor page faults a run of the four after the first (as pandas' script
//! counts them), which show whether the allocator kept the memory the runs before freed.

use std::time::Instant;

/// Runs `run` five times; prints each time and the best, in milliseconds, and the page faults.
pub fn best_of_5(name: &str, mut run: impl FnMut() -> usize) {
    let mut faults = 0;
    let times: Vec<f64> = (0..5)
        .map(|i| {
            if i == 1 {
                faults = minor_faults();
            }
            let start = Instant::now();
            std::hint::black_box(run());
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    let faults = minor_faults().saturating_sub(faults) / 4;
    let best = times.iter().copied().fold(f64::INFINITY, f64::min);
    let all: Vec<String> = times.iter().map(|t| format!("{t:.2}")).collect();
    println!(
        "{name}: best of 5 {best:.2} ms ({} ms), {faults} page faults a run",
        all.join(", ")
    );
}

/// This process's minor page faults so far (`/proc/self/stat`'s tenth field; 0 elsewhere).
fn minor_faults() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The command name (second field) is in parentheses and may hold spaces.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    after
        .split_whitespace()
        .nth(7)
        .and_then(|f| f.parse().ok())
        .unwrap_or(0)
}
