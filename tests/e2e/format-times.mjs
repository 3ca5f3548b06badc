#!/usr/bin/env node
// Golden tests of the grid's time formatting (www/format.js), in Node (whose Intl, like the
// browser's, carries ICU's zone database): timestamps in UTC and in two zones across both of
// their 2026 daylight-saving changes, each column's precision (0, 3, 6 or 9 digits of the
// second), dates (leap days, before 1970, beyond year 9999), times of day, the 64-bit extremes,
// and nulls. The wall-clock times and day counts were computed with Python's zoneinfo and
// datetime; the zones' short names are ICU's (en-US: EST/EDT, GMT+1/GMT+2).
//
//   node tests/e2e/format-times.mjs
//
// Prints "N passed, 0 failed"; exit 1 on the first mismatch.

import assert from "node:assert/strict";
import { columnFormat, date, isZone, timeDigits, timeOfDay, timestamp } from "../../www/format.js";

const S = 1000000000n;
let passed = 0;
const eq = (got, want, what) => {
  assert.equal(got, want, what);
  passed++;
};

// UTC: the fraction at the column's precision; before the epoch the fraction still counts up.
const t = 1767623400n * S + 123456000n; // 2026-01-05T14:30:00.123456Z
eq(timestamp(t, 0), "2026-01-05 14:30:00 UTC", "whole seconds");
eq(timestamp(t, 3), "2026-01-05 14:30:00.123 UTC", "milliseconds");
eq(timestamp(t, 6), "2026-01-05 14:30:00.123456 UTC", "microseconds");
eq(timestamp(t, 9), "2026-01-05 14:30:00.123456000 UTC", "nanoseconds");
eq(timestamp(-1n, 9), "1969-12-31 23:59:59.999999999 UTC", "one nanosecond before the epoch");
eq(timestamp(-S - 1000000n, 3), "1969-12-31 23:59:58.999 UTC", "a millisecond and a second before");
eq(timestamp(-9223372036854775807n, 9), "1677-09-21 00:12:43.145224193 UTC", "the earliest timestamp");
eq(timestamp(9223372036854775807n, 9), "2262-04-11 23:47:16.854775807 UTC", "the latest timestamp");

// America/New_York: 2026-03-08 02:00 EST → 03:00 EDT, 2026-11-01 02:00 EDT → 01:00 EST.
const ny = "America/New_York";
eq(timestamp(1772953199n * S, 0, ny), "2026-03-08 01:59:59 EST", "New York, the last second of EST");
eq(timestamp(1772953200n * S, 0, ny), "2026-03-08 03:00:00 EDT", "New York, the first of EDT");
eq(timestamp(1793512799n * S + 999000000n, 3, ny), "2026-11-01 01:59:59.999 EDT", "New York, the last of EDT");
eq(timestamp(1793512800n * S, 3, ny), "2026-11-01 01:00:00.000 EST", "New York, 01:00 again, in EST");
eq(timestamp(t, 6, ny), "2026-01-05 09:30:00.123456 EST", "New York in January");

// Europe/Berlin: 2026-03-29 02:00 CET → 03:00 CEST, 2026-10-25 03:00 CEST → 02:00 CET.
const berlin = "Europe/Berlin";
eq(timestamp(1774745999n * S, 0, berlin), "2026-03-29 01:59:59 GMT+1", "Berlin, the last second of CET");
eq(timestamp(1774746000n * S, 0, berlin), "2026-03-29 03:00:00 GMT+2", "Berlin, the first of CEST");
eq(timestamp(1792889999n * S, 0, berlin), "2026-10-25 02:59:59 GMT+2", "Berlin, the last of CEST");
eq(timestamp(1792890000n * S, 0, berlin), "2026-10-25 02:00:00 GMT+1", "Berlin, 02:00 again, in CET");

// A half-hour offset, and a fraction below the second that the zone leaves alone.
eq(timestamp(1767623400n * S + 1n, 9, "Asia/Kolkata"), "2026-01-05 20:00:00.000000001 GMT+5:30", "Kolkata");
eq(timestamp(-1n, 9, "UTC"), timestamp(-1n, 9), "UTC by name");
eq(isZone(ny), true, "a zone");
eq(isZone("Mars/Olympus_Mons"), false, "not a zone");

// A column's precision: the fewest digits that show every visible value exactly.
eq(timeDigits([1767623400n * S, 1767623460n * S]), 0, "whole minutes");
eq(timeDigits([1767623400n * S, 1767623400n * S + 2000000n, null]), 3, "a Kafka timestamp (ms)");
eq(timeDigits([1767623400n * S + 891000n, 1767623400n * S + 2000000n]), 6, "a trade time (µs)");
eq(timeDigits([7n, 1767623400n * S]), 9, "nanoseconds");
eq(timeDigits([-1000000n]), 3, "before the epoch");
eq(timeDigits([]), 0, "no values");

// Dates: days since 1970-01-01, no zone.
eq(date(19782), "2024-02-29", "a leap day");
eq(date(19783), "2024-03-01", "the day after it");
eq(date(19417), "2023-03-01", "no leap day in 2023");
eq(date(11016), "2000-02-29", "2000 is a leap year");
eq(date(-25508), "1900-03-01", "1900 is not");
eq(date(-1), "1969-12-31", "the day before the epoch");
eq(date(2932897), "+010000-01-01", "beyond year 9999, six digits and a sign, as Date.toISOString writes them");

// Times of day: nanoseconds since midnight, no zone.
eq(timeOfDay(0n, 0), "00:00:00", "midnight");
eq(timeOfDay(86399999999999n, 9), "23:59:59.999999999", "the last nanosecond of a day");
eq(timeOfDay(51000123000000n, 6), "14:10:00.123000", "a time at microseconds");

// Whole columns: one precision for every cell, nulls empty, timestamps in the zone given.
const minutes = [1767623400n * S, null, 1767623460n * S];
eq(minutes.map(columnFormat("timestamp", minutes)).join("|"), "2026-01-05 14:30:00 UTC||2026-01-05 14:31:00 UTC", "a minute column");
const kafka = [1767623400n * S + 2000000n, 1767623401n * S];
eq(kafka.map(columnFormat("timestamp", kafka, ny)).join("|"), "2026-01-05 09:30:00.002 EST|2026-01-05 09:30:01.000 EST", "a Kafka column in New York");
const times = [1000000000n, 1000000n];
eq(times.map(columnFormat("time", times)).join("|"), "00:00:01.000|00:00:00.001", "a time column");
eq([19782, null].map(columnFormat("date", [19782, null])).join("|"), "2024-02-29|", "a date column");
eq([0.5, 1, -0].map(columnFormat("double", [0.5, 1, -0])).join("|"), "0.5|1.0|0.0", "a double column, as before");
eq([2n ** 60n, 1234].map(columnFormat("long", [2n ** 60n, 1234])).join("|"), "1,152,921,504,606,846,976|1,234", "a long column");

console.log(`${passed} passed, 0 failed`);
