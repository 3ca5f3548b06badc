"""Golden vectors for Streamglass's Avro decoder, written by an independent encoder (fastavro).

Run it in the test venv (see tests/support/python.rs), from the repository root:

    python tests/python/avro_golden.py tests/data/avro/golden.json

Each case registers schemas (id, subject, version), encodes records with fastavro in the Confluent
wire format (magic byte 0, the schema id big-endian, the body), reads them back with fastavro
*using the reader schema* (so fastavro resolves schema evolution on its own), and flattens the
result into the columns Streamglass documents (docs/ARCHITECTURE.md, "Avro"): one JSON object per
record, keyed by column name. Values are typed as the columns are:

- numbers as JSON numbers (NaN and infinities as the strings "NaN", "Infinity", "-Infinity");
- timestamps and times as integer nanoseconds, dates as integer days;
- bytes and fixed as lower-case hex; decimals as the nearest double;
- arrays and maps as {"json": value}, the value the JSON text must parse to (bytes as Avro's JSON
  encoding writes them: one code point per byte);
- null as null, and so is a value equal to its column's null sentinel (Deephaven's convention:
  `int` -2^31, `long` and timestamps -2^63, `double` -Double.MAX_VALUE).

Logical types are read *without* fastavro's logical conversions (their physical value), and the
conversion to columns is done here, from the specification, so it does not share code or
assumptions with the Rust decoder beyond the documented mapping.
"""

import decimal
import io
import json
import math
import struct
import sys
import uuid
from datetime import date, datetime, timezone

import fastavro
from fastavro import read as fastavro_read

# Physical values on read: the mapping to columns is done below, from the spec.
fastavro_read.LOGICAL_READERS.clear()

NS = {
    "timestamp-millis": 1_000_000,
    "timestamp-micros": 1_000,
    "timestamp-nanos": 1,
    "local-timestamp-millis": 1_000_000,
    "local-timestamp-micros": 1_000,
    "local-timestamp-nanos": 1,
    "time-millis": 1_000_000,
    "time-micros": 1_000,
}


def frame(schema_id, body):
    return b"\x00" + schema_id.to_bytes(4, "big") + body


def zigzag(n):
    n = (n << 1) ^ (n >> 63)
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def encode(schema, record):
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, fastavro.parse_schema(schema), record)
    return buf.getvalue()


def read(writer, reader, body):
    return fastavro.schemaless_reader(
        io.BytesIO(body),
        fastavro.parse_schema(writer),
        fastavro.parse_schema(reader),
        return_record_name=True,
    )


def number(v):
    if isinstance(v, float) and not math.isfinite(v):
        return "NaN" if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity")
    return v


def avro_json(v):
    """A physical value as Avro's JSON encoding writes it (unions unwrapped)."""
    if isinstance(v, tuple):  # (record name, record) from return_record_name
        return avro_json(v[1])
    if isinstance(v, (bytes, bytearray)):
        return bytes(v).decode("latin-1")
    if isinstance(v, list):
        return [avro_json(x) for x in v]
    if isinstance(v, dict):
        return {k: avro_json(x) for k, x in v.items()}
    return v


