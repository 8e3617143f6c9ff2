"""The output schema (``sim.records``): one owner for every name the model writes and reports.

``monthly.csv`` and ``summary.csv`` are compared byte for byte with stored baselines, so the
month record must name the model's columns in the order it writes them, and the KPI catalogue
must list every KPI ``replication_kpis`` returns, in its order, with the units ``summary.csv``
has always stated. Labels are what a planner reads in the report; they must exist and differ.
"""

from __future__ import annotations

import csv
from typing import Any

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim import records
from sim.domain import BARRIERS, CASE_CLASSES, EXIT_CAUSES, STAFF_ROLES
from sim.inputs.loading import load_scenarios
from sim.metrics import kpi_names, kpi_unit, replication_kpis
from sim.model import caseload
from sim.records import (
    AR_PROGRAMME_COLUMNS,
    EPISODE_COLUMNS,
    EVENT_COLUMNS,
    EVENT_NAMES,
    HEADLINE,
    KPI_GROUPS,
    KPIS,
    MONTH_COLUMNS,
    MONTH_KINDS,
    MONTH_KPIS,
    MONTH_RECORD,
    MonthColumn,
    month_kpi,
)
from tests.baseline.store import CASES, SCENARIOS, STORED


@pytest.fixture(scope="module")
def run() -> tuple[records.ReplicationOutput, dict[str, float]]:
    """One replication of a small fixed scenario (warm-up, hand-overs, AR team), with its
    event log, and its KPIs."""
    (resolved,) = load_scenarios(SCENARIOS / "merged.toml")
    model = caseload.CaseloadModel(resolved, 0, events=True)
    output = model.run()
    kpis = replication_kpis(output, model.first_day, model.report_from, model.end)
    return output, kpis


def test_month_record_names_the_model_columns_in_the_order_it_writes_them(run: Any) -> None:
    """The model's ledger is to build its rows from ``MONTH_COLUMNS``: today's rows must have
    exactly those columns, in that order (``replication`` is added in front by the runner)."""
    output, _ = run
    assert list(output.monthly.columns) == list(MONTH_COLUMNS)
    assert records.REPLICATION not in MONTH_COLUMNS
    assert len(set(MONTH_COLUMNS)) == len(MONTH_COLUMNS)


def test_episode_programme_and_event_records_name_the_model_columns(run: Any) -> None:
    """The other records' columns, and every event the log holds, are named by the schema."""
    output, _ = run
    assert list(output.episodes.columns) == list(EPISODE_COLUMNS)
    assert list(output.ar_programmes.columns) == list(AR_PROGRAMME_COLUMNS)
    assert list(output.events.columns) == list(EVENT_COLUMNS)
    assert set(output.events["event"]) <= set(EVENT_NAMES)


def test_record_tables_are_what_pandas_would_infer_from_the_rows(run: Any) -> None:
    """Each record's table is built as its columns' declared types, to spare pandas inferring
    them; the table must be the one inference gives, so that declaring changes no number."""
    output, _ = run
    for table, record in (
        (output.episodes, records.EPISODE_RECORD),
        (output.ar_programmes, records.AR_PROGRAMME_RECORD),
        (output.events, records.EVENT_RECORD),
    ):
        rows = list(table.itertuples(index=False, name=None))
        inferred = pd.DataFrame(rows, columns=[c.name for c in record])
        pd.testing.assert_frame_equal(records.record_table(rows, record), inferred)
        assert list(table.dtypes) == list(inferred.dtypes)


