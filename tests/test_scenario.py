"""Scenario files: valid ones load, broken ones fail with a message naming file and key."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.distributions import Empirical, Exponential, Fixed, Gamma, LogNormal, Uniform
from sim.inputs.loading import load_scenarios
from sim.inputs.parameters import ModelParameters
from sim.inputs.scenario import Scenario
from sim.inputs.validation import InputError, key_string, read_toml, validate_model

from .conftest import PARAMETERS, ROOT, SMALL


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


@pytest.mark.parametrize("written", ["2015-02-30", "2015-13-01", "2015-1-01"])
def test_impossible_date_is_reported_with_the_file(write, written):
    """An impossible day, a month 13 or a month of one digit: the TOML reader fails on each
    (on the last two without saying "date"), and the message says how dates are written."""
    path = write("date.toml", SMALL.replace("start_date = 2015-01-01", f"start_date = {written}"))
    msg = messages(path)
    assert msg.startswith(f"{path}: start_date: not valid TOML: ")
    assert msg.endswith("(an impossible or badly written date; write dates as YYYY-MM-DD)")


@pytest.mark.parametrize(
    ("written", "hint"),
    [
        ("0,33", "write decimals with a point: 0.33, not 0,33"),
        ("660 000", "write numbers without spaces: 660000 or 660_000"),
        ("2015/07/01", "write dates as YYYY-MM-DD"),
    ],
)
def test_numbers_and_dates_written_the_swedish_way_get_a_hint(write, written, hint):
    """A decimal comma, a space between thousands or a date with slashes is how a Swedish
    document writes them; TOML's own message says only that the line does not parse."""
    text = SMALL.replace("annual_turnover = 0.3\n", f"annual_turnover = {written}\n", 1)
    msg = messages(write("sv.toml", text))
    assert ".annual_turnover: not valid TOML: " in msg and msg.endswith(f"{hint})")


def test_a_toml_error_names_the_key_it_stands_on(write):
    """The reader's message gives a line and column; the key is read from the table headers
    above and the keys on that line, counting the entries of an array of tables."""
    changes = "\n[[changes]]\nat = 2015-07-01\n\n[[changes]]\nat = 2015-09-31\n"
    path = write("c.toml", SMALL + changes)
    assert messages(path).startswith(f"{path}: changes[1].at: not valid TOML: ")
    text = SMALL.replace("posts = 11\n", "posts = 11 x\n")
    assert "staff.ongoing_social_workers.posts: not valid TOML" in messages(write("p.toml", text))
    path = "path = [\n  { date = 2015-01-01, percent = 3.2 },\n"
    path += "  { date = 2015-02-29, percent = 4.0 },\n]"
    text = re.sub(r"(?m)^path = \[.*\]$", path, SMALL, count=1)
    assert text != SMALL
    assert "unemployment.path[1].date: not valid TOML" in messages(write("u.toml", text))
    header = messages(write("h.toml", SMALL + "\n[extra\n"))
    assert ": not valid TOML: Expected ']'" in header  # no key to name: the line says where


def test_a_syntax_error_without_a_date_gets_no_date_hint(write):
    msg = messages(write("bad.toml", SMALL.replace('name = "small"', 'name = "small" x')))
    assert "not valid TOML" in msg and "date" not in msg


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


def test_an_empty_table_in_a_sweep_is_refused(write):
    """``[sweep.staff]`` with nothing under it sweeps nothing: refused with the file and the
    key, rather than run as if there were no sweep."""
    path = write("sweep.toml", SMALL + "\n[sweep.staff]\n")
    assert messages(path) == (
        f"{path}: sweep.staff: is an empty table: put KEY = [values] under it, or remove it"
    )


def test_a_value_under_a_sweep_of_the_file_it_extends_is_refused(write):
    """A ``[sweep]`` is inherited like any table, and sets its keys again at every point: a
    file that sets a key its base sweeps would never run its value, so it is refused, naming
    the file, the key and the sweep. Sweeping the key in the file itself, or setting a key the
    base's swept tables leave alone, is how to change a swept scenario."""
    write("parent.toml", SMALL + '\n[sweep]\n"staff.ongoing_social_workers.posts" = [9, 11]\n')
    child = write(
        "child.toml", 'extends = "parent.toml"\n[staff.ongoing_social_workers]\nposts = 10\n'
    )
    msg = messages(child)
    assert msg.startswith(f"{child}: staff.ongoing_social_workers.posts: a file it extends sweeps")
    assert "parent.toml [sweep]" in msg and "sweep it here" in msg
    one = write(
        "one.toml",
        'extends = "parent.toml"\n[sweep]\n"staff.ongoing_social_workers.posts" = [10]\n',
    )
    assert [r.scenario.staff.ongoing_social_workers.posts for r in load_scenarios(one)] == [10]
    write(
        "tables.toml",
        SMALL + '\n[sweep]\n"staff.ongoing_social_workers" = [{posts = 8}, {posts = 9}]\n',
    )
    beside = write(
        "beside.toml",
        'extends = "tables.toml"\n[staff.ongoing_social_workers]\nannual_turnover = 0.2\n',
    )
    staff = [r.scenario.staff.ongoing_social_workers for r in load_scenarios(beside)]
    assert [(s.posts, s.annual_turnover) for s in staff] == [(8, 0.2), (9, 0.2)]


