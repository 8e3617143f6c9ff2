"""The comparison report: a base and its alternatives under common random numbers.

It opens with what changed most in each alternative (with its paired interval), then the
warnings of every scenario compared (each alternative's own report may warn of something the
base does not), the keys where each alternative differs from the base (as a scenario file
writes them), per alternative a table of its headline differences and its staff time (hours by role,
delivered shares, hand-overs), and the figures.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..records import AR_TEAM, HEADLINE, STAFF_TIME, kpi_label
from .caveats import (
    few_replications_warning,
    first_guess_warning,
    intake_backlog_warning,
    merged_warnings,
    run_warnings,
    setting_warnings,
)
from .drawing import DrawingHost, FigureList, save_figures
from .folders import MANIFEST
from .formatting import (
    difference_interval,
    flatten,
    has_interval,
    interval,
    kpi_unit,
    lower_first,
    number,
    percent_change,
    toml_value,
    unit_floor,
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


def scenario_differences(base: dict[str, Any], other: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """Keys whose values differ between two scenarios as run (name and description aside)."""
    fb, fo = flatten(base), flatten(other)
    skip = {"name", "description"}
    return [
        (k, fb.get(k), fo.get(k))
        for k in sorted(set(fb) | set(fo))
        if k not in skip and fb.get(k) != fo.get(k)
    ]


def _sweep_note(manifest: dict[str, Any]) -> str:
    """Where the base comes from when it is a sweep's first point (``compare SWEEP.toml``)."""
    point = manifest.get("base_sweep_point") or {}
    if not point:
        return ""
    values = ", ".join(f"{k} = {toml_value(v)}" for k, v in point.items())
    source = manifest.get("base_file", "")
    return f" The base is the first point of the sweep in <code>{html.escape(source)}</code>: " + (
        f"<code>{html.escape(values)}</code>."
    )


def _scenarios_section(scenarios: Sequence[dict[str, Any]], manifest: dict[str, Any]) -> str:
    """The base, and each alternative with the keys where it differs from the base."""
    base = scenarios[0]
    parts = [
        f"<h2>Scenarios</h2><p>Base: <b>{html.escape(base['name'])}</b> – "
        f"{html.escape(base.get('description', ''))}.{_sweep_note(manifest)}</p>"
    ]
    for other in scenarios[1:]:
        rows = [
            f"<tr>{code_cell(k)}{code_cell(toml_value(b), value=True)}"
            f"{code_cell(toml_value(o), bold=True, value=True)}</tr>"
            for k, b, o in scenario_differences(base, other)
        ]
        description = other.get("description", "")
        if description and description == base.get("description"):
            # inherited from the base, it would describe the base (say, its staff numbers)
            description = "Described as the base is (the description is inherited); it differs in:"
        parts.append(
            f"<h3>{html.escape(other['name'])}</h3>"
            f"<p>{html.escape(description)}</p>" + table(["key", "base", "this alternative"], rows)
        )
    return "".join(parts)


def _cells(r: pd.Series, kpi: str) -> tuple[str, str, str]:
    """A difference row's unit, its difference (with * when the paired interval excludes 0)
    and its paired interval, cut where the alternative would fall below zero."""
    unit = kpi_unit(kpi, r.get("unit"))
    low, high = difference_interval(r["ci_low"], r["ci_high"], r["base_mean"], kpi, unit)
    why = "1 replication" if r.get("replications") == 1 else ""
    star = " *" if bool(r["significant"]) else ""
    paired = interval(low, high, unit, sign=True, why=why, of=r["difference"])
    return unit, number(r["difference"], unit, sign=True) + star, paired


DIFFERENCES_HEADER = [
    "KPI",
    "unit",
    "base",
    "alternative",
    "difference",
    "% of base",
    "paired 95 % interval",
    "unpaired 95 % interval",
]
"""The columns of a table of differences from the base."""


def _difference_rows(rows: pd.DataFrame, kpis: Sequence[str]) -> list[str]:
    """One alternative's rows of the KPIs ``kpis`` (those missing skipped) against the base,
    paired and unpaired."""
    by_kpi = rows.set_index("kpi")
    out = []
    for kpi in (k for k in kpis if k in by_kpi.index):
        r = by_kpi.loc[kpi]
        unit, difference, paired = _cells(r, kpi)
        low, high = difference_interval(
            r["unpaired_ci_low"], r["unpaired_ci_high"], r["base_mean"], kpi, unit
        )
        out.append(
            f"<tr>{kpi_cell(kpi)}{text_cell(unit)}"
            f"{number_cell(number(r['base_mean'], unit))}"
            f"{number_cell(number(r['alternative_mean'], unit))}"
            f"{number_cell(difference)}"
            f"{number_cell(percent_change(r['difference'], r['base_mean'], kpi))}"
            f"{number_cell(paired)}"
            f"{number_cell(interval(low, high, unit, sign=True, of=r['difference']))}</tr>"
        )
    return out


