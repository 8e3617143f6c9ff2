"""The planners' scenario library: every shipped scenario validates, says what it asks, and runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim import load_scenarios, run_scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))
VALIDATION = sorted((ROOT / "calibration" / "validation").glob("*.toml"))


@pytest.mark.parametrize("path", SCENARIOS + VALIDATION, ids=lambda p: p.stem)
def test_scenario_runs_one_short_replication(path):
    for resolved in load_scenarios(path, years=0.25, replications=1):
        results = run_scenario(resolved, workers=1)
        assert results.summary.set_index("kpi").loc["mean_monthly_households", "mean"] > 0


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_scenario_file_opens_with_a_comment_saying_what_it_is(path):
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# ") and len(first) > 20
