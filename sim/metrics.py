"""Metrics: from a replication's event records to KPIs, and from replications to intervals.

Only months of the reporting period count (warm-up months are excluded). Which KPIs there are,
their names, units and order, is the catalogue's (:data:`sim.records.KPIS`): month columns give
theirs by kind (flows ``<name>_per_year``, stocks ``mean_monthly_<name>``); the derived KPIs are
computed here, each defined where computed.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Final

import numpy as np
import pandas as pd
from scipy import special  # stdtrit is what stats.t.ppf calls, without scipy.stats

from .domain import DAYS_PER_MONTH, DAYS_PER_YEAR, EXIT_CAUSES
from .records import KPI, KPIS, REPLICATION, ReplicationOutput

YEAR_SHORT_DAYS: Final = 1.0
"""How far short of a calendar year's end a run may stop and still count that year as whole.
A horizon is 365.25-day years rounded to whole days, so a run of whole years may stop one day
before a calendar year ends (two years from 2015-01-01 end with 2016-12-30, one year from
2016-01-01 with 2016-12-30, a leap year); leaving that year out would drop it from every
per-calendar-year figure, for the households of a single day."""


def _full_years(first_day: date, start: float, end: float) -> list[tuple[int, float, float]]:
    """Calendar years inside [start, end) in day numbers: (year, first day, day after its last),
    a year whose end the run misses by less than :data:`YEAR_SHORT_DAYS` included, cut at
    ``end``."""
    years = []
    year = (first_day + timedelta(days=math.ceil(start))).year
    while True:
        ys = float((date(year, 1, 1) - first_day).days)
        ye = float((date(year + 1, 1, 1) - first_day).days)
        if ye > end + YEAR_SHORT_DAYS + 1e-9:
            break
        if ys >= start - 1e-9:
            years.append((year, ys, min(ye, end)))
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


class _Episodes:
    """The numeric columns of an episode table as arrays (open episodes end at NaN), in the
    order of (household, episode), with a lookup of each household's next episode: the episode
    KPIs work on these, not on pandas frames (a merge and a group-by per replication cost more
    than the rest of its KPIs)."""

    def __init__(self, episodes: pd.DataFrame) -> None:
        household = episodes["household"].to_numpy(np.int64)
        episode = episodes["episode"].to_numpy(np.int64)
        stride = int(episode.max()) + 2 if len(episode) else 1
        keys = household * stride + episode  # unique: one row per household and episode
        order = np.argsort(keys)
        self.order = order  # row i here is row order[i] of the table
        self.keys = keys[order]
        self.stride = stride
        self.household = household[order]
        self.episode = episode[order]
        self.start = episodes["start_day"].to_numpy(float)[order]
        # all open: a column of None
        self.end = pd.to_numeric(episodes["end_day"], errors="coerce").to_numpy(float)[order]
        self.via_ar_team = episodes["via_ar_team"].to_numpy(bool)[order]

    def next_start(self, rows: np.ndarray) -> np.ndarray:
        """The start day of the household's next episode after each of ``rows`` (NaN: none)."""
        at = np.searchsorted(self.keys, self.keys[rows] + 1)
        inside = at < len(self.keys)
        found = np.zeros(len(rows), dtype=bool)
        found[inside] = self.keys[at[inside]] == self.keys[rows[inside]] + 1
        out = np.full(len(rows), np.nan)
        out[found] = self.start[at[found]]
        return out

    def closed_in(self, start: float, end: float) -> np.ndarray:
        """Rows of the episodes closed in [start, end) (open ones are not), in order."""
        with np.errstate(invalid="ignore"):
            return np.flatnonzero((self.end >= start) & (self.end < end))

    def months_so_far(self, rows: np.ndarray) -> np.ndarray:
        """Each row's household's months on assistance by the row's end, its episodes up to
        that one added in order with a compensated (Kahan) sum, as pandas' group-wise cumsum
        does (the same figures to the last bit); an open episode, NaN, adds nothing."""
        length = (self.end - self.start) / DAYS_PER_MONTH
        first = np.searchsorted(self.household, self.household[rows], side="left")
        depth = rows - first + 1
        total = np.zeros(len(rows))
        compensation = np.zeros(len(rows))
        for k in range(int(depth.max()) if len(rows) else 0):
            which = np.flatnonzero(k < depth)
            value = length[first[which] + k]
            counted = ~np.isnan(value)
            which, value = which[counted], value[counted]
            step = value - compensation[which]
            added = total[which] + step
            compensation[which] = (added - total[which]) - step
            total[which] = added
        return total


