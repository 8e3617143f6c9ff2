"""The command line: exit codes, messages without tracebacks, complete results folders."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from sim.cli import main as cli
from sim.cli.calibrate import legacy_argv
from sim.experiments.parallel import available_cores

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "calibration" / "spec_2015.toml"

MONTHLY_COLUMNS = [
    "households", "cases_opened", "cases_closed", "exits_work", "exits_studies",
    "exits_other_benefit", "exits_moved", "exits_one_time", "exits_unknown", "open_class_a",
    "open_class_b", "open_class_c", "waiting_for_class", "first_visit_wait_days",
    "caseload_per_social_worker", "social_worker_utilisation", "administrator_utilisation",
    "ar_team_in_programme", "ar_team_waiting", "staff_in_post_social_workers",
    "assistance_paid_sek", "staff_cost_sek", "households_unemployment",
    "households_social_medical", "households_sick_listed", "households_immigration",
    "households_other",
]  # fmt: skip
SUMMARY_KPIS = [
    "share_long_term_10_of_12", "share_over_12_months", "mean_episode_months",
    "ar_team_success_share", "recurrence_24_months", "cost_per_exit_to_work_sek",
    "exits_work_per_year", "mean_monthly_households",
]  # fmt: skip


def test_run_writes_a_complete_folder(small, tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(["run", str(small), "--out", str(out), "--workers", "1"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == f"results: {out}"
    for name in ("manifest.json", "summary.csv", "monthly.csv", "scenario.toml", "report.html"):
        assert (out / name).exists(), name
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 7
    assert manifest["scenario"]["staff"]["ongoing_social_workers"]["posts"] == 11
    assert manifest["package"]["version"]
    assert "commit" in manifest["git"]
    assert manifest["model_build"] == "compiled" or manifest["model_build"].startswith("python (")
    assert manifest["wall_seconds"] >= 0
    # the command's relative paths are from where it ran: recorded, and said beside it
    assert manifest["working_directory"] == str(Path.cwd())
    assert f"# in {Path.cwd()}\n" in (out / "report.html").read_text()
    monthly = pd.read_csv(out / "monthly.csv")
    assert set(MONTHLY_COLUMNS) <= set(monthly.columns)
    assert monthly["replication"].nunique() == 2
    assert len(monthly) == 2 * 12
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary.columns[:5]) == ["kpi", "mean", "ci_low", "ci_high", "unit"]
    assert set(SUMMARY_KPIS) <= set(summary["kpi"])
    assert not list(tmp_path.glob(".incomplete-*"))


def test_rerun_from_the_folder_gives_the_same_numbers(small, tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    assert cli.main(["run", str(small), "--out", str(first), "--workers", "1"]) == 0
    assert (
        cli.main(["run", str(first / "scenario.toml"), "--out", str(second), "--workers", "1"]) == 0
    )
    pd.testing.assert_frame_equal(
        pd.read_csv(first / "summary.csv"), pd.read_csv(second / "summary.csv")
    )


def test_overrides_on_the_command_line(small, tmp_path):
    out = tmp_path / "o"
    args = ["run", str(small), "--out", str(out), "--workers", "1", "--replications", "1",
            "--years", "0.5", "--seed", "11", "--set", "ar_team.places=12"]  # fmt: skip
    assert cli.main(args) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 11
    assert manifest["scenario"]["horizon_years"] == 0.5
    assert manifest["scenario"]["ar_team"]["places"] == 12
    assert pd.read_csv(out / "monthly.csv")["replication"].nunique() == 1


def test_bad_input_exit_2_and_clear_message(write, tmp_path, capsys):
    bad = write("bad.toml", "name = 'x'\nstafff = 1\n")
    assert cli.main(["run", str(bad), "--out", str(tmp_path / "never")]) == 2
    err = capsys.readouterr().err
    assert "bad.toml" in err and "did you mean 'staff'" in err
    assert "Traceback" not in err
    assert not (tmp_path / "never").exists()


def test_missing_file(tmp_path, capsys):
    assert cli.main(["validate", str(tmp_path / "nope.toml")]) == 2
    assert "file not found" in capsys.readouterr().err


def test_validate_reports_each_file(small, write, capsys):
    bad = write("bad.toml", "horizon_years = -1\n")
    assert cli.main(["validate", str(small), str(bad)]) == 2
    captured = capsys.readouterr()
    assert f"ok: {small}" in captured.out
    assert "bad.toml" in captured.err
    assert cli.main(["validate", str(small)]) == 0


def test_validate_marks_every_problem_as_an_error(write, capsys):
    """A file with several problems gets one line each, every line marked "error:"."""
    empty = write("empty.toml", 'name = "x"\n')
    assert cli.main(["validate", str(empty)]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) > 1 and all(line.startswith(f"error: {empty}: ") for line in lines)


def test_schema_is_json_schema(capsys):
    assert cli.main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert {"staff", "organisation", "extends", "sweep", "changes"} <= set(schema["properties"])


def test_sweep_writes_one_folder_per_point(small, tmp_path, capsys):
    """One folder per point; a warning every point's report gives is said once, naming them."""
    text = small.read_text() + '\n[sweep]\n"ar_team.places" = [10, 20]\n'
    sweep = small.parent / "sweep.toml"
    sweep.write_text(text)
    out = tmp_path / "sw"
    assert (
        cli.main(["run", str(sweep), "--out", str(out), "--workers", "1", "--replications", "1"])
        == 0
    )
    manifest = json.loads((out / "manifest.json").read_text())
    assert len(manifest["points"]) == 2
    for point in manifest["points"]:
        assert (out / point["name"] / "summary.csv").exists()
    names = ", ".join(point["scenario_name"] for point in manifest["points"])
    few = [line for line in capsys.readouterr().err.splitlines() if "One replication" in line]
    assert len(few) == 1 and few[0].startswith(f"warning: {names}: One replication: "), few


