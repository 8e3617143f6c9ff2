"""``caseflow compile``: build the model's inner loop with mypyc (``make`` runs it)."""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .common import Subparsers


def add_parser(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "compile",
        help="compile the model's inner loop with mypyc (make does it; if it fails, the "
        "model runs as Python)",
    )
    parser.set_defaults(handler=compile_command)


def compile_command(_args: argparse.Namespace) -> int:
    """Build the compiled model; a failure is explained and leaves the Python model in use
    (the build is an option, never a requirement), so it does not fail ``make``."""
    from .. import compiled

    log = io.StringIO()
    try:
        with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
            where = compiled.build()
    except Exception as exc:  # any failure means: run as Python
        sys.stderr.write(log.getvalue()[-4000:])
        print(
            f"caseflow: the compiled build failed ({type(exc).__name__}: {exc}); "
            "the model runs as Python, about 2.8 times slower",
            file=sys.stderr,
        )
        return 0
    print(f"caseflow: compiled {', '.join(compiled.COMPILED_MODULES)} into {where}")
    return 0
