"""The `updateBy` and `aj` cases of `update_by_bench.py` timed by CPU time (`time.process_time`,
best of 5) rather than wall clock, to set beside `core/examples/update_by_cpu.rs` and
`core/examples/aj_cpu.rs` on a shared machine (`aj` alone: `update_by_cpu.py aj`).

    <venv>/bin/python tests/python/update_by_cpu.py
"""

import math
import resource
import sys
import time

import pandas as pd

import update_by_bench as b


def cases():
    """The four workloads, each a (name, rows, make): `make()` builds the case's frames alone
    (so that pandas' heap holds no other case's) and returns a function doing it once."""

    def trades():
        return b.trades(15)

    def rolling_ticks():
        g = trades().groupby("Instrument", observed=True, sort=False)
        return lambda: g.Price.rolling(100, min_periods=1).mean()

    def rolling_minute():
        left = trades()
        return lambda: left.groupby("Instrument", observed=True, sort=False).rolling("60s", on="Ts", closed="both").Price.mean()

    def ema():
        left = trades()
        g = left.groupby("Instrument", observed=True, sort=False)
        halflife = pd.Timedelta(seconds=10 * math.log(2))
        return lambda: g.Price.transform(lambda s: s.ewm(halflife=halflife, times=left.Ts[s.index]).mean())

    def aj():
        quotes = b.join_rows(True).rename(columns={"Price": "Quote"})
        trades = b.join_rows(False)
        return lambda: pd.merge_asof(trades, quotes, on="KafkaTimestamp", by="Instrument", direction="backward")

    return [
        ("rollingAvg 100 ticks", b.ROWS, rolling_ticks),
        ("rollingAvg 1 minute", b.ROWS, rolling_minute),
        ("ema 10 s (adjusted)", b.ROWS, ema),
        ("aj 1M x 1M", 1_000_000, aj),
    ]


def best_of_5(f):
    """The least CPU time of five runs of `f`, in seconds, and the minor page faults of the
    runs after the first, a run (none where pandas' heap keeps the memory its runs free, as for
    `aj`)."""
    times = []
    faults = 0
    for i in range(5):
        if i == 1:
            faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        start = time.process_time()
        f()
        times.append(time.process_time() - start)
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
    return min(times), faults / 4


def main():
    only = sys.argv[1:]
    for name, rows, make in cases():
        if only and not any(name.startswith(o) for o in only):
            continue
        best, faults = best_of_5(make())
        print(f"{name}: {best * 1000:.1f} ms CPU, {rows / best / 1e6:.2f}M rows/s, {faults:.0f} page faults a run")


if __name__ == "__main__":
    main()
