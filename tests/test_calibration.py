"""Calibration spec: paths checked against the parameter set, priors contain the base values."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.calibration.spec import apply_parameters, load_spec
from sim.inputs.validation import InputError

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "calibration" / "spec_2015.toml"


def test_the_shipped_spec_loads():
    spec, base = load_spec(SPEC)
    assert len(spec.calibrate) >= 10
    assert base.name == "first_guess"


def test_a_wrong_path_is_named_with_a_suggestion(tmp_path):
    text = SPEC.read_text().replace('path = "intake.dropout_share"', 'path = "intake.dropout_shar"')
    text = text.replace(
        'parameters = "parameters/', f'parameters = "{ROOT}/calibration/parameters/'
    )
    text = text.replace('targets = "targets/', f'targets = "{ROOT}/calibration/targets/')
    bad = tmp_path / "spec.toml"
    bad.write_text(text)
    with pytest.raises(InputError, match=r"calibrate\[2\]\.path.*did you mean 'dropout_share'"):
        load_spec(bad)


def test_apply_sets_values_and_scales_tables():
    spec, base = load_spec(SPEC)
    fitted = apply_parameters(
        base, spec, {"intake.dropout_share": 0.25, "exits.monthly_hazard.work": 2.0}
    )
    assert fitted.intake.dropout_share == 0.25
    for barrier, rate in base.exits.monthly_hazard["work"].items():
        assert fitted.exits.monthly_hazard["work"][barrier] == pytest.approx(2 * rate)
    assert fitted.exits.monthly_hazard["unknown"] == base.exits.monthly_hazard["unknown"]


def test_apply_validates_the_result():
    spec, base = load_spec(SPEC)
    with pytest.raises(InputError, match=r"intake\.dropout_share"):
        apply_parameters(base, spec, {"intake.dropout_share": 1.5})
