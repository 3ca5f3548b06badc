#!/usr/bin/env node
// The README's screenshot (docs/screenshot.png): the notebook page on the live demo, with charts.
//
//   cargo xtask demo &                       # serves the demo on http://127.0.0.1:8080/
//   node tests/e2e/readme-screenshot.mjs http://127.0.0.1:8080/ 1000000 docs/screenshot.png
//
// Runs the seed notebook with size_offset <sizeOffset> until both aggregations agree and a few
// seconds of live trades have come in, then from the console plots BTC's price by instrument
// (live) and 1-minute OHLC bars of BTC/USD, and saves a 1440×1000 screenshot scrolled down to
// the charts, under the notebook's last cell. Exit 1 on a page error or a timeout.

import { setTimeout as sleep } from "node:timers/promises";
import { launch, openPage, screenshot, scriptArgs, waiter } from "./browser.mjs";

const { url, arg: sizeOffset, screenshotPath } = scriptArgs("readme-screenshot.mjs <url> <sizeOffset> <screenshotPath>", (a) => /^\d+$/.test(a));
const timeoutMs = Number(process.env.E2E_TIMEOUT_MS ?? "180000");

const CHARTS = `const btc = trades_append.where("Instrument in \`BTC/USD\`, \`BTC/USDT\`");
const btc_minutes = trades_append.where("Instrument = \`BTC/USD\`")
  .updateView(["Minute = lowerBin(KafkaTimestamp, MINUTE)"])
  .aggBy([Agg.first("Open = Price"), Agg.max("High = Price"), Agg.min("Low = Price"), Agg.last("Close = Price")], ["Minute"]);
return {
  btc_price: Plot.line(btc, { x: "KafkaTimestamp", y: "Price", by: ["Instrument"] }).titled("BTC price by instrument, live"),
  btc_bars: Plot.ohlc(btc_minutes, { x: "Minute", open: "Open", high: "High", low: "Low", close: "Close" }).titled("BTC/USD, 1-minute bars"),
};`;

const browser = await launch();
try {
  const { page, failure } = await openPage(browser);
  const until = waiter(failure, Date.now() + timeoutMs);
  await page.goto(`${url}?size_offset=${sizeOffset}`, { timeout: timeoutMs });
  await until("both aggregations equal", () => page.evaluate(() => window.streamglass.timings.aggregationsEqual !== null));
  await sleep(5000);
  await page.fill('[data-testid="console-code"]', CHARTS);
  await page.click('[data-testid="console-run"]');
  for (const name of ["btc_price", "btc_bars"]) {
    await until(`${name} drawn`, () => page.evaluate((n) => Number(document.querySelector(`[data-panel="${n}"]`)?.dataset.points ?? 0) > 0, name));
  }
  await sleep(3000);
  // The two charts at the bottom of the view, the notebook's last cell above them.
  await page.evaluate(() => {
    const bottom = document.querySelector('[data-panel="btc_bars"]').getBoundingClientRect().bottom;
    window.scrollTo(0, window.scrollY + bottom - window.innerHeight + 16);
  });
  await sleep(500);
  await screenshot(page, screenshotPath, false);
} catch (e) {
  console.error(`readme-screenshot: ${e.message}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
