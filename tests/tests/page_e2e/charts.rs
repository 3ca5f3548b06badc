//! Charts in the page (`Plot`, issue 18): on the demo's recording replayed as live, the seed
//! notebook's `trades_append` plotted by Instrument has one series per instrument and at most
//! four points per pixel column, and ticks; on a static snapshot of it, each series' points,
//! a histogram's bins and 1-minute OHLC bars equal references computed here from the snapshot's
//! rows (read from the page); a chart's panel closes, reopens from the Panels menu and drops;
//! wrong columns are clear errors; a cell added to a copy of the seed notebook plots
//! trades_append by Instrument in the cell. See `tests/e2e/charts.mjs` for what the page is asked.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value as Json;
use streamglass_tests::browser_site;

use super::{live_demo_bridge, run_script};

/// One row of the snapshot: (instrument, timestamp ns, price, size).
type Row = (String, i64, Option<f64>, Option<f64>);

fn number(v: &Json) -> Option<f64> {
    match v {
        Json::Null => None,
        Json::String(s) => s.parse().ok(),
        other => other.as_f64(),
    }
}

fn rows(shown: &Json) -> Vec<Row> {
    shown["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r[0].as_str().unwrap().to_owned(),
                r[1].as_str().unwrap().parse().unwrap(),
                number(&r[2]),
                number(&r[3]),
            )
        })
        .collect()
}

fn floats(v: &Json) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

/// Seconds, as the page's time axis has them (the engine's f64 of the nanoseconds, times 1e-9).
fn seconds(ns: i64) -> f64 {
    ns as f64 * 1e-9
}

/// Series name → (points as (x, y) pairs, rows the series has).
fn series(chart: &Json) -> BTreeMap<String, (Vec<(f64, f64)>, u64)> {
    chart["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let x = floats(&s["x"]);
            let y = floats(&s["values"][0]);
            assert_eq!(s["points"].as_u64().unwrap() as usize, x.len());
            (
                s["name"].as_str().unwrap().to_owned(),
                (x.into_iter().zip(y).collect(), s["rows"].as_u64().unwrap()),
            )
        })
        .collect()
}

