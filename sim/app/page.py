"""The workbench page, a Streamlit script (``caseflow app`` serves it; tests run it in
Streamlit's ``AppTest``). Each browser tab is its own session: its draft and its last run live
in ``st.session_state``; the warm pool and the results of bases already run are shared
(:class:`~sim.app.workbench.Workbench`).
"""

from __future__ import annotations

import datetime
import math
import os
import time
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from sim.app.downloads import csv_files, workbook_bytes
from sim.app.draft import (
    CHANGES_KEY,
    FIELDS,
    GENERAL,
    PATH_KEY,
    Base,
    ChangeRow,
    Checked,
    Draft,
    PathRow,
    base_as_run,
    changes_the_scenario,
    check,
    differences,
    draft_toml,
    edited_name,
    load_base,
)
from sim.app.history import earlier_results, folder_warnings, paired_runs
from sim.app.optimising import load as load_optimisation
from sim.app.optimising import run_optimisation, spec_files
from sim.app.workbench import Outcome, RunRequest, Workbench, command_text, outcome_warnings
from sim.domain import DAYS_PER_YEAR
from sim.inputs.loading import load_scenarios
from sim.inputs.scenario import Scenario
from sim.inputs.validation import InputError
from sim.output.comparison_report import (
    backlog_caveat,
    backlogged,
    change_text,
    comparison_backlog,
)
from sim.output.folders import read_manifest
from sim.output.formatting import (
    difference_interval,
    interval,
    kpi_unit,
    level_interval,
    number,
    percent_change,
)
from sim.records import HEADLINE, kpi_label

RESULTS_ENV = "CASEFLOW_APP_RESULTS"
SCENARIOS_ENV = "CASEFLOW_APP_SCENARIOS"
WORKERS_ENV = "CASEFLOW_APP_WORKERS"


@st.cache_resource
def workbench(results_root: str, workers: int | None) -> Workbench:
    """One per served app, shared by its tabs; its pool is started at once."""
    bench = Workbench(Path(results_root), workers)
    bench.warm()
    return bench


def _settings() -> tuple[Path, Path, int | None]:
    workers = os.environ.get(WORKERS_ENV)
    return (
        Path(os.environ.get(RESULTS_ENV, "results")),
        Path(os.environ.get(SCENARIOS_ENV, "scenarios")),
        int(workers) if workers else None,
    )


# --- choosing the base ------------------------------------------------------------------------


def _uploaded(scenarios: Path) -> Path | None:
    """An uploaded scenario file, saved beside the scenario library (as ``uploaded_NAME``) so
    that its ``extends`` and ``parameters`` paths mean what they mean there."""
    upload = st.file_uploader(
        "…or upload a scenario file", type=["toml"], key="upload",
        help="Saved beside the scenario library as uploaded_<file name>, so that 'extends' and "
        "'parameters' resolve as for a file there.",
    )  # fmt: skip
    if upload is None:
        return None
    target = scenarios / f"uploaded_{Path(upload.name).name}"
    data = upload.getvalue()
    try:
        if not target.exists() or target.read_bytes() != data:
            target.write_bytes(data)
    except OSError as exc:  # a read-only scenarios folder, a full disk: said, not crashed
        st.error(f"{target}: cannot save the upload ({exc.strerror or exc})")
        return None
    return target


def _choose_base(scenarios: Path) -> Base | None:
    files = sorted(p.name for p in scenarios.glob("*.toml") if not p.name.startswith("uploaded_"))
    default = files.index("baseline.toml") if "baseline.toml" in files else 0
    left, right = st.columns(2)
    with left:
        chosen = st.selectbox("Start from a scenario file", files, index=default, key="base_file")
    with right:
        uploaded = _uploaded(scenarios)
    path = uploaded or (scenarios / chosen if chosen else None)
    if path is None:
        st.warning(f"No scenario files in {scenarios}.")
        return None
    try:
        base = load_base(path)
    except InputError as exc:
        st.error("The base file cannot be used:\n\n" + "\n\n".join(str(p) for p in exc.problems))
        return None
    except OSError as exc:
        st.error(f"{path}: {exc.strerror or exc}")
        return None
    identity = f"{path}@{path.stat().st_mtime_ns}"  # a file uploaded again, changed, is new
    if st.session_state.get("base_path") != identity:
        # A new base: the draft's widgets start again from its values (new keys).
        st.session_state["base_path"] = identity
        st.session_state["generation"] = st.session_state.get("generation", 0) + 1
        st.session_state.pop("outcome", None)
    return base


