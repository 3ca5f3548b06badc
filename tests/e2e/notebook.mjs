#!/usr/bin/env node
// Runs the notebook page ("Stream vs. Append") in headless Chromium and reports what it shows.
//
//   node tests/e2e/notebook.mjs <url> <sizeOffset> <screenshotPath>
//
// Opens <url>?size_offset=<sizeOffset>, waits (up to E2E_TIMEOUT_MS, default 120000) until every
// cell ran, the consumers are caught up, and agg_append, agg_stream, diff_table and
// row_count_merge hold rows that stopped changing; saves a screenshot; and prints one line of
// JSON: {elapsedMs, seedMs (from running the notebook to both aggregations agreeing on every
// record delivered), connection (the session's status: feeds and records received), tables: {name: {columns, rows, formats, totalRows}}, stats, renderedFormats,
// rendered: {name: {rows (visible rows' text by column), overflowing, tableWidth, panelWidth}}, errors}. Rows are read through the page's own panels (the worker's viewports), so
// they are what the user sees, unformatted. Exit 1 on a failed cell, a page error or a timeout.
//
// With E2E_APPEND_TARGET=N, once settled it first prints {"ready": true, "append": count} and
// waits for the append table to reach N rows (the caller produces more records meanwhile), then
// settles again and reports.

import { setTimeout as sleep } from "node:timers/promises";
import { launch, openPage, rowCounts, screenshot, scriptArgs } from "./browser.mjs";

const TABLES = ["agg_append", "agg_stream", "diff_table", "row_count_merge"];

const { url, arg: sizeOffset, screenshotPath } = scriptArgs("notebook.mjs <url> <sizeOffset> <screenshotPath>", (a) => /^\d+$/.test(a));
const timeoutMs = Number(process.env.E2E_TIMEOUT_MS ?? "120000");

const browser = await launch();
try {
  const { page, failure } = await openPage(browser);
  const started = Date.now();
  await page.goto(`${url}?size_offset=${sizeOffset}${process.env.E2E_QUERY ?? ""}`, { timeout: timeoutMs });
  // Waits until every cell ran, the consumers are caught up, the tables hold rows that stopped
  // changing for 1.5 s (and, with `countStable`, the append count too: not against a live
  // replay, where it never stops), and `also(snapshot)` holds.
  async function settle(also, countStable) {
    let previous = null;
    let stableSince = 0;
    let snapshot = null;
    while (true) {
      if (failure()) throw new Error(failure());
      if (Date.now() - started > timeoutMs) {
        throw new Error(`timed out; last state: ${JSON.stringify(snapshot)?.slice(0, 2000)}`);
      }
      snapshot = await page.evaluate(async (names) => {
        const state = document.getElementById("notebook-state").dataset.state;
        const caughtUp = document.getElementById("caught-up").dataset.caughtUp === "true";
        const failedCells = [...document.querySelectorAll('.cell-state[data-state="failed"]')].map((e) => e.textContent);
        // The worker's viewports, exactly as the panels received them.
        const tables = {};
        for (const name of names) {
          const panel = document.querySelector(`[data-panel="${name}"]`);
          if (!panel) continue;
          tables[name] = { totalRows: Number(panel.dataset.rows ?? 0), bytes: Number(panel.dataset.bytes ?? 0) };
        }
        const errors = [...document.querySelectorAll("#errors li")].map((li) => li.textContent).filter((t) => t !== "None.");
        return { state, caughtUp, failedCells, tables, errors, status: document.getElementById("status").dataset.status };
      }, TABLES);
      // The append table's row count, as row_count_merge shows it.
      snapshot.append = snapshot.state === "done" ? (await rowCounts(page)).append : 0;
      if (snapshot.failedCells.length) throw new Error(`a cell failed: ${snapshot.failedCells.join("; ")}`);
      if (snapshot.state === "failed") throw new Error("the notebook failed");
      const key = JSON.stringify([snapshot.tables, countStable ? snapshot.append : null]);
      const complete = snapshot.state === "done" && snapshot.caughtUp && TABLES.every((t) => snapshot.tables[t]?.totalRows > 0) && also(snapshot);
      if (complete && key === previous) {
        if (stableSince && Date.now() - stableSince > 1500) return snapshot;
      } else {
        stableSince = Date.now();
      }
      previous = key;
      await sleep(100);
    }
  }
  let snapshot = await settle(() => true, false);
  const appendTarget = process.env.E2E_APPEND_TARGET;
  if (appendTarget) {
    // The caller produces more records now, then the append count must reach the target.
    console.log(JSON.stringify({ ready: true, append: snapshot.append }));
    snapshot = await settle((s) => s.append >= Number(appendTarget), true);
  }
  const elapsedMs = Date.now() - started;
  // Read every row of the tables through the page's worker (the same call the panels make).
  const tables = await page.evaluate(async (names) => window.streamglass.read(names), TABLES);
  const appendBytes = await page.evaluate(() => window.streamglass.stats(["trades_append", "trades_stream"]));
  const timings = await page.evaluate(() => window.streamglass.timings);
  const connection = await page.evaluate(() => window.streamglass.status());
  const seedMs = timings.aggregationsEqual === null ? null : timings.aggregationsEqual - timings.runStarted;
  await screenshot(page, screenshotPath);
  const format = await page.evaluate(() =>
    [...document.querySelectorAll('[data-panel="agg_append"] td[data-column="Instrument"]')].map((td) => [td.textContent, td.dataset.format]),
  );
  // The grids as drawn: each visible row's text by column, the cells whose text does not fit
  // them, and the table's width against its panel's.
  const rendered = await page.evaluate((names) => {
    const out = {};
    for (const name of names) {
      const grid = document.querySelector(`[data-panel="${name}"] regular-table`);
      if (!grid) continue;
      const rows = [...grid.querySelectorAll("tbody tr")].map((tr) =>
        Object.fromEntries([...tr.children].filter((td) => td.dataset.column).map((td) => [td.dataset.column, td.textContent])),
      );
      const overflowing = [...grid.querySelectorAll("thead th, tbody td")].filter((c) => c.scrollWidth > c.clientWidth + 1).map((c) => c.textContent);
      out[name] = { rows, overflowing, tableWidth: grid.querySelector("table").getBoundingClientRect().width, panelWidth: grid.clientWidth };
    }
    return out;
  }, TABLES);
  console.log(JSON.stringify({ elapsedMs, seedMs, timings, connection, tables, stats: appendBytes, renderedFormats: format, rendered, errors: snapshot.errors }, (_, v) => (typeof v === "bigint" ? v.toString() : v)));
} catch (e) {
  console.error(`notebook: ${e.message}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
