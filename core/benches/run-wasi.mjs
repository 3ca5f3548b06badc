// Runs a wasm32 benchmark program under Node: node core/benches/run-wasi.mjs program.wasm [args...]
//
// A wasm32-wasip1 program runs under Node's built-in WASI. A wasm32-unknown-unknown one (no WASI:
// it imports `bench`, see core/examples/host/mod.rs) gets its four imports here, the clock
// (`performance.now()`), a line of output and its arguments, and its exported `main` is called.
import { readFile } from "node:fs/promises";

const [program, ...args] = process.argv.slice(2);
if (!program) {
  console.error("usage: node core/benches/run-wasi.mjs program.wasm [args...]");
  process.exit(2);
}
const module = await WebAssembly.compile(await readFile(program));
if (WebAssembly.Module.imports(module).some((i) => i.module === "wasi_snapshot_preview1")) {
  const { WASI } = await import("node:wasi");
  const wasi = new WASI({ version: "preview1", args: [program, ...args], env: {} });
  const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
  wasi.start(instance);
} else {
  let memory;
  const argBytes = new TextEncoder().encode(args.join("\0"));
  const decoder = new TextDecoder();
  const bench = {
    now: () => performance.now(),
    // Pointers and lengths are u32; JavaScript sees them as signed.
    print: (ptr, len) => {
      const bytes = new Uint8Array(memory.buffer, ptr >>> 0, len >>> 0);
      process.stdout.write(decoder.decode(bytes) + "\n");
    },
    args_len: () => argBytes.length,
    args_byte: (i) => argBytes[i >>> 0],
  };
  const instance = await WebAssembly.instantiate(module, { bench });
  memory = instance.exports.memory;
  try {
    process.exitCode = instance.exports.main(0, 0);
  } catch (e) {
    // A panic has printed its message already; this is the trap that followed.
    console.error(String(e && e.stack || e));
    process.exitCode = 1;
  }
}
