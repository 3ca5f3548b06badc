#!/usr/bin/env node
// Export as a user does it, in headless Chromium: the notebook's agg_append downloaded from its
// panel's menu in each format, and trades_append with `table.download("arrow")` from the console.
//
//   node tests/e2e/export.mjs <url> <sizeOffset> <screenshotPath>
//
// Runs the notebook at <url>?size_offset=<sizeOffset> (a finite recording: once every record is
// in, the tables stop changing) until every cell ran, the consumers are caught up, trades_append
// holds <sizeOffset> rows and agg_append has counted them; reads each table
// through the worker's viewport (what the panels show) before and after its downloads; clicks the
// panel's ⤓ menu and "Download CSV", "Download JSON lines", "Download Arrow" (with the panel
// filtered to one exchange: the files hold what it shows), and runs the console
// code, catching each download and saving it next to the screenshot. Prints one line of JSON:
// {tables: {name: {before, after}}, downloads: [{table, format, suggested, path}]}, where a
// table is {columns, types, rows} with every cell JSON-safe (longs and times past 2^53 as
// decimal strings, non-finite doubles as "NaN"/"Infinity"/"-Infinity", binary as hex). Exit 1
// on a failed cell, a page error or a timeout.

import { dirname, join } from "node:path";
import { launch, openPage, screenshot, scriptArgs, waiter } from "./browser.mjs";

const { url, arg: sizeOffset, screenshotPath } = scriptArgs("export.mjs <url> <sizeOffset> <screenshotPath>", (a) => /^\d+$/.test(a));
const timeoutMs = Number(process.env.E2E_TIMEOUT_MS ?? "120000");
const out = dirname(screenshotPath);

const browser = await launch();
try {
  const { page, failure } = await openPage(browser);
  const until = waiter(failure, Date.now() + timeoutMs);
  await page.goto(`${url}?size_offset=${sizeOffset}`, { timeout: timeoutMs });
  await until("the notebook, caught up", () =>
    page.evaluate(() => {
      if (document.querySelector('.cell-state[data-state="failed"]')) throw new Error("a cell failed");
      return (
        document.getElementById("notebook-state").dataset.state === "done" &&
        document.getElementById("caught-up").dataset.caughtUp === "true" &&
        Number(document.querySelector('[data-panel="agg_append"]')?.dataset.rows ?? 0) > 0
      );
    }),
  );
  // Every record of the seek is in: the append table holds size_offset rows and agg_append has
  // counted them all (the tables no longer change).
  await until("every record in agg_append", () =>
    page.evaluate(async (expected) => {
      const t = (await window.streamglass.read(["agg_append", "trades_append"]));
      const at = t.agg_append.columns.indexOf("Trade_Count");
      const counted = t.agg_append.rows.reduce((s, r) => s + Number(r[at]), 0);
      return t.trades_append.totalRows === expected && counted === expected;
    }, Number(sizeOffset)),
  );
  // A table's rows (`view`: what its panel shows, with the grid's sort and filters).
  const read = (name, view = false) =>
    page.evaluate(async ({ name, view }) => {
      const t = view ? await window.streamglass.shown(name) : (await window.streamglass.read([name]))[name];
      const cell = (v) => {
        if (typeof v === "bigint") return v.toString();
        if (typeof v === "number" && !Number.isFinite(v)) return Number.isNaN(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity";
        if (v instanceof Uint8Array) return [...v].map((b) => b.toString(16).padStart(2, "0")).join("");
        if (Array.isArray(v)) return v.map(cell);
        return v;
      };
      return { columns: t.columns, types: t.types, rows: t.rows.map((r) => r.map(cell)) };
    }, { name, view });
  const save = async (download, table, format) => {
    const suggested = download.suggestedFilename();
    const path = join(out, `export-${table}.${format}`);
    await download.saveAs(path);
    return { table, format, suggested, path };
  };

  // The panel filtered to one exchange (the grid's filter, an engine `where`): its downloads hold
  // what it shows, not the whole table.
  const whole = await read("agg_append");
  const exchange = whole.rows[0][whole.columns.indexOf("Exchange")];
  const kept = whole.rows.filter((r) => r[whole.columns.indexOf("Exchange")] === exchange).length;
  const filter = '[data-panel="agg_append"] [data-testid="filter-agg_append-Exchange"]';
  await page.fill(filter, `=${exchange}`);
  await page.press(filter, "Enter");
  await until(`agg_append filtered to ${exchange}`, async () => (await read("agg_append", true)).rows.length === kept);
  const tables = { agg_append: { whole, exchange, before: await read("agg_append", true) } };
  const downloads = [];
  for (const format of ["csv", "jsonl", "arrow"]) {
    await page.click('[data-testid="download-agg_append"]');
    if (format === "arrow") await screenshot(page, screenshotPath);
    const caught = page.waitForEvent("download", { timeout: timeoutMs });
    await page.click(`[data-testid="download-agg_append-${format}"]`);
    downloads.push(await save(await caught, "agg_append", format));
  }
  tables.agg_append.after = await read("agg_append", true);

  tables.trades_append = { before: await read("trades_append") };
  const caught = page.waitForEvent("download", { timeout: timeoutMs });
  await page.fill('[data-testid="console-code"]', 'trades_append.download("arrow");\nreturn null;');
  await page.click('[data-testid="console-run"]');
  downloads.push(await save(await caught, "trades_append", "arrow"));
  tables.trades_append.after = await read("trades_append");
  if (failure()) throw new Error(failure());
  console.log(JSON.stringify({ tables, downloads }));
} finally {
  await browser.close();
}
