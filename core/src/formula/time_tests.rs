//! Time in formulas: Date and Time columns, and the exact error (position and message) for
//! each new piece of syntax. The values of every time function are checked against Python's
//! `zoneinfo` by `core/tests/time_golden.rs`.

use super::*;
use crate::column::Value::{self, *};
use crate::table::{Batch, TableData};
use crate::time::{DAY, HOUR, MINUTE, SECOND};

const TS: i64 = 1_767_632_400 * SECOND; // 2026-01-05T17:00:00Z
const D: i32 = 20_458; // 2026-01-05

fn data() -> TableData {
    let schema = Schema::of(&[
        ("Ts", ColumnType::Timestamp),
        ("D", ColumnType::Date),
        ("Tm", ColumnType::Time),
        ("Name", ColumnType::String),
        ("N", ColumnType::I64),
    ])
    .unwrap();
    let rows = vec![
        vec![
            Timestamp(TS),
            Date(D),
            Time(12 * HOUR + 30 * MINUTE),
            String("a".into()),
            I64(MINUTE),
        ],
        vec![
            Timestamp(TS + DAY + 1),
            Date(D + 1),
            Time(9 * HOUR),
            String("b".into()),
            I64(-1),
        ],
        vec![Null, Null, Null, Null, Null],
    ];
    let batch = Batch::from_rows(&schema, &rows).unwrap();
    let mut data = TableData::new(schema);
    for (c, b) in data.columns.iter_mut().zip(batch.columns()) {
        c.extend_from(b);
    }
    data
}

fn eval_all(text: &str) -> (ColumnType, Vec<Value>) {
    let data = data();
    let f = compile(text, &data.schema, &Variables::default())
        .unwrap_or_else(|e| panic!("{text}: {e}"));
    let v = f.eval(&data, 0, data.len());
    (f.ty, (0..v.len()).map(|i| v.get(i)).collect())
}

