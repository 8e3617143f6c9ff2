"""The reports and their figures speak the planner's language, not the CSV's.

A planner reads "Households per month", not ``mean_monthly_households``: the reports' tables and
the figures take their labels from the catalogue (``sim.records``), while the CSV files keep the
stable names (each table cell carries its name as a tooltip). Each figure is a function that
returns a matplotlib figure, so it can be tested and reused outside the report.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pytest
from matplotlib.figure import Figure

from sim.experiments.paired import paired_differences
from sim.experiments.runner import ScenarioResults, run_scenario
from sim.inputs.loading import load_scenarios
from sim.output import figures
from sim.output.figures import RUN_FIGURES, png_base64
from sim.output.report import HEADLINE, render_comparison_report, render_report
from sim.records import column_label, kpi_label
from tests.baseline.store import SCENARIOS


@pytest.fixture(scope="module")
def results() -> ScenarioResults:
    """Two replications of a small fixed scenario."""
    (resolved,) = load_scenarios(SCENARIOS / "merged.toml")
    return run_scenario(resolved, workers=1)


def _shown(page: str, text: str) -> bool:
    """Whether ``text`` is the whole content of a table cell of the page."""
    return f">{html.escape(text)}</td>" in page


def test_run_report_shows_labels_and_units_for_headline_kpis(
    results: ScenarioResults, tmp_path: Path
) -> None:
    """The headline table names each KPI by its label (e.g. "Households per month") with its
    unit; the stable name is only the cell's tooltip."""
    manifest: dict[str, Any] = {"scenario_name": "merged", "scenario": {}, "replications": 2}
    page = render_report(tmp_path, results.summary, results.monthly, manifest)
    assert _shown(page, "Households per month") and _shown(page, "Exits to work per year")
    for kpi in HEADLINE:
        assert _shown(page, kpi_label(kpi)), kpi
        assert not _shown(page, kpi), kpi
        assert f'title="{kpi}"' in page
    assert _shown(page, "SEK per year")
    assert page.count("data:image/png;base64,") == len(RUN_FIGURES)


def test_comparison_report_shows_labels_in_its_differences_table(
    results: ScenarioResults, tmp_path: Path
) -> None:
    """The comparison table, in headline order, names KPIs by label, as the run report does."""
    per_rep = results.per_replication
    differences = paired_differences(per_rep, per_rep, "same")
    scenarios = [{"name": "merged"}, {"name": "same"}]
    named = [("merged", results.monthly), ("same", results.monthly)]
    page = render_comparison_report(tmp_path, differences, named, scenarios, {})
    shown = [kpi for kpi in HEADLINE if _shown(page, kpi_label(kpi))]
    assert shown == list(HEADLINE)
    positions = [page.index(f'title="{kpi}"') for kpi in HEADLINE]
    assert positions == sorted(positions)
    assert all(not _shown(page, kpi) for kpi in HEADLINE)
    assert (tmp_path / "figures" / "forest.png").exists()


def test_every_run_figure_is_a_figure_with_labelled_series(results: ScenarioResults) -> None:
    """Each run figure is a function of the monthly rows and the scenario returning a figure;
    its legend shows labels, never column names."""
    for name, maker in RUN_FIGURES:
        fig = maker(results.monthly, {})
        assert isinstance(fig, Figure), name
        legend = fig.axes[0].get_legend()
        texts = [t.get_text() for t in legend.get_texts()] if legend else []
        assert all("_" not in t for t in texts), (name, texts)
        plt.close(fig)
    fig = figures.plot_open_by_class(results.monthly, {})
    texts = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert texts[0] == column_label("open_class_a") == "Open cases in class A"
    assert png_base64(fig)  # closes the figure; importable from sim.output.report (fit report)
