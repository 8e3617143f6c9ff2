"""The report's figures: each ``plot_*`` function returns a matplotlib figure.

Series and axes are named by the planner labels of :mod:`sim.records`, never by column names.
A run's figures take its monthly rows (all replications, column ``replication``) and the
scenario as run. A comparison's and a sweep's are :mod:`sim.output.comparison_figures`'
(re-exported here).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from ..domain import CASE_CLASSES, DAYS_PER_YEAR, EXIT_CAUSES, STAFF_ROLES, StaffRole
from ..records import REPLICATION, STAFF_ROLE_LABELS, column_label
from .comparison_figures import FOREST_KPIS, LINE_STYLES, comparison_figures, plot_forest
from .drawing import FigureJob, draw_pngs, png_base64, png_bytes, save_figures

__all__ = [
    "FOREST_KPIS",
    "RUN_FIGURES",
    "FigureJob",
    "comparison_figures",
    "draw_pngs",
    "plot_forest",
    "png_base64",
    "png_bytes",
    "run_figures",
    "save_figures",
]

RunFigure = Callable[[pd.DataFrame, dict[str, Any]], Figure]
"""A run figure: from monthly rows and the scenario as run."""


# --- a run's figures ------------------------------------------------------------------------


def _bands(
    ax: Any,
    monthly: pd.DataFrame,
    columns: Sequence[str],
    colors: Sequence[str] = (),
    labels: Sequence[str] = (),
    styles: Sequence[str] = (),
) -> None:
    """Plot each column's mean over replications by month, with the 5-95 % band (in
    ``colors``, else the cycle's; labelled ``labels``, else by the catalogue; in line
    ``styles``, else solid)."""
    by_month = monthly.groupby("month")[list(columns)]  # grouped once for all the columns
    mean, low, high = by_month.mean(), by_month.quantile(0.05), by_month.quantile(0.95)
    x = pd.to_datetime(mean.index)
    for i, col in enumerate(columns):
        color = {"color": colors[i]} if i < len(colors) else {}
        label = labels[i] if i < len(labels) else column_label(col)
        style = styles[i] if i < len(styles) else "-"
        (line,) = ax.plot(x, mean[col].to_numpy(), label=label, linestyle=style, **color)
        ax.fill_between(
            x, low[col].to_numpy(), high[col].to_numpy(), alpha=0.2, facecolor=line.get_color()
        )


def _mark_warmup(ax: Any, monthly: pd.DataFrame, *, label_at_bottom: bool = False) -> None:
    """Shade the warm-up months (excluded from every KPI) and say so at the top of the panel
    (at the bottom where the lines run along the top: shares at 1)."""
    if "period" not in monthly:
        return
    warmup = monthly.loc[monthly["period"] == "warmup", "month"]
    if warmup.empty:
        return
    run = monthly.loc[monthly["period"] != "warmup", "month"]
    start = pd.to_datetime(warmup.min())
    end = pd.to_datetime(run.min()) if not run.empty else pd.to_datetime(warmup.max())
    ax.axvspan(start, end, color="0.85", alpha=0.5, lw=0, zorder=0)
    ax.axvline(end, color="0.55", lw=0.8, ls=":", zorder=3)  # seen above a stacked area too
    y, offset, va = (0, 3, "bottom") if label_at_bottom else (1, -3, "top")
    ax.annotate(
        "warm-up", (start, y), xycoords=("data", "axes fraction"), xytext=(3, offset),
        textcoords="offset points", ha="left", va=va, fontsize="x-small", color="dimgray",
    )  # fmt: skip


def _band_figure(monthly: pd.DataFrame, columns: Sequence[str], ylabel: str, title: str) -> Figure:
    fig, ax = plt.subplots(figsize=(8, 3.8))
    _bands(ax, monthly, columns)
    _mark_warmup(ax, monthly)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize="small")
    return fig


def plot_open_by_class(monthly: pd.DataFrame, scenario: dict[str, Any]) -> Figure:
    """Open cases by held class over time: mean over replications with a 5-95 % band."""
    return _band_figure(
        monthly,
        [*(f"open_class_{k}" for k in CASE_CLASSES), "waiting_for_class"],
        "open cases (end of month)",
        "Open cases by class (mean, 5-95 % of replications)",
    )


def plot_exits_by_cause(monthly: pd.DataFrame, scenario: dict[str, Any]) -> Figure:
    """Exits in each month, stacked by cause (mean over replications)."""
    columns = [f"exits_{c}" for c in EXIT_CAUSES]
    mean = monthly.groupby("month")[columns].mean()
    fig, ax = plt.subplots(figsize=(8, 4))
    x = pd.to_datetime(mean.index)
    labels = [column_label(c) for c in columns]
    ax.stackplot(x, *[mean[c].to_numpy() for c in columns], labels=labels)
    _mark_warmup(ax, monthly)
    ax.set_ylabel("exits per month (mean)")
    ax.set_title("Exits by cause")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")
    return fig


def plot_funnel(monthly: pd.DataFrame, scenario: dict[str, Any]) -> Figure:
    """Contacts -> booked -> opened -> transferred, per year (mean over replications)."""
    run = monthly[monthly["period"] == "run"]
    years = run.groupby(REPLICATION)["days"].sum().mean() / DAYS_PER_YEAR
    steps = ["contacts", "booked", "cases_opened", "transferred"]
    per_year = [run.groupby(REPLICATION)[c].sum().mean() / years for c in steps]
    fig, ax = plt.subplots(figsize=(8, 3.5))
    bars = ax.barh([column_label(c) for c in steps[::-1]], per_year[::-1], color="tab:blue")
    ax.bar_label(bars, labels=[f"{v:,.0f}".replace(",", " ") for v in per_year[::-1]], padding=3)
    ax.margins(x=0.12)  # room for the longest bar's label inside the axes
    ax.set_xlabel("per year (mean over replications)")
    ax.set_title("The intake funnel")
    return fig


def plot_first_visit_wait(monthly: pd.DataFrame, scenario: dict[str, Any]) -> Figure:
    """The mean wait of each month's first visits; where no month has one (no one at intake),
    the panel says so over the run's months rather than standing empty."""
    fig = _band_figure(
        monthly,
        ["first_visit_wait_days"],
        "days from booking to first visit",
        "First-visit wait (mean, 5-95 % of replications)",
    )
    run = monthly[monthly["period"] == "run"] if "period" in monthly else monthly
    if run["first_visit_wait_days"].notna().any():
        return fig
    ax = fig.axes[0]
    months = pd.to_datetime(monthly["month"])
    ax.set_xlim(months.min(), months.max() + pd.offsets.MonthEnd(1))  # the whole run
    ax.text(
        0.5, 0.5, "no first visit in the reported months: no wait to show (see the warnings)",
        transform=ax.transAxes, ha="center", va="center", fontsize="small", color="dimgray",
    )  # fmt: skip
    if monthly["first_visit_wait_days"].isna().all():
        ax.set_yticks([])  # no scale to read
        legend = ax.get_legend()
        if legend is not None:
            legend.remove()
    return fig


