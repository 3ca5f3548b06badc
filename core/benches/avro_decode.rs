//! 1M Confluent-framed `Trade` values decoded into columns by the decode plan, against
//! apache-avro's `from_avro_datum` (a `Value` per record, no columns) as the baseline.
//!
//! cargo bench -p streamglass-core --bench avro_decode

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

#[path = "trade_frames.rs"]
mod trade_frames;

use trade_frames::{FRAMES, TRADE_SCHEMA, decoder, frames, records};

fn decode(c: &mut Criterion) {
    let frames = frames(FRAMES);
    let records = records(&frames);
    let mut group = c.benchmark_group("decode 1M Trade frames");
    group.throughput(Throughput::Elements(FRAMES as u64));
    group.sample_size(10);

    let mut decoder = decoder();
    // As a feed runs: batches of 8192 records (a recording's frame) handed to `decode_records`
    // (as the page's `decode_batch`), the columns cleared and reused between batches; all 1M rows
    // into one set of columns (fresh memory each time); and the batches record by record
    // (`decode`, as `replay-bridge cat` does).
    for (label, batch, per_record) in [
        ("plan → columns, batches of 8192", 8_192, false),
        ("plan → columns, 1M rows", FRAMES, false),
        (
            "plan → columns, batches of 8192, record by record",
            8_192,
            true,
        ),
    ] {
        group.bench_function(BenchmarkId::from_parameter(label), |b| {
            b.iter(|| {
                let mut rows = 0;
                for chunk in records.chunks(batch) {
                    decoder.clear();
                    if per_record {
                        for r in chunk {
                            decoder.decode(0, r).expect("decodes");
                        }
                    } else {
                        decoder.decode_records(0, chunk, |e| panic!("{e}"));
                    }
                    rows += decoder.rows();
                }
                rows
            })
        });
    }

    let schema = apache_avro::Schema::parse_str(TRADE_SCHEMA).expect("schema");
    group.bench_function(
        BenchmarkId::from_parameter("apache-avro from_avro_datum → Value"),
        |b| {
            b.iter(|| {
                let mut n = 0;
                for f in &frames {
                    let mut body = &f[5..];
                    let value =
                        apache_avro::from_avro_datum(&schema, &mut body, None).expect("decodes");
                    n += usize::from(matches!(value, apache_avro::types::Value::Record(_)));
                }
                n
            })
        },
    );
    group.finish();
}

criterion_group!(benches, decode);
criterion_main!(benches);
