//! Apache Avro's shared test vectors (`tests/data/avro/apache/`, see its README):
//! every payload of `binary-rejections.json` must be refused, and every schema of
//! `schema-tests.txt` must get its Parsing Canonical Form and Rabin fingerprint.

use serde_json::Value as Json;
use streamglass_core::avro::schema_store::parse_schema;
use streamglass_core::avro::{Format, ReaderSchema, RecordDecoder, SchemaStore};
use streamglass_core::protocol::Record;
use streamglass_core::{DecodeReason, Error};

fn data(name: &str) -> String {
    let path = format!(
        "{}/../tests/data/avro/apache/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn every_binary_rejection_is_refused() {
    let vectors: Json = serde_json::from_str(&data("binary-rejections.json")).expect("json");
    let vectors = vectors["vectors"].as_array().expect("vectors");
    assert_eq!(vectors.len(), 9);
    for v in vectors {
        let name = v["name"].as_str().expect("name");
        let mut store = SchemaStore::new();
        store
            .add(1, Some("s"), Some(1), v["schema"].as_str().expect("schema"))
            .expect("schema parses");
        let mut decoder = RecordDecoder::new(
            store,
            Format::Ignore,
            Format::Avro(ReaderSchema::Latest("s".into())),
        )
        .expect("decoder");
        let hex = v["bytesHex"].as_str().expect("hex");
        let mut frame = vec![0, 0, 0, 0, 1];
        frame.extend(
            (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex")),
        );
        let record = Record {
            offset: 5,
            timestamp_ms: 0,
            key: None,
            value: Some(&frame),
        };
        let reason = match decoder.decode(3, &record) {
            Err(Error::Decode {
                partition: 3,
                offset: 5,
                schema_id: Some(1),
                reason,
            }) => reason,
            other => panic!("{name}: not refused: {other:?}"),
        };
        let expected = match v["category"].as_str().expect("category") {
            "overlong_varint" => matches!(reason, DecodeReason::OverlongVarint),
            "negative_block_count" => matches!(reason, DecodeReason::BlockCount(i64::MIN)),
            "negative_length" => matches!(reason, DecodeReason::NegativeLength(_)),
            "union_index_out_of_range" => matches!(reason, DecodeReason::UnionIndex { .. }),
            "enum_index_out_of_range" => matches!(reason, DecodeReason::EnumIndex { .. }),
            other => panic!("{name}: unknown category {other}"),
        };
        assert!(expected, "{name}: refused for the wrong reason: {reason:?}");
        // In a batch (through the plan's lanes where it has them), the same refusal.
        let mut batch_reasons = Vec::new();
        let mut store = SchemaStore::new();
        store
            .add(1, Some("s"), Some(1), v["schema"].as_str().expect("schema"))
            .expect("schema parses");
        let mut batched = RecordDecoder::new(
            store,
            Format::Ignore,
            Format::Avro(ReaderSchema::Latest("s".into())),
        )
        .expect("decoder");
        batched.decode_records(3, std::slice::from_ref(&record), |e| match e {
            Error::Decode { reason, .. } => batch_reasons.push(reason),
            other => panic!("{name}: {other}"),
        });
        assert_eq!(
            batch_reasons,
            std::slice::from_ref(&reason),
            "{name}: in a batch"
        );
        assert!(batched.columns().iter().all(|c| c.is_empty()));
        assert_eq!(decoder.rows(), 0);
        assert!(
            decoder.columns().iter().all(|c| c.is_empty()),
            "{name}: a partial row"
        );
    }
}

#[test]
fn canonical_forms_and_rabin_fingerprints() {
    let text = data("schema-tests.txt");
    let mut cases = Vec::new();
    let mut current: (Option<String>, Option<String>, Option<i64>) = (None, None, None);
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let mut value = |tag: &str| -> Option<String> {
            let rest = line.strip_prefix(tag)?.trim();
            if rest.is_empty() {
                // A multi-line value: the lines up to one holding the tag's name alone.
                let end = tag.trim_start_matches('<');
                let mut text = String::new();
                for l in lines.by_ref() {
                    if l.trim() == end {
                        break;
                    }
                    text.push_str(l);
                    text.push('\n');
                }
                Some(text)
            } else {
                Some(rest.to_owned())
            }
        };
        if let Some(v) = value("<<INPUT") {
            if let (Some(input), Some(canonical), fp) = current.clone() {
                cases.push((input, canonical, fp));
            }
            current = (Some(v), None, None);
        } else if let Some(v) = value("<<canonical") {
            current.1 = Some(v);
        } else if let Some(v) = value("<<fingerprint") {
            current.2 = Some(v.trim().parse().expect("fingerprint"));
        }
    }
    if let (Some(input), Some(canonical), fp) = current {
        cases.push((input, canonical, fp));
    }
    assert!(cases.len() >= 30, "{} cases", cases.len());
    let mut failures = Vec::new();
    for (i, (input, canonical, fingerprint)) in cases.iter().enumerate() {
        match parse_schema(input.trim()) {
            Ok((_, got, fp)) => {
                if got != canonical.trim() {
                    failures.push(format!(
                        "#{i}: canonical form {got}, expected {}",
                        canonical.trim()
                    ));
                }
                if let Some(expected) = fingerprint
                    && fp != *expected
                {
                    failures.push(format!("#{i}: fingerprint {fp}, expected {expected}"));
                }
            }
            // Every vector parses, #26 too: its boolean field's default is "true" (a string),
            // which Java accepts, and defaults are checked only when a reader uses them.
            Err(e) => failures.push(format!("#{i}: {input} does not parse: {e}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
