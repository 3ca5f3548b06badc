// Export on the page's side: a panel's Download menu (CSV, JSON lines, Arrow), and saving the
// files the engine worker exports (`table.download(format)` in a cell or the console, or a pick
// from that menu) as a Blob download named `<table>.<extension>`.

/** The formats a panel offers, as the worker's `exportFile` names them. */
const FORMATS = [
  ["csv", "CSV"],
  ["jsonl", "JSON lines"],
  ["arrow", "Arrow"],
];

/** Saves a file the worker sent ({filename, mediaType, bytes}). */
export function saveFile({ filename, mediaType, bytes }) {
  const url = URL.createObjectURL(new Blob([bytes], { type: mediaType }));
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  // The download has read the Blob by the next task; the URL is not needed after it.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

/** A panel's Download menu for table `name`: `pick(format)` runs on a choice. */
export function downloadMenu(name, pick) {
  const menu = document.createElement("details");
  menu.className = "panel-download";
  menu.innerHTML = `<summary title="Download what this panel shows (with its sort and filters), as it is now">⤓</summary><div class="panel-download-list"></div>`;
  menu.querySelector("summary").dataset.testid = `download-${name}`;
  const list = menu.querySelector(".panel-download-list");
  for (const [format, label] of FORMATS) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = `Download ${label}`;
    button.dataset.testid = `download-${name}-${format}`;
    button.addEventListener("click", () => {
      menu.open = false;
      pick(format);
    });
    list.appendChild(button);
  }
  return menu;
}
