"""Experiments: replications of a scenario, run in-process or on a local process pool.

A task is a whole replication. Each replication's random streams depend only on the seed and
its number, and results are gathered in replication order, so the numbers are the same whatever
the number of workers.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import pandas as pd

from .metrics import replication_kpis, summarise
from .model import CaseloadModel
from .scenario import ResolvedScenario

ProgressCallback = Callable[[int, int], None]


@dataclass
class ScenarioResults:
    """Tidy results of all replications of one scenario."""

    resolved: ResolvedScenario
    monthly: pd.DataFrame
    per_replication: pd.DataFrame
    summary: pd.DataFrame
    events: pd.DataFrame | None = None


@dataclass
class ReplicationResult:
    replication: int
    monthly: pd.DataFrame
    kpis: dict[str, float]
    events: pd.DataFrame | None = None


def run_replication(
    resolved: ResolvedScenario, replication: int, events: bool = False
) -> ReplicationResult:
    """Run one replication and reduce it to its monthly rows and KPIs (and event log)."""
    model = CaseloadModel(resolved, replication, events=events)
    output = model.run()
    kpis = replication_kpis(output, model.first_day, model.report_from, model.end)
    monthly = output.monthly
    monthly.insert(0, "replication", replication)
    log = output.events
    if log is not None:
        log.insert(0, "replication", replication)
    return ReplicationResult(replication, monthly, kpis, log)


def default_workers() -> int:
    return max(os.cpu_count() or 1, 1)


def run_scenario(
    resolved: ResolvedScenario,
    *,
    workers: int | None = None,
    progress: ProgressCallback | None = None,
    events: bool = False,
) -> ScenarioResults:
    """All replications of ``resolved`` (``scenario.replications`` of them).

    ``events=True`` also keeps every household's event log (larger and slower).
    """
    reps = list(range(resolved.scenario.replications))
    results = _map(resolved, reps, workers or default_workers(), progress, events)
    return _collect(resolved, results)


def _map(
    resolved: ResolvedScenario,
    reps: Sequence[int],
    workers: int,
    progress: ProgressCallback | None,
    events: bool,
) -> list[ReplicationResult]:
    out: list[ReplicationResult] = []
    if workers <= 1 or len(reps) <= 1:
        for rep in reps:
            out.append(run_replication(resolved, rep, events))
            if progress:
                progress(len(out), len(reps))
        return out
    with ProcessPoolExecutor(max_workers=min(workers, len(reps))) as pool:
        n = len(reps)
        for result in pool.map(run_replication, [resolved] * n, reps, [events] * n):
            out.append(result)
            if progress:
                progress(len(out), len(reps))
    return out


def _collect(resolved: ResolvedScenario, results: list[ReplicationResult]) -> ScenarioResults:
    results = sorted(results, key=lambda r: r.replication)
    monthly = pd.concat([r.monthly for r in results], ignore_index=True)
    per_rep = pd.DataFrame([{"replication": r.replication, **r.kpis} for r in results])
    logs = [r.events for r in results if r.events is not None]
    events = pd.concat(logs, ignore_index=True) if logs else None
    return ScenarioResults(resolved, monthly, per_rep, summarise(per_rep), events)
