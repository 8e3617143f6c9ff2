"""Calibration spec: paths checked against the parameter set, priors contain the base values."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from sim.calibration.spec import apply_parameters, load_spec
from sim.inputs.validation import InputError

ROOT = Path(__file__).resolve().parent.parent
# The flows-only spec: the base the shipped spec (spec_2015.toml) extends, and a file that
# stands alone, so the tests below can rewrite its paths.
SPEC = ROOT / "calibration" / "spec_2015_flows.toml"
SHIPPED = ROOT / "calibration" / "spec_2015.toml"


def test_the_shipped_spec_and_the_flows_only_spec_it_extends_load():
    """The shipped spec fits what the flows-only one does plus the stock's shares, with the
    contacts' unemployment share as one more parameter."""
    flows, base = load_spec(SPEC)
    shipped, shipped_base = load_spec(SHIPPED)
    assert base.name == shipped_base.name == "first_guess"
    assert (flows.name, shipped.name) == ("ostermalm_2015_flows", "ostermalm_2015")
    assert len(flows.calibrate) >= 10
    added = {e.path for e in shipped.calibrate} - {e.path for e in flows.calibrate}
    assert added == {"contacts.barrier_shares.unemployment"}
    assert {h for h in flows.holdouts if h.startswith("stock_share_")} == {
        f"stock_share_{b}_2015" for b in ("unemployment", "social_medical", "sick_listed")
    }
    assert not shipped.holdouts


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


def _spec_with(tmp_path, extra: str, header: str = "") -> Path:
    """The flows-only spec with its files found from ``tmp_path``, plus ``extra`` entries (and
    ``header`` keys at the top level)."""
    text = SPEC.read_text()
    text = text.replace(
        'parameters = "parameters/', f'parameters = "{ROOT}/calibration/parameters/'
    )
    text = text.replace('targets = "targets/', f'targets = "{ROOT}/calibration/targets/')
    if "holdouts" in header:  # this header's, not the flows-only spec's
        text = "\n".join(line for line in text.split("\n") if not line.startswith("holdouts"))
    first = text.index("[[calibrate]]")
    path = tmp_path / "spec.toml"
    path.write_text(text[:first] + header + "\n" + text[first:] + "\n" + extra)
    return path


SHARE = """
[[calibrate]]
path = "contacts.barrier_shares.unemployment"
mode = "share"
low = 0.2
high = 0.6
source = "a test: the contacts' barrier mix"
"""


def test_a_share_parameter_sets_its_entry_and_rescales_the_rest_of_its_table(tmp_path):
    """A mix (the contacts' barriers) is fitted as one entry of its table: the others keep
    their proportions among themselves and the table still adds up to 1."""
    spec, base = load_spec(_spec_with(tmp_path, SHARE))
    before = base.contacts.barrier_shares
    fitted = apply_parameters(base, spec, {"contacts.barrier_shares.unemployment": 0.5}).contacts
    assert fitted.barrier_shares["unemployment"] == 0.5
    assert sum(fitted.barrier_shares.values()) == pytest.approx(1.0, abs=1e-12)
    rest = 1 - before["unemployment"]
    for barrier in ("social_medical", "sick_listed", "immigration", "other"):
        assert fitted.barrier_shares[barrier] == pytest.approx(before[barrier] * 0.5 / rest)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (SHARE.replace("barrier_shares.unemployment", "per_year"), "contacts is not a table"),
        (SHARE.replace("high = 0.6", "high = 1.2"), "must lie inside"),
        (SHARE.replace("low = 0.2", "low = 0.4"), "base value 0.35 lies outside"),
        (SHARE + SHARE.replace("unemployment", "other"), "already has a share parameter"),
    ],
)
def test_a_share_parameter_that_cannot_be_one_is_refused_with_its_key(tmp_path, entry, message):
    with pytest.raises(InputError, match=rf"calibrate\[\d+\]\.path.*{message}"):
        load_spec(_spec_with(tmp_path, entry))


def test_a_spec_can_leave_targets_out_of_its_fit(tmp_path):
    """``holdouts`` keeps targets that name a KPI out of this spec's distance (another spec may
    fit them); a name that is not such a target is an error naming the key."""
    from sim.calibration.spec import load_problem

    spec = _spec_with(tmp_path, "", header='holdouts = ["households_per_month"]\n')
    problem = load_problem(spec)
    assert "households_per_month" not in [t.id for t in problem.compared]
    assert "stock_share_unemployment_2015" in [t.id for t in problem.compared]
    assert "households_per_month" in [t.id for t in load_problem(SPEC).compared]
    wrong = _spec_with(tmp_path, "", header='holdouts = ["households_per_mont"]\n')
    with pytest.raises(InputError, match=r"holdouts\[0\].*did you mean 'households_per_month'"):
        load_problem(wrong)


