"""``caseflow run SCENARIO``: run a scenario (or each point of its sweep) into a results folder.

A sweep's folder holds a numbered sub-folder per point (``01_…``, ``02_…``: they list in the
sweep's order) and, at the top, ``summary.csv`` and ``report.html`` across the points.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
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
    replications,
    report_stack_modules,
    require_module,
    results_folder,
)

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

    import pandas as pd

    from ..experiments.runner import CostEstimate, ScenarioResults
    from ..experiments.stopping import ReplicationRule
    from ..inputs.scenario import ResolvedScenario
    from ..output.folders import Clock
    from ..output.sweep_report import SweepPoint
    from .common import Subparsers

HEADLINE_KPIS = ("mean_monthly_households", "exits_work_per_year", "first_visit_wait_days")
"""Printed after a single run, and for each point of a sweep as soon as it has run."""
AUTO_PRECISION = 0.05
"""``--precision`` unless given (with ``--replications auto``)."""
AUTO_MAX_REPLICATIONS = 200
"""``--max-replications`` unless given."""


def add_parser(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser("run", help="run a scenario and write a results folder")
    parser.add_argument("scenario", type=Path, help="scenario file (TOML)")
    add_out(parser, "NAME-TIMESTAMP")
    parser.add_argument(
        "--replications",
        type=replications,
        help="override the file's replications; 'auto' adds replications until the chosen KPIs' "
        "95 %% intervals are within --precision (Hoad, Robinson & Davies 2010)",
    )
    parser.add_argument(
        "--precision",
        type=positive_float,
        help="with --replications auto: target relative half-width (default 0.05)",
    )
    parser.add_argument(
        "--auto-kpis",
        # No default here: the rule's own (sim.experiments.stopping) is filled in when the
        # command runs, so that building the parser does not import the statistics stack.
        help="with --replications auto: comma-separated KPIs the rule watches "
        "(default mean_monthly_households,exits_work_per_year,cases_closed_per_year: "
        "DEFAULT_KPIS of sim/experiments/stopping.py)",
    )
    parser.add_argument(
        "--max-replications",
        type=positive_int,
        help="with --replications auto: the most it will run (default 200)",
    )
    parser.add_argument("--seed", type=non_negative_int, help="override the file's seed")
    parser.add_argument(
        "--posterior",
        type=positive_int,
        metavar="N",
        help="run over N draws of the fitted parameters' posterior × the replications; the "
        "report splits each figure's spread into parameter uncertainty and noise",
    )
    add_workers(parser)
    parser.add_argument("--years", type=positive_float, help="override the horizon in years")
    add_cluster(
        parser,
        "run the replications on this Dask scheduler instead of local processes "
        "(needs caseflow[dask] on the client and every worker)",
    )
    parser.add_argument(
        "--events",
        action="store_true",
        help="also write every household's event log as events.parquet (needs pyarrow)",
    )
    add_yes(parser)
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY.PATH=VALUE",
        help="override any scenario key (validated like the file); repeatable",
    )
    parser.set_defaults(handler=run_command)


def run_command(args: argparse.Namespace) -> int:
    """Run the scenario file's scenarios, one results folder (a sweep: one per point, in
    order, and a summary and report across the points)."""
    from ..inputs.loading import load_scenarios
    from ..output.caveats import auto_replications_note, run_warnings
    from ..output.folders import Clock, run_manifest, write_results

    rule = _checked_rule(args)
    if args.events and (args.posterior or rule is not None):
        from ..inputs.validation import InputError

        raise InputError.single(
            "--events",
            "",
            "event logs are written for a fixed number of replications, without --posterior "
            "or --replications auto",
        )
    with reading_inputs():
        resolved_list = load_scenarios(
            args.scenario,
            args.overrides,
            years=args.years,
            seed=args.seed,
            replications=None if rule else args.replications,
        )
    print_loading_notes(resolved_list)
    confirm_cost(_estimate(resolved_list, args, rule), args.scenario, args)
    clock = Clock.start()
    sweep = len(resolved_list) > 1
    name = args.scenario.stem if sweep else resolved_list[0].name
    folder = results_folder(args.out, name, clock.started)
    command = command_line(args)
    report_stack = ImportAhead(report_stack_modules(args.drawing_host))
    warned: dict[str, list[str]] = {}  # the reports' warnings, said on the terminal too
    auto_notes: list[str] = []  # how many replications an automatic choice ran
    with folder as work, _shared_pool(args, sweep, rule) as pool:
        points: list[SweepPoint] = []
        for i, resolved in enumerate(resolved_list):
            results, extra = _run_one(resolved, args, rule, pool, report_stack)
            report_stack.wait()
            manifest = run_manifest(
                results.resolved, command=command, clock=clock, workers=args.workers, extra=extra
            )
            point = _point(i, results, manifest, len(resolved_list)) if sweep else None
            write_results(
                work / point.folder if point else work,
                results,
                manifest,
                workers=None if args.cluster else args.workers,
                host=args.drawing_host,
            )
            for warning in run_warnings(manifest["scenario"], manifest, results.monthly):
                warned.setdefault(warning, []).append(point.name if point else "")
            note = auto_replications_note(manifest.get("replications_auto"))
            if note:
                auto_notes.append(f"note: {resolved.name}: {note}" if sweep else f"note: {note}")
            if point:
                points.append(point)
                _print_point(i, len(resolved_list), point)
        if sweep:
            _write_sweep(work, points, args, command=command, clock=clock)
    if not sweep:  # the headline figures of the one scenario just run
        if args.posterior:
            print(
                f"over {args.posterior} posterior draws × {resolved_list[0].scenario.replications}"
                " replications (intervals over the draws' means: parameters and noise)"
            )
        _print_headline(results.summary, indent="")
    for note in auto_notes:
        print(note)
    for warning, where in warned.items():  # a sweep's: once, with the points it concerns
        said = f"{', '.join(where)}: {warning}" if sweep else warning
        print(f"warning: {said}", file=sys.stderr)
    print(f"report: {folder.target / 'report.html'}")
    print(f"results: {folder.target}")
    return 0


def _point(i: int, results: ScenarioResults, manifest: dict[str, Any], count: int) -> SweepPoint:
    """Point ``i`` of a sweep, with its sub-folder (numbered, so that folders sort in order)."""
    from ..output.sweep_report import SweepPoint, point_folder

    resolved = results.resolved
    return SweepPoint(
        folder=point_folder(i, count, resolved.name),
        name=resolved.name,
        values=dict(resolved.sweep_point),
        summary=results.summary,
        monthly=results.monthly,
        manifest=manifest,
    )


def _write_sweep(
    work: Path, points: list[SweepPoint], args: argparse.Namespace, *, command: str, clock: Clock
) -> None:
    """The sweep's top level: summary.csv across the points, report.html, the manifest."""
    from ..output.folders import folder_manifest, write_manifest, write_tables, write_text
    from ..output.sweep_report import render_sweep_report, sweep_summary

    entries = [{"name": p.folder, "scenario_name": p.name, "sweep_point": p.values} for p in points]
    content = {"sweep_of": str(args.scenario), "points": entries}
    manifest = folder_manifest(content, command=command, clock=clock, workers=args.workers)
    write_tables(work, {"summary.csv": sweep_summary(points)})
    page = render_sweep_report(work, points, manifest, host=args.drawing_host)
    write_text(work, "report.html", page)
    write_manifest(work, manifest)


