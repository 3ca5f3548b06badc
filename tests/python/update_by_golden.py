"""Golden vectors for Streamglass's `updateBy` and as-of joins, computed independently with pandas.

Run it from the repository root, in the test venv (which pins pandas):

    <venv>/bin/python tests/python/update_by_golden.py tests/data/update_by/golden.json

It writes `trades`: seeded random trades (`Instrument`, `Exchange`, `Ts` in integer nanoseconds
since the epoch, `Price`, `Size`; some prices null; timestamps with ties within an instrument), in
the order they arrive, and `quotes`, a second seeded table for the as-of joins (`Instrument`, `Ts`,
`Bid`, with ties). Then `cases`, each an operation as Deephaven names it, with its parameters and the
value expected for every row (null as null):

- `ema` over ticks: pandas `ewm(alpha=1 - exp(-1/ticks), adjust=False)` per instrument, which is
  Deephaven's `ema = a * ema + (1 - a) * x` with `a = exp(-1/ticks)`, starting at the first value.
  Null prices are skipped (Deephaven's default `onNullValue`: the row keeps the previous EMA).
- `ema` over time: Deephaven's `a = exp(-dt / timeScale)`. pandas has no unadjusted time-decayed
  EWM (`times` needs `adjust=True`, a different estimator), so the recursion is computed here with
  numpy, from Deephaven's documented definition; the script checks it against pandas' `ewm(alpha=..,
  adjust=False)` on the instruments' evenly spaced copies, where the two must agree.
- `rollingSum`/`rollingAvg` over ticks (`revTicks` counts the row itself): pandas
  `rolling(revTicks, min_periods=1)` per instrument.
- `rollingSum`/`rollingAvg`/`rollingCount` over time (`revTime`, Deephaven's window is the rows
  whose timestamp is in `[ts - revTime, ts]`, both ends inclusive, rows with the same timestamp
  after the row included): pandas `rolling('<n>ns', on='Ts', closed='both')` per instrument, then
  each row of a run of equal timestamps takes the value of the run's last row (pandas' window ends
  at the row itself).
- `aj` and `raj` of trades against quotes on `Instrument, Ts`: pandas `merge_asof(direction=
  'backward')` (the last quote at or before the trade) and `direction='forward'` (the first quote at
  or after), and the strict forms with `allow_exact_matches=False`. Quotes of equal stamps are first
  compacted to the last of them, as Deephaven's duplicate compaction does for both joins.
"""

import json
import math
import sys

import numpy as np
import pandas as pd

SECOND = 10**9
SEED = 20261205


def trades(rng):
    n = 3000
    instruments = ["BTC/USD", "ETH/USD", "SOL/USD", "DOGE/USD"]
    rows = []
    clock = {i: 1_767_000_000 * SECOND for i in instruments}
    for _ in range(n):
        inst = instruments[rng.choice(4, p=[0.4, 0.3, 0.2, 0.1])]
        # Gaps of 0 (a tie) to ~20 s, so 1-minute windows hold from one row to dozens.
        gap = 0 if rng.random() < 0.15 else int(rng.exponential(4 * SECOND))
        clock[inst] += gap
        price = None if rng.random() < 0.05 else round(float(rng.normal(100, 5)), 4)
        rows.append(
            {
                "Instrument": inst,
                "Exchange": ["binance", "coinbase-pro"][int(rng.integers(2))],
                "Ts": clock[inst],
                "Price": price,
                "Size": round(float(rng.exponential(2)), 6),
            }
        )
    return rows


def quotes(rng, trade_rows):
    starts = {}
    for r in trade_rows:
        starts.setdefault(r["Instrument"], r["Ts"])
    rows = []
    clock = {i: t - 30 * SECOND for i, t in starts.items()}
    names = sorted(starts)
    for _ in range(2000):
        inst = names[int(rng.integers(len(names)))]
        gap = 0 if rng.random() < 0.1 else int(rng.exponential(5 * SECOND))
        clock[inst] += gap
        rows.append({"Instrument": inst, "Ts": clock[inst], "Bid": round(float(rng.normal(100, 5)), 4)})
    return rows


def nulls(series):
    return [None if (v is None or (isinstance(v, float) and math.isnan(v))) else float(v) for v in series]


def ema_time(df, time_scale):
    """Deephaven's time EMA: a = exp(-dt / time_scale); a null value keeps the previous EMA."""
    out = np.full(len(df), np.nan)
    last = {}
    for pos, (inst, ts, x) in enumerate(zip(df.Instrument, df.Ts, df.Price)):
        prev = last.get(inst)
        if x is None or (isinstance(x, float) and math.isnan(x)):
            out[pos] = prev[1] if prev else np.nan
            continue
        if prev is None:
            value = x
        else:
            a = math.exp(-(ts - prev[0]) / time_scale)
            value = a * prev[1] + (1 - a) * x
        last[inst] = (ts, value)
        out[pos] = value
    return out


