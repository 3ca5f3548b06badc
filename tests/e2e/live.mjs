#!/usr/bin/env node
// The notebook against a recording replayed as live, in headless Chromium: the catch-up burst,
// then live trades trickling in.
//
//   node tests/e2e/live.mjs <url> <sizeOffset> <screenshotPath>
//
// Opens <url>?size_offset=<sizeOffset>&interval=1000 (one-second cycles, so the catch-up lands
// in few cycles), reads row_count_merge every 50 ms until the notebook ran, the consumers are
// caught up and the append table holds the catch-up's rows, then sets the cycle to 100 ms (the Update-every setting) and reads it for
// E2E_LIVE_MS (default 5000) more. Prints one line of JSON: {catchUp: [stream counts seen before
// caught up], live: [{stream, append}], caughtUpMs}. A missing stream row (a cycle with no rows)
// reads as 0. Saves a screenshot. Exit 1 on a page error, a failed cell or a timeout.

import { setTimeout as sleep } from "node:timers/promises";
import { launch, openPage, rowCounts, screenshot, scriptArgs } from "./browser.mjs";

const { url, arg: sizeOffset, screenshotPath } = scriptArgs("live.mjs <url> <sizeOffset> <screenshotPath>", (a) => /^\d+$/.test(a));
const timeoutMs = Number(process.env.E2E_TIMEOUT_MS ?? "120000");
const liveMs = Number(process.env.E2E_LIVE_MS ?? "5000");

const browser = await launch();
try {
  const { page, failure } = await openPage(browser);
  const started = Date.now();
  await page.goto(`${url}?size_offset=${sizeOffset}&interval=1000`, { timeout: timeoutMs });
  // {stream, append, caughtUp, done} from the page's own row_count_merge.
  const read = async () => {
    const state = await page.evaluate(() => ({
      failed: !!document.querySelector('.cell-state[data-state="failed"]'),
      done: document.getElementById("notebook-state").dataset.state === "done",
      caughtUp: document.getElementById("caught-up").dataset.caughtUp === "true",
    }));
    return { ...state, ...(await rowCounts(page)) };
  };
  const catchUp = [];
  let caughtUpMs = null;
  while (true) {
    if (failure()) throw new Error(failure());
    if (Date.now() - started > timeoutMs) throw new Error(`timed out; stream counts so far: ${catchUp}`);
    const s = await read();
    if (s.failed) throw new Error("a cell failed");
    catchUp.push(s.stream);
    // Caught up, and a cycle has brought the catch-up's rows to the tables.
    if (s.done && s.caughtUp && s.append >= Number(sizeOffset)) {
      caughtUpMs = Date.now() - started;
      break;
    }
    await sleep(50);
  }
  await page.selectOption('[data-testid="interval"]', "100");
  await sleep(1500);
  const live = [];
  const until = Date.now() + liveMs;
  while (Date.now() < until) {
    if (failure()) throw new Error(failure());
    const s = await read();
    live.push({ stream: s.stream, append: s.append });
    await sleep(50);
  }
  await screenshot(page, screenshotPath);
  console.log(JSON.stringify({ catchUp, live, caughtUpMs }));
} catch (e) {
  console.error(`live: ${e.message}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
