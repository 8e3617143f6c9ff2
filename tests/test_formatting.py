"""How the reports print numbers and scenario values (``sim.output.formatting``)."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.output.formatting import (
    console_estimate,
    difference_interval,
    differences_cut_to_bounds,
    interval,
    intervals_cut_to_bounds,
    level_interval,
    number,
    toml_value,
)

NAN = math.nan


def test_numbers_keep_their_units_decimals_and_never_break() -> None:
    assert number(43_533_633.4, "SEK per year") == "43\u202f533\u202f633"
    assert number(-1_784_165.0, "SEK per year", sign=True) == "\u22121\u202f784\u202f165"
    assert number(0.19444, "households") == "0.2"
    assert number(489.86, "households") == "489.9"
    assert number(0.27123, "share") == "0.271"
    assert number(-0.0001, "share", sign=True) == "0.000"  # no sign on a rounded zero
    assert number(NAN, "share") == "–"


def test_intervals_stop_at_what_the_kpi_can_take() -> None:
    assert level_interval(-0.6, 1.0, "mean_monthly_waiting_for_class", "households") == (0, 1.0)
    assert level_interval(0.3, 1.2, "ar_team_success_share", "share") == (0.3, 1.0)
    assert level_interval(0.3, 1.2, "social_worker_utilisation", "share") == (0.3, 1.2)
    low, high = difference_interval(-5.0, 69.0, 1.0, "mean_monthly_waiting_for_class", "households")
    assert (low, high) == (-1.0, 69.0)
    assert interval(NAN, NAN, "households", why="1 replication") == "no interval (1 replication)"
    assert interval(NAN, NAN, "households", of=NAN) == "–"
    # a KPI with no value in the run says why (a short run, no first visit), not a bare dash
    said = interval(NAN, NAN, "share", of=NAN, kpi="recurrence_24_months")
    assert said == "no value: needs episodes closed 24 months before the end: over two years"
    assert interval(NAN, NAN, "days", of=NAN, kpi="first_visit_wait_days").startswith(
        "no value: no first visit"
    )


def test_the_csv_files_cut_intervals_as_the_report_does() -> None:
    """summary.csv and districts.csv are what a planner opens in a spreadsheet: no negative
    count, no share above 1 (the means and the statistics behind them are not touched)."""
    import pandas as pd

    table = pd.DataFrame(
        {
            "kpi": [
                "mean_monthly_ar_team_waiting",
                "delivered_share_b",
                "social_worker_utilisation",
                "intake_utilisation",
            ],
            "mean": [4.65, 0.91, 1.1, 0.97],
            "ci_low": [-13.7, 0.71, 0.9, 0.87],
            "ci_high": [23.0, 1.11, 1.3, 1.067],
            "unit": ["households", "share", "share", "share"],
        }
    )
    cut = intervals_cut_to_bounds(table)
    assert cut["ci_low"].tolist() == [0.0, 0.71, 0.9, 0.87]
    # a load against a norm may exceed 1; the intake's busy share of its time may not
    assert cut["ci_high"].tolist() == [23.0, 1.0, 1.3, 1.0]
    assert cut["mean"].tolist() == table["mean"].tolist() and table["ci_low"][0] == -13.7


def test_comparison_csv_cuts_differences_as_the_report_does() -> None:
    """comparison.csv's intervals (paired and unpaired) stop where the alternative would have
    fewer than no households or wait less than no days, as the report's do: a first-visit
    wait of 81 days cannot fall by 113. Whether a difference is significant is untouched."""
    import pandas as pd

    table = pd.DataFrame(
        {
            "alternative": ["calm", "calm", "calm"],
            "kpi": ["first_visit_wait_days", "mean_monthly_ar_team_waiting", "delivered_share_b"],
            "base_mean": [81.45, 2.97, 0.8],
            "difference": [-62.99, -2.9, 0.15],
            "ci_low": [-112.66, -4.43, 0.1],
            "ci_high": [-44.53, -1.4, 0.3],
            "unpaired_ci_low": [-130.0, -6.0, 0.05],
            "unpaired_ci_high": [4.0, 0.2, 0.35],
            "unit": ["days", "households", "share"],
            "significant": [True, True, True],
        }
    )
    cut = differences_cut_to_bounds(table)
    assert cut["ci_low"].tolist() == [-81.45, -2.97, 0.1]
    assert cut["ci_high"].tolist() == [-44.53, -1.4, pytest.approx(0.2)]  # at most a share of 1
    assert cut["unpaired_ci_low"].tolist() == [-81.45, -2.97, 0.05]
    assert cut["unpaired_ci_high"].tolist() == [4.0, 0.2, pytest.approx(0.2)]
    assert cut["significant"].tolist() == table["significant"].tolist()
    assert table["ci_low"][0] == -112.66  # the statistics themselves are not touched


def test_the_command_line_never_prints_nan_or_a_negative_count() -> None:
    kpi = "first_visit_wait_days"
    assert console_estimate(5.2, -19.7, 30.1, kpi, "days") == "5.2 (95 % CI 0.0 to 30.1)"
    assert console_estimate(5.2, NAN, NAN, kpi, "days") == "5.2 (no interval: one replication)"
    paired = console_estimate(1.0, -2.0, 4.0, "mean_monthly_households", "households", base=490)
    assert paired == "+1.0 (paired 95 % CI -2.0 to +4.0)"


def test_scenario_values_are_shown_as_toml() -> None:
    assert toml_value("merged") == '"merged"'
    assert toml_value(True) == "true"
    assert toml_value("2016-07-01") == "2016-07-01"
    assert toml_value([3.2, 4]) == "[3.2, 4]"
    assert toml_value({"dist": "fixed", "value": 90.0}) == '{ dist = "fixed", value = 90.0 }'
    assert toml_value([{"date": "2015-01-01", "percent": 3.2}]) == (
        "[{ date = 2015-01-01, percent = 3.2 }]"
    )
    # numbers from numpy (an optimisation's candidate table) as the numbers they are
    assert toml_value(np.float64(55.89766365993793)) == "55.89766365993793"
    assert toml_value(np.int64(5)) == "5"
    assert toml_value({"a b": 1}) == '{ "a b" = 1 }'
    assert toml_value(None) == "–"


def test_no_percentage_of_a_base_under_one_of_its_unit_anywhere() -> None:
    """0.2 cases becoming 11.3 is no "+5 550 %" that says anything: the page left it out, the
    report's table and the forest plot showed it. One rule now, in one function."""
    import pandas as pd

    from sim.output.comparison_figures import forest_rows
    from sim.output.formatting import percent_change

    assert percent_change(11.1, 0.2, "mean_monthly_waiting_for_class") == ""
    assert percent_change(-29.0, 170.0, "exits_work_per_year").endswith("%")
    assert percent_change(0.05, 0.2, "delivered_share_b").endswith("%")  # a share as it is
    differences = pd.DataFrame(
        {
            "alternative": ["alt"], "kpi": ["mean_monthly_households"], "unit": ["households"],
            "base_mean": [0.4], "difference": [18.6], "ci_low": [10.0], "ci_high": [27.0],
        }
    )  # fmt: skip
    assert forest_rows(differences, ["mean_monthly_households"])["percent"].tolist() == [""]


