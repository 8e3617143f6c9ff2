"""Answer the planners' questions with the scenario library and write the worked examples.

Run:  .venv/bin/python docs/scenario_examples.py [--replications N] [--workers N]
      (or `make examples`)

Each question of the seed documents is a comparison of scenario files under `scenarios/`, run
with common random numbers. The figures, with their paired 95 % intervals, replace the block
between the markers in docs/scenarios.md, so no figure there is typed by hand.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from sim import load_scenarios
from sim.experiments.runner import ComparisonResults, compare_scenarios
from sim.output.caveats import intake_backlog_warning
from sim.records import kpi_label

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "scenarios.md"
BEGIN = "<!-- BEGIN GENERATED: docs/scenario_examples.py -->"
END = "<!-- END GENERATED: docs/scenario_examples.py -->"

FORMATS = {
    "mean_monthly_households": "{:,.0f}",
    "mean_monthly_open_class_a": "{:,.0f}",
    "mean_monthly_open_class_c": "{:,.0f}",
    "mean_monthly_waiting_for_class": "{:,.0f}",
    "caseload_per_social_worker": "{:,.1f}",
    "mean_episode_months": "{:,.2f}",
    "exits_work_per_year": "{:,.1f}",
    "cases_opened_per_year": "{:,.0f}",
    "first_visit_wait_days": "{:,.2f}",
    "ar_team_participants_per_year": "{:,.1f}",
    "ar_team_success_share": "{:,.3f}",
    "mean_monthly_households_unemployment": "{:,.0f}",
    "mean_monthly_households_social_medical": "{:,.0f}",
    "assistance_paid_sek_per_year": "{:,.0f}",
    "staff_cost_sek_per_year": "{:,.0f}",
    "delivered_share_b": "{:,.3f}",
    "cases_closed_per_year": "{:,.0f}",
    "handovers_per_year": "{:,.0f}",
    "mean_monthly_cases_above_norm": "{:,.0f}",
    "social_worker_hours_needed_per_year": "{:,.0f}",
    "social_worker_hours_available_per_year": "{:,.0f}",
}
"""How each KPI's figures are written; the labels are the catalogue's (``sim.records``)."""


def _table(result: ComparisonResults, kpis: Sequence[str]) -> str:
    diff = result.differences.set_index(["alternative", "kpi"])
    lines = [
        "| KPI | base | alternative | difference (95 % interval) |",
        "|---|---|---|---|",
    ]
    for alt in result.alternatives:
        name = alt.resolved.name
        if len(result.alternatives) > 1:
            lines.append(f"| **{name}** | | | |")
        for kpi in kpis:
            if (name, kpi) not in diff.index:
                continue
            r = diff.loc[(name, kpi)]
            label, fmt = kpi_label(kpi), FORMATS[kpi]
            if math.isnan(r["difference"]):
                continue
            interval = f"{fmt.format(r['ci_low'])} to {fmt.format(r['ci_high'])}"
            lines.append(
                f"| {label} | {fmt.format(r['base_mean'])} | {fmt.format(r['alternative_mean'])} "
                f"| {fmt.format(r['difference'])} ({interval}) |"
            )
    return "\n".join(lines)


def _said(result: ComparisonResults, kpi: str, alternative: str | None = None) -> str:
    """What the alternative did to ``kpi``, in words, from the run's own figures: from base to
    alternative, with the paired difference's 95 % interval, or that it did not change clearly."""
    d = result.differences.set_index(["alternative", "kpi"])
    name = alternative or result.alternatives[0].resolved.name
    r = d.loc[(name, kpi)]
    fmt = FORMATS[kpi]
    label = kpi_label(kpi)
    if label[1:2].islower():  # mid-sentence; "A", "B", "AR", "SEK" keep their case
        label = label[0].lower() + label[1:]
    span = f"{fmt.format(r['ci_low'])} to {fmt.format(r['ci_high'])}"
    if r["ci_low"] > 0 or r["ci_high"] < 0:
        verb = "rises" if r["difference"] > 0 else "falls"
        return (
            f"{label} {verb} from {fmt.format(r['base_mean'])} to "
            f"{fmt.format(r['alternative_mean'])} (difference {span})"
        )
    return f"{label} does not change clearly ({fmt.format(r['base_mean'])}; difference {span})"


