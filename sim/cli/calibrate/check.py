"""``caseflow calibrate check TARGETS...``: reported figures, their provenance and sums."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ...inputs.validation import Problem
    from ..common import Subparsers


def add_parser(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "check",
        help="validate targets files; report contradictions and provenance problems",
        description="Exit 0: consistent, or only known contradictions; 1: new problems; "
        "2: bad input.",
    )
    parser.add_argument("files", nargs="+", type=Path, metavar="TARGETS", help="targets file(s)")
    parser.add_argument(
        "--seeds",
        type=Path,
        metavar="FOLDER",
        help="the folder of the source documents the targets cite, to check each quote on its "
        "line (default: shared/seeds beside the targets file or in a folder above it)",
    )
    parser.set_defaults(handler=check_command)


def check_command(args: argparse.Namespace) -> int:
    """Exit 0: consistent or only known contradictions; 1: new problems; 2: bad input."""
    from ...calibration.targets import (
        check_scenario,
        check_targets,
        find_seeds,
        load_targets,
        shared_kpis,
    )
    from ...inputs.validation import InputError

    if args.seeds is not None and not args.seeds.is_dir():
        said = "is a file" if args.seeds.exists() else "not found"
        raise InputError.single(
            "--seeds", "", f"{args.seeds}: {said}: name the folder of the source documents"
        )
    new_problems = 0
    bad_input: list[Problem] = []  # every file's, as validate reports them: one hides no other
    for path in args.files:
        try:
            targets = load_targets(path)
            period_notes = check_scenario(Path(path), targets)
        except InputError as exc:
            bad_input += exc.problems
            continue
        seeds = args.seeds or find_seeds(Path(path).parent)
        n, sums = len(targets.targets), len(targets.sums)
        print(f"{path}: {n} target{'s' * (n != 1)}, {sums} sum rule{'s' * (sums != 1)}")
        where = (
            f"checked against {seeds}"
            if seeds
            else "not checked (no shared/seeds found; --seeds FOLDER names one)"
        )
        print(f"  provenance: {where}")
        findings = check_targets(targets, seeds)
        for finding in findings:
            label = "known contradiction" if finding.known else "PROBLEM"
            print(f"  {label} [{finding.rule}]: {finding.message}")
        new_problems += sum(not f.known for f in findings)
        if not findings:
            print("  consistent")
        for target_id, note in period_notes:
            print(f"  note [{target_id}]: {note}")
        for kpi, ids in ({} if targets.holdout else shared_kpis(targets)).items():
            print(
                f"  note [{kpi}]: compared by {len(ids)} targets ({', '.join(ids)}): a fit "
                "counts it once for each, right for independent reports of one figure, "
                "a doubled weight otherwise"
            )
    if bad_input:
        raise InputError(bad_input)
    return 1 if new_problems else 0
