// Streamglass page: connects to the bridge through the wasm FeedClient and renders its snapshot.
//
// Served next to the wasm-bindgen `--target web` output in ./pkg/. Connects to
// ws(s)://<this host>/ws (`?source=NAME` picks one of the bridge's sources), or to the URL given
// as `?ws=...` (handy when the page is served apart from the bridge), and subscribes from the beginning, or from `?seek=...` (kcat syntax: end, 123,
// -1000, each:-1000, s@<epoch ms>, {0: 5, 2: end}). The wasm client grants the bridge credit as it
// consumes records. Every animation frame it takes a snapshot and re-renders only if it changed.
//
// DOM contract used by the end-to-end tests (keep it stable):
//   [data-testid="status"]   data-status = snapshot status (connecting|streaming|caughtUp|failed|closed)
//   [data-testid="totals"]   data-records, data-bytes = plain integers
//   tr[data-partition="N"]   data-records = plain integer, data-last-offset = plain integer or ""
//   [data-testid="errors"]   one <li> per error

import init, { FeedClient } from "./pkg/streamglass_wasm.js";

const STATUS_LABELS = {
  connecting: "Connecting",
  streaming: "Streaming",
  caughtUp: "Caught up",
  failed: "Failed",
  closed: "Closed",
};

const integer = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat("en-US", { minimumFractionDigits: 1, maximumFractionDigits: 1 });

/** 1234567 → "1,234,567" */
function formatCount(n) {
  return integer.format(n);
}

