"""A sweep's top level: one summary and one report across its points.

``caseflow run SWEEP.toml`` writes each point's results to its own sub-folder, named so that
the folders list in the sweep's order (:func:`point_folder`: ``01_…``, ``02_…``, … rather than
11, 14, 8), and at the top ``summary.csv`` (every KPI at every point, with the swept values)
and ``report.html``: what varies most across the points, every point's warnings, the headline
KPIs side by side and a figure of them against the swept value.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..records import HEADLINE, kpi_label
from .caveats import merged_warnings, run_warnings
from .drawing import DrawingHost, FigureList, save_figures
from .folders import MANIFEST
from .formatting import (
    interval,
    intervals_cut_to_bounds,
    kpi_unit,
    level_interval,
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


@dataclass(frozen=True)
class SweepPoint:
    """One point of a sweep: its sub-folder, scenario name, swept values and results."""

    folder: str
    name: str
    values: dict[str, Any]
    summary: pd.DataFrame
    monthly: pd.DataFrame
    manifest: dict[str, Any]


def point_folder(index: int, count: int, name: str) -> str:
    """The sub-folder of point ``index`` (from 0) of ``count``: its number, zero-padded so
    that folders sort in the sweep's order, and its scenario name."""
    return f"{index + 1:0{max(2, len(str(count)))}d}_{name}"


def _csv_value(value: Any) -> Any:
    """A swept value as a spreadsheet reads it: a number or a word as it is (``split``, not
    ``"split"``, which the CSV file would quote again), a table as TOML writes it."""
    if isinstance(value, str) or (isinstance(value, int | float) and not isinstance(value, bool)):
        return value
    return toml_value(value)


def sweep_summary(points: Sequence[SweepPoint]) -> pd.DataFrame:
    """Every KPI at every point: ``point`` (from 1), ``folder``, ``scenario``, a column per
    swept key, then the point's ``summary.csv`` columns (``kpi``, ``mean``, ``ci_low``, …)."""
    keys = list(dict.fromkeys(k for p in points for k in p.values))
    frames = []
    for i, p in enumerate(points):
        front = {"point": i + 1, "folder": p.folder, "scenario": p.name}
        front.update({k: _csv_value(p.values.get(k)) for k in keys})
        frame = intervals_cut_to_bounds(p.summary)  # as each point's own summary.csv has them
        for j, (column, value) in enumerate(front.items()):
            frame.insert(j, column, value)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def read_sweep_points(folder: Path, manifest: dict[str, Any]) -> list[SweepPoint]:
    """A written sweep's points, from its sub-folders (to rebuild its report)."""
    points = []
    for entry in manifest["points"]:
        sub = folder / entry["name"]
        own = json.loads((sub / MANIFEST).read_text(encoding="utf-8"))
        points.append(
            SweepPoint(
                folder=entry["name"],
                name=str(entry.get("scenario_name") or own.get("scenario_name", entry["name"])),
                values=dict(entry.get("sweep_point") or own.get("sweep_point") or {}),
                summary=pd.read_csv(sub / "summary.csv"),
                monthly=pd.read_csv(sub / "monthly.csv"),
                manifest=own,
            )
        )
    return points


def _values_text(values: dict[str, Any]) -> str:
    return ", ".join(f"{k} = {toml_value(v)}" for k, v in values.items())


def _opening(points: Sequence[SweepPoint]) -> str:
    """Which headline KPI varies most across the points, relative to its first point's value,
    from where to where, with the two intervals."""
    best: tuple[float, str, int, int] | None = None
    means = [p.summary.set_index("kpi")["mean"] for p in points]
    for kpi in HEADLINE:
        values = pd.Series([m.get(kpi, float("nan")) for m in means], dtype=float)
        if values.isna().any() or values.iloc[0] == 0:
            continue
        spread = float(values.max() - values.min()) / abs(float(values.iloc[0]))
        if spread > 0 and (best is None or spread > best[0]):
            best = (spread, kpi, int(values.idxmin()), int(values.idxmax()))
    if best is None:
        return '<p class="lead">No headline KPI differs between the points.</p>'
    _, kpi, low_at, high_at = best

    def at(i: int) -> str:
        r = points[i].summary.set_index("kpi").loc[kpi]
        unit = kpi_unit(kpi, r.get("unit"))
        low, high = level_interval(r["ci_low"], r["ci_high"], kpi, unit)
        why = "1 replication" if r.get("replications") == 1 else ""
        in_unit = "" if unit in ("share", "") else f" {unit}"
        return (
            f"{number(r['mean'], unit)}{in_unit} at {_values_text(points[i].values)} "
            f"(95 % interval {interval(low, high, unit, why=why)})"
        )

    text = f"Across the points, {kpi_label(kpi)} varies most: from {at(low_at)} to {at(high_at)}."
    return f'<p class="lead">{html.escape(text)}</p>'


