//! Formula golden tests: the seed's formulas, the operators, null propagation, and the exact
//! error for bad formulas.

use super::*;
use crate::column::Value::{self, *};
use crate::table::{Batch, TableData};

fn data() -> TableData {
    let schema = Schema::of(&[
        ("Exchange", ColumnType::String),
        ("Instrument", ColumnType::String),
        ("Size", ColumnType::F64),
        ("Trade_Count", ColumnType::I64),
        ("Qty", ColumnType::I32),
        ("KafkaOffset", ColumnType::I64),
    ])
    .unwrap();
    let rows = vec![
        vec![
            String("binance".into()),
            String("BTC/USDT".into()),
            F64(1.5),
            I64(10),
            I32(7),
            I64(100),
        ],
        vec![
            String("kraken".into()),
            String("ETH/USD".into()),
            F64(-2.25),
            I64(3),
            I32(-2),
            I64(101),
        ],
        vec![Null, Null, Null, Null, Null, I64(102)],
    ];
    let batch = Batch::from_rows(&schema, &rows).unwrap();
    let mut data = TableData::new(schema);
    for (c, b) in data.columns.iter_mut().zip(batch.columns()) {
        c.extend_from(b);
    }
    data
}

fn eval_all(text: &str) -> (Option<std::string::String>, Vec<Value>) {
    eval_with(text, &Variables::default())
}

fn eval_with(text: &str, vars: &Variables) -> (Option<std::string::String>, Vec<Value>) {
    let data = data();
    let f = compile(text, &data.schema, vars).unwrap_or_else(|e| panic!("{text}: {e}"));
    let v = f.eval(&data, 0, data.len());
    (f.name.clone(), (0..v.len()).map(|i| v.get(i)).collect())
}

fn s(x: &str) -> Value {
    String(x.into())
}

#[test]
fn the_seeds_formulas() {
    assert_eq!(
        eval_all("Instrument.startsWith(`BTC`)").1,
        [Bool(true), Bool(false), Null]
    );
    assert_eq!(
        eval_all("Table_Type = `append`"),
        (Some("Table_Type".into()), vec![s("append"); 3])
    );
    let vars = Variables::from_iter([("size_offset".to_owned(), I64(1_000_000))]);
    assert_eq!(
        eval_with("Offset = KafkaOffset - size_offset", &vars).1,
        [I64(-999_900), I64(-999_899), I64(-999_898)]
    );
    assert_eq!(
        eval_all("Diff_Trade_Count = Trade_Count - Trade_Count").1,
        [I64(0), I64(0), Null]
    );
    assert_eq!(
        eval_all("Diff_Total_Size = Size - Size").1,
        [F64(0.0), F64(-0.0), Null]
    );
    assert_eq!(
        eval_all("Exchange"),
        (
            Some("Exchange".into()),
            vec![s("binance"), s("kraken"), Null]
        )
    );
}

#[test]
fn arithmetic_types_and_nulls() {
    assert_eq!(eval_all("Qty + 1").1, [I32(8), I32(-1), Null]);
    assert_eq!(eval_all("Qty * Trade_Count").1, [I64(70), I64(-6), Null]);
    assert_eq!(
        eval_all("Qty / 2").1,
        [F64(3.5), F64(-1.0), Null],
        "division is double"
    );
    assert_eq!(eval_all("Qty % 4").1, [I32(3), I32(-2), Null]);
    assert_eq!(eval_all("Qty % 0").1, [Null, Null, Null]);
    assert_eq!(eval_all("-Size").1, [F64(-1.5), F64(2.25), Null]);
    assert_eq!(eval_all("1_000L + 2").1, vec![I64(1002); 3]);
    assert_eq!(eval_all("2.5e1").1, vec![F64(25.0); 3]);
    assert_eq!(
        eval_all("Exchange + `:` + Qty").1,
        [s("binance:7"), s("kraken:-2"), s("null:null")]
    );
}

#[test]
fn comparisons_logic_and_ternary() {
    assert_eq!(
        eval_all("Size > 0").1,
        [Bool(true), Bool(false), Bool(false)]
    );
    assert_eq!(
        eval_all("Size == null").1,
        [Bool(false), Bool(false), Bool(true)]
    );
    assert_eq!(
        eval_all("Exchange != `kraken`").1,
        [Bool(true), Bool(false), Bool(true)]
    );
    assert_eq!(
        eval_all("Exchange < `c`").1,
        [Bool(true), Bool(false), Bool(false)]
    );
    assert_eq!(
        eval_all("Size > 0 && Qty > 5 || Qty < -1").1,
        [Bool(true), Bool(true), Bool(false)]
    );
    assert_eq!(
        eval_all("!(Size > 0)").1,
        [Bool(false), Bool(true), Bool(true)]
    );
    assert_eq!(
        eval_all("Size > 0 ? `up` : `down`").1,
        [s("up"), s("down"), s("down")]
    );
    assert_eq!(
        eval_all("Qty > 0 ? Qty : 0.5").1,
        [F64(7.0), F64(0.5), F64(0.5)]
    );
    assert_eq!(eval_all("Qty > 0 ? Qty : null").1, [I32(7), Null, Null]);
}

