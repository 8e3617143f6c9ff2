"""Staff time drives outcomes: delivered contact, classes chosen by time, thinned exits.

A social worker's hours are shared out over its cases, A before events before B before C; the
share of planned contact a case gets moves its follow-ups and its exits to work and studies
(λ = λ₀ · (r · c_class) ^ γ). These tests check the arithmetic, the thinning that keeps a
changing r free of events, and that a unit with fewer social workers closes fewer cases, by
an amount inside the range the elasticity's prior implies.
"""

from __future__ import annotations

import math
import re
from array import array

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.experiments.runner import run_scenario
from sim.inputs.loading import load_scenarios
from sim.inputs.parameters import ModelParameters
from sim.inputs.scenario import StaffRoleSettings
from sim.model.caseload import CaseloadModel
from sim.model.household import Household
from sim.model.routing import Caseworker
from sim.model.staff import WORKING, Post
from sim.model.workload import Workload, case_hours_per_day
from tests.test_queueing import with_parameters

from .conftest import PARAMETERS


def _parameters() -> ModelParameters:
    import tomllib

    return ModelParameters(**tomllib.loads(PARAMETERS.read_text()))


def _worker(hours: float, assist: float, events: float) -> Caseworker:
    post = Post("ongoing_social_workers", 0, WORKING, StaffRoleSettings(posts=1), None)  # type: ignore[arg-type]
    w = Caseworker(post, True)
    w.listed = w.holds_cases = True
    w.hours_available, w.assist_hours, w.event_rate = hours, assist, events
    return w


def _with_cases(w: Caseworker, n_a: int, n_b: int, n_c: int) -> Caseworker:
    for i in range(n_a):
        w.a_cases[Household(i, 1, 0, "other", False, False, [], [])] = None
    w.cases_b, w.cases_c = n_b, n_c
    return w


@settings(max_examples=200, deadline=None)
@given(
    n_a=st.integers(0, 40),
    n_b=st.integers(0, 150),
    n_c=st.integers(0, 30),
    hours=st.floats(0, 10),
    more=st.floats(0, 10),
    assist=st.floats(0, 2),
    events=st.floats(0, 3),
)
def test_more_hours_never_lower_a_delivered_share(n_a, n_b, n_c, hours, more, assist, events):
    """With the same cases, a worker with more hours delivers no smaller share of any class's
    planned contact, never more hours than it has or than its cases need (needed = delivered +
    a shortfall that is never negative), and A cases are served first."""
    workload = Workload(_parameters())
    shares = []
    for h in (hours, hours + more):
        w = _with_cases(_worker(h, assist, events), n_a, n_b, n_c)
        workload.recount(0.0, w)
        available, needed, delivered = w.counted_hours, w.counted_needed, w.counted_delivered
        assert delivered <= available + 1e-9 and delivered <= needed + 1e-9
        need_a, need_b, need_c = w.counted_need_a, w.counted_need_b, w.counted_need_c
        done_a, done_b, done_c = w.counted_done_a, w.counted_done_b, w.counted_done_c
        for need, done in ((need_a, done_a), (need_b, done_b), (need_c, done_c)):
            assert -1e-12 <= done <= need + 1e-9
        if done_b > 0 or done_c > 0:
            assert w.share_a == 1.0, "B or C served before A"
        shares.append((w.share_a, w.share_b, w.share_c))
    for low, high in zip(*shares, strict=True):
        assert high >= low - 1e-12


@settings(max_examples=100, deadline=None)
@given(
    n_b=st.integers(0, 150),
    hours=st.floats(0, 10),
    more=st.floats(0, 10),
    floor=st.sampled_from([0.0, 0.25, 1.0]),
)
def test_more_hours_never_fewer_a_cases(n_b, hours, more, floor):
    """How many A-need cases a worker may work as A never falls as its hours rise (the unit
    works as A as many of them as time allows)."""
    params = _parameters()
    params = params.model_copy(
        update={"workload": params.workload.model_copy(update={"minimum_b_contact_share": floor})}
    )
    workload = Workload(params)

    def most_a(h: float) -> int:
        w = _worker(h, 0.5, 0.2)
        n = 0
        while n < 200 and workload.a_fits(w, n + 1, n_b, 0):
            n += 1
        return n

    assert most_a(hours + more) >= most_a(hours)


