//! The double sums' rebuild (`window.rs`): a rolling sum, average, standard deviation or
//! weighted average whose window and the window before it hold values of one scale is exact,
//! bit for bit, whatever values of other scales went through the window earlier (their rounding
//! residue goes when the sums are rebuilt from the window's rows). Over append, stream and ring
//! sources, in random cycles.

use proptest::prelude::*;

use super::tests::over_x;
use super::{UpdateBy, UpdateByKind, UpdateByWindow};
use crate::ColumnType;
use crate::column::Value;
use crate::table::{Batch, Engine, Schema};

#[test]
fn a_rolling_std_of_zeros_after_large_values_is_exactly_zero() {
    // 1,000 values near 1e6 (whose squares' low parts round), then 100,000 zeros: the std and
    // the sum of a window of zeros read 0, not a residue growing with the rows rolled through.
    let xs: Vec<Option<f64>> = (0..1_000)
        .map(|k| Some(1e6 + f64::from(k) / 7.0))
        .chain((0..100_000).map(|_| Some(0.0)))
        .collect();
    let ts = vec![None; xs.len()];
    for kind in [UpdateByKind::Std, UpdateByKind::Sum, UpdateByKind::Avg] {
        let op = UpdateBy::rolling(kind, UpdateByWindow::ticks(100, 0), &["Out = X"]);
        let got = over_x(&ts, &xs, op);
        // Two windows after the last large value, every value is exactly 0.
        let late = &got[1_000 + 200..];
        assert!(
            late.iter().all(|v| *v == Some(0.0)),
            "{kind:?}: {:?}",
            late.iter().find(|v| **v != Some(0.0))
        );
    }
}

/// A row: its group, its value (`None`: null; `Ok`: a small integer; `Err`: one of a few values
/// of other scales), its weight.
type Row = (bool, Option<Result<i8, u8>>, u8);

fn schema() -> Schema {
    Schema::of(&[
        ("K", ColumnType::String),
        ("X", ColumnType::F64),
        ("W", ColumnType::F64),
    ])
    .unwrap()
}

fn x_of(x: Option<Result<i8, u8>>) -> Option<f64> {
    const OTHER: [f64; 4] = [1.1e6, 3e-3, 123_456.789, -7e5 / 3.0];
    x.map(|x| match x {
        Ok(i) => f64::from(i),
        Err(k) => OTHER[usize::from(k) % OTHER.len()],
    })
}

fn arb_row() -> impl Strategy<Value = Row> {
    let x = prop_oneof![
        1 => Just(None),
        5 => (-9i8..10).prop_map(|i| Some(Ok(i))),
        2 => any::<u8>().prop_map(|k| Some(Err(k))),
    ];
    (any::<bool>(), x, 1u8..5)
}

/// The exact values of sum, avg, std and wAvg over a window of small integers (value, weight).
fn exact(window: &[(i64, i64)]) -> [Option<f64>; 4] {
    let n = window.len() as i64;
    if n == 0 {
        return [None; 4];
    }
    let (s, q) = window
        .iter()
        .fold((0, 0), |(s, q), (x, _)| (s + x, q + x * x));
    let (xw, w) = window
        .iter()
        .fold((0, 0), |(a, b), (x, w)| (a + x * w, b + w));
    let std = match n {
        1 => f64::NAN,
        _ => ((n * q - s * s) as f64 / (n as f64 * (n as f64 - 1.0))).sqrt(),
    };
    [
        Some(s as f64),
        Some(s as f64 / n as f64),
        Some(std),
        Some(xw as f64 / w as f64),
    ]
}

fn same(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()),
        (a, b) => a == b,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn rolling_sums_are_exact_two_windows_after_other_scales(
        cycles in proptest::collection::vec(proptest::collection::vec(arb_row(), 0..40), 1..8),
        len in 1i64..7,
        capacity in 1usize..80,
    ) {
        let window = UpdateByWindow::ticks(len, 0);
        let ops = [
            UpdateBy::rolling_sum(window.clone(), &["S = X"]),
            UpdateBy::rolling_avg(window.clone(), &["A = X"]),
            UpdateBy::rolling(UpdateByKind::Std, window.clone(), &["D = X"]),
            UpdateBy::rolling_wavg(window, "W", &["V = X"]),
        ];
        let engine = Engine::new();
        let sources = [
            ("append", engine.append_table(schema())),
            ("stream", engine.stream_table(schema())),
            ("ring", engine.ring_table(schema(), capacity)),
        ];
        let derived: Vec<_> = sources
            .iter()
            .map(|(_, s)| s.update_by(&ops, &["K"]).unwrap())
            .collect();
        let mut ever: Vec<Row> = Vec::new();
        for rows in &cycles {
            let batch: Vec<Vec<Value>> = rows
                .iter()
                .map(|&(k, x, w)| {
                    vec![
                        Value::String(if k { "a" } else { "b" }.into()),
                        x_of(x).map_or(Value::Null, Value::F64),
                        Value::F64(f64::from(w)),
                    ]
                })
                .collect();
            let batch = Batch::from_rows(&schema(), &batch).unwrap();
            for (_, source) in &sources {
                source.add(batch.clone()).unwrap();
            }
            engine.run_cycle().unwrap();
            ever.extend(rows.iter().copied());
            for ((name, _), table) in sources.iter().zip(&derived) {
                prop_assert!(table.error().is_none(), "{}: {:?}", name, table.error());
                let (first, shown) = match *name {
                    "append" => (0, 0),
                    "stream" => (0, ever.len() - rows.len()),
                    _ => {
                        let first = ever.len().saturating_sub(capacity);
                        (first, first)
                    }
                };
                let got = table.all_rows();
                prop_assert_eq!(got.len(), ever.len() - shown, "{}: rows", name);
                for (i, row) in got.iter().enumerate() {
                    let r = shown + i;
                    let group: Vec<usize> =
                        (0..=r).filter(|&j| ever[j].0 == ever[r].0).collect();
                    // The group's last two windows hold no value of another scale.
                    let recent = &group[group.len().saturating_sub(2 * len as usize)..];
                    if recent.iter().any(|&j| matches!(ever[j].1, Some(Err(_)))) {
                        continue;
                    }
                    let held: Vec<(i64, i64)> = group[group.len().saturating_sub(len as usize)..]
                        .iter()
                        .filter(|&&j| j >= first)
                        .filter_map(|&j| match ever[j].1 {
                            Some(Ok(x)) => Some((i64::from(x), i64::from(ever[j].2))),
                            _ => None,
                        })
                        .collect();
                    let want = exact(&held);
                    let got: Vec<Option<f64>> = row[3..]
                        .iter()
                        .map(|v| match v {
                            Value::F64(x) => Some(*x),
                            _ => None,
                        })
                        .collect();
                    for (c, (g, w)) in got.iter().zip(want).enumerate() {
                        prop_assert!(same(*g, w), "{} row {} column {}: {:?} != {:?}", name, r, c, g, w);
                    }
                }
            }
        }
    }
}
