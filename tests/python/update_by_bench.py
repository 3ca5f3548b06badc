"""The pandas anchor for BENCHMARKS.md's `updateBy` and `aj` figures: the same workloads as
`core/benches/update_by.rs` and `core/benches/joins.rs`, done once by pandas on this machine.

    <venv>/bin/python tests/python/update_by_bench.py [CASE...]

With arguments, only the cases whose names start with one of them run (`aj` for the join alone,
whose frames take a few seconds of Python to generate; the `updateBy` trades are not generated).

The `updateBy` trades are those of `core/benches/time_workload.rs` (the same generator: 1,048,576
trades of 4 instruments about a millisecond apart, `Ts`, `Instrument`, `Price`); the as-of join's
trades and quotes those of `core/benches/join_workload.rs` (1M each, 10 instruments, one a
microsecond, quotes half a microsecond after trades). Each figure is the best of 3, in rows per
second.

- `rollingAvg` over 100 ticks by Instrument: `groupby().rolling(100, min_periods=1).mean()`;
- `rollingAvg` over 1 minute by Instrument: `groupby().rolling('60s', on=Ts, closed='both')`;
- `ema` over 10 s by Instrument: pandas has no unadjusted time-decayed EWM, so its nearest,
  `groupby().ewm(halflife=10 s * ln 2, times=Ts).mean()` (adjusted: the same decay, normalised);
- `aj` on Instrument, KafkaTimestamp: `merge_asof(by='Instrument', direction='backward')` (both
  sides already in time order, as merge_asof needs).
"""

import math
import sys
import time

import numpy as np
import pandas as pd

ROWS = 1 << 20
MASK = (1 << 64) - 1


def trades(seed):
    instruments = np.array(["BTC/USD", "ETH/USD", "BTC/USDT", "SOL/USD"])
    ts = 1_767_632_400_000_000_000
    state = seed
    out_ts = np.empty(ROWS, dtype=np.int64)
    out_inst = np.empty(ROWS, dtype=np.int64)
    out_price = np.empty(ROWS, dtype=np.float64)
    for i in range(ROWS):
        state = (state * 6_364_136_223_846_793_005 + 1_442_695_040_888_963_407) & MASK
        r = state >> 20
        ts += 500_000 + r % 1_000_000
        out_ts[i] = ts
        out_inst[i] = (r >> 24) % 4
        out_price[i] = 60_000.0 + ((r >> 30) % 10_000) / 10.0
    return pd.DataFrame(
        {
            "Ts": pd.to_datetime(out_ts, unit="ns"),
            "Instrument": pd.Categorical(instruments[out_inst]),
            "Price": out_price,
        }
    )


def join_rows(odd):
    """`join_workload::rows(0, 1M, _, odd)`: an xorshift64 picks each row's instrument and price."""
    instruments = np.array(
        ["BTC/USD", "BTC/USDT", "ETH/USD", "ETH/USDT", "ETH/BTC", "LTC/USD", "XRP/USD", "SOL/USD", "DOGE/USD", "ADA/USD"]
    )
    n = 1_000_000
    x = 0x2545_F491_4F6C_DD1D ^ int(odd)
    inst = np.empty(n, dtype=np.int64)
    price = np.empty(n, dtype=np.float64)
    for i in range(n):
        x ^= (x << 13) & MASK
        x ^= x >> 7
        x ^= (x << 17) & MASK
        inst[i] = x % 10
        price[i] = 60_000.0 + float(x >> 20) % 1000.0
    ts = 1_767_632_400_000_000_000 + np.arange(n, dtype=np.int64) * 1_000 + (500 if odd else 0)
    return pd.DataFrame(
        {
            "KafkaTimestamp": pd.to_datetime(ts, unit="ns"),
            "Instrument": pd.Categorical(instruments[inst]),
            "Price": price,
        }
    )


def best(f, runs=3):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    only = sys.argv[1:]

    def wanted(name):
        return not only or any(name.startswith(o) for o in only)

    cases = {}
    if any(wanted(n) for n in ("rollingAvg", "ema")):
        left = trades(15)
        g = left.groupby("Instrument", observed=True, sort=False)
        cases |= {
            "rollingAvg 100 ticks by Instrument": lambda: g.Price.rolling(100, min_periods=1).mean(),
            "rollingAvg 1 minute by Instrument": lambda: left.groupby("Instrument", observed=True, sort=False)
            .rolling("60s", on="Ts", closed="both")
            .Price.mean(),
            "ema 10 s by Instrument (adjusted, pandas' nearest)": lambda: g.Price.transform(
                lambda s: s.ewm(halflife=pd.Timedelta(seconds=10 * math.log(2)), times=left.Ts[s.index]).mean()
            ),
        }
    if wanted("aj"):
        quotes = join_rows(True).rename(columns={"Price": "Quote"})
        trades_j = join_rows(False)
        cases["aj 1M x 1M on Instrument, KafkaTimestamp"] = lambda: pd.merge_asof(
            trades_j, quotes, on="KafkaTimestamp", by="Instrument", direction="backward"
        )
    print(f"pandas {pd.__version__}, numpy {np.__version__}, {ROWS} rows")
    for name, f in cases.items():
        if not wanted(name):
            continue
        seconds = best(f)
        rows = 1_000_000 if name.startswith("aj") else ROWS
        print(f"{name}: {seconds * 1000:.0f} ms, {rows / seconds / 1e6:.2f}M rows/s")


if __name__ == "__main__":
    main()
