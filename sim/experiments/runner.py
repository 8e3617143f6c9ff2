"""Experiments: replications of scenarios, and paired comparisons of alternatives under
common random numbers.

A replication is one run of the model reduced to its monthly rows and KPIs; the replications of
one or several scenarios are tasks that :mod:`sim.experiments.parallel` runs where asked (this
process, a local pool, a Dask cluster) and returns in task order. Each replication's random
streams depend only on the seed and its number, so the numbers are the same whatever the number
of workers. How many replications are enough is :mod:`sim.experiments.stopping`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Final

import pandas as pd

from .. import compiled
from ..domain import DAYS_PER_YEAR
from ..inputs.scenario import ResolvedScenario
from ..metrics import district_kpis, replication_kpis, summarise, summarise_districts
from ..model.caseload import CaseloadModel, no_cyclic_collection
from .paired import paired_differences
from .parallel import ProgressCallback, map_replications, worker_count


@dataclass
class ScenarioResults:
    """Tidy results of all replications of one scenario."""

    resolved: ResolvedScenario
    monthly: pd.DataFrame
    per_replication: pd.DataFrame
    summary: pd.DataFrame
    events: pd.DataFrame | None = None
    #: each replication's KPIs per district (``replication, district, kpi, value``)
    by_district: pd.DataFrame | None = None
    #: their means and intervals (``districts.csv``: ``district, kpi, mean, ci_low, ...``)
    districts: pd.DataFrame | None = None
    #: further tables its results folder holds, by file name (a run over posterior draws:
    #: ``uncertainty.csv``, the variance split that the report's uncertainty section reads)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)

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
    districts: pd.DataFrame | None = None  # district, kpi, value (sim.metrics.district_kpis)


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
    # No cyclic collection while the run is alive (a collection would scan all of it, and find
    # nothing: see ``release``), nor while its outputs are reduced, which leaves no cycles
    # either (checked by a review: the collector finds nothing after a replication).
    with no_cyclic_collection():
        model = CaseloadModel(resolved, replication, events=events)
        output = model.run()
        period = (model.first_day, model.report_from, model.end)
        # The finished run is freed before the KPIs are computed, so that its state (every
        # booked contact's draws, the households) and the KPIs' tables are not held at once:
        # at city scale over 10 years the worker's peak is 13 MB lower, and it keeps 22 MB
        # less between replications (benchmarks/memory_horizon.py, docs/performance.md).
        model.release()
        del model
        kpis = replication_kpis(output, *period)
        names = [d.name for d in resolved.timeline[0].organisation.districts]
        districts = district_kpis(output.monthly, output.episodes, names)
    monthly = output.monthly
    monthly.insert(0, "replication", replication)
    districts.insert(0, "replication", replication)
    log = output.events
    if log is not None:
        log.insert(0, "replication", replication)
    return ReplicationResult(replication, monthly, kpis, log, districts)


def run_scenario(
    resolved: ResolvedScenario,
    *,
    workers: int | None = None,
    progress: ProgressCallback | None = None,
    events: bool = False,
    cluster: str | None = None,
    pool: ProcessPoolExecutor | None = None,
) -> ScenarioResults:
    """All replications of ``resolved`` (``scenario.replications`` of them).

    ``events=True`` also keeps every household's event log (larger and slower); ``cluster`` is
    a Dask scheduler address to run on instead of local processes; ``pool`` a process pool
    shared with other runs (:func:`sim.experiments.parallel.local_pool`: a sweep's points).
    """
    return run_scenarios(
        [resolved], workers=workers, progress=progress, events=events, cluster=cluster, pool=pool
    )[0]


def run_scenarios(
    resolved_list: Sequence[ResolvedScenario],
    *,
    workers: int | None = None,
    progress: ProgressCallback | None = None,
    events: bool = False,
    cluster: str | None = None,
    pool: ProcessPoolExecutor | None = None,
) -> list[ScenarioResults]:
    """All replications of several scenarios, sharing one pool of workers (``pool`` if given,
    else one made for them) or a cluster."""
    tasks = [
        (i, rep) for i, r in enumerate(resolved_list) for rep in range(r.scenario.replications)
    ]
    done = map_replications(
        run_replication,
        [resolved_list[i] for i, _ in tasks],
        [rep for _, rep in tasks],
        events=events,
        workers=worker_count(workers),
        progress=progress,
        pool=pool,
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
    pool: ProcessPoolExecutor | None = None,
    base_results: ScenarioResults | None = None,
) -> ComparisonResults:
    """Run base and alternatives with the base's seed and replications (common random numbers)
    and give, per KPI, each alternative's paired difference from the base with its interval.
    ``events=True`` keeps every scenario's household event logs, as :func:`run_scenario`.
    ``pool`` is a process pool kept by the caller (the app's); ``base_results`` the base's
    results from an earlier run of exactly ``base`` (the same numbers, since a replication's
    draws depend only on the seed and its number), which are then not run again."""
    aligned = [align_to_base(alt, base) for alt in alternatives]
    if base_results is not None and not same_scenario(base_results.resolved, base):
        raise ValueError("base_results are of another scenario than base")
    to_run = aligned if base_results is not None else [base, *aligned]
    results = run_scenarios(
        to_run, workers=workers, progress=progress, cluster=cluster, events=events, pool=pool
    )
    if base_results is not None:
        results = [base_results, *results]
    base_results, alt_results = results[0], results[1:]
    differences = pd.concat(
        [
            paired_differences(base_results.per_replication, alt.per_replication, alt.resolved.name)
            for alt in alt_results
        ],
        ignore_index=True,
    )
    return ComparisonResults(base_results, alt_results, differences)


def same_scenario(a: ResolvedScenario, b: ResolvedScenario) -> bool:
    """Whether two loaded scenarios run to the same numbers: the same scenario as run (seed,
    replications and horizon included) and the same parameter set."""
    return a.as_dict() == b.as_dict() and a.parameters == b.parameters


PAIRED_KEYS: Final = ("seed", "replications")
"""What every scenario of a comparison takes from the base: that is what pairs them."""


def unused_pairing_settings(
    base: ResolvedScenario, alternatives: Sequence[ResolvedScenario]
) -> list[str]:
    """What an alternative's author may not expect: its own seed or replications, which a
    comparison replaces with the base's (that pairs them)."""
    notes = []
    for alt in alternatives:
        ignored = [
            f"{key} {getattr(alt.scenario, key)}"
            for key in PAIRED_KEYS
            if key in alt.own_keys and getattr(alt.scenario, key) != getattr(base.scenario, key)
        ]
        if ignored:
            notes.append(
                f"{alt.name} sets {' and '.join(ignored)}; a comparison runs every scenario "
                f"with the base's seed {base.scenario.seed} and {base.scenario.replications} "
                "replications (that pairs them)"
            )
    return notes


def align_to_base(alternative: ResolvedScenario, base: ResolvedScenario) -> ResolvedScenario:
    """The alternative with the base's seed and replications, so draws are shared. Its record
    of who set them follows: not its own file (whose values were not used), but the base's
    options if they set them (``--replications`` is recorded for every scenario it ran)."""
    scenario = alternative.scenario.model_copy(
        update={key: getattr(base.scenario, key) for key in PAIRED_KEYS}
    )
    own = tuple(k for k in alternative.own_keys if k not in PAIRED_KEYS)
    command = tuple((k, o) for k, o in alternative.command_keys if k not in PAIRED_KEYS)
    command += tuple((k, o) for k, o in base.command_keys if k in PAIRED_KEYS)
    return replace(alternative, scenario=scenario, own_keys=own, command_keys=command)


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
    tables = [r.districts for r in results if r.districts is not None]
    by_district = pd.concat(tables, ignore_index=True) if tables else None
    districts = summarise_districts(by_district) if by_district is not None else None
    summary = summarise(per_rep)
    return ScenarioResults(resolved, monthly, per_rep, summary, events, by_district, districts)


# --- what a run will cost ---------------------------------------------------------------

CONFIRM_ABOVE_SECONDS = 600.0
"""Runs estimated to take longer than this (10 minutes) start only when confirmed
(``--yes``): a slip such as 100 000 replications × 50 years would otherwise run for days."""

SECONDS_PER_HOUSEHOLD_YEAR = {"compiled": 65e-6, "python": 100e-6}
"""One worker's time per household-year simulated, by model build: the city-scale benchmark's
(``benchmarks/bench_city.py``, docs/performance.md; 15 000 households, the slowest rate per
household measured, so smaller units come out on the safe side), on the project's 2-core
machine. Another machine is faster or slower by its own factor."""

HOUSEHOLDS_PER_ANNUAL_CONTACT = 0.175
"""Open households per contact a year, in a unit whose staff keep up: the baseline's 558
households a month for its 3 191 contacts a year (Little's law: the caseload follows the
inflow). An overloaded unit holds fewer cases but as many waiting, and costs as much."""

SECONDS_PER_MONTH_ROW = 3e-5
"""Gathering and writing one replication-month (a row of monthly.csv, and its part of the
report's figures): 25 µs measured with the baseline's rows; it matters only for very many
replications (100 000 × 50 years: 60 million rows, half an hour)."""

FIXED_SECONDS = 5.0
"""Starting the command and the workers, and the report's figures, whatever the run's size
(3 s measured for the report of a short baseline run)."""


@dataclass(frozen=True)
class CostEstimate:
    """What a run will cost, estimated before it starts (:func:`estimate_cost`)."""

    replications: int
    household_years: float  # replications × simulated years (warm-up too) × households
    month_rows: int  # rows of monthly.csv
    workers: int  # parallel processes (1 on a Dask cluster: its size is not known here)
    seconds: float  # wall time on those workers
    cluster: bool = False  # on a Dask cluster: ``seconds`` is one worker's compute time

    @property
    def needs_confirmation(self) -> bool:
        return self.seconds > CONFIRM_ABOVE_SECONDS


def scenario_households(resolved: ResolvedScenario) -> float:
    """The size of a scenario in households: its opening caseload or the caseload its contact
    volume sustains (``contacts.per_year`` × the largest ``organisation.contacts_scale`` of its
    timeline × :data:`HOUSEHOLDS_PER_ANNUAL_CONTACT`), whichever is larger."""
    scale = max(settings.organisation.contacts_scale for settings in resolved.timeline)
    sustained = HOUSEHOLDS_PER_ANNUAL_CONTACT * resolved.parameters.contacts.per_year * scale
    return max(float(resolved.scenario.initial_caseload.households), sustained)


def simulated_years(resolved: ResolvedScenario) -> float:
    """Years one replication simulates: the horizon and the warm-up before it."""
    sc = resolved.scenario
    return (sc.horizon_days + sc.warmup_days) / DAYS_PER_YEAR


def estimate_cost(
    runs: Sequence[tuple[ResolvedScenario, int]], *, workers: int | None, cluster: bool = False
) -> CostEstimate:
    """The cost of running each scenario the given number of times: replications × simulated
    years × households, at this build's :data:`SECONDS_PER_HOUSEHOLD_YEAR`, shared by the
    workers (as many as there are replications at most), plus writing the monthly rows and a
    fixed start (:data:`SECONDS_PER_MONTH_ROW`, :data:`FIXED_SECONDS`). A
    rough figure (a factor of two either way), to catch runs hours or days long before they
    start; on a cluster it is the compute time of one worker."""
    build = "compiled" if compiled.implementation() == "compiled" else "python"
    replications = sum(n for _, n in runs)
    work = sum(n * simulated_years(r) * scenario_households(r) for r, n in runs)
    rows = sum(n * math.ceil(r.scenario.horizon_days / (DAYS_PER_YEAR / 12)) for r, n in runs)
    parallel = 1 if cluster else max(1, min(worker_count(workers), replications))
    model = work * SECONDS_PER_HOUSEHOLD_YEAR[build] / parallel
    seconds = FIXED_SECONDS + model + rows * SECONDS_PER_MONTH_ROW
    return CostEstimate(replications, work, rows, parallel, seconds, cluster)
