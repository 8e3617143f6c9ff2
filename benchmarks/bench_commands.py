"""Time whole commands as a user types them, beside a bare-SimPy reference in the same run.

Run:  .venv/bin/python benchmarks/bench_commands.py [--rounds N] [--quick] [--only TEXT]
                                                     [--before CHECKOUT]

Each command runs as its own process (start-up, imports, warm-up, the run, CSV files, figures
and the report, all counted), alternating with the reference: a bare SimPy M/M/10 queue of
200 000 customers (``simpy.Resource``, exponential arrivals at rate 9 and service at rate 1),
also as its own process. Machines here drift threefold between hours, so the script prints
medians and each command's ratio to the reference's median of the same run; quote ratios.
``--before CHECKOUT`` also times each command from another checkout of the repository (an
earlier commit in a git worktree, with its own ``caseflow compile``), alternating with this one
in every round, so a change is measured back to back on the same hour.
A script, not a test: the figures go into docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASEFLOW = [sys.executable, "-m", "sim.cli"]

REFERENCE = """
import random, simpy
env = simpy.Environment()
servers = simpy.Resource(env, capacity=10)
rng = random.Random(1)
def customer(env):
    with servers.request() as req:
        yield req
        yield env.timeout(rng.expovariate(1.0))
def arrivals(env, n):
    for _ in range(n):
        yield env.timeout(rng.expovariate(9.0))
        env.process(customer(env))
env.process(arrivals(env, 200_000))
env.run()
"""


def commands(out: Path, quick: bool) -> dict[str, list[str]]:
    """The commands timed, by the name the table shows."""
    years = ["--years", "1", "--replications", "4"] if quick else []
    runs = {
        "caseflow --help": [*CASEFLOW, "--help"],
        "caseflow validate baseline": [*CASEFLOW, "validate", "scenarios/baseline.toml"],
        "caseflow schema": [*CASEFLOW, "schema"],
        "caseflow run baseline (make run)": [
            *CASEFLOW, "run", "scenarios/baseline.toml", "--out", str(out / "run"), *years,
        ],
        "run baseline 100 x 10 years, 2 workers": [
            *CASEFLOW, "run", "scenarios/baseline.toml", "--out", str(out / "big"),
            "--replications", "100", "--years", "10", "--workers", "2",
        ],
        "compare baseline vs fewer social workers": [
            *CASEFLOW, "compare", "scenarios/baseline.toml",
            "scenarios/fewer_ongoing_social_workers.toml", "--out", str(out / "cmp"), *years,
        ],
        "run city_2003, 10 years, 1 replication": [
            *CASEFLOW, "run", "scenarios/city_2003.toml", "--out", str(out / "city"),
            "--replications", "1", "--years", "10",
        ],
        # a fresh study each round (the same journal would resume: no trial left to run)
        "optimise staffing_2015 (80 trials x 10 replications)": [
            "sh", "-c", f'rm -f "{out}/study.journal" && exec "$0" "$@"', *CASEFLOW,
            "optimise", "scenarios/optimise/staffing_2015.toml", "--out", str(out / "opt"),
            "--study", str(out / "study.journal"),
        ],
    }  # fmt: skip
    if quick:
        runs.pop("run baseline 100 x 10 years, 2 workers")
        runs.pop("optimise staffing_2015 (80 trials x 10 replications)")
        runs["run city_2003, 10 years, 1 replication"][-1] = "1"
    return runs


def timed(argv: list[str], checkout: Path = ROOT) -> float:
    """Wall seconds of one process run from ``checkout`` (its ``sim`` first on the path; it
    must succeed)."""
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    t0 = time.perf_counter()
    subprocess.run(argv, cwd=checkout, check=True, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="small runs (a smoke check)")
    parser.add_argument("--only", help="time only the commands whose name contains this")
    parser.add_argument("--before", type=Path, help="another checkout, timed alternately")
    args = parser.parse_args()
    out = Path(tempfile.mkdtemp(prefix="caseflow-bench-"))
    checkouts = {"": ROOT} if args.before is None else {"": ROOT, " (before)": args.before}
    try:
        runs = commands(out, args.quick)
        if args.only:
            runs = {name: argv for name, argv in runs.items() if args.only in name}
        seconds: dict[str, list[float]] = {n + c: [] for n in runs for c in checkouts}
        reference: list[float] = []
        bare: list[float] = []
        for _ in range(args.rounds):
            for name, argv in runs.items():
                for suffix, checkout in checkouts.items():
                    reference.append(timed([sys.executable, "-c", REFERENCE]))
                    seconds[name + suffix].append(timed(argv, checkout))
            bare.append(timed([sys.executable, "-c", "pass"]))
        ref = statistics.median(reference)
        print(f"reference (bare SimPy M/M/10, 200 000 customers): median {ref:.2f} s")
        print(f"bare `python -c pass`: median {statistics.median(bare):.3f} s")
        print(f"{'command':56s} {'median s':>9s} {'/ reference':>12s}  runs")
        for name, values in seconds.items():
            median = statistics.median(values)
            runs_text = " ".join(f"{v:.2f}" for v in values)
            print(f"{name:56s} {median:9.2f} {median / ref:11.2f}x  {runs_text}")
    finally:
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
