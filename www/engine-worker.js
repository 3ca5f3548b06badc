// The engine's Web Worker: it owns the WASM session, its WebSocket to the bridge and every
// table, runs an update cycle on a timer, and evaluates the notebook's cells and the console's
// code. The page's main thread only renders: it asks for a frame (the viewports of the panels
// it shows, plus stats) once per animation frame, and never waits on ingest.
//
// Messages from the page:
//   {type: "init", url, interval}          connect to the bridge; cycle every `interval` ms
//   {type: "run", id, code}                evaluate a cell: an async function body that sees the
//                                          session, Agg, SortColumn, UpdateBy, Plot, and every
//                                          name earlier cells returned; it returns an object of
//                                          names → values (tables and charts open as panels)
//                                          `replaces`: the names this cell made when it last ran;
//                                          once it ran, those it no longer makes are dropped, and
//                                          a table a name it makes again meant is closed
//   {type: "names", id}                    for completions: {tables: {name: columns}, values
//                                          (other names in scope), api: {Table, Agg, ...: methods}}
//   {type: "frame", id, views}             views: [{panel, first, count, need, width}] → viewports
//                                          (a chart's panel: what it draws at `width` pixels) and
//                                          stats (`unchanged` for a panel whose window and table
//                                          are as in the last frame, unless it `need`s them)
//   {type: "interval", ms}                 change the cycle period (10..1000 ms)
//   {type: "hold"} / {type: "release"}     no cycle runs between them (cells that must see the
//                                          same first cycle); release runs one at once
//   {type: "drop", name}                   close a table: its memory is freed once no other
//                                          table needs it
//   {type: "view", id, panel, filters, sort}
//                                          what a panel shows instead of its table: the table
//                                          where each of `filters` ({column: formula}), then
//                                          sorted by `sort` ([{column, descending}]); replies
//                                          {errors: {column: message}} (a filter the engine
//                                          refused is left out). The view replaced is closed.
//   {type: "rows", id, panel, first, count} the rows a panel shows, as a viewport (copy, a row's
//                                          cells)
//   {type: "download", name, format}       export what the named panel shows (its view: sort and
//                                          filters), as it is now (`table.download`)
//   {type: "chart", id, name, width}       a chart's points, as its panel's last frame drew them
//                                          (drawn at `width` if it has no panel): a test hook
//   {type: "read", id, names}              every row of the named tables, with their stats, the
//                                          cycle they are at, and the session's clock just before
//                                          that cycle ran and now (`session.now()`, BigInt ns;
//                                          null without one): what now() read in that cycle lies
//                                          between the two, as the clock never goes back
// Messages to the page:
//   {type: "ready"} | {type: "ran", id, ok, error, names, panels, charts} | {type: "frame", id, ...}
//   {type: "save", filename, mediaType, bytes}   a file for the page to save (`table.download`)

import init, { Agg, Session, SortColumn, Table, UpdateBy } from "./pkg/streamglass_wasm.js";
import { Plot, chartTables, drawChart, isChart } from "./plots.js";

let session = null;
let timer = null;
let cycleError = null;
const scope = Object.create(null);
// name → Table, for every table a cell or the console returned.
const panels = new Map();
// name → Chart (plots.js), for every chart a cell or the console returned; and the last points
// each chart's panel was sent, with the width and cycle they were drawn at.
const charts = new Map();
const drawn = new Map();
// name → the view its panel shows: {spec, base (the table it was made of), table (null when no
// filter or sort applies), errors}. A view is remade when its name comes to mean another table
// (a cell ran again), and closed with its table.
const views = new Map();
let lastCycleAt = 0;
let cycleMs = 0;

function isTable(value) {
  return value !== null && typeof value === "object" && typeof value.viewport === "function";
}

// While held, no update cycle runs: the notebook's cells from the consumers to diff_table run as
// one script, as a Deephaven script runs under the update graph's lock, so every table they make
// sees the same first cycle (an aggregation of a stream table made a cycle later would miss the
// rows of the cycles before it).
let held = false;

// The session's clock just before the last cycle ran (see "read").
let cycleClock = null;

function cycle() {
  if (held) return;
  const started = performance.now();
  try {
    if (typeof session.now === "function") cycleClock = session.now();
    session.runCycle();
    cycleError = null;
  } catch (e) {
    cycleError = String(e?.message ?? e);
  }
  lastCycleAt = Date.now();
  cycleMs = performance.now() - started;
}

