//! Memory: an append table grows linearly and close to the data's width, a stream table holds one
//! cycle and reuses it, a ring table is bounded, and a dropped table frees its state.

use streamglass_core::column::{Column, ColumnType, Value};
use streamglass_core::{Agg, Batch, Engine, Schema};

fn schema() -> Schema {
    Schema::of(&[
        ("KafkaOffset", ColumnType::I64),
        ("Exchange", ColumnType::String),
        ("Instrument", ColumnType::String),
        ("Price", ColumnType::F64),
        ("Size", ColumnType::F64),
    ])
    .unwrap()
}

fn batch(start: i64, rows: usize) -> Batch {
    let schema = schema();
    let mut columns: Vec<Column> = schema.fields().iter().map(|f| Column::new(f.ty)).collect();
    for i in 0..rows as i64 {
        let o = start + i;
        columns[0].push(&Value::I64(o));
        columns[1].push(&Value::String(
            ["binance", "kraken", "gemini"][(o % 3) as usize].into(),
        ));
        columns[2].push(&Value::String(
            ["BTC/USD", "ETH/USD"][(o % 2) as usize].into(),
        ));
        columns[3].push(&Value::F64(60_000.0 + o as f64));
        columns[4].push(&Value::F64((o % 100) as f64 / 10.0));
    }
    Batch::from_columns(&schema, columns).unwrap()
}

fn width() -> usize {
    schema().fields().iter().map(|f| f.ty.width()).sum()
}

#[test]
fn append_bytes_per_row_stay_within_15_percent_of_the_column_widths() {
    let engine = Engine::new();
    let append = engine.append_table(schema());
    let mut peak_ratio = 0f64;
    for cycle in 0..100 {
        append.add(batch(cycle * 10_000, 10_000)).unwrap();
        engine.run_cycle().unwrap();
        let stats = append.stats();
        let ratio = stats.bytes_reserved as f64 / (stats.rows * width()) as f64;
        if stats.rows >= 1_000_000 {
            assert!(
                ratio <= 1.15,
                "{ratio:.3} bytes reserved per byte of data at {} rows",
                stats.rows
            );
        }
        peak_ratio = peak_ratio.max(ratio);
    }
    assert_eq!(append.size(), 1_000_000);
    // Growth is chunked: never a moment holding twice the data.
    assert!(peak_ratio < 2.0, "peak {peak_ratio:.3}");
}

#[test]
fn a_stream_table_and_its_aggregation_stay_flat_over_500_cycles() {
    let engine = Engine::new();
    let stream = engine.stream_table(schema());
    let agg = stream
        .agg_by(
            &[Agg::count("Trade_Count"), Agg::sum("Total_Size = Size")],
            &["Exchange", "Instrument"],
        )
        .unwrap();
    let counted = stream
        .drop_stream()
        .unwrap()
        .count_by("RowCount", &[])
        .unwrap();
    let mut reserved = Vec::new();
    for cycle in 0..500 {
        stream.add(batch(cycle * 2_000, 2_000)).unwrap();
        engine.run_cycle().unwrap();
        let total = stream.stats().bytes_reserved
            + agg.stats().bytes_reserved
            + counted.stats().bytes_reserved;
        reserved.push(total);
    }
    let warm = reserved[10];
    assert!(
        reserved[10..].iter().all(|&b| b == warm),
        "bytes reserved must not move once warm: {:?}",
        &reserved[..20]
    );
    assert!(
        stream.stats().bytes_used <= 2_000 * width() + 1_024,
        "{:?}",
        stream.stats()
    );
    // About one cycle is held: the batch's adopted chunks, not spares besides.
    assert!(
        stream.stats().bytes_reserved <= 2_000 * width() * 5 / 4 + 4_096,
        "{:?}",
        stream.stats()
    );
}

#[test]
fn a_ring_table_is_bounded() {
    let engine = Engine::new();
    let ring = engine.ring_table(schema(), 50_000);
    let mut peak = 0;
    for cycle in 0..200 {
        ring.add(batch(cycle * 7_000, 7_000)).unwrap();
        engine.run_cycle().unwrap();
        peak = peak.max(ring.stats().bytes_reserved);
    }
    assert_eq!(ring.size(), 50_000);
    // The rows, plus at most a few chunks of slack per column.
    assert!(peak <= 50_000 * width() + 5 * 6 * 65_536 * 8, "{peak}");
    assert_eq!(
        ring.column("KafkaOffset").unwrap().get(0),
        Some(Value::I64(200 * 7_000 - 50_000))
    );
}

#[test]
fn dropping_a_table_frees_its_state() {
    let engine = Engine::new();
    let append = engine.append_table(schema());
    let by_offset = append.count_by("N", &["KafkaOffset"]).unwrap();
    append.add(batch(0, 100_000)).unwrap();
    engine.run_cycle().unwrap();
    let held = by_offset.stats().bytes_reserved;
    assert!(
        held > 100_000 * 8,
        "a group per offset holds memory: {held}"
    );
    assert_eq!(engine.live_tables(), 2);
    drop(by_offset);
    engine.run_cycle().unwrap();
    assert_eq!(engine.live_tables(), 1, "the graph lets go of it");
}
