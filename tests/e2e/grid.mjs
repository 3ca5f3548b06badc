#!/usr/bin/env node
// The grid as a user works in it, on the seed notebook's agg_append, in headless Chromium.
//
//   node tests/e2e/grid.mjs <url> <sizeOffset> <screenshotPath>
//
// Runs the notebook at <url>?size_offset=<sizeOffset> until every cell ran and the consumers
// are caught up (the recording is finite: the tables then hold still), makes the engine's own
// references from the console (`agg_append.sort(...)`, `sortDescending(...)`, `where(...)`), then:
//   1. clicks Total_Size's header: ascending, then descending, then off, reading each time the
//      rows the panel shows (the worker's test hook) and the cells drawn in the grid;
//   2. types a text filter under Instrument and a range under Trade_Count (and both with the
//      sort), reading the rows shown;
//   3. types a bad number under Total_Size: an inline error, and the panel still shows rows;
//   4. selects cells (a click, a shift-click) and copies them with Ctrl+C, reading the clipboard;
//   5. clicks a cell: the row's side panel;
//   6. sorts and unsorts three times: the session's bytes come back to what they were; drags
//      Instrument's resize handle: the width holds through a sort (a redraw) and through closing
//      and reopening the panel, as does the sort;
//   7. on a panel of trades_append's KafkaTimestamp, types `>= <a time>` (ISO, no zone: the
//      page's, UTC) and reads the rows shown, against the engine's `where` on the same instant
//      in Z; clicks a row: its time in the side panel.
// Prints one line of JSON with what it saw; the Rust test (page_e2e/grid.rs) asserts on it.
// Exit 1 on a page error, a failed cell or a timeout.

import { launch, openPage, screenshot, scriptArgs, waiter } from "./browser.mjs";

const { url, arg: sizeOffset, screenshotPath } = scriptArgs("grid.mjs <url> <sizeOffset> <screenshotPath>", (a) => /^\d+$/.test(a));
const timeoutMs = Number(process.env.E2E_TIMEOUT_MS ?? "120000");
const deadline = Date.now() + timeoutMs;