def test_a_spec_extends_another_adding_parameters_and_its_own_holdouts(tmp_path):
    """The shipped spec is the flows-only spec plus the contacts' barrier mix, with the
    stock's shares fitted rather than held out: written as an extension, so the two cannot
    drift."""
    from sim.calibration.spec import load_problem

    flows = load_problem(SPEC)
    shipped = load_problem(ROOT / "calibration" / "spec_2015.toml")
    assert [e.path for e in shipped.spec.calibrate] == [
        *(e.path for e in flows.spec.calibrate),
        "contacts.barrier_shares.unemployment",
    ]
    fitted_there = {t.id for t in shipped.compared} - {t.id for t in flows.compared}
    assert fitted_there == set(flows.spec.holdouts)
    assert shipped.targets_path == flows.targets_path
    # an entry of the same path replaces the extended spec's; a cycle is named
    child = tmp_path / "child.toml"
    child.write_text(
        f'extends = "{SPEC}"\nname = "child"\n[[calibrate]]\npath = "intake.dropout_share"\n'
        'low = 0.1\nhigh = 0.5\nsource = "a narrower range, for the test"\n'
    )
    spec, _ = load_spec(child)
    (entry,) = [e for e in spec.calibrate if e.path == "intake.dropout_share"]
    assert (entry.low, entry.high) == (0.1, 0.5)
    assert len(spec.calibrate) == len(flows.spec.calibrate)
    loop = tmp_path / "loop.toml"
    loop.write_text('extends = "loop.toml"\n')
    with pytest.raises(InputError, match="extends makes a cycle"):
        load_spec(loop)


