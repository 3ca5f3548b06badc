//! Tests of the exported `Feed`, shared by the Node (`node.rs`) and browser (`browser.rs`) test
//! binaries: frames are built with the core's encoder, applied through the wasm-bindgen API, and
//! the snapshot is read back as the JavaScript object a page sees.

use js_sys::{Array, JSON, Reflect};
use streamglass_core::protocol::{
    Hello, PartitionInfo, Record, RecordBatch, ServerMessage, encode,
};
use streamglass_wasm::Feed;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::wasm_bindgen_test;

mod api;

/// A property of a JS object.
pub fn get(object: &JsValue, key: &str) -> JsValue {
    Reflect::get(object, &JsValue::from_str(key))
        .unwrap_or_else(|e| panic!("cannot read {key}: {e:?}"))
}

/// A property that must be a plain JS `Number` (not a `BigInt`, not missing).
pub fn number(object: &JsValue, key: &str) -> f64 {
    let value = get(object, key);
    assert!(!value.is_bigint(), "{key} is a BigInt: {value:?}");
    value
        .as_f64()
        .unwrap_or_else(|| panic!("{key} is not a number: {value:?}"))
}

/// A property that must be a string.
pub fn string(object: &JsValue, key: &str) -> String {
    let value = get(object, key);
    value
        .as_string()
        .unwrap_or_else(|| panic!("{key} is not a string: {value:?}"))
}

/// A property that must be an array.
pub fn array(object: &JsValue, key: &str) -> Vec<JsValue> {
    let value = get(object, key);
    assert!(Array::is_array(&value), "{key} is not an array: {value:?}");
    Array::from(&value).iter().collect()
}

/// The snapshot's error messages.
pub fn errors(snapshot: &JsValue) -> Vec<String> {
    array(snapshot, "errors")
        .iter()
        .map(|e| {
            e.as_string()
                .unwrap_or_else(|| panic!("error is not a string: {e:?}"))
        })
        .collect()
}

fn snapshot(feed: &Feed) -> JsValue {
    feed.snapshot()
        .unwrap_or_else(|_| panic!("snapshot() failed"))
}

fn frame(message: &ServerMessage<'_>) -> Vec<u8> {
    encode(message).unwrap_or_else(|e| panic!("cannot encode {message:?}: {e}"))
}

/// A hello for topic `trades`, partitions given as (partition, high watermark), all from offset 0.
fn hello(partitions: &[(i32, i64)]) -> Vec<u8> {
    frame(&ServerMessage::Hello(Hello {
        subscription: 0,
        topic: "trades".into(),
        source: "test frames".into(),
        partitions: partitions
            .iter()
            .map(|&(partition, high_watermark)| PartitionInfo {
                partition,
                low_watermark: 0,
                high_watermark,
                start_offset: 0,
            })
            .collect(),
        schemas: vec![],
    }))
}

/// A batch with one record per offset, each with `key` and `value`.
fn batch(partition: i32, offsets: std::ops::Range<i64>, key: &[u8], value: &[u8]) -> Vec<u8> {
    frame(&ServerMessage::Records(RecordBatch {
        subscription: 0,
        partition,
        high_watermark: offsets.end,
        records: offsets
            .map(|offset| Record {
                offset,
                timestamp_ms: 1_700_000_000_000 + offset,
                key: Some(key),
                value: Some(value),
            })
            .collect(),
    }))
}

fn caught_up(partition: i32, next_offset: i64) -> Vec<u8> {
    frame(&ServerMessage::CaughtUp {
        subscription: 0,
        partition,
        next_offset,
    })
}

#[wasm_bindgen_test]
fn a_new_feed_is_connecting_and_empty() {
    let s = snapshot(&Feed::new());
    assert_eq!(string(&s, "status"), "connecting");
    assert!(get(&s, "topic").is_null(), "no topic before the hello");
    assert!(get(&s, "source").is_null());
    assert_eq!(number(&s, "totalRecords"), 0.0);
    assert_eq!(number(&s, "totalBytes"), 0.0);
    assert_eq!(number(&s, "messages"), 0.0);
    assert!(array(&s, "partitions").is_empty());
    assert!(errors(&s).is_empty());
}