# --- the CSV files ------------------------------------------------------------------------

FLOATS = st.floats(allow_nan=True, allow_infinity=True, width=64) | st.sampled_from(
    [
        math.nan,
        0.0,
        -0.0,
        1e-5,
        1e-4,
        9.999999999999999e15,
        1e16,
        123456789.123,
        5e-324,
        1.7976931348623157e308,
    ]
)
TEXTS = st.text(alphabet=st.sampled_from('ab é,"\r\n-0'), max_size=6) | st.none()


@settings(max_examples=150, deadline=None)
@given(
    rows=st.integers(min_value=0, max_value=6),
    kinds=st.lists(
        st.sampled_from(["float", "int", "bool", "text", "object"]), min_size=1, max_size=4
    ),
    data=st.data(),
)
def test_a_table_is_written_as_pandas_writes_it(
    rows: int, kinds: list[str], data: st.DataObject
) -> None:
    """A results table is written through a faster path than pandas' (floats through
    Python's ``repr`` rather than numpy's text conversion): the file's bytes are those of
    ``to_csv(index=False)`` for any table, numbers of every size, missing values, text that
    needs quoting (written by pandas itself), a single column, no rows."""
    from sim.output.folders import csv_text, write_tables

    columns = {}
    for i, kind in enumerate(kinds):
        if kind == "float":
            values = pd.Series(
                data.draw(st.lists(FLOATS, min_size=rows, max_size=rows)), dtype=float
            )
        elif kind == "int":
            ints = st.integers(min_value=-(2**63), max_value=2**63 - 1)
            values = pd.Series(
                data.draw(st.lists(ints, min_size=rows, max_size=rows)), dtype="int64"
            )
        elif kind == "bool":
            values = pd.Series(
                data.draw(st.lists(st.booleans(), min_size=rows, max_size=rows)), dtype=bool
            )
        elif kind == "text":
            values = pd.Series(
                data.draw(st.lists(TEXTS, min_size=rows, max_size=rows)), dtype="str"
            )
        else:  # an object column: text, numbers or missing values mixed
            mixed = TEXTS | st.integers(-5, 5)
            values = pd.Series(
                data.draw(st.lists(mixed, min_size=rows, max_size=rows)), dtype=object
            )
        columns[f"c{i}"] = values
    table = pd.DataFrame(columns)
    with tempfile.TemporaryDirectory() as folder:
        write_tables(Path(folder), {"t.csv": table})
        written = (Path(folder) / "t.csv").read_bytes()
    assert written == table.to_csv(index=False).encode()
    if kinds.count("float") + kinds.count("int") == len(kinds) >= 2 and rows:
        assert csv_text(table) is not None  # numbers alone: the faster path, not pandas'