def test_interrupted_run_leaves_no_folder(small, tmp_path, monkeypatch, capsys):
    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("sim.experiments.runner.run_scenario", interrupt)
    out = tmp_path / "int"
    assert cli.main(["run", str(small), "--out", str(out)]) == 130
    assert not out.exists()
    assert not list(tmp_path.glob(".incomplete-*"))
    assert "resumes" not in capsys.readouterr().err  # only a fit keeps work to resume


def test_interrupted_fit_says_its_work_is_kept(tmp_path, monkeypatch, capsys):
    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("sim.calibration.point_fit.point_fit", interrupt)
    out = tmp_path / "fit"
    args = ["calibrate", "fit", str(SPEC), "--out", str(out), "--work", str(tmp_path / "work"),
            "--fitted-dir", str(tmp_path / "fitted")]  # fmt: skip
    assert cli.main(args) == 130
    err = capsys.readouterr().err
    assert "interrupted: no results were written" in err and "the same command resumes it" in err
    assert not out.exists() and not (tmp_path / "fitted").exists()


def test_failure_half_way_keeps_the_previous_results(small, tmp_path, monkeypatch):
    out = tmp_path / "keep"
    assert (
        cli.main(["run", str(small), "--out", str(out), "--workers", "1", "--replications", "1"])
        == 0
    )
    before = (out / "summary.csv").read_text()

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("sim.output.folders.write_manifest", broken)
    with pytest.raises(RuntimeError):
        cli.main(
            [
                "run",
                str(small),
                "--out",
                str(out),
                "--workers",
                "1",
                "--replications",
                "1",
                "--seed",
                "3",
            ]
        )
    assert (out / "summary.csv").read_text() == before
    assert not list(tmp_path.glob(".incomplete-*"))


def test_refuses_to_overwrite_a_folder_that_is_not_results(small, tmp_path, capsys):
    precious = tmp_path / "mine"
    precious.mkdir()
    (precious / "thesis.tex").write_text("do not delete")
    assert cli.main(["run", str(small), "--out", str(precious)]) == 2
    assert (precious / "thesis.tex").exists()
    assert "not a results folder" in capsys.readouterr().err


