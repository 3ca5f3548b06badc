// The notebook page: Deephaven's "Stream vs. Append" cell by cell, against the engine in a Web
// Worker (engine-worker.js). The main thread renders only: once per animation frame it asks the
// worker for the viewports of the visible panels, draws them with regular-table, and feeds the
// chart; it never decodes or aggregates.

import "./vendor/regular-table.js";
import uPlot from "./vendor/uPlot.esm.js";

const $ = (id) => document.getElementById(id);
const wsUrl = new URL("ws", location.href).href.replace(/^http/, "ws");

// --- the notebook -------------------------------------------------------------------------

const CELLS = [
  {
    name: "latest_offset",
    title: "The latest offset, from a live stream table",
    code: `const latest = await session.consumeToTable({ offsets: "each:-1", tableType: "stream" });
const latest_offset = latest.view(["KafkaPartition", "KafkaOffset"]).lastBy(["KafkaPartition"]);
return { latest, latest_offset };`,
    show: ["latest_offset"],
  },
  {
    name: "offset_variable",
    title: "“size_offset events ago”: a snapshot, then the seek",
    code: `// Once the live table has the newest record of every partition (its consumer caught up,
// and a cycle ran since), a static snapshot of them.
const sleep = () => new Promise((r) => setTimeout(r, 20));
const feed = () => session.status().consumers.find((c) => c.tables.includes(latest.id));
while (!feed()?.caughtUp) {
  if (feed()?.failed) throw new Error(feed().failed);
  await sleep();
}
for (const cycle = session.cycles(); session.cycles() === cycle; ) await sleep();
const snapshot = session.emptyTable(0).snapshot(latest_offset);
const ends = new Map();
for (let i = 0; i < snapshot.size; i++) {
  ends.set(snapshot.getColumn("KafkaPartition").get(i), Number(snapshot.getColumn("KafkaOffset").get(i)) + 1);
}
// size_offset events before the latest offsets, spread over the partitions as Redpanda's
// "newest N" does: an equal share from each, a short partition gives all it still holds.
const low = new Map(feed().partitions.map((p) => [p.partition, p.low]));
const held = new Map([...ends].map(([p, end]) => [p, end - (low.get(p) ?? 0)]));
const take = new Map();
let left = size_offset;
const byHeld = [...held.keys()].sort((a, b) => held.get(a) - held.get(b));
let i = 0;
for (; i < byHeld.length && held.get(byHeld[i]) <= Math.floor(left / (byHeld.length - i)); i++) {
  left -= held.get(byHeld[i]);
  take.set(byHeld[i], held.get(byHeld[i]));
}
const rest = byHeld.slice(i).sort((a, b) => a - b);
const share = Math.floor(left / Math.max(rest.length, 1));
rest.forEach((p, k) => take.set(p, share + (k < left - share * rest.length ? 1 : 0)));
const offset_variable = "{" + [...take].sort(([a], [b]) => a - b).map(([p, n]) => p + ": " + (ends.get(p) - n)).join(", ") + "}";
return { snapshot, offset_variable };`,
    show: [],
  },
  {
    name: "trades",
    title: "Ingest from there into an append table and a stream table",
    together: true,
    code: `const trades_append = await session.consumeToTable({ offsets: offset_variable, tableType: "append" });
const trades_stream = await session.consumeToTable({ offsets: offset_variable, tableType: "stream" });
return { trades_append, trades_stream };`,
    show: [],
  },
  {
    name: "agg_append",
    title: "agg_append, BTC in IVORY",
    code: `const agg_append = trades_append
  .aggBy([Agg.count("Trade_Count"), Agg.sum("Total_Size = Size")], ["Exchange", "Instrument"])
  .sort(["Exchange", "Instrument"])
  .formatColumnWhere("Instrument", "Instrument.startsWith(\`BTC\`)", "IVORY");
return { agg_append };`,
    show: ["agg_append"],
  },
  {
    name: "agg_stream",
    title: "agg_stream",
    code: `const agg_stream = trades_stream
  .aggBy([Agg.count("Trade_Count"), Agg.sum("Total_Size = Size")], ["Exchange", "Instrument"])
  .sort(["Exchange", "Instrument"])
  .formatColumnWhere("Instrument", "Instrument.startsWith(\`BTC\`)", "IVORY");
return { agg_stream };`,
    show: ["agg_stream"],
  },
  {
    name: "row_count_merge",
    title: "row_count_merge",
    code: `const row_count_append = trades_append.countBy("RowCount").updateView(["Table_Type = \`append\`"]);
const row_count_stream = trades_stream.dropStream().countBy("RowCount").updateView(["Table_Type = \`stream\`"]);
const row_count_merge = row_count_append.merge([row_count_stream]);
return { row_count_merge };`,
    show: ["row_count_merge"],
  },
  {
    name: "diff_table",
    title: "diff_table: every difference is zero",
    code: `const diff_table = agg_append
  .naturalJoin(agg_stream, ["Exchange", "Instrument"],
    ["Trade_Count_Stream = Trade_Count", "Total_Size_Stream = Total_Size"])
  .updateView(["Diff_Count = Trade_Count - Trade_Count_Stream",
    "Diff_Size = Total_Size - Total_Size_Stream"]);
return { diff_table };`,
    show: ["diff_table"],
  },
];

