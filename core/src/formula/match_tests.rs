//! Match filters, `inRange` and `now()` in formulas: values of every type, nulls, NaN, `icase`,
//! mixing with ordinary formulas, and the exact error (with its position) for each new syntax.

use super::super::{Variables, compile, compile_filter};
use crate::column::Value::*;
use crate::column::{ColumnType, NULL_I64};
use crate::table::{Batch, Schema, TableData};

fn data() -> TableData {
    let schema = Schema::of(&[
        ("Exchange", ColumnType::String),
        ("Size", ColumnType::F64),
        ("Qty", ColumnType::I32),
        ("Offset", ColumnType::I64),
        ("Flag", ColumnType::Bool),
        ("Ts", ColumnType::Timestamp),
    ])
    .unwrap();
    let rows = vec![
        vec![
            String("binance".into()),
            F64(1.5),
            I32(7),
            I64(100),
            Bool(true),
            Timestamp(1_000),
        ],
        vec![
            String("Kraken".into()),
            F64(-0.0),
            I32(-2),
            I64(101),
            Bool(false),
            Timestamp(2_000),
        ],
        vec![Null, Null, Null, Null, Null, Null],
        vec![
            String("ÉCLAIR".into()),
            F64(f64::NAN),
            I32(3),
            I64(5_000_000_000),
            Bool(true),
            Timestamp(3_000),
        ],
    ];
    let batch = Batch::from_rows(&schema, &rows).unwrap();
    let mut data = TableData::new(schema);
    for (c, b) in data.columns.iter_mut().zip(batch.columns()) {
        c.extend_from(b);
    }
    data
}

fn vars() -> Variables {
    Variables::from_iter([
        ("nan".to_owned(), F64(f64::NAN)),
        ("t2".to_owned(), Timestamp(2_000)),
        ("ex".to_owned(), String("kraken".into())),
    ])
}

/// Which rows the filter keeps (a null result counts as not kept, as `where` does).
fn rows(filter: &str) -> Vec<usize> {
    let data = data();
    let f =
        compile_filter(filter, &data.schema, &vars()).unwrap_or_else(|e| panic!("{filter}: {e}"));
    assert_eq!(f.ty, ColumnType::Bool, "{filter}");
    let v = f.eval(&data, 0, data.len());
    (0..v.len()).filter(|&i| v.get(i) == Bool(true)).collect()
}

