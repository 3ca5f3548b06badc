//! Editable notebooks (issue 18, item 1), as a user works them in headless Chromium
//! (`tests/e2e/notebook-edit.mjs`): the seed notebook is read-only until duplicated; a cell typed
//! into CodeMirror and run with Shift+Enter opens its table; editing and re-running it drops the
//! table it made (the session's bytes fall by that table's, the name is gone from the worker and
//! the Panels menu) and marks the cell that read it stale; cells move and are deleted; the
//! notebook is renamed, survives a reload, is exported and imported as a file, and travels
//! through a share link into a browser with no storage (neither the imported nor the shared copy
//! runs before the user says so); deleting it leaves the seed's.

use replay_bridge::record;
use replay_bridge::source::Source;
use serde_json::Value;
use streamglass_tests::browser_site;

use super::{common, run_script};

/// Trades in the recording: the seed's size_offset (1,000,000) takes them all.
const RECORDS: u64 = 40_000;
const BIG: &str = "const big = trades_append.update([\"Double = Price * 2\"]);\nreturn { big };";
const USES: &str = "return { big_rows: big.size };";
const SMALL: &str =
    "const small = trades_append.head(5).update([\"Double = Price * 2\"]);\nreturn { small };";
const USES2: &str = "return { small_rows: small.size };";
const USES3: &str = "return { small_rows: small.size, from_here: true };";

