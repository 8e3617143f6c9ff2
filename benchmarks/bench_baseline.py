"""Time the baseline: 10 simulated years x 100 replications, with 1 and 2 worker processes.

Run:  .venv/bin/python benchmarks/bench_baseline.py [--replications N] [--years Y]

Prints wall time per configuration and checks that both give identical summaries. This is a
script, not a test: timings belong in docs/performance.md, not in assertions.
"""

from __future__ import annotations

import argparse
import platform
import random
import time
from pathlib import Path

import pandas as pd
import simpy

from sim import compiled, load_scenarios, run_scenario
from sim.model.caseload import CaseloadModel

ROOT = Path(__file__).resolve().parent.parent


def bare_simpy(n_events: int, pending: int = 500) -> float:
    """Wall time of SimPy alone running ``n_events`` timeouts with a trivial callback each,
    with about ``pending`` events waiting in its queue at any time."""
    env = simpy.Environment()
    rng = random.Random(1)
    fired = [0]

    def again(_event: simpy.Event) -> None:
        fired[0] += 1
        if fired[0] < n_events:
            env.timeout(rng.random()).callbacks.append(again)

    for _ in range(pending):
        env.timeout(rng.random()).callbacks.append(again)
    t0 = time.perf_counter()
    env.run()
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scenario", default=str(ROOT / "scenarios" / "baseline.toml"))
    parser.add_argument("--replications", type=int, default=100)
    parser.add_argument("--years", type=float, default=10)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    resolved = load_scenarios(
        args.scenario, ["warmup_days=0"], years=args.years, replications=args.replications
    )[0]  # 10 simulated years in all: no warm-up on top
    print(f"python {platform.python_version()} on {platform.machine()}, {args.scenario}")
    print(f"model build: {compiled.implementation()}")

    model = CaseloadModel(resolved, 0)
    t0 = time.perf_counter()
    model.run()
    single = time.perf_counter() - t0
    events = next(model.env._eid)  # SimPy numbers every scheduled event: the next id = count
    print(f"one replication: {single:.2f} s, {events} events scheduled")
    bare = bare_simpy(events)
    print(f"bare SimPy, same number of events: {bare:.2f} s; model / bare = {single / bare:.1f}")

    summaries = {}
    for workers in args.workers:
        t0 = time.perf_counter()
        results = run_scenario(resolved, workers=workers)
        wall = time.perf_counter() - t0
        summaries[workers] = results.summary
        print(
            f"{args.replications} replications x {args.years:g} years, {workers} worker(s): "
            f"{wall:.1f} s wall"
        )
    first = summaries[args.workers[0]]
    for summary in summaries.values():
        pd.testing.assert_frame_equal(first, summary)
    print("summaries identical across worker counts: yes")


if __name__ == "__main__":
    main()