// --- the worker ---------------------------------------------------------------------------

const worker = new Worker(new URL("./engine-worker.js", import.meta.url), { type: "module" });
const pending = new Map();
let nextId = 1;
let frameOutstanding = false;

function call(message) {
  const id = nextId++;
  return new Promise((resolve) => {
    pending.set(id, resolve);
    worker.postMessage({ ...message, id });
  });
}

let ready;
const readyPromise = new Promise((r) => (ready = r));
worker.onmessage = (event) => {
  const m = event.data;
  if (m.type === "ready") ready();
  else if (m.type === "fatal") showFatal(m.error);
  else if (pending.has(m.id)) {
    pending.get(m.id)(m);
    pending.delete(m.id);
  }
};
worker.onerror = (e) => showFatal(e.message || "the engine worker failed");

function showFatal(text) {
  const status = $("status");
  status.textContent = text;
  status.dataset.status = "failed";
}

// --- formatting ---------------------------------------------------------------------------

const integer = new Intl.NumberFormat("en-US");
// A double column shows one number of decimals in every visible cell, so its digits line up: as
// many as its most precise value needs, at most MAX_DECIMALS, and no more than keep its largest
// value within SIGNIFICANT digits (sums in the millions show 4 decimals, sizes below 1 show 6).
const MAX_DECIMALS = 6;
const SIGNIFICANT = 12;
const fixed = Array.from({ length: MAX_DECIMALS + 1 }, (_, d) => new Intl.NumberFormat("en-US", { minimumFractionDigits: d, maximumFractionDigits: d }));

function bytes(n) {
  if (n < 1024) return `${n} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`;
}

/** Writes `text` into `el` only when it differs: an unchanged write still costs a style and
 * layout pass, and the render loop runs at the display's frame rate. */
function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

/** The decimals finite `value` needs at SIGNIFICANT digits (0 when it is whole or huge). */
function decimalsOf(value) {
  if (Number.isInteger(value)) return 0;
  const text = Math.abs(value).toPrecision(SIGNIFICANT);
  // Below 1e-6 (exponent form here) a value shows in exponent form in the cell too, and asks
  // nothing of its column.
  if (text.includes("e")) return 0;
  const point = text.indexOf(".");
  return point < 0 ? 0 : text.replace(/0+$/, "").length - point - 1;
}

/** The decimals a double column shows: as many as its most precise value in `values` needs. */
function columnDecimals(values) {
  let d = 0;
  let largest = 0;
  for (const v of values) {
    if (typeof v !== "number" || !Number.isFinite(v)) continue;
    d = Math.max(d, decimalsOf(v));
    largest = Math.max(largest, Math.abs(v));
  }
  const wholeDigits = largest < 1 ? 1 : Math.floor(Math.log10(largest)) + 1;
  return Math.max(0, Math.min(d, MAX_DECIMALS, SIGNIFICANT - wholeDigits));
}

/** Nanoseconds since the epoch as UTC, to the millisecond, or finer where the value is. */
function timestamp(nanos) {
  let ms = nanos / 1000000n;
  let below = nanos % 1000000n;
  if (below < 0n) {
    below += 1000000n;
    ms -= 1n;
  }
  const text = new Date(Number(ms)).toISOString().replace("T", " ").replace("Z", "");
  const finer = below === 0n ? "" : below.toString().padStart(6, "0").replace(/0+$/, "");
  return `${text}${finer} UTC`;
}

