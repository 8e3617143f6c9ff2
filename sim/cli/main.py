"""The ``caseflow`` command line: the parser assembled from one module per command, the
dispatch, and the error handling all commands share. Only the CLI prints.

Exit status: 0 success, 2 bad input or a fault of the environment (a clear message, no
traceback), 130 interrupted (Ctrl-C), 143 terminated (SIGTERM), 141 when the reader of the
output went away (``| head``), quietly; ``calibrate check`` exits 1 when it finds new
problems.

Start-up: this module and the command modules import only argparse-level things at their top;
each command imports pandas, the model or matplotlib inside the function that runs it, so that
``caseflow --help`` and ``caseflow validate`` do not pay for what they do not use.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING

from .. import __version__
from . import app, calibrate, compare, optimise, report, run, schema, validate, validate_model
from . import compile as compile_model  # not to shadow the builtin
from .common import (
    EXIT_BROKEN_PIPE,
    EXIT_INPUT,
    EXIT_INTERRUPTED,
    EXIT_TERMINATED,
    Terminated,
)

if TYPE_CHECKING:
    from ..output.drawing import DrawingHost

COMMANDS = (
    run,
    compare,
    optimise,
    app,
    calibrate,
    validate_model,
    validate,
    schema,
    report,
    compile_model,
)
"""In the order ``caseflow --help`` lists them; each module has ``add_parser(subparsers)``."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="caseflow",
        description="Discrete-event simulation of economic-assistance caseload flow.",
    )
    parser.add_argument("--version", action="version", version=f"caseflow {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add_parser(subparsers)
    return parser


def entry() -> int:
    """The ``caseflow`` program itself (the console script, ``python -m sim.cli``): :func:`main`
    on the process's arguments, allowed to leave pyarrow out of a run that does not need it
    and to spare the interpreter's exit its collection of the process's objects."""
    _one_blas_thread()
    status = main(process=True)
    try:  # what is still buffered, here rather than at the interpreter's exit
        sys.stdout.flush()
    except BrokenPipeError:
        _write_to_nothing()
        status = EXIT_BROKEN_PIPE
    # The interpreter's exit collects every object this process made (the model, pandas,
    # matplotlib, pydantic): about 0.16 s of a 2.6 s `caseflow run` (docs/performance.md, step
    # 31). Nothing left needs the cyclic collector to finish it (results are written and
    # closed, the standard streams are flushed by the interpreter, atexit handlers still run),
    # so the objects are moved where the exit's collections skip them. Only after success: an
    # interrupted or failed command (stopped pools, half-shut executors) exits as Python does.
    if status == 0:
        gc.freeze()
    return status


def _one_blas_thread() -> None:
    """Run numpy's and scipy's OpenBLAS on one thread, unless the user chose otherwise.

    Each of the two libraries starts a thread per core when loaded, in this process and again
    in every worker and drawing process forked from it, and that thread spins for a while
    waiting for work: about 0.3 s of CPU in a 4.5 s `caseflow run` of the baseline on two
    cores, taken from the processes that simulate and draw (docs/performance.md, step 34). The
    model needs no parallel linear algebra (the emulator's matrices are a few dozen rows wide),
    and the parallelism is in the worker processes. Read by OpenBLAS when loaded, so it must
    be set before numpy is first imported, which no command does before this point."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


#: commands that read and write nothing through pyarrow, unless ``--events`` or ``--cluster``
#: is given (Parquet; Dask's transfers)
WITHOUT_PYARROW = ("run", "compare")


def _leave_out_pyarrow(args: argparse.Namespace) -> None:
    """Keep pyarrow out of this process (and the workers it forks) for a command that does not
    use it. pandas 3 imports pyarrow at its own import whenever it is installed (the test and
    workbench extras install it, for ``--events`` and Streamlit): 36-49 ms warm and about
    0.2 s on a cold start, measured (docs/performance.md, step 28). A ``None`` in
    ``sys.modules`` makes ``import pyarrow`` fail, so pandas keeps its text columns as Python
    strings; every output is the same (tested:
    ``tests/test_cli.py``). Only where neither is imported yet (a library user's process, or a
    test's, keeps what it has), and only where worker processes are forked, so that they
    inherit the same: a worker started afresh (``spawn``, ``forkserver``: macOS, Linux from
    Python 3.14) would import pyarrow and send back text columns this process cannot read."""
    needs = getattr(args, "events", False) or getattr(args, "cluster", None)
    imported = "pyarrow" in sys.modules or "pandas" in sys.modules
    if args.command in WITHOUT_PYARROW and not needs and not imported and _workers_fork():
        sys.modules["pyarrow"] = None  # type: ignore[assignment]


#: commands whose reports' figures a drawing host draws (``sim.output.drawing.DrawingHost``)
WITH_DRAWING_HOST = ("run", "compare")


def _drawing_host(args: argparse.Namespace) -> DrawingHost | None:
    """For a command that draws a report, a process forked now to import the plotting stack
    on the core the start-up leaves idle, and to draw the figures later (None where it would
    not help or cannot be forked). Only as the program: it forks the process."""
    if args.command not in WITH_DRAWING_HOST:
        return None
    # pandas (and numpy with it) first, which the command imports anyway and the host then
    # inherits rather than imports again: 0.16 s less of its CPU, taken from the replication
    # workers it overlaps (docs/performance.md, step 56); the host still starts well before them
    import pandas  # noqa: F401

    from ..output.drawing import DrawingHost

    return DrawingHost.start(None if args.cluster else args.workers)


def _workers_fork() -> bool:
    """Whether a process pool made with the default start method forks this process (as
    :func:`sim.experiments.parallel.new_pool` does)."""
    import multiprocessing

    return multiprocessing.get_start_method() == "fork"


def _write_to_nothing() -> None:
    """Point the standard output at the null device: its reader has gone, and the
    interpreter's last flush would otherwise fail again, with a message, at exit."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def main(argv: Sequence[str] | None = None, *, process: bool = False) -> int:
    """Run one command; its exit status. ``argv`` without the program name (tests pass it);
    ``process``: called as the program (:func:`entry`), which owns the process's imports."""
    typed = list(sys.argv[1:] if argv is None else argv)
    parser, argv_used = build_parser(), calibrate.legacy_argv(typed)
    args, unknown = parser.parse_known_args(argv_used)
    if unknown:  # said with the subcommand's usage, not the top level's
        _command_parser(parser, argv_used).error(f"unrecognized arguments: {' '.join(unknown)}")
    args.argv = typed  # the manifest records the command as typed, an old form included
    if process:
        _leave_out_pyarrow(args)
    args.drawing_host = None
    try:
        with sigterm_as_interrupt():
            _check_common_options(args)
            if process:
                args.drawing_host = _drawing_host(args)
            status: int = args.handler(args)
        return status
    except KeyboardInterrupt as exc:
        terminated = isinstance(exc, Terminated)
        what = "terminated" if terminated else "interrupted"
        print(f"{what}: no results were written", file=sys.stderr)
        note = getattr(args, "interrupted_note", None)
        if note:
            print(note, file=sys.stderr)
        return EXIT_TERMINATED if terminated else EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader of the output left (`caseflow ... | head`): stop quietly, as a shell tool
        # does. A results folder is written whole or not at all (atomic), so none is cut short.
        if process:
            _write_to_nothing()
        return EXIT_BROKEN_PIPE
    except Exception as exc:
        message = _error_message(exc)
        if message is None:
            raise
        with contextlib.suppress(BrokenPipeError):  # no reader left for the message either
            print(message, file=sys.stderr)
        return EXIT_INPUT
    finally:
        if args.drawing_host is not None:
            args.drawing_host.close()


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """While a command runs, SIGTERM (a scheduler's or ``kill``'s) raises :class:`Terminated`
    where the command is, as Ctrl-C raises KeyboardInterrupt, so that it ends the same way: no
    ``.incomplete-*`` folder, worker processes stopped. A second SIGTERM while that cleanup
    runs is ignored (SIGKILL still ends the process). A process forked meanwhile (a pool's
    worker, the calibration's samplers) inherits the handler: there SIGTERM ends the process at
    once, as by default. Only the main thread may set handlers: elsewhere (a command run from
    a thread) SIGTERM keeps its own handling."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    command = os.getpid()

    def terminate(signum: int, _frame: FrameType | None) -> None:
        if os.getpid() != command:  # a forked child: end as SIGTERM would have ended it
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise Terminated

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _command_parser(
    parser: argparse.ArgumentParser, argv: Sequence[str]
) -> argparse.ArgumentParser:
    """The parser of the (sub)command ``argv`` names, as deep as it goes (``calibrate fit``),
    else ``parser`` itself."""
    for token in argv:
        actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if actions and token in actions[0].choices:
            parser = actions[0].choices[token]
    return parser


def _check_common_options(args: argparse.Namespace) -> None:
    """Options several commands share, checked before any work: a ``--cluster`` that is not
    a scheduler address is refused; ``--workers`` beyond this machine's cores is capped, with
    a note (more processes than cores only compete for them), and without it is every core
    (the number a results folder's manifest records)."""
    cluster = getattr(args, "cluster", None)
    if cluster:
        from ..experiments.parallel import check_cluster_address

        check_cluster_address(cluster)
    workers = getattr(args, "workers", None)
    if workers is None and hasattr(args, "workers") and not cluster:
        from ..experiments.parallel import available_cores

        args.workers = available_cores()  # the default, as the manifest then records it
    elif workers is not None:
        from ..experiments.parallel import available_cores

        cores = available_cores()
        if workers > cores and not cluster:
            print(
                f"note: --workers {workers} is more than the {cores} cores this process may "
                f"use; using {cores}",
                file=sys.stderr,
            )
            args.workers = cores


def _error_message(exc: Exception) -> str | None:
    """The message of an error shown without a traceback (then exit 2): bad input (one line per
    problem), an output folder that may not be replaced or made, an unusable cluster, a file
    that cannot be read or written (a full disk, no permission); None for any other error, a
    bug, whose traceback is wanted. The classes are imported only once something was raised,
    to keep them out of the start-up."""
    from ..experiments.parallel import ClusterError
    from ..inputs.validation import InputError
    from ..output.folders import OutputFolderError

    if isinstance(exc, InputError):
        return "\n".join(f"error: {line}" for line in str(exc).splitlines())
    if isinstance(exc, OutputFolderError | ClusterError):
        return f"error: {exc}"
    if isinstance(exc, OSError):
        reason = (exc.strerror or str(exc)).lower()
        where = f"{exc.filename}: " if exc.filename else ""
        return f"error: {where}{reason}"
    if isinstance(exc, RuntimeError) and str(exc).startswith("Symlink loop from "):
        # pathlib's resolve() on a link that leads back to itself (an OSError from Python 3.13)
        path = str(exc).removeprefix("Symlink loop from ").strip("'\"")
        return f"error: {path}: is a symbolic link that leads back to itself (a loop of links)"
    return None


if __name__ == "__main__":
    sys.exit(entry())
