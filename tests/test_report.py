"""The reports and their figures speak the planner's language, not the CSV's.

A planner reads "Households per month", not ``mean_monthly_households``: the reports' tables and
the figures take their labels from the catalogue (``sim.records``), while the CSV files keep the
stable names (each table cell carries its name as a tooltip). Each figure is a function that
returns a matplotlib figure, so it can be tested and reused outside the report.
"""

from __future__ import annotations

import html
import math
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
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


def ran_alone(test: Any) -> bool:
    """Run ``test`` in a fresh process and check it passed there, if this one runs other
    threads (True), so that a test of forking never passes without forking; False: this
    process forks, run the test here. An earlier test may leave a thread running (Dask's
    client keeps its IO loop and offload threads for the life of the process), and figures
    are then drawn here rather than in forked processes."""
    import threading

    if threading.active_count() == 1:
        return False
    names = [t.name for t in threading.enumerate()]
    assert not os.environ.get("CASEFLOW_FORK_TEST_ALONE"), f"threads at start: {names}"
    source = sys.modules[test.__module__].__file__  # the test's own file (it may be another's)
    node = f"{Path(str(source)).resolve()}::{test.__name__}"
    env = dict(os.environ, CASEFLOW_FORK_TEST_ALONE="1")
    alone = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", node],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert alone.returncode == 0, alone.stdout + alone.stderr
    assert "1 passed" in alone.stdout, alone.stdout
    return True


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


# --- issue 16: warnings, a readable forest plot, readable tables ----------------------------


def _differences(alternative: str = "fewer", replications: int = 5, **special: Any) -> Any:
    """A synthetic differences frame (as ``comparison.csv``): every KPI with base 100 and a
    difference of +1 (paired interval +0.5 to +1.5), a share 0.5 and +0.01, except the KPIs
    given in ``special`` as
    ``(base, difference, ci_low, ci_high)``."""
    import pandas as pd

    from sim.records import KPIS

    rows = []
    for kpi in KPIS:
        usual = (0.5, 0.01, 0.005, 0.015) if kpi.unit == "share" else (100.0, 1.0, 0.5, 1.5)
        base, diff, low, high = special.get(kpi.name, usual)
        if replications == 1:
            low = high = float("nan")
        significant = not math.isnan(low) and (low > 0 or high < 0)
        rows.append(
            {
                "alternative": alternative,
                "kpi": kpi.name,
                "base_mean": base,
                "alternative_mean": base + diff,
                "difference": diff,
                "ci_low": low,
                "ci_high": high,
                "unpaired_ci_low": low - 10,
                "unpaired_ci_high": high + 10,
                "unit": kpi.unit,
                "replications": replications,
                "significant": significant,
            }
        )
    return pd.DataFrame(rows)


SPECIAL = {
    # a KPI that rises 32-fold (+3 200 %) from a small base, its interval below -100 %
    "mean_monthly_waiting_for_class": (1.0, 32.0, -5.0, 69.0),
    "mean_monthly_households": (500.0, 5.0, 3.0, 7.0),
    "assistance_paid_sek_per_year": (43_533_633.0, 67_946.0, -201_360.0, 337_253.0),
    "share_long_term_10_of_12": (0.2712, 0.0004, -0.0049, 0.0057),
    # the largest clear relative change of the headline KPIs: +34.7 %
    "caseload_per_social_worker": (30.0, 10.4, 9.06, 11.7),
}


def _panels(fig: Figure) -> dict[str, Any]:
    """The visible panels by title (a long title wrapped onto lines read as one line)."""
    return {
        ax.get_title().replace("\n", " "): ax
        for ax in fig.axes
        if ax.get_visible() and ax.get_title()
    }


def _drawn_x(ax: Any) -> list[float]:
    """Every x the panel's interval bars reach."""
    xs: list[float] = []
    for collection in ax.collections:
        for segment in collection.get_segments():
            xs.extend(float(x) for x, _ in segment)
    return xs


