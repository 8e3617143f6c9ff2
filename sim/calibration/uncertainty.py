"""Runs over posterior draws: parameter uncertainty and stochastic noise, told apart.

A scenario whose parameter set was written by ``caseflow calibrate`` names its posterior sample.
``caseflow run --posterior N`` draws N parameter sets from it (by weight, reproducibly for the
scenario's seed) and runs the scenario's replications for each, draw d's replications numbered
d × R + r, so that each draw has random numbers of its own (``compare --posterior`` runs every
scenario on the same draws and numbers, paired). Each KPI's spread then splits into

* **parameter uncertainty**: the variance between the draws' means (less the share of noise that
  a mean of R replications still carries), and
* **stochastic noise**: the average variance between replications within a draw.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from ..experiments.paired import difference_row
from ..experiments.parallel import ProgressCallback, map_replications, worker_count
from ..experiments.runner import (
    ComparisonResults,
    ScenarioResults,
    align_to_base,
    collect_results,
    run_replication,
)
from ..inputs.parameters import ModelParameters
from ..inputs.scenario import ResolvedScenario
from ..inputs.validation import InputError
from ..metrics import summarise, summarise_districts
from ..records import UNCERTAINTY_FILE
from .point_fit import sample_digest
from .spec import CalibrationSpec, apply_parameters, load_spec


def posterior_entry(base: ResolvedScenario, draws: int) -> dict[str, Any]:
    """The manifest's record of the posterior draws a run or comparison ran over: how many,
    the replications per draw, the fitted sample they came from (its name and SHA-256), the
    seed that drew them and each draw's parameter values, so that the run can be repeated
    from its folder even after the sample has been refitted or moved."""
    fit = base.parameters.fit
    entry: dict[str, Any] = {
        "draws": draws,
        "replications_per_draw": base.scenario.replications,
        "sample": None if fit is None else fit.posterior,
        "draw_seed": base.scenario.seed,
    }
    if fit is not None and fit.posterior is not None:
        drawn = _chosen_draws(base, draws)
        entry["sample_sha256"] = hashlib.sha256(drawn.sample_path.read_bytes()).hexdigest()
        entry["sample_size"] = drawn.sample_size
        entry["distinct_draws"] = len(drawn.chosen.drop_duplicates())
        entry["parameters_by_draw"] = drawn.chosen.to_dict(orient="records")
    return entry


def draw_posterior(sample: pd.DataFrame, draws: int, seed: int) -> pd.DataFrame:
    """``draws`` particles resampled by weight (reproducible for a seed)."""
    rng = np.random.default_rng(seed)
    weights = sample["weight"].to_numpy(float)
    index = rng.choice(len(sample), size=draws, p=weights / weights.sum())
    return sample.drop(columns="weight").iloc[index].reset_index(drop=True)


def posterior_scenarios(resolved: ResolvedScenario, draws: int) -> list[ResolvedScenario]:
    """The scenario once per posterior draw of its fitted parameter set."""
    drawn = _chosen_draws(resolved, draws)
    return [
        dataclasses.replace(
            resolved, parameters=apply_parameters(drawn.base, drawn.spec, row.to_dict())
        )
        for _, row in drawn.chosen.iterrows()
    ]


class _Draws(NamedTuple):
    """Posterior draws of a fitted set and what they are applied with."""

    spec: CalibrationSpec
    base: ModelParameters  # the spec's base set, which each draw's values are applied to
    sample_path: Path
    sample_size: int  # parameter sets in the sample
    chosen: pd.DataFrame  # one row per draw, a column per calibrated path


def _chosen_draws(resolved: ResolvedScenario, draws: int) -> _Draws:
    """The fitted set's spec and base parameters, its sample and the ``draws`` parameter
    values drawn from it."""
    fit = resolved.parameters.fit
    where = resolved.parameters_path
    if fit is None or fit.posterior is None:
        raise InputError.single(
            where,
            "fit.posterior",
            "--posterior needs a fitted parameter set with a posterior sample (written by "
            "`caseflow calibrate fit SPEC`); this set has none"
            + (
                " (its fit wrote none: run with --no-posterior, or its sampling fell short)"
                if fit
                else ""
            ),
        )
    spec_path = (where.parent / fit.spec).resolve()
    sample_path = (where.parent / fit.posterior).resolve()
    for path, key in ((spec_path, "fit.spec"), (sample_path, "fit.posterior")):
        if not path.exists():
            raise InputError.single(where, key, f"file not found: {path}")
    expected = fit.posterior_sha256
    if expected is not None and sample_digest(sample_path.read_bytes()) != expected:
        raise InputError.single(
            where,
            "fit.posterior_sha256",
            f"the posterior sample {sample_path} has changed since this parameter set was "
            "written (its SHA-256 is not the one recorded): the draws would not be the ones "
            "this set was fitted with. A results folder's copy of a set refitted since cannot "
            "be rerun over posterior draws; its manifest.json lists each draw's values",
        )
    spec, base = load_spec(spec_path)
    sample = pd.read_csv(sample_path)
    missing = [e.path for e in spec.calibrate if e.path not in sample.columns]
    if missing or "weight" not in sample.columns:
        raise InputError.single(
            sample_path, "", f"not a posterior sample of {spec.name}: missing {missing or 'weight'}"
        )
    calibrated = {e.path for e in spec.calibrate}
    dropped = [c for c in sample.columns if c != "weight" and c not in calibrated]
    if dropped:  # each draw would leave these at the base set's values, silently
        raise InputError.single(
            spec_path,
            "calibrate",
            f"no longer calibrates {', '.join(dropped)}, which the posterior sample "
            f"{sample_path.name} was drawn over: the spec changed since the fit; fit again "
            "(caseflow calibrate fit SPEC) or restore the spec",
        )
    changed = _base_changed_since_fit(base, resolved.parameters, spec)
    if changed:  # each draw would run with the base set's new values, not the fitted set's
        name, now, then = changed[0]
        more = f" ({len(changed) - 1} more)" if len(changed) > 1 else ""
        raise InputError.single(
            spec_path,
            "parameters",
            f"the base parameter set has changed since the fit: {name} is {now!r} there, "
            f"{then!r} in the fitted set {where.name}{more}. Posterior draws are applied to the "
            "base set, so the run would not be the fitted set's; restore the base set or fit "
            "again (caseflow calibrate fit SPEC)",
        )
    chosen = draw_posterior(sample, draws, resolved.scenario.seed)
    return _Draws(spec, base, sample_path, len(sample), chosen)


def _base_changed_since_fit(
    base: ModelParameters, fitted: ModelParameters, spec: CalibrationSpec
) -> list[tuple[str, Any, Any]]:
    """The parameters the fit did not set whose value in the spec's base set differs from the
    fitted set's, as (path, base value, fitted value). The fit set the calibrated paths (all
    under a scaled table, all shares of a table with a calibrated share)."""
    touched = [e.path.rsplit(".", 1)[0] if e.mode == "share" else e.path for e in spec.calibrate]
    now, then = (
        _leaves(base.model_dump(exclude={"name", "description", "fit"})),
        _leaves(fitted.model_dump(exclude={"name", "description", "fit"})),
    )
    changed = [
        (path, now.get(path), then.get(path))
        for path in sorted(now.keys() | then.keys())
        if now.get(path) != then.get(path)
        and not any(path == t or path.startswith(t + ".") for t in touched)
    ]
    # Inside what the fit set, what it did not: a scaled table's shape (the fit multiplied
    # every entry by one factor) and a share table's other entries' proportions (the fit
    # rescaled them together). A draw scales or rescales the base's entries as they are now.
    for entry in spec.calibrate:
        if entry.mode == "scale":
            group = [p for p in now if p == entry.path or p.startswith(entry.path + ".")]
        elif entry.mode == "share":
            table = entry.path.rsplit(".", 1)[0]
            group = [p for p in now if p.startswith(table + ".") and p != entry.path]
        else:
            continue
        odd = _not_in_proportion(now, then, group)
        if odd is not None:
            changed.append((odd, now.get(odd), then.get(odd)))
    return changed


def _not_in_proportion(now: dict[str, Any], then: dict[str, Any], group: list[str]) -> str | None:
    """The first path of ``group`` whose fitted value is not the base's times the factor the
    others share (None: all in proportion, as a fit leaves them)."""
    factor: float | None = None
    for path in sorted(group):
        a, b = now.get(path), then.get(path)
        if not isinstance(a, int | float) or not isinstance(b, int | float):
            if a != b:
                return path
            continue
        if a == 0:
            if b != 0:
                return path
            continue
        ratio = b / a
        if factor is None:
            factor = ratio
        elif not math.isclose(ratio, factor, rel_tol=1e-9, abs_tol=0.0):
            return path
    return None


def _leaves(tree: Any, prefix: str = "") -> dict[str, Any]:
    """A dumped parameter set's values by dotted path."""
    if not isinstance(tree, dict):
        return {prefix: tree}
    out: dict[str, Any] = {}
    for key, value in tree.items():
        out.update(_leaves(value, f"{prefix}.{key}" if prefix else key))
    return out


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
        # With one replication a draw's mean is one run: parameters and noise cannot be told
        # apart, so the shares are left empty (NaN) rather than all given to the parameters.
        if replications > 1:
            within = float(grouped[kpi].var(ddof=1).mean())
            between_means = float(grouped[kpi].mean().var(ddof=1))
            between = max(between_means - within / replications, 0.0)
            total = between + within
        else:
            between, total = math.nan, float(np.nanvar(values, ddof=1))
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
    """Run the scenario over ``draws`` posterior draws × its replications (draw d's
    replications are numbered d × R + r, so each draw has random numbers of its own)."""
    (results,) = run_over_draws(
        [resolved], draws, workers=workers, progress=progress, cluster=cluster
    )
    combined = _combined(resolved, results)
    return PosteriorRun(combined, combined.tables[UNCERTAINTY_FILE], draws)


