"""The caseload model's invariants and mechanisms, checked while the simulation runs.

Each check steps the SimPy environment and inspects the model's state between events, so a
violation is caught at the step where it happens, not averaged away in monthly output.
"""

from __future__ import annotations

import gc
import math
from array import array
from collections import Counter
from datetime import date, timedelta

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.domain import BARRIERS
from sim.experiments.runner import run_scenario
from sim.inputs.loading import load_scenarios
from sim.inputs.scenario import Unemployment, UnemploymentPoint
from sim.model.caseload import CaseloadModel
from sim.model.contacts import intake_durations
from sim.model.economy import daily_unemployment
from sim.model.household import N_UNIFORMS, U_EXIT

EPS = 1e-9


def check_invariants(model: CaseloadModel) -> None:
    """Conservation of households, every case with a handler, classes by time, at this
    instant."""
    path, ledger = model.pathway, model.ledger
    open_now = path.open_households
    closed = sum(path.closed_by_cause.values())
    assert path.entered == len(open_now) + closed, "entered != open + closed"
    assert sum(ledger.held_count.values()) == len(open_now)
    held = Counter(hh.held for hh in open_now)
    for state, n in ledger.held_count.items():
        assert n >= 0
        assert held.get(state, 0) == n, f"count of {state} drifted"
    check_handlers(model)
    intake = model.intake
    assert len(intake.busy) == intake.busy_level.value <= intake.available.value + EPS
    assert not set(intake.idle) & intake.busy
    assert not any(hh.closed for hh in intake.queue)  # a drop-out found leaves the queue
    assert all(p.capacity > 0 for p in intake.idle)
    ar = model.ar_team
    assert len(ar.in_programme) <= min(ar.places, ar.capacity), "AR team above its places"
    check_workload(model)
    assert all(v >= 0 for v in ledger.open_by_barrier.values())


def check_handlers(model: CaseloadModel) -> None:
    """A unit never leaves a case without a handler while anyone of a role that may hold it is
    in post; each handler's counts are its cases'; a social worker works an A-need case as A
    exactly when its time allows (its A cases fit, and no queued A-need case would)."""
    routing, workload = model.routing, model.workload
    open_now = model.pathway.open_households
    anyone = routing.pool.holds_cases or any(w.holds_cases for w in routing.social_workers)
    waiting = [hh for hh in open_now if hh.held == "waiting"]
    assert not (anyone and waiting), "a case without a handler while someone is in post"
    not_in_class = sum(1 for hh in open_now if hh.waiting_for_class)
    assert routing.queued_count == not_in_class, "cases not in their class miscounted"
    for worker in [*routing.social_workers, routing.pool]:
        cases = worker.cases
        assert all(hh.worker is worker and not hh.closed for hh in cases)
        assert abs(worker.load - sum(hh.weight for hh in cases)) < 1e-6
        assert len(worker.a_cases) == sum(1 for hh in cases if hh.held == "a")
        assert worker.cases_b == sum(1 for hh in cases if hh.held == "b")
        assert worker.cases_c == sum(1 for hh in cases if hh.held == "c")
        assert len(worker.a_cases) + worker.cases_b + worker.cases_c == len(cases)
        if not worker.holds_cases:
            assert not cases, "a worker out of post holds cases"
        if not worker.social_worker:
            assert not worker.a_cases and not worker.cases_b
            continue
        n_a, n_b, n_c = len(worker.a_cases), worker.cases_b, worker.cases_c
        if n_a:
            assert workload.a_fits(worker, n_a, n_b, n_c), "A cases beyond the worker's time"
        # The queue is lazy: a case that left the worker and came back may stand in it twice
        # (the entry nearer the front is then its place); every waiting case is in it.
        queued = {
            hh
            for hh in worker.a_queue
            if hh.worker is worker and hh.held == "b" and hh.waiting_for_class == "a"
        }
        assert queued == {hh for hh in cases if hh.waiting_for_class == "a"}
        if queued:
            assert not workload.a_fits(worker, n_a + 1, n_b - 1, n_c), "time for A left unused"
    for hh in open_now:
        if hh.held in ("a", "b", "c"):
            assert hh.worker is not None and hh in hh.worker.cases
        if hh.held == "a":
            assert hh.need == "a" and hh.worker is not None and hh.worker.social_worker