@given(
    st.lists(
        st.tuples(
            st.integers(-(2**62), 2**62),
            st.text(max_size=5),
            st.booleans(),
            st.floats(allow_nan=True, allow_infinity=True),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_a_declared_table_equals_the_inferred_one_for_any_rows(
    rows: list[tuple[int, str, bool, float]],
) -> None:
    """Whatever the values, a column declared int, text, bool or float holds what inference
    would have made of it, as the same type."""
    record = (
        records.RecordColumn("n", "", "a number", "int"),
        records.RecordColumn("t", "", "a text", "text"),
        records.RecordColumn("b", "", "a flag", "bool"),
        records.RecordColumn("x", "", "a measure", "float"),
    )
    inferred = pd.DataFrame(rows, columns=["n", "t", "b", "x"])
    pd.testing.assert_frame_equal(records.record_table(rows, record), inferred)


def test_an_empty_record_table_still_has_its_columns_types() -> None:
    """A run with no AR programme (no places) still gives a table with the record's columns,
    typed as declared, so that replications' tables stack without turning into objects."""
    table = records.record_table([], records.AR_PROGRAMME_RECORD)
    assert list(table.columns) == list(AR_PROGRAMME_COLUMNS)
    assert len(table) == 0
    assert [str(t) for t in table.dtypes] == ["int64", "int64", "float64", "float64", "int64"]


def test_the_model_returns_the_schemas_record_type(run: Any) -> None:
    """One record type is the output schema: the model returns ``sim.records.ReplicationOutput``."""
    output, _ = run
    assert isinstance(output, records.ReplicationOutput)


def test_catalogue_lists_every_kpi_replication_kpis_returns_in_order(run: Any) -> None:
    """Every KPI of a replication is in the catalogue, in its order, with a label and a unit;
    ``kpi_names`` and ``kpi_unit`` are the catalogue's."""
    _, kpis = run
    assert list(kpis) == [k.name for k in KPIS] == kpi_names()
    for kpi in KPIS:
        assert kpi.label.strip() and kpi.unit.strip(), kpi.name
        assert kpi_unit(kpi.name) == kpi.unit
    assert kpi_unit("no_such_kpi") == ""


@pytest.mark.parametrize("case", CASES)
def test_catalogue_keeps_the_stored_summary_names_units_and_order(case: str) -> None:
    """``summary.csv`` has a unit column: the catalogue must give the stored names and units,
    row for row, or the stored baseline would change."""
    with (STORED / case / "summary.csv").open(encoding="utf-8") as f:
        stored = [(row["kpi"], row["unit"]) for row in csv.DictReader(f)]
    assert stored == [(k.name, k.unit) for k in KPIS]


def test_labels_are_distinct() -> None:
    """Two KPIs (or two month columns) with one label would read as one in the report."""
    assert len({k.label for k in KPIS}) == len(KPIS)
    assert len({c.label for c in MONTH_RECORD}) == len(MONTH_RECORD)


@pytest.mark.parametrize(
    ("kind", "unit", "name", "kpi_unit_", "label"),
    [
        ("flow", "per month", "new_per_year", "per year", "New things per year"),
        ("money", "SEK per month", "new_per_year", "SEK per year", "New things per year"),
        ("hours", "hours per month", "new_per_year", "hours per year", "New things per year"),
        ("stock", "households", "mean_monthly_new", "households", "New things (mean at month end)"),
        ("ratio", "share", "new", "share", "New things"),
    ],
)
def test_a_month_column_gives_its_kpi_by_kind(
    kind: Any, unit: str, name: str, kpi_unit_: str, label: str
) -> None:
    """A new month column needs no KPI entry: its kind gives the KPI's name, unit, label and
    rule (flows and money summed per year, stocks and ratios averaged over months)."""
    kpi = month_kpi(MonthColumn("new", kind, unit, "New things"))
    assert (kpi.name, kpi.unit, kpi.label, kpi.source) == (name, kpi_unit_, label, "new")
    assert kpi.rule == ("per_year" if kind in ("flow", "money", "hours") else "monthly_mean")


@pytest.mark.parametrize("kind", [k for k in MONTH_KINDS if k not in KPI_GROUPS])
def test_meta_average_and_capacity_columns_give_no_kpi(kind: Any) -> None:
    """Only flows, stocks, ratios, money and hours are KPIs; the month KPIs are exactly those
    of the record's columns of these kinds."""
    with pytest.raises(ValueError, match="gives no KPI"):
        month_kpi(MonthColumn("x", kind, "", "X"))
    sources = {k.source for k in MONTH_KPIS}
    assert sources == {c.name for c in MONTH_RECORD if c.kind in KPI_GROUPS}


def test_ranks_and_headline_places_are_each_given_once() -> None:
    """Ranks order the KPIs within their group of ``summary.csv``; headline places order the
    report's headline table. A place given twice would make the order depend on the record."""
    ranked = [(KPI_GROUPS[c.kind], c.rank) for c in MONTH_RECORD if c.rank is not None]
    assert len(set(ranked)) == len(ranked)
    places = sorted(k.headline for k in KPIS if k.headline is not None)
    assert places == list(range(len(HEADLINE)))
    assert HEADLINE[:2] == ("mean_monthly_households", "households_per_year")


def test_vocabulary_columns_follow_the_domain_in_its_order() -> None:
    """Exit-cause, class, barrier and staff columns come from ``sim.domain``'s tuples, and each
    of their values has a label."""

    def named(prefix: str) -> list[str]:
        return [c.name.removeprefix(prefix) for c in MONTH_RECORD if c.name.startswith(prefix)]

    assert named("exits_") == list(EXIT_CAUSES)
    assert named("open_class_") == list(CASE_CLASSES)
    assert named("households_") == list(BARRIERS)
    assert named("staff_in_post_") == [*STAFF_ROLES, "social_workers"]
    assert list(records.EXIT_CAUSE_LABELS) == list(EXIT_CAUSES)
    assert list(records.BARRIER_LABELS) == list(BARRIERS)
    assert list(records.STAFF_ROLE_LABELS) == list(STAFF_ROLES)


def test_summed_columns_state_their_unit_per_month() -> None:
    """A flow, money or hours column is a sum over the month: its unit says so, and its KPI's
    unit says per year."""
    for column in MONTH_RECORD:
        if column.kind in ("flow", "money", "hours"):
            assert column.unit.endswith("per month"), column.name


def test_kpis_chosen_elsewhere_are_in_the_catalogue() -> None:
    """The stopping rule's default KPIs and the forest plot's are selections from the
    catalogue, by its names."""
    from sim.experiments.stopping import DEFAULT_KPIS
    from sim.output.figures import FOREST_KPIS

    names = {k.name for k in KPIS}
    for chosen in (DEFAULT_KPIS, FOREST_KPIS):
        assert set(chosen) <= names, set(chosen) - names
