"""The drawing host: a process forked at a command's start that imports the plotting stack on
the core the start-up leaves idle and later draws the command's figures, so that the command
itself never imports matplotlib. Whatever happens to the host (busy, failed, killed), the
figures are the same bytes as drawn anywhere else."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim.experiments import parallel
from sim.experiments.runner import ScenarioResults, run_scenario
from sim.inputs.loading import load_scenarios
from sim.output import drawing
from sim.output.drawing import DrawingHost, FigureList, HostedDrawing, start_drawing
from sim.output.report import RUN_FIGURE_LIST
from tests.baseline.store import SCENARIOS
from tests.processes import left_running, running, wait_for_children
from tests.test_report import ran_alone

ROOT = Path(__file__).resolve().parent.parent

# a few of a run's figures, to keep the tests short
FEW = "tests.test_drawing_host:few_run_figures"


def few_run_figures(monthly: object, scenario: dict[str, object]) -> list[drawing.FigureJob]:
    from sim.output.figures import run_figures

    return run_figures(monthly, scenario)[:3]  # type: ignore[arg-type]


def broken_figures(monthly: object, scenario: object) -> list[drawing.FigureJob]:
    raise ValueError("a figure maker's bug")


def slow_figures(seconds: float) -> list[drawing.FigureJob]:
    return [drawing.FigureJob(f"slow_{k}", _slow_figure, (seconds,)) for k in range(2)]


def _slow_figure(seconds: float) -> object:
    time.sleep(seconds)
    raise AssertionError("not stopped")


def slow_elsewhere(here: int, seconds: float) -> list[drawing.FigureJob]:
    """Figures slow to draw but by ``here`` or the processes it forks (the fallback)."""
    return [drawing.FigureJob(f"slow_{k}", _slow_elsewhere, (here, seconds)) for k in range(2)]


def _slow_elsewhere(here: int, seconds: float) -> object:
    if here not in (os.getpid(), os.getppid()):
        time.sleep(seconds)
    return _small_figure()


def _small_figure() -> object:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 1))
    ax.plot([0, 1], [0, 1])
    return fig


def _waited_too_long(signum: int, frame: object) -> None:
    raise AssertionError("the command still waits for a host that has gone")


@pytest.fixture(scope="module")
def results() -> ScenarioResults:
    (resolved,) = load_scenarios(SCENARIOS / "merged.toml")
    return run_scenario(resolved, workers=1)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forks: Linux only")
def test_the_host_draws_what_this_process_draws(
    results: ScenarioResults, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A figure list sent to the host comes back as the same named PNG bytes as drawn here;
    while it is busy a second list is drawn here instead (one request at a time)."""
    if ran_alone(test_the_host_draws_what_this_process_draws):
        return
    monkeypatch.setattr(parallel, "available_cores", lambda: 2)
    figures = FigureList(FEW, (results.monthly, results.resolved.as_dict()))
    here = start_drawing(figures, workers=1).named()
    host = DrawingHost.start(2)
    assert host is not None
    try:
        hosted = start_drawing(figures, 2, host)
        assert isinstance(hosted, HostedDrawing)
        meanwhile = start_drawing(figures, 1, host)  # the host is busy
        assert not isinstance(meanwhile, HostedDrawing)
        assert meanwhile.named() == here
        assert host.receive() == here  # drawn by the host, not here
        again = start_drawing(figures, 2, host)  # free again, for a sweep's next point
        assert isinstance(again, HostedDrawing) and again.named() == here
    finally:
        host.close()
    assert [name for name, _ in here] == ["open_by_class", "exits_by_cause", "funnel"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forks: Linux only")
def test_a_failure_in_the_host_is_raised_here_and_a_dead_host_replaced(
    results: ScenarioResults, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A figure maker that fails in the host is run again here, so its error is raised where
    the command can report it, with its traceback; a host that has died (killed, say) is
    replaced by drawing here, with the same bytes."""
    if ran_alone(test_a_failure_in_the_host_is_raised_here_and_a_dead_host_replaced):
        return
    monkeypatch.setattr(parallel, "available_cores", lambda: 2)
    args = (results.monthly, results.resolved.as_dict())
    host = DrawingHost.start(2)
    assert host is not None
    try:
        broken = start_drawing(FigureList("tests.test_drawing_host:broken_figures", args), 2, host)
        assert isinstance(broken, HostedDrawing)
        with pytest.raises(ValueError, match="a figure maker's bug"):
            broken.named()
        host._process.kill()
        host._process.join()
        here = start_drawing(FigureList(FEW, args), workers=1).named()
        assert start_drawing(FigureList(FEW, args), 2, host).named() == here
    finally:
        host.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forks: Linux only")
def test_closing_the_host_stops_its_drawing(monkeypatch: pytest.MonkeyPatch) -> None:
    """An interrupted command closes its host: the host and the drawing processes it forked
    end at once, none left behind waiting."""
    if ran_alone(test_closing_the_host_stops_its_drawing):
        return
    monkeypatch.setattr(parallel, "available_cores", lambda: 2)
    host = DrawingHost.start(2)
    assert host is not None
    pid = host._process.pid
    assert pid is not None
    hosted = start_drawing(FigureList("tests.test_drawing_host:slow_figures", (60.0,)), 2, host)
    drawers = wait_for_children(pid, 2)
    assert len(drawers) == 2
    started = time.monotonic()
    hosted.stop()
    assert time.monotonic() - started < 10
    assert not host._process.is_alive()
    time.sleep(0.2)
    assert not [p for p in drawers if running(p)]


@pytest.mark.skipif(parallel.available_cores() < 2, reason="the host needs two cores")
def test_the_program_never_imports_matplotlib_and_draws_the_same_figures(
    small: Path, tmp_path: Path
) -> None:
    """``caseflow`` as a program starts a drawing host: the command's own process never
    imports matplotlib, and the report's figures are the bytes a run without a host draws
    (this test's process, calling the command as a function); a sweep's too."""
    from sim.cli.main import main

    probe = """
import sys
from sim.cli.main import entry
sys.argv = ["caseflow", *sys.argv[1:]]
status = entry()
print("matplotlib", "matplotlib" in sys.modules, status)
"""
    common = ["--replications", "2", "--workers", "2"]
    hosted, here = tmp_path / "hosted", tmp_path / "here"
    proc = subprocess.run(
        [sys.executable, "-c", probe, "run", str(small), "--out", str(hosted), *common],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "matplotlib False 0"
    assert main(["run", str(small), "--out", str(here), *common]) == 0
    names = sorted(p.name for p in (here / "figures").iterdir())
    assert names == sorted(p.name for p in (hosted / "figures").iterdir())
    assert len(names) == 11
    for name in names:
        assert (hosted / "figures" / name).read_bytes() == (here / "figures" / name).read_bytes()
    # a sweep: each point's figures and the sweep's own, drawn by the host too
    sweep = ["--set", "sweep.ar_team.places=[20, 40]"]
    swept, swept_here = tmp_path / "swept", tmp_path / "swept_here"
    proc = subprocess.run(
        [sys.executable, "-c", probe, "run", str(small), "--out", str(swept), *common, *sweep],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "matplotlib False 0"
    assert main(["run", str(small), "--out", str(swept_here), *common, *sweep]) == 0
    pngs = sorted(p.relative_to(swept) for p in swept.rglob("*.png"))
    assert len(pngs) == 2 * 11 + 1 and Path("figures/sweep.png") in pngs
    for png in pngs:
        assert (swept / png).read_bytes() == (swept_here / png).read_bytes()


def test_the_run_figure_list_names_the_report_s_figures(results: ScenarioResults) -> None:
    """The report's figure list, resolved where it is drawn, is the run figures in order."""
    from sim.output.figures import RUN_FIGURES

    jobs = FigureList(RUN_FIGURE_LIST, (results.monthly, {})).jobs()
    assert [job.name for job in jobs] == [name for name, _ in RUN_FIGURES]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forks: Linux only")
def test_a_host_killed_while_drawing_is_replaced_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A host that dies while its drawing processes still run (they hold its end of the pipe,
    so the pipe neither brings the figures nor closes) is seen to have gone: the command
    draws the figures itself rather than waiting for ever. Linux's ending of the drawing
    processes with the host is switched off here, to see the command's side alone."""
    if ran_alone(test_a_host_killed_while_drawing_is_replaced_at_once):
        return
    monkeypatch.setattr(parallel, "available_cores", lambda: 2)
    monkeypatch.setattr(parallel, "end_with_parent", lambda parent: None)
    host = DrawingHost.start(2)
    assert host is not None
    pid = host._process.pid
    assert pid is not None
    drawers: list[int] = []
    try:
        figures = FigureList("tests.test_drawing_host:slow_elsewhere", (os.getpid(), 60.0))
        hosted = start_drawing(figures, 2, host)
        drawers = wait_for_children(pid, 2)
        assert len(drawers) == 2
        os.kill(pid, signal.SIGKILL)
        started = time.monotonic()
        # a command that waits for ever would hang the suite: an alarm fails the test instead
        previous = signal.signal(signal.SIGALRM, _waited_too_long)
        signal.alarm(30)
        try:
            drawn = hosted.named()  # drawn here: quick in this process
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, previous)
        assert time.monotonic() - started < 20
        assert [name for name, _ in drawn] == ["slow_0", "slow_1"]
    finally:
        for drawer in drawers:  # left running by the switch above
            with contextlib.suppress(ProcessLookupError):
                os.kill(drawer, signal.SIGKILL)
        host.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux's prctl")
def test_a_host_ends_with_its_command_even_while_drawing(tmp_path: Path) -> None:
    """A command killed outright (``kill -9``) while its host draws: the host and its drawing
    processes end with it (Linux tells the host when the command ends, and the host stops its
    drawing processes), rather than drawing for a command that is gone."""
    script = """
import os, sys, time
from sim.experiments import parallel
parallel.available_cores = lambda: 2
from sim.output.drawing import DrawingHost, FigureList, start_drawing
host = DrawingHost.start(2)
start_drawing(FigureList("tests.test_drawing_host:slow_figures", (60.0,)), 2, host)
print(host._process.pid, flush=True)
time.sleep(60)
"""
    command = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    processes: list[int] = []
    try:
        assert command.stdout is not None
        host = int(command.stdout.readline())
        processes = [host, *wait_for_children(host, 2)]
        assert len(processes) == 3
    finally:
        command.kill()
        command.wait()
    assert not left_running(processes)


def test_figures_that_cannot_be_sent_are_drawn_here(
    results: ScenarioResults, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A figure list that cannot be pickled to the host (a lambda among its arguments) is
    drawn by the command itself; the host stays free for the next."""
    if ran_alone(test_figures_that_cannot_be_sent_are_drawn_here):
        return
    monkeypatch.setattr(parallel, "available_cores", lambda: 2)
    host = DrawingHost.start(2)
    assert host is not None
    try:
        unsendable = FigureList("tests.test_drawing_host:lambda_figures", (lambda: None,))
        here = start_drawing(unsendable, 2, host)
        assert not isinstance(here, HostedDrawing)
        assert [name for name, _ in here.named()] == ["small"]
        figures = FigureList(FEW, (results.monthly, results.resolved.as_dict()))
        assert isinstance(start_drawing(figures, 2, host), HostedDrawing)
    finally:
        host.close()


def lambda_figures(anything: object) -> list[drawing.FigureJob]:
    return [drawing.FigureJob("small", _small_figure, ())]
