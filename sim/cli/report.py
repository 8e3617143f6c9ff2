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
    from ..output.folders import rebuild_reports

    for report in rebuild_reports(args.folder):
        print(f"report: {report}")
    return 0