def test_console_script_prints_no_traceback(write):
    bad = write("bad.toml", "start_date = 2015-02-30\n")
    proc = subprocess.run(
        [sys.executable, "-m", "sim.cli", "validate", str(bad)], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "bad.toml" in proc.stderr


def test_the_program_spares_its_exit_the_final_collection(small):
    """The ``caseflow`` program moves its objects out of the cyclic collector's reach when a
    command has finished (``gc.freeze``): the interpreter's exit would otherwise collect
    everything a run made, about 0.2 s of ``caseflow run``. What it prints still all arrives
    and the exit status is the command's; a library's ``main`` call leaves the collector
    alone."""
    probe = """
import gc, sys
from sim.cli.main import entry, main
assert main(["validate", sys.argv[1]]) == 0 and gc.get_freeze_count() == 0
sys.argv = ["caseflow", "validate", sys.argv[1]]
status = entry()
print("frozen", gc.get_freeze_count() > 0, status)
"""
    proc = subprocess.run(
        [sys.executable, "-c", probe, str(small)], capture_output=True, text=True, cwd=ROOT
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "frozen True 0"
    assert proc.stdout.count(f"ok: {small}") == 2  # both commands' output arrived


def test_a_reader_that_leaves_early_ends_the_program_quietly():
    """``caseflow calibrate check FILE | head -1``: the reader closes the pipe early, and the
    program stops with 141 (as a shell reports SIGPIPE), without an error line or a
    traceback. The reader here leaves before the program writes at all: a reader leaving
    after a line races the program, whose whole output fits in the pipe's buffer."""
    shipped = ROOT / "calibration" / "targets" / "ostermalm_2015.toml"
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader has left
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "sim.cli", "calibrate", "check", str(shipped)],
            stdout=write_end,
            stderr=subprocess.PIPE,
            cwd=ROOT,
            check=False,
        )
    finally:
        os.close(write_end)
    assert proc.returncode == 141
    assert proc.stderr == b""


def test_report_rebuilds(small, tmp_path):
    out = tmp_path / "rep"
    assert (
        cli.main(["run", str(small), "--out", str(out), "--workers", "1", "--replications", "1"])
        == 0
    )
    (out / "report.html").unlink()
    assert cli.main(["report", str(out)]) == 0
    html = (out / "report.html").read_text()
    assert "small" in html
    from sim.output.figures import RUN_FIGURES

    assert html.count("data:image/png;base64,") == len(RUN_FIGURES)
    for name, _ in RUN_FIGURES:
        assert (out / "figures" / f"{name}.png").stat().st_size > 1000


def test_default_folder_is_under_results_and_out_writes_nowhere_else(small, tmp_path, monkeypatch):
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    args = ["run", str(small), "--workers", "1", "--replications", "1"]
    assert cli.main([*args, "--out", str(tmp_path / "elsewhere")]) == 0
    assert not (work / "results").exists()
    assert cli.main(args) == 0
    made = list((work / "results").iterdir())
    assert len(made) == 1 and made[0].name.startswith("small-")
    assert (made[0] / "manifest.json").exists()


def test_a_runs_warnings_are_said_on_the_terminal_as_in_its_report(small, tmp_path, capsys):
    """A planner who reads only the printed figures is told what the report warns of (here:
    no intake worker in post, too few replications), each warning as the report words it."""
    import html as html_module

    out = tmp_path / "o"
    args = ["run", str(small), "--out", str(out), "--workers", "1", "--replications", "2"]
    assert cli.main([*args, "--set", "staff.intake_social_workers.posts=0"]) == 0
    err = capsys.readouterr().err
    said = [line.removeprefix("warning: ") for line in err.splitlines()]
    assert any("No intake social worker is in post" in w for w in said)
    assert any("Fewer than 10 replications" in w for w in said)
    report = html_module.unescape((out / "report.html").read_text())
    assert all(w in report for w in said)


def test_two_runs_given_one_default_folder_name_keep_both_results(
    small, tmp_path, monkeypatch, capsys
):
    """Two runs started in the same second (a shell loop with ``&``, a batch job's array)
    get the same default ``results/NAME-TIMESTAMP``: the second must not replace the first,
    silently or otherwise. It goes to ``NAME-TIMESTAMP-2`` and says so."""
    from sim.output import folders

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(
        folders, "default_folder", lambda root, name, started: root / f"{name}-20150101-000000"
    )
    args = ["run", str(small), "--workers", "1", "--replications", "1"]
    assert cli.main([*args, "--set", "ar_team.places=5"]) == 0
    capsys.readouterr()
    assert cli.main([*args, "--set", "ar_team.places=30"]) == 0
    assert "results: results/small-20150101-000000-2" in capsys.readouterr().out
    first, second = (
        tmp_path / "results" / n for n in ("small-20150101-000000", "small-20150101-000000-2")
    )
    places = [
        json.loads((f / "manifest.json").read_text())["scenario"]["ar_team"]["places"]
        for f in (first, second)
    ]
    assert places == [5, 30]
    assert sorted(p.name for p in (tmp_path / "results").iterdir()) == [first.name, second.name]


