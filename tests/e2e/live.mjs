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
import { launch, screenshot, scriptArgs } from "./browser.mjs";

const { url, arg: sizeOffset, screenshotPath } = scriptArgs("live.mjs <url> <sizeOffset> <screenshotPath>", (a) => /^\d+$/.test(a));
const timeoutMs = Number(process.env.E2E_TIMEOUT_MS ?? "120000");
const liveMs = Number(process.env.E2E_LIVE_MS ?? "5000");

const browser = await launch();
let failed = null;
try {
  const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
  page.on("pageerror", (e) => (failed ??= `page error: ${e.message}`));
  page.on("console", (m) => m.type() === "error" && console.error(`console: ${m.text()}`));
  const started = Date.now();
  await page.goto(`${url}?size_offset=${sizeOffset}&interval=1000`, { timeout: timeoutMs });
  // {stream, append, caughtUp, done} from the page's own row_count_merge.
  const read = () =>
    page.evaluate(async () => {
      if (document.querySelector('.cell-state[data-state="failed"]')) return { failed: true };
      const done = document.getElementById("notebook-state").dataset.state === "done";
      const caughtUp = document.getElementById("caught-up").dataset.caughtUp === "true";
      const t = (await window.streamglass.read(["row_count_merge"])).row_count_merge ?? null;
      const count = (type) => {
        if (!t) return 0;
        const [n, kind] = [t.columns.indexOf("RowCount"), t.columns.indexOf("Table_Type")];
        const row = t.rows.find((r) => r[kind] === type);
        return row ? Number(row[n]) : 0;
      };
      return { stream: count("stream"), append: count("append"), caughtUp, done };
    });
  const catchUp = [];
  let caughtUpMs = null;
  while (true) {
    if (failed) throw new Error(failed);
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
    if (failed) throw new Error(failed);
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