def test_forest_plot_gives_every_kpi_its_own_panel_and_scale() -> None:
    """A KPI at +3 200 % no longer squashes the others: each KPI has its own panel and scale,
    so the households' +1 % spans a good part of its axis. An interval of a count stops where
    the alternative would fall below zero (here -1, minus the base), not at -500 %."""
    fig = figures.plot_forest(_differences(**SPECIAL))
    panels = _panels(fig)
    assert set(panels) == {kpi_label(k) for k in figures.FOREST_KPIS}
    households = panels[kpi_label("mean_monthly_households")]
    low, high = households.get_xlim()
    assert high - low < 4 * (7.0 - 3.0)
    waiting = _drawn_x(panels[kpi_label("mean_monthly_waiting_for_class")])
    assert min(waiting) == pytest.approx(-1.0)
    assert max(waiting) == pytest.approx(69.0)
    plt.close(fig)


def test_forest_plot_with_one_replication_says_no_interval() -> None:
    fig = figures.plot_forest(_differences(replications=1))
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert "no interval" in texts
    assert not any("nan" in t for t in texts)
    plt.close(fig)


def _text(page: str) -> str:
    """The page without its embedded images (whose base64 may spell anything)."""
    return re.sub(r"base64,[A-Za-z0-9+/=]+", "base64,", page)


def _cells(row: str) -> list[str]:
    return re.findall(r"<td[^>]*>(.*?)</td>", row)


def _tables_after(page: str, heading: str) -> str:
    start = page.index(heading)
    return page[start : page.index("<h2>", start + 1)]


def test_comparison_tables_are_readable(results: ScenarioResults, tmp_path: Path) -> None:
    """Numbers never wrap (no-break cells, thousands joined by a no-break space); the unit
    sits beside the KPI; one number of decimals per unit; no interval below what the KPI can
    take; and one replication says "no interval", never "nan"."""
    scenarios = [{"name": "merged"}, {"name": "fewer"}]
    named = [("merged", results.monthly), ("fewer", results.monthly)]
    page = render_comparison_report(tmp_path, _differences(**SPECIAL), named, scenarios, {})
    assert "white-space:nowrap" in page
    for cell in re.findall(r"<td[^>]*>.*?</td>", page):
        text = re.sub(r"<[^>]+>", "", cell)
        assert not re.search(r"\d \d", text), cell  # a plain space may break a number
        if re.fullmatch(r"[−+\-\d\u202f\u00a0., %*to]+", text) and re.search(r"\d", text):
            assert cell.startswith('<td class="n"'), cell
    from sim.output.formatting import UNIT_DECIMALS

    table = _tables_after(page, "<h2>Differences from the base</h2>")
    assert re.findall(r"<th[^>]*>(.*?)</th>", table)[:2] == ["KPI", "unit"]
    for row in re.findall(r"<tr><td.*?</tr>", table):
        cells = _cells(row)
        decimals = UNIT_DECIMALS[cells[1]]
        for cell in cells[2:5] + cells[6:]:
            for number in re.findall(r"\d[\d\u202f]*(?:\.\d+)?", cell):
                assert len(number.partition(".")[2]) == decimals, (cells[0], cell)
    waiting = next(r for r in table.split("<tr>") if 'title="mean_monthly_waiting_for_class"' in r)
    assert "−1.0 to +69.0" in waiting  # not −5.0: the alternative cannot fall below zero
    one = render_comparison_report(tmp_path, _differences(replications=1), named, scenarios, {})
    assert "no interval" in one and "nan" not in _text(one)


def test_comparison_report_shows_scenario_keys_as_toml(
    results: ScenarioResults, tmp_path: Path
) -> None:
    """The keys where an alternative differs are shown as a scenario file writes them."""
    base = {
        "name": "merged",
        "organisation": {"form": "split"},
        "unemployment": {"path": [{"date": "2015-01-01", "percent": 3.2}]},
        "staff": {"intake_social_workers": {"vacancy_fill_days": {"dist": "fixed", "value": 90.0}}},
    }
    other = {
        "name": "fewer",
        "organisation": {"form": "merged"},
        "unemployment": {"path": [{"date": "2015-01-01", "percent": 8.0}]},
        "staff": {"intake_social_workers": {"vacancy_fill_days": {"dist": "fixed", "value": 30.0}}},
    }
    named = [("merged", results.monthly), ("fewer", results.monthly)]
    page = render_comparison_report(tmp_path, _differences(), named, [base, other], {})
    assert "&quot;split&quot;</code>" in page and "&quot;merged&quot;</b></code>" in page
    assert "[{ date = 2015-01-01, percent = 8.0 }]" in page
    assert "{ dist = &quot;fixed&quot;, value = 30.0 }" in page
    assert "{&#x27;" not in page and "[{'" not in page


