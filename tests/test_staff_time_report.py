"""Staff time in the reports (issue 15, item 10): what a planner sees of hours and contact.

Staff time is causal in the model: each month row has the hours ongoing social workers and
benefit administrators have for cases, the hours their cases need and the hours delivered, the
share of planned contact delivered by class, hand-overs and cases carried above the norm. These
tests check that a planner can see them: the catalogue's labels and units read as a planner
reads them and print with a fixed number of decimals; a delivered share never shows an interval
above 1 (a utilisation, a load against the norm, may); the workload figures exist and draw
needed against available hours per role with the warm-up marked; the run report has a "Staff
time" table; and the comparison's forest plot and differences carry the staff-time KPIs.
"""

from __future__ import annotations

import pytest

from sim.output.formatting import UNIT_DECIMALS, difference_interval, level_interval
from sim.records import KPI, KPIS, MONTH_RECORD


def test_every_unit_of_the_catalogue_has_its_decimals() -> None:
    """Every KPI's unit (hours per year, cases, shares ...) has a fixed number of decimals, so
    that no report falls back to guessing them from a number's size."""
    missing = {k.unit for k in KPIS} - set(UNIT_DECIMALS)
    assert not missing, missing


def test_a_delivered_share_stops_at_one_and_a_utilisation_does_not() -> None:
    """A delivered share is a share of what was planned: its interval stops at 1 (and at 0),
    in the run report and as a difference from a base. A utilisation is a load against the
    norm, which may exceed 1. Hours and cases above the norm never go below zero."""
    for kpi in ("delivered_share_a", "delivered_share_b", "delivered_share_c"):
        assert level_interval(0.94, 1.002, kpi, "share") == (0.94, 1.0)
        assert level_interval(-0.01, 0.5, kpi, "share") == (0.0, 0.5)
        # base 0.96: the alternative cannot exceed 1, so the difference stops at +0.04
        low, high = difference_interval(-0.1, 0.08, 0.96, kpi, "share")
        assert (low, high) == (-0.1, pytest.approx(0.04))
    assert level_interval(0.9, 1.002, "delivered_share_administrators", "share")[1] == 1.0
    assert level_interval(0.9, 1.3, "social_worker_utilisation", "share") == (0.9, 1.3)
    assert level_interval(0.9, 1.3, "administrator_utilisation", "share") == (0.9, 1.3)
    hours = "social_worker_hours_needed_per_year"
    assert level_interval(-5.0, 20.0, hours, "hours per year") == (0.0, 20.0)
    above = "mean_monthly_cases_above_norm"
    assert level_interval(-0.11, 0.23, above, "cases") == (0.0, 0.23)
    assert difference_interval(-0.5, 0.4, 0.06, above, "cases") == (-0.06, 0.4)


def test_staff_time_labels_read_as_a_planner_reads_them() -> None:
    """The staff-time KPIs are named in words (no column names), a utilisation says what above
    1 means, and a hand-over is called one."""
    staff = [c for c in MONTH_RECORD if "hours" in c.name or "share" in c.name]
    staff += [c for c in MONTH_RECORD if c.name.startswith(("follow_ups", "handovers", "cases_"))]
    for column in staff:
        assert "_" not in column.label, column.name
    for kpi in ("social_worker_utilisation", "administrator_utilisation"):
        assert "above 1: above the norm" in KPI[kpi].label
    assert KPI["handovers_per_year"].label.startswith("Hand-overs")
    assert KPI["follow_ups_b_per_year"].label == "Follow-ups delivered per year, class B"
    assert "(mean at month end) (mean" not in KPI["mean_monthly_cases_above_norm"].label
    assert "month end (mean" not in KPI["mean_monthly_cases_above_norm"].label