def _norm_steps(scenario: dict[str, Any]) -> list[tuple[str, float]]:
    """The caseload norm from the start and at each timed change that sets it."""
    steps = [(str(scenario.get("start_date")), float(scenario["organisation"]["caseload_norm"]))]
    for change in sorted(scenario.get("changes", []), key=lambda c: str(c.get("at"))):
        norm = (change.get("organisation") or {}).get("caseload_norm")
        if norm is not None:
            steps.append((str(change["at"]), float(norm)))
    return steps


WEIGHTED_LOAD = "weighted_cases_per_social_worker"
"""The caseload figure's weighted line: the social workers' load against the norm times the
norm in force, the weighted cases per full-time social worker the norm is a number of."""


def _norm_by_month(monthly: pd.DataFrame, steps: list[tuple[str, float]]) -> pd.Series:
    """The caseload norm in force in each month row (a change from its month on)."""
    months = pd.to_datetime(monthly["month"])
    norm = pd.Series(steps[0][1], index=monthly.index, dtype=float)
    for day, value in steps[1:]:
        norm[months >= pd.to_datetime(day)] = value
    return norm


def plot_caseload_against_norm(monthly: pd.DataFrame, scenario: dict[str, Any]) -> Figure:
    """Cases carried per ongoing social worker and, as the norm counts them (cases weighted
    by class, per full-time social worker), the weighted cases the norm is compared with:
    the norm as a step line."""
    fig, ax = plt.subplots(figsize=(8, 3.5))
    _bands(ax, monthly, ["caseload_per_social_worker"], labels=["cases carried (a count)"])
    weighted = "organisation" in scenario and "social_worker_utilisation" in monthly
    if weighted:
        steps = _norm_steps(scenario)
        load = monthly["social_worker_utilisation"] * _norm_by_month(monthly, steps)
        _bands(
            ax,
            monthly.assign(**{WEIGHTED_LOAD: load}),
            [WEIGHTED_LOAD],
            colors=("tab:purple",),
            labels=["weighted cases per full-time social worker (as the norm counts)"],
        )
    _mark_warmup(ax, monthly)
    if "organisation" in scenario:
        steps = _norm_steps(scenario)
        end = pd.to_datetime(monthly["month"].max()) + pd.offsets.MonthEnd(1)
        xs = [pd.to_datetime(d) for d, _ in steps] + [end]
        xs[0] = min(xs[0], pd.to_datetime(monthly["month"].min()))  # in force in the warm-up too
        ys = [n for _, n in steps] + [steps[-1][1]]
        ax.step(xs, ys, where="post", color="tab:red", linestyle="--", label="caseload norm")
    ax.set_ylabel("cases per social worker")
    ax.set_title("Caseload per social worker against the norm (weighted)")
    # under the panel: inside it, a legend of three long entries crossed the lines or the norm
    ax.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2)
    return fig