def test_comparison_report_opens_with_what_changed_most(
    results: ScenarioResults, tmp_path: Path
) -> None:
    """The first sentence under the title names the KPI that changed most (relative to the
    base, among those whose paired interval excludes 0) with its interval."""
    scenarios = [{"name": "merged"}, {"name": "fewer"}]
    named = [("merged", results.monthly), ("fewer", results.monthly)]
    page = render_comparison_report(tmp_path, _differences(**SPECIAL), named, scenarios, {})
    opening = page[page.index("</h1>") : page.index("<h2>")]
    assert kpi_label("caseload_per_social_worker") in opening
    assert "+10.4" in opening and "+34.7\u00a0%" in opening
    assert "paired 95 % interval +9.1 to +11.7" in opening


def test_comparison_report_carries_every_alternatives_warnings(
    results: ScenarioResults, tmp_path: Path
) -> None:
    """An alternative that leaves the calibrated range warns in the comparison report too,
    named; a warning every scenario gives is said once."""
    from sim.output.comparison_report import comparison_warnings

    calm = {"scenario_name": "merged", "replications": 2, "parameters": {}}
    wild = {
        "scenario_name": "fewer",
        "replications": 2,
        "parameters": {"calibrated_range": {"households": [0, 1]}},
    }
    named = [("merged", results.monthly), ("fewer", results.monthly)]
    warnings = comparison_warnings({"replications": 2}, named, [calm, wild])
    assert sum("Fewer than 10 replications" in w for w in warnings) == 1
    assert any(w.startswith("fewer: ") and "extrapolates" in w for w in warnings)
    assert not any(w.startswith("merged: ") and "extrapolates" in w for w in warnings)


def test_run_report_intervals_stop_at_zero_and_one_replication_has_none(
    results: ScenarioResults, tmp_path: Path
) -> None:
    manifest: dict[str, Any] = {"scenario_name": "merged", "scenario": {}, "replications": 2}
    summary = results.summary.copy()
    waiting = summary["kpi"] == "mean_monthly_waiting_for_class"
    summary.loc[waiting, ["mean", "ci_low", "ci_high"]] = [0.2, -0.6, 1.0]
    page = render_report(tmp_path, summary, results.monthly, manifest)
    row = next(r for r in page.split("<tr>") if 'title="mean_monthly_waiting_for_class"' in r)
    assert "0.0 to 1.0" in row and "−0.6" not in row
    single = summary.assign(ci_low=float("nan"), ci_high=float("nan"), replications=1)
    page = render_report(tmp_path, single, results.monthly, {**manifest, "replications": 1})
    assert "no interval" in page and "nan" not in _text(page)


def _line_figure(slope: float = 1.0) -> Figure:
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, slope])
    return fig