@pytest.mark.parametrize("held", ["a", "b", "c"])
def test_thinned_exits_run_at_the_delivered_contact_rate(small, held):
    """Thinning: the clocks run at the rate of full contact and a candidate exit is taken with
    probability r ^ γ, but not below the waiting multiplier w / c ^ γ. For a case whose
    handler delivers a constant share r, the time to its exit by work is then exponential
    with rate λ₀ · max((r · c) ^ γ, w): checked by its mean over many households, at r = 1,
    r = 0.5 and r = 0, where a case its handler has no time for leaves as a case without a
    handler does (not never), in each class: A (c ^ γ above w), B (c = 1) and C, whose full
    contact is already below w at this γ (c ^ γ = 0.55): it leaves at its class's rate."""
    resolved = with_parameters(
        load_scenarios(small)[0],
        **{
            "exits.monthly_hazard.studies": dict.fromkeys(
                ("unemployment", "social_medical", "sick_listed", "immigration", "other"), 0.0
            ),
            "exits.monthly_hazard.other_benefit": dict.fromkeys(
                ("unemployment", "social_medical", "sick_listed", "immigration", "other"), 0.0
            ),
            "exits.monthly_hazard.moved": dict.fromkeys(
                ("unemployment", "social_medical", "sick_listed", "immigration", "other"), 0.0
            ),
            "exits.monthly_hazard.unknown": dict.fromkeys(
                ("unemployment", "social_medical", "sick_listed", "immigration", "other"), 0.0
            ),
            "exits.duration_multiplier": [1.0, 1.0, 1.0, 1.0],
            "exits.contact_elasticity_work": 0.5,
            "exits.handover_continuity_months": 0.0,
        },
    )
    model = CaseloadModel(resolved, 0)
    hazards, path = model.hazards, model.pathway
    rng = np.random.default_rng(3)
    n = 4000
    exits = resolved.parameters.exits
    waiting = exits.waiting_multiplier_work
    intensity = getattr(exits.contact_intensity, held) ** 0.5  # c ^ γ
    floor = min(waiting / intensity, 1.0)
    if held == "c":
        assert floor == 1.0  # the exception: C's full contact is below the waiting rate
    else:
        assert 0.5**0.5 > floor > 0  # r = 0.5 thins by r ^ γ; r = 0 by the floor
    for share in (1.0, 0.5, 0.0):
        times, expected = [], []
        for _ in range(n):
            hh = path.new_household(0, "other", array("d", rng.random(40).tolist()))
            path.open_case(hh)
            hh.need, hh.held = held, held  # type: ignore[assignment]
            hazards.rate(hh, 0.0)
            for _candidate in range(1000):  # a case that never leaves fails, not hangs
                t = hh.exit_day
                f = hazards.acceptance(hh, hh.exit_cause_index, share, t)
                if f >= 1.0 or hh.fresh_uniform() < f:
                    break
                hazards.renew(hh, hh.exit_cause_index, t, hh.fresh_uniform())
            else:
                t = math.inf
            times.append(t)
            rate = hazards.rates(hh)[0]  # at full contact, per day (youth moves it)
            expected.append(1 / (rate * max(share**0.5, floor)))
        mean, want = float(np.mean(times)), float(np.mean(expected))
        assert abs(mean / want - 1) < 4 / math.sqrt(n), (share, mean, want)


