"""Reads a table's exports with independent readers and compares every value with the table's own
cells: the Arrow IPC file with pyarrow (`pyarrow.ipc.open_file`), the CSV with pandas'
`read_csv`, and the JSON lines with pandas' `read_json` and Python's `json` (exact for longs, which
pandas takes through doubles when a column has nulls).

usage: export_check.py EXPECTED.json [--arrow FILE] [--csv FILE] [--jsonl FILE]

EXPECTED.json is {"columns": [...], "types": [...], "rows": [[...], ...], "dictionary": [...],
"plain": [...]} in canonical form (null; bools; ints; doubles as numbers or "NaN", "Infinity",
"-Infinity"; timestamps and times as integer nanoseconds; dates as days since the epoch; binary as
hex; arrays as lists). It prints {"checked": {...}} and exits 0 when all agree; else it prints the
first differences and exits 1.
"""

import argparse
import json
import math
import sys

import pandas as pd
import pyarrow as pa
import pyarrow.ipc as ipc

DAY_NS = 86_400 * 10**9


def canon_float(x):
    if x is None:
        return None
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    return x


def same(a, b):
    """Equal and of one type; doubles bit for bit (so -0.0 differs from 0.0)."""
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    return a == b


def compare(what, columns, expected, got, failures):
    """Appends the differences (at most 5 a column) to `failures`."""
    for c, name in enumerate(columns):
        shown = 0
        for r, row in enumerate(expected):
            want, have = row[c], got[c][r]
            if not same(want, have):
                failures.append(f"{what}: row {r} column {name}: expected {want!r}, read {have!r}")
                shown += 1
                if shown == 5:
                    break


# ---- Arrow ----------------------------------------------------------------------------------

ARROW_TYPES = {
    "bool": pa.bool_(),
    "int": pa.int32(),
    "long": pa.int64(),
    "double": pa.float64(),
    "timestamp": pa.timestamp("ns", tz="UTC"),
    "date": pa.date32(),
    "time": pa.time64("ns"),
    "binary": pa.binary(),
    "string": pa.string(),
}


def arrow_type(ty, dictionary):
    if ty.endswith("[]"):
        return pa.list_(ARROW_TYPES[ty[:-2]])
    if ty == "string" and dictionary:
        return pa.dictionary(pa.int32(), pa.string())
    return ARROW_TYPES[ty]


def arrow_values(column, ty):
    if ty.endswith("[]"):
        element = ty[:-2]
        flat = arrow_values(column.combine_chunks().flatten(), element) if len(column) else []
        out, offsets, at = [], column.combine_chunks().offsets.to_pylist(), 0
        for i, valid in enumerate(column.is_valid().to_pylist()):
            n = offsets[i + 1] - offsets[i]
            out.append(flat[at:at + n] if valid else None)
            at += n
        return out
    if ty in ("timestamp", "time"):
        return column.cast(pa.int64()).to_pylist()
    if ty == "date":
        return column.cast(pa.int32()).to_pylist()
    if ty == "double":
        return [canon_float(x) for x in column.to_pylist()]
    if ty == "binary":
        return [None if b is None else b.hex() for b in column.to_pylist()]
    return column.to_pylist()


def check_arrow(path, spec, failures):
    with ipc.open_file(path) as reader:
        table = reader.read_all()
    table.validate(full=True)
    columns, types = spec["columns"], spec["types"]
    if table.column_names != columns:
        failures.append(f"arrow: columns {table.column_names} != {columns}")
        return
    for name, ty in zip(columns, types):
        # "dictionary": the string columns that must be dictionary-encoded (the others plain),
        # or null when either will do.
        dictionary = spec["dictionary"]
        want = arrow_type(ty, dictionary is not None and name in dictionary)
        have = table.schema.field(name).type
        if dictionary is None and ty == "string" and have == pa.dictionary(pa.int32(), pa.string()):
            continue
        if have != want:
            failures.append(f"arrow: column {name} is {table.schema.field(name).type}, not {want}")
    if table.num_rows != len(spec["rows"]):
        failures.append(f"arrow: {table.num_rows} rows, not {len(spec['rows'])}")
        return
    got = [arrow_values(table.column(n), t) for n, t in zip(columns, types)]
    compare("arrow", columns, spec["rows"], got, failures)


# ---- text through pandas --------------------------------------------------------------------

def missing(v):
    return v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA or v is pd.NaT


