"""Morris screening: the dummy parameter has no effect (common random numbers), real ones do."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sim.cli import main as cli

pytest.importorskip("SALib")

SPEC = Path(__file__).resolve().parent.parent / "calibration" / "spec_2015_flows.toml"


def spec_with_semi_elasticity(folder: Path) -> Path:
    """The 2015 spec plus the parameter it leaves out because 2015 cannot identify it."""
    text = SPEC.read_text()
    for key in ("parameters", "targets"):
        start = text.index(f'{key} = "') + len(key) + 4
        rel = text[start : text.index('"', start)]
        text = text.replace(f'{key} = "{rel}"', f'{key} = "{(SPEC.parent / rel).as_posix()}"')
    text += (
        '\n[[calibrate]]\npath = "exits.unemployment_semi_elasticity_work"\n'
        'low = -0.4\nhigh = 0.0\nsource = "ASPE/Lewin 1997, as in docs/calibration.md"\n'
    )
    path = folder / "spec.toml"
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def screened(tmp_path_factory):
    from sim.calibration.screening import screen

    spec = spec_with_semi_elasticity(tmp_path_factory.mktemp("spec"))
    return screen(spec, trajectories=2, replications=1, workers=2)


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
    args = ["calibrate", "screen", str(SPEC), "--trajectories", "2", "--replications", "1",
            "--out", str(out)]  # fmt: skip
    assert cli.main(args) == 0
    assert (out / "screening.csv").exists() and (out / "screening.png").stat().st_size > 1000
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["model_runs"] == 2 * (len(manifest["spec"]["calibrate"]) + 2)
    assert "noise floor): largest mu* 0" in capsys.readouterr().out
    # what it read, as a fit records it: to repeat it, or to tell a file changed since
    assert manifest["seed"] == 2015 and manifest["targets"]
    assert {"spec", "targets", "base_parameters", "scenario"} <= set(manifest["files"])
    assert all(len(f["sha256"]) == 64 for f in manifest["files"].values())


def test_sobol_dummy_is_exactly_zero_and_contacts_drive_contacts():
    from sim.calibration.screening import sobol_indices

    table = sobol_indices(
        SPEC, ["contacts.per_year", "intake.booked_share"], base_samples=8, workers=2
    ).set_index(["target", "parameter"])
    dummy = table.xs("dummy", level="parameter")
    assert (dummy["ST"] == 0).all() and (dummy["S1"] == 0).all()
    assert table.loc[("contacts", "contacts.per_year"), "ST"] > 0.5
    assert (
        table.loc[("booked", "intake.booked_share"), "ST"]
        > table.loc[("booked", "contacts.per_year"), "ST"]
    )


def test_cli_sobol_after_morris_names_what_matters(tmp_path, capsys):
    """In the old form (``--screen`` flag, still an alias of ``calibrate screen``)."""
    out = tmp_path / "screen"
    args = ["calibrate", "--screen", str(SPEC), "--trajectories", "2", "--replications", "1",
            "--sobol", "--sobol-samples", "8", "--out", str(out)]  # fmt: skip
    assert cli.main(args) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["sobol"]["parameters"] and (out / "sobol.png").exists()
    assert "Sobol:" in capsys.readouterr().out


@pytest.mark.parametrize("samples", ["3", "1", "48"])
def test_sobol_samples_must_be_a_power_of_two(samples, capsys):
    """Saltelli's estimates need a power of 2 base samples: with 3, SALib only warned and the
    total-order indices came out above 1. Refused before anything runs."""
    with pytest.raises(SystemExit) as info:
        cli.main(["calibrate", "screen", str(SPEC), "--sobol", "--sobol-samples", samples])
    assert info.value.code == 2
    assert "--sobol-samples: must be a power of 2" in capsys.readouterr().err


def test_a_bad_spec_is_refused_before_a_results_folder_is_made(tmp_path, monkeypatch, capsys):
    """As ``run`` and ``fit`` do: no ``results/`` and no ``--out`` parents are left behind, and
    no note says earlier results will be replaced."""
    monkeypatch.chdir(tmp_path)
    spec = spec_with_semi_elasticity(tmp_path)
    spec.write_text(spec.read_text().replace("low = -0.4\nhigh = 0.0", "low = 0.0\nhigh = -0.4"))
    assert cli.main(["calibrate", "screen", str(spec)]) == 2
    assert cli.main(["calibrate", "screen", str(spec), "--out", "np1/a/b"]) == 2
    err = capsys.readouterr().err
    assert "spec.toml: calibrate[" in err and "replaced" not in err
    assert not (tmp_path / "results").exists() and not (tmp_path / "np1").exists()


def test_one_morris_trajectory_is_refused(capsys):
    """One trajectory gives each parameter one elementary effect: no spread (sigma), and an
    interval of zero width that reads as perfect precision. At least two are asked for."""
    with pytest.raises(SystemExit) as refused:
        cli.main(["calibrate", "screen", str(SPEC), "--trajectories", "1"])
    assert refused.value.code == 2
    assert "--trajectories: must be at least 2, got 1" in capsys.readouterr().err
