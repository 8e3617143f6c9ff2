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
    results_target,
)

if TYPE_CHECKING:
    from ..optimisation.search import OptimisationResult
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
    from ..optimisation.search import optimise
    from ..optimisation.spec import load_spec
    from ..output.folders import Clock, atomic_folder

    with reading_inputs():
        loaded = load_spec(args.spec)
    if args.budget is not None:
        loaded = loaded.with_budget(args.budget)
    confirm_cost(_estimate(loaded, args), args.spec, args)
    clock = Clock.start()
    target = results_target(args.out, f"optimise-{loaded.spec.name}", clock.started)
    study = args.study or Path("results") / f"optimise-{loaded.spec.name}.journal"
    from ..output.folders import check_target

    check_target(target)  # before the search, not after it
    # an interrupted search keeps its finished trials in the journal
    args.interrupted_note = (
        f"the trials done are kept in {study}: the same command resumes the search"
    )

    def note(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    result = optimise(
        loaded, workers=args.workers, study_file=study, posterior_draws=args.posterior, note=note
    )
    with atomic_folder(target) as work:
        write(
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
    print(f"report: {target / 'report.html'}")
    print(f"results: {target}")
    return 0


def write(
    folder: Path,
    result: OptimisationResult,
    *,
    command: str,
    clock: Any,
    workers: int | None,
    study: Path,
) -> None:
    """The optimisation's results folder (through :mod:`sim.output.folders`)."""
    from ..optimisation.search import candidates_table, pareto_table, selection_table
    from ..output.folders import folder_manifest, write_optimisation
    from ..output.formatting import toml_value
    from ..output.optimisation_report import render_optimisation_report

    loaded = result.loaded
    spec = loaded.spec
    candidates = candidates_table(result)
    pareto = pareto_table(result)
    selection = selection_table(result)
    sel = result.selection
    content: dict[str, Any] = {
        "optimisation_of": str(loaded.path),
        "name": spec.name,
        "description": spec.description,
        "spec": spec.model_dump(mode="json"),
        "base_scenario_file": str(loaded.base_path),
        "base_scenario": loaded.base.as_dict(),
        "seed": loaded.base.scenario.seed,
        "replications_per_candidate": spec.replications,
        "bounded_kpis": [b.kpi for b in spec.constraints.kpis],
        "search": {
            "sampler": result.sampler,
            "study": result.study_name,
            "journal": str(study.resolve()),
            "trials": result.trials,
            "new_trials": result.new_trials,
            "distinct_candidates": len(result.evaluated),
            "replications_run_here": result.replications_run,
        },
        "selection": None
        if sel is None
        else {
            "procedure": "KN++ (Kim & Nelson 2001, 2006)",
            "objective": loaded.primary.kpi,
            "chosen": result.chosen.candidate.resolved.name if result.chosen else None,
            "probability_correct_selection": sel.probability,
            "indifference_zone": sel.indifference_zone,
            "guaranteed": sel.guaranteed,
            "replications": list(sel.replications),
        },
        "posterior_draws": 0 if result.posterior is None else int(result.posterior["draws"][0]),
        "notes": result.notes,
    }
    manifest = folder_manifest(content, command=command, clock=clock, workers=workers)
    variables = [v.key for v in spec.variables]
    report = render_optimisation_report(
        candidates=candidates,
        pareto=pareto,
        selection=selection,
        differences=result.differences,
        posterior=result.posterior,
        objectives=[(o.kpi, o.direction) for o in spec.objectives],
        variables=variables,
        budget=spec.constraints.staff_budget_sek,
        notes=result.notes,
        manifest=manifest,
    )
    chosen = []
    for rank, finalist in enumerate(_in_order(result), start=1):
        name = finalist.candidate.resolved.name
        changes = "".join(
            f"#   {key} = {toml_value(value)}\n" for key, value in finalist.candidate.values.items()
        )
        header = (
            f"# From `{command}`: finalist {rank}"
            f"{' (chosen)' if finalist is result.chosen else ''}. It is {loaded.base_path.name}"
            f" with\n{changes}"
        )
        chosen.append((f"{rank:02d}_{name}", finalist.candidate.resolved, header))
    write_optimisation(
        folder,
        {
            "candidates.csv": candidates,
            "pareto.csv": pareto,
            "selection.csv": selection,
            "differences.csv": result.differences,
            "posterior.csv": result.posterior,
        },
        chosen,
        report,
        manifest,
    )


def _in_order(result: OptimisationResult) -> list[Any]:
    """The finalists, the chosen one first."""
    chosen = result.chosen
    rest = [f for f in result.finalists if f is not chosen]
    return ([chosen] if chosen is not None else []) + rest


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