def test_a_table_and_a_key_inside_it_given_twice_are_refused(write, small):
    """Two ``--set`` (or two sweep entries) of a table and of a key its value sets would set
    that key twice, and which holds would depend on their order: refused, as the same key
    given twice is. A table's other keys merge with the key inside it, as in a file."""
    whole, inside = "staff.ongoing_social_workers={posts=5}", "staff.ongoing_social_workers.posts=6"
    for sets in ([whole, inside], [inside, whole]):
        assert "staff.ongoing_social_workers.posts: set twice, by --set" in messages(small, *sets)
    beside = load_scenarios(small, ["staff.ongoing_social_workers={annual_turnover=0.2}", inside])
    staff = beside[0].scenario.staff.ongoing_social_workers
    assert (staff.posts, staff.annual_turnover) == (6, 0.2)
    swept = write(
        "sweep.toml",
        SMALL + '\n[sweep]\n"ar_team" = [{places = 1}, {places = 2}]\n"ar_team.places" = [3, 4]\n',
    )
    assert "sweep.ar_team.places is swept, and so is the table around it" in messages(swept)
    # a swept table that is not a list of tables is said to be one, not walked
    bad = write("bad.toml", SMALL + '\n[sweep]\n"ar_team" = 5\n"ar_team.places" = [3, 4]\n')
    assert "sweep.ar_team: must be a non-empty list of values (got 5)" in messages(bad)


def test_a_key_swept_in_two_forms_or_files_runs_the_last_merged(write, small):
    """A key swept as a dotted key in a base and as nested tables in the file extending it
    (or by ``--set 'sweep.KEY=[...]'``) is one key: the values merged last run, as a file's
    own value replaces its base's."""
    write(
        "base.toml",
        SMALL + "\n[sweep]\nstaff.intake_social_workers.posts = [3, 4]\n"
        '"staff.ongoing_social_workers.posts" = [8, 9]\n',
    )
    child = write(
        "child.toml", 'extends = "base.toml"\n[sweep]\nstaff.ongoing_social_workers.posts = [12]\n'
    )
    points = load_scenarios(child)
    assert {r.scenario.staff.ongoing_social_workers.posts for r in points} == {12}
    assert len(points) == 2  # the intake's two values
    again = load_scenarios(child, ["sweep.staff.ongoing_social_workers.posts=[10, 11]"])
    assert {r.scenario.staff.ongoing_social_workers.posts for r in again} == {10, 11}


