// A chart's panel: a uPlot chart of the points the worker sent for it (plots.js made them, at
// the panel's pixel width, in the engine). Lines, areas and scatter are uPlot series; bars and
// histograms draw with uPlot's bars path; OHLC bars are four series (open, high, low, close: the
// legend reads them) drawn as candles by a draw hook. Timestamps are a time axis in the page's
// time zone; a string x is categories.
// Series of one chart may have different x values. Several lines, areas or scatters are drawn
// "faceted" (uPlot's mode 2: each series its own x and y arrays, as the worker sent them), so a
// frame costs the points drawn; other charts are aligned on one x axis (uPlot's mode 1: the union
// of the x values, a missing point `undefined`, which a line spans). Aligning 15 series of
// 4,000 points made 60,000 × 15 slots a frame and took 10-55 ms of the main thread.
// Invariants: the uPlot instance is rebuilt only when the chart's layout (series, kinds, axes,
// title, zone) changes; otherwise a frame only sets its data. A chart is first made once the
// panel's ResizeObserver has given its width, so that making it never forces a layout.

import uPlot from "./vendor/uPlot.esm.js";
import { timeZone } from "./grid.js";
import { integer } from "./format.js";

const COLORS = ["#2563eb", "#dc2626", "#059669", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#65a30d", "#4b5563", "#ea580c"];
const HEIGHT = 260;

/** A plot for `panel` ({name, data}), appended to `parent`; `draw()` shows `panel.data.chart`.
 * `ready()` is called when the panel's first width is known (the chart can then be drawn). */
export function createPlot(panel, parent, ready) {
  const host = document.createElement("div");
  host.className = "plot-host";
  host.dataset.testid = `plot-${panel.name}`;
  parent.appendChild(host);
  // `width` is kept by the observer, so that a frame never reads layout.
  const plot = { host, uplot: null, layout: null, width: 0, draw: () => draw(panel, plot) };
  // A new width asks the worker for points at that width (the next frame `need`s them). The
  // observer runs after layout, so its width costs nothing; the first one draws the chart.
  plot.observer = new ResizeObserver((entries) => {
    const width = Math.round(entries[entries.length - 1].contentRect.width);
    plot.width = width;
    if (!plot.uplot) {
      if (width > 0) ready();
    } else if (width > 0 && width !== plot.uplot.width) {
      plot.uplot.setSize({ width, height: HEIGHT });
      panel.data = null;
    }
  });
  plot.observer.observe(host);
  return plot;
}

export function closePlot(panel) {
  panel.table?.observer.disconnect();
  panel.table?.uplot?.destroy();
}

/** The pixel width the worker decimates a chart panel's series to (undefined for a table's
 * panel, or before the chart's first layout: the worker then takes 600). */
export function plotWidth(panel) {
  return panel.chart ? panel.table?.width || undefined : undefined;
}

function layoutOf(chart) {
  return JSON.stringify([chart.title, chart.time, chart.categories.length > 0, isFaceted(chart), timeZone(), chart.series.map((s) => [s.name, s.kind, s.axis])]);
}

/** Whether `chart` is drawn faceted: several series, each a line, area or scatter of one column
 * over a numeric or time x. */
function isFaceted(chart) {
  return chart.series.length > 1 && chart.categories.length === 0 && chart.series.every((s) => FACETED.has(s.kind) && s.values.length === 1);
}
const FACETED = new Set(["line", "area", "scatter"]);

function draw(panel, plot) {
  const chart = panel.data?.chart;
  // Before the observer's first width, the chart waits (it draws from the observer).
  if (!chart || plot.width === 0) return;
  const faceted = isFaceted(chart);
  const data = faceted ? [null, ...chart.series.map((s) => [s.x, s.values[0]])] : align(chart.series);
  const layout = layoutOf(chart);
  if (layout !== plot.layout || !plot.uplot) {
    plot.uplot?.destroy();
    plot.layout = layout;
    plot.uplot = new uPlot(options(chart, plot.width, faceted), data, plot.host);
  } else {
    plot.uplot.setData(data);
  }
  const points = chart.series.reduce((n, s) => n + s.x.length, 0);
  panel.wrapper.dataset.series = chart.series.length;
  panel.wrapper.dataset.points = points;
}

/**
 * uPlot's aligned data of series whose x arrays are sorted: the union of their x values, sorted
 * and without repeats, then each series' values at those x (`undefined` where it has none, which
 * a line spans). As uPlot.join, in a sort of the typed x values and one walk per series (join's
 * Set and comparator sort cost 10-150 ms a frame for 60,000 points).
 */
function align(series) {
  // One series is aligned already.
  if (series.length === 1) return [series[0].x, ...series[0].values];
  let total = 0;
  for (const s of series) total += s.x.length;
  const all = new Float64Array(total);
  let at = 0;
  for (const s of series) {
    all.set(s.x, at);
    at += s.x.length;
  }
  all.sort();
  let n = 0;
  for (let i = 0; i < total; i++) if (i === 0 || all[i] !== all[i - 1]) all[n++] = all[i];
  const xs = all.subarray(0, n);
  const data = [xs];
  for (const s of series) {
    const columns = s.values.map(() => new Array(n));
    let j = 0;
    for (let i = 0; i < s.x.length; i++) {
      while (xs[j] < s.x[i]) j++;
      for (let k = 0; k < columns.length; k++) columns[k][j] = s.values[k][i];
    }
    data.push(...columns);
  }
  return data;
}

function options(chart, width, faceted) {
  const series = [faceted ? {} : { label: chart.time ? "time" : "x", value: chart.categories.length ? (u, v) => chart.categories[v] ?? "--" : undefined }];
  const zone = timeZone();
  const xText = chart.time ? (x) => TIME_TEXT(uPlot.tzDate(new Date(x * 1e3), zone)) : legendNumber;
  const candles = [];
  chart.series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const scale = s.axis === 2 ? "y2" : "y";
    if (s.kind === "ohlc") {
      candles.push({ first: series.length, color });
      for (const part of ["open", "high", "low", "close"]) {
        series.push({ label: s.name ? `${s.name} ${part}` : part, scale, stroke: color, paths: () => null, points: { show: false } });
      }
      return;
    }
    const one = { label: s.name, scale, stroke: color, width: 1, spanGaps: true, points: { show: false } };
    // A faceted series names its x and y scales (its x arrays are sorted).
    if (faceted) one.facets = [{ scale: "x", auto: true, sorted: 1 }, { scale, auto: true }];
    if (s.kind === "scatter") Object.assign(one, { paths: squares, fill: color });
    // Mode 2 has no x entry in the legend: each series shows its point's x beside its y.
    if (faceted) one.value = (u, v, si, i) => (i == null ? "--" : `${legendNumber(u.data[si][1][i])} at ${xText(u.data[si][0][i])}`);
    if (s.kind === "area") one.fill = `${color}33`;
    if (s.kind === "bar" || s.kind === "histogram") {
      Object.assign(one, { fill: `${color}99`, paths: uPlot.paths.bars({ size: [0.8, 64], align: s.kind === "histogram" ? 1 : 0 }) });
    }
    series.push(one);
  });
  const hasY2 = chart.series.some((s) => s.axis === 2);
  const categories = chart.categories;
  const axes = [
    categories.length
      ? { splits: () => categories.map((_, i) => i), values: (u, vals) => vals.map((v) => categories[v] ?? "") }
      : {},
    { scale: "y", size: 70, values: (u, vals) => vals.map(legendNumber) },
  ];
  if (hasY2) axes.push({ scale: "y2", side: 1, size: 70, grid: { show: false } });
  return {
    ...(faceted ? { mode: 2 } : {}),
    width,
    height: HEIGHT,
    title: chart.title ?? undefined,
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), zone),
    scales: {
      x: { time: chart.time, ...(categories.length ? { range: () => [-0.5, categories.length - 0.5] } : {}) },
    },
    axes,
    series,
    // A faceted chart's cursor finds, in each series, the point nearest its x.
    // (and zooms x only, as a mode 1 chart does).
    ...(faceted ? { cursor: { dataIdx: nearestX, drag: { x: true, y: false } } } : {}),
    hooks: candles.length ? { draw: [(u) => drawCandles(u, candles)] } : {},
  };
}

