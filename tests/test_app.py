"""The planners' workbench (``caseflow app``, docs/app.md): the draft's checks and file, the
shared workbench, the downloads, and the page itself in Streamlit's ``AppTest``.

Runs here are small (2-3 replications, a few months) so that the file stays within seconds;
the real-browser test is tests/test_app_browser.py.
"""

from __future__ import annotations

import datetime
import io
import os
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from sim.app.downloads import SHEETS, workbook_bytes
from sim.app.draft import (
    ChangeRow,
    Draft,
    PathRow,
    base_as_run,
    changes_the_scenario,
    check,
    differences,
    draft_toml,
    field_of,
    load_base,
)
from sim.app.history import earlier_results, paired_runs
from sim.app.workbench import RunRequest, Workbench, command_text, outcome_warnings
from sim.cli.main import main as caseflow
from sim.experiments.runner import compare_scenarios
from sim.inputs.validation import InputError
from sim.records import HEADLINE, kpi_label

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
PAGE = ROOT / "sim" / "app" / "page.py"
POSTS = "staff.ongoing_social_workers.posts"


def small(base_values: dict[str, str], **changes: str) -> dict[str, str]:
    values = {**base_values, "replications": "2", "horizon_years": "0.25"}
    values["name"] = "edited"
    values.update({k.replace("__", "."): v for k, v in changes.items()})
    return values


@pytest.fixture(scope="module")
def base():
    return load_base(SCENARIOS / "baseline.toml")


def draft(base, values, path=None, changes=None) -> Draft:
    return Draft(
        values,
        base.draft.path if path is None else tuple(path),
        base.draft.changes if changes is None else tuple(changes),
    )


# --- the draft: checked by the files' rules, each message next to its field ------------------


def test_an_unchanged_draft_is_the_base(base) -> None:
    checked = check(base, base.draft)
    assert checked.ok and checked.overrides == []
    assert checked.resolved is not None
    assert checked.resolved.as_dict() == base.resolved.as_dict()


def test_bad_values_get_the_loaders_messages_next_to_their_fields(base) -> None:
    values = small(base.draft.values)
    values[POSTS] = "abc"  # letters in a number
    values["ar_team.places"] = "-1"  # an impossible count
    values["replications"] = ""  # an empty field
    path = [PathRow(datetime.date(2015, 6, 1), 3.2), PathRow(datetime.date(2015, 1, 1), 4.0)]
    checked = check(base, draft(base, values, path=path))
    assert not checked.ok
    assert checked.problems[POSTS] == ['Input should be a valid integer (got "abc")']
    assert "greater than or equal to 0" in checked.problems["ar_team.places"][0]
    assert "valid integer" in checked.problems["replications"][0]
    # the dates out of order: the Unemployment rule's message, under the path's table, its
    # rows counted as the page counts them (from 1; the file's keys count from 0)
    assert (
        "path dates must increase; row 2 (2015-01-01) is not after row 1"
        in (checked.problems["unemployment.path"][0])
    )


def test_timed_change_problems_name_the_page_rows(base) -> None:
    """A date's rows are one entry of the file's ``changes``: a problem names the row that
    set the key, not the entry's number; a value begun as TOML and left unfinished is a
    problem of its row (it raised out of the page before), as it is in a number field."""
    values = small(base.draft.values)
    day, later = datetime.date(2015, 2, 1), datetime.date(2015, 3, 1)  # in the short run
    rows = [
        ChangeRow(day, "staff.ongoing_social_workers.posts", "12"),
        ChangeRow(day, "staff.intake_social_workers.posts", "5"),
        ChangeRow(later, "ar_team.places", "-1"),
    ]
    checked = check(base, draft(base, values, changes=rows))
    assert checked.problems["changes"][0].startswith("row 3, ar_team.places: Input should be")
    broken = check(base, draft(base, values, changes=[ChangeRow(day, "ar_team.places", "[48")]))
    assert broken.problems["changes"][0].startswith("row 1: the value is not valid TOML")
    values["ar_team.places"] = "[48"
    assert (
        check(base, draft(base, values))
        .problems["ar_team.places"][0]
        .startswith("the value is not valid TOML")
    )


