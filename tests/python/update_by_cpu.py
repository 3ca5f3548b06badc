"""The `updateBy` and `aj` cases of `update_by_bench.py` timed by CPU time (`time.process_time`,
best of 5) rather than wall clock, to set beside `core/examples/update_by_cpu.rs` and
`core/examples/aj_cpu.rs` on a shared machine (`aj` alone: `update_by_cpu.py aj`).

    <venv>/bin/python tests/python/update_by_cpu.py
"""

import math
import sys
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
    quotes = b.join_rows(True).rename(columns={"Price": "Quote"})
    trades = b.join_rows(False)
    cases.append(
        (
            "aj 1M x 1M",
            lambda: pd.merge_asof(trades, quotes, on="KafkaTimestamp", by="Instrument", direction="backward"),
        )
    )
    only = sys.argv[1:]
    for name, f in cases:
        if only and not any(name.startswith(o) for o in only):
            continue
        times = []
        for _ in range(5):
            start = time.process_time()
            f()
            times.append(time.process_time() - start)
        best = min(times)
        rows = 1_000_000 if name.startswith("aj") else b.ROWS
        print(f"{name}: {best * 1000:.1f} ms CPU, {rows / best / 1e6:.2f}M rows/s")


if __name__ == "__main__":
    main()
