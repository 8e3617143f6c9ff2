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
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..experiments.paired import paired_differences
from ..experiments.parallel import ProgressCallback
from ..experiments.runner import (
    ComparisonResults,
    ScenarioResults,
    align_to_base,
    run_scenarios,
)
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
    combined = _combined(resolved, results, reps)
    per_replication = _by_draw(results, reps)
    return PosteriorRun(combined, variance_split(per_replication, reps), draws)


def _combined(
    resolved: ResolvedScenario, results: Sequence[ScenarioResults], reps: int
) -> ScenarioResults:
    """One scenario's results over its draws as one: replication = draw × R + r, a ``draw``
    column in front of the monthly and per-district rows, and the summaries over all."""
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
    return ScenarioResults(
        resolved,
        pd.concat(monthly, ignore_index=True),
        per_replication,
        summarise(per_replication.drop(columns="draw")),
        by_district=districts,
        districts=None if districts is None else summarise_districts(districts),
    )


def _by_draw(results: Sequence[ScenarioResults], reps: int) -> pd.DataFrame:
    """One scenario's per-replication KPIs over its draws: ``draw``, ``replication`` numbered
    draw × R + r (so that draw d's replication r pairs across scenarios), then the KPIs."""
    tables = []
    for draw, result in enumerate(results):
        table = result.per_replication.copy()
        table["replication"] = draw * reps + table["replication"]
        table.insert(0, "draw", draw)
        tables.append(table)
    return pd.concat(tables, ignore_index=True)


def posterior_differences(
    base: pd.DataFrame, alternative: pd.DataFrame, name: str, reps: int
) -> pd.DataFrame:
    """One row per KPI: an alternative's difference from the base over posterior draws ×
    replications (``base`` and ``alternative`` as :func:`_by_draw` gives them), paired by
    draw and replication.

    The interval is the paired Student-t interval over the draws' mean differences (each draw
    one observation, as its replications share its parameters), so it carries the parameters'
    uncertainty as well as the noise. ``parameter_share`` is the share of the variance of the
    pairs' differences that comes from the parameters (between draws), as
    :func:`variance_split` splits a KPI's own variance; ``draws`` says how many there were."""
    kpis = [c for c in base.columns if c not in ("draw", "replication")]
    pairs = base.merge(alternative, on=["draw", "replication"], suffixes=("_base", "_alt"))
    diffs = pairs[["draw", "replication"]].copy()
    for kpi in kpis:
        diffs[kpi] = pairs[f"{kpi}_alt"] - pairs[f"{kpi}_base"]
    split = variance_split(diffs, reps).set_index("kpi")
    draw_means = [t.groupby("draw")[kpis].mean().reset_index() for t in (base, alternative)]
    renamed = [t.rename(columns={"draw": "replication"}) for t in draw_means]
    out = paired_differences(renamed[0], renamed[1], name)
    out["replications"] = len(pairs)
    out["draws"] = base["draw"].nunique()
    out["parameter_share"] = out["kpi"].map(split["parameter_share"]).astype(float)
    return out


def compare_over_posterior(
    base: ResolvedScenario,
    alternatives: Sequence[ResolvedScenario],
    draws: int,
    *,
    workers: int | None = None,
    progress: ProgressCallback | None = None,
    cluster: str | None = None,
) -> ComparisonResults:
    """The base and each alternative over the same ``draws`` posterior draws of the base's
    fitted parameter set × the base's replications, with common random numbers: draw d's
    replication r of every scenario shares its parameters and its random streams. Each
    scenario's results hold all its draws (replication = draw × R + r, as ``run --posterior``);
    the differences are :func:`posterior_differences`."""
    for alternative in alternatives:
        if alternative.parameters_path != base.parameters_path:
            raise InputError.single(
                alternative.source,
                "parameters",
                f"--posterior draws the base's fitted parameter set ({base.parameters_path}); "
                f"this alternative uses {alternative.parameters_path}: compare scenarios that "
                "share the parameter set, or compare without --posterior",
            )
    aligned = [align_to_base(alt, base) for alt in alternatives]
    every = [base, *aligned]
    by_scenario = [posterior_scenarios(resolved, draws) for resolved in every]
    flat = [s for scenarios in by_scenario for s in scenarios]
    done = run_scenarios(flat, workers=workers, progress=progress, cluster=cluster)
    reps = base.scenario.replications
    combined = []
    tables = []
    for i, resolved in enumerate(every):
        results = done[i * draws : (i + 1) * draws]
        tables.append(_by_draw(results, reps))
        combined.append(_combined(resolved, results, reps))
    differences = pd.concat(
        [
            posterior_differences(tables[0], table, resolved.name, reps)
            for resolved, table in zip(every[1:], tables[1:], strict=True)
        ],
        ignore_index=True,
    )
    return ComparisonResults(combined[0], combined[1:], differences)
