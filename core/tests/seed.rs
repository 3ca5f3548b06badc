//! Deephaven's "Stream vs. Append in the Kafka ingestor" notebook, natively, with its exact
//! operations and names. The same batches of trades go to an append and a stream source; after
//! every cycle the two aggregations must be identical while only the append table's memory grows.

use streamglass_core::column::{Column, ColumnType, Value};
use streamglass_core::formula::Variables;
use streamglass_core::{Agg, Batch, Engine, Schema, Table, format_column};

fn schema() -> Schema {
    Schema::of(&[
        ("KafkaPartition", ColumnType::I32),
        ("KafkaOffset", ColumnType::I64),
        ("KafkaTimestamp", ColumnType::Timestamp),
        ("Id", ColumnType::String),
        ("Timestamp", ColumnType::Timestamp),
        ("Exchange", ColumnType::String),
        ("Instrument", ColumnType::String),
        ("Type", ColumnType::String),
        ("Price", ColumnType::F64),
        ("Size", ColumnType::F64),
    ])
    .unwrap()
}

/// Deterministic trades: skewed exchanges, a handful of instruments, sizes with decimals.
struct Trades {
    x: u64,
    offset: i64,
}

impl Trades {
    fn next(&mut self) -> u64 {
        self.x ^= self.x << 13;
        self.x ^= self.x >> 7;
        self.x ^= self.x << 17;
        self.x
    }

    fn batch(&mut self, rows: usize) -> Batch {
        let exchanges = [
            "binance",
            "binance",
            "binance",
            "coinbase-pro",
            "coinbase-pro",
            "kraken",
            "gemini",
            "lgo",
        ];
        let instruments = ["BTC/USD", "BTC/USDT", "ETH/USD", "ETH/BTC", "LTC/USD"];
        let schema = schema();
        let mut columns: Vec<Column> = schema.fields().iter().map(|f| Column::new(f.ty)).collect();
        for _ in 0..rows {
            let r = self.next();
            let ts = 1_767_623_400_000_000_000 + self.offset * 1_000_000;
            let values = [
                Value::I32((self.offset % 3) as i32),
                Value::I64(self.offset),
                Value::Timestamp(ts),
                Value::String(format!("T{}", self.offset)),
                Value::Timestamp(ts - 5_000_000),
                Value::String(exchanges[(r % 8) as usize].into()),
                Value::String(instruments[((r >> 8) % 5) as usize].into()),
                Value::String(["BID", "ASK"][((r >> 16) % 2) as usize].into()),
                Value::F64(60_000.0 + ((r >> 20) % 10_000) as f64 / 10.0),
                Value::F64(((r >> 40) % 100_000) as f64 / 1_000.0),
            ];
            for (c, v) in columns.iter_mut().zip(&values) {
                c.push(v);
            }
            self.offset += 1;
        }
        Batch::from_columns(&schema, columns).unwrap()
    }
}

fn agg(table: &Table) -> Table {
    table
        .agg_by(
            &[Agg::count("Trade_Count"), Agg::sum("Total_Size = Size")],
            &["Exchange", "Instrument"],
        )
        .unwrap()
        .sort(&["Exchange", "Instrument"])
        .unwrap()
        .format_column_where("Instrument", "Instrument.startsWith(`BTC`)", "IVORY")
        .unwrap()
}

