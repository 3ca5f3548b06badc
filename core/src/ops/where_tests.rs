//! `where` with match filters (`in`, `not in`, `icase in`, `=`, `!=`, `inRange`) and with a
//! filter that moves with the clock (`now()`), after every cycle, against a plain recomputation
//! over append, stream (blink) and ring sources with random cycles.

use proptest::prelude::*;

use super::tests::{Row, assert_rows_eq, reference, schema};
use crate::Agg;
use crate::column::ColumnType;
use crate::column::Value;
use crate::formula::Variables;
use crate::table::{Batch, Engine, Schema, Table};

const EXCHANGE: usize = 0;
const INSTRUMENT: usize = 1;
const SIZE: usize = 2;
const QTY: usize = 3;
const FLAG: usize = 4;
const TS: usize = 5;

const STRINGS: &[&str] = &["binance", "Kraken", "KRAKEN", "gemini", "Ünï", "ÜNÏ", "lgo"];
const SIZES: &[f64] = &[0.0, -0.0, 1.5, -2.25, 100.0, f64::NAN];
/// Timestamps the rows take, and the variables `t0`.. that filters name them by.
const TIMES: &[i64] = &[0, 10, 250, 500, 999];

fn arb_row() -> impl Strategy<Value = Row> {
    let string = || {
        proptest::option::weighted(0.85, proptest::sample::select(STRINGS))
            .prop_map(|s| s.map_or(Value::Null, |s| Value::String(s.into())))
    };
    (
        string(),
        string(),
        proptest::option::weighted(0.85, proptest::sample::select(SIZES)),
        proptest::option::weighted(0.85, -3i32..4),
        proptest::option::weighted(0.85, any::<bool>()),
        proptest::option::weighted(0.85, proptest::sample::select(TIMES)),
    )
        .prop_map(|(e, i, s, q, f, t)| {
            vec![
                e,
                i,
                s.map_or(Value::Null, Value::F64),
                q.map_or(Value::Null, Value::I32),
                f.map_or(Value::Null, Value::Bool),
                t.map_or(Value::Null, Value::Timestamp),
            ]
        })
}

fn variables() -> Variables {
    let mut vars: Variables = TIMES
        .iter()
        .enumerate()
        .map(|(i, &t)| (format!("t{i}"), Value::Timestamp(t)))
        .collect();
    vars.insert("nan".into(), Value::F64(f64::NAN));
    vars
}

/// A filter, as text and as the plain predicate it means.
#[derive(Debug, Clone)]
enum Spec {
    /// `Exchange|Instrument [icase] [not] in ...`
    Strings {
        column: usize,
        values: Vec<Option<&'static str>>,
        icase: bool,
        inverted: bool,
    },
    /// `Qty [not] in ...` (as ints, or longs with `L`).
    Ints {
        values: Vec<Option<i32>>,
        long: bool,
        inverted: bool,
    },
    /// `Size [not] in ...`: NaN matches NaN.
    Doubles {
        values: Vec<Option<f64>>,
        inverted: bool,
    },
    Flags {
        values: Vec<Option<bool>>,
        inverted: bool,
    },
    /// `Ts [not] in t1, ...` (variables).
    Times {
        values: Vec<Option<usize>>,
        inverted: bool,
    },
    /// `Exchange = v`, `Exchange == v` or `Exchange != v`; `Size = v` (IEEE: NaN equals nothing).
    Equal {
        op: &'static str,
        value: Option<&'static str>,
    },
    SizeEqual {
        op: &'static str,
        value: f64,
    },
    QtyRange(Option<i32>, Option<i32>),
    SizeRange(f64, f64),
    TsRange(usize, usize),
    /// Ordinary formulas.
    SizePositive,
    QtyAboveOne,
    And(Box<Spec>, Box<Spec>),
    Or(Box<Spec>, Box<Spec>),
}

fn string_text(v: &Option<&str>) -> String {
    v.map_or("null".into(), |s| format!("`{s}`"))
}