function setInterval_(ms) {
  const period = Math.min(1000, Math.max(10, Number(ms) || 100));
  if (timer !== null) clearInterval(timer);
  timer = setInterval(cycle, period);
}

// Export, in cells and the console: `table.toCsv()`, `toJsonLines()` (strings), `toArrowIpc()`
// (a Uint8Array) and `download(format)`, all of the table as it is now. A worker cannot save a
// file, so `download` sends the bytes to the page (transferred, not copied), which saves them as
// `<name>.<extension>`; it returns that file name.
const MEDIA_TYPES = { csv: "text/csv", jsonl: "application/jsonl", arrow: "application/vnd.apache.arrow.file" };
Object.assign(Table.prototype, {
  toCsv() {
    return new TextDecoder().decode(this.exportFile("csv"));
  },
  toJsonLines() {
    return new TextDecoder().decode(this.exportFile("jsonl"));
  },
  toArrowIpc() {
    return this.exportFile("arrow");
  },
  download(format = "csv", name) {
    const extension = String(format);
    const bytes = this.exportFile(extension);
    const named = name ?? [...panels].find(([, t]) => t === this)?.[0] ?? Object.keys(scope).find((n) => scope[n] === this);
    const filename = `${named ?? "table"}.${extension}`;
    self.postMessage({ type: "save", filename, mediaType: MEDIA_TYPES[extension], bytes }, [bytes.buffer]);
    return filename;
  },
});

// The tables a run makes, so that those it does not return are closed once it ran: a chain's
// steps (`aggBy` before `sort`) are then kept alive only by the tables made of them, and go
// when those go (a cell run again, a dropped table), instead of living on in the session's
// registry, their sources ingesting, for as long as the page is open. Every method of Table and
// Session that makes a table records it while a run is on (runs never overlap: `runs` queues
// them); the panels' views, made between a run's awaits, are not recorded.
let made = null;
for (const proto of [Table.prototype, Session.prototype]) {
  for (const name of Object.getOwnPropertyNames(proto)) {
    const method = Object.getOwnPropertyDescriptor(proto, name).value;
    if (typeof method !== "function" || name === "constructor" || name === "close" || name === "free" || name.startsWith("__")) continue;
    proto[name] = function (...args) {
      const into = made;
      const result = method.apply(this, args);
      if (into && isTable(result)) into.push(result);
      else if (into && result instanceof Promise) result.then((t) => isTable(t) && madeLate(into, t), () => {});
      return result;
    };
  }
}

/** Closes the tables of `tables` that no name holds and `kept` does not have; a table a run's
 * promise gives after that (a `consumeToTable` it did not await) is closed as it comes. */
function closeUnnamed(tables, kept) {
  const named = new Set(Object.values(scope));
  for (const t of tables) if (!t.isClosed && !named.has(t) && !kept.has(t)) t.close();
  tables.settled = true;
}

/** Records table `t`, which a promise of a run gave: closed at once if that run has ended and no
 * name holds it (nothing can reach it any more). */
function madeLate(tables, t) {
  if (!tables.settled) tables.push(t);
  else if (!t.isClosed && !Object.values(scope).includes(t)) t.close();
}

// Runs one at a time, in the order they came.
let runs = Promise.resolve();

const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;
// Console results that are a bare table are named table_1, table_2, ...
let unnamed = 0;

// Closes `name`'s table and forgets the name (`drop`, and a cell's names that it no longer makes).
function drop(name) {
  if (charts.has(name)) {
    const chart = charts.get(name);
    delete scope[name];
    releaseChart(name, chart);
    return;
  }
  const table = panels.get(name) ?? scope[name];
  closeView(name);
  panels.delete(name);
  delete scope[name];
  if (isTable(table) && !Object.values(scope).includes(table)) table.close();
}

// Forgets chart `name`, and closes the tables it drew that no name and no other chart holds (a
// chart's own steps, `where` before `Plot.line`, live as long as the chart).
function releaseChart(name, chart) {
  charts.delete(name);
  drawn.delete(name);
  const named = new Set(Object.values(scope));
  const held = new Set([...charts.values()].flatMap(chartTables));
  for (const t of chartTables(chart)) if (!t.isClosed && !named.has(t) && !held.has(t)) t.close();
}