/// Each instrument's (x, price) points of `rows`, prices null left out, sorted by (x, row).
fn reference_points(rows: &[Row]) -> BTreeMap<String, Vec<(f64, f64)>> {
    let mut out: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
    for (instrument, ts, price, _) in rows {
        if let Some(p) = price {
            out.entry(instrument.clone())
                .or_default()
                .push((seconds(*ts), *p));
        }
    }
    for points in out.values_mut() {
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn charts_plot_trades_by_instrument_tick_and_equal_references() {
    let Some(site) = browser_site("page: charts") else {
        return;
    };
    const SIZE_OFFSET: u64 = 50_000;
    let dir = tempfile::tempdir().unwrap();
    let addr = live_demo_bridge(dir.path(), 60_000, 900, site).await;
    let shown = run_script(
        "charts.mjs",
        &format!("http://{addr}/"),
        &SIZE_OFFSET.to_string(),
        "charts",
    )
    .await;
    let rows = rows(&shown);
    assert!(rows.len() as u64 >= SIZE_OFFSET, "{} rows", rows.len());
    let instruments: BTreeSet<String> = rows.iter().map(|r| r.0.clone()).collect();
    assert!(instruments.len() > 1, "{instruments:?}");

    // The live chart: one series per instrument, at most 4 points per pixel column; it ticks.
    let [first, later] = [&shown["live"][0], &shown["live"][1]];
    let width = first["width"].as_u64().unwrap();
    assert!(width >= 100, "{first}");
    for at in [first, later] {
        let names: BTreeSet<String> = at["series"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(names, instruments, "one series per instrument");
        for s in at["series"].as_array().unwrap() {
            let (points, rows) = (s["points"].as_u64().unwrap(), s["rows"].as_u64().unwrap());
            assert!(points <= 4 * width && points <= rows, "{s}");
            assert!(points > 0);
            if rows <= 4 * width {
                assert_eq!(points, rows, "{s}");
            }
        }
    }
    let total = |at: &Json| at["rows"].as_u64().unwrap();
    assert!(
        total(later) > total(first),
        "the chart ticks: {first} then {later}"
    );
    let x_max = |at: &Json| {
        at["series"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["xMax"].as_f64().unwrap())
            .fold(f64::MIN, f64::max)
    };
    assert!(x_max(later) > x_max(first), "its x range grows");
    assert!(later["cycle"].as_u64() > first["cycle"].as_u64());

    // The snapshot's chart: each series' rows, decimated to ≤ 4 × width points that keep the
    // series' first and last x and its lowest and highest price.
    let sample_width = shown["sample"]["width"].as_u64().unwrap();
    let sample = series(&shown["sample"]);
    let reference = reference_points(&rows);
    assert_eq!(
        sample.keys().collect::<Vec<_>>(),
        reference.keys().collect::<Vec<_>>()
    );
    let mut decimated = 0;
    for (name, (points, rows_of)) in &sample {
        let all = &reference[name];
        assert_eq!(*rows_of as usize, all.len(), "{name}");
        assert!(points.len() as u64 <= 4 * sample_width, "{name}");
        if all.len() as u64 <= 4 * sample_width {
            assert_eq!(points, all, "{name}");
        } else {
            decimated += 1;
            let extreme =
                |f: fn(f64, f64) -> f64, v: &mut dyn Iterator<Item = f64>| v.reduce(f).unwrap();
            assert_eq!(points.first().unwrap().0, all.first().unwrap().0, "{name}");
            assert_eq!(points.last().unwrap().0, all.last().unwrap().0, "{name}");
            for f in [f64::max, f64::min] {
                assert_eq!(
                    extreme(f, &mut points.iter().map(|p| p.1)),
                    extreme(f, &mut all.iter().map(|p| p.1)),
                    "{name}: an extreme price is kept"
                );
            }
            // Every point drawn is a point of the series.
            let set: BTreeSet<(u64, u64)> =
                all.iter().map(|p| (p.0.to_bits(), p.1.to_bits())).collect();
            assert!(
                points
                    .iter()
                    .all(|p| set.contains(&(p.0.to_bits(), p.1.to_bits())))
            );
        }
    }
    assert!(decimated > 0, "some series of the snapshot is decimated");

    // The first 2,000 rows: every point, exactly.
    let small = series(&shown["small"]);
    let few = reference_points(&rows[..2000]);
    assert_eq!(
        small
            .iter()
            .map(|(k, (p, _))| (k.clone(), p.clone()))
            .collect::<BTreeMap<_, _>>(),
        few
    );

    // The histogram: bins of equal width over [min, max] of Size, the top in the last bin.
    let sizes: Vec<f64> = rows.iter().filter_map(|r| r.3).collect();
    let hist = &shown["histogram"]["series"][0];
    let counts = floats(&hist["values"][0]);
    assert_eq!(counts.len(), 25);
    assert_eq!(counts.iter().sum::<f64>() as usize, sizes.len());
    let lo = sizes.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = sizes.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut expected = vec![0.0; 25];
    for v in &sizes {
        let b = ((v - lo) / (hi - lo) * 25.0).floor() as usize;
        expected[b.min(24)] += 1.0;
    }
    assert_eq!(counts, expected);
    assert_eq!(floats(&hist["x"])[0], lo);

    // OHLC: 1-minute bars of BTC/USD, from the rows here (first, max, min, last price).
    let mut bars: BTreeMap<i64, [f64; 4]> = BTreeMap::new();
    for (instrument, ts, price, _) in &rows {
        let (true, Some(p)) = (instrument == "BTC/USD", price) else {
            continue;
        };
        let minute = ts.div_euclid(60_000_000_000) * 60_000_000_000;
        bars.entry(minute)
            .and_modify(|b| {
                b[1] = b[1].max(*p);
                b[2] = b[2].min(*p);
                b[3] = *p;
            })
            .or_insert([*p, *p, *p, *p]);
    }
    assert!(!bars.is_empty());
    let ohlc = &shown["ohlc"]["series"][0];
    assert!(bars.len() as u64 <= shown["ohlc"]["width"].as_u64().unwrap());
    let xs = floats(&ohlc["x"]);
    let values: Vec<Vec<f64>> = (0..4).map(|k| floats(&ohlc["values"][k])).collect();
    let drawn: Vec<(f64, [f64; 4])> = xs
        .iter()
        .enumerate()
        .map(|(i, &x)| (x, [0, 1, 2, 3].map(|k| values[k][i])))
        .collect();
    let expected: Vec<(f64, [f64; 4])> = bars.iter().map(|(m, b)| (seconds(*m), *b)).collect();
    assert_eq!(drawn, expected);

    // Panels: closed, reopened from the menu (drawn again), a dropped chart leaves the menu.
    let panels = &shown["panels"];
    assert_eq!(panels["closed"], true, "{panels}");
    assert!(panels["reopenedPoints"].as_u64().unwrap() > 0, "{panels}");
    assert_eq!(panels["droppedGone"], true, "{panels}");
    let menu: Vec<&str> = panels["menu"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert!(
        menu.contains(&"price_by_instrument") && !menu.contains(&"small_prices"),
        "{menu:?}"
    );

    // Errors say what is wrong.
    let errors = shown["errors"].as_array().unwrap();
    let expected = ["\"Nope\"", "Instrument is a string column", "at most 64"];
    for (e, words) in errors.iter().zip(expected) {
        assert_eq!(e["state"], "failed", "{e}");
        assert!(e["result"].as_str().unwrap().contains(words), "{e}");
    }
    assert_eq!(errors.len(), 3);

    // The cell a user added to a copy of the seed notebook: its chart, one series per instrument.
    let in_cell = &shown["inCell"];
    let names: BTreeSet<String> = in_cell["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, instruments, "{in_cell}");
    assert!(
        in_cell["rows"].as_u64().unwrap() >= total(later),
        "{in_cell}"
    );
}
