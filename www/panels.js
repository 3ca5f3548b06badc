// The panels: one live grid per open table, or chart per open chart (plot-panel.js), in its cell
// (or below the notebook, for the console's), and the Panels menu, which lists every named table
// and chart of the session, open or closed, with its rows and bytes. A panel's grid or chart is
// made when its first frame says which it is. Closing a panel only stops drawing it: the table stays live
// and the menu reopens it; dropping it (the menu's "drop") releases the session's handle.
// Invariant: `panels` holds exactly the panels in the document.

import { $, setText } from "./dom.js";
import { post } from "./engine.js";
import { downloadMenu } from "./export.js";
import { bytes, integer } from "./format.js";
import { ROWS_ASKED, closeGrid, createGrid, refilter } from "./grid.js";
import { closePlot, createPlot, plotWidth } from "./plot-panel.js";

// Open panels: name → {name, wrapper, table (regular-table, or a chart's plot; null until the
// first frame), chart (whether it is a chart's), data (last frame), want {first, count}}.
export const panels = new Map();
// Where each table's panel lives when open (its cell, or the console's area).
export const homes = new Map();
// What the menu last showed (names, open or not), so it is rebuilt only when that changes.
let menuKey = null;
let menuStatsAt = 0;

export function openPanel(name, host) {
  if (panels.has(name)) return;
  homes.set(name, host);
  const wrapper = document.createElement("div");
  wrapper.className = "table-panel";
  wrapper.dataset.panel = name;
  wrapper.dataset.testid = `panel-${name}`;
  // `name` is whatever a cell returned: set as text and attribute values only, never as markup.
  wrapper.innerHTML = `<div class="panel-head"><span class="panel-name"></span>
    <span class="panel-stats"></span>
    <button class="panel-close" type="button" title="Close the panel (the table stays live)">×</button></div>`;
  wrapper.querySelector(".panel-name").textContent = name;
  wrapper.querySelector(".panel-stats").dataset.testid = `stats-${name}`;
  const close = wrapper.querySelector(".panel-close");
  close.setAttribute("aria-label", `Close ${name}`);
  close.dataset.testid = `close-${name}`;
  wrapper.querySelector(".panel-close").addEventListener("click", () => closePanel(name));
  host.appendChild(wrapper);
  const panel = { name, wrapper, table: null, chart: false, data: null, want: { first: 0, count: ROWS_ASKED } };
  panels.set(name, panel);
  menuKey = null;
}

/** Hides a table's panel; the table stays live, and the Panels menu reopens it. */
export function closePanel(name) {
  const panel = panels.get(name);
  if (!panel) return;
  if (panel.chart) closePlot(panel);
  else if (panel.table) closeGrid(panel);
  panel.wrapper.remove();
  panels.delete(name);
  menuKey = null;
}

/** What the next frame asks the worker for: each open panel's rows in view. */
export function panelViews() {
  return [...panels.values()].map((p) => ({ panel: p.name, ...p.want, need: !p.data, width: plotWidth(p) }));
}

/** Draws a frame's viewports into their panels; a table dropped from the console loses its. */
export function drawPanels(frame) {
  for (const name of [...panels.keys()]) {
    if (!(name in frame.tables)) closePanel(name);
  }
  for (const p of frame.panels) {
    const panel = panels.get(p.panel);
    if (!panel || p.unchanged) continue;
    if (!panel.table) {
      panel.chart = "chart" in p;
      if (!panel.chart) {
        const close = panel.wrapper.querySelector(".panel-close");
        close.before(downloadMenu(panel.name, (format) => post({ type: "download", name: panel.name, format })));
      }
      // A chart is first drawn in its turn once its width is known.
      panel.table = panel.chart ? createPlot(panel, panel.wrapper, () => chartsToDraw.add(panel.name)) : createGrid(panel, panel.wrapper);
    }
    panel.data = p;
    if (panel.chart) {
      const points = p.chart?.series.reduce((n, s) => n + s.x.length, 0) ?? 0;
      const series = p.chart?.series.length ?? 0;
      setText(panel.wrapper.querySelector(".panel-stats"), p.error ? p.error : `${series} series · ${integer.format(points)} points of ${integer.format(p.stats?.rows ?? 0)} rows`);
      chartsToDraw.add(panel.name);
      continue;
    }
    panel.wrapper.dataset.rows = p.viewport?.totalRows ?? 0;
    panel.wrapper.dataset.bytes = p.stats?.bytesUsed ?? 0;
    const stats = panel.wrapper.querySelector(".panel-stats");
    const shown = p.viewed ? ` (${integer.format(p.viewport?.totalRows ?? 0)} shown)` : "";
    setText(stats, p.error ? p.error : `${integer.format(p.stats?.rows ?? 0)} rows${shown} · ${bytes(p.stats?.bytesUsed ?? 0)}`);
    panel.table.draw();
  }
}

// Charts with new points not drawn yet, in the order they came. A chart's draw costs several
// milliseconds (15 series of 4,000 points: 10-30 ms), and the worker sends every chart's points
// in the same frame: drawn together, they made one long frame a second. `drawNextChart`
// draws one a frame.
const chartsToDraw = new Set();

/** Draws the first chart waiting with new points (once per animation frame). */
export function drawNextChart() {
  for (const name of chartsToDraw) {
    chartsToDraw.delete(name);
    const panel = panels.get(name);
    if (panel?.table && panel.chart) {
      panel.table.draw();
      return;
    }
  }
}

/** Redraws every open panel from the viewport it holds (the time zone changed). */
export function redrawPanels() {
  for (const panel of panels.values()) {
    if (!panel.table) continue;
    if (!panel.chart) refilter(panel);
    panel.table.draw();
  }
}

/** Lists every table of the session, open or closed; a closed one reopens on click. */
export function renderMenu(frame) {
  const names = Object.keys(frame.tables);
  const key = names.map((n) => `${n}:${panels.has(n)}`).join(",");
  const list = $("panels-list");
  setText($("panels-count"), `${panels.size} of ${names.length} open`);
  if (key !== menuKey) {
    menuKey = key;
    list.replaceChildren(
      ...names.map((name) => {
        const li = document.createElement("li");
        li.dataset.table = name;
        const open = panels.has(name);
        li.innerHTML = `<button type="button" class="panel-toggle"></button>
          <span class="menu-stats"></span>
          <button type="button" class="panel-drop" title="Drop the table: its memory is freed once no other table needs it">drop</button>`;
        const toggle = li.querySelector(".panel-toggle");
        toggle.dataset.testid = `menu-${name}`;
        li.querySelector(".panel-drop").dataset.testid = `drop-${name}`;
        toggle.textContent = `${open ? "●" : "○"} ${name}`;
        toggle.dataset.open = String(open);
        toggle.addEventListener("click", () => {
          if (panels.has(name)) closePanel(name);
          else openPanel(name, homes.get(name)?.isConnected ? homes.get(name) : $("console-panels"));
        });
        li.querySelector(".panel-drop").addEventListener("click", () => post({ type: "drop", name }));
        return li;
      }),
    );
    menuStatsAt = 0;
  }
  const now = performance.now();
  if (now - menuStatsAt < 500) return;
  menuStatsAt = now;
  for (const li of list.children) {
    const s = frame.tables[li.dataset.table];
    if (s) setText(li.querySelector(".menu-stats"), s.chart ? `chart of ${integer.format(s.rows)} rows` : `${integer.format(s.rows)} rows · ${bytes(s.bytesUsed)}`);
  }
}
