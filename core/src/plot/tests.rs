//! `Table::plot` on tables: series per `by` key and value column, decimation bounds, and errors.

use super::*;
use crate::table::{Batch, Engine, Schema};
use std::collections::BTreeMap;

fn trades(rows: i64) -> (Engine, Table) {
    let engine = Engine::new();
    let schema = Schema::of(&[
        ("Ts", ColumnType::Timestamp),
        ("Sym", ColumnType::String),
        ("Price", ColumnType::F64),
        ("Size", ColumnType::I64),
    ])
    .unwrap();
    let table = engine.append_table(schema.clone());
    let data: Vec<Vec<Value>> = (0..rows)
        .map(|i| {
            vec![
                Value::Timestamp(1_700_000_000_000_000_000 + i * 1_000_000),
                Value::String(["A", "B", "C"][(i % 3) as usize].into()),
                if i % 17 == 5 {
                    Value::Null
                } else {
                    Value::F64((i % 101) as f64 * 0.5)
                },
                Value::I64(i % 7),
            ]
        })
        .collect();
    table
        .add(Batch::from_rows(&schema, &data).unwrap())
        .unwrap();
    engine.run_cycle().unwrap();
    (engine, table)
}

fn spec<'a>(
    kind: PlotKind,
    x: &'a str,
    values: &[&'a str],
    by: &[&'a str],
    width: usize,
) -> PlotSpec<'a> {
    PlotSpec {
        kind,
        x,
        values: values.to_vec(),
        by: by.to_vec(),
        width,
    }
}

#[test]
fn one_series_per_key_with_every_row_when_few() {
    let (_engine, table) = trades(300);
    let plot = table
        .plot(&spec(PlotKind::Points, "Ts", &["Price"], &["Sym"], 100))
        .unwrap();
    assert_eq!(plot.x_type, ColumnType::Timestamp);
    assert_eq!(plot.rows, 300);
    // Reference: the non-null prices of each symbol, counted from the rows.
    let mut expected: BTreeMap<String, usize> = BTreeMap::new();
    for row in table.all_rows() {
        if let (Value::String(s), Value::F64(_)) = (&row[1], &row[2]) {
            *expected.entry(s.clone()).or_default() += 1;
        }
    }
    let got: BTreeMap<String, usize> = plot
        .series
        .iter()
        .map(|s| (s.key[0].to_string(), s.x.len()))
        .collect();
    assert_eq!(got, expected);
    for s in &plot.series {
        assert_eq!(s.rows, s.x.len());
        assert!(s.x.windows(2).all(|w| w[0] <= w[1]));
    }
}

#[test]
fn a_large_series_is_decimated_to_four_points_per_pixel() {
    let (_engine, table) = trades(20_000);
    let plot = table
        .plot(&spec(
            PlotKind::Points,
            "Ts",
            &["Price", "Size"],
            &["Sym"],
            50,
        ))
        .unwrap();
    assert_eq!(plot.series.len(), 6);
    for s in &plot.series {
        assert!(s.x.len() <= 200, "{} points", s.x.len());
        assert!(s.rows > 6_000);
        // The extremes of the series survive.
        let ys = &s.values[0];
        let max = ys.iter().copied().fold(f64::MIN, f64::max);
        assert_eq!(max, if s.column == "Price" { 50.0 } else { 6.0 });
    }
}

#[test]
fn a_histogram_counts_every_non_null_value() {
    let (_engine, table) = trades(1_000);
    let plot = table
        .plot(&spec(PlotKind::Histogram, "Price", &[], &[], 10))
        .unwrap();
    assert_eq!(plot.series.len(), 1);
    let counts = &plot.series[0].values[0];
    assert_eq!(counts.len(), 10);
    let non_null = table.all_rows().iter().filter(|r| !r[2].is_null()).count();
    assert_eq!(counts.iter().sum::<f64>() as usize, non_null);
}

#[test]
fn ohlc_bars_are_the_rows_when_few() {
    let (_engine, table) = trades(30);
    let plot = table
        .plot(&spec(
            PlotKind::Ohlc,
            "Ts",
            &["Size", "Price", "Size", "Size"],
            &[],
            100,
        ))
        .unwrap();
    // Rows with a null price are left out.
    let kept = table.all_rows().iter().filter(|r| !r[2].is_null()).count();
    assert_eq!(plot.series[0].x.len(), kept);
    assert_eq!(plot.series[0].values.len(), 4);
}

#[test]
fn a_string_x_is_plotted_by_category() {
    let (_engine, table) = trades(9);
    let plot = table
        .plot(&spec(PlotKind::Points, "Sym", &["Size"], &[], 100))
        .unwrap();
    assert_eq!(plot.categories, ["A", "B", "C"]);
    assert_eq!(plot.series[0].x.len(), 9);
}

#[test]
fn errors_name_the_column_and_what_is_wrong() {
    let (engine, table) = trades(100);
    let err = |s: PlotSpec| table.plot(&s).unwrap_err().to_string();
    assert!(err(spec(PlotKind::Points, "Nope", &["Price"], &[], 10)).contains("Nope"));
    let e = err(spec(PlotKind::Points, "Ts", &["Sym"], &[], 10));
    assert!(e.contains("Sym is a string column"), "{e}");
    assert!(err(spec(PlotKind::Points, "Ts", &[], &[], 10)).contains("y column"));
    assert!(err(spec(PlotKind::Histogram, "Sym", &[], &[], 10)).contains("string"));
    // More than MAX_SERIES keys.
    let wide = table.update(&["K = Ts"]).unwrap();
    engine.run_cycle().unwrap();
    let e = wide
        .plot(&spec(PlotKind::Points, "Ts", &["Price"], &["K"], 10))
        .map(|_| ())
        .unwrap_err()
        .to_string();
    assert!(e.contains("100 series") && e.contains("at most 64"), "{e}");
}
