// The notebook: its cells on the page and running them, in order, in the engine worker. A cell's
// code and state (running, done, or its error) show in its article; its values print under it,
// and the tables it names in `show` open as panels there. The size_offset field feeds the first
// name in scope. `timings` records when each cell finished, when the consumers caught up (with
// the main thread's frame rate until then) and when the notebook's claim first held (named
// `aggregationsEqual` after the seed's); tests and tests/e2e/seed-bench.mjs read them.

import { $ } from "./dom.js";
import { call, post } from "./engine.js";
import { integer } from "./format.js";
import { homes, openPanel, panels } from "./panels.js";

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

export function renderCells(notebook) {
  const host = $("cells");
  for (const c of notebook.cells) {
    const section = document.createElement("article");
    section.className = "cell";
    section.dataset.cell = c.name;
    section.innerHTML = `<header><h2>${c.title}</h2><span class="cell-state" data-testid="cell-${c.name}"></span></header>
      <pre><code></code></pre><div class="cell-output"></div>`;
    section.querySelector("code").textContent = c.code;
    host.appendChild(section);
  }
}

async function runCell(c) {
  const section = document.querySelector(`[data-cell="${c.name}"]`);
  const state = section.querySelector(".cell-state");
  state.textContent = "running…";
  state.dataset.state = "running";
  const result = await call({ type: "run", code: c.code });
  if (!result.ok) {
    state.textContent = result.error;
    state.dataset.state = "failed";
    throw new Error(`${c.name}: ${result.error}`);
  }
  state.textContent = "done";
  state.dataset.state = "done";
  const out = section.querySelector(".cell-output");
  if (result.value && typeof result.value === "object") {
    const shown = Object.entries(result.value)
      .map(([k, v]) => `${k} = ${typeof v === "string" ? JSON.stringify(v) : v}`)
      .join("\n");
    if (shown) {
      const pre = document.createElement("pre");
      pre.className = "values";
      pre.dataset.testid = `values-${c.name}`;
      pre.textContent = shown;
      out.appendChild(pre);
    }
  }
  for (const name of result.panels) {
    homes.set(name, out);
    // Charts open where they were made; a notebook's `show` picks among its tables.
    if (c.show.includes(name) || result.charts?.includes(name)) openPanel(name, out);
  }
}

/** Runs `notebook`'s cells with size_offset `size`; true when every cell ran. */
export async function runNotebook(notebook, size) {
  timings.runStarted = performance.now();
  const state = $("notebook-state");
  state.dataset.state = "running";
  state.textContent = "running…";
  try {
    await call({ type: "run", code: `return { size_offset: ${size} };` });
    try {
      for (const c of notebook.cells) {
        // From the consumers on, the cells run as one script: no cycle between them.
        if (c.together) post({ type: "hold" });
        await runCell(c);
        timings.cells[c.name] = performance.now() - timings.runStarted;
      }
    } finally {
      post({ type: "release" });
    }
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
export function checkSettled(notebook, connection) {
  if (timings.aggregationsEqual !== null || timings.cellsDone === null) return;
  if ($("caught-up").dataset.caughtUp !== "true") return;
  if (timings.caughtUp === null) {
    timings.caughtUp = performance.now() - timings.runStarted;
    timings.ingestFps = (frames.count * 1000) / timings.caughtUp;
    timings.longestFrameMs = frames.longest;
  }
  if (!notebook.settled?.(panels)) return;
  timings.aggregationsEqual = performance.now();
  const ms = Math.round(timings.aggregationsEqual - timings.runStarted);
  $("notebook-state").textContent = `${notebook.claim} after ${integer.format(ms)} ms; the notebook runs live`;
  // For tests/e2e/seed-bench.mjs, which reads Chromium's log instead of driving the page.
  console.info(`streamglass: ${notebook.claim} after ${ms} ms ${JSON.stringify({ ...timings, connection: connection && { records: connection.records, bytes: connection.bytes, wireBytes: connection.wireBytes } })}`);
}
