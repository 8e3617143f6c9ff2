"""Metrics: the vectorised household-year KPIs agree with a plain loop over households."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.domain import DAYS_PER_YEAR
from sim.metrics import _full_years, household_year_kpis

FIRST_DAY = date(2014, 7, 1)
END = float((date(2018, 1, 1) - FIRST_DAY).days)  # three whole calendar years after 2014


def reference_household_year_kpis(episodes: pd.DataFrame, start: float, end: float) -> dict:
    """The definitions, household by household and month by month (slow, obviously right)."""
    counts, long_shares, over12 = [], [], []
    for _year, ys, ye in _full_years(FIRST_DAY, start, end):
        months: dict[int, set[tuple[int, int]]] = {}
        longest: dict[int, float] = {}
        for row in episodes.itertuples():
            e = end if math.isnan(row.end_day) else row.end_day
            if not (row.start_day < ye and e > ys):
                continue
            d0 = FIRST_DAY.toordinal() + math.floor(max(row.start_day, ys))
            d1 = FIRST_DAY.toordinal() + math.floor(min(e, ye) - 1e-6)
            got = months.setdefault(row.household, set())
            for ordinal in range(d0, d1 + 1):
                day = date.fromordinal(ordinal)
                got.add((day.year, day.month))
            longest[row.household] = max(
                longest.get(row.household, 0.0), min(e, ye) - row.start_day
            )
        if not months:
            continue
        counts.append(len(months))
        long_shares.append(sum(len(m) >= 10 for m in months.values()) / len(months))
        over12.append(sum(d > DAYS_PER_YEAR for d in longest.values()) / len(months))
    return {
        "households_per_year": float(np.mean(counts)) if counts else math.nan,
        "share_long_term_10_of_12": float(np.mean(long_shares)) if counts else math.nan,
        "share_over_12_months": float(np.mean(over12)) if counts else math.nan,
    }


day = st.floats(-400.0, END, allow_nan=False)
length = st.one_of(st.floats(0.0, 900.0), st.just(math.nan))  # nan: still open at the end
episode_lists = st.lists(st.tuples(st.integers(0, 8), day, length), min_size=1, max_size=25)


@settings(max_examples=60, deadline=None)
@given(episode_lists, st.sampled_from([0.0, 184.0]))
def test_household_year_kpis_match_the_month_by_month_definition(rows, start):
    """Households with any month of assistance in a calendar year, the share with 10-12 such
    months and the share with an episode over 12 months: the numpy version (bit masks of
    months, ``ufunc.at`` per household) against a day-by-day walk through the calendar."""
    frame = pd.DataFrame(
        {
            "household": [h for h, _, _ in rows],
            "start_day": [s for _, s, _ in rows],
            "end_day": [min(s + n, END) if not math.isnan(n) else math.nan for _, s, n in rows],
        }
    )
    got = household_year_kpis(frame, FIRST_DAY, start, END)
    want = reference_household_year_kpis(frame, start, END)
    assert got.keys() == want.keys()
    for key, value in want.items():
        assert (math.isnan(value) and math.isnan(got[key])) or got[key] == value, key


def test_a_run_of_whole_years_counts_its_last_calendar_year():
    """A horizon is 365.25-day years rounded to whole days: two years from 1 January 2015 end
    with 30 December 2016, one year from 1 January 2016 (a leap year) too. Those years count
    as whole (their last day missing); a year the run misses by more than a day does not."""
    from pathlib import Path

    from sim import load_scenarios

    baseline = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.toml"

    def days(start: date, years: float) -> float:
        (resolved,) = load_scenarios(baseline, [f"start_date={start}"], years=years)
        return float(resolved.scenario.horizon_days)

    first = date(2015, 1, 1)
    assert [y for y, _, _ in _full_years(first, 0.0, days(first, 2))] == [2015, 2016]
    leap = date(2016, 1, 1)
    assert _full_years(leap, 0.0, days(leap, 1)) == [(2016, 0.0, 365.0)]  # cut at the end
    assert [y for y, _, _ in _full_years(first, 0.0, 729.0)] == [2015]  # two days short
    assert [y for y, _, _ in _full_years(first, 0.0, days(first, 5))] == list(range(2015, 2020))
    assert _full_years(first, 0.0, 300.0) == []


def test_ar_team_figures_are_per_calendar_year_whatever_the_horizon():
    """Seed 004 counts the persons active in the AR team during 2015 (60) and, of them, those
    who went on to support themselves (23). A person in the programme across two calendar
    years counts in both, so the figures do not fall as the horizon grows."""
    from sim.metrics import ar_kpis

    first = date(2015, 1, 1)
    y = 365.0  # 2015 and 2017 have 365 days, 2016 has 366
    ar = pd.DataFrame(
        [  # household, episode, start, end, success
            (1, 1, 100.0, y + 100.0, 1),  # across 2015 and 2016; succeeds in 2016
            (2, 1, 10.0, 50.0, 0),  # 2015 only; no success
            (3, 1, y + 10.0, y + 40.0, 1),  # 2016 only; succeeds
            (4, 1, y + 300.0, float("nan"), 0),  # from late 2016, still in at the end
        ],
        columns=["household", "episode", "start_day", "end_day", "success"],
    )
    one = ar_kpis(ar, first, 0.0, 365.0)  # 2015: persons 1 and 2, no success yet
    assert one == {"ar_team_success_share": 0.0, "ar_team_participants_per_year": 2.0}
    two = ar_kpis(ar, first, 0.0, 730.0)  # 2016: persons 1, 3, 4; two succeed
    assert two["ar_team_participants_per_year"] == pytest.approx((2 + 3) / 2)
    assert two["ar_team_success_share"] == pytest.approx(2 / 5)
    none = ar_kpis(ar, first, 0.0, 200.0)  # no whole calendar year: no figure
    assert math.isnan(none["ar_team_participants_per_year"])
    assert math.isnan(none["ar_team_success_share"])


def test_ar_leavers_months_and_returns_count_every_episode_of_the_household():
    """Seed 004 follows up the households the AR team helped off assistance: their months on
    assistance (all episodes so far, the one before the run included) and whether they came
    back within 24 months. Only episodes the AR team closed, in the period, count."""
    from sim.domain import DAYS_PER_MONTH
    from sim.metrics import ar_leaver_kpis

    m = DAYS_PER_MONTH
    episodes = pd.DataFrame(
        [  # household, episode, start, end, via AR
            (1, 0, -20 * m, 10 * m, False),  # 30 months, then back
            (1, 1, 12 * m, 22 * m, True),  # 10 more: 40 months by the AR exit; back at 30
            (1, 2, 30 * m, float("nan"), False),
            (2, 0, 0.0, 50 * m, True),  # 50 months; never back
            (3, 0, 0.0, 5 * m, True),  # before the period: not counted
            (4, 0, 0.0, 20 * m, False),  # not the AR team's
        ],
        columns=["household", "episode", "start_day", "end_day", "via_ar_team"],
    )
    kpis = ar_leaver_kpis(episodes, start=6 * m, end=80 * m)
    assert kpis["ar_success_months_on_assistance"] == pytest.approx(45.0)  # (40 + 50) / 2
    assert kpis["ar_success_recurrence_24_months"] == pytest.approx(0.5)  # 1 of 2 back
    late = ar_leaver_kpis(episodes, start=6 * m, end=60 * m)  # household 2 not yet 24 months
    assert late["ar_success_recurrence_24_months"] == pytest.approx(1.0)


def _pandas_episode_kpis(episodes: pd.DataFrame, start: float, end: float) -> dict:
    """The episode KPIs written plainly with pandas (a merge for the next episode, a group-wise
    cumulative sum for the months so far): the definitions the array version must match."""
    from sim.domain import DAYS_PER_MONTH

    horizon = 24 * DAYS_PER_MONTH

    def returned(closed: pd.DataFrame) -> float:
        eligible = closed[closed["end_day"] <= end - horizon]
        if not len(eligible):
            return math.nan
        nxt = episodes[["household", "episode", "start_day"]].copy()
        nxt["episode"] -= 1
        merged = eligible.merge(
            nxt.rename(columns={"start_day": "next_start"}), on=["household", "episode"],
            how="left",
        )  # fmt: skip
        return float(((merged["next_start"] - merged["end_day"]) <= horizon).mean())

    closed = episodes[(episodes["end_day"] >= start) & (episodes["end_day"] < end)]
    ordered = episodes.sort_values(["household", "episode"])
    so_far = (
        ((ordered["end_day"] - ordered["start_day"]) / DAYS_PER_MONTH)
        .groupby(ordered["household"])
        .cumsum()
    )
    success = ordered["via_ar_team"] & (ordered["end_day"] >= start) & (ordered["end_day"] < end)
    return {
        "mean_episode_months": float(
            ((closed["end_day"] - closed["start_day"]) / DAYS_PER_MONTH).mean()
        )
        if len(closed)
        else math.nan,
        "recurrence_24_months": returned(closed),
        "ar_success_months_on_assistance": float(so_far[success].mean())
        if success.any()
        else math.nan,
        "ar_success_recurrence_24_months": returned(ordered[success]),
    }


@st.composite
def episode_tables(draw):
    """Households with one or more episodes, in any row order, the last one maybe open."""
    rows = []
    for household in range(draw(st.integers(1, 12))):
        day = draw(st.floats(-900, 400))
        for episode in range(draw(st.integers(1, 8))):
            length = draw(st.integers(10, 900_000)) / 997  # not exact in binary
            is_open = draw(st.booleans()) and day + length > 600
            end = math.nan if is_open else day + length
            rows.append((household * 7 + 3, episode, day, end, draw(st.booleans()), "work"))
            if is_open:
                break
            day = end + draw(st.floats(1, 1200))
    table = pd.DataFrame(
        rows, columns=["household", "episode", "start_day", "end_day", "via_ar_team", "cause"]
    )
    return table.sample(frac=1.0, random_state=draw(st.integers(0, 1000)), ignore_index=True)


@settings(max_examples=150, deadline=None)
@given(episodes=episode_tables(), start=st.floats(-1000, 900), length=st.floats(1, 12000))
def test_episode_kpis_on_arrays_match_the_pandas_definitions_to_the_last_bit(
    episodes, start, length
):
    """The episode KPIs run on arrays (a replication's KPIs cost three times less) but must
    give the pandas definitions' figures exactly, the summation order and the compensated
    cumulative sum included, so that no stored number moves."""
    from sim.metrics import ar_leaver_kpis, episode_kpis

    end = start + length
    got = {**episode_kpis(episodes, start, end), **ar_leaver_kpis(episodes, start, end)}
    expected = _pandas_episode_kpis(episodes, start, end)
    for name, value in expected.items():
        assert got[name] == value or (math.isnan(got[name]) and math.isnan(value)), name


def test_the_barrier_shares_of_the_stock_are_ratios_of_monthly_means():
    """``share_households_<barrier>``: mean households with the barrier over mean households
    (seed 004's November stock by barrier, as shares); no households, no share."""
    from sim.metrics import barrier_share_kpis

    monthly = pd.DataFrame(
        {
            "households": [100.0, 300.0],
            "households_unemployment": [40.0, 120.0],
            "households_social_medical": [20.0, 40.0],
            "households_sick_listed": [10.0, 50.0],
        }
    )
    shares = barrier_share_kpis(monthly)
    assert shares == pytest.approx(
        {
            "share_households_unemployment": 0.4,
            "share_households_social_medical": 0.15,
            "share_households_sick_listed": 0.15,
        }
    )
    assert all(math.isnan(v) for v in barrier_share_kpis(monthly.iloc[:0]).values())
    assert all(math.isnan(v) for v in barrier_share_kpis(monthly * 0).values())


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(
        st.lists(st.one_of(st.floats(0, 1e4), st.just(math.nan)), min_size=3, max_size=3),
        min_size=1,
        max_size=30,
    )
)
def test_month_kpis_match_the_pandas_sums_and_means_to_the_last_bit(values):
    """The month KPIs read the columns as rows of one array; a column's sum per year and mean
    must be pandas' own (NaN skipped), to the last bit, so that no stored number moves."""
    from sim.metrics import month_kpis
    from sim.records import KPIS

    kpis = [k for k in KPIS if k.rule in ("per_year", "monthly_mean")]
    rng = np.random.default_rng(len(values))
    sources = sorted({k.source for k in kpis})
    rows = len(values)
    frame = pd.DataFrame({c: rng.choice(np.array(values).ravel(), rows) for c in sources})
    frame["days"] = 30.0 + np.arange(rows) % 2
    got = month_kpis(frame)
    years = frame["days"].sum() / DAYS_PER_YEAR
    for kpi in kpis:
        column = frame[kpi.source]
        expected = column.sum() / years if kpi.rule == "per_year" else column.mean()
        assert got[kpi.name] == expected or (math.isnan(got[kpi.name]) and math.isnan(expected)), (
            kpi.name
        )


def test_a_posterior_runs_summary_counts_each_draw_once():
    """Replications of one posterior draw share its parameters: the interval is over the
    draws' means, wider than one treating every run as independent."""
    from sim.metrics import confidence_interval, summarise

    rng = np.random.default_rng(1)
    draws = np.repeat(np.arange(5), 3)
    values = 100 + 10 * rng.standard_normal(5)[draws] + rng.standard_normal(15)
    table = pd.DataFrame({"replication": range(15), "mean_monthly_households": values})
    grouped = summarise(table, groups=pd.Series(draws)).iloc[0]
    means = pd.Series(values).groupby(draws).mean().to_numpy()
    assert (grouped["ci_low"], grouped["ci_high"]) == pytest.approx(confidence_interval(means)[1:])
    naive = summarise(table).iloc[0]
    assert grouped["ci_high"] - grouped["ci_low"] > naive["ci_high"] - naive["ci_low"]