def test_numbers_typed_the_swedish_way_are_read(base) -> None:
    """A planner types 0,33 and 1 000 (as the optimisation page's budget field accepts
    15 000 000): a number field reads them as 0.33 and 1000."""
    values = small(base.draft.values)
    values["staff.ongoing_social_workers.annual_turnover"] = "0,4"
    values[POSTS] = "1 000"
    checked = check(base, draft(base, values))
    assert checked.ok, checked.problems
    assert checked.resolved is not None
    staff = checked.resolved.timeline[0].staff
    assert staff.ongoing_social_workers.annual_turnover == 0.4
    assert staff.ongoing_social_workers.posts == 1000
    # 1,000 is a thousand in English and one in Swedish: not guessed, asked
    values[POSTS] = "1,000"
    assert "write decimals with a point" in check(base, draft(base, values)).problems[POSTS][0]
    # a timed change's value reads the same way as a field (it was refused)
    values[POSTS] = "9"
    turnover = "staff.ongoing_social_workers.annual_turnover"
    change = ChangeRow(datetime.date(2015, 2, 1), turnover, "0,25")
    checked = check(base, draft(base, values, changes=[change]))
    assert checked.ok, checked.problems
    assert checked.resolved is not None
    assert checked.resolved.timeline[-1].staff.ongoing_social_workers.annual_turnover == 0.25


def test_the_same_messages_as_the_command_lines_set(base, capsys) -> None:
    values = small(base.draft.values)
    values[POSTS] = "abc"
    checked = check(base, draft(base, values))
    assert caseflow(["validate", str(SCENARIOS / "baseline.toml")]) == 0
    status = caseflow(
        ["run", str(SCENARIOS / "baseline.toml"), "--set", f"{POSTS}=abc", "--out", "/nonexistent"]
    )
    assert status == 2
    assert checked.problems[POSTS][0] in capsys.readouterr().err


def test_problems_are_placed_by_key() -> None:
    assert field_of(POSTS) == POSTS
    assert field_of("unemployment.path[1].date") == "unemployment.path"
    assert field_of("unemployment") == "unemployment.path"
    assert field_of("changes[0].staff.x.posts") == "changes"
    assert field_of("initial_caseload.by_class") == ""


def test_empty_cells_and_timed_changes(base) -> None:
    values = small(base.draft.values)
    path = [PathRow(datetime.date(2015, 1, 1), None)]
    changes = [ChangeRow(None, POSTS, "14"), ChangeRow(datetime.date(2015, 2, 1), "", "1")]
    checked = check(base, draft(base, values, path=path, changes=changes))
    assert "percent: required key is missing" in checked.problems["unemployment.path"][0]
    assert "choose the setting" in checked.problems["changes"][0]
    good = [ChangeRow(datetime.date(2015, 2, 1), POSTS, "14")]
    checked = check(base, draft(base, values, changes=good))
    assert checked.ok and checked.resolved is not None
    assert checked.resolved.timeline[1].staff.ongoing_social_workers.posts == 14


def test_differences_and_whether_the_scenario_changed(base) -> None:
    values = small(base.draft.values)
    only_run = check(base, draft(base, values)).resolved
    assert only_run is not None and not changes_the_scenario(base.resolved, only_run)
    values[POSTS] = "8"
    changed = check(base, draft(base, values)).resolved
    assert changed is not None and changes_the_scenario(base.resolved, changed)
    assert (POSTS, "11", "8") in differences(base.resolved, changed)