def test_an_option_that_a_sweep_would_undo_is_refused(write):
    """Every point of a sweep sets its swept keys again, so ``--set`` of a swept key (or a
    ``--seed`` over a swept seed) would be silently undone: refused, naming the option and
    the sweep. A key inside a swept table that the sweep's tables leave alone merges, as it
    would from a file."""
    swept = write("a.toml", SMALL + '\n[sweep]\n"staff.ongoing_social_workers.posts" = [9, 11]\n')
    msg = messages(swept, "staff.ongoing_social_workers.posts=5")
    assert msg.startswith(
        "--set staff.ongoing_social_workers.posts=5: staff.ongoing_social_workers.posts: the "
        f"scenario sweeps staff.ongoing_social_workers.posts ({swept} [sweep])"
    )
    assert "staff.ongoing_social_workers: the scenario sweeps" in messages(
        swept, "staff.ongoing_social_workers={posts=5}"
    )
    kept = load_scenarios(swept, ["staff.ongoing_social_workers={annual_turnover=0.2}"])
    assert [r.scenario.staff.ongoing_social_workers.annual_turnover for r in kept] == [0.2, 0.2]
    tables = write(
        "b.toml", SMALL + '\n[sweep]\n"staff.ongoing_social_workers" = [{posts = 8}, {posts = 9}]\n'
    )
    assert "the scenario sweeps staff.ongoing_social_workers " in messages(
        tables, "staff.ongoing_social_workers.posts=5"
    )
    merged = load_scenarios(tables, ["staff.ongoing_social_workers.annual_turnover=0.2"])
    assert [
        (
            r.scenario.staff.ongoing_social_workers.posts,
            r.scenario.staff.ongoing_social_workers.annual_turnover,
        )
        for r in merged
    ] == [(8, 0.2), (9, 0.2)]
    # a value that is not a table around the swept key, or a key inside a swept value that
    # replaces whole (a number, a distribution), would be wiped or never checked: refused
    assert "the scenario sweeps" in messages(swept, "staff.ongoing_social_workers=12")
    assert "the scenario sweeps" in messages(swept, "staff.ongoing_social_workers.posts.x=3")
    leave = write(
        "d.toml",
        SMALL + '\n[sweep]\n"staff.ongoing_social_workers.parental_leave_days" = '
        '[{ dist = "fixed", value = 100 }, { dist = "fixed", value = 200 }]\n',
    )
    assert "the scenario sweeps" in messages(
        leave, "staff.ongoing_social_workers.parental_leave_days.mean=250"
    )
    # a table beside the swept tables' keys merges
    beside = load_scenarios(tables, ["staff.ongoing_social_workers={annual_turnover=0.2}"])
    assert [r.scenario.staff.ongoing_social_workers.annual_turnover for r in beside] == [0.2, 0.2]
    # the workbench's form: only the first point, the options over it
    first = load_scenarios(swept, ["staff.ongoing_social_workers.posts=5"], over_sweep=True)
    assert [r.scenario.staff.ongoing_social_workers.posts for r in first] == [5]
    seeds = write("c.toml", SMALL + "\n[sweep]\nseed = [1, 2]\n")
    with pytest.raises(InputError, match=r"^--seed: seed: the scenario sweeps seed"):
        load_scenarios(seeds, seed=3)


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


def test_a_value_where_a_table_belongs_is_named_as_a_table_with_its_keys(write):
    """``staff.ongoing_social_workers = 8`` (a number where its table goes): the message says
    a table is wanted and lists its keys, not pydantic's internal class name."""
    table = "[staff.ongoing_social_workers]\nposts = 11\nannual_turnover = 0.3\n"
    assert table in SMALL
    text = SMALL.replace(table, "[staff]\nongoing_social_workers = 8\n")
    msg = messages(write("t.toml", text))
    assert "staff.ongoing_social_workers: must be a table ([staff.ongoing_social_workers]" in msg
    assert "posts" in msg and "got 8" in msg and "Settings" not in msg


def test_a_change_after_the_horizon_names_the_last_day_and_who_set_the_horizon(write):
    """The simulated period's end is exclusive: the message gives its last day (a change on
    the day after it is refused), and says where the horizon was set when not in this file."""
    late = SMALL + "\n[[changes]]\nat = 2016-01-01\nar_team.places = 30\n"
    msg = messages(write("late.toml", late))
    assert "outside the reported period 2015-01-01 to 2015-12-31 (its first and last day" in msg
    assert "set by" not in msg  # the horizon is this file's own
    inside = late.replace("at = 2016-01-01", "at = 2015-12-31")
    assert len(load_scenarios(write("inside.toml", inside))[0].timeline) == 2
    with pytest.raises(InputError) as info:
        load_scenarios(write("late.toml", late.replace("horizon_years = 1", "horizon_years = 2")),
                       years=0.5)  # fmt: skip
    assert str(info.value).endswith("horizon_years = 0.5 is set by --years")


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


# --- issue 16: a distribution is replaced whole, wherever it is set ------------------------

BASELINE = ROOT / "scenarios" / "baseline.toml"
LEAVE = "staff.ongoing_social_workers.parental_leave_days"  # gamma(300, 60) in the baseline


def child_of_baseline(write, body: str, name: str = "child.toml") -> Path:
    """A file that extends the shipped baseline and adds ``body``."""
    return write(name, f'extends = "{BASELINE.as_posix()}"\nname = "child"\n{body}\n')