class Columns:
    """Flattens a reader schema and a value read with it into Streamglass's columns."""

    def __init__(self, schema):
        self.names = {}
        self.schema = schema
        self.collect(schema, None)

    def collect(self, s, namespace):
        if isinstance(s, dict):
            if s.get("type") in ("record", "enum", "fixed"):
                ns = s.get("namespace", namespace)
                name = s["name"] if "." in s["name"] or not ns else f"{ns}.{s['name']}"
                self.names[name] = s
                self.names[s["name"]] = s
                for f in s.get("fields", []):
                    self.collect(f["type"], ns)
            for key in ("items", "values"):
                if key in s:
                    self.collect(s[key], namespace)
        elif isinstance(s, list):
            for b in s:
                self.collect(b, namespace)

    def deref(self, s):
        if isinstance(s, str) and s in self.names:
            return self.names[s]
        return s

    @staticmethod
    def kind(s):
        if isinstance(s, str):
            return s
        if isinstance(s, list):
            return "union"
        return s.get("logicalType") if s.get("logicalType") in NS or s.get("logicalType") in ("date", "decimal", "uuid") else s["type"]

    @staticmethod
    def join(prefix, name):
        return name if not prefix else f"{prefix}__{name}"

    def label(self, s):
        s = self.deref(s)
        if isinstance(s, dict) and s.get("type") in ("record", "enum", "fixed"):
            return s["name"].split(".")[-1]
        if isinstance(s, dict) and s.get("logicalType") in NS:
            return s["logicalType"]
        if isinstance(s, dict) and s.get("logicalType") in ("date", "uuid", "decimal"):
            return s["logicalType"]
        return s if isinstance(s, str) else s["type"]

    def flatten(self, value, top):
        out = {}
        self.walk(self.schema, value, "", top, out)
        return out

    def walk(self, s, v, prefix, top, out):
        s = self.deref(s)
        name = prefix or top
        if isinstance(s, list):
            branches = [b for b in s if b != "null"]
            if len(branches) == 1:
                return self.walk(branches[0], v, prefix, top, out)
            prefix = prefix or top
            chosen = None if v is None else self.branch_of(branches, v)
            for b in branches:
                p = self.join(prefix, self.label(b))
                self.walk(b, v if b is chosen else None, p, top, out)
            return
        if s == "null":
            return
        if isinstance(s, dict) and s["type"] == "record":
            if isinstance(v, tuple):
                v = v[1]
            for f in s["fields"]:
                self.walk(f["type"], None if v is None else v[f["name"]], self.join(prefix, f["name"]), top, out)
            return
        if v is None:
            out[name] = None
            return
        logical = s.get("logicalType") if isinstance(s, dict) else None
        base = s if isinstance(s, str) else s["type"]
        if logical in NS:
            out[name] = v * NS[logical]
        elif logical == "date":
            out[name] = v
        elif logical == "decimal":
            scale = s.get("scale", 0)
            unscaled = int.from_bytes(v, "big", signed=True)
            out[name] = float(decimal.Decimal(unscaled).scaleb(-scale))
        elif base in ("array", "map"):
            out[name] = {"json": avro_json(v)}
        elif base in ("bytes", "fixed"):
            out[name] = bytes(v).hex()
        elif base in ("float", "double"):
            out[name] = number(float(v))
        else:
            out[name] = v
        # Deephaven's null sentinels: a value equal to its column type's null reads as null.
        if out[name] in (-(2**31),) and base == "int" and logical not in NS:
            out[name] = None
        elif out[name] == -(2**63) or out[name] == -1.7976931348623157e308:
            out[name] = None

    def branch_of(self, branches, v):
        for b in branches:
            d = self.deref(b)
            base = d if isinstance(d, str) else d["type"]
            if isinstance(v, tuple):
                if base == "record" and d["name"].split(".")[-1] == v[0].split(".")[-1]:
                    return b
                continue
            if isinstance(v, bool):
                if base == "boolean":
                    return b
            elif isinstance(v, int):
                if base in ("int", "long"):
                    return b
            elif isinstance(v, float):
                if base in ("float", "double"):
                    return b
            elif isinstance(v, str):
                if base in ("string", "enum"):
                    return b
            elif isinstance(v, (bytes, bytearray)):
                if base in ("bytes", "fixed"):
                    return b
            elif isinstance(v, list):
                if base == "array":
                    return b
            elif isinstance(v, dict):
                if base in ("map", "record"):
                    return b
        raise ValueError(f"no branch of {branches} for {v!r}")


# ── schemas ──────────────────────────────────────────────────────────────────────────────────