# --- the draft --------------------------------------------------------------------------------


def _count(n: int, noun: str) -> str:
    """``1 replication``, ``2 replications`` (thousands spaced as the page spaces them)."""
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def _key(name: str) -> str:
    return f"{st.session_state['generation']}:{name}"


def _field_widgets(base: Base) -> tuple[dict[str, str], dict[str, Any]]:
    """Every single-value field by group; returns the texts and a message slot per field."""
    values: dict[str, str] = {}
    slots: dict[str, Any] = {}
    groups = list(dict.fromkeys(f.group for f in FIELDS))
    columns = st.columns(len(groups))
    for column, group in zip(columns, groups, strict=True):
        with column:
            st.markdown(f"**{group}**")
            for spec in (f for f in FIELDS if f.group == group):
                start = base.draft.values[spec.key]
                if spec.key == "name":
                    start = edited_name(base)
                if spec.choices:
                    index = spec.choices.index(start) if start in spec.choices else 0
                    values[spec.key] = st.selectbox(
                        spec.label,
                        spec.choices,
                        index=index,
                        key=_key(spec.key),
                        help=spec.help_text,
                    )
                else:
                    values[spec.key] = st.text_input(
                        spec.label, value=start, key=_key(spec.key), help=spec.help_text
                    )
                slots[spec.key] = st.empty()
    return values, slots


def _path_rows(frame: pd.DataFrame) -> tuple[PathRow, ...]:
    rows = []
    for record in frame.to_dict("records"):
        when, percent = record.get("date"), record.get("percent")
        if when is None or (isinstance(when, float) and math.isnan(when)) or when is pd.NaT:
            when = None
        elif isinstance(when, datetime.datetime | pd.Timestamp):
            when = when.date()
        if percent is not None and isinstance(percent, float) and math.isnan(percent):
            percent = None
        rows.append(PathRow(when, None if percent is None else float(percent)))
    return tuple(rows)


def _path_editor(base: Base) -> tuple[tuple[PathRow, ...], Any]:
    st.markdown("**Unemployment path** (% registered; linear between points, flat outside)")
    start = pd.DataFrame(
        {
            "date": pd.to_datetime(pd.Series([r.date for r in base.draft.path], dtype=object)),
            "percent": pd.Series([r.percent for r in base.draft.path], dtype=float),
        }
    )
    left, right = st.columns([2, 3])
    with left:
        edited = st.data_editor(
            start,
            num_rows="dynamic",
            key=_key(PATH_KEY),
            column_config={
                "date": st.column_config.DateColumn("date", format="YYYY-MM-DD"),
                "percent": st.column_config.NumberColumn("percent", format="%.2f"),
            },
            hide_index=True,
        )
        slot = st.empty()
    rows = _path_rows(edited)
    with right:
        _draw_path(rows, base)
    return rows, slot


def _draft_end(scenario: Scenario) -> datetime.date:
    """The end of the draft's simulated period: the base's start over the years typed in the
    form (the base's own years while the field does not read as a number)."""
    typed = str(st.session_state.get(_key("horizon_years"), "")).strip().replace(",", ".")
    try:
        years = float(typed)
    except ValueError:
        return scenario.end_date
    if not 0 < years <= 50:
        return scenario.end_date
    return scenario.start_date + datetime.timedelta(days=round(years * DAYS_PER_YEAR))


def _draw_path(rows: tuple[PathRow, ...], base: Base) -> None:
    """The path as the model reads it: the points as edited, joined by lines, flat from the
    start of the simulated period to the first and from the last to the base's end."""
    import altair as alt

    points = [(r.date, r.percent) for r in rows if r.date is not None and r.percent is not None]
    if not points:
        return
    scenario = base.resolved.scenario
    ordered = sorted(points)
    line = [(min(scenario.sim_start_date, ordered[0][0]), ordered[0][1]), *ordered]
    line.append((max(_draft_end(scenario), ordered[-1][0]), ordered[-1][1]))
    frame = pd.DataFrame(line, columns=["date", "percent"])
    marks = pd.DataFrame(points, columns=["date", "percent"])
    frame["date"] = pd.to_datetime(frame["date"])
    marks["date"] = pd.to_datetime(marks["date"])
    chart = alt.Chart(frame).mark_line().encode(
        x=alt.X("date:T", title=None), y=alt.Y("percent:Q", title="unemployment (%)")
    ) + alt.Chart(marks).mark_point(filled=True, size=60).encode(x="date:T", y="percent:Q")
    st.altair_chart(chart.properties(height=220), width="stretch")


