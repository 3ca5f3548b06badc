// A grid's cells as a user works with them: a rectangle selected by dragging or by a click then
// a shift-click, copied with Ctrl/Cmd+C as tab-separated text (rows by lines, numbers without
// thousands separators, times as shown, in the page's zone), and a click on a cell showing its
// whole row in a side panel (column: value, each at its own precision).
//
// Cells are addressed by (column index, row position) in what the panel shows (its view, sorted
// and filtered), so a selection means the same cells however the grid scrolls; a new view clears
// it. The rows to copy or show are fetched from the worker when needed: a selection may reach
// beyond the rows the grid holds.

import { call } from "./engine.js";
import { columnFormat } from "./format.js";

const NUMBERS = new Set(["int", "long", "double"]);

/** Whether cell (x, y) lies in the rectangle of selection `sel` ({anchor, focus}). */
export function inside(sel, x, y) {
  const { anchor: a, focus: f } = sel;
  return x >= Math.min(a.x, f.x) && x <= Math.max(a.x, f.x) && y >= Math.min(a.y, f.y) && y <= Math.max(a.y, f.y);
}

/** Wires selection, copy and the row panel into `panel`'s grid `table`, whose side panel goes in
 * `body`; `zone()` is the time zone times read in. */
export function setupCells(panel, table, body, zone) {
  let dragging = false;
  let moved = false;
  const cellAt = (target) => {
    const td = target.closest?.("tbody td");
    const meta = td && table.getMeta(td);
    return meta?.type === "body" && meta.x !== undefined && meta.y !== undefined ? { x: meta.x, y: meta.y } : null;
  };
  table.addEventListener("mousedown", (e) => {
    const cell = e.button === 0 ? cellAt(e.target) : null;
    if (!cell) return;
    // No text selection while cells are selected; the grid keeps the keyboard.
    e.preventDefault();
    table.focus({ preventScroll: true });
    if (e.shiftKey && panel.selection) panel.selection = { anchor: panel.selection.anchor, focus: cell };
    else panel.selection = { anchor: cell, focus: cell };
    dragging = true;
    moved = e.shiftKey;
    paint(panel, table);
  });
  table.addEventListener("mouseover", (e) => {
    if (!dragging) return;
    const cell = cellAt(e.target);
    if (!cell || !panel.selection) return;
    const f = panel.selection.focus;
    if (f.x === cell.x && f.y === cell.y) return;
    panel.selection = { anchor: panel.selection.anchor, focus: cell };
    moved = true;
    paint(panel, table);
  });
  document.addEventListener("mouseup", () => {
    if (!dragging) return;
    dragging = false;
    if (!moved && panel.selection) showRow(panel, body, panel.selection.anchor.y, zone());
  });
  table.addEventListener("keydown", (e) => {
    if (!(e.ctrlKey || e.metaKey) || e.key.toLowerCase() !== "c") return;
    if (e.target.closest?.("input") || !panel.selection) return;
    e.preventDefault();
    copyCells(panel, zone());
  });
}

function paint(panel, table) {
  const sel = panel.selection;
  for (const td of table.querySelectorAll("tbody td")) {
    const meta = table.getMeta(td);
    if (meta?.x === undefined || meta.y === undefined) continue;
    td.classList.toggle("selected", !!sel && inside(sel, meta.x, meta.y));
  }
}

/** The panel's rows `first..first+count` as the worker has them now (a viewport). */
async function fetchRows(panel, first, count) {
  return (await call({ type: "rows", panel: panel.name, first, count })).viewport;
}

/** The selected cells as tab-separated text, copied to the clipboard; also kept on the panel
 * (`panel.copied`) for the page's tests. */
async function copyCells(panel, zone) {
  const { anchor: a, focus: f } = panel.selection;
  const [x0, x1] = [Math.min(a.x, f.x), Math.max(a.x, f.x)];
  const [y0, y1] = [Math.min(a.y, f.y), Math.max(a.y, f.y)];
  const v = await fetchRows(panel, y0, y1 - y0 + 1);
  if (!v) return;
  const columns = [];
  for (let x = x0; x <= x1 && x < v.columns.length; x++) {
    const values = v.rows.map((row) => row[x]);
    const format = columnFormat(v.types[x], values, zone);
    const plain = NUMBERS.has(v.types[x]);
    columns.push(values.map((value) => {
      const text = format(value);
      return (plain ? text.replaceAll(",", "") : text).replace(/[\t\r\n]+/g, " ");
    }));
  }
  const tsv = v.rows.map((_, r) => columns.map((c) => c[r]).join("\t")).join("\n");
  panel.copied = tsv;
  panel.wrapper.dataset.copied = String(v.rows.length);
  try {
    await navigator.clipboard.writeText(tsv);
  } catch {
    // Without the async clipboard (an insecure origin): the old way, through a selection.
    const area = document.createElement("textarea");
    area.value = tsv;
    document.body.appendChild(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
}

/** Shows row `y` of what the panel shows beside its grid: each column and its value. */
async function showRow(panel, body, y, zone) {
  const v = await fetchRows(panel, y, 1);
  const row = v?.rows[0];
  if (!row) return;
  let aside = body.querySelector(".row-detail");
  if (!aside) {
    aside = document.createElement("aside");
    aside.className = "row-detail";
    aside.dataset.testid = `row-${panel.name}`;
    body.appendChild(aside);
  }
  const head = document.createElement("div");
  head.className = "row-detail-head";
  head.dataset.testid = `row-head-${panel.name}`;
  const title = document.createElement("span");
  title.textContent = `row ${(y + 1).toLocaleString("en-US")} of ${v.totalRows.toLocaleString("en-US")}`;
  const close = document.createElement("button");
  close.type = "button";
  close.className = "panel-close";
  close.textContent = "×";
  close.title = "Close the row's panel";
  close.addEventListener("click", () => aside.remove());
  head.append(title, close);
  const list = document.createElement("dl");
  v.columns.forEach((column, x) => {
    const dt = document.createElement("dt");
    dt.textContent = column;
    const dd = document.createElement("dd");
    dd.dataset.column = column;
    const value = row[x];
    dd.textContent = value === null || value === undefined ? "null" : columnFormat(v.types[x], [value], zone)(value);
    list.append(dt, dd);
  });
  aside.dataset.row = String(y);
  aside.replaceChildren(head, list);
}
