// The notebook list and what a user does with notebooks: pick one (the page loads again with it:
// a session runs one notebook), new, duplicate (in place: the cells and their tables stay, now
// editable), rename, delete, export as a `.json` file, import one, and copy a share link. A
// share link opened (`#notebook=...`) is imported as a new notebook, never over one. A notebook
// that came from a link or a file does not run until the user says so (its code is someone
// else's). Edits are saved to the browser, debounced.

import { $, setText } from "./dom.js";
import { saveFile } from "./export.js";
import { makeEditable } from "./notebook.js";
import {
  addNotebook,
  checked,
  deleteNotebook,
  exportText,
  listNotebooks,
  loadNotebook,
  newNotebook,
  portable,
  renameNotebook,
  saveNotebook,
  sharedNotebook,
  shareLink,
} from "./notebook-store.js";

/** Loads the page with notebook `id`, from the top; `run: false` leaves its cells unrun. */
function open(id, { run = true } = {}) {
  const url = new URL(location.href);
  url.hash = "";
  for (const key of ["run", "size_offset"]) url.searchParams.delete(key);
  url.searchParams.set("notebook", id);
  if (!run) url.searchParams.set("run", "0");
  location.href = url.href;
}

/**
 * The notebook the page runs: the one a share link carries (imported as a new notebook), else
 * `?notebook=`, else the seed's. A damaged link is said in the notebook's state.
 */
export async function chooseNotebook(params) {
  const shared = await sharedNotebook(location.hash);
  if (shared instanceof Error) {
    // Said, over the seed's notebook, which waits to be run.
    setText($("notebook-state"), shared.message);
    params.set("run", "0");
  } else if (shared) {
    const id = addNotebook(shared);
    const url = new URL(location.href);
    url.hash = "";
    url.searchParams.set("notebook", id);
    url.searchParams.set("run", "0");
    history.replaceState(null, "", url);
    params.set("run", "0");
    setText($("notebook-state"), "Opened from a share link: read its cells, then Run all.");
    return loadNotebook(id);
  }
  return loadNotebook(params.get("notebook") ?? "seed") ?? loadNotebook("seed");
}

let saveTimer = null;
/** Saves the notebook a moment after the last edit. */
export function autosave(notebook) {
  clearTimeout(saveTimer);
  saveTimer = setTimeout(() => saveNotebook(notebook), 300);
}

function fillSelector(notebook) {
  const select = $("notebook");
  select.replaceChildren(
    ...listNotebooks().map((n) => {
      const option = document.createElement("option");
      option.value = n.id;
      option.textContent = n.builtIn ? `${n.title} (built-in)` : n.title;
      option.selected = n.id === notebook.id;
      return option;
    }),
  );
}

function showKind(notebook) {
  document.body.dataset.notebookKind = notebook.builtIn ? "built-in" : "user";
  $("notebook-title").value = notebook.title;
  document.title = `Streamglass — ${notebook.title}`;
  setText($("heading"), notebook.builtIn ? notebook.heading : notebook.title);
  const expects = $("notebook-expects");
  expects.textContent = `Expects ${notebook.expects.source}; topic ${notebook.expects.topic}.`;
  expects.title = expects.textContent;
}

/** Fills the Notebook selector and wires the notebook's actions. */
export function setupNotebook(notebook) {
  fillSelector(notebook);
  showKind(notebook);
  $("notebook").addEventListener("change", () => open($("notebook").value));
  $("notebook-new").addEventListener("click", () => open(newNotebook(notebook)));
  $("notebook-duplicate").addEventListener("click", () => {
    const id = addNotebook({ ...portable(notebook), title: `${notebook.title} (copy)` });
    // The same object, so the cells on the page (and their editors) stay: now editable.
    Object.assign(notebook, loadNotebook(id), { cells: notebook.cells });
    makeEditable();
    const url = new URL(location.href);
    url.searchParams.set("notebook", id);
    history.replaceState(null, "", url);
    fillSelector(notebook);
    showKind(notebook);
  });
  $("notebook-title").addEventListener("change", () => {
    if (notebook.builtIn) return;
    notebook.title = $("notebook-title").value.trim() || notebook.title;
    renameNotebook(notebook.id, notebook.title);
    fillSelector(notebook);
    showKind(notebook);
  });
  $("notebook-delete").addEventListener("click", () => {
    if (notebook.builtIn || !confirm(`Delete the notebook “${notebook.title}”?`)) return;
    deleteNotebook(notebook.id);
    open("seed");
  });
  $("notebook-export").addEventListener("click", () => {
    const bytes = new TextEncoder().encode(exportText(notebook));
    saveFile({ filename: `${notebook.title.replace(/[^\w.-]+/g, "_")}.json`, mediaType: "application/json", bytes });
  });
  const file = $("notebook-file");
  $("notebook-import").addEventListener("click", () => file.click());
  file.addEventListener("change", async () => {
    const picked = file.files[0];
    if (!picked) return;
    let shape;
    try {
      shape = checked(JSON.parse(await picked.text()));
    } catch (e) {
      shape = e;
    }
    if (shape instanceof Error) setText($("notebook-state"), `${picked.name}: ${shape.message}`);
    else open(addNotebook(shape), { run: false });
  });
  $("notebook-share").addEventListener("click", async () => {
    const link = await shareLink(notebook);
    const out = $("notebook-link");
    out.hidden = false;
    out.value = link;
    out.select();
    navigator.clipboard?.writeText(link).catch(() => {});
  });
}
