// The notebook page's entry: it picks the notebook and its list (notebook-list.js), sets up the
// page's settings (controls.js: the source, the time zone), starts the engine worker
// (engine.js), runs the notebook (notebook.js)
// and the console's code, sets up the topic browser (topics.js), and once per animation frame
// asks the worker for the viewports of the open panels and draws them (panels.js, grid.js), the
// status line (status.js) and the chart (charts.js). The main thread never decodes or aggregates.

import { makeChart, sample } from "./charts.js";
import { compressionFor, reloadWith, setupSource, setupZone } from "./controls.js";
import { $ } from "./dom.js";
import { call, post, workerReady } from "./engine.js";
import { autosave, chooseNotebook, setupNotebook } from "./notebook-list.js";
import { checkSettled, countFrame, renderCells, runNotebook, timings } from "./notebook.js";
import { drawNextChart, drawPanels, openPanel, panelViews, panels, renderMenu } from "./panels.js";
import { connectionStatus, renderStatus } from "./status.js";
import { setupTopics } from "./topics.js";

const params = new URLSearchParams(location.search);
// The notebook the page runs (chooseNotebook, at start).
let notebook = null;

// --- the render loop ----------------------------------------------------------------------

let frameOutstanding = false;
let lastFrame = null;

async function tick() {
  requestAnimationFrame(tick);
  countFrame();
  drawNextChart();
  if (frameOutstanding) return;
  frameOutstanding = true;
  try {
    const frame = await call({ type: "frame", views: panelViews() });
    lastFrame = frame;
    drawPanels(frame);
    renderStatus(frame);
    renderMenu(frame);
    sample(frame);
    checkSettled(notebook, connectionStatus());
  } finally {
    frameOutstanding = false;
  }
}

// --- running --------------------------------------------------------------------------------

/** The size_offset field's value, as the notebook takes it. */
function sizeOffset() {
  return Math.max(1, Math.floor(Number($("size-offset").value) || notebook.sizeOffset));
}

// The size_offset the notebook ran with, once its cells are done.
let ranWith = null;

async function run() {
  const button = $("run-all");
  button.disabled = true;
  const size = sizeOffset();
  if (await runNotebook(notebook, size)) ranWith = size;
  button.disabled = false;
}

async function runConsole() {
  const code = $("console-code").value;
  const out = $("console-result");
  out.textContent = "running…";
  const result = await call({ type: "run", code });
  if (!result.ok) {
    out.textContent = result.error;
    out.dataset.state = "failed";
    return;
  }
  out.dataset.state = "done";
  out.textContent = result.panels.length
    ? `opened ${result.panels.join(", ")}`
    : JSON.stringify(result.value);
  for (const name of result.panels) openPanel(name, $("console-panels"));
  // The new panel opens below the notebook: bring it into view.
  const opened = result.panels.length ? panels.get(result.panels[0]) : null;
  opened?.wrapper.scrollIntoView({ behavior: "smooth", block: "nearest" });
}

// For tests and the browser's console: every row of named tables, and their stats.
window.streamglass = {
  timings,
  /** The notebook the page runs: a built-in one's name, or the id of one stored in the browser. */
  get notebook() {
    return notebook?.id;
  },
  /** The session's connection status, as the last frame brought it. */
  status: connectionStatus,
  /** Every row of the named tables, all read in one turn of the worker: at one cycle. */
  async read(names) {
    return (await call({ type: "read", names })).tables;
  },
  /** Like `read`, with the cycle the tables are at and the session's clock `{atCycle, atRead}`:
   * what now() read in that cycle lies between the two. */
  async snapshot(names) {
    const { tables, cycles, clock } = await call({ type: "read", names });
    return { tables, cycles, clock };
  },
  /** Every row a panel shows (its table, or the view its grid's sort and filters made of it). */
  async shown(name) {
    return (await call({ type: "rows", panel: name, first: 0, count: Number.MAX_SAFE_INTEGER })).viewport;
  },
  async stats(names) {
    const out = {};
    for (const name of names) out[name] = lastFrame?.tables?.[name] ?? null;
    return out;
  },
  /** What a chart's panel was last sent ({series: [{name, kind, rows, points, x, values}], ...},
   * plain arrays), drawn at `width` pixels if it has no panel yet: the charts' test hook. */
  async chart(name, width) {
    return call({ type: "chart", name, width });
  },
  /** The session's tables added up, as the last frame brought them. */
  sessionStats: () => lastFrame?.session ?? null,
};

// --- start --------------------------------------------------------------------------------

async function start() {
  notebook = await chooseNotebook(params);
  setupNotebook(notebook);
  setupZone(params);
  renderCells(notebook, () => autosave(notebook));
  makeChart(notebook.chart);
  const source = await setupSource(params);
  setupTopics(source);
  $("size-offset").value = params.get("size_offset") ?? String(notebook.sizeOffset);
  if (params.has("interval")) $("interval").value = params.get("interval");
  post({ type: "init", url: source, interval: Number($("interval").value), compression: compressionFor(source, params) });
  await workerReady;
  $("interval").addEventListener("change", (e) => post({ type: "interval", ms: Number(e.target.value) }));
  // Once the notebook ran, running it all again runs every cell again in this session (each
  // replaces its tables); with another size_offset it starts a new session from the top (as a
  // Deephaven notebook is re-run): the page reloads.
  $("run-all").addEventListener("click", () => {
    if (ranWith === null || ranWith === sizeOffset()) return run();
    reloadWith({ size_offset: String(sizeOffset()), run: null });
  });
  $("console-run").addEventListener("click", runConsole);
  requestAnimationFrame(tick);
  if (params.get("run") !== "0") run();
}

start();