def check_workload(model: CaseloadModel) -> None:
    """Staff time, at this instant: no worker delivers more than its hours or than its cases
    need (needed = delivered + shortfall, the shortfall never negative); the totals are the
    sums over workers; the hours A cases need are those of the cases held as A."""
    workload, routing, ledger = model.workload, model.routing, model.ledger
    workers = list(routing.workers.values())  # abolished posts too: they must count nothing
    for w in workers:
        hours, needed, delivered = w.counted_hours, w.counted_needed, w.counted_delivered
        assert delivered <= hours + EPS, "a worker delivers more than its hours"
        assert delivered <= needed + EPS
        for need, done, share in (
            (w.counted_need_a, w.counted_done_a, w.share_a),
            (w.counted_need_b, w.counted_done_b, w.share_b),
            (w.counted_need_c, w.counted_done_c, w.share_c),
        ):
            assert -EPS <= done <= need + EPS
            assert 0 <= share <= 1 + EPS
            if need > 0:
                assert abs(share - done / need) < 1e-9
        assert hours >= 0 and abs(hours - w.hours_available) < 1e-9
    for level, name in (
        (workload.sw_available, "counted_hours"),
        (workload.sw_needed, "counted_needed"),
        (workload.sw_delivered, "counted_delivered"),
    ):
        assert abs(level.value - sum(getattr(w, name) for w in workers)) < 1e-6
    held_a = ledger.held_count["a"]
    assert abs(workload.needed_by_class[0].value - held_a * workload.need_a) < 1e-6
    pool = routing.pool
    assert pool.counted_delivered <= min(pool.counted_hours, pool.counted_needed) + EPS
    assert 0 <= pool.share_c <= 1 + EPS


def run_checked(resolved, replication: int = 0, every: int = 1) -> CaseloadModel:
    model = CaseloadModel(resolved, replication)
    recorder = model.start()
    steps = 0
    while not recorder.triggered:
        model.env.step()
        steps += 1
        if steps % every == 0:
            check_invariants(model)
    check_invariants(model)
    return model


def test_conservation_and_limits_in_the_baseline_unit(small):
    model = run_checked(load_scenarios(small)[0])
    assert model.pathway.entered > 300
    assert sum(model.pathway.closed_by_cause.values()) > 100


def test_monthly_conservation(small):
    """households opened minus closed adds up to the change in open cases, month by month."""
    model = CaseloadModel(load_scenarios(small)[0], 0)
    out = model.run()
    m = out.monthly
    initial = 300
    open_end = initial + m["cases_opened"].cumsum() - m["cases_closed"].cumsum()
    stock = m["open_class_a"] + m["open_class_b"] + m["open_class_c"] + m["without_handler"]
    stock = stock + m["in_intake"]
    assert (open_end == stock).all()
    causes = ["work", "studies", "other_benefit", "moved", "one_time", "unknown"]
    assert (m[[f"exits_{c}" for c in causes]].sum(axis=1) == m["cases_closed"]).all()


