#!/usr/bin/env node
// The notebook page's Source selector, in headless Chromium.
//
//   node tests/e2e/sources.mjs <url> <sourceName> <screenshotPath>
//
// Opens <url>?run=0&source=<sourceName> (the notebook does not run), waits until the session is
// connected, and prints one line of JSON: {options: [{value, text}], selected, url (the
// WebSocket the session opened)}. Exit 1 on a page error or a timeout.

import { setTimeout as sleep } from "node:timers/promises";
import { launch, openPage, screenshot, scriptArgs } from "./browser.mjs";

const { url, arg: source, screenshotPath } = scriptArgs("sources.mjs <url> <sourceName> <screenshotPath>");
const browser = await launch();
try {
  const { page, failure } = await openPage(browser, { width: 1280, height: 800 });
  await page.goto(`${url}?run=0&source=${encodeURIComponent(source)}`);
  const deadline = Date.now() + 60000;
  let shown = null;
  while (!shown) {
    if (failure()) throw new Error(failure());
    if (Date.now() > deadline) throw new Error("timed out waiting for the connection");
    shown = await page.evaluate(() => {
      const status = window.streamglass?.status?.();
      if (!status?.open) return null;
      const select = document.querySelector('[data-testid="source"]');
      return {
        options: [...select.options].map((o) => ({ value: o.value, text: o.textContent })),
        selected: select.value,
        url: status.url,
      };
    });
    if (!shown) await sleep(100);
  }
  await screenshot(page, screenshotPath, false);
  console.log(JSON.stringify(shown));
} catch (e) {
  console.error(`sources: ${e.message}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
