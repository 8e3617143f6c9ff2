"""Warnings a reader needs before trusting a run whose staffing leaves work undone."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sim.inputs.loading import load_scenarios
from sim.output.caveats import no_social_worker_warning, unstaffed_places_warning

BASELINE = Path(__file__).resolve().parent.parent / "scenarios" / "baseline.toml"


def _monthly(staff: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "month": [f"2015-{m:02d}" for m in range(1, len(staff) + 1)],
            "period": "run",
            "staff_in_post_ongoing_social_workers": staff,
        }
    )


def test_a_unit_without_ongoing_social_workers_is_warned_of_and_a_staffed_one_is_not():
    """With no ongoing social worker every A- or B-need case is held as C or waits: the figures
    are those of a unit without social work, which the report must say."""
    (warning,) = no_social_worker_warning(_monthly([0.0, 0.0, 0.0]))
    assert "in 3 of the 3 reported months:" in warning
    (partly,) = no_social_worker_warning(_monthly([11.0, 0.0, 10.5]))
    assert "1 of the 3 reported months (2015-02)" in partly
    assert no_social_worker_warning(_monthly([11.0, 10.0, 10.5])) == []
    assert no_social_worker_warning(pd.DataFrame({"month": ["2015-01"]})) == []


def test_a_unit_without_benefit_administrators_is_warned_of():
    """With no administrator the C cases go to the ongoing social workers (a run of the
    baseline with none had 41 cases per social worker against 32): the report says why."""
    from sim.output.caveats import no_administrator_warning

    monthly = _monthly([11.0, 11.0]).assign(staff_in_post_benefit_administrators=[0.0, 6.0])
    (warning,) = no_administrator_warning(monthly)
    assert warning.startswith("No benefit administrator is in post in 1 of the 2 reported months")
    assert "held by the ongoing social workers instead" in warning
    staffed = monthly.assign(staff_in_post_benefit_administrators=[6.0, 6.0])
    assert no_administrator_warning(staffed) == []


def test_more_posterior_draws_than_the_sample_holds_are_said_to_repeat():
    """Draws are made from the fitted sample with replacement: beyond its size they repeat
    its parameter sets. The report says how many were distinct; fewer draws than the sample
    holds (duplicates by chance) are not a caveat."""
    from sim.output.caveats import few_replications_warning

    many = {"draws": 5000, "sample_size": 2000, "distinct_draws": 1830}
    (said,) = few_replications_warning({"replications": 2, "posterior": many})
    assert "5000 posterior draws from a sample of 2000 parameter sets: 1830 distinct" in said
    few = {"draws": 20, "sample_size": 2000, "distinct_draws": 19}
    assert few_replications_warning({"replications": 2, "posterior": few}) == []
    older = {"draws": 20}  # a folder written before the sample's size was recorded
    assert few_replications_warning({"replications": 2, "posterior": older}) == []


def test_ar_places_the_consultants_cannot_run_are_warned_of():
    """The team runs the smaller of its places and what its consultants' posts can run (9
    places each): places added alone changed nothing, and the report said "no change" and
    "Warnings: none". The warning names the places, the posts and the date from which they
    do not match, also when a timed change makes them so; the baseline matches."""
    as_run = load_scenarios(BASELINE, ["ar_team.places=60"])[0].as_dict()
    (warning,) = unstaffed_places_warning(as_run)
    assert "60 places from 2015-01-01, but its 4 employment consultant posts run at most 36" in (
        warning
    )
    assert unstaffed_places_warning(load_scenarios(BASELINE)[0].as_dict()) == []
    staffed = load_scenarios(
        BASELINE, ["ar_team.places=60", "staff.employment_consultants.posts=7"]
    )[0].as_dict()
    assert unstaffed_places_warning(staffed) == []
    later = {
        **staffed,
        "changes": [{"at": "2016-07-01", "staff": {"employment_consultants": {"posts": 5}}}],
    }
    (cut,) = unstaffed_places_warning(later)
    assert "60 places from 2016-07-01, but its 5 employment consultant posts run at most 45" in cut