const TIME_TEXT = uPlot.fmtDate("{YYYY}-{MM}-{DD} {HH}:{mm}:{ss}.{fff}");

function legendNumber(v) {
  return v == null ? "" : Math.abs(v) >= 1000 ? integer.format(v) : String(+v.toPrecision(6));
}

/** In a faceted chart, the index of series `si`'s point nearest the cursor's x (its x sorted). */
function nearestX(u, si) {
  const xs = u.data[si]?.[0];
  if (!xs?.length || u.cursor.left == null || u.cursor.left < 0) return null;
  const x = u.posToVal(u.cursor.left, "x");
  let lo = 0;
  let hi = xs.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo > 0 && x - xs[lo - 1] < xs[lo] - x ? lo - 1 : lo;
}

/** A scatter series' path: a 3-pixel square per point in view (`i0..=i1`), in one Path2D (uPlot's points are arcs,
 * several times the cost to fill), built once per data change as a line's path is. */
const SQUARE = 3;
function squares(u, si, i0, i1) {
  const s = u.series[si];
  const faceted = u.mode === 2;
  const xs = faceted ? u.data[si][0] : u.data[0];
  const ys = faceted ? u.data[si][1] : u.data[si];
  const yScale = faceted ? s.facets[1].scale : s.scale;
  const side = Math.max(1, Math.round(SQUARE * uPlot.pxRatio));
  const half = side / 2;
  const fill = new Path2D();
  for (let i = Math.max(0, i0); i <= Math.min(i1, xs.length - 1); i++) {
    if (ys[i] == null) continue;
    fill.rect(Math.round(u.valToPos(xs[i], "x", true) - half), Math.round(u.valToPos(ys[i], yScale, true) - half), side, side);
  }
  return { stroke: null, fill, clip: null, flags: 0 };
}