fn double_text(v: f64) -> String {
    if v.is_nan() {
        "nan".into()
    } else {
        format!("{v:?}")
    }
}

fn list<T>(values: &[T], text: impl Fn(&T) -> String) -> String {
    values.iter().map(text).collect::<Vec<_>>().join(", ")
}

fn fold(s: &str) -> String {
    s.to_uppercase().to_lowercase()
}

impl Spec {
    fn text(&self) -> String {
        let not = |inverted: &bool| if *inverted { "not " } else { "" };
        match self {
            Spec::Strings {
                column,
                values,
                icase,
                inverted,
            } => format!(
                "{} {}{}in {}",
                if *column == EXCHANGE {
                    "Exchange"
                } else {
                    "Instrument"
                },
                if *icase { "icase " } else { "" },
                not(inverted),
                list(values, string_text)
            ),
            Spec::Ints {
                values,
                long,
                inverted,
            } => format!(
                "Qty {}in {}",
                not(inverted),
                list(values, |v| v.map_or("null".into(), |q| {
                    format!("{q}{}", if *long { "L" } else { "" })
                }))
            ),
            Spec::Doubles { values, inverted } => format!(
                "Size {}in {}",
                not(inverted),
                list(values, |v| v.map_or("null".into(), double_text))
            ),
            Spec::Flags { values, inverted } => format!(
                "Flag {}in {}",
                not(inverted),
                list(values, |v| v.map_or("null".into(), |b| b.to_string()))
            ),
            Spec::Times { values, inverted } => format!(
                "Ts {}in {}",
                not(inverted),
                list(values, |v| v.map_or("null".into(), |i| format!("t{i}")))
            ),
            Spec::Equal { op, value } => format!("Exchange {op} {}", string_text(value)),
            Spec::SizeEqual { op, value } => format!("Size {op} {}", double_text(*value)),
            Spec::QtyRange(lo, hi) => {
                let t = |v: &Option<i32>| v.map_or("null".into(), |q| q.to_string());
                format!("inRange(Qty, {}, {})", t(lo), t(hi))
            }
            Spec::SizeRange(lo, hi) => format!("inRange(Size, {lo:?}, {hi:?})"),
            Spec::TsRange(lo, hi) => format!("inRange(Ts, t{lo}, t{hi})"),
            Spec::SizePositive => "Size > 0".into(),
            Spec::QtyAboveOne => "Qty > 1".into(),
            Spec::And(a, b) => {
                // `in` lists end at `&&` and `||`: only a disjunction needs parentheses.
                let operand = |s: &Spec| match s {
                    Spec::Or(..) => format!("({})", s.text()),
                    _ => s.text(),
                };
                format!("{} && {}", operand(a), operand(b))
            }
            Spec::Or(a, b) => format!("{} || {}", a.text(), b.text()),
        }
    }