def episode_kpis(episodes: pd.DataFrame, start: float, end: float) -> dict[str, float]:
    """``mean_episode_months`` of episodes closed in the period and ``recurrence_24_months``:
    of episodes closed at least 24 months before the end, the share whose household opened
    a new episode within 24 months."""
    return _episode_kpis(_Episodes(episodes), start, end)


def _episode_kpis(table: _Episodes, start: float, end: float) -> dict[str, float]:
    closed = table.closed_in(start, end)
    as_recorded = closed[np.argsort(table.order[closed])]  # summed in the table's order
    mean_months = (
        float(np.mean((table.end[as_recorded] - table.start[as_recorded]) / DAYS_PER_MONTH))
        if len(closed)
        else math.nan
    )
    recurrence = _returned_within_24_months(table, closed, end)
    return {"mean_episode_months": mean_months, "recurrence_24_months": recurrence}


def _returned_within_24_months(table: _Episodes, closed: np.ndarray, end: float) -> float:
    """Of the ``closed`` episodes (rows of ``table``) that ended at least 24 months before
    ``end``, the share whose household opened its next episode within 24 months; NaN if none."""
    horizon = 24 * DAYS_PER_MONTH
    eligible = closed[table.end[closed] <= end - horizon]
    if not len(eligible):
        return math.nan
    gap = table.next_start(eligible) - table.end[eligible]
    with np.errstate(invalid="ignore"):  # NaN: no next episode
        return int(np.count_nonzero(gap <= horizon)) / len(eligible)


def ar_leaver_kpis(episodes: pd.DataFrame, start: float, end: float) -> dict[str, float]:
    """What happened to the households the AR team helped off assistance (seed 004 follows
    them up): of the episodes closed by a successful programme in the period,

    * ``ar_success_months_on_assistance``: the household's months on assistance by then, all
      its episodes counted (its first one from before the run included: an opening case
      starts at its elapsed time);
    * ``ar_success_recurrence_24_months``: of those closed at least 24 months before the end,
      the share whose household opened a new episode within 24 months.
    """
    return _ar_leaver_kpis(_Episodes(episodes), start, end)


def _ar_leaver_kpis(table: _Episodes, start: float, end: float) -> dict[str, float]:
    closed = table.closed_in(start, end)
    closed = closed[table.via_ar_team[closed]]
    months = float(np.mean(table.months_so_far(closed))) if len(closed) else math.nan
    return {
        "ar_success_months_on_assistance": months,
        "ar_success_recurrence_24_months": _returned_within_24_months(table, closed, end),
    }


def ar_kpis(ar: pd.DataFrame, first_day: date, start: float, end: float) -> dict[str, float]:
    """The AR team's figures per calendar year of the period (as seed 004 reports them for
    2015), whole calendar years only, as :func:`household_year_kpis`:

    * ``ar_team_participants_per_year``: persons in the programme at some time of the year,
      averaged over the years;
    * ``ar_team_success_share``: programmes ended successfully within a year over the persons
      in the programme at some time of that year, pooled over the years (seed 004: 23 of 60).

    Counted over the whole period instead, a person in the programme across two years would
    count once, and the figures would fall as the horizon grows."""
    years = _full_years(first_day, start, end)
    if not years:
        return {"ar_team_success_share": math.nan, "ar_team_participants_per_year": math.nan}
    starts = ar["start_day"].to_numpy(float)
    ends = ar["end_day"].to_numpy(float)
    ends = np.where(np.isnan(ends), np.inf, ends)
    succeeded = ar["success"].to_numpy() == 1
    active_counts, successes = [], 0
    for _year, ys, ye in years:
        active = (starts < ye) & (ends >= ys)
        active_counts.append(int(np.count_nonzero(active)))
        successes += int(np.count_nonzero(active & succeeded & (ends < ye)))
    active_total = sum(active_counts)
    return {
        "ar_team_success_share": successes / active_total if active_total else math.nan,
        "ar_team_participants_per_year": float(np.mean(active_counts)),
    }