#[wasm_bindgen_test]
fn counts_records_bytes_and_offsets_per_partition() {
    let mut feed = Feed::new();
    feed.apply_frame(&hello(&[(0, 3), (1, 2), (2, 0)]));
    let s = snapshot(&feed);
    assert_eq!(string(&s, "status"), "streaming");
    assert_eq!(string(&s, "topic"), "trades");
    assert_eq!(string(&s, "source"), "test frames");

    feed.apply_frame(&batch(0, 0..3, b"k1", b"value")); // 3 records × 7 bytes
    feed.apply_frame(&batch(1, 0..2, b"", b"xyz")); // 2 records × 3 bytes
    let s = snapshot(&feed);
    assert_eq!(string(&s, "status"), "streaming");
    assert_eq!(number(&s, "totalRecords"), 5.0);
    assert_eq!(number(&s, "totalBytes"), 27.0);
    assert_eq!(number(&s, "messages"), 3.0);

    let partitions = array(&s, "partitions");
    assert_eq!(partitions.len(), 3);
    let expected = [
        // partition, records, bytes, last offset, high watermark, caught up
        (0.0, 3.0, 21.0, Some(2.0), 3.0, false),
        (1.0, 2.0, 6.0, Some(1.0), 2.0, false),
        (2.0, 0.0, 0.0, None, 0.0, true), // empty: nothing to catch up on
    ];
    for (p, (partition, records, bytes, last, high, caught)) in partitions.iter().zip(expected) {
        assert_eq!(number(p, "partition"), partition);
        assert_eq!(number(p, "records"), records, "partition {partition}");
        assert_eq!(number(p, "bytes"), bytes, "partition {partition}");
        match last {
            Some(last) => assert_eq!(number(p, "lastOffset"), last, "partition {partition}"),
            None => assert!(get(p, "lastOffset").is_null(), "partition {partition}"),
        }
        assert_eq!(number(p, "highWatermark"), high, "partition {partition}");
        assert_eq!(
            get(p, "caughtUp").as_bool(),
            Some(caught),
            "partition {partition}"
        );
    }

    feed.apply_frame(&caught_up(0, 3));
    assert_eq!(string(&snapshot(&feed), "status"), "streaming");
    feed.apply_frame(&caught_up(1, 2));
    let s = snapshot(&feed);
    assert_eq!(string(&s, "status"), "caughtUp");
    assert!(errors(&s).is_empty(), "{:?}", errors(&s));
}

#[wasm_bindgen_test]
fn snappy_frames_inflate_in_wasm_to_the_frames_inside() {
    let mut feed = Feed::new();
    feed.apply_frame(&hello(&[(0, 2_000)]));
    let plain = batch(0, 0..2_000, b"", b"a value that repeats");
    let packed = streamglass_core::protocol::compress(0, &plain).unwrap();
    assert!(packed.len() * 4 < plain.len());
    feed.apply_frame(&packed);
    let s = snapshot(&feed);
    assert_eq!(number(&s, "totalRecords"), 2_000.0);
    assert_eq!(number(&s, "messages"), 2.0);
    let mut broken = packed.clone();
    let last = broken.len() - 1;
    broken[last] ^= 0xff;
    broken.truncate(last - 10);
    feed.apply_frame(&broken);
    let s = snapshot(&feed);
    assert_eq!(number(&s, "totalRecords"), 2_000.0);
    assert_eq!(string(&s, "status"), "failed");
}

#[wasm_bindgen_test]
fn large_offsets_and_counts_are_exact_numbers() {
    // 2^40 + 3: well past u32, still a safe integer; must come out as a Number, not a BigInt.
    let base: i64 = (1 << 40) + 3;
    let mut feed = Feed::new();
    feed.apply_frame(&hello(&[(7, base + 10)]));
    feed.apply_frame(&batch(7, base..base + 10, b"", &[0u8; 1000]));
    let s = snapshot(&feed);
    let p = &array(&s, "partitions")[0];
    assert_eq!(number(p, "lastOffset"), (base + 9) as f64);
    assert_eq!(number(p, "highWatermark"), (base + 10) as f64);
    assert_eq!(number(&s, "totalBytes"), 10_000.0);
    // A snapshot with a BigInt in it would make JSON.stringify throw.
    let json = JSON::stringify(&s).unwrap_or_else(|e| panic!("JSON.stringify failed: {e:?}"));
    let json = String::from(json);
    assert!(
        json.contains(&format!("\"lastOffset\":{}", base + 9)),
        "{json}"
    );
}

