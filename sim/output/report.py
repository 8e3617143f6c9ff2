"""Plots and the HTML report of a results folder.

The report is one self-contained file (figures embedded as base64 PNG) that a planner can mail.
This first version shows the question, headline KPIs with intervals, open households by class
and exits by cause; the full set of figures and comparisons is the "Experiments and reports"
issue's work.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

from ..domain import DAYS_PER_YEAR

HEADLINE = (
    "mean_monthly_households",
    "households_per_year",
    "cases_opened_per_year",
    "cases_closed_per_year",
    "exits_work_per_year",
    "first_visit_wait_days",
    "caseload_per_social_worker",
    "mean_monthly_waiting_for_class",
    "share_long_term_10_of_12",
    "share_over_12_months",
    "mean_episode_months",
    "recurrence_24_months",
    "ar_team_success_share",
    "assistance_paid_sek_per_year",
    "staff_cost_sek_per_year",
    "cost_per_exit_to_work_sek",
)


def png_base64(fig: Any) -> str:
    """A figure as base64 PNG for a self-contained HTML page (the figure is closed)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _bands(ax: Any, monthly: pd.DataFrame, series: list[tuple[str, str]]) -> None:
    """Plot each column's mean over replications by month, with the 5-95 % band."""
    for col, label in series:
        g = monthly.groupby("month")[col]
        x = pd.to_datetime(g.mean().index)
        ax.plot(x, g.mean().to_numpy(), label=label)
        ax.fill_between(x, g.quantile(0.05).to_numpy(), g.quantile(0.95).to_numpy(), alpha=0.2)


def _band_figure(
    monthly: pd.DataFrame, series: list[tuple[str, str]], ylabel: str, title: str
) -> Any:
    fig, ax = plt.subplots(figsize=(8, 3.8))
    _bands(ax, monthly, series)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize="small")
    return fig


def plot_open_by_class(monthly: pd.DataFrame, scenario: dict[str, Any]) -> Any:
    """Open cases by held class over time: mean over replications with a 5-95 % band."""
    return _band_figure(
        monthly,
        [
            ("open_class_a", "A"),
            ("open_class_b", "B"),
            ("open_class_c", "C"),
            ("waiting_for_class", "not in assessed class"),
        ],
        "open cases (end of month)",
        "Open cases by class (mean, 5-95 % of replications)",
    )


def plot_exits_by_cause(monthly: pd.DataFrame, scenario: dict[str, Any]) -> Any:
    causes = ["work", "studies", "other_benefit", "moved", "one_time", "unknown"]
    mean = monthly.groupby("month")[[f"exits_{c}" for c in causes]].mean()
    fig, ax = plt.subplots(figsize=(8, 4))
    x = pd.to_datetime(mean.index)
    ax.stackplot(x, *[mean[f"exits_{c}"].to_numpy() for c in causes], labels=causes)
    ax.set_ylabel("exits per month (mean)")
    ax.set_title("Exits by cause")
    ax.legend(loc="upper left", fontsize="small", ncol=3)
    return fig


def plot_funnel(monthly: pd.DataFrame, scenario: dict[str, Any]) -> Any:
    """Contacts -> booked -> opened -> transferred, per year (mean over replications)."""
    run = monthly[monthly["period"] == "run"]
    years = run.groupby("replication")["days"].sum().mean() / DAYS_PER_YEAR
    steps = ["contacts", "booked", "cases_opened", "transferred"]
    per_year = [run.groupby("replication")[c].sum().mean() / years for c in steps]
    fig, ax = plt.subplots(figsize=(8, 3.5))
    bars = ax.barh(steps[::-1], per_year[::-1], color="tab:blue")
    ax.bar_label(bars, labels=[f"{v:,.0f}".replace(",", " ") for v in per_year[::-1]], padding=3)
    ax.set_xlabel("per year (mean over replications)")
    ax.set_title("The intake funnel")
    return fig


def plot_first_visit_wait(monthly: pd.DataFrame, scenario: dict[str, Any]) -> Any:
    return _band_figure(
        monthly,
        [("first_visit_wait_days", "mean wait of the month's first visits")],
        "days from booking to first visit",
        "First-visit wait (mean, 5-95 % of replications)",
    )


def _norm_steps(scenario: dict[str, Any]) -> list[tuple[str, float]]:
    """The caseload norm from the start and at each timed change that sets it."""
    steps = [(str(scenario.get("start_date")), float(scenario["organisation"]["caseload_norm"]))]
    for change in sorted(scenario.get("changes", []), key=lambda c: str(c.get("at"))):
        norm = (change.get("organisation") or {}).get("caseload_norm")
        if norm is not None:
            steps.append((str(change["at"]), float(norm)))
    return steps


