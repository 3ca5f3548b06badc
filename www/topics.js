// The topic browser: the topics the chosen source serves (`GET /topics?source=NAME`: partitions,
// records, records/s, key and value formats), refreshed every few seconds while the browser is
// open. Opening a topic consumes its newest N records into a live ring table of N rows, with the
// key and value formats its facts name (no code to write), opens the table as a panel below the
// notebook, and shows the `consumeToTable` call that made it, to paste into the console.
// Invariant: the call shown is the code that ran, character for character.

import { $, setText } from "./dom.js";
import { call } from "./engine.js";
import { integer } from "./format.js";
import { openPanel, panels } from "./panels.js";

// How long after each answer the list is asked again while the browser is open (the bridge
// caches it 5 s). One request is in flight at a time, so a slow bridge is never asked twice.
const REFRESH_MS = 5000;
// The longest a request may take (the bridge gives up describing after 30 s).
const ANSWER_MS = 40000;

/** The `value:` option a topic's value facts call for. */
export function valueFormat(topic, facts) {
  switch (facts.format) {
    case "avro":
      return subjectOf(facts, `${topic}-value`);
    case "protobuf":
      return protobufOf(facts, `${topic}-value`);
    case "json":
      return "json";
    case "string":
      return "string";
    default:
      // Binary, a framed schema of a type not decoded yet, or no records to tell: the raw bytes.
      return "bytes";
  }
}

/**
 * The `key:` option a topic's key facts call for: keys with nothing to show are ignored. Avro keys
 * are decoded only with the `<topic>-key` subject: a framed key of any other schema (the newest
 * one is the value's) is shown as bytes.
 */
export function keyFormat(topic, facts) {
  switch (facts.format) {
    case "avro":
      return facts.subjects?.some((s) => s.subject === `${topic}-key`)
        ? { avro: `${topic}-key` }
        : "bytes";
    case "protobuf":
      return facts.subjects?.some((s) => s.subject === `${topic}-key`)
        ? { protobuf: `${topic}-key` }
        : "bytes";
    case "json":
      return "json";
    case "string":
      return "string";
    case "binary":
      return "bytes";
    default:
      return "ignore";
  }
}

/** `{avro: "<topic>-value"}` when that subject exists, else the topic's newest (`{avro: true}`). */
function subjectOf(facts, preferred) {
  return facts.subjects?.some((s) => s.subject === preferred) ? { avro: preferred } : { avro: true };
}

/** `{protobuf: "<topic>-value"}` when that subject exists, else the topic's newest (`"protobuf"`). */
function protobufOf(facts, preferred) {
  return facts.subjects?.some((s) => s.subject === preferred) ? { protobuf: preferred } : "protobuf";
}

/** A JavaScript literal of `value`, as one would type it: `{ avro: "t-value" }`, `"string"`. */
function literal(value) {
  if (value !== null && typeof value === "object") {
    const fields = Object.entries(value).map(([k, v]) => `${k}: ${literal(v)}`);
    return `{ ${fields.join(", ")} }`;
  }
  return JSON.stringify(value);
}

/** The table's name in the session: the topic's, as an identifier, not yet taken. */
function tableName(topic) {
  let base = topic.replace(/[^A-Za-z0-9_$]/g, "_");
  if (/^[0-9]/.test(base)) base = `_${base}`;
  let name = base;
  for (let i = 2; panels.has(name) || taken.has(name); i++) name = `${base}_${i}`;
  return name;
}
const taken = new Set();

/** The code that consumes the newest `newest` records of `facts`' topic into a ring table. */
export function consumeCode(facts, newest, name) {
  const options = [
    `topic: ${JSON.stringify(facts.topic)}`,
    `offsets: "-${newest}"`,
    `tableType: { ring: ${newest} }`,
    `key: ${literal(keyFormat(facts.topic, facts.key))}`,
    `value: ${literal(valueFormat(facts.topic, facts.value))}`,
  ];
  return `const ${name} = await session.consumeToTable({ ${options.join(", ")} });\nreturn { ${name} };`;
}

/** How a side's format reads in the list: `avro (registry: t-value)`, `string`, `binary (8 bytes…)`. */
function describeFormat(facts) {
  const subjects = facts.subjects?.map((s) => s.subject).join(", ");
  const from = subjects ? ` (${subjects})` : facts.schemaIds?.length ? ` (ids ${facts.schemaIds.join(", ")})` : "";
  return `${facts.format}${from}`;
}