    fn holds(&self, row: &Row) -> bool {
        let string = |c: usize| match &row[c] {
            Value::String(s) => Some(s.as_str()),
            _ => None,
        };
        let size = match row[SIZE] {
            Value::F64(x) => Some(x),
            _ => None,
        };
        let qty = match row[QTY] {
            Value::I32(q) => Some(q),
            _ => None,
        };
        let ts = match row[TS] {
            Value::Timestamp(t) => Some(t),
            _ => None,
        };
        match self {
            Spec::Strings {
                column,
                values,
                icase,
                inverted,
            } => {
                let r = string(*column);
                let hit = values.iter().any(|v| match (v, r) {
                    (None, None) => true,
                    (Some(v), Some(r)) if *icase => fold(v) == fold(r),
                    (Some(v), Some(r)) => *v == r,
                    _ => false,
                });
                hit != *inverted
            }
            Spec::Ints {
                values, inverted, ..
            } => values.contains(&qty) != *inverted,
            Spec::Doubles { values, inverted } => {
                let hit = values.iter().any(|v| match (v, size) {
                    (None, None) => true,
                    (Some(v), Some(x)) => *v == x || (v.is_nan() && x.is_nan()),
                    _ => false,
                });
                hit != *inverted
            }
            Spec::Flags { values, inverted } => {
                let flag = match row[FLAG] {
                    Value::Bool(b) => Some(b),
                    _ => None,
                };
                values.contains(&flag) != *inverted
            }
            Spec::Times { values, inverted } => {
                let hit = values.iter().any(|v| v.map(|i| TIMES[i]) == ts);
                hit != *inverted
            }
            Spec::Equal { op, value } => (string(EXCHANGE) == *value) != (*op == "!="),
            Spec::SizeEqual { op, value } => {
                let equal = size.is_some_and(|x| x == *value);
                equal != (*op == "!=")
            }
            Spec::QtyRange(lo, hi) => match (qty, lo, hi) {
                (Some(q), Some(lo), Some(hi)) => *lo <= q && q <= *hi,
                _ => false,
            },
            Spec::SizeRange(lo, hi) => size.is_some_and(|x| *lo <= x && x <= *hi),
            Spec::TsRange(lo, hi) => ts.is_some_and(|t| TIMES[*lo] <= t && t <= TIMES[*hi]),
            Spec::SizePositive => size.is_some_and(|x| x > 0.0),
            Spec::QtyAboveOne => qty.is_some_and(|q| q > 1),
            Spec::And(a, b) => a.holds(row) && b.holds(row),
            Spec::Or(a, b) => a.holds(row) || b.holds(row),
        }
    }
}

/// One to four values, some null.
fn values<S: Strategy>(value: S) -> impl Strategy<Value = Vec<Option<S::Value>>> {
    proptest::collection::vec(proptest::option::weighted(0.85, value), 1..5)
}

fn arb_spec() -> impl Strategy<Value = Spec> {
    let leaf = prop_oneof![
        (
            prop_oneof![Just(EXCHANGE), Just(INSTRUMENT)],
            values(proptest::sample::select(STRINGS)),
            any::<bool>(),
            any::<bool>()
        )
            .prop_map(|(column, values, icase, inverted)| Spec::Strings {
                column,
                values,
                icase,
                inverted
            }),
        // A large list: hashed, not scanned.
        (
            proptest::collection::vec(proptest::option::weighted(0.95, -40i32..40), 9..30),
            any::<bool>(),
            any::<bool>()
        )
            .prop_map(|(values, long, inverted)| Spec::Ints {
                values,
                long,
                inverted
            }),
        (values(-4i32..5), any::<bool>(), any::<bool>()).prop_map(|(values, long, inverted)| {
            Spec::Ints {
                values,
                long,
                inverted,
            }
        }),
        (values(proptest::sample::select(SIZES)), any::<bool>())
            .prop_map(|(values, inverted)| Spec::Doubles { values, inverted }),
        (values(any::<bool>()), any::<bool>())
            .prop_map(|(values, inverted)| Spec::Flags { values, inverted }),
        (values(0..TIMES.len()), any::<bool>())
            .prop_map(|(values, inverted)| Spec::Times { values, inverted }),
        (
            proptest::sample::select(&["=", "==", "!="][..]),
            proptest::option::weighted(0.8, proptest::sample::select(STRINGS))
        )
            .prop_map(|(op, value)| Spec::Equal { op, value }),
        (
            proptest::sample::select(&["=", "!="][..]),
            proptest::sample::select(SIZES)
        )
            .prop_map(|(op, value)| Spec::SizeEqual { op, value }),
        (
            proptest::option::weighted(0.9, -3i32..4),
            proptest::option::weighted(0.9, -3i32..4)
        )
            .prop_map(|(lo, hi)| Spec::QtyRange(lo, hi)),
        (
            proptest::sample::select(&SIZES[..5]),
            proptest::sample::select(&SIZES[..5])
        )
            .prop_map(|(lo, hi)| Spec::SizeRange(lo, hi)),
        (0..TIMES.len(), 0..TIMES.len()).prop_map(|(lo, hi)| Spec::TsRange(lo, hi)),
    ];
    leaf.prop_recursive(2, 4, 2, |inner| {
        prop_oneof![
            (
                inner.clone(),
                prop_oneof![Just(Spec::SizePositive), Just(Spec::QtyAboveOne)]
            )
                .prop_map(|(a, b)| Spec::And(Box::new(a), Box::new(b))),
            (
                prop_oneof![Just(Spec::SizePositive), Just(Spec::QtyAboveOne)],
                inner.clone()
            )
                .prop_map(|(a, b)| Spec::Or(Box::new(a), Box::new(b))),
            (inner.clone(), inner).prop_map(|(a, b)| Spec::And(Box::new(a), Box::new(b))),
        ]
    })
}

