// The notebook: its cells on the page, edited (notebook-editor.js) and run in the engine worker.
// A cell's state (idle, running, done, failed, stale) shows in its header; its values print under
// it, and its tables open as panels there (those in its `show`, or all when it has none). Running
// a cell again replaces the names it made: the worker closes their old tables (their memory
// comes back once nothing needs them) and drops the names it no longer makes, and every later
// cell whose code mentions one of them is marked stale. The size_offset field feeds the first
// name in scope. `timings` records when each cell finished, when the consumers caught up (with
// the main thread's frame rate until then) and when the notebook's claim first held (named
// `aggregationsEqual` after the seed's); tests and tests/e2e/seed-bench.mjs read them.

import { $ } from "./dom.js";
import { call, post } from "./engine.js";
import { integer } from "./format.js";
import { createEditor } from "./notebook-editor.js";
import { closePanel, homes, openPanel, panels } from "./panels.js";

export const timings = {
  runStarted: null,
  cells: {},
  caughtUp: null,
  ingestFps: null,
  longestFrameMs: null,
  cellsDone: null,
  aggregationsEqual: null,
};

// The main thread's frame rate while the notebook ingests (from running it to caught up).
const frames = { count: 0, last: 0, longest: 0 };

/** Counts an animation frame while the notebook ingests. */
export function countFrame() {
  if (timings.runStarted === null || timings.caughtUp !== null) return;
  const now = performance.now();
  if (frames.count > 0) frames.longest = Math.max(frames.longest, now - frames.last);
  frames.count++;
  frames.last = now;
}

// The notebook on the page, what changed it (autosave), and per cell name: {section, editor,
// made (the names its last successful run made)}.
let notebook = null;
let onChange = () => {};
const cells = new Map();
// Runs one at a time, in the order asked.
let queue = Promise.resolve();
let sizeOffsetSet = null;

function setState(name, state, text = state) {
  const span = cells.get(name)?.section.querySelector(".cell-state");
  if (!span) return;
  span.dataset.state = state;
  span.textContent = text;
}

/** Whether `code` mentions any of `names` as a whole word. */
function mentions(code, names) {
  return names.some((n) => new RegExp(`(^|[^\\w$])${n.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}($|[^\\w$])`).test(code));
}

/** Marks stale every cell after `from` (an index) whose code mentions one of `names`. */
function markStale(from, names) {
  if (names.length === 0) return;
  for (const c of notebook.cells.slice(from + 1)) {
    const state = cells.get(c.name).section.querySelector(".cell-state").dataset.state;
    if (state !== "idle" && state !== undefined && mentions(c.code, names)) setState(c.name, "stale", "stale: an earlier cell ran again");
  }
}

const BUTTONS = `<span class="cell-actions">
  <button type="button" data-act="run" title="Run this cell (Shift+Enter)">▶</button>
  <button type="button" data-act="from" title="Run this cell and every one below">▶▶</button>
  <span class="cell-edit">
    <button type="button" data-act="up" title="Move up">↑</button>
    <button type="button" data-act="down" title="Move down">↓</button>
    <button type="button" data-act="above" title="Add a cell above">+↑</button>
    <button type="button" data-act="below" title="Add a cell below">+↓</button>
    <button type="button" data-act="delete" title="Delete the cell (and drop its tables)">✕</button>
  </span></span>`;

function renderCell(c, before = null) {
  const section = document.createElement("article");
  section.className = "cell";
  section.dataset.cell = c.name;
  // The name comes from a notebook that may be someone else's (an import, a share link): it is
  // only ever set as text or an attribute value, never parsed as HTML.
  section.innerHTML = `<header><h2></h2>${BUTTONS}<span class="cell-state" data-state="idle"></span></header>
    <div class="cell-code"></div><div class="cell-output"></div>`;
  section.querySelector(".cell-state").dataset.testid = `cell-${c.name}`;
  const title = section.querySelector("h2");
  title.textContent = c.title || c.name;
  title.title = "The cell's title (click to edit, in your notebooks)";
  title.addEventListener("input", () => {
    c.title = title.textContent.trim();
    onChange();
  });
  title.addEventListener("keydown", (e) => e.key === "Enter" && (e.preventDefault(), title.blur()));
  if (!notebook.builtIn) title.contentEditable = "plaintext-only";
  for (const button of section.querySelectorAll("[data-act]")) {
    button.dataset.testid = `${button.dataset.act}-${c.name}`;
    button.addEventListener("click", () => act(button.dataset.act, c.name));
  }
  const editor = createEditor(section.querySelector(".cell-code"), {
    doc: c.code,
    readOnly: notebook.builtIn,
    onChange: (text) => {
      c.code = text;
      onChange();
    },
    onRun: () => runOne(c.name),
  });
  $("cells").insertBefore(section, before);
  cells.set(c.name, { section, editor, made: [] });
}

/** Puts `nb`'s cells on the page; `changed()` is called after every edit (for autosave). */
export function renderCells(nb, changed) {
  notebook = nb;
  onChange = changed;
  $("cells").classList.toggle("editable", !nb.builtIn);
  for (const c of nb.cells) renderCell(c);
}

/** The notebook on the page became editable (a built-in one was duplicated in place). */
export function makeEditable() {
  $("cells").classList.add("editable");
  for (const { editor, section } of cells.values()) {
    editor.setReadOnly(false);
    section.querySelector("h2").contentEditable = "plaintext-only";
  }
}

function freshName() {
  for (let i = notebook.cells.length + 1; ; i++) {
    const name = `cell_${i}`;
    if (!cells.has(name)) return name;
  }
}

