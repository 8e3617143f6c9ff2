"""The comparison report's opening line: which headline KPI an alternative changes most."""

from __future__ import annotations

import pandas as pd

from sim.output.comparison_report import change_text, largest_change


def _rows(*rows: tuple[str, float, float, bool]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"kpi": kpi, "base_mean": base, "alternative_mean": alt, "difference": alt - base,
             "ci_low": alt - base - 0.05, "ci_high": alt - base + 0.05, "significant": clear}
            for kpi, base, alt, clear in rows
        ]
    )  # fmt: skip


def test_a_change_under_one_unit_on_a_tiny_base_is_not_the_headline():
    """0.4 households waiting for their class becoming 0.3 is -25 % of its base, but a tenth
    of a household: the 8 % fewer cases per social worker is what changed."""
    rows = _rows(
        ("mean_monthly_waiting_for_class", 0.4, 0.3, True),
        ("caseload_per_social_worker", 30.0, 27.5, True),
    )
    row, clear = largest_change(rows)
    assert row is not None and row["kpi"] == "caseload_per_social_worker" and clear


def test_a_large_change_from_a_tiny_base_is_shown_without_a_meaningless_percentage():
    rows = _rows(
        ("mean_monthly_waiting_for_class", 0.4, 19.0, True),
        ("exits_work_per_year", 160.0, 128.0, True),
    )
    text = change_text(rows)
    assert text.startswith("Cases not in their assessed class") and "%)" not in text
    assert "20.0" in change_text(rows.iloc[[1]]).split("(")[1]  # a percentage where it means one


def test_a_fall_counts_as_much_as_a_rise_by_the_same_factor():
    """A percentage can rise without end but fall by 100 % at most: ranked by it, a first-visit
    wait cut from 81 to 6 days (-93 %, 13 times shorter) came after a count that doubled
    (+117 %). The factor between the two means, either way, ranks them."""
    rows = _rows(
        ("mean_monthly_waiting_for_class", 6.0, 13.0, True),
        ("first_visit_wait_days", 81.45, 6.1, True),
    )
    row, clear = largest_change(rows)
    assert row is not None and row["kpi"] == "first_visit_wait_days" and clear
    halved = _rows(("exits_work_per_year", 160.0, 80.0, True), ("staff_cost_sek_per_year",
                   1e7, 1.9e7, True))  # fmt: skip
    assert largest_change(halved)[0]["kpi"] == "exits_work_per_year"  # x 1/2 beats x 1.9


def test_a_share_falling_to_zero_is_no_infinite_change():
    """A share has no unit floor: falling to 0 it would be an infinite factor (and a warning of
    a division by zero on the terminal). A hundredth stands in, so the ranking stays finite and
    a large change elsewhere can still lead."""
    import warnings

    rows = _rows(
        ("ar_team_success_share", 0.02, 0.0, True),
        ("first_visit_wait_days", 81.0, 0.5, True),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning
        row, _ = largest_change(rows)
    assert row is not None and row["kpi"] == "first_visit_wait_days"