def plot_caseload_against_norm(monthly: pd.DataFrame, scenario: dict[str, Any]) -> Any:
    fig, ax = plt.subplots(figsize=(8, 3.5))
    _bands(ax, monthly, [("caseload_per_social_worker", "A+B cases per ongoing social worker")])
    if "organisation" in scenario:
        steps = _norm_steps(scenario)
        end = pd.to_datetime(monthly["month"].max()) + pd.offsets.MonthEnd(1)
        xs = [pd.to_datetime(d) for d, _ in steps] + [end]
        ys = [n for _, n in steps] + [steps[-1][1]]
        ax.step(xs, ys, where="post", color="tab:red", linestyle="--", label="caseload norm")
    ax.set_ylabel("cases per social worker")
    ax.set_title("Caseload per social worker against the norm")
    ax.legend(fontsize="small")
    return fig


def plot_staff_in_post(monthly: pd.DataFrame, scenario: dict[str, Any]) -> Any:
    return _band_figure(
        monthly,
        [
            ("staff_in_post_intake_social_workers", "intake social workers"),
            ("staff_in_post_ongoing_social_workers", "ongoing social workers"),
            ("staff_in_post_benefit_administrators", "benefit administrators"),
            ("staff_in_post_employment_consultants", "employment consultants"),
        ],
        "working at month end",
        "Staff in post (not vacant, not on leave)",
    )


def plot_ar_team(monthly: pd.DataFrame, scenario: dict[str, Any]) -> Any:
    return _band_figure(
        monthly,
        [
            ("ar_team_in_programme", "in programme"),
            ("ar_team_waiting", "waiting"),
            ("ar_team_capacity", "staffed capacity"),
        ],
        "persons (month end)",
        "AR team",
    )


def plot_unemployment(monthly: pd.DataFrame, scenario: dict[str, Any]) -> Any:
    fig, ax = plt.subplots(figsize=(8, 3))
    g = monthly.groupby("month")["unemployment_percent"].mean()
    ax.plot(pd.to_datetime(g.index), g.to_numpy(), color="tab:gray")
    ax.set_ylabel("% of population")
    ax.set_title("Unemployment path")
    return fig


def plot_cumulative_cost(monthly: pd.DataFrame, scenario: dict[str, Any]) -> Any:
    data = monthly.sort_values(["replication", "month"]).copy()
    for col in ("assistance_paid_sek", "staff_cost_sek"):
        data[f"cumulative_{col}"] = data.groupby("replication")[col].cumsum() / 1e6
    return _band_figure(
        data,
        [
            ("cumulative_assistance_paid_sek", "assistance paid"),
            ("cumulative_staff_cost_sek", "staff cost"),
        ],
        "Mkr, cumulative",
        "Cumulative cost (warm-up months included)",
    )


RUN_FIGURES = (
    ("open_by_class", plot_open_by_class),
    ("exits_by_cause", plot_exits_by_cause),
    ("funnel", plot_funnel),
    ("first_visit_wait", plot_first_visit_wait),
    ("caseload_against_norm", plot_caseload_against_norm),
    ("staff_in_post", plot_staff_in_post),
    ("ar_team", plot_ar_team),
    ("unemployment", plot_unemployment),
    ("cumulative_cost", plot_cumulative_cost),
)


def write_figures(folder: Path, monthly: pd.DataFrame, scenario: dict[str, Any]) -> dict[str, str]:
    """Save the figures under ``figures/`` and return them base64-encoded for embedding."""
    figdir = folder / "figures"
    figdir.mkdir(exist_ok=True)
    out = {}
    for name, maker in RUN_FIGURES:
        fig = maker(monthly, scenario)
        fig.savefig(figdir / f"{name}.png", dpi=110, bbox_inches="tight")
        out[name] = png_base64(fig)
    return out


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
            out.append(
                f"{column} ranges over {low:.1f}–{high:.1f} in this run, outside "
                f"{bounds[0]:g}–{bounds[1]:g}, the range the parameter set was calibrated for: "
                "the model extrapolates there."
            )
    return out


def _fmt(x: float) -> str:
    if pd.isna(x):
        return "–"
    if abs(x) >= 1000:
        return f"{x:,.0f}".replace(",", " ")
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.3f}"