def month_kpis(monthly: pd.DataFrame) -> dict[str, float]:
    """The month record's KPIs over the reporting-period rows ``monthly``: a flow, money or hours
    column's sum per year, a stock or ratio column's mean over months."""
    years = monthly["days"].sum() / DAYS_PER_YEAR
    kpis = [kpi for kpi in KPIS if kpi.rule in ("per_year", "monthly_mean")]
    # one contiguous row per column, as pandas holds a column: the same sums, NaN skipped,
    # without a pandas call per KPI
    rows = np.ascontiguousarray(monthly[[kpi.source for kpi in kpis]].to_numpy(float).T)
    out: dict[str, float] = {}
    for kpi, row in zip(kpis, rows, strict=True):
        if kpi.rule == "per_year":
            out[kpi.name] = float(np.nansum(row) / years)
        elif len(row) and not np.isnan(row).all():
            out[kpi.name] = float(np.nanmean(row))
        else:
            out[kpi.name] = math.nan
    return out


def first_visit_kpis(monthly: pd.DataFrame) -> dict[str, float]:
    """``first_visit_wait_days``: the mean wait from booking to first visit over the period (the
    months' means weighted by their first visits)."""
    visits = monthly["first_visits"].sum()
    wait = monthly["first_visit_wait_days"].fillna(0) * monthly["first_visits"]
    return {"first_visit_wait_days": float(wait.sum() / visits) if visits else math.nan}


SHARE_BARRIERS = ("unemployment", "social_medical", "sick_listed")
"""The barriers whose share of the stock is a KPI: those seed 004 counts in its November 2015
stock (and seed 001 in the city's)."""


def barrier_share_kpis(monthly: pd.DataFrame) -> dict[str, float]:
    """``share_households_<barrier>``: the mean monthly households with that barrier over the
    mean monthly households (the stock's mix over the period; seed 004 counts it in one month,
    November 2015)."""
    households = float(monthly["households"].mean()) if len(monthly) else math.nan
    return {
        f"share_households_{barrier}": float(monthly[f"households_{barrier}"].mean()) / households
        if households > 0
        else math.nan
        for barrier in SHARE_BARRIERS
    }


def cost_kpis(monthly: pd.DataFrame) -> dict[str, float]:
    """``cost_per_exit_to_work_sek``: (assistance paid + staff cost) / exits to work."""
    exits_work = monthly["exits_work"].sum()
    total_cost = monthly["assistance_paid_sek"].sum() + monthly["staff_cost_sek"].sum()
    return {"cost_per_exit_to_work_sek": float(total_cost / exits_work) if exits_work else math.nan}


def replication_kpis(
    output: ReplicationOutput, first_day: date, report_from: float, end: float
) -> dict[str, float]:
    """All KPIs of one replication over the reporting period, in the catalogue's order."""
    monthly = output.monthly[output.monthly["period"] == "run"]
    episodes = _Episodes(output.episodes)
    values = {
        **month_kpis(monthly),
        **first_visit_kpis(monthly),
        **household_year_kpis(output.episodes, first_day, report_from, end),
        **barrier_share_kpis(monthly),
        **_episode_kpis(episodes, report_from, end),
        **ar_kpis(output.ar_programmes, first_day, report_from, end),
        **_ar_leaver_kpis(episodes, report_from, end),
        **cost_kpis(monthly),
    }
    if values.keys() != KPI.keys():
        raise RuntimeError(
            "computed KPIs and the catalogue (sim.records.KPIS) differ: "
            f"{sorted(values.keys() ^ KPI.keys())}"
        )
    return {kpi.name: values[kpi.name] for kpi in KPIS}


DISTRICT_KPIS: tuple[str, ...] = (
    "mean_monthly_households",
    "cases_closed_per_year",
    *(f"exits_{cause}_per_year" for cause in EXIT_CAUSES),
)
"""The KPIs given per district (the unit's KPIs of the same names, counted for the households of
one district): what the seeds report by district (seed 004's exits by cause and households a
month per district)."""