/** Candles: a line from low to high, a box from open to close (filled when close < open). */
function drawCandles(u, candles) {
  const ctx = u.ctx;
  const xs = u.data[0];
  const [i0, i1] = [u.series[0].idxs?.[0] ?? 0, u.series[0].idxs?.[1] ?? xs.length - 1];
  const bars = Math.max(1, i1 - i0 + 1);
  const half = Math.max(1, Math.min(8, ((u.bbox.width / bars) * 0.35) | 0));
  ctx.save();
  for (const { first, color } of candles) {
    const [o, h, l, c] = [0, 1, 2, 3].map((k) => u.data[first + k]);
    const scale = u.series[first].scale;
    ctx.strokeStyle = color;
    ctx.fillStyle = color;
    ctx.lineWidth = 1;
    for (let i = i0; i <= i1; i++) {
      if (o[i] == null) continue;
      const x = Math.round(u.valToPos(xs[i], "x", true));
      const [yo, yh, yl, yc] = [o[i], h[i], l[i], c[i]].map((v) => u.valToPos(v, scale, true));
      ctx.beginPath();
      ctx.moveTo(x, yh);
      ctx.lineTo(x, yl);
      ctx.stroke();
      const top = Math.min(yo, yc);
      const height = Math.max(1, Math.abs(yo - yc));
      if (c[i] < o[i]) ctx.fillRect(x - half, top, 2 * half, height);
      else ctx.strokeRect(x - half, top, 2 * half, height);
    }
  }
  ctx.restore();
}
