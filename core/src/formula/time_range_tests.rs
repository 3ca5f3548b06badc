//! Every time function at the ends of the instant range (and at random), through formulas,
//! against a reference written from scratch: exact `i128` arithmetic for bins, sums,
//! differences and epoch conversions (null where the true result leaves the range of an instant
//! or a long, where Deephaven's `DateTimeUtils` throws), and jiff's own calendar and zone
//! arithmetic for parts, local dates and times and formatting (a zone's offset is the one thing
//! the engine takes from jiff; its calendar is ours). No function may panic: debug builds check
//! every arithmetic overflow.

use jiff::tz::{Offset, TimeZone};
use jiff::{Timestamp, ZonedDateTime as Zoned};
use proptest::prelude::*;

use super::*;
use crate::column::Value;
use crate::table::{Batch, TableData};
use crate::time::{DAY, MICRO, MILLI, MINUTE, SECOND, instant_in_range};

/// A row: `Ts`, `T2` (instants), `Iv` (an interval), `Off` (an offset), `N` (a long);
/// `i64::MIN` is null.
type Row = [i64; 5];
const NULL: i64 = i64::MIN;

fn table(rows: &[Row]) -> TableData {
    let schema = Schema::of(&[
        ("Ts", ColumnType::Timestamp),
        ("T2", ColumnType::Timestamp),
        ("Iv", ColumnType::I64),
        ("Off", ColumnType::I64),
        ("N", ColumnType::I64),
    ])
    .unwrap();
    let values: Vec<Vec<Value>> = rows
        .iter()
        .map(|r| {
            r.iter()
                .enumerate()
                .map(|(c, &v)| match (v, c) {
                    (NULL, _) => Value::Null,
                    (v, 0 | 1) => Value::Timestamp(v),
                    (v, _) => Value::I64(v),
                })
                .collect()
        })
        .collect();
    let batch = Batch::from_rows(&schema, &values).unwrap();
    let mut data = TableData::new(schema);
    for (c, b) in data.columns.iter_mut().zip(batch.columns()) {
        c.extend_from(b);
    }
    data
}

fn instant(v: Option<i128>) -> Value {
    v.and_then(instant_in_range)
        .map_or(Value::Null, Value::Timestamp)
}

fn long(v: Option<i128>) -> Value {
    v.and_then(|v| i64::try_from(v).ok())
        .filter(|&v| v != NULL)
        .map_or(Value::Null, Value::I64)
}

/// The arguments, or `None` if one is null.
fn all<const N: usize>(values: [i64; N]) -> Option<[i128; N]> {
    values
        .iter()
        .all(|&v| v != NULL)
        .then(|| values.map(i128::from))
}

fn lower_bin(t: i128, interval: i128, offset: i128) -> Option<i128> {
    (interval > 0).then(|| {
        let x = t - offset;
        x - x.rem_euclid(interval) + offset
    })
}

fn upper_bin(t: i128, interval: i128, offset: i128) -> Option<i128> {
    lower_bin(t, interval, offset).map(|lo| if lo == t { t } else { lo + interval })
}

type Reference = Box<dyn Fn(&Row) -> Value>;