def run_over_draws(
    every: Sequence[ResolvedScenario],
    draws: int,
    *,
    workers: int | None = None,
    progress: ProgressCallback | None = None,
    cluster: str | None = None,
) -> list[list[ScenarioResults]]:
    """Each scenario over the same ``draws`` posterior draws (of the first scenario's seed and
    fitted set) × its replications, on one pool: per scenario, one result per draw.

    Draw d's replications are numbered d × R + r, and the random streams are keyed by that
    number, so the draws' runs are independent of each other (their noise does not cancel
    between draws, which the variance split and the intervals assume), while every scenario's
    replication d × R + r shares its random numbers (common random numbers, for pairing)."""
    reps = every[0].scenario.replications
    by_scenario = [posterior_scenarios(resolved, draws) for resolved in every]
    tasks = [
        (i, d, d * reps + r)
        for i, scenarios in enumerate(by_scenario)
        for d in range(len(scenarios))
        for r in range(reps)
    ]
    done = map_replications(
        run_replication,
        [by_scenario[i][d] for i, d, _ in tasks],
        [number for _, _, number in tasks],
        events=False,
        workers=worker_count(workers),
        progress=progress,
        cluster=cluster,
    )
    out: list[list[ScenarioResults]] = [[] for _ in every]
    for i, scenarios in enumerate(by_scenario):
        for d, scenario in enumerate(scenarios):
            mine = [res for (j, e, _), res in zip(tasks, done, strict=True) if (j, e) == (i, d)]
            out[i].append(collect_results(scenario, mine))
    return out


