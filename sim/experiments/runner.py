"""Experiments: replications of scenarios, run in-process or on a local process pool, and
paired comparisons of alternatives under common random numbers.

A task is a whole replication of one scenario. Each replication's random streams depend only on
the seed and its number, and results are gathered in task order, so the numbers are the same
whatever the number of workers.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace

import pandas as pd

from ..inputs.scenario import ResolvedScenario
from ..metrics import replication_kpis, summarise
from ..model.caseload import CaseloadModel, rare_garbage_collection
from .paired import paired_differences
from .stopping import ReplicationRule, RuleOutcome, decide

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


@dataclass
class ComparisonResults:
    """A base and its alternatives, run with common random numbers, and their differences."""

    base: ScenarioResults
    alternatives: list[ScenarioResults]
    differences: pd.DataFrame


def run_replication(
    resolved: ResolvedScenario, replication: int, events: bool = False
) -> ReplicationResult:
    """Run one replication and reduce it to its monthly rows and KPIs (and event log)."""
    # Collections stay rare until the run has been freed: restoring the usual thresholds
    # while the run is alive would make the collector scan all of it (see ``release``).
    with rare_garbage_collection():
        model = CaseloadModel(resolved, replication, events=events)
        output = model.run()
        kpis = replication_kpis(output, model.first_day, model.report_from, model.end)
        model.release()
        del model
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
    cluster: str | None = None,
) -> ScenarioResults:
    """All replications of ``resolved`` (``scenario.replications`` of them).

    ``events=True`` also keeps every household's event log (larger and slower); ``cluster`` is
    a Dask scheduler address to run on instead of local processes.
    """
    return run_scenarios(
        [resolved], workers=workers, progress=progress, events=events, cluster=cluster
    )[0]


def run_scenarios(
    resolved_list: Sequence[ResolvedScenario],
    *,
    workers: int | None = None,
    progress: ProgressCallback | None = None,
    events: bool = False,
    cluster: str | None = None,
) -> list[ScenarioResults]:
    """All replications of several scenarios, sharing one pool of workers (or a cluster)."""
    tasks = [
        (i, rep) for i, r in enumerate(resolved_list) for rep in range(r.scenario.replications)
    ]
    done = _map(
        resolved_list, tasks, workers or default_workers(), progress, events, cluster=cluster
    )
    out = []
    for i, resolved in enumerate(resolved_list):
        mine = [result for (j, _rep), result in zip(tasks, done, strict=True) if j == i]
        out.append(_collect(resolved, mine))
    return out


def compare_scenarios(
    base: ResolvedScenario,
    alternatives: Sequence[ResolvedScenario],
    *,
    workers: int | None = None,
    progress: ProgressCallback | None = None,
    cluster: str | None = None,
) -> ComparisonResults:
    """Run base and alternatives with the base's seed and replications (common random numbers)
    and give, per KPI, each alternative's paired difference from the base with its interval."""
    aligned = [_align(alt, base) for alt in alternatives]
    results = run_scenarios([base, *aligned], workers=workers, progress=progress, cluster=cluster)
    base_results, alt_results = results[0], results[1:]
    differences = pd.concat(
        [
            paired_differences(base_results.per_replication, alt.per_replication, alt.resolved.name)
            for alt in alt_results
        ],
        ignore_index=True,
    )
    return ComparisonResults(base_results, alt_results, differences)


def _align(alternative: ResolvedScenario, base: ResolvedScenario) -> ResolvedScenario:
    """The alternative with the base's seed and replications, so draws are shared."""
    scenario = alternative.scenario.model_copy(
        update={"seed": base.scenario.seed, "replications": base.scenario.replications}
    )
    return replace(alternative, scenario=scenario)


DASK_CONNECT_TIMEOUT = "20s"


class ClusterError(Exception):
    """The Dask cluster cannot be used (not installed, or not reachable)."""


