"""Faults of the environment end like bad input: one line naming the file and what to do, exit
2, no traceback, no half-written results. Issue 16, items 5-9: unreadable inputs, an output
folder that cannot be made, a malformed cluster address, a full disk; SIGTERM; the results
folder's permissions; what a run will cost, and the workers' cap; a replication's memory.

The tests run as root, for whom ``chmod 000`` does not stop reads or writes: unreadable files
and unwritable folders are simulated by making ``Path.open``, ``os.mkdir`` or ``os.access``
fail as the system would (with the same ``PermissionError``); the real ``chmod`` variants run
only when the suite is not run as root.
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import shutil
import signal
import stat
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

from sim.cli import main as cli
from sim.experiments import parallel, runner

from .conftest import PARAMETERS
from .processes import children, left_running, wait_for_children

AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def _error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("error: ")]


def _deny_open(monkeypatch: pytest.MonkeyPatch, denied: Path) -> None:
    """``denied`` cannot be opened (as a file without read permission for a normal user)."""
    real_open = pathlib.Path.open
    denied = denied.resolve()

    def refusing_open(self: Path, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        if self.resolve() == denied:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pathlib.Path, "open", refusing_open)


@pytest.fixture
def family(write, tmp_path):
    """A child scenario extending a parent that names a parameter set of its own folder."""
    shutil.copy(PARAMETERS, tmp_path / "parameters.toml")
    from .conftest import SMALL

    parent_text = SMALL.replace(PARAMETERS.as_posix(), "parameters.toml")
    write("parent.toml", parent_text)
    child = write("child.toml", 'extends = "parent.toml"\nname = "child"\n')
    return {
        "child": child,
        "parent": tmp_path / "parent.toml",
        "parameters": tmp_path / "parameters.toml",
    }


# --- item 5: unreadable inputs, an output folder that cannot be made, --cluster ----------------


@pytest.mark.parametrize("unreadable", ["child", "parent", "parameters"])
def test_an_unreadable_input_file_is_one_line_naming_it(
    family, unreadable, tmp_path, monkeypatch, capsys
):
    _deny_open(monkeypatch, family[unreadable])
    out = tmp_path / "never"
    assert cli.main(["run", str(family["child"]), "--out", str(out), "--workers", "1"]) == 2
    err = capsys.readouterr().err
    assert _error_lines(err) == err.strip().splitlines()
    assert len(_error_lines(err)) == 1
    assert str(family[unreadable].resolve().name) in err
    assert "cannot be read (permission denied)" in err
    assert "Traceback" not in err
    assert not out.exists() and not list(tmp_path.glob(".incomplete-*"))


def test_validate_and_compare_report_an_unreadable_file(family, small, monkeypatch, capsys):
    _deny_open(monkeypatch, family["parameters"])
    assert cli.main(["validate", str(small), str(family["child"])]) == 2
    captured = capsys.readouterr()
    assert f"ok: {small}" in captured.out  # one unreadable file does not hide the others
    assert "parameters.toml: cannot be read (permission denied)" in captured.err
    assert cli.main(["compare", str(small), str(family["child"])]) == 2
    assert "parameters.toml: cannot be read" in capsys.readouterr().err


def test_a_folder_where_a_file_is_expected(family, tmp_path, capsys):
    """A folder named where a file belongs is reported against the file and key naming it."""
    family["parameters"].unlink()
    family["parameters"].mkdir()
    assert cli.main(["run", str(family["child"]), "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert "parent.toml: parameters: " in err
    assert "parameters.toml is a folder: name a parameter set file" in err
    family["child"].write_text(f'extends = "{tmp_path}"\nname = "child"\n')
    assert cli.main(["validate", str(family["child"])]) == 2
    err = capsys.readouterr().err
    assert f"child.toml: extends: {tmp_path} is a folder: name the scenario file" in err


@pytest.mark.skipif(AS_ROOT, reason="root reads a file whatever its permissions")
def test_a_really_unreadable_file(family, tmp_path, capsys):
    family["parent"].chmod(0)
    try:
        assert cli.main(["run", str(family["child"]), "--out", str(tmp_path / "x")]) == 2
    finally:
        family["parent"].chmod(stat.S_IRUSR | stat.S_IWUSR)
    assert "parent.toml: cannot be read (permission denied)" in capsys.readouterr().err


def test_out_under_a_file(small, tmp_path, capsys):
    (tmp_path / "afile").write_text("x")
    for out in (tmp_path / "afile" / "run", tmp_path / "afile" / "deeper" / "run"):
        assert cli.main(["run", str(small), "--out", str(out), "--workers", "1"]) == 2
        err = capsys.readouterr().err
        assert err.strip() == f"error: {out}: {tmp_path / 'afile'} is a file, not a folder; " \
            "choose another --out"  # fmt: skip
    assert (tmp_path / "afile").read_text() == "x"
    assert not list(tmp_path.glob(".incomplete-*"))


def test_out_is_a_file(small, tmp_path, capsys):
    (tmp_path / "afile").write_text("x")
    assert cli.main(["run", str(small), "--out", str(tmp_path / "afile")]) == 2
    assert "exists and is not a folder; choose another --out" in capsys.readouterr().err


def test_a_loop_of_symbolic_links_is_one_line(small, tmp_path, capsys):
    """A link that leads back to itself, given as a scenario, as the file a scenario extends
    or as --out, is one line naming it (pathlib raises RuntimeError for it before Python 3.13),
    and --out is refused before anything runs."""
    (tmp_path / "a.toml").symlink_to(tmp_path / "b.toml")
    (tmp_path / "b.toml").symlink_to(tmp_path / "a.toml")
    (tmp_path / "child.toml").write_text('extends = "a.toml"\n')
    loop = f"error: {tmp_path / 'a.toml'}: is a symbolic link that leads back to itself"
    for command in (["validate", "a.toml"], ["run", "child.toml"]):
        args = [command[0], str(tmp_path / command[1])]
        assert cli.main(args) == 2
        assert capsys.readouterr().err.startswith(loop)
    out = tmp_path / "a.toml"
    assert cli.main(["run", str(small), "--out", str(out), "--workers", "1"]) == 2
    assert "leads back to itself" in capsys.readouterr().err
    assert not list(tmp_path.glob(".incomplete-*"))


def test_out_as_a_symbolic_link_writes_where_it_leads(small, tmp_path):
    """The results are written in the folder a link given as --out leads to (made if need
    be), and the link stays a link: the folder is replaced by renaming, which would otherwise
    replace the link itself with a folder."""
    args = ["run", str(small), "--workers", "1", "--replications", "1", "--years", "0.1"]
    (tmp_path / "real").mkdir()
    for link, target in (("to_real", "real"), ("dangling", "nowhere/x")):
        (tmp_path / link).symlink_to(tmp_path / target)
        assert cli.main([*args, "--out", str(tmp_path / link)]) == 0
        assert (tmp_path / link).is_symlink()
        assert (tmp_path / target / "manifest.json").exists()
    assert not list(tmp_path.glob(".replaced-*")) and not list(tmp_path.glob(".incomplete-*"))


def test_out_whose_parents_are_missing_makes_them(small, tmp_path):
    """Missing parent folders are made (as ``results/`` is): ``--out results/fit-full`` works
    in a fresh checkout."""
    out = tmp_path / "new" / "deeper" / "run"
    args = ["run", str(small), "--out", str(out), "--workers", "1", "--replications", "1"]
    assert cli.main([*args, "--years", "0.1"]) == 0
    assert (out / "manifest.json").exists()


def test_out_in_a_folder_without_write_permission(small, tmp_path, monkeypatch, capsys):
    """Refused before anything runs (``os.access``, as for a normal user in a folder of
    another's), and, should the check pass but making the folder fail, at that point."""
    denied = tmp_path / "shared"
    denied.mkdir()
    real_access = os.access
    monkeypatch.setattr(
        os, "access", lambda p, mode: False if Path(p) == denied else real_access(p, mode)
    )
    ran = []
    monkeypatch.setattr("sim.experiments.runner.run_scenario", lambda *a, **k: ran.append(1))
    out = denied / "run"
    assert cli.main(["run", str(small), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.strip() == f"error: {out}: no permission to write in {denied}; choose another --out"
    assert not ran


def test_out_folder_that_cannot_be_made(small, tmp_path, monkeypatch, capsys):
    """The folder cannot be made after the checks passed (a read-only file system, a change
    of permissions meanwhile): the same kind of message, when it happens."""
    real_mkdir = os.mkdir
    ro = tmp_path / "ro"
    ro.mkdir()

    def refusing_mkdir(path: str | Path, *args: int, **kwargs: int) -> None:
        if Path(path).parent == ro:
            raise PermissionError(13, "Permission denied", str(path))
        real_mkdir(path, *args, **kwargs)

    monkeypatch.setattr(os, "mkdir", refusing_mkdir)
    out = ro / "run"
    assert cli.main(["run", str(small), "--out", str(out), "--workers", "1"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == (
        f"error: {out}: cannot make a folder in {ro} (permission denied); choose another --out"
    )


@pytest.mark.skipif(AS_ROOT, reason="root writes in a folder whatever its permissions")
def test_out_in_a_really_read_only_folder(small, tmp_path, capsys):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        assert cli.main(["run", str(small), "--out", str(ro / "run")]) == 2
    finally:
        ro.chmod(stat.S_IRWXU)
    assert "no permission to write in" in capsys.readouterr().err


@pytest.mark.parametrize("address", ["notaurl", "tcp://host", "http://host:8786/", "host:port"])
def test_a_malformed_cluster_address_is_refused_before_any_work(small, tmp_path, address, capsys):
    out = tmp_path / "x"
    assert cli.main(["run", str(small), "--out", str(out), "--cluster", address]) == 2
    err = capsys.readouterr().err
    assert err.strip() == (
        f"error: --cluster {address}: not a Dask scheduler address; write tcp://HOST:PORT "
        "(e.g. tcp://10.0.0.5:8786, as the scheduler prints when it starts)"
    )
    assert not out.exists()


@pytest.mark.parametrize(
    "address",
    ["tcp://10.0.0.5:8786", "127.0.0.1:8786", "tls://sched.example.org:8786", "tcp://[::1]:8786"],
)
def test_well_formed_cluster_addresses_pass(address):
    parallel.check_cluster_address(address)


def test_faults_from_the_console_script_have_no_traceback(small, tmp_path):
    (tmp_path / "afile").write_text("x")
    for extra in (["--out", str(tmp_path / "afile" / "x")], ["--cluster", "notaurl"]):
        proc = subprocess.run(
            [sys.executable, "-m", "sim.cli", "run", str(small), *extra],
            capture_output=True,
            text=True,
            cwd=tmp_path,
        )
        assert proc.returncode == 2, proc.stderr
        assert "Traceback" not in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_a_disk_error_while_writing_is_one_line(small, tmp_path, monkeypatch, capsys):
    def full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device", str(tmp_path / "out" / "monthly.csv"))

    monkeypatch.setattr("sim.output.folders.write_tables", full)
    out = tmp_path / "out"
    assert cli.main(["run", str(small), "--out", str(out), "--workers", "1"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == f"error: {out / 'monthly.csv'}: no space left on device"
    assert not out.exists() and not list(tmp_path.glob(".incomplete-*"))


# --- item 6: SIGTERM ends like Ctrl-C ------------------------------------------------------


@pytest.mark.skipif(
    not Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").exists(),
    reason="finds the workers in /proc/PID/task/PID/children (Linux)",
)
def test_sigterm_to_the_command_ends_it_like_ctrl_c(small, tmp_path):
    """``kill PID`` (SIGTERM to the command only, as a scheduler or a user sends it) while the
    workers run: exit 143, a one-line message, no ``.incomplete-*`` folder, the workers gone."""
    out = tmp_path / "terminated"
    command = [sys.executable, "-m", "sim.cli", "run", str(small), "--out", str(out),
               "--replications", "400", "--years", "3", "--workers", "2"]  # fmt: skip
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 60
        while not list(tmp_path.glob(".incomplete-*")) and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.5)  # the workers are running replications
        workers = children(proc.pid)
        assert proc.poll() is None, "the run ended before it could be terminated"
        assert workers, "no worker processes to check"
        os.kill(proc.pid, signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:  # whatever happened, leave no process of this test behind
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 143, err
    assert err.strip().splitlines()[-1] == "terminated: no results were written"
    assert "Traceback" not in err
    assert not out.exists()
    assert not list(tmp_path.glob(".incomplete-*"))
    time.sleep(0.5)
    assert not [w for w in workers if Path(f"/proc/{w}").exists()], "workers left running"


def test_sigterm_in_process_exits_143(small, tmp_path, monkeypatch, capsys):
    def terminated(*args: object, **kwargs: object) -> None:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler raises before this ends
        raise AssertionError("SIGTERM did not interrupt the command")

    monkeypatch.setattr("sim.experiments.runner.run_scenario", terminated)
    out = tmp_path / "t"
    before = signal.getsignal(signal.SIGTERM)
    assert cli.main(["run", str(small), "--out", str(out)]) == 143
    assert "terminated: no results were written" in capsys.readouterr().err
    assert not out.exists() and not list(tmp_path.glob(".incomplete-*"))
    assert signal.getsignal(signal.SIGTERM) is before  # restored for whoever called main


def test_an_interrupt_while_replacing_keeps_the_earlier_results(small, tmp_path, monkeypatch):
    out = tmp_path / "keep"
    args = ["run", str(small), "--out", str(out), "--workers", "1", "--replications", "1"]
    assert cli.main(args) == 0
    before = (out / "summary.csv").read_text()
    real_rename = pathlib.Path.rename

    def interrupted_rename(self: Path, target: Path) -> Path:
        if self.name.startswith(".incomplete-"):
            raise KeyboardInterrupt  # between moving the earlier folder away and this one in
        return real_rename(self, target)

    monkeypatch.setattr(pathlib.Path, "rename", interrupted_rename)
    assert cli.main([*args, "--seed", "3"]) == 130
    assert (out / "summary.csv").read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


# --- item 7: the results folder's permissions; replacing is announced ----------------------


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
def test_results_folder_follows_the_umask(small, tmp_path, umask):
    out = tmp_path / "shared"
    previous = os.umask(umask)
    try:
        args = ["run", str(small), "--out", str(out), "--workers", "1", "--replications", "1"]
        assert cli.main([*args, "--years", "0.1"]) == 0
    finally:
        os.umask(previous)
    assert stat.S_IMODE(out.stat().st_mode) == 0o777 & ~umask
    assert stat.S_IMODE((out / "summary.csv").stat().st_mode) == 0o666 & ~umask
    assert stat.S_IMODE((out / "figures").stat().st_mode) == 0o777 & ~umask


def test_replacing_earlier_results_says_so(small, tmp_path, capsys):
    out = tmp_path / "again"
    args = ["run", str(small), "--out", str(out), "--workers", "1", "--replications", "1"]
    assert cli.main(args) == 0
    assert "earlier results" not in capsys.readouterr().err
    started = datetime.fromisoformat(json.loads((out / "manifest.json").read_text())["started"])
    assert cli.main(args) == 0
    err = "\n".join(  # the note, not the report's warnings said after the run
        line for line in capsys.readouterr().err.splitlines() if not line.startswith("warning: ")
    )
    assert err.strip().splitlines() == [
        f"note: {out} holds earlier results (of a run started "
        f"{started.strftime('%Y-%m-%d %H:%M')} UTC); they are replaced when this one completes"
    ]
    (out / "manifest.json").write_text("{not json")
    assert cli.main(args) == 0
    assert "(of a run started at an unknown time)" in capsys.readouterr().err


def test_earlier_results_holding_a_users_own_files_are_not_replaced(small, tmp_path, capsys):
    """A workbook saved beside summary.csv, or notes, would go with the folder a run replaces:
    the run is refused before it starts, naming them, and they are left as they were."""
    out = tmp_path / "again"
    args = ["run", str(small), "--out", str(out), "--workers", "1", "--replications", "1"]
    assert cli.main(args) == 0
    (out / "summary.xlsx").write_bytes(b"a workbook")
    (out / "figures" / "notes.txt").write_text("for the board")
    capsys.readouterr()
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert "holds files no run writes (figures/notes.txt, summary.xlsx)" in err
    assert "note:" not in err  # not told it will be replaced, then refused
    assert (out / "summary.xlsx").read_bytes() == b"a workbook"


# --- item 8: what a run will cost; the workers' cap ----------------------------------------


def _no_runs(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    ran: list[object] = []

    def record(*args: object, **kwargs: object) -> None:
        ran.append(args)
        raise AssertionError("the run started")

    monkeypatch.setattr("sim.experiments.runner.run_scenarios", record)
    return ran


def test_a_long_run_is_refused_without_yes(small, tmp_path, monkeypatch, capsys):
    ran = _no_runs(monkeypatch)
    out = tmp_path / "huge"
    args = ["run", str(small), "--out", str(out), "--replications", "100000", "--years", "50"]
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    (line,) = err.strip().splitlines()
    assert line.startswith(f"error: {small}: this run is estimated at about ")
    assert "100000 replications" in line and line.endswith("; add --yes to start it")
    assert not ran and not out.exists()


def test_compare_is_refused_too(small, write, tmp_path, monkeypatch, capsys):
    _no_runs(monkeypatch)
    alt = write("alt.toml", f'extends = "{small.name}"\nname = "alt"\n')
    args = ["compare", str(small), str(alt), "--replications", "100000", "--years", "50"]
    assert cli.main([*args, "--out", str(tmp_path / "c")]) == 2
    err = capsys.readouterr().err
    assert "200000 replications" in err and "add --yes to start it" in err


def test_yes_starts_it_with_a_note(small, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(runner, "CONFIRM_ABOVE_SECONDS", 0.0)
    out = tmp_path / "yes"
    args = ["run", str(small), "--out", str(out), "--workers", "1", "--replications", "1"]
    assert cli.main(args) == 2
    assert "add --yes" in capsys.readouterr().err
    assert cli.main([*args, "--yes"]) == 0
    assert "note: this run is estimated at about" in capsys.readouterr().err
    assert (out / "manifest.json").exists()


@pytest.mark.parametrize(("answer", "status"), [("y\n", 0), ("n\n", 2), ("", 2)])
def test_at_a_terminal_it_asks(small, tmp_path, monkeypatch, capsys, answer, status):
    import io

    monkeypatch.setattr(runner, "CONFIRM_ABOVE_SECONDS", 0.0)

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdin", Terminal(answer))
    monkeypatch.setattr(sys, "stderr", Terminal())
    args = ["run", str(small), "--out", str(tmp_path / "ask"), "--workers", "1",
            "--replications", "1", "--years", "0.1"]  # fmt: skip
    assert cli.main(args) == status
    assert "Start it? [y/N]" in sys.stderr.getvalue()


def test_an_ordinary_run_says_nothing_about_cost(small, tmp_path, capsys):
    args = [
        "run",
        str(small),
        "--out",
        str(tmp_path / "o"),
        "--workers",
        "1",
        "--replications",
        "1",
    ]
    assert cli.main([*args, "--years", "0.1"]) == 0
    err = capsys.readouterr().err  # the report's warnings only (one replication: few)
    assert "estimated" not in err and "Start it" not in err
    assert all(line.startswith("warning: ") for line in err.splitlines()), err


def test_the_estimate_scales_with_replications_years_and_households(small):
    from sim.inputs.loading import load_scenarios

    def estimate(overrides: list[str], workers: int = 1, n: int = 10) -> runner.CostEstimate:
        resolved = load_scenarios(small, overrides)[0]
        return runner.estimate_cost([(resolved, n)], workers=workers)

    one = estimate([])
    assert one.replications == 10 and one.month_rows == 10 * 12
    assert estimate(["horizon_years=2"]).household_years == pytest.approx(2 * one.household_years)
    assert estimate([], n=20).household_years == pytest.approx(2 * one.household_years)
    assert estimate(["warmup_days=365"]).household_years == pytest.approx(
        2 * one.household_years, rel=0.01
    )  # the warm-up is simulated too
    scaled = estimate(["organisation.contacts_scale=10"])
    assert scaled.household_years > 5 * one.household_years  # contacts drive the size
    assert scaled.seconds > one.seconds
    two = estimate(["organisation.contacts_scale=10"], workers=2)
    fixed = runner.FIXED_SECONDS + two.month_rows * runner.SECONDS_PER_MONTH_ROW
    assert two.seconds - fixed == pytest.approx((scaled.seconds - fixed) / 2)
    resolved = load_scenarios(small, [])[0]
    per_year = resolved.parameters.contacts.per_year
    assert runner.scenario_households(resolved) == pytest.approx(
        max(300, runner.HOUSEHOLDS_PER_ANNUAL_CONTACT * per_year)
    )
    big = load_scenarios(small, ["initial_caseload.by_class={a = 0, b = 20000, c = 0}"])[0]
    assert runner.scenario_households(big) == 20000


def test_the_threshold_is_ten_minutes_of_the_baseline(monkeypatch):
    """The baseline as shipped (20 × 6 years) starts at once; 2 000 replications × 50 years
    ask first (an hour or more on 2 cores)."""
    from sim.inputs.loading import load_scenarios

    baseline = Path(__file__).resolve().parent.parent / "scenarios" / "baseline.toml"
    resolved = load_scenarios(baseline)[0]
    assert not runner.estimate_cost([(resolved, 20)], workers=2).needs_confirmation
    long = load_scenarios(baseline, years=50)[0]
    assert runner.estimate_cost([(long, 2000)], workers=2).needs_confirmation


def test_workers_beyond_the_cores_are_capped(small, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(parallel, "available_cores", lambda: 2)
    pools: list[int] = []
    real = parallel.ProcessPoolExecutor

    def counting(max_workers: int, **kwargs: object) -> object:
        pools.append(max_workers)
        return real(max_workers=max_workers, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(parallel, "ProcessPoolExecutor", counting)
    out = tmp_path / "cap"
    args = ["run", str(small), "--out", str(out), "--replications", "4", "--years", "0.1"]
    assert cli.main([*args, "--workers", "1000"]) == 0
    err = capsys.readouterr().err
    assert "note: --workers 1000 is more than the 2 cores this process may use; using 2" in err
    assert pools == [2]
    assert json.loads((out / "manifest.json").read_text())["workers"] == 2
    assert cli.main(args) == 0  # no --workers: every core, and the manifest says how many
    assert json.loads((out / "manifest.json").read_text())["workers"] == 2
    assert pools == [2, 2]
    auto = ["run", str(small), "--out", str(out), "--replications", "auto", "--years", "0.1",
            "--max-replications", "10", "--workers", "40"]  # fmt: skip
    assert cli.main(auto) == 0
    assert pools == [2, 2, 2]


def test_the_library_caps_workers_too(monkeypatch):
    monkeypatch.setattr(parallel, "available_cores", lambda: 2)
    assert parallel.worker_count(1000) == 2
    assert parallel.worker_count(None) == 2
    assert parallel.worker_count(1) == 1


def test_the_api_says_it_caps_workers_and_records_the_number_used(small, monkeypatch):
    """``sim.run(workers=99)`` on two cores runs two, says so as the command line's note does,
    and its manifest records the two (it recorded 99)."""
    import sim

    monkeypatch.setattr(parallel, "available_cores", lambda: 2)
    with pytest.warns(UserWarning, match="workers=99 is more than the 2 cores"):
        results = sim.run(small, replications=2, workers=99)
    assert results.manifest()["workers"] == 2
    assert "workers=99" in results.manifest()["command"]  # the call as typed


# --- item 9: memory ------------------------------------------------------------------------


def test_a_replication_is_freed_before_its_kpis_are_computed(small, monkeypatch):
    """The finished run's state (every booked contact's draws, the households) is released
    before the KPIs' tables are built, so that a worker never holds both."""
    from sim.inputs.loading import load_scenarios

    real_model, real_kpis = runner.CaseloadModel, runner.replication_kpis
    seen: list[str] = []

    class Watched:  # a proxy: the compiled model's class can be neither patched nor subclassed
        def __init__(self, *args: object, **kwargs: object) -> None:
            self._model = real_model(*args, **kwargs)  # type: ignore[arg-type]

        def __getattr__(self, name: str) -> object:
            return getattr(self._model, name)

        def release(self) -> None:
            seen.append("release")
            self._model.release()

    def kpis(*args: object) -> dict[str, float]:
        seen.append("kpis")
        return real_kpis(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(runner, "CaseloadModel", Watched)
    monkeypatch.setattr(runner, "replication_kpis", kpis)
    result = runner.run_replication(load_scenarios(small, ["horizon_years=0.2"])[0], 0)
    assert seen == ["release", "kpis"]
    assert result.kpis["mean_monthly_households"] > 0


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["validate", "calibration/spec_2015.toml"], "a calibration spec file, not a scenario"),
        (["run", "calibration/targets/vantor_2005.toml"], "a targets file, not a scenario"),
        (["validate", "calibration/parameters/first_guess.toml"], "a parameter set file, not"),
        (["validate", "scenarios/optimise/staffing_2015.toml"], "an optimisation file, not"),
        (["calibrate", "check", "scenarios/baseline.toml"], "a scenario file, not a targets"),
        (["calibrate", "check", "calibration/spec_2015.toml"], "a calibration spec file, not"),
        (["calibrate", "fit", "scenarios/baseline.toml"], "a scenario file, not a calibration"),
        (["optimise", "scenarios/baseline.toml"], "a scenario file, not an optimisation"),
    ],
)
def test_a_file_of_another_kind_gets_one_line_saying_which(argv, said, capsys, monkeypatch):
    """A spec given to ``validate`` or a scenario to ``calibrate check`` is one line naming the
    kind of file it looks like and the command that takes it, not a line per key it lacks."""
    monkeypatch.chdir(pathlib.Path(__file__).resolve().parent.parent)
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"this looks like {said}" in err


@pytest.mark.parametrize("value", ["inf", "nan", "0", "-1"])
def test_a_positive_number_option_must_be_finite(value, capsys):
    """``--precision inf`` or ``--budget-minutes nan`` would run without end or stop at once."""
    with pytest.raises(SystemExit) as info:
        cli.main(["run", "scenarios/baseline.toml", "--precision", value])
    assert info.value.code == 2
    assert f"--precision: must be a finite number above 0, got {value}" in capsys.readouterr().err


def test_second_round_of_probes(small, write, tmp_path, capsys):
    """Found by probing as a new user: an empty [sweep], a sweep over replications, the same
    key changed twice on one date (or a distribution set whole and one of its parameters),
    --events where no event log is written, an empty --cluster. Each is one line with exit
    status 2, not a traceback or a silent choice."""
    base = f'extends = "{small.as_posix()}"\nname = "x"\n'
    cases = {
        "[sweep]\n": "sweep: must be a table of KEY.PATH = [values]",
        "[sweep]\nreplications = [1, 2]\n": "sweep.replications: every point of a sweep",
        (
            "[[changes]]\nat = 2015-06-01\nstaff.ongoing_social_workers.posts = 14\n"
            "[[changes]]\nat = 2015-06-01\nstaff.ongoing_social_workers.posts = 8\n"
        ): (
            "changes[1].staff.ongoing_social_workers.posts: changes[0] sets "
            "staff.ongoing_social_workers.posts too on 2015-06-01"
        ),
        (  # a distribution set whole and one of its parameters
            "[[changes]]\nat = 2015-06-01\nstaff.ongoing_social_workers.parental_leave_days = "
            '{ dist = "gamma", mean = 300, sd = 60 }\n'
            "[[changes]]\nat = 2015-06-01\n"
            "staff.ongoing_social_workers.parental_leave_days.mean = 250\n"
        ): (
            "changes[1].staff.ongoing_social_workers.parental_leave_days.mean: changes[0] sets "
            "staff.ongoing_social_workers.parental_leave_days too on 2015-06-01"
        ),
    }
    for text, said in cases.items():
        path = write("probe.toml", base + text)
        assert cli.main(["validate", str(path)]) == 2
        assert said in capsys.readouterr().err
    apart = write(  # the same two changes on different dates are a sequence
        "probe.toml",
        base + "[[changes]]\nat = 2015-06-01\nstaff.ongoing_social_workers.parental_leave_days = "
        '{ dist = "gamma", mean = 300, sd = 60 }\n'
        "[[changes]]\nat = 2015-07-01\n"
        "staff.ongoing_social_workers.parental_leave_days.mean = 250\n",
    )
    assert cli.main(["validate", str(apart)]) == 0
    capsys.readouterr()
    for extra in (["--posterior", "2"], ["--replications", "auto"]):
        assert cli.main(["run", str(small), "--events", *extra]) == 2
        assert "--events: event logs are written for a fixed number" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        cli.main(["run", str(small), "--cluster", ""])
    assert info.value.code == 2
    assert "--cluster: give the scheduler's address" in capsys.readouterr().err


def test_a_damaged_results_folder_gets_a_line_not_a_traceback(small, tmp_path, capsys):
    """``caseflow report`` rebuilds a report from a folder's files; a folder cut short or
    edited by hand is named with what broke, and its old report is left as it was."""
    out = tmp_path / "run"
    assert cli.main(["run", str(small), "--out", str(out), "--replications", "1"]) == 0
    capsys.readouterr()
    report = (out / "report.html").read_bytes()
    (out / "summary.csv").write_text("x,y\n1,2\n")
    assert cli.main(["report", str(out)]) == 2
    assert "cannot rebuild its report from its files" in capsys.readouterr().err
    (out / "manifest.json").write_text("[]")
    assert cli.main(["report", str(out)]) == 2
    assert "manifest.json: not a manifest" in capsys.readouterr().err
    assert (out / "report.html").read_bytes() == report
    assert cli.main(["report", str(tmp_path / "nowhere")]) == 2
    assert "nowhere: no such folder" in capsys.readouterr().err
    # a calibration fit's folder is complete, but its report is drawn by the fit itself
    (out / "manifest.json").write_text(json.dumps({"calibration_of": "spec.toml"}))
    assert cli.main(["report", str(out)]) == 2
    err = capsys.readouterr().err
    assert "a folder of `caseflow calibrate fit`, which writes its report.html itself" in err
    assert (out / "report.html").read_bytes() == report
    # a screening writes a table and a figure, no report at all
    (out / "manifest.json").write_text(json.dumps({"screening_of": "spec.toml"}))
    assert cli.main(["report", str(out)]) == 2
    assert "which writes screening.csv and screening.png, no report" in capsys.readouterr().err
    # a holdout validation writes its verdicts as markdown and CSV, no report either
    (out / "manifest.json").write_text(json.dumps({"validation_of": ["vantor_2005.toml"]}))
    assert cli.main(["report", str(out)]) == 2
    assert "which writes holdouts.md and holdouts.csv, no report.html" in capsys.readouterr().err


def test_compare_says_when_an_alternatives_own_seed_is_not_used(small, write, tmp_path, capsys):
    """A comparison pairs every scenario on the base's seed and replications; an alternative
    that sets its own gets a note saying they are not used (every difference was 0 before,
    with nothing said why)."""
    alt = write("alt.toml", f'extends = "{small.as_posix()}"\nname = "alt"\nseed = 99\n')
    argv = ["compare", str(small), str(alt), "--replications", "1", "--out", str(tmp_path / "c")]
    assert cli.main(argv) == 0
    assert "note: alt sets seed 99; a comparison runs every scenario with the base's seed 7" in (
        capsys.readouterr().err
    )
    import sim  # the API warns of it, as the command line notes it

    with pytest.warns(UserWarning, match="alt sets seed 99; a comparison runs every scenario"):
        sim.compare(small, alt, replications=1, workers=1)


def test_validate_model_outside_the_repository_names_the_calibration_folder(tmp_path, capsys):
    assert cli.main(["validate-model", "--calibration", str(tmp_path / "nowhere")]) == 2
    assert "--calibration: " in capsys.readouterr().err


def test_a_key_set_twice_on_the_command_line_is_refused(small, tmp_path, capsys):
    """``--years 1 --set horizon_years=2`` ran one year without a word, and of two ``--set``
    of one key the last won: one of the two is refused, naming both, before any work."""
    out = tmp_path / "out"
    argv = ["run", str(small), "--out", str(out), "--years", "1", "--set", "horizon_years=2"]
    assert cli.main(argv) == 2
    assert "horizon_years: set twice, by --set horizon_years=2 and by --years" in (
        capsys.readouterr().err
    )
    argv = ["run", str(small), "--out", str(out), "--set", "ar_team.places=3",
            "--set", "ar_team.places=4"]  # fmt: skip
    assert cli.main(argv) == 2
    assert "ar_team.places: set twice" in capsys.readouterr().err
    assert not out.exists()


def test_a_set_value_meant_as_toml_but_broken_says_so(small, tmp_path, capsys):
    """A ``--set`` value that starts like an array, a table or a quoted string is TOML: cut
    short, it is named as broken TOML, not passed on as a string for the scenario's type
    check to call a wrong type. A plain word is still a string (``organisation.form=merged``)."""
    out = tmp_path / "out"
    argv = ["run", str(small), "--out", str(out), "--set", 'organisation.districts=[{name="A"']
    assert cli.main(argv) == 2
    assert "the value is not valid TOML" in capsys.readouterr().err
    argv = ["run", str(small), "--out", str(out), "--replications", "1",
            "--set", "organisation.form=merged"]  # fmt: skip
    assert cli.main(argv) == 0


@pytest.mark.parametrize("text", ["", "\ufeff# a comment only\n", "\n\n"])
def test_an_empty_file_is_one_line(text, tmp_path, capsys):
    """An empty file (or one holding only comments) is said to be empty, in one line, not
    with a "required key is missing" for each key a scenario needs."""
    empty = tmp_path / "empty.toml"
    empty.write_text(text, encoding="utf-8")
    assert cli.main(["validate", str(empty)]) == 2
    err = capsys.readouterr().err
    assert err.count("error:") == 1 and "the file is empty" in err


def test_a_working_directory_removed_during_the_run_is_not_a_failure(monkeypatch):
    """The manifest records where the command ran; a folder removed meanwhile (its results
    are written by their absolute path) is recorded as unknown, not an error after the run."""
    from sim.output.folders import provenance

    def gone() -> Path:
        raise FileNotFoundError(2, "No such file or directory")

    monkeypatch.setattr(pathlib.Path, "cwd", staticmethod(gone))
    assert provenance()["working_directory"] is None


def test_a_pipe_given_as_a_scenario_is_refused_not_waited_on(tmp_path, capsys):
    """A named pipe (or a device) where a scenario file belongs: reading it would wait for a
    writer for ever; it is one line saying what it is."""
    fifo = tmp_path / "scenario.toml"
    os.mkfifo(fifo)
    assert cli.main(["validate", str(fifo)]) == 2
    assert f"{fifo}: is not a regular file, expected a TOML file" in capsys.readouterr().err


def test_pool_workers_leave_ctrl_c_to_the_command():
    """A terminal's Ctrl-C reaches every process of the group: a replication worker ignores
    it (the command stops its workers itself) rather than printing its own traceback, and ends
    at once on SIGTERM."""
    import signal

    pool = parallel.new_pool(1)
    try:
        handlers = pool.submit(_handlers).result()
    finally:
        pool.shutdown()
    assert handlers == (signal.SIG_IGN, signal.SIG_DFL)


def _handlers() -> tuple[object, object]:
    import signal

    return signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux's prctl")
@pytest.mark.skipif(parallel.available_cores() < 2, reason="needs two workers")
def test_a_command_killed_outright_leaves_no_process_behind(small, tmp_path):
    """``kill -9`` (or the out-of-memory killer) gives a command no chance to stop its
    processes: its replication workers and its drawing host end with it (Linux tells each of
    them when the process that forked it ends), rather than waiting for work for ever."""
    command = [sys.executable, "-m", "sim.cli", "run", str(small), "--out", str(tmp_path / "o")]
    proc = subprocess.Popen(
        [*command, "--replications", "400", "--workers", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=pathlib.Path(__file__).resolve().parent.parent,
    )
    try:
        forked = wait_for_children(proc.pid, 3, seconds=60)  # the drawing host, two workers
        assert len(forked) >= 3, forked
    finally:
        proc.kill()
        proc.wait()
    assert not left_running(forked)