def test_each_figure_is_drawn_once_for_its_file_and_the_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A figure is rendered once: the PNG under ``figures/`` and the image embedded in the
    report are the same bytes (drawing it a second time for the page cost a rendering per
    figure, and the two could drift apart)."""
    import base64

    calls: list[object] = []
    savefig = Figure.savefig

    def counted(self: Figure, *args: Any, **kwargs: Any) -> None:
        calls.append(self)
        savefig(self, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", counted)
    made = [figures.FigureJob(name, _line_figure, ()) for name in ("one", "two")]
    images = figures.save_figures(tmp_path, made, workers=1)  # counted in this process
    assert len(calls) == 2
    for name, encoded in images.items():
        assert (tmp_path / "figures" / f"{name}.png").read_bytes() == base64.b64decode(encoded)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="figures fork on Linux only")
def test_fixing_the_date_ticks_before_drawing_changes_no_pixel(results: ScenarioResults) -> None:
    """A figure's date ticks are fixed before it is drawn (saving the locator's work in each
    layout pass): the PNG must be byte for byte the one drawn without that."""
    from sim.output import drawing

    for job in figures.run_figures(results.monthly, {})[:3]:
        assert job.png() == drawing._png(job.figure()), job.name


def _pixels(png: bytes) -> Any:
    import io

    import numpy as np
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def _closest_alignment(a: Any, b: Any, shift: int = 2) -> float:
    """How far apart two images are: the mean over pixels of the largest difference of their
    colour values (0-255), at the shift of one against the other, by up to ``shift`` pixels
    each way, that makes it least."""
    import numpy as np

    rows = min(a.shape[0], b.shape[0]) - 2 * shift
    columns = min(a.shape[1], b.shape[1]) - 2 * shift
    inner = a[shift : shift + rows, shift : shift + columns]
    return min(
        float(
            np.abs(inner - b[shift + dy : shift + dy + rows, shift + dx : shift + dx + columns])
            .max(axis=2)
            .mean()
        )
        for dy in range(-shift, shift + 1)
        for dx in range(-shift, shift + 1)
    )


def test_a_figure_drawn_once_is_the_tight_picture(
    results: ScenarioResults, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A figure is drawn once, on a canvas with room around it, and cut to what it drew with
    matplotlib's pad, rather than laid out, measured and drawn again as
    ``bbox_inches="tight"`` does (a quarter of a figure's time): the same picture, legends
    beside the panel and long labels included, the size within a few pixels (the cut follows
    the ink, not the texts' boxes) and the pixels those of the tight PNG up to where
    antialiasing meets a pixel's edge. Two different figures are far apart, so the
    comparison can fail. (A comparison's forest plot is laid out by ``tight_layout``, which
    leaves a layout engine on it, and is drawn tight: the next test.)"""
    from sim.output import drawing

    jobs = figures.run_figures(results.monthly, {})
    draws: list[object] = []
    savefig = Figure.savefig

    def counted(self: Figure, *args: Any, **kwargs: Any) -> None:
        draws.append(kwargs.get("bbox_inches"))
        savefig(self, *args, **kwargs)

    tight = []
    for job in jobs:
        fig = job.figure()
        tight.append(drawing._drawn_tight(fig))
        plt.close(fig)
    monkeypatch.setattr(Figure, "savefig", counted)
    once = [job.png() for job in jobs]
    assert len(draws) == len(jobs) and "tight" not in draws  # one drawing each, no fallback
    for job, ours, theirs in zip(jobs, once, tight, strict=True):
        a, b = _pixels(theirs), _pixels(ours)
        assert abs(a.shape[0] - b.shape[0]) <= 4 and abs(a.shape[1] - b.shape[1]) <= 4, job.name
        # antialiasing: each line and text snaps to whole pixels from where it falls (0.3-4.6
        # measured for the run's figures: most of a figure is white); two different figures
        # of a run: 13 and more
        assert _closest_alignment(a, b) < 8, job.name
    assert _closest_alignment(_pixels(tight[0]), _pixels(once[1])) > 50


def test_what_reaches_beyond_the_room_is_drawn_tight() -> None:
    """Where something drawn reaches the edge of the room around the figure (a legend placed
    far beside it, a very long label), it may go beyond, and the figure is drawn as
    matplotlib's tight PNG, byte for byte; so is a figure with a layout engine, which lays
    out at the canvas's size (a comparison's forest plot)."""
    from sim.output import drawing

    def far_legend() -> Figure:
        fig, ax = plt.subplots(figsize=(4, 2.5))
        ax.plot([0, 1], [0, 1], label="a line with a long name")
        ax.legend(loc="upper left", bbox_to_anchor=(2.0, 1))  # across the room's right edge
        return fig

    def long_label() -> Figure:
        fig, ax = plt.subplots(figsize=(4, 2.5))
        ax.barh(["a label of the kind no figure of ours has, " * 3, "b"], [1, 2])
        return fig

    def constrained() -> Figure:
        fig, ax = plt.subplots(figsize=(4, 2.5), layout="constrained")
        ax.plot([0, 1], [0, 1])
        return fig

    def forest() -> Figure:
        return figures.plot_forest(_differences(**SPECIAL))

    for make in (far_legend, long_label, constrained, forest):
        reference = make()
        assert drawing._png(make()) == drawing._drawn_tight(reference), make.__name__
        plt.close(reference)


