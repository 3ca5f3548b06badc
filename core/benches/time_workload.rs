//! The time benchmarks' workload: 1M trades of 4 instruments from 2026-01-05T17:00:00Z, about a
//! millisecond apart, in batches of 16,384 rows, and the pipelines timed over them. Shared by the
//! criterion benches (`benches/time.rs`, `benches/update_by.rs`) and the wasm32 example
//! (`examples/wasm_bench.rs`); the pandas anchor (`tests/python/update_by_bench.py`) generates
//! the same trades.

use streamglass_core::time::{MINUTE, SECOND};
use streamglass_core::{Agg, Batch, ColumnType, Schema, Table, UpdateBy, UpdateByWindow, Value};

pub const ROWS: usize = 1 << 20;
pub const BATCH: usize = 16_384;

pub fn schema() -> Schema {
    Schema::of(&[
        ("Ts", ColumnType::Timestamp),
        ("Instrument", ColumnType::String),
        ("Price", ColumnType::F64),
    ])
    .expect("schema")
}

pub fn trades() -> Vec<Batch> {
    let instruments = ["BTC/USD", "ETH/USD", "BTC/USDT", "SOL/USD"];
    let schema = schema();
    let mut ts = 1_767_632_400_000_000_000i64;
    let mut state = 15u64;
    (0..ROWS / BATCH)
        .map(|_| {
            let mut batch = Batch::with_capacity(&schema, BATCH);
            for _ in 0..BATCH {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                let r = state >> 20;
                ts += 500_000 + (r % 1_000_000) as i64;
                batch
                    .push_row(&[
                        Value::Timestamp(ts),
                        Value::String(instruments[(r >> 24) as usize % 4].into()),
                        Value::F64(60_000.0 + ((r >> 30) % 10_000) as f64 / 10.0),
                    ])
                    .expect("row");
            }
            batch
        })
        .collect()
}

/// The 1-minute OHLC bars of each instrument.
pub fn ohlc(trades: &Table) -> Table {
    trades
        .update_view(&["Minute = lowerBin(Ts, MINUTE)"])
        .expect("updateView")
        .agg_by(
            &[
                Agg::first("Open = Price"),
                Agg::max("High = Price"),
                Agg::min("Low = Price"),
                Agg::last("Close = Price"),
            ],
            &["Instrument", "Minute"],
        )
        .expect("aggBy")
}

/// The hour of each trade in New York.
pub fn hour_of_day(trades: &Table) -> Table {
    trades
        .update(&["Hour = hourOfDay(Ts, 'America/New_York')"])
        .expect("update")
}

/// `updateBy` by Instrument: `rollingAvg` of Price over the last 100 trades.
pub fn rolling_avg_ticks(t: &Table) -> Table {
    t.update_by(
        &[UpdateBy::rolling_avg(
            UpdateByWindow::ticks(100, 0),
            &["Avg = Price"],
        )],
        &["Instrument"],
    )
    .expect("updateBy")
}

/// `updateBy` by Instrument: `rollingAvg` of Price over the minute up to each trade's `Ts`.
pub fn rolling_avg_minute(t: &Table) -> Table {
    t.update_by(
        &[UpdateBy::rolling_avg(
            UpdateByWindow::time("Ts", MINUTE, 0),
            &["Avg = Price"],
        )],
        &["Instrument"],
    )
    .expect("updateBy")
}

/// `updateBy` by Instrument: `ema` of Price with a 10 s time scale on `Ts`.
pub fn ema_10s(t: &Table) -> Table {
    t.update_by(
        &[UpdateBy::ema_time("Ts", 10 * SECOND, &["Ema = Price"])],
        &["Instrument"],
    )
    .expect("updateBy")
}
