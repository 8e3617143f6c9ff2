"""The output schema: the one owner of every column name the model writes and every KPI name.

A replication produces records (:class:`ReplicationOutput`): one row per calendar month, per
episode, per AR programme and, on request, per household event. This module names their
columns, says what each month column is (its :data:`MonthKind`), its unit and a label a planner
reads; and it holds the KPI catalogue (:data:`KPIS`), every KPI
:func:`sim.metrics.replication_kpis` returns, in the order ``summary.csv`` lists them.

Most KPIs follow from the month record by the column's kind, so a new month column of kind
``flow`` becomes ``<name>_per_year`` without touching the metrics or the report. The others
(:data:`DERIVED_KPIS`) need episodes or programmes; each is one entry here plus its computation
in :mod:`sim.metrics`. The CSV files keep the stable names; the report shows the labels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd

from .domain import (
    BARRIERS,
    CASE_CLASSES,
    EXIT_CAUSES,
    STAFF_ROLES,
    Barrier,
    ExitCause,
    StaffRole,
)

# --- vocabulary labels ----------------------------------------------------------------------

EXIT_CAUSE_LABELS: dict[ExitCause, str] = {
    "work": "Exits to work",
    "studies": "Exits to studies",
    "other_benefit": "Exits to another benefit",
    "moved": "Exits by moving away",
    "one_time": "Exits after a one-time need",
    "unknown": "Exits for an unknown reason",
}
"""Each exit cause (avslutsorsak) as the planner reads it, for ``exits_<cause>``."""

BARRIER_LABELS: dict[Barrier, str] = {
    "unemployment": "unemployment",
    "social_medical": "social-medical",
    "sick_listed": "sick-listed or insufficient insurance",
    "immigration": "immigration-related",
    "other": "other barrier",
}
"""Each barrier to self-support (försörjningshinder), for ``households_<barrier>``."""

STAFF_ROLE_LABELS: dict[StaffRole, str] = {
    "intake_social_workers": "Intake social workers",
    "ongoing_social_workers": "Ongoing social workers",
    "benefit_administrators": "Benefit administrators",
    "employment_consultants": "Employment consultants",
}
"""Each staff role, for ``staff_in_post_<role>``."""


# --- the month record -----------------------------------------------------------------------

MonthKind = Literal["meta", "flow", "stock", "ratio", "money", "hours", "average", "capacity"]
"""What a month column holds, which decides its KPI:

* ``meta``: identifies the row (month, period, days); no KPI.
* ``flow``: a count of events in the month; KPI ``<name>_per_year`` (sum over the reporting
  period / its years).
* ``stock``: a count at the month's end (``households*``: assisted in the month); KPI
  ``mean_monthly_<name>``.
* ``ratio``: a time-averaged ratio over the month; KPI ``<name>``, its mean over months.
* ``money``, ``hours``: SEK paid and hours worked in the month; KPI ``<name>_per_year``.
* ``average``: a mean over the month (of its events, or of an input path); no KPI of its own
  (``first_visit_wait_days`` enters the derived KPI of that name, weighted by first visits).
