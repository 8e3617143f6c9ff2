"""First-year figures of the baseline against what the 2015 unit reported (seed 004).

Run:  .venv/bin/python calibration/check_2015.py [--replications N]

Not a calibration: a side-by-side check of the hand-set first guess, printed as a Markdown table.
The reported figures are those of ../shared/DOMAIN.md (section "The case process").
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sim import load_scenarios, run_scenario

ROOT = Path(__file__).resolve().parent.parent

# KPI -> (reported 2015 value, where it comes from)
REPORTED = {
    "contacts_per_year": (3177, "calls to intake, seed 004"),
    "booked_per_year": (884, "booked as new cases, seed 004"),
    "cases_opened_per_year": (539, "opened during the year, seed 004"),
    "cases_closed_per_year": (618, "closed households, seed 004 (causes add to 542)"),
    "exits_work_per_year": (160, "seed 004"),
    "exits_studies_per_year": (42, "seed 004"),
    "exits_other_benefit_per_year": (44, "seed 004"),
    "exits_moved_per_year": (60, "seed 004"),
    "exits_one_time_per_year": (94, "seed 004"),
    "exits_unknown_per_year": (142, "seed 004"),
    "mean_monthly_households": (491, "average households per month 2015, seed 004"),
    "ar_team_participants_per_year": (60, "persons in the AR team during 2015, seed 004"),
    "ar_team_success_share": (0.383, "23 of 60 to own or other support, seed 004"),
    # the budget table's 17.3 Mkr is Östermalm's own assistance, not the unit's (see the note
    # in docs/model.md §9): the unit's is the seed's mean payment times its household-months
    "assistance_paid_sek_per_year": (
        8200 * 491 * 12,
        "8 200 kr a month × 491 households × 12, seed 004 (see note)",
    ),
    "staff_cost_sek_per_year": (18.6e6, "gross handling cost, 30 employees, seed 004"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--replications", type=int, default=20)
    args = parser.parse_args()
    resolved = load_scenarios(
        ROOT / "scenarios" / "baseline.toml", years=1, replications=args.replications
    )[0]
    summary = run_scenario(resolved).summary.set_index("kpi")
    print(
        f"Baseline, first year (2015), {args.replications} replications, seed "
        f"{resolved.scenario.seed}, parameters {resolved.parameters.name}\n"
    )
    print("| KPI | model mean | 95 % interval | reported 2015 | source |")
    print("|---|---|---|---|---|")
    for kpi, (value, source) in REPORTED.items():
        row = summary.loc[kpi]
        fmt = "{:.3f}" if abs(value) < 10 else "{:,.0f}"
        interval = f"{fmt.format(row['ci_low'])} – {fmt.format(row['ci_high'])}"
        mean, reported = fmt.format(row["mean"]), fmt.format(value)
        print(f"| {kpi} | {mean} | {interval} | {reported} | {source} |")


if __name__ == "__main__":
    main()
