"""Time a worker's whole job in two work trees, alternating: ``run_replication`` in-process.

Run:  .venv/bin/python benchmarks/replications_ab.py TREE_A TREE_B
          [--scenario scenarios/city_2003.toml] [--years 10] [--replications 1] [--pairs 3]

In each pair, each tree runs as a process of its own (its sources on the path, its own compiled
build if current): it imports what a run imports, then times ``run_replication`` for
replications 0 to N-1, with the scenario's warm-up, which is what a replication worker does
for each replication it is given (set-up, the run, the tables, the KPIs). The order within a
pair alternates. Prints each run's seconds and peak memory, then the medians. The machine's
timings drift by up to three times within an hour: only alternated pairs compare two trees.
The figures of steps 47-52 in docs/performance.md were measured this way.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path


def child(scenario: str, years: float, replications: int) -> None:
    """Time the replications here (run inside a tree) and print one line."""
    import resource
    import time

    import pandas  # noqa: F401  # imported lazily by a run: imported here, outside the timing
    import scipy.special
    import scipy.special.cython_special  # noqa: F401

    from sim import compiled, load_scenarios
    from sim.experiments.runner import run_replication

    resolved = load_scenarios(scenario, [], years=years)[0]
    start = time.perf_counter()
    for replication in range(replications):
        run_replication(resolved, replication)
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(f"{compiled.implementation()} {seconds:.3f} {peak_mb}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("trees", nargs=2, type=Path)
    parser.add_argument("--scenario", default="scenarios/city_2003.toml")
    parser.add_argument("--years", type=float, default=10)
    parser.add_argument("--replications", type=int, default=1)
    parser.add_argument("--pairs", type=int, default=3)
    args = parser.parse_args()
    trees = [tree.resolve() for tree in args.trees]
    times: dict[Path, list[float]] = {tree: [] for tree in trees}
    for pair in range(args.pairs):
        for tree in trees if pair % 2 == 0 else trees[::-1]:
            environment = {**os.environ, "PYTHONPATH": str(tree), "OPENBLAS_NUM_THREADS": "1"}
            command = [sys.executable, __file__, "--child", args.scenario, str(args.years)]
            command.append(str(args.replications))
            words = subprocess.run(
                command, cwd=tree, env=environment, capture_output=True, text=True, check=True
            ).stdout.split()
            # the build may be several words: "python (CASEFLOW_PURE is set)"
            build, seconds, peak = " ".join(words[:-2]), float(words[-2]), words[-1]
            times[tree].append(seconds)
            print(f"pair {pair + 1}: {tree} ({build}) {seconds:.3f} s, peak {peak} MB", flush=True)
    for tree, runs in times.items():
        print(f"{tree}: median {statistics.median(runs):.3f} s over {len(runs)} runs")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], float(sys.argv[3]), int(sys.argv[4]))
    else:
        main()
