"""One compiled baseline replication, for counting instructions with callgrind.

Run:  valgrind --tool=callgrind --toggle-collect='CPyDef_caseload___CaseloadModel___run' \\
          .venv/bin/python benchmarks/one_replication.py [SCENARIO] [--years Y]

Counts only inside ``CaseloadModel.run`` (the compiled model's C function), after importing
what a run imports lazily (pandas, ``scipy.special`` and its Cython entry), so that the count
is the same whatever the hour: the instruction counts of docs/performance.md's steps 20-38.
``callgrind_annotate --inclusive=yes callgrind.out.PID`` then lists the costs by function.
Without valgrind it runs the replication and prints its events.
"""

from __future__ import annotations

import argparse

import pandas  # noqa: F401  # imported lazily by a run: imported here, outside the count
import scipy.special
import scipy.special.cython_special  # noqa: F401

from sim import compiled, load_scenarios
from sim.model.caseload import CaseloadModel


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("scenario", nargs="?", default="scenarios/baseline.toml")
    parser.add_argument("--years", type=float, default=10)
    args = parser.parse_args()
    resolved = load_scenarios(args.scenario, ["warmup_days=0"], years=args.years)[0]
    model = CaseloadModel(resolved, 1)
    model.run()
    print(f"{compiled.implementation()}: {model.env.clock.ids.count} events")
    model.release()


if __name__ == "__main__":
    main()