def test_a_default_folder_takes_the_next_free_name_when_its_own_is_taken(tmp_path):
    """The rename is the test of a free name: a folder with files (another run's, finished
    meanwhile) is never replaced, an empty one may be, a file is stepped over."""
    from sim.output.folders import atomic_folder

    target = tmp_path / "run-1"
    target.mkdir()
    (target / "manifest.json").write_text("{}")
    (tmp_path / "run-1-2").write_text("a file")
    folder = atomic_folder(target, unique=True)
    with folder as work:
        (work / "summary.csv").write_text("x")
    assert folder.target == tmp_path / "run-1-3"
    assert (target / "manifest.json").read_text() == "{}"
    assert (folder.target / "summary.csv").read_text() == "x"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no work folder left


def test_events_parquet_lets_a_researcher_follow_a_household(small, tmp_path):
    out = tmp_path / "ev"
    args = [
        "run",
        str(small),
        "--out",
        str(out),
        "--workers",
        "2",
        "--replications",
        "2",
        "--events",
    ]
    assert cli.main(args) == 0
    events = pd.read_parquet(out / "events.parquet")
    assert set(events.columns) == {"replication", "day", "household", "episode", "event", "detail"}
    assert set(events["replication"]) == {0, 1}
    assert {"booked", "first_visit", "granted", "held", "exit"} <= set(events["event"])


def test_scenario_reference_in_docs_is_up_to_date():
    """docs/scenarios.md embeds `caseflow schema --markdown`; regenerate it when this fails."""
    from sim.inputs.reference import BEGIN, END, scenario_reference_markdown

    text = (Path(__file__).resolve().parent.parent / "docs" / "scenarios.md").read_text()
    assert text.count(BEGIN) == 1 and text.count(END) == 1  # pasted once, markers and all
    embedded = text[text.index(BEGIN) : text.index(END) + len(END)]
    assert embedded == scenario_reference_markdown()


def test_readme_scenario_example_validates(tmp_path):
    """The scenario file shown in README.md is valid, next to the baseline it extends."""
    import re
    import shutil

    from sim.inputs.loading import load_scenarios

    root = Path(__file__).resolve().parent.parent
    readme = (root / "README.md").read_text()
    example = re.search(r"```toml\n(.*?)```", readme, re.S)
    assert example, "README.md has no toml example"
    (tmp_path / "scenarios").mkdir()
    shutil.copy(root / "scenarios" / "baseline.toml", tmp_path / "scenarios" / "baseline.toml")
    shutil.copytree(root / "calibration", tmp_path / "calibration")
    path = tmp_path / "scenarios" / "example.toml"
    path.write_text(example.group(1))
    resolved = load_scenarios(path)
    assert len(resolved) == 2  # the example sweeps two AR place counts
    assert resolved[0].timeline[1].staff.ongoing_social_workers.posts == 14


def test_report_names_scenario_and_exact_command(small, tmp_path):
    out = tmp_path / "cmd"
    assert cli.main(["run", str(small), "--out", str(out), "--workers", "1", "--seed", "5"]) == 0
    html = (out / "report.html").read_text()
    assert "small" in html
    assert "--seed 5" in html


