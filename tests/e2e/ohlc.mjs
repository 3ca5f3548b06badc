#!/usr/bin/env node
// The second built-in notebook ("Time on live trades") against a recording replayed as live, in
// headless Chromium, driven as a user would.
//
//   node tests/e2e/ohlc.mjs <url> <historyRows> <screenshotPath>
//
// Opens <url>?run=0 (the seed's notebook, not run), picks "ohlc" in the Notebook selector (the
// page loads again with ?notebook=ohlc and runs it), and waits (up to E2E_TIMEOUT_MS, default
// 180000) until every cell ran, the consumer caught up, and `trades` holds the history and
// E2E_LIVE_ROWS (default 500) live trades. Then it reads, each time in one turn of the worker
// (so at one cycle), every row of trades, btc_bars, last_5_minutes, top_trades, rolling and
// spread with the
// session's clock just before that cycle and at the read (now() read in the cycle lies between):
// once, and again once the clock has moved E2E_MOVE_MS (default 3000) of record time on. Then the grids as drawn: the first rows' text of btc_bars and trades in UTC, and
// again after picking America/New_York in the zone selector. Saves a screenshot and prints one
// line of JSON: {url, zoneUrl, selected, heading, expects, first, second ({cycles, clock:
// {atCycle, atRead}, tables}), rendered: {utc, zoned} ({panel: [{column: text}]}), zone}. BigInts (timestamps,
// the clock) are sent as decimal strings. Exit 1 on a failed cell, a page error or a timeout.

import { launch, openPage, waiter, screenshot, scriptArgs } from "./browser.mjs";

const TABLES = ["trades", "btc_bars", "last_5_minutes", "top_trades", "rolling", "spread"];
const ZONE = "America/New_York";

const { url, arg: history, screenshotPath } = scriptArgs("ohlc.mjs <url> <historyRows> <screenshotPath>", (a) => /^\d+$/.test(a));
const timeoutMs = Number(process.env.E2E_TIMEOUT_MS ?? "180000");
const liveRows = Number(process.env.E2E_LIVE_ROWS ?? "500");
const moveMs = Number(process.env.E2E_MOVE_MS ?? "3000");
const deadline = Date.now() + timeoutMs;

const browser = await launch();
try {
  const { page, failure } = await openPage(browser);
  const until = waiter(failure, deadline);

  await page.goto(`${url}?run=0`, { timeout: timeoutMs });
  await until("the Notebook selector", () => page.evaluate(() => document.querySelector('[data-testid="notebook"]')?.options.length > 1));
  await Promise.all([page.waitForURL(/[?&]notebook=ohlc/, { timeout: timeoutMs }), page.selectOption('[data-testid="notebook"]', "ohlc")]);
  const chosen = await page.evaluate(() => ({
    url: location.href,
    selected: document.querySelector('[data-testid="notebook"]').value,
    heading: document.getElementById("heading").textContent,
    expects: document.querySelector('[data-testid="notebook-expects"]').textContent,
  }));

  // Every row of the tables, at one cycle, with the engine's clock; BigInts as strings.
  const snapshot = () =>
    page.evaluate(async (names) => {
      const text = (v) => (typeof v === "bigint" ? v.toString() : v);
      const { tables, cycles, clock } = await window.streamglass.snapshot(names);
      for (const t of Object.values(tables)) t.rows = t.rows.map((r) => r.map(text));
      return { cycles, clock: { atCycle: text(clock.atCycle), atRead: text(clock.atRead) }, tables };
    }, TABLES);
  const rowsOf = (name) => page.evaluate(async (n) => (await window.streamglass.stats([n]))[n]?.rows ?? 0, name);

  await until("the notebook, caught up, with live trades", async () => {
    const state = await page.evaluate(() => {
      const failed = [...document.querySelectorAll('.cell-state[data-state="failed"]')].map((e) => e.textContent);
      if (failed.length) throw new Error(`a cell failed: ${failed.join("; ")}`);
      const notebook = document.getElementById("notebook-state").dataset.state;
      if (notebook === "failed") throw new Error("the notebook failed");
      return notebook === "done" && document.getElementById("caught-up").dataset.caughtUp === "true";
    });
    return state && (await rowsOf("trades")) >= Number(history) + liveRows;
  });
  const first = await snapshot();
  if (first.clock.atCycle === null) throw new Error("the page reports no session clock (session.now())");
  await until("the clock to move on", async () => {
    const now = await page.evaluate(async () => String((await window.streamglass.snapshot([])).clock.atCycle));
    return BigInt(now) - BigInt(first.clock.atCycle) >= BigInt(moveMs) * 1000000n;
  });
  const second = await snapshot();

  // The grids as drawn: each visible row's text by column, once the panel has rows.
  const rendered = (names) =>
    page.evaluate((names) => {
      const out = {};
      for (const name of names) {
        const grid = document.querySelector(`[data-panel="${name}"] regular-table`);
        out[name] = grid
          ? [...grid.querySelectorAll("tbody tr")].map((tr) =>
              Object.fromEntries([...tr.children].filter((td) => td.dataset.column).map((td) => [td.dataset.column, td.textContent])),
            )
          : [];
      }
      return out;
    }, names);
  const shown = ["btc_bars", "trades"];
  const utc = await until("the grids drawn in UTC", async () => {
    const r = await rendered(shown);
    return r.btc_bars[0]?.Minute && r.trades[0]?.KafkaTimestamp ? r : null;
  });
  await page.selectOption('[data-testid="zone"]', ZONE);
  const zoned = await until(`the grids drawn in ${ZONE}`, async () => {
    const r = await rendered(shown);
    const redrawn = (text) => text !== undefined && !text.endsWith(" UTC");
    return redrawn(r.btc_bars[0]?.Minute) && redrawn(r.trades[0]?.KafkaTimestamp) ? r : null;
  });
  const zoneUrl = await page.evaluate(() => location.href);
  await screenshot(page, screenshotPath);
  console.log(JSON.stringify({ ...chosen, zoneUrl, zone: ZONE, first, second, rendered: { utc, zoned } }));
} catch (e) {
  console.error(`ohlc: ${e.message}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
