"""The HTML reports of a results folder: one run here, a comparison of alternatives with a
base in :mod:`sim.output.comparison_report` (re-exported), a sweep's points in
:mod:`sim.output.sweep_report`.

Each report is one self-contained file (figures embedded as base64 PNG, also saved under
``figures/``) that a planner can mail. KPIs are shown by their planner labels and units from
the catalogue (:mod:`sim.records`); the CSV files beside the report keep the stable names, which
each table cell carries as its tooltip. Numbers follow one rule per unit
(:mod:`sim.output.formatting`); the figures are :mod:`sim.output.figures`'.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ..records import AR_TEAM, HEADLINE, STAFF_TIME, UNCERTAINTY_FILE
from .caveats import auto_replications_note, range_warnings, run_warnings
from .comparison_report import render_comparison_report, scenario_differences
from .drawing import Drawing, DrawingHost, FigureList, save_drawing, start_drawing
from .formatting import (
    flatten,
    interval,
    keys_overlap,
    kpi_unit,
    level_interval,
    lower_first,
    number,
    toml_value,
)
from .page import (
    code_cell,
    figures_html,
    kpi_cell,
    number_cell,
    page,
    reproduce_html,
    table,
    text_cell,
    warnings_html,
)

__all__ = [
    "DISTRICTS_FILE",
    "HEADLINE",
    "UNCERTAINTY_FILE",
    "district_table",
    "flatten",
    "headline_table",
    "range_warnings",
    "render_comparison_report",
    "render_report",
    "scenario_differences",
    "staff_time_table",
]


def _level_cells(kpi: str, unit: str, mean: float, low: float, high: float, why: str) -> str:
    """A KPI's mean and interval (cut to the values the KPI can take), in its unit's
    decimals."""
    low, high = level_interval(low, high, kpi, unit)
    return number_cell(number(mean, unit)) + number_cell(
        interval(low, high, unit, why=why, of=mean, kpi=kpi)
    )


LEVEL_HEADER = ["KPI", "unit", "mean", "95 % interval"]
"""The columns of a table of KPI levels (the headline, the staff time)."""


def _level_rows(summary: pd.DataFrame, kpis: Sequence[str]) -> list[str]:
    """A row per KPI of ``kpis`` in ``summary`` (those missing skipped): its label, unit,
    mean and 95 % interval."""
    by_kpi = summary.set_index("kpi")
    rows = []
    for kpi in (k for k in kpis if k in by_kpi.index):
        r = by_kpi.loc[kpi]
        unit = kpi_unit(kpi, r.get("unit"))
        why = "1 replication" if r.get("replications") == 1 else ""
        cells = _level_cells(kpi, unit, r["mean"], r["ci_low"], r["ci_high"], why)
        rows.append(f"<tr>{kpi_cell(kpi)}{text_cell(unit)}{cells}</tr>")
    return rows


def headline_table(summary: pd.DataFrame) -> str:
    """The headline KPIs with their unit, mean and 95 % interval, then the AR team's
    (:data:`sim.records.AR_TEAM`)."""
    rows = _level_rows(summary, HEADLINE)
    heading, ar_kpis = AR_TEAM
    ar_rows = _level_rows(summary, [k for k in ar_kpis if k not in HEADLINE])
    if ar_rows:
        rows.append(f'<tr><th colspan="{len(LEVEL_HEADER)}">{html.escape(heading)}</th></tr>')
        rows += ar_rows
    return (
        "<h2>Headline KPIs (mean and 95 % interval over replications)</h2>"
        "<p>An interval stops at zero (none of these figures can be negative) and a share "
        "of households or of planned contact at 1.</p>" + table(LEVEL_HEADER, rows, numeric_from=2)
    )


STAFF_TIME_INTRO = (
    "<p>Hours are case hours: working hours less sick absence and non-case duties, none from "
    "a vacant post or one on leave, less for a new hire. Where the cases need more hours than "
    "a worker has, A cases are served first, then events (taking on new cases, hand-overs), "
    "then B, then C; the totals can leave room while "
    "single workers are short, which the delivered shares show (1: all the planned contact). "
    "A load against the norm above 1 is above the caseload norm. Assisting administrators take "
    "over at most a set share of each B case (<code>administrator_assist_share_b</code> of the "
    "parameter set): hours beyond what the B cases ask are not used, which a low "
    "administrators' utilisation shows. Hand-overs are changes of handler. See <code>figures/workload.png</code> for needed against available hours by "
    "month.</p>"
)
"""What the staff-time table's figures are, for a planner."""


def staff_time_table(summary: pd.DataFrame) -> str:
    """Staff time: hours available, needed and delivered per year by role, the caseload
    carried, the delivered shares and follow-ups by class, and hand-overs (:data:`STAFF_TIME`),
    each with its unit, mean and 95 % interval."""
    rows = []
    for heading, kpis in STAFF_TIME:
        group = _level_rows(summary, kpis)
        if group:
            rows.append(f'<tr><th colspan="{len(LEVEL_HEADER)}">{html.escape(heading)}</th></tr>')
            rows += group
    if not rows:
        return (
            "<h2>Staff time</h2><p>Not recorded in this results folder (made before staff "
            "time was modelled).</p>"
        )
    return (
        "<h2>Staff time (mean and 95 % interval over replications)</h2>"
        + STAFF_TIME_INTRO
        + table(LEVEL_HEADER, rows, numeric_from=2)
    )


