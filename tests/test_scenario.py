"""Scenario files: valid ones load, broken ones fail with a message naming file and key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.inputs.loading import load_scenarios
from sim.inputs.validation import InputError

from .conftest import ROOT, SMALL


def messages(path: Path, *overrides: str) -> str:
    with pytest.raises(InputError) as info:
        load_scenarios(path, overrides)
    return str(info.value)


def test_every_shipped_scenario_validates():
    files = sorted((ROOT / "scenarios").glob("*.toml"))
    assert files, "no scenarios shipped"
    for f in files:
        assert load_scenarios(f)


def test_unknown_key_suggests_the_right_one(write):
    path = write(
        "typo.toml",
        SMALL.replace("[staff.ongoing_social_workers]", "[staff.ongoing_social_worker]"),
    )
    msg = messages(path)
    assert str(path) in msg
    assert "staff.ongoing_social_worker" in msg
    assert "did you mean 'ongoing_social_workers'" in msg


def test_top_level_typo(write):
    path = write("typo.toml", SMALL.replace("horizon_years", "horizon_yeras"))
    msg = messages(path)
    assert "unknown key 'horizon_yeras'; did you mean 'horizon_years'?" in msg


def test_wrong_type_names_key_and_value(write):
    path = write("bad.toml", SMALL.replace("posts = 11", 'posts = "eleven"'))
    msg = messages(path)
    assert "staff.ongoing_social_workers.posts" in msg
    assert "eleven" in msg


def test_negative_staff_count(write):
    path = write("neg.toml", SMALL.replace("posts = 11", "posts = -3"))
    msg = messages(path)
    assert "staff.ongoing_social_workers.posts" in msg
    assert "greater than or equal to 0" in msg


def test_impossible_date_is_reported_with_the_file(write):
    path = write("date.toml", SMALL.replace("start_date = 2015-01-01", "start_date = 2015-02-30"))
    msg = messages(path)
    assert str(path) in msg and "date" in msg


def test_impossible_date_as_string(write):
    path = write("date.toml", SMALL.replace("start_date = 2015-01-01", 'start_date = "2015-13-01"'))
    assert "start_date" in messages(path)


def test_unknown_distribution_suggests(write):
    text = SMALL.replace(
        "annual_turnover = 0.3",
        'annual_turnover = 0.3\nvacancy_fill_days = { dist = "lognorm", mean = 9, sd = 2 }',
    )
    msg = messages(write("dist.toml", text))
    assert "staff.ongoing_social_workers.vacancy_fill_days" in msg
    assert "did you mean 'lognormal'" in msg


def test_distribution_parameters_are_validated(write):
    text = SMALL.replace(
        "annual_turnover = 0.3",
        'annual_turnover = 0.3\nvacancy_fill_days = { dist = "gamma", mean = -9, sd = 2 }',
    )
    msg = messages(write("dist.toml", text))
    assert "staff.ongoing_social_workers.vacancy_fill_days.mean" in msg


def test_missing_parameter_file(write):
    path = write("p.toml", re.sub(r'parameters = ".*"', 'parameters = "nowhere.toml"', SMALL))
    msg = messages(path)
    assert "parameters" in msg and "not found" in msg


def test_extends_merges_deeply_and_reports_parent_errors(write, small):
    child = write(
        "child.toml",
        'extends = "small.toml"\nname = "child"\n[staff.ongoing_social_workers]\nposts = 15\n',
    )
    resolved = load_scenarios(child)[0].scenario
    assert resolved.staff.ongoing_social_workers.posts == 15
    assert resolved.staff.ongoing_social_workers.annual_turnover == 0.3  # inherited
    assert resolved.staff.intake_social_workers.posts == 4

    write("small.toml", SMALL.replace("posts = 6", "posts = -6"))
    msg = messages(child)
    assert "small.toml: staff.benefit_administrators.posts" in msg


def test_missing_extends_and_cycle(write):
    msg = messages(write("a.toml", 'extends = "missing.toml"\n'))
    assert "extends" in msg and "not found" in msg
    write("x.toml", 'extends = "y.toml"\n')
    msg = messages(write("y.toml", 'extends = "x.toml"\n'))
    assert "cycle" in msg


def test_sweep_covers_the_product(write):
    text = (
        SMALL
        + '\n[sweep]\n"staff.ongoing_social_workers.posts" = [9, 11, 13]\n'
        + '"ar_team.places" = [24, 36]\n'
    )
    resolved = load_scenarios(write("sweep.toml", text))
    assert len(resolved) == 6
    combos = {
        (r.scenario.staff.ongoing_social_workers.posts, r.scenario.ar_team.places) for r in resolved
    }
    assert combos == {(p, a) for p in (9, 11, 13) for a in (24, 36)}
    assert len({r.name for r in resolved}) == 6


def test_sweep_with_a_bad_key(write):
    text = SMALL + '\n[sweep]\n"staff.ongoing_social_workers.postz" = [9, 11]\n'
    msg = messages(write("sweep.toml", text))
    assert "did you mean 'posts'" in msg


def test_set_overrides_are_validated(small):
    resolved = load_scenarios(
        small, ["staff.ongoing_social_workers.posts=20", "organisation.form=merged"]
    )
    assert resolved[0].scenario.staff.ongoing_social_workers.posts == 20
    assert resolved[0].scenario.organisation.form == "merged"
    msg = messages(small, "staff.ongoing_social_workers.posts=-1")
    assert "--set staff.ongoing_social_workers.posts=-1" in msg
    msg = messages(small, "organisation.form=fused")
    assert "organisation.form" in msg and "split" in msg and "merged" in msg


def test_timed_changes(write):
    good = (
        SMALL
        + "\n[[changes]]\nat = 2015-07-01\nstaff.ongoing_social_workers.posts = 14\n"
        + "ar_team.places = 36\n"
    )
    resolved = load_scenarios(write("c.toml", good))[0]
    assert len(resolved.timeline) == 2
    assert resolved.timeline[1].staff.ongoing_social_workers.posts == 14
    assert resolved.timeline[1].staff.intake_social_workers.posts == 4

    early = good.replace("at = 2015-07-01", "at = 2014-07-01")
    assert "changes[0].at" in messages(write("c2.toml", early))
    bad = good.replace("posts = 14", "posts = -14")
    assert "changes[0].staff.ongoing_social_workers.posts" in messages(write("c3.toml", bad))
    other = SMALL + "\n[[changes]]\nat = 2015-07-01\nseed = 3\n"
    assert "unknown key 'seed'" in messages(write("c4.toml", other))


# --- generated scenarios --------------------------------------------------------------------

LEAVES = [
    ("staff.ongoing_social_workers.posts", st.integers(0, 60), st.sampled_from([-1, "x", 1.5])),
    (
        "staff.intake_social_workers.annual_turnover",
        st.floats(0, 2),
        st.sampled_from([-0.1, "often", 9.0]),
    ),
    ("organisation.caseload_norm", st.floats(10, 120), st.sampled_from([0, -5, "fifty"])),
    ("organisation.class_a_weight", st.floats(1, 3), st.sampled_from([0.5, "heavy"])),
    ("ar_team.places", st.integers(0, 80), st.sampled_from([-2, 2.5, "many"])),
    ("horizon_years", st.floats(0.1, 10), st.sampled_from([0, -1, "long"])),
    ("replications", st.integers(1, 500), st.sampled_from([0, -4, "some"])),
    ("unemployment.reference_percent", st.floats(0.5, 20), st.sampled_from([0, 100, "low"])),
]


def _toml_value(v: object) -> str:
    return f'"{v}"' if isinstance(v, str) else repr(v)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_generated_valid_scenarios_load(small, data):
    chosen = data.draw(
        st.lists(st.sampled_from(LEAVES), min_size=1, max_size=4, unique_by=lambda x: x[0])
    )
    overrides = [f"{key}={_toml_value(data.draw(good))}" for key, good, _bad in chosen]
    assert load_scenarios(small, overrides)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_generated_broken_scenarios_name_the_key(small, data):
    key, _good, bad = data.draw(st.sampled_from(LEAVES))
    value = data.draw(bad)
    msg = messages(small, f"{key}={_toml_value(value)}")
    assert key in msg


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_generated_typos_are_caught_with_suggestion(small, data):
    key, good, _bad = data.draw(st.sampled_from(LEAVES))
    parts = key.split(".")
    last = parts[-1]
    i = data.draw(st.integers(0, len(last) - 1))
    typo = last[:i] + last[i + 1 :]  # drop one letter
    msg = messages(small, ".".join([*parts[:-1], typo]) + "=" + _toml_value(data.draw(good)))
    assert f"unknown key '{typo}'" in msg
    assert f"did you mean '{last}'" in msg


def test_parameter_file_errors_name_that_file_and_key(write):
    from .conftest import PARAMETERS

    text = PARAMETERS.read_text().replace("work = 0.25", "wrok = 0.25")
    params = write("params.toml", text)
    scenario = write("s.toml", re.sub(r'parameters = ".*"', 'parameters = "params.toml"', SMALL))
    msg = messages(scenario)
    assert str(params) in msg
    assert "returns.probability.wrok" in msg and "did you mean 'work'" in msg
    assert "returns.probability.work: required key is missing" in msg


def test_contact_volume_cannot_change_at_a_date(write):
    text = SMALL + "\n[[changes]]\nat = 2015-07-01\norganisation.contacts_scale = 2\n"
    msg = messages(write("c.toml", text))
    assert "changes[0].organisation.contacts_scale" in msg and "cannot change at a date" in msg


def test_contacts_scale_scales_the_inflow(small):
    from sim.model.caseload import CaseloadModel

    one = CaseloadModel(load_scenarios(small)[0], 0).generate_contacts()[0]
    three = CaseloadModel(
        load_scenarios(small, ["organisation.contacts_scale=3"])[0], 0
    ).generate_contacts()[0]
    assert 2.7 < len(three) / len(one) < 3.3


def test_calibrated_range_must_be_ordered(write):
    from .conftest import PARAMETERS

    text = PARAMETERS.read_text().replace("households = [400, 650]", "households = [650, 400]")
    write("params.toml", text)
    scenario = write("s.toml", re.sub(r'parameters = ".*"', 'parameters = "params.toml"', SMALL))
    assert "calibrated_range" in messages(scenario) and "must not exceed" in messages(scenario)