#[test]
fn stream_and_append_aggregate_identically_while_only_append_grows() {
    let engine = Engine::new();
    let mut trades = Trades {
        x: 0x9e37_79b9_7f4a_7c15,
        offset: 0,
    };

    // latest_offset: a live stream table at the end of the topic, viewed and snapshotted.
    let latest = engine.stream_table(schema());
    let latest_offset = latest.view(&["KafkaOffset"]).unwrap().last_by(&[]).unwrap();
    for _ in 0..3 {
        latest.add(trades.batch(500)).unwrap();
        engine.run_cycle().unwrap();
    }
    let snapshot = latest_offset.snapshot();
    let size_offset = 1_000i64;
    let Some(Value::I64(last)) = snapshot.column("KafkaOffset").unwrap().get(0) else {
        panic!("latest_offset has no row");
    };
    assert_eq!(last, 1_499);
    let vars = Variables::from_iter([("size_offset".to_owned(), Value::I64(size_offset))]);
    let offset_variable = snapshot
        .view_with(&["Start = KafkaOffset - size_offset"], &vars)
        .unwrap()
        .column("Start")
        .unwrap()
        .get(0);
    assert_eq!(offset_variable, Some(Value::I64(499)));
    latest.add(trades.batch(10)).unwrap();
    engine.run_cycle().unwrap();
    assert_eq!(
        snapshot.column("KafkaOffset").unwrap().get(0),
        Some(Value::I64(1_499)),
        "a snapshot is static"
    );

    // The two ingestors, and every table of the notebook.
    let append = engine.append_table(schema());
    let stream = engine.stream_table(schema());
    let agg_append = agg(&append);
    let agg_stream = agg(&stream);
    let row_count_append = append
        .count_by("RowCount", &[])
        .unwrap()
        .update_view(&["Table_Type = `append`"])
        .unwrap();
    let row_count_stream = stream
        .drop_stream()
        .unwrap()
        .count_by("RowCount", &[])
        .unwrap()
        .update_view(&["Table_Type = `stream`"])
        .unwrap();
    let row_count_merge = row_count_append.merge(&[&row_count_stream]).unwrap();
    let diff_table = agg_append
        .natural_join(
            &agg_stream,
            &["Exchange, Instrument"],
            &["Trade_Count_Stream = Trade_Count, Total_Size_Stream = Total_Size"],
        )
        .unwrap()
        .view(&[
            "Exchange",
            "Instrument",
            "Diff_Trade_Count = Trade_Count - Trade_Count_Stream",
            "Diff_Total_Size = Total_Size - Total_Size_Stream",
        ])
        .unwrap();

    let mut ingested = 0i64;
    let mut stream_bytes = Vec::new();
    let mut append_bytes = Vec::new();
    // "1M events ago" arrives as a burst, then live trades trickle in, including empty cycles.
    let sizes = [
        5_000, 5_000, 5_000, 5_000, 700, 30, 0, 45, 800, 12, 0, 0, 900, 850,
    ];
    for (cycle, &n) in sizes.iter().enumerate() {
        let batch = trades.batch(n);
        let batch_bytes: usize = batch.columns().iter().map(Column::bytes_used).sum();
        append.add(batch.clone()).unwrap();
        stream.add(batch).unwrap();
        engine.run_cycle().unwrap();
        ingested += n as i64;

        for row in diff_table.all_rows() {
            assert_eq!(row[2], Value::I64(0), "cycle {cycle}: {row:?}");
            assert_eq!(row[3], Value::F64(0.0), "cycle {cycle}: {row:?}");
        }
        assert_eq!(diff_table.size(), agg_append.size());
        assert_eq!(
            agg_append.all_rows(),
            agg_stream.all_rows(),
            "cycle {cycle}"
        );

        assert_eq!(
            row_count_append.all_rows(),
            vec![vec![Value::I64(ingested), Value::String("append".into())]]
        );
        let expected_stream = if n == 0 {
            vec![]
        } else {
            vec![vec![Value::I64(n as i64), Value::String("stream".into())]]
        };
        assert_eq!(
            row_count_stream.all_rows(),
            expected_stream,
            "cycle {cycle}"
        );
        assert_eq!(row_count_merge.size(), 1 + usize::from(n > 0));

        // The viewport shows data columns only, with the format folded into the cells.
        let view = agg_append.viewport(0, 1_000);
        assert_eq!(
            view.columns,
            ["Exchange", "Instrument", "Trade_Count", "Total_Size"]
        );
        for (row, formats) in view.rows.iter().zip(&view.formats) {
            let btc = matches!(&row[1], Value::String(s) if s.starts_with("BTC"));
            assert_eq!(formats[1].as_deref(), btc.then_some("IVORY"));
            assert_eq!(formats[0], None);
        }

        // BTC instruments carry the IVORY format; the others none.
        let format = agg_append
            .schema()
            .index_of(&format_column("Instrument"))
            .unwrap();
        for row in agg_append.all_rows() {
            let btc = matches!(&row[1], Value::String(s) if s.starts_with("BTC"));
            assert_eq!(
                row[format],
                if btc {
                    Value::String("IVORY".into())
                } else {
                    Value::Null
                }
            );
        }

        let stream_stats = stream.stats();
        assert_eq!(stream_stats.rows, n);
        assert!(
            stream_stats.bytes_used <= batch_bytes + 64 * 1024,
            "cycle {cycle}: the stream table holds one cycle: {} bytes for a {batch_bytes}-byte batch",
            stream_stats.bytes_used
        );
        stream_bytes.push(stream.stats().bytes_reserved);
        append_bytes.push(append.stats().bytes_used);
    }
    assert!(
        append_bytes.windows(2).all(|w| w[1] >= w[0]),
        "append grows: {append_bytes:?}"
    );
    assert!(append_bytes[append_bytes.len() - 1] > 10 * append_bytes[0] / 5);
    let peak = *stream_bytes.iter().max().unwrap();
    assert!(
        stream_bytes[stream_bytes.len() - 1] <= peak,
        "the stream table reuses its memory: {stream_bytes:?}"
    );
    assert_eq!(
        agg_append.column("Trade_Count").unwrap().size(),
        agg_stream.size()
    );
}

#[test]
fn a_duplicate_right_key_in_a_later_cycle_fails_the_join_only() {
    let engine = Engine::new();
    let schema = Schema::of(&[("K", ColumnType::String), ("V", ColumnType::I64)]).unwrap();
    let left = engine.append_table(schema.clone());
    let right = engine.append_table(schema.clone());
    let row = |k: &str, v: i64| vec![Value::String(k.into()), Value::I64(v)];
    left.add(Batch::from_rows(&schema, &[row("a", 1), row("b", 2)]).unwrap())
        .unwrap();
    right
        .add(Batch::from_rows(&schema, &[row("a", 10)]).unwrap())
        .unwrap();
    engine.run_cycle().unwrap();
    let joined = left.natural_join(&right, &["K"], &["RV = V"]).unwrap();
    assert_eq!(
        joined.all_rows(),
        vec![
            vec![Value::String("a".into()), Value::I64(1), Value::I64(10)],
            vec![Value::String("b".into()), Value::I64(2), Value::Null]
        ]
    );
    right
        .add(Batch::from_rows(&schema, &[row("a", 11)]).unwrap())
        .unwrap();
    engine.run_cycle().unwrap();
    let error = joined.error().expect("the join fails");
    assert!(error.contains("more than one row for key [a]"), "{error}");
    assert_eq!(joined.size(), 2, "the last good rows stay");
    assert_eq!(right.size(), 2, "the parent is unaffected");

    let e = left
        .natural_join(&right, &["K"], &["RV = V"])
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("more than one row"), "at build time too: {e}");
}
