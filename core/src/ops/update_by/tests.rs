//! `updateBy`: after every cycle, each derived table equals the same operations computed from
//! scratch, row by row over each row's whole window (no sliding), over exactly the rows the
//! semantics cover: the parent's rows (append, ring, dropStream), or every row ever seen (a
//! blink parent, whose output holds this cycle's rows). Random cycles, keys, nulls and NaNs.

use proptest::prelude::*;

use super::{BadData, DeltaControl, OperationControl, UpdateBy, UpdateByKind, UpdateByWindow};
use crate::column::Value;
use crate::ops::tests::{Row, arb_row, column, schema};
use crate::table::{Batch, Engine, Update};

pub(super) const KEY_SETS: &[&[&str]] =
    &[&[], &["Instrument"], &["Exchange", "Instrument"], &["Flag"]];

/// A value as a double (null: `None`).
fn num(v: &Value) -> Option<f64> {
    match v {
        Value::F64(x) => Some(*x),
        Value::I32(x) => Some(f64::from(*x)),
        Value::I64(x) | Value::Timestamp(x) => Some(*x as f64),
        _ => None,
    }
}

fn int(v: &Value) -> Option<i64> {
    match v {
        Value::I32(x) => Some(i64::from(*x)),
        Value::I64(x) | Value::Timestamp(x) => Some(*x),
        _ => None,
    }
}

fn ts(row: &Row) -> Option<i64> {
    int(&row[column("Ts")])
}

/// Deephaven's order for Min/Max: doubles by `f64_order_key`, the rest as they are.
fn order(v: &Value) -> i128 {
    match v {
        Value::F64(x) => i128::from(crate::column::f64_order_key(*x)),
        other => i128::from(int(other).unwrap_or(0)),
    }
}

/// The positions `lo .. hi` of row `p`'s window in its group's rows `seq` (in time order, as a
/// time window needs them within each group).
fn window_range(seq: &[&Row], p: usize, w: &UpdateByWindow) -> (usize, usize) {
    match w {
        UpdateByWindow::Ticks { rev, fwd } => {
            let (p, n) = (p as i64, seq.len() as i64);
            let lo = (p - rev + 1).clamp(0, n);
            let hi = (p + fwd + 1).clamp(lo, n);
            (lo as usize, hi as usize)
        }
        UpdateByWindow::Time { rev, fwd, .. } => {
            // In `i128`: a bound past the longs' ends is no stamp's.
            let stamp = |r: &Row| i128::from(ts(r).unwrap_or(i64::MIN));
            let t = stamp(seq[p]);
            let lo = seq.partition_point(|r| stamp(r) < t - i128::from(*rev));
            let hi = seq.partition_point(|r| stamp(r) <= t + i128::from(*fwd));
            (lo, hi.max(lo))
        }
        _ => (0, p + 1),
    }
}

/// One operation's value over `rows` (a window), the plain way; `(value, tolerance)`.
pub(super) fn fold(op: &UpdateBy, input: usize, rows: &[&Row], float: bool) -> (Value, f64) {
    let values: Vec<&Value> = rows.iter().map(|r| &r[input]).collect();
    let present: Vec<&Value> = values.iter().copied().filter(|v| !v.is_null()).collect();
    let xs: Vec<f64> = present.iter().filter_map(|v| num(v)).collect();
    let tol = 1e-9 * xs.iter().map(|x| x.abs()).fold(1.0, f64::max);
    let cumulative = op.window == UpdateByWindow::Cumulative;
    let value = match op.kind {
        UpdateByKind::Sum if present.is_empty() => Value::Null,
        UpdateByKind::Sum if float => Value::F64(xs.iter().sum()),
        UpdateByKind::Sum => Value::I64(present.iter().filter_map(|v| int(v)).sum()),
        UpdateByKind::Product if present.is_empty() => Value::Null,
        UpdateByKind::Product if float || !cumulative => Value::F64(xs.iter().product()),
        UpdateByKind::Product => Value::I64(
            present
                .iter()
                .filter_map(|v| int(v))
                .fold(1i64, i64::wrapping_mul),
        ),
        UpdateByKind::Min => present
            .iter()
            .copied()
            .min_by_key(|v| order(v))
            .cloned()
            .unwrap_or(Value::Null),
        UpdateByKind::Max => present
            .iter()
            .copied()
            .rev()
            .max_by_key(|v| order(v))
            .cloned()
            .unwrap_or(Value::Null),
        UpdateByKind::Avg if xs.is_empty() => Value::Null,
        UpdateByKind::Avg => Value::F64(xs.iter().sum::<f64>() / xs.len() as f64),
        UpdateByKind::Count => Value::I64(present.len() as i64),
        UpdateByKind::Std => match xs.len() {
            0 => Value::Null,
            1 => Value::F64(f64::NAN),
            n => {
                let mean = xs.iter().sum::<f64>() / n as f64;
                let ss: f64 = xs.iter().map(|x| (x - mean) * (x - mean)).sum();
                let std = (ss / (n - 1) as f64).sqrt();
                let largest = xs.iter().fold(0.0f64, |m, x| m.max(x.abs()));
                // The engine's difference in double-double leaves rounding of the result alone
                // (and of the reference's mean): not a rounding of Σx², as a plain sum would.
                return (Value::F64(std), 1e-9 * std + 1e-12 * largest + tol);
            }
        },
        UpdateByKind::WAvg => {
            let w = column(op.weight.as_deref().unwrap());
            let pairs: Vec<(f64, f64)> = rows
                .iter()
                .filter_map(|r| Some((num(&r[input])?, num(&r[w])?)))
                .collect();
            if pairs.is_empty() {
                Value::Null
            } else {
                let num: f64 = pairs.iter().map(|(x, w)| x * w).sum();
                let den: f64 = pairs.iter().map(|(_, w)| w).sum();
                let scale = pairs
                    .iter()
                    .map(|(x, w)| (x * w).abs())
                    .sum::<f64>()
                    .max(1.0);
                return (Value::F64(num / den), 1e-9 * scale / den.abs().max(1e-300));
            }
        }
        UpdateByKind::Group => Value::Array(values.into_iter().cloned().collect()),
        UpdateByKind::Fill => present.last().copied().cloned().unwrap_or(Value::Null),
        UpdateByKind::Delta => {
            let cur = values[values.len() - 1];
            let prev = values
                .len()
                .checked_sub(2)
                .map_or(&Value::Null, |i| values[i]);
            match (cur, prev) {
                (Value::Null, _) => Value::Null,
                (c, Value::Null) => match op.delta {
                    DeltaControl::NullDominates => Value::Null,
                    DeltaControl::ValueDominates => c.clone(),
                    DeltaControl::ZeroDominates => match c {
                        Value::F64(_) => Value::F64(0.0),
                        Value::I32(_) => Value::I32(0),
                        _ => Value::I64(0),
                    },
                },
                (Value::F64(c), Value::F64(p)) => Value::F64(c - p),
                (Value::I32(c), Value::I32(p)) => Value::I32(c.wrapping_sub(*p)),
                (c, p) => Value::I64(int(c).unwrap().wrapping_sub(int(p).unwrap())),
            }
        }
        _ => return exponential(op, input, rows),
    };
    (value, tol)
}

