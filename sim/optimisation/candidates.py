"""Candidates: a choice of decision values as a scenario, its constraints, and its
replications under common random numbers.

Every candidate runs with the base's seed, so its replication r sees the same contacts and the
same households with the same latent needs as replication r of every other candidate and of
the base (common random numbers): differences between candidates are their staffing's, not
the dice's. :class:`Evaluator` runs replications on one process pool and keeps each
candidate's per-replication KPIs, so that a candidate the search proposes twice, or a finalist
the selection needs more of, is never run twice for the same replication.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import pandas as pd

from ..experiments.parallel import ProgressCallback, map_replications, worker_count
from ..experiments.runner import run_replication
from ..inputs.loading import load_scenarios
from ..inputs.scenario import ResolvedScenario
from ..inputs.validation import InputError, Problem
from ..output.formatting import toml_value
from .spec import (
    LoadedSpec,
    Scalar,
    base_values,
    budgeted_staff_cost,
    candidate_overrides,
    total_posts,
)

Key = tuple[tuple[str, Scalar], ...]
"""A candidate's identity: its decision values in the spec's order."""


@dataclass(frozen=True)
class Candidate:
    """One staffing alternative: its decision values and the scenario they make."""

    key: Key
    resolved: ResolvedScenario
    staff_cost: float  # budgeted annual staff cost (SEK)
    posts: int  # posts of every role together

    @property
    def values(self) -> dict[str, Scalar]:
        return dict(self.key)


def candidate_name(loaded: LoadedSpec, number: int) -> str:
    """``NAME-cNNN``: NNN is the trial (from 1) that first proposed the candidate."""
    return f"{loaded.spec.name}-c{number + 1:03d}"


def make_candidate(loaded: LoadedSpec, values: dict[str, Scalar], name: str) -> Candidate:
    """The base scenario with ``values`` set (validated as a file's would be), named ``name``,
    with the spec's horizon, seed and replications."""
    changes = ", ".join(f"{key} = {toml_value(value)}" for key, value in values.items())
    description = f"{loaded.spec.name}: {loaded.base.name} with {changes}"
    overrides = [
        *candidate_overrides(values),
        f"name={toml_value(name)}",
        f"description={toml_value(description)}",
    ]
    resolved = load_scenarios(
        loaded.base_path,
        overrides,
        years=loaded.spec.years,
        seed=loaded.spec.seed,
        replications=loaded.spec.replications,
    )[0]
    key = tuple((v.key, values[v.key]) for v in loaded.spec.variables)
    return Candidate(key, resolved, budgeted_staff_cost(resolved), total_posts(resolved))


def fixed_violations(loaded: LoadedSpec, candidate: Candidate) -> list[str]:
    """The constraints a candidate breaks that need no simulation (budget, posts)."""
    limits = loaded.spec.constraints
    out = []
    if limits.staff_budget_sek is not None and candidate.staff_cost > limits.staff_budget_sek:
        out.append(
            f"budgeted staff cost {candidate.staff_cost:,.0f} SEK above the budget "
            f"{limits.staff_budget_sek:,.0f}"
        )
    if limits.max_posts is not None and candidate.posts > limits.max_posts:
        out.append(f"{candidate.posts} posts, more than {limits.max_posts}")
    return out


def kpi_violations(loaded: LoadedSpec, means: dict[str, float]) -> list[str]:
    """The KPI bounds a candidate's means break (a mean that cannot be had breaks its bound)."""
    out = []
    for bound in loaded.spec.constraints.kpis:
        mean = means.get(bound.kpi, math.nan)
        if math.isnan(mean):
            out.append(f"{bound.kpi} has no value")
        elif bound.max is not None and mean > bound.max:
            out.append(f"{bound.kpi} {mean:,.4g} above {bound.max:,.4g}")
        elif bound.min is not None and mean < bound.min:
            out.append(f"{bound.kpi} {mean:,.4g} below {bound.min:,.4g}")
    return out


def kpi_excess(loaded: LoadedSpec, means: dict[str, float]) -> list[float]:
    """How far each KPI bound is broken, relative to the bound (0 where it holds): the
    sampler's constraint values, so that it learns where the feasible region lies."""
    out = []
    for bound in loaded.spec.constraints.kpis:
        mean = means.get(bound.kpi, math.nan)
        if math.isnan(mean):
            out.append(1.0)
            continue
        excess = 0.0
        if bound.max is not None:
            excess = max(excess, (mean - bound.max) / max(abs(bound.max), 1e-9))
        if bound.min is not None:
            excess = max(excess, (bound.min - mean) / max(abs(bound.min), 1e-9))
        out.append(excess)
    return out


@dataclass
class Evaluator:
    """Runs candidates' replications on a shared pool (or in this process), keeping every
    replication's KPIs by candidate, so that none is run twice."""

    workers: int | None = None
    pool: ProcessPoolExecutor | None = None
    progress: ProgressCallback | None = None
    replications_run: int = 0
    _rows: dict[Key, dict[int, dict[str, float]]] = field(default_factory=dict)

    def run(self, requests: Sequence[tuple[Candidate, Iterable[int]]]) -> None:
        """Run the replications asked of each candidate that are not yet known, all as one
        batch of tasks (results in task order: the numbers do not depend on the workers)."""
        tasks: list[tuple[Candidate, int]] = []
        for candidate, reps in requests:
            known = self._rows.setdefault(candidate.key, {})
            tasks.extend((candidate, r) for r in reps if r not in known)
        if not tasks:
            return
        done = map_replications(
            run_replication,
            [c.resolved for c, _ in tasks],
            [r for _, r in tasks],
            events=False,
            workers=worker_count(self.workers),
            progress=self.progress,
            pool=self.pool,
        )
        for (candidate, rep), result in zip(tasks, done, strict=True):
            self._rows[candidate.key][rep] = result.kpis
        self.replications_run += len(tasks)

    def per_replication(self, candidate: Candidate, reps: Iterable[int]) -> pd.DataFrame:
        """One row per replication asked (running those not yet known): ``replication`` and
        the KPIs, as a results folder's ``per_replication.csv``."""
        reps = list(reps)
        self.run([(candidate, reps)])
        rows = self._rows[candidate.key]
        return pd.DataFrame([{"replication": r, **rows[r]} for r in reps])

    def means(self, candidate: Candidate, reps: Iterable[int]) -> dict[str, float]:
        """The KPIs' means over the replications asked (NaN where no replication has one)."""
        table = self.per_replication(candidate, reps).drop(columns="replication")
        return {k: float(v) for k, v in table.mean(skipna=True).items()}


def refuse_unreachable_limits(loaded: LoadedSpec, budget_from: str) -> None:
    """Refuse, before any trial, the spec's budget or post limit when no candidate can meet
    it: the cheapest candidate (every numeric variable at its lowest value, the others at the
    base's; a candidate's posts and budgeted cost only grow with posts and costs per post)
    already breaks it. ``budget_from`` names where the budget was given (the spec's key,
    ``--budget`` or the workbench's field). Without this, the search would run and recommend
    nothing."""
    limits = loaded.spec.constraints
    if limits.staff_budget_sek is None and limits.max_posts is None:
        return
    values = base_values(loaded)  # a word (the organisation's form) moves no post or cost
    for variable in loaded.spec.variables:
        options = variable.choices if variable.choices is not None else [variable.low]
        numbers = [v for v in options if isinstance(v, int | float) and not isinstance(v, bool)]
        if numbers:
            values[variable.key] = min(numbers)
    try:
        cheapest = make_candidate(loaded, values, f"{loaded.spec.name}-cheapest")
    except InputError:  # a corner the loader refuses: the search finds out, as it does now
        return
    problems = []
    budget, most = limits.staff_budget_sek, limits.max_posts
    if budget is not None and cheapest.staff_cost > budget:
        problems.append(
            Problem(
                str(loaded.path),
                budget_from,
                f"{budget:,.0f} SEK is below the cheapest candidate's budgeted staff cost, "
                f"{cheapest.staff_cost:,.0f} SEK a year (every variable at its lowest): no "
                "candidate can meet it",
            )
        )
    if most is not None and cheapest.posts > most:
        problems.append(
            Problem(
                str(loaded.path),
                "constraints.max_posts",
                f"{most} is below the fewest posts a candidate has, {cheapest.posts} (every "
                "variable at its lowest): no candidate can meet it",
            )
        )
    if problems:
        raise InputError(problems)
