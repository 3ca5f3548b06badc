#!/usr/bin/env node
// Opens the Streamglass page in headless Chromium and checks the record count it shows.
//
//   node tests/e2e/page-counts.mjs <url> <expectedTotalRecords> <screenshotPath>
//
// Waits (up to E2E_TIMEOUT_MS, default 120000) until the page's totals show exactly
// <expectedTotalRecords> records and the status is `caughtUp`, waits 300 ms more and checks the
// count did not move (no over-counting), saves a full-page screenshot, and prints one line of
// JSON to stdout:
//
//   {"status":"caughtUp","totalRecords":n,"totalBytes":n,
//    "partitions":[{"partition":p,"records":n,"lastOffset":n|null}],"errors":[...]}
//
// Fails fast (exit 1) when the status becomes `failed` or `closed` (nothing more can arrive) or
// the count goes past the expected number; on timeout prints the last state to stderr and exits 1.
// Browser console errors and uncaught page errors are forwarded to stderr. Exit 2: bad usage.
//
// Uses the system Chromium (/usr/bin/chromium); playwright-core downloads no browser.

import { setTimeout as sleep } from "node:timers/promises";
import { launch, screenshot } from "./browser.mjs";

const POLL_MS = 100;
const SETTLE_MS = 300;

function usage(message) {
  console.error(`page-counts: ${message}`);
  console.error("usage: node tests/e2e/page-counts.mjs <url> <expectedTotalRecords> <screenshotPath>");
  process.exit(2);
}

function parseArgs(argv) {
  if (argv.length !== 3) {
    usage(`expected 3 arguments, got ${argv.length}`);
  }
  const [url, expectedText, screenshotPath] = argv;
  if (!/^\d+$/.test(expectedText) || !Number.isSafeInteger(Number(expectedText))) {
    usage(`expectedTotalRecords must be a non-negative integer, got ${JSON.stringify(expectedText)}`);
  }
  const timeoutText = process.env.E2E_TIMEOUT_MS ?? "120000";
  const timeoutMs = Number(timeoutText);
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) {
    usage(`E2E_TIMEOUT_MS must be a positive integer, got ${JSON.stringify(timeoutText)}`);
  }
  return { url, expected: Number(expectedText), screenshotPath, timeoutMs };
}

/** Reads the page's state from the DOM contract (runs in the page). */
function readDom() {
  const integer = (value) => (value === null || value === "" ? null : Number(value));
  const totals = document.querySelector('[data-testid="totals"]');
  return {
    status: document.querySelector('[data-testid="status"]')?.getAttribute("data-status") ?? null,
    totalRecords: integer(totals?.getAttribute("data-records") ?? null),
    totalBytes: integer(totals?.getAttribute("data-bytes") ?? null),
    partitions: Array.from(document.querySelectorAll("tr[data-partition]"), (tr) => ({
      partition: Number(tr.getAttribute("data-partition")),
      records: integer(tr.getAttribute("data-records")),
      lastOffset: integer(tr.getAttribute("data-last-offset")),
    })),
    errors: Array.from(document.querySelectorAll('[data-testid="errors"] li'), (li) => li.textContent),
  };
}

function fail(message, state) {
  console.error(`page-counts: ${message}`);
  if (state !== undefined) {
    console.error(`page-counts: last state: ${JSON.stringify(state)}`);
  }
  process.exitCode = 1;
}

async function run({ url, expected, screenshotPath, timeoutMs }) {
  const deadline = Date.now() + timeoutMs;
  const browser = await launch();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on("console", (message) => {
      if (message.type() === "error") {
        console.error(`[browser console] ${message.text()}`);
      }
    });
    page.on("pageerror", (error) => {
      console.error(`[browser page error] ${error.message}`);
    });

    await page.goto(url, { timeout: timeoutMs });

    let state;
    for (;;) {
      state = await page.evaluate(readDom);
      if (state.status === "failed" || state.status === "closed") {
        return fail(`the page reports status "${state.status}" with ${state.totalRecords} of ${expected} records`, state);
      }
      if (state.totalRecords !== null && state.totalRecords > expected) {
        return fail(`the page counts ${state.totalRecords} records, more than the expected ${expected}`, state);
      }
      if (state.totalRecords === expected && state.status === "caughtUp") {
        break;
      }
      if (Date.now() >= deadline) {
        return fail(
          `timed out after ${timeoutMs} ms waiting for ${expected} records and status "caughtUp"`,
          state,
        );
      }
      await sleep(POLL_MS);
    }

    // Anything counted twice or late would show up now.
    await sleep(SETTLE_MS);
    state = await page.evaluate(readDom);
    if (state.totalRecords !== expected) {
      return fail(`the count moved from ${expected} to ${state.totalRecords} after catching up`, state);
    }

    await screenshot(page, screenshotPath);
    process.stdout.write(`${JSON.stringify(state)}\n`);
  } finally {
    await browser.close();
  }
}

try {
  await run(parseArgs(process.argv.slice(2)));
} catch (error) {
  fail(error?.stack ?? String(error));
}