// Binds `name` to `value`; a table the name meant before is closed unless another name holds it
// (a cell that ran again: its old tables give their memory back once nothing needs them).
function bind(name, value) {
  const old = scope[name];
  scope[name] = value;
  if (isChart(old) && old !== value) releaseChart(name, old);
  if (isTable(old) && old !== value && !Object.values(scope).includes(old)) {
    const view = views.get(name);
    panels.delete(name);
    closeView(name);
    old.close();
    if (view && isTable(value)) {
      panels.set(name, value);
      makeView(name, view.spec);
    }
  }
}

function run(code, replaces = []) {
  const job = runs.then(async () => {
    made = [];
    const tables = made;
    try {
      const ran = await runNow(code, replaces);
      closeUnnamed(tables, new Set(ran.kept));
      return ran;
    } catch (e) {
      closeUnnamed(tables, new Set());
      throw e;
    } finally {
      made = null;
    }
  });
  runs = job.catch(() => {});
  return job;
}

async function runNow(code, replaces) {
  const names = Object.keys(scope);
  // The code runs in a function of its own inside the one that takes the names, so that it may
  // declare (`const trades = ...`) a name an earlier cell or console run returned.
  const body = `return (async () => {\n${code}\n})();`;
  const fn = new AsyncFunction("session", "Agg", "SortColumn", "UpdateBy", "Plot", ...names, body);
  const result = await fn(session, Agg, SortColumn, UpdateBy, Plot, ...names.map((n) => scope[n]));
  // What the run returned keeps its tables, and a chart the tables it draws.
  const returned = result !== null && typeof result === "object" ? (isTable(result) || isChart(result) ? [result] : Object.values(result)) : [];
  const kept = returned.flatMap((v) => (isChart(v) ? chartTables(v) : [v]));
  const made = [];
  const opened = [];
  const madeCharts = [];
  const openChart = (name, chart) => {
    // A name that meant a table now means the chart (`bind` closed the table unless another name
    // holds it).
    if (panels.has(name)) {
      closeView(name);
      panels.delete(name);
    }
    charts.set(name, chart);
    drawn.delete(name);
    opened.push(name);
    madeCharts.push(name);
  };
  if (result !== null && typeof result === "object" && !isTable(result) && !isChart(result)) {
    for (const [name, value] of Object.entries(result)) {
      bind(name, value);
      made.push(name);
      if (isTable(value)) {
        panels.set(name, value);
        opened.push(name);
      } else if (isChart(value)) {
        openChart(name, value);
      }
    }
  } else if (isTable(result) || isChart(result)) {
    // A fresh name, never one in scope (a closed panel's table may still be named).
    const prefix = isChart(result) ? "chart" : "table";
    let name;
    do name = `${prefix}_${++unnamed}`;
    while (name in scope);
    scope[name] = result;
    made.push(name);
    if (isChart(result)) openChart(name, result);
    else {
      panels.set(name, result);
      opened.push(name);
    }
  }
  for (const name of replaces) if (!made.includes(name)) drop(name);
  // A cell's tables show their first rows at once, without waiting for the timer.
  cycle();
  return { names: made, panels: opened, charts: madeCharts, value: describe(result), kept };
}

function describe(value) {
  if (value === undefined) return null;
  if (isTable(value) || isChart(value)) return null;
  if (value !== null && typeof value === "object") {
    const shown = {};
    for (const [k, v] of Object.entries(value)) {
      if (!isTable(v) && !isChart(v)) shown[k] = typeof v === "bigint" ? v.toString() : v;
    }
    return shown;
  }
  return typeof value === "bigint" ? value.toString() : value;
}

// Tables closed from the console (`t.close()`, the notebook's `t = None`) leave the names.
function sweep() {
  for (const [name, table] of panels) {
    if (table.isClosed) {
      closeView(name);
      panels.delete(name);
      delete scope[name];
    }
  }
}

function closeView(name) {
  const view = views.get(name);
  if (!view) return;
  views.delete(name);
  framedWindows.delete(name);
  if (view.table && !view.table.isClosed) view.table.close();
}

// The panel's table where each filter holds, then sorted. Each step is a table of its own; the
// steps before the last are closed at once (the last keeps what it needs of them alive), and
// the previous view's last step is closed, so its memory comes back.
function makeView(name, spec) {
  const recording = made;
  made = null;
  try {
    return makeViewNow(name, spec);
  } finally {
    made = recording;
  }
}

