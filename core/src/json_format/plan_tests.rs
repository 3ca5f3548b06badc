//! [`JsonPlan`] against a reference built from scratch on serde_json's `Value`, and on hostile
//! input.

use super::*;
use crate::column::Value as V;
use crate::json_format::spec::EpochUnit;
use crate::json_format::stage::dictionary_entries;
use proptest::prelude::*;
use serde_json::Value as J;

fn columns(spec: &str) -> (JsonPlan, Vec<Column>, JsonColumns) {
    let c = JsonColumns::from_spec_text(spec).unwrap();
    let cols = c.fields().map(|f| Column::new(f.ty)).collect();
    (JsonPlan::new(&c), cols, c)
}

/// Decodes `doc`, truncating on error as the record decoder does; the row, or the error.
fn decode(plan: &mut JsonPlan, cols: &mut [Column], doc: &[u8]) -> Result<Vec<V>, DecodeReason> {
    let rows = cols.first().map_or(0, Column::len);
    match plan.decode(doc, cols) {
        Ok(()) => {
            assert!(
                cols.iter().all(|c| c.len() == rows + 1),
                "one value a column"
            );
            Ok(cols.iter().map(|c| c.get(rows).unwrap()).collect())
        }
        Err(e) => {
            cols.iter_mut().for_each(|c| c.truncate(rows));
            Err(e)
        }
    }
}

#[test]
fn a_trade_in_any_member_order_with_extra_members_and_nulls() {
    let (mut plan, mut cols, _) = columns(
        "Id=string,Timestamp=Instant,Exchange=string,Instrument=string,Type=string,Price=double,Size=double,Venue__Geo__Lat=double,Ok=boolean,N=int,C=char",
    );
    let row = decode(
        &mut plan,
        &mut cols,
        br#" {"Id":"7","Timestamp":"2026-01-05T17:00:00.25Z","Exchange":"kraken","Instrument":"BTC/USD","Type":"ASK","Price":43210.55,"Size":0.002,"Extra":[1,{"a":null}],"Venue":{"Geo":{"Lat":-1.5e2}},"Ok":true,"N":-3,"C":"\u00e9"} "#,
    )
    .unwrap();
    let ts = crate::json_format::instant::from_text("2026-01-05T17:00:00.25Z").unwrap();
    assert_eq!(
        row,
        [
            V::String("7".into()),
            V::Timestamp(ts),
            V::String("kraken".into()),
            V::String("BTC/USD".into()),
            V::String("ASK".into()),
            V::F64(43210.55),
            V::F64(0.002),
            V::F64(-150.0),
            V::Bool(true),
            V::I32(-3),
            V::String("é".into()),
        ]
    );
    // Another order, members missing, nulls, an escaped name, a null object: nulls.
    let row = decode(
        &mut plan,
        &mut cols,
        br#"{"Size":1,"Pri\u0063e":2,"Venue":null,"Id":null,"Timestamp":1767632400000}"#,
    )
    .unwrap();
    assert_eq!(row[0], V::Null);
    assert_eq!(row[1], V::Timestamp(1_767_632_400_000 * 1_000_000));
    assert_eq!(row[2], V::Null);
    assert_eq!(
        (&row[5], &row[6], &row[7]),
        (&V::F64(2.0), &V::F64(1.0), &V::Null)
    );
    // A Kafka-null-like document.
    assert!(
        decode(&mut plan, &mut cols, b"null")
            .unwrap()
            .iter()
            .all(V::is_null)
    );
}

