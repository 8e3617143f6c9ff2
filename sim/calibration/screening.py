"""Screening: which parameters move which targets (Morris elementary effects, via SALib).

Every parameter of a calibration spec is varied over its prior range along Morris trajectories,
plus a ``dummy`` parameter that the model never reads. All model runs use the same seeds
(common random numbers), so the dummy's effect is exactly zero and any other effect is the
parameter's own, not noise. Effects are also given in units of each target's uncertainty:
``mu_star_per_sd`` says how many standard deviations of the reported figure the parameter can
move the model's output, which is what matters for fitting.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..experiments.parallel import ProgressCallback
from ..experiments.runner import run_scenarios
from ..inputs.validation import InputError
from .spec import CalibrationProblem, CalibrationSpec, load_problem, target_sd

DUMMY = "dummy"


@dataclasses.dataclass
class Screening:
    """Morris results: one row per parameter and target."""

    table: pd.DataFrame
    samples: pd.DataFrame  # the parameter points run, with each target KPI's mean
    problem: CalibrationProblem  # what was screened: the spec, its targets, scenario and seed

    @property
    def spec(self) -> CalibrationSpec:
        return self.problem.spec


def screen(
    spec_path: str | Path,
    *,
    trajectories: int = 10,
    levels: int = 4,
    replications: int = 3,
    workers: int | None = None,
    progress: ProgressCallback | None = None,
) -> Screening:
    """Morris screening of the spec's parameters against its targets (those with a KPI, less
    the spec's holdouts)."""
    from SALib.analyze import morris as morris_analyze
    from SALib.sample import morris as morris_sample

    problem = load_problem(spec_path)
    resolved = problem.resolved
    compared = problem.compared
    names = [*problem.names, DUMMY]
    bounds = [list(b) for b in problem.bounds] + [[0.0, 1.0]]
    problem_def: dict[str, Any] = {"num_vars": len(names), "names": names, "bounds": bounds}
    seed = resolved.scenario.seed
    x = morris_sample.sample(problem_def, N=trajectories, num_levels=levels, seed=seed)
    points = [problem.scenario(problem.values(row[:-1]), replications=replications) for row in x]
    results = run_scenarios(points, workers=workers, progress=progress)
    means = pd.DataFrame([r.summary.set_index("kpi")["mean"] for r in results]).reset_index(
        drop=True
    )
    samples = pd.DataFrame(x, columns=names)
    rows = []
    for target in compared:
        assert target.kpi is not None
        y = means[target.kpi].to_numpy(float)
        if not np.isfinite(y).all():
            continue
        res = morris_analyze.analyze(problem_def, x, y, num_levels=levels, seed=seed)
        sd = target_sd(target)
        for i, name in enumerate(names):
            rows.append(
                {
                    "parameter": name,
                    "target": target.id,
                    "kpi": target.kpi,
                    "mu_star": float(res["mu_star"][i]),
                    "mu_star_conf": float(res["mu_star_conf"][i]),
                    "sigma": float(res["sigma"][i]),
                    "mu_star_per_sd": float(res["mu_star"][i]) / sd,
                }
            )
        samples[f"kpi:{target.kpi}"] = y
    return Screening(pd.DataFrame(rows), samples, problem)


def _heatmap(pivot: pd.DataFrame, values: np.ndarray, cmap: str, label: str, title: str) -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(1.0 + 0.7 * pivot.shape[1], 1.0 + 0.4 * pivot.shape[0]))
    image = ax.imshow(values, cmap=cmap, aspect="auto")
    ax.set_xticks(range(pivot.shape[1]), pivot.columns, rotation=60, ha="right")
    ax.set_yticks(range(pivot.shape[0]), pivot.index)
    for (i, j), value in np.ndenumerate(pivot.to_numpy()):
        ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=7, color="white")
    fig.colorbar(image, ax=ax, label=label)
    ax.set_title(title)
    return fig