def test_a_sweeps_first_point_is_a_base_whose_swept_fields_can_be_edited(tmp_path) -> None:
    """A base file with a ``[sweep]`` gives its first point (as ``caseflow compare`` takes it);
    the draft's edits are set over that point, a swept field included, where the command
    line refuses a ``--set`` that the sweep would undo at every point."""
    sweep = tmp_path / "sweep.toml"
    sweep.write_text(
        f'extends = "{SCENARIOS / "baseline.toml"}"\nname = "swept"\n'
        f'[sweep]\n"{POSTS}" = [9, 13]\nseed = [5, 6]\n'
    )
    swept = load_base(sweep)
    assert swept.draft.values[POSTS] == "9"
    values = small(swept.draft.values)
    values[POSTS] = "8"
    checked = check(swept, draft(swept, values))
    assert checked.resolved is not None, checked.problems
    assert checked.resolved.scenario.staff.ongoing_social_workers.posts == 8
    assert checked.resolved.name == "edited"
    as_run = base_as_run(swept, checked.resolved)
    assert as_run.scenario.staff.ongoing_social_workers.posts == 9  # the first point
    assert as_run.scenario.seed == 5 and as_run.scenario.replications == 2
    assert caseflow(["validate", str(sweep)]) == 0
    assert caseflow(["run", str(sweep), "--set", f"{POSTS}=8", "--out", str(tmp_path / "o")]) == 2


# --- running, saving, downloading -------------------------------------------------------------


@pytest.fixture(scope="module")
def compared(base, tmp_path_factory):
    """One small comparison run and saved by the workbench (in this process: one worker)."""
    root = tmp_path_factory.mktemp("results")
    bench = Workbench(root, workers=1)
    values = small(base.draft.values)
    values[POSTS] = "8"
    checked = check(base, draft(base, values))
    assert checked.resolved is not None
    request = RunRequest(
        checked.resolved,
        base_as_run(base, checked.resolved),
        base.file,
        command_text(base.file, checked.overrides, True),
    )
    outcome = bench.run(request)
    bench.save(outcome)
    return bench, request, outcome


def test_a_comparison_is_saved_as_the_command_line_saves_it(compared) -> None:
    _, _, outcome = compared
    folder = outcome.folder
    for name in ("manifest.json", "comparison.csv", "report.html"):
        assert (folder / name).is_file()
    for scenario in ("baseline", "edited"):
        for name in ("summary.csv", "monthly.csv", "scenario.toml", "manifest.json"):
            assert (folder / scenario / name).is_file()
    assert "caseflow app" in (folder / "manifest.json").read_text()


def test_a_remembered_base_gives_the_same_comparison(compared) -> None:
    bench, request, outcome = compared
    assert request.base is not None
    again = bench.run(request)
    assert again.base_reused
    fresh = compare_scenarios(request.base, [request.draft], workers=1)
    pd.testing.assert_frame_equal(again.comparison.differences, fresh.differences)
    pd.testing.assert_frame_equal(outcome.comparison.differences, fresh.differences)
    # a single run of numbers already run is that run's results, and says so (it said
    # "ran in 0.0 s" as if it had run)
    alone = RunRequest(request.draft, None, request.base_file, request.command)
    assert not outcome.reused and bench.run(alone).reused


def test_the_downloaded_toml_reruns_to_identical_numbers(compared, base, tmp_path) -> None:
    _, request, outcome = compared
    file = tmp_path / "edited.toml"
    file.write_text(draft_toml(request.draft, base.file), encoding="utf-8")
    out = tmp_path / "rerun"
    assert caseflow(["run", str(file), "--out", str(out), "--workers", "1"]) == 0
    app_summary = pd.read_csv(outcome.folder / "edited" / "summary.csv")
    pd.testing.assert_frame_equal(pd.read_csv(out / "summary.csv"), app_summary)
    app_monthly = pd.read_csv(outcome.folder / "edited" / "monthly.csv")
    pd.testing.assert_frame_equal(pd.read_csv(out / "monthly.csv"), app_monthly)


