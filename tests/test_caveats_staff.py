"""Warnings a reader needs before trusting a run whose staffing leaves work undone."""

from __future__ import annotations

import pandas as pd

from sim.output.caveats import no_social_worker_warning


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