def plot_screening(screening: Screening) -> Any:
    """Heat map: each parameter's effect on each target, in target standard deviations."""
    pivot = screening.table.pivot(index="parameter", columns="target", values="mu_star_per_sd")
    order = [p for p in [*(e.path for e in screening.spec.calibrate), DUMMY] if p in pivot.index]
    pivot = pivot.loc[order]
    return _heatmap(
        pivot,
        np.log10(pivot.to_numpy() + 1e-3),
        "viridis",
        "log10 of mu* in target standard deviations",
        "Morris screening: effect on each target (target sd)",
    )


def important_parameters(screening: Screening, threshold: float = 1.0) -> list[str]:
    """Parameters that move some target by at least ``threshold`` of its sd (Morris mu*)."""
    table = screening.table[screening.table["parameter"] != DUMMY]
    largest = table.groupby("parameter")["mu_star_per_sd"].max()
    paths = [e.path for e in screening.spec.calibrate]
    return [p for p in paths if largest.get(p, 0.0) >= threshold]


def sobol_indices(
    spec_path: str | Path,
    parameters: list[str],
    *,
    base_samples: int = 64,
    replications: int = 1,
    workers: int | None = None,
    progress: ProgressCallback | None = None,
) -> pd.DataFrame:
    """First-order and total Sobol indices of ``parameters`` for each target (SALib).

    The other parameters of the spec stay at their base values; a ``dummy`` parameter again
    shows the noise floor (exactly zero under common random numbers). ``base_samples`` (a power
    of two) times (parameters + 3) points are run.
    """
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import sobol as sobol_sample

    problem = load_problem(spec_path)
    unknown = [p for p in parameters if p not in problem.names]
    if unknown:
        raise InputError.single(spec_path, "calibrate", f"not in the spec: {', '.join(unknown)}")
    index = [problem.names.index(p) for p in parameters]
    names = [*parameters, DUMMY]
    bounds = [list(problem.bounds[i]) for i in index] + [[0.0, 1.0]]
    problem_def: dict[str, Any] = {"num_vars": len(names), "names": names, "bounds": bounds}
    seed = problem.resolved.scenario.seed
    x = sobol_sample.sample(problem_def, base_samples, calc_second_order=False, seed=seed)
    entries = problem.spec.calibrate
    points = []
    for row in x:
        values = {}
        for i, v in zip(index, row[:-1], strict=True):
            values[entries[i].path] = math.exp(v) if entries[i].log_scale else float(v)
        points.append(problem.scenario(values, replications=replications))
    results = run_scenarios(points, workers=workers, progress=progress)
    means = pd.DataFrame([r.summary.set_index("kpi")["mean"] for r in results])
    rows = []
    for target in problem.compared:
        assert target.kpi is not None
        y = means[target.kpi].to_numpy(float)
        if not np.isfinite(y).all() or np.ptp(y) == 0:
            continue
        res = sobol_analyze.analyze(problem_def, y, calc_second_order=False, seed=seed)
        for i, name in enumerate(names):
            rows.append(
                {
                    "parameter": name,
                    "target": target.id,
                    "S1": float(res["S1"][i]),
                    "S1_conf": float(res["S1_conf"][i]),
                    "ST": float(res["ST"][i]),
                    "ST_conf": float(res["ST_conf"][i]),
                }
            )
    return pd.DataFrame(rows)


def plot_sobol(table: pd.DataFrame) -> Any:
    """Heat map of total-order indices: the share of each target's variance a parameter drives."""
    pivot = table.pivot(index="parameter", columns="target", values="ST")
    order = [p for p in table["parameter"].drop_duplicates() if p in pivot.index]
    pivot = pivot.loc[order]
    return _heatmap(
        pivot,
        pivot.to_numpy().clip(0, 1),
        "magma",
        "total-order Sobol index",
        "Sobol: share of each target's variance (total order)",
    )
