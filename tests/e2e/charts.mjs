#!/usr/bin/env node
// Charts (`Plot`) in the notebook page, against a recording replayed as live, in headless
// Chromium, typed into the console as a user would.
//
//   node tests/e2e/charts.mjs <url> <sizeOffset> <screenshotPath>
//
// Runs the seed notebook at <url>?size_offset=<sizeOffset> until every cell ran and the consumers
// caught up, then from the console:
//   1. charts of `trades_append` (live) and of `sample`, a static snapshot of it: Price over
//      KafkaTimestamp by Instrument, of all of it and of its first 2,000 rows; a histogram of
//      Size; 1-minute OHLC bars of BTC/USD (`btc_minutes`, an aggBy of the snapshot);
//   2. what each chart's panel was sent (`window.streamglass.chart`, the worker's test hook),
//      with the panel's pixel width, and the snapshot's rows (Instrument, KafkaTimestamp, Price,
//      Size) and btc_minutes' bars, each read in one turn of the worker;
//   3. the live chart again once trades_append has grown: it ticks;
//   4. closes the live chart's panel (×) and reopens it from the Panels menu; drops a chart from
//      the menu;
//   5. three calls that must fail (an unknown column, a string y, a `by` of too many keys);
//   6. duplicates the seed notebook, adds a cell that plots trades_append's Price by Instrument
//      and runs it with Shift+Enter: the chart opens in the cell.
// Saves a screenshot with the charts in view and prints one line of JSON: {width, live: [first,
// later], sample, small, histogram, ohlc, inCell (hook answers), rows (the snapshot's rows),
// bars, panels, errors}. Timestamps are decimal strings. Exit 1 on a page error, a failed cell or a
// timeout (E2E_TIMEOUT_MS, default 180000).

import { launch, openPage, screenshot, scriptArgs, waiter } from "./browser.mjs";

const { url, arg: sizeOffset, screenshotPath } = scriptArgs("charts.mjs <url> <sizeOffset> <screenshotPath>", (a) => /^\d+$/.test(a));
const timeoutMs = Number(process.env.E2E_TIMEOUT_MS ?? "180000");
const deadline = Date.now() + timeoutMs;

const CHARTS = `const sample = trades_append.snapshot();
const btc_minutes = sample.where("Instrument = \`BTC/USD\`")
  .updateView(["Minute = lowerBin(KafkaTimestamp, MINUTE)"])
  .aggBy([Agg.first("Open = Price"), Agg.max("High = Price"), Agg.min("Low = Price"), Agg.last("Close = Price")], ["Minute"]);
return {
  price_by_instrument: Plot.line(trades_append, { x: "KafkaTimestamp", y: "Price", by: ["Instrument"] }),
  sample_prices: Plot.line(sample, { x: "KafkaTimestamp", y: "Price", by: ["Instrument"] }),
  small_prices: Plot.scatter(sample.head(2000), { x: "KafkaTimestamp", y: "Price", by: ["Instrument"] }),
  size_histogram: Plot.histogram(sample, { x: "Size", bins: 25 }),
  btc_minutes,
  btc_ohlc: Plot.ohlc(btc_minutes, { x: "Minute", open: "Open", high: "High", low: "Low", close: "Close" }),
  sample,
};`;

const FAILING = [
  `return Plot.line(trades_append, { x: "Nope", y: "Price" });`,
  `return Plot.line(trades_append, { x: "KafkaTimestamp", y: "Instrument" });`,
  `return Plot.line(trades_append, { x: "KafkaTimestamp", y: "Price", by: ["KafkaOffset"] });`,
];