// An array cell (a groupBy column, typed `double[]`, ...) shows its first elements, numbers
// unformatted (a thousands separator would read as a second element): `[1.5, 2, …]`.
const ARRAY_SHOWN = 6;

/** A cell's text; `decimals` is its column's, for doubles. */
function cell(value, type, decimals = 0) {
  if (value === null || value === undefined) return "";
  if (Array.isArray(value)) {
    const element = type.slice(0, -2);
    const shown = value.slice(0, ARRAY_SHOWN).map((v) => (v === null ? "null" : element === "timestamp" ? cell(v, element) : String(v)));
    return `[${shown.join(", ")}${value.length > ARRAY_SHOWN ? ", …" : ""}]`;
  }
  if (typeof value === "bigint") {
    if (type === "timestamp") return timestamp(value);
    return integer.format(value);
  }
  if (typeof value === "number") {
    if (type === "int" || type === "long") return integer.format(value);
    // -0 reads 0; a nonzero value that rounds to zero digits reads in exponent form (a
    // difference of 1e-9 never reads 0).
    const text = fixed[decimals].format(value === 0 ? 0 : value);
    return value !== 0 && Number.isFinite(value) && !/[1-9]/.test(text) ? value.toExponential(3) : text;
  }
  return String(value);
}

// --- panels -------------------------------------------------------------------------------

// Open panels: name → {wrapper, table (regular-table), data (last frame), want {first, count}}.
const panels = new Map();
// Where each table's panel lives when open (its cell, or the console's area).
const homes = new Map();
const ROWS_ASKED = 60;

function openPanel(name, host) {
  if (panels.has(name)) return;
  homes.set(name, host);
  const wrapper = document.createElement("div");
  wrapper.className = "table-panel";
  wrapper.dataset.panel = name;
  wrapper.dataset.testid = `panel-${name}`;
  wrapper.innerHTML = `<div class="panel-head"><span class="panel-name"></span>
    <span class="panel-stats" data-testid="stats-${name}"></span>
    <button class="panel-close" type="button" title="Close the panel (the table stays live)" aria-label="Close ${name}" data-testid="close-${name}">×</button></div>`;
  wrapper.querySelector(".panel-name").textContent = name;
  wrapper.querySelector(".panel-close").addEventListener("click", () => closePanel(name));
  const table = document.createElement("regular-table");
  wrapper.appendChild(table);
  host.appendChild(wrapper);
  const panel = { name, wrapper, table, data: null, want: { first: 0, count: ROWS_ASKED } };
  table.setDataListener((x0, y0, x1, y1) => listener(panel, x0, y0, x1, y1));
  table.addStyleListener(() => style(panel));
  panels.set(name, panel);
  menuKey = null;
}

/** Hides a table's panel; the table stays live, and the Panels menu reopens it. */
function closePanel(name) {
  const panel = panels.get(name);
  if (!panel) return;
  panel.wrapper.remove();
  panels.delete(name);
  menuKey = null;
}