/** Bytes in binary units: 512 → "512 B", 1536 → "1.5 KB", 5e9 → "4.7 GB". */
function formatBytes(n) {
  if (n < 1024) {
    return `${integer.format(n)} B`;
  }
  const units = ["KB", "MB", "GB", "TB"];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${decimal.format(value)} ${units[unit]}`;
}

const $ = (selector) => document.querySelector(selector);

const els = {
  topic: $("#topic"),
  source: $("#source"),
  status: $('[data-testid="status"]'),
  totals: $('[data-testid="totals"]'),
  totalRecords: $("#total-records"),
  totalBytes: $("#total-bytes"),
  totalMessages: $("#total-messages"),
  caughtUp: $("#caught-up"),
  errorsBox: $("#errors-box"),
  errors: $('[data-testid="errors"]'),
  rows: $("#partition-rows"),
  noPartitions: $("#no-partitions"),
  endpoint: $("#endpoint"),
};

/** Errors of the page itself (the module failed to load, the snapshot threw), shown first. */
const pageErrors = [];
/** The feed's errors as last rendered. */
let feedErrors = [];

/** Sets an element's text only when it differs, so unchanged cells cause no DOM work. */
function setText(el, text) {
  if (el.textContent !== text) {
    el.textContent = text;
  }
}

function setAttr(el, name, value) {
  if (el.getAttribute(name) !== value) {
    el.setAttribute(name, value);
  }
}

function renderStatus(status) {
  setAttr(els.status, "data-status", status);
  setText(els.status, STATUS_LABELS[status] ?? status);
}

function renderErrors(errors) {
  feedErrors = errors;
  const all = [...pageErrors, ...errors];
  els.errorsBox.hidden = all.length === 0;
  const items = els.errors.children;
  while (items.length > all.length) {
    items[items.length - 1].remove();
  }
  all.forEach((message, i) => {
    if (i < items.length) {
      setText(items[i], message);
    } else {
      const li = document.createElement("li");
      li.textContent = message;
      els.errors.append(li);
    }
  });
}

/** Table rows by partition number; each row keeps its cells for in-place updates. */
const rows = new Map();

function makeRow(partition) {
  const tr = document.createElement("tr");
  tr.dataset.partition = String(partition);
  const cell = (className) => {
    const td = document.createElement("td");
    if (className) {
      td.className = className;
    }
    tr.append(td);
    return td;
  };
  const row = {
    tr,
    partition: cell(""),
    records: cell("num"),
    bytes: cell("num"),
    lastOffset: cell("num"),
    highWatermark: cell("num"),
    caughtUp: cell(""),
  };
  const badge = document.createElement("span");
  row.caughtUp.append(badge);
  row.badge = badge;
  row.partition.textContent = String(partition);
  return row;
}

function renderPartitions(partitions) {
  const seen = new Set();
  let added = false;
  for (const p of partitions) {
    seen.add(p.partition);
    let row = rows.get(p.partition);
    if (!row) {
      row = makeRow(p.partition);
      rows.set(p.partition, row);
      added = true;
    }
    const lastOffset = p.lastOffset === null || p.lastOffset === undefined ? "" : String(p.lastOffset);
    setAttr(row.tr, "data-records", String(p.records));
    setAttr(row.tr, "data-last-offset", lastOffset);
    setText(row.records, formatCount(p.records));
    setText(row.bytes, formatBytes(p.bytes));
    row.bytes.title = `${formatCount(p.bytes)} bytes`;
    setText(row.lastOffset, lastOffset === "" ? "—" : formatCount(p.lastOffset));
    setText(row.highWatermark, formatCount(p.highWatermark));
    setText(row.badge, p.caughtUp ? "Yes" : "Catching up");
    setAttr(row.badge, "class", p.caughtUp ? "badge yes" : "badge no");
  }
  let removed = false;
  for (const [partition, row] of rows) {
    if (!seen.has(partition)) {
      row.tr.remove();
      rows.delete(partition);
      removed = true;
    }
  }
  if (added || removed) {
    // Snapshots list partitions in order; re-append rows so new ones land in their place.
    els.rows.replaceChildren(...partitions.map((p) => rows.get(p.partition).tr));
  }
  els.noPartitions.hidden = partitions.length > 0;
}

function render(snapshot) {
  renderStatus(snapshot.status);
  const waiting = snapshot.status === "connecting" ? "Waiting for the bridge…" : "No topic received";
  setText(els.topic, snapshot.topic ?? waiting);
  setText(els.source, snapshot.source ?? "\u00a0");
  document.title = snapshot.topic ? `${snapshot.topic} · Streamglass` : "Streamglass";

  setAttr(els.totals, "data-records", String(snapshot.totalRecords));
  setAttr(els.totals, "data-bytes", String(snapshot.totalBytes));
  setText(els.totalRecords, formatCount(snapshot.totalRecords));
  setText(els.totalBytes, formatBytes(snapshot.totalBytes));
  els.totalBytes.title = `${formatCount(snapshot.totalBytes)} bytes`;
  setText(els.totalMessages, formatCount(snapshot.messages));
  const caughtUp = snapshot.partitions.filter((p) => p.caughtUp).length;
  setText(els.caughtUp, `${formatCount(caughtUp)} / ${formatCount(snapshot.partitions.length)}`);

  renderPartitions(snapshot.partitions);
  renderErrors(snapshot.errors);
}

/** What makes two snapshots differ: every frame bumps `messages`; closing changes status/errors. */
function changeKey(snapshot) {
  const errors = snapshot.errors;
  return `${snapshot.status}|${snapshot.messages}|${errors.length}|${errors[errors.length - 1] ?? ""}`;
}

/** Shows a failure of the page itself: status failed, the message in the errors box. */
function pageFailure(message, error) {
  console.error(message, error);
  pageErrors.push(`${message}: ${error?.message ?? error}`);
  setText(els.topic, message);
  renderStatus("failed");
  renderErrors(feedErrors);
}

function endpointUrl() {
  const override = new URLSearchParams(location.search).get("ws");
  if (override) {
    return override;
  }
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const url = new URL(`${scheme}://${location.host}/ws`);
  const source = new URLSearchParams(location.search).get("source");
  if (source) url.searchParams.set("source", source);
  return url.href;
}

async function main() {
  const url = endpointUrl();
  els.endpoint.textContent = `Bridge: ${url}`;
  try {
    await init();
  } catch (error) {
    pageFailure("Could not load the WebAssembly module", error);
    return;
  }
  const seek = new URLSearchParams(location.search).get("seek");
  let client;
  try {
    client = seek ? FeedClient.connectWithSeek(url, seek) : FeedClient.connect(url);
  } catch (error) {
    // The seek is checked before connecting: a bad one is not a connection failure.
    pageFailure(seek && /^seek: /.test(String(error?.message ?? error)) ? "The page's ?seek= is invalid" : `Could not connect to ${url}`, error);
    return;
  }
  // Kept reachable for debugging from the console (and so it is never garbage-collected).
  window.streamglass = { client };

  let lastKey = "";
  const frame = () => {
    let snapshot;
    try {
      snapshot = client.snapshot();
    } catch (error) {
      pageFailure("Could not read the feed", error);
      return;
    }
    const key = changeKey(snapshot);
    if (key !== lastKey) {
      lastKey = key;
      render(snapshot);
    }
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
}

main();
