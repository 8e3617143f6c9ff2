"""Model time per scheduled SimPy event, for comparing two versions of the code back to back.

Run:  .venv/bin/python benchmarks/per_event.py SCENARIO [--years Y] [--replications N]

Runs N replications in this process (no warm-up, the build in use: compiled if current) and
prints seconds per replication, events per replication and microseconds per event. To compare
with an earlier commit, check it out in a worktree, compile it there
(`PYTHONPATH=WORKTREE .venv/bin/caseflow compile`) and alternate
`cd WORKTREE && PYTHONPATH=WORKTREE /path/to/.venv/bin/python benchmarks/per_event.py ...`
with this tree several times: the machine drifts, so compare medians.
"""

from __future__ import annotations

import argparse
import time

from sim import compiled, load_scenarios
from sim.model.caseload import CaseloadModel


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("scenario")
    parser.add_argument("--years", type=float, default=10)
    parser.add_argument("--replications", type=int, default=12)
    args = parser.parse_args()
    resolved = load_scenarios(
        args.scenario, ["warmup_days=0"], years=args.years, replications=args.replications
    )[0]
    t0 = time.perf_counter()
    events = 0
    for i in range(args.replications):
        model = CaseloadModel(resolved, i)
        model.run()
        events += next(model.env._eid)  # SimPy numbers every scheduled event
        model.release()
    wall = time.perf_counter() - t0
    n = args.replications
    print(
        f"{compiled.implementation()}: {wall / n:.3f} s per replication, {events / n:.0f} events, "
        f"{1e6 * wall / events:.2f} us per event"
    )


if __name__ == "__main__":
    main()