def district_kpis(
    monthly: pd.DataFrame, episodes: pd.DataFrame, districts: list[str]
) -> pd.DataFrame:
    """Each district's :data:`DISTRICT_KPIS` over the reporting period, from one replication's
    episodes: ``district, kpi, value`` rows, districts in the scenario's order.

    ``monthly`` is the replication's month record (all months, warm-up included: its ``days``
    place the month boundaries); ``districts`` names the episodes' district numbers. Households a
    month count, as the unit's figure does, the episodes open at a month's start or opened in it,
    averaged over the reporting months; exits count the episodes closed in the period by cause.
    Summed over the districts they give the unit's KPIs."""
    days = monthly["days"].to_numpy(float)
    bounds = np.concatenate([[0.0], np.cumsum(days)])
    run = (monthly["period"] == "run").to_numpy()
    starts, ends = bounds[:-1][run], bounds[1:][run]
    n = len(districts)
    per_year: dict[str, np.ndarray] = {}
    households = np.zeros(n)
    if len(starts):
        start, end = float(starts[0]), float(ends[-1])
        years = float(days[run].sum()) / DAYS_PER_YEAR
        district = episodes["district"].to_numpy(np.int64)
        s = episodes["start_day"].to_numpy(float)
        e = np.nan_to_num(episodes["end_day"].to_numpy(float), nan=np.inf)
        # open in a month [ms, me): started before me, less those ended by ms (an episode
        # ends after it starts, so those started before me too); by sorted days, not a
        # mask of every episode per month (2.7 of a 10-year replication's 110 ms)
        for d in range(n):
            mine = district == d
            started = np.searchsorted(np.sort(s[mine]), ends, side="left")
            ended = np.searchsorted(np.sort(e[mine]), starts, side="right")
            households[d] = int((started - ended).sum())
        households /= len(starts)
        closed = (e >= start) & (e < end)
        # each episode's cause as a number (open ones: -1): comparing strings per cause cost
        # more than the counting
        codes, causes = pd.factorize(episodes["cause"])
        code_of = {str(cause): k for k, cause in enumerate(causes)}
        per_year["cases_closed_per_year"] = np.bincount(district[closed], minlength=n)[:n] / years
        for cause in EXIT_CAUSES:
            mine = closed & (codes == code_of.get(cause, -2))
            per_year[f"exits_{cause}_per_year"] = (
                np.bincount(district[mine], minlength=n)[:n] / years
            )
    else:  # no reporting month: nothing to count
        households[:] = math.nan
        for kpi in DISTRICT_KPIS[1:]:
            per_year[kpi] = np.full(n, math.nan)
    values = {"mean_monthly_households": households, **per_year}
    return pd.DataFrame(
        {  # district by district, each district's KPIs in their order
            "district": [name for name in districts for _ in DISTRICT_KPIS],
            "kpi": list(DISTRICT_KPIS) * n,
            "value": np.column_stack([values[kpi] for kpi in DISTRICT_KPIS]).ravel(),
        }
    )


def summarise_districts(by_district: pd.DataFrame) -> pd.DataFrame:
    """``district, kpi, mean, ci_low, ci_high, unit, replications`` from the replications'
    ``replication, district, kpi, value`` rows (districts and KPIs in their order)."""
    rows = []
    for (name, kpi), group in by_district.groupby(["district", "kpi"], sort=False):
        values = group["value"].to_numpy(float)
        mean, low, high = confidence_interval(values)
        rows.append(
            {
                "district": name,
                "kpi": kpi,
                "mean": mean,
                "ci_low": low,
                "ci_high": high,
                "unit": kpi_unit(str(kpi)),
                "replications": int((~np.isnan(values)).sum()),
            }
        )
    return pd.DataFrame(rows, columns=list(DISTRICT_SUMMARY_COLUMNS))


DISTRICT_SUMMARY_COLUMNS = ("district", "kpi", "mean", "ci_low", "ci_high", "unit", "replications")


def kpi_names() -> list[str]:
    """Every KPI ``replication_kpis`` gives, in its order (for validating user choices)."""
    return [kpi.name for kpi in KPIS]


def kpi_unit(kpi: str) -> str:
    """The unit of a KPI as ``summary.csv`` states it ("" for a name not in the catalogue)."""
    entry = KPI.get(kpi)
    return entry.unit if entry else ""


def confidence_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and Student-t interval over replications (NaN interval with fewer than two)."""
    values = values[~np.isnan(values)]
    n = len(values)
    if n == 0:
        return math.nan, math.nan, math.nan
    mean = float(values.mean())
    if n < 2:
        return mean, math.nan, math.nan
    half = float(special.stdtrit(n - 1, 0.5 + level / 2) * values.std(ddof=1) / math.sqrt(n))
    return mean, mean - half, mean + half


def summarise(per_replication: pd.DataFrame, groups: pd.Series | None = None) -> pd.DataFrame:
    """``kpi, mean, ci_low, ci_high, unit, replications`` from one row per replication.

    ``groups`` (one label per row: a posterior run's draws) makes each group one observation:
    the mean and the interval are over the groups' means, since a draw's replications share
    its parameters and are not independent of each other."""
    rows = []
    for kpi in per_replication.columns.drop(REPLICATION):
        values = per_replication[kpi].to_numpy(float)
        if groups is None:
            mean, low, high = confidence_interval(values)
        else:
            by_group = pd.Series(values, index=groups.to_numpy()).groupby(level=0).mean()
            mean, low, high = confidence_interval(by_group.to_numpy(float))
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