function makeViewNow(name, spec) {
  closeView(name);
  // The next frame sends the panel's rows afresh, with no cycle since.
  framedWindows.delete(name);
  const base = panels.get(name);
  const errors = {};
  if (!base) return errors;
  let table = base;
  const made = [];
  for (const [column, formula] of Object.entries(spec.filters ?? {})) {
    try {
      table = table.where([formula]);
      made.push(table);
    } catch (e) {
      errors[column] = String(e?.message ?? e);
    }
  }
  const sort = spec.sort ?? [];
  if (sort.length > 0) {
    try {
      table = table.sort(sort.map((k) => (k.descending ? SortColumn.desc(k.column) : SortColumn.asc(k.column))));
      made.push(table);
    } catch (e) {
      errors[""] = String(e?.message ?? e);
    }
  }
  for (const t of made) if (t !== table) t.close();
  views.set(name, { spec, base, table: table === base ? null : table, errors });
  return errors;
}

/** What panel `name` shows: its view, remade if the name now means another table; or the
 * table itself. */
function shown(name) {
  const base = panels.get(name);
  const view = views.get(name);
  if (!base || !view) return base;
  if (view.base !== base) makeView(name, view.spec);
  return views.get(name)?.table ?? base;
}

// Tables change only in a cycle (10 per second by default) while frames come at 60: a panel
// whose window is the same as in the last frame, with no cycle since, is sent as `unchanged`.
let framedCycle = -1;
const framedWindows = new Map();
let framedTables = {};
let framedSession = null;

function chartStats(chart) {
  let rows = 0;
  for (const t of chartTables(chart)) rows += t.isClosed ? 0 : t.size;
  return { rows, bytesUsed: 0, bytesReserved: 0, chart: true };
}

/** A chart's panel in a frame: what it draws at `width`, sent again only after a cycle (or when
 * the width changed, or the page `need`s it), and no sooner than CHART_SHARE times what the
 * last scan of every open chart cost, so that charts take at most a tenth of the worker's time
 * from ingest: charts of small tables tick every cycle, three charts of 1M-row tables about
 * once a second (Deephaven's own update cycle). */
const CHART_SHARE = 10;
function chartFrame(panel, width, fresh, need, scans) {
  const chart = charts.get(panel);
  const px = Math.max(16, Math.min(8192, Math.round(Number(width) || 600)));
  const last = drawn.get(panel);
  const now = performance.now();
  if (last && last.width === px && !need && (!fresh || now - last.at < CHART_SHARE * scans)) return { panel, unchanged: true };
  try {
    const data = drawChart(chart, px);
    const cost = performance.now() - now;
    drawn.set(panel, { width: px, cycle: session.cycles(), data, at: now, cost });
    return { panel, chart: data, stats: chartStats(chart), error: null };
  } catch (e) {
    drawn.delete(panel);
    return { panel, chart: null, stats: chartStats(chart), error: String(e?.message ?? e) };
  }
}

function frame(wanted) {
  sweep();
  const cycles = session.cycles();
  const fresh = cycles !== framedCycle;
  framedCycle = cycles;
  const out = [];
  // What one scan of every chart in view cost, last time each was drawn.
  let scans = 0;
  for (const { panel } of wanted) scans += drawn.get(panel)?.cost ?? 0;
  for (const { panel, first, count, need, width } of wanted) {
    if (charts.has(panel)) {
      out.push(chartFrame(panel, width, fresh, need, scans));
      continue;
    }
    const base = panels.get(panel);
    const table = shown(panel);
    if (!table) {
      out.push({ panel, missing: true });
      continue;
    }
    const window = `${first}:${count}`;
    if (!fresh && !need && framedWindows.get(panel) === window) {
      out.push({ panel, unchanged: true });
      continue;
    }
    framedWindows.set(panel, window);
    try {
      out.push({
        panel,
        // Array cells: the page shows six elements, and a seventh says there are more.
        viewport: table.viewport(first, count, 7),
        stats: base.stats(),
        error: table.error ?? base.error ?? null,
        blink: table.isBlink,
        // Whether the rows are a view of the table (the grid's filters and sort).
        viewed: table !== base,
      });
    } catch (e) {
      out.push({ panel, error: String(e?.message ?? e) });
    }
  }
  const names = [...panels.keys(), ...charts.keys()];
  const framedNames = Object.keys(framedTables);
  if (fresh || framedSession === null || framedNames.length !== names.length || names.some((n, i) => n !== framedNames[i])) {
    framedTables = {};
    for (const [name, table] of panels) framedTables[name] = table.stats();
    // A chart holds no rows of its own: the menu shows its tables' rows.
    for (const [name, chart] of charts) framedTables[name] = chartStats(chart);
    framedSession = session.stats();
  }
  const tables = framedTables;
  return {
    panels: out,
    names,
    tables,
    session: framedSession,
    memory: session.memory(),
    cycles: session.cycles(),
    status: session.status(),
    cycleError,
    lastCycleAt,
    cycleMs,
  };
}

