"""Validation against holdout figures: every check runs, states its criterion and its verdict."""

from __future__ import annotations

import json

import pandas as pd

from sim.calibration.holdout import CHECKS
from sim.cli import main as cli


def test_validate_model_runs_every_holdout_and_reports_each_verdict(tmp_path, capsys):
    out = tmp_path / "validate"
    args = ["validate-model", "--replications", "2", "--workers", "2", "--out", str(out)]
    assert cli.main(args) == 0
    said = capsys.readouterr()
    printed = said.out
    assert "warning: 2 replications of each holdout scenario" in said.err  # as a run warns
    table = pd.read_csv(out / "holdouts.csv")
    assert table["check"].nunique() == len(CHECKS) == 5
    manifest = json.loads((out / "manifest.json").read_text())
    for name, reproduced in manifest["reproduced"].items():
        verdict = "REPRODUCED" if reproduced else "NOT REPRODUCED"
        assert f"{verdict}: {name}" in printed
    # the reported figures come from the holdout target files, not from code
    vantor = table[table["check"].str.startswith("Vantör")].iloc[0]
    assert vantor["reported"] == 0.482
    for group in ("labour-market group", "rehabilitation group"):  # each run as its own unit
        shares = table[table["figure"].str.match(rf"{group}: class [ABC] share")]
        assert len(shares) == 3
        assert abs(shares["model_mean"].sum() - 1) < 1e-9
        assert abs(shares["reported"].sum() - 1) < 1e-9
    # each group's C share set its barriers' C need, and the shipped fit fits the stock's
    # shares by barrier: shown, not judged
    assert table["figure"].str.contains("not part of the verdict").sum() == 2 + 3
    districts = table[table["check"].str.contains("by district")]
    stock = districts[districts["figure"].str.contains("households a month")]
    assert list(stock["reported"].round(3)) == [0.335, 0.323, 0.341]  # 166, 160, 169 of 495
    closures = districts[districts["figure"].str.contains("share of the unit's closures")]
    assert list(closures["reported"].round(3)) == [0.356, 0.327, 0.317]  # 220, 202, 196 of 618
    assert abs(closures["model_mean"].sum() - 1) < 1e-9
    markdown = (out / "holdouts.md").read_text()
    assert markdown.count("Criterion:") == 5


def test_validate_model_names_what_a_calibration_folder_lacks(tmp_path, capsys):
    """The holdout checks read the shipped units' files by name: a folder with targets/ but
    not those files is named with what it lacks (it named one missing file as if that were
    the fault), and a folder that does not exist is said not to."""
    (tmp_path / "cal" / "targets").mkdir(parents=True)
    assert cli.main(["validate-model", "--calibration", str(tmp_path / "cal")]) == 2
    err = capsys.readouterr().err
    assert "is not a calibration folder with the holdouts' files (it lacks targets/" in err
    assert "not a unit of your own" in err
    assert cli.main(["validate-model", "--calibration", str(tmp_path / "none")]) == 2
    assert "none: no such folder" in capsys.readouterr().err


def test_validate_model_with_a_missing_parameter_file_is_a_clear_error(tmp_path, capsys):
    missing = tmp_path / "nope.toml"
    assert cli.main(["validate-model", "--parameters", str(missing)]) == 2
    assert "nope.toml" in capsys.readouterr().err


def test_the_2011_class_split_is_reproduced_by_each_groups_staff_time():
    """Back-test of the staff-time mechanism against seed 003's table: each group of the 2011
    unit, run with its own social workers, works as many cases as A as its time allows, and
    that is the table's A share (C is set from the table and not judged). The same seeds give
    the same verdict, so a model change that moves it fails here, not only in the docs."""
    from pathlib import Path

    from sim.calibration.holdout import check_eav_split

    calibration = Path(__file__).resolve().parent.parent / "calibration"
    check = check_eav_split(calibration, replications=10, workers=2, overrides=[])
    assert check.reproduced
    table = check.table.set_index("figure")
    for group in ("labour-market group", "rehabilitation group"):
        waiting = table.loc[f"{group}: A-need cases worked as B for lack of time (not in the seed)"]
        assert waiting["model_mean"] > 10  # time, not need, holds the A group