SCENARIOS = st.fixed_dictionaries(
    {
        "staff.intake_social_workers.posts": st.integers(0, 6),
        "staff.ongoing_social_workers.posts": st.integers(0, 15),
        "staff.benefit_administrators.posts": st.integers(0, 8),
        "staff.employment_consultants.posts": st.integers(0, 5),
        "staff.intake_social_workers.annual_turnover": st.sampled_from([0, 2.0]),
        "staff.intake_social_workers.parental_leave_per_year": st.sampled_from([0, 1.5]),
        "staff.intake_social_workers.parental_leave_days": st.sampled_from(
            ['{dist = "fixed", value = 0.5}', '{dist = "exponential", mean = 30}']
        ),
        "staff.ongoing_social_workers.annual_turnover": st.sampled_from([0, 0.3, 2.0]),
        "staff.ongoing_social_workers.parental_leave_per_year": st.sampled_from([0, 0.5]),
        "staff.benefit_administrators.annual_turnover": st.sampled_from([0, 1.0]),
        "staff.employment_consultants.annual_turnover": st.sampled_from([0, 1.0]),
        "organisation.caseload_norm": st.sampled_from([1, 20, 55]),
        "organisation.class_a_weight": st.sampled_from([1, 1.5, 3]),
        "organisation.form": st.sampled_from(["split", "merged"]),
        "organisation.administrator_caseload_norm": st.sampled_from([5, 90]),
        "ar_team.places": st.integers(0, 40),
        "initial_caseload.by_class.a": st.integers(0, 60),
        "initial_caseload.by_class.b": st.integers(0, 150),
        "horizon_years": st.sampled_from([0.25, 0.5]),
        "seed": st.integers(0, 10_000),
    }
)


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(overrides=SCENARIOS)
def test_invariants_hold_in_generated_scenarios(small, overrides):
    texts = [
        f"{k}={v}" if isinstance(v, str) and v.startswith("{") else f"{k}={v!r}"
        for k, v in overrides.items()
    ]
    resolved = load_scenarios(small, [t.replace("'", '"') for t in texts])[0]
    model = run_checked(resolved, every=7)
    monthly = model.output().monthly
    for col in ("social_worker_utilisation", "administrator_utilisation"):
        assert (monthly[col].dropna() >= 0).all(), col  # the norms are targets: may exceed 1
    values = monthly["intake_utilisation"].dropna()
    assert ((values >= 0) & (values <= 1 + EPS)).all()


def test_timed_changes_keep_the_invariants(small):
    text = small.read_text() + (
        "\n[[changes]]\nat = 2015-04-01\nstaff.ongoing_social_workers.posts = 3\n"
        "staff.benefit_administrators.posts = 1\nar_team.places = 5\n"
        "\n[[changes]]\nat = 2015-08-01\nstaff.ongoing_social_workers.posts = 16\n"
        'organisation.form = "merged"\norganisation.caseload_norm = 40\n'
    )
    path = small.parent / "changes.toml"
    path.write_text(text)
    model = run_checked(load_scenarios(path)[0], every=3)
    assert len(model.roster.active("ongoing_social_workers")) == 16


def test_zero_turnover_keeps_staff_constant(small):
    resolved = load_scenarios(
        small,
        [
            "staff.ongoing_social_workers.annual_turnover=0",
            "horizon_years=2",
        ],
    )[0]
    monthly = CaseloadModel(resolved, 0).run().monthly
    for role, posts in (
        ("intake_social_workers", 4),
        ("ongoing_social_workers", 11),
        ("benefit_administrators", 6),
        ("employment_consultants", 4),
    ):
        assert (monthly[f"staff_in_post_{role}"] == posts).all(), role


def test_turnover_moves_staff(small):
    resolved = load_scenarios(small, ["staff.ongoing_social_workers.annual_turnover=2"])[0]
    monthly = CaseloadModel(resolved, 0).run().monthly
    assert monthly["staff_in_post_ongoing_social_workers"].min() < 11


def test_merged_organisation_has_no_hand_over(small):
    split = CaseloadModel(load_scenarios(small)[0], 0).run().monthly
    merged_resolved = load_scenarios(small, ["organisation.form=merged"])[0]
    model = CaseloadModel(merged_resolved, 0, events=True)
    merged = model.run()
    assert split["transferred"].sum() > 0
    assert merged.monthly["transferred"].sum() == 0
    assert merged.events is not None
    assert not (merged.events["detail"] == "transfer").any()