def _scenario_as_run(scenario: dict[str, Any], manifest: dict[str, Any]) -> str:
    """The scenario as run; keys set in this scenario (not inherited from its base) in bold."""
    flat = flatten({k: v for k, v in scenario.items() if k not in ("name", "description")})
    own = set(manifest.get("own_keys") or [])
    base = manifest.get("extends")

    def changed(key: str) -> bool:
        return any(key == k or key.startswith(k + ".") for k in own)

    rows = "".join(
        f"<tr><td>{'<b>' if changed(k) else ''}{html.escape(k)}{'</b>' if changed(k) else ''}"
        f"</td><td>{html.escape(str(v))}</td></tr>"
        for k, v in flat.items()
    )
    if base:
        listed = [k for k in flat if changed(k)]
        intro = (
            f"<p>Extends <code>{html.escape(str(base))}</code>; set here (in bold below): "
            + (
                ", ".join(
                    f"<code>{html.escape(k)}</code> = {html.escape(str(flat[k]))}" for k in listed
                )
                or "nothing"
            )
            + ".</p>"
        )
    else:
        intro = "<p>A scenario of its own (it extends no other file).</p>"
    return (
        f"<h2>The scenario as run</h2>{intro}<details><summary>every key as run "
        f"({len(flat)})</summary><table><tr><th>key</th><th>value</th></tr>{rows}</table>"
        "</details>"
    )


UNCERTAINTY_FILE = "uncertainty.csv"


def _posterior_section(folder: Path, manifest: dict[str, Any]) -> str:
    """With ``run --posterior``: each headline figure's 90 % range and where its spread comes
    from (parameter uncertainty against stochastic noise)."""
    info = manifest.get("posterior")
    path = folder / UNCERTAINTY_FILE
    if not info or not path.exists():
        return ""
    table = pd.read_csv(path).set_index("kpi")
    rows = []
    for kpi in HEADLINE:
        if kpi in table.index:
            r = table.loc[kpi]
            share = r["parameter_share"]
            rows.append(
                f"<tr><td>{html.escape(kpi)}</td><td>{_fmt(r['mean'])}</td>"
                f"<td>{_fmt(r['p05'])} – {_fmt(r['p95'])}</td>"
                f"<td>{'' if pd.isna(share) else f'{share:.0%}'}</td>"
                f"<td>{'' if pd.isna(share) else f'{1 - share:.0%}'}</td></tr>"
            )
    return (
        "<h2>Parameter uncertainty and noise</h2>"
        f"<p>{info['draws']} draws from the fitted posterior × {info['replications_per_draw']} "
        "replications each, every draw under the same random numbers. The 90 % range covers "
        "both sources; the shares split the variance into the part due to not knowing the "
        "parameters (between draws) and the part due to chance (between replications). The "
        "headline table's 95 % intervals above are for the mean over all runs.</p>"
        "<table><tr><th>KPI</th><th>mean</th><th>90 % of runs</th><th>parameter share</th>"
        f"<th>noise share</th></tr>{''.join(rows)}</table>"
    )


def render_report(
    folder: Path, summary: pd.DataFrame, monthly: pd.DataFrame, manifest: dict[str, Any]
) -> str:
    """The report's HTML; figures are also saved under ``folder/figures``."""
    scenario = manifest.get("scenario", {})
    images = write_figures(folder, monthly, scenario)
    rows = []
    by_kpi = summary.set_index("kpi")
    for kpi in HEADLINE:
        if kpi in by_kpi.index:
            r = by_kpi.loc[kpi]
            rows.append(
                f"<tr><td>{html.escape(kpi)}</td><td>{_fmt(r['mean'])}</td>"
                f"<td>{_fmt(r['ci_low'])} – {_fmt(r['ci_high'])}</td>"
                f"<td>{html.escape(str(r['unit']))}</td></tr>"
            )
    warmup = scenario.get("warmup_days", 0)
    warnings = []
    if not warmup and not any(scenario.get("initial_caseload", {}).get("by_class", {}).values()):
        warnings.append(
            "The run starts empty with no warm-up: early months understate the caseload."
        )
    if int(manifest.get("replications", 0)) < 10:
        warnings.append("Fewer than 10 replications: intervals are wide and unstable.")
    auto = manifest.get("replications_auto")
    if auto:
        if auto.get("reached"):
            warnings.append(
                f"Replications chosen automatically: {auto['replications_used']} run; the 95 % "
                f"intervals of {', '.join(auto['kpis'])} were within ±{auto['precision']:.0%} of "
                f"the mean from {auto['solution']} on."
            )
        else:
            warnings.append(
                f"Replications chosen automatically, but the cap of {auto['cap']} was reached "
                f"before {', '.join(auto['kpis'])} were within ±{auto['precision']:.0%}."
            )
    params = manifest.get("parameters", {})
    warnings.extend(range_warnings(monthly, params.get("calibrated_range") or {}))
    if str(params.get("name", "")).startswith("first_guess"):
        warnings.append(
            "The parameter set is a hand-set first guess, not fitted to reported flows: read the "
            "figures as the model's mechanics, not as forecasts."
        )
    scenario_html = _scenario_as_run(scenario, manifest)
    command = html.escape(
        str(manifest.get("command") or f"caseflow run {manifest.get('scenario_file', '')}")
    )
    git = manifest.get("git", {})
    imgs = "".join(
        f'<figure><img alt="{k}" src="data:image/png;base64,{v}"></figure>'
        for k, v in images.items()
    )
    warn_html = "".join(f"<li>{html.escape(w)}</li>" for w in warnings) or "<li>none</li>"
    posterior_html = _posterior_section(folder, manifest)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>caseflow report: {html.escape(str(manifest.get("scenario_name", "")))}</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:.2em .6em;text-align:right}}td:first-child{{text-align:left}}
