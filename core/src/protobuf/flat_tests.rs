//! The one-pass form ([`super::flat`]) against the general path: the same records, read by a
//! side that takes the one-pass form and by one that never does, give the same rows, the same
//! errors and the same columns, whatever the fields' order, repeats, unknown fields, wrong wire
//! types, bad UTF-8, truncation or garbage.

use proptest::prelude::*;

use super::tests::{columns_of, compile, frame, info, same, store_of};
use super::*;
use crate::column::{Column, ColumnType};
use crate::json_format::stage::{Stage, dictionary_entries, dictionary_is_its_rows};
use side::Out;

const FLAT: &str = r#"
syntax = "proto3";
package flat;
import "google/protobuf/timestamp.proto";
import "google/protobuf/wrappers.proto";

enum Kind { K0 = 0; K1 = 1; K2 = 2; }

message Flat {
  string s = 1; google.protobuf.Timestamp ts = 2; string t = 3; Kind k = 4; double d = 5;
  int64 i = 6; bool b = 7; optional int32 o = 8; sint32 z = 9; float f = 10; bytes by = 11;
  google.protobuf.DoubleValue w = 12; fixed32 fx = 13; optional string os = 14;
}
"#;

/// An older writer's version of the message: the reader's other columns are null in its rows
/// (the one-pass form's nulls), and its later fields are unknown to it (skipped).
const FLAT_OLD: &str = r#"
syntax = "proto3";
package flat;
import "google/protobuf/timestamp.proto";

enum Kind { K0 = 0; K1 = 1; K2 = 2; }

message Flat { string s = 1; google.protobuf.Timestamp ts = 2; string t = 3; Kind k = 4; double d = 5; }
"#;

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn tag(out: &mut Vec<u8>, number: u32, wire: u8) {
    varint(out, u64::from(number) << 3 | u64::from(wire));
}

fn len(out: &mut Vec<u8>, number: u32, bytes: &[u8]) {
    tag(out, number, 2);
    varint(out, bytes.len() as u64);
    out.extend(bytes);
}

/// A string's bytes: ASCII, longer than 16 bytes, not ASCII, or not UTF-8.
fn text() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => "[a-d]{0,3}".prop_map(String::into_bytes),
        1 => "[a-z/]{15,20}".prop_map(String::into_bytes),
        1 => "[a-zé€]{0,6}".prop_map(String::into_bytes),
        1 => proptest::collection::vec(any::<u8>(), 0..5),
    ]
}

/// A Timestamp's body: its fields in either order, repeated, unknown, or out of range.
fn timestamp() -> impl Strategy<Value = Vec<u8>> {
    (
        proptest::option::of(prop_oneof![0..4_000_000_000i64, any::<i64>()]),
        proptest::option::of(prop_oneof![0..1_000_000_000i32, any::<i32>()]),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(seconds, nanos, swap, extra)| {
            let mut s = Vec::new();
            if let Some(v) = seconds {
                tag(&mut s, 1, 0);
                varint(&mut s, v as u64);
            }
            let mut n = Vec::new();
            if let Some(v) = nanos {
                tag(&mut n, 2, 0);
                varint(&mut n, v as i64 as u64);
            }
            let mut out = if swap {
                [n, s].concat()
            } else {
                [s, n].concat()
            };
            if extra {
                tag(&mut out, 3, 0);
                varint(&mut out, 7);
            }
            out
        })
}

fn var(o: &mut Vec<u8>, n: u32, v: u64) {
    tag(o, n, 0);
    varint(o, v);
}

/// A small varint, -1 to 3 (an enum number, a bool).
fn small(o: &mut Vec<u8>, n: u32, v: u64) {
    tag(o, n, 0);
    varint(o, (v % 5).wrapping_sub(1));
}

fn fixed64(o: &mut Vec<u8>, n: u32, v: u64) {
    tag(o, n, 1);
    o.extend(v.to_le_bytes());
}

fn fixed32(o: &mut Vec<u8>, n: u32, v: u64) {
    tag(o, n, 5);
    o.extend((v as u32).to_le_bytes());
}