WORKLOAD_PANELS: tuple[tuple[StaffRole, str], ...] = (
    ("ongoing_social_workers", "social_worker"),
    ("benefit_administrators", "administrator"),
)
"""The workload figure's panels: the staff role and the prefix of its hours columns."""

NOT_RECORDED = "not recorded in this results folder (made before staff time was modelled)"
"""What a staff-time panel says when ``monthly.csv`` lacks its columns (an older folder)."""


def _not_recorded(ax: Any) -> None:
    ax.text(0.5, 0.5, NOT_RECORDED, transform=ax.transAxes, ha="center", va="center",
            fontsize="small", color="dimgray")  # fmt: skip


def plot_workload(monthly: pd.DataFrame, scenario: dict[str, Any]) -> Figure:
    """Hours the cases need against the hours available for cases, per month, for ongoing
    social workers and for benefit administrators (one panel each): mean over replications
    with the 5-95 % band, the warm-up months shaded. Where needed rises above available, some
    cases get less contact than planned."""
    fig, axes = plt.subplots(2, 1, figsize=(8, 6.4), sharex=True)
    for ax, (role, prefix) in zip(axes, WORKLOAD_PANELS, strict=True):
        columns = [f"{prefix}_hours_available", f"{prefix}_hours_needed"]
        ax.set_title(STAFF_ROLE_LABELS[role], fontsize="medium")
        ax.set_ylabel("hours per month")
        if not set(columns) <= set(monthly.columns):
            _not_recorded(ax)
            continue
        _bands(ax, monthly, columns, colors=("tab:green", "tab:red"))
        _mark_warmup(ax, monthly)
        ax.set_ylim(bottom=0)
        ax.legend(fontsize="small", loc="lower left")
    fig.suptitle("Hours needed against hours available (mean, 5-95 % of replications)")
    fig.subplots_adjust(hspace=0.22, top=0.9)
    return fig