def test_seventy_percent_of_the_social_workers_close_fewer_cases_within_the_prior_range(small):
    """A unit at 70 % of its ongoing social workers (7 of 10) closes fewer cases than at 100 %,
    under common random numbers, and the shortfall at the shipped elasticity lies between the
    shortfalls at the prior's ends (γ = 0.1 and 0.6): staff time moves exits, as much as the
    outside evidence allows and no more."""
    common = ["replications=4", "horizon_years=2", "warmup_days=180"]

    def closures(posts: int, gamma: float | None) -> tuple[float, float]:
        resolved = load_scenarios(small, [*common, f"staff.ongoing_social_workers.posts={posts}"])[
            0
        ]
        if gamma is not None:
            resolved = with_parameters(resolved, **{"exits.contact_elasticity_work": gamma})
        kpi = run_scenario(resolved, workers=1).summary.set_index("kpi")["mean"]
        return kpi["cases_closed_per_year"], kpi["exits_work_per_year"]

    effects = {}
    for gamma in (0.1, None, 0.6):
        full, seventy = closures(10, gamma), closures(7, gamma)
        effects[gamma] = (seventy[0] - full[0], seventy[1] - full[1])
    shipped = effects[None]
    assert shipped[0] < 0 and shipped[1] < 0, "fewer social workers should close fewer cases"
    assert effects[0.6][1] <= shipped[1] <= effects[0.1][1]
    assert effects[0.6][0] < effects[0.1][0]


def test_case_hours_are_pinned_at_the_norm():
    """The hand-set hours (docs/model.md, "Staff time"): with seed 003's proposal (22 social
    workers, 4 administrators assisting on B cases) at the norm of 55 with the 2011 class mix and
    a year's turnover of new cases, a social worker's cases need its available time (within 2 %).
    """
    params = _parameters()
    workload = Workload(params)
    post = Post("ongoing_social_workers", 0, WORKING, StaffRoleSettings(posts=1), None)  # type: ignore[arg-type]
    available = case_hours_per_day(post)
    a_share = 280 / 1280
    per_worker = 55 / (a_share * 1.5 + (1 - a_share))  # weighted norm of 55
    n_a, n_b = per_worker * a_share, per_worker * (1 - a_share)
    w = _worker(available, 4 * available / 22, 0.0)
    need_b = workload.b_need(w, round(n_b))[0] * n_b / round(n_b)
    new_cases = per_worker / 365.25  # the caseload turns over about once a year
    events = new_cases * (params.intake.second_assessment_hours + params.workload.work_plan_hours)
    need = n_a * workload.need_a + need_b + events
    assert abs(need / available - 1) < 0.02, need / available


def test_hours_assistants_cannot_take_are_the_social_workers_not_also_the_administrators():
    """Assistance on B cases: an assisting administrator takes over a share of a B case as far
    as the assistants' hours last. What they cannot take (all of it, with no assistants) is
    the social worker's own work: it is not also counted as hours the administrators need and
    fail to give, which would count the same hours as needed of both roles (and made the
    administrators' delivered share jump from 1 with no assistants to 0.59 with a few)."""
    workload = Workload(_parameters())
    wanted = workload.assist_share * 30 * workload.need_b
    alone = workload.b_need(_worker(6.0, 0.0, 0.0), 30)
    assert alone == (30 * workload.need_b, 0.0)
    own, taken = workload.b_need(_worker(6.0, wanted / 4, 0.0), 30)
    assert taken == pytest.approx(wanted / 4)
    assert own == pytest.approx(alone[0] - taken + workload.coordination * 30 / 4)
    own, taken = workload.b_need(_worker(6.0, 10 * wanted, 0.0), 30)
    assert taken == pytest.approx(wanted)  # at most the share assistants take over


def test_administrators_all_on_c_cases_need_what_they_would_without_assistance(small):
    """With every administrator on C cases the administrators' hours needed are those of a unit
    whose B cases ask no assistance at all: the same run, month by month."""
    common = ["horizon_years=1", "warmup_days=0", "organisation.administrators_on_c_share=1.0"]
    resolved = load_scenarios(small, common)[0]
    no_assistance = with_parameters(resolved, **{"workload.administrator_assist_share_b": 0.0})
    needed = [
        CaseloadModel(r, 1).run().monthly["administrator_hours_needed"]
        for r in (resolved, no_assistance)
    ]
    assert needed[0].sum() > 0
    pd.testing.assert_series_equal(needed[0], needed[1])


