// Cell formatting: a viewport's values as the text the grid shows, column by column. Pure (no
// DOM), so Node runs its golden tests (tests/e2e/format-times.mjs).
//
// A column shows one precision in every visible cell, so its digits line up: a double column as
// many decimals as its most precise visible value needs (bounded, below); a timestamp or time
// column 0, 3, 6 or 9 fractional digits of the second, the fewest that show every visible value
// exactly (a whole minute reads 17:05:00, a Kafka timestamp .123, a trade's time .123456).
// Timestamps (nanoseconds since the epoch) read in UTC or the zone chosen on the page, through
// Intl.DateTimeFormat, so daylight saving follows the browser's zone database; dates (days since
// the epoch) and times of day (nanoseconds since midnight) carry no zone and read as they are.

export const integer = new Intl.NumberFormat("en-US");
// A double column's decimals: as many as its most precise value needs, at most MAX_DECIMALS, and
// no more than keep its largest value within SIGNIFICANT digits (sums in the millions show 4
// decimals, sizes below 1 show 6).
const MAX_DECIMALS = 6;
const SIGNIFICANT = 12;
const fixed = Array.from({ length: MAX_DECIMALS + 1 }, (_, d) => new Intl.NumberFormat("en-US", { minimumFractionDigits: d, maximumFractionDigits: d }));

export function bytes(n) {
  if (n < 1024) return `${n} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`;
}

/** The decimals finite `value` needs at SIGNIFICANT digits (0 when it is whole or huge). */
function decimalsOf(value) {
  if (Number.isInteger(value)) return 0;
  const text = Math.abs(value).toPrecision(SIGNIFICANT);
  // Below 1e-6 (exponent form here) a value shows in exponent form in the cell too, and asks
  // nothing of its column.
  if (text.includes("e")) return 0;
  const point = text.indexOf(".");
  return point < 0 ? 0 : text.replace(/0+$/, "").length - point - 1;
}

/** The decimals a double column shows: as many as its most precise value in `values` needs. */
export function columnDecimals(values) {
  let d = 0;
  let largest = 0;
  for (const v of values) {
    if (typeof v !== "number" || !Number.isFinite(v)) continue;
    d = Math.max(d, decimalsOf(v));
    largest = Math.max(largest, Math.abs(v));
  }
  const wholeDigits = largest < 1 ? 1 : Math.floor(Math.log10(largest)) + 1;
  return Math.max(0, Math.min(d, MAX_DECIMALS, SIGNIFICANT - wholeDigits));
}

function double(value, decimals) {
  // -0 reads 0; a nonzero value that rounds to zero digits reads in exponent form (a difference
  // of 1e-9 never reads 0).
  const text = fixed[decimals].format(value === 0 ? 0 : value);
  return value !== 0 && Number.isFinite(value) && !/[1-9]/.test(text) ? value.toExponential(3) : text;
}

// --- times --------------------------------------------------------------------------------

const NANOS_PER_SECOND = 1000000000n;
const NANOS_PER_DAY = 86400n * NANOS_PER_SECOND;

/** Floor division and its non-negative remainder, for BigInts. */
function divMod(n, d) {
  let q = n / d;
  let r = n % d;
  if (r < 0n) {
    r += d;
    q -= 1n;
  }
  return [q, r];
}

const nanosOf = (value) => (typeof value === "bigint" ? value : BigInt(Math.trunc(Number(value))));

/** The fractional digits of the second (0, 3, 6 or 9) that show every value in `values` (BigInt
 * nanoseconds; nulls ignored) exactly. */
export function timeDigits(values) {
  let digits = 0;
  for (const v of values) {
    if (v === null || v === undefined) continue;
    const [, below] = divMod(nanosOf(v), NANOS_PER_SECOND);
    if (below === 0n) continue;
    digits = Math.max(digits, below % 1000000n === 0n ? 3 : below % 1000n === 0n ? 6 : 9);
    if (digits === 9) break;
  }
  return digits;
}

/** `.ddd…`: the first `digits` digits of `below` nanoseconds (0 ≤ below < 1e9), or nothing. */
function fraction(below, digits) {
  return digits === 0 ? "" : `.${below.toString().padStart(9, "0").slice(0, digits)}`;
}

const pad2 = (n) => String(n).padStart(2, "0");

/** The proleptic Gregorian (year, month, day) of `days` since 1970-01-01 (H. Hinnant's
 * civil_from_days): exact for every 32-bit day count, with no Date range to leave. */
function civil(days) {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return [era * 400 + yoe + (month <= 2 ? 1 : 0), month, day];
}