def _points_table(points: Sequence[SweepPoint]) -> str:
    keys = list(dict.fromkeys(k for p in points for k in p.values))
    rows = []
    for i, p in enumerate(points):
        link = f'<td><a href="{html.escape(p.folder)}/report.html">{html.escape(p.folder)}</a></td>'
        values = "".join(code_cell(toml_value(p.values.get(k)), value=True) for k in keys)
        rows.append(f"<tr>{number_cell(str(i + 1))}{link}{values}</tr>")
    return "<h2>The points</h2>" + table(["point", "sub-folder (its report)", *keys], rows)


def _headline_table(points: Sequence[SweepPoint]) -> str:
    """The headline KPIs side by side: each point's mean, its 95 % interval below."""
    by_point = [p.summary.set_index("kpi") for p in points]
    rows = []
    for kpi in (k for k in HEADLINE if all(k in s.index for s in by_point)):
        unit = kpi_unit(kpi, by_point[0].loc[kpi].get("unit"))
        cells = ""
        for s in by_point:
            r = s.loc[kpi]
            low, high = level_interval(r["ci_low"], r["ci_high"], kpi, unit)
            why = "1 replication" if r.get("replications") == 1 else ""
            note = interval(low, high, unit, why=why, of=r["mean"])
            cells += number_cell(number(r["mean"], unit), note=note)
        rows.append(f"<tr>{kpi_cell(kpi)}{text_cell(unit)}{cells}</tr>")
    header = ["KPI", "unit", *(f"{i + 1}: {_values_text(p.values)}" for i, p in enumerate(points))]
    return (
        "<h2>Headline KPIs at each point</h2><p>Mean over replications, its 95 % interval "
        "below (cut at zero, and a share of households at 1).</p>"
        + table(header, rows, numeric_from=2)
    )


SWEEP_FIGURE_LIST = "sim.output.comparison_figures:sweep_figures"
"""The function listing a sweep report's figure (imported where it is drawn)."""


def render_sweep_report(
    folder: Path,
    points: Sequence[SweepPoint],
    manifest: dict[str, Any],
    host: DrawingHost | None = None,
) -> str:
    """The sweep's report across its points; its figure is also saved under ``figures/``
    (drawn by ``host`` if given, else here)."""
    summary = sweep_summary(points)
    sweep = FigureList(SWEEP_FIGURE_LIST, (summary, [p.values for p in points]))
    images = save_figures(folder, sweep, workers=1, host=host)
    source = str(manifest.get("sweep_of", ""))
    keys = list(dict.fromkeys(k for p in points for k in p.values))
    first = points[0].manifest
    intro = (
        f"<h1>Sweep of {html.escape(Path(source).name or 'a scenario')}</h1>\n"
        f"<p>{len(points)} points over <code>{html.escape(', '.join(keys))}</code>, seed "
        f"{first.get('seed')}, {first.get('replications')} "
        f"replication{'' if first.get('replications') == 1 else 's'} each; every point "
        "runs with the same seed, so replication <i>r</i> of each point sees the same contacts "
        "and households.</p>"
    )
    by_point = [
        (p.folder, run_warnings(p.manifest.get("scenario", {}), p.manifest, p.monthly))
        for p in points
    ]
    warnings = merged_warnings([], by_point)
    body = "\n".join(
        [
            intro,
            _opening(points),
            warnings_html(warnings),
            _points_table(points),
            _headline_table(points),
            figures_html(images),
            reproduce_html(
                str(manifest.get("command", "")),
                manifest,
                "Each point's own results and report are in its sub-folder; "
                "<code>summary.csv</code> here has every KPI at every point.",
            ),
        ]
    )
    return page(f"caseflow sweep: {Path(source).stem}", body, width="72em")