@pytest.mark.parametrize(
    "text, expected",
    [
        ('{ dist = "fixed", value = 240 }', Fixed(dist="fixed", value=240)),
        ('{ dist = "exponential", mean = 250 }', Exponential(dist="exponential", mean=250)),
        (
            '{ dist = "lognormal", mean = 300, sd = 90 }',
            LogNormal(dist="lognormal", mean=300, sd=90),
        ),
        ('{ dist = "gamma", mean = 250, sd = 50 }', Gamma(dist="gamma", mean=250, sd=50)),
        ('{ dist = "uniform", low = 200, high = 300 }', Uniform(dist="uniform", low=200, high=300)),
        (
            '{ dist = "empirical", values = [200, 300] }',
            Empirical(dist="empirical", values=[200, 300]),
        ),
    ],
)
def test_a_distribution_in_a_child_replaces_the_parents_whole(write, text, expected):
    child = child_of_baseline(
        write, f"[staff.ongoing_social_workers]\nparental_leave_days = {text}"
    )
    resolved = load_scenarios(child)[0]
    assert resolved.scenario.staff.ongoing_social_workers.parental_leave_days == expected
    assert resolved.scenario.staff.intake_social_workers.parental_leave_days == Gamma(
        dist="gamma", mean=300, sd=60
    )  # the sibling is still inherited
    own = {k for k in resolved.own_keys if k.startswith(LEAVE)}
    assert own == {f"{LEAVE}.{key}" for key in ("dist", *expected.model_dump(exclude={"dist"}))} - {
        f"{LEAVE}.weights"
    }


def test_a_child_distribution_missing_a_parameter_names_the_child(write):
    child = child_of_baseline(
        write,
        '[staff.ongoing_social_workers]\nparental_leave_days = { dist = "lognormal", mean = 300 }',
    )
    msg = messages(child)
    assert msg == f"{child}: {LEAVE}.sd: required key is missing"


def test_a_distribution_in_a_change_replaces_the_one_in_force(write):
    change = f'\n[[changes]]\nat = 2016-01-01\n{LEAVE} = {{ dist = "fixed", value = 100 }}'
    resolved = load_scenarios(child_of_baseline(write, change))[0]
    assert resolved.timeline[0].staff.ongoing_social_workers.parental_leave_days == Gamma(
        dist="gamma", mean=300, sd=60
    )
    assert resolved.timeline[1].staff.ongoing_social_workers.parental_leave_days == Fixed(
        dist="fixed", value=100
    )
    broken = child_of_baseline(
        write, change.replace('"fixed", value', '"lognormal", mean'), "c2.toml"
    )
    assert messages(broken) == f"{broken}: changes[0].{LEAVE}.sd: required key is missing"


def test_a_distribution_swept_or_set_replaces_the_inherited_one(write):
    values = '[{ dist = "fixed", value = 100 }, { dist = "lognormal", mean = 300 }]'
    sweep = f'[sweep]\n"{LEAVE}" = {values}'
    child = child_of_baseline(write, sweep)
    assert messages(child) == f"{child} [sweep]: {LEAVE}.sd: required key is missing"
    plain = child_of_baseline(write, "", "plain.toml")
    text = f'{LEAVE}={{ dist = "lognormal", mean = 300 }}'
    assert messages(plain, text) == f"--set {text}: {LEAVE}.sd: required key is missing"
    text = f"{LEAVE}.dist=exponential"  # a new type must bring its own parameters
    assert messages(plain, text) == f"--set {text}: {LEAVE}.mean: required key is missing"


def test_changes_written_as_one_table_say_how_to_write_a_list(write):
    """``[changes]`` makes one table where a list of them belongs: the message says to write
    ``[[changes]]`` and shows what was written as TOML writes it (a date as a date)."""
    text = SMALL + "\n[changes]\nat = 2015-07-01\nar_team.places = 3\n"
    found = messages(write("c.toml", text))
    assert "write each entry under [[changes]] (a list of tables), not [changes]" in found
    assert "(got {at = 2015-07-01, ar_team = {places = 3}})" in found
    assert "datetime" not in found


def test_shares_that_do_not_add_up_show_the_merged_values(write):
    """A file that extends another changes only the shares it names, so one share given alone
    adds to the inherited others: the message shows every share as merged, not just the sum."""
    child = child_of_baseline(
        write, "[initial_caseload]\nbarrier_shares = { unemployment = 1.0 }\n"
    )
    found = messages(child)
    assert "barrier_shares must add up to 1, they add up to" in found
    assert "(unemployment = 1, social_medical = " in found
    assert "a file that extends another changes only the shares it names" in found


def test_posts_have_a_ceiling_a_run_can_reach(write):
    """100 000 posts in a role passed and the run never ended (30 000 took a year's run 14 s):
    a role has at most 10 000 posts, 30 times a whole city's unit."""
    child = child_of_baseline(write, "[staff.ongoing_social_workers]\nposts = 100000\n")
    assert "posts: Input should be less than or equal to 10000" in messages(child)