def test_figures_drawn_side_by_side_are_the_ones_drawn_here(
    results: ScenarioResults, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With several workers a report's figures are drawn in forked processes, each given its
    job by number: the PNG bytes, their names and their order are those of drawing them one
    after another in this process, so a report is the same whatever ``--workers`` says."""
    from sim.experiments import parallel

    if ran_alone(test_figures_drawn_side_by_side_are_the_ones_drawn_here):
        return
    monkeypatch.setattr(parallel, "available_cores", lambda: 2)  # as on a 2-core machine
    forked: list[int] = []
    fork = os.fork

    def counted_fork() -> int:
        forked.append(1)
        return fork()

    monkeypatch.setattr(os, "fork", counted_fork)
    jobs = [figures.FigureJob(f"line_{k}", _line_figure, (float(k),)) for k in range(3)]
    jobs += figures.run_figures(results.monthly, {})[:2]
    here = figures.draw_pngs(jobs, workers=1)
    assert not forked
    side_by_side = figures.draw_pngs(jobs, workers=2)
    assert len(forked) == 2  # two drawing processes
    assert side_by_side == here
    assert len(set(here)) == len(jobs)  # each job its own figure, none swapped or repeated
    for folder in ("one", "two"):
        (tmp_path / folder).mkdir()
    one = figures.save_figures(tmp_path / "one", jobs, workers=1)
    two = figures.save_figures(tmp_path / "two", jobs, workers=2)
    assert list(one) == [job.name for job in jobs] and one == two


def test_figures_are_drawn_here_while_another_thread_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """A process running other threads (a sweep's worker pool, a notebook kernel) is not
    forked: a lock another thread held would stay held in the child."""
    import threading

    from sim.experiments import parallel

    monkeypatch.setattr(parallel, "available_cores", lambda: 2)
    monkeypatch.setattr(os, "fork", lambda: pytest.fail("forked beside another thread"))
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        jobs = [figures.FigureJob(f"line_{k}", _line_figure, (float(k),)) for k in range(2)]
        assert len(figures.draw_pngs(jobs, workers=2)) == 2
    finally:
        stop.set()
        other.join()


def test_a_failed_write_stops_the_figures_drawn_meanwhile(
    results: ScenarioResults, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run's figures are drawn in processes of their own while its CSV files are written
    (the writing then adds nothing to the command's time). When the writing fails (a full
    disk), the drawing processes are stopped, none is left behind, and the error is raised
    without a report."""
    import multiprocessing

    from sim.experiments import parallel
    from sim.output import drawing, folders

    if ran_alone(test_a_failed_write_stops_the_figures_drawn_meanwhile):
        return
    monkeypatch.setattr(parallel, "available_cores", lambda: 2)
    stopped: list[bool] = []
    stop = drawing.Drawing.stop

    def counted_stop(self: drawing.Drawing) -> None:
        stopped.append(self._pool is not None)  # drawing in forked processes, not here
        stop(self)

    def full_disk(*args: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(drawing.Drawing, "stop", counted_stop)
    monkeypatch.setattr(folders, "write_tables", full_disk)
    manifest: dict[str, Any] = {"scenario_name": "merged", "scenario": {}, "replications": 2}
    with pytest.raises(OSError, match="No space"):
        folders.write_results(tmp_path / "run", results, manifest, workers=2)
    assert stopped == [True]  # drawing in forked processes, stopped
    assert not multiprocessing.active_children()
    assert not (tmp_path / "run" / "report.html").exists()


def test_the_households_range_scales_with_the_units_contacts():
    """A parameter set fitted to a unit of 400-650 households holds per household: a scenario
    with four times the contacts (``organisation.contacts_scale = 4``) is within its range at
    1 600-2 600 households, and the warning, where it is given, says how the range was scaled.
    Unemployment and caseload per social worker do not scale."""
    import pandas as pd

    from sim.output.caveats import range_warnings

    monthly = pd.DataFrame({"month": ["2015-01", "2015-02"], "households": [1930.0, 2032.0]})
    ranges = {"households": [400.0, 650.0], "unemployment_percent": [3.0, 4.0]}
    assert range_warnings(monthly, ranges, 4.0) == []
    (warning,) = range_warnings(monthly, ranges)
    assert "outside 400–650, the range" in warning
    (scaled,) = range_warnings(monthly, ranges, 2.0)
    assert "outside 800–1300 (400–650 times the scenario's contacts_scale 2)" in scaled


def test_a_label_that_starts_with_an_abbreviation_keeps_its_capitals_mid_sentence():
    """ "the largest change: AR programme success share ...", not "aR programme"."""
    import pandas as pd

    from sim.output.comparison_report import change_text
    from sim.output.formatting import lower_first

    assert lower_first("AR programme success share") == "AR programme success share"
    assert lower_first("Households per month") == "households per month"
    row = paired_differences(
        pd.DataFrame({"replication": [0, 1, 2], "ar_team_success_share": [0.30, 0.40, 0.35]}),
        pd.DataFrame({"replication": [0, 1, 2], "ar_team_success_share": [0.32, 0.38, 0.36]}),
        "alt",
    )
    text = change_text(row)
    assert "the largest change: AR programme success share changes most" in text


def test_the_caseload_figure_compares_the_norm_with_weighted_cases(results: ScenarioResults):
    """The caseload norm counts cases weighted by class per full-time social worker, so the
    figure draws, beside the count of cases carried, the weighted cases the norm is compared
    with (the load against the norm times the norm in force, a change of norm from its month
    on) and the norm from the first month (the warm-up's too)."""
    from sim.output.figures import plot_caseload_against_norm

    monthly = results.monthly
    scenario = {
        "start_date": "2015-01-01",
        "organisation": {"caseload_norm": 55},
        "changes": [{"at": "2015-07-01", "organisation": {"caseload_norm": 40}}],
    }
    fig = plot_caseload_against_norm(monthly, scenario)
    lines = {line.get_label(): line for line in fig.axes[0].get_lines()}
    weighted = lines["weighted cases per full-time social worker (as the norm counts)"]
    months = sorted(monthly["month"].unique())
    norm = [55.0 if m < "2015-07" else 40.0 for m in months]
    load = monthly.groupby("month")["social_worker_utilisation"].mean().to_numpy()
    assert list(weighted.get_ydata()) == pytest.approx(list(load * norm))
    assert "cases carried (a count)" in lines
    step = lines["caseload norm"]
    assert pd.Timestamp(step.get_xdata()[0]) == pd.Timestamp(months[0] + "-01")
    plt.close(fig)


def test_a_warning_several_scenarios_give_is_said_once_with_their_names() -> None:
    """Six scenarios past the same unemployment gave six copies of one warning: a text is said
    once, unprefixed when every scenario gives it, else after the names of those that do."""
    from sim.output.caveats import merged_warnings

    said = merged_warnings(
        ["Fewer than 10 replications."],
        [
            ("base", ["Unemployment leaves its range.", "Fewer than 10 replications."]),
            ("more", ["Unemployment leaves its range.", "Households leave their range."]),
            ("calm", ["Households leave their range."]),
        ],
    )
    assert said == [
        "Fewer than 10 replications.",
        "base, more: Unemployment leaves its range.",
        "more, calm: Households leave their range.",
    ]
    both = merged_warnings([], [("a", ["Same."]), ("b", ["Same."])])
    assert both == ["Same."]


def test_a_figures_folder_that_cannot_be_made_stops_the_drawing(
    results: ScenarioResults, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The figures are being drawn in forked processes when their folder turns out not to be
    one (a file of that name, no permission): the error is raised and no drawing process is
    left running (a later report in the process would otherwise draw alone, slowly)."""
    import multiprocessing

    from sim.experiments import parallel

    if ran_alone(test_a_figures_folder_that_cannot_be_made_stops_the_drawing):
        return
    monkeypatch.setattr(parallel, "available_cores", lambda: 2)
    (tmp_path / "figures").write_text("a file, not a folder")
    jobs = figures.run_figures(results.monthly, {})[:2]
    with pytest.raises(FileExistsError):
        figures.save_figures(tmp_path, jobs, workers=2)
    assert not multiprocessing.active_children()


def test_figures_are_drawn_here_when_no_process_can_be_forked(
    results: ScenarioResults, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A machine out of processes or memory (fork fails with EAGAIN or ENOMEM) still gets its
    report: the figures are drawn in this process, the same bytes."""
    import errno

    from sim.experiments import parallel

    if ran_alone(test_figures_are_drawn_here_when_no_process_can_be_forked):
        return
    monkeypatch.setattr(parallel, "available_cores", lambda: 2)
    jobs = figures.run_figures(results.monthly, {})[:2]
    here = figures.draw_pngs(jobs, workers=1)

    def no_fork() -> int:
        raise BlockingIOError(errno.EAGAIN, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    assert figures.draw_pngs(jobs, workers=2) == here


def test_a_run_without_first_visits_says_so_in_its_wait_figure() -> None:
    """With no one at intake no first visit is made: the wait figure says so over the run's
    months, rather than standing empty on an axis of the warm-up alone."""
    from sim.output.figures import plot_first_visit_wait

    months = ["2014-11", "2014-12", "2015-01", "2015-02"]
    monthly = pd.DataFrame(
        {
            "replication": 0,
            "month": months,
            "period": ["warmup", "warmup", "run", "run"],
            "first_visit_wait_days": [3.0, 4.0, float("nan"), float("nan")],
        }
    )
    fig = plot_first_visit_wait(monthly, {})
    ax = fig.axes[0]
    assert any("no first visit in the reported months" in t.get_text() for t in ax.texts)
    right = matplotlib_dates_num(pd.Timestamp("2015-02-28"))
    assert ax.get_xlim()[1] >= right  # the run's months on the axis, not the warm-up's alone
    plt.close(fig)
    ran = monthly.assign(first_visit_wait_days=[3.0, 4.0, 5.0, 6.0])
    fig = plot_first_visit_wait(ran, {})
    assert not any("no first visit" in t.get_text() for t in fig.axes[0].texts)
    plt.close(fig)


def matplotlib_dates_num(day: pd.Timestamp) -> float:
    from matplotlib import dates as mdates

    return float(mdates.date2num(day))


def _titled_figure(offset: bool, title: dict[str, Any]) -> Figure:
    fig, ax = plt.subplots(figsize=(4, 2.5))
    base = 1e7 if offset else 0.0  # 10 000 000 to 10 000 003: the y axis shows "+1e7" above
    ax.plot([0, 1, 2, 3], [base, base + 1, base + 3, base + 2])
    ax.set_title("A title wide enough to reach the y axis's offset text, if any: gjpqy", **title)
    return fig


@pytest.mark.parametrize(
    ("offset", "title", "searched"),
    [
        (False, {}, False),
        (True, {}, True),  # above an offset text
        (False, {"fontsize": 30}, True),  # its descent reaches the axes
        (False, {"pad": 0}, True),
        (False, {"fontsize": "medium"}, False),
    ],
)
def test_a_title_is_placed_as_matplotlib_places_it(
    offset: bool, title: dict[str, Any], searched: bool
) -> None:
    """A figure's title is left at the top of its axes without matplotlib's search for a free
    place (which measures the y axis's tick labels on every layout pass: a tenth of a run's
    figure time) only where that search could not move it; above an offset text (``+1e7``)
    the search runs and moves the title up as it always did, and so where the title's letters
    reach down to the axes (a large title, no pad). Either way the PNG is the one matplotlib
    draws with its own placement."""
    from sim.output import drawing
    from sim.output.drawing import png_bytes

    reference = drawing._png(_titled_figure(offset, title))  # drawn as matplotlib places it
    fig = _titled_figure(offset, title)
    assert png_bytes(fig) == reference
    assert (fig.axes[0]._autotitlepos is not False) == searched  # type: ignore[attr-defined]
