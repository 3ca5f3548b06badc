"""The pandas anchor for BENCHMARKS.md's `updateBy` and `aj` figures: the same workloads as
`core/benches/update_by.rs` and `core/benches/joins.rs`, done once by pandas on this machine.

    <venv>/bin/python tests/python/update_by_bench.py

The trades are those of `core/benches/time_workload.rs` (the same generator: 1,048,576 trades of 4
instruments about a millisecond apart, `Ts`, `Instrument`, `Price`); the right side of the as-of
join is the same generator with the next seed. Each figure is the best of 3, in rows per second.

- `rollingAvg` over 100 ticks by Instrument: `groupby().rolling(100, min_periods=1).mean()`;
- `rollingAvg` over 1 minute by Instrument: `groupby().rolling('60s', on=Ts, closed='both')`;
- `ema` over 10 s by Instrument: pandas has no unadjusted time-decayed EWM, so its nearest,
  `groupby().ewm(halflife=10 s * ln 2, times=Ts).mean()` (adjusted: the same decay, normalised);
- `aj` on Instrument, Ts: `merge_asof(by='Instrument', direction='backward')`, inputs sorted.
"""

import math
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


def best(f, runs=3):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    left = trades(15)
    right = trades(16).rename(columns={"Price": "Bid"})
    g = left.groupby("Instrument", observed=True, sort=False)
    cases = {
        "rollingAvg 100 ticks by Instrument": lambda: g.Price.rolling(100, min_periods=1).mean(),
        "rollingAvg 1 minute by Instrument": lambda: left.groupby("Instrument", observed=True, sort=False)
        .rolling("60s", on="Ts", closed="both")
        .Price.mean(),
        "ema 10 s by Instrument (adjusted, pandas' nearest)": lambda: g.Price.transform(
            lambda s: s.ewm(halflife=pd.Timedelta(seconds=10 * math.log(2)), times=left.Ts[s.index]).mean()
        ),
        "aj 1M x 1M on Instrument, Ts": lambda: pd.merge_asof(
            left, right, on="Ts", by="Instrument", direction="backward"
        ),
    }
    print(f"pandas {pd.__version__}, numpy {np.__version__}, {ROWS} rows")
    for name, f in cases.items():
        seconds = best(f)
        print(f"{name}: {seconds * 1000:.0f} ms, {ROWS / seconds / 1e6:.2f}M rows/s")


if __name__ == "__main__":
    main()
