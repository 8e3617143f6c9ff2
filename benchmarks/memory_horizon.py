"""Peak memory of a whole ``caseflow run`` against the horizon: does it stay flat?

Run:  .venv/bin/python benchmarks/memory_horizon.py [--years 5 10 20 40] [--replications 2]
          [--workers 2] [--set organisation.contacts_scale=20] [--scenario FILE]

For each horizon the command runs as a child process (``python -m sim.cli run ... --yes``,
results into a temporary folder). While it runs, the resident memory of the child and of all
its descendants (the pool's workers) is read from ``/proc`` every 50 ms; the peak of that sum
is "tree". "largest" is the peak of the largest single process (``ru_maxrss`` of the children,
from the kernel: exact, but not a sum). Linux only (``/proc``).

``--where`` says what grows instead: one replication per horizon in this process under
``tracemalloc``, a snapshot when the run ends (before it is freed), and the source lines whose
live memory grew most from the shortest horizon to the longest (tracing makes the run about
three times slower). A script, not a test: figures belong in docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = os.sysconf("SC_PAGE_SIZE")


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def _rss(pid: int) -> int:
    """Resident bytes of one process (0 once it has gone)."""
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


def tree_rss(pid: int) -> tuple[int, int]:
    """Resident bytes of ``pid`` and all its descendants, and how many processes that was."""
    total, count, todo = 0, 0, [pid]
    while todo:
        p = todo.pop()
        total += _rss(p)
        count += 1
        todo.extend(_children(p))
    return total, count


def measure(command: list[str], interval: float = 0.05) -> dict[str, float]:
    """Run ``command``; its wall time, the peak of the tree's summed RSS, the most processes
    seen at once, and the largest single process's peak (``ru_maxrss``, in bytes)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.monotonic()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak, most = 0, 0
    while proc.poll() is None:
        total, count = tree_rss(proc.pid)
        peak, most = max(peak, total), max(most, count)
        time.sleep(interval)
    wall = time.monotonic() - started
    if proc.returncode != 0:
        sys.exit(f"the command failed ({proc.returncode}): {proc.stderr.read().decode()[-2000:]}")
    largest = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    return {
        "wall": wall,
        "tree": float(peak),
        "processes": float(most),
        # ru_maxrss of the children is a maximum over all children waited for so far: only
        # meaningful when it grew (horizons in increasing order make the last one count)
        "largest": float(largest) if largest > before * 1024 else float("nan"),
    }


def where(scenario: str, overrides: list[str], horizons: list[float], top: int = 12) -> None:
    """Print the source lines whose live memory at a run's end grew most with the horizon."""
    from sim import load_scenarios
    from sim.model.caseload import CaseloadModel

    snapshots = []
    for years in (min(horizons), max(horizons)):
        resolved = load_scenarios(scenario, overrides, years=years)[0]
        tracemalloc.start()
        model = CaseloadModel(resolved, 0)
        model.run()
        snapshots.append(tracemalloc.take_snapshot())
        tracemalloc.stop()
        model.release()
        del model
    short, long = min(horizons), max(horizons)
    total = sum(s.size for s in snapshots[1].statistics("filename")) / 1e6
    print(f"live at the end of the run: {total:.0f} MB traced after {long:g} years")
    print(f"growth from {short:g} to {long:g} years, MB per simulated year, by source line:")
    for stat in snapshots[1].compare_to(snapshots[0], "lineno")[:top]:
        frame = stat.traceback[0]
        file = Path(frame.filename)
        shown = file.relative_to(ROOT) if ROOT in file.parents else file
        print(
            f"  {stat.size_diff / 1e6 / (long - short):6.2f}  ({stat.size / 1e6:6.1f} MB, "
            f"{stat.count:8d} blocks)  {shown}:{frame.lineno}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scenario", default=str(ROOT / "scenarios" / "baseline.toml"))
    parser.add_argument("--years", type=float, nargs="+", default=[5, 10, 20, 40])
    parser.add_argument("--replications", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=None,
        help="scenario overrides (default: organisation.contacts_scale=20, the city scale)",
    )
    parser.add_argument("--where", action="store_true", help="what grows (tracemalloc)")
    args = parser.parse_args()
    overrides = args.overrides or ["organisation.contacts_scale=20"]
    if args.where:
        where(args.scenario, overrides, args.years)
        return
    print(f"python {sys.version.split()[0]}, {Path(args.scenario).name} {' '.join(overrides)}")
    print(f"{args.replications} replications, {args.workers} workers")
    print("years  wall s  peak tree MB  processes  largest process MB")
    for years in sorted(args.years):
        with tempfile.TemporaryDirectory() as tmp:
            command = [sys.executable, "-m", "sim.cli", "run", args.scenario, "--years",
                       f"{years:g}", "--replications", str(args.replications), "--workers",
                       str(args.workers), "--out", str(Path(tmp) / "out"), "--yes"]  # fmt: skip
            for override in overrides:
                command += ["--set", override]
            m = measure(command)
        print(
            f"{years:5g}  {m['wall']:6.1f}  {m['tree'] / 1e6:12.0f}  {m['processes']:9.0f}  "
            f"{m['largest'] / 1e6:18.0f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
