//! What Linux's `/proc` says about a process: peak memory, threads, CPU time. Each reads 0 where
//! there is no `/proc` to read.

use std::time::Duration;

/// A `/proc/<process>/status` field's value (`process` is a pid or `self`), if it is there.
fn status_field<T: std::str::FromStr>(process: &str, field: &str) -> Option<T> {
    let status = std::fs::read_to_string(format!("/proc/{process}/status")).ok()?;
    let value = status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))?;
    value.trim().trim_end_matches("kB").trim().parse().ok()
}

/// This process's peak resident memory (VmHWM), in bytes.
pub fn peak_rss() -> u64 {
    status_field::<u64>("self", "VmHWM").map_or(0, |kb| kb * 1024)
}

/// The peak resident memory (VmHWM) of process `pid`, in bytes.
pub fn peak_rss_of(pid: u32) -> u64 {
    status_field::<u64>(&pid.to_string(), "VmHWM").map_or(0, |kb| kb * 1024)
}

/// How many threads this process has.
pub fn threads() -> usize {
    status_field("self", "Threads").unwrap_or(0)
}

/// CPU time this process has used (user + system), from /proc/self/stat.
pub fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The fields after the command name, which is in parentheses and may hold spaces.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<u64> = after
        .split_whitespace()
        .map(|f| f.parse().unwrap_or(0))
        .collect();
    // utime and stime are the 14th and 15th fields of the whole line: 12th and 13th here.
    let ticks = fields.get(11).copied().unwrap_or(0) + fields.get(12).copied().unwrap_or(0);
    Duration::from_millis(ticks * 10)
}