/// The exponential operations over a group's rows up to the row, straight from Deephaven's
/// definitions (`ema_tick`, `ema_time`, ... and `OperationControl`; a timestamp going back is
/// bad data, `THROW` by default: a table that fails is checked apart), with fdlibm's `exp` (the
/// engine's, tested against fdlibm apart).
fn exponential(op: &UpdateBy, input: usize, rows: &[&Row]) -> (Value, f64) {
    let c = op.control;
    let (mut cur, mut ema, mut var, mut stamp): (Option<f64>, Option<f64>, f64, Option<i64>) =
        (None, None, 0.0, None);
    for row in rows {
        let bad = |b: BadData,
                   cur: &mut Option<f64>,
                   ema: &mut Option<f64>,
                   stamp: &mut Option<i64>| match b {
            BadData::Reset => {
                *cur = None;
                *ema = None;
                *stamp = None;
            }
            BadData::Poison => {
                *cur = Some(f64::NAN);
                *ema = Some(f64::NAN);
            }
            _ => {}
        };
        let Some(x) = num(&row[input]) else {
            bad(c.on_null_value, &mut cur, &mut ema, &mut stamp);
            continue;
        };
        if x.is_nan() {
            bad(c.on_nan_value, &mut cur, &mut ema, &mut stamp);
            continue;
        }
        let a = match &op.window {
            UpdateByWindow::DecayTicks { ticks } => crate::exp::exp(-1.0 / ticks),
            UpdateByWindow::DecayTime { time, .. } => {
                let Some(t) = ts(row) else {
                    bad(c.on_null_time, &mut cur, &mut ema, &mut stamp);
                    continue;
                };
                let started = if op.kind == UpdateByKind::EmStd {
                    ema.is_some()
                } else {
                    cur.is_some()
                };
                match stamp {
                    Some(s) if started => {
                        if t == s {
                            bad(c.on_zero_delta_time, &mut cur, &mut ema, &mut stamp);
                            continue;
                        }
                        if t < s {
                            bad(c.on_negative_delta_time, &mut cur, &mut ema, &mut stamp);
                            continue;
                        }
                        stamp = Some(t);
                        crate::exp::exp(-((i128::from(t) - i128::from(s)) as f64) / *time as f64)
                    }
                    _ => {
                        stamp = Some(t);
                        0.0
                    }
                }
            }
            _ => unreachable!(),
        };
        let started = if op.kind == UpdateByKind::EmStd {
            ema.is_some()
        } else {
            cur.is_some()
        };
        if !started {
            cur = Some(if op.kind == UpdateByKind::EmStd {
                f64::NAN
            } else {
                x
            });
            ema = Some(x);
            var = 0.0;
            continue;
        }
        let p = cur.unwrap();
        cur = Some(match op.kind {
            UpdateByKind::Ema => a * p + (1.0 - a) * x,
            UpdateByKind::Ems => a * p + x,
            UpdateByKind::EmMin => (a * p).min(x),
            UpdateByKind::EmMax => (a * p).max(x),
            _ => {
                let e = ema.unwrap();
                var = a * (var + (1.0 - a) * (x - e) * (x - e));
                ema = Some(a * e + (1.0 - a) * x);
                var.sqrt()
            }
        });
    }
    let scale = rows
        .iter()
        .filter_map(|r| num(&r[input]))
        .filter(|x| x.is_finite())
        .fold(1.0, |m, x| f64::max(m, x.abs()));
    (cur.map_or(Value::Null, Value::F64), 1e-9 * scale)
}

