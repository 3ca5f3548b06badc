// The rows/bytes chart (uPlot): twice a second, the rows and MB of the notebook's source tables
// (each notebook names them), the WASM linear memory and every live table added up, over the
// last five minutes of samples.

import uPlot from "./vendor/uPlot.esm.js";
import { $ } from "./dom.js";
import { integer } from "./format.js";

const SAMPLE_MS = 500;
const KEPT = 600;
let tables = [];
let series = [];
let chart = null;
let lastSample = 0;
const started = performance.now();

/** Samples `frame` (at most every SAMPLE_MS) into the chart. */
export function sample(frame) {
  const now = performance.now();
  if (now - lastSample < SAMPLE_MS || series.length === 0) return;
  lastSample = now;
  const stats = tables.map((t) => frame.tables[t.name] ?? null);
  series[0].push((now - started) / 1000);
  stats.forEach((s, i) => {
    series[1 + i].push(s?.rows ?? null);
    series[1 + tables.length + i].push(s ? s.bytesUsed / 1048576 : null);
  });
  series[1 + 2 * tables.length].push(frame.memory / 1048576);
  series[2 + 2 * tables.length].push(frame.session.bytesUsed / 1048576);
  if (series[0].length > KEPT) series.forEach((s) => s.shift());
  chart?.setData(series);
}

/**
 * The chart of `sources`: [{name (a table of the session), label, color (its rows), mbColor
 * (its MB, dashed)}].
 */
export function makeChart(sources) {
  tables = sources;
  series = Array.from({ length: 3 + 2 * tables.length }, () => []);
  const host = $("chart");
  chart = new uPlot(
    {
      width: host.clientWidth || 420,
      height: 220,
      // Both axes start at 0; MB tops out higher than rows, so a plateau of each (a million rows,
      // the WASM memory) does not draw one line on the other.
      scales: {
        x: { time: false },
        rows: { range: (u, min, max) => [0, Math.max(max, 1) * 1.05] },
        mb: { range: (u, min, max) => [0, Math.max(max, 1) * 1.4] },
      },
      // Dashed series (the tables' MB) get dashed legend markers.
      legend: { markers: { dash: (u, i) => (u.series[i].dash ? "dashed" : "solid") } },
      axes: [
        { label: "seconds" },
        { scale: "rows", label: "rows", size: 80, values: (u, v) => v.map((x) => integer.format(x)) },
        { scale: "mb", side: 1, label: "MB", grid: { show: false } },
      ],
      series: [
        { label: "seconds", value: (u, v) => (v == null ? "--" : v.toFixed(1)) },
        ...tables.map((t) => ({ label: `${t.label} rows`, scale: "rows", stroke: t.color })),
        ...tables.map((t) => ({ label: `${t.label} MB`, scale: "mb", stroke: t.mbColor, dash: [4, 4] })),
        { label: "WASM MB", scale: "mb", stroke: "#dc2626" },
        { label: "all tables MB", scale: "mb", stroke: "#059669" },
      ],
    },
    series,
    host,
  );
  // The chart follows its panel's width (a window resized, the layout's columns changed).
  new ResizeObserver(() => {
    const width = host.clientWidth;
    if (width > 0 && width !== chart.width) chart.setSize({ width, height: 220 });
  }).observe(host);
}
