"""``caseflow report FOLDER``: rebuild report.html of a results folder without running."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .common import Subparsers


def add_parser(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser("report", help="rebuild report.html of a results folder")
    parser.add_argument("folder", type=Path)
    parser.set_defaults(handler=report_command)


def report_command(args: argparse.Namespace) -> int:
    """A run, each point of a sweep, or a comparison and its scenarios (after a report change,
    or to restore a deleted report)."""
    from ..inputs.validation import InputError
    from ..output.folders import rebuild_reports

    try:
        reports = rebuild_reports(args.folder)
    except InputError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        # a results folder edited or cut short by hand, or written by another version: the
        # report is rebuilt from its files only, so say which folder and what broke
        raise InputError.single(
            args.folder,
            "",
            f"cannot rebuild its report from its files, one of them is damaged or from "
            f"another version ({type(exc).__name__}: {exc})",
        ) from None
    for report in reports:
        print(f"report: {report}")
    return 0
