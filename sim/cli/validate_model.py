"""``caseflow validate-model``: the model against reported figures never used in fitting."""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .common import (
    add_out,
    add_workers,
    command_line,
    positive_int,
    progress_bar,
    results_folder,
)

if TYPE_CHECKING:
    import pandas as pd

    from ..calibration.holdout import HoldoutCheck
    from .common import Subparsers


def add_parser(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "validate-model",
        help="compare the model with reported figures never used in fitting (holdouts)",
    )
    parser.add_argument(
        "--calibration",
        type=Path,
        default=Path("calibration"),
        help="folder with targets/ and validation/ (default: calibration)",
    )
    parser.add_argument(
        "--parameters", type=Path, help="parameter set to check (default: each scenario's own)"
    )
    parser.add_argument(
        "--replications",
        type=positive_int,
        default=10,
        help="replications of each holdout scenario (default 10)",
    )
    add_workers(parser)
    add_out(parser, "validate-TIMESTAMP")
    parser.set_defaults(handler=validate_model_command)


def validate_model_command(args: argparse.Namespace) -> int:
    """Exit 0 whether or not each check is reproduced: the verdicts are the output."""
    from ..calibration.holdout import HOLDOUT_FILES, validate_model
    from ..inputs.validation import InputError
    from ..output.folders import (
        Clock,
        check_target,
        folder_manifest,
        write_manifest,
        write_tables,
        write_text,
    )

    if not args.calibration.is_dir():
        raise InputError.single("--calibration", "", f"{args.calibration}: no such folder")
    missing = [name for name in HOLDOUT_FILES if not (args.calibration / name).is_file()]
    if missing:  # the checks are fixed: they read the shipped holdouts' files by name
        raise InputError.single(
            "--calibration",
            "",
            f"{args.calibration} is not a calibration folder with the holdouts' files (it lacks "
            f"{', '.join(missing[:3])}{' and more' if len(missing) > 3 else ''}; the checks read "
            "the repository's targets/ and validation/ files by name, so they validate the "
            "shipped units, not a unit of your own; the default is calibration/, run from the "
            "repository's folder)",
        )
    if args.parameters is not None and not args.parameters.exists():
        raise InputError.single("--parameters", "", f"file not found: {args.parameters}")
    if args.parameters is not None and args.parameters.is_dir():
        raise InputError.single(
            "--parameters", "", f"{args.parameters} is a folder: name a parameter set file"
        )
    if args.parameters is not None:
        from ..inputs.loading import load_parameters

        load_parameters(args.parameters.resolve(), ("--parameters", ""))  # before any run
    clock = Clock.start()
    folder = results_folder(args.out, "validate", clock.started)
    check_target(folder.target)  # refuse a wrong --out before the runs, not after
    checks = validate_model(
        args.calibration,
        replications=args.replications,
        workers=args.workers,
        parameters=args.parameters,
        progress=progress_bar("holdouts"),
    )
    content = {
        "validation_of": [c.scenario for c in checks],
        "parameters": None if args.parameters is None else str(args.parameters),
        "replications": args.replications,
        "reproduced": {c.name: c.reproduced for c in checks},
    }
    manifest = folder_manifest(
        content, command=command_line(args), clock=clock, workers=args.workers
    )
    with folder as out:
        write_tables(out, {"holdouts.csv": holdout_table(checks)})
        write_text(out, "holdouts.md", holdout_markdown(checks))
        write_manifest(out, manifest)
    _print_verdicts(checks)
    if args.replications < 10:  # as a run warns: verdicts on such intervals may flip
        print(
            f"warning: {args.replications} replication{'s' * (args.replications != 1)} of each "
            "holdout scenario: the model's intervals are wide and unstable, and a verdict on "
            "them may not hold with more (10 by default)",
            file=sys.stderr,
        )
    print(f"results: {folder.target}")
    return 0


def holdout_table(checks: Sequence[HoldoutCheck]) -> pd.DataFrame:
    """Every check's figures in one table, with the check's name and verdict on each row."""
    import pandas as pd

    frames = []
    for check in checks:
        frame = check.table.copy()
        frame.insert(0, "check", check.name)
        frame["reproduced"] = check.reproduced
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def holdout_markdown(checks: Sequence[HoldoutCheck]) -> str:
    """The checks as Markdown (for docs/calibration.md)."""
    import pandas as pd

    out = []
    for check in checks:
        verdict = "reproduced" if check.reproduced else "**not reproduced**"
        out.append(f"### {check.name}: {verdict}\n")
        out.append(f"Source: {check.source}. Compared: {check.compared}.\n")
        out.append(f"Criterion: {check.criterion}.\n")
        out.append("| figure | reported | model mean | model 95 % interval |\n|---|---|---|---|")
        for row in check.table.itertuples():
            reported = "" if pd.isna(row.reported) else _figure(row.reported)
            interval = _interval(row.model_ci_low, row.model_ci_high, " – ")
            out.append(
                f"| {row.figure} | {reported} | {_figure(row.model_mean)} | {interval or '–'} |"
            )
        out.append("")
    return "\n".join(out)


def _print_verdicts(checks: Sequence[HoldoutCheck]) -> None:
    import pandas as pd

    for check in checks:
        verdict = "REPRODUCED" if check.reproduced else "NOT REPRODUCED"
        print(f"{verdict}: {check.name}")
        for row in check.table.itertuples():
            reported = "" if pd.isna(row.reported) else f"reported {_figure(row.reported)}, "
            interval = _interval(row.model_ci_low, row.model_ci_high, " to ")
            print(
                f"    {row.figure}: {reported}model {_figure(row.model_mean)}"
                + (f" ({interval})" if interval else "")
            )


def _figure(value: float) -> str:
    """Three significant figures, but whole numbers from 1 000 up (930, not 9.3e+02)."""
    return f"{value:.0f}" if abs(value) >= 1000 else f"{value:.3g}"


def _interval(low: float, high: float, between: str) -> str:
    """The model's 95 % interval, or nothing where there is none (a ratio of two means)."""
    if math.isnan(low) or math.isnan(high):
        return ""
    return f"{_figure(low)}{between}{_figure(high)}"