def text_value(ty, v):
    """A value pandas read from a text export (a string for the times, binary and arrays), in
    canonical form."""
    if missing(v):
        return None
    if ty.endswith("[]"):
        parsed = json.loads(v) if isinstance(v, str) else v
        return [text_value(ty[:-2], x) for x in parsed]
    if ty == "bool":
        return bool(v)
    if ty in ("int", "long"):
        return int(v)
    if ty == "double":
        return canon_float(float(v)) if not isinstance(v, str) else v
    if ty == "timestamp":
        return pd.Timestamp(v).value
    if ty == "date":
        return pd.Timestamp(v).value // DAY_NS
    if ty == "time":
        return pd.Timedelta(v).value
    return v


def check_csv(path, spec, failures):
    columns, types = spec["columns"], spec["types"]
    dtypes = {n: {"bool": "boolean", "int": "Int64", "long": "Int64", "double": "float64"}.get(t, "string")
              for n, t in zip(columns, types)}
    frame = pd.read_csv(path, dtype=dtypes, keep_default_na=False,
                        na_values={n: ["", "NaN"] if t == "double" else [""] for n, t in zip(columns, types)},
                        float_precision="round_trip")
    if list(frame.columns) != columns or len(frame) != len(spec["rows"]):
        failures.append(f"csv: {list(frame.columns)} × {len(frame)} rows")
        return
    got = []
    for n, t in zip(columns, types):
        values = []
        for v in frame[n].tolist():
            if t == "timestamp" and not missing(v):
                v = pd.to_datetime(v, format="ISO8601", utc=True)
            values.append(text_value(t, v))
        got.append(values)
    # pandas reads an empty string (`""`) as missing, as it reads an empty field (a null), and NaN
    # as missing: those pairs read alike.
    def csv_form(ty, v):
        if ty in ("string", "binary") and v == "":
            return None
        if ty == "double" and v == "NaN":
            return None
        return v
    expected = [[csv_form(t, v) for t, v in zip(types, row)] for row in spec["rows"]]
    compare("csv (pandas)", columns, expected, got, failures)


def check_jsonl(path, spec, failures):
    columns, types = spec["columns"], spec["types"]
    # Exact: Python's json, line by line.
    with open(path, encoding="utf-8") as f:
        lines = [json.loads(line) for line in f]
    if len(lines) != len(spec["rows"]) or any(list(o.keys()) != columns for o in lines):
        failures.append(f"jsonl: {len(lines)} lines, or other keys than {columns}")
        return
    got = [[text_value(t, pd.to_datetime(o[n], format="ISO8601", utc=True) if t == "timestamp" and o[n] is not None else o[n])
            for o in lines] for n, t in zip(columns, types)]
    compare("jsonl (json)", columns, spec["rows"], got, failures)
    # pandas: longs go through doubles in a column with nulls, so they are compared as doubles.
    # pandas' default float parsing (its ujson's) keeps about 15 decimal places, so doubles are read
    # with `precise_float=True`, exact (it refuses subnormals, "Range error": the tests' tables have
    # none).
    frame = pd.read_json(path, lines=True, dtype=False, convert_dates=False, precise_float=True)
    if not spec["rows"]:
        # No line, so no keys to name the columns.
        if len(frame) != 0:
            failures.append(f"jsonl (pandas): {len(frame)} rows, not 0")
        return
    if list(frame.columns) != columns or len(frame) != len(spec["rows"]):
        failures.append(f"jsonl (pandas): {list(frame.columns)} × {len(frame)} rows")
        return
    got, expected = [], []
    for n, t in zip(columns, types):
        values = []
        for v in frame[n].tolist():
            if t == "timestamp" and not missing(v):
                v = pd.to_datetime(v, format="ISO8601", utc=True)
            if t == "long" and not missing(v):
                v = float(v)
            values.append(text_value(t, v) if t != "long" or missing(v) else v)
        got.append(values)
    for row in spec["rows"]:
        expected.append([float(v) if t == "long" and v is not None else v for t, v in zip(types, row)])
    compare("jsonl (pandas)", columns, expected, got, failures)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("expected")
    parser.add_argument("--arrow")
    parser.add_argument("--csv")
    parser.add_argument("--jsonl")
    args = parser.parse_args()
    with open(args.expected, encoding="utf-8") as f:
        spec = json.load(f)
    failures, checked = [], {}
    for name, path, check in (("arrow", args.arrow, check_arrow), ("csv", args.csv, check_csv),
                              ("jsonl", args.jsonl, check_jsonl)):
        if path:
            before = len(failures)
            check(path, spec, failures)
            checked[name] = len(failures) == before
    print(json.dumps({"checked": checked, "rows": len(spec["rows"]), "failures": failures[:60]}))
    sys.exit(1 if failures or not checked else 0)


if __name__ == "__main__":
    main()
