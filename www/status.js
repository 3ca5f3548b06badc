// The status line and the decode errors: the connection's state, records received and their
// rate, whether every consumer caught up, the WASM memory, why the connection closed or the
// replay ran out, and the consumers' decode errors. Redrawn from each frame; the numbers at most
// every STATUS_MS, so they stay legible and the main thread leaves the CPU to the worker.

import { $, setText } from "./dom.js";
import { bytes, integer } from "./format.js";

const STATUS_MS = 100;
let statusAt = 0;
// (time, records received) of the frames of the last second, for the records/s.
const rateSamples = [];
let lastStatus = null;

/** The session's connection status, as the last frame brought it. */
export const connectionStatus = () => lastStatus;

export function showFatal(text) {
  const status = $("status");
  status.textContent = text;
  status.dataset.status = "failed";
}

export function renderStatus(frame) {
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
  // A subscription refused before its hello (no topic named) has no topic yet: the error alone.
  const errors = consumers.flatMap((c) => c.errors.map((e) => (c.topic ? `${c.topic}: ${e}` : e)));
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