/// One field of the message, well formed or not, or an unknown field.
fn field() -> impl Strategy<Value = (u32, Vec<u8>)> {
    let at = |number: u32, f: fn(&mut Vec<u8>, u32, u64)| {
        any::<u64>().prop_map(move |v| {
            let mut out = Vec::new();
            f(&mut out, number, v);
            (number, out)
        })
    };
    prop_oneof![
        text().prop_map(|t| {
            let mut o = Vec::new();
            len(&mut o, 1, &t);
            (1, o)
        }),
        timestamp().prop_map(|t| {
            let mut o = Vec::new();
            len(&mut o, 2, &t);
            (2, o)
        }),
        text().prop_map(|t| {
            let mut o = Vec::new();
            len(&mut o, 3, &t);
            (3, o)
        }),
        at(4, small),
        at(5, fixed64),
        at(6, var),
        at(7, small),
        at(8, var),
        at(9, var),
        at(10, fixed32),
        text().prop_map(|t| {
            let mut o = Vec::new();
            len(&mut o, 11, &t);
            (11, o)
        }),
        any::<u64>().prop_map(|v| {
            let mut w = Vec::new();
            if v % 3 != 0 {
                fixed64(&mut w, 1, v);
            }
            let mut o = Vec::new();
            len(&mut o, 12, &w);
            (12, o)
        }),
        at(13, fixed32),
        text().prop_map(|t| {
            let mut o = Vec::new();
            len(&mut o, 14, &t);
            (14, o)
        }),
        // A field of another wire type than its schema's.
        (1..15u32).prop_map(|n| {
            let mut o = Vec::new();
            if n == 5 {
                fixed32(&mut o, n, 1)
            } else {
                fixed64(&mut o, n, 1)
            }
            (n, o)
        }),
        // Unknown fields of every wire type.
        (15..40u32, 0..4u8, any::<u64>()).prop_map(|(n, w, v)| {
            let mut o = Vec::new();
            match w {
                0 => var(&mut o, n, v),
                1 => fixed64(&mut o, n, v),
                2 => len(&mut o, n, &v.to_le_bytes()[..(v % 9) as usize]),
                _ => fixed32(&mut o, n, v),
            }
            (n, o)
        }),
    ]
}

/// A record's body: fields in field-number order (as writers write them) or not, cut short, or
/// followed by garbage.
fn body() -> impl Strategy<Value = Vec<u8>> {
    (
        proptest::collection::vec(field(), 0..16),
        0..4u8,
        any::<usize>(),
        proptest::collection::vec(any::<u8>(), 0..4),
    )
        .prop_map(|(mut fields, how, cut, garbage)| {
            if how < 2 {
                fields.sort_by_key(|(n, _)| *n);
                fields.dedup_by_key(|(n, _)| *n);
            }
            let mut body: Vec<u8> = fields.into_iter().flat_map(|(_, b)| b).collect();
            if how == 2 && !body.is_empty() {
                body.truncate(cut % body.len());
            }
            if how == 3 {
                body.extend(garbage);
            }
            body
        })
}

/// The rows a side stages and flushes from `bodies` (each written with the schema id of the
/// same index in `ids`, else 1), and each record's result.
fn decode(
    store: &crate::avro::SchemaStore,
    bodies: &[Vec<u8>],
    ids: &[u32],
    general: bool,
) -> (Vec<Column>, Vec<String>) {
    let reader = side::descriptors_of(store, 1).unwrap();
    let message = side::choose(&reader, &MessageChoice::First).unwrap();
    let mut side = ProtoSide::new(&reader, message).unwrap();
    if general {
        side.general_only();
    }
    let mut cols = columns_of(&side);
    let mut results = Vec::new();
    // Flushed every few records, so stages start empty and full.
    for (i, b) in bodies.iter().enumerate() {
        let id = ids.get(i).copied().unwrap_or(1);
        let r = side.stage(&frame(id, &[0], b), store, &mut cols);
        results.push(format!("{r:?}"));
        if i % 3 == 2 {
            side.flush(&mut cols).unwrap();
        }
    }
    side.flush(&mut cols).unwrap();
    (cols, results)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_one_pass_form_stages_what_the_general_path_does(
        bodies in proptest::collection::vec(body(), 1..12),
        ids in proptest::collection::vec(1..3u32, 12),
    ) {
        let (set, _) = compile(&[("flat.proto", FLAT)]);
        let (old, _) = compile(&[("flat.proto", FLAT_OLD)]);
        let store = store_of(vec![info(1, 2, &set), info(2, 1, &old)]);
        let (flat, flat_results) = decode(&store, &bodies, &ids, false);
        let (general, general_results) = decode(&store, &bodies, &ids, true);
        prop_assert_eq!(flat_results, general_results);
        prop_assert_eq!(flat.len(), general.len());
        for (c, (a, b)) in flat.iter().zip(&general).enumerate() {
            prop_assert!(dictionary_is_its_rows(a) && dictionary_is_its_rows(b), "column {}", c);
            prop_assert_eq!(a.len(), b.len());
            for row in 0..a.len() {
                let (x, y) = (a.get(row).unwrap(), b.get(row).unwrap());
                prop_assert!(same(&x, &y), "column {} row {}: {:?} != {:?}", c, row, x, y);
            }
        }
    }
}

