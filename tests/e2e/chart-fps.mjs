#!/usr/bin/env node
// The main thread's frame rate while the seed's tables ingest, with three charts of them open
// and without: a benchmark (BENCHMARKS.md), not a test.
//
//   node tests/e2e/chart-fps.mjs <url> <sizeOffset> [runs (default 3)]
//
// Each run opens <url>?run=0 in headless Chromium (playwright-core), counts animation frames
// from pressing the console's Run until both consumers caught up and trades_append holds
// <sizeOffset> rows, for the console code below with and without its three charts (a line of
// Price by Instrument, a histogram of Size, a scatter of Size over KafkaTimestamp, all of
// trades_append, all live through the ingest). The code is the seed notebook's tables (an
// append and a stream table of the newest <sizeOffset> trades, and the two aggregations).
// Prints one JSON line per run ({charts, fps, longestFrameMs, ingestMs}) and a summary.

import { launch, openApp } from "./browser.mjs";

const [url, sizeOffset, runsArg] = process.argv.slice(2);
if (!url || !/^\d+$/.test(sizeOffset ?? "")) {
  console.error("usage: node tests/e2e/chart-fps.mjs <url> <sizeOffset> [runs]");
  process.exit(2);
}
const runs = Number(runsArg ?? "3");
const timeoutMs = Number(process.env.E2E_TIMEOUT_MS ?? "120000");

const code = (charts) => `const trades_append = await session.consumeToTable({ offsets: "-${sizeOffset}", tableType: "append" });
const trades_stream = await session.consumeToTable({ offsets: "-${sizeOffset}", tableType: "stream" });
const aggs = [Agg.count("Trade_Count"), Agg.sum("Total_Size = Size")];
const agg_append = trades_append.aggBy(aggs, ["Exchange", "Instrument"]);
const agg_stream = trades_stream.aggBy(aggs, ["Exchange", "Instrument"]);
return { trades_append, agg_append, agg_stream${
  charts
    ? `,
  price: Plot.line(trades_append, { x: "KafkaTimestamp", y: "Price", by: ["Instrument"] }),
  sizes: Plot.histogram(trades_append, { x: "Size", bins: 40 }),
  size_scatter: Plot.scatter(trades_append, { x: "KafkaTimestamp", y: "Size" })`
    : ""
} };`;

async function once(browser, charts) {
  const deadline = Date.now() + timeoutMs;
  const { page, until } = await openApp(browser, url, timeoutMs, deadline);
  try {
    await page.evaluate(() => {
      window.fps = { count: 0, last: 0, longest: 0, on: false };
      const tick = (now) => {
        const f = window.fps;
        if (f.on) {
          if (f.count > 0) f.longest = Math.max(f.longest, now - f.last);
          f.count++;
          f.last = now;
        }
        requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    });
    await page.fill('[data-testid="console-code"]', code(charts));
    const started = await page.evaluate(() => {
      window.fps.on = true;
      window.fps.started = performance.now();
      return window.fps.started;
    });
    await page.click('[data-testid="console-run"]');
    const result = await until("caught up", () =>
      page.evaluate((n) => {
        const s = window.streamglass.status();
        const rows = Number(document.querySelector('[data-panel="trades_append"]')?.dataset.rows ?? 0);
        if (document.getElementById("console-result").dataset.state === "failed") throw new Error(document.getElementById("console-result").textContent);
        if (!(s?.consumers.length >= 2 && s.consumers.every((c) => c.caughtUp) && rows >= n)) return null;
        const f = window.fps;
        f.on = false;
        const ms = performance.now() - f.started;
        return { fps: (f.count * 1000) / ms, longestFrameMs: f.longest, ingestMs: ms };
      }, Number(sizeOffset)),
    );
    void started;
    return { charts, ...result };
  } finally {
    await page.close();
  }
}

const browser = await launch();
try {
  const all = [];
  for (let run = 1; run <= runs; run++) {
    for (const charts of [true, false]) {
      const r = await once(browser, charts);
      all.push(r);
      console.log(JSON.stringify({ run, ...r }));
    }
  }
  const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  for (const charts of [true, false]) {
    const mine = all.filter((r) => r.charts === charts);
    console.log(JSON.stringify({ charts, runs, medianFps: median(mine.map((r) => r.fps)), medianLongestFrameMs: median(mine.map((r) => r.longestFrameMs)), medianIngestMs: median(mine.map((r) => r.ingestMs)) }));
  }
} finally {
  await browser.close();
}