def _intake_under_shock(result: ComparisonResults) -> str:
    """The intake queue under the shocks: the baseline's intake posts do not keep up, and the
    households waiting are not yet in the caseload (the runs' own backlog warning)."""
    warned = [a.resolved.name for a in result.alternatives if intake_backlog_warning(a.monthly)]
    said = (
        " The intake desk keeps the baseline's posts, and the shocks' bookings queue for a first "
        "visit: the "
        + _said(result, "first_visit_wait_days", "unemployment_severe_shock")
        + " under the severe shock, and the "
        + _said(result, "first_visit_wait_days", "unemployment_shock_and_recovery")
        + " under the shock with recovery. A household waiting for its first visit is not yet "
        "in the caseload, so these runs' households, payments and costs are understated"
    )
    if warned:
        said += f" (the reports of {', '.join(warned)} warn of it)"
    return said + ": a planner testing a shock tests its intake staff too."


def _compare(
    base: str,
    alternatives: Sequence[str],
    replications: int,
    workers: int | None,
    years: float | None = None,
) -> ComparisonResults:
    b = load_scenarios(ROOT / "scenarios" / base, replications=replications, years=years)[0]
    alts = [load_scenarios(ROOT / "scenarios" / a, years=years)[0] for a in alternatives]
    return compare_scenarios(b, alts, workers=workers)


def _months_to_return(result: ComparisonResults, alternative: str, after: str) -> str:
    """First month from ``after`` on when the alternative's mean households come within 5 % of
    the base's and stay there to the end of the horizon."""
    base = result.base.monthly.groupby("month")["households"].mean()
    alt = next(a for a in result.alternatives if a.resolved.name == alternative)
    shocked = alt.monthly.groupby("month")["households"].mean()
    gap = (shocked / base - 1).loc[lambda s: s.index >= after]
    outside = gap[gap.abs() > 0.05]
    if outside.empty:
        return f"within 5 % of the baseline from {after} on"
    last = outside.index.max()
    later = gap.index[gap.index > last]
    if len(later) == 0:
        return f"still {gap.iloc[-1]:+.0%} against the baseline at the end of the horizon ({last})"
    peak = float((shocked / base - 1).max())
    return (
        f"peak {peak:+.0%} against the baseline; back within 5 % from {later[0]} "
        f"({(pd.Period(later[0]) - pd.Period(after)).n} months after {after})"
    )


