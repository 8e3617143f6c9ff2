"""What the commands share: argument types, common options, the progress bar, the command as
typed and the default results folder.

Only argparse-level imports here: every command module imports this at its top, and ``caseflow
--help`` builds every command's parser.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import shlex
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from ..experiments.runner import CostEstimate
    from ..inputs.scenario import ResolvedScenario
    from ..output.drawing import DrawingHost
    from ..output.folders import AtomicFolder

    Subparsers: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]
    """Where each command module's ``add_parser`` adds its parser."""

EXIT_INPUT = 2
"""Bad input: a clear message naming the file and key, no traceback."""
EXIT_INTERRUPTED = 130
"""Ctrl-C, as a shell reports a process ended by SIGINT."""
EXIT_TERMINATED = 143
"""SIGTERM (a scheduler's or ``kill``'s), as a shell reports a process ended by it."""
EXIT_BROKEN_PIPE = 141
"""The reader of the output went away (``caseflow ... | head``), as a shell reports SIGPIPE."""


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the command is as Ctrl-C's KeyboardInterrupt is, so that it ends
    the same way: work folders removed, worker processes stopped, no traceback."""


Handler = Callable[[argparse.Namespace], int]
"""What a command runs: the parsed arguments in, the exit status out."""


def _whole_number(text: str, minimum: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
    return value


def positive_int(text: str) -> int:
    return _whole_number(text, 1)


def at_least_two(text: str) -> int:
    """A count that needs two to say anything (Morris trajectories: their spread)."""
    return _whole_number(text, 2)


def non_negative_int(text: str) -> int:
    return _whole_number(text, 0)


def replications(text: str) -> int | str:
    """A number of replications, or ``auto`` (the stopping rule chooses; any case)."""
    if text.strip().lower() == "auto":
        return "auto"
    try:
        int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number or auto, got {text!r}") from None
    return positive_int(text)


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0 or value == float("inf"):  # nan fails the first test
        raise argparse.ArgumentTypeError(f"must be a finite number above 0, got {text}")
    return value


def add_out(parser: argparse.ArgumentParser, default: str) -> None:
    """``--out DIR``; ``default`` names the folder made under results/ without it."""
    parser.add_argument(
        "--out",
        type=Path,
        help=f"results folder, replaced if it holds earlier results (default: a new "
        f"results/{default}, -2 added if another run took that name)",
    )


def add_workers(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--workers", type=positive_int, help="parallel processes (default: all cores)"
    )


def add_yes(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--yes",
        action="store_true",
        help="start without asking even if the run is estimated to take over 10 minutes",
    )


def cluster_address(text: str) -> str:
    """``--cluster``: not empty (an empty address would quietly run here instead)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("give the scheduler's address, e.g. tcp://10.0.0.5:8786")
    return text


def add_cluster(parser: argparse.ArgumentParser, help: str = "run on a Dask scheduler") -> None:
    parser.add_argument("--cluster", type=cluster_address, metavar="tcp://HOST:8786", help=help)


def command_line(args: argparse.Namespace) -> str:
    """The command as typed (``caseflow ...``), for the manifest and the report."""
    return shlex.join(["caseflow", *args.argv])


def results_target(out: Path | None, name: str, started: datetime) -> Path:
    """``--out``, or ``results/NAME-TIMESTAMP`` under the working folder. Says so (on stderr)
    when ``--out`` holds earlier results, which the command replaces when it completes."""
    from ..output.folders import check_target, default_folder, earlier_results

    if out is None:
        return default_folder(Path("results"), name, started)
    if out.is_symlink():
        # written where the link leads (the folder is replaced by renaming, which would
        # replace the link itself); a link that leads back to itself is refused here, not
        # after the run
        out = out.resolve()
    check_target(out)  # a folder that may not be replaced is refused before the note
    earlier = earlier_results(out)
    if earlier is not None:
        print(
            f"note: {out} holds earlier results (of a run started {earlier}); "
            "they are replaced when this one completes",
            file=sys.stderr,
        )
    return out


def results_folder(out: Path | None, name: str, started: datetime) -> AtomicFolder:
    """The command's results folder (:func:`results_target`), written atomically: ``--out``
    replaces earlier results there; a default folder replaces none (``-2``, ... if its name is
    taken when the command ends). Nothing is made until its ``with`` block starts."""
    from ..output.folders import atomic_folder

    return atomic_folder(results_target(out, name, started), unique=out is None)


def print_loading_notes(resolved: Sequence[ResolvedScenario]) -> None:
    """The notes loading left on the scenarios (:attr:`ResolvedScenario.notes`), each once,
    on stderr."""
    for note in dict.fromkeys(note for r in resolved for note in r.notes):
        print(f"note: {note}", file=sys.stderr)


@contextmanager
def reading_inputs() -> Iterator[None]:
    """Input files that exist but cannot be read (no permission, a disk error) as bad input
    naming the file, like a missing file, rather than a traceback."""
    try:
        yield
    except OSError as exc:
        from ..inputs.validation import InputError

        reason = (exc.strerror or str(exc)).lower()
        raise InputError.single(exc.filename or "input", "", f"cannot be read ({reason})") from None


