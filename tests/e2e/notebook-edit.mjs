#!/usr/bin/env node
// A user edits a notebook, as tests/tests/page_e2e/notebook_edit.rs drives it:
//
//   node tests/e2e/notebook-edit.mjs <url> <plan JSON> <screenshotPath>
//
// plan: {big: code of the cell to add, uses: code of the cell that reads it, small: the big
// cell's code after the edit, uses2: the reading cell's after}. The seed notebook runs; the user
// duplicates it, adds a cell below diff_table and types `big` into it (click, keyboard), runs it
// with Shift+Enter, adds `uses` below and runs it with its ▶ button, edits the first new cell to
// `small` and re-runs it with Shift+Enter, then the second to `uses2`; moves the first new cell
// up twice and down once, deletes row_count_merge's cell, renames the notebook,
// reloads, exports it as a file and imports that, copies a share link and opens it in a fresh
// browser context (no localStorage), runs it all twice, runs from the first new cell (after
// editing the second to `uses3`), and deletes the notebook. Prints one line of JSON with
// what the page showed at each step (cells' code as the editors show it, tables read from the
// worker, the session's bytes), for the Rust test to check.

import { readFile } from "node:fs/promises";
import { launch, openPage, planArgs, screenshot, waiter } from "./browser.mjs";

const { url, plan, screenshotPath, timeoutMs, deadline } = planArgs("notebook-edit.mjs <url> <plan JSON> <screenshotPath>", (p) => p.big && p.uses && p.small && p.uses2 && p.uses3);

// The cells as the page shows them: name, state, and the code as its editor's lines read.
const shownCells = (page) =>
  page.evaluate(() =>
    [...document.querySelectorAll("#cells article.cell")].map((a) => ({
      name: a.dataset.cell,
      title: a.querySelector("h2").textContent,
      state: a.querySelector(".cell-state").dataset.state,
      code: [...a.querySelectorAll(".cm-line")].map((l) => l.textContent).join("\n"),
      editable: a.querySelector(".cm-content").getAttribute("contenteditable") === "true",
    })),
  );

const sessionBytes = (page) =>
  page.evaluate(async () => {
    // Two frames later: the stats of a cycle after the last change.
    const cycles = (await window.streamglass.snapshot([])).cycles;
    while ((await window.streamglass.snapshot([])).cycles < cycles + 2) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    return window.streamglass.sessionStats();
  });

const text = (value) => JSON.stringify(value, (_, v) => (typeof v === "bigint" ? v.toString() : v));
const read = (page, names) => page.evaluate((n) => window.streamglass.read(n), names);

/** Types `code` into cell `name`'s editor as a user does: click, select all, type. */
async function typeInto(page, name, code) {
  await page.click(`article[data-cell="${name}"] .cm-content`);
  await page.keyboard.press("Control+A");
  await page.keyboard.press("Backspace");
  const lines = code.split("\n");
  for (const [i, line] of lines.entries()) {
    await page.keyboard.type(line);
    // The completion list, if open, would take Enter: close it first.
    await page.keyboard.press("Escape");
    if (i < lines.length - 1) await page.keyboard.press("Enter");
  }
}

