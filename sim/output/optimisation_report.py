"""The report of an optimisation (``caseflow optimise``): what it recommends and how sure,
the front of budgeted staff cost against each objective, the finalists, and the chosen
alternatives' paired differences from the base.

It is drawn from the tables the results folder holds (``candidates.csv``, ``pareto.csv``,
``selection.csv``, ``differences.csv``, ``posterior.csv``), so it knows nothing of the search.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import base64

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from ..records import HEADLINE, kpi_label
from .drawing import png_bytes
from .formatting import (
    axis_scale,
    difference_interval,
    interval,
    kpi_unit,
    number,
    toml_value,
)
from .page import (
    code_cell,
    kpi_cell,
    number_cell,
    page,
    reproduce_html,
    table,
    text_cell,
    warnings_html,
)

Objective = tuple[str, str]
"""A KPI and its direction (``minimise`` or ``maximise``)."""


def front_figure(
    candidates: pd.DataFrame,
    pareto: pd.DataFrame,
    objectives: Sequence[Objective],
    budget: float | None,
) -> Figure:
    """One panel per objective: every simulated candidate's budgeted staff cost against the
    objective's mean (feasible dots, infeasible crosses), the front as a line, the finalists
    ringed, the chosen one a star, the base a square, the budget a dashed line."""
    fig, axes = plt.subplots(
        1, len(objectives), figsize=(5.2 * len(objectives), 4.2), squeeze=False
    )
    simulated = candidates[candidates["simulated"].astype(bool)]
    for ax, (kpi, direction) in zip(axes[0], objectives, strict=True):
        scale, unit = axis_scale(kpi_unit(kpi))
        cost = simulated["budgeted_staff_cost_sek"] / 1e6
        value = simulated[kpi] / scale
        feasible = simulated["feasible"].astype(bool)
        ax.scatter(cost[feasible], value[feasible], s=18, color="#4477aa", label="feasible")
        ax.scatter(
            cost[~feasible],
            value[~feasible],
            s=18,
            marker="x",
            color="#cc6677",
            label="breaks a constraint",
        )
        if len(pareto):
            front = pareto.sort_values("budgeted_staff_cost_sek")
            ax.plot(
                front["budgeted_staff_cost_sek"] / 1e6,
                front[kpi] / scale,
                color="#228833",
                lw=1.2,
                label="front (cost and every objective)",
            )
        marks: list[tuple[pd.Series, dict[str, Any]]] = [
            (
                simulated["finalist"].astype(bool),
                {"s": 90, "facecolors": "none", "edgecolors": "black", "label": "finalist"},
            ),
            (
                simulated["chosen"].astype(bool),
                {"s": 160, "marker": "*", "color": "#ee7733", "label": "chosen", "zorder": 5},
            ),
            (
                simulated["candidate"] == "base",
                {"s": 60, "marker": "s", "color": "grey", "label": "base", "zorder": 4},
            ),
        ]
        for mask, style in marks:
            ax.scatter(cost[mask], value[mask], **style)
        if budget is not None:
            ax.axvline(budget / 1e6, color="grey", ls="--", lw=1, label="budget")
        ax.set_xlabel("Budgeted staff cost (Mkr a year)")
        ax.set_ylabel(f"{kpi_label(kpi).removesuffix(' (SEK)')} ({unit})")
        ax.set_title(f"{kpi_label(kpi)}: {direction}", fontsize=10)
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=7, loc="best")
    fig.tight_layout()
    return fig


def short_key(key: str) -> str:
    """A decision variable as a column head: ``intake_social_workers`` for
    ``staff.intake_social_workers.posts``, ``ar_team.places`` as it is (the full key is in the
    CSV files and in the lead)."""
    return key.removeprefix("staff.").removesuffix(".posts")


def _values_text(row: pd.Series, variables: Sequence[str]) -> str:
    return ", ".join(f"{key} = {toml_value(row[key])}" for key in variables)


def _lead(
    selection: pd.DataFrame,
    posterior: pd.DataFrame | None,
    variables: Sequence[str],
    objectives: Sequence[Objective],
    feasible: int,
) -> str:
    """The report's first paragraph: what is recommended and how surely (``feasible``: the
    searched candidates that met every constraint)."""
    if selection.empty or "chosen" not in selection or not selection["chosen"].fillna(False).any():
        if len(selection) == 1:
            row = selection.iloc[0]
            which = (
                f"<b>{html.escape(str(row['candidate']))}</b> "
                f"({html.escape(_values_text(row, variables))})"
            )
            if feasible > 1:
                return (
                    f'<p class="lead">{feasible} candidates met every constraint; {which} is the '
                    "only finalist: it is as good as each of the others in every objective and "
                    "better in at least one (alone on the objectives' front). No selection was "
                    "needed.</p>"
                )
            return (
                f'<p class="lead">One candidate met every constraint: {which}. No selection '
                "was needed.</p>"
            )
        return '<p class="lead">No candidate met every constraint: nothing is recommended.</p>'
    row = selection[selection["chosen"].fillna(False).astype(bool)].iloc[0]
    kpi = objectives[0][0]
    unit = kpi_unit(kpi)
    sure = (
        f"with probability of correct selection at least "
        f"{row['probability_correct_selection']:.2f} "
        f"if the best is better than the others by {number(row['indifference_zone'], unit)} {unit} "
        "or more (KN++; otherwise it is within that of the best with that probability)"
        if bool(row.get("guaranteed", False))
        else "without the stated guarantee: the selection stopped at its replication cap"
    )
    text = (
        f'<p class="lead">Recommended: <b>{html.escape(str(row["candidate"]))}</b> '
        f"({html.escape(_values_text(row, variables))}), budgeted staff cost "
        f"{number(row['budgeted_staff_cost_sek'], 'SEK')} SEK a year; "
        f"{html.escape(kpi_label(kpi))} {number(row['mean'], unit)} {html.escape(unit)} "
        f"over {int(row['replications'])} replications, chosen {html.escape(sure)}.</p>"
    )
    if posterior is not None and len(posterior):
        mine = posterior[posterior["candidate"] == row["candidate"]]
        if len(mine):
            text += (
                f"<p>Over {int(mine['draws'].iloc[0])} draws of the fitted parameters it is the "
                f"best finalist in {mine['probability_best'].iloc[0]:.0%} of the draws.</p>"
            )
    return text


def _finalist_table(
    selection: pd.DataFrame,
    posterior: pd.DataFrame | None,
    variables: Sequence[str],
    objectives: Sequence[Objective],
) -> str:
    kpi = objectives[0][0]
    unit = kpi_unit(kpi)
    chances = (
        {}
        if posterior is None
        else dict(zip(posterior["candidate"], posterior["probability_best"], strict=True))
    )
    header = [
        "candidate",
        *(short_key(v) for v in variables),
        "budgeted staff cost (SEK)",
        f"{kpi_label(kpi)} (mean)",
        "replications",
        "fate",
        "P(best) over posterior",
    ]
    rows = []
    for _, r in selection.iterrows():
        dropped = r.get("dropped")
        if isinstance(dropped, str) and dropped:
            fate = f"dropped: {dropped}"
        elif bool(r.get("chosen", False)):
            fate = "chosen"
        elif not pd.isna(r.get("eliminated_at", math.nan)):
            fate = f"eliminated after {int(r['eliminated_at'])} replications"
        else:
            fate = "left at the cap"
        mean = r.get("mean", math.nan)
        reps = r.get("replications", math.nan)
        chance = chances.get(r["candidate"])
        cells = (
            text_cell(str(r["candidate"]), bold=bool(r.get("chosen", False)))
            + "".join(code_cell(toml_value(r[v])) for v in variables)
            + number_cell(number(r["budgeted_staff_cost_sek"], "SEK"))
            + number_cell("–" if pd.isna(mean) else number(mean, unit))
            + number_cell("–" if pd.isna(reps) else str(int(reps)))
            + text_cell(fate)
            + number_cell("–" if chance is None else f"{chance:.2f}")
        )
        rows.append(f"<tr>{cells}</tr>")
    return table(header, rows, numeric_from=None)


def _difference_tables(differences: pd.DataFrame, kpis: Sequence[str]) -> str:
    if differences.empty or "alternative" not in differences:
        return "<p>No candidate was compared with the base: none met the constraints.</p>"
    out = []
    for name, group in differences.groupby("alternative", sort=False):
        by_kpi = group.set_index("kpi")
        rows = []
        for kpi in (k for k in kpis if k in by_kpi.index):
            r = by_kpi.loc[kpi]
            unit = kpi_unit(kpi, r.get("unit"))
            low, high = difference_interval(r["ci_low"], r["ci_high"], r["base_mean"], kpi, unit)
            rows.append(
                f"<tr>{kpi_cell(kpi)}{text_cell(unit)}"
                f"{number_cell(number(r['base_mean'], unit))}"
                f"{number_cell(number(r['alternative_mean'], unit))}"
                f"{number_cell(number(r['difference'], unit, sign=True))}"
                f"{number_cell(interval(low, high, unit, of=r['difference']))}</tr>"
            )
        reps = int(group["replications"].iloc[0])
        out.append(
            f"<h3>{html.escape(str(name))} against the base ({reps} paired replications)</h3>"
            + table(
                ["KPI", "unit", "base", "alternative", "difference", "95 % paired interval"],
                rows,
                numeric_from=2,
            )
        )
    return "".join(out)


def render_optimisation_report(
    *,
    candidates: pd.DataFrame,
    pareto: pd.DataFrame,
    selection: pd.DataFrame,
    differences: pd.DataFrame,
    posterior: pd.DataFrame | None,
    objectives: Sequence[Objective],
    variables: Sequence[str],
    budget: float | None,
    notes: Sequence[str],
    manifest: dict[str, Any],
) -> tuple[str, bytes]:
    """The report's HTML and its front figure as PNG bytes (saved as figures/front.png)."""
    drawn = png_bytes(front_figure(candidates, pareto, objectives, budget))
    png = base64.b64encode(drawn).decode("ascii")
    search = manifest.get("search", {})
    simulated = int(candidates["simulated"].astype(bool).sum()) - 1  # the base is not searched
    kpis = list(
        dict.fromkeys([*(k for k, _ in objectives), *manifest.get("bounded_kpis", []), *HEADLINE])
    )
    body = (
        f"<h1>Optimisation: {html.escape(str(manifest.get('name', '')))}</h1>"
        f"<p>{html.escape(str(manifest.get('description', '')))}</p>"
        + _lead(selection, posterior, variables, objectives, _feasible(candidates))
        + warnings_html(list(notes))
        + "<h2>The search</h2>"
        f"<p>{search.get('trials', '?')} trials ({html.escape(str(search.get('sampler', '')))} "
        f"sampler), {len(candidates) - 1} distinct candidates, {simulated} simulated with "
        f"{manifest.get('replications_per_candidate', '?')} replications each under common "
        "random numbers (every candidate and the base share their seeds); those over the "
        "budget or the post limit are not simulated. A candidate is feasible when its "
        "budgeted staff cost (posts × annual cost per post) and posts are within the limits "
        "and its KPI means within their bounds.</p>"
        f'<figure><img alt="front" src="data:image/png;base64,{png}"></figure>'
        "<h2>Finalists and the selection</h2>"
        + _finalist_table(selection, posterior, variables, objectives)
        + "<h2>The finalists against the base</h2>"
        "<p>Paired differences under common random numbers, over the replications each "
        "finalist has (the base run on the same ones). Each finalist is written as a scenario "
        "file under <code>chosen/</code>; <code>caseflow run</code> on it reproduces its "
        "numbers of the search.</p>"
        + _difference_tables(differences, kpis)
        + reproduce_html(
            str(manifest.get("command", "")),
            manifest,
            "The study is kept in the journal file named in manifest.json: the "
            "same command resumes it.",
        )
    )
    return page(f"Optimisation {manifest.get('name', '')}", body, width="72em"), drawn