def _print_headline(summary: pd.DataFrame, *, indent: str) -> None:
    """The headline KPIs of one run (or point), one line each."""
    from ..output.formatting import console_estimate, kpi_unit

    by_kpi = summary.set_index("kpi")
    for kpi in HEADLINE_KPIS:
        r = by_kpi.loc[kpi]
        figure = console_estimate(
            r["mean"], r["ci_low"], r["ci_high"], kpi, kpi_unit(kpi, r["unit"])
        )
        print(f"{indent}{kpi}: {figure}")


def _print_point(i: int, count: int, point: SweepPoint) -> None:
    """A sweep point's headline, as soon as it has run."""
    from ..output.formatting import toml_value

    values = ", ".join(f"{k} = {toml_value(v)}" for k, v in point.values.items())
    print(f"point {i + 1} of {count} ({values}): {point.folder}")
    _print_headline(point.summary, indent="  ")


def _estimate(
    resolved_list: list[ResolvedScenario], args: argparse.Namespace, rule: ReplicationRule | None
) -> CostEstimate:
    """The run's cost: each scenario's replications (per posterior draw with ``--posterior``;
    with ``--replications auto`` the most the rule may run)."""
    from ..experiments.runner import estimate_cost

    def count(resolved: ResolvedScenario) -> int:
        if rule is not None:
            return rule.cap
        return resolved.scenario.replications * (args.posterior or 1)

    runs = [(resolved, count(resolved)) for resolved in resolved_list]
    return estimate_cost(runs, workers=args.workers, cluster=bool(args.cluster))


def _checked_rule(args: argparse.Namespace) -> ReplicationRule | None:
    """The replication rule of ``--replications auto`` (None without it), refusing the
    combinations it does not support before anything runs."""
    from ..inputs.validation import InputError

    if args.events:
        require_module("pyarrow", "--events", "writing Parquet", "events")
    rule = _auto_rule(args)
    if rule is not None and args.posterior:
        raise InputError.single(
            "--posterior", "", "give a number of --replications (per draw), not auto"
        )
    if rule is not None and args.cluster:
        raise InputError.single(
            "--cluster", "", "--replications auto runs on local processes only (for now)"
        )
    return rule