def _combined(resolved: ResolvedScenario, results: Sequence[ScenarioResults]) -> ScenarioResults:
    """One scenario's results over its draws as one (replications numbered d × R + r by
    :func:`run_over_draws`): a ``draw`` column in front of the monthly, per-replication and
    per-district rows, and the summaries over all."""
    monthly: list[pd.DataFrame] = []
    per_rep: list[pd.DataFrame] = []
    by_district: list[pd.DataFrame] = []
    for draw, result in enumerate(results):
        tables = (result.monthly, result.per_replication, result.by_district)
        for table, into in zip(tables, (monthly, per_rep, by_district), strict=True):
            if table is not None:
                into.append(table.assign(draw=draw)[["draw", *table.columns]])
    per_replication = pd.concat(per_rep, ignore_index=True)
    districts = pd.concat(by_district, ignore_index=True) if by_district else None
    uncertainty = variance_split(_by_draw(results), resolved.scenario.replications)
    return ScenarioResults(
        resolved,
        pd.concat(monthly, ignore_index=True),
        per_replication,
        summarise(per_replication.drop(columns="draw"), groups=per_replication["draw"]),
        by_district=districts,
        districts=None if districts is None else summarise_districts(districts),
        tables={UNCERTAINTY_FILE: uncertainty},
    )