ALL = {
    "type": "record", "name": "All", "namespace": "golden",
    "fields": [
        {"name": "b", "type": "boolean"},
        {"name": "i", "type": "int"},
        {"name": "l", "type": "long"},
        {"name": "f", "type": "float"},
        {"name": "d", "type": "double"},
        {"name": "s", "type": "string"},
        {"name": "y", "type": "bytes"},
        {"name": "e", "type": {"type": "enum", "name": "Color", "symbols": ["RED", "GREEN", "BLUE"]}},
        {"name": "fx", "type": {"type": "fixed", "name": "Four", "size": 4}},
        {"name": "dec", "type": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2}},
        {"name": "decf", "type": {"type": "fixed", "name": "Dec6", "size": 6, "logicalType": "decimal", "precision": 12, "scale": 4}},
        {"name": "date", "type": {"type": "int", "logicalType": "date"}},
        {"name": "tm", "type": {"type": "int", "logicalType": "time-millis"}},
        {"name": "tu", "type": {"type": "long", "logicalType": "time-micros"}},
        {"name": "tsm", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "tsu", "type": {"type": "long", "logicalType": "timestamp-micros"}},
        {"name": "tsn", "type": {"type": "long", "logicalType": "timestamp-nanos"}},
        {"name": "ltm", "type": {"type": "long", "logicalType": "local-timestamp-millis"}},
        {"name": "ltu", "type": {"type": "long", "logicalType": "local-timestamp-micros"}},
        {"name": "u", "type": {"type": "string", "logicalType": "uuid"}},
        {"name": "dur", "type": {"type": "fixed", "name": "Dur", "size": 12, "logicalType": "duration"}},
        {"name": "nul", "type": ["null", "string"]},
        {"name": "nur", "type": ["int", "null"]},
        {"name": "nrec", "type": ["null", {"type": "record", "name": "In", "fields": [
            {"name": "x", "type": "int"}, {"name": "y", "type": ["null", "string"]}]}]},
        {"name": "multi", "type": ["null", "long", "string", {"type": "record", "name": "M", "fields": [
            {"name": "a", "type": "double"}]}]},
        {"name": "arr", "type": {"type": "array", "items": "int"}},
        {"name": "arrrec", "type": {"type": "array", "items": {"type": "record", "name": "P", "fields": [
            {"name": "n", "type": "string"}, {"name": "v", "type": ["null", "double"]}, {"name": "raw", "type": "bytes"}]}}},
        {"name": "mp", "type": {"type": "map", "values": "long"}},
        {"name": "nested", "type": {"type": "record", "name": "Outer", "fields": [
            {"name": "inner", "type": {"type": "record", "name": "Inner", "fields": [{"name": "z", "type": "double"}]}},
            {"name": "k", "type": "Color"},
            {"name": "again", "type": ["null", "In"]}]}},
    ],
}