def test_too_few_social_workers_carry_more_cases_and_deliver_less_contact(small):
    """The norm is a target, not a wall: three social workers hold all 240 A/B cases (far above
    the norm) and deliver a smaller share of the contact their cases need; when thirteen
    colleagues arrive, cases are handed over to them and contact recovers."""
    text = small.read_text() + (
        "\n[[changes]]\nat = 2015-06-01\nstaff.ongoing_social_workers.posts = 16\n"
        "staff.ongoing_social_workers.vacancy_fill_days = { dist = 'fixed', value = 0 }\n"
        "staff.ongoing_social_workers.introduction_days = 0\n"
    )
    path = small.parent / "upgrade.toml"
    path.write_text(text)
    resolved = load_scenarios(
        path,
        ["staff.ongoing_social_workers.posts=3", "staff.ongoing_social_workers.annual_turnover=0"],
    )[0]
    model = run_checked(resolved, every=5)
    monthly = model.output().monthly.set_index("month")
    before, after = monthly.loc["2015-05"], monthly.loc["2015-07"]
    assert (monthly["without_handler"] == 0).all()
    assert before["caseload_per_social_worker"] > 55
    assert before["cases_above_norm"] > 0
    assert before["delivered_share_b"] < 0.6
    assert after["delivered_share_b"] > before["delivered_share_b"] + 0.3
    assert after["follow_ups_b"] > 1.5 * before["follow_ups_b"]
    assert monthly.loc["2015-06", "handovers"] > 50  # the new colleagues take over cases
    assert after["caseload_per_social_worker"] < 30


def test_a_cases_are_chosen_by_time_and_upgraded_oldest_first(small):
    """One social worker: it works as A as many A-need cases as its hours cover (A cases are
    served first); the others are worked as B, waiting for A, and move up, oldest first, when an
    A case closes. With no administrator in post, a C case is held by the social worker."""
    resolved = load_scenarios(
        small,
        [
            "staff.ongoing_social_workers.posts=1",
            "staff.benefit_administrators.posts=0",
            "initial_caseload.by_class={a = 0, b = 0, c = 0}",
        ],
    )[0]
    model = CaseloadModel(resolved, 0)
    model.start()
    rng = np.random.default_rng(1)

    def arrive(need: str):
        hh = model.pathway.new_household(0, "other", array("d", rng.random(40).tolist()))
        model.pathway.open_case(hh)
        hh.need = need
        model.routing.route(hh)
        return hh

    worker = model.routing.social_workers[0]
    fits = math.floor(worker.hours_available / model.workload.need_a + EPS)
    cases = [arrive("a") for _ in range(fits + 3)]
    assert [hh.held for hh in cases] == ["a"] * fits + ["b"] * 3
    assert [hh.waiting_for_class for hh in cases[fits:]] == ["a"] * 3
    c_case = arrive("c")
    assert c_case.held == "c" and c_case.worker is worker
    model.pathway.close(cases[0], "moved")
    assert cases[fits].held == "a" and cases[fits].waiting_for_class == ""
    assert [hh.held for hh in cases[fits + 1 :]] == ["b", "b"]
    assert worker.share_a == 1.0
    check_invariants(model)


def test_more_social_workers_never_worse(small):
    """More intake workers: no longer first-visit wait; more ongoing workers: no fewer exits to
    work. Same seeds (common random numbers), averaged over replications."""
    base = load_scenarios(
        small, ["replications=4", "horizon_years=2", "staff.ongoing_social_workers.posts=5"]
    )[0]
    more_intake = load_scenarios(
        small,
        ["replications=4", "horizon_years=2", "staff.ongoing_social_workers.posts=5",
         "staff.intake_social_workers.posts=6"],
    )[0]  # fmt: skip
    more_ongoing = load_scenarios(
        small, ["replications=4", "horizon_years=2", "staff.ongoing_social_workers.posts=12"]
    )[0]
    kpi = {
        name: run_scenario(r, workers=1).summary.set_index("kpi")["mean"]
        for name, r in (("base", base), ("intake", more_intake), ("ongoing", more_ongoing))
    }
    assert kpi["intake"]["first_visit_wait_days"] <= kpi["base"]["first_visit_wait_days"]
    assert kpi["ongoing"]["exits_work_per_year"] >= kpi["base"]["exits_work_per_year"]
    assert (
        kpi["ongoing"]["mean_monthly_waiting_for_class"]
        < kpi["base"]["mean_monthly_waiting_for_class"]
    )


