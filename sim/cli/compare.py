"""``caseflow compare BASE ALT...``: a base and alternatives under common random numbers.

``--set`` and ``--events`` work as for ``caseflow run``, on every scenario compared. With a
sweep the base is its first point, and the command says so before it runs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .common import (
    ImportAhead,
    add_cluster,
    add_out,
    add_workers,
    add_yes,
    command_line,
    confirm_cost,
    non_negative_int,
    positive_float,
    positive_int,
    print_loading_notes,
    progress_bar,
    reading_inputs,
    report_stack_modules,
    require_module,
    results_folder,
)

if TYPE_CHECKING:
    import pandas as pd

    from ..experiments.runner import ComparisonResults
    from ..inputs.scenario import ResolvedScenario
    from .common import Subparsers

HEADLINE_KPIS = ("mean_monthly_households", "exits_work_per_year")
"""The paired differences printed for each alternative (comparison.csv has every KPI)."""


def add_parser(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "compare",
        help="run a base and alternatives with common random numbers; paired differences",
    )
    parser.add_argument(
        "scenarios",
        nargs="+",
        type=Path,
        help="base first, then alternatives; a file with [sweep] adds each point",
    )
    add_out(parser, "compare-BASE-TIMESTAMP")
    parser.add_argument("--replications", type=positive_int, help="override the base's")
    parser.add_argument("--seed", type=non_negative_int, help="override the base's seed")
    add_workers(parser)
    parser.add_argument("--years", type=positive_float, help="override every horizon")
    add_cluster(parser)
    parser.add_argument(
        "--events",
        action="store_true",
        help="also write every household's event log as events.parquet in each scenario's "
        "sub-folder (needs pyarrow)",
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY.PATH=VALUE",
        help="override any scenario key in every scenario compared (validated like the files); "
        "repeatable",
    )
    parser.add_argument(
        "--posterior",
        type=positive_int,
        metavar="N",
        help="run every scenario over the same N draws of the base's fitted parameter set x "
        "the replications; each difference's interval then carries the parameters' "
        "uncertainty, and comparison.csv says what share of its variance they make",
    )
    add_yes(parser)
    parser.set_defaults(handler=compare_command)


def compare_command(args: argparse.Namespace) -> int:
    """Run the scenarios paired, write one folder with a sub-folder per scenario."""
    from ..api import comparison_content
    from ..calibration.uncertainty import posterior_entry
    from ..experiments.runner import estimate_cost
    from ..inputs.validation import InputError
    from ..output.folders import (
        Clock,
        folder_manifest,
        run_manifest,
        write_comparison,
    )

    if args.events:
        if args.posterior:
            raise InputError.single(
                "--events", "", "event logs are written without --posterior (one per draw)"
            )
        require_module("pyarrow", "--events", "writing Parquet", "events")
    with reading_inputs():
        resolved = _load(args)
    print_loading_notes(resolved)
    base, alternatives = resolved[0], resolved[1:]
    _print_base(base, args.scenarios[0])
    said_before = _warn_of_other_settings(base, alternatives)
    per_scenario = base.scenario.replications * (args.posterior or 1)  # all run the base's
    runs = [(r, per_scenario) for r in resolved]
    confirm_cost(
        estimate_cost(runs, workers=args.workers, cluster=bool(args.cluster)),
        args.scenarios[0],
        args,
    )
    clock = Clock.start()
    folder = results_folder(args.out, f"compare-{base.name}", clock.started)
    command = command_line(args)
    report_stack = ImportAhead(report_stack_modules(args.drawing_host))
    with folder as work:
        comparison = _compared(base, alternatives, args, report_stack)
        report_stack.wait()
        own: dict[str, Any] = {"compared_with": base.name}
        if args.posterior:
            own["posterior"] = posterior_entry(base, args.posterior)
        scenario_manifests = [
            run_manifest(r.resolved, command=command, clock=clock, workers=args.workers, extra=own)
            for r in [comparison.base, *comparison.alternatives]
        ]
        content = comparison_content(resolved, str(args.scenarios[0]))
        if args.posterior:
            content["posterior"] = posterior_entry(base, args.posterior)
        manifest = folder_manifest(content, command=command, clock=clock, workers=args.workers)
        drawing = None if args.cluster else args.workers  # local processes for the figures
        write_comparison(
            work, comparison, scenario_manifests, manifest, workers=drawing, host=args.drawing_host
        )
    from ..output.comparison_report import comparison_warnings  # imported by the report now

    every = [comparison.base, *comparison.alternatives]
    warned = comparison_warnings(  # the report's, said on the terminal too
        manifest, [(r.resolved.name, r.monthly) for r in every], scenario_manifests
    )
    _print_differences(comparison.differences, [alt.name for alt in alternatives])
    for line in warned:
        if line not in said_before:
            print(f"warning: {line}", file=sys.stderr)
    print(f"report: {folder.target / 'report.html'}")
    print(f"results: {folder.target}")
    return 0


def _compared(
    base: ResolvedScenario,
    alternatives: list[ResolvedScenario],
    args: argparse.Namespace,
    report_stack: ImportAhead,
) -> ComparisonResults:
    """The paired comparison: over posterior draws with ``--posterior``, else over the
    replications of the one parameter set (``report_stack`` imported meanwhile where worker
    processes run them)."""
    progress = progress_bar("compare")
    if args.posterior:
        from ..calibration.uncertainty import compare_over_posterior

        return compare_over_posterior(
            base,
            alternatives,
            args.posterior,
            workers=args.workers,
            progress=progress,
            cluster=args.cluster,
        )
    from ..experiments.parallel import worker_count
    from ..experiments.runner import compare_scenarios

    if args.cluster or worker_count(args.workers) > 1:  # else the replications run here
        progress = report_stack.on_progress(progress)
    return compare_scenarios(
        base,
        alternatives,
        workers=args.workers,
        progress=progress,
        cluster=args.cluster,
        events=args.events,
    )


def _warn_of_other_settings(
    base: ResolvedScenario, alternatives: list[ResolvedScenario]
) -> list[str]:
    """Say on stderr, before anything runs, which alternatives are another unit or period;
    return those warnings (the report's warnings, said again at the end, leave them out)."""
    from ..experiments.runner import unused_pairing_settings
    from ..output.caveats import setting_warnings

    said = setting_warnings(
        base.name,
        base.as_dict(),
        base.parameters.model_dump(mode="json"),
        [(a.name, a.as_dict(), a.parameters.model_dump(mode="json")) for a in alternatives],
    )
    for warning in said:
        print(f"warning: {warning}", file=sys.stderr)
    for note in unused_pairing_settings(base, alternatives):
        print(f"note: {note}", file=sys.stderr)
    return said


def _print_base(base: ResolvedScenario, path: Path) -> None:
    """Which scenario is the base; for a sweep, which of its points."""
    from ..output.formatting import toml_value

    if base.sweep_point:
        values = ", ".join(f"{k} = {toml_value(v)}" for k, v in base.sweep_point.items())
        print(f"base: {base.name}, the first point of the sweep in {path} ({values})")
    else:
        print(f"base: {base.name} ({path})")


def _print_differences(differences: pd.DataFrame, alternatives: list[str]) -> None:
    """Each alternative's paired differences in the headline KPIs, one line each."""
    from ..output.formatting import console_estimate, kpi_unit

    diffs = differences.set_index(["alternative", "kpi"])
    for alt in alternatives:
        for kpi in HEADLINE_KPIS:
            r = diffs.loc[(alt, kpi)]
            unit = kpi_unit(kpi, r["unit"])
            figure = console_estimate(
                r["difference"], r["ci_low"], r["ci_high"], kpi, unit, base=r["base_mean"]
            )
            print(f"{alt}: {kpi} {figure}")


def _load(args: argparse.Namespace) -> list[ResolvedScenario]:
    """Every scenario in order (sweeps expanded), the base's seed and replications overridden;
    refused unless there are at least two, all named differently (each gets a sub-folder)."""
    from ..inputs.loading import load_scenarios
    from ..inputs.validation import InputError, Problem

    resolved: list[ResolvedScenario] = []
    problems = []  # every file's, as validate reports them: one bad file does not hide the next
    for i, path in enumerate(args.scenarios):
        overrides = {"years": args.years}
        if i == 0:
            overrides.update(seed=args.seed, replications=args.replications)
        try:
            resolved.extend(load_scenarios(path, args.overrides, **overrides))
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    if len(resolved) < 2:
        raise InputError.single(
            args.scenarios[0],
            "",
            "compare needs a base and at least one alternative (several files, or a [sweep])",
        )
    seen: set[str] = set()
    clashes = []
    for r in resolved:  # each scenario's results go in a sub-folder named after it
        if r.name in seen:
            twice = " (the same file given twice?)" if args.scenarios.count(r.source) > 1 else ""
            clashes.append(
                Problem(
                    str(r.source),
                    "name",
                    f"{r.name!r} is already the name of another scenario of this comparison; "
                    "each needs its own, as the results folder holds one sub-folder per name: "
                    f'give this one a name = "..." of its own{twice}',
                )
            )
        seen.add(r.name)
    if clashes:
        raise InputError(clashes)
    return resolved