* ``capacity``: a limit at the month's end, plotted against the stock it limits; no KPI.
"""
MONTH_KINDS: tuple[MonthKind, ...] = get_args(MonthKind)

KPI_GROUPS: dict[MonthKind, int] = {"flow": 0, "stock": 1, "ratio": 2, "money": 3, "hours": 3}
"""The kinds that give a KPI, and the group each KPI sits in: ``summary.csv`` lists flows, then
stocks, then ratios, then money and hours together, then the derived KPIs."""


@dataclass(frozen=True, slots=True)
class MonthColumn:
    """One column of ``monthly.csv`` as the model writes it.

    ``unit`` is the month's unit ("per month" for counts of events); ``label`` the planner's
    name of the monthly figure. For a column that gives a KPI (kinds in :data:`KPI_GROUPS`):
    ``kpi_label`` replaces the label the kind's rule would make, ``rank`` is the KPI's place in
    its group of ``summary.csv`` (that order predates this schema and differs from the record's;
    a new column may leave it out and comes after the ranked ones, in record order), and
    ``headline`` its place in the report's headline table (None: not there). ``at_most_one``:
    a share of a whole (a delivered share), never above 1, unlike a ratio against a norm (a
    utilisation), which may exceed 1; the reports cut its intervals there.
    """

    name: str
    kind: MonthKind
    unit: str
    label: str
    kpi_label: str = ""
    rank: int | None = None
    headline: int | None = None
    at_most_one: bool = False


def _flow(name: str, label: str, *, rank: int, headline: int | None = None) -> MonthColumn:
    return MonthColumn(name, "flow", "per month", label, rank=rank, headline=headline)


def _stock(
    name: str,
    unit: str,
    label: str,
    *,
    rank: int,
    kpi_label: str = "",
    headline: int | None = None,
) -> MonthColumn:
    return MonthColumn(name, "stock", unit, label, kpi_label, rank, headline)


MONTH_RECORD: tuple[MonthColumn, ...] = (
    MonthColumn("month", "meta", "", "Month (YYYY-MM)"),
    MonthColumn("period", "meta", "", "Warm-up or reporting period"),
    MonthColumn("days", "meta", "days", "Days in the month"),
    _stock(
        "households",
        "households",
        "Households receiving assistance",
        rank=0,
        kpi_label="Households per month",
        headline=0,
    ),
    _flow("cases_opened", "Cases opened", rank=5, headline=2),
    _flow("cases_closed", "Cases closed", rank=8, headline=3),
    *(
        _flow(
            f"exits_{cause}",
            EXIT_CAUSE_LABELS[cause],
            rank=9 + i,
            headline=4 if cause == "work" else None,
        )
        for i, cause in enumerate(EXIT_CAUSES)
    ),
    *(
        _stock(f"open_class_{k}", "households", f"Open cases in class {k.upper()}", rank=1 + i)
        for i, k in enumerate(CASE_CLASSES)
    ),
    _stock(
        "waiting_for_class",
        "households",
        "Cases not in their assessed class",
        rank=4,
        headline=8,
    ),
    _stock("without_handler", "households", "Cases without a handler", rank=5),
    _stock("in_intake", "households", "Cases at intake or in transfer", rank=6),
    _flow("first_visits", "First visits", rank=4),
    MonthColumn("first_visit_wait_days", "average", "days", "Mean wait from booking to visit"),
    _flow("contacts", "Contacts with intake", rank=0),
    _flow("returns", "Returns of former households", rank=15),
    _flow("booked", "Households booked for a first visit", rank=1),
    _flow("dropped_out", "Drop-outs before the first visit", rank=2),
    MonthColumn(
        "waiting_for_first_visit",
        "stock",
        "households",
        "Booked households waiting for a first visit",
    ),
    _flow("rejected", "Applications rejected", rank=3),
    _flow("transferred", "Cases transferred to the ongoing unit", rank=6),
    _flow("jobcentre_referrals", "Referrals to the jobcentre", rank=7),
    MonthColumn(
        "caseload_per_social_worker",
        "ratio",
        "cases per social worker",
        "Cases carried per ongoing social worker",
        rank=0,
        headline=6,
    ),
    MonthColumn(
        "social_worker_utilisation",
        "ratio",
        "share",
        "Social worker load against the caseload norm (above 1: above the norm)",
        rank=1,
    ),
    MonthColumn(
        "administrator_utilisation",
        "ratio",
        "share",
        "Benefit administrators' C cases against their norm (above 1: above the norm)",
        rank=2,
    ),
    MonthColumn(
        "intake_utilisation",
        "ratio",
        "share",
        "Intake social worker utilisation (busy share)",
        rank=3,
        at_most_one=True,  # busy time of available time: an interval stops at 1
    ),
    _stock(
        "cases_above_norm",
        "cases",
        "Cases social workers carry above the caseload norm (weighted), month end",
        rank=20,
        kpi_label="Cases carried above the caseload norm (weighted; mean at month end)",
    ),
    MonthColumn(
        "handovers",
        "flow",
        "per month",
        "Hand-overs (cases that changed handler)",
        kpi_label="Hand-overs (cases that changed handler) per year",
        rank=16,
    ),
    MonthColumn(
        "social_worker_hours_available",
        "hours",
        "hours per month",
        "Ongoing social worker hours available for cases",
    ),
    MonthColumn(
        "social_worker_hours_needed",
        "hours",
        "hours per month",
        "Ongoing social worker hours the cases need (plans, events)",
    ),
    MonthColumn(
        "social_worker_hours_delivered",
        "hours",
        "hours per month",
        "Ongoing social worker case hours delivered",
    ),
    *(
        MonthColumn(
            f"delivered_share_{k}",
            "ratio",
            "share",
            f"Share of {k.upper()} cases' planned {'handling' if k == 'c' else 'contact'} "
            "delivered",
            headline=7 if k == "b" else None,
            at_most_one=True,
        )
        for k in CASE_CLASSES
    ),
    *(
        MonthColumn(
            f"follow_ups_{k}",
            "flow",
            "per month",
            f"Follow-ups delivered, class {k.upper()}",
            kpi_label=f"Follow-ups delivered per year, class {k.upper()}",
            rank=17 + i,
        )
        for i, k in enumerate(CASE_CLASSES)
    ),
    MonthColumn(
        "administrator_hours_available",
        "hours",
        "hours per month",
        "Benefit administrator hours available for cases",
    ),
    MonthColumn(
        "administrator_hours_needed",
        "hours",
        "hours per month",
        "Benefit administrator hours the cases need (C cases, assisting on B)",
    ),
    MonthColumn(
        "administrator_hours_delivered",
        "hours",
        "hours per month",
        "Benefit administrator case hours delivered",
    ),
    MonthColumn(
        "delivered_share_administrators",
        "ratio",
        "share",
        "Share of the administrators' needed hours delivered",
        at_most_one=True,
    ),
    _stock("ar_team_in_programme", "households", "Households in the AR programme", rank=7),
    _stock("ar_team_waiting", "households", "Households waiting for the AR team", rank=8),
    MonthColumn("ar_team_capacity", "capacity", "places", "AR team staffed capacity"),
    *(
        _stock(
            f"staff_in_post_{role}",
            "staff in post",
            f"{STAFF_ROLE_LABELS[role]} in post",
            rank=10 + i,
        )
        for i, role in enumerate(STAFF_ROLES)
    ),
    _stock("staff_in_post_social_workers", "staff in post", "Social workers in post", rank=9),
    MonthColumn(
        "assistance_paid_sek",
        "money",
        "SEK per month",
        "Assistance paid",
        kpi_label="Assistance paid per year (SEK)",
        rank=0,
        headline=14,
    ),
    MonthColumn(
        "staff_cost_sek",
        "money",
        "SEK per month",
        "Staff cost",
        kpi_label="Staff cost per year (SEK)",
        rank=1,
        headline=15,
    ),
    MonthColumn("unemployment_percent", "average", "percent", "Unemployment rate"),
    *(
        _stock(
            f"households_{b}",
            "households",
            f"Households, {BARRIER_LABELS[b]}",
            rank=14 + i,
            kpi_label=f"Households per month, {BARRIER_LABELS[b]}",
        )
        for i, b in enumerate(BARRIERS)
    ),
)
"""Every column the model writes to a month row, in the order it writes them. The results add
``replication`` (:data:`REPLICATION`) in front."""

MONTH_COLUMNS: tuple[str, ...] = tuple(c.name for c in MONTH_RECORD)
"""The month record's column names, in order (without ``replication``)."""