def test_ctrl_c_stops_cleanly(small, tmp_path):
    """SIGINT to the process group (as a terminal's Ctrl-C): exit 130, workers end, nothing left."""
    import os
    import signal
    import time

    out = tmp_path / "interrupted"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sim.cli",
            "run",
            str(small),
            "--out",
            str(out),
            "--replications",
            "400",
            "--years",
            "3",
            "--workers",
            "2",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        # A shell starting CI in the background may leave SIGINT ignored, and the child would
        # inherit that; a terminal's Ctrl-C reaches a process with the default disposition.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        # if it ever hangs, SIGABRT below makes it print every thread's stack
        env={**os.environ, "PYTHONFAULTHANDLER": "1"},
    )
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".incomplete-*")) and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.0)  # let the workers start replications
    assert proc.poll() is None, "the run ended before it could be interrupted"
    os.killpg(proc.pid, signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:  # seen once in a full suite: keep where it hung
        os.killpg(proc.pid, signal.SIGABRT)
        _, err = proc.communicate(timeout=30)
        with contextlib.suppress(ProcessLookupError):  # workers left behind, if any
            os.killpg(proc.pid, signal.SIGKILL)
        pytest.fail(f"no exit 60 s after SIGINT; the stacks at SIGABRT:\n{err}")
    assert proc.returncode == 130
    assert "interrupted: no results were written" in err
    assert "Traceback" not in err
    assert not out.exists()
    assert not list(tmp_path.glob(".incomplete-*"))


def test_report_highlights_what_differs_from_the_base(small, write, tmp_path):
    child = write(
        "child.toml", f'extends = "{small.name}"\nname = "child"\n[ar_team]\nplaces = 12\n'
    )
    out = tmp_path / "child"
    args = ["run", str(child), "--out", str(out), "--workers", "1", "--set", "seed=3"]
    assert cli.main(args) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["extends"] == str(small.resolve())
    assert set(manifest["own_keys"]) == {"name", "ar_team.places"}  # the file's own
    assert manifest["command_keys"] == {"seed": "--set seed=3"}  # the command line's
    html = (out / "report.html").read_text()
    assert "<code>ar_team.places</code> = 12" in html and "<b>seed</b>" in html
    assert "<b>staff.ongoing_social_workers.posts</b>" not in html


def test_report_says_at_the_top_what_the_command_line_changed(small, tmp_path):
    """A --set over a file's staff would otherwise show only in the command at the bottom,
    under the file's own title and description: a reader would take it for the file's run."""
    out = tmp_path / "eight"
    args = ["run", str(small), "--out", str(out), "--workers", "1", "--years", "0.5",
            "--set", "staff.ongoing_social_workers.posts=8"]  # fmt: skip
    assert cli.main(args) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["own_keys"] == []  # extends nothing
    html = (out / "report.html").read_text()
    top = html[html.index("<h1>") : html.index("Seed ")]
    assert "Set over the file, by the command's options or the workbench's edits:" in top
    assert "<code>staff.ongoing_social_workers.posts</code> = 8 (--set)" in top
    assert "<code>horizon_years</code> = 0.5 (--years)" in top
    assert "<b>staff.ongoing_social_workers.posts</b>" in html  # bold in the scenario as run


def test_report_warns_outside_the_calibrated_range(small, tmp_path):
    out = tmp_path / "shock"
    shock = (
        "unemployment.path=[{date = 2015-01-01, percent = 3.2}, {date = 2015-06-01, percent = 8.0}]"
    )
    args = [
        "run",
        str(small),
        "--out",
        str(out),
        "--workers",
        "1",
        "--replications",
        "2",
        "--set",
        shock,
    ]
    assert cli.main(args) == 0
    html = (out / "report.html").read_text()
    assert "Unemployment rate ranges over" in html and "extrapolates" in html
    assert "(monthly means; unemployment_percent in monthly.csv)" in html
    calm = tmp_path / "calm"
    assert (
        cli.main(["run", str(small), "--out", str(calm), "--workers", "1", "--replications", "2"])
        == 0
    )
    assert "Unemployment rate ranges over" not in (calm / "report.html").read_text()


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (["calibrate", "--check", "a.toml", "b.toml"], ["calibrate", "check", "a.toml", "b.toml"]),
        (["calibrate", "a.toml", "--check"], ["calibrate", "check", "a.toml"]),
        (["calibrate", "--screen", "s.toml"], ["calibrate", "screen", "s.toml"]),
        (["calibrate", "--screen", "--sobol", "s.toml", "--trajectories", "4"],
         ["calibrate", "screen", "--sobol", "s.toml", "--trajectories", "4"]),
        (["calibrate", "s.toml"], ["calibrate", "fit", "s.toml"]),
        (["calibrate", "s.toml", "--budget-minutes", "5", "--no-posterior", "--cluster", "tcp://h:1"],
         ["calibrate", "fit", "s.toml", "--budget-minutes", "5", "--no-posterior", "--cluster",
          "tcp://h:1"]),
        (["calibrate", "--workers", "2", "s.toml"],
         ["calibrate", "fit", "--workers", "2", "s.toml"]),
    ],
)  # fmt: skip
def test_old_calibrate_forms_are_aliases_of_the_subcommands(old, new):
    """``calibrate --check``, ``calibrate --screen`` and ``calibrate SPEC`` (as in scripts and
    older docs) parse exactly as ``calibrate check|screen|fit``."""
    parse = cli.build_parser().parse_args
    assert legacy_argv(old) == new
    assert vars(parse(legacy_argv(old))) == vars(parse(new))
    assert legacy_argv(new) == new  # the new forms pass through unchanged