/// The one-pass form is taken for a flat message (and not for one with nested messages or
/// repeated fields), and reads the fields of a record written in order.
#[test]
fn a_flat_message_has_a_one_pass_form() {
    let (set, _) = compile(&[("flat.proto", FLAT)]);
    let store = store_of(vec![info(1, 1, &set)]);
    let mut body = Vec::new();
    len(&mut body, 1, b"abc");
    let mut ts = Vec::new();
    tag(&mut ts, 1, 0);
    varint(&mut ts, 1_700_000_000);
    tag(&mut ts, 2, 0);
    varint(&mut ts, 5);
    len(&mut body, 2, &ts);
    tag(&mut body, 4, 0);
    varint(&mut body, 2);
    tag(&mut body, 5, 1);
    body.extend(1.5f64.to_le_bytes());
    let (cols, results) = decode(&store, &[body.clone()], &[], false);
    assert_eq!(results, ["Ok(1)"]);
    let row: Vec<_> = cols.iter().map(|c| c.get(0).unwrap()).collect();
    use crate::column::Value as V;
    assert_eq!(row[0], V::String("abc".into()));
    assert_eq!(row[1], V::Timestamp(1_700_000_000_000_000_005));
    assert_eq!(row[2], V::String(String::new()));
    assert_eq!(row[3], V::String("K2".into()));
    assert_eq!(row[4], V::F64(1.5));
    assert_eq!(row[7], V::Null); // optional int32, absent
    let reader = side::descriptors_of(&store, 1).unwrap();
    // The message the side reads (0 is an imported one's, the Timestamp's).
    let message = side::choose(&reader, &MessageChoice::First).unwrap();
    let leaves = columns::leaves(&reader, message).unwrap();
    let names: Vec<std::sync::Arc<str>> = leaves.iter().map(|l| l.name.as_str().into()).collect();
    let types: Vec<_> = leaves.iter().map(|l| l.ty).collect();
    let plan = plan::Plan::compile(&leaves, &names, &types, reader.enums.clone().into()).unwrap();
    // The one-pass form itself takes the record: a row in every stage.
    let Some(flat) = &plan.flat else {
        panic!("no one-pass form")
    };
    let mut stages: Vec<Out> = types
        .iter()
        .map(|t| match t {
            ColumnType::Binary => Out::Binary(Vec::new()),
            ColumnType::Array(_) => Out::Array(Vec::new()),
            t => Out::Scalar(Stage::new(*t)),
        })
        .collect();
    let mut cols: Vec<Column> = types.iter().map(|t| Column::new(*t)).collect();
    assert!(flat.read(&plan, &body, &mut stages, &mut cols, &mut String::new()));
    let rows = |s: &Out| match s {
        Out::Scalar(s) => s.len(),
        Out::Binary(v) => v.len(),
        Out::Array(v) => v.len(),
    };
    assert!(stages.iter().all(|s| rows(s) == 1));
}

/// A record that fails after its strings were staged (by the one-pass form, then the general
/// path) leaves the columns' dictionaries and the stages' caches of codes as they were.
#[test]
fn a_failed_record_adds_nothing_to_the_dictionaries() {
    let (set, _) = compile(&[("flat.proto", FLAT)]);
    let store = store_of(vec![info(1, 1, &set)]);
    let reader = side::descriptors_of(&store, 1).unwrap();
    let message = side::choose(&reader, &MessageChoice::First).unwrap();
    let mut side = ProtoSide::new(&reader, message).unwrap();
    let mut cols = columns_of(&side);
    let record = |s: &[u8], t: &[u8], tail: &[u8]| {
        let mut body = Vec::new();
        len(&mut body, 1, s);
        len(&mut body, 3, t);
        body.extend(tail);
        frame(1, &[0], &body)
    };
    assert!(
        side.stage(&record(b"a", b"b", &[]), &store, &mut cols)
            .is_ok()
    );
    side.flush(&mut cols).unwrap();
    let before: Vec<_> = cols.iter().map(dictionary_entries).collect();
    // A double (field 5, fixed 64 bits) cut short, after two new strings.
    let bad = record(b"new s", b"new t", &[5 << 3 | 1, 0, 0]);
    for _ in 0..5 {
        assert!(side.stage(&bad, &store, &mut cols).is_err());
    }
    // Failing on its other side, after it was staged.
    assert!(
        side.stage(&record(b"x", b"y", &[]), &store, &mut cols)
            .is_ok()
    );
    side.unstage_last(&mut cols);
    side.flush(&mut cols).unwrap();
    assert_eq!(
        cols.iter().map(dictionary_entries).collect::<Vec<_>>(),
        before
    );
    assert_eq!(cols[0].len(), 1);
    // The codes given out again are other strings' now, and the cache knows it.
    for (s, t) in [(&b"c"[..], &b"d"[..]), (b"new s", b"new t"), (b"x", b"y")] {
        assert!(side.stage(&record(s, t, &[]), &store, &mut cols).is_ok());
    }
    side.flush(&mut cols).unwrap();
    use crate::column::Value as V;
    let text = |c: &Column, row| c.get(row).unwrap();
    let strings = |b: &[u8]| V::String(String::from_utf8(b.to_vec()).unwrap());
    for (row, (s, t)) in [
        (&b"a"[..], &b"b"[..]),
        (b"c", b"d"),
        (b"new s", b"new t"),
        (b"x", b"y"),
    ]
    .into_iter()
    .enumerate()
    {
        assert_eq!(text(&cols[0], row), strings(s));
        assert_eq!(text(&cols[2], row), strings(t));
    }
    assert_eq!(dictionary_entries(&cols[0]), before[0].map(|n| n + 3));
}