#[wasm_bindgen_test]
fn garbage_frames_become_errors_not_panics() {
    let mut feed = Feed::new();
    feed.apply_frame(&hello(&[(0, 5)]));
    feed.apply_frame(&batch(0, 0..2, b"", b"ok"));
    feed.apply_frame(&[]);
    feed.apply_frame(&[1, 0xff, 0xff, 0xff]);
    let mut wrong_version = batch(0, 2..3, b"", b"ok");
    wrong_version[0] = 99;
    feed.apply_frame(&wrong_version);
    let s = snapshot(&feed);
    assert_eq!(string(&s, "status"), "failed");
    let errs = errors(&s);
    assert_eq!(errs.len(), 3, "{errs:?}");
    assert!(errs.iter().all(|e| !e.is_empty()), "{errs:?}");
    assert_eq!(number(&s, "messages"), 5.0);
    // Nothing from the bad frames was counted.
    assert_eq!(number(&s, "totalRecords"), 2.0);

    // Pseudo-random bytes after a valid version byte: decoded or refused, never a trap.
    let mut state: u32 = 0x9e37_79b9;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        state
    };
    for len in 0..300 {
        let mut bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        if let Some(first) = bytes.first_mut() {
            *first = 1;
        }
        feed.apply_frame(&bytes);
    }
    let s = snapshot(&feed);
    assert_eq!(number(&s, "messages"), 305.0);
    assert_eq!(string(&s, "status"), "failed");
}

#[wasm_bindgen_test]
fn a_batch_going_backwards_is_refused() {
    let mut feed = Feed::new();
    feed.apply_frame(&hello(&[(0, 10)]));
    feed.apply_frame(&batch(0, 0..5, b"", b"a"));
    feed.apply_frame(&batch(0, 3..8, b"", b"a"));
    let s = snapshot(&feed);
    assert_eq!(string(&s, "status"), "failed");
    assert_eq!(number(&s, "totalRecords"), 5.0);
    assert_eq!(number(&array(&s, "partitions")[0], "lastOffset"), 4.0);
    let errs = errors(&s);
    assert!(
        errs[0].contains("offset 3 arrived after offset 4"),
        "{errs:?}"
    );
}

#[wasm_bindgen_test]
fn the_bridge_error_message_is_reported() {
    let mut feed = Feed::new();
    feed.apply_frame(&hello(&[(0, 10)]));
    feed.apply_frame(&frame(&ServerMessage::Error {
        subscription: Some(0),
        message: "broker unreachable".into(),
    }));
    let s = snapshot(&feed);
    assert_eq!(string(&s, "status"), "failed");
    assert_eq!(errors(&s), ["broker unreachable"]);
}

#[wasm_bindgen_test]
fn close_keeps_the_counts_and_records_the_reason() {
    let mut feed = Feed::new();
    feed.apply_frame(&hello(&[(0, 10)]));
    feed.apply_frame(&batch(0, 0..4, b"", b"abc"));
    feed.close(Some("socket closed".into()));
    let s = snapshot(&feed);
    assert_eq!(string(&s, "status"), "closed");
    assert_eq!(number(&s, "totalRecords"), 4.0);
    assert_eq!(errors(&s), ["socket closed"]);

    let mut quiet = Feed::new();
    quiet.close(None);
    let s = snapshot(&quiet);
    assert_eq!(string(&s, "status"), "closed");
    assert!(errors(&s).is_empty());
}

#[wasm_bindgen_test]
fn a_bad_seek_is_refused_before_connecting_with_the_parsers_message() {
    let Err(error) =
        streamglass_wasm::FeedClient::connect_with_seek("ws://127.0.0.1:9/ws", "bogus")
    else {
        panic!("a bad seek connected");
    };
    let message = get(&JsValue::from(error), "message").as_string().unwrap();
    assert_eq!(
        message,
        r#"seek: "bogus" is not a position: use beginning, end, an offset, -N or s@<epoch ms>"#
    );
}