async function listener(panel, x0, y0, x1, y1) {
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
    const type = v.types[x0 + c];
    const values = v.rows.slice(from, to).map((row) => row[x0 + c]);
    const decimals = type === "double" ? columnDecimals(values) : 0;
    return values.map((value) => cell(value, type, decimals));
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

const COLORS = { IVORY: "#fffff0" };

function style(panel) {
  const data = panel.data;
  if (!data?.viewport) return;
  const v = data.viewport;
  for (const td of panel.table.querySelectorAll("tbody td")) {
    const meta = panel.table.getMeta(td);
    if (!meta || meta.x === undefined || meta.y === undefined) continue;
    const color = v.formats[meta.y - v.first]?.[meta.x] ?? null;
    td.style.backgroundColor = color ? COLORS[color] ?? color.toLowerCase() : "";
    td.dataset.format = color ?? "";
    td.dataset.column = v.columns[meta.x];
    // Numbers right, text left.
    td.classList.toggle("text", v.types[meta.x] === "string");
  }
}

// --- the render loop ----------------------------------------------------------------------

let lastStatus = null;
let lastFrame = null;
// (time, records received) of the frames of the last second, for the records/s in the status line.
const rateSamples = [];

// The main thread's frame rate while the notebook ingests (from running it to caught up).
const frames = { count: 0, last: 0, longest: 0 };

function countFrame() {
  if (timings.runStarted === null || timings.caughtUp !== null) return;
  const now = performance.now();
  if (frames.count > 0) frames.longest = Math.max(frames.longest, now - frames.last);
  frames.count++;
  frames.last = now;
}

async function tick() {
  requestAnimationFrame(tick);
  countFrame();
  if (frameOutstanding) return;
  frameOutstanding = true;
  try {
    const views = [...panels.values()].map((p) => ({ panel: p.name, ...p.want, need: !p.data }));
    const frame = await call({ type: "frame", views });
    lastFrame = frame;
    // A table dropped from the console loses its panel.
    for (const name of [...panels.keys()]) {
      if (!(name in frame.tables)) closePanel(name);
    }
    for (const p of frame.panels) {
      const panel = panels.get(p.panel);
      if (!panel || p.unchanged) continue;
      panel.data = p;
      panel.wrapper.dataset.rows = p.viewport?.totalRows ?? 0;
      panel.wrapper.dataset.bytes = p.stats?.bytesUsed ?? 0;
      const stats = panel.wrapper.querySelector(".panel-stats");
      setText(stats, p.error ? p.error : `${integer.format(p.stats?.rows ?? 0)} rows · ${bytes(p.stats?.bytesUsed ?? 0)}`);
      panel.table.draw();
    }
    renderStatus(frame);
    renderMenu(frame);
    sample(frame);
    checkEqual();
  } finally {
    frameOutstanding = false;
  }
}

// The status line's numbers are redrawn at most this often (ms): legible, and the page's
// main thread leaves the CPU to the worker while the records pour in.
const STATUS_MS = 100;
let statusAt = 0;

function renderStatus(frame) {
  const s = frame.status;
  lastStatus = s;
  const status = $("status");
  if (s?.closed) {
    status.textContent = "Disconnected";
    status.dataset.status = "closed";
    status.title = s.closed;
  } else if (s?.open) {
    setText(status, "Connected");
    if (status.dataset.status !== "connected") status.dataset.status = "connected";
  }
  const records = s?.records ?? 0;
  const now = performance.now();
  // Records/s over the last second, sliding: it falls to 0 within a second of the last record.
  rateSamples.push([now, records]);
  while (rateSamples.length > 2 && now - rateSamples[1][0] >= 1000) rateSamples.shift();
  const [since, before] = rateSamples[0];
  const rate = now > since ? ((records - before) * 1000) / (now - since) : 0;
  if (now - statusAt >= STATUS_MS) {
    statusAt = now;
    setText($("records"), integer.format(records));
    setText($("rate"), integer.format(Math.round(rate)));
    setText($("memory"), bytes(frame.memory));
  }
  const consumers = s?.consumers ?? [];
  const caught = consumers.length > 0 && consumers.every((c) => c.caughtUp || c.ended);
  const caughtUp = $("caught-up");
  setText(caughtUp, caught ? "caught up" : "catching up");
  if (caughtUp.dataset.caughtUp !== String(caught)) caughtUp.dataset.caughtUp = String(caught);
  // A recording replayed as live says when it runs out; so does the page. Why the bridge
  // closed the connection (a stalled or idle socket, its connection limit) is said the same way.
  const exhausted = consumers.find((c) => c.exhausted)?.exhausted ?? null;
  const notice = s?.closed ?? exhausted;
  const note = $("source-note");
  if (note.textContent !== (notice ?? "")) {
    note.textContent = notice ?? "";
    note.hidden = !notice;
  }
  const errors = consumers.flatMap((c) => c.errors.map((e) => `${c.topic}: ${e}`));
  const list = $("errors");
  if (errors.length !== Number(list.dataset.count ?? 0)) {
    list.dataset.count = String(errors.length);
    list.replaceChildren(
      ...(errors.length ? errors.slice(-50) : ["None."]).map((t) => {
        const li = document.createElement("li");
        li.textContent = t;
        return li;
      }),
    );
  }
}

// --- the chart ----------------------------------------------------------------------------

const series = [[], [], [], [], [], [], []];
let chart = null;
let lastSample = 0;
const started = performance.now();

function sample(frame) {
  const now = performance.now();
  if (now - lastSample < 500) return;
  lastSample = now;
  const append = frame.tables.trades_append ?? null;
  const stream = frame.tables.trades_stream ?? null;
  series[0].push((now - started) / 1000);
  series[1].push(append?.rows ?? null);
  series[2].push(stream?.rows ?? null);
  series[3].push(append ? append.bytesUsed / 1048576 : null);
  series[4].push(stream ? stream.bytesUsed / 1048576 : null);
  series[5].push(frame.memory / 1048576);
  series[6].push(frame.session.bytesUsed / 1048576);
  if (series[0].length > 600) series.forEach((s) => s.shift());
  chart?.setData(series);
}

function makeChart() {
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
        { label: "append rows", scale: "rows", stroke: "#2563eb" },
        { label: "stream rows", scale: "rows", stroke: "#f59e0b" },
        { label: "append MB", scale: "mb", stroke: "#1d4ed8", dash: [4, 4] },
        { label: "stream MB", scale: "mb", stroke: "#d97706", dash: [4, 4] },
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

// --- cells --------------------------------------------------------------------------------

function renderCells() {
  const host = $("cells");
  for (const c of CELLS) {
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
    if (c.show.includes(name)) openPanel(name, out);
  }
}

// --- the Panels menu ----------------------------------------------------------------------

// What the menu last showed (names, open or not), so it is rebuilt only when that changes.
let menuKey = null;
let menuStatsAt = 0;

/** Lists every table of the session, open or closed; a closed one reopens on click. */
function renderMenu(frame) {
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
        li.innerHTML = `<button type="button" class="panel-toggle" data-testid="menu-${name}"></button>
          <span class="menu-stats"></span>
          <button type="button" class="panel-drop" title="Drop the table: its memory is freed once no other table needs it" data-testid="drop-${name}">drop</button>`;
        const toggle = li.querySelector(".panel-toggle");
        toggle.textContent = `${open ? "●" : "○"} ${name}`;
        toggle.dataset.open = String(open);
        toggle.addEventListener("click", () => {
          if (panels.has(name)) closePanel(name);
          else openPanel(name, homes.get(name)?.isConnected ? homes.get(name) : $("console-panels"));
        });
        li.querySelector(".panel-drop").addEventListener("click", () => worker.postMessage({ type: "drop", name }));
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
    if (s) setText(li.querySelector(".menu-stats"), `${integer.format(s.rows)} rows · ${bytes(s.bytesUsed)}`);
  }
}

// When the notebook started, and when both aggregations first agreed on everything delivered.
const timings = {
  runStarted: null,
  cells: {},
  caughtUp: null,
  ingestFps: null,
  longestFrameMs: null,
  cellsDone: null,
  aggregationsEqual: null,
};

function checkEqual() {
  if (timings.aggregationsEqual !== null || timings.cellsDone === null) return;
  if ($("caught-up").dataset.caughtUp !== "true") return;
  if (timings.caughtUp === null) {
    timings.caughtUp = performance.now() - timings.runStarted;
    timings.ingestFps = (frames.count * 1000) / timings.caughtUp;
    timings.longestFrameMs = frames.longest;
  }
  const v = panels.get("diff_table")?.data?.viewport;
  if (!v || v.totalRows === 0 || v.rows.length < v.totalRows) return;
  const at = ["Diff_Count", "Diff_Size"].map((c) => v.columns.indexOf(c));
  if (v.rows.every((r) => at.every((i) => r[i] === 0))) {
    timings.aggregationsEqual = performance.now();
    const seedMs = Math.round(timings.aggregationsEqual - timings.runStarted);
    $("notebook-state").textContent = `both aggregations equal after ${integer.format(seedMs)} ms; the notebook runs live`;
    // For tests/e2e/seed-bench.mjs, which reads Chromium's log instead of driving the page.
    console.info(`streamglass: both aggregations equal after ${seedMs} ms ${JSON.stringify({ ...timings, connection: lastStatus && { records: lastStatus.records, bytes: lastStatus.bytes, wireBytes: lastStatus.wireBytes } })}`);
  }
}

/** The size_offset field's value, as the notebook takes it. */
function sizeOffset() {
  return Math.max(1, Math.floor(Number($("size-offset").value) || 1000000));
}

// The size_offset the notebook ran with, once its cells are done.
let ranWith = null;

async function runNotebook() {
  timings.runStarted = performance.now();
  const state = $("notebook-state");
  const button = $("run-all");
  button.disabled = true;
  state.dataset.state = "running";
  state.textContent = "running…";
  try {
    const size = sizeOffset();
    await call({ type: "run", code: `return { size_offset: ${size} };` });
    try {
      for (const c of CELLS) {
        // From the consumers on, the cells run as one script: no cycle between them.
        if (c.together) worker.postMessage({ type: "hold" });
        await runCell(c);
        timings.cells[c.name] = performance.now() - timings.runStarted;
      }
    } finally {
      worker.postMessage({ type: "release" });
    }
    timings.cellsDone = performance.now();
    state.dataset.state = "done";
    state.textContent = "the notebook runs live";
    ranWith = size;
  } catch (e) {
    state.dataset.state = "failed";
    state.textContent = String(e.message ?? e);
    button.disabled = false;
  }
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
  /** The session's connection status, as the last frame brought it. */
  status: () => lastStatus,
  async read(names) {
    return (await call({ type: "read", names })).tables;
  },
  async stats(names) {
    const out = {};
    for (const name of names) out[name] = lastFrame?.tables?.[name] ?? null;
    return out;
  },
  /** The session's tables added up, as the last frame brought them. */
  sessionStats: () => lastFrame?.session ?? null,
};

// --- start --------------------------------------------------------------------------------

/**
 * Fills the Source selector with what the bridge offers (`GET /sources`: a recording, a Kafka
 * broker, or both) and returns the WebSocket URL of the chosen one (`?source=NAME`, else the
 * bridge's default). Picking another reloads the page against it: a session is one source.
 */
async function setupSource(params) {
  const select = $("source");
  let offered = [];
  try {
    const response = await fetch(new URL("sources", location.href));
    if (response.ok) offered = await response.json();
  } catch {
    // An older bridge without /sources: its one source.
  }
  if (offered.length === 0) offered = [{ name: "", description: `this bridge (${new URL(wsUrl).host})` }];
  const chosen = offered.find((o) => o.name === params.get("source")) ?? offered[0];
  for (const o of offered) {
    const option = document.createElement("option");
    option.value = o.name;
    // The bridge's description names the kind of source already ("recording …", "Kafka …").
    option.textContent = o.description;
    option.title = o.description;
    option.selected = o === chosen;
    select.appendChild(option);
  }
  select.title = chosen.description;
  select.addEventListener("change", () => {
    const next = new URLSearchParams(location.search);
    next.set("source", select.value);
    location.search = next.toString();
  });
  const url = new URL(wsUrl);
  if (chosen.name) url.searchParams.set("source", chosen.name);
  return url.href;
}

/**
 * Whether records cross the socket snappy-compressed: `?compression=none|snappy` when given; by
 * default, only from a bridge on another machine. Over loopback compression halves bytes that
 * cost nothing to move, and inflating them costs the worker about as much as decoding them.
 */
function compressionFor(socketUrl, params) {
  const asked = params.get("compression");
  if (asked) return asked;
  const host = new URL(socketUrl).hostname;
  const loopback = ["localhost", "[::1]", "0.0.0.0"].includes(host) || host.startsWith("127.");
  return loopback ? "none" : "snappy";
}

async function start() {
  renderCells();
  makeChart();
  const params = new URLSearchParams(location.search);
  const source = await setupSource(params);
  if (params.has("size_offset")) $("size-offset").value = params.get("size_offset");
  if (params.has("interval")) $("interval").value = params.get("interval");
  worker.postMessage({ type: "init", url: source, interval: Number($("interval").value), compression: compressionFor(source, params) });
  await readyPromise;
  $("interval").addEventListener("change", (e) => worker.postMessage({ type: "interval", ms: Number(e.target.value) }));
  // Once the notebook ran, editing size_offset enables the button again, and running it again
  // starts a new session from the top (as a Deephaven notebook is re-run): the page reloads.
  $("size-offset").addEventListener("input", () => {
    if (ranWith !== null) $("run-all").disabled = sizeOffset() === ranWith;
  });
  $("run-all").addEventListener("click", () => {
    if (ranWith === null) return runNotebook();
    const next = new URLSearchParams(location.search);
    next.set("size_offset", String(sizeOffset()));
    next.delete("run");
    location.search = next.toString();
  });
  $("console-run").addEventListener("click", runConsole);
  requestAnimationFrame(tick);
  if (params.get("run") !== "0") runNotebook();
}

start();
