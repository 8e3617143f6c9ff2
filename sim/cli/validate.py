"""``caseflow validate FILE...``: check scenario files without running them."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from .common import EXIT_INPUT, print_loading_notes, reading_inputs

if TYPE_CHECKING:
    from .common import Subparsers


def add_parser(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser("validate", help="check scenario files without running them")
    parser.add_argument("files", nargs="+", type=Path)
    parser.set_defaults(handler=validate_command)


def validate_command(args: argparse.Namespace) -> int:
    """Every file is checked (one bad file does not hide the next); exit 2 if any is bad."""
    from ..inputs.loading import load_scenarios
    from ..inputs.validation import InputError

    failed = 0
    for path in args.files:
        try:
            with reading_inputs():
                resolved = load_scenarios(path)
        except InputError as exc:
            failed += 1
            for line in str(exc).splitlines():  # one problem a line, each marked as main marks them
                print(f"error: {line}", file=sys.stderr)
            continue
        n = len(resolved)
        print(f"ok: {path} ({n} scenario{'s' if n != 1 else ''})")
        print_loading_notes(resolved)
    return EXIT_INPUT if failed else 0
