"""Short summaries of results for a notebook: the repr of ``sim.run``'s and ``sim.compare``'s
results, as text and as HTML (``_repr_html_``).

A planner who types ``results`` sees which scenario ran, how, and its headline figures with
their intervals (the same figures and rules as the command line and the reports), not a dump
of DataFrames.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from ..experiments.runner import ComparisonResults, ScenarioResults
from ..records import kpi_label
from .comparison_report import change_text, comparison_backlog, differences_html, opening_html
from .formatting import console_estimate, kpi_unit
from .report import headline_table

SHOWN = ("mean_monthly_households", "exits_work_per_year", "first_visit_wait_days")
"""The KPIs a run's text summary shows, as ``caseflow run`` prints them."""


def _how(results: ScenarioResults) -> str:
    s = results.resolved.scenario
    rows = results.per_replication
    n = len(rows)
    runs = f"{n} replication{'' if n == 1 else 's'}"
    if "draw" in rows.columns:  # over posterior draws, as ``caseflow run --posterior N``
        draws = int(rows["draw"].nunique())
        each = n // draws if draws else 0
        # every draw runs the scenario's replications (sim.calibration.uncertainty)
        runs = (
            f"{draws} posterior draw{'' if draws == 1 else 's'} × {each} "
            f"replication{'' if each == 1 else 's'}"
        )
    return f"{runs}, {s.start_date} + {s.horizon_years:g} years, seed {s.seed}"


def _can_save(results: object) -> str:
    return "; .save(folder) writes the results folder" if hasattr(results, "save") else ""


def run_text(results: ScenarioResults, warnings: Sequence[str] = ()) -> str:
    """``caseflow results: NAME (how it ran)``, the headline figures, the report's warnings,
    what the object holds."""
    by_kpi = results.summary.set_index("kpi")
    lines = [f"caseflow results: {results.resolved.name} ({_how(results)})"]
    for kpi in (k for k in SHOWN if k in by_kpi.index):
        r = by_kpi.loc[kpi]
        unit = kpi_unit(kpi, r["unit"])
        figure = console_estimate(r["mean"], r["ci_low"], r["ci_high"], kpi, unit)
        lines.append(f"  {kpi_label(kpi)}: {figure}")
    lines += _warning_lines(warnings)
    lines.append(
        f"  .summary ({len(results.summary)} KPIs), .monthly ({len(results.monthly)} rows), "
        f".per_replication{_can_save(results)}"
    )
    return "\n".join(lines)


def run_html(results: ScenarioResults, warnings: Sequence[str] = ()) -> str:
    """The headline table of the run report, under the scenario's name and how it ran, and
    the report's warnings."""
    return (
        f"<p><b>{html.escape(results.resolved.name)}</b> ({html.escape(_how(results))})</p>"
        + headline_table(results.summary)
        + _warnings_html(warnings)
    )


def _warning_lines(warnings: Sequence[str], width: int = 160) -> list[str]:
    """Each warning's first sentence, cut to ``width``, and where to read them whole."""
    if not warnings:
        return []
    lines = []
    for warning in warnings:
        first = re.split(r"(?<=\.)\s", warning, maxsplit=1)[0]
        lines.append(f"  warning: {first if len(first) <= width else first[: width - 1] + '…'}")
    return [*lines, "  (.warnings has them in full, as the report says them)"]


def _warnings_html(warnings: Sequence[str]) -> str:
    if not warnings:
        return ""
    items = "".join(f"<li>{html.escape(w)}</li>" for w in warnings)
    return f"<p><b>Warnings</b> (as in the report)</p><ul>{items}</ul>"


def comparison_text(comparison: ComparisonResults, warnings: Sequence[str] = ()) -> str:
    """The base, what each alternative changed most, with its paired interval, and the
    comparison report's warnings."""
    d = comparison.differences
    n = len(comparison.alternatives)
    lines = [
        f"caseflow comparison with {comparison.base.resolved.name}: {n} alternative"
        f"{'' if n == 1 else 's'} ({_how(comparison.base)}, common random numbers)"
    ]
    for alt in dict.fromkeys(d["alternative"]):
        lines.append(f"  {alt}: {change_text(d[d['alternative'] == alt])}")
    lines += _warning_lines(warnings)
    lines.append(f"  .differences ({len(d)} rows), .base, .alternatives{_can_save(comparison)}")
    return "\n".join(lines)


def comparison_html(comparison: ComparisonResults, warnings: Sequence[str] = ()) -> str:
    """The comparison report's opening, its tables of differences and its warnings."""
    return (
        f"<p>Comparison with <b>{html.escape(comparison.base.resolved.name)}</b> "
        f"({html.escape(_how(comparison.base))}, common random numbers)</p>"
        + opening_html(comparison.differences)
        + differences_html(
            comparison.differences,
            comparison.base.resolved.name,
            comparison_backlog(comparison),
        )
        + _warnings_html(warnings)
    )
