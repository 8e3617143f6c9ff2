"""The figures of a comparison and of a sweep: each ``plot_*`` function returns a figure.

The forest plot gives every KPI its own panel and its own scale, in the KPI's unit: a KPI that
triples no longer squashes the others to a dot at zero, as one shared "% of base" axis did. An
interval stops where the alternative would fall below zero (none of these KPIs can be
negative) or a share of a whole above 1; with one replication a point says "no interval". A
second forest plot, of staff time, shows the hours and delivered shares a staffing decision
trades. A sweep's figure shows each KPI's mean and interval at every point, against the swept
value when one number is swept.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..records import column_label, kpi_label
from .drawing import FigureJob
from .formatting import axis_scale, difference_interval, kpi_unit, level_interval, percent_change

FOREST_KPIS = (
    "mean_monthly_households",
    "exits_work_per_year",
    "mean_episode_months",
    "share_long_term_10_of_12",
    "first_visit_wait_days",
    "mean_monthly_waiting_for_class",
    "assistance_paid_sek_per_year",
    "staff_cost_sek_per_year",
)
"""The KPIs of the comparison's forest plot and of the sweep's figure, in reading order."""

STAFF_TIME_FOREST_KPIS = (
    "social_worker_hours_available_per_year",
    "social_worker_hours_needed_per_year",
    "administrator_hours_available_per_year",
    "administrator_hours_needed_per_year",
    "delivered_share_a",
    "delivered_share_b",
    "delivered_share_c",
    "handovers_per_year",
)
"""The KPIs of the comparison's staff-time forest plot, in reading order: each role's hours
available beside the hours its cases need, the share of planned contact delivered by class,
and hand-overs; what a staffing decision trades."""

TITLE_WIDTH = 48
"""A forest panel's title is wrapped at this many characters, so that two long labels side by
side (the staff-time hours) do not run into each other."""

NO_INTERVAL = "no interval"
"""What a point without an interval (one replication) says beside it."""


def forest_rows(differences: pd.DataFrame, kpis: Sequence[str] = FOREST_KPIS) -> pd.DataFrame:
    """What the forest plot draws: per KPI of ``kpis`` and alternative, the difference and its
    paired interval (``low``, ``high``, NaN without one), cut where the alternative would fall
    below zero (or a share above 1), in the axis' unit (Mkr for money), and the difference
    in % of the base mean (text); with ``compare --posterior``, the parameters' share of the
    difference's variance (else NaN)."""
    rows = []
    for _, r in differences[differences["kpi"].isin(kpis)].iterrows():
        kpi = str(r["kpi"])
        unit = kpi_unit(kpi, r.get("unit"))
        scale, shown = axis_scale(unit)
        low, high = difference_interval(r["ci_low"], r["ci_high"], r["base_mean"], kpi, unit)
        rows.append(
            {
                "alternative": r["alternative"],
                "kpi": kpi,
                "unit": shown,
                "difference": r["difference"] / scale,
                "low": low / scale,
                "high": high / scale,
                "percent": percent_change(r["difference"], r["base_mean"], kpi),
                "parameter_share": float(r.get("parameter_share", math.nan)),
            }
        )
    columns = ["alternative", "kpi", "unit", "difference", "low", "high", "percent"]
    columns.append("parameter_share")
    return pd.DataFrame(rows, columns=columns)


def _point(
    ax: Axes, value: float, at: float, low: float, high: float, color: str, *, across: bool
) -> None:
    """One mean or difference with its interval, or "no interval" beside the point; drawn
    along x at height ``at`` (``across``), else along y at ``at``."""
    if math.isnan(value):
        return
    x, y = (value, at) if across else (at, value)
    if math.isnan(low) or math.isnan(high):
        ax.plot([x], [y], "o", color=color)
        ax.annotate(
            NO_INTERVAL, (x, y), xytext=(0, -9), textcoords="offset points", ha="center",
            va="top", fontsize="x-small", color="dimgray",
        )  # fmt: skip
        return
    error = [[max(value - low, 0.0)], [max(high - value, 0.0)]]
    if across:
        ax.errorbar([x], [y], xerr=error, fmt="o", capsize=3, color=color)
    else:
        ax.errorbar([x], [y], yerr=error, fmt="o", capsize=3, color=color)