self.onmessage = async (event) => {
  const message = event.data;
  try {
    switch (message.type) {
      case "init": {
        await init();
        session = Session.connect(message.url, { compression: message.compression ?? "snappy" });
        setInterval_(message.interval);
        self.postMessage({ type: "ready" });
        break;
      }
      case "run": {
        try {
          const { kept, ...result } = await run(message.code, message.replaces);
          self.postMessage({ type: "ran", id: message.id, ok: true, ...result });
        } catch (e) {
          // A syntax error says so: its message alone ("Unexpected token '}'") reads like the engine's.
          const error = e instanceof SyntaxError ? `SyntaxError: ${e.message}` : String(e?.message ?? e);
          self.postMessage({ type: "ran", id: message.id, ok: false, error });
        }
        break;
      }
      case "names": {
        const tables = {};
        const values = [];
        for (const [name, value] of Object.entries(scope)) {
          if (isTable(value) && !value.isClosed) tables[name] = value.columns.filter((c) => !c.endsWith("__FORMAT"));
          else values.push(name);
        }
        const methods = (o) => Object.getOwnPropertyNames(o).filter((n) => n !== "constructor" && !n.startsWith("__") && !/^(length|name|prototype|free)$/.test(n));
        const api = { Table: methods(Table.prototype), Agg: methods(Agg), UpdateBy: methods(UpdateBy), SortColumn: methods(SortColumn), Plot: Object.keys(Plot).filter((k) => typeof Plot[k] === "function"), session: session ? methods(Object.getPrototypeOf(session)) : [] };
        self.postMessage({ type: "names", id: message.id, tables, values, api });
        break;
      }
      case "frame":
        self.postMessage({ type: "frame", id: message.id, ...frame(message.views) });
        break;
      case "view": {
        const errors = makeView(message.panel, { filters: message.filters, sort: message.sort });
        self.postMessage({ type: "view", id: message.id, errors });
        break;
      }
      case "rows": {
        const table = shown(message.panel);
        const viewport = table ? table.viewport(message.first, Math.min(message.count, table.size), 7) : null;
        self.postMessage({ type: "rows", id: message.id, viewport });
        break;
      }
      case "chart": {
        // What the chart's panel was last sent (the test hook): plain arrays of its points.
        const chart = charts.get(message.name);
        if (!chart) throw new Error(`no chart ${message.name}`);
        const last = drawn.get(message.name) ?? { width: message.width, cycle: session.cycles(), data: drawChart(chart, message.width ?? 600) };
        const series = last.data.series.map((s) => ({ ...s, x: [...s.x], values: s.values.map((v) => [...v]), points: s.x.length }));
        self.postMessage({ type: "chart", id: message.id, width: last.width, cycle: last.cycle, costMs: last.cost ?? null, ...last.data, series });
        break;
      }
      case "read": {
        // Every row of the named tables (for tests and the console): {name: viewport + stats}.
        const out = {};
        for (const name of message.names) {
          const table = panels.get(name) ?? scope[name];
          if (!table || !isTable(table)) continue;
          out[name] = { ...table.viewport(0, table.size), stats: table.stats() };
        }
        // A read may come before "init" has made the session (a test reading from the start).
        const clock = { atCycle: cycleClock, atRead: typeof session?.now === "function" ? session.now() : null };
        self.postMessage({ type: "read", id: message.id, tables: out, cycles: session?.cycles() ?? 0, clock });
        break;
      }
      case "download": {
        // A panel's download holds what the panel shows: its view (sort and filters), if any.
        const table = shown(message.name) ?? scope[message.name];
        if (!isTable(table)) throw new Error(`no table ${message.name}`);
        const filename = table.download(message.format, message.name);
        self.postMessage({ type: "downloaded", id: message.id, filename });
        break;
      }
      case "interval":
        setInterval_(message.ms);
        break;
      case "hold":
        held = true;
        break;
      case "release":
        held = false;
        cycle();
        break;
      case "drop":
        if (panels.has(message.name) || charts.has(message.name)) drop(message.name);
        break;
      default:
        break;
    }
  } catch (e) {
    // With the request's id, so that whoever awaits a reply to it gets the error, not silence.
    self.postMessage({ type: "fatal", id: message.id, error: String(e?.message ?? e) });
  }
};
