//! The page's time zones agree with Python's: the built wasm package, whose zone offsets come
//! from the browser's `Intl.DateTimeFormat` (not from the bundled database of the native tests),
//! evaluates every case of `tests/data/time/golden.json` in headless Chromium
//! (`tests/e2e/time-zones.mjs`), DST gaps and overlaps in three zones included.
//!
//! Needs the built page (`cargo xtask site`), `npm ci` and `/usr/bin/chromium`; without them it
//! skips, unless `STREAMGLASS_REQUIRE_ALL=1`.

use std::process::Command;

use streamglass_tests::{browser_site, target_dir, workspace_root};

#[test]
fn intl_time_zones_match_the_golden_vectors() {
    let Some(site) = browser_site("intl_time_zones_match_the_golden_vectors") else {
        return;
    };
    let golden = workspace_root().join("tests/data/time/golden.json");
    let screenshot = target_dir().join("e2e/time-zones.png");
    let out = Command::new("node")
        .arg(workspace_root().join("tests/e2e/time-zones.mjs"))
        .arg(&site)
        .arg(&golden)
        .arg(&screenshot)
        .current_dir(workspace_root())
        .output()
        .expect("run node");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "time-zones.mjs failed:\n{stderr}");
    let result: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("bad JSON ({e}): {stderr}"));
    let checked = result["checked"].as_u64().unwrap_or(0);
    let failures = result["failures"].as_array().cloned().unwrap_or_default();
    assert!(checked > 8_000, "only {checked} values checked");
    assert!(
        failures.is_empty(),
        "{} of {checked} values differ in the browser:\n{}",
        failures.len(),
        failures
            .iter()
            .map(|f| f.as_str().unwrap_or("?"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}
