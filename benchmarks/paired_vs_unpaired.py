"""How much narrower is the paired (common random numbers) interval than an unpaired one?

Run:  .venv/bin/python benchmarks/paired_vs_unpaired.py [--replications N] [--years Y]

Compares the baseline with scenarios/fewer_ongoing_social_workers.toml and prints, per KPI, the
mean difference with the half-widths of the paired and the unpaired (Welch) 95 % intervals, as a
Markdown table for docs/experiments.md.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import sim

ROOT = Path(__file__).resolve().parent.parent
KPIS = (
    "mean_monthly_households",
    "exits_work_per_year",
    "mean_monthly_waiting_for_class",
    "mean_episode_months",
    "share_long_term_10_of_12",
    "assistance_paid_sek_per_year",
    "staff_cost_sek_per_year",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--replications", type=int, default=20)
    parser.add_argument("--years", type=float, default=5)
    args = parser.parse_args()
    cmp = sim.compare(
        ROOT / "scenarios" / "baseline.toml",
        ROOT / "scenarios" / "fewer_ongoing_social_workers.toml",
        replications=args.replications,
        years=args.years,
    )
    d = cmp.differences.set_index("kpi")
    print(
        f"{args.replications} replications x {args.years:g} years, seed "
        f"{cmp.base.resolved.scenario.seed}\n"
    )
    print("| KPI | difference | paired ± | unpaired ± | unpaired / paired |")
    print("|---|---|---|---|---|")
    for kpi in KPIS:
        r = d.loc[kpi]
        paired = (r["ci_high"] - r["ci_low"]) / 2
        unpaired = (r["unpaired_ci_high"] - r["unpaired_ci_low"]) / 2
        ratio = unpaired / paired if paired > 0 else float("inf")
        print(f"| {kpi} | {r['difference']:,.2f} | {paired:,.2f} | {unpaired:,.2f} | {ratio:.1f} |")


if __name__ == "__main__":
    main()