def dec_bytes(unscaled, size=None):
    n = size or max(1, (unscaled.bit_length() + 8) // 8)
    return unscaled.to_bytes(n, "big", signed=True)


def all_records():
    base = {
        "b": True, "i": 7, "l": 1 << 40, "f": 1.5, "d": -2.25, "s": "BTC/USD", "y": b"\x00\xff",
        "e": "GREEN", "fx": b"abcd",
        "dec": decimal.Decimal("1234567.89"), "decf": decimal.Decimal("-12.3456"),
        "date": date(2026, 1, 5), "tm": 52_200_123, "tu": 52_200_123_456,
        "tsm": 1_767_623_400_123, "tsu": 1_767_623_400_123_456, "tsn": 1_767_623_400_123_456_789,
        "ltm": 1_767_623_400_123, "ltu": 1_767_623_400_123_456,
        "u": str(uuid.UUID("12345678-1234-5678-1234-567812345678")), "dur": b"\x01\x00\x00\x00\x02\x00\x00\x00\x03\x00\x00\x00",
        "nul": "here", "nur": 3, "nrec": {"x": 1, "y": "why"}, "multi": 5,
        "arr": [1, -2, 3], "arrrec": [{"n": "a", "v": 0.5, "raw": b"\x01"}, {"n": "b", "v": None, "raw": b""}],
        "mp": {"one": 1, "big": -(1 << 50)},
        "nested": {"inner": {"z": 0.125}, "k": "BLUE", "again": None},
    }
    yield base
    yield dict(base, b=False, i=-(2**31), l=2**63 - 1, f=float("nan"), d=float("inf"), s="", y=b"",
               e="RED", dec=decimal.Decimal("-0.01"), decf=decimal.Decimal("0"), date=date(1969, 12, 31),
               tm=0, tu=86_399_999_999, tsm=-1, tsu=0, tsn=-5, ltm=0, ltu=-1_000,
               nul=None, nur=None, nrec=None, multi="five", arr=[], arrrec=[], mp={},
               nested={"inner": {"z": -0.0}, "k": "RED", "again": {"x": -9, "y": None}})
    yield dict(base, i=2**31 - 1, l=-(2**63) + 1, f=float("-inf"), d=5e-324, s="日本語 ✓ \"quoted\"\n",
               multi=("golden.M", {"a": 2.5}), nrec={"x": 0, "y": None}, dec=decimal.Decimal("9999999.99"),
               mp={"é": 0})
    yield dict(base, multi=None, d=1.7976931348623157e308, f=3.4028234663852886e38)


# Evolution: one subject, three versions; the latest reads all three.
EVO_V1 = {
    "type": "record", "name": "Evo", "namespace": "golden",
    "fields": [
        {"name": "id", "type": "int"},
        {"name": "name", "type": "string"},
        {"name": "score", "type": "float"},
        {"name": "small", "type": "int"},
        {"name": "big", "type": "long"},
        {"name": "lf", "type": "long"},
        {"name": "raw", "type": "bytes"},
        {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["A", "B", "C"]}},
        {"name": "old_only", "type": "long"},
        {"name": "tags", "type": {"type": "array", "items": "string"}},
        {"name": "attrs", "type": {"type": "map", "values": {"type": "record", "name": "Attr", "fields": [{"name": "w", "type": "double"}]}}},
        {"name": "choice", "type": ["null", "int"]},
        {"name": "plain", "type": "int"},
    ],
}
EVO_V2 = {
    "type": "record", "name": "Evo", "namespace": "golden",
    "fields": [
        {"name": "plain", "type": "int"},
        {"name": "id", "type": "long"},
        {"name": "name", "type": "string"},
        {"name": "score", "type": "double"},
        {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["A", "B", "C", "D"]}},
        {"name": "choice", "type": ["null", "int", "string"]},
        {"name": "added_int", "type": "int", "default": 1},
    ],
}
EVO_V3 = {
    "type": "record", "name": "Evo", "namespace": "golden",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "label", "type": "bytes", "aliases": ["name"]},
        {"name": "score", "type": "double"},
        {"name": "small", "type": "float", "default": 0.0},
        {"name": "big", "type": "double", "default": 0.0},
        {"name": "lf", "type": "float", "default": 0.0},
        {"name": "raw", "type": "string", "default": ""},
        {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["A", "B", "D"], "default": "D"}},
        {"name": "choice", "type": ["null", "long", "string"], "default": None},
        {"name": "added_int", "type": "int", "default": 42},
        {"name": "added_null", "type": ["null", "string"], "default": None},
        {"name": "added_rec", "type": {"type": "record", "name": "AR", "fields": [
            {"name": "p", "type": "int"}, {"name": "q", "type": ["string", "null"]}]}, "default": {"p": 1, "q": "x"}},
        {"name": "added_list", "type": {"type": "array", "items": "long"}, "default": [1, 2]},
        {"name": "added_ts", "type": {"type": "long", "logicalType": "timestamp-millis"}, "default": 1000},
        {"name": "plain", "type": "int"},
    ],
}

# An enum whose reader lacks a writer symbol and has no default: that record must be refused.
ENUM_V1 = {"type": "record", "name": "En", "fields": [{"name": "k", "type": {"type": "enum", "name": "K", "symbols": ["A", "B", "C"]}}]}
ENUM_V2 = {"type": "record", "name": "En", "fields": [{"name": "k", "type": {"type": "enum", "name": "K", "symbols": ["A", "B"]}}]}


def evo_v1_records():
    yield {"id": 1, "name": "first", "score": 0.5, "small": -3, "big": 1 << 53, "lf": 16_777_217,
           "raw": b"text", "kind": "A", "old_only": 99, "tags": ["x", "y"],
           "attrs": {"a": {"w": 1.0}}, "choice": 7, "plain": 10}
    yield {"id": 2, "name": "second", "score": -1e10, "small": 0, "big": -1, "lf": 0,
           "raw": "é".encode(), "kind": "C", "old_only": -1, "tags": [],
           "attrs": {}, "choice": None, "plain": 11}


