"""Golden vectors for Streamglass's time functions, computed independently with Python's stdlib
(`datetime` and `zoneinfo`, over the system's IANA database).

Run it from the repository root (stdlib only, any Python >= 3.9):

    python3 tests/python/time_golden.py tests/data/time/golden.json

It writes:

- `rows`: the inputs, one per row: `T` and `U` (instants, integer nanoseconds since the epoch, or
  null) and `N` (a long, or null). They cover the DST gap and overlap hours of America/New_York,
  Europe/London and Australia/Sydney, leap days (2024-02-29, 2000-02-29, 1900 and 2100 which are
  not leap years), negative epochs (before 1970, down to the 1700s), sub-second instants and nulls,
  plus seeded random instants between 1700 and 2250;
- `cases`: a formula over those columns, the type of its result, and the value expected for every
  row (instants, durations and times as integer nanoseconds, dates as integer days since the
  epoch, null as null);
- `literals`: a formula that is a single time literal (or simple arithmetic on one), its type and
  its value.

The semantics are Deephaven's `DateTimeUtils` (see core/src/formula/time.rs): epochMillis and
epochSeconds floor, epochMicros and diffMillis truncate toward zero, nulls give null (isBefore
and isAfter give false), `hourOfDay(t, tz)` counts hours elapsed since the local day's start (as
`nanosOfDay` does) and `hourOfDay(t, tz, true)` reads the wall clock; a local date-time in a DST
gap moves forward by the gap, one in an overlap takes the earlier offset (Python's fold=0 is
Java's `atZone`).
"""

import datetime as dt
import json
import random
import sys
from zoneinfo import ZoneInfo

UTC = dt.timezone.utc
EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)
SECOND = 10**9
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR

ZONES = {
    # what a formula writes → (the IANA zone, the name formatDateTime prints)
    "'America/New_York'": ("America/New_York", "ET"),
    "'Europe/London'": ("Europe/London", "LON"),
    "timeZone(`Australia/Sydney`)": ("Australia/Sydney", "SYD"),
    "`UTC`": ("UTC", "UTC"),
}


def nanos(d: dt.datetime, frac: int = 0) -> int:
    delta = d - EPOCH
    return (delta.days * 86400 + delta.seconds) * SECOND + delta.microseconds * 1000 + frac


def at(text: str, frac: int = 0) -> int:
    """An instant from an ISO text with an offset (Z allowed), plus nanoseconds."""
    return nanos(dt.datetime.fromisoformat(text.replace("Z", "+00:00")), frac)


