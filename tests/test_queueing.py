"""The model against queueing theory.

Configured so that nothing else is random, intake is an M/M/c queue (Poisson contacts,
exponential first-visit work, c intake workers) and its mean wait must match Erlang C; the
ongoing caseload with one exponential exit risk is an M/M/infinity system, whose mean number
open must match Little's law (arrival rate x mean duration). Reduced sizes run in CI; the full
sizes run with ``pytest -m slow``.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from scipy import stats

from sim.experiments.runner import run_scenario
from sim.inputs.loading import load_scenarios
from sim.inputs.parameters import ModelParameters

MONTH = 365.25 / 12


def erlang_c_wait(arrival_rate: float, service_rate: float, servers: int) -> float:
    """Mean wait in queue of an M/M/c queue (Erlang C formula)."""
    a = arrival_rate / service_rate
    rho = a / servers
    assert rho < 1
    top = a**servers / math.factorial(servers) / (1 - rho)
    bottom = sum(a**k / math.factorial(k) for k in range(servers)) + top
    return (top / bottom) / (servers * service_rate - arrival_rate)


def with_parameters(resolved, **changes):
    """A copy of ``resolved`` whose parameter set has ``changes`` (dotted keys) applied."""
    data = resolved.parameters.model_dump()
    for key, value in changes.items():
        node = data
        *path, last = key.split(".")
        for part in path:
            node = node[part]
        node[last] = value
    return dataclasses.replace(resolved, parameters=ModelParameters.model_validate(data))


def no_returns() -> dict[str, object]:
    causes = ["work", "studies", "other_benefit", "moved", "one_time", "unknown", "ar_team"]
    return {f"returns.probability.{c}": 0.0 for c in causes}


def mmc_intake(small, *, servers: int, rho: float, years: float, reps: int, mean_work: float = 1.0):
    resolved = load_scenarios(
        small,
        [
            f"staff.intake_social_workers.posts={servers}",
            "staff.intake_social_workers.annual_turnover=0",
            "initial_caseload.by_class={a = 0, b = 0, c = 0}",
            "warmup_days=180",
            f"horizon_years={years}",
            f"replications={reps}",
        ],
    )[0]
    arrival_per_day = rho * servers / mean_work
    return (
        with_parameters(
            resolved,
            **{
                "contacts.per_year": arrival_per_day * 365.25,
                "intake.booked_share": 1.0,
                "intake.dropout_share": 0.0,
                "intake.rejected_share": 1.0,  # nothing goes on: intake alone
                "intake.first_visit_work_days": {"dist": "exponential", "mean": mean_work},
            },
            **no_returns(),
        ),
        arrival_per_day,
    )


def check_mmc(small, servers, rho, years, reps):
    resolved, lam = mmc_intake(small, servers=servers, rho=rho, years=years, reps=reps)
    results = run_scenario(resolved, workers=2)
    per_rep = results.per_replication
    expected_wait = erlang_c_wait(lam, 1.0, servers)
    waits = per_rep["first_visit_wait_days"].to_numpy()
    util = per_rep["intake_utilisation"].to_numpy()
    half = stats.t.ppf(0.995, len(waits) - 1) * waits.std(ddof=1) / math.sqrt(len(waits))
    assert abs(waits.mean() - expected_wait) <= half, (waits.mean(), expected_wait, half)
    util_half = stats.t.ppf(0.995, len(util) - 1) * util.std(ddof=1) / math.sqrt(len(util))
    assert abs(util.mean() - rho) <= max(util_half, 0.005), (util.mean(), rho)


@pytest.mark.parametrize(("servers", "rho"), [(1, 0.5), (3, 0.7), (3, 0.9)])
def test_intake_is_an_mmc_queue(small, servers, rho):
    """Mean first-visit wait and intake utilisation agree with Erlang C (99 % interval)."""
    check_mmc(small, servers, rho, years=4 if rho < 0.9 else 8, reps=8)


@pytest.mark.slow
@pytest.mark.parametrize(("servers", "rho"), [(1, 0.3), (2, 0.5), (4, 0.8), (3, 0.9), (6, 0.95)])
def test_intake_is_an_mmc_queue_full(small, servers, rho):
    check_mmc(small, servers, rho, years=30, reps=20)


def check_little(small, years, reps, mean_months=10.0, contacts=600.0):
    resolved = load_scenarios(
        small,
        [
            "organisation.form=merged",
            "staff.intake_social_workers.posts=20",
            "initial_caseload.by_class={a = 0, b = 0, c = 0}",
            "warmup_days=2190",
            f"horizon_years={years}",
            f"replications={reps}",
        ],
    )[0]
    hazards = {
        cause: dict.fromkeys(
            ["unemployment", "social_medical", "sick_listed", "immigration", "other"],
            1 / mean_months if cause == "unknown" else 0.0,
        )
        for cause in ["work", "studies", "other_benefit", "moved", "unknown"]
    }
    resolved = with_parameters(
        resolved,
        **{
            "contacts.per_year": contacts,
            "intake.booked_share": 1.0,
            "intake.dropout_share": 0.0,
            "intake.rejected_share": 0.0,
            "intake.short_need_share": dict.fromkeys(hazards["work"], 0.0),
            "exits.monthly_hazard": hazards,
            "exits.duration_multiplier": [1.0, 1.0, 1.0, 1.0],
            "ar_programme.referral_share": 0.0,
            "follow_up.progress_share": {"a": 0.0, "b": 0.0, "c": 0.0},
            "follow_up.deviation_share": 0.0,
        },
        **no_returns(),
    )
    results = run_scenario(resolved, workers=2)
    m = results.monthly[results.monthly["period"] == "run"]
    stock = m["open_class_a"] + m["open_class_b"] + m["open_class_c"] + m["without_handler"]
    per_rep = stock.groupby(m["replication"]).mean().to_numpy()
    expected = contacts / 12 * mean_months  # Little: arrivals per month x mean months
    half = stats.t.ppf(0.995, len(per_rep) - 1) * per_rep.std(ddof=1) / math.sqrt(len(per_rep))
    assert abs(per_rep.mean() - expected) <= half + 0.01 * expected, (per_rep.mean(), expected)
    assert np.isfinite(per_rep).all()


def test_ongoing_caseload_obeys_littles_law(small):
    """M/M/infinity: mean open cases = arrival rate x mean duration (here 50 x 10 = 500)."""
    check_little(small, years=4, reps=6)


@pytest.mark.slow
def test_ongoing_caseload_obeys_littles_law_full(small):
    check_little(small, years=20, reps=20, mean_months=18.0, contacts=1200.0)