MONTH: dict[str, MonthColumn] = {c.name: c for c in MONTH_RECORD}
"""The month columns by name."""

REPLICATION = "replication"
"""The column the results put first in ``monthly.csv`` and in the per-replication KPIs."""

UNCERTAINTY_FILE = "uncertainty.csv"
"""A run over posterior draws (``run --posterior``, each scenario of ``compare --posterior``):
the spread of each KPI and its variance split, in the results folder."""


# --- the other records ----------------------------------------------------------------------


ColumnValue = Literal["int", "float", "bool", "text"]
"""What a record column holds: its table column is built as that type."""


@dataclass(frozen=True, slots=True)
class RecordColumn:
    """One column of the episode, AR-programme or event record."""

    name: str
    unit: str
    label: str
    value: ColumnValue


EPISODE_RECORD: tuple[RecordColumn, ...] = (
    RecordColumn("household", "", "Household number", "int"),
    RecordColumn("episode", "", "Episode of the household (0, 1, ... on each return)", "int"),
    RecordColumn("barrier", "", "Barrier to self-support", "text"),
    RecordColumn("district", "", "District of the household", "int"),
    RecordColumn("young", "", "Applicant under 25", "bool"),
    RecordColumn("children", "", "Household with children", "bool"),
    RecordColumn("start_day", "day", "Day assistance was granted", "float"),
    RecordColumn("end_day", "day", "Day the case closed (empty: open at the end)", "float"),
    RecordColumn("cause", "", "Exit cause (empty: open at the end)", "text"),
    RecordColumn("via_ar_team", "", "Closed by a successful AR programme", "bool"),
    RecordColumn("need_class", "", "Assessed class of need", "text"),
)
"""One row per episode of assistance, closed or open at the end, in column order."""