def test_the_stock_check_says_so_when_its_run_misses_november_2015():
    """The stock by barrier is a count of one month: a run moved past it has nothing to
    compare, and the check says which file's scenario is at fault instead of a KeyError."""
    from pathlib import Path

    import pytest

    from sim.calibration.holdout import check_stock_and_ar_leavers_2015
    from sim.inputs.validation import InputError

    calibration = Path(__file__).resolve().parent.parent / "calibration"
    with pytest.raises(InputError, match=r"ostermalm_2015\.toml.*November 2015"):
        check_stock_and_ar_leavers_2015(
            calibration, replications=1, workers=1, overrides=["start_date=2016-01-01"]
        )


def test_the_2014_level_check_says_so_when_its_run_has_no_2014():
    """The fall from 2014 is read from the target run's warm-up year: without it there is
    nothing to compare, and the check names the targets file's scenario."""
    from pathlib import Path

    import pytest

    from sim.calibration.holdout import check_stock_and_ar_leavers_2015
    from sim.inputs.validation import InputError

    calibration = Path(__file__).resolve().parent.parent / "calibration"
    with pytest.raises(InputError, match=r"ostermalm_2015\.toml.*2014 as its warm-up year"):
        check_stock_and_ar_leavers_2015(
            calibration, replications=1, workers=1, overrides=["warmup_days=0"]
        )


def test_the_stock_shares_are_judged_unless_the_parameter_set_was_fitted_to_them(tmp_path):
    """A set fitted to 2015's stock shares (its fit record's spec compares them) cannot be
    tested by them, so they are context; the flows-only fit, which holds them out, and a
    hand-set or copied set whose spec cannot be read are judged by them."""
    from pathlib import Path

    from sim.calibration.holdout import _stock_shares_fitted
    from sim.inputs.loading import load_scenarios

    root = Path(__file__).resolve().parent.parent
    targets = root / "calibration" / "targets" / "ostermalm_2015.toml"
    scenario = root / "scenarios" / "baseline.toml"

    def fitted(parameters: Path | None) -> set[str]:
        overrides = [] if parameters is None else [f'parameters="{parameters.as_posix()}"']
        return _stock_shares_fitted(load_scenarios(scenario, overrides)[0], targets)

    shares = {f"stock_share_{b}_2015" for b in ("unemployment", "social_medical", "sick_listed")}
    assert fitted(None) == shares  # the shipped fit
    flows = root / "calibration" / "fitted" / "ostermalm_2015_flows.toml"
    assert fitted(flows) == set()
    assert fitted(root / "calibration" / "parameters" / "first_guess.toml") == set()
    copied = tmp_path / "copied.toml"  # its spec, relative to it, is not there
    copied.write_text((root / "calibration" / "fitted" / "ostermalm_2015.toml").read_text())
    assert fitted(copied) == set()


def test_a_holdouts_interval_stays_within_what_the_figure_can_take():
    """With two replications a share's Student-t interval reached from -0.005 to 0.705: the
    interval is cut at the figure's bounds, as a run's summary.csv cuts it; the mean and its
    standard error, which the verdicts use, are left as they are."""
    import numpy as np

    from sim.calibration.holdout import COUNT, SHARE, _ci

    wide = np.array([0.0, 0.7])
    cut = _ci(wide, SHARE)
    uncut = _ci(wide)
    assert uncut.low < 0 < uncut.high > 1  # 12.7 standard errors either side
    assert (cut.low, cut.high) == (0.0, 1.0)
    assert (cut.mean, cut.se) == (uncut.mean, uncut.se)
    assert _ci(np.array([1.0, 40.0]), COUNT).low == 0.0
    change = _ci(np.array([-10.0, 5.0]))
    assert change.low < -10  # a change may be negative: not cut
