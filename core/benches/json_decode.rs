//! 1M flat JSON trades (the demo's fields) decoded into columns by the JSON plan, against
//! serde_json's `Value` path (parse to a `Value`, then push its fields into the same columns) as
//! the side-by-side anchor.
//!
//! cargo bench -p streamglass-core --bench json_decode

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use streamglass_core::column::Column;

#[path = "json_trades.rs"]
mod json_trades;

use json_trades::{DOCS, decoder, documents, records, serde_value_path};

fn decode(c: &mut Criterion) {
    let docs = documents(DOCS);
    let records = records(&docs);
    let mut group = c.benchmark_group("decode 1M JSON trades");
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
    let types: Vec<_> = decoder.schema().fields().iter().map(|f| f.ty).collect();
    group.bench_function(
        BenchmarkId::from_parameter("serde_json Value → columns, batches of 8192"),
        |b| {
            let mut cols: Vec<Column> = types.iter().map(|t| Column::new(*t)).collect();
            b.iter(|| {
                let mut rows = 0;
                for chunk in records.chunks(8_192) {
                    cols.iter_mut().for_each(Column::clear);
                    serde_value_path(chunk, &mut cols);
                    rows += cols[0].len();
                }
                rows
            })
        },
    );
    group.finish();
}

criterion_group!(benches, decode);
criterion_main!(benches);
