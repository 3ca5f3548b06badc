// Shared by the end-to-end scripts: Debian's Chromium, headless (as root it needs --no-sandbox),
// driven by playwright-core, which downloads no browser; and the arguments every script takes.

import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { chromium } from "playwright-core";

export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-quic",
  "--no-first-run",
  "--disable-sync",
];

/** A headless /usr/bin/chromium. */
export function launch() {
  return chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
}

/**
 * `<url> <arg> <screenshotPath>` from the command line, the middle one checked by `valid`; on bad
 * usage prints `usage` and exits 2.
 */
export function scriptArgs(usage, valid = (arg) => arg.length > 0) {
  const [url, arg, screenshotPath] = process.argv.slice(2);
  if (!url || arg === undefined || !valid(arg) || !screenshotPath) {
    console.error(`usage: node tests/e2e/${usage}`);
    process.exit(2);
  }
  return { url, arg, screenshotPath };
}

/**
 * The arguments of a script run as `node tests/e2e/<usage>` whose plan is JSON that `valid`
 * accepts (exit 2 otherwise), and its time limit (E2E_TIMEOUT_MS, default 120000):
 * `{url, plan, screenshotPath, timeoutMs, deadline}`.
 */
export function planArgs(usage, valid) {
  const { url, arg, screenshotPath } = scriptArgs(usage, (a) => {
    try {
      return valid(JSON.parse(a));
    } catch {
      return false;
    }
  });
  const timeoutMs = Number(process.env.E2E_TIMEOUT_MS ?? "120000");
  return { url, plan: JSON.parse(arg), screenshotPath, timeoutMs, deadline: Date.now() + timeoutMs };
}

/**
 * Opens `<url>?run=0` (no notebook runs) in a new page of `browser` and waits for the engine
 * worker (the status is there once frames can start): `{page, failure, until}` as `openPage`
 * and `waiter` give them.
 */
export async function openApp(browser, url, timeoutMs, deadline) {
  const { page, failure } = await openPage(browser);
  const until = waiter(failure, deadline);
  await page.goto(`${url}?run=0`, { timeout: timeoutMs });
  await until("the engine worker", () => page.evaluate(() => window.streamglass?.status() != null));
  return { page, failure, until };
}

/** Saves a screenshot of `page` at `path`, making its folder. */
export async function screenshot(page, path, fullPage = true) {
  await mkdir(dirname(path), { recursive: true });
  await page.screenshot({ path, fullPage });
}

/**
 * A page of `browser`: `failure()` is its first uncaught error, if any; its console errors go to
 * stderr.
 */
export async function openPage(browser, viewport = { width: 1440, height: 1000 }) {
  const page = await browser.newPage({ viewport });
  let failed = null;
  page.on("pageerror", (e) => (failed ??= `page error: ${e.message}`));
  page.on("console", (m) => m.type() === "error" && console.error(`console: ${m.text()}`));
  return { page, failure: () => failed };
}

/**
 * `until(what, check)`: polls `check` every 100 ms until it gives a truthy value, which it returns;
 * throws the page's failure (from `openPage`) as soon as there is one, or a timeout past `deadline`.
 */
export function waiter(failure, deadline) {
  return async (what, check) => {
    while (true) {
      if (failure()) throw new Error(failure());
      const value = await check();
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
}

/** The notebook's row counts as `row_count_merge` shows them: `{append, stream}`, 0 when absent. */
export function rowCounts(page) {
  return page.evaluate(async () => {
    // A worker that never answers (a trapped engine) is a failure with the page's state, not a hang.
    const answer = window.streamglass.read(["row_count_merge"]);
    const late = new Promise((_, fail) =>
      setTimeout(() => fail(new Error(`the worker did not answer a read in 30 s; the status says: ${document.getElementById("status")?.innerText}`)), 30000),
    );
    const t = (await Promise.race([answer, late])).row_count_merge ?? null;
    const count = (type) => {
      if (!t) return 0;
      const [n, kind] = [t.columns.indexOf("RowCount"), t.columns.indexOf("Table_Type")];
      const row = t.rows.find((r) => r[kind] === type);
      return row ? Number(row[n]) : 0;
    };
    return { append: count("append"), stream: count("stream") };
  });
}