fn sources(engine: &Engine, ring_capacity: usize) -> [(&'static str, Table); 3] {
    [
        ("append", engine.append_table(schema())),
        ("stream", engine.stream_table(schema())),
        ("ring", engine.ring_table(schema(), ring_capacity)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Each `where` of one or two random match filters equals the rows of its source that
    /// satisfy them, after every cycle.
    #[test]
    fn match_filters_equal_a_recomputation_after_every_cycle(
        filters in proptest::collection::vec(proptest::collection::vec(arb_spec(), 1..3), 1..4),
        cycles in proptest::collection::vec(proptest::collection::vec(arb_row(), 0..30), 1..10),
        ring_capacity in 1usize..40,
    ) {
        let engine = Engine::new();
        let sources = sources(&engine, ring_capacity);
        let mut built = Vec::new();
        for (name, source) in &sources {
            for specs in &filters {
                let texts: Vec<String> = specs.iter().map(Spec::text).collect();
                let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
                let table = source
                    .where_with(&refs, &variables())
                    .map_err(|e| TestCaseError::fail(format!("{texts:?}: {e}")))?;
                built.push((*name, specs, texts, table));
            }
        }
        let mut everything: Vec<Row> = Vec::new();
        for rows in &cycles {
            let batch = Batch::from_rows(&schema(), rows).unwrap();
            for (_, source) in &sources {
                source.add(batch.clone()).unwrap();
            }
            engine.run_cycle().unwrap();
            everything.extend(rows.iter().cloned());
            let ring_rows = &everything[everything.len().saturating_sub(ring_capacity)..];
            for (source, specs, texts, table) in &built {
                let input: &[Row] = match *source {
                    "append" => &everything,
                    "stream" => rows,
                    _ => ring_rows,
                };
                let want: Vec<Row> = input
                    .iter()
                    .filter(|r| specs.iter().all(|s| s.holds(r)))
                    .cloned()
                    .collect();
                assert_rows_eq(&table.all_rows(), &want, &format!("{source}.where({texts:?})"))?;
            }
        }
    }
}

/// The rows a time-dependent `where` holds: in the source's order, its current rows that passed
/// when they arrived and pass at `now`.
fn window(current: &[(Row, bool)], passes_now: impl Fn(&Row) -> bool) -> Vec<Row> {
    current
        .iter()
        .filter(|(r, p)| *p && passes_now(r))
        .map(|(r, _)| r.clone())
        .collect()
}

/// An aggregation's rows in key order (its group order depends on its history).
fn by_key(mut rows: Vec<Row>) -> Vec<Row> {
    rows.sort_by_key(|r| format!("{:?}", r[0]));
    rows
}

fn window_aggs() -> [Agg; 4] {
    [
        Agg::count("N"),
        Agg::sum("Qty"),
        Agg::max("MaxQty = Qty"),
        Agg::last("Instrument"),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// `where("Ts >= now()")` (and with a match filter besides) as the clock advances (or stays)
    /// every cycle, rows in time order or not: after every cycle the table is exactly, in the
    /// source's order, the source's rows that passed when they arrived and pass now; a `countBy`
    /// and an `aggBy` below take back the rows that leave, wherever they were. In time order the
    /// rows leave from the front (a FIFO update).
    #[test]
    fn a_where_on_now_holds_exactly_the_rows_that_still_pass(
        cycles in proptest::collection::vec(
            (proptest::collection::vec(arb_row(), 0..20), 0i64..150),
            1..14,
        ),
        ordered in any::<bool>(),
        ring_capacity in 1usize..40,
        start in -100i64..100,
    ) {
        let engine = Engine::new();
        engine.set_clock(start);
        let sources = sources(&engine, ring_capacity);
        let filters: [&[&str]; 3] = [
            &["Ts >= now()"],
            &["Exchange icase in `kraken`, `gemini` && Ts >= now()"],
            &["Size > 0", "inRange(Ts, now(), t4)"],
        ];
        let predicates: [fn(&Row, i64) -> bool; 3] = [
            |r, now| matches!(r[TS], Value::Timestamp(t) if t >= now),
            |r, now| {
                let ex = matches!(&r[EXCHANGE], Value::String(s) if ["kraken", "gemini"].contains(&fold(s).as_str()));
                ex && matches!(r[TS], Value::Timestamp(t) if t >= now)
            },
            |r, now| {
                matches!(r[SIZE], Value::F64(x) if x > 0.0)
                    && matches!(r[TS], Value::Timestamp(t) if now <= t && t <= 999)
            },
        ];
        let mut built = Vec::new();
        for (name, source) in &sources {
            for (f, filter) in filters.iter().enumerate() {
                let table = source.where_with(filter, &variables()).unwrap();
                let counts = table.count_by("N", &["Exchange"]).unwrap();
                let aggs = table.agg_by(&window_aggs(), &["Exchange"]).unwrap();
                built.push((*name, f, table, counts, aggs, Vec::<Row>::new()));
            }
        }
        // Each row with whether it passed each filter when it arrived.
        let mut everything: Vec<(Row, [bool; 3])> = Vec::new();
        let mut now = start;
        let mut next_time = 0;
        for (rows, step) in &cycles {
            now += step;
            engine.set_clock(now);
            let mut rows = rows.clone();
            if ordered {
                for r in rows.iter_mut().filter(|r| !r[TS].is_null()) {
                    next_time += 7;
                    r[TS] = Value::Timestamp(next_time);
                }
            }
            let batch = Batch::from_rows(&schema(), &rows).unwrap();
            for (_, source) in &sources {
                source.add(batch.clone()).unwrap();
            }
            engine.run_cycle().unwrap();
            let arrived = everything.len();
            everything.extend(rows.iter().map(|r| {
                (r.clone(), [0, 1, 2].map(|f| predicates[f](r, now)))
            }));
            let ring_from = everything.len().saturating_sub(ring_capacity);
            for (source, f, table, counts, aggs, seen) in &mut built {
                let input = match *source {
                    "append" => &everything[..],
                    "stream" => &everything[arrived..],
                    _ => &everything[ring_from..],
                };
                let current: Vec<(Row, bool)> =
                    input.iter().map(|(r, p)| (r.clone(), p[*f])).collect();
                let want = window(&current, |r| predicates[*f](r, now));
                let what = format!("{source}.where({:?}) at {now}", filters[*f]);
                assert_rows_eq(&table.all_rows(), &want, &what)?;
                if ordered {
                    let update = table.last_update();
                    prop_assert!(
                        !matches!(update, Some(crate::Update::Keyed { .. })),
                        "{}: in time order rows leave from the front, got {:?}", what, update
                    );
                }
                // Over a stream (blink), aggregations cover every row the table ever held.
                let covered: &[Row] = if *source == "stream" {
                    seen.extend(want.iter().cloned());
                    seen
                } else {
                    &want
                };
                let mut got = counts.all_rows();
                got.retain(|r| r[1] != Value::I64(0));
                let by = reference(covered, &["Exchange"], &[Agg::count("N")]);
                assert_rows_eq(&by_key(got), &by_key(by), &format!("{what}.countBy"))?;
                let by = reference(covered, &["Exchange"], &window_aggs());
                assert_rows_eq(&by_key(aggs.all_rows()), &by_key(by), &format!("{what}.aggBy"))?;
            }
        }
    }
}

#[test]
fn a_where_on_now_runs_when_only_the_clock_moves_and_is_blink_over_a_stream() {
    let engine = Engine::new();
    engine.set_clock(100);
    let append = engine.append_table(schema());
    let stream = engine.stream_table(schema());
    let rows: Vec<Row> = [100, 200, 300]
        .iter()
        .map(|&t| {
            let mut r = vec![Value::Null; 6];
            r[TS] = Value::Timestamp(t);
            r
        })
        .collect();
    let batch = Batch::from_rows(&schema(), &rows).unwrap();
    append.add(batch.clone()).unwrap();
    stream.add(batch).unwrap();
    let recent = append.where_(&["Ts >= now()"]).unwrap();
    let recent_stream = stream.where_(&["Ts >= now()"]).unwrap();
    assert!(recent_stream.is_blink());
    assert!(!recent.is_blink());
    engine.run_cycle().unwrap();
    assert_eq!(recent.size(), 3);
    // No new rows: the clock alone moves the window.
    engine.set_clock(201);
    engine.run_cycle().unwrap();
    assert_eq!(recent.size(), 1);
    assert_eq!(
        recent.last_update(),
        Some(crate::Update::Fifo {
            removed: 2,
            added: 0
        })
    );
    assert_eq!(recent.get("Ts", 0).unwrap(), Value::Timestamp(300));
    engine.set_clock(202);
    engine.run_cycle().unwrap();
    assert_eq!(recent.last_update(), None);
    engine.set_clock(301);
    engine.run_cycle().unwrap();
    assert_eq!(recent.size(), 0);
}

#[test]
fn a_where_on_now_cannot_read_row_positions() {
    let engine = Engine::new();
    let t = engine.append_table(schema());
    let Err(e) = t.where_(&["Ts >= now() && i > 2"]) else {
        panic!("i in a filter on now() should be refused");
    };
    assert!(e.to_string().contains("a filter that calls now()"), "{e}");
    // Without now(), i is a row's position as before.
    assert!(t.where_(&["i > 2"]).is_ok());
    // In a view, now() is evaluated once, as rows arrive.
    engine.set_clock(7);
    let v = t.update_view(&["Seen = now()", "P = i"]).unwrap();
    t.add(Batch::from_rows(&schema(), &[vec![Value::Null; 6]]).unwrap())
        .unwrap();
    engine.run_cycle().unwrap();
    engine.set_clock(8);
    engine.run_cycle().unwrap();
    assert_eq!(v.get("Seen", 0).unwrap(), Value::Timestamp(7));
}

#[test]
fn a_match_follows_a_string_column_from_dictionary_to_plain_storage() {
    use crate::column::ColumnType;
    use crate::table::Schema;
    let schema = Schema::of(&[("S", ColumnType::String)]).unwrap();
    let engine = Engine::new();
    let append = engine.append_table(schema.clone());
    let ring = engine.ring_table(schema.clone(), 700);
    let picked = ["x5", "x900", "X2999", "x2999"];
    let tables: Vec<(Table, Table)> = [&append, &ring]
        .iter()
        .map(|t| {
            (
                t.where_(&["S in `x5`, `x900`, `X2999`"]).unwrap(),
                t.where_(&["S icase not in `x5`, `x900`, `X2999`"]).unwrap(),
            )
        })
        .collect();
    let mut all: Vec<String> = Vec::new();
    // Every string distinct: past 1,024 entries the column turns plain.
    for cycle in 0..6 {
        let rows: Vec<Row> = (cycle * 500..(cycle + 1) * 500)
            .map(|i| vec![Value::String(format!("x{i}"))])
            .collect();
        all.extend((cycle * 500..(cycle + 1) * 500).map(|i| format!("x{i}")));
        let batch = Batch::from_rows(&schema, &rows).unwrap();
        append.add(batch.clone()).unwrap();
        ring.add(batch).unwrap();
        engine.run_cycle().unwrap();
        if cycle == 0 {
            assert!(is_dictionary(&append));
        }
        for ((hits, misses), current) in tables
            .iter()
            .zip([&all[..], &all[all.len().saturating_sub(700)..]])
        {
            let want: Vec<Row> = current
                .iter()
                .filter(|s| picked[..3].contains(&s.as_str()))
                .map(|s| vec![Value::String(s.clone())])
                .collect();
            assert_eq!(hits.all_rows(), want, "cycle {cycle}");
            let unpicked = current
                .iter()
                .filter(|s| !picked.contains(&s.as_str()))
                .count();
            assert_eq!(misses.size(), unpicked, "cycle {cycle}");
        }
    }
    // Both storages were crossed: a dictionary at first, plain strings by the end.
    assert!(!is_dictionary(&append));
}

fn is_dictionary(t: &Table) -> bool {
    match &t.node.borrow().data.columns[0] {
        crate::column::Column::String(c) => c.is_dictionary(),
        _ => false,
    }
}

/// Rows of [`schema`] with only an `Exchange` and a `Ts`.
fn stamped(rows: &[(&str, i64)]) -> Vec<Row> {
    rows.iter()
        .map(|&(e, t)| {
            let mut r = vec![Value::Null; 6];
            r[EXCHANGE] = Value::String(e.into());
            r[TS] = Value::Timestamp(t);
            r
        })
        .collect()
}

#[test]
fn rows_aging_out_of_the_middle_rewrite_the_where_and_the_tables_below_follow() {
    let engine = Engine::new();
    engine.set_clock(50);
    let trades = engine.append_table(schema());
    let rows = stamped(&[("a", 300), ("b", 100), ("c", 200), ("d", 400)]);
    trades
        .add(Batch::from_rows(&schema(), &rows).unwrap())
        .unwrap();
    let recent = trades.where_(&["Ts >= now()"]).unwrap();
    let sorted = recent.sort(&["Ts"]).unwrap();
    let viewed = recent.view(&["Exchange", "T = Ts"]).unwrap();
    let kept = recent.where_(&["Exchange != `d`"]).unwrap();
    let dropped = recent.drop_stream().unwrap();
    let counts = recent.count_by("N", &["Exchange"]).unwrap();
    let names = engine.append_table(Schema::of(&[("Exchange", ColumnType::String)]).unwrap());
    let letters: Vec<Row> = ["a", "b", "c", "d"]
        .iter()
        .map(|&e| vec![Value::String(e.into())])
        .collect();
    names
        .add(Batch::from_rows(&names.schema(), &letters).unwrap())
        .unwrap();
    let joined = names.natural_join(&recent, &["Exchange"], &["Ts"]).unwrap();
    let heads = recent.head_by(1, &["Exchange"]).unwrap();
    let distinct = recent.select_distinct(&["Exchange"]).unwrap();
    let renamed = recent.rename_columns(&["T = Ts"]).unwrap();
    let present = names.where_in(&recent, &["Exchange"]).unwrap();
    engine.run_cycle().unwrap();
    let ts = |t: &Table, column: &str| -> Vec<Value> {
        (0..t.size()).map(|i| t.get(column, i).unwrap()).collect()
    };
    let at = |times: &[i64]| -> Vec<Value> { times.iter().map(|&t| Value::Timestamp(t)).collect() };
    assert_eq!(ts(&recent, "Ts"), at(&[300, 100, 200, 400]));

    // 100 fails: the second row leaves, so the where is rewritten (new keys after the old).
    engine.set_clock(150);
    engine.run_cycle().unwrap();
    assert_eq!(ts(&recent, "Ts"), at(&[300, 200, 400]));
    assert_eq!(
        recent.last_update(),
        Some(crate::Update::Keyed {
            removed: vec![0, 1, 2, 3],
            added: vec![4, 5, 6],
            modified: Vec::new(),
        })
    );
    assert_eq!(ts(&sorted, "Ts"), at(&[200, 300, 400]));
    assert_eq!(ts(&viewed, "T"), at(&[300, 200, 400]));
    assert_eq!(ts(&kept, "Ts"), at(&[300, 200]));
    assert_eq!(ts(&dropped, "Ts"), at(&[300, 200, 400]));
    assert_eq!(counts.size(), 3);
    assert_eq!(heads.size(), 3);
    assert_eq!(distinct.size(), 3);
    assert_eq!(ts(&renamed, "T"), at(&[300, 200, 400]));
    let letters = |t: &Table| -> Vec<Value> {
        (0..t.size())
            .map(|i| t.get("Exchange", i).unwrap())
            .collect()
    };
    let strings =
        |s: &[&str]| -> Vec<Value> { s.iter().map(|&e| Value::String(e.into())).collect() };
    assert_eq!(letters(&present), strings(&["a", "c", "d"]));
    assert_eq!(
        ts(&joined, "Ts"),
        vec![
            Value::Timestamp(300),
            Value::Null,
            Value::Timestamp(200),
            Value::Timestamp(400)
        ]
    );

    // New rows arrive out of order while 200 leaves from the middle again.
    engine.set_clock(250);
    trades
        .add(Batch::from_rows(&schema(), &stamped(&[("e", 260), ("b", 900)])).unwrap())
        .unwrap();
    engine.run_cycle().unwrap();
    assert_eq!(ts(&recent, "Ts"), at(&[300, 400, 260, 900]));
    assert_eq!(ts(&sorted, "Ts"), at(&[260, 300, 400, 900]));
    assert_eq!(ts(&kept, "Ts"), at(&[300, 260, 900]));
    assert_eq!(ts(&dropped, "Ts"), at(&[300, 400, 260, 900]));
    assert_eq!(counts.size(), 4);
    assert_eq!(heads.size(), 4);
    assert_eq!(distinct.size(), 4);
    assert_eq!(ts(&renamed, "T"), at(&[300, 400, 260, 900]));
    assert_eq!(letters(&present), strings(&["a", "b", "d"]));
    assert_eq!(
        ts(&joined, "Ts"),
        vec![
            Value::Timestamp(300),
            Value::Timestamp(900),
            Value::Null,
            Value::Timestamp(400)
        ]
    );

    // The clock stays: nothing is checked again, nothing changes.
    engine.run_cycle().unwrap();
    assert_eq!(recent.last_update(), None);

    // 300 and 260 fail: not a prefix (400 is between them), so a rewrite; then a prefix.
    engine.set_clock(350);
    engine.run_cycle().unwrap();
    assert_eq!(ts(&recent, "Ts"), at(&[400, 900]));
    assert!(matches!(
        recent.last_update(),
        Some(crate::Update::Keyed { .. })
    ));
    engine.set_clock(500);
    engine.run_cycle().unwrap();
    assert_eq!(ts(&recent, "Ts"), at(&[900]));
    assert_eq!(
        recent.last_update(),
        Some(crate::Update::Fifo {
            removed: 1,
            added: 0
        })
    );
    assert_eq!(ts(&sorted, "Ts"), at(&[900]));
    assert_eq!(ts(&dropped, "Ts"), at(&[900]));
    assert_eq!(counts.size(), 1);
    assert_eq!(heads.size(), 1);
    assert_eq!(distinct.size(), 1);
    assert_eq!(letters(&present), strings(&["b"]));
}