def test_the_workbook_has_the_sheets_and_the_csv_numbers(compared) -> None:
    _, _, outcome = compared
    folder = outcome.folder
    book = pd.read_excel(io.BytesIO(workbook_bytes(folder)), sheet_name=None)
    assert list(book) == list(SHEETS)
    differences = pd.read_csv(folder / "comparison.csv")
    pd.testing.assert_frame_equal(book["differences"], differences, check_dtype=False)
    summary = book["summary"]
    mine = summary[summary["scenario"] == "edited"].drop(columns="scenario")
    pd.testing.assert_frame_equal(
        mine.reset_index(drop=True),
        pd.read_csv(folder / "edited" / "summary.csv"),
        check_dtype=False,
    )
    monthly = book["monthly"]
    assert len(monthly) == sum(
        len(pd.read_csv(folder / s / "monthly.csv")) for s in ("baseline", "edited")
    )
    scenario = book["scenario"].set_index("setting")
    # numbers as numbers and words as words (they were the texts "11" and '"baseline"')
    assert scenario.loc[POSTS, "baseline"] == 11 and scenario.loc[POSTS, "edited"] == 8
    assert scenario.loc["name", "baseline"] == "baseline"
    assert scenario.loc["organisation.form", "edited"] == "split"


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) not installed")
def test_the_workbook_opens_in_libreoffice_with_the_csv_numbers(compared, tmp_path) -> None:
    """LibreOffice reads every sheet of the workbook, and its summary sheet holds the numbers
    of the CSV files (a headless conversion of each sheet to CSV)."""
    _, _, outcome = compared
    book = tmp_path / "book.xlsx"
    book.write_bytes(workbook_bytes(outcome.folder))
    # every sheet to CSV: comma, double quote, UTF-8, sheet -1 = all sheets
    export = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"
    subprocess.run(
        ["soffice", "--headless", "--convert-to", export, "--outdir", str(tmp_path), str(book)],
        check=True, capture_output=True, timeout=180,
        env={**os.environ, "HOME": str(tmp_path)},  # a profile of its own
    )  # fmt: skip
    for sheet in SHEETS:
        assert (tmp_path / f"book-{sheet}.csv").is_file(), sheet
    summary = pd.read_csv(tmp_path / "book-summary.csv")
    mine = summary[summary["scenario"] == "edited"].drop(columns="scenario")
    pd.testing.assert_frame_equal(
        mine.reset_index(drop=True),
        pd.read_csv(outcome.folder / "edited" / "summary.csv"),
        check_dtype=False,
        rtol=1e-12,
    )


def test_earlier_results_are_listed_and_two_runs_compared(compared) -> None:
    bench, _, outcome = compared
    found = earlier_results(bench.results_root)
    assert [e.folder for e in found] == [outcome.folder]
    assert found[0].is_comparison
    paired = paired_runs(outcome.folder / "baseline", outcome.folder / "edited")
    stored = pd.read_csv(outcome.folder / "comparison.csv")
    pd.testing.assert_frame_equal(paired, stored, check_dtype=False)
    # opened again, the folder shows the warnings its report gives (it showed none)
    from sim.app.history import folder_warnings

    said = folder_warnings(outcome.folder)
    assert said and all(w in (outcome.folder / "report.html").read_text() for w in said[:1])
    assert outcome_warnings(outcome) == said


# --- the page in Streamlit's AppTest ---------------------------------------------------------


