#!/usr/bin/env node
// The floor under the page's ingest: a plain JavaScript WebSocket in a Chromium worker subscribes
// to the newest N records as the page does (a credit window, granted back every 512 KiB) and does
// nothing with them; prints how long they took to arrive.
//
//   node tests/e2e/socket-floor.mjs <pageUrl> <newestN> <windowBytes> <partitions>
//
// e.g. `node tests/e2e/socket-floor.mjs http://127.0.0.1:8081/ 1000000 8388608 3`; it stops when
// every partition has sent CaughtUp. The two client
// messages are written here by hand in the protocol's postcard encoding (docs/PROTOCOL.md):
// Subscribe {id 0, no topic, seek NewestTotal(N), no resume, credit} and Credit {id 0, bytes}.

import { launch } from "./browser.mjs";

const [url, newest, window, partitions] = process.argv.slice(2);
if (!url || ![newest, window, partitions].every((a) => /^\d+$/.test(a ?? ""))) {
  console.error("usage: node tests/e2e/socket-floor.mjs <pageUrl> <newestN> <windowBytes> <partitions>");
  process.exit(2);
}
const browser = await launch();
try {
  const page = await browser.newPage();
  await page.goto(`${url}feed.html?seek=end`);
  const result = await page.evaluate(
    async ([url, newest, window, partitions]) => {
      const code = `
        const varint = (n) => { const out = []; while (n >= 128) { out.push((n % 128) | 128); n = Math.floor(n / 128); } out.push(n); return out; };
        const subscribe = new Uint8Array([2, 0, 0, 0, 1, ...varint(${newest}), 0, ...varint(${window})]);
        const ws = new WebSocket(${JSON.stringify(url)});
        ws.binaryType = "arraybuffer";
        let caughtUp = 0, bytes = 0, frames = 0, owed = 0, started = 0;
        ws.onopen = () => { started = performance.now(); ws.send(subscribe); };
        ws.onmessage = (e) => {
          const frame = new Uint8Array(e.data);
          frames++;
          bytes += frame.length;
          if (frame[1] === 1) {
            owed += frame.length;
            if (owed >= 512 * 1024) { ws.send(new Uint8Array([2, 1, 0, ...varint(owed)])); owed = 0; }
          } else if (frame[1] === 2) {
            // CaughtUp: once every partition has said so, the newest N are in.
            if (++caughtUp === ${partitions}) { postMessage({ ms: performance.now() - started, bytes, frames }); ws.close(); }
          }
        };`;
      const worker = new Worker(URL.createObjectURL(new Blob([code], { type: "text/javascript" })));
      return await new Promise((resolve) => (worker.onmessage = ({ data }) => resolve(data)));
    },
    [new URL("ws", url).href.replace(/^http/, "ws"), Number(newest), Number(window), Number(partitions)],
  );
  console.log(JSON.stringify(result));
} finally {
  await browser.close();
}