def _differences_table(rows: pd.DataFrame) -> str:
    """One alternative's headline KPIs against the base, paired and unpaired, then its staff
    time (:data:`sim.records.STAFF_TIME`, under a heading row per group, without the KPIs
    the headline rows show; none for a comparison made before staff time was modelled), in
    one table so that columns align."""
    out = _difference_rows(rows, HEADLINE)
    ar_heading, ar_kpis = AR_TEAM
    ar_rows = _difference_rows(rows, [k for k in ar_kpis if k not in HEADLINE])
    if ar_rows:
        out.append(
            f'<tr><th colspan="{len(DIFFERENCES_HEADER)}">{html.escape(ar_heading)}</th></tr>'
        )
        out += ar_rows
    for heading, kpis in STAFF_TIME:
        group = _difference_rows(rows, [k for k in kpis if k not in HEADLINE])
        if group:
            title = html.escape(f"Staff time: {lower_first(heading)}")
            out.append(f'<tr><th colspan="{len(DIFFERENCES_HEADER)}">{title}</th></tr>')
            out += group
    return table(DIFFERENCES_HEADER, out, numeric_from=2)


def backlogged(named_monthly: Sequence[tuple[str, pd.DataFrame]]) -> list[str]:
    """The scenarios whose intake could not take its inflow (:func:`intake_backlog_warning`):
    their households, assistance, exits and costs are understated, and differences with them."""
    return [name for name, monthly in named_monthly if intake_backlog_warning(monthly)]


def comparison_backlog(comparison: Any) -> list[str]:
    """:func:`backlogged` of a comparison's results (``base`` and ``alternatives``, each with
    its ``resolved`` scenario and ``monthly`` rows: the runner's or the API's)."""
    every = [comparison.base, *comparison.alternatives]
    return backlogged([(r.resolved.name, r.monthly) for r in every])


def backlog_caveat(base: str, alt: str, backlog: Sequence[str]) -> str:
    """The caveat beside an alternative's differences when the base's or its own intake could
    not take its inflow (plain text; the report, the notebook display and the workbench say
    it); "" otherwise."""
    which = [name for name in (base, alt) if name in backlog]
    if not which:
        return ""
    names = " and ".join(which)
    return (
        f"The intake of {names} could not take its inflow: households booked but not yet "
        f"visited wait outside the caseload, so households, assistance paid, exits and costs "
        f"of {names} are understated, and these differences with them (see the warnings)."
    )


def _backlog_note(base: str, alt: str, backlog: Sequence[str]) -> str:
    said = backlog_caveat(base, alt, backlog)
    return f'<p class="warn">{html.escape(said)}</p>' if said else ""


def differences_html(differences: pd.DataFrame, base: str = "", backlog: Sequence[str] = ()) -> str:
    """The differences from the base (named ``base``): one table per alternative, under a
    caveat where the base's or the alternative's intake could not take its inflow
    (``backlog``: :func:`backlogged`)."""
    over_draws = "draws" in differences.columns and bool(differences["draws"].notna().any())
    over = "the posterior draws' mean differences" if over_draws else "replications"
    parts = [
        "<h2>Differences from the base</h2>\n<p>Paired 95 % interval of the mean difference over "
        f"{over}; the unpaired (Welch) interval, which ignores the common random numbers, "
        "is shown for reference. * = the paired interval excludes 0. An interval stops where "
        "the alternative would fall below zero (or a share of households or of planned "
        "contact above 1). Below each alternative's headline KPIs, its staff time: hours are "
        "case hours per year; a load against the norm above 1 is above the caseload norm. "
        "<code>comparison.csv</code> has every KPI.</p>"
    ]
    for alt in dict.fromkeys(differences["alternative"]):
        rows = differences[differences["alternative"] == alt]
        parts.append(f"<h3>{html.escape(str(alt))}</h3>")
        parts.append(_backlog_note(base, str(alt), backlog))
        parts.append(_differences_table(rows))
    return "\n".join(parts)