def plot_delivered_share(monthly: pd.DataFrame, scenario: dict[str, Any]) -> Figure:
    """The share of planned contact delivered to each class (A, B, C) per month: mean over
    replications with the 5-95 % band, the warm-up months shaded. 1 is all that was planned."""
    fig, ax = plt.subplots(figsize=(8, 3.5))
    columns = [f"delivered_share_{k}" for k in CASE_CLASSES]
    ax.set_ylabel("share of planned contact")
    ax.set_title("Planned contact delivered by class (mean, 5-95 % of replications)")
    if not set(columns) <= set(monthly.columns):
        _not_recorded(ax)
        return fig
    _bands(ax, monthly, columns, styles=LINE_STYLES)  # A and C often both at 1: both seen
    _mark_warmup(ax, monthly, label_at_bottom=True)
    low = float(monthly.groupby("month")[columns].quantile(0.05).min().min())
    low = 0.9 if math.isnan(low) else min(low, 0.9)
    ax.set_ylim(max(low - 0.05, 0.0), 1.04)
    ax.axhline(1.0, color="grey", lw=0.8, ls=":")
    ax.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2)
    return fig


def plot_staff_in_post(monthly: pd.DataFrame, scenario: dict[str, Any]) -> Figure:
    """People working in each role at month end (the legend beside the panel: the roles'
    bands fill it)."""
    fig = _band_figure(
        monthly,
        [f"staff_in_post_{role}" for role in STAFF_ROLES],
        "working at month end",
        "Staff in post (not vacant, not on leave)",
    )
    fig.axes[0].legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1))
    return fig


def plot_ar_team(monthly: pd.DataFrame, scenario: dict[str, Any]) -> Figure:
    """The AR team's programme, waiting list and staffed capacity at month end."""
    return _band_figure(
        monthly,
        ["ar_team_in_programme", "ar_team_waiting", "ar_team_capacity"],
        "persons (month end)",
        "AR team",
    )


def plot_unemployment(monthly: pd.DataFrame, scenario: dict[str, Any]) -> Figure:
    """The unemployment path the run followed (monthly means)."""
    fig, ax = plt.subplots(figsize=(8, 3))
    g = monthly.groupby("month")["unemployment_percent"].mean()
    ax.plot(pd.to_datetime(g.index), g.to_numpy(), color="tab:gray")
    _mark_warmup(ax, monthly)
    ax.set_ylabel("% of population")
    ax.set_title(column_label("unemployment_percent"))
    return fig


def plot_cumulative_cost(monthly: pd.DataFrame, scenario: dict[str, Any]) -> Figure:
    """Assistance paid and staff cost, summed month by month over the reported period (the
    warm-up's months are left out, as from every KPI), in Mkr."""
    data = monthly
    if "period" in data:
        data = data[data["period"] != "warmup"]
    data = data.sort_values([REPLICATION, "month"]).copy()
    columns = ("assistance_paid_sek", "staff_cost_sek")
    for col in columns:
        data[col] = data.groupby(REPLICATION)[col].cumsum() / 1e6
    return _band_figure(
        data, columns, "Mkr, cumulative", "Cumulative cost over the reported period"
    )


RUN_FIGURES: tuple[tuple[str, RunFigure], ...] = (
    ("open_by_class", plot_open_by_class),
    ("exits_by_cause", plot_exits_by_cause),
    ("funnel", plot_funnel),
    ("first_visit_wait", plot_first_visit_wait),
    ("caseload_against_norm", plot_caseload_against_norm),
    ("workload", plot_workload),
    ("delivered_share", plot_delivered_share),
    ("staff_in_post", plot_staff_in_post),
    ("ar_team", plot_ar_team),
    ("unemployment", plot_unemployment),
    ("cumulative_cost", plot_cumulative_cost),
)
"""A run report's figures, in order: the file name under ``figures/`` and its maker."""


def run_figures(monthly: pd.DataFrame, scenario: dict[str, Any]) -> list[FigureJob]:
    """Every figure of :data:`RUN_FIGURES` for one run, to be drawn."""
    return [FigureJob(name, maker, (monthly, scenario)) for name, maker in RUN_FIGURES]