def test_a_parameter_without_dist_changes_only_that_parameter(write):
    """``[...parental_leave_days] mean = 250`` (no ``dist``), like ``--set ...mean=250`` or a
    sweep of ``...mean``, keeps the inherited type and its other parameters."""
    child = child_of_baseline(write, f"[{LEAVE}]\nmean = 250")
    expected = Gamma(dist="gamma", mean=250, sd=60)
    assert load_scenarios(child)[0].scenario.staff.ongoing_social_workers.parental_leave_days == (
        expected
    )
    plain = child_of_baseline(write, "", "plain.toml")
    resolved = load_scenarios(plain, [f"{LEAVE}.mean=250"])[0]
    assert resolved.scenario.staff.ongoing_social_workers.parental_leave_days == expected
    swept = load_scenarios(child_of_baseline(write, f'[sweep]\n"{LEAVE}.mean" = [250]', "s.toml"))
    assert swept[0].scenario.staff.ongoing_social_workers.parental_leave_days == expected


def test_a_table_set_on_the_command_line_merges_like_one_in_a_file(write):
    plain = child_of_baseline(write, "")
    resolved = load_scenarios(plain, ["staff.ongoing_social_workers={ posts = 9 }"])[0].scenario
    assert resolved.staff.ongoing_social_workers.posts == 9
    assert resolved.staff.ongoing_social_workers.annual_turnover == 0.33  # the baseline's


# --- issue 16: errors name the file that set the key --------------------------------------


def test_a_typo_in_a_middle_key_of_a_sweep_names_the_file_of_the_sweep(write):
    child = child_of_baseline(write, '[sweep]\n"staff.ongoing_social_worker.posts" = [9, 11]')
    msg = messages(child)
    assert msg.startswith(f"{child} [sweep]: staff.ongoing_social_worker: unknown key")
    assert "did you mean 'ongoing_social_workers'" in msg
    assert str(BASELINE) not in msg


def test_sweeps_of_parent_and_child_name_their_own_files(write, small):
    write("small.toml", SMALL + '\n[sweep]\n"ar_team.places" = [24, 36]\n')
    child = write(
        "child.toml",
        'extends = "small.toml"\nname = "child"\n'
        '[sweep]\n"staff.ongoing_social_worker.posts" = [9]\n',
    )
    msg = messages(child)
    assert msg.startswith(f"{child} [sweep]: staff.ongoing_social_worker: unknown key")
    write("small.toml", SMALL + '\n[sweep]\n"ar_team.placez" = [24, 36]\n')
    msg = messages(write("child.toml", 'extends = "small.toml"\nname = "child"\n'))
    assert msg.startswith(f"{small} [sweep]: ar_team.placez: unknown key")


def test_a_typo_in_a_middle_key_of_a_set_names_the_option(write):
    child = child_of_baseline(write, "")
    msg = messages(child, "staff.ongoing_social_worker.posts=3")
    assert msg.startswith("--set staff.ongoing_social_worker.posts=3: staff.ongoing_social_worker")


def test_a_broken_sweep_entry_names_the_file_that_wrote_it(write, small):
    child = write(
        "child.toml", 'extends = "small.toml"\nname = "child"\n[sweep]\n"ar_team.places" = []\n'
    )
    assert messages(child).startswith(f"{child}: sweep.ar_team.places: must be a non-empty list")


def test_a_sweep_value_listed_twice_is_refused(write, small):
    """[18, 18] ran the same scenario twice under two names (an optimisation's choices refuse
    it already)."""
    child = write(
        "child.toml",
        'extends = "small.toml"\nname = "child"\n[sweep]\n"ar_team.places" = [18, 24, 18]\n',
    )
    assert messages(child) == f"{child}: sweep.ar_team.places: lists 18 more than once: each " + (
        "value makes its own point"
    )


# --- issue 16: a boolean is not a number; a byte-order mark is read -----------------------


@pytest.mark.parametrize(
    "key",
    [
        "staff.ongoing_social_workers.posts",
        "staff.ongoing_social_workers.annual_turnover",
        "ar_team.places",
        "horizon_years",
        "replications",
        "seed",
        "initial_caseload.by_class.a",
        "organisation.caseload_norm",
    ],
)
def test_true_is_not_a_number(small, key):
    msg = messages(small, f"{key}=true")
    assert msg.startswith(f"--set {key}=true: {key}: ")
    assert "not true or false (got true)" in msg