def posterior_html(differences: pd.DataFrame, manifest: dict[str, Any]) -> str:
    """With ``compare --posterior``: each alternative's headline differences over the draws,
    and the share of each difference's variance that comes from the fitted parameters' spread
    rather than from the noise of single runs."""
    info = manifest.get("posterior")
    if not info or "parameter_share" not in differences:
        return ""
    rows = []
    for alt in dict.fromkeys(differences["alternative"]):
        mine = differences[(differences["alternative"] == alt) & differences["kpi"].isin(HEADLINE)]
        for _, r in mine.iterrows():
            kpi = str(r["kpi"])
            unit, difference, paired = _cells(r, kpi)
            share = r["parameter_share"]
            shown = "" if pd.isna(share) else f"{share:.0%}"
            rows.append(
                f"<tr>{text_cell(str(alt))}{kpi_cell(kpi)}{text_cell(unit)}"
                f"{number_cell(difference)}{number_cell(paired)}{number_cell(shown)}</tr>"
            )
    header = ["alternative", "KPI", "unit", "difference", "95 % interval", "parameter share"]
    return (
        "<h2>Parameter uncertainty in the differences</h2>"
        f"<p>Every scenario ran over the same {info['draws']} draws from the fitted posterior × "
        f"{info['replications_per_draw']} replications, paired by draw and replication. Each "
        "interval is over the draws' mean differences, so it carries what the fit leaves "
        "uncertain as well as the noise; the parameter share is the part of a difference's "
        "variance that comes from the parameters (the rest is the noise of single runs).</p>"
        + table(header, rows, numeric_from=3)
    )


SHARE_FLOOR = 0.01
"""The least mean the opening's ranking counts for a KPI without a unit floor (a share)."""


def largest_change(rows: pd.DataFrame) -> tuple[pd.Series | None, bool]:
    """The headline KPI one alternative changes most, relative to the base, and whether its
    paired interval excludes 0; among the KPIs that clearly differ if any do."""
    rows = rows[rows["kpi"].isin(HEADLINE) & rows["difference"].notna()]
    rows = rows[rows["difference"] != 0]
    # less than one of its unit (a tenth of a household, half a day) is no headline change,
    # however large against a small base
    rows = rows[rows["difference"].abs() >= rows["kpi"].map(unit_floor).astype(float)]
    if rows.empty:
        return None, False
    clear = rows[rows["significant"].astype(bool)]
    pool = clear if not clear.empty else rows
    # the factor between the two means, either way (|log of their ratio|): a percentage can
    # rise without end but fall by 100 % at most, so a wait cut from 81 to 6 days (-93 %)
    # would rank below a count that doubles (+100 %); means under one unit count as one unit
    # (a share has no unit floor: a hundredth stands in, so that a share falling to 0 is no
    # infinite factor)
    floor = pool["kpi"].map(unit_floor).astype(float)
    floor = floor.where(floor > 0, SHARE_FLOOR)
    base = np.maximum(pool["base_mean"].abs(), floor)
    alternative = np.maximum((pool["base_mean"] + pool["difference"]).abs(), floor)
    relative = np.abs(np.log(alternative / base)).fillna(-1.0)
    return pool.loc[relative.idxmax()], not clear.empty


def change_text(rows: pd.DataFrame) -> str:
    """What one alternative changed most, by how much, with its paired interval (plain text;
    ``rows`` are its rows of the differences)."""
    r, clear = largest_change(rows)
    if r is None:
        return "no headline KPI changes."
    kpi = str(r["kpi"])
    unit, difference, paired = _cells(r, kpi)
    # no percentage of a base under one unit (0.4 households): it says nothing
    pct = percent_change(r["difference"], r["base_mean"], kpi)
    shown = has_interval(r["ci_low"], r["ci_high"])
    in_unit = "" if unit in ("share", "") else f" {unit}"
    text = (
        f"{kpi_label(kpi)} changes most, from {number(r['base_mean'], unit)} to "
        f"{number(r['alternative_mean'], unit)}{in_unit}: {difference.removesuffix(' *')}"
        f"{f' ({pct})' if pct else ''}, "
        + (f"paired 95 % interval {paired}." if shown else f"{paired}.")
    )
    if shown and not clear:
        text = (
            "no headline KPI differs clearly from the base (every paired 95 % interval "
            f"includes 0); the largest change: {lower_first(text)}"
        )
    return text


def opening_html(differences: pd.DataFrame) -> str:
    """What changed most in each alternative: the report's opening."""
    items = [
        f"<li><b>{html.escape(str(alt))}</b>: "
        f"{html.escape(change_text(differences[differences['alternative'] == alt]))}</li>"
        for alt in dict.fromkeys(differences["alternative"])
    ]
    return f'<p class="lead">Against the base:</p><ul class="lead">{"".join(items)}</ul>'