def _scenario_as_run(scenario: dict[str, Any], manifest: dict[str, Any]) -> str:
    """The scenario as run, values as a scenario file writes them; keys set in this scenario
    (not inherited from its base) in bold."""
    flat = flatten({k: v for k, v in scenario.items() if k not in ("name", "description")})
    own = set(manifest.get("own_keys") or []) | set(manifest.get("command_keys") or {})
    base = manifest.get("extends")

    def changed(key: str) -> bool:
        return any(keys_overlap(key, k) for k in own)

    rows = [
        f"<tr>{code_cell(k, bold=changed(k))}{code_cell(toml_value(v), value=True)}</tr>"
        for k, v in flat.items()
    ]
    if base:
        listed = ", ".join(
            f"<code>{html.escape(k)}</code> = {html.escape(toml_value(v))}"
            for k, v in flat.items()
            if changed(k)
        )
        intro = (
            f"<p>Extends <code>{html.escape(str(base))}</code>; set here (in bold below): "
            f"{listed or 'nothing'}.</p>"
        )
    elif own:
        intro = "<p>A scenario of its own (it extends no other file); set over it (by the "
        intro += "command's options or the workbench's edits) in bold below.</p>"
    else:
        intro = "<p>A scenario of its own (it extends no other file).</p>"
    return (
        f"<h2>The scenario as run</h2>{intro}<details><summary>every key as run "
        f"({len(flat)})</summary>{table(['key', 'value'], rows)}</details>"
    )


def _posterior_section(folder: Path, manifest: dict[str, Any]) -> str:
    """With ``run --posterior``: each headline figure's 90 % range and where its spread comes
    from (parameter uncertainty against stochastic noise)."""
    info = manifest.get("posterior")
    path = folder / UNCERTAINTY_FILE
    if not info or not path.exists():
        return ""
    spread = pd.read_csv(path).set_index("kpi")

    def share(x: float) -> str:
        return "" if pd.isna(x) else f"{x:.0%}"

    rows = []
    for kpi in (k for k in HEADLINE if k in spread.index):
        r = spread.loc[kpi]
        unit = kpi_unit(kpi)
        rows.append(
            f"<tr>{kpi_cell(kpi)}{text_cell(unit)}"
            f"{_level_cells(kpi, unit, r['mean'], r['p05'], r['p95'], '')}"
            f"{number_cell(share(r['parameter_share']))}"
            f"{number_cell(share(1 - r['parameter_share']))}</tr>"
        )
    header = ["KPI", "unit", "mean", "90 % of runs", "parameter share", "noise share"]
    return (
        "<h2>Parameter uncertainty and noise</h2>"
        f"<p>{info['draws']} draws from the fitted posterior × {info['replications_per_draw']} "
        "replications each, each draw with random numbers of its own. The 90 % range covers "
        "both sources; the shares split the variance into the part due to not knowing the "
        "parameters (between draws) and the part due to chance (between replications). The "
        "headline table's 95 % intervals above are for the mean, over the draws' means (a "
        "draw's replications share its parameters, so each draw counts once).</p>"
        + table(header, rows, numeric_from=2)
    )


def _runs(manifest: dict[str, Any]) -> str:
    """How many runs: replications, or posterior draws × replications per draw."""
    posterior = manifest.get("posterior")
    if isinstance(posterior, dict) and posterior.get("draws"):
        return (
            f"{posterior['draws']} posterior draws × {posterior.get('replications_per_draw')} "
            "replications"
        )
    n = manifest.get("replications")
    said = f"{n} replication" if n == 1 else f"{n} replications"
    auto = auto_replications_note(manifest.get("replications_auto"))
    return f"{said} ({html.escape(lower_first(auto.removesuffix('.')))})" if auto else said


def _run_intro(scenario: dict[str, Any], manifest: dict[str, Any]) -> str:
    """The title, the scenario's description and how it was run."""
    name = html.escape(str(manifest.get("scenario_name", "")))
    description = html.escape(str(scenario.get("description", "")))
    extends, own = manifest.get("extends"), manifest.get("own_keys") or []
    described_here = "description" in own or "description" in (manifest.get("command_keys") or {})
    if extends and not described_here:
        # the description is the base's: say so, and what this scenario changes
        changed = [k for k in own if k not in ("name", "description")]
        description = (
            f"Extends {html.escape(Path(str(extends)).name)}, whose description reads: "
            f"“{description}”"
            + (f". Changed here: {html.escape(', '.join(changed))}." if changed else ".")
        )
    return (
        f"<h1>{name}</h1>\n<p>{description}</p>\n{_command_line_changes(scenario, manifest)}"
        f"<p>Seed {manifest.get('seed')}, {_runs(manifest)},\n"
        f"{scenario.get('start_date')} + {scenario.get('horizon_years')} years\n"
        f"(warm-up {scenario.get('warmup_days', 0)} days, excluded).</p>"
    )


