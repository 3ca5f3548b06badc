// A panel's grid: a virtualised regular-table drawing the viewport the worker last sent for its
// table. The grid asks for the rows in view (the panel's `want`, at least ROWS_ASKED from the
// first visible one); each column's cells are formatted together (format.js), so a column shows
// one precision; timestamps read in the zone chosen on the page. Formats (Deephaven's colors)
// travel with the viewport, one per cell.

import "./vendor/regular-table.js";
import { columnFormat } from "./format.js";

export const ROWS_ASKED = 60;
const COLORS = { IVORY: "#fffff0" };

// The zone timestamps read in: "UTC" or an IANA name.
let zone = "UTC";

export const timeZone = () => zone;

/** Reads timestamps in `next` from the next draw on. */
export function setTimeZone(next) {
  zone = next;
}

/** A grid for `panel` ({data, want}), appended to `parent` (in the document): it draws
 * `panel.data.viewport` and records in `panel.want` the rows it shows. */
export function createGrid(panel, parent) {
  const table = document.createElement("regular-table");
  parent.appendChild(table);
  table.setDataListener((x0, y0, x1, y1) => rows(panel, x0, y0, x1, y1));
  table.addStyleListener(() => style(panel, table));
  return table;
}

async function rows(panel, x0, y0, x1, y1) {
  panel.want = { first: y0, count: Math.max(ROWS_ASKED, y1 - y0) };
  const data = panel.data;
  if (!data || !data.viewport) {
    return { num_rows: 0, num_columns: 0, data: [], column_headers: [] };
  }
  const v = data.viewport;
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
    column_headers: columns.map((c) => [wrappable(c)]),
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
  for (const td of table.querySelectorAll("tbody td")) {
    const meta = table.getMeta(td);
    if (!meta || meta.x === undefined || meta.y === undefined) continue;
    const color = v.formats[meta.y - v.first]?.[meta.x] ?? null;
    td.style.backgroundColor = color ? COLORS[color] ?? color.toLowerCase() : "";
    td.dataset.format = color ?? "";
    td.dataset.column = v.columns[meta.x];
    // Numbers right, text left.
    td.classList.toggle("text", v.types[meta.x] === "string");
  }
}
