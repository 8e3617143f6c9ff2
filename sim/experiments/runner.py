"""Experiments: replications of scenarios, and paired comparisons of alternatives under
common random numbers.

A replication is one run of the model reduced to its monthly rows and KPIs; the replications of
one or several scenarios are tasks that :mod:`sim.experiments.parallel` runs where asked (this
process, a local pool, a Dask cluster) and returns in task order. Each replication's random
streams depend only on the seed and its number, so the numbers are the same whatever the number
of workers. How many replications are enough is :mod:`sim.experiments.stopping`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import pandas as pd

from ..inputs.scenario import ResolvedScenario
from ..metrics import replication_kpis, summarise
from ..model.caseload import CaseloadModel, rare_garbage_collection
from .paired import paired_differences
from .parallel import ProgressCallback, default_workers, map_replications


@dataclass
class ScenarioResults:
    """Tidy results of all replications of one scenario."""

    resolved: ResolvedScenario
    monthly: pd.DataFrame
    per_replication: pd.DataFrame
    summary: pd.DataFrame
    events: pd.DataFrame | None = None

    def __repr__(self) -> str:
        """Which scenario and what the results hold (``sim.run``'s results show figures)."""
        return (
            f"ScenarioResults({self.resolved.name!r}: {len(self.per_replication)} replications; "
            f".summary {len(self.summary)} KPIs, .monthly {len(self.monthly)} rows)"
        )


@dataclass
class ReplicationResult:
    """One replication reduced to its monthly rows and KPIs (and its event log if asked)."""

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

    def __repr__(self) -> str:
        """Which scenarios (``sim.compare``'s results show what changed most)."""
        names = ", ".join(repr(a.resolved.name) for a in self.alternatives)
        return (
            f"ComparisonResults(base {self.base.resolved.name!r}, alternatives {names}; "
            f".differences {len(self.differences)} rows)"
        )


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
    done = map_replications(
        run_replication,
        [resolved_list[i] for i, _ in tasks],
        [rep for _, rep in tasks],
        events=events,
        workers=workers or default_workers(),
        progress=progress,
        cluster=cluster,
    )
    out = []
    for i, resolved in enumerate(resolved_list):
        mine = [result for (j, _rep), result in zip(tasks, done, strict=True) if j == i]
        out.append(collect_results(resolved, mine))
    return out


def compare_scenarios(
    base: ResolvedScenario,
    alternatives: Sequence[ResolvedScenario],
    *,
    workers: int | None = None,
    progress: ProgressCallback | None = None,
    cluster: str | None = None,
    events: bool = False,
) -> ComparisonResults:
    """Run base and alternatives with the base's seed and replications (common random numbers)
    and give, per KPI, each alternative's paired difference from the base with its interval.
    ``events=True`` keeps every scenario's household event logs, as :func:`run_scenario`."""
    aligned = [_align(alt, base) for alt in alternatives]
    results = run_scenarios(
        [base, *aligned], workers=workers, progress=progress, cluster=cluster, events=events
    )
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


def kpi_table(results: Sequence[ReplicationResult]) -> pd.DataFrame:
    """One row per replication: its number and its KPIs (the ``per_replication`` frame)."""
    return pd.DataFrame([{"replication": r.replication, **r.kpis} for r in results])


def collect_results(
    resolved: ResolvedScenario, results: Sequence[ReplicationResult]
) -> ScenarioResults:
    """Replications of one scenario, in any order, as its tidy results (by replication)."""
    results = sorted(results, key=lambda r: r.replication)
    monthly = pd.concat([r.monthly for r in results], ignore_index=True)
    per_rep = kpi_table(results)
    logs = [r.events for r in results if r.events is not None]
    events = pd.concat(logs, ignore_index=True) if logs else None
    return ScenarioResults(resolved, monthly, per_rep, summarise(per_rep), events)