def test_ar_team_never_above_places_and_waits_when_full(small):
    resolved = load_scenarios(
        small, ["ar_team.places=3", "horizon_years=2", "initial_caseload.by_class.b=400"]
    )[0]
    model = run_checked(resolved, every=5)
    out = model.output()
    assert out.monthly["ar_team_in_programme"].max() <= 3
    assert out.monthly["ar_team_waiting"].max() > 0


def test_a_places_cut_pauses_the_latest_starters_first(small):
    """When the team can run fewer places (places cut, a consultant gone), the cases that
    started last pause, and they go back to the head of the waiting list in the order they
    had started: the team keeps the longest-running programmes going."""
    resolved = load_scenarios(small, ["ar_team.places=8", "initial_caseload.by_class.b=400"])[0]
    model = CaseloadModel(resolved, 0)
    recorder = model.start()
    team = model.ar_team
    while len(team.in_programme) < 8 and not recorder.triggered:
        model.env.step()
    running = sorted(team.in_programme, key=lambda hh: (hh.programme_start, hh.id))
    assert len(running) == 8
    waiting_before = list(team.waiting)
    team.capacity = 5
    team.fill()
    assert set(team.in_programme) == set(running[:5])
    assert list(team.waiting) == running[5:] + waiting_before
    assert all(hh.programme == "waiting" for hh in running[5:])


def test_unemployment_raises_inflow_and_lowers_exits_to_work(small):
    path = small.parent / "shock.toml"
    path.write_text(
        small.read_text().replace(
            "path = [{ date = 2015-01-01, percent = 3.2 }]",
            "path = [{ date = 2015-01-01, percent = 3.2 }, { date = 2015-03-01, percent = 6.4 }]",
        )
    )
    calm = run_scenario(load_scenarios(small, ["replications=3"])[0], workers=1)
    shock = run_scenario(load_scenarios(path, ["replications=3"])[0], workers=1)
    c, s = calm.summary.set_index("kpi")["mean"], shock.summary.set_index("kpi")["mean"]
    assert s["contacts_per_year"] > c["contacts_per_year"] * 1.1
    assert s["mean_monthly_households_unemployment"] > c["mean_monthly_households_unemployment"]


def test_event_log_follows_a_household(small):
    model = CaseloadModel(load_scenarios(small)[0], 0, events=True)
    out = model.run()
    events = out.events
    assert events is not None
    exited = events[events["event"] == "exit"].iloc[0]
    path = events[
        (events["household"] == exited["household"]) & (events["episode"] == exited["episode"])
    ]
    assert path["day"].is_monotonic_increasing
    assert path["event"].iloc[-1] == "exit"
    assert np.isin(["held"], path["event"]).all()