/// The cells a step showed: (name, code).
fn cells(step: &Value) -> Vec<(String, String)> {
    step["cells"]
        .as_array()
        .unwrap_or_else(|| panic!("no cells: {step}"))
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_owned(),
                c["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn states(step: &Value) -> Vec<(String, String)> {
    step["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_owned(),
                c["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn names(list: &[(String, String)]) -> Vec<&str> {
    list.iter().map(|(n, _)| n.as_str()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_edits_a_notebook_which_survives_a_reload_and_travels_by_link() {
    let Some(site) = browser_site("page: editable notebooks") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trades.sgrec");
    record::generate(&path, RECORDS, 3, 11).unwrap();
    let addr = common::start_bridge(Source::recording(&path).unwrap(), Some(site)).await;
    let plan = serde_json::json!({ "big": BIG, "uses": USES, "small": SMALL, "uses2": USES2, "uses3": USES3 });
    let shown = run_script(
        "notebook-edit.mjs",
        &format!("http://{addr}/"),
        &plan.to_string(),
        "notebook-edit",
    )
    .await;

    // The seed's notebook: read-only, with a button to duplicate it, saying what it expects.
    let built_in = &shown["builtIn"];
    assert_eq!(built_in["notebook"], "seed");
    let seed = cells(built_in);
    assert_eq!(
        names(&seed),
        [
            "latest_offset",
            "offset_variable",
            "trades",
            "agg_append",
            "agg_stream",
            "row_count_merge",
            "diff_table"
        ]
    );
    assert!(
        seed[2].1.contains(
            "session.consumeToTable({ offsets: offset_variable, tableType: \"append\" })"
        ),
        "{seed:?}"
    );
    assert!(
        built_in["cells"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["editable"] == false)
    );
    assert_eq!(built_in["duplicateLabel"], "Duplicate to edit");
    assert!(
        built_in["expects"]
            .as_str()
            .unwrap()
            .contains("io.deephaven.crypto.kafka.TradesTopic")
    );

    // Its copy: the same cells, run, now editable, under a new id and name.
    let duplicated = &shown["duplicated"];
    let id = duplicated["notebook"].as_str().unwrap().to_owned();
    assert!(id.starts_with("nb-"), "{id}");
    assert_eq!(duplicated["title"], "Stream vs. Append (copy)");
    assert_eq!(cells(duplicated), seed);
    assert!(
        duplicated["cells"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["editable"] == true && c["state"] == "done")
    );

    // The cell typed in and run: its table holds every trade.
    let added = &shown["added"];
    let big_cell = added["cell"].as_str().unwrap().to_owned();
    assert_eq!(added["appendRows"].as_u64(), Some(RECORDS));
    assert_eq!(added["bigRows"].as_u64(), Some(RECORDS));
    let big_bytes = added["bigBytes"].as_f64().unwrap();
    assert!(big_bytes > 0.0);
    let uses_cell = shown["uses"]["cell"].as_str().unwrap().to_owned();
    assert_eq!(shown["uses"]["values"], format!("big_rows = {RECORDS}"));

    // Edited and run again: `big` is gone (worker, panel, menu), its bytes came back, `small`
    // holds 5 trades with Double = 2 × Price, and the cell that read `big` is stale.
    let edited = &shown["edited"];
    assert_eq!(
        edited["bigAfter"],
        Value::Null,
        "big is still in the worker"
    );
    assert_eq!(edited["bigPanel"], false);
    let menu: Vec<&str> = edited["menu"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        !menu.contains(&"big") && menu.contains(&"small"),
        "{menu:?}"
    );
    let small = &edited["small"];
    let at = |c: &str| {
        small["columns"]
            .as_array()
            .unwrap()
            .iter()
            .position(|x| x == c)
            .unwrap()
    };
    let rows = small["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 5);
    for row in rows {
        let (price, double) = (
            row[at("Price")].as_f64().unwrap(),
            row[at("Double")].as_f64().unwrap(),
        );
        assert_eq!(double, price * 2.0, "{row}");
    }
    let before = added["session"]["bytesUsed"].as_f64().unwrap();
    let after = edited["session"]["bytesUsed"].as_f64().unwrap();
    assert!(
        before - after >= 0.9 * big_bytes,
        "the session's bytes fell from {before} to {after}, not by big's {big_bytes}"
    );
    let edited_cells = cells(edited);
    assert!(
        edited_cells.contains(&(big_cell.clone(), SMALL.to_owned())),
        "the typed code: {edited_cells:?}"
    );
    let edited_states = states(edited);
    assert!(
        edited_states.contains(&(uses_cell.clone(), "stale".to_owned())),
        "{edited_states:?}"
    );
    assert!(
        edited_states.contains(&(big_cell.clone(), "done".to_owned())),
        "{edited_states:?}"
    );
    assert_eq!(shown["uses2"]["values"], "small_rows = 5");

    // Completions: a table's methods, the columns of the session's tables, its table names.
    let offered = |what: &str| -> Vec<String> {
        shown["completions"][what]
            .as_array()
            .unwrap_or_else(|| panic!("no {what} completions: {shown}"))
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    };
    assert!(
        offered("method").contains(&"where".to_owned()),
        "{:?}",
        offered("method")
    );
    assert!(
        offered("column").contains(&"Price".to_owned()),
        "{:?}",
        offered("column")
    );
    let tables = offered("table");
    assert!(
        tables.contains(&"agg_append".to_owned()) && tables.contains(&"agg_stream".to_owned()),
        "{tables:?}"
    );

    // Moved up twice and down once (one place up), row_count_merge deleted (and its table
    // dropped), renamed.
    let arranged = cells(&shown["arranged"]);
    assert_eq!(
        names(&arranged),
        [
            "latest_offset",
            "offset_variable",
            "trades",
            "agg_append",
            "agg_stream",
            big_cell.as_str(),
            "diff_table",
            uses_cell.as_str()
        ]
    );
    assert_eq!(arranged[5].1, SMALL);
    assert_eq!(arranged[7].1, USES2);
    let options = shown["arranged"]["options"].as_array().unwrap();
    assert!(
        options.contains(&serde_json::json!([id, "My trades"])),
        "{options:?}"
    );

    // Reloaded: the notebook as left (the new cell's title typed in too), run again from the top.
    let reloaded = &shown["reloaded"];
    assert_eq!(reloaded["cells"][5]["title"], "Every trade, doubled");
    assert_eq!(reloaded["cells"][7]["title"], uses_cell.as_str());
    assert_eq!(reloaded["notebook"], id.as_str());
    assert_eq!(reloaded["title"], "My trades");
    assert_eq!(cells(reloaded), arranged);
    assert!(
        states(reloaded).iter().all(|(_, s)| s == "done"),
        "{reloaded}"
    );
    assert_eq!(reloaded["small"]["rows"].as_array().map(Vec::len), Some(5));

    // Exported as a file of the documented shape, and imported as a new notebook.
    let exported = &shown["exported"];
    assert_eq!(exported["filename"], "My_trades.json");
    let content = &exported["content"];
    assert_eq!(
        (&content["format"], &content["version"]),
        (
            &serde_json::json!("streamglass-notebook"),
            &serde_json::json!(1)
        )
    );
    assert_eq!(cells(content), arranged);
    assert_eq!(content["basedOn"], "seed");
    let imported = &shown["imported"];
    assert_ne!(imported["notebook"], id.as_str());
    assert_eq!(imported["title"], "My trades (2)");
    assert_eq!(cells(imported), arranged);
    // Someone else's code runs only when the user says so.
    assert!(
        states(imported).iter().all(|(_, s)| s == "idle"),
        "{imported}"
    );

    // A file that is not a notebook is refused with what is wrong; so are other versions,
    // cells without code, two cells of one name and a name that is markup.
    let refused = &shown["refused"];
    assert_eq!(
        refused["state"],
        "bad.json: not a streamglass-notebook file"
    );
    assert_eq!(refused["added"], 0);
    assert_eq!(
        refused["checked"],
        serde_json::json!([
            "version 2: this page reads version 1",
            "its cells must each have a name and code",
            "two cells have one name",
            "a cell's name must be letters, digits, _ or - (at most 64): \"x\\\"><div data-act=\\\"from\\\" style=\\\"position:fixed;inset:0\\\"></div>\"",
            "not a streamglass-notebook file"
        ])
    );

    // Through a share link into a fresh browser: imported as a new notebook, the same cells.
    let shared = &shown["shared"];
    assert_eq!(shared["hash"], "#notebook=");
    assert!(shared["notebook"].as_str().unwrap().starts_with("nb-"));
    assert!(!shared["url"].as_str().unwrap().contains('#'), "{shared}");
    assert_eq!(shared["title"], "My trades");
    assert_eq!(cells(shared), arranged);
    assert_eq!(shared["stored"], 1);
    assert!(states(shared).iter().all(|(_, s)| s == "idle"), "{shared}");
    assert_eq!(
        shared["state"],
        "Opened from a share link: read its cells, then Run all."
    );

    // A damaged link is said, and the seed's notebook opens instead (unrun).
    let damaged = &shown["damaged"];
    assert_eq!(damaged["notebook"], "seed");
    assert!(
        damaged["state"]
            .as_str()
            .unwrap()
            .starts_with("the share link is damaged ("),
        "{damaged}"
    );

    // Run all, and again in place: every cell done, and no table left behind by the second run.
    let run_all = &shown["runAll"];
    assert!(
        run_all["states"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s == "done"),
        "{run_all}"
    );
    assert_eq!(run_all["small"], 5);
    assert_eq!(
        run_all["second"]["tables"], run_all["first"]["tables"],
        "the session's tables after one run and after two: {run_all}"
    );
    let (first, second) = (
        run_all["first"]["bytesUsed"].as_f64().unwrap(),
        run_all["second"]["bytesUsed"].as_f64().unwrap(),
    );
    assert!(
        second <= first * 1.1,
        "the session's bytes after one run and after two: {run_all}"
    );

    // Run from here: the cells from the new one down ran again, the ones above did not.
    let from_here = &shown["fromHere"];
    assert_eq!(from_here["values"], "small_rows = 5\nfrom_here = true");
    assert_eq!(from_here["above"], "before");
    assert!(
        from_here["states"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s == "done"),
        "{from_here}"
    );

    // Deleted: the page is back on the seed's, the list no longer has it (the import stays).
    let deleted = &shown["deleted"];
    assert_eq!(deleted["notebook"], "seed");
    let options: Vec<&str> = deleted["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(!options.contains(&id.as_str()), "{options:?}");
    assert!(
        options.contains(&imported["notebook"].as_str().unwrap()),
        "{options:?}"
    );
    println!(
        "notebook edit: big {big_bytes} bytes, the session {before} → {after} bytes; share link {} characters; run all: {} then {}",
        shared["link"], run_all["first"], run_all["second"]
    );
}