def local(t: int, zone: str) -> dt.datetime:
    return (EPOCH + dt.timedelta(seconds=t // SECOND)).astimezone(ZoneInfo(zone))


def trunc_div(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def day_number(d: dt.date) -> int:
    return d.toordinal() - dt.date(1970, 1, 1).toordinal()


def local_midnight(t: int, zone: str) -> int:
    """The instant the local day of t starts (fold=0: a gap moves forward, an overlap is early)."""
    d = local(t, zone)
    start = dt.datetime(d.year, d.month, d.day, tzinfo=ZoneInfo(zone))
    return nanos(start.astimezone(UTC))


def rows():
    instants = [
        # America/New_York: spring forward 2026-03-08 02:00 EST → 03:00 EDT (07:00Z).
        at("2026-03-08T06:59:59Z", 999_999_999),
        at("2026-03-08T07:00:00Z"),
        at("2026-03-08T07:30:00Z"),
        at("2026-03-08T16:00:00Z"),
        at("2026-03-08T04:59:59Z"),
        at("2026-03-08T05:00:00Z"),
        # fall back 2026-11-01 02:00 EDT → 01:00 EST (06:00Z): 01:30 happens twice.
        at("2026-11-01T05:30:00Z"),
        at("2026-11-01T06:00:00Z"),
        at("2026-11-01T06:30:00Z"),
        at("2026-11-01T17:00:00Z"),
        # Europe/London: 2026-03-29 01:00Z (GMT → BST), 2026-10-25 01:00Z (BST → GMT).
        at("2026-03-29T00:59:59Z"),
        at("2026-03-29T01:00:00Z"),
        at("2026-03-29T12:00:00Z"),
        at("2026-10-25T00:30:00Z"),
        at("2026-10-25T01:30:00Z"),
        at("2026-10-25T23:30:00Z"),
        # Australia/Sydney: 2026-04-05 16:00Z (AEDT → AEST), 2026-10-03 16:00Z (AEST → AEDT).
        at("2026-04-05T15:30:00Z"),
        at("2026-04-05T16:30:00Z"),
        at("2026-10-03T15:59:59Z"),
        at("2026-10-03T16:00:00Z"),
        # Leap years.
        at("2024-02-29T12:00:00Z"),
        at("2024-12-31T23:59:59Z"),
        at("2000-02-29T23:59:59Z", 500_000_000),
        at("1900-02-28T23:59:59Z"),
        at("1900-03-01T00:00:00Z"),
        at("2100-02-28T23:59:59Z", 999_999_999),
        at("2100-03-01T00:00:00Z"),
        # The epoch and before it.
        0,
        1,
        -1,
        -1_500_000_000,
        -999_999,
        at("1969-07-20T20:17:40Z"),
        at("1900-01-01T00:00:00Z"),
        at("1776-07-04T12:00:00Z", 123_456_789),
        # Sub-second instants.
        at("2026-01-05T17:00:00Z", 1),
        at("2026-01-05T17:00:00Z", 123_456_000),
        at("2026-01-05T17:59:59Z", 999_000_000),
        None,
    ]
    rng = random.Random(15)
    low, high = at("1700-01-01T00:00:00Z"), at("2250-01-01T00:00:00Z")
    instants += [rng.randrange(low, high) for _ in range(40)]
    out = []
    for i, t in enumerate(instants):
        u = None if t is None or i % 7 == 3 else t + rng.randrange(-3 * DAY, 3 * DAY)
        n = None if i % 11 == 5 else rng.randrange(-(2**40), 2**40) * (1 if i % 2 else 1000)
        out.append({"T": t, "U": u, "N": n})
    return out


def case(formula, ty, f, data, *cols):
    """Expected values: null for a null input, and (our choice, where Java throws) for a long or
    an instant out of range."""
    expect = []
    for row in data:
        args = [row[c] for c in cols]
        v = None if any(a is None for a in args) else f(*args)
        if isinstance(v, int) and not isinstance(v, bool) and not -(2**63) < v < 2**63:
            v = None
        expect.append(v)
    return {"formula": formula, "type": ty, "expect": expect}


def cases(data):
    out = []
    add = out.append
    # Epoch conversions.
    add(case("epochNanos(T)", "I64", lambda t: t, data, "T"))
    add(case("epochMicros(T)", "I64", lambda t: trunc_div(t, 1000), data, "T"))
    add(case("epochMillis(T)", "I64", lambda t: t // 10**6, data, "T"))
    add(case("epochSeconds(T)", "I64", lambda t: t // SECOND, data, "T"))
    add(case("epochNanosToInstant(N)", "Timestamp", lambda n: n, data, "N"))
    rem = lambda n, m: n - trunc_div(n, m) * m  # Java's %
    add(case("epochMicrosToInstant(N % 1_000_000_000_000_000L)", "Timestamp",
             lambda n: rem(n, 10**15) * 1000, data, "N"))
    add(case("epochMillisToInstant(N % 1_000_000_000_000L)", "Timestamp",
             lambda n: rem(n, 10**12) * 10**6, data, "N"))
    add(case("epochSecondsToInstant(N % 10_000_000_000L)", "Timestamp",
             lambda n: rem(n, 10**10) * SECOND, data, "N"))
    # Binning.
    add(case("lowerBin(T, MINUTE)", "Timestamp", lambda t: t - t % MINUTE, data, "T"))
    add(case("upperBin(T, 'PT1m')", "Timestamp",
             lambda t: t if t % MINUTE == 0 else t - t % MINUTE + MINUTE, data, "T"))
    add(case("lowerBin(T, 15 * MINUTE, 'PT5m')", "Timestamp",
             lambda t: (t - 5 * MINUTE) - (t - 5 * MINUTE) % (15 * MINUTE) + 5 * MINUTE, data, "T"))
    add(case("upperBin(T, HOUR, 30 * SECOND)", "Timestamp",
             lambda t: (t - 30 * SECOND) + ((-(t - 30 * SECOND)) % HOUR) + 30 * SECOND, data, "T"))
    add(case("lowerBin(T, DAY)", "Timestamp", lambda t: t - t % DAY, data, "T"))
    # Arithmetic.
    add(case("plus(T, 'PT1h')", "Timestamp", lambda t: t + HOUR, data, "T"))
    add(case("minus(T, 'PT0.5s')", "Timestamp", lambda t: t - SECOND // 2, data, "T"))
    add(case("T + 'P1DT2h'", "Timestamp", lambda t: t + DAY + 2 * HOUR, data, "T"))
    add(case("T - 90 * SECOND", "Timestamp", lambda t: t - 90 * SECOND, data, "T"))
    add(case("T + N", "Timestamp", lambda t, n: t + n, data, "T", "N"))
    add(case("T - U", "I64", lambda t, u: t - u, data, "T", "U"))
    add(case("minus(T, U)", "I64", lambda t, u: t - u, data, "T", "U"))
    add(case("diffNanos(T, U)", "I64", lambda t, u: u - t, data, "T", "U"))
    add(case("diffMillis(T, U)", "I64", lambda t, u: trunc_div(u - t, 10**6), data, "T", "U"))
    add(case("diffSeconds(T, U)", "F64", lambda t, u: float(u - t) / SECOND, data, "T", "U"))
    add(case("diffMinutes(T, U)", "F64", lambda t, u: float(u - t) / MINUTE, data, "T", "U"))
    # Comparisons (a null is never before nor after; `<` with a null is false).
    both = lambda f: [f(r["T"], r["U"]) if r["T"] is not None and r["U"] is not None else False
                      for r in data]
    add({"formula": "isBefore(T, U)", "type": "Bool", "expect": both(lambda t, u: t < u)})
    add({"formula": "isAfter(T, U)", "type": "Bool", "expect": both(lambda t, u: t > u)})
    add({"formula": "T < U", "type": "Bool", "expect": both(lambda t, u: t < u)})
    add({"formula": "T >= U", "type": "Bool", "expect": both(lambda t, u: t >= u)})
    epoch_lit = at("2026-01-05T17:00:00Z")
    add({"formula": "T > '2026-01-05T17:00:00Z'", "type": "Bool",
         "expect": [r["T"] is not None and r["T"] > epoch_lit for r in data]})
    add({"formula": "T == '1970-01-01T00:00:00Z'", "type": "Bool",
         "expect": [r["T"] == 0 for r in data]})
    # Parts, dates and formatting in each zone.
    for written, (zone, name) in ZONES.items():
        L = lambda t, z=zone: local(t, z)
        frac = lambda t: t % SECOND
        parts = [
            ("year", "I32", lambda t: L(t).year),
            ("monthOfYear", "I32", lambda t: L(t).month),
            ("dayOfMonth", "I32", lambda t: L(t).day),
            ("dayOfWeek", "I32", lambda t: L(t).isoweekday()),
            ("dayOfYear", "I32", lambda t: L(t).timetuple().tm_yday),
            ("minuteOfHour", "I32", lambda t: L(t).minute),
            ("secondOfMinute", "I32", lambda t: L(t).second),
            ("nanosOfSecond", "I64", frac),
            ("millisOfSecond", "I32", lambda t: frac(t) // 10**6),
        ]
        elapsed = lambda t, z=zone: t - local_midnight(t, z)
        wall = lambda t, z=zone: (L(t).hour * 3600 + L(t).minute * 60 + L(t).second) * SECOND + t % SECOND
        parts += [
            ("hourOfDay", "I32", lambda t: elapsed(t) // HOUR),
            ("minuteOfDay", "I32", lambda t: elapsed(t) // MINUTE),
            ("secondOfDay", "I32", lambda t: elapsed(t) // SECOND),
        ]
        for fn, ty, f in parts:
            add(case(f"{fn}(T, {written})", ty, f, data, "T"))
        add(case(f"hourOfDay(T, {written}, true)", "I32", lambda t: wall(t) // HOUR, data, "T"))
        add(case(f"minuteOfDay(T, {written}, true)", "I32", lambda t: wall(t) // MINUTE, data, "T"))
        add(case(f"secondOfDay(T, {written}, false)", "I32", lambda t: elapsed(t) // SECOND, data, "T"))
        add(case(f"toLocalDate(T, {written})", "Date", lambda t: day_number(L(t).date()), data, "T"))
        add(case(f"toLocalTime(T, {written})", "Time", wall, data, "T"))
        add(case(f"formatDate(T, {written})", "String", lambda t: L(t).strftime("%Y-%m-%d"), data, "T"))
        add(case(f"formatDateTime(T, {written})", "String",
                 lambda t, n=name: L(t).strftime("%Y-%m-%dT%H:%M:%S") + f".{t % SECOND:09d} {n}",
                 data, "T"))
    # Date values compare (a null is false), and instants concatenate as Java prints them.
    jan1 = dt.date(2026, 1, 1)
    add({"formula": "toLocalDate(T, 'ET') >= '2026-01-01'", "type": "Bool",
         "expect": [r["T"] is not None and local(r["T"], "America/New_York").date() >= jan1
                    for r in data]})
    add({"formula": "`at ` + T", "type": "String",
         "expect": ["at " + ("null" if r["T"] is None else iso_instant(r["T"])) for r in data]})
    return out


def iso_instant(t: int) -> str:
    """Java's Instant.toString: the fraction in groups of 3 digits, only as needed."""
    d = EPOCH + dt.timedelta(seconds=t // SECOND)
    f = t % SECOND
    text = d.strftime("%Y-%m-%dT%H:%M:%S")
    if f:
        digits = f"{f:09d}"
        while digits.endswith("000"):
            digits = digits[:-3]
        text += "." + digits
    return text + "Z"


def literals():
    ny = ZoneInfo("America/New_York")
    lon = ZoneInfo("Europe/London")
    syd = ZoneInfo("Australia/Sydney")
    inst = lambda d, frac=0: nanos(d.astimezone(UTC), frac)
    td = lambda **kw: (lambda d: d.days * DAY + d.seconds * SECOND + d.microseconds * 1000)(dt.timedelta(**kw))
    out = [
        ("'2026-01-05T17:00:00Z'", "Timestamp", inst(dt.datetime(2026, 1, 5, 17, tzinfo=UTC))),
        ("'2026-01-05T12:00:00 America/New_York'", "Timestamp", inst(dt.datetime(2026, 1, 5, 12, tzinfo=ny))),
        ("'2026-01-05T12:00:00 ET'", "Timestamp", inst(dt.datetime(2026, 1, 5, 12, tzinfo=ny))),
        ("'2026-01-05T12:00 NY'", "Timestamp", inst(dt.datetime(2026, 1, 5, 12, tzinfo=ny))),
        ("'2026-07-05T12:00:00.123456789 ET'", "Timestamp", inst(dt.datetime(2026, 7, 5, 12, tzinfo=ny), 123_456_789)),
        ("'2026-01-05T18:00:00.5+01:00'", "Timestamp",
         inst(dt.datetime(2026, 1, 5, 18, tzinfo=dt.timezone(dt.timedelta(hours=1))), 500_000_000)),
        ("'2026-01-05T12:00:00-05:30'", "Timestamp",
         inst(dt.datetime(2026, 1, 5, 12, tzinfo=dt.timezone(-dt.timedelta(hours=5, minutes=30))))),
        ("'2026-01-05 ET'", "Timestamp", inst(dt.datetime(2026, 1, 5, tzinfo=ny))),
        # In the spring gap: 02:30 does not exist; it is read as 03:30 EDT.
        ("'2026-03-08T02:30:00 America/New_York'", "Timestamp", inst(dt.datetime(2026, 3, 8, 2, 30, tzinfo=ny))),
        # In the autumn overlap: 01:30 happens twice; the first (EDT) is taken.
        ("'2026-11-01T01:30:00 America/New_York'", "Timestamp", inst(dt.datetime(2026, 11, 1, 1, 30, tzinfo=ny))),
        ("'2026-03-29T01:30:00 Europe/London'", "Timestamp", inst(dt.datetime(2026, 3, 29, 1, 30, tzinfo=lon))),
        ("'2026-10-25T01:30:00 LON'", "Timestamp", inst(dt.datetime(2026, 10, 25, 1, 30, tzinfo=lon))),
        ("'2026-04-05T02:30:00 Australia/Sydney'", "Timestamp", inst(dt.datetime(2026, 4, 5, 2, 30, tzinfo=syd))),
        ("'2026-10-04T02:30:00 SYD'", "Timestamp", inst(dt.datetime(2026, 10, 4, 2, 30, tzinfo=syd))),
        ("'1969-12-31T23:59:59.999999999Z'", "Timestamp", -1),
        ("'1900-03-01T00:00:00Z'", "Timestamp", inst(dt.datetime(1900, 3, 1, tzinfo=UTC))),
        ("'PT1m'", "I64", td(minutes=1)),
        ("'PT0.5s'", "I64", td(milliseconds=500)),
        ("'PT2h30m'", "I64", td(hours=2, minutes=30)),
        ("'-PT1s'", "I64", -td(seconds=1)),
        ("'P1DT2h'", "I64", td(days=1, hours=2)),
        ("'pt1.000000001S'", "I64", td(seconds=1) + 1),
        ("'PT-6H3M'", "I64", -td(hours=6) + td(minutes=3)),
        ("'P2D'", "I64", td(days=2)),
        ("'2026-01-05'", "Date", day_number(dt.date(2026, 1, 5))),
        ("'2024-02-29'", "Date", day_number(dt.date(2024, 2, 29))),
        ("'1900-02-28'", "Date", day_number(dt.date(1900, 2, 28))),
        ("'12:30:00'", "Time", td(hours=12, minutes=30)),
        ("'12:30'", "Time", td(hours=12, minutes=30)),
        ("'23:59:59.999999999'", "Time", td(days=1) - 1),
        ("SECOND", "I64", SECOND),
        ("MINUTE", "I64", MINUTE),
        ("HOUR", "I64", HOUR),
        ("DAY", "I64", DAY),
        ("WEEK", "I64", 7 * DAY),
        ("'PT1m' == MINUTE", "Bool", True),
        ("'2026-01-05T17:00:00Z' - '2026-01-05T12:00:00 ET'", "I64", 0),
        ("'2026-01-05' < '2026-01-06'", "Bool", True),
        ("'12:30' > '09:00:00.5'", "Bool", True),
        ("formatDateTime('2026-03-08T07:00:00Z', 'ET')", "String", "2026-03-08T03:00:00.000000000 ET"),
        ("formatDate('2026-03-08T03:00:00Z', `America/New_York`)", "String", "2026-03-07"),
    ]
    return [{"formula": f, "type": t, "expect": v} for f, t, v in out]


def main():
    data = rows()
    golden = {"rows": data, "cases": cases(data), "literals": literals()}
    with open(sys.argv[1], "w") as f:
        json.dump(golden, f, indent=0)
        f.write("\n")


if __name__ == "__main__":
    main()