@pytest.mark.parametrize(
    "text, key",
    [
        ('{ dist = "fixed", value = true }', "value"),
        ('{ dist = "exponential", mean = true }', "mean"),
        ('{ dist = "gamma", mean = 9, sd = false }', "sd"),
        ('{ dist = "lognormal", mean = true, sd = 2 }', "mean"),
        ('{ dist = "uniform", low = 1, high = true }', "high"),
        ('{ dist = "empirical", values = [1, true] }', "values[1]"),
        ('{ dist = "empirical", values = [1, 2], weights = [true, 1] }', "weights[0]"),
    ],
)
def test_true_is_not_a_parameter_of_a_distribution(small, text, key):
    where = "initial_caseload.duration_months"
    msg = messages(small, f"{where}={text}")
    assert msg == f"--set {where}={text}: {where}.{key}: must be a number, not true or false " + (
        "(got false)" if "false" in text else "(got true)"
    )


def test_posts_true_in_a_file_is_refused(write):
    path = write("bool.toml", SMALL.replace("posts = 11", "posts = true"))
    assert messages(path) == (
        f"{path}: staff.ongoing_social_workers.posts: must be a whole number, "
        "not true or false (got true)"
    )


def _numeric_leaves(node: object, loc: tuple[str | int, ...] = ()):
    """Every number in a parsed TOML file, with its key path."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _numeric_leaves(value, (*loc, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _numeric_leaves(value, (*loc, i))
    elif isinstance(node, int | float) and not isinstance(node, bool):
        yield loc


def _with_true_at(data: dict, loc: tuple[str | int, ...]) -> dict:
    out = copy.deepcopy(data)
    node = out
    for part in loc[:-1]:
        node = node[part]
    node[loc[-1]] = True
    return out


@pytest.mark.parametrize(
    "path, model",
    [
        (BASELINE, Scenario),
        (ROOT / "calibration" / "parameters" / "first_guess.toml", ModelParameters),
        (ROOT / "calibration" / "fitted" / "ostermalm_2015.toml", ModelParameters),
    ],
    ids=["baseline", "first_guess", "fitted"],
)
def test_every_number_of_the_shipped_files_refuses_true(path, model):
    data = read_toml(path)
    leaves = list(_numeric_leaves(data))
    assert len(leaves) > 30
    for loc in leaves:
        with pytest.raises(InputError) as info:
            validate_model(model, _with_true_at(data, loc), lambda _loc: "f")
        assert f"f: {key_string(loc)}: must be " in str(info.value), key_string(loc)


def _numbers_in_core_schema(node: object, where: str = ""):
    """Every int and float validator in a pydantic core schema, with where it sits."""
    if isinstance(node, dict):
        if node.get("type") in ("int", "float"):
            yield where, node
        for key, value in node.items():
            yield from _numbers_in_core_schema(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _numbers_in_core_schema(value, f"{where}/{i}")


@pytest.mark.parametrize("model", [Scenario, ModelParameters, Fixed, Gamma, Uniform, Empirical])
def test_every_number_field_is_strict(model):
    """Every int or float of scenario and parameter files refuses booleans (and strings), so a
    new field cannot slip in without it."""
    found = list(_numbers_in_core_schema(model.__pydantic_core_schema__))
    assert found
    lax = [where for where, node in found if not node.get("strict")]
    assert not lax


def test_a_toml_integer_is_a_float_where_a_float_is_expected(small):
    scenario = load_scenarios(small, ["organisation.caseload_norm=60"])[0].scenario
    assert type(scenario.organisation.caseload_norm) is float
    assert type(scenario.organisation.districts[0].contact_share) is float  # written as 1


@pytest.mark.parametrize("text", ['posts = "11"', "posts = 11.0"])
def test_a_count_must_be_a_toml_integer(write, text):
    path = write("s.toml", SMALL.replace("posts = 11", text))
    assert messages(path).startswith(f"{path}: staff.ongoing_social_workers.posts: ")


BOM = b"\xef\xbb\xbf"


def test_a_scenario_with_a_byte_order_mark_runs(write, tmp_path):
    from sim.cli import main as cli

    path = tmp_path / "bom.toml"
    path.write_bytes(BOM + SMALL.encode("utf-8"))
    assert load_scenarios(path)[0].scenario.staff.ongoing_social_workers.posts == 11
    out = tmp_path / "out"
    argv = ["run", str(path), "--replications", "1", "--years", "0.25", "--out", str(out)]
    assert cli.main([*argv, "--workers", "1"]) == 0
    assert (out / "summary.csv").exists()


def test_errors_in_files_with_a_byte_order_mark_name_the_right_file(write, tmp_path):
    parent = tmp_path / "small.toml"
    parent.write_bytes(BOM + SMALL.replace("posts = 6", "posts = -6").encode("utf-8"))
    child = tmp_path / "child.toml"
    child.write_bytes(BOM + b'extends = "small.toml"\nname = "child"\n[ar_team]\nplaces = true\n')
    msg = messages(child)
    assert f"{parent}: staff.benefit_administrators.posts: Input should be greater than" in msg
    assert f"{child}: ar_team.places: must be a whole number, not true or false" in msg
    params = tmp_path / "params.toml"
    params.write_bytes(BOM + PARAMETERS.read_bytes().replace(b"work = 0.25", b"wrok = 0.25"))
    scenario = write("s.toml", re.sub(r'parameters = ".*"', 'parameters = "params.toml"', SMALL))
    assert f"{params}: returns.probability.wrok: unknown key" in messages(scenario)


def test_a_utf16_file_is_refused_saying_so(tmp_path):
    path = tmp_path / "utf16.toml"
    path.write_bytes(SMALL.encode("utf-16"))  # with its byte-order mark, as Windows saves it
    msg = messages(path)
    assert msg.startswith(f"{path}: ") and "UTF-16" in msg and "UTF-8" in msg


@pytest.mark.parametrize("model", [Scenario, ModelParameters, Fixed, Gamma, Uniform, Empirical])
def test_every_float_field_refuses_inf_and_nan(model):
    """TOML writes ``inf`` and ``nan``, and no setting means them: an infinite cost ran on to
    infinite or empty results, an infinite ratio failed deep in the model. Every float of
    scenario and parameter files refuses them, so a new field cannot slip in without it."""
    found = [(w, n) for w, n in _numbers_in_core_schema(model.__pydantic_core_schema__)]
    floats = [(w, n) for w, n in found if n.get("type") == "float"]
    assert floats
    assert not [where for where, node in floats if node.get("allow_inf_nan") is not False]


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[costs]\nassistance_sek_per_month_with_children = inf", "costs.assistance"),
        ("[ar_team]\nplaces_per_consultant = inf", "ar_team.places_per_consultant"),
        ("[organisation]\ncaseload_norm = nan", "organisation.caseload_norm"),
        (
            "[staff.benefit_administrators]\nvacancy_fill_days = "
            '{ dist = "exponential", mean = inf }',
            "staff.benefit_administrators.vacancy_fill_days.mean",
        ),
    ],
)
def test_inf_and_nan_are_named_in_the_file_that_wrote_them(write, text, key):
    write("base.toml", SMALL)
    child = write("child.toml", f'extends = "base.toml"\nname = "child"\n{text}\n')
    msg = messages(child)
    assert msg.startswith(f"{child}: {key}")
    assert "finite number" in msg


def test_inf_on_the_command_line_is_refused(small):
    msg = messages(small, "ar_team.places_per_consultant=inf")
    assert "ar_team.places_per_consultant: Input should be a finite number" in msg


def test_exit_multipliers_written_barrier_first_say_which_way_round(write):
    """The table is by cause, then barrier; the other way round gets one line saying so."""
    path = write(
        "s.toml", SMALL + "\n[behaviour]\nexit_multiplier = { unemployment = { work = 2 } }\n"
    )
    msg = messages(path)
    assert msg.count("\n") == 0
    assert "the cause comes first, then the barrier" in msg
    ok = write(
        "t.toml", SMALL + "\n[behaviour]\nexit_multiplier = { work = { unemployment = 2 } }\n"
    )
    assert load_scenarios(ok)[0].scenario.behaviour.exits("work", "unemployment") == 2.0


def test_a_check_across_a_merged_table_names_every_file_that_set_it(write):
    """Dates out of order in a path the child wrote, over a table the parent began: the
    message names the child first (the likelier slip) and the parent with it, without dumping
    the table."""
    write("base.toml", SMALL)
    child = write(
        "child.toml",
        'extends = "base.toml"\nname = "child"\n[unemployment]\npath = [\n'
        "  { date = 2016-01-01, percent = 3.2 },\n  { date = 2015-01-01, percent = 4 },\n]\n",
    )
    msg = messages(child)
    assert msg.startswith(f"{child} (with keys from ")
    assert "base.toml): unemployment: path dates must increase" in msg
    assert "(got" not in msg


def test_a_key_that_is_only_a_barrier_is_not_taken_for_the_wrong_order(write):
    """``other`` (a barrier, likely meant as the cause ``other_benefit``) over barriers is a
    wrong cause, not the wrong way round."""
    path = write(
        "s.toml", SMALL + "\n[behaviour]\nexit_multiplier = { other = { unemployment = 2 } }\n"
    )
    msg = messages(path)
    assert "cause comes first" not in msg
    assert "behaviour.exit_multiplier.other: unknown key 'other' (allowed here: work," in msg


def test_a_table_check_broken_by_set_names_the_option_alone(small):
    """The command line's ``--set`` is named as itself (the API renames it to its own
    ``overrides=``), not mixed with the files that set the rest of the table."""
    msg = messages(
        small, "unemployment.path=[{date=2016-01-01,percent=3},{date=2015-06-01,percent=3}]"
    )
    assert msg.startswith("--set unemployment.path=")
    assert "(with keys from" not in msg


def test_a_parameter_set_of_another_kind_is_named_by_the_key_that_named_it(write):
    path = write(
        "s.toml",
        SMALL.replace(PARAMETERS.as_posix(), (ROOT / "scenarios/baseline.toml").as_posix()),
    )
    assert messages(path) == (
        f"{path}: parameters: {ROOT / 'scenarios/baseline.toml'} looks like a scenario file, "
        "not a parameter set file"
    )


def test_a_file_that_extends_another_without_a_name_is_named_after_itself(small, write):
    """Its results folder and report would otherwise carry its base's name: a run of
    "fewer staff.toml" filed as the baseline's."""
    child = write("fewer staff.toml", f'extends = "{small.name}"\n[ar_team]\nplaces = 9\n')
    resolved = load_scenarios(child)[0]
    assert resolved.name == "fewer_staff"
    assert "name" in resolved.own_keys  # the file's own, not inherited
    named = write("named.toml", f'extends = "{small.name}"\nname = "mine"\n')
    assert load_scenarios(named)[0].name == "mine"
    # a name in Swedish keeps its words: å, ä and ö lose their marks, not the letter
    swedish = write("färre handläggare på Södermalm.toml", f'extends = "{small.name}"\n')
    assert load_scenarios(swedish)[0].name == "farre_handlaggare_pa_Sodermalm"


