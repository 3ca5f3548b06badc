// Runs a wasm32 benchmark program in headless Chromium, in a Web Worker as the page's engine runs,
// so that it is compiled and tiered by the browser's own V8 (Node's is older):
//
//   node core/benches/run-chromium.mjs program.wasm [args...]
//
// A wasm32-wasip1 program gets the few WASI calls a benchmark makes (arguments, clocks, random
// bytes, writes to stdout and stderr, exit), through a minimal shim. A wasm32-unknown-unknown one
// (no WASI: it imports `bench`, see core/examples/host/mod.rs) gets the clock (`performance.now()`,
// as the WASI shim's), a line of output and its arguments, and its exported `main` is called.
// The program's output is printed here. Uses Debian's Chromium through playwright-core, as the
// end-to-end tests do.

import { readFile } from "node:fs/promises";
import { launch } from "../../tests/e2e/browser.mjs";

const [program, ...args] = process.argv.slice(2);
if (!program) {
  console.error("usage: node core/benches/run-chromium.mjs program.wasm [args...]");
  process.exit(2);
}

// The worker: a WASI preview1 shim over the calls a benchmark makes (the others refused), and the
// imports of a program without WASI.
const WORKER = `
onmessage = async ({ data: { wasm, args } }) => {
  const EBADF = 8, ENOSYS = 52;
  let memory;
  const view = () => new DataView(memory.buffer);
  const bytes = () => new Uint8Array(memory.buffer);
  const encoded = args.map((a) => new TextEncoder().encode(a + "\\0"));
  const decoder = new TextDecoder();
  class Exit { constructor(code) { this.code = code; } }
  const wasi = {
    args_sizes_get(count, size) {
      view().setUint32(count, encoded.length, true);
      view().setUint32(size, encoded.reduce((n, a) => n + a.length, 0), true);
      return 0;
    },
    args_get(argv, buf) {
      for (const a of encoded) {
        view().setUint32(argv, buf, true);
        bytes().set(a, buf);
        argv += 4;
        buf += a.length;
      }
      return 0;
    },
    environ_sizes_get(count, size) {
      view().setUint32(count, 0, true);
      view().setUint32(size, 0, true);
      return 0;
    },
    environ_get: () => 0,
    clock_time_get(id, _precision, out) {
      // Realtime (0) from the epoch; the others from the worker's start.
      const ms = id === 0 ? performance.timeOrigin + performance.now() : performance.now();
      view().setBigUint64(out, BigInt(Math.round(ms * 1e6)), true);
      return 0;
    },
    random_get(buf, len) {
      crypto.getRandomValues(bytes().subarray(buf, buf + len));
      return 0;
    },
    fd_write(fd, iovs, count, written) {
      if (fd !== 1 && fd !== 2) return EBADF;
      let text = "", n = 0;
      for (let i = 0; i < count; i++) {
        const ptr = view().getUint32(iovs + 8 * i, true);
        const len = view().getUint32(iovs + 8 * i + 4, true);
        text += decoder.decode(bytes().slice(ptr, ptr + len));
        n += len;
      }
      postMessage({ fd, text });
      view().setUint32(written, n, true);
      return 0;
    },
    proc_exit(code) { throw new Exit(code); },
  };
  // The imports of a program without WASI (core/examples/host/mod.rs); the rest of its arguments
  // (after the program's name), NUL-separated.
  const argBytes = new TextEncoder().encode(args.slice(1).join("\\0"));
  const bench = {
    now: () => performance.now(),
    print(ptr, len) {
      postMessage({ fd: 1, text: decoder.decode(bytes().slice(ptr >>> 0, (ptr >>> 0) + (len >>> 0))) + "\\n" });
    },
    args_len: () => argBytes.length,
    args_byte: (i) => argBytes[i >>> 0],
  };
  try {
    const module = await WebAssembly.compile(wasm);
    const withWasi = WebAssembly.Module.imports(module).some((i) => i.module === "wasi_snapshot_preview1");
    const imports = withWasi
      ? { wasi_snapshot_preview1: new Proxy(wasi, { get: (target, name) => target[name] ?? (() => ENOSYS) }) }
      : { bench };
    const instance = await WebAssembly.instantiate(module, imports);
    memory = instance.exports.memory;
    if (withWasi) {
      instance.exports._start();
      postMessage({ exit: 0 });
    } else {
      postMessage({ exit: instance.exports.main(0, 0) });
    }
  } catch (e) {
    postMessage(e instanceof Exit ? { exit: e.code } : { error: String(e && e.stack || e) });
  }
};
`;

const browser = await launch();
try {
  const page = await browser.newPage();
  // A cross-origin isolated page (served by the route itself), whose worker's performance.now()
  // is precise to 5 µs rather than 100 µs: a run over 1M rows may take 3 ms.
  const origin = "http://localhost/";
  await page.route(origin, (route) =>
    route.fulfill({
      contentType: "text/html",
      body: "<!doctype html><title>bench</title>",
      headers: {
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Embedder-Policy": "require-corp",
      },
    }),
  );
  await page.goto(origin);
  const wasm = (await readFile(program)).toString("base64");
  const result = await page.evaluate(
    async ({ source, wasm, args }) => {
      const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
      const worker = new Worker(url);
      const output = [];
      return await new Promise((resolve) => {
        worker.onmessage = ({ data }) => {
          if (data.text !== undefined) output.push(data);
          else resolve({ ...data, output });
        };
        worker.onerror = (e) => resolve({ error: e.message, output });
        const binary = Uint8Array.from(atob(wasm), (c) => c.charCodeAt(0));
        worker.postMessage({ wasm: binary, args });
      });
    },
    { source: WORKER, wasm, args: [program, ...args] },
  );
  for (const { fd, text } of result.output) (fd === 1 ? process.stdout : process.stderr).write(text);
  if (result.error) {
    console.error(result.error);
    process.exitCode = 1;
  } else {
    process.exitCode = result.exit;
  }
} finally {
  await browser.close();
}
