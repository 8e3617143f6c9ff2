"""Runs over posterior draws: parameter uncertainty and stochastic noise, told apart.

A scenario whose parameter set was written by ``caseflow calibrate`` names its posterior sample.
``caseflow run --posterior N`` draws N parameter sets from it (by weight, reproducibly for the
scenario's seed) and runs the scenario's replications for each, with the *same* random numbers
for every draw. Each KPI's spread then splits into

* **parameter uncertainty**: the variance between the draws' means (less the share of noise that
  a mean of R replications still carries), and
* **stochastic noise**: the average variance between replications within a draw.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd

from ..experiments.parallel import ProgressCallback
from ..experiments.runner import ScenarioResults, run_scenarios
from ..inputs.scenario import ResolvedScenario
from ..inputs.validation import InputError
from ..metrics import summarise, summarise_districts
from .spec import apply_parameters, load_spec


def draw_posterior(sample: pd.DataFrame, draws: int, seed: int) -> pd.DataFrame:
    """``draws`` particles resampled by weight (reproducible for a seed)."""
    rng = np.random.default_rng(seed)
    weights = sample["weight"].to_numpy(float)
    index = rng.choice(len(sample), size=draws, p=weights / weights.sum())
    return sample.drop(columns="weight").iloc[index].reset_index(drop=True)


def posterior_scenarios(resolved: ResolvedScenario, draws: int) -> list[ResolvedScenario]:
    """The scenario once per posterior draw of its fitted parameter set."""
    fit = resolved.parameters.fit
    where = resolved.parameters_path
    if fit is None or fit.posterior is None:
        raise InputError.single(
            where,
            "fit.posterior",
            "--posterior needs a fitted parameter set with a posterior sample (written by "
            "`caseflow calibrate fit SPEC`); this set has none",
        )
    spec_path = (where.parent / fit.spec).resolve()
    sample_path = (where.parent / fit.posterior).resolve()
    for path, key in ((spec_path, "fit.spec"), (sample_path, "fit.posterior")):
        if not path.exists():
            raise InputError.single(where, key, f"file not found: {path}")
    spec, base = load_spec(spec_path)
    sample = pd.read_csv(sample_path)
    missing = [e.path for e in spec.calibrate if e.path not in sample.columns]
    if missing or "weight" not in sample.columns:
        raise InputError.single(
            sample_path, "", f"not a posterior sample of {spec.name}: missing {missing or 'weight'}"
        )
    chosen = draw_posterior(sample, draws, resolved.scenario.seed)
    return [
        dataclasses.replace(resolved, parameters=apply_parameters(base, spec, row.to_dict()))
        for _, row in chosen.iterrows()
    ]


def variance_split(per_replication: pd.DataFrame, replications: int) -> pd.DataFrame:
    """Per KPI: overall mean and 90 % interval, and the shares of parameter and noise variance.

    ``per_replication`` has a ``draw`` column and one row per (draw, replication).
    """
    rows = []
    kpis = per_replication.columns.drop(["draw", "replication"])
    grouped = per_replication.groupby("draw")
    for kpi in kpis:
        values = per_replication[kpi].to_numpy(float)
        if np.isnan(values).all():
            continue
        within = float(grouped[kpi].var(ddof=1).mean()) if replications > 1 else math.nan
        between_means = float(grouped[kpi].mean().var(ddof=1))
        noise_in_means = within / replications if replications > 1 else 0.0
        between = max(between_means - noise_in_means, 0.0)
        total = between + (within if replications > 1 else 0.0)
        rows.append(
            {
                "kpi": kpi,
                "mean": float(np.nanmean(values)),
                "p05": float(np.nanquantile(values, 0.05)),
                "p95": float(np.nanquantile(values, 0.95)),
                "sd_total": math.sqrt(total) if total > 0 else 0.0,
                "parameter_share": between / total if total > 0 else math.nan,
                "noise_share": (total - between) / total if total > 0 else math.nan,
            }
        )
    return pd.DataFrame(rows)


@dataclasses.dataclass
class PosteriorRun:
    results: ScenarioResults  # all draws together, replication = draw * R + r
    uncertainty: pd.DataFrame  # variance_split
    draws: int


def run_posterior(
    resolved: ResolvedScenario,
    draws: int,
    *,
    workers: int | None = None,
    progress: ProgressCallback | None = None,
    cluster: str | None = None,
) -> PosteriorRun:
    """Run the scenario over ``draws`` posterior draws × its replications."""
    scenarios = posterior_scenarios(resolved, draws)
    results = run_scenarios(scenarios, workers=workers, progress=progress, cluster=cluster)
    reps = resolved.scenario.replications
    monthly: list[pd.DataFrame] = []
    per_rep: list[pd.DataFrame] = []
    by_district: list[pd.DataFrame] = []
    for draw, result in enumerate(results):
        tables = (result.monthly, result.per_replication, result.by_district)
        for table, into in zip(tables, (monthly, per_rep, by_district), strict=True):
            if table is None:
                continue
            t = table.copy()
            t["replication"] = draw * reps + t["replication"]
            t.insert(0, "draw", draw)
            into.append(t)
    per_replication = pd.concat(per_rep, ignore_index=True)
    districts = pd.concat(by_district, ignore_index=True) if by_district else None
    combined = ScenarioResults(
        resolved,
        pd.concat(monthly, ignore_index=True),
        per_replication,
        summarise(per_replication.drop(columns="draw")),
        by_district=districts,
        districts=None if districts is None else summarise_districts(districts),
    )
    return PosteriorRun(combined, variance_split(per_replication, reps), draws)
