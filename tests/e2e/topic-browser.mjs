#!/usr/bin/env node
// The topic browser, used as a user would, in headless Chromium.
//
//   node tests/e2e/topic-browser.mjs <url> <plan> <screenshotPath>
//
// <plan> is JSON: {newest: N, open: {topic: rows}}. Opens <url>?run=0 (no notebook runs), opens the
// Topics browser, waits until it lists every topic of `open`, types N in its "newest" field, then
// clicks each topic of `open` in turn and waits for its table to hold `rows` rows with every
// consumer caught up; reads every row of it (at one cycle). BigInts are sent as decimal strings.
// Saves a screenshot and prints one line of JSON: {listed: [{topic, value, key, records, text}],
// opened: [{topic, state, result, call, table: {name, columns, types, rows}}]}. Exit 1 on a page
// error or a timeout (E2E_TIMEOUT_MS, default 120000).

import { launch, openApp, planArgs, screenshot } from "./browser.mjs";

const { url, plan, screenshotPath, timeoutMs, deadline } = planArgs(
  "topic-browser.mjs <url> <plan> <screenshotPath>",
  (plan) => typeof plan.open === "object",
);

const browser = await launch();
try {
  const { page, until } = await openApp(browser, url, timeoutMs, deadline);
  await page.click('[data-testid="topics-browser"] summary');
  const wanted = Object.keys(plan.open);
  const listed = await until("the topics listed", () =>
    page.evaluate((wanted) => {
      const items = [...document.querySelectorAll('[data-testid="topics-list"] li')].map((li) => ({
        topic: li.dataset.topic,
        value: li.dataset.value,
        key: li.dataset.key,
        records: li.dataset.records,
        text: li.textContent.replace(/\s+/g, " ").trim(),
      }));
      return wanted.every((t) => items.some((i) => i.topic === t)) ? items : null;
    }, wanted),
  );
  await page.fill('[data-testid="topics-newest"]', String(plan.newest));

  const opened = [];
  for (const [topic, rows] of Object.entries(plan.open)) {
    const before = await page.evaluate(() => document.getElementById("topics-result").textContent);
    await page.click(`[data-testid="open-topic-${topic}"]`);
    const outcome = await until(`${topic} opened`, () =>
      page.evaluate((before) => {
        const r = document.getElementById("topics-result");
        if (r.dataset.state === "running" || r.textContent === before) return null;
        return {
          state: r.dataset.state,
          result: r.textContent,
          call: document.getElementById("topic-call").textContent,
        };
      }, before),
    );
    const entry = { topic, ...outcome };
    opened.push(entry);
    if (outcome.state !== "done") continue;
    const name = outcome.result.replace(/^opened /, "");
    await until(`${rows} rows in ${name}, every consumer caught up`, () =>
      page.evaluate(
        async ({ name, rows }) => {
          const s = window.streamglass.status();
          const caughtUp = s?.consumers.length > 0 && s.consumers.every((c) => c.caughtUp);
          const stats = await window.streamglass.stats([name]);
          return caughtUp && stats[name]?.rows === rows;
        },
        { name, rows },
      ),
    );
    entry.table = await page.evaluate(async (name) => {
      const text = (v) => (typeof v === "bigint" ? v.toString() : Array.isArray(v) ? v.map(text) : v);
      const { tables } = await window.streamglass.snapshot([name]);
      const t = tables[name];
      return { name, columns: t.columns, types: t.types, rows: t.rows.map((r) => r.map(text)) };
    }, name);
  }
  await screenshot(page, screenshotPath);
  console.log(JSON.stringify({ listed, opened }));
} catch (e) {
  console.error(`topic-browser: ${e.message}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
