"""Compare the model's speed in two work trees, one replication at a time, alternating.

Run:  .venv/bin/python benchmarks/alternate.py TREE_A TREE_B [--rounds N]

Each tree gets a worker process of its own (its sources on the path, its own compiled build if
current; ``CASEFLOW_PURE=1`` times the Python builds). In each round both run the same
baseline replication (10 years, no warm-up), in alternating order, each followed by bare SimPy
with the same number of events (as ``bench_baseline.py``). The machine's timings drift by up
to 3 times within an hour, so only alternation this fine gives comparable medians. Prints, per
tree, the median model time per replication, microseconds per event and model / bare.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path


def worker() -> None:
    """Answer ``run I`` (one replication) and ``bare N`` (bare SimPy) on stdin, in JSON."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_baseline import bare_simpy

    from sim import compiled, load_scenarios
    from sim.model.caseload import CaseloadModel

    root = Path.cwd()
    resolved = load_scenarios(
        root / "scenarios" / "baseline.toml", ["warmup_days=0"], years=10, replications=100
    )[0]
    print(json.dumps({"build": compiled.implementation()}), flush=True)
    for line in sys.stdin:
        command, arg = line.split()
        if command == "run":
            model = CaseloadModel(resolved, int(arg))
            t0 = time.perf_counter()
            model.run()
            seconds = time.perf_counter() - t0
            events = next(model.env._eid)  # SimPy numbers every scheduled event
            model.release()
            print(json.dumps({"seconds": seconds, "events": events}), flush=True)
        else:
            print(json.dumps({"seconds": bare_simpy(int(arg))}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("trees", nargs=2, type=Path)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    workers = {}
    for tree in args.trees:
        env = dict(os.environ, PYTHONPATH=str(tree.resolve()))
        process = subprocess.Popen(
            [sys.executable, __file__, "--worker"],
            cwd=tree,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert process.stdout is not None
        print(tree, json.loads(process.stdout.readline())["build"])
        workers[tree] = process

    def ask(process: subprocess.Popen[str], command: str) -> dict[str, float]:
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(command + "\n")
        process.stdin.flush()
        answer: dict[str, float] = json.loads(process.stdout.readline())
        return answer

    runs: dict[Path, list[tuple[float, float, float]]] = {tree: [] for tree in args.trees}
    for r in range(args.rounds):
        for tree in args.trees if r % 2 == 0 else args.trees[::-1]:
            run = ask(workers[tree], f"run {r % 10}")
            bare = ask(workers[tree], f"bare {int(run['events'])}")
            runs[tree].append((run["seconds"], run["events"], bare["seconds"]))
    for tree, values in runs.items():
        seconds = statistics.median(s for s, _, _ in values)
        per_event = statistics.median(1e6 * s / e for s, e, _ in values)
        ratio = statistics.median(s / b for s, _, b in values)
        print(
            f"{tree}: {len(values)} replications, median {1e3 * seconds:.1f} ms, "
            f"{per_event:.2f} us per event, model / bare {ratio:.2f}"
        )
    for process in workers.values():
        assert process.stdin is not None
        process.stdin.close()
        process.wait()


if __name__ == "__main__":
    if sys.argv[1:] == ["--worker"]:
        worker()
    else:
        main()
