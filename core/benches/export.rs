//! Export of 1M trades (a long, two dictionary-coded strings, two doubles) as CSV, JSON lines and
//! an Arrow IPC file: output bytes per second (each export reads every column once, so the cost
//! is linear in the rows).
//!
//! cargo bench -p streamglass-core --bench export

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use streamglass_core::Engine;
use streamglass_core::export::Format;

// The shared workload; its seed aggregation is not used here.
#[allow(dead_code)]
#[path = "workload.rs"]
mod workload;

use workload::{BATCH, BATCHES, batches, feed, source};

fn export(c: &mut Criterion) {
    let engine = Engine::new();
    let table = source(&engine, "append");
    feed(&engine, &table, batches());
    assert_eq!(table.size(), BATCH * BATCHES);
    let mut group = c.benchmark_group("export of 1M trades");
    group.sample_size(10);
    for format in [Format::Csv, Format::JsonLines, Format::ArrowIpc] {
        let bytes = table.export(format).expect("export").len();
        group.throughput(Throughput::Bytes(bytes as u64));
        group.bench_function(
            format!("{} ({} MB)", format.extension(), bytes / 1_000_000),
            |b| b.iter(|| table.export(format).expect("export").len()),
        );
    }
    group.finish();
}

criterion_group!(benches, export);
criterion_main!(benches);