def plot_shocks(shocks: ComparisonResults, recovery: ComparisonResults, path: Path) -> None:
    """Households per month, in all and in the unemployment group, under each path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), sharex=True)
    runs = [("baseline", recovery.base)] + [
        (a.resolved.name, a) for a in shocks.alternatives if "recovery" not in a.resolved.name
    ]
    runs += [(a.resolved.name, a) for a in recovery.alternatives]
    for name, result in runs:
        monthly = result.monthly[result.monthly["period"] == "run"]
        means = monthly.groupby("month")[["households", "households_unemployment"]].mean()
        x = pd.PeriodIndex(means.index, freq="M").to_timestamp()
        for ax, column in zip(axes, means.columns, strict=True):
            ax.plot(x, means[column], label=name)
    axes[0].set_title("households per month (mean of replications)")
    axes[1].set_title("of which: unemployment as barrier")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--replications", type=int, default=20)
    parser.add_argument("--workers", type=int)
    args = parser.parse_args()
    reps, workers = args.replications, args.workers
    t0 = time.monotonic()
    out: list[str] = [
        BEGIN,
        "",
        f"Figures from `docs/scenario_examples.py`, {reps} replications per scenario, common "
        "random numbers; mean over the whole horizon (after any warm-up), paired difference "
        "with its 95 % interval. Parameters: those the scenarios name (via `baseline.toml`).",
        "",
    ]

    def section(title: str, text: str, result: ComparisonResults, kpis: Sequence[str]) -> None:
        out.extend([f"### {title}", "", text, "", _table(result, kpis), ""])

    r = seven = _compare(
        "eav_2011.toml", ["eav_2011_seven_administrators_to_social_workers.toml"], reps, workers
    )
    section(
        "1. Seven administrator posts become social-worker posts (EAV 2011, seed 003)",
        "`caseflow compare scenarios/eav_2011.toml "
        "scenarios/eav_2011_seven_administrators_to_social_workers.toml`\n\n"
        "How to read it: the unit has more social-worker time and less administrator time. "
        f"The {_said(r, 'caseload_per_social_worker')}; the "
        f"{_said(r, 'delivered_share_b')}; {_said(r, 'mean_monthly_open_class_a')} (seed 003: "
        "more social workers, more A cases). With contact, "
        f"{_said(r, 'exits_work_per_year')}, and {_said(r, 'mean_monthly_households')}. "
        f"The price: {_said(r, 'staff_cost_sek_per_year')}, and the fewer administrators "
        "carry the C cases and assist on fewer B cases.",
        r,
        [
            "mean_monthly_households",
            "mean_monthly_open_class_a",
            "mean_monthly_open_class_c",
            "caseload_per_social_worker",
            "delivered_share_b",
            "mean_episode_months",
            "exits_work_per_year",
            "assistance_paid_sek_per_year",
            "staff_cost_sek_per_year",
        ],
    )
    r = merged = _compare("eav_2011.toml", ["eav_2011_merged_unit.toml"], reps, workers)
    section(
        "2. Merged unit (EAV 2011, seed 003)",
        "`caseflow compare scenarios/eav_2011.toml scenarios/eav_2011_merged_unit.toml`\n\n"
        "How to read it: the merged unit has no hand-over from intake, so no transfer wait, no "
        "second assessment and no lost continuity for new cases. "
        f"The {_said(r, 'handovers_per_year')}; {_said(r, 'delivered_share_b')}; "
        f"{_said(r, 'exits_work_per_year')}; {_said(r, 'mean_episode_months')}. The model "
        "treats the merged unit's social workers as one pool (its four sections are not "
        "modelled).",
        r,
        [
            "mean_monthly_households",
            "mean_episode_months",
            "handovers_per_year",
            "delivered_share_b",
            "first_visit_wait_days",
            "exits_work_per_year",
            "assistance_paid_sek_per_year",
        ],
    )
    r = _compare("ar_team_24_places.toml", ["baseline.toml"], reps, workers)
    section(
        "3. AR team of 36 instead of 24 year-places (2015 unit, seed 004)",
        "`caseflow compare scenarios/ar_team_24_places.toml scenarios/baseline.toml` "
        "(base: 24 places; alternative: the baseline's 36)",
        r,
        [
            "ar_team_participants_per_year",
            "ar_team_success_share",
            "mean_monthly_households",
            "mean_monthly_households_social_medical",
            "assistance_paid_sek_per_year",
        ],
    )
    shocks = [
        "unemployment_rise_2003.toml",
        "unemployment_severe_shock.toml",
        "unemployment_shock_and_recovery.toml",
    ]
    r = _compare("baseline.toml", shocks, reps, workers)
    recovery_years = 10
    long = _compare(
        "baseline.toml",
        ["unemployment_shock_and_recovery.toml"],
        reps,
        workers,
        years=recovery_years,
    )
    plot_shocks(r, long, ROOT / "docs" / "images" / "unemployment_shocks.png")
    text = (
        "`caseflow compare scenarios/baseline.toml scenarios/unemployment_rise_2003.toml "
        "scenarios/unemployment_severe_shock.toml scenarios/unemployment_shock_and_recovery.toml`"
        "\n\nHow long the caseload takes to come back after the recovery (unemployment back at "
        f"3.2 % from January 2018), over {recovery_years} years (`--years {recovery_years}`): "
        + _months_to_return(long, "unemployment_shock_and_recovery", "2018-01")
        + ". Under the severe shock the same staff meet more cases: the "
        + _said(r, "caseload_per_social_worker", "unemployment_severe_shock")
        + " and the "
        + _said(r, "delivered_share_b", "unemployment_severe_shock")
        + ", which slows the exits that would bring the caseload back."
        + _intake_under_shock(r)
        + "\n\n![Households under the unemployment paths](images/unemployment_shocks.png)"
    )
    section(
        "4. Unemployment shocks (seed 001)",
        text,
        r,
        [
            "cases_opened_per_year",
            "mean_monthly_households",
            "mean_monthly_households_unemployment",
            "mean_monthly_households_social_medical",
            "caseload_per_social_worker",
            "delivered_share_b",
            "first_visit_wait_days",
            "assistance_paid_sek_per_year",
        ],
    )
    r = _compare("baseline.toml", ["stable_staff.toml"], reps, workers)
    section(
        "5. Staff turnover at the 2015 level against a stable staff (seed 004)",
        "`caseflow compare scenarios/baseline.toml scenarios/stable_staff.toml`\n\n"
        "How to read it: turnover means vacancies, new hires at reduced capacity who draw "
        "mentoring from colleagues, and cases handed over each time someone leaves (seed 004: "
        "workload 'at times very high despite fewer cases'). Without turnover, "
        f"{_said(r, 'handovers_per_year')}; {_said(r, 'delivered_share_b')}; "
        f"{_said(r, 'exits_work_per_year')}; {_said(r, 'mean_monthly_households')}.",
        r,
        [
            "caseload_per_social_worker",
            "handovers_per_year",
            "delivered_share_b",
            "first_visit_wait_days",
            "mean_monthly_households",
            "exits_work_per_year",
            "staff_cost_sek_per_year",
        ],
    )
    r = _compare("baseline.toml", ["allocation_model_shift.toml"], reps, workers)
    diff = r.differences.set_index("kpi")
    saved = -diff.loc["staff_cost_sek_per_year", "difference"]
    paid = diff.loc["assistance_paid_sek_per_year"]
    verdict = (
        f"Staff cost changes by {-saved:+,.0f} kr a year; assistance paid by "
        f"{paid['difference']:+,.0f} kr a year (95 % interval {paid['ci_low']:+,.0f} to "
        f"{paid['ci_high']:+,.0f}). "
        f"With two social workers fewer, {_said(r, 'caseload_per_social_worker')} and "
        f"{_said(r, 'delivered_share_b')}; with two consultants more, "
        f"{_said(r, 'ar_team_participants_per_year')}. Together, "
        f"{_said(r, 'exits_work_per_year')} and {_said(r, 'mean_monthly_households')}: the "
        "district's argument (seed 000), that fewer handlers means fewer of the contacts that "
        "break dependence, is the model's staff-time mechanism, set against what the "
        "labour-market measures buy."
    )
    section(
        "6. The allocation model's shift: 1.6 Mkr less handling, 1.0 Mkr more labour-market "
        "measures (seed 000)",
        "`caseflow compare scenarios/baseline.toml scenarios/allocation_model_shift.toml`\n\n"
        + verdict,
        r,
        [
            "caseload_per_social_worker",
            "delivered_share_b",
            "ar_team_participants_per_year",
            "exits_work_per_year",
            "mean_monthly_households",
            "assistance_paid_sek_per_year",
            "staff_cost_sek_per_year",
        ],
    )

    def assistance_change(result: ComparisonResults) -> float:
        d = result.differences.set_index("kpi")
        return float(d.loc["assistance_paid_sek_per_year", "difference"])

    best = min(
        (("merged unit", merged), ("seven administrator posts to social workers", seven)),
        key=lambda item: assistance_change(item[1]),
    )[0]
    r = _compare(
        "eav_2011_severe_shock.toml",
        [
            "combined_merged_unit_under_shock.toml",
            "combined_seven_to_social_workers_under_shock.toml",
        ],
        reps,
        workers,
    )
    under_shock = r.differences[r.differences["kpi"] == "assistance_paid_sek_per_year"]
    shock_best = {
        "combined_merged_unit_under_shock": "merged unit",
        "combined_seven_to_social_workers_under_shock": "seven administrator posts to social "
        "workers",
    }[str(under_shock.loc[under_shock["difference"].idxmin(), "alternative"])]
    section(
        "7. Combined: the staffing alternatives under the severe shock (EAV 2011)",
        "`caseflow compare scenarios/eav_2011_severe_shock.toml "
        "scenarios/combined_merged_unit_under_shock.toml "
        "scenarios/combined_seven_to_social_workers_under_shock.toml`\n\n"
        f"In normal conditions (questions 1 and 2) the {best} lowered assistance paid the most; "
        f"under the severe shock, the alternative that lowers it most is the {shock_best}:",
        r,
        [
            "mean_monthly_households",
            "caseload_per_social_worker",
            "delivered_share_b",
            "mean_episode_months",
            "exits_work_per_year",
            "assistance_paid_sek_per_year",
            "staff_cost_sek_per_year",
        ],
    )
    out.extend([f"All seven comparisons: {time.monotonic() - t0:.0f} s wall.", "", END])
    text = DOC.read_text(encoding="utf-8")
    block = "\n".join(out)
    if BEGIN in text:
        text = text[: text.index(BEGIN)] + block + text[text.index(END) + len(END) :]
    else:
        text = text.rstrip("\n") + "\n\n## Worked examples: the planners' questions\n\n" + block
    DOC.write_text(text + ("" if text.endswith("\n") else "\n"), encoding="utf-8")
    print(f"wrote {DOC} ({time.monotonic() - t0:.0f} s)")


if __name__ == "__main__":
    main()
