//! The `best` mode of `update_by_cpu` and `aj_cpu`: a workload run five times in one process, each
//! run timed alone, and the best printed, as `tests/python/update_by_cpu.py` times pandas (its
//! best of 5). Each run is timed by the wall clock, which counts all of the run's CPU time and
//! any time it waited besides (pandas' are by CPU time): a comparison never in our favour.

use std::time::Instant;

/// Runs `run` five times; prints each time and the best, in milliseconds.
pub fn best_of_5(name: &str, mut run: impl FnMut() -> usize) {
    let times: Vec<f64> = (0..5)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(run());
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    let best = times.iter().copied().fold(f64::INFINITY, f64::min);
    let all: Vec<String> = times.iter().map(|t| format!("{t:.2}")).collect();
    println!("{name}: best of 5 {best:.2} ms ({} ms)", all.join(", "));
}
