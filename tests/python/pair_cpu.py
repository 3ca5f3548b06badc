"""pandas and Streamglass side by side on the four `updateBy` and `aj` workloads, alternated
round by round so that both meet the same moments of a shared machine: each round times pandas'
best of 5 (`update_by_cpu.py`, CPU time) and ours (`update_by_cpu W best` or `aj_cpu best`, a
fresh process, wall clock), in turn which goes first, and prints the ratio of the two. The
summary is the median and the least ratio over the rounds.

Ours runs with the memory its runs free kept (`MALLOC_TRIM_THRESHOLD_`, `MALLOC_MMAP_THRESHOLD_`),
as pandas' process keeps it for `aj` under glibc's defaults (the page faults a run are printed
for both sides: pandas' `aj` takes none) and as the page's wasm heap does; `--defaults` runs ours
under glibc's defaults too.

    cargo build --profile bench -p streamglass-core --example update_by_cpu --example aj_cpu
    cd tests/python && <venv>/bin/python pair_cpu.py [--rounds N] [--defaults] [EXAMPLES_DIR]
"""

import argparse
import os
import re
import statistics
import subprocess

import update_by_cpu

KEPT = {"MALLOC_TRIM_THRESHOLD_": "4000000000", "MALLOC_MMAP_THRESHOLD_": "4000000000"}
OURS = [["update_by_cpu", "0"], ["update_by_cpu", "1"], ["update_by_cpu", "2"], ["aj_cpu"]]


def ours(examples, command, env):
    out = subprocess.run(
        [os.path.join(examples, command[0]), *command[1:], "best"],
        env={**os.environ, **env},
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    found = re.search(r"best of 5 ([0-9.]+) ms .*?(\d+) page faults", out)
    return float(found[1]) / 1e3, int(found[2])


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--defaults", action="store_true", help="also ours under glibc's defaults")
    parser.add_argument("examples", nargs="?", default=os.path.join(here, "../../target/release/examples"))
    args = parser.parse_args()
    settings = [("memory kept", KEPT)] + ([("glibc defaults", {})] if args.defaults else [])
    for (name, rows, make), command in zip(update_by_cpu.cases(), OURS):
        run = make()
        ratios = {s: [] for s, _ in settings}
        for r in range(args.rounds):
            line, times = [], {}
            for turn in range(2):
                if (turn + r) % 2 == 0:
                    theirs, faults = update_by_cpu.best_of_5(run)
                    line.append(f"pandas {theirs * 1e3:.1f} ms ({faults:.0f} faults)")
                else:
                    for setting, env in settings:
                        times[setting], our_faults = ours(args.examples, command, env)
                        line.append(f"ours, {setting} {times[setting] * 1e3:.2f} ms ({our_faults} faults)")
            # Each of ours against the pandas run of its round.
            for setting, t in times.items():
                ratios[setting].append(theirs / t)
            print(f"{name}, round {r + 1}: " + "; ".join(line), flush=True)
        for setting, rs in ratios.items():
            shown = ", ".join(f"{x:.1f}" for x in rs)
            print(
                f"{name}, {setting}: {rows / 1e6:.0f}M rows, x pandas median {statistics.median(rs):.1f}, "
                f"least {min(rs):.1f} ({shown})",
                flush=True,
            )


if __name__ == "__main__":
    main()