def _feasible(candidates: pd.DataFrame) -> int:
    """The searched candidates (not the base) that met every constraint."""
    searched = candidates[candidates["candidate"].astype(str) != "base"]
    return int(searched["feasible"].fillna(False).astype(bool).sum())


def rerender(folder: Path, manifest: dict[str, Any]) -> tuple[str, bytes]:
    """The report of an optimisation folder again, from its tables and manifest (``caseflow
    report``), as ``caseflow optimise`` drew it."""
    spec = manifest["spec"]
    tables: dict[str, pd.DataFrame | None] = {}
    for name in ("candidates", "pareto", "selection", "differences", "posterior"):
        path = folder / f"{name}.csv"
        tables[name] = pd.read_csv(path) if path.exists() else None
    for name in ("candidates", "pareto", "selection", "differences"):
        if tables[name] is None:
            raise FileNotFoundError(2, "incomplete optimisation folder", str(folder / name))
    return render_optimisation_report(
        candidates=tables["candidates"],
        pareto=tables["pareto"],
        selection=tables["selection"],
        differences=tables["differences"],
        posterior=tables["posterior"],
        objectives=[(o["kpi"], o["direction"]) for o in spec["objectives"]],
        variables=[v["key"] for v in spec["variables"]],
        budget=spec["constraints"].get("staff_budget_sek"),
        notes=manifest.get("notes", []),
        manifest=manifest,
    )
