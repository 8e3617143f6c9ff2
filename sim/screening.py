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

from .calibration import CalibrationSpec, apply_parameters, load_spec
from .experiment import ProgressCallback, run_scenarios
from .parameters import ModelParameters
from .scenario import ResolvedScenario, load_scenarios
from .targets import Target, TargetFile, load_targets
from .validation import InputError

DUMMY = "dummy"


@dataclasses.dataclass
class Screening:
    """Morris results: one row per parameter and target."""

    table: pd.DataFrame
    samples: pd.DataFrame  # the parameter points run, with each target KPI's mean
    spec: CalibrationSpec


def target_sd(target: Target) -> float:
    """The target's uncertainty as a standard deviation (a range counts as ±2 sd)."""
    if target.sd is not None:
        return target.sd
    assert target.range is not None
    return (target.range[1] - target.range[0]) / 4 or math.nan


def _setup(
    spec_path: Path,
) -> tuple[CalibrationSpec, ModelParameters, TargetFile, ResolvedScenario]:
    spec, base = load_spec(spec_path)
    targets_path = (spec_path.parent / spec.targets).resolve()
    targets = load_targets(targets_path)
    if targets.scenario is None:
        raise InputError.single(targets_path, "scenario", "screening needs the targets' scenario")
    resolved = load_scenarios(
        (targets_path.parent / targets.scenario).resolve(), years=targets.years
    )[0]
    return spec, base, targets, resolved


def screen(
    spec_path: str | Path,
    *,
    trajectories: int = 10,
    levels: int = 4,
    replications: int = 3,
    workers: int | None = None,
    progress: ProgressCallback | None = None,
) -> Screening:
    """Morris screening of the spec's parameters against its targets (those with a KPI)."""
    from SALib.analyze import morris as morris_analyze
    from SALib.sample import morris as morris_sample

    spec, base, targets, resolved = _setup(Path(spec_path))
    compared = [t for t in targets.targets if t.kpi is not None]
    entries = list(spec.calibrate)
    names = [e.path for e in entries] + [DUMMY]
    bounds = [
        [math.log(e.low), math.log(e.high)] if e.log_scale else [e.low, e.high] for e in entries
    ] + [[0.0, 1.0]]
    problem: dict[str, Any] = {"num_vars": len(names), "names": names, "bounds": bounds}
    seed = resolved.scenario.seed
    x = morris_sample.sample(problem, N=trajectories, num_levels=levels, seed=seed)
    points = []
    for row in x:
        values = {
            e.path: (math.exp(v) if e.log_scale else float(v))
            for e, v in zip(entries, row[:-1], strict=True)
        }
        params = apply_parameters(base, spec, values)
        scenario = resolved.scenario.model_copy(update={"replications": replications})
        points.append(dataclasses.replace(resolved, parameters=params, scenario=scenario))
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
        res = morris_analyze.analyze(problem, x, y, num_levels=levels, seed=seed)
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
    return Screening(pd.DataFrame(rows), samples, spec)


def plot_screening(screening: Screening) -> Any:
    """Heat map: each parameter's effect on each target, in target standard deviations."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pivot = screening.table.pivot(index="parameter", columns="target", values="mu_star_per_sd")
    order = [p for p in [*(e.path for e in screening.spec.calibrate), DUMMY] if p in pivot.index]
    pivot = pivot.loc[order]
    fig, ax = plt.subplots(figsize=(1.0 + 0.7 * pivot.shape[1], 1.0 + 0.4 * pivot.shape[0]))
    image = ax.imshow(np.log10(pivot.to_numpy() + 1e-3), cmap="viridis", aspect="auto")
    ax.set_xticks(range(pivot.shape[1]), pivot.columns, rotation=60, ha="right")
    ax.set_yticks(range(pivot.shape[0]), pivot.index)
    for (i, j), value in np.ndenumerate(pivot.to_numpy()):
        ax.text(j, i, f"{value:.1f}", ha="center", va="center", fontsize=7, color="white")
    fig.colorbar(image, ax=ax, label="log10 of mu* in target standard deviations")
    ax.set_title("Morris screening: effect on each target (target sd)")
    return fig