def test_every_intake_duration_a_path_reads_was_worked_out(small):
    """Booked contacts' intake durations are worked out only where the household's path can
    reach them (``intake_durations``); one read where it was left out (NaN) would put a NaN
    time on an event or a drop-out day."""
    for form in ("split", "merged"):
        resolved = load_scenarios(small, [f'organisation.form="{form}"'])[0]
        model = CaseloadModel(resolved, 0, events=True)
        events = model.run().events
        assert events is not None and np.isfinite(events["day"]).all()
        assert {"dropped_out", "rejected", "granted"} <= set(events["event"])
        path = model.pathway
        for hh in path.open_households:
            assert not math.isnan(hh.dropout_day)
        model.release()


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    uniforms=st.lists(st.floats(0.0, 0.999), min_size=N_UNIFORMS, max_size=N_UNIFORMS),
    barrier=st.sampled_from(BARRIERS),
)
def test_a_return_works_out_the_intake_durations_an_arrival_would(small, uniforms, barrier):
    """A returning household's intake durations are worked out one household at a time, an
    arriving one's a chunk at a time (``intake_durations``); both leave out (NaN) those the
    household's path cannot reach, and both give the same numbers for the others."""
    model = CaseloadModel(load_scenarios(small)[0], 0)
    one = np.array(model.pathway.reached_intake_days(array("d", uniforms), barrier))
    chunk = intake_durations(
        model.params, np.array([uniforms]), np.array([BARRIERS.index(barrier)])
    )[0]
    np.testing.assert_array_equal(np.isnan(one), np.isnan(chunk))
    np.testing.assert_allclose(one, chunk, rtol=1e-12)


def test_warm_up_months_are_reported_but_excluded(small):
    """Start empty, warm up for a year: the warm-up rows are in monthly output, flagged, and
    left out of every KPI."""
    resolved = load_scenarios(
        small,
        ["initial_caseload.by_class={a = 0, b = 0, c = 0}", "warmup_days=365", "replications=2"],
    )[0]
    results = run_scenario(resolved, workers=1)
    monthly = results.monthly
    assert (monthly["period"] == "warmup").sum() == 2 * 12
    assert monthly.loc[monthly["period"] == "warmup", "month"].min() == "2014-01"
    run_rows = monthly[monthly["period"] == "run"]
    assert run_rows["month"].min() == "2015-01"
    expected = run_rows.groupby("replication")["households"].mean().mean()
    got = results.summary.set_index("kpi").loc["mean_monthly_households", "mean"]
    assert abs(got - expected) < 1e-9
    first = monthly[monthly["replication"] == 0]["households"].iloc[0]
    assert first < run_rows["households"].mean() / 2  # it really started empty


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    uniforms=st.lists(st.floats(0.0, 0.999), min_size=40, max_size=40),
    elapsed=st.floats(0.0, 400.0),
    barrier=st.sampled_from(["unemployment", "sick_listed", "other"]),
    pause=st.floats(1.0, 300.0),
)
def test_exit_clocks_integrate_duration_bands_and_unemployment(
    small, uniforms, elapsed, barrier, pause
):
    """A case's exit time is where each cause's cumulative hazard reaches its unit-exponential
    clock, with the duration multiplier changing at every band (no event marks the band) and the
    work hazard moving with unemployment. Checked against a brute-force sum over small steps;
    re-rating later in the same state (as a class change and back would) leaves it unchanged.
    A rating that may be left open until a hand-over never leaves open an exit due before."""
    from tests.test_queueing import with_parameters

    resolved = load_scenarios(
        small,
        [
            "unemployment.path=[{date = 2015-01-01, percent = 3.2}, "
            "{date = 2015-04-01, percent = 6.5}, {date = 2015-09-01, percent = 2.0}]",
            "horizon_years=3",
        ],
    )[0]
    resolved = with_parameters(
        resolved,
        **{
            "exits.duration_multiplier": [1.6, 1.0, 0.4, 0.15],
            "exits.unemployment_semi_elasticity_work": -0.3,
            # nothing but time passes before the re-rating below
            "follow_up.progress_share": {"a": 0.0, "b": 0.0, "c": 0.0},
            "ar_programme.referral_share": 0.0,
        },
    )
    model = CaseloadModel(resolved, 0)
    path, hazards = model.pathway, model.hazards
    hh = path.new_household(0, barrier, array("d", uniforms))
    path.open_case(hh, elapsed_days=elapsed)
    hh.need = "b"
    path.set_held(hh, "b")
    rates = hazards.rates(hh)
    clocks = [-np.log1p(-uniforms[U_EXIT + k]) for k in range(5)]

    dt = 0.005
    t = np.arange(0.0, 3 * 365.0, dt) + dt / 2
    on_assistance = t + elapsed
    band = np.searchsorted(np.array(hazards.band_bounds), on_assistance, side="right")
    mult = np.array(hazards.duration_multiplier)[band]
    factor = np.array(model.work_clock.factor)[
        np.minimum(t.astype(int), len(model.work_clock.factor) - 1)
    ]
    expected = np.inf
    for k in range(5):
        hazard = rates[k] * mult * (factor if k == 0 else 1.0)
        reached = np.flatnonzero(np.cumsum(hazard * dt) >= clocks[k])
        if reached.size:
            expected = min(expected, t[reached[0]])
    if np.isfinite(expected):
        assert abs(hh.exit_day - expected) < 0.05, (hh.exit_day, expected)
    else:
        assert hh.exit_day > 3 * 365.0 - 1

    # Rated with a re-rating due at ``pause`` (a hand-over): the exit time is worked out as
    # usual, or left open because no clock can run out before ``pause``.
    deferred = path.new_household(0, barrier, array("d", uniforms))
    path.open_case(deferred, elapsed_days=elapsed)
    deferred.need = "b"
    path.set_held(deferred, "b", until=pause)
    if math.isinf(deferred.exit_day):
        assert expected >= pause - 0.05
    else:
        assert deferred.exit_day == hh.exit_day

    exit_before = hh.exit_day
    if exit_before > pause:
        model.env.run(until=pause)
        hazards.rate(hh, model.env.now)
        assert abs(hh.exit_day - exit_before) < 1e-6 * max(1.0, exit_before)