def _changes_editor(base: Base) -> tuple[tuple[ChangeRow, ...], Any]:
    st.markdown("**Timed changes** (from a date on, a setting takes a new value)")
    start = pd.DataFrame(
        {
            "at": pd.to_datetime(pd.Series([r.at for r in base.draft.changes], dtype=object)),
            "setting": pd.Series([r.setting for r in base.draft.changes], dtype=object),
            "value": pd.Series([r.value for r in base.draft.changes], dtype=object),
        }
    )
    edited = st.data_editor(
        start,
        num_rows="dynamic",
        key=_key(CHANGES_KEY),
        column_config={
            "at": st.column_config.DateColumn("at", format="YYYY-MM-DD"),
            "setting": st.column_config.SelectboxColumn(
                "setting", options=list(base.change_settings), width="large"
            ),
            "value": st.column_config.TextColumn("value (as in a scenario file)"),
        },
        hide_index=True,
        width="stretch",
    )
    rows = []
    for record in edited.to_dict("records"):
        at = record.get("at")
        if at is None or at is pd.NaT or (isinstance(at, float) and math.isnan(at)):
            at = None
        elif isinstance(at, datetime.datetime | pd.Timestamp):
            at = at.date()
        setting = record.get("setting")
        value = record.get("value")
        rows.append(
            ChangeRow(
                at,
                setting if isinstance(setting, str) else "",
                value if isinstance(value, str) else "",
            )
        )
    return tuple(rows), st.empty()


def _show_problems(checked: Checked, slots: dict[str, Any]) -> None:
    """Each message next to its field; the rest above the run button."""
    for key, slot in slots.items():
        messages = checked.problems.get(key)
        if messages:
            slot.error("\n\n".join(messages))


# --- running and results ----------------------------------------------------------------------


def _others(scenarios: Path, base: Base, draft_name: str) -> list[Path]:
    files = sorted(p.name for p in scenarios.glob("*.toml") if p != base.file)
    chosen = st.multiselect(
        "Also compare these scenario files (side by side, same seed and replications)",
        files,
        key=_key("others"),
    )
    return [scenarios / name for name in chosen]


def _request(
    base: Base, checked: Checked, others: list[Path]
) -> tuple[RunRequest | None, list[str]]:
    """The run the button starts, or why it cannot start."""
    draft = checked.resolved
    assert draft is not None
    compared = changes_the_scenario(base.resolved, draft) or bool(others)
    problems: list[str] = []
    base_run = base_as_run(base, draft) if compared else None
    loaded = []
    for path in others:
        try:
            loaded.append(
                load_scenarios(path, years=draft.scenario.horizon_years, over_sweep=True)[0]
            )
        except InputError as exc:
            problems += [str(p) for p in exc.problems]
    names = [draft.name, *(o.name for o in loaded)] + ([base_run.name] if base_run else [])
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        problems.append(
            f"name: each compared scenario needs its own name (its sub-folder); repeated: "
            f"{', '.join(repeated)}"
        )
    if problems:
        return None, problems
    command = command_text(base.file, checked.overrides, compared)
    return RunRequest(draft, base_run, base.file, command, tuple(loaded)), []


def _long_run_confirmed(bench: Workbench, request: RunRequest) -> bool:
    """A run estimated to take over 10 minutes starts only when confirmed, as on the command
    line (``--yes``): a slip such as 100 000 replications would otherwise hold the workers
    for days."""
    from sim.experiments.runner import estimate_cost

    scenarios = [request.draft, *request.others] + ([request.base] if request.base else [])
    runs = [(s, request.draft.scenario.replications) for s in scenarios]
    cost = estimate_cost(runs, workers=bench.workers)
    if not cost.needs_confirmation:
        return True
    minutes = cost.seconds / 60
    st.warning(
        f"This run is estimated to take about {minutes:,.0f} minutes "
        f"({_count(cost.replications, 'replication')} on {_count(cost.workers, 'worker')})."
    )
    return bool(st.checkbox("Run it anyway", key=_key("long_run")))


