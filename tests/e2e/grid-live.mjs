#!/usr/bin/env node
// A grid's view ticks with its table: on a live replay, agg_append sorted by Total_Size (a header
// click) and filtered on Instrument (`usd`), read twice some seconds apart, in headless Chromium.
//
//   node tests/e2e/grid-live.mjs <url> <sizeOffset> <screenshotPath>
//
// Each read has the view's rows (the worker's test hook) and, checked here in the page against
// the table's own rows read at the same time: whether the view is in Total_Size's order, holds
// only rows whose Instrument contains "usd" (any case), and as many as the table has; plus the
// view's Trade_Count total, which grows as trades arrive. Prints one line of JSON; the Rust test
// (page_e2e/grid.rs) asserts on it. Exit 1 on a page error, a failed cell or a timeout.

import { launch, openPage, screenshot, scriptArgs, waiter } from "./browser.mjs";

const { url, arg: sizeOffset, screenshotPath } = scriptArgs("grid-live.mjs <url> <sizeOffset> <screenshotPath>", (a) => /^\d+$/.test(a));
const timeoutMs = Number(process.env.E2E_TIMEOUT_MS ?? "120000");
const browser = await launch();
try {
  const { page, failure } = await openPage(browser);
  const until = waiter(failure, Date.now() + timeoutMs);
  await page.goto(`${url}?size_offset=${sizeOffset}`, { timeout: timeoutMs });
  await until("the notebook", () =>
    page.evaluate(() => {
      if (document.querySelector('.cell-state[data-state="failed"]')) throw new Error("a cell failed");
      return document.getElementById("notebook-state").dataset.state === "done" && Number(document.querySelector('[data-panel="diff_table"]')?.dataset.rows ?? 0) > 0;
    }),
  );
  await page.click('[data-panel="agg_append"] thead tr:first-child th[data-column="Total_Size"]');
  await page.fill('[data-testid="filter-agg_append-Instrument"]', "usd");
  await page.press('[data-testid="filter-agg_append-Instrument"]', "Enter");
  const read = () =>
    page.evaluate(async () => {
      // Two requests: a cycle may run between them, so a read whose two counts differ is retried.
      const [v, t] = await Promise.all([window.streamglass.shown("agg_append"), window.streamglass.read(["agg_append"]).then((r) => r.agg_append)]);
      const [c, s, i] = ["Trade_Count", "Total_Size", "Instrument"].map((n) => v.columns.indexOf(n));
      const usd = (name) => name.toLowerCase().includes("usd");
      return {
        rows: v.rows.length,
        tableRows: t.rows.filter((r) => usd(r[t.columns.indexOf("Instrument")])).length,
        sorted: v.rows.every((r, k) => k === 0 || v.rows[k - 1][s] <= r[s]),
        filtered: v.rows.every((r) => usd(r[i])),
        count: v.rows.reduce((a, r) => a + Number(r[c]), 0),
        tableCount: t.rows.filter((r) => usd(r[t.columns.indexOf("Instrument")])).reduce((a, r) => a + Number(r[t.columns.indexOf("Trade_Count")]), 0),
      };
    });
  const first = await until("the view", async () => {
    const r = await read();
    return r.rows > 0 && r.count === r.tableCount ? r : null;
  });
  const later = await until("trades to arrive", async () => {
    const r = await read();
    return r.count > first.count && r.count === r.tableCount ? r : null;
  });
  await screenshot(page, screenshotPath);
  console.log(JSON.stringify({ first, later }));
} finally {
  await browser.close();
}
