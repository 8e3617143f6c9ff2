"""How well a calibration fits, what pulls against what, and what the data cannot pin down.

Everything here reads the products of :mod:`sim.calibration.point_fit` and
:mod:`sim.calibration.posterior` and runs the model only for predictive checks:

* the **point check** runs the fitted point with more replications (common random numbers);
* the **posterior predictive** runs one replication for each of N draws from the posterior, so
  its interval holds parameter uncertainty and stochastic noise together.

Tensions between targets come from the point fit's own evaluations: among the better half of
the points searched (all under the same random numbers), two targets pull against each other
when getting one closer goes with getting the other further away (negative correlation of their
squared discrepancies). Identifiability comes from the posterior: a parameter whose posterior
spread is close to its prior's is not pinned down by these targets.

The tables here make the report's numbers; :func:`render_fit_report` puts them on one HTML page
with the figures of :mod:`sim.calibration.fit_figures`.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..experiments.runner import run_scenarios
from ..output.figures import png_base64
from .fit_figures import (
    plot_abc_diagnostics,
    plot_fit_history,
    plot_marginals,
    plot_pairs,
    plot_targets,
)
from .spec import CalibrationProblem, discrepancy, reproduced, target_sd
from .targets import Target
from .uncertainty import draw_posterior

#: a parameter whose posterior sd is above this share of its prior sd is flagged as not identified
WEAK_IDENTIFICATION = 0.7
#: posterior correlations beyond this are flagged: only the combination is identified
STRONG_CORRELATION = 0.6
#: squared-discrepancy correlations below this count as targets pulling against each other
TENSION = -0.3


def _kpi_frame(problem: CalibrationProblem, kpis: Sequence[dict[str, float]]) -> pd.DataFrame:
    """One row per replication, a column per target with a KPI (the compared ones, then the
    spec's holdouts, which the fit report compares without fitting them)."""
    return pd.DataFrame(
        [{t.id: k.get(t.kpi or "", math.nan) for t in _with_kpi(problem)} for k in kpis]
    )


def _with_kpi(problem: CalibrationProblem) -> list[Target]:
    held = [
        t for t in problem.targets.targets if t.kpi is not None and t.id in problem.spec.holdouts
    ]
    return [*problem.compared, *held]


def point_check(
    problem: CalibrationProblem,
    values: dict[str, float],
    *,
    replications: int = 20,
    workers: int | None = None,
) -> pd.DataFrame:
    """The compared targets' values in each replication at one parameter point."""
    results = run_scenarios([problem.scenario(values, replications=replications)], workers=workers)[
        0
    ]
    return _kpi_frame(problem, results.per_replication.to_dict("records"))


def posterior_predictive(
    problem: CalibrationProblem,
    sample: pd.DataFrame,
    *,
    draws: int = 100,
    seed: int = 0,
    workers: int | None = None,
) -> pd.DataFrame:
    """The compared targets' values for ``draws`` posterior draws, one replication each."""
    chosen = draw_posterior(sample, draws, seed)
    base_seed = problem.resolved.scenario.seed
    scenarios = [
        problem.scenario(row.to_dict(), replications=1, seed=base_seed + 1 + i)
        for i, (_, row) in enumerate(chosen.iterrows())
    ]
    results = run_scenarios(scenarios, workers=workers)
    return _kpi_frame(problem, [r.per_replication.iloc[0].to_dict() for r in results])


def distances(problem: CalibrationProblem, table: pd.DataFrame) -> np.ndarray:
    """The distance of each row of ``table`` (one replication's compared figures by target
    id, as the fit report's point check and posterior predictive hold them)."""
    by_id = {t.id: t.kpi or "" for t in problem.compared}
    return np.array(
        [
            problem.distance({by_id[k]: v for k, v in row.items() if k in by_id})
            for row in table.to_dict("records")
        ]
    )


def tolerance_check(
    problem: CalibrationProblem,
    point: pd.DataFrame,
    predictive: pd.DataFrame,
    *,
    resamples: int = 2000,
) -> dict[str, float]:
    """How close the posterior comes, in the distance every method minimises: the median over
    the posterior predictive draws (one replication each) against the median over the point
    check's replications (the model's noise and the point's own misfit: the yardstick for a
    posterior's tolerance). A posterior whose draws fit about as well as the point is within
    twice it.

    The medians come from single replications (100 draws and 20 at the point in a fit), so
    the ratio has a spread of its own: ``ratio_low`` and ``ratio_high`` bound its 90 %
    bootstrap interval (both sets of distances resampled, ``resamples`` times, with a fixed
    seed, so a fit's report is reproducible)."""
    noise_each = distances(problem, point)
    posterior_each = distances(problem, predictive)
    noise = float(np.median(noise_each)) if len(noise_each) else math.nan
    posterior = float(np.median(posterior_each))
    ratio = posterior / noise if noise > 0 else math.inf  # every figure met at the point
    low = high = ratio
    if len(noise_each) > 1 and len(posterior_each) > 1 and noise > 0:
        rng = np.random.default_rng(0)
        top = np.median(rng.choice(posterior_each, (resamples, len(posterior_each))), axis=1)
        bottom = np.median(rng.choice(noise_each, (resamples, len(noise_each))), axis=1)
        with np.errstate(divide="ignore"):
            ratios = np.where(bottom > 0, top / bottom, np.inf)
        low, high = (float(q) for q in np.quantile(ratios, [0.05, 0.95]))
    return {
        "noise_distance": noise,
        "posterior_distance": posterior,
        "ratio": ratio,
        "ratio_low": low,
        "ratio_high": high,
    }


UNFITTED_COLUMNS = (
    "target", "reported", "uncertainty", "point_mean", "point_z", "reproduced", "definition",
    "why not fitted",
)  # fmt: skip


def unfitted_table(problem: CalibrationProblem, point: pd.DataFrame | None = None) -> pd.DataFrame:
    """The targets file's figures that the fit does not fit (no model output, or held out by
    the spec), each with its uncertainty and the note that says why. A held-out figure with a
    KPI is compared with the point fit's replications (``point``, :func:`point_check`): its
    mean, its distance in the target's sd and whether that is within 2, as for the fitted ones;
    a figure with no KPI has none."""
    rows = []
    for t in problem.targets.targets:
        if t.kpi is not None and t.id not in problem.spec.holdouts:
            continue
        mean = z = math.nan
        if t.kpi is not None and point is not None and t.id in point:
            values = point[t.id].dropna()
            mean = float(values.mean()) if len(values) else math.nan
            z = discrepancy(t, mean)
        rows.append(
            {
                "target": t.id,
                "reported": t.value,
                "uncertainty": f"sd {t.sd:g}" if t.sd is not None else f"range {t.range}",
                "point_mean": mean,
                "point_z": z,
                "reproduced": "" if math.isnan(z) else ("yes" if reproduced(t, z) else "no"),
                "definition": t.definition,
                "why not fitted": (  # a figure without a kpi: its note says what it is
                    "held out by the spec (holdouts): compared with the fit, never fitted"
                    if t.kpi is not None
                    else t.uncertainty_note
                ),
            }
        )
    # with no such figure, still the columns: a CSV file with its header, not an empty file
    return pd.DataFrame(rows, columns=list(UNFITTED_COLUMNS))


def holdout_verdicts(checks: Sequence[Any]) -> pd.DataFrame:
    """One row per holdout check (``sim.calibration.holdout``) run with the fitted set."""
    return pd.DataFrame(
        [
            {
                "holdout": c.name,
                "source": c.source,
                "compared": c.compared,
                "reproduced": "yes" if c.reproduced else "no",
            }
            for c in checks
        ]
    )


def target_table(
    problem: CalibrationProblem, point: pd.DataFrame, predictive: pd.DataFrame | None
) -> pd.DataFrame:
    """Per target: reported value and band, the model's mean and 90 % interval, and the gap."""
    rows = []
    for target in problem.compared:
        sd = target_sd(target)
        band = (
            target.range
            if target.range is not None
            else (
                target.value - 2 * sd,
                target.value + 2 * sd,
            )
        )
        values = point[target.id].dropna()
        mean = float(values.mean()) if len(values) else math.nan
        row: dict[str, Any] = {
            "target": target.id,
            "kpi": target.kpi,
            "reported": target.value,
            "band_low": band[0],
            "band_high": band[1],
            "point_mean": mean,
            "point_p05": float(values.quantile(0.05)) if len(values) else math.nan,
            "point_p95": float(values.quantile(0.95)) if len(values) else math.nan,
            "point_z": problem.discrepancies({target.kpi or "": mean})[target.id],
        }
        if predictive is not None:
            pred = predictive[target.id].dropna()
            row.update(
                {
                    "predictive_mean": float(pred.mean()),
                    "predictive_p05": float(pred.quantile(0.05)),
                    "predictive_p95": float(pred.quantile(0.95)),
                }
            )
        row["reproduced"] = reproduced(target, row["point_z"])
        rows.append(row)
    return pd.DataFrame(rows)


def tensions(problem: CalibrationProblem, evaluations: pd.DataFrame) -> pd.DataFrame:
    """Target pairs that pull against each other among the better half of the searched points."""
    ok = evaluations[evaluations["distance"] < evaluations["distance"].median()]
    if len(ok) < 10:
        return pd.DataFrame(columns=["target_a", "target_b", "correlation"])
    squared = pd.DataFrame(
        {
            t.id: [problem.discrepancies({t.kpi or "": v})[t.id] ** 2 for v in ok[f"kpi:{t.kpi}"]]
            for t in problem.compared
            if f"kpi:{t.kpi}" in ok
        }
    )
    corr = squared.corr()
    rows = []
    ids = list(corr.columns)
    for i, a in enumerate(ids):
        for b in ids[i + 1 :]:
            value = corr.loc[a, b]
            if np.isfinite(value) and value < TENSION:
                rows.append({"target_a": a, "target_b": b, "correlation": float(value)})
    return pd.DataFrame(rows, columns=["target_a", "target_b", "correlation"]).sort_values(
        "correlation"
    )


def _weighted_moments(x: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    mean = float(np.sum(w * x))
    return mean, float(math.sqrt(max(np.sum(w * (x - mean) ** 2), 0.0)))


MODE_SAID = {
    "value": "the value",
    "scale": "a factor on the base set's table",
    "share": "a share, the table's others rescaled",
}
"""What a calibrated parameter's prior and posterior figures are, by the spec's ``mode``: a
factor of 1.36 on a table of hazards read as a hazard is a misreading."""


def identifiability(problem: CalibrationProblem, sample: pd.DataFrame) -> pd.DataFrame:
    """Per parameter: prior and posterior spread (search space), and a plain verdict."""
    w = sample["weight"].to_numpy(float)
    rows = []
    for entry, (low, high) in zip(problem.spec.calibrate, problem.bounds, strict=True):
        x = sample[entry.path].to_numpy(float)
        x = np.log(x) if entry.log_scale else x
        _, sd = _weighted_moments(x, w)
        prior_sd = (high - low) / math.sqrt(12)
        ratio = sd / prior_sd
        q = _weighted_quantiles(x, w, [0.05, 0.5, 0.95])
        if entry.log_scale:
            q = [math.exp(v) for v in q]
        rows.append(
            {
                "parameter": entry.path,
                "values": MODE_SAID[entry.mode],
                "prior_low": entry.low,
                "prior_high": entry.high,
                "posterior_p05": q[0],
                "posterior_median": q[1],
                "posterior_p95": q[2],
                "sd_ratio": ratio,
                "identified": ratio <= WEAK_IDENTIFICATION,
            }
        )
    return pd.DataFrame(rows)


def _weighted_quantiles(x: np.ndarray, w: np.ndarray, qs: Sequence[float]) -> list[float]:
    order = np.argsort(x)
    cum = np.cumsum(w[order])
    cum = cum / cum[-1]
    return [float(x[order][min(int(np.searchsorted(cum, q)), len(x) - 1)]) for q in qs]


def correlated_pairs(problem: CalibrationProblem, sample: pd.DataFrame) -> pd.DataFrame:
    """Parameter pairs strongly correlated in the posterior (weighted)."""
    w = sample["weight"].to_numpy(float)
    names = problem.names
    x = sample[names].to_numpy(float)
    mean = (w[:, None] * x).sum(axis=0)
    cov = (w[:, None] * (x - mean)).T @ (x - mean)
    sd = np.sqrt(np.diag(cov))
    rows = []
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            if sd[i] > 0 and sd[j] > 0:
                r = cov[i, j] / (sd[i] * sd[j])
                if abs(r) >= STRONG_CORRELATION:
                    rows.append(
                        {"parameter_a": names[i], "parameter_b": names[j], "correlation": r}
                    )
    return pd.DataFrame(rows, columns=["parameter_a", "parameter_b", "correlation"])


def _table(frame: pd.DataFrame, digits: int = 3) -> str:
    if frame.empty:
        return "<p>none</p>"

    def cell(v: Any) -> str:
        if isinstance(v, float | np.floating):
            x = float(v)
            return f"{x:,.{digits}g}" if abs(x) < 1000 else f"{x:,.0f}"
        return html.escape(str(v))

    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>"
        for row in frame.itertuples(index=False)
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _figures(
    problem: CalibrationProblem,
    targets: pd.DataFrame,
    point: dict[str, float],
    history: pd.DataFrame,
    sample: pd.DataFrame | None,
    identified: pd.DataFrame | None,
    diagnostics: pd.DataFrame | None,
) -> list[tuple[str, str]]:
    """The report's figures as (title, base64 PNG), in the order shown: those of the point fit,
    then those of the posterior where there is one."""
    figs = [("Targets", png_base64(plot_targets(targets)))]
    if len(history):
        figs.append(("Point fit", png_base64(plot_fit_history(history))))
    if sample is not None and identified is not None:
        figs.append(("Posterior marginals", png_base64(plot_marginals(problem, sample, point))))
        figs.append(("Posterior pairs", png_base64(plot_pairs(problem, sample, identified))))
    if diagnostics is not None and "epsilon" in diagnostics:
        figs.append(("ABC-SMC diagnostics", png_base64(plot_abc_diagnostics(diagnostics))))
    return figs


def _parameter_sections(identified: pd.DataFrame, pairs: pd.DataFrame | None) -> list[str]:
    """What the posterior says of each parameter: which the targets leave loose, and which are
    identified only in combination."""
    weak = identified[~identified["identified"]]["parameter"].tolist()
    warn = (
        "<p><b>Not pinned down by these targets</b> (posterior spread above "
        f"{WEAK_IDENTIFICATION:.0%} of the prior's): {html.escape(', '.join(weak))}. "
        "Their fitted values are a choice within the prior range, not a finding.</p>"
        if weak
        else "<p>Every parameter's posterior is narrower than its prior.</p>"
    )
    return [
        f"<h2>Parameters</h2>{warn}{_table(identified)}",
        "<h2>Parameters identified only together</h2>"
        f"<p>Posterior correlation beyond ±{STRONG_CORRELATION}:</p>"
        f"{_table(pairs if pairs is not None else pd.DataFrame())}",
    ]


def _page(
    problem: CalibrationProblem,
    targets: pd.DataFrame,
    fit_summary: dict[str, Any],
    tension: pd.DataFrame,
    notes: Sequence[str],
    sections: Sequence[str],
    figs: Sequence[tuple[str, str]],
    reproduce: str = "",
) -> str:
    """The HTML page: the fit's summary and notes, the target and tension tables, then the
    posterior's ``sections``, the figures and how to reproduce the fit (``reproduce``, HTML)."""
    reproduced_count = int(targets["reproduced"].sum())
    predictive = (
        "; the posterior predictive mean and 90 % interval (one replication per posterior draw: "
        "parameter uncertainty and noise together)"
        if "predictive_mean" in targets
        else " (no posterior was drawn, so no posterior predictive columns)"
    )
    fig_html = "".join(
        f"<h3>{html.escape(t)}</h3><img src='data:image/png;base64,{b}'>" for t, b in figs
    )
    summary_rows = "".join(
        f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(str(v))}</td></tr>"
        for k, v in fit_summary.items()
    )
    notes_html = "".join(f"<li>{html.escape(n)}</li>" for n in notes) or "<li>none</li>"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>caseflow fit report: {html.escape(problem.spec.name)}</title>
<style>body{{font-family:sans-serif;max-width:64em;margin:2em auto}}
table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:.2em .6em;text-align:right}}
td:first-child{{text-align:left}}
img{{max-width:100%}}</style></head><body>
<h1>Fit report: {html.escape(problem.spec.name)}</h1>
<p>{html.escape(problem.spec.description)}</p>
<p><b>{reproduced_count} of {len(targets)}</b> compared targets are reproduced within two of their
standard deviations (or inside their range) by the point fit.</p>
<table>{summary_rows}</table>
<h2>Notes</h2><ul>{notes_html}</ul>
<h2>Targets</h2>
<p>Reported value and band (±2 sd, or the stated range); the point fit's mean and 90 % of its
replications (stochastic noise only){predictive}.</p>
{_table(targets)}
<h2>Targets that pull against each other</h2>
<p>Among the better half of the points the fit searched (common random numbers), getting one of
these closer went with getting the other further away (correlation of squared discrepancies
below {TENSION}).</p>
{_table(tension)}
{"".join(sections)}
<h2>Figures</h2>{fig_html}
{reproduce}
</body></html>
"""


def render_fit_report(
    *,
    problem: CalibrationProblem,
    targets: pd.DataFrame,
    point: dict[str, float],
    fit_summary: dict[str, Any],
    history: pd.DataFrame,
    tension: pd.DataFrame,
    sample: pd.DataFrame | None,
    identified: pd.DataFrame | None,
    pairs: pd.DataFrame | None,
    diagnostics: pd.DataFrame | None,
    notes: Sequence[str],
    unfitted: pd.DataFrame | None = None,
    holdouts: pd.DataFrame | None = None,
    reproduce: str = "",
) -> str:
    """The fit report as one self-contained HTML page (``reproduce``: its closing section, the
    command, version, commit and seed, as HTML)."""
    figs = _figures(problem, targets, point, history, sample, identified, diagnostics)
    sections = []
    if unfitted is not None and len(unfitted):
        sections.append(
            "<h2>Figures of the targets file not fitted</h2><p>Documented with their "
            "uncertainty; each note says why it is not fitted (no model output yet, or a "
            "holdout). A figure the spec holds out that names a KPI is compared with the point "
            "fit's 20 replications (their mean, its distance in the figure's sd, reproduced "
            f"within 2), as the fitted ones are.</p>{_table(unfitted)}"
        )
    if holdouts is not None:
        sections.append(
            "<h2>Holdouts with the fitted set</h2><p>Figures never fitted, compared by "
            "<code>caseflow validate-model</code> (10 replications) with the parameters this fit "
            "wrote; <code>docs/calibration.md</code> has each check's figures and criterion."
            f"</p>{_table(holdouts)}"
        )
    if sample is not None and identified is not None:
        sections.extend(_parameter_sections(identified, pairs))
    if diagnostics is not None:
        title = "ABC-SMC generations" if "epsilon" in diagnostics else "Emulator stages"
        sections.append(f"<h2>{title}</h2>{_table(diagnostics)}")
    return _page(problem, targets, fit_summary, tension, notes, sections, figs, reproduce)