def _run(bench: Workbench, request: RunRequest) -> Outcome | None:
    bar = st.progress(0.0, text="starting")
    # Pressing any button reruns the page, which ends this run at its next progress step;
    # the pool's replications not yet started are cancelled (those under way finish unseen).
    stop = st.empty()
    stop.button("Stop", key="stop", help="Stops after the replications already under way")

    shown = [0.0]

    def progress(done: int, total: int) -> None:
        # At most five updates a second: each is drawn by the browser, on the cores the
        # replications run on.
        now = time.monotonic()
        if now - shown[0] >= 0.2 or done == total:
            shown[0] = now
            # every scenario's: the base's are counted with the draft's
            bar.progress(done / total, text=f"{done} of {total} replications, all scenarios")

    # Set until the run returns: a rerun that ends the run (a click, an edited field, Stop)
    # leaves it set, and the next pass of the page says the run was stopped (_stopped_note).
    st.session_state["running"] = request.command
    try:
        outcome = bench.run(request, progress)
    except Exception as exc:  # the page stays up and says what went wrong
        st.session_state.pop("running", None)
        st.error(f"The run failed: {exc}")
        return None
    st.session_state.pop("running", None)
    stop.empty()
    bar.progress(1.0, text=f"done in {outcome.seconds:.1f} s")
    return outcome


def _headline(summary: pd.DataFrame) -> pd.DataFrame:
    by_kpi = summary.set_index("kpi")
    rows = []
    for kpi in HEADLINE:
        if kpi not in by_kpi.index:
            continue
        r = by_kpi.loc[kpi]
        unit = kpi_unit(kpi, r["unit"])
        low, high = level_interval(r["ci_low"], r["ci_high"], kpi, unit)  # as the report cuts it
        rows.append(
            {
                "KPI": kpi_label(kpi),
                "mean": number(r["mean"], unit),
                "95 % interval": interval(low, high, unit, of=r["mean"], kpi=kpi),
                "unit": unit,
            }
        )
    return pd.DataFrame(rows)


def _differences_table(differences: pd.DataFrame) -> pd.DataFrame:
    rows = []
    head = differences[differences["kpi"].isin(HEADLINE)]
    # the headline's order (as the run's table), each alternative's rows together
    alternatives = list(dict.fromkeys(head["alternative"]))
    head = head.assign(
        _alt=head["alternative"].map(alternatives.index), _kpi=head["kpi"].map(HEADLINE.index)
    ).sort_values(["_alt", "_kpi"], kind="stable")
    for _, r in head.iterrows():
        unit = kpi_unit(r["kpi"], r["unit"])
        low, high = difference_interval(r["ci_low"], r["ci_high"], r["base_mean"], r["kpi"], unit)
        rows.append(
            {
                "alternative": r["alternative"],
                "KPI": kpi_label(r["kpi"]),
                "base": number(r["base_mean"], unit),
                "alternative mean": number(r["alternative_mean"], unit),
                "difference": number(r["difference"], unit, sign=True),
                "paired 95 % interval": interval(low, high, unit, sign=True, of=r["difference"]),
                # no percentage of a base under one of its unit (0.4 households): it says
                # nothing, as the report and its figures leave it out
                "% of base": percent_change(r["difference"], r["base_mean"], r["kpi"]) or "–",
            }
        )
    return pd.DataFrame(rows)


SCENARIO_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"] * 4
"""The households chart's colours: the base first (as the report's figures colour it)."""