/// `updateBy(ops, keys)` from scratch over `covered`: the values of its last `shown` rows, each
/// row followed by one value per (op, pair), with the tolerance of each.
pub(super) fn reference(
    covered: &[Row],
    shown: usize,
    ops: &[UpdateBy],
    keys: &[&str],
) -> Vec<Vec<(Value, f64)>> {
    let key_columns: Vec<usize> = keys.iter().map(|k| column(k)).collect();
    let first_shown = covered.len() - shown;
    let mut out: Vec<Vec<(Value, f64)>> = covered[first_shown..]
        .iter()
        .map(|r| r.iter().map(|v| (v.clone(), 0.0)).collect())
        .collect();
    // The groups, in order of their first row: each group's row numbers.
    let mut tuples: Vec<Vec<&Value>> = Vec::new();
    let mut members: Vec<Vec<usize>> = Vec::new();
    for (i, row) in covered.iter().enumerate() {
        let key: Vec<&Value> = key_columns.iter().map(|&k| &row[k]).collect();
        match tuples.iter().position(|t| *t == key) {
            Some(g) => members[g].push(i),
            None => {
                tuples.push(key);
                members.push(vec![i]);
            }
        }
    }
    for op in ops {
        for pair in &op.pairs {
            let (_, input) = crate::ops::name_pair(pair);
            let input = column(&input);
            let float = schema().fields()[input].ty == crate::ColumnType::F64;
            let time = matches!(op.window, UpdateByWindow::Time { .. });
            let mut values: Vec<(Value, f64)> = vec![(Value::Null, 0.0); covered.len()];
            for rows in &members {
                let rows: Vec<usize> = rows
                    .iter()
                    .copied()
                    .filter(|&i| !time || ts(&covered[i]).is_some())
                    .collect();
                let seq: Vec<&Row> = rows.iter().map(|&i| &covered[i]).collect();
                // `window_range` finds a time window by binary search.
                assert!(
                    !time || seq.windows(2).all(|w| ts(w[0]) <= ts(w[1])),
                    "the reference needs each group's timestamps in order"
                );
                for (p, &i) in rows.iter().enumerate().filter(|&(_, &i)| i >= first_shown) {
                    let (lo, hi) = window_range(&seq, p, &op.window);
                    values[i] = fold(op, input, &seq[lo..hi], float);
                }
            }
            for (i, value) in values.into_iter().enumerate().skip(first_shown) {
                out[i - first_shown].push(value);
            }
        }
    }
    out
}

pub(super) fn close(got: &Value, want: &Value, tol: f64) -> bool {
    match (got, want) {
        (Value::F64(x), Value::F64(y)) => {
            x == y || (x.is_nan() && y.is_nan()) || (x - y).abs() <= tol.max(1e-9 * y.abs())
        }
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| close(x, y, 0.0))
        }
        _ => got == want,
    }
}

/// The same rows, NaN equal to NaN.
fn assert_same_rows(below: &[Row], rows: &[Row]) -> Result<(), TestCaseError> {
    for (b, r) in below.iter().zip(rows) {
        prop_assert!(
            b.iter().zip(r).all(|(x, y)| close(x, y, 0.0)),
            "below: {:?} != {:?}",
            b,
            r
        );
    }
    Ok(())
}

/// Every operation, with its outputs named `O0`, `O1`, ...
fn all_ops() -> Vec<UpdateBy> {
    let mut n = 0;
    let mut pairs = |inputs: &[&str]| -> Vec<String> {
        inputs
            .iter()
            .map(|i| {
                n += 1;
                format!("O{} = {i}", n - 1)
            })
            .collect()
    };
    let mut ops = Vec::new();
    let mut add = |mut op: UpdateBy, inputs: &[&str]| {
        op.pairs = pairs(inputs);
        ops.push(op);
    };
    add(UpdateBy::cum_sum(&[]), &["Size", "Qty"]);
    add(UpdateBy::cum_prod(&[]), &["Size", "Qty"]);
    add(UpdateBy::cum_min(&[]), &["Size", "Qty", "Ts"]);
    add(UpdateBy::cum_max(&[]), &["Size", "Qty"]);
    for control in [
        DeltaControl::NullDominates,
        DeltaControl::ValueDominates,
        DeltaControl::ZeroDominates,
    ] {
        add(UpdateBy::delta(&[], control), &["Size", "Qty"]);
    }
    add(UpdateBy::forward_fill(&[]), &["Exchange", "Size", "Flag"]);
    let rolling = [
        UpdateByKind::Sum,
        UpdateByKind::Avg,
        UpdateByKind::Min,
        UpdateByKind::Max,
        UpdateByKind::Product,
        UpdateByKind::Count,
        UpdateByKind::Std,
        UpdateByKind::Group,
    ];
    let windows = [
        UpdateByWindow::ticks(3, 0),
        UpdateByWindow::ticks(2, 2),
        UpdateByWindow::ticks(-1, 3),
        UpdateByWindow::ticks(5, -2),
        UpdateByWindow::time("Ts", 5, 0),
        UpdateByWindow::time("Ts", 0, 4),
        UpdateByWindow::time("Ts", 10, -3),
        UpdateByWindow::time("Ts", -2, 6),
    ];
    for w in &windows {
        for kind in rolling {
            add(UpdateBy::rolling(kind, w.clone(), &[]), &["Size", "Qty"]);
        }
        add(UpdateBy::rolling_wavg(w.clone(), "Qty", &[]), &["Size"]);
    }
    let reset = OperationControl {
        on_null_value: BadData::Reset,
        on_nan_value: BadData::Poison,
        on_null_time: BadData::Reset,
        on_negative_delta_time: BadData::Throw,
        on_zero_delta_time: BadData::Reset,
    };
    for kind in [
        UpdateByKind::Ema,
        UpdateByKind::Ems,
        UpdateByKind::EmMin,
        UpdateByKind::EmMax,
        UpdateByKind::EmStd,
    ] {
        for control in [OperationControl::default(), reset] {
            for decay in [
                UpdateByWindow::DecayTicks { ticks: 2.5 },
                UpdateByWindow::DecayTime {
                    column: "Ts".into(),
                    time: 4,
                },
            ] {
                add(
                    UpdateBy::exponential(kind, decay, &[], control),
                    &["Size", "Qty"],
                );
            }
        }
    }
    ops
}

/// Rows whose `Ts` never decreases (a time window needs that within each group): each row's
/// timestamp is the last one's plus 0 to 2, or null.
pub(super) fn in_time_order(cycles: &mut [Vec<Row>]) {
    let t = column("Ts");
    let mut now = 0;
    for row in cycles.iter_mut().flatten() {
        if let Value::Timestamp(step) = row[t] {
            now += step % 3;
            row[t] = Value::Timestamp(now);
        }
    }
}

