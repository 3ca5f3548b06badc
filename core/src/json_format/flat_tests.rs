//! The one-pass form ([`super::read`]) against the general path: the same documents, read by a
//! plan that takes the one-pass form and by one that never does, give the same rows, the same
//! errors and the same columns, whatever the members' order, whitespace, escapes, repeats,
//! unknown members, values of another kind, bad UTF-8, truncation or garbage.

use proptest::prelude::*;

use crate::DecodeReason;
use crate::column::{Column, Value as V};
use crate::json_format::stage::dictionary_is_its_rows;
use crate::json_format::{JsonColumns, JsonPlan};

const SPEC: &str = "Id=string,Timestamp=Instant,Exchange=string,Type=string,Price=double,Size=double,N=long,I=int,Ok=boolean,C=char,E=instant_seconds";

/// A string member's value, raw between its quotes: plain, repeated, long, not ASCII, escaped,
/// or not UTF-8.
fn string() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => prop::sample::select(vec!["kraken", "BTC/USD", "ASK", "", "a"]).prop_map(|s| s.as_bytes().to_vec()),
        2 => "[a-z0-9/]{0,20}".prop_map(String::into_bytes),
        1 => "[a-zé€]{0,6}".prop_map(String::into_bytes),
        1 => prop::sample::select(vec!["a\\\"b", "\\u00e9", "x\\ny", "\\ud800", "\\q"]).prop_map(|s| s.as_bytes().to_vec()),
        1 => proptest::collection::vec(any::<u8>(), 0..5),
    ]
}

/// A number's literal: integers, fractions, exponents, long ones, and some that are not JSON.
fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "-?(0|[1-9][0-9]{0,6})(\\.[0-9]{1,6})?",
        2 => "-?(0|[1-9][0-9]{0,22})(\\.[0-9]{1,22})?([eE][+-]?[0-9]{1,3})?",
        1 => prop::sample::select(vec!["-", "01", "1.", "1e", "-0", "9223372036854775807", "-9223372036854775808", "2147483648", "-2147483648", "1e400"]).prop_map(str::to_string),
    ]
}

/// An instant's text: the fast shape, other shapes, and ones out of range.
fn instant() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "2026-0[1-2]-0[5-6]T1[0-9]:[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,9})?(Z|[+-]0[0-9]:[0-5][0-9])",
        1 => prop::sample::select(vec!["2026-01-05T12:00 UTC", "2026-02-30T00:00:00Z", "2026-01-05T24:00:00Z", "9999-12-31T00:00:00Z", "2026-01-05T17:00:00.1234567891Z", "yesterday"]).prop_map(str::to_string),
    ]
}

/// Any member's value, as JSON text (or not quite).
fn value() -> impl Strategy<Value = Vec<u8>> {
    let quoted = |b: Vec<u8>| [&b"\""[..], &b, b"\""].concat();
    prop_oneof![
        3 => string().prop_map(quoted),
        2 => number().prop_map(String::into_bytes),
        2 => instant().prop_map(move |s| quoted(s.into_bytes())),
        2 => prop::sample::select(vec!["true", "false", "null", "nul", "[1,\"a\"]", "{\"a\":{}}", "{", "\"é\"", "\"ab"]).prop_map(|s| s.as_bytes().to_vec()),
    ]
}

/// Whitespace between tokens, mostly none.
fn space() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["", "", "", "", " ", "\n", " \t\r\n "])
}

/// A document: some of the columns' members (names maybe escaped), unknown and repeated members,
/// in any order, with whitespace; then maybe cut short or given garbage.
fn document() -> impl Strategy<Value = Vec<u8>> {
    let names = [
        "Id",
        "Timestamp",
        "Exchange",
        "Type",
        "Price",
        "Size",
        "N",
        "I",
        "Ok",
        "C",
        "E",
    ];
    let member = (
        prop_oneof![
            20 => prop::sample::select(names.to_vec()).prop_map(str::to_string),
            1 => Just(r"Pr\u0069ce".to_string()),
            2 => "[a-z]{1,3}",
        ],
        value(),
    );
    (
        proptest::collection::vec(member, 0..14),
        proptest::collection::vec(space(), 64),
        0..4u8,
        any::<usize>(),
        proptest::collection::vec(any::<u8>(), 1..4),
    )
        .prop_map(|(members, spaces, how, cut, garbage)| {
            let mut ws = spaces.into_iter().cycle();
            let mut doc = Vec::new();
            doc.extend(ws.next().unwrap_or_default().as_bytes());
            doc.push(b'{');
            for (i, (name, value)) in members.iter().enumerate() {
                if i > 0 {
                    doc.extend(ws.next().unwrap_or_default().as_bytes());
                    doc.push(b',');
                }
                doc.extend(ws.next().unwrap_or_default().as_bytes());
                doc.extend(format!("\"{name}\"").as_bytes());
                doc.extend(ws.next().unwrap_or_default().as_bytes());
                doc.push(b':');
                doc.extend(ws.next().unwrap_or_default().as_bytes());
                doc.extend(value);
            }
            doc.extend(ws.next().unwrap_or_default().as_bytes());
            doc.push(b'}');
            doc.extend(ws.next().unwrap_or_default().as_bytes());
            match how {
                1 if !doc.is_empty() => doc.truncate(cut % doc.len()),
                2 => doc.extend(garbage),
                _ => {}
            }
            doc
        })
}