img{{max-width:100%}}pre{{background:#f4f4f4;padding:.5em;overflow:auto}}</style></head><body>
<h1>{html.escape(str(manifest.get("scenario_name", "")))}</h1>
<p>{html.escape(str(scenario.get("description", "")))}</p>
<p>Seed {manifest.get("seed")}, {manifest.get("replications")} replications,
{scenario.get("start_date")} + {scenario.get("horizon_years")} years
(warm-up {warmup} days, excluded).</p>
{scenario_html}
<h2>Headline KPIs (mean and 95 % interval over replications)</h2>
<table><tr><th>KPI</th><th>mean</th><th>95 % interval</th><th>unit</th></tr>{"".join(rows)}</table>
{posterior_html}
<h2>Figures</h2>{imgs}
<h2>Warnings</h2><ul>{warn_html}</ul>
<h2>Reproduce</h2><pre>{command}
# caseflow {html.escape(str(manifest.get("package", {}).get("version", "")))}, commit {html.escape(str(git.get("commit", "")))}{" (with local changes)" if git.get("dirty") else ""}</pre>
<p>Full scenario as run: <code>scenario.toml</code> and <code>manifest.json</code> in this folder.</p>
</body></html>
"""


# --- comparisons ----------------------------------------------------------------------------

FOREST_KPIS = (
    "mean_monthly_households",
    "exits_work_per_year",
    "mean_episode_months",
    "share_long_term_10_of_12",
    "first_visit_wait_days",
    "mean_monthly_waiting_for_class",
    "assistance_paid_sek_per_year",
    "staff_cost_sek_per_year",
)


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


def plot_forest(differences: pd.DataFrame) -> Any:
    """Each alternative's difference from the base, in % of the base mean, with paired 95 % CI."""
    rows = differences[differences["kpi"].isin(FOREST_KPIS)].copy()
    alts = list(dict.fromkeys(rows["alternative"]))
    kpis = [k for k in FOREST_KPIS if k in set(rows["kpi"])]
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(kpis) * max(len(alts), 1) + 1.2))
    height = 0.8 / max(len(alts), 1)
    for j, alt in enumerate(alts):
        sub = rows[rows["alternative"] == alt].set_index("kpi")
        ys, xs, lo, hi = [], [], [], []
        for i, kpi in enumerate(kpis):
            r = sub.loc[kpi]
            base = abs(r["base_mean"]) or 1.0
            ys.append(i + j * height)
            xs.append(100 * r["difference"] / base)
            lo.append(100 * (r["difference"] - r["ci_low"]) / base)
            hi.append(100 * (r["ci_high"] - r["difference"]) / base)
        ax.errorbar(xs, ys, xerr=[lo, hi], fmt="o", capsize=3, label=alt)
    ax.axvline(0, color="grey", lw=1)
    ax.set_yticks([i + height * (len(alts) - 1) / 2 for i in range(len(kpis))], kpis)
    ax.invert_yaxis()
    ax.set_xlabel("difference from base, % of base mean (paired 95 % interval)")
    ax.legend(fontsize="small")
    ax.set_title("Alternatives against the base")
    return fig


def plot_households_all(named_monthly: list[tuple[str, pd.DataFrame]]) -> Any:
    fig, ax = plt.subplots(figsize=(8, 4))
    for name, monthly in named_monthly:
        g = monthly.groupby("month")["households"]
        x = pd.to_datetime(g.mean().index)
        ax.plot(x, g.mean().to_numpy(), label=name)
        ax.fill_between(x, g.quantile(0.05).to_numpy(), g.quantile(0.95).to_numpy(), alpha=0.15)
    ax.set_ylabel("households receiving assistance per month")
    ax.set_title("Households per month (mean, 5-95 % of replications)")
    ax.legend(fontsize="small")
    return fig