def _curves(outcome: Outcome) -> None:
    """Households per month in every scenario, on one axis (means over replications)."""
    every = (
        [outcome.draft_results]
        if outcome.comparison is None
        else [outcome.comparison.base, *outcome.comparison.alternatives]
    )
    import altair as alt

    lines = {r.resolved.name: r.monthly.groupby("month")["households"].mean() for r in every}
    frame = pd.DataFrame(lines)
    frame.index = pd.to_datetime(frame.index)
    st.markdown("**Households receiving assistance per month** (mean over replications)")
    names = list(frame.columns)
    long = (
        frame.rename_axis("month")
        .reset_index()
        .melt("month", var_name="scenario", value_name="households")
    )
    # the base (or a single run) always in the first colour, the alternatives after it in
    # their order, and their names in full (the default palette went by the names' order, so
    # the base changed colour between runs, and the legend cut long names)
    colour = alt.Color(
        "scenario:N",
        scale=alt.Scale(domain=names, range=SCENARIO_COLOURS[: len(names)]),
        sort=names,
        legend=alt.Legend(title=None, labelLimit=0, orient="bottom"),
    )
    chart = (
        alt.Chart(long)
        .mark_line()
        .encode(
            x=alt.X("month:T", title="month"),
            y=alt.Y("households:Q", title="households", scale=alt.Scale(zero=False)),
            color=colour,
        )
    )
    st.altair_chart(chart.properties(height=260), width="stretch")
    start = outcome.draft_results.resolved.scenario.start_date
    if frame.index.min() < pd.Timestamp(start):
        st.caption(
            f"The months before {start} are the warm-up: simulated so that the unit starts "
            "from a settled caseload, not counted in any KPI."
        )


def _forest_png(outcome: Outcome) -> bytes:
    """The forest plot of the outcome's differences, drawn once per outcome (not at every
    rerun of the page)."""
    drawn = st.session_state.get("forest")
    if drawn is None or drawn[0] is not outcome:
        from sim.output.comparison_figures import plot_forest
        from sim.output.drawing import png_bytes

        assert outcome.comparison is not None
        drawn = (outcome, png_bytes(plot_forest(outcome.comparison.differences)))
        st.session_state["forest"] = drawn
    return bytes(drawn[1])


def _show_outcome(outcome: Outcome) -> None:
    results = outcome.draft_results
    reused = " (the base's results reused: the same numbers)" if outcome.base_reused else ""
    if outcome.reused:
        reused = " (an earlier run's results of the same numbers, reused)"
    st.subheader(f"Results: {results.resolved.name}")
    st.caption(
        f"{_count(results.resolved.scenario.replications, 'replication')} × "
        f"{results.resolved.scenario.horizon_years} years, seed {results.resolved.scenario.seed}; "
        f"ran in {outcome.seconds:.1f} s{reused}"
    )
    # Plain tables (every row shown, light for the browser to draw); the container's class
    # st-key-headline is what a browser test or benchmark waits for.
    with st.container(key="headline"):
        st.table(_headline(results.summary).set_index("KPI"))
    for warning in outcome_warnings(outcome):  # as the report gives them
        st.warning(warning)
    if outcome.comparison is not None:
        st.subheader(f"Against the base: {outcome.comparison.base.resolved.name}")
        st.caption("Paired differences under common random numbers (alternative − base).")
        every = outcome.comparison.differences
        backlog = comparison_backlog(outcome.comparison)
        base_name = outcome.comparison.base.resolved.name
        for name in dict.fromkeys(every["alternative"]):
            said = change_text(every[every["alternative"] == name])
            st.markdown(f"**{name}**: {said[0].upper()}{said[1:]}")
            caveat = backlog_caveat(base_name, str(name), backlog)
            if caveat:  # beside the differences it concerns, as the report has it
                st.warning(caveat)
        differences = _differences_table(outcome.comparison.differences)
        st.table(differences.set_index(["alternative", "KPI"]))
        st.image(_forest_png(outcome), caption="Paired differences and their 95 % intervals")
    _curves(outcome)


def _folder_backlog_caveats(folder: Path) -> list[str]:
    """A comparison folder's intake caveats, one per alternative that has one, from its
    scenarios' monthly.csv (as its report gives them beside the differences)."""
    compared = [f for f in _compared_folders(folder) if (f / "monthly.csv").exists()]
    if not compared:
        return []
    backlog = backlogged([(f.name, pd.read_csv(f / "monthly.csv")) for f in compared])
    base, *alternatives = [f.name for f in _compared_folders(folder)]
    said = [(name, backlog_caveat(base, name, backlog)) for name in alternatives]
    return [f"{name}: {caveat}" for name, caveat in said if caveat]


