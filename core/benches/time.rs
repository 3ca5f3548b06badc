//! Time in formulas, on 1M trades of 4 instruments whose timestamps rise about 1,000 a second:
//! a 1-minute OHLC (`updateView(["Minute = lowerBin(Ts, MINUTE)"])`, then `aggBy([First Open =
//! Price, Max High = Price, Min Low = Price, Last Close = Price], ["Instrument", "Minute"])`), and a
//! zone part (`hourOfDay(Ts, 'America/New_York')`), fed in batches of 16,384 rows to an append
//! table, one cycle per batch.
//!
//! cargo bench -p streamglass-core --bench time

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use streamglass_core::{Engine, Table};

// The updateBy pipelines of the workload are timed in benches/update_by.rs.
#[allow(dead_code)]
#[path = "time_workload.rs"]
mod time_workload;

use time_workload::{ROWS, hour_of_day, ohlc, schema, trades};

type Pipeline = fn(&Table) -> Table;

fn time(c: &mut Criterion) {
    let batches = trades();
    let mut group = c.benchmark_group("time over 1M trades (append, 16k-row cycles)");
    group.throughput(Throughput::Elements(ROWS as u64));
    group.sample_size(10);
    let pipelines: [(&str, Pipeline); 4] = [
        ("ingest only", |t| t.clone()),
        ("updateView(Minute = lowerBin(Ts, MINUTE))", |t| {
            t.update(&["Minute = lowerBin(Ts, MINUTE)"])
                .expect("update")
        }),
        ("1-minute OHLC: lowerBin + aggBy(First,Max,Min,Last)", ohlc),
        (
            "update(Hour = hourOfDay(Ts, 'America/New_York'))",
            hour_of_day,
        ),
    ];
    for (name, pipeline) in pipelines {
        group.bench_with_input(
            BenchmarkId::from_parameter(name),
            &pipeline,
            |b, pipeline| {
                b.iter_batched(
                    || batches.clone(),
                    |owned| {
                        let engine = Engine::new();
                        let source = engine.append_table(schema());
                        let out = pipeline(&source);
                        for batch in owned {
                            source.add(batch).expect("add");
                            engine.run_cycle().expect("cycle");
                        }
                        out.size()
                    },
                    BatchSize::LargeInput,
                )
            },
        );
    }
    group.finish();
}

criterion_group!(benches, time);
criterion_main!(benches);