fn error(filter: &str) -> std::string::String {
    let data = data();
    match compile_filter(filter, &data.schema, &vars()) {
        Ok(_) => panic!("{filter} should not compile"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn in_matches_values_of_every_type() {
    assert_eq!(rows("Exchange in `binance`, `kraken`"), [0]);
    assert_eq!(rows("Exchange in \"binance\", `Kraken`"), [0, 1]);
    assert_eq!(rows("Exchange not in `binance`, `Kraken`"), [2, 3]);
    assert_eq!(rows("Exchange in `binance`, null"), [0, 2]);
    assert_eq!(rows("Exchange not in null"), [0, 1, 3]);
    assert_eq!(rows("Qty in 7, 3"), [0, 3]);
    assert_eq!(rows("Qty in -2"), [1]);
    assert_eq!(rows("Qty in 7L, 99"), [0]);
    assert_eq!(rows("Qty in 3.0, 7.5"), [3]);
    assert_eq!(rows("Offset in 101, 5000000000L"), [1, 3]);
    assert_eq!(rows("Size in 1.5, 0"), [0, 1]);
    assert_eq!(rows("Size in -0.0"), [1]);
    assert_eq!(rows("Size in nan"), [3]);
    assert_eq!(rows("Size not in nan, null"), [0, 1]);
    assert_eq!(rows("Flag in true"), [0, 3]);
    assert_eq!(rows("Flag in false, null"), [1, 2]);
    assert_eq!(rows("Ts in t2, null"), [1, 2]);
    assert_eq!(rows("Exchange in ex"), Vec::<usize>::new());
    // Constant expressions fold.
    assert_eq!(rows("Qty in 2 + 5, -(1 + 1)"), [0, 1]);
    assert_eq!(rows("Exchange in `bin` + `ance`"), [0]);
    assert_eq!(rows("Qty + 1 in 8"), [0]);
}

#[test]
fn icase_compares_case_folds() {
    assert_eq!(rows("Exchange icase in `KRAKEN`, `Binance`"), [0, 1]);
    assert_eq!(rows("Exchange icase in `éclair`"), [3]);
    assert_eq!(rows("Exchange icase not in `kraken`"), [0, 2, 3]);
    assert_eq!(rows("Exchange icase in null"), [2]);
    // Unicode's case folds, not Java's per-character comparison.
    assert_eq!(rows("Exchange icase in `Straße`, `éclaiR`"), [3]);
    assert_eq!(rows("`STRASSE` icase in `straße`"), [0, 1, 2, 3]);
}

#[test]
fn equality_with_a_constant_is_a_match() {
    assert_eq!(rows("Exchange = `binance`"), [0]);
    assert_eq!(rows("Exchange == `binance`"), [0]);
    assert_eq!(rows("`binance` = Exchange"), [0]);
    assert_eq!(rows("Exchange != `binance`"), [1, 2, 3]);
    assert_eq!(rows("Exchange = null"), [2]);
    assert_eq!(rows("Qty = 7"), [0]);
    assert_eq!(rows("Size = 7"), Vec::<usize>::new());
    assert_eq!(rows("Size == 0"), [1]);
    // `=` follows IEEE: NaN equals nothing; `in` matches NaN.
    assert_eq!(rows("Size = nan"), Vec::<usize>::new());
    assert_eq!(rows("Size != nan"), [0, 1, 2, 3]);
    assert_eq!(rows("Flag = true"), [0, 3]);
    assert_eq!(rows("Flag != true"), [1, 2]);
    assert_eq!(rows("Qty = Qty"), [0, 1, 2, 3]);
    // A column compared with a column stays a comparison (two nulls are equal).
    assert_eq!(rows("Offset = Qty + 93"), [0, 2]);
}

#[test]
fn matches_mix_with_formulas() {
    assert_eq!(rows("Exchange in `binance`, `Kraken` && Size > 1"), [0]);
    assert_eq!(rows("Exchange = `Kraken` || Qty > 5"), [0, 1]);
    assert_eq!(rows("Qty > 5 || Exchange in `Kraken`, `ÉCLAIR`"), [0, 1, 3]);
    assert_eq!(
        rows("!(Exchange in `binance`) && !isNull(Exchange)"),
        [1, 3]
    );
    assert_eq!(rows("Qty in 7, 3 ? true : Flag = false"), [0, 1, 3]);
    assert_eq!(rows("(Qty in 7, 3) == Flag"), [0, 1, 3]);
    assert_eq!(
        rows("Exchange in `a`, `binance` && Qty in 7 || Offset = 101"),
        [0, 1]
    );
}

#[test]
fn in_range_is_inclusive_and_null_is_out() {
    assert_eq!(rows("inRange(Qty, -2, 3)"), [1, 3]);
    assert_eq!(rows("inRange(Size, -1, 1.5)"), [0, 1]);
    assert_eq!(rows("inRange(Offset, 100, 100)"), [0]);
    assert_eq!(rows("inRange(Exchange, `a`, `c`)"), [0]);
    assert_eq!(rows("inRange(Ts, t2, t2)"), [1]);
    assert_eq!(rows("inRange(Qty, null, 10)"), Vec::<usize>::new());
    assert_eq!(rows("inRange(Qty, Qty, Offset)"), [0, 1, 3]);
    assert_eq!(rows("inRange(Offset, 0, Qty * 20)"), [0]);
    assert_eq!(rows("!inRange(Qty, 0, 5) && Qty > 0"), [0]);
}

#[test]
fn now_reads_the_clock_given_to_the_formula() {
    let data = data();
    let f = compile_filter("Ts >= now()", &data.schema, &vars()).unwrap();
    let clock = f.clock.clone().expect("a clock");
    let kept = |f: &super::super::Formula| {
        let v = f.eval(&data, 0, data.len());
        (0..v.len())
            .filter(|&i| v.get(i) == Bool(true))
            .collect::<Vec<_>>()
    };
    // Until the host sets it, now() is null: an ordering comparison with it is false.
    assert_eq!(clock.get(), NULL_I64);
    assert!(kept(&f).is_empty());
    clock.set(2_000);
    assert_eq!(kept(&f), [1, 3]);
    clock.set(2_001);
    assert_eq!(kept(&f), [3]);
    let g = compile("T = now()", &data.schema, &vars()).unwrap();
    g.clock.as_ref().expect("a clock").set(42);
    assert_eq!(g.eval(&data, 0, 1).get(0), Timestamp(42));
    assert!(
        compile("T = Ts", &data.schema, &vars())
            .unwrap()
            .clock
            .is_none()
    );
}

#[test]
fn equals_assigns_in_formulas_and_compares_in_filters() {
    let data = data();
    let f = compile("Q = Qty", &data.schema, &vars()).unwrap();
    assert_eq!(f.name.as_deref(), Some("Q"));
    assert_eq!(f.ty, ColumnType::I32);
    let e = compile("Q = Qty = 7", &data.schema, &vars()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "formula error at position 8: expected the end of the formula, found ="
    );
    let f = compile("Big = Qty in 7, 3", &data.schema, &vars()).unwrap();
    assert_eq!(f.ty, ColumnType::Bool);
}

#[test]
fn bad_match_filters_say_where_and_what() {
    assert_eq!(
        error("Exchange in"),
        "formula error at position 11: expected a value after 'in', found the end of the formula"
    );
    assert_eq!(
        error("Exchange not in && Qty > 1"),
        "formula error at position 16: expected a value after 'in', found &&"
    );
    assert_eq!(
        error("Exchange in `a`,"),
        "formula error at position 16: expected a value, found the end of the formula"
    );
    assert_eq!(
        error("Exchange in `a`, 2"),
        "formula error at position 17: 'in' on string cannot take a value of type int"
    );
    assert_eq!(
        error("Qty in 1, `two`"),
        "formula error at position 10: 'in' on int cannot take a value of type string"
    );
    assert_eq!(
        error("Flag = 1"),
        "formula error at position 5: '==' cannot combine bool and int"
    );
    assert_eq!(
        error("Qty icase in 1"),
        "formula error at position 4: icase compares strings; the value tested is int"
    );
    assert_eq!(
        error("Qty in Offset"),
        "formula error at position 7: the values of 'in' must be constants (literals or variables), not an expression of columns, i, ii or now()"
    );
    assert_eq!(
        error("Ts in now()"),
        "formula error at position 6: the values of 'in' must be constants (literals or variables), not an expression of columns, i, ii or now()"
    );
    assert_eq!(
        error("Qty in i"),
        "formula error at position 7: the values of 'in' must be constants (literals or variables), not an expression of columns, i, ii or now()"
    );
    assert_eq!(
        error("null in 1"),
        "formula error at position 0: 'in' cannot test a bare null"
    );
    assert_eq!(
        error("inRange(Qty, 1)"),
        "formula error at position 0: inRange() takes 3 arguments (value, low, high), not 2"
    );
    assert_eq!(
        error("inRange(Qty, `a`, 3)"),
        "formula error at position 13: inRange() cannot compare int with string"
    );
    assert_eq!(
        error("inRange(Flag, true, false)"),
        "formula error at position 0: inRange() does not order bool values"
    );
    assert_eq!(
        error("inRange(null, null, null)"),
        "formula error at position 0: inRange() needs at least one typed argument"
    );
    assert_eq!(
        error("now(1)"),
        "formula error at position 0: now() takes no arguments, not 1"
    );
    assert_eq!(
        error("max(Qty in 1, 2)"),
        // One argument: the array form of max(), which a boolean is not.
        "formula error at position 0: max() of one argument takes an array, not bool"
    );
}

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    const VOCABULARY: &[&str] = &[
        "Exchange", "Size", "Qty", "Offset", "Flag", "Ts", "in", "not", "icase", "inRange", "now",
        "=", "==", "!=", "<", "&&", "||", "!", "?", ":", "(", ")", ",", "1", "2.5", "7L", "`a`",
        "null", "true", "nan", "t2", "i", "-",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2_000))]
        /// Any sequence of these tokens, as a filter or a formula, fails with an error or
        /// evaluates.
        #[test]
        fn match_token_soup_never_panics(words in proptest::collection::vec(proptest::sample::select(VOCABULARY), 0..12)) {
            let text = words.join(" ");
            let data = data();
            for f in [compile_filter(&text, &data.schema, &vars()), compile(&text, &data.schema, &vars())].into_iter().flatten() {
                if let Some(clock) = &f.clock {
                    clock.set(1_500);
                }
                let v = f.eval(&data, 0, data.len());
                prop_assert_eq!(v.len(), data.len());
            }
        }
    }
}