def test_drop_outs_are_counted_in_their_month_without_an_event(small):
    """A booked household that gives up waiting schedules no event of its own: the intake desk
    finds it when its turn comes, or the month's end does. With no intake workers, every
    drop-out is found at a month's end, and must still be counted in the month it happened, at
    its own day, after its booking."""
    from tests.test_queueing import with_parameters

    resolved = load_scenarios(small, ["staff.intake_social_workers.posts=0", "horizon_years=0.5"])
    resolved = with_parameters(resolved[0], **{"intake.dropout_share": 1.0})
    model = CaseloadModel(resolved, 0, events=True)
    out = model.run()
    log = out.events
    assert log["day"].is_monotonic_increasing
    drops = log[log["event"] == "dropped_out"]
    booked = log[log["event"] == "booked"]
    assert len(drops) > 50
    pairs = drops.merge(booked, on=["household", "episode"], suffixes=("", "_booked"))
    assert len(pairs) == len(drops)
    assert (pairs["day"] > pairs["day_booked"]).all()
    edges = [0.0, *model.month_boundaries()]
    per_month = np.histogram(drops["day"], bins=edges)[0]
    assert per_month.tolist() == out.monthly["dropped_out"].tolist()
    waiting = sum(1 for hh in model.intake.queue if not hh.closed)
    assert out.monthly["dropped_out"].sum() + waiting == out.monthly["booked"].sum()


def test_a_released_run_leaves_nothing_for_the_cyclic_collector(small):
    """A finished model is full of reference cycles (parts pointing back to the model, queued
    events to their processes). ``release`` breaks them, so the run is freed by reference
    counting: many replications in one worker then never pile up for a full collection, which
    scanned them all and took about a tenth of the time. With posts abolished mid-run (their
    processes interrupted) and the event log on, the collector must find nothing left over."""
    text = small.read_text() + (
        "\n[[changes]]\nat = 2015-05-01\nstaff.ongoing_social_workers.posts = 3\n"
        "staff.intake_social_workers.posts = 1\n"
    )
    path = small.parent / "release.toml"
    path.write_text(text)
    resolved = load_scenarios(path)[0]
    gc.collect()
    gc.disable()
    try:
        model = CaseloadModel(resolved, 0, events=True)
        model.run()
        model.release()
        del model
        left_over = gc.collect()
    finally:
        gc.enable()
    assert left_over == 0