def test_small_messages_a_new_user_met(write):
    """A mistyped barrier in a table of barriers is an unknown key with a suggestion (not
    pydantic's ``[key]``); a datetime is shown as written, not as Python's repr; a district
    named with a leading or trailing space (two "Norrmalm"s in every table) is refused."""
    typo = SMALL + "\n[behaviour]\nexit_multiplier = { work = { unemployed = 1.2 } }\n"
    msg = messages(write("t.toml", typo))
    assert (
        "behaviour.exit_multiplier.work.unemployed: unknown key 'unemployed'; did you mean" in msg
    )
    assert "[key]" not in msg
    timed = SMALL.replace("start_date = 2015-01-01", "start_date = 2015-01-01T10:00:00")
    assert "(got 2015-01-01 10:00:00)" in messages(write("d.toml", timed))
    spaced = re.sub(
        r'name = "([^"]+)", contact_share', r'name = "\1 ", contact_share', SMALL, count=1
    )
    assert spaced != SMALL
    assert "nor start or end with a space" in messages(write("s.toml", spaced))


def test_changes_that_replace_the_inherited_ones_leave_a_note(write, small, capsys):
    """A list replaces the list of the file it extends, [[changes]] too: a child that adds a
    change of its own silently dropped its base's (a freeze, then a rehire, ran as neither).
    Loading leaves a note that the commands print; ``changes = []`` clears them on purpose."""
    from sim.cli import main as cli

    change = "\n[[changes]]\nat = {at}\nstaff.ongoing_social_workers.posts = {posts}\n"
    write("parent.toml", SMALL + change.format(at="2015-03-01", posts=8))
    child = write(
        "child.toml", 'extends = "parent.toml"\n' + change.format(at="2015-06-01", posts=11)
    )
    (note,) = load_scenarios(child)[0].notes
    assert note.startswith(f"{child}: its [[changes]] replace the 1 change of the file it")
    cleared = write("cleared.toml", 'extends = "parent.toml"\nchanges = []\n')
    assert load_scenarios(cleared)[0].notes == ()
    assert cli.main(["validate", str(child)]) == 0
    assert capsys.readouterr().err == f"note: {note}\n"