const browser = await launch();
const out = {};
try {
  const { page, failure } = await openPage(browser);
  const until = waiter(failure, deadline);
  page.on("dialog", (d) => d.accept());
  const cellDone = (name) =>
    until(`cell ${name}`, async () => {
      const state = await page.getAttribute(`[data-testid="cell-${name}"]`, "data-state");
      if (state === "failed") throw new Error(`${name} failed: ${await page.textContent(`[data-testid="cell-${name}"]`)}`);
      return state === "done";
    });
  const notebookDone = () =>
    until("the notebook", async () => {
      const state = await page.getAttribute('[data-testid="notebook-state"]', "data-state");
      if (state === "failed") throw new Error(`the notebook failed: ${await page.textContent('[data-testid="notebook-state"]')}`);
      return state === "done";
    });

  await page.goto(url, { timeout: timeoutMs });
  await notebookDone();
  await until("caught up", () => page.evaluate(() => document.getElementById("caught-up").dataset.caughtUp === "true"));
  out.builtIn = {
    notebook: await page.evaluate(() => window.streamglass.notebook),
    cells: await shownCells(page),
    duplicateLabel: (await page.innerText('[data-testid="notebook-duplicate"]')).trim(),
    expects: await page.textContent('[data-testid="notebook-expects"]'),
  };

  // Duplicate to edit: same cells, same tables, now editable, under a new id.
  await page.click('[data-testid="notebook-duplicate"]');
  await until("the copy", () => page.evaluate(() => window.streamglass.notebook.startsWith("nb-")));
  out.duplicated = {
    notebook: await page.evaluate(() => window.streamglass.notebook),
    title: await page.inputValue('[data-testid="notebook-title"]'),
    cells: await shownCells(page),
  };

  // A new cell below diff_table: typed, run with Shift+Enter; its table opens as a panel.
  const before = new Set((await shownCells(page)).map((c) => c.name));
  await page.click('[data-testid="below-diff_table"]');
  const big = (await shownCells(page)).find((c) => !before.has(c.name)).name;
  await page.click(`article[data-cell="${big}"] h2`);
  await page.keyboard.press("Control+A");
  await page.keyboard.type("Every trade, doubled");
  await page.keyboard.press("Enter");
  await typeInto(page, big, plan.big);
  await page.keyboard.press("Shift+Enter");
  await cellDone(big);
  await until("the big panel", () => page.evaluate(() => Number(document.querySelector('[data-panel="big"]')?.dataset.rows ?? 0) > 0));
  const withBig = await read(page, ["big", "trades_append"]);
  out.added = {
    cell: big,
    bigRows: withBig.big.rows.length,
    bigBytes: withBig.big.stats.bytesUsed,
    appendRows: withBig.trades_append.rows.length,
    session: await sessionBytes(page),
  };

  // A second cell that reads `big`, run with its ▶ button.
  const before2 = new Set((await shownCells(page)).map((c) => c.name));
  await page.click(`[data-testid="below-${big}"]`);
  const uses = (await shownCells(page)).find((c) => !before2.has(c.name)).name;
  await typeInto(page, uses, plan.uses);
  await page.click(`[data-testid="run-${uses}"]`);
  await cellDone(uses);
  out.uses = { cell: uses, values: await page.textContent(`[data-testid="values-${uses}"]`) };

  // The big cell edited to make `small` instead, re-run with Shift+Enter: `big` is dropped and
  // its memory comes back; the cell that read it is stale.
  await typeInto(page, big, plan.small);
  await page.keyboard.press("Shift+Enter");
  await until("the small panel", () => page.evaluate(() => Number(document.querySelector('[data-panel="small"]')?.dataset.rows ?? 0) > 0));
  await cellDone(big);
  const afterEdit = await read(page, ["big", "small"]);
  out.edited = {
    bigAfter: afterEdit.big ?? null,
    small: afterEdit.small,
    bigPanel: await page.$('[data-panel="big"]') !== null,
    menu: await page.evaluate(() => [...document.querySelectorAll("#panels-list li")].map((li) => li.dataset.table)),
    session: await sessionBytes(page),
    cells: await shownCells(page),
  };

  // The reading cell reads `small` now.
  await typeInto(page, uses, plan.uses2);
  await page.click(`[data-testid="run-${uses}"]`);
  await cellDone(uses);
  out.uses2 = { values: await page.textContent(`[data-testid="values-${uses}"]`) };

  // Completions in a new cell: a table's methods after `name.`, column names in a string, the
  // session's table names; then the cell is deleted unrun.
  const before3 = new Set((await shownCells(page)).map((c) => c.name));
  await page.click(`[data-testid="below-${uses}"]`);
  const scratch = (await shownCells(page)).find((c) => !before3.has(c.name)).name;
  const offered = async (typed) => {
    await page.click(`article[data-cell="${scratch}"] .cm-content`);
    await page.keyboard.press("Control+A");
    await page.keyboard.press("Backspace");
    await page.keyboard.type(typed);
    // The list opens at the first letter typed and is filtered again as the rest come (the
    // table names after `t`, say): read it once it offers the word last typed.
    const word = typed.match(/[A-Za-z_0-9]*$/)[0];
    const labels = await until(`completions of ${typed}`, async () => {
      const shown = await page.evaluate(() => [...document.querySelectorAll(".cm-tooltip-autocomplete li .cm-completionLabel")].map((l) => l.textContent));
      return shown.some((l) => l.startsWith(word)) && shown;
    });
    await page.keyboard.press("Escape");
    return labels;
  };
  out.completions = {
    method: await offered("trades_append.whe"),
    column: await offered('small.where("Pri'),
    table: await offered("agg_"),
  };
  await page.click(`[data-testid="delete-${scratch}"]`);

  // Move the new cell up twice and down once; delete row_count_merge's cell; rename.
  await page.click(`[data-testid="up-${big}"]`);
  await page.click(`[data-testid="up-${big}"]`);
  await page.click(`[data-testid="down-${big}"]`);
  await page.click('[data-testid="delete-row_count_merge"]');
  await until("row_count_merge dropped", async () => !(await read(page, ["row_count_merge"])).row_count_merge);
  await page.fill('[data-testid="notebook-title"]', "My trades");
  await page.press('[data-testid="notebook-title"]', "Enter");
  out.arranged = {
    cells: await shownCells(page),
    options: await page.evaluate(() => [...document.querySelector('[data-testid="notebook"]').options].map((o) => [o.value, o.textContent])),
  };
  await page.waitForTimeout(600); // the autosave's debounce (300 ms), with room

  // Reload: the notebook as left, run again from the top.
  await page.reload({ timeout: timeoutMs });
  await notebookDone();
  // A cell is done when its tables exist; their rows arrive as the replay runs.
  await until("caught up after the reload", () => page.evaluate(() => document.getElementById("caught-up").dataset.caughtUp === "true"));
  out.reloaded = {
    notebook: await page.evaluate(() => window.streamglass.notebook),
    title: await page.inputValue('[data-testid="notebook-title"]'),
    cells: await shownCells(page),
    small: (await read(page, ["small"])).small,
  };

  // Export as a file, and import it: a new notebook with the same cells.
  const [download] = await Promise.all([page.waitForEvent("download"), page.click('[data-testid="notebook-export"]')]);
  const file = await download.path();
  out.exported = { filename: download.suggestedFilename(), content: JSON.parse(await readFile(file, "utf8")) };
  await Promise.all([page.waitForURL((u) => u.searchParams.get("notebook") !== out.reloaded.notebook, { timeout: timeoutMs }), page.setInputFiles('[data-testid="notebook-file"]', file)]);
  await until("the imported cells", async () => (await shownCells(page)).length > 0);
  out.imported = {
    notebook: await page.evaluate(() => window.streamglass.notebook),
    title: await page.inputValue('[data-testid="notebook-title"]'),
    cells: await shownCells(page),
  };

  // A file that is not a notebook, and files of another version or with broken cells: each
  // refused with what is wrong, and nothing added.
  const listed = async () => page.evaluate(() => document.querySelector('[data-testid="notebook"]').options.length);
  const count = await listed();
  await page.setInputFiles('[data-testid="notebook-file"]', { name: "bad.json", mimeType: "application/json", buffer: Buffer.from('{"cells": []}') });
  out.refused = {
    state: await until("the refusal", async () => (await page.textContent('[data-testid="notebook-state"]')).startsWith("bad.json") && page.textContent('[data-testid="notebook-state"]')),
    added: (await listed()) - count,
    checked: await page.evaluate(async () => {
      const { checked } = await import("./notebook-store.js");
      const shape = { format: "streamglass-notebook", version: 1, title: "t" };
      return [
        { ...shape, version: 2, cells: [] },
        { ...shape, cells: [{ name: "a" }] },
        { ...shape, cells: [{ name: "a", code: "" }, { name: "a", code: "" }] },
        // A name that is markup (an import or a share link is someone else's): refused.
        { ...shape, cells: [{ name: 'x"><div data-act="from" style="position:fixed;inset:0"></div>', code: "" }] },
        "[]",
      ].map((v) => checked(v).message);
    }),
  };

  // Back to the notebook; its share link opened in a fresh context (no localStorage).
  await page.goto(`${url}?notebook=${out.reloaded.notebook}&run=0`, { timeout: timeoutMs });
  await page.click('[data-testid="notebook-share"]');
  const link = await until("the share link", () => page.inputValue('[data-testid="notebook-link"]'));
  const fresh = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
  const other = await fresh.newPage();
  let otherFailure = null;
  other.on("pageerror", (e) => (otherFailure ??= e.message));
  await other.goto(link, { timeout: timeoutMs });
  await waiter(() => otherFailure, deadline)("the shared notebook", () => other.evaluate(() => window.streamglass?.notebook?.startsWith("nb-")));
  out.shared = {
    link: link.length,
    hash: new URL(link).hash.slice(0, 10),
    notebook: await other.evaluate(() => window.streamglass.notebook),
    url: other.url(),
    title: await other.inputValue('[data-testid="notebook-title"]'),
    cells: await shownCells(other),
    state: await other.textContent('[data-testid="notebook-state"]'),
    stored: await other.evaluate(() => Object.keys(JSON.parse(localStorage.getItem("streamglass.notebooks") ?? "{}")).length),
  };
  // A damaged link: said so, and the seed's notebook instead.
  await other.goto(`${url}#notebook=AAAAbroken`, { timeout: timeoutMs });
  await waiter(() => otherFailure, deadline)("the damaged link", () => other.evaluate(() => window.streamglass?.notebook === "seed"));
  out.damaged = {
    notebook: await other.evaluate(() => window.streamglass.notebook),
    state: await other.textContent('[data-testid="notebook-state"]'),
  };
  await fresh.close();

  // Run all (the page was opened unrun), then Run all again in place: every cell runs again,
  // and the session holds as many tables as after the first run (each cell's old ones closed).
  const cellsDone = () => page.evaluate(() => window.streamglass.timings.cellsDone);
  await page.click('[data-testid="run-all"]');
  await until("the first run", async () => (await cellsDone()) !== null && (await page.getAttribute('[data-testid="notebook-state"]', "data-state")) === "done");
  await until("caught up", () => page.evaluate(() => document.getElementById("caught-up").dataset.caughtUp === "true"));
  const first = { done: await cellsDone(), session: await sessionBytes(page) };
  await page.click('[data-testid="run-all"]');
  await until("the second run", async () => (await cellsDone()) !== first.done && (await page.getAttribute('[data-testid="notebook-state"]', "data-state")) === "done");
  await until("caught up", () => page.evaluate(() => document.getElementById("caught-up").dataset.caughtUp === "true"));
  out.runAll = {
    first: first.session,
    second: await sessionBytes(page),
    states: (await shownCells(page)).map((c) => c.state),
    small: (await read(page, ["small"])).small?.rows.length ?? null,
  };

  // Run from here (▶▶ on the new cell): it and the cells below run again (the reading cell's
  // code, edited unrun, shows in its values), the ones above do not (offset_variable's values
  // stay the very element they were).
  await page.evaluate(() => (document.querySelector('[data-testid="values-offset_variable"]').dataset.mark = "before"));
  await typeInto(page, uses, plan.uses3);
  await page.click(`[data-testid="from-${big}"]`);
  await until("the cells below", async () => (await page.textContent(`[data-testid="values-${uses}"]`)).includes("from_here"));
  out.fromHere = {
    values: await page.textContent(`[data-testid="values-${uses}"]`),
    above: await page.getAttribute('[data-testid="values-offset_variable"]', "data-mark"),
    states: (await shownCells(page)).map((c) => c.state),
  };

  // Delete it: the page goes back to the seed's, and the list no longer has it.
  await screenshot(page, screenshotPath);
  await Promise.all([page.waitForURL(/notebook=seed/, { timeout: timeoutMs }), page.click('[data-testid="notebook-delete"]')]);
  out.deleted = {
    notebook: await page.evaluate(() => window.streamglass.notebook),
    options: await page.evaluate(() => [...document.querySelector('[data-testid="notebook"]').options].map((o) => o.value)),
  };
  console.log(text(out));
} catch (e) {
  console.error(`notebook-edit: ${e.stack ?? e}\nso far: ${text(out).slice(0, 4000)}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