function yearText(year) {
  if (year >= 0 && year <= 9999) return String(year).padStart(4, "0");
  return (year < 0 ? "-" : "+") + String(Math.abs(year)).padStart(6, "0");
}

/** A date column's cell: days since the epoch as `YYYY-MM-DD` (ISO 8601, extended years beyond
 * 0000–9999). */
export function date(days) {
  const [y, m, d] = civil(Number(days));
  return `${yearText(y)}-${pad2(m)}-${pad2(d)}`;
}

/** A time-of-day column's cell: nanoseconds since midnight as `HH:MM:SS` and `digits` of the
 * second. */
export function timeOfDay(nanos, digits) {
  const n = nanosOf(nanos);
  const sign = n < 0n ? "-" : "";
  const [seconds, below] = divMod(n < 0n ? -n : n, NANOS_PER_SECOND);
  const s = Number(seconds);
  return `${sign}${pad2(Math.floor(s / 3600))}:${pad2(Math.floor(s / 60) % 60)}:${pad2(s % 60)}${fraction(below, digits)}`;
}

// One formatter per zone: building an Intl.DateTimeFormat costs far more than using one.
const zoned = new Map();

function zoneFormat(zone) {
  let f = zoned.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hourCycle: "h23",
      timeZoneName: "short",
    });
    zoned.set(zone, f);
  }
  return f;
}

/** Whether `zone` is a time zone this browser knows. */
export function isZone(zone) {
  try {
    zoneFormat(zone);
    return true;
  } catch {
    return false;
  }
}

/** A timestamp column's cell: nanoseconds since the epoch as `YYYY-MM-DD HH:MM:SS`, `digits` of
 * the second, and the zone's short name, in `zone` (an IANA name; "UTC" by default). */
export function timestamp(nanos, digits, zone = "UTC") {
  const [seconds, below] = divMod(nanosOf(nanos), NANOS_PER_SECOND);
  const frac = fraction(below, digits);
  if (zone === "UTC") {
    const [days, secondOfDay] = divMod(seconds, NANOS_PER_DAY / NANOS_PER_SECOND);
    const s = Number(secondOfDay);
    return `${date(Number(days))} ${pad2(Math.floor(s / 3600))}:${pad2(Math.floor(s / 60) % 60)}:${pad2(s % 60)}${frac} UTC`;
  }
  // Whole seconds to Intl (the zone's offsets are whole seconds since 1972), the fraction here.
  const parts = {};
  for (const p of zoneFormat(zone).formatToParts(new Date(Number(seconds) * 1000))) parts[p.type] = p.value;
  // A 64-bit count of nanoseconds spans the years 1677 to 2262: four digits, no era.
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second}${frac} ${parts.timeZoneName}`;
}

// An array cell (a groupBy column, typed `double[]`, ...) shows its first elements, numbers
// unformatted (a thousands separator would read as a second element): `[1.5, 2, …]`.
const ARRAY_SHOWN = 6;

/** The formatter of an array column's cells, whose elements are of type `element`. */
function arrayFormat(element, values, zone) {
  const shownOf = (v) => (Array.isArray(v) ? v.slice(0, ARRAY_SHOWN) : []);
  const elements = values.flatMap(shownOf);
  const times = ["timestamp", "time", "date"].includes(element);
  const inner = times ? columnFormat(element, elements, zone) : (v) => String(v);
  return (value) => {
    if (!Array.isArray(value)) return String(value);
    const shown = shownOf(value).map((v) => (v === null || v === undefined ? "null" : inner(v)));
    return `[${shown.join(", ")}${value.length > ARRAY_SHOWN ? ", …" : ""}]`;
  };
}

// --- columns ------------------------------------------------------------------------------

/**
 * The cell formatter of a column of `type` whose visible values are `values`: it fixes the
 * column's precision from them, and reads timestamps in `zone`.
 */
export function columnFormat(type, values, zone = "UTC") {
  const or = (f) => (v) => (v === null || v === undefined ? "" : f(v));
  if (type.endsWith("[]")) return or(arrayFormat(type.slice(0, -2), values, zone));
  switch (type) {
    case "double": {
      const decimals = columnDecimals(values);
      return or((v) => (typeof v === "number" ? double(v, decimals) : String(v)));
    }
    case "timestamp": {
      const digits = timeDigits(values);
      return or((v) => timestamp(v, digits, zone));
    }
    case "time": {
      const digits = timeDigits(values);
      return or((v) => timeOfDay(v, digits));
    }
    case "date":
      return or(date);
    case "int":
    case "long":
      return or((v) => (typeof v === "bigint" || typeof v === "number" ? integer.format(v) : String(v)));
    default:
      return or((v) => (typeof v === "bigint" ? integer.format(v) : String(v)));
  }
}