def _command_line_changes(scenario: dict[str, Any], manifest: dict[str, Any]) -> str:
    """The keys the command's options set over the file (``--set``, ``--years``), which the
    file's description knows nothing of: said at the top, not only in the command below."""
    # the title, the description, the seed and the replications are said as they are; --set
    # first
    command_keys = sorted(
        (not option.startswith("--set "), option, key)
        for key, option in (manifest.get("command_keys") or {}).items()
        if key not in ("seed", "replications", "name", "description")
    )
    if not command_keys:
        return ""
    flat = flatten(scenario)
    listed = ", ".join(
        f"<code>{html.escape(key)}</code> = {html.escape(toml_value(flat.get(key)))} "
        f"({html.escape(option.split(' ')[0])})"
        for _, option, key in command_keys
    )
    lead = "Set over the file, by the command's options or the workbench's edits:"
    return f"<p><b>{lead}</b> {listed}.</p>\n"


DISTRICTS_FILE = "districts.csv"
"""A run's KPIs per district (:func:`sim.metrics.district_kpis`), in the results folder."""


def district_table(districts: pd.DataFrame | None) -> str:
    """The KPIs given per district (:data:`sim.metrics.DISTRICT_KPIS`): a row per KPI, a
    column per district with its mean and 95 % interval; nothing for a unit of one district
    or a folder without ``districts.csv`` (made before districts were counted)."""
    if districts is None or districts.empty or districts["district"].nunique() < 2:
        return ""
    names = list(dict.fromkeys(districts["district"]))
    rows = []
    for kpi, group in districts.groupby("kpi", sort=False):
        by_name = group.set_index("district")
        unit = kpi_unit(str(kpi), group["unit"].iloc[0])
        cells = []
        for name in names:
            r = by_name.loc[name]
            low, high = level_interval(r["ci_low"], r["ci_high"], str(kpi), unit)
            why = "1 replication" if r["replications"] == 1 else ""
            note = interval(low, high, unit, why=why, of=r["mean"])
            cells.append(number_cell(number(r["mean"], unit), note=note))
        rows.append(f"<tr>{kpi_cell(str(kpi))}{text_cell(unit)}{''.join(cells)}</tr>")
    return (
        "<h2>By district (mean and 95 % interval over replications)</h2>"
        "<p>Each district's households, counted as the unit's are: the districts add up to "
        f"the unit's figures. Every district's figures are in <code>{DISTRICTS_FILE}</code>.</p>"
        + table(["KPI", "unit", *names], rows, numeric_from=2)
    )


RUN_FIGURE_LIST = "sim.output.figures:run_figures"
"""The function listing a run report's figures (imported where they are drawn)."""


def start_run_figures(
    monthly: pd.DataFrame,
    manifest: Mapping[str, Any],
    workers: int | None = None,
    host: DrawingHost | None = None,
) -> Drawing:
    """Start drawing a run report's figures (by ``host`` if given, else on ``workers``
    processes, ``None``: every core), for :func:`render_report`: a command writes its CSV
    files while they are drawn."""
    figures = FigureList(RUN_FIGURE_LIST, (monthly, manifest.get("scenario", {})))
    return start_drawing(figures, workers, host)


def render_report(
    folder: Path,
    summary: pd.DataFrame,
    monthly: pd.DataFrame,
    manifest: dict[str, Any],
    *,
    workers: int | None = None,
    districts: pd.DataFrame | None = None,
    drawing: Drawing | None = None,
) -> str:
    """The report's HTML; figures are also saved under ``folder/figures`` (drawn on
    ``workers`` processes, ``None``: every core, unless ``drawing`` has them under way:
    :func:`start_run_figures`). ``districts``: the run's KPIs per district
    (``districts.csv``), shown when the unit has more than one."""
    scenario = manifest.get("scenario", {})
    drawing = drawing or start_run_figures(monthly, manifest, workers)
    try:  # the page's other parts while the figures are drawn: the command waits less at the end
        command = str(
            manifest.get("command") or f"caseflow run {manifest.get('scenario_file', '')}"
        )
        before = [
            _run_intro(scenario, manifest),
            warnings_html(run_warnings(scenario, manifest, monthly)),
            headline_table(summary),
            staff_time_table(summary),
            district_table(districts),
            _scenario_as_run(scenario, manifest),
            _posterior_section(folder, manifest),
        ]
    except BaseException:
        drawing.stop()
        raise
    images = save_drawing(folder, drawing)
    body = "\n".join(
        [
            *before,
            figures_html(images),
            reproduce_html(
                command,
                manifest,
                "Full scenario as run: <code>scenario.toml</code> and <code>manifest.json</code> "
                "in this folder.",
            ),
        ]
    )
    title = f"caseflow report: {manifest.get('scenario_name', '')}"
    return page(title, body, width="60em")
