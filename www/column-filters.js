// A grid's per-column filters and header sort, as the engine's own operations: the text typed
// under a header becomes a `where` formula on that column, and the header clicks a list of sort
// keys. Pure (no DOM), so the worker runs what the page computed here, and a bad text is refused
// here with a message the user can act on, before the engine sees it.
//
// By the column's type:
//   strings     `abc`: contains abc, case-insensitive; `=abc` / `!=abc`: equals (or not), ignoring case
//   numbers     `> 100`, `>= 1.5`, `< 0`, `<= 5`, `= 3`, `!= 3`, a bare `3` (equals), `a..b` (both
//               ends inclusive, Deephaven's `inRange`)
//   timestamps  the same comparisons and ranges on ISO text, `>= 2026-01-05T17:00`, read in the
//               page's time zone unless it names its own (`Z`, `+01:00`, ` America/New_York`)
//   dates/times the same, on `2026-01-05` / `17:00:05`
//   booleans    `true` / `false`
// Invariant: every formula returned reads only its own column and constants.

// A column name a formula can read: what Deephaven's NameValidator makes legal (JSON-derived
// columns are legalized so; a user's spec or an Avro schema may still name others).
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
const COMPARISON = /^(>=|<=|!=|==|=|>|<)\s*(.*)$/s;

/** The `where` formula for `text` typed under `column` of `type`, read in `zone`; null for an
 * empty text. Throws an Error whose message says what is wrong with the text. */
export function filterFormula(column, type, text, zone = "UTC") {
  const typed = text.trim();
  if (typed === "") return null;
  if (!IDENTIFIER.test(column)) {
    throw new Error(`column ${JSON.stringify(column)} is not a name a formula can read: filter it with where in the console after renaming it`);
  }
  switch (type) {
    case "string":
      return stringFilter(column, typed);
    case "int":
    case "long":
    case "double":
      return ordered(column, typed, number);
    case "timestamp":
      return ordered(column, typed, (t) => instant(t, zone));
    case "date":
    case "time":
      return ordered(column, typed, (t) => `'${plainTime(t)}'`);
    case "bool": {
      const b = typed.toLowerCase();
      if (b !== "true" && b !== "false") throw new Error("type true or false");
      return `${column} == ${b}`;
    }
    default:
      throw new Error(`a ${type} column has no filter here (use where in the console)`);
  }
}

function stringFilter(column, typed) {
  const exact = /^(!=|==|=)\s*(.*)$/s.exec(typed);
  if (exact) {
    const negated = exact[1] === "!=";
    return `${column} icase ${negated ? "not " : ""}in ${quoted(exact[2])}`;
  }
  return `${column}.toLowerCase().contains(${quoted(typed.toLowerCase())})`;
}

/** A comparison, an equality or a range `a..b` over values that `literal` turns into formula
 * constants. */
function ordered(column, typed, literal) {
  if (typed.includes("...")) throw new Error("a range is low..high");
  const range = typed.split("..");
  if (range.length === 2) {
    return `inRange(${column}, ${literal(range[0].trim())}, ${literal(range[1].trim())})`;
  }
  if (range.length > 2) throw new Error("a range is low..high");
  const comparison = COMPARISON.exec(typed);
  const op = comparison ? (comparison[1] === "=" ? "==" : comparison[1]) : "==";
  return `${column} ${op} ${literal((comparison ? comparison[2] : typed).trim())}`;
}

function number(text) {
  if (!NUMBER.test(text)) throw new Error(`'${text}' is not a number (try > 100, <= 5 or 1..10)`);
  if (!Number.isFinite(Number(text))) throw new Error(`'${text}' is out of a double's range`);
  // Whole numbers as typed (a long keeps its digits); others as JavaScript reads them.
  return /^[-+]?\d+$/.test(text) ? text : String(Number(text));
}

/** An instant literal: the text in `zone` unless it ends with its own zone or offset. */
function instant(text, zone) {
  const t = plainTime(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(t)) throw new Error(`'${t}' is not a date-time (try >= 2026-01-05T17:00)`);
  const zoned = t.includes(" ") || /[Zz]$/.test(t) || /T[^+-]*[+-]\d{2}(:?\d{2})?$/.test(t);
  return zoned ? `'${t}'` : `'${t} ${zone}'`;
}

function plainTime(text) {
  if (text === "") throw new Error("a value is missing");
  if (text.includes("'")) throw new Error("no quotes needed");
  return text;
}

/** A string constant: in backquotes, or double quotes if the text holds a backquote. */
function quoted(text) {
  if (!text.includes("`")) return `\`${text}\``;
  if (!text.includes('"')) return `"${text}"`;
  throw new Error("a filter cannot hold both ` and \"");
}

/** The sort keys after a click on `column`'s header: it cycles ascending → descending → off;
 * `add` (shift-click) keeps the other keys, the column being added as the last key. */
export function nextSort(sort, column, add) {
  const at = sort.findIndex((k) => k.column === column);
  const current = at >= 0 ? sort[at] : null;
  const next = current === null ? { column, descending: false } : current.descending ? null : { column, descending: true };
  if (!add) return next ? [next] : [];
  const out = sort.slice();
  if (at < 0) out.push(next);
  else if (next) out[at] = next;
  else out.splice(at, 1);
  return out;
}