AR_PROGRAMME_RECORD: tuple[RecordColumn, ...] = (
    RecordColumn("household", "", "Household number", "int"),
    RecordColumn("episode", "", "Episode of the household", "int"),
    RecordColumn("start_day", "day", "Day the programme started", "float"),
    RecordColumn("end_day", "day", "Day it ended (empty: in the programme at the end)", "float"),
    RecordColumn(
        "success", "", "1 if it ended in success (the case closes: work, other benefit)", "int"
    ),
)
"""One row per AR-team programme, ended or running at the end, in column order."""

EVENT_RECORD: tuple[RecordColumn, ...] = (
    RecordColumn("day", "day", "Day of the event", "float"),
    RecordColumn("household", "", "Household number", "int"),
    RecordColumn("episode", "", "Episode of the household", "int"),
    RecordColumn("event", "", "What happened (one of EVENT_NAMES)", "text"),
    RecordColumn("detail", "", "Barrier, class, cause or wait, by event", "text"),
)
"""One row per household event (with ``events=True`` only), in column order."""

EPISODE_COLUMNS: tuple[str, ...] = tuple(c.name for c in EPISODE_RECORD)
AR_PROGRAMME_COLUMNS: tuple[str, ...] = tuple(c.name for c in AR_PROGRAMME_RECORD)
EVENT_COLUMNS: tuple[str, ...] = tuple(c.name for c in EVENT_RECORD)

_NUMPY_TYPES = {"int": np.int64, "float": np.float64, "bool": np.bool_}


@cache
def _text_type() -> Any:
    """The type pandas gives a column of strings (``str`` from pandas 3, ``object`` before)."""
    return pd.Series(["text"]).dtype


def record_table(rows: Sequence[tuple[Any, ...]], record: tuple[RecordColumn, ...]) -> pd.DataFrame:
    """A record's rows as a table, each column built as the type the record declares.

    The same table as ``pd.DataFrame(rows, columns=...)`` infers, in about 40 % of the time
    (pandas inferring the types of a 10-year run's 6 300 episodes took 9 ms of its 130).
    """
    table: dict[str, Any] = {}
    columns = zip(*rows, strict=True) if rows else [()] * len(record)  # none: typed, empty
    for column, values in zip(record, columns, strict=True):
        if column.value == "text":
            table[column.name] = pd.array(values, dtype=_text_type())
        else:
            table[column.name] = np.array(values, dtype=_NUMPY_TYPES[column.value])
    return pd.DataFrame(table, copy=False)


EventName = Literal[
    "booked",
    "first_visit",
    "dropped_out",
    "rejected",
    "granted",
    "need",
    "held",
    "jobcentre_referral",
    "ar_referral",
    "ar_start",
    "ar_paused",
    "ar_end",
    "exit",
    "returned",
]
"""The ``event`` values of the event record."""
EVENT_NAMES: tuple[EventName, ...] = get_args(EventName)


