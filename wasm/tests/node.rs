//! The `Feed` tests in Node.js: `wasm-pack test --node wasm`.
//!
//! This binary does not configure `run_in_browser`, so the wasm-bindgen test runner runs it in
//! Node (and skips it under `--chrome`/`--firefox`); `browser.rs` runs the same tests in a browser.

#![cfg(target_arch = "wasm32")]

mod common;

mod avro {
    use js_sys::Reflect;
    use streamglass_core::avro::vlq::write_long;
    use streamglass_core::protocol::{
        Hello, PartitionInfo, Record, RecordBatch, SchemaInfo, ServerMessage, encode,
    };
    use streamglass_wasm::AvroTable;
    use wasm_bindgen::JsValue;
    use wasm_bindgen_test::wasm_bindgen_test;

    const TRADE: &str = r#"{"type":"record","name":"Trade","fields":[
        {"name":"Id","type":["null","string"],"default":null},
        {"name":"Exchange","type":"string"},
        {"name":"Type","type":{"type":"enum","name":"T","symbols":["BID","ASK"]}},
        {"name":"Price","type":"double"}]}"#;

    /// A Trade value, framed the Confluent way, encoded by hand from the spec.
    fn trade(id: &str, exchange: &str, ask: bool, price: f64) -> Vec<u8> {
        let mut v = vec![0, 0, 0, 0, 1];
        write_long(&mut v, 1);
        write_long(&mut v, id.len() as i64);
        v.extend_from_slice(id.as_bytes());
        write_long(&mut v, exchange.len() as i64);
        v.extend_from_slice(exchange.as_bytes());
        write_long(&mut v, i64::from(ask));
        v.extend_from_slice(&price.to_le_bytes());
        v
    }

    fn get(object: &JsValue, key: &str) -> JsValue {
        Reflect::get(object, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
    }

    #[wasm_bindgen_test]
    fn frames_decode_into_rows() {
        let hello = ServerMessage::Hello(Hello {
            subscription: 1,
            topic: "trades".into(),
            source: "test".into(),
            partitions: vec![PartitionInfo {
                partition: 0,
                low_watermark: 0,
                high_watermark: 3,
                start_offset: 0,
            }],
            schemas: vec![SchemaInfo {
                id: 1,
                subject: Some("trades-value".into()),
                version: Some(1),
                schema: TRADE.into(),
                schema_type: Default::default(),
                descriptors: None,
            }],
        });
        let (a, b) = (
            trade("7", "kraken", true, 61_250.5),
            trade("8", "gemini", false, 1.5),
        );
        let bad = [0u8, 0, 0, 0, 1, 2];
        let records = ServerMessage::Records(RecordBatch {
            subscription: 1,
            partition: 0,
            high_watermark: 3,
            records: [&a[..], &bad, &b]
                .iter()
                .enumerate()
                .map(|(i, v)| Record {
                    offset: i as i64,
                    timestamp_ms: 1_700_000_000_000,
                    key: None,
                    value: Some(v),
                })
                .collect(),
        });
        let mut table = AvroTable::new(None);
        table.apply_frame(&encode(&hello).unwrap()).unwrap();
        table.apply_frame(&encode(&records).unwrap()).unwrap();
        assert_eq!(
            table.column_names(),
            [
                "KafkaPartition",
                "KafkaOffset",
                "KafkaTimestamp",
                "Id",
                "Exchange",
                "Type",
                "Price"
            ]
        );
        assert_eq!(table.rows(), 2);
        assert_eq!(table.skipped(), 1.0);
        assert!(
            table.errors()[0].contains("offset 1"),
            "{:?}",
            table.errors()
        );
        let row = table.row(1).unwrap();
        assert_eq!(get(&row, "Exchange").as_string().as_deref(), Some("gemini"));
        assert_eq!(get(&row, "Type").as_string().as_deref(), Some("BID"));
        assert_eq!(get(&row, "Price").as_f64(), Some(1.5));
        assert!(get(&row, "KafkaOffset").is_bigint());
        assert!(table.row(2).unwrap().is_undefined());
    }
}
