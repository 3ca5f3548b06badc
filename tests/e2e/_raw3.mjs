import { launch } from "./browser.mjs";
const browser = await launch();
const page = await browser.newPage();
await page.goto(process.argv[2] + "feed.html?seek=end");
const [win, step] = [Number(process.argv[3]), Number(process.argv[4])];
const r = await page.evaluate(async ([url, win, step]) => {
  const code = `
  const varint = (n) => { const out = []; while (n >= 128) { out.push((n % 128) | 128); n = Math.floor(n / 128); } out.push(n); return out; };
  const sub = new Uint8Array([2,0,0,0,1,192,132,61,0, ...varint(${win})]);
  const ws = new WebSocket(${JSON.stringify(url)});
  ws.binaryType = "arraybuffer";
  let bytes = 0, n = 0, t0 = 0, owed = 0;
  ws.onopen = () => { t0 = performance.now(); ws.send(sub); };
  ws.onmessage = (e) => {
    bytes += e.data.byteLength; n++;
    if (new Uint8Array(e.data)[1] === 1) { owed += e.data.byteLength; if (owed >= ${step}) { ws.send(new Uint8Array([2,1,0,...varint(owed)])); owed = 0; } }
    if (bytes > 70_000_000) { postMessage({ ms: performance.now() - t0, bytes, n }); ws.close(); }
  };`;
  const w = new Worker(URL.createObjectURL(new Blob([code], { type: "text/javascript" })));
  return await new Promise((resolve) => (w.onmessage = (e) => resolve(e.data)));
}, [process.argv[2].replace("http", "ws") + "ws", win, step]);
console.log(win, step, JSON.stringify(r));
await browser.close();
