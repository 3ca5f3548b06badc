//! 1M Protobuf trades (the demo's fields) decoded into columns by the Protobuf plan, against
//! prost decoding them into a derived struct (no columns) as the side-by-side anchor.
//!
//! cargo bench -p streamglass-core --bench proto_decode

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

#[path = "proto_trades.rs"]
mod proto_trades;

use proto_trades::{DOCS, decoder, prost_path, records, values};

fn decode(c: &mut Criterion) {
    let values = values(DOCS);
    let records = records(&values);
    let mut group = c.benchmark_group("decode 1M Protobuf trades");
    group.throughput(Throughput::Elements(DOCS as u64));
    group.sample_size(10);
    let mut decoder = decoder();
    group.bench_function(
        BenchmarkId::from_parameter("plan → columns, batches of 8192"),
        |b| {
            b.iter(|| {
                let mut rows = 0;
                for chunk in records.chunks(8_192) {
                    decoder.clear();
                    decoder.decode_records(0, chunk, |e| panic!("{e}"));
                    rows += decoder.rows();
                }
                rows
            })
        },
    );
    group.bench_function(
        BenchmarkId::from_parameter("prost → structs, batches of 8192"),
        |b| {
            let mut out = Vec::with_capacity(8_192);
            b.iter(|| {
                let mut rows = 0;
                for chunk in records.chunks(8_192) {
                    prost_path(chunk, &mut out);
                    rows += out.len();
                }
                rows
            })
        },
    );
    group.finish();
}

criterion_group!(benches, decode);
criterion_main!(benches);