/// The zone-free functions: (formula, reference).
fn arithmetic() -> Vec<(&'static str, Reference)> {
    let bin = |upper: bool, iv: Option<i64>, off: Option<i64>| -> Reference {
        Box::new(move |r: &Row| {
            let Some([t, i, o]) = all([r[0], iv.unwrap_or(r[2]), off.unwrap_or(r[3])]) else {
                return Value::Null;
            };
            instant(if upper {
                upper_bin(t, i, o)
            } else {
                lower_bin(t, i, o)
            })
        })
    };
    let sum = |sign: i128, a: usize, b: usize, c: Option<i64>| -> Reference {
        Box::new(move |r: &Row| match all([r[a], c.unwrap_or(r[b])]) {
            Some([x, y]) => instant(Some(x + sign * y)),
            None => Value::Null,
        })
    };
    let diff = |unit: i128| -> Reference {
        Box::new(move |r: &Row| match all([r[0], r[1]]) {
            Some([a, b]) => match long(Some(b - a)) {
                Value::I64(d) => Value::I64((i128::from(d) / unit) as i64),
                other => other,
            },
            None => Value::Null,
        })
    };
    let diff_f = |unit: i64| -> Reference {
        Box::new(
            move |r: &Row| match all([r[0], r[1]]).map(|[a, b]| long(Some(b - a))) {
                Some(Value::I64(d)) => Value::F64(d as f64 / unit as f64),
                _ => Value::Null,
            },
        )
    };
    let epoch = |unit: i128, floor: bool| -> Reference {
        Box::new(move |r: &Row| match all([r[0]]) {
            Some([t]) if floor => long(Some(t.div_euclid(unit))),
            Some([t]) => long(Some(t / unit)),
            None => Value::Null,
        })
    };
    let to_instant = |unit: i128| -> Reference {
        Box::new(move |r: &Row| instant(all([r[4]]).map(|[n]| n * unit)))
    };
    let order = |before: bool| -> Reference {
        Box::new(move |r: &Row| {
            Value::Bool(match all([r[0], r[1]]) {
                Some([a, b]) => (a < b) == before && a != b,
                None => false,
            })
        })
    };
    vec![
        ("lowerBin(Ts, Iv)", bin(false, None, Some(0))),
        ("upperBin(Ts, Iv)", bin(true, None, Some(0))),
        ("lowerBin(Ts, Iv, Off)", bin(false, None, None)),
        ("upperBin(Ts, Iv, Off)", bin(true, None, None)),
        ("lowerBin(Ts, 'PT1m')", bin(false, Some(MINUTE), Some(0))),
        ("upperBin(Ts, 'PT1m')", bin(true, Some(MINUTE), Some(0))),
        (
            "upperBin(Ts, 'PT1m', 'PT30s')",
            bin(true, Some(MINUTE), Some(30 * SECOND)),
        ),
        (
            "lowerBin(Ts, 'PT1m', -7 * DAY)",
            bin(false, Some(MINUTE), Some(-7 * DAY)),
        ),
        (
            "upperBin(Ts, 9223372036854775807)",
            bin(true, Some(i64::MAX), Some(0)),
        ),
        ("upperBin(Ts, DAY, Off)", bin(true, Some(DAY), None)),
        ("Ts + N", sum(1, 0, 4, None)),
        ("N + Ts", sum(1, 0, 4, None)),
        ("Ts - N", sum(-1, 0, 4, None)),
        ("plus(Ts, N)", sum(1, 0, 4, None)),
        ("minus(Ts, N)", sum(-1, 0, 4, None)),
        ("Ts + 'PT1m'", sum(1, 0, 4, Some(MINUTE))),
        ("Ts - 'PT1m'", sum(-1, 0, 4, Some(MINUTE))),
        ("Ts + Iv", sum(1, 0, 2, None)),
        (
            "Ts - T2",
            Box::new(|r: &Row| long(all([r[0], r[1]]).map(|[a, b]| a - b))),
        ),
        (
            "minus(Ts, T2)",
            Box::new(|r: &Row| long(all([r[0], r[1]]).map(|[a, b]| a - b))),
        ),
        ("diffNanos(Ts, T2)", diff(1)),
        ("diffMicros(Ts, T2)", diff(i128::from(MICRO))),
        ("diffMillis(Ts, T2)", diff(i128::from(MILLI))),
        ("diffSeconds(Ts, T2)", diff_f(SECOND)),
        ("diffMinutes(Ts, T2)", diff_f(MINUTE)),
        ("diffDays(Ts, T2)", diff_f(DAY)),
        ("epochNanos(Ts)", epoch(1, false)),
        ("epochMicros(Ts)", epoch(i128::from(MICRO), false)),
        ("epochMillis(Ts)", epoch(i128::from(MILLI), true)),
        ("epochSeconds(Ts)", epoch(i128::from(SECOND), true)),
        ("epochNanosToInstant(N)", to_instant(1)),
        ("epochMicrosToInstant(N)", to_instant(i128::from(MICRO))),
        ("epochMillisToInstant(N)", to_instant(i128::from(MILLI))),
        ("epochSecondsToInstant(N)", to_instant(i128::from(SECOND))),
        ("isBefore(Ts, T2)", order(true)),
        ("isAfter(Ts, T2)", order(false)),
    ]
}

/// The zones checked: (formula literal, jiff's zone, the name `formatDateTime` prints).
fn zones() -> Vec<(&'static str, TimeZone, &'static str)> {
    let db = |id: &str| jiff::tz::db().get(id).unwrap();
    vec![
        ("'UTC'", TimeZone::UTC, "UTC"),
        ("'ET'", db("America/New_York"), "ET"),
        ("`America/New_York`", db("America/New_York"), "ET"),
        ("'SYD'", db("Australia/Sydney"), "SYD"),
        (
            "'+05:30'",
            TimeZone::fixed(Offset::from_seconds(19_800).unwrap()),
            "+05:30",
        ),
        (
            "'-10:00'",
            TimeZone::fixed(Offset::from_seconds(-36_000).unwrap()),
            "-10:00",
        ),
    ]
}