def _auto_rule(args: argparse.Namespace) -> ReplicationRule | None:
    from ..experiments.stopping import DEFAULT_KPIS, ReplicationRule
    from ..inputs.validation import InputError, suggest
    from ..metrics import kpi_names

    if args.replications != "auto":
        given = [
            option
            for option, value in (
                ("--precision", args.precision),
                ("--auto-kpis", args.auto_kpis),
                ("--max-replications", args.max_replications),
            )
            if value is not None
        ]
        if given:
            print(
                f"note: {' and '.join(given)} "
                f"{'applies' if len(given) == 1 else 'apply'} only with --replications auto: "
                "ignored",
                file=sys.stderr,
            )
        return None
    listed = ",".join(DEFAULT_KPIS) if args.auto_kpis is None else args.auto_kpis
    kpis = tuple(k.strip() for k in listed.split(",") if k.strip())
    known = kpi_names()
    for kpi in kpis:
        if kpi not in known:
            raise InputError.single(
                "--auto-kpis",
                kpi,
                f"unknown KPI{suggest(kpi, known)} (allowed: the kpi column of summary.csv: "
                f"{', '.join(known)})",
            )
    if not kpis:
        raise InputError.single("--auto-kpis", "", "name at least one KPI")
    precision = AUTO_PRECISION if args.precision is None else args.precision
    most = AUTO_MAX_REPLICATIONS if args.max_replications is None else args.max_replications
    rule = ReplicationRule(kpis=kpis, precision=precision, cap=most)
    if most < rule.least_cap:  # it could never confirm a precision
        raise InputError.single(
            "--max-replications",
            "",
            f"must be at least {rule.least_cap}: the rule runs {rule.initial} replications and "
            f"confirms a precision over {rule.look_ahead} more (got {most})",
        )
    return rule


def _shared_pool(
    args: argparse.Namespace, sweep: bool, rule: ReplicationRule | None
) -> AbstractContextManager[ProcessPoolExecutor | None]:
    """The worker processes a sweep's points share (started once, not once a point); None
    (each run makes its own, or runs here) for a single scenario, on a cluster, and with
    ``--posterior`` or ``--replications auto``, which manage their own."""
    if not sweep or args.cluster or args.posterior or rule is not None:
        return nullcontext()
    from ..experiments.parallel import local_pool

    return local_pool(args.workers)


def _run_one(
    resolved: ResolvedScenario,
    args: argparse.Namespace,
    rule: ReplicationRule | None,
    pool: ProcessPoolExecutor | None = None,
    report_stack: ImportAhead | None = None,
) -> tuple[ScenarioResults, dict[str, Any]]:
    """One scenario's results (with their extra tables, e.g. a posterior run's
    uncertainty.csv) and its manifest entries: over posterior draws (``--posterior``), until
    precise (``--replications auto``) or a fixed number (on ``pool`` if given). With a fixed
    number run by worker processes, ``report_stack`` is imported while they work."""
    from ..experiments.parallel import worker_count
    from ..experiments.runner import run_scenario
    from ..experiments.stopping import run_until_precise

    progress = progress_bar(resolved.name)
    if args.posterior:
        from ..calibration.uncertainty import posterior_entry, run_posterior

        run = run_posterior(
            resolved, args.posterior, workers=args.workers, progress=progress, cluster=args.cluster
        )
        entry = posterior_entry(resolved, args.posterior)
        return run.results, {"posterior": entry}
    if rule is not None:
        results, outcome = run_until_precise(
            resolved, rule, workers=args.workers, progress=progress
        )
        return results, {"replications_auto": outcome.as_dict(rule)}
    # only where other processes run the replications (the pool's workers forked first, or a
    # cluster): in this process the import would compete with the simulation itself
    elsewhere = (
        pool is not None
        or args.cluster
        or (worker_count(args.workers) > 1 and resolved.scenario.replications > 1)
    )
    if report_stack is not None and elsewhere:
        progress = report_stack.on_progress(progress)
    if report_stack is not None and not elsewhere and _core_to_spare(resolved, args):
        return _one_replication_apart(resolved, args, progress, report_stack), {}
    results = run_scenario(
        resolved,
        workers=args.workers,
        progress=progress,
        events=args.events,
        cluster=args.cluster,
        pool=pool,
    )
    return results, {}


def _core_to_spare(resolved: ResolvedScenario, args: argparse.Namespace) -> bool:
    """One replication, to run here (no pool, no cluster), with more than one worker allowed:
    a core would idle. Not with ``--events``: the event log (tens of MB at city scale) would
    be sent back whole."""
    from ..experiments.parallel import worker_count

    single = resolved.scenario.replications == 1 and not args.events
    return single and worker_count(args.workers) > 1


def _one_replication_apart(
    resolved: ResolvedScenario,
    args: argparse.Namespace,
    progress: Callable[[int, int], None] | None,
    report_stack: ImportAhead,
) -> ScenarioResults:
    """A single replication (a city run, say) in a worker process of its own, while this
    process imports the report's plotting stack on the core that would otherwise idle: the
    same numbers (a replication's do not depend on where it runs), the import's 0.3 s off the
    command's time. The worker is forked before the import starts (a fork while another
    thread imports could inherit a held lock)."""
    import os

    from ..experiments.parallel import new_pool, stop_pool
    from ..experiments.runner import run_scenario

    pool = new_pool(1)
    try:
        pool.submit(os.getpid).result()  # the worker exists: forked now, not later
        report_stack.start()
        results = run_scenario(resolved, progress=progress, events=args.events, pool=pool)
    except BaseException:
        stop_pool(pool)
        raise
    pool.shutdown()
    return results