def _folder_downloads(folder: Path, prefix: str) -> None:
    """Downloads of a results folder: report, workbook, CSV files."""
    st.caption(f"Results folder: `{folder}`")
    cols = st.columns(3)
    report = folder / "report.html"
    if report.exists():
        cols[0].download_button(
            "report.html", report.read_bytes, file_name=f"{folder.name}-report.html",
            mime="text/html", key=f"{prefix}report", on_click="ignore",
        )  # fmt: skip
    if (folder / "summary.csv").exists() or (folder / "comparison.csv").exists():
        cols[1].download_button(
            "Excel workbook", lambda: workbook_bytes(folder), file_name=f"{folder.name}.xlsx",
            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            key=f"{prefix}workbook", on_click="ignore",
        )  # fmt: skip
    else:  # an optimisation's or a calibration's folder: its tables are its CSV files
        cols[1].caption("No workbook for this kind of folder: its tables are the CSV files.")
    with cols[2].popover("CSV files"):
        for i, path in enumerate(csv_files(folder)):
            name = path.relative_to(folder).as_posix()
            st.download_button(  # named after the folder too: two runs' files do not collide
                name, path.read_bytes, file_name=f"{folder.name}-{name.replace('/', '-')}",
                mime="text/csv", key=f"{prefix}csv{i}", on_click="ignore",
            )  # fmt: skip


def _figures(folder: Path, scenario: str | None) -> None:
    """The run figures the report holds (drawn once, by the folder's writer)."""
    places = [folder / "figures"]
    if scenario is not None:
        places.append(folder / scenario / "figures")
    pngs = [p for place in places for p in sorted(place.glob("*.png"))]
    if pngs:
        with st.expander("Figures of the report", expanded=False):
            for png in pngs:
                st.image(str(png), caption=png.relative_to(folder).as_posix())


def _stopped_note() -> None:
    """Say so when the last run was ended before it finished (Stop, or any click or edit while
    it ran, reruns the page): nothing was saved, and the results shown, if any, are older."""
    if st.session_state.pop("running", None) is not None:
        st.warning(
            "The last run was stopped before it finished (Stop was pressed, or a setting "
            "changed while it ran): nothing was saved. Press Run to start it again."
        )


def _draft_identity(base: Base, checked: Checked) -> tuple[str, ...] | None:
    """What a result was run for: the base file and the draft's overrides (None: the draft
    has problems, so no result is its)."""
    return (str(base.file), *checked.overrides) if checked.ok else None


def build_tab(bench: Workbench, scenarios: Path) -> None:
    _stopped_note()
    base = _choose_base(scenarios)
    if base is None:
        return
    st.caption(base.resolved.scenario.description)
    values, slots = _field_widgets(base)
    path_rows, slots[PATH_KEY] = _path_editor(base)
    change_rows, slots[CHANGES_KEY] = _changes_editor(base)
    checked = check(base, Draft(values, path_rows, change_rows))
    _show_problems(checked, slots)
    others = _others(scenarios, base, values.get("name", ""))
    general = list(checked.problems.get(GENERAL, []))
    request = None
    if checked.ok:
        assert checked.resolved is not None
        request, more = _request(base, checked, others)
        for message in more:
            if message.startswith("name: "):
                slots["name"].error(message.removeprefix("name: "))
            else:
                general.append(message)
        changed = differences(base.resolved, checked.resolved)
        with st.expander(f"Settings that differ from {base.file.name} ({len(changed)})"):
            st.dataframe(
                pd.DataFrame(changed, columns=["setting", "base", "this scenario"]),
                hide_index=True,
            )
        st.download_button(
            "Download the scenario (TOML)", draft_toml(checked.resolved, base.file),
            file_name=f"{checked.resolved.name}.toml", mime="application/toml",
            key="download_toml", on_click="ignore",
        )  # fmt: skip
    for message in general:
        st.error(message)
    if checked.problems:
        st.warning("Correct the settings marked above to run.")
    if request is not None and not _long_run_confirmed(bench, request):
        request = None
    pressed = st.button("Run", type="primary", disabled=request is None, key="run")
    if pressed and request is not None:
        outcome = _run(bench, request)
        if outcome is not None:
            st.session_state["outcome"] = outcome
            st.session_state["outcome_for"] = _draft_identity(base, checked)
    outcome = st.session_state.get("outcome")
    if outcome is None:
        return
    if st.session_state.get("outcome_for") != _draft_identity(base, checked):
        st.info(
            f"The results below are those of an earlier version of the draft "
            f"({outcome.draft_results.resolved.name}); the draft has changed since. Press Run "
            "to see the draft's."
        )
    _show_outcome(outcome)
    if outcome.folder is None:
        with st.spinner("Writing the results folder (CSV files, figures, report)…"):
            try:
                bench.save(outcome)
            except Exception as exc:  # a full disk, no permission: said, not crashed
                st.error(f"The results folder could not be written: {exc}")
                return
    assert outcome.folder is not None
    _folder_downloads(outcome.folder, "run_")
    scenario = None if outcome.run is not None else outcome.draft_results.resolved.name
    _figures(outcome.folder, scenario)


