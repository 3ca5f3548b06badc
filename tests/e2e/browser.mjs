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

/** Saves a screenshot of `page` at `path`, making its folder. */
export async function screenshot(page, path, fullPage = true) {
  await mkdir(dirname(path), { recursive: true });
  await page.screenshot({ path, fullPage });
}
