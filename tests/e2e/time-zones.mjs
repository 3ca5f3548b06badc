// The page's engine answers the time golden vectors (tests/data/time/golden.json, from Python's
// zoneinfo) in a real browser, where time zones come from Intl.DateTimeFormat (wasm/src/time.rs)
// and not from the bundled database the native tests use: every case, DST gaps and overlaps in
// New York, London and Sydney included, through the built package's JS API.
//
//   node tests/e2e/time-zones.mjs <site dir> <golden.json> <screenshotPath>
//
// Serves the site itself (no bridge needed), prints one line of JSON: {checked, failures}.

import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { extname, join, normalize } from "node:path";
import { launch, scriptArgs, screenshot } from "./browser.mjs";

const { url: site, arg: goldenPath, screenshotPath } = scriptArgs(
  "time-zones.mjs <site dir> <golden.json> <screenshotPath>",
);

// Integers of 16 digits or more (instants) are read as strings, so none loses precision.
const text = await readFile(goldenPath, "utf8");
const golden = JSON.parse(text.replace(/(?<=[[,:\s])(-?\d{16,})(?=[\],\s}])/g, '"$1"'));

const types = { ".js": "text/javascript", ".wasm": "application/wasm", ".html": "text/html" };
const server = createServer(async (req, res) => {
  const path = normalize(decodeURIComponent(new URL(req.url, "http://x").pathname));
  if (path === "/time.html") {
    res.writeHead(200, { "content-type": "text/html" });
    res.end("<!doctype html><title>time zones</title><pre id=out>running</pre>");
    return;
  }
  try {
    const body = await readFile(join(site, path));
    res.writeHead(200, { "content-type": types[extname(path)] ?? "application/octet-stream" });
    res.end(body);
  } catch {
    res.writeHead(404);
    res.end();
  }
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const base = `http://127.0.0.1:${server.address().port}`;

const browser = await launch();
try {
  const page = await browser.newPage();
  await page.goto(`${base}/time.html`);
  const result = await page.evaluate(async (golden) => {
    const wasm = await import("/pkg/streamglass_wasm.js");
    await wasm.default();
    const session = new wasm.Session();
    const big = (v) => (v === null ? null : BigInt(v));
    const source = session.newTable([
      ["T", "timestamp"],
      ["U", "timestamp"],
      ["N", "long"],
    ]);
    source.addRows(golden.rows.map((r) => [big(r.T), big(r.U), big(r.N)]));
    session.runCycle();
    // Longs come as Numbers when safe and as BigInts beyond; instants as BigInts; the golden
    // file's long integers were read as strings.
    const same = (got, want) => {
      if (want === null || got === null) return got === want;
      if (typeof got === "bigint" || typeof want === "string" && typeof got === "number") {
        return String(got) === String(want);
      }
      return got === want;
    };
    const failures = [];
    let checked = 0;
    for (const c of [...golden.cases, ...golden.literals]) {
      let view;
      try {
        view = source.updateView([`X = ${c.formula}`]);
      } catch (e) {
        failures.push(`${c.formula}: ${e}`);
        continue;
      }
      const port = view.viewport(0, golden.rows.length);
      const x = port.columns.indexOf("X");
      port.rows.forEach((row, i) => {
        const want = Array.isArray(c.expect) ? c.expect[i] : c.expect;
        checked += 1;
        if (!same(row[x], want)) {
          failures.push(`${c.formula} at row ${i}: got ${row[x]}, want ${want}`);
        }
      });
      view.close();
    }
    document.getElementById("out").textContent = `${checked} checked, ${failures.length} failed`;
    return { checked, failures: failures.slice(0, 50) };
  }, golden);
  await screenshot(page, screenshotPath);
  console.log(JSON.stringify(result));
} finally {
  await browser.close();
  server.close();
}