fn zoned(t: i64, tz: &TimeZone) -> Zoned {
    Timestamp::from_nanosecond(i128::from(t))
        .unwrap()
        .to_zoned_datetime(tz.clone())
}

/// Nanoseconds since the local day's start (`DateTimeUtils.nanosOfDay`), exactly.
fn elapsed(t: i64, tz: &TimeZone) -> i64 {
    let start = zoned(t, tz).start_of_day().unwrap();
    i64::try_from(i128::from(t) - start.timestamp().as_nanosecond()).unwrap()
}

/// A part of `Ts` in a zone: (function, reference from jiff's zoned date-time).
type PartOf = (&'static str, fn(i64, &TimeZone, &str) -> Value);

const PARTS: &[PartOf] = &[
    ("year", |t, tz, _| Value::I32(zoned(t, tz).year().into())),
    ("monthOfYear", |t, tz, _| {
        Value::I32(zoned(t, tz).month().into())
    }),
    ("dayOfMonth", |t, tz, _| {
        Value::I32(zoned(t, tz).day().into())
    }),
    ("dayOfWeek", |t, tz, _| {
        Value::I32(zoned(t, tz).weekday().to_monday_one_offset().into())
    }),
    ("dayOfYear", |t, tz, _| {
        Value::I32(zoned(t, tz).day_of_year().into())
    }),
    ("hourOfDay", |t, tz, _| {
        Value::I32((elapsed(t, tz) / (60 * MINUTE)) as i32)
    }),
    ("minuteOfHour", |t, tz, _| {
        Value::I32(zoned(t, tz).minute().into())
    }),
    ("minuteOfDay", |t, tz, _| {
        Value::I32((elapsed(t, tz) / MINUTE) as i32)
    }),
    ("secondOfMinute", |t, tz, _| {
        Value::I32(zoned(t, tz).second().into())
    }),
    ("secondOfDay", |t, tz, _| {
        Value::I32((elapsed(t, tz) / SECOND) as i32)
    }),
    ("nanosOfSecond", |t, tz, _| {
        Value::I64(zoned(t, tz).subsec_nanosecond().into())
    }),
    ("millisOfSecond", |t, tz, _| {
        Value::I32(zoned(t, tz).subsec_nanosecond() / 1_000_000)
    }),
    ("toLocalDate", |t, tz, _| {
        let epoch = jiff::civil::date(1970, 1, 1);
        let days = epoch.until(zoned(t, tz).date()).unwrap().get_days();
        Value::Date(days)
    }),
    ("toLocalTime", |t, tz, _| {
        let z = zoned(t, tz);
        let (h, m, s) = (
            i64::from(z.hour()),
            i64::from(z.minute()),
            i64::from(z.second()),
        );
        Value::Time((h * 60 + m) * MINUTE + s * SECOND + i64::from(z.subsec_nanosecond()))
    }),
    ("formatDate", |t, tz, _| {
        Value::String(zoned(t, tz).strftime("%Y-%m-%d").to_string())
    }),
    ("formatDateTime", |t, tz, name| {
        let z = zoned(t, tz);
        Value::String(format!(
            "{}.{:09} {name}",
            z.strftime("%Y-%m-%dT%H:%M:%S"),
            z.subsec_nanosecond()
        ))
    }),
];

/// The wall-clock forms (a third argument `true`).
const WALL_CLOCK: &[PartOf] = &[
    ("hourOfDay", |t, tz, _| {
        Value::I32(zoned(t, tz).hour().into())
    }),
    ("minuteOfDay", |t, tz, _| {
        let z = zoned(t, tz);
        Value::I32(i32::from(z.hour()) * 60 + i32::from(z.minute()))
    }),
    ("secondOfDay", |t, tz, _| {
        let z = zoned(t, tz);
        Value::I32((i32::from(z.hour()) * 60 + i32::from(z.minute())) * 60 + i32::from(z.second()))
    }),
];

fn results(data: &TableData, text: &str) -> Vec<Value> {
    let f = compile(text, &data.schema, &Variables::default())
        .unwrap_or_else(|e| panic!("{text}: {e}"));
    let v = f.eval(data, 0, data.len());
    (0..v.len()).map(|i| v.get(i)).collect()
}

/// Every function over `rows`, against the reference.
fn check(rows: &[Row]) -> std::result::Result<(), TestCaseError> {
    let data = table(rows);
    for (text, reference) in arithmetic() {
        let got = results(&data, text);
        for (row, got) in rows.iter().zip(got) {
            prop_assert_eq!(got, reference(row), "{} at {:?}", text, row);
        }
    }
    for (zone, tz, name) in zones() {
        let forms = PARTS
            .iter()
            .map(|p| (format!("{}(Ts, {zone})", p.0), p.1))
            .chain(
                WALL_CLOCK
                    .iter()
                    .map(|p| (format!("{}(Ts, {zone}, true)", p.0), p.1)),
            );
        for (text, reference) in forms {
            let got = results(&data, &text);
            for (row, got) in rows.iter().zip(got) {
                let want = if row[0] == NULL {
                    Value::Null
                } else {
                    reference(row[0], &tz, name)
                };
                prop_assert_eq!(got, want, "{} at {:?}", text, row);
            }
        }
    }
    Ok(())
}

/// Values near the ends of the range (within three days, and the last few nanoseconds), near
/// zero, anywhere, and null.
fn extreme() -> impl Strategy<Value = i64> {
    prop_oneof![
        (0..3 * DAY).prop_map(|d| i64::MAX - d),
        (1..3 * DAY).prop_map(|d| i64::MIN + d),
        (0i64..4).prop_map(|d| i64::MAX - d),
        (1i64..5).prop_map(|d| i64::MIN + d),
        -3 * DAY..3 * DAY,
        any::<i64>(),
        Just(NULL),
    ]
}

fn interval() -> impl Strategy<Value = i64> {
    prop_oneof![
        1..3 * DAY,
        (1i64..10_000).prop_map(|m| m * MINUTE),
        Just(1),
        Just(i64::MAX),
        any::<i64>(),
        -2i64..=0,
        Just(NULL),
    ]
}

fn row() -> impl Strategy<Value = Row> {
    (extreme(), extreme(), interval(), extreme(), extreme())
        .prop_map(|(a, b, c, d, e)| [a, b, c, d, e])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn every_time_function_is_exact_or_null_over_the_whole_range(
        rows in proptest::collection::vec(row(), 1..24)
    ) {
        check(&rows)?;
    }
}

#[test]
fn the_reported_overflows() {
    let max = i64::MAX;
    let min1 = i64::MIN + 1;
    let rows = [
        [max - 1, min1, MINUTE, 0, max - 1],
        [min1, max, MINUTE, 0, min1],
        [max, 0, MINUTE, 0, 0],
        [min1 + 30 * MINUTE, min1, 7 * DAY, max, i64::MAX / 1_000_000],
    ];
    check(&rows).unwrap();
    let data = table(&rows);
    let ts = Value::Timestamp;
    // upperBin(Ts, Iv) at MAX-1: the next multiple of a minute is past the range.
    assert_eq!(results(&data, "upperBin(Ts, Iv)")[0], Value::Null);
    // lowerBin(Ts, 'PT1m') at MIN+1: the minute began before the range.
    assert_eq!(results(&data, "lowerBin(Ts, 'PT1m')")[1], Value::Null);
    // upperBin(Ts, 'PT1m', 'PT30s') at MAX was a date in 1677.
    assert_eq!(
        results(&data, "upperBin(Ts, 'PT1m', 'PT30s')")[2],
        Value::Null
    );
    assert_eq!(results(&data, "Ts + 'PT1m'")[0], Value::Null);
    assert_eq!(results(&data, "Ts + Iv")[0], Value::Null);
    assert_eq!(results(&data, "Ts - 'PT1m'")[1], Value::Null);
    assert_eq!(results(&data, "plus(Ts, Iv)")[0], Value::Null);
    assert_eq!(results(&data, "Ts - 'PT1s'")[2], ts(max - SECOND));
    // hourOfDay and secondOfDay at MIN+1 in New York (1677-09-20 19:16:41 LMT, -4:56:02).
    assert_eq!(results(&data, "hourOfDay(Ts, 'ET')")[1], Value::I32(19));
    assert_eq!(
        results(&data, "secondOfDay(Ts, 'America/New_York')")[1],
        Value::I32(19 * 3600 + 16 * 60 + 41)
    );
    assert_eq!(
        results(&data, "formatDateTime(Ts, 'ET')")[1],
        Value::String("1677-09-20T19:16:41.145224193 ET".into())
    );
    assert_eq!(
        results(&data, "formatDateTime(Ts, '+05:30')")[0],
        Value::String("2262-04-12T05:17:16.854775806 +05:30".into())
    );
    // epochMillisToInstant of the largest convertible long, and of one more.
    assert_eq!(
        results(&data, "epochMillisToInstant(N)")[3],
        ts(i64::MAX / 1_000_000 * MILLI)
    );
    assert_eq!(
        results(&data, "epochMillisToInstant(N + 1)")[3],
        Value::Null
    );
}
