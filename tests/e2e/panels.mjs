#!/usr/bin/env node
// Panels: closing, reopening and dropping tables in the notebook page, in headless Chromium.
//
//   node tests/e2e/panels.mjs <url> <sizeOffset> <screenshotPath>
//
// Runs the notebook at <url>?size_offset=<sizeOffset> until every cell ran, the consumers are
// caught up and diff_table has rows, then:
//   1. closes agg_stream's panel (its × button) and reads the Panels menu;
//   2. from the console, makes `late` (a second append consumer of offset_variable, which joins
//      the feed the notebook's tables share) and `big` (a copy of trades_append's columns);
//   3. waits, reopens agg_stream from the Panels menu and reads it;
//   4. drops `big` and `late` from the console (`t.close()`) and reads the session's bytes;
//   5. returns three bare tables from the console, closing the first one's panel and dropping it
//      before the third, and reads the names they were given and the last two's rows.
// Prints one line of JSON with what it saw at each step; the Rust test asserts on it. Saves a
// screenshot with the menu open. Exit 1 on a page error, a failed cell or a timeout.

import { setTimeout as sleep } from "node:timers/promises";
import { launch, openPage, screenshot, scriptArgs } from "./browser.mjs";

const { url, arg: sizeOffset, screenshotPath } = scriptArgs("panels.mjs <url> <sizeOffset> <screenshotPath>", (a) => /^\d+$/.test(a));
const timeoutMs = Number(process.env.E2E_TIMEOUT_MS ?? "120000");
const deadline = Date.now() + timeoutMs;

async function until(what, check) {
  while (true) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

const browser = await launch();
try {
  const { page, failure } = await openPage(browser);
  await page.goto(`${url}?size_offset=${sizeOffset}`, { timeout: timeoutMs });
  const check = async (what, fn, arg) =>
    until(what, async () => {
      if (failure()) throw new Error(failure());
      return page.evaluate(fn, arg);
    });

  await check("the notebook", () => {
    if (document.querySelector('.cell-state[data-state="failed"]')) throw new Error("a cell failed");
    const done = document.getElementById("notebook-state").dataset.state === "done";
    if (document.getElementById("caught-up").dataset.caughtUp !== "true") return false;
    const diff = Number(document.querySelector('[data-panel="diff_table"]')?.dataset.rows ?? 0);
    return done && diff > 0;
  });
  const sumOf = (name, column) =>
    page.evaluate(
      async ([name, column]) => {
        const t = (await window.streamglass.read([name]))[name];
        const at = t.columns.indexOf(column);
        return t.rows.reduce((s, r) => s + Number(r[at]), 0);
      },
      [name, column],
    );
  const menu = () =>
    page.evaluate(() =>
      Object.fromEntries(
        [...document.querySelectorAll("#panels-list li")].map((li) => [
          li.dataset.table,
          li.querySelector(".panel-toggle").dataset.open === "true",
        ]),
      ),
    );

  // 1. Close agg_stream's panel.
  await page.click('[data-testid="close-agg_stream"]');
  const closed = {
    panelShown: await page.evaluate(() => !!document.querySelector('[data-panel="agg_stream"]')),
    menu: await check("the menu to show agg_stream closed", () => {
      const b = document.querySelector('[data-testid="menu-agg_stream"]');
      return b?.dataset.open === "false" ? true : null;
    }).then(menu),
    tradeCount: await sumOf("agg_stream", "Trade_Count"),
  };

  // 2. A late consumer of the same records, and a big table to drop.
  await page.fill('[data-testid="console-code"]', `const late = await session.consumeToTable({ offsets: offset_variable, tableType: "append" });
const big = trades_append.view(["KafkaOffset", "Price", "Size"]);
return { late, big };`);
  await page.click('[data-testid="console-run"]');
  await check("late and big", () => document.getElementById("console-result").dataset.state === "done" && !!document.querySelector('[data-panel="big"]'));
  await sleep(1000);
  const joined = await page.evaluate(async () => ({
    stats: await window.streamglass.stats(["trades_append", "late", "big"]),
    session: window.streamglass.sessionStats(),
    connection: window.streamglass.status(),
  }));

  // 3. Reopen agg_stream from the Panels menu.
  await page.click("#panels-menu summary");
  await page.click('[data-testid="menu-agg_stream"]');
  await check("agg_stream's panel", () => Number(document.querySelector('[data-panel="agg_stream"]')?.dataset.rows ?? 0) > 0);
  await sleep(1500);
  const reopened = {
    menu: await menu(),
    tradeCount: await sumOf("agg_stream", "Trade_Count"),
    appendCount: await sumOf("agg_append", "Trade_Count"),
  };
  await screenshot(page, screenshotPath);
  await page.click("#panels-menu summary");

  // 4. Drop big and late from the console.
  await page.fill('[data-testid="console-code"]', "big.close();\nlate.close();\nreturn null;");
  await page.click('[data-testid="console-run"]');
  await check("big's panel to go", () => !document.querySelector('[data-panel="big"]') && !document.querySelector('[data-panel="late"]'));
  await sleep(500);
  const dropped = await page.evaluate(async () => ({
    session: window.streamglass.sessionStats(),
    menu: [...document.querySelectorAll("#panels-list li")].map((li) => li.dataset.table),
    connection: window.streamglass.status(),
  }));

  // 5. Bare tables from the console get fresh names, also after a panel closes.
  const runBare = async (code) => {
    await page.evaluate(() => {
      const r = document.getElementById("console-result");
      r.dataset.state = "";
      r.textContent = "";
    });
    await page.fill('[data-testid="console-code"]', code);
    await page.click('[data-testid="console-run"]');
    return check("a bare table's panel", () => {
      const r = document.getElementById("console-result");
      if (r.dataset.state === "failed") throw new Error(r.textContent);
      return r.dataset.state === "done" && r.textContent.startsWith("opened ") ? r.textContent.slice("opened ".length) : null;
    });
  };
  const first = await runBare("return trades_append.head(5);");
  const second = await runBare("return trades_append.head(6);");
  // Close the first one's panel, then drop the table itself.
  await page.click(`[data-testid="close-${first}"]`);
  await page.evaluate(() => {
    document.getElementById("console-result").dataset.state = "";
  });
  await page.fill('[data-testid="console-code"]', `${first}.close();\nreturn null;`);
  await page.click('[data-testid="console-run"]');
  await check("the first bare table dropped", () => document.getElementById("console-result").dataset.state === "done");
  const third = await runBare("return trades_append.head(7);");
  const sizes = await page.evaluate(async (names) => {
    const tables = await window.streamglass.read(names);
    return names.map((n) => tables[n]?.rows.length ?? null);
  }, [second, third]);
  const bare = { names: [first, second, third], sizes };
  console.log(JSON.stringify({ closed, joined, reopened, dropped, bare }));
} catch (e) {
  console.error(`panels: ${e.message}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