@pytest.mark.parametrize(
    "argv",
    [["run", "--check", "x.toml"], ["validate", "calibrate"], ["calibrate", "--help"], []],
)
def test_other_command_lines_are_not_rewritten(argv):
    assert legacy_argv(argv) == argv


def test_the_command_line_starts_without_the_heavy_libraries():
    """Building every command's parser (what ``caseflow --help`` does) imports neither the
    model's libraries nor matplotlib: each command imports them when it runs. ``sim`` is
    stubbed so that only the command line's own imports are measured (today's
    ``sim/__init__.py`` imports the model whatever the command)."""
    probe = f"""
import sys, types
sim = types.ModuleType("sim")
sim.__path__ = [{str(ROOT / "sim")!r}]
sim.__version__ = "0"
sys.modules["sim"] = sim
import sim.cli.main
sim.cli.main.build_parser().format_help()
heavy = ("numpy", "pandas", "scipy", "matplotlib", "pydantic", "simpy", "sim.model")
print(sorted(name for name in heavy if name in sys.modules))
"""
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_the_command_runs_openblas_on_one_thread_unless_told_otherwise(small):
    """OpenBLAS reads its thread count once, when numpy loads it: the command sets it to one
    before any command imports numpy (an idle BLAS thread spins on a core the workers need),
    and a count the user set is kept."""
    probe = f"""
import os, sys
sys.argv = ["caseflow", "validate", {str(small)!r}]
from sim.cli.main import entry
status = entry()
import numpy
print(status, os.environ.get("OPENBLAS_NUM_THREADS"))
"""
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    proc = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, env=env
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split()[-2:] == ["0", "1"]
    proc = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**env, "OPENBLAS_NUM_THREADS": "2"},
    )
    assert proc.stdout.split()[-2:] == ["0", "2"]


def test_each_process_imports_only_what_its_part_needs(small, tmp_path):
    """Checking a scenario draws nothing, so ``caseflow validate`` does not import scipy
    (0.2 s); a run's worker processes are started before the report's plotting stack is
    imported (they simulate; they never draw), and no command imports ``scipy.stats``."""
    out = tmp_path / "out"
    probe = f"""
import sys
from sim.cli.main import main
main(["validate", {str(small)!r}])
print("validate", sorted(n for n in ("scipy", "matplotlib") if n in sys.modules))
from sim.experiments import runner
original = runner.map_replications
def spy(*args, **kwargs):  # where the worker processes are forked
    print("workers start", sorted(n for n in ("matplotlib", "scipy.stats") if n in sys.modules))
    return original(*args, **kwargs)
runner.map_replications = spy
main(["run", {str(small)!r}, "--out", {str(out)!r}, "--replications", "2", "--workers", "2"])
print("after the run", "scipy.stats" in sys.modules)
"""
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    lines = [
        line
        for line in proc.stdout.splitlines()
        if line.startswith(("validate", "workers", "after"))
    ]
    assert lines == ["validate []", "workers start []", "after the run False"]
    assert (out / "figures" / "workload.png").exists()