def _grid(count: int, rows_per_panel: int, *, share_y: bool) -> tuple[Figure, list[Axes]]:
    """A figure of ``count`` panels, two a row, each tall enough for ``rows_per_panel``."""
    ncols = 1 if count == 1 else 2
    nrows = math.ceil(count / ncols)
    height = nrows * (0.3 * rows_per_panel + 1.3) + 0.8
    fig, grid = plt.subplots(nrows, ncols, figsize=(10, height), squeeze=False, sharey=share_y)
    axes = list(grid.flat)
    for ax in axes[count:]:
        ax.set_visible(False)
    return fig, axes[:count]


def _difference_axis(ax: Axes, rows: pd.DataFrame) -> None:
    """A difference panel's x axis: room around the points, plain ticks (no offset), and a
    symmetric range when every difference is zero (not a range of 1e-17)."""
    ends = pd.concat([rows["difference"], rows["low"], rows["high"]]).dropna().abs()
    if ends.empty or ends.max() < 1e-9:
        ax.set_xlim(-1, 1)
    else:
        ax.margins(x=0.25)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=5))
    ax.ticklabel_format(axis="x", style="plain", useOffset=False)


FOREST_TITLE = "Alternatives against the base: difference and paired 95 % interval"


def plot_forest(
    differences: pd.DataFrame, kpis: Sequence[str] = FOREST_KPIS, title: str = FOREST_TITLE
) -> Figure:
    """Each alternative's difference from the base with its paired 95 % interval: one panel
    and one scale per KPI of ``kpis``, in the KPI's unit; over posterior draws, each point
    also says what share of its variance the parameters make."""
    rows = forest_rows(differences, kpis)
    alts = list(dict.fromkeys(rows["alternative"]))
    kpis = [k for k in kpis if k in set(rows["kpi"])]
    fig, axes = _grid(max(len(kpis), 1), max(len(alts), 1), share_y=True)
    for ax, kpi in zip(axes, kpis, strict=False):
        sub = rows[rows["kpi"] == kpi].set_index("alternative")
        for j, alt in enumerate(alts):
            r = sub.loc[alt]
            _point(ax, r["difference"], j, r["low"], r["high"], f"C{j % 10}", across=True)
            labels = [f"{r['percent']} of base".replace("\u00a0", " ")] if r["percent"] else []
            if not math.isnan(r["parameter_share"]):  # compare --posterior
                labels.append(f"parameters {r['parameter_share']:.0%}")
            if labels and not math.isnan(r["difference"]):
                text = "; ".join(labels)
                ax.annotate(
                    text, (r["difference"], j), xytext=(0, 6),
                    textcoords="offset points", ha="center", fontsize="x-small",
                )  # fmt: skip
        ax.axvline(0, color="grey", lw=1)
        ax.set_title(textwrap.fill(kpi_label(kpi), TITLE_WIDTH), fontsize="medium")
        ax.set_xlabel(f"difference from the base ({sub['unit'].iloc[0]})", fontsize="small")
        _difference_axis(ax, sub)
    axes[0].set_yticks(range(len(alts)), alts)
    axes[0].set_ylim(len(alts) - 0.5, -0.5)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


LINE_STYLES = ("-", "--", ":", "-.")
"""Line styles taken in turn by lines that may coincide (scenarios, classes)."""


def plot_households_all(named_monthly: Sequence[tuple[str, pd.DataFrame]]) -> Figure:
    """Households receiving assistance per month in each scenario, with 5-95 % bands."""
    fig, ax = plt.subplots(figsize=(8, 4))
    for i, (name, monthly) in enumerate(named_monthly):
        g = monthly.groupby("month")["households"]
        x = pd.to_datetime(g.mean().index)
        # styles as well as colours: an alternative that changes nothing lies on the base's
        # line, which a solid line over it would hide
        style = LINE_STYLES[i % len(LINE_STYLES)]
        ax.plot(x, g.mean().to_numpy(), label=name, linestyle=style, lw=2.2 if i == 0 else 1.5)
        ax.fill_between(x, g.quantile(0.05).to_numpy(), g.quantile(0.95).to_numpy(), alpha=0.15)
    ax.set_ylabel(f"{column_label('households').lower()} per month")
    ax.set_title(f"{kpi_label('mean_monthly_households')} (mean, 5-95 % of replications)")
    ax.legend(fontsize="small")
    return fig


