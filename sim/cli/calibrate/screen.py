"""``caseflow calibrate screen SPEC [--sobol]``: which parameters move which targets."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..common import (
    add_out,
    add_point_replications,
    add_spec,
    add_workers,
    at_least_two,
    command_line,
    positive_int,
    progress_bar,
    require_module,
    results_folder,
)

if TYPE_CHECKING:
    import pandas as pd

    from ...calibration.screening import Screening
    from ..common import Subparsers

SHOWN = 8
"""Largest Morris effects printed (screening.csv has them all)."""


def add_parser(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "screen",
        help="Morris screening of a calibration spec's parameters against its targets",
    )
    add_spec(parser)
    parser.add_argument(
        "--trajectories",
        type=at_least_two,
        default=10,
        help="Morris trajectories (default 10; at least 2: one has no spread, sigma or interval)",
    )
    parser.add_argument(
        "--sobol",
        action="store_true",
        help="then Sobol indices of the parameters that Morris found to matter "
        "(those moving a target by at least 1 sd)",
    )
    parser.add_argument(
        "--sobol-samples",
        type=power_of_two,
        default=64,
        help="Sobol base samples (a power of 2, at least 2; default 64)",
    )
    add_point_replications(parser)
    add_workers(parser)
    add_out(parser, "screen-SPEC-TIMESTAMP")
    parser.set_defaults(handler=screen_command)


def power_of_two(text: str) -> int:
    """Sobol's base samples: Saltelli's estimates need a power of 2 (SALib only warns, and
    with 3 samples gave total-order indices above 1)."""
    value = positive_int(text)
    if value < 2 or value & (value - 1):
        raise argparse.ArgumentTypeError(f"must be a power of 2 (2, 4, 8, ... 64), got {value}")
    return value


def screen_command(args: argparse.Namespace) -> int:
    """Morris (and with ``--sobol`` Sobol) into one folder; the largest effects printed."""
    from ...calibration.screening import plot_screening, screen
    from ...calibration.spec import load_problem
    from ...output.folders import (
        Clock,
        folder_manifest,
        write_figure,
        write_manifest,
        write_tables,
    )
    from .fit import inputs_record

    require_module("SALib", "calibrate screen", "screening", "calibration")
    spec_path: Path = args.spec
    clock = Clock.start()
    load_problem(spec_path)  # a bad spec is refused before a results folder is made or named
    folder = results_folder(args.out, f"screen-{spec_path.stem}", clock.started)
    with folder as work:
        result = screen(
            spec_path,
            trajectories=args.trajectories,
            replications=args.replications,
            workers=args.workers,
            progress=progress_bar("screening"),
        )
        write_tables(work, {"screening.csv": result.table, "samples.csv": result.samples})
        write_figure(work, "screening.png", plot_screening(result))
        sobol, sobol_info = _sobol(work, result, args) if args.sobol else (None, None)
        content = {
            "screening_of": str(spec_path),
            "spec": result.spec.model_dump(mode="json"),
            **inputs_record(result.problem),
            "method": "Morris elementary effects (SALib), with a dummy parameter",
            "trajectories": args.trajectories,
            "replications_per_point": args.replications,
            "model_runs": len(result.samples),
            "sobol": sobol_info,
        }
        write_manifest(
            work,
            folder_manifest(content, command=command_line(args), clock=clock, workers=args.workers),
        )
    _print_effects(result, sobol)
    print(f"results: {folder.target}")
    return 0


def _sobol(
    work: Path, result: Screening, args: argparse.Namespace
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Sobol indices of the parameters Morris found to matter, written into ``work``; the
    table and what the manifest records of it."""
    from ...calibration.screening import important_parameters, plot_sobol, sobol_indices
    from ...output.folders import write_figure, write_tables

    chosen = important_parameters(result)
    sobol = sobol_indices(
        args.spec,
        chosen,
        base_samples=args.sobol_samples,
        replications=args.replications,
        workers=args.workers,
        progress=progress_bar("sobol"),
    )
    write_tables(work, {"sobol.csv": sobol})
    write_figure(work, "sobol.png", plot_sobol(sobol))
    info = {
        "parameters": chosen,
        "base_samples": args.sobol_samples,
        "model_runs": args.sobol_samples * (len(chosen) + 3),
    }
    return sobol, info


def _print_effects(result: Screening, sobol: pd.DataFrame | None) -> None:
    table = result.table
    top = table[table["parameter"] != "dummy"]
    top = top.sort_values("mu_star_per_sd", ascending=False).head(SHOWN)
    for _, r in top.iterrows():
        print(f"{r['parameter']} -> {r['target']}: {r['mu_star_per_sd']:.1f} target sd")
    dummy = table[table["parameter"] == "dummy"]["mu_star"].abs().max()
    print(f"dummy parameter (noise floor): largest mu* {dummy:.3g}")
    if sobol is not None:
        total = sobol.groupby("parameter")["ST"].max().sort_values(ascending=False)
        for parameter, value in total.items():
            print(f"Sobol: {parameter}: largest total-order index {value:.2f}")
        if (sobol["ST"] > 1).any():
            # an index is a share of variance: above 1 is the estimate's own error
            print(
                "note: a total-order index above 1 is estimation error, not an effect: the "
                "estimates are rough with few base samples (their 95 % half-widths are "
                "sobol.csv's ST_conf); give more --sobol-samples (64 or more)",
                file=sys.stderr,
            )
