"""Morris screening: the dummy parameter has no effect (common random numbers), real ones do."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sim import cli

pytest.importorskip("SALib")

SPEC = Path(__file__).resolve().parent.parent / "calibration" / "spec_2015.toml"


@pytest.fixture(scope="module")
def screened(tmp_path_factory):
    from sim.screening import screen

    return screen(SPEC, trajectories=2, replications=1, workers=2)


def test_dummy_parameter_has_exactly_no_effect(screened):
    dummy = screened.table[screened.table["parameter"] == "dummy"]
    assert len(dummy) > 5 and (dummy["mu_star"] == 0).all()


def test_strong_known_relations_are_found(screened):
    t = screened.table.set_index(["target", "parameter"])["mu_star_per_sd"]
    assert t[("booked", "intake.booked_share")] > 3
    assert t[("contacts", "contacts.per_year")] > 3
    assert t[("exits_work", "exits.monthly_hazard.work")] > 3
    # with flat unemployment at its reference level the 2015 targets cannot see this parameter
    assert (
        screened.table.query("parameter == 'exits.unemployment_semi_elasticity_work'")["mu_star"]
        == 0
    ).all()


def test_cli_screen_writes_table_plot_and_manifest(tmp_path, capsys):
    out = tmp_path / "screen"
    args = ["calibrate", "--screen", str(SPEC), "--trajectories", "2", "--replications", "1",
            "--out", str(out)]  # fmt: skip
    assert cli.main(args) == 0
    assert (out / "screening.csv").exists() and (out / "screening.png").stat().st_size > 1000
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["model_runs"] == 2 * (len(manifest["spec"]["calibrate"]) + 2)
    assert "noise floor): largest mu* 0" in capsys.readouterr().out