@pytest.mark.skipif(available_cores() < 2, reason="needs two cores for two workers")
def test_the_plotting_stack_is_imported_while_the_workers_simulate(small, tmp_path):
    """The command only waits while its worker processes simulate, so it imports the report's
    plotting stack meanwhile, in a thread started by the first finished replication (the
    workers exist by then and never import it). The thread has ended before the figures are
    drawn (they are drawn in processes forked from the command, safe only with one thread).
    With one worker the replications run in the command itself, and nothing is imported
    beside them. A single replication with two workers allowed runs in a worker process of
    its own, forked before the import starts, so that the import takes the spare core."""
    probe = """
import multiprocessing, pathlib, sys, threading
from sim.cli import common
from sim.cli.main import main
seen = []
start, wait = common.ImportAhead.start, common.ImportAhead.wait
def spy_start(self):  # the workers are running, matplotlib not yet imported
    if self._thread is None:
        workers = len(multiprocessing.active_children())
        seen.append(("start", "matplotlib" in sys.modules, workers))
    start(self)
def spy_wait(self):  # imported, the thread ended, no report written yet
    wait(self)
    written = (pathlib.Path(sys.argv[2]) / "report.html").exists()
    seen.append(("wait", "matplotlib" in sys.modules, threading.active_count(), written))
common.ImportAhead.start, common.ImportAhead.wait = spy_start, spy_wait
argv = ["run", sys.argv[1], "--out", sys.argv[2], "--workers", sys.argv[3]]
main([*argv, "--replications", sys.argv[4]])
print("seen", seen)
"""
    for workers, replications, expected in (
        ("2", "3", [("start", False, 2), ("wait", True, 1, False)]),
        ("1", "3", [("wait", False, 1, False)]),
        ("2", "1", [("start", False, 1), ("wait", True, 1, False)]),
    ):
        out = tmp_path / f"out{workers}-{replications}"
        proc = subprocess.run(
            [sys.executable, "-c", probe, str(small), str(out), workers, replications],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        assert proc.returncode == 0, proc.stderr
        line = next(x for x in proc.stdout.splitlines() if x.startswith("seen"))
        assert line == f"seen {expected}"
        assert (out / "figures" / "workload.png").exists()


def test_a_run_leaves_out_pyarrow_and_writes_the_same_files(small, tmp_path):
    """pandas imports pyarrow whenever it is installed (0.2 s of a cold start); the ``caseflow``
    program keeps it out of a run that writes no Parquet, and a run without it writes the same
    files as one with it (this test's process has it). ``--events`` keeps it in, and so do
    worker processes that are not forked (they would import it and send back text columns the
    command could not read)."""
    runs = {
        "without": ([], "fork", False),
        "events": (["--events"], "fork", True),
        "forkserver": ([], "forkserver", True),
    }
    common = ["--replications", "2", "--workers", "2"]
    probe = """
import multiprocessing, sys
from sim.cli.main import entry
multiprocessing.set_start_method(sys.argv[1])
sys.argv = ["caseflow", *sys.argv[2:]]
status = entry()
print("pyarrow", sys.modules.get("pyarrow") is not None, status)
"""
    for name, (extra, method, loaded) in runs.items():
        args = [method, "run", str(small), "--out", str(tmp_path / name), *common, *extra]
        proc = subprocess.run(
            [sys.executable, "-c", probe, *args], capture_output=True, text=True, cwd=ROOT
        )
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.splitlines()[-1] == f"pyarrow {loaded} 0", name
    with_arrow = tmp_path / "with"
    assert cli.main(["run", str(small), "--out", str(with_arrow), *common]) == 0
    assert sys.modules.get("pyarrow") is not None  # so the comparison is with pyarrow
    files = ["summary.csv", "monthly.csv", "per_replication.csv", "districts.csv"]
    files += [f"figures/{png.name}" for png in (with_arrow / "figures").glob("*.png")]
    assert len(files) > 10
    for name in runs:
        for file in files:
            assert (tmp_path / name / file).read_bytes() == (with_arrow / file).read_bytes(), file
    assert (tmp_path / "events" / "events.parquet").exists()


def test_replications_auto_in_any_case_and_a_word_says_auto_is_allowed(capsys):
    """``--replications AUTO`` is ``auto``; a word that is neither a number nor auto is refused
    saying both are allowed (it said "a whole number" only)."""
    from sim.cli.main import build_parser

    assert build_parser().parse_args(["run", "x.toml", "--replications", "AUTO"]).replications == (
        "auto"
    )
    with pytest.raises(SystemExit) as info:
        build_parser().parse_args(["run", "x.toml", "--replications", "lots"])
    assert info.value.code == 2
    assert "expected a whole number or auto, got 'lots'" in capsys.readouterr().err


def test_an_unknown_option_is_said_with_its_commands_usage(capsys):
    """An option the command does not take is refused with that command's usage (what it does
    take), not the top level's list of commands."""
    with pytest.raises(SystemExit) as refused:
        cli.main(["calibrate", "check", "targets.toml", "--out", "x"])
    assert refused.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: caseflow calibrate check")
    assert "caseflow calibrate check: error: unrecognized arguments: --out x" in err