/// Feeds `cycles` to an append, a stream and a ring table, a dropStream of the stream, and checks
/// `ops` by every key set over each after every cycle.
fn check(ops: &[UpdateBy], cycles: &[Vec<Row>], ring_capacity: usize) -> Result<(), TestCaseError> {
    let engine = Engine::new();
    let append = engine.append_table(schema());
    let stream = engine.stream_table(schema());
    let ring = engine.ring_table(schema(), ring_capacity);
    let dropped = stream.drop_stream().unwrap();
    let mut derived = Vec::new();
    for keys in KEY_SETS {
        for (name, source) in [
            ("append", &append),
            ("stream", &stream),
            ("ring", &ring),
            ("dropStream", &dropped),
        ] {
            let table = source.update_by(ops, keys).unwrap();
            // Tables below it follow its updates (appends, rows modified in place, a ring's
            // rows leaving the front).
            let below = table.drop_stream().unwrap();
            let counted = table
                .agg_by(&[crate::Agg::count("N"), crate::Agg::sum("S = Size")], &[])
                .unwrap();
            derived.push((name, *keys, table, below, counted));
        }
    }
    let mut everything: Vec<Row> = Vec::new();
    for rows in cycles {
        let batch = Batch::from_rows(&schema(), rows).unwrap();
        for source in [&append, &stream, &ring] {
            source.add(batch.clone()).unwrap();
        }
        engine.run_cycle().unwrap();
        everything.extend(rows.iter().cloned());
        let ring_rows = &everything[everything.len().saturating_sub(ring_capacity)..];
        for (name, keys, table, below, counted) in &derived {
            let (covered, shown): (&[Row], usize) = match *name {
                "append" => (&everything, everything.len()),
                "stream" => (&everything, rows.len()),
                "ring" => (ring_rows, ring_rows.len()),
                _ => (rows, rows.len()),
            };
            prop_assert!(
                table.error().is_none(),
                "{} by {:?}: {:?}",
                name,
                keys,
                table.error()
            );
            prop_assert_eq!(
                below.all_rows().len(),
                table.size(),
                "{} by {:?}: below",
                name,
                keys
            );
            let want = reference(covered, shown, ops, keys);
            let got = table.all_rows();
            assert_same_rows(&below.all_rows(), &got)?;
            // (A keyless aggregation of no row has no row, or a count of 0.)
            if *name != "stream" && !got.is_empty() {
                let sizes: Vec<f64> = got.iter().filter_map(|r| num(&r[column("Size")])).collect();
                let n = Value::I64(got.len() as i64);
                let sum = if sizes.is_empty() {
                    Value::Null
                } else {
                    Value::F64(sizes.iter().sum())
                };
                let tol = 1e-9 * sizes.iter().map(|x| x.abs()).sum::<f64>().max(1.0);
                let agg = counted.all_rows();
                prop_assert!(
                    agg.len() == 1 && agg[0][0] == n && close(&agg[0][1], &sum, tol),
                    "{} by {:?}: aggBy below: {:?}, want {:?} {:?}",
                    name,
                    keys,
                    agg,
                    n,
                    sum
                );
            }
            prop_assert_eq!(got.len(), want.len(), "{} by {:?}: rows", name, keys);
            for (r, (g, w)) in got.iter().zip(&want).enumerate() {
                for (c, (gv, (wv, tol))) in g.iter().zip(w).enumerate() {
                    prop_assert!(
                        close(gv, wv, *tol),
                        "{} by {:?}, row {}, column {} ({}): {:?} != {:?}\nrow {:?}",
                        name,
                        keys,
                        r,
                        c,
                        table.schema().fields()[c].name,
                        gv,
                        wv,
                        g
                    );
                }
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn update_by_equals_a_recomputation_after_every_cycle(
        mut cycles in proptest::collection::vec(proptest::collection::vec(arb_row(), 0..14), 1..8),
        ring_capacity in 1usize..30,
    ) {
        in_time_order(&mut cycles);
        check(&all_ops(), &cycles, ring_capacity)?;
    }
}

/// A row of the shared schema with an instrument, a size and a timestamp.
fn trade(instrument: &str, size: Option<f64>, ts: i64) -> Row {
    let mut row = vec![Value::Null; schema().len()];
    row[column("Instrument")] = Value::String(instrument.into());
    row[column("Size")] = size.map_or(Value::Null, Value::F64);
    row[column("Ts")] = Value::Timestamp(ts);
    row
}

fn doubles(table: &crate::Table, name: &str) -> Vec<Option<f64>> {
    let c = table.schema().index_of(name).unwrap();
    table
        .all_rows()
        .iter()
        .map(|r| match r[c] {
            Value::F64(x) => Some(x),
            _ => None,
        })
        .collect()
}

/// A weight given to an operation other than `rollingWAvg` is ignored (a row keeps the weight
/// of `rollingWAvg` in its long's place: no other operation may read it there).
#[test]
fn a_weight_given_to_another_operation_is_ignored() {
    let engine = Engine::new();
    let t = engine.append_table(schema());
    let rows: Vec<Row> = (0..300)
        .map(|i| {
            let mut row = trade("BTC/USD", Some(0.5 + i as f64), i);
            row[column("Qty")] = Value::I32(i as i32 * 3 - 7);
            row
        })
        .collect();
    t.add(Batch::from_rows(&schema(), &rows).unwrap()).unwrap();
    let ops = |weight: Option<&str>| {
        [
            UpdateBy::cum_sum(&["S = Qty"]),
            UpdateBy::rolling(UpdateByKind::Max, UpdateByWindow::ticks(4, 0), &["M = Qty"]),
        ]
        .map(|mut op| {
            op.weight = weight.map(str::to_owned);
            op
        })
    };
    let plain = t.update_by(&ops(None), &[]).unwrap();
    let weighted = t.update_by(&ops(Some("Size")), &[]).unwrap();
    engine.run_cycle().unwrap();
    assert!(weighted.error().is_none(), "{:?}", weighted.error());
    assert_eq!(weighted.all_rows(), plain.all_rows());
    let s = plain.schema().index_of("S").unwrap();
    assert_eq!(plain.all_rows()[2][s], Value::I64(-7 - 4 - 1));
}

#[test]
fn tick_windows_count_the_current_row_as_deephaven_does() {
    // Deephaven's `rolling_sum_tick`: rows `r - rev + 1 ..= r + fwd`. `rev = 3`: the row and the
    // two before it; `rev = 0, fwd = 2`: the two rows after it; `rev = -1`: the window starts
    // two rows after the row.
    let engine = Engine::new();
    let t = engine.append_table(schema());
    let rows: Vec<Row> = [1.0, 2.0, 4.0, 8.0, 16.0]
        .iter()
        .enumerate()
        .map(|(i, &s)| trade("BTC/USD", Some(s), i as i64))
        .collect();
    t.add(Batch::from_rows(&schema(), &rows).unwrap()).unwrap();
    let sums = t
        .update_by(
            &[
                UpdateBy::rolling_sum(UpdateByWindow::ticks(3, 0), &["Back3 = Size"]),
                UpdateBy::rolling_sum(UpdateByWindow::ticks(1, 1), &["AndNext = Size"]),
                UpdateBy::rolling_sum(UpdateByWindow::ticks(0, 2), &["NextTwo = Size"]),
                UpdateBy::rolling_sum(UpdateByWindow::ticks(-1, 2), &["Second = Size"]),
            ],
            &["Instrument"],
        )
        .unwrap();
    engine.run_cycle().unwrap();
    let some = |v: &[f64]| v.iter().map(|&x| Some(x)).collect::<Vec<_>>();
    assert_eq!(doubles(&sums, "Back3"), some(&[1.0, 3.0, 7.0, 14.0, 28.0]));
    assert_eq!(
        doubles(&sums, "AndNext"),
        some(&[3.0, 6.0, 12.0, 24.0, 16.0])
    );
    let next_two = doubles(&sums, "NextTwo");
    assert_eq!(next_two[..4], some(&[6.0, 12.0, 24.0, 16.0])[..]);
    assert_eq!(
        next_two[4], None,
        "no row after the last: null, as a sum of nothing"
    );
}

#[test]
fn a_later_row_of_an_equal_timestamp_rewrites_the_earlier_rows_in_place() {
    // Time windows are inclusive at both ends: a row arriving later with the same timestamp is
    // in the earlier row's window, so the earlier row is modified, and the update says so.
    let engine = Engine::new();
    let t = engine.append_table(schema());
    let sums = t
        .update_by(
            &[UpdateBy::rolling_sum(
                UpdateByWindow::time("Ts", 5, 0),
                &["S = Size"],
            )],
            &["Instrument"],
        )
        .unwrap();
    let add = |rows: &[Row]| {
        t.add(Batch::from_rows(&schema(), rows).unwrap()).unwrap();
        engine.run_cycle().unwrap();
    };
    add(&[
        trade("BTC/USD", Some(1.0), 10),
        trade("ETH/USD", Some(5.0), 10),
    ]);
    assert_eq!(
        sums.last_update(),
        Some(Update::Fifo {
            removed: 0,
            added: 2
        })
    );
    add(&[trade("BTC/USD", Some(2.0), 10)]);
    assert_eq!(doubles(&sums, "S"), [Some(3.0), Some(5.0), Some(3.0)]);
    assert_eq!(
        sums.last_update(),
        Some(Update::Keyed {
            removed: vec![],
            added: vec![2],
            modified: vec![0],
        })
    );
    // A later timestamp leaves the earlier rows as they are.
    add(&[trade("BTC/USD", Some(4.0), 16)]);
    assert_eq!(
        doubles(&sums, "S")[3],
        Some(4.0),
        "10 is more than 5 before 16"
    );
    assert_eq!(
        sums.last_update(),
        Some(Update::Fifo {
            removed: 0,
            added: 1
        })
    );
}

#[test]
fn timestamps_going_back_in_a_group_fail_a_time_window_naming_the_column() {
    let engine = Engine::new();
    let t = engine.append_table(schema());
    let avg = t
        .update_by(
            &[UpdateBy::rolling_avg(
                UpdateByWindow::time("Ts", 5, 0),
                &["A = Size"],
            )],
            &["Instrument"],
        )
        .unwrap();
    let ema = t
        .update_by(
            &[UpdateBy::ema_time("Ts", 5, &["E = Size"])],
            &["Instrument"],
        )
        .unwrap();
    let rows = [
        trade("BTC/USD", Some(1.0), 10),
        trade("ETH/USD", Some(1.0), 3),
    ];
    t.add(Batch::from_rows(&schema(), &rows).unwrap()).unwrap();
    engine.run_cycle().unwrap();
    assert!(
        avg.error().is_none() && ema.error().is_none(),
        "other groups may be earlier"
    );
    t.add(Batch::from_rows(&schema(), &[trade("BTC/USD", Some(1.0), 9)]).unwrap())
        .unwrap();
    engine.run_cycle().unwrap();
    let e = avg.error().unwrap();
    assert!(e.contains("Ts") && e.contains("decrease"), "{e}");
    // The exponential operations throw by default too (Deephaven's onNegativeDeltaTime).
    let e = ema.error().unwrap();
    assert!(e.contains("ema") && e.contains("THROW"), "{e}");
}

#[test]
fn a_column_named_alone_is_replaced_in_place() {
    let engine = Engine::new();
    let t = engine.append_table(schema());
    let rows = [
        trade("BTC/USD", Some(1.0), 1),
        trade("BTC/USD", None, 2),
        trade("BTC/USD", Some(2.0), 3),
    ];
    t.add(Batch::from_rows(&schema(), &rows).unwrap()).unwrap();
    let filled = t
        .update_by(
            &[
                UpdateBy::cum_sum(&["Size"]),
                UpdateBy::forward_fill(&["Prev = Size"]),
            ],
            &[],
        )
        .unwrap();
    engine.run_cycle().unwrap();
    let mut names = schema()
        .names()
        .iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>();
    names.push("Prev".into());
    assert_eq!(filled.schema().names(), names);
    assert_eq!(doubles(&filled, "Size"), [Some(1.0), Some(1.0), Some(3.0)]);
    assert_eq!(doubles(&filled, "Prev"), [Some(1.0), Some(1.0), Some(2.0)]);
}

#[test]
fn bad_operations_are_errors_at_build_time() {
    let engine = Engine::new();
    let t = engine.append_table(schema());
    let error = |ops: &[UpdateBy], keys: &[&str]| t.update_by(ops, keys).err().unwrap().to_string();
    let e = error(&[UpdateBy::cum_sum(&["S = Exchange"])], &[]);
    assert!(
        e.contains("Sum") && e.contains("string") && e.contains("Exchange"),
        "{e}"
    );
    let e = error(
        &[UpdateBy::rolling_sum(
            UpdateByWindow::ticks(0, 0),
            &["S = Size"],
        )],
        &[],
    );
    assert!(e.contains("revTicks"), "{e}");
    let e = error(
        &[UpdateBy::rolling_sum(
            UpdateByWindow::time("Ts", -5, 2),
            &["S = Size"],
        )],
        &[],
    );
    assert!(e.contains("revTime"), "{e}");
    let e = error(
        &[UpdateBy::rolling_sum(
            UpdateByWindow::time("Size", 5, 0),
            &["S = Qty"],
        )],
        &[],
    );
    assert!(e.contains("Size") && e.contains("timestamp"), "{e}");
    let e = error(&[UpdateBy::ema_ticks(0.0, &["E = Size"])], &[]);
    assert!(e.contains("positive"), "{e}");
    let poison = OperationControl {
        on_null_value: BadData::Poison,
        ..OperationControl::default()
    };
    let e = error(
        &[UpdateBy::exponential(
            UpdateByKind::Ema,
            UpdateByWindow::DecayTicks { ticks: 2.0 },
            &["E = Size"],
            poison,
        )],
        &[],
    );
    assert!(e.contains("POISON"), "{e}");
    let e = error(
        &[UpdateBy::rolling_wavg(
            UpdateByWindow::ticks(2, 0),
            "Exchange",
            &["W = Size"],
        )],
        &[],
    );
    assert!(e.contains("weight"), "{e}");
    let e = error(&[UpdateBy::cum_sum(&["Qty"])], &["Qty"]);
    assert!(e.contains("key"), "{e}");
    let e = error(
        &[
            UpdateBy::cum_sum(&["S = Size"]),
            UpdateBy::cum_max(&["S = Qty"]),
        ],
        &[],
    );
    assert!(e.contains("\"S\""), "{e}");
    let e = error(&[UpdateBy::cum_sum(&["S = Nope"])], &[]);
    assert!(e.contains("Nope"), "{e}");
    assert!(t.update_by(&[], &[]).is_err());
}

#[test]
fn an_exponential_operation_told_to_throw_on_a_null_fails_its_table() {
    let engine = Engine::new();
    let t = engine.append_table(schema());
    let throw = OperationControl {
        on_null_value: BadData::Throw,
        ..OperationControl::default()
    };
    let strict = t
        .update_by(
            &[UpdateBy::exponential(
                UpdateByKind::Ems,
                UpdateByWindow::DecayTicks { ticks: 3.0 },
                &["E = Size"],
                throw,
            )],
            &[],
        )
        .unwrap();
    let lenient = t
        .update_by(&[UpdateBy::ema_ticks(3.0, &["E = Size"])], &[])
        .unwrap();
    let rows = [trade("BTC/USD", Some(1.0), 1), trade("BTC/USD", None, 2)];
    t.add(Batch::from_rows(&schema(), &rows).unwrap()).unwrap();
    engine.run_cycle().unwrap();
    let e = strict.error().unwrap();
    assert!(e.contains("ems") && e.contains("null"), "{e}");
    // SKIP (the default) keeps the state: the null row shows the last value.
    assert_eq!(doubles(&lenient, "E"), [Some(1.0), Some(1.0)]);
}

#[test]
fn over_a_blink_parent_that_rewrites_itself_the_windows_go_on() {
    // A sort of a stream is blink and rewrites itself each cycle (a keyed update): its rows are
    // all new, so the cumulative state carries over as over any blink parent.
    let engine = Engine::new();
    let stream = engine.stream_table(schema());
    let sorted = stream.sort(&["Size"]).unwrap();
    let sums = sorted
        .update_by(&[UpdateBy::cum_sum(&["S = Size"])], &[])
        .unwrap();
    assert!(sums.is_blink());
    let mut seen = 0.0;
    for sizes in [[3.0, 1.0, 2.0], [6.0, 4.0, 5.0]] {
        let rows: Vec<Row> = sizes
            .iter()
            .map(|&s| trade("BTC/USD", Some(s), 0))
            .collect();
        stream
            .add(Batch::from_rows(&schema(), &rows).unwrap())
            .unwrap();
        engine.run_cycle().unwrap();
        let mut order = sizes.to_vec();
        order.sort_by(f64::total_cmp);
        let want: Vec<Option<f64>> = order
            .iter()
            .map(|s| {
                seen += s;
                Some(seen)
            })
            .collect();
        assert_eq!(doubles(&sums, "S"), want);
    }
}

/// Windows longer than the rows a group drops at once (64), over cycles of several hundred rows:
/// the bulk drop of a group's rows and long monotonic deques, against the recomputation, over
/// an append table (checked at the end: the recomputation is quadratic) and a stream table.
#[test]
fn long_windows_over_many_rows_equal_a_recomputation() {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let rows = proptest::collection::vec(arb_row(), 300);
    let mut cycles: Vec<Vec<Row>> = (0..5)
        .map(|_| rows.new_tree(&mut runner).map(|t| t.current()))
        .collect::<Result<_, _>>()
        .unwrap();
    in_time_order(&mut cycles);
    let mut ops = Vec::new();
    let windows = [
        UpdateByWindow::ticks(150, 0),
        UpdateByWindow::ticks(90, 70),
        UpdateByWindow::time("Ts", 300, 0),
        UpdateByWindow::time("Ts", 100, 80),
    ];
    for (w, window) in windows.iter().enumerate() {
        for (k, kind) in [
            UpdateByKind::Sum,
            UpdateByKind::Min,
            UpdateByKind::Max,
            UpdateByKind::Group,
        ]
        .into_iter()
        .enumerate()
        {
            let mut op = UpdateBy::rolling(kind, window.clone(), &[]);
            op.pairs = vec![format!("W{w}K{k} = Size")];
            ops.push(op);
        }
    }
    let engine = Engine::new();
    let append = engine.append_table(schema());
    let stream = engine.stream_table(schema());
    let keys: &[&str] = &["Instrument"];
    let by_append = append.update_by(&ops, keys).unwrap();
    let by_stream = stream.update_by(&ops, keys).unwrap();
    let mut everything: Vec<Row> = Vec::new();
    for (c, rows) in cycles.iter().enumerate() {
        let batch = Batch::from_rows(&schema(), rows).unwrap();
        append.add(batch.clone()).unwrap();
        stream.add(batch).unwrap();
        engine.run_cycle().unwrap();
        everything.extend(rows.iter().cloned());
        let last = c + 1 == cycles.len();
        let checked = [(&by_stream, rows.len()), (&by_append, everything.len())];
        for (table, shown) in checked.into_iter().take(if last { 2 } else { 1 }) {
            let want = reference(&everything, shown, &ops, keys);
            let got = table.all_rows();
            assert_eq!(got.len(), want.len());
            for (g, w) in got.iter().zip(&want) {
                for (gv, (wv, tol)) in g.iter().zip(w) {
                    assert!(close(gv, wv, *tol), "{gv:?} != {wv:?}");
                }
            }
        }
    }
}

/// One operation over a column `X` (doubles) with timestamps `Ts`, one group, one cycle: the
/// values of its output column `Out` (named so by the caller's pair, e.g. `"Out = X"`). What a
/// golden test against another implementation (pandas' `ewm`, `rolling('60s')`) calls:
/// `over_x(&ts, &xs, UpdateBy::ema_time("Ts", 10 * SECOND, &["Out = X"]))`.
pub(crate) fn over_x(ts: &[Option<i64>], xs: &[Option<f64>], op: UpdateBy) -> Vec<Option<f64>> {
    let schema = crate::table::Schema::of(&[
        ("Ts", crate::ColumnType::Timestamp),
        ("X", crate::ColumnType::F64),
    ])
    .unwrap();
    let rows: Vec<Row> = ts
        .iter()
        .zip(xs)
        .map(|(t, x)| {
            vec![
                t.map_or(Value::Null, Value::Timestamp),
                x.map_or(Value::Null, Value::F64),
            ]
        })
        .collect();
    let engine = Engine::new();
    let table = engine.append_table(schema.clone());
    table
        .add(Batch::from_rows(&schema, &rows).unwrap())
        .unwrap();
    let out = table.update_by(&[op], &[]).unwrap();
    engine.run_cycle().unwrap();
    assert!(out.error().is_none(), "{:?}", out.error());
    doubles(&out, "Out")
}

#[test]
fn the_golden_entry_point_gives_deephavens_ema_definition() {
    // ema_time: a_i = exp(-dt_i / tau), x̄_i = a_i·x̄_{i-1} + (1 - a_i)·x_i, from x̄_0 = x_0.
    let ts = [Some(0), Some(1_000), Some(3_000), None, Some(3_500)];
    let xs = [Some(10.0), Some(20.0), None, Some(40.0), Some(30.0)];
    let got = over_x(&ts, &xs, UpdateBy::ema_time("Ts", 2_000, &["Out = X"]));
    let mut want = Vec::new();
    let (mut e, mut at) = (10.0, 0);
    want.push(Some(e));
    for (t, x) in ts.iter().zip(&xs).skip(1) {
        // A null value or a null timestamp leaves the state (Deephaven's SKIP).
        if let (Some(t), Some(x)) = (t, x) {
            // Java's StrictMath.exp, fdlibm's: the engine's.
            let a = crate::exp::exp(-((t - at) as f64) / 2_000.0);
            e = a * e + (1.0 - a) * x;
            at = *t;
        }
        want.push(Some(e));
    }
    assert_eq!(got, want);
    // And a rolling average over time: the rows within 1,000 ns before (inclusive).
    let avg = over_x(
        &ts,
        &xs,
        UpdateBy::rolling_avg(UpdateByWindow::time("Ts", 1_000, 0), &["Out = X"]),
    );
    assert_eq!(avg, [Some(10.0), Some(15.0), None, None, Some(30.0)]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Over a ring, without the arrays of `rollingGroup` (which cannot change in place, so their
    /// table is recomputed): rows leaving the front are taken out of their groups' windows and
    /// only the rows whose values change are rewritten; the table is never rebuilt.
    #[test]
    fn update_by_over_a_ring_takes_the_leaving_rows_out_incrementally(
        mut cycles in proptest::collection::vec(proptest::collection::vec(arb_row(), 0..14), 1..8),
        ring_capacity in 2usize..30,
    ) {
        in_time_order(&mut cycles);
        let ops: Vec<UpdateBy> = all_ops()
            .into_iter()
            .filter(|op| op.kind != UpdateByKind::Group)
            .collect();
        check(&ops, &cycles, ring_capacity)?;
        let engine = Engine::new();
        let ring = engine.ring_table(schema(), ring_capacity);
        let table = ring.update_by(&ops, &["Instrument"]).unwrap();
        let mut held = 0;
        for rows in &cycles {
            ring.add(Batch::from_rows(&schema(), rows).unwrap()).unwrap();
            engine.run_cycle().unwrap();
            let kept = held.min(ring_capacity.saturating_sub(rows.len()));
            if kept > 0
                && let Some(Update::Keyed { added, .. }) = table.last_update()
            {
                prop_assert!(added.len() <= rows.len(), "rebuilt: {} added", added.len());
            }
            held = (held + rows.len()).min(ring_capacity);
        }
    }
}

#[test]
fn a_rolling_std_of_large_values_keeps_their_spread() {
    // 1e9 + k and epoch-millis-sized 1.7e12 + k: the squares agree in most of their digits.
    for base in [1e9, 1.7e12, -3.5e13] {
        let xs: Vec<Option<f64>> = (0..4).map(|k| Some(base + f64::from(k))).collect();
        let ts = vec![None; xs.len()];
        let op = UpdateBy::rolling(UpdateByKind::Std, UpdateByWindow::ticks(3, 0), &["Out = X"]);
        let got = over_x(&ts, &xs, op);
        assert!(got[0].is_some_and(f64::is_nan), "{base}: {got:?}");
        let want = [std::f64::consts::FRAC_1_SQRT_2, 1.0, 1.0];
        for (g, w) in got[1..].iter().zip(want) {
            let g = g.unwrap();
            assert!((g - w).abs() < 1e-12, "{base}: {got:?}");
        }
    }
}

#[test]
fn a_ring_losing_rows_stops_replaying_where_values_converge() {
    // One instrument, a ring of 40, 20 cycles of 10 rows: the running extremes, the fill and a
    // fast EMA agree with the old values a few rows after the ring's front, where the replay
    // stops; every cycle must still equal a recomputation (`check`), for every source.
    let row = |i: usize| -> Row {
        let size = ((i * 7919) % 23) as f64 - 11.0;
        vec![
            Value::String("binance".into()),
            Value::String("BTC/USD".into()),
            if i % 9 == 4 {
                Value::Null
            } else {
                Value::F64(size)
            },
            Value::I32((i % 5) as i32),
            Value::Bool(i.is_multiple_of(2)),
            Value::Timestamp(i as i64 * 1_000),
        ]
    };
    let cycles: Vec<Vec<Row>> = (0..20)
        .map(|c| (0..10).map(|r| row(c * 10 + r)).collect())
        .collect();
    let ops = vec![
        UpdateBy::cum_min(&["Min = Size", "QMin = Qty"]),
        UpdateBy::cum_max(&["Max = Size"]),
        UpdateBy::forward_fill(&["Filled = Size"]),
        UpdateBy::ema_ticks(0.5, &["Ema = Size"]),
        UpdateBy::exponential(
            UpdateByKind::EmMax,
            UpdateByWindow::DecayTime {
                column: "Ts".into(),
                time: 500,
            },
            &["EmMax = Size"],
            OperationControl::default(),
        ),
        UpdateBy::exponential(
            UpdateByKind::EmStd,
            UpdateByWindow::DecayTicks { ticks: 0.5 },
            &["EmStd = Size"],
            OperationControl::default(),
        ),
    ];
    check(&ops, &cycles, 40).unwrap();
}

#[test]
fn a_time_decay_that_skips_time_going_back_replays_the_whole_group() {
    // The review's case: two runs agree on a value (3) but not on the last stamp, so the replay
    // must not stop there. Ring of 3; rows (ts, x): (1000, 3), (500, 3), (800, 10), then (2000, 0).
    let row = |ts: i64, x: f64| -> Row {
        vec![
            Value::String("binance".into()),
            Value::String("BTC/USD".into()),
            Value::F64(x),
            Value::I32(1),
            Value::Bool(true),
            Value::Timestamp(ts),
        ]
    };
    let cycles = vec![
        vec![row(1000, 3.0), row(500, 3.0), row(800, 10.0)],
        vec![row(2000, 0.0)],
    ];
    let skip = OperationControl {
        on_negative_delta_time: BadData::Skip,
        ..OperationControl::default()
    };
    let decay = || UpdateByWindow::DecayTime {
        column: "Ts".into(),
        time: 500,
    };
    let ops = vec![
        UpdateBy::exponential(UpdateByKind::EmMax, decay(), &["EmMax = Size"], skip),
        UpdateBy::exponential(UpdateByKind::Ema, decay(), &["Ema = Size"], skip),
    ];
    // The ring after its first row left equals a fresh table of the rows it holds.
    let engine = Engine::new();
    let ring = engine.ring_table(schema(), 3);
    let out = ring.update_by(&ops, &["Instrument"]).unwrap();
    for rows in &cycles {
        ring.add(Batch::from_rows(&schema(), rows).unwrap())
            .unwrap();
        engine.run_cycle().unwrap();
    }
    let fresh_engine = Engine::new();
    let fresh = fresh_engine.append_table(schema());
    let want = fresh.update_by(&ops, &["Instrument"]).unwrap();
    let kept: Vec<Row> = cycles.concat()[1..].to_vec();
    fresh
        .add(Batch::from_rows(&schema(), &kept).unwrap())
        .unwrap();
    fresh_engine.run_cycle().unwrap();
    assert_eq!(out.all_rows(), want.all_rows());
}