def _map_dask(
    address: str,
    scenarios: Sequence[ResolvedScenario],
    reps: Sequence[int],
    events: bool,
    progress: ProgressCallback | None,
) -> list[ReplicationResult]:
    """Run replications as tasks on a Dask cluster; results come back in task order."""
    try:
        from dask.distributed import Client
    except ImportError:
        raise ClusterError(
            "--cluster needs dask.distributed: pip install 'caseflow[dask]'"
        ) from None
    try:
        client = Client(address, timeout=DASK_CONNECT_TIMEOUT)  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError) as exc:
        raise ClusterError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    out: list[ReplicationResult] = []
    with client:
        futures = client.map(
            run_replication, list(scenarios), list(reps), [events] * len(reps), pure=False
        )
        for future in futures:
            out.append(future.result())
            if progress:
                progress(len(out), len(futures))
    return out


def _map(
    resolved_list: Sequence[ResolvedScenario],
    tasks: Sequence[tuple[int, int]],
    workers: int,
    progress: ProgressCallback | None,
    events: bool,
    pool: ProcessPoolExecutor | None = None,
    cluster: str | None = None,
) -> list[ReplicationResult]:
    """Run the tasks (scenario index, replication) and return results in task order: in this
    process, on a local process pool, or on a Dask cluster (``cluster`` = scheduler address)."""
    out: list[ReplicationResult] = []
    if cluster:
        scenarios = [resolved_list[i] for i, _ in tasks]
        return _map_dask(cluster, scenarios, [rep for _, rep in tasks], events, progress)
    if pool is None and (workers <= 1 or len(tasks) <= 1):
        for i, rep in tasks:
            out.append(run_replication(resolved_list[i], rep, events))
            if progress:
                progress(len(out), len(tasks))
        return out
    scenarios = [resolved_list[i] for i, _ in tasks]
    reps = [rep for _, rep in tasks]
    own = pool is None
    executor = pool or ProcessPoolExecutor(max_workers=min(workers, len(tasks)))
    try:
        for result in executor.map(run_replication, scenarios, reps, [events] * len(tasks)):
            out.append(result)
            if progress:
                progress(len(out), len(tasks))
    finally:
        if own:
            executor.shutdown(cancel_futures=True)
    return out


def run_until_precise(
    resolved: ResolvedScenario,
    rule: ReplicationRule,
    *,
    workers: int | None = None,
    progress: ProgressCallback | None = None,
) -> tuple[ScenarioResults, RuleOutcome]:
    """Add replications until the chosen KPIs' intervals are within the rule's precision
    (``--replications auto``), or the cap is reached. The results use exactly the replications
    the rule looked at, so they do not depend on how many were run in parallel."""
    workers = workers or default_workers()
    results: list[ReplicationResult] = []
    pool = ProcessPoolExecutor(max_workers=workers) if workers > 1 else None
    try:
        while True:
            start = len(results)
            size = rule.initial if start == 0 else max(workers, 1)
            tasks = [(0, rep) for rep in range(start, min(start + size, rule.cap))]
            results.extend(_map([resolved], tasks, workers, None, False, pool))
            per_rep = pd.DataFrame([{"replication": r.replication, **r.kpis} for r in results])
            outcome, done = decide(per_rep, rule)
            if progress:
                progress(len(results), rule.cap)
            if done or len(results) >= rule.cap:
                break
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    used = results[: outcome.used]
    final = replace(
        resolved, scenario=resolved.scenario.model_copy(update={"replications": outcome.used})
    )
    return _collect(final, used), outcome


def _collect(resolved: ResolvedScenario, results: list[ReplicationResult]) -> ScenarioResults:
    results = sorted(results, key=lambda r: r.replication)
    monthly = pd.concat([r.monthly for r in results], ignore_index=True)
    per_rep = pd.DataFrame([{"replication": r.replication, **r.kpis} for r in results])
    logs = [r.events for r in results if r.events is not None]
    events = pd.concat(logs, ignore_index=True) if logs else None
    return ScenarioResults(resolved, monthly, per_rep, summarise(per_rep), events)