def _scenario_manifests(folder: Path, names: Sequence[str]) -> list[dict[str, Any]]:
    """Each compared scenario's own manifest, from its sub-folder (missing ones skipped)."""
    out = []
    for name in names:
        path = folder / name / MANIFEST
        if path.exists():
            out.append(json.loads(path.read_text(encoding="utf-8")))
    return out


def comparison_warnings(
    manifest: dict[str, Any],
    named_monthly: Sequence[tuple[str, pd.DataFrame]],
    scenario_manifests: Sequence[dict[str, Any]],
) -> list[str]:
    """The comparison's own warnings, then every scenario's (:func:`merged_warnings`)."""
    own = few_replications_warning(manifest) + first_guess_warning(
        str(manifest.get("parameters_name", "")), "compare mechanisms, not forecasts."
    )
    if scenario_manifests:
        base, *alternatives = scenario_manifests
        own += setting_warnings(
            str(base.get("scenario_name", "")),
            base.get("scenario", {}),
            base.get("parameters"),
            [
                (str(m.get("scenario_name", "")), m.get("scenario", {}), m.get("parameters"))
                for m in alternatives
            ],
        )
    monthly = dict(named_monthly)
    by_scenario = [
        (
            str(m.get("scenario_name", "")),
            run_warnings(m.get("scenario", {}), m, monthly.get(m.get("scenario_name", ""), _NONE)),
        )
        for m in scenario_manifests
    ]
    return merged_warnings(own, by_scenario)


_NONE = pd.DataFrame({"month": []})

COMPARISON_FIGURE_LIST = "sim.output.comparison_figures:comparison_figures"
"""The function listing a comparison report's figures (imported where they are drawn)."""


def render_comparison_report(
    folder: Path,
    differences: pd.DataFrame,
    named_monthly: list[tuple[str, pd.DataFrame]],
    scenarios: list[dict[str, Any]],
    manifest: dict[str, Any],
    scenario_manifests: Sequence[dict[str, Any]] | None = None,
    *,
    workers: int | None = None,
    host: DrawingHost | None = None,
) -> str:
    """One self-contained HTML page comparing alternatives with the base.

    ``scenario_manifests`` are the compared scenarios' own manifests, whose warnings the
    report carries; without them they are read from the scenarios' sub-folders of ``folder``.
    The figures are drawn by ``host`` if given, else on ``workers`` processes (``None``:
    every core).
    """
    if scenario_manifests is None:
        scenario_manifests = _scenario_manifests(folder, [name for name, _ in named_monthly])
    figures = FigureList(COMPARISON_FIGURE_LIST, (differences, named_monthly))
    images = save_figures(folder, figures, workers, host)
    warnings = comparison_warnings(manifest, named_monthly, scenario_manifests)
    body = "\n".join(
        [
            _comparison_intro(scenarios, manifest),
            opening_html(differences),
            warnings_html(warnings),
            differences_html(differences, named_monthly[0][0], backlogged(named_monthly)),
            posterior_html(differences, manifest),
            _scenarios_section(scenarios, manifest),
            figures_html(images),
            reproduce_html(
                str(manifest.get("command", "")),
                manifest,
                "Each scenario's own results and report are in its sub-folder; "
                "<code>comparison.csv</code> has every KPI.",
            ),
        ]
    )
    title = f"caseflow comparison: {scenarios[0]['name']}"
    return page(title, body, width="78em")


def _comparison_intro(scenarios: Sequence[dict[str, Any]], manifest: dict[str, Any]) -> str:
    replications = manifest.get("replications")
    n = len(scenarios) - 1
    posterior = manifest.get("posterior")
    if isinstance(posterior, dict) and posterior.get("draws"):
        runs = (
            f"{posterior['draws']} posterior draws × {posterior.get('replications_per_draw')} "
            "replications each, common random numbers: draw <i>d</i>'s replication <i>r</i> of "
            "every scenario has the same parameters, contacts and households"
        )
    else:
        runs = (
            f"{replications} replication{'' if replications == 1 else 's'} each, common "
            "random numbers: replication <i>r</i> of every scenario sees the same contacts and "
            "households"
        )
    return (
        f"<h1>Comparison with {html.escape(scenarios[0]['name'])}</h1>\n"
        f"<p>{n} alternative{'' if n == 1 else 's'}, seed {manifest.get('seed')}, {runs}.</p>"
    )


__all__ = [
    "backlog_caveat",
    "backlogged",
    "change_text",
    "comparison_backlog",
    "comparison_warnings",
    "differences_html",
    "largest_change",
    "opening_html",
    "render_comparison_report",
    "scenario_differences",
]