/// The trades' members in the plan's order, each value of its column's kind, with members no
/// column reads among them (mostly strings, numbers and literals, which the one-pass form skips):
/// the documents the one-pass form takes.
fn trade() -> impl Strategy<Value = Vec<u8>> {
    let extra = (
        any::<prop::sample::Index>(),
        prop::sample::select(vec!["Venue", "x", "Idx", "Pric", "é", "N2"]),
        value(),
    );
    (
        (string(), instant(), string()),
        (number(), number(), "-?[1-9][0-9]{0,9}", any::<bool>()),
        proptest::collection::vec(extra, 0..3),
    )
        .prop_map(|((id, ts, exchange), (price, size, n, ok), extras)| {
            let quoted = |b: &[u8]| [&b"\""[..], b, b"\""].concat();
            let mut members = vec![
                [&b"\"Id\":"[..], &quoted(&id)].concat(),
                format!(r#""Timestamp":"{ts}""#).into_bytes(),
                [&b"\"Exchange\":"[..], &quoted(&exchange)].concat(),
                format!(r#""Price":{price}"#).into_bytes(),
                format!(r#""Size":{size}"#).into_bytes(),
                format!(r#""N":{n}"#).into_bytes(),
                format!(r#""Ok":{ok}"#).into_bytes(),
            ];
            for (at, name, value) in extras {
                let member = [format!("\"{name}\":").as_bytes(), &value].concat();
                members.insert(at.index(members.len() + 1), member);
            }
            [&b"{"[..], &members.join(&b","[..]), b"}"].concat()
        })
}

/// The rows a plan stages and flushes from `docs`, and each document's result.
fn decode(docs: &[Vec<u8>], general: bool) -> (Vec<Column>, Vec<Result<(), DecodeReason>>) {
    let columns = JsonColumns::from_spec_text(SPEC).unwrap();
    let mut plan = JsonPlan::new(&columns);
    if general {
        plan.general_only();
    }
    let mut cols: Vec<Column> = columns.fields().map(|f| Column::new(f.ty)).collect();
    let mut results = Vec::new();
    // Flushed every few documents, so stages start empty and full.
    for (i, doc) in docs.iter().enumerate() {
        results.push(plan.stage(doc, &mut cols));
        if i % 3 == 2 {
            plan.flush(&mut cols).unwrap();
        }
    }
    plan.flush(&mut cols).unwrap();
    (cols, results)
}

fn same(a: &V, b: &V) -> bool {
    match (a, b) {
        (V::F64(x), V::F64(y)) => x.to_bits() == y.to_bits(),
        _ => a == b,
    }
}

fn check(docs: &[Vec<u8>]) -> Result<(), TestCaseError> {
    let (flat, flat_results) = decode(docs, false);
    let (general, general_results) = decode(docs, true);
    prop_assert_eq!(flat_results, general_results);
    for (c, (a, b)) in flat.iter().zip(&general).enumerate() {
        prop_assert!(
            dictionary_is_its_rows(a) && dictionary_is_its_rows(b),
            "column {}",
            c
        );
        prop_assert_eq!(a.len(), b.len());
        for row in 0..a.len() {
            let (x, y) = (a.get(row).unwrap(), b.get(row).unwrap());
            prop_assert!(same(&x, &y), "column {} row {}: {:?} != {:?}", c, row, x, y);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_one_pass_form_stages_what_the_general_path_does(
        docs in proptest::collection::vec(prop_oneof![document(), trade()], 1..12),
    ) {
        check(&docs)?;
    }
}

/// A producer's trades take the one-pass form, in order or not; others fall back.
#[test]
fn trades_take_the_one_pass_form() {
    let columns = JsonColumns::from_spec_text(SPEC).unwrap();
    let mut plan = JsonPlan::new(&columns);
    let mut cols: Vec<Column> = columns.fields().map(|f| Column::new(f.ty)).collect();
    let mut stages: Vec<_> = columns.fields().map(|f| super::Stage::new(f.ty)).collect();
    let mut last = None;
    let top = &plan.levels[0].members;
    for (doc, flat) in [
        (
            &br#"{"Id":"7","Timestamp":"2026-01-05T17:00:00.25Z","Price":1.5,"Ok":true}"#[..],
            true,
        ),
        (
            br#" { "Ok" : false , "Id" : "8" , "Price" : -2e-3 } "#,
            true,
        ),
        (br#"{"Id":"\u0037"}"#, false),
        (br#"{"Pr\u0069ce":1}"#, false),
        (br#"{"Other":1}"#, true),
        (
            br#"{"Id":"7","Venue":"x","Price":1,"q":null,"r":-1e3,"Ok":true}"#,
            true,
        ),
        (br#"{"Other":{"a":1}}"#, false),
        (br#"{"Other":[1]}"#, false),
        (br#"{"Other":"\u0041"}"#, false),
        (br#"{"Oth\u0065r":1}"#, false),
        (b"{\"Other\":\"\xff\"}", false),
        (br#"{"Id":"7","Id":"8"}"#, false),
        (br#"null"#, false),
    ] {
        let ok = super::read(top, doc, &mut stages, &mut cols, &mut last);
        assert_eq!(ok, flat, "{}", String::from_utf8_lossy(doc));
        let rows = stages.iter().map(super::Stage::len).min().unwrap_or(0);
        stages.iter_mut().for_each(|s| s.truncate(rows));
    }
    let row = plan.decode(br#"{"Ok":false,"Id":"8","Price":-2e-3}"#, &mut cols);
    assert_eq!(row, Ok(()));
    assert_eq!(cols[0].get(0), Some(V::String("8".into())));
    assert_eq!(cols[4].get(0), Some(V::F64(-0.002)));
    assert_eq!(cols[8].get(0), Some(V::Bool(false)));
    assert_eq!(cols[1].get(0), Some(V::Null));
}