def test_an_extending_spec_needs_its_own_name_and_finds_files_from_its_own_folder(tmp_path):
    """The name names the fitted file and the work folder: an extension that kept the
    flows-only spec's would overwrite that fit. Relative paths are each file's own."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    extends = Path(os.path.relpath(SPEC, folder))
    child = folder / "child.toml"
    child.write_text(f'extends = "{extends}"\n')
    with pytest.raises(InputError, match=r"child\.toml.*name.*'ostermalm_2015_flows'"):
        load_spec(child)
    child.write_text(f'extends = "{extends}"\nname = "ostermalm_2015_flows"\n')
    with pytest.raises(InputError, match="needs a name of its own"):
        load_spec(child)
    for bad in ("", "../../tmp/elsewhere"):  # it names a folder and a file: no path in it
        child.write_text(f'extends = "{extends}"\nname = "{bad}"\n')
        with pytest.raises(InputError, match=r"child\.toml: name: may use only letters a-z"):
            load_spec(child)
    child.write_text(f'extends = "{extends}"\nname = "elsewhere"\n')
    spec, base = load_spec(child)  # parameters and targets found from the extended spec's folder
    assert spec.name == "elsewhere" and base.name == "first_guess"
    assert (folder / spec.targets).resolve() == (SPEC.parent / "targets/ostermalm_2015.toml")


def test_a_spec_that_holds_out_every_target_is_refused(tmp_path):
    from sim.calibration.spec import load_problem
    from sim.calibration.targets import load_targets

    targets = load_targets(ROOT / "calibration" / "targets" / "ostermalm_2015.toml")
    every = ", ".join(f'"{t.id}"' for t in targets.targets if t.kpi is not None)
    spec = _spec_with(tmp_path, "", header=f"holdouts = [{every}]\n")
    with pytest.raises(InputError, match="holds out every target"):
        load_problem(spec)


def _shipped_spec_with(tmp_path, text):
    text = text.replace(
        'parameters = "parameters/', f'parameters = "{ROOT}/calibration/parameters/'
    )
    text = text.replace('targets = "targets/', f'targets = "{ROOT}/calibration/targets/')
    path = tmp_path / "spec.toml"
    path.write_text(text)
    return path


def test_a_parameter_calibrated_twice_in_one_spec_is_refused(tmp_path):
    entry = (
        '\n[[calibrate]]\npath = "intake.booked_share"\nlow = 0.15\nhigh = 0.35\n'
        'source = "the same parameter again"\n'
    )
    spec = _shipped_spec_with(tmp_path, SPEC.read_text() + entry)
    with pytest.raises(InputError, match=r"intake.booked_share is calibrated twice \(also"):
        load_spec(spec)


@pytest.mark.parametrize(
    ("old", "new"), [("high = 0.35", "high = inf"), ("low = 0.15", "low = nan")]
)
def test_a_prior_bound_must_be_finite(tmp_path, old, new):
    """An infinite bound crashed the point fit (scipy's box must be finite) after it began."""
    text = SPEC.read_text().replace(old, new, 1)
    with pytest.raises(InputError, match=r"calibrate\[1\]\.(low|high): Input should be a finite"):
        load_spec(_shipped_spec_with(tmp_path, text))


def test_a_scale_factor_below_zero_is_refused(tmp_path):
    """A negative factor on a table of hazards would make negative rates (the fit ran and
    scored them with a placeholder distance)."""
    moved = 'path = "exits.monthly_hazard.moved"\nmode = "scale"\nlow = 0.4\n'
    text = SPEC.read_text()
    assert moved in text  # the shipped spec's own scale entry, its range moved below 0
    spec = _shipped_spec_with(tmp_path, text.replace(moved, moved.replace("0.4", "-0.4")))
    with pytest.raises(InputError, match=r"a scale factor must be above 0: low = -0.4"):
        load_spec(spec)


def test_spec_messages_name_the_parameter_and_what_to_write(tmp_path):
    """A backwards range names the parameter's path (the entry's index alone does not say
    which), and a spec with nothing to calibrate says to add a [[calibrate]] table, not how
    many items pydantic wanted."""
    moved = 'path = "exits.monthly_hazard.moved"\nmode = "scale"\nlow = 0.4\n'
    text = SPEC.read_text()
    backwards = _shipped_spec_with(tmp_path, text.replace(moved, moved.replace("0.4", "9.0")))
    with pytest.raises(InputError, match=r"exits\.monthly_hazard\.moved: low \(9\.0\) must be"):
        load_spec(backwards)
    head = text[: text.index("[[calibrate]]")]
    empty = _shipped_spec_with(tmp_path, head + "calibrate = []\n")
    with pytest.raises(InputError, match=r"calibrate: is empty: give at least one \[\[calibrate"):
        load_spec(empty)


def test_a_fit_refuses_a_contradiction_the_targets_do_not_explain(tmp_path, capsys):
    """``calibrate check`` fails on a sum rule that does not add up without a ``known`` note;
    a fit over such targets would chase both figures: it is refused before it starts."""
    from sim.cli import main as cli

    targets = (ROOT / "calibration" / "targets" / "ostermalm_2015.toml").read_text()
    targets = targets.replace('scenario = "../../', f'scenario = "{ROOT}/')
    unexplained = re.sub(r'(?m)^known = "the causes add to 542.*\n', "", targets, count=1)
    assert unexplained != targets
    (tmp_path / "targets.toml").write_text(unexplained)
    text = SPEC.read_text().replace(
        'targets = "targets/ostermalm_2015.toml"', 'targets = "targets.toml"'
    )
    spec = _shipped_spec_with(tmp_path, text)
    assert cli.main(["calibrate", "fit", str(spec), "--out", str(tmp_path / "fit")]) == 2
    err = capsys.readouterr().err
    assert "sums (exit_causes): exits_work + " in err and "a contradiction the file does not" in err
    assert not (tmp_path / "fit").exists()


def test_a_fit_cut_short_says_so():
    """A point fit stopped at its cap with under half the targets within 2 sd is a search cut
    short: the report's notes and the command's output say so (they said "none")."""
    from types import SimpleNamespace

    import pandas as pd

    from sim.cli.calibrate.fit import _unfinished

    table = pd.DataFrame({"reproduced": [False] * 5 + [True]})
    short = SimpleNamespace(fit=SimpleNamespace(stopped_by="max_generations", generations=1),
                            table=table)  # fmt: skip
    (note,) = _unfinished(short)  # type: ignore[arg-type]
    assert note.startswith("The point fit stopped at its generation cap after 1 generation with")
    assert "1 of 6 targets reproduced" in note
    converged = SimpleNamespace(fit=SimpleNamespace(stopped_by="converged", generations=9),
                                table=table)  # fmt: skip
    assert _unfinished(converged) == []  # type: ignore[arg-type]
    good = SimpleNamespace(fit=short.fit, table=pd.DataFrame({"reproduced": [True, True, False]}))
    assert _unfinished(good) == []  # type: ignore[arg-type]


def test_a_prior_range_beyond_what_the_parameter_allows_is_refused(tmp_path):
    """A share's range up to 1.4 gave the search points the model refuses (scored with a
    placeholder distance) while the report showed the prior as 0.1-1.4: each end of a range,
    set alone in the base set, must give a valid set, and the message says which end."""
    text = SPEC.read_text().replace("high = 0.35", "high = 1.4", 1)
    with pytest.raises(InputError) as refused:
        load_spec(_shipped_spec_with(tmp_path, text))
    (problem,) = refused.value.problems
    assert problem.key.endswith("].high") and "intake.booked_share at 1.4" in problem.message
    assert "keep the range within what the parameter allows" in problem.message
    assert load_spec(_shipped_spec_with(tmp_path, SPEC.read_text()))  # the shipped ranges load