def test_more_social_worker_hours_never_lower_the_delivered_share(small):
    """Delivered contact is what a worker's hours cover of what its cases need, A before B.
    With more working hours per post (and exits not yet depending on contact) the same cases
    meet more hours: no month's delivered share of A or B may fall, and the hours delivered
    never exceed those available."""
    tight = ["staff.ongoing_social_workers.working_hours_per_month=20"]
    roomy = ["staff.ongoing_social_workers.working_hours_per_month=60"]
    months = []
    for overrides in (tight, roomy):
        model = CaseloadModel(load_scenarios(small, overrides)[0], 0)
        months.append(model.run().monthly)
    low, high = months
    for cls in ("a", "b"):
        column = f"delivered_share_{cls}"
        pairs = low[column].notna() & high[column].notna()
        assert pairs.any()
        assert (high.loc[pairs, column] >= low.loc[pairs, column] - 1e-12).all()
    assert (low["delivered_share_b"] < 1).any(), "20 hours a month should leave B cases short"
    for m in months:
        assert (
            m["social_worker_hours_delivered"] <= m["social_worker_hours_available"] + 1e-6
        ).all()


def test_a_change_on_the_first_of_a_month_shows_from_that_month(small):
    """A change ``at = 2015-07-01`` belongs to July: June's row still shows June's staff at its
    end and pays June's assistance at June's rates (the month's end and the change fall at the
    same instant; the month is recorded first)."""
    text = small.read_text().replace("annual_turnover = 0.3", "annual_turnover = 0") + (
        "\n[[changes]]\nat = 2015-07-01\nstaff.ongoing_social_workers.posts = 3\n"
        "costs.assistance_sek_per_month_without_children = 1\n"
        "costs.assistance_sek_per_month_with_children = 1\n"
    )
    path = small.parent / "july.toml"
    path.write_text(text)
    monthly = CaseloadModel(load_scenarios(path)[0], 0).run().monthly.set_index("month")
    assert monthly.loc["2015-06", "staff_in_post_ongoing_social_workers"] == 11
    assert monthly.loc["2015-07", "staff_in_post_ongoing_social_workers"] == 3
    june, july = (
        monthly.loc["2015-06", "assistance_paid_sek"],
        monthly.loc["2015-07", "assistance_paid_sek"],
    )
    assert june > 1000 * july, "June was paid at July's rates"


@settings(max_examples=60, deadline=None)
@given(
    first_day=st.dates(min_value=date(1990, 1, 1), max_value=date(2040, 1, 1)),
    gaps=st.lists(st.integers(min_value=1, max_value=900), min_size=0, max_size=5),
    start=st.integers(min_value=-1500, max_value=1500),
    percents=st.lists(
        st.floats(min_value=0.1, max_value=30, allow_nan=False) | st.integers(1, 20),
        min_size=6,
        max_size=6,
    ),
    days=st.integers(min_value=0, max_value=4000),
)
def test_daily_unemployment_is_the_path_read_day_by_day(first_day, gaps, start, percents, days):
    """The run's unemployment, one value per day, is computed over arrays: it must be the
    path's linear interpolation read one day at a time (``percent_at``), float for float,
    with points before, inside and after the run, at any spacing."""
    dates = [first_day + timedelta(days=start)]
    for gap in gaps:
        dates.append(dates[-1] + timedelta(days=gap))
    path = Unemployment(
        reference_percent=3.0,
        path=[UnemploymentPoint(date=d, percent=p) for d, p in zip(dates, percents, strict=False)],
    )
    expected = [path.percent_at(first_day + timedelta(days=d)) for d in range(days + 1)]
    assert daily_unemployment(path, first_day, days).tolist() == expected