def progress_bar(label: str) -> Callable[[int, int], None] | None:
    """A one-line progress bar on stderr when it is a terminal (none in logs and pipes)."""
    if not sys.stderr.isatty():
        return None
    started = time.monotonic()

    def show(done: int, total: int) -> None:
        elapsed = time.monotonic() - started
        left = elapsed / done * (total - done) if done else 0.0
        filled = round(24 * done / total) if total else 24
        bar = "#" * filled + "." * (24 - filled)
        sys.stderr.write(f"\r{label} [{bar}] {done}/{total} replications, ~{left:.0f} s left ")
        if done == total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return show


def report_stack_modules(host: DrawingHost | None) -> tuple[str, ...]:
    """What a command imports while its workers simulate (:class:`ImportAhead`): the report's
    modules, and its plotting stack unless a drawing host has that."""
    report = "sim.output.report"
    return (report,) if host is not None else ("sim.output.figures", report)


class ImportAhead:
    """Modules imported in a background thread while the command only waits on its worker
    processes: the report's (and its plotting stack, about 0.3 s, where no drawing host has
    it) during the replications.

    Started by the first finished replication (:meth:`on_progress`), when the pool's workers
    exist: a fork while this thread held an import lock could leave the lock held in the
    child. :meth:`wait` before the module is used and before anything forks again (the
    report's figures are drawn in forked processes). An error is left to the import where
    the module is used, which raises it as usual."""

    def __init__(self, modules: Sequence[str]) -> None:
        self._modules = tuple(modules)
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            name = f"import {', '.join(self._modules)}"
            self._thread = threading.Thread(target=self._load, name=name)
            self._thread.daemon = True
            self._thread.start()

    def _load(self) -> None:
        # an error is raised again by the import where the module is used
        for module in self._modules:
            with contextlib.suppress(Exception):
                importlib.import_module(module)

    def wait(self) -> None:
        if self._thread is not None:
            self._thread.join()

    def on_progress(
        self, progress: Callable[[int, int], None] | None
    ) -> Callable[[int, int], None]:
        """``progress`` that also starts the import at its first call."""

        def called(done: int, total: int) -> None:
            self.start()
            if progress is not None:
                progress(done, total)

        return called


def require_module(module: str, option: str, purpose: str, extra: str) -> None:
    """Stop with a clear message before any work when an optional dependency is missing."""
    import importlib.util

    if importlib.util.find_spec(module) is None:
        from ..inputs.validation import InputError

        raise InputError.single(
            option, "", f"{purpose} needs {module}: pip install 'caseflow[{extra}]'"
        )


def add_point_replications(parser: argparse.ArgumentParser) -> None:
    """``--replications`` of screening and fitting: runs per parameter point, all points sharing
    their seeds (common random numbers), so that differences are the parameters' own."""
    parser.add_argument(
        "--replications",
        type=positive_int,
        default=3,
        help="common-random-number replications per point (default 3)",
    )


def add_spec(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "spec", type=Path, help="calibration spec (e.g. calibration/spec_2015.toml)"
    )


def confirm_cost(estimate: CostEstimate, source: Path, args: argparse.Namespace) -> None:
    """Say what a long run will cost and start it only if confirmed: ``--yes``, or "y" at the
    prompt when both stdin and stderr are a terminal; otherwise refuse (exit 2) saying to add
    ``--yes``. Runs estimated under the threshold start without a word."""
    from ..inputs.validation import InputError

    if not estimate.needs_confirmation:
        return
    what = describe_cost(estimate)
    if args.yes:
        print(f"note: {what}", file=sys.stderr)
        return
    if sys.stdin.isatty() and sys.stderr.isatty():
        sys.stderr.write(f"{what}. Start it? [y/N] ")
        sys.stderr.flush()
        try:
            answer = sys.stdin.readline().strip().lower()
        except EOFError:
            answer = ""
        if answer in ("y", "yes"):
            return
    raise InputError.single(source, "", f"{what}; add --yes to start it")


def describe_cost(estimate: CostEstimate) -> str:
    """``this run is estimated at about 40 h on 2 workers (100000 replications, ...)``."""
    where = (
        "of one worker's time on the cluster"
        if estimate.cluster
        else f"on {estimate.workers} worker{'s' if estimate.workers != 1 else ''}"
    )
    return (
        f"this run is estimated at about {duration(estimate.seconds)} {where} "
        f"({estimate.replications} replications, {count(estimate.household_years)} "
        f"household-years, {count(estimate.month_rows)} rows of monthly.csv)"
    )


def count(n: float) -> str:
    """A large count for people: ``5,580``, ``2.8 million``, ``2,848 million``."""
    return f"{n:,.0f}" if n < 1e6 else f"{n / 1e6:,.{1 if n < 1e8 else 0}f} million"


def duration(seconds: float) -> str:
    """A rough duration for people: ``40 s``, ``12 min``, ``3 h 10 min``, ``4.2 days``."""
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes = seconds / 60
    if minutes < 60:
        return f"{minutes:.0f} min"
    hours, rest = divmod(round(minutes), 60)
    if hours < 48:
        return f"{hours} h {rest} min" if rest else f"{hours} h"
    return f"{seconds / 86400:.1f} days"