@dataclass
class ReplicationOutput:
    """Event records of one replication: months, episodes, AR programmes."""

    monthly: pd.DataFrame
    episodes: pd.DataFrame
    ar_programmes: pd.DataFrame
    events: pd.DataFrame | None = None


# --- the KPI catalogue ----------------------------------------------------------------------

KpiRule = Literal["per_year", "monthly_mean", "derived"]
"""How a KPI is computed: a month column's sum over the reporting period per year, its mean
over the period's months, or a computation of its own in :mod:`sim.metrics`."""


@dataclass(frozen=True, slots=True)
class Kpi:
    """One KPI: its stable name (``summary.csv``), unit, the planner's label and how it is had.

    ``source`` is the month column of a ``per_year`` or ``monthly_mean`` KPI ("" if derived);
    ``headline`` its place in the report's headline table (None: not there); ``at_most_one``
    as its month column's (:class:`MonthColumn`).
    """

    name: str
    unit: str
    label: str
    rule: KpiRule = "derived"
    source: str = ""
    headline: int | None = None
    at_most_one: bool = False


def month_kpi(column: MonthColumn) -> Kpi:
    """The KPI a month column of a KPI kind gives: name, unit and label by the kind's rule."""
    if column.kind in ("flow", "money", "hours"):
        unit = column.unit.removesuffix("per month") + "per year"
        label = column.kpi_label or f"{column.label} per year"
        return Kpi(f"{column.name}_per_year", unit, label, "per_year", column.name, column.headline)
    if column.kind == "stock":
        label = column.kpi_label or f"{column.label} (mean at month end)"
        return Kpi(
            f"mean_monthly_{column.name}",
            column.unit,
            label,
            "monthly_mean",
            column.name,
            column.headline,
        )
    if column.kind == "ratio":
        label = column.kpi_label or column.label
        return Kpi(
            column.name,
            column.unit,
            label,
            "monthly_mean",
            column.name,
            column.headline,
            column.at_most_one,
        )
    raise ValueError(f"month column {column.name!r} of kind {column.kind!r} gives no KPI")


def _summary_order(indexed: tuple[int, MonthColumn]) -> tuple[int, bool, int, int]:
    i, column = indexed
    return (KPI_GROUPS[column.kind], column.rank is None, column.rank or 0, i)


MONTH_KPIS: tuple[Kpi, ...] = tuple(
    month_kpi(c)
    for _, c in sorted(
        ((i, c) for i, c in enumerate(MONTH_RECORD) if c.kind in KPI_GROUPS), key=_summary_order
    )
)
"""The KPIs of the month record's flow, stock, ratio, money and hours columns, in
``summary.csv`` order."""

DERIVED_KPIS: tuple[Kpi, ...] = (
    Kpi("first_visit_wait_days", "days", "First-visit wait (days)", headline=5),
    Kpi("households_per_year", "per year", "Households assisted per year", headline=1),
    Kpi(
        "share_long_term_10_of_12",
        "share",
        "Share long-term (10-12 months of the year)",
        headline=9,
    ),
    Kpi("share_over_12_months", "share", "Share with an episode over 12 months", headline=10),
    Kpi("share_households_unemployment", "share", "Share of households: unemployment"),
    Kpi("share_households_social_medical", "share", "Share of households: social-medical"),
    Kpi("share_households_sick_listed", "share", "Share of households: sick-listed"),
    # of the episodes that closed, not of those that began: when more short episodes start (a
    # shock) it can fall while the entrants stay longer, so the label says which it is
    Kpi(
        "mean_episode_months",
        "months",
        "Mean length of episodes closed in the period (months)",
        headline=11,
    ),
    Kpi("recurrence_24_months", "share", "Share returning within 24 months", headline=12),
    Kpi("ar_team_success_share", "share", "AR programme success share", headline=13),
    Kpi("ar_team_participants_per_year", "per year", "AR team participants per year"),
    Kpi(
        "ar_success_months_on_assistance",
        "months",
        "Months on assistance of AR team successes (mean)",
    ),
    Kpi(
        "ar_success_recurrence_24_months",
        "share",
        "Share of AR team successes back within 24 months",
    ),
    Kpi("cost_per_exit_to_work_sek", "SEK", "Cost per exit to work (SEK)", headline=16),
)
"""The KPIs computed from more than one month column, or from episodes and programmes (see
:func:`sim.metrics.replication_kpis` for each definition), in ``summary.csv`` order."""