const browser = await launch();
try {
  const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: new URL(url).origin });
  let failed = null;
  const page = await context.newPage();
  page.on("pageerror", (e) => (failed ??= `page error: ${e.message}`));
  page.on("console", (m) => m.type() === "error" && console.error(`console: ${m.text()}`));
  const until = waiter(() => failed, deadline);
  const check = (what, fn, arg) => until(what, () => page.evaluate(fn, arg));
  await page.goto(`${url}?size_offset=${sizeOffset}`, { timeout: timeoutMs });

  await check("the notebook", () => {
    if (document.querySelector('.cell-state[data-state="failed"]')) throw new Error("a cell failed");
    const done = document.getElementById("notebook-state").dataset.state === "done";
    const diff = Number(document.querySelector('[data-panel="diff_table"]')?.dataset.rows ?? 0);
    return done && document.getElementById("caught-up").dataset.caughtUp === "true" && diff > 0;
  });

  // The engine's own answers, from the console; the range holds the middle half of the counts.
  const textFilter = "btc";
  const counts = await page.evaluate(async () => {
    const t = (await window.streamglass.read(["agg_append"])).agg_append;
    const at = t.columns.indexOf("Trade_Count");
    return t.rows.map((r) => Number(r[at])).sort((a, b) => a - b);
  });
  const range = [counts[Math.floor(counts.length / 4)], counts[Math.floor((3 * counts.length) / 4)]];
  await page.fill('[data-testid="console-code"]', `const ref_asc = agg_append.sort(["Total_Size"]);
const ref_desc = agg_append.sortDescending(["Total_Size"]);
const ref_text = agg_append.where(["Instrument.toLowerCase().contains(\`${textFilter}\`)"]);
const ref_range = agg_append.where(["inRange(Trade_Count, ${range[0]}, ${range[1]})"]);
const ref_both = agg_append.where(["inRange(Trade_Count, ${range[0]}, ${range[1]})"]).sortDescending(["Total_Size"]);
return { ref_asc, ref_desc, ref_text, ref_range, ref_both };`);
  await page.click('[data-testid="console-run"]');
  await check("the references", () => document.getElementById("console-result").dataset.state === "done");
  const refs = await page.evaluate(() => window.streamglass.read(["agg_append", "ref_asc", "ref_desc", "ref_text", "ref_range", "ref_both"]));

  const panel = '[data-panel="agg_append"]';
  // What the panel shows: every row of its view (the worker's hook) and the cells drawn.
  const shownNow = () =>
    page.evaluate(async (panel) => {
      const view = await window.streamglass.shown("agg_append");
      const grid = document.querySelector(`${panel} regular-table`);
      const drawn = [...grid.querySelectorAll("tbody tr")].map((tr) => Object.fromEntries([...tr.querySelectorAll("td")].map((td) => [td.dataset.column, td.textContent])));
      const headers = Object.fromEntries([...grid.querySelectorAll("thead tr:first-child th")].map((th) => [th.dataset.column, { sort: th.dataset.sort ?? "", text: th.textContent, title: th.title }]));
      const stats = document.querySelector('[data-testid="stats-agg_append"]').textContent;
      return { rows: view.rows, columns: view.columns, totalRows: view.totalRows, drawn, headers, stats };
    }, panel);
  // Waits until the header shows `sort` and the grid draws the view's rows (their first cells).
  const settled = async (what, sort) =>
    until(what, async () => {
      const s = await shownNow();
      if ((s.headers.Total_Size?.sort ?? "") !== sort || s.drawn.length < Math.min(3, s.rows.length)) return null;
      const [e, i] = [s.columns.indexOf("Exchange"), s.columns.indexOf("Instrument")];
      const same = s.drawn.every((cells, r) => cells.Exchange === undefined || r >= s.rows.length || (cells.Exchange === s.rows[r][e] && cells.Instrument === s.rows[r][i]));
      return same ? s : null;
    });
  const header = `${panel} thead tr:first-child th[data-column="Total_Size"]`;

  // 1. Sort by a header click: ascending, descending, off.
  await page.click(header);
  const ascending = await settled("the ascending sort", "ascending");
  await page.click(header);
  const descending = await settled("the descending sort", "descending");
  await page.click(header);
  const unsorted = await settled("no sort", "");

  // 2. Filters: text, then a range, then the range with a descending sort.
  const filter = (column) => `${panel} [data-testid="filter-agg_append-${column}"]`;
  const rowsAre = (what, n) => until(what, async () => {
    const s = await shownNow();
    return s.rows.length === n ? s : null;
  });
  await page.fill(filter("Instrument"), textFilter.toUpperCase());
  await page.press(filter("Instrument"), "Enter");
  const text = await rowsAre("the text filter", refs.ref_text.rows.length);
  text.stats = await check("the stats line", (n) => {
    const t = document.querySelector('[data-testid="stats-agg_append"]').textContent;
    return t.includes(`(${n} shown)`) ? t : null;
  }, refs.ref_text.rows.length);
  await page.fill(filter("Instrument"), "");
  await page.press(filter("Instrument"), "Enter");
  const exchange = refs.agg_append.rows[0][refs.agg_append.columns.indexOf("Exchange")];
  const exchangeRows = refs.agg_append.rows.filter((r) => r[refs.agg_append.columns.indexOf("Exchange")] === exchange).length;
  await page.fill(filter("Exchange"), `=${exchange.toUpperCase()}`);
  await page.press(filter("Exchange"), "Enter");
  const exact = await rowsAre("the exact filter", exchangeRows);
  await page.fill(filter("Exchange"), "");
  await page.press(filter("Exchange"), "Enter");
  await page.fill(filter("Trade_Count"), `${range[0]}..${range[1]}`);
  await page.press(filter("Trade_Count"), "Enter");
  const ranged = await rowsAre("the range filter", refs.ref_range.rows.length);
  await page.click(header);
  await page.click(header);
  const both = await settled("the range, sorted descending", "descending");

  // 3. A bad filter: an inline error; the panel keeps its rows.
  await page.fill(filter("Total_Size"), "lots");
  await page.press(filter("Total_Size"), "Enter");
  const bad = await check("the filter's error", () => {
    const box = document.querySelector('[data-testid="filter-errors-agg_append"]');
    const input = document.querySelector('[data-testid="filter-agg_append-Total_Size"]');
    return box?.textContent && input.classList.contains("invalid") ? { message: box.textContent, title: input.title } : null;
  });
  const afterBad = await shownNow();
  await page.fill(filter("Total_Size"), "");
  await page.press(filter("Total_Size"), "Enter");
  await page.fill(filter("Trade_Count"), "");
  await page.press(filter("Trade_Count"), "Enter");
  await page.click(header);
  const plain = await settled("the plain table again", "");

  // 4. Copy: a click on row 0's Exchange, a shift-click on row 2's Trade_Count, Ctrl+C.
  const cell = (row, column) => `${panel} tbody tr:nth-child(${row + 1}) td[data-column="${column}"]`;
  await page.click(cell(0, "Exchange"));
  await page.click(cell(2, "Trade_Count"), { modifiers: ["Shift"] });
  const selected = await page.evaluate((panel) => document.querySelectorAll(`${panel} td.selected`).length, panel);
  await page.keyboard.press("Control+C");
  await check("the copy", (panel) => document.querySelector(panel).dataset.copied === "3", panel);
  const clipboard = await page.evaluate(() => navigator.clipboard.readText());

  // 5. A click on row 1: its cells in the side panel.
  await page.click(cell(1, "Instrument"));
  const side = await check("the row's panel", () => {
    const aside = document.querySelector('[data-testid="row-agg_append"]');
    if (!aside || aside.dataset.row !== "1") return null;
    return { head: aside.querySelector(".row-detail-head span").textContent, cells: Object.fromEntries([...aside.querySelectorAll("dd")].map((dd) => [dd.dataset.column, dd.textContent])) };
  });

  // 6. Views closed give their memory back; widths and the sort outlive a redraw and a reopen.
  const bytes = () => page.evaluate(() => window.streamglass.sessionStats()?.bytesUsed ?? null);
  const steady = async (what) => {
    // The session's stats as a later frame brings them (they are refreshed every cycle).
    await new Promise((r) => setTimeout(r, 600));
    return until(what, bytes);
  };
  const bytesBefore = await steady("the session's bytes");
  let bytesSorted = 0;
  for (let i = 0; i < 3; i++) {
    await page.click(header);
    await settled("a sort", "ascending");
    bytesSorted = Math.max(bytesSorted, await steady("the bytes sorted"));
    await page.click(header);
    await settled("a sort", "descending");
    await page.click(header);
    await settled("no sort", "");
  }
  const bytesAfter = await steady("the bytes after");
  const width = () =>
    page.evaluate((panel) => document.querySelector(`${panel} thead tr:first-child th[data-column="Instrument"]`).getBoundingClientRect().width, panel);
  const widthBefore = await width();
  const handle = await page.locator(`${panel} thead tr:first-child th[data-column="Instrument"] .rt-column-resize`).boundingBox();
  await page.mouse.move(handle.x + handle.width / 2, handle.y + handle.height / 2);
  await page.mouse.down();
  await page.mouse.move(handle.x + handle.width / 2 + 40, handle.y + handle.height / 2, { steps: 5 });
  await page.mouse.move(handle.x + handle.width / 2 + 80, handle.y + handle.height / 2, { steps: 5 });
  await page.mouse.up();
  const widthResized = await until("the resize", async () => {
    const w = await width();
    return w > widthBefore + 40 ? w : null;
  });
  await page.click(header);
  await settled("a sort after the resize", "ascending");
  const widthSorted = await width();
  await page.click('[data-testid="close-agg_append"]');
  await page.click("#panels-menu summary");
  await page.click('[data-testid="menu-agg_append"]');
  await page.click("#panels-menu summary");
  const reopened = await settled("the reopened panel, sorted", "ascending");
  const widthReopened = await width();
  const memory = { bytesBefore, bytesSorted, bytesAfter, widthBefore, widthResized, widthSorted, widthReopened, reopened };

  // 7. A time filter, on a panel of the trades' Kafka timestamps.
  await page.fill('[data-testid="console-code"]', "return { stamps: trades_append.view([\"KafkaTimestamp\"]) };");
  await page.click('[data-testid="console-run"]');
  await check("the stamps panel", () => Number(document.querySelector('[data-panel="stamps"]')?.dataset.rows ?? 0) > 0);
  const stamps = (await page.evaluate(() => window.streamglass.read(["stamps"]))).stamps;
  const cutoffMs = Number(BigInt(stamps.rows[Math.floor(stamps.rows.length / 2)][0]) / 1000000n);
  const typed = `>= ${new Date(cutoffMs).toISOString().replace("Z", "")}`;
  await page.fill('[data-testid="console-code"]', `return { ref_time: stamps.where(["KafkaTimestamp >= '${new Date(cutoffMs).toISOString()}'"]) };`);
  await page.click('[data-testid="console-run"]');
  await check("ref_time", () => !!document.querySelector('[data-panel="ref_time"]'));
  const refTime = (await page.evaluate(() => window.streamglass.read(["ref_time"]))).ref_time;
  await page.fill('[data-testid="filter-stamps-KafkaTimestamp"]', typed);
  await page.press('[data-testid="filter-stamps-KafkaTimestamp"]', "Enter");
  const timeView = await until("the time filter", async () => {
    const v = await page.evaluate(() => window.streamglass.shown("stamps"));
    return v.rows.length < stamps.rows.length ? v : null;
  });
  await page.click('[data-panel="stamps"] tbody tr:nth-child(1) td[data-column="KafkaTimestamp"]');
  const timeSide = await check("the stamp's row", () => {
    const aside = document.querySelector('[data-testid="row-stamps"]');
    const text = aside?.querySelector('dd[data-column="KafkaTimestamp"]')?.textContent;
    return text ? { row: Number(aside.dataset.row), text } : null;
  });
  // The page's zone changes: the same text now reads in New York (UTC-5 in January).
  await page.selectOption('[data-testid="zone"]', "America/New_York");
  const newYork = await until("the time filter in New York", async () => {
    const v = await page.evaluate(() => window.streamglass.shown("stamps"));
    return v.rows.length !== timeView.rows.length ? v : null;
  });
  const time = { newYork: newYork.rows.map((r) => r[0]), typed, cutoffMs, all: stamps.rows.map((r) => r[0]), shown: timeView.rows.map((r) => r[0]), ref: refTime.rows.map((r) => r[0]), side: timeSide };
  await screenshot(page, screenshotPath);

  const out = { range, refs, ascending, descending, unsorted, text, exact, exchange, ranged, both, bad, afterBad, plain, selected, clipboard, side, memory, time };
  console.log(JSON.stringify(out, (_, v) => (typeof v === "bigint" ? v.toString() : v)));
} finally {
  await browser.close();
}
