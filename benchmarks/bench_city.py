"""Time the city-scale scenario: ~15 000 open households, 14 districts, one replication.

Run:  .venv/bin/python benchmarks/bench_city.py [--years Y]

Prints the wall time, the number of SimPy events scheduled, and the time of bare SimPy running
as many events with as many pending as the model had open households. A script, not a test.
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

from bench_baseline import bare_simpy  # the scripts' folder is on the path when run

from sim import compiled, load_scenarios
from sim.model.caseload import CaseloadModel

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--years", type=float, default=10)
    args = parser.parse_args()
    resolved = load_scenarios(
        ROOT / "scenarios" / "city_2003.toml", ["warmup_days=0"], years=args.years
    )[0]  # the simulated years in all: no warm-up on top
    model = CaseloadModel(resolved, 0)
    t0 = time.perf_counter()
    output = model.run()
    wall = time.perf_counter() - t0
    households = output.monthly["households"].mean()
    print(f"python {platform.python_version()}, city_2003, {args.years:g} years, 1 replication")
    print(f"model build: {compiled.implementation()}")
    events = next(model.env._eid)  # SimPy numbers every scheduled event: the next id = count
    print(f"wall {wall:.1f} s, {events} events, {households:,.0f} households per month")
    pending = round(households)
    bare = bare_simpy(events, pending)
    print(
        f"bare SimPy, same number of events, {pending} pending: {bare:.1f} s; "
        f"model / bare = {wall / bare:.1f}"
    )


if __name__ == "__main__":
    main()