#[test]
fn functions_and_string_methods() {
    assert_eq!(eval_all("max(Qty, 0)").1, [I32(7), I32(0), Null]);
    assert_eq!(eval_all("min(Size, 0)").1, [F64(0.0), F64(-2.25), Null]);
    assert_eq!(eval_all("abs(Qty)").1, [I32(7), I32(2), Null]);
    assert_eq!(eval_all("sqrt(Trade_Count)").1[1], F64(3f64.sqrt()));
    assert_eq!(eval_all("floor(Size)").1, [F64(1.0), F64(-3.0), Null]);
    assert_eq!(eval_all("ceil(Size)").1, [F64(2.0), F64(-2.0), Null]);
    assert_eq!(eval_all("round(Size)").1, [I64(2), I64(-2), Null]);
    assert_eq!(
        eval_all("isNull(Exchange)").1,
        [Bool(false), Bool(false), Bool(true)]
    );
    assert_eq!(
        eval_all("Instrument.endsWith(`USD`)").1,
        [Bool(false), Bool(true), Null]
    );
    assert_eq!(
        eval_all("Instrument.contains(`/`)").1,
        [Bool(true), Bool(true), Null]
    );
    assert_eq!(eval_all("Exchange.length()").1, [I32(7), I32(6), Null]);
    assert_eq!(
        eval_all("Exchange.toUpperCase()").1,
        [s("BINANCE"), s("KRAKEN"), Null]
    );
    assert_eq!(
        eval_all("Instrument.toLowerCase().startsWith(`eth`)").1,
        [Bool(false), Bool(true), Null]
    );
}

fn error(text: &str) -> std::string::String {
    let data = data();
    match compile(text, &data.schema, &Variables::default()) {
        Ok(_) => panic!("{text} should not compile"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn bad_formulas_say_where_and_what() {
    assert_eq!(
        error("Size +"),
        "formula error at position 6: expected a value, found the end of the formula"
    );
    assert_eq!(
        error("Size + * 2"),
        "formula error at position 7: expected a value, found *"
    );
    assert_eq!(
        error("Sizes > 1"),
        "formula error at position 0: unknown column or variable Sizes (columns: Exchange, Instrument, Size, Trade_Count, Qty, KafkaOffset)"
    );
    assert_eq!(
        error("Exchange * 2"),
        "formula error at position 9: '*' needs numbers, not string and int"
    );
    assert_eq!(
        error("Size > `x`"),
        "formula error at position 5: '>' cannot combine double and string"
    );
    assert_eq!(
        error("Exchange.shout()"),
        "formula error at position 8: unknown string method shout"
    );
    // Refused by the lexer, whatever float parser the build has (JavaScript's reads `1e` as 1).
    assert_eq!(
        error("Size * 1e"),
        "formula error at position 7: bad number \"1e\": an exponent needs digits"
    );
    assert_eq!(
        error("Size * 2E+"),
        "formula error at position 7: bad number \"2E+\": an exponent needs digits"
    );
    assert_eq!(
        error("Size.startsWith(`a`)"),
        "formula error at position 4: startsWith() is a string method; this is double"
    );
    assert_eq!(
        error("frob(Size)"),
        "formula error at position 0: unknown function frob"
    );
    assert_eq!(
        error("`open"),
        "formula error at position 0: unterminated string literal"
    );
    assert_eq!(
        error("Size # 2"),
        "formula error at position 5: unexpected character '#'"
    );
    assert_eq!(
        error("(Size + 1"),
        "formula error at position 9: expected ')', found the end of the formula"
    );
    assert_eq!(
        error("Size > 1 ? 1 : `a`"),
        "formula error at position 9: '?:' cannot combine int and string"
    );
    assert_eq!(
        error("Size 2"),
        "formula error at position 5: expected the end of the formula, found 2"
    );
}

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    const VOCABULARY: &[&str] = &[
        "Exchange",
        "Instrument",
        "Size",
        "Trade_Count",
        "Qty",
        "KafkaOffset",
        "Out",
        "=",
        "+",
        "-",
        "*",
        "/",
        "%",
        "==",
        "!=",
        "<",
        ">=",
        "&&",
        "||",
        "!",
        "?",
        ":",
        "(",
        ")",
        ",",
        ".",
        "1",
        "2.5",
        "7L",
        "`BTC`",
        "null",
        "true",
        "max",
        "min",
        "abs",
        "sqrt",
        "floor",
        "ceil",
        "round",
        "isNull",
        "startsWith",
        "length",
        "toUpperCase",
        "contains",
        "size_offset",
        "#",
        "\"",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2_000))]
        /// Any sequence of tokens either fails to compile with an error, or evaluates.
        #[test]
        fn token_soup_never_panics(words in proptest::collection::vec(proptest::sample::select(VOCABULARY), 0..14)) {
            let text = words.join(" ");
            let data = data();
            let vars = Variables::from_iter([("size_offset".to_owned(), I64(5))]);
            if let Ok(f) = compile(&text, &data.schema, &vars) {
                let v = f.eval(&data, 0, data.len());
                prop_assert_eq!(v.len(), data.len());
            }
        }
    }
}
