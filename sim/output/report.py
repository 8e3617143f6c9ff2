"""The HTML reports of a results folder: one run, or a comparison of alternatives with a base.

Each report is one self-contained file (figures embedded as base64 PNG, also saved under
``figures/``) that a planner can mail. KPIs are shown by their planner labels and units from
the catalogue (:mod:`sim.records`); the CSV files beside the report keep the stable names, which
each table cell carries as its tooltip. The figures themselves are :mod:`sim.output.figures`'.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ..records import HEADLINE, MONTH, column_label, kpi_label
from .figures import comparison_figures, run_figures, save_figures

__all__ = [
    "HEADLINE",
    "UNCERTAINTY_FILE",
    "flatten",
    "range_warnings",
    "render_comparison_report",
    "render_report",
    "scenario_differences",
]

UNCERTAINTY_FILE = "uncertainty.csv"
"""With ``run --posterior``: the spread of each KPI over posterior draws, in the results folder."""

FIRST_GUESS = "first_guess"
"""Parameter sets whose name starts so are hand-set, not fitted: the reports say so."""


# --- pieces shared by both reports ----------------------------------------------------------


def _fmt(x: float) -> str:
    if pd.isna(x):
        return "–"
    if abs(x) >= 1000:
        return f"{x:,.0f}".replace(",", " ")
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.3f}"


def _kpi_cell(kpi: str) -> str:
    """A table cell with the KPI's planner label; its stable name (as in the CSV) on hover."""
    return f'<td title="{html.escape(kpi)}">{html.escape(kpi_label(kpi))}</td>'


def _interval(low: float, high: float) -> str:
    return f"<td>{_fmt(low)} – {_fmt(high)}</td>"


def _table(header: Sequence[str], rows: Iterable[str]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def _figures_html(images: dict[str, str]) -> str:
    return "<h2>Figures</h2>" + "".join(
        f'<figure><img alt="{html.escape(name)}" src="data:image/png;base64,{png}"></figure>'
        for name, png in images.items()
    )


def _warnings_html(warnings: Sequence[str]) -> str:
    items = "".join(f"<li>{html.escape(w)}</li>" for w in warnings) or "<li>none</li>"
    return f"<h2>Warnings</h2><ul>{items}</ul>"


def _reproduce_html(command: str, manifest: dict[str, Any], note: str) -> str:
    """The command that made the folder, the package version and commit, and a closing note."""
    git = manifest.get("git", {})
    version = html.escape(str(manifest.get("package", {}).get("version", "")))
    commit = html.escape(str(git.get("commit", "")))
    dirty = " (with local changes)" if git.get("dirty") else ""
    return (
        f"<h2>Reproduce</h2><pre>{html.escape(command)}\n"
        f"# caseflow {version}, commit {commit}{dirty}</pre>\n<p>{note}</p>"
    )


def _page(title: str, body: str, *, width: str, left_columns: int) -> str:
    """A whole HTML page; the first ``left_columns`` columns of its tables align left."""
    left = ",".join(f"td:nth-child({i + 1})" for i in range(left_columns))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;max-width:{width};margin:2em auto}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:.2em .6em;text-align:right}}{left}{{text-align:left}}
