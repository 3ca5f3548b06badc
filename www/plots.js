// `Plot`, in the engine worker's scope next to Agg and UpdateBy: charts of tables, after
// Deephaven's plotting (`Figure().plot_xy(...)`, `plot_xy_hist`, `plot_ohlc`, `x_twin`). A chart
// is a list of layers, each one kind of one table's columns; it opens as a panel as a table
// does. Each frame the worker turns a chart into what it draws at the panel's pixel width
// (`table.plot`, which decimates in the engine: M4 per pixel column, histogram bins, OHLC bars
// per pixel column), so only those points cross to the page, never the table's rows.
// Invariant: a Chart's layers were checked against their tables when it was made (columns exist
// and hold numbers or times), so an error found later is one of the table (closed, failed).

const KINDS = ["line", "scatter", "bar", "area", "histogram", "ohlc"];

function names(value) {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value.map(String) : [String(value)];
}

function isTableLike(value) {
  return value !== null && typeof value === "object" && typeof value.plot === "function";
}

/** A chart: layers drawn on one x axis, with a left (y) and a right (y2) axis. */
export class Chart {
  constructor(layers, options = {}) {
    this.layers = layers;
    this.title = options.title ?? layers.find((l) => l.title)?.title ?? null;
  }

  /** This chart's layers and `others`' on one chart. */
  and(...others) {
    return Plot.figure([this, ...others], { title: this.title });
  }

  /** The same chart with a title. */
  titled(title) {
    return new Chart(this.layers, { title: String(title) });
  }
}

export function isChart(value) {
  return value instanceof Chart;
}

/** The engine's plot kind and value columns of a layer. */
function engineSpec(layer) {
  if (layer.kind === "histogram") return { kind: "histogram", values: [], width: layer.bins };
  if (layer.kind === "ohlc") return { kind: "ohlc", values: [layer.open, layer.high, layer.low, layer.close] };
  return { kind: "points", values: [...layer.y, ...layer.y2] };
}

function layerOf(kind, table, options) {
  const what = `Plot.${kind}`;
  if (!isTableLike(table)) throw new Error(`${what}(table, {...}): the first argument is a table`);
  if (options === null || typeof options !== "object") throw new Error(`${what}(table, {x, ...}): the second argument is an object of column names`);
  if (!options.x) throw new Error(`${what}: name the x column ({x: "Column"})`);
  const layer = { kind, table, x: String(options.x), y: names(options.y), y2: names(options.y2), by: names(options.by), title: options.title ?? null };
  if (kind === "histogram") {
    const bins = options.bins ?? 20;
    if (!(Number.isInteger(bins) && bins >= 1 && bins <= 10000)) throw new Error(`${what}: bins is a whole number from 1 to 10000, not ${bins}`);
    layer.bins = bins;
  } else if (kind === "ohlc") {
    for (const k of ["open", "high", "low", "close"]) {
      if (!options[k]) throw new Error(`${what}: name the ${k} column ({x, open, high, low, close})`);
      layer[k] = String(options[k]);
    }
  } else if (layer.y.length + layer.y2.length === 0) {
    throw new Error(`${what}: name the y column ({x, y: "Column"} or y: ["A", "B"])`);
  }
  // Checked now, so that a wrong column is the cell's error, not the panel's.
  const spec = engineSpec(layer);
  table.plot(spec.kind, layer.x, spec.values, layer.by, 1);
  return layer;
}

export const Plot = {
  line: (table, options) => new Chart([layerOf("line", table, options)]),
  scatter: (table, options) => new Chart([layerOf("scatter", table, options)]),
  bar: (table, options) => new Chart([layerOf("bar", table, options)]),
  area: (table, options) => new Chart([layerOf("area", table, options)]),
  histogram: (table, options) => new Chart([layerOf("histogram", table, options)]),
  ohlc: (table, options) => new Chart([layerOf("ohlc", table, options)]),
  /** Several charts' layers on one chart (Deephaven's one `Figure` with several plot calls). */
  figure(charts, options = {}) {
    const list = Array.isArray(charts) ? charts : [charts];
    if (!list.every(isChart)) throw new Error("Plot.figure([...]): every element is a chart (Plot.line(...), ...)");
    const layers = list.flatMap((c) => c.layers);
    const xTypes = new Set(layers.map((l) => (l.kind === "histogram" ? "histogram" : "x")));
    if (xTypes.size > 1) throw new Error("Plot.figure: a histogram's x is its bins; it cannot share a chart with other kinds");
    return new Chart(layers, options);
  },
  kinds: KINDS,
};

/** Seconds (uPlot's time unit) of an x of the engine's type; other types unchanged. */
function xScale(type) {
  if (type === "timestamp") return 1e-9;
  if (type === "date") return 86400;
  return 1;
}

/** A series' name: its key (by), its column, or both when a layer has several columns (OHLC:
 * its key, or none: its four parts are named open, high, low, close). */
function seriesName(layer, s) {
  const key = s.key.map((v) => (v === null ? "null" : String(v))).join(", ");
  if (layer.kind === "histogram") return key || layer.x;
  if (layer.kind === "ohlc") return key;
  const several = layer.y.length + layer.y2.length > 1;
  if (!key) return s.column;
  return several ? `${s.column} (${key})` : key;
}

/**
 * What `chart` draws at `width` pixels: {title, xType, time, categories, series: [{name, kind,
 * axis, rows, x (Float64Array), values: [Float64Array]}], rows}. Throws a table's error.
 */
export function drawChart(chart, width) {
  const series = [];
  let xType = null;
  let categories = [];
  let rows = 0;
  for (const layer of chart.layers) {
    const spec = engineSpec(layer);
    const data = layer.table.plot(spec.kind, layer.x, spec.values, layer.by, spec.width ?? width);
    xType ??= layer.kind === "histogram" ? "double" : data.xType;
    if (data.categories.length) categories = data.categories;
    rows += data.rows;
    const scale = layer.kind === "histogram" ? 1 : xScale(data.xType);
    for (const s of data.series) {
      series.push({
        name: seriesName(layer, s),
        kind: layer.kind,
        axis: layer.y2.includes(s.column) ? 2 : 1,
        rows: s.rows,
        key: s.key,
        x: scale === 1 ? s.x : s.x.map((v) => v * scale),
        values: s.values,
      });
    }
  }
  const time = xType === "timestamp" || xType === "date";
  return { title: chart.title, xType, time, categories, series, rows };
}

/** The tables a chart draws (to sweep it when one is closed). */
export function chartTables(chart) {
  return chart.layers.map((l) => l.table);
}
