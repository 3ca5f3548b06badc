#!/usr/bin/env node
// An idle connection closed by the bridge, as the page shows it and gets over it, in headless
// Chromium.
//
//   node tests/e2e/idle.mjs <url> <sizeOffset> <screenshotPath>
//
// Runs the notebook at <url>?size_offset=<sizeOffset> against a recording served at full speed
// by a bridge with a short idle timeout: once every feed has ended, the connection holds no
// subscription, and the bridge closes it. Waits until the status says so and the note says why,
// then runs `session.consumeToTable(...)` in the console, which opens a new connection, and
// reads the rows of the table it returns. Prints one line of JSON:
//
//   {"status":"closed","note":"...","rows":n,"reconnected":{...status()...}}
//
// Exit 1 on a page error, a failed cell or a timeout.

import { setTimeout as sleep } from "node:timers/promises";
import { launch, openPage, screenshot, scriptArgs } from "./browser.mjs";

const { url, arg: sizeOffset, screenshotPath } = scriptArgs("idle.mjs <url> <sizeOffset> <screenshotPath>", (a) => /^\d+$/.test(a));
const timeoutMs = Number(process.env.E2E_TIMEOUT_MS ?? "120000");
const deadline = Date.now() + timeoutMs;

const browser = await launch();
try {
  const { page, failure } = await openPage(browser);
  await page.goto(`${url}?size_offset=${sizeOffset}`, { timeout: timeoutMs });
  const check = async (what, fn) => {
    while (true) {
      if (failure()) throw new Error(failure());
      const value = await page.evaluate(fn);
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(100);
    }
  };
  await check("the notebook", () => {
    if (document.querySelector('.cell-state[data-state="failed"]')) throw new Error("a cell failed");
    return document.getElementById("notebook-state").dataset.state === "done";
  });
  const shown = await check("the idle close", () => {
    const status = document.querySelector('[data-testid="status"]').dataset.status;
    const note = document.querySelector('[data-testid="source-note"]');
    return status === "closed" && !note.hidden ? { status, note: note.textContent } : null;
  });
  await screenshot(page, screenshotPath);
  await page.fill('[data-testid="console-code"]', 'return await session.consumeToTable({ offsets: "beginning", tableType: "append" });');
  await page.click('[data-testid="console-run"]');
  const name = await check("the console's table", () => {
    const r = document.getElementById("console-result");
    if (r.dataset.state === "failed") throw new Error(r.textContent);
    return r.dataset.state === "done" && r.textContent.startsWith("opened ") ? r.textContent.slice("opened ".length) : null;
  });
  let rows = 0;
  while (Date.now() < deadline) {
    rows = await page.evaluate(async (n) => (await window.streamglass.read([n]))[n]?.rows.length ?? 0, name);
    if (rows > 0 && (await page.evaluate(() => window.streamglass.status()?.consumers?.every((c) => c.ended)))) break;
    await sleep(100);
  }
  rows = await page.evaluate(async (n) => (await window.streamglass.read([n]))[n]?.rows.length ?? 0, name);
  const reconnected = await page.evaluate(() => window.streamglass.status());
  console.log(JSON.stringify({ ...shown, rows, reconnected }));
} catch (e) {
  console.error(`idle: ${e.message}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