img{{max-width:100%}}pre{{background:#f4f4f4;padding:.5em;overflow:auto}}</style></head><body>
{body}
</body></html>
"""


def _first_guess_warning(parameters_name: str, advice: str) -> list[str]:
    if not parameters_name.startswith(FIRST_GUESS):
        return []
    return ["The parameter set is a hand-set first guess, not fitted to reported flows: " + advice]


def _few_replications_warning(manifest: dict[str, Any]) -> list[str]:
    if int(manifest.get("replications", 0)) < 10:
        return ["Fewer than 10 replications: intervals are wide and unstable."]
    return []


# --- the run report -------------------------------------------------------------------------


def range_warnings(monthly: pd.DataFrame, ranges: dict[str, Any]) -> list[str]:
    """Warnings where the run's monthly means leave the parameter set's calibrated range."""
    out = []
    run = monthly[monthly["period"] == "run"] if "period" in monthly else monthly
    for column, bounds in ranges.items():
        if bounds is None or column not in run:
            continue
        by_month = run.groupby("month")[column].mean().dropna()
        if by_month.empty:
            continue
        low, high = float(by_month.min()), float(by_month.max())
        if low < bounds[0] or high > bounds[1]:
            unit = f" {MONTH[column].unit}" if column in MONTH else ""
            out.append(
                f"{column_label(column)}: {column} ranges over {low:.1f}–{high:.1f}{unit} in "
                f"this run, outside {bounds[0]:g}–{bounds[1]:g}, the range the parameter set was "
                "calibrated for: the model extrapolates there."
            )
    return out


def _headline_table(summary: pd.DataFrame) -> str:
    """The headline KPIs with their mean, 95 % interval and unit."""
    by_kpi = summary.set_index("kpi")
    rows = []
    for kpi in (k for k in HEADLINE if k in by_kpi.index):
        r = by_kpi.loc[kpi]
        rows.append(
            f"<tr>{_kpi_cell(kpi)}<td>{_fmt(r['mean'])}</td>{_interval(r['ci_low'], r['ci_high'])}"
            f"<td>{html.escape(str(r['unit']))}</td></tr>"
        )
    return "<h2>Headline KPIs (mean and 95 % interval over replications)</h2>" + _table(
        ["KPI", "mean", "95 % interval", "unit"], rows
    )


def _scenario_as_run(scenario: dict[str, Any], manifest: dict[str, Any]) -> str:
    """The scenario as run; keys set in this scenario (not inherited from its base) in bold."""
    flat = flatten({k: v for k, v in scenario.items() if k not in ("name", "description")})
    own = set(manifest.get("own_keys") or [])
    base = manifest.get("extends")

    def changed(key: str) -> bool:
        return any(key == k or key.startswith(k + ".") for k in own)

    def key_cell(key: str) -> str:
        name = html.escape(key)
        return f"<td><b>{name}</b></td>" if changed(key) else f"<td>{name}</td>"

    rows = [f"<tr>{key_cell(k)}<td>{html.escape(str(v))}</td></tr>" for k, v in flat.items()]
    if base:
        listed = ", ".join(
            f"<code>{html.escape(k)}</code> = {html.escape(str(v))}"
            for k, v in flat.items()
            if changed(k)
        )
        intro = (
            f"<p>Extends <code>{html.escape(str(base))}</code>; set here (in bold below): "
            f"{listed or 'nothing'}.</p>"
        )
    else:
        intro = "<p>A scenario of its own (it extends no other file).</p>"
    return (
        f"<h2>The scenario as run</h2>{intro}<details><summary>every key as run "
        f"({len(flat)})</summary>{_table(['key', 'value'], rows)}</details>"
    )


def _posterior_section(folder: Path, manifest: dict[str, Any]) -> str:
    """With ``run --posterior``: each headline figure's 90 % range and where its spread comes
    from (parameter uncertainty against stochastic noise)."""
    info = manifest.get("posterior")
    path = folder / UNCERTAINTY_FILE
    if not info or not path.exists():
        return ""
    table = pd.read_csv(path).set_index("kpi")

    def share(x: float) -> str:
        return "" if pd.isna(x) else f"{x:.0%}"

    rows = []
    for kpi in (k for k in HEADLINE if k in table.index):
        r = table.loc[kpi]
        rows.append(
            f"<tr>{_kpi_cell(kpi)}<td>{_fmt(r['mean'])}</td>{_interval(r['p05'], r['p95'])}"
            f"<td>{share(r['parameter_share'])}</td><td>{share(1 - r['parameter_share'])}</td></tr>"
        )
    return (
        "<h2>Parameter uncertainty and noise</h2>"
        f"<p>{info['draws']} draws from the fitted posterior × {info['replications_per_draw']} "
        "replications each, every draw under the same random numbers. The 90 % range covers "
        "both sources; the shares split the variance into the part due to not knowing the "
        "parameters (between draws) and the part due to chance (between replications). The "
        "headline table's 95 % intervals above are for the mean over all runs.</p>"
        + _table(["KPI", "mean", "90 % of runs", "parameter share", "noise share"], rows)
    )


def _auto_replications_warning(auto: dict[str, Any] | None) -> list[str]:
    """What the automatic choice of the number of replications did (``--replications auto``)."""
    if not auto:
        return []
    kpis = ", ".join(kpi_label(k) for k in auto["kpis"])
    if auto.get("reached"):
        return [
            f"Replications chosen automatically: {auto['replications_used']} run; the 95 % "
            f"intervals of {kpis} were within ±{auto['precision']:.0%} of the mean from "
            f"{auto['solution']} on."
        ]
    return [
        f"Replications chosen automatically, but the cap of {auto['cap']} was reached before "
        f"{kpis} were within ±{auto['precision']:.0%}."
    ]


def _run_warnings(
    scenario: dict[str, Any], manifest: dict[str, Any], monthly: pd.DataFrame
) -> list[str]:
    """Everything a reader should know before trusting the run's figures."""
    warnings = []
    empty = not any(scenario.get("initial_caseload", {}).get("by_class", {}).values())
    if not scenario.get("warmup_days", 0) and empty:
        warnings.append(
            "The run starts empty with no warm-up: early months understate the caseload."
        )
    warnings += _few_replications_warning(manifest)
    warnings += _auto_replications_warning(manifest.get("replications_auto"))
    params = manifest.get("parameters", {})
    warnings += range_warnings(monthly, params.get("calibrated_range") or {})
    warnings += _first_guess_warning(
        str(params.get("name", "")), "read the figures as the model's mechanics, not as forecasts."
    )
    return warnings


def _run_intro(scenario: dict[str, Any], manifest: dict[str, Any]) -> str:
    """The title, the scenario's description and how it was run."""
    name = html.escape(str(manifest.get("scenario_name", "")))
    return (
        f"<h1>{name}</h1>\n<p>{html.escape(str(scenario.get('description', '')))}</p>\n"
        f"<p>Seed {manifest.get('seed')}, {manifest.get('replications')} replications,\n"
        f"{scenario.get('start_date')} + {scenario.get('horizon_years')} years\n"
        f"(warm-up {scenario.get('warmup_days', 0)} days, excluded).</p>"
    )


def render_report(
    folder: Path, summary: pd.DataFrame, monthly: pd.DataFrame, manifest: dict[str, Any]
) -> str:
    """The report's HTML; figures are also saved under ``folder/figures``."""
    scenario = manifest.get("scenario", {})
    images = save_figures(folder, run_figures(monthly, scenario))
    command = str(manifest.get("command") or f"caseflow run {manifest.get('scenario_file', '')}")
    body = "\n".join(
        [
            _run_intro(scenario, manifest),
            _scenario_as_run(scenario, manifest),
            _headline_table(summary),
            _posterior_section(folder, manifest),
            _figures_html(images),
            _warnings_html(_run_warnings(scenario, manifest, monthly)),
            _reproduce_html(
                command,
                manifest,
                "Full scenario as run: <code>scenario.toml</code> and <code>manifest.json</code> "
                "in this folder.",
            ),
        ]
    )
    title = f"caseflow report: {manifest.get('scenario_name', '')}"
    return _page(title, body, width="60em", left_columns=1)


# --- the comparison report ------------------------------------------------------------------


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """Nested tables as dotted keys (lists are compared whole)."""
    out: dict[str, Any] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            out.update(flatten(value, f"{prefix}{key}."))
        return out
    out[prefix.rstrip(".")] = data
    return out


def scenario_differences(base: dict[str, Any], other: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """Keys whose values differ between two scenarios as run (name and description aside)."""
    fb, fo = flatten(base), flatten(other)
    skip = {"name", "description"}
    return [
        (k, fb.get(k, "–"), fo.get(k, "–"))
        for k in sorted(set(fb) | set(fo))
        if k not in skip and fb.get(k) != fo.get(k)
    ]


def _scenarios_section(scenarios: Sequence[dict[str, Any]]) -> str:
    """The base, and each alternative with the keys where it differs from the base."""
    base = scenarios[0]
    parts = [
        f"<h2>Scenarios</h2><p>Base: <b>{html.escape(base['name'])}</b> – "
        f"{html.escape(base.get('description', ''))}</p>"
    ]
    for other in scenarios[1:]:
        rows = [
            f"<tr><td>{html.escape(k)}</td><td>{html.escape(str(b))}</td>"
            f"<td><b>{html.escape(str(o))}</b></td></tr>"
            for k, b, o in scenario_differences(base, other)
        ]
        parts.append(
            f"<h3>{html.escape(other['name'])}</h3><p>{html.escape(other.get('description', ''))}</p>"
            + _table(["key", "base", "this alternative"], rows)
        )
    return "".join(parts)


def _differences_table(differences: pd.DataFrame) -> str:
    """The headline KPIs of each alternative against the base, paired and unpaired."""
    by = differences.set_index(["alternative", "kpi"])
    rows = []
    for alt in dict.fromkeys(differences["alternative"]):
        for kpi in (k for k in HEADLINE if (alt, k) in by.index):
            r = by.loc[(alt, kpi)]
            rows.append(
                f"<tr><td>{html.escape(alt)}</td>{_kpi_cell(kpi)}"
                f"<td>{_fmt(r['base_mean'])}</td><td>{_fmt(r['alternative_mean'])}</td>"
                f"<td>{_fmt(r['difference'])}{' *' if r['significant'] else ''}</td>"
                f"{_interval(r['ci_low'], r['ci_high'])}"
                f"{_interval(r['unpaired_ci_low'], r['unpaired_ci_high'])}"
                f"<td>{html.escape(str(r.get('unit', '')))}</td></tr>"
            )
    header = ["alternative", "KPI", "base", "alternative", "difference"]
    header += ["paired 95 % interval", "unpaired 95 % interval", "unit"]
    return (
        "<h2>Differences from the base</h2>\n<p>Paired 95 % interval of the mean difference over "
        "replications; the unpaired (Welch) interval,\nwhich ignores the common random numbers, "
        "is shown for reference. * = the paired interval excludes 0.</p>\n" + _table(header, rows)
    )


def _comparison_intro(scenarios: Sequence[dict[str, Any]], manifest: dict[str, Any]) -> str:
    return (
        f"<h1>Comparison with {html.escape(scenarios[0]['name'])}</h1>\n"
        f"<p>{len(scenarios) - 1} alternative(s), seed {manifest.get('seed')}, "
        f"{manifest.get('replications')} replications each,\ncommon random numbers: replication "
        "<i>r</i> of every scenario sees the same contacts and households.</p>"
    )


def render_comparison_report(
    folder: Path,
    differences: pd.DataFrame,
    named_monthly: list[tuple[str, pd.DataFrame]],
    scenarios: list[dict[str, Any]],
    manifest: dict[str, Any],
) -> str:
    """One self-contained HTML page comparing alternatives with the base."""
    images = save_figures(folder, comparison_figures(differences, named_monthly))
    warnings = _few_replications_warning(manifest) + _first_guess_warning(
        str(manifest.get("parameters_name", "")), "compare mechanisms, not forecasts."
    )
    body = "\n".join(
        [
            _comparison_intro(scenarios, manifest),
            _scenarios_section(scenarios),
            _differences_table(differences),
            _figures_html(images),
            _warnings_html(warnings),
            _reproduce_html(
                str(manifest.get("command", "")),
                manifest,
                "Each scenario's own results and report are in its sub-folder; "
                "<code>comparison.csv</code> has every KPI.",
            ),
        ]
    )
    title = f"caseflow comparison: {scenarios[0]['name']}"
    return _page(title, body, width="64em", left_columns=2)
