// The notebooks a user keeps: saved in the browser (localStorage), exported as a `.json` file
// and carried by a share link (the notebook deflated into the URL's fragment). The built-in
// notebooks (notebooks.js) are never stored: they are read-only until duplicated. Invariant:
// what is stored, exported or shared is one shape, `{format, version, title, expects, sizeOffset,
// basedOn, cells: [{name, title, code, show?, together?}]}` (docs/ARCHITECTURE.md), checked by
// `checked` whenever it comes back in.

import { NOTEBOOKS } from "./notebooks.js";

const KEY = "streamglass.notebooks";
export const FORMAT = "streamglass-notebook";
export const VERSION = 1;
const SHARE = "notebook=";

function readAll() {
  try {
    const stored = JSON.parse(localStorage.getItem(KEY) ?? "{}");
    return stored && typeof stored === "object" ? stored : {};
  } catch {
    return {};
  }
}

function writeAll(all) {
  localStorage.setItem(KEY, JSON.stringify(all));
}

/** Whether `id` names a built-in notebook (read-only). */
export const isBuiltIn = (id) => NOTEBOOKS.some((n) => n.name === id);

/** Every notebook: the built-ins first, then the user's, oldest first: [{id, title, builtIn}]. */
export function listNotebooks() {
  const mine = Object.entries(readAll())
    .sort(([, a], [, b]) => (a.created ?? 0) - (b.created ?? 0))
    .map(([id, n]) => ({ id, title: n.title, builtIn: false }));
  return [...NOTEBOOKS.map((n) => ({ id: n.name, title: n.title, builtIn: true })), ...mine];
}

/**
 * The notebook `id` as the page runs it: a built-in one as notebooks.js holds it, or a stored
 * one, which takes its chart and claim from the built-in it was duplicated from. Null if none.
 */
export function loadNotebook(id) {
  const builtIn = NOTEBOOKS.find((n) => n.name === id);
  if (builtIn) return { ...builtIn, id, builtIn: true, cells: builtIn.cells.map((c) => ({ ...c })) };
  const stored = readAll()[id];
  if (!stored) return null;
  const base = NOTEBOOKS.find((n) => n.name === stored.basedOn);
  return {
    ...stored,
    id,
    builtIn: false,
    heading: stored.title,
    chart: base?.chart ?? [],
    claim: base?.claim,
    settled: base?.settled,
  };
}

/** The notebook's portable shape (what is stored, exported and shared). */
export function portable(notebook) {
  return {
    format: FORMAT,
    version: VERSION,
    title: notebook.title,
    expects: notebook.expects,
    sizeOffset: notebook.sizeOffset,
    basedOn: notebook.basedOn ?? (notebook.builtIn ? notebook.id : undefined),
    cells: notebook.cells.map(({ name, title, code, show, together }) => ({ name, title, code, show, together })),
  };
}

/** Saves a user's notebook under its id (a built-in one is never saved). */
export function saveNotebook(notebook) {
  if (notebook.builtIn) return;
  const all = readAll();
  all[notebook.id] = { ...portable(notebook), created: all[notebook.id]?.created ?? Date.now() };
  writeAll(all);
}

/** Stores `shape` (portable) as a new notebook; returns its id. Never overwrites one. */
export function addNotebook(shape) {
  const all = readAll();
  let id;
  do id = `nb-${Math.random().toString(36).slice(2, 8)}`;
  while (id in all || isBuiltIn(id));
  const titles = new Set(listNotebooks().map((n) => n.title));
  let title = shape.title;
  for (let i = 2; titles.has(title); i++) title = `${shape.title} (${i})`;
  all[id] = { ...shape, title, created: Date.now() };
  writeAll(all);
  return id;
}

export function renameNotebook(id, title) {
  const all = readAll();
  if (!all[id]) return;
  all[id].title = title;
  writeAll(all);
}

export function deleteNotebook(id) {
  const all = readAll();
  delete all[id];
  writeAll(all);
}

/** A new, empty notebook expecting what `like` expects; returns its id. */
export function newNotebook(like) {
  return addNotebook({
    format: FORMAT,
    version: VERSION,
    title: "Untitled notebook",
    expects: like.expects,
    sizeOffset: like.sizeOffset,
    cells: [{ name: "cell_1", title: "", code: "return { };" }],
  });
}

/** `value` as a notebook's portable shape, or an Error saying what is wrong with it. */
export function checked(value) {
  if (!value || typeof value !== "object" || value.format !== FORMAT) return new Error(`not a ${FORMAT} file`);
  if (value.version !== VERSION) return new Error(`version ${value.version}: this page reads version ${VERSION}`);
  if (!Array.isArray(value.cells) || value.cells.some((c) => typeof c?.code !== "string" || typeof c?.name !== "string")) {
    return new Error("its cells must each have a name and code");
  }
  // A name is an identifier (it names the cell in the page and in tests), never markup.
  const bad = value.cells.find((c) => !/^[A-Za-z_][\w-]{0,63}$/.test(c.name));
  if (bad) return new Error(`a cell's name must be letters, digits, _ or - (at most 64): ${JSON.stringify(bad.name.slice(0, 80))}`);
  const names = new Set(value.cells.map((c) => c.name));
  if (names.size !== value.cells.length) return new Error("two cells have one name");
  return {
    format: FORMAT,
    version: VERSION,
    title: String(value.title ?? "Imported notebook"),
    expects: { source: String(value.expects?.source ?? "any source"), topic: String(value.expects?.topic ?? "any topic") },
    sizeOffset: Math.max(1, Math.floor(Number(value.sizeOffset) || 1000)),
    basedOn: isBuiltIn(value.basedOn) ? value.basedOn : undefined,
    cells: value.cells.map((c) => ({
      name: c.name,
      title: String(c.title ?? ""),
      code: c.code,
      show: Array.isArray(c.show) ? c.show.map(String) : undefined,
      together: c.together === true || undefined,
    })),
  };
}

/** The notebook as an exported file's text. */
export const exportText = (notebook) => JSON.stringify(portable(notebook), null, 2);

// base64url of bytes and back.
function toBase64url(bytes) {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function fromBase64url(text) {
  const s = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

// The most a share link may inflate to: a notebook is text, and a small link must not expand into
// gigabytes in the tab.
const MAX_SHARED = 4 << 20;

async function through(stream, bytes, limit = Infinity) {
  const reader = new Blob([bytes]).stream().pipeThrough(stream).getReader();
  const parts = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > limit) {
      await reader.cancel();
      throw new Error(`it inflates past ${limit >> 20} MiB`);
    }
    parts.push(value);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) out.set(p, (at += p.length) - p.length);
  return out;
}

/** A link to this page that carries the notebook, deflated, in its fragment. */
export async function shareLink(notebook) {
  const bytes = new TextEncoder().encode(JSON.stringify(portable(notebook)));
  const packed = await through(new CompressionStream("deflate-raw"), bytes);
  const url = new URL(location.href);
  url.search = "";
  url.hash = SHARE + toBase64url(packed);
  return url.href;
}

/** The notebook a share link's fragment carries (portable shape), an Error, or null if none. */
export async function sharedNotebook(hash) {
  const at = hash.indexOf(SHARE);
  if (at < 0) return null;
  try {
    const bytes = await through(new DecompressionStream("deflate-raw"), fromBase64url(hash.slice(at + SHARE.length)), MAX_SHARED);
    return checked(JSON.parse(new TextDecoder().decode(bytes)));
  } catch (e) {
    return new Error(`the share link is damaged (${e.message ?? e})`);
  }
}