def _by_draw(results: Sequence[ScenarioResults]) -> pd.DataFrame:
    """One scenario's per-replication KPIs over its draws: ``draw``, ``replication`` (d × R + r,
    the same in every scenario for a draw's replication r), then the KPIs."""
    tables = [r.per_replication.assign(draw=d) for d, r in enumerate(results)]
    table = pd.concat(tables, ignore_index=True)
    return table[["draw", *(c for c in table.columns if c != "draw")]]


def posterior_differences(
    base: pd.DataFrame, alternative: pd.DataFrame, name: str, reps: int
) -> pd.DataFrame:
    """One row per KPI: an alternative's difference from the base over posterior draws ×
    replications (``base`` and ``alternative`` as :func:`_by_draw` gives them), paired by
    draw and replication.

    The interval is the Student-t interval over the draws' mean differences: each draw is one
    observation (its replications share its parameters), and each draw has random numbers of
    its own (:func:`run_over_draws`), so the spread of the draws' means carries both the
    parameters' uncertainty and the noise of R replications. ``parameter_share`` is the share
    of the variance of single pairs' differences that comes from the parameters (between
    draws, less the noise in a draw's mean), as :func:`variance_split` splits a KPI's own
    variance. Pairs where either scenario has no value (a ratio with nothing to divide) are
    left out of everything; ``draws`` and ``replications`` count what was used."""
    kpis = [c for c in base.columns if c not in ("draw", "replication")]
    pairs = base.merge(alternative, on=["draw", "replication"], suffixes=("_base", "_alt"))
    diffs = pairs[["draw", "replication"]].copy()
    for kpi in kpis:
        diffs[kpi] = pairs[f"{kpi}_alt"] - pairs[f"{kpi}_base"]
    split = variance_split(diffs, reps).set_index("kpi")["parameter_share"]
    rows = []
    for kpi in kpis:
        kept = pairs[diffs[kpi].notna()]
        by_draw = kept.groupby("draw")[[f"{kpi}_base", f"{kpi}_alt"]].mean()
        b, a = (by_draw[f"{kpi}_{side}"].to_numpy(float) for side in ("base", "alt"))
        row = difference_row(name, kpi, b, a)  # t interval over the draws' means
        row.update(
            replications=len(kept),
            draws=len(b),
            parameter_share=float(split.get(kpi, math.nan)),
        )
        rows.append(row)
    return pd.DataFrame(rows)


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
    runs = run_over_draws(every, draws, workers=workers, progress=progress, cluster=cluster)
    reps = base.scenario.replications
    tables = [_by_draw(results) for results in runs]
    combined = [_combined(resolved, results) for resolved, results in zip(every, runs, strict=True)]
    differences = pd.concat(
        [
            posterior_differences(tables[0], table, resolved.name, reps)
            for resolved, table in zip(every[1:], tables[1:], strict=True)
        ],
        ignore_index=True,
    )
    return ComparisonResults(combined[0], combined[1:], differences)
