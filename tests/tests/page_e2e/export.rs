//! Export in the page, as a user does it: the seed notebook's `agg_append` downloaded from its
//! panel's menu as CSV, JSON lines and Arrow, and `trades_append` (timestamps, dictionary-coded
//! strings) with `table.download("arrow")` from the console. Each download is caught by
//! playwright and read by pyarrow and pandas (`tests/python/export_check.py`), which compare
//! every value with the table as the page's worker shows it (its viewport), read before the
//! downloads and again after (a finite recording: the tables no longer change once caught up).

use std::process::Command;

use replay_bridge::record;
use replay_bridge::source::Source;
use serde_json::{Value as Json, json};
use streamglass_tests::{browser_site, python, skip_or_fail, workspace_root};

use super::{common, run_script};

/// A cell as the page sent it (see `tests/e2e/export.mjs`) in the checker's canonical form.
fn canonical(ty: &str, cell: &Json) -> Json {
    if cell.is_null() {
        return Json::Null;
    }
    if let Some(element) = ty.strip_suffix("[]") {
        let items = cell.as_array().expect("an array cell");
        return Json::Array(items.iter().map(|c| canonical(element, c)).collect());
    }
    let integer = || match cell {
        Json::String(s) => s.parse::<i64>().expect("a decimal long"),
        _ => cell.as_i64().expect("an integer"),
    };
    match ty {
        "long" | "timestamp" | "time" | "int" | "date" => json!(integer()),
        "double" => match cell {
            Json::String(word) => json!(word),
            _ => json!(cell.as_f64().expect("a number")),
        },
        _ => cell.clone(),
    }
}

/// The checker's expected file for a table as the page read it.
fn expected(shown: &Json) -> Json {
    let types: Vec<&str> = shown["types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    let rows: Vec<Json> = shown["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            let cells = row.as_array().unwrap();
            Json::Array(
                types
                    .iter()
                    .zip(cells)
                    .map(|(t, c)| canonical(t, c))
                    .collect(),
            )
        })
        .collect();
    json!({"columns": shown["columns"], "types": types, "rows": rows, "dictionary": null})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panels_downloads_read_in_pyarrow_and_pandas_equal_to_the_table() {
    let test = "page: export";
    let Some(site) = browser_site(test) else {
        return;
    };
    let env = match python::env() {
        Ok(env) => env,
        Err(reason) => return skip_or_fail(test, &reason),
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trades.sgrec");
    record::generate(&path, 60_000, 3, 7).unwrap();
    let addr = common::start_bridge(Source::recording(&path).unwrap(), Some(site)).await;
    let shown = run_script("export.mjs", &format!("http://{addr}/"), "20000", "export").await;

    let downloads = shown["downloads"].as_array().unwrap();
    let names: Vec<(&str, &str)> = downloads
        .iter()
        .map(|d| {
            (
                d["table"].as_str().unwrap(),
                d["suggested"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            ("agg_append", "agg_append.csv"),
            ("agg_append", "agg_append.jsonl"),
            ("agg_append", "agg_append.arrow"),
            ("trades_append", "trades_append.arrow"),
        ]
    );
    for (table, rows) in [("agg_append", None), ("trades_append", Some(20_000))] {
        let seen = &shown["tables"][table];
        assert_eq!(
            seen["before"], seen["after"],
            "{table} changed while exported"
        );
        let count = seen["before"]["rows"].as_array().unwrap().len();
        assert!(count > 0, "{table} is empty");
        if table == "agg_append" {
            // Downloaded filtered to one exchange: fewer rows than the table, all of it.
            let whole = seen["whole"]["rows"].as_array().unwrap();
            assert!(count < whole.len(), "{count} of {} rows", whole.len());
            let at = |t: &Json| {
                t["columns"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .position(|c| c == "Exchange")
                    .unwrap()
            };
            let shown_at = at(&seen["before"]);
            for row in seen["before"]["rows"].as_array().unwrap() {
                assert_eq!(row[shown_at], seen["exchange"], "{row}");
            }
            assert_eq!(
                whole
                    .iter()
                    .filter(|r| r[at(&seen["whole"])] == seen["exchange"])
                    .count(),
                count
            );
        }
        if let Some(rows) = rows {
            assert_eq!(count, rows, "{table}");
        }
        let spec = dir.path().join(format!("{table}.expected.json"));
        std::fs::write(&spec, expected(&seen["before"]).to_string()).unwrap();
        let mut check = Command::new(env.python());
        check
            .arg(workspace_root().join("tests/python/export_check.py"))
            .arg(&spec);
        for d in downloads.iter().filter(|d| d["table"] == table) {
            check
                .arg(format!("--{}", d["format"].as_str().unwrap()))
                .arg(d["path"].as_str().unwrap());
        }
        let out = check.output().expect("run python");
        let report = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{table}: {report}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report: Json = serde_json::from_str(&report).unwrap();
        let formats: usize = downloads.iter().filter(|d| d["table"] == table).count();
        assert_eq!(
            report["checked"]
                .as_object()
                .map(|c| c.values().filter(|v| **v == json!(true)).count()),
            Some(formats),
            "{table}: {report}"
        );
        assert_eq!(report["rows"], json!(count));
    }
}
