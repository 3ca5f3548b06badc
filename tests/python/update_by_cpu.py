"""The `updateBy` cases of `update_by_bench.py` timed by CPU time (`time.process_time`, best of
5) rather than wall clock, to set beside `core/examples/update_by_cpu.rs` on a shared machine.

    <venv>/bin/python tests/python/update_by_cpu.py
"""

import math
import time

import pandas as pd

import update_by_bench as b


def main():
    left = b.trades(15)
    g = left.groupby("Instrument", observed=True, sort=False)
    cases = [
        ("rollingAvg 100 ticks", lambda: g.Price.rolling(100, min_periods=1).mean()),
        (
            "rollingAvg 1 minute",
            lambda: left.groupby("Instrument", observed=True, sort=False)
            .rolling("60s", on="Ts", closed="both")
            .Price.mean(),
        ),
        (
            "ema 10 s (adjusted)",
            lambda: g.Price.transform(
                lambda s: s.ewm(halflife=pd.Timedelta(seconds=10 * math.log(2)), times=left.Ts[s.index]).mean()
            ),
        ),
    ]
    for name, f in cases:
        times = []
        for _ in range(5):
            start = time.process_time()
            f()
            times.append(time.process_time() - start)
        best = min(times)
        print(f"{name}: {best * 1000:.1f} ms CPU, {b.ROWS / best / 1e6:.2f}M rows/s")


if __name__ == "__main__":
    main()