fn error(text: &str) -> std::string::String {
    let data = data();
    match compile(text, &data.schema, &Variables::default()) {
        Ok(_) => panic!("{text} should not compile"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn date_and_time_columns_are_first_class() {
    assert_eq!(
        eval_all("D"),
        (ColumnType::Date, vec![Date(D), Date(D + 1), Null])
    );
    assert_eq!(
        eval_all("D == '2026-01-05'").1,
        [Bool(true), Bool(false), Bool(false)]
    );
    assert_eq!(
        eval_all("Tm > '12:00'").1,
        [Bool(true), Bool(false), Bool(false)]
    );
    assert_eq!(
        eval_all("toLocalDate(Ts, 'UTC') == D").1,
        [Bool(true), Bool(true), Bool(true)],
        "a null equals a null"
    );
    assert_eq!(
        eval_all("Tm > '10:00' ? D : '1999-12-31'").1,
        [Date(D), Date(10_956), Date(10_956)]
    );
    assert_eq!(
        eval_all("isNull(D) || isNull(Tm)").1,
        [Bool(false), Bool(false), Bool(true)]
    );
    assert_eq!(
        eval_all("Name + ` ` + D + ` ` + Tm + ` ` + Ts").1,
        [
            String("a 2026-01-05 12:30 2026-01-05T17:00:00Z".into()),
            String("b 2026-01-06 09:00 2026-01-06T17:00:00.000000001Z".into()),
            String("null null null null".into()),
        ]
    );
    assert_eq!(
        eval_all("Ts + N").1,
        [Timestamp(TS + MINUTE), Timestamp(TS + DAY), Null]
    );
    assert_eq!(
        eval_all("Ts - '2026-01-05T16:00:00Z'").1,
        [I64(HOUR), I64(DAY + HOUR + 1), Null]
    );
    assert_eq!(
        eval_all("Ts == null").1,
        [Bool(false), Bool(false), Bool(true)]
    );
    assert_eq!(
        eval_all("lowerBin(Ts, N)").1,
        [Timestamp(TS), Null, Null],
        "a non-positive interval at run time is null"
    );
}

#[test]
fn time_syntax_errors_say_where_and_what() {
    let cases = [
        (
            "Ts > '2026-13-01T00:00:00Z'",
            "formula error at position 5: '2026-13-01T00:00:00Z' is not an instant ('2026-13-01' is not a date (no such day))",
        ),
        (
            "Ts > 'soon'",
            "formula error at position 5: cannot read 'soon' as an instant, a duration, a date, a time or a time zone",
        ),
        (
            "Ts > '2026-01-05T17:00:00'",
            "formula error at position 5: '2026-01-05T17:00:00' is not an instant (it needs a time zone: Z, an offset like +01:00, or a zone after a space)",
        ),
        (
            "Ts + 'PT1Y'",
            "formula error at position 5: 'PT1Y' is not a duration (years, months and weeks are periods, not durations)",
        ),
        (
            "Ts + 'PT1S2M'",
            "formula error at position 5: 'PT1S2M' is not a duration (units in the order D, then T H M S)",
        ),
        (
            "Ts + 'P1Y'",
            "formula error at position 5: 'P1Y' is not a duration (years, months and weeks are periods, not durations)",
        ),
        (
            "Ts > '2026-01-05T17:00",
            "formula error at position 5: unterminated time literal (a quote ' without its closing one)",
        ),
        (
            "hourOfDay(Ts, 'Mars/Base')",
            "formula error at position 14: unknown time zone Mars/Base",
        ),
        (
            "hourOfDay(Ts, timeZone(`Nowhere/Land`))",
            "formula error at position 23: unknown time zone Nowhere/Land",
        ),
        (
            "hourOfDay(Ts)",
            "formula error at position 0: hourOfDay() takes 2 or 3 argument(s), not 1",
        ),
        (
            "hourOfDay(N, 'ET')",
            "formula error at position 10: hourOfDay() takes (instant, time zone); argument 1 is long",
        ),
        (
            "hourOfDay(Ts, Name)",
            "formula error at position 14: a time zone here is a constant: 'America/New_York', `ET` or timeZone(`UTC`)",
        ),
        (
            "hourOfDay(Ts, 'ET', 1)",
            "formula error at position 20: hourOfDay()'s third argument (localTime) is true or false",
        ),
        (
            "lowerBin(Ts, 0)",
            "formula error at position 13: lowerBin()'s interval must be positive, not 0",
        ),
        (
            "lowerBin(Ts, 1.5)",
            "formula error at position 13: lowerBin() takes (instant, long); argument 2 is double",
        ),
        (
            "diffSeconds(Ts, D)",
            "formula error at position 16: diffSeconds() takes (instant, instant); argument 2 is date",
        ),
        (
            "minus(Ts, Name)",
            "formula error at position 10: minus() takes (instant, long) or (instant, instant); argument 2 is string",
        ),
        (
            "Ts + 1.5",
            "formula error at position 3: '+' cannot combine timestamp and double (an instant takes or gives a long of nanoseconds)",
        ),
        (
            "Ts + Ts",
            "formula error at position 3: '+' cannot combine timestamp and timestamp (an instant takes or gives a long of nanoseconds)",
        ),
        (
            "Ts * 2",
            "formula error at position 3: '*' needs numbers, not timestamp and int",
        ),
        (
            "Ts > 'ET'",
            "formula error at position 5: 'ET' is a time zone, which is only an argument of a time function (hourOfDay(Ts, 'ET'))",
        ),
        (
            "timeZone(`UTC`)",
            "formula error at position 0: timeZone() is a time zone: it is only an argument of a time function",
        ),
        (
            "D > Ts",
            "formula error at position 2: '>' cannot combine date and timestamp",
        ),
        (
            "Tm < '25:00'",
            "formula error at position 5: '25:00' is not a time of day",
        ),
    ];
    for (text, message) in cases {
        assert_eq!(error(text), message, "{text}");
    }
}

proptest::proptest! {
    /// Whatever is between the quotes, a literal compiles or is an error: it never panics.
    #[test]
    fn any_literal_compiles_or_errs(text in "[-+0-9:.TZPDHMSLtzpdhms /A-Za-z_]{0,24}") {
        let data = data();
        if let Ok(f) = compile(&format!("X = '{text}'"), &data.schema, &Variables::default()) {
            proptest::prop_assert_eq!(f.eval(&data, 0, data.len()).len(), data.len());
        }
    }
}