def test_stated_behaviour_changes_at_a_date(small):
    """``[[changes]]`` may state a change of behaviour from a date: here the insurance agency
    tightens in July (seed 001): twice the sick-listed contacts, and no sick-listed case leaves
    for another benefit on its own (the AR team's successes are the team's outcome). Before July
    nothing differs from the unchanged run (same seed: each group's contacts have their own
    streams)."""
    text = small.read_text() + (
        "\n[[changes]]\nat = 2015-07-01\nbehaviour.contact_multiplier.sick_listed = 2.0\n"
        "behaviour.exit_multiplier.other_benefit = { sick_listed = 0.0 }\n"
    )
    changed = small.parent / "tightening.toml"
    changed.write_text(text)
    outputs = [
        CaseloadModel(load_scenarios(path, ["horizon_years=1"])[0], 0).run()
        for path in (small, changed)
    ]
    base, tight = (o.monthly.set_index("month") for o in outputs)
    first_half = [f"2015-0{m}" for m in range(1, 7)]
    assert base.loc[first_half].equals(tight.loc[first_half])
    assert (
        tight.loc["2015-12", "households_sick_listed"]
        > base.loc["2015-12", "households_sick_listed"] + 20
    )
    episodes = outputs[1].episodes
    july = (pd.Timestamp("2015-07-01") - pd.Timestamp("2015-01-01")).days
    late = episodes[
        (episodes["end_day"] >= july)
        & (episodes["barrier"] == "sick_listed")
        & ~episodes["via_ar_team"].astype(bool)  # the AR team's successes are its own outcome
    ]
    assert len(late) > 10
    assert not (late["cause"] == "other_benefit").any()


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("contact_elasticity_work = 0.3", "contact_elasticity_work = 5", "contact_elasticity_work"),
        ("handover_exit_multiplier = 0.85", "handover_exit_multiplier = 1.5", "handover_exit"),
        ("administrator_assist_share_b = 0.3", "administrator_assist_share_b = -0.1", "assist"),
        ("work_plan_hours = 2.0", "work_plan_hours = 500", "work_plan_hours"),
        ("minimum_b_contact_share = 0.25", 'minimum_b_contact_share = "a"', "minimum_b"),
    ],
)
def test_staff_time_parameters_out_of_range_are_refused(write, tmp_path, capsys, old, new, key):
    """Hours, shares and elasticities out of range: one message naming the parameter file and
    the key, exit status 2, no traceback, no results folder."""
    from sim.cli import main as cli

    from .conftest import SMALL

    text = PARAMETERS.read_text()
    assert old in text
    write("params.toml", text.replace(old, new))
    scenario = write("s.toml", re.sub(r'parameters = ".*"', 'parameters = "params.toml"', SMALL))
    assert cli.main(["run", str(scenario), "--out", str(tmp_path / "never")]) == 2
    err = capsys.readouterr().err
    assert "params.toml" in err and key in err
    assert "Traceback" not in err
    assert not (tmp_path / "never").exists()


def test_a_stated_behaviour_out_of_range_is_refused(write, tmp_path, capsys):
    """A multiplier below zero, or for a barrier that does not exist, names the key."""
    from sim.cli import main as cli

    from .conftest import SMALL

    for text, key in (
        ("[behaviour]\ncontact_multiplier = { sick_listed = -1 }\n", "sick_listed"),
        ("[behaviour]\ncontact_multiplier = { sicklisted = 2 }\n", "sicklisted"),
    ):
        scenario = write("s.toml", SMALL + text)
        assert cli.main(["validate", str(scenario)]) == 2
        err = capsys.readouterr().err
        assert "s.toml" in err and key in err and "Traceback" not in err


def test_a_unit_with_no_ongoing_staff_warns_that_cases_have_no_handler(small):
    """With every ongoing social worker and administrator gone from a date, cases wait with no
    handler: the report's warnings say so (and the unit with staff gives no such warning)."""
    from sim.output.caveats import without_handler_warning

    text = small.read_text() + (
        "\n[[changes]]\nat = 2015-04-01\nstaff.ongoing_social_workers.posts = 0\n"
        "staff.benefit_administrators.posts = 0\n"
    )
    empty = small.parent / "empty.toml"
    empty.write_text(text)
    staffed = CaseloadModel(load_scenarios(small)[0], 0).run().monthly
    gone = CaseloadModel(load_scenarios(empty)[0], 0).run().monthly
    assert without_handler_warning(staffed) == []
    (warning,) = without_handler_warning(gone)
    assert "without a handler" in warning and "2015-04" in warning
