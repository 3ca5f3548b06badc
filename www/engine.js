// The page's side of the engine worker (engine-worker.js): requests that await their reply
// (`call`), messages that expect none (`post`), and `workerReady`, which settles once the worker
// has loaded the WASM module and connected. Replies are matched to requests by id; a fatal
// error of the worker is shown in the status line.

import { saveFile } from "./export.js";
import { showFatal } from "./status.js";

const worker = new Worker(new URL("./engine-worker.js", import.meta.url), { type: "module" });
const pending = new Map();
let nextId = 1;

/** Sends `message` with a fresh id; resolves with the worker's reply to it, or rejects with the
 * error the worker met handling it. */
export function call(message) {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    worker.postMessage({ ...message, id });
  });
}

/** Sends `message`, which has no reply. */
export function post(message) {
  worker.postMessage(message);
}

let ready;
export const workerReady = new Promise((r) => (ready = r));

worker.onmessage = (event) => {
  const m = event.data;
  if (m.type === "ready") ready();
  if (m.type === "fatal") showFatal(m.error);
  if (m.type === "save") saveFile(m);
  if (pending.has(m.id)) {
    const { resolve, reject } = pending.get(m.id);
    pending.delete(m.id);
    if (m.type === "fatal") reject(new Error(m.error));
    else resolve(m);
  }
};
worker.onerror = (e) => showFatal(e.message || "the engine worker failed");
