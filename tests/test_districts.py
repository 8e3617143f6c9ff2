"""Per-district outputs (issue 18, item 2): the seeds report exits by cause and households a
month per district, so a run gives the same KPIs per district, counted from each household's
episodes as the unit's are from its month record, and they add up to the unit's figures."""

from __future__ import annotations

import pandas as pd
import pytest

from sim.cli import main as cli
from sim.experiments.runner import ScenarioResults, run_scenario
from sim.inputs.loading import load_scenarios
from sim.metrics import DISTRICT_KPIS
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def results() -> ScenarioResults:
    path = ROOT / "scenarios" / "baseline.toml"  # three districts, as seed 004's unit
    resolved = load_scenarios(path, [], replications=3, years=2)[0]
    return run_scenario(resolved, workers=1)


def test_districts_add_up_to_the_unit(results: ScenarioResults) -> None:
    """Households a month (episodes open at a month's start or opened in it), cases closed and
    exits by cause, summed over the districts, are the unit's KPIs in every replication: the
    districts split the unit's households, none lost, none counted twice."""
    by_district = results.by_district
    assert by_district is not None
    names = [d.name for d in results.resolved.timeline[0].organisation.districts]
    assert list(dict.fromkeys(by_district["district"])) == names and len(names) > 1
    assert set(by_district["kpi"]) == set(DISTRICT_KPIS)
    summed = by_district.groupby(["replication", "kpi"])["value"].sum().unstack()
    unit = results.per_replication.set_index("replication")
    for kpi in DISTRICT_KPIS:
        assert summed[kpi].to_numpy() == pytest.approx(unit[kpi].to_numpy(), rel=1e-12), kpi
    # and each district carries a real share, not all of it or none
    households = by_district[by_district["kpi"] == "mean_monthly_households"]
    assert (households["value"] > 0).all()


def test_district_summary_has_a_row_per_district_and_kpi(results: ScenarioResults) -> None:
    districts = results.districts
    assert districts is not None
    assert list(districts.columns[:5]) == ["district", "kpi", "mean", "ci_low", "ci_high"]
    assert len(districts) == districts["district"].nunique() * len(DISTRICT_KPIS)
    assert (districts["replications"] == 3).all()
    work = districts[districts["kpi"] == "exits_work_per_year"]
    assert (work["ci_low"] <= work["mean"]).all() and (work["mean"] <= work["ci_high"]).all()


def test_a_run_writes_districts_csv_and_its_report_shows_them(small, tmp_path) -> None:
    """``districts.csv`` in the results folder, and a "By district" table in the report when
    the unit has more than one district (also when the report is rebuilt from the folder)."""
    out = tmp_path / "run"
    two = ["--set", 'organisation.districts=[{name = "Väst", contact_share = 1}, '
           '{name = "Öst", contact_share = 2}]']  # fmt: skip
    args = ["run", str(small), "--out", str(out), "--replications", "2", "--workers", "1"]
    assert cli.main([*args, *two]) == 0
    table = pd.read_csv(out / "districts.csv")
    assert list(dict.fromkeys(table["district"])) == ["Väst", "Öst"]
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "By district" in page and "Öst" in page
    (out / "report.html").unlink()
    assert cli.main(["report", str(out)]) == 0
    assert "By district" in (out / "report.html").read_text(encoding="utf-8")


def test_one_district_needs_no_district_table(small, tmp_path) -> None:
    out = tmp_path / "one"
    one = ["--set", 'organisation.districts=[{name = "Hela", contact_share = 1}]']
    args = ["run", str(small), "--out", str(out), "--replications", "1", "--workers", "1"]
    assert cli.main([*args, *one]) == 0
    assert (out / "districts.csv").exists()
    assert "By district" not in (out / "report.html").read_text(encoding="utf-8")
