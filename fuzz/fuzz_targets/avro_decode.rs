//! Any bytes as Kafka record values for decoders over several schemas (every Avro type, schema
//! evolution, recursion inside arrays): decoding never panics, never loops, and never leaves a
//! partial row (every column has as many rows as the decoder counts), record by record or as a
//! batch.
//!
//! The first byte picks the writer schema id; the rest is the Avro body. The whole input is also
//! tried as a framed value, to reach the header checks.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use streamglass_core::avro::{Format, ReaderSchema, RecordDecoder, SchemaStore};
use streamglass_core::protocol::Record;

const SCHEMAS: &[(u32, &str, &str)] = &[
    (1, "t", r#"{"type":"record","name":"Trade","fields":[
        {"name":"Id","type":["null","string"],"default":null},
        {"name":"Timestamp","type":["null",{"type":"long","logicalType":"timestamp-micros"}],"default":null},
        {"name":"Exchange","type":"string"},
        {"name":"Type","type":{"type":"enum","name":"TradeType","symbols":["BID","ASK","EXIT_ASK","EXIT_BID"]}},
        {"name":"Price","type":"double"},
        {"name":"Size","type":"float"}]}"#),
    (2, "t", r#"{"type":"record","name":"Trade","fields":[
        {"name":"Id","type":["null","string"],"default":null},
        {"name":"Exchange","type":"bytes"},
        {"name":"Type","type":{"type":"enum","name":"TradeType","symbols":["BID","ASK","OTHER"],"default":"OTHER"}},
        {"name":"Price","type":"double"},
        {"name":"Size","type":"double"},
        {"name":"Venue","type":["null",{"type":"record","name":"V","fields":[{"name":"n","type":"int"},{"name":"tags","type":{"type":"array","items":"string"}}]}],"default":null},
        {"name":"Count","type":"long","default":7}]}"#),
    (3, "e", r#"{"type":"record","name":"E","fields":[
        {"name":"b","type":"boolean"},
        {"name":"i","type":"int"},
        {"name":"l","type":"long"},
        {"name":"f","type":"float"},
        {"name":"d","type":"double"},
        {"name":"s","type":"string"},
        {"name":"y","type":"bytes"},
        {"name":"x","type":{"type":"fixed","name":"F","size":3}},
        {"name":"dec","type":{"type":"bytes","logicalType":"decimal","precision":10,"scale":2}},
        {"name":"decf","type":{"type":"fixed","name":"DF","size":5,"logicalType":"decimal","precision":10,"scale":3}},
        {"name":"date","type":{"type":"int","logicalType":"date"}},
        {"name":"tm","type":{"type":"int","logicalType":"time-millis"}},
        {"name":"tu","type":{"type":"long","logicalType":"time-micros"}},
        {"name":"tsn","type":{"type":"long","logicalType":"timestamp-nanos"}},
        {"name":"u","type":{"type":"string","logicalType":"uuid"}},
        {"name":"multi","type":["null","int","string",{"type":"record","name":"R","fields":[{"name":"a","type":"long"}]}]},
        {"name":"arr","type":{"type":"array","items":{"type":"map","values":["null","double"]}}},
        {"name":"tree","type":{"type":"array","items":{"type":"record","name":"Node","fields":[{"name":"v","type":"int"},{"name":"kids","type":{"type":"array","items":"Node"}}]}}},
        {"name":"nested","type":{"type":"record","name":"N","fields":[{"name":"p","type":["null","R"]}]}}]}"#),
    (4, "e", r#"{"type":"record","name":"E","fields":[
        {"name":"i","type":"long"},
        {"name":"f","type":"double"},
        {"name":"s","type":"bytes"},
        {"name":"extra","type":{"type":"map","values":"int"},"default":{}},
        {"name":"multi","type":["null","long","string"],"default":null}]}"#),
];

struct Decoders {
    decoders: Vec<RecordDecoder>,
}

fn decoders() -> &'static std::sync::Mutex<Decoders> {
    static D: OnceLock<std::sync::Mutex<Decoders>> = OnceLock::new();
    D.get_or_init(|| {
        let mut store = SchemaStore::new();
        for (id, subject, text) in SCHEMAS {
            store
                .add(*id, Some(subject), Some(*id as i32), text)
                .expect("the fuzz schemas parse");
        }
        let mut decoders = Vec::new();
        for id in 1..=4 {
            let reader = Format::Avro(ReaderSchema::Id(id));
            let d = RecordDecoder::new(store.clone(), Format::Ignore, reader);
            decoders.push(d.expect("the fuzz readers map to columns"));
        }
        std::sync::Mutex::new(Decoders { decoders })
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let mut framed = vec![0, 0, 0, 0, 1 + pick % 4];
    framed.extend_from_slice(body);
    let mut guard = decoders().lock().unwrap_or_else(|e| e.into_inner());
    for d in guard.decoders.iter_mut() {
        for (offset, value) in [(0, &framed[..]), (1, data)] {
            let record = Record {
                offset,
                timestamp_ms: i64::from(pick) << 40,
                key: None,
                value: Some(value),
            };
            let _ = d.decode(0, &record);
            let rows = d.rows();
            assert!(d.columns().iter().all(|c| c.len() == rows), "partial row");
        }
        // The same values as a batch (through the plan's lanes where it has them), a good
        // value around them: the same invariant, and the batch never adds more rows than records.
        let records: Vec<Record> = [&framed[..], data, &framed[..]]
            .into_iter()
            .enumerate()
            .map(|(offset, value)| Record {
                offset: offset as i64,
                timestamp_ms: i64::from(pick) << 40,
                key: None,
                value: Some(value),
            })
            .collect();
        let added = d.decode_records(0, &records, |_| {});
        assert!(added <= records.len());
        let rows = d.rows();
        assert!(d.columns().iter().all(|c| c.len() == rows), "partial row in a batch");
        if d.rows() > 10_000 {
            d.clear();
        }
    }
});
