#!/usr/bin/env node
// The page's console, typed into as a user would, in headless Chromium.
//
//   node tests/e2e/console.mjs <url> <plan> <screenshotPath>
//
// <plan> is JSON: {steps: [code, ...], records: N, read: {table: [columns] | null}}. Opens
// <url>?run=0 (no notebook runs), then for each step fills the console's textarea with its code
// and presses Run, and waits for its result; it stops at the first step that fails. Once every
// step ran, it waits until the connection has received `records` records in all and every
// consumer caught up, lets two more cycles run (so the tables hold them), and reads every row of
// the tables of `read` in one turn of the worker (at one cycle), keeping the columns named (null:
// all). BigInts (timestamps, in arrays too) are sent as decimal strings. Saves a screenshot and
// prints one line of JSON: {ran: [{code, state, result}], cycles, tables: {name: {columns, types,
// rows}}}; `tables` is absent when a step failed. Exit 1 on a page error or a timeout
// (E2E_TIMEOUT_MS, default 120000).

import { launch, openApp, planArgs, screenshot } from "./browser.mjs";

const { url, plan, screenshotPath, timeoutMs, deadline } = planArgs(
  "console.mjs <url> <plan> <screenshotPath>",
  (plan) => Array.isArray(plan.steps),
);

const browser = await launch();
try {
  const { page, until } = await openApp(browser, url, timeoutMs, deadline);

  const ran = [];
  for (const code of plan.steps) {
    await page.fill('[data-testid="console-code"]', code);
    await page.click('[data-testid="console-run"]');
    // The click shows "running…" at once; the result replaces it.
    const outcome = await until("the console's result", () =>
      page.evaluate(() => {
        const r = document.getElementById("console-result");
        return r.textContent === "running…" ? null : { state: r.dataset.state, result: r.textContent };
      }),
    );
    ran.push({ code, ...outcome });
    if (outcome.state !== "done") break;
  }
  const ok = ran.length === plan.steps.length && ran.every((r) => r.state === "done");

  let read = {};
  if (ok) {
    await until(`${plan.records} records, every consumer caught up`, () =>
      page.evaluate((records) => {
        const s = window.streamglass.status();
        return s?.records === records && s.consumers.length > 0 && s.consumers.every((c) => c.caughtUp);
      }, plan.records),
    );
    const cyclesNow = () => page.evaluate(async () => (await window.streamglass.snapshot([])).cycles);
    const since = await cyclesNow();
    await until("two more cycles", async () => (await cyclesNow()) >= since + 2);
    read = await page.evaluate(async (wanted) => {
      const text = (v) => (typeof v === "bigint" ? v.toString() : Array.isArray(v) ? v.map(text) : v);
      const { tables, cycles } = await window.streamglass.snapshot(Object.keys(wanted));
      const out = {};
      for (const [name, columns] of Object.entries(wanted)) {
        const t = tables[name];
        if (!t) continue;
        // A column asked for and missing keeps its name, with null cells.
        const names = columns ?? t.columns;
        const keep = names.map((c) => t.columns.indexOf(c));
        out[name] = {
          columns: names,
          types: keep.map((i) => t.types[i] ?? null),
          rows: t.rows.map((r) => keep.map((i) => (i < 0 ? null : text(r[i])))),
        };
      }
      return { cycles, tables: out };
    }, plan.read);
  }
  await screenshot(page, screenshotPath);
  console.log(JSON.stringify({ ran, ...read }));
} catch (e) {
  console.error(`console: ${e.message}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
