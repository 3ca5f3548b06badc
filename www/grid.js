// A panel's grid: a virtualised regular-table drawing the viewport the worker last sent for its
// table. The grid asks for the rows in view (the panel's `want`, at least ROWS_ASKED from the
// first visible one); each column's cells are formatted together (format.js), so a column shows
// one precision; timestamps read in the zone chosen on the page. Formats (Deephaven's colors)
// travel with the viewport, one per cell.
//
// Under each header is a filter box, and a click on a header sorts (column-filters.js says what
// the text and clicks mean): both run in the engine, as a `where` then a `sort` that the worker
// derives from the table and shows in its place (engine-worker.js, "view"), so they stay live
// and cost the page nothing on a 1M-row table. A panel's sort, filters and column widths are
// kept by table name (`states`), so a panel closed and reopened shows the same view.

import "./vendor/regular-table.js";
import { nextSort, filterFormula } from "./column-filters.js";
import { call } from "./engine.js";
import { columnFormat } from "./format.js";
import { inside, setupCells } from "./grid-cells.js";

export const ROWS_ASKED = 60;
const COLORS = { IVORY: "#fffff0" };
const SORT_HELP = "Click: sort ascending, then descending, then off. Shift-click: add as another sort key.";
const FILTER_HELP =
  "Filter: text contains (=abc equals), numbers > 100 / <= 5 / = 3 / 1..10, times >= 2026-01-05T17:00 or a..b (in the page's time zone)";

// The zone timestamps read in: "UTC" or an IANA name.
let zone = "UTC";

export const timeZone = () => zone;

/** Reads timestamps in `next` from the next draw on. */
export function setTimeZone(next) {
  zone = next;
}

// Table name → its grid's state: {sort: [{column, descending}], filters: {column: text},
// errors: {column: message}, inputs: Map(column → <input>), types: {column: type} (as the last
// viewport gave them), sizes (regular-table's), seq}.
const states = new Map();

function stateOf(name) {
  let state = states.get(name);
  if (!state) {
    state = { sort: [], filters: {}, errors: {}, inputs: new Map(), types: {}, sizes: null, seq: 0 };
    states.set(name, state);
  }
  return state;
}

/** A grid for `panel` ({name, data, want}), appended to `parent` (in the document): it draws
 * `panel.data.viewport` and records in `panel.want` the rows it shows. */
export function createGrid(panel, parent) {
  const body = document.createElement("div");
  body.className = "grid-body";
  const table = document.createElement("regular-table");
  body.appendChild(table);
  const errors = document.createElement("div");
  errors.className = "grid-errors";
  errors.dataset.testid = `filter-errors-${panel.name}`;
  parent.append(body, errors);
  const state = stateOf(panel.name);
  panel.grid = state;
  if (state.sizes) table.restoreColumnSizes(state.sizes);
  table.setDataListener((x0, y0, x1, y1) => rows(panel, x0, y0, x1, y1));
  table.addStyleListener(() => style(panel, table));
  // A mousedown on a column's resize handle is no click on its header.
  let resizing = false;
  table.addEventListener("mousedown", (e) => (resizing = !!e.target.closest?.(".rt-column-resize")), true);
  table.addEventListener("click", (e) => {
    const th = e.target.closest?.("thead th");
    if (!th || resizing || e.target.closest(".column-filter")) return;
    const meta = table.getMeta(th);
    const column = panel.data?.viewport?.columns[meta?.x];
    if (meta?.type !== "column_header" || meta.column_header_y !== 0 || column === undefined) return;
    state.sort = nextSort(state.sort, column, e.shiftKey);
    applyView(panel);
  });
  setupCells(panel, table, body, timeZone);
  if (state.sort.length > 0 || Object.keys(state.filters).length > 0) applyView(panel);
  return table;
}

/** Keeps what outlives the panel (its column widths) when it closes. */
export function closeGrid(panel) {
  if (panel.grid && panel.table) panel.grid.sizes = panel.table.saveColumnSizes();
}

/** Asks the worker for the panel's view (its filters, then its sort), and shows the texts it
 * refused. A later request supersedes an earlier one still in flight. */
export async function applyView(panel) {
  const state = panel.grid;
  const filters = {};
  const errors = {};
  for (const [column, text] of Object.entries(state.filters)) {
    // The column's type as the last viewport gave it (a reopened panel has none yet).
    const type = state.types[column];
    if (type === undefined) continue;
    try {
      const formula = filterFormula(column, type, text, zone);
      if (formula) filters[column] = formula;
    } catch (e) {
      errors[column] = e.message;
    }
  }
  const seq = ++state.seq;
  const reply = await call({ type: "view", panel: panel.name, filters, sort: state.sort });
  if (seq !== state.seq) return;
  state.errors = { ...errors, ...reply.errors };
  panel.selection = null;
  showErrors(panel);
  panel.table.draw();
}