def evo_v1_blocked(record):
    """EVO_V1 encoded by hand with `tags` and `attrs` in blocks that carry their byte size
    (negative counts), as Java's blocking encoder writes them: skippers must honour them."""
    body = b""
    for field in EVO_V1["fields"]:
        name = field["name"]
        if name in ("tags", "attrs"):
            items = b""
            count = len(record[name])
            if name == "tags":
                for t in record[name]:
                    items += encode("string", t)
            else:
                for k, v in record[name].items():
                    items += encode("string", k) + encode({"type": "record", "name": "Attr", "fields": [{"name": "w", "type": "double"}]}, v)
            if count:
                body += zigzag(-count) + zigzag(len(items)) + items
            body += zigzag(0)
        else:
            sub = field["type"]
            body += encode(sub if not isinstance(sub, dict) or sub.get("type") != "enum" else sub, record[name])
    return body


def evo_v2_records():
    yield {"plain": 20, "id": 1 << 40, "name": "v2", "score": 2.5, "kind": "D", "choice": "text", "added_int": 5}
    yield {"plain": 21, "id": -5, "name": "", "score": 0.0, "kind": "B", "choice": 3, "added_int": 6}


def evo_v3_records():
    yield {"id": 3, "label": b"\x00v3", "score": 1.0, "small": 1.5, "big": 2.5, "lf": 3.5, "raw": "r",
           "kind": "B", "choice": 1 << 40, "added_int": 1, "added_null": "n",
           "added_rec": {"p": 2, "q": None}, "added_list": [], "added_ts": 5, "plain": 30}


def main(out_path):
    schemas = []

    def register(schema_id, subject, version, schema):
        schemas.append({"id": schema_id, "subject": subject, "version": version, "schema": json.dumps(schema)})

    register(10, "all-value", 1, ALL)
    register(20, "evo-value", 1, EVO_V1)
    register(21, "evo-value", 2, EVO_V2)
    register(22, "evo-value", 3, EVO_V3)
    register(30, "enum-value", 1, ENUM_V1)
    register(31, "enum-value", 2, ENUM_V2)

    cases = []

    def case(name, reader, reader_ref, records):
        columns = Columns(reader)
        rows = []
        for writer_id, writer, body, error in records:
            row = {"writer": writer_id, "hex": frame(writer_id, body).hex()}
            if error:
                row["error"] = error
            else:
                row["columns"] = columns.flatten(read(writer, reader, body), "Value")
            rows.append(row)
        cases.append({"name": name, "reader": reader_ref, "records": rows})

    case("every type", ALL, {"subject": "all-value"},
         [(10, ALL, encode(ALL, r), None) for r in all_records()])

    evo = [(20, EVO_V1, encode(EVO_V1, r), None) for r in evo_v1_records()]
    evo += [(20, EVO_V1, evo_v1_blocked(r), None) for r in evo_v1_records()]
    evo += [(21, EVO_V2, encode(EVO_V2, r), None) for r in evo_v2_records()]
    evo += [(22, EVO_V3, encode(EVO_V3, r), None) for r in evo_v3_records()]
    case("evolution: the latest version reads every version", EVO_V3, {"subject": "evo-value"}, evo)
    case("evolution: a given version", EVO_V2, {"subject": "evo-value", "version": 2},
         [(20, EVO_V1, encode(EVO_V1, r), None) for r in evo_v1_records()])

    good = encode(ENUM_V1, {"k": "B"})
    case("enum symbol unknown to a reader without default", ENUM_V2, {"subject": "enum-value"}, [
        (30, ENUM_V1, good, None),
        (30, ENUM_V1, encode(ENUM_V1, {"k": "C"}), "UnknownSymbol"),
    ])

    # Damaged records (the rest of the refusals are Apache Avro's binary-rejections.json).
    one = encode(ALL, next(all_records()))
    cases_err = [
        (10, ALL, one[:-1], "Truncated"),
        (10, ALL, one + b"\x00", "TrailingBytes"),
        (99, ALL, one, "UnknownSchemaId"),
    ]
    case("damaged records", ALL, {"subject": "all-value"}, cases_err)
    rows = cases[-1]["records"]
    rows.append({"writer": 10, "hex": (b"\x01" + (10).to_bytes(4, "big") + one).hex(), "error": "WrongMagic"})
    rows.append({"writer": 10, "hex": b"\x00\x00".hex(), "error": "ShortHeader"})

    with open(out_path, "w", encoding="utf-8") as f:
        json.dump({"generator": f"fastavro {fastavro.__version__}", "schemas": schemas, "cases": cases},
                  f, indent=1, ensure_ascii=False, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