KPIS: tuple[Kpi, ...] = (*MONTH_KPIS, *DERIVED_KPIS)
"""Every KPI :func:`sim.metrics.replication_kpis` returns, in its order."""

KPI: dict[str, Kpi] = {k.name: k for k in KPIS}

_WHOLE_YEAR = "counted per whole calendar year: none in the reported period"
NO_VALUE: dict[str, str] = {
    "first_visit_wait_days": "no first visit in the reported period",
    "recurrence_24_months": "needs episodes closed 24 months before the end: over two years",
    "ar_success_recurrence_24_months": "needs AR successes 24 months before the end",
    "households_per_year": _WHOLE_YEAR,
    "share_long_term_10_of_12": _WHOLE_YEAR,
    "share_over_12_months": _WHOLE_YEAR,
    "ar_team_participants_per_year": _WHOLE_YEAR,
    "ar_team_success_share": "no one in the AR programme in a whole calendar year",
    "mean_episode_months": "no episode closed in the reported period",
    "cost_per_exit_to_work_sek": "no exit to work in the reported period",
    "ar_success_months_on_assistance": "no AR programme succeeded in the reported period",
}
"""Why a KPI can have no value in a run (a mean that is NaN), as the reports say it."""

"""The KPIs by name."""

HEADLINE: tuple[str, ...] = tuple(
    name for _, name in sorted((k.headline, k.name) for k in KPIS if k.headline is not None)
)
"""The report's headline KPIs, in the order of its table."""

STAFF_TIME: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        STAFF_ROLE_LABELS["ongoing_social_workers"],
        (
            "social_worker_hours_available_per_year",
            "social_worker_hours_needed_per_year",
            "social_worker_hours_delivered_per_year",
            "caseload_per_social_worker",
            "social_worker_utilisation",
            "mean_monthly_cases_above_norm",
        ),
    ),
    (
        STAFF_ROLE_LABELS["benefit_administrators"],
        (
            "administrator_hours_available_per_year",
            "administrator_hours_needed_per_year",
            "administrator_hours_delivered_per_year",
            "delivered_share_administrators",
            "administrator_utilisation",
        ),
    ),
    (
        "Contact delivered by class (every handler)",
        (
            *(f"delivered_share_{k}" for k in CASE_CLASSES),
            *(f"follow_ups_{k}_per_year" for k in CASE_CLASSES),
        ),
    ),
    ("Hand-overs", ("handovers_per_year",)),
)
"""The report's staff-time table: groups (a heading and its KPIs, in the table's order)."""

AR_TEAM: tuple[str, tuple[str, ...]] = (
    "AR team (rehabilitation): its places and who waits for them",
    (
        "ar_team_participants_per_year",
        "mean_monthly_ar_team_in_programme",
        "mean_monthly_ar_team_waiting",
        "ar_team_success_share",
    ),
)
"""The AR team's rows under the reports' headline KPIs: how many take part, are in the
programme and wait at a month's end (capacity shows in the waiting list), and its success."""

STAFF_TIME_KPIS: tuple[str, ...] = tuple(kpi for _, kpis in STAFF_TIME for kpi in kpis)
"""The staff-time table's KPIs, in its order."""


def kpi_label(name: str) -> str:
    """The planner's label of a KPI; an unknown name (an older results folder) as it is."""
    kpi = KPI.get(name)
    return kpi.label if kpi else name


def column_label(name: str) -> str:
    """The planner's label of a month column; an unknown name as it is."""
    column = MONTH.get(name)
    return column.label if column else name