STAFF_TIME_FOREST_TITLE = "Staff time against the base: difference and paired 95 % interval"


def comparison_figures(
    differences: pd.DataFrame, named_monthly: Sequence[tuple[str, pd.DataFrame]]
) -> list[FigureJob]:
    """The comparison report's figures, to be drawn: the forest plot, the staff-time forest
    plot (not for a comparison made before staff time was modelled) and households in every
    scenario."""
    out = [FigureJob("forest", plot_forest, (differences,))]
    if differences["kpi"].isin(STAFF_TIME_FOREST_KPIS).any():
        staff = (differences, STAFF_TIME_FOREST_KPIS, STAFF_TIME_FOREST_TITLE)
        out.append(FigureJob("forest_staff_time", plot_forest, staff))
    out.append(FigureJob("households_all", plot_households_all, (named_monthly,)))
    return out


# --- a sweep's figure -----------------------------------------------------------------------


def sweep_figures(summary: pd.DataFrame, points: Sequence[dict[str, Any]]) -> list[FigureJob]:
    """A sweep report's one figure, to be drawn (:func:`plot_sweep`)."""
    return [FigureJob("sweep", plot_sweep, (summary, points))]


def _sweep_axis(points: Sequence[dict[str, Any]]) -> tuple[list[float], list[str], str]:
    """The x positions of a sweep's points: the swept value when one number is swept, else
    the points in order, labelled with their values."""
    keys = list(dict.fromkeys(k for p in points for k in p))
    values = [p.get(keys[0]) for p in points] if len(keys) == 1 else []
    if values and all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        numbers = [float(v) for v in values if isinstance(v, int | float)]
        return numbers, [f"{v:g}" for v in numbers], keys[0]
    labels = [", ".join(f"{k.split('.')[-1]}={v}" for k, v in p.items()) for p in points]
    return [float(i) for i in range(len(points))], labels, "sweep point"


def plot_sweep(summary: pd.DataFrame, points: Sequence[dict[str, Any]]) -> Figure:
    """Each KPI of :data:`FOREST_KPIS` at every sweep point: the mean over replications with
    its 95 % interval (never below zero), one panel and one scale per KPI.

    ``summary`` has a row per point and KPI (``point``, numbered from 0, ``kpi``, ``mean``,
    ``ci_low``, ``ci_high``, ``unit``); ``points`` holds each point's swept values.
    """
    xs, labels, name = _sweep_axis(points)
    kpis = [k for k in FOREST_KPIS if k in set(summary["kpi"])]
    fig, axes = _grid(max(len(kpis), 1), 6, share_y=False)
    for ax, kpi in zip(axes, kpis, strict=False):
        rows = summary[summary["kpi"] == kpi].sort_values("point")
        unit = kpi_unit(kpi, rows["unit"].iloc[0])
        scale, shown = axis_scale(unit)
        ax.plot(xs, (rows["mean"] / scale).to_numpy(), color="C0", alpha=0.4, lw=1)
        for x, (_, r) in zip(xs, rows.iterrows(), strict=True):
            low, high = level_interval(r["ci_low"], r["ci_high"], kpi, unit)
            _point(ax, r["mean"] / scale, x, low / scale, high / scale, "C0", across=False)
        ax.set_title(kpi_label(kpi), fontsize="medium")
        ax.set_ylabel(shown, fontsize="small")
        ax.set_xticks(xs, labels, fontsize="small")
        ax.set_xlabel(name, fontsize="small")
    fig.suptitle("KPIs at each point of the sweep: mean and 95 % interval")
    fig.tight_layout()
    return fig