#[test]
fn arrays_objects_numbers_and_booleans_in_string_columns_are_their_json_text() {
    let (mut plan, mut cols, _) = columns("a=string,b=string,c=string,d=string");
    let row = decode(
        &mut plan,
        &mut cols,
        br#"{"a":[ 1, "x y" , {"k" : [ ] , "e":{}} ],"b":{ "z":true },"c":-1.50e3,"d":false}"#,
    )
    .unwrap();
    assert_eq!(
        row,
        [
            V::String(r#"[1,"x y",{"k":[],"e":{}}]"#.into()),
            V::String(r#"{"z":true}"#.into()),
            V::String("-1.50e3".into()),
            V::String("false".into()),
        ]
    );
}

#[test]
fn epoch_units_and_fractions() {
    for (unit, spec) in [
        (EpochUnit::Seconds, "t=instant_seconds"),
        (EpochUnit::Millis, "t=Instant"),
        (EpochUnit::Micros, "t=instant_micros"),
        (EpochUnit::Nanos, "t=instant_nanos"),
    ] {
        let (mut plan, mut cols, _) = columns(spec);
        let row = decode(&mut plan, &mut cols, br#"{"t":1700000000}"#).unwrap();
        assert_eq!(row[0], V::Timestamp(1_700_000_000 * unit.nanos()));
        let row = decode(&mut plan, &mut cols, br#"{"t":1.5}"#).unwrap();
        assert_eq!(row[0], V::Timestamp((unit.nanos() * 3 + 1) / 2), "{spec}");
    }
    let (mut plan, mut cols, _) = columns("t=instant_seconds");
    assert!(decode(&mut plan, &mut cols, br#"{"t":1e12}"#).is_err());
    assert!(decode(&mut plan, &mut cols, br#"{"t":"soon"}"#).is_err());
}

/// The reference's integral value of a number: its text as serde_json writes it, read exactly
/// (mantissa digits and a power of ten in 128 bits), if it is an integer within `i64`.
fn integral(n: &serde_json::Number) -> Option<i64> {
    let text = n.to_string();
    let (mantissa, exp) = match text.split_once(['e', 'E']) {
        Some((m, e)) => (m.to_owned(), e.parse::<i32>().ok()?),
        None => (text.clone(), 0),
    };
    let (negative, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => (true, m.to_owned()),
        None => (false, mantissa),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((&mantissa, ""));
    let digits = format!("{whole}{fraction}");
    let digits = digits.trim_start_matches('0');
    let mut exp = exp - fraction.len() as i32;
    let mut value: i128 = if digits.is_empty() {
        0
    } else {
        digits.parse().ok()?
    };
    while exp < 0 {
        if value % 10 != 0 {
            return None;
        }
        value /= 10;
        exp += 1;
    }
    for _ in 0..exp {
        value = value.checked_mul(10).filter(|v| *v <= 1 << 64)?;
    }
    i64::try_from(if negative { -value } else { value }).ok()
}

#[test]
fn integral_numbers_of_any_literal_fill_long_and_int_columns() {
    let (mut plan, mut cols, _) = columns("l=long,i=int");
    for (doc, l, i) in [
        (r#"{"l":1.0,"i":1e3}"#, 1, 1000),
        (r#"{"l":2.50e2,"i":-0.0}"#, 250, 0),
        (
            r#"{"l":-9.223372036854775807e18,"i":-2.147483647E9}"#,
            -9_223_372_036_854_775_807,
            -2_147_483_647,
        ),
        (r#"{"l":12300e-2,"i":0.0e-40}"#, 123, 0),
    ] {
        assert_eq!(
            decode(&mut plan, &mut cols, doc.as_bytes()),
            Ok(vec![V::I64(l), V::I32(i)]),
            "{doc}"
        );
    }
}

#[test]
fn values_that_do_not_fit_fail_the_record_with_the_field() {
    let (mut plan, mut cols, _) =
        columns("i=int,s=short,b=byte,l=long,d=double,o=boolean,c=char,n__x=int");
    for (doc, why) in [
        (
            r#"{"i":2147483648}"#,
            r#"JSON field "i" holds an integer out of range"#,
        ),
        (r#"{"i":-2147483648}"#, "out of range"),
        (r#"{"s":40000}"#, "short column"),
        (r#"{"b":128}"#, "byte column"),
        (r#"{"l":9223372036854775808}"#, "out of range"),
        (r#"{"l":-9223372036854775808}"#, "out of range"),
        (r#"{"l":1.5}"#, "not an integer in range"),
        (r#"{"l":1e19}"#, "not an integer in range"),
        (r#"{"i":3e9}"#, "not an integer in range"),
        (r#"{"b":1.28e2}"#, "byte column"),
        (r#"{"i":"1"}"#, "holds a string"),
        (r#"{"d":1e400}"#, "a number out of range"),
        (r#"{"d":true}"#, "holds a boolean"),
        (r#"{"o":1}"#, "holds a number"),
        (r#"{"c":"ab"}"#, "other than one character"),
        (r#"{"c":""}"#, "other than one character"),
        (
            r#"{"n":5}"#,
            r#""n" holds a number, which does not fit its object"#,
        ),
        (r#"{"i":[1]}"#, "holds an array"),
        (r#"{"i":1,"i":2}"#, r#"JSON field "i" appears twice"#),
        ("[1]", "(the document)"),
        ("", "the document ends too early"),
        (r#"{"i":1"#, "the document ends too early"),
        (r#"{"i":1} x"#, "text after the document"),
        (r#"{"i":01}"#, "leading zero"),
        (r#"{"z":"\x"}"#, "unknown escape"),
        (r#"{"z":"\ud800"}"#, "lone surrogate"),
        (r#"{"z":[1,]}"#, "expected a JSON value"),
        (r#"{"z":{"a":1,}}"#, "member name"),
        (r#"{"z":NaN}"#, "expected a JSON value"),
        ("{\"z\":\"\u{1}\"}", "control character"),
    ] {
        let e = decode(&mut plan, &mut cols, doc.as_bytes()).unwrap_err();
        assert!(e.to_string().contains(why), "{doc}: {e}");
    }
    assert!(cols.iter().all(|c| c.is_empty()), "nothing partial is kept");
    let e = decode(&mut plan, &mut cols, b"{\"z\":\"\xff\"}").unwrap_err();
    assert_eq!(
        e,
        DecodeReason::BadJson {
            at: 6,
            what: "the document is not valid UTF-8"
        }
    );
}

#[test]
fn hostile_documents_fail_without_exhausting_the_stack() {
    let (mut plan, mut cols, _) = columns("a=string,b=double");
    for doc in [
        format!(r#"{{"a":{}"#, "[".repeat(100_000)),
        format!(r#"{{"x":{}"#, "{\"k\":".repeat(100_000)),
        format!(r#"{{"a":{}{}}}"#, "[".repeat(128), "]".repeat(128)),
    ] {
        let e = decode(&mut plan, &mut cols, doc.as_bytes()).unwrap_err();
        assert!(e.to_string().contains("nested deeper than 128"), "{e}");
    }
    // 128 levels with the top object.
    let ok = format!(r#"{{"a":{}{}}}"#, "[".repeat(127), "]".repeat(127));
    assert!(decode(&mut plan, &mut cols, ok.as_bytes()).is_ok());
    // Numbers of any length: exact when they fit, refused beyond f64.
    let long = format!(r#"{{"b":{}.{}}}"#, "1".repeat(400), "9".repeat(400));
    assert!(decode(&mut plan, &mut cols, long.as_bytes()).is_err());
    let long = format!(r#"{{"b":0.{}1e300}}"#, "0".repeat(5000));
    let row = decode(&mut plan, &mut cols, long.as_bytes()).unwrap();
    assert_eq!(
        row[1],
        V::F64(1e-4701 * 1e300_f64.min(1.0) + 1e-4701_f64.max(0.0))
    );
    let row = decode(
        &mut plan,
        &mut cols,
        br#"{"b":123456789012345678901234567890}"#,
    )
    .unwrap();
    assert_eq!(row[1], V::F64(1.2345678901234568e29));
    // Every prefix of a good document fails, and no byte string panics.
    let good = br#"{"a":"x\n\u00e9","b":-1.5e-3,"c":[true,false,null,{}]}"#;
    assert!(decode(&mut plan, &mut cols, good).is_ok());
    for n in 0..good.len() {
        assert!(decode(&mut plan, &mut cols, &good[..n]).is_err(), "{n}");
    }
}

/// The reference: what a column of `ty` at `path` holds for a document serde_json parsed, or
/// `None` if the record must fail.
fn expected(doc: &J, path: &[String], ty: JsonType) -> Option<V> {
    let mut v = doc;
    for (i, name) in path.iter().enumerate() {
        match v {
            J::Null => return Some(V::Null),
            J::Object(m) => match m.get(name) {
                Some(inner) => v = inner,
                None => return Some(V::Null),
            },
            _ if i == 0 => return None,
            _ => return None,
        }
    }
    Some(match (ty, v) {
        (_, J::Null) => V::Null,
        (JsonType::String, J::String(s)) => V::String(s.clone()),
        (JsonType::String, other) => V::String(other.to_string()),
        (JsonType::Char, J::String(s)) if s.chars().count() == 1 => V::String(s.clone()),
        (JsonType::Bool, J::Bool(b)) => V::Bool(*b),
        (JsonType::Long, J::Number(n)) => V::I64(integral(n).filter(|&i| i != i64::MIN)?),
        (JsonType::Int { min, max }, J::Number(n)) => {
            let i = integral(n)?;
            if i < i64::from(min) || i > i64::from(max) || i == i64::from(i32::MIN) {
                return None;
            }
            V::I32(i as i32)
        }
        (JsonType::Double, J::Number(n)) => V::F64(n.as_f64()?),
        _ => return None,
    })
}

fn leaf() -> impl Strategy<Value = J> {
    prop_oneof![
        Just(J::Null),
        any::<bool>().prop_map(J::Bool),
        any::<i64>().prop_map(J::from),
        (-100_000i32..100_000).prop_map(J::from),
        any::<i8>().prop_map(J::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(J::from),
        (-1e6f64..1e6).prop_map(J::from),
        any::<u64>().prop_map(J::from),
        any::<String>().prop_map(J::String),
        "[a-zé]".prop_map(J::String),
    ]
}

const NAMES: [&str; 5] = ["a", "b", "é", "k\"q", "c"];

fn object() -> impl Strategy<Value = J> {
    let value = leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(J::Array),
            prop::collection::btree_map(prop::sample::select(&NAMES[..]), inner, 0..4)
                .prop_map(|m| J::Object(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())),
        ]
    });
    prop::collection::btree_map(prop::sample::select(&NAMES[..]), value, 0..5)
        .prop_map(|m| J::Object(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()))
}

fn json_type() -> impl Strategy<Value = JsonType> {
    prop_oneof![
        Just(JsonType::Bool),
        Just(JsonType::INT),
        Just(JsonType::Int {
            min: -128,
            max: 127
        }),
        Just(JsonType::Long),
        Just(JsonType::Double),
        Just(JsonType::String),
        Just(JsonType::Char),
    ]
}

/// Columns: each top name absent, a leaf, or an object of leaves `a`, `b`.
fn spec() -> impl Strategy<Value = Vec<(Vec<String>, JsonType)>> {
    let one = prop_oneof![
        Just(None),
        json_type().prop_map(|t| Some(vec![(vec![], t)])),
        (json_type(), json_type())
            .prop_map(|(x, y)| Some(vec![(vec!["a".to_owned()], x), (vec!["b".to_owned()], y)])),
    ];
    prop::collection::vec(one, NAMES.len()).prop_map(|picks| {
        let mut out = Vec::new();
        for (name, pick) in NAMES.iter().zip(picks) {
            for (mut sub, ty) in pick.into_iter().flatten() {
                sub.insert(0, (*name).to_owned());
                out.push((sub, ty));
            }
        }
        out
    })
}

/// A value as serde_json would read the text we wrote into a string column.
fn same(ours: &V, theirs: &V) -> bool {
    match (ours, theirs) {
        (V::String(a), V::String(b)) if a != b => {
            // JSON text: equal as values (serde_json orders an object's keys).
            matches!((serde_json::from_str::<J>(a), serde_json::from_str::<J>(b)), (Ok(x), Ok(y)) if x == y)
        }
        (a, b) => a == b,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    /// Whatever the document and the columns, the plan gives what the reference gives from
    /// serde_json's tree: the same values, or a failed record (with nothing kept).
    #[test]
    fn agrees_with_a_reference_on_serde_json(
        docs in prop::collection::vec((object(), any::<bool>()), 1..6),
        spec in spec(),
    ) {
        let c = JsonColumns::new(spec).unwrap();
        let mut cols: Vec<Column> = c.fields().map(|f| Column::new(f.ty)).collect();
        let mut plan = JsonPlan::new(&c);
        for (doc, pretty) in &docs {
            let text = if *pretty { serde_json::to_string_pretty(doc) } else { serde_json::to_string(doc) }.unwrap();
            let want: Option<Vec<V>> = c.columns().iter().map(|col| expected(doc, &col.path, col.ty)).collect();
            let got = decode(&mut plan, &mut cols, text.as_bytes());
            match (got, want) {
                (Ok(got), Some(want)) => {
                    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                        prop_assert!(same(g, w), "{}: column {}: ours {:?}, reference {:?}", text, c.columns()[i].name, g, w);
                    }
                }
                (Err(_), None) => {}
                (got, want) => prop_assert!(false, "{}: ours {:?}, reference {:?}", text, got, want),
            }
        }
    }

    /// Any bytes: never a panic; the plan accepts what serde_json accepts as an object.
    #[test]
    fn never_panics_and_accepts_what_serde_json_accepts(text in "[\\[\\]{}\",:0-9eE.+\\- a-z\\\\]{0,24}") {
        let (mut plan, mut cols, _) = columns("a=string");
        let ours = decode(&mut plan, &mut cols, text.as_bytes());
        let theirs = serde_json::from_str::<J>(&text);
        match (&ours, &theirs) {
            (Ok(_), Ok(J::Object(_) | J::Null)) | (Err(_), Err(_)) | (Err(_), Ok(_)) => {}
            _ => prop_assert!(false, "{:?}: ours {:?}, serde_json {:?}", text, ours, theirs),
        }
        if let (Err(e), Ok(J::Object(_))) = (&ours, &theirs) {
            prop_assert!(false, "{:?}: ours {:?}", text, e);
        }
    }
}

/// A document that fails after its strings were staged (by the one-pass form, then the general
/// path) leaves the columns' dictionaries and the stages' caches of codes as they were.
#[test]
fn a_failed_document_adds_nothing_to_the_dictionaries() {
    let (mut plan, mut cols, _) = columns("Id=string,Exchange=string,Price=double");
    assert_eq!(
        plan.stage(br#"{"Id":"a","Exchange":"b"}"#, &mut cols),
        Ok(())
    );
    plan.flush(&mut cols).unwrap();
    let before: Vec<_> = cols.iter().map(dictionary_entries).collect();
    for n in 0..5 {
        let doc = format!(r#"{{"Id":"new {n}","Exchange":"new x","Price":"high"}}"#);
        assert!(plan.stage(doc.as_bytes(), &mut cols).is_err());
    }
    // Failing on its other side, after it was staged.
    assert_eq!(
        plan.stage(br#"{"Id":"x","Exchange":"y"}"#, &mut cols),
        Ok(())
    );
    plan.unstage_last(&mut cols);
    plan.flush(&mut cols).unwrap();
    assert_eq!(
        cols.iter().map(dictionary_entries).collect::<Vec<_>>(),
        before
    );
    assert_eq!(cols[0].len(), 1);
    // The codes given out again are other strings' now, and the caches know it.
    for doc in [
        &br#"{"Id":"c","Exchange":"d"}"#[..],
        br#"{"Id":"new 0","Exchange":"new x"}"#,
        br#"{"Id":"x","Exchange":"y"}"#,
    ] {
        assert_eq!(plan.stage(doc, &mut cols), Ok(()));
    }
    plan.flush(&mut cols).unwrap();
    let strings = |c: &Column| (0..c.len()).map(|r| c.get(r).unwrap()).collect::<Vec<_>>();
    let text = |v: &[&str]| {
        v.iter()
            .map(|s| V::String(s.to_string()))
            .collect::<Vec<_>>()
    };
    assert_eq!(strings(&cols[0]), text(&["a", "c", "new 0", "x"]));
    assert_eq!(strings(&cols[1]), text(&["b", "d", "new x", "y"]));
    assert_eq!(dictionary_entries(&cols[0]), before[0].map(|n| n + 3));
}