const browser = await launch();
try {
  const { page, failure } = await openPage(browser);
  const until = waiter(failure, deadline);
  await page.goto(`${url}?size_offset=${sizeOffset}`, { timeout: timeoutMs });
  await until("the notebook, caught up", () =>
    page.evaluate((n) => {
      if (document.querySelector('.cell-state[data-state="failed"]')) throw new Error("a cell failed");
      const done = document.getElementById("notebook-state").dataset.state === "done";
      const s = window.streamglass.status();
      return done && s?.consumers.length > 0 && s.consumers.every((c) => c.caughtUp) && window.streamglass.stats(["trades_append"]).then((t) => (t.trades_append?.rows ?? 0) >= n);
    }, Number(sizeOffset)),
  );

  const runConsole = async (code) => {
    await page.fill('[data-testid="console-code"]', code);
    await page.click('[data-testid="console-run"]');
    return until("the console's result", () =>
      page.evaluate(() => {
        const r = document.getElementById("console-result");
        return r.textContent === "running…" ? null : { state: r.dataset.state, result: r.textContent };
      }),
    );
  };
  const made = await runConsole(CHARTS);
  if (made.state !== "done") throw new Error(`the charts failed: ${made.result}`);
  const charts = ["price_by_instrument", "sample_prices", "small_prices", "size_histogram", "btc_ohlc"];
  for (const name of charts) {
    await until(`${name}'s panel drawn`, () =>
      page.evaluate((name) => Number(document.querySelector(`[data-panel="${name}"]`)?.dataset.points ?? 0) > 0, name),
    );
  }
  // The hook answers with what the panel was last sent, at its width.
  const hook = (name) =>
    page.evaluate(async (name) => {
      const c = await window.streamglass.chart(name);
      return {
        width: c.width,
        cycle: c.cycle,
        rows: c.rows,
        xType: c.xType,
        series: c.series.map((s) => ({ name: s.name, kind: s.kind, rows: s.rows, points: s.points, x: s.x, values: s.values })),
      };
    }, name);
  const summary = (c) => ({ ...c, series: c.series.map(({ name, rows, points, x }) => ({ name, rows, points, xMax: Math.max(...x) })) });
  const first = summary(await hook("price_by_instrument"));
  // The live replay adds trades: the chart's rows and x range grow.
  await until("the live chart to tick", async () => {
    const now = await hook("price_by_instrument");
    return now.rows > first.rows + 20;
  });
  const later = summary(await hook("price_by_instrument"));
  const sample = await hook("sample_prices");
  const small = await hook("small_prices");
  const histogram = await hook("size_histogram");
  const ohlc = await hook("btc_ohlc");
  const { rows, bars } = await page.evaluate(async () => {
    const text = (v) => (typeof v === "bigint" ? v.toString() : v);
    const tables = await window.streamglass.read(["sample", "btc_minutes"]);
    const pick = (t, columns) => t.rows.map((r) => columns.map((c) => text(r[t.columns.indexOf(c)])));
    return {
      rows: pick(tables.sample, ["Instrument", "KafkaTimestamp", "Price", "Size"]),
      bars: pick(tables.btc_minutes, ["Minute", "Open", "High", "Low", "Close"]),
    };
  });
  const width = await page.evaluate(() => document.querySelector('[data-panel="price_by_instrument"] .plot-host').clientWidth);

  // Close the live chart, reopen it from the Panels menu; drop small_prices.
  const panels = {};
  await page.click('[data-testid="close-price_by_instrument"]');
  panels.closed = await page.evaluate(() => document.querySelector('[data-panel="price_by_instrument"]') === null);
  await page.click('[data-testid="panels-menu"] summary');
  await until("the chart in the Panels menu", () =>
    page.evaluate(() => document.querySelector('[data-testid="menu-price_by_instrument"]')?.dataset.open === "false"),
  );
  await page.click('[data-testid="menu-price_by_instrument"]');
  panels.reopenedPoints = await until("the reopened chart drawn", () =>
    page.evaluate(() => Number(document.querySelector('[data-panel="price_by_instrument"]')?.dataset.points ?? 0)),
  );
  await page.click('[data-testid="drop-small_prices"]');
  panels.droppedGone = await until("small_prices gone from the menu", () =>
    page.evaluate(() => document.querySelector('[data-testid="menu-small_prices"]') === null && document.querySelector('[data-panel="small_prices"]') === null),
  );
  panels.menu = await page.evaluate(() => [...document.querySelectorAll('[data-testid="panels-list"] li')].map((li) => li.dataset.table));
  await page.click('[data-testid="panels-menu"] summary');

  const errors = [];
  for (const code of FAILING) errors.push(await runConsole(code));

  // As a user does it: the seed notebook duplicated, a cell added below diff_table that plots
  // trades_append's Price by Instrument, run with Shift+Enter; the chart opens in the cell.
  await page.click('[data-testid="notebook-duplicate"]');
  await until("the copy", () => page.evaluate(() => window.streamglass.notebook.startsWith("nb-")));
  const cellNames = () => page.evaluate(() => [...document.querySelectorAll("#cells article.cell")].map((a) => a.dataset.cell));
  const before = new Set(await cellNames());
  await page.click('[data-testid="below-diff_table"]');
  const added = (await cellNames()).find((n) => !before.has(n));
  await page.click(`article[data-cell="${added}"] .cm-content`);
  await page.keyboard.press("Control+A");
  await page.keyboard.press("Backspace");
  // Typed as one line (the editor closes brackets and quotes as they are typed, and skips over
  // the closing one typed next); Escape closes the completion list.
  await page.keyboard.type('return { price_chart: Plot.line(trades_append, { x: "KafkaTimestamp", y: "Price", by: ["Instrument"] }) };');
  await page.keyboard.press("Escape");
  await page.keyboard.press("Shift+Enter");
  await until("the cell's chart", () =>
    page.evaluate((cell) => {
      const state = document.querySelector(`[data-testid="cell-${cell}"]`)?.dataset.state;
      if (state === "failed") throw new Error(`the chart's cell failed: ${document.querySelector(`[data-testid="cell-${cell}"]`).textContent}`);
      return Number(document.querySelector(`article[data-cell="${cell}"] [data-panel="price_chart"]`)?.dataset.points ?? 0) > 0;
    }, added),
  );
  const inCell = summary(await hook("price_chart"));

  await page.evaluate((cell) => document.querySelector(`article[data-cell="${cell}"] [data-panel="price_chart"]`)?.scrollIntoView({ block: "center" }), added);
  await screenshot(page, screenshotPath);
  console.log(JSON.stringify({ width, live: [first, later], sample, small, histogram, ohlc, rows, bars, panels, errors, inCell }));
} catch (e) {
  console.error(`charts: ${e.message}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