@pytest.fixture
def page(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("CASEFLOW_APP_RESULTS", str(tmp_path / "results"))
    monkeypatch.setenv("CASEFLOW_APP_SCENARIOS", str(SCENARIOS))
    monkeypatch.setenv("CASEFLOW_APP_WORKERS", "1")
    at = AppTest.from_file(str(PAGE), default_timeout=120)
    at.run()
    assert not at.exception
    return at


def _field(at, key: str):
    return at.text_input(key=f"{at.session_state['generation']}:{key}")


def test_the_page_refuses_bad_input_next_to_the_field(page) -> None:
    assert not page.button(key="run").disabled
    _field(page, POSTS).input("abc").run()
    assert not page.exception
    assert page.button(key="run").disabled
    assert any('valid integer (got "abc")' in e.value for e in page.error)
    _field(page, POSTS).input("-3").run()
    assert any("greater than or equal to 0" in e.value for e in page.error)
    _field(page, POSTS).input("9").run()
    assert not page.error and not page.button(key="run").disabled
    _field(page, "name").input("baseline").run()  # compared with a base of the same name
    assert any("needs its own name" in e.value for e in page.error)
    assert page.button(key="run").disabled
    _field(page, "name").input("nine social workers").run()  # not a valid name
    assert any("no spaces, no å ä ö" in e.value for e in page.error)


def test_a_starved_intake_is_said_beside_the_differences(page) -> None:
    """An alternative with no one at intake looks cheapest because its households wait outside
    the caseload: the page says so under its line against the base (as the report does beside
    its table), and again when the folder is opened among the earlier results."""
    _field(page, "replications").input("2").run()
    _field(page, "horizon_years").input("0.5").run()
    _field(page, "staff.intake_social_workers.posts").input("0").run()
    page.button(key="run").click().run()
    assert not page.exception, page.exception
    caveat = "could not take its inflow: households booked but not yet visited"
    assert any(caveat in w.value and "these differences with them" in w.value for w in page.warning)
    outcome = page.session_state["outcome"]
    from sim.app.page import _folder_backlog_caveats

    (opened,) = _folder_backlog_caveats(outcome.folder)
    assert caveat in opened and opened.startswith("baseline-edited: ")
    # the comparison opened among the earlier results shows each scenario's headline
    captions = [c.value for c in page.caption]
    assert "The base, baseline:" in captions and "baseline-edited:" in captions


def test_earlier_results_open_the_newest_folder_after_a_new_run(page) -> None:
    """The folder opened among the earlier results follows new runs: it stayed on the first
    folder the session had seen while newer ones were listed above it."""
    _field(page, "replications").input("2").run()
    _field(page, "horizon_years").input("0.25").run()
    page.button(key="run").click().run()
    first = page.session_state["outcome"].folder.name
    assert page.selectbox(key="earlier_open").value == first
    _field(page, POSTS).input("9").run()
    page.button(key="run").click().run()
    assert not page.exception, page.exception
    second = page.session_state["outcome"].folder.name
    assert second != first and page.selectbox(key="earlier_open").value == second


def _vega_specs(at) -> list[dict]:
    """The Vega-Lite specs of the page's charts (AppTest lists them as unknown elements)."""
    import json

    specs: list[dict] = []

    def walk(node) -> None:
        children = getattr(node, "children", None)
        for child in children.values() if isinstance(children, dict) else children or []:
            if type(child).__name__ == "UnknownElement" and child.type == "vega_lite_chart":
                specs.append(json.loads(child.proto.spec))
            walk(child)

    walk(at._tree)
    return specs


def test_the_households_chart_keeps_the_base_in_its_colour(page) -> None:
    """The households chart colours the base first and each alternative after it, whatever
    their names (the default palette went by the names' order, so the base changed colour
    between runs), and gives the names in full (the legend cut long ones)."""
    from sim.app.page import SCENARIO_COLOURS

    _field(page, "replications").input("2").run()
    _field(page, "horizon_years").input("0.25").run()
    _field(page, POSTS).input("8").run()
    page.button(key="run").click().run()
    assert not page.exception, page.exception
    (households,) = [
        spec
        for spec in _vega_specs(page)
        if spec.get("encoding", {}).get("y", {}).get("field") == "households"
    ]
    colour = households["encoding"]["color"]
    assert colour["scale"]["domain"] == ["baseline", "baseline-edited"]
    assert colour["scale"]["range"] == SCENARIO_COLOURS[:2]
    assert colour["legend"]["labelLimit"] == 0


def test_a_long_run_needs_confirming(page) -> None:
    _field(page, "replications").input("100000").run()
    assert page.button(key="run").disabled
    assert any("estimated to take about" in w.value for w in page.warning)
    page.checkbox(key=f"{page.session_state['generation']}:long_run").check().run()
    assert not page.button(key="run").disabled


def test_the_page_runs_a_comparison_and_keeps_it_per_session(page, tmp_path) -> None:
    _field(page, "replications").input("2").run()
    _field(page, "horizon_years").input("0.25").run()
    _field(page, POSTS).input("8").run()
    others = page.multiselect(key=f"{page.session_state['generation']}:others")
    others.select("fewer_ongoing_social_workers.toml").run()
    page.button(key="run").click().run()
    assert not page.exception, page.exception
    outcome = page.session_state["outcome"]
    assert outcome.comparison is not None and outcome.folder is not None
    assert (outcome.folder / "comparison.csv").is_file()
    tables = [t.value.reset_index() for t in page.table]
    shown = [table for table in tables if "alternative" in table.columns]
    assert set(shown[0]["alternative"]) == {"baseline-edited", "fewer_ongoing_social_workers"}
    # each alternative's rows in the headline's order, and what it changed most in words
    assert shown[0]["KPI"].iloc[0] == kpi_label(HEADLINE[0])
    said = [m.value for m in page.markdown if m.value.startswith("**fewer_ongoing")]
    assert said and ("changes most" in said[0] or "No headline KPI" in said[0])
    headline = [table for table in tables if "95 % interval" in table.columns]
    assert len(headline[0]) == len(HEADLINE)
    assert "Against the base: baseline" in [s.value for s in page.subheader]
    # another tab is another session: it shares the app's pool, not this run
    from streamlit.testing.v1 import AppTest

    other = AppTest.from_file(str(PAGE), default_timeout=120)
    other.run()
    assert not other.exception and "outcome" not in other.session_state


def test_results_of_an_earlier_draft_and_a_stopped_run_are_said_to_be_so(page) -> None:
    """The results shown stay on the page while the draft is edited: they are then labelled
    as an earlier version's. A run ended before it finished (Stop, or an edit while it ran,
    reruns the page) is said to have been stopped, with nothing saved."""
    _field(page, "replications").input("2").run()
    _field(page, "horizon_years").input("0.25").run()
    page.button(key="run").click().run()
    assert not page.exception, page.exception
    assert not any("earlier version of the draft" in i.value for i in page.info)
    assert any("are the warm-up" in c.value for c in page.caption)  # the chart's first year
    _field(page, POSTS).input("8").run()  # the draft changes; the results shown do not
    assert any("earlier version of the draft" in i.value for i in page.info)
    page.session_state["running"] = "a run the page left unfinished"
    page.run()
    assert any("The last run was stopped before it finished" in w.value for w in page.warning)
    page.run()  # said once
    assert not any("The last run was stopped" in w.value for w in page.warning)


def test_earlier_runs_are_paired_only_with_runs_they_can_be_paired_with(page, tmp_path) -> None:
    """The tab opened with a red error when its two preselected runs had different seeds: the
    other run is now chosen among those with the first's seed, replications and period (two
    horizons were paired as if comparable), and with none the tab says so in a line."""
    results = tmp_path / "results"

    def earlier(name: str, seed: int, years: str = "0.1") -> None:
        argv = ["run", str(SCENARIOS / "baseline.toml"), "--out", str(results / name),
                "--replications", "2", "--years", years, "--seed", str(seed),
                "--workers", "1"]  # fmt: skip
        assert caseflow(argv) == 0

    earlier("a", 1)
    earlier("b", 2)
    page.run()
    assert not page.exception and not page.error
    assert any("No other run has seed" in c.value for c in page.caption)
    earlier("c", 2)  # pairs with b (the base run chosen before stays chosen)
    page.run()
    assert not page.error
    chosen = page.selectbox(key="earlier_first").value
    assert {chosen, *page.selectbox(key="earlier_second").options} == {"b", "c"}
    assert not page.exception
    earlier("d", 2, years="0.2")  # the same seed and replications, a longer period
    page.run()
    assert {chosen, *page.selectbox(key="earlier_second").options} == {"b", "c"}
    with pytest.raises(InputError, match="paired differences need the same period"):
        paired_runs(results / "b", results / "d")


def test_two_runs_at_once_on_the_shared_pool_keep_their_own_results(base, tmp_path) -> None:
    """Two tabs pressing Run together: each run gets its own numbers back (the pool is shared,
    the results are not), the same as each run alone."""
    from concurrent.futures import ThreadPoolExecutor

    bench = Workbench(tmp_path, workers=2)
    try:
        requests = []
        for posts in ("7", "12"):
            values = small(base.draft.values, staff__ongoing_social_workers__posts=posts)
            values["name"] = f"posts-{posts}"
            resolved = check(base, draft(base, values)).resolved
            assert resolved is not None
            requests.append(RunRequest(resolved, None, base.file, "test"))
        with ThreadPoolExecutor(2) as tabs:
            together = list(tabs.map(bench.run, requests))
        for request, outcome in zip(requests, together, strict=True):
            assert outcome.draft_results.resolved.name == request.draft.name
            alone = Workbench(tmp_path, workers=1).run(request)
            pd.testing.assert_frame_equal(
                outcome.draft_results.summary, alone.draft_results.summary
            )
        assert not together[0].draft_results.summary.equals(together[1].draft_results.summary)
    finally:
        bench.close()


# --- optimisation from the page (issue "Best staffing under a budget", item 6) ---------------

TINY_SPEC = """
name = "tiny"
description = "two staffing choices, a few replications"
base = "{base}"
years = 0.5
replications = 2
trials = 4

[[variables]]
key = "staff.ongoing_social_workers.posts"
low = 10
high = 11

[constraints]
staff_budget_sek = 15_000_000

[[objectives]]
kpi = "assistance_paid_sek_per_year"
direction = "minimise"

[selection]
finalists = 2
indifference_zone = 200_000
first_stage = 5
max_replications = 10
"""


def test_the_page_starts_an_optimisation_and_shows_its_front(tmp_path, monkeypatch) -> None:
    """The Optimise tab runs a spec under the scenarios folder with the budget typed on the
    page (a bad budget is refused next to it, the button off), writes the folder
    ``caseflow optimise`` writes and shows the chosen staffing and the front."""
    from streamlit.testing.v1 import AppTest

    scenarios = tmp_path / "scenarios"
    (scenarios / "optimise").mkdir(parents=True)
    base = (SCENARIOS / "baseline.toml").as_posix()
    (scenarios / "optimise" / "tiny.toml").write_text(TINY_SPEC.format(base=base))
    (scenarios / "baseline.toml").write_text(f'extends = "{base}"\n')
    monkeypatch.setenv("CASEFLOW_APP_RESULTS", str(tmp_path / "results"))
    monkeypatch.setenv("CASEFLOW_APP_SCENARIOS", str(scenarios))
    monkeypatch.setenv("CASEFLOW_APP_WORKERS", "1")
    at = AppTest.from_file(str(PAGE), default_timeout=300)
    at.run()
    assert not at.exception
    at.text_input(key="opt_budget").input("lots").run()
    assert any("staff budget must be a number of SEK above 0" in e.value for e in at.error)
    assert at.button(key="opt_run").disabled
    at.text_input(key="opt_budget").input("15 500 000").run()
    assert not at.button(key="opt_run").disabled
    at.button(key="opt_run").click().run()
    assert not at.exception, at.exception
    asked, outcome = at.session_state["opt_outcome"]
    assert asked[1] == 15_500_000
    folder = outcome.folder
    for name in ("candidates.csv", "pareto.csv", "report.html", "manifest.json"):
        assert (folder / name).is_file(), name
    assert (folder / "figures" / "front.png").is_file() and list((folder / "chosen").iterdir())
    assert outcome.result.loaded.spec.constraints.staff_budget_sek == 15_500_000
    assert any(s.value.startswith("Chosen: ") for s in at.success)


def test_every_field_says_what_it_means() -> None:
    """The field's "?" showed only the scenario key (``ar_team.places``): each field now says
    what the setting means in a planner's words, then its key."""
    from sim.app.draft import FIELDS

    for spec in FIELDS:
        assert len(spec.help) > 40, spec.key
        assert spec.help_text.endswith(f"`{spec.key}`")


def test_the_differences_table_gives_no_percentage_of_a_near_empty_base() -> None:
    """0.4 households becoming 8.9 is "+1 884.5 %" of nothing much: no percentage is shown of
    a base under one of its unit (as the report's lead), and shares keep theirs."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("page_module", PAGE)
    assert spec is not None and spec.loader is not None
    page_module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(page_module)  # its functions only: main() runs under Streamlit
    rows = pd.DataFrame(
        [
            ("alt", "mean_monthly_waiting_for_class", "households", 0.4, 8.9, 8.5, 5.0, 11.8),
            ("alt", "mean_monthly_households", "households", 458.6, 488.0, 29.4, 22.0, 36.8),
        ],
        columns=["alternative", "kpi", "unit", "base_mean", "alternative_mean", "difference",
                 "ci_low", "ci_high"],
    )  # fmt: skip
    table = page_module._differences_table(rows).set_index("KPI")["% of base"]
    assert table[kpi_label("mean_monthly_waiting_for_class")] == "–"
    assert table[kpi_label("mean_monthly_households")].replace("\xa0", " ") == "+6.4 %"


def test_the_page_shows_the_warnings_the_report_gives(compared, base, tmp_path) -> None:
    """The page showed no warnings, only report.html did: a planner saw 'no headline KPI
    changes' for AR places the consultants cannot run, and a shock's costs the report calls
    understated. The page shows the outcome's warnings, the same as the saved report's."""
    import html as html_text

    _, _, outcome = compared
    warnings = outcome_warnings(outcome)
    assert any("Fewer than 10 replications" in w for w in warnings)  # 2 replications
    report = (outcome.folder / "report.html").read_text(encoding="utf-8")
    assert all(html_text.escape(w, quote=False) in report for w in warnings)
    bench = Workbench(tmp_path, workers=1)
    values = small(base.draft.values)
    values["ar_team.places"] = "60"
    checked = check(base, draft(base, values))
    assert checked.resolved is not None
    alone = RunRequest(checked.resolved, None, base.file, "caseflow run")
    (ar,) = [w for w in outcome_warnings(bench.run(alone)) if "AR team" in w]
    assert "60 places from 2015-01-01, but its 4 employment consultant posts run at most 36" in ar


def test_an_optimisation_folder_is_listed_as_one_not_as_a_run(tmp_path) -> None:
    """An optimisation's folder has a manifest but no run's figures: it was listed as "run of
    ?" with "None" replications and offered as the base of a pairing, whose message then read
    "seed 2015 and None replications from ?"."""
    import json

    folder = tmp_path / "optimise-staffing-2015-20261206"
    folder.mkdir()
    manifest = {"optimisation_of": "/x/scenarios/optimise/staffing_2015.toml", "seed": 2015}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    (found,) = earlier_results(tmp_path)
    assert found.what == "optimisation of staffing_2015.toml"
    assert "run of" not in found.what and not found.is_comparison


def test_the_unemployment_chart_ends_where_the_draft_does(base, monkeypatch) -> None:
    """The path's chart runs to the end of the years typed in the form (a 1-year draft ended
    on the base's fifth year); while the field reads as no number, to the base's end."""
    from types import SimpleNamespace

    from sim.app import page as app_page

    scenario = base.resolved.scenario
    state = {"generation": 3, "3:horizon_years": "1"}
    monkeypatch.setattr(app_page, "st", SimpleNamespace(session_state=state))
    end = app_page._draft_end(scenario)
    assert (end - scenario.start_date).days == 365  # 1 year of 365.25 days, in whole days
    state["3:horizon_years"] = "2,5"  # typed the Swedish way
    assert (app_page._draft_end(scenario) - scenario.start_date).days == 913
    state["3:horizon_years"] = "abc"
    assert app_page._draft_end(scenario) == scenario.end_date
