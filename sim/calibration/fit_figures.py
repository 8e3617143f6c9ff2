"""The fit report's figures: targets against the model, the posterior, and how the searches went.

Each function draws one matplotlib figure from the tables of :mod:`sim.calibration.fit_report`
(or the point fit's and the posterior's own frames) and returns it open; the report turns it into
an embedded PNG and closes it.
"""

from __future__ import annotations

import math
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from .spec import CalibrationProblem


def plot_targets(table: pd.DataFrame) -> Any:
    """Each target on its own scale: reported band, point fit and posterior predictive."""
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(table) + 1.2))
    for i, row in enumerate(table.itertuples()):
        scale = max(abs(row.band_high - row.reported), abs(row.reported - row.band_low)) or 1.0

        def z(v: float, row: Any = row, scale: float = scale) -> float:
            return float((v - row.reported) / scale)

        ax.plot(
            [z(row.band_low), z(row.band_high)], [i, i], color="#bbb", lw=8, solid_capstyle="butt"
        )
        ax.plot([z(row.point_p05), z(row.point_p95)], [i - 0.12] * 2, color="C0")
        ax.plot(z(row.point_mean), i - 0.12, "o", color="C0")
        if "predictive_mean" in table.columns:
            ax.plot([z(row.predictive_p05), z(row.predictive_p95)], [i + 0.12] * 2, color="C1")
            ax.plot(z(row.predictive_mean), i + 0.12, "s", color="C1")
    ax.axvline(0, color="k", lw=0.8)
    ax.set_yticks(range(len(table)), table["target"])
    ax.invert_yaxis()
    ax.set_xlabel("model − reported, in half-widths of the reported band (grey: the band)")
    handles = [
        Line2D([], [], color="#bbb", lw=8, label="reported band"),
        Line2D([], [], color="C0", marker="o", label="point fit: mean, 90 % of replications"),
    ]
    if "predictive_mean" in table.columns:
        handles.append(
            Line2D([], [], color="C1", marker="s", label="posterior predictive: mean, 90 %")
        )
    ax.legend(handles=handles, loc="lower right", fontsize=8)
    ax.set_title("Targets: reported against simulated")
    return fig


def plot_marginals(
    problem: CalibrationProblem, sample: pd.DataFrame, point: dict[str, float]
) -> Any:
    """Each parameter's weighted posterior histogram over its prior range, with the point fit."""
    names = problem.names
    cols = 4
    rows = math.ceil(len(names) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.2 * rows), squeeze=False)
    w = sample["weight"].to_numpy(float)
    for ax, entry in zip(axes.flat, problem.spec.calibrate, strict=False):
        ax.hist(sample[entry.path], bins=20, weights=w, range=(entry.low, entry.high), color="C1")
        ax.axvline(point[entry.path], color="C0", lw=2)
        ax.set_xlim(entry.low, entry.high)
        ax.set_title(entry.path, fontsize=8)
        ax.set_yticks([])
    for ax in list(axes.flat)[len(names) :]:
        ax.set_visible(False)
    fig.suptitle("Posterior marginals over the prior range (blue line: point fit)")
    fig.tight_layout()
    return fig


def plot_pairs(
    problem: CalibrationProblem, sample: pd.DataFrame, identified: pd.DataFrame, most: int = 5
) -> Any:
    """Pairwise posterior scatter of the ``most`` best identified parameters (lowest sd ratio)."""
    chosen = list(identified.sort_values("sd_ratio")["parameter"].head(most))
    n = len(chosen)
    fig, axes = plt.subplots(n, n, figsize=(2.1 * n, 2.1 * n), squeeze=False)
    w = sample["weight"].to_numpy(float)
    alpha = np.clip(w / w.max(), 0.05, 1.0)
    bounds = {e.path: (e.low, e.high) for e in problem.spec.calibrate}
    for i, a in enumerate(chosen):
        for j, b in enumerate(chosen):
            ax = axes[i][j]
            if i == j:
                ax.hist(sample[a], bins=15, weights=w, range=bounds[a], color="C1")
                ax.set_yticks([])
            elif i > j:
                ax.scatter(sample[b], sample[a], s=6, alpha=alpha, color="C1")
                ax.set_xlim(*bounds[b])
                ax.set_ylim(*bounds[a])
            else:
                ax.set_visible(False)
            ax.tick_params(labelsize=6)
            if i == n - 1:
                ax.set_xlabel(b, fontsize=7)
            if j == 0 and i > 0:
                ax.set_ylabel(a, fontsize=7)
    fig.suptitle(f"Posterior pairs of the {n} best identified parameters")
    return fig


def plot_abc_diagnostics(diag: pd.DataFrame) -> Any:
    """ABC-SMC by generation: the tolerance, the acceptance rate and the effective sample size."""
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3))
    ax1.semilogy(diag["generation"], diag["epsilon"], "o-")
    ax1.set_xlabel("generation")
    ax1.set_ylabel("tolerance (distance)")
    ax2.plot(diag["generation"], diag["acceptance_rate"], "o-", label="acceptance rate")
    ax2.set_xlabel("generation")
    ax2.set_ylim(0, 1)
    ax3 = ax2.twinx()
    ax3.plot(diag["generation"], diag["effective_sample_size"], "s--", color="C1", label="ESS")
    ax3.set_ylabel("effective sample size")
    ax2.set_ylabel("acceptance rate")
    fig.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    return fig


def plot_fit_history(history: pd.DataFrame) -> Any:
    """The point fit's best distance by generation of differential evolution."""
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.semilogy(history["generation"], history["best_distance"], "o-")
    ax.set_xlabel("generation")
    ax.set_ylabel("best weighted distance")
    ax.set_title("Point fit (differential evolution)")
    fig.tight_layout()
    return fig
