#!/usr/bin/env node
// The seed scenario's time as a user's browser sees it: headless Chromium opens the notebook page
// and runs it, and the page's own log line ("streamglass: both aggregations equal after N ms",
// written once both aggregations agree on every record delivered) is read from Chromium's log.
//
//   node tests/e2e/seed-bench.mjs <url> <sizeOffset> [runs (default 5)] [extra query, e.g. &compression=none]
//
// No DevTools client is attached. playwright-core (the end-to-end tests' driver) enables the
// DevTools Network domain, which copies every WebSocket frame to the driver, base64-encoded: a
// million records cost Chromium's browser process about 0.7 s of CPU and the seed 0.3-0.8 s on
// this machine's 2 cores. The tests keep the driver; this benchmark does without it.
// Prints one JSON line per run ({run, seedMs, timings}) and a summary line.

import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CHROMIUM_ARGS } from "./browser.mjs";

const [url, sizeOffset, runsArg, extra = ""] = process.argv.slice(2);
if (!url || !/^\d+$/.test(sizeOffset ?? "")) {
  console.error("usage: node tests/e2e/seed-bench.mjs <url> <sizeOffset> [runs] [extra query]");
  process.exit(2);
}
const runs = Number(runsArg ?? "5");
const timeoutMs = Number(process.env.E2E_TIMEOUT_MS ?? "60000");
const LINE = /streamglass: both aggregations equal after (\d+) ms (\{.*\})/;

async function once(run) {
  const profile = await mkdtemp(join(tmpdir(), "seed-bench-"));
  const chromium = spawn(
    "/usr/bin/chromium",
    [...CHROMIUM_ARGS, "--headless=new", `--user-data-dir=${profile}`, "--window-size=1440,1000", "--enable-logging=stderr", "--v=0", `${url}?size_offset=${sizeOffset}${extra}`],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  try {
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no result after ${timeoutMs} ms`)), timeoutMs);
      let log = "";
      chromium.stderr.on("data", (chunk) => {
        log += chunk;
        const m = LINE.exec(log);
        if (m) {
          clearTimeout(timer);
          resolve({ run, seedMs: Number(m[1]), timings: JSON.parse(m[2]) });
        } else if (log.length > 1 << 20) {
          log = log.slice(-4096);
        }
      });
      chromium.on("exit", (code) => reject(new Error(`chromium exited (${code}) before the notebook finished`)));
    });
  } finally {
    const exited = new Promise((r) => (chromium.exitCode !== null ? r() : chromium.once("exit", r)));
    chromium.kill("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
    chromium.kill("SIGKILL");
    // Chromium's helper processes may still be writing to the profile for a moment.
    await rm(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 }).catch(() => {});
  }
}

const results = [];
for (let run = 1; run <= runs; run++) {
  const r = await once(run);
  results.push(r.seedMs);
  console.log(JSON.stringify(r));
}
results.sort((a, b) => a - b);
console.log(JSON.stringify({ runs, sizeOffset: Number(sizeOffset), seedMs: results, median: results[Math.floor(results.length / 2)] }));