# --- earlier results --------------------------------------------------------------------------


def _when(started: str) -> str:
    """A manifest's start time (ISO, UTC, microseconds) as a planner reads it."""
    try:
        return datetime.datetime.fromisoformat(started).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return started


def _compared_folders(folder: Path) -> list[Path]:
    """A comparison folder's scenario sub-folders, the base first (none for other folders)."""
    try:
        names = read_manifest(folder).get("comparison_of") or []
    except (InputError, ValueError, OSError):
        return []
    return [folder / str(name) for name in names]


def _base_of_comparison(folder: Path) -> Path | None:
    """The base scenario's sub-folder of a comparison's folder (None for other folders)."""
    return next(iter(_compared_folders(folder)), None)


def earlier_tab(bench: Workbench) -> None:
    found = earlier_results(bench.results_root)
    if not found:
        st.info(f"No results folders under {bench.results_root} yet.")
        return
    table = pd.DataFrame(
        [(e.folder.name, e.what, _when(e.started), e.seed, e.replications) for e in found],
        columns=["folder", "what", "started", "seed", "replications"],
    )
    st.dataframe(table, hide_index=True, key="earlier_table")
    names = [e.folder.name for e in found]
    if st.session_state.get("earlier_names") != names:  # a new folder: open the newest
        st.session_state["earlier_names"] = names
        st.session_state.pop("earlier_open", None)
    opened = st.selectbox("Open", names, key="earlier_open")
    if opened:
        folder = bench.results_root / opened
        for warning in folder_warnings(folder):  # as its report gives them
            st.warning(warning)
        summary = folder / "summary.csv"
        base = _base_of_comparison(folder)
        if summary.exists():
            st.dataframe(_headline(pd.read_csv(summary)), hide_index=True)
        elif base is not None:  # a comparison: each scenario's headline, the base first
            for i, scenario in enumerate(_compared_folders(folder)):
                if (scenario / "summary.csv").exists():
                    st.caption(f"The base, {scenario.name}:" if i == 0 else f"{scenario.name}:")
                    st.dataframe(_headline(pd.read_csv(scenario / "summary.csv")), hide_index=True)
        if (folder / "comparison.csv").exists():
            differences = pd.read_csv(folder / "comparison.csv")
            for caveat in _folder_backlog_caveats(folder):
                st.warning(caveat)
            st.dataframe(_differences_table(differences), hide_index=True)
        _folder_downloads(folder, "earlier_")
    singles = [e for e in found if not e.is_comparison and "run of" in e.what]
    runs = [e.folder.name for e in singles]
    st.markdown("**Compare two earlier runs** (paired: same seed, replications and period)")
    if len(runs) < 2:
        st.caption("Two single runs are needed (a comparison's folder already holds its own).")
        return
    left, right = st.columns(2)
    first = left.selectbox("Base run", runs, key="earlier_first")
    mine = next(e for e in singles if e.folder.name == first)
    # only the runs it can be paired with: the same seed, replications and period
    pairable = [
        e.folder.name for e in singles if e.folder.name != first and e.pairing == mine.pairing
    ]
    if not pairable:
        st.caption(
            f"No other run has seed {mine.seed} and {mine.replications} replications {mine.period}"
            f", as {first} has: paired differences need all three the same."
        )
        return
    second = right.selectbox(
        "Other run (same seed, replications and period)", pairable, key="earlier_second"
    )
    if first and second and first != second:
        try:
            diffs = paired_runs(bench.results_root / first, bench.results_root / second)
        except InputError as exc:
            st.error(str(exc))
        else:
            st.dataframe(_differences_table(diffs), hide_index=True)


