"""How many replications: the confidence-interval rule of Hoad, Robinson & Davies (2010).

After each replication ``n`` (from ``initial`` on) the relative half-width of the 95 % interval,
``t(n-1) * s / (sqrt(n) * |mean|)``, is computed for every chosen KPI. When all are within the
target precision the rule looks ahead: it keeps adding replications (``look_ahead`` more, or
``look_ahead * n / 100`` beyond 100) and accepts ``n`` only if the precision holds throughout;
if it is lost on the way the search goes on. The decision is taken replication by replication
in order, so it is the same whatever the number of workers.

:func:`decide` is the rule on replications already run; :func:`run_until_precise` applies it
while running them (``--replications auto``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from scipy import special  # stdtrit is what stats.t.ppf calls, without scipy.stats

from ..inputs.scenario import ResolvedScenario
from .parallel import ProgressCallback, default_workers, local_pool, map_replications
from .runner import (
    ReplicationResult,
    ScenarioResults,
    collect_results,
    kpi_table,
    run_replication,
)

DEFAULT_KPIS = ("mean_monthly_households", "exits_work_per_year", "cases_closed_per_year")


@dataclass(frozen=True)
class ReplicationRule:
    """The stopping rule's settings."""

    kpis: tuple[str, ...] = DEFAULT_KPIS
    precision: float = 0.05  # relative half-width of the 95 % interval
    initial: int = 5
    look_ahead: int = 5
    cap: int = 200
    level: float = 0.95

    @property
    def least_cap(self) -> int:
        """The smallest cap that can confirm a precision: the first replications and the
        look-ahead after them."""
        return self.initial + self.look_ahead


@dataclass
class RuleOutcome:
    """What the rule did: the number it settled on and the precision it saw."""

    solution: int | None  # the n whose precision held through the look-ahead; None: not reached
    used: int  # replications run and used in the results
    reached: bool
    history: list[dict[str, float]] = field(default_factory=list)

    def as_dict(self, rule: ReplicationRule) -> dict[str, object]:
        return {
            "rule": "Hoad, Robinson & Davies (2010) confidence-interval method",
            "kpis": list(rule.kpis),
            "precision": rule.precision,
            "initial": rule.initial,
            "look_ahead": rule.look_ahead,
            "cap": rule.cap,
            "reached": self.reached,
            "solution": self.solution,
            "replications_used": self.used,
            # at the cap: whether the intervals were within the precision then (unconfirmed)
            "precise_at_cap": bool(
                not self.reached
                and self.history
                and all(v <= rule.precision for k, v in self.history[-1].items() if k != "n")
            ),
        }


def relative_half_width(values: np.ndarray, level: float = 0.95) -> float:
    """Half-width of the Student-t interval over ``values``, relative to their mean."""
    n = len(values)
    if n < 2:
        return math.inf
    sd = float(values.std(ddof=1))
    mean = float(values.mean())
    if sd == 0:
        return 0.0
    if mean == 0:
        return math.inf
    half = float(special.stdtrit(n - 1, 0.5 + level / 2)) * sd / math.sqrt(n)
    return abs(half / mean)


def look_ahead_count(rule: ReplicationRule, n: int) -> int:
    return rule.look_ahead if n <= 100 else math.floor(rule.look_ahead * n / 100)


def decide(per_replication: pd.DataFrame, rule: ReplicationRule) -> tuple[RuleOutcome, bool]:
    """Apply the rule to replications ``0..len-1`` in order.

    Returns the outcome so far and whether the search is finished (precision confirmed, or the
    cap reached).
    """
    history: list[dict[str, float]] = []
    solution: int | None = None
    confirm_at = 0
    n_total = len(per_replication)
    for n in range(1, n_total + 1):
        if n < max(rule.initial, 2):
            continue
        head = per_replication.iloc[:n]
        widths = {k: relative_half_width(head[k].to_numpy(float), rule.level) for k in rule.kpis}
        history.append({"n": float(n), **widths})
        if all(w <= rule.precision for w in widths.values()):
            if solution is None:
                solution = n
                confirm_at = n + look_ahead_count(rule, n)
            if n >= confirm_at:
                return RuleOutcome(solution, n, True, history), True
        else:
            solution = None
        if n >= rule.cap:
            return RuleOutcome(None, n, False, history), True
    return RuleOutcome(solution, n_total, False, history), False


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
    # One pool for all batches, so that worker processes start once, not once per batch.
    with local_pool(workers) as pool:
        while True:
            start = len(results)
            size = rule.initial if start == 0 else max(workers, 1)
            reps = list(range(start, min(start + size, rule.cap)))
            results.extend(
                map_replications(
                    run_replication,
                    [resolved] * len(reps),
                    reps,
                    events=False,
                    workers=workers,
                    pool=pool,
                )
            )
            outcome, done = decide(kpi_table(results), rule)
            if progress:
                progress(len(results), rule.cap)
            if done or len(results) >= rule.cap:
                break
    used = results[: outcome.used]
    final = replace(
        resolved, scenario=resolved.scenario.model_copy(update={"replications": outcome.used})
    )
    return collect_results(final, used), outcome