def render_comparison_report(
    folder: Path,
    differences: pd.DataFrame,
    named_monthly: list[tuple[str, pd.DataFrame]],
    scenarios: list[dict[str, Any]],
    manifest: dict[str, Any],
) -> str:
    """One self-contained HTML page comparing alternatives with the base."""
    figdir = folder / "figures"
    figdir.mkdir(exist_ok=True)
    images = {}
    for name, fig in (
        ("forest", plot_forest(differences)),
        ("households_all", plot_households_all(named_monthly)),
    ):
        fig.savefig(figdir / f"{name}.png", dpi=110, bbox_inches="tight")
        images[name] = png_base64(fig)
    base = scenarios[0]
    parts = [
        f"<h2>Scenarios</h2><p>Base: <b>{html.escape(base['name'])}</b> – "
        f"{html.escape(base.get('description', ''))}</p>"
    ]
    for other in scenarios[1:]:
        diffs = scenario_differences(base, other)
        rows = "".join(
            f"<tr><td>{html.escape(k)}</td><td>{html.escape(str(b))}</td>"
            f"<td><b>{html.escape(str(o))}</b></td></tr>"
            for k, b, o in diffs
        )
        parts.append(
            f"<h3>{html.escape(other['name'])}</h3><p>{html.escape(other.get('description', ''))}</p>"
            f"<table><tr><th>key</th><th>base</th><th>this alternative</th></tr>{rows}</table>"
        )
    table_rows = []
    for _, r in differences[differences["kpi"].isin(HEADLINE)].iterrows():
        mark = " *" if r["significant"] else ""
        table_rows.append(
            f"<tr><td>{html.escape(r['alternative'])}</td><td>{html.escape(r['kpi'])}</td>"
            f"<td>{_fmt(r['base_mean'])}</td><td>{_fmt(r['alternative_mean'])}</td>"
            f"<td>{_fmt(r['difference'])}{mark}</td>"
            f"<td>{_fmt(r['ci_low'])} – {_fmt(r['ci_high'])}</td>"
            f"<td>{_fmt(r['unpaired_ci_low'])} – {_fmt(r['unpaired_ci_high'])}</td></tr>"
        )
    imgs = "".join(
        f'<figure><img alt="{k}" src="data:image/png;base64,{v}"></figure>'
        for k, v in images.items()
    )
    git = manifest.get("git", {})
    warnings = []
    if int(manifest.get("replications", 0)) < 10:
        warnings.append("Fewer than 10 replications: intervals are wide and unstable.")
    if str(manifest.get("parameters_name", "")).startswith("first_guess"):
        warnings.append(
            "The parameter set is a hand-set first guess, not fitted to reported flows: compare "
            "mechanisms, not forecasts."
        )
    warn_html = "".join(f"<li>{html.escape(w)}</li>" for w in warnings) or "<li>none</li>"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>caseflow comparison: {html.escape(base["name"])}</title>
<style>body{{font-family:sans-serif;max-width:64em;margin:2em auto}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:.2em .6em;text-align:right}}td:first-child,td:nth-child(2){{text-align:left}}
img{{max-width:100%}}pre{{background:#f4f4f4;padding:.5em;overflow:auto}}</style></head><body>
<h1>Comparison with {html.escape(base["name"])}</h1>
<p>{len(scenarios) - 1} alternative(s), seed {manifest.get("seed")}, {manifest.get("replications")} replications each,
common random numbers: replication <i>r</i> of every scenario sees the same contacts and households.</p>
{"".join(parts)}
<h2>Differences from the base</h2>
<p>Paired 95 % interval of the mean difference over replications; the unpaired (Welch) interval,
which ignores the common random numbers, is shown for reference. * = the paired interval excludes 0.</p>
<table><tr><th>alternative</th><th>KPI</th><th>base</th><th>alternative</th><th>difference</th>
<th>paired 95 % interval</th><th>unpaired 95 % interval</th></tr>{"".join(table_rows)}</table>
<h2>Figures</h2>{imgs}
<h2>Warnings</h2><ul>{warn_html}</ul>
<h2>Reproduce</h2><pre>{html.escape(str(manifest.get("command", "")))}
# caseflow {html.escape(str(manifest.get("package", {}).get("version", "")))}, commit {html.escape(str(git.get("commit", "")))}{" (with local changes)" if git.get("dirty") else ""}</pre>
<p>Each scenario's own results and report are in its sub-folder; <code>comparison.csv</code> has every KPI.</p>
</body></html>
"""
