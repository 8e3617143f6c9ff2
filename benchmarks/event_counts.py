"""Count the events one replication schedules, by kind, per household-year, and time them.

Run:  .venv/bin/python benchmarks/event_counts.py [--scenario PATH] [--years Y]

Wraps the model's scheduling calls on one instance to count what is scheduled, which
household wake-ups found something to do, and the time spent in each kind of handler (the
wrapping adds about 0.4 microseconds per timed event). The figures go into docs/performance.md.
Wrapping methods needs the Python model, so this script always runs it (not the compiled build).
"""

from __future__ import annotations

import argparse
import os
import time
from collections import Counter
from pathlib import Path
from typing import Any

os.environ["CASEFLOW_PURE"] = "1"  # compiled classes cannot have methods wrapped

from sim import load_scenarios
from sim.model.caseload import CaseloadModel
from sim.model.household import Household

ROOT = Path(__file__).resolve().parent.parent
LABELS = {
    "_wake": "household clock (exit, follow-up, eligibility)",
    "_finish": "first visit ends",
    "_arrive": "booked contact arrives",
    "decide": "decision",
    "transfer": "hand-over (split organisation)",
    "return_contact": "return",
    "close_short_need": "short need ends",
    "_end": "AR programme ends",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scenario", default=str(ROOT / "scenarios" / "baseline.toml"))
    parser.add_argument("--years", type=float, default=10)
    args = parser.parse_args()
    resolved = load_scenarios(args.scenario, ["warmup_days=0"], years=args.years)[0]
    model = CaseloadModel(resolved, 0)
    scheduled: Counter[str] = Counter()
    seconds: Counter[str] = Counter()
    wakes: Counter[str] = Counter()
    after = model.env.clock.call_later

    def counting_after(delay: float, action: Any, *a: Any) -> None:
        name = getattr(action, "__name__", str(action))
        label = LABELS.get(name, name)
        scheduled[label] += 1

        def timed(*b: Any) -> None:
            if name == "_wake":  # queued unbound: (the path, the household, its token)
                count_wake(b[-2], b[-1])
            t0 = time.perf_counter()
            action(*b)
            seconds[label] += time.perf_counter() - t0

        after(delay, timed, *a)

    def count_wake(hh: Household, token: int) -> None:
        if hh.closed or token != hh.wake_token:
            wakes["stale (re-rated earlier, or closed)"] += 1
        else:
            t = min(hh.exit_day, hh.follow_up_day, hh.ar_eligible_day)
            if t > hh.wake_day:
                wakes["early (its clock moved later)"] += 1
            elif hh.ar_eligible_day == t:
                wakes["AR eligibility"] += 1
            elif hh.follow_up_day == t:
                wakes["follow-up change"] += 1
            else:
                wakes["exit"] += 1

    # every part schedules through the environment's clock
    clock = model.env.clock
    clock.call_later = counting_after  # type: ignore[method-assign]
    clock.call_later_1 = counting_after  # type: ignore[method-assign,assignment]
    clock.call_later_2 = counting_after  # type: ignore[method-assign,assignment]
    clock.call_later_3 = counting_after  # type: ignore[method-assign,assignment]
    t0 = time.perf_counter()
    output = model.run()
    wall = time.perf_counter() - t0
    total = next(model.env._eid)  # SimPy numbers every scheduled event: the next id = count

    horizon = model.end
    episodes = output.episodes
    ends = episodes["end_day"].fillna(horizon).clip(upper=horizon)
    starts = episodes["start_day"].clip(lower=0.0)
    household_years = float((ends - starts).clip(lower=0.0).sum()) / 365.25
    print(f"{args.scenario}, {args.years:g} years, 1 replication")
    print(
        f"{total} SimPy events, {household_years:,.0f} household-years, "
        f"{total / household_years:.2f} per household-year"
    )
    print(f"{'scheduled by the model':48s} {'events':>8s} {'per hh-year':>12s} {'us each':>8s}")
    for name, n in scheduled.most_common():
        each = seconds[name] / n * 1e6
        print(f"{name:48s} {n:8d} {n / household_years:12.2f} {each:8.1f}")
    rest = total - sum(scheduled.values())
    print(f"{'other (staff, months, changes)':48s} {rest:8d} {rest / household_years:12.2f}")
    handlers = sum(seconds.values())
    print(
        f"run {wall:.2f} s (timed): handlers {handlers:.2f} s, "
        f"SimPy, staff and months {wall - handlers:.2f} s"
    )
    print("household wake-ups by outcome:")
    for name, n in wakes.most_common():
        print(f"  {name:40s} {n:8d}")
    idle = wakes["stale (re-rated earlier, or closed)"] + wakes["early (its clock moved later)"]
    print(f"events that change nothing: {idle} of {total} ({idle / total:.0%})")


if __name__ == "__main__":
    main()