/** Remakes the views whose filters read times (the time zone changed). */
export function refilter(panel) {
  const timed = Object.keys(panel.grid.filters).some((c) => panel.grid.types[c] === "timestamp");
  if (timed) applyView(panel);
}

function showErrors(panel) {
  const state = panel.grid;
  const box = panel.wrapper.querySelector(".grid-errors");
  box.replaceChildren(
    ...Object.entries(state.errors).map(([column, message]) => {
      const line = document.createElement("div");
      line.textContent = column ? `${column}: ${message}` : message;
      return line;
    }),
  );
  for (const [column, input] of state.inputs) {
    const error = state.errors[column];
    input.classList.toggle("invalid", !!error);
    input.title = error ?? FILTER_HELP;
  }
}

/** The filter box under `column`'s header: typing (or Enter) remakes the view. */
function filterInput(panel, column) {
  const state = panel.grid;
  let input = state.inputs.get(column);
  if (input) return input;
  input = document.createElement("input");
  input.className = "column-filter";
  input.placeholder = "filter";
  input.title = FILTER_HELP;
  input.spellcheck = false;
  // As narrow as its column: the box never widens a column past its header and cells.
  input.size = 1;
  input.dataset.testid = `filter-${panel.name}-${column}`;
  input.value = state.filters[column] ?? "";
  let timer = null;
  const apply = () => {
    clearTimeout(timer);
    if ((state.filters[column] ?? "") === input.value) return;
    if (input.value.trim() === "") delete state.filters[column];
    else state.filters[column] = input.value;
    applyView(panel);
  };
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(apply, 400);
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter") apply();
  });
  for (const type of ["mousedown", "click"]) input.addEventListener(type, (e) => e.stopPropagation());
  state.inputs.set(column, input);
  return input;
}

function label(state, column) {
  const at = state.sort.findIndex((k) => k.column === column);
  if (at < 0) return wrappable(column);
  const arrow = state.sort[at].descending ? "▼" : "▲";
  return `${wrappable(column)} ${arrow}${state.sort.length > 1 ? at + 1 : ""}`;
}

async function rows(panel, x0, y0, x1, y1) {
  panel.want = { first: y0, count: Math.max(ROWS_ASKED, y1 - y0) };
  const data = panel.data;
  if (!data || !data.viewport) {
    return { num_rows: 0, num_columns: 0, data: [], column_headers: [] };
  }
  const v = data.viewport;
  v.columns.forEach((c, i) => (panel.grid.types[c] = v.types[i]));
  const columns = v.columns.slice(x0, x1);
  const from = Math.max(0, y0 - v.first);
  const to = Math.min(v.rows.length, y1 - v.first);
  const body = columns.map((_, c) => {
    const values = v.rows.slice(from, to).map((row) => row[x0 + c]);
    const format = columnFormat(v.types[x0 + c], values, zone);
    return values.map(format);
  });
  return {
    num_rows: v.totalRows,
    num_columns: v.columns.length,
    column_headers: columns.map((c) => [label(panel.grid, c), filterInput(panel, c)]),
    merge_headers: "none",
    data: body,
  };
}

/** A column name with a zero-width space after each underscore and inside each camelCase step,
 * so a long header (Trade_Count_Stream, KafkaPartition) wraps there, not mid-word. */
function wrappable(name) {
  return name.replaceAll("_", "_\u200b").replace(/([a-z])(?=[A-Z])/g, "$1\u200b");
}

function style(panel, table) {
  const data = panel.data;
  if (!data?.viewport) return;
  const v = data.viewport;
  const sort = panel.grid.sort;
  for (const th of table.querySelectorAll("thead th")) {
    const meta = table.getMeta(th);
    if (meta?.type !== "column_header" || meta.x === undefined) continue;
    const column = v.columns[meta.x];
    th.dataset.column = column;
    if (meta.column_header_y !== 0) continue;
    const key = sort.find((k) => k.column === column);
    th.dataset.sort = key ? (key.descending ? "descending" : "ascending") : "";
    th.title = SORT_HELP;
    th.classList.add("sortable");
  }
  const sel = panel.selection;
  for (const td of table.querySelectorAll("tbody td")) {
    const meta = table.getMeta(td);
    if (!meta || meta.x === undefined || meta.y === undefined) continue;
    const color = v.formats[meta.y - v.first]?.[meta.x] ?? null;
    td.style.backgroundColor = color ? COLORS[color] ?? color.toLowerCase() : "";
    td.dataset.format = color ?? "";
    td.dataset.column = v.columns[meta.x];
    // Numbers right, text left.
    td.classList.toggle("text", v.types[meta.x] === "string");
    td.classList.toggle("selected", !!sel && inside(sel, meta.x, meta.y));
  }
}
