// The page's settings (the notebook it runs is notebook-list.js's): the source it connects to
// (`?source=`), the zone timestamps read in (`?zone=`), and whether records cross the socket
// compressed (`?compression=`). The URL holds each choice; changing the notebook or the source
// loads the page again (a session runs one notebook against one source), the zone redraws.

import { $ } from "./dom.js";
import { isZone } from "./format.js";
import { setTimeZone } from "./grid.js";
import { redrawPanels } from "./panels.js";

const wsUrl = new URL("ws", location.href).href.replace(/^http/, "ws");

/** Loads the page again with `changes` to its query (a value of null removes that key). */
export function reloadWith(changes) {
  const next = new URLSearchParams(location.search);
  for (const [key, value] of Object.entries(changes)) {
    if (value === null) next.delete(key);
    else next.set(key, value);
  }
  location.search = next.toString();
}

/**
 * Fills the zone selector (UTC, the browser's zone, then every zone it knows) and reads
 * timestamps in the chosen one: `?zone=` remembers it without loading the page again.
 */
export function setupZone(params) {
  const select = $("zone");
  const local = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const known = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  const asked = params.get("zone");
  const chosen = asked && isZone(asked) ? asked : "UTC";
  const zones = [...new Set(["UTC", local, chosen, ...known])].filter(Boolean);
  for (const zone of zones) {
    const option = document.createElement("option");
    option.value = zone;
    option.textContent = zone === local && zone !== "UTC" ? `${zone} (this browser)` : zone;
    option.selected = zone === chosen;
    select.appendChild(option);
  }
  setTimeZone(chosen);
  select.addEventListener("change", () => {
    setTimeZone(select.value);
    redrawPanels();
    const next = new URL(location.href);
    next.searchParams.set("zone", select.value);
    history.replaceState(null, "", next);
  });
}

/**
 * Fills the Source selector with what the bridge offers (`GET /sources`: a recording, a Kafka
 * broker, or both) and returns the WebSocket URL of the chosen one (`?source=NAME`, else the
 * bridge's default). Picking another reloads the page against it: a session is one source.
 */
export async function setupSource(params) {
  const select = $("source");
  let offered = [];
  try {
    const response = await fetch(new URL("sources", location.href));
    if (response.ok) offered = await response.json();
  } catch {
    // An older bridge without /sources: its one source.
  }
  if (offered.length === 0) offered = [{ name: "", description: `this bridge (${new URL(wsUrl).host})` }];
  const chosen = offered.find((o) => o.name === params.get("source")) ?? offered[0];
  for (const o of offered) {
    const option = document.createElement("option");
    option.value = o.name;
    // The bridge's description names the kind of source already ("recording …", "Kafka …").
    option.textContent = o.description;
    option.title = o.description;
    option.selected = o === chosen;
    select.appendChild(option);
  }
  select.title = chosen.description;
  select.addEventListener("change", () => reloadWith({ source: select.value }));
  const url = new URL(wsUrl);
  if (chosen.name) url.searchParams.set("source", chosen.name);
  return url.href;
}

/**
 * Whether records cross the socket snappy-compressed: `?compression=none|snappy` when given; by
 * default, only from a bridge on another machine. Over loopback compression halves bytes that
 * cost nothing to move, and inflating them costs the worker about as much as decoding them.
 */
export function compressionFor(socketUrl, params) {
  const asked = params.get("compression");
  if (asked) return asked;
  const host = new URL(socketUrl).hostname;
  const loopback = ["localhost", "[::1]", "0.0.0.0"].includes(host) || host.startsWith("127.");
  return loopback ? "none" : "snappy";
}
