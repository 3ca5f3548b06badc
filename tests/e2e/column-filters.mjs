#!/usr/bin/env node
// Golden tests of the grid's filter boxes and header clicks (www/column-filters.js), in Node:
// the `where` formula each text becomes, by the column's type (Deephaven's formula language and
// match filters: `icase in`, `inRange`, instant literals with a zone), the texts refused with
// their messages, and the sort keys a sequence of clicks and shift-clicks makes.
//
//   node tests/e2e/column-filters.mjs
//
// Prints "N passed, 0 failed"; exit 1 on the first mismatch.

import assert from "node:assert/strict";
import { filterFormula, nextSort } from "../../www/column-filters.js";

let passed = 0;
const eq = (got, want, what) => {
  assert.deepEqual(got, want, what);
  passed++;
};
const f = (column, type, text, zone = "UTC") => filterFormula(column, type, text, zone);
const refused = (column, type, text, message) => {
  assert.throws(() => f(column, type, text), (e) => e.message.includes(message), `${type} ${JSON.stringify(text)}`);
  passed++;
};

// A column whose name is not an identifier is refused, not pasted into a formula.
refused("price-usd", "double", "> 1", "not a name a formula can read");
refused("@timestamp", "string", "x", "not a name a formula can read");
eq(f("price_usd$2", "double", "3"), "price_usd$2 == 3", "an identifier with _ and $");

// Empty text: no filter.
eq(f("X", "string", ""), null, "empty");
eq(f("X", "double", "   "), null, "blank");

// Strings: contains, ignoring case; = and != match the whole value, ignoring case.
eq(f("Instrument", "string", "BTC"), "Instrument.toLowerCase().contains(`btc`)", "contains");
eq(f("Instrument", "string", " eth/ "), "Instrument.toLowerCase().contains(`eth/`)", "trimmed");
eq(f("Exchange", "string", "=Binance"), "Exchange icase in `Binance`", "equals");
eq(f("Exchange", "string", "== kraken"), "Exchange icase in `kraken`", "equals ==");
eq(f("Exchange", "string", "!=kraken"), "Exchange icase not in `kraken`", "not equal");
eq(f("Note", "string", "a`b"), 'Note.toLowerCase().contains("a`b")', "a backquote: double quotes");
refused("Note", "string", "a`b\"c", "both");

// Numbers: comparisons, a bare number, ranges (inclusive, Deephaven's inRange).
eq(f("Size", "double", "> 100"), "Size > 100", ">");
eq(f("Size", "double", ">=1.5"), "Size >= 1.5", ">=");
refused("Size", "double", "1...5", "low..high");
refused("Size", "double", "> 1e400", "out of a double's range");
eq(f("Size", "double", "< -0.25"), "Size < -0.25", "< negative");
eq(f("N", "long", "<= 5"), "N <= 5", "<=");
eq(f("N", "long", "= 3"), "N == 3", "=");
eq(f("N", "int", "!= 3"), "N != 3", "!=");
eq(f("N", "long", "3"), "N == 3", "bare");
eq(f("N", "long", "9007199254740993"), "N == 9007199254740993", "a long keeps its digits");
eq(f("Size", "double", "1e3"), "Size == 1000", "exponent");
eq(f("Size", "double", "1..2.5"), "inRange(Size, 1, 2.5)", "range");
eq(f("N", "long", "-5 .. -1"), "inRange(N, -5, -1)", "negative range");
refused("Size", "double", "lots", "not a number");
refused("Size", "double", "> ", "not a number");
refused("Size", "double", "1..2..3", "low..high");

// Timestamps: in the page's zone unless the text names its own.
eq(f("Ts", "timestamp", ">= 2026-01-05T17:00", "America/New_York"), "Ts >= '2026-01-05T17:00 America/New_York'", "zone added");
eq(f("Ts", "timestamp", "< 2026-01-05T17:00:00.5"), "Ts < '2026-01-05T17:00:00.5 UTC'", "UTC");
eq(f("Ts", "timestamp", ">=2026-01-05T17:00Z", "Europe/Berlin"), "Ts >= '2026-01-05T17:00Z'", "Z kept");
eq(f("Ts", "timestamp", ">2026-01-05T17:00-05:00", "Europe/Berlin"), "Ts > '2026-01-05T17:00-05:00'", "offset kept");
eq(f("Ts", "timestamp", ">= 2026-01-05 Asia/Tokyo", "Europe/Berlin"), "Ts >= '2026-01-05 Asia/Tokyo'", "zone kept");
eq(
  f("Ts", "timestamp", "2026-01-05T17:00..2026-01-05T17:30", "Europe/Berlin"),
  "inRange(Ts, '2026-01-05T17:00 Europe/Berlin', '2026-01-05T17:30 Europe/Berlin')",
  "time range",
);
refused("Ts", "timestamp", ">= 17:00", "not a date-time");
refused("Ts", "timestamp", ">= '2026-01-05'", "no quotes");

// Dates, times of day, booleans; other types have no filter box language.
eq(f("D", "date", ">= 2026-01-05"), "D >= '2026-01-05'", "date");
eq(f("T", "time", "09:30..16:00"), "inRange(T, '09:30', '16:00')", "time of day");
eq(f("B", "bool", "TRUE"), "B == true", "bool");
refused("B", "bool", "yes", "true or false");
refused("P", "double[]", "1", "no filter");

// Header clicks: ascending → descending → off; shift-click adds or cycles one key.
let sort = [];
const click = (column, shift = false) => (sort = nextSort(sort, column, shift));
eq(click("A"), [{ column: "A", descending: false }], "first click");
eq(click("A"), [{ column: "A", descending: true }], "second click");
eq(click("A"), [], "third click");
click("A");
eq(click("B", true), [{ column: "A", descending: false }, { column: "B", descending: false }], "shift adds");
eq(click("A", true), [{ column: "A", descending: true }, { column: "B", descending: false }], "shift cycles in place");
eq(click("A", true), [{ column: "B", descending: false }], "shift removes");
click("A", true);
eq(click("C"), [{ column: "C", descending: false }], "a plain click replaces every key");

console.log(`${passed} passed, 0 failed`);
