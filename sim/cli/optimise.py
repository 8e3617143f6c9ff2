"""``caseflow optimise SPEC``: the best staffing under a budget, and how sure.

Searches the spec's space with Optuna (candidates under common random numbers), selects among
the best with KN++ (a probability of correct selection within an indifference zone), with
``--posterior N`` compares the finalists over N posterior draws, and writes one results folder:
``candidates.csv``, ``pareto.csv``, ``selection.csv``, ``differences.csv``, ``posterior.csv``
(with draws), ``chosen/<name>/scenario.toml`` per finalist, ``report.html`` and the manifest.
Optuna is imported only when the command runs (``caseflow --help`` stays fast).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .common import (
    add_out,
    add_workers,
    add_yes,
    command_line,
    confirm_cost,
    non_negative_int,
    positive_float,
    reading_inputs,
    results_folder,
)

if TYPE_CHECKING:
    from .common import Subparsers


def add_parser(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "optimise",
        help="search staffing alternatives under constraints; select the best with a "
        "stated probability",
    )
    parser.add_argument("spec", type=Path, help="optimisation spec (TOML; docs/optimisation.md)")
    add_out(parser, "optimise-NAME-TIMESTAMP")
    add_workers(parser)
    parser.add_argument(
        "--posterior",
        type=non_negative_int,
        metavar="N",
        help="compare the finalists over N draws of the fitted parameter set (overrides the "
        "spec's posterior_draws); each finalist's probability of being best",
    )
    parser.add_argument(
        "--budget",
        type=positive_float,
        metavar="SEK",
        help="override the spec's constraints.staff_budget_sek (budgeted annual staff cost)",
    )
    parser.add_argument(
        "--study",
        type=Path,
        help="Optuna journal file holding the study (default: results/optimise-NAME.journal); "
        "the same command again resumes it",
    )
    add_yes(parser)
    parser.set_defaults(handler=optimise_command)


def optimise_command(args: argparse.Namespace) -> int:
    from ..optimisation.candidates import refuse_unreachable_limits
    from ..optimisation.results import write_optimisation_folder
    from ..optimisation.search import optimise
    from ..optimisation.spec import load_spec
    from ..output.folders import Clock

    with reading_inputs():
        loaded = load_spec(args.spec)
    if args.budget is not None:
        loaded = loaded.with_budget(args.budget)
    refuse_unreachable_limits(
        loaded, "--budget" if args.budget is not None else "constraints.staff_budget_sek"
    )
    confirm_cost(_estimate(loaded, args), args.spec, args)
    clock = Clock.start()
    folder = results_folder(args.out, f"optimise-{loaded.spec.name}", clock.started)
    study = args.study or Path("results") / f"optimise-{loaded.spec.name}.journal"
    from ..output.folders import check_target

    check_target(folder.target)  # before the search, not after it
    _check_study(study, folder.target)
    # an interrupted search keeps its finished trials in the journal
    args.interrupted_note = (
        f"the trials done are kept in {study}: the same command resumes the search"
    )

    def note(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    result = optimise(
        loaded, workers=args.workers, study_file=study, posterior_draws=args.posterior, note=note
    )
    with folder as work:
        write_optimisation_folder(
            work, result, command=command_line(args), clock=clock, workers=args.workers, study=study
        )
    chosen = result.chosen
    for line in result.notes:
        print(f"warning: {line}", file=sys.stderr)
    if chosen is not None:
        values = ", ".join(f"{k} = {v}" for k, v in chosen.candidate.values.items())
        print(f"chosen: {chosen.candidate.resolved.name} ({values})")
        if result.selection is not None:
            sel = result.selection
            sure = (
                f"P(correct selection) >= {sel.probability} within {sel.indifference_zone:g}"
                if sel.guaranteed
                else "no guarantee: stopped at the replication cap"
            )
            print(f"selection: KN++ among {len(result.finalists)} finalists, {sure}")
    print(f"report: {folder.target / 'report.html'}")
    print(f"results: {folder.target}")
    return 0


def _estimate(loaded: Any, args: argparse.Namespace) -> Any:
    """What the optimisation will cost at most, as a run of the base: every trial simulated,
    every finalist to the first stage, the posterior draws (the selection may add more)."""
    from ..experiments.runner import estimate_cost

    spec = loaded.spec
    draws = spec.posterior_draws if args.posterior is None else args.posterior
    runs = (
        spec.trials * spec.replications
        + spec.selection.finalists * spec.selection.first_stage
        + draws * spec.selection.finalists * spec.replications
    )
    return estimate_cost([(loaded.base, runs)], workers=args.workers)


def _check_study(study: Path, target: Path) -> None:
    """Refuse, before any trial, a ``--study`` journal that cannot be one: a folder, under a
    file, the results folder itself or a folder above it (the journal file would stand where
    the results go), inside the results folder (replaced at the end of the run, the journal
    with it), or an existing file that is not an Optuna journal (one JSON record a line)."""
    import json

    from ..inputs.validation import InputError

    def refuse(message: str) -> None:
        raise InputError.single("--study", "", message)

    if study.is_dir():
        refuse(f"{study} is a folder: name a journal file (e.g. results/NAME.journal)")
    if any(p.exists() and not p.is_dir() for p in study.resolve().parents):
        refuse(f"{study}: a file stands where its folder should be")
    if study.resolve() == target.resolve():
        refuse(f"{study} is the results folder (--out) itself: name the journal elsewhere")
    if study.resolve() in target.resolve().parents:
        refuse(
            f"{study} is a folder above the results folder {target}, where the journal file "
            "would stand: name the journal elsewhere"
        )
    if target.resolve() in study.resolve().parents:
        refuse(
            f"{study} is inside the results folder {target}, which is replaced when the run "
            "ends: keep the journal outside it"
        )
    if study.is_file():
        *complete, last = study.read_bytes().split(b"\n")
        for number, line in enumerate(complete, start=1):
            try:
                record = json.loads(line)
            except ValueError:
                record = None
            if not isinstance(record, dict):
                refuse(
                    f"{study} is not an Optuna journal (line {number} is not one of its "
                    "records): name another file, or remove this one to start afresh"
                )
        if last.strip() and not complete:
            refuse(f"{study} is not an Optuna journal: name another file")
        if last.strip():
            # Optuna would skip the cut record but append its next one to it, spoiling both
            refuse(
                f"{study}: its last record was cut by an interrupted write: remove that last "
                f"line (after line {len(complete)}) and run again; the trials before it are kept"
            )