def check_time_recursion_against_pandas():
    """On evenly spaced rows, the time recursion is pandas' tick EWM with a = exp(-dt/scale)."""
    rng = np.random.default_rng(SEED + 1)
    dt = 2 * SECOND
    df = pd.DataFrame(
        {
            "Instrument": ["X"] * 200,
            "Ts": [i * dt for i in range(200)],
            "Price": list(rng.normal(100, 5, 200)),
        }
    )
    scale = 10 * SECOND
    ours = ema_time(df, scale)
    theirs = df.Price.ewm(alpha=1 - math.exp(-dt / scale), adjust=False).mean().to_numpy()
    assert np.allclose(ours, theirs, rtol=1e-12, atol=0), "the time EMA recursion disagrees with pandas"


def by_instrument(df, f):
    return df.groupby("Instrument", sort=False, group_keys=False)[df.columns].apply(f)


def main(path):
    rng = np.random.default_rng(SEED)
    trade_rows = trades(rng)
    quote_rows = quotes(rng, trade_rows)
    df = pd.DataFrame(trade_rows)
    df["Price"] = df["Price"].astype(float)
    df["row"] = range(len(df))
    cases = []

    for ticks in [10, 100]:
        alpha = 1 - math.exp(-1 / ticks)
        # ewm skips NaN in its recursion (ignore_na=True) and forward-fills the last value.
        ema = df.groupby("Instrument", sort=False).Price.transform(
            lambda s: s.ewm(alpha=alpha, adjust=False, ignore_na=True).mean()
        )
        cases.append({"op": "ema", "ticks": ticks, "column": "Price", "keys": ["Instrument"], "expected": nulls(ema)})

    check_time_recursion_against_pandas()
    for seconds in [10, 60]:
        cases.append(
            {
                "op": "ema",
                "timestampCol": "Ts",
                "timeScale": seconds * SECOND,
                "column": "Price",
                "keys": ["Instrument"],
                "expected": nulls(ema_time(df, seconds * SECOND)),
            }
        )

    for ticks in [1, 5, 100]:
        grouped = df.groupby("Instrument", sort=False).Price
        total = grouped.transform(lambda s: s.rolling(ticks, min_periods=1).sum())
        count = grouped.transform(lambda s: s.rolling(ticks, min_periods=1).count())
        total = total.where(count > 0)
        mean = grouped.transform(lambda s: s.rolling(ticks, min_periods=1).mean())
        for op, values in [("rollingSum", total), ("rollingAvg", mean)]:
            cases.append({"op": op, "revTicks": ticks, "column": "Price", "keys": ["Instrument"], "expected": nulls(values)})

    for seconds in [1, 60, 300]:
        window = f"{seconds * SECOND}ns"
        frame = df.assign(Time=pd.to_datetime(df.Ts, unit="ns"))

        def rolled(g, how):
            r = g.rolling(window, on="Time", closed="both").Price
            values = getattr(r, how)()
            # A run of equal timestamps: every row's window is the run's last row's.
            return values.groupby(g.Time.to_numpy()).transform("last")

        parts = {how: [] for how in ["sum", "mean", "count"]}
        for _, g in frame.groupby("Instrument", sort=False):
            for how in parts:
                parts[how].append(pd.Series(rolled(g, how).to_numpy(), index=g.index))
        total, mean, count = (pd.concat(parts[h]).sort_index() for h in ["sum", "mean", "count"])
        total = total.where(count > 0)
        for op, values in [("rollingSum", total), ("rollingAvg", mean), ("rollingCount", count)]:
            cases.append(
                {
                    "op": op,
                    "timestampCol": "Ts",
                    "revTime": seconds * SECOND,
                    "column": "Price",
                    "keys": ["Instrument"],
                    "expected": nulls(values),
                }
            )

    q = pd.DataFrame(quote_rows)
    q["qrow"] = range(len(q))
    left = df.sort_values("Ts", kind="stable")
    # Deephaven compacts right rows of equal stamps to the last of them (in row order) before it
    # searches, for aj and raj alike (`DupCompactKernel`, `...ReverseDupCompactKernel`).
    right = q.drop_duplicates(["Instrument", "Ts"], keep="last").sort_values("Ts", kind="stable")
    for op, direction, exact in [("aj", "backward", True), ("aj<", "backward", False), ("raj", "forward", True), ("raj>", "forward", False)]:
        merged = pd.merge_asof(
            left, right[["Instrument", "Ts", "Bid", "qrow"]], on="Ts", by="Instrument",
            direction=direction, allow_exact_matches=exact,
        ).set_index("row").sort_index()
        strict = op.endswith(("<", ">"))
        cases.append(
            {
                "op": op.rstrip("<>"),
                "strict": strict,
                "match": ["Instrument", "Ts"],
                "add": ["Bid"],
                "expected": nulls(merged.Bid),
                "rightRow": [None if math.isnan(v) else int(v) for v in merged.qrow],
            }
        )

    out = {
        "generator": "tests/python/update_by_golden.py",
        "pandas": pd.__version__,
        "trades": trade_rows,
        "quotes": quote_rows,
        "cases": cases,
    }
    with open(path, "w") as f:
        json.dump(out, f, indent=None, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
