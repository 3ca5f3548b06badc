"""Checks the time notebook's `updateBy` and `aj` tables, as the page showed them at one cycle,
against pandas computing the same from the page's own `trades` rows.

    <venv>/bin/python tests/python/check_rolling_notebook.py snapshot.json

`snapshot.json` holds `{"tables": {name: {"columns": [...], "rows": [[...], ...]}}}` with the
tables `trades`, `rolling` and `spread` (timestamps as decimal strings of nanoseconds). It prints
one line of JSON, `{"checked": {table: rows}, "mismatches": [...]}`, and exits 1 on a mismatch.

- `rolling` is `trades` sorted by KafkaTimestamp (ties in table order) with, per Instrument,
  `AvgPrice100` (the mean of the last 100 prices: pandas `rolling(100, min_periods=1).mean()`) and
  `Volume1m` (the sum of Size over the rows whose timestamp is within the minute up to and
  including the row's, rows of the same timestamp included: pandas `rolling('60000000000ns',
  closed='both')`, then each run of equal timestamps takes its last row's value).
- `spread` is each coinbase-pro BTC/USD trade with the latest binance BTC/USDT trade at or before
  it (`aj` on KafkaTimestamp; of equal timestamps the last in table order, as Deephaven compacts
  them): pandas `merge_asof(direction='backward')`; the matched row's price and timestamp, and
  `Spread = Price - BinancePrice`.
"""

import json
import math
import sys

import pandas as pd

TOLERANCE = 1e-9


def frame(table):
    df = pd.DataFrame(table["rows"], columns=table["columns"])
    for c in ["KafkaTimestamp", "KafkaPartition", "KafkaOffset"]:
        if c in df:
            df[c] = df[c].map(int).astype("int64")
    return df


def close(a, b):
    if a is None or (isinstance(a, float) and math.isnan(a)):
        return b is None or (isinstance(b, float) and math.isnan(b))
    if b is None or (isinstance(b, float) and math.isnan(b)):
        return False
    return abs(a - b) <= TOLERANCE * max(1.0, abs(b))


def compare(name, shown, expected, columns, mismatches):
    key = ["KafkaPartition", "KafkaOffset"]
    if len(shown) != len(expected):
        mismatches.append(f"{name}: {len(shown)} rows shown, {len(expected)} expected")
        return
    got = shown.set_index(key)
    want = expected.set_index(key)
    if set(got.index) != set(want.index):
        mismatches.append(f"{name}: other rows than expected")
        return
    for column in columns:
        for k, w in want[column].items():
            g = got.at[k, column]
            if column.endswith("Time"):
                # Nanosecond timestamps: compared exactly, as integers.
                g = None if pd.isna(g) else int(g)
                w = None if pd.isna(w) else int(w)
                same = g == w
            else:
                g = None if pd.isna(g) else float(g)
                w = None if pd.isna(w) else float(w)
                same = close(g, w)
            if not same:
                mismatches.append(f"{name}.{column} at {k}: shown {g}, pandas {w}")
                if len(mismatches) > 20:
                    return


def main(path):
    with open(path) as f:
        tables = json.load(f)["tables"]
    trades = frame(tables["trades"])
    mismatches = []

    ordered = trades.sort_values("KafkaTimestamp", kind="stable").reset_index(drop=True)
    by = ordered.groupby("Instrument", sort=False)
    avg = by.Price.transform(lambda s: s.rolling(100, min_periods=1).mean())
    timed = ordered.assign(Time=pd.to_datetime(ordered.KafkaTimestamp, unit="ns"))
    volume = pd.Series(index=timed.index, dtype=float)
    for _, g in timed.groupby("Instrument", sort=False):
        v = g.rolling("60000000000ns", on="Time", closed="both").Size.sum()
        volume[g.index] = v.groupby(g.Time.to_numpy()).transform("last").to_numpy()
    expected = ordered.assign(AvgPrice100=avg, Volume1m=volume)
    compare("rolling", frame(tables["rolling"]), expected, ["AvgPrice100", "Volume1m"], mismatches)

    left = trades[(trades.Exchange == "coinbase-pro") & (trades.Instrument == "BTC/USD")]
    right = trades[(trades.Exchange == "binance") & (trades.Instrument == "BTC/USDT")]
    right = right.drop_duplicates("KafkaTimestamp", keep="last")
    right = right[["KafkaTimestamp", "Price"]].rename(columns={"Price": "BinancePrice"})
    right["BinanceTime"] = right.KafkaTimestamp.astype("Int64")  # nullable: exact after the merge
    joined = pd.merge_asof(
        left.assign(row=range(len(left))).sort_values("KafkaTimestamp", kind="stable"),
        right.sort_values("KafkaTimestamp", kind="stable"),
        on="KafkaTimestamp",
        direction="backward",
    ).sort_values("row")
    joined["Spread"] = joined.Price - joined.BinancePrice
    shown = frame(tables["spread"])
    shown["BinanceTime"] = shown.BinanceTime.map(lambda v: None if v is None else int(v)).astype("Int64")
    compare("spread", shown, joined, ["BinancePrice", "BinanceTime", "Spread"], mismatches)

    print(json.dumps({"checked": {"rolling": len(expected), "spread": len(joined)}, "mismatches": mismatches}))
    sys.exit(1 if mismatches else 0)


if __name__ == "__main__":
    main(sys.argv[1])
