"""Metrics: from a replication's event records to KPIs, and from replications to intervals.

Only months of the reporting period count (warm-up months are excluded). Flows become
``<name>_per_year``, stocks ``mean_monthly_<name>``; the derived KPIs are defined where computed.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import pandas as pd
from scipy import stats

from .domain import DAYS_PER_MONTH, DAYS_PER_YEAR
from .model.caseload import ReplicationOutput

FLOW_COLUMNS = (
    "contacts",
    "booked",
    "dropped_out",
    "rejected",
    "first_visits",
    "cases_opened",
    "transferred",
    "jobcentre_referrals",
    "cases_closed",
    "exits_work",
    "exits_studies",
    "exits_other_benefit",
    "exits_moved",
    "exits_one_time",
    "exits_unknown",
    "returns",
)
STOCK_COLUMNS = (
    "households",
    "open_class_a",
    "open_class_b",
    "open_class_c",
    "waiting_for_class",
    "without_handler",
    "in_intake",
    "ar_team_in_programme",
    "ar_team_waiting",
    "staff_in_post_social_workers",
    "staff_in_post_intake_social_workers",
    "staff_in_post_ongoing_social_workers",
    "staff_in_post_benefit_administrators",
    "staff_in_post_employment_consultants",
    "households_unemployment",
    "households_social_medical",
    "households_sick_listed",
    "households_immigration",
    "households_other",
)
RATIO_COLUMNS = (
    "caseload_per_social_worker",
    "social_worker_utilisation",
    "administrator_utilisation",
    "intake_utilisation",
)
MONEY_COLUMNS = ("assistance_paid_sek", "staff_cost_sek")
HOURS_COLUMNS = ("social_worker_hours", "administrator_hours")


def _full_years(first_day: date, start: float, end: float) -> list[tuple[int, float, float]]:
    """Calendar years wholly inside [start, end) in day numbers: (year, first day, last day)."""
    years = []
    year = (first_day + timedelta(days=math.ceil(start))).year
    while True:
        ys = float((date(year, 1, 1) - first_day).days)
        ye = float((date(year + 1, 1, 1) - first_day).days)
        if ye > end + 1e-9:
            break
        if ys >= start - 1e-9:
            years.append((year, ys, ye))
        year += 1
    return years


def _month_index(first_day: date, day: np.ndarray) -> np.ndarray:
    """Calendar month number (year * 12 + month - 1) of simulated days."""
    dates = np.datetime64(first_day, "D") + np.floor(day).astype(np.int64)
    # months since January 1970, shifted to year * 12 + month - 1
    return np.asarray(dates.astype("datetime64[M]").astype(np.int64) + 1970 * 12)


_MONTHS_SET = np.array([bin(i).count("1") for i in range(1 << 12)])  # months in a 12-bit mask


def household_year_kpis(
    episodes: pd.DataFrame, first_day: date, start: float, end: float
) -> dict[str, float]:
    """KPIs that need each household's months on assistance within whole calendar years.

    * ``households_per_year``: households with assistance in at least one month of the year.
    * ``share_long_term_10_of_12``: of those, the share with assistance in 10-12 of the year's
      months (the national definition of long-term assistance, Socialstyrelsen).
    * ``share_over_12_months``: of those, the share whose episode had lasted over 12 months by its
      end or the year's end (the seeds' "more than one year", e.g. Vantör 2005).
    """
    years = _full_years(first_day, start, end)
    no_figures = {
        "households_per_year": math.nan,
        "share_long_term_10_of_12": math.nan,
        "share_over_12_months": math.nan,
    }
    if not years or episodes.empty:
        return no_figures
    s = episodes["start_day"].to_numpy(float)
    e = episodes["end_day"].to_numpy(float)
    e = np.where(np.isnan(e), end, e)
    hh = episodes["household"].to_numpy()
    counts, long_shares, over12 = [], [], []
    for _year, ys, ye in years:
        mask = (s < ye) & (e > ys)
        if not mask.any():
            continue
        # each episode's months of the year as a 12-bit mask (bit m: calendar month m + 1)
        first_m = _month_index(first_day, np.maximum(s[mask], ys))
        last_m = _month_index(first_day, np.minimum(e[mask], ye) - 1e-6)
        n_months = np.maximum(last_m - first_m + 1, 0)  # 0: ends within a rounding of ys
        bits = ((np.int64(1) << n_months) - 1) << (first_m % 12)
        # households: OR of their episodes' months, longest episode so far by the year's end
        households, which = np.unique(hh[mask], return_inverse=True)
        months = np.zeros(households.size, dtype=np.int64)
        np.bitwise_or.at(months, which, bits)
        longest = np.zeros(households.size)
        np.maximum.at(longest, which, np.minimum(e[mask], ye) - s[mask])
        n = households.size
        counts.append(n)
        long_shares.append(int(np.count_nonzero(_MONTHS_SET[months] >= 10)) / n)
        over12.append(int(np.count_nonzero(longest > DAYS_PER_YEAR)) / n)
    if not counts:  # no episode in any of the years
        return no_figures
    return {
        "households_per_year": float(np.mean(counts)),
        "share_long_term_10_of_12": float(np.mean(long_shares)),
        "share_over_12_months": float(np.mean(over12)),
    }


def episode_kpis(episodes: pd.DataFrame, start: float, end: float) -> dict[str, float]:
    """``mean_episode_months`` of episodes closed in the period and ``recurrence_24_months``:
    of episodes closed at least 24 months before the end, the share whose household opened
    a new episode within 24 months."""
    # only the numeric columns: filtering the text columns costs more than all the rest
    episodes = episodes[["household", "episode", "start_day", "end_day"]]
    closed = episodes[(episodes["end_day"] >= start) & (episodes["end_day"] < end)]
    mean_months = (
        float(((closed["end_day"] - closed["start_day"]) / DAYS_PER_MONTH).mean())
        if len(closed)
        else math.nan
    )
    horizon = 24 * DAYS_PER_MONTH
    eligible = closed[closed["end_day"] <= end - horizon]
    if len(eligible):
        nxt = episodes[["household", "episode", "start_day"]].copy()
        nxt["episode"] -= 1
        merged = eligible.merge(
            nxt.rename(columns={"start_day": "next_start"}), on=["household", "episode"], how="left"
        )
        back = (merged["next_start"] - merged["end_day"]) <= horizon
        recurrence = float(back.mean())
    else:
        recurrence = math.nan
    return {"mean_episode_months": mean_months, "recurrence_24_months": recurrence}


def ar_kpis(ar: pd.DataFrame, start: float, end: float) -> dict[str, float]:
    """``ar_team_success_share``: programmes ended successfully in the period over persons in
    the programme at any time of the period (seed 004: 23 of 60 active in 2015)."""
    if ar.empty:
        return {"ar_team_success_share": math.nan, "ar_team_participants_per_year": 0.0}
    ends = ar["end_day"].fillna(np.inf)
    active = ar[(ar["start_day"] < end) & (ends >= start)]
    success = active[(active["success"] == 1) & (active["end_day"] < end)]
    years = (end - start) / DAYS_PER_YEAR
    return {
        "ar_team_success_share": len(success) / len(active) if len(active) else math.nan,
        "ar_team_participants_per_year": len(active) / years,
    }


def replication_kpis(
    output: ReplicationOutput, first_day: date, report_from: float, end: float
) -> dict[str, float]:
    """All KPIs of one replication over the reporting period."""
    monthly = output.monthly[output.monthly["period"] == "run"]
    years = monthly["days"].sum() / DAYS_PER_YEAR
    kpis: dict[str, float] = {}
    for col in FLOW_COLUMNS:
        kpis[f"{col}_per_year"] = float(monthly[col].sum() / years)
    for col in STOCK_COLUMNS:
        kpis[f"mean_monthly_{col}"] = float(monthly[col].mean())
    for col in RATIO_COLUMNS:
        kpis[col] = float(monthly[col].mean())
    for col in (*MONEY_COLUMNS, *HOURS_COLUMNS):
        kpis[f"{col}_per_year"] = float(monthly[col].sum() / years)
    visits = monthly["first_visits"].sum()
    kpis["first_visit_wait_days"] = (
        float((monthly["first_visit_wait_days"].fillna(0) * monthly["first_visits"]).sum() / visits)
        if visits
        else math.nan
    )
    kpis.update(household_year_kpis(output.episodes, first_day, report_from, end))
    kpis.update(episode_kpis(output.episodes, report_from, end))
    kpis.update(ar_kpis(output.ar_programmes, report_from, end))
    exits_work = monthly["exits_work"].sum()
    total_cost = monthly["assistance_paid_sek"].sum() + monthly["staff_cost_sek"].sum()
    kpis["cost_per_exit_to_work_sek"] = float(total_cost / exits_work) if exits_work else math.nan
    return kpis


DERIVED_KPIS = (
    "first_visit_wait_days",
    "households_per_year",
    "share_long_term_10_of_12",
    "share_over_12_months",
    "mean_episode_months",
    "recurrence_24_months",
    "ar_team_success_share",
    "ar_team_participants_per_year",
    "cost_per_exit_to_work_sek",
)


def kpi_names() -> list[str]:
    """Every KPI ``replication_kpis`` gives, in its order (for validating user choices)."""
    return [
        *(f"{c}_per_year" for c in FLOW_COLUMNS),
        *(f"mean_monthly_{c}" for c in STOCK_COLUMNS),
        *RATIO_COLUMNS,
        *(f"{c}_per_year" for c in (*MONEY_COLUMNS, *HOURS_COLUMNS)),
        *DERIVED_KPIS,
    ]


def kpi_unit(kpi: str) -> str:
    if kpi.endswith("_sek_per_year"):
        return "SEK per year"
    if kpi.endswith("_sek"):
        return "SEK"
    if kpi.endswith("_hours_per_year"):
        return "hours per year"
    if kpi.endswith("_per_year"):
        return "per year"
    if kpi.startswith(("share_", "recurrence_")) or kpi.endswith(("_share", "_utilisation")):
        return "share"
    if kpi.endswith("_days"):
        return "days"
    if kpi.endswith("_months"):
        return "months"
    if kpi.startswith("mean_monthly_staff"):
        return "staff in post"
    if kpi.startswith("mean_monthly_"):
        return "households"
    if kpi == "caseload_per_social_worker":
        return "cases per social worker"
    return ""


def confidence_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and Student-t interval over replications (NaN interval with fewer than two)."""
    values = values[~np.isnan(values)]
    n = len(values)
    if n == 0:
        return math.nan, math.nan, math.nan
    mean = float(values.mean())
    if n < 2:
        return mean, math.nan, math.nan
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * values.std(ddof=1) / math.sqrt(n))
    return mean, mean - half, mean + half


def summarise(per_replication: pd.DataFrame) -> pd.DataFrame:
    """``kpi, mean, ci_low, ci_high, unit, replications`` from one row per replication."""
    rows = []
    for kpi in per_replication.columns.drop("replication"):
        values = per_replication[kpi].to_numpy(float)
        mean, low, high = confidence_interval(values)
        rows.append(
            {
                "kpi": kpi,
                "mean": mean,
                "ci_low": low,
                "ci_high": high,
                "unit": kpi_unit(kpi),
                "replications": int((~np.isnan(values)).sum()),
            }
        )
    return pd.DataFrame(rows)