def test_a_runs_table_takes_the_faster_path_and_gives_pandas_bytes(tmp_path: Path) -> None:
    """A table such as ``monthly.csv`` (text, counts, means that may be missing or infinite)
    is written by the faster path, with pandas' bytes."""
    from sim.output.folders import csv_text, write_tables

    table = pd.DataFrame(
        {
            "month": pd.Series(["2015-01", "2015-02", "2015-03"], dtype="str"),
            "households": [559, 560, 0],
            "first_visit_wait_days": [3.25, math.nan, 1e-5],
            "ratio": [math.inf, -0.0, 1 / 3],
            "young": [True, False, True],
        }
    )
    assert csv_text(table) is not None
    write_tables(tmp_path, {"monthly.csv": table})
    assert (tmp_path / "monthly.csv").read_bytes() == table.to_csv(index=False).encode()


def test_a_table_with_labels_other_than_text_is_written_by_pandas(tmp_path: Path) -> None:
    """Column labels that are not text (a missing label, dates) are written as pandas writes
    them (empty; a date without its time), and a compressed file is compressed."""
    from sim.output.folders import csv_text, write_tables

    for labels in (["a", None], [pd.Timestamp("2020-01-01"), pd.Timestamp("2020-02-01")]):
        table = pd.DataFrame([[1, 2]], columns=labels)
        assert csv_text(table) is None
        write_tables(tmp_path, {"t.csv": table})
        assert (tmp_path / "t.csv").read_bytes() == table.to_csv(index=False).encode()
    table = pd.DataFrame({"a": [1.5, 2.0], "b": [3, 4]})
    write_tables(tmp_path, {"t.csv.gz": table})
    assert pd.read_csv(tmp_path / "t.csv.gz").equals(table)  # read back through gzip