function act(what, name) {
  const at = notebook.cells.findIndex((c) => c.name === name);
  if (at < 0) return;
  if (what === "run") return runOne(name);
  if (what === "from") return runFrom(at);
  if (notebook.builtIn) return;
  const list = notebook.cells;
  const section = cells.get(name).section;
  if (what === "up" || what === "down") {
    const to = what === "up" ? at - 1 : at + 1;
    if (to < 0 || to >= list.length) return;
    [list[at], list[to]] = [list[to], list[at]];
    if (what === "up") section.after(cells.get(list[at].name).section);
    else section.before(cells.get(list[at].name).section);
  } else if (what === "above" || what === "below") {
    const c = { name: freshName(), title: "", code: "return { };" };
    list.splice(what === "above" ? at : at + 1, 0, c);
    renderCell(c, what === "above" ? section : section.nextSibling);
    cells.get(c.name).editor.view.focus();
  } else if (what === "delete") {
    const { made } = cells.get(name);
    for (const n of made) post({ type: "drop", name: n });
    markStale(at, made);
    list.splice(at, 1);
    section.remove();
    cells.delete(name);
  }
  onChange();
}

async function runCell(c) {
  const entry = cells.get(c.name);
  // Deleted while queued: nothing to run.
  if (!entry) return;
  const section = entry.section;
  setState(c.name, "running", "running…");
  const result = await call({ type: "run", code: c.code, replaces: entry.made });
  if (cells.get(c.name) !== entry) {
    // Deleted (or replaced) while it ran: what it made has no cell to drop it later.
    for (const name of result.names ?? []) post({ type: "drop", name });
    return;
  }
  if (!result.ok) {
    setState(c.name, "failed", result.error);
    throw new Error(`${c.name}: ${result.error}`);
  }
  // The names it made before and now: later cells that use them read what they were.
  const ranBefore = entry.made.length > 0;
  const touched = [...new Set([...entry.made, ...result.names])];
  for (const n of entry.made) if (!result.names.includes(n)) closePanel(n);
  entry.made = result.names;
  setState(c.name, "done");
  if (ranBefore) markStale(notebook.cells.indexOf(c), touched);
  const out = section.querySelector(".cell-output");
  out.querySelector("pre.values")?.remove();
  if (result.value && typeof result.value === "object") {
    const shown = Object.entries(result.value)
      .map(([k, v]) => `${k} = ${typeof v === "string" ? JSON.stringify(v) : v}`)
      .join("\n");
    if (shown) {
      const pre = document.createElement("pre");
      pre.className = "values";
      pre.dataset.testid = `values-${c.name}`;
      pre.textContent = shown;
      out.prepend(pre);
    }
  }
  for (const name of result.panels) {
    homes.set(name, out);
    // Charts open where they were made; a notebook's `show` picks among its tables.
    if (!c.show || c.show.includes(name) || result.charts?.includes(name)) openPanel(name, out);
  }
}

/** Runs `todo` (cells) in order, as one queued job; a `together` cell holds cycles from it on. */
function enqueue(todo, size) {
  const job = queue.then(async () => {
    if (size !== undefined && size !== sizeOffsetSet) {
      await call({ type: "run", code: `return { size_offset: ${size} };` });
      sizeOffsetSet = size;
    }
    try {
      for (const c of todo) {
        // From the consumers on, the cells run as one script: no cycle between them.
        if (c.together) post({ type: "hold" });
        await runCell(c);
        timings.cells[c.name] = performance.now() - timings.runStarted;
      }
    } finally {
      post({ type: "release" });
    }
  });
  queue = job.catch(() => {});
  return job;
}

function runOne(name) {
  const c = notebook.cells.find((x) => x.name === name);
  if (c) enqueue([c]).catch(() => {});
}

function runFrom(at) {
  enqueue(notebook.cells.slice(at)).catch(() => {});
}

/** Runs `notebook`'s cells with size_offset `size`; true when every cell ran. */
export async function runNotebook(nb, size) {
  timings.runStarted = performance.now();
  const state = $("notebook-state");
  state.dataset.state = "running";
  state.textContent = "running…";
  try {
    await enqueue(nb.cells, size);
    timings.cellsDone = performance.now();
    state.dataset.state = "done";
    state.textContent = "the notebook runs live";
    return true;
  } catch (e) {
    state.dataset.state = "failed";
    state.textContent = String(e.message ?? e);
    return false;
  }
}

/**
 * Once the cells ran and the consumers caught up: records the catch-up, then checks, every
 * frame until it first holds, the notebook's claim (`settled`), and says so.
 */
export function checkSettled(nb, connection) {
  if (timings.aggregationsEqual !== null || timings.cellsDone === null) return;
  if ($("caught-up").dataset.caughtUp !== "true") return;
  if (timings.caughtUp === null) {
    timings.caughtUp = performance.now() - timings.runStarted;
    timings.ingestFps = (frames.count * 1000) / timings.caughtUp;
    timings.longestFrameMs = frames.longest;
  }
  if (!nb.settled?.(panels)) return;
  timings.aggregationsEqual = performance.now();
  const ms = Math.round(timings.aggregationsEqual - timings.runStarted);
  $("notebook-state").textContent = `${nb.claim} after ${integer.format(ms)} ms; the notebook runs live`;
  // For tests/e2e/seed-bench.mjs, which reads Chromium's log instead of driving the page.
  console.info(`streamglass: ${nb.claim} after ${ms} ms ${JSON.stringify({ ...timings, connection: connection && { records: connection.records, bytes: connection.bytes, wireBytes: connection.wireBytes } })}`);
}
