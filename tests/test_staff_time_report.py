"""Staff time in the reports (issue 15, item 10): what a planner sees of hours and contact.

Staff time is causal in the model: each month row has the hours ongoing social workers and
benefit administrators have for cases, the hours their cases need and the hours delivered, the
share of planned contact delivered by class, hand-overs and cases carried above the norm. These
tests check that a planner can see them: the catalogue's labels and units read as a planner
reads them and print with a fixed number of decimals; a delivered share never shows an interval
above 1 (a utilisation, a load against the norm, may); the workload figures exist and draw
needed against available hours per role with the warm-up marked; the run report has a "Staff
time" table; and the comparison's forest plot and differences carry the staff-time KPIs.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from sim.experiments.runner import ScenarioResults, run_scenario
from sim.inputs.loading import load_scenarios
from sim.output import figures
from sim.output.formatting import UNIT_DECIMALS, difference_interval, level_interval
from sim.output.report import render_report
from sim.records import (
    HEADLINE,
    KPI,
    KPIS,
    MONTH_RECORD,
    STAFF_ROLE_LABELS,
    STAFF_TIME,
    STAFF_TIME_KPIS,
    column_label,
)
from tests.baseline.store import SCENARIOS


@pytest.fixture(scope="module")
def results() -> ScenarioResults:
    """Two replications of a small fixed scenario with a 90-day warm-up (the stored
    baseline's merged unit)."""
    (resolved,) = load_scenarios(SCENARIOS / "merged.toml")
    return run_scenario(resolved, workers=1)


STAFF_COLUMNS = [c.name for c in MONTH_RECORD if "_hours_" in c.name or "delivered_share" in c.name]
"""The month columns of staff time a results folder made before issue 15 lacks."""


def test_every_unit_of_the_catalogue_has_its_decimals() -> None:
    """Every KPI's unit (hours per year, cases, shares ...) has a fixed number of decimals, so
    that no report falls back to guessing them from a number's size."""
    missing = {k.unit for k in KPIS} - set(UNIT_DECIMALS)
    assert not missing, missing


def test_a_delivered_share_stops_at_one_and_a_utilisation_does_not() -> None:
    """A delivered share is a share of what was planned: its interval stops at 1 (and at 0),
    in the run report and as a difference from a base. A utilisation is a load against the
    norm, which may exceed 1. Hours and cases above the norm never go below zero."""
    for kpi in ("delivered_share_a", "delivered_share_b", "delivered_share_c"):
        assert level_interval(0.94, 1.002, kpi, "share") == (0.94, 1.0)
        assert level_interval(-0.01, 0.5, kpi, "share") == (0.0, 0.5)
        # base 0.96: the alternative cannot exceed 1, so the difference stops at +0.04
        low, high = difference_interval(-0.1, 0.08, 0.96, kpi, "share")
        assert (low, high) == (-0.1, pytest.approx(0.04))
    assert level_interval(0.9, 1.002, "delivered_share_administrators", "share")[1] == 1.0
    assert level_interval(0.9, 1.3, "social_worker_utilisation", "share") == (0.9, 1.3)
    assert level_interval(0.9, 1.3, "administrator_utilisation", "share") == (0.9, 1.3)
    hours = "social_worker_hours_needed_per_year"
    assert level_interval(-5.0, 20.0, hours, "hours per year") == (0.0, 20.0)
    above = "mean_monthly_cases_above_norm"
    assert level_interval(-0.11, 0.23, above, "cases") == (0.0, 0.23)
    assert difference_interval(-0.5, 0.4, 0.06, above, "cases") == (-0.06, 0.4)


def test_staff_time_labels_read_as_a_planner_reads_them() -> None:
    """The staff-time KPIs are named in words (no column names), a utilisation says what above
    1 means, and a hand-over is called one."""
    staff = [c for c in MONTH_RECORD if "hours" in c.name or "share" in c.name]
    staff += [c for c in MONTH_RECORD if c.name.startswith(("follow_ups", "handovers", "cases_"))]
    for column in staff:
        assert "_" not in column.label, column.name
    for kpi in ("social_worker_utilisation", "administrator_utilisation"):
        assert "above 1: above the norm" in KPI[kpi].label
    assert KPI["handovers_per_year"].label.startswith("Hand-overs")
    assert KPI["follow_ups_b_per_year"].label == "Follow-ups delivered per year, class B"
    assert "(mean at month end) (mean" not in KPI["mean_monthly_cases_above_norm"].label
    assert "month end (mean" not in KPI["mean_monthly_cases_above_norm"].label


# --- the workload figures -------------------------------------------------------------------


def _legend(ax: Any) -> list[str]:
    legend = ax.get_legend()
    return [t.get_text() for t in legend.get_texts()] if legend else []


def _texts(fig: Figure) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def test_the_run_report_has_the_workload_figures() -> None:
    """The workload figure and the delivered-share figure are run figures, drawn for every
    run report and rebuilt by ``caseflow report`` (both take the figures from RUN_FIGURES)."""
    names = [name for name, _ in figures.RUN_FIGURES]
    assert "workload" in names and "delivered_share" in names
    assert names.index("workload") == names.index("caseload_against_norm") + 1


def test_workload_figure_draws_needed_against_available_hours_per_role(
    results: ScenarioResults,
) -> None:
    """Two panels, ongoing social workers and benefit administrators, each with the hours
    available and the hours needed per month (the mean over replications, by their planner
    labels, with a 5-95 % band), from zero, and the warm-up months shaded and named."""
    monthly = results.monthly
    fig = figures.plot_workload(monthly, {})
    panels = {ax.get_title(): ax for ax in fig.axes}
    assert list(panels) == [
        STAFF_ROLE_LABELS["ongoing_social_workers"],
        STAFF_ROLE_LABELS["benefit_administrators"],
    ]
    for ax, prefix in zip(panels.values(), ("social_worker", "administrator"), strict=True):
        columns = [f"{prefix}_hours_available", f"{prefix}_hours_needed"]
        assert _legend(ax) == [column_label(c) for c in columns]
        means = monthly.groupby("month")[columns].mean()
        series = [line for line in ax.get_lines() if not line.get_label().startswith("_")]
        for line, column in zip(series, columns, strict=True):  # not the warm-up's end
            assert np.allclose(np.asarray(line.get_ydata(), float), means[column].to_numpy())
        assert len(ax.collections) == 2  # one band per series
        assert ax.get_ylim()[0] == 0
        assert ax.get_ylabel() == "hours per month"
        assert ax.patches, "the warm-up is not shaded"
    assert "period" in monthly and (monthly["period"] == "warmup").any()
    assert _texts(fig).count("warm-up") == 2
    assert "needed against hours available" in fig.get_suptitle()
    plt.close(fig)


def test_delivered_share_figure_shows_each_class(results: ScenarioResults) -> None:
    """The share of planned contact delivered to A, B and C cases per month, by label, on an
    axis that ends just above 1 (all that was planned), warm-up marked."""
    fig = figures.plot_delivered_share(results.monthly, {})
    (ax,) = fig.axes
    assert _legend(ax) == [column_label(f"delivered_share_{k}") for k in "abc"]
    low, high = ax.get_ylim()
    assert 0 <= low < 1 < high <= 1.05
    assert "warm-up" in _texts(fig)
    plt.close(fig)


def test_workload_figures_of_an_older_results_folder_say_not_recorded(
    results: ScenarioResults,
) -> None:
    """``caseflow report`` on a folder made before staff time was modelled draws the figures
    with a note in place of the series, rather than failing."""
    older = results.monthly.drop(columns=STAFF_COLUMNS)
    for maker in (figures.plot_workload, figures.plot_delivered_share):
        fig = maker(older, {})
        assert figures.NOT_RECORDED in _texts(fig)
        assert not any(ax.get_lines() for ax in fig.axes)
        plt.close(fig)


def test_warm_up_shading_needs_warm_up_months(results: ScenarioResults) -> None:
    """Without warm-up months nothing is shaded (and nothing fails)."""
    run_only = results.monthly[results.monthly["period"] == "run"]
    fig = figures.plot_workload(pd.DataFrame(run_only), {})
    assert not any(ax.patches for ax in fig.axes) and "warm-up" not in _texts(fig)
    plt.close(fig)


# --- the run report's staff-time table ------------------------------------------------------


def _section(page: str, heading: str) -> str:
    """The page from ``heading`` to the next section heading."""
    start = page.index(heading)
    return page[start : page.index("<h2>", start + 1)]


def _row(section: str, kpi: str) -> list[str]:
    """The text of each cell of the row whose tooltip is ``kpi``."""
    row = next(r for r in section.split("<tr>") if f'title="{kpi}"' in r)
    return [
        html.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<td[^>]*>(.*?)</td>", row)
    ]


def test_run_report_has_a_staff_time_table(results: ScenarioResults, tmp_path: Path) -> None:
    """Below the headline KPIs, a "Staff time" table lists hours available, needed and
    delivered per year by role, the caseload carried, the load against the norm, cases above
    the norm, the delivered shares and follow-ups by class and hand-overs per year: each by its
    planner label and unit with the mean and 95 % interval, in groups headed by role; the
    workload figure is embedded with the others."""
    manifest: dict[str, Any] = {"scenario_name": "merged", "scenario": {}, "replications": 2}
    page = render_report(tmp_path, results.summary, results.monthly, manifest)
    assert (
        page.index("<h2>Headline KPIs")
        < page.index("<h2>Staff time")
        < page.index("<h2>The scenario as run")
    )
    section = _section(page, "<h2>Staff time")
    for heading, kpis in STAFF_TIME:
        assert f">{html.escape(heading)}</th>" in section
        for kpi in kpis:
            label, unit, mean, interval = _row(section, kpi)
            assert label == KPI[kpi].label and unit == KPI[kpi].unit, kpi
            decimals = UNIT_DECIMALS[unit]
            for number in re.findall(r"\d[\d\u202f]*(?:\.\d+)?", mean + " " + interval):
                assert len(number.partition(".")[2]) == decimals, (kpi, mean, interval)
    for kpi in (
        "social_worker_hours_available_per_year",
        "social_worker_hours_needed_per_year",
        "administrator_hours_available_per_year",
        "administrator_hours_needed_per_year",
        "delivered_share_b",
        "mean_monthly_cases_above_norm",
        "handovers_per_year",
    ):
        assert kpi in STAFF_TIME_KPIS
    assert _row(section, "social_worker_hours_needed_per_year")[1] == "hours per year"
    assert 'alt="workload"' in page and 'alt="delivered_share"' in page
    assert (tmp_path / "figures" / "workload.png").exists()


def test_staff_time_intervals_stop_at_one_and_zero(
    results: ScenarioResults, tmp_path: Path
) -> None:
    """A delivered share's interval stops at 1 and cases above the norm at 0 in the report,
    whatever the Student-t interval says."""
    manifest: dict[str, Any] = {"scenario_name": "merged", "scenario": {}, "replications": 2}
    summary = results.summary.copy()
    at = summary.set_index("kpi").index.get_loc
    summary.loc[at("delivered_share_c"), ["mean", "ci_low", "ci_high"]] = [0.972, 0.941, 1.002]
    above = at("mean_monthly_cases_above_norm")
    summary.loc[above, ["mean", "ci_low", "ci_high"]] = [0.06, -0.11, 0.23]
    section = _section(render_report(tmp_path, summary, results.monthly, manifest), "Staff time")
    assert _row(section, "delivered_share_c")[3] == "0.941 to 1.000"
    assert _row(section, "mean_monthly_cases_above_norm")[3] == "0.0 to 0.2"


def test_headline_table_shows_the_delivered_share_of_b_cases(
    results: ScenarioResults, tmp_path: Path
) -> None:
    """The headline has the caseload carried per social worker and, beside it, the share of
    B cases' planned contact delivered: where a shortage of social-worker time shows."""
    assert HEADLINE.index("delivered_share_b") == HEADLINE.index("caseload_per_social_worker") + 1
    manifest: dict[str, Any] = {"scenario_name": "merged", "scenario": {}, "replications": 2}
    page = render_report(tmp_path, results.summary, results.monthly, manifest)
    label = _row(_section(page, "<h2>Headline KPIs"), "delivered_share_b")[0]
    assert label == "Share of B cases' planned contact delivered"


def test_staff_time_of_an_older_results_folder_says_not_recorded(
    results: ScenarioResults, tmp_path: Path
) -> None:
    """``caseflow report`` on a folder made before staff time was modelled (no staff-time
    KPIs in summary.csv, no staff-time columns in monthly.csv) still builds the report, and
    the staff-time section says the figures were not recorded."""
    summary = results.summary[~results.summary["kpi"].isin(STAFF_TIME_KPIS)]
    monthly = results.monthly.drop(columns=STAFF_COLUMNS)
    manifest: dict[str, Any] = {"scenario_name": "merged", "scenario": {}, "replications": 2}
    page = render_report(tmp_path, summary, monthly, manifest)
    assert "Not recorded in this results folder" in _section(page, "<h2>Staff time")
    assert page.count("data:image/png;base64,") == len(figures.RUN_FIGURES)


# --- the comparison: staff-time forest plot and differences ----------------------------------


def _differences(replications: int = 5, **special: tuple[float, float, float, float]) -> Any:
    """A synthetic differences frame (as ``comparison.csv``) of one alternative: every KPI
    with base 100 and a difference of +1 (paired interval +0.5 to +1.5), a share 0.5 and
    +0.01; the KPIs in ``special`` as ``(base, difference, ci_low, ci_high)``."""
    rows = []
    for kpi in KPIS:
        usual = (0.5, 0.01, 0.005, 0.015) if kpi.unit == "share" else (100.0, 1.0, 0.5, 1.5)
        base, diff, low, high = special.get(kpi.name, usual)
        rows.append(
            {
                "alternative": "fewer",
                "kpi": kpi.name,
                "base_mean": base,
                "alternative_mean": base + diff,
                "difference": diff,
                "ci_low": low,
                "ci_high": high,
                "unpaired_ci_low": low - 0.02,
                "unpaired_ci_high": high + 0.02,
                "unit": kpi.unit,
                "replications": replications,
                "significant": low > 0 or high < 0,
            }
        )
    return pd.DataFrame(rows)


STAFF_SPECIAL = {
    # a delivered share of 0.96 whose alternative's interval would pass 1
    "delivered_share_b": (0.96, 0.03, -0.01, 0.07),
    # hand-overs of 10 a year whose alternative's interval would fall below zero
    "handovers_per_year": (10.0, -5.0, -12.0, 2.0),
    "social_worker_hours_available_per_year": (10_849.0, -2_961.0, -3_100.0, -2_800.0),
}


def _drawn_x(ax: Any) -> list[float]:
    """Every x the panel's interval bars reach."""
    return [float(x) for c in ax.collections for seg in c.get_segments() for x, _ in seg]


def test_comparison_has_a_staff_time_forest_plot(results: ScenarioResults) -> None:
    """Besides the outcome forest plot, the comparison draws one of staff time: each role's
    hours available and needed, the delivered share of each class and hand-overs, a panel and
    a scale each, labelled in words (long labels wrapped, not running into their neighbour).
    A delivered share's interval stops where the alternative would pass 1, a count's where it
    would fall below zero."""
    from sim.output.comparison_figures import STAFF_TIME_FOREST_KPIS, TITLE_WIDTH

    for kpi in (
        "social_worker_hours_available_per_year",
        "social_worker_hours_needed_per_year",
        "administrator_hours_available_per_year",
        "administrator_hours_needed_per_year",
        "delivered_share_b",
        "handovers_per_year",
    ):
        assert kpi in STAFF_TIME_FOREST_KPIS
    named = [("merged", results.monthly), ("fewer", results.monthly)]
    jobs = figures.comparison_figures(_differences(**STAFF_SPECIAL), named)
    made = {job.name: job.figure() for job in jobs}
    assert list(made) == ["forest", "forest_staff_time", "households_all"]
    fig = made["forest_staff_time"]
    panels = {ax.get_title(): ax for ax in fig.axes if ax.get_visible() and ax.get_title()}
    assert {t.replace("\n", " ") for t in panels} == {KPI[k].label for k in STAFF_TIME_FOREST_KPIS}
    assert all(len(line) <= TITLE_WIDTH for t in panels for line in t.split("\n"))
    by_label = {t.replace("\n", " "): ax for t, ax in panels.items()}
    share = _drawn_x(by_label[KPI["delivered_share_b"].label])
    assert max(share) == pytest.approx(0.04) and min(share) == pytest.approx(-0.01)
    handovers = _drawn_x(by_label[KPI["handovers_per_year"].label])
    assert min(handovers) == pytest.approx(-10.0)
    hours = by_label[KPI["social_worker_hours_available_per_year"].label]
    assert hours.get_xlabel() == "difference from the base (hours per year)"
    for _, made_fig in made.items():
        plt.close(made_fig)


def test_comparison_report_shows_each_alternatives_staff_time(
    results: ScenarioResults, tmp_path: Path
) -> None:
    """Each alternative's table of differences goes on below its headline KPIs with the
    staff-time KPIs, under a "Staff time: ..." row per group (one table, so that the columns
    align), with intervals cut at what the KPI can take; the staff-time forest plot is
    embedded and saved."""
    from sim.output.report import render_comparison_report

    named = [("merged", results.monthly), ("fewer", results.monthly)]
    scenarios = [{"name": "merged"}, {"name": "fewer"}]
    page = render_comparison_report(tmp_path, _differences(**STAFF_SPECIAL), named, scenarios, {})
    start = page.index("<h3>fewer</h3>")
    section = page[start : page.index("</table>", start)]
    headers = [html.unescape(h) for h in re.findall(r"<th[^>]*>(.*?)</th>", section)]
    assert headers[:2] == ["KPI", "unit"] and "paired 95 % interval" in headers
    staff = section.index("<th colspan")
    assert section.index('title="cost_per_exit_to_work_sek"') < staff
    for heading, kpis in STAFF_TIME:
        assert f"Staff time: {heading[0].lower()}{heading[1:]}" in headers
        for kpi in kpis:
            assert section.count(f'title="{kpi}"') == 1, kpi  # the headline's not repeated
            if kpi not in HEADLINE:
                assert _row(section[staff:], kpi)[0] == KPI[kpi].label
    cells = _row(section, "delivered_share_b")
    assert cells[6] == "\u22120.010 to +0.040"  # the alternative's share cannot pass 1
    assert _row(section, "handovers_per_year")[6] == "\u221210.0 to +2.0"
    assert 'alt="forest_staff_time"' in page
    assert (tmp_path / "figures" / "forest_staff_time.png").exists()


def test_comparison_made_before_staff_time_has_no_staff_time_parts(
    results: ScenarioResults, tmp_path: Path
) -> None:
    """A comparison folder from before staff time (no staff-time rows in comparison.csv)
    rebuilds without the staff-time forest plot and tables, rather than with empty ones."""
    from sim.output.report import render_comparison_report

    older = _differences()
    older = older[~older["kpi"].isin(STAFF_TIME_KPIS)]
    named = [("merged", results.monthly), ("fewer", results.monthly)]
    page = render_comparison_report(
        tmp_path, older, named, [{"name": "merged"}, {"name": "fewer"}], {}
    )
    assert "Staff time:" not in page and 'alt="forest_staff_time"' not in page