# --- optimisation ---------------------------------------------------------------------------


def optimise_tab(bench: Workbench, scenarios: Path) -> None:
    """Start ``caseflow optimise`` on a spec under the scenarios folder, with the staff budget
    typed here, and show the chosen staffing, the selection's guarantee and the front."""
    specs = spec_files(scenarios)
    if not specs:
        st.info(f"No optimisation specs under {scenarios / 'optimise'} (docs/optimisation.md).")
        return
    chosen = st.selectbox("Optimisation spec", specs, format_func=lambda p: p.name, key="opt_spec")
    budget_text = st.text_input(
        "Staff budget, SEK a year (empty: the spec's own)", key="opt_budget"
    )
    try:
        loaded = load_optimisation(chosen, budget_text)
    except InputError as exc:
        for problem in exc.problems:
            st.error(str(problem))
        st.button("Search", disabled=True, key="opt_run")
        return
    spec = loaded.spec
    budget = f"{spec.constraints.staff_budget_sek:,.0f}".replace(",", " ")
    st.caption(
        f"{spec.description}: {spec.trials} trials × {spec.replications} replications, staff "
        f"budget {budget} SEK a year. A search run before resumes from its journal."
    )
    asked = (str(chosen), spec.constraints.staff_budget_sek)
    if st.button("Search", type="primary", key="opt_run"):
        with st.spinner("Searching (every candidate under common random numbers) ..."):
            try:
                st.session_state["opt_outcome"] = (asked, run_optimisation(bench, loaded))
            except Exception as exc:  # the page stays up, whatever failed
                st.error(f"The optimisation failed: {exc}")
                return
    shown = st.session_state.get("opt_outcome")
    if shown is None:
        return
    if shown[0] != asked:  # a result of another spec or budget: not shown as this one's
        st.info("The last search was for another spec or budget: press Search for this one.")
        return
    outcome = shown[1]
    result = outcome.result
    if result.chosen is not None:
        values = ", ".join(f"{k} = {v}" for k, v in result.chosen.candidate.values.items())
        st.success(f"Chosen: {result.chosen.candidate.resolved.name} ({values})")
    if result.selection is not None:
        sel = result.selection
        st.write(
            f"KN++ among {len(result.finalists)} finalists: "
            + (
                f"probability of correct selection at least {sel.probability} within "
                + f"{sel.indifference_zone:,.0f}".replace(",", " ")
                + f" ({kpi_label(result.loaded.primary.kpi)})"
                if sel.guaranteed
                else "no guarantee (stopped at the replication cap)"
            )
        )
    for line in result.notes:
        st.warning(line)
    front = outcome.folder / "figures" / "front.png"
    if front.exists():
        st.image(str(front))
    pareto = outcome.folder / "pareto.csv"
    if pareto.exists():
        st.dataframe(pd.read_csv(pareto), hide_index=True, key="opt_pareto")
    st.caption(f"Results folder: `{outcome.folder}` (each finalist as a scenario under chosen/)")
    report = outcome.folder / "report.html"
    st.download_button(
        "report.html", report.read_bytes, file_name=f"{outcome.folder.name}-report.html",
        mime="text/html", key="opt_report", on_click="ignore",
    )  # fmt: skip


def main() -> None:
    st.set_page_config(page_title="caseflow workbench", layout="wide")
    st.title("caseflow: the planners' workbench")
    results_root, scenarios, workers = _settings()
    bench = workbench(str(results_root), workers)
    build, earlier, optimising = st.tabs(["Build and run", "Earlier results", "Optimise"])
    with build:
        build_tab(bench, scenarios)
    with earlier:
        earlier_tab(bench)
    with optimising:
        optimise_tab(bench, scenarios)


# Streamlit runs this file as ``__main__``; a worker the forkserver starts imports it again as
# ``__mp_main__`` (multiprocessing's rule for the main module), where it must not draw a page.
if __name__ == "__main__":
    main()