function rate(perSecond) {
  if (perSecond === null || perSecond === undefined) return "…";
  return perSecond >= 10 ? integer.format(Math.round(perSecond)) : perSecond.toFixed(1);
}

/** How many records to open: the field's whole number, at least 1 (default 10,000). */
function newestAsked() {
  return Math.max(1, Math.floor(Number($("topics-newest").value) || 10000));
}

async function openTopic(facts) {
  const name = tableName(facts.topic);
  const code = consumeCode(facts, newestAsked(), name);
  setText($("topic-call"), code);
  const result = $("topics-result");
  result.dataset.state = "running";
  setText(result, `opening ${facts.topic}…`);
  const ran = await call({ type: "run", code });
  if (!ran.ok) {
    result.dataset.state = "failed";
    setText(result, ran.error);
    return;
  }
  taken.add(name);
  result.dataset.state = "done";
  setText(result, `opened ${name}`);
  for (const panel of ran.panels) openPanel(panel, $("console-panels"));
  panels.get(name)?.wrapper.scrollIntoView({ behavior: "smooth", block: "nearest" });
}

function render(answer) {
  const list = $("topics-list");
  const rows = answer.topics.map((t) => {
    const li = document.createElement("li");
    li.dataset.topic = t.topic;
    li.dataset.testid = `topic-${t.topic}`;
    li.innerHTML = `<button type="button" class="topic-open"></button>
      <span class="topic-facts"></span><span class="topic-formats muted"></span>`;
    const open = li.querySelector(".topic-open");
    open.textContent = t.topic;
    open.title = `Open the newest records of ${t.topic} as a live table`;
    open.dataset.testid = `open-topic-${t.topic}`;
    open.addEventListener("click", () => openTopic(t));
    const records = t.records === null ? "?" : integer.format(t.records);
    setText(
      li.querySelector(".topic-facts"),
      `${t.partitions.length} partition${t.partitions.length === 1 ? "" : "s"} · ${records} records · ${rate(t.recordsPerSecond)}/s`,
    );
    const formats = li.querySelector(".topic-formats");
    setText(formats, `value ${describeFormat(t.value)} · key ${describeFormat(t.key)}`);
    formats.title = [t.value.hint, t.key.hint, t.error].filter(Boolean).join("\n");
    li.dataset.value = t.value.format;
    li.dataset.key = t.key.format;
    li.dataset.records = t.records ?? "";
    return li;
  });
  list.replaceChildren(...rows);
  setText($("topics-count"), `${answer.topics.length}${answer.truncated ? "+" : ""}`);
}

/** Asks for the list and shows it, unless `current()` says a newer poll has begun meanwhile
 * (an older answer never overwrites a newer one). */
async function refresh(url, current) {
  const note = $("topics-note");
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(ANSWER_MS) });
    if (!response.ok) throw new Error((await response.text()).trim() || `HTTP ${response.status}`);
    const answer = await response.json();
    if (!current()) return;
    render(answer);
    setText(note, "");
  } catch (e) {
    if (!current()) return;
    const reason = e.name === "TimeoutError" ? `no answer in ${ANSWER_MS / 1000} s` : e.message;
    setText(note, `cannot list the topics: ${reason}`);
  }
}

/**
 * Sets up the topic browser for the source the page's socket URL names (`?source=`): the list
 * is asked for when the browser opens, and again a few seconds after each answer while it stays
 * open.
 */
export function setupTopics(socketUrl) {
  const source = new URL(socketUrl).searchParams.get("source");
  const url = new URL("topics", location.href);
  if (source) url.searchParams.set("source", source);
  const browser = $("topics-browser");
  let timer = null;
  // Bumped on every toggle, so a request still in flight when the browser closed (or closed and
  // opened again) schedules nothing.
  let opened = 0;
  const poll = async (mine) => {
    await refresh(url, () => mine === opened);
    if (mine === opened && browser.open) timer = setTimeout(() => poll(mine), REFRESH_MS);
  };
  browser.addEventListener("toggle", () => {
    opened += 1;
    clearTimeout(timer);
    timer = null;
    if (browser.open) poll(opened);
  });
}
